package bot_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
	"github.com/dingbot/dingbot/store"
)

// audit returns every audit record, keyed by command text.
func (h *harness) audit(t *testing.T) map[string]store.AuditRecord {
	t.Helper()
	recs, err := h.db.Audit(testutil.Ctx(t), store.AuditFilter{})
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	out := map[string]store.AuditRecord{}
	for _, r := range recs {
		out[r.Text] = r
	}
	return out
}

func TestEveryCommandIsAudited(t *testing.T) {
	h := newHarness(t)
	h.fake.AddUser(dingtalktest.User{UserID: "carol", Name: "Carol", Active: true, Visible: true})
	h.wire(t)
	start := time.Now()

	h.fake.FailNextCreate(400, dingtalktest.CodePermissionFailed, dingtalktest.MsgPermissionFailed)
	refused := h.say(t, groupCommand(`/newgroup Refused @Bob`, dingtalktest.Mention{Name: "Bob", UserID: bob.UserID}))
	created := h.say(t, groupCommand(`/newgroup "Release 4.2" @Bob`, dingtalktest.Mention{Name: "Bob", UserID: bob.UserID}))
	h.say(t, groupCommand(`/help`))
	h.say(t, groupCommand(`/nwegroup x`))
	h.fake.FailNextSearch(403, "Forbidden.AccessDenied.AccessTokenPermissionDenied", "没有调用该接口的权限")
	lookup := h.say(t, dingtalktest.Message{Text: `/newgroup Lookup Carol`, SenderID: alice.UserID})
	testutil.WaitFor(t, wait, "the inbox depth gauge", func() bool {
		return h.metric(t, "dingbot_inbox_depth", map[string]string{"state": "done"}) == 4 &&
			h.metric(t, "dingbot_inbox_depth", map[string]string{"state": "failed"}) == 1
	})
	h.shutdown(t)

	groups := h.fake.Groups()
	if len(groups) != 1 {
		t.Fatalf("%d groups, want 1", len(groups))
	}
	recs := h.audit(t)
	if len(recs) != 5 {
		t.Fatalf("%d audit records, want 5: %+v", len(recs), recs)
	}
	for text, r := range recs {
		if r.Sender != alice.UserID || r.SenderNick != "Alice" || r.ConversationID == "" || r.MsgID == "" {
			t.Errorf("record of %q: sender %q %q, conversation %q, msg %q", text, r.Sender, r.SenderNick, r.ConversationID, r.MsgID)
		}
		if r.At.Before(start.Add(-time.Second)) || r.At.After(time.Now()) {
			t.Errorf("record of %q: at %v, want the receipt time", text, r.At)
		}
	}

	r := recs[`/newgroup Refused @Bob`]
	if r.Command != "newgroup" || r.Outcome != "refused" || r.ErrorCode != dingtalktest.CodePermissionFailed ||
		r.RequestID == "" || !strings.Contains(refused, "DingTalk request ID: "+r.RequestID) || r.GroupOpenConversationID != "" {
		t.Errorf("refused record = %+v; reply %q", r, refused)
	}
	r = recs[`/newgroup "Release 4.2" @Bob`]
	if r.Command != "newgroup" || r.Outcome != "created" || r.GroupOpenConversationID != groups[0].OpenConversationID ||
		r.ChatID != groups[0].ChatID || r.RequestID != "" || r.ErrorCode != "" || !strings.Contains(created, r.GroupOpenConversationID) {
		t.Errorf("created record = %+v, want group %+v", r, groups[0])
	}
	if r := recs[`/help`]; r.Command != "help" || r.Outcome != "answered" {
		t.Errorf("help record = %+v", r)
	}
	if r := recs[`/nwegroup x`]; r.Command != "nwegroup" || r.Outcome != "answered" {
		t.Errorf("unknown command record = %+v", r)
	}
	r = recs[`/newgroup Lookup Carol`]
	if r.Command != "newgroup" || r.Outcome != "answered" || r.ErrorCode != "Forbidden.AccessDenied.AccessTokenPermissionDenied" || r.RequestID == "" {
		t.Errorf("failed look-up record = %+v; reply %q", r, lookup)
	}

	for _, c := range []struct {
		command, outcome string
		want             float64
	}{
		{"newgroup", "refused", 1}, {"newgroup", "created", 1}, {"newgroup", "answered", 1},
		{"help", "answered", 1}, {"other", "answered", 1},
	} {
		if got := h.metric(t, "dingbot_commands_total", map[string]string{"command": c.command, "outcome": c.outcome}); got != c.want {
			t.Errorf("dingbot_commands_total{command=%q,outcome=%q} = %v, want %v", c.command, c.outcome, got, c.want)
		}
	}
	if n := testutil.HistogramCount(t, h.reg, "dingbot_command_duration_seconds", map[string]string{"command": "newgroup"}); n != 3 {
		t.Errorf("dingbot_command_duration_seconds{command=newgroup} has %d observations, want 3", n)
	}
	if n := testutil.HistogramCount(t, h.reg, "dingbot_command_duration_seconds", nil); n != 5 {
		t.Errorf("dingbot_command_duration_seconds has %d observations, want 5", n)
	}
	if n := testutil.HistogramCount(t, h.reg, "dingbot_rate_limit_wait_seconds", map[string]string{"api": "group.create"}); n != 2 {
		t.Errorf("dingbot_rate_limit_wait_seconds{api=group.create} has %d observations, want 2 (one per create)", n)
	}
}

// seedGroups records n groups created by sender, the newest at newest and
// each one a minute older than the one before, named prefix1 (newest) … prefixN.
func seedGroups(t *testing.T, db store.Store, sender, prefix string, n int, newest time.Time) {
	t.Helper()
	for i := range n {
		g := store.Group{MsgID: fmt.Sprintf("seed-%s-%d", sender, i), OpenConversationID: fmt.Sprintf("cid%s%d", sender, i),
			ChatID: fmt.Sprintf("chat%s%d", sender, i), Name: fmt.Sprintf("%s%d", prefix, i+1), Owner: sender,
			Members: []string{sender, "x", "y"}, Sender: sender, CreatedAt: newest.Add(-time.Duration(i) * time.Minute)}
		if err := db.RecordGroup(testutil.Ctx(t), g); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGroupsListsTheSendersGroupsPaged(t *testing.T) {
	h := newHarness(t)
	carol := dingtalktest.User{UserID: "carol", Name: "Carol", Active: true, Visible: true, Admin: true}
	h.fake.AddUser(carol)
	h.wire(t)

	// Alice has 11 older groups and creates one more now; Bob has 3.
	seedGroups(t, h.db, alice.UserID, "Old ", 11, time.Now().Add(-time.Hour))
	seedGroups(t, h.db, bob.UserID, "Bob ", 3, time.Now().Add(-2*time.Hour))
	h.say(t, groupCommand(`/newgroup Newest @Bob`, dingtalktest.Mention{Name: "Bob", UserID: bob.UserID}))
	newest := h.fake.Groups()[0]

	page1 := h.say(t, groupCommand(`/groups`))
	lines := strings.Split(page1, "\n")
	if lines[0] != "Groups you created through me (page 1 of 2, 12 in all):" {
		t.Errorf("page 1 title = %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], `1. "Newest", 2 members, owner alice, created `) || !strings.HasSuffix(lines[1], " UTC") ||
		lines[2] != "   openConversationId: "+newest.OpenConversationID {
		t.Errorf("page 1 starts with %q / %q, want the group just created", lines[1], lines[2])
	}
	if !strings.HasPrefix(lines[3], `2. "Old 1", 3 members, owner alice, created `) || !strings.HasPrefix(lines[19], `10. "Old 9",`) {
		t.Errorf("page 1 is not newest first:\n%s", page1)
	}
	if last := lines[len(lines)-1]; last != "More: /groups --page 2" || len(lines) != 22 {
		t.Errorf("page 1 has %d lines ending %q, want 22 ending with the next page's command", len(lines), last)
	}
	if strings.Contains(page1, "Bob ") {
		t.Errorf("page 1 lists Bob's groups:\n%s", page1)
	}

	page2 := h.say(t, groupCommand(`/groups --page 2`))
	if want := "Groups you created through me (page 2 of 2, 12 in all):"; !strings.HasPrefix(page2, want+"\n11. \"Old 10\"") ||
		!strings.Contains(page2, "\n12. \"Old 11\"") || strings.Contains(page2, "More:") {
		t.Errorf("page 2 =\n%s", page2)
	}
	if got := h.say(t, groupCommand(`/群列表 --page 5`)); got != "没有第 5 页：一共只有 2 页。最后一页：/群列表 --page 2" {
		t.Errorf("page 5 = %q", got)
	}

	// --all is for admins only: Alice is not one, Carol is (DingTalk's isAdmin).
	if got := h.say(t, groupCommand(`/groups --all`)); !strings.Contains(got, "Only admins can list everyone's groups") {
		t.Errorf("/groups --all from a non-admin = %q", got)
	}
	all := h.say(t, dingtalktest.Message{Text: "/groups --all --page 2", SenderID: carol.UserID})
	if !strings.HasPrefix(all, "Groups created through me by everyone (page 2 of 2, 15 in all):\n11. ") ||
		!strings.Contains(all, `"Bob 1", 3 members, owner bob, created `) || !strings.Contains(all, " by bob\n") {
		t.Errorf("/groups --all --page 2 from an admin =\n%s", all)
	}
	if got := h.say(t, dingtalktest.Message{Text: "/groups", SenderID: carol.UserID}); !strings.HasPrefix(got, "You haven't created any groups") {
		t.Errorf("/groups from someone without groups = %q", got)
	}
	h.shutdown(t)

	recs := h.audit(t)
	if r := recs["/groups --all"]; r.Command != "groups" || r.Outcome != "answered" || r.Sender != alice.UserID {
		t.Errorf("audit of /groups --all = %+v", r)
	}
	if got := h.metric(t, "dingbot_commands_total", map[string]string{"command": "groups", "outcome": "answered"}); got != 6 {
		t.Errorf("dingbot_commands_total{command=groups,outcome=answered} = %v, want 6", got)
	}
}

func TestGroupsAllForConfiguredAdmins(t *testing.T) {
	policy, err := access.New(access.Config{Admins: []string{alice.UserID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(o *bot.Options) { o.Access = policy })
	h.wire(t)
	seedGroups(t, h.db, bob.UserID, "Bob ", 2, time.Now())
	if got := h.say(t, groupCommand(`/groups --all`)); !strings.HasPrefix(got, "Groups created through me by everyone (page 1 of 1, 2 in all):") {
		t.Errorf("/groups --all from an access.admins member = %q", got)
	}
	if got := h.say(t, dingtalktest.Message{Text: "/groups --all", SenderID: bob.UserID}); !strings.Contains(got, "Only admins") {
		t.Errorf("/groups --all from someone else = %q", got)
	}
}
