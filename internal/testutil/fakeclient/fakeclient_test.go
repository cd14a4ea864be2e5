package fakeclient_test

import (
	"testing"

	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
	"github.com/dingbot/dingbot/internal/testutil/fakeclient"
)

func TestClientTalksToTheFake(t *testing.T) {
	fake, c := fakeclient.New(t, dingtalktest.Options{})
	if _, err := c.AccessToken(testutil.Ctx(t)); err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	if n := fake.TokenFetches(); n != 1 {
		t.Errorf("the fake issued %d tokens, want 1", n)
	}
}

func TestConfigureOverridesTheDefaults(t *testing.T) {
	fake, _ := fakeclient.New(t, dingtalktest.Options{})
	c := fakeclient.ClientFor(t, fake, func(cfg *dingclient.Config) { cfg.ClientSecret = "wrong" })
	if _, err := c.AccessToken(testutil.Ctx(t)); err == nil {
		t.Fatal("AccessToken with a wrong secret succeeded")
	}
	if n := fake.TokenFetches(); n != 0 {
		t.Errorf("the fake issued %d tokens, want 0", n)
	}
}
