// The follow-up tests: the inbox items Finish stores with an outcome.

package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/dingbot/dingbot/store"
)

// wantFollowUp wants the item id stored as a follow-up finished at now: a
// received item with message msg, held by nobody, never replied to.
func wantFollowUp(t *testing.T, s store.Store, id string, now time.Time, msg []byte) {
	t.Helper()
	it := get(t, s, id)
	if it.State != store.Received || it.Owner != "" || !it.LeaseUntil.IsZero() || it.Reply != "" ||
		it.ReplyState != store.ReplyNone || !it.ReceivedAt.Equal(now) || !it.UpdatedAt.Equal(now) ||
		!bytes.Equal(it.Message, msg) {
		t.Fatalf("follow-up %s: %+v, want received at %v with message %s", id, it, now, msg)
	}
}

// wantAbsent wants no item id in the inbox.
func wantAbsent(t *testing.T, s store.Store, what, id string) {
	t.Helper()
	_, err := s.Get(ctx, id)
	wantErr(t, what+": Get("+id+")", err, store.ErrNotFound)
}

func testFinishFollowUps(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	if ok, _, err := s.Claim(ctx, "n", []byte(`{"text":"n"}`), "w1", t0, lease); !ok || err != nil {
		t.Fatal(ok, err)
	}
	finished(t, s, "dup", t0, store.Done) // a follow-up with its msgID leaves it alone
	dup := get(t, s, "dup")
	kickoff := []byte(`{"step":"kickoff"}`)
	out := store.Outcome{MsgID: "n", Owner: "w1", State: store.Done, Reply: "created", Now: at(time.Second),
		Audit: &store.AuditRecord{MsgID: "n", At: t0, Command: "newgroup", Outcome: "created"},
		FollowUps: []store.FollowUp{
			{MsgID: "n#kickoff", Message: kickoff},
			{MsgID: "dup", Message: []byte(`{"step":"other"}`)},
			{MsgID: "n#kickoff", Message: []byte(`{"step":"second"}`)}, // the first one wins
			{MsgID: "n#empty"},
		},
	}
	// Nothing is there for Next before Finish.
	next(t, s, "w2", t0, "")

	// A lost lease stores no follow-up.
	lost := out
	lost.Owner = "w2"
	wantErr(t, "Finish by another owner", s.Finish(ctx, lost), store.ErrLeaseLost)
	wantAbsent(t, s, "after a lost Finish", "n#kickoff")
	next(t, s, "w2", at(time.Second), "")

	// A follow-up without msgID is refused before anything is written.
	bad := out
	bad.FollowUps = append([]store.FollowUp{{MsgID: "n#ok", Message: kickoff}}, store.FollowUp{Message: kickoff})
	if err := s.Finish(ctx, bad); err == nil || errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("Finish with a follow-up without msgID: %v", err)
	}
	if it := get(t, s, "n"); it.State != store.Received || it.Owner != "w1" {
		t.Fatalf("item after a refused Finish: %+v", it)
	}
	wantAbsent(t, s, "after a refused Finish", "n#ok")

	if err := s.Finish(ctx, out); err != nil {
		t.Fatal(err)
	}
	if it := get(t, s, "n"); it.State != store.Done || it.ReplyState != store.ReplySending || it.Owner != "" {
		t.Fatalf("after Finish: %+v", it)
	}
	wantFollowUp(t, s, "n#kickoff", at(time.Second), kickoff)
	wantFollowUp(t, s, "n#empty", at(time.Second), nil)
	if got := get(t, s, "dup"); !sameItem(got, dup) {
		t.Fatalf("the item a follow-up duplicated was changed: %+v, was %+v", got, dup)
	}
	if c, err := s.Counts(ctx); err != nil || c[store.Received] != 2 || c[store.Done] != 2 {
		t.Fatalf("Counts after Finish = %v, %v; want 2 received, 2 done", c, err)
	}

	// Any worker's Next takes them, oldest first, each once.
	fu := next(t, s, "w2", at(time.Second), "n#empty")
	next(t, s, "w3", at(time.Second), "n#kickoff")
	next(t, s, "w4", at(time.Second), "")

	// A follow-up finishes like any item, with follow-ups of its own.
	if err := s.MarkCalling(ctx, fu.MsgID, "w2", at(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, store.Outcome{MsgID: fu.MsgID, Owner: "w2", State: store.Done, Now: at(2 * time.Second),
		Audit:     &store.AuditRecord{MsgID: fu.MsgID, At: at(time.Second), Outcome: "answered"},
		FollowUps: []store.FollowUp{{MsgID: "n#empty#again", Message: kickoff}, {MsgID: "n#kickoff"}},
	}); err != nil {
		t.Fatal(err)
	}
	if it := get(t, s, fu.MsgID); it.State != store.Done || it.ReplyState != store.ReplySending || it.Owner != "" {
		t.Fatalf("finished follow-up: %+v", it)
	}
	if it := get(t, s, "n#kickoff"); it.Owner != "w3" || !bytes.Equal(it.Message, kickoff) {
		t.Fatalf("the leased follow-up a later one duplicated was changed: %+v", it)
	}
	wantFollowUp(t, s, "n#empty#again", at(2*time.Second), kickoff)
	if a, err := s.Audit(ctx, store.AuditFilter{}); err != nil || len(a) != 2 {
		t.Fatalf("audit = %+v, %v; want the command's and the follow-up's", a, err)
	}
}

// sameItem reports whether a and b are equal in every field.
func sameItem(a, b *store.Item) bool {
	return a.MsgID == b.MsgID && bytes.Equal(a.Message, b.Message) && a.State == b.State && a.Reply == b.Reply &&
		a.ReplyState == b.ReplyState && a.Owner == b.Owner && a.LeaseUntil.Equal(b.LeaseUntil) &&
		a.ReceivedAt.Equal(b.ReceivedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

// testFinishFollowUpsAtomic: a follow-up the engine cannot store fails the
// whole Finish, or none of it. PostgreSQL's TEXT holds no NUL byte, so there
// the insert fails after the outcome's update and the audit record were
// written, and they must be rolled back with it; an engine that can store the
// message must store everything.
func testFinishFollowUpsAtomic(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	if ok, _, err := s.Claim(ctx, "a", []byte(`{}`), "w1", t0, lease); !ok || err != nil {
		t.Fatal(ok, err)
	}
	nul := []byte("{\"text\":\"a\x00b\"}")
	out := store.Outcome{MsgID: "a", Owner: "w1", State: store.Done, Reply: "r", Now: at(time.Second),
		Audit:     &store.AuditRecord{MsgID: "a", At: t0, Outcome: "created"},
		Group:     &store.Group{MsgID: "a", ChatID: "chat1", CreatedAt: t0},
		FollowUps: []store.FollowUp{{MsgID: "a#1", Message: []byte(`{}`)}, {MsgID: "a#nul", Message: nul}},
	}
	err := s.Finish(ctx, out)
	audit, aerr := s.Audit(ctx, store.AuditFilter{})
	groups, gerr := s.CountGroups(ctx, "")
	if aerr != nil || gerr != nil {
		t.Fatal(aerr, gerr)
	}
	it := get(t, s, "a")
	_, err1 := s.Get(ctx, "a#1")
	_, errNUL := s.Get(ctx, "a#nul")
	if err != nil {
		if errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Finish with a NUL follow-up: %v", err)
		}
		t.Logf("Finish with a NUL byte in a follow-up failed, so it must have written nothing: %v", err)
		if it.State != store.Received || it.Owner != "w1" || len(audit) != 0 || groups != 0 ||
			!errors.Is(err1, store.ErrNotFound) || !errors.Is(errNUL, store.ErrNotFound) {
			t.Fatalf("a failed Finish wrote something: item %+v, audit %+v, %d groups, follow-ups: %v, %v",
				it, audit, groups, err1, errNUL)
		}
		// The lease is still held: Finish without it succeeds.
		out.FollowUps = out.FollowUps[:1]
		if err := s.Finish(ctx, out); err != nil {
			t.Fatal(err)
		}
		wantFollowUp(t, s, "a#1", at(time.Second), []byte(`{}`))
		return
	}
	if it.State != store.Done || len(audit) != 1 || groups != 1 || err1 != nil || errNUL != nil {
		t.Fatalf("a successful Finish left something out: item %+v, audit %+v, %d groups, follow-ups: %v, %v",
			it, audit, groups, err1, errNUL)
	}
}
