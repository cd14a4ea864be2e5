// Command loadtest measures dingbot's speed and footprint and writes
// BENCHMARKS.md (issue #7):
//
//	go run ./loadtest -out BENCHMARKS.md     # the full run, about 1 minute
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
// once), footprint (start → /readyz 200, idle and peak RSS, binary size) and
// the Go micro-benchmarks of package commands (go test -bench).
//
// Every loop is bounded in count and time, all traffic stays on 127.0.0.1,
// and every process it starts is stopped before it returns. It makes no
// timing assertions: the report says which target is met.
package main
