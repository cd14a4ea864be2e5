package dingtalktest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// Reply paths (Reply.Via).
const (
	ViaSession  = "session"   // POST <sessionWebhook>
	ViaGroupAPI = "group_api" // POST /v1.0/robot/groupMessages/send
	ViaOTOAPI   = "oto_api"   // POST /v1.0/robot/oToMessages/batchSend (one Reply per user)
)

// Webhook error codes (HTTP 200, {"errcode","errmsg"}).
const (
	ErrcodeSessionNotFound = 300001
	ErrmsgSessionNotFound  = "session 不存在"
	ErrcodeInvalidParam    = 40035
)

// Reply is a message the bot sent, by any path.
type Reply struct {
	// Via is ViaSession, ViaGroupAPI or ViaOTOAPI.
	Via string
	// ConversationID is the conversation posted to ("" for 1:1 API sends).
	ConversationID string
	// UserID is the recipient of a 1:1 API send.
	UserID string
	// MsgID is the msgId of the message whose session webhook was used ("" for API sends).
	MsgID string
	// MsgKey is the robot API's msgKey (e.g. "sampleText", "sampleMarkdown"); "" for session replies.
	MsgKey string
	// MsgType is "text", "markdown" (session and API), "link" or "image" (API).
	MsgType string
	// Text is text.content, or the markdown/link text.
	Text string
	// Title is the markdown or link title.
	Title string
	// At are at.atUserIds; AtMobiles at.atMobiles; AtAll at.isAtAll.
	At        []string
	AtMobiles []string
	AtAll     bool
	// Raw is the request body as received.
	Raw    []byte
	SentAt time.Time
}

type session struct {
	msgID   string
	convID  string
	expires time.Time
}

func (s *Server) addReply(r Reply) {
	r.SentAt = time.Now()
	r.Raw = append([]byte(nil), r.Raw...)
	s.mu.Lock()
	s.replies = append(s.replies, r)
	s.notifyLocked()
	s.mu.Unlock()
	s.logf("reply via %s to %s%s: %s %q", r.Via, r.ConversationID, r.UserID, r.MsgType, r.Text)
}

// Replies returns every reply recorded so far, in order.
func (s *Server) Replies() []Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Reply(nil), s.replies...)
}

// WaitReplies blocks until at least n replies are recorded and returns them all.
// On ctx expiry it returns the replies so far and ctx's error.
func (s *Server) WaitReplies(ctx context.Context, n int) ([]Reply, error) {
	err := s.waitFor(ctx, func() bool { return len(s.replies) >= n })
	return s.Replies(), err
}

// ExpireSessions makes every existing session webhook expired (errcode 300001);
// messages sent later get fresh sessions.
func (s *Server) ExpireSessions() {
	past := time.Now().Add(-time.Millisecond)
	s.mu.Lock()
	for _, sess := range s.sessions {
		sess.expires = past
	}
	s.mu.Unlock()
}

// FailNextWebhook makes the next session-webhook call answer HTTP status with
// {"errcode":-1,"errmsg":"系统繁忙"} instead of being processed.
func (s *Server) FailNextWebhook(status int) {
	s.FailNextWebhookWith(Response{Status: status})
}

// FailNextWebhookWith queues r for the next session-webhook call. A nil Body
// sends {"errcode":-1,"errmsg":"系统繁忙"}; Status 0 processes the call normally
// after Delay.
func (s *Server) FailNextWebhookWith(r Response) {
	s.mu.Lock()
	s.webhookFails = append(s.webhookFails, r)
	s.mu.Unlock()
}

func writeWebhook(w http.ResponseWriter, errcode int, errmsg string) {
	writeJSON(w, http.StatusOK, map[string]any{"errcode": errcode, "errmsg": errmsg})
}

func (s *Server) handleSessionWebhook(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var fault *Response
	if len(s.webhookFails) > 0 {
		fault = &s.webhookFails[0]
		s.webhookFails = s.webhookFails[1:]
	}
	s.mu.Unlock()
	if fault != nil {
		if fault.Delay > 0 {
			t := time.NewTimer(fault.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			case <-s.done:
				t.Stop()
				panic(http.ErrAbortHandler) // drop the connection, answer nothing
			}
		}
		if fault.Status != 0 {
			body := fault.Body
			if body == nil {
				body = []byte(`{"errcode":-1,"errmsg":"系统繁忙"}`)
			}
			w.Header().Set("Content-Type", "application/json;charset=utf-8")
			w.WriteHeader(fault.Status)
			_, _ = w.Write(body)
			s.logf("session webhook: scripted HTTP %d", fault.Status)
			return
		}
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBodySize))
	if err != nil {
		writeWebhook(w, ErrcodeInvalidParam, "缺少参数 json")
		return
	}
	id := r.URL.Query().Get("session")
	s.mu.Lock()
	sess := s.sessions[id]
	var live bool
	var msgID, convID string
	if sess != nil {
		live = time.Now().Before(sess.expires)
		msgID, convID = sess.msgID, sess.convID
	}
	s.mu.Unlock()
	if !live {
		s.logf("session webhook: session %q unknown or expired", id)
		writeWebhook(w, ErrcodeSessionNotFound, ErrmsgSessionNotFound)
		return
	}

	reply, errmsg := parseWebhookBody(body)
	if errmsg != "" {
		s.logf("session webhook: rejected body %s: %s", body, errmsg)
		writeWebhook(w, ErrcodeInvalidParam, errmsg)
		return
	}
	reply.Via, reply.ConversationID, reply.MsgID, reply.Raw = ViaSession, convID, msgID, body
	s.addReply(reply)
	writeWebhook(w, 0, "ok")
}

// parseWebhookBody validates a webhook message; only text and markdown are accepted.
func parseWebhookBody(body []byte) (Reply, string) {
	var msg struct {
		Msgtype *string `json:"msgtype"`
		Text    *struct {
			Content *string `json:"content"`
		} `json:"text"`
		Markdown *struct {
			Title *string `json:"title"`
			Text  *string `json:"text"`
		} `json:"markdown"`
		At *struct {
			AtUserIDs []string `json:"atUserIds"`
			AtMobiles []string `json:"atMobiles"`
			IsAtAll   bool     `json:"isAtAll"`
		} `json:"at"`
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return Reply{}, "缺少参数 json"
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return Reply{}, "不合法的参数: " + err.Error()
	}
	if msg.Msgtype == nil {
		return Reply{}, "缺少参数 msgtype"
	}
	var rep Reply
	switch *msg.Msgtype {
	case "text":
		if msg.Text == nil || msg.Text.Content == nil || strings.TrimSpace(*msg.Text.Content) == "" {
			return Reply{}, "缺少参数 text.content"
		}
		rep.MsgType, rep.Text = "text", *msg.Text.Content
	case "markdown":
		if msg.Markdown == nil || msg.Markdown.Title == nil || msg.Markdown.Text == nil ||
			strings.TrimSpace(*msg.Markdown.Title) == "" || strings.TrimSpace(*msg.Markdown.Text) == "" {
			return Reply{}, "缺少参数 markdown.title 或 markdown.text"
		}
		rep.MsgType, rep.Title, rep.Text = "markdown", *msg.Markdown.Title, *msg.Markdown.Text
	default:
		return Reply{}, "invalid msgtype: " + *msg.Msgtype
	}
	if msg.At != nil {
		rep.At = msg.At.AtUserIDs
		rep.AtMobiles = msg.At.AtMobiles
		rep.AtAll = msg.At.IsAtAll
	}
	return rep, ""
}
