package dingtalktest

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// Paths of the robot endpoints, as passed to Calls, LookupCalls and FailNext.
const (
	// PathConversationRobots adds the app's robot to a group (im_1.0
	// AddRobotToConversation; x-acs-dingtalk-access-token header).
	PathConversationRobots = "/v1.0/im/conversations/robots"
	// PathRobotGroupSend is the robot's group message API (x-acs-dingtalk-access-token header).
	PathRobotGroupSend = "/v1.0/robot/groupMessages/send"
)

// RobotInGroup reports whether the app's robot is a member of the group
// openConversationID, so that PathRobotGroupSend accepts messages to it: it
// was added through PathConversationRobots, InstallBot or SeedGroup, or a
// message was sent to the bot from that group (Send, PostCallback). A group
// created through /v1.0/im/group/create does not contain the robot.
func (s *Server) RobotInGroup(openConversationID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.botGroups[openConversationID]
}

// handleAddRobot is POST /v1.0/im/conversations/robots, which DingTalk's SDK
// (im_1.0 AddRobotToConversation) defines and no doc page describes:
// {"openConversationId","robotCode"} required, "name" and "icon" (a mediaId)
// optional; the answer is {"chatBotUserId"}. The fake checks the token,
// that robotCode is the app's (400 invalidParameter.robotCode.auth, as the
// robot send APIs answer) and that the group exists: one created through the
// API, seeded, or one a message came from. For an unknown group it answers
// 400 parameter.invalid, the closest documented code (DingTalk documents
// none for this case). Adding the robot to a group it is already in
// succeeds and changes nothing (DingTalk's answer is not documented).
// Calls are recorded (Calls(PathConversationRobots)) and scriptable
// (FailNext(PathConversationRobots, …)).
func (s *Server) handleAddRobot() http.HandlerFunc {
	return s.handleScriptable(PathConversationRobots, s.addRobot)
}

// decodeAddRobot decodes an add-robot body strictly and returns its
// openConversationId and robotCode.
func decodeAddRobot(body []byte) (conv, robot string, err error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return "", "", errors.New("body is not a JSON object")
	}
	vals := make(map[string]string)
	for _, k := range []string{"openConversationId", "robotCode", "name", "icon"} {
		raw, ok := fields[k]
		if !ok || string(raw) == "null" {
			continue
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", "", errors.New(k + " must be a string")
		}
		vals[k] = v
	}
	switch icon, ok := vals["icon"]; {
	case vals["openConversationId"] == "":
		return "", "", errors.New("openConversationId is required")
	case vals["robotCode"] == "":
		return "", "", errors.New("robotCode is required")
	case ok && !strings.HasPrefix(icon, "@"):
		return "", "", errors.New("icon must be a mediaId (starting with @)")
	}
	return vals["openConversationId"], vals["robotCode"], nil
}

// addRobot validates an add-robot body like DingTalk and, if valid, makes the
// robot a member of the group.
func (s *Server) addRobot(body []byte) (apiResult, any) {
	conv, robot, err := decodeAddRobot(body)
	if err != nil {
		return invalidCall(err.Error()), nil
	}
	if robot != s.opts.ClientID {
		return apiResult{status: http.StatusBadRequest, code: CodeRobotCodeAuth, msg: MsgRobotCodeAuth,
			reason: "robotCode " + robot + " is not the app's"}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	known := s.botGroups[conv] || slices.ContainsFunc(s.groups, func(g Group) bool { return g.OpenConversationID == conv })
	if !known {
		return invalidCall("unknown openConversationId " + conv), nil
	}
	reason := "robot added to " + conv
	if s.botGroups[conv] {
		reason = "robot already in " + conv
	}
	s.botGroups[conv] = true
	s.notifyLocked()
	return apiResult{status: http.StatusOK, reason: reason}, map[string]string{"chatBotUserId": s.botUserID}
}
