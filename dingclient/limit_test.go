package dingclient

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dingbot/dingbot/internal/testutil"
)

// TestLocalLimiterSlidingWindow: however callers arrive, no one-second
// window holds more calls than the rate, and unlimited APIs never wait.
func TestLocalLimiterSlidingWindow(t *testing.T) {
	t.Parallel()
	const rate = 200
	l, err := NewLocalLimiter(map[API]float64{APIGroupCreate: rate})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var starts []time.Time
	var wg sync.WaitGroup
	for range 3 * rate / 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Wait(testutil.Ctx(t), APIGroupCreate); err != nil {
				t.Error(err)
			}
			now := time.Now()
			mu.Lock()
			starts = append(starts, now)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.SortFunc(starts, time.Time.Compare)
	for i := rate; i < len(starts); i++ {
		if d := starts[i].Sub(starts[i-rate]); d <= time.Second {
			t.Fatalf("%d calls started within %s", rate+1, d)
		}
	}
	if l.Limited(APIUserGet) || !l.Limited(APIGroupCreate) {
		t.Error("Limited is wrong")
	}
	start := time.Now()
	for range 1000 {
		if err := l.Wait(testutil.Ctx(t), APIUserGet); err != nil {
			t.Fatal(err)
		}
	}
	if time.Since(start) > time.Second {
		t.Error("an unlimited API waited")
	}
}

// TestLocalLimiterGivesBackCancelledSlot: a caller that gives up leaves its
// slot to the next one.
func TestLocalLimiterGivesBackCancelledSlot(t *testing.T) {
	t.Parallel()
	l, _ := NewLocalLimiter(map[API]float64{APIGroupCreate: 1})
	if err := l.Wait(testutil.Ctx(t), APIGroupCreate); err != nil { // takes the slot at once
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx, APIGroupCreate); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait = %v", err)
	}
	l.mu.Lock()
	next := l.next[APIGroupCreate]
	l.mu.Unlock()
	if d := time.Until(next); d > Slots(1) {
		t.Errorf("the next slot is %s away; the cancelled one was not given back", d)
	}
}

// TestWithSlotSkipsTheFirstWait: a caller that waited for its slot makes
// the call without waiting again; a retry after throttling waits for the
// next slot, without the back-off.
func TestWithSlotSkipsTheFirstWait(t *testing.T) {
	t.Parallel()
	lim := &countingLimiter{}
	c, f := setup(t, func(cfg *Config) { cfg.Limiter = lim; cfg.Retry = RetryPolicy{BaseDelay: time.Hour} })
	a := newAnswers(t, f, "/v1.0/im/group/create",
		[2]any{403, `{"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","message":"throttled","requestid":"r"}`},
		[2]any{200, `{"openConversationId":"cid","chatId":"chat"}`})
	ctx := WithSlot(testutil.Ctx(t), APIGroupCreate)
	if _, err := c.CreateGroup(ctx, &CreateGroupRequest{Name: "x", Owner: "o", UserIDs: []string{"o"}}); err != nil {
		t.Fatal(f.seen(err))
	}
	if n := len(a.calls()); n != 2 {
		t.Fatalf("%d calls, want 2", n)
	}
	if got := lim.count(APIGroupCreate); got != 1 {
		t.Errorf("the limiter was asked %d times for group.create, want 1 (the retry only)", got)
	}
}

// countingLimiter limits every API and counts the waits.
type countingLimiter struct {
	mu sync.Mutex
	n  map[API]int
}

func (l *countingLimiter) Wait(_ context.Context, api API) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = map[API]int{}
	}
	l.n[api]++
	return nil
}

func (l *countingLimiter) Reserve(ctx context.Context, api API) (time.Duration, error) {
	return 0, l.Wait(ctx, api)
}

func (l *countingLimiter) Limited(API) bool { return true }

func (l *countingLimiter) count(api API) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[api]
}
