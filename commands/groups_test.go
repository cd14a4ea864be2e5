package commands

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestGroupsInterpret(t *testing.T) {
	l := testLanguage(t)
	for _, tc := range []struct {
		text string
		want *ListGroups // nil: a reply containing wantReply
		// wantReply is part of the reply when want is nil.
		wantReply string
	}{
		{text: "/groups", want: &ListGroups{Sender: testSender, Page: 1, Lang: English}},
		{text: "/groups --page 3", want: &ListGroups{Sender: testSender, Page: 3, Lang: English}},
		{text: "/groups --page=2 --all", want: &ListGroups{Sender: testSender, All: true, Page: 2, Lang: English}},
		{text: "/mygroups --all", want: &ListGroups{Sender: testSender, All: true, Page: 1, Lang: English}},
		{text: "/群列表 --页 2", want: &ListGroups{Sender: testSender, Page: 2, Lang: Chinese}},
		{text: "/群列表 --全部", want: &ListGroups{Sender: testSender, All: true, Page: 1, Lang: Chinese}},
		{text: "/groups --page 0", wantReply: `--page needs a page number (1, 2, ...), not "0".` + "\nUsage: /groups [--page N] [--all]\nExample: /groups --page 2"},
		{text: "/groups --page two", wantReply: `not "two"`},
		{text: "/groups --page 99999999999", wantReply: `not "99999999999"`},
		{text: "/groups mine", wantReply: `/groups takes only options, so I don't know what "mine" means.`},
		{text: "/groups --al", wantReply: "Did you mean --all?"},
		{text: "/groups --help", wantReply: "/groups [--page N] [--all]\nList the groups you created through me, newest first.\nAlso: /mygroups, /群列表"},
		{text: "/help groups", wantReply: "--page N (also --页): Which page to show"},
		{text: "/帮助 群列表", wantReply: "/群列表 [--page N] [--all]\n列出你通过我创建的群"},
		{text: "/grops", wantReply: "Did you mean /groups?"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			act := l.Interpret(groupMsg(tc.text))
			if tc.want != nil {
				if act.ListGroups() == nil {
					t.Fatalf("Interpret = %+v, want ListGroups", act.Reply)
				}
				if *act.ListGroups() != *tc.want {
					t.Fatalf("ListGroups = %+v, want %+v", *act.ListGroups(), *tc.want)
				}
				return
			}
			if act.Reply == nil || !strings.Contains(act.Reply.Text, tc.wantReply) {
				t.Fatalf("Interpret = %+v, want a reply containing %q", act, tc.wantReply)
			}
		})
	}
	// A sender outside the organisation has no groups to list.
	act := l.Interpret(Message{Text: "/groups", SenderNick: "Visitor"})
	if act.Reply == nil || !strings.Contains(act.Reply.Text, "senderStaffId is missing") {
		t.Fatalf("/groups from an external sender = %+v", act)
	}
}

func TestGroupsReply(t *testing.T) {
	l := testLanguage(t)
	created := time.Date(2026, 11, 1, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))
	page := func(n, total int) GroupsPage {
		var p GroupsPage
		p.Total = total
		for i := range n {
			p.Groups = append(p.Groups, GroupSummary{Name: fmt.Sprintf("Release %d", i), OpenConversationID: fmt.Sprintf("cid%d==", i),
				Creator: "alice01", Members: 3 + i, CreatedAt: created})
		}
		return p
	}
	got := l.groupsReply(&ListGroups{Sender: "alice01", Page: 1, Lang: English}, page(2, 23)).Text
	want := "Groups you created through me (page 1 of 3, 23 in all):\n" +
		"1. \"Release 0\", 3 members, created 2026-11-01 01:30 UTC\n" +
		"   openConversationId: cid0==\n" +
		"2. \"Release 1\", 4 members, created 2026-11-01 01:30 UTC\n" +
		"   openConversationId: cid1==\n" +
		"More: /groups --page 2"
	if got != want {
		t.Errorf("page 1:\n got %q\nwant %q", got, want)
	}
	got = l.groupsReply(&ListGroups{Sender: "alice01", All: true, Page: 3, Lang: English}, page(1, 21)).Text
	want = "Groups created through me by everyone (page 3 of 3, 21 in all):\n" +
		"21. \"Release 0\", 3 members, created 2026-11-01 01:30 UTC by Alice Wang (alice01)\n" +
		"   openConversationId: cid0=="
	if got != want {
		t.Errorf("last page of --all:\n got %q\nwant %q", got, want)
	}
	got = l.groupsReply(&ListGroups{Sender: "alice01", All: true, Page: 1, Lang: Chinese}, page(1, 11)).Text
	want = "所有人通过我创建的群（第 1 页，共 2 页，共 11 个）：\n" +
		"1. “Release 0”，3 人，由 Alice Wang (alice01) 创建于 2026-11-01 01:30 UTC\n" +
		"   openConversationId：cid0==\n" +
		"下一页：/群列表 --page 2 --all"
	if got != want {
		t.Errorf("Chinese:\n got %q\nwant %q", got, want)
	}
	for _, tc := range []struct {
		lg   ListGroups
		p    GroupsPage
		want string
	}{
		{ListGroups{Page: 1, Lang: English}, GroupsPage{}, "You haven't created any groups through me yet. Create one with /newgroup NAME @people."},
		{ListGroups{Page: 1, All: true, Lang: English}, GroupsPage{}, "Nobody has created a group through me yet."},
		{ListGroups{Page: 1, Lang: Chinese}, GroupsPage{}, "你还没有通过我创建过群。可以用 /建群 群名 @成员 来建一个。"},
		{ListGroups{Page: 7, Lang: English}, GroupsPage{Total: 23}, "There is no page 7: there are 3. The last one: /groups --page 3"},
	} {
		if got := l.groupsReply(&tc.lg, tc.p).Text; got != tc.want {
			t.Errorf("GroupsReply(%+v, %+v) = %q, want %q", tc.lg, tc.p, got, tc.want)
		}
	}
	if got := l.groupsAdminOnlyReply(&ListGroups{Lang: English}).Text; !strings.Contains(got, "Only admins") {
		t.Errorf("GroupsAdminOnlyReply = %q", got)
	}
	if got := l.groupsFailedReply(&ListGroups{Lang: Chinese}).Text; !strings.Contains(got, "群列表") {
		t.Errorf("GroupsFailedReply = %q", got)
	}
	if got := l.groupsReply(nil, GroupsPage{}).Text; got == "" {
		t.Error("GroupsReply(nil) is empty")
	}
}

func TestCommandName(t *testing.T) {
	l := testLanguage(t)
	for text, want := range map[string]string{
		`/newgroup "Release 4.2" @Alice`: "newgroup",
		` /建群 发布`:                        "newgroup",
		"/HELP":                          "help",
		"/?":                             "help",
		"/群列表 --all":                     "groups",
		"／groups":                        "groups",
		"/nosuch":                        "",
		"hello":                          "",
		"":                               "",
		`/newgroup "unclosed`:            "newgroup",
	} {
		if got := l.CommandName(text); got != want {
			t.Errorf("CommandName(%q) = %q, want %q", text, got, want)
		}
	}
}
