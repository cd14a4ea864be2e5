package commands

// This file is the building block of the commands that manage a group
// dingbot created (/addmember, /removemember, /rename, /owner, /groupinfo):
// which group (the chat they are typed in, or --group ID in a one-to-one
// chat), who may change it (its owner, the person who created it through
// dingbot, a bot admin), and the replies when DingTalk says no. DingTalk's
// group-update API only takes chatids of groups the app created, so the
// store's record of those groups is the source of truth.

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// optGroup names the group to manage from a one-to-one chat.
const optGroup = "group"

// groupOption is the --group option of the management commands.
func groupOption(c catalogue) Option {
	return Option{Name: optGroup, Aliases: []string{"群"}, Kind: TextOption, Placeholder: "ID",
		Summary: c.f(msgManageOptGroup), Example: "--group cidX8k...=="}
}

// manageSpec is what differs between the definitions of the management
// commands; each takes --group and --help, and shows its Chinese name in
// Chinese help.
type manageSpec struct {
	name, zh             string
	aliases              []string // other names besides zh
	summary, description msgID
	usage                msgID  // the arguments, unless plainUsage is set
	plainUsage           string // arguments that need no translation
	examples, examplesZh []string
}

// define is the command's Definition with texts from c.
func (s manageSpec) define(c catalogue, _ *Language) Definition {
	d := Definition{
		Name:        s.name,
		Aliases:     append(append([]string(nil), s.aliases...), s.zh),
		Summary:     c.f(s.summary),
		Usage:       s.plainUsage,
		Description: c.f(s.description),
		Examples:    s.examples,
		Options:     []Option{groupOption(c), helpOption(c)},
	}
	if s.plainUsage == "" {
		d.Usage = c.f(s.usage)
	}
	if c.lang == Chinese {
		d.shown = s.zh
		d.Examples = s.examplesZh
	}
	return d
}

// managed is the part of a management command's Run that differs: it gets
// the plan and the group after the checks every one of them makes, and the
// catalogue of the reply's language.
type managed func(ctx context.Context, env Env, m *ManageGroup, g *store.Group, c catalogue) Result

// runManaged is the Run of a management command: the plan must be a
// *ManageGroup that valid accepts (nil: any), the group one the bot created,
// and, unless anyone may (a nil mustManage means nobody else may), the sender
// one who may manage it; then run does the rest.
func runManaged(valid func(*ManageGroup) bool, mustManage func(Env, *ManageGroup) bool, run managed) func(context.Context, Env, Plan) Result {
	return func(ctx context.Context, env Env, plan Plan) Result {
		l := env.Language()
		m, ok := plan.(*ManageGroup)
		if !ok || m == nil || (valid != nil && !valid(m)) {
			return Result{Reply: Reply{Text: l.cat(l.defaultLang).f(msgInternal)}, Outcome: OutcomeInternal}
		}
		g, refused := manageTarget(ctx, env, m, mustManage == nil || mustManage(env, m))
		if refused != nil {
			return *refused
		}
		return run(ctx, env, m, g, l.cat(l.replyLang(m.Lang)))
	}
}

// ManageGroup is the plan of a command that changes or shows a group
// dingbot created.
type ManageGroup struct {
	// Cmd is the command's canonical name.
	Cmd string
	// Lang is the language of the replies.
	Lang Lang
	// Target is the group: the chat's openConversationId, or the --group
	// ID (openConversationId or chatid).
	Target string
	// Sender is the sender's userId.
	Sender string
	// Name is the new name (/rename).
	Name string
	// People are the people named (/addmember, /removemember, /owner);
	// UserIDs are their user IDs once Pending is empty.
	People
	UserIDs []string

	plan plan // the order of the people named
}

// Command implements Plan.
func (m *ManageGroup) Command() string {
	if m == nil {
		return ""
	}
	return m.Cmd
}

// ReplyLang implements Plan.
func (m *ManageGroup) ReplyLang() Lang {
	if m == nil {
		return ""
	}
	return m.Lang
}

// AccessRequest implements Guarded: the access policy's who-may rules,
// rate limits and the command's own allow_users apply.
func (m *ManageGroup) AccessRequest() access.Request {
	return access.Request{Command: m.Command()}
}

// PendingPeople implements PeoplePlan.
func (m *ManageGroup) PendingPeople() []PersonRef {
	if m == nil {
		return nil
	}
	return m.Pending
}

func (m *ManageGroup) complete(l *Language, lookups []Lookup) Action {
	c := l.cat(l.replyLang(m.Lang))
	resolved, names, reply := l.resolveLookups(c, &m.People, lookups)
	if reply != "" {
		return replyAction(reply)
	}
	final := *m
	p := m.plan
	final.plan = p
	_, final.UserIDs = p.assemble(resolved)
	final.People = People{Names: names}
	return Action{Plan: &final}
}

// manageRequest builds the plan of a management command from req: the
// target group and, when people is not nil, the people named.
func (l *Language) manageRequest(req *Request, people []string) (*ManageGroup, error) {
	sender := strings.TrimSpace(req.Message.SenderStaffID)
	if !validID(sender) {
		e := newUsageError(msgExternalSender)
		e.plain = true
		return nil, e
	}
	m := &ManageGroup{Cmd: req.Definition.Name, Lang: req.lang, Sender: sender}
	if m.Lang == "" {
		m.Lang = l.defaultLang
	}
	if v := req.Values(optGroup); len(v) > 0 {
		m.Target = strings.TrimSpace(v[0])
		if !validID(m.Target) {
			return nil, optionError(req.Definition, req.Definition.option(optGroup, false), msgManageBadGroup, v[0])
		}
	} else if req.Message.Group {
		m.Target = req.Message.ConversationID
	}
	if m.Target == "" {
		e := newUsageError(msgManageNeedGroup)
		e.example = req.Definition.Examples[len(req.Definition.Examples)-1]
		return nil, e
	}
	if people != nil {
		_, _, err := l.resolvePeople(req.Definition, peopleWords(people), "", nil, req.Message, &m.People, &m.plan)
		if err != nil {
			return nil, err
		}
		m.plan.onlyNamed = true
		_, m.UserIDs = m.plan.assemble(nil)
	}
	return m, nil
}

// manageTarget finds the plan's group in the store and checks that the
// sender may manage it (its owner, its creator, a bot admin). On a refusal
// it returns the result to reply with.
func manageTarget(ctx context.Context, env Env, m *ManageGroup, mustManage bool) (*store.Group, *Result) {
	l := env.Language()
	c := l.cat(l.replyLang(m.Lang))
	g, err := env.Audit().Group(ctx, m.Target)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, &Result{Reply: Reply{Text: c.f(msgManageNotOurs)}, Outcome: OutcomeAnswered}
	case err != nil:
		if ctx.Err() != nil {
			return nil, &Result{Release: true}
		}
		env.Log().Error("reading the groups audit failed", "error", err.Error())
		return nil, &Result{Reply: Reply{Text: c.f(msgManageStoreFailed)}, Outcome: OutcomeInternal}
	}
	if mustManage && m.Sender != g.Owner && m.Sender != g.Sender && !env.SenderIsAdmin() && !env.AnyoneMayManage(m.Cmd) {
		text := c.f(msgManageNotAllowed, personLabel(l.names, g.Owner), personLabel(l.names, g.Sender), m.Sender)
		return nil, &Result{Reply: Reply{Text: text}, Outcome: OutcomeDenied}
	}
	return g, nil
}

// updateGroup sends one change to DingTalk's group-update API and, when it
// is done, records the group's new state; after records what changed.
func updateGroup(ctx context.Context, env Env, m *ManageGroup, g *store.Group, req *dingclient.UpdateGroupRequest, after store.Group) error {
	req.ChatID = g.ChatID
	if err := env.DingTalk().UpdateGroup(ctx, req); err != nil {
		env.Log().Warn("group update failed", "command", m.Cmd, "chatid", g.ChatID, "error", err.Error())
		return err
	}
	if err := env.Audit().UpdateGroup(ctx, after); err != nil {
		env.Log().Error("recording the group's new state failed", "chatid", g.ChatID, "error", err.Error())
	}
	return nil
}

// manageFailed is the reply when DingTalk refused or did not answer a
// change: nothing (or, after a time-out, maybe something) changed.
func manageFailed(l *Language, m *ManageGroup, err error) Result {
	c := l.cat(l.replyLang(m.Lang))
	var apiErr *dingclient.APIError
	hasAPI := errors.As(err, &apiErr) && apiErr != nil
	outcome := OutcomeRefused
	var text string
	switch {
	case hasAPI && apiErr.Throttled():
		text = c.f(msgFailThrottled)
	case hasAPI && apiErr.PermissionDenied():
		text = c.f(msgManageScope)
	case hasAPI && apiErr.QuotaExceeded(), !hasAPI && dingclient.IsQuotaExceeded(err):
		text = c.f(msgLookupQuota) // the same sentence fits: nothing was changed
	case hasAPI && apiErr.NonJSONBody():
		text = c.f(msgLookupNonJSON, apiErr.HTTPStatus)
	case hasAPI:
		detail := safeToken(apiErr.Code)
		if msg := sanitizeName(apiErr.Message); msg != "" {
			detail += ": " + msg
		}
		text = c.f(msgManageRefused, detail)
	default:
		var unknown *dingclient.OutcomeUnknownError
		if errors.As(err, &unknown) || errors.Is(err, context.DeadlineExceeded) {
			outcome = OutcomeUnknown
		}
		text = c.f(msgManageUnreachable)
	}
	if hasAPI {
		if id := safeToken(apiErr.RequestID); id != "" {
			text += "\n" + c.f(msgRequestID, id)
		}
	}
	return Result{Reply: Reply{Text: text}, Outcome: outcome, Err: err}
}

// labels names user IDs for a reply: "Name (id)" where a name is known.
// The names of people a command named already prefer the configuration's
// (resolvePeople and resolveLookups put those in).
func labels(names map[string]string, ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = personLabel(names, id)
	}
	return out
}

// changeMembers adds ids to group g (add) or removes them, in calls of at
// most MaxMembers, recording the group's members after each. done renders
// the reply (count, people); partly prefixes a failure after some calls
// went through (the people changed so far).
func changeMembers(ctx context.Context, env Env, m *ManageGroup, g *store.Group, ids []string, add bool, done, partly msgID) Result {
	l := env.Language()
	c := l.cat(l.replyLang(m.Lang))
	sign := "-"
	if add {
		sign = "+"
	}
	after := *g
	var changed []string
	change := func() string { return "members: " + sign + strings.Join(changed, ", "+sign) }
	for _, part := range chunks(ids) {
		req := &dingclient.UpdateGroupRequest{DelUserIDs: part}
		after.Members = without(after.Members, part) // a new slice: g's is not touched
		if add {
			req = &dingclient.UpdateGroupRequest{AddUserIDs: part}
			after.Members = append(after.Members, part...)
		}
		if err := updateGroup(ctx, env, m, g, req, after); err != nil {
			r := manageFailed(l, m, err)
			if len(changed) > 0 {
				r.Reply.Text = c.f(partly, c.list(labels(m.Names, changed), msgAnd)) + "\n" + r.Reply.Text
				r.Outcome, r.Change = OutcomeChanged, change()
			}
			return r
		}
		changed = append(changed, part...)
	}
	return Result{Reply: Reply{Text: c.f(done, len(changed), c.list(labels(m.Names, changed), msgAnd))},
		Outcome: OutcomeChanged, Change: change()}
}

// shownCommand is "/name" of the registered command name as help shows it
// in lang ("/加人" in Chinese), or "/name" if it is not registered.
func shownCommand(l *Language, lang Lang, name string) string {
	if d := lookup(l.defs(l.replyLang(lang)), name); d != nil {
		return "/" + d.shownName()
	}
	return "/" + name
}

// hasPeople accepts a plan that names at least one person.
func hasPeople(m *ManageGroup) bool { return len(m.UserIDs) > 0 }

// chunks splits ids into calls of at most MaxMembers.
func chunks(ids []string) [][]string {
	var out [][]string
	for len(ids) > 0 {
		n := min(len(ids), MaxMembers)
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	return out
}

// without returns list without the ids in drop.
func without(list, drop []string) []string {
	var out []string
	for _, id := range list {
		if !slices.Contains(drop, id) {
			out = append(out, id)
		}
	}
	return out
}
