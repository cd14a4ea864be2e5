package dingtalktest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/client"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"

	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
)

func newServer(t *testing.T, opts dingtalktest.Options) *dingtalktest.Server {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	srv := dingtalktest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

func newSDK(srv *dingtalktest.Server, id, secret string) *client.StreamClient {
	return client.NewStreamClient(
		client.WithAppCredential(client.NewAppCredentialConfig(id, secret)),
		client.WithOpenApiHost(srv.URL()),
	)
}

// startBot starts the real SDK with a chatbot handler and waits for its connection.
func startBot(t *testing.T, srv *dingtalktest.Server, h chatbot.IChatBotMessageHandler) *client.StreamClient {
	t.Helper()
	cli := newSDK(srv, srv.ClientID(), srv.ClientSecret())
	cli.RegisterChatBotCallbackRouter(h)
	startClient(t, srv, cli)
	return cli
}

func startClient(t *testing.T, srv *dingtalktest.Server, cli *client.StreamClient) {
	t.Helper()
	if err := cli.Start(testutil.CtxTimeout(t, 5*time.Second)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(cli.Close)
	if err := srv.WaitConnections(testutil.CtxTimeout(t, 5*time.Second), 1); err != nil {
		t.Fatalf("WaitConnections: %v", err)
	}
}

// capture is a chatbot handler that forwards every message.
func capture() (chatbot.IChatBotMessageHandler, chan *chatbot.BotCallbackDataModel) {
	ch := make(chan *chatbot.BotCallbackDataModel, 16)
	return func(_ context.Context, d *chatbot.BotCallbackDataModel) ([]byte, error) {
		ch <- d
		return []byte(""), nil
	}, ch
}

func recv[T any](t *testing.T, ch <-chan T, d time.Duration) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		var zero T
		t.Fatalf("nothing received within %v", d)
		return zero
	}
}

func TestGroupMessageModel(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	srv.AddUser(dingtalktest.User{UserID: "alice01", Name: "Alice", Admin: true, Active: true, Visible: true})
	h, got := capture()
	startBot(t, srv, h)

	text := `/newgroup "Release 4.2" @Bob @Eve`
	d, err := srv.Send(dingtalktest.Message{
		Text: text, SenderID: "alice01", Group: true, ConversationTitle: "Ops",
		Mentions: []dingtalktest.Mention{{Name: "Bob", UserID: "bob02"}, {Name: "Eve"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := recv(t, got, 5*time.Second)
	if m.ConversationType != "2" || m.Text.Content != " "+text || !m.IsInAtList || m.ConversationTitle != "Ops" {
		t.Errorf("type/text/isInAtList/title = %q %q %v %q", m.ConversationType, m.Text.Content, m.IsInAtList, m.ConversationTitle)
	}
	if m.MsgId != d.MsgID() || m.ConversationId != d.ConversationID() || !strings.HasPrefix(m.ConversationId, "cid") {
		t.Errorf("msgId %q / conv %q vs delivery %q / %q", m.MsgId, m.ConversationId, d.MsgID(), d.ConversationID())
	}
	if m.SenderStaffId != "alice01" || m.SenderNick != "Alice" || !m.IsAdmin || !strings.HasPrefix(m.SenderId, "$:LWCP_v1:$") {
		t.Errorf("sender = %q %q admin=%v %q", m.SenderStaffId, m.SenderNick, m.IsAdmin, m.SenderId)
	}
	if m.RobotCode != srv.ClientID() || m.ChatbotCorpId != srv.CorpID() || m.SenderCorpId != srv.CorpID() ||
		m.ChatbotUserId != srv.BotUserID() || m.Msgtype != "text" {
		t.Errorf("robotCode/corp/bot/msgtype = %q %q %q %q %q", m.RobotCode, m.ChatbotCorpId, m.SenderCorpId, m.ChatbotUserId, m.Msgtype)
	}
	if want := dingtalktest.DefaultSessionTTL.Milliseconds(); m.SessionWebhookExpiredTime-m.CreateAt != want {
		t.Errorf("session TTL = %d ms, want %d", m.SessionWebhookExpiredTime-m.CreateAt, want)
	}
	if time.Since(time.UnixMilli(m.CreateAt)) > time.Minute {
		t.Errorf("createAt %d is not now", m.CreateAt)
	}
	if !strings.HasPrefix(m.SessionWebhook, srv.URL()+"/robot/sendBySession?session=") {
		t.Errorf("sessionWebhook = %q", m.SessionWebhook)
	}
	if len(m.AtUsers) != 3 || m.AtUsers[0].DingtalkId != srv.BotUserID() || m.AtUsers[0].StaffId != "" ||
		m.AtUsers[1].StaffId != "bob02" || m.AtUsers[2].StaffId != "" || m.AtUsers[2].DingtalkId == "" {
		t.Errorf("atUsers = %+v", m.AtUsers)
	}
	// Raw JSON: staffId key absent for the bot and the outsider.
	var raw struct {
		AtUsers []map[string]any `json:"atUsers"`
	}
	if err := json.Unmarshal(d.Data(), &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.AtUsers[0]["staffId"]; ok {
		t.Error("bot atUser has a staffId key")
	}
	if _, ok := raw.AtUsers[2]["staffId"]; ok {
		t.Error("external atUser has a staffId key")
	}
	code, err := d.WaitAck(testutil.CtxTimeout(t, 5*time.Second))
	if err != nil || code != 200 {
		t.Fatalf("WaitAck = %d, %v", code, err)
	}
}

func TestOneToOneAndExternalModel(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{SessionTTL: time.Minute})
	h, got := capture()
	startBot(t, srv, h)

	d, err := srv.Send(dingtalktest.Message{Text: "/help", SenderID: "bob02", SenderNick: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	m := recv(t, got, 5*time.Second)
	if m.ConversationType != "1" || m.Text.Content != "/help" || m.IsInAtList || m.ConversationTitle != "" || m.AtUsers != nil {
		t.Errorf("1:1 model = %+v", m)
	}
	if m.SessionWebhookExpiredTime-m.CreateAt != time.Minute.Milliseconds() {
		t.Errorf("SessionTTL not applied")
	}
	var raw map[string]any
	_ = json.Unmarshal(d.Data(), &raw)
	for _, k := range []string{"atUsers", "conversationTitle"} {
		if _, ok := raw[k]; ok {
			t.Errorf("1:1 data has %q", k)
		}
	}
	if raw["isInAtList"] != false {
		t.Errorf("isInAtList = %v", raw["isInAtList"])
	}

	// External sender in a group: no senderStaffId key, another corp.
	d2, err := srv.Send(dingtalktest.Message{Text: "hi", SenderNick: "Guest", Group: true})
	if err != nil {
		t.Fatal(err)
	}
	m2 := recv(t, got, 5*time.Second)
	raw = nil
	_ = json.Unmarshal(d2.Data(), &raw)
	if _, ok := raw["senderStaffId"]; ok || m2.SenderStaffId != "" || m2.SenderCorpId == srv.CorpID() {
		t.Errorf("external sender: senderStaffId present=%v corp=%q", ok, m2.SenderCorpId)
	}

	if _, err := srv.Send(dingtalktest.Message{Text: "x", Mentions: []dingtalktest.Mention{{Name: "A"}}}); err == nil {
		t.Error("mentions in a 1:1 chat were accepted")
	}
}

func TestSendWithoutConnection(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	if _, err := srv.Send(dingtalktest.Message{Text: "x"}); !errors.Is(err, dingtalktest.ErrNoConnection) {
		t.Fatalf("err = %v, want ErrNoConnection", err)
	}
}

func TestReplyThroughSDKReplier(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	startBot(t, srv, func(ctx context.Context, d *chatbot.BotCallbackDataModel) ([]byte, error) {
		r := chatbot.NewChatbotReplier()
		if err := r.SimpleReplyText(ctx, d.SessionWebhook, []byte("echo"+d.Text.Content)); err != nil {
			return nil, err
		}
		return nil, r.SimpleReplyMarkdown(ctx, d.SessionWebhook, []byte("T"), []byte("**md**"))
	})
	d, err := srv.Send(dingtalktest.Message{Text: "hello", SenderID: "u1", Group: true})
	if err != nil {
		t.Fatal(err)
	}
	reps, err := srv.WaitReplies(testutil.CtxTimeout(t, 5*time.Second), 2)
	if err != nil {
		t.Fatal(err)
	}
	if r := reps[0]; r.Via != dingtalktest.ViaSession || r.MsgID != d.MsgID() || r.ConversationID != d.ConversationID() ||
		r.MsgType != "text" || r.Text != "echo hello" {
		t.Errorf("reply 0 = %+v", r)
	}
	if r := reps[1]; r.MsgType != "markdown" || r.Title != "T" || r.Text != "**md**" {
		t.Errorf("reply 1 = %+v", r)
	}
	if code, err := d.WaitAck(testutil.CtxTimeout(t, 5*time.Second)); code != 200 || err != nil {
		t.Errorf("ack = %d %v", code, err)
	}
}

type seen struct {
	messageID, msgID string
}

func TestSlowHandlerIsRedelivered(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{AckTimeout: 200 * time.Millisecond, MaxRedeliveries: 1})
	got := make(chan seen, 8)
	var mu sync.Mutex
	calls := 0
	cli := newSDK(srv, srv.ClientID(), srv.ClientSecret())
	cli.RegisterCallbackRouter(payload.BotMessageCallbackTopic, func(ctx context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
		var m chatbot.BotCallbackDataModel
		if err := json.Unmarshal([]byte(df.Data), &m); err != nil {
			return nil, err
		}
		got <- seen{df.GetMessageId(), m.MsgId}
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			time.Sleep(500 * time.Millisecond)
		}
		return payload.NewSuccessDataFrameResponse(), nil
	})
	startClient(t, srv, cli)

	d, err := srv.Send(dingtalktest.Message{Text: "slow", SenderID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := recv(t, got, 5*time.Second), recv(t, got, 5*time.Second)
	if a != b || a.messageID != d.MessageID() || a.msgID != d.MsgID() {
		t.Errorf("redelivery differs: %+v vs %+v (delivery %s/%s)", a, b, d.MessageID(), d.MsgID())
	}
	if code, err := d.WaitAck(testutil.CtxTimeout(t, 5*time.Second)); code != 200 || err != nil {
		t.Errorf("ack = %d %v", code, err)
	}
	if n := d.Deliveries(); n != 2 {
		t.Errorf("Deliveries = %d, want 2", n)
	}
}

func TestHandlerErrorAcks500WithoutRedelivery(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{AckTimeout: 100 * time.Millisecond})
	startBot(t, srv, func(context.Context, *chatbot.BotCallbackDataModel) ([]byte, error) {
		return nil, errors.New("boom")
	})
	d, err := srv.Send(dingtalktest.Message{Text: "x", SenderID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if code, err := d.WaitAck(testutil.CtxTimeout(t, 5*time.Second)); code != 500 || err != nil {
		t.Fatalf("ack = %d %v", code, err)
	}
	time.Sleep(400 * time.Millisecond)
	if n := d.Deliveries(); n != 1 {
		t.Errorf("Deliveries = %d, want 1", n)
	}
	if acks := d.Acks(); len(acks) != 1 || acks[0].Message != "boom" {
		t.Errorf("acks = %+v", acks)
	}
}

func TestManualRedeliver(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	h, got := capture()
	startBot(t, srv, h)
	d, err := srv.Send(dingtalktest.Message{Text: "x", SenderID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	first := recv(t, got, 5*time.Second)
	if err := srv.Redeliver(d); err != nil {
		t.Fatal(err)
	}
	second := recv(t, got, 5*time.Second)
	if first.MsgId != second.MsgId || d.Deliveries() != 2 {
		t.Errorf("redeliver: %q vs %q, deliveries %d", first.MsgId, second.MsgId, d.Deliveries())
	}
}

func TestDisconnectReconnectsWithNewTicket(t *testing.T) {
	if testing.Short() {
		t.Skip("SDK reconnect backoff is 3-3.6s")
	}
	srv := newServer(t, dingtalktest.Options{})
	h, got := capture()
	startBot(t, srv, h)
	if n := srv.Disconnect(); n != 1 {
		t.Fatalf("Disconnect told %d connections", n)
	}
	if n := srv.Connections(); n != 0 {
		t.Errorf("Connections after Disconnect = %d, want 0", n)
	}
	if _, err := srv.Send(dingtalktest.Message{Text: "lost"}); !errors.Is(err, dingtalktest.ErrNoConnection) {
		t.Errorf("Send during disconnect: %v", err)
	}
	if err := srv.WaitConnections(testutil.CtxTimeout(t, 10*time.Second), 1); err != nil {
		t.Fatalf("no reconnect: %v", err)
	}
	recs := srv.OpenRecords()
	if srv.Opens() != 2 || len(recs) != 2 || recs[0].Ticket == recs[1].Ticket {
		t.Fatalf("opens = %d records %+v", srv.Opens(), recs)
	}
	if recs[1].UA == "" || len(recs[1].Subscriptions) != 3 {
		t.Errorf("open record = %+v", recs[1])
	}
	if _, err := srv.Send(dingtalktest.Message{Text: "after", SenderID: "u1"}); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, got, 5*time.Second); m.Text.Content != "after" {
		t.Errorf("got %q", m.Text.Content)
	}
}

func TestDropConnectionsReconnects(t *testing.T) {
	if testing.Short() {
		t.Skip("SDK reconnect backoff is 3-3.6s")
	}
	srv := newServer(t, dingtalktest.Options{})
	h, got := capture()
	startBot(t, srv, h)
	if n := srv.DropConnections(); n != 1 {
		t.Fatalf("dropped %d", n)
	}
	if err := srv.WaitConnections(testutil.CtxTimeout(t, 10*time.Second), 1); err != nil {
		t.Fatalf("no reconnect: %v", err)
	}
	if srv.Opens() != 2 {
		t.Errorf("Opens = %d", srv.Opens())
	}
	if _, err := srv.Send(dingtalktest.Message{Text: "again", SenderID: "u1"}); err != nil {
		t.Fatal(err)
	}
	recv(t, got, 5*time.Second)
}

func TestWrongCredentialsStartFails(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	cli := newSDK(srv, srv.ClientID(), "wrong")
	h, _ := capture()
	cli.RegisterChatBotCallbackRouter(h)
	defer cli.Close()
	err := cli.Start(testutil.CtxTimeout(t, 5*time.Second))
	if err == nil || !strings.Contains(err.Error(), "InvalidAuthentication") {
		t.Fatalf("Start = %v, want InvalidAuthentication", err)
	}
	if srv.Opens() != 0 || srv.OpenAttempts() != 1 || srv.OpenRecords()[0].Status != 401 {
		t.Errorf("opens %d attempts %d", srv.Opens(), srv.OpenAttempts())
	}
}

func TestRefuseOpens(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	srv.SetRefuseOpens(true)
	cli := newSDK(srv, srv.ClientID(), srv.ClientSecret())
	h, _ := capture()
	cli.RegisterChatBotCallbackRouter(h)
	defer cli.Close()
	if err := cli.Start(testutil.CtxTimeout(t, 5*time.Second)); err == nil {
		t.Fatal("Start succeeded while opens are refused")
	}
	srv.SetRefuseOpens(false)
	if err := cli.Start(testutil.CtxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
}

// openTicket performs the gateway open call by hand.
func openTicket(t *testing.T, srv *dingtalktest.Server, subs string) (endpoint, ticket string) {
	t.Helper()
	body := `{"clientId":"` + srv.ClientID() + `","clientSecret":"` + srv.ClientSecret() + `","subscriptions":` + subs + `,"ua":"test","localIp":""}`
	resp, err := http.Post(srv.URL()+"/v1.0/gateway/connections/open", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json;charset=utf-8" {
		t.Fatalf("open: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var out struct{ Endpoint, Ticket string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Endpoint, out.Ticket
}

const botSubs = `[{"type":"CALLBACK","topic":"/v1.0/im/bot/messages/get"},{"type":"SYSTEM","topic":"ping"}]`

func TestTicketsAreSingleUse(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	ep, tk := openTicket(t, srv, botSubs)
	if !strings.HasPrefix(ep, "ws://127.0.0.1:") || !strings.HasSuffix(ep, "/connect") {
		t.Errorf("endpoint = %q", ep)
	}
	c, _, err := websocket.DefaultDialer.Dial(ep+"?ticket="+tk, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, bad := range []string{tk, "nope"} {
		_, resp, err := websocket.DefaultDialer.Dial(ep+"?ticket="+bad, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("ticket %q: err=%v resp=%v", bad, err, resp)
		}
	}
}

func TestGatewayOpenValidation(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	for name, tc := range map[string]struct {
		body   string
		status int
		code   string
	}{
		"no subscriptions": {`{"clientId":"dingtestclient","clientSecret":"testsecret","subscriptions":[]}`, 400, "parameter.invalid"},
		"bad type":         {`{"clientId":"dingtestclient","clientSecret":"testsecret","subscriptions":[{"type":"FOO","topic":"x"}]}`, 400, "parameter.invalid"},
		"wrong secret":     {`{"clientId":"dingtestclient","clientSecret":"x","subscriptions":[{"type":"EVENT","topic":"*"}]}`, 401, "InvalidAuthentication"},
		"not json":         {`clientId=x`, 400, "parameter.invalid"},
	} {
		status, m := do(t, "POST", srv.URL()+"/v1.0/gateway/connections/open", "", "application/json", tc.body)
		if status != tc.status || m["code"] != tc.code || m["requestid"] == "" {
			t.Errorf("%s: %d %v", name, status, m)
		}
	}
}

var messageIDRe = regexp.MustCompile(`^[0-9a-f]+_[0-9a-f]+_[0-9a-f]+_[0-9a-f]+$`)

// TestRawFrameAndExhaustion checks the wire format with a raw client that never
// ACKs, then that redelivery gives up after MaxRedeliveries.
func TestRawFrameAndExhaustion(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{AckTimeout: 100 * time.Millisecond, MaxRedeliveries: 2})
	ep, tk := openTicket(t, srv, botSubs)
	c, _, err := websocket.DefaultDialer.Dial(ep+"?ticket="+tk, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := srv.WaitConnections(testutil.CtxTimeout(t, 5*time.Second), 1); err != nil {
		t.Fatal(err)
	}
	d, err := srv.Send(dingtalktest.Message{Text: "x", SenderID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	var times []string
	for i := 0; i < 3; i++ {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, raw, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			SpecVersion string            `json:"specVersion"`
			Type        string            `json:"type"`
			Headers     map[string]string `json:"headers"` // fails if any value is not a string
			Data        string            `json:"data"`    // fails if not double-encoded
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("frame %s: %v", raw, err)
		}
		h := f.Headers
		if f.SpecVersion != "1.0" || f.Type != "CALLBACK" || h["topic"] != dingtalktest.BotMessageTopic ||
			h["contentType"] != "application/json" || h["messageId"] != d.MessageID() || h["appId"] == "" || h["connectionId"] == "" {
			t.Errorf("frame = %s", raw)
		}
		if !messageIDRe.MatchString(h["messageId"]) {
			t.Errorf("messageId %q", h["messageId"])
		}
		if _, err := strconv.ParseInt(h["time"], 10, 64); err != nil {
			t.Errorf("time %q", h["time"])
		}
		if f.Data != string(d.Data()) {
			t.Errorf("data changed on redelivery")
		}
		times = append(times, h["time"])
	}
	if _, err := d.WaitAck(testutil.CtxTimeout(t, 5*time.Second)); !errors.Is(err, dingtalktest.ErrNoAck) {
		t.Errorf("WaitAck err = %v, want ErrNoAck", err)
	}
	if n := d.Deliveries(); n != 3 {
		t.Errorf("Deliveries = %d, want 3", n)
	}

	// A late ACK by messageId only, with extra headers and "OK", is still accepted.
	ack := `{"code":200,"headers":{"contentType":"application/json","messageId":"` + d.MessageID() + `","topic":"x"},"message":"OK","data":"{\"response\":null}"}`
	if err := c.WriteMessage(websocket.TextMessage, []byte(ack)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if code, ok := d.AckCode(); ok {
			if code != 200 {
				t.Errorf("code %d", code)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("late ACK not recorded")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if errs := srv.ProtocolErrors(); len(errs) != 0 {
		t.Errorf("protocol errors: %v", errs)
	}
}

func TestSystemPingsArePonged(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{PingInterval: 50 * time.Millisecond})
	h, _ := capture()
	startBot(t, srv, h)
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Pongs()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no pongs")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, p := range srv.Pongs() {
		if p.Code != 200 || !p.Echoed || p.Opaque == "" {
			t.Errorf("pong = %+v", p)
		}
	}
}

func TestWebsocketPingsAndSwallow(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	ep, tk := openTicket(t, srv, botSubs)
	c, _, err := websocket.DefaultDialer.Dial(ep+"?ticket="+tk, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pongs := make(chan string, 4)
	c.SetPongHandler(func(s string) error { pongs <- s; return nil })
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	if err := c.WriteControl(websocket.PingMessage, []byte("p1"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, pongs, 5*time.Second); got != "p1" {
		t.Errorf("pong %q", got)
	}
	srv.SetSwallowPings(true)
	if err := c.WriteControl(websocket.PingMessage, []byte("p2"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-pongs:
		t.Errorf("pong %q while swallowing", p)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestConcurrentBurst sends many messages at once to two SDK clients; each is
// delivered to exactly one of them and ACKed.
func TestConcurrentBurst(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{Logf: func(string, ...any) {}})
	var mu sync.Mutex
	counts := map[string]int{}
	h := func(_ context.Context, d *chatbot.BotCallbackDataModel) ([]byte, error) {
		mu.Lock()
		counts[d.MsgId]++
		mu.Unlock()
		return nil, nil
	}
	for i := 0; i < 2; i++ {
		cli := newSDK(srv, srv.ClientID(), srv.ClientSecret())
		cli.RegisterChatBotCallbackRouter(h)
		if err := cli.Start(testutil.CtxTimeout(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cli.Close)
	}
	if err := srv.WaitConnections(testutil.CtxTimeout(t, 5*time.Second), 2); err != nil {
		t.Fatal(err)
	}
	const n = 200
	ds := make([]*dingtalktest.Delivery, n)
	var wg sync.WaitGroup
	for i := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := srv.Send(dingtalktest.Message{Text: "m", SenderID: "u" + strconv.Itoa(i), Group: i%2 == 0})
			if err != nil {
				t.Error(err)
				return
			}
			ds[i] = d
		}()
	}
	wg.Wait()
	for _, d := range ds {
		if d == nil {
			continue
		}
		if code, err := d.WaitAck(testutil.CtxTimeout(t, 10*time.Second)); code != 200 || err != nil {
			t.Fatalf("ack %d %v", code, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(counts) != n {
		t.Errorf("%d distinct messages handled, want %d", len(counts), n)
	}
	for id, c := range counts {
		if c != 1 {
			t.Errorf("%s handled %d times", id, c)
		}
	}
}

// do sends a request and decodes a JSON object answer.
func do(t *testing.T, method, url, token, contentType, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("x-acs-dingtalk-access-token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: undecodable body: %v", method, url, err)
	}
	if resp.StatusCode != 200 && strings.HasPrefix(req.URL.Path, "/v1.0/") {
		if id := resp.Header.Get("x-acs-request-id"); id == "" || (m["requestid"] != "R" && id != m["requestid"]) {
			t.Errorf("x-acs-request-id %q vs requestid %v", id, m["requestid"])
		}
	}
	return resp.StatusCode, m
}
