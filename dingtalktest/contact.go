package dingtalktest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Paths of the user-lookup and group-update endpoints, as passed to
// LookupCalls, Calls, FailNext and FailNextLegacy (PathConversationRobots and
// PathRobotGroupSend are recorded and scriptable the same way).
const (
	// PathUserByMobile is the legacy user-by-mobile API (oapi.dingtalk.com, access_token query parameter).
	PathUserByMobile = "/topapi/v2/user/getbymobile"
	// PathUserGet is the legacy user-details API (oapi.dingtalk.com, access_token query parameter).
	PathUserGet = "/topapi/v2/user/get"
	// PathUserSearch is the v1.0 directory search (x-acs-dingtalk-access-token header).
	PathUserSearch = "/v1.0/contact/users/search"
	// PathGroupUpdate is the v1.0 group update (x-acs-dingtalk-access-token header).
	PathGroupUpdate = "/v1.0/im/group/update"
)

// Legacy (oapi.dingtalk.com) errcodes and errmsgs, answered with HTTP 200 as
// {"errcode":…,"errmsg":…,"request_id":…}. (ErrcodeInvalidParam, 40035, is the
// webhooks' code; the topapi APIs use ErrcodeInvalidParameter, 400002.)
const (
	ErrcodeOK               = 0
	ErrcodeSystemBusy       = -1
	ErrmsgSystemBusy        = "系统繁忙"
	ErrcodeInvalidToken     = 40014
	ErrmsgInvalidToken      = "不合法的access_token"
	ErrcodeInvalidParameter = 400002
	ErrmsgInvalidParameter  = "无效的参数"
	ErrcodeMobileInvalid    = 40104
	ErrmsgMobileInvalid     = "企业中无效的手机号"
	ErrcodeUserNotFound     = 60121
	ErrmsgUserNotFound      = "未找到该用户"
	ErrcodeInvalidUserID    = 33012
	ErrmsgInvalidUserID     = "无效的userId"
	ErrcodeNoPermission     = 60011
	ErrmsgNoPermission      = "没有调用该接口的权限"
	ErrcodeQPSLimitApp      = 90018
	ErrcodeQPSLimitGlobal   = 90002
	ErrcodeMonthlyQuota     = 90020
)

// Codes of the v1.0 contact search and limits of the new endpoints.
const (
	// CodeParameterError is /v1.0/contact/users/search's documented 400 code.
	CodeParameterError = "parameter.error"
	// MsgParameterError is the fake's message for it (DingTalk's text is not documented).
	MsgParameterError = "参数错误"
	// CodeSystemBusy is the search API's documented 500 code.
	CodeSystemBusy = "system.busy"
	// MaxSearchSize is the largest size the fake's search accepts (DingTalk documents no
	// number; the fake's assumption).
	MaxSearchSize = 100
	// MaxUpdateMembers caps add_useridlist and del_useridlist per update call
	// (legacy update doc: 每次最多支持40人).
	MaxUpdateMembers = 40
	// MaxGroupMembers is the group size cap (群人数上限为1000).
	MaxGroupMembers = 1000
)

// CallRecord is one call of a user-lookup or group-update endpoint, recorded
// whether it succeeded or not.
type CallRecord struct {
	// Path is the endpoint, e.g. PathUserByMobile.
	Path string
	// Raw is the request body as received.
	Raw []byte
	// Header holds the request headers.
	Header http.Header
	// TokenInQuery reports an access_token query parameter (the legacy APIs' way).
	TokenInQuery bool
	// Status is the HTTP status answered (200 for every legacy answer).
	Status int
	// Code is the outcome: the v1.0 error code ("" on success) or, for the
	// legacy APIs, the errcode as a decimal string ("0" on success).
	Code string
	// Reason explains a rejection (not sent to the client).
	Reason string
	// Scripted is true when a scripted Response answered the call.
	Scripted bool
	At       time.Time
}

// UpdateGroupRequest is a decoded group-update body. Pointer fields are nil
// when the field was absent (or null).
type UpdateGroupRequest struct {
	ChatID       *string
	Name         *string
	Owner        *string
	AddUserIDs   []string
	DelUserIDs   []string
	HasAddUserID bool
	HasDelUserID bool
}

// UpdateGroupRequestRecord is one call of POST /v1.0/im/group/update.
type UpdateGroupRequestRecord struct {
	// Raw is the body as received.
	Raw []byte
	// Request is the decoded body; nil when it did not decode.
	Request *UpdateGroupRequest
	// Header holds the request headers.
	Header http.Header
	// Status, Code and Reason are the outcome, as in CreateGroupRequestRecord.
	Status int
	Code   string
	Reason string
	// Scripted is true when a scripted Response answered the call.
	Scripted bool
	At       time.Time
}

// LookupCalls is the number of calls received by the endpoint path (one of
// the Path… constants), rejected ones included.
func (s *Server) LookupCalls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls[path])
}

// Calls returns every call received by the endpoint path, in order.
func (s *Server) Calls(path string) []CallRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallRecord(nil), s.calls[path]...)
}

// UpdateRequests returns every group-update call received, rejected ones included.
func (s *Server) UpdateRequests() []UpdateGroupRequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]UpdateGroupRequestRecord(nil), s.updateReqs...)
}

// FailNext queues r as the answer to the next authenticated call of the
// endpoint path (one of the Path… constants). A Status of 0 processes the call
// normally after r.Delay. For the v1.0 endpoints Code and Message build
// DingTalk's error body; for the legacy endpoints use Body (or FailNextLegacy).
// CreateAnyway processes the call first, then answers r: for PathGroupUpdate
// the update is applied, for PathConversationRobots the robot is added, for
// PathRobotGroupSend the message is posted (recorded by Replies).
func (s *Server) FailNext(path string, r Response) {
	s.mu.Lock()
	s.callQueue[path] = append(s.callQueue[path], r)
	s.mu.Unlock()
}

// FailNextLegacy queues an HTTP 200 {"errcode":errcode,"errmsg":errmsg} answer
// for the next authenticated call of a legacy endpoint (PathUserByMobile,
// PathUserGet), e.g. ErrcodeSystemBusy or ErrcodeNoPermission.
func (s *Server) FailNextLegacy(path string, errcode int, errmsg string) {
	b, _ := json.Marshal(map[string]any{"errcode": errcode, "errmsg": errmsg, "request_id": strings.ToLower(randHex(12))})
	s.FailNext(path, Response{Status: http.StatusOK, Code: strconv.Itoa(errcode), Body: b})
}

// FailNextSearch queues an error answer (e.g. 500 system.busy) for the next
// authenticated /v1.0/contact/users/search call.
func (s *Server) FailNextSearch(status int, code, message string) {
	s.FailNext(PathUserSearch, Response{Status: status, Code: code, Message: message})
}

// FailNextUpdate queues an error answer for the next authenticated
// /v1.0/im/group/update call.
func (s *Server) FailNextUpdate(status int, code, message string) {
	s.FailNext(PathGroupUpdate, Response{Status: status, Code: code, Message: message})
}

// addCall records rec under its path.
func (s *Server) addCall(rec CallRecord) {
	s.mu.Lock()
	s.calls[rec.Path] = append(s.calls[rec.Path], rec)
	s.notifyLocked()
	s.mu.Unlock()
}

// nextScripted pops the queued response of path, if any.
func (s *Server) nextScripted(path string) *Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.callQueue[path]
	if len(q) == 0 {
		return nil
	}
	r := q[0]
	s.callQueue[path] = q[1:]
	return &r
}

// scriptedDelay waits r.Delay; false means the client gave up or the server closed.
func (s *Server) scriptedDelay(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	}
}

// contentType is the Content-Type of r.Body.
func (r *Response) contentType() string {
	if r.ContentType != "" {
		return r.ContentType
	}
	return "application/json;charset=utf-8"
}

// writeScripted writes a scripted error answer (Status != 0).
func writeScripted(w http.ResponseWriter, sr *Response) {
	if sr.Body != nil {
		w.Header().Set("Content-Type", sr.contentType())
		w.Header().Set("x-acs-request-id", newRequestID())
		w.WriteHeader(sr.Status)
		_, _ = w.Write(sr.Body)
		return
	}
	writeAPIError(w, sr.Status, sr.Code, sr.Message)
}

// handleScriptable is the handler of an authenticated, recorded and
// scriptable call of path (see serveScriptable), processed by process.
func (s *Server) handleScriptable(path string, process func([]byte) (apiResult, any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		call := CallRecord{Path: path, Header: r.Header.Clone(), At: time.Now(), TokenInQuery: r.URL.Query().Has("access_token")}
		defer func() { s.addCall(call) }()
		body, status, code, ok := s.authorize(w, r)
		call.Raw = body
		if !ok {
			call.Status, call.Code, call.Reason = status, code, "rejected before validation"
			return
		}
		s.serveScriptable(w, r, &call, body, process)
	}
}

// serveScriptable answers an authenticated call of call.Path: with the queued
// FailNext response, if any (processing the call first when CreateAnyway),
// else with process's outcome, whose success body is okBody. It fills call's
// outcome; the caller records it.
func (s *Server) serveScriptable(w http.ResponseWriter, r *http.Request, call *CallRecord, body []byte,
	process func(body []byte) (res apiResult, okBody any)) {
	answer := func(res apiResult, okBody any) {
		call.Status, call.Code, call.Reason = res.status, res.code, res.reason
		if !res.ok() {
			s.logf("%s rejected: %d %s: %s", call.Path, res.status, res.code, res.reason)
			writeAPIError(w, res.status, res.code, res.msg)
			return
		}
		writeAPI(w, http.StatusOK, okBody)
	}
	if sr := s.nextScripted(call.Path); sr != nil {
		call.Scripted = true
		var applied func()
		if sr.CreateAnyway {
			res, okBody := process(body)
			applied = func() { answer(res, okBody) }
			s.logf("%s: scripted CreateAnyway → %d %s %s", call.Path, res.status, res.code, res.reason)
		}
		if !s.scriptedDelay(r, sr.Delay) {
			call.Reason = "client gave up or server closed during scripted delay"
			return
		}
		if sr.Status != 0 {
			call.Status, call.Code, call.Reason = sr.Status, sr.Code, "scripted response"
			writeScripted(w, sr)
			return
		}
		if applied != nil { // already processed: answer with that outcome
			applied()
			return
		}
	}
	answer(process(body))
}
