package stream_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
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
	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
)

// wait bounds every wait; it is generous and never used to assert speed.
const wait = 10 * time.Second

// sdkOutput captures everything the SDK logs during the package's tests. The
// SDK's logger is global, so it is set once, before any test starts a client.
var sdkOutput = &testutil.SyncBuffer{}

func TestMain(m *testing.M) {
	sdklogger.SetLogger(stream.SDKLogger(slog.New(slog.NewTextHandler(sdkOutput, nil))))
	os.Exit(m.Run())
}

func newFake(t *testing.T) *dingtalktest.Server {
	t.Helper()
	fake := dingtalktest.NewServer(dingtalktest.Options{Logf: t.Logf})
	t.Cleanup(fake.Close)
	return fake
}

func options(fake *dingtalktest.Server, reg prometheus.Registerer) stream.Options {
	return stream.Options{
		ClientID:      fake.ClientID(),
		ClientSecret:  fake.ClientSecret(),
		APIURL:        fake.URL(),
		CheckInterval: 100 * time.Millisecond,
		Registerer:    reg,
	}
}

// running is a Stream whose Run goroutine the test controls.
type running struct {
	s      *stream.Stream
	cancel context.CancelFunc
	done   chan error
}

// run starts s.Run and waits until it reports the first connection.
func run(t *testing.T, s *stream.Stream) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{s: s, cancel: cancel, done: make(chan error, 1)}
	connected := make(chan struct{})
	go func() { r.done <- s.Run(ctx, connected) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(wait):
			t.Error("Run did not return after its context was cancelled")
		}
	})
	select {
	case <-connected:
	case err := <-r.done:
		t.Fatalf("Run returned before connecting: %v", err)
	case <-time.After(wait):
		t.Fatal("Run did not connect")
	}
	return r
}

// stop cancels Run and returns its result.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(wait):
		t.Fatal("Run did not return after its context was cancelled")
		return nil
	}
}

func collect() (bot.HandlerFunc, chan bot.Message) {
	ch := make(chan bot.Message, 16)
	return func(m bot.Message) error {
		ch <- m
		return nil
	}, ch
}

func receive(t *testing.T, ch <-chan bot.Message) bot.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(wait):
		t.Fatal("no message reached the handler")
		return bot.Message{}
	}
}

func TestReadyFollowsConnection(t *testing.T) {
	fake := newFake(t)
	reg := prometheus.NewRegistry()
	handle, _ := collect()
	s := stream.New(options(fake, reg), handle)

	if s.Ready() {
		t.Fatal("Ready() = true before Run")
	}
	r := run(t, s)
	if !s.Ready() {
		t.Error("Ready() = false after Run reported the connection")
	}
	if err := fake.WaitConnections(testutil.Ctx(t), 1); err != nil {
		t.Fatalf("WaitConnections: %v", err)
	}
	if got := testutil.MetricValue(t, reg, "dingbot_stream_connected", nil); got != 1 {
		t.Errorf("dingbot_stream_connected = %v while connected, want 1", got)
	}

	if err := r.stop(t); err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	if s.Ready() {
		t.Error("Ready() = true after Run returned")
	}
	if got := testutil.MetricValue(t, reg, "dingbot_stream_connected", nil); got != 0 {
		t.Errorf("dingbot_stream_connected = %v after Run returned, want 0", got)
	}
	testutil.WaitFor(t, wait, "the connection to close", func() bool { return fake.Connections() == 0 })
	opens := fake.Opens()
	time.Sleep(time.Second) // nothing may reopen the connection now
	if got := fake.Opens(); got != opens {
		t.Errorf("gateway opened %d more time(s) after Run returned, want 0", got-opens)
	}
	if got := fake.Connections(); got != 0 {
		t.Errorf("%d connections after Run returned, want 0", got)
	}
	if _, err := fake.Send(dingtalktest.Message{Text: "/help", SenderID: "alice"}); !errors.Is(err, dingtalktest.ErrNoConnection) {
		t.Errorf("Send after Run returned = %v, want ErrNoConnection (no one may receive messages)", err)
	}
}

func TestReconnectsAfterConnectionLoss(t *testing.T) {
	for _, tc := range []struct {
		name string
		lose func(*dingtalktest.Server) int
	}{
		{"DingTalk disconnect frame", (*dingtalktest.Server).Disconnect},
		{"dropped TCP connection", (*dingtalktest.Server).DropConnections},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t)
			reg := prometheus.NewRegistry()
			handle, msgs := collect()
			s := stream.New(options(fake, reg), handle)
			run(t, s)
			if err := fake.WaitConnections(testutil.Ctx(t), 1); err != nil {
				t.Fatalf("WaitConnections: %v", err)
			}
			// A message on the first connection works.
			if _, err := fake.Send(dingtalktest.Message{Text: "/help", SenderID: "alice", MsgID: "before"}); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if m := receive(t, msgs); m.MsgID != "before" {
				t.Fatalf("handler got msgId %q, want %q", m.MsgID, "before")
			}
			opens := fake.Opens()

			if n := tc.lose(fake); n != 1 {
				t.Fatalf("%s affected %d connections, want 1", tc.name, n)
			}
			testutil.WaitFor(t, wait, "Ready() to turn false", func() bool { return !s.Ready() })
			testutil.WaitFor(t, wait, "Ready() to turn true again", s.Ready)
			if err := fake.WaitConnections(testutil.Ctx(t), 1); err != nil {
				t.Fatalf("no connection after the loss: %v", err)
			}
			if got := fake.Opens(); got <= opens {
				t.Errorf("gateway opens = %d, want more than %d (a new connection)", got, opens)
			}
			testutil.WaitFor(t, wait, "dingbot_stream_reconnects_total to count the reconnect", func() bool {
				return testutil.MetricValue(t, reg, "dingbot_stream_reconnects_total", nil) >= 1
			})
			testutil.WaitFor(t, wait, "dingbot_stream_connected to be 1", func() bool {
				return testutil.MetricValue(t, reg, "dingbot_stream_connected", nil) == 1
			})

			// A message sent after the reconnect reaches the handler.
			d, err := fake.Send(dingtalktest.Message{Text: "/help", SenderID: "alice", MsgID: "after"})
			if err != nil {
				t.Fatalf("Send after reconnect: %v", err)
			}
			if m := receive(t, msgs); m.MsgID != "after" {
				t.Errorf("handler got msgId %q, want %q", m.MsgID, "after")
			}
			if code, err := d.WaitAck(testutil.Ctx(t)); err != nil || code != 200 {
				t.Errorf("ACK after reconnect = %d, %v; want 200", code, err)
			}
		})
	}
}

func TestWrongCredentialsStopRun(t *testing.T) {
	fake := newFake(t)
	const secret = "s3cr3t-that-must-not-leak"
	opts := options(fake, nil)
	opts.ClientSecret = secret
	handle, _ := collect()
	s := stream.New(opts, handle)

	done := make(chan error, 1)
	connected := make(chan struct{})
	go func() { done <- s.Run(context.Background(), connected) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(wait):
		t.Fatal("Run kept going with wrong credentials")
	}
	if err == nil {
		t.Fatal("Run with wrong credentials = nil, want an error")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("Run's error %q contains the client secret", err)
	}
	select {
	case <-connected:
		t.Error("Run reported a connection it never had")
	default:
	}
	if s.Ready() {
		t.Error("Ready() = true after a failed Run")
	}
	if got := fake.Opens(); got != 0 {
		t.Errorf("gateway issued %d tickets, want 0", got)
	}
}

// TestHandlerResultIsTheAck: a message the handler took is ACKed with
// 200; one it could not take (the store is down, the bot is stopping) is
// not ACKed at all, so DingTalk redelivers it, and the connection stays up.
func TestHandlerResultIsTheAck(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		ack  bool
	}{
		{"message accepted", nil, true},
		{"message refused", bot.ErrStopping, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t)
			s := stream.New(options(fake, nil), func(bot.Message) error { return tc.err })
			run(t, s)
			if err := fake.WaitConnections(testutil.Ctx(t), 1); err != nil {
				t.Fatalf("WaitConnections: %v", err)
			}
			d, err := fake.Send(dingtalktest.Message{Text: "/help", SenderID: "alice"})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			code, err := d.WaitAck(testutil.CtxTimeout(t, 2*time.Second))
			switch {
			case tc.ack && (err != nil || code != 200):
				t.Errorf("ACK = %d, %v; want 200", code, err)
			case !tc.ack && err == nil:
				t.Errorf("a refused message was acknowledged with %d; want no ACK", code)
			}
			if !tc.ack && fake.Connections() != 1 {
				t.Error("the connection did not survive a refused message")
			}
		})
	}
}

func TestMessageReachesHandlerConverted(t *testing.T) {
	fake := newFake(t)
	fake.AddUser(dingtalktest.User{UserID: "alice", Name: "Alice", Active: true, Visible: true})
	handle, msgs := collect()
	run(t, stream.New(options(fake, nil), handle))
	if err := fake.WaitConnections(testutil.Ctx(t), 1); err != nil {
		t.Fatalf("WaitConnections: %v", err)
	}

	before := time.Now()
	d, err := fake.Send(dingtalktest.Message{
		Text:     `/newgroup Ops @Bob`,
		SenderID: "alice",
		Group:    true,
		Mentions: []dingtalktest.Mention{{Name: "Bob", UserID: "bob"}, {Name: "Guest"}},
		MsgID:    "msg-1",
	})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := receive(t, msgs)

	if m.MsgID != "msg-1" || m.ConversationID != d.ConversationID() || !m.Group {
		t.Errorf("msgId, conversation, group = %q, %q, %v; want %q, %q, true", m.MsgID, m.ConversationID, m.Group, "msg-1", d.ConversationID())
	}
	if m.SenderStaffID != "alice" || m.SenderNick != "Alice" || m.BotUserID != fake.BotUserID() {
		t.Errorf("sender %q (%q), bot %q; want alice (Alice), %q", m.SenderStaffID, m.SenderNick, m.BotUserID, fake.BotUserID())
	}
	if m.MsgType != "text" || strings.TrimSpace(m.Text) != `/newgroup Ops @Bob` {
		t.Errorf("msgtype %q, text %q; want text, %q", m.MsgType, m.Text, `/newgroup Ops @Bob`)
	}
	if m.SessionWebhook != d.SessionWebhook() {
		t.Errorf("session webhook %q, want %q", m.SessionWebhook, d.SessionWebhook())
	}
	if !m.SessionExpires.After(before) {
		t.Errorf("session expires %v, want a time in the future", m.SessionExpires)
	}
	// atUsers: the bot itself, then Bob and the outsider (no staffId).
	if len(m.Mentions) != 3 {
		t.Fatalf("mentions = %+v, want 3", m.Mentions)
	}
	if m.Mentions[0] != (commands.Mention{DingtalkID: fake.BotUserID()}) {
		t.Errorf("first mention = %+v, want the bot", m.Mentions[0])
	}
	if m.Mentions[1].StaffID != "bob" || m.Mentions[1].DingtalkID == "" {
		t.Errorf("second mention = %+v, want bob with a dingtalkId", m.Mentions[1])
	}
	if m.Mentions[2].StaffID != "" || m.Mentions[2].DingtalkID == "" {
		t.Errorf("third mention = %+v, want an outsider with only a dingtalkId", m.Mentions[2])
	}
}

func TestSDKLogger(t *testing.T) {
	const secret = "clientSecret=testsecret"
	for _, tc := range []struct {
		name      string
		log       func(stream.SDKLog)
		wantLevel string // "" means no output
	}{
		{"Debugf is dropped", func(l stream.SDKLog) { l.Debugf("open request %s", secret) }, ""},
		{"Infof", func(l stream.SDKLog) { l.Infof("connect success, sessionId=[%s]", "abc") }, "INFO"},
		{"Warningf", func(l stream.SDKLog) { l.Warningf("capacity %d", 1) }, "WARN"},
		{"Errorf", func(l stream.SDKLog) { l.Errorf("read error %s", "eof") }, "WARN"},
		{"Fatalf", func(l stream.SDKLog) { l.Fatalf("boom %s", "x") }, "ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			tc.log(stream.SDKLogger(l))
			out := buf.String()
			if tc.wantLevel == "" {
				if out != "" {
					t.Errorf("output %q, want none", out)
				}
				return
			}
			if !strings.Contains(out, "level="+tc.wantLevel) || !strings.Contains(out, "component=stream-sdk") {
				t.Errorf("output %q, want a %s line from component stream-sdk", out, tc.wantLevel)
			}
		})
	}
}

// serveOne sends a message and checks it reaches the handler and is ACKed.
func serveOne(t *testing.T, fake *dingtalktest.Server, msgs <-chan bot.Message, id string) {
	t.Helper()
	d, err := fake.Send(dingtalktest.Message{Text: "/help", SenderID: "alice", MsgID: id})
	if err != nil {
		t.Fatalf("Send %s: %v", id, err)
	}
	if m := receive(t, msgs); m.MsgID != id {
		t.Errorf("handler got msgId %q, want %q", m.MsgID, id)
	}
	if code, err := d.WaitAck(testutil.Ctx(t)); err != nil || code != 200 {
		t.Errorf("ACK of %s = %d, %v; want 200", id, code, err)
	}
}

// TestReconnectsWhenPingsGoUnanswered: the server stops answering websocket
// pings, so the SDK's keepalive drops the connection (3s idle + 5s for the
// pong); no frame ever arrived on it, so only the liveness probe can tell.
func TestReconnectsWhenPingsGoUnanswered(t *testing.T) {
	fake := newFake(t)
	reg := prometheus.NewRegistry()
	handle, msgs := collect()
	opts := options(fake, reg)
	opts.KeepAlive = time.Second // the SDK raises it to 3s
	s := stream.New(opts, handle)
	run(t, s)
	if err := fake.WaitConnections(testutil.Ctx(t), 1); err != nil {
		t.Fatalf("WaitConnections: %v", err)
	}
	opens := fake.Opens()

	fake.SetSwallowPings(true)
	testutil.WaitFor(t, 4*wait, "Ready() to turn false after the keepalive failed", func() bool { return !s.Ready() })
	fake.SetSwallowPings(false)
	testutil.WaitFor(t, wait, "Ready() to turn true again", s.Ready)
	if got := fake.Opens(); got <= opens {
		t.Errorf("gateway opens = %d, want more than %d", got, opens)
	}
	// The reconnect is counted around the time Ready turns true: wait for
	// the count, not for the earlier event.
	testutil.WaitFor(t, wait, "the reconnect to be counted", func() bool {
		return testutil.MetricValue(t, reg, "dingbot_stream_reconnects_total", nil) >= 1
	})
	if err := fake.WaitConnections(testutil.Ctx(t), 1); err != nil {
		t.Fatalf("WaitConnections: %v", err)
	}
	serveOne(t, fake, msgs, "after-keepalive")
}

// TestNoticesDropBeforeAnyFrame: a connection that dies before it delivered
// a single frame gives the supervisor no frame context to watch.
func TestNoticesDropBeforeAnyFrame(t *testing.T) {
	fake := newFake(t)
	reg := prometheus.NewRegistry()
	handle, msgs := collect()
	s := stream.New(options(fake, reg), handle)
	run(t, s)
	if err := fake.WaitConnections(testutil.Ctx(t), 1); err != nil {
		t.Fatalf("WaitConnections: %v", err)
	}
	opens := fake.Opens()

	if n := fake.DropConnections(); n != 1 {
		t.Fatalf("DropConnections = %d, want 1", n)
	}
	testutil.WaitFor(t, wait, "Ready() to turn false", func() bool { return !s.Ready() })
	testutil.WaitFor(t, wait, "dingbot_stream_connected to be 0", func() bool {
		return testutil.MetricValue(t, reg, "dingbot_stream_connected", nil) == 0
	})
	testutil.WaitFor(t, wait, "Ready() to turn true again", s.Ready)
	if got := fake.Opens(); got <= opens {
		t.Errorf("gateway opens = %d, want more than %d", got, opens)
	}
	if got := testutil.MetricValue(t, reg, "dingbot_stream_reconnects_total", nil); got != 1 {
		t.Errorf("dingbot_stream_reconnects_total = %v, want 1", got)
	}
	if got := testutil.MetricValue(t, reg, "dingbot_stream_connected", nil); got != 1 {
		t.Errorf("dingbot_stream_connected = %v, want 1", got)
	}
	if err := fake.WaitConnections(testutil.Ctx(t), 1); err != nil {
		t.Fatalf("WaitConnections: %v", err)
	}
	serveOne(t, fake, msgs, "after-drop")
}

// TestReplacesSilentConnection: the server accepts the socket and answers
// websocket pings but delivers nothing (a zombie); the bot notices the missing
// SYSTEM pings and replaces the connection.
func TestReplacesSilentConnection(t *testing.T) {
	fake := dingtalktest.NewServer(dingtalktest.Options{Logf: t.Logf, PingInterval: 200 * time.Millisecond})
	t.Cleanup(fake.Close)
	reg := prometheus.NewRegistry()
	handle, msgs := collect()
	opts := options(fake, reg)
	opts.IdleTimeout = time.Second
	opts.RecycleOverlap = 100 * time.Millisecond
	s := stream.New(opts, handle)
	run(t, s)
	if err := fake.WaitConnections(testutil.Ctx(t), 1); err != nil {
		t.Fatalf("WaitConnections: %v", err)
	}
	testutil.WaitFor(t, wait, "a SYSTEM ping to be answered", func() bool { return len(fake.Pongs()) > 0 })
	opens := fake.Opens()

	// The zombie is replaced by a working connection.
	if n := fake.SetSilent(true); n != 1 {
		t.Fatalf("SetSilent(true) = %d, want 1", n)
	}
	testutil.WaitFor(t, wait, "the bot to open a new connection", func() bool { return fake.Opens() > opens })
	testutil.WaitFor(t, wait, "the zombie to be closed", func() bool { return fake.SilentConnections() == 0 })
	testutil.WaitFor(t, wait, "dingbot_stream_reconnects_total to count the replacement", func() bool {
		return testutil.MetricValue(t, reg, "dingbot_stream_reconnects_total", nil) >= 1
	})
	testutil.WaitFor(t, wait, "Ready() to be true", s.Ready)
	if err := fake.WaitConnections(testutil.Ctx(t), 1); err != nil {
		t.Fatalf("WaitConnections: %v", err)
	}
	serveOne(t, fake, msgs, "after-zombie")

	// While no replacement can be opened, a zombie is not ready.
	fake.SetRefuseOpens(true)
	if n := fake.SetSilent(true); n != 1 {
		t.Fatalf("SetSilent(true) = %d, want 1", n)
	}
	testutil.WaitFor(t, wait, "Ready() to turn false for a zombie", func() bool { return !s.Ready() })
	testutil.WaitFor(t, wait, "dingbot_stream_connected to be 0", func() bool {
		return testutil.MetricValue(t, reg, "dingbot_stream_connected", nil) == 0
	})
	fake.SetRefuseOpens(false)
	testutil.WaitFor(t, wait, "Ready() to turn true again", s.Ready)
	fake.SetSilent(false) // in case the zombie is still there: it must not lose the next message
	testutil.WaitFor(t, wait, "the zombie to be closed", func() bool { return fake.Connections() == 1 })
	if got := testutil.MetricValue(t, reg, "dingbot_stream_reconnects_total", nil); got < 2 {
		t.Errorf("dingbot_stream_reconnects_total = %v, want ≥ 2", got)
	}
	serveOne(t, fake, msgs, "after-second-zombie")
}

// TestRecycleIsMakeBeforeBreak: periodic recycling opens the new connection
// before closing the old one, so there is always a connection, Ready never
// flickers, and no message is lost.
func TestRecycleIsMakeBeforeBreak(t *testing.T) {
	fake := dingtalktest.NewServer(dingtalktest.Options{
		Logf:            func(string, ...any) {},
		AckTimeout:      300 * time.Millisecond,
		MaxRedeliveries: 50,
	})
	t.Cleanup(fake.Close)
	var mu sync.Mutex
	got := map[string]int{}
	handle := func(m bot.Message) error {
		mu.Lock()
		got[m.MsgID]++
		mu.Unlock()
		return nil
	}
	opts := options(fake, nil)
	opts.RecycleEvery = time.Second
	opts.RecycleOverlap = 200 * time.Millisecond
	s := stream.New(opts, handle)
	run(t, s)
	if err := fake.WaitConnections(testutil.Ctx(t), 1); err != nil {
		t.Fatalf("WaitConnections: %v", err)
	}
	opens := fake.Opens()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var noConn, notReady atomic.Int64
	wg.Add(1)
	go func() { // sample the state
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if fake.Connections() == 0 {
				noConn.Add(1)
			}
			if !s.Ready() {
				notReady.Add(1)
			}
			time.Sleep(500 * time.Microsecond)
		}
	}()
	var sent []string
	var sendErrs []error
	for i := 0; fake.Opens() < opens+3; i++ {
		id := fmt.Sprintf("m%03d", i)
		if _, err := fake.Send(dingtalktest.Message{Text: "/help", SenderID: "alice", MsgID: id}); err != nil {
			sendErrs = append(sendErrs, err)
		} else {
			sent = append(sent, id)
		}
		time.Sleep(10 * time.Millisecond)
		if i > 5000 {
			t.Fatal("no recycle happened")
		}
	}
	// Keep sending across the last recycle's overlap.
	for i := 0; i < 50; i++ {
		id := fmt.Sprintf("tail%03d", i)
		if _, err := fake.Send(dingtalktest.Message{Text: "/help", SenderID: "alice", MsgID: id}); err != nil {
			sendErrs = append(sendErrs, err)
		} else {
			sent = append(sent, id)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	if n := noConn.Load(); n > 0 {
		t.Errorf("no connection at all in %d samples during recycling", n)
	}
	if n := notReady.Load(); n > 0 {
		t.Errorf("Ready() = false in %d samples during recycling", n)
	}
	if len(sendErrs) > 0 {
		t.Errorf("%d sends failed during recycling, first: %v", len(sendErrs), sendErrs[0])
	}
	testutil.WaitFor(t, 3*wait, "every message to reach the handler", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range sent {
			if got[id] == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("%d messages across %d recycles", len(sent), fake.Opens()-opens)
}

// TestNoReconnectAfterRunReturns: cancelling Run closes every connection,
// including a recycle's overlapping one, and nothing opens afterwards.
func TestNoReconnectAfterRunReturns(t *testing.T) {
	fake := dingtalktest.NewServer(dingtalktest.Options{Logf: t.Logf, PingInterval: 50 * time.Millisecond})
	t.Cleanup(fake.Close)
	handle, _ := collect()
	opts := options(fake, nil)
	opts.RecycleEvery = 200 * time.Millisecond
	opts.RecycleOverlap = time.Second // the old connection is still open at the cancel
	opts.IdleTimeout = 500 * time.Millisecond
	s := stream.New(opts, handle)
	r := run(t, s)
	testutil.WaitFor(t, wait, "a few recycles", func() bool { return fake.Opens() >= 3 })
	testutil.WaitFor(t, wait, "two connections at once", func() bool { return fake.Connections() >= 2 })
	if err := r.stop(t); err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	if s.Ready() {
		t.Error("Ready() = true after Run returned")
	}
	testutil.WaitFor(t, wait, "every connection to close", func() bool { return fake.Connections() == 0 })
	opens := fake.Opens()
	time.Sleep(1500 * time.Millisecond) // longer than RecycleEvery, IdleTimeout and the back-off
	if got := fake.Opens(); got != opens {
		t.Errorf("gateway opened %d more time(s) after Run returned, want 0", got-opens)
	}
	if got := fake.Connections(); got != 0 {
		t.Errorf("%d connections after Run returned, want 0", got)
	}
}
