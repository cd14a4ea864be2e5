package dingclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// maxSearchSize is the largest page SearchUsers asks for.
const maxSearchSize = 100

// User is a member of the organisation's directory, as returned by GetUser.
type User struct {
	// UserID is the userId (staffId).
	UserID string `json:"userid"`
	// UnionID is the cross-organisation unionId.
	UnionID string `json:"unionid"`
	// Name is the display name.
	Name string `json:"name"`
	// Title is the job title.
	Title string `json:"title"`
	// Active is false for a user who has not activated DingTalk.
	Active bool `json:"active"`
	// Admin reports an organisation administrator.
	Admin bool `json:"admin"`
	// DeptIDs are the ids of the user's departments (dept_id_list).
	DeptIDs []int64 `json:"dept_id_list"`
}

// UserByMobile returns the userId of the active employee with the given mobile
// number, sent exactly as given (DingTalk matches the stored number, normally
// 11 digits without country code or separators: normalise before calling).
//
// Errcode 60121 (未找到该用户; departed staff are not found either) and 40104
// (企业中无效的手机号) give an error matching errors.Is(err, ErrUserNotFound)
// that also wraps the *LegacyError; errcode 60011 gives a *LegacyError whose
// PermissionDenied is true (scope qyapi_get_member_by_mobile); other errcodes
// give *LegacyError. Errcode -1, 90002, 90018 and HTTP 5xx are retried with
// back-off; an invalid token is refetched once. Exempt from the monthly quota.
//
// DingTalk docs: https://open.dingtalk.com/document/development/query-users-by-phone-number
//
//	POST https://oapi.dingtalk.com/topapi/v2/user/getbymobile?access_token=…
func (c *Client) UserByMobile(ctx context.Context, mobile string) (string, error) {
	if strings.TrimSpace(mobile) == "" {
		return "", errors.New("dingtalk user.by_mobile: empty mobile")
	}
	in := struct {
		Mobile string `json:"mobile"`
	}{mobile}
	var out struct {
		UserID string `json:"userid"`
	}
	ep := endpoint{api: APIUserByMobile, gen: genLegacy, path: "/topapi/v2/user/getbymobile", kind: kindRead}
	if err := c.call(ctx, ep, in, &out); err != nil {
		return "", notFound(err, errcodeUserNotFound, errcodeMobileInvalid)
	}
	if out.UserID == "" {
		return "", errors.New("dingtalk user.by_mobile: response has no userid")
	}
	return out.UserID, nil
}

// SearchUsers searches the organisation's directory by name (also pinyin or
// English name) and returns at most size userIds (1 ≤ size ≤ 100) from the
// first page; none is an empty slice, not an error. With exact, only full
// matches of the name count (fullMatchField 1); otherwise the match is fuzzy.
// Use GetUser to show the candidates' names.
//
// Errors are *APIError (documented: 400 parameter.error, 500 system.busy).
// Throttling and HTTP 5xx are retried with back-off (the call is a read); an
// invalid token is refetched once. Counts toward the monthly quota. Needs the
// qyapi_addresslist_search scope.
//
// DingTalk docs: https://open.dingtalk.com/document/development/address-book-search-user-id
//
//	POST /v1.0/contact/users/search
func (c *Client) SearchUsers(ctx context.Context, query string, exact bool, size int) ([]string, error) {
	if strings.TrimSpace(query) == "" {
		return nil, errors.New("dingtalk user.search: empty query")
	}
	if size < 1 || size > maxSearchSize {
		return nil, fmt.Errorf("dingtalk user.search: size %d is not in 1..%d", size, maxSearchSize)
	}
	in := struct {
		QueryWord      string `json:"queryWord"`
		Offset         int    `json:"offset"`
		Size           int    `json:"size"`
		FullMatchField int    `json:"fullMatchField,omitempty"`
	}{QueryWord: query, Offset: 0, Size: size}
	if exact {
		in.FullMatchField = 1
	}
	var out struct {
		HasMore    bool     `json:"hasMore"`
		TotalCount int64    `json:"totalCount"`
		List       []string `json:"list"`
	}
	ep := endpoint{api: APIUserSearch, gen: genV1, path: "/v1.0/contact/users/search", kind: kindRead}
	if err := c.call(ctx, ep, in, &out); err != nil {
		return nil, err
	}
	ids := make([]string, 0, min(len(out.List), size))
	for _, id := range out.List {
		if len(ids) == size {
			break
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// GetUser returns the directory entry of userID.
//
// Errcode 33012 (无效的userId) and 60121 give an error matching
// errors.Is(err, ErrUserNotFound) that also wraps the *LegacyError; errcode
// 60011 gives a *LegacyError whose PermissionDenied is true (scope
// qyapi_get_member); other errcodes give *LegacyError. Errcode -1, 90002,
// 90018 and HTTP 5xx are retried with back-off; an invalid token is refetched
// once. Exempt from the monthly quota.
//
// DingTalk docs: https://open.dingtalk.com/document/development/query-user-details
//
//	POST https://oapi.dingtalk.com/topapi/v2/user/get?access_token=…
func (c *Client) GetUser(ctx context.Context, userID string) (*User, error) {
	if userID == "" {
		return nil, errors.New("dingtalk user.get: empty userid")
	}
	in := struct {
		UserID   string `json:"userid"`
		Language string `json:"language"`
	}{userID, "zh_CN"}
	var out User
	ep := endpoint{api: APIUserGet, gen: genLegacy, path: "/topapi/v2/user/get", kind: kindRead}
	if err := c.call(ctx, ep, in, &out); err != nil {
		return nil, notFound(err, errcodeInvalidUserID, errcodeUserNotFound)
	}
	if out.UserID == "" {
		return nil, errors.New("dingtalk user.get: response has no userid")
	}
	return &out, nil
}
