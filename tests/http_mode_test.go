package tests

// HTTP callback mode end to end: the real binary with DINGBOT_MODE=http, and
// the fake DingTalk POSTing signed robot messages to the bot's
// /dingtalk/callback, as DingTalk does when the robot's 消息接收模式 is HTTP.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/store"
)

// httpWorld is a fake DingTalk and one dingbot in HTTP callback mode.
type httpWorld struct {
	*world
	dataDir string
}

// newHTTPWorld starts the fake and a bot with DINGBOT_MODE=http and waits
// until /readyz is 200. Like newWorld, the bot must exit 0 on SIGTERM and must
// not log the secret.
func newHTTPWorld(t *testing.T, extra map[string]string) *httpWorld {
	t.Helper()
	fake := dingtalktest.NewServer(dingtalktest.Options{ClientSecret: "e2e-http-secret-Kp9W"})
	t.Cleanup(fake.Close)
	for _, u := range org {
		fake.AddUser(u)
	}
	dataDir := t.TempDir()
	env := map[string]string{"DINGBOT_MODE": "http", "DINGBOT_DATA_DIR": dataDir, "DINGBOT_METRICS_ADDR": "127.0.0.1:0"}
	for k, v := range extra {
		env[k] = v
	}
	full := botEnv(fake, env)
	w := &httpWorld{world: &world{fake: fake, bot: startProcess(t, full), env: full}, dataDir: dataDir}
	t.Cleanup(func() { w.assertNoSecretsLogged(t) })
	w.bot.waitReady(t, http.StatusOK)
	return w
}

func (w *httpWorld) callbackURL() string { return "http://" + w.bot.httpAddr + "/dingtalk/callback" }

// post sends msg as a signed callback (opts forge it) and returns the status and body.
func (w *httpWorld) post(t *testing.T, msg dingtalktest.Message, opts ...dingtalktest.CallbackOption) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := w.fake.PostCallback(ctx, w.callbackURL(), msg, opts...)
	if err != nil {
		t.Fatalf("PostCallback: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// say posts msg, requires 200 {} and returns the next reply the bot posts.
func (w *httpWorld) say(t *testing.T, msg dingtalktest.Message) dingtalktest.Reply {
	t.Helper()
	before := len(w.fake.Replies())
	if code, body := w.post(t, msg); code != http.StatusOK || body != "{}" {
		t.Fatalf("callback answered %d %s, want 200 {}\n%s", code, body, w.bot.Logs())
	}
	return w.waitReply(t, before)
}

func TestHTTPModeGroupCommandCreatesGroupAndReplies(t *testing.T) {
	t.Parallel()
	w := newHTTPWorld(t, nil)
	msg := groupMsg(`/newgroup "Release 4.2" @Alice @Bob`, "Alice", "Bob")
	msg.MsgID = "msgHTTPGroup=="
	reply := w.say(t, msg)

	reqs := w.fake.CreateRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d create requests, want 1", len(reqs))
	}
	assertJSON(t, reqs[0].Raw, `{"name":"Release 4.2","owner":"lead01","useridlist":["lead01","alice01","bob02"],"conversationTag":2}`)
	g := onlyGroup(t, w.fake)
	if reply.Via != dingtalktest.ViaSession || reply.MsgID != msg.MsgID || reply.MsgType != "text" {
		t.Errorf("reply went via %s for msg %q as %s; want the message's session webhook, text", reply.Via, reply.MsgID, reply.MsgType)
	}
	if want := createdText(g, "Lead (lead01)", "3 (Lead, Alice and Bob)"); reply.Text != want {
		t.Errorf("reply:\n%s\nwant:\n%s", reply.Text, want)
	}
	if n := w.fake.OpenAttempts(); n != 0 {
		t.Errorf("the bot called the Stream gateway %d times in HTTP mode, want 0", n)
	}
	if got := w.bot.waitMetric(t, `dingbot_callback_requests_total{status="200"}`, "1"); got != "1" {
		t.Errorf(`dingbot_callback_requests_total{status="200"} = %q, want 1`, got)
	}
	// A one-to-one chat works the same way.
	reply = w.say(t, directMsg("/newgroup Standup"))
	if len(w.fake.CreateRequests()) != 2 || !strings.HasPrefix(reply.Text, `Created group "Standup".`) {
		t.Errorf("1:1 command: %d creates, reply %q", len(w.fake.CreateRequests()), reply.Text)
	}
}

func TestHTTPModeRejectsBadRequestsAndStoresNothing(t *testing.T) {
	t.Parallel()
	w := newHTTPWorld(t, map[string]string{"DINGBOT_CALLBACK_MAX_BODY": "2KiB"})
	cases := []struct {
		name   string
		opts   []dingtalktest.CallbackOption
		text   string
		status int
	}{
		{"wrong secret", []dingtalktest.CallbackOption{dingtalktest.WithCallbackSecret("not-the-app-secret")}, "", 401},
		{"tampered sign", []dingtalktest.CallbackOption{dingtalktest.WithCallbackHeader("sign", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")}, "", 401},
		{"missing sign", []dingtalktest.CallbackOption{dingtalktest.WithoutCallbackHeader("sign")}, "", 401},
		{"missing timestamp", []dingtalktest.CallbackOption{dingtalktest.WithoutCallbackHeader("timestamp")}, "", 401},
		{"no headers", []dingtalktest.CallbackOption{dingtalktest.WithoutCallbackHeader("timestamp"), dingtalktest.WithoutCallbackHeader("sign")}, "", 401},
		{"non-numeric timestamp", []dingtalktest.CallbackOption{dingtalktest.WithCallbackHeader("timestamp", "now")}, "", 401},
		{"stale by 61 min", []dingtalktest.CallbackOption{dingtalktest.WithCallbackTime(time.Now().Add(-61 * time.Minute))}, "", 401},
		{"outside the 5-min window", []dingtalktest.CallbackOption{dingtalktest.WithCallbackTime(time.Now().Add(-6 * time.Minute))}, "", 401},
		{"61 min in the future", []dingtalktest.CallbackOption{dingtalktest.WithCallbackTime(time.Now().Add(61 * time.Minute))}, "", 401},
		{"oversized", nil, "/newgroup Big " + strings.Repeat("x", 3000), 413},
		{"malformed JSON", []dingtalktest.CallbackOption{dingtalktest.WithCallbackBody([]byte(`{"msgId":"msgBroken","conversationId":`))}, "", 400},
		{"missing msgId", []dingtalktest.CallbackOption{dingtalktest.WithCallbackBody([]byte(`{"conversationId":"cidX==","msgtype":"text","text":{"content":"/newgroup NoID"}}`))}, "", 400},
	}
	var msgIDs []string
	for i, tc := range cases {
		msg := directMsg("/newgroup Rejected")
		if tc.text != "" {
			msg.Text = tc.text
		}
		msg.MsgID = fmt.Sprintf("msgRejected%02d", i)
		msgIDs = append(msgIDs, msg.MsgID)
		code, body := w.post(t, msg, tc.opts...)
		if code != tc.status {
			t.Errorf("%s: status %d %s, want %d", tc.name, code, body, tc.status)
			continue
		}
		var e struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
			t.Errorf("%s: body %q, want a short JSON error", tc.name, body)
		}
	}
	time.Sleep(500 * time.Millisecond) // a command that slipped through would be running by now
	if n := len(w.fake.CreateRequests()); n != 0 {
		t.Errorf("%d create calls, want 0", n)
	}
	if n := len(w.fake.Replies()); n != 0 {
		t.Errorf("%d replies, want 0: %+v", n, w.fake.Replies())
	}
	_, metrics := w.bot.get(t, "/metrics")
	if strings.Contains(metrics, "\ndingbot_commands_total{") {
		t.Errorf("commands were processed:\n%s", metrics)
	}
	for status, want := range map[string]string{"401": "9", "413": "1", "400": "2"} {
		if got := w.bot.waitMetric(t, `dingbot_callback_requests_total{status="`+status+`"}`, want); got != want {
			t.Errorf("callbacks answered %s: %q, want %s", status, got, want)
		}
	}
	logs := w.bot.Logs()
	if n := strings.Count(logs, `"msg":"callback rejected"`); n != len(cases) {
		t.Errorf("%d rejections logged, want %d", n, len(cases))
	}
	for _, p := range w.fake.CallbackPosts() {
		if p.Sign != "" && strings.Contains(logs, p.Sign) {
			t.Errorf("a sign header (%.6s…) appears in the bot's log", p.Sign)
		}
	}

	// The inbox is empty: nothing was stored.
	w.bot.Stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := store.Open(ctx, "", w.dataDir)
	if err != nil {
		t.Fatalf("opening the bot's store: %v", err)
	}
	defer db.Close()
	for _, id := range msgIDs {
		if _, err := db.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("inbox item %s: %v, want ErrNotFound", id, err)
		}
	}
	if item, err := db.Next(ctx, "e2e-probe", time.Now(), time.Second); err != nil || item != nil {
		t.Errorf("inbox holds %+v (%v), want nothing", item, err)
	}
}

func TestHTTPModeSameMsgIDTwiceCreatesOnce(t *testing.T) {
	t.Parallel()
	w := newHTTPWorld(t, nil)
	// DingTalk retries a callback it got no 200 for: same msgId, fresh session and signature.
	w.fake.FailNextCreateWith(dingtalktest.Response{Delay: 300 * time.Millisecond})
	msg := directMsg("/newgroup Twice")
	msg.MsgID = "msgHTTPTwice=="
	for range 2 {
		if code, body := w.post(t, msg); code != http.StatusOK {
			t.Fatalf("status %d %s, want 200", code, body)
		}
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := w.fake.PostCallback(ctx, w.callbackURL(), msg)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("concurrent duplicate: status %d, want 200", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	w.waitReply(t, 0)
	time.Sleep(time.Second) // a second create or reply would show up by now
	if n := len(w.fake.CreateRequests()); n != 1 {
		t.Errorf("%d create calls, want 1", n)
	}
	if n := len(w.fake.Replies()); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
	if got := w.bot.waitMetric(t, "dingbot_duplicate_messages_total", "4"); got != "4" {
		t.Errorf("dingbot_duplicate_messages_total = %q, want 4", got)
	}
}

func TestHTTPModeReadinessAndNoStreamConnection(t *testing.T) {
	t.Parallel()
	w := newHTTPWorld(t, nil)
	code, body := w.bot.get(t, "/readyz")
	if code != http.StatusOK || !strings.Contains(body, `"ready"`) {
		t.Errorf("/readyz = %d %s, want 200 ready", code, body)
	}
	time.Sleep(300 * time.Millisecond)
	if n := w.fake.OpenAttempts(); n != 0 || w.fake.Connections() != 0 {
		t.Errorf("gateway open calls %d, connections %d; want none in HTTP mode", n, w.fake.Connections())
	}
	// GET on the callback path is not the callback.
	if code, _ := w.bot.getFrom(t, w.bot.httpAddr, "/dingtalk/callback"); code == http.StatusOK {
		t.Errorf("GET /dingtalk/callback = 200")
	}
	// The public listener serves the callback only; probes and metrics are
	// on DINGBOT_METRICS_ADDR.
	if w.bot.metricsAddr == "" || w.bot.metricsAddr == w.bot.httpAddr {
		t.Fatalf("metrics listen on %q, callback on %q: want two listeners", w.bot.metricsAddr, w.bot.httpAddr)
	}
	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		if code, body := w.bot.getFrom(t, w.bot.httpAddr, path); code != http.StatusNotFound {
			t.Errorf("GET %s on the callback listener = %d %.80s, want 404", path, code, body)
		}
	}
	if code, body := w.bot.get(t, "/metrics"); code != http.StatusOK || !strings.Contains(body, "\ndingbot_") {
		t.Errorf("GET /metrics on DINGBOT_METRICS_ADDR = %d, want 200 with the bot's metrics", code)
	}
}

// TestServeModeFlag: `serve --mode http` selects HTTP mode without the
// environment variable; a bad mode stops startup with one line.
func TestServeModeFlag(t *testing.T) {
	t.Parallel()
	fake := dingtalktest.NewServer(dingtalktest.Options{})
	t.Cleanup(fake.Close)
	env := botEnv(fake, map[string]string{"DINGBOT_DATA_DIR": t.TempDir(), "DINGBOT_METRICS_ADDR": "127.0.0.1:0"})
	environ := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}

	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"serve", "--mode", "webhook"}, "", `dingbot serve: --mode: "webhook" is not stream or http`},
		{[]string{"serve", "--mode"}, "", "dingbot serve: --mode needs a value: stream or http"},
		{[]string{"serve"}, "DINGBOT_MODE=webhook", `dingbot: DINGBOT_MODE: "webhook" is not stream or http`},
		{[]string{"serve"}, "DINGBOT_CALLBACK_MAX_BODY=huge", `dingbot: DINGBOT_CALLBACK_MAX_BODY: "huge" is not a size from 1KiB to 16MiB, such as 65536, 64KiB or 1MiB`},
	} {
		cmd := exec.Command(binary, tc.args...)
		cmd.Env = environ
		if tc.env != "" {
			cmd.Env = append(append([]string(nil), environ...), tc.env)
		}
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("%v %s: %v, want exit status 2\n%s", tc.args, tc.env, err, out)
			continue
		}
		if got := strings.TrimSpace(string(out)); got != tc.want {
			t.Errorf("%v %s: output %q, want %q", tc.args, tc.env, got, tc.want)
		}
	}

	// --mode=http wins over DINGBOT_MODE=stream.
	cmd := exec.Command(binary, "serve", "--mode=http")
	cmd.Env = append(append([]string(nil), environ...), "DINGBOT_MODE=stream")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	mode := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var rec struct{ Msg, Mode string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "http server listening" {
				mode <- rec.Mode
			}
		}
	}()
	select {
	case m := <-mode:
		if m != "http" {
			t.Errorf("mode %q, want http", m)
		}
	case <-time.After(20 * time.Second):
		t.Error("dingbot did not start listening")
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-scanned: // the output ends when the process exits
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Error("dingbot did not exit after SIGTERM")
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
	if n := fake.OpenAttempts(); n != 0 {
		t.Errorf("%d gateway open calls with --mode=http, want 0", n)
	}
}
