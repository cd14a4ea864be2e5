package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/dingbot/dingbot/store"
)

// takeToken calls TakeToken and wants ok and, when denied, retry.
func takeToken(t *testing.T, s store.Store, key string, interval time.Duration, burst int, now time.Time, ok bool, retry time.Duration) {
	t.Helper()
	got, after, err := s.TakeToken(ctx, key, interval, burst, now)
	if err != nil {
		t.Fatalf("TakeToken(%s, %v, %d, %v): %v", key, interval, burst, now.Sub(t0), err)
	}
	if got != ok || (!ok && after != retry) || (ok && after != 0) {
		t.Fatalf("TakeToken(%s, %v, %d, %v) = %v, %v; want %v, %v", key, interval, burst, now.Sub(t0), got, after, ok, retry)
	}
}

// returnToken calls ReturnToken and wants no error.
func returnToken(t *testing.T, s store.Store, key string, interval time.Duration, now time.Time) {
	t.Helper()
	if err := s.ReturnToken(ctx, key, interval, now); err != nil {
		t.Fatalf("ReturnToken(%s, %v, %v): %v", key, interval, now.Sub(t0), err)
	}
}

func testTakeToken(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	const (
		iv    = 100 * time.Millisecond
		burst = 3
	)
	// A new bucket is full: burst takes at once, then a denial until one
	// interval after the first take.
	for range burst {
		takeToken(t, s, "a", iv, burst, t0, true, 0)
	}
	takeToken(t, s, "a", iv, burst, t0, false, iv)
	takeToken(t, s, "a", iv, burst, at(40*time.Millisecond), false, 60*time.Millisecond)
	// Another key is another bucket.
	for range burst {
		takeToken(t, s, "b", iv, burst, at(40*time.Millisecond), true, 0)
	}
	takeToken(t, s, "b", iv, burst, at(40*time.Millisecond), false, iv)
	// One token comes back every interval; a denied take took nothing.
	takeToken(t, s, "a", iv, burst, at(iv), true, 0)
	takeToken(t, s, "a", iv, burst, at(iv), false, iv)
	takeToken(t, s, "a", iv, burst, at(2*iv), true, 0)
	takeToken(t, s, "a", iv, burst, at(4*iv), true, 0) // two intervals later: two tokens back
	takeToken(t, s, "a", iv, burst, at(4*iv), true, 0)
	takeToken(t, s, "a", iv, burst, at(4*iv), false, iv)
	// Another store on the database shares the bucket.
	takeToken(t, open(t), "a", iv, burst, at(4*iv+30*time.Millisecond), false, 70*time.Millisecond)
	// After a long idle time the bucket is full again, never fuller.
	for range burst {
		takeToken(t, s, "a", iv, burst, at(time.Hour), true, 0)
	}
	takeToken(t, s, "a", iv, burst, at(time.Hour), false, iv)
	// A burst of 1 allows one take per interval.
	takeToken(t, s, "one", time.Minute, 1, t0, true, 0)
	takeToken(t, s, "one", time.Minute, 1, at(20*time.Second), false, 40*time.Second)
	takeToken(t, s, "one", time.Minute, 1, at(time.Minute), true, 0)
	// A process whose clock is behind gets nothing early.
	takeToken(t, s, "one", time.Minute, 1, at(30*time.Second), false, 90*time.Second)

	for _, bad := range []struct {
		key      string
		interval time.Duration
		burst    int
	}{{"", iv, 1}, {"a", 0, 1}, {"a", -iv, 1}, {"a", iv, 0}, {"a", iv, -1}} {
		if ok, _, err := s.TakeToken(ctx, bad.key, bad.interval, bad.burst, t0); err == nil || ok {
			t.Fatalf("TakeToken(%q, %v, %d) = %v, %v; want an error", bad.key, bad.interval, bad.burst, ok, err)
		}
	}
	if err := s.ReturnToken(ctx, "", iv, t0); err == nil {
		t.Fatal("ReturnToken with an empty key succeeded")
	}
	if err := s.ReturnToken(ctx, "a", 0, t0); err == nil {
		t.Fatal("ReturnToken with interval 0 succeeded")
	}
}

func testReturnToken(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	const (
		iv    = time.Second
		burst = 2
	)
	takeToken(t, s, "a", iv, burst, t0, true, 0)
	takeToken(t, s, "a", iv, burst, t0, true, 0)
	takeToken(t, s, "a", iv, burst, t0, false, iv)
	// A token given back can be taken again, once.
	returnToken(t, s, "a", iv, t0)
	takeToken(t, s, "a", iv, burst, t0, true, 0)
	takeToken(t, s, "a", iv, burst, t0, false, iv)
	// Giving back to a full bucket does not make it fuller.
	returnToken(t, s, "a", iv, at(10*time.Second))
	returnToken(t, s, "a", iv, at(10*time.Second))
	takeToken(t, s, "a", iv, burst, at(10*time.Second), true, 0)
	takeToken(t, s, "a", iv, burst, at(10*time.Second), true, 0)
	takeToken(t, s, "a", iv, burst, at(10*time.Second), false, iv)
	// Nor does giving back more than was taken: TAT never goes below now.
	takeToken(t, s, "b", iv, burst, at(20*time.Second), true, 0)
	returnToken(t, s, "b", iv, at(20*time.Second))
	returnToken(t, s, "b", iv, at(20*time.Second))
	takeToken(t, s, "b", iv, burst, at(20*time.Second), true, 0)
	takeToken(t, s, "b", iv, burst, at(20*time.Second), true, 0)
	takeToken(t, s, "b", iv, burst, at(20*time.Second), false, iv)
	// Giving back to a bucket never taken from is no error and changes nothing.
	returnToken(t, s, "never", iv, t0)
	takeToken(t, s, "never", iv, 1, t0, true, 0)
	takeToken(t, s, "never", iv, 1, t0, false, iv)
	// Another store on the database gives back to the same bucket.
	returnToken(t, open(t), "never", iv, t0)
	takeToken(t, s, "never", iv, 1, t0, true, 0)
}

func testPruneTokens(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	takeToken(t, s, "old", time.Hour, 1, t0, true, 0)    // TAT t0+1h
	takeToken(t, s, "kept", 3*time.Hour, 1, t0, true, 0) // TAT t0+3h
	if _, err := s.TakeSlot(ctx, "slot", time.Hour, t0); err != nil {
		t.Fatal(err)
	}
	// The cutoff t0+26h forgets the buckets whose TAT was before t0+2h
	// (a day earlier): in real use, full buckets.
	if n, err := s.Prune(ctx, at(26*time.Hour)); n != 0 || err != nil {
		t.Fatalf("Prune = %d, %v; want 0 (no finished item)", n, err)
	}
	takeToken(t, s, "old", time.Hour, 1, at(time.Minute), true, 0)
	takeToken(t, s, "kept", 3*time.Hour, 1, at(time.Minute), false, 3*time.Hour-time.Minute)
	// The slots still work.
	if _, err := s.TakeSlot(ctx, "slot", time.Hour, t0); err != nil {
		t.Fatal(err)
	}
}

func testConcurrentTakeToken(t *testing.T, open func(t *testing.T) store.Store) {
	stores := []store.Store{open(t), open(t)}
	const (
		workers = 8
		each    = 10
		burst   = 5
		iv      = time.Second
	)
	round := func(now time.Time, want int) {
		t.Helper()
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			allowed int
		)
		for w := range workers {
			wg.Go(func() {
				for range each {
					ok, retry, err := stores[w%2].TakeToken(ctx, "k", iv, burst, now)
					if err != nil {
						t.Errorf("TakeToken: %v", err)
						return
					}
					if !ok && retry <= 0 {
						t.Errorf("TakeToken denied with retry-after %v", retry)
					}
					if ok {
						mu.Lock()
						allowed++
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if allowed != want {
			t.Fatalf("at %v: %d takes allowed, want %d", now.Sub(t0), allowed, want)
		}
	}
	round(t0, burst)     // a full bucket: burst takes
	round(t0, 0)         // empty
	round(at(iv), 1)     // one token back
	round(at(3*iv/2), 0) // not yet another
	round(at(time.Hour), burst)
}
