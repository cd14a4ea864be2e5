package dingclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dingbot/dingbot/internal/testutil"
)

func ptr[T any](v T) *T { return &v }

func sampleCreate() *CreateGroupRequest {
	return &CreateGroupRequest{
		Name:            "Release 4.2",
		Owner:           "manager4220",
		OwnerType:       OwnerTypeEmployee,
		UserIDs:         []string{"manager4220", "alice01", "bob02"},
		ConversationTag: ptr(ConversationTagInternal),
		ManagementOptions: &ManagementOptions{
			MentionAllAuthority: ptr[int32](0),
			Searchable:          ptr[int32](1),
		},
	}
}

const createOK = `{"conversationTag":2,"openConversationId":"cidNEW==","chatid":"chat123"}`

func TestCreateGroup_RequestAndResponse(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var calls atomic.Int32
	f.mux.HandleFunc("/v1.0/im/group/create", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.URL.RawQuery != "" {
			t.Errorf("request %s %s", r.Method, r.URL)
		}
		testHeader(t, r, "Content-Type", "application/json")
		testHeader(t, r, "Accept", "application/json")
		testHeader(t, r, "x-acs-dingtalk-access-token", tokenN(1)) // raw, not JSON-quoted
		testJSONBody(t, r, `{"name":"Release 4.2","owner":"manager4220","ownerType":"emp",`+
			`"useridlist":["manager4220","alice01","bob02"],"conversationTag":2,`+
			`"managementOptions":{"mentionAllAuthority":0,"searchable":1}}`)
		writeJSON(w, 200, createOK)
	})
	got, err := c.CreateGroup(testutil.Ctx(t), sampleCreate())
	if err != nil {
		t.Fatal(f.seen(err))
	}
	want := CreateGroupResponse{ConversationTag: 2, OpenConversationID: "cidNEW==", ChatID: "chat123"}
	if *got != want {
		t.Errorf("response = %+v, want %+v", *got, want)
	}
	if calls.Load() != 1 {
		t.Errorf("create calls = %d", calls.Load())
	}
	obs := strings.Join(f.observations(), ",")
	if obs != "token ok,group.create ok" {
		t.Errorf("observed %q", obs)
	}
	if logs := f.logs.String(); !strings.Contains(logs, "api=group.create") || !strings.Contains(logs, "status=200") {
		t.Errorf("debug log missing the call: %s", logs)
	}
}

func TestCreateGroup_Nil(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	if _, err := c.CreateGroup(testutil.Ctx(t), nil); f.seen(err) == nil {
		t.Fatal("want error for nil request")
	}
}

func TestCreateGroup_ConcurrentCallsFetchOneToken(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	f.tokenDelay = 30 * time.Millisecond
	var calls atomic.Int32
	f.mux.HandleFunc("/v1.0/im/group/create", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		testHeader(t, r, "x-acs-dingtalk-access-token", tokenN(1))
		writeJSON(w, 200, createOK)
	})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := c.CreateGroup(testutil.Ctx(t), sampleCreate()); err != nil {
				t.Error(f.seen(err))
			}
		})
	}
	wg.Wait()
	if n := f.tokenFetches.Load(); n != 1 {
		t.Errorf("token fetches = %d, want 1", n)
	}
	if n := calls.Load(); n != 50 {
		t.Errorf("create calls = %d, want 50", n)
	}
}

func TestCreateGroup_InvalidTokenRefetchedOnce(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		status int
		body   string
	}{
		{"InvalidAuthentication", 400, `{"code":"InvalidAuthentication","requestid":"30EE","message":"不合法的access_token"}`},
		{"HTTP 401", 401, ``},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			var calls atomic.Int32
			f.mux.HandleFunc("/v1.0/im/group/create", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if r.Header.Get("x-acs-dingtalk-access-token") == tokenN(1) {
					writeJSON(w, tt.status, tt.body)
					return
				}
				testHeader(t, r, "x-acs-dingtalk-access-token", tokenN(2))
				writeJSON(w, 200, createOK)
			})
			got, err := c.CreateGroup(testutil.Ctx(t), sampleCreate())
			if err != nil {
				t.Fatal(f.seen(err))
			}
			if got.OpenConversationID != "cidNEW==" {
				t.Errorf("response = %+v", got)
			}
			if n := f.tokenFetches.Load(); n != 2 {
				t.Errorf("token fetches = %d, want 2", n)
			}
			if n := calls.Load(); n != 2 {
				t.Errorf("create calls = %d, want 2", n)
			}
			// The new token is cached.
			if tok, _ := c.AccessToken(testutil.Ctx(t)); tok != tokenN(2) {
				t.Errorf("cached token = %q", tok)
			}
		})
	}
}

func TestCreateGroup_InvalidTokenTwice(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var calls atomic.Int32
	f.mux.HandleFunc("/v1.0/im/group/create", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, 400, `{"code":"InvalidAuthentication","requestid":"30EE","message":"不合法的access_token"}`)
	})
	_, err := c.CreateGroup(testutil.Ctx(t), sampleCreate())
	f.seen(err)
	ae := asAPIError(t, err)
	if !ae.InvalidToken() || ae.RequestID != "30EE" {
		t.Errorf("APIError = %+v", ae)
	}
	var ou *OutcomeUnknownError
	if errors.As(err, &ou) {
		t.Errorf("a 400 is not an unknown outcome: %v", err)
	}
	if n := f.tokenFetches.Load(); n != 2 {
		t.Errorf("token fetches = %d, want 2", n)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("create calls = %d, want 2", n)
	}
}

func TestCreateGroup_DocumentedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		status           int
		body             string
		wantCode         string
		wantMsg          string
		wantUnknown      bool
		wantPermission   bool
		wantScopes       []string
		wantErrSubstring string
	}{
		{
			name: "parameter.invalid", status: 400,
			body:     `{"code":"parameter.invalid","message":"输入参数错误","requestid":"r1"}`,
			wantCode: "parameter.invalid", wantMsg: "输入参数错误",
			wantErrSubstring: "dingtalk group.create: HTTP 400 parameter.invalid: 输入参数错误 (requestid r1)",
		},
		{
			name: "permission check failed", status: 400,
			body:     `{"code":"permession.checkFailed","message":"权限校验失败","requestid":"r2"}`,
			wantCode: "permession.checkFailed", wantMsg: "权限校验失败", wantPermission: true,
		},
		{
			name: "owner outside visibility", status: 400,
			body:     `{"code":"permession.checkFailed","message":"群主不在应用可见性内","requestid":"123"}`,
			wantCode: "permession.checkFailed", wantMsg: "群主不在应用可见性内", wantPermission: true,
			wantErrSubstring: "dingtalk group.create: HTTP 400 permession.checkFailed: 群主不在应用可见性内 (requestid 123)",
		},
		{
			name: "missing scope", status: 403,
			body:     `{"code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","requestid":"r3","message":"没有调用该接口的权限","accessdenieddetail":{"requiredScopes":["qyapi_chat_manage"]}}`,
			wantCode: "Forbidden.AccessDenied.AccessTokenPermissionDenied", wantMsg: "没有调用该接口的权限",
			wantPermission: true, wantScopes: []string{"qyapi_chat_manage"},
			wantErrSubstring: "required scopes: qyapi_chat_manage",
		},
		{
			name: "system.error", status: 500,
			body:     `{"code":"system.error","message":"请重试，若始终失败请提交工单","requestid":"r500"}`,
			wantCode: "system.error", wantMsg: "请重试，若始终失败请提交工单", wantUnknown: true,
			wantErrSubstring: "outcome unknown",
		},
		{
			name: "502 without body", status: 502, body: ``,
			wantCode: "", wantMsg: "Bad Gateway", wantUnknown: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			var calls atomic.Int32
			f.mux.HandleFunc("/v1.0/im/group/create", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				writeJSON(w, tt.status, tt.body)
			})
			got, err := c.CreateGroup(testutil.Ctx(t), sampleCreate())
			f.seen(err)
			if err == nil || got != nil {
				t.Fatalf("CreateGroup = %+v, %v; want error", got, err)
			}
			var ou *OutcomeUnknownError
			if isUnknown := errors.As(err, &ou); isUnknown != tt.wantUnknown {
				t.Errorf("OutcomeUnknownError = %v, want %v (err %v)", isUnknown, tt.wantUnknown, err)
			} else if isUnknown && ou.Op != "group.create" {
				t.Errorf("Op = %q", ou.Op)
			}
			ae := asAPIError(t, err)
			if ae.HTTPStatus != tt.status || ae.Code != tt.wantCode || ae.Message != tt.wantMsg || ae.API != "group.create" {
				t.Errorf("APIError = %+v", ae)
			}
			if ae.PermissionDenied() != tt.wantPermission {
				t.Errorf("PermissionDenied = %v", ae.PermissionDenied())
			}
			if strings.Join(ae.RequiredScopes, ",") != strings.Join(tt.wantScopes, ",") {
				t.Errorf("RequiredScopes = %v", ae.RequiredScopes)
			}
			if tt.wantUnknown && ae.RequestID == "" && tt.body != "" {
				t.Errorf("requestid lost: %+v", ae)
			}
			if !strings.Contains(err.Error(), tt.wantErrSubstring) {
				t.Errorf("error %q does not contain %q", err, tt.wantErrSubstring)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("create calls = %d, want 1 (never retried)", n)
			}
		})
	}
}

func TestCreateGroup_SystemErrorKeepsRequestID(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	f.mux.HandleFunc("/v1.0/im/group/create", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 500, `{"code":"system.error","message":"请重试，若始终失败请提交工单","requestid":"REQ-500"}`)
	})
	_, err := c.CreateGroup(testutil.Ctx(t), sampleCreate())
	f.seen(err)
	var ou *OutcomeUnknownError
	if !errors.As(err, &ou) {
		t.Fatalf("err = %T %v, want *OutcomeUnknownError", err, err)
	}
	var ae *APIError
	if !errors.As(ou.Err, &ae) || ae.RequestID != "REQ-500" || ae.Code != "system.error" || !ae.Retryable() {
		t.Errorf("wrapped = %#v", ou.Err)
	}
	if !strings.Contains(err.Error(), "REQ-500") {
		t.Errorf("error text lacks the requestid: %v", err)
	}
}

func TestCreateGroup_ThrottledThenSuccess(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		status int
		body   string
	}{
		{"403 QpsLimitForAppkeyAndApi", 403, `{"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","message":"throttled","requestid":"q"}`},
		{"403 QpsLimitForApi", 403, `{"code":"Forbidden.AccessDenied.QpsLimitForApi","message":"throttled","requestid":"q"}`},
		{"429 system.busy", 429, `{"code":"system.busy","message":"请求太频繁","requestid":"q"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			var calls atomic.Int32
			f.mux.HandleFunc("/v1.0/im/group/create", func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) <= 2 {
					writeJSON(w, tt.status, tt.body)
					return
				}
				writeJSON(w, 200, createOK)
			})
			got, err := c.CreateGroup(testutil.Ctx(t), sampleCreate())
			if err != nil {
				t.Fatal(f.seen(err))
			}
			if got.ChatID != "chat123" {
				t.Errorf("response = %+v", got)
			}
			if n := calls.Load(); n != 3 {
				t.Errorf("create calls = %d, want 3", n)
			}
			obs := f.observations()
			if len(obs) != 4 || obs[3] != "group.create ok" || !strings.HasPrefix(obs[1], "group.create ") || obs[1] == "group.create ok" {
				t.Errorf("observed %q", obs)
			}
		})
	}
}

func TestCreateGroup_ThrottledBeyondMaxAttempts(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var calls atomic.Int32
	f.mux.HandleFunc("/v1.0/im/group/create", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, 403, `{"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","message":"throttled","requestid":"q"}`)
	})
	_, err := c.CreateGroup(testutil.Ctx(t), sampleCreate())
	f.seen(err)
	ae := asAPIError(t, err)
	if !ae.Throttled() || !ae.Retryable() {
		t.Errorf("APIError = %+v, want throttled", ae)
	}
	var ou *OutcomeUnknownError
	if errors.As(err, &ou) {
		t.Errorf("throttling is not an unknown outcome: %v", err)
	}
	if n := calls.Load(); n != 4 {
		t.Errorf("create calls = %d, want MaxAttempts = 4", n)
	}
}

func TestCreateGroup_ThrottleWaitHonoursContext(t *testing.T) {
	t.Parallel()
	c, f := setup(t, func(cfg *Config) { cfg.Retry = RetryPolicy{BaseDelay: time.Hour, MaxDelay: time.Hour} })
	var calls atomic.Int32
	f.mux.HandleFunc("/v1.0/im/group/create", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, 429, `{"code":"systemBusy","message":"busy"}`)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.CreateGroup(ctx, sampleCreate())
	f.seen(err)
	if time.Since(start) > 5*time.Second {
		t.Errorf("waited %v despite the context deadline", time.Since(start))
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if ae := asAPIError(t, err); !ae.Throttled() {
		t.Errorf("APIError = %+v", ae)
	}
	var ou *OutcomeUnknownError
	if errors.As(err, &ou) {
		t.Errorf("nothing was executed, so the outcome is known: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("create calls = %d, want 1", n)
	}
}

func TestCreateGroup_TimeoutIsOutcomeUnknown(t *testing.T) {
	t.Parallel()
	c, f := setup(t, func(cfg *Config) { cfg.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond} })
	var calls atomic.Int32
	f.mux.HandleFunc("/v1.0/im/group/create", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
		writeJSON(w, 200, createOK)
	})
	_, err := c.CreateGroup(testutil.Ctx(t), sampleCreate())
	f.seen(err)
	var ou *OutcomeUnknownError
	if !errors.As(err, &ou) {
		t.Fatalf("err = %T %v, want *OutcomeUnknownError", err, err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("wrapped error is not a timeout: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("create calls = %d, want exactly 1", n)
	}
	if obs := strings.Join(f.observations(), ","); obs != "token ok,group.create transport_error" {
		t.Errorf("observed %q", obs)
	}
}

func TestCreateGroup_ConnectionRefusedIsPlainError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, f := setup(t, func(cfg *Config) { cfg.APIURL = "http://" + addr })
	// Seed a valid token so the create call itself is the one that cannot connect.
	c.tok, c.tokExpiry = tokenN(99), f.clock.Now().Add(time.Hour)
	_, err = c.CreateGroup(testutil.Ctx(t), sampleCreate())
	f.seen(err)
	if err == nil {
		t.Fatal("want error")
	}
	var ou *OutcomeUnknownError
	if errors.As(err, &ou) {
		t.Errorf("connection refused sent nothing, want a plain error, got %v", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err = %v, want ECONNREFUSED", err)
	}
	if !strings.Contains(err.Error(), "group.create") {
		t.Errorf("error does not name the API: %v", err)
	}
}

func TestCreateGroup_ConnectionResetAfterWriteIsOutcomeUnknown(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var calls atomic.Int32
	f.mux.HandleFunc("/v1.0/im/group/create", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		readBody(t, r)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST
		}
		conn.Close()
	})
	_, err := c.CreateGroup(testutil.Ctx(t), sampleCreate())
	f.seen(err)
	var ou *OutcomeUnknownError
	if !errors.As(err, &ou) {
		t.Fatalf("err = %T %v, want *OutcomeUnknownError", err, err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("create calls = %d, want 1", n)
	}
}

func TestCreateGroup_NonJSONErrorBodies(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, contentType, body string
		status                  int
		wantMsg                 string
	}{
		{"HTML ban page", "text/html; charset=utf-8", "<html><head><title>denied</title></head><body>" + strings.Repeat("x", 5000) + "</body></html>", 403, ""},
		{"IP ban JSON", "application/json", `{"status":1111,"wait":5,"source":"x5","punish":"deny","uuid":"u"}`, 405, "status 1111, wait 5"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			f.mux.HandleFunc("/v1.0/im/group/create", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			_, err := c.CreateGroup(testutil.Ctx(t), sampleCreate())
			f.seen(err)
			ae := asAPIError(t, err)
			if ae.Code != "" || ae.HTTPStatus != tt.status || !strings.Contains(ae.Message, tt.wantMsg) {
				t.Errorf("APIError = %+v", ae)
			}
			if html := strings.HasPrefix(tt.contentType, "text/html"); ae.NonJSONBody() != html || (html && ae.BodyType != "text/html") {
				t.Errorf("NonJSONBody %v, BodyType %q", ae.NonJSONBody(), ae.BodyType)
			}
			if strings.Contains(err.Error(), "<html") || len(err.Error()) > 300 {
				t.Errorf("error dumps the body: %q", err)
			}
			if ae.Throttled() || ae.Retryable() {
				t.Errorf("misclassified: %+v", ae)
			}
		})
	}
}

func TestCreateGroup_HugeBodyIsBounded(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	f.mux.HandleFunc("/v1.0/im/group/create", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		w.Write([]byte(`{"openConversationId":"`))
		w.Write([]byte(strings.Repeat("a", 3<<20)))
		w.Write([]byte(`"}`))
	})
	_, err := c.CreateGroup(testutil.Ctx(t), sampleCreate())
	f.seen(err)
	var ou *OutcomeUnknownError
	if !errors.As(err, &ou) {
		t.Fatalf("err = %v, want *OutcomeUnknownError (2xx but undecodable)", err)
	}
}
