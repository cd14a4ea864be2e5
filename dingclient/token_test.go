package dingclient

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dingbot/dingbot/internal/testutil"
)

func TestAccessToken_RequestShape(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	f.tokenHook = func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1.0/oauth2/accessToken" || r.URL.RawQuery != "" {
			t.Errorf("token request %s %s", r.Method, r.URL)
		}
		testHeader(t, r, "Content-Type", "application/json")
		testHeader(t, r, "Accept", "application/json")
		testHeader(t, r, "x-acs-dingtalk-access-token", "")
		testJSONBody(t, r, `{"appKey":"dingTESTAPPKEY","appSecret":"APPSECRET-do-not-leak-7f3a"}`)
		writeJSON(w, 200, `{"accessToken":"TOKEN-x-do-not-leak","expireIn":7200}`)
	}
	tok, err := c.AccessToken(testutil.Ctx(t))
	if err != nil {
		t.Fatal(f.seen(err))
	}
	if tok != "TOKEN-x-do-not-leak" {
		t.Errorf("token = %q", tok)
	}
}

func TestAccessToken_CachedAndReused(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	ctx := testutil.Ctx(t)
	for i := range 5 {
		tok, err := c.AccessToken(ctx)
		if err != nil {
			t.Fatal(f.seen(err))
		}
		if tok != tokenN(1) {
			t.Errorf("call %d: token = %q, want %q", i, tok, tokenN(1))
		}
	}
	if n := f.tokenFetches.Load(); n != 1 {
		t.Errorf("token fetches = %d, want 1", n)
	}
}

func TestAccessToken_ExpiryRefetch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		expireIn  int64
		stillGood time.Duration // cached at this age
		refetch   time.Duration // refetched at this age
	}{
		{"7200s: 5 min margin", 7200, 6899 * time.Second, 6900 * time.Second},
		{"600s: 10% margin", 600, 539 * time.Second, 540 * time.Second},
		{"missing: treated as 7200", 0, 6899 * time.Second, 6900 * time.Second},
		{"negative: treated as 7200", -5, 6899 * time.Second, 6900 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t)
			f.expireIn = tt.expireIn
			ctx := testutil.Ctx(t)
			get := func() string {
				tok, err := c.AccessToken(ctx)
				if err != nil {
					t.Fatal(f.seen(err))
				}
				return tok
			}
			if tok := get(); tok != tokenN(1) {
				t.Fatalf("first token = %q", tok)
			}
			f.clock.Advance(tt.stillGood)
			if tok := get(); tok != tokenN(1) {
				t.Errorf("at %v: token = %q, want the cached one", tt.stillGood, tok)
			}
			f.clock.Advance(tt.refetch - tt.stillGood)
			if tok := get(); tok != tokenN(2) {
				t.Errorf("at %v: token = %q, want a new one", tt.refetch, tok)
			}
			if n := f.tokenFetches.Load(); n != 2 {
				t.Errorf("token fetches = %d, want 2", n)
			}
		})
	}
}

func TestTokenTTL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		expireIn int64
		want     time.Duration
	}{
		{7200, 6900 * time.Second},
		{3000, 2700 * time.Second},
		{600, 540 * time.Second},
		{10, 9 * time.Second},
		{0, 6900 * time.Second},
		{-1, 6900 * time.Second},
		{1 << 62, 6900 * time.Second}, // absurd values fall back to the default
	} {
		if got := tokenTTL(tt.expireIn); got != tt.want {
			t.Errorf("tokenTTL(%d) = %v, want %v", tt.expireIn, got, tt.want)
		}
	}
}

func TestAccessToken_InvalidCredentials(t *testing.T) {
	t.Parallel()
	c, f := setup(t, func(cfg *Config) { cfg.ClientSecret = "wrong-" + leakMarker })
	_, err := c.AccessToken(testutil.Ctx(t))
	f.seen(err)
	ae := asAPIError(t, err)
	if ae.HTTPStatus != 400 || ae.Code != "invalidClientIdOrSecret" || ae.API != "token" || ae.RequestID != "tok-req" {
		t.Errorf("APIError = %+v", ae)
	}
	if ae.Retryable() || ae.InvalidToken() {
		t.Errorf("invalid credentials classified as retryable/invalid token: %+v", ae)
	}
	// A failed fetch is not cached: the next call tries again.
	_, err = c.AccessToken(testutil.Ctx(t))
	f.seen(err)
	if n := f.tokenFetches.Load(); n != 2 {
		t.Errorf("token fetches = %d, want 2", n)
	}
}

func TestAccessToken_ConcurrentCallersShareOneFetch(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	f.tokenDelay = 50 * time.Millisecond
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			tok, err := c.AccessToken(testutil.Ctx(t))
			if err != nil || tok != tokenN(1) {
				t.Errorf("AccessToken = %q, %v", tok, f.seen(err))
			}
		})
	}
	wg.Wait()
	if n := f.tokenFetches.Load(); n != 1 {
		t.Errorf("token fetches = %d, want 1", n)
	}
}

func TestAccessToken_WaiterCancelDoesNotAbortSharedFetch(t *testing.T) {
	t.Parallel()
	c, f := setup(t)
	f.tokenDelay = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := c.AccessToken(ctx)
	f.seen(err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	// A second caller joins the fetch the first one started, which was not cancelled.
	tok, err := c.AccessToken(testutil.Ctx(t))
	if err != nil || tok != tokenN(1) {
		t.Fatalf("AccessToken = %q, %v", tok, f.seen(err))
	}
	if n := f.tokenFetches.Load(); n != 1 {
		t.Errorf("token fetches = %d, want 1", n)
	}
}
