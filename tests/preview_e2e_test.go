package tests

// Look before you create (issue #14) through the real binary and the real
// Stream SDK: a risky /newgroup is answered with a markdown preview whose
// buttons send /confirm CODE or /cancel CODE; confirming creates exactly
// what was shown, once, on any replica.

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
)

// previewEnv is the environment of a bot with previews on (botEnv turns
// them off) and previewConfig, with kv (name, value, …) on top.
func previewEnv(t *testing.T, kv ...string) map[string]string {
	t.Helper()
	env := map[string]string{"DINGBOT_CONFIRM": "auto", "DINGBOT_CONFIG": writeAccessConfig(t, previewConfig)}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

// sendLinkRE finds the preview's buttons: markdown links to DingTalk's sendMessage.
var sendLinkRE = regexp.MustCompile(`\[([^\]]+)\]\((dtmd://dingtalkclient/sendMessage\?content=[^)\s]+)\)`)

// preview checks that r is a preview (markdown, with two buttons) and
// returns its code and what tapping Create and Cancel sends.
func preview(t *testing.T, r dingtalktest.Reply) (code, create, cancel string) {
	t.Helper()
	if r.MsgType != "markdown" || r.Title == "" {
		t.Fatalf("reply is no markdown preview (%s, title %q):\n%s", r.MsgType, r.Title, r.Text)
	}
	links := sendLinkRE.FindAllStringSubmatch(r.Text, -1)
	if len(links) != 2 {
		t.Fatalf("preview has %d buttons, want 2:\n%s", len(links), r.Text)
	}
	var sends [2]string
	for i, l := range links {
		u, err := url.Parse(l[2])
		if err != nil {
			t.Fatal(err)
		}
		sends[i] = u.Query().Get("content")
	}
	_, code, _ = strings.Cut(sends[0], " ")
	if !regexp.MustCompile(`^[2-9A-HJ-NP-Z]{6}$`).MatchString(code) || !strings.HasSuffix(sends[1], " "+code) {
		t.Fatalf("buttons send %q and %q: no common 6-character code", sends[0], sends[1])
	}
	return code, sends[0], sends[1]
}

// tap sends text as the sender of m, in m's chat, as tapping a button does.
func tap(m dingtalktest.Message, text string) dingtalktest.Message {
	return dingtalktest.Message{Text: text, SenderID: m.SenderID, SenderNick: m.SenderNick, Group: m.Group,
		ConversationTitle: m.ConversationTitle, ConversationID: m.ConversationID}
}

// previewConfig has an alias for two people, templates with their own
// confirm modes, and lets anyone set another owner or make a standard group.
const previewConfig = `
access:
  owner_override: everyone
  standard_groups: everyone
people:
  team: [alice01, bob02]
templates:
  quiet:
    args: "@team"
    confirm: never
  careful:
    args: "--mute yes"
    confirm: always
`

// TestPreviewAsksOnlyWhenRisky: each auto trigger is answered with a
// preview naming it, nothing created; a command naming people only by
// real mentions creates at once.
func TestPreviewAsksOnlyWhenRisky(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, previewEnv(t))

	created := w.say(t, groupMsg(`/newgroup "Release 4.2" @Alice @Bob`, "Alice", "Bob"))
	g := onlyGroup(t, w.fake)
	if want := createdText(g, "Lead (lead01)", "3 (Lead, Alice and Bob)"); created.Text != want || created.MsgType != "text" {
		t.Fatalf("a mention-only /newgroup was not created at once:\n%s", created.Text)
	}

	many := "/newgroup Big"
	for i := range 21 {
		many += " userid:u" + string(rune('a'+i))
	}
	for _, tc := range []struct {
		name   string
		msg    dingtalktest.Message
		reason string
	}{
		{"name search", directMsg(`/newgroup Standup Alice`),
			"- found by name search rather than a mention: Alice (alice01). Check that this is who you meant.\n"},
		{"alias", groupMsg(`/newgroup Standup @team`), "- @team stands for 2 people.\n"},
		{"more than 20", groupMsg(many), "- the group would have 22 members (more than 20).\n"},
		{"owner", groupMsg(`/newgroup Oncall @Alice @Bob --owner @Bob`, "Alice", "Bob"), "- the owner would be Bob (bob02), not you.\n"},
		{"standard", groupMsg(`/newgroup Vendor @Alice --standard`, "Alice"), "- it would be a standard group, not an internal one.\n"},
		{"external", groupMsg(`/newgroup Vendor @Alice --standard --ext UNION1`, "Alice"), "- it would include external contacts (1).\n"},
	} {
		r := w.say(t, tc.msg)
		preview(t, r)
		if r.Via != dingtalktest.ViaSession || !strings.Contains(r.Text, tc.reason) {
			t.Errorf("%s: preview via %s lacks %q:\n%s", tc.name, r.Via, tc.reason, r.Text)
		}
	}
	if n := len(w.fake.CreateRequests()); n != 1 {
		t.Errorf("DingTalk got %d create calls, want only the mention-only one", n)
	}
}

// TestPreviewConfirmCreatesWhatItShowed: the exact preview of a name
// search in a one-to-one chat; Create creates exactly the previewed request
// without looking anyone up again; a second tap, a redelivery and a late
// /cancel create nothing more; the audit shows each step.
func TestPreviewConfirmCreatesWhatItShowed(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, previewEnv(t))
	cmd := directMsg(`/newgroup Standup Alice --mute yes`)
	r := w.say(t, cmd)
	code, create, cancel := preview(t, r)
	if create != "/confirm "+code || cancel != "/cancel "+code {
		t.Errorf("buttons send %q and %q", create, cancel)
	}
	want := "### Create “Standup”?\n\n" +
		"**Type:** internal group  \n" +
		"**Owner:** Lead (lead01)  \n" +
		"**Options:** --mute: yes  \n\n" +
		"**Members (2):**\n\n" +
		"- Lead (lead01)\n" +
		"- Alice (alice01)\n\n" +
		"**Please check before I create it:**\n\n" +
		"- found by name search rather than a mention: Alice (alice01). Check that this is who you meant.\n\n" +
		"[Create](dtmd://dingtalkclient/sendMessage?content=%2Fconfirm%20" + code + ")　" +
		"[Cancel](dtmd://dingtalkclient/sendMessage?content=%2Fcancel%20" + code + ")\n\n" +
		"If the buttons do nothing, send me `/confirm " + code + "` to create it or `/cancel " + code +
		"` to drop it. Nothing is created until then; this preview expires in 10 minutes."
	if r.Text != want || r.Title != "Create “Standup”?" || r.Via != dingtalktest.ViaSession {
		t.Errorf("preview (%s, %q):\n%s\nwant:\n%s", r.Via, r.Title, r.Text, want)
	}
	searches := len(w.fake.Calls(dingtalktest.PathUserSearch))
	if len(w.fake.CreateRequests()) != 0 {
		t.Fatal("the preview created a group")
	}

	confirmMsg := tap(cmd, create)
	confirmMsg.MsgID = "msgConfirmOnce=="
	before := len(w.fake.Replies())
	d, err := w.fake.Send(confirmMsg)
	if err != nil {
		t.Fatal(err)
	}
	done := w.waitReply(t, before)
	g := onlyGroup(t, w.fake)
	if want := createdText(g, "Lead (lead01)", "2 (Lead and Alice)"); done.Text != want {
		t.Errorf("confirm reply:\n%s\nwant:\n%s", done.Text, want)
	}
	assertJSON(t, w.fake.CreateRequests()[0].Raw,
		`{"name":"Standup","owner":"lead01","useridlist":["lead01","alice01"],"conversationTag":2,"managementOptions":{"chatBannedType":1}}`)
	if n := len(w.fake.Calls(dingtalktest.PathUserSearch)); n != searches {
		t.Errorf("confirming looked people up again (%d searches, was %d)", n, searches)
	}

	again := w.say(t, tap(cmd, create))
	if want := "Preview " + code + " was already confirmed: “Standup” has been created (chat ID " + g.ChatID + "). Nothing more was created."; again.Text != want {
		t.Errorf("second confirm:\n%s\nwant:\n%s", again.Text, want)
	}
	if err := w.fake.Redeliver(d); err != nil {
		t.Fatal(err)
	}
	late := w.say(t, tap(cmd, "/cancel "+strings.ToLower(code)))
	if want := "“Standup” has already been created (chat ID " + g.ChatID + ") and cannot be cancelled; its owner can dismiss it in the group's settings in DingTalk."; late.Text != want {
		t.Errorf("cancel after create:\n%s\nwant:\n%s", late.Text, want)
	}
	settle()
	if n := len(w.fake.Groups()); n != 1 || len(w.fake.CreateRequests()) != 1 {
		t.Errorf("%d groups and %d create calls after a double confirm and a redelivery, want 1 and 1", n, len(w.fake.CreateRequests()))
	}

	out, stderr, code2 := runCLI(t, map[string]string{"DINGBOT_DATA_DIR": w.env["DINGBOT_DATA_DIR"]}, "audit", "--format", "json")
	if code2 != 0 {
		t.Fatalf("dingbot audit: exit %d: %s", code2, stderr)
	}
	var recs []struct{ Command, Outcome, Change, MsgID string }
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatalf("audit JSON: %v\n%s", err, out)
	}
	steps := map[string]string{}
	for _, r := range recs {
		steps[r.Command+" "+r.Outcome] = r.Change
	}
	for step, change := range map[string]string{
		"newgroup previewed": "preview " + code,
		"confirm created":    "confirmed preview " + code,
		"confirm answered":   "",
		"cancel answered":    "",
	} {
		if got, ok := steps[step]; !ok || got != change {
			t.Errorf("audit has no %q record with change %q: %+v", step, change, recs)
		}
	}
}

// TestPreviewCancelOthersAndExpiry: Cancel drops a preview; confirming it
// later, or someone else's confirming or cancelling, changes nothing; a
// late confirm says it expired, and a preview nobody answers expires into
// the audit by itself.
func TestPreviewCancelOthersAndExpiry(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, previewEnv(t, "DINGBOT_CONFIRM_TTL", "2s", "DINGBOT_LEASE", "2s"))
	cmd := groupMsg(`/newgroup Oncall @Alice @Bob --owner @Bob`, "Alice", "Bob")
	code, create, cancel := preview(t, w.say(t, cmd))

	alice := tap(cmd, create)
	alice.SenderID, alice.SenderNick = "alice01", "Alice"
	for _, m := range []dingtalktest.Message{alice, func() dingtalktest.Message { m := alice; m.Text = cancel; return m }()} {
		if r := w.say(t, m); r.Text != "Preview "+code+" belongs to lead01: only the person who sent the /newgroup can confirm or cancel it." {
			t.Errorf("someone else's %q: %s", m.Text, r.Text)
		}
	}
	if r := w.say(t, tap(cmd, cancel)); r.Text != "Cancelled: “Oncall” was not created." {
		t.Errorf("cancel: %s", r.Text)
	}
	if r := w.say(t, tap(cmd, create)); r.Text != "Preview "+code+" was cancelled, so nothing was created. Send the /newgroup command again to start over." {
		t.Errorf("confirm after cancel: %s", r.Text)
	}
	if r := w.say(t, tap(cmd, "/confirm ZZZZZZ")); r.Text != "I have no preview ZZZZZZ. Check the code in the preview message, or send the /newgroup command again." {
		t.Errorf("unknown code: %s", r.Text)
	}

	late, lateCreate, _ := preview(t, w.say(t, cmd))
	time.Sleep(2500 * time.Millisecond) // the preview's whole lifetime: what the test is about, not a timing assertion
	if r := w.say(t, tap(cmd, lateCreate)); r.Text != "Preview "+late+" has expired (a preview lasts 2 seconds); nothing was created. Send the /newgroup command again to start over." {
		t.Errorf("late confirm: %s", r.Text)
	}
	unanswered, _, _ := preview(t, w.say(t, cmd))
	if n := len(w.fake.CreateRequests()); n != 0 {
		t.Errorf("%d create calls, want none", n)
	}
	db := map[string]string{"DINGBOT_DATA_DIR": w.env["DINGBOT_DATA_DIR"]}
	eventually(t, "the unanswered preview to expire into the audit", w.bot.Logs, func() bool {
		out, _, _ := runCLI(t, db, "audit", "--format", "json")
		return strings.Contains(out, `"change": "preview `+unanswered+` expired unanswered"`) ||
			strings.Contains(out, `"change":"preview `+unanswered+` expired unanswered"`)
	})
	out, _, _ := runCLI(t, db, "audit", "--format", "csv")
	for _, want := range []string{",newgroup,", ",previewed,", ",cancelled,", ",expired,"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit CSV lacks %q:\n%s", want, out)
		}
	}
}

// TestPreviewModes: DINGBOT_CONFIRM=always asks even for a plain command,
// a template's confirm: never overrides it; never creates at once even with
// another owner; a template's confirm: always asks under auto.
func TestPreviewModes(t *testing.T) {
	t.Parallel()
	t.Run("always", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, dingtalktest.Options{}, previewEnv(t, "DINGBOT_CONFIRM", "always"))
		r := w.say(t, groupMsg(`/newgroup Plain @Alice`, "Alice"))
		preview(t, r)
		if !strings.Contains(r.Text, "- I ask before every new group here.\n") {
			t.Errorf("always: %s", r.Text)
		}
		r = w.say(t, groupMsg(`/newgroup Quiet --template quiet`))
		if !strings.HasPrefix(r.Text, `Created group "Quiet".`) {
			t.Errorf("template confirm: never under always: %s", r.Text)
		}
	})
	t.Run("never", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, dingtalktest.Options{}, previewEnv(t, "DINGBOT_CONFIRM", "never"))
		r := w.say(t, groupMsg(`/newgroup Oncall @Alice @Bob --owner @Bob`, "Alice", "Bob"))
		if !strings.HasPrefix(r.Text, `Created group "Oncall".`) {
			t.Errorf("never: %s", r.Text)
		}
	})
	t.Run("template always", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, dingtalktest.Options{}, previewEnv(t))
		r := w.say(t, groupMsg(`/newgroup Careful @Alice --template careful`, "Alice"))
		preview(t, r)
		if !strings.Contains(r.Text, "- the template careful always asks first.\n") || !strings.Contains(r.Text, "**Template:** careful  \n") {
			t.Errorf("template always: %s", r.Text)
		}
	})
}

// TestPreviewThroughRobotAPIWhenSessionGone: when the session webhook has
// expired, the preview is posted through the robot API as sampleMarkdown,
// to the group or to the sender, and its buttons work.
func TestPreviewThroughRobotAPIWhenSessionGone(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, previewEnv(t))
	gone := dingtalktest.Response{Status: 200, Body: []byte(`{"errcode":300001,"errmsg":"session 不存在"}`)}
	for _, tc := range []struct {
		name string
		msg  dingtalktest.Message
		via  string
	}{
		{"group", groupMsg(`/newgroup Oncall @Alice @Bob --owner @Bob`, "Alice", "Bob"), dingtalktest.ViaGroupAPI},
		{"one-to-one", directMsg(`/newgroup Standup Alice`), dingtalktest.ViaOTOAPI},
	} {
		w.fake.FailNextWebhookWith(gone)
		r := w.say(t, tc.msg)
		preview(t, r)
		if r.Via != tc.via || r.MsgKey != "sampleMarkdown" || !strings.HasPrefix(r.Title, "Create “") {
			t.Errorf("%s: preview via %s as %s titled %q", tc.name, r.Via, r.MsgKey, r.Title)
		}
		code, create, _ := preview(t, r)
		done := w.say(t, tap(tc.msg, create))
		if !strings.HasPrefix(done.Text, "Created group ") {
			t.Errorf("%s: confirming %s: %s", tc.name, code, done.Text)
		}
	}
	if n := len(w.fake.Groups()); n != 2 {
		t.Errorf("%d groups, want 2", n)
	}
}

// TestPreviewInChinese: /建群 previews in Chinese with /确认 and /取消
// buttons, and /确认 answers in Chinese.
func TestPreviewInChinese(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, previewEnv(t))
	cmd := groupMsg(`/建群 值班 @Alice @Bob --群主 @Bob`, "Alice", "Bob")
	r := w.say(t, cmd)
	code, create, cancel := preview(t, r)
	want := "### 创建 “值班”？\n\n" +
		"**类型：** 内部群  \n" +
		"**群主：** Bob (bob02)  \n\n" +
		"**成员（3 人）：**\n\n" +
		"- Bob (bob02)\n" +
		"- Lead (lead01)\n" +
		"- Alice (alice01)\n\n" +
		"**建群前请确认：**\n\n" +
		"- 群主将是 Bob (bob02)，而不是你。\n\n" +
		"[创建](dtmd://dingtalkclient/sendMessage?content=%2F%E7%A1%AE%E8%AE%A4%20" + code + ")　" +
		"[取消](dtmd://dingtalkclient/sendMessage?content=%2F%E5%8F%96%E6%B6%88%20" + code + ")\n\n" +
		"如果按钮没有反应，请 @我 并发送 `/确认 " + code + "` 来建群，或 `/取消 " + code + "` 来放弃。在此之前不会建群；这条预览 10 分钟后过期。"
	if r.Text != want || r.Title != "创建 “值班”？" || create != "/确认 "+code || cancel != "/取消 "+code {
		t.Errorf("Chinese preview (%q):\n%s\nwant:\n%s", r.Title, r.Text, want)
	}
	done := w.say(t, tap(cmd, create))
	if !strings.HasPrefix(done.Text, "已创建群 “值班”。") {
		t.Errorf("/确认: %s", done.Text)
	}
	if r := w.say(t, tap(cmd, create)); !strings.HasPrefix(r.Text, "预览 "+code+" 已经确认过：“值班” 已创建（chatid ") {
		t.Errorf("second /确认: %s", r.Text)
	}
}

// TestPreviewConfirmedOnAnotherReplica: two bot processes share one
// PostgreSQL database: a preview made by one is confirmed through the
// other after the first stopped, and a double confirm sent while both run
// creates one group.
func TestPreviewConfirmedOnAnotherReplica(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, previewEnv(t, "DINGBOT_DATABASE_URL", postgresDatabase(t)))
	cmd := groupMsg(`/newgroup Oncall @Alice @Bob --owner @Bob`, "Alice", "Bob")
	_, create, _ := preview(t, w.say(t, cmd))
	second := startProcess(t, w.env)
	if err := w.fake.WaitConnections(ctxFor(t, 10*time.Second), 2); err != nil {
		t.Fatalf("second replica did not connect: %v", err)
	}
	w.bot.Stop(t) // the preview's replica is gone: the confirm can only reach the second
	done := w.say(t, tap(cmd, create))
	if !strings.HasPrefix(done.Text, `Created group "Oncall".`) || len(w.fake.Groups()) != 1 {
		t.Fatalf("confirm on the other replica: %s\n%s", done.Text, second.Logs())
	}

	third := startProcess(t, w.env)
	_ = third
	if err := w.fake.WaitConnections(ctxFor(t, 10*time.Second), 2); err != nil {
		t.Fatalf("third replica did not connect: %v", err)
	}
	_, create2, _ := preview(t, w.say(t, groupMsg(`/newgroup Oncall2 @Alice @Bob --owner @Bob`, "Alice", "Bob")))
	before := len(w.fake.Replies())
	var wg sync.WaitGroup
	for range 4 { // four taps at once, spread over both replicas
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.fake.Send(tap(cmd, create2)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	replies, err := w.fake.WaitReplies(ctxFor(t, 30*time.Second), before+4)
	if err != nil {
		t.Fatal(err)
	}
	created := 0
	for _, r := range replies[before:] {
		if strings.HasPrefix(r.Text, `Created group "Oncall2".`) {
			created++
		} else if !strings.Contains(r.Text, "was already confirmed") {
			t.Errorf("unexpected answer to a double confirm: %s", r.Text)
		}
	}
	settle()
	if created != 1 || len(w.fake.Groups()) != 2 {
		t.Errorf("%d created replies and %d groups; want 1 and 2", created, len(w.fake.Groups()))
	}
}

// ctxFor is a context for one wait of the test, cancelled when it ends.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestPreviewConfirmRunsKickoff: the group a /confirm creates gets the
// kickoff, as one /newgroup creates.
func TestPreviewConfirmRunsKickoff(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, previewEnv(t, "DINGBOT_KICKOFF", "on"))
	cmd := groupMsg(`/newgroup Oncall @Alice @Bob --owner @Bob`, "Alice", "Bob")
	_, create, _ := preview(t, w.say(t, cmd))
	if done := w.say(t, tap(cmd, create)); !strings.HasPrefix(done.Text, `Created group "Oncall".`) {
		t.Fatalf("confirm: %s", done.Text)
	}
	g := onlyGroup(t, w.fake)
	eventually(t, "the kickoff", w.bot.Logs, func() bool { return len(kickoffsIn(w.fake, g.OpenConversationID)) > 0 })
	k := kickoffsIn(w.fake, g.OpenConversationID)[0]
	if !strings.HasPrefix(k.Text, "### 👋 Oncall\n") || !strings.Contains(k.Text, "**Owner:** Bob (bob02)") {
		t.Errorf("kickoff:\n%s", k.Text)
	}
	settle()
	if n := len(kickoffsIn(w.fake, g.OpenConversationID)); n != 1 {
		t.Errorf("%d kickoffs, want 1", n)
	}
}
