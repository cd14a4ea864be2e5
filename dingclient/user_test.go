package dingclient

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dingbot/dingbot/internal/testutil"
)

const byMobileOK = `{"errcode":0,"errmsg":"ok","result":{"userid":"xiaoding"},"request_id":"5w82ciuur781"}`

// legacyHandler checks the shape of every legacy request (POST, token only in
// the access_token query parameter, JSON body) and answers from answer.
func legacyHandler(t *testing.T, calls *atomic.Int32, answer func(n int32, r *http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.Method != http.MethodPost {
			t.Errorf("method %s", r.Method)
		}
		if r.URL.Query().Get("access_token") == "" {
			t.Errorf("no access_token query parameter in %s", r.URL.Path)
		}
		testHeader(t, r, "x-acs-dingtalk-access-token", "") // the legacy APIs take the query parameter only
		testHeader(t, r, "Content-Type", "application/json")
		writeJSON(w, 200, answer(n, r))
	}
}

func TestUserByMobile_RequestAndResponse(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var calls atomic.Int32
	f.mux.HandleFunc("/topapi/v2/user/getbymobile", legacyHandler(t, &calls, func(_ int32, r *http.Request) string {
		if got := r.URL.Query().Get("access_token"); got != tokenN(1) {
			t.Errorf("access_token = %q, want %q", got, tokenN(1))
		}
		if len(r.URL.Query()) != 1 {
			t.Errorf("query = %q", r.URL.RawQuery)
		}
		testJSONBody(t, r, `{"mobile":"13800138000"}`)
		return byMobileOK
	}))
	id, err := c.UserByMobile(testutil.Ctx(t), "13800138000")
	if err != nil {
		t.Fatal(f.seen(err))
	}
	if id != "xiaoding" {
		t.Errorf("userid = %q", id)
	}
	if obs := strings.Join(f.observations(), ","); obs != "token ok,user.by_mobile ok" {
		t.Errorf("observed %q", obs)
	}
	if logs := f.logs.String(); !strings.Contains(logs, "api=user.by_mobile") || !strings.Contains(logs, "requestid=5w82ciuur781") {
		t.Errorf("debug log missing the call: %s", logs)
	}
}

func TestUserByMobile_Errcodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       string
		wantID     string
		wantCode   int  // 0: no *LegacyError expected
		notFound   bool // errors.Is(err, ErrUserNotFound)
		permission bool
		quota      bool
		wantErr    string // substring of the error text
		wantObs    string
	}{
		{name: "errcode 0 number", body: byMobileOK, wantID: "xiaoding", wantObs: "ok"},
		{name: "errcode 0 string", body: `{"errcode":"0","errmsg":"ok","result":{"userid":"xiaoding"},"request_id":"r"}`, wantID: "xiaoding", wantObs: "ok"},
		{name: "errcode absent", body: `{"result":{"userid":"xiaoding"}}`, wantID: "xiaoding", wantObs: "ok"},
		{name: "60121 not found", body: `{"errcode":60121,"errmsg":"未找到该用户","request_id":"r60121"}`, wantCode: 60121, notFound: true,
			wantErr: "dingtalk user not found: dingtalk user.by_mobile: errcode 60121: 未找到该用户 (request_id r60121)", wantObs: "60121"},
		{name: "60121 as string", body: `{"errcode":"60121","errmsg":"未找到该用户"}`, wantCode: 60121, notFound: true, wantObs: "60121"},
		{name: "40104 mobile not in org", body: `{"errcode":40104,"errmsg":"企业中无效的手机号"}`, wantCode: 40104, notFound: true, wantObs: "40104"},
		{name: "400002 invalid parameter", body: `{"errcode":400002,"errmsg":"无效的参数"}`, wantCode: 400002, wantErr: "errcode 400002: 无效的参数", wantObs: "400002"},
		{name: "60011 no permission", body: `{"errcode":60011,"errmsg":"没有调用该接口的权限"}`, wantCode: 60011, permission: true, wantObs: "60011"},
		{name: "90020 monthly quota not retried", body: `{"errcode":90020,"errmsg":"quota"}`, wantCode: 90020, quota: true, wantObs: "90020"},
		{name: "errcode not a number", body: `{"errcode":"oops","errmsg":"?"}`, wantErr: `errcode "oops" is not a number`, wantObs: "invalid_response"},
		{name: "errcode an object", body: `{"errcode":{},"errmsg":"?"}`, wantErr: "is not a number", wantObs: "invalid_response"},
		{name: "not JSON", body: `<html>busy</html>`, wantErr: "dingtalk user.by_mobile: HTTP 200 with a non-JSON body (application/json)", wantObs: "invalid_response"},
		{name: "truncated JSON", body: `{"errcode":0,`, wantErr: "undecodable HTTP 200 response", wantObs: "invalid_response"},
		{name: "no userid", body: `{"errcode":0,"errmsg":"ok","result":{}}`, wantErr: "response has no userid", wantObs: "ok"},
		{name: "no result", body: `{"errcode":0,"errmsg":"ok"}`, wantErr: "response has no result", wantObs: "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			var calls atomic.Int32
			f.mux.HandleFunc("/topapi/v2/user/getbymobile", legacyHandler(t, &calls, func(int32, *http.Request) string { return tt.body }))
			id, err := c.UserByMobile(testutil.Ctx(t), "13800138000")
			f.seen(err)
			if id != tt.wantID {
				t.Errorf("userid = %q, want %q", id, tt.wantID)
			}
			if (err == nil) != (tt.wantID != "") {
				t.Fatalf("err = %v", err)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("calls = %d, want 1", n)
			}
			if obs := f.observations(); obs[len(obs)-1] != "user.by_mobile "+tt.wantObs {
				t.Errorf("observed %q, want outcome %q", obs, tt.wantObs)
			}
			if err == nil {
				return
			}
			if errors.Is(err, ErrUserNotFound) != tt.notFound {
				t.Errorf("errors.Is(ErrUserNotFound) = %v, want %v (%v)", !tt.notFound, tt.notFound, err)
			}
			var le *LegacyError
			if isLegacy := errors.As(err, &le); isLegacy != (tt.wantCode != 0) {
				t.Fatalf("LegacyError = %v (%T %v)", isLegacy, err, err)
			}
			if le != nil {
				if le.ErrCode != tt.wantCode || le.API != "user.by_mobile" {
					t.Errorf("LegacyError = %+v", le)
				}
				if le.PermissionDenied() != tt.permission || IsPermissionDenied(err) != tt.permission {
					t.Errorf("PermissionDenied = %v / %v, want %v", le.PermissionDenied(), IsPermissionDenied(err), tt.permission)
				}
				if le.QuotaExceeded() != tt.quota || le.Throttled() || le.Retryable() {
					t.Errorf("QuotaExceeded %v Throttled %v Retryable %v", le.QuotaExceeded(), le.Throttled(), le.Retryable())
				}
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestUserByMobile_EmptyMobileNoCall(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	if _, err := c.UserByMobile(testutil.Ctx(t), "  "); f.seen(err) == nil {
		t.Fatal("want error")
	}
	if n := f.tokenFetches.Load(); n != 0 {
		t.Errorf("token fetches = %d", n)
	}
}

func TestLegacy_InvalidTokenRefetchedOnce(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"40014", `"42001"`, "40001"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			var calls atomic.Int32
			f.mux.HandleFunc("/topapi/v2/user/getbymobile", legacyHandler(t, &calls, func(_ int32, r *http.Request) string {
				if r.URL.Query().Get("access_token") == tokenN(1) {
					return `{"errcode":` + code + `,"errmsg":"不合法的access_token"}`
				}
				if got := r.URL.Query().Get("access_token"); got != tokenN(2) {
					t.Errorf("retry token = %q", got)
				}
				return byMobileOK
			}))
			id, err := c.UserByMobile(testutil.Ctx(t), "13800138000")
			if err != nil {
				t.Fatal(f.seen(err))
			}
			if id != "xiaoding" || calls.Load() != 2 || f.tokenFetches.Load() != 2 {
				t.Errorf("id %q, calls %d, token fetches %d", id, calls.Load(), f.tokenFetches.Load())
			}
		})
	}
}

func TestLegacy_InvalidTokenTwiceGivesUp(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var calls atomic.Int32
	f.mux.HandleFunc("/topapi/v2/user/get", legacyHandler(t, &calls, func(int32, *http.Request) string {
		return `{"errcode":40014,"errmsg":"不合法的access_token","request_id":"bad"}`
	}))
	_, err := c.GetUser(testutil.Ctx(t), "zhangsan")
	f.seen(err)
	var le *LegacyError
	if !errors.As(err, &le) || !le.InvalidToken() || le.API != "user.get" {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 2 || f.tokenFetches.Load() != 2 {
		t.Errorf("calls %d, token fetches %d; want 2, 2", calls.Load(), f.tokenFetches.Load())
	}
}

func TestLegacy_ThrottlingRetried(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var calls atomic.Int32
	f.mux.HandleFunc("/topapi/v2/user/getbymobile", legacyHandler(t, &calls, func(n int32, _ *http.Request) string {
		switch n {
		case 1:
			return `{"errcode":-1,"errmsg":"系统繁忙"}`
		case 2:
			return `{"errcode":"90018","errmsg":"app qps"}`
		case 3:
			return `{"errcode":90002,"errmsg":"global qps"}`
		}
		return byMobileOK
	}))
	id, err := c.UserByMobile(testutil.Ctx(t), "13800138000")
	if err != nil {
		t.Fatal(f.seen(err))
	}
	if id != "xiaoding" || calls.Load() != 4 || f.tokenFetches.Load() != 1 {
		t.Errorf("id %q calls %d token fetches %d", id, calls.Load(), f.tokenFetches.Load())
	}
	want := "token ok,user.by_mobile -1,user.by_mobile 90018,user.by_mobile 90002,user.by_mobile ok"
	if obs := strings.Join(f.observations(), ","); obs != want {
		t.Errorf("observed %q\nwant     %q", obs, want)
	}
}

func TestLegacy_ThrottledBeyondMaxAttempts(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var calls atomic.Int32
	f.mux.HandleFunc("/topapi/v2/user/get", legacyHandler(t, &calls, func(int32, *http.Request) string {
		return `{"errcode":-1,"errmsg":"系统繁忙","request_id":"busy"}`
	}))
	_, err := c.GetUser(testutil.Ctx(t), "zhangsan")
	f.seen(err)
	var le *LegacyError
	if !errors.As(err, &le) || !le.Throttled() || !le.Retryable() || le.RequestID != "busy" {
		t.Fatalf("err = %v", err)
	}
	if errors.Is(err, ErrUserNotFound) {
		t.Error("throttling is not not-found")
	}
	if n := calls.Load(); n != 4 {
		t.Errorf("calls = %d, want MaxAttempts 4", n)
	}
}

func TestLegacy_HTTPErrors(t *testing.T) {
	t.Parallel()
	t.Run("5xx retried (read)", func(t *testing.T) {
		t.Parallel()
		c, f := setup(t)
		var calls atomic.Int32
		f.mux.HandleFunc("/topapi/v2/user/getbymobile", func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				writeJSON(w, 502, ``)
				return
			}
			writeJSON(w, 200, byMobileOK)
		})
		if _, err := c.UserByMobile(testutil.Ctx(t), "13800138000"); err != nil {
			t.Fatal(f.seen(err))
		}
		if calls.Load() != 2 {
			t.Errorf("calls = %d", calls.Load())
		}
	})
	t.Run("401 refetches token", func(t *testing.T) {
		t.Parallel()
		c, f := setup(t)
		var calls atomic.Int32
		f.mux.HandleFunc("/topapi/v2/user/getbymobile", func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				writeJSON(w, 401, ``)
				return
			}
			writeJSON(w, 200, byMobileOK)
		})
		if _, err := c.UserByMobile(testutil.Ctx(t), "13800138000"); err != nil {
			t.Fatal(f.seen(err))
		}
		if calls.Load() != 2 || f.tokenFetches.Load() != 2 {
			t.Errorf("calls %d token fetches %d", calls.Load(), f.tokenFetches.Load())
		}
	})
	t.Run("404 is APIError", func(t *testing.T) {
		t.Parallel()
		c, f := setup(t)
		_, err := c.UserByMobile(testutil.Ctx(t), "13800138000") // no handler: 404
		f.seen(err)
		if ae := asAPIError(t, err); ae.HTTPStatus != 404 || ae.API != "user.by_mobile" {
			t.Errorf("APIError = %+v", ae)
		}
	})
}

func TestLegacy_TransportErrorRedactsToken(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	f.mux.HandleFunc("/topapi/v2/user/getbymobile", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	})
	_, err := c.UserByMobile(testutil.Ctx(t), "13800138000")
	f.seen(err) // checkLeaks fails the test if the token appears
	if err == nil {
		t.Fatal("want error")
	}
	if !strings.Contains(err.Error(), "access_token=REDACTED") {
		t.Errorf("error %q: want the redacted URL", err)
	}
	if obs := f.observations(); obs[len(obs)-1] != "user.by_mobile transport_error" {
		t.Errorf("observed %q", obs)
	}
}

func TestGetUser(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var calls atomic.Int32
	f.mux.HandleFunc("/topapi/v2/user/get", legacyHandler(t, &calls, func(_ int32, r *http.Request) string {
		if got := r.URL.Query().Get("access_token"); got != tokenN(1) {
			t.Errorf("access_token = %q", got)
		}
		testJSONBody(t, r, `{"userid":"zhangsan","language":"zh_CN"}`)
		return `{"errcode":"0","errmsg":"ok","request_id":"4e7exhl6pm0t","result":{"userid":"zhangsan","unionid":"z21HjQ","name":"张三","active":true,"dept_id_list":[2,3,4],"title":"技术总监","admin":true,"mobile":"ignored"}}`
	}))
	u, err := c.GetUser(testutil.Ctx(t), "zhangsan")
	if err != nil {
		t.Fatal(f.seen(err))
	}
	want := User{UserID: "zhangsan", UnionID: "z21HjQ", Name: "张三", Title: "技术总监", Active: true, Admin: true, DeptIDs: []int64{2, 3, 4}}
	if !reflect.DeepEqual(*u, want) {
		t.Errorf("user = %+v\nwant   %+v", *u, want)
	}
	if obs := strings.Join(f.observations(), ","); obs != "token ok,user.get ok" {
		t.Errorf("observed %q", obs)
	}
}

func TestGetUser_Errors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		body       string
		code       int
		notFound   bool
		permission bool
	}{
		{`{"errcode":33012,"errmsg":"无效的userId"}`, 33012, true, false},
		{`{"errcode":"60121","errmsg":"找不到该用户"}`, 60121, true, false},
		{`{"errcode":40104,"errmsg":"企业中无效的手机号"}`, 40104, false, false}, // by-mobile code only
		{`{"errcode":60011,"errmsg":"没有调用该接口的权限"}`, 60011, false, true},
		{`{"errcode":400002,"errmsg":"无效的参数"}`, 400002, false, false},
	} {
		t.Run(tt.body, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			var calls atomic.Int32
			f.mux.HandleFunc("/topapi/v2/user/get", legacyHandler(t, &calls, func(int32, *http.Request) string { return tt.body }))
			u, err := c.GetUser(testutil.Ctx(t), "ghost")
			f.seen(err)
			if u != nil || err == nil {
				t.Fatalf("GetUser = %+v, %v", u, err)
			}
			var le *LegacyError
			if !errors.As(err, &le) || le.ErrCode != tt.code || le.API != "user.get" {
				t.Errorf("err = %v", err)
			}
			if errors.Is(err, ErrUserNotFound) != tt.notFound || IsPermissionDenied(err) != tt.permission {
				t.Errorf("notFound %v permission %v for %v", errors.Is(err, ErrUserNotFound), IsPermissionDenied(err), err)
			}
			if calls.Load() != 1 {
				t.Errorf("calls = %d", calls.Load())
			}
		})
	}
}

func TestGetUser_EmptyID(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	if _, err := c.GetUser(testutil.Ctx(t), ""); f.seen(err) == nil {
		t.Fatal("want error")
	}
}

func TestSearchUsers_Request(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		exact    bool
		size     int
		wantBody string
		answer   string
		want     []string
	}{
		{"exact", true, 10, `{"queryWord":"alice","offset":0,"size":10,"fullMatchField":1}`,
			`{"hasMore":false,"totalCount":1,"list":["220141953"]}`, []string{"220141953"}},
		{"fuzzy", false, 2, `{"queryWord":"alice","offset":0,"size":2}`,
			`{"hasMore":true,"totalCount":5,"list":["a","b"]}`, []string{"a", "b"}},
		{"over-long list truncated", false, 1, `{"queryWord":"alice","offset":0,"size":1}`,
			`{"hasMore":true,"totalCount":5,"list":["a","b"]}`, []string{"a"}},
		{"none", true, 10, `{"queryWord":"alice","offset":0,"size":10,"fullMatchField":1}`,
			`{"hasMore":false,"totalCount":0,"list":[]}`, []string{}},
		{"no list", true, 10, `{"queryWord":"alice","offset":0,"size":10,"fullMatchField":1}`,
			`{"hasMore":false,"totalCount":0}`, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			f.mux.HandleFunc("/v1.0/contact/users/search", func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.RawQuery != "" {
					t.Errorf("request %s %s", r.Method, r.URL)
				}
				testHeader(t, r, "x-acs-dingtalk-access-token", tokenN(1))
				testJSONBody(t, r, tt.wantBody)
				writeJSON(w, 200, tt.answer)
			})
			got, err := c.SearchUsers(testutil.Ctx(t), "alice", tt.exact, tt.size)
			if err != nil {
				t.Fatal(f.seen(err))
			}
			if got == nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ids = %#v, want %#v", got, tt.want)
			}
			if obs := strings.Join(f.observations(), ","); obs != "token ok,user.search ok" {
				t.Errorf("observed %q", obs)
			}
		})
	}
}

func TestSearchUsers_Errors(t *testing.T) {
	t.Parallel()
	t.Run("400 parameter.error not retried", func(t *testing.T) {
		t.Parallel()
		c, f := setup(t)
		var calls atomic.Int32
		f.mux.HandleFunc("/v1.0/contact/users/search", func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			writeJSON(w, 400, `{"code":"parameter.error","message":"参数错误","requestid":"r4"}`)
		})
		_, err := c.SearchUsers(testutil.Ctx(t), "alice", true, 10)
		f.seen(err)
		if ae := asAPIError(t, err); ae.Code != "parameter.error" || ae.API != "user.search" || calls.Load() != 1 {
			t.Errorf("APIError %+v, calls %d", ae, calls.Load())
		}
	})
	t.Run("500 system.busy retried", func(t *testing.T) {
		t.Parallel()
		c, f := setup(t)
		var calls atomic.Int32
		f.mux.HandleFunc("/v1.0/contact/users/search", func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) < 3 {
				writeJSON(w, 500, `{"code":"system.busy","message":"系统繁忙","requestid":"r5"}`)
				return
			}
			writeJSON(w, 200, `{"hasMore":false,"totalCount":1,"list":["u1"]}`)
		})
		got, err := c.SearchUsers(testutil.Ctx(t), "alice", true, 10)
		if err != nil {
			t.Fatal(f.seen(err))
		}
		if len(got) != 1 || calls.Load() != 3 {
			t.Errorf("ids %v calls %d", got, calls.Load())
		}
	})
	t.Run("500 past the retry budget", func(t *testing.T) {
		t.Parallel()
		c, f := setup(t)
		var calls atomic.Int32
		f.mux.HandleFunc("/v1.0/contact/users/search", func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			writeJSON(w, 500, `{"code":"system.busy","message":"系统繁忙","requestid":"r5"}`)
		})
		_, err := c.SearchUsers(testutil.Ctx(t), "alice", true, 10)
		f.seen(err)
		var ou *OutcomeUnknownError
		if ae := asAPIError(t, err); ae.HTTPStatus != 500 || errors.As(err, &ou) || calls.Load() != 4 {
			t.Errorf("APIError %+v, calls %d", ae, calls.Load())
		}
	})
	t.Run("permission denied", func(t *testing.T) {
		t.Parallel()
		c, f := setup(t)
		f.mux.HandleFunc("/v1.0/contact/users/search", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 403, `{"code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","message":"没有调用该接口的权限","requestid":"r","accessdenieddetail":{"requiredScopes":["qyapi_addresslist_search"]}}`)
		})
		_, err := c.SearchUsers(testutil.Ctx(t), "alice", false, 10)
		f.seen(err)
		if !IsPermissionDenied(err) || !strings.Contains(err.Error(), "qyapi_addresslist_search") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("arguments checked before calling", func(t *testing.T) {
		t.Parallel()
		c, f := setup(t)
		for _, a := range []struct {
			q    string
			size int
		}{{"", 10}, {"  ", 10}, {"alice", 0}, {"alice", -1}, {"alice", 101}} {
			if _, err := c.SearchUsers(testutil.Ctx(t), a.q, false, a.size); f.seen(err) == nil {
				t.Errorf("SearchUsers(%q, %d): want error", a.q, a.size)
			}
		}
		if n := f.tokenFetches.Load(); n != 0 {
			t.Errorf("token fetches = %d", n)
		}
	})
}

func TestLegacyError_Classification(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code                                       int
		throttled, invalidToken, permission, quota bool
	}{
		{-1, true, false, false, false},
		{90002, true, false, false, false},
		{90018, true, false, false, false},
		{90020, false, false, false, true},
		{40014, false, true, false, false},
		{42001, false, true, false, false},
		{40001, false, true, false, false},
		{60011, false, false, true, false},
		{60121, false, false, false, false},
		{400002, false, false, false, false},
	} {
		e := &LegacyError{ErrCode: tt.code}
		got := [5]bool{e.Throttled(), e.InvalidToken(), e.PermissionDenied(), e.QuotaExceeded(), e.Retryable()}
		want := [5]bool{tt.throttled, tt.invalidToken, tt.permission, tt.quota, tt.throttled}
		if got != want {
			t.Errorf("%d: [Throttled InvalidToken PermissionDenied QuotaExceeded Retryable] = %v, want %v", tt.code, got, want)
		}
	}
	var nilErr *LegacyError
	if nilErr.Throttled() || nilErr.InvalidToken() || nilErr.PermissionDenied() || nilErr.QuotaExceeded() || nilErr.Retryable() {
		t.Error("nil *LegacyError should classify as false")
	}
	if got := (&LegacyError{ErrCode: 60011, ErrMsg: "没有调用该接口的权限", RequestID: "r1", API: "user.get"}).Error(); got != "dingtalk user.get: errcode 60011: 没有调用该接口的权限 (request_id r1)" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&LegacyError{ErrCode: -1}).Error(); got != "dingtalk api: errcode -1" {
		t.Errorf("Error() = %q", got)
	}
	if IsPermissionDenied(nil) || IsPermissionDenied(errors.New("x")) || !IsPermissionDenied(&APIError{Code: "permession.checkFailed"}) {
		t.Error("IsPermissionDenied")
	}
}
