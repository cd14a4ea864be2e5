package bot_test

// What a forged or replayed message must not achieve (issue #11): replies
// only ever go to DingTalk, a redelivery cannot redirect an earlier reply,
// a claimed isAdmin is checked where nothing authenticates it, and a dry
// run shows nobody's user ID to a sender who may not run the command.

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
)

func TestForeignSessionWebhookIsNeverPosted(t *testing.T) {
	var hits atomic.Int32
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
	}))
	t.Cleanup(attacker.Close)
	for _, tc := range []struct {
		name    string
		webhook func(fake string) string
		group   bool
		wantVia string
	}{
		{"another host, group chat", func(string) string { return attacker.URL + "/robot/sendBySession?session=x" }, true, dingtalktest.ViaGroupAPI},
		{"another host, one-to-one chat", func(string) string { return attacker.URL + "/robot/sendBySession?session=x" }, false, dingtalktest.ViaOTOAPI},
		{"DingTalk's host, another path", func(fake string) string { return fake + "/robot/send?access_token=x" }, true, dingtalktest.ViaGroupAPI},
		{"an internal address", func(string) string { return "http://169.254.169.254/latest/meta-data/" }, true, dingtalktest.ViaGroupAPI},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &testutil.SyncBuffer{}
			h := newHarness(t, func(o *bot.Options) { o.Logger = slog.New(slog.NewJSONHandler(logs, nil)) })
			next := h.capture(t)
			msg := next(dingtalktest.Message{Text: `/newgroup "Forged"`, SenderID: alice.UserID, Group: tc.group})
			msg.SessionWebhook = tc.webhook(h.fake.URL())
			if err := h.bot.Handle(msg); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			replies := h.waitReplies(t, 1)
			h.shutdown(t)
			if hits.Load() != 0 {
				t.Fatalf("the reply was posted to the forged webhook %d times", hits.Load())
			}
			if replies[0].Via != tc.wantVia {
				t.Errorf("reply went via %q, want %q (the robot API)", replies[0].Via, tc.wantVia)
			}
			if tc.group && replies[0].ConversationID != msg.ConversationID {
				t.Errorf("reply posted to %q, want the message's chat %q", replies[0].ConversationID, msg.ConversationID)
			}
			if !strings.Contains(logs.String(), "suspicious session webhook") {
				t.Errorf("the forged webhook was not logged as suspicious:\n%s", logs.String())
			}
			if strings.Contains(logs.String(), "session=x") || strings.Contains(logs.String(), "access_token=x") {
				t.Errorf("the webhook's query (a credential) was logged:\n%s", logs.String())
			}
		})
	}
}

// TestRedeliveredReplyGoesToTheStoredChat: a duplicate of a message whose
// reply failed makes the bot post that reply again — to the chat of the
// message that was run, not wherever the duplicate points.
func TestRedeliveredReplyGoesToTheStoredChat(t *testing.T) {
	h := newHarness(t)
	next := h.capture(t)
	original := next(dingtalktest.Message{Text: `/newgroup "Secret project"`, SenderID: alice.UserID, Group: true})
	other := next(dingtalktest.Message{Text: `/help`, SenderID: bob.UserID, Group: true, ConversationTitle: "Elsewhere"})
	if other.ConversationID == original.ConversationID || other.SessionWebhook == original.SessionWebhook {
		t.Fatal("the fake gave both messages the same chat")
	}
	h.fake.FailNextWebhook(http.StatusInternalServerError) // the first reply fails
	if err := h.bot.Handle(original); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, wait, "the failed reply", func() bool {
		return h.metric(t, "dingbot_replies_total", map[string]string{"result": "error"}) == 1
	})
	if n := len(h.fake.Replies()); n != 0 {
		t.Fatalf("%d replies after a failed post, want 0", n)
	}
	dup := other // a "redelivery" carrying another chat's webhook and conversation
	dup.MsgID = original.MsgID
	if err := h.bot.Handle(dup); err != nil {
		t.Fatal(err)
	}
	replies := h.waitReplies(t, 1)
	h.shutdown(t)
	r := replies[0]
	if r.MsgID != original.MsgID || r.Via != dingtalktest.ViaSession {
		t.Errorf("re-posted through the session of %q via %s, want the original message's (%q)", r.MsgID, r.Via, original.MsgID)
	}
	if !strings.Contains(r.Text, "Secret project") {
		t.Errorf("re-posted reply %q is not the original's", r.Text)
	}
	if n := len(h.fake.CreateRequests()); n != 1 {
		t.Errorf("%d creates, want 1", n)
	}
}

// TestClaimedIsAdminIsVerified: with VerifyAdmin (HTTP mode) a message's
// isAdmin is looked up, once per user and cache period.
func TestClaimedIsAdminIsVerified(t *testing.T) {
	boss := dingtalktest.User{UserID: "boss", Name: "Boss", Active: true, Visible: true, Admin: true}
	for _, tc := range []struct {
		name   string
		verify bool
		sender string
		want   string
	}{
		{"forged claim, verified", true, alice.UserID, "Only admins"},
		{"real admin, verified", true, boss.UserID, "Groups created through me by everyone"},
		{"stream mode believes DingTalk", false, alice.UserID, "Groups created through me by everyone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(o *bot.Options) { o.VerifyAdmin = tc.verify })
			h.fake.AddUser(boss)
			seedGroups(t, h.db, bob.UserID, "Bob ", 2, time.Now())
			next := h.capture(t)
			for i := range 2 {
				msg := next(dingtalktest.Message{Text: "/groups --all", SenderID: tc.sender, Group: true})
				msg.IsAdmin = true // what a forged callback says
				if err := h.bot.Handle(msg); err != nil {
					t.Fatal(err)
				}
				if got := h.waitReplies(t, i+1)[i].Text; !strings.Contains(got, tc.want) {
					t.Fatalf("reply %d: %q, want it to contain %q", i, got, tc.want)
				}
			}
			h.shutdown(t)
			wantCalls := 0
			if tc.verify {
				wantCalls = 1 // cached for the second message
			}
			if n := h.fake.LookupCalls(dingtalktest.PathUserGet); n != wantCalls {
				t.Errorf("%d user/get calls, want %d", n, wantCalls)
			}
		})
	}
}

// TestDryRunLooksUpNobodyForADeniedSender: a dry run resolves mobile
// numbers to names and user IDs, so the who-may rules apply to it.
func TestDryRunLooksUpNobodyForADeniedSender(t *testing.T) {
	h := accessHarness(t, access.Config{AllowUsers: []string{bob.UserID}}, nil)
	h.fake.AddUser(dingtalktest.User{UserID: "carol", Name: "Carol", Mobile: "13800000003", Active: true, Visible: true})
	h.wire(t)
	got := accessSay(t, h, dingtalktest.Message{Text: "/newgroup Probe 13800000003 --dry-run", SenderID: alice.UserID})
	if strings.Contains(got, "carol") || strings.Contains(got, "Carol") {
		t.Errorf("a denied sender's dry run showed who the mobile number is: %q", got)
	}
	if !strings.Contains(got, "allow_users") {
		t.Errorf("reply %q should say which rule denied the dry run", got)
	}
	if n := h.fake.LookupCalls(dingtalktest.PathUserByMobile); n != 0 {
		t.Errorf("%d look-ups by mobile for a denied sender's dry run, want 0", n)
	}
	// An allowed sender still previews.
	got = accessSay(t, h, dingtalktest.Message{Text: "/newgroup Probe 13800000003 --dry-run", SenderID: bob.UserID})
	if !strings.Contains(got, "carol") {
		t.Errorf("an allowed sender's dry run = %q, want it to show carol", got)
	}
}
