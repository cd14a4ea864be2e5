package demo

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/client"

	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/config"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/dingtalktest"
)

func newTestDemo(t *testing.T) (*Demo, *httptest.Server) {
	t.Helper()
	d, err := Start(Options{Addr: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv := httptest.NewServer(d.web.handler(ctx))
	t.Cleanup(srv.Close)
	return d, srv
}

func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPageIsSelfContained(t *testing.T) {
	_, srv := newTestDemo(t)
	code, page := call(t, srv, "GET", "/", "")
	if code != 200 || !strings.Contains(page, `data-testid="composer"`) {
		t.Fatalf("GET / = %d\n%s", code, page)
	}
	for _, path := range []string{"/app.js", "/style.css"} {
		if code, _ := call(t, srv, "GET", path, ""); code != 200 {
			t.Errorf("GET %s = %d", path, code)
		}
	}
	// No CDN, no external resource: nothing in the assets points off the machine.
	err := fs.WalkDir(static, "static", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, _ := static.ReadFile(path)
		for _, bad := range []string{"http://", "https://", "//cdn", "@import"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s contains %q", path, bad)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStateListsPeopleAndExistingGroups(t *testing.T) {
	_, srv := newTestDemo(t)
	_, body := call(t, srv, "GET", "/api/state", "")
	var st stateView
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range st.People {
		names[p.Name] = true
	}
	for _, want := range []string{"王芳", "张三", "李四", "Alice", "Bob", "Dave"} {
		if !names[want] {
			t.Errorf("people lack %s", want)
		}
	}
	if len(st.Chats) != 2 || len(st.Groups) != 2 {
		t.Fatalf("%d chats and %d groups, want 2 existing groups:\n%s", len(st.Chats), len(st.Groups), body)
	}
	for _, g := range st.Groups {
		if !g.Existing || g.Owner.ID == "" || len(g.Members) < 3 || g.ChatID == "" {
			t.Errorf("group %+v", g)
		}
	}
	if st.Switch != SwitchNone || len(st.Switches) != 6 {
		t.Errorf("switch %q, %d switches", st.Switch, len(st.Switches))
	}
}

func TestSwitchesScriptTheFake(t *testing.T) {
	d, srv := newTestDemo(t)
	if code, _ := call(t, srv, "POST", "/api/switch", `{"error":"nonsense"}`); code != 400 {
		t.Errorf("unknown switch: %d, want 400", code)
	}
	for _, tc := range []struct {
		sw     string
		status int
		code   string
		msg    string
	}{
		{SwitchNone, 0, "", ""},
		{SwitchPermission, 400, dingtalktest.CodePermissionFailed, "权限校验失败"},
		{SwitchVisibility, 400, dingtalktest.CodePermissionFailed, "群主不在应用可见性内"},
		{SwitchThrottling, 403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", dingtalktest.MsgQPSLimit},
		{SwitchSystem, 500, "system.error", dingtalktest.MsgSystemError},
		{SwitchExpiredSession, 0, "", ""},
	} {
		if code, body := call(t, srv, "POST", "/api/switch", `{"error":"`+tc.sw+`"}`); code != 200 {
			t.Fatalf("switch %s: %d %s", tc.sw, code, body)
		}
		r := d.web.scriptCreate(dingtalktest.CreateGroupRequestRecord{})
		switch {
		case tc.status == 0 && r != nil:
			t.Errorf("%s: scripted %+v, want normal processing", tc.sw, r)
		case tc.status != 0 && (r == nil || r.Status != tc.status || r.Code != tc.code || r.Message != tc.msg):
			t.Errorf("%s: scripted %+v, want %d %s %s", tc.sw, r, tc.status, tc.code, tc.msg)
		}
		if st := d.web.state(); st.Switch != tc.sw {
			t.Errorf("state switch %q, want %q", st.Switch, tc.sw)
		}
	}
}

func TestSendValidatesAndNeedsTheBot(t *testing.T) {
	_, srv := newTestDemo(t)
	for _, body := range []string{`{"as":"nobody","chat":"dm","text":"/help"}`, `{"as":"alice01","chat":"dm","text":"  "}`, `{"as":"alice01","chat":"cidNope","text":"/help"}`, `nope`} {
		if code, _ := call(t, srv, "POST", "/api/send", body); code != 400 {
			t.Errorf("%s: %d, want 400", body, code)
		}
	}
	// No bot is connected in this test: the page is told so, readably.
	code, body := call(t, srv, "POST", "/api/send", `{"as":"alice01","chat":"dm","text":"/help"}`)
	if code != 503 || !strings.Contains(body, "not connected") {
		t.Errorf("%d %s", code, body)
	}
	if _, body := call(t, srv, "GET", "/api/messages?since=0", ""); !strings.Contains(body, `"messages":[]`) {
		t.Errorf("messages after a failed send: %s", body)
	}
}

func TestParseArgs(t *testing.T) {
	o, err := ParseArgs(nil, io.Discard)
	if err != nil || o.Addr != DefaultAddr || o.Terminal || o.DataDir != "" {
		t.Errorf("defaults: %+v %v", o, err)
	}
	o, err = ParseArgs([]string{"--terminal", "--data", "/x", "--addr", "127.0.0.1:9000"}, io.Discard)
	if err != nil || !o.Terminal || o.DataDir != "/x" || o.Addr != "127.0.0.1:9000" {
		t.Errorf("flags: %+v %v", o, err)
	}
	if _, err := ParseArgs([]string{"--addr", "8080"}, io.Discard); err == nil {
		t.Error("--addr 8080 accepted")
	}
	if _, err := ParseArgs([]string{"-h"}, io.Discard); err != ErrHelp {
		t.Errorf("-h: %v", err)
	}
}

func TestBusyPortIsReported(t *testing.T) {
	d, err := Start(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, err = Start(Options{Addr: d.page.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "--addr") {
		t.Errorf("second demo on the same port: %v", err)
	}
}

// TestCreatedGroupBecomesAChat: a group created through DingTalk's API is
// not a chat until the bot joins it (as after /newgroup); then the page can
// send there, the bot's markdown kickoff is an entry of that chat with its
// title, and the chat has the group's current name.
func TestCreatedGroupBecomesAChat(t *testing.T) {
	d, srv := newTestDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go d.web.follow(ctx)
	dt, err := dingclient.New(dingclient.Config{APIURL: d.fake.URL(), OAPIURL: d.fake.URL(), ClientID: d.fake.ClientID(), ClientSecret: d.fake.ClientSecret()})
	if err != nil {
		t.Fatal(err)
	}
	created, err := dt.CreateGroup(ctx, &dingclient.CreateGroupRequest{Name: "发布 4.2", Owner: "bob02", UserIDs: []string{"bob02", "alice01"}})
	if err != nil {
		t.Fatal(err)
	}
	oc := created.OpenConversationID
	chat := func() (groupView, bool) {
		st := d.web.state()
		for _, g := range st.Chats {
			if g.ID == oc {
				return g, true
			}
		}
		return groupView{}, false
	}
	sendHere := `{"as":"bob02","chat":"` + oc + `","text":"/groupinfo","mentions":["alice01"]}`
	if _, ok := chat(); ok {
		t.Fatal("a group the bot is not in is a chat")
	}
	if code, body := call(t, srv, "POST", "/api/send", sendHere); code != 400 {
		t.Errorf("sending in a group the bot is not in: %d %s, want 400", code, body)
	}

	if err := dt.AddRobotToConversation(ctx, oc); err != nil {
		t.Fatal(err)
	}
	g, ok := chat()
	if !ok || !g.Bot || g.Existing || g.Name != "发布 4.2" || len(g.Members) != 2 {
		t.Fatalf("after the bot joined: %+v (a chat: %v)", g, ok)
	}
	// The message is valid; no bot is connected in this test, so the fake refuses it.
	if code, body := call(t, srv, "POST", "/api/send", sendHere); code != 503 {
		t.Errorf("sending in the bot's new group: %d %s, want 503 (not connected)", code, body)
	}

	if err := dt.SendGroupMarkdown(ctx, oc, "发布 4.2", "### 👋 发布 4.2\n\n**Owner:** Bob"); err != nil {
		t.Fatal(err)
	}
	_, body := call(t, srv, "GET", "/api/messages?since=0&wait=5000", "")
	var res struct{ Messages []entry }
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 1 {
		t.Fatalf("messages: %s", body)
	}
	if e := res.Messages[0]; e.Chat != oc || e.From != "bot" || e.Format != "markdown" || e.Title != "发布 4.2" || !strings.HasPrefix(e.Text, "### 👋") || e.Via != dingtalktest.ViaGroupAPI {
		t.Errorf("kickoff entry %+v", e)
	}

	if err := dt.UpdateGroup(ctx, &dingclient.UpdateGroupRequest{ChatID: created.ChatID, Name: "发布 4.3"}); err != nil {
		t.Fatal(err)
	}
	if g, ok := chat(); !ok || g.Name != "发布 4.3" {
		t.Errorf("after a rename: %+v", g)
	}
}

// TestTerminalMatchesReplies: in terminal mode a line's reply is the one to
// its message, text or markdown (a /newgroup preview); the kickoff posted in
// a new group is not.
func TestTerminalMatchesReplies(t *testing.T) {
	group := dingtalktest.Message{MsgID: "m1", Group: true, ConversationID: "cidRelease", SenderID: "manager4220"}
	direct := dingtalktest.Message{MsgID: "m2", ConversationID: "cidDM", SenderID: "manager4220"}
	for _, tc := range []struct {
		m    dingtalktest.Message
		r    dingtalktest.Reply
		want bool
	}{
		{group, dingtalktest.Reply{Via: dingtalktest.ViaSession, MsgID: "m1", ConversationID: "cidRelease"}, true},
		{group, dingtalktest.Reply{Via: dingtalktest.ViaSession, MsgID: "m0", ConversationID: "cidRelease"}, false},
		{group, dingtalktest.Reply{Via: dingtalktest.ViaGroupAPI, ConversationID: "cidRelease", MsgType: "text"}, true},
		{group, dingtalktest.Reply{Via: dingtalktest.ViaGroupAPI, ConversationID: "cidNew", MsgType: "markdown"}, false},
		{direct, dingtalktest.Reply{Via: dingtalktest.ViaOTOAPI, UserID: "manager4220"}, true},
		{direct, dingtalktest.Reply{Via: dingtalktest.ViaGroupAPI, ConversationID: "cidNew", MsgType: "markdown"}, false},
		// A /newgroup preview is markdown: it answers, whichever way it came.
		{group, dingtalktest.Reply{Via: dingtalktest.ViaSession, MsgID: "m1", ConversationID: "cidRelease", MsgType: "markdown"}, true},
		{group, dingtalktest.Reply{Via: dingtalktest.ViaGroupAPI, ConversationID: "cidRelease", MsgKey: "sampleMarkdown", MsgType: "markdown"}, true},
		{direct, dingtalktest.Reply{Via: dingtalktest.ViaSession, MsgID: "m2", ConversationID: "cidDM", MsgType: "markdown"}, true},
		{direct, dingtalktest.Reply{Via: dingtalktest.ViaOTOAPI, UserID: "manager4220", MsgKey: "sampleMarkdown", MsgType: "markdown"}, true},
		{direct, dingtalktest.Reply{Via: dingtalktest.ViaOTOAPI, UserID: "bob02", MsgType: "markdown"}, false},
	} {
		if got := answers(tc.m, tc.r); got != tc.want {
			t.Errorf("answers(%+v, %+v) = %v", tc.m, tc.r, got)
		}
	}
}

// previewText is a /newgroup preview as the bot writes it.
const previewText = "### Create “Oncall”?\n\n**Type:** internal group  \n**Owner:** Dave \\*the boss\\* (dave04)  \n\n" +
	"**Members (2):**\n\n- Dave \\*the boss\\* (dave04)\n- Alice (alice01)\n\n**Please check before I create it:**\n\n" +
	"- the owner would be Dave \\*the boss\\* (dave04), not you.\n\n" +
	"[Create](dtmd://dingtalkclient/sendMessage?content=%2Fconfirm%20K7Q2XM)　[Cancel](dtmd://dingtalkclient/sendMessage?content=%2Fcancel%20K7Q2XM)\n\n" +
	"If the buttons do nothing, send me `/confirm K7Q2XM` to create it or `/cancel K7Q2XM` to drop it."

// connectBot connects a stand-in for the bot to the demo's fake DingTalk
// (the real Stream SDK) that answers every message with handle. At the end
// of the test it disconnects and waits for the answers under way.
func connectBot(t *testing.T, d *Demo, handle func(ctx context.Context, m *chatbot.BotCallbackDataModel) error) {
	t.Helper()
	cli := client.NewStreamClient(
		client.WithAppCredential(client.NewAppCredentialConfig(d.fake.ClientID(), d.fake.ClientSecret())),
		client.WithOpenApiHost(d.fake.URL()),
	)
	var running sync.WaitGroup
	cli.RegisterChatBotCallbackRouter(func(ctx context.Context, m *chatbot.BotCallbackDataModel) ([]byte, error) {
		running.Add(1)
		defer running.Done()
		if err := handle(ctx, m); err != nil && ctx.Err() == nil {
			t.Errorf("answering %q: %v", m.Text.Content, err)
		}
		return []byte(""), nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cli.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(running.Wait) // after Close (cleanups run last first)
	t.Cleanup(cli.Close)
	if err := d.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestPreviewRepliesReachThePageAsMarkdown: a /newgroup preview is a
// markdown answer to the message, with its title, whether it came through
// the session webhook or (the session had expired) the robot API, in a group
// or one-to-one; the kickoff the bot posts in a group it created answers
// nothing.
func TestPreviewRepliesReachThePageAsMarkdown(t *testing.T) {
	d, srv := newTestDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go d.web.follow(ctx)
	dt, err := dingclient.New(dingclient.Config{APIURL: d.fake.URL(), OAPIURL: d.fake.URL(), ClientID: d.fake.ClientID(), ClientSecret: d.fake.ClientSecret()})
	if err != nil {
		t.Fatal(err)
	}
	const title = "Create “Oncall”?"
	connectBot(t, d, func(ctx context.Context, m *chatbot.BotCallbackDataModel) error {
		group := m.ConversationType == "2"
		switch {
		case !strings.Contains(m.Text.Content, "api"): // the session webhook
			return chatbot.NewChatbotReplier().SimpleReplyMarkdown(ctx, m.SessionWebhook, []byte(title), []byte(previewText))
		case !group: // the session had expired: the one-to-one robot API
			return dt.SendUserMarkdown(ctx, []string{m.SenderStaffId}, title, previewText)
		}
		// In a group: first a kickoff in a group just created, then the
		// preview through the group robot API.
		created, err := dt.CreateGroup(ctx, &dingclient.CreateGroupRequest{Name: "Oncall", Owner: "alice01", UserIDs: []string{"alice01", "bob02"}})
		if err != nil {
			return err
		}
		if err := dt.AddRobotToConversation(ctx, created.OpenConversationID); err != nil {
			return err
		}
		if err := dt.SendGroupMarkdown(ctx, created.OpenConversationID, "Oncall", "### 👋 Oncall"); err != nil {
			return err
		}
		return dt.SendGroupMarkdown(ctx, m.ConversationId, title, previewText)
	})
	release := d.groups[0].OpenConversationID
	var sent []string
	for _, step := range []struct {
		body    string
		replies int // the bot's messages so far: one at a time, in the order checked below
	}{
		{`{"as":"manager4220","chat":"dm","text":"/newgroup Oncall Alice --owner dave04"}`, 1},
		{`{"as":"manager4220","chat":"dm","text":"/newgroup Oncall Alice api"}`, 2},
		{`{"as":"bob02","chat":"` + release + `","text":"/newgroup Oncall @Alice 李四 api","mentions":["alice01"]}`, 4}, // the kickoff and the preview
		{`{"as":"bob02","chat":"` + release + `","text":"/newgroup Oncall @Alice 李四","mentions":["alice01"]}`, 5},
	} {
		code, res := call(t, srv, "POST", "/api/send", step.body)
		var r struct{ MsgID string }
		if err := json.Unmarshal([]byte(res), &r); code != 200 || err != nil {
			t.Fatalf("send %s: %d %s", step.body, code, res)
		}
		sent = append(sent, r.MsgID)
		if _, err := d.fake.WaitReplies(ctx, step.replies); err != nil {
			t.Fatal(err)
		}
	}
	var bot []entry
	for next := 0; len(bot) < 5 && ctx.Err() == nil; {
		_, body := call(t, srv, "GET", "/api/messages?wait=2000&since="+strconv.Itoa(next), "")
		var res struct {
			Messages []entry
			Next     int
		}
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			t.Fatal(err)
		}
		next = res.Next
		for _, e := range res.Messages {
			if e.From == "bot" {
				bot = append(bot, e)
			}
		}
	}
	if len(bot) != 5 {
		t.Fatalf("%d bot messages, want 4 previews and a kickoff: %+v", len(bot), bot)
	}
	for i, want := range []struct {
		chat, via, replyTo, title string
	}{
		{"dm:manager4220", dingtalktest.ViaSession, sent[0], title},
		{"dm:manager4220", dingtalktest.ViaOTOAPI, sent[1], title},
		{"", dingtalktest.ViaGroupAPI, "", "Oncall"}, // the kickoff, in the new group
		{release, dingtalktest.ViaGroupAPI, sent[2], title},
		{release, dingtalktest.ViaSession, sent[3], title},
	} {
		e := bot[i]
		if want.chat == "" {
			want.chat = e.Chat
			if e.Chat == release || strings.HasPrefix(e.Chat, "dm:") {
				t.Errorf("the kickoff is in chat %q, not the new group's", e.Chat)
			}
		}
		if e.Chat != want.chat || e.Via != want.via || e.ReplyTo != want.replyTo || e.Format != "markdown" || e.Title != want.title {
			t.Errorf("bot message %d: chat %q via %q replyTo %q format %q title %q, want chat %q via %q replyTo %q markdown %q",
				i, e.Chat, e.Via, e.ReplyTo, e.Format, e.Title, want.chat, want.via, want.replyTo, want.title)
		}
		if want.title == title && e.Text != previewText {
			t.Errorf("bot message %d: text %q", i, e.Text)
		}
	}
}

// TestAnsweredMessages: a bot message through the robot API answers the
// oldest message of its chat still unanswered; one through a session
// webhook answers its message; one in a chat where nothing waits (the
// kickoff in a new group) answers nothing.
func TestAnsweredMessages(t *testing.T) {
	w := &web{unanswered: map[string][]string{"dm:bob02": {"m1", "m2", "m3"}}}
	for _, tc := range []struct{ chat, msgID, want string }{
		{"dm:bob02", "m2", "m2"},
		{"dm:bob02", "", "m1"},
		{"dm:bob02", "", "m3"},
		{"dm:bob02", "", ""},
		{"cidNew", "", ""},
		{"cidNew", "m9", "m9"},
	} {
		if got := w.answeredLocked(tc.chat, tc.msgID); got != tc.want {
			t.Errorf("answeredLocked(%q, %q) = %q, want %q", tc.chat, tc.msgID, got, tc.want)
		}
	}
	if len(w.unanswered) != 0 {
		t.Errorf("still unanswered: %v", w.unanswered)
	}
}

// TestTerminalShowsPreviewsReadably: in terminal mode a markdown reply loses
// its markup and escapes, and its Create and Cancel buttons say what to type.
func TestTerminalShowsPreviewsReadably(t *testing.T) {
	preview := dingtalktest.Reply{MsgType: "markdown", Title: "Create “Oncall”?", Text: previewText}
	for _, prefix := range []string{"", "dm "} {
		got := readable(preview, prefix)
		for _, want := range []string{
			"Create “Oncall”?\n\nType: internal group\nOwner: Dave *the boss* (dave04)\n\nMembers (2):\n\n- Dave *the boss* (dave04)\n- Alice (alice01)\n",
			"- the owner would be Dave *the boss* (dave04), not you.",
			"[Create: type " + prefix + "/confirm K7Q2XM]　[Cancel: type " + prefix + "/cancel K7Q2XM]",
			"send me `/confirm K7Q2XM` to create it",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("prefix %q: the terminal shows\n%s\nwithout\n%s", prefix, got, want)
			}
		}
		for _, bad := range []string{"###", "**", "dtmd:", `\*`} {
			if strings.Contains(got, bad) {
				t.Errorf("prefix %q: the terminal shows %q:\n%s", prefix, bad, got)
			}
		}
	}
	if got := readable(dingtalktest.Reply{MsgType: "text", Text: "**not markdown** [x](y)"}, ""); got != "**not markdown** [x](y)" {
		t.Errorf("a text reply is shown as %q", got)
	}
	if got := plainInline(`see [the docs](https://example.org/a_b) or [send](dtmd://dingtalkclient/sendMessage?content=) \_x\_`, ""); got != "see the docs (https://example.org/a_b) or send (dtmd://dingtalkclient/sendMessage?content=) _x_" {
		t.Errorf("links: %q", got)
	}
}

// TestPageURL: the URL printed for the page is one a browser opens; for an
// unspecified host (all interfaces) it is 127.0.0.1's.
func TestPageURL(t *testing.T) {
	for _, tc := range []struct {
		addr       net.Addr
		url        string
		everywhere bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080/", false},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "http://127.0.0.1:8080/", true},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9000}, "http://127.0.0.1:9000/", true},
		{&net.TCPAddr{Port: 9000}, "http://127.0.0.1:9000/", true},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, "http://[::1]:8080/", false},
		{&net.TCPAddr{IP: net.IPv4(192, 168, 1, 20), Port: 80}, "http://192.168.1.20:80/", false},
	} {
		if url, everywhere := pageURL(tc.addr); url != tc.url || everywhere != tc.everywhere {
			t.Errorf("pageURL(%s) = %s, %v; want %s, %v", tc.addr, url, everywhere, tc.url, tc.everywhere)
		}
	}
}

// TestServeOnAllInterfacesPrintsAUsableURL: with --addr 0.0.0.0:PORT the
// demo prints http://127.0.0.1:PORT/ (not http://[::]:PORT/), says it
// listens on all interfaces, and the page is there.
func TestServeOnAllInterfacesPrintsAUsableURL(t *testing.T) {
	d, err := Start(Options{Addr: "0.0.0.0:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, port, _ := net.SplitHostPort(d.page.Addr().String())
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	served := make(chan error, 1)
	go func() { served <- d.Serve(ctx, &out) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	want := "Open http://127.0.0.1:" + port + "/ in your browser (the page listens on all interfaces"
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), want); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Serve printed\n%s\nwithout %q", out.String(), want)
		}
	}
	if strings.Contains(out.String(), "[::]") || strings.Contains(out.String(), "0.0.0.0") {
		t.Errorf("Serve printed an address no browser opens:\n%s", out.String())
	}
	resp, err := http.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET the printed URL: %s", resp.Status)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestTerminalEchoesPipedInput: with input that is not a terminal, each line
// is printed after the prompt before its reply, so the output reads as a
// transcript; a reply's further lines are indented, blank ones left empty;
// the kickoff in a group the line created follows the reply, before the
// next line.
func TestTerminalEchoesPipedInput(t *testing.T) {
	d, _ := newTestDemo(t)
	dt, err := dingclient.New(dingclient.Config{APIURL: d.fake.URL(), OAPIURL: d.fake.URL(), ClientID: d.fake.ClientID(), ClientSecret: d.fake.ClientSecret()})
	if err != nil {
		t.Fatal(err)
	}
	connectBot(t, d, func(ctx context.Context, m *chatbot.BotCallbackDataModel) error {
		text := strings.TrimSpace(m.Text.Content)
		reply := func() error {
			return chatbot.NewChatbotReplier().SimpleReplyText(ctx, m.SessionWebhook, []byte("got "+text+"\n\nsecond line"))
		}
		if text != "/newgroup Oncall" {
			return reply()
		}
		// As the bot does: create the group, reply, then join it and post the kickoff.
		created, err := dt.CreateGroup(ctx, &dingclient.CreateGroupRequest{Name: "Oncall", Owner: "manager4220", UserIDs: []string{"manager4220", "alice01"}})
		if err != nil {
			return err
		}
		if err := reply(); err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond)
		if err := dt.AddRobotToConversation(ctx, created.OpenConversationID); err != nil {
			return err
		}
		return dt.SendGroupMarkdown(ctx, created.OpenConversationID, "Oncall", "### 👋 Oncall\n\n**Owner:** 王芳")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out strings.Builder
	if err := d.Run(ctx, strings.NewReader("/help\n\n/newgroup Oncall\ndm /newgroup Sync Carol\n"), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.HasPrefix(got, d.banner()) {
		t.Fatalf("no banner first:\n%s", got)
	}
	want := "> /help\ndingbot: got /help\n\n         second line\n>\n" +
		"> /newgroup Oncall\ndingbot: got /newgroup Oncall\n\n         second line\ndingbot in \"Oncall\": 👋 Oncall\n\n         Owner: 王芳\n" +
		"> dm /newgroup Sync Carol\ndingbot: got /newgroup Sync Carol\n\n         second line\n"
	if transcript := strings.TrimPrefix(got, d.banner()); transcript != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", transcript, want)
	}
	if isTerminal(strings.NewReader("")) {
		t.Error("a strings.Reader is a terminal")
	}
}

// TestDemoConfigLetsYouSetAnotherOwner: the demo's configuration makes 王芳
// (the default user) an admin, so /newgroup … --owner @Dave reaches DingTalk
// (which refuses Dave, outside the app's visibility scope); the others may
// not choose another owner.
func TestDemoConfigLetsYouSetAnotherOwner(t *testing.T) {
	d, _ := newTestDemo(t)
	env := d.Env()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	p, err := access.New(cfg.Access, nil)
	if err != nil {
		t.Fatal(err)
	}
	if denial := p.Check(access.Request{Command: "newgroup", UserID: you().UserID, Owner: "dave04"}); denial != nil {
		t.Errorf("%s may not set another owner: %v", you().UserID, denial)
	}
	if denial := p.Check(access.Request{Command: "newgroup", UserID: "bob02", Owner: "dave04"}); denial == nil || denial.Rule != access.RuleOwnerOverride {
		t.Errorf("bob02 setting another owner: %v, want the owner_override denial", denial)
	}
	if !strings.Contains(d.banner(), "/newgroup Oncall @Alice --owner @Dave") || !strings.Contains(d.banner(), "visibility scope") {
		t.Errorf("the banner does not show the --owner example:\n%s", d.banner())
	}
}

func TestStripMentions(t *testing.T) {
	for _, tc := range []struct {
		text  string
		names []string
		want  string
	}{
		{"/newgroup X @张三 @Alice ", []string{"张三", "Alice"}, "/newgroup X "},
		{"/newgroup X @张三 @Alice", []string{"Alice"}, "/newgroup X @张三"},
		{"/newgroup X @Alice @Bob --owner @Bob", []string{"Alice"}, "/newgroup X @Bob --owner @Bob"},
		{"/newgroup @Alice X", []string{"Alice"}, "/newgroup X"},
		{"@Alice", []string{"Alice"}, ""},
		{"/newgroup X @Alicea a@Alice @Alice", []string{"Alice"}, "/newgroup X @Alicea a@Alice"},
		{"/newgroup X", []string{"Alice"}, "/newgroup X"},
	} {
		if got := stripMentions(tc.text, tc.names); got != tc.want {
			t.Errorf("stripMentions(%q, %q) = %q, want %q", tc.text, tc.names, got, tc.want)
		}
	}
}

// TestMentionTextSwitch: by default a group message reaches the bot as
// typed, with its atUsers; with the switch on strip, the @Name of each
// mention picked from the @ list is gone from the text the bot gets (a
// typed one stays) while the page's entry keeps the message as typed and
// says what was delivered.
func TestMentionTextSwitch(t *testing.T) {
	d, srv := newTestDemo(t)
	type received struct {
		text string
		at   []string
	}
	got := make(chan received, 4)
	connectBot(t, d, func(ctx context.Context, m *chatbot.BotCallbackDataModel) error {
		var at []string
		for _, u := range m.AtUsers {
			if u.StaffId != "" {
				at = append(at, u.StaffId)
			}
		}
		got <- received{strings.TrimSpace(m.Text.Content), at} // the fake starts it with a space, as DingTalk does
		return chatbot.NewChatbotReplier().SimpleReplyText(ctx, m.SessionWebhook, []byte("ok"))
	})
	release := d.groups[0].OpenConversationID
	send := `{"as":"manager4220","chat":"` + release + `","text":"/newgroup X @Alice @Bob","mentions":["alice01","bob02"],"picked":["alice01"]}`
	for _, tc := range []struct {
		mode, text string
	}{
		{MentionTextKeep, "/newgroup X @Alice @Bob"},
		{MentionTextStrip, "/newgroup X @Bob"},
	} {
		if code, body := call(t, srv, "POST", "/api/mention-text", `{"mode":"`+tc.mode+`"}`); code != 200 {
			t.Fatalf("switch %s: %d %s", tc.mode, code, body)
		}
		if st := d.web.state(); st.MentionText != tc.mode || len(st.MentionTexts) != 2 {
			t.Errorf("state: mention text %q (%d choices), want %q", st.MentionText, len(st.MentionTexts), tc.mode)
		}
		if code, body := call(t, srv, "POST", "/api/send", send); code != 200 {
			t.Fatalf("send: %d %s", code, body)
		}
		select {
		case r := <-got:
			if r.text != tc.text || strings.Join(r.at, ",") != "alice01,bob02" {
				t.Errorf("%s: the bot got %q with atUsers %v, want %q with alice01,bob02", tc.mode, r.text, r.at, tc.text)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the bot got nothing", tc.mode)
		}
	}
	_, body := call(t, srv, "GET", "/api/messages?since=0", "")
	var res struct{ Messages []entry }
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	var mine []entry
	for _, e := range res.Messages {
		if e.From != "bot" {
			mine = append(mine, e)
		}
	}
	if len(mine) != 2 {
		t.Fatalf("messages: %s", body)
	}
	for i, e := range mine {
		if e.Text != "/newgroup X @Alice @Bob" || len(e.Mentions) != 2 {
			t.Errorf("entry %d: %q with %d mentions, want the message as typed", i, e.Text, len(e.Mentions))
		}
	}
	if mine[0].Delivered != nil || mine[1].Delivered == nil || *mine[1].Delivered != "/newgroup X @Bob" {
		t.Errorf("delivered: %v, %v; want none, then the stripped text", mine[0].Delivered, mine[1].Delivered)
	}
	for _, bad := range []struct{ path, body string }{
		{"/api/mention-text", `{"mode":"drop"}`},
		{"/api/send", `{"as":"manager4220","chat":"` + release + `","text":"/newgroup X @Alice","mentions":[],"picked":["alice01"]}`},
	} {
		if code, body := call(t, srv, "POST", bad.path, bad.body); code != 400 {
			t.Errorf("POST %s %s: %d %s, want 400", bad.path, bad.body, code, body)
		}
	}
}
