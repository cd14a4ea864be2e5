package dingclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// codeMonthlyQuota is the v1.0 code of the organisation's exhausted monthly
// API quota (legacy errcode 90020).
const codeMonthlyQuota = "Forbidden.AccessDenied.ApiCountLimitForOrg"

// APIError is DingTalk's error response to a new-style (api.dingtalk.com/v1.0)
// call, or any non-2xx answer of a legacy one: a non-2xx HTTP status with a body like
//
//	{"code":"...","message":"...","requestid":"...","accessdenieddetail":{"requiredScopes":["..."]}}
//
// A body that is not that JSON shape gives an APIError with an empty Code:
// a body that is not JSON at all (an HTML page from an IP ban or a proxy)
// sets BodyType and reads "HTTP 403 with a non-JSON body (text/html)"; the
// gateway's {"status":1111,...} gives a short Message. The body itself is
// never kept. A legacy API's 2xx answer whose body is not JSON gives one too.
//
// DingTalk docs: https://open.dingtalk.com/document/development/server-api-error-codes-1
type APIError struct {
	// HTTPStatus is the HTTP status code of the response.
	HTTPStatus int
	// Code is DingTalk's error code, e.g. "permession.checkFailed" (sic); empty when the body was not DingTalk's JSON.
	Code string
	// Message is DingTalk's human-readable message.
	Message string
	// RequestID is DingTalk's request id (body "requestid", or the x-acs-request-id header).
	RequestID string
	// RequiredScopes lists the permission scopes the app lacks (accessdenieddetail.requiredScopes).
	RequiredScopes []string
	// API is the short name of the failed call, e.g. "group.create".
	API string
	// BodyType is the media type of a body that was not JSON, e.g.
	// "text/html" ("unknown content type" if the response named none);
	// empty when the body was JSON or empty. See NonJSONBody.
	BodyType string
}

// errorPrefix starts the message of a DingTalk error: "dingtalk <api>".
func errorPrefix(api string) *strings.Builder {
	var b strings.Builder
	b.WriteString("dingtalk ")
	if api == "" {
		api = "api"
	}
	b.WriteString(api)
	return &b
}

// Error returns e.g.
// `dingtalk group.create: HTTP 400 permession.checkFailed: 群主不在应用可见性内 (requestid 123)`,
// or `dingtalk group.create: HTTP 403 with a non-JSON body (text/html)`.
// It never contains URLs, tokens, secrets or a non-JSON body.
func (e *APIError) Error() string {
	b := errorPrefix(e.API)
	fmt.Fprintf(b, ": HTTP %d", e.HTTPStatus)
	if e.BodyType != "" {
		fmt.Fprintf(b, " with a non-JSON body (%s)", e.BodyType)
	}
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.RequiredScopes) > 0 {
		fmt.Fprintf(b, " (required scopes: %s)", strings.Join(e.RequiredScopes, ", "))
	}
	if e.RequestID != "" {
		fmt.Fprintf(b, " (requestid %s)", e.RequestID)
	}
	return b.String()
}

// Throttled reports whether DingTalk rejected the call at its gateway for rate
// limiting: HTTP 403 with a Forbidden.AccessDenied.QpsLimit* / QpmLimit* code,
// or HTTP 429 (system.busy / systemBusy). A throttled call was not executed, so
// retrying it is safe even for non-idempotent APIs.
//
// The organisation's monthly quota (QuotaExceeded) is never throttling.
func (e *APIError) Throttled() bool {
	if e == nil || e.QuotaExceeded() {
		return false
	}
	if e.HTTPStatus == http.StatusTooManyRequests {
		return true
	}
	return e.HTTPStatus == http.StatusForbidden &&
		(strings.HasPrefix(e.Code, "Forbidden.AccessDenied.QpsLimit") ||
			strings.HasPrefix(e.Code, "Forbidden.AccessDenied.QpmLimit"))
}

// perMinuteLimited reports a per-minute quota (QpmLimit*), which needs a longer back-off.
func (e *APIError) perMinuteLimited() bool {
	return e != nil && e.HTTPStatus == http.StatusForbidden &&
		strings.HasPrefix(e.Code, "Forbidden.AccessDenied.QpmLimit")
}

// QuotaExceeded reports DingTalk's Forbidden.AccessDenied.ApiCountLimitForOrg
// (HTTP 403): the organisation has used up its monthly quota of metered API
// calls (5 000 a month on the standard edition). Not retryable until the
// quota resets next month or an admin buys more; the legacy APIs say the same
// with errcode 90020 (LegacyError.QuotaExceeded). See IsQuotaExceeded.
func (e *APIError) QuotaExceeded() bool {
	return e != nil && e.Code == codeMonthlyQuota
}

// NonJSONBody reports whether the answer's body was not JSON at all: an HTML
// page from DingTalk's gateway when the caller IP is banned, or a proxy's
// page. Such an error has no Code; BodyType names the media type.
func (e *APIError) NonJSONBody() bool {
	return e != nil && e.BodyType != ""
}

// InvalidToken reports whether the access token was rejected (code
// InvalidAuthentication, or HTTP 401): the token must be fetched again.
func (e *APIError) InvalidToken() bool {
	if e == nil {
		return false
	}
	return e.Code == "InvalidAuthentication" || e.HTTPStatus == http.StatusUnauthorized
}

// PermissionDenied reports whether the app lacks a permission: a missing API
// scope (Forbidden.AccessDenied.AccessTokenPermissionDenied), a caller IP not
// in the allow-list (Forbidden.AccessDenied.IpNotInWhiteList), or DingTalk's
// permission check (permession.checkFailed, e.g. the owner is outside the app's
// visibility). Not retryable; an administrator must act.
func (e *APIError) PermissionDenied() bool {
	if e == nil {
		return false
	}
	switch e.Code {
	case "Forbidden.AccessDenied.AccessTokenPermissionDenied",
		"Forbidden.AccessDenied.IpNotInWhiteList",
		"permession.checkFailed":
		return true
	}
	return false
}

// Retryable reports whether the same request may succeed later: it was
// throttled, or DingTalk answered with a 5xx. For a 5xx the call may have been
// executed, so only idempotent calls should be retried; the caller decides.
// The monthly quota (QuotaExceeded) is never retryable.
func (e *APIError) Retryable() bool {
	if e == nil || e.QuotaExceeded() {
		return false
	}
	return e.Throttled() || e.HTTPStatus >= 500
}

// OutcomeUnknownError reports that a non-idempotent call (group creation)
// failed after the request may have reached DingTalk: an HTTP 5xx, a timeout,
// or a connection error after the request was written. The effect (a new
// group) may exist. The client never retries such a call.
type OutcomeUnknownError struct {
	// Op is the short API name, e.g. "group.create".
	Op string
	// Err is the underlying *APIError or transport error.
	Err error
}

// Error implements error.
func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("dingtalk %s: outcome unknown (the request may have been executed): %v", e.Op, e.Err)
}

// Unwrap returns the underlying error, so errors.As finds a wrapped *APIError.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// ErrSessionGone is returned (wrapped) by ReplyBySession when the session
// webhook has expired or is unknown (errcode 300001, "session 不存在"). The
// caller should fall back to the robot send APIs.
var ErrSessionGone = errors.New("dingtalk session webhook expired or unknown")

// WebhookError is a non-zero errcode in a session webhook response
// ({"errcode":...,"errmsg":...} with HTTP 200), other than 300001.
type WebhookError struct {
	// ErrCode is DingTalk's errcode.
	ErrCode int
	// ErrMsg is DingTalk's errmsg.
	ErrMsg string
}

// Error implements error.
func (e *WebhookError) Error() string {
	return fmt.Sprintf("dingtalk session.reply: errcode %d: %s", e.ErrCode, e.ErrMsg)
}

// parseAPIError decodes DingTalk's v1.0 error body. A body that is not that
// shape gives a Code-less APIError with a short description, never the raw
// body: a body that is not JSON at all sets BodyType.
func parseAPIError(api API, res *response) *APIError {
	e := &APIError{API: string(api), HTTPStatus: res.status, RequestID: res.header.Get("x-acs-request-id")}
	var body struct {
		Code      json.RawMessage `json:"code"`
		Message   string          `json:"message"`
		RequestID string          `json:"requestid"`
		Detail    *struct {
			RequiredScopes []string `json:"requiredScopes"`
		} `json:"accessdenieddetail"`
		// The anti-abuse gateway's IP-ban body: {"status":1111,"wait":5,...}.
		Status *int `json:"status"`
		Wait   *int `json:"wait"`
	}
	if err := json.Unmarshal(res.body, &body); err == nil {
		code := rawCode(body.Code)
		if code != "" || body.Message != "" {
			e.Code = code
			e.Message = truncate(body.Message, maxMessageLen)
			if body.RequestID != "" {
				e.RequestID = body.RequestID
			}
			if body.Detail != nil {
				e.RequiredScopes = body.Detail.RequiredScopes
			}
			return e
		}
		if body.Status != nil {
			e.Message = fmt.Sprintf("rejected by DingTalk's gateway (status %d", *body.Status)
			if body.Wait != nil {
				e.Message += fmt.Sprintf(", wait %d", *body.Wait)
			}
			e.Message += "; the caller IP may be banned for exceeding the per-IP limit)"
			return e
		}
	}
	switch {
	case len(bytes.TrimSpace(res.body)) == 0:
		e.Message = http.StatusText(res.status)
	case notJSON(res.body):
		// Not JSON at all: name the media type, never the body.
		e.BodyType = mediaType(res.header.Get("Content-Type"))
	default:
		e.Message = fmt.Sprintf("unexpected JSON response without an error code (%d bytes)", len(res.body))
	}
	return e
}

// notJSON reports whether body is not JSON at all (an HTML or text page),
// as opposed to JSON of an unexpected shape or cut short.
func notJSON(body []byte) bool {
	body = bytes.TrimSpace(body)
	return len(body) > 0 && body[0] != '{' && body[0] != '[' && !json.Valid(body)
}

// mediaType is the media type of a Content-Type header ("text/html" of
// "text/html; charset=utf-8"), lower-cased and fit for a log line, or
// "unknown content type".
func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "" || len(mt) > 64 || strings.ContainsFunc(mt, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("/.+-_", r))
	}) {
		return "unknown content type"
	}
	return mt
}

// outcome is what Observe reports for e: its Code, or "http_<status>" when it has none.
func (e *APIError) outcome() string {
	if e.Code != "" {
		return e.Code
	}
	return "http_" + strconv.Itoa(e.HTTPStatus)
}

// rawCode turns a JSON code that is a string or a number into a string.
func rawCode(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// truncate cuts s to at most n bytes (on a rune boundary) plus "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
