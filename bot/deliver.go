// This file posts replies: through the message's session webhook while it
// lives and is DingTalk's own, else through the robot send APIs.

package bot

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// deliver posts an item's reply once: the store's reply state makes sure no
// two processes post it at the same time and a delivered reply is not repeated.
func (b *Bot) deliver(item *store.Item, msg Message) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok, err := b.store.SetReplyState(ctx, item.MsgID, store.ReplySending, b.now())
	if err != nil || !ok {
		if err != nil {
			b.log.Error("reply bookkeeping failed", "msg_id", item.MsgID, "error", err.Error())
		}
		return
	}
	b.post(item, msg)
}

// post posts an item's reply, whose reply state is ReplySending, and
// records whether it arrived.
func (b *Bot) post(item *store.Item, msg Message) {
	ctx, cancel := context.WithTimeout(withLogAttrs(context.Background(), slog.String("msg_id", item.MsgID)), 30*time.Second)
	defer cancel()
	text := item.Reply
	if _, ok := followUpOf(msg); ok && text == "" {
		// A follow-up step that went well says nothing.
		if _, err := b.store.SetReplyState(ctx, item.MsgID, store.ReplySent, b.now()); err != nil {
			b.log.Error("reply bookkeeping failed", "msg_id", item.MsgID, "error", err.Error())
		}
		return
	}
	rep := commands.Reply{Text: text, Title: item.ReplyTitle}
	if text == "" {
		rep = commands.Reply{Text: b.interruptedReply(msg)}
	}
	via, err := b.reply(ctx, msg, rep)
	state := store.ReplySent
	if err != nil {
		state = store.ReplyFailed
	}
	if _, serr := b.store.SetReplyState(ctx, item.MsgID, state, b.now()); serr != nil {
		b.log.Error("reply bookkeeping failed", "msg_id", item.MsgID, "error", serr.Error())
	}
	b.log.Info("replied", "msg_id", item.MsgID, "state", item.State, "via", via, "reply_error", errText(err))
}

// interruptedReply tells the user that a command's DingTalk call was cut off
// by a dead process: it may have taken effect, so they must check before
// trying again.
func (b *Bot) interruptedReply(msg Message) string {
	act := b.lang.Interpret(b.commandMessage(msg))
	return b.lang.FailedReply(act.Plan, context.Canceled).Text
}

// Reply paths, the label values of dingbot_replies_total.
const (
	viaSession  = "session_webhook"
	viaGroupAPI = "robot_group_api"
	viaUserAPI  = "robot_oto_api"
	viaNone     = "none"
)

// reply posts rep (plain text, or markdown when it has a Title) to the
// message's session webhook and falls back to the robot send APIs when the
// session has expired or DingTalk no longer knows it.
// Other webhook failures are not retried through the API, because the first
// post may have been delivered and a duplicate reply is worse than a logged error.
func (b *Bot) reply(ctx context.Context, msg Message, rep commands.Reply) (string, error) {
	md := rep.Title != ""
	if msg.SessionWebhook != "" && !b.dt.IsSessionWebhook(msg.SessionWebhook) {
		// Not DingTalk's session-reply URL: a forged message wants the reply
		// (group IDs and all) somewhere else. Use the robot API instead.
		b.log.Warn("suspicious session webhook ignored; replying through the robot API",
			"msg_id", msg.MsgID, "conversation", msg.ConversationID, "sender", msg.SenderStaffID,
			"webhook_host", dingclient.WebhookHost(msg.SessionWebhook))
		msg.SessionWebhook = ""
	}
	if msg.SessionWebhook != "" && (msg.SessionExpires.IsZero() || b.now().Before(msg.SessionExpires)) {
		var err error
		if md {
			err = b.dt.ReplyMarkdownBySession(ctx, msg.SessionWebhook, rep.Title, rep.Text)
		} else {
			err = b.dt.ReplyBySession(ctx, msg.SessionWebhook, rep.Text)
		}
		if err == nil || !errors.Is(err, dingclient.ErrSessionGone) {
			b.metrics.reply(viaSession, err)
			return viaSession, err
		}
		b.metrics.reply(viaSession, err)
	}
	if msg.Group {
		var err error
		if md {
			err = b.dt.SendGroupMarkdown(ctx, msg.ConversationID, rep.Title, rep.Text)
		} else {
			err = b.dt.SendGroupText(ctx, msg.ConversationID, rep.Text)
		}
		b.metrics.reply(viaGroupAPI, err)
		return viaGroupAPI, err
	}
	if msg.SenderStaffID == "" {
		err := errors.New("session expired and the sender has no userId to message directly")
		b.metrics.reply(viaNone, err)
		return viaNone, err
	}
	var err error
	if md {
		err = b.dt.SendUserMarkdown(ctx, []string{msg.SenderStaffID}, rep.Title, rep.Text)
	} else {
		err = b.dt.SendUserText(ctx, []string{msg.SenderStaffID}, rep.Text)
	}
	b.metrics.reply(viaUserAPI, err)
	return viaUserAPI, err
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
