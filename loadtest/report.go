package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Targets of issue #7.
const (
	targetRatio      = 0.8
	targetSteadyP99  = 10 * time.Millisecond
	targetBurst      = 11 * time.Second
	targetIdleRSS    = 25 << 20
	targetPeakRSS    = 60 << 20
	targetReady      = 300 * time.Millisecond
	targetParseNs    = 5000
	targetParseAlloc = 20
)

// Targets of issue #15.
const (
	targetReplicaFactor  = 1.2 // × the ideal time of the replica bursts
	targetChaosThrottled = 5   // 403s in the chaos burst: "a few"
	targetRecoveryFirst  = 5 * time.Second
)

// row is one line of the results table.
type row struct{ figure, target, measured, met string }

func yes(ok bool) string {
	if ok {
		return "✅ yes"
	}
	return "❌ no"
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func ms(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 ms"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	case d < 10*time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

// plural is "1 run", "3 runs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// msList formats durations as "a, b, c".
func msList(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = ms(d)
	}
	return strings.Join(parts, ", ")
}

func us(ns float64) string { return fmt.Sprintf("%.2f µs", ns/1000) }

// median of the start → ready times.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// Rows returns the results table: one row per figure of the issue, in its order.
func (r *Report) Rows() []row {
	c := r.Config
	tb, te := r.ThroughputBot, r.ThroughputEcho
	ratio := 0.0
	if te.perSecond() > 0 {
		ratio = tb.perSecond() / te.perSecond()
	}
	th := r.ThroughputHelp
	helpRatio := 0.0
	if te.perSecond() > 0 {
		helpRatio = th.perSecond() / te.perSecond()
	}
	rows := []row{
		{fmt.Sprintf("Throughput, %d × `/newgroup \"Release N\" @Alice @Bob`, dingbot ÷ bare SDK echo (same run)", c.ThroughputN), fmt.Sprintf("≥ %.1f×", targetRatio),
			fmt.Sprintf("%.2f× (%.0f vs %.0f msg/s)", ratio, tb.perSecond(), te.perSecond()), yes(ratio >= targetRatio && tb.Failures == 0)},
		{"Throughput run, receipt → reply p50 / p99 (dingbot)", "—",
			fmt.Sprintf("%s / %s", ms(tb.Lat.pct(50)), ms(tb.Lat.pct(99))), "—"},
		{"Throughput run, receipt → reply p50 / p99 (echo)", "—",
			fmt.Sprintf("%s / %s", ms(te.Lat.pct(50)), ms(te.Lat.pct(99))), "—"},
		{fmt.Sprintf("Throughput, %d × `/help` (no DingTalk call), dingbot ÷ echo", c.ThroughputN), "—",
			fmt.Sprintf("%.2f× (%.0f msg/s; p50 %s, p99 %s)", helpRatio, th.perSecond(), ms(th.Lat.pct(50)), ms(th.Lat.pct(99))), "—"},
		{"CPU time per message in the throughput runs (dingbot /newgroup; dingbot /help; echo)", "—",
			fmt.Sprintf("%s; %s; %s", us(float64(tb.cpuPerMessage())), us(float64(th.cpuPerMessage())), us(float64(te.cpuPerMessage()))), "—"},
	}
	sb, se := r.SteadyBot, r.SteadyEcho
	rows = append(rows,
		row{fmt.Sprintf("Steady %d × /newgroup per second for %s, receipt → reply p99 (p50), median of %s", c.SteadyRate, c.SteadyFor, plural(len(r.SteadyBotP99s), "run")),
			"p99 ≤ " + ms(targetSteadyP99),
			fmt.Sprintf("%s (%s), %d/%d replies; each run's p99: %s", ms(sb.Lat.pct(99)), ms(sb.Lat.pct(50)), sb.Replies, sb.Sent, msList(r.SteadyBotP99s)),
			yes(sb.Sent > 0 && sb.Failures == 0 && sb.Lat.pct(99) <= targetSteadyP99)},
		row{"Steady, same rate, bare SDK echo p99 (p50)", "—",
			fmt.Sprintf("%s (%s), %d/%d replies; each run's p99: %s", ms(se.Lat.pct(99)), ms(se.Lat.pct(50)), se.Replies, se.Sent, msList(r.SteadyEchoP99s)), "—"},
	)
	b := r.Burst
	ideal := time.Duration(float64(c.BurstN) / float64(max(1, c.BurstRate)) * float64(time.Second))
	limit := ideal + ideal/10
	rows = append(rows,
		row{fmt.Sprintf("Burst: %d × /newgroup at once, fake allows %d creates/s: total time", c.BurstN, c.BurstRate),
			fmt.Sprintf("≤ %s (ideal %s)", ms(limit), ms(ideal)), fmt.Sprintf("%s (%d 403s retried)", ms(b.Elapsed), b.Throttled),
			yes(b.Replies == c.BurstN && b.Elapsed <= limit)},
		row{"Burst: user-visible failures", "0", fmt.Sprintf("%d (%d groups created)", b.Failures, b.Groups), yes(b.Sent > 0 && b.Failures == 0)},
	)
	rows = append(rows, r.replicaRows()...)
	rows = append(rows,
		row{"Token fetches per run (throughput / steady / burst)", "1",
			fmt.Sprintf("%d / %d / %d", tb.TokenFetches, sb.TokenFetches, b.TokenFetches),
			yes(tb.TokenFetches <= 1 && sb.TokenFetches <= 1 && b.TokenFetches == 1)},
		row{"Idle RSS after startup (dingbot; echo)", "≤ 25 MB", fmt.Sprintf("%s (anon %s + file %s); %s", mib(tb.Idle.RSS), mib(tb.Idle.Anon), mib(tb.Idle.File), mib(te.Idle.RSS)),
			yes(tb.Idle.RSS > 0 && tb.Idle.RSS <= targetIdleRSS)},
		row{"Peak RSS (VmHWM) in the throughput run (dingbot; echo)", "≤ 60 MB", fmt.Sprintf("%s; %s", mib(tb.Peak.HWM), mib(te.Peak.HWM)),
			yes(tb.Peak.HWM > 0 && tb.Peak.HWM <= targetPeakRSS)},
		row{"Binary size, release build (dingbot; echo)", "—", fmt.Sprintf("%s; %s", mib(r.BotSize), mib(r.EchoSize)), "—"},
		row{fmt.Sprintf("Start → /readyz 200, median of %d starts (max)", len(r.Startups)), "≤ " + ms(targetReady),
			fmt.Sprintf("%s (%s)", ms(median(r.Startups)), ms(slices.Max(append([]time.Duration{0}, r.Startups...)))),
			yes(len(r.Startups) > 0 && median(r.Startups) <= targetReady)},
	)
	if p, ok := findBench(r.Micro, "BenchmarkLanguageInterpret"); ok {
		rows = append(rows, row{"Parse a typical command (BenchmarkLanguageInterpret)", "≤ 5 µs, ≤ 20 allocs",
			fmt.Sprintf("%s, %.0f allocs, %.0f B", us(p.NsPerOp), p.Allocs, p.BPerOp), yes(p.NsPerOp <= targetParseNs && p.Allocs <= targetParseAlloc)})
	} else {
		rows = append(rows, row{"Parse a typical command (BenchmarkLanguageInterpret)", "≤ 5 µs, ≤ 20 allocs", "not measured", yes(false)})
	}
	for _, name := range []string{"BenchmarkNormalizeSplit", "BenchmarkInterpret", "BenchmarkInterpretHelp", "BenchmarkBuildRequest"} {
		if p, ok := findBench(r.Micro, name); ok {
			rows = append(rows, row{name, "—", fmt.Sprintf("%s, %.0f allocs, %.0f B", us(p.NsPerOp), p.Allocs, p.BPerOp), "—"})
		} else {
			rows = append(rows, row{name, "—", "not measured", "—"})
		}
	}
	return rows
}

// replicaRows are the rows of the multi-replica part (issue #15).
func (r *Report) replicaRows() []row {
	c := r.Config
	rb, rc, rv := r.ReplicaBurst, r.ReplicaChaos, r.Recovery
	ideal := time.Duration(float64(c.ReplicaN) / float64(max(1, c.BurstRate)) * float64(time.Second))
	limit := time.Duration(targetReplicaFactor * float64(ideal))
	total := fmt.Sprintf("≤ %s (%.1f × ideal %s)", ms(limit), targetReplicaFactor, ms(ideal))
	rows := []row{
		{fmt.Sprintf("Burst, %d replicas on one PostgreSQL: %d × /newgroup at once, fake allows %d creates in any 1-s window: total time", c.Replicas, c.ReplicaN, c.BurstRate),
			total, fmt.Sprintf("%s (%d 403s retried)", ms(rb.Elapsed), rb.Throttled),
			yes(rb.Sent > 0 && rb.Answered == rb.Sent && rb.Elapsed <= limit)},
		{fmt.Sprintf("Burst, %d replicas: user-visible failures; groups created twice", c.Replicas), "0; 0",
			fmt.Sprintf("%d (%d groups created); %d", rb.Failures+rb.Unknown+rb.Twice, rb.Groups, rb.Doubles),
			yes(rb.Sent > 0 && rb.Failures+rb.Unknown+rb.Twice == 0 && rb.Doubles == 0)},
		{"Same burst with chaos: a replica SIGKILLed at 1/3 of the creates and restarted at once, PostgreSQL crash-restarted at 1/2: total time",
			total, fmt.Sprintf("%s (killed at create call %d, replacement ready in %s; PostgreSQL restarted at call %d, down %s)",
				ms(rc.Elapsed), rc.KilledAt, ms(rc.Restart), rc.PGAt, ms(rc.PGDown)),
			yes(rc.Sent > 0 && rc.Answered == rc.Sent && rc.Elapsed <= limit)},
		{"Chaos burst: 403s", fmt.Sprintf("a few (≤ %d)", targetChaosThrottled), fmt.Sprintf("%d (of %d create calls)", rc.Throttled, rc.Creates),
			yes(rc.Sent > 0 && rc.Throttled <= targetChaosThrottled)},
		{"Chaos burst: commands answered, once (reported as possibly created); groups created twice", "all; 0",
			fmt.Sprintf("%d/%d, %d twice, %d failed (%d created, %d unknown; %d frames redelivered after 60 s); %d",
				rc.Answered, rc.Sent, rc.Twice, rc.Failures, rc.Created, rc.Unknown, rc.Redelivered, rc.Doubles),
			yes(rc.Sent > 0 && rc.Answered == rc.Sent && rc.Twice == 0 && rc.Failures == 0 && rc.Doubles == 0)},
	}
	switch {
	case !c.runs("replicas"):
		for i := range rows {
			rows[i].measured, rows[i].met = "not run (-only)", "—"
		}
	case r.ReplicaSkipped != "":
		for i := range rows {
			rows[i].measured, rows[i].met = "skipped: "+r.ReplicaSkipped, "—"
		}
	}
	rec := row{fmt.Sprintf("Recovery: kill -9 of one process (SQLite, defaults) holding %d ACKed commands behind a hanging DingTalk create, restarted at once: restart → first answer", c.RecoveryN),
		"≤ " + ms(targetRecoveryFirst),
		fmt.Sprintf("%s (%d queued, %d cut off mid-create; all %d/%d answered after %s: %d created, %d unknown, %d failed, %d twice; %d created twice)",
			ms(rv.FirstAnswer), rv.Queued(), rv.CutOff, rv.Answered, rv.Sent, ms(rv.AllAnswered), rv.Created, rv.Unknown, rv.Failures, rv.Twice, rv.Doubles),
		yes(rv.Sent > 0 && rv.Answered == rv.Sent && rv.Failures == 0 && rv.Twice == 0 && rv.Doubles == 0 && rv.FirstAnswer <= targetRecoveryFirst)}
	if !c.runs("replicas") {
		rec.measured, rec.met = "not run (-only)", "—"
	}
	return append(rows, rec)
}

// Markdown renders BENCHMARKS.md.
func (r *Report) Markdown() string {
	var b strings.Builder
	c := r.Config
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# dingbot benchmarks\n\n")
	w("Generated by `%s` (issue #7); do not edit by hand, run the command again.\n", r.Command)
	if c.Quick {
		w("**This is a `-quick` run: tiny sizes, the figures are not meaningful.**\n")
	}
	w("\n- **Date:** %s (the run took %s)\n", r.Date.Format("2006-01-02 15:04 MST"), r.Took.Round(time.Second))
	w("- **Machine:** %s, %s cores, %s RAM, %s, %s\n", r.Machine.CPU, r.Machine.Cores, r.Machine.Memory, r.Machine.Kernel, r.Machine.Go)
	w("- **Machine state:** load average %s before, %s after. The driver, the fake DingTalk and the bot share these cores; other work on the machine shows up in the figures.\n", r.LoadBefore, r.LoadAfter)
	w("- **Reproduce:** `go run ./loadtest -out BENCHMARKS.md` (about 3½ minutes on a quiet machine; `go run ./loadtest -quick` is about half a minute and prints to stdout).\n\n")
	w("| figure | target | measured | met? |\n|---|---|---|---|\n")
	for _, x := range r.Rows() {
		w("| %s | %s | %s | %s |\n", x.figure, x.target, x.measured, x.met)
	}
	if c.runs("replicas") && r.ReplicaSkipped != "" {
		w("\n**Skipped:** the PostgreSQL replica bursts: %s.\n", r.ReplicaSkipped)
	}
	if len(r.Errors) > 0 {
		w("\n**Problems in this run:**\n\n")
		for _, e := range r.Errors {
			w("- %s\n", e)
		}
	}
	sizes := strings.NewReplacer("{WINDOW}", fmt.Sprint(c.Window), "{N}", fmt.Sprint(c.ThroughputN),
		"{REPLICAS}", fmt.Sprint(c.Replicas), "{REPLICAN}", fmt.Sprint(c.ReplicaN), "{RATE}", fmt.Sprint(c.BurstRate),
		"{IDEAL}", fmt.Sprintf("%.3g", float64(c.ReplicaN)/float64(max(1, c.BurstRate))), "{RECOVERYN}", fmt.Sprint(c.RecoveryN))
	w("\n%s", sizes.Replace(howToRead))
	w("\n%s", sizes.Replace(findings))
	return b.String()
}

const howToRead = `## How to read it

Everything runs on this machine: ` + "`loadtest`" + ` builds dingbot with the release flags
(` + "`CGO_ENABLED=0 go build -trimpath -tags nomsgpack -ldflags=\"-s -w\"`" + `, as the Dockerfile), starts the
in-repo fake DingTalk (` + "`dingtalktest`" + `) on 127.0.0.1 and runs ` + "`dingbot serve`" + ` as a separate
process in Stream mode through the official SDK, with production defaults (SQLite in a fresh
directory, log level info, 32 workers). Each scenario gets a fresh fake and a fresh process.
Run ` + "`go run ./loadtest -only throughput`" + ` (or steady, burst, replicas, micro) to repeat one part.

- **Receipt → reply** is measured at the fake: from just before it pushes the message's frame
  down the websocket to when the reply to that msgId reached its session webhook. It includes
  the SDK's decoding, dingbot's durable inbox (a SQLite insert before the ACK), a worker, the
  parser, the create-group call to the fake, the outcome's commit and the webhook POST.
- **Throughput** sends {N} distinct ` + "`/newgroup \"Release N\" @Alice @Bob`" + ` messages (a group
  chat, two real mentions) with at most {WINDOW} frames un-ACKed, and divides the replies by the
  time from the first push to the last reply. dingbot creates one group per message; its own
  create limit (DingTalk's 20/s) is raised to the most the configuration accepts, since the fake
  enforces no limit here (the burst measures the limit). The baseline, ` + "`loadtest/echobot`" + `, is
  the SDK's minimal bot (` + "`client.NewStreamClient`" + ` + ` + "`RegisterChatBotCallbackRouter`" + `,
  replying "echo: …" with one HTTP POST to the sessionWebhook inside the handler), run as a separate
  process the same way, right before dingbot. The ` + "`/help`" + ` row is the same run answered without
  a DingTalk call: the pipeline alone.
- **CPU time per message** is the bot process's user + system time (` + "`/proc/PID/stat`" + `) from the
  first push to the end of the run, divided by the replies; "fake and driver" is the same for the
  driver's own process, which runs the fake DingTalk. It is the figure to compare across runs:
  throughput on 2 shared cores moves with whatever else runs, CPU per message much less.
- **Steady** pushes messages at a fixed rate without waiting for ACKs (open loop), so queueing
  shows up in the latency.
- **Burst** pushes the ` + "`/newgroup`" + ` commands at once while the fake answers 403
  ` + "`Forbidden.AccessDenied.QpsLimitForAppkeyAndApi`" + ` beyond the allowed creates per second; a
  user-visible failure is a reply that is not "Created group …" or a missing reply. Total time is
  first push → last reply.
- **Replicas** (issue #15) run {REPLICAS} ` + "`dingbot serve`" + ` processes, production defaults otherwise, on
  one PostgreSQL database: a private server the driver initdb's and starts from
  ` + "`/usr/lib/postgresql/*/bin`" + ` with that version's defaults but ` + "`fsync=off`" + `, as the chaos test does,
  so that the crash-restart is not this machine's disk syncing the data directory for seconds
  (the rows say "skipped" where PostgreSQL is not installed). One fake allows {RATE} creates in any
  one-second window, as DingTalk's per-app limit does, pushes each frame to a random one of the
  connections and, like DingTalk, pushes a frame again only after 60 s without an ACK.
  {REPLICAN} ` + "`/newgroup`" + ` commands are pushed at once; the replicas share the limit through the
  database, so the ideal is {REPLICAN} ÷ {RATE} = {IDEAL} s whatever their number. The chaos run repeats
  it, SIGKILLing one replica once a third of the create calls were made (a new process starts at
  once on the same database) and crash-restarting PostgreSQL (` + "`pg_ctl stop -m immediate`" + `, then
  start) at half. A command whose create the kill cut off is answered "it MAY have been created"
  (unknown) once the dead replica's heartbeat has run out; every other reply must be "Created
  group …"; a missing or second reply, or a group created twice, is a bug. A 403 is a create
  call the fake refused and the bot retried. Total time is first push → last reply.
- **Recovery** kills (SIGKILL) one process with the production defaults (SQLite) while it holds
  {RECOVERYN} ACKed commands behind a DingTalk whose create call hangs, so a few are mid-call and the rest
  queued, and starts it again at once on the same data directory with DingTalk answering again.
  The row is the time from that ` + "`exec`" + ` to the first reply: the queued work is taken over once the
  dead process's heartbeat has run out (~3 s), not when its 30-s leases expire.
- **Token fetches** are the fake's count for the run: dingbot fetches one access token at startup
  (the preflight) and reuses it.
- **RSS** is ` + "`VmRSS`" + ` of the bot process one second after /readyz turned 200 (idle) and ` + "`VmHWM`" + `
  at the end of the throughput run (peak, startup included). MB in the targets is read as MiB.
- **Start → ready** is from ` + "`exec`" + ` to the first 200 of ` + "`/readyz`" + ` (polled every 2 ms), which
  needs the Stream connection to the fake; the median over every dingbot start of the run.
- **Micro-benchmarks** are ` + "`go test -bench -benchmem`" + ` in ` + "`commands`" + ` and ` + "`dingclient`" + `:
  ` + "`BenchmarkLanguageInterpret`" + ` is what the bot runs per message (normalise, split, parse
  options, template, build the create request) for ` + "`/newgroup \"Release 4.2\" @alice @bob --template release --mute yes`" + `;
  ` + "`BenchmarkNormalizeSplit`" + ` is the lexer alone; ` + "`BenchmarkInterpret`" + ` is the package-level
  ` + "`Interpret`" + ` with the built-in language; ` + "`BenchmarkBuildRequest`" + ` encodes the create-group
  request body as sent to DingTalk.
`
