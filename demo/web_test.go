package demo

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
// its message; the kickoff posted in a new group is not.
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
	} {
		if got := answers(tc.m, tc.r); got != tc.want {
			t.Errorf("answers(%+v, %+v) = %v", tc.m, tc.r, got)
		}
	}
}
