package dingclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingbot/dingbot/internal/testutil"
)

const (
	testClientID  = "dingTESTAPPKEY"
	testSecret    = "APPSECRET-do-not-leak-7f3a"
	testRobotCode = "dingROBOT"
	// Issued tokens are "TOKEN-<n>-do-not-leak"; any "-do-not-leak" in an error or log is a leak.
	leakMarker = "do-not-leak"
)

// fakeClock is a settable clock for token expiry.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fake is a per-test DingTalk API server with a token endpoint.
type fake struct {
	t     *testing.T
	mux   *http.ServeMux
	srv   *httptest.Server
	clock *fakeClock
	logs  *testutil.SyncBuffer

	tokenFetches atomic.Int32
	// tokenDelay makes the token endpoint slow (to overlap concurrent callers).
	tokenDelay time.Duration
	// expireIn is returned by the token endpoint.
	expireIn int64
	// tokenHook, if set before the first call, replaces the token endpoint.
	tokenHook http.HandlerFunc

	mu       sync.Mutex
	errs     []error
	observed []string
	secrets  []string // extra strings that must never appear in errors or logs
}

type setupOpt func(*Config)

// setup starts a fake server and a Client pointed at it. Every error passed
// to f.seen, and every log line, is checked for secrets when the test ends.
func setup(t *testing.T, opts ...setupOpt) (*Client, *fake) {
	t.Helper()
	f := &fake{
		t:        t,
		mux:      http.NewServeMux(),
		clock:    &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		logs:     &testutil.SyncBuffer{},
		expireIn: 7200,
	}
	f.mux.HandleFunc("POST /v1.0/oauth2/accessToken", f.handleToken)
	f.srv = httptest.NewServer(f.mux)
	t.Cleanup(f.srv.Close)
	cfg := Config{
		APIURL:       f.srv.URL,
		OAPIURL:      f.srv.URL,
		ClientID:     testClientID,
		ClientSecret: testSecret,
		RobotCode:    testRobotCode,
		Logger:       slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Observe: func(api, code string) {
			f.mu.Lock()
			f.observed = append(f.observed, api+" "+code)
			f.mu.Unlock()
		},
		Retry: RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond},
		Now:   f.clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { f.checkLeaks() })
	return c, f
}

func (f *fake) handleToken(w http.ResponseWriter, r *http.Request) {
	if f.tokenHook != nil {
		f.tokenFetches.Add(1)
		f.tokenHook(w, r)
		return
	}
	n := f.tokenFetches.Add(1)
	if f.tokenDelay > 0 {
		time.Sleep(f.tokenDelay)
	}
	var body struct {
		AppKey    string `json:"appKey"`
		AppSecret string `json:"appSecret"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.AppKey != testClientID || body.AppSecret != testSecret {
		writeJSON(w, 400, `{"code":"invalidClientIdOrSecret","message":"无效的clientId或者clientSecret","requestid":"tok-req"}`)
		return
	}
	writeJSON(w, 200, fmt.Sprintf(`{"accessToken":%q,"expireIn":%d}`, tokenN(int(n)), f.expireIn))
}

// tokenN is the n-th token the fake issues.
func tokenN(n int) string { return fmt.Sprintf("TOKEN-%d-%s", n, leakMarker) }

// seen records err for the leak check and returns it.
func (f *fake) seen(err error) error {
	f.mu.Lock()
	f.errs = append(f.errs, err)
	f.mu.Unlock()
	return err
}

func (f *fake) addSecret(s string) {
	f.mu.Lock()
	f.secrets = append(f.secrets, s)
	f.mu.Unlock()
}

func (f *fake) observations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.observed...)
}

func (f *fake) checkLeaks() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	secrets := append([]string{testSecret, leakMarker}, f.secrets...)
	texts := []string{f.logs.String(), strings.Join(f.observed, "\n")}
	for _, err := range f.errs {
		if err != nil {
			texts = append(texts, err.Error())
		}
	}
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				f.t.Errorf("secret %q leaked into %q", s, text)
			}
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// testHeader asserts a request header.
func testHeader(t *testing.T, r *http.Request, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("header %s = %q, want %q", name, got, want)
	}
}

// readBody reads a request body in a handler.
func readBody(t *testing.T, r *http.Request) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("reading request body: %v", err)
	}
	return string(b)
}

// testJSONBody asserts that a request body is exactly want (byte for byte).
func testJSONBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if got := readBody(t, r); got != want {
		t.Errorf("body =\n%s\nwant\n%s", got, want)
	}
}

func asAPIError(t *testing.T, err error) *APIError {
	t.Helper()
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	return ae
}
