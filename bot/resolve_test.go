package bot_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/commands"
	"github.com/dingbot/dingbot/dingtalktest"
)

// The organisation for people-resolution tests: Alice and Bob have aliases
// and mobiles, two people are called 王五, Gone has left.
var directory = []dingtalktest.User{
	{UserID: "carol", Name: "Carol", Mobile: "13800000003", Active: true, Visible: true},
	{UserID: "wang1", Name: "王五", Active: true, Visible: true},
	{UserID: "wang2", Name: "王五", Active: true, Visible: true},
	{UserID: "gone", Name: "Gone", Mobile: "13800000009", Active: false, Visible: true},
}

func newPeopleHarness(t *testing.T) *harness {
	t.Helper()
	lang, err := commands.New(commands.Settings{
		People:    map[string][]string{"al": {"alice"}, "team": {"alice", "bob"}},
		NoKickoff: true,
		Confirm:   commands.ConfirmNever, // preview_test.go asks
	})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(o *bot.Options) { o.Language = lang })
	h.fake.AddUser(dingtalktest.User{UserID: "alice", Name: "Alice", Mobile: "13800000001", Active: true, Visible: true})
	h.fake.AddUser(dingtalktest.User{UserID: "bob", Name: "Bob", Mobile: "13800000002", Active: true, Visible: true})
	for _, u := range directory {
		h.fake.AddUser(u)
	}
	h.wire(t)
	return h
}

// TestPeopleResolution covers every way a command names people, through the
// real client and the fake's look-up APIs: the request DingTalk receives, or
// the reply when someone cannot be resolved (and then no request at all).
func TestPeopleResolution(t *testing.T) {
	h := newPeopleHarness(t)
	cases := []struct {
		name     string
		msg      dingtalktest.Message
		members  []string // want this useridlist; nil = no create call
		contains []string // the reply must contain each
	}{
		{"alias for one person", direct("/newgroup A @al"), []string{"alice"}, nil},
		{"alias for a group", direct("/newgroup B @team"), []string{"alice", "bob"}, nil},
		{"mobile with @", direct("/newgroup C @13800000002"), []string{"alice", "bob"}, nil},
		{"mobile with +86", direct("/newgroup D +8613800000003"), []string{"alice", "carol"}, nil},
		{"explicit user ID", direct("/newgroup E userid:carol"), []string{"alice", "carol"}, nil},
		{"exact name search", direct("/newgroup F Carol"), []string{"alice", "carol"}, nil},
		{"name with @", direct("/newgroup G @Carol @bob"), []string{"alice", "carol", "bob"}, nil},
		{"all paths at once", direct("/newgroup H @team userid:carol 13800000003 Carol"), []string{"alice", "bob", "carol"}, nil},
		{"ambiguous name", direct("/newgroup I 王五"), nil, []string{"I created nothing", "王五", "wang1", "wang2"}},
		{"unknown name", direct("/newgroup J Nobody @bob"), nil, []string{"I created nothing", `called "Nobody"`}},
		{"unknown mobile", direct("/newgroup K 13899999999"), nil, []string{"mobile number 13899999999"}},
		{"departed person's mobile", direct("/newgroup L 13800000009"), nil, []string{"mobile number 13800000009"}},
		{
			"group: mention plus a typed alias",
			group("/newgroup M @Bob @team", dingtalktest.Mention{Name: "Bob", UserID: "bob"}),
			[]string{"alice", "bob"},
			nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.fake.CreateRequests())
			reply := h.say(t, tc.msg)
			reqs := h.fake.CreateRequests()[before:]
			if tc.members == nil {
				if len(reqs) != 0 {
					t.Fatalf("%d create calls, want none; reply:\n%s", len(reqs), reply)
				}
			} else {
				if len(reqs) != 1 || reqs[0].Request == nil {
					t.Fatalf("%d create calls, want 1; reply:\n%s", len(reqs), reply)
				}
				if got := reqs[0].Request.UserIDs; !reflect.DeepEqual(got, tc.members) {
					t.Errorf("useridlist %v, want %v", got, tc.members)
				}
				if !strings.HasPrefix(reply, "Created group") {
					t.Errorf("reply:\n%s", reply)
				}
			}
			for _, want := range tc.contains {
				if !strings.Contains(reply, want) {
					t.Errorf("reply lacks %q:\n%s", want, reply)
				}
			}
		})
	}
}

// TestLookupsAreCached: the same name twice costs one search and one
// user-details call: look-ups count against the monthly API quota.
func TestLookupsAreCached(t *testing.T) {
	h := newPeopleHarness(t)
	h.say(t, direct("/newgroup One Carol"))
	h.say(t, direct("/newgroup Two Carol"))
	if n := len(h.fake.Groups()); n != 2 {
		t.Fatalf("%d groups, want 2", n)
	}
	if n := h.fake.LookupCalls(dingtalktest.PathUserSearch); n != 1 {
		t.Errorf("%d user searches, want 1", n)
	}
	if n := h.fake.LookupCalls(dingtalktest.PathUserGet); n != 1 {
		t.Errorf("%d user-details calls, want 1", n)
	}
}

// TestLookupFailureCreatesNothing: DingTalk's search fails; the command stops
// with a reply that says so, and nothing is created.
func TestLookupFailureCreatesNothing(t *testing.T) {
	h := newPeopleHarness(t)
	for range 4 { // every retry fails
		h.fake.FailNextSearch(500, "system.busy", "系统繁忙")
	}
	reply := h.say(t, direct("/newgroup Fails Carol"))
	if !strings.Contains(reply, "couldn't look up Carol") {
		t.Errorf("reply:\n%s", reply)
	}
	if n := len(h.fake.CreateRequests()); n != 0 {
		t.Errorf("%d create calls, want 0", n)
	}
}

// TestMoreThanFortyMembers: the create call takes the owner and the first 39
// others; the rest are added through the group-update API in one call, and
// anyone DingTalk refuses to add is reported.
func TestMoreThanFortyMembers(t *testing.T) {
	h := newPeopleHarness(t)
	var ids []string
	for i := 1; i <= 44; i++ {
		id := fmt.Sprintf("m%02d", i)
		h.fake.AddUser(dingtalktest.User{UserID: id, Name: fmt.Sprintf("Member %d", i), Active: true, Visible: true})
		ids = append(ids, id)
	}
	text := "/newgroup Big userid:" + strings.Join(ids, " userid:")
	reply := h.say(t, direct(text))
	reqs := h.fake.CreateRequests()
	if len(reqs) != 1 || len(reqs[0].Request.UserIDs) != commands.MaxMembers || reqs[0].Request.UserIDs[0] != "alice" {
		t.Fatalf("create request: %+v", reqs)
	}
	updates := h.fake.UpdateRequests()
	if len(updates) != 1 {
		t.Fatalf("%d update calls, want 1", len(updates))
	}
	var body struct {
		ChatID string   `json:"chatid"`
		Add    []string `json:"add_useridlist"`
	}
	if err := json.Unmarshal(updates[0].Raw, &body); err != nil {
		t.Fatal(err)
	}
	g := h.fake.Groups()[0]
	if body.ChatID != g.ChatID || !reflect.DeepEqual(body.Add, ids[39:]) {
		t.Errorf("update body %s; want chatid %s and %v", updates[0].Raw, g.ChatID, ids[39:])
	}
	if len(g.Members) != 45 {
		t.Errorf("group has %d members, want 45", len(g.Members))
	}
	if !strings.Contains(reply, "Members: 45") || strings.Contains(reply, "couldn't add") {
		t.Errorf("reply:\n%s", reply)
	}

	// Now one of the extra members has left the organisation: DingTalk
	// refuses that update call, and the reply names who is missing.
	h.fake.AddUser(dingtalktest.User{UserID: "m44", Name: "Member 44", Active: false, Visible: true})
	reply = h.say(t, direct(strings.Replace(text, "Big", "Bigger", 1)))
	if !strings.Contains(reply, "I couldn't add 5 of them after creating the group") || !strings.Contains(reply, "m40, m41, m42, m43 and m44") {
		t.Errorf("reply:\n%s", reply)
	}
}

// say injects a message and returns the text of the reply it causes.
func (h *harness) say(t *testing.T, m dingtalktest.Message) string {
	t.Helper()
	before := len(h.fake.Replies())
	h.send(t, m)
	return h.waitReplies(t, before+1)[before].Text
}

func direct(text string) dingtalktest.Message {
	return dingtalktest.Message{Text: text, SenderID: "alice", SenderNick: "Alice"}
}

func group(text string, mentions ...dingtalktest.Mention) dingtalktest.Message {
	return dingtalktest.Message{Text: text, SenderID: "alice", SenderNick: "Alice", Group: true, ConversationTitle: "Team", Mentions: mentions}
}
