package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestQuickRun runs the whole driver at tiny sizes (as CI does inside go
// test -race ./...) and checks the report has every row. It asserts no
// timings: the figures are what this machine did.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bot binary")
	}
	cfg := Quick
	cfg.ThroughputN, cfg.Window, cfg.SteadyRate, cfg.BurstN = 20, 8, 20, 20
	cfg.BenchTime = "10x"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	rep.Command = "go run ./loadtest -quick"
	md := rep.Markdown()
	t.Logf("report:\n%s", md)
	for _, e := range rep.Errors {
		t.Errorf("run problem: %s", e)
	}
	for _, want := range []string{
		"Throughput, 20 × `/newgroup \"Release N\" @Alice @Bob`, dingbot ÷ bare SDK echo",
		"Throughput, 20 × `/help` (no DingTalk call)",
		"CPU time per message",
		"receipt → reply p50 / p99 (dingbot)",
		"receipt → reply p50 / p99 (echo)",
		"Steady 20 × /newgroup per second for 1s, receipt → reply p99 (p50), median of 1 run",
		"Burst: 20 × /newgroup at once",
		"Burst: user-visible failures",
		"Token fetches per run",
		"Idle RSS after startup",
		"Peak RSS (VmHWM)",
		"Binary size",
		"Start → /readyz 200",
		"Parse a typical command",
		"BenchmarkNormalizeSplit", "BenchmarkInterpret", "BenchmarkBuildRequest",
		"| figure | target | measured | met? |",
		"## How to read it",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report has no %q", want)
		}
	}
	if strings.Contains(md, "not measured") {
		t.Error("a micro-benchmark was not measured")
	}
	// Every message got its reply (counts, not timings).
	for _, r := range []run{rep.ThroughputBot, rep.ThroughputHelp, rep.ThroughputEcho, rep.SteadyBot, rep.SteadyEcho, rep.Burst} {
		if r.Sent == 0 || r.Replies != r.Sent || r.Failures != 0 {
			t.Errorf("%s %s: %d sent, %d replies, %d failures", r.Bot, r.Workload, r.Sent, r.Replies, r.Failures)
		}
	}
	// The /newgroup runs created one group per message.
	if rep.ThroughputBot.Groups != rep.ThroughputBot.Sent || rep.SteadyBot.Groups != rep.SteadyBot.Sent {
		t.Errorf("groups created: throughput %d of %d, steady %d of %d", rep.ThroughputBot.Groups, rep.ThroughputBot.Sent,
			rep.SteadyBot.Groups, rep.SteadyBot.Sent)
	}
	if rep.Burst.TokenFetches != 1 {
		t.Errorf("burst: %d token fetches, want 1", rep.Burst.TokenFetches)
	}
}

func TestParseBench(t *testing.T) {
	out := []byte("goos: linux\nBenchmarkLanguageInterpret-2   \t   55172\t     22115 ns/op\t    7536 B/op\t      61 allocs/op\nPASS\n")
	got := parseBench(out)
	if len(got) != 1 || got[0] != (bench{Name: "BenchmarkLanguageInterpret", NsPerOp: 22115, BPerOp: 7536, Allocs: 61}) {
		t.Errorf("parseBench = %+v", got)
	}
}

func TestMedianRun(t *testing.T) {
	mk := func(p99ms int, failures int) run {
		r := run{Failures: failures}
		for range 100 {
			r.Lat = append(r.Lat, time.Duration(p99ms)*time.Millisecond)
		}
		return r
	}
	got, all := medianRun([]run{mk(9, 0), mk(3, 0), mk(1, 2), mk(5, 0)})
	// Sorted by p99, a failed run last: 3, 5, 9, failed; the lower middle is 5.
	if got.Lat.pct(99) != 5*time.Millisecond || len(all) != 4 || all[0] != 9*time.Millisecond {
		t.Errorf("medianRun = p99 %s, all %v", got.Lat.pct(99), all)
	}
	if got, _ := medianRun(nil); got.Sent != 0 || got.Lat != nil {
		t.Errorf("medianRun(nil) = %+v", got)
	}
}

func TestPercentile(t *testing.T) {
	var l latencies
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	if p := l.pct(50); p != 50*time.Millisecond {
		t.Errorf("p50 = %s", p)
	}
	if p := l.pct(99); p != 99*time.Millisecond {
		t.Errorf("p99 = %s", p)
	}
	if p := (latencies{}).pct(99); p != 0 {
		t.Errorf("empty p99 = %s", p)
	}
}
