package dingclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"time"
)

// endpoint is one DingTalk operation as call performs it.
type endpoint struct {
	// api names the operation in Observe, logs, rate limits and errors.
	api API
	// gen is the API generation: where the request goes and how the answer reads.
	gen *generation
	// path is appended to the generation's base URL, e.g. "/v1.0/im/group/create".
	path string
	// kind says how HTTP 5xx answers and failures after sending are handled.
	kind callKind
	// access says whether the request carries the app access token.
	access accessMode
}

// callKind says how a call's HTTP 5xx and post-send failures are handled.
type callKind int

const (
	// kindDefault: 5xx and transport errors are returned as they are, not retried.
	kindDefault callKind = iota
	// kindNonIdempotent: a failure after sending is *OutcomeUnknownError (group creation).
	kindNonIdempotent
	// kindRead: a call that is safe to repeat (a read, or a write that sets a
	// value, such as a rename or adding the robot); an HTTP 5xx is retried like throttling.
	kindRead
)

// accessMode says whether a request carries the app access token.
type accessMode int

const (
	// withToken: the token is fetched (AccessToken) and sent the generation's
	// way; a rejected token is dropped and the call retried once.
	withToken accessMode = iota
	// withoutToken: no token is sent; only the token request itself.
	withoutToken
)

// generation is what differs between DingTalk's two API generations; call
// does everything else (retries, re-authentication, rate limits, metrics and
// logs) the same way for both.
type generation struct {
	// target returns the request URL for path and the value of the
	// x-acs-dingtalk-access-token header ("" sends none) for token.
	target func(c *Client, path, token string) (rawURL, tokenHeader string)
	// decode reads a 2xx response. Non-2xx responses are always *APIError
	// (parseAPIError), whatever the generation.
	decode func(api API, res *response) answer
	// unmarshal decodes a success's result into out.
	unmarshal func(api API, status int, result []byte, out any) error
}

// genV1 is the api.dingtalk.com /v1.0 generation (and its token endpoint):
// the token goes in the x-acs-dingtalk-access-token header, any 2xx answer is
// a success whose whole body is the result, and failures are non-2xx answers
// with a {"code","message"} body.
var genV1 = &generation{
	target: func(c *Client, path, token string) (string, string) { return c.apiURL + path, token },
	decode: func(_ API, res *response) answer {
		return answer{outcome: "ok", requestID: res.header.Get("x-acs-request-id"), result: res.body}
	},
	unmarshal: func(api API, status int, result []byte, out any) error {
		if err := json.Unmarshal(result, out); err != nil {
			return fmt.Errorf("dingtalk %s: decoding HTTP %d response: %w", api, status, err)
		}
		return nil
	},
}

// answer is one HTTP response as a generation reads it: a success, or a
// failure classified for the retry loop.
type answer struct {
	// outcome is reported to Observe and logged: "ok", DingTalk's error code,
	// "http_<status>" or "invalid_response".
	outcome string
	// requestID is DingTalk's request id, if any.
	requestID string
	// err is nil for a success; otherwise the error call returns unless it retries.
	err error
	// result is a success's payload, decoded into the caller's out.
	result []byte
	// invalidToken: the access token was rejected; fetch another and retry once.
	invalidToken bool
	// throttled: DingTalk asked to slow down; retry with back-off.
	throttled bool
	// perMinute: a per-minute quota, which needs a longer back-off.
	perMinute bool
	// quota: the organisation's monthly API quota is used up (v1.0
	// ApiCountLimitForOrg, legacy 90020): never retried, whatever the status.
	quota bool
}

// httpFailure reads a non-2xx response of either generation.
func httpFailure(api API, res *response) answer {
	e := parseAPIError(api, res)
	return answer{outcome: e.outcome(), requestID: e.RequestID, err: e,
		invalidToken: e.InvalidToken(), throttled: e.Throttled(), perMinute: e.perMinuteLimited(), quota: e.QuotaExceeded()}
}

// call performs ep with the package retry policy (see the package doc) and
// decodes a success's result into out (if non-nil). It is the one request
// loop of the client: every API but the session webhook goes through it.
func (c *Client) call(ctx context.Context, ep endpoint, in, out any) error {
	api := ep.api
	payload, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("dingtalk %s: encoding request: %w", api, err)
	}
	throttled, reauthed := 0, false
	for attempt := 1; ; attempt++ {
		var token string
		if ep.access == withToken {
			if token, err = c.AccessToken(ctx); err != nil {
				return err
			}
		}
		rawURL, tokenHeader := ep.gen.target(c, ep.path, token)
		start := time.Now()
		res, err := c.roundTrip(ctx, api, rawURL, tokenHeader, payload)
		if err != nil {
			c.record(ctx, api, attempt, 0, "transport_error", "", start)
			var te *transportError
			if ep.kind == kindNonIdempotent && errors.As(err, &te) && te.sent {
				return &OutcomeUnknownError{Op: string(api), Err: err}
			}
			return err
		}
		var a answer
		if res.status >= 200 && res.status < 300 {
			a = ep.gen.decode(api, res)
		} else {
			a = httpFailure(api, res)
		}
		c.record(ctx, api, attempt, res.status, a.outcome, a.requestID, start)
		switch {
		case a.err == nil:
			if out == nil {
				return nil
			}
			if err := ep.gen.unmarshal(api, res.status, a.result, out); err != nil {
				if ep.kind == kindNonIdempotent {
					// DingTalk reported success, so the effect happened, but we cannot tell what it produced.
					return &OutcomeUnknownError{Op: string(api), Err: err}
				}
				return err
			}
			return nil
		case a.quota:
			// The monthly quota is not throttling: retrying only spends calls
			// (and time) until an admin buys more or the month ends.
			return a.err
		case ep.access == withToken && a.invalidToken && !reauthed:
			reauthed = true
			c.dropToken(token)
			continue
		case a.throttled || (ep.kind == kindRead && res.status >= 500):
			throttled++
			if throttled >= c.retry.MaxAttempts {
				return a.err
			}
			if c.limiter != nil && c.limiter.Limited(api) && a.throttled && !a.perMinute {
				continue // the next attempt waits for the next free slot, not a blind back-off
			}
			if err := c.wait(ctx, c.backoff(throttled, a.perMinute)); err != nil {
				return fmt.Errorf("%w; gave up waiting to retry: %w", a.err, err)
			}
			continue
		case ep.kind == kindNonIdempotent && res.status >= 500:
			return &OutcomeUnknownError{Op: string(api), Err: a.err}
		}
		return a.err
	}
}

// response is a fully read HTTP response.
type response struct {
	status    int
	header    http.Header
	body      []byte
	truncated bool
}

// transportError is a failure to get an HTTP response. sent reports whether
// the request may have reached the server (its headers were written and the
// failure was not a dial error).
type transportError struct {
	api  API
	sent bool
	err  error
}

func (e *transportError) Error() string { return "dingtalk " + string(e.api) + ": " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// roundTrip POSTs payload as JSON to rawURL and reads the whole response
// (bounded by maxBodyBytes), always closing the body. token, if non-empty, is
// sent raw in x-acs-dingtalk-access-token. Transport errors are redacted.
// It first waits for api's slot (Config.Limiter or RateLimits), unless ctx
// carries one (WithSlot).
func (c *Client) roundTrip(ctx context.Context, api API, rawURL, token string, payload []byte) (*response, error) {
	if c.limiter != nil && !hasSlot(ctx, api) {
		if err := c.limiter.Wait(ctx, api); err != nil {
			return nil, fmt.Errorf("dingtalk %s: waiting for the rate limit: %w", api, err)
		}
	}
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, rawURL, bytes.NewReader(payload))
	if err != nil {
		// The error text of a bad URL contains the URL; do not use it.
		return nil, &transportError{api: api, err: errors.New("invalid request URL " + redactURL(rawURL))}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dingbot-dingclient")
	if token != "" {
		req.Header.Set("x-acs-dingtalk-access-token", token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		err = redactError(err)
		return nil, &transportError{api: api, sent: wrote.Load() && !isDialError(err), err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return nil, &transportError{api: api, sent: true, err: fmt.Errorf("reading HTTP %d response: %w", resp.StatusCode, redactError(err))}
	}
	r := &response{status: resp.StatusCode, header: resp.Header, body: body}
	if len(body) > maxBodyBytes {
		r.body, r.truncated = body[:maxBodyBytes], true
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	}
	return r, nil
}

// isDialError reports whether err happened while connecting, before anything was sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// redactError removes credentials from the URL of a *url.Error.
func redactError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redactURL(ue.URL)
	}
	return err
}

// record logs one HTTP attempt at Debug and reports it to Observe.
func (c *Client) record(ctx context.Context, api API, attempt, status int, outcome, requestID string, start time.Time) {
	c.observe(string(api), outcome)
	c.log.LogAttrs(ctx, slog.LevelDebug, "dingtalk call",
		slog.String("api", string(api)),
		slog.Int("attempt", attempt),
		slog.Int("status", status),
		slog.String("code", outcome),
		slog.String("requestid", requestID),
		slog.Duration("duration", time.Since(start)),
	)
}

// backoff is the wait after the n-th throttled attempt; perMinute selects the
// longer wait of a per-minute quota (see RetryPolicy).
func (c *Client) backoff(n int, perMinute bool) time.Duration {
	base, maxDelay := c.retry.BaseDelay, c.retry.MaxDelay
	d := base
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	if perMinute {
		d = max(d, qpmDelayFactor*base)
		maxDelay = max(maxDelay, qpmDelayFactor*base)
	}
	d = min(d, maxDelay)
	if j := int64(d / 4); j > 0 {
		d += time.Duration(rand.Int64N(j + 1))
	}
	return min(d, maxDelay)
}

// wait sleeps for d or until ctx is done.
func (c *Client) wait(ctx context.Context, d time.Duration) error {
	return SleepUntil(ctx, time.Now().Add(d), time.Now)
}
