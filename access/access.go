// Package access decides who may create groups through dingbot, and how often.
//
// It is a top-level package, and not part of bot or commands, because who may
// do what is a concern of its own: the rules come from the operator's
// configuration (not from the command language), they must be reviewable and
// testable on their own, and they must not depend on how a message arrived or
// how DingTalk is called. The package is pure policy plus rate buckets: no
// I/O, the clock is injected. The buckets are in the process, or, when
// several replicas share a database, kept there (Policy.ShareBuckets, behind
// the SharedBuckets interface) so that the replicas together keep the
// configured rates. The pipeline (package bot) asks a Policy about
// each /newgroup command before it calls DingTalk, and package commands turns
// a Denial into the reply a person reads, in the command's language.
//
// The rules, in the order they are checked (the first that denies is reported):
//
//   - external: a sender without a user ID (senderStaffId), i.e. outside the
//     organisation, can never create groups.
//   - admins (Config.Admins, and DingTalk's isAdmin when
//     Config.TrustDingTalkAdmins is set) pass every rule below and are exempt
//     from rate limits.
//   - allow_conversations: if set, groups can only be created from the listed
//     chats (openConversationId). This gate is separate from the next one: both
//     must pass.
//   - allow_users / allow_departments: if either is set, the sender must be
//     listed in allow_users OR belong to a department in allow_departments
//     (any-of). Departments are the sender's direct departments as DingTalk's
//     user-details API reports them.
//   - standard_groups: who may create standard groups (conversationTag 0);
//     default admins.
//   - owner_override: who may make someone else the owner (--owner); default
//     admins. An owner the bot would still have to look up (a mobile number or
//     a name) counts as someone else: naming yourself with --owner changes
//     nothing, so the command is denied before any look-up is spent.
//   - rate.per_user, rate.per_conversation: token buckets, checked only when
//     every rule above passed; a denied command uses no token.
//
// Dry runs (--dry-run) create nothing, so the rules on what may be created
// (standard_groups, owner_override) do not apply to them; they are
// rate-limited like every /newgroup that makes DingTalk calls. Allowed tells
// the bot, without taking a token, whether the real command would pass the
// rules, so that a dry run's reply can say what would be refused.
// Empty lists mean "no restriction of that kind"; the zero Config lets every
// member of the organisation create internal groups with themselves as owner,
// without limits.
package access

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Who says which senders a rule lets through.
type Who string

// Values of Who.
const (
	// Admins lets only admins through; "" means Admins.
	Admins Who = "admins"
	// Everyone lets every sender through who passed the allow-lists.
	Everyone Who = "everyone"
)

// Config is the access section of the configuration file (YAML key access).
type Config struct {
	// Admins are user IDs that pass every rule and are exempt from rate limits.
	Admins []string `yaml:"admins"`
	// TrustDingTalkAdmins makes DingTalk's isAdmin flag (an organisation
	// admin) count as an admin too.
	TrustDingTalkAdmins bool `yaml:"trust_dingtalk_admins"`
	// AllowUsers, if not empty, are the user IDs who may create groups
	// (together with the members of AllowDepartments).
	AllowUsers []string `yaml:"allow_users"`
	// AllowDepartments, if not empty, are department IDs whose members may
	// create groups (together with AllowUsers).
	AllowDepartments []int64 `yaml:"allow_departments"`
	// AllowConversations, if not empty, are the chats (openConversationId)
	// from which groups may be created.
	AllowConversations []string `yaml:"allow_conversations"`
	// StandardGroups is who may create standard groups: admins (default) or everyone.
	StandardGroups Who `yaml:"standard_groups"`
	// OwnerOverride is who may make someone else the owner: admins (default) or everyone.
	OwnerOverride Who `yaml:"owner_override"`
	// Contact is whom a denied user should ask, e.g. "the IT team (@Wang)";
	// "" lets the reply say "an admin of this bot".
	Contact string `yaml:"contact"`
	// Rate are the rate limits; empty means none.
	Rate RateConfig `yaml:"rate"`
	// Commands narrows or widens the rules for single commands, by the
	// command's canonical name (e.g. rename, addmember).
	Commands map[string]CommandConfig `yaml:"commands"`
}

// CommandConfig is what one command adds to the rules above.
type CommandConfig struct {
	// AllowUsers, if not empty, narrows who may run the command: only these
	// user IDs (and admins), on top of every rule above.
	AllowUsers []string `yaml:"allow_users"`
	// Manage widens who may change a group the bot created with the command
	// (the lifecycle commands): "owners" (default: the group's owner, the
	// person who created it through the bot, and admins) or "everyone"
	// (anyone who passes the rules above).
	Manage string `yaml:"manage"`
}

// Values of CommandConfig.Manage.
const (
	ManageOwners   = "owners"
	ManageEveryone = "everyone"
)

// RateConfig are the rate limits of /newgroup.
type RateConfig struct {
	// PerUser is N/PERIOD, e.g. "5/h": each sender may run /newgroup N
	// times in a burst, and gets one more every PERIOD/N. "" is no limit.
	PerUser string `yaml:"per_user"`
	// PerConversation is the same for each chat, whoever types.
	PerConversation string `yaml:"per_conversation"`
	// UserBurst replaces N as the size of a sender's burst (0: N).
	UserBurst int `yaml:"user_burst"`
	// ConversationBurst replaces N as the size of a chat's burst (0: N).
	ConversationBurst int `yaml:"conversation_burst"`
}

// Rule names the rule that denied a command; the values are the
// configuration keys under access, so an admin can find them.
type Rule string

// The rules.
const (
	RuleExternal            Rule = "external"
	RuleConversations       Rule = "allow_conversations"
	RuleUsers               Rule = "allow_users"
	RuleDepartments         Rule = "allow_departments"
	RuleUsersOrDepartments  Rule = "allow_users+allow_departments" // both lists are set
	RuleStandardGroups      Rule = "standard_groups"
	RuleOwnerOverride       Rule = "owner_override"
	RuleRatePerUser         Rule = "rate.per_user"
	RuleRatePerConversation Rule = "rate.per_conversation"
	// RuleCommandUsers is commands.NAME.allow_users; the Denial's Rule
	// names the command (CommandRule).
	RuleCommandUsers Rule = "commands.*.allow_users"
)

// CommandRule is the rule a command's allow_users denied by, e.g.
// "commands.rename.allow_users".
func CommandRule(command string) Rule {
	return Rule("commands." + command + ".allow_users")
}

// Rules lists every rule, for completeness checks.
func Rules() []Rule {
	return []Rule{RuleExternal, RuleConversations, RuleUsers, RuleDepartments, RuleUsersOrDepartments,
		RuleStandardGroups, RuleOwnerOverride, RuleRatePerUser, RuleRatePerConversation, RuleCommandUsers}
}

// Request is what the policy needs to know about one command. The policy's
// rules apply to every command whose plan asks for a decision (today
// /newgroup); the rules on what may be created read the fields that command fills.
type Request struct {
	// Command is the canonical name of the command ("newgroup").
	Command string
	// UserID is the sender's user ID (senderStaffId); "" for a sender outside the organisation.
	UserID string
	// DingTalkAdmin is DingTalk's isAdmin flag of the message.
	DingTalkAdmin bool
	// ConversationID is the chat the command was typed in (openConversationId).
	ConversationID string
	// DryRun is set for --dry-run: the who-may rules (allow_conversations,
	// allow_users, allow_departments) and the rate limits apply, the rules on
	// what may be created (standard_groups, owner_override) do not. A dry run
	// looks people up and shows their names and user IDs, so a sender who may
	// not run the command may not preview it either.
	DryRun bool
	// Standard is set when the command asks for a standard group (conversationTag 0).
	Standard bool
	// Owner is the owner's user ID when known ("" when it is still to be looked up).
	Owner string
	// OwnerPending is set when the owner was named by mobile or name and is not looked up yet.
	OwnerPending bool
	// Departments are the sender's department IDs; they are only read when
	// NeedsDepartments said so.
	Departments []int64
}

// Denial says why a command was denied.
type Denial struct {
	// Rule is the rule that denied it.
	Rule Rule
	// UserID is the sender's user ID, for the reply (an admin adds it to a list).
	UserID string
	// ConversationID is the chat, for the reply to RuleConversations.
	ConversationID string
	// Contact is whom to ask (Config.Contact; "" for the default wording).
	Contact string
	// Limit is the rate limit that was hit (rate rules only).
	Limit Rate
	// RetryAfter is when the next command would be allowed (rate rules only).
	RetryAfter time.Duration
}

func (d *Denial) String() string {
	if d == nil {
		return "allowed"
	}
	if d.RetryAfter > 0 {
		return fmt.Sprintf("denied by %s (retry after %s)", d.Rule, d.RetryAfter)
	}
	return "denied by " + string(d.Rule)
}

// Policy applies a Config. It is safe for concurrent use.
type Policy struct {
	admins   set
	trustDT  bool
	users    set
	depts    map[int64]bool
	convs    set
	standard Who
	owner    Who
	contact  string
	now      func() time.Time

	mu      sync.Mutex // guards the buckets, so a command takes from both or neither
	perUser *buckets   // nil: no limit
	perConv *buckets

	// shared, when set (ShareBuckets), keeps the buckets instead of
	// perUser.m and perConv.m (whose rates still apply), on the clock
	// sharedNow; sharedLog logs its errors.
	shared    SharedBuckets
	sharedNow func() time.Time
	sharedLog *slog.Logger

	cmdUsers  map[string]set  // per command: its allow_users
	cmdManage map[string]bool // per command: manage: everyone
}

type set map[string]bool

// New validates cfg and returns its Policy; errors name the key, e.g.
// `access.rate.per_user: "5 per hour" is not N/PERIOD ...`. now is the
// clock of the rate limits (nil: time.Now).
func New(cfg Config, now func() time.Time) (*Policy, error) {
	if now == nil {
		now = time.Now
	}
	p := &Policy{trustDT: cfg.TrustDingTalkAdmins, contact: strings.TrimSpace(cfg.Contact), now: now, depts: map[int64]bool{}}
	var err error
	if p.admins, err = idSet("access.admins", cfg.Admins); err != nil {
		return nil, err
	}
	if p.users, err = idSet("access.allow_users", cfg.AllowUsers); err != nil {
		return nil, err
	}
	if p.convs, err = idSet("access.allow_conversations", cfg.AllowConversations); err != nil {
		return nil, err
	}
	for i, d := range cfg.AllowDepartments {
		if d <= 0 {
			return nil, fmt.Errorf("access.allow_departments[%d]: %d is not a department ID (a positive number; 1 is the whole organisation)", i, d)
		}
		p.depts[d] = true
	}
	if p.standard, err = who("access.standard_groups", cfg.StandardGroups); err != nil {
		return nil, err
	}
	if p.owner, err = who("access.owner_override", cfg.OwnerOverride); err != nil {
		return nil, err
	}
	if strings.ContainsAny(p.contact, "\r\n") || len([]rune(p.contact)) > 200 {
		return nil, fmt.Errorf("access.contact: want one line of at most 200 characters, e.g. \"the IT team (@Wang)\"")
	}
	if p.perUser, err = newBuckets("access.rate.per_user", cfg.Rate.PerUser, "access.rate.user_burst", cfg.Rate.UserBurst); err != nil {
		return nil, err
	}
	if p.perConv, err = newBuckets("access.rate.per_conversation", cfg.Rate.PerConversation, "access.rate.conversation_burst", cfg.Rate.ConversationBurst); err != nil {
		return nil, err
	}
	p.cmdUsers, p.cmdManage = map[string]set{}, map[string]bool{}
	for name, c := range cfg.Commands {
		key := "access.commands." + name
		if name == "" || name != strings.ToLower(strings.TrimSpace(name)) || strings.ContainsAny(name, " /") {
			return nil, fmt.Errorf("%s: write the command's name in lower case without the slash, e.g. rename", key)
		}
		if len(c.AllowUsers) > 0 {
			if p.cmdUsers[name], err = idSet(key+".allow_users", c.AllowUsers); err != nil {
				return nil, err
			}
		}
		switch strings.ToLower(strings.TrimSpace(c.Manage)) {
		case "", ManageOwners:
		case ManageEveryone:
			p.cmdManage[name] = true
		default:
			return nil, fmt.Errorf("%s.manage: %q is not owners or everyone", key, c.Manage)
		}
	}
	return p, nil
}

// ManagedByEveryone reports whether anyone who passes the rules may change a
// group with command (access.commands.NAME.manage: everyone), not only its
// owner, its creator and admins.
func (p *Policy) ManagedByEveryone(command string) bool {
	return p != nil && p.cmdManage[command]
}

func idSet(key string, ids []string) (set, error) {
	s := set{}
	for i, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			return nil, fmt.Errorf("%s[%d]: empty ID", key, i)
		}
		if strings.ContainsAny(id, " \t\r\n") {
			return nil, fmt.Errorf("%s[%d]: %q contains spaces; write one ID per list item", key, i, id)
		}
		s[id] = true
	}
	return s, nil
}

func who(key string, w Who) (Who, error) {
	switch Who(strings.ToLower(strings.TrimSpace(string(w)))) {
	case "", Admins:
		return Admins, nil
	case Everyone:
		return Everyone, nil
	}
	return "", fmt.Errorf("%s: %q is not admins or everyone", key, string(w))
}

// Admin reports whether a sender is an admin: listed in access.admins, or a
// DingTalk admin when trust_dingtalk_admins is set.
func (p *Policy) Admin(userID string, dingtalkAdmin bool) bool {
	return userID != "" && (p.admins[userID] || (p.trustDT && dingtalkAdmin))
}

// NeedsDepartments reports whether Check needs r.Departments: only when
// allow_departments is set and nothing else decides for the sender, so the
// caller looks them up (a DingTalk call) only then.
func (p *Policy) NeedsDepartments(r Request) bool {
	return len(p.depts) > 0 && r.UserID != "" && !p.Admin(r.UserID, r.DingTalkAdmin) &&
		!p.users[r.UserID] && p.conversationAllowed(r.ConversationID)
}

func (p *Policy) conversationAllowed(id string) bool {
	return len(p.convs) == 0 || p.convs[id]
}

// SharedBuckets are token buckets shared by every process on a database
// (store.Limits implements them), by the generic cell rate algorithm: see
// store.Limits.TakeToken and ReturnToken, whose contracts these are.
type SharedBuckets interface {
	// TakeToken takes a token from the bucket key, which holds burst tokens
	// and gets one back every interval; when it is empty, ok is false and
	// retryAfter is how long until it has one. It is atomic across processes.
	TakeToken(ctx context.Context, key string, interval time.Duration, burst int, now time.Time) (ok bool, retryAfter time.Duration, err error)
	// ReturnToken gives back to the bucket key a token TakeToken took a
	// moment ago with the same interval.
	ReturnToken(ctx context.Context, key string, interval time.Duration, now time.Time) error
}

// Keys of the shared buckets: the sender's user ID or the chat's
// openConversationId behind a prefix that keeps them apart from each other
// and from the other rows of the store's namespace (e.g. DingTalk's limits).
const (
	sharedUserPrefix         = "access:user:"
	sharedConversationPrefix = "access:conversation:"
)

// sharedTimeout bounds the database calls of one command's rate check: past
// it, the command is let through (fail open, see ShareBuckets).
const sharedTimeout = 5 * time.Second

// ShareBuckets makes p keep its per-user and per-chat buckets in b instead
// of in the process, so that every replica sharing b (a PostgreSQL
// database) takes from the same buckets and together they allow only the
// configured rates. now is the clock of the shared buckets, best the
// database's so that replicas whose clocks differ agree (nil: p's clock);
// log gets the errors (nil: slog.Default()). A command takes a token from
// the sender's bucket, then one from the chat's; if the chat's is empty, the
// sender's token is given back. Call it before p is used; without rate
// limits it changes nothing, and a nil b keeps the buckets in the process.
//
// A database error (or a call slower than a few seconds) fails open: the
// command is allowed without the tokens that could not be taken, and the
// error is logged. A command refused because the database is unreachable
// would be worse than a few commands over the limit while it is, and the
// command still needs the database to be stored and run.
func (p *Policy) ShareBuckets(b SharedBuckets, now func() time.Time, log *slog.Logger) {
	if now == nil {
		now = p.now
	}
	if log == nil {
		log = slog.Default()
	}
	p.shared, p.sharedNow, p.sharedLog = b, now, log
}

// Check decides one command: nil allows it (and takes a token from the
// sender's and the chat's buckets), a Denial says which rule denied it. It
// is CheckContext without a context, for policies whose buckets are in
// the process.
func (p *Policy) Check(r Request) *Denial {
	return p.CheckContext(context.Background(), r)
}

// CheckContext is Check with the context of the command, which bounds the
// calls to shared buckets (ShareBuckets); a cancelled context fails open
// like any other error of theirs.
func (p *Policy) CheckContext(ctx context.Context, r Request) *Denial {
	return p.check(ctx, r, true)
}

// Allowed applies the rules of Check to r but not the rate limits: nil if
// the rules allow it, else the rule that denies it. It takes no token, so
// the bot can ask about a command it does not run: the real command of a
// dry run (r.DryRun false), whose reply then says what would be refused.
func (p *Policy) Allowed(r Request) *Denial {
	return p.check(context.Background(), r, false)
}

// check is CheckContext; without rate it stops before the rate limits.
func (p *Policy) check(ctx context.Context, r Request, rate bool) *Denial {
	deny := func(rule Rule) *Denial {
		return &Denial{Rule: rule, UserID: r.UserID, ConversationID: r.ConversationID, Contact: p.contact}
	}
	if r.UserID == "" {
		return deny(RuleExternal)
	}
	if p.Admin(r.UserID, r.DingTalkAdmin) {
		return nil
	}
	if !p.conversationAllowed(r.ConversationID) {
		return deny(RuleConversations)
	}
	if users := p.cmdUsers[r.Command]; users != nil && !users[r.UserID] {
		return deny(CommandRule(r.Command))
	}
	if len(p.users) > 0 || len(p.depts) > 0 {
		if !p.users[r.UserID] && !slices.ContainsFunc(r.Departments, func(d int64) bool { return p.depts[d] }) {
			switch {
			case len(p.depts) == 0:
				return deny(RuleUsers)
			case len(p.users) == 0:
				return deny(RuleDepartments)
			}
			return deny(RuleUsersOrDepartments)
		}
	}
	if !r.DryRun {
		if r.Standard && p.standard != Everyone {
			return deny(RuleStandardGroups)
		}
		if (r.OwnerPending || (r.Owner != "" && r.Owner != r.UserID)) && p.owner != Everyone {
			return deny(RuleOwnerOverride)
		}
	}
	if !rate {
		return nil
	}
	return p.take(ctx, r, deny)
}

// take takes one token from the sender's bucket and one from the chat's, or
// none if either is empty.
func (p *Policy) take(ctx context.Context, r Request, deny func(Rule) *Denial) *Denial {
	if p.perUser == nil && p.perConv == nil {
		return nil
	}
	if p.shared != nil {
		return p.takeShared(ctx, r, deny)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if wait := p.perUser.wait(r.UserID, now); wait > 0 {
		d := deny(RuleRatePerUser)
		d.Limit, d.RetryAfter = p.perUser.rate, wait
		return d
	}
	if wait := p.perConv.wait(r.ConversationID, now); wait > 0 {
		d := deny(RuleRatePerConversation)
		d.Limit, d.RetryAfter = p.perConv.rate, wait
		return d
	}
	p.perUser.take(r.UserID, now)
	p.perConv.take(r.ConversationID, now)
	return nil
}

// takeShared is take on the shared buckets: the sender's token first, then
// the chat's, giving the sender's back if the chat's bucket is empty. Errors
// fail open (see ShareBuckets).
func (p *Policy) takeShared(ctx context.Context, r Request, deny func(Rule) *Denial) *Denial {
	ctx, cancel := context.WithTimeout(ctx, sharedTimeout)
	defer cancel()
	now := p.sharedNow()
	userKey := sharedUserPrefix + r.UserID
	if p.perUser != nil {
		ok, wait, err := p.shared.TakeToken(ctx, userKey, p.perUser.rate.interval(), p.perUser.rate.Burst, now)
		if err != nil {
			p.failOpen(RuleRatePerUser, err)
			return nil
		}
		if !ok {
			d := deny(RuleRatePerUser)
			d.Limit, d.RetryAfter = p.perUser.rate, max(wait, time.Nanosecond)
			return d
		}
	}
	if p.perConv != nil {
		ok, wait, err := p.shared.TakeToken(ctx, sharedConversationPrefix+r.ConversationID, p.perConv.rate.interval(), p.perConv.rate.Burst, now)
		if err != nil {
			p.failOpen(RuleRatePerConversation, err)
			return nil
		}
		if !ok {
			if p.perUser != nil {
				if err := p.shared.ReturnToken(ctx, userKey, p.perUser.rate.interval(), now); err != nil {
					p.sharedLog.Warn("cannot give back the sender's rate-limit token the chat's limit made unused; it counts until it refills",
						"rule", string(RuleRatePerUser), "error", err.Error())
				}
			}
			d := deny(RuleRatePerConversation)
			d.Limit, d.RetryAfter = p.perConv.rate, max(wait, time.Nanosecond)
			return d
		}
	}
	return nil
}

// failOpen logs that the shared bucket of rule could not be read, so the
// command is let through.
func (p *Policy) failOpen(rule Rule, err error) {
	p.sharedLog.Warn("cannot take a token from the shared rate-limit bucket; allowing the command (fail open)",
		"rule", string(rule), "error", err.Error())
}
