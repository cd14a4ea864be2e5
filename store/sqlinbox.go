package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// nextQuery selects the item Next leases (lock is sqlStore.nextLock).
func nextQuery(lock string) string {
	return `SELECT msg_id FROM inbox WHERE state = 'received' AND lease_until < $3
			ORDER BY received_at, msg_id LIMIT 1` + lock
}

// unrepliedQuery selects Unreplied's items (from is sqlStore.unrepliedFrom).
func unrepliedQuery(from string) string {
	return `SELECT ` + itemCols + ` FROM ` + from + `
		WHERE state IN ` + finishedStates + ` AND reply_state = ''
		ORDER BY received_at, msg_id LIMIT $1`
}

const itemCols = `msg_id, message, state, reply, reply_title, reply_state, owner, lease_until, received_at, updated_at`

const finishedStates = `('done', 'failed', 'unknown')`

func scanItem(scan func(dest ...any) error) (*Item, error) {
	var (
		it                            Item
		msg, state, replyState        string
		leaseUntil, received, updated int64
	)
	if err := scan(&it.MsgID, &msg, &state, &it.Reply, &it.ReplyTitle, &replyState, &it.Owner, &leaseUntil, &received, &updated); err != nil {
		return nil, err
	}
	it.Message = []byte(msg)
	it.State = State(state)
	it.ReplyState = ReplyState(replyState)
	it.LeaseUntil = fromMS(leaseUntil)
	it.ReceivedAt = fromMS(received)
	it.UpdatedAt = fromMS(updated)
	return &it, nil
}

// items runs q and collects the rows as items.
func (s *sqlStore) items(ctx context.Context, write bool, q string, args ...any) ([]*Item, error) {
	var out []*Item
	err := s.db.query(ctx, write, q, args, func(scan func(dest ...any) error) error {
		it, err := scanItem(scan)
		if err != nil {
			return err
		}
		out = append(out, it)
		return nil
	})
	return out, err
}

// insertItem is the statement that stores a new received item, leased to
// owner until until (0 and "" for none), unless its msgID is in the inbox
// already: Claim's insert, and that of Finish's follow-ups.
func insertItem(msgID string, message []byte, owner string, until, now int64) statement {
	return statement{`INSERT INTO inbox (msg_id, message, state, owner, lease_until, received_at, updated_at)
		VALUES ($1, $2, 'received', $3, $4, $5, $5) ON CONFLICT (msg_id) DO NOTHING`,
		[]any{msgID, string(message), owner, until, now}}
}

// followUpInserts are the statements Finish runs after the outcome's
// update and its audit records to store o's follow-ups, as Claim with no
// owner at o.Now would, in o.FollowUps' order.
func followUpInserts(o Outcome) ([]statement, error) {
	var out []statement
	for i, f := range o.FollowUps {
		if f.MsgID == "" {
			return nil, fmt.Errorf("follow-up %d: empty msgID", i)
		}
		out = append(out, insertItem(f.MsgID, f.Message, "", 0, ms(o.Now)))
	}
	return out, nil
}

// Claim implements Store.
func (s *sqlStore) Claim(ctx context.Context, msgID string, message []byte, owner string, now time.Time, lease time.Duration) (bool, *Item, error) {
	if msgID == "" {
		return false, nil, errors.New("store: claim: empty msgID")
	}
	t := ms(now)
	var until int64
	if owner != "" {
		until = now.Add(lease).UnixMilli()
	}
	// A missing row after a conflict means it was pruned in between: try again.
	for range 3 {
		st := insertItem(msgID, message, owner, until, t)
		n, err := s.db.exec(ctx, st.q, st.args...)
		if err != nil {
			return false, nil, opErr("claim", err)
		}
		if n == 1 {
			return true, &Item{MsgID: msgID, Message: append([]byte(nil), message...), State: Received,
				Owner: owner, LeaseUntil: fromMS(until), ReceivedAt: fromMS(t), UpdatedAt: fromMS(t)}, nil
		}
		it, err := s.get(ctx, true, msgID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return false, nil, opErr("claim", err)
		}
		return false, it, nil
	}
	return false, nil, errors.New("store: claim: item vanished repeatedly after a conflicting insert")
}

// Next implements Store.
func (s *sqlStore) Next(ctx context.Context, owner string, now time.Time, lease time.Duration) (*Item, error) {
	if err := checkOwner(owner); err != nil {
		return nil, opErr("next", err)
	}
	t := ms(now)
	items, err := s.items(ctx, true, `UPDATE inbox SET owner = $1, lease_until = $2, updated_at = $3
		WHERE msg_id = (`+nextQuery(s.nextLock)+`)
		AND state = 'received' AND lease_until < $3
		RETURNING `+itemCols,
		owner, now.Add(lease).UnixMilli(), t)
	if err != nil || len(items) == 0 {
		return nil, opErr("next", err)
	}
	return items[0], nil
}

// lost tells why an owner-checked update matched no row: ErrNotFound when
// the item does not exist, otherwise ErrLeaseLost.
func (s *sqlStore) lost(ctx context.Context, op, msgID string) error {
	if _, err := s.get(ctx, true, msgID); err != nil {
		return opErr(op, err)
	}
	return ErrLeaseLost
}

// MarkCalling implements Store. The lease must still be live at now: a
// worker whose lease ran out must not start the non-idempotent call, since
// ExpireCalling could turn the item unknown under it at once.
func (s *sqlStore) MarkCalling(ctx context.Context, msgID, owner string, now time.Time) error {
	if err := checkOwner(owner); err != nil {
		return opErr("mark calling", err)
	}
	t := ms(now)
	n, err := s.db.exec(ctx, `UPDATE inbox SET state = 'calling', updated_at = $3
		WHERE msg_id = $1 AND owner = $2 AND state = 'received' AND lease_until >= $3`,
		msgID, owner, t)
	if err != nil {
		return opErr("mark calling", err)
	}
	if n == 0 {
		return s.lost(ctx, "mark calling", msgID)
	}
	return nil
}

// Finish implements Store: the outcome's update and then, only if it
// matched the item (the lease is held), the inserts of its audit records
// and its follow-ups, in one transaction (execIf: in SQLite one writer
// operation, so a failing insert rolls back the update too and, in a group
// commit, is rerun alone without failing the batch's other writes).
func (s *sqlStore) Finish(ctx context.Context, o Outcome) error {
	if err := checkOwner(o.Owner); err != nil {
		return opErr("finish", err)
	}
	if !o.State.Finished() {
		return fmt.Errorf("store: finish: %q is not a final state", o.State)
	}
	then, err := outcomeRecords(o)
	if err != nil {
		return opErr("finish", err)
	}
	followUps, err := followUpInserts(o)
	if err != nil {
		return opErr("finish", err)
	}
	then = append(then, followUps...)
	n, err := s.db.execIf(ctx, statement{`UPDATE inbox SET state = $3, reply = $4, reply_title = $5, reply_state = 'sending',
			replier = $2, owner = '', lease_until = 0, updated_at = $6
		WHERE msg_id = $1 AND owner = $2 AND state IN ('received', 'calling')`,
		[]any{o.MsgID, o.Owner, string(o.State), o.Reply, o.ReplyTitle, ms(o.Now)}}, then)
	if err != nil {
		return opErr("finish", err)
	}
	if n == 0 {
		return s.lost(ctx, "finish", o.MsgID)
	}
	return nil
}

// Release implements Store. It leaves updated_at alone (it has no clock).
func (s *sqlStore) Release(ctx context.Context, msgID, owner string) error {
	if err := checkOwner(owner); err != nil {
		return opErr("release", err)
	}
	n, err := s.db.exec(ctx, `UPDATE inbox SET owner = '', lease_until = 0
		WHERE msg_id = $1 AND owner = $2 AND state = 'received'`, msgID, owner)
	if err != nil {
		return opErr("release", err)
	}
	if n == 0 {
		return s.lost(ctx, "release", msgID)
	}
	return nil
}

// Renew implements Store.
func (s *sqlStore) Renew(ctx context.Context, owner string, now time.Time, lease time.Duration) (int, error) {
	if err := checkOwner(owner); err != nil {
		return 0, opErr("renew", err)
	}
	n, err := s.db.exec(ctx, `UPDATE inbox SET lease_until = $2, updated_at = $3
		WHERE owner = $1 AND state IN ('received', 'calling')`,
		owner, now.Add(lease).UnixMilli(), ms(now))
	return int(n), opErr("renew", err)
}

// ExpireCalling implements Store. One UPDATE … RETURNING, so of two
// processes expiring at once each item is returned by exactly one.
func (s *sqlStore) ExpireCalling(ctx context.Context, now time.Time) ([]*Item, error) {
	items, err := s.items(ctx, true, `UPDATE inbox SET state = 'unknown', owner = '', lease_until = 0, updated_at = $1
		WHERE state = 'calling' AND lease_until < $1
		RETURNING `+itemCols, ms(now))
	return items, opErr("expire calling", err)
}

// SetReplyState implements Store.
func (s *sqlStore) SetReplyState(ctx context.Context, msgID string, state ReplyState, now time.Time) (bool, error) {
	var (
		n   int64
		err error
	)
	switch state {
	case ReplySending:
		n, err = s.db.exec(ctx, `UPDATE inbox SET reply_state = 'sending', updated_at = $2
			WHERE msg_id = $1 AND state IN `+finishedStates+` AND reply_state IN ('', 'failed')`,
			msgID, ms(now))
	case ReplySent, ReplyFailed:
		n, err = s.db.exec(ctx, `UPDATE inbox SET reply_state = $2, replier = '', updated_at = $3 WHERE msg_id = $1`,
			msgID, string(state), ms(now))
	default:
		return false, fmt.Errorf("store: set reply state: cannot set %q", state)
	}
	if err != nil {
		return false, opErr("set reply state", err)
	}
	if n == 0 {
		if _, err := s.get(ctx, true, msgID); err != nil {
			return false, opErr("set reply state", err)
		}
		return false, nil
	}
	return true, nil
}

// Unreplied implements Store: finished items with ReplyNone, oldest received
// first. A limit <= 0 returns nothing.
func (s *sqlStore) Unreplied(ctx context.Context, limit int) ([]*Item, error) {
	if limit <= 0 {
		return nil, nil
	}
	items, err := s.items(ctx, false, unrepliedQuery(s.unrepliedFrom), limit)
	return items, opErr("unreplied", err)
}

func (s *sqlStore) get(ctx context.Context, write bool, msgID string) (*Item, error) {
	items, err := s.items(ctx, write, `SELECT `+itemCols+` FROM inbox WHERE msg_id = $1`, msgID)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, ErrNotFound
	}
	return items[0], nil
}

// Get implements Store; it returns ErrNotFound for an unknown msgID.
func (s *sqlStore) Get(ctx context.Context, msgID string) (*Item, error) {
	it, err := s.get(ctx, false, msgID)
	return it, opErr("get", err)
}

// Counts implements Store.
func (s *sqlStore) Counts(ctx context.Context) (map[State]int, error) {
	out := map[State]int{}
	err := s.db.query(ctx, false, `SELECT state, COUNT(*) FROM inbox GROUP BY state`, nil,
		func(scan func(dest ...any) error) error {
			var (
				st string
				n  int64
			)
			if err := scan(&st, &n); err != nil {
				return err
			}
			out[State(st)] = int(n)
			return nil
		})
	if err != nil {
		return nil, opErr("counts", err)
	}
	return out, nil
}

// Prune implements Store: the inbox's delete, then that of the owners
// whose heartbeat ran out before the cutoff and who hold nothing
// (pruneOwners), then that of the rate slots and token buckets whose next
// free time was more than a day before the cutoff (pruneRates), each
// atomic on its own.
func (s *sqlStore) Prune(ctx context.Context, before time.Time) (int, error) {
	n, err := s.db.exec(ctx, `DELETE FROM inbox WHERE state IN `+finishedStates+` AND updated_at < $1`, ms(before))
	if err != nil {
		return 0, opErr("prune", err)
	}
	if _, err := s.db.exec(ctx, pruneOwners, ms(before)); err != nil {
		return int(n), opErr("prune", err)
	}
	if err := s.pruneRates(ctx, before); err != nil {
		return int(n), opErr("prune", err)
	}
	return int(n), nil
}
