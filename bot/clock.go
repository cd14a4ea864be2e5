// This file is the clock the bot's leases, heartbeats and rate-limit slots
// are compared on: the database's, so that replicas whose clocks differ
// still agree on when a lease runs out.

package bot

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/dingbot/dingbot/store"
)

// Clock is the local clock corrected by the database's: Now is the
// database's time (PostgreSQL's clock, shared by every replica) as far as
// the last Sync measured it. With SQLite it is the local clock.
type Clock struct {
	db     store.Liveness
	local  func() time.Time
	offset atomic.Int64 // database minus local, in nanoseconds
	synced atomic.Bool  // a Sync succeeded
}

// NewClock returns a Clock on db's time; local is the local clock (nil:
// time.Now). Until the first Sync it is the local clock.
func NewClock(db store.Liveness, local func() time.Time) *Clock {
	if local == nil {
		local = time.Now
	}
	return &Clock{db: db, local: local}
}

// Now is the database's current time, by the last Sync.
func (c *Clock) Now() time.Time {
	return c.local().Add(time.Duration(c.offset.Load()))
}

// Offset is how far the database's clock is ahead of the local one, by
// the last Sync.
func (c *Clock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Sync measures the database's clock against the local one: of a few
// queries, the one with the shortest round trip, at its middle (a busy
// database answers some queries late, which would skew the measure).
func (c *Clock) Sync(ctx context.Context) error {
	best, bestRTT := time.Duration(0), time.Duration(-1)
	for range syncSamples {
		before := c.local()
		db, err := c.db.Clock(ctx)
		if err != nil {
			return err
		}
		after := c.local()
		if rtt := after.Sub(before); bestRTT < 0 || rtt < bestRTT {
			best, bestRTT = db.Sub(before.Add(rtt/2)), rtt
		}
	}
	c.offset.Store(int64(best))
	c.synced.Store(true)
	return nil
}

// Synced reports whether a Sync has succeeded: before, Now is the local clock.
func (c *Clock) Synced() bool { return c.synced.Load() }

// syncSamples is how many queries one Sync makes.
const syncSamples = 5
