package dingclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingbot/dingbot/internal/testutil"
)

// updateBody is a decoded group-update request.
type updateBody struct {
	ChatID string   `json:"chatid"`
	Add    []string `json:"add_useridlist"`
}

// updateFake records update calls and answers each through answer (nil: 200 {"success":true}).
type updateFake struct {
	mu     sync.Mutex
	bodies []updateBody
}

func (u *updateFake) handler(t *testing.T, answer func(n int, b updateBody) (int, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.RawQuery != "" {
			t.Errorf("request %s %s", r.Method, r.URL)
		}
		testHeader(t, r, "x-acs-dingtalk-access-token", tokenN(1))
		var b updateBody
		if err := json.Unmarshal([]byte(readBody(t, r)), &b); err != nil {
			t.Errorf("body: %v", err)
		}
		u.mu.Lock()
		u.bodies = append(u.bodies, b)
		n := len(u.bodies)
		u.mu.Unlock()
		if answer == nil {
			writeJSON(w, 200, `{"success":true}`)
			return
		}
		status, body := answer(n, b)
		writeJSON(w, status, body)
	}
}

func (u *updateFake) calls() []updateBody {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]updateBody(nil), u.bodies...)
}

func userIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("user%03d", i)
	}
	return ids
}

func TestAddGroupMembers_Chunks(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var u updateFake
	f.mux.HandleFunc("/v1.0/im/group/update", u.handler(t, nil))
	ids := userIDs(95)
	notAdded, err := c.AddGroupMembers(testutil.Ctx(t), "chat123", ids)
	if err != nil || notAdded != nil {
		t.Fatal(notAdded, f.seen(err))
	}
	calls := u.calls()
	if len(calls) != 3 {
		t.Fatalf("calls = %d, want 3", len(calls))
	}
	var all []string
	for i, want := range []int{40, 40, 15} {
		if len(calls[i].Add) != want || calls[i].ChatID != "chat123" {
			t.Errorf("call %d: chatid %q, %d ids, want %d", i, calls[i].ChatID, len(calls[i].Add), want)
		}
		all = append(all, calls[i].Add...)
	}
	if !reflect.DeepEqual(all, ids) {
		t.Error("ids not sent in order, each once")
	}
	if obs := strings.Join(f.observations(), ","); obs != "token ok,group.update ok,group.update ok,group.update ok" {
		t.Errorf("observed %q", obs)
	}
}

func TestAddGroupMembers_RequestBody(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	f.mux.HandleFunc("/v1.0/im/group/update", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, `{"chatid":"chat123","add_useridlist":["alice01","bob02"]}`)
		writeJSON(w, 200, ``) // an empty 2xx body is success too
	})
	notAdded, err := c.AddGroupMembers(testutil.Ctx(t), "chat123", []string{"alice01", "bob02", "alice01"})
	if err != nil || notAdded != nil {
		t.Fatal(notAdded, f.seen(err))
	}
}

func TestAddGroupMembers_NoIDs(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	if notAdded, err := c.AddGroupMembers(testutil.Ctx(t), "chat123", nil); err != nil || notAdded != nil {
		t.Fatal(notAdded, f.seen(err))
	}
	if notAdded, err := c.AddGroupMembers(testutil.Ctx(t), "", []string{"a"}); f.seen(err) == nil || len(notAdded) != 1 {
		t.Errorf("empty chatid: %v %v", notAdded, err)
	}
	if notAdded, err := c.AddGroupMembers(testutil.Ctx(t), "chat123", []string{"a", ""}); f.seen(err) == nil || len(notAdded) != 2 {
		t.Errorf("empty user id: %v %v", notAdded, err)
	}
	if n := f.tokenFetches.Load(); n != 0 {
		t.Errorf("token fetches = %d", n)
	}
}

func TestAddGroupMembers_PartialFailure(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var u updateFake
	f.mux.HandleFunc("/v1.0/im/group/update", u.handler(t, func(n int, _ updateBody) (int, string) {
		if n == 2 {
			return 400, `{"code":"parameter.invalid","message":"输入参数错误","requestid":"r2"}`
		}
		return 200, `{"success":true}`
	}))
	ids := userIDs(95)
	notAdded, err := c.AddGroupMembers(testutil.Ctx(t), "chat123", ids)
	f.seen(err)
	if !reflect.DeepEqual(notAdded, ids[40:80]) {
		t.Errorf("notAdded = %v, want the second chunk", notAdded)
	}
	var ame *AddMembersError
	if !errors.As(err, &ame) || len(ame.Failed) != 1 {
		t.Fatalf("err = %T %v", err, err)
	}
	fc := ame.Failed[0]
	if !reflect.DeepEqual(fc.UserIDs, ids[40:80]) || fc.NotAttempted {
		t.Errorf("failed chunk = %+v", fc)
	}
	if ae := asAPIError(t, err); ae.Code != "parameter.invalid" || ae.RequestID != "r2" || ae.API != "group.update" {
		t.Errorf("APIError = %+v", ae)
	}
	if !strings.Contains(err.Error(), "40 member(s) not added") || !strings.Contains(err.Error(), "parameter.invalid") {
		t.Errorf("Error() = %q", err)
	}
	if n := len(u.calls()); n != 3 {
		t.Errorf("calls = %d, want 3 (a chunk-specific rejection does not stop the rest)", n)
	}
}

func TestAddGroupMembers_FatalErrorsStop(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		status int
		body   string
	}{
		{"500 not retried", 500, `{"code":"system.error","message":"请重试","requestid":"r500"}`},
		{"permission", 403, `{"code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","message":"没有权限","requestid":"r403"}`},
		{"permession.checkFailed", 400, `{"code":"permession.checkFailed","message":"权限校验失败","requestid":"r400"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			var u updateFake
			f.mux.HandleFunc("/v1.0/im/group/update", u.handler(t, func(n int, _ updateBody) (int, string) {
				if n == 2 {
					return tt.status, tt.body
				}
				return 200, `{"success":true}`
			}))
			ids := userIDs(95)
			notAdded, err := c.AddGroupMembers(testutil.Ctx(t), "chat123", ids)
			f.seen(err)
			if !reflect.DeepEqual(notAdded, ids[40:]) {
				t.Errorf("notAdded = %d ids, want the last 55", len(notAdded))
			}
			var ame *AddMembersError
			if !errors.As(err, &ame) || len(ame.Failed) != 2 {
				t.Fatalf("err = %v", err)
			}
			if f0, f1 := ame.Failed[0], ame.Failed[1]; len(f0.UserIDs) != 40 || f0.NotAttempted || len(f1.UserIDs) != 15 || !f1.NotAttempted {
				t.Errorf("failed = %+v", ame.Failed)
			}
			var ou *OutcomeUnknownError
			if ae := asAPIError(t, err); ae.HTTPStatus != tt.status || errors.As(err, &ou) {
				t.Errorf("APIError = %+v", ae)
			}
			if n := len(u.calls()); n != 2 {
				t.Errorf("calls = %d, want 2 (no retry, no further chunks)", n)
			}
			if !strings.Contains(err.Error(), "15 not attempted") {
				t.Errorf("Error() = %q", err)
			}
		})
	}
}

func TestAddGroupMembers_ThrottledRetried(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	var u updateFake
	f.mux.HandleFunc("/v1.0/im/group/update", u.handler(t, func(n int, _ updateBody) (int, string) {
		if n == 1 {
			return 403, `{"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","message":"throttled","requestid":"q"}`
		}
		return 200, `{"success":true}`
	}))
	notAdded, err := c.AddGroupMembers(testutil.Ctx(t), "chat123", userIDs(3))
	if err != nil || notAdded != nil {
		t.Fatal(notAdded, f.seen(err))
	}
	if n := len(u.calls()); n != 2 {
		t.Errorf("calls = %d", n)
	}
}

// TestRateLimitsSpaceCalls: with a limit of 5 calls per second for
// group.create, any six consecutive calls reach DingTalk at least ~1 s apart
// (a lower bound only, so a slow machine cannot make it fail).
func TestRateLimitsSpaceCalls(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1.0/oauth2/accessToken" {
			_, _ = io.WriteString(w, `{"accessToken":"tok","expireIn":7200}`)
			return
		}
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		_, _ = io.WriteString(w, `{"conversationTag":2,"openConversationId":"cid","chatid":"chat"}`)
	}))
	defer srv.Close()
	c, err := New(Config{APIURL: srv.URL, OAPIURL: srv.URL, ClientID: "id", ClientSecret: "secret-value",
		RateLimits: map[API]float64{APIGroupCreate: 5}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.CreateGroup(context.Background(), &CreateGroupRequest{Name: "n", Owner: "o", UserIDs: []string{"o"}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	sort.Slice(arrivals, func(i, j int) bool { return arrivals[i].Before(arrivals[j]) })
	for i := 0; i+5 < len(arrivals); i++ {
		if gap := arrivals[i+5].Sub(arrivals[i]); gap < 900*time.Millisecond {
			t.Fatalf("calls %d and %d arrived %s apart; at 5/s six calls span at least 1s", i, i+5, gap)
		}
	}
}
