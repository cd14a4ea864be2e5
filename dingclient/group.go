package dingclient

import (
	"context"
	"errors"
	"fmt"
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
// Adding a member twice is harmless, but an HTTP 5xx or a timeout is still not
// retried: the chunk is reported as not added although DingTalk may have added
// it, and the caller may call again. Throttled calls (403 QpsLimit*, 429) are
// retried with back-off; an invalid token is refetched once.
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
	ep := endpoint{api: APIGroupUpdate, gen: genV1, path: "/v1.0/im/group/update", kind: kindDefault}
	for i := 0; i < len(ids); i += MaxMembersPerCall {
		chunk := ids[i:min(i+MaxMembersPerCall, len(ids))]
		in := struct {
			ChatID        string   `json:"chatid"`
			AddUserIDList []string `json:"add_useridlist"`
		}{chatID, chunk}
		// Any 2xx is success: errors of the v1.0 APIs are non-2xx, and the
		// success body's shape ({"success":true} or similar) is not documented.
		err := c.call(ctx, ep, in, nil)
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
