package dingtalktest_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"

	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
)

// received is one request the stand-in bot got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is a stand-in for the bot's callback endpoint that records every
// request and answers 200 {}.
func receiver(t *testing.T) (string, func() []received) {
	t.Helper()
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/dingtalk/callback" {
			t.Errorf("request %s %s, want POST /dingtalk/callback", r.Method, r.URL.Path)
		}
		mu.Lock()
		got = append(got, received{r.Header.Clone(), body})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/dingtalk/callback", func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
}

// expectedSign is DingTalk's documented algorithm, written out here
// independently of the fake: Base64(HmacSHA256(key=appSecret, msg=timestamp+"\n"+appSecret)).
func expectedSign(timestamp, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'\n'})
	mac.Write([]byte(secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestSignCallbackKnownVectors(t *testing.T) {
	// Computed outside Go (Python's hmac/hashlib/base64).
	for _, v := range []struct{ ts, secret, sign string }{
		{"1577262236757", "testsecret", "J+BiSbR3jshnMXl7lBt86VHVkxu/BShC2VzSWYBVCKE="},
		{"1695199269062", "SEC0123456789abcdef", "jcJ7gp88/DqXrnVKDclzaVVZc+unp7JxxCy+W9tYvcE="},
	} {
		if got := dingtalktest.SignCallback(v.ts, v.secret); got != v.sign {
			t.Errorf("SignCallback(%q, %q) = %q, want %q", v.ts, v.secret, got, v.sign)
		}
		if got := expectedSign(v.ts, v.secret); got != v.sign {
			t.Errorf("expectedSign(%q, %q) = %q, want %q", v.ts, v.secret, got, v.sign)
		}
	}
}

func TestPostCallbackSignsLikeDingTalk(t *testing.T) {
	fake := newServer(t, dingtalktest.Options{ClientSecret: "callback-secret-123"})
	fake.AddUser(dingtalktest.User{UserID: "alice", Name: "Alice", Active: true, Visible: true})
	url, got := receiver(t)

	before := time.Now()
	resp, err := fake.PostCallback(testutil.CtxTimeout(t, 10*time.Second), url, dingtalktest.Message{
		Text: "/newgroup Ops @Bob", SenderID: "alice", Group: true, MsgID: "msgHTTP1",
		Mentions: []dingtalktest.Mention{{Name: "Bob", UserID: "bob"}},
	})
	if err != nil {
		t.Fatalf("PostCallback: %v", err)
	}
	resp.Body.Close()
	after := time.Now()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	reqs := got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	h := reqs[0].header
	if ct := h.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q, want application/json; charset=utf-8", ct)
	}
	ts := h.Get("timestamp")
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ms < before.UnixMilli() || ms > after.UnixMilli() {
		t.Errorf("timestamp %q is not the current time in milliseconds (%d..%d)", ts, before.UnixMilli(), after.UnixMilli())
	}
	if sign := h.Get("sign"); sign != expectedSign(ts, "callback-secret-123") {
		t.Errorf("sign %q, want %q", sign, expectedSign(ts, "callback-secret-123"))
	}

	// The body is the robot message, as the SDK's model reads it.
	var data chatbot.BotCallbackDataModel
	if err := json.Unmarshal(reqs[0].body, &data); err != nil {
		t.Fatalf("body: %v: %s", err, reqs[0].body)
	}
	if data.MsgId != "msgHTTP1" || data.ConversationType != "2" || data.SenderStaffId != "alice" || data.SenderNick != "Alice" ||
		data.Msgtype != "text" || data.Text.Content != " /newgroup Ops @Bob" || data.ChatbotUserId != fake.BotUserID() ||
		data.RobotCode != fake.ClientID() || data.ConversationId == "" {
		t.Errorf("unexpected message data: %s", reqs[0].body)
	}
	if len(data.AtUsers) != 2 || data.AtUsers[0].DingtalkId != fake.BotUserID() || data.AtUsers[1].StaffId != "bob" {
		t.Errorf("atUsers = %+v, want the bot and bob", data.AtUsers)
	}

	posts := fake.CallbackPosts()
	if len(posts) != 1 || posts[0].Status != 200 || posts[0].MsgID != "msgHTTP1" || posts[0].SessionWebhook != data.SessionWebhook ||
		posts[0].Timestamp != ts || !bytes.Equal(posts[0].Body, reqs[0].body) {
		t.Errorf("CallbackPosts = %+v", posts)
	}

	// The session webhook works, as for a Stream message.
	reply, err := http.Post(data.SessionWebhook, "application/json", strings.NewReader(`{"msgtype":"text","text":{"content":"done"}}`))
	if err != nil {
		t.Fatal(err)
	}
	reply.Body.Close()
	replies := fake.Replies()
	if len(replies) != 1 || replies[0].Via != dingtalktest.ViaSession || replies[0].MsgID != "msgHTTP1" || replies[0].Text != "done" {
		t.Errorf("replies = %+v, want one via the session of msgHTTP1", replies)
	}
}

func TestPostCallbackForgeries(t *testing.T) {
	fake := newServer(t, dingtalktest.Options{ClientSecret: "callback-secret-123"})
	url, got := receiver(t)
	msg := dingtalktest.Message{Text: "/help", SenderID: "alice"}
	stale := time.Now().Add(-2 * time.Hour)

	cases := []struct {
		name  string
		opts  []dingtalktest.CallbackOption
		check func(t *testing.T, r received)
	}{
		{"wrong secret", []dingtalktest.CallbackOption{dingtalktest.WithCallbackSecret("other")}, func(t *testing.T, r received) {
			if r.header.Get("sign") != expectedSign(r.header.Get("timestamp"), "other") {
				t.Errorf("sign not made with the given secret")
			}
		}},
		{"stale", []dingtalktest.CallbackOption{dingtalktest.WithCallbackTime(stale)}, func(t *testing.T, r received) {
			ts := strconv.FormatInt(stale.UnixMilli(), 10)
			if r.header.Get("timestamp") != ts || r.header.Get("sign") != expectedSign(ts, "callback-secret-123") {
				t.Errorf("timestamp %q sign %q; want the stale time, validly signed", r.header.Get("timestamp"), r.header.Get("sign"))
			}
		}},
		{"no timestamp", []dingtalktest.CallbackOption{dingtalktest.WithoutCallbackHeader("timestamp")}, func(t *testing.T, r received) {
			if _, ok := r.header["Timestamp"]; ok || r.header.Get("sign") == "" {
				t.Errorf("headers %v; want sign without timestamp", r.header)
			}
		}},
		{"no sign", []dingtalktest.CallbackOption{dingtalktest.WithoutCallbackHeader("sign")}, func(t *testing.T, r received) {
			if _, ok := r.header["Sign"]; ok || r.header.Get("timestamp") == "" {
				t.Errorf("headers %v; want timestamp without sign", r.header)
			}
		}},
		{"header override", []dingtalktest.CallbackOption{dingtalktest.WithCallbackHeader("timestamp", "yesterday")}, func(t *testing.T, r received) {
			if r.header.Get("timestamp") != "yesterday" {
				t.Errorf("timestamp %q, want yesterday", r.header.Get("timestamp"))
			}
		}},
		{"raw body", []dingtalktest.CallbackOption{dingtalktest.WithCallbackBody([]byte(`{not json`))}, func(t *testing.T, r received) {
			if string(r.body) != `{not json` || r.header.Get("sign") != expectedSign(r.header.Get("timestamp"), "callback-secret-123") {
				t.Errorf("body %q; want the raw body, validly signed", r.body)
			}
		}},
	}
	for i, tc := range cases {
		resp, err := fake.PostCallback(testutil.CtxTimeout(t, 10*time.Second), url, msg, tc.opts...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		reqs := got()
		if len(reqs) != i+1 {
			t.Fatalf("%s: %d requests, want %d", tc.name, len(reqs), i+1)
		}
		t.Run(tc.name, func(t *testing.T) { tc.check(t, reqs[i]) })
	}
}

func TestPostCallbackRefusesMentionsInOneToOne(t *testing.T) {
	fake := newServer(t, dingtalktest.Options{})
	_, err := fake.PostCallback(testutil.CtxTimeout(t, time.Second), "http://127.0.0.1:1/dingtalk/callback",
		dingtalktest.Message{Text: "hi", SenderID: "a", Mentions: []dingtalktest.Mention{{Name: "B"}}})
	if err == nil {
		t.Error("no error for mentions in a 1:1 chat")
	}
}
