package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/internal/pgserver"
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
		"Burst, 3 replicas on one PostgreSQL: 60 × /newgroup at once",
		"Burst, 3 replicas: user-visible failures; groups created twice",
		"Same burst with chaos",
		"Chaos burst: 403s",
		"Chaos burst: commands answered",
		"Recovery: kill -9 of one process (SQLite, defaults) holding 40 ACKed commands",
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
	// The replica bursts and the recovery: every command answered once, no
	// group created twice (counts, not timings).
	if rep.ReplicaSkipped != "" {
		t.Logf("replica bursts skipped: %s", rep.ReplicaSkipped)
		if !strings.Contains(md, "skipped: ") {
			t.Error("the report does not say the replica bursts were skipped")
		}
	} else {
		for _, x := range []replicaRun{rep.ReplicaBurst, rep.ReplicaChaos} {
			if x.Sent != cfg.ReplicaN || x.Answered != x.Sent || x.Twice != 0 || x.Failures != 0 || x.Doubles != 0 {
				t.Errorf("replica burst (chaos %t): %d sent, %d answered, %d twice, %d failures, %d created twice", x.Chaos, x.Sent, x.Answered, x.Twice, x.Failures, x.Doubles)
			}
		}
		if b := rep.ReplicaBurst; b.Created != b.Sent {
			t.Errorf("replica burst: %d of %d created", b.Created, b.Sent)
		}
		if c := rep.ReplicaChaos; c.KilledAt == 0 || c.PGAt == 0 || c.PGDown == 0 {
			t.Errorf("chaos burst: killed at create call %d, PostgreSQL restarted at %d (down %s)", c.KilledAt, c.PGAt, c.PGDown)
		}
	}
	if x := rep.Recovery; x.Sent != cfg.RecoveryN || x.Answered != x.Sent || x.Twice != 0 || x.Failures != 0 || x.Doubles != 0 || x.CutOff == 0 || x.FirstAnswer <= 0 {
		t.Errorf("recovery: %+v", x)
	}
	if rep.Burst.TokenFetches != 1 {
		t.Errorf("burst: %d token fetches, want 1", rep.Burst.TokenFetches)
	}
}

// TestReplicasSkippedWithoutPostgres: where no PostgreSQL server is
// installed, the replica bursts are skipped and the report says why, in
// their rows and under the table, without counting it as a problem.
func TestReplicasSkippedWithoutPostgres(t *testing.T) {
	if _, err := pgserver.Start(context.Background(), t.TempDir()+"/*/bin/initdb"); !errors.Is(err, pgserver.ErrNotInstalled) {
		t.Fatalf("pgserver.Start without PostgreSQL = %v, want ErrNotInstalled", err)
	}
	rep := &Report{Config: Full, ReplicaSkipped: pgserver.ErrNotInstalled.Error(), Command: "go run ./loadtest"}
	md := rep.Markdown()
	if n := strings.Count(md, "| skipped: "+pgserver.ErrNotInstalled.Error()+" | — |"); n != 5 {
		t.Errorf("%d replica rows say they were skipped, want 5:\n%s", n, md)
	}
	if !strings.Contains(md, "**Skipped:** the PostgreSQL replica bursts: ") || strings.Contains(md, "Problems in this run") {
		t.Errorf("the report does not note the skip, or counts it as a problem:\n%s", md)
	}
	// The recovery run needs no PostgreSQL: its row is measured.
	if !strings.Contains(md, "| Recovery: kill -9 of one process (SQLite, defaults) holding 150 ACKed commands") {
		t.Error("no recovery row")
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
