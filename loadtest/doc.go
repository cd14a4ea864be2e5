// Command loadtest measures dingbot's speed and footprint and writes
// BENCHMARKS.md (issue #7):
//
//	go run ./loadtest -out BENCHMARKS.md     # the full run, about 3½ minutes
//	go run ./loadtest -quick                 # a tiny run, report on stdout
//
// It is a top-level package, not part of the bot, because it is a load
// driver that treats dingbot as a black box: it builds the real binary with
// the release build flags into a temporary directory, starts the in-repo fake
// DingTalk (dingtalktest) on 127.0.0.1, runs `dingbot serve` against it as a
// separate process exactly as in production (only the URLs differ), injects
// messages through the fake's websocket and measures what the fake records:
// when each reply arrived, how many creates and token fetches it saw, and the
// bot process's memory from /proc. For the baseline it builds and runs
// echobot (./echobot), a bare SDK echo bot, the same way.
//
// Scenarios: throughput (N /help messages, a bounded window of un-ACKed
// frames, dingbot and echobot in turn), steady rate (open loop at a fixed
// rate), a rate-limited burst (the fake allows 20 creates/s, 200 /newgroup at
// once), replicas (issue #15: 300 /newgroup at once over 3 dingbot processes
// sharing one PostgreSQL database, which the driver initdb's and starts from
// the installed server binaries, or skips with a note where there are none;
// the same burst with one replica SIGKILLed and restarted and PostgreSQL
// crash-restarted; and a single process killed with 150 ACKed commands
// queued, restarted at once), footprint (start → /readyz 200, idle and
// peak RSS, binary size) and the Go micro-benchmarks of package commands
// (go test -bench). -only runs some of them: throughput, steady, burst,
// replicas, micro.
//
// Every loop is bounded in count and time, all traffic stays on 127.0.0.1,
// and every process it starts is stopped before it returns. It makes no
// timing assertions: the report says which target is met.
package main
