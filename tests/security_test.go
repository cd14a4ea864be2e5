package tests

// Issue #11: what the headers of one real HTTP callback let an attacker do.
// DingTalk's signature covers the timestamp only, so whoever saw one
// request's timestamp and sign headers (a proxy, WAF or APM log) can send
// bodies of their own under them until the window closes.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/store"
)

func TestHTTPModeReplayedHeaderPairIsBounded(t *testing.T) {
	t.Parallel()
	w := newHTTPWorld(t, nil)
	var stolen atomic.Int32
	attacker := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		_, _ = rw.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
	}))
	t.Cleanup(attacker.Close)

	// One real request: the lead creates a group.
	legit := groupMsg(`/newgroup "Release 4.2" @Alice`, "Alice")
	legit.MsgID = "msgLegit=="
	w.say(t, legit)
	posts := w.fake.CallbackPosts()
	captured := posts[len(posts)-1]

	// The attacker replays its headers with bodies of their own: another
	// sender claiming isAdmin, a session webhook of their own, /groups --all.
	var body map[string]any
	if err := json.Unmarshal(captured.Body, &body); err != nil {
		t.Fatal(err)
	}
	body["senderStaffId"], body["senderNick"], body["isAdmin"] = "alice01", "Alice", true
	body["sessionWebhook"] = attacker.URL + "/robot/sendBySession?session=stolen"
	body["text"] = map[string]string{"content": " /groups --all"}
	const forged = 20
	var admitted, refused []string
	for i := range forged {
		body["msgId"] = fmt.Sprintf("msgForged%02d==", i)
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, w.callbackURL(), bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("timestamp", captured.Timestamp)
		req.Header.Set("sign", captured.Sign)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			admitted = append(admitted, body["msgId"].(string))
		case http.StatusUnauthorized:
			refused = append(refused, body["msgId"].(string))
		default:
			t.Fatalf("forged message %d: status %d", i, resp.StatusCode)
		}
	}
	// The legitimate message used one of the pair's 8.
	if len(admitted) != 7 || len(refused) != forged-7 {
		t.Fatalf("%d forged messages admitted, %d refused; want 7 and %d", len(admitted), len(refused), forged-7)
	}
	for i := range admitted {
		reply := w.waitReply(t, 1+i)
		if reply.Via != dingtalktest.ViaGroupAPI || reply.ConversationID != captured.ConversationID {
			t.Errorf("forged message's reply went via %s to %q; want the robot API into the chat itself", reply.Via, reply.ConversationID)
		}
		if !strings.Contains(reply.Text, "Only admins") {
			t.Errorf("a forged isAdmin was believed: %q", reply.Text)
		}
	}
	time.Sleep(500 * time.Millisecond) // a refused message that slipped through would be answered by now
	if n := len(w.fake.Replies()); n != 1+len(admitted) {
		t.Errorf("%d replies, want %d: nothing for the refused messages", n, 1+len(admitted))
	}
	if n := stolen.Load(); n != 0 {
		t.Errorf("%d replies were posted to the attacker's webhook", n)
	}
	if n := len(w.fake.CreateRequests()); n != 1 {
		t.Errorf("%d creates, want the legitimate one", n)
	}
	if got := w.bot.waitMetric(t, `dingbot_callback_requests_total{status="401"}`, fmt.Sprint(len(refused))); got != fmt.Sprint(len(refused)) {
		t.Errorf("callbacks answered 401: %s, want %d", got, len(refused))
	}
	if !strings.Contains(w.bot.Logs(), "suspicious session webhook") {
		t.Error("the foreign session webhook was not logged as suspicious")
	}

	// Refused messages are not stored.
	w.bot.Stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := store.Open(ctx, "", w.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range refused {
		if _, err := db.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("refused message %s: %v, want ErrNotFound", id, err)
		}
	}
	for _, id := range admitted {
		if _, err := db.Get(ctx, id); err != nil {
			t.Errorf("admitted message %s: %v", id, err)
		}
	}
}
