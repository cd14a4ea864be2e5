package dingtalktest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
	"github.com/dingbot/dingbot/internal/testutil/fakeclient"
)

func addDirectory(srv *dingtalktest.Server) {
	srv.AddUser(dingtalktest.User{UserID: "owner1", Name: "Owner", Mobile: "13800000001", Active: true, Visible: true})
	srv.AddUser(dingtalktest.User{UserID: "alice01", Name: "Alice", Mobile: "13800000002", UnionID: "uAlice", Title: "QA", DeptIDs: []int64{2, 3}, Admin: true, Active: true, Visible: true})
	srv.AddUser(dingtalktest.User{UserID: "alice02", Name: "Alice Wang", Mobile: "13800000003", Active: true})
	srv.AddUser(dingtalktest.User{UserID: "malice", Name: "Malice", Active: true})
	srv.AddUser(dingtalktest.User{UserID: "bob02", Name: "Bob", Active: true})
	srv.AddUser(dingtalktest.User{UserID: "gone", Name: "Alice Gone", Mobile: "13800000009", Active: false, Visible: true})
}

// legacy POSTs body to a topapi path with token as the access_token query parameter.
func legacy(t *testing.T, srv *dingtalktest.Server, path, token, body string) map[string]any {
	t.Helper()
	u := srv.URL() + path
	if token != "" {
		u += "?access_token=" + url.QueryEscape(token)
	}
	status, m := do(t, "POST", u, "", "application/json", body)
	if status != 200 {
		t.Errorf("%s: HTTP %d, legacy APIs always answer 200", path, status)
	}
	if id, _ := m["request_id"].(string); id == "" {
		t.Errorf("%s: no request_id in %v", path, m)
	}
	return m
}

func errcode(m map[string]any) int {
	f, _ := m["errcode"].(float64)
	return int(f)
}

func TestUserByMobile(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addDirectory(srv)
	tok := fetchToken(t, srv)
	const p = dingtalktest.PathUserByMobile
	for _, tc := range []struct {
		name, token, body string
		code              int
		msg               string
	}{
		{"no token", "", `{"mobile":"13800000002"}`, 40014, "不合法的access_token"},
		{"wrong token", "nope", `{"mobile":"13800000002"}`, 40014, "不合法的access_token"},
		{"not JSON", tok, `mobile=13800000002`, 400002, "无效的参数"},
		{"not an object", tok, `["13800000002"]`, 400002, "无效的参数"},
		{"mobile missing", tok, `{}`, 400002, "无效的参数"},
		{"mobile empty", tok, `{"mobile":""}`, 400002, "无效的参数"},
		{"mobile a number", tok, `{"mobile":13800000002}`, 400002, "无效的参数"},
		{"country code", tok, `{"mobile":"+8613800000002"}`, 40104, "企业中无效的手机号"},
		{"86 prefix", tok, `{"mobile":"8613800000002"}`, 40104, "企业中无效的手机号"},
		{"dashes", tok, `{"mobile":"138-0000-0002"}`, 40104, "企业中无效的手机号"},
		{"spaces", tok, `{"mobile":"138 0000 0002"}`, 40104, "企业中无效的手机号"},
		{"unknown", tok, `{"mobile":"13999999999"}`, 60121, "未找到该用户"},
		{"inactive user", tok, `{"mobile":"13800000009"}`, 60121, "未找到该用户"},
		{"ok", tok, `{"mobile":"13800000002"}`, 0, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := legacy(t, srv, p, tc.token, tc.body)
			if errcode(m) != tc.code || m["errmsg"] != tc.msg {
				t.Errorf("got %v, want errcode %d %q", m, tc.code, tc.msg)
			}
			res, hasResult := m["result"].(map[string]any)
			if tc.code == 0 && (!hasResult || res["userid"] != "alice01") {
				t.Errorf("result = %v", m["result"])
			}
			if tc.code != 0 && hasResult {
				t.Errorf("error with a result: %v", m)
			}
		})
	}
	// The legacy API ignores the v1.0 header.
	status, m := do(t, "POST", srv.URL()+p, tok, "application/json", `{"mobile":"13800000002"}`)
	if status != 200 || errcode(m) != 40014 {
		t.Errorf("header token: %d %v", status, m)
	}
	if n := srv.LookupCalls(p); n != 15 {
		t.Errorf("LookupCalls = %d, want 15", n)
	}
	calls := srv.Calls(p)
	if last := calls[len(calls)-1]; last.TokenInQuery || last.Code != "40014" {
		t.Errorf("last call = %+v", last)
	}
	if ok := calls[len(calls)-2]; !ok.TokenInQuery || ok.Code != "0" || string(ok.Raw) != `{"mobile":"13800000002"}` {
		t.Errorf("ok call = %+v", ok)
	}

	srv.FailNextLegacy(p, dingtalktest.ErrcodeSystemBusy, dingtalktest.ErrmsgSystemBusy)
	if m := legacy(t, srv, p, tok, `{"mobile":"13800000002"}`); errcode(m) != -1 || m["errmsg"] != "系统繁忙" {
		t.Errorf("scripted: %v", m)
	}
	if m := legacy(t, srv, p, tok, `{"mobile":"13800000002"}`); errcode(m) != 0 {
		t.Errorf("after scripted: %v", m)
	}
	if c := srv.Calls(p); !c[len(c)-2].Scripted || c[len(c)-2].Code != "-1" {
		t.Errorf("scripted record = %+v", c[len(c)-2])
	}
}

func TestUserGet(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addDirectory(srv)
	tok := fetchToken(t, srv)
	const p = dingtalktest.PathUserGet
	for _, tc := range []struct {
		name, token, body string
		code              int
	}{
		{"no token", "", `{"userid":"alice01"}`, 40014},
		{"not JSON", tok, `{`, 400002},
		{"userid missing", tok, `{"language":"zh_CN"}`, 400002},
		{"userid a number", tok, `{"userid":1}`, 400002},
		{"bad language", tok, `{"userid":"alice01","language":"klingon"}`, 400002},
		{"unknown", tok, `{"userid":"ghost","language":"zh_CN"}`, 33012},
	} {
		if m := legacy(t, srv, p, tc.token, tc.body); errcode(m) != tc.code {
			t.Errorf("%s: %v, want errcode %d", tc.name, m, tc.code)
		}
	}
	m := legacy(t, srv, p, tok, `{"userid":"unknown-user"}`)
	if m["errmsg"] != "无效的userId" {
		t.Errorf("unknown: %v", m)
	}
	m = legacy(t, srv, p, tok, `{"userid":"alice01","language":"zh_CN"}`)
	want := map[string]any{"userid": "alice01", "unionid": "uAlice", "name": "Alice", "active": true,
		"dept_id_list": []any{float64(2), float64(3)}, "title": "QA", "admin": true}
	if errcode(m) != 0 || !reflect.DeepEqual(m["result"], want) {
		t.Errorf("alice01: %v", m)
	}
	m = legacy(t, srv, p, tok, `{"userid":"gone"}`)
	res, _ := m["result"].(map[string]any)
	if errcode(m) != 0 || res["active"] != false || !reflect.DeepEqual(res["dept_id_list"], []any{}) {
		t.Errorf("inactive user: %v", m)
	}
	if n := srv.LookupCalls(p); n != 9 {
		t.Errorf("LookupCalls = %d", n)
	}
}

func TestUserSearch(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addDirectory(srv)
	tok := fetchToken(t, srv)
	u := srv.URL() + dingtalktest.PathUserSearch
	for _, body := range []string{
		`{"offset":0,"size":10}`,
		`{"queryWord":"","offset":0,"size":10}`,
		`{"queryWord":"  ","offset":0,"size":10}`,
		`{"queryWord":"alice","size":10}`,
		`{"queryWord":"alice","offset":-1,"size":10}`,
		`{"queryWord":"alice","offset":"0","size":10}`,
		`{"queryWord":"alice","offset":0}`,
		`{"queryWord":"alice","offset":0,"size":0}`,
		`{"queryWord":"alice","offset":0,"size":101}`,
		`{"queryWord":"alice","offset":0,"size":10,"fullMatchField":2}`,
		`{"queryWord":7,"offset":0,"size":10}`,
	} {
		status, m := do(t, "POST", u, tok, "application/json", body)
		if status != 400 || m["code"] != "parameter.error" {
			t.Errorf("%s: %d %v", body, status, m)
		}
	}
	if status, m := do(t, "POST", u, "", "application/json", `{"queryWord":"alice","offset":0,"size":10}`); status != 400 || m["code"] != "InvalidAuthentication" {
		t.Errorf("no token: %d %v", status, m)
	}
	for _, tc := range []struct {
		body    string
		list    []any
		total   float64
		hasMore bool
	}{
		{`{"queryWord":"ALICE","offset":0,"size":10,"fullMatchField":1}`, []any{"alice01"}, 1, false},
		{`{"queryWord":"alice","offset":0,"size":10}`, []any{"alice01", "alice02", "malice"}, 3, false}, // "Alice Gone" is inactive
		{`{"queryWord":"alice","offset":0,"size":2}`, []any{"alice01", "alice02"}, 3, true},
		{`{"queryWord":"alice","offset":2,"size":2}`, []any{"malice"}, 3, false},
		{`{"queryWord":"alice","offset":9,"size":2}`, []any{}, 3, false},
		{`{"queryWord":"nobody","offset":0,"size":10,"fullMatchField":1}`, []any{}, 0, false},
		{`{"queryWord":"Alice Wang","offset":0,"size":10,"fullMatchField":0}`, []any{"alice02"}, 1, false},
	} {
		status, m := do(t, "POST", u, tok, "application/json", tc.body)
		if status != 200 || !reflect.DeepEqual(m["list"], tc.list) || m["totalCount"] != tc.total || m["hasMore"] != tc.hasMore {
			t.Errorf("%s: %d %v", tc.body, status, m)
		}
	}
	srv.FailNextSearch(500, dingtalktest.CodeSystemBusy, "系统繁忙")
	if status, m := do(t, "POST", u, tok, "application/json", `{"queryWord":"alice","offset":0,"size":10}`); status != 500 || m["code"] != "system.busy" {
		t.Errorf("scripted: %d %v", status, m)
	}
	if status, _ := do(t, "POST", u, tok, "application/json", `{"queryWord":"alice","offset":0,"size":10}`); status != 200 {
		t.Errorf("after scripted: %d", status)
	}
	if n := srv.LookupCalls(dingtalktest.PathUserSearch); n != 21 {
		t.Errorf("LookupCalls = %d, want 21", n)
	}
}

// createGroup creates a group through the fake's API and returns its chatid.
func createGroup(t *testing.T, srv *dingtalktest.Server, tok string, members ...string) string {
	t.Helper()
	ids, _ := json.Marshal(members)
	status, m := do(t, "POST", srv.URL()+"/v1.0/im/group/create", tok, "application/json",
		`{"name":"Release","owner":"`+members[0]+`","useridlist":`+string(ids)+`}`)
	chatid, _ := m["chatid"].(string)
	if status != 200 || chatid == "" {
		t.Fatalf("create: %d %v", status, m)
	}
	return chatid
}

func TestGroupUpdate(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addDirectory(srv)
	tok := fetchToken(t, srv)
	chat := createGroup(t, srv, tok, "owner1", "alice01")
	u := srv.URL() + dingtalktest.PathGroupUpdate
	many := make([]string, 41)
	for i := range many {
		many[i] = "u" + strconv.Itoa(i)
		srv.AddUser(dingtalktest.User{UserID: many[i], Active: true})
	}
	manyJSON, _ := json.Marshal(many)
	for _, tc := range []struct{ name, body string }{
		{"not an object", `[]`},
		{"chatid missing", `{"add_useridlist":["bob02"]}`},
		{"chatid empty", `{"chatid":"","add_useridlist":["bob02"]}`},
		{"chatid unknown", `{"chatid":"chatNOPE","add_useridlist":["bob02"]}`},
		{"chatid a number", `{"chatid":5,"add_useridlist":["bob02"]}`},
		{"list a string", `{"chatid":"` + chat + `","add_useridlist":"bob02"}`},
		{"41 members", `{"chatid":"` + chat + `","add_useridlist":` + string(manyJSON) + `}`},
		{"unknown user", `{"chatid":"` + chat + `","add_useridlist":["bob02","ghost"]}`},
		{"inactive user", `{"chatid":"` + chat + `","add_useridlist":["gone"]}`},
		{"empty user", `{"chatid":"` + chat + `","add_useridlist":[""]}`},
		{"remove owner", `{"chatid":"` + chat + `","del_useridlist":["owner1"]}`},
		{"name too long", `{"chatid":"` + chat + `","name":"123456789012345678901"}`},
		{"ownerType not modelled", `{"chatid":"` + chat + `","ownerType":"emp"}`},
	} {
		status, m := do(t, "POST", u, tok, "application/json", tc.body)
		if status != 400 || m["code"] != "parameter.invalid" {
			t.Errorf("%s: %d %v", tc.name, status, m)
		}
	}
	if g := srv.Groups()[0]; !reflect.DeepEqual(g.Members, []string{"owner1", "alice01"}) {
		t.Fatalf("a rejected call changed the group: %v", g.Members)
	}
	if status, m := do(t, "POST", u, "", "application/json", `{"chatid":"`+chat+`","add_useridlist":["bob02"]}`); status != 400 || m["code"] != "InvalidAuthentication" {
		t.Errorf("no token: %d %v", status, m)
	}

	status, m := do(t, "POST", u, tok, "application/json", `{"chatid":"`+chat+`","add_useridlist":["bob02","alice01","bob02"]}`)
	if status != 200 || m["success"] != true {
		t.Fatalf("add: %d %v", status, m)
	}
	if g := srv.Groups()[0]; !reflect.DeepEqual(g.Members, []string{"owner1", "alice01", "bob02"}) {
		t.Errorf("members = %v", g.Members)
	}
	before := srv.Groups()[0].Members
	if status, _ := do(t, "POST", u, tok, "application/json", `{"chatid":"`+chat+`","del_useridlist":["alice01"],"name":"Renamed"}`); status != 200 {
		t.Errorf("del: %d", status)
	}
	if g := srv.Groups()[0]; !reflect.DeepEqual(g.Members, []string{"owner1", "bob02"}) || g.Name != "Renamed" {
		t.Errorf("after del: %v %q", g.Members, g.Name)
	}
	if !reflect.DeepEqual(before, []string{"owner1", "alice01", "bob02"}) {
		t.Errorf("a slice returned by Groups changed: %v", before)
	}

	srv.FailNextUpdate(500, "system.error", "请重试")
	if status, m := do(t, "POST", u, tok, "application/json", `{"chatid":"`+chat+`","add_useridlist":["alice01"]}`); status != 500 || m["code"] != "system.error" {
		t.Errorf("scripted: %d %v", status, m)
	}
	if g := srv.Groups()[0]; slices.Contains(g.Members, "alice01") {
		t.Error("scripted failure applied the update")
	}
	srv.FailNext(dingtalktest.PathGroupUpdate, dingtalktest.Response{Status: 500, Code: "system.error", Message: "请重试", CreateAnyway: true})
	if status, _ := do(t, "POST", u, tok, "application/json", `{"chatid":"`+chat+`","add_useridlist":["alice01"]}`); status != 500 {
		t.Errorf("CreateAnyway: %d", status)
	}
	if g := srv.Groups()[0]; !slices.Contains(g.Members, "alice01") {
		t.Error("CreateAnyway did not apply the update")
	}

	reqs := srv.UpdateRequests()
	if len(reqs) != 18 || srv.LookupCalls(dingtalktest.PathGroupUpdate) != 18 {
		t.Fatalf("UpdateRequests = %d, LookupCalls = %d", len(reqs), srv.LookupCalls(dingtalktest.PathGroupUpdate))
	}
	if r := reqs[3]; r.Status != 400 || !strings.Contains(r.Reason, "unknown chatid") || r.Request == nil || *r.Request.ChatID != "chatNOPE" {
		t.Errorf("unknown chatid record = %+v", r)
	}
	if r := reqs[14]; r.Status != 200 || !reflect.DeepEqual(r.Request.AddUserIDs, []string{"bob02", "alice01", "bob02"}) {
		t.Errorf("add record = %+v", r)
	}
	if r := reqs[16]; !r.Scripted || r.Status != 500 {
		t.Errorf("scripted record = %+v", r)
	}
}

func TestGroupUpdateMemberCap(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addDirectory(srv)
	tok := fetchToken(t, srv)
	chat := createGroup(t, srv, tok, "owner1", "alice01")
	var ids []string
	for i := range 999 {
		id := fmt.Sprintf("m%04d", i)
		ids = append(ids, id)
		srv.AddUser(dingtalktest.User{UserID: id, Active: true})
	}
	add := func(chunk []string) (int, map[string]any) {
		b, _ := json.Marshal(chunk)
		return do(t, "POST", srv.URL()+dingtalktest.PathGroupUpdate, tok, "application/json", `{"chatid":"`+chat+`","add_useridlist":`+string(b)+`}`)
	}
	for i := 0; i < 998; i += 40 {
		if status, m := add(ids[i:min(i+40, 998)]); status != 200 {
			t.Fatalf("chunk at %d: %d %v", i, status, m)
		}
	}
	if n := len(srv.Groups()[0].Members); n != 1000 {
		t.Fatalf("members = %d", n)
	}
	if status, m := add(ids[998:]); status != 400 || m["code"] != "parameter.invalid" {
		t.Errorf("member 1001: %d %v", status, m)
	}
	if status, _ := add(ids[:3]); status != 200 { // re-adding members is harmless
		t.Errorf("re-add: %d", status)
	}
}

// TestClientRoundTrip drives dingclient against the fake for the lookup and
// group-update endpoints.
func TestClientRoundTrip(t *testing.T) {
	srv := newServer(t, dingtalktest.Options{})
	addDirectory(srv)
	var ids []string
	for i := range 95 {
		id := fmt.Sprintf("staff%03d", i)
		ids = append(ids, id)
		srv.AddUser(dingtalktest.User{UserID: id, Name: "Staff " + strconv.Itoa(i), Active: i != 50})
	}
	var observed []string
	c := fakeclient.ClientFor(t, srv, func(cfg *dingclient.Config) {
		cfg.Retry = dingclient.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
		cfg.Observe = func(api, code string) { observed = append(observed, api+" "+code) } // calls are sequential
	})
	ctx := testutil.CtxTimeout(t, 20*time.Second)
	secretFree := func(err error) {
		t.Helper()
		if err != nil && strings.Contains(err.Error(), srv.ClientSecret()) {
			t.Errorf("secret in %v", err)
		}
	}

	// user.by_mobile
	if id, err := c.UserByMobile(ctx, "13800000002"); err != nil || id != "alice01" {
		t.Errorf("UserByMobile = %q, %v", id, err)
	}
	_, err := c.UserByMobile(ctx, "13800000009") // inactive
	var le *dingclient.LegacyError
	if !errors.Is(err, dingclient.ErrUserNotFound) || !errors.As(err, &le) || le.ErrCode != 60121 {
		t.Errorf("inactive: %v", err)
	}
	if _, err = c.UserByMobile(ctx, "+86 138"); !errors.Is(err, dingclient.ErrUserNotFound) {
		t.Errorf("malformed: %v", err)
	}
	srv.FailNextLegacy(dingtalktest.PathUserByMobile, dingtalktest.ErrcodeSystemBusy, dingtalktest.ErrmsgSystemBusy)
	srv.FailNextLegacy(dingtalktest.PathUserByMobile, dingtalktest.ErrcodeQPSLimitApp, "qps")
	if id, err := c.UserByMobile(ctx, "13800000001"); err != nil || id != "owner1" {
		t.Errorf("after throttling: %q, %v", id, err)
	}
	srv.ExpireTokens()
	fetches := srv.TokenFetches()
	if id, err := c.UserByMobile(ctx, "13800000001"); err != nil || id != "owner1" {
		t.Errorf("after token expiry: %q, %v", id, err)
	}
	if srv.TokenFetches() != fetches+1 {
		t.Errorf("token not refetched once: %d → %d", fetches, srv.TokenFetches())
	}
	srv.FailNextLegacy(dingtalktest.PathUserByMobile, dingtalktest.ErrcodeNoPermission, dingtalktest.ErrmsgNoPermission)
	if _, err = c.UserByMobile(ctx, "13800000001"); !dingclient.IsPermissionDenied(err) {
		t.Errorf("60011: %v", err)
	}
	for _, call := range srv.Calls(dingtalktest.PathUserByMobile) {
		if !call.TokenInQuery || call.Header.Get("x-acs-dingtalk-access-token") != "" {
			t.Errorf("legacy call without the query token, or with the header: %+v", call)
		}
	}

	// user.get
	u, err := c.GetUser(ctx, "alice01")
	want := dingclient.User{UserID: "alice01", UnionID: "uAlice", Name: "Alice", Title: "QA", Active: true, Admin: true, DeptIDs: []int64{2, 3}}
	if err != nil || !reflect.DeepEqual(*u, want) {
		t.Errorf("GetUser = %+v, %v", u, err)
	}
	if _, err = c.GetUser(ctx, "ghost"); !errors.Is(err, dingclient.ErrUserNotFound) || !errors.As(err, &le) || le.ErrCode != 33012 {
		t.Errorf("GetUser ghost: %v", err)
	}

	// user.search
	if got, err := c.SearchUsers(ctx, "alice", true, 10); err != nil || !reflect.DeepEqual(got, []string{"alice01"}) {
		t.Errorf("exact search = %v, %v", got, err)
	}
	if got, err := c.SearchUsers(ctx, "alice", false, 2); err != nil || !reflect.DeepEqual(got, []string{"alice01", "alice02"}) {
		t.Errorf("fuzzy search = %v, %v", got, err)
	}
	if got, err := c.SearchUsers(ctx, "nobody", true, 10); err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty search = %#v, %v", got, err)
	}
	srv.FailNextSearch(500, dingtalktest.CodeSystemBusy, "系统繁忙")
	if got, err := c.SearchUsers(ctx, "Bob", true, 10); err != nil || !reflect.DeepEqual(got, []string{"bob02"}) {
		t.Errorf("search after 500 system.busy = %v, %v", got, err)
	}

	// group.update
	g, err := c.CreateGroup(ctx, &dingclient.CreateGroupRequest{Name: "Release 4.2", Owner: "owner1", UserIDs: []string{"owner1", "alice01"}})
	if err != nil {
		t.Fatal(err)
	}
	good := slices.Concat(ids[:50], ids[51:])
	notAdded, err := c.AddGroupMembers(ctx, g.ChatID, good)
	if err != nil || notAdded != nil {
		t.Fatalf("AddGroupMembers = %v, %v", notAdded, err)
	}
	reqs := srv.UpdateRequests()
	if len(reqs) != 3 || len(reqs[0].Request.AddUserIDs) != 40 || len(reqs[1].Request.AddUserIDs) != 40 || len(reqs[2].Request.AddUserIDs) != 14 {
		t.Errorf("update calls = %d", len(reqs))
	}
	if n := len(srv.Groups()[0].Members); n != 2+94 {
		t.Errorf("members = %d", n)
	}
	// staff050 is inactive: its chunk (the second) is rejected as a whole, the others go through.
	notAdded, err = c.AddGroupMembers(ctx, g.ChatID, append([]string{"bob02"}, ids...))
	secretFree(err)
	var ame *dingclient.AddMembersError
	if !errors.As(err, &ame) || len(ame.Failed) != 1 || len(notAdded) != 40 || !slices.Contains(notAdded, "staff050") {
		t.Fatalf("partial failure: %v, %v", notAdded, err)
	}
	var ae *dingclient.APIError
	if !errors.As(err, &ae) || ae.Code != "parameter.invalid" || ae.API != "group.update" {
		t.Errorf("APIError = %+v", ae)
	}
	if members := srv.Groups()[0].Members; !slices.Contains(members, "bob02") || slices.Contains(members, "staff050") {
		t.Errorf("members after partial failure: %d", len(members))
	}
	_, err = c.AddGroupMembers(ctx, "chatNOPE", []string{"bob02"})
	if !errors.As(err, &ae) || ae.Code != "parameter.invalid" {
		t.Errorf("unknown chatid: %v", err)
	}

	want1 := []string{"token ok", "user.by_mobile ok", "user.by_mobile 60121", "user.by_mobile 40104", "user.by_mobile -1", "user.by_mobile 90018", "user.by_mobile ok", "user.by_mobile 40014", "token ok", "user.by_mobile ok", "user.by_mobile 60011"}
	if !slices.Equal(observed[:len(want1)], want1) {
		t.Errorf("observed %q\nwant     %q", observed[:len(want1)], want1)
	}
	for _, o := range observed {
		if strings.Contains(o, "access_token") {
			t.Errorf("observation %q", o)
		}
	}
}
