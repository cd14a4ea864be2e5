package testutil_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dingbot/dingbot/internal/testutil"
)

// recordingTB stands in for a *testing.T whose test fails: Fatalf records the
// message and ends the goroutine, as testing.T's does.
type recordingTB struct {
	testing.TB
	fatal string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestWaitForReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	testutil.WaitFor(t, 10*time.Second, "three polls", func() bool { return n.Add(1) >= 3 })
	if got := n.Load(); got != 3 {
		t.Errorf("cond called %d times, want 3", got)
	}
}

func TestWaitForFailsWithWhatItAwaited(t *testing.T) {
	r := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		testutil.WaitFor(r, 20*time.Millisecond, "the impossible", func() bool { return false })
	}()
	<-done
	if !strings.Contains(r.fatal, "timed out") || !strings.Contains(r.fatal, "the impossible") {
		t.Errorf("failure message %q, want one naming what was awaited", r.fatal)
	}
}

func TestCtxIsCancelledAtCleanup(t *testing.T) {
	var ctx context.Context
	t.Run("inner", func(t *testing.T) {
		ctx = testutil.Ctx(t)
		if _, ok := ctx.Deadline(); !ok {
			t.Error("Ctx has no deadline")
		}
		if ctx.Err() != nil {
			t.Errorf("Ctx is already done: %v", ctx.Err())
		}
	})
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("after the test ended, ctx.Err() = %v, want context.Canceled", ctx.Err())
	}
}

func TestCtxTimeoutExpires(t *testing.T) {
	ctx := testutil.CtxTimeout(t, time.Millisecond)
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("ctx.Err() = %v, want context.DeadlineExceeded", ctx.Err())
	}
}

func TestMetricHelpers(t *testing.T) {
	reg := prometheus.NewRegistry()
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "calls_total", Help: "h"}, []string{"api", "code"})
	depth := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "depth", Help: "h"}, []string{"state"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "latency_seconds", Help: "h"}, []string{"api"})
	reg.MustRegister(calls, depth, lat)
	calls.WithLabelValues("create", "ok").Add(3)
	calls.WithLabelValues("create", "429").Add(2)
	calls.WithLabelValues("search", "ok").Add(1)
	depth.WithLabelValues("done").Set(4)
	depth.WithLabelValues("failed").Set(1)
	lat.WithLabelValues("create").Observe(0.1)
	lat.WithLabelValues("create").Observe(0.2)
	lat.WithLabelValues("search").Observe(0.3)

	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"calls_total", nil, 6},
		{"calls_total", map[string]string{"api": "create"}, 5},
		{"calls_total", map[string]string{"api": "create", "code": "ok"}, 3},
		{"calls_total", map[string]string{"api": "nope"}, 0},
		{"depth", map[string]string{"state": "done"}, 4},
		{"depth", nil, 5},
		{"missing", nil, 0},
	} {
		if got := testutil.MetricValue(t, reg, tc.name, tc.labels); got != tc.want {
			t.Errorf("MetricValue(%s, %v) = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if got := len(testutil.MatchingMetrics(t, reg, "calls_total", map[string]string{"code": "ok"})); got != 2 {
		t.Errorf("MatchingMetrics(code=ok) has %d samples, want 2", got)
	}
	if got := testutil.HistogramCount(t, reg, "latency_seconds", map[string]string{"api": "create"}); got != 2 {
		t.Errorf("HistogramCount(api=create) = %d, want 2", got)
	}
	if got := testutil.HistogramCount(t, reg, "latency_seconds", nil); got != 3 {
		t.Errorf("HistogramCount = %d, want 3", got)
	}
}

func TestSyncBufferConcurrentWrites(t *testing.T) {
	var b testutil.SyncBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("x"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := len(b.String()); got != 800 {
		t.Errorf("len = %d, want 800", got)
	}
}
