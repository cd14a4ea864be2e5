// Package dingclient is dingbot's client for the DingTalk OpenAPI: the app
// access token, group creation and updates, the robot's membership of groups,
// robot messages and session-webhook replies.
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
//     the calls that are safe to repeat retry an HTTP 5xx answer with the same
//     back-off: the read-only user lookups (UserByMobile, SearchUsers,
//     GetUser), AddRobotToConversation, and UpdateGroup when it only sets the
//     name or the owner. For group creation they give
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
//
// Both generations go through one request loop (Client.call), which differs
// per generation only in where the token goes and how a 2xx answer is read;
// only ReplyBySession, never retried, sends its single request itself.
package dingclient

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
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
	defaultBaseDelay   = DefaultRetryBaseDelay
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

// API names one DingTalk operation the client calls. Its value is the api
// label Config.Observe reports, the key of Config.RateLimits, the "api" log
// attribute, and APIError.API / LegacyError.API / OutcomeUnknownError.Op.
type API string

// The DingTalk APIs the client calls. The values are metric label values:
// do not change them.
const (
	// APIToken is the app access token (AccessToken).
	APIToken API = "token"
	// APIGroupCreate is group creation (CreateGroup).
	APIGroupCreate API = "group.create"
	// APIGroupUpdate is the group update (UpdateGroup, AddGroupMembers).
	APIGroupUpdate API = "group.update"
	// APIRobotGroupSend is a robot message to a group (SendGroupText, SendGroupMarkdown).
	APIRobotGroupSend API = "robot.group_send"
	// APIRobotOTOSend is a robot message in one-to-one chats (SendUserText).
	APIRobotOTOSend API = "robot.oto_send"
	// APISessionReply is a reply through a session webhook (ReplyBySession).
	APISessionReply API = "session.reply"
	// APIUserByMobile is the legacy user lookup by mobile (UserByMobile).
	APIUserByMobile API = "user.by_mobile"
	// APIUserSearch is the directory search by name (SearchUsers).
	APIUserSearch API = "user.search"
	// APIUserGet is the legacy user details call (GetUser).
	APIUserGet API = "user.get"
	// APIRobotAdd adds the app's robot to a group (AddRobotToConversation).
	APIRobotAdd API = "robot.add"
)

// apis lists every API, in the order of the constants.
var apis = []API{APIToken, APIGroupCreate, APIGroupUpdate, APIRobotGroupSend, APIRobotOTOSend,
	APISessionReply, APIUserByMobile, APIUserSearch, APIUserGet, APIRobotAdd}

// APIs returns every API the client calls: the complete set of names
// Config.Observe reports and Config.RateLimits accepts.
func APIs() []API { return slices.Clone(apis) }

// DefaultRetryBaseDelay is RetryPolicy.BaseDelay's default: the first wait
// after DingTalk throttles a call.
const DefaultRetryBaseDelay = time.Second

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
	// RobotCode identifies the robot in the robot send APIs and AddRobotToConversation; defaults to ClientID.
	RobotCode string
	// HTTPClient sends the requests; default NewHTTPClient(10*time.Second, 32).
	HTTPClient *http.Client
	// Logger receives one Debug record per HTTP attempt; default discards.
	Logger *slog.Logger
	// Observe, if set, is called once per HTTP attempt with the API name (one
	// of APIs(): "token", "group.create", "group.update", "robot.group_send",
	// "robot.oto_send", "session.reply", "user.by_mobile", "user.search",
	// "user.get", "robot.add") and the outcome: "ok", DingTalk's error code (or the webhook / legacy errcode, e.g.
	// "60121"), "http_<status>" when the error carried no code,
	// "transport_error", or (session.reply and the legacy user.by_mobile and
	// user.get) "invalid_response" for an HTTP 200 whose body is not the expected JSON.
	Observe func(api, code string)
	// Retry configures retries of throttled calls.
	Retry RetryPolicy
	// RateLimits caps calls per second per API (e.g. APIGroupUpdate: 20),
	// in any one-second window (LocalLimiter), when Limiter is nil. Every
	// HTTP attempt, retries included, waits for its API's slot; an API
	// without an entry is not limited. New rejects a key that is not one
	// of APIs() and a rate that is not positive. DingTalk allows 20 calls
	// per second per app and API.
	RateLimits map[API]float64
	// Limiter, if set, spaces the calls instead of RateLimits, e.g. one
	// shared by every replica of the bot through its database.
	Limiter Limiter
	// Now replaces time.Now for token expiry; for tests.
	Now func() time.Time
}

// Client calls the DingTalk OpenAPI. It is safe for concurrent use.
type Client struct {
	apiURL       string
	oapiURL      string
	session      sessionURL // the session webhooks' URL, from oapiURL
	clientID     string
	clientSecret string
	robotCode    string
	hc           *http.Client
	log          *slog.Logger
	observe      func(api, code string)
	retry        RetryPolicy
	now          func() time.Time
	limiter      Limiter // nil: no limits

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
// URLs, that the credentials are set and that every RateLimits entry names a
// known API with a positive rate; its errors never contain the secret.
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
		session:      sessionURLOf(oapiURL),
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		robotCode:    cfg.RobotCode,
		hc:           cfg.HTTPClient,
		log:          cfg.Logger,
		observe:      cfg.Observe,
		retry:        cfg.Retry,
		now:          cfg.Now,
	}
	local, err := NewLocalLimiter(cfg.RateLimits)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Limiter != nil:
		c.limiter = cfg.Limiter
	case len(cfg.RateLimits) > 0:
		c.limiter = local
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

// apiNames is apis as strings.
func apiNames() []string {
	names := make([]string, len(apis))
	for i, api := range apis {
		names[i] = string(api)
	}
	return names
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
