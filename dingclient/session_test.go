package dingclient

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dingbot/dingbot/internal/testutil"
)

const sessionKey = "c610ee93SESSION" + leakMarker

// bodyTracker is an http.RoundTripper that records whether every response
// body was read to EOF and closed.
type bodyTracker struct {
	mu     sync.Mutex
	bodies []*trackedBody
}

type trackedBody struct {
	rc     io.ReadCloser
	eof    atomic.Bool
	closed atomic.Bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

func (b *trackedBody) Close() error {
	b.closed.Store(true)
	return b.rc.Close()
}

func (t *bodyTracker) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	tb := &trackedBody{rc: resp.Body}
	resp.Body = tb
	t.mu.Lock()
	t.bodies = append(t.bodies, tb)
	t.mu.Unlock()
	return resp, nil
}

func (t *bodyTracker) check(tb testing.TB) {
	tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.bodies) == 0 {
		tb.Error("no responses tracked")
	}
	for i, b := range t.bodies {
		if !b.eof.Load() || !b.closed.Load() {
			tb.Errorf("response %d: read to EOF %v, closed %v", i, b.eof.Load(), b.closed.Load())
		}
	}
}

func TestReplyBySession(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		body       string
		wantErr    bool
		wantGone   bool
		wantWH     *WebhookError
		wantAPI    bool
		wantObserv string
	}{
		{name: "ok", status: 200, body: `{"errcode":0,"errmsg":"ok"}`, wantObserv: "session.reply ok"},
		{name: "ok with string errcode", status: 200, body: `{"errcode":"0","errmsg":"ok"}`, wantObserv: "session.reply ok"},
		{name: "session gone", status: 200, body: `{"errcode":300001,"errmsg":"session 不存在"}`, wantErr: true, wantGone: true,
			wantWH: &WebhookError{ErrCode: 300001, ErrMsg: "session 不存在"}, wantObserv: "session.reply 300001"},
		{name: "other errcode", status: 200, body: `{"errcode":410100,"errmsg":"send too fast"}`, wantErr: true,
			wantWH: &WebhookError{ErrCode: 410100, ErrMsg: "send too fast"}, wantObserv: "session.reply 410100"},
		{name: "HTTP 500", status: 500, body: `internal error`, wantErr: true, wantAPI: true, wantObserv: "session.reply http_500"},
		{name: "HTTP 200 garbage", status: 200, body: `<html>`, wantErr: true, wantObserv: "session.reply invalid_response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tracker := &bodyTracker{}
			c, f := setup(t, func(cfg *Config) { cfg.HTTPClient = &http.Client{Transport: tracker} })
			f.addSecret(sessionKey)
			f.mux.HandleFunc("/robot/sendBySession", func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost {
					t.Errorf("method %s", r.Method)
				}
				// The URL is used exactly as received.
				if r.URL.RawQuery != "session="+sessionKey+"&x=1" {
					t.Errorf("query = %q", r.URL.RawQuery)
				}
				testHeader(t, r, "Content-Type", "application/json")
				testHeader(t, r, "x-acs-dingtalk-access-token", "")
				testJSONBody(t, r, `{"msgtype":"text","text":{"content":"Created group “Release 4.2”"}}`)
				writeJSON(w, tt.status, tt.body)
			})
			err := c.ReplyBySession(testutil.Ctx(t), f.srv.URL+"/robot/sendBySession?session="+sessionKey+"&x=1", "Created group “Release 4.2”")
			f.seen(err)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if errors.Is(err, ErrSessionGone) != tt.wantGone {
				t.Errorf("errors.Is(ErrSessionGone) = %v, want %v (err %v)", !tt.wantGone, tt.wantGone, err)
			}
			var wh *WebhookError
			if errors.As(err, &wh) != (tt.wantWH != nil) || (wh != nil && *wh != *tt.wantWH) {
				t.Errorf("WebhookError = %+v, want %+v", wh, tt.wantWH)
			}
			var ae *APIError
			if errors.As(err, &ae) != tt.wantAPI || (ae != nil && (ae.HTTPStatus != 500 || ae.API != "session.reply")) {
				t.Errorf("APIError = %+v (want %v)", ae, tt.wantAPI)
			}
			if obs := strings.Join(f.observations(), ","); obs != tt.wantObserv {
				t.Errorf("observed %q, want %q", obs, tt.wantObserv)
			}
			if f.tokenFetches.Load() != 0 {
				t.Error("session replies need no token")
			}
			tracker.check(t)
		})
	}
}

func TestReplyBySession_TransportErrorRedactsSession(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, f := setup(t, func(cfg *Config) { cfg.OAPIURL = "http://" + addr })
	f.addSecret(sessionKey)
	err = c.ReplyBySession(testutil.Ctx(t), "http://"+addr+"/robot/sendBySession?session="+sessionKey, "hi")
	f.seen(err)
	if err == nil {
		t.Fatal("want error")
	}
	if !strings.Contains(err.Error(), "session=REDACTED") {
		t.Errorf("error %q should show the redacted URL", err)
	}
	if obs := strings.Join(f.observations(), ","); obs != "session.reply transport_error" {
		t.Errorf("observed %q", obs)
	}
}

func TestReplyBySession_InvalidURL(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	f.addSecret(sessionKey)
	for _, u := range []string{"", "::bad::" + sessionKey, "ftp://x/?session=" + sessionKey, "http://[::1/?session=" + sessionKey} {
		if err := c.ReplyBySession(testutil.Ctx(t), u, "hi"); f.seen(err) == nil {
			t.Errorf("ReplyBySession(%q) = nil, want error", u)
		}
	}
}

// TestReplyBySession_OnlyDingTalksSessionURL: a message's sessionWebhook is
// where the reply (group IDs and all) is POSTed, and in HTTP mode the
// callback's signature does not cover it, so only the configured OAPI host's
// session-reply path is ever used.
func TestReplyBySession_OnlyDingTalksSessionURL(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var posts atomic.Int32
	f.mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		writeJSON(w, 200, `{"errcode":0,"errmsg":"ok"}`)
	})
	base, _ := url.Parse(f.srv.URL)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(100)
		writeJSON(w, 200, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(other.Close)
	foreign := []string{
		other.URL + "/robot/sendBySession?session=abc",               // another host
		"https://" + base.Host + "/robot/sendBySession?session=abc",  // another scheme
		f.srv.URL + "/robot/send?access_token=abc",                   // another path
		f.srv.URL + "/robot/sendBySession/../send?session=abc",       // a path that only looks right
		f.srv.URL + "/v1.0/robot/sendBySession?session=abc",          // a prefix
		"http://user:pw@" + base.Host + "/robot/sendBySession?s=abc", // user info
		"http://" + base.Hostname() + ".evil.example:" + base.Port() + "/robot/sendBySession",
		"http://169.254.169.254/robot/sendBySession?session=abc", // SSRF into the metadata service
	}
	for _, u := range foreign {
		if c.IsSessionWebhook(u) {
			t.Errorf("IsSessionWebhook(%q) = true, want false", u)
		}
		if err := c.ReplyBySession(testutil.Ctx(t), u, "hi"); !errors.Is(err, ErrForeignWebhook) {
			t.Errorf("ReplyBySession(%q) = %v, want ErrForeignWebhook", u, err)
		}
	}
	if n := posts.Load(); n != 0 {
		t.Fatalf("%d requests were sent to foreign webhooks, want none", n)
	}
	good := []string{
		f.srv.URL + "/robot/sendBySession?session=abc",
		strings.ToUpper(base.Scheme) + "://" + strings.ToUpper(base.Host) + "/robot/sendBySession?session=abc",
	}
	for _, u := range good {
		if !c.IsSessionWebhook(u) {
			t.Errorf("IsSessionWebhook(%q) = false, want true", u)
		}
	}
	if err := c.ReplyBySession(testutil.Ctx(t), good[0], "hi"); err != nil || posts.Load() != 1 {
		t.Errorf("DingTalk's own session URL: %v, %d posts; want nil, 1", err, posts.Load())
	}
	// The default DingTalk host, with and without its default port.
	real, err := New(Config{ClientID: "id", ClientSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	for u, want := range map[string]bool{
		"https://oapi.dingtalk.com/robot/sendBySession?session=c610ee93":     true,
		"https://oapi.dingtalk.com:443/robot/sendBySession?session=c610ee93": true,
		"http://oapi.dingtalk.com/robot/sendBySession?session=c610ee93":      false,
		"https://api.dingtalk.com/robot/sendBySession?session=c610ee93":      false,
		"https://oapi.dingtalk.com.evil.cn/robot/sendBySession?session=x":    false,
	} {
		if got := real.IsSessionWebhook(u); got != want {
			t.Errorf("default client: IsSessionWebhook(%q) = %v, want %v", u, got, want)
		}
	}
}

func TestWebhookHostNeverShowsTheQuery(t *testing.T) {
	for in, want := range map[string]string{
		"https://evil.example:8443/x?session=SECRET": "evil.example:8443",
		"::bad::": "",
	} {
		if got := WebhookHost(in); got != want {
			t.Errorf("WebhookHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReplyMarkdownBySession: a markdown reply is msgtype markdown with its
// title and text; an empty one is refused without a request.
func TestReplyMarkdownBySession(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	f.addSecret(sessionKey)
	calls := 0
	f.mux.HandleFunc("/robot/sendBySession", func(w http.ResponseWriter, r *http.Request) {
		calls++
		testJSONBody(t, r, `{"msgtype":"markdown","markdown":{"title":"Create “Oncall”?","text":"### Create\n[Create](dtmd://dingtalkclient/sendMessage?content=%2Fconfirm%20K7Q2XM)"}}`)
		writeJSON(w, 200, `{"errcode":0,"errmsg":"ok"}`)
	})
	u := f.srv.URL + "/robot/sendBySession?session=" + sessionKey
	if err := c.ReplyMarkdownBySession(testutil.Ctx(t), u, "Create “Oncall”?", "### Create\n[Create](dtmd://dingtalkclient/sendMessage?content=%2Fconfirm%20K7Q2XM)"); err != nil {
		t.Fatal(f.seen(err))
	}
	for _, args := range [][2]string{{"", "text"}, {"title", " "}} {
		if err := c.ReplyMarkdownBySession(testutil.Ctx(t), u, args[0], args[1]); f.seen(err) == nil {
			t.Errorf("ReplyMarkdownBySession(%q, %q) = nil, want an error", args[0], args[1])
		}
	}
	if calls != 1 {
		t.Errorf("%d requests, want 1", calls)
	}
}
