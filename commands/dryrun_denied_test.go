package commands

import (
	"strings"
	"testing"

	"github.com/dingbot/dingbot/access"
)

// TestDryRunSaysWhatWouldBeDenied: a dry run whose real command the access
// policy would deny ends with that denial (the DeniedReply text) instead of
// inviting the sender to send it, in the command's language; without a
// denial it ends with the invitation. A final dry run comes back from
// Interpret with Action.DryRun set, so the bot can ask the policy about it.
func TestDryRunSaysWhatWouldBeDenied(t *testing.T) {
	l := testLanguage(t)
	owner := &access.Denial{Rule: access.RuleOwnerOverride, UserID: testSender}
	standard := &access.Denial{Rule: access.RuleStandardGroups, UserID: testSender, Contact: "the IT team (@Wang)"}
	users := &access.Denial{Rule: access.RuleUsers, UserID: testSender}
	tests := []struct {
		name   string
		text   string
		denial *access.Denial
		last   string // the reply's last line
	}{
		{"allowed", "/newgroup Oncall --owner userid:bob02 --dry-run", nil,
			"Send the same command without --dry-run to create the group."},
		{"allowed, in Chinese", "/建群 值班 --群主 userid:bob02 --预览", nil,
			"去掉 --dry-run 再发送同一条命令，即可建群。"},
		{"owner_override", "/newgroup Oncall --owner userid:bob02 --dry-run", owner,
			"Without --dry-run this command would be refused: Only admins may make someone else the owner of a new group (rule: owner_override). " +
				"Ask an admin of this bot to add your user ID manager4220 to access.admins, or leave out --owner to be the owner yourself."},
		{"owner_override, in Chinese", "/建群 值班 --群主 userid:bob02 --预览", owner,
			"去掉 --dry-run 后，这条命令会被拒绝：只有管理员可以指定别人当群主（规则：owner_override）。" +
				"请联系本机器人的管理员，把你的用户 ID manager4220 加入 access.admins；或去掉 --群主，由你自己当群主。"},
		{"standard_groups", "/newgroup Vendors --standard --dry-run", standard,
			"Without --dry-run this command would be refused: Only admins may create standard groups (rule: standard_groups). " +
				"Ask the IT team (@Wang) to add your user ID manager4220 to access.admins, or create an internal group instead (--internal)."},
		{"standard_groups, in Chinese", "/建群 供应商 --standard --预览", standard,
			"去掉 --dry-run 后，这条命令会被拒绝：只有管理员可以建普通群（规则：standard_groups）。" +
				"请联系the IT team (@Wang)，把你的用户 ID manager4220 加入 access.admins；或改建内部群（--internal）。"},
		{"allow_users", "/newgroup Oncall --dry-run", users,
			"Without --dry-run this command would be refused: You are not on the list of people who may create groups (rule: allow_users). " +
				"Ask an admin of this bot to add your user ID manager4220 to access.allow_users."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			act := l.Interpret(directMsg(tt.text))
			dry := act.DryRun()
			if dry == nil || act.Reply == nil || act.Plan != nil {
				t.Fatalf("Interpret(%q) = %+v, want a reply with its dry run", tt.text, act)
			}
			if !dry.AccessRequest().DryRun {
				t.Fatalf("the dry run's access request is no dry run: %+v", dry.AccessRequest())
			}
			got := act.Reply.Text
			if tt.denial != nil {
				got = l.DryRunAnswer(dry.WouldBeDenied(tt.denial)).Text
				if plain := l.DryRunAnswer(dry).Text; plain != act.Reply.Text {
					t.Errorf("WouldBeDenied changed the plan it was called on:\n%s", plain)
				}
			}
			lines := strings.Split(got, "\n")
			if last := lines[len(lines)-1]; last != tt.last {
				t.Errorf("last line:\n got %s\nwant %s", last, tt.last)
			}
			if want := strings.Split(act.Reply.Text, "\n"); strings.Join(lines[:len(lines)-1], "\n") != strings.Join(want[:len(want)-1], "\n") {
				t.Errorf("the rest of the reply changed:\n%s\nwant\n%s", got, act.Reply.Text)
			}
		})
	}
}

// TestDryRunDenialSurvivesLookUps: a dry run with people to look up is a
// plan; the denial given to it before the look-ups ends the reply that
// Complete gives after them.
func TestDryRunDenialSurvivesLookUps(t *testing.T) {
	l := testLanguage(t)
	act := l.Interpret(directMsg("/newgroup Oncall --owner 13800000003 --dry-run"))
	dry, ok := act.Plan.(DryRunPlan)
	if !ok || act.DryRun() != nil || !dry.AccessRequest().DryRun {
		t.Fatalf("Interpret = %+v, want a dry-run plan with people to look up", act)
	}
	denied := dry.WouldBeDenied(&access.Denial{Rule: access.RuleOwnerOverride, UserID: testSender})
	ref := act.CreateGroup().Pending[0]
	done := l.Complete(denied, []Lookup{{Ref: ref, Candidates: []Person{{"carol03", "Carol"}}}})
	if done.Reply == nil {
		t.Fatalf("Complete = %+v, want the dry run's reply", done)
	}
	want := "\nOwner: Carol (carol03)\n"
	if !strings.Contains(done.Reply.Text, want) || !strings.HasSuffix(done.Reply.Text, "\nWithout --dry-run this command would be refused: "+
		"Only admins may make someone else the owner of a new group (rule: owner_override). "+
		"Ask an admin of this bot to add your user ID manager4220 to access.admins, or leave out --owner to be the owner yourself.") {
		t.Errorf("reply:\n%s", done.Reply.Text)
	}
	plain := l.Complete(act.Plan, []Lookup{{Ref: ref, Candidates: []Person{{"carol03", "Carol"}}}})
	if plain.Reply == nil || !strings.HasSuffix(plain.Reply.Text, "\nSend the same command without --dry-run to create the group.") {
		t.Errorf("without a denial:\n%+v", plain.Reply)
	}
}

// TestRefusalReasons: Interpret says why a reply turns a message down, for
// the bot's log; answers (help, a dry run) and plans have no reason.
func TestRefusalReasons(t *testing.T) {
	l := testLanguage(t)
	for _, tt := range []struct {
		text string
		want Refusal
	}{
		{"hello bot", RefusalNotCommand},
		{"你好", RefusalNotCommand},
		{"/newgrup Standup", RefusalUnknownCommand},
		{"/建个群 周会", RefusalUnknownCommand},
		{`/newgroup "Release 4.2 @Alice`, RefusalUsageError},
		{"/newgroup --bogus X", RefusalUsageError},
		{"/newgroup", RefusalUsageError},
		{"/help", ""},
		{"/newgroup X --dry-run", ""},
		{"/newgroup X", ""},
	} {
		if got := l.Interpret(directMsg(tt.text)).Refusal(); got != tt.want {
			t.Errorf("Interpret(%q).Refusal() = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestReplyLanguageOfNonTextAndUnknown: a message without text is answered
// in Chinese when the sender's name has Chinese characters, else in the
// default language; an unknown command or plain text in Chinese is answered
// in Chinese whatever the default.
func TestReplyLanguageOfNonTextAndUnknown(t *testing.T) {
	en := testLanguage(t)
	zhSettings := testSettings()
	zhSettings.DefaultLang = Chinese
	zh, err := New(zhSettings)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		l    *Language
		nick string
		want Lang
	}{
		{en, "王芳", Chinese},
		{en, "Wang Fang 王芳", Chinese},
		{en, "Alice", English},
		{en, "wangfang", English},
		{en, "", English},
		{zh, "Alice", Chinese},
		{zh, "王芳", Chinese},
	} {
		if got := tt.l.NonTextLang(tt.nick); got != tt.want {
			t.Errorf("NonTextLang(%q) with default %s = %s, want %s", tt.nick, tt.l.DefaultLang(), got, tt.want)
		}
	}
	for _, tt := range []struct {
		text, want string
	}{
		{"/建个群 周会", "没有 /建个群 这个命令。你是不是想输入 /建群？输入 /帮助 查看我能做什么。"},
		{"你好", "我只懂以 / 开头的命令。试试 /帮助。"},
		{"/newgrup Standup", "I don't know the command /newgrup. Did you mean /newgroup? Type /help to see what I can do."},
	} {
		if got := en.Interpret(directMsg(tt.text)).Reply.Text; got != tt.want {
			t.Errorf("Interpret(%q):\n got %s\nwant %s", tt.text, got, tt.want)
		}
	}
}
