package store

import (
	"context"
	"errors"
	"math"
	"time"
)

// The shared token buckets (Limits.TakeToken) live in rate_slots, beside
// the slots of TakeSlot: one row per bucket, next_at holding its
// theoretical arrival time (TAT) in unix milliseconds. A row whose next_at
// has passed is a full bucket, the same as no row.

// takeToken takes a token from the bucket $1 if it has one: $2 is now plus
// the interval (the TAT of a full bucket after the take), $3 the interval
// and $4 now plus the tolerance (burst−1)×interval, all in milliseconds. A
// take is allowed when max(TAT, now) − now ≤ tolerance, i.e. TAT ≤ $4 (a
// TAT in the past always passes); it moves TAT to max(TAT, now) + interval.
// A new row is a full bucket, so its insert is always allowed. When the
// WHERE of DO UPDATE fails nothing is written and no row is returned.
const takeToken = `INSERT INTO rate_slots (name, next_at) VALUES ($1, $2)
	ON CONFLICT (name) DO UPDATE SET next_at = CASE
		WHEN rate_slots.next_at + $3 > excluded.next_at THEN rate_slots.next_at + $3
		ELSE excluded.next_at END
	WHERE rate_slots.next_at <= $4
	RETURNING next_at`

// tokenTAT reads the TAT of the bucket $1.
const tokenTAT = `SELECT next_at FROM rate_slots WHERE name = $1`

// returnToken moves the TAT of the bucket $1 back by the interval $2, but
// not below now $3; a bucket whose TAT is not after now is full already.
const returnToken = `UPDATE rate_slots SET next_at = CASE
		WHEN next_at - $2 > $3 THEN next_at - $2
		ELSE $3 END
	WHERE name = $1 AND next_at > $3`

// pruneSlots deletes the rate rows (slots and buckets) whose next free
// time is before $1: such a limit or bucket is as good as new.
const pruneSlots = `DELETE FROM rate_slots WHERE next_at < $1`

// slotRetention is how long past its next free time Prune keeps a rate
// row beyond its cutoff, so that a cutoff on a clock running ahead never
// empties a bucket still in use.
const slotRetention = 24 * time.Hour

// takeTokenTries is how often TakeToken tries again when a denied take
// finds the bucket has a token after all (another process returned one, or
// Prune deleted the row, between the two statements).
const takeTokenTries = 3

// tokenMS returns interval in whole milliseconds, rounded up (at least 1).
func tokenMS(interval time.Duration) int64 {
	return int64((interval + time.Millisecond - 1) / time.Millisecond)
}

// TakeToken implements Store with one INSERT … ON CONFLICT DO UPDATE …
// WHERE … RETURNING: a row returned is an allowed take. A denied take
// writes nothing; a second statement reads the bucket's TAT for the
// retry-after. now is truncated to the millisecond (a take is never allowed
// earlier than it would be at now).
func (s *sqlStore) TakeToken(ctx context.Context, key string, interval time.Duration, burst int, now time.Time) (bool, time.Duration, error) {
	if key == "" {
		return false, 0, errors.New("store: take token: empty key")
	}
	if interval <= 0 {
		return false, 0, errors.New("store: take token: interval must be positive")
	}
	if burst < 1 {
		return false, 0, errors.New("store: take token: burst must be at least 1")
	}
	iv := tokenMS(interval)
	t := now.UnixMilli()
	if int64(burst-1) > (math.MaxInt64/2-t)/iv {
		return false, 0, errors.New("store: take token: burst times interval is too long")
	}
	tolerance := int64(burst-1) * iv
	for range takeTokenTries {
		var (
			tat  int64
			rows int
		)
		err := s.db.query(ctx, true, takeToken, []any{key, t + iv, iv, t + tolerance}, func(scan func(dest ...any) error) error {
			rows++
			return scan(&tat)
		})
		if err != nil {
			return false, 0, opErr("take token", err)
		}
		if rows == 1 {
			return true, 0, nil
		}
		rows = 0
		err = s.db.query(ctx, false, tokenTAT, []any{key}, func(scan func(dest ...any) error) error {
			rows++
			return scan(&tat)
		})
		if err != nil {
			return false, 0, opErr("take token", err)
		}
		if rows == 1 && tat > t+tolerance {
			return false, time.Duration(tat-tolerance-t) * time.Millisecond, nil
		}
		// The bucket got a token back in between: take it.
	}
	return false, time.Millisecond, nil
}

// ReturnToken implements Store with one UPDATE. now is truncated to the
// millisecond, like TakeToken's.
func (s *sqlStore) ReturnToken(ctx context.Context, key string, interval time.Duration, now time.Time) error {
	if key == "" {
		return errors.New("store: return token: empty key")
	}
	if interval <= 0 {
		return errors.New("store: return token: interval must be positive")
	}
	_, err := s.db.exec(ctx, returnToken, key, tokenMS(interval), now.UnixMilli())
	return opErr("return token", err)
}

// pruneRates deletes the rate rows whose next free time was more than
// slotRetention before the cutoff (Prune's).
func (s *sqlStore) pruneRates(ctx context.Context, before time.Time) error {
	_, err := s.db.exec(ctx, pruneSlots, before.Add(-slotRetention).UnixMilli())
	return err
}
