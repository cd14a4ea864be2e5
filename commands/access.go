package commands

import (
	"strings"
	"time"

	"github.com/dingbot/dingbot/access"
)

// DeniedReply is the reply to a command the access policy denied, in p's
// language (nil: the default language): which rule denied it and, for the
// who-may rules, whom to ask and the sender's user ID to give them; for the
// rate limits, the limit and when to try again.
func (l *Language) DeniedReply(p Plan, d *access.Denial) Reply {
	c := l.cat(l.planLang(p))
	if d == nil {
		return Reply{Text: c.f(msgInternal)}
	}
	contact := strings.TrimSpace(d.Contact)
	if contact == "" {
		contact = c.f(msgAccessContact)
	}
	var text string
	switch d.Rule {
	case access.RuleExternal:
		text = c.f(msgExternalSender)
	case access.RuleConversations:
		text = c.f(msgAccessConversations, contact, d.ConversationID, d.UserID)
	case access.RuleUsers:
		text = c.f(msgAccessUsers, contact, d.UserID)
	case access.RuleDepartments:
		text = c.f(msgAccessDepartments, contact, d.UserID)
	case access.RuleUsersOrDepartments:
		text = c.f(msgAccessUsersOrDepartments, contact, d.UserID)
	case access.RuleStandardGroups:
		text = c.f(msgAccessStandardGroups, contact, d.UserID)
	case access.RuleOwnerOverride:
		text = c.f(msgAccessOwnerOverride, contact, d.UserID)
	case access.RuleRatePerUser:
		text = c.f(msgAccessRatePerUser, d.Limit.N, periodText(c, d.Limit.Per), retryText(c, d.RetryAfter))
	case access.RuleRatePerConversation:
		text = c.f(msgAccessRatePerConversation, d.Limit.N, periodText(c, d.Limit.Per), retryText(c, d.RetryAfter))
	default:
		name, ok := strings.CutPrefix(string(d.Rule), "commands.")
		if name, ok = strings.CutSuffix(name, ".allow_users"); ok {
			text = c.f(msgAccessCommandUsers, "/"+name, contact, d.UserID, string(d.Rule))
		} else {
			text = c.f(msgInternal)
		}
	}
	return Reply{Text: text}
}

// AccessLookupFailedReply is the reply when the sender's departments, which
// the access policy needs, could not be looked up: nothing was created.
func (l *Language) AccessLookupFailedReply(p Plan) Reply {
	return Reply{Text: l.cat(l.planLang(p)).f(msgAccessLookupFailed)}
}

// timeUnits are the units durations are shown in, largest first.
var timeUnits = []struct {
	d         time.Duration
	one, many msgID
}{
	{24 * time.Hour, msgAccessDay, msgAccessDays},
	{time.Hour, msgAccessHour, msgAccessHours},
	{time.Minute, msgAccessMinute, msgAccessMinutes},
	{time.Second, msgAccessSecond, msgAccessSeconds},
}

// periodText shows a rate's period after "per": "hour", "10 minutes", in
// the largest unit that divides it.
func periodText(c catalogue, per time.Duration) string {
	for _, u := range timeUnits {
		if per >= u.d && per%u.d == 0 {
			n := int(per / u.d)
			if n == 1 {
				return c.f(u.one)
			}
			return c.f(msgAccessPeriodCount, n, c.f(u.many))
		}
	}
	return c.f(msgAccessPeriodCount, int(max(per/time.Second, 1)), c.f(msgAccessSeconds))
}

// retryText shows a wait rounded up, so that trying again then works: in
// seconds under a minute, in minutes under an hour, else in hours and minutes.
func retryText(c catalogue, d time.Duration) string {
	count := func(n int, u int) string {
		id := timeUnits[u].many
		if n == 1 {
			id = timeUnits[u].one
		}
		return c.f(msgAccessDuration, n, c.f(id))
	}
	if d <= 0 {
		return count(1, 3)
	}
	if s := int((d + time.Second - 1) / time.Second); s < 60 {
		return count(s, 3)
	}
	m := int((d + time.Minute - 1) / time.Minute)
	if m < 60 {
		return count(m, 2)
	}
	parts := []string{count(m/60, 1)}
	if m%60 != 0 {
		parts = append(parts, count(m%60, 2))
	}
	return strings.Join(parts, " ")
}
