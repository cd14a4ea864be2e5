package commands

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/dingbot/dingbot/dingclient"
)

// DingTalk error codes FailedReply recognises (from DingTalk's global error
// code list and the create-group API page; "permession" is DingTalk's spelling).
const (
	codePermissionCheck   = "permession.checkFailed"
	codeParameterInvalid  = "parameter.invalid"
	codeSystemError       = "system.error"
	codeScopeDenied       = "Forbidden.AccessDenied.AccessTokenPermissionDenied"
	codeIPNotInWhiteList  = "Forbidden.AccessDenied.IpNotInWhiteList"
	codeMonthlyQuota      = "Forbidden.AccessDenied.ApiCountLimitForOrg"
	codeBadClientSecret   = "invalidClientIdOrSecret"
	scopeChatManage       = "qyapi_chat_manage"
	visibilityMessageZh   = "群主不在应用可见性内"
	visibilityMessageHint = "visib"
)

// NonTextReply is the reply to a message that is not text (a picture, a
// voice message, rich text), which carries no command.
func NonTextReply() Reply {
	return Reply{Text: newCatalogue().f(msgNonText)}
}

// CreatedReply is the reply after DingTalk created the group cg asked for;
// resp is DingTalk's answer (nil is tolerated).
func CreatedReply(cg *CreateGroup, resp *dingclient.CreateGroupResponse) Reply {
	c := newCatalogue()
	var req dingclient.CreateGroupRequest
	if cg != nil {
		req = cg.Request
	}
	lines := []string{c.f(msgCreated, req.Name)}
	tag, known := int64(0), false
	switch {
	case resp != nil:
		tag, known = resp.ConversationTag, true
	case req.ConversationTag != nil:
		tag, known = *req.ConversationTag, true
	}
	if known {
		var t string
		switch tag {
		case dingclient.ConversationTagInternal:
			t = c.f(msgGroupInternal)
		case dingclient.ConversationTagStandard:
			t = c.f(msgGroupStandard)
		default:
			t = c.f(msgGroupTagOther, tag)
		}
		lines = append(lines, c.f(msgCreatedType, t))
	}
	if req.Owner != "" {
		lines = append(lines, c.f(msgCreatedOwner, req.Owner))
	}
	lines = append(lines, c.f(msgCreatedMembers, len(req.UserIDs)))
	if len(req.ExtIDs) > 0 {
		lines = append(lines, c.f(msgCreatedExternal, len(req.ExtIDs)))
	}
	if resp != nil {
		if id := safeToken(resp.OpenConversationID); id != "" {
			lines = append(lines, c.f(msgCreatedOpenConversationID, id))
		}
		if id := safeToken(resp.ChatID); id != "" {
			lines = append(lines, c.f(msgCreatedChatID, id))
		}
	}
	return Reply{Text: strings.Join(lines, "\n")}
}

// FailedReply translates the error of a failed create into words a person can
// act on. It recognises *dingclient.APIError and
// *dingclient.OutcomeUnknownError (through errors.As, so wrapped errors
// work), context errors, and treats anything else as DingTalk being
// unreachable. It never includes Go error text; for DingTalk errors it ends
// with DingTalk's request ID when there is one.
func FailedReply(cg *CreateGroup, err error) Reply {
	c := newCatalogue()
	owner := c.f(msgTheOwner)
	if cg != nil && cg.Request.Owner != "" {
		owner = cg.Request.Owner
	}
	var (
		apiErr  *dingclient.APIError
		unknown *dingclient.OutcomeUnknownError
		text    string
	)
	hasAPI := errors.As(err, &apiErr) && apiErr != nil
	switch {
	case errors.As(err, &unknown):
		text = c.f(msgFailMaybeCreated)
	case hasAPI:
		text = apiErrorText(c, apiErr, owner)
	case errors.Is(err, context.DeadlineExceeded):
		text = c.f(msgFailTimeout)
	case errors.Is(err, context.Canceled):
		text = c.f(msgFailCanceled)
	default:
		text = c.f(msgFailUnreachable)
	}
	if hasAPI {
		if id := safeToken(apiErr.RequestID); id != "" {
			text += "\n" + c.f(msgRequestID, id)
		}
	}
	return Reply{Text: text}
}

// apiErrorText explains one DingTalk error response.
func apiErrorText(c catalogue, e *dingclient.APIError, owner string) string {
	code := e.Code
	switch {
	case strings.EqualFold(code, codePermissionCheck) || strings.EqualFold(code, "permission.checkFailed"):
		msg := strings.ToLower(e.Message)
		if strings.Contains(e.Message, visibilityMessageZh) || strings.Contains(msg, visibilityMessageHint) ||
			strings.Contains(e.Message, "可见") {
			return c.f(msgFailVisibility, owner)
		}
		return c.f(msgFailPermissionCheck)
	case code == codeParameterInvalid:
		return c.f(msgFailParameter)
	case code == codeScopeDenied:
		scopes := make([]string, 0, len(e.RequiredScopes))
		for _, s := range e.RequiredScopes {
			if s = safeToken(s); s != "" {
				scopes = append(scopes, s)
			}
		}
		if len(scopes) == 0 {
			scopes = append(scopes, scopeChatManage)
		}
		return c.f(msgFailScope, c.list(scopes, msgAnd))
	case code == codeIPNotInWhiteList:
		return c.f(msgFailIPWhitelist)
	case code == codeMonthlyQuota:
		return c.f(msgFailMonthlyQuota)
	case strings.EqualFold(code, codeBadClientSecret):
		return c.f(msgFailCredentials)
	case e.Throttled():
		return c.f(msgFailThrottled)
	case e.InvalidToken():
		return c.f(msgFailInvalidToken)
	case code == codeSystemError || e.HTTPStatus >= http.StatusInternalServerError:
		return c.f(msgFailMaybeCreated)
	}
	if code = safeToken(code); code != "" {
		return c.f(msgFailOtherCode, code)
	}
	return c.f(msgFailOtherStatus, e.HTTPStatus)
}

// safeToken returns s if it is a short identifier-like string (an ID, a code)
// fit to show in chat, else "". It keeps DingTalk's free text and anything
// that could hold markup or a URL out of replies.
func safeToken(s string) string {
	if s == "" || len(s) > 128 {
		return ""
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_.$*=+/", r): // base64 IDs (cid...==) too
		default:
			return ""
		}
	}
	return s
}
