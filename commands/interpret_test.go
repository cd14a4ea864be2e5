package commands

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dingbot/dingbot/dingclient"
)

const (
	testSender = "manager4220"
	testBot    = "$:LWCP_v1:$bot"
)

// groupMsg is a group-chat message from testSender mentioning people in
// order; each mention is "dingtalkId=staffId" (staffId may be empty). The bot
// itself is always in atUsers first, as DingTalk sends it.
func groupMsg(text string, mentions ...string) Message {
	m := Message{Text: " " + text, SenderStaffID: testSender, SenderNick: "Manager", Group: true, BotUserID: testBot,
		Mentions: []Mention{{DingtalkID: testBot}}}
	for _, s := range mentions {
		d, staff, _ := strings.Cut(s, "=")
		m.Mentions = append(m.Mentions, Mention{DingtalkID: d, StaffID: staff})
	}
	return m
}

// directMsg is a one-to-one chat message from testSender.
func directMsg(text string) Message {
	return Message{Text: text, SenderStaffID: testSender, BotUserID: testBot}
}

func i64(v int64) *int64 { return &v }
func i32(v int32) *int32 { return &v }

// req builds the expected request: internal group, owner first.
func req(name, owner string, ids ...string) dingclient.CreateGroupRequest {
	return dingclient.CreateGroupRequest{Name: name, Owner: owner, UserIDs: ids, ConversationTag: i64(2)}
}

func with(r dingclient.CreateGroupRequest, f func(*dingclient.CreateGroupRequest)) dingclient.CreateGroupRequest {
	f(&r)
	return r
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestInterpretCreatesGroup(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want dingclient.CreateGroupRequest
	}{
		{"basic with mentions",
			groupMsg(`/newgroup "Release 4.2" @alice @bob`, "d1=alice01", "d2=bob02"),
			req("Release 4.2", testSender, testSender, "alice01", "bob02")},
		{"name only", groupMsg(`/newgroup Solo`), req("Solo", testSender, testSender)},
		{"command case-insensitive", groupMsg(`/NewGroup Solo`), req("Solo", testSender, testSender)},
		{"alias creategroup", groupMsg(`/creategroup Solo`), req("Solo", testSender, testSender)},
		{"alias new-group", groupMsg(`/new-group Solo`), req("Solo", testSender, testSender)},
		{"full-width slash and curly quotes", groupMsg(`／newgroup “发布 4.2” @alice`, "d1=alice01"),
			req("发布 4.2", testSender, testSender, "alice01")},
		{"hash name", groupMsg(`/newgroup #release-42 @alice`, "d1=alice01"),
			req("#release-42", testSender, testSender, "alice01")},
		{"20-rune Chinese name", groupMsg(`/newgroup 一二三四五六七八九十一二三四五六七八九十`),
			req("一二三四五六七八九十一二三四五六七八九十", testSender, testSender)},
		{"name trimmed", groupMsg(`/newgroup "  Ops  "`), req("Ops", testSender, testSender)},
		{"bot mention excluded", groupMsg(`/newgroup X @alice`, "d1=alice01"), req("X", testSender, testSender, "alice01")},
		{"bot mention anywhere in atUsers excluded",
			Message{Text: "/newgroup X @alice", SenderStaffID: testSender, Group: true, BotUserID: testBot,
				Mentions: []Mention{{DingtalkID: "d1", StaffID: "alice01"}, {DingtalkID: testBot}}},
			req("X", testSender, testSender, "alice01")},
		{"sender mentioned is not duplicated", groupMsg(`/newgroup X @me @alice`, "d0="+testSender, "d1=alice01"),
			req("X", testSender, testSender, "alice01")},
		{"same person twice in text and atUsers", groupMsg(`/newgroup X @alice @alice`, "d1=alice01", "d1=alice01"),
			req("X", testSender, testSender, "alice01")},
		{"same person twice in text, once in atUsers", groupMsg(`/newgroup X @alice @bob @alice`, "d1=alice01", "d2=bob02"),
			req("X", testSender, testSender, "alice01", "bob02")},
		{"mention text stripped by DingTalk", groupMsg(`/newgroup X`, "d1=alice01", "d2=bob02"),
			req("X", testSender, testSender, "alice01", "bob02")},
		{"mentions before the name", groupMsg(`/newgroup @alice X`, "d1=alice01"), req("X", testSender, testSender, "alice01")},
		{"owner override by mention", groupMsg(`/newgroup X @alice @bob --owner @bob`, "d1=alice01", "d2=bob02", "d3=bob02"),
			req("X", "bob02", "bob02", testSender, "alice01")},
		{"owner override with equals", groupMsg(`/newgroup X --owner=@carol @alice`, "d3=carol03", "d1=alice01"),
			req("X", "carol03", "carol03", testSender, "alice01")},
		{"owner override by userid", groupMsg(`/newgroup X --owner userid:0123`), req("X", "0123", "0123", testSender)},
		{"owner only mentioned via --owner", groupMsg(`/newgroup X --owner @carol`, "d3=carol03"),
			req("X", "carol03", "carol03", testSender)},
		{"userid tokens in a group", groupMsg(`/newgroup X userid:u1 @alice USERID:u2`, "d1=alice01"),
			req("X", testSender, testSender, "u1", "alice01", "u2")},
		{"userid with full-width colon", groupMsg(`/newgroup X userid：u1`), req("X", testSender, testSender, "u1")},
		{"one-to-one chat with userid", directMsg(`/newgroup X userid:u1 userid:u2 userid:u1`),
			req("X", testSender, testSender, "u1", "u2")},
		{"double dash ends options", groupMsg(`/newgroup -- -dash-`), req("-dash-", testSender, testSender)},
		{"exactly 40 members", groupMsg("/newgroup X " + userIDs(39)),
			req("X", testSender, append([]string{testSender}, ids(39)...)...)},

		// Every option, both forms.
		{"--standard", groupMsg(`/newgroup X --standard`),
			with(req("X", testSender, testSender), func(r *dingclient.CreateGroupRequest) { r.ConversationTag = i64(0) })},
		{"--internal", groupMsg(`/newgroup X --internal`), req("X", testSender, testSender)},
		{"--type standard", groupMsg(`/newgroup X --type standard`),
			with(req("X", testSender, testSender), func(r *dingclient.CreateGroupRequest) { r.ConversationTag = i64(0) })},
		{"--type=Internal", groupMsg(`/newgroup X --type=Internal`), req("X", testSender, testSender)},
		{"--group-type normal", groupMsg(`/newgroup X --group-type normal`),
			with(req("X", testSender, testSender), func(r *dingclient.CreateGroupRequest) { r.ConversationTag = i64(0) })},
		{"consistent type options", groupMsg(`/newgroup X --standard --type standard`),
			with(req("X", testSender, testSender), func(r *dingclient.CreateGroupRequest) { r.ConversationTag = i64(0) })},
		{"--owner-type emp", groupMsg(`/newgroup X --owner-type emp`),
			with(req("X", testSender, testSender), func(r *dingclient.CreateGroupRequest) { r.OwnerType = "emp" })},
		{"--owner-type=external with standard", groupMsg(`/newgroup X --owner-type=external --standard`),
			with(req("X", testSender, testSender), func(r *dingclient.CreateGroupRequest) {
				r.OwnerType = "ext"
				r.ConversationTag = i64(0)
			})},
		{"--ext repeated and comma-separated", groupMsg(`/newgroup X --standard --ext u1,u2 --ext=u3，u1 --external u4`),
			with(req("X", testSender, testSender), func(r *dingclient.CreateGroupRequest) {
				r.ConversationTag = i64(0)
				r.ExtIDs = []string{"u1", "u2", "u3", "u4"}
			})},
		{"--icon", groupMsg(`/newgroup X --icon @lADPDgQ9qVgKJ8TNAljNAlg`),
			with(req("X", testSender, testSender), func(r *dingclient.CreateGroupRequest) { r.Icon = "@lADPDgQ9qVgKJ8TNAljNAlg" })},
		{"--icon=", groupMsg(`/newgroup X --icon=@media @alice`, "d1=alice01"),
			with(req("X", testSender, testSender, "alice01"), func(r *dingclient.CreateGroupRequest) { r.Icon = "@media" })},
		{"management options, space form", groupMsg(`/newgroup X --mention-all owner --history yes --approval yes --searchable yes --mute yes --manage owner`),
			with(req("X", testSender, testSender), func(r *dingclient.CreateGroupRequest) {
				r.ManagementOptions = &dingclient.ManagementOptions{MentionAllAuthority: i32(1), ShowHistoryType: i32(1),
					ValidationType: i32(1), Searchable: i32(1), ChatBannedType: i32(1), ManagementType: i32(1)}
			})},
		{"management options, equals form and aliases", groupMsg(`/newgroup X --at-all=everyone --show-history=no --validation=off --searchable=0 --mute-all=false --managers=all`),
			with(req("X", testSender, testSender), func(r *dingclient.CreateGroupRequest) {
				r.ManagementOptions = &dingclient.ManagementOptions{MentionAllAuthority: i32(0), ShowHistoryType: i32(0),
					ValidationType: i32(0), Searchable: i32(0), ChatBannedType: i32(0), ManagementType: i32(0)}
			})},
		{"yes/no spellings", groupMsg(`/newgroup X --mute ON --history True --approval 1 --searchable y`),
			with(req("X", testSender, testSender), func(r *dingclient.CreateGroupRequest) {
				r.ManagementOptions = &dingclient.ManagementOptions{ChatBannedType: i32(1), ShowHistoryType: i32(1),
					ValidationType: i32(1), Searchable: i32(1)}
			})},
		{"only one management option", groupMsg(`/newgroup X --mute yes`),
			with(req("X", testSender, testSender), func(r *dingclient.CreateGroupRequest) {
				r.ManagementOptions = &dingclient.ManagementOptions{ChatBannedType: i32(1)}
			})},
		{"options before the name, upper case", groupMsg(`/newgroup --MUTE yes X`),
			with(req("X", testSender, testSender), func(r *dingclient.CreateGroupRequest) {
				r.ManagementOptions = &dingclient.ManagementOptions{ChatBannedType: i32(1)}
			})},
		{"phone dashes", groupMsg(`/newgroup X —mute yes ——history yes`),
			with(req("X", testSender, testSender), func(r *dingclient.CreateGroupRequest) {
				r.ManagementOptions = &dingclient.ManagementOptions{ChatBannedType: i32(1), ShowHistoryType: i32(1)}
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			act := Interpret(tt.msg)
			if act.Reply != nil {
				t.Fatalf("Interpret(%q) replied:\n%s", tt.msg.Text, act.Reply.Text)
			}
			if act.CreateGroup() == nil {
				t.Fatalf("Interpret(%q) returned an empty Action", tt.msg.Text)
			}
			if got, want := jsonOf(act.CreateGroup().Request), jsonOf(tt.want); got != want {
				t.Errorf("Interpret(%q) request\n got %s\nwant %s", tt.msg.Text, got, want)
			}
		})
	}
}

// ids returns n distinct user IDs; userIDs writes them as userid: words.
func ids(n int) []string {
	v := make([]string, n)
	for i := range v {
		v[i] = fmt.Sprintf("u%02d", i)
	}
	return v
}

func userIDs(n int) string {
	return "userid:" + strings.Join(ids(n), " userid:")
}

const (
	usageNewGroup   = "Usage: /newgroup NAME [@member ...] [userid:ID ...] [options]"
	exampleNewGroup = `Example: /newgroup "Release 4.2" @alice @bob`
	moreNewGroup    = "All options: /help newgroup"
	hint            = "I understand commands that start with /. Try /help."
)

func TestInterpretReplies(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want string // exact reply, or with a leading "~" a substring of it
	}{
		{"empty text", groupMsg(""), hint},
		{"plain text", groupMsg("hello bot"), hint},
		{"only spaces", groupMsg("\u3000 "), hint},
		{"unknown command with did-you-mean", groupMsg("/newgrp X"),
			"I don't know the command /newgrp. Did you mean /newgroup? Type /help to see what I can do."},
		{"unknown command prefix", groupMsg("/new X"),
			"I don't know the command /new. Did you mean /newgroup? Type /help to see what I can do."},
		{"unknown command far away", groupMsg("/weather"),
			"I don't know the command /weather. Type /help to see what I can do."},
		{"slash alone", groupMsg("/"), "I don't know the command /. Type /help to see what I can do."},
		{"help", groupMsg("/help"), "Commands:\n" +
			"/newgroup NAME [@member ...] [userid:ID ...] [options] — Create a DingTalk group with you as owner and the people you @mention as members.\n" +
			"/help [COMMAND] — List the commands, or explain one command.\n" +
			"/groups [--page N] [--all] — List the groups you created through me, newest first.\n" +
			"/groupinfo [--group ID] — Show what I know of this group: name, owner, members, who created it.\n" +
			"/rename NAME [--group ID] — Rename a group I created.\n" +
			"/owner PERSON [--group ID] — Make a member the owner of a group I created.\n" +
			"/addmember PERSON... [--group ID] — Add people to a group I created.\n" +
			"/removemember PERSON... [--group ID] — Remove people from a group I created.\n" +
			"/confirm CODE — Create the group a preview showed.\n" +
			"/cancel CODE — Drop a preview: nothing is created.\n\n" +
			"Type /help COMMAND for details, for example /help newgroup."},
		{"help alias", groupMsg("/?"), "~Commands:\n"},
		{"help unknown", groupMsg("/help nwegroup"),
			"There is no command called /nwegroup. Did you mean /newgroup? Type /help to see what I can do."},
		{"help too many", groupMsg("/help a b"),
			"/help takes at most one command name.\nUsage: /help [COMMAND]\nExample: /help"},
		{"newgroup --help", groupMsg("/newgroup --help"), "~Options (anywhere after the command"},
		{"newgroup -h after bad args", groupMsg("/newgroup --bogus -h"), "~--mute yes|no (also --mute-all)"},

		{"unterminated quote", groupMsg(`/newgroup Bob's group @alice`, "d1=alice01"),
			"The quote after “Bob” is never closed. If it is an apostrophe (as in Bob's), put the whole name in double quotes, like \"Bob's group\".\n" +
				usageNewGroup + "\n" + exampleNewGroup + "\n" + moreNewGroup},
		{"unterminated quote in unknown command", groupMsg(`/foo "x`),
			"The quote that starts at “x” is never closed.\nType /help to see what I can do."},
		{"missing name", groupMsg("/newgroup @alice", "d1=alice01"),
			"The group needs a name.\n" + usageNewGroup + "\n" + exampleNewGroup + "\n" + moreNewGroup},
		{"empty quoted name", groupMsg(`/newgroup "  "`), "~The group needs a name."},
		{"21-rune name", groupMsg("/newgroup abcdefghijklmnopqrstu"),
			"The name \"abcdefghijklmnopqrstu\" is 21 characters; the limit is 20.\n" + usageNewGroup + "\n" + exampleNewGroup + "\n" + moreNewGroup},
		{"21-rune Chinese name", groupMsg("/newgroup 一二三四五六七八九十一二三四五六七八九十一"), "~is 21 characters; the limit is 20."},
		{"unquoted name with spaces", groupMsg("/newgroup Release 4.2 @alice", "d1=alice01"),
			"I found more than one name: \"Release\", \"4.2\". If the name has spaces, put it in quotes: \"Release 4.2\"\n" +
				usageNewGroup + "\n" + exampleNewGroup + "\n" + moreNewGroup},
		{"unknown option with suggestion", groupMsg("/newgroup X --ownr @alice", "d1=alice01"),
			"I don't know the option --ownr. Did you mean --owner?\n" + usageNewGroup + "\n" + exampleNewGroup + "\n" + moreNewGroup},
		{"unknown option, alias suggestion", groupMsg("/newgroup X --mute-al yes"), "~Did you mean --mute-all?"},
		{"single-dash long option", groupMsg("/newgroup X -owner @a", "d1=a1"), "~I don't know the option -owner. Did you mean --owner?"},
		{"unknown option without suggestion", groupMsg("/newgroup X --colour red"),
			"I don't know the option --colour.\n" + usageNewGroup + "\n" + exampleNewGroup + "\n" + moreNewGroup},
		{"bad yes/no value", groupMsg("/newgroup X --mute maybe"),
			"--mute doesn't accept \"maybe\": expected yes or no.\n" + usageNewGroup + "\n" + exampleNewGroup + " --mute yes\n" + moreNewGroup},
		{"bad choice value", groupMsg("/newgroup X --manage admins"), "~--manage doesn't accept \"admins\": expected everyone or owner."},
		{"bad type value", groupMsg("/newgroup X --type=secret"), "~--type doesn't accept \"secret\": expected internal or standard."},
		{"missing value at end", groupMsg("/newgroup X --mute"),
			"--mute needs a value: yes or no.\n" + usageNewGroup + "\n" + exampleNewGroup + " --mute yes\n" + moreNewGroup},
		{"missing value before option", groupMsg("/newgroup X --icon --mute yes"), "~--icon needs a value: MEDIAID."},
		{"empty equals value", groupMsg("/newgroup X --owner="), "~--owner needs a value: @user|userid:ID."},
		{"repeated option", groupMsg("/newgroup X --mute yes --mute-all no"),
			"~--mute-all is given more than once; give it once."},
		{"flag with value", groupMsg("/newgroup X --standard=yes"), "~--standard takes no value; write just --standard."},
		{"conflicting type", groupMsg("/newgroup X --standard --type internal"),
			"~--standard and --type internal contradict each other; choose one."},
		{"conflicting flags", groupMsg("/newgroup X --internal --standard"), "~--internal and --standard contradict each other"},
		{"ext needs standard", groupMsg("/newgroup X --ext u1"), "~External contacts (--ext) can only join a standard group"},
		{"owner-type ext needs standard", groupMsg("/newgroup X --owner-type ext"), "~An external owner (--owner-type ext) needs a standard group"},
		{"bad ext", groupMsg("/newgroup X --standard --ext ,,"), "~--ext needs a value"},
		{"bad owner value", groupMsg("/newgroup X --owner 4.2"),
			"--owner needs an @mention or userid:ID, not \"4.2\".\n" + usageNewGroup + "\n" + exampleNewGroup + " --owner @alice\n" + moreNewGroup},
		{"dry run answers at once (single-step Interpret)", groupMsg("/newgroup X --dry-run"),
			"~Dry run: nothing was created."},
		{"empty userid", groupMsg("/newgroup X userid:"), "~\"userid:\" is not a valid user ID"},

		{"external mention by name", groupMsg("/newgroup X @alice @Carol", "d1=alice01", "d3="),
			"@Carol is outside your organisation (DingTalk gives no user ID for them), so I can't add them; " +
				"remove the mention, or add them as an external contact with --ext UNIONID and --standard.\n" +
				usageNewGroup + "\n" + exampleNewGroup + "\n" + moreNewGroup},
		{"two external mentions", groupMsg("/newgroup X @Carol @Dave", "d3=", "d4="), "~@Carol and @Dave are outside your organisation"},
		{"external owner mention", groupMsg("/newgroup X --owner @Carol", "d3="), "~@Carol is outside your organisation"},
		{"external mention, counts disagree", groupMsg("/newgroup X @alice", "d1=alice01", "d3="),
			"~1 mentioned person has no user ID in this organisation"},
		{"owner ambiguous", groupMsg("/newgroup X --owner @bob", "d1=alice01", "d2=bob02"),
			"~I can't tell which of the people you mentioned @bob refers to. Write --owner userid:ID instead."},
		{"external sender", Message{Text: "/newgroup X", Group: true},
			"I can only create groups for members of this organisation, and DingTalk didn't tell me who you are (senderStaffId is missing). " +
				"This happens when you are outside the organisation, or when the robot is not published yet; an admin can publish it in the DingTalk developer console."},
		{"too many external contacts", groupMsg("/newgroup X --standard --ext " + strings.Join(ids(41), ",")),
			"~That is 41 external contacts; I can add at most 40 when creating a group."},
		{"bad icon", groupMsg(`/newgroup X --icon "a b"`), "~\"a b\" is not a valid mediaId for --icon."},
		{"bad userid with space", groupMsg(`/newgroup X "userid:a b"`), "~\"userid:a b\" is not a valid user ID"},
		{"phone dash before -h", groupMsg("/newgroup —h"), "~Options (anywhere after the command"},
		{"control character in name", groupMsg("/newgroup \"a\x01b\""), "~contains invisible control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			act := Interpret(tt.msg)
			if act.CreateGroup() != nil {
				t.Fatalf("Interpret(%q) created %s", tt.msg.Text, jsonOf(act.CreateGroup().Request))
			}
			if act.Reply == nil {
				t.Fatalf("Interpret(%q) returned an empty Action", tt.msg.Text)
			}
			got := act.Reply.Text
			if sub, ok := strings.CutPrefix(tt.want, "~"); ok {
				if !strings.Contains(got, sub) {
					t.Errorf("Interpret(%q) reply\n%s\nwant it to contain %q", tt.msg.Text, got, sub)
				}
				return
			}
			if got != tt.want {
				t.Errorf("Interpret(%q) reply\n got %q\nwant %q", tt.msg.Text, got, tt.want)
			}
		})
	}
}

func TestHelpListsEveryOption(t *testing.T) {
	for _, def := range Commands() {
		help := Interpret(groupMsg("/" + def.Name + " --help")).Reply.Text
		for _, o := range def.Options {
			for _, name := range append([]string{o.Name}, o.Aliases...) {
				if !strings.Contains(help, "--"+name) {
					t.Errorf("/%s --help does not mention --%s", def.Name, name)
				}
			}
			if o.Short != "" && !strings.Contains(help, "-"+o.Short) {
				t.Errorf("/%s --help does not mention -%s", def.Name, o.Short)
			}
			for _, ch := range o.Choices {
				if !strings.Contains(help, ch.Value) {
					t.Errorf("/%s --help does not mention value %s of --%s", def.Name, ch.Value, o.Name)
				}
			}
			if o.Summary == "" || o.Example == "" {
				t.Errorf("/%s --%s lacks a summary or an example", def.Name, o.Name)
			}
		}
		for _, ex := range def.Examples {
			if !strings.Contains(help, ex) {
				t.Errorf("/%s --help lacks example %q", def.Name, ex)
			}
		}
		if list := Interpret(groupMsg("/help")).Reply.Text; !strings.Contains(list, "/"+def.Name+" ") {
			t.Errorf("/help does not list /%s", def.Name)
		}
	}
}

func TestHelpCommandEqualsHelpFlag(t *testing.T) {
	for _, def := range Commands() {
		names := append([]string{def.Name}, def.Aliases...)
		want := Interpret(groupMsg("/" + def.Name + " --help")).Reply.Text
		wantZh := Interpret(groupMsg("/" + def.Aliases[len(def.Aliases)-1] + " --help")).Reply.Text
		if want == wantZh {
			t.Errorf("/%s: the last alias should be Chinese", def.Name)
		}
		for _, n := range names {
			for _, text := range []string{"/help " + n, "/help /" + strings.ToUpper(n), "/" + n + " -h", "/帮助 " + n} {
				w := want
				if cmd, _, _ := strings.Cut(text, " "); hasCJK(cmd) { // the command typed sets the language
					w = wantZh
				}
				if got := Interpret(groupMsg(text)).Reply.Text; got != w {
					t.Errorf("%q differs from /%s --help:\n%s", text, def.Name, got)
				}
			}
		}
	}
}

// TestExamplesWork runs every documented example: each must create a group
// (people are resolved from matching mentions) or, for /help, reply.
func TestExamplesWork(t *testing.T) {
	l := testLanguage(t)
	for _, lang := range []Lang{English, Chinese} {
		for _, def := range l.Commands(lang) {
			for _, ex := range def.Examples {
				var ments []string
				words, err := Split(ex)
				if err != nil {
					t.Fatalf("example %q: %v", ex, err)
				}
				for i, w := range words {
					if strings.HasPrefix(w, "@") && (i == 0 || words[i-1] != "--icon") {
						ments = append(ments, "d"+w+"="+w[1:]+"01")
					}
				}
				act := l.Interpret(groupMsg(ex, ments...))
				if def.Name == cmdNewGroup && act.CreateGroup() == nil && !strings.Contains(act.Reply.Text, c(lang).f(msgDryRunTitle)) {
					t.Errorf("example %q replied %q", ex, act.Reply.Text)
				}
				if def.Name == cmdHelp && (act.Reply == nil || strings.Contains(act.Reply.Text, c(lang).f(msgTypeHelp))) {
					t.Errorf("example %q failed", ex)
				}
			}
		}
	}
	for _, o := range Commands()[0].Options {
		if o.Name == optHelp {
			continue
		}
		ex := `/newgroup "Release 4.2" @alice @bob ` + o.Example
		if o.Name == optOwnerType {
			ex += " --standard"
		}
		act := l.Interpret(groupMsg(ex, "d1=alice01", "d2=bob02", "d3=alice01"))
		if act.CreateGroup() == nil && (o.Name != optDryRun || !strings.HasPrefix(act.Reply.Text, "Dry run")) {
			t.Errorf("option example %q replied %q", ex, act.Reply.Text)
		}
	}
}

func TestLegacyExamplesWork(t *testing.T) {
	for _, def := range Commands() {
		for _, ex := range def.Examples {
			if strings.Contains(ex, "--dry-run") {
				continue
			}
			var ments []string
			words, err := Split(ex)
			if err != nil {
				t.Fatalf("example %q: %v", ex, err)
			}
			for i, w := range words {
				if strings.HasPrefix(w, "@") && (i == 0 || words[i-1] != "--icon") {
					ments = append(ments, "d"+w+"="+w[1:]+"01")
				}
			}
			act := Interpret(groupMsg(ex, ments...))
			if def.Name == cmdNewGroup && act.CreateGroup() == nil {
				t.Errorf("example %q replied %q", ex, act.Reply.Text)
			}
		}
	}
	for _, o := range Commands()[0].Options {
		if o.Name == optHelp || o.Name == optDryRun || o.Name == optTemplate {
			continue
		}
		ex := `/newgroup "Release 4.2" @alice @bob ` + o.Example
		if o.Name == optOwnerType {
			ex += " --standard"
		}
		act := Interpret(groupMsg(ex, "d1=alice01", "d2=bob02", "d3=alice01"))
		if act.CreateGroup() == nil {
			t.Errorf("option example %q replied %q", ex, act.Reply.Text)
		}
	}
}

// TestCatalogueComplete checks the generic texts and every registered
// command's own: each ID has a text in every language, with the same arguments.
func TestCatalogueComplete(t *testing.T) {
	type idRange struct {
		from, to msgID
		owner    string
	}
	ranges := []idRange{{0, msgCount, "generic"}}
	for _, cmd := range Builtin() {
		if cmd.Texts.First >= cmd.Texts.Last || cmd.Texts.First < msgCount {
			t.Errorf("/%s: texts %d..%d are empty or overlap the generic ones", cmd.Name, cmd.Texts.First, cmd.Texts.Last)
		}
		for _, r := range ranges {
			if cmd.Texts.First < r.to && r.from < cmd.Texts.Last {
				t.Errorf("/%s: texts %d..%d overlap those of %s", cmd.Name, cmd.Texts.First, cmd.Texts.Last, r.owner)
			}
		}
		ranges = append(ranges, idRange{cmd.Texts.First, cmd.Texts.Last, "/" + cmd.Name})
	}
	check := func(id msgID, owner string) {
		en, zh := catalogueFor(English).f(id), catalogueFor(Chinese).f(id)
		if en == "" {
			t.Errorf("message %d (%s) has no English text", id, owner)
		}
		if zh == "" {
			t.Errorf("message %d (%s) has no Chinese text", id, owner)
		}
		if n, m := strings.Count(en, "%["), strings.Count(zh, "%["); n > 0 && m == 0 {
			t.Errorf("message %d: the Chinese text uses none of the %d arguments", id, n)
		}
		for i := 1; i <= 4; i++ {
			arg := fmt.Sprintf("%%[%d]", i)
			if strings.Contains(en, arg) != strings.Contains(zh, arg) {
				t.Errorf("message %d: argument %s is used in one language only:\n%s\n%s", id, arg, en, zh)
			}
		}
	}
	for _, r := range ranges {
		for id := r.from; id < r.to; id++ {
			check(id, r.owner)
		}
	}
	if got := catalogueFor(Chinese).f(msgID(-1)); got != "" {
		t.Errorf("unknown ID renders %q", got)
	}
}

func TestCommandsIsFresh(t *testing.T) {
	a := Commands()
	a[0].Name = "changed"
	a[0].Options[0].Name = "changed"
	if b := Commands(); b[0].Name != cmdNewGroup || b[0].Options[0].Name != optOwner {
		t.Error("Commands shares state between calls")
	}
}

func BenchmarkInterpret(b *testing.B) {
	msg := groupMsg(`/newgroup "Release 4.2" @alice @bob --mute yes`, "d1=alice01", "d2=bob02")
	b.ReportAllocs()
	for b.Loop() {
		if act := Interpret(msg); act.CreateGroup() == nil {
			b.Fatal("no group")
		}
	}
}

func BenchmarkInterpretHelp(b *testing.B) {
	msg := groupMsg(`/newgroup --help`)
	b.ReportAllocs()
	for b.Loop() {
		Interpret(msg)
	}
}
