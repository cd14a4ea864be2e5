// Package stream connects dingbot to DingTalk in Stream mode: the bot opens a
// websocket to DingTalk with the official SDK and receives chat messages on the
// chatbot topic, so no public URL is needed.
//
// The SDK's own reconnect loop is switched off and replaced by a supervisor
// that owns the connection's life. It works in generations: each connection
// gets its own SDK client, which is opened once and never reused; when the
// connection is lost, presumed dead or due for recycling, the supervisor opens
// a new generation and closes the old one. A generation is over when
//
//   - DingTalk sends a SYSTEM disconnect frame (DingTalk stops routing to it at once);
//   - the context of a frame it delivered ends: the SDK cancels every frame's
//     context when that frame's connection closes, whatever the reason (read
//     error, server close, failed keepalive);
//   - the liveness probe fails: Start on a client that still holds its
//     connection is a no-op returning nil, so calling Start with an already
//     cancelled context tells, without any network traffic, whether the SDK has
//     dropped the connection, even one that never delivered a frame;
//   - nothing at all arrived on it for IdleTimeout (a zombie connection); or
//   - it is older than RecycleEvery (DingTalk connections have been seen to go
//     silent after a day or two).
//
// Lost connections are reopened with back-off; zombies and old connections are
// replaced make-before-break: the new connection is opened first, and the old
// one is closed RecycleOverlap later, so DingTalk, which pushes each message to
// one random live connection of the app, always has one to push to.
package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/client"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/handler"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/utils"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/robotmsg"
)

// Defaults of the Options fields.
const (
	DefaultCheckInterval  = 5 * time.Second
	DefaultKeepAlive      = 60 * time.Second
	DefaultIdleTimeout    = 5 * time.Minute
	DefaultRecycleEvery   = 6 * time.Hour
	DefaultRecycleOverlap = 2 * time.Second
)

const (
	// openTimeout bounds one connection attempt (gateway call and websocket handshake).
	openTimeout = 30 * time.Second
	// stableAfter is how long a connection must have lived for its loss to
	// reset the back-off; a server that accepts and drops at once is retried
	// ever more slowly.
	stableAfter = time.Minute
)

// Options configures a Stream.
type Options struct {
	// ClientID and ClientSecret are the app's credentials.
	ClientID, ClientSecret string
	// APIURL replaces https://api.dingtalk.com for the gateway open call.
	APIURL string
	// CheckInterval is how often the connection is probed for loss and idleness (default 5s).
	CheckInterval time.Duration
	// KeepAlive is the idle time before the SDK pings the server at websocket
	// level and drops the connection if no pong comes within 5s (default 60s;
	// the SDK raises values under 3s).
	KeepAlive time.Duration
	// IdleTimeout: a connection on which no frame at all (SYSTEM ping, message,
	// anything) arrived for this long is presumed to be a zombie and replaced.
	// Zero means DefaultIdleTimeout (5 min); negative disables the check.
	// DingTalk does not document how often it sends SYSTEM pings, so the check
	// is armed only once the server has been seen sending one: against a
	// server that never pings, a quiet bot would otherwise churn connections.
	// Detection takes up to IdleTimeout + CheckInterval.
	IdleTimeout time.Duration
	// RecycleEvery replaces a connection that has lived this long (with up to
	// 10% jitter taken off, so several instances do not recycle together).
	// Zero means DefaultRecycleEvery (6h); negative disables recycling.
	RecycleEvery time.Duration
	// RecycleOverlap is how long a replaced, possibly still working connection
	// stays open after its replacement is up, so its in-flight handlers can
	// ACK and DingTalk sees the new one before the old one goes (default 2s).
	RecycleOverlap time.Duration
	// MaxPendingHandlers bounds message handlers running at once per
	// connection (default 1000). The SDK leaves frames beyond it unACKed for
	// DingTalk to redeliver ~60 s later; the handler only stores the message,
	// so a high bound lets a burst be taken at once instead.
	MaxPendingHandlers int
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger
	// Registerer, if set, gets dingbot_stream_connected and
	// dingbot_stream_reconnects_total.
	Registerer prometheus.Registerer
}

// Stream is a supervised Stream-mode connection.
type Stream struct {
	opts     Options
	handle   bot.HandlerFunc
	log      *slog.Logger
	metrics  *metrics
	ready    atomic.Bool
	pingSeen atomic.Bool // the server sends SYSTEM pings: IdleTimeout is armed
	seq      atomic.Uint64

	mu   sync.Mutex
	gens map[*generation]struct{} // generations not closed yet
	wg   sync.WaitGroup           // goroutines Run waits for
}

// New returns a Stream that passes chat messages to handle. Call Run to
// connect. DingTalk gets a message's ACK only once handle returns.
func New(opts Options, handle bot.HandlerFunc) *Stream {
	if opts.CheckInterval <= 0 {
		opts.CheckInterval = DefaultCheckInterval
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = DefaultKeepAlive
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.RecycleEvery == 0 {
		opts.RecycleEvery = DefaultRecycleEvery
	}
	if opts.RecycleOverlap <= 0 {
		opts.RecycleOverlap = DefaultRecycleOverlap
	}
	if opts.MaxPendingHandlers <= 0 {
		opts.MaxPendingHandlers = 1000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var m *metrics
	if opts.Registerer != nil {
		m = newMetrics(opts.Registerer)
	}
	return &Stream{
		opts:    opts,
		handle:  handle,
		log:     opts.Logger,
		metrics: m,
		gens:    make(map[*generation]struct{}),
	}
}

// Ready reports whether a Stream connection is up and not known to be dead.
func (s *Stream) Ready() bool { return s.ready.Load() }

// Run connects and keeps a connection up until ctx is cancelled, then closes
// every connection so no further messages arrive and nothing reconnects. The
// first connection attempt's error is returned (bad credentials should stop
// startup); later losses are retried with back-off forever.
func (s *Stream) Run(ctx context.Context, connected chan<- struct{}) error {
	defer s.wg.Wait()
	defer s.closeAll()
	defer s.setReady(false)

	g, err := s.open(ctx)
	if err != nil {
		return explainStartError(err)
	}
	s.setReady(true)
	s.log.Info("stream connected", "generation", g.id)
	if connected != nil {
		close(connected)
	}
	bo := newBackoff(time.Second, time.Minute)
	for {
		c := s.supervise(ctx, g)
		if c.kind == causeStop {
			return nil
		}
		if g = s.replace(ctx, g, c, bo); g == nil {
			return nil
		}
	}
}

type causeKind int

const (
	causeStop    causeKind = iota // Run's context ended
	causeLost                     // the connection is known to be gone
	causeIdle                     // nothing arrived for IdleTimeout
	causeRecycle                  // the connection is due for recycling
)

type cause struct {
	kind   causeKind
	reason string
}

// supervise watches generation g until it needs replacing or ctx ends.
func (s *Stream) supervise(ctx context.Context, g *generation) cause {
	tick := time.NewTicker(s.opts.CheckInterval)
	defer tick.Stop()
	var recycle <-chan time.Time
	if s.opts.RecycleEvery > 0 {
		every := s.opts.RecycleEvery
		t := time.NewTimer(every - time.Duration(rand.Int64N(int64(every)/10+1)))
		defer t.Stop()
		recycle = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return cause{kind: causeStop}
		case <-g.dead:
			return cause{causeLost, g.reason}
		case <-recycle:
			return cause{causeRecycle, "connection is " + time.Since(g.opened).Round(time.Second).String() + " old"}
		case <-tick.C:
			if !g.connected() {
				g.kill("connection closed")
				return cause{causeLost, g.reason}
			}
			if s.opts.IdleTimeout > 0 && s.pingSeen.Load() {
				if idle := g.idle(); idle >= s.opts.IdleTimeout {
					return cause{causeIdle, "no frame for " + idle.Round(time.Millisecond).String()}
				}
			}
		}
	}
}

// replace opens the generation that takes over from old and retires old. It
// returns nil if ctx ends first.
func (s *Stream) replace(ctx context.Context, old *generation, c cause, bo *backoff) *generation {
	var wait time.Duration
	switch c.kind {
	case causeLost:
		s.setReady(false)
		s.log.Warn("stream connection lost; reconnecting", "generation", old.id, "reason", c.reason)
		if time.Since(old.opened) >= stableAfter {
			bo.reset()
		}
		wait = bo.next()
	case causeIdle:
		// Presumed dead: not ready. It stays open until the replacement is up,
		// in case it is merely quiet.
		s.setReady(false)
		s.log.Warn("stream connection silent; replacing it", "generation", old.id, "reason", c.reason)
	case causeRecycle:
		s.log.Info("stream connection recycled", "generation", old.id, "reason", c.reason)
	}
	for {
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if s.ready.Load() && !old.connected() {
			// A recycle is failing and the old connection went meanwhile.
			old.kill("connection closed")
			s.setReady(false)
			s.log.Warn("stream connection lost while recycling; reconnecting", "generation", old.id)
		}
		g, err := s.open(ctx)
		if err == nil {
			s.setReady(true)
			s.metrics.reconnected()
			s.log.Info("stream reconnected", "generation", g.id, "replaces", old.id)
			if c.kind == causeLost {
				s.closeGen(old)
			} else {
				s.closeLater(ctx, old)
			}
			return g
		}
		if ctx.Err() != nil {
			return nil
		}
		wait = bo.next()
		s.log.Warn("stream reconnect failed", "error", err.Error(), "retry_in", wait.Round(time.Millisecond).String())
	}
}

// open creates a generation and connects it. A panic in the SDK is a failed attempt.
func (s *Stream) open(ctx context.Context) (_ *generation, err error) {
	g := s.newGeneration()
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("stream client panicked while connecting")
			s.log.Error("stream client panic", "panic", fmt.Sprint(r))
		}
		if err != nil {
			s.closeGen(g)
		}
	}()
	actx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := g.cli.Start(actx); err != nil {
		return nil, sanitize(err, s.opts.ClientSecret)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := time.Now()
	g.opened = now
	g.last.Store(now.UnixNano())
	return g, nil
}

// closeGen ends g and closes its client; Close cancels the client's
// lifecycle, and AutoReconnect is off anyway, so it never reconnects.
func (s *Stream) closeGen(g *generation) {
	g.kill("closed by the supervisor")
	s.mu.Lock()
	delete(s.gens, g)
	s.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("stream client panic while closing", "panic", fmt.Sprint(r))
		}
	}()
	g.cli.Close()
}

// closeLater closes g after RecycleOverlap, or at once if ctx ends or g dies.
func (s *Stream) closeLater(ctx context.Context, g *generation) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("stream supervisor panic", "panic", fmt.Sprint(r))
			}
		}()
		t := time.NewTimer(s.opts.RecycleOverlap)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-g.dead:
		}
		s.closeGen(g)
	}()
}

func (s *Stream) closeAll() {
	s.mu.Lock()
	gens := make([]*generation, 0, len(s.gens))
	for g := range s.gens {
		gens = append(gens, g)
	}
	s.mu.Unlock()
	for _, g := range gens {
		s.closeGen(g)
	}
}

func (s *Stream) setReady(up bool) {
	s.ready.Store(up)
	s.metrics.connected(up)
}

// generation is one connection: its own SDK client, opened once.
type generation struct {
	id     uint64
	cli    *client.StreamClient
	opened time.Time    // set before the supervisor watches it
	last   atomic.Int64 // UnixNano of the last frame (or of the connect)
	watch  sync.Once

	dead   chan struct{} // closed when the connection is known to be over
	once   sync.Once
	reason string // why, written before dead is closed
}

func (s *Stream) newGeneration() *generation {
	g := &generation{id: s.seq.Add(1), dead: make(chan struct{})}
	opts := []client.ClientOption{
		client.WithAppCredential(client.NewAppCredentialConfig(s.opts.ClientID, s.opts.ClientSecret)),
		client.WithAutoReconnect(false),
		client.WithKeepAlive(s.opts.KeepAlive),
		client.WithMaxPendingHandlers(s.opts.MaxPendingHandlers),
		client.WithSubscription(utils.SubscriptionTypeKSystem, "ping", s.onPing(g)),
		client.WithSubscription(utils.SubscriptionTypeKSystem, "disconnect", s.onDisconnect(g)),
	}
	if s.opts.APIURL != "" {
		opts = append(opts, client.WithOpenApiHost(strings.TrimRight(s.opts.APIURL, "/")))
	}
	g.cli = client.NewStreamClient(opts...)
	g.cli.RegisterChatBotCallbackRouter(s.onMessage(g))
	s.mu.Lock()
	s.gens[g] = struct{}{}
	s.mu.Unlock()
	return g
}

func (g *generation) kill(reason string) {
	g.once.Do(func() {
		g.reason = reason
		close(g.dead)
	})
}

// connected probes whether the SDK still holds g's connection: Start returns
// nil at once while it does, and with an already cancelled context it cannot
// open a new one (the gateway call fails before any network traffic).
func (g *generation) connected() (ok bool) {
	select {
	case <-g.dead:
		return false
	default:
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return g.cli.Start(ctx) == nil
}

func (g *generation) idle() time.Duration {
	return time.Since(time.Unix(0, g.last.Load()))
}

// seen records a frame of g's connection and, the first time, watches that
// connection's end: the SDK cancels a frame's context when its connection
// closes, and g's client only ever has one connection.
func (g *generation) seen(frameCtx context.Context) {
	g.last.Store(time.Now().UnixNano())
	done := frameCtx.Done()
	if done == nil {
		return
	}
	g.watch.Do(func() {
		go func() {
			defer func() { _ = recover() }()
			select {
			case <-done:
				g.kill("connection closed")
			case <-g.dead:
			}
		}()
	})
}

func (s *Stream) onPing(g *generation) handler.IFrameHandler {
	return func(ctx context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
		s.pingSeen.Store(true)
		g.seen(ctx)
		return g.cli.OnPing(ctx, df)
	}
}

// onDisconnect handles DingTalk's SYSTEM disconnect: DingTalk stops routing
// to this connection at once, so the generation is over. The SDK ACKs the
// frame and then closes the socket itself.
func (s *Stream) onDisconnect(g *generation) handler.IFrameHandler {
	return func(ctx context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
		g.seen(ctx)
		s.log.Info("stream disconnect requested by DingTalk", "generation", g.id, "reason", df.Data)
		g.kill("DingTalk requested a disconnect")
		return g.cli.OnDisconnect(ctx, df)
	}
}

// onMessage converts the SDK's callback model and hands it to the pipeline.
// It returns as soon as the message is accepted, so the SDK ACKs at once.
// A message the pipeline could not take (the store is unreachable, the bot
// is stopping) is not acknowledged at all, so that DingTalk redelivers it
// (after ~60 s, to any replica): whether DingTalk redelivers after an error
// ACK (code 500) is not documented. The SDK has no way to skip an ACK
// except a panic in the handler, which it recovers without sending one.
func (s *Stream) onMessage(g *generation) chatbot.IChatBotMessageHandler {
	return func(ctx context.Context, data *chatbot.BotCallbackDataModel) ([]byte, error) {
		g.seen(ctx)
		msg := robotmsg.FromCallback(data)
		if err := s.handle(msg); err != nil {
			panic(noAck)
		}
		return []byte(""), nil
	}
}

// noAck is the panic that makes the SDK leave a frame unacknowledged; the
// SDK logs it, and SDKLog turns that line into a plain explanation.
const noAck = "dingbot: message not taken; left unacknowledged for DingTalk to redeliver"

// backoff yields exponentially growing waits with ±20% jitter.
type backoff struct {
	base, max, cur time.Duration
}

func newBackoff(base, max time.Duration) *backoff {
	return &backoff{base: base, max: max, cur: base}
}

func (b *backoff) next() time.Duration {
	d := b.cur
	b.cur = min(b.cur*2, b.max)
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return d + jitter
}

func (b *backoff) reset() { b.cur = b.base }
