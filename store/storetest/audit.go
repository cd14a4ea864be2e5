// The audit tests: created groups and finished commands.

package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dingbot/dingbot/store"
)

func testGroups(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	if got, err := s.Groups(ctx, store.GroupFilter{Limit: 10}); len(got) != 0 || err != nil {
		t.Fatalf("Groups on empty = %v, %v", got, err)
	}
	g1 := store.Group{MsgID: "m1", OpenConversationID: "cid1", ChatID: "chat1", Name: "ops 1", Owner: "u1",
		Members: []string{"u1", "u2"}, Sender: "s1", ConversationID: "conv", CreatedAt: at(time.Second)}
	g2 := store.Group{MsgID: "m2", Name: "ops 2", Owner: "u3", CreatedAt: at(2 * time.Second)}
	g3 := store.Group{MsgID: "m3", Name: "ops 3", Members: []string{"x"}, CreatedAt: at(3 * time.Second)}
	for _, g := range []store.Group{g1, g2, g3} {
		if err := s.RecordGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	dup := g1
	dup.Name = "changed"
	if err := s.RecordGroup(ctx, dup); err != nil {
		t.Fatalf("duplicate RecordGroup: %v", err)
	}
	if err := s.RecordGroup(ctx, store.Group{}); err == nil {
		t.Fatal("RecordGroup without msgID succeeded")
	}
	got, err := s.Groups(ctx, store.GroupFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].MsgID != "m3" || got[1].MsgID != "m2" || got[2].MsgID != "m1" {
		t.Fatalf("Groups = %+v, want m3, m2, m1", got)
	}
	g := got[2]
	if g.Name != "ops 1" || g.OpenConversationID != "cid1" || g.ChatID != "chat1" || g.Owner != "u1" ||
		!slices.Equal(g.Members, []string{"u1", "u2"}) || g.Sender != "s1" || g.ConversationID != "conv" || !g.CreatedAt.Equal(at(time.Second)) {
		t.Fatalf("Groups[m1] = %+v, want %+v", g, g1)
	}
	if got[1].Members == nil || len(got[1].Members) != 0 {
		t.Fatalf("nil Members read back as %#v, want empty", got[1].Members)
	}
	if got, _ := s.Groups(ctx, store.GroupFilter{Limit: 2}); len(got) != 2 || got[0].MsgID != "m3" {
		t.Fatalf("Groups(2) = %+v", got)
	}
}

func testGroupsFilter(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	if n, err := s.CountGroups(ctx, ""); n != 0 || err != nil {
		t.Fatalf("CountGroups on empty = %d, %v", n, err)
	}
	// 25 groups: alice created the even ones, bob the odd ones; two share a time.
	for i := range 25 {
		sender := "alice"
		if i%2 == 1 {
			sender = "bob"
		}
		created := at(time.Duration(i) * time.Minute)
		if i == 24 {
			created = at(22 * time.Minute) // same time as m22: ties break by msg_id, newest first
		}
		g := store.Group{MsgID: fmt.Sprintf("m%02d", i), Name: fmt.Sprintf("g%d", i), Sender: sender, CreatedAt: created}
		if err := s.RecordGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(gs []store.Group) []string {
		var v []string
		for _, g := range gs {
			v = append(v, g.MsgID)
		}
		return v
	}
	for _, tc := range []struct {
		f    store.GroupFilter
		want []string
	}{
		{store.GroupFilter{Sender: "alice", Limit: 3}, []string{"m24", "m22", "m20"}},
		{store.GroupFilter{Sender: "alice", Limit: 3, Offset: 3}, []string{"m18", "m16", "m14"}},
		{store.GroupFilter{Sender: "alice", Limit: 10, Offset: 10}, []string{"m04", "m02", "m00"}},
		{store.GroupFilter{Sender: "alice", Limit: 10, Offset: 13}, nil},
		{store.GroupFilter{Sender: "bob", Limit: 2}, []string{"m23", "m21"}},
		{store.GroupFilter{Limit: 3}, []string{"m23", "m24", "m22"}},
		{store.GroupFilter{Sender: "carol", Limit: 3}, nil},
	} {
		got, err := s.Groups(ctx, tc.f)
		if err != nil || !slices.Equal(ids(got), tc.want) {
			t.Errorf("Groups(%+v) = %v, %v; want %v", tc.f, ids(got), err, tc.want)
		}
	}
	if got, _ := s.Groups(ctx, store.GroupFilter{}); len(got) != 25 {
		t.Errorf("Groups without a limit = %d records, want 25", len(got))
	}
	if got, _ := s.Groups(ctx, store.GroupFilter{Offset: 20}); len(got) != 5 {
		t.Errorf("Groups with only an offset = %d records, want 5", len(got))
	}
	for sender, want := range map[string]int{"": 25, "alice": 13, "bob": 12, "carol": 0} {
		if n, err := s.CountGroups(ctx, sender); n != want || err != nil {
			t.Errorf("CountGroups(%q) = %d, %v; want %d", sender, n, err, want)
		}
	}
}

func testAudit(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	if got, err := s.Audit(ctx, store.AuditFilter{}); len(got) != 0 || err != nil {
		t.Fatalf("Audit on empty = %v, %v", got, err)
	}
	if err := s.RecordCommand(ctx, store.AuditRecord{}); err == nil {
		t.Fatal("RecordCommand without msgID succeeded")
	}
	full := store.AuditRecord{MsgID: "c1", At: at(time.Second), Sender: "alice", SenderNick: "Alice 张",
		ConversationID: "cidconv", Command: "newgroup", Text: `/newgroup "Release 4.2" @Bob`, Outcome: "refused",
		RequestID: "REQ-1", ErrorCode: "permession.checkFailed"}
	records := []store.AuditRecord{
		full,
		{MsgID: "c2", At: at(2 * time.Second), Sender: "bob", Command: "help", Text: "/help", Outcome: "answered"},
		{MsgID: "c3", At: at(3 * time.Second), Sender: "alice", Command: "newgroup", Text: "/newgroup Ops", Outcome: "created",
			GroupOpenConversationID: "cidnew", ChatID: "chatnew"},
		{MsgID: "c4", At: at(4 * time.Second), Command: "", Text: "", Outcome: "answered"},
	}
	for _, r := range records {
		if err := s.RecordCommand(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Audit(ctx, store.AuditFilter{})
	if err != nil || len(got) != 4 || got[0].MsgID != "c4" || got[3].MsgID != "c1" {
		t.Fatalf("Audit = %+v, %v; want c4, c3, c2, c1", got, err)
	}
	if g := got[3]; g != full {
		if !g.At.Equal(full.At) {
			t.Fatalf("At = %v, want %v", g.At, full.At)
		}
		g.At = full.At
		if g != full {
			t.Fatalf("Audit[c1] = %+v, want %+v", g, full)
		}
	}
	// An upsert replaces the record.
	again := records[2]
	again.Outcome, again.RequestID = "unknown", "REQ-2"
	if err := s.RecordCommand(ctx, again); err != nil {
		t.Fatal(err)
	}
	ids := func(rs []store.AuditRecord) []string {
		var v []string
		for _, r := range rs {
			v = append(v, r.MsgID)
		}
		return v
	}
	for _, tc := range []struct {
		f    store.AuditFilter
		want []string
	}{
		{store.AuditFilter{Sender: "alice"}, []string{"c3", "c1"}},
		{store.AuditFilter{Since: at(2 * time.Second)}, []string{"c4", "c3", "c2"}},
		{store.AuditFilter{Until: at(2 * time.Second)}, []string{"c1"}},
		{store.AuditFilter{Since: at(2 * time.Second), Until: at(4 * time.Second)}, []string{"c3", "c2"}},
		{store.AuditFilter{Limit: 2}, []string{"c4", "c3"}},
		{store.AuditFilter{Limit: 2, Offset: 3}, []string{"c1"}},
		{store.AuditFilter{Sender: "alice", Since: at(3 * time.Second)}, []string{"c3"}},
		{store.AuditFilter{MsgID: "c2"}, []string{"c2"}},
		{store.AuditFilter{MsgID: "c3", Sender: "alice"}, []string{"c3"}},
		{store.AuditFilter{MsgID: "c2", Sender: "alice"}, nil},
		{store.AuditFilter{MsgID: "c2", Since: at(3 * time.Second)}, nil},
		{store.AuditFilter{MsgID: "c4", Limit: 1}, []string{"c4"}},
		{store.AuditFilter{MsgID: "c1", Offset: 1}, nil},
		{store.AuditFilter{MsgID: "nope"}, nil},
	} {
		got, err := s.Audit(ctx, tc.f)
		if err != nil || !slices.Equal(ids(got), tc.want) {
			t.Errorf("Audit(%+v) = %v, %v; want %v", tc.f, ids(got), err, tc.want)
		}
	}
	if got, err := s.Audit(ctx, store.AuditFilter{MsgID: "c1"}); err != nil || len(got) != 1 || got[0].SenderNick != full.SenderNick || got[0].ErrorCode != full.ErrorCode {
		t.Fatalf("Audit(MsgID c1) = %+v, %v", got, err)
	}
	got, _ = s.Audit(ctx, store.AuditFilter{Sender: "alice", Limit: 1})
	if len(got) != 1 || got[0].Outcome != "unknown" || got[0].RequestID != "REQ-2" || got[0].ChatID != "chatnew" {
		t.Fatalf("upserted record = %+v", got)
	}
	// A second Store on the same database (another replica) sees the same audit.
	if got, err := open(t).Audit(ctx, store.AuditFilter{}); err != nil || len(got) != 4 {
		t.Fatalf("Audit from a second store = %d records, %v", len(got), err)
	}
}
