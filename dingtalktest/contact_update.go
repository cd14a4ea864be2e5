package dingtalktest

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

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
		case "chatid", "name", "owner":
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, nil, errors.New(k + " must be a string")
			}
			switch k {
			case "chatid":
				req.ChatID = &v
			case "name":
				req.Name = &v
			default:
				req.Owner = &v
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
		case "ownerType", "add_extidlist", "del_extidlist", "icon", "managementOptions":
			unsupported = append(unsupported, k)
		}
	}
	slices.Sort(unsupported)
	return &req, unsupported, nil
}

// apiResult is the outcome of a v1.0 call that changes state: 200, or an
// error answered with code and msg; reason explains it in records and logs.
type apiResult struct {
	status    int
	code, msg string
	reason    string
}

func (r apiResult) ok() bool { return r.status == http.StatusOK }

// invalidCall is a 400 parameter.invalid outcome.
func invalidCall(reason string) apiResult {
	return apiResult{status: http.StatusBadRequest, code: CodeParameterInvalid, msg: MsgParameterInvalid, reason: reason}
}

// handleGroupUpdate is POST /v1.0/im/group/update. The fake supports chatid
// (required: the chatid of a group created through the API or seeded),
// add_useridlist and del_useridlist (each at most 40 known userIds; added
// users must be active; at most 1000 members), name (1–20 characters) and
// owner. A call is all or nothing. The other documented fields (ownerType,
// *_extidlist, icon, managementOptions) are not modelled and are rejected
// with parameter.invalid so that a test notices. Success answers
// {"success":true}: DingTalk's success body for this API is not documented
// (the v1.0 APIs signal errors by HTTP status), so clients should treat any
// 2xx as success.
//
// The owner rules read the doc strictly, judged against the group as it was
// before the call: a new owner must already be a member ("该员工必须为会话
// useridlist的成员之一"), so add_useridlist of the same call does not count
// and adding then transferring takes two calls; neither the current nor the
// new owner may be in del_useridlist (hand over, then remove, in two calls).
// A new owner outside the app's visibility gets 400 permession.checkFailed
// 群主不在应用可见性内, the rule documented for group creation, assumed here.
// DingTalk documents no error for an unknown chatid; the fake answers the
// closest documented one, 400 parameter.invalid.
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
		var applied *apiResult
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

func (s *Server) writeUpdateResult(w http.ResponseWriter, rec *UpdateGroupRequestRecord, res apiResult) {
	rec.Status, rec.Code, rec.Reason = res.status, res.code, res.reason
	if res.status != http.StatusOK {
		s.logf("group-update rejected: %d %s: %s", res.status, res.code, res.reason)
		writeAPIError(w, res.status, res.code, res.msg)
		return
	}
	writeAPI(w, http.StatusOK, map[string]any{"success": true})
}

// updateGroup validates body like DingTalk and, if valid, applies it.
func (s *Server) updateGroup(body []byte) apiResult {
	req, unsupported, err := decodeUpdateRequest(body)
	if err != nil {
		return invalidCall(err.Error())
	}
	if len(unsupported) > 0 {
		return invalidCall("not modelled by dingtalktest: " + strings.Join(unsupported, ", "))
	}
	if req.ChatID == nil || *req.ChatID == "" {
		return invalidCall("chatid is required")
	}
	if req.Name != nil {
		if strings.TrimSpace(*req.Name) == "" {
			return invalidCall("name is blank")
		}
		if utf8.RuneCountInString(*req.Name) > MaxGroupNameRunes {
			return invalidCall("name is longer than 20 characters")
		}
	}
	if len(req.AddUserIDs) > MaxUpdateMembers {
		return invalidCall("add_useridlist has more than 40 members")
	}
	if len(req.DelUserIDs) > MaxUpdateMembers {
		return invalidCall("del_useridlist has more than 40 members")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	gi := slices.IndexFunc(s.groups, func(g Group) bool { return g.ChatID == *req.ChatID })
	if gi < 0 {
		return invalidCall("unknown chatid " + *req.ChatID)
	}
	g := s.groups[gi]
	if problem := s.memberProblemLocked("add_useridlist", req.AddUserIDs); problem != "" {
		return invalidCall(problem)
	}
	for _, id := range req.DelUserIDs {
		if _, ok := s.users[id]; !ok || id == "" {
			return invalidCall("del_useridlist: unknown userid " + id)
		}
		if id == g.Owner {
			return invalidCall("del_useridlist: cannot remove the owner " + id)
		}
	}
	if req.Owner != nil {
		if res := s.checkNewOwnerLocked(g, *req.Owner, req.DelUserIDs); !res.ok() {
			return res
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
		return invalidCall("the group would have more than 1000 members")
	}
	g.Members = members
	if req.Name != nil {
		g.Name = *req.Name
	}
	if req.Owner != nil {
		g.Owner = *req.Owner
	}
	s.groups[gi] = g
	s.notifyLocked()
	return apiResult{status: http.StatusOK, reason: "updated " + g.ChatID}
}

// checkNewOwnerLocked explains why owner cannot become the owner of g in a
// call that removes del (see handleGroupUpdate), or returns an ok result. The
// caller holds s.mu.
func (s *Server) checkNewOwnerLocked(g Group, owner string, del []string) apiResult {
	if owner == "" {
		return invalidCall("owner is empty")
	}
	if problem := s.memberProblemLocked("owner", []string{owner}); problem != "" {
		return invalidCall(problem)
	}
	if !slices.Contains(g.Members, owner) {
		return invalidCall("owner " + owner + " is not a member of the group")
	}
	if slices.Contains(del, owner) {
		return invalidCall("del_useridlist: cannot remove the new owner " + owner)
	}
	if !s.users[owner].Visible {
		return apiResult{status: http.StatusBadRequest, code: CodePermissionFailed, msg: MsgOwnerNotVisible,
			reason: "owner " + owner + " is outside the app's visibility scope"}
	}
	return apiResult{status: http.StatusOK}
}
