package dingclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

const (
	// maxOTOUsers is the most userIds one batchSend call accepts.
	maxOTOUsers = 20
	// maxMsgParamBytes is DingTalk's limit on msgParam.
	maxMsgParamBytes = 15000
)

// sampleText builds the msgParam of the sampleText template: a JSON string, not an object.
func sampleText(api API, text string) (string, error) {
	b, err := json.Marshal(struct {
		Content string `json:"content"`
	}{text})
	if err != nil {
		return "", fmt.Errorf("dingtalk %s: encoding msgParam: %w", api, err)
	}
	if len(b) > maxMsgParamBytes {
		return "", fmt.Errorf("dingtalk %s: message too long (%d bytes of msgParam, limit %d)", api, len(b), maxMsgParamBytes)
	}
	return string(b), nil
}

// SendGroupText sends text as the robot to the group openConversationID
// (a callback's conversationId). The robot must be installed in the group.
// Sends are not retried after an HTTP 5xx or transport error (a duplicate
// message is worse than a missing one); throttled sends are retried.
//
// DingTalk docs: https://open.dingtalk.com/document/development/the-robot-sends-a-group-message
//
//	POST /v1.0/robot/groupMessages/send
func (c *Client) SendGroupText(ctx context.Context, openConversationID, text string) error {
	if openConversationID == "" {
		return errors.New("dingtalk robot.group_send: empty openConversationId")
	}
	param, err := sampleText(APIRobotGroupSend, text)
	if err != nil {
		return err
	}
	in := struct {
		MsgParam           string `json:"msgParam"`
		MsgKey             string `json:"msgKey"`
		OpenConversationID string `json:"openConversationId"`
		RobotCode          string `json:"robotCode"`
	}{param, "sampleText", openConversationID, c.robotCode}
	ep := endpoint{api: APIRobotGroupSend, gen: genV1, path: "/v1.0/robot/groupMessages/send", kind: kindDefault}
	return c.call(ctx, ep, in, nil)
}

// UndeliveredError reports users that SendUserText could not reach: ids
// DingTalk did not recognise (invalidStaffIdList) or that were rate limited
// (flowControlledStaffIdList). The other users received the message.
type UndeliveredError struct {
	// Invalid are the ids in invalidStaffIdList.
	Invalid []string
	// FlowControlled are the ids in flowControlledStaffIdList.
	FlowControlled []string
}

// Error implements error.
func (e *UndeliveredError) Error() string {
	var parts []string
	if len(e.Invalid) > 0 {
		parts = append(parts, "invalid user ids: "+strings.Join(e.Invalid, ", "))
	}
	if len(e.FlowControlled) > 0 {
		parts = append(parts, "flow-controlled user ids: "+strings.Join(e.FlowControlled, ", "))
	}
	return "dingtalk robot.oto_send: not delivered to " + strings.Join(parts, "; ")
}

// SendUserText sends text as the robot in one-to-one chats with each of
// userIDs (staffIds), in calls of at most 20 users. If DingTalk lists any id
// as invalid or flow-controlled, the error is *UndeliveredError naming them.
// An API error stops the remaining calls; users of earlier calls were already
// messaged. Not retried after an HTTP 5xx or transport error.
//
// DingTalk docs: https://open.dingtalk.com/document/development/chatbots-send-one-on-one-chat-messages-in-batches
//
//	POST /v1.0/robot/oToMessages/batchSend
func (c *Client) SendUserText(ctx context.Context, userIDs []string, text string) error {
	if len(userIDs) == 0 {
		return errors.New("dingtalk robot.oto_send: no user ids")
	}
	param, err := sampleText(APIRobotOTOSend, text)
	if err != nil {
		return err
	}
	ep := endpoint{api: APIRobotOTOSend, gen: genV1, path: "/v1.0/robot/oToMessages/batchSend", kind: kindDefault}
	var undelivered UndeliveredError
	for i := 0; i < len(userIDs); i += maxOTOUsers {
		chunk := userIDs[i:min(i+maxOTOUsers, len(userIDs))]
		in := struct {
			RobotCode string   `json:"robotCode"`
			UserIDs   []string `json:"userIds"`
			MsgKey    string   `json:"msgKey"`
			MsgParam  string   `json:"msgParam"`
		}{c.robotCode, chunk, "sampleText", param}
		var out struct {
			ProcessQueryKey           string   `json:"processQueryKey"`
			InvalidStaffIDList        []string `json:"invalidStaffIdList"`
			FlowControlledStaffIDList []string `json:"flowControlledStaffIdList"`
		}
		if err := c.call(ctx, ep, in, &out); err != nil {
			if i > 0 {
				return fmt.Errorf("dingtalk robot.oto_send: sent to the first %d of %d users, then: %w", i, len(userIDs), err)
			}
			return err
		}
		undelivered.Invalid = append(undelivered.Invalid, out.InvalidStaffIDList...)
		undelivered.FlowControlled = append(undelivered.FlowControlled, out.FlowControlledStaffIDList...)
	}
	if len(undelivered.Invalid) > 0 || len(undelivered.FlowControlled) > 0 {
		return &undelivered
	}
	return nil
}
