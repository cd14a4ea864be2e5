package bot_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
	"github.com/dingbot/dingbot/internal/testutil/fakeclient"
	"github.com/dingbot/dingbot/store"
)

func preflightClient(t *testing.T, fake *dingtalktest.Server, secret string) *dingclient.Client {
	t.Helper()
	return fakeclient.ClientFor(t, fake, func(c *dingclient.Config) {
		c.ClientSecret = secret
		c.HTTPClient = &http.Client{Timeout: wait}
		c.Retry = dingclient.RetryPolicy{BaseDelay: 10 * time.Millisecond}
	})
}

func statuses(checks []bot.Check) map[string]bot.CheckStatus {
	out := map[string]bot.CheckStatus{}
	for _, c := range checks {
		out[c.Name] = c.Status
	}
	return out
}

func TestPreflight(t *testing.T) {
	fake := dingtalktest.NewServer(dingtalktest.Options{Logf: t.Logf})
	t.Cleanup(fake.Close)
	db, err := store.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	opts := bot.PreflightOptions{DingTalk: preflightClient(t, fake, fake.ClientSecret()), ClientID: fake.ClientID(),
		Store: db, StoreName: "SQLite test.db"}

	checks := bot.Preflight(testutil.Ctx(t), opts)
	want := map[string]bot.CheckStatus{
		"credentials": bot.CheckOK, "storage": bot.CheckOK,
		"qyapi_addresslist_search": bot.CheckOK, "qyapi_get_member_by_mobile": bot.CheckOK, "qyapi_get_member": bot.CheckOK,
		"qyapi_chat_manage": bot.CheckUnknown, "robot": bot.CheckUnknown, "visibility": bot.CheckUnknown,
	}
	if got := statuses(checks); len(got) != len(want) {
		t.Fatalf("checks = %v, want %v", got, want)
	} else {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("check %s = %s, want %s", k, got[k], v)
			}
		}
	}
	if bot.PreflightFailed(checks) {
		t.Error("PreflightFailed with every permission granted")
	}
	list := bot.FormatChecklist(checks)
	t.Logf("checklist:\n%s", list)
	for _, line := range []string{
		"✓ credentials                 DingTalk issued an access token for client ID " + fake.ClientID(),
		"? robot                       robot code = " + fake.ClientID() + " (defaults to the client ID);",
		"? qyapi_chat_manage           creating groups: cannot be checked without creating a group;",
	} {
		if !strings.Contains(list, line) {
			t.Errorf("checklist lacks %q", line)
		}
	}
	if n := len(fake.CreateRequests()); n != 0 {
		t.Errorf("the preflight made %d create calls", n)
	}

	// The app lacks the search and the user-details permissions.
	fake.DenyScope(dingtalktest.PathUserSearch)
	fake.DenyScope(dingtalktest.PathUserGet)
	checks = bot.Preflight(testutil.Ctx(t), opts)
	got := statuses(checks)
	if got["qyapi_addresslist_search"] != bot.CheckMissing || got["qyapi_get_member"] != bot.CheckMissing ||
		got["qyapi_get_member_by_mobile"] != bot.CheckOK || !bot.PreflightFailed(checks) {
		t.Errorf("with two scopes denied: %v", got)
	}
	if list := bot.FormatChecklist(checks); !strings.Contains(list, "✗ qyapi_addresslist_search    finding people by name will fail: grant it in the DingTalk developer console") {
		t.Errorf("checklist:\n%s", list)
	}
	fake.AllowScope(dingtalktest.PathUserSearch)
	if got := statuses(bot.Preflight(testutil.Ctx(t), opts)); got["qyapi_addresslist_search"] != bot.CheckOK || got["qyapi_get_member"] != bot.CheckMissing {
		t.Errorf("after AllowScope: %v", got)
	}

	// Wrong credentials: the token is refused and nothing else is called.
	opts.DingTalk = preflightClient(t, fake, "wrong-secret")
	checks = bot.Preflight(testutil.Ctx(t), opts)
	got = statuses(checks)
	if got["credentials"] != bot.CheckMissing || got["qyapi_addresslist_search"] != bot.CheckUnknown {
		t.Errorf("with wrong credentials: %v", got)
	}
	if c := checks[0]; !strings.Contains(c.Detail, "DingTalk refused the credentials (invalidClientIdOrSecret)") {
		t.Errorf("credentials line = %q", c.Detail)
	}
}
