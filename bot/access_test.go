package bot_test

import (
	"sync"
	"testing"
	"time"

	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/dingtalktest"
)

// accessHarness is a harness whose Bot applies the access policy cfg, with a
// fake clock for the rate limits, connected to the fake.
func accessHarness(t *testing.T, cfg access.Config, clock func() time.Time) *harness {
	t.Helper()
	policy, err := access.New(cfg, clock)
	if err != nil {
		t.Fatalf("access.New: %v", err)
	}
	h := newHarness(t, func(o *bot.Options) { o.Access = policy })
	return h
}

// accessSay sends m and returns the text of the reply it gets.
func accessSay(t *testing.T, h *harness, m dingtalktest.Message) string {
	t.Helper()
	before := len(h.fake.Replies())
	h.send(t, m)
	return h.waitReplies(t, before+1)[before].Text
}

// frozen is a clock that only moves when told to.
type frozen struct {
	mu sync.Mutex
	t  time.Time
}

func (f *frozen) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *frozen) advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// TestAccessDeniedCommandCallsNothing: a denied user reads which rule denied
// them, whom to ask and their user ID; DingTalk gets no create call and no
// look-up (the owner named by mobile is denied before it is looked up).
func TestAccessDeniedCommandCallsNothing(t *testing.T) {
	h := accessHarness(t, access.Config{Contact: "the IT team (@Wang)"}, nil)
	h.fake.AddUser(dingtalktest.User{UserID: "carol", Name: "Carol", Mobile: "13800000003", Active: true, Visible: true})
	h.wire(t)

	cases := []struct {
		msg  dingtalktest.Message
		want string
	}{
		{
			groupCommand(`/newgroup Vendors @Bob --standard`, dingtalktest.Mention{Name: "Bob", UserID: bob.UserID}),
			"Only admins may create standard groups (rule: standard_groups). " +
				"Ask the IT team (@Wang) to add your user ID alice to access.admins, or create an internal group instead (--internal).",
		},
		{
			groupCommand(`/newgroup Oncall --owner @Bob`, dingtalktest.Mention{Name: "Bob", UserID: bob.UserID}),
			"Only admins may make someone else the owner of a new group (rule: owner_override). " +
				"Ask the IT team (@Wang) to add your user ID alice to access.admins, or leave out --owner to be the owner yourself.",
		},
		{
			dingtalktest.Message{Text: `/建群 值班 --群主 13800000003`, SenderID: alice.UserID},
			"只有管理员可以指定别人当群主（规则：owner_override）。请联系the IT team (@Wang)，把你的用户 ID alice 加入 access.admins；或去掉 --群主，由你自己当群主。",
		},
	}
	for _, tc := range cases {
		if got := accessSay(t, h, tc.msg); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.msg.Text, got, tc.want)
		}
	}
	h.shutdown(t)

	if n := len(h.fake.CreateRequests()); n != 0 {
		t.Errorf("%d create calls, want 0", n)
	}
	for _, p := range []string{dingtalktest.PathUserByMobile, dingtalktest.PathUserGet, dingtalktest.PathUserSearch} {
		if n := h.fake.LookupCalls(p); n != 0 {
			t.Errorf("%d calls of %s, want 0", n, p)
		}
	}
	if got := h.metric(t, "dingbot_commands_total", map[string]string{"outcome": "denied"}); got != 3 {
		t.Errorf("dingbot_commands_total{outcome=denied} = %v, want 3", got)
	}
}

// TestAccessAdmins: a configured admin, and a DingTalk admin when the operator
// trusts DingTalk's isAdmin (which the Stream message carries), may create a
// standard group; a DingTalk admin is not trusted by default.
func TestAccessAdmins(t *testing.T) {
	boss := dingtalktest.User{UserID: "boss", Name: "Boss", Active: true, Visible: true}
	orgAdmin := dingtalktest.User{UserID: "orgadmin", Name: "Org Admin", Admin: true, Active: true, Visible: true}
	for _, tc := range []struct {
		name  string
		cfg   access.Config
		user  dingtalktest.User
		allow bool
	}{
		{"configured admin", access.Config{Admins: []string{"boss"}}, boss, true},
		{"DingTalk admin, trusted", access.Config{TrustDingTalkAdmins: true}, orgAdmin, true},
		{"DingTalk admin, not trusted", access.Config{}, orgAdmin, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := accessHarness(t, tc.cfg, nil)
			h.fake.AddUser(tc.user)
			h.fake.SetStandardGroupsAllowed(true)
			h.wire(t)
			reply := accessSay(t, h, dingtalktest.Message{Text: `/newgroup Vendors userid:bob --standard`, SenderID: tc.user.UserID})
			h.shutdown(t)
			created := len(h.fake.Groups()) == 1
			if created != tc.allow {
				t.Fatalf("created = %v, want %v; reply:\n%s", created, tc.allow, reply)
			}
			if !tc.allow && reply != "Only admins may create standard groups (rule: standard_groups). "+
				"Ask an admin of this bot to add your user ID orgadmin to access.admins, or create an internal group instead (--internal)." {
				t.Errorf("reply:\n%s", reply)
			}
			if tc.allow {
				if reqs := h.fake.CreateRequests(); len(reqs) != 1 || reqs[0].Status != 200 {
					t.Fatalf("create requests: %+v", reqs)
				}
			}
		})
	}
}

// TestAccessDepartmentsAreLookedUpOnceAndCached: with allow_departments, the
// sender's departments come from DingTalk's user-details API once per user
// for the look-up cache TTL; a listed user needs no look-up at all.
func TestAccessDepartmentsAreLookedUpOnceAndCached(t *testing.T) {
	h := accessHarness(t, access.Config{AllowDepartments: []int64{7}, AllowUsers: []string{"listed"}}, nil)
	h.fake.AddUser(dingtalktest.User{UserID: "alice", Name: "Alice", DeptIDs: []int64{3, 7}, Active: true, Visible: true})
	h.fake.AddUser(dingtalktest.User{UserID: "bob", Name: "Bob", DeptIDs: []int64{3}, Active: true, Visible: true})
	h.fake.AddUser(dingtalktest.User{UserID: "listed", Name: "Listed", Active: true, Visible: true})
	h.wire(t)

	for _, name := range []string{"One", "Two", "Three"} {
		if reply := accessSay(t, h, dingtalktest.Message{Text: "/newgroup " + name, SenderID: "alice"}); reply == "" {
			t.Fatal("no reply")
		}
	}
	if n := len(h.fake.Groups()); n != 3 {
		t.Fatalf("%d groups, want 3", n)
	}
	if n := h.fake.LookupCalls(dingtalktest.PathUserGet); n != 1 {
		t.Errorf("%d user-details calls for alice's three commands, want 1", n)
	}

	want := "Only listed people and members of listed departments may create groups, and you are neither (rules: allow_users, allow_departments). " +
		"Ask an admin of this bot to add your user ID bob to access.allow_users."
	for range 2 {
		if got := accessSay(t, h, dingtalktest.Message{Text: "/newgroup Four", SenderID: "bob"}); got != want {
			t.Errorf("bob:\n got %s\nwant %s", got, want)
		}
	}
	accessSay(t, h, dingtalktest.Message{Text: "/newgroup Five", SenderID: "listed"})
	h.shutdown(t)

	if n := h.fake.LookupCalls(dingtalktest.PathUserGet); n != 2 {
		t.Errorf("%d user-details calls in all, want 2 (alice once, bob once, listed never)", n)
	}
	if n := len(h.fake.Groups()); n != 4 {
		t.Errorf("%d groups, want 4 (bob's two denied)", n)
	}
}

// TestAccessDepartmentLookupFailure: when the departments cannot be looked
// up, nothing is created and the reply says so.
func TestAccessDepartmentLookupFailure(t *testing.T) {
	h := accessHarness(t, access.Config{AllowDepartments: []int64{7}}, nil)
	h.fake.FailNextLegacy(dingtalktest.PathUserGet, dingtalktest.ErrcodeNoPermission, "no permission")
	h.wire(t)
	got := accessSay(t, h, dingtalktest.Message{Text: "/newgroup One", SenderID: "alice"})
	h.shutdown(t)
	if want := "I couldn't look up your departments in DingTalk to check whether you may create groups, so I created nothing. Try again in a minute."; got != want {
		t.Errorf("reply:\n got %s\nwant %s", got, want)
	}
	if n := len(h.fake.CreateRequests()); n != 0 {
		t.Errorf("%d create calls, want 0", n)
	}
}

// TestAccessRateLimits: the per-user bucket and the per-chat bucket, on a
// fake clock; the reply says when to try again; admins are exempt; dry runs
// that call DingTalk count.
func TestAccessRateLimits(t *testing.T) {
	clock := &frozen{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	h := accessHarness(t, access.Config{Admins: []string{"boss"}, Rate: access.RateConfig{PerUser: "2/h", PerConversation: "3/h"}}, clock.now)
	h.fake.AddUser(dingtalktest.User{UserID: "boss", Name: "Boss", Active: true, Visible: true})
	h.wire(t)
	from := func(sender, text string) dingtalktest.Message {
		return dingtalktest.Message{Text: text, SenderID: sender, Group: true, ConversationTitle: "Team"}
	}

	accessSay(t, h, from("alice", "/newgroup One"))
	// A dry run that looks someone up calls DingTalk, so it counts; one that
	// needs no look-up is answered without the pipeline and does not.
	accessSay(t, h, from("alice", "/newgroup Two --dry-run"))
	accessSay(t, h, from("alice", "/newgroup Two Bob --dry-run"))
	if got, want := accessSay(t, h, from("alice", "/newgroup Three")),
		"/newgroup is limited to 2 per hour for each person, and you have reached that (rule: rate.per_user). Try again in 30 minutes."; got != want {
		t.Errorf("third command:\n got %s\nwant %s", got, want)
	}
	clock.advance(10 * time.Minute)
	if got, want := accessSay(t, h, from("alice", "/建群 四")),
		"每人每小时最多 /建群 2 次，你已达到上限（规则：rate.per_user）。请在 20 分钟后再试。"; got != want {
		t.Errorf("ten minutes later:\n got %s\nwant %s", got, want)
	}
	accessSay(t, h, from("bob", "/newgroup Five"))
	if got, want := accessSay(t, h, from("bob", "/newgroup Six")),
		"/newgroup is limited to 3 per hour in each chat, and this chat has reached that (rule: rate.per_conversation). Try again in 10 minutes."; got != want {
		t.Errorf("the chat's fourth command:\n got %s\nwant %s", got, want)
	}
	for _, name := range []string{"Seven", "Eight", "Nine"} {
		accessSay(t, h, from("boss", "/newgroup "+name))
	}
	h.shutdown(t)

	// One, Five and the boss's three; Two was a dry run.
	if n := len(h.fake.Groups()); n != 5 {
		t.Errorf("%d groups, want 5", n)
	}
	if got := h.metric(t, "dingbot_commands_total", map[string]string{"outcome": "denied"}); got != 3 {
		t.Errorf("dingbot_commands_total{outcome=denied} = %v, want 3", got)
	}
}
