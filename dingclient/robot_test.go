package dingclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/dingbot/dingbot/internal/testutil"
)

func TestSendGroupText(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	f.mux.HandleFunc("/v1.0/robot/groupMessages/send", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method %s", r.Method)
		}
		testHeader(t, r, "Content-Type", "application/json")
		testHeader(t, r, "Accept", "application/json")
		testHeader(t, r, "x-acs-dingtalk-access-token", tokenN(1))
		// msgParam is a JSON string holding {"content":...}, not an object.
		testJSONBody(t, r, `{"msgParam":"{\"content\":\"Group \\\"Release 4.2\\\" created\"}","msgKey":"sampleText",`+
			`"openConversationId":"cid6KeBB==","robotCode":"dingROBOT"}`)
		writeJSON(w, 200, `{"processQueryKey":"pqk"}`)
	})
	if err := c.SendGroupText(testutil.Ctx(t), "cid6KeBB==", `Group "Release 4.2" created`); err != nil {
		t.Fatal(f.seen(err))
	}
}

func TestSendGroupText_RobotCodeDefaultsToClientID(t *testing.T) {
	t.Parallel()
	c, f := setup(t, func(cfg *Config) { cfg.RobotCode = "" })
	f.mux.HandleFunc("/v1.0/robot/groupMessages/send", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ RobotCode, MsgParam string }
		json.NewDecoder(r.Body).Decode(&body)
		if body.RobotCode != testClientID {
			t.Errorf("robotCode = %q", body.RobotCode)
		}
		var param struct{ Content string }
		if err := json.Unmarshal([]byte(body.MsgParam), &param); err != nil || param.Content != "hi" {
			t.Errorf("msgParam = %q", body.MsgParam)
		}
		writeJSON(w, 200, `{"processQueryKey":"pqk"}`)
	})
	if err := c.SendGroupText(testutil.Ctx(t), "cid", "hi"); err != nil {
		t.Fatal(f.seen(err))
	}
}

func TestSendGroupText_ErrorsNotRetried(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		body   string
	}{
		{400, `{"code":"resource.not.found","message":"机器人不存在","requestid":"r"}`},
		{500, `{"code":"system.error","message":"busy","requestid":"r"}`},
	} {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			var mu sync.Mutex
			calls := 0
			f.mux.HandleFunc("/v1.0/robot/groupMessages/send", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls++
				mu.Unlock()
				writeJSON(w, tt.status, tt.body)
			})
			err := c.SendGroupText(testutil.Ctx(t), "cid", "hi")
			f.seen(err)
			ae := asAPIError(t, err)
			if ae.HTTPStatus != tt.status || ae.API != "robot.group_send" {
				t.Errorf("APIError = %+v", ae)
			}
			var ou *OutcomeUnknownError
			if errors.As(err, &ou) {
				t.Errorf("sends do not report OutcomeUnknownError: %v", err)
			}
			if calls != 1 {
				t.Errorf("calls = %d, want 1", calls)
			}
		})
	}
}

func TestSendGroupText_TooLong(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	if err := c.SendGroupText(testutil.Ctx(t), "cid", strings.Repeat("x", 20000)); f.seen(err) == nil {
		t.Fatal("want error for an oversized message")
	}
	if f.tokenFetches.Load() != 0 {
		t.Error("oversized message should fail before any request")
	}
}

func TestSendUserText_ChunksOf20(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var mu sync.Mutex
	var chunks [][]string
	f.mux.HandleFunc("/v1.0/robot/oToMessages/batchSend", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "x-acs-dingtalk-access-token", tokenN(1))
		var body struct {
			RobotCode string   `json:"robotCode"`
			UserIDs   []string `json:"userIds"`
			MsgKey    string   `json:"msgKey"`
			MsgParam  string   `json:"msgParam"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Error(err)
		}
		if body.RobotCode != testRobotCode || body.MsgKey != "sampleText" || body.MsgParam != `{"content":"hello"}` {
			t.Errorf("body = %+v", body)
		}
		mu.Lock()
		chunks = append(chunks, body.UserIDs)
		mu.Unlock()
		writeJSON(w, 200, `{"processQueryKey":"pqk","invalidStaffIdList":[],"flowControlledStaffIdList":[]}`)
	})
	var ids []string
	for i := range 45 {
		ids = append(ids, fmt.Sprintf("u%02d", i))
	}
	if err := c.SendUserText(testutil.Ctx(t), ids, "hello"); err != nil {
		t.Fatal(f.seen(err))
	}
	if len(chunks) != 3 || len(chunks[0]) != 20 || len(chunks[1]) != 20 || len(chunks[2]) != 5 {
		t.Fatalf("chunk sizes wrong: %v", chunks)
	}
	var all []string
	for _, c := range chunks {
		all = append(all, c...)
	}
	if strings.Join(all, ",") != strings.Join(ids, ",") {
		t.Errorf("ids sent = %v", all)
	}
}

func TestSendUserText_Undelivered(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	f.mux.HandleFunc("/v1.0/robot/oToMessages/batchSend", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			UserIDs []string `json:"userIds"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		if body.UserIDs[0] == "u00" {
			writeJSON(w, 200, `{"processQueryKey":"a","invalidStaffIdList":["ghost1"]}`)
			return
		}
		writeJSON(w, 200, `{"processQueryKey":"b","invalidStaffIdList":["ghost2"],"flowControlledStaffIdList":["busy1"]}`)
	})
	var ids []string
	for i := range 25 {
		ids = append(ids, fmt.Sprintf("u%02d", i))
	}
	err := c.SendUserText(testutil.Ctx(t), ids, "hello")
	f.seen(err)
	var ue *UndeliveredError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want *UndeliveredError", err)
	}
	if strings.Join(ue.Invalid, ",") != "ghost1,ghost2" || strings.Join(ue.FlowControlled, ",") != "busy1" {
		t.Errorf("UndeliveredError = %+v", ue)
	}
	for _, id := range []string{"ghost1", "ghost2", "busy1"} {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("error %q does not name %s", err, id)
		}
	}
}

func TestSendUserText_ErrorStopsAndWraps(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var mu sync.Mutex
	calls := 0
	f.mux.HandleFunc("/v1.0/robot/oToMessages/batchSend", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 2 {
			writeJSON(w, 403, `{"code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","message":"no","accessdenieddetail":{"requiredScopes":["qyapi_robot_sendmsg"]}}`)
			return
		}
		writeJSON(w, 200, `{"processQueryKey":"a"}`)
	})
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = fmt.Sprint("u", i)
	}
	err := c.SendUserText(testutil.Ctx(t), ids, "x")
	f.seen(err)
	ae := asAPIError(t, err)
	if !ae.PermissionDenied() || ae.RequiredScopes[0] != "qyapi_robot_sendmsg" {
		t.Errorf("APIError = %+v", ae)
	}
	if !strings.Contains(err.Error(), "first 20 of 50") {
		t.Errorf("error = %v", err)
	}
	if calls != 2 {
		t.Errorf("calls = %d, want 2", calls)
	}
	if err := c.SendUserText(testutil.Ctx(t), nil, "x"); f.seen(err) == nil {
		t.Error("want error for no users")
	}
}

// TestSendUserMarkdown: a one-to-one markdown message is msgKey
// sampleMarkdown with {"title","text"} as a JSON string.
func TestSendUserMarkdown(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	a := newAnswers(t, f, "/v1.0/robot/oToMessages/batchSend", [2]any{200, `{"processQueryKey":"pqk"}`})
	if err := c.SendUserMarkdown(testutil.Ctx(t), []string{"lead01"}, "Create “Ops”?", "### Create\n- Lead"); err != nil {
		t.Fatal(f.seen(err))
	}
	want := `{"robotCode":"dingROBOT","userIds":["lead01"],"msgKey":"sampleMarkdown","msgParam":"{\"title\":\"Create “Ops”?\",\"text\":\"### Create\\n- Lead\"}"}`
	if calls := a.calls(); len(calls) != 1 || calls[0] != want {
		t.Errorf("bodies = %q\nwant %s", calls, want)
	}
	if err := c.SendUserMarkdown(testutil.Ctx(t), []string{"lead01"}, "", "x"); f.seen(err) == nil || !strings.HasPrefix(err.Error(), "dingtalk robot.oto_send: ") {
		t.Errorf("empty title: %v", err)
	}
}
