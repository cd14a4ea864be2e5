package dingclient

import (
	"context"
	"errors"
)

// CreateGroup creates a DingTalk group (an internal group unless
// ConversationTag says otherwise) and returns its identifiers.
//
// The API has no idempotency key, so the call is never retried once it may
// have reached DingTalk: an HTTP 5xx (e.g. 500 system.error), a timeout or a
// connection failure after sending gives *OutcomeUnknownError wrapping the
// *APIError or transport error; the group may exist. A throttled call (403
// QpsLimit*, 429) was not executed and is retried with back-off. Documented
// errors: 400 parameter.invalid, 400 permession.checkFailed (权限校验失败, or
// 群主不在应用可见性内: the owner is outside the app's visibility).
//
// DingTalk docs: https://open.dingtalk.com/document/development/create-common-group-new-version-v2
//
//	POST /v1.0/im/group/create
func (c *Client) CreateGroup(ctx context.Context, req *CreateGroupRequest) (*CreateGroupResponse, error) {
	if req == nil {
		return nil, errors.New("dingtalk group.create: nil request")
	}
	var out CreateGroupResponse
	if err := c.call(ctx, apiGroupCreate, "/v1.0/im/group/create", true, true, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
