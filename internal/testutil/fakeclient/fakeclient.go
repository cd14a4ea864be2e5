// Package fakeclient starts a fake DingTalk (dingtalktest.Server) and points
// the real OpenAPI client (dingclient.Client) at it, the setup that tests of
// several packages need.
//
// It is a sub-package of testutil because it imports dingclient, whose own
// internal tests import testutil: testutil itself must not import dingclient.
// dingclient's tests must not import this package.
package fakeclient

import (
	"testing"

	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/dingtalktest"
)

// New starts a fake DingTalk with opts, closed when the test ends, and returns
// it with a real client pointed at it, as ClientFor does. If opts.Logf is nil,
// the fake logs through t.Logf.
func New(t testing.TB, opts dingtalktest.Options, configure ...func(*dingclient.Config)) (*dingtalktest.Server, *dingclient.Client) {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	fake := dingtalktest.NewServer(opts)
	t.Cleanup(fake.Close)
	return fake, ClientFor(t, fake, configure...)
}

// ClientFor returns the real OpenAPI client pointed at fake: both base URLs
// are the fake's and the credentials are the fake's app. configure may change
// any field (a wrong secret, a retry policy, an Observe hook); every other
// field keeps dingclient's default.
func ClientFor(t testing.TB, fake *dingtalktest.Server, configure ...func(*dingclient.Config)) *dingclient.Client {
	t.Helper()
	cfg := dingclient.Config{
		APIURL:       fake.URL(),
		OAPIURL:      fake.URL(),
		ClientID:     fake.ClientID(),
		ClientSecret: fake.ClientSecret(),
	}
	for _, c := range configure {
		c(&cfg)
	}
	dt, err := dingclient.New(cfg)
	if err != nil {
		t.Fatalf("dingclient.New: %v", err)
	}
	return dt
}
