package dingtalktest

import (
	"net/http"
	"strings"
)

// Permission scopes of the APIs the fake serves, as DingTalk names them in
// accessdenieddetail.requiredScopes.
const (
	ScopeChatManage        = "qyapi_chat_manage"
	ScopeAddressListSearch = "qyapi_addresslist_search"
	ScopeMemberByMobile    = "qyapi_get_member_by_mobile"
	ScopeMember            = "qyapi_get_member"
	ScopeRobotSend         = "qyapi_robot_sendmsg"

	// CodeScopeDenied is the v1.0 error code of a call the app lacks the permission for.
	CodeScopeDenied = "Forbidden.AccessDenied.AccessTokenPermissionDenied"
	// MsgScopeDenied is its message.
	MsgScopeDenied = "没有调用该接口的权限，接口权限申请参考：https://open.dingtalk.com/document/orgapp-server/add-api-permission"
)

// pathScopes maps each API path to the scope it needs.
var pathScopes = map[string]string{
	"/v1.0/im/group/create": ScopeChatManage,
	PathGroupUpdate:         ScopeChatManage,
	PathUserSearch:          ScopeAddressListSearch,
	PathUserByMobile:        ScopeMemberByMobile,
	PathUserGet:             ScopeMember,
	PathRobotGroupSend:      ScopeRobotSend,
	// Unverified: DingTalk documents no scope for adding the robot; the
	// fake assumes the group-management one.
	PathConversationRobots:              ScopeChatManage,
	"/v1.0/robot/oToMessages/batchSend": ScopeRobotSend,
}

// DenyScope makes the app lack the permission the API at path needs (one of
// the Path… constants or another API path the fake serves), until AllowScope:
// every call with a valid token then fails as DingTalk answers it — a v1.0
// API with HTTP 403 Forbidden.AccessDenied.AccessTokenPermissionDenied and
// accessdenieddetail.requiredScopes, a legacy /topapi API with HTTP 200
// errcode 60011. Calls with an invalid token are still refused for the token.
// Denied calls are not recorded by Calls or CreateRequests.
func (s *Server) DenyScope(path string) {
	scope := pathScopes[path]
	if scope == "" {
		scope = "qyapi_unknown"
	}
	s.mu.Lock()
	if s.deniedScopes == nil {
		s.deniedScopes = map[string]string{}
	}
	s.deniedScopes[path] = scope
	s.mu.Unlock()
}

// AllowScope undoes DenyScope(path).
func (s *Server) AllowScope(path string) {
	s.mu.Lock()
	delete(s.deniedScopes, path)
	s.mu.Unlock()
}

// denyScope answers r as a call without permission if its path is denied
// and its token is valid; it reports whether it answered.
func (s *Server) denyScope(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	scope, denied := s.deniedScopes[r.URL.Path]
	s.mu.Unlock()
	if !denied {
		return false
	}
	if strings.HasPrefix(r.URL.Path, "/topapi/") {
		if !s.validToken(r.URL.Query().Get("access_token")) {
			return false
		}
		writeLegacy(w, ErrcodeNoPermission, ErrmsgNoPermission, nil)
		return true
	}
	if !s.validToken(r.Header.Get("x-acs-dingtalk-access-token")) {
		return false
	}
	id := newRequestID()
	w.Header().Set("x-acs-request-id", id)
	writeJSON(w, http.StatusForbidden, map[string]any{
		"code": CodeScopeDenied, "message": MsgScopeDenied, "requestid": id,
		"accessdenieddetail": map[string]any{"requiredScopes": []string{scope}},
	})
	return true
}
