package dingclient

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dingbot/dingbot/internal/testutil"
)

// The bodies DingTalk answers when the organisation's monthly API quota is
// used up (v1.0: HTTP 403 Forbidden.AccessDenied.ApiCountLimitForOrg;
// legacy: HTTP 200 errcode 90020), and the HTML page its gateway (or a proxy)
// answers instead of JSON, e.g. when the caller IP is banned.
const (
	quotaV1Body     = `{"code":"Forbidden.AccessDenied.ApiCountLimitForOrg","message":"组织的API调用量已超过限制","requestid":"REQ-QUOTA"}`
	quotaLegacyBody = `{"errcode":90020,"errmsg":"调用量已超过限制","request_id":"req90020"}`
	htmlBanPage     = "<!DOCTYPE html><html><head><title>Access denied</title></head><body><h1>403</h1> your IP is blocked</body></html>"
)

// answerOnce serves status with body and contentType on path, counting the requests.
func answerOnce(f *fake, path string, status int, contentType, body string) *atomic.Int32 {
	var calls atomic.Int32
	f.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		// Set even when empty: with no header at all net/http would sniff one.
		w.Header()["Content-Type"] = []string{contentType}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
	return &calls
}

// TestQuotaExceededIsClassifiedAndNeverRetried: the monthly quota on a v1.0
// API (a non-idempotent create and a read that is otherwise retried on 5xx)
// and on a legacy API is one request, classified as quota, not throttling.
func TestQuotaExceededIsClassifiedAndNeverRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path string
		status     int
		body       string
		call       func(ctx context.Context, c *Client) error
		wantErr    string
	}{
		{
			name: "v1.0 group create 403", path: "/v1.0/im/group/create", status: 403, body: quotaV1Body,
			call:    func(ctx context.Context, c *Client) error { _, err := c.CreateGroup(ctx, sampleCreate()); return err },
			wantErr: "dingtalk group.create: HTTP 403 Forbidden.AccessDenied.ApiCountLimitForOrg: 组织的API调用量已超过限制 (requestid REQ-QUOTA)",
		},
		{
			name: "v1.0 user search 403", path: "/v1.0/contact/users/search", status: 403, body: quotaV1Body,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.SearchUsers(ctx, "Alice", true, 10)
				return err
			},
			wantErr: "dingtalk user.search: HTTP 403 Forbidden.AccessDenied.ApiCountLimitForOrg",
		},
		{
			// A read is retried on a 5xx; the quota code is not, whatever the status.
			name: "v1.0 user search quota code on a 503", path: "/v1.0/contact/users/search", status: 503, body: quotaV1Body,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.SearchUsers(ctx, "Alice", true, 10)
				return err
			},
			wantErr: "dingtalk user.search: HTTP 503 Forbidden.AccessDenied.ApiCountLimitForOrg",
		},
		{
			name: "legacy user by mobile errcode 90020", path: "/topapi/v2/user/getbymobile", status: 200, body: quotaLegacyBody,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.UserByMobile(ctx, "13800138000")
				return err
			},
			wantErr: "dingtalk user.by_mobile: errcode 90020: 调用量已超过限制 (request_id req90020)",
		},
		{
			name: "legacy user get errcode 90020", path: "/topapi/v2/user/get", status: 200, body: quotaLegacyBody,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.GetUser(ctx, "alice01")
				return err
			},
			wantErr: "dingtalk user.get: errcode 90020",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			calls := answerOnce(f, tt.path, tt.status, "application/json;charset=utf-8", tt.body)
			err := f.seen(tt.call(testutil.Ctx(t), c))
			if err == nil {
				t.Fatal("no error")
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("%d requests, want exactly 1 (the quota is never retried)", n)
			}
			if !IsQuotaExceeded(err) {
				t.Errorf("IsQuotaExceeded(%v) = false", err)
			}
			var ou *OutcomeUnknownError
			if errors.As(err, &ou) {
				t.Errorf("a quota refusal is no unknown outcome: %v", err)
			}
			if !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("error\n%s\nwant it to start with\n%s", err, tt.wantErr)
			}
			var ae *APIError
			if errors.As(err, &ae) && (!ae.QuotaExceeded() || ae.Throttled() || ae.Retryable() || ae.PermissionDenied() || ae.NonJSONBody()) {
				t.Errorf("APIError misclassified: %+v", ae)
			}
			var le *LegacyError
			if errors.As(err, &le) && (!le.QuotaExceeded() || le.Throttled() || le.Retryable()) {
				t.Errorf("LegacyError misclassified: %+v", le)
			}
		})
	}
}

// TestNonJSONErrorBodyNamesStatusAndType: an HTML page instead of DingTalk's
// JSON, on a v1.0 API and on a legacy one, is reported with the HTTP status
// and the media type, never the body, and is not retried.
func TestNonJSONErrorBodyNamesStatusAndType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path, contentType string
		status                  int
		call                    func(ctx context.Context, c *Client) error
		wantErr                 string
	}{
		{
			name: "v1.0 group create 403 HTML", path: "/v1.0/im/group/create", contentType: "text/html; charset=utf-8", status: 403,
			call:    func(ctx context.Context, c *Client) error { _, err := c.CreateGroup(ctx, sampleCreate()); return err },
			wantErr: "dingtalk group.create: HTTP 403 with a non-JSON body (text/html)",
		},
		{
			name: "v1.0 user search 403 HTML", path: "/v1.0/contact/users/search", contentType: "text/html", status: 403,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.SearchUsers(ctx, "Alice", true, 10)
				return err
			},
			wantErr: "dingtalk user.search: HTTP 403 with a non-JSON body (text/html)",
		},
		{
			name: "legacy user by mobile 403 HTML", path: "/topapi/v2/user/getbymobile", contentType: "text/html;charset=UTF-8", status: 403,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.UserByMobile(ctx, "13800138000")
				return err
			},
			wantErr: "dingtalk user.by_mobile: HTTP 403 with a non-JSON body (text/html)",
		},
		{
			// A proxy in front of oapi.dingtalk.com answering its own page with 200.
			name: "legacy user get 200 HTML", path: "/topapi/v2/user/get", contentType: "text/html", status: 200,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.GetUser(ctx, "alice01")
				return err
			},
			wantErr: "dingtalk user.get: HTTP 200 with a non-JSON body (text/html)",
		},
		{
			name: "no content type", path: "/v1.0/im/group/create", contentType: "", status: 403,
			call:    func(ctx context.Context, c *Client) error { _, err := c.CreateGroup(ctx, sampleCreate()); return err },
			wantErr: "dingtalk group.create: HTTP 403 with a non-JSON body (unknown content type)",
		},
		{
			name: "content type with markup", path: "/v1.0/im/group/create", contentType: "text/<b>html</b>", status: 403,
			call:    func(ctx context.Context, c *Client) error { _, err := c.CreateGroup(ctx, sampleCreate()); return err },
			wantErr: "dingtalk group.create: HTTP 403 with a non-JSON body (unknown content type)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			calls := answerOnce(f, tt.path, tt.status, tt.contentType, htmlBanPage)
			err := f.seen(tt.call(testutil.Ctx(t), c))
			if err == nil {
				t.Fatal("no error")
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("%d requests, want exactly 1", n)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error\n%s\nwant\n%s", err, tt.wantErr)
			}
			ae := asAPIError(t, err)
			if !ae.NonJSONBody() || ae.Code != "" || ae.HTTPStatus != tt.status || ae.Message != "" {
				t.Errorf("APIError = %+v", ae)
			}
			if ae.Throttled() || ae.Retryable() || ae.QuotaExceeded() || IsQuotaExceeded(err) {
				t.Errorf("misclassified: %+v", ae)
			}
			if strings.Contains(err.Error(), "<") || strings.Contains(err.Error(), "blocked") {
				t.Errorf("error shows the body: %q", err)
			}
		})
	}
}
