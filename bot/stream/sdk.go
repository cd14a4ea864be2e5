package stream

// What the SDK says, made safe to show: its first-connection errors turned
// into one actionable line, and its errors and log lines without the client
// secret or connection tickets.

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
)

// explainStartError turns the SDK's first-connection error into one line an
// admin can act on. The SDK returns a refused gateway call as the raw response
// body, which for DingTalk is {"code","message","requestid"}.
func explainStartError(err error) error {
	var body struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"requestid"`
	}
	if json.Unmarshal([]byte(err.Error()), &body) == nil && body.Code != "" {
		hint := ""
		if strings.Contains(strings.ToLower(body.Code), "auth") || strings.Contains(strings.ToLower(body.Code), "client") {
			hint = "; check DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET"
		}
		return fmt.Errorf("DingTalk refused the Stream connection: %s: %s (requestid %s)%s", body.Code, body.Message, body.RequestID, hint)
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return fmt.Errorf("cannot reach the DingTalk Stream gateway (check DINGTALK_API_URL and the network): %w", err)
	}
	return err
}

// sanitize drops the client secret from SDK errors, which can echo the
// gateway's response, and connection tickets (see redactTickets), which a dial
// error can carry in the websocket URL. Secrets shorter than 8 bytes are not
// real AppSecrets and would match ordinary words.
func sanitize(err error, secret string) error {
	msg := redactTickets(err.Error())
	if len(secret) >= 8 {
		msg = strings.ReplaceAll(msg, secret, "[redacted]")
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// ticketValue matches the value of a Stream connection ticket as the SDK
// writes it: the ticket query parameter of the websocket URL
// (wss://…/connect?ticket=…), "sessionId=[…]" (the SDK's session id is the
// ticket) and the gateway's JSON answer ("ticket":"…", also quoted again
// as \"ticket\":\"…\"). Group 1 is the name and separator, kept; the value
// is what follows, up to a delimiter.
var ticketValue = regexp.MustCompile(`(?i)(\b(?:ticket|session_?id)\\?["']?\s*[=:]\s*\\?["'\[]?)[^\s"'\\\]&#,;}]+`)

// redactTickets replaces every connection ticket in s with [redacted]: a
// ticket opens a websocket that receives the app's chat messages until it is used.
func redactTickets(s string) string {
	return ticketValue.ReplaceAllString(s, "${1}[redacted]")
}

// SDKLogger adapts slog to the SDK's logger interface, for logger.SetLogger.
// Debug lines are dropped: at debug level the SDK dumps the gateway open
// request, client secret included. Connection tickets are redacted from the
// other lines: the SDK logs "connect success, sessionId=[<ticket>]" on every
// connect, and its errors can quote the websocket URL, ?ticket=… included.
func SDKLogger(l *slog.Logger) SDKLog { return SDKLog{l: l.With("component", "stream-sdk")} }

// SDKLog is the SDK logger returned by SDKLogger.
type SDKLog struct{ l *slog.Logger }

// Debugf drops the line (see SDKLogger).
func (SDKLog) Debugf(string, ...any) {}

// Infof logs at info level.
func (s SDKLog) Infof(format string, args ...any) { s.l.Info(sdkLine(format, args)) }

// Warningf logs at warn level.
func (s SDKLog) Warningf(format string, args ...any) { s.l.Warn(sdkLine(format, args)) }

// Errorf logs at warn level: the SDK reports every closed socket as an error,
// even one the supervisor closed on purpose; real failures surface as lost connections.
// The recovered noAck panic is no error of the SDK: it is logged at info.
func (s SDKLog) Errorf(format string, args ...any) {
	line := sdkLine(format, args)
	if strings.Contains(line, noAck) {
		s.l.Info(noAck)
		return
	}
	s.l.Warn(line)
}

// Fatalf logs at error level; it does not exit, the supervisor recovers.
func (s SDKLog) Fatalf(format string, args ...any) { s.l.Error(sdkLine(format, args)) }

// sdkLine formats an SDK log line without its connection tickets.
func sdkLine(format string, args []any) string {
	return redactTickets(fmt.Sprintf(format, args...))
}
