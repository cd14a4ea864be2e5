// The outcome tests: Finish with its audit records, the reply states, the
// unreplied items, the counts and pruning.

package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dingbot/dingbot/store"
)

func testFinishWithRecords(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	if ok, _, err := s.Claim(ctx, "f", []byte(`{}`), "w1", t0, lease); !ok || err != nil {
		t.Fatal(ok, err)
	}
	cmd := store.AuditRecord{MsgID: "f", At: t0, Sender: "u1", Command: "newgroup", Text: "/newgroup X", Outcome: "created", ChatID: "chat1"}
	grp := store.Group{MsgID: "f", Name: "X", ChatID: "chat1", Sender: "u1", Members: []string{"u1"}, CreatedAt: t0}
	// A lost lease writes nothing, records included.
	out := store.Outcome{MsgID: "f", Owner: "w2", State: store.Done, Reply: "r", Now: t0, Audit: &cmd, Group: &grp}
	wantErr(t, "Finish by another owner", s.Finish(ctx, out), store.ErrLeaseLost)
	if got, _ := s.Audit(ctx, store.AuditFilter{}); len(got) != 0 {
		t.Fatalf("audit after a lost Finish: %+v", got)
	}
	if n, _ := s.CountGroups(ctx, ""); n != 0 {
		t.Fatalf("%d groups after a lost Finish", n)
	}
	out.Owner, out.Now = "w1", at(time.Second)
	if err := s.Finish(ctx, out); err != nil {
		t.Fatal(err)
	}
	if it := get(t, s, "f"); it.State != store.Done || it.ReplyState != store.ReplySending {
		t.Fatalf("after Finish: %+v", it)
	}
	if got, err := s.Audit(ctx, store.AuditFilter{}); err != nil || len(got) != 1 || got[0] != cmd {
		t.Fatalf("audit = %+v, %v; want %+v", got, err, cmd)
	}
	if got, err := s.Groups(ctx, store.GroupFilter{}); err != nil || len(got) != 1 || got[0].ChatID != "chat1" || got[0].Name != "X" {
		t.Fatalf("groups = %+v, %v", got, err)
	}
	// Invalid records are refused before anything is written.
	if ok, _, err := s.Claim(ctx, "g", []byte(`{}`), "w1", t0, lease); !ok || err != nil {
		t.Fatal(ok, err)
	}
	bad := store.Outcome{MsgID: "g", Owner: "w1", State: store.Done, Reply: "r", Now: t0, Group: &store.Group{}}
	if err := s.Finish(ctx, bad); err == nil {
		t.Fatal("Finish with a group record without msgID succeeded")
	}
	if it := get(t, s, "g"); it.State != store.Received || it.Owner != "w1" {
		t.Fatalf("item after a refused Finish: %+v", it)
	}
}

func testFinish(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	claim(t, s, "r", t0)
	claim(t, s, "c", t0)
	next(t, s, "w1", t0, "c")
	next(t, s, "w1", t0, "r")
	if err := s.MarkCalling(ctx, "c", "w1", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, store.Outcome{MsgID: "r", Owner: "w1", State: store.Calling, Reply: "x", Now: t0}); err == nil || errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("Finish to a non-final state: %v", err)
	}
	wantErr(t, "Finish by another owner", s.Finish(ctx, store.Outcome{MsgID: "r", Owner: "w2", State: store.Done, Reply: "x", Now: t0}), store.ErrLeaseLost)
	wantErr(t, "Finish of a missing item", s.Finish(ctx, store.Outcome{MsgID: "zz", Owner: "w1", State: store.Done, Reply: "x", Now: t0}), store.ErrNotFound)
	for id, st := range map[string]store.State{"r": store.Failed, "c": store.Done} {
		if err := s.Finish(ctx, store.Outcome{MsgID: id, Owner: "w1", State: st, Reply: "reply-" + id, Now: at(time.Second)}); err != nil {
			t.Fatalf("Finish(%s): %v", id, err)
		}
		it := get(t, s, id)
		if it.State != st || it.Reply != "reply-"+id || it.Owner != "" || !it.LeaseUntil.IsZero() ||
			!it.UpdatedAt.Equal(at(time.Second)) || it.ReplyState != store.ReplySending {
			t.Fatalf("after Finish(%s): %+v", id, it)
		}
		again := store.Outcome{MsgID: id, Owner: "w1", State: store.Unknown, Reply: "again", Now: at(2 * time.Second)}
		wantErr(t, "Finish twice", s.Finish(ctx, again), store.ErrLeaseLost)
	}
	// A finished item is never leased, renewed or expired again.
	next(t, s, "w2", at(time.Hour), "")
	if n, err := s.Renew(ctx, "w1", at(time.Second), lease); n != 0 || err != nil {
		t.Fatalf("Renew after Finish = %d, %v", n, err)
	}
	if got, err := s.ExpireCalling(ctx, at(time.Hour)); len(got) != 0 || err != nil {
		t.Fatalf("ExpireCalling after Finish = %v, %v", got, err)
	}
}

func testFinishReplyTitle(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	for _, id := range []string{"md", "plain"} {
		if ok, _, err := s.Claim(ctx, id, []byte(`{}`), "w1", t0, lease); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if it := get(t, s, id); it.ReplyTitle != "" {
			t.Fatalf("ReplyTitle before Finish = %q", it.ReplyTitle)
		}
	}
	md := store.Outcome{MsgID: "md", Owner: "w1", State: store.Done, Reply: "### Group created\n- **Name**: Release 4.2",
		ReplyTitle: "Group created 群已创建", Now: at(time.Second)}
	if err := s.Finish(ctx, md); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, store.Outcome{MsgID: "plain", Owner: "w1", State: store.Failed, Reply: "no", Now: at(time.Second)}); err != nil {
		t.Fatal(err)
	}
	// Every read returns it: Get (also from another replica) and Claim's existing item.
	for i, st := range []store.Store{s, open(t)} {
		if it := get(t, st, "md"); it.ReplyTitle != md.ReplyTitle || it.Reply != md.Reply || it.State != store.Done {
			t.Fatalf("store %d: Get(md) after Finish = %+v", i, it)
		}
		if it := get(t, st, "plain"); it.ReplyTitle != "" || it.Reply != "no" {
			t.Fatalf("store %d: Get(plain) after Finish = %+v", i, it)
		}
	}
	if ok, it, err := s.Claim(ctx, "md", []byte(`{}`), "w2", at(time.Hour), lease); ok || err != nil || it.ReplyTitle != md.ReplyTitle {
		t.Fatalf("Claim of a finished markdown item = %v, %+v, %v", ok, it, err)
	}
	// A lost lease does not write the title either.
	if ok, _, err := s.Claim(ctx, "lost", []byte(`{}`), "w1", t0, lease); !ok || err != nil {
		t.Fatal(ok, err)
	}
	lost := store.Outcome{MsgID: "lost", Owner: "w2", State: store.Done, Reply: "x", ReplyTitle: "t", Now: at(time.Second)}
	wantErr(t, "Finish by another owner", s.Finish(ctx, lost), store.ErrLeaseLost)
	if it := get(t, s, "lost"); it.ReplyTitle != "" || it.Reply != "" {
		t.Fatalf("item after a lost Finish: %+v", it)
	}
}

func testSetReplyState(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	claim(t, s, "open", t0)
	set := func(id string, st store.ReplyState, want bool) {
		t.Helper()
		ok, err := s.SetReplyState(ctx, id, st, at(time.Second))
		if err != nil || ok != want {
			t.Fatalf("SetReplyState(%s, %q) = %v, %v; want %v", id, st, ok, err, want)
		}
	}
	set("open", store.ReplySending, false) // not finished
	finished(t, s, "m", t0, store.Failed)
	set("m", store.ReplySending, false) // Finish marked it sending
	unreplied(t, s, "u", t0)
	set("u", store.ReplySending, true)
	set("u", store.ReplySending, false) // already sending
	set("m", store.ReplyFailed, true)
	set("m", store.ReplySending, true) // retry after failure
	set("m", store.ReplySent, true)
	set("m", store.ReplySending, false) // delivered: never again
	if it := get(t, s, "m"); it.ReplyState != store.ReplySent || it.State != store.Failed || !it.UpdatedAt.Equal(at(time.Second)) {
		t.Fatalf("after SetReplyState: %+v", it)
	}
	_, err := s.SetReplyState(ctx, "zz", store.ReplySending, t0)
	wantErr(t, "SetReplyState(sending) of a missing item", err, store.ErrNotFound)
	_, err = s.SetReplyState(ctx, "zz", store.ReplySent, t0)
	wantErr(t, "SetReplyState(sent) of a missing item", err, store.ErrNotFound)
	if _, err := s.SetReplyState(ctx, "m", store.ReplyNone, t0); err == nil {
		t.Fatal("SetReplyState(none) succeeded")
	}
	if _, err := s.SetReplyState(ctx, "m", "bogus", t0); err == nil {
		t.Fatal("SetReplyState(bogus) succeeded")
	}
}

func testUnreplied(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	if got, err := s.Unreplied(ctx, 10); len(got) != 0 || err != nil {
		t.Fatalf("Unreplied on empty = %v, %v", got, err)
	}
	unreplied(t, s, "f3", at(3*time.Second))
	unreplied(t, s, "f1", at(1*time.Second))
	unreplied(t, s, "f2", at(2*time.Second))
	unreplied(t, s, "f4", at(4*time.Second))
	finished(t, s, "done", at(time.Second), store.Done) // its worker is posting the reply
	claim(t, s, "open", t0)
	if ok, err := s.SetReplyState(ctx, "f4", store.ReplySending, t0); !ok || err != nil {
		t.Fatal(ok, err)
	}
	got, err := s.Unreplied(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range got {
		ids = append(ids, it.MsgID)
	}
	if want := []string{"f1", "f2", "f3"}; !slices.Equal(ids, want) {
		t.Fatalf("Unreplied = %v, want %v", ids, want)
	}
	if got[0].State != store.Unknown || got[0].ReplyState != store.ReplyNone || string(got[0].Message) != `{"text":"f1"}` {
		t.Fatalf("Unreplied item: %+v", got[0])
	}
	if got, _ := s.Unreplied(ctx, 2); len(got) != 2 || got[1].MsgID != "f2" {
		t.Fatalf("Unreplied(2) = %v", got)
	}
	if got, _ := s.Unreplied(ctx, 0); len(got) != 0 {
		t.Fatalf("Unreplied(0) = %v", got)
	}
}

func testCounts(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	if got, err := s.Counts(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Counts on empty = %v, %v", got, err)
	}
	finished(t, s, "d1", t0, store.Done)
	finished(t, s, "u1", t0, store.Unknown)
	claim(t, s, "r1", t0)
	claim(t, s, "r2", t0)
	claim(t, s, "r3", t0)
	next(t, s, "w", t0, "r1") // r1 is leased: still received
	it := next(t, s, "w2", t0, "r2")
	if err := s.MarkCalling(ctx, it.MsgID, "w2", t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.Counts(ctx)
	want := map[store.State]int{store.Received: 2, store.Calling: 1, store.Done: 1, store.Unknown: 1}
	if err != nil || len(got) != len(want) {
		t.Fatalf("Counts = %v, %v; want %v", got, err, want)
	}
	for st, n := range want {
		if got[st] != n {
			t.Fatalf("Counts = %v, want %v", got, want)
		}
	}
}

func testPrune(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	finished(t, s, "old-done", t0, store.Done)
	finished(t, s, "old-unknown", t0, store.Unknown)
	finished(t, s, "new-done", at(time.Hour), store.Done)
	claim(t, s, "old-received", t0)
	claim(t, s, "old-calling", t0)
	next(t, s, "w", t0, "old-calling")
	if err := s.MarkCalling(ctx, "old-calling", "w", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordGroup(ctx, store.Group{MsgID: "old-done", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordCommand(ctx, store.AuditRecord{MsgID: "old-done", At: t0, Outcome: "answered"}); err != nil {
		t.Fatal(err)
	}
	n, err := s.Prune(ctx, at(time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2", n, err)
	}
	for _, id := range []string{"old-done", "old-unknown"} {
		_, err := s.Get(ctx, id)
		wantErr(t, "Get of pruned "+id, err, store.ErrNotFound)
	}
	for _, id := range []string{"new-done", "old-received", "old-calling"} {
		get(t, s, id)
	}
	if g, _ := s.Groups(ctx, store.GroupFilter{Limit: 10}); len(g) != 1 {
		t.Fatalf("audit after Prune = %v", g)
	}
	if a, _ := s.Audit(ctx, store.AuditFilter{}); len(a) != 1 {
		t.Fatalf("command audit after Prune = %v", a)
	}
	if n, err := s.Prune(ctx, at(time.Minute)); n != 0 || err != nil {
		t.Fatalf("second Prune = %d, %v", n, err)
	}
	// A pruned msgId can be claimed afresh.
	claim(t, s, "old-done", at(2*time.Hour))
}
