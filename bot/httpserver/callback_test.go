package httpserver_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/callback"
	"github.com/dingbot/dingbot/bot/httpserver"
	"github.com/dingbot/dingbot/internal/testutil"
)

// routes mounts cb as main does in HTTP mode.
func routes(cb *callback.Callback) map[string]http.Handler {
	return map[string]http.Handler{http.MethodPost + " " + callback.Path: cb}
}

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
	h := httpserver.Routes(httpserver.Options{Ready: cb.Accepting, NotReadyReason: "shutting down", Routes: routes(cb)})
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
	h := httpserver.Routes(httpserver.Options{Routes: routes(cb), RoutesOnly: true,
		Ready: func() bool { return true }, Gatherer: prometheus.NewRegistry()})
	for _, path := range []string{"/metrics", "/healthz", "/readyz", "/debug/pprof/", callback.Path} {
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
	var ginOut, logs testutil.SyncBuffer
	defer func(w io.Writer) { gin.DefaultErrorWriter = w }(gin.DefaultErrorWriter)
	gin.DefaultErrorWriter = &ginOut
	h := httpserver.Routes(httpserver.Options{
		Routes: map[string]http.Handler{"POST " + callback.Path: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })},
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
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

// TestRoutes: a Routes key is "METHOD /path" or "/path" (any method), and
// anything else is refused when the routes are built, as http.ServeMux does.
func TestRoutes(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := httpserver.Routes(httpserver.Options{Routes: map[string]http.Handler{"PUT /put": ok, "/any": ok}})
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPut, "/put", http.StatusTeapot},
		{http.MethodGet, "/put", http.StatusNotFound},
		{http.MethodGet, "/any", http.StatusTeapot},
		{http.MethodDelete, "/any", http.StatusTeapot},
		{http.MethodGet, "/healthz", http.StatusOK},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
	for _, bad := range []string{"", "POST", "POST dingtalk/callback", "POST /users/{id}", "GET /a/:b", "example.com/x"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("route %q was accepted", bad)
				}
			}()
			httpserver.Routes(httpserver.Options{Routes: map[string]http.Handler{bad: ok}})
		}()
	}
}
