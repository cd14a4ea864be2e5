package dingclient

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Token cache settings.
const (
	// defaultTokenTTL is used when expireIn is missing or not positive.
	defaultTokenTTL = 7200 * time.Second
	// tokenMargin is how long before expiry a cached token is refreshed …
	tokenMargin = 5 * time.Minute
	// … or a tenth of its lifetime, if that is shorter.
	tokenMarginDivisor = 10
)

// tokenCall is one token fetch shared by all callers waiting for it.
type tokenCall struct {
	done  chan struct{}
	token string
	err   error
}

// AccessToken returns the app's access token, fetching one if none is cached
// or the cached one is about to expire. The token is cached until
// min(5 minutes, a tenth of expireIn) before its expiry; concurrent callers
// share a single fetch. Errors from DingTalk (e.g. HTTP 400
// invalidClientIdOrSecret) are *APIError with API "token".
//
// DingTalk docs: https://open.dingtalk.com/document/development/obtain-the-access-token-of-an-internal-app
//
//	POST /v1.0/oauth2/accessToken
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	c.tokMu.Lock()
	if c.tok != "" && c.now().Before(c.tokExpiry) {
		tok := c.tok
		c.tokMu.Unlock()
		return tok, nil
	}
	call := c.tokCall
	if call == nil {
		call = &tokenCall{done: make(chan struct{})}
		c.tokCall = call
		// The fetch serves every waiter, so it must not die with the first caller's context.
		go c.fetchToken(context.WithoutCancel(ctx), call)
	}
	c.tokMu.Unlock()
	select {
	case <-call.done:
		return call.token, call.err
	case <-ctx.Done():
		return "", fmt.Errorf("dingtalk %s: %w", APIToken, ctx.Err())
	}
}

// fetchToken performs the shared fetch and publishes its result.
func (c *Client) fetchToken(ctx context.Context, call *tokenCall) {
	ctx, cancel := context.WithTimeout(ctx, tokenFetchTimeout)
	defer cancel()
	issued := c.now()
	var out struct {
		AccessToken string `json:"accessToken"`
		ExpireIn    int64  `json:"expireIn"`
	}
	in := struct {
		AppKey    string `json:"appKey"`
		AppSecret string `json:"appSecret"`
	}{c.clientID, c.clientSecret}
	ep := endpoint{api: APIToken, gen: genV1, path: "/v1.0/oauth2/accessToken", kind: kindDefault, access: withoutToken}
	err := c.call(ctx, ep, in, &out)
	if err == nil && out.AccessToken == "" {
		err = errors.New("dingtalk token: response has no accessToken")
	}
	c.tokMu.Lock()
	if err == nil {
		c.tok = out.AccessToken
		c.tokExpiry = issued.Add(tokenTTL(out.ExpireIn))
	}
	c.tokCall = nil
	c.tokMu.Unlock()
	if err == nil {
		call.token = out.AccessToken
	}
	call.err = err
	close(call.done)
}

// tokenTTL is how long a token with the given expireIn (seconds) is cached.
func tokenTTL(expireIn int64) time.Duration {
	life := defaultTokenTTL
	if expireIn > 0 && expireIn < int64(365*24*time.Hour/time.Second) {
		life = time.Duration(expireIn) * time.Second
	}
	return life - min(tokenMargin, life/tokenMarginDivisor)
}

// dropToken forgets the cached token if it is still tok, so that a token
// rejected by DingTalk is refetched once even when many calls fail together.
func (c *Client) dropToken(tok string) {
	c.tokMu.Lock()
	if c.tok == tok {
		c.tok = ""
	}
	c.tokMu.Unlock()
}
