// This file is the Env a command's Run gets: DingTalk, the audit, and the
// pipeline's hook before a non-idempotent call.

package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// env implements commands.Env for one inbox item.
type env struct {
	b    *Bot
	item *store.Item
	msg  Message
	log  *slog.Logger
}

var _ commands.Env = (*env)(nil)

func (e *env) Language() *commands.Language { return e.b.lang }
func (e *env) DingTalk() *dingclient.Client { return e.b.dt }
func (e *env) Audit() store.Audit           { return e.b.store }
func (e *env) Previews() store.Previews     { return e.b.store }
func (e *env) Message() commands.Message    { return e.b.commandMessage(e.msg) }
func (e *env) AnyoneMayManage(command string) bool {
	return e.b.access.ManagedByEveryone(command)
}
func (e *env) SenderIsAdmin() bool { return e.b.isAdmin(e.msg) }
func (e *env) Log() *slog.Logger   { return e.log }
func (e *env) Now() time.Time      { return e.b.now() }

// Calling waits for a slot of the group-create rate limit (the Limiter,
// shared by every replica with PostgreSQL) and marks the item as calling:
// from here on a crash means "unknown", never a retry. It returns the
// context to make the call with, which carries the slot (so the DingTalk
// client does not wait for another). An error means the command must not
// make the call: the bot is stopping, or the mark could not be stored.
func (e *env) Calling(ctx context.Context) (context.Context, error) {
	b := e.b
	api := dingclient.APIGroupCreate
	waitStart := time.Now()
	defer func() { b.metrics.rateLimitWait(string(api), time.Since(waitStart)) }()
	wait, err := b.limiter.Reserve(ctx, api)
	if err != nil {
		return ctx, err
	}
	// Wake a little before the slot to store the mark, so that the call
	// itself starts on time.
	slot := time.Now().Add(wait)
	if err := dingclient.SleepUntil(ctx, slot.Add(-markLead), time.Now); err != nil {
		return ctx, err
	}
	if err := b.store.MarkCalling(ctx, e.item.MsgID, b.owner, b.now()); err != nil {
		if ctx.Err() == nil {
			e.log.Error("cannot mark the command as calling; not calling DingTalk", "error", err.Error())
		}
		return ctx, err
	}
	if time.Since(slot) > slotTolerance {
		// The mark took long (a busy database): the call would start late,
		// close to calls of later slots, and DingTalk counts calls in any
		// one-second window. Take a fresh slot; the old one stays unused.
		// (An error now is reported as "unknown" like a cut-off call: the
		// item is marked calling, and is never run again.)
		if err := b.limiter.Wait(ctx, api); err != nil {
			return ctx, err
		}
	} else if err := dingclient.SleepUntil(ctx, slot, time.Now); err != nil {
		return ctx, err
	}
	return dingclient.WithSlot(ctx, api), nil
}

// markLead is how long before its rate-limit slot a create stores its
// "calling" mark; slotTolerance is how late after the slot the call may
// still start. The limiter keeps about 2% of each slot free
// (dingclient.Slots): some 40 ms over DingTalk's one-second window at 20
// calls per second.
const (
	markLead      = 40 * time.Millisecond
	slotTolerance = 15 * time.Millisecond
)
