package dingclient

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingbot/dingbot/internal/testutil"
)

// answers is a handler that records each request body and answers the n-th
// call (1-based) with the n-th answer, repeating the last one.
type answers struct {
	t      *testing.T
	path   string
	replys [][2]any // {status int, body string}

	mu     sync.Mutex
	bodies []string
}

func newAnswers(t *testing.T, f *fake, path string, replys ...[2]any) *answers {
	a := &answers{t: t, path: path, replys: replys}
	f.mux.HandleFunc(path, a.serve)
	return a
}

func (a *answers) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != a.path || r.URL.RawQuery != "" {
		a.t.Errorf("request %s %s", r.Method, r.URL)
	}
	testHeader(a.t, r, "Content-Type", "application/json")
	testHeader(a.t, r, "x-acs-dingtalk-access-token", tokenN(1))
	body := readBody(a.t, r)
	a.mu.Lock()
	a.bodies = append(a.bodies, body)
	reply := a.replys[min(len(a.bodies), len(a.replys))-1]
	a.mu.Unlock()
	writeJSON(w, reply[0].(int), reply[1].(string))
}

func (a *answers) calls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.bodies...)
}

const (
	updateOK       = `{"success":true}`
	systemError    = `{"code":"system.error","message":"请重试，若始终失败请提交工单","requestid":"r500"}`
	paramInvalid   = `{"code":"parameter.invalid","message":"输入参数错误","requestid":"r400"}`
	qpsLimited     = `{"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","message":"throttled","requestid":"q"}`
	robotAuthError = `{"code":"invalidParameter.robotCode.auth","message":"机器人权限校验不通过","requestid":"rc"}`
)

func scopeDenied(scope string) string {
	return `{"code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","message":"没有调用该接口的权限",` +
		`"requestid":"r403","accessdenieddetail":{"requiredScopes":["` + scope + `"]}}`
}

func TestUpdateGroup_RequestBody(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		req  UpdateGroupRequest
		want string
	}{
		{"all fields", UpdateGroupRequest{ChatID: "chat123", Name: "Release 4.3", Owner: "bob02", AddUserIDs: []string{"carol03"}, DelUserIDs: []string{"dave04"}},
			`{"chatid":"chat123","name":"Release 4.3","owner":"bob02","add_useridlist":["carol03"],"del_useridlist":["dave04"]}`},
		{"rename", UpdateGroupRequest{ChatID: "chat123", Name: "发布群"}, `{"chatid":"chat123","name":"发布群"}`},
		{"owner", UpdateGroupRequest{ChatID: "chat123", Owner: "bob02"}, `{"chatid":"chat123","owner":"bob02"}`},
		{"remove", UpdateGroupRequest{ChatID: "chat123", DelUserIDs: []string{"a", "b"}}, `{"chatid":"chat123","del_useridlist":["a","b"]}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			a := newAnswers(t, f, "/v1.0/im/group/update", [2]any{200, updateOK})
			if err := c.UpdateGroup(testutil.Ctx(t), &tt.req); err != nil {
				t.Fatal(f.seen(err))
			}
			if calls := a.calls(); len(calls) != 1 || calls[0] != tt.want {
				t.Errorf("bodies = %q\nwant %s", calls, tt.want)
			}
			if obs := strings.Join(f.observations(), ","); obs != "token ok,group.update ok" {
				t.Errorf("observed %q", obs)
			}
		})
	}
}

func TestUpdateGroup_RefusedWithoutCall(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	for name, req := range map[string]*UpdateGroupRequest{
		"nil":              nil,
		"no chatid":        {Name: "n"},
		"nothing":          {ChatID: "chat123"},
		"empty added id":   {ChatID: "chat123", AddUserIDs: []string{"a", ""}},
		"empty removed":    {ChatID: "chat123", DelUserIDs: []string{""}},
		"empty lists only": {ChatID: "chat123", AddUserIDs: []string{}, DelUserIDs: []string{}},
	} {
		if err := c.UpdateGroup(testutil.Ctx(t), req); f.seen(err) == nil || !strings.HasPrefix(err.Error(), "dingtalk group.update: ") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if n := f.tokenFetches.Load(); n != 0 {
		t.Errorf("token fetches = %d, want 0", n)
	}
}

// TestUpdateGroup_ServerErrorRetry: a rename or an owner change is retried
// after an HTTP 5xx; a member change is not, nor is a mixed request.
func TestUpdateGroup_ServerErrorRetry(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		req       UpdateGroupRequest
		wantCalls int
	}{
		{"rename retried", UpdateGroupRequest{ChatID: "c", Name: "n"}, 2},
		{"owner retried", UpdateGroupRequest{ChatID: "c", Owner: "bob02"}, 2},
		{"rename and owner retried", UpdateGroupRequest{ChatID: "c", Name: "n", Owner: "bob02"}, 2},
		{"add not retried", UpdateGroupRequest{ChatID: "c", AddUserIDs: []string{"a"}}, 1},
		{"remove not retried", UpdateGroupRequest{ChatID: "c", DelUserIDs: []string{"a"}}, 1},
		{"rename with add not retried", UpdateGroupRequest{ChatID: "c", Name: "n", AddUserIDs: []string{"a"}}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			a := newAnswers(t, f, "/v1.0/im/group/update", [2]any{500, systemError}, [2]any{200, updateOK})
			err := c.UpdateGroup(testutil.Ctx(t), &tt.req)
			f.seen(err)
			if n := len(a.calls()); n != tt.wantCalls {
				t.Errorf("calls = %d, want %d", n, tt.wantCalls)
			}
			if tt.wantCalls == 2 {
				if err != nil {
					t.Errorf("err = %v", err)
				}
				return
			}
			var ou *OutcomeUnknownError
			if ae := asAPIError(t, err); ae.HTTPStatus != 500 || ae.Code != "system.error" || ae.API != "group.update" || errors.As(err, &ou) {
				t.Errorf("err = %T %v", err, err)
			}
		})
	}
}

func TestUpdateGroup_PersistentServerErrorGivesUp(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	a := newAnswers(t, f, "/v1.0/im/group/update", [2]any{500, systemError})
	err := c.UpdateGroup(testutil.Ctx(t), &UpdateGroupRequest{ChatID: "c", Name: "n"})
	f.seen(err)
	if ae := asAPIError(t, err); ae.HTTPStatus != 500 || !ae.Retryable() {
		t.Errorf("err = %v", err)
	}
	if n := len(a.calls()); n != 4 {
		t.Errorf("calls = %d, want MaxAttempts (4)", n)
	}
}

func TestUpdateGroup_Errors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		status     int
		body       string
		permission bool
	}{
		{"parameter.invalid", 400, paramInvalid, false},
		{"missing scope", 403, scopeDenied("qyapi_chat_manage"), true},
		{"permission check", 400, `{"code":"permession.checkFailed","message":"权限校验失败","requestid":"p"}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			a := newAnswers(t, f, "/v1.0/im/group/update", [2]any{tt.status, tt.body})
			err := c.UpdateGroup(testutil.Ctx(t), &UpdateGroupRequest{ChatID: "c", Owner: "bob02"})
			f.seen(err)
			ae := asAPIError(t, err)
			if ae.HTTPStatus != tt.status || ae.PermissionDenied() != tt.permission || IsPermissionDenied(err) != tt.permission {
				t.Errorf("APIError = %+v", ae)
			}
			if tt.status == 403 && (len(ae.RequiredScopes) != 1 || ae.RequiredScopes[0] != "qyapi_chat_manage" || !strings.Contains(err.Error(), "qyapi_chat_manage")) {
				t.Errorf("required scopes = %v, error %q", ae.RequiredScopes, err)
			}
			if n := len(a.calls()); n != 1 {
				t.Errorf("calls = %d, want 1", n)
			}
		})
	}
}

func TestUpdateGroup_ThrottledRetried(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	a := newAnswers(t, f, "/v1.0/im/group/update", [2]any{403, qpsLimited}, [2]any{200, updateOK})
	if err := c.UpdateGroup(testutil.Ctx(t), &UpdateGroupRequest{ChatID: "c", DelUserIDs: []string{"a"}}); err != nil {
		t.Fatal(f.seen(err))
	}
	if n := len(a.calls()); n != 2 {
		t.Errorf("calls = %d, want 2", n)
	}
}

func TestAddRobotToConversation(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	a := newAnswers(t, f, "/v1.0/im/conversations/robots", [2]any{200, `{"chatBotUserId":"$:LWCP_v1:$abc"}`})
	if err := c.AddRobotToConversation(testutil.Ctx(t), "cid6KeBB=="); err != nil {
		t.Fatal(f.seen(err))
	}
	if calls := a.calls(); len(calls) != 1 || calls[0] != `{"openConversationId":"cid6KeBB==","robotCode":"dingROBOT"}` {
		t.Errorf("bodies = %q", calls)
	}
	if obs := strings.Join(f.observations(), ","); obs != "token ok,robot.add ok" {
		t.Errorf("observed %q", obs)
	}
	if err := c.AddRobotToConversation(testutil.Ctx(t), ""); f.seen(err) == nil || len(a.calls()) != 1 {
		t.Errorf("empty openConversationId: %v", err)
	}
}

func TestAddRobotToConversation_RobotCodeDefaultsToClientID(t *testing.T) {
	t.Parallel()
	c, f := setup(t, func(cfg *Config) { cfg.RobotCode = "" })
	a := newAnswers(t, f, "/v1.0/im/conversations/robots", [2]any{200, `{}`})
	if err := c.AddRobotToConversation(testutil.Ctx(t), "cid"); err != nil {
		t.Fatal(f.seen(err))
	}
	if calls := a.calls(); len(calls) != 1 || calls[0] != `{"openConversationId":"cid","robotCode":"`+testClientID+`"}` {
		t.Errorf("bodies = %q", calls)
	}
}

func TestAddRobotToConversation_Errors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		replys     [][2]any
		wantErr    string // APIError code; "" for success
		wantCalls  int
		permission bool
	}{
		{"5xx retried", [][2]any{{500, systemError}, {200, `{}`}}, "", 2, false},
		{"throttled retried", [][2]any{{403, qpsLimited}, {429, `{"code":"system.busy","message":"busy"}`}, {200, `{}`}}, "", 3, false},
		{"5xx until gave up", [][2]any{{503, systemError}}, "system.error", 4, false},
		{"robot of another app", [][2]any{{400, robotAuthError}}, "invalidParameter.robotCode.auth", 1, false},
		{"missing scope", [][2]any{{403, scopeDenied("qyapi_chat_manage")}}, "Forbidden.AccessDenied.AccessTokenPermissionDenied", 1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			a := newAnswers(t, f, "/v1.0/im/conversations/robots", tt.replys...)
			err := c.AddRobotToConversation(testutil.Ctx(t), "cid")
			f.seen(err)
			if n := len(a.calls()); n != tt.wantCalls {
				t.Errorf("calls = %d, want %d", n, tt.wantCalls)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("err = %v", err)
				}
				return
			}
			if ae := asAPIError(t, err); ae.Code != tt.wantErr || ae.API != "robot.add" || ae.PermissionDenied() != tt.permission {
				t.Errorf("APIError = %+v", ae)
			}
		})
	}
}

// TestAddRobotToConversation_TimeoutNotRetried: only an HTTP 5xx answer is
// retried; a timeout is returned (a plain error, the caller may call again).
func TestAddRobotToConversation_TimeoutNotRetried(t *testing.T) {
	t.Parallel()
	c, f := setup(t, func(cfg *Config) { cfg.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond} })
	var mu sync.Mutex
	calls := 0
	f.mux.HandleFunc("/v1.0/im/conversations/robots", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	err := c.AddRobotToConversation(testutil.Ctx(t), "cid")
	f.seen(err)
	var ne net.Error
	var ou *OutcomeUnknownError
	if !errors.As(err, &ne) || !ne.Timeout() || errors.As(err, &ou) {
		t.Errorf("err = %T %v, want a timeout", err, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 {
		t.Errorf("calls = %d, want 1", calls)
	}
}

func TestSendGroupMarkdown(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	a := newAnswers(t, f, "/v1.0/robot/groupMessages/send", [2]any{200, `{"processQueryKey":"pqk"}`})
	if err := c.SendGroupMarkdown(testutil.Ctx(t), "cid6KeBB==", "Kickoff", "## Welcome\n**Release** \"4.2\""); err != nil {
		t.Fatal(f.seen(err))
	}
	// msgParam is a JSON string holding {"title":...,"text":...}, not an object.
	want := `{"msgParam":"{\"title\":\"Kickoff\",\"text\":\"## Welcome\\n**Release** \\\"4.2\\\"\"}","msgKey":"sampleMarkdown",` +
		`"openConversationId":"cid6KeBB==","robotCode":"dingROBOT"}`
	if calls := a.calls(); len(calls) != 1 || calls[0] != want {
		t.Errorf("bodies = %q\nwant %s", calls, want)
	}
	if obs := strings.Join(f.observations(), ","); obs != "token ok,robot.group_send ok" {
		t.Errorf("observed %q", obs)
	}
}

func TestSendGroupMarkdown_RefusedWithoutCall(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	overhead := len(`{"title":"T","text":""}`) // msgParam's bytes around the text
	for name, args := range map[string][3]string{
		"no conversation":       {"", "T", "x"},
		"no title":              {"cid", " ", "x"},
		"no text":               {"cid", "T", ""},
		"text over 15000 bytes": {"cid", "T", strings.Repeat("x", 15001)},
		"msgParam over 15000":   {"cid", "T", strings.Repeat("x", 15000-overhead+1)},
		"escaping counts":       {"cid", "T", strings.Repeat("\n", 7500)},
	} {
		if err := c.SendGroupMarkdown(testutil.Ctx(t), args[0], args[1], args[2]); f.seen(err) == nil || !strings.HasPrefix(err.Error(), "dingtalk robot.group_send: ") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if n := f.tokenFetches.Load(); n != 0 {
		t.Errorf("token fetches = %d, want 0 (refused before any request)", n)
	}
	a := newAnswers(t, f, "/v1.0/robot/groupMessages/send", [2]any{200, `{"processQueryKey":"pqk"}`})
	if err := c.SendGroupMarkdown(testutil.Ctx(t), "cid", "T", strings.Repeat("x", 15000-overhead)); err != nil {
		t.Fatalf("exactly 15000 bytes of msgParam: %v", f.seen(err))
	}
	if calls := a.calls(); len(calls) != 1 {
		t.Errorf("calls = %d", len(calls))
	}
}

func TestSendGroupMarkdown_Errors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		status     int
		body       string
		permission bool
	}{
		{"robot not in group", 400, `{"code":"resource.not.found","message":"机器人不在群内或群不存在","requestid":"nf"}`, false},
		{"5xx not retried", 500, systemError, false},
		{"missing scope", 403, scopeDenied("qyapi_robot_sendmsg"), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			a := newAnswers(t, f, "/v1.0/robot/groupMessages/send", [2]any{tt.status, tt.body}, [2]any{200, `{"processQueryKey":"pqk"}`})
			err := c.SendGroupMarkdown(testutil.Ctx(t), "cid", "T", "x")
			f.seen(err)
			var ou *OutcomeUnknownError
			if ae := asAPIError(t, err); ae.HTTPStatus != tt.status || ae.API != "robot.group_send" || ae.PermissionDenied() != tt.permission || errors.As(err, &ou) {
				t.Errorf("APIError = %+v", ae)
			}
			if n := len(a.calls()); n != 1 {
				t.Errorf("calls = %d, want 1 (a send is never repeated)", n)
			}
		})
	}
}
