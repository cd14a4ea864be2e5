// Package testutil holds the small helpers that tests in several packages of
// this module need, so they are written once instead of copied per package
// (in the spirit of Tailscale's tstest): polling for a condition, a context
// that cannot hang a test, reading Prometheus metrics, and a log sink safe
// for concurrent writers.
//
// It is internal, so only this module's tests can import it. It imports
// nothing of this module, so any package's internal tests (package foo, not
// foo_test) may use it without an import cycle; the helper that needs
// dingtalktest and dingclient lives in the sub-package fakeclient.
package testutil

import (
	"context"
	"testing"
	"time"
)

// ctxTimeout bounds the context Ctx returns. It is generous on purpose and
// never used to assert speed.
const ctxTimeout = 10 * time.Second

// pollInterval is how often WaitFor checks its condition. It is short so that
// a state that holds only briefly is still seen.
const pollInterval = 2 * time.Millisecond

// WaitFor polls cond until it holds and fails the test if it still does not
// after maxWait. what says what was awaited ("the connection to close"), for
// the failure message. maxWait bounds a wait for something to happen; it is
// never meant to assert how fast it happens.
func WaitFor(t testing.TB, maxWait time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(maxWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", maxWait, what)
		}
		time.Sleep(pollInterval)
	}
}

// Ctx returns a context that is cancelled after a generous timeout (10s) or
// when the test ends, whichever is first, so a call that hangs fails the test
// instead of blocking it.
func Ctx(t testing.TB) context.Context {
	t.Helper()
	return CtxTimeout(t, ctxTimeout)
}

// CtxTimeout is Ctx with the timeout d, for a test that needs a specific
// deadline (for example one that expects a wait to time out).
func CtxTimeout(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
