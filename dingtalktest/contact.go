package dingtalktest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Paths of the user-lookup and group-update endpoints, as passed to
// LookupCalls, Calls, FailNext and FailNextLegacy.
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
// For PathGroupUpdate, CreateAnyway applies the update first, then answers r.
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

// writeScripted writes a scripted error answer (Status != 0).
func writeScripted(w http.ResponseWriter, sr *Response) {
	if sr.Body != nil {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.Header().Set("x-acs-request-id", newRequestID())
		w.WriteHeader(sr.Status)
		_, _ = w.Write(sr.Body)
		return
	}
	writeAPIError(w, sr.Status, sr.Code, sr.Message)
}

// ---- legacy (topapi) plumbing ----

// writeLegacy writes a legacy answer: always HTTP 200, errcode as a number.
func writeLegacy(w http.ResponseWriter, errcode int, errmsg string, result any) {
	body := map[string]any{"errcode": errcode, "errmsg": errmsg, "request_id": strings.ToLower(randHex(12))}
	if result != nil {
		body["result"] = result
	}
	writeJSON(w, http.StatusOK, body)
}

// legacyCall runs a topapi endpoint: it checks the access_token query
// parameter (the header is ignored, as by DingTalk), requires a JSON object
// body, applies scripted answers, then calls fn, which returns the errcode,
// errmsg, result and a reason for the record.
func (s *Server) legacyCall(w http.ResponseWriter, r *http.Request, path string, fn func(fields map[string]json.RawMessage) (int, string, any, string)) {
	rec := CallRecord{Path: path, Header: r.Header.Clone(), At: time.Now(), Status: http.StatusOK}
	q := r.URL.Query()
	rec.TokenInQuery = q.Has("access_token")
	defer func() { s.addCall(rec) }()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBodySize))
	rec.Raw = body
	answer := func(code int, msg string, result any, reason string) {
		rec.Code, rec.Reason = strconv.Itoa(code), reason
		if code != ErrcodeOK {
			s.logf("%s: errcode %d: %s", path, code, reason)
		}
		writeLegacy(w, code, msg, result)
	}
	if !s.validToken(q.Get("access_token")) {
		answer(ErrcodeInvalidToken, ErrmsgInvalidToken, nil, "missing or invalid access_token query parameter")
		return
	}
	if sr := s.nextScripted(path); sr != nil {
		rec.Scripted = true
		if !s.scriptedDelay(r, sr.Delay) {
			rec.Status, rec.Reason = 0, "client gave up or server closed during scripted delay"
			return
		}
		if sr.Status != 0 {
			rec.Status, rec.Code, rec.Reason = sr.Status, sr.Code, "scripted response"
			writeScripted(w, sr)
			return
		}
	}
	var fields map[string]json.RawMessage
	if err != nil || json.Unmarshal(body, &fields) != nil || fields == nil {
		answer(ErrcodeInvalidParameter, ErrmsgInvalidParameter, nil, "body is not a JSON object")
		return
	}
	answer(fn(fields))
}

// jsonString decodes fields[name] as a string; present is false when absent or
// null, ok is false when it is not a string.
func jsonString(fields map[string]json.RawMessage, name string) (v string, present, ok bool) {
	raw, has := fields[name]
	if !has || string(raw) == "null" {
		return "", false, true
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", true, false
	}
	return v, true, true
}

// isMobile reports 11 ASCII digits, the form DingTalk stores mobiles in.
func isMobile(m string) bool {
	if len(m) != 11 {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < '0' || m[i] > '9' {
			return false
		}
	}
	return true
}

// handleUserByMobile is POST /topapi/v2/user/getbymobile?access_token=….
// DingTalk docs: https://open.dingtalk.com/document/development/query-users-by-phone-number
func (s *Server) handleUserByMobile(w http.ResponseWriter, r *http.Request) {
	s.legacyCall(w, r, PathUserByMobile, func(fields map[string]json.RawMessage) (int, string, any, string) {
		mobile, present, ok := jsonString(fields, "mobile")
		if !ok || !present || mobile == "" {
			return ErrcodeInvalidParameter, ErrmsgInvalidParameter, nil, "mobile is required and must be a string"
		}
		if !isMobile(mobile) {
			return ErrcodeMobileInvalid, ErrmsgMobileInvalid, nil, "mobile " + mobile + " is not 11 digits"
		}
		s.mu.Lock()
		var ids []string
		for _, u := range s.users {
			if u.Mobile == mobile && u.Active {
				ids = append(ids, u.UserID)
			}
		}
		s.mu.Unlock()
		if len(ids) == 0 {
			return ErrcodeUserNotFound, ErrmsgUserNotFound, nil, "no active user with mobile " + mobile
		}
		slices.Sort(ids)
		return ErrcodeOK, "ok", map[string]any{"userid": ids[0]}, "found " + ids[0]
	})
}

// handleUserGet is POST /topapi/v2/user/get?access_token=…. Users with Active
// false are returned with "active":false.
// DingTalk docs: https://open.dingtalk.com/document/development/query-user-details
func (s *Server) handleUserGet(w http.ResponseWriter, r *http.Request) {
	s.legacyCall(w, r, PathUserGet, func(fields map[string]json.RawMessage) (int, string, any, string) {
		id, present, ok := jsonString(fields, "userid")
		if !ok || !present || id == "" {
			return ErrcodeInvalidParameter, ErrmsgInvalidParameter, nil, "userid is required and must be a string"
		}
		lang, present, ok := jsonString(fields, "language")
		if !ok || (present && lang != "zh_CN" && lang != "en_US") {
			return ErrcodeInvalidParameter, ErrmsgInvalidParameter, nil, "language must be zh_CN or en_US"
		}
		s.mu.Lock()
		u, known := s.users[id]
		s.mu.Unlock()
		if !known {
			return ErrcodeInvalidUserID, ErrmsgInvalidUserID, nil, "unknown userid " + id
		}
		depts := append([]int64{}, u.DeptIDs...)
		return ErrcodeOK, "ok", map[string]any{
			"userid":       u.UserID,
			"unionid":      u.UnionID,
			"name":         u.Name,
			"active":       u.Active,
			"dept_id_list": depts,
			"title":        u.Title,
			"admin":        u.Admin,
		}, "found " + id
	})
}

// ---- v1.0 contact search ----

// handleUserSearch is POST /v1.0/contact/users/search. Only active users are
// found; fullMatchField 1 matches the whole Name (case-insensitive), otherwise
// any Name containing queryWord (case-insensitive; no pinyin). Results are in
// UserID order, paged by offset and size.
// DingTalk docs: https://open.dingtalk.com/document/development/address-book-search-user-id
func (s *Server) handleUserSearch(w http.ResponseWriter, r *http.Request) {
	rec := CallRecord{Path: PathUserSearch, Header: r.Header.Clone(), At: time.Now(), TokenInQuery: r.URL.Query().Has("access_token")}
	defer func() { s.addCall(rec) }()
	body, status, code, ok := s.authorize(w, r)
	rec.Raw = body
	if !ok {
		rec.Status, rec.Code, rec.Reason = status, code, "rejected before validation"
		return
	}
	if sr := s.nextScripted(PathUserSearch); sr != nil {
		rec.Scripted = true
		if !s.scriptedDelay(r, sr.Delay) {
			rec.Reason = "client gave up or server closed during scripted delay"
			return
		}
		if sr.Status != 0 {
			rec.Status, rec.Code, rec.Reason = sr.Status, sr.Code, "scripted response"
			writeScripted(w, sr)
			return
		}
	}
	fail := func(reason string) {
		rec.Status, rec.Code, rec.Reason = http.StatusBadRequest, CodeParameterError, reason
		s.logf("users/search rejected: %s", reason)
		writeAPIError(w, http.StatusBadRequest, CodeParameterError, MsgParameterError)
	}
	var req struct {
		QueryWord      *string `json:"queryWord"`
		Offset         *int64  `json:"offset"`
		Size           *int64  `json:"size"`
		FullMatchField *int64  `json:"fullMatchField"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		fail("body does not decode: " + err.Error())
		return
	}
	switch {
	case req.QueryWord == nil || strings.TrimSpace(*req.QueryWord) == "":
		fail("queryWord is required")
		return
	case req.Offset == nil || *req.Offset < 0:
		fail("offset is required and must be >= 0")
		return
	case req.Size == nil || *req.Size < 1 || *req.Size > MaxSearchSize:
		fail("size is required and must be in 1..100")
		return
	case req.FullMatchField != nil && *req.FullMatchField != 0 && *req.FullMatchField != 1:
		fail("fullMatchField must be 1 (exact) or absent")
		return
	}
	q := strings.ToLower(*req.QueryWord)
	exact := req.FullMatchField != nil && *req.FullMatchField == 1
	s.mu.Lock()
	var ids []string
	for _, u := range s.users {
		if !u.Active {
			continue
		}
		name := strings.ToLower(u.Name)
		if (exact && name == q) || (!exact && strings.Contains(name, q)) {
			ids = append(ids, u.UserID)
		}
	}
	s.mu.Unlock()
	slices.Sort(ids)
	total := int64(len(ids))
	start := min(*req.Offset, total)
	end := min(start+*req.Size, total)
	page := append([]string{}, ids[start:end]...)
	rec.Status, rec.Reason = http.StatusOK, strconv.Itoa(len(page))+" of "+strconv.FormatInt(total, 10)
	writeAPI(w, http.StatusOK, map[string]any{"hasMore": end < total, "totalCount": total, "list": page})
}

// ---- v1.0 group update ----

// decodeUpdateRequest decodes a group-update body strictly.
func decodeUpdateRequest(body []byte) (*UpdateGroupRequest, []string, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return nil, nil, errors.New("body is not a JSON object")
	}
	var req UpdateGroupRequest
	var unsupported []string
	for k, raw := range fields {
		if string(raw) == "null" {
			continue
		}
		switch k {
		case "chatid", "name":
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, nil, errors.New(k + " must be a string")
			}
			if k == "chatid" {
				req.ChatID = &v
			} else {
				req.Name = &v
			}
		case "add_useridlist", "del_useridlist":
			var v []string
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, nil, errors.New(k + " must be an array of strings")
			}
			if v == nil {
				v = []string{}
			}
			if k == "add_useridlist" {
				req.AddUserIDs, req.HasAddUserID = v, true
			} else {
				req.DelUserIDs, req.HasDelUserID = v, true
			}
		case "owner", "ownerType", "add_extidlist", "del_extidlist", "icon", "managementOptions":
			unsupported = append(unsupported, k)
		}
	}
	slices.Sort(unsupported)
	return &req, unsupported, nil
}

type updateResult struct {
	status    int
	code, msg string
	reason    string
}

func invalidUpdate(reason string) updateResult {
	return updateResult{status: http.StatusBadRequest, code: CodeParameterInvalid, msg: MsgParameterInvalid, reason: reason}
}

// handleGroupUpdate is POST /v1.0/im/group/update. The fake supports chatid
// (required: the chatid of a group created through the API), add_useridlist
// and del_useridlist (each at most 40 known userIds; added users must be
// active; the owner cannot be removed; at most 1000 members), and name (1–20
// characters). A call is all or nothing. The other documented fields (owner,
// ownerType, *_extidlist, icon, managementOptions) are not modelled and are
// rejected with parameter.invalid so that a test notices. Success answers
// {"success":true}: DingTalk's success body for this API is not documented
// (the v1.0 APIs signal errors by HTTP status), so clients should treat any
// 2xx as success.
// DingTalk docs: https://open.dingtalk.com/document/development/api-updategroup
func (s *Server) handleGroupUpdate(w http.ResponseWriter, r *http.Request) {
	rec := UpdateGroupRequestRecord{Header: r.Header.Clone(), At: time.Now()}
	call := CallRecord{Path: PathGroupUpdate, Header: rec.Header, At: rec.At, TokenInQuery: r.URL.Query().Has("access_token")}
	defer func() {
		call.Raw, call.Status, call.Code, call.Reason, call.Scripted = rec.Raw, rec.Status, rec.Code, rec.Reason, rec.Scripted
		s.mu.Lock()
		s.updateReqs = append(s.updateReqs, rec)
		s.mu.Unlock()
		s.addCall(call)
	}()
	body, status, code, ok := s.authorize(w, r)
	rec.Raw = body
	if req, _, err := decodeUpdateRequest(body); err == nil {
		rec.Request = req
	}
	if !ok {
		rec.Status, rec.Code, rec.Reason = status, code, "rejected before validation"
		return
	}
	if sr := s.nextScripted(PathGroupUpdate); sr != nil {
		rec.Scripted = true
		var applied *updateResult
		if sr.CreateAnyway {
			res := s.updateGroup(body)
			applied = &res
			s.logf("group-update: scripted CreateAnyway → %d %s %s", res.status, res.code, res.reason)
		}
		if !s.scriptedDelay(r, sr.Delay) {
			rec.Reason = "client gave up or server closed during scripted delay"
			return
		}
		if sr.Status != 0 {
			rec.Status, rec.Code, rec.Reason = sr.Status, sr.Code, "scripted response"
			writeScripted(w, sr)
			return
		}
		if applied != nil { // already processed: answer with that outcome
			s.writeUpdateResult(w, &rec, *applied)
			return
		}
	}
	s.writeUpdateResult(w, &rec, s.updateGroup(body))
}

func (s *Server) writeUpdateResult(w http.ResponseWriter, rec *UpdateGroupRequestRecord, res updateResult) {
	rec.Status, rec.Code, rec.Reason = res.status, res.code, res.reason
	if res.status != http.StatusOK {
		s.logf("group-update rejected: %d %s: %s", res.status, res.code, res.reason)
		writeAPIError(w, res.status, res.code, res.msg)
		return
	}
	writeAPI(w, http.StatusOK, map[string]any{"success": true})
}

// updateGroup validates body like DingTalk and, if valid, applies it.
func (s *Server) updateGroup(body []byte) updateResult {
	req, unsupported, err := decodeUpdateRequest(body)
	if err != nil {
		return invalidUpdate(err.Error())
	}
	if len(unsupported) > 0 {
		return invalidUpdate("not modelled by dingtalktest: " + strings.Join(unsupported, ", "))
	}
	if req.ChatID == nil || *req.ChatID == "" {
		return invalidUpdate("chatid is required")
	}
	if req.Name != nil {
		if strings.TrimSpace(*req.Name) == "" {
			return invalidUpdate("name is blank")
		}
		if utf8.RuneCountInString(*req.Name) > MaxGroupNameRunes {
			return invalidUpdate("name is longer than 20 characters")
		}
	}
	if len(req.AddUserIDs) > MaxUpdateMembers {
		return invalidUpdate("add_useridlist has more than 40 members")
	}
	if len(req.DelUserIDs) > MaxUpdateMembers {
		return invalidUpdate("del_useridlist has more than 40 members")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	gi := slices.IndexFunc(s.groups, func(g Group) bool { return g.ChatID == *req.ChatID })
	if gi < 0 {
		return invalidUpdate("unknown chatid " + *req.ChatID)
	}
	g := s.groups[gi]
	if problem := s.memberProblemLocked("add_useridlist", req.AddUserIDs); problem != "" {
		return invalidUpdate(problem)
	}
	for _, id := range req.DelUserIDs {
		if _, ok := s.users[id]; !ok || id == "" {
			return invalidUpdate("del_useridlist: unknown userid " + id)
		}
		if id == g.Owner {
			return invalidUpdate("del_useridlist: cannot remove the owner " + id)
		}
	}
	members := append([]string(nil), g.Members...) // never mutate a slice Groups() handed out
	for _, id := range req.AddUserIDs {
		if !slices.Contains(members, id) {
			members = append(members, id)
		}
	}
	members = slices.DeleteFunc(members, func(id string) bool { return slices.Contains(req.DelUserIDs, id) })
	if len(members) > MaxGroupMembers {
		return invalidUpdate("the group would have more than 1000 members")
	}
	g.Members = members
	if req.Name != nil {
		g.Name = *req.Name
	}
	s.groups[gi] = g
	s.notifyLocked()
	return updateResult{status: http.StatusOK, reason: "updated " + g.ChatID}
}
