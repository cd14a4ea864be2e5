package dingtalktest_test

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
)

// TestSilentConnectionLosesFrames: a silent (zombie) connection stays open and
// routable but receives nothing; what was pushed to it is lost until the ACK
// timeout redelivers it, and SetSilent(false) makes it speak again.
func TestSilentConnectionLosesFrames(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{
		PingInterval:    50 * time.Millisecond,
		AckTimeout:      300 * time.Millisecond,
		MaxRedeliveries: 50,
	})
	h, got := capture()
	startBot(t, srv, h)
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Pongs()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no SYSTEM ping was answered before the silence")
		}
		time.Sleep(10 * time.Millisecond)
	}

	if n := srv.SetSilent(true); n != 1 {
		t.Fatalf("SetSilent(true) = %d, want 1", n)
	}
	if n := srv.SilentConnections(); n != 1 {
		t.Errorf("SilentConnections = %d, want 1", n)
	}
	if n := srv.Connections(); n != 1 {
		t.Errorf("Connections = %d while silent, want 1 (a zombie stays routable)", n)
	}
	time.Sleep(100 * time.Millisecond) // an ACK of a ping sent before the silence may still land
	pongs := len(srv.Pongs())
	if n := srv.SendPings(); n != 0 {
		t.Errorf("SendPings = %d to a silent connection, want 0", n)
	}
	d, err := srv.Send(dingtalktest.Message{Text: "/help", SenderID: "alice"})
	if err != nil {
		t.Fatalf("Send to a silent connection = %v, want nil (the push is fire-and-forget)", err)
	}
	select {
	case m := <-got:
		t.Fatalf("silent connection delivered msgId %q", m.MsgId)
	case <-time.After(time.Second):
	}
	if n := len(srv.Pongs()); n != pongs {
		t.Errorf("%d pongs while silent, want none", n-pongs)
	}
	if _, acked := d.AckCode(); acked {
		t.Error("a frame lost on a silent connection was ACKed")
	}
	if n := d.Deliveries(); n < 2 {
		t.Errorf("Deliveries = %d, want the ACK timeout to have redelivered", n)
	}

	if n := srv.SetSilent(false); n != 1 {
		t.Fatalf("SetSilent(false) = %d, want 1", n)
	}
	m := recv(t, got, 5*time.Second)
	if m.MsgId != d.MsgID() {
		t.Errorf("after the silence the handler got msgId %q, want the redelivered %q", m.MsgId, d.MsgID())
	}
	if code, err := d.WaitAck(testutil.CtxTimeout(t, 5*time.Second)); err != nil || code != 200 {
		t.Errorf("WaitAck = %d, %v; want 200", code, err)
	}
}

// TestSilentConnectionAnswersWebsocketPings: a zombie is invisible to
// websocket-level keepalive, and connections opened later are not silent.
func TestSilentConnectionAnswersWebsocketPings(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	ep, tk := openTicket(t, srv, botSubs)
	c, _, err := websocket.DefaultDialer.Dial(ep+"?ticket="+tk, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pongs := make(chan string, 4)
	frames := make(chan []byte, 4)
	c.SetPongHandler(func(s string) error { pongs <- s; return nil })
	go func() {
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			frames <- b
		}
	}()
	if err := srv.WaitConnections(testutil.CtxTimeout(t, 5*time.Second), 1); err != nil {
		t.Fatal(err)
	}
	if n := srv.SetSilent(true); n != 1 {
		t.Fatalf("SetSilent(true) = %d, want 1", n)
	}
	if err := c.WriteControl(websocket.PingMessage, []byte("z1"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, pongs, 5*time.Second); got != "z1" {
		t.Errorf("pong %q, want z1", got)
	}
	if n := srv.SendPings(); n != 0 {
		t.Errorf("SendPings = %d, want 0", n)
	}

	// A connection opened now is not silent.
	ep2, tk2 := openTicket(t, srv, botSubs)
	c2, _, err := websocket.DefaultDialer.Dial(ep2+"?ticket="+tk2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := srv.WaitConnections(testutil.CtxTimeout(t, 5*time.Second), 2); err != nil {
		t.Fatal(err)
	}
	if n := srv.SilentConnections(); n != 1 {
		t.Errorf("SilentConnections = %d, want 1", n)
	}
	if n := srv.SendPings(); n != 1 {
		t.Errorf("SendPings = %d, want 1 (the new connection)", n)
	}
	_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, b, err := c2.ReadMessage(); err != nil {
		t.Errorf("new connection got no ping: %v", err)
	} else if len(b) == 0 {
		t.Error("empty frame")
	}
	select {
	case b := <-frames:
		t.Errorf("silent connection received %s", b)
	case <-time.After(200 * time.Millisecond):
	}
}
