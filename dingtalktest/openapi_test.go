package dingtalktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
)

func fetchToken(t *testing.T, srv *dingtalktest.Server) string {
	t.Helper()
	status, m := do(t, "POST", srv.URL()+"/v1.0/oauth2/accessToken", "", "application/json",
		`{"appKey":"`+srv.ClientID()+`","appSecret":"`+srv.ClientSecret()+`"}`)
	tok, _ := m["accessToken"].(string)
	if status != 200 || tok == "" {
		t.Fatalf("token: %d %v", status, m)
	}
	return tok
}

func TestAccessToken(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	url := srv.URL() + "/v1.0/oauth2/accessToken"

	status, m := do(t, "POST", url, "", "application/x-www-form-urlencoded", "appKey=dingtestclient&appSecret=testsecret")
	if status != 400 || m["code"] != dingtalktest.CodeBodyInvalid {
		t.Errorf("form body: %d %v", status, m)
	}
	status, m = do(t, "POST", url, "", "application/json", `{"appKey":"dingtestclient","appSecret":"nope"}`)
	if status != 400 || m["code"] != "invalidClientIdOrSecret" || m["message"] != "无效的clientId或者clientSecret" {
		t.Errorf("wrong secret: %d %v", status, m)
	}
	status, m = do(t, "POST", url, "", "application/json", `{"appKey":`)
	if status != 400 || m["code"] != dingtalktest.CodeBodyInvalid {
		t.Errorf("broken json: %d %v", status, m)
	}

	status, m = do(t, "POST", url, "", "application/json", `{"appKey":"dingtestclient","appSecret":"testsecret"}`)
	if status != 200 || m["expireIn"] != float64(7200) {
		t.Fatalf("token: %d %v", status, m)
	}
	tok := m["accessToken"].(string)
	if again := fetchToken(t, srv); again != tok {
		t.Errorf("second fetch inside the window gave %q, want the same %q", again, tok)
	}
	if n := srv.TokenFetches(); n != 2 {
		t.Errorf("TokenFetches = %d", n)
	}

	srv.ExpireTokens()
	status, m = do(t, "POST", srv.URL()+"/v1.0/im/group/create", tok, "application/json", `{}`)
	if status != 400 || m["code"] != "InvalidAuthentication" || m["message"] != "不合法的access_token" {
		t.Errorf("expired token: %d %v", status, m)
	}
	if fresh := fetchToken(t, srv); fresh == tok {
		t.Error("token after ExpireTokens is the old one")
	}
}

func TestTokenTTL(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{TokenTTL: 100 * time.Millisecond})
	tok := fetchToken(t, srv)
	time.Sleep(150 * time.Millisecond)
	status, m := do(t, "POST", srv.URL()+"/v1.0/robot/groupMessages/send", tok, "application/json", `{}`)
	if status != 400 || m["code"] != "InvalidAuthentication" {
		t.Errorf("expired token: %d %v", status, m)
	}
	if fetchToken(t, srv) == tok {
		t.Error("expired token reissued")
	}
}

func TestLegacyGetToken(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	_, m := do(t, "GET", srv.URL()+"/gettoken?appkey=dingtestclient&appsecret=testsecret", "", "", "")
	if m["errcode"] != float64(0) || m["access_token"] == "" || m["expires_in"] != float64(7200) {
		t.Errorf("gettoken: %v", m)
	}
	_, m = do(t, "GET", srv.URL()+"/gettoken?appkey=dingtestclient&appsecret=x", "", "", "")
	if m["errcode"] != float64(40089) {
		t.Errorf("gettoken wrong secret: %v", m)
	}
}

func addOrg(srv *dingtalktest.Server) {
	srv.AddUser(dingtalktest.User{UserID: "owner1", Name: "Owner", Active: true, Visible: true})
	srv.AddUser(dingtalktest.User{UserID: "alice01", Name: "Alice", Active: true, Visible: true})
	srv.AddUser(dingtalktest.User{UserID: "bob02", Name: "Bob", Active: true})
	srv.AddUser(dingtalktest.User{UserID: "gone", Name: "Gone", Active: false, Visible: true})
}

func TestCreateGroupValidation(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addOrg(srv)
	tok := fetchToken(t, srv)
	url := srv.URL() + "/v1.0/im/group/create"
	const pinv, perm = "parameter.invalid", "permession.checkFailed"
	many := make([]string, 41)
	for i := range many {
		many[i] = `"u` + strconv.Itoa(i) + `"`
	}
	for _, tc := range []struct {
		name, body string
		status     int
		code, msg  string
	}{
		{"ok minimal", `{"name":"Release 4.2","owner":"owner1","useridlist":["owner1","alice01"]}`, 200, "", ""},
		{"ok full", `{"name":"发布群","owner":"owner1","ownerType":"emp","useridlist":["owner1","bob02"],"conversationTag":2,"icon":"@lADPDfmVXx","managementOptions":{"mentionAllAuthority":1,"showHistoryType":0,"validationType":0,"searchable":0,"chatBannedType":0,"managementType":1}}`, 200, "", ""},
		{"not an object", `["x"]`, 400, pinv, "输入参数错误"},
		{"tag as string", `{"name":"n","owner":"owner1","useridlist":["owner1"],"conversationTag":"2"}`, 400, pinv, "输入参数错误"},
		{"useridlist of numbers", `{"name":"n","owner":"owner1","useridlist":[1]}`, 400, pinv, "输入参数错误"},
		{"useridlist as string", `{"name":"n","owner":"owner1","useridlist":"owner1"}`, 400, pinv, "输入参数错误"},
		{"name missing", `{"owner":"owner1","useridlist":["owner1"]}`, 400, pinv, "输入参数错误"},
		{"name blank", `{"name":"   ","owner":"owner1","useridlist":["owner1"]}`, 400, pinv, "输入参数错误"},
		{"name 21 runes", `{"name":"` + strings.Repeat("群", 21) + `","owner":"owner1","useridlist":["owner1"]}`, 400, pinv, "输入参数错误"},
		{"name 20 runes", `{"name":"` + strings.Repeat("群", 20) + `","owner":"owner1","useridlist":["owner1"]}`, 200, "", ""},
		{"owner missing", `{"name":"n","useridlist":["owner1"]}`, 400, pinv, "输入参数错误"},
		{"useridlist missing", `{"name":"n","owner":"owner1"}`, 400, pinv, "输入参数错误"},
		{"useridlist empty", `{"name":"n","owner":"owner1","useridlist":[]}`, 400, pinv, "输入参数错误"},
		{"useridlist over 40", `{"name":"n","owner":"owner1","useridlist":[` + strings.Join(many, ",") + `]}`, 400, pinv, "输入参数错误"},
		{"unknown user", `{"name":"n","owner":"owner1","useridlist":["owner1","ghost"]}`, 400, pinv, "输入参数错误"},
		{"inactive user", `{"name":"n","owner":"owner1","useridlist":["owner1","gone"]}`, 400, pinv, "输入参数错误"},
		{"owner not in list", `{"name":"n","owner":"owner1","useridlist":["alice01"]}`, 400, pinv, "输入参数错误"},
		{"bad ownerType", `{"name":"n","owner":"owner1","ownerType":"boss","useridlist":["owner1"]}`, 400, pinv, "输入参数错误"},
		{"bad tag", `{"name":"n","owner":"owner1","useridlist":["owner1"],"conversationTag":1}`, 400, pinv, "输入参数错误"},
		{"bad option", `{"name":"n","owner":"owner1","useridlist":["owner1"],"managementOptions":{"searchable":2}}`, 400, pinv, "输入参数错误"},
		{"option as string", `{"name":"n","owner":"owner1","useridlist":["owner1"],"managementOptions":{"searchable":"1"}}`, 400, pinv, "输入参数错误"},
		{"icon not a mediaId", `{"name":"n","owner":"owner1","useridlist":["owner1"],"icon":"http://x/y.png"}`, 400, pinv, "输入参数错误"},
		{"standard group not allowed", `{"name":"n","owner":"owner1","useridlist":["owner1"],"conversationTag":0}`, 400, perm, "权限校验失败"},
		{"owner not visible", `{"name":"n","owner":"bob02","useridlist":["bob02","owner1"]}`, 400, perm, "群主不在应用可见性内"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, m := do(t, "POST", url, tok, "application/json", tc.body)
			if status != tc.status {
				t.Fatalf("status %d %v, want %d", status, m, tc.status)
			}
			if tc.status != 200 {
				if m["code"] != tc.code || m["message"] != tc.msg {
					t.Errorf("error = %v, want %s %s", m, tc.code, tc.msg)
				}
				return
			}
			cid, _ := m["openConversationId"].(string)
			chat, _ := m["chatid"].(string)
			if !strings.HasPrefix(cid, "cid") || !strings.HasPrefix(chat, "chat") || m["conversationTag"] != float64(2) {
				t.Errorf("success body %v", m)
			}
		})
	}
	recs := srv.CreateRequests()
	if len(recs) != 24 {
		t.Fatalf("recorded %d requests", len(recs))
	}
	if recs[2].Status != 400 || recs[2].Request != nil || string(recs[2].Raw) != `["x"]` ||
		recs[2].Header.Get("x-acs-dingtalk-access-token") != tok {
		t.Errorf("rejected record = %+v", recs[2])
	}
	gs := srv.Groups()
	if len(gs) != 3 || gs[0].Name != "Release 4.2" || gs[0].Owner != "owner1" || len(gs[0].Members) != 2 {
		t.Fatalf("groups = %+v", gs)
	}
	if gs[1].Request.ManagementOptions["managementType"] != 1 || *gs[1].Request.Icon != "@lADPDfmVXx" {
		t.Errorf("decoded request = %+v", gs[1].Request)
	}

	srv.SetStandardGroupsAllowed(true)
	status, m := do(t, "POST", url, tok, "application/json", `{"name":"std","owner":"owner1","useridlist":["owner1"],"conversationTag":0}`)
	if status != 200 || m["conversationTag"] != float64(0) {
		t.Errorf("allowed standard group: %d %v", status, m)
	}

	// No token, then a form body.
	status, m = do(t, "POST", url, "", "application/json", `{}`)
	if status != 400 || m["code"] != "InvalidAuthentication" {
		t.Errorf("no token: %d %v", status, m)
	}
	status, m = do(t, "POST", url, tok, "application/x-www-form-urlencoded", `name=x`)
	if status != 400 || m["code"] != dingtalktest.CodeBodyInvalid {
		t.Errorf("form body: %d %v", status, m)
	}
	if n := len(srv.CreateRequests()); n != 27 {
		t.Errorf("recorded %d requests, want 27", n)
	}
}

const okCreate = `{"name":"n","owner":"owner1","useridlist":["owner1"]}`

func TestCreateRateLimit(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addOrg(srv)
	tok := fetchToken(t, srv)
	srv.SetCreateRateLimit(2)
	// Start just after a second boundary so the three calls share one window.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
	var statuses []int
	var last map[string]any
	for i := 0; i < 3; i++ {
		status, m := do(t, "POST", srv.URL()+"/v1.0/im/group/create", tok, "application/json", okCreate)
		statuses = append(statuses, status)
		last = m
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[2] != 403 ||
		last["code"] != "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi" {
		t.Errorf("statuses %v, last %v", statuses, last)
	}
	srv.SetCreateRateLimit(0)
	if status, _ := do(t, "POST", srv.URL()+"/v1.0/im/group/create", tok, "application/json", okCreate); status != 200 {
		t.Errorf("after limit off: %d", status)
	}
}

func TestCreateScripted(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addOrg(srv)
	tok := fetchToken(t, srv)
	url := srv.URL() + "/v1.0/im/group/create"

	srv.FailNextCreate(500, "system.error", "请重试，若始终失败请提交工单")
	srv.FailNextCreateWith(dingtalktest.Response{Status: 500, Code: "system.error", Message: "x", CreateAnyway: true})
	srv.FailNextCreateWith(dingtalktest.Response{Status: 429, Body: []byte(`{"code":"system.busy","message":"请求太频繁","requestid":"R"}`)})
	for i, want := range []struct {
		status int
		code   string
		groups int
	}{{500, "system.error", 0}, {500, "system.error", 1}, {429, "system.busy", 1}, {200, "", 2}} {
		status, m := do(t, "POST", url, tok, "application/json", okCreate)
		if status != want.status || (want.code != "" && m["code"] != want.code) || len(srv.Groups()) != want.groups {
			t.Errorf("call %d: %d %v, groups %d", i, status, m, len(srv.Groups()))
		}
	}

	// A delay longer than the client's timeout: the client fails, the server survives.
	srv.FailNextCreateWith(dingtalktest.Response{Delay: 2 * time.Second, Status: 200, Body: []byte(`{}`)})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(okCreate))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-acs-dingtalk-access-token", tok)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("delayed call did not time out")
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Logf("client error: %v", err)
	}

	// Script by request content.
	srv.ScriptCreateGroup(func(r dingtalktest.CreateGroupRequestRecord) *dingtalktest.Response {
		if r.Request != nil && r.Request.Name != nil && *r.Request.Name == "busy" {
			return &dingtalktest.Response{Status: 403, Code: "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", Message: "限流"}
		}
		return nil
	})
	status, m := do(t, "POST", url, tok, "application/json", `{"name":"busy","owner":"owner1","useridlist":["owner1"]}`)
	if status != 403 || m["code"] != "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi" {
		t.Errorf("scripted: %d %v", status, m)
	}
	if status, _ := do(t, "POST", url, tok, "application/json", okCreate); status != 200 {
		t.Errorf("unscripted call: %d", status)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		recs := srv.CreateRequests()
		if len(recs) == 7 {
			if !recs[1].Scripted || recs[4].Status != 0 {
				t.Errorf("records: %+v / %+v", recs[1], recs[4])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recorded %d requests, want 7", len(recs))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestGroupSend(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	tok := fetchToken(t, srv)
	url := srv.URL() + "/v1.0/robot/groupMessages/send"
	cid := "cidKnownGroup=="
	body := func(robot, key, param, conv string) string {
		b, _ := json.Marshal(map[string]string{"robotCode": robot, "msgKey": key, "msgParam": param, "openConversationId": conv})
		return string(b)
	}
	text := `{"content":"Group created"}`
	status, m := do(t, "POST", url, tok, "application/json", body(srv.ClientID(), "sampleText", text, cid))
	if status != 400 || m["code"] != dingtalktest.CodeRobotNotInGroup {
		t.Errorf("bot not in group: %d %v", status, m)
	}
	srv.InstallBot(cid)
	for name, tc := range map[string]struct {
		body string
		code string
	}{
		"wrong robot":       {body("dingother", "sampleText", text, cid), "invalidParameter.robotCode.auth"},
		"msgParam not json": {body(srv.ClientID(), "sampleText", "hello", cid), "invalidParameter.msgParam.invalid"},
		"no content":        {body(srv.ClientID(), "sampleText", `{"text":"x"}`, cid), "invalidParameter.msgParam.invalid"},
		"markdown no title": {body(srv.ClientID(), "sampleMarkdown", `{"text":"x"}`, cid), "invalidParameter.msgParam.invalid"},
		"unknown msgKey":    {body(srv.ClientID(), "sampleFoo", text, cid), "invalidParameter.msgKey.invalid"},
		"msgParam object":   {`{"robotCode":"dingtestclient","msgKey":"sampleText","msgParam":{"content":"x"},"openConversationId":"` + cid + `"}`, "parameter.invalid"},
	} {
		if status, m := do(t, "POST", url, tok, "application/json", tc.body); status != 400 || m["code"] != tc.code {
			t.Errorf("%s: %d %v", name, status, m)
		}
	}
	status, m = do(t, "POST", url, tok, "application/json", body(srv.ClientID(), "sampleMarkdown", `{"title":"T","text":"**x**"}`, cid))
	if status != 200 || m["processQueryKey"] == "" {
		t.Fatalf("send: %d %v", status, m)
	}
	reps := srv.Replies()
	if len(reps) != 1 || reps[0].Via != dingtalktest.ViaGroupAPI || reps[0].ConversationID != cid ||
		reps[0].MsgType != "markdown" || reps[0].Title != "T" || reps[0].Text != "**x**" || reps[0].MsgID != "" {
		t.Errorf("replies = %+v", reps)
	}
}

func TestOTOSend(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addOrg(srv)
	tok := fetchToken(t, srv)
	url := srv.URL() + "/v1.0/robot/oToMessages/batchSend"
	status, m := do(t, "POST", url, tok, "application/json",
		`{"robotCode":"dingtestclient","userIds":["alice01","ghost"],"msgKey":"sampleText","msgParam":"{\"content\":\"hi\"}"}`)
	if status != 200 || m["processQueryKey"] == "" {
		t.Fatalf("%d %v", status, m)
	}
	if inv, _ := m["invalidStaffIdList"].([]any); len(inv) != 1 || inv[0] != "ghost" {
		t.Errorf("invalidStaffIdList = %v", m["invalidStaffIdList"])
	}
	if fc, ok := m["flowControlledStaffIdList"].([]any); !ok || len(fc) != 0 {
		t.Errorf("flowControlledStaffIdList = %v", m["flowControlledStaffIdList"])
	}
	reps := srv.Replies()
	if len(reps) != 1 || reps[0].Via != dingtalktest.ViaOTOAPI || reps[0].UserID != "alice01" || reps[0].Text != "hi" {
		t.Errorf("replies = %+v", reps)
	}
	many := make([]string, 21)
	for i := range many {
		many[i] = `"alice01"`
	}
	for name, b := range map[string]string{
		"21 users":    `{"robotCode":"dingtestclient","userIds":[` + strings.Join(many, ",") + `],"msgKey":"sampleText","msgParam":"{\"content\":\"hi\"}"}`,
		"no users":    `{"robotCode":"dingtestclient","userIds":[],"msgKey":"sampleText","msgParam":"{\"content\":\"hi\"}"}`,
		"wrong robot": `{"robotCode":"x","userIds":["alice01"],"msgKey":"sampleText","msgParam":"{\"content\":\"hi\"}"}`,
		"bad param":   `{"robotCode":"dingtestclient","userIds":["alice01"],"msgKey":"sampleText","msgParam":"{}"}`,
	} {
		if status, m := do(t, "POST", url, tok, "application/json", b); status != 400 {
			t.Errorf("%s: %d %v", name, status, m)
		}
	}
}

func TestSessionWebhook(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	h, _ := capture()
	startBot(t, srv, h)
	d, err := srv.Send(dingtalktest.Message{Text: "x", SenderID: "u1", Group: true})
	if err != nil {
		t.Fatal(err)
	}
	hook := d.SessionWebhook()
	for _, tc := range []struct {
		name, body string
		errcode    float64
	}{
		{"text", `{"msgtype":"text","text":{"content":"done"},"at":{"atUserIds":["u1"]}}`, 0},
		{"markdown", `{"msgtype":"markdown","markdown":{"title":"T","text":"x"}}`, 0},
		{"empty text", `{"msgtype":"text","text":{"content":""}}`, 40035},
		{"markdown without title", `{"msgtype":"markdown","markdown":{"text":"x"}}`, 40035},
		{"unsupported msgtype", `{"msgtype":"image","image":{}}`, 40035},
		{"no msgtype", `{"text":{"content":"x"}}`, 40035},
		{"not json", `hello`, 40035},
	} {
		status, m := do(t, "POST", hook, "", "application/json", tc.body)
		if status != 200 || m["errcode"] != tc.errcode {
			t.Errorf("%s: %d %v", tc.name, status, m)
		}
	}
	reps := srv.Replies()
	if len(reps) != 2 || reps[0].MsgID != d.MsgID() || len(reps[0].At) != 1 || reps[0].At[0] != "u1" {
		t.Errorf("replies = %+v", reps)
	}

	srv.FailNextWebhook(503)
	if status, m := do(t, "POST", hook, "", "application/json", `{"msgtype":"text","text":{"content":"x"}}`); status != 503 {
		t.Errorf("fault: %d %v", status, m)
	}
	_, m := do(t, "POST", srv.URL()+"/robot/sendBySession?session=unknown", "", "application/json", `{"msgtype":"text","text":{"content":"x"}}`)
	if m["errcode"] != float64(300001) || m["errmsg"] != "session 不存在" {
		t.Errorf("unknown session: %v", m)
	}
	srv.ExpireSessions()
	_, m = do(t, "POST", hook, "", "application/json", `{"msgtype":"text","text":{"content":"x"}}`)
	if m["errcode"] != float64(300001) {
		t.Errorf("expired session: %v", m)
	}
}

func TestSessionExpiresWithTTL(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{SessionTTL: 100 * time.Millisecond})
	h, _ := capture()
	startBot(t, srv, h)
	d, err := srv.Send(dingtalktest.Message{Text: "x", SenderID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if _, m := do(t, "POST", d.SessionWebhook(), "", "application/json", `{"msgtype":"text","text":{"content":"x"}}`); m["errcode"] != float64(300001) {
		t.Errorf("session past sessionWebhookExpiredTime: %v", m)
	}
}

func TestWaitRepliesTimesOut(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	reps, err := srv.WaitReplies(testutil.CtxTimeout(t, 50*time.Millisecond), 1)
	if !errors.Is(err, context.DeadlineExceeded) || len(reps) != 0 {
		t.Errorf("WaitReplies = %v, %v", reps, err)
	}
	srv.Close()
	if _, err := srv.WaitReplies(context.Background(), 1); !errors.Is(err, dingtalktest.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestUnknownAPI(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	status, m := do(t, "POST", srv.URL()+"/v1.0/im/nothing", "", "application/json", `{}`)
	if status != 404 || m["code"] == "" {
		t.Errorf("%d %v", status, m)
	}
}

func TestCloseCutsDelaysShort(t *testing.T) {
	srv := dingtalktest.NewServer(dingtalktest.Options{Logf: t.Logf})
	defer srv.Close()
	addOrg(srv)
	tok := fetchToken(t, srv)
	h, _ := capture()
	cli := newSDK(srv, srv.ClientID(), srv.ClientSecret())
	cli.RegisterChatBotCallbackRouter(h)
	if err := cli.Start(testutil.CtxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	arrived := make(chan struct{}, 1)
	srv.ScriptCreateGroup(func(dingtalktest.CreateGroupRequestRecord) *dingtalktest.Response {
		arrived <- struct{}{}
		return &dingtalktest.Response{Delay: time.Minute, Status: 500}
	})
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", srv.URL()+"/v1.0/im/group/create", strings.NewReader(okCreate))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-acs-dingtalk-access-token", tok)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	recv(t, arrived, 5*time.Second)
	if err := srv.WaitConnections(testutil.CtxTimeout(t, 5*time.Second), 1); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	srv.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := recv(t, errc, 5*time.Second); err == nil {
		t.Error("delayed call got an answer from a closed server")
	}
	if _, err := srv.Send(dingtalktest.Message{Text: "x"}); !errors.Is(err, dingtalktest.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
}
