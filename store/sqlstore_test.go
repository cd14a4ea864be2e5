package store

import (
	"context"
	"sync"
	"testing"
	"time"
)

// t0 is the tests' clock; times are stored in milliseconds.
var t0 = time.UnixMilli(1_700_000_000_000)

// lease is the lease the tests take.
const lease = 30 * time.Second

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// RunSQLTests runs, as subtests of t, the checks of the SQL implementation
// that need its internals, so they cannot be in storetest.Run: that Finish
// is one transaction (also when a follow-up's insert fails), and that
// migrations run once however many replicas start; and what it refuses
// beyond the interfaces' contract (a SettlePreview without by). open is as for
// storetest.Run. TestSQLite and TestPostgres (package store_test, which can
// import storetest) call it; only test binaries have it.
func RunSQLTests(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("FinishOneTransaction", func(t *testing.T) {
		s := open(t)
		if ok, _, err := s.Claim(ctx, "g", []byte(`{}`), "w1", t0, lease); !ok || err != nil {
			t.Fatal(ok, err)
		}
		// One transaction: a failing statement after the update undoes it.
		d := s.(*sqlStore).db
		n, err := d.execIf(ctx, statement{`UPDATE inbox SET reply = 'changed' WHERE msg_id = $1`, []any{"g"}},
			[]statement{{`INSERT INTO no_such_table VALUES (1)`, nil}})
		if err == nil || n != 0 {
			t.Fatalf("execIf with a failing second statement = %d, %v", n, err)
		}
		if it, err := s.Get(ctx, "g"); err != nil || it.Reply != "" {
			t.Fatalf("the update before the failing statement was kept: %+v, %v", it, err)
		}
	})

	t.Run("FinishFollowUpFails", func(t *testing.T) { testFinishFollowUpFails(t, open(t)) })

	// A confirmation or cancellation needs the msgId settling it (its
	// SettledBy); an expiry has none.
	t.Run("SettlePreviewNeedsBy", func(t *testing.T) {
		s := open(t)
		p := Preview{Code: "BY", MsgID: "m", Command: "newgroup", Sender: "u", CreatedAt: t0, ExpiresAt: at(time.Minute)}
		if _, err := s.PutPreview(ctx, p); err != nil {
			t.Fatal(err)
		}
		for _, st := range []PreviewState{PreviewConfirmed, PreviewCancelled} {
			if ok, _, err := s.SettlePreview(ctx, "BY", st, "", t0); ok || err == nil {
				t.Fatalf("SettlePreview(%s) without by = %v, %v; want an error", st, ok, err)
			}
		}
		if got, err := s.Preview(ctx, "BY"); err != nil || got.State != PreviewPending {
			t.Fatalf("Preview after refused settlements = %+v, %v", got, err)
		}
		if ok, got, err := s.SettlePreview(ctx, "BY", PreviewExpired, "ignored", at(time.Minute)); !ok || err != nil || got.SettledBy != "" {
			t.Fatalf("SettlePreview(expired) = %v, %+v, %v", ok, got, err)
		}
	})

	t.Run("MigrationsIdempotent", func(t *testing.T) {
		s1 := open(t)
		if ok, _, err := s1.Claim(ctx, "kept", []byte(`{"text":"kept"}`), "", t0, lease); !ok || err != nil {
			t.Fatal(ok, err)
		}
		// Reopen twice at once (two replicas starting), then once more.
		var wg sync.WaitGroup
		stores := make([]Store, 2)
		for i := range stores {
			wg.Go(func() { stores[i] = open(t) })
		}
		wg.Wait()
		s4 := open(t)
		for _, s := range append(stores, s4) {
			if _, err := s.Get(ctx, "kept"); err != nil {
				t.Fatal(err)
			}
		}
		all, err := migrations()
		if err != nil || len(all) == 0 {
			t.Fatal(all, err)
		}
		counts := map[int]int{}
		err = s4.(*sqlStore).db.query(ctx, false, `SELECT version, applied_at FROM schema_migrations`, nil,
			func(scan func(dest ...any) error) error {
				var v, applied int64
				if err := scan(&v, &applied); err != nil {
					return err
				}
				counts[int(v)]++
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		if len(counts) != len(all) {
			t.Fatalf("schema_migrations has versions %v, want %d", counts, len(all))
		}
		for _, m := range all {
			if counts[m.version] != 1 {
				t.Fatalf("schema_migrations has %d rows for version %d", counts[m.version], m.version)
			}
		}
	})
}
