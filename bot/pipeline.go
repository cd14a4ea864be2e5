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
		logRefused(log, msg, refusedNonText)
		// No words to tell the language by: the sender's name decides (see commands.Language.NonTextLang).
		return result{reply: b.lang.NonTextReply(b.lang.NonTextLang(msg.SenderNick)), state: store.Done, outcome: outcomeAnswered}
	}
	// The command's deadline (CommandTimeout) covers everything from here to
	// the end of its Run.
	cmdCtx, cancel := context.WithTimeout(ctx, b.cmdTimeout)
	defer cancel()
	var plan commands.Plan
	r = b.command(cmdCtx, item, msg, log, &plan)
	// A command gives its item back (release) when its context ended before
	// it called DingTalk. If the bot is stopping (ctx done) that is right: another
	// worker runs it. If only the command's own time ran out, it is finished:
	// nothing was created, and the sender is told so.
	if r.release && ctx.Err() == nil && cmdCtx.Err() != nil {
		log.Warn("command ran out of time before changing anything in DingTalk", "timeout", b.cmdTimeout)
		return result{reply: b.lang.CommandTimeoutReply(plan, b.cmdTimeout), state: store.Done, outcome: outcomeAnswered,
			err: context.DeadlineExceeded}
	}
	return r
}

// command runs one text message under its deadline (ctx): interpret, bound
// the look-ups, admit, look people up, run. *plan is set to the plan as soon
// as there is one, for a reply about it.
func (b *Bot) command(ctx context.Context, item *store.Item, msg Message, log *slog.Logger, plan *commands.Plan) result {
	action := b.lang.Interpret(b.commandMessage(msg))
	if why := action.Refusal(); why != "" {
		logRefused(log, msg, string(why))
	}
	*plan = action.Plan
	pp, hasPeople := action.Plan.(commands.PeoplePlan)
	var pending []commands.PersonRef
	if hasPeople {
		pending = pp.PendingPeople()
	}
	if n := distinctRefs(pending); n > b.maxLookups {
		// Before anything else, so that such a command costs no DingTalk call.
		logRefused(log, msg, refusedTooManyLookups, "people", n, "max_lookups", b.maxLookups)
		return result{reply: b.lang.TooManyLookupsReply(pp, n, b.maxLookups), state: store.Done, outcome: outcomeAnswered}
	}
	if b.admins != nil && msg.IsAdmin {
		msg.IsAdmin = b.verifiedAdmin(ctx, log, msg.SenderStaffID)
	}
	if g, ok := action.Plan.(commands.Guarded); ok {
		if denied := b.admit(ctx, log, msg, g); denied != nil {
			return *denied
		}
	}
	// A dry run's reply must not invite the sender to send a real command
	// the access policy would refuse: ask the policy about that one too.
	if dry := dryRunOf(action); dry != nil {
		d, stop := b.wouldDeny(ctx, log, msg, dry)
		if stop != nil {
			return *stop
		}
		if d != nil {
			log.Info("dry run of a command the access policy would deny", "rule", string(d.Rule))
			dry = dry.WouldBeDenied(d)
			if action.Plan == nil { // answered at once: answer again
				r := b.lang.DryRunAnswer(dry)
				action = commands.Action{Reply: &r}
			} else if p, ok := dry.(commands.PeoplePlan); ok { // Complete answers it after the look-ups
				action.Plan, pp, *plan = p, p, p
			}
		}
	}
	if len(pending) > 0 {
		lookups := b.people.resolve(ctx, pending)
		if ctx.Err() != nil {
			return result{release: true}
		}
		if last := lookups[len(lookups)-1]; last.Err != nil {
			// resolve stopped at the first failure: the others were not looked up.
			log.Warn("looking a person up failed; the rest were not looked up", "error", last.Err.Error(),
				"looked_up", len(lookups), "pending", len(pending))
			return result{reply: b.lang.LookupFailedReply(pp, last.Ref.Text, last.Err), state: store.Done,
				outcome: outcomeAnswered, err: last.Err}
		}
		action = b.lang.Complete(pp, lookups)
		if action.Plan != nil {
			*plan = action.Plan
		}
	}
	switch {
	case action.Reply != nil:
		return result{reply: *action.Reply, state: store.Done, outcome: outcomeAnswered}
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

// dryRunOf is the dry run action shows or plans, or nil.
func dryRunOf(action commands.Action) commands.DryRunPlan {
	if d := action.DryRun(); d != nil {
		return d
	}
	if d, ok := action.Plan.(commands.DryRunPlan); ok && d.AccessRequest().DryRun {
		return d
	}
	return nil
}

// Why the pipeline turns a message down, as logged (see logRefused) next to
// the command language's reasons (commands.Refusal).
const (
	refusedNonText        = "non_text"         // a picture, a file, a voice message…
	refusedTooManyLookups = "too_many_lookups" // more people to look up than MaxLookups
	refusedDenied         = "denied"           // by the access policy
)

// logRefused logs that msg is turned down and why: reason (non_text,
// not_command, unknown_command, usage_error, too_many_lookups, denied), the
// message's msgtype and attrs. The "replied" line with the same msg_id
// follows once the reply is posted.
func logRefused(log *slog.Logger, msg Message, reason string, attrs ...any) {
	msgType := msg.MsgType
	if msgType == "" {
		msgType = "text"
	}
	log.Info("refused", append([]any{"reason", reason, "msg_type", msgType}, attrs...)...)
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
