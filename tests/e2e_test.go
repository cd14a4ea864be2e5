// Package tests holds dingbot's end-to-end tests: each one runs the real
// dingbot binary against the in-repo fake DingTalk (package dingtalktest),
// which speaks the Stream protocol to the official SDK inside the bot. A test
// injects a user's chat message and asserts what DingTalk receives (the exact
// create-group request) and what the user reads (the exact reply).
package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
)

const (
	lead = "lead01" // the team lead who types the commands
)

// org is the fake organisation every test starts with.
var org = []dingtalktest.User{
	{UserID: lead, Name: "Lead", Active: true, Visible: true},
	{UserID: "alice01", Name: "Alice", Active: true, Visible: true},
	{UserID: "bob02", Name: "Bob", Active: true, Visible: true},
	{UserID: "zhangsan", Name: "张三", Active: true, Visible: true},
	{UserID: "dave04", Name: "Dave", Active: true, Visible: false},
}

// world is one fake DingTalk with one dingbot process connected to it.
type world struct {
	fake *dingtalktest.Server
	bot  *process
	env  map[string]string // the bot's environment, to start more replicas
}

// newWorld starts a fake DingTalk and a dingbot connected to it. At the end
// of the test the bot gets SIGTERM (and must exit 0), and its output must
// contain neither the app secret nor any access token.
func newWorld(t testing.TB, opts dingtalktest.Options, env map[string]string) *world {
	t.Helper()
	if opts.ClientSecret == "" {
		opts.ClientSecret = "e2e-secret-Xq7Z"
	}
	fake := dingtalktest.NewServer(opts)
	t.Cleanup(fake.Close)
	for _, u := range org {
		fake.AddUser(u)
	}
	if _, ok := env["DINGBOT_DATA_DIR"]; !ok {
		env = withDefault(env, "DINGBOT_DATA_DIR", t.TempDir())
	}
	full := botEnv(fake, env)
	w := &world{fake: fake, bot: startProcess(t, full), env: full}
	t.Cleanup(func() { w.assertNoSecretsLogged(t) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := fake.WaitConnections(ctx, 1); err != nil {
		t.Fatalf("bot did not connect: %v\n%s", err, w.bot.Logs())
	}
	return w
}

// botEnv is the environment of a bot connected to fake, with extra on top.
func botEnv(fake *dingtalktest.Server, extra map[string]string) map[string]string {
	env := map[string]string{
		"DINGTALK_CLIENT_ID":            fake.ClientID(),
		"DINGTALK_CLIENT_SECRET":        fake.ClientSecret(),
		"DINGTALK_API_URL":              fake.URL(),
		"DINGTALK_OAPI_URL":             fake.URL(),
		"DINGTALK_RETRY_BASE_DELAY":     "20ms",
		"DINGBOT_HTTP_ADDR":             "127.0.0.1:0",
		"DINGBOT_STREAM_CHECK_INTERVAL": "200ms",
		"DINGBOT_LOG_LEVEL":             "debug",
		"DINGBOT_KICKOFF":               "off",   // kickoff_test.go turns it on
		"DINGBOT_CONFIRM":               "never", // preview_e2e_test.go turns it on
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func withDefault(env map[string]string, key, value string) map[string]string {
	out := map[string]string{key: value}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// assertNoSecretsLogged runs after the bot stopped (cleanups run last-in first-out).
func (w *world) assertNoSecretsLogged(t testing.TB) {
	logs := w.bot.Logs()
	secrets := []string{w.fake.ClientSecret()}
	for _, rec := range w.fake.CreateRequests() {
		if tok := rec.Header.Get("x-acs-dingtalk-access-token"); tok != "" {
			secrets = append(secrets, tok)
		}
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("a secret (%.4s…) appears in the bot's output", s)
		}
	}
}

// say injects a chat message and returns the next reply the bot posts.
func (w *world) say(t *testing.T, msg dingtalktest.Message) dingtalktest.Reply {
	t.Helper()
	before := len(w.fake.Replies())
	if _, err := w.fake.Send(msg); err != nil {
		t.Fatalf("send: %v", err)
	}
	return w.waitReply(t, before)
}

// waitReply waits for reply number n (0-based) and that no second one follows at once.
func (w *world) waitReply(t *testing.T, n int) dingtalktest.Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	replies, err := w.fake.WaitReplies(ctx, n+1)
	if err != nil {
		t.Fatalf("no reply from the bot: %v\n%s", err, w.bot.Logs())
	}
	return replies[n]
}

// groupMsg is a group message from the lead mentioning people by name.
func groupMsg(text string, mentioned ...string) dingtalktest.Message {
	m := dingtalktest.Message{Text: text, SenderID: lead, SenderNick: "Lead", Group: true, ConversationTitle: "Team"}
	for _, name := range mentioned {
		mention := dingtalktest.Mention{Name: name}
		for _, u := range org {
			if u.Name == name {
				mention.UserID = u.UserID
			}
		}
		m.Mentions = append(m.Mentions, mention)
	}
	return m
}

// directMsg is a one-to-one message from the lead.
func directMsg(text string) dingtalktest.Message {
	return dingtalktest.Message{Text: text, SenderID: lead, SenderNick: "Lead"}
}

// assertJSON compares a request body with the expected JSON document.
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("DingTalk received\n%s\nwant\n%s", got, want)
	}
}

// createdText is the reply for a created internal group; owner and members
// are as the reply shows them, e.g. "Lead (lead01)" and "3 (Lead, Alice and Bob)".
func createdText(g dingtalktest.Group, owner, members string) string {
	return fmt.Sprintf("Created group %q.\nType: internal group\nOwner: %s\nMembers: %s\nopenConversationId: %s\nchatid: %s",
		g.Name, owner, members, g.OpenConversationID, g.ChatID)
}

func onlyGroup(t *testing.T, fake *dingtalktest.Server) dingtalktest.Group {
	t.Helper()
	groups := fake.Groups()
	if len(groups) != 1 {
		t.Fatalf("DingTalk has %d groups, want 1", len(groups))
	}
	return groups[0]
}

func TestGroupChatWithTwoMentions(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, nil)
	msg := groupMsg(`/newgroup "Release 4.2" @Alice @Bob`, "Alice", "Bob")
	msg.MsgID = "msgGroupTwoMentions=="
	reply := w.say(t, msg)

	reqs := w.fake.CreateRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d create requests, want 1", len(reqs))
	}
	assertJSON(t, reqs[0].Raw, `{"name":"Release 4.2","owner":"lead01","useridlist":["lead01","alice01","bob02"],"conversationTag":2}`)
	if reqs[0].Header.Get("x-acs-dingtalk-access-token") == "" {
		t.Error("create request without x-acs-dingtalk-access-token")
	}
	g := onlyGroup(t, w.fake)
	if reply.Via != dingtalktest.ViaSession || reply.MsgID != msg.MsgID || reply.MsgType != "text" {
		t.Errorf("reply went via %s for msg %q as %s; want the message's session webhook, text", reply.Via, reply.MsgID, reply.MsgType)
	}
	if want := createdText(g, "Lead (lead01)", "3 (Lead, Alice and Bob)"); reply.Text != want {
		t.Errorf("reply:\n%s\nwant:\n%s", reply.Text, want)
	}
	// Every line of the command's life carries its msg_id, down to the
	// DingTalk client's per-call debug lines.
	calls := 0
	for _, line := range strings.Split(w.bot.Logs(), "\n") {
		var rec map[string]any
		// (The startup preflight's calls belong to no command.)
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "dingtalk call" ||
			(rec["api"] != "group.create" && rec["api"] != "session.reply") {
			continue
		}
		calls++
		if rec["msg_id"] != msg.MsgID {
			t.Errorf("DingTalk call logged without the command's msg_id: %s", line)
		}
	}
	if calls < 1 { // the create (the reply's line may still be on its way)
		t.Errorf("no DingTalk call line logged for the create")
	}
}

func TestOneToOneChatOwnerIsSender(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, nil)
	reply := w.say(t, directMsg("/newgroup Standup"))

	reqs := w.fake.CreateRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d create requests, want 1", len(reqs))
	}
	assertJSON(t, reqs[0].Raw, `{"name":"Standup","owner":"lead01","useridlist":["lead01"],"conversationTag":2}`)
	if want := createdText(onlyGroup(t, w.fake), "Lead (lead01)", "1 (Lead)"); reply.Text != want || reply.Via != dingtalktest.ViaSession {
		t.Errorf("reply via %s:\n%s\nwant:\n%s", reply.Via, reply.Text, want)
	}
}

func TestChineseNameWithCurlyQuotesAndOptions(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, nil)
	// What a Chinese IME types: curly quotes, an ideographic space, a full-width slash.
	reply := w.say(t, groupMsg("／newgroup “发布 4.2 版本”\u3000@张三 --mute yes --history=no --manage owner", "张三"))

	reqs := w.fake.CreateRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d create requests, want 1\n%s", len(reqs), reply.Text)
	}
	assertJSON(t, reqs[0].Raw, `{"name":"发布 4.2 版本","owner":"lead01","useridlist":["lead01","zhangsan"],"conversationTag":2,
		"managementOptions":{"chatBannedType":1,"showHistoryType":0,"managementType":1}}`)
	if want := createdText(onlyGroup(t, w.fake), "Lead (lead01)", "2 (Lead and 张三)"); reply.Text != want {
		t.Errorf("reply:\n%s\nwant:\n%s", reply.Text, want)
	}
}

// usageCases are commands the bot must refuse without calling DingTalk.
func TestBadCommandsGetUsageRepliesAndNoAPICall(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, nil)
	cases := []struct {
		name string
		msg  dingtalktest.Message
		want string
	}{
		{
			name: "21-rune name",
			msg:  groupMsg("/newgroup 一二三四五六七八九十一二三四五六七八九十一"),
			want: "The name \"一二三四五六七八九十一二三四五六七八九十一\" is 21 characters; the limit is 20.\n" +
				"Usage: /newgroup NAME [@member ...] [userid:ID ...] [options]\n" +
				"Example: /newgroup \"Release 4.2\" @alice @bob\n" +
				"All options: /help newgroup",
		},
		{
			name: "unterminated quote",
			msg:  groupMsg(`/newgroup "Release 4.2 @Alice`, "Alice"),
			want: "The quote that starts at “Release 4.2 @Alice” is never closed.\n" +
				"Usage: /newgroup NAME [@member ...] [userid:ID ...] [options]\n" +
				"Example: /newgroup \"Release 4.2\" @alice @bob\n" +
				"All options: /help newgroup",
		},
		{
			name: "unknown command",
			msg:  directMsg("/newgrup Standup"),
			want: "I don't know the command /newgrup. Did you mean /newgroup? Type /help to see what I can do.",
		},
		{
			name: "plain chat",
			msg:  directMsg("hello bot"),
			want: "I understand commands that start with /. Try /help.",
		},
	}
	for _, tc := range cases {
		reply := w.say(t, tc.msg)
		if reply.Text != tc.want {
			t.Errorf("%s: reply\n%s\nwant\n%s", tc.name, reply.Text, tc.want)
		}
	}
	if n := len(w.fake.CreateRequests()); n != 0 {
		t.Errorf("%d create requests for invalid commands, want 0", n)
	}
}

func TestMentionOutsideOrganisationIsReportedByName(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, nil)
	reply := w.say(t, groupMsg("/newgroup Vendors @Alice @Eve", "Alice", "Eve"))
	if !strings.Contains(reply.Text, "@Eve") {
		t.Errorf("reply does not name @Eve:\n%s", reply.Text)
	}
	if n := len(w.fake.CreateRequests()); n != 0 {
		t.Errorf("%d create requests, want 0", n)
	}
}

func TestHelpListsCommandsAndEveryOption(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, nil)
	help := w.say(t, directMsg("/help"))
	if !strings.Contains(help.Text, "/newgroup") || !strings.Contains(help.Text, "/help") {
		t.Errorf("/help does not list the commands:\n%s", help.Text)
	}
	ng := w.say(t, directMsg("/newgroup --help"))
	for _, opt := range []string{"--owner", "--owner-type", "--type", "--ext", "--icon", "--mention-all", "--history", "--approval", "--searchable", "--mute", "--manage"} {
		if !strings.Contains(ng.Text, opt) {
			t.Errorf("/newgroup --help does not document %s", opt)
		}
	}
}
