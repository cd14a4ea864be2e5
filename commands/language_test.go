package commands

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// testSettings is a configuration with people, names, templates and command aliases.
func testSettings() Settings {
	return Settings{
		People: map[string][]string{
			"alice":         {"alice01"},
			"@Release-Team": {"rel1", "rel2", "rel3"},
			"bob":           {"bob02"},
		},
		Names: map[string]string{"alice01": "Alice Wang", "rel1": "Rachel", "rel2": "Ravi", "rel3": "Rosa"},
		Templates: map[string]Template{
			"release": {Description: "Release team, history on", Args: "@release-team --history yes --mute no"},
			"oncall":  {Description: "On-call rotation owned by Alice", Args: "--owner @alice --manage owner --standard"},
		},
		CommandAliases: map[string]string{"ng": "newgroup", "/新群": "建群"},
	}
}

func testLanguage(t testing.TB) *Language {
	t.Helper()
	l, err := New(testSettings())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func c(lang Lang) catalogue { return catalogueFor(lang) }

// person is a look-up answer.
type answer struct {
	value string
	cands []Person
	err   error
}

// run interprets msg and, if people are pending, completes it with the answers.
func run(t *testing.T, l *Language, msg Message, answers ...answer) (first, final Action) {
	t.Helper()
	first = l.Interpret(msg)
	if first.CreateGroup() == nil || len(first.CreateGroup().Pending) == 0 {
		return first, first
	}
	var lookups []Lookup
	for _, ref := range first.CreateGroup().Pending {
		for _, a := range answers {
			if a.value == ref.Value {
				lookups = append(lookups, Lookup{Ref: ref, Candidates: a.cands, Err: a.err})
			}
		}
	}
	before := jsonOf(first.CreateGroup())
	final = l.Complete(first.CreateGroup(), lookups)
	if after := jsonOf(first.CreateGroup()); after != before {
		t.Errorf("Complete modified its argument:\n%s\n%s", before, after)
	}
	return first, final
}

func TestResolvePeople(t *testing.T) {
	carol := answer{"Carol", []Person{{"carol03", "Carol Chen"}}, nil}
	mobile := answer{"13800000000", []Person{{"mob01", "Mo Bai"}}, nil}
	tests := []struct {
		name    string
		msg     Message
		answers []answer
		pending []PersonRef // expected Pending after Interpret
		want    string      // final request JSON
		names   map[string]string
	}{
		{"alias, one person (1:1)", directMsg("/newgroup X @alice"), nil, nil,
			jsonOf(req("X", testSender, testSender, "alice01")), map[string]string{"alice01": "Alice Wang"}},
		{"alias without @, any case (1:1)", directMsg("/newgroup X ALICE"), nil, nil,
			jsonOf(req("X", testSender, testSender, "alice01")), nil},
		{"alias of a group of people", directMsg("/newgroup X @release-team bob"), nil, nil,
			jsonOf(req("X", testSender, testSender, "rel1", "rel2", "rel3", "bob02")), map[string]string{"rel2": "Ravi", "bob02": ""}}, // an alias is no name
		{"mobile, bare", directMsg("/newgroup X 13800000000"), []answer{mobile},
			[]PersonRef{{Text: "13800000000", Kind: RefMobile, Value: "13800000000"}},
			jsonOf(req("X", testSender, testSender, "mob01")), map[string]string{"mob01": "Mo Bai"}},
		{"mobile forms are one person", directMsg("/newgroup X @13800000000 +8613800000000 0086-138-0000-0000 8613800000000 138-0000-0000"),
			[]answer{mobile}, []PersonRef{{Text: "@13800000000", Kind: RefMobile, Value: "13800000000"}},
			jsonOf(req("X", testSender, testSender, "mob01")), nil},
		{"userid", directMsg("/newgroup X userid:u1 userid：u2"), nil, nil,
			jsonOf(req("X", testSender, testSender, "u1", "u2")), nil},
		{"name search (1:1)", directMsg("/newgroup X Carol @Carol"), []answer{carol},
			[]PersonRef{{Text: "Carol", Kind: RefName, Value: "Carol"}},
			jsonOf(req("X", testSender, testSender, "carol03")), map[string]string{"carol03": "Carol Chen"}},
		{"all kinds, in the order typed", directMsg("/newgroup X Carol userid:u1 @release-team 13800000000 alice"),
			[]answer{carol, mobile}, []PersonRef{{Text: "Carol", Kind: RefName, Value: "Carol"}, {Text: "13800000000", Kind: RefMobile, Value: "13800000000"}},
			jsonOf(req("X", testSender, testSender, "carol03", "u1", "rel1", "rel2", "rel3", "mob01", "alice01")), nil},
		{"owner by mobile comes first", directMsg("/newgroup X alice --owner +86-138-0000-0000"), []answer{mobile},
			[]PersonRef{{Text: "+86-138-0000-0000", Kind: RefMobile, Value: "13800000000", Owner: true}},
			jsonOf(req("X", "mob01", "mob01", testSender, "alice01")), nil},
		{"owner by name who is also a member", directMsg("/newgroup X Carol --owner Carol"), []answer{carol},
			[]PersonRef{{Text: "Carol", Kind: RefName, Value: "Carol", Owner: true}},
			jsonOf(req("X", "carol03", "carol03", testSender)), nil},
		{"owner by alias", directMsg("/newgroup X --owner alice"), nil, nil,
			jsonOf(req("X", "alice01", "alice01", testSender)), nil},
		{"group: mentions pair with words and name people", groupMsg(`/newgroup "Release 4.2" @Alice @Bob`, "d1=alice01", "d2=bob02"), nil, nil,
			jsonOf(req("Release 4.2", testSender, testSender, "alice01", "bob02")),
			map[string]string{"alice01": "Alice Wang", "bob02": "Bob", testSender: "Manager"}},
		{"group: real mention wins over an alias of the same name", groupMsg(`/newgroup X @bob`, "d1=bob99"), nil, nil,
			jsonOf(req("X", testSender, testSender, "bob99")), nil},
		{"group: alias typed as text next to a real mention", groupMsg(`/newgroup X @Dan @release-team`, "d4=dan04"), nil, nil,
			jsonOf(req("X", testSender, testSender, "dan04", "rel1", "rel2", "rel3")), map[string]string{"dan04": "Dan"}},
		{"group: mobile typed next to a real mention", groupMsg(`/newgroup X @13800000000 @Dan`, "d4=dan04"), []answer{mobile},
			[]PersonRef{{Text: "@13800000000", Kind: RefMobile, Value: "13800000000"}},
			jsonOf(req("X", testSender, testSender, "mob01", "dan04")), nil},
		{"group: @name typed without picking it is looked up", groupMsg(`/newgroup X @Carol`), []answer{carol},
			[]PersonRef{{Text: "@Carol", Kind: RefName, Value: "Carol"}},
			jsonOf(req("X", testSender, testSender, "carol03")), nil},
		{"group: more words than mentions: look up all, keep the mentions", groupMsg(`/newgroup X @Dan @Carol`, "d4=dan04"),
			[]answer{carol, {"Dan", []Person{{"dan04", "Dan"}}, nil}},
			[]PersonRef{{Text: "@Dan", Kind: RefName, Value: "Dan"}, {Text: "@Carol", Kind: RefName, Value: "Carol"}},
			jsonOf(req("X", testSender, testSender, "dan04", "carol03")), nil},
		{"group: an ambiguous name is settled by the mention", groupMsg(`/newgroup X @Dan @Carol`, "d4=dan04"),
			[]answer{carol, {"Dan", []Person{{"dan04", "Dan"}, {"dan05", "Dan"}}, nil}},
			[]PersonRef{{Text: "@Dan", Kind: RefName, Value: "Dan"}, {Text: "@Carol", Kind: RefName, Value: "Carol"}},
			jsonOf(req("X", testSender, testSender, "dan04", "carol03")), nil},
		{"group: bare word after a mention is a person", groupMsg(`/newgroup X @Dan Carol`, "d4=dan04"), []answer{carol},
			[]PersonRef{{Text: "Carol", Kind: RefName, Value: "Carol"}},
			jsonOf(req("X", testSender, testSender, "dan04", "carol03")), nil},
		{"more than 40 people are allowed", directMsg("/newgroup X " + userIDs(99)), nil, nil,
			jsonOf(req("X", testSender, append([]string{testSender}, ids(99)...)...)), nil},
		{"1000 people", directMsg("/newgroup X " + userIDs(999)), nil, nil,
			jsonOf(req("X", testSender, append([]string{testSender}, ids(999)...)...)), nil},
		{"lookup returns duplicates and bad IDs", directMsg("/newgroup X Carol"),
			[]answer{{"Carol", []Person{{"carol03", "Carol"}, {" carol03 ", "Carol"}, {"bad id", "x"}}, nil}},
			[]PersonRef{{Text: "Carol", Kind: RefName, Value: "Carol"}},
			jsonOf(req("X", testSender, testSender, "carol03")), nil},
	}
	l := testLanguage(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, final := run(t, l, tt.msg, tt.answers...)
			if first.CreateGroup() == nil {
				t.Fatalf("Interpret replied:\n%s", first.Reply.Text)
			}
			if got, want := jsonOf(first.CreateGroup().Pending), jsonOf(tt.pending); len(tt.pending) > 0 && got != want {
				t.Errorf("pending\n got %s\nwant %s", got, want)
			}
			if final.CreateGroup() == nil {
				t.Fatalf("Complete replied:\n%s", final.Reply.Text)
			}
			if len(final.CreateGroup().Pending) != 0 {
				t.Errorf("final CreateGroup has pending people %v", final.CreateGroup().Pending)
			}
			if got := jsonOf(final.CreateGroup().Request); got != tt.want {
				t.Errorf("request\n got %s\nwant %s", got, tt.want)
			}
			for id, n := range tt.names {
				if got := final.CreateGroup().Names[id]; got != n {
					t.Errorf("Names[%s] = %q, want %q", id, got, n)
				}
			}
		})
	}
}

func TestResolvePeopleReplies(t *testing.T) {
	alices := answer{"Alicia", []Person{{"al1", "Alicia Wang"}, {"al2", "Alicia Li"}}, nil}
	tests := []struct {
		name    string
		msg     Message
		answers []answer
		want    string // exact, or "~substring"
	}{
		{"not found, with a hint to quote the name", directMsg("/newgroup Release Planning userid:u1 13900000000"),
			[]answer{{"Planning", nil, nil}, {"13900000000", nil, nil}},
			"I created nothing, because I couldn't tell who everyone is:\n" +
				"- Planning: nobody in this organisation is called \"Planning\".\n" +
				"- 13900000000: nobody in this organisation has the mobile number 13900000000.\n" +
				"If Planning is part of the group name, put the whole name in quotes: \"Release Planning\"\n" +
				"Write each of them as userid:ID, a mobile number, or their name exactly as in the address book, then send the command again."},
		{"ambiguous name lists the candidates", directMsg("/newgroup X @Alicia"), []answer{alices},
			"I created nothing, because I couldn't tell who everyone is:\n" +
				"- @Alicia matches 2 people: Alicia Wang (userid:al1) and Alicia Li (userid:al2).\n" +
				"Write each of them as userid:ID (IDs are shown above), a mobile number, or their name exactly as in the address book, then send the command again."},
		{"ambiguous, in Chinese", directMsg("/建群 发布 王五"), []answer{{"王五", []Person{{"ww1", "王五"}, {"ww2", "王五"}}, nil}},
			"我没有建群，因为有人我确定不了是谁：\n" +
				"- 王五 对应 2 个人：王五 (userid:ww1)和王五 (userid:ww2)。\n" +
				"请把他们改写成 userid:ID（ID 见上方）、手机号，或通讯录里的完整姓名，然后重新发送命令。"},
		{"many candidates are cut short", directMsg("/newgroup X Wang"),
			[]answer{{"Wang", func() []Person {
				var v []Person
				for _, id := range ids(12) {
					v = append(v, Person{id, "Wang"})
				}
				return v
			}(), nil}}, "~Wang (userid:u09) and 2 more."},
		{"look-up failed", directMsg("/newgroup X Carol 13900000000"),
			[]answer{{"Carol", nil, errors.New("dial tcp: timeout")}, {"13900000000", nil, nil}},
			"I couldn't look up Carol in DingTalk, so I created nothing. Try again in a few minutes; if it keeps failing, ask an admin to check the bot's logs."},
		{"look-up missing", directMsg("/newgroup X Carol"), nil, "~I couldn't look up Carol in DingTalk"},
		{"look-up refused for a missing permission", directMsg("/newgroup X Carol"),
			[]answer{{"Carol", nil, func() error {
				e := apiErr(403, "Forbidden.AccessDenied.AccessTokenPermissionDenied", "")
				e.RequiredScopes = []string{"qyapi_get_member"}
				return fmt.Errorf("search: %w", e)
			}()}},
			"I couldn't look up Carol in DingTalk, so I created nothing. The app lacks the DingTalk permission qyapi_get_member that looking people up needs. " +
				"An admin can grant it in the DingTalk developer console → the app → Permissions, then publish a new version of the app.\nDingTalk request ID: 6E32D367-2DFE-7DDB"},
		{"look-up throttled, in Chinese", directMsg("/建群 X 张三"),
			[]answer{{"张三", nil, apiErr(429, "system.busy", "")}},
			"我没能在钉钉里查找 张三，所以没有建群。钉钉正在对本应用限流。请一分钟后再试。\n钉钉请求 ID：6E32D367-2DFE-7DDB"},
		{"1001 people", directMsg("/newgroup X " + userIDs(1000)), nil,
			"That is 1001 people including the owner; a group can have at most 1000.\n" + usageNewGroup + "\n" + exampleNewGroup + "\n" + moreNewGroup},
		{"1001 people counting the pending", directMsg("/newgroup X Carol Dan " + userIDs(999)), nil,
			"~That is 1002 people including the owner; a group can have at most 1000."},
		{"owner alias of several people", directMsg("/newgroup X --owner @release-team"), nil,
			"~--owner must be one person, but @release-team stands for 3 people."},
		{"number that is no mobile: quote the name", directMsg("/newgroup Release 4.2 alice"), nil,
			"~I found more than one name: \"Release\", \"4.2\". If the name has spaces, put it in quotes: \"Release 4.2\""},
		{"group: mention outside the organisation", groupMsg("/newgroup Vendors @Alice @Eve", "d1=alice01", "d5="), nil,
			"~@Eve is outside your organisation"},
		{"group: owner among too few words", groupMsg("/newgroup X --owner @bob2", "d1=alice01", "d2=bob02"), nil,
			"~I can't tell which of the people you mentioned @bob2 refers to."},
		{"@ alone", directMsg("/newgroup X @"), nil, "~\"@\" is not a person I can look up"},
		{"name too long to look up", directMsg("/newgroup X " + strings.Repeat("n", 65)), nil, "~is not a person I can look up"},
		{"dry run after look-ups", directMsg("/newgroup X Carol --dry-run"), []answer{{"Carol", []Person{{"carol03", "Carol"}}, nil}},
			"~Members (useridlist, 2): manager4220 and Carol (carol03)"},
	}
	l := testLanguage(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, final := run(t, l, tt.msg, tt.answers...)
			if final.Reply == nil {
				t.Fatalf("no reply; request %s", jsonOf(final.CreateGroup().Request))
			}
			got := final.Reply.Text
			if sub, ok := strings.CutPrefix(tt.want, "~"); ok {
				if !strings.Contains(got, sub) {
					t.Errorf("reply\n%s\nwant it to contain %q", got, sub)
				}
			} else if got != tt.want {
				t.Errorf("reply\n got %q\nwant %q", got, tt.want)
			}
			for _, leak := range []string{"dial", "tcp", "%!"} {
				if strings.Contains(got, leak) {
					t.Errorf("reply leaks %q:\n%s", leak, got)
				}
			}
		})
	}
}

func TestCompleteEdgeCases(t *testing.T) {
	l := testLanguage(t)
	if a := l.Complete(nil, nil); a.Reply == nil || a.Reply.Text != c(English).f(msgInternal) {
		t.Errorf("Complete(nil) = %+v", a)
	}
	// A CreateGroup built elsewhere (no plan): resolved people are appended.
	cg := &CreateGroup{Request: req("X", "", "u1"), People: People{Pending: []PersonRef{{Text: "Carol", Kind: RefName, Value: "Carol", Owner: true}}}}
	a := l.Complete(cg, []Lookup{{Ref: cg.Pending[0], Candidates: []Person{{"carol03", "Carol"}}}})
	if a.CreateGroup() == nil {
		t.Fatalf("replied %q", a.Reply.Text)
	}
	if got, want := jsonOf(a.CreateGroup().Request), jsonOf(req("X", "carol03", "carol03", "u1")); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	// Nothing pending: Complete returns the request as is.
	cg = l.Interpret(directMsg("/newgroup X userid:u1")).CreateGroup()
	if a := l.Complete(cg, nil); a.CreateGroup() == nil || jsonOf(a.CreateGroup().Request) != jsonOf(cg.Request) {
		t.Errorf("Complete without pending changed the request: %+v", a)
	}
}

// Interpret is the default Language's Interpret (English, no aliases, no
// templates), for the tests that need no settings.
func Interpret(msg Message) Action {
	l, err := New(Settings{})
	if err != nil {
		panic(err)
	}
	return l.Interpret(msg)
}

// Commands are the default Language's definitions in English.
func Commands() []Definition {
	l, err := New(Settings{})
	if err != nil {
		panic(err)
	}
	return l.Commands(English)
}

// NonTextReply is the default Language's reply to a message that is not text.
func NonTextReply() Reply {
	l, err := New(Settings{})
	if err != nil {
		panic(err)
	}
	return l.NonTextReply("")
}

// TestPeopleForAnyCommand: the people rules are a building block; a command
// without --owner resolves its words the same way /newgroup does.
func TestPeopleForAnyCommand(t *testing.T) {
	l := testLanguage(t)
	def := &Definition{Name: "addmember"}
	var pp People
	var p plan
	msg := Message{Text: "/addmember x", SenderStaffID: "lead01", SenderNick: "Lead", Group: true,
		Mentions: []Mention{{DingtalkID: "d1", StaffID: "alice01"}}}
	owner, ids, err := l.resolvePeople(def, peopleWords([]string{"@Alice", "userid:u9", "13800000000", "Carol"}), "", nil, msg, &pp, &p)
	if err != nil {
		t.Fatal(err)
	}
	if owner != "lead01" || jsonOf(ids) != `["lead01","alice01","u9"]` {
		t.Errorf("owner %q, members %s; want the sender, then the known people in order", owner, jsonOf(ids))
	}
	if got := jsonOf(pp.Pending); got != `[{"text":"13800000000","kind":"mobile","value":"13800000000"},{"text":"Carol","kind":"name","value":"Carol"}]` {
		t.Errorf("pending %s", got)
	}
	resolved, names, reply := l.resolveLookups(c(English), &pp, []Lookup{
		{Ref: pp.Pending[0], Candidates: []Person{{"mob01", "Mo"}}},
		{Ref: pp.Pending[1], Candidates: []Person{{"carol03", "Carol Chen"}}},
	})
	if reply != "" {
		t.Fatalf("reply %q", reply)
	}
	owner, ids, _ = pp.members(resolved, "", nil)
	if owner != "lead01" || jsonOf(ids) != `["lead01","alice01","u9","mob01","carol03"]` || names["carol03"] != "Carol Chen" {
		t.Errorf("after look-ups: owner %q, members %s, names %v", owner, jsonOf(ids), names)
	}
	if _, _, reply := l.resolveLookups(c(English), &pp, nil); !strings.Contains(reply, "13800000000") {
		t.Errorf("a missing look-up should be named in the reply: %q", reply)
	}
}

func TestCommandRegistration(t *testing.T) {
	for _, tc := range []struct {
		cmds []Command
		want string
	}{
		{[]Command{HelpCommand(), HelpCommand()}, "is a name of both /help and /help"},
		{[]Command{{Name: "x"}}, "needs a Name and a Define"},
		{[]Command{{Name: "x", Define: helpDefinition}}, "/x defines itself as /help"},
		{[]Command{GroupsCommand()}, ""}, // a bot with /groups only
	} {
		_, err := New(Settings{Commands: tc.cmds})
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("New(%d commands) = %v, want %q", len(tc.cmds), err, tc.want)
		}
	}
	// Only registered commands are answered and listed.
	l, err := New(Settings{Commands: []Command{HelpCommand(), GroupsCommand()}})
	if err != nil {
		t.Fatal(err)
	}
	if a := l.Interpret(groupMsg("/newgroup X")); a.Plan != nil || !strings.Contains(a.Reply.Text, "I don't know the command /newgroup") {
		t.Errorf("/newgroup without it registered: %+v", a)
	}
	if a := l.Interpret(groupMsg("/help")); strings.Contains(a.Reply.Text, "/newgroup ") || !strings.Contains(a.Reply.Text, "/groups") {
		t.Errorf("/help lists %q", a.Reply.Text)
	}
	if _, err := New(Settings{Commands: []Command{HelpCommand()}, Templates: map[string]Template{"r": {Args: "userid:a"}}}); err == nil {
		t.Error("templates without /newgroup were accepted")
	}
}
