package dingtalktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Errors of the stream side.
var (
	// ErrNoConnection means no live websocket is subscribed to the topic.
	ErrNoConnection = errors.New("dingtalktest: no live connection subscribed to the topic")
	// ErrNoAck means a frame was pushed MaxRedeliveries+1 times and never ACKed.
	ErrNoAck = errors.New("dingtalktest: frame never acknowledged")
)

const writeTimeout = 5 * time.Second

// Subscription is one {type, topic} entry of a gateway open call.
type Subscription struct {
	Type  string `json:"type"`
	Topic string `json:"topic"`
}

// OpenRecord is one call of POST /v1.0/gateway/connections/open.
type OpenRecord struct {
	ClientID      string
	UA            string
	LocalIP       string
	Subscriptions []Subscription
	Extras        map[string]string
	// Ticket is the issued ticket; "" when the call was rejected.
	Ticket string
	// Status is the HTTP status answered.
	Status int
	At     time.Time
}

// Pong is the ACK of a SYSTEM ping frame.
type Pong struct {
	ConnectionID string
	MessageID    string
	// Opaque is the opaque value the server sent.
	Opaque string
	// Code is the ACK's code; Data its data (which should echo {"opaque":…}).
	Code int
	Data string
	// Echoed reports whether Data carried the same opaque.
	Echoed bool
	At     time.Time
}

// Ack is one ACK frame received for a pushed frame.
type Ack struct {
	Code         int
	Message      string
	Data         string
	Headers      map[string]string
	ConnectionID string
	At           time.Time
}

type ticket struct {
	issued time.Time
	used   bool
	subs   []Subscription
}

type sysFrame struct {
	topic  string
	opaque string
	connID string
	sent   time.Time
}

// retention is how long finished deliveries and un-ACKed system frames are kept
// for matching late ACKs.
const retention = 10 * time.Minute

// frame is a downstream stream frame. Every header value is a string and data is
// a JSON document encoded as a string, exactly as DingTalk sends them.
type frame struct {
	SpecVersion string            `json:"specVersion"`
	Type        string            `json:"type"`
	Headers     map[string]string `json:"headers"`
	Data        string            `json:"data"`
}

// ackFrame is an upstream ACK.
type ackFrame struct {
	Code    *int              `json:"code"`
	Headers map[string]string `json:"headers"`
	Message string            `json:"message"`
	Data    string            `json:"data"`
}

type wsConn struct {
	id        string
	ws        *websocket.Conn
	subs      []Subscription
	wmu       sync.Mutex
	closeOnce sync.Once
	routable  bool // guarded by Server.mu
	// silent is guarded by Server.mu: the connection is a zombie (see SetSilent).
	silent bool
}

// errSilent means a frame was not written because its connection is silent.
var errSilent = errors.New("dingtalktest: connection is silent")

func (c *wsConn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// closeTCP closes the network connection without a close frame.
func (c *wsConn) closeTCP() { c.closeOnce.Do(func() { _ = c.ws.Close() }) }

func (c *wsConn) subscribed(typ, topic string) bool {
	for _, sub := range c.subs {
		if sub.Type == typ && sub.Topic == topic {
			return true
		}
	}
	return false
}

// ---- gateway ----

func isJSONContentType(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

func (s *Server) handleOpen(w http.ResponseWriter, r *http.Request) {
	rec := OpenRecord{At: time.Now()}
	status, ticketID := s.open(w, r, &rec)
	rec.Status, rec.Ticket = status, ticketID
	s.mu.Lock()
	s.openAttempts++
	if ticketID != "" {
		s.opens++
	}
	s.openRecords = append(s.openRecords, rec)
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *Server) open(w http.ResponseWriter, r *http.Request, rec *OpenRecord) (int, string) {
	s.mu.Lock()
	refuse := s.refuseOpens
	s.mu.Unlock()
	if refuse {
		writeAPIError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
		return http.StatusServiceUnavailable, ""
	}
	if !isJSONContentType(r) {
		writeAPIError(w, http.StatusBadRequest, "body.invalid", "body is mandatory for this action")
		return http.StatusBadRequest, ""
	}
	var req struct {
		ClientID      string            `json:"clientId"`
		ClientSecret  string            `json:"clientSecret"`
		Subscriptions []Subscription    `json:"subscriptions"`
		UA            string            `json:"ua"`
		LocalIP       string            `json:"localIp"`
		Extras        map[string]string `json:"extras"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeAPIError(w, http.StatusBadRequest, "parameter.invalid", "输入参数错误")
		s.logf("gateway open: bad body: %v", err)
		return http.StatusBadRequest, ""
	}
	rec.ClientID, rec.UA, rec.LocalIP = req.ClientID, req.UA, req.LocalIP
	rec.Subscriptions = append([]Subscription(nil), req.Subscriptions...)
	rec.Extras = req.Extras
	if req.ClientID != s.opts.ClientID || req.ClientSecret != s.opts.ClientSecret {
		writeAPIError(w, http.StatusUnauthorized, "InvalidAuthentication", "无效的clientId或者clientSecret")
		s.logf("gateway open: wrong credentials for clientId %q", req.ClientID)
		return http.StatusUnauthorized, ""
	}
	if len(req.Subscriptions) == 0 {
		writeAPIError(w, http.StatusBadRequest, "parameter.invalid", "subscriptions不能为空")
		return http.StatusBadRequest, ""
	}
	for _, sub := range req.Subscriptions {
		switch sub.Type {
		case "SYSTEM", "EVENT", "CALLBACK":
		default:
			writeAPIError(w, http.StatusBadRequest, "parameter.invalid", "不支持的订阅类型: "+sub.Type)
			return http.StatusBadRequest, ""
		}
		if sub.Topic == "" {
			writeAPIError(w, http.StatusBadRequest, "parameter.invalid", "订阅topic不能为空")
			return http.StatusBadRequest, ""
		}
	}
	id := newUUID()
	now := time.Now()
	s.mu.Lock()
	for k, t := range s.tickets { // sweep dead tickets
		if t.used || now.Sub(t.issued) > TicketTTL {
			delete(s.tickets, k)
		}
	}
	s.tickets[id] = &ticket{issued: now, subs: rec.Subscriptions}
	s.mu.Unlock()
	host := r.Host
	if host == "" {
		host = strings.TrimPrefix(s.url, "http://")
	}
	writeJSON(w, http.StatusOK, map[string]string{"endpoint": "ws://" + host + "/connect", "ticket": id})
	s.logf("gateway open: ua=%q localIp=%q subscriptions=%v → ticket %s", req.UA, req.LocalIP, req.Subscriptions, id)
	return http.StatusOK, id
}

func (s *Server) handleConnect(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("ticket")
	now := time.Now()
	s.mu.Lock()
	t := s.tickets[id]
	valid := !s.closed && t != nil && !t.used && now.Sub(t.issued) <= TicketTTL
	var subs []Subscription
	if valid {
		t.used = true
		subs = t.subs
	}
	s.mu.Unlock()
	if !valid {
		s.logf("connect: rejected ticket %q (unknown, used or expired)", id)
		writeAPIError(w, http.StatusUnauthorized, "InvalidAuthentication", "ticket无效或已过期")
		return
	}
	up := websocket.Upgrader{HandshakeTimeout: 10 * time.Second}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		s.logf("connect: upgrade failed: %v", err)
		return
	}
	c := &wsConn{id: newUUID(), ws: ws, subs: subs}
	ws.SetPingHandler(func(appData string) error {
		if s.swallowPings.Load() {
			return nil
		}
		err := ws.WriteControl(websocket.PongMessage, []byte(appData), time.Now().Add(time.Second))
		if err == websocket.ErrCloseSent {
			return nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.closeTCP()
		return
	}
	c.routable = true
	s.conns[c.id] = c
	s.wg.Add(1)
	s.notifyLocked()
	s.mu.Unlock()
	s.logf("connect: connection %s open (ticket %s)", c.id, id)
	s.readLoop(c)
}

func (s *Server) readLoop(c *wsConn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		c.routable = false
		delete(s.conns, c.id)
		s.notifyLocked()
		s.mu.Unlock()
		c.closeTCP()
	}()
	for {
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			s.logf("connection %s closed: %v", c.id, err)
			return
		}
		if mt != websocket.TextMessage {
			s.protoErr("connection %s: non-text frame (type %d)", c.id, mt)
			continue
		}
		s.handleUpstream(c, data)
	}
}

func (s *Server) protoErr(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.protoErrs = append(s.protoErrs, msg)
	s.mu.Unlock()
	s.logf("protocol error: %s", msg)
}

func (s *Server) handleUpstream(c *wsConn, raw []byte) {
	var a ackFrame
	if err := json.Unmarshal(raw, &a); err != nil {
		s.protoErr("connection %s: undecodable frame %q: %v", c.id, raw, err)
		return
	}
	mid := a.Headers["messageId"]
	if a.Code == nil || mid == "" {
		s.protoErr("connection %s: ACK without code or headers.messageId: %s", c.id, raw)
		return
	}
	ack := Ack{Code: *a.Code, Message: a.Message, Data: a.Data, Headers: a.Headers, ConnectionID: c.id, At: time.Now()}
	s.mu.Lock()
	if d := s.pending[mid]; d != nil {
		d.acks = append(d.acks, ack)
		if len(d.acks) == 1 && d.timer != nil {
			d.timer.Stop()
		}
		s.notifyLocked()
		s.mu.Unlock()
		if ack.Code != http.StatusOK {
			s.logf("frame %s (msgId %s) ACKed with code %d %q: not retried", mid, d.msgID, ack.Code, ack.Message)
		}
		return
	}
	sf, ok := s.sysPending[mid]
	if !ok {
		s.mu.Unlock()
		s.protoErr("connection %s: ACK for unknown messageId %q", c.id, mid)
		return
	}
	delete(s.sysPending, mid)
	if sf.topic == "ping" {
		p := Pong{ConnectionID: c.id, MessageID: mid, Opaque: sf.opaque, Code: ack.Code, Data: ack.Data, At: ack.At}
		var echo struct {
			Opaque string `json:"opaque"`
		}
		p.Echoed = json.Unmarshal([]byte(ack.Data), &echo) == nil && echo.Opaque == sf.opaque
		s.pongs = append(s.pongs, p)
		s.notifyLocked()
	}
	s.mu.Unlock()
}

// pickConnLocked picks a random routable connection subscribed to (typ, topic).
func (s *Server) pickConnLocked(typ, topic string) *wsConn {
	var ok []*wsConn
	for _, c := range s.conns {
		if c.routable && c.subscribed(typ, topic) {
			ok = append(ok, c)
		}
	}
	if len(ok) == 0 {
		return nil
	}
	sort.Slice(ok, func(i, j int) bool { return ok[i].id < ok[j].id })
	return ok[rand.IntN(len(ok))]
}

func (s *Server) routableLocked() []*wsConn {
	var out []*wsConn
	for _, c := range s.conns {
		if c.routable {
			out = append(out, c)
		}
	}
	return out
}

func msString(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// sendSystem sends a SYSTEM frame on c and remembers it for its ACK.
func (s *Server) sendSystem(c *wsConn, topic, data, opaque string) error {
	mid := newMessageID()
	b, err := json.Marshal(frame{
		SpecVersion: "1.0",
		Type:        "SYSTEM",
		Headers: map[string]string{
			"topic":       topic,
			"messageId":   mid,
			"contentType": "application/json",
			"time":        msString(time.Now()),
		},
		Data: data,
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	if c.silent {
		s.mu.Unlock()
		return errSilent
	}
	now := time.Now()
	for k, f := range s.sysPending {
		if now.Sub(f.sent) > retention {
			delete(s.sysPending, k)
		}
	}
	s.sysPending[mid] = sysFrame{topic: topic, opaque: opaque, connID: c.id, sent: now}
	s.mu.Unlock()
	return c.write(b)
}

// ---- control ----

// Opens is the number of successful gateway open calls (tickets issued).
func (s *Server) Opens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens
}

// OpenAttempts is the number of gateway open calls, rejected ones included.
func (s *Server) OpenAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.openAttempts
}

// OpenRecords returns every gateway open call, in order.
func (s *Server) OpenRecords() []OpenRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]OpenRecord(nil), s.openRecords...)
}

// SetRefuseOpens makes gateway open calls fail with 503 while refuse is true.
func (s *Server) SetRefuseOpens(refuse bool) {
	s.mu.Lock()
	s.refuseOpens = refuse
	s.mu.Unlock()
}

// SetSwallowPings makes the server ignore websocket ping control frames (no pong)
// while swallow is true, to exercise client keepalive timeouts.
func (s *Server) SetSwallowPings(swallow bool) { s.swallowPings.Store(swallow) }

// SetSilent(true) turns every live connection into a zombie, the failure seen
// in production where a Stream connection stops receiving after a day or two:
// the socket stays open and websocket pings are still answered (unless
// SetSwallowPings), but the server writes nothing more to it, neither SYSTEM
// pings nor disconnect frames nor bot messages. A silent connection stays
// routable, so Send may pick it: Send then succeeds and counts the delivery,
// but the frame is lost, as with DingTalk's fire-and-forget push; if the
// message is never ACKed, the ACK timeout redelivers it like any other frame,
// to a random live connection. Connections opened later are not silent, like
// the fresh connection a client opens to recover. SetSilent(false) makes every
// silent connection speak again. It returns the number of connections changed.
func (s *Server) SetSilent(silent bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conns {
		if c.silent != silent && (c.routable || !silent) {
			c.silent = silent
			n++
		}
	}
	s.notifyLocked()
	return n
}

// SilentConnections is the number of live connections that are silent (SetSilent).
func (s *Server) SilentConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conns {
		if c.silent && c.routable {
			n++
		}
	}
	return n
}

// Connections is the number of live, routable websocket connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.routableLocked())
}

// WaitConnections blocks until at least n live routable connections exist.
func (s *Server) WaitConnections(ctx context.Context, n int) error {
	return s.waitFor(ctx, func() bool { return len(s.routableLocked()) >= n })
}

// Disconnect sends a SYSTEM disconnect frame ({"reason":"connection is expired"})
// to every live connection, stops routing to them at once, and closes their TCP
// connections after DisconnectGrace unless the clients close first. It returns
// the number of connections told.
func (s *Server) Disconnect() int {
	s.mu.Lock()
	conns := s.routableLocked()
	for _, c := range conns {
		c.routable = false
	}
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range conns {
		if err := s.sendSystem(c, "disconnect", `{"reason":"connection is expired"}`, ""); err != nil {
			s.logf("disconnect %s: %v", c.id, err) // a silent connection never hears it
		}
		time.AfterFunc(s.opts.DisconnectGrace, c.closeTCP)
	}
	return len(conns)
}

// DropConnections closes every connection's TCP connection abruptly (no close
// frame, no disconnect frame) and returns how many were dropped.
func (s *Server) DropConnections() int {
	s.mu.Lock()
	conns := make([]*wsConn, 0, len(s.conns))
	for _, c := range s.conns {
		c.routable = false
		conns = append(conns, c)
	}
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range conns {
		c.closeTCP()
	}
	return len(conns)
}

// SendPings sends one SYSTEM ping frame to every live connection now and returns
// how many were sent; silent connections (SetSilent) get none. PingInterval does
// the same periodically.
func (s *Server) SendPings() int {
	s.mu.Lock()
	conns := s.routableLocked()
	s.mu.Unlock()
	n := 0
	for _, c := range conns {
		opaque := newUUID()
		data, _ := json.Marshal(map[string]string{"opaque": opaque})
		if err := s.sendSystem(c, "ping", string(data), opaque); err != nil {
			if !errors.Is(err, errSilent) {
				s.logf("ping %s: %v", c.id, err)
			}
			continue
		}
		n++
	}
	return n
}

func (s *Server) pingLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.SendPings()
		}
	}
}

// Pongs returns the ACKs received for SYSTEM ping frames, in order.
func (s *Server) Pongs() []Pong {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Pong(nil), s.pongs...)
}

// ProtocolErrors lists upstream frames the server could not accept (undecodable
// JSON, ACKs without code or messageId, ACKs for unknown messageIds, binary frames).
func (s *Server) ProtocolErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.protoErrs...)
}

// ---- deliveries ----

// Delivery is one pushed CALLBACK frame and its ACK state. Its methods are safe
// for concurrent use.
type Delivery struct {
	s         *Server
	messageID string
	msgID     string
	typ       string
	topic     string
	data      string
	convID    string
	webhook   string

	// guarded by s.mu
	deliveries   int
	redeliveries int
	acks         []Ack
	exhausted    bool
	timer        *time.Timer
	gen          int
	lastPush     time.Time
}

// MessageID is the frame's headers.messageId (stable across redeliveries).
func (d *Delivery) MessageID() string { return d.messageID }

// MsgID is the bot message's msgId (stable across redeliveries).
func (d *Delivery) MsgID() string { return d.msgID }

// ConversationID is the message's conversationId.
func (d *Delivery) ConversationID() string { return d.convID }

// SessionWebhook is the message's sessionWebhook URL.
func (d *Delivery) SessionWebhook() string { return d.webhook }

// Data is the frame's data: the JSON document of the bot message.
func (d *Delivery) Data() []byte { return []byte(d.data) }

// Deliveries is how many times the frame was pushed, redeliveries included.
func (d *Delivery) Deliveries() int {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	return d.deliveries
}

// Acks returns every ACK received for the frame, in order.
func (d *Delivery) Acks() []Ack {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	return append([]Ack(nil), d.acks...)
}

// AckCode returns the first ACK's code and whether an ACK arrived.
func (d *Delivery) AckCode() (int, bool) {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	if len(d.acks) == 0 {
		return 0, false
	}
	return d.acks[0].Code, true
}

// WaitAck blocks until the first ACK arrives and returns its code. It returns
// ErrNoAck once every redelivery went un-ACKed, or ctx's error.
func (d *Delivery) WaitAck(ctx context.Context) (int, error) {
	err := d.s.waitFor(ctx, func() bool { return len(d.acks) > 0 || d.exhausted })
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	if len(d.acks) > 0 {
		return d.acks[0].Code, nil
	}
	if err == nil {
		err = ErrNoAck
	}
	return 0, err
}

func (d *Delivery) encode(connID string) []byte {
	b, _ := json.Marshal(frame{
		SpecVersion: "1.0",
		Type:        d.typ,
		Headers: map[string]string{
			"appId":        d.s.appID,
			"connectionId": connID,
			"contentType":  "application/json",
			"messageId":    d.messageID,
			"time":         msString(time.Now()),
			"topic":        d.topic,
		},
		Data: d.data,
	})
	return b
}

// deliver pushes d to c and (re)arms its ACK timer while it is un-ACKed.
func (s *Server) deliver(d *Delivery, c *wsConn) {
	s.mu.Lock()
	d.deliveries++
	d.lastPush = time.Now()
	n := d.deliveries
	if len(d.acks) == 0 && !s.closed {
		s.armLocked(d)
	}
	silent := c.silent
	s.mu.Unlock()
	if silent {
		// DingTalk believes it pushed the frame; the zombie connection loses
		// it. Only the ACK timeout's redelivery can save the message.
		s.logf("pushed %s (msgId %s) to silent connection %s, delivery #%d: lost", d.messageID, d.msgID, c.id, n)
		return
	}
	if err := c.write(d.encode(c.id)); err != nil {
		s.logf("push %s (msgId %s) to %s failed: %v", d.messageID, d.msgID, c.id, err)
		return
	}
	s.logf("pushed %s (msgId %s) to %s, delivery #%d", d.messageID, d.msgID, c.id, n)
}

func (s *Server) armLocked(d *Delivery) {
	if d.timer != nil {
		d.timer.Stop()
	}
	d.gen++
	gen := d.gen
	d.timer = time.AfterFunc(s.opts.AckTimeout, func() { s.onAckTimeout(d, gen) })
}

func (s *Server) onAckTimeout(d *Delivery, gen int) {
	if !s.track() {
		return
	}
	defer s.wg.Done()
	s.mu.Lock()
	if s.closed || gen != d.gen || len(d.acks) > 0 {
		s.mu.Unlock()
		return
	}
	if d.redeliveries >= s.opts.MaxRedeliveries {
		d.exhausted = true
		s.notifyLocked()
		s.mu.Unlock()
		s.logf("frame %s (msgId %s) never ACKed after %d deliveries: giving up", d.messageID, d.msgID, d.Deliveries())
		return
	}
	d.redeliveries++
	c := s.pickConnLocked(d.typ, d.topic)
	if c == nil {
		s.armLocked(d)
		s.mu.Unlock()
		s.logf("frame %s un-ACKed, but no live connection to redeliver to", d.messageID)
		return
	}
	s.mu.Unlock()
	s.deliver(d, c)
}

// Redeliver pushes d's frame again right now (same messageId and data, fresh
// time and connectionId) to a random live connection, as DingTalk does when it
// redelivers. It does not count against MaxRedeliveries.
func (s *Server) Redeliver(d *Delivery) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	c := s.pickConnLocked(d.typ, d.topic)
	s.mu.Unlock()
	if c == nil {
		return ErrNoConnection
	}
	s.deliver(d, c)
	return nil
}

// ---- bot messages ----

// Message is a chat message a person sends to the bot.
type Message struct {
	// Text is what the user typed after the @bot mention, e.g.
	// `/newgroup "Release 4.2" @Alice @Bob`.
	Text string
	// SenderID is the sender's userId (senderStaffId); "" is a sender outside the
	// org, whose senderStaffId is omitted.
	SenderID string
	// SenderNick defaults to the directory name, else SenderID.
	SenderNick string
	// Group selects a group chat (conversationType "2") over a 1:1 chat ("1").
	Group bool
	// ConversationID defaults to a stable "cid…" derived from the group title
	// (groups) or the sender (1:1).
	ConversationID string
	// ConversationTitle is the group name; default "dingbot test group".
	ConversationTitle string
	// Mentions are the people @mentioned besides the bot (groups only).
	Mentions []Mention
	// MsgID defaults to a generated "msg…" id.
	MsgID string
}

// Mention is an @mentioned person.
type Mention struct {
	Name string
	// UserID is the userId; "" is a person outside the org (staffId omitted).
	UserID string
}

type botAtUser struct {
	DingtalkID string `json:"dingtalkId"`
	StaffID    string `json:"staffId,omitempty"`
}

type botText struct {
	Content string `json:"content"`
}

// botMessage is the data of a /v1.0/im/bot/messages/get callback, fields in
// DingTalk's order.
type botMessage struct {
	ConversationID            string      `json:"conversationId"`
	AtUsers                   []botAtUser `json:"atUsers,omitempty"`
	ChatbotCorpID             string      `json:"chatbotCorpId"`
	ChatbotUserID             string      `json:"chatbotUserId"`
	MsgID                     string      `json:"msgId"`
	SenderNick                string      `json:"senderNick"`
	IsAdmin                   bool        `json:"isAdmin"`
	SenderStaffID             string      `json:"senderStaffId,omitempty"`
	SessionWebhookExpiredTime int64       `json:"sessionWebhookExpiredTime"`
	CreateAt                  int64       `json:"createAt"`
	SenderCorpID              string      `json:"senderCorpId"`
	ConversationType          string      `json:"conversationType"`
	SenderID                  string      `json:"senderId"`
	ConversationTitle         string      `json:"conversationTitle,omitempty"`
	IsInAtList                bool        `json:"isInAtList"`
	SessionWebhook            string      `json:"sessionWebhook"`
	Text                      botText     `json:"text"`
	RobotCode                 string      `json:"robotCode"`
	Msgtype                   string      `json:"msgtype"`
	SenderPlatform            string      `json:"senderPlatform"`
}

func personKey(userID, name string) string {
	if userID != "" {
		return "user:" + userID
	}
	return "ext:" + name
}

// Send builds the robot-message callback exactly as DingTalk does and pushes it
// to one random live connection subscribed to CALLBACK /v1.0/im/bot/messages/get.
// It returns ErrNoConnection if there is none (DingTalk drops such messages).
// A group message also makes its conversation one the bot is a member of.
func (s *Server) Send(m Message) (*Delivery, error) {
	if !m.Group && len(m.Mentions) > 0 {
		return nil, errors.New("dingtalktest: mentions are only possible in group chats")
	}
	now := time.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	c := s.pickConnLocked("CALLBACK", BotMessageTopic)
	if c == nil {
		s.mu.Unlock()
		return nil, ErrNoConnection
	}
	msg, data, err := s.buildBotMessageLocked(m, now)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	d := &Delivery{
		s:         s,
		messageID: newMessageID(),
		msgID:     msg.MsgID,
		typ:       "CALLBACK",
		topic:     BotMessageTopic,
		data:      string(data),
		convID:    msg.ConversationID,
		webhook:   msg.SessionWebhook,
	}
	for k, old := range s.pending { // forget long-finished deliveries
		if (len(old.acks) > 0 || old.exhausted) && now.Sub(old.lastPush) > retention {
			delete(s.pending, k)
		}
	}
	s.pending[d.messageID] = d
	s.mu.Unlock()
	s.deliver(d, c)
	return d, nil
}

// buildBotMessageLocked builds the robot-message callback data DingTalk sends
// for m at now, in Stream and HTTP mode alike, and registers its session
// webhook (and, for a group, the bot's membership) so replies work. s.mu is held.
func (s *Server) buildBotMessageLocked(m Message, now time.Time) (botMessage, []byte, error) {
	sender, known := s.users[m.SenderID]
	if m.SenderNick == "" {
		switch {
		case known && sender.Name != "":
			m.SenderNick = sender.Name
		case m.SenderID != "":
			m.SenderNick = m.SenderID
		default:
			m.SenderNick = "访客"
		}
	}
	if m.Group && m.ConversationTitle == "" {
		m.ConversationTitle = "dingbot test group"
	}
	if m.ConversationID == "" {
		if m.Group {
			m.ConversationID = conversationID("group:" + m.ConversationTitle)
		} else {
			m.ConversationID = conversationID("oto:" + personKey(m.SenderID, m.SenderNick))
		}
	}
	if m.MsgID == "" {
		m.MsgID = "msg" + opaqueID(newUUID())
	}
	sessID := randHex(32)
	msg := botMessage{
		ConversationID:            m.ConversationID,
		ChatbotCorpID:             s.opts.CorpID,
		ChatbotUserID:             s.botUserID,
		MsgID:                     m.MsgID,
		SenderNick:                m.SenderNick,
		IsAdmin:                   known && sender.Admin,
		SenderStaffID:             m.SenderID,
		SessionWebhookExpiredTime: now.Add(s.opts.SessionTTL).UnixMilli(),
		CreateAt:                  now.UnixMilli(),
		SenderCorpID:              s.opts.CorpID,
		ConversationType:          "1",
		SenderID:                  "$:LWCP_v1:$" + opaqueID(personKey(m.SenderID, m.SenderNick)),
		SessionWebhook:            s.url + "/robot/sendBySession?session=" + sessID,
		Text:                      botText{Content: m.Text},
		RobotCode:                 s.opts.ClientID,
		Msgtype:                   "text",
		SenderPlatform:            "Mac",
	}
	if m.SenderID == "" {
		msg.SenderCorpID = "ding" + randHex(16) // an outsider belongs to another corp
	}
	if m.Group {
		msg.ConversationType = "2"
		msg.ConversationTitle = m.ConversationTitle
		msg.IsInAtList = true
		msg.Text.Content = " " + m.Text
		msg.AtUsers = []botAtUser{{DingtalkID: s.botUserID}}
		for _, at := range m.Mentions {
			msg.AtUsers = append(msg.AtUsers, botAtUser{
				DingtalkID: "$:LWCP_v1:$" + opaqueID(personKey(at.UserID, at.Name)),
				StaffID:    at.UserID,
			})
		}
		s.botGroups[m.ConversationID] = true
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return botMessage{}, nil, err
	}
	for k, old := range s.sessions {
		if now.Sub(old.expires) > retention {
			delete(s.sessions, k)
		}
	}
	s.sessions[sessID] = &session{
		msgID:   m.MsgID,
		convID:  m.ConversationID,
		expires: now.Add(s.opts.SessionTTL),
	}
	return msg, data, nil
}
