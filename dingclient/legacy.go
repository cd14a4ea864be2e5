package dingclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Legacy (oapi.dingtalk.com) errcodes the client acts on.
// DingTalk docs: https://open.dingtalk.com/document/development/server-api-error-codes-1
const (
	errcodeSystemBusy    = -1    // 系统繁忙: retry with back-off
	errcodeInvalidToken  = 40014 // 不合法的access_token
	errcodeTokenExpired  = 42001 // access_token超时
	errcodeInvalidSecret = 40001 // Secret错误 / invalid token
	errcodeMobileInvalid = 40104 // 企业中无效的手机号
	errcodeInvalidUserID = 33012 // 无效的userId
	errcodeNoPermission  = 60011 // 没有调用该接口的权限
	errcodeUserNotFound  = 60121 // 未找到该用户
	errcodeQPSGlobal     = 90002 // global per-API QPS limit
	errcodeQPSApp        = 90018 // this app's per-API QPS limit
	errcodeMonthlyQuota  = 90020 // monthly call quota exhausted: not retryable
)

// ErrUserNotFound is returned (wrapped together with the *LegacyError) by
// UserByMobile and GetUser when DingTalk knows no such active user: errcode
// 60121 (未找到该用户), 40104 (企业中无效的手机号, the mobile is not valid in
// the organisation) or 33012 (无效的userId). Test with errors.Is.
var ErrUserNotFound = errors.New("dingtalk user not found")

// LegacyError is a non-zero errcode in the HTTP 200 answer of a legacy
// (oapi.dingtalk.com) API, {"errcode":60121,"errmsg":"未找到该用户","request_id":"..."}.
// The errcode is decoded whether DingTalk sends it as a number or a string.
//
// DingTalk docs: https://open.dingtalk.com/document/development/server-api-error-codes-1
type LegacyError struct {
	// ErrCode is DingTalk's errcode, e.g. 60121.
	ErrCode int
	// ErrMsg is DingTalk's errmsg.
	ErrMsg string
	// RequestID is DingTalk's request_id, if any.
	RequestID string
	// API is the short name of the failed call, e.g. "user.by_mobile".
	API string
}

// Error returns e.g. `dingtalk user.by_mobile: errcode 60121: 未找到该用户 (request_id 5w8)`.
// It never contains URLs or tokens.
func (e *LegacyError) Error() string {
	b := errorPrefix(e.API)
	fmt.Fprintf(b, ": errcode %d", e.ErrCode)
	if e.ErrMsg != "" {
		b.WriteString(": ")
		b.WriteString(e.ErrMsg)
	}
	if e.RequestID != "" {
		fmt.Fprintf(b, " (request_id %s)", e.RequestID)
	}
	return b.String()
}

// Throttled reports whether DingTalk asked the caller to slow down: errcode -1
// (系统繁忙, system busy), 90002 (global per-API QPS limit) or 90018 (this
// app's per-API QPS limit). The client retries these with back-off. The
// monthly quota (90020) is not throttling: it is not retryable.
func (e *LegacyError) Throttled() bool {
	if e == nil {
		return false
	}
	switch e.ErrCode {
	case errcodeSystemBusy, errcodeQPSGlobal, errcodeQPSApp:
		return true
	}
	return false
}

// InvalidToken reports whether the access token was rejected (errcode 40014,
// 42001 or 40001): the token must be fetched again.
func (e *LegacyError) InvalidToken() bool {
	if e == nil {
		return false
	}
	switch e.ErrCode {
	case errcodeInvalidToken, errcodeTokenExpired, errcodeInvalidSecret:
		return true
	}
	return false
}

// PermissionDenied reports errcode 60011 (没有调用该接口的权限): the app lacks
// the API's permission scope. Not retryable; an administrator must act.
func (e *LegacyError) PermissionDenied() bool {
	return e != nil && e.ErrCode == errcodeNoPermission
}

// QuotaExceeded reports errcode 90020: the organisation's monthly API call
// quota is used up. Not retryable until the quota resets or is raised.
func (e *LegacyError) QuotaExceeded() bool {
	return e != nil && e.ErrCode == errcodeMonthlyQuota
}

// Retryable reports whether the same request may succeed later (Throttled).
func (e *LegacyError) Retryable() bool { return e.Throttled() }

// IsQuotaExceeded reports whether err is, or wraps, DingTalk's answer that
// the organisation has used up its monthly API quota: an *APIError with code
// Forbidden.AccessDenied.ApiCountLimitForOrg or a *LegacyError with errcode
// 90020. The client never retries it; only an admin (buying more calls) or
// the next month helps.
func IsQuotaExceeded(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) && ae.QuotaExceeded() {
		return true
	}
	var le *LegacyError
	return errors.As(err, &le) && le.QuotaExceeded()
}

// IsPermissionDenied reports whether err is, or wraps, an *APIError or a
// *LegacyError whose PermissionDenied method reports true: the app lacks a
// permission scope, the caller IP is not allow-listed, or DingTalk's
// permission check failed (v1.0), or legacy errcode 60011.
func IsPermissionDenied(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) && ae.PermissionDenied() {
		return true
	}
	var le *LegacyError
	return errors.As(err, &le) && le.PermissionDenied()
}

// legacyEnvelope is the common part of a legacy API's answer.
type legacyEnvelope struct {
	ErrCode   json.RawMessage `json:"errcode"`
	ErrMsg    string          `json:"errmsg"`
	RequestID string          `json:"request_id"`
	Result    json.RawMessage `json:"result"`
}

// genLegacy is the oapi.dingtalk.com generation (/topapi/...): the token
// goes in the access_token query parameter (never in errors or logs), and
// DingTalk answers HTTP 200 with an errcode. Errcode 0 is a success whose
// "result" is decoded into out; invalid-token errcodes (40014, 42001, 40001)
// refetch the token once; -1/90002/90018 are retried with back-off up to
// RetryPolicy.MaxAttempts; other errcodes give *LegacyError. Non-2xx answers
// (from the gateway) give *APIError and are handled as for genV1; both legacy
// calls are reads (kindRead), so an HTTP 5xx is retried with back-off.
var genLegacy = &generation{
	target: func(c *Client, path, token string) (string, string) {
		return c.oapiURL + path + "?access_token=" + url.QueryEscape(token), ""
	},
	decode: decodeLegacy,
	unmarshal: func(api API, _ int, result []byte, out any) error {
		if len(result) == 0 || string(result) == "null" {
			return fmt.Errorf("dingtalk %s: response has no result", api)
		}
		if err := json.Unmarshal(result, out); err != nil {
			return fmt.Errorf("dingtalk %s: decoding result: %w", api, err)
		}
		return nil
	},
}

// decodeLegacy reads the HTTP 2xx answer of a legacy API: a success, a
// *LegacyError, or (outcome "invalid_response") a body that is not the
// expected JSON: an *APIError with BodyType set when it is not JSON at all.
func decodeLegacy(api API, res *response) answer {
	var env legacyEnvelope
	if err := json.Unmarshal(res.body, &env); err != nil {
		if notJSON(res.body) {
			// A proxy's (or a gateway's) page: say so, never the body.
			return answer{outcome: "invalid_response", err: &APIError{API: string(api), HTTPStatus: res.status,
				RequestID: res.header.Get("x-acs-request-id"), BodyType: mediaType(res.header.Get("Content-Type"))}}
		}
		return answer{outcome: "invalid_response",
			err: fmt.Errorf("dingtalk %s: undecodable HTTP %d response (%d bytes)", api, res.status, len(res.body))}
	}
	code, ok := legacyCode(env.ErrCode)
	if !ok {
		return answer{outcome: "invalid_response", requestID: env.RequestID,
			err: fmt.Errorf("dingtalk %s: errcode %q is not a number", api, truncate(rawCode(env.ErrCode), 32))}
	}
	if code == 0 {
		return answer{outcome: "ok", requestID: env.RequestID, result: env.Result}
	}
	le := &LegacyError{ErrCode: code, ErrMsg: truncate(env.ErrMsg, maxMessageLen), RequestID: env.RequestID, API: string(api)}
	return answer{outcome: strconv.Itoa(code), requestID: env.RequestID, err: le,
		invalidToken: le.InvalidToken(), throttled: le.Throttled(), quota: le.QuotaExceeded()}
}

// legacyCode decodes a legacy errcode sent as a number or a string ("0");
// an absent or null errcode counts as 0. ok is false for anything else.
func legacyCode(raw json.RawMessage) (code int, ok bool) {
	s := strings.TrimSpace(rawCode(raw))
	if s == "" {
		return 0, len(raw) == 0 || string(raw) == "null"
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, false
	}
	return n, true
}

// notFound wraps le with ErrUserNotFound when its errcode is one of codes.
func notFound(err error, codes ...int) error {
	var le *LegacyError
	if errors.As(err, &le) {
		for _, c := range codes {
			if le.ErrCode == c {
				return fmt.Errorf("%w: %w", ErrUserNotFound, err)
			}
		}
	}
	return err
}
