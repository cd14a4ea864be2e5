// The preview tests: previews waiting for a /confirm, their one-time
// settlement, expiry and pruning.

package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dingbot/dingbot/store"
)

// newPreview is a pending preview with code for the command msgID,
// created at t0 and expiring at expires.
func newPreview(code, msgID string, expires time.Time) store.Preview {
	return store.Preview{Code: code, MsgID: msgID, Command: "newgroup", Sender: "alice", ConversationID: "conv",
		Plan: []byte(`{"name":"` + msgID + `"}`), CreatedAt: t0, ExpiresAt: expires, State: store.PreviewPending}
}

// samePreview fails unless got is want, times compared as instants.
func samePreview(t *testing.T, what string, got *store.Preview, want store.Preview) {
	t.Helper()
	if got == nil || got.Code != want.Code || got.MsgID != want.MsgID || got.Command != want.Command ||
		got.Sender != want.Sender || got.ConversationID != want.ConversationID || string(got.Plan) != string(want.Plan) ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) || got.State != want.State ||
		got.SettledBy != want.SettledBy || !got.SettledAt.Equal(want.SettledAt) {
		t.Fatalf("%s = %+v, want %+v", what, got, want)
	}
}

// putPreview stores p, which must be new, and checks what is returned.
func putPreview(t *testing.T, s store.Store, p store.Preview) *store.Preview {
	t.Helper()
	got, err := s.PutPreview(ctx, p)
	if err != nil {
		t.Fatalf("PutPreview(%s, %s): %v", p.Code, p.MsgID, err)
	}
	samePreview(t, "PutPreview("+p.Code+")", got, p)
	return got
}

// lookup returns the preview code, which must exist.
func lookup(t *testing.T, s store.Store, code string) *store.Preview {
	t.Helper()
	p, err := s.Preview(ctx, code)
	if err != nil {
		t.Fatalf("Preview(%s): %v", code, err)
	}
	return p
}

// settle calls SettlePreview and wants ok and no error; it returns the preview.
func settle(t *testing.T, s store.Store, code string, state store.PreviewState, by string, now time.Time, want bool) *store.Preview {
	t.Helper()
	ok, p, err := s.SettlePreview(ctx, code, state, by, now)
	if err != nil || ok != want || p == nil {
		t.Fatalf("SettlePreview(%s, %s, %q, %v) = %v, %+v, %v; want %v", code, state, by, now.Sub(t0), ok, p, err, want)
	}
	return p
}

func testPutPreview(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	p1 := newPreview("K7QX", "m1", at(10*time.Minute))
	putPreview(t, s, p1)
	// An empty state means pending; a lower-case code is stored upper case.
	p2 := newPreview("m3zp", "m2", at(10*time.Minute))
	p2.State = ""
	got, err := s.PutPreview(ctx, p2)
	p2.Code, p2.State = "M3ZP", store.PreviewPending
	if err != nil {
		t.Fatal(err)
	}
	samePreview(t, "PutPreview(m3zp)", got, p2)
	samePreview(t, "Preview(M3ZP)", lookup(t, s, "M3ZP"), p2)
	// No plan is stored as an empty one.
	p3 := newPreview("NOPLAN", "m3", at(10*time.Minute))
	p3.Plan, p3.ConversationID, p3.CreatedAt = nil, "", time.Time{}
	putPreview(t, s, p3)

	// The same msgId again (the command ran again after a crash) returns
	// the stored preview unchanged, whatever else it asks, also from
	// another replica.
	s2 := open(t)
	for _, again := range []store.Preview{
		newPreview("ZZZZ", "m1", at(time.Hour)),
		newPreview("K7QX", "m1", at(time.Hour)),
		newPreview("m3zp", "m1", at(time.Hour)), // m2's code
	} {
		again.Plan, again.Sender = []byte(`{"other":true}`), "bob"
		got, err := s2.PutPreview(ctx, again)
		if err != nil {
			t.Fatalf("PutPreview(%s) of a stored msgId: %v", again.Code, err)
		}
		samePreview(t, "PutPreview("+again.Code+") of a stored msgId", got, p1)
	}
	_, err = s.Preview(ctx, "ZZZZ")
	wantErr(t, "Preview of a code not stored for a stored msgId", err, store.ErrNotFound)
	// Also once settled.
	settle(t, s, "K7QX", store.PreviewConfirmed, "c1", at(time.Minute), true)
	got, err = s.PutPreview(ctx, newPreview("YYYY", "m1", at(time.Hour)))
	if err != nil || got == nil || got.Code != "K7QX" || got.State != store.PreviewConfirmed || got.SettledBy != "c1" {
		t.Fatalf("PutPreview of a settled msgId = %+v, %v", got, err)
	}

	// Another msgId with a stored code (in any case) is refused.
	for _, code := range []string{"K7QX", "k7qx", "M3zP"} {
		_, err := s2.PutPreview(ctx, newPreview(code, "m9", at(time.Hour)))
		wantErr(t, "PutPreview("+code+") of a taken code", err, store.ErrCodeTaken)
	}
	_, err = s.Preview(ctx, "m9")
	wantErr(t, "Preview after ErrCodeTaken", err, store.ErrNotFound)
	putPreview(t, s, newPreview("FREE", "m9", at(time.Hour))) // another code is free

	// Invalid previews are refused before anything is written.
	for name, mod := range map[string]func(p *store.Preview){
		"no code":    func(p *store.Preview) { p.Code = "" },
		"no msgID":   func(p *store.Preview) { p.MsgID = "" },
		"no command": func(p *store.Preview) { p.Command = "" },
		"no sender":  func(p *store.Preview) { p.Sender = "" },
		"no expiry":  func(p *store.Preview) { p.ExpiresAt = time.Time{} },
		"confirmed":  func(p *store.Preview) { p.State = store.PreviewConfirmed },
		"expired":    func(p *store.Preview) { p.State = store.PreviewExpired },
		"bogus":      func(p *store.Preview) { p.State = "bogus" },
	} {
		bad := newPreview("BAD", "bad", at(time.Hour))
		mod(&bad)
		if got, err := s.PutPreview(ctx, bad); err == nil || errors.Is(err, store.ErrCodeTaken) {
			t.Fatalf("PutPreview with %s = %+v, %v; want an error", name, got, err)
		}
	}
	_, err = s.Preview(ctx, "BAD")
	wantErr(t, "Preview of a refused preview", err, store.ErrNotFound)
	putPreview(t, s, newPreview("BAD", "bad", at(time.Hour)))
}

func testPreviewLookup(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	_, err := s.Preview(ctx, "K7QX")
	wantErr(t, "Preview on empty", err, store.ErrNotFound)
	p := newPreview("K7QX", "m1", at(10*time.Minute))
	putPreview(t, s, p)
	putPreview(t, s, newPreview("AB12", "m2", at(10*time.Minute)))
	s2 := open(t)
	for _, code := range []string{"K7QX", "k7qx", "K7qX"} {
		samePreview(t, "Preview("+code+")", lookup(t, s2, code), p)
	}
	for _, code := range []string{"", "K7Q", "K7QXX", "M1"} {
		_, err := s.Preview(ctx, code)
		wantErr(t, "Preview("+code+")", err, store.ErrNotFound)
	}
}

func testSettlePreview(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	s2 := open(t)
	exp := at(10 * time.Minute)
	for i, code := range []string{"CONF", "CANC", "LATE", "BADS"} {
		putPreview(t, s, newPreview(code, fmt.Sprintf("m%d", i), exp))
	}

	// Confirmed once: a second /confirm (another message, another replica)
	// loses and sees who won; a /cancel after it too.
	want := newPreview("CONF", "m0", exp)
	want.State, want.SettledBy, want.SettledAt = store.PreviewConfirmed, "c1", at(time.Minute)
	samePreview(t, "confirmed", settle(t, s, "conf", store.PreviewConfirmed, "c1", at(time.Minute), true), want)
	samePreview(t, "confirmed again", settle(t, s2, "CONF", store.PreviewConfirmed, "c2", at(2*time.Minute), false), want)
	samePreview(t, "cancelled after confirm", settle(t, s2, "CONF", store.PreviewCancelled, "c3", at(2*time.Minute), false), want)
	samePreview(t, "expired after confirm", settle(t, s, "CONF", store.PreviewExpired, "", exp, false), want)
	samePreview(t, "Preview after confirm", lookup(t, s2, "CONF"), want)

	// Cancelled: never confirmed after.
	want = newPreview("CANC", "m1", exp)
	want.State, want.SettledBy, want.SettledAt = store.PreviewCancelled, "x1", at(time.Minute)
	samePreview(t, "cancelled", settle(t, s2, "Canc", store.PreviewCancelled, "x1", at(time.Minute), true), want)
	samePreview(t, "confirmed after cancel", settle(t, s, "CANC", store.PreviewConfirmed, "c1", at(time.Minute), false), want)

	// Not confirmed or cancelled once expired (at ExpiresAt already), and
	// not expired before: it stays pending until expired.
	want = newPreview("LATE", "m2", exp)
	samePreview(t, "confirmed at expiry", settle(t, s, "LATE", store.PreviewConfirmed, "c1", exp, false), want)
	samePreview(t, "cancelled after expiry", settle(t, s, "LATE", store.PreviewCancelled, "x1", exp.Add(time.Hour), false), want)
	samePreview(t, "expired early", settle(t, s2, "LATE", store.PreviewExpired, "", exp.Add(-time.Millisecond), false), want)
	want.State, want.SettledAt = store.PreviewExpired, exp
	samePreview(t, "expired", settle(t, s2, "late", store.PreviewExpired, "", exp, true), want)
	samePreview(t, "expired twice", settle(t, s, "LATE", store.PreviewExpired, "", exp.Add(time.Hour), false), want)
	samePreview(t, "confirmed after expired", settle(t, s, "LATE", store.PreviewConfirmed, "c1", exp.Add(-time.Minute), false), want)

	// Unknown codes and other states.
	for _, st := range []store.PreviewState{store.PreviewConfirmed, store.PreviewCancelled, store.PreviewExpired} {
		_, _, err := s.SettlePreview(ctx, "NOPE", st, "c9", at(time.Minute))
		wantErr(t, fmt.Sprintf("SettlePreview(NOPE, %s)", st), err, store.ErrNotFound)
	}
	for _, st := range []store.PreviewState{store.PreviewPending, "", "bogus", "CONFIRMED"} {
		if ok, _, err := s.SettlePreview(ctx, "BADS", st, "c9", at(time.Minute)); ok || err == nil {
			t.Fatalf("SettlePreview(BADS, %q) = %v, %v; want an error", st, ok, err)
		}
	}
	samePreview(t, "Preview after refused settlements", lookup(t, s, "BADS"), newPreview("BADS", "m3", exp))
}

func testExpirePreviews(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	if got, err := s.ExpirePreviews(ctx, at(time.Hour)); len(got) != 0 || err != nil {
		t.Fatalf("ExpirePreviews on empty = %v, %v", got, err)
	}
	putPreview(t, s, newPreview("P2", "m2", at(2*time.Minute)))
	putPreview(t, s, newPreview("P1", "m1", at(time.Minute)))
	putPreview(t, s, newPreview("P1B", "m1b", at(time.Minute)))
	putPreview(t, s, newPreview("P3", "m3", at(3*time.Minute)))
	putPreview(t, s, newPreview("DONE", "m4", at(time.Minute)))
	settle(t, s, "DONE", store.PreviewConfirmed, "c4", at(30*time.Second), true)

	codes := func(ps []store.Preview) []string {
		var v []string
		for _, p := range ps {
			v = append(v, p.Code)
		}
		return v
	}
	if got, err := s.ExpirePreviews(ctx, at(time.Minute-time.Millisecond)); len(got) != 0 || err != nil {
		t.Fatalf("ExpirePreviews before any expiry = %v, %v", codes(got), err)
	}
	now := at(2 * time.Minute)
	got, err := s.ExpirePreviews(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b store.Preview) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	if c := codes(got); !slices.Equal(c, []string{"P1", "P1B", "P2"}) && !slices.Equal(c, []string{"P1B", "P1", "P2"}) {
		t.Fatalf("ExpirePreviews = %v, want P1, P1B and P2", c)
	}
	for _, p := range got {
		want := newPreview(p.Code, p.MsgID, p.ExpiresAt)
		want.State, want.SettledAt = store.PreviewExpired, now
		samePreview(t, "expired "+p.Code, &p, want)
		samePreview(t, "Preview("+p.Code+") after ExpirePreviews", lookup(t, s, p.Code), want)
	}
	if got, err := open(t).ExpirePreviews(ctx, now); len(got) != 0 || err != nil {
		t.Fatalf("second ExpirePreviews = %v, %v", codes(got), err)
	}
	if p := lookup(t, s, "DONE"); p.State != store.PreviewConfirmed || p.SettledBy != "c4" || !p.SettledAt.Equal(at(30*time.Second)) {
		t.Fatalf("confirmed preview after ExpirePreviews: %+v", p)
	}
	if p := lookup(t, s, "P3"); p.State != store.PreviewPending {
		t.Fatalf("unexpired preview after ExpirePreviews: %+v", p)
	}
	settle(t, s, "P2", store.PreviewConfirmed, "c2", at(time.Minute), false) // expired: too late, whatever the clock says
	if got, err := s.ExpirePreviews(ctx, at(time.Hour)); err != nil || !slices.Equal(codes(got), []string{"P3"}) {
		t.Fatalf("ExpirePreviews later = %v, %v; want P3", codes(got), err)
	}
}

func testPrunePreviews(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	exp := at(10 * time.Minute)
	for i, code := range []string{"PEND", "CONF", "CANC", "EXPD", "LATE"} {
		putPreview(t, s, newPreview(code, fmt.Sprintf("m%d", i), exp))
	}
	settle(t, s, "CONF", store.PreviewConfirmed, "c1", at(time.Minute), true)
	settle(t, s, "CANC", store.PreviewCancelled, "x1", at(2*time.Minute), true)
	settle(t, s, "EXPD", store.PreviewExpired, "", exp, true)
	settle(t, s, "LATE", store.PreviewConfirmed, "c2", at(9*time.Minute), true)

	if n, err := s.PrunePreviews(ctx, at(time.Minute)); n != 0 || err != nil { // settled at the cutoff: kept
		t.Fatalf("PrunePreviews at the first settlement = %d, %v; want 0", n, err)
	}
	if n, err := s.PrunePreviews(ctx, at(2*time.Minute)); n != 1 || err != nil {
		t.Fatalf("PrunePreviews = %d, %v; want 1 (CONF)", n, err)
	}
	if n, err := open(t).PrunePreviews(ctx, exp.Add(time.Millisecond)); n != 3 || err != nil {
		t.Fatalf("PrunePreviews after expiry = %d, %v; want 3 (CANC, EXPD, LATE)", n, err)
	}
	for _, code := range []string{"CONF", "CANC", "EXPD", "LATE"} {
		_, err := s.Preview(ctx, code)
		wantErr(t, "Preview of pruned "+code, err, store.ErrNotFound)
	}
	// A pending preview is kept however old, also past its expiry.
	if n, err := s.PrunePreviews(ctx, at(time.Hour)); n != 0 || err != nil {
		t.Fatalf("PrunePreviews of a pending preview = %d, %v", n, err)
	}
	if p := lookup(t, s, "PEND"); p.State != store.PreviewPending {
		t.Fatalf("pending preview after PrunePreviews: %+v", p)
	}
	// A pruned preview's code and msgId are free again.
	putPreview(t, s, newPreview("CONF", "m1", at(time.Hour)))
}

func testConcurrentSettlePreview(t *testing.T, open func(t *testing.T) store.Store) {
	// Two Store instances on one database, like two replicas; many /confirm
	// of one preview at once (a double tap, redeliveries to several
	// replicas): exactly one wins and everyone sees the winner.
	stores := []store.Store{open(t), open(t)}
	putPreview(t, stores[0], newPreview("RACE", "m0", at(time.Hour)))
	const n = 20
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
		seen    = map[string]bool{}
	)
	for i := range n {
		wg.Go(func() {
			by := fmt.Sprintf("c%02d", i)
			ok, p, err := stores[i%2].SettlePreview(ctx, "race", store.PreviewConfirmed, by, at(time.Minute))
			if err != nil || p == nil {
				t.Errorf("SettlePreview(%s) = %v, %+v, %v", by, ok, p, err)
				return
			}
			if p.State != store.PreviewConfirmed || (ok && p.SettledBy != by) {
				t.Errorf("SettlePreview(%s) = %v, %+v", by, ok, p)
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				winners = append(winners, by)
			}
			seen[p.SettledBy] = true
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d SettlePreview calls won (%v), want exactly 1", len(winners), winners)
	}
	if len(seen) != 1 || !seen[winners[0]] {
		t.Fatalf("SettlePreview calls saw settlers %v, want only %s", seen, winners[0])
	}
	if p := lookup(t, stores[1], "RACE"); p.SettledBy != winners[0] || p.State != store.PreviewConfirmed {
		t.Fatalf("Preview after the race: %+v, winner %s", p, winners[0])
	}
}

func testConcurrentExpirePreviews(t *testing.T, open func(t *testing.T) store.Store) {
	stores := []store.Store{open(t), open(t)}
	const previews = 30
	for i := range previews {
		putPreview(t, stores[i%2], newPreview(fmt.Sprintf("P%02d", i), fmt.Sprintf("m%02d", i), at(time.Minute)))
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		expired = map[string]int{}
		won     int
	)
	for w := range 6 {
		wg.Go(func() {
			got, err := stores[w%2].ExpirePreviews(ctx, at(time.Hour))
			if err != nil {
				t.Errorf("ExpirePreviews: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, p := range got {
				expired[p.Code]++
			}
		})
		// A late /confirm of one of them now and then: it never wins.
		wg.Go(func() {
			ok, _, err := stores[w%2].SettlePreview(ctx, fmt.Sprintf("P%02d", w), store.PreviewConfirmed, "late", at(time.Hour))
			if err != nil {
				t.Errorf("SettlePreview: %v", err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 0 {
		t.Fatalf("%d late confirmations won", won)
	}
	if len(expired) != previews {
		t.Fatalf("%d previews expired, want %d", len(expired), previews)
	}
	for code, n := range expired {
		if n != 1 {
			t.Fatalf("%s returned by %d ExpirePreviews calls", code, n)
		}
	}
}
