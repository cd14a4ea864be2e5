package bot_test

// The commands that manage a group dingbot created (issue #13), end to end
// through the real SDK and the fake: the request DingTalk receives, the
// reply posted, the store's record of the group and the audit.

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/dingbot/dingbot/access"
	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/dingtalktest"
)

var carol = dingtalktest.User{UserID: "carol03", Name: "Carol", Mobile: "13800000003", Active: true, Visible: true}

// lifecycleHarness creates a group through /newgroup (alice owner, bob
// member) and returns the harness and the new group.
func lifecycleHarness(t *testing.T, configure ...func(*bot.Options)) (*harness, dingtalktest.Group) {
	t.Helper()
	h := newHarness(t, configure...)
	h.fake.AddUser(carol)
	h.wire(t)
	got := h.say(t, groupCommand(`/newgroup Ops`, dingtalktest.Mention{Name: "Bob", UserID: bob.UserID}))
	if !strings.HasPrefix(got, `Created group "Ops".`) {
		t.Fatalf("create: %q", got)
	}
	groups := h.fake.Groups()
	if len(groups) != 1 {
		t.Fatalf("%d groups", len(groups))
	}
	return h, groups[0]
}

// in is a message typed in group g by sender.
func in(g dingtalktest.Group, sender, text string, mentions ...dingtalktest.Mention) dingtalktest.Message {
	return dingtalktest.Message{Text: text, SenderID: sender, Group: true, ConversationID: g.OpenConversationID,
		ConversationTitle: g.Name, Mentions: mentions}
}

func TestLifecycleCommands(t *testing.T) {
	h, g := lifecycleHarness(t)
	ctx := context.Background()

	// /groupinfo: what the store knows.
	info := h.say(t, in(g, bob.UserID, "/groupinfo"))
	for _, want := range []string{`Group "Ops"`, "Owner: alice", "Members: 2", "Created through me by alice on ", "chatid: " + g.ChatID} {
		if !strings.Contains(info, want) {
			t.Errorf("/groupinfo reply lacks %q:\n%s", want, info)
		}
	}

	// /rename by the owner.
	if got := h.say(t, in(g, alice.UserID, `/rename "Ops hotfix"`)); got != `Renamed the group from "Ops" to "Ops hotfix".` {
		t.Errorf("/rename reply %q", got)
	}
	upd := h.fake.UpdateRequests()
	if len(upd) != 1 {
		t.Fatalf("%d update requests, want 1", len(upd))
	}
	assertJSONBody(t, upd[0].Raw, `{"chatid":"`+g.ChatID+`","name":"Ops hotfix"}`)
	if stored, err := h.db.Group(ctx, g.OpenConversationID); err != nil || stored.Name != "Ops hotfix" || stored.UpdatedAt.IsZero() {
		t.Errorf("stored group %+v, %v", stored, err)
	}

	// /addmember by mobile number (looked up), then /owner.
	if got := h.say(t, in(g, alice.UserID, "/addmember 13800000003")); got != "Added 1 to the group: Carol (carol03)." {
		t.Errorf("/addmember reply %q", got)
	}
	if got := h.say(t, in(g, alice.UserID, "/owner userid:carol03")); got != "carol03 is now the owner of the group (was alice)." {
		t.Errorf("/owner reply %q", got)
	}
	// Alice is no longer the owner but created the group: she may still manage it.
	if got := h.say(t, in(g, alice.UserID, "/removemember userid:bob")); got != "Removed 1 from the group: bob." {
		t.Errorf("/removemember reply %q", got)
	}
	if got := h.say(t, in(g, alice.UserID, "/removemember userid:carol03")); !strings.Contains(got, "owns the group and can't be removed") {
		t.Errorf("removing the owner: %q", got)
	}
	fg := h.fake.Groups()[0]
	if fg.Name != "Ops hotfix" || fg.Owner != "carol03" || strings.Join(fg.Members, ",") != "alice,carol03" {
		t.Errorf("DingTalk's group now %+v", fg)
	}
	stored, err := h.db.Group(ctx, g.ChatID)
	if err != nil || stored.Owner != "carol03" || strings.Join(stored.Members, ",") != "alice,carol03" {
		t.Errorf("stored group %+v, %v", stored, err)
	}
	h.shutdown(t)
	audit := h.audit(t)
	var changes []string
	for _, r := range audit {
		if r.Change != "" {
			changes = append(changes, r.Command+" "+r.Change)
		}
	}
	for _, want := range []string{`rename name: "Ops" → "Ops hotfix"`, "addmember members: +carol03", "owner owner: alice → carol03", "removemember members: -bob"} {
		if !strings.Contains(strings.Join(changes, "\n"), want) {
			t.Errorf("audit changes %q lack %q", changes, want)
		}
	}
}

// assertJSONBody compares a request body with the expected JSON document.
func assertJSONBody(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("request body\n got %s\nwant %s", got, want)
	}
}

func TestLifecycleRefusals(t *testing.T) {
	h, g := lifecycleHarness(t)
	cases := []struct {
		msg  dingtalktest.Message
		want string
	}{
		{in(g, bob.UserID, `/rename X`), "Only the group's owner (alice), the person who created it through me (alice) or a bot admin may change it. Nothing was changed. (Your user ID: bob)"},
		{in(g, bob.UserID, `/改名 X`), "只有群主（alice）、通过我建群的人（alice）或机器人管理员可以修改这个群。没有做任何修改。（你的用户 ID：bob）"},
		{dingtalktest.Message{Text: "/rename X", SenderID: alice.UserID, Group: true, ConversationTitle: "Elsewhere"},
			"I can only manage groups I created with /newgroup: DingTalk does not let an app change other groups. Nothing was changed."},
		{in(g, alice.UserID, "/rename "+strings.Repeat("名", 21)), "is 21 characters; the limit is 20."},
		{in(g, alice.UserID, "/addmember Nobody"), "Nobody"},
		{in(g, alice.UserID, "/owner userid:carol03"), "carol03 is not a member of the group as far as I know, and the owner must be one. Add them first: /addmember userid:carol03"},
		{in(g, alice.UserID, "/转让群主 userid:carol03"), "据我所知 carol03 不在群里，而群主必须是群成员。请先把此人加进群：/加人 userid:carol03"},
		{in(g, alice.UserID, "/removemember userid:alice"), "Alice (alice) owns the group and can't be removed. Make someone else the owner first with /owner. Nothing was changed."},
		{dingtalktest.Message{Text: "/rename X", SenderID: alice.UserID}, "In a one-to-one chat, say which group with --group ID"},
	}
	for _, tc := range cases {
		if got := h.say(t, tc.msg); !strings.Contains(got, tc.want) {
			t.Errorf("%q: reply\n%s\nwant it to contain\n%s", tc.msg.Text, got, tc.want)
		}
	}
	h.shutdown(t)
	if n := len(h.fake.UpdateRequests()); n != 0 {
		t.Errorf("%d update requests after refusals, want none", n)
	}
}

func TestLifecycleFromOneToOneAndAdmins(t *testing.T) {
	policy, err := access.New(access.Config{Admins: []string{"boss"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, g := lifecycleHarness(t, func(o *bot.Options) { o.Access = policy })
	h.fake.AddUser(dingtalktest.User{UserID: "boss", Name: "Boss", Active: true, Visible: true})
	// A bot admin renames it from a one-to-one chat, by chatid.
	got := h.say(t, dingtalktest.Message{Text: "/rename Ops2 --group " + g.ChatID, SenderID: "boss"})
	if got != `Renamed the group from "Ops" to "Ops2".` {
		t.Errorf("admin rename: %q", got)
	}
	// /groupinfo from a one-to-one chat needs the right to manage the group.
	if got := h.say(t, dingtalktest.Message{Text: "/groupinfo --group " + g.OpenConversationID, SenderID: bob.UserID}); !strings.Contains(got, "Only the group's owner") {
		t.Errorf("groupinfo of someone else's group from a one-to-one chat: %q", got)
	}
	// /groups shows the current name.
	if got := h.say(t, dingtalktest.Message{Text: "/groups", SenderID: alice.UserID}); !strings.Contains(got, `"Ops2"`) {
		t.Errorf("/groups after a rename: %q", got)
	}
}

func TestLifecycleDingTalkRefusalIsTranslated(t *testing.T) {
	h, g := lifecycleHarness(t)
	h.fake.FailNextUpdate(400, "invalidParameter.name", "群名称不合法")
	got := h.say(t, in(g, alice.UserID, `/rename "Ops 2"`))
	if !strings.HasPrefix(got, "DingTalk refused the change (invalidParameter.name: 群名称不合法). Nothing was changed.") ||
		!strings.Contains(got, "DingTalk request ID:") {
		t.Errorf("reply %q", got)
	}
	if stored, err := h.db.Group(context.Background(), g.OpenConversationID); err != nil || stored.Name != "Ops" {
		t.Errorf("a refused rename changed the record: %+v, %v", stored, err)
	}
}

// TestLifecycleAccessPerCommand: access.commands narrows who may run a
// lifecycle command (allow_users) or widens who may change the group
// (manage: everyone).
func TestLifecycleAccessPerCommand(t *testing.T) {
	policy, err := access.New(access.Config{Commands: map[string]access.CommandConfig{
		"rename":    {AllowUsers: []string{"nobody"}},
		"addmember": {Manage: access.ManageEveryone},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, g := lifecycleHarness(t, func(o *bot.Options) { o.Access = policy })
	if got := h.say(t, in(g, alice.UserID, "/rename X")); got != "Only some people may use /rename (rule: commands.rename.allow_users). Ask an admin of this bot to add your user ID alice." {
		t.Errorf("narrowed /rename: %q", got)
	}
	if got := h.say(t, in(g, bob.UserID, "/addmember userid:carol03")); got != "Added 1 to the group: carol03." {
		t.Errorf("widened /addmember by a plain member: %q", got)
	}
	if got := h.say(t, in(g, bob.UserID, "/removemember userid:carol03")); !strings.Contains(got, "Only the group's owner") {
		t.Errorf("/removemember is not widened: %q", got)
	}
}

func TestGroupInfoShowsTheTemplate(t *testing.T) {
	lang, err := commands.New(commands.Settings{NoKickoff: true, Confirm: commands.ConfirmNever, Templates: map[string]commands.Template{"release": {Args: "userid:bob"}}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(o *bot.Options) { o.Language = lang })
	h.wire(t)
	h.say(t, groupCommand(`/newgroup --template release R1`))
	g := h.fake.Groups()[0]
	if got := h.say(t, in(g, alice.UserID, "/groupinfo")); !strings.Contains(got, "\nTemplate: release\n") {
		t.Errorf("/groupinfo %q lacks the template", got)
	}
	if got := h.say(t, in(g, alice.UserID, "/群信息")); !strings.Contains(got, "\n模板：release\n") {
		t.Errorf("/群信息 %q lacks the template", got)
	}
}
