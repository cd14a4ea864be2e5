package dingtalktest

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
