package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// heartbeat records that owner $1 is alive until $2.
const heartbeat = `INSERT INTO owners (owner, alive_until) VALUES ($1, $2)
	ON CONFLICT (owner) DO UPDATE SET alive_until = excluded.alive_until`

// deadOwners selects the owners whose heartbeat ran out at or before $1.
const deadOwners = `SELECT owners.owner FROM owners WHERE owners.alive_until <= $1`

// releaseDeadQuery gives back the received items held by owners dead at
// $1; from is sqlStore.heldFrom. It repeats the WHERE term of the partial
// index inbox_held (owner not empty), where the dead owners' items are
// looked up.
func releaseDeadQuery(from string) string {
	return `UPDATE ` + from + ` SET owner = '', lease_until = 0
		WHERE state = 'received' AND owner <> '' AND owner IN (` + deadOwners + `)`
}

// expireDeadQuery turns the calling items held by owners dead at $1 into
// unknown at $2 and returns them; from is as for releaseDeadQuery.
func expireDeadQuery(from string) string {
	return `UPDATE ` + from + ` SET state = 'unknown', owner = '', lease_until = 0, updated_at = $2
		WHERE state = 'calling' AND owner <> '' AND owner IN (` + deadOwners + `)
		RETURNING ` + itemCols
}

// pruneOwners deletes the owners whose heartbeat ran out before $1 and who
// hold no item.
const pruneOwners = `DELETE FROM owners WHERE alive_until < $1
	AND NOT EXISTS (SELECT 1 FROM inbox WHERE inbox.owner <> '' AND inbox.owner = owners.owner)`

// takeSlot reserves the next slot of the limit $1: $2 is now plus the
// spacing, $3 the spacing (in milliseconds). The new next free time is the
// later of the old one and now, plus the spacing; the slot returned is that
// minus the spacing.
const takeSlot = `INSERT INTO rate_slots (name, next_at) VALUES ($1, $2)
	ON CONFLICT (name) DO UPDATE SET next_at = CASE
		WHEN rate_slots.next_at + $3 > excluded.next_at THEN rate_slots.next_at + $3
		ELSE excluded.next_at END
	RETURNING next_at - $3`

// maxRenewIDs is the most msgIDs one RenewItems statement lists, well
// within SQLite's limit on bound variables (999 before SQLite 3.32).
const maxRenewIDs = 512

// Heartbeat implements Store.
func (s *sqlStore) Heartbeat(ctx context.Context, owner string, until time.Time) error {
	if err := checkOwner(owner); err != nil {
		return opErr("heartbeat", err)
	}
	_, err := s.db.exec(ctx, heartbeat, owner, ms(until))
	return opErr("heartbeat", err)
}

// Retire implements Store: it stores the owner's heartbeat as run out at 0,
// also for an owner that never heartbeat, so the next ReleaseDead releases
// what it holds.
func (s *sqlStore) Retire(ctx context.Context, owner string) error {
	if err := checkOwner(owner); err != nil {
		return opErr("retire", err)
	}
	_, err := s.db.exec(ctx, heartbeat, owner, int64(0))
	return opErr("retire", err)
}

// ReleaseDead implements Store with two statements, each atomic on its own:
// the release of received items, then the expiry of calling ones (an
// UPDATE … RETURNING, like ExpireCalling, so of two processes at once each
// item is returned by exactly one). Like Release, the release leaves
// updated_at alone; the expired items' UpdatedAt becomes now.
func (s *sqlStore) ReleaseDead(ctx context.Context, now, deadBefore time.Time) (int, []*Item, error) {
	n, err := s.db.exec(ctx, releaseDeadQuery(s.heldFrom), ms(now))
	if err != nil {
		return 0, nil, opErr("release dead", err)
	}
	// Replies a process dead since deadBefore was posting: unattempted
	// again. Not at now: a live process whose heartbeat was held up would
	// post its reply a second time.
	unposted, err := s.db.exec(ctx, `UPDATE inbox SET reply_state = '', replier = ''
		WHERE reply_state = 'sending' AND replier <> '' AND replier IN (`+deadOwners+`)`, ms(deadBefore))
	if err != nil {
		return int(n), nil, opErr("release dead", err)
	}
	n += unposted
	items, err := s.items(ctx, true, expireDeadQuery(s.heldFrom), ms(deadBefore), ms(now))
	if err != nil {
		return int(n), nil, opErr("release dead", err)
	}
	return int(n), items, nil
}

// RenewItems implements Store. It renews at most maxRenewIDs items per
// statement; a list's placeholders are padded to a power of two (repeating
// its last msgID) so that few statement shapes are prepared and cached.
// Duplicate msgIDs are counted once.
func (s *sqlStore) RenewItems(ctx context.Context, owner string, msgIDs []string, now time.Time, lease time.Duration) (int, error) {
	if err := checkOwner(owner); err != nil {
		return 0, opErr("renew items", err)
	}
	ids := make([]string, 0, len(msgIDs))
	seen := make(map[string]bool, len(msgIDs))
	for _, id := range msgIDs {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	total := 0
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxRenewIDs)]
		ids = ids[len(chunk):]
		size := 1
		for size < len(chunk) {
			size *= 2
		}
		var q strings.Builder
		q.WriteString(`UPDATE inbox SET lease_until = $2, updated_at = $3
		WHERE owner = $1 AND state IN ('received', 'calling') AND msg_id IN (`)
		args := []any{owner, now.Add(lease).UnixMilli(), ms(now)}
		for i := range size {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("$" + strconv.Itoa(len(args)+1))
			args = append(args, chunk[min(i, len(chunk)-1)])
		}
		q.WriteString(")")
		n, err := s.db.exec(ctx, q.String(), args...)
		total += int(n)
		if err != nil {
			return total, opErr("renew items", err)
		}
	}
	return total, nil
}

// Clock implements Store: PostgreSQL's clock_timestamp() (the time as the
// statement runs, not as its transaction began), or the local clock when
// clockQuery is "" (SQLite).
func (s *sqlStore) Clock(ctx context.Context) (time.Time, error) {
	if s.clockQuery == "" {
		return time.Now(), nil
	}
	var (
		v    int64
		rows int
	)
	err := s.db.query(ctx, false, s.clockQuery, nil, func(scan func(dest ...any) error) error {
		rows++
		return scan(&v)
	})
	if err != nil {
		return time.Time{}, opErr("clock", err)
	}
	if rows != 1 {
		return time.Time{}, errors.New("store: clock: no time returned")
	}
	return time.UnixMilli(v), nil
}

// TakeSlot implements Store with one INSERT … ON CONFLICT DO UPDATE …
// RETURNING. Times are whole milliseconds: the spacing is rounded up to one
// (at least 1 ms) and so is now, so the slot is never before now.
func (s *sqlStore) TakeSlot(ctx context.Context, name string, spacing time.Duration, now time.Time) (time.Time, error) {
	if name == "" {
		return time.Time{}, errors.New("store: take slot: empty name")
	}
	if spacing <= 0 {
		return time.Time{}, errors.New("store: take slot: spacing must be positive")
	}
	sp := int64((spacing + time.Millisecond - 1) / time.Millisecond)
	t := now.UnixMilli()
	if now.After(time.UnixMilli(t)) {
		t++
	}
	var (
		slot int64
		rows int
	)
	err := s.db.query(ctx, true, takeSlot, []any{name, t + sp, sp}, func(scan func(dest ...any) error) error {
		rows++
		return scan(&slot)
	})
	if err != nil {
		return time.Time{}, opErr("take slot", err)
	}
	if rows != 1 {
		return time.Time{}, errors.New("store: take slot: no slot returned")
	}
	return time.UnixMilli(slot), nil
}
