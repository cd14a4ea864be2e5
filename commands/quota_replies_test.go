package commands

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingclient"
)

// The replies about DingTalk's monthly quota, a non-JSON error body, the
// look-up cap and the command deadline, word for word in both languages.
func TestQuotaAndBoundsReplies(t *testing.T) {
	l, err := New(Settings{})
	if err != nil {
		t.Fatal(err)
	}
	en := &CreateGroup{Lang: English, Request: dingclient.CreateGroupRequest{Owner: "0123"}}
	zh := &CreateGroup{Lang: Chinese, Request: dingclient.CreateGroupRequest{Owner: "0123"}}
	quotaV1 := &dingclient.APIError{API: "group.create", HTTPStatus: 403, Code: "Forbidden.AccessDenied.ApiCountLimitForOrg",
		Message: "组织的API调用量已超过限制", RequestID: "REQ-Q"}
	quotaLegacy := fmt.Errorf("looking up: %w", &dingclient.LegacyError{API: "user.search", ErrCode: 90020, ErrMsg: "调用量已超过限制", RequestID: "req90020"})
	html := &dingclient.APIError{API: "group.create", HTTPStatus: 403, BodyType: "text/html"}
	html5xx := &dingclient.APIError{API: "group.create", HTTPStatus: 502, BodyType: "text/html"}

	const (
		quotaEN = "This organisation has used up its monthly DingTalk API quota, so the group was not created. " +
			"An admin can buy more calls or upgrade the plan in the DingTalk developer console; otherwise it resets next month."
		quotaZH = "本组织本月的钉钉接口调用量已用完，所以没有建群。" +
			"管理员可以在钉钉开发者后台购买更多调用量或升级版本；否则要等到下个月额度恢复。"
		htmlEN = "DingTalk did not give a proper answer (HTTP 403 with a web page instead), so the group was not created. " +
			"This happens when the bot's IP address is blocked for a few minutes after too many calls, or when a proxy is in the way. " +
			"Try again in a few minutes; if it keeps failing, ask an admin to check the bot's logs."
		htmlZH = "钉钉没有给出正常的应答（HTTP 403，返回的是网页），所以没有建群。" +
			"机器人服务器的 IP 因调用过多被暂时封禁几分钟，或中间有代理时会这样。" +
			"请过几分钟再试；如果一直失败，请管理员查看机器人的日志。"
	)
	for _, tt := range []struct {
		name string
		got  string
		want string
	}{
		{"quota v1.0 en", l.FailedReply(en, quotaV1).Text, quotaEN + "\nDingTalk request ID: REQ-Q"},
		{"quota v1.0 zh", l.FailedReply(zh, quotaV1).Text, quotaZH + "\n钉钉请求 ID：REQ-Q"},
		{"quota legacy en", l.FailedReply(en, quotaLegacy).Text, quotaEN + "\nDingTalk request ID: req90020"},
		{"quota legacy zh", l.FailedReply(zh, quotaLegacy).Text, quotaZH + "\n钉钉请求 ID：req90020"},
		{"html en", l.FailedReply(en, html).Text, htmlEN},
		{"html zh", l.FailedReply(zh, html).Text, htmlZH},
		// A 5xx page on a create: the group may exist all the same.
		{"html 502 en", l.FailedReply(en, html5xx).Text, englishText(msgFailMaybeCreated)},
		{"lookup quota en", l.LookupFailedReply(en, "@Carol", quotaLegacy).Text,
			"I couldn't look up @Carol in DingTalk, so I created nothing. This organisation has used up its monthly DingTalk API quota. " +
				"An admin can buy more calls or upgrade the plan in the DingTalk developer console; otherwise it resets next month.\nDingTalk request ID: req90020"},
		{"lookup quota zh", l.LookupFailedReply(zh, "@Carol", quotaV1).Text,
			"我没能在钉钉里查找 @Carol，所以没有建群。本组织本月的钉钉接口调用量已用完。" +
				"管理员可以在钉钉开发者后台购买更多调用量或升级版本；否则要等到下个月额度恢复。\n钉钉请求 ID：REQ-Q"},
		{"lookup html en", l.LookupFailedReply(en, "13800000003", html).Text,
			"I couldn't look up 13800000003 in DingTalk, so I created nothing. DingTalk did not give a proper answer (HTTP 403 with a web page instead): " +
				"the bot's IP address may be blocked for a few minutes after too many calls, or a proxy is in the way. " +
				"Try again in a few minutes; if it keeps failing, ask an admin to check the bot's logs."},
		{"lookup html zh", l.LookupFailedReply(zh, "13800000003", html).Text,
			"我没能在钉钉里查找 13800000003，所以没有建群。钉钉没有给出正常的应答（HTTP 403，返回的是网页）：机器人服务器的 IP 可能因调用过多被暂时封禁几分钟，或中间有代理。" +
				"请过几分钟再试；如果一直失败，请管理员查看机器人的日志。"},
		{"too many en", l.TooManyLookupsReply(en, 51, 50).Text,
			"That command names 51 people to look up by mobile number or name; I look up at most 50 per command, so I did nothing. " +
				"Write some of them as userid:ID (or @mention them in a group chat), or split the command: for example /newgroup with some of them, then /addmember for the rest."},
		{"too many zh", l.TooManyLookupsReply(zh, 51, 50).Text,
			"这条命令要按手机号或姓名查找 51 个人；每条命令最多查找 50 个，所以我什么也没做。" +
				"请把其中一些人写成 userid:ID（或在群聊里直接 @ 他们），或者拆成几条命令：例如先用 /建群 加一部分人，再用 /加人 加其余的人。"},
		{"timeout en", l.CommandTimeoutReply(en, 2*time.Minute).Text,
			"That took too long (over 2 minutes), so I stopped before changing anything in DingTalk: nothing was created or changed. " +
				"Try again in a few minutes; if it keeps happening, name fewer people, or ask an admin to check the bot's logs."},
		{"timeout zh", l.CommandTimeoutReply(zh, 2*time.Minute).Text,
			"处理时间太长（超过 2 分钟），我在改动钉钉里的任何东西之前停下了：什么也没有创建或修改。" +
				"请过几分钟再试；如果一直这样，请少写几个人，或请管理员查看机器人的日志。"},
		{"timeout no plan", l.CommandTimeoutReply(nil, 90*time.Second).Text,
			"That took too long (over 90 seconds), so I stopped before changing anything in DingTalk: nothing was created or changed. " +
				"Try again in a few minutes; if it keeps happening, name fewer people, or ask an admin to check the bot's logs."},
		{"timeout 1s", l.CommandTimeoutReply(en, 300*time.Millisecond).Text,
			"That took too long (over 1 second), so I stopped before changing anything in DingTalk: nothing was created or changed. " +
				"Try again in a few minutes; if it keeps happening, name fewer people, or ask an admin to check the bot's logs."},
	} {
		if tt.got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, tt.got, tt.want)
		}
		for _, leak := range []string{"<", "text/html", "group.create", "user.search", "组织的API调用量已超过限制", "调用量已超过限制 ("} {
			if strings.Contains(tt.got, leak) {
				t.Errorf("%s: reply leaks %q:\n%s", tt.name, leak, tt.got)
			}
		}
	}
}
