// The inbox tests: claiming, leasing, the call mark, release, renewal and expiry.

package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/dingbot/dingbot/store"
)

func testClaimHeld(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ok, it, err := s.Claim(ctx, "h", []byte(`{}`), "w1", t0, lease)
	if err != nil || !ok || it.Owner != "w1" || !it.LeaseUntil.Equal(at(lease)) || it.State != store.Received {
		t.Fatalf("held Claim = %v, %+v, %v", ok, it, err)
	}
	if got := get(t, s, "h"); got.Owner != "w1" || !got.LeaseUntil.Equal(at(lease)) {
		t.Fatalf("stored held item: %+v", got)
	}
	// Nobody else takes it while the lease lasts; the holder runs it without Next.
	next(t, s, "w2", at(lease), "")
	if err := s.MarkCalling(ctx, "h", "w1", at(time.Second)); err != nil {
		t.Fatalf("MarkCalling by the claimer: %v", err)
	}
	// A held claim of a process that died is taken over after the lease.
	claim2 := func(id, owner string) {
		t.Helper()
		if ok, _, err := s.Claim(ctx, id, []byte(`{}`), owner, t0, lease); !ok || err != nil {
			t.Fatalf("Claim(%s) = %v, %v", id, ok, err)
		}
	}
	claim2("dead", "w9")
	next(t, s, "w2", at(lease), "")
	next(t, s, "w2", at(lease+time.Millisecond), "dead")
	// A duplicate held claim does not change the holder.
	if ok, it, err := s.Claim(ctx, "dead", []byte(`{}`), "w3", at(time.Hour), lease); ok || err != nil || it.Owner != "w2" {
		t.Fatalf("duplicate held Claim = %v, %+v, %v", ok, it, err)
	}
}

func testNextOrder(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	// Oldest first among the items nobody holds: one whose holder died
	// (its lease ran out) and ones never held; an item leased right now
	// is skipped even though it is the oldest.
	if ok, _, err := s.Claim(ctx, "live", []byte(`{}`), "w8", at(-time.Second), 2*lease); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, _, err := s.Claim(ctx, "expired", []byte(`{}`), "w9", t0, lease); !ok || err != nil {
		t.Fatal(ok, err)
	}
	claim(t, s, "fresher", at(20*time.Second))
	claim(t, s, "fresh", at(10*time.Second))
	now := at(lease + time.Second)
	next(t, s, "w1", now, "expired")
	next(t, s, "w1", now, "fresh")
	next(t, s, "w1", now, "fresher")
	next(t, s, "w1", now, "")
}

func testClaimAndGet(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ok, it, err := s.Claim(ctx, "m1", []byte(`{"a":1}`), "", t0, lease)
	if err != nil || !ok {
		t.Fatalf("first Claim = %v, %v", ok, err)
	}
	if it == nil || it.MsgID != "m1" || it.State != store.Received {
		t.Fatalf("first Claim item = %+v", it)
	}
	ok, it, err = s.Claim(ctx, "m1", []byte(`{"a":2}`), "", at(time.Second), lease)
	if err != nil || ok {
		t.Fatalf("second Claim = %v, %v; want false", ok, err)
	}
	if it == nil || string(it.Message) != `{"a":1}` || it.State != store.Received || !it.ReceivedAt.Equal(t0) {
		t.Fatalf("second Claim returned %+v, want the first message", it)
	}
	got := get(t, s, "m1")
	want := store.Item{MsgID: "m1", Message: []byte(`{"a":1}`), State: store.Received, ReceivedAt: t0, UpdatedAt: t0}
	if got.MsgID != want.MsgID || string(got.Message) != string(want.Message) || got.State != want.State ||
		got.Reply != "" || got.ReplyState != store.ReplyNone || got.Owner != "" || !got.LeaseUntil.IsZero() ||
		!got.ReceivedAt.Equal(t0) || !got.UpdatedAt.Equal(t0) {
		t.Fatalf("Get = %+v, want %+v", got, want)
	}
	_, err = s.Get(ctx, "nope")
	wantErr(t, "Get(nope)", err, store.ErrNotFound)
	if _, _, err := s.Claim(ctx, "", nil, "", t0, lease); err == nil {
		t.Fatal("Claim with empty msgID succeeded")
	}
}

func testNextOrderLeaseAndTakeover(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	if it, err := s.Next(ctx, "w1", t0, lease); it != nil || err != nil {
		t.Fatalf("Next on empty inbox = %v, %v", it, err)
	}
	claim(t, s, "c", at(time.Millisecond))
	claim(t, s, "b", at(time.Millisecond))
	claim(t, s, "a", t0)
	it := next(t, s, "w1", at(time.Second), "a") // oldest first
	if it.Owner != "w1" || !it.LeaseUntil.Equal(at(time.Second+lease)) || it.State != store.Received || !it.UpdatedAt.Equal(at(time.Second)) {
		t.Fatalf("leased item = %+v", it)
	}
	next(t, s, "w2", at(time.Second), "b") // same received_at: msg_id order
	next(t, s, "w3", at(time.Second), "c")
	next(t, s, "w4", at(2*time.Second), "") // all leased
	// At the exact expiry instant the lease still holds (lease_until < now).
	next(t, s, "w4", at(time.Second+lease), "")
	// After expiry another worker takes the oldest over.
	it = next(t, s, "w4", at(time.Second+lease+time.Millisecond), "a")
	if it.Owner != "w4" {
		t.Fatalf("takeover owner = %q", it.Owner)
	}
	wantErr(t, "MarkCalling by the old owner", s.MarkCalling(ctx, "a", "w1", at(time.Second+lease+2*time.Millisecond)), store.ErrLeaseLost)
	late := store.Outcome{MsgID: "a", Owner: "w1", State: store.Done, Reply: "x", Now: at(time.Second + lease + 2*time.Millisecond)}
	wantErr(t, "Finish by the old owner", s.Finish(ctx, late), store.ErrLeaseLost)
	wantErr(t, "Release by the old owner", s.Release(ctx, "a", "w1"), store.ErrLeaseLost)
	// Next never takes calling or finished items, even with expired leases.
	if err := s.MarkCalling(ctx, "b", "w2", at(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, store.Outcome{MsgID: "c", Owner: "w3", State: store.Done, Reply: "ok", Now: at(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	next(t, s, "w5", at(time.Hour), "a") // a's lease (w4) expired too; b calling, c done
	next(t, s, "w6", at(time.Hour), "")
	if _, err := s.Next(ctx, "", t0, lease); err == nil {
		t.Fatal("Next with empty owner succeeded")
	}
}

func testMarkCalling(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	claim(t, s, "m", t0)
	wantErr(t, "MarkCalling of an unleased item", s.MarkCalling(ctx, "m", "w1", t0), store.ErrLeaseLost)
	next(t, s, "w1", t0, "m")
	wantErr(t, "MarkCalling by another owner", s.MarkCalling(ctx, "m", "w2", t0), store.ErrLeaseLost)
	wantErr(t, "MarkCalling of a missing item", s.MarkCalling(ctx, "zz", "w1", t0), store.ErrNotFound)
	wantErr(t, "MarkCalling after the lease ran out", s.MarkCalling(ctx, "m", "w1", at(lease+time.Millisecond)), store.ErrLeaseLost)
	if err := s.MarkCalling(ctx, "", "w1", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("MarkCalling of empty msgID: %v", err)
	}
	if err := s.MarkCalling(ctx, "m", "", t0); err == nil {
		t.Fatal("MarkCalling with empty owner succeeded")
	}
	if err := s.MarkCalling(ctx, "m", "w1", at(time.Second)); err != nil {
		t.Fatal(err)
	}
	it := get(t, s, "m")
	if it.State != store.Calling || it.Owner != "w1" || !it.LeaseUntil.Equal(at(lease)) || !it.UpdatedAt.Equal(at(time.Second)) {
		t.Fatalf("after MarkCalling: %+v", it)
	}
	wantErr(t, "MarkCalling twice", s.MarkCalling(ctx, "m", "w1", at(time.Second)), store.ErrLeaseLost)
	wantErr(t, "Release of a calling item", s.Release(ctx, "m", "w1"), store.ErrLeaseLost)
}

func testRelease(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	claim(t, s, "m", t0)
	next(t, s, "w1", t0, "m")
	next(t, s, "w2", t0, "")
	wantErr(t, "Release by another owner", s.Release(ctx, "m", "w2"), store.ErrLeaseLost)
	wantErr(t, "Release of a missing item", s.Release(ctx, "zz", "w1"), store.ErrNotFound)
	if err := s.Release(ctx, "m", "w1"); err != nil {
		t.Fatal(err)
	}
	it := get(t, s, "m")
	if it.State != store.Received || it.Owner != "" || !it.LeaseUntil.IsZero() {
		t.Fatalf("after Release: %+v", it)
	}
	wantErr(t, "Release twice", s.Release(ctx, "m", "w1"), store.ErrLeaseLost)
	next(t, s, "w2", t0, "m") // at once available to others
	if err := s.Release(ctx, "m", ""); err == nil {
		t.Fatal("Release with empty owner succeeded")
	}
}

func testRenew(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	claim(t, s, "d", at(-time.Millisecond))
	for _, id := range []string{"a", "b", "c", "e"} {
		claim(t, s, id, t0)
	}
	next(t, s, "w1", t0, "d") // until 30s
	next(t, s, "w1", at(10*time.Second), "a")
	next(t, s, "w1", at(10*time.Second), "b")
	next(t, s, "w1", at(10*time.Second), "c")
	next(t, s, "w2", t0, "e")
	if err := s.MarkCalling(ctx, "b", "w1", at(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, store.Outcome{MsgID: "c", Owner: "w1", State: store.Done, Reply: "", Now: at(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	// d's lease runs out and w3 takes it over: w1 no longer holds it.
	next(t, s, "w3", at(lease+time.Millisecond), "d")
	n, err := s.Renew(ctx, "w1", at(10*time.Second), lease)
	if err != nil || n != 2 {
		t.Fatalf("Renew(w1) = %d, %v; want 2 (a received, b calling)", n, err)
	}
	for _, id := range []string{"a", "b"} {
		if it := get(t, s, id); !it.LeaseUntil.Equal(at(10*time.Second+lease)) || it.Owner != "w1" {
			t.Fatalf("%s after Renew: %+v", id, it)
		}
	}
	if it := get(t, s, "e"); !it.LeaseUntil.Equal(at(lease)) || it.Owner != "w2" {
		t.Fatalf("other owner's item changed by Renew: %+v", it)
	}
	if it := get(t, s, "d"); it.Owner != "w3" {
		t.Fatalf("taken-over item changed by Renew: %+v", it)
	}
	if n, err := s.Renew(ctx, "nobody", t0, lease); n != 0 || err != nil {
		t.Fatalf("Renew(nobody) = %d, %v", n, err)
	}
	if _, err := s.Renew(ctx, "", t0, lease); err == nil {
		t.Fatal("Renew with empty owner succeeded")
	}
	// The renewed lease keeps others off: after the old expiry only w2's
	// unrenewed e is free, not w1's a.
	next(t, s, "w4", at(lease+time.Second), "e")
	next(t, s, "w4", at(lease+time.Second), "")
}

func testExpireCalling(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	for _, id := range []string{"fresh", "old", "recv"} {
		claim(t, s, id, t0)
	}
	next(t, s, "w2", at(10*time.Second), "fresh") // leased until 40s
	next(t, s, "w1", t0, "old")                   // until 30s
	next(t, s, "w1", t0, "recv")                  // until 30s, stays received
	if err := s.MarkCalling(ctx, "old", "w1", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkCalling(ctx, "fresh", "w2", at(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ExpireCalling(ctx, at(lease)); len(got) != 0 || err != nil {
		t.Fatalf("ExpireCalling at the expiry instant = %v, %v", got, err)
	}
	now := at(35 * time.Second)
	got, err := s.ExpireCalling(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].MsgID != "old" || got[0].State != store.Unknown || got[0].Owner != "" {
		t.Fatalf("ExpireCalling = %+v, want old as unknown", got)
	}
	if it := get(t, s, "old"); it.State != store.Unknown || it.Owner != "" || !it.LeaseUntil.IsZero() || !it.UpdatedAt.Equal(now) {
		t.Fatalf("old after ExpireCalling: %+v", it)
	}
	if it := get(t, s, "fresh"); it.State != store.Calling || it.Owner != "w2" {
		t.Fatalf("unexpired calling item changed: %+v", it)
	}
	if it := get(t, s, "recv"); it.State != store.Received || it.Owner != "w1" {
		t.Fatalf("expired received item changed by ExpireCalling: %+v", it)
	}
	if got, err := s.ExpireCalling(ctx, now); len(got) != 0 || err != nil {
		t.Fatalf("second ExpireCalling = %v, %v", got, err)
	}
	wantErr(t, "Finish after ExpireCalling", s.Finish(ctx, store.Outcome{MsgID: "old", Owner: "w1", State: store.Done, Reply: "", Now: now}), store.ErrLeaseLost)
	if got, err := s.ExpireCalling(ctx, at(time.Hour)); len(got) != 1 || got[0].MsgID != "fresh" || err != nil {
		t.Fatalf("ExpireCalling later = %+v, %v", got, err)
	}
}
