package commands

import (
	"context"
	"errors"

	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// runNewGroup creates the group a final CreateGroup describes, or, when it
// is worth a second look (confirmReasons), stores it as a preview and asks
// the sender to confirm it (newgroup_preview.go). To create, it waits for
// the create rate limit and marks the command as calling (env.Calling: from
// here on a crash means "unknown", never a retry), creates the group with
// the first MaxMembers members (the owner first) and adds the rest through
// the group-update API.
func runNewGroup(ctx context.Context, env Env, plan Plan) Result {
	cg, ok := plan.(*CreateGroup)
	if !ok || cg == nil || len(cg.Pending) > 0 {
		return Result{Reply: Reply{Text: catalogueFor(plan.ReplyLang()).f(msgInternal)}, Outcome: OutcomeInternal}
	}
	l := env.Language()
	if why := l.confirmReasons(l.cat(l.planLang(cg)), cg, env.Message().SenderStaffID); len(why) > 0 {
		return preview(ctx, env, cg, why)
	}
	return createGroup(ctx, env, cg)
}

// createGroup creates the group of the final cg: the create call (marked
// as calling first), the members beyond the first MaxMembers, the reply
// and the kickoff follow-up. /newgroup runs it at once, /confirm for a
// stored preview.
func createGroup(ctx context.Context, env Env, cg *CreateGroup) Result {
	l := env.Language()
	ctx, err := env.Calling(ctx)
	if err != nil {
		return Result{Release: true}
	}
	log := env.Log()
	req := cg.Request
	var rest []string
	if len(req.UserIDs) > MaxMembers {
		req.UserIDs, rest = req.UserIDs[:MaxMembers], req.UserIDs[MaxMembers:]
	}
	dt := env.DingTalk()
	resp, err := dt.CreateGroup(ctx, &req)
	if err != nil {
		outcome := OutcomeRefused
		var unknown *dingclient.OutcomeUnknownError
		if errors.As(err, &unknown) || ctx.Err() != nil {
			outcome = OutcomeUnknown
		}
		log.Warn("group create failed", "name", req.Name, "outcome", outcome, "error", err.Error())
		return Result{Reply: l.FailedReply(cg, err), Outcome: outcome, Err: err}
	}
	msg := env.Message()
	group := &store.Group{
		MsgID: msg.MsgID, OpenConversationID: resp.OpenConversationID, ChatID: resp.ChatID,
		Name: req.Name, Owner: req.Owner, Members: cg.Request.UserIDs, Sender: msg.SenderStaffID,
		ConversationID: msg.ConversationID, CreatedAt: env.Now(), Template: cg.Template,
	}
	var notAdded []string
	if len(rest) > 0 {
		notAdded, err = dt.AddGroupMembers(ctx, resp.ChatID, rest)
		if err != nil {
			log.Warn("adding members beyond the first 40 failed", "chatid", resp.ChatID, "not_added", len(notAdded), "error", err.Error())
		}
	}
	log.Info("group created", "name", req.Name, "open_conversation_id", resp.OpenConversationID,
		"chatid", resp.ChatID, "owner", req.Owner, "members", len(cg.Request.UserIDs), "not_added", len(notAdded))
	return Result{Reply: l.createdReply(cg, resp, notAdded), Outcome: OutcomeCreated, Err: err, Group: group,
		FollowUps: l.kickoffFollowUp(cg, resp, msg.SenderStaffID, group.CreatedAt)}
}
