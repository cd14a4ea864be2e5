package dingtalktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Error codes and messages of the v1.0 APIs, as DingTalk documents them.
const (
	CodeInvalidAuthentication = "InvalidAuthentication"
	MsgInvalidAccessToken     = "不合法的access_token"
	CodeInvalidClient         = "invalidClientIdOrSecret"
	MsgInvalidClient          = "无效的clientId或者clientSecret"
	CodeBodyInvalid           = "body.invalid"
	MsgBodyMandatory          = "body is mandatory for this action"
	CodeParameterInvalid      = "parameter.invalid"
	MsgParameterInvalid       = "输入参数错误"
	CodePermissionFailed      = "permession.checkFailed" // sic: DingTalk's spelling
	MsgPermissionFailed       = "权限校验失败"
	MsgOwnerNotVisible        = "群主不在应用可见性内"
	CodeSystemError           = "system.error"
	MsgSystemError            = "请重试，若始终失败请提交工单"
	CodeQPSLimit              = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"
	MsgQPSLimit               = "调用该接口触发了应用维度的限流"
	CodeRobotCodeAuth         = "invalidParameter.robotCode.auth"
	MsgRobotCodeAuth          = "机器人权限校验不通过，请检查机器人是否归属于token对应的主应用名下"
	CodeMsgParamInvalid       = "invalidParameter.msgParam.invalid"
	MsgMsgParamInvalid        = "msgParam参数不合法"
	CodeMsgKeyInvalid         = "invalidParameter.msgKey.invalid"
	MsgMsgKeyInvalid          = "msgKey参数不合法"
	CodeRobotNotInGroup       = "resource.not.found"
	MsgRobotNotInGroup        = "机器人不在群内或群不存在"
)

// Limits enforced by the fake.
const (
	MaxGroupNameRunes  = 20
	MaxCreateMembers   = 40 // per-call useridlist cap (legacy chat/create doc)
	MaxOTOUsers        = 20
	MaxMsgParamBytes   = 15000
	maxRequestBodySize = 1 << 20
)

// Response is a scripted reply to an API call, overriding normal processing.
type Response struct {
	// Status is the HTTP status. 0 means "process normally after Delay".
	Status int
	// Code and Message build DingTalk's error body when Body is nil.
	Code, Message string
	// Body, if non-nil, is written verbatim (Content-Type application/json).
	Body []byte
	// Delay is waited before answering; a client that gives up first (request
	// context done) or Close cut it short.
	Delay time.Duration
	// CreateAnyway (create-group and group-update only) validates and creates
	// the group (applies the update) as a normal call would, then still answers
	// with this response: it models "the call failed or timed out but the
	// effect may have happened".
	CreateAnyway bool
}

// GroupRequest is a decoded create-group body. Pointer fields are nil when the
// field was absent (or null).
type GroupRequest struct {
	Name              *string
	Owner             *string
	OwnerType         *string
	UserIDs           []string
	HasUserIDs        bool
	ConversationTag   *int64
	ExtIDs            []string
	Icon              *string
	ManagementOptions map[string]int64
}

// CreateGroupRequestRecord is one call of POST /v1.0/im/group/create, recorded
// whether it succeeded or not.
type CreateGroupRequestRecord struct {
	// Raw is the body as received.
	Raw []byte
	// Request is the decoded body; nil when it did not decode.
	Request *GroupRequest
	// Header holds the request headers.
	Header http.Header
	// Status, Code and Reason are the outcome: HTTP status, error code ("" on
	// success) and a human explanation of the rejection (not sent to the client).
	Status int
	Code   string
	Reason string
	// Scripted is true when a scripted Response answered the call.
	Scripted bool
	At       time.Time
}

// Group is a group created through the API.
type Group struct {
	OpenConversationID string
	ChatID             string
	ConversationTag    int64
	Name               string
	Owner              string
	Members            []string
	Request            GroupRequest
	CreatedAt          time.Time
}

// ---- tokens ----

// TokenFetches is the number of token requests answered with a token.
func (s *Server) TokenFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenFetches
}

// ExpireTokens invalidates every issued access token; the next fetch returns a new one.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	s.tokens = make(map[string]time.Time)
	s.token = ""
	s.mu.Unlock()
}

// issueToken returns the current token, renewed, or a new one. DingTalk: fetching
// inside the validity window returns the same token and extends it.
func (s *Server) issueToken() string {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == "" || !now.Before(s.tokens[s.token]) {
		delete(s.tokens, s.token)
		s.token = randHex(32)
	}
	s.tokens[s.token] = now.Add(s.opts.TokenTTL)
	s.tokenFetches++
	return s.token
}

func (s *Server) validToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && time.Now().Before(exp)
}

func (s *Server) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	if !isJSONContentType(r) {
		writeAPIError(w, http.StatusBadRequest, CodeBodyInvalid, MsgBodyMandatory)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBodySize))
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		writeAPIError(w, http.StatusBadRequest, CodeBodyInvalid, MsgBodyMandatory)
		return
	}
	var req struct {
		AppKey    *string `json:"appKey"`
		AppSecret *string `json:"appSecret"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			writeAPIError(w, http.StatusBadRequest, CodeParameterInvalid, MsgParameterInvalid)
			return
		}
		writeAPIError(w, http.StatusBadRequest, CodeBodyInvalid, "body is not a valid json")
		return
	}
	if req.AppKey == nil || req.AppSecret == nil || *req.AppKey != s.opts.ClientID || *req.AppSecret != s.opts.ClientSecret {
		writeAPIError(w, http.StatusBadRequest, CodeInvalidClient, MsgInvalidClient)
		s.logf("accessToken: wrong credentials")
		return
	}
	tok := s.issueToken()
	writeAPI(w, http.StatusOK, map[string]any{"accessToken": tok, "expireIn": int64(s.opts.TokenTTL / time.Second)})
}

// handleLegacyToken is oapi.dingtalk.com/gettoken.
func (s *Server) handleLegacyToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("appkey") != s.opts.ClientID || q.Get("appsecret") != s.opts.ClientSecret {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"})
		return
	}
	tok := s.issueToken()
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": int64(s.opts.TokenTTL / time.Second)})
}

// authorize checks x-acs-dingtalk-access-token and the JSON body of a v1.0 call;
// on failure it writes the error and returns ok=false.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (body []byte, status int, code string, ok bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBodySize))
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, CodeBodyInvalid, MsgBodyMandatory)
		return body, http.StatusBadRequest, CodeBodyInvalid, false
	}
	if !s.validToken(r.Header.Get("x-acs-dingtalk-access-token")) {
		writeAPIError(w, http.StatusBadRequest, CodeInvalidAuthentication, MsgInvalidAccessToken)
		return body, http.StatusBadRequest, CodeInvalidAuthentication, false
	}
	if !isJSONContentType(r) || len(bytes.TrimSpace(body)) == 0 {
		writeAPIError(w, http.StatusBadRequest, CodeBodyInvalid, MsgBodyMandatory)
		return body, http.StatusBadRequest, CodeBodyInvalid, false
	}
	if !json.Valid(body) {
		writeAPIError(w, http.StatusBadRequest, CodeBodyInvalid, "body is not a valid json")
		return body, http.StatusBadRequest, CodeBodyInvalid, false
	}
	return body, 0, "", true
}

// ---- group create ----

// SetStandardGroupsAllowed models DingTalk support allow-listing the app for
// standard groups (conversationTag 0). Default false: only internal groups.
func (s *Server) SetStandardGroupsAllowed(allowed bool) {
	s.mu.Lock()
	s.standardAllowed = allowed
	s.mu.Unlock()
}

// SetCreateRateLimit allows at most perSecond create-group calls per 1-second
// window; calls beyond it get 403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi.
// 0 (the default) turns the limit off.
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
				w.Header().Set("Content-Type", "application/json;charset=utf-8")
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
		sec := time.Now().Unix()
		if sec != s.rateWindow {
			s.rateWindow, s.rateCount = sec, 0
		}
		s.rateCount++
		limited = s.rateCount > s.rateLimit
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

// ---- robot send APIs ----

// parseMsgParam validates msgKey/msgParam of the robot send APIs and returns the
// reply's type, title and text.
func parseMsgParam(msgKey, msgParam string) (msgType, title, text string, status int, code, msg string) {
	fail := func(c, m string) (string, string, string, int, string, string) {
		return "", "", "", http.StatusBadRequest, c, m
	}
	required := map[string][]string{
		"sampleText":     {"content"},
		"sampleMarkdown": {"title", "text"},
		"sampleLink":     {"text", "title", "messageUrl"},
		"sampleImageMsg": {"photoURL"},
	}
	req, ok := required[msgKey]
	if !ok {
		return fail(CodeMsgKeyInvalid, MsgMsgKeyInvalid)
	}
	if msgParam == "" || len(msgParam) > MaxMsgParamBytes {
		return fail(CodeMsgParamInvalid, MsgMsgParamInvalid)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(msgParam), &fields); err != nil || fields == nil {
		return fail(CodeMsgParamInvalid, MsgMsgParamInvalid)
	}
	get := func(k string) string { v, _ := fields[k].(string); return v }
	for _, k := range req {
		if v, isStr := fields[k].(string); !isStr || strings.TrimSpace(v) == "" {
			return fail(CodeMsgParamInvalid, MsgMsgParamInvalid)
		}
	}
	switch msgKey {
	case "sampleText":
		return "text", "", get("content"), 0, "", ""
	case "sampleMarkdown":
		return "markdown", get("title"), get("text"), 0, "", ""
	case "sampleLink":
		return "link", get("title"), get("text"), 0, "", ""
	default:
		return "image", "", get("photoURL"), 0, "", ""
	}
}

func (s *Server) handleGroupSend(w http.ResponseWriter, r *http.Request) {
	body, _, _, ok := s.authorize(w, r)
	if !ok {
		return
	}
	var req struct {
		MsgParam           *string `json:"msgParam"`
		MsgKey             *string `json:"msgKey"`
		OpenConversationID *string `json:"openConversationId"`
		RobotCode          *string `json:"robotCode"`
		CoolAppCode        *string `json:"coolAppCode"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeAPIError(w, http.StatusBadRequest, CodeParameterInvalid, MsgParameterInvalid)
		return
	}
	if req.MsgParam == nil || req.MsgKey == nil || req.OpenConversationID == nil || req.RobotCode == nil ||
		*req.OpenConversationID == "" {
		writeAPIError(w, http.StatusBadRequest, CodeParameterInvalid, MsgParameterInvalid)
		return
	}
	if *req.RobotCode != s.opts.ClientID {
		writeAPIError(w, http.StatusBadRequest, CodeRobotCodeAuth, MsgRobotCodeAuth)
		return
	}
	msgType, title, text, status, code, msg := parseMsgParam(*req.MsgKey, *req.MsgParam)
	if status != 0 {
		writeAPIError(w, status, code, msg)
		return
	}
	s.mu.Lock()
	inGroup := s.botGroups[*req.OpenConversationID]
	s.mu.Unlock()
	if !inGroup {
		writeAPIError(w, http.StatusBadRequest, CodeRobotNotInGroup, MsgRobotNotInGroup)
		return
	}
	s.addReply(Reply{Via: ViaGroupAPI, ConversationID: *req.OpenConversationID, MsgType: msgType, Title: title, Text: text, Raw: body})
	writeAPI(w, http.StatusOK, map[string]string{"processQueryKey": randHex(32)})
}

func (s *Server) handleOTOSend(w http.ResponseWriter, r *http.Request) {
	body, _, _, ok := s.authorize(w, r)
	if !ok {
		return
	}
	var req struct {
		RobotCode *string   `json:"robotCode"`
		UserIDs   *[]string `json:"userIds"`
		MsgKey    *string   `json:"msgKey"`
		MsgParam  *string   `json:"msgParam"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeAPIError(w, http.StatusBadRequest, CodeParameterInvalid, MsgParameterInvalid)
		return
	}
	if req.RobotCode == nil || req.UserIDs == nil || req.MsgKey == nil || req.MsgParam == nil {
		writeAPIError(w, http.StatusBadRequest, CodeParameterInvalid, MsgParameterInvalid)
		return
	}
	if n := len(*req.UserIDs); n == 0 || n > MaxOTOUsers {
		writeAPIError(w, http.StatusBadRequest, CodeParameterInvalid, "userIds数量必须在1到20之间")
		return
	}
	if *req.RobotCode != s.opts.ClientID {
		writeAPIError(w, http.StatusBadRequest, CodeRobotCodeAuth, MsgRobotCodeAuth)
		return
	}
	msgType, title, text, status, code, msg := parseMsgParam(*req.MsgKey, *req.MsgParam)
	if status != 0 {
		writeAPIError(w, status, code, msg)
		return
	}
	invalidIDs := []string{}
	var delivered []string
	s.mu.Lock()
	for _, id := range *req.UserIDs {
		if u, ok := s.users[id]; ok && u.Active && u.Visible {
			delivered = append(delivered, id)
		} else {
			invalidIDs = append(invalidIDs, id)
		}
	}
	s.mu.Unlock()
	for _, id := range delivered {
		s.addReply(Reply{Via: ViaOTOAPI, UserID: id, MsgType: msgType, Title: title, Text: text, Raw: body})
	}
	writeAPI(w, http.StatusOK, map[string]any{
		"processQueryKey":           randHex(32),
		"invalidStaffIdList":        invalidIDs,
		"flowControlledStaffIdList": []string{},
	})
}

// memberProblemLocked explains why ids cannot be group members, or returns
// "": each must be a known, active user of the organisation. field names the
// request field in the explanation. The caller holds s.mu.
func (s *Server) memberProblemLocked(field string, ids []string) string {
	for _, id := range ids {
		if id == "" {
			return field + " has an empty userid"
		}
		u, ok := s.users[id]
		if !ok {
			return field + ": unknown userid " + id
		}
		if !u.Active {
			return field + ": userid " + id + " is not active"
		}
	}
	return ""
}
