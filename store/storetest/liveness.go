// The liveness and limits tests: heartbeats, the takeover of dead owners'
// items, the renewal of listed items, the database's clock and the shared
// rate-limit slots.

package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dingbot/dingbot/store"
)

// claimHeld makes an item id received at now, held by owner until now+lease.
func claimHeld(t *testing.T, s store.Store, id, owner string, now time.Time) {
	t.Helper()
	if ok, _, err := s.Claim(ctx, id, []byte(`{"text":"`+id+`"}`), owner, now, lease); !ok || err != nil {
		t.Fatalf("Claim(%s, %s) = %v, %v", id, owner, ok, err)
	}
}

// calling makes an item id received at now, held by owner and marked calling.
func calling(t *testing.T, s store.Store, id, owner string, now time.Time) {
	t.Helper()
	claimHeld(t, s, id, owner, now)
	if err := s.MarkCalling(ctx, id, owner, now); err != nil {
		t.Fatalf("MarkCalling(%s): %v", id, err)
	}
}

// heartbeat records owner alive until until.
func heartbeat(t *testing.T, s store.Store, owner string, until time.Time) {
	t.Helper()
	if err := s.Heartbeat(ctx, owner, until); err != nil {
		t.Fatalf("Heartbeat(%s): %v", owner, err)
	}
}

// releaseDead calls ReleaseDead and wants released items given back and
// the items expired (by msgID, in any order) turned unknown at now.
func releaseDead(t *testing.T, s store.Store, now, deadBefore time.Time, released int, expired ...string) {
	t.Helper()
	n, got, err := s.ReleaseDead(ctx, now, deadBefore)
	if err != nil {
		t.Fatalf("ReleaseDead(%v, %v): %v", now.Sub(t0), deadBefore.Sub(t0), err)
	}
	var ids []string
	for _, it := range got {
		ids = append(ids, it.MsgID)
		if it.State != store.Unknown || it.Owner != "" || !it.LeaseUntil.IsZero() || !it.UpdatedAt.Equal(now) {
			t.Errorf("ReleaseDead returned %+v, want it unknown, unheld, updated at now", it)
		}
	}
	slices.Sort(ids)
	want := slices.Sorted(slices.Values(expired))
	if n != released || !slices.Equal(ids, want) {
		t.Fatalf("ReleaseDead(%v, %v) = %d, %v; want %d, %v", now.Sub(t0), deadBefore.Sub(t0), n, ids, released, want)
	}
}

// wantHeld wants item id in state st, held by owner until until.
func wantHeld(t *testing.T, s store.Store, id string, st store.State, owner string, until time.Time) {
	t.Helper()
	if it := get(t, s, id); it.State != st || it.Owner != owner || !it.LeaseUntil.Equal(until) {
		t.Fatalf("%s = %+v; want %s held by %q until %v", id, it, st, owner, until.Sub(t0))
	}
}

func testReleaseDead(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	heartbeat(t, s, "dead", at(time.Second)) // replaced by the next heartbeat
	heartbeat(t, s, "dead", at(5*time.Second))
	heartbeat(t, s, "live", at(time.Minute))
	for _, owner := range []string{"dead", "live", "ghost"} { // ghost never heartbeats
		claimHeld(t, s, owner+"-recv", owner, t0)
		calling(t, s, owner+"-call", owner, t0)
	}
	claim(t, s, "free", at(time.Second))

	// Alive until 5s: nothing is taken from dead before then.
	releaseDead(t, s, at(5*time.Second-time.Millisecond), t0, 0)
	// Dead at 5s (at or before now): its received item is given back at
	// once, its calling one not while deadBefore is earlier than its death.
	releaseDead(t, s, at(5*time.Second), at(5*time.Second-time.Millisecond), 1)
	if it := get(t, s, "dead-recv"); it.State != store.Received || it.Owner != "" || !it.LeaseUntil.IsZero() || !it.UpdatedAt.Equal(t0) {
		t.Fatalf("released item: %+v", it)
	}
	wantHeld(t, s, "dead-call", store.Calling, "dead", at(lease))
	// Another worker takes it over long before its lease would have run out.
	next(t, s, "w2", at(6*time.Second), "dead-recv")
	next(t, s, "w2", at(6*time.Second), "free")
	next(t, s, "w2", at(6*time.Second), "")
	wantErr(t, "MarkCalling by the dead owner", s.MarkCalling(ctx, "dead-recv", "dead", at(6*time.Second)), store.ErrLeaseLost)

	// Once deadBefore reaches its death, the calling item turns unknown, once.
	releaseDead(t, s, at(6*time.Second), at(5*time.Second), 0, "dead-call")
	releaseDead(t, s, at(7*time.Second), at(6*time.Second), 0)
	wantErr(t, "Finish by the dead owner", s.Finish(ctx, store.Outcome{MsgID: "dead-call", Owner: "dead", State: store.Done, Now: at(7 * time.Second)}), store.ErrLeaseLost)

	// The live owner's and the ghost's items are untouched.
	wantHeld(t, s, "live-recv", store.Received, "live", at(lease))
	wantHeld(t, s, "live-call", store.Calling, "live", at(lease))
	wantHeld(t, s, "ghost-recv", store.Received, "ghost", at(lease))
	wantHeld(t, s, "ghost-call", store.Calling, "ghost", at(lease))
	wantHeld(t, s, "dead-recv", store.Received, "w2", at(6*time.Second+lease))

	// Much later live is dead too (its leases ran out as well); the ghost,
	// which never heartbeat, is judged by its leases alone: ReleaseDead
	// leaves its items to Next and ExpireCalling.
	releaseDead(t, s, at(time.Hour), at(time.Hour), 1, "live-call")
	wantHeld(t, s, "live-recv", store.Received, "", time.Time{})
	wantHeld(t, s, "ghost-recv", store.Received, "ghost", at(lease))
	wantHeld(t, s, "ghost-call", store.Calling, "ghost", at(lease))
	// (w2 never heartbeat: dead-recv, whose lease ran out, is left too.)
	wantHeld(t, s, "dead-recv", store.Received, "w2", at(6*time.Second+lease))

	// A new heartbeat makes an owner alive again.
	heartbeat(t, s, "dead", at(2*time.Hour))
	claimHeld(t, s, "again", "dead", at(time.Hour))
	releaseDead(t, s, at(time.Hour+time.Second), at(time.Hour+time.Second), 0)
	wantHeld(t, s, "again", store.Received, "dead", at(time.Hour+lease))

	if err := s.Heartbeat(ctx, "", at(time.Hour)); err == nil {
		t.Fatal("Heartbeat with empty owner succeeded")
	}
}

func testRetire(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	heartbeat(t, s, "r", at(time.Hour))
	heartbeat(t, s, "stays", at(time.Hour))
	for _, owner := range []string{"r", "stays", "never"} { // never heartbeat before retiring
		claimHeld(t, s, owner+"-recv", owner, t0)
		calling(t, s, owner+"-call", owner, t0)
	}
	releaseDead(t, s, at(time.Second), t0, 0)
	for _, owner := range []string{"r", "never"} {
		if err := s.Retire(ctx, owner); err != nil {
			t.Fatalf("Retire(%s): %v", owner, err)
		}
	}
	if err := s.Retire(ctx, "r"); err != nil {
		t.Fatalf("second Retire: %v", err)
	}
	// Dead at once, whatever its heartbeat said: the next ReleaseDead takes
	// over its received items and expires its calling ones.
	releaseDead(t, s, at(time.Second), t0, 2, "r-call", "never-call")
	for _, id := range []string{"r-recv", "never-recv"} {
		wantHeld(t, s, id, store.Received, "", time.Time{})
	}
	wantHeld(t, s, "stays-recv", store.Received, "stays", at(lease))
	wantHeld(t, s, "stays-call", store.Calling, "stays", at(lease))
	next(t, open(t), "w2", at(time.Second), "never-recv")
	next(t, s, "w2", at(time.Second), "r-recv")

	if err := s.Retire(ctx, ""); err == nil {
		t.Fatal("Retire with empty owner succeeded")
	}
}

func testRenewItems(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	claim(t, s, "d", at(-time.Millisecond))
	for _, id := range []string{"a", "b", "c", "e", "f"} {
		claim(t, s, id, t0)
	}
	next(t, s, "w1", t0, "d") // until 30s
	next(t, s, "w1", at(10*time.Second), "a")
	next(t, s, "w1", at(10*time.Second), "b")
	next(t, s, "w1", at(10*time.Second), "c")
	next(t, s, "w1", at(10*time.Second), "e")
	next(t, s, "w2", t0, "f")
	if err := s.MarkCalling(ctx, "b", "w1", at(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, store.Outcome{MsgID: "c", Owner: "w1", State: store.Done, Now: at(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	next(t, s, "w3", at(lease+time.Millisecond), "d") // w1 no longer holds d
	now := at(20 * time.Second)
	// a (received) and b (calling) are renewed; c is finished, d and f
	// are held by others, e is not listed, "missing" is not stored.
	n, err := s.RenewItems(ctx, "w1", []string{"a", "b", "c", "d", "f", "missing", "a"}, now, lease)
	if err != nil || n != 2 {
		t.Fatalf("RenewItems(w1) = %d, %v; want 2 (a received, b calling)", n, err)
	}
	wantHeld(t, s, "a", store.Received, "w1", now.Add(lease))
	wantHeld(t, s, "b", store.Calling, "w1", now.Add(lease))
	if it := get(t, s, "a"); !it.UpdatedAt.Equal(now) {
		t.Fatalf("a after RenewItems: %+v", it)
	}
	wantHeld(t, s, "c", store.Done, "", time.Time{})
	wantHeld(t, s, "d", store.Received, "w3", at(2*lease+time.Millisecond))
	wantHeld(t, s, "e", store.Received, "w1", at(10*time.Second+lease))
	wantHeld(t, s, "f", store.Received, "w2", at(lease))
	for _, ids := range [][]string{nil, {}} {
		if n, err := s.RenewItems(ctx, "w1", ids, now, lease); n != 0 || err != nil {
			t.Fatalf("RenewItems(w1, %#v) = %d, %v", ids, n, err)
		}
	}
	if _, err := s.RenewItems(ctx, "", []string{"a"}, now, lease); err == nil {
		t.Fatal("RenewItems with empty owner succeeded")
	}
	// The unlisted e runs out and another worker takes it (and w2's f); a does not.
	next(t, s, "w4", at(lease+11*time.Second), "e")
	next(t, s, "w4", at(lease+11*time.Second), "f")
	next(t, s, "w4", at(lease+11*time.Second), "")

	// A long list: every listed item is renewed, wherever it is in it.
	var ids []string
	for i := range 1100 {
		ids = append(ids, fmt.Sprintf("x%04d", i))
	}
	for _, id := range []string{"x0000", "x0511", "x0512", "x0600", "x1099"} {
		claimHeld(t, s, id, "w5", t0)
	}
	claimHeld(t, s, "x0700", "w6", t0)
	later := at(time.Minute)
	if n, err := s.RenewItems(ctx, "w5", ids, later, lease); n != 5 || err != nil {
		t.Fatalf("RenewItems(w5, 1100 ids) = %d, %v; want 5", n, err)
	}
	for _, id := range []string{"x0000", "x0511", "x0512", "x0600", "x1099"} {
		wantHeld(t, s, id, store.Received, "w5", later.Add(lease))
	}
	wantHeld(t, s, "x0700", store.Received, "w6", at(lease))
}

func testClock(t *testing.T, open func(t *testing.T) store.Store) {
	s, s2 := open(t), open(t)
	for _, st := range []store.Store{s, s2} {
		before := time.Now()
		c, err := st.Clock(ctx)
		after := time.Now()
		if err != nil {
			t.Fatalf("Clock: %v", err)
		}
		// The database may run on another host; its clock is close to ours.
		if c.Before(before.Add(-5*time.Second)) || c.After(after.Add(5*time.Second)) {
			t.Fatalf("Clock = %v, local clock %v … %v", c, before, after)
		}
	}
}

func testTakeSlot(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	const spacing = 100 * time.Millisecond
	take := func(st store.Store, name string, now, want time.Time) {
		t.Helper()
		got, err := st.TakeSlot(ctx, name, spacing, now)
		if err != nil || !got.Equal(want) {
			t.Fatalf("TakeSlot(%s, %v) = %v, %v; want %v", name, now.Sub(t0), got.Sub(t0), err, want.Sub(t0))
		}
	}
	take(s, "a", t0, t0) // the first slot is now
	take(s, "a", t0, at(spacing))
	take(s, "a", at(50*time.Millisecond), at(2*spacing))
	take(s, "a", at(250*time.Millisecond), at(3*spacing))
	take(s, "b", at(10*time.Millisecond), at(10*time.Millisecond)) // another limit
	// After idle time the slot is now, never earlier.
	take(s, "a", at(time.Minute), at(time.Minute))
	take(s, "a", at(time.Minute+150*time.Millisecond), at(time.Minute+150*time.Millisecond))
	// A process whose clock is behind still gets the next free slot.
	take(open(t), "a", at(time.Minute), at(time.Minute+250*time.Millisecond))
	take(s, "b", at(10*time.Millisecond), at(10*time.Millisecond+spacing))

	if _, err := s.TakeSlot(ctx, "", spacing, t0); err == nil {
		t.Fatal("TakeSlot with empty name succeeded")
	}
	for _, d := range []time.Duration{0, -time.Second} {
		if _, err := s.TakeSlot(ctx, "a", d, t0); err == nil {
			t.Fatalf("TakeSlot with spacing %v succeeded", d)
		}
	}
	// A refused call took no slot.
	take(s, "a", at(time.Minute), at(time.Minute+350*time.Millisecond))
}

func testPruneOwners(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	heartbeat(t, s, "gone", at(time.Minute))    // ran out before the cutoff, holds nothing
	heartbeat(t, s, "holding", at(time.Minute)) // ran out before the cutoff, still holds k
	heartbeat(t, s, "recent", at(2*time.Hour))  // runs out after the cutoff
	heartbeat(t, s, "cutoff", at(time.Hour))    // runs out at the cutoff
	claimHeld(t, s, "k", "holding", t0)
	if n, err := s.Prune(ctx, at(time.Hour)); n != 0 || err != nil {
		t.Fatalf("Prune = %d, %v; want 0 (no finished item)", n, err)
	}
	// gone's heartbeat is forgotten: its items are judged by their leases
	// alone again, like those of an owner that never heartbeat. The others
	// are still dead.
	now := at(2*time.Hour + time.Second)
	for _, owner := range []string{"gone", "recent", "cutoff"} {
		claimHeld(t, s, owner+"-item", owner, at(2*time.Hour))
	}
	releaseDead(t, s, now, now, 3)
	wantHeld(t, s, "gone-item", store.Received, "gone", at(2*time.Hour+lease))
	for _, id := range []string{"k", "recent-item", "cutoff-item"} {
		wantHeld(t, s, id, store.Received, "", time.Time{})
	}
	// holding holds nothing now: the next Prune forgets it.
	if _, err := s.Prune(ctx, at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	claimHeld(t, s, "k2", "holding", at(2*time.Hour))
	releaseDead(t, s, now, now, 0)
	wantHeld(t, s, "k2", store.Received, "holding", at(2*time.Hour+lease))
}

func testConcurrentReleaseDead(t *testing.T, open func(t *testing.T) store.Store) {
	stores := []store.Store{open(t), open(t)}
	heartbeat(t, stores[0], "dead", at(time.Second))
	const items = 30
	for i := range items {
		calling(t, stores[0], fmt.Sprintf("c%02d", i), "dead", t0)
		claimHeld(t, stores[1], fmt.Sprintf("r%02d", i), "dead", t0)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		released int
		expired  = map[string]int{}
	)
	for w := range 6 {
		wg.Go(func() {
			n, got, err := stores[w%2].ReleaseDead(ctx, at(time.Minute), at(time.Minute))
			if err != nil {
				t.Errorf("ReleaseDead: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			released += n
			for _, it := range got {
				expired[it.MsgID]++
			}
		})
	}
	wg.Wait()
	if released != items || len(expired) != items {
		t.Fatalf("%d items released, %d expired; want %d each", released, len(expired), items)
	}
	for id, n := range expired {
		if n != 1 {
			t.Fatalf("%s returned by %d ReleaseDead calls", id, n)
		}
	}
}

func testConcurrentTakeSlot(t *testing.T, open func(t *testing.T) store.Store) {
	stores := []store.Store{open(t), open(t)}
	const (
		workers = 8
		each    = 25
		spacing = 10 * time.Millisecond
	)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		slots []time.Time
	)
	for w := range workers {
		wg.Go(func() {
			for range each {
				slot, err := stores[w%2].TakeSlot(ctx, "create", spacing, t0)
				if err != nil {
					t.Errorf("TakeSlot: %v", err)
					return
				}
				mu.Lock()
				slots = append(slots, slot)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(slots) != workers*each {
		t.Fatalf("%d slots taken, want %d", len(slots), workers*each)
	}
	slices.SortFunc(slots, time.Time.Compare)
	// Every slot distinct and spacing apart: exactly t0, t0+spacing, …
	for i, slot := range slots {
		if want := at(time.Duration(i) * spacing); !slot.Equal(want) {
			t.Fatalf("slot %d = %v, want %v (slots %v)", i, slot.Sub(t0), want.Sub(t0), slots)
		}
	}
}

// testReleaseDeadReplies: a reply whose poster died after Finish (marked
// sending, never sent) becomes unattempted again once the poster's
// heartbeat has run out, so Unreplied offers it; a live poster's reply and a
// sent one are left alone.
func testReleaseDeadReplies(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	for _, c := range []struct{ id, owner string }{{"dead-reply", "w-dead"}, {"live-reply", "w-live"}, {"sent-reply", "w-dead"}} {
		if _, _, err := s.Claim(ctx, c.id, []byte("{}"), c.owner, t0, lease); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, store.Outcome{MsgID: c.id, Owner: c.owner, State: store.Done, Reply: "r", Now: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SetReplyState(ctx, "sent-reply", store.ReplySent, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(ctx, "w-dead", at(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(ctx, "w-live", at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, _, err := s.ReleaseDead(ctx, t0, t0.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("ReleaseDead while both live = %d, %v", n, err)
	}
	// Dead at now but not yet at deadBefore: a held-up live process could still post it.
	if n, _, err := s.ReleaseDead(ctx, at(2*time.Second), t0); err != nil || n != 0 {
		t.Fatalf("ReleaseDead before deadBefore passes the heartbeat = %d, %v; want 0", n, err)
	}
	n, _, err := s.ReleaseDead(ctx, at(2*time.Second), at(time.Second))
	if err != nil || n != 1 {
		t.Fatalf("ReleaseDead = %d, %v; want the dead poster's reply", n, err)
	}
	un, err := s.Unreplied(ctx, 10)
	if err != nil || len(un) != 1 || un[0].MsgID != "dead-reply" || un[0].ReplyState != store.ReplyNone {
		t.Fatalf("Unreplied = %+v, %v; want dead-reply only", un, err)
	}
	if ok, err := s.SetReplyState(ctx, "dead-reply", store.ReplySending, at(3*time.Second)); !ok || err != nil {
		t.Fatalf("taking the reply to post = %v, %v", ok, err)
	}
	for id, want := range map[string]store.ReplyState{"live-reply": store.ReplySending, "sent-reply": store.ReplySent} {
		if it, err := s.Get(ctx, id); err != nil || it.ReplyState != want {
			t.Fatalf("%s = %+v, %v; want reply state %q", id, it, err, want)
		}
	}
}
