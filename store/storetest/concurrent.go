// The tests of several workers and replicas at once.

package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dingbot/dingbot/store"
)

func testConcurrentClaim(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	s2 := open(t)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range 20 {
		wg.Go(func() {
			st := s
			if i%2 == 1 {
				st = s2
			}
			ok, it, err := st.Claim(ctx, "same", []byte(fmt.Sprintf(`{"n":%d}`, i)), "", t0, lease)
			if err != nil {
				t.Errorf("Claim: %v", err)
				return
			}
			if !ok && (it == nil || it.MsgID != "same") {
				t.Errorf("losing Claim returned %+v", it)
			}
			mu.Lock()
			if ok {
				wins++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d Claims won, want exactly 1", wins)
	}
}

func testConcurrentNext(t *testing.T, open func(t *testing.T) store.Store) {
	// Two Store instances on one database, like two replicas.
	stores := []store.Store{open(t), open(t)}
	const items = 50
	for i := range items {
		claim(t, stores[0], fmt.Sprintf("m%02d", i), at(time.Duration(i)*time.Millisecond))
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		leased = map[string][]string{}
	)
	for w := range 10 {
		wg.Go(func() {
			s := stores[w%2]
			owner := fmt.Sprintf("w%d", w)
			for {
				it, err := s.Next(ctx, owner, at(time.Second), lease)
				if err != nil {
					t.Errorf("Next(%s): %v", owner, err)
					return
				}
				if it == nil {
					return
				}
				if it.Owner != owner {
					t.Errorf("Next(%s) returned owner %q", owner, it.Owner)
				}
				mu.Lock()
				leased[it.MsgID] = append(leased[it.MsgID], owner)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(leased) != items {
		t.Fatalf("%d items leased, want %d", len(leased), items)
	}
	for id, owners := range leased {
		if len(owners) != 1 {
			t.Fatalf("%s leased %d times: %v", id, len(owners), owners)
		}
		if it := get(t, stores[1], id); it.Owner != owners[0] {
			t.Fatalf("%s owner %q, leased by %v", id, it.Owner, owners)
		}
	}
}

func testConcurrentExpireAndReply(t *testing.T, open func(t *testing.T) store.Store) {
	stores := []store.Store{open(t), open(t)}
	const items = 30
	for i := range items {
		id := fmt.Sprintf("m%02d", i)
		claim(t, stores[0], id, t0)
		next(t, stores[0], "dead", t0, id)
		if err := stores[0].MarkCalling(ctx, id, "dead", t0); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		expired = map[string]int{}
	)
	for w := range 6 {
		wg.Go(func() {
			got, err := stores[w%2].ExpireCalling(ctx, at(time.Hour))
			if err != nil {
				t.Errorf("ExpireCalling: %v", err)
			}
			mu.Lock()
			for _, it := range got {
				expired[it.MsgID]++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(expired) != items {
		t.Fatalf("%d items expired, want %d", len(expired), items)
	}
	for id, n := range expired {
		if n != 1 {
			t.Fatalf("%s returned by %d ExpireCalling calls", id, n)
		}
	}
	// Exactly one of many concurrent senders may post the reply.
	var sending int
	for w := range 10 {
		wg.Go(func() {
			ok, err := stores[w%2].SetReplyState(ctx, "m00", store.ReplySending, at(time.Hour))
			if err != nil {
				t.Errorf("SetReplyState: %v", err)
			}
			if ok {
				mu.Lock()
				sending++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if sending != 1 {
		t.Fatalf("%d SetReplyState(sending) succeeded, want 1", sending)
	}
}
