package dingclient

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Limiter spaces DingTalk calls so that no API is called more often than
// DingTalk allows. DingTalk counts calls per app in any window of one
// second (a sliding window), so a limiter must never let more than the
// allowed number start within any second: spacing calls evenly (Slots),
// not a token bucket that allows a burst on top of the rate. Every HTTP
// attempt, retries included, waits for its API's slot.
//
// LocalLimiter serves one process; a Limiter shared by several replicas
// (the bot's, backed by PostgreSQL) keeps the slots in the database.
type Limiter interface {
	// Wait returns when a call of api may start, at once for an API
	// without a limit, or ctx's error (then no slot is used).
	Wait(ctx context.Context, api API) error
	// Reserve takes the next slot of api without waiting for it and
	// returns how long from now it starts (0 for an API without a limit),
	// so that a caller can do its own work until then (see bot's Calling).
	// A reserved slot is used whether or not the caller makes the call.
	Reserve(ctx context.Context, api API) (time.Duration, error)
	// Limited reports whether api has a limit: then a throttled call is
	// retried at its next slot instead of after a back-off.
	Limited(api API) bool
}

// slot marks a context whose next call of api has its slot already.
type slot struct {
	api  API
	used atomic.Bool
}

type slotKey struct{}

// WithSlot returns a context under which the first attempt of the next call
// of api does not wait for the Limiter, because the caller has waited for
// its slot already (e.g. before recording that a create is about to be
// made, so that a crash while waiting is no "unknown"). Retries wait as usual.
func WithSlot(ctx context.Context, api API) context.Context {
	return context.WithValue(ctx, slotKey{}, &slot{api: api})
}

// hasSlot reports, once, whether ctx carries a slot for api (WithSlot).
func hasSlot(ctx context.Context, api API) bool {
	s, _ := ctx.Value(slotKey{}).(*slot)
	return s != nil && s.api == api && s.used.CompareAndSwap(false, true)
}

// Slots is the spacing that keeps calls at perSecond in any one-second
// window: a little more than 1/perSecond, so that perSecond+1 calls always
// span more than a second even when their requests reach DingTalk a few
// milliseconds early or late (slotMargin).
func Slots(perSecond float64) time.Duration {
	return time.Duration(float64(time.Second)/perSecond*(1+slotMargin)) + time.Microsecond
}

// slotMargin is the share of a slot kept free for network jitter.
const slotMargin = 0.04

// CheckRates checks that every key of perAPI is one of APIs() and every
// rate is positive; keys are checked in sorted order, so the error for
// several bad entries is always the same one.
func CheckRates(perAPI map[API]float64) error {
	for _, api := range slices.Sorted(maps.Keys(perAPI)) {
		if !slices.Contains(apis, api) {
			return fmt.Errorf("dingclient: RateLimits: unknown API %q (known: %s)", api, strings.Join(apiNames(), ", "))
		}
		if perSecond := perAPI[api]; !(perSecond > 0) { // also rejects NaN
			return fmt.Errorf("dingclient: RateLimits[%q]: %v calls per second is not a positive rate", api, perSecond)
		}
	}
	return nil
}

// LocalLimiter is a Limiter for one process: each limited API has a next
// free slot, and a caller takes the next one and sleeps until it.
type LocalLimiter struct {
	mu      sync.Mutex
	spacing map[API]time.Duration
	next    map[API]time.Time
	now     func() time.Time
}

// NewLocalLimiter returns a LocalLimiter allowing perAPI[api] calls per
// second of each API (see CheckRates); an API without an entry is not limited.
func NewLocalLimiter(perAPI map[API]float64) (*LocalLimiter, error) {
	if err := CheckRates(perAPI); err != nil {
		return nil, err
	}
	l := &LocalLimiter{spacing: make(map[API]time.Duration, len(perAPI)), next: map[API]time.Time{}, now: time.Now}
	for api, perSecond := range perAPI {
		l.spacing[api] = Slots(perSecond)
	}
	return l, nil
}

// Wait implements Limiter. A caller whose ctx ends while it waits gives its
// slot back if no later caller took one.
func (l *LocalLimiter) Wait(ctx context.Context, api API) error {
	at, spacing, ok := l.take(api)
	if !ok {
		return nil
	}
	if err := SleepUntil(ctx, at, l.now); err != nil {
		l.mu.Lock()
		if l.next[api].Equal(at.Add(spacing)) {
			l.next[api] = at
		}
		l.mu.Unlock()
		return err
	}
	return nil
}

// Reserve implements Limiter.
func (l *LocalLimiter) Reserve(_ context.Context, api API) (time.Duration, error) {
	at, _, ok := l.take(api)
	if !ok {
		return 0, nil
	}
	return max(at.Sub(l.now()), 0), nil
}

// take reserves api's next free slot and returns it with the spacing; ok
// is false for an API without a limit (and a nil limiter).
func (l *LocalLimiter) take(api API) (at time.Time, spacing time.Duration, ok bool) {
	if l == nil {
		return time.Time{}, 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if spacing, ok = l.spacing[api]; !ok {
		return time.Time{}, 0, false
	}
	now := l.now()
	at = l.next[api]
	if at.Before(now) {
		at = now
	}
	l.next[api] = at.Add(spacing)
	return at, spacing, true
}

// Limited implements Limiter.
func (l *LocalLimiter) Limited(api API) bool {
	if l == nil {
		return false
	}
	_, ok := l.spacing[api]
	return ok
}

// SleepUntil sleeps until at by now's clock, or returns ctx's error.
func SleepUntil(ctx context.Context, at time.Time, now func() time.Time) error {
	d := at.Sub(now())
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
