package commands

import (
	"strings"
	"testing"

	"github.com/dingbot/dingbot/dingclient"
)

// mentionSettings: aliases for one person (boss) and for several (team), a
// configured name for some people only.
func mentionSettings() Settings {
	return Settings{
		People: map[string][]string{"boss": {"dave04"}, "team": {"alice01", "bob02"}},
		Names:  map[string]string{"alice01": "Alice", "dave04": "Dave"},
	}
}

// createdLines are the lines of the created reply that name the owner and
// the members, for a final plan.
func createdLines(t *testing.T, l *Language, act Action) (owner, members string) {
	t.Helper()
	cg := act.CreateGroup()
	if cg == nil {
		t.Fatalf("no plan: %+v", act.Reply)
	}
	text := l.createdReply(cg, &dingclient.CreateGroupResponse{ConversationTag: 2, OpenConversationID: "cidNEW", ChatID: "chatNEW"}, nil).Text
	lines := strings.Split(text, "\n")
	if len(lines) < 4 {
		t.Fatalf("created reply:\n%s", text)
	}
	return lines[2], lines[3]
}

// TestMentionsWithoutText: DingTalk strips the @Name text of a mention picked
// from its @ list and keeps only atUsers. Every shape — no @word at all, some
// typed and some picked, typed aliases, mobiles and userid: next to picked
// people — gives the right members in the documented order, and the replies
// name them: the configuration's name, else the @word DingTalk inserted, else
// the user ID (never an alias or userid: token).
func TestMentionsWithoutText(t *testing.T) {
	mobile := answer{"13800000000", []Person{{"mob01", "Mo Bai"}}, nil}
	tests := []struct {
		name    string
		msg     Message
		answers []answer
		want    dingclient.CreateGroupRequest
		owner   string // the created reply's owner line
		members string // the created reply's members line
	}{
		{"no @word, two people picked", groupMsg(`/newgroup Release`, "d1=alice01", "d2=bob02"), nil,
			req("Release", testSender, testSender, "alice01", "bob02"),
			"Owner: Manager (manager4220)", "Members: 3 (Manager, Alice and bob02)"},
		{"no @word, Chinese", groupMsg(`/建群 发布`, "d2=bob02", "d1=alice01"), nil,
			req("发布", testSender, testSender, "bob02", "alice01"),
			"群主：Manager (manager4220)", "成员：3 人（Manager、bob02和Alice）"},
		{"no @word, a userid: after the name", groupMsg(`/newgroup Release userid:erin05`, "d2=bob02"), nil,
			req("Release", testSender, testSender, "bob02", "erin05"),
			"Owner: Manager (manager4220)", "Members: 3 (Manager, bob02 and erin05)"},
		{"one typed, one picked: mentions in atUsers order", groupMsg(`/newgroup Release @Erin`, "d2=bob02", "d5=erin05"), nil,
			req("Release", testSender, testSender, "bob02", "erin05"),
			"Owner: Manager (manager4220)", "Members: 3 (Manager, bob02 and erin05)"},
		{"all typed: paired, the @word names the person", groupMsg(`/newgroup Release @Erin @Bob`, "d5=erin05", "d2=bob02"), nil,
			req("Release", testSender, testSender, "erin05", "bob02"),
			"Owner: Manager (manager4220)", "Members: 3 (Manager, Erin and Bob)"},
		{"the configuration's name wins over the @word", groupMsg(`/newgroup Release @Ali`, "d1=alice01"), nil,
			req("Release", testSender, testSender, "alice01"),
			"Owner: Manager (manager4220)", "Members: 2 (Manager and Alice)"},
		{"alias of several typed, one person picked", groupMsg(`/newgroup Release @team`, "d5=erin05"), nil,
			req("Release", testSender, testSender, "erin05", "alice01", "bob02"),
			"Owner: Manager (manager4220)", "Members: 4 (Manager, erin05, Alice and bob02)"},
		{"mobile typed, one person picked", groupMsg(`/newgroup Release @13800000000`, "d5=erin05"), []answer{mobile},
			req("Release", testSender, testSender, "erin05", "mob01"),
			"Owner: Manager (manager4220)", "Members: 3 (Manager, erin05 and Mo Bai)"},
		{"alias of one person is no name", groupMsg(`/newgroup Release @boss userid:bob02`), nil,
			req("Release", testSender, testSender, "dave04", "bob02"),
			"Owner: Manager (manager4220)", "Members: 3 (Manager, Dave and bob02)"},
		{"alias of one person paired with that person", groupMsg(`/newgroup Release --owner @boss`, "d4=dave04"), nil,
			req("Release", "dave04", "dave04", testSender),
			"Owner: Dave (dave04)", "Members: 2 (Dave and Manager)"},
		{"--owner by userid, a person picked", groupMsg(`/newgroup Release --owner userid:erin05`, "d1=alice01"), nil,
			req("Release", "erin05", "erin05", testSender, "alice01"),
			"Owner: erin05", "Members: 3 (erin05, Manager and Alice)"},
		{"--owner typed and picked, another picked", groupMsg(`/newgroup Release @Bob --owner @Erin`, "d2=bob02", "d5=erin05"), nil,
			req("Release", "erin05", "erin05", testSender, "bob02"),
			"Owner: Erin (erin05)", "Members: 3 (Erin, Manager and Bob)"},
	}
	l, err := New(mentionSettings())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, final := run(t, l, tt.msg, tt.answers...)
			cg := final.CreateGroup()
			if cg == nil {
				t.Fatalf("replied:\n%s", final.Reply.Text)
			}
			if got, want := jsonOf(cg.Request), jsonOf(tt.want); got != want {
				t.Errorf("request\n got %s\nwant %s", got, want)
			}
			owner, members := createdLines(t, l, final)
			if owner != tt.owner || members != tt.members {
				t.Errorf("reply lines\n got %q\n     %q\nwant %q\n     %q", owner, members, tt.owner, tt.members)
			}
		})
	}
}

// TestMentionsWithoutTextRefused: an owner the bot cannot tell from the
// mentions is refused, never guessed, in both languages.
func TestMentionsWithoutTextRefused(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want string
	}{
		{"--owner @x typed, another person picked", groupMsg(`/newgroup Release --owner @Erin`, "d1=alice01", "d5=erin05"),
			"I can't tell which of the people you mentioned @Erin refers to. Write --owner userid:ID instead."},
		{"--owner @x typed, another person picked, Chinese", groupMsg(`/建群 发布 --owner @Erin`, "d1=alice01", "d5=erin05"),
			"我分不清 @Erin 指的是你 @ 的哪个人。请改写成 --owner userid:ID。"},
		{"--owner alias typed, someone else picked", groupMsg(`/newgroup Release --owner @boss`, "d1=alice01"),
			"I can't tell which of the people you mentioned @boss refers to. Write --owner userid:ID instead."},
		{"--owner alias typed, someone else picked, Chinese", groupMsg(`/建群 发布 --owner @boss`, "d1=alice01"),
			"我分不清 @boss 指的是你 @ 的哪个人。请改写成 --owner userid:ID。"},
	}
	l, err := New(mentionSettings())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			act := l.Interpret(tt.msg)
			if act.Reply == nil {
				t.Fatalf("no reply: %s", jsonOf(act.Plan))
			}
			if !strings.HasPrefix(act.Reply.Text, tt.want) {
				t.Errorf("reply\n%s\nwant it to start with\n%s", act.Reply.Text, tt.want)
			}
		})
	}
}

// TestDryRunNamesMembers: a dry run names the members as the created reply
// does: the configuration's name with the user ID, else the user ID alone.
func TestDryRunNamesMembers(t *testing.T) {
	l, err := New(mentionSettings())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ text, want string }{
		{`/newgroup Release @boss userid:bob02 --dry-run`, "Dave (dave04)"},
		{`/建群 发布 @boss userid:bob02 --dry-run`, "Dave (dave04)"},
	} {
		act := l.Interpret(groupMsg(tt.text))
		if act.Reply == nil {
			t.Fatalf("%s: no reply", tt.text)
		}
		line := ""
		for _, s := range strings.Split(act.Reply.Text, "\n") {
			if strings.Contains(s, "dave04") {
				line = s
				break
			}
		}
		for _, want := range []string{tt.want, "bob02", "Manager (manager4220)"} {
			if !strings.Contains(line, want) {
				t.Errorf("%s: members line %q lacks %q\n%s", tt.text, line, want, act.Reply.Text)
			}
		}
		if strings.Contains(act.Reply.Text, "boss (") || strings.Contains(act.Reply.Text, "(boss") {
			t.Errorf("%s: the alias is shown as a name:\n%s", tt.text, act.Reply.Text)
		}
	}
}
