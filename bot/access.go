package bot

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// outcomeDenied is the dingbot_commands_total label of a command the access
// policy denied: nothing was looked up or done.
const outcomeDenied = string(commands.OutcomeDenied)

// admit is the access middleware: it applies the access policy (package
// access) to a plan that asks for it (commands.Guarded), before anyone is
// looked up or anything done, so a denied command costs no DingTalk call,
// except the look-up of the sender's departments when the policy needs them
// (cached). It returns nil when the command may go on.
func (b *Bot) admit(ctx context.Context, log *slog.Logger, msg Message, plan commands.Guarded) *result {
	if b.access == nil {
		return nil
	}
	req, stop := b.accessRequest(ctx, log, msg, plan)
	if stop != nil {
		return stop
	}
	d := b.access.CheckContext(ctx, req)
	if d == nil {
		return nil
	}
	logRefused(log, msg, refusedDenied, "rule", string(d.Rule), "retry_after", d.RetryAfter)
	return &result{reply: b.lang.DeniedReply(plan, d), state: store.Done, outcome: outcomeDenied}
}

// accessRequest is what the access policy needs to know about plan, sent
// as msg: the plan's request, the sender, the chat and, only when the
// policy needs them, the sender's departments (a cached look-up). When they
// cannot be looked up it returns the result to give instead.
func (b *Bot) accessRequest(ctx context.Context, log *slog.Logger, msg Message, plan commands.Guarded) (access.Request, *result) {
	req := plan.AccessRequest()
	req.UserID = strings.TrimSpace(msg.SenderStaffID)
	req.DingTalkAdmin = msg.IsAdmin
	req.ConversationID = msg.ConversationID
	if b.access.NeedsDepartments(req) {
		depts, err := b.depts.lookup(ctx, b.dt, req.UserID)
		if err != nil {
			if ctx.Err() != nil {
				return req, &result{release: true}
			}
			log.Warn("cannot look up the sender's departments for the access policy", "error", err.Error())
			return req, &result{reply: b.lang.AccessLookupFailedReply(plan), state: store.Failed, outcome: outcomeRefused}
		}
		req.Departments = depts
	}
	return req, nil
}

// wouldDeny asks the access policy whether the real command of the dry run
// plan (the same command without --dry-run) would be allowed, and returns
// its denial if not; nil if it would be allowed or there is no policy. The
// dry run itself is admitted (or not) by admit: this question takes no
// rate-limit token, and leaves the rate limits out of the answer, which say
// when a command may run, not whether. A departments look-up that fails
// gives the result to reply with instead, as it does for admit.
func (b *Bot) wouldDeny(ctx context.Context, log *slog.Logger, msg Message, plan commands.DryRunPlan) (*access.Denial, *result) {
	if b.access == nil {
		return nil, nil
	}
	req, stop := b.accessRequest(ctx, log, msg, plan)
	if stop != nil {
		return nil, stop
	}
	req.DryRun = false
	return b.access.Allowed(req), nil
}

// deptCache caches the sender's department IDs for the access policy, for
// the look-up cache TTL. Failed look-ups are not cached; a user DingTalk
// does not know has no departments.
type deptCache struct {
	cache *ttlCache[[]int64]
}

func newDeptCache(ttl time.Duration, now func() time.Time) *deptCache {
	return &deptCache{cache: newTTLCache[[]int64](ttl, now)}
}

func (c *deptCache) lookup(ctx context.Context, dir Directory, userID string) ([]int64, error) {
	if ids, ok := c.cache.get(userID); ok {
		return ids, nil
	}
	var ids []int64
	u, err := dir.GetUser(ctx, userID)
	switch {
	case errors.Is(err, dingclient.ErrUserNotFound):
	case err != nil:
		return nil, err
	default:
		ids = u.DeptIDs
	}
	c.cache.put(userID, ids)
	return ids, nil
}
