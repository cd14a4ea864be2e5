package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Config sizes a run. Every loop of the driver is bounded by these counts
// and by RunTimeout.
type Config struct {
	Quick       bool
	ThroughputN int           // messages in the throughput run
	Window      int           // frames in flight, un-ACKed, in the throughput run
	SteadyRate  int           // messages per second in the steady run
	SteadyFor   time.Duration // length of the steady run
	SteadyRuns  int           // steady runs per bot, alternating; the one with the median p99 is reported
	BurstN      int           // /newgroup commands sent at once
	BurstRate   int           // creates the fake allows in any one-second window
	Replicas    int           // dingbot processes sharing one PostgreSQL database in the replica bursts
	ReplicaN    int           // /newgroup commands sent at once over them
	RecoveryN   int           // commands ACKed and queued when the single process is killed in the recovery run
	BenchTime   string        // go test -benchtime of the micro-benchmarks
	Settle      time.Duration // idle time after startup before the idle RSS is read
	RunTimeout  time.Duration // bound of each wait for replies
	// Only, if not empty, runs just these parts (throughput, steady, burst,
	// replicas, micro), for profiling one of them; the report then misses the rest.
	Only []string
}

// runs reports whether the part named part is to run.
func (c Config) runs(part string) bool { return len(c.Only) == 0 || slices.Contains(c.Only, part) }

// Full is the configuration of BENCHMARKS.md; Quick the tiny one CI runs.
var (
	Full = Config{ThroughputN: 2000, Window: 64, SteadyRate: 200, SteadyFor: 10 * time.Second, SteadyRuns: 3,
		BurstN: 200, BurstRate: 20, Replicas: 3, ReplicaN: 300, RecoveryN: 150, BenchTime: "1s", Settle: time.Second, RunTimeout: 60 * time.Second}
	Quick = Config{Quick: true, ThroughputN: 20, Window: 8, SteadyRate: 20, SteadyFor: time.Second, SteadyRuns: 1,
		BurstN: 20, BurstRate: 20, Replicas: 3, ReplicaN: 60, RecoveryN: 40, BenchTime: "100x", Settle: 100 * time.Millisecond, RunTimeout: 30 * time.Second}
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// cli parses the flags, runs every scenario and writes the report.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "-", "write the markdown report to this file (- is stdout)")
	quick := fs.Bool("quick", false, "a tiny run (seconds): 20 messages, 1 s steady at 20/s, a 20-command burst, 60-command replica bursts")
	cfg := Full
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./loadtest [-quick] [-out BENCHMARKS.md] [sizes]")
		fs.PrintDefaults()
	}
	n := fs.Int("n", 0, "messages in the throughput run (default 2000, quick 20)")
	rate := fs.Int("rate", 0, "messages per second in the steady run (default 200, quick 20)")
	burst := fs.Int("burst", 0, "commands in the burst (default 200, quick 20)")
	only := fs.String("only", "", "run only these comma-separated parts: throughput, steady, burst, replicas, micro (for profiling; the report misses the rest)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *quick {
		cfg = Quick
	}
	if *n > 0 {
		cfg.ThroughputN = min(*n, 100000)
	}
	if *rate > 0 {
		cfg.SteadyRate = min(*rate, 5000)
	}
	if *burst > 0 {
		cfg.BurstN = min(*burst, 2000)
	}
	if *only != "" {
		for _, part := range strings.Split(*only, ",") {
			if !slices.Contains(parts, part) {
				fmt.Fprintf(stderr, "loadtest: -only: unknown part %q\n", part)
				return 2
			}
			cfg.Only = append(cfg.Only, part)
		}
	}
	command := "go run ./loadtest"
	if len(args) > 0 {
		command += " " + strings.Join(args, " ")
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "loadtest: "+format+"\n", a...)
	}
	rep, err := Run(ctx, cfg, logf)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return 1
	}
	rep.Command = command
	md := rep.Markdown()
	if *out == "-" {
		_, err = io.WriteString(stdout, md)
	} else {
		err = os.WriteFile(*out, []byte(md), 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return 1
	}
	if *out != "-" {
		logf("wrote %s", *out)
	}
	return 0
}

// parts are the names -only accepts, in the order they run.
var parts = []string{"throughput", "steady", "burst", "replicas", "micro"}

// Report is everything one run measured.
type Report struct {
	Config                Config
	Command               string
	Date                  time.Time
	Machine               machine
	LoadBefore, LoadAfter string
	Took                  time.Duration

	BotSize, EchoSize int64
	Startups          []time.Duration
	ThroughputBot     run // /newgroup
	ThroughputHelp    run // dingbot answering /help: no DingTalk call
	ThroughputEcho    run
	SteadyBot         run // the steady run with the median p99
	SteadyEcho        run
	SteadyBotP99s     []time.Duration // every steady run's p99, in run order
	SteadyEchoP99s    []time.Duration
	Burst             run
	// ReplicaSkipped, if not empty, says why the PostgreSQL replica bursts
	// did not run (no PostgreSQL server binaries).
	ReplicaSkipped string
	ReplicaBurst   replicaRun
	ReplicaChaos   replicaRun
	Recovery       recoveryRun
	Micro          []bench
	Errors         []string
}

// Run builds the binaries, runs every scenario in turn and returns the
// report. A scenario that fails is recorded in Report.Errors; only a failed
// build stops the run.
func Run(ctx context.Context, cfg Config, logf func(string, ...any)) (*Report, error) {
	start := time.Now()
	rep := &Report{Config: cfg, Date: start.UTC(), Machine: describeMachine(ctx), LoadBefore: loadavg()}
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dingbot-loadtest")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	r := &rig{cfg: cfg, dir: dir, logf: logf}
	logf("building dingbot and echobot (release flags: %s)", strings.Join(releaseFlags, " "))
	if r.dingbot, err = build(ctx, root, dir, "dingbot", ".", nil); err != nil {
		return nil, err
	}
	if r.echobot, err = build(ctx, root, dir, "echobot", "./loadtest/echobot", nil); err != nil {
		return nil, err
	}
	rep.BotSize, rep.EchoSize = fileSize(r.dingbot), fileSize(r.echobot)

	note := func(what string, err error) {
		if err != nil {
			logf("%s: %v", what, err)
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %v", what, firstLine(err.Error())))
		}
	}
	// The echo baseline runs right before dingbot so both see the same machine state.
	if cfg.runs("throughput") {
		rep.ThroughputEcho, err = r.throughput(ctx, r.startEchobot, newgroupLoad)
		note("throughput (echobot)", err)
		rep.ThroughputBot, err = r.throughput(ctx, r.startUnthrottledDingbot, newgroupLoad)
		note("throughput (dingbot)", err)
		rep.ThroughputHelp, err = r.throughput(ctx, r.startUnthrottledDingbot, helpLoad)
		note("throughput (dingbot, /help)", err)
	}
	if cfg.runs("steady") {
		// A p99 of one 10 s run moves with whatever else the machine does
		// in those seconds: take the median of several, alternating bots.
		var echoRuns, botRuns []run
		for range max(1, cfg.SteadyRuns) {
			x, err := r.steady(ctx, r.startEchobot, newgroupLoad)
			note("steady (echobot)", err)
			echoRuns = append(echoRuns, x)
			x, err = r.steady(ctx, r.startUnthrottledDingbot, newgroupLoad)
			note("steady (dingbot)", err)
			botRuns = append(botRuns, x)
		}
		rep.SteadyEcho, rep.SteadyEchoP99s = medianRun(echoRuns)
		rep.SteadyBot, rep.SteadyBotP99s = medianRun(botRuns)
	}
	if cfg.runs("burst") {
		rep.Burst, err = r.burst(ctx)
		note("burst", err)
	}
	if cfg.runs("replicas") {
		r.replicas(ctx, rep, note)
	}
	for _, x := range []run{rep.ThroughputEcho, rep.ThroughputBot, rep.ThroughputHelp, rep.SteadyEcho, rep.SteadyBot, rep.Burst} {
		if x.Err != "" {
			rep.Errors = append(rep.Errors, x.Bot+": "+x.Err)
		}
	}
	rep.Startups = slices.Clone(r.startups)
	if cfg.runs("micro") {
		logf("micro-benchmarks (go test -bench, -benchtime %s)", cfg.BenchTime)
		rep.Micro, err = micro(ctx, root, cfg.BenchTime)
		note("micro-benchmarks", err)
	}
	rep.LoadAfter = loadavg()
	rep.Took = time.Since(start)
	if ctx.Err() != nil {
		return rep, errors.New("interrupted")
	}
	return rep, nil
}

// medianRun returns the run with the median p99 (the lower middle one of an
// even count) and every run's p99 in order. Failed runs count as worst.
func medianRun(runs []run) (run, []time.Duration) {
	if len(runs) == 0 {
		return run{}, nil
	}
	p99 := func(x run) time.Duration {
		if x.Err != "" || x.Failures > 0 || len(x.Lat) == 0 {
			return time.Duration(math.MaxInt64)
		}
		return x.Lat.pct(99)
	}
	var all []time.Duration
	for _, x := range runs {
		all = append(all, x.Lat.pct(99))
	}
	sorted := slices.Clone(runs)
	slices.SortStableFunc(sorted, func(a, b run) int { return cmp.Compare(p99(a), p99(b)) })
	return sorted[(len(sorted)-1)/2], all
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// machine describes where the run happened.
type machine struct {
	CPU, Cores, Memory, Kernel, Go string
}

func describeMachine(ctx context.Context) machine {
	m := machine{CPU: "unknown", Cores: fmt.Sprint(numCPU()), Memory: "unknown", Kernel: "unknown", Go: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && k == "MemTotal" {
				var kb int64
				fmt.Sscan(strings.TrimSpace(v), &kb)
				m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if out, err := goEnv(ctx, "GOVERSION"); err == nil {
		m.Go = out
	}
	return m
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
