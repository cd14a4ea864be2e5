// This file runs one message through the pipeline, the same for every
// command: the command language, the access policy (a middleware for plans
// that ask for it), people look-ups (for plans that name people), and the
// command's own Run through an Env.

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

// process runs one message: interpret, admit, look people up, run the
// command. It does not reply; the caller records the outcome first.
func (b *Bot) process(ctx context.Context, item *store.Item, msg Message) (r result) {
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("command panicked", "msg_id", msg.MsgID, "panic", p)
			r = result{reply: b.lang.FailedReply(nil, errors.New("internal error")), state: store.Failed, outcome: outcomeInternal}
		}
	}()
	log := b.log.With("msg_id", msg.MsgID, "conversation", msg.ConversationID, "sender", msg.SenderStaffID)
	if f, ok := followUpOf(msg); ok {
		return b.runFollowUp(ctx, &env{b: b, item: item, msg: msg, log: log.With("follow_up", f.Step)}, f)
	}
	if msg.MsgType != "" && msg.MsgType != "text" {
		return result{reply: b.lang.NonTextReply(b.lang.DefaultLang()), state: store.Done, outcome: outcomeAnswered}
	}
	if b.admins != nil && msg.IsAdmin {
		msg.IsAdmin = b.verifiedAdmin(ctx, log, msg.SenderStaffID)
	}
	action := b.lang.Interpret(b.commandMessage(msg))
	if g, ok := action.Plan.(commands.Guarded); ok {
		if denied := b.admit(ctx, log, msg, g); denied != nil {
			return *denied
		}
	}
	var lookupErr error // a failed look-up, for the audit
	if pp, ok := action.Plan.(commands.PeoplePlan); ok && len(pp.PendingPeople()) > 0 {
		lookups := b.people.resolve(ctx, pp.PendingPeople())
		action = b.lang.Complete(pp, lookups)
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
	case action.Reply != nil:
		return result{reply: *action.Reply, state: store.Done, outcome: outcomeAnswered, err: lookupErr}
	case action.Plan != nil:
		cmd := b.lang.Command(action.Plan.Command())
		if cmd == nil || cmd.Run == nil {
			break
		}
		env := &env{b: b, item: item, msg: msg, log: log}
		r := resultOf(cmd.Run(ctx, env, action.Plan))
		r.command = cmd.Name
		return r
	}
	log.Error("command language returned no action")
	return result{reply: b.lang.FailedReply(nil, errors.New("no action")), state: store.Failed, outcome: outcomeInternal}
}

// resultOf is the pipeline's record of what a command's Run decided.
func resultOf(r commands.Result) result {
	res := result{reply: r.Reply, outcome: string(r.Outcome), release: r.Release, err: r.Err, group: r.Group, change: r.Change,
		followUps: r.FollowUps}
	switch r.Outcome {
	case commands.OutcomeRefused, commands.OutcomeInternal:
		res.state = store.Failed
	case commands.OutcomeUnknown:
		res.state = store.Unknown
	default:
		res.state = store.Done
	}
	if r.Group != nil {
		res.openConversationID, res.chatID = r.Group.OpenConversationID, r.Group.ChatID
	}
	return res
}

func (b *Bot) commandMessage(msg Message) commands.Message {
	return commands.Message{
		MsgID:          msg.MsgID,
		ConversationID: msg.ConversationID,
		Text:           msg.Text,
		SenderStaffID:  msg.SenderStaffID,
		SenderNick:     msg.SenderNick,
		Group:          msg.Group,
		BotUserID:      msg.BotUserID,
		Mentions:       msg.Mentions,
	}
}

// isAdmin reports whether the sender of msg is an admin for commands that
// ask (e.g. /groups --all): an organisation admin by DingTalk's isAdmin
// (verified in HTTP mode), or an admin of the access policy (access.admins).
// Reading is no create, so DingTalk's flag counts even without
// trust_dingtalk_admins, which governs the access rules.
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
