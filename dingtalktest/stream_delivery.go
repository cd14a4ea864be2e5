package dingtalktest

import (
	"context"
	"encoding/json"
	"time"
)

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
