package dingclient

import "testing"

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"https://oapi.dingtalk.com/robot/sendBySession?session=c610ee93abc",
			"https://oapi.dingtalk.com/robot/sendBySession?session=REDACTED"},
		{"https://oapi.dingtalk.com/robot/sendBySession?x=1&session=abc&y=2",
			"https://oapi.dingtalk.com/robot/sendBySession?x=1&session=REDACTED&y=2"},
		{"https://oapi.dingtalk.com/topapi/v2/user/get?access_token=96fc7a7a",
			"https://oapi.dingtalk.com/topapi/v2/user/get?access_token=REDACTED"},
		{"https://oapi.dingtalk.com/gettoken?appkey=k&appsecret=s",
			"https://oapi.dingtalk.com/gettoken?appkey=REDACTED&appsecret=REDACTED"},
		{"https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1&sign=abc%3D",
			"https://oapi.dingtalk.com/robot/send?access_token=REDACTED&timestamp=1&sign=REDACTED"},
		{"https://x/?Session=abc&ACCESS_TOKEN=def", "https://x/?Session=REDACTED&ACCESS_TOKEN=REDACTED"},
		{"https://x/?sess%69on=abc", "https://x/?sess%69on=REDACTED"},
		{"https://x/?session", "https://x/?session"},
		{"https://x/?session=", "https://x/?session=REDACTED"},
		{"https://api.dingtalk.com/v1.0/im/group/create", "https://api.dingtalk.com/v1.0/im/group/create"},
		{"https://u:pw@x/p?q=1", "https://u:REDACTED@x/p?q=1"},
		{"https://x/%zz?session=abc#frag", "https://x/%zz?session=REDACTED#frag"}, // unparseable: best effort
		{"not a url", "not a url"},
		{"", ""},
	} {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
