package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// holdWriteLock takes SQLite's write lock on path from another connection,
// as a second process would, until the returned function is called.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	other, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := other.BeginTx(context.Background(), nil) // BEGIN IMMEDIATE
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_ = tx.Rollback()
			_ = other.Close()
		})
	}
	t.Cleanup(release)
	return release
}

func openTestSQLite(t *testing.T) (*sqlStore, *sqliteDB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "group.db")
	s, err := openSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ss := s.(*sqlStore)
	return ss, ss.db.(*sqliteDB), path
}

// TestSQLiteGroupCommit queues writes while the writer waits for the lock,
// so they run as one transaction, one of them failing: every other caller
// gets its own result and its row, the failing one its error.
func TestSQLiteGroupCommit(t *testing.T) {
	s, d, path := openTestSQLite(t)
	ctx := context.Background()
	release := holdWriteLock(t, path)

	var wg sync.WaitGroup
	claim := func(id string) {
		defer wg.Done()
		if ok, _, err := s.Claim(ctx, id, []byte(`{}`), "", t0, lease); err != nil || !ok {
			t.Errorf("claim %s: %v %v", id, ok, err)
		}
	}
	wg.Add(1)
	go claim("first") // the writer takes it and waits for the lock
	time.Sleep(100 * time.Millisecond)
	const n = 20
	wg.Add(n)
	for i := range n {
		go claim(fmt.Sprintf("m%02d", i))
	}
	badErr := make(chan error, 1)
	go func() {
		_, err := d.exec(ctx, `INSERT INTO inbox (msg_id) VALUES ('bad')`) // NOT NULL columns missing
		badErr <- err
	}()
	time.Sleep(300 * time.Millisecond) // every caller is now queued behind "first"
	release()
	wg.Wait()
	if err := <-badErr; err == nil {
		t.Error("the failing statement reported no error")
	}
	for i := range n {
		if _, err := s.Get(ctx, fmt.Sprintf("m%02d", i)); err != nil {
			t.Errorf("m%02d: %v", i, err)
		}
	}
	if _, err := s.Get(ctx, "bad"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the failing insert left a row: %v", err)
	}
	if got := d.unbatched.Load(); got != 1 {
		t.Errorf("%d batches were rolled back and run one by one, want 1 (the failing statement's); the test proves nothing", got)
	}

	// Grouped writes keep each statement's own result: of two claims of the
	// same msgId queued together, exactly one wins.
	release = holdWriteLock(t, path)
	wg.Add(1)
	go claim("first2")
	time.Sleep(100 * time.Millisecond)
	results := make(chan bool, 2)
	for range 2 {
		go func() {
			ok, it, err := s.Claim(ctx, "twice", []byte(`{}`), "", t0, lease)
			if err != nil || (!ok && it.MsgID != "twice") {
				t.Errorf("claim twice: %v %+v %v", ok, it, err)
			}
			results <- ok
		}()
	}
	time.Sleep(300 * time.Millisecond)
	before := d.grouped.Load()
	release()
	wg.Wait()
	if a, b := <-results, <-results; a == b {
		t.Errorf("two claims of one msgId: inserted %v and %v, want exactly one", a, b)
	}
	if d.grouped.Load() == before {
		t.Error("the two claims were not grouped; the test proves nothing")
	}
}

// TestSQLiteWriteCancelledWhileQueued: a caller that gives up before the
// writer took its statement gets its context's error, and the statement
// never runs.
func TestSQLiteWriteCancelledWhileQueued(t *testing.T) {
	s, _, path := openTestSQLite(t)
	release := holdWriteLock(t, path)
	done := make(chan error, 1)
	go func() {
		_, _, err := s.Claim(context.Background(), "blocker", []byte(`{}`), "", t0, lease)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := s.Claim(ctx, "given-up", []byte(`{}`), "", t0, lease); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("claim with an expired context: %v, want DeadlineExceeded", err)
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("blocker: %v", err)
	}
	// Let the writer drain anything still queued, then look.
	if _, _, err := s.Claim(context.Background(), "after", []byte(`{}`), "", t0, lease); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), "given-up"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the abandoned claim was stored anyway: %v", err)
	}
}

// TestSQLiteClosed: writes after Close fail at once instead of hanging.
func TestSQLiteClosed(t *testing.T) {
	s, _, _ := openTestSQLite(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := s.Claim(ctx, "late", []byte(`{}`), "", t0, lease); !errors.Is(err, errClosed) {
		t.Errorf("claim after close: %v, want %v", err, errClosed)
	}
}

// TestSQLiteQueryPlans: the statements run per message and by the periodic
// chores read the inbox through an index, never by scanning or sorting it,
// so their cost does not grow with a backlog or the retention period; nor
// do the lookups of a created group by its IDs grow with the audit.
func TestSQLiteQueryPlans(t *testing.T) {
	s, d, _ := openTestSQLite(t)
	for _, c := range []struct {
		name, q, index string
		args           []any
	}{
		{"Next", nextQuery(s.nextLock), "inbox_next", []any{nil, nil, 5}},
		{"ExpireCalling", `SELECT msg_id FROM inbox WHERE state = 'calling' AND lease_until < 5`, "inbox_next", nil},
		{"Unreplied", unrepliedQuery(s.unrepliedFrom), "inbox_unreplied", []any{10}},
		{"Renew", `SELECT msg_id FROM inbox WHERE owner = 'w' AND state IN ('received', 'calling')`, "inbox_next", nil},
		{"Finish", `SELECT msg_id FROM inbox WHERE msg_id = 'm' AND owner = 'w' AND state IN ('received', 'calling')`, "sqlite_autoindex_inbox_1", nil},
		{"AdmitSigned", admitSigned, "sqlite_autoindex_callback_signs_1", []any{"k", "m", 10, 5, 8}},
		{"PruneSigned", `DELETE FROM callback_signs WHERE expires_at <= 5`, "callback_signs_expires", nil},
		{"Group by openConversationId", groupQuery, "groups_open_conversation_id", []any{"cid"}},
		{"Group by chatid", groupQuery, "groups_chatid", []any{"cid"}},
		{"UpdateGroup", updateGroupQuery, "groups_open_conversation_id", []any{"cid", "n", "o", "[]", 5}},
		{"RenewItems", `SELECT msg_id FROM inbox WHERE owner = 'w' AND state IN ('received', 'calling') AND msg_id IN ('a', 'b')`, "sqlite_autoindex_inbox_1", nil},
	} {
		checkPlan(t, d, c.name, c.q, c.args, c.index, "")
	}
}

// TestSQLiteLivenessQueryPlans: ReleaseDead and Prune find the items of
// dead owners in inbox_held, whatever the backlog or the retention period;
// they read the owners table whole (a row per process that ran within the
// retention period).
func TestSQLiteLivenessQueryPlans(t *testing.T) {
	s, d, _ := openTestSQLite(t)
	for _, c := range []struct {
		name, q string
		args    []any
	}{
		{"ReleaseDead", releaseDeadQuery(s.heldFrom), []any{5}},
		{"ReleaseDead calling", expireDeadQuery(s.heldFrom), []any{5, 8}},
		{"Prune owners", pruneOwners, []any{5}},
	} {
		checkPlan(t, d, c.name, c.q, c.args, "inbox_held", "owners")
	}
}

// checkPlan wants SQLite's plan of q to use index, to scan no table but
// scanOK ("" for none) and to sort nothing.
func checkPlan(t *testing.T, d *sqliteDB, name, q string, args []any, index, scanOK string) {
	t.Helper()
	var plan []string
	err := d.query(context.Background(), false, `EXPLAIN QUERY PLAN `+q, args, func(scan func(dest ...any) error) error {
		var id, parent, unused int64
		var detail string
		if err := scan(&id, &parent, &unused, &detail); err != nil {
			return err
		}
		plan = append(plan, detail)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	all := fmt.Sprint(plan)
	if !strings.Contains(all, "USING INDEX "+index) && !strings.Contains(all, "USING COVERING INDEX "+index) {
		t.Errorf("%s does not use %s: %s", name, index, all)
	}
	for _, line := range plan {
		if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, " INDEX ") && line != "SCAN CONSTANT ROW" &&
			(scanOK == "" || line != "SCAN "+scanOK) {
			t.Errorf("%s scans a table: %s", name, all)
		}
	}
	if strings.Contains(all, "TEMP B-TREE") {
		t.Errorf("%s sorts: %s", name, all)
	}
}

// TestSQLiteCheckpointsBesideTheWriter: committed pages reach the database
// file without any writer checkpointing (its threshold is far away), through
// the background checkpoint.
func TestSQLiteCheckpointsBesideTheWriter(t *testing.T) {
	s, _, path := openTestSQLite(t)
	ctx := context.Background()
	size := func() int64 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	before := size()
	text := []byte(`{"text":"` + strings.Repeat("x", 500) + `"}`)
	for i := range 1000 {
		if _, _, err := s.Claim(ctx, fmt.Sprintf("m%04d", i), text, "", t0, lease); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for size() < before+500_000 {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes (was %d) after 1000 claims: the WAL was not checkpointed", size(), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSQLiteGroupCommitAdmitSigned: admissions queued together run in one
// transaction, each seeing those before it, so the bound holds exactly; a
// failing statement in the batch (which is then run again statement by
// statement) changes nothing about that.
func TestSQLiteGroupCommitAdmitSigned(t *testing.T) {
	s, d, path := openTestSQLite(t)
	ctx := context.Background()
	release := holdWriteLock(t, path)
	var wg sync.WaitGroup
	wg.Go(func() { // the writer takes it and waits for the lock
		if ok, err := s.AdmitSigned(ctx, "k", "first", 4, at(time.Minute), t0); !ok || err != nil {
			t.Errorf("first AdmitSigned = %v, %v", ok, err)
		}
	})
	time.Sleep(100 * time.Millisecond)
	var admitted atomic.Int32
	for i := range 10 {
		wg.Go(func() {
			ok, err := s.AdmitSigned(ctx, "k", fmt.Sprintf("m%02d", i), 4, at(time.Minute), t0)
			if err != nil {
				t.Errorf("AdmitSigned(m%02d): %v", i, err)
			}
			if ok {
				admitted.Add(1)
			}
		})
	}
	wg.Go(func() {
		if _, err := d.exec(ctx, `INSERT INTO callback_signs (sign_key) VALUES ('bad')`); err == nil { // NOT NULL columns missing
			t.Error("the failing statement reported no error")
		}
	})
	time.Sleep(300 * time.Millisecond) // every caller is now queued behind "first"
	before := d.unbatched.Load()
	release()
	wg.Wait()
	if n := admitted.Load(); n != 3 {
		t.Errorf("%d msgIds admitted after the first, want 3 (bound 4)", n)
	}
	if d.unbatched.Load() == before {
		t.Error("the batch was not rolled back and run again; the test proves nothing")
	}

	release = holdWriteLock(t, path)
	wg.Go(func() {
		if ok, err := s.AdmitSigned(ctx, "k2", "first", 4, at(time.Minute), t0); !ok || err != nil {
			t.Errorf("first AdmitSigned = %v, %v", ok, err)
		}
	})
	time.Sleep(100 * time.Millisecond)
	admitted.Store(0)
	for i := range 10 {
		wg.Go(func() {
			if ok, err := s.AdmitSigned(ctx, "k2", fmt.Sprintf("m%02d", i%5), 4, at(time.Minute), t0); err != nil {
				t.Errorf("AdmitSigned(m%02d): %v", i%5, err)
			} else if ok {
				admitted.Add(1)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	before = d.grouped.Load()
	release()
	wg.Wait()
	if d.grouped.Load() == before {
		t.Error("the admissions were not grouped; the test proves nothing")
	}
	// Three of the five msgIds fit, each sent twice: six admitted calls.
	if n := admitted.Load(); n != 6 {
		t.Errorf("%d calls admitted, want 6 (3 msgIds, each twice)", n)
	}
}
