package dingtalktest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
