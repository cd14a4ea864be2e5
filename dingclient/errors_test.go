package dingclient

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestAPIError_Classification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status                                       int
		code                                         string
		throttled, invalidToken, permission, retries bool
	}{
		{403, "Forbidden.AccessDenied.QpsLimitForApi", true, false, false, true},
		{403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", true, false, false, true},
		{403, "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi", true, false, false, true},
		{429, "system.busy", true, false, false, true},
		{429, "systemBusy", true, false, false, true},
		{429, "", true, false, false, true},
		{400, "Forbidden.AccessDenied.QpsLimitForApi", false, false, false, false}, // throttling is a 403
		{400, "InvalidAuthentication", false, true, false, false},
		{401, "", false, true, false, false},
		{403, "Forbidden.AccessDenied.AccessTokenPermissionDenied", false, false, true, false},
		{403, "Forbidden.AccessDenied.IpNotInWhiteList", false, false, true, false},
		{400, "permession.checkFailed", false, false, true, false},
		{403, "Forbidden.AccessDenied.ApiCountLimitForOrg", false, false, false, false}, // monthly quota: not retryable
		{403, "", false, false, false, false},
		{400, "parameter.invalid", false, false, false, false},
		{400, "invalidClientIdOrSecret", false, false, false, false},
		{500, "system.error", false, false, false, true},
		{500, "", false, false, false, true},
		{502, "", false, false, false, true},
		{503, "service.timeout", false, false, false, true},
		{504, "operationTimeout", false, false, false, true},
	}
	for _, tt := range tests {
		e := &APIError{HTTPStatus: tt.status, Code: tt.code}
		got := [4]bool{e.Throttled(), e.InvalidToken(), e.PermissionDenied(), e.Retryable()}
		want := [4]bool{tt.throttled, tt.invalidToken, tt.permission, tt.retries}
		if got != want {
			t.Errorf("%d %q: [Throttled InvalidToken PermissionDenied Retryable] = %v, want %v", tt.status, tt.code, got, want)
		}
	}
	var nilErr *APIError
	if nilErr.Throttled() || nilErr.InvalidToken() || nilErr.PermissionDenied() || nilErr.Retryable() {
		t.Error("nil *APIError should classify as false")
	}
}

func TestAPIError_Error(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		e    APIError
		want string
	}{
		{APIError{API: "group.create", HTTPStatus: 400, Code: "permession.checkFailed", Message: "群主不在应用可见性内", RequestID: "123"},
			"dingtalk group.create: HTTP 400 permession.checkFailed: 群主不在应用可见性内 (requestid 123)"},
		{APIError{API: "token", HTTPStatus: 400, Code: "invalidClientIdOrSecret", Message: "无效的clientId或者clientSecret"},
			"dingtalk token: HTTP 400 invalidClientIdOrSecret: 无效的clientId或者clientSecret"},
		{APIError{HTTPStatus: 502}, "dingtalk api: HTTP 502"},
		{APIError{API: "robot.oto_send", HTTPStatus: 403, Code: "Forbidden.AccessDenied.AccessTokenPermissionDenied", Message: "没有权限", RequiredScopes: []string{"a", "b"}, RequestID: "r"},
			"dingtalk robot.oto_send: HTTP 403 Forbidden.AccessDenied.AccessTokenPermissionDenied: 没有权限 (required scopes: a, b) (requestid r)"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
		}
	}
}

func TestOutcomeUnknownError(t *testing.T) {
	t.Parallel()
	inner := &APIError{API: "group.create", HTTPStatus: 500, Code: "system.error", RequestID: "r9"}
	var err error = fmt.Errorf("creating: %w", &OutcomeUnknownError{Op: "group.create", Err: inner})
	var ou *OutcomeUnknownError
	var ae *APIError
	if !errors.As(err, &ou) || !errors.As(err, &ae) || ae != inner {
		t.Fatalf("errors.As failed on %v", err)
	}
	if !strings.Contains(err.Error(), "outcome unknown") || !strings.Contains(err.Error(), "r9") {
		t.Errorf("Error() = %q", err)
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	c, err := New(Config{ClientID: "id", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	qps := &APIError{HTTPStatus: 403, Code: "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"}
	qpm := &APIError{HTTPStatus: 403, Code: "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi"}
	for _, tt := range []struct {
		e        *APIError
		n        int
		min, max time.Duration
	}{
		{qps, 1, 1 * time.Second, 1250 * time.Millisecond},
		{qps, 2, 2 * time.Second, 2500 * time.Millisecond},
		{qps, 3, 4 * time.Second, 5 * time.Second},
		{qps, 4, 8 * time.Second, 8 * time.Second},
		{qps, 40, 8 * time.Second, 8 * time.Second},
		{qpm, 1, 10 * time.Second, 10 * time.Second},
		{qpm, 3, 10 * time.Second, 10 * time.Second},
	} {
		for range 50 {
			if d := c.backoff(tt.n, tt.e.perMinuteLimited()); d < tt.min || d > tt.max {
				t.Errorf("backoff(%d, %s) = %v, want in [%v, %v]", tt.n, tt.e.Code, d, tt.min, tt.max)
				break
			}
		}
	}
}

func TestNew_Validation(t *testing.T) {
	t.Parallel()
	const secret = "SECRET-" + leakMarker
	for _, cfg := range []Config{
		{ClientID: "id"},
		{ClientSecret: secret},
		{ClientID: " ", ClientSecret: secret},
		{ClientID: "id", ClientSecret: secret, APIURL: "api.dingtalk.com"},
		{ClientID: "id", ClientSecret: secret, APIURL: "https://user:" + secret + "@api.dingtalk.com/%zz"},
		{ClientID: "id", ClientSecret: secret, OAPIURL: "ftp://oapi.dingtalk.com"},
		{ClientID: "id", ClientSecret: secret, APIURL: "https://api.dingtalk.com/?access_token=" + secret},
	} {
		_, err := New(cfg)
		if err == nil {
			t.Errorf("New(%+v) = nil error", cfg.APIURL)
			continue
		}
		if strings.Contains(err.Error(), leakMarker) {
			t.Errorf("error leaks the secret: %v", err)
		}
	}
	c, err := New(Config{ClientID: "id", ClientSecret: secret, APIURL: "https://api.dingtalk.io/", OAPIURL: "https://oapi.dingtalk.io"})
	if err != nil {
		t.Fatal(err)
	}
	if c.apiURL != "https://api.dingtalk.io" || c.oapiURL != "https://oapi.dingtalk.io" || c.robotCode != "id" {
		t.Errorf("client = %+v", c)
	}
	if c.retry != (RetryPolicy{MaxAttempts: 4, BaseDelay: time.Second, MaxDelay: 8 * time.Second}) {
		t.Errorf("default retry = %+v", c.retry)
	}
	if c.hc.Timeout != 10*time.Second {
		t.Errorf("default timeout = %v", c.hc.Timeout)
	}
	d, _ := New(Config{ClientID: "id", ClientSecret: "s"})
	if d.apiURL != DefaultAPIURL || d.oapiURL != DefaultOAPIURL {
		t.Errorf("defaults = %q %q", d.apiURL, d.oapiURL)
	}
}

// TestNew_RateLimits: RateLimits accepts every API name and rejects, naming
// the key, an unknown name (a typo would silently disable the limit) and a
// rate that is not positive.
func TestNew_RateLimits(t *testing.T) {
	t.Parallel()
	all := make(map[API]float64)
	for _, api := range APIs() {
		all[api] = 20
	}
	c, err := New(Config{ClientID: "id", ClientSecret: "s", RateLimits: all})
	if err != nil {
		t.Fatalf("New with every API limited: %v", err)
	}
	for _, api := range APIs() {
		if !c.limiter.Limited(api) {
			t.Errorf("%s is not limited", api)
		}
	}
	for _, tt := range []struct {
		limits map[API]float64
		want   string
	}{
		{map[API]float64{"group_create": 20}, `dingclient: RateLimits: unknown API "group_create" (known: token, group.create, group.update, robot.group_send, robot.oto_send, session.reply, user.by_mobile, user.search, user.get, robot.add)`},
		{map[API]float64{APIUserGet: 20, "": 1}, `dingclient: RateLimits: unknown API ""`},
		{map[API]float64{APIGroupUpdate: 0}, `dingclient: RateLimits["group.update"]: 0 calls per second is not a positive rate`},
		{map[API]float64{APIUserSearch: -1}, `dingclient: RateLimits["user.search"]: -1 calls per second is not a positive rate`},
		{map[API]float64{APIUserGet: math.NaN()}, `dingclient: RateLimits["user.get"]: NaN calls per second is not a positive rate`},
		// Several bad keys: always the first in sorted order.
		{map[API]float64{"zz": 1, "aa": 1, APIToken: -1}, `dingclient: RateLimits: unknown API "aa"`},
	} {
		_, err := New(Config{ClientID: "id", ClientSecret: "s", RateLimits: tt.limits})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("New(RateLimits %v) = %v, want %s", tt.limits, err, tt.want)
		}
	}
}

// TestAPINames: the API names are metric label values; they must not change.
func TestAPINames(t *testing.T) {
	t.Parallel()
	var got []string
	for _, api := range APIs() {
		got = append(got, string(api))
	}
	want := "token group.create group.update robot.group_send robot.oto_send session.reply user.by_mobile user.search user.get robot.add"
	if strings.Join(got, " ") != want {
		t.Errorf("APIs() = %v, want %s", got, want)
	}
	APIs()[0] = "changed"
	if APIs()[0] != APIToken {
		t.Error("APIs returns the package's own slice")
	}
}
