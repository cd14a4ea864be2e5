// Package callback receives DingTalk's robot messages in HTTP mode: DingTalk
// POSTs each chat message addressed to the bot to a public HTTPS URL (the
// developer console's 消息接收地址), which ends in /dingtalk/callback on
// dingbot's HTTP listener. It is the HTTP counterpart of bot/stream and, like
// it, a transport adapter: it converts the message with package robotmsg and
// passes it to a bot.HandlerFunc (the core's Handle), which stores it and
// returns at once; the reply is posted later through the session webhook or
// the robot API. A *Callback is an http.Handler, to be mounted on POST Path.
//
// Every request is checked in this order, failing closed:
//
//  1. the signature headers (DingTalk's receive-message document): timestamp
//     is the send time in Unix milliseconds and must be within Window
//     (default five minutes; DingTalk's documents allow an hour) of now,
//     either way; sign must equal
//     Base64(HmacSHA256(key=appSecret, msg=timestamp+"\n"+appSecret)),
//     compared in constant time. Both headers are trimmed once and the trimmed
//     values are used for both checks. Anything else is 401. The signature
//     does not cover the body, so it cannot be checked any later than this,
//     nor can the body be checked first;
//  2. the body size: over MaxBody is 413, and the body is read through
//     http.MaxBytesReader, so no more than MaxBody+1 bytes are ever read;
//  3. the body: malformed JSON, or a message without msgId or conversationId,
//     is 400;
//  4. the header pair's use: because the signature covers only the
//     timestamp, anyone holding the headers of one real request could send
//     other bodies under them until the window closes. So at most MaxPerSign
//     distinct msgIds are admitted under one (timestamp, sign) pair, counted
//     in the Signatures store (shared by replicas) until the pair's window
//     closes; more are 401. A redelivery of a msgId already admitted under
//     the pair is admitted again (the core deduplicates it).
//
// Then the message goes to the core: 200 with the body {} if it was stored,
// 503 if not (DingTalk may deliver it again) or once Stop was called.
// A rejected request stores nothing and is logged at warn level without the
// sign header's value, at most a few lines a second (the rest are counted in
// the next line logged and in dingbot_callback_requests_total).
package callback

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/robotmsg"
)

const (
	// Path is where the callback is mounted on the HTTP listener, for
	// POST requests only (http.MethodPost + " " + Path).
	Path = "/dingtalk/callback"
	// DefaultMaxBody is the default limit of a callback body: 64 KiB. A
	// text message is about 1–2 KiB; DingTalk caps text at 20 000 characters.
	DefaultMaxBody = 64 << 10
	// MaxSkew is how far DingTalk's documents let the timestamp header be
	// from now: the longest Window accepted.
	MaxSkew = time.Hour
	// DefaultWindow is how far the timestamp header may be from now by default.
	DefaultWindow = 5 * time.Minute
	// DefaultMaxPerSign is how many distinct msgIds one header pair admits by default.
	DefaultMaxPerSign = 8
)

// Signatures counts the msgIds admitted under each header pair;
// store.Store implements it, shared by every replica on one database.
type Signatures interface {
	// AdmitSigned records msgID under key until expires and reports whether
	// it is admitted: a msgID already recorded under key always is; a new
	// one only while fewer than max are recorded.
	AdmitSigned(ctx context.Context, key, msgID string, max int, expires, now time.Time) (bool, error)
}

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
	// Window is how far the timestamp header may be from now, either way
	// (default DefaultWindow, at most MaxSkew).
	Window time.Duration
	// MaxPerSign is how many distinct msgIds one (timestamp, sign) pair
	// admits (default DefaultMaxPerSign).
	MaxPerSign int
	// Signatures counts msgIds per header pair; nil counts in this process's
	// memory only, which is right for a single replica and tests.
	Signatures Signatures
	// TrustedProxies are the IPs or CIDRs of reverse proxies in front of
	// the listener. The address logged for a rejected request is the
	// connection's remote address, or, when that is a trusted proxy, the
	// nearest untrusted address in X-Forwarded-For. Default: none, so the
	// header (which anyone can send) is never believed. Invalid entries are ignored.
	TrustedProxies []string
}

// Callback is the HTTP callback endpoint. It is safe for concurrent use.
type Callback struct {
	opts     Options
	handle   bot.HandlerFunc
	log      *slog.Logger
	stopped  atomic.Bool
	requests *prometheus.CounterVec

	// warn bounds the "callback rejected" lines; quiet counts those not logged.
	warn  *rate.Limiter
	quiet atomic.Int64

	proxies []netip.Prefix
}

var _ http.Handler = (*Callback)(nil)

// New returns a Callback that passes verified messages to handle.
func New(opts Options, handle bot.HandlerFunc) *Callback {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	opts.Window = min(opts.Window, MaxSkew)
	if opts.MaxPerSign <= 0 {
		opts.MaxPerSign = DefaultMaxPerSign
	}
	if opts.Signatures == nil {
		opts.Signatures = &memorySignatures{seen: map[string]*signEntry{}}
	}
	c := &Callback{opts: opts, handle: handle, log: opts.Logger.With("component", "callback"),
		warn: rate.NewLimiter(rate.Limit(warnPerSecond), warnBurst), proxies: parsePrefixes(opts.TrustedProxies)}
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
	ErrStale        = errors.New("timestamp is too far from now")
	ErrBadSign      = errors.New("sign does not match")
	ErrNoSecret     = errors.New("no app secret configured")
	// ErrSignUsedUp refuses a new msgId under a header pair that admitted MaxPerSign already.
	ErrSignUsedUp = errors.New("this timestamp and sign were already used by too many messages")
)

// Sign returns Base64(HmacSHA256(key=secret, msg=timestamp+"\n"+secret)),
// the sign header DingTalk sends with timestamp.
func Sign(timestamp, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify checks the timestamp and sign headers of a callback against secret
// at time now, with DingTalk's documented hour of skew; it is VerifyWithin
// with MaxSkew.
func Verify(timestamp, sign, secret string, now time.Time) error {
	return VerifyWithin(timestamp, sign, secret, now, MaxSkew)
}

// VerifyWithin checks the timestamp and sign headers of a callback against
// secret at time now: the timestamp must be within window of now, either
// way. Both are trimmed of surrounding white space first. It fails closed:
// nil means both checks passed.
func VerifyWithin(timestamp, sign, secret string, now time.Time, window time.Duration) error {
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
	if d := now.UnixMilli() - ms; d > window.Milliseconds() || d < -window.Milliseconds() {
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

// ServeHTTP answers one callback: 200 with the body {} once the message is
// stored, else the status and a JSON {"error": reason}. It does not look at
// the method: mount it on POST Path only.
func (c *Callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, reason := c.serve(w, r)
	if c.requests != nil {
		c.requests.WithLabelValues(strconv.Itoa(status)).Inc()
	}
	if status == http.StatusOK {
		writeJSON(w, status, struct{}{})
		return
	}
	if status < 500 {
		c.logRejected(r, status, reason)
	}
	writeJSON(w, status, errorBody{Error: reason})
}

// writeJSON writes v as the response body, byte for byte what gin's JSON
// rendering writes: Content-Type application/json; charset=utf-8, no newline.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v) // cannot fail: v is struct{} or errorBody
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// serve checks and hands on one request; it returns the status and, unless
// 200, a short reason that never contains the sign.
func (c *Callback) serve(w http.ResponseWriter, r *http.Request) (int, string) {
	if c.stopped.Load() {
		return http.StatusServiceUnavailable, bot.ErrStopping.Error()
	}
	// 1. Headers.
	timestamp, sig := strings.TrimSpace(r.Header.Get("timestamp")), strings.TrimSpace(r.Header.Get("sign"))
	if err := VerifyWithin(timestamp, sig, c.opts.AppSecret, c.opts.Now(), c.opts.Window); err != nil {
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
	// 4. The header pair's use.
	ms, _ := strconv.ParseInt(timestamp, 10, 64) // checked by VerifyWithin
	expires := time.UnixMilli(ms).Add(c.opts.Window)
	ok, err := c.opts.Signatures.AdmitSigned(r.Context(), SignatureKey(timestamp, sig), data.MsgId, c.opts.MaxPerSign, expires, c.opts.Now())
	if err != nil {
		c.log.Warn("callback not stored: counting its header pair failed", "msg_id", data.MsgId, "error", err.Error())
		return http.StatusServiceUnavailable, "message not stored; try again"
	}
	if !ok {
		return http.StatusUnauthorized, ErrSignUsedUp.Error()
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

// SignatureKey is the key a header pair is counted under: a SHA-256 of the
// trimmed timestamp and sign, so the store never holds a usable sign.
func SignatureKey(timestamp, sign string) string {
	sum := sha256.Sum256([]byte(timestamp + "\n" + sign))
	return hex.EncodeToString(sum[:])
}

// How many "callback rejected" lines are logged: warnBurst at once, then
// warnPerSecond; a flood of forged requests cannot flood the log.
const (
	warnPerSecond = 1
	warnBurst     = 20
)

// logRejected logs a refused request, rate-limited. The sign is never
// logged; the timestamp is, cut short, because it tells a stale request or a
// skewed clock from a forged one.
func (c *Callback) logRejected(r *http.Request, status int, reason string) {
	if !c.warn.Allow() {
		c.quiet.Add(1)
		return
	}
	attrs := []any{"status", status, "reason", reason, "remote", ClientIP(r, c.proxies),
		"timestamp", truncate(strings.TrimSpace(r.Header.Get("timestamp")), 32)}
	if n := c.quiet.Swap(0); n > 0 {
		attrs = append(attrs, "not_logged_before", n)
	}
	c.log.Warn("callback rejected", attrs...)
}

// ClientIP is the address a request came from: the connection's remote
// address, unless that is one of the trusted proxies; then X-Forwarded-For is
// read from the right (the hop the proxy added) and the first address that is
// not a trusted proxy is returned.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(strings.TrimSpace(r.RemoteAddr))
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(addr, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled header: stop at the last address known to be real
		}
		if !isTrusted(hop, trusted) {
			return hop.Unmap().String()
		}
		addr = hop
	}
	return addr.Unmap().String()
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	addr = addr.Unmap()
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// parsePrefixes parses IPs and CIDRs, skipping what is neither.
func parsePrefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out
}

// memorySignatures is Signatures in this process's memory.
type memorySignatures struct {
	mu     sync.Mutex
	seen   map[string]*signEntry
	pruned time.Time // when expired entries were last dropped
}

type signEntry struct {
	expires time.Time
	msgIDs  []string
}

// AdmitSigned implements Signatures.
func (m *memorySignatures) AdmitSigned(_ context.Context, key, msgID string, max int, expires, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.Sub(m.pruned) >= time.Second {
		m.pruned = now
		for k, e := range m.seen {
			if !now.Before(e.expires) {
				delete(m.seen, k)
			}
		}
	}
	e := m.seen[key]
	if e == nil || !now.Before(e.expires) {
		e = &signEntry{expires: expires}
		m.seen[key] = e
	}
	for _, id := range e.msgIDs {
		if id == msgID {
			return true, nil
		}
	}
	if len(e.msgIDs) >= max {
		return false, nil
	}
	e.msgIDs = append(e.msgIDs, msgID)
	return true, nil
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
