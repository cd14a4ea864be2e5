package bot_test

// The kickoff after /newgroup (issue #13): the bot joins the new group and
// posts a kickoff message there, once, durably; a failed step is reported in
// the chat where /newgroup was typed.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
)

// withKickoff gives the bot a language with the kickoff on and templates.
func withKickoff(t *testing.T, templates map[string]commands.Template) func(*bot.Options) {
	t.Helper()
	lang, err := commands.New(commands.Settings{Templates: templates, Confirm: commands.ConfirmNever})
	if err != nil {
		t.Fatal(err)
	}
	return func(o *bot.Options) { o.Language = lang }
}

// kickoffs are the markdown messages posted into conversation oc.
func kickoffs(fake *dingtalktest.Server, oc string) []dingtalktest.Reply {
	var out []dingtalktest.Reply
	for _, r := range fake.Replies() {
		if r.ConversationID == oc && r.MsgKey == "sampleMarkdown" {
			out = append(out, r)
		}
	}
	return out
}

func TestKickoffAfterCreate(t *testing.T) {
	h := newHarness(t, withKickoff(t, nil))
	h.wire(t)
	d := h.send(t, groupCommand(`/newgroup Ops`, dingtalktest.Mention{Name: "Bob", UserID: bob.UserID}))
	var created dingtalktest.Reply
	for _, r := range h.waitReplies(t, 1) {
		if r.MsgKey != "sampleMarkdown" {
			created = r
		}
	}
	if created.Text == "" {
		created = h.waitReplies(t, 2)[1]
	}
	if !strings.HasPrefix(created.Text, `Created group "Ops".`) {
		t.Fatalf("reply %q", created.Text)
	}
	g := h.fake.Groups()[0]
	testutil.WaitFor(t, wait, "the kickoff", func() bool { return len(kickoffs(h.fake, g.OpenConversationID)) == 1 })
	if !h.fake.RobotInGroup(g.OpenConversationID) {
		t.Error("the bot did not join the new group")
	}
	k := kickoffs(h.fake, g.OpenConversationID)[0]
	for _, want := range []string{"### 👋 Ops", "Created by Alice (alice) on ", "**Owner:** Alice (alice)", "**Members (2):** Alice (alice), bob", "/addmember", "/rename"} {
		if !strings.Contains(k.Text, want) {
			t.Errorf("kickoff lacks %q:\n%s", want, k.Text)
		}
	}
	if k.Title != "Ops" {
		t.Errorf("kickoff title %q", k.Title)
	}
	// A redelivery of the command neither creates nor kicks off again.
	if err := h.fake.Redeliver(d); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	h.shutdown(t)
	if n := len(kickoffs(h.fake, g.OpenConversationID)); n != 1 {
		t.Errorf("%d kickoffs, want 1", n)
	}
	if n := len(h.fake.Calls(dingtalktest.PathConversationRobots)); n != 1 {
		t.Errorf("%d add-robot calls, want 1", n)
	}
	if n := len(h.fake.Replies()); n != 2 {
		t.Errorf("%d messages posted, want the create reply and the kickoff", n)
	}
	audit := h.audit(t)
	found := false
	for _, r := range audit {
		if r.Command == "newgroup" && r.Text == "(follow-up: kickoff)" && r.Outcome == "changed" {
			found = true
		}
	}
	if !found {
		t.Errorf("no audit record of the kickoff: %+v", audit)
	}
}

func TestKickoffFromTemplateAndOff(t *testing.T) {
	h := newHarness(t, withKickoff(t, map[string]commands.Template{
		"release": {Args: "userid:bob", Kickoff: "Release room **{name}** by {creator} for {owner}: {members} ({date})"},
		"quiet":   {Args: "userid:bob", Kickoff: "off"},
	}))
	h.wire(t)
	h.say(t, groupCommand(`/newgroup --template release R1`))
	g := h.fake.Groups()[0]
	testutil.WaitFor(t, wait, "the kickoff", func() bool { return len(kickoffs(h.fake, g.OpenConversationID)) == 1 })
	text := kickoffs(h.fake, g.OpenConversationID)[0].Text
	if !strings.HasPrefix(text, "Release room **R1** by Alice (alice) for Alice (alice): Alice (alice), bob (") {
		t.Errorf("template kickoff %q", text)
	}
	h.say(t, groupCommand(`/newgroup --template quiet R2`))
	time.Sleep(300 * time.Millisecond)
	h.shutdown(t)
	g2 := h.fake.Groups()[1]
	if len(kickoffs(h.fake, g2.OpenConversationID)) != 0 || h.fake.RobotInGroup(g2.OpenConversationID) {
		t.Error("kickoff: off still joined or posted")
	}
}

func TestKickoffJoinRefusedIsReported(t *testing.T) {
	h := newHarness(t, withKickoff(t, nil))
	h.fake.DenyScope(dingtalktest.PathConversationRobots)
	h.wire(t)
	h.send(t, groupCommand(`/newgroup Ops`))
	replies := h.waitReplies(t, 2)
	h.shutdown(t)
	if strings.HasPrefix(replies[0].Text, "The group") { // the order of the two is not guaranteed
		replies[0], replies[1] = replies[1], replies[0]
	}
	if !strings.HasPrefix(replies[0].Text, `Created group "Ops".`) {
		t.Errorf("first reply %q", replies[0].Text)
	}
	want := `The group "Ops" was created, but I could not join it, so there is no kickoff message in it: the app lacks the DingTalk permission qyapi_chat_manage.`
	if !strings.HasPrefix(replies[1].Text, want) {
		t.Errorf("second reply\n%s\nwant it to start with\n%s", replies[1].Text, want)
	}
	if replies[1].ConversationID != replies[0].ConversationID && replies[1].MsgID != replies[0].MsgID {
		t.Errorf("the failure went to %+v, not the chat of the command %+v", replies[1], replies[0])
	}
	if n := len(h.fake.Groups()); n != 1 {
		t.Errorf("%d groups", n)
	}
}

// TestKickoffCutOffIsFinishedOnce: the process stops while the kickoff is
// under way; the next process (on the same database) finishes it, once.
func TestKickoffCutOffIsFinishedOnce(t *testing.T) {
	h := newHarness(t, withKickoff(t, nil))
	h.fake.FailNext(dingtalktest.PathConversationRobots, dingtalktest.Response{Delay: time.Minute})
	h.wire(t)
	h.send(t, groupCommand(`/newgroup Ops`))
	created := h.waitReplies(t, 1)[0]
	g := h.fake.Groups()[0]
	// The kickoff step is under way once a worker holds its inbox item
	// (the add-robot call then hangs for a minute).
	step := "dingbot:kickoff:" + created.MsgID
	testutil.WaitFor(t, wait, "the kickoff step to start", func() bool {
		it, err := h.db.Get(context.Background(), step)
		return err == nil && it.Owner != ""
	})
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = h.bot.Shutdown(ctx) // cuts the hanging call off: the step goes back to the inbox
	next := bot.New(bot.Options{DingTalk: newClient(t, h.fake, nil), Store: h.db, Lease: time.Second,
		PollInterval: 50 * time.Millisecond, Language: withKickoffLang(t)})
	t.Cleanup(func() { _ = next.Shutdown(testutil.Ctx(t)) })
	testutil.WaitFor(t, wait, "the kickoff", func() bool { return len(kickoffs(h.fake, g.OpenConversationID)) == 1 })
	time.Sleep(300 * time.Millisecond)
	if n := len(kickoffs(h.fake, g.OpenConversationID)); n != 1 {
		t.Errorf("%d kickoffs, want 1", n)
	}
	if !h.fake.RobotInGroup(g.OpenConversationID) {
		t.Error("the bot is not in the group")
	}
}

func withKickoffLang(t *testing.T) *commands.Language {
	t.Helper()
	lang, err := commands.New(commands.Settings{Confirm: commands.ConfirmNever})
	if err != nil {
		t.Fatal(err)
	}
	return lang
}
