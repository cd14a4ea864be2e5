package commands

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/dingbot/dingbot/dingclient"
)

func TestTemplates(t *testing.T) {
	l := testLanguage(t)
	history := func(r *dingclient.CreateGroupRequest) {
		r.ManagementOptions = &dingclient.ManagementOptions{ShowHistoryType: i32(1), ChatBannedType: i32(0)}
	}
	tests := []struct {
		name string
		msg  Message
		want dingclient.CreateGroupRequest
	}{
		{"defaults: people and options", directMsg(`/newgroup --template release "Release 4.3"`),
			with(req("Release 4.3", testSender, testSender, "rel1", "rel2", "rel3"), history)},
		{"template name in any case, user's people first", directMsg(`/newgroup "Release 4.3" --template RELEASE bob`),
			with(req("Release 4.3", testSender, testSender, "bob02", "rel1", "rel2", "rel3"), history)},
		{"user's option overrides the template's, no repeated-option error", directMsg(`/newgroup X --template release --mute yes`),
			with(req("X", testSender, testSender, "rel1", "rel2", "rel3"), func(r *dingclient.CreateGroupRequest) {
				r.ManagementOptions = &dingclient.ManagementOptions{ShowHistoryType: i32(1), ChatBannedType: i32(1)}
			})},
		{"template owner and type", directMsg(`/newgroup Oncall --template oncall`),
			with(req("Oncall", "alice01", "alice01", testSender), func(r *dingclient.CreateGroupRequest) {
				r.ConversationTag = i64(0)
				r.ManagementOptions = &dingclient.ManagementOptions{ManagementType: i32(1)}
			})},
		{"user's --owner and --internal override the template's", directMsg(`/newgroup Oncall --template oncall --owner bob --internal`),
			with(req("Oncall", "bob02", "bob02", testSender), func(r *dingclient.CreateGroupRequest) {
				r.ManagementOptions = &dingclient.ManagementOptions{ManagementType: i32(1)}
			})},
		{"Chinese option alias", directMsg(`/建群 值班 --模板 oncall --群主 bob`),
			with(req("值班", "bob02", "bob02", testSender), func(r *dingclient.CreateGroupRequest) {
				r.ConversationTag = i64(0)
				r.ManagementOptions = &dingclient.ManagementOptions{ManagementType: i32(1)}
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			act := l.Interpret(tt.msg)
			if act.CreateGroup() == nil {
				t.Fatalf("replied:\n%s", act.Reply.Text)
			}
			if got, want := jsonOf(act.CreateGroup().Request), jsonOf(tt.want); got != want {
				t.Errorf("request\n got %s\nwant %s", got, want)
			}
			if act.CreateGroup().Template == "" {
				t.Error("Template not recorded")
			}
		})
	}
}

func TestTemplateReplies(t *testing.T) {
	l := testLanguage(t)
	none, _ := New(Settings{DefaultLang: Chinese})
	tests := []struct {
		name string
		l    *Language
		text string
		want string // exact, or "~substring"
	}{
		{"unknown template with did-you-mean", l, "/newgroup X --template releas",
			"There is no template called \"releas\". Did you mean --template release? Type /help templates to see the templates.\n" +
				usageNewGroup + "\nExample: /newgroup \"Release 4.2\" @alice @bob --template oncall\n" + moreNewGroup},
		{"unknown template, Chinese", l, "/建群 X --template releas",
			"没有叫 \"releas\" 的模板。你是不是想输入 --template release？输入 /帮助 模板 查看所有模板。\n" +
				"用法：/建群 群名 [@成员 ...] [userid:ID ...] [选项]\n示例：/建群 \"发布 4.2\" @张三 @李四 --template oncall\n全部选项：/帮助 建群"},
		{"no templates configured", none, "/newgroup X --template release",
			"No templates are configured, so --template can't be used. Name the people and options in the command instead."},
		{"/help templates", l, "/help templates",
			"Templates (use one as /newgroup --template NAME \"Group name\"):\n" +
				"oncall — On-call rotation owned by Alice\n    --owner @alice --manage owner --standard\n" +
				"release — Release team, history on\n    @release-team --history yes --mute no"},
		{"/帮助 模板", l, "/帮助 模板", "~模板（用法：/建群 --template 模板名 \"群名\"）：\noncall — On-call"},
		{"/help templates without templates", none, "/help templates",
			"No templates are configured. An admin can add them to the bot's configuration file; then /newgroup --template NAME fills in their people and options."},
		{"/帮助 模板 without templates", none, "/帮助 模板", "还没有配置模板。管理员可以在机器人的配置文件里添加；之后用 /建群 --template 模板名 即可自动填入模板里的成员和选项。"},
		{"/help mentions templates when there are some", l, "/help", "~\n\nType /help COMMAND for details, for example /help newgroup.\nTemplates for /newgroup: /help templates"},
		{"/help newgroup shows a template example", l, "/help newgroup", "~/newgroup --template oncall \"Release 4.3\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			act := tt.l.Interpret(directMsg(tt.text))
			if act.Reply == nil {
				t.Fatalf("no reply: %s", jsonOf(act.CreateGroup().Request))
			}
			got := act.Reply.Text
			if sub, ok := strings.CutPrefix(tt.want, "~"); ok {
				if !strings.Contains(got, sub) {
					t.Errorf("reply\n%s\nwant it to contain %q", got, sub)
				}
			} else if got != tt.want {
				t.Errorf("reply\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestReplyLanguage(t *testing.T) {
	l := testLanguage(t)
	zhDefault, err := New(Settings{DefaultLang: Chinese, CommandAliases: map[string]string{"ng": "newgroup"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		l    *Language
		text string
		want Lang
	}{
		{l, "/newgroup X", English},
		{l, "/NEWGROUP X", English},
		{l, "/creategroup X", English},
		{l, "/建群 X", Chinese},
		{l, "/建群 Release", Chinese},
		{l, "/新群 X", Chinese}, // configured alias with Chinese characters
		{l, "/ng X", English}, // configured alias: the default language
		{zhDefault, "/ng X", Chinese},
		{zhDefault, "/newgroup X", English},
		{zhDefault, "hello", Chinese},
		{l, "hello", English},
		{l, "你好", Chinese},
		{l, "/weather", English},
		{l, "/天气", Chinese},
		{l, "/? ", English},
		{zhDefault, "/?", Chinese},
	}
	for _, tt := range tests {
		out := tt.l.interpret(directMsg(tt.text))
		if out.lang != tt.want {
			t.Errorf("%q: language %s, want %s", tt.text, out.lang, tt.want)
		}
		if cg := out.act.CreateGroup(); cg != nil && cg.Lang != tt.want {
			t.Errorf("%q: CreateGroup.Lang %s, want %s", tt.text, cg.Lang, tt.want)
		}
		if r := out.act.Reply; r != nil && hasCJK(r.Text) != (tt.want == Chinese) {
			t.Errorf("%q: reply in the wrong language:\n%s", tt.text, r.Text)
		}
	}
}

func TestCommandAliases(t *testing.T) {
	l := testLanguage(t)
	for _, text := range []string{"/ng X userid:u1", "/NG X userid:u1", "/新群 X userid:u1", "/建群 X userid:u1"} {
		act := l.Interpret(directMsg(text))
		if act.CreateGroup() == nil || jsonOf(act.CreateGroup().Request) != jsonOf(req("X", testSender, testSender, "u1")) {
			t.Errorf("%q: %+v", text, act)
		}
	}
	if got := l.Interpret(directMsg("/help ng")).Reply.Text; !strings.Contains(got, "Also: /creategroup, /new-group, /建群, /ng, /新群") {
		t.Errorf("/help ng:\n%s", got)
	}
	// Did you mean works for Chinese and configured aliases.
	for text, want := range map[string]string{
		"/建组 X":  "没有 /建组 这个命令。你是不是想输入 /建群？输入 /帮助 查看我能做什么。",
		"/帮主":    "没有 /帮主 这个命令。你是不是想输入 /帮助？输入 /帮助 查看我能做什么。",
		"/ngg X": "I don't know the command /ngg. Did you mean /ng? Type /help to see what I can do.",
		"/新裙 X":  "没有 /新裙 这个命令。你是不是想输入 /新群？输入 /帮助 查看我能做什么。",
	} {
		if got := l.Interpret(directMsg(text)).Reply.Text; got != want {
			t.Errorf("%q:\n got %q\nwant %q", text, got, want)
		}
	}
}

func TestNewValidation(t *testing.T) {
	tests := []struct {
		name string
		s    Settings
		want string // substring of the error
	}{
		{"bad language", Settings{DefaultLang: "fr"}, `DefaultLang: "fr"`},
		{"alias with space", Settings{People: map[string][]string{"a b": {"x"}}}, `People["a b"]`},
		{"alias without IDs", Settings{People: map[string][]string{"a": nil}}, `People["a"]: no user IDs`},
		{"alias with bad ID", Settings{People: map[string][]string{"a": {"x y"}}}, `People["a"]: "x y" is not a valid user ID`},
		{"alias twice", Settings{People: map[string][]string{"a": {"x"}, "@A": {"y"}}}, `configured twice`},
		{"alias userid:", Settings{People: map[string][]string{"userid:x": {"x"}}}, `People["userid:x"]`},
		{"bad name", Settings{Names: map[string]string{"u1": "a\nb"}}, `Names["u1"]`},
		{"bad name ID", Settings{Names: map[string]string{"u 1": "A"}}, `Names["u 1"]`},
		{"command alias to nothing", Settings{CommandAliases: map[string]string{"ng": "nothing"}}, `CommandAliases["ng"]: there is no command "nothing"`},
		{"command alias shadows a command", Settings{CommandAliases: map[string]string{"/help": "newgroup"}}, `CommandAliases["/help"]: /help is already a command`},
		{"command alias with quote", Settings{CommandAliases: map[string]string{`n"g`: "newgroup"}}, `CommandAliases["n\"g"]`},
		{"template that doesn't parse", Settings{Templates: map[string]Template{"t": {Args: `--mute maybe`}}}, `Templates["t"]: --mute doesn't accept "maybe"`},
		{"template with an unclosed quote", Settings{Templates: map[string]Template{"t": {Args: `"abc`}}}, `Templates["t"]: The quote`},
		{"template with --template", Settings{Templates: map[string]Template{"t": {Args: `--template t`}}}, `Templates["t"]: a template can't contain --template`},
		{"template with --dry-run", Settings{Templates: map[string]Template{"t": {Args: `--dry-run`}}}, `can't contain --dry-run`},
		{"template with --help", Settings{Templates: map[string]Template{"t": {Args: `-h`}}}, `can't contain --help`},
		{"template that contradicts itself", Settings{Templates: map[string]Template{"t": {Args: `--ext u1`}}}, `Templates["t"]: External contacts (--ext) can only join a standard group`},
		{"template with a group owner", Settings{People: map[string][]string{"team": {"a", "b"}}, Templates: map[string]Template{"t": {Args: `--owner @team`}}}, `Templates["t"]: --owner must be one person`},
		{"template description on two lines", Settings{Templates: map[string]Template{"t": {Description: "a\nb"}}}, `Templates["t"]: the description must be one line`},
		{"template name with space", Settings{Templates: map[string]Template{"a b": {}}}, `Templates["a b"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := New(tt.s)
			if err == nil {
				t.Fatalf("New succeeded: %+v", l)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := New(testSettings()); err != nil {
		t.Errorf("valid settings: %v", err)
	}
}

func TestDryRun(t *testing.T) {
	l := testLanguage(t)
	msg := groupMsg(`/newgroup "Release 4.3" @Dan --template release --mute yes --owner @alice --icon @media1 --dry-run`, "d4=dan04")
	act := l.Interpret(msg)
	if act.Reply == nil {
		t.Fatalf("a dry run created %s", jsonOf(act.CreateGroup().Request))
	}
	want := "Dry run: nothing was created. This is what I would send to DingTalk:\n" +
		"Name (name): \"Release 4.3\"\n" +
		"Type (conversationTag): internal group, 2\n" +
		"Owner: Alice Wang (alice01)\n" +
		"Owner type (ownerType): not sent (DingTalk's default: employee (emp))\n" +
		"Members (useridlist, 6): Alice Wang (alice01), Manager (manager4220), Dan (dan04), Rachel (rel1), Ravi (rel2) and Rosa (rel3)\n" +
		"External contacts (extidlist): none\n" +
		"Icon (icon): @media1\n" +
		"--mention-all (managementOptions.mentionAllAuthority): not sent (DingTalk's default: everyone)\n" +
		"--history (managementOptions.showHistoryType): yes\n" +
		"--approval (managementOptions.validationType): not sent (DingTalk's default: no)\n" +
		"--searchable (managementOptions.searchable): not sent (DingTalk's default: no)\n" +
		"--mute (managementOptions.chatBannedType): yes\n" +
		"--manage (managementOptions.managementType): not sent (DingTalk's default: everyone)\n" +
		"Template: release\n" +
		"Request body of POST /v1.0/im/group/create:\n" +
		`{"name":"Release 4.3","owner":"alice01","useridlist":["alice01","manager4220","dan04","rel1","rel2","rel3"],"conversationTag":2,"icon":"@media1","managementOptions":{"showHistoryType":1,"chatBannedType":1}}` + "\n" +
		"Send the same command without --dry-run to create the group."
	if act.Reply.Text != want {
		t.Errorf("dry run\n got %q\nwant %q", act.Reply.Text, want)
	}

	zh := l.Interpret(directMsg(`/建群 大群 --预览 --standard --ext e1 --manage owner --owner-type ext ` + userIDs(45))).Reply.Text
	for _, sub := range []string{
		"预览：什么都没有创建。以下是我将发给钉钉的内容：\n群名（name）：“大群”\n类型（conversationTag）：普通群，0\n群主：manager4220\n群主类型（ownerType）：外部联系人（ext）\n成员（useridlist，46 人）：",
		"u44\n钉钉建群时最多接受 40 名成员，所以我会先用前 40 人建群，再把其余 6 人加进去。\n外部联系人（extidlist）：e1\n群头像（icon）：无\n",
		"--manage（managementOptions.managementType）：仅群主\n",
		"--history（managementOptions.showHistoryType）：不发送（钉钉默认：否）\n",
		"去掉 --dry-run 再发送同一条命令，即可建群。",
	} {
		if !strings.Contains(zh, sub) {
			t.Errorf("Chinese dry run\n%s\nlacks %q", zh, sub)
		}
	}

	// A dry run with people to look up comes back as a CreateGroup; DryRunReply lists them.
	act = l.Interpret(directMsg("/newgroup X Carol --owner 13800000000 --dryrun"))
	cg := act.CreateGroup()
	if cg == nil || !cg.DryRun || len(cg.Pending) != 2 {
		t.Fatalf("want a pending dry run, got %+v", act)
	}
	got := l.DryRunReply(cg).Text
	for _, sub := range []string{"Owner: 13800000000\n", "Members (useridlist, 1): manager4220\n", "Still to look up in DingTalk: Carol and 13800000000\n"} {
		if !strings.Contains(got, sub) {
			t.Errorf("pending dry run\n%s\nlacks %q", got, sub)
		}
	}
	if got := l.DryRunReply(nil).Text; got != c(English).f(msgInternal) {
		t.Errorf("DryRunReply(nil) = %q", got)
	}
}

func TestParse(t *testing.T) {
	l := testLanguage(t)
	res := l.Parse(`/newgroup "Release 4.2" @alice 13800000000 --dry-run --template release`)
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"command":"newgroup","request":{"name":"Release 4.2","owner":"SENDER","useridlist":["SENDER","alice01","rel1","rel2","rel3"],"conversationTag":2,"managementOptions":{"showHistoryType":1,"chatBannedType":0}},` +
		`"pending":[{"text":"13800000000","kind":"mobile","value":"13800000000"}],"names":{"alice01":"Alice Wang","rel1":"Rachel","rel2":"Ravi","rel3":"Rosa"},` +
		`"dry_run":true,"template":"release","language":"en","reply":"","error":false}`
	if string(b) != want {
		t.Errorf("Parse\n got %s\nwant %s", b, want)
	}
	tests := []struct {
		text, command string
		lang          Lang
		isErr         bool
		reply         string
	}{
		{"/newgroup", "newgroup", English, true, "The group needs a name."},
		{"/建群", "newgroup", Chinese, true, "群需要一个名字。"},
		{"/help", "help", English, false, "Commands:"},
		{"hello", "", English, true, "I understand commands"},
		{"/nope", "", English, true, "I don't know the command /nope."},
		{`/newgroup "x`, "newgroup", English, true, "The quote"},
	}
	for _, tt := range tests {
		r := l.Parse(tt.text)
		if r.Command != tt.command || r.Language != tt.lang || r.Error != tt.isErr || !strings.HasPrefix(r.Reply, tt.reply) || r.Request != nil || r.Pending == nil {
			t.Errorf("Parse(%q) = %+v", tt.text, r)
		}
	}
}

// TestRepliesBothLanguages renders every kind of reply in both languages: the
// texts must differ, be non-empty, and the Chinese ones must be Chinese.
func TestRepliesBothLanguages(t *testing.T) {
	en := testLanguage(t)
	s := testSettings()
	s.DefaultLang = Chinese
	zh, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	cg := func(lang Lang) *CreateGroup {
		g := testCreate()
		g.Lang = lang
		g.Names = map[string]string{"0123": "Dave", "alice01": "Alice"}
		return g
	}
	resp := &dingclient.CreateGroupResponse{ConversationTag: 2, OpenConversationID: "cid1", ChatID: "chat1"}
	type render func(l *Language, lang Lang) string
	scenarios := map[string]render{
		"non-text": func(l *Language, lang Lang) string { return l.NonTextReply(lang).Text },
		"created":  func(l *Language, lang Lang) string { return l.createdReply(cg(lang), resp, nil).Text },
		"created, not added": func(l *Language, lang Lang) string {
			return l.createdReply(cg(lang), resp, []string{"bob02", "zed"}).Text
		},
		"visibility": func(l *Language, lang Lang) string {
			return l.FailedReply(cg(lang), apiErr(400, "permession.checkFailed", "群主不在应用可见性内")).Text
		},
		"maybe created": func(l *Language, lang Lang) string {
			return l.FailedReply(cg(lang), &dingclient.OutcomeUnknownError{Err: context.DeadlineExceeded}).Text
		},
		"dry run": func(l *Language, lang Lang) string { return l.DryRunReply(cg(lang)).Text },
		"unresolved": func(l *Language, lang Lang) string {
			g := l.Interpret(directMsg("/newgroup X Carol --owner 13900000000")).CreateGroup()
			g.Lang = lang
			return l.Complete(g, []Lookup{{Ref: g.Pending[0]}, {Ref: g.Pending[1], Candidates: []Person{{"a", "A"}, {"b", "B"}}}}).Reply.Text
		},
		"lookup failed": func(l *Language, lang Lang) string {
			g := l.Interpret(directMsg("/newgroup X Carol")).CreateGroup()
			g.Lang = lang
			return l.Complete(g, nil).Reply.Text
		},
		"not a command": func(l *Language, lang Lang) string { return l.Interpret(directMsg("hello")).Reply.Text },
		"help":          func(l *Language, lang Lang) string { return l.Interpret(directMsg("/?")).Reply.Text },
		"help newgroup": func(l *Language, lang Lang) string { return l.Interpret(directMsg("/? newgroup")).Reply.Text },
		"usage error":   func(l *Language, lang Lang) string { return l.Interpret(directMsg("/ng X --mute maybe")).Reply.Text },
		"no templates":  func(l *Language, lang Lang) string { return l.Interpret(directMsg("/? templates")).Reply.Text },
	}
	for name, r := range scenarios {
		e, z := r(en, English), r(zh, Chinese)
		if e == "" || z == "" || e == z {
			t.Errorf("%s: en %q, zh %q", name, e, z)
		}
		// English help lists the Chinese names of commands and options; nothing else is Chinese.
		plain := e
		for _, zhName := range []string{"应用可见范围", "建群", "新群", "帮助", "群主", "模板", "预览"} {
			plain = strings.ReplaceAll(plain, zhName, "")
		}
		if hasCJK(plain) {
			t.Errorf("%s: English reply has Chinese:\n%s", name, e)
		}
		if !hasCJK(z) {
			t.Errorf("%s: Chinese reply has no Chinese:\n%s", name, z)
		}
		for _, bad := range []string{"%!", "MISSING", "<nil>"} {
			if strings.Contains(e, bad) || strings.Contains(z, bad) {
				t.Errorf("%s: formatting error %q:\n%s\n%s", name, bad, e, z)
			}
		}
	}
	// Golden texts of the main replies in both languages.
	golden := []struct{ got, want string }{
		{en.createdReply(cg(English), resp, []string{"bob02"}).Text,
			"Created group \"Release 4.2\".\nType: internal group\nOwner: Dave (0123)\nMembers: 2 (Dave and Alice)\n" +
				"I couldn't add 1 of them after creating the group: bob02. The group owner can add them in the group settings.\nopenConversationId: cid1\nchatid: chat1"},
		{zh.createdReply(cg(Chinese), resp, []string{"bob02"}).Text,
			"已创建群 “Release 4.2”。\n类型：内部群\n群主：Dave (0123)\n成员：2 人（Dave和Alice）\n" +
				"建群后有 1 人没能加进群：bob02。群主可以在群设置里手动添加。\nopenConversationId：cid1\nchatid：chat1"},
		{en.FailedReply(cg(English), apiErr(400, "permession.checkFailed", "群主不在应用可见性内")).Text,
			"DingTalk refused: the owner (Dave, 0123) is outside this app's visibility scope. An admin must add them in the DingTalk developer console → the app → Version management & release → Visibility (应用可见范围), then try again.\nDingTalk request ID: 6E32D367-2DFE-7DDB"},
		{zh.FailedReply(cg(Chinese), apiErr(400, "permession.checkFailed", "群主不在应用可见性内")).Text,
			"钉钉拒绝了：群主（Dave, 0123）不在本应用的可见范围内（群主不在应用可见性内）。请管理员在钉钉开发者后台 → 应用 → 版本管理与发布 → 可见范围 中添加此人，然后再试。\n钉钉请求 ID：6E32D367-2DFE-7DDB"},
		{zh.NonTextReply("").Text, "我只能读文字消息。请输入命令，例如 /建群；输入 /帮助 查看全部命令。"},
		{en.NonTextReply("").Text, NonTextReply().Text},
		{en.NonTextReply(Chinese).Text, zh.NonTextReply("").Text},
	}
	for _, g := range golden {
		if g.got != g.want {
			t.Errorf("reply\n got %q\nwant %q", g.got, g.want)
		}
	}
}

// TestEveryMessageRenders formats every catalogue entry in both languages
// with plausible arguments: no formatting errors.
func TestEveryMessageRenders(t *testing.T) {
	for _, lang := range []Lang{English, Chinese} {
		cat := catalogueFor(lang)
		for id := msgID(0); id < msgCount; id++ {
			text := cat.text(id)
			var args []any
			for i := 1; i <= 9; i++ {
				if strings.Contains(text, "%["+string(rune('0'+i))+"]d") {
					args = append(args, 3)
				} else if strings.Contains(text, "%["+string(rune('0'+i))+"]") {
					args = append(args, "x")
				}
			}
			if got := cat.f(id, args...); strings.Contains(got, "%!") {
				t.Errorf("%s message %d renders %q", lang, id, got)
			}
		}
	}
}

func TestLanguageIsSafeForConcurrentUse(t *testing.T) {
	l := testLanguage(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				act := l.Interpret(groupMsg(`/newgroup X @Dan Carol --template release`, "d4=dan04"))
				if act.CreateGroup() == nil {
					t.Error("no group")
					return
				}
				l.Complete(act.CreateGroup(), []Lookup{{Ref: act.CreateGroup().Pending[0], Candidates: []Person{{UserID: "c" + string(rune('0'+i))}}}})
				l.Parse("/建群 --help")
			}
		})
	}
	wg.Wait()
}

func BenchmarkLanguageInterpret(b *testing.B) {
	l := testLanguage(b)
	msg := groupMsg(`/newgroup "Release 4.2" @alice @bob --template release --mute yes`, "d1=alice01", "d2=bob02")
	b.ReportAllocs()
	for b.Loop() {
		if act := l.Interpret(msg); act.CreateGroup() == nil {
			b.Fatal("no group")
		}
	}
}
