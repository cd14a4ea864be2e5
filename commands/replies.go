package commands

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

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
	codeBadClientSecret   = "invalidClientIdOrSecret"
	scopeChatManage       = "qyapi_chat_manage"
	visibilityMessageZh   = "群主不在应用可见性内"
	visibilityMessageHint = "visib"
)

// NonTextReply is the reply to a message that is not text, in lang ("" for
// the default language).
func (l *Language) NonTextReply(lang Lang) Reply {
	return Reply{Text: l.cat(l.replyLang(lang)).f(msgNonText)}
}

// createdReply is the reply after DingTalk created the group cg asked for;
// resp is DingTalk's answer (nil is tolerated). notAdded are the user IDs the
// bot could not add with the group-update API after creating the group with
// the first MaxMembers; the reply names them. People are shown by name where
// a name is known.
func (l *Language) createdReply(cg *CreateGroup, resp *dingclient.CreateGroupResponse, notAdded []string) Reply {
	return Reply{Text: createdText(l.cat(l.planLang(cg)), cg, resp, notAdded, true)}
}

// planLang is the reply language for p (nil: the default language).
func (l *Language) planLang(p Plan) Lang {
	if p == nil {
		return l.defaultLang
	}
	return l.replyLang(p.ReplyLang())
}

// maxListed is how many people a reply lists before "and N more".
const maxListed = 20

// personLabel is "Name (id)", or id when no name is known.
func personLabel(names map[string]string, id string) string {
	if n := sanitizeName(names[id]); n != "" && n != id {
		return n + " (" + id + ")"
	}
	return id
}

// shortList renders at most limit items joined as "a, b and N more".
func shortList(c catalogue, items []string, limit int) string {
	if len(items) > limit {
		rest := len(items) - limit
		items = append(items[:limit:limit], c.f(msgMore, rest))
	}
	return c.list(items, msgAnd)
}

// createdText renders the created reply; withNames adds display names.
func createdText(c catalogue, cg *CreateGroup, resp *dingclient.CreateGroupResponse, notAdded []string, withNames bool) string {
	var req dingclient.CreateGroupRequest
	var names map[string]string
	if cg != nil {
		req, names = cg.Request, cg.Names
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
		lines = append(lines, c.f(msgCreatedType, groupTypeText(c, tag)))
	}
	if req.Owner != "" {
		owner := req.Owner
		if withNames {
			owner = personLabel(names, req.Owner)
		}
		lines = append(lines, c.f(msgCreatedOwner, owner))
	}
	var members, missing []string
	for _, id := range req.UserIDs {
		if contains(notAdded, id) {
			missing = append(missing, personLabel(names, id))
			continue
		}
		members = append(members, id)
	}
	named := false
	shown := make([]string, len(members))
	for i, id := range members {
		shown[i] = id
		if n := sanitizeName(names[id]); n != "" {
			shown[i], named = n, true
		}
	}
	if withNames && named {
		lines = append(lines, c.f(msgCreatedMembersNamed, len(members), shortList(c, shown, maxListed)))
	} else {
		lines = append(lines, c.f(msgCreatedMembers, len(members)))
	}
	for _, id := range notAdded {
		if !contains(req.UserIDs, id) && validID(id) {
			missing = append(missing, personLabel(names, id))
		}
	}
	if len(missing) > 0 {
		lines = append(lines, c.f(msgNotAdded, len(missing), shortList(c, missing, maxListed)))
	}
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
	return strings.Join(lines, "\n")
}

// groupTypeText names a conversationTag.
func groupTypeText(c catalogue, tag int64) string {
	switch tag {
	case dingclient.ConversationTagInternal:
		return c.f(msgGroupInternal)
	case dingclient.ConversationTagStandard:
		return c.f(msgGroupStandard)
	}
	return c.f(msgGroupTagOther, tag)
}

// FailedReply translates the error of a failed DingTalk call into words a
// person can act on, in p's language (nil: the default language). It recognises *dingclient.APIError and
// *dingclient.OutcomeUnknownError (through errors.As, so wrapped errors
// work), context errors, and treats anything else as DingTalk being
// unreachable. It never includes Go error text; for DingTalk errors it ends
// with DingTalk's request ID when there is one. The owner is named.
func (l *Language) FailedReply(p Plan, err error) Reply {
	owner := ""
	if o, ok := p.(interface{ ownerLabel() string }); ok {
		owner = o.ownerLabel()
	}
	return Reply{Text: failedText(l.cat(l.planLang(p)), owner, err)}
}

// failedText renders FailedReply; owner is how to name the owner ("" if unknown).
func failedText(c catalogue, owner string, err error) string {
	if owner == "" {
		owner = c.f(msgTheOwner)
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
	case dingclient.IsQuotaExceeded(err): // legacy errcode 90020
		text = c.f(msgFailMonthlyQuota)
	case errors.Is(err, context.DeadlineExceeded):
		text = c.f(msgFailTimeout)
	case errors.Is(err, context.Canceled):
		text = c.f(msgFailCanceled)
	default:
		text = c.f(msgFailUnreachable)
	}
	if id := safeToken(requestID(err)); id != "" {
		text += "\n" + c.f(msgRequestID, id)
	}
	return text
}

// requestID is DingTalk's request ID in err's *dingclient.APIError or
// *dingclient.LegacyError, or "".
func requestID(err error) string {
	var apiErr *dingclient.APIError
	if errors.As(err, &apiErr) && apiErr != nil {
		return apiErr.RequestID
	}
	var le *dingclient.LegacyError
	if errors.As(err, &le) && le != nil {
		return le.RequestID
	}
	return ""
}

// lookupFailedText is the reply when looking people up failed.
func lookupFailedText(c catalogue, who []string, err error) string {
	text := c.f(msgLookupFailed, c.list(who, msgAnd))
	var apiErr *dingclient.APIError
	hasAPI := errors.As(err, &apiErr) && apiErr != nil
	reason := c.f(msgLookupRetry)
	if hasAPI {
		var scopes []string
		for _, s := range apiErr.RequiredScopes {
			if s = safeToken(s); s != "" {
				scopes = append(scopes, s)
			}
		}
		switch {
		case apiErr.Code == codeScopeDenied && len(scopes) > 0:
			reason = c.f(msgLookupScope, c.list(scopes, msgAnd))
		case apiErr.Code == codeIPNotInWhiteList:
			reason = c.f(msgFailIPWhitelist)
		case apiErr.QuotaExceeded():
			reason = c.f(msgLookupQuota)
		case apiErr.Throttled():
			reason = c.f(msgFailThrottled)
		case apiErr.InvalidToken() || strings.EqualFold(apiErr.Code, codeBadClientSecret):
			reason = c.f(msgFailInvalidToken)
		case apiErr.NonJSONBody():
			reason = c.f(msgLookupNonJSON, apiErr.HTTPStatus)
		}
	} else if dingclient.IsQuotaExceeded(err) { // legacy errcode 90020
		reason = c.f(msgLookupQuota)
	}
	text += c.sentenceSep() + reason
	if id := safeToken(requestID(err)); id != "" {
		text += "\n" + c.f(msgRequestID, id)
	}
	return text
}

// LookupFailedReply is the reply when looking up who (the person as typed,
// e.g. "@Alice" or "13800000000") failed with err, a DingTalk error: the
// command stopped there and did nothing. It never includes Go error text.
func (l *Language) LookupFailedReply(p Plan, who string, err error) Reply {
	return Reply{Text: lookupFailedText(l.cat(l.planLang(p)), []string{who}, err)}
}

// TooManyLookupsReply is the reply to a command that names n people to look
// up by mobile number or name when at most limit are looked up per command:
// nothing was looked up or done.
func (l *Language) TooManyLookupsReply(p Plan, n, limit int) Reply {
	return Reply{Text: l.cat(l.planLang(p)).f(msgTooManyLookups, n, limit)}
}

// CommandTimeoutReply is the reply when a command ran out of its time
// (limit) before it changed anything in DingTalk: nothing was created.
func (l *Language) CommandTimeoutReply(p Plan, limit time.Duration) Reply {
	c := l.cat(l.planLang(p))
	return Reply{Text: c.f(msgCommandTimeout, durationText(c, limit))}
}

// durationText shows d exactly in the largest unit that divides it ("2
// minutes", "90 seconds"), rounded up to whole seconds.
func durationText(c catalogue, d time.Duration) string {
	d = max((d+time.Second-1)/time.Second*time.Second, time.Second)
	for _, u := range timeUnits {
		if d%u.d == 0 {
			n, id := int(d/u.d), u.many
			if n == 1 {
				id = u.one
			}
			return c.f(msgAccessDuration, n, c.f(id))
		}
	}
	return c.f(msgAccessDuration, int(d/time.Second), c.f(msgAccessSeconds)) // not reached: seconds divide d
}

// unresolvedText is the reply listing the people who could not be resolved.
func unresolvedText(c catalogue, pp *People, notFound []PersonRef, ambiguous []ambiguity) string {
	lines := []string{c.f(msgUnresolvedIntro)}
	for _, ref := range notFound {
		if ref.Kind == RefMobile {
			lines = append(lines, "- "+c.f(msgNotFoundMobile, ref.Text, ref.Value))
		} else {
			lines = append(lines, "- "+c.f(msgNotFoundName, ref.Text, ref.Value))
		}
	}
	for _, a := range ambiguous {
		cands := make([]string, len(a.cands))
		for i, p := range a.cands {
			cands[i] = "userid:" + p.UserID
			if p.Name != "" {
				cands[i] = p.Name + " (userid:" + p.UserID + ")"
			}
		}
		lines = append(lines, "- "+c.f(msgAmbiguous, a.ref.Text, len(a.cands), shortList(c, cands, 10)))
	}
	if pp.plan != nil && len(pp.plan.nameRun) > 1 {
		for _, ref := range notFound {
			if ref.Kind == RefName && contains(pp.plan.nameRun[1:], ref.Text) {
				lines = append(lines, c.f(msgQuoteHint, ref.Text, `"`+strings.Join(pp.plan.nameRun, " ")+`"`))
				break
			}
		}
	}
	if len(ambiguous) > 0 {
		lines = append(lines, c.f(msgUnresolvedFix)) // the candidates above show their user IDs
	} else {
		lines = append(lines, c.f(msgUnresolvedFixNoIDs))
	}
	return strings.Join(lines, "\n")
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
	case e.QuotaExceeded():
		return c.f(msgFailMonthlyQuota)
	case strings.EqualFold(code, codeBadClientSecret):
		return c.f(msgFailCredentials)
	case e.Throttled():
		return c.f(msgFailThrottled)
	case e.InvalidToken():
		return c.f(msgFailInvalidToken)
	case code == codeSystemError || e.HTTPStatus >= http.StatusInternalServerError:
		return c.f(msgFailMaybeCreated)
	case e.NonJSONBody():
		return c.f(msgFailNonJSON, e.HTTPStatus)
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
