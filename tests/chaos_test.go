package tests

// Many replicas, one DingTalk (issue #15): three bot processes share one
// PostgreSQL database and one DingTalk app whose create limit is 20 calls
// in any one-second window. A 300-command burst survives a SIGKILL of one
// replica (restarted at once) and a crash-restart of PostgreSQL: every
// command is answered, no group is created twice, DingTalk throttles at
// most a few calls, and the whole burst takes about as long as the limit
// allows.

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
)

// chaosCommands is the burst's size: 15 s at DingTalk's 20 creates per second.
const chaosCommands = 300

// TestChaosThreeReplicasOnePostgres is acceptance 1 of issue #15. It is not
// parallel, so it runs before this package's parallel tests load the
// machine.
func TestChaosThreeReplicasOnePostgres(t *testing.T) {
	pg := startPostgres(t)
	// Frames a killed process never ACKed, or that could not be stored
	// while PostgreSQL was down, come back after 3 s (DingTalk: ~60 s).
	fake := dingtalktest.NewServer(dingtalktest.Options{ClientSecret: "e2e-secret-Xq7Z", AckTimeout: 3 * time.Second})
	t.Cleanup(fake.Close)
	for _, u := range org {
		fake.AddUser(u)
	}
	fake.SetCreateRateLimit(20)
	env := botEnv(fake, map[string]string{
		"DINGBOT_DATABASE_URL": pg.URL(),
		"DINGBOT_LOG_LEVEL":    "info",
	})
	var bots []*process
	for range 3 {
		bots = append(bots, startProcess(t, env))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := fake.WaitConnections(ctx, 3); err != nil {
		t.Fatal(err)
	}
	logs := func() string {
		var b strings.Builder
		for i, p := range bots {
			fmt.Fprintf(&b, "--- replica %d ---\n%s\n", i, p.Logs())
		}
		return b.String()
	}

	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range chaosCommands {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := fake.Send(directMsg(fmt.Sprintf("/newgroup chaos-%03d", i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	// A third of the way in, a replica dies and is started again at once.
	waitCreates(ctx, fake, chaosCommands/3)
	t.Logf("T+%s SIGKILL replica 1 (%d create calls so far)", since(start), len(fake.CreateRequests()))
	if err := bots[1].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	bots[1].WaitExit(t)
	bots[1] = startProcess(t, env)

	// Halfway, PostgreSQL crashes and comes back.
	waitCreates(ctx, fake, chaosCommands/2)
	t.Logf("T+%s PostgreSQL crash-restart (%d create calls so far)", since(start), len(fake.CreateRequests()))
	pg.restart(t)
	t.Logf("T+%s PostgreSQL is back", since(start))

	replies, err := fake.WaitReplies(ctx, chaosCommands)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("T+%s: %d of %d replies: %v\n%s", since(start), len(replies), chaosCommands, err, logs())
	}
	time.Sleep(2 * time.Second) // a second reply or create would show up by now

	created, unknown, throttled := checkBurstOutcome(t, fake, "chaos-", chaosCommands)
	t.Logf("%d commands in %s (ideal 15 s at 20/s): %d created, %d reported unknown, %d create calls throttled",
		chaosCommands, elapsed.Round(10*time.Millisecond), created, unknown, throttled)
	// Why a call was throttled: the accepted calls in the second before it.
	for i, rec := range fake.CreateRequests() {
		if rec.Status != 403 {
			continue
		}
		var before []string
		for _, a := range fake.CreateRequests()[:i] {
			if a.Status == 200 && rec.At.Sub(a.At) < time.Second {
				before = append(before, fmt.Sprint(rec.At.Sub(a.At).Milliseconds()))
			}
		}
		t.Logf("throttled at T+%s; accepted calls in the second before it, ms earlier: %s", rec.At.Sub(start).Round(time.Millisecond), strings.Join(before, " "))
	}
	if throttled > 5 {
		t.Errorf("DingTalk throttled %d create calls; the shared limit should keep it to a few", throttled)
	}
	// The goal, 1.2 × the ideal 15 s, is measured on a quiet machine by the
	// load driver (go run ./loadtest, BENCHMARKS.md); here, with other tests
	// running, only a burst that waited for leases or for DingTalk's
	// redelivery would be this slow.
	if limit := 30 * time.Second; elapsed > limit {
		t.Errorf("the burst took %s, more than %s (2 × the 15 s DingTalk's limit allows)", elapsed.Round(10*time.Millisecond), limit)
	}
}

// waitCreates waits until fake has received n create calls.
func waitCreates(ctx context.Context, fake *dingtalktest.Server, n int) {
	for len(fake.CreateRequests()) < n && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

// createdName finds the group a "Created group" reply names.
var createdName = regexp.MustCompile(`^Created group "([^"]+)"`)

// checkBurstOutcome checks that each of the n commands "/newgroup
// PREFIXnnn" was answered exactly once, either created (one group, one
// successful create call) or reported as possibly created (an interrupted
// call), and that no group exists twice. It returns how many were created,
// how many reported unknown, and how many create calls DingTalk throttled.
func checkBurstOutcome(t *testing.T, fake *dingtalktest.Server, prefix string, n int) (created, unknown, throttled int) {
	t.Helper()
	groups := map[string]int{}
	for _, g := range fake.Groups() {
		groups[g.Name]++
	}
	ok := map[string]int{}
	for _, rec := range fake.CreateRequests() {
		switch {
		case rec.Status == 403:
			throttled++
		case rec.Status == 200 && rec.Request != nil && rec.Request.Name != nil:
			ok[*rec.Request.Name]++
		}
	}
	replied := map[string]int{}
	for _, r := range fake.Replies() {
		switch m := createdName.FindStringSubmatch(r.Text); {
		case m != nil:
			replied[m[1]]++
		case strings.Contains(r.Text, "MAY have been created"):
			unknown++
		default:
			t.Errorf("unexpected reply: %s", r.Text)
		}
	}
	for i := range n {
		name := fmt.Sprintf("%s%03d", prefix, i)
		if groups[name] > 1 || ok[name] > 1 {
			t.Errorf("%s: %d groups, %d successful create calls: created twice", name, groups[name], ok[name])
		}
		if replied[name] > 1 {
			t.Errorf("%s: %d created replies", name, replied[name])
		}
		if replied[name] == 1 {
			created++
			if groups[name] != 1 {
				t.Errorf("%s: a created reply but %d groups", name, groups[name])
			}
		}
	}
	if created+unknown != n || len(fake.Replies()) != n {
		t.Errorf("%d created + %d unknown in %d replies; want exactly one reply for each of the %d commands", created, unknown, len(fake.Replies()), n)
	}
	return created, unknown, throttled
}
