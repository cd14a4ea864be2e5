package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/dingbot/dingbot/dingclient"
)

func testCreate() *CreateGroup {
	return &CreateGroup{Request: dingclient.CreateGroupRequest{
		Name: "Release 4.2", Owner: "0123", UserIDs: []string{"0123", "alice01", "bob02"}, ConversationTag: i64(2)}}
}

func TestCreatedReply(t *testing.T) {
	std := testCreate()
	std.Request.ConversationTag = i64(0)
	std.Request.ExtIDs = []string{"x1", "x2"}
	tests := []struct {
		name string
		cg   *CreateGroup
		resp *dingclient.CreateGroupResponse
		want string
	}{
		{"internal", testCreate(), &dingclient.CreateGroupResponse{ConversationTag: 2, OpenConversationID: "cidAbc==", ChatID: "chat123"},
			"Created group \"Release 4.2\".\nType: internal group\nOwner: 0123\nMembers: 3\nopenConversationId: cidAbc==\nchatid: chat123"},
		{"standard with external contacts", std, &dingclient.CreateGroupResponse{ConversationTag: 0, OpenConversationID: "cid9", ChatID: "chat9"},
			"Created group \"Release 4.2\".\nType: standard group\nOwner: 0123\nMembers: 3\nExternal contacts: 2\nopenConversationId: cid9\nchatid: chat9"},
		{"unknown tag", testCreate(), &dingclient.CreateGroupResponse{ConversationTag: 7, OpenConversationID: "cid9"},
			"Created group \"Release 4.2\".\nType: conversationTag 7\nOwner: 0123\nMembers: 3\nopenConversationId: cid9"},
		{"nil response", testCreate(), nil, "Created group \"Release 4.2\".\nType: internal group\nOwner: 0123\nMembers: 3"},
		{"nil everything", nil, nil, "Created group \"\".\nMembers: 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CreatedReply(tt.cg, tt.resp).Text; got != tt.want {
				t.Errorf("CreatedReply\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestCreatedReplyShowsOpenConversationIDWithPadding(t *testing.T) {
	// Real openConversationIds are base64 ("cid6KeBBLoveMJOGXoYKF5x7EeiodoA==").
	got := CreatedReply(testCreate(), &dingclient.CreateGroupResponse{ConversationTag: 2, OpenConversationID: "cid6KeBBLoveMJOGXoYKF5x7EeiodoA=="}).Text
	if !strings.Contains(got, "openConversationId: cid6KeBBLoveMJOGXoYKF5x7EeiodoA==") {
		t.Errorf("reply lacks the openConversationId:\n%s", got)
	}
}

func apiErr(status int, code, message string) *dingclient.APIError {
	return &dingclient.APIError{HTTPStatus: status, Code: code, Message: message, RequestID: "6E32D367-2DFE-7DDB", API: "group.create"}
}

func TestFailedReply(t *testing.T) {
	const rid = "\nDingTalk request ID: 6E32D367-2DFE-7DDB"
	scoped := apiErr(403, "Forbidden.AccessDenied.AccessTokenPermissionDenied", "没有调用该接口的权限，接口权限申请参考：https://open.dingtalk.com/x")
	scoped.RequiredScopes = []string{"qyapi_chat_manage", "Contact.User.Read"}
	noID := apiErr(418, "", "<html>")
	noID.RequestID = ""
	tests := []struct {
		name string
		err  error
		want string // exact, or "~substring"
	}{
		{"visibility (Chinese message)", apiErr(400, "permession.checkFailed", "群主不在应用可见性内"),
			"DingTalk refused: the owner (0123) is outside this app's visibility scope. An admin must add them in the DingTalk developer console → the app → Version management & release → Visibility (应用可见范围), then try again." + rid},
		{"visibility (English message)", apiErr(400, "permession.checkFailed", "The group owner is not within the app visibility scope"),
			"~the owner (0123) is outside this app's visibility scope"},
		{"visibility wrapped", fmt.Errorf("create: %w", apiErr(400, "permession.checkFailed", "群主不在应用可见性内")),
			"~the owner (0123) is outside this app's visibility scope"},
		{"other permission check", apiErr(400, "permession.checkFailed", "权限校验失败"),
			"~its permission check failed. Likely causes: the app lacks the qyapi_chat_manage permission"},
		{"parameter invalid", apiErr(400, "parameter.invalid", "输入参数错误"),
			"DingTalk rejected a parameter of the request. Check the name (1 to 20 characters), the user IDs, the --icon mediaId and the --ext unionIds, and the other options, then try again." + rid},
		{"system.error", apiErr(500, "system.error", "请重试"),
			"DingTalk failed while creating the group; it MAY have been created. Check your group list before trying again, so that you don't end up with two groups." + rid},
		{"bare 502", apiErr(502, "", ""), "~it MAY have been created."},
		{"outcome unknown wrapping 5xx", &dingclient.OutcomeUnknownError{Op: "group.create", Err: apiErr(503, "", "")},
			"DingTalk failed while creating the group; it MAY have been created. Check your group list before trying again, so that you don't end up with two groups." + rid},
		{"outcome unknown wrapping transport error", &dingclient.OutcomeUnknownError{Op: "group.create", Err: io.ErrUnexpectedEOF},
			"DingTalk failed while creating the group; it MAY have been created. Check your group list before trying again, so that you don't end up with two groups."},
		{"outcome unknown wrapping deadline", &dingclient.OutcomeUnknownError{Op: "group.create", Err: context.DeadlineExceeded},
			"~it MAY have been created."},
		{"throttled 403", apiErr(403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", ""),
			"DingTalk is rate-limiting this app right now. Try again in a minute." + rid},
		{"throttled qpm", apiErr(403, "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi", ""), "~rate-limiting"},
		{"throttled 429", apiErr(429, "system.busy", ""), "~rate-limiting"},
		{"invalid token", apiErr(400, "InvalidAuthentication", "不合法的access_token"),
			"DingTalk rejected the bot's credentials, so the group was not created. Ask an admin to check DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET." + rid},
		{"401", apiErr(401, "", ""), "~rejected the bot's credentials"},
		{"missing scope with detail", scoped,
			"The app lacks the DingTalk permission qyapi_chat_manage and Contact.User.Read, so the group was not created. An admin can grant it in the DingTalk developer console → the app → Permissions, then publish a new version of the app." + rid},
		{"missing scope without detail", apiErr(403, "Forbidden.AccessDenied.AccessTokenPermissionDenied", ""),
			"~lacks the DingTalk permission qyapi_chat_manage,"},
		{"bad client secret", apiErr(400, "invalidClientIdOrSecret", ""), "~client ID or secret is wrong"},
		{"ip allow-list", apiErr(403, "Forbidden.AccessDenied.IpNotInWhiteList", "访问ip不在白名单之中"), "~IP allow-list"},
		{"monthly quota", apiErr(403, "Forbidden.AccessDenied.ApiCountLimitForOrg", ""), "~used up its monthly DingTalk API quota"},
		{"other code", apiErr(400, "some.newCode", "{\"raw\":\"json\"}"), "DingTalk refused to create the group (code some.newCode)." + rid},
		{"other status, no code, no request id", noID, "DingTalk refused to create the group (HTTP status 418)."},
		{"code with markup is not echoed", apiErr(400, "<a href=x>", ""), "DingTalk refused to create the group (HTTP status 400)." + rid},
		{"deadline", fmt.Errorf("post: %w", context.DeadlineExceeded), "~DingTalk did not answer in time; the group MAY have been created."},
		{"canceled", context.Canceled, "~The request was interrupted"},
		{"network error", errors.New("dial tcp: lookup api.dingtalk.com: no such host"),
			"I could not reach DingTalk, so the group was not created. Try again in a few minutes; if it keeps failing, ask an admin to check the bot's logs."},
		{"nil error", nil, "~I could not reach DingTalk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FailedReply(testCreate(), tt.err).Text
			if sub, ok := strings.CutPrefix(tt.want, "~"); ok {
				if !strings.Contains(got, sub) {
					t.Errorf("FailedReply\n%s\nwant it to contain %q", got, sub)
				}
			} else if got != tt.want {
				t.Errorf("FailedReply\n got %q\nwant %q", got, tt.want)
			}
			for _, leak := range []string{"http", "dial", "{", "group.create", "outcome unknown"} {
				if strings.Contains(got, leak) {
					t.Errorf("FailedReply leaks %q:\n%s", leak, got)
				}
			}
		})
	}
}

func TestFailedReplyNilCreate(t *testing.T) {
	got := FailedReply(nil, apiErr(400, "permession.checkFailed", "群主不在应用可见性内")).Text
	if !strings.Contains(got, "the owner (the owner)") && !strings.HasPrefix(got, "DingTalk refused: the owner") {
		t.Errorf("unexpected reply %q", got)
	}
}

func TestNonTextReply(t *testing.T) {
	if got, want := NonTextReply().Text, "I can only read text messages. Type a command such as /newgroup, or /help to see them all."; got != want {
		t.Errorf("NonTextReply() = %q, want %q", got, want)
	}
}

// CreatedReply is the default Language's reply after DingTalk created cg's group.
func CreatedReply(cg *CreateGroup, resp *dingclient.CreateGroupResponse) Reply {
	l, _ := New(Settings{})
	return l.createdReply(cg, resp, nil)
}

// FailedReply is the default Language's reply to a failed create of cg.
func FailedReply(cg *CreateGroup, err error) Reply {
	l, _ := New(Settings{})
	if cg == nil {
		return l.FailedReply(nil, err)
	}
	return l.FailedReply(cg, err)
}
