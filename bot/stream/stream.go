// Package stream connects dingbot to DingTalk in Stream mode: the bot opens a
// websocket to DingTalk with the official SDK and receives chat messages on the
// chatbot topic, so no public URL is needed.
//
// The SDK's own reconnect loop is switched off and replaced by a small
// supervisor that owns the connection's life: it knows when the connection is
// up (for /readyz), notices when it is lost (server disconnect, dropped socket,
// failed keepalive), reopens it with back-off, and recovers from panics.
package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/client"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/utils"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/commands"
)

// Handler takes one chat message; it must return quickly, because DingTalk
// gets the ACK only after it returns. *bot.Bot's Handle fits.
type Handler func(bot.Message) error

// Options configures a Stream.
type Options struct {
	// ClientID and ClientSecret are the app's credentials.
	ClientID, ClientSecret string
	// APIURL replaces https://api.dingtalk.com for the gateway open call.
	APIURL string
	// CheckInterval is how often the connection is checked and reopened if lost (default 5s).
	CheckInterval time.Duration
	// KeepAlive is the idle time before the SDK pings the server (default 60s; the SDK raises values under 3s).
	KeepAlive time.Duration
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger
	// Metrics records connection state; nil records nothing.
	Metrics *bot.Metrics
}

// Stream is a supervised Stream-mode connection.
type Stream struct {
	opts    Options
	handle  Handler
	log     *slog.Logger
	cli     *client.StreamClient
	ready   atomic.Bool
	lost    chan struct{}
	stopped chan struct{}

	mu      sync.Mutex
	watched <-chan struct{} // Done of the connection most recently seen on a frame
}

// New returns a Stream that passes chat messages to handle. Call Run to connect.
func New(opts Options, handle Handler) *Stream {
	if opts.CheckInterval <= 0 {
		opts.CheckInterval = 5 * time.Second
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = 60 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Stream{
		opts:    opts,
		handle:  handle,
		log:     opts.Logger,
		lost:    make(chan struct{}, 1),
		stopped: make(chan struct{}),
	}
	clientOpts := []client.ClientOption{
		client.WithAppCredential(client.NewAppCredentialConfig(opts.ClientID, opts.ClientSecret)),
		client.WithAutoReconnect(false),
		client.WithKeepAlive(opts.KeepAlive),
		client.WithSubscription(utils.SubscriptionTypeKSystem, "ping", s.onPing),
		client.WithSubscription(utils.SubscriptionTypeKSystem, "disconnect", s.onDisconnect),
	}
	if opts.APIURL != "" {
		clientOpts = append(clientOpts, client.WithOpenApiHost(strings.TrimRight(opts.APIURL, "/")))
	}
	s.cli = client.NewStreamClient(clientOpts...)
	s.cli.RegisterChatBotCallbackRouter(s.onMessage)
	return s
}

// Ready reports whether the Stream connection is up.
func (s *Stream) Ready() bool { return s.ready.Load() }

// Run connects and keeps the connection up until ctx is cancelled, then
// closes it so no further messages arrive. The first connection attempt's
// error is returned (bad credentials should stop startup); later losses are
// retried with back-off forever.
func (s *Stream) Run(ctx context.Context, connected chan<- struct{}) error {
	defer close(s.stopped)
	defer s.cli.Close()
	defer s.setReady(false)

	if err := s.start(ctx); err != nil {
		return explainStartError(err)
	}
	if connected != nil {
		close(connected)
	}
	backoff := newBackoff(time.Second, time.Minute)
	ticker := time.NewTicker(s.opts.CheckInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.lost:
			s.setReady(false)
			s.log.Warn("stream connection lost; reconnecting")
			s.reconnect(ctx, backoff)
		case <-ticker.C:
			// Start is a no-op while the SDK holds a live connection and
			// reopens one the SDK has dropped without any frame telling us.
			if err := s.start(ctx); err != nil {
				s.setReady(false)
				s.log.Warn("stream connection check failed; reconnecting", "error", err.Error())
				s.reconnect(ctx, backoff)
			}
		}
	}
}

// reconnect reopens the connection, waiting between attempts, until it works or ctx ends.
func (s *Stream) reconnect(ctx context.Context, backoff *backoff) {
	for {
		// The first wait also lets the SDK finish detaching the dead
		// connection, so Start does not mistake it for a live one.
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff.next()):
		}
		err := s.start(ctx)
		if err == nil {
			s.opts.Metrics.StreamReconnected()
			s.log.Info("stream reconnected")
			backoff.reset()
			return
		}
		s.log.Warn("stream reconnect failed", "error", err.Error())
	}
}

// start opens the connection (or keeps the open one) and marks it ready.
func (s *Stream) start(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("stream client panicked while connecting")
			s.log.Error("stream client panic", "panic", r)
		}
	}()
	if err := s.cli.Start(ctx); err != nil {
		return sanitize(err, s.opts.ClientSecret)
	}
	if !s.ready.Load() {
		s.log.Info("stream connected")
	}
	s.setReady(true)
	return nil
}

func (s *Stream) setReady(up bool) {
	s.ready.Store(up)
	s.opts.Metrics.StreamConnected(up)
}

// watch notes the connection a frame arrived on and, the first time, waits
// for that connection to end: the SDK cancels a frame's context when its
// connection closes, for whatever reason.
// Every frame of one connection shares that connection's Done channel.
func (s *Stream) watch(frameCtx context.Context) {
	done := frameCtx.Done()
	if done == nil {
		return
	}
	s.mu.Lock()
	if s.watched == done {
		s.mu.Unlock()
		return
	}
	s.watched = done
	s.mu.Unlock()
	go func() {
		select {
		case <-done:
		case <-s.stopped:
			return
		}
		s.mu.Lock()
		current := s.watched == done
		s.mu.Unlock()
		if current {
			s.signalLost()
		}
	}()
}

func (s *Stream) signalLost() {
	select {
	case s.lost <- struct{}{}:
	default:
	}
}

func (s *Stream) onPing(ctx context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
	s.watch(ctx)
	return s.cli.OnPing(ctx, df)
}

// onDisconnect handles DingTalk's SYSTEM disconnect: DingTalk stops routing
// to this connection at once, so it is no longer ready. The SDK ACKs the
// frame and closes the socket, which ends the connection's context.
func (s *Stream) onDisconnect(ctx context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
	s.log.Info("stream disconnect requested by DingTalk", "reason", df.Data)
	s.setReady(false)
	s.watch(ctx)
	return s.cli.OnDisconnect(ctx, df)
}

// onMessage converts the SDK's callback model and hands it to the pipeline.
// It returns as soon as the message is accepted, so the SDK ACKs at once.
func (s *Stream) onMessage(ctx context.Context, data *chatbot.BotCallbackDataModel) ([]byte, error) {
	s.watch(ctx)
	msg := bot.Message{
		MsgID:          data.MsgId,
		ConversationID: data.ConversationId,
		Group:          data.ConversationType == "2",
		SenderStaffID:  data.SenderStaffId,
		SenderNick:     data.SenderNick,
		BotUserID:      data.ChatbotUserId,
		MsgType:        data.Msgtype,
		Text:           data.Text.Content,
		SessionWebhook: data.SessionWebhook,
	}
	if data.SessionWebhookExpiredTime > 0 {
		msg.SessionExpires = time.UnixMilli(data.SessionWebhookExpiredTime)
	}
	for _, u := range data.AtUsers {
		msg.Mentions = append(msg.Mentions, commands.Mention{DingtalkID: u.DingtalkId, StaffID: u.StaffId})
	}
	if err := s.handle(msg); err != nil {
		// An error ACK (code 500) tells DingTalk the message was not taken.
		return nil, err
	}
	return []byte(""), nil
}

// explainStartError turns the SDK's first-connection error into one line an
// admin can act on. The SDK returns a refused gateway call as the raw response
// body, which for DingTalk is {"code","message","requestid"}.
func explainStartError(err error) error {
	var body struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"requestid"`
	}
	if json.Unmarshal([]byte(err.Error()), &body) == nil && body.Code != "" {
		hint := ""
		if strings.Contains(strings.ToLower(body.Code), "auth") || strings.Contains(strings.ToLower(body.Code), "client") {
			hint = "; check DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET"
		}
		return fmt.Errorf("DingTalk refused the Stream connection: %s: %s (requestid %s)%s", body.Code, body.Message, body.RequestID, hint)
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return fmt.Errorf("cannot reach the DingTalk Stream gateway (check DINGTALK_API_URL and the network): %w", err)
	}
	return err
}

// sanitize drops the client secret from SDK errors, which can echo the gateway's response.
// Secrets shorter than 8 bytes are not real AppSecrets and would match ordinary words.
func sanitize(err error, secret string) error {
	if len(secret) < 8 || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "[redacted]"))
}

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

// SDKLogger adapts slog to the SDK's logger interface, for logger.SetLogger.
// Debug lines are dropped: at debug level the SDK dumps the gateway open
// request, client secret included.
func SDKLogger(l *slog.Logger) SDKLog { return SDKLog{l: l.With("component", "stream-sdk")} }

// SDKLog is the SDK logger returned by SDKLogger.
type SDKLog struct{ l *slog.Logger }

// Debugf drops the line (see SDKLogger).
func (SDKLog) Debugf(string, ...any) {}

// Infof logs at info level.
func (s SDKLog) Infof(format string, args ...any) { s.l.Info(fmt.Sprintf(format, args...)) }

// Warningf logs at warn level.
func (s SDKLog) Warningf(format string, args ...any) { s.l.Warn(fmt.Sprintf(format, args...)) }

// Errorf logs at warn level: the SDK reports every closed socket as an error,
// even one the supervisor closed on purpose; real failures surface as lost connections.
func (s SDKLog) Errorf(format string, args ...any) { s.l.Warn(fmt.Sprintf(format, args...)) }

// Fatalf logs at error level; it does not exit, the supervisor recovers.
func (s SDKLog) Fatalf(format string, args ...any) { s.l.Error(fmt.Sprintf(format, args...)) }
