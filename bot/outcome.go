// This file records what came of a command: its final state and reply, its
// audit record and the group it created, in one transaction.

package bot

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// result is what processing one message decided.
type result struct {
	reply   commands.Reply
	state   store.State
	outcome string
	release bool // stopped before calling DingTalk: give the item back

	// For the audit: the group created, and the DingTalk error that decided
	// the outcome (its requestid and code are recorded).
	openConversationID, chatID string
	err                        error
	group                      *store.Group // recorded with the outcome
	change                     string       // what a command changed, for the audit

	command   string              // the command whose Run or Resume decided it
	followUps []commands.FollowUp // steps to store with the outcome
}

// Command outcomes the pipeline itself decides (commands.Outcome has them all).
const (
	outcomeAnswered = string(commands.OutcomeAnswered)
	outcomeRefused  = string(commands.OutcomeRefused)
	outcomeUnknown  = string(commands.OutcomeUnknown)
	outcomeInternal = string(commands.OutcomeInternal)
)

// finish records the outcome durably, with the command's audit record and
// the group it created, in one transaction, then posts the reply.
func (b *Bot) finish(item *store.Item, msg Message, r result) {
	reply := r.reply.Text
	audit := b.commandRecord(item, msg, r)
	followUps := b.followUpItems(item, msg, r)
	err := b.recordOutcome(store.Outcome{MsgID: item.MsgID, Owner: b.owner, State: r.state, Reply: reply,
		ReplyTitle: r.reply.Title, Audit: &audit, Group: r.group, FollowUps: followUps})
	if err != nil {
		// Our lease ran out and another process took the item: it owns the
		// reply now. The group exists all the same: keep it in the audit.
		b.log.Error("recording the outcome failed; not replying", "msg_id", item.MsgID, "error", err.Error())
		if r.group != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := b.store.RecordGroup(ctx, *r.group); err != nil {
				b.log.Error("recording the created group in the audit failed", "msg_id", item.MsgID, "error", err.Error())
			}
		}
		return
	}
	command := b.metricCommand(msg)
	b.metrics.command(command, r.outcome)
	item.State, item.Reply, item.ReplyTitle = r.state, reply, r.reply.Title
	b.post(item, msg) // Finish marked the reply as being sent
	if len(followUps) > 0 {
		b.wake() // a worker takes them through Next, normally after the reply above
	}
	received := msg.ReceivedAt
	if received.IsZero() {
		received = item.ReceivedAt
	}
	if !received.IsZero() {
		b.metrics.commandDuration(command, b.now().Sub(received))
	}
}

// Back-off of recordOutcome: the first retry, and the longest wait.
const (
	finishRetryFirst = 100 * time.Millisecond
	finishRetryMax   = 5 * time.Second
)

// recordOutcome stores o (Finish), retrying with back-off while the store
// fails (a dropped connection, a failover, a full disk): an outcome, above
// all a created group's, is never left unrecorded while this process
// lives. The item stays held, so its lease keeps being renewed whenever the
// store answers. It returns nil once stored, ErrLeaseLost if another
// process took the item meanwhile, or the last error once the bot's work
// is cancelled (Shutdown ran out of time).
func (b *Bot) recordOutcome(o store.Outcome) error {
	wait := finishRetryFirst
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		o.Now = b.now()
		err := b.store.Finish(ctx, o)
		cancel()
		switch {
		case err == nil:
			return nil
		case errors.Is(err, store.ErrLeaseLost):
			return err
		case b.finishedAnyway(o.MsgID, o.State, o.Reply):
			return nil // the error came from the commit, which was stored all the same
		}
		if attempt == 1 {
			b.log.Error("recording the outcome failed; retrying until the store answers", "msg_id", o.MsgID, "error", err.Error())
		}
		select {
		case <-b.work.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, finishRetryMax)
	}
}

// finishedAnyway reports whether a Finish that failed other than by a lost
// lease was stored all the same (the error came from its commit, e.g. a
// deadline): the item holds this outcome and its reply is marked as being
// sent, so nobody else will post it.
func (b *Bot) finishedAnyway(msgID string, state store.State, reply string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	it, err := b.store.Get(ctx, msgID)
	return err == nil && it.State == state && it.Reply == reply && it.ReplyState == store.ReplySending
}

// maxAuditText bounds the command text kept in the audit, in bytes.
const maxAuditText = 4000

// recordCommand writes the audit record of a command finished outside
// finish (an interrupted call). A failure is logged; it never changes the
// command's outcome or reply.
func (b *Bot) recordCommand(item *store.Item, msg Message, r result) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.store.RecordCommand(ctx, b.commandRecord(item, msg, r)); err != nil {
		b.log.Error("recording the command in the audit failed", "msg_id", item.MsgID, "error", err.Error())
	}
}

// commandRecord is the audit record of a finished command.
func (b *Bot) commandRecord(item *store.Item, msg Message, r result) store.AuditRecord {
	at := msg.ReceivedAt
	if at.IsZero() {
		at = item.ReceivedAt
	}
	text := strings.TrimSpace(msg.Text)
	if f, ok := followUpOf(msg); ok {
		text = "(follow-up: " + f.Step + ")"
	}
	if len(text) > maxAuditText {
		text = strings.ToValidUTF8(text[:maxAuditText], "")
	}
	rec := store.AuditRecord{
		MsgID: item.MsgID, At: at, Sender: msg.SenderStaffID, SenderNick: msg.SenderNick,
		ConversationID: msg.ConversationID, Command: b.auditCommand(msg), Text: text, Outcome: r.outcome,
		GroupOpenConversationID: r.openConversationID, ChatID: r.chatID, Change: r.change,
	}
	rec.RequestID, rec.ErrorCode = dingTalkError(r.err)
	return rec
}

// commandOther labels metrics of messages that are no known command.
const commandOther = "other"

// metricCommand is the command label of msg's metrics: the canonical
// command name, or "other" (bounded, whatever people type).
func (b *Bot) metricCommand(msg Message) string {
	if f, ok := followUpOf(msg); ok {
		return f.Command
	}
	if msg.MsgType != "" && msg.MsgType != "text" {
		return commandOther
	}
	if name := b.lang.CommandName(msg.Text); name != "" {
		return name
	}
	return commandOther
}

// auditCommand is the command of msg's audit record: the canonical command
// name, else the first word of a /command as typed (at most 32 characters),
// else "".
func (b *Bot) auditCommand(msg Message) string {
	if f, ok := followUpOf(msg); ok {
		return f.Command
	}
	if msg.MsgType != "" && msg.MsgType != "text" {
		return ""
	}
	if name := b.lang.CommandName(msg.Text); name != "" {
		return name
	}
	line := commands.Normalize(msg.Text)
	if !strings.HasPrefix(line, "/") {
		return ""
	}
	first, _, _ := strings.Cut(line[1:], " ")
	if r := []rune(first); len(r) > 32 {
		first = string(r[:32])
	}
	return strings.ToLower(first)
}

// dingTalkError returns DingTalk's requestid and error code from the
// *dingclient.APIError or *dingclient.LegacyError in err, if there is one.
func dingTalkError(err error) (requestID, code string) {
	var apiErr *dingclient.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.Code
		if code == "" && apiErr.HTTPStatus != 0 {
			code = "http_" + strconv.Itoa(apiErr.HTTPStatus)
		}
		return apiErr.RequestID, code
	}
	var legacy *dingclient.LegacyError
	if errors.As(err, &legacy) {
		return legacy.RequestID, strconv.Itoa(legacy.ErrCode)
	}
	return "", ""
}
