package dingtalktest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
	"github.com/dingbot/dingbot/internal/testutil/fakeclient"
)

// createGroupIDs creates a group through the fake's API and returns its
// chatid and openConversationId.
func createGroupIDs(t *testing.T, srv *dingtalktest.Server, tok string, members ...string) (chatid, cid string) {
	t.Helper()
	ids, _ := json.Marshal(members)
	status, m := do(t, "POST", srv.URL()+"/v1.0/im/group/create", tok, "application/json",
		`{"name":"Release","owner":"`+members[0]+`","useridlist":`+string(ids)+`}`)
	chatid, _ = m["chatid"].(string)
	cid, _ = m["openConversationId"].(string)
	if status != 200 || chatid == "" || cid == "" {
		t.Fatalf("create: %d %v", status, m)
	}
	return chatid, cid
}

func TestGroupUpdateOwner(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addDirectory(srv) // owner1, alice01 visible; bob02 not visible; gone inactive
	tok := fetchToken(t, srv)
	chat := createGroup(t, srv, tok, "owner1", "alice01")
	u := srv.URL() + dingtalktest.PathGroupUpdate
	if status, m := do(t, "POST", u, tok, "application/json", `{"chatid":"`+chat+`","add_useridlist":["bob02"]}`); status != 200 {
		t.Fatalf("add bob02: %d %v", status, m)
	}
	for _, tc := range []struct{ name, body, code, msg string }{
		{"not a member", `{"chatid":"` + chat + `","owner":"malice"}`, "parameter.invalid", "输入参数错误"},
		{"added in the same call", `{"chatid":"` + chat + `","owner":"malice","add_useridlist":["malice"]}`, "parameter.invalid", "输入参数错误"},
		{"empty", `{"chatid":"` + chat + `","owner":""}`, "parameter.invalid", "输入参数错误"},
		{"unknown user", `{"chatid":"` + chat + `","owner":"ghost"}`, "parameter.invalid", "输入参数错误"},
		{"a number", `{"chatid":"` + chat + `","owner":7}`, "parameter.invalid", "输入参数错误"},
		{"new owner removed", `{"chatid":"` + chat + `","owner":"alice01","del_useridlist":["alice01"]}`, "parameter.invalid", "输入参数错误"},
		{"old owner removed in the transfer", `{"chatid":"` + chat + `","owner":"alice01","del_useridlist":["owner1"]}`, "parameter.invalid", "输入参数错误"},
		{"outside visibility", `{"chatid":"` + chat + `","owner":"bob02"}`, "permession.checkFailed", "群主不在应用可见性内"},
		{"unknown chatid", `{"chatid":"chatNOPE","owner":"alice01"}`, "parameter.invalid", "输入参数错误"},
	} {
		status, m := do(t, "POST", u, tok, "application/json", tc.body)
		if status != 400 || m["code"] != tc.code || m["message"] != tc.msg {
			t.Errorf("%s: %d %v", tc.name, status, m)
		}
	}
	if g := srv.Groups()[0]; g.Owner != "owner1" || !reflect.DeepEqual(g.Members, []string{"owner1", "alice01", "bob02"}) || g.Name != "Release" {
		t.Fatalf("a rejected call changed the group: %+v", g)
	}

	if status, m := do(t, "POST", u, tok, "application/json", `{"chatid":"`+chat+`","owner":"alice01","name":"Release 4.3"}`); status != 200 || m["success"] != true {
		t.Fatalf("transfer: %d %v", status, m)
	}
	if g := srv.Groups()[0]; g.Owner != "alice01" || g.Name != "Release 4.3" {
		t.Errorf("after transfer: owner %q, name %q", g.Owner, g.Name)
	}
	// The former owner is an ordinary member now; the new one cannot be removed.
	if status, m := do(t, "POST", u, tok, "application/json", `{"chatid":"`+chat+`","del_useridlist":["owner1"]}`); status != 200 {
		t.Errorf("remove former owner: %d %v", status, m)
	}
	if status, _ := do(t, "POST", u, tok, "application/json", `{"chatid":"`+chat+`","del_useridlist":["alice01"]}`); status != 400 {
		t.Errorf("remove the new owner: %d", status)
	}
	if status, _ := do(t, "POST", u, tok, "application/json", `{"chatid":"`+chat+`","owner":"alice01"}`); status != 200 {
		t.Errorf("owner set again (a repeat): %d", status)
	}
	if g := srv.Groups()[0]; g.Owner != "alice01" || !reflect.DeepEqual(g.Members, []string{"alice01", "bob02"}) {
		t.Errorf("group = %+v", g)
	}
	reqs := srv.UpdateRequests()
	if r := reqs[len(reqs)-4]; r.Status != 200 || r.Request.Owner == nil || *r.Request.Owner != "alice01" || *r.Request.Name != "Release 4.3" {
		t.Errorf("transfer record = %+v", r)
	}
	if r := reqs[8]; r.Code != "permession.checkFailed" || !strings.Contains(r.Reason, "visibility") {
		t.Errorf("visibility record = %+v", r)
	}
}

func TestAddRobot(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addDirectory(srv)
	tok := fetchToken(t, srv)
	_, cid := createGroupIDs(t, srv, tok, "owner1", "alice01")
	add := srv.URL() + dingtalktest.PathConversationRobots
	send := srv.URL() + dingtalktest.PathRobotGroupSend
	body := func(conv, robot string) string {
		b, _ := json.Marshal(map[string]string{"openConversationId": conv, "robotCode": robot})
		return string(b)
	}
	kickoff, _ := json.Marshal(map[string]string{"msgKey": "sampleMarkdown", "msgParam": `{"title":"Kickoff","text":"## Welcome"}`,
		"openConversationId": cid, "robotCode": srv.ClientID()})

	if srv.RobotInGroup(cid) {
		t.Fatal("a group created through the API contains the robot")
	}
	if status, m := do(t, "POST", send, tok, "application/json", string(kickoff)); status != 400 || m["code"] != dingtalktest.CodeRobotNotInGroup {
		t.Errorf("send before adding the robot: %d %v", status, m)
	}
	for _, tc := range []struct{ name, token, body, code string }{
		{"no token", "", body(cid, srv.ClientID()), "InvalidAuthentication"},
		{"robot of another app", tok, body(cid, "dingother"), "invalidParameter.robotCode.auth"},
		{"unknown group", tok, body("cidNOPE==", srv.ClientID()), "parameter.invalid"},
		{"no openConversationId", tok, `{"robotCode":"` + srv.ClientID() + `"}`, "parameter.invalid"},
		{"no robotCode", tok, `{"openConversationId":"` + cid + `"}`, "parameter.invalid"},
		{"openConversationId a number", tok, `{"openConversationId":5,"robotCode":"` + srv.ClientID() + `"}`, "parameter.invalid"},
		{"icon not a mediaId", tok, `{"openConversationId":"` + cid + `","robotCode":"` + srv.ClientID() + `","icon":"http://x/y.png"}`, "parameter.invalid"},
		{"not an object", tok, `["x"]`, "parameter.invalid"},
	} {
		if status, m := do(t, "POST", add, tc.token, "application/json", tc.body); status != 400 || m["code"] != tc.code {
			t.Errorf("%s: %d %v", tc.name, status, m)
		}
	}
	if srv.RobotInGroup(cid) {
		t.Fatal("a rejected call added the robot")
	}

	status, m := do(t, "POST", add, tok, "application/json", `{"openConversationId":"`+cid+`","robotCode":"`+srv.ClientID()+`","name":"小丁","icon":"@lALPDe7s26Bre"}`)
	if status != 200 || m["chatBotUserId"] != srv.BotUserID() {
		t.Fatalf("add: %d %v", status, m)
	}
	if !srv.RobotInGroup(cid) {
		t.Fatal("RobotInGroup false after adding")
	}
	if status, _ := do(t, "POST", add, tok, "application/json", body(cid, srv.ClientID())); status != 200 {
		t.Errorf("adding twice: %d", status)
	}
	if status, m := do(t, "POST", send, tok, "application/json", string(kickoff)); status != 200 || m["processQueryKey"] == "" {
		t.Fatalf("send after adding the robot: %d %v", status, m)
	}
	reps := srv.Replies()
	if len(reps) != 1 || reps[0].Via != dingtalktest.ViaGroupAPI || reps[0].ConversationID != cid || reps[0].MsgKey != "sampleMarkdown" ||
		reps[0].MsgType != "markdown" || reps[0].Title != "Kickoff" || reps[0].Text != "## Welcome" {
		t.Errorf("replies = %+v", reps)
	}

	calls := srv.Calls(dingtalktest.PathConversationRobots)
	if len(calls) != 10 || srv.LookupCalls(dingtalktest.PathConversationRobots) != 10 {
		t.Fatalf("calls = %d", len(calls))
	}
	if c := calls[2]; c.Status != 400 || c.Code != "parameter.invalid" || !strings.Contains(c.Reason, "unknown openConversationId") || c.TokenInQuery {
		t.Errorf("unknown group record = %+v", c)
	}
	if c := calls[8]; c.Status != 200 || c.Code != "" || !strings.Contains(string(c.Raw), cid) || c.Header.Get("x-acs-dingtalk-access-token") != tok {
		t.Errorf("add record = %+v", c)
	}
	if c := calls[9]; c.Status != 200 || !strings.Contains(c.Reason, "already") {
		t.Errorf("second add record = %+v", c)
	}
}

func TestAddRobotKnownGroups(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addDirectory(srv)
	tok := fetchToken(t, srv)
	add := func(cid string) int {
		status, _ := do(t, "POST", srv.URL()+dingtalktest.PathConversationRobots, tok, "application/json",
			`{"openConversationId":"`+cid+`","robotCode":"`+srv.ClientID()+`"}`)
		return status
	}
	// A seeded group and an installed one have the robot; adding it is still fine.
	seeded := srv.SeedGroup(dingtalktest.Group{Name: "Old", Members: []string{"owner1"}})
	srv.InstallBot("cidInstalled==")
	if !srv.RobotInGroup(seeded.OpenConversationID) || !srv.RobotInGroup("cidInstalled==") || add(seeded.OpenConversationID) != 200 || add("cidInstalled==") != 200 {
		t.Error("seeded or installed group")
	}
	// A group a message came from (HTTP mode here) has the robot too.
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer bot.Close()
	resp, err := srv.PostCallback(testutil.CtxTimeout(t, 10*time.Second), bot.URL, dingtalktest.Message{
		Group: true, ConversationID: "cidChat==", SenderID: "owner1", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !srv.RobotInGroup("cidChat==") || add("cidChat==") != 200 {
		t.Error("group of a message")
	}
	if srv.RobotInGroup("cidOther==") || add("cidOther==") != 400 {
		t.Error("unknown group")
	}
}

func TestAddRobotAndSendScripted(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addDirectory(srv)
	tok := fetchToken(t, srv)
	_, cid := createGroupIDs(t, srv, tok, "owner1")
	addBody := `{"openConversationId":"` + cid + `","robotCode":"` + srv.ClientID() + `"}`
	add := srv.URL() + dingtalktest.PathConversationRobots

	srv.FailNext(dingtalktest.PathConversationRobots, dingtalktest.Response{Status: 500, Code: "system.error", Message: "请重试"})
	if status, m := do(t, "POST", add, tok, "application/json", addBody); status != 500 || m["code"] != "system.error" || srv.RobotInGroup(cid) {
		t.Errorf("scripted failure: %d %v, robot in group %v", status, m, srv.RobotInGroup(cid))
	}
	srv.FailNext(dingtalktest.PathConversationRobots, dingtalktest.Response{Status: 500, Code: "system.error", Message: "请重试", CreateAnyway: true})
	if status, _ := do(t, "POST", add, tok, "application/json", addBody); status != 500 || !srv.RobotInGroup(cid) {
		t.Errorf("CreateAnyway: %d, robot in group %v", status, srv.RobotInGroup(cid))
	}
	if c := srv.Calls(dingtalktest.PathConversationRobots); len(c) != 2 || !c[0].Scripted || c[0].Status != 500 || !c[1].Scripted {
		t.Errorf("calls = %+v", c)
	}

	send := srv.URL() + dingtalktest.PathRobotGroupSend
	text := `{"msgKey":"sampleText","msgParam":"{\"content\":\"hi\"}","openConversationId":"` + cid + `","robotCode":"` + srv.ClientID() + `"}`
	srv.FailNext(dingtalktest.PathRobotGroupSend, dingtalktest.Response{Status: 500, Code: "system.error", Message: "请重试"})
	srv.FailNext(dingtalktest.PathRobotGroupSend, dingtalktest.Response{Status: 500, Code: "system.error", Message: "请重试", CreateAnyway: true})
	for i := range 2 {
		if status, _ := do(t, "POST", send, tok, "application/json", text); status != 500 {
			t.Errorf("scripted send %d: %d", i, status)
		}
	}
	if reps := srv.Replies(); len(reps) != 1 || reps[0].MsgKey != "sampleText" || reps[0].Text != "hi" {
		t.Errorf("replies = %+v (only CreateAnyway posts)", reps)
	}
	if status, _ := do(t, "POST", send, tok, "application/json", text); status != 200 || len(srv.Replies()) != 2 {
		t.Errorf("after the scripts: %d", status)
	}
	if c := srv.Calls(dingtalktest.PathRobotGroupSend); len(c) != 3 || !c[0].Scripted || !c[1].Scripted || c[2].Scripted || c[2].Status != 200 {
		t.Errorf("send calls = %+v", c)
	}

	srv.DenyScope(dingtalktest.PathConversationRobots)
	status, m := do(t, "POST", add, tok, "application/json", addBody)
	detail, _ := m["accessdenieddetail"].(map[string]any)
	if status != 403 || m["code"] != dingtalktest.CodeScopeDenied || !reflect.DeepEqual(detail["requiredScopes"], []any{dingtalktest.ScopeChatManage}) {
		t.Errorf("denied scope: %d %v", status, m)
	}
}

// TestClientLifecycleRoundTrip drives dingclient's lifecycle calls (group
// update, robot add, markdown send) against the fake.
func TestClientLifecycleRoundTrip(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addDirectory(srv)
	c := fakeclient.ClientFor(t, srv, func(cfg *dingclient.Config) {
		cfg.Retry = dingclient.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
	})
	ctx := testutil.CtxTimeout(t, 20*time.Second)
	apiErr := func(err error, code string) {
		t.Helper()
		var ae *dingclient.APIError
		if !errors.As(err, &ae) || ae.Code != code {
			t.Errorf("err = %v, want %s", err, code)
		}
		if err != nil && strings.Contains(err.Error(), srv.ClientSecret()) {
			t.Errorf("secret in %v", err)
		}
	}

	g, err := c.CreateGroup(ctx, &dingclient.CreateGroupRequest{Name: "Release 4.2", Owner: "owner1", UserIDs: []string{"owner1", "alice01"}})
	if err != nil {
		t.Fatal(err)
	}
	// The kickoff needs the robot in the group.
	apiErr(c.SendGroupMarkdown(ctx, g.OpenConversationID, "Kickoff", "## Release 4.2"), dingtalktest.CodeRobotNotInGroup)
	srv.FailNext(dingtalktest.PathConversationRobots, dingtalktest.Response{Status: 500, Code: "system.error", Message: "请重试", CreateAnyway: true})
	if err := c.AddRobotToConversation(ctx, g.OpenConversationID); err != nil {
		t.Fatalf("AddRobotToConversation after a 500: %v", err)
	}
	if calls := srv.Calls(dingtalktest.PathConversationRobots); len(calls) != 2 || calls[1].Status != 200 {
		t.Errorf("robot add calls = %+v, want the 500 retried once", calls)
	}
	if err := c.SendGroupMarkdown(ctx, g.OpenConversationID, "Kickoff", "## Release 4.2\n- owner: Owner"); err != nil {
		t.Fatal(err)
	}
	if reps := srv.Replies(); len(reps) != 1 || reps[0].MsgKey != "sampleMarkdown" || reps[0].Title != "Kickoff" || reps[0].Text != "## Release 4.2\n- owner: Owner" {
		t.Errorf("replies = %+v", reps)
	}

	// Rename and transfer, retried after a 500; member changes are not.
	srv.FailNextUpdate(500, dingtalktest.CodeSystemError, dingtalktest.MsgSystemError)
	if err := c.UpdateGroup(ctx, &dingclient.UpdateGroupRequest{ChatID: g.ChatID, Name: "Release 4.3", Owner: "alice01"}); err != nil {
		t.Fatalf("rename after a 500: %v", err)
	}
	srv.FailNext(dingtalktest.PathGroupUpdate, dingtalktest.Response{Status: 500, Code: dingtalktest.CodeSystemError, Message: dingtalktest.MsgSystemError, CreateAnyway: true})
	apiErr(c.UpdateGroup(ctx, &dingclient.UpdateGroupRequest{ChatID: g.ChatID, AddUserIDs: []string{"malice"}}), dingtalktest.CodeSystemError)
	if got := srv.Groups()[0]; got.Name != "Release 4.3" || got.Owner != "alice01" || !slices.Equal(got.Members, []string{"owner1", "alice01", "malice"}) {
		t.Errorf("group = %+v", got)
	}
	apiErr(c.UpdateGroup(ctx, &dingclient.UpdateGroupRequest{ChatID: g.ChatID, Owner: "bob02"}), "parameter.invalid")
	if err := c.UpdateGroup(ctx, &dingclient.UpdateGroupRequest{ChatID: g.ChatID, DelUserIDs: []string{"owner1"}}); err != nil {
		t.Errorf("remove the former owner: %v", err)
	}
	if n := srv.LookupCalls(dingtalktest.PathGroupUpdate); n != 5 {
		t.Errorf("update calls = %d, want 5", n)
	}

	srv.DenyScope(dingtalktest.PathRobotGroupSend)
	err = c.SendGroupMarkdown(ctx, g.OpenConversationID, "T", "x")
	var ae *dingclient.APIError
	if !dingclient.IsPermissionDenied(err) || !errors.As(err, &ae) || !slices.Equal(ae.RequiredScopes, []string{dingtalktest.ScopeRobotSend}) {
		t.Errorf("denied send: %v", err)
	}
}
