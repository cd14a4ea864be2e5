package dingtalktest

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

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
