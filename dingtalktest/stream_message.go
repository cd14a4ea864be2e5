package dingtalktest

import (
	"encoding/json"
	"errors"
	"time"
)

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
	// MsgType is the callback's msgtype; "" means "text". For any other type
	// the callback carries Content as its "content" and no "text", e.g.
	// "richText" with Content map[string]any{"richText": []any{
	// map[string]any{"text": "/newgroup Ops"}, map[string]any{"type": "picture",
	// "downloadCode": "…"}}}, or "audio" with {"recognition": "…",
	// "duration": 2000, "downloadCode": "…"}. Text is then not sent.
	MsgType string
	// Content is the "content" of a message that is not text (see MsgType).
	Content any
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
	Text                      *botText    `json:"text,omitempty"`
	Content                   any         `json:"content,omitempty"`
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
		Text:                      &botText{Content: m.Text},
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
	if m.MsgType != "" && m.MsgType != "text" {
		msg.Msgtype, msg.Text, msg.Content = m.MsgType, nil, m.Content
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
