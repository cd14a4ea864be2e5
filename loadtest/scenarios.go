package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
)

// lead is the one person who sends every message; alice and bob are the
// people the /newgroup commands mention.
var (
	lead  = dingtalktest.User{UserID: "lead01", Name: "Lead", Active: true, Visible: true}
	alice = dingtalktest.User{UserID: "alice01", Name: "Alice", Active: true, Visible: true}
	bob   = dingtalktest.User{UserID: "bob02", Name: "Bob", Active: true, Visible: true}
)

const secret = "loadtest-secret-K3v9"

// rig is what every scenario needs: the built binaries and a scratch dir.
type rig struct {
	cfg       Config
	dir       string // scratch directory, removed by the caller
	dingbot   string // path of the dingbot binary
	echobot   string // path of the echobot binary
	logf      func(format string, args ...any)
	startups  []time.Duration
	startupMu sync.Mutex
	databases int // PostgreSQL databases created so far, to name the next one
}

func newFake() *dingtalktest.Server {
	fake := dingtalktest.NewServer(dingtalktest.Options{ClientSecret: secret})
	for _, u := range []dingtalktest.User{lead, alice, bob} {
		fake.AddUser(u)
	}
	return fake
}

// bot is a running bot process connected to its fake.
type bot struct {
	*proc
	name      string
	readyIn   time.Duration // start → /readyz 200 (dingbot) or → connected (echobot)
	idle      memory        // after startup, before traffic
	cpu       time.Duration // CPU time used when traffic started
	driverCPU time.Duration // this process's CPU time then
}

// starter starts a bot against a fake.
type starter func(context.Context, *dingtalktest.Server) (*bot, error)

// workload is the message a run sends, numbered, and how a right reply looks.
type workload struct {
	name string
	msg  func(i int) dingtalktest.Message
	ok   func(reply string) bool
}

// newgroupLoad is issue #7's workload: the product's headline command, a
// distinct group named in quotes with two people mentioned, typed in a group chat.
var newgroupLoad = workload{
	name: "/newgroup",
	msg: func(i int) dingtalktest.Message {
		return dingtalktest.Message{Text: fmt.Sprintf(`/newgroup "Release %d" @Alice @Bob`, i),
			SenderID: lead.UserID, SenderNick: lead.Name, Group: true, ConversationTitle: "Load",
			Mentions: []dingtalktest.Mention{{Name: alice.Name, UserID: alice.UserID}, {Name: bob.Name, UserID: bob.UserID}}}
	},
	ok: func(t string) bool { return strings.HasPrefix(t, "Created group") || strings.HasPrefix(t, "echo: ") },
}

// helpLoad is answered without any DingTalk API call: the pipeline alone.
var helpLoad = workload{
	name: "/help",
	msg: func(int) dingtalktest.Message {
		return dingtalktest.Message{Text: "/help", SenderID: lead.UserID, SenderNick: lead.Name}
	},
	ok: func(t string) bool { return strings.Contains(t, "/newgroup") || strings.HasPrefix(t, "echo: ") },
}

// startDingbot starts `dingbot serve` against fake with the production
// defaults (log level info, JSON logs, SQLite in a fresh directory) and waits
// until /readyz answers 200 and the fake sees the Stream connection.
func (r *rig) startDingbot(ctx context.Context, fake *dingtalktest.Server) (*bot, error) {
	return r.startDingbotWith(ctx, fake, nil)
}

// startUnthrottledDingbot is startDingbot with the bot's own create limit
// (20/s by default, DingTalk's) raised to the highest allowed: the
// throughput and steady runs measure the pipeline against a fake that
// enforces no limit, not DingTalk's quota.
func (r *rig) startUnthrottledDingbot(ctx context.Context, fake *dingtalktest.Server) (*bot, error) {
	return r.startDingbotWith(ctx, fake, map[string]string{"DINGBOT_CREATE_RATE": unthrottled})
}

// unthrottled is the highest DINGBOT_CREATE_RATE the configuration accepts.
const unthrottled = "1000"

func (r *rig) startDingbotWith(ctx context.Context, fake *dingtalktest.Server, extra map[string]string) (*bot, error) {
	b, err := r.launchDingbot(ctx, fake, extra, 1)
	if err != nil {
		return nil, err
	}
	r.startupMu.Lock()
	r.startups = append(r.startups, b.readyIn)
	r.startupMu.Unlock()
	r.settle(b)
	return b, nil
}

// launchDingbot starts `dingbot serve` as startDingbotWith does and waits
// until /readyz answers 200 and the fake holds at least conns Stream
// connections, but neither records the start → ready time (the
// "Start → /readyz" row is of single SQLite processes) nor lets it settle.
func (r *rig) launchDingbot(ctx context.Context, fake *dingtalktest.Server, extra map[string]string, conns int) (*bot, error) {
	data, err := os.MkdirTemp(r.dir, "data")
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		"DINGTALK_CLIENT_ID":     fake.ClientID(),
		"DINGTALK_CLIENT_SECRET": fake.ClientSecret(),
		"DINGTALK_API_URL":       fake.URL(),
		"DINGTALK_OAPI_URL":      fake.URL(),
		"DINGBOT_HTTP_ADDR":      "127.0.0.1:0",
		"DINGBOT_DATA_DIR":       data,
		"DINGBOT_KICKOFF":        "off",
		"DINGBOT_CONFIRM":        "never", // the load is in creating groups
		"DINGBOT_LOG_FORMAT":     "json",
	}
	for k, v := range extra {
		env[k] = v
	}
	p, err := startProc(r.dingbot, []string{"serve"}, env, data)
	if err != nil {
		return nil, err
	}
	b := &bot{proc: p, name: "dingbot"}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	addr, err := p.waitLine(wctx, listening)
	if err == nil {
		b.readyIn, err = p.waitReady(wctx, addr)
	}
	if err == nil {
		err = fake.WaitConnections(wctx, conns)
	}
	if err != nil {
		_ = p.stop()
		return nil, fmt.Errorf("dingbot: %w", err)
	}
	return b, nil
}

// startEchobot starts the bare SDK echo bot against fake.
func (r *rig) startEchobot(ctx context.Context, fake *dingtalktest.Server) (*bot, error) {
	env := map[string]string{
		"DINGTALK_CLIENT_ID":     fake.ClientID(),
		"DINGTALK_CLIENT_SECRET": fake.ClientSecret(),
		"DINGTALK_API_URL":       fake.URL(),
	}
	p, err := startProc(r.echobot, nil, env, r.dir)
	if err != nil {
		return nil, err
	}
	b := &bot{proc: p, name: "echobot"}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err = p.waitLine(wctx, func(l string) (string, bool) { return "", l == "connected" })
	if err == nil {
		err = fake.WaitConnections(wctx, 1)
	}
	if err != nil {
		_ = p.stop()
		return nil, fmt.Errorf("echobot: %w", err)
	}
	b.readyIn = time.Since(p.started)
	r.settle(b)
	return b, nil
}

// settle lets a freshly started bot go idle, then records its memory and
// the CPU time it used so far.
func (r *rig) settle(b *bot) {
	time.Sleep(r.cfg.Settle)
	b.idle, _ = b.readMemory()
	b.cpu, _ = b.cpuTime()
	b.driverCPU, _ = selfCPU()
}

// latencies are receipt → reply times: from just before the fake pushes the
// message to when the fake recorded the reply.
type latencies []time.Duration

// pct returns the nearest-rank percentile p (0 < p ≤ 100).
func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// run is the outcome of one load run against one bot.
type run struct {
	Bot          string
	Workload     string // the command sent
	Sent         int
	Replies      int           // first replies to the messages sent
	Elapsed      time.Duration // first send → last reply
	SendSpan     time.Duration // first send → last send
	Lat          latencies
	Unacked      int // frames not ACKed within 10 s
	TokenFetches int
	Idle, Peak   memory
	ReadyIn      time.Duration
	Failures     int           // replies that are not the expected kind, plus missing replies
	Throttled    int           // create calls the fake answered 403
	Creates      int           // create calls
	Groups       int           // groups the fake holds at the end
	CPU          time.Duration // CPU time (user + system) the bot used from the first send to the end
	DriverCPU    time.Duration // CPU time of this process (the fake DingTalk and the driver) in the same span
	Err          string
}

// driverCPUPerMessage is the fake's and driver's CPU time per reply.
func (r run) driverCPUPerMessage() time.Duration {
	if r.Replies == 0 {
		return 0
	}
	return r.DriverCPU / time.Duration(r.Replies)
}

// cpuPerMessage is the bot's CPU time per reply.
func (r run) cpuPerMessage() time.Duration {
	if r.Replies == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Replies)
}

// perSecond is the messages per second until the last reply.
func (r run) perSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Replies) / r.Elapsed.Seconds()
}

// sender pushes messages through the fake and remembers when.
type sender struct {
	fake *dingtalktest.Server
	mu   sync.Mutex
	at   map[string]time.Time // msgId → just before Send
	sent []*dingtalktest.Delivery
	ack  sync.WaitGroup
	un   atomic.Int64
}

func newSender(fake *dingtalktest.Server, n int) *sender {
	return &sender{fake: fake, at: make(map[string]time.Time, n)}
}

// send pushes message m as number i; done (if not nil) is called once it is
// ACKed or 10 s passed.
func (s *sender) send(i int, m dingtalktest.Message, done func()) error {
	id := fmt.Sprintf("msgLT%07d", i)
	m.MsgID = id
	t := time.Now()
	s.mu.Lock()
	s.at[id] = t
	s.mu.Unlock()
	d, err := s.fake.Send(m)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.sent = append(s.sent, d)
	s.mu.Unlock()
	s.ack.Add(1)
	go func() {
		defer s.ack.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := d.WaitAck(ctx); err != nil {
			s.un.Add(1)
		}
		if done != nil {
			done()
		}
	}()
	return nil
}

// collect waits (up to timeout) for a reply to every message sent and fills
// res's counts and latencies. ok judges a reply's text.
func (s *sender) collect(ctx context.Context, res *run, start time.Time, timeout time.Duration, ok func(string) bool) {
	s.mu.Lock()
	n := len(s.at)
	s.mu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	replies, err := s.fake.WaitReplies(wctx, n)
	if err != nil {
		res.Err = fmt.Sprintf("%d of %d replies after %s", len(replies), n, timeout)
	}
	s.ack.Wait()
	res.Sent, res.Unacked = n, int(s.un.Load())
	seen := make(map[string]bool, n)
	var last time.Time
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range replies {
		t0, mine := s.at[r.MsgID]
		if !mine || seen[r.MsgID] {
			continue
		}
		seen[r.MsgID] = true
		res.Replies++
		res.Lat = append(res.Lat, r.SentAt.Sub(t0))
		if r.SentAt.After(last) {
			last = r.SentAt
		}
		if ok != nil && !ok(r.Text) {
			res.Failures++
		}
	}
	res.Failures += n - res.Replies
	if !last.IsZero() {
		res.Elapsed = last.Sub(start)
	}
}

// finish records the bot's memory and the fake's counters, and stops the bot.
func finish(b *bot, fake *dingtalktest.Server, res *run) {
	res.Bot = b.name
	res.ReadyIn = b.readyIn
	res.Idle = b.idle
	res.Peak, _ = b.readMemory()
	if cpu, err := b.cpuTime(); err == nil {
		res.CPU = cpu - b.cpu
	}
	if cpu, err := selfCPU(); err == nil {
		res.DriverCPU = cpu - b.driverCPU
	}
	res.TokenFetches = fake.TokenFetches()
	for _, c := range fake.CreateRequests() {
		res.Creates++
		if c.Status == 403 {
			res.Throttled++
		}
	}
	res.Groups = len(fake.Groups())
	if err := b.stop(); err != nil && res.Err == "" {
		res.Err = fmt.Sprintf("%s exit: %v", b.name, err)
	}
}

// throughput sends n messages of w as fast as the bot ACKs them, keeping at
// most window frames un-ACKed (the SDK drops frames beyond its 100 handler
// slots), and waits for every reply.
func (r *rig) throughput(ctx context.Context, start starter, w workload) (run, error) {
	fake := newFake()
	defer fake.Close()
	b, err := start(ctx, fake)
	if err != nil {
		return run{}, err
	}
	res := run{Workload: w.name}
	s := newSender(fake, r.cfg.ThroughputN)
	slots := make(chan struct{}, r.cfg.Window)
	t0 := time.Now()
	deadline := time.After(r.cfg.RunTimeout)
loop:
	for i := range r.cfg.ThroughputN {
		select {
		case slots <- struct{}{}:
		case <-deadline:
			res.Err = "send deadline passed"
			break loop
		case <-ctx.Done():
			break loop
		}
		if err := s.send(i, w.msg(i), func() { <-slots }); err != nil {
			res.Err = err.Error()
			break
		}
	}
	res.SendSpan = time.Since(t0)
	s.collect(ctx, &res, t0, r.cfg.RunTimeout, w.ok)
	finish(b, fake, &res)
	r.logf("throughput %s %s: %d/%d replies in %s (%.0f msg/s), p50 %s p99 %s, peak RSS %s, CPU %s/message (fake and driver %s)",
		res.Bot, w.name, res.Replies, res.Sent, res.Elapsed.Round(time.Millisecond), res.perSecond(), res.Lat.pct(50), res.Lat.pct(99), mib(res.Peak.HWM),
		res.cpuPerMessage(), res.driverCPUPerMessage())
	return res, nil
}

// steady sends messages of w at a fixed rate (open loop: it does not wait
// for ACKs) for the configured duration, then waits for every reply.
func (r *rig) steady(ctx context.Context, start starter, w workload) (run, error) {
	fake := newFake()
	defer fake.Close()
	b, err := start(ctx, fake)
	if err != nil {
		return run{}, err
	}
	res := run{Workload: w.name}
	n := int(float64(r.cfg.SteadyRate) * r.cfg.SteadyFor.Seconds())
	every := time.Second / time.Duration(r.cfg.SteadyRate)
	s := newSender(fake, n)
	t0 := time.Now()
	for i := range n {
		if d := time.Until(t0.Add(time.Duration(i) * every)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		if err := s.send(i, w.msg(i), nil); err != nil {
			res.Err = err.Error()
			break
		}
	}
	res.SendSpan = time.Since(t0)
	s.collect(ctx, &res, t0, r.cfg.RunTimeout, w.ok)
	finish(b, fake, &res)
	r.logf("steady %s %s: %d msg/s for %s: %d/%d replies, p50 %s p99 %s",
		res.Bot, w.name, r.cfg.SteadyRate, r.cfg.SteadyFor, res.Replies, res.Sent, res.Lat.pct(50), res.Lat.pct(99))
	return res, nil
}

// burst sends n /newgroup commands at once while the fake allows rate
// creates per second and answers 403 QpsLimit beyond.
func (r *rig) burst(ctx context.Context) (run, error) {
	fake := newFake()
	defer fake.Close()
	fake.SetCreateRateLimit(r.cfg.BurstRate)
	b, err := r.startDingbot(ctx, fake)
	if err != nil {
		return run{}, err
	}
	res := run{Workload: "/newgroup"}
	s := newSender(fake, r.cfg.BurstN)
	t0 := time.Now()
	var wg sync.WaitGroup
	var errMu sync.Mutex
	for i := range r.cfg.BurstN {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.send(i, dingtalktest.Message{Text: fmt.Sprintf("/newgroup load-%03d", i), SenderID: lead.UserID, SenderNick: lead.Name}, nil); err != nil {
				errMu.Lock()
				res.Err = err.Error()
				errMu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.SendSpan = time.Since(t0)
	s.collect(ctx, &res, t0, r.cfg.RunTimeout+time.Duration(r.cfg.BurstN/max(1, r.cfg.BurstRate))*time.Second,
		func(t string) bool { return strings.HasPrefix(t, "Created group") })
	finish(b, fake, &res)
	r.logf("burst: %d creates at %d/s in %s, %d user-visible failures, %d 403s retried, %d token fetches",
		res.Replies, r.cfg.BurstRate, res.Elapsed.Round(time.Millisecond), res.Failures, res.Throttled, res.TokenFetches)
	return res, nil
}

// fileSize is the size of path in bytes, or 0.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
