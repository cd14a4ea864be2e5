package bot_test

// Many replicas, one database (issue #15): outcomes survive a failing
// store, a message that cannot be stored is not acknowledged, and leases
// are compared on the database's clock.

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/dingtalktest"
	"github.com/dingbot/dingbot/internal/testutil"
	"github.com/dingbot/dingbot/store"
)

// flakyStore is the real store with faults switched on by the test: while
// down, every inbox write fails as a dropped database connection would;
// failFinish makes that many Finish calls fail first.
type flakyStore struct {
	store.Store
	down       atomic.Bool
	failFinish atomic.Int32
	finishes   atomic.Int32
}

var errDBDown = errors.New("connection refused (test: the database is down)")

func (f *flakyStore) Claim(ctx context.Context, msgID string, message []byte, owner string, now time.Time, lease time.Duration) (bool, *store.Item, error) {
	if f.down.Load() {
		return false, nil, errDBDown
	}
	return f.Store.Claim(ctx, msgID, message, owner, now, lease)
}

func (f *flakyStore) Finish(ctx context.Context, o store.Outcome) error {
	f.finishes.Add(1)
	if f.down.Load() || f.failFinish.Add(-1) >= 0 {
		return errDBDown
	}
	return f.Store.Finish(ctx, o)
}

func (f *flakyStore) Heartbeat(ctx context.Context, owner string, until time.Time) error {
	if f.down.Load() {
		return errDBDown
	}
	return f.Store.Heartbeat(ctx, owner, until)
}

// TestOutcomeRecordedAfterStoreFailures: the group is created, then
// recording the outcome fails twice (a dropped connection); the bot retries
// until it is stored, so the user gets the created reply and the audit its
// record, and the item is not left calling.
func TestOutcomeRecordedAfterStoreFailures(t *testing.T) {
	t.Parallel()
	var flaky *flakyStore
	h := newHarness(t, func(o *bot.Options) {
		flaky = &flakyStore{Store: o.Store}
		flaky.failFinish.Store(2)
		o.Store = flaky
	})
	h.wire(t)
	if _, err := h.fake.Send(dingtalktest.Message{Text: "/newgroup Stranded", SenderID: "alice"}); err != nil {
		t.Fatal(err)
	}
	replies := h.waitReplies(t, 1)
	if !strings.HasPrefix(replies[0].Text, `Created group "Stranded".`) {
		t.Fatalf("reply = %q", replies[0].Text)
	}
	if n := flaky.finishes.Load(); n < 3 {
		t.Errorf("Finish was called %d times, want the 2 failures and a success", n)
	}
	recs, err := h.db.Audit(testutil.Ctx(t), store.AuditFilter{})
	if err != nil || len(recs) != 1 || recs[0].Outcome != "created" {
		t.Fatalf("audit = %+v, %v", recs, err)
	}
	it, err := h.db.Get(testutil.Ctx(t), recs[0].MsgID)
	if err != nil || it.State != store.Done {
		t.Errorf("inbox item = %+v, %v; want done", it, err)
	}
}

// TestUnstoredMessageIsNotAcknowledged: while the store is down, a Stream
// message is left unacknowledged (no error ACK, which DingTalk might take
// as final) and /readyz's check reports the store; DingTalk's redelivery
// after the store is back is run once.
func TestUnstoredMessageIsNotAcknowledged(t *testing.T) {
	t.Parallel()
	var flaky *flakyStore
	h := newHarness(t, func(o *bot.Options) {
		flaky = &flakyStore{Store: o.Store}
		flaky.down.Store(true)
		o.Store = flaky
		o.Heartbeat = 50 * time.Millisecond
	})
	h.wire(t)
	testutil.WaitFor(t, 10*time.Second, "the bot to notice the store is down", func() bool { return h.bot.StoreError() != nil })
	d, err := h.fake.Send(dingtalktest.Message{Text: "/newgroup Later", SenderID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // an ACK would have come by now
	if acks := d.Acks(); len(acks) != 0 {
		t.Fatalf("the message was acknowledged while the store was down: %+v", acks)
	}
	flaky.down.Store(false)
	testutil.WaitFor(t, 10*time.Second, "the bot to notice the store is back", func() bool { return h.bot.StoreError() == nil })
	if err := h.fake.Redeliver(d); err != nil {
		t.Fatal(err)
	}
	replies := h.waitReplies(t, 1)
	if !strings.HasPrefix(replies[0].Text, `Created group "Later".`) {
		t.Fatalf("reply = %q", replies[0].Text)
	}
	if code, ok := d.AckCode(); !ok || code != 200 {
		t.Errorf("redelivery ACK = %d, %v; want 200", code, ok)
	}
	if n := len(h.fake.Groups()); n != 1 {
		t.Errorf("%d groups, want 1", n)
	}
}

// TestLeasesUseTheDatabasesClock: two replicas share PostgreSQL; one's
// clock is 26 s ahead. Its housekeeping must not expire the other's live
// create (which takes seconds) as if its lease had run out: leases are
// compared on the database's clock.
func TestLeasesUseTheDatabasesClock(t *testing.T) {
	t.Parallel()
	dbURL := testutil.PostgresDatabase(t, "dingbot_bot")
	openPG := func() store.Store {
		db, err := store.Open(context.Background(), dbURL, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	h := newHarness(t, func(o *bot.Options) {
		o.Store = openPG()
		o.Clock = bot.NewClock(o.Store, nil)
		o.Heartbeat = 100 * time.Millisecond
	})
	h.wire(t)
	// The ahead replica: no connection to DingTalk, only its housekeeping.
	ahead := openPG()
	aheadBot := bot.New(bot.Options{DingTalk: newClient(t, h.fake, nil), Store: ahead, Lease: 2 * time.Second,
		PollInterval: 50 * time.Millisecond, Heartbeat: 100 * time.Millisecond,
		Now:   func() time.Time { return time.Now().Add(26 * time.Second) },
		Clock: bot.NewClock(ahead, func() time.Time { return time.Now().Add(26 * time.Second) })})
	t.Cleanup(func() { _ = aheadBot.Shutdown(testutil.Ctx(t)) })

	h.fake.FailNextCreateWith(dingtalktest.Response{Delay: 4 * time.Second})
	if _, err := h.fake.Send(dingtalktest.Message{Text: "/newgroup Slow", SenderID: "alice"}); err != nil {
		t.Fatal(err)
	}
	replies := h.waitReplies(t, 1)
	if !strings.HasPrefix(replies[0].Text, `Created group "Slow".`) {
		t.Fatalf("reply = %q: the replica whose clock is ahead expired a live create", replies[0].Text)
	}
}
