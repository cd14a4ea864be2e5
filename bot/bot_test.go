package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdklogger "github.com/open-dingtalk/dingtalk-stream-sdk-go/logger"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/stream"
	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
	"github.com/dingbot/dingbot/internal/testutil/fakeclient"
	"github.com/dingbot/dingbot/store"
)

// wait bounds every wait for something to happen; it is generous on purpose
// and never used to assert speed.
const wait = 10 * time.Second

func TestMain(m *testing.M) {
	// The SDK logs through a global logger; keep test output quiet.
	sdklogger.SetLogger(stream.SDKLogger(slog.New(slog.DiscardHandler)))
	os.Exit(m.Run())
}

var (
	alice = dingtalktest.User{UserID: "alice", Name: "Alice", Active: true, Visible: true}
	bob   = dingtalktest.User{UserID: "bob", Name: "Bob", Active: true, Visible: true}
)

// harness is a fake DingTalk, the real OpenAPI client pointed at it and a Bot.
type harness struct {
	fake *dingtalktest.Server
	reg  *prometheus.Registry
	bot  *bot.Bot
	db   store.Store
}

// newHarness starts the fake and a Bot; configure may adjust the Bot's options.
func newHarness(t *testing.T, configure ...func(*bot.Options)) *harness {
	t.Helper()
	fake := dingtalktest.NewServer(dingtalktest.Options{Logf: t.Logf})
	t.Cleanup(fake.Close)
	fake.AddUser(alice)
	fake.AddUser(bob)

	reg := prometheus.NewRegistry()
	metrics := bot.NewMetrics(reg)
	dt := newClient(t, fake, metrics)
	db, err := store.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	// No kickoff unless a test asks for it (kickoff_test.go): the other
	// tests count the messages the bot posts.
	lang, err := commands.New(commands.Settings{NoKickoff: true, Confirm: commands.ConfirmNever})
	if err != nil {
		t.Fatal(err)
	}
	opts := bot.Options{DingTalk: dt, Store: db, Metrics: metrics, Lease: 2 * time.Second, PollInterval: 50 * time.Millisecond, Language: lang}
	for _, c := range configure {
		c(&opts)
	}
	b := bot.New(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_ = b.Shutdown(ctx)
		_ = db.Close()
	})
	return &harness{fake: fake, reg: reg, bot: b, db: opts.Store}
}

// newClient is the real OpenAPI client pointed at fake; metrics may be nil.
func newClient(t *testing.T, fake *dingtalktest.Server, metrics *bot.Metrics) *dingclient.Client {
	t.Helper()
	return fakeclient.ClientFor(t, fake, func(c *dingclient.Config) {
		// Longer than every wait, so a call ends early only if the bot cancels it.
		c.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
		c.Observe = metrics.ObserveAPICall
		c.Retry = dingclient.RetryPolicy{BaseDelay: 10 * time.Millisecond}
	})
}

// connect runs a real Stream against the fake with handle as its handler and
// waits until DingTalk can route messages to it.
func (h *harness) connect(t *testing.T, handle bot.HandlerFunc) {
	t.Helper()
	s := stream.New(stream.Options{
		ClientID:      h.fake.ClientID(),
		ClientSecret:  h.fake.ClientSecret(),
		APIURL:        h.fake.URL(),
		CheckInterval: 100 * time.Millisecond,
	}, handle)
	ctx, cancel := context.WithCancel(context.Background())
	connected := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, connected) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-connected:
	case err := <-done:
		t.Fatalf("stream Run returned before connecting: %v", err)
	case <-time.After(wait):
		t.Fatal("stream did not connect")
	}
	if err := h.fake.WaitConnections(testutil.Ctx(t), 1); err != nil {
		t.Fatalf("WaitConnections: %v", err)
	}
}

// wire connects the Bot itself to the fake, as main does.
func (h *harness) wire(t *testing.T) {
	t.Helper()
	h.connect(t, h.bot.Handle)
}

// capture connects a Stream that only collects the messages it converts, so
// a test can hand them to the Bot itself (possibly altered). The messages
// carry real session webhooks of the fake.
func (h *harness) capture(t *testing.T) func(dingtalktest.Message) bot.Message {
	t.Helper()
	ch := make(chan bot.Message, 16)
	h.connect(t, func(m bot.Message) error {
		ch <- m
		return nil
	})
	return func(m dingtalktest.Message) bot.Message {
		t.Helper()
		if _, err := h.fake.Send(m); err != nil {
			t.Fatalf("Send: %v", err)
		}
		select {
		case msg := <-ch:
			return msg
		case <-time.After(wait):
			t.Fatal("the message did not reach the stream handler")
			return bot.Message{}
		}
	}
}

func (h *harness) send(t *testing.T, m dingtalktest.Message) *dingtalktest.Delivery {
	t.Helper()
	d, err := h.fake.Send(m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	return d
}

func (h *harness) waitReplies(t *testing.T, n int) []dingtalktest.Reply {
	t.Helper()
	replies, err := h.fake.WaitReplies(testutil.Ctx(t), n)
	if err != nil {
		t.Fatalf("waiting for %d replies: %v (got %d: %+v)", n, err, len(replies), replies)
	}
	return replies
}

// shutdown stops the Bot and waits for every accepted message, so what the
// fake recorded afterwards is final.
func (h *harness) shutdown(t *testing.T) {
	t.Helper()
	if err := h.bot.Shutdown(testutil.Ctx(t)); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func (h *harness) metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	return testutil.MetricValue(t, h.reg, name, labels)
}

func groupCommand(text string, mentions ...dingtalktest.Mention) dingtalktest.Message {
	return dingtalktest.Message{Text: text, SenderID: alice.UserID, Group: true, Mentions: mentions}
}

func TestGroupCommandCreatesGroupAndRepliesInChat(t *testing.T) {
	h := newHarness(t)
	h.wire(t)

	d := h.send(t, groupCommand(`/newgroup "Release 4.2" @Bob`, dingtalktest.Mention{Name: "Bob", UserID: bob.UserID}))
	replies := h.waitReplies(t, 1)
	h.shutdown(t)

	reqs := h.fake.CreateRequests()
	if len(reqs) != 1 {
		t.Fatalf("DingTalk got %d create-group requests, want 1", len(reqs))
	}
	var body map[string]any
	if err := json.Unmarshal(reqs[0].Raw, &body); err != nil {
		t.Fatalf("create-group body %s: %v", reqs[0].Raw, err)
	}
	wantBody := map[string]any{
		"name":            "Release 4.2",
		"owner":           "alice",
		"useridlist":      []any{"alice", "bob"},
		"conversationTag": float64(2),
	}
	if !reflect.DeepEqual(body, wantBody) {
		t.Errorf("create-group body = %s, want %v", reqs[0].Raw, wantBody)
	}
	if reqs[0].Status != 200 {
		t.Errorf("create-group answered %d %s (%s), want 200", reqs[0].Status, reqs[0].Code, reqs[0].Reason)
	}
	groups := h.fake.Groups()
	if len(groups) != 1 {
		t.Fatalf("%d groups exist, want 1", len(groups))
	}

	replies = h.fake.Replies()
	if len(replies) != 1 {
		t.Fatalf("%d replies in chat, want 1: %+v", len(replies), replies)
	}
	r := replies[0]
	if r.Via != dingtalktest.ViaSession || r.MsgID != d.MsgID() || r.ConversationID != d.ConversationID() {
		t.Errorf("reply went via %q for msgId %q in %q; want the session webhook of msgId %q in %q",
			r.Via, r.MsgID, r.ConversationID, d.MsgID(), d.ConversationID())
	}
	for _, want := range []string{`Created group "Release 4.2".`, "openConversationId: " + groups[0].OpenConversationID} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("reply %q does not contain %q", r.Text, want)
		}
	}
	if got := h.metric(t, "dingbot_replies_total", map[string]string{"via": "session_webhook", "result": "ok"}); got != 1 {
		t.Errorf("dingbot_replies_total{via=session_webhook,result=ok} = %v, want 1", got)
	}
	if got := h.metric(t, "dingbot_dingtalk_api_calls_total", map[string]string{"api": "group.create", "code": "ok"}); got != 1 {
		t.Errorf("dingbot_dingtalk_api_calls_total{api=group.create,code=ok} = %v, want 1", got)
	}
}

func TestRedeliveredMessageIsHandledOnce(t *testing.T) {
	h := newHarness(t)
	h.wire(t)

	d := h.send(t, groupCommand(`/newgroup Ops`))
	if code, err := d.WaitAck(testutil.Ctx(t)); err != nil || code != 200 {
		t.Fatalf("first delivery ACK = %d, %v; want 200", code, err)
	}
	if err := h.fake.Redeliver(d); err != nil {
		t.Fatalf("Redeliver: %v", err)
	}
	testutil.WaitFor(t, wait, "the redelivery's ACK", func() bool { return len(d.Acks()) == 2 })
	if acks := d.Acks(); acks[1].Code != 200 {
		t.Errorf("redelivery ACK code = %d, want 200 (a duplicate is accepted, not refused)", acks[1].Code)
	}
	h.waitReplies(t, 1)
	h.shutdown(t)

	if n := len(h.fake.CreateRequests()); n != 1 {
		t.Errorf("DingTalk got %d create-group requests, want 1", n)
	}
	if n := len(h.fake.Replies()); n != 1 {
		t.Errorf("%d replies in chat, want 1", n)
	}
	if got := h.metric(t, "dingbot_duplicate_messages_total", nil); got != 1 {
		t.Errorf("dingbot_duplicate_messages_total = %v, want 1", got)
	}
}

func TestConcurrentDuplicatesAreHandledOnce(t *testing.T) {
	h := newHarness(t)
	next := h.capture(t)
	msg := next(groupCommand(`/newgroup Ops`))

	const copies = 5
	var wg sync.WaitGroup
	errs := make(chan error, copies)
	for range copies {
		wg.Go(func() { errs <- h.bot.Handle(msg) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Handle: %v", err)
		}
	}
	h.waitReplies(t, 1)
	h.shutdown(t)

	if n := len(h.fake.CreateRequests()); n != 1 {
		t.Errorf("DingTalk got %d create-group requests, want 1", n)
	}
	if n := len(h.fake.Replies()); n != 1 {
		t.Errorf("%d replies in chat, want 1", n)
	}
	if got := h.metric(t, "dingbot_duplicate_messages_total", nil); got != copies-1 {
		t.Errorf("dingbot_duplicate_messages_total = %v, want %d", got, copies-1)
	}
}

func TestNonTextMessageGetsHint(t *testing.T) {
	h := newHarness(t)
	next := h.capture(t)
	msg := next(groupCommand(`/newgroup Ops`))
	// DingTalk sends a picture with msgtype "picture" and no text.content.
	msg.MsgType, msg.Text = "picture", ""

	if err := h.bot.Handle(msg); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	replies := h.waitReplies(t, 1)
	h.shutdown(t)

	if n := len(h.fake.CreateRequests()); n != 0 {
		t.Errorf("DingTalk got %d create-group requests, want none", n)
	}
	lang, err := commands.New(commands.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if want := lang.NonTextReply("").Text; replies[0].Text != want {
		t.Errorf("reply = %q, want %q", replies[0].Text, want)
	}
	if replies[0].Via != dingtalktest.ViaSession || replies[0].MsgID != msg.MsgID {
		t.Errorf("reply went via %q for msgId %q, want the session webhook of %q", replies[0].Via, replies[0].MsgID, msg.MsgID)
	}
	if got := h.metric(t, "dingbot_commands_total", map[string]string{"outcome": "answered"}); got != 1 {
		t.Errorf("dingbot_commands_total{outcome=answered} = %v, want 1", got)
	}
}

func TestExpiredSessionRepliesThroughRobotAPI(t *testing.T) {
	for _, tc := range []struct {
		name       string
		msg        dingtalktest.Message
		wantVia    string // "" means no reply can be posted
		wantUser   string
		wantMetric map[string]string
	}{
		{
			name:       "group chat",
			msg:        dingtalktest.Message{Text: "/help", SenderID: alice.UserID, Group: true},
			wantVia:    dingtalktest.ViaGroupAPI,
			wantMetric: map[string]string{"via": "robot_group_api", "result": "ok"},
		},
		{
			name:       "one-to-one chat",
			msg:        dingtalktest.Message{Text: "/help", SenderID: alice.UserID},
			wantVia:    dingtalktest.ViaOTOAPI,
			wantUser:   alice.UserID,
			wantMetric: map[string]string{"via": "robot_oto_api", "result": "ok"},
		},
		{
			name:       "one-to-one chat with a sender outside the org",
			msg:        dingtalktest.Message{Text: "/help", SenderNick: "Visitor"},
			wantMetric: map[string]string{"via": "none", "result": "error"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			next := h.capture(t)
			msg := next(tc.msg)
			msg.SessionExpires = time.Now().Add(-time.Minute)

			if err := h.bot.Handle(msg); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if tc.wantVia != "" {
				h.waitReplies(t, 1)
			} else {
				// No reply can be posted; wait until the worker has tried.
				// (Shutdown does not run commands still waiting in the inbox:
				// they stay there for the next start.)
				deadline := time.Now().Add(wait)
				for h.metric(t, "dingbot_replies_total", tc.wantMetric) == 0 && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
			}
			h.shutdown(t)

			replies := h.fake.Replies()
			if tc.wantVia == "" {
				if len(replies) != 0 {
					t.Errorf("replies = %+v, want none", replies)
				}
			} else {
				if len(replies) != 1 {
					t.Fatalf("%d replies, want 1: %+v", len(replies), replies)
				}
				r := replies[0]
				if r.Via != tc.wantVia {
					t.Errorf("reply went via %q, want %q (the session webhook had expired)", r.Via, tc.wantVia)
				}
				if tc.wantVia == dingtalktest.ViaGroupAPI && r.ConversationID != msg.ConversationID {
					t.Errorf("reply posted to %q, want the message's group %q", r.ConversationID, msg.ConversationID)
				}
				if r.UserID != tc.wantUser {
					t.Errorf("reply sent to user %q, want %q", r.UserID, tc.wantUser)
				}
				if !strings.Contains(r.Text, "/newgroup") {
					t.Errorf("reply %q is not the help text", r.Text)
				}
			}
			if got := h.metric(t, "dingbot_replies_total", map[string]string{"via": "session_webhook"}); got != 0 {
				t.Errorf("dingbot_replies_total{via=session_webhook} = %v, want 0: an expired webhook is not tried", got)
			}
			if got := h.metric(t, "dingbot_replies_total", tc.wantMetric); got != 1 {
				t.Errorf("dingbot_replies_total%v = %v, want 1", tc.wantMetric, got)
			}
		})
	}
}

func TestSessionGoneFallsBackToRobotAPI(t *testing.T) {
	h := newHarness(t)
	h.wire(t)
	// The session webhook dies while the group is being created: DingTalk
	// then answers the webhook with errcode 300001.
	h.fake.ScriptCreateGroup(func(dingtalktest.CreateGroupRequestRecord) *dingtalktest.Response {
		h.fake.ExpireSessions()
		return &dingtalktest.Response{Delay: 50 * time.Millisecond} // then create normally
	})

	d := h.send(t, groupCommand(`/newgroup Ops`))
	h.waitReplies(t, 1)
	h.shutdown(t)

	replies := h.fake.Replies()
	if len(replies) != 1 {
		t.Fatalf("%d replies, want 1: %+v", len(replies), replies)
	}
	if r := replies[0]; r.Via != dingtalktest.ViaGroupAPI || r.ConversationID != d.ConversationID() {
		t.Errorf("reply went via %q to %q, want %q to %q", r.Via, r.ConversationID, dingtalktest.ViaGroupAPI, d.ConversationID())
	}
	if !strings.Contains(replies[0].Text, `Created group "Ops".`) {
		t.Errorf("reply %q does not report the created group", replies[0].Text)
	}
	if n := len(h.fake.Groups()); n != 1 {
		t.Errorf("%d groups, want 1", n)
	}
	if got := h.metric(t, "dingbot_replies_total", map[string]string{"via": "session_webhook", "result": "error"}); got != 1 {
		t.Errorf("dingbot_replies_total{via=session_webhook,result=error} = %v, want 1", got)
	}
	if got := h.metric(t, "dingbot_replies_total", map[string]string{"via": "robot_group_api", "result": "ok"}); got != 1 {
		t.Errorf("dingbot_replies_total{via=robot_group_api,result=ok} = %v, want 1", got)
	}
}

// createArrives makes every create-group call signal its arrival and then
// wait delay before being processed normally.
func createArrives(fake *dingtalktest.Server, delay time.Duration) <-chan struct{} {
	arrived := make(chan struct{}, 8)
	fake.ScriptCreateGroup(func(dingtalktest.CreateGroupRequestRecord) *dingtalktest.Response {
		arrived <- struct{}{}
		return &dingtalktest.Response{Delay: delay}
	})
	return arrived
}

func receive(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestShutdownWaitsForInFlightCommand(t *testing.T) {
	h := newHarness(t)
	h.wire(t)
	arrived := createArrives(h.fake, 300*time.Millisecond)

	d := h.send(t, groupCommand(`/newgroup Ops`))
	receive(t, arrived, "the create-group call")
	if err := h.bot.Shutdown(testutil.Ctx(t)); err != nil {
		t.Fatalf("Shutdown = %v, want nil", err)
	}

	// Shutdown returned only after the command finished: the group exists and
	// the person got the answer, without any further waiting.
	if n := len(h.fake.Groups()); n != 1 {
		t.Errorf("%d groups after Shutdown, want 1", n)
	}
	replies := h.fake.Replies()
	if len(replies) != 1 || replies[0].MsgID != d.MsgID() || !strings.Contains(replies[0].Text, `Created group "Ops".`) {
		t.Errorf("replies after Shutdown = %+v, want the created reply to msgId %q", replies, d.MsgID())
	}

	if err := h.bot.Handle(bot.Message{MsgID: "late", Text: "/help", SessionWebhook: d.SessionWebhook()}); !errors.Is(err, bot.ErrStopping) {
		t.Errorf("Handle after Shutdown = %v, want ErrStopping", err)
	}
	// A message DingTalk pushes now is left unacknowledged, so DingTalk
	// delivers it again (to another instance) instead of losing it.
	late := h.send(t, groupCommand(`/newgroup Late`))
	if code, err := late.WaitAck(testutil.CtxTimeout(t, time.Second)); err == nil {
		t.Errorf("a message pushed after Shutdown was acknowledged with %d; want no ACK", code)
	}
	if n := len(h.fake.CreateRequests()); n != 1 {
		t.Errorf("DingTalk got %d create-group requests, want 1", n)
	}
}

func TestShutdownDeadlineCancelsDingTalkCall(t *testing.T) {
	h := newHarness(t)
	h.wire(t)
	arrived := createArrives(h.fake, time.Hour)

	h.send(t, groupCommand(`/newgroup Ops`))
	receive(t, arrived, "the create-group call")

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the shutdown deadline has already passed
	shut := make(chan error, 1)
	go func() { shut <- h.bot.Shutdown(ctx) }()
	select {
	case err := <-shut:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Shutdown with an expired context = %v, want context.Canceled", err)
		}
	case <-time.After(wait):
		t.Fatal("Shutdown with an expired context is still waiting for the create-group call")
	}

	// The bot hung up on DingTalk: the fake saw the client give up during
	// its delay, and no group was created.
	testutil.WaitFor(t, wait, "the create-group call to end", func() bool { return len(h.fake.CreateRequests()) == 1 })
	rec := h.fake.CreateRequests()[0]
	if rec.Status != 0 || !strings.Contains(rec.Reason, "client gave up") {
		t.Errorf("create-group call ended with status %d (%s), want the client to have given up", rec.Status, rec.Reason)
	}
	if n := len(h.fake.Groups()); n != 0 {
		t.Errorf("%d groups created, want none", n)
	}
}

func TestCommandOutcomesAreCounted(t *testing.T) {
	for _, tc := range []struct {
		name        string
		text        string
		setup       func(*dingtalktest.Server)
		wantOutcome string
		wantCreates int
		wantReply   string
	}{
		{
			name:        "group created",
			text:        `/newgroup Ops @Bob`,
			wantOutcome: "created",
			wantCreates: 1,
			wantReply:   `Created group "Ops".`,
		},
		{
			name: "DingTalk refuses",
			text: `/newgroup Ops @Bob`,
			setup: func(f *dingtalktest.Server) {
				f.FailNextCreate(400, dingtalktest.CodePermissionFailed, dingtalktest.MsgPermissionFailed)
			},
			wantOutcome: "refused",
			wantCreates: 1,
			wantReply:   "permission check failed",
		},
		{
			name: "DingTalk fails, group may exist",
			text: `/newgroup Ops @Bob`,
			setup: func(f *dingtalktest.Server) {
				f.FailNextCreate(500, dingtalktest.CodeSystemError, dingtalktest.MsgSystemError)
			},
			wantOutcome: "unknown",
			wantCreates: 1,
			wantReply:   "MAY have been created",
		},
		{
			name:        "help",
			text:        `/help`,
			wantOutcome: "answered",
			wantCreates: 0,
			wantReply:   "/newgroup",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if tc.setup != nil {
				tc.setup(h.fake)
			}
			h.wire(t)

			h.send(t, groupCommand(tc.text, dingtalktest.Mention{Name: "Bob", UserID: bob.UserID}))
			replies := h.waitReplies(t, 1)
			h.shutdown(t)

			if n := len(h.fake.CreateRequests()); n != tc.wantCreates {
				t.Errorf("DingTalk got %d create-group requests, want %d", n, tc.wantCreates)
			}
			if len(replies) != 1 || !strings.Contains(replies[0].Text, tc.wantReply) {
				t.Errorf("replies = %+v, want one containing %q", replies, tc.wantReply)
			}
			for _, outcome := range []string{"created", "refused", "unknown", "answered", "internal_error"} {
				want := 0.0
				if outcome == tc.wantOutcome {
					want = 1
				}
				if got := h.metric(t, "dingbot_commands_total", map[string]string{"outcome": outcome}); got != want {
					t.Errorf("dingbot_commands_total{outcome=%q} = %v, want %v", outcome, got, want)
				}
			}
		})
	}
}

// TestClaimedCommandsQueueInMemoryThenInTheInbox: a process runs the
// commands it receives itself, leased to it, while it has room to queue them
// (8 per worker); beyond that they are stored for any worker of any replica
// and still run.
func TestClaimedCommandsQueueInMemoryThenInTheInbox(t *testing.T) {
	h := newHarness(t, func(o *bot.Options) { o.MaxConcurrent = 1; o.CreateRate = 1000 })
	h.wire(t)
	arrived := make(chan struct{}, 1)
	h.fake.ScriptCreateGroup(func(r dingtalktest.CreateGroupRequestRecord) *dingtalktest.Response {
		if r.Request != nil && r.Request.Name != nil && *r.Request.Name == "first" {
			arrived <- struct{}{}
			return &dingtalktest.Response{Delay: time.Second}
		}
		return nil
	})
	h.send(t, groupCommand(`/newgroup first`))
	receive(t, arrived, "the first create-group call")
	var rest []*dingtalktest.Delivery
	for i := range 11 {
		rest = append(rest, h.send(t, groupCommand(fmt.Sprintf(`/newgroup g%02d`, i))))
	}
	for _, d := range rest {
		if code, err := d.WaitAck(testutil.Ctx(t)); err != nil || code != 200 {
			t.Fatalf("ACK = %d, %v", code, err)
		}
	}
	// The one worker is busy with the first command: 8 wait leased to this
	// process, the 3 beyond are stored for anyone.
	held, free := 0, 0
	for _, d := range rest {
		it, err := h.db.Get(testutil.Ctx(t), d.MsgID())
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case it.State == store.Received && it.Owner != "":
			held++
		case it.State == store.Received && it.Owner == "":
			free++
		}
	}
	if held != 8 || free != 3 {
		t.Errorf("while the worker is busy: %d commands held in memory, %d stored for anyone; want 8 and 3", held, free)
	}
	testutil.WaitFor(t, wait, "every command to be answered", func() bool { return len(h.fake.Replies()) == 12 })
	if n := len(h.fake.Groups()); n != 12 {
		t.Errorf("%d groups, want 12", n)
	}
}

// TestShutdownReleasesQueuedCommands: commands claimed but not started
// when the bot stops are given back at once, so the next start runs them
// without waiting for their lease to run out.
func TestShutdownReleasesQueuedCommands(t *testing.T) {
	h := newHarness(t, func(o *bot.Options) { o.MaxConcurrent = 1; o.Lease = time.Hour })
	h.wire(t)
	arrived := createArrives(h.fake, 300*time.Millisecond)
	h.send(t, groupCommand(`/newgroup first`))
	receive(t, arrived, "the first create-group call")
	queued := []*dingtalktest.Delivery{h.send(t, groupCommand(`/newgroup second`)), h.send(t, groupCommand(`/newgroup third`))}
	for _, d := range queued {
		if _, err := d.WaitAck(testutil.Ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.bot.Shutdown(testutil.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	for _, d := range queued {
		it, err := h.db.Get(testutil.Ctx(t), d.MsgID())
		if err != nil {
			t.Fatal(err)
		}
		if it.State != store.Received || it.Owner != "" || !it.LeaseUntil.IsZero() {
			t.Errorf("queued command after Shutdown: state %s, owner %q, lease until %v; want received and free", it.State, it.Owner, it.LeaseUntil)
		}
	}
	// The next process (same database, an hour-long lease) runs them at once.
	next := bot.New(bot.Options{DingTalk: newClient(t, h.fake, nil), Store: h.db, Lease: time.Hour, PollInterval: 50 * time.Millisecond})
	t.Cleanup(func() { _ = next.Shutdown(context.Background()) })
	testutil.WaitFor(t, wait, "the queued commands to run after the restart", func() bool { return len(h.fake.Groups()) == 3 })
}

// TestShutdownStopsTakingInboxItems: a worker draining items from the inbox
// finishes the one it runs and takes no more once Shutdown has begun.
func TestShutdownStopsTakingInboxItems(t *testing.T) {
	h := newHarness(t, func(o *bot.Options) { o.MaxConcurrent = 1; o.CreateRate = 1000 })
	get := h.capture(t)
	arrived := createArrives(h.fake, 200*time.Millisecond)
	for i := range 5 {
		m := get(groupCommand(fmt.Sprintf(`/newgroup g%d`, i)))
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		// Stored for anyone, as by another replica.
		if _, _, err := h.db.Claim(context.Background(), m.MsgID, data, "", time.Now(), 0); err != nil {
			t.Fatal(err)
		}
	}
	receive(t, arrived, "the first create-group call")
	if err := h.bot.Shutdown(testutil.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	if n := len(h.fake.CreateRequests()); n != 1 {
		t.Errorf("Shutdown began during the first command, then %d create calls were made; want 1", n)
	}
}

// commitThenFail is a store whose chosen call stores its write and then
// reports an error, as when a deadline ends during the commit.
type commitThenFail struct {
	store.Store
	claim, finish atomic.Bool // fail the next Claim / Finish once
}

func (s *commitThenFail) Claim(ctx context.Context, id string, m []byte, owner string, now time.Time, lease time.Duration) (bool, *store.Item, error) {
	ok, it, err := s.Store.Claim(ctx, id, m, owner, now, lease)
	if err == nil && s.claim.CompareAndSwap(true, false) {
		return false, nil, errors.New("commit outcome unknown")
	}
	return ok, it, err
}

func (s *commitThenFail) Finish(ctx context.Context, o store.Outcome) error {
	err := s.Store.Finish(ctx, o)
	if err == nil && s.finish.CompareAndSwap(true, false) {
		return context.DeadlineExceeded
	}
	return err
}

// TestClaimErrorThatStoredTheMessage: a claim that reported an error but
// stored the message leased to this process does not strand it: it is run
// once and answered once, redelivery or not.
func TestClaimErrorThatStoredTheMessage(t *testing.T) {
	var flaky *commitThenFail
	h := newHarness(t, func(o *bot.Options) {
		flaky = &commitThenFail{Store: o.Store}
		flaky.claim.Store(true)
		o.Store = flaky
		o.Lease = time.Hour // only a release lets another worker take it
	})
	get := h.capture(t)
	m := get(groupCommand(`/help`))
	if err := h.bot.Handle(m); err == nil {
		t.Fatal("Handle reported no error for a failed claim")
	}
	if err := h.bot.Handle(m); err != nil { // DingTalk redelivers the unACKed message
		t.Fatal(err)
	}
	testutil.WaitFor(t, wait, "the command to be answered", func() bool { return len(h.fake.Replies()) == 1 })
	time.Sleep(200 * time.Millisecond)
	if n := len(h.fake.Replies()); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
	if it, err := h.db.Get(testutil.Ctx(t), m.MsgID); err != nil || it.State != store.Done {
		t.Errorf("item = %+v, %v; want done", it, err)
	}
}

// TestFinishErrorThatStoredTheOutcome: an outcome stored by a Finish that
// reported an error (its commit's deadline) is still answered, once.
func TestFinishErrorThatStoredTheOutcome(t *testing.T) {
	h := newHarness(t, func(o *bot.Options) {
		flaky := &commitThenFail{Store: o.Store}
		flaky.finish.Store(true)
		o.Store = flaky
	})
	h.wire(t)
	h.send(t, groupCommand(`/newgroup Ops`))
	replies := h.waitReplies(t, 1)
	if !strings.Contains(replies[0].Text, `Created group "Ops".`) {
		t.Errorf("reply = %q", replies[0].Text)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(h.fake.Replies()); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
}
