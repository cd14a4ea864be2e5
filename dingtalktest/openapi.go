package dingtalktest

import (
	"net/http"
	"time"
)

// Error codes and messages of the v1.0 APIs, as DingTalk documents them.
const (
	CodeInvalidAuthentication = "InvalidAuthentication"
	MsgInvalidAccessToken     = "不合法的access_token"
	CodeInvalidClient         = "invalidClientIdOrSecret"
	MsgInvalidClient          = "无效的clientId或者clientSecret"
	CodeBodyInvalid           = "body.invalid"
	MsgBodyMandatory          = "body is mandatory for this action"
	CodeParameterInvalid      = "parameter.invalid"
	MsgParameterInvalid       = "输入参数错误"
	CodePermissionFailed      = "permession.checkFailed" // sic: DingTalk's spelling
	MsgPermissionFailed       = "权限校验失败"
	MsgOwnerNotVisible        = "群主不在应用可见性内"
	CodeSystemError           = "system.error"
	MsgSystemError            = "请重试，若始终失败请提交工单"
	CodeQPSLimit              = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"
	MsgQPSLimit               = "调用该接口触发了应用维度的限流"
	CodeRobotCodeAuth         = "invalidParameter.robotCode.auth"
	MsgRobotCodeAuth          = "机器人权限校验不通过，请检查机器人是否归属于token对应的主应用名下"
	CodeMsgParamInvalid       = "invalidParameter.msgParam.invalid"
	MsgMsgParamInvalid        = "msgParam参数不合法"
	CodeMsgKeyInvalid         = "invalidParameter.msgKey.invalid"
	MsgMsgKeyInvalid          = "msgKey参数不合法"
	CodeRobotNotInGroup       = "resource.not.found"
	MsgRobotNotInGroup        = "机器人不在群内或群不存在"
)

// Limits enforced by the fake.
const (
	MaxGroupNameRunes  = 20
	MaxCreateMembers   = 40 // per-call useridlist cap (legacy chat/create doc)
	MaxOTOUsers        = 20
	MaxMsgParamBytes   = 15000
	maxRequestBodySize = 1 << 20
)

// Response is a scripted reply to an API call, overriding normal processing.
type Response struct {
	// Status is the HTTP status. 0 means "process normally after Delay".
	Status int
	// Code and Message build DingTalk's error body when Body is nil.
	Code, Message string
	// Body, if non-nil, is written verbatim (Content-Type application/json
	// unless ContentType says otherwise).
	Body []byte
	// ContentType, if set, is the Content-Type of Body, e.g.
	// "text/html; charset=utf-8" for the HTML page DingTalk's gateway (or a
	// proxy) answers instead of JSON.
	ContentType string
	// Delay is waited before answering; a client that gives up first (request
	// context done) or Close cut it short.
	Delay time.Duration
	// CreateAnyway (create-group, group-update, add-robot and group-send
	// only) processes the call as a normal call would (creates the group,
	// applies the update, adds the robot, posts the message), then still
	// answers with this response: it models "the call failed or timed out but
	// the effect may have happened".
	CreateAnyway bool
}

// GroupRequest is a decoded create-group body. Pointer fields are nil when the
// field was absent (or null).
type GroupRequest struct {
	Name              *string
	Owner             *string
	OwnerType         *string
	UserIDs           []string
	HasUserIDs        bool
	ConversationTag   *int64
	ExtIDs            []string
	Icon              *string
	ManagementOptions map[string]int64
}

// CreateGroupRequestRecord is one call of POST /v1.0/im/group/create, recorded
// whether it succeeded or not.
type CreateGroupRequestRecord struct {
	// Raw is the body as received.
	Raw []byte
	// Request is the decoded body; nil when it did not decode.
	Request *GroupRequest
	// Header holds the request headers.
	Header http.Header
	// Status, Code and Reason are the outcome: HTTP status, error code ("" on
	// success) and a human explanation of the rejection (not sent to the client).
	Status int
	Code   string
	Reason string
	// Scripted is true when a scripted Response answered the call.
	Scripted bool
	At       time.Time
}

// Group is a group created through the API.
type Group struct {
	OpenConversationID string
	ChatID             string
	ConversationTag    int64
	Name               string
	Owner              string
	Members            []string
	Request            GroupRequest
	CreatedAt          time.Time
}
