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
