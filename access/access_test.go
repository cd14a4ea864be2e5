package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingbot/dingbot/internal/testutil"
	"github.com/dingbot/dingbot/store"
)

// clock is a fake clock the tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func mustNew(t *testing.T, cfg Config, c *clock) *Policy {
	t.Helper()
	var now func() time.Time
	if c != nil {
		now = c.now
	}
	p, err := New(cfg, now)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func rule(d *Denial) string {
	if d == nil {
		return "allowed"
	}
	return string(d.Rule)
}

// TestRules: one row per rule and combination, without rate limits.
func TestRules(t *testing.T) {
	t.Parallel()
	const cid, other = "cidTeam==", "cidElsewhere=="
	base := Request{UserID: "u1", ConversationID: cid, Owner: "u1"}
	with := func(f func(*Request)) Request {
		r := base
		f(&r)
		return r
	}
	standard := with(func(r *Request) { r.Standard = true })
	owner := with(func(r *Request) { r.Owner = "u2" })
	ownerPending := with(func(r *Request) { r.Owner, r.OwnerPending = "", true })
	dtAdmin := func(r Request) Request { r.DingTalkAdmin = true; return r }
	dry := func(r Request) Request { r.DryRun = true; return r }
	inDept := func(r Request, d ...int64) Request { r.Departments = d; return r }
	as := func(r Request, id string) Request { r.UserID = id; return r }

	cases := []struct {
		name string
		cfg  Config
		req  Request
		want string
	}{
		// Defaults: everyone may create internal groups with themselves as owner.
		{"default internal group", Config{}, base, "allowed"},
		{"default: owner named as yourself", Config{}, with(func(r *Request) { r.Owner = "u1" }), "allowed"},
		{"default: no owner known yet and none pending", Config{}, with(func(r *Request) { r.Owner = "" }), "allowed"},
		{"default standard group", Config{}, standard, "standard_groups"},
		{"default owner override", Config{}, owner, "owner_override"},
		{"default owner pending look-up", Config{}, ownerPending, "owner_override"},
		{"external sender", Config{}, as(base, ""), "external"},
		{"external sender, even as DingTalk admin", Config{TrustDingTalkAdmins: true}, dtAdmin(as(base, "")), "external"},
		{"external dry run", Config{}, dry(as(base, "")), "external"},

		// Admins.
		{"configured admin: standard group", Config{Admins: []string{"u1"}}, standard, "allowed"},
		{"configured admin: owner override", Config{Admins: []string{"u1"}}, owner, "allowed"},
		{"configured admin: pending owner", Config{Admins: []string{"u1"}}, ownerPending, "allowed"},
		{"DingTalk admin, not trusted", Config{}, dtAdmin(standard), "standard_groups"},
		{"DingTalk admin, trusted", Config{TrustDingTalkAdmins: true}, dtAdmin(standard), "allowed"},
		{"admin passes every allow-list", Config{Admins: []string{"u1"}, AllowUsers: []string{"x"}, AllowDepartments: []int64{9},
			AllowConversations: []string{other}}, standard, "allowed"},
		{"trusted DingTalk admin passes allow-lists", Config{TrustDingTalkAdmins: true, AllowUsers: []string{"x"},
			AllowConversations: []string{other}}, dtAdmin(owner), "allowed"},

		// Everyone.
		{"standard_groups: everyone", Config{StandardGroups: Everyone}, standard, "allowed"},
		{"owner_override: everyone", Config{OwnerOverride: Everyone}, owner, "allowed"},
		{"owner_override: everyone, pending", Config{OwnerOverride: Everyone}, ownerPending, "allowed"},
		{"standard_groups everyone does not open owner override", Config{StandardGroups: Everyone},
			with(func(r *Request) { r.Standard, r.Owner = true, "u2" }), "owner_override"},
		{"values are case-insensitive", Config{StandardGroups: "Everyone", OwnerOverride: " ADMINS "}, standard, "allowed"},

		// allow_users / allow_departments: any-of.
		{"allow_users: listed", Config{AllowUsers: []string{"u1"}}, base, "allowed"},
		{"allow_users: not listed", Config{AllowUsers: []string{"u2"}}, base, "allow_users"},
		{"allow_departments: member", Config{AllowDepartments: []int64{7, 8}}, inDept(base, 3, 8), "allowed"},
		{"allow_departments: not a member", Config{AllowDepartments: []int64{7}}, inDept(base, 3), "allow_departments"},
		{"allow_departments: no departments", Config{AllowDepartments: []int64{7}}, base, "allow_departments"},
		{"both: listed user outside the departments", Config{AllowUsers: []string{"u1"}, AllowDepartments: []int64{7}}, inDept(base, 3), "allowed"},
		{"both: department member not listed", Config{AllowUsers: []string{"u2"}, AllowDepartments: []int64{7}}, inDept(base, 7), "allowed"},
		{"both: neither", Config{AllowUsers: []string{"u2"}, AllowDepartments: []int64{7}}, inDept(base, 3), "allow_users+allow_departments"},
		{"allowed user still needs admin for standard", Config{AllowUsers: []string{"u1"}}, standard, "standard_groups"},

		// allow_conversations: a separate gate.
		{"allow_conversations: listed", Config{AllowConversations: []string{cid}}, base, "allowed"},
		{"allow_conversations: not listed", Config{AllowConversations: []string{other}}, base, "allow_conversations"},
		{"conversation gate and user list both pass", Config{AllowConversations: []string{cid}, AllowUsers: []string{"u1"}}, base, "allowed"},
		{"listed user in an unlisted chat", Config{AllowConversations: []string{other}, AllowUsers: []string{"u1"}}, base, "allow_conversations"},
		{"listed chat, unlisted user", Config{AllowConversations: []string{cid}, AllowUsers: []string{"u2"}}, base, "allow_users"},
		{"conversation is checked before the user lists", Config{AllowConversations: []string{other}, AllowUsers: []string{"u2"}}, base, "allow_conversations"},
		{"user lists before standard", Config{AllowUsers: []string{"u2"}}, standard, "allow_users"},
		{"standard before owner", Config{}, with(func(r *Request) { r.Standard, r.Owner = true, "u2" }), "standard_groups"},

		// Dry runs: who may run the command still counts (a dry run looks
		// people up and shows them); what the group may be does not.
		{"dry run of a standard group", Config{}, dry(standard), "allowed"},
		{"dry run with another owner", Config{}, dry(ownerPending), "allowed"},
		{"dry run from an unlisted user and chat", Config{AllowUsers: []string{"u2"}, AllowConversations: []string{other}}, dry(base), "allow_conversations"},
		{"dry run from an unlisted user", Config{AllowUsers: []string{"u2"}}, dry(base), "allow_users"},
		{"dry run from outside the departments", Config{AllowDepartments: []int64{7}}, inDept(dry(base), 3), "allow_departments"},
		{"dry run from a listed user", Config{AllowUsers: []string{"u1"}}, dry(standard), "allowed"},

		// IDs are trimmed.
		{"IDs in the lists are trimmed", Config{AllowUsers: []string{" u1 "}, AllowConversations: []string{" " + cid}}, base, "allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := mustNew(t, tc.cfg, nil).Check(tc.req)
			if got := rule(d); got != tc.want {
				t.Fatalf("Check(%+v) = %s, want %s", tc.req, got, tc.want)
			}
			if d != nil && (d.UserID != tc.req.UserID || d.ConversationID != tc.req.ConversationID) {
				t.Errorf("denial %+v does not carry the sender and chat", d)
			}
		})
	}
}

func TestDenialCarriesContact(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Config{Contact: "  the IT team (@Wang) "}, nil)
	d := p.Check(Request{UserID: "0123", ConversationID: "cid", Standard: true})
	if d == nil || d.Rule != RuleStandardGroups || d.Contact != "the IT team (@Wang)" || d.UserID != "0123" {
		t.Fatalf("denial = %+v", d)
	}
	if d.String() != "denied by standard_groups" {
		t.Errorf("String() = %q", d.String())
	}
}

func TestNeedsDepartments(t *testing.T) {
	t.Parallel()
	cfg := Config{Admins: []string{"boss"}, AllowUsers: []string{"listed"}, AllowDepartments: []int64{7}, AllowConversations: []string{"cid"}}
	p := mustNew(t, cfg, nil)
	cases := []struct {
		req  Request
		want bool
	}{
		{Request{UserID: "u1", ConversationID: "cid"}, true},
		{Request{UserID: "listed", ConversationID: "cid"}, false},          // allow_users decides
		{Request{UserID: "boss", ConversationID: "cid"}, false},            // admins pass
		{Request{UserID: "u1", ConversationID: "elsewhere"}, false},        // the conversation gate denies anyway
		{Request{UserID: "u1", ConversationID: "cid", DryRun: true}, true}, // dry runs obey allow_departments too
		{Request{UserID: "", ConversationID: "cid"}, false},
	}
	for _, tc := range cases {
		if got := p.NeedsDepartments(tc.req); got != tc.want {
			t.Errorf("NeedsDepartments(%+v) = %v, want %v", tc.req, got, tc.want)
		}
	}
	if mustNew(t, Config{AllowUsers: []string{"x"}}, nil).NeedsDepartments(Request{UserID: "u1"}) {
		t.Error("NeedsDepartments without allow_departments")
	}
}

// TestRateLimits drives the buckets with a fake clock.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	t.Run("per user: burst, refill, retry time", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		p := mustNew(t, Config{Rate: RateConfig{PerUser: "3/h"}}, c)
		r := Request{UserID: "u1", ConversationID: "cid", Owner: "u1"}
		for i := range 3 {
			if d := p.Check(r); d != nil {
				t.Fatalf("command %d denied: %v", i+1, d)
			}
		}
		d := p.Check(r)
		if d == nil || d.Rule != RuleRatePerUser || d.RetryAfter != 20*time.Minute || d.Limit != (Rate{N: 3, Per: time.Hour, Burst: 3}) {
			t.Fatalf("4th command: %+v, want rate.per_user, retry after 20m", d)
		}
		c.advance(5 * time.Minute)
		if d := p.Check(r); d == nil || d.RetryAfter != 15*time.Minute {
			t.Fatalf("5 minutes later: %+v, want retry after 15m", d)
		}
		// Another user is not affected.
		if d := p.Check(Request{UserID: "u2", ConversationID: "cid"}); d != nil {
			t.Fatalf("other user denied: %v", d)
		}
		c.advance(15 * time.Minute)
		if d := p.Check(r); d != nil {
			t.Fatalf("after the refill: %v", d)
		}
		if d := p.Check(r); d == nil || d.RetryAfter != 20*time.Minute {
			t.Fatalf("right after: %+v", d)
		}
	})
	t.Run("per conversation, with burst", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		p := mustNew(t, Config{Rate: RateConfig{PerConversation: "2/m", ConversationBurst: 1}}, c)
		if d := p.Check(Request{UserID: "u1", ConversationID: "cid"}); d != nil {
			t.Fatal(d)
		}
		d := p.Check(Request{UserID: "u2", ConversationID: "cid"})
		if d == nil || d.Rule != RuleRatePerConversation || d.RetryAfter != 30*time.Second || d.Limit.Burst != 1 {
			t.Fatalf("second command in the chat: %+v", d)
		}
		if d := p.Check(Request{UserID: "u2", ConversationID: "other"}); d != nil {
			t.Fatalf("another chat: %v", d)
		}
		c.advance(30 * time.Second)
		if d := p.Check(Request{UserID: "u2", ConversationID: "cid"}); d != nil {
			t.Fatal(d)
		}
	})
	t.Run("a command denied by the chat takes no token from the user", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		p := mustNew(t, Config{Rate: RateConfig{PerUser: "2/h", PerConversation: "1/h"}}, c)
		if d := p.Check(Request{UserID: "u1", ConversationID: "a"}); d != nil {
			t.Fatal(d)
		}
		for range 5 {
			if d := p.Check(Request{UserID: "u1", ConversationID: "a"}); rule(d) != "rate.per_conversation" {
				t.Fatalf("got %v", d)
			}
		}
		if d := p.Check(Request{UserID: "u1", ConversationID: "b"}); d != nil {
			t.Fatalf("the user's second token was used up by denied commands: %v", d)
		}
		if d := p.Check(Request{UserID: "u1", ConversationID: "c"}); rule(d) != "rate.per_user" {
			t.Fatalf("third: %v", d)
		}
	})
	t.Run("denied by a rule: no token taken", func(t *testing.T) {
		t.Parallel()
		p := mustNew(t, Config{Rate: RateConfig{PerUser: "1/h"}}, newClock())
		for range 3 {
			if d := p.Check(Request{UserID: "u1", ConversationID: "a", Standard: true}); rule(d) != "standard_groups" {
				t.Fatalf("got %v", d)
			}
		}
		if d := p.Check(Request{UserID: "u1", ConversationID: "a"}); d != nil {
			t.Fatal(d)
		}
	})
	t.Run("admins are exempt", func(t *testing.T) {
		t.Parallel()
		p := mustNew(t, Config{Admins: []string{"boss"}, TrustDingTalkAdmins: true, Rate: RateConfig{PerUser: "1/h", PerConversation: "1/h"}}, newClock())
		for range 10 {
			if d := p.Check(Request{UserID: "boss", ConversationID: "a"}); d != nil {
				t.Fatal(d)
			}
			if d := p.Check(Request{UserID: "orgadmin", DingTalkAdmin: true, ConversationID: "a"}); d != nil {
				t.Fatal(d)
			}
		}
		if d := p.Check(Request{UserID: "u1", ConversationID: "a"}); d != nil {
			t.Fatalf("admins used the chat's token: %v", d)
		}
	})
	t.Run("dry runs are limited too", func(t *testing.T) {
		t.Parallel()
		p := mustNew(t, Config{Rate: RateConfig{PerUser: "1/h"}}, newClock())
		if d := p.Check(Request{UserID: "u1", ConversationID: "a", DryRun: true}); d != nil {
			t.Fatal(d)
		}
		if d := p.Check(Request{UserID: "u1", ConversationID: "a", DryRun: true}); rule(d) != "rate.per_user" {
			t.Fatalf("got %v", d)
		}
	})
	t.Run("a clock going back does not add tokens", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		p := mustNew(t, Config{Rate: RateConfig{PerUser: "1/h"}}, c)
		p.Check(Request{UserID: "u1"})
		c.advance(-time.Hour)
		if d := p.Check(Request{UserID: "u1"}); d == nil || d.RetryAfter != time.Hour {
			t.Fatalf("got %+v", d)
		}
	})
}

// TestIdleBucketsAreEvicted: memory holds only recently active keys.
func TestIdleBucketsAreEvicted(t *testing.T) {
	t.Parallel()
	c := newClock()
	p := mustNew(t, Config{Rate: RateConfig{PerUser: "2/m", PerConversation: "10/h"}}, c)
	for i := range 1000 {
		if d := p.Check(Request{UserID: fmt.Sprint("u", i), ConversationID: fmt.Sprint("c", i)}); d != nil {
			t.Fatal(d)
		}
	}
	if n := len(p.perUser.m); n != 1000 {
		t.Fatalf("%d user buckets, want 1000", n)
	}
	c.advance(time.Minute) // every user bucket is full again; chat buckets are not
	p.Check(Request{UserID: "new", ConversationID: "c0"})
	if n := len(p.perUser.m); n != 1 {
		t.Errorf("%d user buckets after a minute, want 1", n)
	}
	if n := len(p.perConv.m); n != 1000 {
		t.Errorf("%d chat buckets, want 1000 (not full yet)", n)
	}
	c.advance(time.Hour)
	p.Check(Request{UserID: "new", ConversationID: "c1"})
	if n := len(p.perConv.m); n != 1 {
		t.Errorf("%d chat buckets after an hour, want 1", n)
	}
}

func TestBucketCap(t *testing.T) {
	t.Parallel()
	b, err := newBuckets("k", "1/h", "b", 0)
	if err != nil {
		t.Fatal(err)
	}
	now := newClock().t
	for i := range maxBuckets + 10 {
		b.take(fmt.Sprint(i), now)
	}
	if len(b.m) > maxBuckets {
		t.Fatalf("%d buckets, more than %d", len(b.m), maxBuckets)
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	good := map[string]Rate{
		"5/h":      {5, time.Hour, 5},
		" 20 / m ": {20, time.Minute, 20},
		"1/s":      {1, time.Second, 1},
		"3/d":      {3, 24 * time.Hour, 3},
		"20/10m":   {20, 10 * time.Minute, 20},
		"7/1h30m":  {7, 90 * time.Minute, 7},
	}
	for in, want := range good {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"5", "5 per hour", "0/h", "-1/h", "x/h", "5/w", "5/500ms", "5/60d", "5/", "/h", "2000000/h"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}

// TestConfigErrorsNameTheKey: every invalid setting is reported with its key.
func TestConfigErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Admins: []string{"a", " "}}, "access.admins[1]: empty ID"},
		{Config{AllowUsers: []string{"a b"}}, "access.allow_users[0]:"},
		{Config{AllowConversations: []string{""}}, "access.allow_conversations[0]: empty ID"},
		{Config{AllowDepartments: []int64{1, 0}}, "access.allow_departments[1]:"},
		{Config{StandardGroups: "all"}, `access.standard_groups: "all" is not admins or everyone`},
		{Config{OwnerOverride: "nobody"}, `access.owner_override: "nobody" is not admins or everyone`},
		{Config{Contact: "line1\nline2"}, "access.contact:"},
		{Config{Rate: RateConfig{PerUser: "5 per hour"}}, `access.rate.per_user: "5 per hour" is not N/PERIOD`},
		{Config{Rate: RateConfig{PerConversation: "0/h"}}, "access.rate.per_conversation:"},
		{Config{Rate: RateConfig{UserBurst: 3}}, "access.rate.user_burst: set without access.rate.per_user"},
		{Config{Rate: RateConfig{PerConversation: "1/h", ConversationBurst: -1}}, "access.rate.conversation_burst:"},
	}
	for _, tc := range cases {
		_, err := New(tc.cfg, nil)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error starting with %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := New(Config{}, nil); err != nil {
		t.Errorf("zero Config: %v", err)
	}
}

func TestRulesAreListed(t *testing.T) {
	t.Parallel()
	seen := map[Rule]bool{}
	for _, r := range Rules() {
		if seen[r] {
			t.Errorf("%s listed twice", r)
		}
		seen[r] = true
	}
	if len(seen) != 10 {
		t.Errorf("%d rules", len(seen))
	}
}

func TestCommandRules(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Config{Admins: []string{"boss"}, Commands: map[string]CommandConfig{
		"rename":    {AllowUsers: []string{"u1"}},
		"addmember": {Manage: "Everyone"},
	}}, nil)
	cases := []struct {
		req  Request
		want string
	}{
		{Request{Command: "rename", UserID: "u1"}, "allowed"},
		{Request{Command: "rename", UserID: "u2"}, "commands.rename.allow_users"},
		{Request{Command: "rename", UserID: "boss"}, "allowed"}, // admins pass
		{Request{Command: "addmember", UserID: "u2"}, "allowed"},
		{Request{Command: "newgroup", UserID: "u2"}, "allowed"}, // other commands are untouched
	}
	for _, tc := range cases {
		if got := rule(p.Check(tc.req)); got != tc.want {
			t.Errorf("Check(%+v) = %s, want %s", tc.req, got, tc.want)
		}
	}
	if !p.ManagedByEveryone("addmember") || p.ManagedByEveryone("rename") || (*Policy)(nil).ManagedByEveryone("addmember") {
		t.Error("ManagedByEveryone")
	}
	for _, bad := range []map[string]CommandConfig{
		{"Rename": {}}, {"/rename": {}}, {"rename": {Manage: "admins"}}, {"rename": {AllowUsers: []string{""}}},
	} {
		if _, err := New(Config{Commands: bad}, nil); err == nil || !strings.Contains(err.Error(), "access.commands.") {
			t.Errorf("New(%v) = %v, want an error naming access.commands", bad, err)
		}
	}
}

// openSQLite opens a SQLite store in a temporary directory, as one process
// would share its buckets (the engine PostgreSQL replicas use passes the
// same conformance suite).
func openSQLite(t *testing.T) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// mustShare returns a Policy of cfg whose buckets are in b, on c's clock.
func mustShare(t *testing.T, cfg Config, c *clock, b SharedBuckets, log *slog.Logger) *Policy {
	t.Helper()
	p := mustNew(t, cfg, nil)
	p.ShareBuckets(b, c.now, log)
	return p
}

// TestSharedBuckets: the rate limits behave as the in-process buckets do
// when the buckets are in a store, and two policies on one store share them.
func TestSharedBuckets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("per user: burst, refill, retry time, shared", func(t *testing.T) {
		t.Parallel()
		c, db := newClock(), openSQLite(t)
		cfg := Config{Rate: RateConfig{PerUser: "3/h"}}
		p1, p2 := mustShare(t, cfg, c, db, nil), mustShare(t, cfg, c, db, nil)
		r := Request{UserID: "u1", ConversationID: "cid", Owner: "u1"}
		for i, p := range []*Policy{p1, p2, p1} {
			if d := p.CheckContext(ctx, r); d != nil {
				t.Fatalf("command %d denied: %v", i+1, d)
			}
		}
		for _, p := range []*Policy{p1, p2} {
			d := p.CheckContext(ctx, r)
			if d == nil || d.Rule != RuleRatePerUser || d.RetryAfter != 20*time.Minute || d.Limit != (Rate{N: 3, Per: time.Hour, Burst: 3}) ||
				d.UserID != "u1" || d.ConversationID != "cid" {
				t.Fatalf("4th command: %+v, want rate.per_user, retry after 20m", d)
			}
		}
		c.advance(5 * time.Minute)
		if d := p2.Check(r); d == nil || d.RetryAfter != 15*time.Minute {
			t.Fatalf("5 minutes later: %+v, want retry after 15m", d)
		}
		if d := p1.CheckContext(ctx, Request{UserID: "u2", ConversationID: "cid"}); d != nil {
			t.Fatalf("other user denied: %v", d)
		}
		c.advance(15 * time.Minute)
		if d := p2.CheckContext(ctx, r); d != nil {
			t.Fatalf("after the refill: %v", d)
		}
		if d := p1.CheckContext(ctx, r); d == nil || d.RetryAfter != 20*time.Minute {
			t.Fatalf("right after: %+v", d)
		}
		// An in-process policy keeps its own buckets.
		if d := mustNew(t, cfg, c).Check(r); d != nil {
			t.Fatalf("in-process policy: %v", d)
		}
	})
	t.Run("per conversation, with burst", func(t *testing.T) {
		t.Parallel()
		c, db := newClock(), openSQLite(t)
		cfg := Config{Rate: RateConfig{PerConversation: "2/m", ConversationBurst: 1}}
		p1, p2 := mustShare(t, cfg, c, db, nil), mustShare(t, cfg, c, db, nil)
		if d := p1.CheckContext(ctx, Request{UserID: "u1", ConversationID: "cid"}); d != nil {
			t.Fatal(d)
		}
		d := p2.CheckContext(ctx, Request{UserID: "u2", ConversationID: "cid"})
		if d == nil || d.Rule != RuleRatePerConversation || d.RetryAfter != 30*time.Second || d.Limit.Burst != 1 {
			t.Fatalf("second command in the chat: %+v", d)
		}
		if d := p2.CheckContext(ctx, Request{UserID: "u2", ConversationID: "other"}); d != nil {
			t.Fatalf("another chat: %v", d)
		}
		c.advance(30 * time.Second)
		if d := p2.CheckContext(ctx, Request{UserID: "u2", ConversationID: "cid"}); d != nil {
			t.Fatal(d)
		}
	})
	t.Run("a command denied by the chat gives the user's token back", func(t *testing.T) {
		t.Parallel()
		c, db := newClock(), openSQLite(t)
		p := mustShare(t, Config{Rate: RateConfig{PerUser: "2/h", PerConversation: "1/h"}}, c, db, nil)
		if d := p.CheckContext(ctx, Request{UserID: "u1", ConversationID: "a"}); d != nil {
			t.Fatal(d)
		}
		for range 5 {
			d := p.CheckContext(ctx, Request{UserID: "u1", ConversationID: "a"})
			if rule(d) != "rate.per_conversation" || d.RetryAfter != time.Hour || d.Limit.N != 1 {
				t.Fatalf("got %+v", d)
			}
		}
		if d := p.CheckContext(ctx, Request{UserID: "u1", ConversationID: "b"}); d != nil {
			t.Fatalf("the user's second token was used up by denied commands: %v", d)
		}
		if d := p.CheckContext(ctx, Request{UserID: "u1", ConversationID: "c"}); rule(d) != "rate.per_user" || d.RetryAfter != 30*time.Minute {
			t.Fatalf("third: %+v", d)
		}
	})
	t.Run("denied by a rule or an admin: no token taken", func(t *testing.T) {
		t.Parallel()
		c, db := newClock(), openSQLite(t)
		p := mustShare(t, Config{Admins: []string{"boss"}, Rate: RateConfig{PerUser: "1/h", PerConversation: "1/h"}}, c, db, nil)
		for range 3 {
			if d := p.CheckContext(ctx, Request{UserID: "u1", ConversationID: "a", Standard: true}); rule(d) != "standard_groups" {
				t.Fatalf("got %v", d)
			}
			if d := p.CheckContext(ctx, Request{UserID: "boss", ConversationID: "a"}); d != nil {
				t.Fatalf("admin: %v", d)
			}
		}
		if d := p.CheckContext(ctx, Request{UserID: "u1", ConversationID: "a"}); d != nil {
			t.Fatal(d)
		}
	})
	t.Run("user and chat IDs are separate keys", func(t *testing.T) {
		t.Parallel()
		c, db := newClock(), openSQLite(t)
		p := mustShare(t, Config{Rate: RateConfig{PerUser: "1/h", PerConversation: "1/h"}}, c, db, nil)
		if d := p.CheckContext(ctx, Request{UserID: "x", ConversationID: "x"}); d != nil {
			t.Fatal(d)
		}
		if d := p.CheckContext(ctx, Request{UserID: "y", ConversationID: "y"}); d != nil {
			t.Fatalf("a user whose ID is another chat's: %v", d)
		}
	})
}

// failingBuckets fail every call, like a database that is down.
type failingBuckets struct {
	takes, returns int
	failTake       func(key string) bool
	inner          SharedBuckets
}

func (f *failingBuckets) TakeToken(ctx context.Context, key string, interval time.Duration, burst int, now time.Time) (bool, time.Duration, error) {
	f.takes++
	if f.failTake == nil || f.failTake(key) {
		return false, 0, errors.New("connection refused")
	}
	return f.inner.TakeToken(ctx, key, interval, burst, now)
}

func (f *failingBuckets) ReturnToken(ctx context.Context, key string, interval time.Duration, now time.Time) error {
	f.returns++
	return errors.New("connection refused")
}

// TestSharedBucketsFailOpen: a database error lets the command through and
// is logged.
func TestSharedBucketsFailOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	c := newClock()
	f := &failingBuckets{}
	p := mustShare(t, Config{Rate: RateConfig{PerUser: "1/h", PerConversation: "1/h"}}, c, f, log)
	for range 3 {
		if d := p.CheckContext(ctx, Request{UserID: "u1", ConversationID: "a"}); d != nil {
			t.Fatalf("with the database down: %v, want allowed", d)
		}
	}
	if f.takes != 3 || !strings.Contains(logs.String(), "fail open") || !strings.Contains(logs.String(), "connection refused") ||
		!strings.Contains(logs.String(), "rule=rate.per_user") {
		t.Fatalf("%d takes; log:\n%s", f.takes, logs.String())
	}

	// The chat's bucket fails after the user's token was taken: allowed too.
	logs.Reset()
	f = &failingBuckets{inner: openSQLite(t), failTake: func(key string) bool { return strings.HasPrefix(key, sharedConversationPrefix) }}
	p = mustShare(t, Config{Rate: RateConfig{PerUser: "1/h", PerConversation: "1/h"}}, c, f, log)
	if d := p.CheckContext(ctx, Request{UserID: "u1", ConversationID: "a"}); d != nil {
		t.Fatalf("with the chat's bucket failing: %v, want allowed", d)
	}
	if !strings.Contains(logs.String(), "rule=rate.per_conversation") {
		t.Fatalf("log:\n%s", logs.String())
	}
	// The user's token was taken.
	if d := p.CheckContext(ctx, Request{UserID: "u1", ConversationID: "a"}); rule(d) != "rate.per_user" {
		t.Fatalf("second command: %v", d)
	}
}

// TestSharedBucketsReturnFails: a token that cannot be given back is
// logged, and the chat's denial still reported.
func TestSharedBucketsReturnFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var logs strings.Builder
	c := newClock()
	f := &failingBuckets{inner: openSQLite(t), failTake: func(string) bool { return false }}
	p := mustShare(t, Config{Rate: RateConfig{PerUser: "5/h", PerConversation: "1/h"}}, c, f, slog.New(slog.NewTextHandler(&logs, nil)))
	if d := p.CheckContext(ctx, Request{UserID: "u1", ConversationID: "a"}); d != nil {
		t.Fatal(d)
	}
	if d := p.CheckContext(ctx, Request{UserID: "u1", ConversationID: "a"}); rule(d) != "rate.per_conversation" || d.RetryAfter != time.Hour {
		t.Fatalf("got %+v", d)
	}
	if f.returns != 1 || !strings.Contains(logs.String(), "cannot give back") {
		t.Fatalf("%d returns; log:\n%s", f.returns, logs.String())
	}
}

// TestSharedBucketsPostgres: two policies on two store handles of one
// PostgreSQL database, like two replicas, together allow one user only the
// configured rate, also when their commands come at the same instant.
func TestSharedBucketsPostgres(t *testing.T) {
	t.Parallel()
	url := testutil.PostgresDatabase(t, "dingbot_access")
	ctx := context.Background()
	open := func() store.Store {
		s, err := store.Open(ctx, url, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	c := newClock()
	cfg := Config{Rate: RateConfig{PerUser: "4/h", PerConversation: "1000/h"}}
	policies := []*Policy{mustShare(t, cfg, c, open(), nil), mustShare(t, cfg, c, open(), nil)}
	round := func(want int) {
		t.Helper()
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			allowed int
			retry   = map[time.Duration]int{}
		)
		for w := range 10 {
			wg.Go(func() {
				for i := range 5 {
					d := policies[w%2].CheckContext(ctx, Request{UserID: "u1", ConversationID: fmt.Sprint("c", w, i)})
					mu.Lock()
					if d == nil {
						allowed++
					} else if d.Rule != RuleRatePerUser || d.Limit.N != 4 {
						t.Errorf("denied by %+v, want rate.per_user", d)
					} else {
						retry[d.RetryAfter]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if allowed != want || len(retry) != 1 || retry[15*time.Minute] != 50-want {
			t.Fatalf("at %v: %d of 50 commands allowed, want %d; denials by retry-after: %v", c.t, allowed, want, retry)
		}
	}
	round(4) // the burst, across both replicas
	c.advance(15 * time.Minute)
	round(1) // one token back
	c.advance(10 * time.Minute)
	// 5 minutes to the next token
	if d := policies[1].CheckContext(ctx, Request{UserID: "u1", ConversationID: "x"}); d == nil || d.RetryAfter != 5*time.Minute {
		t.Fatalf("got %+v, want retry after 5m", d)
	}
	// Another user has a bucket of their own.
	if d := policies[0].CheckContext(ctx, Request{UserID: "u2", ConversationID: "x"}); d != nil {
		t.Fatal(d)
	}
}
