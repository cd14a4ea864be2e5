// This file runs one message through the command language, the access
// policy and people look-ups to the command's executor.

package bot

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// process runs one message: interpret, look people up, call DingTalk. It
// does not reply; the caller records the outcome first.
func (b *Bot) process(ctx context.Context, item *store.Item, msg Message) (r result) {
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("command panicked", "msg_id", msg.MsgID, "panic", p)
			r = result{reply: b.lang.FailedReply(nil, errors.New("internal error")), state: store.Failed, outcome: outcomeInternal}
		}
	}()
	log := b.log.With("msg_id", msg.MsgID, "conversation", msg.ConversationID, "sender", msg.SenderStaffID)
	if msg.MsgType != "" && msg.MsgType != "text" {
		return result{reply: b.lang.NonTextReply(b.lang.DefaultLang()), state: store.Done, outcome: outcomeAnswered}
	}
	if b.admins != nil && msg.IsAdmin {
		msg.IsAdmin = b.verifiedAdmin(ctx, log, msg.SenderStaffID)
	}
	action := b.lang.Interpret(b.commandMessage(msg))
	if cg := action.CreateGroup; cg != nil {
		if denied := b.admit(ctx, log, msg, cg); denied != nil {
			return *denied
		}
	}
	var lookupErr error // a failed look-up, for the audit
	if cg := action.CreateGroup; cg != nil && len(cg.Pending) > 0 {
		lookups := b.people.resolve(ctx, cg.Pending)
		action = b.lang.Complete(cg, lookups)
		if ctx.Err() != nil {
			return result{release: true}
		}
		for _, lk := range lookups {
			if lk.Err != nil && lookupErr == nil {
				lookupErr = lk.Err
			}
		}
	}
	switch {
	case action.CreateGroup != nil:
		return b.createGroup(ctx, log, item, msg, action.CreateGroup)
	case action.ListGroups != nil:
		return b.listGroups(ctx, log, msg, action.ListGroups)
	case action.Reply != nil:
		return result{reply: *action.Reply, state: store.Done, outcome: outcomeAnswered, err: lookupErr}
	}
	log.Error("command language returned no action")
	return result{reply: b.lang.FailedReply(nil, errors.New("no action")), state: store.Failed, outcome: outcomeInternal}
}

func (b *Bot) commandMessage(msg Message) commands.Message {
	return commands.Message{
		Text:          msg.Text,
		SenderStaffID: msg.SenderStaffID,
		SenderNick:    msg.SenderNick,
		Group:         msg.Group,
		BotUserID:     msg.BotUserID,
		Mentions:      msg.Mentions,
	}
}

// isAdmin reports whether the sender of msg may read everyone's groups
// (/groups --all): an organisation admin by DingTalk's isAdmin, or an admin of
// the access policy (access.admins). Listing is a read, so DingTalk's flag
// counts even without trust_dingtalk_admins, which governs creating.
func (b *Bot) isAdmin(msg Message) bool {
	id := strings.TrimSpace(msg.SenderStaffID)
	if id == "" {
		return false
	}
	return msg.IsAdmin || (b.access != nil && b.access.Admin(id, msg.IsAdmin))
}

// verifiedAdmin looks up whether userID is an organisation admin, for a
// message that claims so (VerifyAdmin). A failed look-up counts as no: the
// claim cannot be checked, so it is not believed.
func (b *Bot) verifiedAdmin(ctx context.Context, log *slog.Logger, userID string) bool {
	userID = strings.TrimSpace(userID)
	if userID == "" {
		return false
	}
	if admin, ok := b.admins.get(userID); ok {
		return admin
	}
	u, err := b.dt.GetUser(ctx, userID)
	switch {
	case errors.Is(err, dingclient.ErrUserNotFound):
		b.admins.put(userID, false)
		return false
	case err != nil:
		log.Warn("cannot verify the sender's isAdmin; treating them as no admin", "error", err.Error())
		return false
	}
	if !u.Admin {
		log.Warn("a message claimed isAdmin for a sender who is no admin", "sender", userID)
	}
	b.admins.put(userID, u.Admin)
	return u.Admin
}
