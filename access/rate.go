package access

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is a token bucket: Burst commands at once, then one every Per/N.
type Rate struct {
	// N commands are allowed per Per, on average.
	N int
	// Per is the period of N.
	Per time.Duration
	// Burst is the bucket's size: how many commands may come at once.
	Burst int
}

// Limits of the rate format.
const (
	maxRateN   = 1_000_000
	minRatePer = time.Second
	maxRatePer = 30 * 24 * time.Hour
)

// rateUnits are the one-letter periods of N/UNIT.
var rateUnits = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}

// ParseRate reads N/PERIOD: N is a whole number, PERIOD one of s, m, h, d
// or a duration such as 10m or 1h30m ("5/h", "20/10m"). Burst is N.
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("%q is not N/PERIOD, e.g. 5/h or 20/10m (PERIOD: s, m, h, d or a duration)", s)
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count < 1 || count > maxRateN {
		return Rate{}, fmt.Errorf("%q: N must be a whole number from 1 to %d, e.g. 5/h", s, maxRateN)
	}
	per = strings.TrimSpace(per)
	d, unit := rateUnits[per]
	if !unit {
		if d, err = time.ParseDuration(per); err != nil {
			return Rate{}, fmt.Errorf("%q: the period %q is not s, m, h, d or a duration such as 10m", s, per)
		}
	}
	if d < minRatePer || d > maxRatePer {
		return Rate{}, fmt.Errorf("%q: the period must be from 1s to 30d", s)
	}
	return Rate{N: count, Per: d, Burst: count}, nil
}

// interval is the time one token takes to come back.
func (r Rate) interval() time.Duration {
	return r.Per / time.Duration(r.N)
}

// maxBuckets bounds the memory of one limiter: past it, full buckets are
// dropped, and if that is not enough, all of them (which forgives everyone
// their recent commands, rather than refusing anyone).
const maxBuckets = 100_000

// buckets are token buckets by key (a user ID or a conversation ID). A bucket
// that has filled up again is the same as none, so such buckets are dropped
// at most once per fill time: memory holds only keys active recently.
type buckets struct {
	rate      Rate
	m         map[string]bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newBuckets(key, spec, burstKey string, burst int) (*buckets, error) {
	if strings.TrimSpace(spec) == "" {
		if burst != 0 {
			return nil, fmt.Errorf("%s: set without %s", burstKey, key)
		}
		return nil, nil
	}
	r, err := ParseRate(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if burst < 0 || burst > maxRateN {
		return nil, fmt.Errorf("%s: %d is not a whole number from 1 to %d", burstKey, burst, maxRateN)
	}
	if burst > 0 {
		r.Burst = burst
	}
	return &buckets{rate: r, m: map[string]bucket{}}, nil
}

// level is how many tokens key's bucket holds at now.
func (b *buckets) level(key string, now time.Time) float64 {
	bk, ok := b.m[key]
	if !ok {
		return float64(b.rate.Burst)
	}
	elapsed := now.Sub(bk.at)
	if elapsed < 0 {
		elapsed = 0
	}
	return min(float64(b.rate.Burst), bk.tokens+float64(elapsed)/float64(b.rate.interval()))
}

// wait is how long until key's bucket holds a token; 0 if it holds one now.
// A nil *buckets never waits.
func (b *buckets) wait(key string, now time.Time) time.Duration {
	if b == nil {
		return 0
	}
	l := b.level(key, now)
	if l >= 1 {
		return 0
	}
	w := time.Duration((1 - l) * float64(b.rate.interval()))
	return max(w, time.Nanosecond)
}

// take removes one token from key's bucket (which must hold one).
func (b *buckets) take(key string, now time.Time) {
	if b == nil {
		return
	}
	l := b.level(key, now)
	b.sweep(now)
	b.m[key] = bucket{tokens: l - 1, at: now}
}

// sweep drops full buckets once per fill time, or when there are too many.
func (b *buckets) sweep(now time.Time) {
	fill := float64(b.rate.Burst) * float64(b.rate.interval()) // float: a long period times a big burst overflows int64
	if float64(now.Sub(b.lastSweep)) < fill && len(b.m) < maxBuckets {
		return
	}
	b.lastSweep = now
	for k := range b.m {
		if b.level(k, now) >= float64(b.rate.Burst) {
			delete(b.m, k)
		}
	}
	if len(b.m) >= maxBuckets {
		clear(b.m)
	}
}
