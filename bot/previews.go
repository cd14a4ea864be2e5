// This file looks after the previews /newgroup leaves waiting for a
// /confirm: those nobody answered expire (and the audit says so), and old
// settled ones are pruned with the inbox.

package bot

import (
	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/store"
)

// expiredPreviewPrefix starts the audit msgId of a preview that expired
// unanswered: the audit keeps the /newgroup's own record ("previewed") and
// adds this one.
const expiredPreviewPrefix = followUpPrefix + "expired:"

// expirePreviews moves the previews whose time ran out to expired and
// records each in the audit, once across all replicas.
func (b *Bot) expirePreviews() {
	expired, err := b.store.ExpirePreviews(b.work, b.now())
	if err != nil {
		if b.work.Err() == nil {
			b.log.Error("expiring previews failed", "error", err.Error())
		}
		return
	}
	for _, p := range expired {
		b.log.Info("preview expired unanswered", "code", p.Code, "msg_id", p.MsgID, "sender", p.Sender)
		b.metrics.command(p.Command, string(commands.OutcomeExpired))
		rec := store.AuditRecord{
			MsgID: expiredPreviewPrefix + p.MsgID, At: p.ExpiresAt, Sender: p.Sender, ConversationID: p.ConversationID,
			Command: p.Command, Text: "(preview " + p.Code + " expired)", Outcome: string(commands.OutcomeExpired),
			Change: "preview " + p.Code + " expired unanswered",
		}
		if err := b.store.RecordCommand(b.work, rec); err != nil && b.work.Err() == nil {
			b.log.Error("recording an expired preview in the audit failed", "code", p.Code, "error", err.Error())
		}
	}
}

// prunePreviews deletes previews settled or expired longer than the
// inbox's retention ago.
func (b *Bot) prunePreviews() {
	n, err := b.store.PrunePreviews(b.work, b.now().Add(-b.keep))
	switch {
	case err != nil && b.work.Err() == nil:
		b.log.Error("pruning previews failed", "error", err.Error())
	case n > 0:
		b.log.Info("pruned old previews", "count", n)
	}
}
