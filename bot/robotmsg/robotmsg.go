// Package robotmsg converts DingTalk's robot message callback — the JSON
// document DingTalk sends on the Stream topic /v1.0/im/bot/messages/get and
// POSTs to the HTTP callback URL, with the same fields in both modes — into
// the core's transport-independent bot.Message. Both transport adapters
// (bot/stream and bot/callback) call FromCallback, so a message means the same
// thing whichever way it arrived. The core does not depend on this package.
package robotmsg

import (
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
//
// A richText message (what DingTalk clients send for text with formatting, a
// line break or a pasted picture) whose parts hold text is read as a text
// message: MsgType "text" and the text of its parts (see richTextContent), so
// a command in it works as if typed plainly. A richText without text (only
// pictures) keeps its msgtype. Voice messages (audio) are never text, even
// with DingTalk's speech recognition in content.recognition: the bot does not
// act on a guess at what was said.
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
	if msg.Text == "" && msg.MsgType == msgTypeRichText {
		if text := richTextContent(data.Content, msg.Group); text != "" {
			msg.Text = text
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

// msgTypeRichText is the msgtype of a message mixing text with formatting,
// line breaks or pictures.
const msgTypeRichText = "richText"

// richTextContent returns the text of a richText message's content,
// {"richText":[{"text":"…"},{"type":"picture","downloadCode":"…"},…]} (the
// SDK decodes it to a map; a JSON string of the same is accepted too), or ""
// if it holds no text.
//
// DingTalk splits the text into parts wherever a mention picked from the @
// list, a change of formatting or an edit starts or ends, often in the middle
// of a phrase (a captured callback: "@小白" "给" "@释心" "发个消息“" "你12好" "”"),
// and a part carries its own line break when the user typed one. So the text
// parts are joined as they are, in order, with two exceptions:
//   - a part that starts with @ is a mention picked from the list: it is kept
//     apart from the text around it by a space (DingTalk drops the space after
//     such a mention in richText, though not in text messages);
//   - a picture (or any other part without text) ends a line: the text on
//     either side is separated by a line break. Pictures are otherwise ignored.
//
// Unlike text messages, where DingTalk removes the bot's own @mention from
// the text, richText keeps it: in a group, an @mention before the first word
// that starts with a slash ("@dingbot /newgroup …") is dropped, so the text
// starts with the command.
func richTextContent(content any, group bool) string {
	if s, ok := content.(string); ok {
		var decoded any
		if json.Unmarshal([]byte(s), &decoded) != nil {
			return ""
		}
		content = decoded
	}
	obj, _ := content.(map[string]any)
	parts, _ := obj["richText"].([]any)
	var b strings.Builder
	lineBreak, afterMention := false, false
	for _, p := range parts {
		part, _ := p.(map[string]any)
		typ, _ := part["type"].(string)
		text, isText := part["text"].(string)
		if !isText || (typ != "" && typ != "text") {
			// A picture, or a part of a kind not known to carry text.
			lineBreak = b.Len() > 0
			continue
		}
		if text == "" {
			continue
		}
		mention := strings.HasPrefix(text, "@") && len(text) > 1
		if b.Len() > 0 && !endsWithSpace(b.String()) && !startsWithSpace(text) {
			switch {
			case lineBreak:
				b.WriteByte('\n')
			case mention || afterMention:
				b.WriteByte(' ')
			}
		}
		lineBreak, afterMention = false, mention
		b.WriteString(text)
	}
	text := b.String()
	if group {
		text = dropLeadingMention(text)
	}
	if strings.TrimSpace(text) == "" {
		return ""
	}
	return text
}

// dropLeadingMention drops an @mention (of the bot) before the first word
// that starts with a slash, if the text starts with one.
func dropLeadingMention(text string) string {
	trimmed := strings.TrimLeftFunc(text, unicode.IsSpace)
	if !strings.HasPrefix(trimmed, "@") {
		return text
	}
	prevSpace := false
	for i, r := range trimmed {
		if prevSpace && (r == '/' || r == '／') {
			return trimmed[i:]
		}
		prevSpace = unicode.IsSpace(r)
	}
	return text
}

func startsWithSpace(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

func endsWithSpace(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsSpace(r)
}
