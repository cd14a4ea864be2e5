// This file is /newgroup's executor: it creates the group in DingTalk.

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

// createGroup waits for the create rate limit, marks the item as calling
// (from here on a crash means "unknown", never a retry), creates the group
// with the first MaxMembersPerCreate members (the owner is first) and adds the
// rest through the group-update API.
func (b *Bot) createGroup(ctx context.Context, log *slog.Logger, item *store.Item, msg Message, cg *commands.CreateGroup) result {
	waitStart := time.Now()
	err := b.limiter.Wait(ctx)
	b.metrics.rateLimitWait("group.create", time.Since(waitStart))
	if err != nil {
		return result{release: true}
	}
	if err := b.store.MarkCalling(ctx, item.MsgID, b.owner, b.now()); err != nil {
		if ctx.Err() != nil {
			return result{release: true}
		}
		log.Error("cannot mark the command as calling; not calling DingTalk", "error", err.Error())
		return result{release: true}
	}
	req := cg.Request
	var rest []string
	if len(req.UserIDs) > MaxMembersPerCreate {
		req.UserIDs, rest = req.UserIDs[:MaxMembersPerCreate], req.UserIDs[MaxMembersPerCreate:]
	}
	resp, err := b.dt.CreateGroup(ctx, &req)
	if err != nil {
		outcome, state := outcomeRefused, store.Failed
		var unknown *dingclient.OutcomeUnknownError
		if errors.As(err, &unknown) || ctx.Err() != nil {
			outcome, state = outcomeUnknown, store.Unknown
		}
		log.Warn("group create failed", "name", req.Name, "outcome", outcome, "error", err.Error())
		return result{reply: b.lang.FailedReply(cg, err), state: state, outcome: outcome, err: err}
	}
	group := &store.Group{
		MsgID: item.MsgID, OpenConversationID: resp.OpenConversationID, ChatID: resp.ChatID,
		Name: req.Name, Owner: req.Owner, Members: cg.Request.UserIDs, Sender: msg.SenderStaffID,
		ConversationID: msg.ConversationID, CreatedAt: b.now(),
	}
	var notAdded []string
	if len(rest) > 0 {
		notAdded, err = b.dt.AddGroupMembers(ctx, resp.ChatID, rest)
		if err != nil {
			log.Warn("adding members beyond the first 40 failed", "chatid", resp.ChatID, "not_added", len(notAdded), "error", err.Error())
		}
	}
	log.Info("group created", "name", req.Name, "open_conversation_id", resp.OpenConversationID,
		"chatid", resp.ChatID, "owner", req.Owner, "members", len(cg.Request.UserIDs), "not_added", len(notAdded))
	return result{reply: b.lang.CreatedReply(cg, resp, notAdded), state: store.Done, outcome: outcomeCreated,
		openConversationID: resp.OpenConversationID, chatID: resp.ChatID, err: err, group: group}
}
