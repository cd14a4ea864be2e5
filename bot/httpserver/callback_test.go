package httpserver_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

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
