// Package callback receives DingTalk's robot messages in HTTP mode: DingTalk
// POSTs each chat message addressed to the bot to a public HTTPS URL (the
// developer console's 消息接收地址), which ends in /dingtalk/callback on
// dingbot's HTTP listener. It is the HTTP counterpart of bot/stream and, like
// it, a transport adapter: it converts the message with package robotmsg and
// passes it to the core's Handle, which stores it and returns at once; the
// reply is posted later through the session webhook or the robot API.
//
// Every request is checked in this order, failing closed:
//
//  1. the signature headers (DingTalk's receive-message document): timestamp
//     is the send time in Unix milliseconds and must be within MaxSkew (one
//     hour) of now, either way; sign must equal
//     Base64(HmacSHA256(key=appSecret, msg=timestamp+"\n"+appSecret)),
//     compared in constant time. Both headers are trimmed once and the trimmed
//     values are used for both checks. Anything else is 401. The signature
//     does not cover the body, so it cannot be checked any later than this,
//     nor can the body be checked first;
//  2. the body size: over MaxBody is 413, and the body is read through
//     http.MaxBytesReader, so no more than MaxBody+1 bytes are ever read;
//  3. the body: malformed JSON, or a message without msgId or conversationId,
//     is 400.
//
// Then the message goes to the core: 200 with the body {} if it was stored,
// 503 if not (DingTalk may deliver it again) or once Stop was called.
// A rejected request stores nothing and is logged at warn level without the
// sign header's value.
package callback

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/robotmsg"
)

const (
	// Path is where the callback is mounted on the HTTP listener.
	Path = "/dingtalk/callback"
	// DefaultMaxBody is the default limit of a callback body: 64 KiB. A
	// text message is about 1–2 KiB; DingTalk caps text at 20 000 characters.
	DefaultMaxBody = 64 << 10
	// MaxSkew is how far the timestamp header may be from now, either way.
	MaxSkew = time.Hour
)

// Handler takes one chat message and must return quickly; *bot.Bot's Handle fits.
type Handler func(bot.Message) error

// Options configures a Callback.
type Options struct {
	// AppSecret is the app's AppSecret (Client Secret), the signing key. Required:
	// with an empty secret every request is rejected.
	AppSecret string
	// MaxBody is the largest accepted body in bytes (default DefaultMaxBody).
	MaxBody int64
	// Logger receives one warn line per rejected request; nil discards them.
	Logger *slog.Logger
	// Registerer, if set, gets dingbot_callback_requests_total{status}.
	Registerer prometheus.Registerer
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Callback is the HTTP callback endpoint. It is safe for concurrent use.
type Callback struct {
	opts     Options
	handle   Handler
	log      *slog.Logger
	stopped  atomic.Bool
	requests *prometheus.CounterVec
}

// New returns a Callback that passes verified messages to handle.
func New(opts Options, handle Handler) *Callback {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Callback{opts: opts, handle: handle, log: opts.Logger.With("component", "callback")}
	if opts.Registerer != nil {
		c.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dingbot_callback_requests_total",
			Help: "HTTP-mode robot callbacks by response status (200 stored, 400 malformed, 401 bad signature, 413 too large, 503 not stored).",
		}, []string{"status"})
		opts.Registerer.MustRegister(c.requests)
	}
	return c
}

// Stop stops intake: from now on every callback is answered 503 and nothing
// is stored, so DingTalk keeps the message for a later delivery. Call it when
// shutdown begins, before the core's Shutdown.
func (c *Callback) Stop() { c.stopped.Store(true) }

// Accepting reports whether Stop has not been called; it is the readiness of HTTP mode.
func (c *Callback) Accepting() bool { return !c.stopped.Load() }

// Errors of Verify. Their texts are the error field of the 401 response.
var (
	ErrNoTimestamp  = errors.New("missing timestamp header")
	ErrNoSign       = errors.New("missing sign header")
	ErrBadTimestamp = errors.New("timestamp is not a number of milliseconds")
	ErrStale        = errors.New("timestamp is more than an hour away from now")
	ErrBadSign      = errors.New("sign does not match")
	ErrNoSecret     = errors.New("no app secret configured")
)

// Sign returns Base64(HmacSHA256(key=secret, msg=timestamp+"\n"+secret)),
// the sign header DingTalk sends with timestamp.
func Sign(timestamp, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify checks the timestamp and sign headers of a callback against secret
// at time now. Both are trimmed of surrounding white space first. It fails
// closed: nil means both checks passed.
func Verify(timestamp, sign, secret string, now time.Time) error {
	timestamp, sign = strings.TrimSpace(timestamp), strings.TrimSpace(sign)
	switch {
	case secret == "":
		return ErrNoSecret
	case timestamp == "":
		return ErrNoTimestamp
	case sign == "":
		return ErrNoSign
	}
	ms, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || ms <= 0 {
		return ErrBadTimestamp
	}
	if d := now.UnixMilli() - ms; d > MaxSkew.Milliseconds() || d < -MaxSkew.Milliseconds() {
		return ErrStale
	}
	if !hmac.Equal([]byte(Sign(timestamp, secret)), []byte(sign)) {
		return ErrBadSign
	}
	return nil
}

// errorBody is the JSON body of every refusal.
type errorBody struct {
	Error string `json:"error"`
}

// Handle is the gin handler of POST Path.
func (c *Callback) Handle(g *gin.Context) {
	status, reason := c.serve(g.Writer, g.Request)
	if c.requests != nil {
		c.requests.WithLabelValues(strconv.Itoa(status)).Inc()
	}
	if status == http.StatusOK {
		g.JSON(status, struct{}{})
		return
	}
	if status < 500 {
		// The sign is never logged; the timestamp is, cut short, because it
		// tells a stale request or a skewed clock from a forged one.
		c.log.Warn("callback rejected", "status", status, "reason", reason, "remote", g.ClientIP(),
			"timestamp", truncate(strings.TrimSpace(g.GetHeader("timestamp")), 32))
	}
	g.JSON(status, errorBody{Error: reason})
}

// serve checks and hands on one request; it returns the status and, unless
// 200, a short reason that never contains the sign.
func (c *Callback) serve(w http.ResponseWriter, r *http.Request) (int, string) {
	if c.stopped.Load() {
		return http.StatusServiceUnavailable, bot.ErrStopping.Error()
	}
	// 1. Headers.
	if err := Verify(r.Header.Get("timestamp"), r.Header.Get("sign"), c.opts.AppSecret, c.opts.Now()); err != nil {
		return http.StatusUnauthorized, err.Error()
	}
	// 2. Size.
	if r.ContentLength > c.opts.MaxBody {
		return http.StatusRequestEntityTooLarge, tooLarge(c.opts.MaxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.opts.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return http.StatusRequestEntityTooLarge, tooLarge(c.opts.MaxBody)
		}
		return http.StatusBadRequest, "cannot read the body"
	}
	// 3. JSON.
	var data chatbot.BotCallbackDataModel
	if err := json.Unmarshal(body, &data); err != nil {
		return http.StatusBadRequest, "body is not a JSON robot message"
	}
	if strings.TrimSpace(data.MsgId) == "" || strings.TrimSpace(data.ConversationId) == "" {
		return http.StatusBadRequest, "msgId and conversationId are required"
	}
	if err := c.handle(robotmsg.FromCallback(&data)); err != nil {
		if errors.Is(err, bot.ErrStopping) {
			return http.StatusServiceUnavailable, bot.ErrStopping.Error()
		}
		c.log.Warn("callback not stored", "msg_id", data.MsgId, "error", err.Error())
		return http.StatusServiceUnavailable, "message not stored; try again"
	}
	return http.StatusOK, ""
}

func tooLarge(limit int64) string {
	return "body larger than " + strconv.FormatInt(limit, 10) + " bytes"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
