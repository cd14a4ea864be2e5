package tests

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
)

// The texts a person reads for each way DingTalk can refuse a create.
const (
	textParameter = "DingTalk rejected a parameter of the request. Check the name (1 to 20 characters), the user IDs, " +
		"the --icon mediaId and the --ext unionIds, and the other options, then try again."
	textPermission = "DingTalk refused: its permission check failed. Likely causes: the app lacks the qyapi_chat_manage permission; " +
		"a standard group needs DingTalk support to allow-list the app; or a member is outside the app's visibility scope. " +
		"Ask an admin to check the app in the DingTalk developer console."
	textVisibility = "DingTalk refused: the owner (Dave, dave04) is outside this app's visibility scope. " +
		"An admin must add them in the DingTalk developer console → the app → Version management & release → Visibility (应用可见范围), then try again."
	textMaybeCreated = "DingTalk failed while creating the group; it MAY have been created. " +
		"Check your group list before trying again, so that you don't end up with two groups."
	textThrottled    = "DingTalk is rate-limiting this app right now. Try again in a minute."
	textInvalidToken = "DingTalk rejected the bot's credentials, so the group was not created. " +
		"Ask an admin to check DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET."
)

func apiError(status int, code, message, requestID string) dingtalktest.Response {
	return dingtalktest.Response{
		Status: status,
		Body:   fmt.Appendf(nil, `{"code":%q,"message":%q,"requestid":%q}`, code, message, requestID),
	}
}

// TestDingTalkErrorsBecomeActionableReplies covers every error code of the
// create-group API page plus throttling and a rejected token: each reply is
// asserted word for word, and the number of create calls shows what was retried.
func TestDingTalkErrorsBecomeActionableReplies(t *testing.T) {
	t.Parallel()
	// The lead, no admin, sets another owner (Dave): access.owner_override lets them.
	w := newWorld(t, dingtalktest.Options{}, map[string]string{"DINGBOT_CONFIG": writeAccessConfig(t, "access:\n  owner_override: everyone\n")})
	throttled := apiError(403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "调用接口频率超过限制", "REQ-QPS")
	badToken := apiError(400, "InvalidAuthentication", "不合法的access_token", "REQ-TOKEN")
	cases := []struct {
		name      string
		script    []dingtalktest.Response
		msg       dingtalktest.Message
		want      string // exact reply; %s stands for a request ID the fake generates
		wantCalls int
		created   bool
	}{
		{
			name:      "400 parameter.invalid",
			script:    []dingtalktest.Response{apiError(400, "parameter.invalid", "输入参数错误", "REQ-PARAM")},
			msg:       groupMsg("/newgroup Alpha @Alice", "Alice"),
			want:      textParameter + "\nDingTalk request ID: REQ-PARAM",
			wantCalls: 1,
		},
		{
			name:      "400 permession.checkFailed (permission check)",
			script:    []dingtalktest.Response{apiError(400, "permession.checkFailed", "权限校验失败", "REQ-PERM")},
			msg:       groupMsg("/newgroup Beta @Alice", "Alice"),
			want:      textPermission + "\nDingTalk request ID: REQ-PERM",
			wantCalls: 1,
		},
		{
			// Not scripted: the fake's own rule, because Dave is outside the app's visibility scope.
			name:      "400 permession.checkFailed (owner outside visibility)",
			msg:       groupMsg("/newgroup Gamma @Alice --owner @Dave", "Alice", "Dave"),
			want:      textVisibility + "\nDingTalk request ID: %s",
			wantCalls: 1,
		},
		{
			name:      "500 system.error is not retried",
			script:    []dingtalktest.Response{apiError(500, "system.error", "请重试，若始终失败请提交工单", "REQ-SYS")},
			msg:       groupMsg("/newgroup Delta @Bob", "Bob"),
			want:      textMaybeCreated + "\nDingTalk request ID: REQ-SYS",
			wantCalls: 1,
		},
		{
			name:      "throttled twice, then created",
			script:    []dingtalktest.Response{throttled, throttled},
			msg:       groupMsg("/newgroup Epsilon @Bob", "Bob"),
			wantCalls: 3,
			created:   true,
		},
		{
			name:      "429 once, then created",
			script:    []dingtalktest.Response{apiError(429, "system.busy", "请求太频繁", "REQ-429")},
			msg:       groupMsg("/newgroup Zeta @Bob", "Bob"),
			wantCalls: 2,
			created:   true,
		},
		{
			name:      "throttled on every attempt",
			script:    []dingtalktest.Response{throttled, throttled, throttled, throttled},
			msg:       groupMsg("/newgroup Eta @Bob", "Bob"),
			want:      textThrottled + "\nDingTalk request ID: REQ-QPS",
			wantCalls: 4,
		},
		{
			name:      "token rejected twice",
			script:    []dingtalktest.Response{badToken, badToken},
			msg:       groupMsg("/newgroup Theta @Bob", "Bob"),
			want:      textInvalidToken + "\nDingTalk request ID: REQ-TOKEN",
			wantCalls: 2,
		},
	}
	for _, tc := range cases {
		callsBefore := len(w.fake.CreateRequests())
		groupsBefore := len(w.fake.Groups())
		for _, r := range tc.script {
			w.fake.FailNextCreateWith(r)
		}
		reply := w.say(t, tc.msg)
		if calls := len(w.fake.CreateRequests()) - callsBefore; calls != tc.wantCalls {
			t.Errorf("%s: %d create calls, want %d", tc.name, calls, tc.wantCalls)
		}
		if tc.created {
			groups := w.fake.Groups()
			if len(groups) != groupsBefore+1 {
				t.Fatalf("%s: no group created; reply:\n%s", tc.name, reply.Text)
			}
			g := groups[len(groups)-1]
			if want := createdText(g, "Lead (lead01)", "2 (Lead and Bob)"); reply.Text != want {
				t.Errorf("%s: reply\n%s\nwant\n%s", tc.name, reply.Text, want)
			}
			continue
		}
		if len(w.fake.Groups()) != groupsBefore {
			t.Errorf("%s: a group was created", tc.name)
		}
		pattern := "^" + strings.ReplaceAll(regexp.QuoteMeta(tc.want), "%s", "[0-9A-F-]{36}") + "$"
		if !regexp.MustCompile(pattern).MatchString(reply.Text) {
			t.Errorf("%s: reply\n%s\nwant\n%s", tc.name, reply.Text, tc.want)
		}
	}
}

// TestExpiredTokenIsRefetchedOnce: DingTalk invalidates the cached token
// between two commands; the bot refetches it once and the create succeeds.
func TestExpiredTokenIsRefetchedOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, nil)
	w.say(t, directMsg("/newgroup One"))
	w.fake.ExpireTokens()
	reply := w.say(t, directMsg("/newgroup Two"))
	if !strings.HasPrefix(reply.Text, `Created group "Two".`) {
		t.Fatalf("reply:\n%s", reply.Text)
	}
	if n := w.fake.TokenFetches(); n != 2 {
		t.Errorf("%d token fetches, want 2", n)
	}
	reqs := w.fake.CreateRequests()
	if len(reqs) != 3 || reqs[1].Code != "InvalidAuthentication" || reqs[2].Status != 200 {
		t.Errorf("create calls: want ok, InvalidAuthentication, ok; got %d calls", len(reqs))
	}
}

// TestCreateTimeoutIsNotRetried: DingTalk does not answer within the API
// timeout; the group may exist, so the bot does not try again and says so.
func TestCreateTimeoutIsNotRetried(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, map[string]string{"DINGTALK_API_TIMEOUT": "500ms"})
	w.fake.FailNextCreateWith(dingtalktest.Response{Delay: 3 * time.Second, CreateAnyway: true})
	reply := w.say(t, directMsg("/newgroup Slow"))
	if reply.Text != textMaybeCreated {
		t.Errorf("reply\n%s\nwant\n%s", reply.Text, textMaybeCreated)
	}
	if n := len(w.fake.CreateRequests()); n != 1 {
		t.Errorf("%d create calls, want exactly 1", n)
	}
}
