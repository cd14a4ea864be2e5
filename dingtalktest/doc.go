// Package dingtalktest runs a whole DingTalk on 127.0.0.1, in the spirit of
// net/http/httptest.
//
// It exists because dingbot's tests and its local demo need DingTalk, and no
// machine that runs them can reach DingTalk: there is no network to
// api.dingtalk.com, no test organisation and no published robot. A Server plays
// every DingTalk role the bot talks to, on one host:
//
//   - the Stream gateway (POST /v1.0/gateway/connections/open) and the websocket
//     endpoint it hands out (GET /connect?ticket=…), which push bot messages as
//     CALLBACK frames, expect ACKs, redeliver un-ACKed frames, send SYSTEM ping
//     and disconnect frames;
//   - the new-style OpenAPI on api.dingtalk.com: access tokens
//     (/v1.0/oauth2/accessToken), group creation (/v1.0/im/group/create), group
//     update (/v1.0/im/group/update: add/remove members, rename, new owner),
//     adding the robot to a group (/v1.0/im/conversations/robots), directory
//     search (/v1.0/contact/users/search) and the robot send APIs
//     (/v1.0/robot/groupMessages/send, /v1.0/robot/oToMessages/batchSend);
//   - the oapi.dingtalk.com role: session webhooks (/robot/sendBySession), the
//     legacy /gettoken, and the legacy user APIs /topapi/v2/user/getbymobile and
//     /topapi/v2/user/get (token in the access_token query parameter; errors as
//     HTTP 200 {"errcode","errmsg","request_id"}).
//
// The fake is strict on purpose: it validates requests the way DingTalk is
// documented to, because a fake that accepts what
// DingTalk would reject hides bugs until production. Every rejection answers with
// DingTalk's error shape, {"code","message","requestid"} plus an x-acs-request-id
// header for the v1.0 APIs and {"errcode","errmsg"} for the webhooks and the
// legacy APIs.
//
// Tests drive it from the outside: AddUser fills the org directory, Send injects a
// chat message exactly as DingTalk builds it, Replies/WaitReplies, Groups and
// CreateRequests, UpdateRequests, Calls, LookupCalls and RobotInGroup show what the bot did,
// and the Fail…/Script…/Set… methods inject faults. A Server has no package-level state and is safe for concurrent use.
package dingtalktest
