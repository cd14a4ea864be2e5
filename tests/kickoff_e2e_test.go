package tests

// The kickoff after /newgroup (issue #13) through the real binary: the bot
// joins the group it created (POST /v1.0/im/conversations/robots) and posts
// a kickoff message there (groupMessages/send, sampleMarkdown), once, as a
// durable follow-up step that survives a kill -9; a step DingTalk refuses is
// reported in the chat where /newgroup was typed.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/store"
)

// kickoffOn is the environment that turns the kickoff on (botEnv turns it off).
var kickoffOn = map[string]string{"DINGBOT_KICKOFF": "on"}

// kickoffWait bounds every wait for the bot in these tests; generous on
// purpose, never a timing assertion.
const kickoffWait = 30 * time.Second

// kickoffsIn are the markdown messages posted into the group oc.
func kickoffsIn(fake *dingtalktest.Server, oc string) []dingtalktest.Reply {
	var out []dingtalktest.Reply
	for _, r := range fake.Replies() {
		if r.ConversationID == oc && r.MsgKey == "sampleMarkdown" {
			out = append(out, r)
		}
	}
	return out
}

// eventually polls cond until it holds, failing after kickoffWait.
func eventually(t *testing.T, what string, logs func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(kickoffWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s\n%s", what, logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settle gives a duplicate call or message time to show up.
func settle() { time.Sleep(time.Second) }

// kickoffDate matches the date of the built-in kickoff text.
var kickoffDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$`)

// checkKickoffDate checks that date (as the kickoff shows it) lies between
// from and to, to the minute.
func checkKickoffDate(t *testing.T, date string, from, to time.Time) {
	t.Helper()
	at, err := time.Parse("2006-01-02 15:04 UTC", date)
	if !kickoffDate.MatchString(date) || err != nil {
		t.Errorf("kickoff date %q is not YYYY-MM-DD HH:MM UTC", date)
		return
	}
	if at.Before(from.UTC().Truncate(time.Minute)) || at.After(to.UTC()) {
		t.Errorf("kickoff date %s is not between %s and %s", date, from.UTC(), to.UTC())
	}
}

// TestKickoffPostedOnceAfterCreate: /newgroup creates the group, the bot
// joins it and posts the built-in English kickoff once; a redelivery of the
// command neither creates nor kicks off again.
func TestKickoffPostedOnceAfterCreate(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, kickoffOn)
	msg := groupMsg(`/newgroup "Release 4.2" @Alice @Bob`, "Alice", "Bob")
	msg.MsgID = "msgKickoffOnce=="
	before := time.Now()
	d, err := w.fake.Send(msg)
	if err != nil {
		t.Fatal(err)
	}
	created := w.waitReply(t, 0)
	g := onlyGroup(t, w.fake)
	if want := createdText(g, "Lead (lead01)", "3 (Lead, Alice and Bob)"); created.Text != want {
		t.Errorf("create reply:\n%s\nwant:\n%s", created.Text, want)
	}
	eventually(t, "the kickoff", w.bot.Logs, func() bool { return len(kickoffsIn(w.fake, g.OpenConversationID)) > 0 })
	after := time.Now()
	if !w.fake.RobotInGroup(g.OpenConversationID) {
		t.Error("the bot did not join the new group")
	}
	k := kickoffsIn(w.fake, g.OpenConversationID)[0]
	if k.Via != dingtalktest.ViaGroupAPI || k.MsgType != "markdown" || k.Title != "Release 4.2" {
		t.Errorf("kickoff via %s as %s titled %q; want the robot group API, markdown, the group's name", k.Via, k.MsgType, k.Title)
	}
	lines := strings.Split(k.Text, "\n")
	want := []string{
		"### 👋 Release 4.2",
		"",
		"Created by Lead (lead01) on DATE.",
		"",
		"**Owner:** Lead (lead01)",
		"",
		"**Members (3):** Lead (lead01), Alice (alice01), Bob (bob02)",
		"",
		"Commands that work here (type them with @ and my name): /groupinfo, /rename, /owner, /addmember, /removemember. /help explains each.",
	}
	if len(lines) != len(want) {
		t.Fatalf("kickoff has %d lines, want %d:\n%s", len(lines), len(want), k.Text)
	}
	for i := range want {
		got := lines[i]
		if i == 2 {
			date, ok := strings.CutPrefix(got, "Created by Lead (lead01) on ")
			date, ok2 := strings.CutSuffix(date, ".")
			if !ok || !ok2 {
				t.Errorf("kickoff line %d: %q, want %q", i+1, got, want[i])
				continue
			}
			checkKickoffDate(t, date, before, after)
			continue
		}
		if got != want[i] {
			t.Errorf("kickoff line %d: %q, want %q", i+1, got, want[i])
		}
	}

	// DingTalk redelivers the command: no second create, join or kickoff.
	if err := w.fake.Redeliver(d); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the duplicate to be counted", w.bot.Logs, func() bool {
		return w.bot.metric(t, "dingbot_duplicate_messages_total") == "1"
	})
	settle()
	if n := len(kickoffsIn(w.fake, g.OpenConversationID)); n != 1 {
		t.Errorf("%d kickoffs, want 1", n)
	}
	if n := len(w.fake.Calls(dingtalktest.PathConversationRobots)); n != 1 {
		t.Errorf("%d add-robot calls, want 1", n)
	}
	if n := len(w.fake.Calls(dingtalktest.PathRobotGroupSend)); n != 1 {
		t.Errorf("%d group-send calls, want 1", n)
	}
	if n := len(w.fake.CreateRequests()); n != 1 {
		t.Errorf("%d create calls, want 1", n)
	}
	if n := len(w.fake.Replies()); n != 2 {
		t.Errorf("%d messages posted, want the create reply and the kickoff: %+v", n, w.fake.Replies())
	}
}

const kickoffConfigYAML = `
templates:
  release:
    description: release coordination
    args: "userid:alice01 userid:bob02"
    kickoff: |
      Release room **{name}**
      Opened by {creator} for {owner} on {date}.
      Members: {members}
      Literal: {unknown}
  quiet:
    description: no kickoff
    args: "userid:alice01"
    kickoff: "off"
`

// TestKickoffTemplateTextIsRendered: a template's kickoff text, with its
// placeholders filled in, replaces the built-in one; kickoff: off posts none
// and does not join.
func TestKickoffTemplateTextIsRendered(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dingbot.yaml")
	if err := os.WriteFile(path, []byte(kickoffConfigYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, dingtalktest.Options{}, map[string]string{"DINGBOT_KICKOFF": "on", "DINGBOT_CONFIG": path})

	before := time.Now()
	created := w.say(t, directMsg(`/newgroup --template release "R 4.2"`))
	if !strings.HasPrefix(created.Text, `Created group "R 4.2".`) || !strings.Contains(created.Text, "\nMembers: 3 (Lead, alice01 and bob02)\n") {
		t.Fatalf("create reply:\n%s", created.Text)
	}
	g := onlyGroup(t, w.fake)
	eventually(t, "the kickoff", w.bot.Logs, func() bool { return len(kickoffsIn(w.fake, g.OpenConversationID)) > 0 })
	after := time.Now()
	k := kickoffsIn(w.fake, g.OpenConversationID)[0]
	if k.Title != "R 4.2" {
		t.Errorf("kickoff title %q", k.Title)
	}
	re := regexp.MustCompile(`^Release room \*\*R 4\.2\*\*\n` +
		`Opened by Lead \(lead01\) for Lead \(lead01\) on (\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC)\.\n` +
		// Members named by userid: are not looked up: the create reply shows them so too.
		`Members: Lead \(lead01\), alice01, bob02\n` +
		`Literal: \{unknown\}\n?$`)
	m := re.FindStringSubmatch(k.Text)
	if m == nil {
		t.Fatalf("template kickoff:\n%s\nwant it to match\n%s", k.Text, re)
	}
	checkKickoffDate(t, m[1], before, after)

	// kickoff: off — the group is created, the bot neither joins nor posts.
	quiet := w.say(t, directMsg(`/newgroup --template quiet Quiet`))
	if !strings.HasPrefix(quiet.Text, `Created group "Quiet".`) {
		t.Fatalf("create reply:\n%s", quiet.Text)
	}
	settle()
	var q dingtalktest.Group
	for _, grp := range w.fake.Groups() {
		if grp.Name == "Quiet" {
			q = grp
		}
	}
	if q.OpenConversationID == "" {
		t.Fatalf("no group Quiet: %+v", w.fake.Groups())
	}
	if len(kickoffsIn(w.fake, q.OpenConversationID)) != 0 || w.fake.RobotInGroup(q.OpenConversationID) {
		t.Error("kickoff: off still joined or posted")
	}
	if n := len(w.fake.Calls(dingtalktest.PathConversationRobots)); n != 1 {
		t.Errorf("%d add-robot calls, want 1 (for the release group only)", n)
	}
	if n := len(w.fake.Replies()); n != 3 {
		t.Errorf("%d messages posted, want two create replies and one kickoff", n)
	}
}

// TestKickoffKill9MidStepIsFinishedOnce: the bot is killed with SIGKILL while
// the kickoff step waits for DingTalk's add-robot call; the bot restarted on
// the same data directory finishes the step once its lease has run out: it
// joins and posts the kickoff exactly once, and creates no second group.
func TestKickoffKill9MidStepIsFinishedOnce(t *testing.T) {
	t.Parallel()
	fake := dingtalktest.NewServer(dingtalktest.Options{ClientSecret: "e2e-secret-Xq7Z"})
	t.Cleanup(fake.Close)
	for _, u := range org {
		fake.AddUser(u)
	}
	dataDir := t.TempDir()
	env := botEnv(fake, map[string]string{
		"DINGBOT_DATA_DIR": dataDir,
		"DINGBOT_LEASE":    "2s",
		"DINGBOT_KICKOFF":  "on",
	})
	first := startProcess(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), kickoffWait)
	defer cancel()
	if err := fake.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// The add-robot call hangs (the fake ends it when the client goes away).
	fake.FailNext(dingtalktest.PathConversationRobots, dingtalktest.Response{Delay: 10 * time.Minute})
	msg := groupMsg(`/newgroup Ops @Alice`, "Alice")
	msg.MsgID = "msgKickoffKill9=="
	if _, err := fake.Send(msg); err != nil {
		t.Fatal(err)
	}
	replies, err := fake.WaitReplies(ctx, 1)
	if err != nil {
		t.Fatalf("no create reply: %v\n%s", err, first.Logs())
	}
	if !strings.HasPrefix(replies[0].Text, `Created group "Ops".`) {
		t.Fatalf("create reply:\n%s", replies[0].Text)
	}
	g := onlyGroup(t, fake)

	// The step is under way once a worker holds its inbox item.
	step := "dingbot:kickoff:" + msg.MsgID
	db, err := store.Open(ctx, "", dataDir)
	if err != nil {
		t.Fatalf("opening the bot's store: %v", err)
	}
	eventually(t, "the kickoff step to start", first.Logs, func() bool {
		it, err := db.Get(ctx, step)
		return err == nil && it.Owner != ""
	})
	_ = db.Close()
	time.Sleep(300 * time.Millisecond) // the add-robot request is on its way

	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.WaitExit(t)
	// DingTalk saw the add-robot call cut off (it records a call when it ends).
	eventually(t, "the cut-off add-robot call", first.Logs, func() bool {
		return len(fake.Calls(dingtalktest.PathConversationRobots)) == 1
	})
	if c := fake.Calls(dingtalktest.PathConversationRobots)[0]; !c.Scripted || c.Status != 0 {
		t.Fatalf("the add-robot call the kill cut off: %+v; want the scripted hanging one, unanswered", c)
	}
	if fake.RobotInGroup(g.OpenConversationID) || len(kickoffsIn(fake, g.OpenConversationID)) != 0 {
		t.Fatal("the bot joined or posted before the restart")
	}

	second := startProcess(t, env)
	eventually(t, "the kickoff after the restart", second.Logs, func() bool {
		return len(kickoffsIn(fake, g.OpenConversationID)) > 0
	})
	settle()
	if n := len(kickoffsIn(fake, g.OpenConversationID)); n != 1 {
		t.Errorf("%d kickoffs, want 1", n)
	}
	if !fake.RobotInGroup(g.OpenConversationID) {
		t.Error("the bot is not in the group")
	}
	if n := len(fake.Calls(dingtalktest.PathConversationRobots)); n != 2 {
		t.Errorf("%d add-robot calls, want 2 (the cut-off one and the one after the restart)", n)
	}
	if n := len(fake.CreateRequests()); n != 1 {
		t.Errorf("%d create calls, want 1", n)
	}
	if n := len(fake.Groups()); n != 1 {
		t.Errorf("%d groups, want 1", n)
	}
	if n := len(fake.Replies()); n != 2 {
		var texts []string
		for _, r := range fake.Replies() {
			texts = append(texts, fmt.Sprintf("%s %s: %q", r.Via, r.MsgKey, r.Text))
		}
		t.Errorf("%d messages posted, want the create reply and the kickoff:\n%s", n, strings.Join(texts, "\n"))
	}
}

// TestKickoffJoinRefusedIsReported: the app lacks the permission to add its
// robot to a group: the group is created, there is no kickoff, and a second
// message in the chat of the command says why.
func TestKickoffJoinRefusedIsReported(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, kickoffOn)
	w.fake.DenyScope(dingtalktest.PathConversationRobots)
	msg := groupMsg(`/newgroup "Release 4.2" @Alice`, "Alice")
	msg.MsgID = "msgKickoffDenied=="
	created := w.say(t, msg)
	g := onlyGroup(t, w.fake)
	if want := createdText(g, "Lead (lead01)", "2 (Lead and Alice)"); created.Text != want {
		t.Errorf("create reply:\n%s\nwant:\n%s", created.Text, want)
	}
	why := w.waitReply(t, 1)
	want := `The group "Release 4.2" was created, but I could not join it, so there is no kickoff message in it: the app lacks the DingTalk permission qyapi_chat_manage.`
	if !strings.HasPrefix(why.Text, want) {
		t.Errorf("second reply\n%s\nwant it to start with\n%s", why.Text, want)
	}
	if full := want + " An admin can grant it in the DingTalk developer console → the app → Permissions, then publish a new version of the app."; why.Text != full {
		t.Errorf("second reply\n%s\nwant\n%s", why.Text, full)
	}
	if why.ConversationID != created.ConversationID {
		t.Errorf("the failure went to conversation %q, the command was typed in %q", why.ConversationID, created.ConversationID)
	}
	settle()
	if w.fake.RobotInGroup(g.OpenConversationID) || len(kickoffsIn(w.fake, g.OpenConversationID)) != 0 {
		t.Error("the bot joined or posted a kickoff without the permission")
	}
	if n := len(w.fake.Calls(dingtalktest.PathRobotGroupSend)); n != 0 {
		t.Errorf("%d group-send calls, want none", n)
	}
	if n := len(w.fake.Groups()); n != 1 {
		t.Errorf("%d groups, want 1", n)
	}
	if n := len(w.fake.Replies()); n != 2 {
		t.Errorf("%d messages posted, want the create reply and the explanation", n)
	}
}
