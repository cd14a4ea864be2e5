package dingclient

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	ep := endpoint{api: APIGroupCreate, gen: genV1, path: "/v1.0/im/group/create", kind: kindNonIdempotent}
	if err := c.call(ctx, ep, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateGroup changes the name, the owner or the members of the group
// req.ChatID, a chatid CreateGroup returned (DingTalk refuses chatids obtained
// through the client-side JSAPI). Empty fields are left out and keep their
// setting. DingTalk's rules: a name has 1–20 characters; the new owner must
// already be a member, so adding a user and making them owner takes two calls;
// the owner cannot be removed, not even in the call that hands ownership
// over; each list holds at most MaxMembersPerCall ids
// (UpdateGroup sends them as given; AddGroupMembers splits longer lists) and a
// group at most 1000 members. A request with nothing to change, or with an
// empty id, is refused without a call.
//
// Retries: a request that only sets the name and/or the owner gives the same
// group however often it runs, so an HTTP 5xx answer is retried with back-off
// like throttling. A request that adds or removes members is not retried
// after an HTTP 5xx: a removal repeated seconds later can undo a member's
// re-joining in between, DingTalk does not document its answer to removing a
// non-member, and each change posts a notice in the group; the caller gets
// the *APIError and decides (re-adding a member is harmless, and
// AddGroupMembers reports the ids concerned). Timeouts and transport errors
// are never retried; calling again with a name or owner is harmless.
// Throttled calls (403 QpsLimit*, 429) are retried; an invalid token is
// refetched once.
//
// Errors are *APIError: 400 parameter.invalid (unknown chatid, unknown or
// departed user, owner not a member, owner removed, bad name), or a missing
// qyapi_chat_manage scope (403 Forbidden.AccessDenied.AccessTokenPermissionDenied,
// PermissionDenied reports it).
//
// DingTalk docs: https://open.dingtalk.com/document/development/api-updategroup
//
//	POST /v1.0/im/group/update
func (c *Client) UpdateGroup(ctx context.Context, req *UpdateGroupRequest) error {
	switch {
	case req == nil:
		return errors.New("dingtalk group.update: nil request")
	case req.ChatID == "":
		return errors.New("dingtalk group.update: empty chatid")
	case slices.Contains(req.AddUserIDs, "") || slices.Contains(req.DelUserIDs, ""):
		return errors.New("dingtalk group.update: empty user id")
	case req.Name == "" && req.Owner == "" && len(req.AddUserIDs) == 0 && len(req.DelUserIDs) == 0:
		return errors.New("dingtalk group.update: nothing to update")
	}
	ep := endpoint{api: APIGroupUpdate, gen: genV1, path: "/v1.0/im/group/update", kind: kindDefault}
	if len(req.AddUserIDs) == 0 && len(req.DelUserIDs) == 0 {
		ep.kind = kindRead // a rename or an owner change is safe to repeat
	}
	// Any 2xx is success: errors of the v1.0 APIs are non-2xx, and the
	// success body's shape ({"success":true} or similar) is not documented.
	return c.call(ctx, ep, req, nil)
}

// MaxMembersPerCall is DingTalk's per-call member limit: the most userIds one
// group-create call (useridlist, owner included) or one group-update call
// (add_useridlist) may carry. CreateGroup sends its list as given;
// AddGroupMembers splits its ids into calls of at most this many.
const MaxMembersPerCall = 40

// FailedChunk is one group-update call of AddGroupMembers that did not add
// its members, or members never sent because an earlier call failed.
type FailedChunk struct {
	// UserIDs are the ids of the call.
	UserIDs []string
	// Err is the *APIError (or transport or context error) of the call, or, for
	// ids never sent, the error that stopped AddGroupMembers.
	Err error
	// NotAttempted is true for ids never sent.
	NotAttempted bool
}

// AddMembersError reports the members AddGroupMembers could not add, chunk by
// chunk. errors.As finds the chunks' *APIError through it.
type AddMembersError struct {
	// Failed lists the failed (and unattempted) chunks, in order.
	Failed []FailedChunk
}

// Error implements error.
func (e *AddMembersError) Error() string {
	var b strings.Builder
	n := 0
	for _, f := range e.Failed {
		n += len(f.UserIDs)
	}
	fmt.Fprintf(&b, "dingtalk group.update: %d member(s) not added", n)
	for _, f := range e.Failed {
		if f.NotAttempted {
			fmt.Fprintf(&b, "; %d not attempted", len(f.UserIDs))
			continue
		}
		fmt.Fprintf(&b, "; %d: %v", len(f.UserIDs), f.Err)
	}
	return b.String()
}

// Unwrap returns the chunks' errors, for errors.Is and errors.As.
func (e *AddMembersError) Unwrap() []error {
	errs := make([]error, 0, len(e.Failed))
	for _, f := range e.Failed {
		if f.Err != nil && !f.NotAttempted {
			errs = append(errs, f.Err)
		}
	}
	return errs
}

// AddGroupMembers adds userIDs (staffIds) to the group chatID (the chatid
// returned by CreateGroup) in calls of at most MaxMembersPerCall (40) ids;
// duplicates are sent once and an empty list does nothing. A group holds at
// most 1000 members.
//
// It returns the ids that were not added, and then an *AddMembersError with
// one FailedChunk per failed call: its ids and its error (an *APIError, e.g.
// 400 parameter.invalid when the chunk names an unknown or departed user; a
// chunk is all or nothing). After a chunk-specific rejection (HTTP 400 other
// than an invalid token or a permission error) the next chunks are still
// sent; any other failure (permission, token, throttled past the retry
// budget, HTTP 5xx, transport error, cancelled context) stops the loop and the
// remaining ids are reported NotAttempted.
//
// Each call is an UpdateGroup adding members, so an HTTP 5xx or a timeout is
// not retried: the chunk is reported as not added although DingTalk may have
// added it, and the caller may call again (adding a member twice is
// harmless). Throttled calls (403 QpsLimit*, 429) are retried with back-off;
// an invalid token is refetched once.
//
// DingTalk docs: https://open.dingtalk.com/document/development/api-updategroup
// (limits: https://open.dingtalk.com/document/development/modify-a-group-session)
//
//	POST /v1.0/im/group/update
func (c *Client) AddGroupMembers(ctx context.Context, chatID string, userIDs []string) (notAdded []string, err error) {
	ids := make([]string, 0, len(userIDs))
	seen := make(map[string]bool, len(userIDs))
	for _, id := range userIDs {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if chatID == "" {
		return ids, errors.New("dingtalk group.update: empty chatid")
	}
	if seen[""] {
		return ids, errors.New("dingtalk group.update: empty user id")
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var failed AddMembersError
	for i := 0; i < len(ids); i += MaxMembersPerCall {
		chunk := ids[i:min(i+MaxMembersPerCall, len(ids))]
		err := c.UpdateGroup(ctx, &UpdateGroupRequest{ChatID: chatID, AddUserIDs: chunk})
		if err == nil {
			continue
		}
		notAdded = append(notAdded, chunk...)
		failed.Failed = append(failed.Failed, FailedChunk{UserIDs: chunk, Err: err})
		if !chunkSpecific(err) {
			if rest := ids[i+len(chunk):]; len(rest) > 0 {
				notAdded = append(notAdded, rest...)
				failed.Failed = append(failed.Failed, FailedChunk{UserIDs: rest, Err: err, NotAttempted: true})
			}
			break
		}
	}
	if len(failed.Failed) == 0 {
		return nil, nil
	}
	return notAdded, &failed
}

// chunkSpecific reports whether a group-update failure concerns only that
// call's content (HTTP 400 other than token or permission errors), so the
// next chunk may still succeed.
func chunkSpecific(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.HTTPStatus == 400 && !ae.InvalidToken() && !ae.PermissionDenied()
}
