package main

// The multi-replica part (issue #15): a /newgroup burst over several
// dingbot processes sharing one PostgreSQL database and one DingTalk app,
// the same burst with a replica killed and PostgreSQL crash-restarted in
// the middle, and how fast a restarted process picks up the work a killed
// one had ACKed.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/pgserver"
)

// replicas runs the multi-replica part into rep: the two bursts on a
// private PostgreSQL server (skipped, with a note, where PostgreSQL is not
// installed) and the single-process recovery run.
func (r *rig) replicas(ctx context.Context, rep *Report, note func(string, error)) {
	pg, err := pgserver.Start(ctx, "")
	switch {
	case errors.Is(err, pgserver.ErrNotInstalled):
		rep.ReplicaSkipped = err.Error()
		r.logf("replicas: skipping the PostgreSQL bursts: %v", err)
	case err != nil:
		rep.ReplicaSkipped = "PostgreSQL did not start: " + firstLine(err.Error())
		note("replicas: PostgreSQL", err)
	default:
		func() {
			defer pg.Remove()
			r.logf("replicas: PostgreSQL %s on 127.0.0.1:%s", pg.Bin(), pg.Port())
			rep.ReplicaBurst, err = r.replicaBurst(ctx, pg, false)
			note("replica burst", err)
			rep.ReplicaChaos, err = r.replicaBurst(ctx, pg, true)
			note("replica burst with chaos", err)
		}()
	}
	rep.Recovery, err = r.recovery(ctx)
	note("recovery after kill -9", err)
	for _, x := range []struct{ what, err string }{
		{"replica burst", rep.ReplicaBurst.Err}, {"replica burst with chaos", rep.ReplicaChaos.Err}, {"recovery after kill -9", rep.Recovery.Err},
	} {
		if x.err != "" {
			rep.Errors = append(rep.Errors, x.what+": "+x.err)
		}
	}
}

// replicaRun is the outcome of one burst over several replicas.
type replicaRun struct {
	Replicas    int
	Chaos       bool
	Sent        int
	Answered    int           // commands with a reply
	Twice       int           // commands with more than one reply
	Created     int           // "Created group" replies
	Unknown     int           // "… MAY have been created" replies: a create cut off mid-call
	Failures    int           // commands with no reply or a reply that is neither
	Doubles     int           // group names created more than once (groups, or successful create calls)
	Groups      int           // groups the fake holds at the end
	Creates     int           // create calls
	Throttled   int           // create calls the fake answered 403
	Redelivered int           // frames the fake pushed again because they were not ACKed within its 60 s
	Elapsed     time.Duration // first push → last reply
	KilledAt    int           // chaos: create calls when a replica got SIGKILL
	PGAt        int           // chaos: create calls when PostgreSQL was crash-restarted
	PGDown      time.Duration // chaos: pg_ctl stop -m immediate → accepting connections again
	Restart     time.Duration // chaos: exec of the killed replica's replacement → its /readyz 200
	Err         string
}

// recoveryRun is the outcome of the kill -9 recovery run.
type recoveryRun struct {
	Sent        int
	Unacked     int           // commands not ACKed before the kill (should be 0)
	CutOff      int           // create calls hanging in DingTalk when the process was killed
	FirstAnswer time.Duration // exec of the restarted process → first reply
	AllAnswered time.Duration // exec of the restarted process → last reply
	Answered    int
	Twice       int
	Created     int
	Unknown     int
	Failures    int
	Doubles     int
	Err         string
}

// Queued is the number of ACKed commands that were waiting (not in a
// create call) when the process was killed.
func (x recoveryRun) Queued() int { return x.Sent - x.Unacked - x.CutOff }

// outcome is what the commands ended with.
type outcome struct {
	answered, twice, created, unknown, failures, doubles int

	problems []string // what went wrong, one line per command
	msgIDs   []string // the msgIds of those commands
}

// judge classifies the fake's replies to commands "/newgroup PREFIXnnn"
// sent as msgLT0000000…: each command must have exactly one reply, either
// "Created group" or "MAY have been created", and no name may be created
// twice.
func judge(fake *dingtalktest.Server, prefix string, n int) outcome {
	var o outcome
	per := map[string][]string{}
	for _, r := range fake.Replies() {
		per[r.MsgID] = append(per[r.MsgID], r.Text)
	}
	groups, ok := map[string]int{}, map[string]int{}
	calls := map[string][]string{} // name → status of each create call
	for _, g := range fake.Groups() {
		groups[g.Name]++
	}
	for _, rec := range fake.CreateRequests() {
		if rec.Request == nil || rec.Request.Name == nil {
			continue
		}
		calls[*rec.Request.Name] = append(calls[*rec.Request.Name], fmt.Sprintf("%d at %s", rec.Status, rec.At.Format("15:04:05.000")))
		if rec.Status == 200 {
			ok[*rec.Request.Name]++
		}
	}
	for i := range n {
		msgID, name := fmt.Sprintf("msgLT%07d", i), fmt.Sprintf("%s%03d", prefix, i)
		problem := func(what string) {
			if len(o.msgIDs) == 0 || o.msgIDs[len(o.msgIDs)-1] != msgID {
				o.msgIDs = append(o.msgIDs, msgID)
			}
			o.problems = append(o.problems, fmt.Sprintf("%s (%s): %s; create calls: [%s], groups: %d", name, msgID, what, strings.Join(calls[name], ", "), groups[name]))
		}
		if groups[name] > 1 || ok[name] > 1 {
			o.doubles++
			problem("created twice")
		}
		texts := per[msgID]
		switch {
		case len(texts) == 0:
			o.failures++
			problem("no reply")
			continue
		case len(texts) > 1:
			o.twice++
			problem(fmt.Sprintf("%d replies", len(texts)))
		}
		o.answered++
		switch t := texts[0]; {
		case strings.HasPrefix(t, fmt.Sprintf("Created group %q", name)):
			o.created++
		case strings.Contains(t, "MAY have been created"):
			o.unknown++
		default:
			o.failures++
			problem(fmt.Sprintf("reply %q", firstLine(t)))
		}
	}
	return o
}

// explain logs what went wrong in a run and saves the bots' logs to files
// that outlive the run, for a look at the commands named.
func (r *rig) explain(run string, o outcome, bots []*bot, names []string) {
	if len(o.problems) == 0 {
		return
	}
	const most = 10
	r.logf("%s: %d problems:\n  %s", run, len(o.problems), strings.Join(o.problems[:min(most, len(o.problems))], "\n  "))
	dir, err := os.MkdirTemp("", "dingbot-loadtest-logs-")
	if err != nil {
		r.logf("%s: cannot keep the logs: %v", run, err)
		return
	}
	for i, b := range bots {
		_ = os.WriteFile(filepath.Join(dir, names[i]+".log"), []byte(b.Logs()), 0o644)
	}
	r.logf("%s: the bots' logs are in %s", run, dir)
}

// waitCreates waits (up to timeout) until the fake has received n create calls.
func waitCreates(ctx context.Context, fake *dingtalktest.Server, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for len(fake.CreateRequests()) < n {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d create calls after %s", len(fake.CreateRequests()), n, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() error {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(15 * time.Second):
		return errors.New("still running 15 s after SIGKILL")
	}
}

// grace is how long a run waits after its last expected reply for a second
// reply or create to show up.
func (r *rig) grace() time.Duration { return max(2*r.cfg.Settle, 500*time.Millisecond) }

// replicaBurst sends ReplicaN /newgroup commands at once to Replicas
// dingbot processes sharing a fresh database on pg, while the fake allows
// BurstRate creates in any one-second window. With chaos, one replica gets
// SIGKILL once a third of the creates were called and is started again at
// once, and PostgreSQL is crash-restarted at half of them.
func (r *rig) replicaBurst(ctx context.Context, pg *pgserver.Server, chaos bool) (replicaRun, error) {
	n, replicas := r.cfg.ReplicaN, max(1, r.cfg.Replicas)
	res := replicaRun{Replicas: replicas, Chaos: chaos}
	db, prefix := "burst", "replica-"
	if chaos {
		db, prefix = "chaos", "chaos-"
	}
	r.databases++
	db = fmt.Sprintf("%s%d", db, r.databases)
	if err := pg.CreateDB(ctx, db); err != nil {
		return res, err
	}
	// The fake redelivers an un-ACKed frame after 60 s, as DingTalk does.
	fake := newFake()
	defer fake.Close()
	fake.SetCreateRateLimit(r.cfg.BurstRate)
	env := map[string]string{"DINGBOT_DATABASE_URL": pg.URL(db)}
	bots := make([]*bot, replicas)
	var every []*bot // every process started, for the logs
	var names []string
	var exitErrs []string
	defer func() {
		for _, b := range bots {
			if b != nil {
				_ = b.stop()
			}
		}
	}()
	for i := range bots {
		b, err := r.launchDingbot(ctx, fake, env, i+1)
		if err != nil {
			return res, fmt.Errorf("replica %d: %w", i, err)
		}
		bots[i] = b
		every, names = append(every, b), append(names, fmt.Sprintf("replica-%d", i))
	}
	s := newSender(fake, n)
	t0 := time.Now()
	var wg sync.WaitGroup
	var errMu sync.Mutex
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.send(i, dingtalktest.Message{Text: fmt.Sprintf("/newgroup %s%03d", prefix, i), SenderID: lead.UserID, SenderNick: lead.Name}, nil); err != nil {
				errMu.Lock()
				res.Err = err.Error()
				errMu.Unlock()
			}
		}()
	}
	wg.Wait()
	ideal := time.Duration(n/max(1, r.cfg.BurstRate)) * time.Second
	if chaos {
		fail := func(err error) (replicaRun, error) {
			for i, b := range bots {
				if b != nil {
					r.logf("replica %d log (last lines):\n%s", i, lastLines(b.Logs(), 20))
				}
			}
			return res, err
		}
		if err := waitCreates(ctx, fake, n/3, r.cfg.RunTimeout+ideal); err != nil {
			return fail(fmt.Errorf("before the kill: %w", err))
		}
		res.KilledAt = len(fake.CreateRequests())
		victim := 1 % replicas
		if err := bots[victim].kill(); err != nil {
			return fail(fmt.Errorf("SIGKILL replica %d: %w", victim, err))
		}
		r.logf("replicas: T+%s SIGKILL replica %d at create call %d; starting it again", time.Since(t0).Round(time.Millisecond), victim, res.KilledAt)
		bots[victim] = nil
		b, err := r.launchDingbot(ctx, fake, env, replicas)
		if err != nil {
			return fail(fmt.Errorf("restarting replica %d: %w", victim, err))
		}
		bots[victim], res.Restart = b, b.readyIn
		every, names = append(every, b), append(names, fmt.Sprintf("replica-%d-restarted", victim))
		if err := waitCreates(ctx, fake, n/2, r.cfg.RunTimeout+ideal); err != nil {
			return fail(fmt.Errorf("before the PostgreSQL restart: %w", err))
		}
		res.PGAt = len(fake.CreateRequests())
		r.logf("replicas: T+%s PostgreSQL crash-restart at create call %d", time.Since(t0).Round(time.Millisecond), res.PGAt)
		if res.PGDown, err = pg.CrashRestart(ctx); err != nil {
			return fail(fmt.Errorf("PostgreSQL restart: %w", err))
		}
		r.logf("replicas: T+%s PostgreSQL is back (down %s)", time.Since(t0).Round(time.Millisecond), res.PGDown.Round(time.Millisecond))
	}
	// A command waiting for DingTalk's redelivery takes 60 s more: wait that
	// long before calling it lost.
	var x run
	s.collect(ctx, &x, t0, r.cfg.RunTimeout+ideal+dingtalktest.DefaultAckTimeout, nil)
	res.Sent, res.Elapsed, res.Err = x.Sent, x.Elapsed, cmp.Or(res.Err, x.Err)
	time.Sleep(r.grace())
	o := judge(fake, prefix, n)
	res.Answered, res.Twice, res.Created, res.Unknown, res.Failures, res.Doubles = o.answered, o.twice, o.created, o.unknown, o.failures, o.doubles
	r.explain("replicas: "+db, o, every, names)
	if len(o.msgIDs) > 0 {
		// What the database says of them: e.g. a reply left "sending" by
		// a killed replica is never posted (replies are at most once).
		ids := "'" + strings.Join(o.msgIDs[:min(10, len(o.msgIDs))], "','") + "'"
		out, err := pg.Query(ctx, db, "SELECT msg_id, state, reply_state, owner, lease_until, updated_at FROM inbox WHERE msg_id IN ("+ids+") ORDER BY msg_id")
		if err != nil {
			out = err.Error()
		}
		r.logf("replicas: %s: their inbox rows:\n%s", db, out)
	}
	for _, c := range fake.CreateRequests() {
		res.Creates++
		if c.Status == 403 {
			res.Throttled++
		}
	}
	res.Groups = len(fake.Groups())
	s.mu.Lock()
	for _, d := range s.sent {
		res.Redelivered += max(0, d.Deliveries()-1)
	}
	s.mu.Unlock()
	for i, b := range bots {
		if err := b.stop(); err != nil {
			exitErrs = append(exitErrs, fmt.Sprintf("replica %d exit: %v", i, err))
		}
		bots[i] = nil
	}
	if res.Err == "" && len(exitErrs) > 0 {
		res.Err = strings.Join(exitErrs, "; ")
	}
	firstCall, lastCall, pauses := createPauses(fake, t0, 3)
	what := "burst"
	if chaos {
		what = "chaos burst"
	}
	r.logf("replicas: %s over %d replicas: %d/%d answered in %s (%d created, %d unknown, %d failures, %d answered twice), %d groups created twice, %d 403s, %d frames redelivered; create calls from T+%s to T+%s, longest pauses: %s",
		what, replicas, res.Answered, res.Sent, res.Elapsed.Round(time.Millisecond), res.Created, res.Unknown, res.Failures, res.Twice, res.Doubles, res.Throttled, res.Redelivered,
		firstCall.Round(time.Millisecond), lastCall.Round(time.Millisecond), strings.Join(pauses, ", "))
	return res, nil
}

// createPauses returns the first and last create call since t0 and the longest
// n gaps between consecutive create calls, as "GAP after T+AT".
func createPauses(fake *dingtalktest.Server, t0 time.Time, n int) (first, last time.Duration, longest []string) {
	recs := fake.CreateRequests()
	if len(recs) == 0 {
		return 0, 0, nil
	}
	type gap struct{ d, at time.Duration }
	var gaps []gap
	for i := 1; i < len(recs); i++ {
		gaps = append(gaps, gap{recs[i].At.Sub(recs[i-1].At), recs[i-1].At.Sub(t0)})
	}
	slices.SortFunc(gaps, func(a, b gap) int { return cmp.Compare(b.d, a.d) })
	for _, g := range gaps[:min(n, len(gaps))] {
		longest = append(longest, fmt.Sprintf("%s after T+%s", g.d.Round(time.Millisecond), g.at.Round(time.Millisecond)))
	}
	return recs[0].At.Sub(t0), recs[len(recs)-1].At.Sub(t0), longest
}

// recovery kills (SIGKILL) a single dingbot process (SQLite, production
// defaults) holding RecoveryN ACKed commands, all stuck behind a DingTalk
// whose create call hangs, starts it again at once on the same data
// directory with DingTalk answering again, and measures the time from that
// exec to the first reply, then to the last.
func (r *rig) recovery(ctx context.Context) (recoveryRun, error) {
	n := r.cfg.RecoveryN
	res := recoveryRun{}
	fake := newFake()
	defer fake.Close()
	var mu sync.Mutex
	hang := true
	fake.ScriptCreateGroup(func(dingtalktest.CreateGroupRequestRecord) *dingtalktest.Response {
		mu.Lock()
		defer mu.Unlock()
		if hang {
			return &dingtalktest.Response{Delay: time.Minute, CreateAnyway: true}
		}
		return nil
	})
	data, err := os.MkdirTemp(r.dir, "recovery")
	if err != nil {
		return res, err
	}
	env := map[string]string{"DINGBOT_DATA_DIR": data}
	first, err := r.launchDingbot(ctx, fake, env, 1)
	if err != nil {
		return res, err
	}
	defer first.stop()
	s := newSender(fake, n)
	for i := range n {
		if err := s.send(i, dingtalktest.Message{Text: fmt.Sprintf("/newgroup queued-%03d", i), SenderID: lead.UserID, SenderNick: lead.Name}, nil); err != nil {
			return res, err
		}
	}
	s.ack.Wait() // every frame ACKed, or 10 s passed
	res.Unacked = int(s.un.Load())
	// The workers are stuck in DingTalk, the rest queued.
	if err := waitCreates(ctx, fake, min(10, max(1, n/4)), r.cfg.RunTimeout); err != nil {
		return res, err
	}
	if err := first.kill(); err != nil {
		return res, err
	}
	res.CutOff = len(fake.CreateRequests())
	mu.Lock()
	hang = false
	mu.Unlock()
	second, err := r.launchDingbot(ctx, fake, env, 1)
	if err != nil {
		return res, fmt.Errorf("restart: %w", err)
	}
	defer second.stop()
	restart := second.started
	var x run
	s.collect(ctx, &x, restart, r.cfg.RunTimeout+time.Duration(n/max(1, r.cfg.BurstRate))*time.Second, nil)
	res.Sent, res.Err = x.Sent, x.Err
	if len(x.Lat) > 0 {
		var firstAt time.Time
		for _, rep := range fake.Replies() {
			if firstAt.IsZero() || rep.SentAt.Before(firstAt) {
				firstAt = rep.SentAt
			}
		}
		res.FirstAnswer, res.AllAnswered = firstAt.Sub(restart), x.Elapsed
	}
	time.Sleep(r.grace())
	o := judge(fake, "queued-", n)
	res.Answered, res.Twice, res.Created, res.Unknown, res.Failures, res.Doubles = o.answered, o.twice, o.created, o.unknown, o.failures, o.doubles
	r.explain("recovery", o, []*bot{first, second}, []string{"killed", "restarted"})
	if err := second.stop(); err != nil && res.Err == "" {
		res.Err = fmt.Sprintf("restarted dingbot exit: %v", err)
	}
	r.logf("recovery: kill -9 with %d commands ACKed (%d queued, %d cut off mid-create), restarted at once: first answer after %s, all %d/%d after %s (%d created, %d unknown, %d failures), %d created twice",
		res.Sent-res.Unacked, res.Queued(), res.CutOff, res.FirstAnswer.Round(time.Millisecond), res.Answered, res.Sent, res.AllAnswered.Round(time.Millisecond),
		res.Created, res.Unknown, res.Failures, res.Doubles)
	return res, nil
}
