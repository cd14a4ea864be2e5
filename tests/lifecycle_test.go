package tests

import (
	"context"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
)

// TestExpiredSessionFallsBackToRobotAPI: a reply whose session webhook is
// gone goes through the robot send APIs instead — the group API in a group,
// the one-to-one API in a direct chat — for both ways a session ends.
func TestExpiredSessionFallsBackToRobotAPI(t *testing.T) {
	t.Parallel()
	t.Run("past sessionWebhookExpiredTime", func(t *testing.T) {
		t.Parallel()
		// Sessions that expire before the bot can use them.
		w := newWorld(t, dingtalktest.Options{SessionTTL: time.Millisecond}, nil)
		group := w.say(t, groupMsg("/newgroup Late @Alice", "Alice"))
		if group.Via != dingtalktest.ViaGroupAPI || !strings.HasPrefix(group.Text, `Created group "Late".`) {
			t.Errorf("group reply via %s:\n%s", group.Via, group.Text)
		}
		direct := w.say(t, directMsg("/help"))
		if direct.Via != dingtalktest.ViaOTOAPI || direct.UserID != lead || !strings.Contains(direct.Text, "/newgroup") {
			t.Errorf("direct reply via %s to %q:\n%s", direct.Via, direct.UserID, direct.Text)
		}
	})
	t.Run("webhook answers 300001", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, dingtalktest.Options{}, nil)
		for _, msg := range []dingtalktest.Message{groupMsg("/newgroup Later @Bob", "Bob"), directMsg("/newgroup Solo")} {
			// The session dies while DingTalk is creating the group.
			w.fake.FailNextCreateWith(dingtalktest.Response{Delay: 300 * time.Millisecond})
			before := len(w.fake.Replies())
			if _, err := w.fake.Send(msg); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			w.fake.ExpireSessions()
			reply := w.waitReply(t, before)
			want := dingtalktest.ViaOTOAPI
			if msg.Group {
				want = dingtalktest.ViaGroupAPI
			}
			if reply.Via != want || !strings.HasPrefix(reply.Text, "Created group") {
				t.Errorf("reply via %s, want %s:\n%s", reply.Via, want, reply.Text)
			}
		}
		if n := len(w.fake.Replies()); n != 2 {
			t.Errorf("%d replies, want 2 (one per command)", n)
		}
	})
}

// TestTenCommandsOneTokenFetch: the access token is fetched once and shared,
// even by commands running at the same time.
func TestTenCommandsOneTokenFetch(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, nil)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.fake.Send(directMsg("/newgroup Team-" + string(rune('A'+i)))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := w.fake.WaitReplies(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if n := len(w.fake.Groups()); n != 10 {
		t.Errorf("%d groups, want 10", n)
	}
	if n := w.fake.TokenFetches(); n != 1 {
		t.Errorf("%d token fetches, want 1", n)
	}
}

// TestReconnectsAfterDropAndDisconnect: the fake drops the socket, then sends
// DingTalk's disconnect frame; each time /readyz turns 503, the bot opens a
// new connection, /readyz is 200 again and the next message is served.
func TestReconnectsAfterDropAndDisconnect(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{DisconnectGrace: 5 * time.Second}, nil)
	w.bot.waitReady(t, 200)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	steps := []struct {
		name   string
		break_ func() int
	}{
		{"socket dropped", w.fake.DropConnections},
		{"disconnect frame", w.fake.Disconnect},
	}
	for i, step := range steps {
		// A message first, so the bot has seen a frame on this connection.
		w.say(t, directMsg("/help"))
		if n := step.break_(); n != 1 {
			t.Fatalf("%s: affected %d connections, want 1", step.name, n)
		}
		w.bot.waitReady(t, 503)
		if err := w.fake.WaitConnections(ctx, 1); err != nil {
			t.Fatalf("%s: no reconnect: %v", step.name, err)
		}
		w.bot.waitReady(t, 200)
		reply := w.say(t, directMsg("/newgroup After-"+string(rune('A'+i))))
		if !strings.HasPrefix(reply.Text, "Created group") {
			t.Errorf("%s: after reconnect the reply was\n%s", step.name, reply.Text)
		}
	}
	if n := w.fake.Opens(); n != 3 {
		t.Errorf("%d gateway opens, want 3", n)
	}
	if got := w.bot.waitMetric(t, "dingbot_stream_reconnects_total", "2"); got != "2" {
		t.Errorf("dingbot_stream_reconnects_total = %q, want 2", got)
	}
}

// TestSIGTERMFinishesInFlightCommand: SIGTERM while DingTalk is still
// creating a group; the bot stops taking messages, posts the reply for the
// command in flight and exits 0.
func TestSIGTERMFinishesInFlightCommand(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, nil)
	w.fake.FailNextCreateWith(dingtalktest.Response{Delay: time.Second})
	if _, err := w.fake.Send(directMsg("/newgroup Inflight")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(w.fake.CreateRequests()) == 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	w.bot.Stop(t) // SIGTERM, requires exit status 0
	replies := w.fake.Replies()
	if len(replies) != 1 || !strings.HasPrefix(replies[0].Text, `Created group "Inflight".`) {
		t.Fatalf("replies after shutdown: %+v", replies)
	}
	if n := w.fake.Connections(); n != 0 {
		t.Errorf("%d Stream connections left open after exit", n)
	}
}

// TestHealthReadinessAndMetrics checks the operator's endpoints.
func TestHealthReadinessAndMetrics(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, nil)
	if code, _ := w.bot.get(t, "/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	w.bot.waitReady(t, 200)
	w.say(t, directMsg("/newgroup Metrics"))
	w.say(t, directMsg("/help"))
	checks := map[string]string{
		`dingbot_commands_total{command="newgroup",outcome="created"}`:   "1",
		`dingbot_commands_total{command="help",outcome="answered"}`:      "1",
		`dingbot_command_duration_seconds_count{command="newgroup"}`:     "1",
		`dingbot_rate_limit_wait_seconds_count{api="group.create"}`:      "1",
		`dingbot_dingtalk_api_calls_total{api="user.search",code="ok"}`:  "1", // the startup preflight
		`dingbot_dingtalk_api_calls_total{api="group.create",code="ok"}`: "1",
		`dingbot_dingtalk_api_calls_total{api="token",code="ok"}`:        "1",
		`dingbot_replies_total{result="ok",via="session_webhook"}`:       "2",
		`dingbot_stream_connected`:                                       "1",
	}
	// A metric is recorded around the reply the test waited for, possibly
	// just after it: wait for each value, not for an earlier event.
	for sample, want := range checks {
		if got := w.bot.waitMetric(t, sample, want); got != want {
			t.Errorf("%s = %q, want %s", sample, got, want)
		}
	}
}

// TestStartupFailuresAreOneLine: a bad setting or rejected credentials stop
// the bot with one line that names the cause and never shows the secret.
func TestStartupFailuresAreOneLine(t *testing.T) {
	t.Parallel()
	fake := dingtalktest.NewServer(dingtalktest.Options{})
	t.Cleanup(fake.Close)
	cases := []struct {
		name     string
		env      []string
		wantCode int
		want     string
	}{
		{"missing client ID", []string{"DINGTALK_CLIENT_SECRET=wrong-secret-9"}, 2, "dingbot: DINGTALK_CLIENT_ID: required"},
		{"malformed URL", []string{"DINGTALK_CLIENT_ID=x", "DINGTALK_CLIENT_SECRET=wrong-secret-9", "DINGTALK_API_URL=api.dingtalk.com"}, 2, "dingbot: DINGTALK_API_URL:"},
		{"wrong secret", []string{"DINGTALK_CLIENT_ID=" + fake.ClientID(), "DINGTALK_CLIENT_SECRET=wrong-secret-9", "DINGTALK_API_URL=" + fake.URL(), "DINGBOT_HTTP_ADDR=127.0.0.1:0"}, 1, "dingbot: connecting to " + fake.URL() + ": DingTalk refused the Stream connection: InvalidAuthentication"},
		{"unreachable gateway", []string{"DINGTALK_CLIENT_ID=x", "DINGTALK_CLIENT_SECRET=wrong-secret-9", "DINGTALK_API_URL=http://127.0.0.1:1", "DINGBOT_HTTP_ADDR=127.0.0.1:0"}, 1, "dingbot: connecting to http://127.0.0.1:1: cannot reach the DingTalk Stream gateway (check DINGTALK_API_URL"},
	}
	for _, tc := range cases {
		cmd := exec.Command(binary, "serve")
		cmd.Env = append(tc.env, "DINGBOT_LOG_LEVEL=error", "DINGBOT_DATA_DIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		code := 0
		if exitErr, ok := err.(*exec.ExitError); ok {
			code = exitErr.ExitCode()
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		last := lines[len(lines)-1]
		if code != tc.wantCode || !strings.HasPrefix(last, tc.want) {
			t.Errorf("%s: exit %d, last line %q; want exit %d and %q…", tc.name, code, last, tc.wantCode, tc.want)
		}
		if strings.Contains(string(out), "wrong-secret-9") {
			t.Errorf("%s: the secret appears in the output:\n%s", tc.name, out)
		}
	}
}
