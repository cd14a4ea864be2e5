package dingtalktest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults applied by NewServer to zero Options fields.
const (
	DefaultClientID        = "dingtestclient"
	DefaultClientSecret    = "testsecret"
	DefaultCorpID          = "dingcorp0001"
	DefaultAckTimeout      = 60 * time.Second
	DefaultMaxRedeliveries = 3
	DefaultDisconnectGrace = 10 * time.Second
	DefaultTokenTTL        = 7200 * time.Second
	DefaultSessionTTL      = 90 * time.Minute

	// TicketTTL is how long a gateway ticket can be used to open a websocket.
	TicketTTL = 90 * time.Second
	// BotMessageTopic is the CALLBACK topic of robot messages.
	BotMessageTopic = "/v1.0/im/bot/messages/get"
)

// ErrClosed is returned by waits and injections on a closed Server.
var ErrClosed = errors.New("dingtalktest: server closed")

// Options configures a Server. The zero value is usable: every zero field gets the
// default documented on it.
type Options struct {
	// ClientID and ClientSecret are the credentials of the one app (the bot):
	// its AppKey/AppSecret and, because robotCode equals the AppKey for internal
	// apps, its robotCode. Defaults "dingtestclient" and "testsecret".
	ClientID, ClientSecret string
	// CorpID is the organisation's corpId (chatbotCorpId/senderCorpId). Default "dingcorp0001".
	CorpID string
	// AckTimeout is how long a pushed CALLBACK frame may stay un-ACKed before it is
	// redelivered. Default 60s, like DingTalk.
	AckTimeout time.Duration
	// MaxRedeliveries caps automatic redeliveries of one frame. Default 3; negative means none.
	MaxRedeliveries int
	// PingInterval is the period of SYSTEM ping frames sent to every connection;
	// 0 (the default) sends none.
	PingInterval time.Duration
	// DisconnectGrace is how long after a SYSTEM disconnect frame the server closes
	// the TCP connection if the client has not. Default 10s.
	DisconnectGrace time.Duration
	// TokenTTL is the validity (expireIn) of issued access tokens. Default 7200s.
	TokenTTL time.Duration
	// SessionTTL is sessionWebhookExpiredTime - createAt of injected messages. Default 90 min.
	SessionTTL time.Duration
	// Addr is the listen address; default "127.0.0.1:0" (a free port). The local
	// demo can pin a port with it.
	Addr string
	// Logf, if set, receives one line per notable event (e.g. t.Logf). It is never
	// called after Close returns.
	Logf func(format string, args ...any)
}

// Server is a fake DingTalk. Create it with NewServer and stop it with Close.
type Server struct {
	opts      Options
	hs        *httptest.Server
	url       string
	appID     string
	botUserID string

	swallowPings atomic.Bool

	logMu     sync.RWMutex
	logClosed bool

	wg        sync.WaitGroup
	done      chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	closed  bool
	changed chan struct{} // closed and replaced on every state change

	// org
	users map[string]User

	// gateway / stream
	tickets      map[string]*ticket
	opens        int
	openAttempts int
	openRecords  []OpenRecord
	refuseOpens  bool
	conns        map[string]*wsConn
	pending      map[string]*Delivery // CALLBACK messageId → delivery
	sysPending   map[string]sysFrame  // SYSTEM messageId → frame we sent
	pongs        []Pong
	protoErrs    []string

	// openapi
	token           string
	tokens          map[string]time.Time // token → expiry
	tokenFetches    int
	createReqs      []CreateGroupRequestRecord
	groups          []Group
	createQueue     []Response
	createScript    func(CreateGroupRequestRecord) *Response
	standardAllowed bool
	rateLimit       int
	rateTimes       []time.Time     // create calls accepted in the last second
	botGroups       map[string]bool // openConversationIds the bot is a member of

	// contact / group update (contact*.go)
	calls      map[string][]CallRecord // path → calls of the endpoints in contact*.go
	callQueue  map[string][]Response   // path → scripted responses
	updateReqs []UpdateGroupRequestRecord

	// permission scopes the app lacks (scopes.go): path → scope
	deniedScopes map[string]string

	// webhooks
	sessions     map[string]*session
	webhookFails []Response
	replies      []Reply

	// HTTP-mode callbacks (callback.go)
	callbackPosts []CallbackPost
}

// NewServer starts a Server on 127.0.0.1 (or opts.Addr) and returns it. It panics
// if it cannot listen, like httptest.NewServer.
func NewServer(opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.CorpID == "" {
		opts.CorpID = DefaultCorpID
	}
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = DefaultAckTimeout
	}
	if opts.MaxRedeliveries == 0 {
		opts.MaxRedeliveries = DefaultMaxRedeliveries
	} else if opts.MaxRedeliveries < 0 {
		opts.MaxRedeliveries = 0
	}
	if opts.DisconnectGrace <= 0 {
		opts.DisconnectGrace = DefaultDisconnectGrace
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	s := &Server{
		opts:       opts,
		appID:      newUUID(),
		botUserID:  "$:LWCP_v1:$" + opaqueID("bot:"+opts.ClientID),
		done:       make(chan struct{}),
		changed:    make(chan struct{}),
		users:      make(map[string]User),
		tickets:    make(map[string]*ticket),
		conns:      make(map[string]*wsConn),
		pending:    make(map[string]*Delivery),
		sysPending: make(map[string]sysFrame),
		tokens:     make(map[string]time.Time),
		botGroups:  make(map[string]bool),
		calls:      make(map[string][]CallRecord),
		callQueue:  make(map[string][]Response),
		sessions:   make(map[string]*session),
	}
	hs := httptest.NewUnstartedServer(s.routes())
	if opts.Addr != "" {
		l, err := net.Listen("tcp", opts.Addr)
		if err != nil {
			panic(fmt.Sprintf("dingtalktest: listen on %s: %v", opts.Addr, err))
		}
		_ = hs.Listener.Close()
		hs.Listener = l
	}
	hs.Start()
	s.hs = hs
	s.url = hs.URL
	if opts.PingInterval > 0 {
		s.wg.Add(1)
		go s.pingLoop()
	}
	return s
}

// URL is the base URL ("http://127.0.0.1:PORT", no trailing slash) of every role:
// pass it as the api.dingtalk.com host (client.WithOpenApiHost), as the
// oapi.dingtalk.com host, and it is the host of the websocket endpoint and of
// the session webhooks.
func (s *Server) URL() string { return s.url }

// ClientID is the app's AppKey (also its robotCode).
func (s *Server) ClientID() string { return s.opts.ClientID }

// ClientSecret is the app's AppSecret.
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// CorpID is the organisation's corpId.
func (s *Server) CorpID() string { return s.opts.CorpID }

// BotUserID is the bot's own opaque dingtalkId (chatbotUserId in callbacks).
func (s *Server) BotUserID() string { return s.botUserID }

// Close closes every websocket, stops redelivery and pings, shuts the HTTP server
// down (in-flight scripted delays are cut short) and waits for the server's
// goroutines. Logf is not called after Close returns. Close is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.done)
		conns := make([]*wsConn, 0, len(s.conns))
		for _, c := range s.conns {
			conns = append(conns, c)
		}
		for _, d := range s.pending {
			if d.timer != nil {
				d.timer.Stop()
			}
		}
		s.notifyLocked()
		s.mu.Unlock()
		for _, c := range conns {
			c.closeTCP()
		}
		s.hs.Close()
		s.wg.Wait()
		s.logMu.Lock()
		s.logClosed = true
		s.logMu.Unlock()
	})
}

// logf forwards to Options.Logf unless the server is closed.
func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf == nil {
		return
	}
	s.logMu.RLock()
	defer s.logMu.RUnlock()
	if s.logClosed {
		return
	}
	s.opts.Logf("dingtalktest: "+format, args...)
}

// notifyLocked wakes every waiter. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// track registers a background goroutine unless the server is closed; the caller
// must call s.wg.Done when it finishes.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// waitFor blocks until cond (called with s.mu held) returns true, ctx ends or the
// server closes.
func (s *Server) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		closed := s.closed
		ch := s.changed
		s.mu.Unlock()
		if closed {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ---- org directory ----

// User is a member of the fake organisation's directory.
type User struct {
	// UserID is the userId (staffId).
	UserID string
	// Name is the display name (senderNick when the user sends a message).
	Name string
	// Mobile is the phone number as DingTalk stores it: 11 digits, no country
	// code or separators (e.g. "13800138000"). /topapi/v2/user/getbymobile
	// matches it exactly.
	Mobile string
	// Title is the job title (user/get's title).
	Title string
	// UnionID is the cross-org unionId.
	UnionID string
	// DeptIDs are the department ids.
	DeptIDs []int64
	// Admin makes the user an org admin (isAdmin in callbacks).
	Admin bool
	// Active is false for departed or deactivated users; they cannot join groups.
	Active bool
	// Visible is true when the user is inside the app's visibility scope; a group
	// owner must be visible.
	Visible bool
}

// AddUser adds u to the org directory, replacing any user with the same UserID.
// Users never added are unknown to the org.
func (s *Server) AddUser(u User) {
	u.DeptIDs = append([]int64(nil), u.DeptIDs...)
	s.mu.Lock()
	s.users[u.UserID] = u
	s.mu.Unlock()
}

// Users returns the org directory, in no particular order.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		u.DeptIDs = append([]int64(nil), u.DeptIDs...)
		out = append(out, u)
	}
	return out
}

// ---- HTTP plumbing ----

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1.0/gateway/connections/open", s.handleOpen)
	mux.HandleFunc("GET /connect", s.handleConnect)
	mux.HandleFunc("POST /v1.0/oauth2/accessToken", s.handleAccessToken)
	mux.HandleFunc("GET /gettoken", s.handleLegacyToken)
	mux.HandleFunc("POST /v1.0/im/group/create", s.handleCreateGroup)
	mux.HandleFunc("POST "+PathRobotGroupSend, s.handleGroupSend())
	mux.HandleFunc("POST "+PathConversationRobots, s.handleAddRobot())
	mux.HandleFunc("POST /v1.0/robot/oToMessages/batchSend", s.handleOTOSend)
	mux.HandleFunc("POST /robot/sendBySession", s.handleSessionWebhook)
	mux.HandleFunc("POST "+PathUserByMobile, s.handleUserByMobile)
	mux.HandleFunc("POST "+PathUserGet, s.handleUserGet)
	mux.HandleFunc("POST "+PathUserSearch, s.handleUserSearch)
	mux.HandleFunc("POST "+PathGroupUpdate, s.handleGroupUpdate)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern == "" {
			s.logf("unknown endpoint %s %s", r.Method, r.URL.Path)
			if strings.HasPrefix(r.URL.Path, "/v1.0/") {
				writeAPIError(w, http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
				return
			}
		}
		if s.denyScope(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	})
}

// apiError is the error body of the new-style v1.0 APIs.
type apiError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestid"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only fixed, marshalable types are passed
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeAPI writes a v1.0 response with an x-acs-request-id header.
func writeAPI(w http.ResponseWriter, status int, v any) {
	if w.Header().Get("x-acs-request-id") == "" {
		w.Header().Set("x-acs-request-id", newRequestID())
	}
	writeJSON(w, status, v)
}

func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	id := newRequestID()
	w.Header().Set("x-acs-request-id", id)
	writeJSON(w, status, apiError{Code: code, Message: message, RequestID: id})
}

// ---- ids ----

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return hex.EncodeToString(b)[:n]
}

func newUUID() string {
	h := randHex(32)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newRequestID looks like DingTalk's requestid: an upper-case hex UUID.
func newRequestID() string { return strings.ToUpper(newUUID()) }

// newMessageID looks like a stream messageId: <hex>_<hex>_<hex>_<hex>.
func newMessageID() string {
	return fmt.Sprintf("%s_%x_%x_%s", randHex(8), 0x100+rand.IntN(0xeff), time.Now().UnixMilli(), randHex(4))
}

// opaqueID derives a stable opaque id (the part after "$:LWCP_v1:$") from key.
func opaqueID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return base64.StdEncoding.EncodeToString(sum[:16])
}

// conversationID derives a stable "cid…==" id from key.
func conversationID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "cid" + base64.StdEncoding.EncodeToString(sum[:22])
}

func randomConversationID() string {
	b := make([]byte, 22)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return "cid" + base64.StdEncoding.EncodeToString(b)
}
