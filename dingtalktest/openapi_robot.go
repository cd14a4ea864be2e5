package dingtalktest

import (
	"encoding/json"
	"net/http"
	"strings"
)

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

// handleGroupSend is POST /v1.0/robot/groupMessages/send. The robot must be
// in the group (RobotInGroup); otherwise, as for a group that does not exist,
// the answer is 400 resource.not.found. Calls are recorded
// (Calls(PathRobotGroupSend)) and scriptable (FailNext(PathRobotGroupSend, …));
// every message posted is a Reply with Via ViaGroupAPI.
// DingTalk docs: https://open.dingtalk.com/document/development/the-robot-sends-a-group-message
func (s *Server) handleGroupSend() http.HandlerFunc {
	return s.handleScriptable(PathRobotGroupSend, s.groupSend)
}

// groupSend validates a group-send body like DingTalk and, if valid, posts the message.
func (s *Server) groupSend(body []byte) (apiResult, any) {
	var req struct {
		MsgParam           *string `json:"msgParam"`
		MsgKey             *string `json:"msgKey"`
		OpenConversationID *string `json:"openConversationId"`
		RobotCode          *string `json:"robotCode"`
		CoolAppCode        *string `json:"coolAppCode"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return invalidCall("body does not decode: " + err.Error()), nil
	}
	if req.MsgParam == nil || req.MsgKey == nil || req.OpenConversationID == nil || req.RobotCode == nil ||
		*req.OpenConversationID == "" {
		return invalidCall("msgParam, msgKey, openConversationId and robotCode are required"), nil
	}
	if *req.RobotCode != s.opts.ClientID {
		return apiResult{status: http.StatusBadRequest, code: CodeRobotCodeAuth, msg: MsgRobotCodeAuth, reason: "robotCode is not the app's"}, nil
	}
	msgType, title, text, status, code, msg := parseMsgParam(*req.MsgKey, *req.MsgParam)
	if status != 0 {
		return apiResult{status: status, code: code, msg: msg, reason: "bad " + *req.MsgKey + " message"}, nil
	}
	if !s.RobotInGroup(*req.OpenConversationID) {
		return apiResult{status: http.StatusBadRequest, code: CodeRobotNotInGroup, msg: MsgRobotNotInGroup,
			reason: "the robot is not in " + *req.OpenConversationID}, nil
	}
	s.addReply(Reply{Via: ViaGroupAPI, ConversationID: *req.OpenConversationID, MsgKey: *req.MsgKey, MsgType: msgType, Title: title, Text: text, Raw: body})
	return apiResult{status: http.StatusOK, reason: "posted"}, map[string]string{"processQueryKey": randHex(32)}
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
		s.addReply(Reply{Via: ViaOTOAPI, UserID: id, MsgKey: *req.MsgKey, MsgType: msgType, Title: title, Text: text, Raw: body})
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
