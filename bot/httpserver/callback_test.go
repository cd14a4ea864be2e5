package httpserver_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/callback"
	"github.com/dingbot/dingbot/bot/httpserver"
)

func TestCallbackRouteIsMountedOnlyInHTTPMode(t *testing.T) {
	post := func(h http.Handler, sign bool) int {
		req := httptest.NewRequest(http.MethodPost, "/dingtalk/callback", strings.NewReader(`{"msgId":"m","conversationId":"c","text":{"content":"/help"}}`))
		if sign {
			ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
			req.Header.Set("timestamp", ts)
			req.Header.Set("sign", callback.Sign(ts, "s3cret-app"))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	// Stream mode: no such route.
	if code := post(httpserver.Routes(httpserver.Options{Ready: func() bool { return true }}), true); code != http.StatusNotFound {
		t.Errorf("stream mode: POST /dingtalk/callback = %d, want 404", code)
	}
	var got []bot.Message
	cb := callback.New(callback.Options{AppSecret: "s3cret-app"}, func(m bot.Message) error { got = append(got, m); return nil })
	h := httpserver.Routes(httpserver.Options{Ready: cb.Accepting, NotReadyReason: "shutting down", Callback: cb.Handle})
	if code := post(h, false); code != http.StatusUnauthorized {
		t.Errorf("unsigned: %d, want 401", code)
	}
	if code := post(h, true); code != http.StatusOK || len(got) != 1 || got[0].MsgID != "m" {
		t.Errorf("signed: %d, %d messages; want 200, 1", code, len(got))
	}
	if code, _, _ := get(t, h, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d while accepting, want 200", code)
	}
	cb.Stop()
	code, _, body := get(t, h, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Errorf("/readyz after Stop = %d %s, want 503 shutting down", code, body)
	}
	if code := post(h, true); code != http.StatusServiceUnavailable {
		t.Errorf("after Stop: %d, want 503", code)
	}
}

// TestCallbackOnlyListenerServesNothingElse: in HTTP mode the public
// listener serves the callback, and /metrics, /healthz and /readyz are on
// another address.
func TestCallbackOnlyListenerServesNothingElse(t *testing.T) {
	cb := callback.New(callback.Options{AppSecret: "s3cret-app"}, func(bot.Message) error { return nil })
	h := httpserver.Routes(httpserver.Options{Callback: cb.Handle, CallbackOnly: true,
		Ready: func() bool { return true }, Gatherer: prometheus.NewRegistry()})
	for _, path := range []string{"/metrics", "/healthz", "/readyz", "/debug/pprof/"} {
		if code, _, _ := get(t, h, path); code != http.StatusNotFound {
			t.Errorf("GET %s on the callback listener = %d, want 404", path, code)
		}
	}
	req := httptest.NewRequest(http.MethodPost, callback.Path, strings.NewReader(`{}`))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("unsigned POST %s = %d, want 401 (the callback is served)", callback.Path, rec.Code)
	}
}

// TestPanicIsLoggedWithoutHeaders: gin's default recovery prints every
// request header, and a callback's sign header can be replayed for the
// whole window.
func TestPanicIsLoggedWithoutHeaders(t *testing.T) {
	var ginOut, logs safeBuffer
	defer func(w io.Writer) { gin.DefaultErrorWriter = w }(gin.DefaultErrorWriter)
	gin.DefaultErrorWriter = &ginOut
	h := httpserver.Routes(httpserver.Options{
		Callback: func(*gin.Context) { panic("boom") },
		Logger:   slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	req := httptest.NewRequest(http.MethodPost, callback.Path, strings.NewReader(`{}`))
	req.Header.Set("timestamp", "1748779200000")
	req.Header.Set("sign", "REUSABLE-SIGN-VALUE=")
	req.RemoteAddr = "203.0.113.9:4431"
	req.Header.Set("X-Forwarded-For", "6.6.6.6")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", rec.Code)
	}
	all := ginOut.String() + logs.String()
	if strings.Contains(all, "REUSABLE-SIGN-VALUE") {
		t.Errorf("the sign header was printed on a panic:\n%s", all)
	}
	if !strings.Contains(logs.String(), "panic serving a request") || !strings.Contains(logs.String(), "boom") {
		t.Errorf("the panic was not logged through slog: %q", logs.String())
	}
	if !strings.Contains(logs.String(), "203.0.113.9") || strings.Contains(logs.String(), "6.6.6.6") {
		t.Errorf("the panic log should name the connection's address, not X-Forwarded-For: %s", logs.String())
	}
}

type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
