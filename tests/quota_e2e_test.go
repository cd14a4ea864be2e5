package tests

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
)

// The texts a person reads when the organisation's monthly DingTalk API
// quota is used up, and when DingTalk (or a proxy) answers a web page.
const (
	textQuota = "This organisation has used up its monthly DingTalk API quota, so the group was not created. " +
		"An admin can buy more calls or upgrade the plan in the DingTalk developer console; otherwise it resets next month."
	textQuotaZh = "本组织本月的钉钉接口调用量已用完，所以没有建群。" +
		"管理员可以在钉钉开发者后台购买更多调用量或升级版本；否则要等到下个月额度恢复。"
	textHTMLBody = "DingTalk did not give a proper answer (HTTP 403 with a web page instead), so the group was not created. " +
		"This happens when the bot's IP address is blocked for a few minutes after too many calls, or when a proxy is in the way. " +
		"Try again in a few minutes; if it keeps failing, ask an admin to check the bot's logs."
)

// TestDingTalkQuotaAndHTMLBodyReplies: the monthly quota (HTTP 403
// Forbidden.AccessDenied.ApiCountLimitForOrg) and an HTML 403 page on
// /newgroup are each one create call, not retried, and answered word for
// word; the bot's log names the non-JSON body without showing it.
func TestDingTalkQuotaAndHTMLBodyReplies(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, nil)
	const page = "<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body>Access denied: SECRET-PAGE-TEXT</body></html>"
	cases := []struct {
		name   string
		script dingtalktest.Response
		msg    dingtalktest.Message
		want   string // exact reply; %s stands for a request ID the fake generates
	}{
		{
			name:   "monthly quota",
			script: apiError(403, "Forbidden.AccessDenied.ApiCountLimitForOrg", "组织的API调用量已超过限制", "REQ-QUOTA"),
			msg:    groupMsg("/newgroup Quota @Alice", "Alice"),
			want:   textQuota + "\nDingTalk request ID: REQ-QUOTA",
		},
		{
			name:   "monthly quota in Chinese",
			script: apiError(403, "Forbidden.AccessDenied.ApiCountLimitForOrg", "组织的API调用量已超过限制", "REQ-QUOTA-ZH"),
			msg:    groupMsg("/建群 配额 @Alice", "Alice"),
			want:   textQuotaZh + "\n钉钉请求 ID：REQ-QUOTA-ZH",
		},
		{
			name:   "HTML 403 page",
			script: dingtalktest.Response{Status: 403, Body: []byte(page), ContentType: "text/html; charset=utf-8"},
			msg:    groupMsg("/newgroup Banned @Bob", "Bob"),
			want:   textHTMLBody + "\nDingTalk request ID: %s",
		},
	}
	for _, tc := range cases {
		callsBefore := len(w.fake.CreateRequests())
		w.fake.FailNextCreateWith(tc.script)
		reply := w.say(t, tc.msg)
		if calls := len(w.fake.CreateRequests()) - callsBefore; calls != 1 {
			t.Errorf("%s: %d create calls, want exactly 1", tc.name, calls)
		}
		pattern := "^" + strings.ReplaceAll(regexp.QuoteMeta(tc.want), "%s", "[0-9A-F-]{36}") + "$"
		if !regexp.MustCompile(pattern).MatchString(reply.Text) {
			t.Errorf("%s: reply\n%s\nwant\n%s", tc.name, reply.Text, tc.want)
		}
	}
	if n := len(w.fake.Groups()); n != 0 {
		t.Errorf("%d groups created, want none", n)
	}
	logs := w.bot.Logs()
	if !strings.Contains(logs, "dingtalk group.create: HTTP 403 with a non-JSON body (text/html)") {
		t.Errorf("the bot's log does not name the non-JSON body:\n%s", logs)
	}
	if strings.Contains(logs, "SECRET-PAGE-TEXT") {
		t.Error("the bot's log shows the HTML page")
	}
}

// TestCommandBoundsE2E: DINGBOT_MAX_LOOKUPS and DINGBOT_COMMAND_TIMEOUT reach
// the bot. A command naming more people than the cap is answered with no
// look-up; a failed look-up stops the rest; a command whose look-ups outlast
// its deadline is told that nothing was created, and nothing is.
func TestCommandBoundsE2E(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, map[string]string{
		"DINGBOT_MAX_LOOKUPS":     "2",
		"DINGBOT_COMMAND_TIMEOUT": "2s",
		"DINGTALK_API_TIMEOUT":    "2s",
	})
	lookups := func() int {
		return w.fake.LookupCalls(dingtalktest.PathUserSearch) + w.fake.LookupCalls(dingtalktest.PathUserByMobile)
	}

	// The start-up checks look up too (preflight): count from here.
	before, searchesBefore := lookups(), w.fake.LookupCalls(dingtalktest.PathUserSearch)
	reply := w.say(t, directMsg("/newgroup Three @Alice @Bob @张三"))
	want := "That command names 3 people to look up by mobile number or name; I look up at most 2 per command, so I did nothing. " +
		"Write some of them as userid:ID (or @mention them in a group chat), or split the command: for example /newgroup with some of them, then /addmember for the rest."
	if reply.Text != want {
		t.Errorf("over the cap: reply\n%s\nwant\n%s", reply.Text, want)
	}
	if n := lookups() - before; n != 0 {
		t.Errorf("over the cap: %d look-up calls, want none", n)
	}

	// The first search fails on the monthly quota: the second is not made.
	w.fake.FailNext(dingtalktest.PathUserSearch, dingtalktest.Response{Status: 403,
		Code: "Forbidden.AccessDenied.ApiCountLimitForOrg", Message: "组织的API调用量已超过限制"})
	reply = w.say(t, directMsg("/newgroup Two @Alice @Bob"))
	if !strings.HasPrefix(reply.Text, "I couldn't look up @Alice in DingTalk, so I created nothing. This organisation has used up its monthly DingTalk API quota.") {
		t.Errorf("failed look-up: reply\n%s", reply.Text)
	}
	if n := w.fake.LookupCalls(dingtalktest.PathUserSearch) - searchesBefore; n != 1 {
		t.Errorf("failed look-up: %d searches, want 1", n)
	}

	// Each search takes 1.5s: the second is cut off by the 2s deadline
	// (well before its own 2s API timeout).
	w.fake.FailNext(dingtalktest.PathUserSearch, dingtalktest.Response{Delay: 1500 * time.Millisecond})
	w.fake.FailNext(dingtalktest.PathUserSearch, dingtalktest.Response{Delay: 1500 * time.Millisecond})
	reply = w.say(t, directMsg("/newgroup Slow @Alice @Bob"))
	want = "That took too long (over 2 seconds), so I stopped before changing anything in DingTalk: nothing was created or changed. " +
		"Try again in a few minutes; if it keeps happening, name fewer people, or ask an admin to check the bot's logs."
	if reply.Text != want {
		t.Errorf("deadline: reply\n%s\nwant\n%s", reply.Text, want)
	}
	if n := len(w.fake.CreateRequests()); n != 0 {
		t.Errorf("%d create calls, want none", n)
	}
}
