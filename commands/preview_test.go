package commands

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/store"
)

// previewLanguage is a language with an alias for two people, one for one
// person and templates with their own confirm modes.
func previewLanguage(t *testing.T, mode ConfirmMode) *Language {
	t.Helper()
	l, err := New(Settings{
		Confirm: mode,
		People:  map[string][]string{"team": {"alice01", "bob02"}, "al": {"alice01"}},
		Templates: map[string]Template{
			"quiet":   {Args: "@team", Confirm: ConfirmNever},
			"careful": {Args: "--mute yes", Confirm: ConfirmAlways},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// finalPlan interprets text sent by lead01 in a group mentioning mentions
// (staffIds, in order) and completes it with lookups (value → userId).
func finalPlan(t *testing.T, l *Language, text string, mentions []string, lookups map[string]string) *CreateGroup {
	t.Helper()
	msg := Message{MsgID: "m1", Text: text, SenderStaffID: "lead01", SenderNick: "Lead", Group: len(mentions) > 0}
	for _, id := range mentions {
		msg.Mentions = append(msg.Mentions, Mention{StaffID: id})
	}
	act := l.Interpret(msg)
	cg := act.CreateGroup()
	if cg == nil {
		t.Fatalf("%s: no plan: %+v", text, act.Reply)
	}
	if len(cg.Pending) == 0 {
		return cg
	}
	var lks []Lookup
	for _, ref := range cg.Pending {
		lks = append(lks, Lookup{Ref: ref, Candidates: []Person{{UserID: lookups[ref.Value], Name: ref.Value}}})
	}
	act = l.Complete(cg, lks)
	if act.CreateGroup() == nil {
		t.Fatalf("%s: not completed: %+v", text, act.Reply)
	}
	return act.CreateGroup()
}

func TestConfirmReasons(t *testing.T) {
	many := "/newgroup Big"
	for i := range 21 {
		many += " userid:u" + string(rune('a'+i))
	}
	for _, tc := range []struct {
		name     string
		mode     ConfirmMode
		text     string
		mentions []string
		lookups  map[string]string
		want     []string // the reasons, English
	}{
		{name: "mentions only", text: `/newgroup "Release 4.2" @Alice @Bob`, mentions: []string{"alice01", "bob02"}},
		{name: "userid and mobile", text: `/newgroup Ops userid:alice01 13800000002`, lookups: map[string]string{"13800000002": "bob02"}},
		{name: "one-person alias", text: `/newgroup Ops @al`},
		{name: "twenty members", text: many[:strings.LastIndex(many[:strings.LastIndex(many, " ")], " ")]},
		{name: "name search", text: `/newgroup Standup Alice`, lookups: map[string]string{"Alice": "alice01"},
			want: []string{"found by name search rather than a mention: Alice (alice01). Check that this is who you meant."}},
		{name: "alias of two", text: `/newgroup Standup @team`, want: []string{"@team stands for 2 people."}},
		{name: "template alias", text: `/newgroup Standup --template careful @team`,
			want: []string{"@team stands for 2 people."}},
		{name: "more than twenty", text: many, want: []string{"the group would have 22 members (more than 20)."}},
		{name: "another owner", text: `/newgroup Oncall @Alice --owner @Alice`, mentions: []string{"alice01"},
			want: []string{"the owner would be Alice (alice01), not you."}},
		{name: "standard and external", text: `/newgroup Vendor userid:alice01 --standard --ext U1,U2`,
			want: []string{"it would be a standard group, not an internal one.", "it would include external contacts (2)."}},
		{name: "never", mode: ConfirmNever, text: `/newgroup Oncall userid:bob02 --owner userid:bob02 --standard`},
		{name: "always", mode: ConfirmAlways, text: `/newgroup Ops userid:alice01`, want: []string{"I ask before every new group here."}},
		{name: "template never beats always", mode: ConfirmAlways, text: `/newgroup Ops --template quiet`},
		{name: "template always", text: `/newgroup Ops --template careful`, want: []string{"the template careful always asks first."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := previewLanguage(t, tc.mode)
			cg := finalPlan(t, l, tc.text, tc.mentions, tc.lookups)
			got := l.confirmReasons(l.cat(English), cg, "lead01")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("reasons:\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestPreviewReplyBothLanguages(t *testing.T) {
	l := previewLanguage(t, ConfirmAuto)
	cg := finalPlan(t, l, `/newgroup "Ops_[x]" @team --owner userid:bob02 --mute yes --standard`, nil, nil)
	p := &store.Preview{Code: "K7Q2XM"}
	en := previewReply(l.cat(English), cg, p, l.confirmReasons(l.cat(English), cg, "lead01"), false, 10*time.Minute)
	if en.Title != "Create “Ops_[x]”?" {
		t.Errorf("title = %q", en.Title)
	}
	if !strings.HasPrefix(en.Text, "### Create “Ops\\_\\[x\\]”?\n\n**Type:** standard group  \n**Owner:** bob02  \n**Options:** --mute: yes  \n\n**Members (3):**\n\n- bob02\n- Lead (lead01)\n- alice01\n\n") {
		t.Errorf("English preview starts wrongly:\n%s", en.Text)
	}
	for _, want := range []string{
		"**Please check before I create it:**\n\n- @team stands for 2 people.\n- the owner would be bob02, not you.\n- it would be a standard group, not an internal one.\n\n",
		"[Create](dtmd://dingtalkclient/sendMessage?content=%2Fconfirm%20K7Q2XM)　[Cancel](dtmd://dingtalkclient/sendMessage?content=%2Fcancel%20K7Q2XM)\n\n",
		"If the buttons do nothing, send me `/confirm K7Q2XM` to create it or `/cancel K7Q2XM` to drop it. Nothing is created until then; this preview expires in 10 minutes.",
	} {
		if !strings.Contains(en.Text, want) {
			t.Errorf("English preview lacks %q:\n%s", want, en.Text)
		}
	}
	zh := previewReply(l.cat(Chinese), cg, p, l.confirmReasons(l.cat(Chinese), cg, "lead01"), true, time.Hour)
	for _, want := range []string{
		"### 创建 “Ops\\_\\[x\\]”？\n\n**类型：** 普通群  \n**群主：** bob02  \n",
		"- @team 代表 2 个人。\n- 群主将是 bob02，而不是你。\n- 这将是一个普通群，而不是企业内部群。\n",
		"[创建](dtmd://dingtalkclient/sendMessage?content=%2F%E7%A1%AE%E8%AE%A4%20K7Q2XM)　[取消](dtmd://dingtalkclient/sendMessage?content=%2F%E5%8F%96%E6%B6%88%20K7Q2XM)",
		"如果按钮没有反应，请 @我 并发送 `/确认 K7Q2XM` 来建群，或 `/取消 K7Q2XM` 来放弃。在此之前不会建群；这条预览 1 小时后过期。",
	} {
		if !strings.Contains(zh.Text, want) {
			t.Errorf("Chinese preview lacks %q:\n%s", want, zh.Text)
		}
	}
	// Each button sends exactly the command in words.
	links := regexp.MustCompile(`\]\((dtmd://[^)]+)\)`).FindAllStringSubmatch(zh.Text, -1)
	if len(links) != 2 {
		t.Fatalf("%d links, want 2", len(links))
	}
	for i, want := range []string{"/确认 K7Q2XM", "/取消 K7Q2XM"} {
		u, err := url.Parse(links[i][1])
		if err != nil || u.Scheme != "dtmd" || u.Host != "dingtalkclient" || u.Path != "/sendMessage" || u.Query().Get("content") != want {
			t.Errorf("link %d = %s, want one sending %q", i, links[i][1], want)
		}
	}
}

// TestPreviewListsManyMembersWithinDingTalksLimit: a 1000-person preview
// stays inside the markdown limit, counts the rest, and keeps its buttons.
func TestPreviewListsManyMembersWithinDingTalksLimit(t *testing.T) {
	l := previewLanguage(t, ConfirmAuto)
	cg := finalPlan(t, l, `/newgroup Big userid:alice01`, nil, nil)
	cg.Request.UserIDs = nil
	for i := range MaxTotalMembers {
		cg.Request.UserIDs = append(cg.Request.UserIDs, "user"+strings.Repeat("x", 20)+string(rune('A'+i%26))+string(rune('a'+i/26)))
	}
	r := previewReply(l.cat(English), cg, &store.Preview{Code: "K7Q2XM"}, l.confirmReasons(l.cat(English), cg, "lead01"), false, DefaultConfirmTTL)
	if len(r.Text) > previewBudget {
		t.Errorf("preview is %d bytes, over %d", len(r.Text), previewBudget)
	}
	if !regexp.MustCompile(`\n- … and \d+ more\n`).MatchString(r.Text) || !strings.Contains(r.Text, "**Members (1000):**") {
		t.Errorf("preview does not count the members it leaves out:\n%s", r.Text[len(r.Text)-600:])
	}
	if !strings.Contains(r.Text, "content=%2Fconfirm%20K7Q2XM") || !strings.Contains(r.Text, "the group would have 1000 members") {
		t.Error("preview lost its buttons or reasons")
	}
}

func TestNormalizeCode(t *testing.T) {
	for in, want := range map[string]string{
		"K7Q2XM": "K7Q2XM", "k7q2xm": "K7Q2XM", "k7q-2xm": "K7Q2XM", "“K7Q2XM”": "K7Q2XM", "K7Q 2XM": "K7Q2XM",
		"K7Q2X": "", "K7Q2XMM": "", "K7Q2X0": "", "K7Q2XI": "", "": "", "K7Q2X!": "", "Ｋ7Q2XM": "",
	} {
		if got := normalizeCode(in); got != want {
			t.Errorf("normalizeCode(%q) = %q, want %q", in, got, want)
		}
	}
	seen := map[string]bool{}
	for range 1000 {
		code := newCode()
		if normalizeCode(code) != code {
			t.Fatalf("newCode() = %q, which does not read back", code)
		}
		seen[code] = true
	}
	if len(seen) < 990 {
		t.Errorf("1000 codes have only %d distinct values", len(seen))
	}
}

func TestAnswerCommandsParse(t *testing.T) {
	l := previewLanguage(t, ConfirmAuto)
	for _, tc := range []struct {
		text    string
		code    string
		confirm bool
		lang    Lang
		reply   string // a usage error's first line, when no plan
	}{
		{text: "/confirm K7Q2XM", code: "K7Q2XM", confirm: true, lang: English},
		{text: "/confirm k7q2xm", code: "K7Q2XM", confirm: true, lang: English},
		{text: "/确认 K7Q2XM", code: "K7Q2XM", confirm: true, lang: Chinese},
		{text: "/cancel K7Q-2XM", code: "K7Q2XM", lang: English},
		{text: "/取消 k7q2xm", code: "K7Q2XM", lang: Chinese},
		{text: "/confirm", reply: "Which preview? Send the code the preview shows, e.g. /confirm K7Q2XM (tapping its button does that for you)."},
		{text: "/confirm hello", reply: `"hello" is not a preview code: a code is 6 letters and digits, e.g. K7Q2XM.`},
		{text: "/取消 K7", reply: "“K7” 不是预览代码：代码由 6 个字母和数字组成，例如 K7Q2XM。"},
	} {
		act := l.Interpret(Message{Text: tc.text, SenderStaffID: "lead01"})
		if tc.reply != "" {
			if act.Reply == nil || !strings.HasPrefix(act.Reply.Text, tc.reply) {
				t.Errorf("%s: reply %+v, want one starting %q", tc.text, act.Reply, tc.reply)
			}
			continue
		}
		a, ok := act.Plan.(*AnswerPreview)
		if !ok || a.Code != tc.code || a.Confirm != tc.confirm || a.Lang != tc.lang {
			t.Errorf("%s: plan %+v, want code %s confirm %v lang %s", tc.text, act.Plan, tc.code, tc.confirm, tc.lang)
		}
	}
}

func TestConfirmModeSettings(t *testing.T) {
	if _, err := New(Settings{Confirm: "sometimes"}); err == nil || !strings.Contains(err.Error(), `Confirm: "sometimes" is not auto, always or never`) {
		t.Errorf("bad mode: %v", err)
	}
	if _, err := New(Settings{Templates: map[string]Template{"x": {Args: "--mute yes", Confirm: "maybe"}}}); err == nil || !strings.Contains(err.Error(), `Templates["x"]: confirm:`) {
		t.Errorf("bad template mode: %v", err)
	}
	if _, err := New(Settings{ConfirmTTL: 48 * time.Hour}); err == nil {
		t.Error("a 48h TTL was accepted")
	}
}
