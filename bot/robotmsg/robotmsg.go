// Package robotmsg converts DingTalk's robot message callback — the JSON
// document DingTalk sends on the Stream topic /v1.0/im/bot/messages/get and
// POSTs to the HTTP callback URL, with the same fields in both modes — into
// the core's transport-independent bot.Message. Both transport adapters
// (bot/stream and bot/callback) call FromCallback, so a message means the same
// thing whichever way it arrived. The core does not depend on this package.
package robotmsg

import (
	"strings"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/commands"
)

// FromCallback converts the SDK's callback model to a bot.Message. A nil
// model gives the zero Message.
//
// The text is text.content. One of DingTalk's documentation examples (the
// HTTP-mode sample) puts it in a top-level "content" string instead, so a text
// message without text.content falls back to that string. For other message
// types "content" is an object (e.g. a picture's download code) and is not text.
func FromCallback(data *chatbot.BotCallbackDataModel) bot.Message {
	if data == nil {
		return bot.Message{}
	}
	msg := bot.Message{
		MsgID:          data.MsgId,
		ConversationID: data.ConversationId,
		Group:          data.ConversationType == "2",
		SenderStaffID:  data.SenderStaffId,
		SenderNick:     data.SenderNick,
		IsAdmin:        data.IsAdmin,
		BotUserID:      data.ChatbotUserId,
		MsgType:        data.Msgtype,
		Text:           data.Text.Content,
		SessionWebhook: data.SessionWebhook,
	}
	if msg.Text == "" && (msg.MsgType == "" || msg.MsgType == "text") {
		if s, ok := data.Content.(string); ok && strings.TrimSpace(s) != "" {
			msg.Text = s
			msg.MsgType = "text"
		}
	}
	if data.SessionWebhookExpiredTime > 0 {
		msg.SessionExpires = time.UnixMilli(data.SessionWebhookExpiredTime)
	}
	for _, u := range data.AtUsers {
		msg.Mentions = append(msg.Mentions, commands.Mention{DingtalkID: u.DingtalkId, StaffID: u.StaffId})
	}
	return msg
}
