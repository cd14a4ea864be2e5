package dingtalktest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// SetStandardGroupsAllowed models DingTalk support allow-listing the app for
// standard groups (conversationTag 0). Default false: only internal groups.
func (s *Server) SetStandardGroupsAllowed(allowed bool) {
	s.mu.Lock()
	s.standardAllowed = allowed
	s.mu.Unlock()
}

// SetCreateRateLimit allows at most perSecond create-group calls in any
// one-second window (a sliding window, as DingTalk counts): a call that
// would be the (perSecond+1)-th accepted within the last second gets 403
// Forbidden.AccessDenied.QpsLimitForAppkeyAndApi and does not count. 0 (the
// default) turns the limit off.
func (s *Server) SetCreateRateLimit(perSecond int) {
	s.mu.Lock()
	s.rateLimit = perSecond
	s.mu.Unlock()
}

// FailNextCreate queues an error response (DingTalk's error body with code and
// message) for the next create-group call. Queued responses are used in order,
// before ScriptCreateGroup's function.
func (s *Server) FailNextCreate(status int, code, message string) {
	s.FailNextCreateWith(Response{Status: status, Code: code, Message: message})
}

// FailNextCreateWith queues r for the next create-group call.
func (s *Server) FailNextCreateWith(r Response) {
	s.mu.Lock()
	s.createQueue = append(s.createQueue, r)
	s.mu.Unlock()
}

// ScriptCreateGroup installs fn, called for every authenticated create-group call
// that no queued response answered; a non-nil result answers the call instead of
// normal processing. nil removes the script.
func (s *Server) ScriptCreateGroup(fn func(req CreateGroupRequestRecord) *Response) {
	s.mu.Lock()
	s.createScript = fn
	s.mu.Unlock()
}

// CreateRequests returns every create-group call received, rejected ones included;
// a call still being answered has Status 0.
func (s *Server) CreateRequests() []CreateGroupRequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CreateGroupRequestRecord(nil), s.createReqs...)
}

// Groups returns the groups created, in order.
func (s *Server) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Group(nil), s.groups...)
}

// InstallBot makes the bot a member of the conversation, so that
// /v1.0/robot/groupMessages/send accepts it (DingTalk does not add the robot to
// the groups it creates).
func (s *Server) InstallBot(openConversationID string) {
	s.mu.Lock()
	s.botGroups[openConversationID] = true
	s.mu.Unlock()
}

type createResult struct {
	status int
	code   string
	msg    string
	reason string
	body   any
}

func (s *Server) handleCreateGroup(w http.ResponseWriter, r *http.Request) {
	rec := CreateGroupRequestRecord{Header: r.Header.Clone(), At: time.Now()}
	body, status, code, ok := s.authorize(w, r)
	rec.Raw = body
	if req, err := decodeGroupRequest(body); err == nil {
		rec.Request = req
	}
	// The call is recorded as soon as it arrives (Status 0 while it is being
	// answered, e.g. during a scripted delay) and updated with its outcome.
	s.mu.Lock()
	idx := len(s.createReqs)
	s.createReqs = append(s.createReqs, rec)
	s.notifyLocked()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.createReqs[idx] = rec
		s.notifyLocked()
		s.mu.Unlock()
	}()
	if !ok {
		rec.Status, rec.Code, rec.Reason = status, code, "rejected before validation"
		return
	}

	// scripted responses
	s.mu.Lock()
	var scripted *Response
	if len(s.createQueue) > 0 {
		scripted = &s.createQueue[0]
		s.createQueue = s.createQueue[1:]
	}
	script := s.createScript
	s.mu.Unlock()
	if scripted == nil && script != nil {
		scripted = script(rec)
	}
	if scripted != nil {
		rec.Scripted = true
		var created *createResult
		if scripted.CreateAnyway {
			res := s.createGroup(r.Context(), body)
			created = &res
			s.logf("create-group: scripted CreateAnyway → %d %s %s", res.status, res.code, res.reason)
		}
		if scripted.Delay > 0 {
			t := time.NewTimer(scripted.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				rec.Status, rec.Reason = 0, "client gave up during scripted delay"
				return
			case <-s.done:
				t.Stop()
				rec.Status, rec.Reason = 0, "server closed during scripted delay"
				panic(http.ErrAbortHandler) // drop the connection, answer nothing
			}
		}
		if scripted.Status != 0 {
			rec.Status, rec.Code, rec.Reason = scripted.Status, scripted.Code, "scripted response"
			if scripted.Body != nil {
				w.Header().Set("Content-Type", scripted.contentType())
				w.Header().Set("x-acs-request-id", newRequestID())
				w.WriteHeader(scripted.Status)
				_, _ = w.Write(scripted.Body)
				return
			}
			writeAPIError(w, scripted.Status, scripted.Code, scripted.Message)
			return
		}
		if created != nil { // already processed: answer with that outcome
			s.writeCreateResult(w, &rec, *created)
			return
		}
	}

	// rate limit
	s.mu.Lock()
	limited := false
	if s.rateLimit > 0 {
		// DingTalk counts calls per app in any one-second window: the
		// calls accepted in the last second, this one included.
		now := time.Now()
		recent := s.rateTimes[:0]
		for _, t := range s.rateTimes {
			if now.Sub(t) < time.Second {
				recent = append(recent, t)
			}
		}
		s.rateTimes = recent
		limited = len(recent) >= s.rateLimit
		if !limited {
			s.rateTimes = append(s.rateTimes, now)
		}
	}
	s.mu.Unlock()
	if limited {
		rec.Status, rec.Code, rec.Reason = http.StatusForbidden, CodeQPSLimit, "rate limit"
		writeAPIError(w, http.StatusForbidden, CodeQPSLimit, MsgQPSLimit)
		return
	}

	s.writeCreateResult(w, &rec, s.createGroup(r.Context(), body))
}

func (s *Server) writeCreateResult(w http.ResponseWriter, rec *CreateGroupRequestRecord, res createResult) {
	rec.Status, rec.Code, rec.Reason = res.status, res.code, res.reason
	if res.status != http.StatusOK {
		s.logf("create-group rejected: %d %s: %s", res.status, res.code, res.reason)
		writeAPIError(w, res.status, res.code, res.msg)
		return
	}
	writeAPI(w, http.StatusOK, res.body)
}

func invalid(reason string) createResult {
	return createResult{status: http.StatusBadRequest, code: CodeParameterInvalid, msg: MsgParameterInvalid, reason: reason}
}

// decodeGroupRequest decodes a create-group body strictly: every known field
// must have DingTalk's JSON type.
func decodeGroupRequest(body []byte) (*GroupRequest, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, errors.New("body is not a JSON object")
	}
	if fields == nil {
		return nil, errors.New("body is not a JSON object")
	}
	var req GroupRequest
	str := func(name string, dst **string) error {
		raw, ok := fields[name]
		if !ok || string(raw) == "null" {
			return nil
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return errors.New(name + " must be a string")
		}
		*dst = &v
		return nil
	}
	strs := func(name string, dst *[]string, present *bool) error {
		raw, ok := fields[name]
		if !ok || string(raw) == "null" {
			return nil
		}
		var v []string
		if err := json.Unmarshal(raw, &v); err != nil {
			return errors.New(name + " must be an array of strings")
		}
		if v == nil {
			v = []string{}
		}
		*dst = v
		if present != nil {
			*present = true
		}
		return nil
	}
	for _, f := range []struct {
		name string
		dst  **string
	}{{"name", &req.Name}, {"owner", &req.Owner}, {"ownerType", &req.OwnerType}, {"icon", &req.Icon}} {
		if err := str(f.name, f.dst); err != nil {
			return nil, err
		}
	}
	if err := strs("useridlist", &req.UserIDs, &req.HasUserIDs); err != nil {
		return nil, err
	}
	if err := strs("extidlist", &req.ExtIDs, nil); err != nil {
		return nil, err
	}
	if raw, ok := fields["conversationTag"]; ok && string(raw) != "null" {
		var v int64
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, errors.New("conversationTag must be an integer")
		}
		req.ConversationTag = &v
	}
	if raw, ok := fields["managementOptions"]; ok && string(raw) != "null" {
		var opts map[string]json.RawMessage
		if err := json.Unmarshal(raw, &opts); err != nil || opts == nil {
			return nil, errors.New("managementOptions must be an object")
		}
		req.ManagementOptions = make(map[string]int64)
		for k, v := range opts {
			if string(v) == "null" {
				continue
			}
			var n int32
			if err := json.Unmarshal(v, &n); err != nil {
				return nil, errors.New("managementOptions." + k + " must be an integer")
			}
			req.ManagementOptions[k] = int64(n)
		}
	}
	return &req, nil
}

func isManagementOption(name string) bool {
	switch name {
	case "mentionAllAuthority", "showHistoryType", "validationType", "searchable", "chatBannedType", "managementType":
		return true
	}
	return false
}

// createGroup validates body like DingTalk and, if valid, creates the group.
func (s *Server) createGroup(_ context.Context, body []byte) createResult {
	req, err := decodeGroupRequest(body)
	if err != nil {
		return invalid(err.Error())
	}
	if req.Name == nil {
		return invalid("name is required")
	}
	name := *req.Name
	if strings.TrimSpace(name) == "" {
		return invalid("name is blank")
	}
	if n := utf8.RuneCountInString(name); n > MaxGroupNameRunes {
		return invalid("name is longer than 20 characters")
	}
	if req.Owner == nil || *req.Owner == "" {
		return invalid("owner is required")
	}
	owner := *req.Owner
	if !req.HasUserIDs || len(req.UserIDs) == 0 {
		return invalid("useridlist is required and must not be empty")
	}
	if len(req.UserIDs) > MaxCreateMembers {
		return invalid("useridlist has more than 40 members")
	}
	if req.OwnerType != nil && *req.OwnerType != "emp" && *req.OwnerType != "ext" {
		return invalid("ownerType must be emp or ext")
	}
	tag := int64(2)
	if req.ConversationTag != nil {
		tag = *req.ConversationTag
		if tag != 0 && tag != 2 {
			return invalid("conversationTag must be 0 or 2")
		}
	}
	for k, v := range req.ManagementOptions {
		if !isManagementOption(k) {
			continue // unknown options are ignored, as by DingTalk's gateway
		}
		if v != 0 && v != 1 {
			return invalid("managementOptions." + k + " must be 0 or 1")
		}
	}
	if req.Icon != nil && *req.Icon != "" && !strings.HasPrefix(*req.Icon, "@") {
		return invalid("icon must be a mediaId (starting with @)")
	}
	if req.Icon != nil && *req.Icon == "" {
		return invalid("icon is empty")
	}
	for _, id := range req.ExtIDs {
		if id == "" {
			return invalid("extidlist has an empty entry")
		}
	}
	if len(req.ExtIDs) > 0 && tag == 2 {
		return invalid("internal groups (conversationTag 2) cannot have external members")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if problem := s.memberProblemLocked("useridlist", req.UserIDs); problem != "" {
		return invalid(problem)
	}
	seen := make(map[string]bool)
	var members []string
	for _, id := range req.UserIDs {
		if !seen[id] {
			seen[id] = true
			members = append(members, id)
		}
	}
	if !seen[owner] {
		return invalid("owner " + owner + " is not in useridlist")
	}
	if tag == 0 && !s.standardAllowed {
		return createResult{status: http.StatusBadRequest, code: CodePermissionFailed, msg: MsgPermissionFailed, reason: "standard groups need the app allow-listed"}
	}
	if !s.users[owner].Visible {
		return createResult{status: http.StatusBadRequest, code: CodePermissionFailed, msg: MsgOwnerNotVisible, reason: "owner " + owner + " is outside the app's visibility scope"}
	}
	g := Group{
		OpenConversationID: randomConversationID(),
		ChatID:             "chat" + randHex(32),
		ConversationTag:    tag,
		Name:               name,
		Owner:              owner,
		Members:            members,
		Request:            *req,
		CreatedAt:          time.Now(),
	}
	s.groups = append(s.groups, g)
	s.notifyLocked()
	return createResult{
		status: http.StatusOK,
		reason: "created " + g.OpenConversationID,
		body:   map[string]any{"conversationTag": tag, "openConversationId": g.OpenConversationID, "chatid": g.ChatID},
	}
}
