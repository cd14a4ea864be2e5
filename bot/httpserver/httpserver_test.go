package httpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/httpserver"
	"github.com/dingbot/dingbot/bot/stream"
	"github.com/dingbot/dingbot/dingtalktest"
)

const wait = 10 * time.Second

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// get serves one GET through h and returns the status, Content-Type and body.
func get(t *testing.T, h http.Handler, path string) (int, string, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Header().Get("Content-Type"), rec.Body.String()
}

func TestHealthz(t *testing.T) {
	// Liveness does not depend on the DingTalk connection.
	h := httpserver.Routes(httpserver.Options{Ready: func() bool { return false }})
	code, ctype, body := get(t, h, "/healthz")
	if code != http.StatusOK {
		t.Errorf("/healthz status = %d, want 200", code)
	}
	if !strings.HasPrefix(ctype, "application/json") {
		t.Errorf("/healthz Content-Type = %q, want JSON", ctype)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(body), &v); err != nil || v["status"] != "ok" {
		t.Errorf("/healthz body = %q, want {\"status\":\"ok\"}", body)
	}
}

func TestReadyz(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ready      func() bool
		wantCode   int
		wantStatus string
		wantReason bool
	}{
		{"connected", func() bool { return true }, http.StatusOK, "ready", false},
		{"not connected", func() bool { return false }, http.StatusServiceUnavailable, "not ready", true},
		{"no readiness function", nil, http.StatusServiceUnavailable, "not ready", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := httpserver.Routes(httpserver.Options{Ready: tc.ready})
			code, ctype, body := get(t, h, "/readyz")
			if code != tc.wantCode {
				t.Errorf("/readyz status = %d, want %d", code, tc.wantCode)
			}
			if !strings.HasPrefix(ctype, "application/json") {
				t.Errorf("/readyz Content-Type = %q, want JSON", ctype)
			}
			var v map[string]string
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Fatalf("/readyz body %q is not a JSON object: %v", body, err)
			}
			if v["status"] != tc.wantStatus {
				t.Errorf("/readyz status field = %q, want %q", v["status"], tc.wantStatus)
			}
			if got := v["reason"] != ""; got != tc.wantReason {
				t.Errorf("/readyz reason = %q, want a reason: %v", v["reason"], tc.wantReason)
			}
		})
	}
}

// TestReadyzFollowsStream wires /readyz to a real Stream, as main does.
func TestReadyzFollowsStream(t *testing.T) {
	fake := dingtalktest.NewServer(dingtalktest.Options{Logf: t.Logf})
	t.Cleanup(fake.Close)
	s := stream.New(stream.Options{
		ClientID:      fake.ClientID(),
		ClientSecret:  fake.ClientSecret(),
		APIURL:        fake.URL(),
		CheckInterval: 100 * time.Millisecond,
	}, func(bot.Message) error { return nil })
	h := httpserver.Routes(httpserver.Options{Ready: s.Ready})

	if code, _, _ := get(t, h, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before connecting = %d, want 503", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	connected := make(chan struct{})
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		done <- s.Run(ctx, connected)
		close(finished)
	}()
	defer func() {
		cancel()
		<-finished
	}()
	select {
	case <-connected:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(wait):
		t.Fatal("stream did not connect")
	}
	if code, _, _ := get(t, h, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz while connected = %d, want 200", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if code, _, _ := get(t, h, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz after the stream stopped = %d, want 503", code)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := bot.NewMetrics(reg)
	m.ObserveAPICall("group.create", "ok")
	m.ObserveAPICall("group.create", "ok")

	h := httpserver.Routes(httpserver.Options{Gatherer: reg})
	code, ctype, body := get(t, h, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics status = %d, want 200", code)
	}
	if !strings.HasPrefix(ctype, "text/plain") {
		t.Errorf("/metrics Content-Type = %q, want the Prometheus text format", ctype)
	}
	for _, want := range []string{
		`dingbot_dingtalk_api_calls_total{api="group.create",code="ok"} 2`,
		"dingbot_duplicate_messages_total 0",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics does not contain %q:\n%s", want, body)
		}
	}
}

func TestMetricsNeedsGatherer(t *testing.T) {
	h := httpserver.Routes(httpserver.Options{})
	if code, _, _ := get(t, h, "/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics without a Gatherer = %d, want 404", code)
	}
}

func TestListenServeShutdown(t *testing.T) {
	srv, err := httpserver.Listen(httpserver.Options{Addr: "127.0.0.1:0", Ready: func() bool { return true }})
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()

	addr := srv.Addr()
	if strings.HasSuffix(addr, ":0") {
		t.Fatalf("Addr() = %q, want the bound port", addr)
	}
	client := &http.Client{Timeout: wait}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}
	client.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown = %v, want nil", err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve after Shutdown = %v, want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("Serve did not return after Shutdown")
	}
	if _, err := client.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("the server still answers after Shutdown")
	}
}

func TestListenFailsOnBusyAddress(t *testing.T) {
	first, err := httpserver.Listen(httpserver.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- first.Serve() }()
	defer func() {
		_ = first.Shutdown(context.Background())
		<-served
	}()
	if _, err := httpserver.Listen(httpserver.Options{Addr: first.Addr()}); err == nil {
		t.Errorf("Listen on the busy address %s succeeded, want an error", first.Addr())
	}
}
