package dingtalktest

import (
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
	"time"

	"github.com/gorilla/websocket"
)

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
