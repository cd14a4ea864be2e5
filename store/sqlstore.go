package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// db is what the shared implementation needs from an engine. Statements use
// PostgreSQL's $N placeholders; SQLite (modernc.org/sqlite) binds $N by
// ordinal too, so both engines run the same SQL text.
type db interface {
	// exec runs a statement and returns how many rows it affected.
	exec(ctx context.Context, q string, args ...any) (int64, error)
	// execIf runs first and, only if it affected a row, then in the same
	// transaction; it returns how many rows first affected. Nothing is
	// written unless every statement succeeds.
	execIf(ctx context.Context, first statement, then []statement) (int64, error)
	// execKeyed runs st, which reads rows and writes depending on them,
	// serialized with every other execKeyed of the same key, also in other
	// processes: PostgreSQL first takes a transaction-scoped advisory lock on
	// the key in the same transaction, so that st's snapshot (taken after
	// the lock, under READ COMMITTED) sees what the previous holder
	// committed; SQLite's write statements already hold the database's write
	// lock from their first read. It returns how many rows st affected.
	execKeyed(ctx context.Context, key string, st statement) (int64, error)
	// query runs a statement returning rows and calls each once per row with
	// that row's scan function. write is true for writes with RETURNING (SQLite
	// sends those to its writer connection, PostgreSQL ignores it).
	query(ctx context.Context, write bool, q string, args []any, each func(scan func(dest ...any) error) error) error
	// close releases the database.
	close() error
}

// statement is one SQL statement and its arguments.
type statement struct {
	q    string
	args []any
}

// sqlStore implements Store on top of a db. All state transitions are single
// conditional statements (UPDATE … WHERE <expected state> [RETURNING …]), so
// they are atomic in both engines without explicit transactions: in SQLite
// every write statement holds the database's single write lock; in
// PostgreSQL row locks plus READ COMMITTED re-evaluation of the WHERE clause
// make a concurrent second update see the first one's result.
type sqlStore struct {
	db db
	// nextLock is appended to Next's inner SELECT: " FOR UPDATE SKIP LOCKED"
	// in PostgreSQL (so concurrent workers pick different rows instead of
	// queueing on the same one), "" in SQLite (writes are serialized anyway).
	nextLock string
	// unrepliedFrom is Unreplied's FROM: SQLite's planner, without table
	// statistics, would rather read inbox_next than the small partial index
	// made for the query, so it is named (INDEXED BY); PostgreSQL picks it.
	unrepliedFrom string
}

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

const itemCols = `msg_id, message, state, reply, reply_state, owner, lease_until, received_at, updated_at`

const finishedStates = `('done', 'failed', 'unknown')`

// ms converts a time to the stored unix milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts stored unix milliseconds back; 0 is the zero time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

func scanItem(scan func(dest ...any) error) (*Item, error) {
	var (
		it                            Item
		msg, state, replyState        string
		leaseUntil, received, updated int64
	)
	if err := scan(&it.MsgID, &msg, &state, &it.Reply, &replyState, &it.Owner, &leaseUntil, &received, &updated); err != nil {
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

func opErr(op string, err error) error {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrLeaseLost) {
		return err
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

func checkOwner(owner string) error {
	if owner == "" {
		return errors.New("empty owner")
	}
	return nil
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
		n, err := s.db.exec(ctx, `INSERT INTO inbox (msg_id, message, state, owner, lease_until, received_at, updated_at)
			VALUES ($1, $2, 'received', $3, $4, $5, $5) ON CONFLICT (msg_id) DO NOTHING`,
			msgID, string(message), owner, until, t)
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

// Finish implements Store.
func (s *sqlStore) Finish(ctx context.Context, msgID, owner string, state State, reply string, now time.Time, records ...Record) error {
	if err := checkOwner(owner); err != nil {
		return opErr("finish", err)
	}
	if !state.Finished() {
		return fmt.Errorf("store: finish: %q is not a final state", state)
	}
	var then []statement
	for _, r := range records {
		st, err := r.insert()
		if err != nil {
			return opErr("finish", err)
		}
		then = append(then, st)
	}
	n, err := s.db.execIf(ctx, statement{`UPDATE inbox SET state = $3, reply = $4, reply_state = 'sending', owner = '', lease_until = 0, updated_at = $5
		WHERE msg_id = $1 AND owner = $2 AND state IN ('received', 'calling')`,
		[]any{msgID, owner, string(state), reply, ms(now)}}, then)
	if err != nil {
		return opErr("finish", err)
	}
	if n == 0 {
		return s.lost(ctx, "finish", msgID)
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
		n, err = s.db.exec(ctx, `UPDATE inbox SET reply_state = $2, updated_at = $3 WHERE msg_id = $1`,
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

// insert is the statement that records g: a second record for the same
// msgID is ignored (the first one wins), so a retried write is harmless.
func (g Group) insert() (statement, error) {
	if g.MsgID == "" {
		return statement{}, errors.New("group record: empty msgID")
	}
	members := g.Members
	if members == nil {
		members = []string{}
	}
	mj, err := json.Marshal(members)
	if err != nil {
		return statement{}, err
	}
	return statement{`INSERT INTO groups
		(msg_id, open_conversation_id, chatid, name, owner, members, sender, conversation_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (msg_id) DO NOTHING`,
		[]any{g.MsgID, g.OpenConversationID, g.ChatID, g.Name, g.Owner, string(mj), g.Sender, g.ConversationID, ms(g.CreatedAt)}}, nil
}

// RecordGroup implements Store.
func (s *sqlStore) RecordGroup(ctx context.Context, g Group) error {
	return s.record(ctx, "record group", g)
}

// record writes one audit record on its own.
func (s *sqlStore) record(ctx context.Context, op string, r Record) error {
	st, err := r.insert()
	if err != nil {
		return opErr(op, err)
	}
	_, err = s.db.exec(ctx, st.q, st.args...)
	return opErr(op, err)
}

// where builds a WHERE clause from conditions whose placeholders are
// numbered in order ("sender = $%d"), appending their arguments to args.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, arg any) {
	w.args = append(w.args, arg)
	w.conds = append(w.conds, fmt.Sprintf(cond, len(w.args)))
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// page appends LIMIT and OFFSET; a limit <= 0 means no limit.
func (w *where) page(limit, offset int) string {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	w.args = append(w.args, limit, max(offset, 0))
	return fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(w.args)-1, len(w.args))
}

const groupCols = `msg_id, open_conversation_id, chatid, name, owner, members, sender, conversation_id, created_at`

// Groups implements Store.
func (s *sqlStore) Groups(ctx context.Context, f GroupFilter) ([]Group, error) {
	var w where
	if f.Sender != "" {
		w.add("sender = $%d", f.Sender)
	}
	q := `SELECT ` + groupCols + ` FROM groups` + w.String() + ` ORDER BY created_at DESC, msg_id DESC` + w.page(f.Limit, f.Offset)
	var out []Group
	err := s.db.query(ctx, false, q, w.args,
		func(scan func(dest ...any) error) error {
			var (
				g       Group
				members string
				created int64
			)
			if err := scan(&g.MsgID, &g.OpenConversationID, &g.ChatID, &g.Name, &g.Owner, &members, &g.Sender, &g.ConversationID, &created); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(members), &g.Members); err != nil {
				return fmt.Errorf("group %q: members: %w", g.MsgID, err)
			}
			g.CreatedAt = fromMS(created)
			out = append(out, g)
			return nil
		})
	return out, opErr("groups", err)
}

// CountGroups implements Store.
func (s *sqlStore) CountGroups(ctx context.Context, sender string) (int, error) {
	var w where
	if sender != "" {
		w.add("sender = $%d", sender)
	}
	var n int64
	err := s.db.query(ctx, false, `SELECT COUNT(*) FROM groups`+w.String(), w.args,
		func(scan func(dest ...any) error) error { return scan(&n) })
	return int(n), opErr("count groups", err)
}

const auditCols = `msg_id, at, sender, sender_nick, conversation_id, command, text, outcome,
	group_open_conversation_id, chatid, request_id, error_code`

// insert is the statement that records r: an upsert keyed by msg_id, so
// the record of a command finished again (e.g. after a lease was lost)
// replaces the first.
func (r AuditRecord) insert() (statement, error) {
	if r.MsgID == "" {
		return statement{}, errors.New("command record: empty msgID")
	}
	return statement{`INSERT INTO audit (` + auditCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (msg_id) DO UPDATE SET at = excluded.at, sender = excluded.sender,
			sender_nick = excluded.sender_nick, conversation_id = excluded.conversation_id,
			command = excluded.command, text = excluded.text, outcome = excluded.outcome,
			group_open_conversation_id = excluded.group_open_conversation_id, chatid = excluded.chatid,
			request_id = excluded.request_id, error_code = excluded.error_code`,
		[]any{r.MsgID, ms(r.At), r.Sender, r.SenderNick, r.ConversationID, r.Command, r.Text, r.Outcome,
			r.GroupOpenConversationID, r.ChatID, r.RequestID, r.ErrorCode}}, nil
}

// RecordCommand implements Store.
func (s *sqlStore) RecordCommand(ctx context.Context, r AuditRecord) error {
	return s.record(ctx, "record command", r)
}

// Audit implements Store.
func (s *sqlStore) Audit(ctx context.Context, f AuditFilter) ([]AuditRecord, error) {
	var w where
	if f.Sender != "" {
		w.add("sender = $%d", f.Sender)
	}
	if !f.Since.IsZero() {
		w.add("at >= $%d", f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		w.add("at < $%d", f.Until.UnixMilli())
	}
	q := `SELECT ` + auditCols + ` FROM audit` + w.String() + ` ORDER BY at DESC, msg_id DESC` + w.page(f.Limit, f.Offset)
	var out []AuditRecord
	err := s.db.query(ctx, false, q, w.args, func(scan func(dest ...any) error) error {
		var (
			r  AuditRecord
			at int64
		)
		if err := scan(&r.MsgID, &at, &r.Sender, &r.SenderNick, &r.ConversationID, &r.Command, &r.Text, &r.Outcome,
			&r.GroupOpenConversationID, &r.ChatID, &r.RequestID, &r.ErrorCode); err != nil {
			return err
		}
		r.At = fromMS(at)
		out = append(out, r)
		return nil
	})
	return out, opErr("audit", err)
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

// Prune implements Store.
func (s *sqlStore) Prune(ctx context.Context, before time.Time) (int, error) {
	n, err := s.db.exec(ctx, `DELETE FROM inbox WHERE state IN `+finishedStates+` AND updated_at < $1`, ms(before))
	return int(n), opErr("prune", err)
}

// admitSigned records a msgID under a signature key (AdmitSigned) in one
// statement: the row is inserted if the msgID is already live under the key
// (a redelivery) or the key has fewer than the bound of live rows; a
// conflicting row is updated, to itself if it is live (so a redelivery
// affects one row but keeps its expiry) or to the new expiry if it had
// expired. One row affected means admitted. The CASTs give PostgreSQL the
// types of the selected parameters.
const admitSigned = `INSERT INTO callback_signs (sign_key, msg_id, expires_at)
	SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS BIGINT)
	WHERE EXISTS (SELECT 1 FROM callback_signs WHERE sign_key = $1 AND msg_id = $2 AND expires_at > $4)
		OR (SELECT COUNT(*) FROM callback_signs WHERE sign_key = $1 AND expires_at > $4) < $5
	ON CONFLICT (sign_key, msg_id) DO UPDATE SET expires_at = CASE
		WHEN callback_signs.expires_at > $4 THEN callback_signs.expires_at ELSE excluded.expires_at END`

// AdmitSigned implements Store. An entry whose expires is not after now
// counts for nothing: the caller passes the end of the signature's window.
// With max <= 0 only redeliveries are admitted.
func (s *sqlStore) AdmitSigned(ctx context.Context, key, msgID string, max int, expires, now time.Time) (bool, error) {
	if key == "" || msgID == "" {
		return false, errors.New("store: admit signed: empty key or msgID")
	}
	n, err := s.db.execKeyed(ctx, key, statement{admitSigned,
		[]any{key, msgID, expires.UnixMilli(), now.UnixMilli(), int64(max)}})
	if err != nil {
		return false, opErr("admit signed", err)
	}
	return n > 0, nil
}

// PruneSigned implements Store.
func (s *sqlStore) PruneSigned(ctx context.Context, now time.Time) (int, error) {
	n, err := s.db.exec(ctx, `DELETE FROM callback_signs WHERE expires_at <= $1`, now.UnixMilli())
	return int(n), opErr("prune signed", err)
}

// Close implements Store.
func (s *sqlStore) Close() error { return s.db.close() }
