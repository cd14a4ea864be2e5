// The tests of what the lifecycle commands typed inside a created group
// need (issue #13): finding the group by either ID, storing its current
// name, owner and members, and the audit of what they changed.

package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/dingbot/dingbot/store"
)

// lifecycleGroups records the groups the lifecycle tests start from: two
// created ones (cid1/chat1 by alice, cid2/chat2 by bob) and one whose create
// left no IDs; it returns the first.
func lifecycleGroups(t *testing.T, s store.Store) store.Group {
	t.Helper()
	g1 := store.Group{MsgID: "m1", OpenConversationID: "cid1", ChatID: "chat1", Name: "Release 4.2", Owner: "alice",
		Members: []string{"alice", "bob"}, Sender: "alice", ConversationID: "conv", CreatedAt: at(time.Second)}
	for _, g := range []store.Group{
		g1,
		{MsgID: "m2", OpenConversationID: "cid2", ChatID: "chat2", Name: "Ops", Owner: "bob", Sender: "bob", CreatedAt: at(2 * time.Second)},
		{MsgID: "m3", Name: "no IDs", Sender: "alice", CreatedAt: at(3 * time.Second)},
	} {
		if err := s.RecordGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	return g1
}

// sameGroup fails unless got is want, times compared as instants.
func sameGroup(t *testing.T, what string, got *store.Group, want store.Group) {
	t.Helper()
	if got == nil || got.MsgID != want.MsgID || got.OpenConversationID != want.OpenConversationID ||
		got.ChatID != want.ChatID || got.Name != want.Name || got.Owner != want.Owner ||
		!slices.Equal(got.Members, want.Members) || got.Sender != want.Sender || got.ConversationID != want.ConversationID ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("%s = %+v, want %+v", what, got, want)
	}
}

func testGroupLookup(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	if g, err := s.Group(ctx, "cid1"); g != nil || err == nil {
		t.Fatalf("Group on empty = %+v, %v", g, err)
	}
	g1 := lifecycleGroups(t, s)
	for _, id := range []string{"cid1", "chat1"} {
		g, err := s.Group(ctx, id)
		if err != nil {
			t.Fatalf("Group(%s): %v", id, err)
		}
		sameGroup(t, "Group("+id+")", g, g1)
		if !g.UpdatedAt.IsZero() {
			t.Fatalf("Group(%s).UpdatedAt = %v before any update, want zero", id, g.UpdatedAt)
		}
	}
	if g, err := s.Group(ctx, "chat2"); err != nil || g.MsgID != "m2" || g.Members == nil || len(g.Members) != 0 {
		t.Fatalf("Group(chat2) = %+v, %v; want m2 with no members", g, err)
	}
	for _, id := range []string{"", "cid9", "CID1", "m1", "Release 4.2", "alice"} {
		g, err := s.Group(ctx, id)
		wantErr(t, "Group("+id+")", err, store.ErrNotFound)
		if g != nil {
			t.Fatalf("Group(%q) = %+v with ErrNotFound", id, g)
		}
	}
	// Two records with one ID (never left by the exactly-once create): the
	// newest wins, also when the older one is written later.
	for _, g := range []store.Group{
		{MsgID: "m5", OpenConversationID: "cid5", ChatID: "chat5", Name: "newer", CreatedAt: at(5 * time.Second)},
		{MsgID: "m4", OpenConversationID: "cid5", ChatID: "chat5", Name: "older", CreatedAt: at(4 * time.Second)},
	} {
		if err := s.RecordGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"cid5", "chat5"} {
		if g, err := s.Group(ctx, id); err != nil || g.MsgID != "m5" {
			t.Fatalf("Group(%s) = %+v, %v; want the newest, m5", id, g, err)
		}
	}
	// A second Store on the same database (another replica) finds it too.
	if g, err := open(t).Group(ctx, "chat1"); err != nil || g.MsgID != "m1" {
		t.Fatalf("Group from a second store = %+v, %v", g, err)
	}
}

func testUpdateGroup(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	g1 := lifecycleGroups(t, s)
	// Only the name, owner and members are stored; the other fields of the
	// argument are ignored.
	update := store.Group{OpenConversationID: "cid1", ChatID: "other", MsgID: "other", Sender: "mallory",
		Name: "Release 4.2 hotfix", Owner: "bob", Members: []string{"alice", "bob", "carol"},
		CreatedAt: at(time.Hour), UpdatedAt: at(time.Minute)}
	if err := s.UpdateGroup(ctx, update); err != nil {
		t.Fatal(err)
	}
	want := g1
	want.Name, want.Owner, want.Members, want.UpdatedAt = update.Name, update.Owner, update.Members, at(time.Minute)
	for _, id := range []string{"cid1", "chat1"} {
		g, err := s.Group(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		sameGroup(t, "Group("+id+") after UpdateGroup", g, want)
	}
	// Groups (/groups) shows the current state, still in creation order.
	got, err := s.Groups(ctx, store.GroupFilter{Sender: "alice"})
	if err != nil || len(got) != 2 || got[0].MsgID != "m3" {
		t.Fatalf("Groups(alice) = %+v, %v; want m3, m1", got, err)
	}
	sameGroup(t, "Groups(alice)[1]", &got[1], want)
	if !got[0].UpdatedAt.IsZero() {
		t.Fatalf("a group not updated has UpdatedAt %v", got[0].UpdatedAt)
	}
	for sender, n := range map[string]int{"alice": 2, "bob": 1, "mallory": 0, "": 3} {
		if c, err := s.CountGroups(ctx, sender); c != n || err != nil {
			t.Fatalf("CountGroups(%q) after UpdateGroup = %d, %v; want %d", sender, c, err, n)
		}
	}
	// A later update replaces the state; members may become none.
	if err := s.UpdateGroup(ctx, store.Group{OpenConversationID: "cid1", Name: "Release 4.2 hotfix", Owner: "bob",
		UpdatedAt: at(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	want.Members, want.UpdatedAt = []string{}, at(2*time.Minute)
	if g, err := s.Group(ctx, "cid1"); err != nil {
		t.Fatal(err)
	} else {
		sameGroup(t, "Group after a second UpdateGroup", g, want)
	}
	// Without a time, the store stamps the update itself.
	before := time.Now().Add(-time.Second)
	if err := s.UpdateGroup(ctx, store.Group{OpenConversationID: "cid2", Name: "Ops", Owner: "carol"}); err != nil {
		t.Fatal(err)
	}
	if g, err := s.Group(ctx, "cid2"); err != nil || g.Owner != "carol" || g.UpdatedAt.Before(before) ||
		g.UpdatedAt.After(time.Now().Add(time.Second)) || !g.CreatedAt.Equal(at(2*time.Second)) {
		t.Fatalf("Group(cid2) after an UpdateGroup without a time = %+v, %v", g, err)
	}
	// Only an openConversationId names the group to update.
	for _, id := range []string{"", "chat1", "cid9", "m1"} {
		err := s.UpdateGroup(ctx, store.Group{OpenConversationID: id, Name: "x", UpdatedAt: at(time.Hour)})
		wantErr(t, "UpdateGroup("+id+")", err, store.ErrNotFound)
	}
	if g, _ := s.Group(ctx, "cid1"); g == nil || g.Name != "Release 4.2 hotfix" {
		t.Fatalf("a refused UpdateGroup changed the group: %+v", g)
	}
	if g, _ := s.Group(ctx, "m3"); g != nil {
		t.Fatalf("a group without IDs was found: %+v", g)
	}
	// Of two records with one openConversationId, the newest is updated.
	for _, g := range []store.Group{
		{MsgID: "m5", OpenConversationID: "cid5", Name: "newer", CreatedAt: at(5 * time.Second)},
		{MsgID: "m4", OpenConversationID: "cid5", Name: "older", CreatedAt: at(4 * time.Second)},
	} {
		if err := s.RecordGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.UpdateGroup(ctx, store.Group{OpenConversationID: "cid5", Name: "renamed", UpdatedAt: at(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	all, _ := s.Groups(ctx, store.GroupFilter{})
	for _, g := range all {
		names[g.MsgID] = g.Name
	}
	if names["m5"] != "renamed" || names["m4"] != "older" {
		t.Fatalf("after updating cid5: m5 %q, m4 %q; want renamed, older", names["m5"], names["m4"])
	}
	// RecordGroup never writes an UpdatedAt, nor overwrites the current state.
	if err := s.RecordGroup(ctx, store.Group{MsgID: "m6", OpenConversationID: "cid6", CreatedAt: at(6 * time.Second),
		UpdatedAt: at(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if g, err := s.Group(ctx, "cid6"); err != nil || !g.UpdatedAt.IsZero() {
		t.Fatalf("Group(cid6) recorded with an UpdatedAt = %+v, %v; want it zero", g, err)
	}
	if err := s.RecordGroup(ctx, g1); err != nil {
		t.Fatal(err)
	}
	if g, err := open(t).Group(ctx, "chat1"); err != nil {
		t.Fatal(err)
	} else {
		sameGroup(t, "Group(chat1) from a second store after RecordGroup again", g, want)
	}
}

func testAuditChange(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	rename := `name: "Release 4.2" → "Release 4.2 hotfix"`
	if err := s.RecordCommand(ctx, store.AuditRecord{MsgID: "r", At: t0, Sender: "alice", Command: "rename",
		Text: `/rename "Release 4.2 hotfix"`, Outcome: "answered", Change: rename}); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := s.Claim(ctx, "f", []byte(`{}`), "w1", t0, lease); !ok || err != nil {
		t.Fatal(ok, err)
	}
	add := store.AuditRecord{MsgID: "f", At: at(time.Second), Sender: "alice", Command: "addmember",
		Text: "/addmember @alice01 @bob02", Outcome: "answered", Change: "members: +alice01, +bob02"}
	if err := s.Finish(ctx, store.Outcome{MsgID: "f", Owner: "w1", State: store.Done, Reply: "ok",
		Now: at(time.Second), Audit: &add}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordCommand(ctx, store.AuditRecord{MsgID: "h", At: at(2 * time.Second), Command: "help", Outcome: "answered"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Audit(ctx, store.AuditFilter{})
	if err != nil || len(got) != 3 {
		t.Fatalf("Audit = %+v, %v", got, err)
	}
	for i, want := range []string{"", add.Change, rename} {
		if got[i].Change != want {
			t.Errorf("Audit[%s].Change = %q, want %q", got[i].MsgID, got[i].Change, want)
		}
	}
	if r := got[1]; !r.At.Equal(add.At) || r.Command != "addmember" || r.Text != add.Text {
		t.Errorf("Audit[f] = %+v, want %+v", r, add)
	}
	// A record written again replaces the change too, also with none.
	again := store.AuditRecord{MsgID: "r", At: t0, Sender: "alice", Command: "rename", Outcome: "refused"}
	if err := s.RecordCommand(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got, _ := open(t).Audit(ctx, store.AuditFilter{Until: at(time.Millisecond)}); len(got) != 1 || got[0] != again {
		t.Fatalf("Audit after rewriting r = %+v, want %+v", got, again)
	}
}
