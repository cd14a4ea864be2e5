package commands

import (
	"strings"
	"testing"
)

// TestManageCommandsParse: what each lifecycle command asks the bot to do,
// or the reply when it is written wrong.
func TestManageCommandsParse(t *testing.T) {
	l := testLanguage(t)
	inGroup := func(text string, mentions ...string) Message {
		m := groupMsg(text, mentions...)
		m.ConversationID = "cidTeam=="
		return m
	}
	cases := []struct {
		name  string
		msg   Message
		cmd   string
		want  string // the plan as JSON, or "~" + a part of the reply
		names []string
	}{
		{"groupinfo in the group", inGroup("/groupinfo"), "groupinfo", `"Target":"cidTeam=="`, nil},
		{"groupinfo in Chinese", inGroup("/群信息"), "groupinfo", `"Lang":"zh"`, nil},
		{"groupinfo from a one-to-one chat needs --group", directMsg("/groupinfo"), "", "~In a one-to-one chat, say which group with --group ID", nil},
		{"groupinfo --group", directMsg("/groupinfo --group chat123"), "groupinfo", `"Target":"chat123"`, nil},
		{"groupinfo extra word", inGroup("/groupinfo now"), "", `~/groupinfo takes only options, so I don't know what "now" means.`, nil},
		{"rename", inGroup(`/rename "Release 4.2 hotfix"`), "rename", `"Name":"Release 4.2 hotfix"`, nil},
		{"rename needs a name", inGroup("/rename"), "", "~The group needs a name.", nil},
		{"rename 21 characters", inGroup("/rename " + strings.Repeat("x", 21)), "", "~is 21 characters; the limit is 20.", nil},
		{"rename two words", inGroup("/rename Release hotfix"), "", `~I found more than one name: "Release", "hotfix"`, nil},
		{"rename in Chinese", inGroup(`/改名 "发布 4.2"`), "rename", `"Lang":"zh"`, nil},
		{"owner by mention", inGroup("/owner @bob", "d2=bob02"), "owner", `"UserIDs":["bob02"]`, nil},
		{"owner by mobile is looked up", inGroup("/owner 13800000000"), "owner", `"Pending":[{"text":"13800000000","kind":"mobile","value":"13800000000"}]`, nil},
		{"owner needs one person", inGroup("/owner @bob @alice", "d2=bob02", "d1=alice01"), "", "~Name exactly one person", nil},
		{"addmember", inGroup("/addmember @alice userid:carol03", "d1=alice01"), "addmember", `"UserIDs":["alice01","carol03"]`, nil},
		{"addmember without people", inGroup("/addmember"), "", "~Name at least one person.", nil},
		// DingTalk left out the @Name of people picked from its @ list: the mentions name them.
		{"addmember by picked mentions alone", inGroup("/addmember", "d2=bob02", "d1=alice01"), "addmember", `"UserIDs":["bob02","alice01"]`, nil},
		{"owner by a picked mention alone", inGroup("/owner", "d2=bob02"), "owner", `"UserIDs":["bob02"]`, nil},
		{"owner by two picked mentions", inGroup("/owner", "d2=bob02", "d1=alice01"), "", "~Name exactly one person", nil},
		{"owner without anyone", inGroup("/owner"), "", "~Name exactly one person", nil},
		{"addmember bad userid", inGroup("/addmember userid:"), "", `~"userid:" is not a valid user ID`, nil},
		{"removemember", inGroup("/移除成员 userid:carol03"), "removemember", `"UserIDs":["carol03"]`, nil},
		{"external sender", Message{Text: "/rename X", Group: true, ConversationID: "cid"}, "", "~I can only create groups for members of this organisation", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			act := l.Interpret(tc.msg)
			if sub, ok := strings.CutPrefix(tc.want, "~"); ok {
				if act.Reply == nil || !strings.Contains(act.Reply.Text, sub) {
					t.Fatalf("reply %+v, want it to contain %q", act.Reply, sub)
				}
				return
			}
			m, ok := act.Plan.(*ManageGroup)
			if !ok {
				t.Fatalf("no ManageGroup plan: %+v", act)
			}
			if m.Command() != tc.cmd {
				t.Errorf("plan for /%s, want /%s", m.Command(), tc.cmd)
			}
			if got := jsonOf(m); !strings.Contains(got, tc.want) {
				t.Errorf("plan %s\nwant it to contain %s", got, tc.want)
			}
		})
	}
}

func TestManageCommandsCompleteLookups(t *testing.T) {
	l := testLanguage(t)
	m := groupMsg("/addmember 13800000000 userid:u1")
	m.ConversationID = "cidTeam=="
	act := l.Interpret(m)
	mg, ok := act.Plan.(*ManageGroup)
	if !ok || len(mg.Pending) != 1 {
		t.Fatalf("plan %+v", act)
	}
	final := l.Complete(mg, []Lookup{{Ref: mg.Pending[0], Candidates: []Person{{"mob01", "Mo"}}}})
	done, ok := final.Plan.(*ManageGroup)
	if !ok || jsonOf(done.UserIDs) != `["mob01","u1"]` || len(done.Pending) != 0 {
		t.Fatalf("completed %+v", final)
	}
	if a := l.Complete(mg, []Lookup{{Ref: mg.Pending[0]}}); a.Reply == nil || !strings.Contains(a.Reply.Text, "13800000000") {
		t.Errorf("someone not found: %+v", a)
	}
}
