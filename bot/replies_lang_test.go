package bot_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
)

// loggedHarness is accessHarness (policy cfg; no policy if cfg is nil)
// whose Bot logs JSON lines into the returned buffer.
func loggedHarness(t *testing.T, cfg *access.Config, clock func() time.Time) (*harness, *testutil.SyncBuffer) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	var policy *access.Policy
	if cfg != nil {
		var err error
		if policy, err = access.New(*cfg, clock); err != nil {
			t.Fatalf("access.New: %v", err)
		}
	}
	h := newHarness(t, func(o *bot.Options) {
		o.Access = policy
		o.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	return h, logs
}

// refusals are the "refused" log lines in logs, as reason/msg_type/rule.
func refusals(t *testing.T, logs *testutil.SyncBuffer) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] != "refused" {
			continue
		}
		s := rec["reason"].(string) + "/" + rec["msg_type"].(string)
		if r, ok := rec["rule"].(string); ok {
			s += "/" + r
		}
		out = append(out, s)
	}
	return out
}

// TestDryRunOfADeniedCommandSaysSo: a dry run whose real command the access
// policy would refuse (here: another owner, from a sender who is no admin)
// ends with that refusal instead of "send it without --dry-run", in the
// command's language; asking takes no rate-limit token, so the sender's one
// command per hour is still there afterwards. An admin's dry run ends with
// the invitation.
func TestDryRunOfADeniedCommandSaysSo(t *testing.T) {
	clock := &frozen{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	h, logs := loggedHarness(t, &access.Config{Admins: []string{"boss"}, Rate: access.RateConfig{PerUser: "1/h"}}, clock.now)
	h.fake.AddUser(dingtalktest.User{UserID: "boss", Name: "Boss", Active: true, Visible: true})
	h.wire(t)
	bobMention := dingtalktest.Mention{Name: "Bob", UserID: bob.UserID}

	got := accessSay(t, h, groupCommand(`/newgroup Oncall @Bob --owner @Bob --dry-run`, bobMention))
	want := "Dry run: nothing was created. This is what I would send to DingTalk:\n" +
		"Name (name): \"Oncall\"\n" +
		"Type (conversationTag): internal group, 2\n" +
		"Owner: Bob (bob)\n" +
		"Owner type (ownerType): not sent (DingTalk's default: employee (emp))\n" +
		"Members (useridlist, 2): Bob (bob) and Alice (alice)\n" +
		"External contacts (extidlist): none\n" +
		"Icon (icon): none\n" +
		"--mention-all (managementOptions.mentionAllAuthority): not sent (DingTalk's default: everyone)\n" +
		"--history (managementOptions.showHistoryType): not sent (DingTalk's default: no)\n" +
		"--approval (managementOptions.validationType): not sent (DingTalk's default: no)\n" +
		"--searchable (managementOptions.searchable): not sent (DingTalk's default: no)\n" +
		"--mute (managementOptions.chatBannedType): not sent (DingTalk's default: no)\n" +
		"--manage (managementOptions.managementType): not sent (DingTalk's default: everyone)\n" +
		"Request body of POST /v1.0/im/group/create:\n" +
		`{"name":"Oncall","owner":"bob","useridlist":["bob","alice"],"conversationTag":2}` + "\n" +
		"Without --dry-run this command would be refused: Only admins may make someone else the owner of a new group (rule: owner_override). " +
		"Ask an admin of this bot to add your user ID alice to access.admins, or leave out --owner to be the owner yourself."
	if got != want {
		t.Errorf("dry run:\n got %s\nwant %s", got, want)
	}

	got = accessSay(t, h, groupCommand(`/建群 值班 @Bob --群主 @Bob --预览`, bobMention))
	want = "预览：什么都没有创建。以下是我将发给钉钉的内容：\n" +
		"群名（name）：“值班”\n" +
		"类型（conversationTag）：内部群，2\n" +
		"群主：Bob (bob)\n" +
		"群主类型（ownerType）：不发送（钉钉默认：员工（emp））\n" +
		"成员（useridlist，2 人）：Bob (bob)和Alice (alice)\n" +
		"外部联系人（extidlist）：无\n" +
		"群头像（icon）：无\n" +
		"--mention-all（managementOptions.mentionAllAuthority）：不发送（钉钉默认：所有人）\n" +
		"--history（managementOptions.showHistoryType）：不发送（钉钉默认：否）\n" +
		"--approval（managementOptions.validationType）：不发送（钉钉默认：否）\n" +
		"--searchable（managementOptions.searchable）：不发送（钉钉默认：否）\n" +
		"--mute（managementOptions.chatBannedType）：不发送（钉钉默认：否）\n" +
		"--manage（managementOptions.managementType）：不发送（钉钉默认：所有人）\n" +
		"POST /v1.0/im/group/create 的请求体：\n" +
		`{"name":"值班","owner":"bob","useridlist":["bob","alice"],"conversationTag":2}` + "\n" +
		"去掉 --dry-run 后，这条命令会被拒绝：只有管理员可以指定别人当群主（规则：owner_override）。" +
		"请联系本机器人的管理员，把你的用户 ID alice 加入 access.admins；或去掉 --群主，由你自己当群主。"
	if got != want {
		t.Errorf("Chinese dry run:\n got %s\nwant %s", got, want)
	}

	got = accessSay(t, h, dingtalktest.Message{Text: `/newgroup Oncall userid:bob --owner userid:bob --dry-run`, SenderID: "boss"})
	if want := "\nSend the same command without --dry-run to create the group."; !strings.HasSuffix(got, want) {
		t.Errorf("admin's dry run:\n%s\nwant it to end with %q", got, want)
	}

	// No token was taken: alice's one command per hour is still there.
	if got := accessSay(t, h, groupCommand(`/newgroup Oncall`)); !strings.HasPrefix(got, `Created group "Oncall".`) {
		t.Errorf("the command after the dry runs:\n%s", got)
	}
	if got, want := accessSay(t, h, groupCommand(`/newgroup Oncall2`)),
		"/newgroup is limited to 1 per hour for each person, and you have reached that (rule: rate.per_user). Try again in 1 hour."; got != want {
		t.Errorf("the second command:\n got %s\nwant %s", got, want)
	}
	h.shutdown(t)
	if n := len(h.fake.Groups()); n != 1 {
		t.Errorf("%d groups, want 1", n)
	}
	if got, want := strings.Join(refusals(t, logs), " "), "denied/text/rate.per_user"; got != want {
		t.Errorf("refusals logged: %s, want %s", got, want)
	}
}

// TestDryRunWithLookUpsOfADeniedCommandSaysSo: a dry run that names the
// owner by mobile number is admitted (its look-up is counted as before), the
// owner is looked up and shown, and the reply says the real command would be
// refused.
func TestDryRunWithLookUpsOfADeniedCommandSaysSo(t *testing.T) {
	h, _ := loggedHarness(t, &access.Config{}, nil)
	h.fake.AddUser(dingtalktest.User{UserID: "carol", Name: "Carol", Mobile: "13800000003", Active: true, Visible: true})
	h.wire(t)
	got := accessSay(t, h, dingtalktest.Message{Text: `/newgroup Oncall --owner 13800000003 --dry-run`, SenderID: alice.UserID})
	h.shutdown(t)
	if !strings.Contains(got, "\nOwner: Carol (carol)\n") || !strings.HasSuffix(got, "\nWithout --dry-run this command would be refused: "+
		"Only admins may make someone else the owner of a new group (rule: owner_override). "+
		"Ask an admin of this bot to add your user ID alice to access.admins, or leave out --owner to be the owner yourself.") {
		t.Errorf("reply:\n%s", got)
	}
	if n := h.fake.LookupCalls(dingtalktest.PathUserByMobile); n != 1 {
		t.Errorf("%d look-ups by mobile, want 1", n)
	}
}

// TestRepliesToNonCommandsInTheSendersLanguage: a picture from a sender
// whose name is written in Chinese is answered in Chinese (from one whose
// name is not, in the default language, English here); an unknown command
// typed in Chinese is answered in Chinese. Each refusal is logged with its
// reason and msgtype.
func TestRepliesToNonCommandsInTheSendersLanguage(t *testing.T) {
	h, logs := loggedHarness(t, nil, nil)
	next := h.capture(t)
	handle := func(m bot.Message) string {
		t.Helper()
		before := len(h.fake.Replies())
		if err := h.bot.Handle(m); err != nil {
			t.Fatalf("Handle: %v", err)
		}
		return h.waitReplies(t, before+1)[before].Text
	}
	picture := func(nick string) bot.Message {
		m := next(dingtalktest.Message{Text: "x", SenderID: alice.UserID, SenderNick: nick})
		m.MsgType, m.Text = "picture", ""
		return m
	}

	if got, want := handle(picture("王芳")), "我只能读文字消息。请输入命令，例如 /建群；输入 /帮助 查看全部命令。"; got != want {
		t.Errorf("picture from 王芳:\n got %s\nwant %s", got, want)
	}
	if got, want := handle(picture("Alice")), "I can only read text messages. Type a command such as /newgroup, or /help to see them all."; got != want {
		t.Errorf("picture from Alice:\n got %s\nwant %s", got, want)
	}
	if got, want := handle(next(dingtalktest.Message{Text: "/建个群 周会", SenderID: alice.UserID, SenderNick: "Alice"})),
		"没有 /建个群 这个命令。你是不是想输入 /建群？输入 /帮助 查看我能做什么。"; got != want {
		t.Errorf("unknown Chinese command:\n got %s\nwant %s", got, want)
	}
	if got, want := handle(next(dingtalktest.Message{Text: `/newgroup "Release 4.2 @Alice`, SenderID: alice.UserID})),
		"The quote that starts at “Release 4.2 @Alice” is never closed.\n"+
			"Usage: /newgroup NAME [@member ...] [userid:ID ...] [options]\n"+
			"Example: /newgroup \"Release 4.2\" @alice @bob\n"+
			"All options: /help newgroup"; got != want {
		t.Errorf("unclosed quote:\n got %s\nwant %s", got, want)
	}
	h.shutdown(t)
	if got, want := strings.Join(refusals(t, logs), " "), "non_text/picture non_text/picture unknown_command/text usage_error/text"; got != want {
		t.Errorf("refusals logged: %s, want %s", got, want)
	}
}
