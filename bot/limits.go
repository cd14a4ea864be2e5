// This file spaces DingTalk calls: in one process with dingclient's
// LocalLimiter, across replicas through the store's shared slots, so that
// all of them together stay within DingTalk's per-app limits in any
// one-second window.

package bot

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// SharedLimiter is a dingclient.Limiter whose slots are kept in the
// database (store.Limits), shared by every replica using it: each call
// takes the next free slot of its API in one atomic statement and waits
// for it. While the database cannot be reached, calls wait (retrying every
// storeRetry) rather than risk exceeding DingTalk's limit.
type SharedLimiter struct {
	slots   store.Limits
	spacing map[dingclient.API]time.Duration
	now     func() time.Time
	log     *slog.Logger
	// ahead bounds the slots this process holds that have not started yet:
	// a process that dies takes at most that many unused slots with it.
	ahead chan struct{}
}

// maxAhead is how many future slots one process may hold at a time (see
// SharedLimiter.ahead): with several replicas the shared queue of slots is
// at most maxAhead per replica long, some 0.4 s each at 20 calls per second.
const maxAhead = 8

// NewSharedLimiter returns a SharedLimiter allowing perAPI[api] calls per
// second of each API (an API without an entry is not limited), on the
// clock now (the database's: Clock.Now).
func NewSharedLimiter(slots store.Limits, perAPI map[dingclient.API]float64, now func() time.Time, log *slog.Logger) (*SharedLimiter, error) {
	if err := dingclient.CheckRates(perAPI); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &SharedLimiter{slots: slots, spacing: make(map[dingclient.API]time.Duration, len(perAPI)), now: now, log: log,
		ahead: make(chan struct{}, maxAhead)}
	for api, perSecond := range perAPI {
		l.spacing[api] = dingclient.Slots(perSecond)
	}
	return l, nil
}

// storeRetry is how long a call waits before asking the database for a
// slot again after it failed.
const storeRetry = 200 * time.Millisecond

// Wait implements dingclient.Limiter.
func (l *SharedLimiter) Wait(ctx context.Context, api dingclient.API) error {
	d, err := l.Reserve(ctx, api)
	if err != nil {
		return err
	}
	return dingclient.SleepUntil(ctx, time.Now().Add(d), time.Now)
}

// Reserve implements dingclient.Limiter. While the database cannot be
// reached it keeps trying, as Wait does.
func (l *SharedLimiter) Reserve(ctx context.Context, api dingclient.API) (time.Duration, error) {
	spacing, ok := l.spacing[api]
	if !ok {
		return 0, nil
	}
	select {
	case l.ahead <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	for {
		at, err := l.slots.TakeSlot(ctx, "dingtalk:"+string(api), spacing, l.now())
		if err == nil {
			// From now, not from before the query: a slow answer must not
			// make the call late.
			d := max(at.Sub(l.now()), 0)
			time.AfterFunc(d, func() { <-l.ahead })
			return d, nil
		}
		if ctx.Err() != nil {
			<-l.ahead
			return 0, ctx.Err()
		}
		l.log.Warn("cannot take a rate-limit slot from the database; waiting", "api", string(api), "error", err.Error())
		if err := dingclient.SleepUntil(ctx, time.Now().Add(storeRetry), time.Now); err != nil {
			<-l.ahead
			return 0, fmt.Errorf("waiting for a rate-limit slot: %w", err)
		}
	}
}

// Limited implements dingclient.Limiter.
func (l *SharedLimiter) Limited(api dingclient.API) bool {
	_, ok := l.spacing[api]
	return ok
}
