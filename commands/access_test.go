package commands

import (
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/access"
)

func TestDeniedReplyExact(t *testing.T) {
	t.Parallel()
	l, err := New(Settings{})
	if err != nil {
		t.Fatal(err)
	}
	en := &CreateGroup{Lang: English}
	zh := &CreateGroup{Lang: Chinese}
	who := func(rule access.Rule) *access.Denial {
		return &access.Denial{Rule: rule, UserID: "0123", ConversationID: "cidAB==", Contact: "the IT team (@Wang)"}
	}
	hourly := &access.Denial{Rule: access.RuleRatePerUser, UserID: "0123", Limit: access.Rate{N: 5, Per: time.Hour, Burst: 5}, RetryAfter: 11*time.Minute + time.Second}
	chat := &access.Denial{Rule: access.RuleRatePerConversation, Limit: access.Rate{N: 20, Per: 10 * time.Minute, Burst: 20}, RetryAfter: 29500 * time.Millisecond}
	cases := []struct {
		cg   *CreateGroup
		d    *access.Denial
		want string
	}{
		{en, who(access.RuleStandardGroups), "Only admins may create standard groups (rule: standard_groups). " +
			"Ask the IT team (@Wang) to add your user ID 0123 to access.admins, or create an internal group instead (--internal)."},
		{zh, who(access.RuleStandardGroups), "只有管理员可以建普通群（规则：standard_groups）。请联系the IT team (@Wang)，把你的用户 ID 0123 加入 access.admins；或改建内部群（--internal）。"},
		{en, who(access.RuleOwnerOverride), "Only admins may make someone else the owner of a new group (rule: owner_override). " +
			"Ask the IT team (@Wang) to add your user ID 0123 to access.admins, or leave out --owner to be the owner yourself."},
		{zh, who(access.RuleOwnerOverride), "只有管理员可以指定别人当群主（规则：owner_override）。请联系the IT team (@Wang)，把你的用户 ID 0123 加入 access.admins；或去掉 --群主，由你自己当群主。"},
		{en, who(access.RuleUsers), "You are not on the list of people who may create groups (rule: allow_users). Ask the IT team (@Wang) to add your user ID 0123 to access.allow_users."},
		{en, who(access.RuleDepartments), "Only members of certain departments may create groups, and you are in none of them (rule: allow_departments). " +
			"Ask the IT team (@Wang) to add your department to access.allow_departments, or your user ID 0123 to access.allow_users."},
		{en, who(access.RuleUsersOrDepartments), "Only listed people and members of listed departments may create groups, and you are neither (rules: allow_users, allow_departments). " +
			"Ask the IT team (@Wang) to add your user ID 0123 to access.allow_users."},
		{en, who(access.RuleConversations), "Groups can't be created from this chat (rule: allow_conversations). Send the command in a chat where I may create groups, " +
			"or ask the IT team (@Wang) to add this chat (cidAB==) to access.allow_conversations. Your user ID is 0123."},
		{en, &access.Denial{Rule: access.RuleUsers, UserID: "0123"}, "You are not on the list of people who may create groups (rule: allow_users). " +
			"Ask an admin of this bot to add your user ID 0123 to access.allow_users."},
		{zh, &access.Denial{Rule: access.RuleUsers, UserID: "0123"}, "你不在可以建群的人员名单中（规则：allow_users）。请联系本机器人的管理员，把你的用户 ID 0123 加入 access.allow_users。"},
		{en, hourly, "/newgroup is limited to 5 per hour for each person, and you have reached that (rule: rate.per_user). Try again in 12 minutes."},
		{zh, hourly, "每人每小时最多 /建群 5 次，你已达到上限（规则：rate.per_user）。请在 12 分钟后再试。"},
		{en, chat, "/newgroup is limited to 20 per 10 minutes in each chat, and this chat has reached that (rule: rate.per_conversation). Try again in 30 seconds."},
		{zh, chat, "每个会话每 10 分钟最多 /建群 20 次，这个会话已达到上限（规则：rate.per_conversation）。请在 30 秒后再试。"},
		{en, who(access.RuleExternal), englishText(msgExternalSender)},
		{nil, who(access.RuleUsers), "You are not on the list of people who may create groups (rule: allow_users). Ask the IT team (@Wang) to add your user ID 0123 to access.allow_users."},
	}
	for _, tc := range cases {
		if got := l.DeniedReply(tc.cg, tc.d).Text; got != tc.want {
			t.Errorf("%s (%v):\n got %s\nwant %s", tc.d.Rule, tc.cg, got, tc.want)
		}
	}
}

// TestDeniedReplyEveryRule: each rule has its own text in both languages,
// naming the rule (except external senders, who get the existing reply).
func TestDeniedReplyEveryRule(t *testing.T) {
	t.Parallel()
	l, err := New(Settings{DefaultLang: Chinese})
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []Lang{English, Chinese} {
		seen := map[string]access.Rule{}
		for _, rule := range access.Rules() {
			d := &access.Denial{Rule: rule, UserID: "u1", ConversationID: "cid", Limit: access.Rate{N: 1, Per: time.Hour, Burst: 1}, RetryAfter: time.Minute}
			text := l.DeniedReply(&CreateGroup{Lang: lang}, d).Text
			if text == catalogueFor(lang).f(msgInternal) || strings.Contains(text, "%!") {
				t.Errorf("%s/%s: %q", lang, rule, text)
			}
			if prev, dup := seen[text]; dup {
				t.Errorf("%s: %s and %s read the same", lang, prev, rule)
			}
			seen[text] = rule
			if rule == access.RuleExternal {
				continue
			}
			for _, key := range strings.Split(string(rule), "+") {
				if !strings.Contains(text, key) {
					t.Errorf("%s/%s: the reply does not name %s: %s", lang, rule, key, text)
				}
			}
			if !strings.HasPrefix(string(rule), "rate.") && !strings.Contains(text, "u1") {
				t.Errorf("%s/%s: the reply does not show the user ID: %s", lang, rule, text)
			}
		}
	}
	if got := l.DeniedReply(nil, &access.Denial{Rule: "nonsense"}).Text; got != chineseText(msgInternal) {
		t.Errorf("unknown rule: %q", got)
	}
	if got := l.DeniedReply(nil, nil).Text; got != chineseText(msgInternal) {
		t.Errorf("nil denial: %q", got)
	}
	if got := l.AccessLookupFailedReply(&CreateGroup{Lang: English}).Text; got != englishText(msgAccessLookupFailed) {
		t.Errorf("lookup failed: %q", got)
	}
}

func TestDurationTexts(t *testing.T) {
	t.Parallel()
	en, zh := catalogueFor(English), catalogueFor(Chinese)
	periods := map[time.Duration][2]string{
		time.Second:      {"second", "秒"},
		time.Minute:      {"minute", "分钟"},
		time.Hour:        {"hour", "小时"},
		24 * time.Hour:   {"day", "天"},
		10 * time.Minute: {"10 minutes", " 10 分钟"},
		90 * time.Minute: {"90 minutes", " 90 分钟"},
		48 * time.Hour:   {"2 days", " 2 天"},
		90 * time.Second: {"90 seconds", " 90 秒"},
	}
	for d, want := range periods {
		if got := [2]string{periodText(en, d), periodText(zh, d)}; got != want {
			t.Errorf("periodText(%s) = %q, want %q", d, got, want)
		}
	}
	retries := map[time.Duration][2]string{
		0:                                 {"1 second", "1 秒"},
		time.Millisecond:                  {"1 second", "1 秒"},
		1500 * time.Millisecond:           {"2 seconds", "2 秒"},
		59 * time.Second:                  {"59 seconds", "59 秒"},
		time.Minute:                       {"1 minute", "1 分钟"},
		61 * time.Second:                  {"2 minutes", "2 分钟"},
		time.Hour:                         {"1 hour", "1 小时"},
		time.Hour + time.Second:           {"1 hour 1 minute", "1 小时 1 分钟"},
		2*time.Hour + 30*time.Minute:      {"2 hours 30 minutes", "2 小时 30 分钟"},
		23*time.Hour + 59*time.Minute + 1: {"24 hours", "24 小时"},
	}
	for d, want := range retries {
		if got := [2]string{retryText(en, d), retryText(zh, d)}; got != want {
			t.Errorf("retryText(%s) = %q, want %q", d, got, want)
		}
	}
}
