// This file is /groups' executor: it reads the groups created through the bot.

package bot

import (
	"context"
	"log/slog"

	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/store"
)

// listGroups answers /groups: one page of the groups the sender created
// (or, with --all and only for admins, everyone's), newest first.
func (b *Bot) listGroups(ctx context.Context, log *slog.Logger, msg Message, lg *commands.ListGroups) result {
	if lg.All && !b.isAdmin(msg) {
		return result{reply: b.lang.GroupsAdminOnlyReply(lg), state: store.Done, outcome: outcomeAnswered}
	}
	sender := lg.Sender
	if lg.All {
		sender = ""
	}
	total, err := b.store.CountGroups(ctx, sender)
	var groups []store.Group
	if err == nil && total > lg.Offset() {
		groups, err = b.store.Groups(ctx, store.GroupFilter{Sender: sender, Limit: commands.GroupsPerPage, Offset: lg.Offset()})
	}
	if err != nil {
		if ctx.Err() != nil {
			return result{release: true}
		}
		log.Error("reading the groups audit failed", "error", err.Error())
		return result{reply: b.lang.GroupsFailedReply(lg), state: store.Failed, outcome: outcomeInternal}
	}
	page := commands.GroupsPage{Total: total}
	for _, g := range groups {
		page.Groups = append(page.Groups, commands.GroupSummary{Name: g.Name, OpenConversationID: g.OpenConversationID,
			Creator: g.Sender, Members: len(g.Members), CreatedAt: g.CreatedAt})
	}
	return result{reply: b.lang.GroupsReply(lg, page), state: store.Done, outcome: outcomeAnswered}
}
