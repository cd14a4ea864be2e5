// The callback signature tests.

package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dingbot/dingbot/store"
)

func testAdmitSigned(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	exp := at(5 * time.Minute)
	admit := func(t *testing.T, s store.Store, key, id string, expires, now time.Time, want bool) {
		t.Helper()
		ok, err := s.AdmitSigned(ctx, key, id, 3, expires, now)
		if err != nil || ok != want {
			t.Fatalf("AdmitSigned(%s, %s, now %v) = %v, %v; want %v", key, id, now.Sub(t0), ok, err, want)
		}
	}
	for _, id := range []string{"a", "b", "c"} {
		admit(t, s, "k1", id, exp, t0, true)
	}
	admit(t, s, "k1", "d", exp, t0, false) // the bound
	admit(t, s, "k1", "d", exp, t0, false) // a refused msgId is not recorded either
	// A redelivery is admitted, also with another expiry, and not counted.
	admit(t, s, "k1", "b", exp.Add(time.Hour), at(time.Minute), true)
	admit(t, s, "k1", "b", exp, at(time.Minute), true)
	admit(t, s, "k1", "e", exp, at(time.Minute), false)
	// Keys are independent; another replica shares the counts.
	s2 := open(t)
	admit(t, s2, "k2", "d", exp, t0, true)
	admit(t, s2, "k1", "c", exp, t0, true)
	admit(t, s2, "k1", "f", exp, t0, false)
	// An entry counts until its expiry, not at it: at exp the key starts
	// afresh, and a msgId it recorded before is new again.
	admit(t, s, "k1", "g", exp, exp.Add(-time.Millisecond), false)
	late := exp.Add(5 * time.Minute)
	for _, id := range []string{"g", "a", "h"} {
		admit(t, s, "k1", id, late, exp, true)
	}
	admit(t, s, "k1", "i", late, exp, false)
	admit(t, s, "k1", "a", late, exp.Add(time.Minute), true)
	// Entries of a mixed age: only the live ones count.
	admit(t, s, "k3", "old", at(time.Second), t0, true)
	admit(t, s, "k3", "new1", late, t0, true)
	admit(t, s, "k3", "new2", late, at(time.Second), true)
	admit(t, s, "k3", "new3", late, at(time.Second), true) // old expired at 1s
	admit(t, s, "k3", "new4", late, at(time.Second), false)
	// An entry expired at now counts for nothing.
	admit(t, s, "k4", "x", t0, t0, true)
	admit(t, s, "k4", "x", at(time.Second), at(time.Millisecond), true)
	// max <= 0 admits nothing new.
	if ok, err := s.AdmitSigned(ctx, "k5", "x", 0, exp, t0); ok || err != nil {
		t.Fatalf("AdmitSigned with max 0 = %v, %v", ok, err)
	}
	for _, c := range [][2]string{{"", "x"}, {"k", ""}} {
		if _, err := s.AdmitSigned(ctx, c[0], c[1], 3, exp, t0); err == nil {
			t.Fatalf("AdmitSigned(%q, %q) succeeded", c[0], c[1])
		}
	}

	// PruneSigned deletes what expired at now: k1's first entries
	// (expiring at exp; g, a and h were renewed to late), k2's, k3's old
	// and k4's x.
	if n, err := s.PruneSigned(ctx, exp.Add(-time.Millisecond)); n != 2 || err != nil { // k3's old, k4's x
		t.Fatalf("PruneSigned before exp = %d, %v; want 2", n, err)
	}
	if n, err := s2.PruneSigned(ctx, exp); n != 3 || err != nil { // k1's b and c, k2's d
		t.Fatalf("PruneSigned at exp = %d, %v; want 3", n, err)
	}
	if n, err := s.PruneSigned(ctx, exp); n != 0 || err != nil {
		t.Fatalf("second PruneSigned = %d, %v", n, err)
	}
	// The live entries stay and still count.
	admit(t, s, "k1", "j", late, exp, false)
	admit(t, s, "k1", "h", late, exp, true)
	if n, err := s.PruneSigned(ctx, late); n != 6 || err != nil { // k1's g, a, h; k3's new1-3
		t.Fatalf("PruneSigned at late = %d, %v; want 6", n, err)
	}
	// Pruning does not change what is admitted, only the table's size.
	admit(t, s, "k1", "j", late.Add(time.Minute), late, true)
}

func testConcurrentAdmitSigned(t *testing.T, open func(t *testing.T) store.Store) {
	// Two Store instances on one database, like two replicas; several
	// keys at once, each with 20 distinct msgIds and redeliveries.
	stores := []store.Store{open(t), open(t)}
	const (
		keys  = 4
		calls = 20
		bound = 8
	)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		admitted = map[string]map[string]bool{}
	)
	for k := range keys {
		admitted[fmt.Sprintf("key%d", k)] = map[string]bool{}
	}
	for k := range keys {
		key := fmt.Sprintf("key%d", k)
		for i := range calls {
			wg.Go(func() {
				id := fmt.Sprintf("m%02d", i)
				s := stores[(i+k)%2]
				ok, err := s.AdmitSigned(ctx, key, id, bound, at(time.Minute), t0)
				if err != nil {
					t.Errorf("AdmitSigned(%s, %s): %v", key, id, err)
					return
				}
				if ok {
					mu.Lock()
					admitted[key][id] = true
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for key, ids := range admitted {
		if len(ids) != bound {
			t.Fatalf("%s: %d distinct msgIds admitted, want exactly %d", key, len(ids), bound)
		}
	}
	// Concurrent redeliveries of the admitted msgIds are all admitted
	// and new ones still refused.
	var refused sync.Map
	for key, ids := range admitted {
		for id := range ids {
			for i := range 2 {
				wg.Go(func() {
					if ok, err := stores[i].AdmitSigned(ctx, key, id, bound, at(time.Minute), at(time.Second)); !ok || err != nil {
						t.Errorf("redelivery AdmitSigned(%s, %s) = %v, %v", key, id, ok, err)
					}
				})
			}
		}
		wg.Go(func() {
			if ok, err := stores[1].AdmitSigned(ctx, key, "new", bound, at(time.Minute), at(time.Second)); ok || err != nil {
				refused.Store(key, fmt.Sprint(ok, err))
			}
		})
	}
	wg.Wait()
	refused.Range(func(k, v any) bool {
		t.Errorf("AdmitSigned(%s, new) past the bound = %s", k, v)
		return true
	})
}
