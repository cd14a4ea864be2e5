package stream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/stream"
	"github.com/dingbot/dingbot/internal/testutil"
)

const fakeTicket = "8e2f6a4c-51d7-4bb3-9c0e-TICKET123"

// TestSDKLoggerRedactsTickets feeds the adapter the SDK's own format strings
// (dingtalk-stream-sdk-go client/client.go) with a ticket in them: the ticket
// never reaches the log, the rest of the line does.
func TestSDKLoggerRedactsTickets(t *testing.T) {
	_, parseErr := url.Parse("wss://gw.example/connect\x7f?ticket=" + fakeTicket)
	if parseErr == nil || !strings.Contains(parseErr.Error(), fakeTicket) {
		t.Fatalf("url.Parse error %v should quote the ticket", parseErr)
	}
	for _, tc := range []struct {
		name string
		log  func(stream.SDKLog)
		keep []string
	}{
		{"connect success", func(l stream.SDKLog) { l.Infof("connect success, sessionId=[%s]", fakeTicket) },
			[]string{"connect success, sessionId=[[redacted]]"}},
		{"reconnect error with a URL", func(l stream.SDKLog) {
			l.Errorf("StreamClient reconnect error, attempt=[%d] error=[%s]", 3, parseErr)
		}, []string{"StreamClient reconnect error, attempt=[3] error=[parse", "wss://gw.example/connect", "?ticket=[redacted]", "invalid control character"}},
		{"ticket mid query", func(l stream.SDKLog) {
			l.Warningf("dial %s failed", "wss://gw.example/connect?a=1&ticket="+fakeTicket+"&b=2#frag")
		}, []string{"dial wss://gw.example/connect?a=1&ticket=[redacted]&b=2#frag failed"}},
		{"read error", func(l stream.SDKLog) {
			l.Errorf("connection process read message error: messageType=[%d] message=[%s] error=[%s]", -1, "", errors.New("GET wss://gw/connect?ticket="+fakeTicket+": EOF"))
		}, []string{"messageType=[-1]", "?ticket=[redacted]"}},
		{"panic", func(l stream.SDKLog) {
			l.Fatalf("connection process panic due to unknown reason, error=[%s]", "sessionId="+fakeTicket)
		}, []string{"connection process panic due to unknown reason, error=[sessionId=[redacted]]"}},
		{"gateway answer", func(l stream.SDKLog) {
			l.Errorf("connection process decode data frame error: length=[%d] error=[%s]", 80, `{"endpoint":"wss://gw/connect","ticket":"`+fakeTicket+`"}`)
		}, []string{`"endpoint":"wss://gw/connect"`, `"ticket":"[redacted]"`}},
		{"gateway answer quoted", func(l stream.SDKLog) {
			l.Errorf("StreamClient close. error=[%s]", fmt.Errorf("bad answer %q", `{"ticket":"`+fakeTicket+`"}`))
		}, []string{`bad answer "{\"ticket\":\"[redacted]\"}"`}},
		{"no ticket", func(l stream.SDKLog) { l.Infof("StreamClient reconnect success") },
			[]string{"StreamClient reconnect success"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.log(stream.SDKLogger(slog.New(slog.NewJSONHandler(&buf, nil))))
			var rec struct{ Msg string }
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("log line %q: %v", buf.String(), err)
			}
			if strings.Contains(buf.String(), "TICKET123") {
				t.Errorf("log line holds the ticket: %s", rec.Msg)
			}
			for _, k := range tc.keep {
				if !strings.Contains(rec.Msg, k) {
					t.Errorf("log message %q lacks %q", rec.Msg, k)
				}
			}
		})
	}
}

// TestSDKNeverLogsTheFakesTickets runs the real SDK against the fake DingTalk,
// through a connection loss and a reconnect, and checks that none of the
// tickets the fake issued appears in what the SDK logged.
func TestSDKNeverLogsTheFakesTickets(t *testing.T) {
	fake := newFake(t)
	handle, _ := collect()
	s := stream.New(options(fake, nil), handle)
	r := run(t, s)
	if err := fake.WaitConnections(testutil.Ctx(t), 1); err != nil {
		t.Fatalf("WaitConnections: %v", err)
	}
	if n := fake.DropConnections(); n != 1 {
		t.Fatalf("dropped %d connections, want 1", n)
	}
	testutil.WaitFor(t, wait, "a second ticket", func() bool { return fake.Opens() >= 2 })
	testutil.WaitFor(t, wait, "the reconnect", s.Ready)
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	out := sdkOutput.String()
	if !strings.Contains(out, "connect success") {
		t.Fatalf("the SDK's connect line was not captured:\n%s", out)
	}
	tickets := 0
	for _, rec := range fake.OpenRecords() {
		if rec.Ticket == "" {
			continue
		}
		tickets++
		if strings.Contains(out, rec.Ticket) {
			t.Errorf("SDK log holds ticket %s:\n%s", rec.Ticket, out)
		}
	}
	if tickets < 2 {
		t.Errorf("fake issued %d tickets, want at least 2", tickets)
	}
}

// TestStartErrorHidesTicket: a gateway (hostile, or broken) that answers with
// an unusable endpoint makes the websocket dial fail with an error quoting the
// URL, ticket included; Run's error does not show the ticket.
func TestStartErrorHidesTicket(t *testing.T) {
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"endpoint":"wss://gw.example/connect\u007f","ticket":%q}`, fakeTicket)
	}))
	t.Cleanup(gw.Close)
	s := stream.New(stream.Options{ClientID: "id", ClientSecret: "secret-123456", APIURL: gw.URL}, func(bot.Message) error { return nil })
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err := s.Run(ctx, nil)
	if err == nil {
		t.Fatal("Run connected to an unusable endpoint")
	}
	if strings.Contains(err.Error(), "TICKET123") {
		t.Errorf("Run's error holds the ticket: %v", err)
	}
	if !strings.Contains(err.Error(), "ticket=[redacted]") {
		t.Errorf("Run's error %q should still show the URL, ticket redacted", err)
	}
}
