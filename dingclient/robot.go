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
	return msgParam(api, struct {
		Content string `json:"content"`
	}{text})
}

// sampleMarkdown builds the msgParam of the sampleMarkdown template; an
// empty title or text is refused, as DingTalk would.
func sampleMarkdown(api API, title, text string) (string, error) {
	switch {
	case strings.TrimSpace(title) == "":
		return "", fmt.Errorf("dingtalk %s: empty markdown title", api)
	case strings.TrimSpace(text) == "":
		return "", fmt.Errorf("dingtalk %s: empty markdown text", api)
	}
	return msgParam(api, struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	}{title, text})
}

// msgParam encodes a template's parameters as the msgParam string and checks
// DingTalk's limit on its length.
func msgParam(api API, v any) (string, error) {
	b, err := json.Marshal(v)
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
	return c.sendGroup(ctx, openConversationID, "sampleText", param)
}

// SendGroupMarkdown posts a markdown message (msgKey sampleMarkdown) as the
// robot into the group openConversationID: title is what notifications and
// the chat list show, text the markdown body. The robot must be in the group
// (AddRobotToConversation, for a group the app created); otherwise DingTalk
// answers 400 resource.not.found. An empty title or text, or a msgParam over
// DingTalk's 15 000 bytes (title and text as a JSON string, so text alone is
// at most a little less), is refused without a request.
//
// Like SendGroupText it is not retried after an HTTP 5xx, a timeout or a
// transport error: the message may have been posted, and a duplicate kickoff
// is worse than a missing one. Throttled sends are retried; a missing
// qyapi_robot_sendmsg scope gives an *APIError whose PermissionDenied is true.
//
// DingTalk docs: https://open.dingtalk.com/document/development/the-robot-sends-a-group-message
// (msgKey: https://open.dingtalk.com/document/development/robot-message-type)
//
//	POST /v1.0/robot/groupMessages/send
func (c *Client) SendGroupMarkdown(ctx context.Context, openConversationID, title, text string) error {
	if openConversationID == "" {
		return errors.New("dingtalk robot.group_send: empty openConversationId")
	}
	param, err := sampleMarkdown(APIRobotGroupSend, title, text)
	if err != nil {
		return err
	}
	return c.sendGroup(ctx, openConversationID, "sampleMarkdown", param)
}

// sendGroup posts one robot message (msgKey and its msgParam) into a group.
func (c *Client) sendGroup(ctx context.Context, openConversationID, msgKey, param string) error {
	in := struct {
		MsgParam           string `json:"msgParam"`
		MsgKey             string `json:"msgKey"`
		OpenConversationID string `json:"openConversationId"`
		RobotCode          string `json:"robotCode"`
	}{param, msgKey, openConversationID, c.robotCode}
	ep := endpoint{api: APIRobotGroupSend, gen: genV1, path: "/v1.0/robot/groupMessages/send", kind: kindDefault}
	return c.call(ctx, ep, in, nil)
}

// AddRobotToConversation adds the app's robot (Config.RobotCode) to the group
// openConversationID. DingTalk does not put the robot in the groups an app
// creates, and the robot send APIs (SendGroupText, SendGroupMarkdown) need it
// there.
//
// Adding the robot is safe to repeat, so an HTTP 5xx answer is retried with
// back-off like throttling; a timeout or transport error is returned, and
// calling again is harmless (DingTalk does not document its answer when the
// robot is already a member). Throttled calls are retried; an invalid token is
// refetched once. Errors are *APIError, e.g. 400 invalidParameter.robotCode.auth
// when the robot does not belong to the app, or a missing scope
// (403 Forbidden.AccessDenied.AccessTokenPermissionDenied, PermissionDenied).
//
// DingTalk publishes no doc page for it; the API is im_1.0 AddRobotToConversation:
// https://open-dev.dingtalk.com/apiExplorer#/?devType=org&api=im_1.0%23AddRobotToConversation
//
//	POST /v1.0/im/conversations/robots
func (c *Client) AddRobotToConversation(ctx context.Context, openConversationID string) error {
	if openConversationID == "" {
		return errors.New("dingtalk robot.add: empty openConversationId")
	}
	in := struct {
		OpenConversationID string `json:"openConversationId"`
		RobotCode          string `json:"robotCode"`
	}{openConversationID, c.robotCode}
	// The answer ({"chatBotUserId":...} in DingTalk's SDK) is not needed: any 2xx is success.
	ep := endpoint{api: APIRobotAdd, gen: genV1, path: "/v1.0/im/conversations/robots", kind: kindRead}
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
	return c.sendUsers(ctx, userIDs, "sampleText", param)
}

// SendUserMarkdown is SendUserText for a markdown message (msgKey
// sampleMarkdown): title is what notifications and the chat list show, text
// the markdown body. An empty title or text, or a msgParam over 15 000
// bytes, is refused without a request.
//
// DingTalk docs: https://open.dingtalk.com/document/development/chatbots-send-one-on-one-chat-messages-in-batches
//
//	POST /v1.0/robot/oToMessages/batchSend
func (c *Client) SendUserMarkdown(ctx context.Context, userIDs []string, title, text string) error {
	if len(userIDs) == 0 {
		return errors.New("dingtalk robot.oto_send: no user ids")
	}
	param, err := sampleMarkdown(APIRobotOTOSend, title, text)
	if err != nil {
		return err
	}
	return c.sendUsers(ctx, userIDs, "sampleMarkdown", param)
}

// sendUsers posts one robot message (msgKey and its msgParam) to each of
// userIDs, in calls of at most 20 users (see SendUserText).
func (c *Client) sendUsers(ctx context.Context, userIDs []string, msgKey, param string) error {
	ep := endpoint{api: APIRobotOTOSend, gen: genV1, path: "/v1.0/robot/oToMessages/batchSend", kind: kindDefault}
	var undelivered UndeliveredError
	for i := 0; i < len(userIDs); i += maxOTOUsers {
		chunk := userIDs[i:min(i+maxOTOUsers, len(userIDs))]
		in := struct {
			RobotCode string   `json:"robotCode"`
			UserIDs   []string `json:"userIds"`
			MsgKey    string   `json:"msgKey"`
			MsgParam  string   `json:"msgParam"`
		}{c.robotCode, chunk, msgKey, param}
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
