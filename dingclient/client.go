// Package dingclient is dingbot's client for the DingTalk OpenAPI: the app
// access token, group creation, robot messages and session-webhook replies.
//
// It follows the shape of google/go-github: one Client, one method per
// upstream operation (each linking the DingTalk doc page), typed errors
// (*APIError, *OutcomeUnknownError, *WebhookError, ErrSessionGone), and error
// texts that never contain credentials (see redactURL).
//
// Retry policy, applied to every call:
//   - Throttled (HTTP 403 Forbidden.AccessDenied.QpsLimit*/QpmLimit*, HTTP 429):
//     retried with exponential back-off (RetryPolicy), because DingTalk's
//     gateway rejected the call without executing it. This includes group creation.
//   - Invalid token (InvalidAuthentication or HTTP 401): the cached token is
//     dropped, a new one fetched, and the call retried once.
//   - HTTP 5xx, timeouts and transport errors are never retried, except that
//     the read-only user lookups (UserByMobile, SearchUsers, GetUser) retry an
//     HTTP 5xx answer with the same back-off. For group creation they give
//     *OutcomeUnknownError when the request may have reached DingTalk (a group
//     may exist); a failure to connect gives a plain error.
//   - Any other error status gives *APIError, not retried.
//
// The legacy oapi.dingtalk.com APIs (/topapi/..., token in the access_token
// query parameter) answer HTTP 200 with a non-zero errcode on failure; that
// gives *LegacyError, classified like *APIError: errcode -1 (system busy),
// 90002 and 90018 (QPS limits) are retried with back-off; 40014, 42001 and
// 40001 (invalid token) refetch the token once; 90020 (monthly quota) and all
// other codes are returned at once. ErrUserNotFound marks "no such user".
package dingclient

import (
	"golang.org/x/time/rate"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Default endpoints and settings.
const (
	// DefaultAPIURL is the base URL of the new-style (v1.0) APIs and the token endpoint.
	DefaultAPIURL = "https://api.dingtalk.com"
	// DefaultOAPIURL is the base URL of the legacy (/topapi) APIs.
	DefaultOAPIURL = "https://oapi.dingtalk.com"

	defaultTimeout     = 10 * time.Second
	defaultMaxAttempts = 4
	defaultBaseDelay   = time.Second
	defaultMaxDelay    = 8 * time.Second

	// maxBodyBytes bounds every response body the client reads.
	maxBodyBytes = 1 << 20
	// maxDrainBytes is how much of an over-long body is discarded so the connection can be reused.
	maxDrainBytes = 64 << 10
	// maxMessageLen bounds APIError.Message.
	maxMessageLen = 512
	// tokenFetchTimeout bounds a token fetch, which runs detached from any single caller's context.
	tokenFetchTimeout = time.Minute
	// qpmDelayFactor: a per-minute quota (QpmLimit*) waits at least this many BaseDelays.
	qpmDelayFactor = 10
)

// API names passed to Config.Observe, used in logs and in APIError.API.
const (
	apiToken          = "token"
	apiGroupCreate    = "group.create"
	apiRobotGroupSend = "robot.group_send"
	apiRobotOTOSend   = "robot.oto_send"
	apiSessionReply   = "session.reply"
	apiUserByMobile   = "user.by_mobile"
	apiUserSearch     = "user.search"
	apiUserGet        = "user.get"
	apiGroupUpdate    = "group.update"
)

// RetryPolicy configures retries of throttled calls.
//
// After the n-th throttled attempt (n = 1, 2, …) the client waits
// BaseDelay·2^(n-1), capped at MaxDelay, plus up to 25% random jitter (still
// capped). A per-minute quota (Forbidden.AccessDenied.QpmLimit*) waits at
// least 10·BaseDelay, with the cap raised to match. With the defaults that is
// about 1 s, 2 s, 4 s (QpmLimit: about 10 s each) over 4 attempts. Waiting
// stops when the context is done.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts of a throttled call, first included; default 4. 1 disables retries.
	MaxAttempts int
	// BaseDelay is the wait after the first throttled attempt; default 1s.
	BaseDelay time.Duration
	// MaxDelay caps one wait; default 8s.
	MaxDelay time.Duration
}

// Config configures a Client. Only ClientID and ClientSecret are required.
type Config struct {
	// APIURL replaces https://api.dingtalk.com (token and /v1.0 APIs), e.g. https://api.dingtalk.io.
	APIURL string
	// OAPIURL replaces https://oapi.dingtalk.com (legacy /topapi APIs).
	OAPIURL string
	// ClientID is the app's AppKey (Client ID).
	ClientID string
	// ClientSecret is the app's AppSecret (Client Secret).
	ClientSecret string
	// RobotCode identifies the robot in the robot send APIs; defaults to ClientID.
	RobotCode string
	// HTTPClient sends the requests; default NewHTTPClient(10*time.Second, 32).
	HTTPClient *http.Client
	// Logger receives one Debug record per HTTP attempt; default discards.
	Logger *slog.Logger
	// Observe, if set, is called once per HTTP attempt with the API name ("token",
	// "group.create", "group.update", "robot.group_send", "robot.oto_send",
	// "session.reply", "user.by_mobile", "user.search", "user.get") and the
	// outcome: "ok", DingTalk's error code (or the webhook / legacy errcode, e.g.
	// "60121"), "http_<status>" when the error carried no code,
	// "transport_error", or (session.reply and the legacy user.by_mobile and
	// user.get) "invalid_response" for an HTTP 200 whose body is not the expected JSON.
	Observe func(api, code string)
	// Retry configures retries of throttled calls.
	Retry RetryPolicy
	// RateLimits caps calls per second per API, keyed by the names Observe
	// reports (e.g. "group.create": 20). Every HTTP attempt, retries included,
	// waits for its API's limiter; an API without an entry is not limited.
	// DingTalk allows 20 calls per second per app and API.
	RateLimits map[string]float64
	// Now replaces time.Now for token expiry; for tests.
	Now func() time.Time
}

// Client calls the DingTalk OpenAPI. It is safe for concurrent use.
type Client struct {
	apiURL       string
	oapiURL      string
	clientID     string
	clientSecret string
	robotCode    string
	hc           *http.Client
	log          *slog.Logger
	observe      func(api, code string)
	retry        RetryPolicy
	now          func() time.Time
	limits       map[string]*rate.Limiter

	tokMu     sync.Mutex
	tok       string
	tokExpiry time.Time
	tokCall   *tokenCall // in-flight fetch, shared by concurrent callers
}

// NewHTTPClient returns an HTTP client for DingTalk's APIs: each request
// ends after timeout, and up to concurrency idle keep-alive connections are
// kept per host. net/http keeps only 2 by default, so concurrent commands
// would open (and close) a new connection for most calls; give the number
// of commands processed at once.
func NewHTTPClient(timeout time.Duration, concurrency int) *http.Client {
	t := &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second, ExpectContinueTimeout: time.Second}
	if def, ok := http.DefaultTransport.(*http.Transport); ok {
		t = def.Clone()
	}
	t.MaxIdleConnsPerHost = max(concurrency, 2)
	t.MaxIdleConns = max(t.MaxIdleConns, 4*t.MaxIdleConnsPerHost) // api, oapi and session webhook hosts
	return &http.Client{Timeout: timeout, Transport: t}
}

// New returns a Client for cfg. It checks that the URLs are absolute http(s)
// URLs and that the credentials are set; its errors never contain the secret.
func New(cfg Config) (*Client, error) {
	apiURL, err := baseURL("APIURL", cfg.APIURL, DefaultAPIURL)
	if err != nil {
		return nil, err
	}
	oapiURL, err := baseURL("OAPIURL", cfg.OAPIURL, DefaultOAPIURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.ClientID) == "" {
		return nil, errors.New("dingclient: ClientID (AppKey) is required")
	}
	if strings.TrimSpace(cfg.ClientSecret) == "" {
		return nil, errors.New("dingclient: ClientSecret (AppSecret) is required")
	}
	c := &Client{
		apiURL:       apiURL,
		oapiURL:      oapiURL,
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		robotCode:    cfg.RobotCode,
		hc:           cfg.HTTPClient,
		log:          cfg.Logger,
		observe:      cfg.Observe,
		retry:        cfg.Retry,
		now:          cfg.Now,
		limits:       make(map[string]*rate.Limiter, len(cfg.RateLimits)),
	}
	for api, perSecond := range cfg.RateLimits {
		if perSecond > 0 {
			c.limits[api] = rate.NewLimiter(rate.Limit(perSecond), 1)
		}
	}
	if c.robotCode == "" {
		c.robotCode = cfg.ClientID
	}
	if c.hc == nil {
		c.hc = NewHTTPClient(defaultTimeout, 32)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.observe == nil {
		c.observe = func(string, string) {}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.retry.MaxAttempts <= 0 {
		c.retry.MaxAttempts = defaultMaxAttempts
	}
	if c.retry.BaseDelay <= 0 {
		c.retry.BaseDelay = defaultBaseDelay
	}
	if c.retry.MaxDelay <= 0 {
		c.retry.MaxDelay = defaultMaxDelay
	}
	if c.retry.MaxDelay < c.retry.BaseDelay {
		c.retry.MaxDelay = c.retry.BaseDelay
	}
	return c, nil
}

// baseURL validates a configured base URL and strips trailing slashes. The
// value is not echoed in errors: it might carry userinfo.
func baseURL(name, v, def string) (string, error) {
	if v == "" {
		return def, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("dingclient: %s must be an absolute http(s) URL", name)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("dingclient: %s must not have a query or fragment", name)
	}
	return strings.TrimRight(v, "/"), nil
}

// response is a fully read HTTP response.
type response struct {
	status    int
	header    http.Header
	body      []byte
	truncated bool
}

// transportError is a failure to get an HTTP response. sent reports whether
// the request may have reached the server (its headers were written and the
// failure was not a dial error).
type transportError struct {
	api  string
	sent bool
	err  error
}

func (e *transportError) Error() string { return "dingtalk " + e.api + ": " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// roundTrip POSTs payload as JSON to rawURL and reads the whole response
// (bounded by maxBodyBytes), always closing the body. token, if non-empty, is
// sent raw in x-acs-dingtalk-access-token. Transport errors are redacted.
func (c *Client) roundTrip(ctx context.Context, api, rawURL, token string, payload []byte) (*response, error) {
	if lim := c.limits[api]; lim != nil {
		if err := lim.Wait(ctx); err != nil {
			return nil, fmt.Errorf("dingtalk %s: waiting for the rate limit: %w", api, err)
		}
	}
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, rawURL, bytes.NewReader(payload))
	if err != nil {
		// The error text of a bad URL contains the URL; do not use it.
		return nil, &transportError{api: api, err: errors.New("invalid request URL " + redactURL(rawURL))}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dingbot-dingclient")
	if token != "" {
		req.Header.Set("x-acs-dingtalk-access-token", token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		err = redactError(err)
		return nil, &transportError{api: api, sent: wrote.Load() && !isDialError(err), err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return nil, &transportError{api: api, sent: true, err: fmt.Errorf("reading HTTP %d response: %w", resp.StatusCode, redactError(err))}
	}
	r := &response{status: resp.StatusCode, header: resp.Header, body: body}
	if len(body) > maxBodyBytes {
		r.body, r.truncated = body[:maxBodyBytes], true
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	}
	return r, nil
}

// isDialError reports whether err happened while connecting, before anything was sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// redactError removes credentials from the URL of a *url.Error.
func redactError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redactURL(ue.URL)
	}
	return err
}

// record logs one HTTP attempt at Debug and reports it to Observe.
func (c *Client) record(ctx context.Context, api string, attempt, status int, outcome, requestID string, start time.Time) {
	c.observe(api, outcome)
	c.log.LogAttrs(ctx, slog.LevelDebug, "dingtalk call",
		slog.String("api", api),
		slog.Int("attempt", attempt),
		slog.Int("status", status),
		slog.String("code", outcome),
		slog.String("requestid", requestID),
		slog.Duration("duration", time.Since(start)),
	)
}

// callKind says how a call's HTTP 5xx and post-send failures are handled.
type callKind int

const (
	// kindDefault: 5xx and transport errors are returned as they are, not retried.
	kindDefault callKind = iota
	// kindNonIdempotent: a failure after sending is *OutcomeUnknownError (group creation).
	kindNonIdempotent
	// kindRead: a read-only call; an HTTP 5xx is retried like throttling.
	kindRead
)

// call performs a v1.0 API call (or, with auth false, the token call) with the
// package retry policy and decodes a 2xx body into out (if non-nil).
// nonIdempotent marks calls whose failure after sending is *OutcomeUnknownError.
func (c *Client) call(ctx context.Context, api, path string, auth, nonIdempotent bool, in, out any) error {
	kind := kindDefault
	if nonIdempotent {
		kind = kindNonIdempotent
	}
	return c.callWith(ctx, api, path, auth, kind, in, out)
}

// callWith is call with an explicit callKind.
func (c *Client) callWith(ctx context.Context, api, path string, auth bool, kind callKind, in, out any) error {
	nonIdempotent := kind == kindNonIdempotent
	payload, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("dingtalk %s: encoding request: %w", api, err)
	}
	endpoint := c.apiURL + path
	throttled, reauthed := 0, false
	for attempt := 1; ; attempt++ {
		var token string
		if auth {
			if token, err = c.AccessToken(ctx); err != nil {
				return err
			}
		}
		start := time.Now()
		res, err := c.roundTrip(ctx, api, endpoint, token, payload)
		if err != nil {
			c.record(ctx, api, attempt, 0, "transport_error", "", start)
			var te *transportError
			if nonIdempotent && errors.As(err, &te) && te.sent {
				return &OutcomeUnknownError{Op: api, Err: err}
			}
			return err
		}
		if res.status >= 200 && res.status < 300 {
			c.record(ctx, api, attempt, res.status, "ok", res.header.Get("x-acs-request-id"), start)
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(res.body, out); err != nil {
				err = fmt.Errorf("dingtalk %s: decoding HTTP %d response: %w", api, res.status, err)
				if nonIdempotent {
					// DingTalk reported success, so the effect happened, but we cannot tell what it produced.
					return &OutcomeUnknownError{Op: api, Err: err}
				}
				return err
			}
			return nil
		}
		apiErr := parseAPIError(api, res)
		outcome := apiErr.Code
		if outcome == "" {
			outcome = "http_" + strconv.Itoa(res.status)
		}
		c.record(ctx, api, attempt, res.status, outcome, apiErr.RequestID, start)
		switch {
		case auth && apiErr.InvalidToken() && !reauthed:
			reauthed = true
			c.dropToken(token)
			continue
		case apiErr.Throttled() || (kind == kindRead && apiErr.HTTPStatus >= 500):
			throttled++
			if throttled >= c.retry.MaxAttempts {
				return apiErr
			}
			if err := c.wait(ctx, c.retryDelay(throttled, apiErr)); err != nil {
				return fmt.Errorf("%w; gave up waiting to retry: %w", apiErr, err)
			}
			continue
		case nonIdempotent && apiErr.HTTPStatus >= 500:
			return &OutcomeUnknownError{Op: api, Err: apiErr}
		}
		return apiErr
	}
}

// retryDelay is the wait after the n-th throttled attempt (see RetryPolicy).
func (c *Client) retryDelay(n int, e *APIError) time.Duration {
	return c.backoff(n, e.perMinuteLimited())
}

// backoff is the wait after the n-th throttled attempt; perMinute selects the
// longer wait of a per-minute quota (see RetryPolicy).
func (c *Client) backoff(n int, perMinute bool) time.Duration {
	base, maxDelay := c.retry.BaseDelay, c.retry.MaxDelay
	d := base
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	if perMinute {
		d = max(d, qpmDelayFactor*base)
		maxDelay = max(maxDelay, qpmDelayFactor*base)
	}
	d = min(d, maxDelay)
	if j := int64(d / 4); j > 0 {
		d += time.Duration(rand.Int64N(j + 1))
	}
	return min(d, maxDelay)
}

// wait sleeps for d or until ctx is done.
func (c *Client) wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// parseAPIError decodes DingTalk's v1.0 error body. A body that is not that
// shape gives a Code-less APIError with a short description, never the raw body.
func parseAPIError(api string, res *response) *APIError {
	e := &APIError{API: api, HTTPStatus: res.status, RequestID: res.header.Get("x-acs-request-id")}
	var body struct {
		Code      json.RawMessage `json:"code"`
		Message   string          `json:"message"`
		RequestID string          `json:"requestid"`
		Detail    *struct {
			RequiredScopes []string `json:"requiredScopes"`
		} `json:"accessdenieddetail"`
		// The anti-abuse gateway's IP-ban body: {"status":1111,"wait":5,...}.
		Status *int `json:"status"`
		Wait   *int `json:"wait"`
	}
	if err := json.Unmarshal(res.body, &body); err == nil {
		code := rawCode(body.Code)
		if code != "" || body.Message != "" {
			e.Code = code
			e.Message = truncate(body.Message, maxMessageLen)
			if body.RequestID != "" {
				e.RequestID = body.RequestID
			}
			if body.Detail != nil {
				e.RequiredScopes = body.Detail.RequiredScopes
			}
			return e
		}
		if body.Status != nil {
			e.Message = fmt.Sprintf("rejected by DingTalk's gateway (status %d", *body.Status)
			if body.Wait != nil {
				e.Message += fmt.Sprintf(", wait %d", *body.Wait)
			}
			e.Message += "; the caller IP may be banned for exceeding the per-IP limit)"
			return e
		}
	}
	switch {
	case len(res.body) == 0:
		e.Message = http.StatusText(res.status)
	default:
		ct := res.header.Get("Content-Type")
		if mt, _, _ := strings.Cut(ct, ";"); mt != "" {
			ct = strings.TrimSpace(mt)
		} else {
			ct = "unknown content type"
		}
		e.Message = fmt.Sprintf("unexpected non-JSON response (%s, %d bytes)", ct, len(res.body))
	}
	return e
}

// rawCode turns a JSON code that is a string or a number into a string.
func rawCode(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
