package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// failInserts makes every insert into the inbox of a msgID ending in
// "boom" fail, with a trigger, so a Finish whose follow-up is one fails
// after its update and its other inserts ran.
func failInserts(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	d := s.(*sqlStore).db
	var qs []string
	if _, ok := d.(*sqliteDB); ok {
		qs = []string{`CREATE TRIGGER inbox_boom BEFORE INSERT ON inbox WHEN NEW.msg_id LIKE '%boom'
			BEGIN SELECT RAISE(ABORT, 'boom'); END`}
	} else {
		qs = []string{
			`CREATE FUNCTION inbox_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$`,
			`CREATE TRIGGER inbox_boom BEFORE INSERT ON inbox FOR EACH ROW WHEN (NEW.msg_id LIKE '%boom')
			EXECUTE FUNCTION inbox_boom()`,
		}
	}
	for _, q := range qs {
		if _, err := d.exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
}

// boomOutcome is a Finish of id by owner with an audit record and two
// follow-ups, the second of which failInserts makes fail if fail.
func boomOutcome(id, owner string, fail bool) Outcome {
	last := id + "#2"
	if fail {
		last = id + "#boom"
	}
	return Outcome{MsgID: id, Owner: owner, State: Done, Reply: "r", Now: at(time.Second),
		Audit:     &AuditRecord{MsgID: id, At: t0, Outcome: "created"},
		FollowUps: []FollowUp{{MsgID: id + "#1", Message: []byte(`{}`)}, {MsgID: last, Message: []byte(`{}`)}}}
}

// checkFinished checks what Finish(boomOutcome(id, owner, fail)) left:
// everything if it succeeded, nothing if it failed.
func checkFinished(t *testing.T, s Store, id, owner string, fail bool, err error) {
	t.Helper()
	ctx := context.Background()
	it, gerr := s.Get(ctx, id)
	if gerr != nil {
		t.Fatal(gerr)
	}
	audit, aerr := s.Audit(ctx, AuditFilter{})
	if aerr != nil {
		t.Fatal(aerr)
	}
	recorded := false
	for _, r := range audit {
		recorded = recorded || r.MsgID == id
	}
	_, err1 := s.Get(ctx, id+"#1")
	if fail {
		if err == nil || errors.Is(err, ErrLeaseLost) {
			t.Errorf("Finish(%s) with a failing follow-up: %v", id, err)
		}
		if it.State != Received || it.Owner != owner || recorded || !errors.Is(err1, ErrNotFound) {
			t.Errorf("a failed Finish(%s) wrote something: %+v, audit recorded %v, follow-up: %v", id, it, recorded, err1)
		}
		return
	}
	_, err2 := s.Get(ctx, id+"#2")
	if err != nil || it.State != Done || !recorded || err1 != nil || err2 != nil {
		t.Errorf("Finish(%s) = %v: %+v, audit recorded %v, follow-ups: %v, %v", id, err, it, recorded, err1, err2)
	}
}

// testFinishFollowUpFails (in RunSQLTests, on both engines): a follow-up
// whose insert fails undoes the outcome's update and audit record and the
// follow-ups stored before it; the lease is still held afterwards.
func testFinishFollowUpFails(t *testing.T, s Store) {
	ctx := context.Background()
	if ok, _, err := s.Claim(ctx, "f", []byte(`{}`), "w1", t0, lease); !ok || err != nil {
		t.Fatal(ok, err)
	}
	failInserts(t, s)
	checkFinished(t, s, "f", "w1", true, s.Finish(ctx, boomOutcome("f", "w1", true)))
	checkFinished(t, s, "f", "w1", false, s.Finish(ctx, boomOutcome("f", "w1", false)))
}

// TestSQLiteGroupCommitFinishFollowUps: Finishes queued together with other
// writes, one of them failing on a follow-up, run in one transaction that
// is rolled back and run again statement by statement: the failing Finish
// writes nothing, every other write is stored.
func TestSQLiteGroupCommitFinishFollowUps(t *testing.T) {
	s, d, path := openTestSQLite(t)
	ctx := context.Background()
	const n = 6
	for i := range n {
		if ok, _, err := s.Claim(ctx, fmt.Sprintf("f%d", i), []byte(`{}`), "w1", t0, lease); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	failInserts(t, s)
	release := holdWriteLock(t, path)
	var wg sync.WaitGroup
	wg.Go(func() { // the writer takes it and waits for the lock
		if _, _, err := s.Claim(ctx, "first", []byte(`{}`), "", t0, lease); err != nil {
			t.Error(err)
		}
	})
	time.Sleep(100 * time.Millisecond)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = s.Finish(ctx, boomOutcome(fmt.Sprintf("f%d", i), "w1", i == 2)) })
		wg.Go(func() {
			if _, _, err := s.Claim(ctx, fmt.Sprintf("c%d", i), []byte(`{}`), "", t0, lease); err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(300 * time.Millisecond) // every caller is now queued behind "first"
	before := d.unbatched.Load()
	release()
	wg.Wait()
	if d.unbatched.Load() == before {
		t.Error("the batch was not rolled back and run again; the test proves nothing")
	}
	for i := range n {
		checkFinished(t, s, fmt.Sprintf("f%d", i), "w1", i == 2, errs[i])
		if _, err := s.Get(ctx, fmt.Sprintf("c%d", i)); err != nil {
			t.Errorf("c%d: %v", i, err)
		}
	}
}
