package dingtalktest

import (
	"errors"
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
