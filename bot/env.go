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

// Calling waits for the rate limit of non-idempotent calls (the app's
// create limit, DINGBOT_CREATE_RATE) and marks the item as calling: from
// here on a crash means "unknown", never a retry. An error means the
// command must not make the call: the bot is stopping, or the mark could
// not be stored.
func (e *env) Calling(ctx context.Context) error {
	b := e.b
	waitStart := time.Now()
	err := b.limiter.Wait(ctx)
	b.metrics.rateLimitWait(string(dingclient.APIGroupCreate), time.Since(waitStart))
	if err != nil {
		return err
	}
	if err := b.store.MarkCalling(ctx, e.item.MsgID, b.owner, b.now()); err != nil {
		if ctx.Err() == nil {
			e.log.Error("cannot mark the command as calling; not calling DingTalk", "error", err.Error())
		}
		return err
	}
	return nil
}
