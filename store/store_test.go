package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// t0 is the tests' clock; times are stored in milliseconds.
var t0 = time.UnixMilli(1_700_000_000_000)

const lease = 30 * time.Second

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// TestSQLite runs the suite on SQLite files in temporary directories.
func TestSQLite(t *testing.T) {
	var mu sync.Mutex
	dirs := map[string]string{} // subtest name → data dir
	testStore(t, func(t *testing.T) Store {
		mu.Lock()
		dir, ok := dirs[t.Name()]
		if !ok {
			dir = t.TempDir()
			dirs[t.Name()] = dir
		}
		mu.Unlock()
		s, err := Open(context.Background(), "", dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestPostgres runs the suite on PostgreSQL at DINGBOT_TEST_POSTGRES_URL,
// each subtest in a fresh schema that is dropped afterwards. Without the
// variable it is skipped, except under CI, which must run it.
func TestPostgres(t *testing.T) {
	admin := postgresURL(t)
	var mu sync.Mutex
	urls := map[string]string{} // subtest name → URL of its schema
	testStore(t, func(t *testing.T) Store {
		mu.Lock()
		u, ok := urls[t.Name()]
		if !ok {
			u = freshSchema(t, admin)
			urls[t.Name()] = u
		}
		mu.Unlock()
		s, err := Open(context.Background(), u, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func postgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("DINGBOT_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("DINGBOT_TEST_POSTGRES_URL is not set, but CI must test PostgreSQL (.ci/run starts a server)")
		}
		t.Skip("DINGBOT_TEST_POSTGRES_URL not set (e.g. postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable); skipping PostgreSQL")
	}
	return u
}

// freshSchema creates a uniquely named schema, registers its removal, and
// returns admin with search_path set to it.
func freshSchema(t *testing.T, admin string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect %s: %v", Redact(admin), err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// testStore is the suite both engines pass. open returns a Store on the
// calling subtest's own database; called again in the same subtest it opens
// a second, independent Store (its own connections, like another replica)
// on that same database.
func testStore(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()

	claim := func(t *testing.T, s Store, id string, now time.Time) {
		t.Helper()
		ok, _, err := s.Claim(ctx, id, []byte(`{"text":"`+id+`"}`), "", now, lease)
		if err != nil || !ok {
			t.Fatalf("Claim(%s) = %v, %v; want true", id, ok, err)
		}
	}
	next := func(t *testing.T, s Store, owner string, now time.Time, want string) *Item {
		t.Helper()
		it, err := s.Next(ctx, owner, now, lease)
		if err != nil {
			t.Fatalf("Next(%s): %v", owner, err)
		}
		got := ""
		if it != nil {
			got = it.MsgID
		}
		if got != want {
			t.Fatalf("Next(%s) = %q, want %q", owner, got, want)
		}
		return it
	}
	get := func(t *testing.T, s Store, id string) *Item {
		t.Helper()
		it, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("Get(%s): %v", id, err)
		}
		return it
	}
	wantErr := func(t *testing.T, what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("%s: err = %v, want %v", what, err, want)
		}
	}
	// unreplied makes an item id (received at now) whose create call was
	// interrupted: unknown, its reply never attempted (ReplyNone).
	unreplied := func(t *testing.T, s Store, id string, now time.Time) {
		t.Helper()
		if ok, _, err := s.Claim(ctx, id, []byte(`{"text":"`+id+`"}`), "dead-"+id, now, lease); !ok || err != nil {
			t.Fatalf("Claim(%s) = %v, %v", id, ok, err)
		}
		if err := s.MarkCalling(ctx, id, "dead-"+id, now); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ExpireCalling(ctx, now.Add(lease+time.Millisecond)); err != nil || len(got) != 1 {
			t.Fatalf("ExpireCalling(%s) = %v, %v", id, got, err)
		}
	}
	// finished makes a finished item id (received at now) in state st, its
	// reply being sent.
	finished := func(t *testing.T, s Store, id string, now time.Time, st State) {
		t.Helper()
		claim(t, s, id, now)
		if _, err := s.Next(ctx, "fin-"+id, now, lease); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, id, "fin-"+id, st, "reply "+id, now); err != nil {
			t.Fatalf("Finish(%s): %v", id, err)
		}
	}

	t.Run("ClaimHeld", func(t *testing.T) {
		s := open(t)
		ok, it, err := s.Claim(ctx, "h", []byte(`{}`), "w1", t0, lease)
		if err != nil || !ok || it.Owner != "w1" || !it.LeaseUntil.Equal(at(lease)) || it.State != Received {
			t.Fatalf("held Claim = %v, %+v, %v", ok, it, err)
		}
		if got := get(t, s, "h"); got.Owner != "w1" || !got.LeaseUntil.Equal(at(lease)) {
			t.Fatalf("stored held item: %+v", got)
		}
		// Nobody else takes it while the lease lasts; the holder runs it without Next.
		next(t, s, "w2", at(lease), "")
		if err := s.MarkCalling(ctx, "h", "w1", at(time.Second)); err != nil {
			t.Fatalf("MarkCalling by the claimer: %v", err)
		}
		// A held claim of a process that died is taken over after the lease.
		claim2 := func(id, owner string) {
			t.Helper()
			if ok, _, err := s.Claim(ctx, id, []byte(`{}`), owner, t0, lease); !ok || err != nil {
				t.Fatalf("Claim(%s) = %v, %v", id, ok, err)
			}
		}
		claim2("dead", "w9")
		next(t, s, "w2", at(lease), "")
		next(t, s, "w2", at(lease+time.Millisecond), "dead")
		// A duplicate held claim does not change the holder.
		if ok, it, err := s.Claim(ctx, "dead", []byte(`{}`), "w3", at(time.Hour), lease); ok || err != nil || it.Owner != "w2" {
			t.Fatalf("duplicate held Claim = %v, %+v, %v", ok, it, err)
		}
	})

	t.Run("FinishWithRecords", func(t *testing.T) {
		s := open(t)
		if ok, _, err := s.Claim(ctx, "f", []byte(`{}`), "w1", t0, lease); !ok || err != nil {
			t.Fatal(ok, err)
		}
		cmd := AuditRecord{MsgID: "f", At: t0, Sender: "u1", Command: "newgroup", Text: "/newgroup X", Outcome: "created", ChatID: "chat1"}
		grp := Group{MsgID: "f", Name: "X", ChatID: "chat1", Sender: "u1", Members: []string{"u1"}, CreatedAt: t0}
		// A lost lease writes nothing, records included.
		wantErr(t, "Finish by another owner", s.Finish(ctx, "f", "w2", Done, "r", t0, cmd, grp), ErrLeaseLost)
		if got, _ := s.Audit(ctx, AuditFilter{}); len(got) != 0 {
			t.Fatalf("audit after a lost Finish: %+v", got)
		}
		if n, _ := s.CountGroups(ctx, ""); n != 0 {
			t.Fatalf("%d groups after a lost Finish", n)
		}
		if err := s.Finish(ctx, "f", "w1", Done, "r", at(time.Second), cmd, grp); err != nil {
			t.Fatal(err)
		}
		if it := get(t, s, "f"); it.State != Done || it.ReplyState != ReplySending {
			t.Fatalf("after Finish: %+v", it)
		}
		if got, err := s.Audit(ctx, AuditFilter{}); err != nil || len(got) != 1 || got[0] != cmd {
			t.Fatalf("audit = %+v, %v; want %+v", got, err, cmd)
		}
		if got, err := s.Groups(ctx, GroupFilter{}); err != nil || len(got) != 1 || got[0].ChatID != "chat1" || got[0].Name != "X" {
			t.Fatalf("groups = %+v, %v", got, err)
		}
		// Invalid records are refused before anything is written.
		if ok, _, err := s.Claim(ctx, "g", []byte(`{}`), "w1", t0, lease); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if err := s.Finish(ctx, "g", "w1", Done, "r", t0, Group{}); err == nil {
			t.Fatal("Finish with a group record without msgID succeeded")
		}
		if it := get(t, s, "g"); it.State != Received || it.Owner != "w1" {
			t.Fatalf("item after a refused Finish: %+v", it)
		}
		// One transaction: a failing statement after the update undoes it.
		d := s.(*sqlStore).db
		n, err := d.execIf(ctx, statement{`UPDATE inbox SET reply = 'changed' WHERE msg_id = $1`, []any{"g"}},
			[]statement{{`INSERT INTO no_such_table VALUES (1)`, nil}})
		if err == nil || n != 0 {
			t.Fatalf("execIf with a failing second statement = %d, %v", n, err)
		}
		if it := get(t, s, "g"); it.Reply != "" {
			t.Fatalf("the update before the failing statement was kept: %+v", it)
		}
	})

	t.Run("NextOrder", func(t *testing.T) {
		s := open(t)
		// Oldest first among the items nobody holds: one whose holder died
		// (its lease ran out) and ones never held; an item leased right now
		// is skipped even though it is the oldest.
		if ok, _, err := s.Claim(ctx, "live", []byte(`{}`), "w8", at(-time.Second), 2*lease); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if ok, _, err := s.Claim(ctx, "expired", []byte(`{}`), "w9", t0, lease); !ok || err != nil {
			t.Fatal(ok, err)
		}
		claim(t, s, "fresher", at(20*time.Second))
		claim(t, s, "fresh", at(10*time.Second))
		now := at(lease + time.Second)
		next(t, s, "w1", now, "expired")
		next(t, s, "w1", now, "fresh")
		next(t, s, "w1", now, "fresher")
		next(t, s, "w1", now, "")
	})

	t.Run("ClaimAndGet", func(t *testing.T) {
		s := open(t)
		ok, it, err := s.Claim(ctx, "m1", []byte(`{"a":1}`), "", t0, lease)
		if err != nil || !ok {
			t.Fatalf("first Claim = %v, %v", ok, err)
		}
		if it == nil || it.MsgID != "m1" || it.State != Received {
			t.Fatalf("first Claim item = %+v", it)
		}
		ok, it, err = s.Claim(ctx, "m1", []byte(`{"a":2}`), "", at(time.Second), lease)
		if err != nil || ok {
			t.Fatalf("second Claim = %v, %v; want false", ok, err)
		}
		if it == nil || string(it.Message) != `{"a":1}` || it.State != Received || !it.ReceivedAt.Equal(t0) {
			t.Fatalf("second Claim returned %+v, want the first message", it)
		}
		got := get(t, s, "m1")
		want := Item{MsgID: "m1", Message: []byte(`{"a":1}`), State: Received, ReceivedAt: t0, UpdatedAt: t0}
		if got.MsgID != want.MsgID || string(got.Message) != string(want.Message) || got.State != want.State ||
			got.Reply != "" || got.ReplyState != ReplyNone || got.Owner != "" || !got.LeaseUntil.IsZero() ||
			!got.ReceivedAt.Equal(t0) || !got.UpdatedAt.Equal(t0) {
			t.Fatalf("Get = %+v, want %+v", got, want)
		}
		_, err = s.Get(ctx, "nope")
		wantErr(t, "Get(nope)", err, ErrNotFound)
		if _, _, err := s.Claim(ctx, "", nil, "", t0, lease); err == nil {
			t.Fatal("Claim with empty msgID succeeded")
		}
	})

	t.Run("NextOrderLeaseAndTakeover", func(t *testing.T) {
		s := open(t)
		if it, err := s.Next(ctx, "w1", t0, lease); it != nil || err != nil {
			t.Fatalf("Next on empty inbox = %v, %v", it, err)
		}
		claim(t, s, "c", at(time.Millisecond))
		claim(t, s, "b", at(time.Millisecond))
		claim(t, s, "a", t0)
		it := next(t, s, "w1", at(time.Second), "a") // oldest first
		if it.Owner != "w1" || !it.LeaseUntil.Equal(at(time.Second+lease)) || it.State != Received || !it.UpdatedAt.Equal(at(time.Second)) {
			t.Fatalf("leased item = %+v", it)
		}
		next(t, s, "w2", at(time.Second), "b") // same received_at: msg_id order
		next(t, s, "w3", at(time.Second), "c")
		next(t, s, "w4", at(2*time.Second), "") // all leased
		// At the exact expiry instant the lease still holds (lease_until < now).
		next(t, s, "w4", at(time.Second+lease), "")
		// After expiry another worker takes the oldest over.
		it = next(t, s, "w4", at(time.Second+lease+time.Millisecond), "a")
		if it.Owner != "w4" {
			t.Fatalf("takeover owner = %q", it.Owner)
		}
		wantErr(t, "MarkCalling by the old owner", s.MarkCalling(ctx, "a", "w1", at(time.Second+lease+2*time.Millisecond)), ErrLeaseLost)
		wantErr(t, "Finish by the old owner", s.Finish(ctx, "a", "w1", Done, "x", at(time.Second+lease+2*time.Millisecond)), ErrLeaseLost)
		wantErr(t, "Release by the old owner", s.Release(ctx, "a", "w1"), ErrLeaseLost)
		// Next never takes calling or finished items, even with expired leases.
		if err := s.MarkCalling(ctx, "b", "w2", at(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, "c", "w3", Done, "ok", at(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		next(t, s, "w5", at(time.Hour), "a") // a's lease (w4) expired too; b calling, c done
		next(t, s, "w6", at(time.Hour), "")
		if _, err := s.Next(ctx, "", t0, lease); err == nil {
			t.Fatal("Next with empty owner succeeded")
		}
	})

	t.Run("MarkCalling", func(t *testing.T) {
		s := open(t)
		claim(t, s, "m", t0)
		wantErr(t, "MarkCalling of an unleased item", s.MarkCalling(ctx, "m", "w1", t0), ErrLeaseLost)
		next(t, s, "w1", t0, "m")
		wantErr(t, "MarkCalling by another owner", s.MarkCalling(ctx, "m", "w2", t0), ErrLeaseLost)
		wantErr(t, "MarkCalling of a missing item", s.MarkCalling(ctx, "zz", "w1", t0), ErrNotFound)
		wantErr(t, "MarkCalling after the lease ran out", s.MarkCalling(ctx, "m", "w1", at(lease+time.Millisecond)), ErrLeaseLost)
		if err := s.MarkCalling(ctx, "", "w1", t0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("MarkCalling of empty msgID: %v", err)
		}
		if err := s.MarkCalling(ctx, "m", "", t0); err == nil {
			t.Fatal("MarkCalling with empty owner succeeded")
		}
		if err := s.MarkCalling(ctx, "m", "w1", at(time.Second)); err != nil {
			t.Fatal(err)
		}
		it := get(t, s, "m")
		if it.State != Calling || it.Owner != "w1" || !it.LeaseUntil.Equal(at(lease)) || !it.UpdatedAt.Equal(at(time.Second)) {
			t.Fatalf("after MarkCalling: %+v", it)
		}
		wantErr(t, "MarkCalling twice", s.MarkCalling(ctx, "m", "w1", at(time.Second)), ErrLeaseLost)
		wantErr(t, "Release of a calling item", s.Release(ctx, "m", "w1"), ErrLeaseLost)
	})

	t.Run("Finish", func(t *testing.T) {
		s := open(t)
		claim(t, s, "r", t0)
		claim(t, s, "c", t0)
		next(t, s, "w1", t0, "c")
		next(t, s, "w1", t0, "r")
		if err := s.MarkCalling(ctx, "c", "w1", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, "r", "w1", Calling, "x", t0); err == nil || errors.Is(err, ErrLeaseLost) {
			t.Fatalf("Finish to a non-final state: %v", err)
		}
		wantErr(t, "Finish by another owner", s.Finish(ctx, "r", "w2", Done, "x", t0), ErrLeaseLost)
		wantErr(t, "Finish of a missing item", s.Finish(ctx, "zz", "w1", Done, "x", t0), ErrNotFound)
		for id, st := range map[string]State{"r": Failed, "c": Done} {
			if err := s.Finish(ctx, id, "w1", st, "reply-"+id, at(time.Second)); err != nil {
				t.Fatalf("Finish(%s): %v", id, err)
			}
			it := get(t, s, id)
			if it.State != st || it.Reply != "reply-"+id || it.Owner != "" || !it.LeaseUntil.IsZero() ||
				!it.UpdatedAt.Equal(at(time.Second)) || it.ReplyState != ReplySending {
				t.Fatalf("after Finish(%s): %+v", id, it)
			}
			wantErr(t, "Finish twice", s.Finish(ctx, id, "w1", Unknown, "again", at(2*time.Second)), ErrLeaseLost)
		}
		// A finished item is never leased, renewed or expired again.
		next(t, s, "w2", at(time.Hour), "")
		if n, err := s.Renew(ctx, "w1", at(time.Second), lease); n != 0 || err != nil {
			t.Fatalf("Renew after Finish = %d, %v", n, err)
		}
		if got, err := s.ExpireCalling(ctx, at(time.Hour)); len(got) != 0 || err != nil {
			t.Fatalf("ExpireCalling after Finish = %v, %v", got, err)
		}
	})

	t.Run("Release", func(t *testing.T) {
		s := open(t)
		claim(t, s, "m", t0)
		next(t, s, "w1", t0, "m")
		next(t, s, "w2", t0, "")
		wantErr(t, "Release by another owner", s.Release(ctx, "m", "w2"), ErrLeaseLost)
		wantErr(t, "Release of a missing item", s.Release(ctx, "zz", "w1"), ErrNotFound)
		if err := s.Release(ctx, "m", "w1"); err != nil {
			t.Fatal(err)
		}
		it := get(t, s, "m")
		if it.State != Received || it.Owner != "" || !it.LeaseUntil.IsZero() {
			t.Fatalf("after Release: %+v", it)
		}
		wantErr(t, "Release twice", s.Release(ctx, "m", "w1"), ErrLeaseLost)
		next(t, s, "w2", t0, "m") // at once available to others
		if err := s.Release(ctx, "m", ""); err == nil {
			t.Fatal("Release with empty owner succeeded")
		}
	})

	t.Run("Renew", func(t *testing.T) {
		s := open(t)
		claim(t, s, "d", at(-time.Millisecond))
		for _, id := range []string{"a", "b", "c", "e"} {
			claim(t, s, id, t0)
		}
		next(t, s, "w1", t0, "d") // until 30s
		next(t, s, "w1", at(10*time.Second), "a")
		next(t, s, "w1", at(10*time.Second), "b")
		next(t, s, "w1", at(10*time.Second), "c")
		next(t, s, "w2", t0, "e")
		if err := s.MarkCalling(ctx, "b", "w1", at(10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, "c", "w1", Done, "", at(10*time.Second)); err != nil {
			t.Fatal(err)
		}
		// d's lease runs out and w3 takes it over: w1 no longer holds it.
		next(t, s, "w3", at(lease+time.Millisecond), "d")
		n, err := s.Renew(ctx, "w1", at(10*time.Second), lease)
		if err != nil || n != 2 {
			t.Fatalf("Renew(w1) = %d, %v; want 2 (a received, b calling)", n, err)
		}
		for _, id := range []string{"a", "b"} {
			if it := get(t, s, id); !it.LeaseUntil.Equal(at(10*time.Second+lease)) || it.Owner != "w1" {
				t.Fatalf("%s after Renew: %+v", id, it)
			}
		}
		if it := get(t, s, "e"); !it.LeaseUntil.Equal(at(lease)) || it.Owner != "w2" {
			t.Fatalf("other owner's item changed by Renew: %+v", it)
		}
		if it := get(t, s, "d"); it.Owner != "w3" {
			t.Fatalf("taken-over item changed by Renew: %+v", it)
		}
		if n, err := s.Renew(ctx, "nobody", t0, lease); n != 0 || err != nil {
			t.Fatalf("Renew(nobody) = %d, %v", n, err)
		}
		if _, err := s.Renew(ctx, "", t0, lease); err == nil {
			t.Fatal("Renew with empty owner succeeded")
		}
		// The renewed lease keeps others off: after the old expiry only w2's
		// unrenewed e is free, not w1's a.
		next(t, s, "w4", at(lease+time.Second), "e")
		next(t, s, "w4", at(lease+time.Second), "")
	})

	t.Run("ExpireCalling", func(t *testing.T) {
		s := open(t)
		for _, id := range []string{"fresh", "old", "recv"} {
			claim(t, s, id, t0)
		}
		next(t, s, "w2", at(10*time.Second), "fresh") // leased until 40s
		next(t, s, "w1", t0, "old")                   // until 30s
		next(t, s, "w1", t0, "recv")                  // until 30s, stays received
		if err := s.MarkCalling(ctx, "old", "w1", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkCalling(ctx, "fresh", "w2", at(10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ExpireCalling(ctx, at(lease)); len(got) != 0 || err != nil {
			t.Fatalf("ExpireCalling at the expiry instant = %v, %v", got, err)
		}
		now := at(35 * time.Second)
		got, err := s.ExpireCalling(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].MsgID != "old" || got[0].State != Unknown || got[0].Owner != "" {
			t.Fatalf("ExpireCalling = %+v, want old as unknown", got)
		}
		if it := get(t, s, "old"); it.State != Unknown || it.Owner != "" || !it.LeaseUntil.IsZero() || !it.UpdatedAt.Equal(now) {
			t.Fatalf("old after ExpireCalling: %+v", it)
		}
		if it := get(t, s, "fresh"); it.State != Calling || it.Owner != "w2" {
			t.Fatalf("unexpired calling item changed: %+v", it)
		}
		if it := get(t, s, "recv"); it.State != Received || it.Owner != "w1" {
			t.Fatalf("expired received item changed by ExpireCalling: %+v", it)
		}
		if got, err := s.ExpireCalling(ctx, now); len(got) != 0 || err != nil {
			t.Fatalf("second ExpireCalling = %v, %v", got, err)
		}
		wantErr(t, "Finish after ExpireCalling", s.Finish(ctx, "old", "w1", Done, "", now), ErrLeaseLost)
		if got, err := s.ExpireCalling(ctx, at(time.Hour)); len(got) != 1 || got[0].MsgID != "fresh" || err != nil {
			t.Fatalf("ExpireCalling later = %+v, %v", got, err)
		}
	})

	t.Run("SetReplyState", func(t *testing.T) {
		s := open(t)
		claim(t, s, "open", t0)
		set := func(id string, st ReplyState, want bool) {
			t.Helper()
			ok, err := s.SetReplyState(ctx, id, st, at(time.Second))
			if err != nil || ok != want {
				t.Fatalf("SetReplyState(%s, %q) = %v, %v; want %v", id, st, ok, err, want)
			}
		}
		set("open", ReplySending, false) // not finished
		finished(t, s, "m", t0, Failed)
		set("m", ReplySending, false) // Finish marked it sending
		unreplied(t, s, "u", t0)
		set("u", ReplySending, true)
		set("u", ReplySending, false) // already sending
		set("m", ReplyFailed, true)
		set("m", ReplySending, true) // retry after failure
		set("m", ReplySent, true)
		set("m", ReplySending, false) // delivered: never again
		if it := get(t, s, "m"); it.ReplyState != ReplySent || it.State != Failed || !it.UpdatedAt.Equal(at(time.Second)) {
			t.Fatalf("after SetReplyState: %+v", it)
		}
		_, err := s.SetReplyState(ctx, "zz", ReplySending, t0)
		wantErr(t, "SetReplyState(sending) of a missing item", err, ErrNotFound)
		_, err = s.SetReplyState(ctx, "zz", ReplySent, t0)
		wantErr(t, "SetReplyState(sent) of a missing item", err, ErrNotFound)
		if _, err := s.SetReplyState(ctx, "m", ReplyNone, t0); err == nil {
			t.Fatal("SetReplyState(none) succeeded")
		}
		if _, err := s.SetReplyState(ctx, "m", "bogus", t0); err == nil {
			t.Fatal("SetReplyState(bogus) succeeded")
		}
	})

	t.Run("Unreplied", func(t *testing.T) {
		s := open(t)
		if got, err := s.Unreplied(ctx, 10); len(got) != 0 || err != nil {
			t.Fatalf("Unreplied on empty = %v, %v", got, err)
		}
		unreplied(t, s, "f3", at(3*time.Second))
		unreplied(t, s, "f1", at(1*time.Second))
		unreplied(t, s, "f2", at(2*time.Second))
		unreplied(t, s, "f4", at(4*time.Second))
		finished(t, s, "done", at(time.Second), Done) // its worker is posting the reply
		claim(t, s, "open", t0)
		if ok, err := s.SetReplyState(ctx, "f4", ReplySending, t0); !ok || err != nil {
			t.Fatal(ok, err)
		}
		got, err := s.Unreplied(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, it := range got {
			ids = append(ids, it.MsgID)
		}
		if want := []string{"f1", "f2", "f3"}; !slices.Equal(ids, want) {
			t.Fatalf("Unreplied = %v, want %v", ids, want)
		}
		if got[0].State != Unknown || got[0].ReplyState != ReplyNone || string(got[0].Message) != `{"text":"f1"}` {
			t.Fatalf("Unreplied item: %+v", got[0])
		}
		if got, _ := s.Unreplied(ctx, 2); len(got) != 2 || got[1].MsgID != "f2" {
			t.Fatalf("Unreplied(2) = %v", got)
		}
		if got, _ := s.Unreplied(ctx, 0); len(got) != 0 {
			t.Fatalf("Unreplied(0) = %v", got)
		}
	})

	t.Run("Groups", func(t *testing.T) {
		s := open(t)
		if got, err := s.Groups(ctx, GroupFilter{Limit: 10}); len(got) != 0 || err != nil {
			t.Fatalf("Groups on empty = %v, %v", got, err)
		}
		g1 := Group{MsgID: "m1", OpenConversationID: "cid1", ChatID: "chat1", Name: "ops 1", Owner: "u1",
			Members: []string{"u1", "u2"}, Sender: "s1", ConversationID: "conv", CreatedAt: at(time.Second)}
		g2 := Group{MsgID: "m2", Name: "ops 2", Owner: "u3", CreatedAt: at(2 * time.Second)}
		g3 := Group{MsgID: "m3", Name: "ops 3", Members: []string{"x"}, CreatedAt: at(3 * time.Second)}
		for _, g := range []Group{g1, g2, g3} {
			if err := s.RecordGroup(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		dup := g1
		dup.Name = "changed"
		if err := s.RecordGroup(ctx, dup); err != nil {
			t.Fatalf("duplicate RecordGroup: %v", err)
		}
		if err := s.RecordGroup(ctx, Group{}); err == nil {
			t.Fatal("RecordGroup without msgID succeeded")
		}
		got, err := s.Groups(ctx, GroupFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0].MsgID != "m3" || got[1].MsgID != "m2" || got[2].MsgID != "m1" {
			t.Fatalf("Groups = %+v, want m3, m2, m1", got)
		}
		g := got[2]
		if g.Name != "ops 1" || g.OpenConversationID != "cid1" || g.ChatID != "chat1" || g.Owner != "u1" ||
			!slices.Equal(g.Members, []string{"u1", "u2"}) || g.Sender != "s1" || g.ConversationID != "conv" || !g.CreatedAt.Equal(at(time.Second)) {
			t.Fatalf("Groups[m1] = %+v, want %+v", g, g1)
		}
		if got[1].Members == nil || len(got[1].Members) != 0 {
			t.Fatalf("nil Members read back as %#v, want empty", got[1].Members)
		}
		if got, _ := s.Groups(ctx, GroupFilter{Limit: 2}); len(got) != 2 || got[0].MsgID != "m3" {
			t.Fatalf("Groups(2) = %+v", got)
		}
	})

	t.Run("GroupsFilter", func(t *testing.T) {
		s := open(t)
		if n, err := s.CountGroups(ctx, ""); n != 0 || err != nil {
			t.Fatalf("CountGroups on empty = %d, %v", n, err)
		}
		// 25 groups: alice created the even ones, bob the odd ones; two share a time.
		for i := range 25 {
			sender := "alice"
			if i%2 == 1 {
				sender = "bob"
			}
			created := at(time.Duration(i) * time.Minute)
			if i == 24 {
				created = at(22 * time.Minute) // same time as m22: ties break by msg_id, newest first
			}
			g := Group{MsgID: fmt.Sprintf("m%02d", i), Name: fmt.Sprintf("g%d", i), Sender: sender, CreatedAt: created}
			if err := s.RecordGroup(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		ids := func(gs []Group) []string {
			var v []string
			for _, g := range gs {
				v = append(v, g.MsgID)
			}
			return v
		}
		for _, tc := range []struct {
			f    GroupFilter
			want []string
		}{
			{GroupFilter{Sender: "alice", Limit: 3}, []string{"m24", "m22", "m20"}},
			{GroupFilter{Sender: "alice", Limit: 3, Offset: 3}, []string{"m18", "m16", "m14"}},
			{GroupFilter{Sender: "alice", Limit: 10, Offset: 10}, []string{"m04", "m02", "m00"}},
			{GroupFilter{Sender: "alice", Limit: 10, Offset: 13}, nil},
			{GroupFilter{Sender: "bob", Limit: 2}, []string{"m23", "m21"}},
			{GroupFilter{Limit: 3}, []string{"m23", "m24", "m22"}},
			{GroupFilter{Sender: "carol", Limit: 3}, nil},
		} {
			got, err := s.Groups(ctx, tc.f)
			if err != nil || !slices.Equal(ids(got), tc.want) {
				t.Errorf("Groups(%+v) = %v, %v; want %v", tc.f, ids(got), err, tc.want)
			}
		}
		if got, _ := s.Groups(ctx, GroupFilter{}); len(got) != 25 {
			t.Errorf("Groups without a limit = %d records, want 25", len(got))
		}
		if got, _ := s.Groups(ctx, GroupFilter{Offset: 20}); len(got) != 5 {
			t.Errorf("Groups with only an offset = %d records, want 5", len(got))
		}
		for sender, want := range map[string]int{"": 25, "alice": 13, "bob": 12, "carol": 0} {
			if n, err := s.CountGroups(ctx, sender); n != want || err != nil {
				t.Errorf("CountGroups(%q) = %d, %v; want %d", sender, n, err, want)
			}
		}
	})

	t.Run("Audit", func(t *testing.T) {
		s := open(t)
		if got, err := s.Audit(ctx, AuditFilter{}); len(got) != 0 || err != nil {
			t.Fatalf("Audit on empty = %v, %v", got, err)
		}
		if err := s.RecordCommand(ctx, AuditRecord{}); err == nil {
			t.Fatal("RecordCommand without msgID succeeded")
		}
		full := AuditRecord{MsgID: "c1", At: at(time.Second), Sender: "alice", SenderNick: "Alice 张",
			ConversationID: "cidconv", Command: "newgroup", Text: `/newgroup "Release 4.2" @Bob`, Outcome: "refused",
			RequestID: "REQ-1", ErrorCode: "permession.checkFailed"}
		records := []AuditRecord{
			full,
			{MsgID: "c2", At: at(2 * time.Second), Sender: "bob", Command: "help", Text: "/help", Outcome: "answered"},
			{MsgID: "c3", At: at(3 * time.Second), Sender: "alice", Command: "newgroup", Text: "/newgroup Ops", Outcome: "created",
				GroupOpenConversationID: "cidnew", ChatID: "chatnew"},
			{MsgID: "c4", At: at(4 * time.Second), Command: "", Text: "", Outcome: "answered"},
		}
		for _, r := range records {
			if err := s.RecordCommand(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Audit(ctx, AuditFilter{})
		if err != nil || len(got) != 4 || got[0].MsgID != "c4" || got[3].MsgID != "c1" {
			t.Fatalf("Audit = %+v, %v; want c4, c3, c2, c1", got, err)
		}
		if g := got[3]; g != full {
			if !g.At.Equal(full.At) {
				t.Fatalf("At = %v, want %v", g.At, full.At)
			}
			g.At = full.At
			if g != full {
				t.Fatalf("Audit[c1] = %+v, want %+v", g, full)
			}
		}
		// An upsert replaces the record.
		again := records[2]
		again.Outcome, again.RequestID = "unknown", "REQ-2"
		if err := s.RecordCommand(ctx, again); err != nil {
			t.Fatal(err)
		}
		ids := func(rs []AuditRecord) []string {
			var v []string
			for _, r := range rs {
				v = append(v, r.MsgID)
			}
			return v
		}
		for _, tc := range []struct {
			f    AuditFilter
			want []string
		}{
			{AuditFilter{Sender: "alice"}, []string{"c3", "c1"}},
			{AuditFilter{Since: at(2 * time.Second)}, []string{"c4", "c3", "c2"}},
			{AuditFilter{Until: at(2 * time.Second)}, []string{"c1"}},
			{AuditFilter{Since: at(2 * time.Second), Until: at(4 * time.Second)}, []string{"c3", "c2"}},
			{AuditFilter{Limit: 2}, []string{"c4", "c3"}},
			{AuditFilter{Limit: 2, Offset: 3}, []string{"c1"}},
			{AuditFilter{Sender: "alice", Since: at(3 * time.Second)}, []string{"c3"}},
		} {
			got, err := s.Audit(ctx, tc.f)
			if err != nil || !slices.Equal(ids(got), tc.want) {
				t.Errorf("Audit(%+v) = %v, %v; want %v", tc.f, ids(got), err, tc.want)
			}
		}
		got, _ = s.Audit(ctx, AuditFilter{Sender: "alice", Limit: 1})
		if len(got) != 1 || got[0].Outcome != "unknown" || got[0].RequestID != "REQ-2" || got[0].ChatID != "chatnew" {
			t.Fatalf("upserted record = %+v", got)
		}
		// A second Store on the same database (another replica) sees the same audit.
		if got, err := open(t).Audit(ctx, AuditFilter{}); err != nil || len(got) != 4 {
			t.Fatalf("Audit from a second store = %d records, %v", len(got), err)
		}
	})

	t.Run("Counts", func(t *testing.T) {
		s := open(t)
		if got, err := s.Counts(ctx); err != nil || len(got) != 0 {
			t.Fatalf("Counts on empty = %v, %v", got, err)
		}
		finished(t, s, "d1", t0, Done)
		finished(t, s, "u1", t0, Unknown)
		claim(t, s, "r1", t0)
		claim(t, s, "r2", t0)
		claim(t, s, "r3", t0)
		next(t, s, "w", t0, "r1") // r1 is leased: still received
		it := next(t, s, "w2", t0, "r2")
		if err := s.MarkCalling(ctx, it.MsgID, "w2", t0); err != nil {
			t.Fatal(err)
		}
		got, err := s.Counts(ctx)
		want := map[State]int{Received: 2, Calling: 1, Done: 1, Unknown: 1}
		if err != nil || len(got) != len(want) {
			t.Fatalf("Counts = %v, %v; want %v", got, err, want)
		}
		for st, n := range want {
			if got[st] != n {
				t.Fatalf("Counts = %v, want %v", got, want)
			}
		}
	})

	t.Run("Prune", func(t *testing.T) {
		s := open(t)
		finished(t, s, "old-done", t0, Done)
		finished(t, s, "old-unknown", t0, Unknown)
		finished(t, s, "new-done", at(time.Hour), Done)
		claim(t, s, "old-received", t0)
		claim(t, s, "old-calling", t0)
		next(t, s, "w", t0, "old-calling")
		if err := s.MarkCalling(ctx, "old-calling", "w", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordGroup(ctx, Group{MsgID: "old-done", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordCommand(ctx, AuditRecord{MsgID: "old-done", At: t0, Outcome: "answered"}); err != nil {
			t.Fatal(err)
		}
		n, err := s.Prune(ctx, at(time.Minute))
		if err != nil || n != 2 {
			t.Fatalf("Prune = %d, %v; want 2", n, err)
		}
		for _, id := range []string{"old-done", "old-unknown"} {
			_, err := s.Get(ctx, id)
			wantErr(t, "Get of pruned "+id, err, ErrNotFound)
		}
		for _, id := range []string{"new-done", "old-received", "old-calling"} {
			get(t, s, id)
		}
		if g, _ := s.Groups(ctx, GroupFilter{Limit: 10}); len(g) != 1 {
			t.Fatalf("audit after Prune = %v", g)
		}
		if a, _ := s.Audit(ctx, AuditFilter{}); len(a) != 1 {
			t.Fatalf("command audit after Prune = %v", a)
		}
		if n, err := s.Prune(ctx, at(time.Minute)); n != 0 || err != nil {
			t.Fatalf("second Prune = %d, %v", n, err)
		}
		// A pruned msgId can be claimed afresh.
		claim(t, s, "old-done", at(2*time.Hour))
	})

	t.Run("AdmitSigned", func(t *testing.T) {
		s := open(t)
		exp := at(5 * time.Minute)
		admit := func(t *testing.T, s Store, key, id string, expires, now time.Time, want bool) {
			t.Helper()
			ok, err := s.AdmitSigned(ctx, key, id, 3, expires, now)
			if err != nil || ok != want {
				t.Fatalf("AdmitSigned(%s, %s, now %v) = %v, %v; want %v", key, id, now.Sub(t0), ok, err, want)
			}
		}
		for _, id := range []string{"a", "b", "c"} {
			admit(t, s, "k1", id, exp, t0, true)
		}
		admit(t, s, "k1", "d", exp, t0, false) // the bound
		admit(t, s, "k1", "d", exp, t0, false) // a refused msgId is not recorded either
		// A redelivery is admitted, also with another expiry, and not counted.
		admit(t, s, "k1", "b", exp.Add(time.Hour), at(time.Minute), true)
		admit(t, s, "k1", "b", exp, at(time.Minute), true)
		admit(t, s, "k1", "e", exp, at(time.Minute), false)
		// Keys are independent; another replica shares the counts.
		s2 := open(t)
		admit(t, s2, "k2", "d", exp, t0, true)
		admit(t, s2, "k1", "c", exp, t0, true)
		admit(t, s2, "k1", "f", exp, t0, false)
		// An entry counts until its expiry, not at it: at exp the key starts
		// afresh, and a msgId it recorded before is new again.
		admit(t, s, "k1", "g", exp, exp.Add(-time.Millisecond), false)
		late := exp.Add(5 * time.Minute)
		for _, id := range []string{"g", "a", "h"} {
			admit(t, s, "k1", id, late, exp, true)
		}
		admit(t, s, "k1", "i", late, exp, false)
		admit(t, s, "k1", "a", late, exp.Add(time.Minute), true)
		// Entries of a mixed age: only the live ones count.
		admit(t, s, "k3", "old", at(time.Second), t0, true)
		admit(t, s, "k3", "new1", late, t0, true)
		admit(t, s, "k3", "new2", late, at(time.Second), true)
		admit(t, s, "k3", "new3", late, at(time.Second), true) // old expired at 1s
		admit(t, s, "k3", "new4", late, at(time.Second), false)
		// An entry expired at now counts for nothing.
		admit(t, s, "k4", "x", t0, t0, true)
		admit(t, s, "k4", "x", at(time.Second), at(time.Millisecond), true)
		// max <= 0 admits nothing new.
		if ok, err := s.AdmitSigned(ctx, "k5", "x", 0, exp, t0); ok || err != nil {
			t.Fatalf("AdmitSigned with max 0 = %v, %v", ok, err)
		}
		for _, c := range [][2]string{{"", "x"}, {"k", ""}} {
			if _, err := s.AdmitSigned(ctx, c[0], c[1], 3, exp, t0); err == nil {
				t.Fatalf("AdmitSigned(%q, %q) succeeded", c[0], c[1])
			}
		}

		// PruneSigned deletes what expired at now: k1's first entries
		// (expiring at exp; g, a and h were renewed to late), k2's, k3's old
		// and k4's x.
		if n, err := s.PruneSigned(ctx, exp.Add(-time.Millisecond)); n != 2 || err != nil { // k3's old, k4's x
			t.Fatalf("PruneSigned before exp = %d, %v; want 2", n, err)
		}
		if n, err := s2.PruneSigned(ctx, exp); n != 3 || err != nil { // k1's b and c, k2's d
			t.Fatalf("PruneSigned at exp = %d, %v; want 3", n, err)
		}
		if n, err := s.PruneSigned(ctx, exp); n != 0 || err != nil {
			t.Fatalf("second PruneSigned = %d, %v", n, err)
		}
		// The live entries stay and still count.
		admit(t, s, "k1", "j", late, exp, false)
		admit(t, s, "k1", "h", late, exp, true)
		if n, err := s.PruneSigned(ctx, late); n != 6 || err != nil { // k1's g, a, h; k3's new1-3
			t.Fatalf("PruneSigned at late = %d, %v; want 6", n, err)
		}
		// Pruning does not change what is admitted, only the table's size.
		admit(t, s, "k1", "j", late.Add(time.Minute), late, true)
	})

	t.Run("ConcurrentAdmitSigned", func(t *testing.T) {
		// Two Store instances on one database, like two replicas; several
		// keys at once, each with 20 distinct msgIds and redeliveries.
		stores := []Store{open(t), open(t)}
		const (
			keys  = 4
			calls = 20
			bound = 8
		)
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			admitted = map[string]map[string]bool{}
		)
		for k := range keys {
			admitted[fmt.Sprintf("key%d", k)] = map[string]bool{}
		}
		for k := range keys {
			key := fmt.Sprintf("key%d", k)
			for i := range calls {
				wg.Go(func() {
					id := fmt.Sprintf("m%02d", i)
					s := stores[(i+k)%2]
					ok, err := s.AdmitSigned(ctx, key, id, bound, at(time.Minute), t0)
					if err != nil {
						t.Errorf("AdmitSigned(%s, %s): %v", key, id, err)
						return
					}
					if ok {
						mu.Lock()
						admitted[key][id] = true
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		for key, ids := range admitted {
			if len(ids) != bound {
				t.Fatalf("%s: %d distinct msgIds admitted, want exactly %d", key, len(ids), bound)
			}
		}
		// Concurrent redeliveries of the admitted msgIds are all admitted
		// and new ones still refused.
		var refused sync.Map
		for key, ids := range admitted {
			for id := range ids {
				for i := range 2 {
					wg.Go(func() {
						if ok, err := stores[i].AdmitSigned(ctx, key, id, bound, at(time.Minute), at(time.Second)); !ok || err != nil {
							t.Errorf("redelivery AdmitSigned(%s, %s) = %v, %v", key, id, ok, err)
						}
					})
				}
			}
			wg.Go(func() {
				if ok, err := stores[1].AdmitSigned(ctx, key, "new", bound, at(time.Minute), at(time.Second)); ok || err != nil {
					refused.Store(key, fmt.Sprint(ok, err))
				}
			})
		}
		wg.Wait()
		refused.Range(func(k, v any) bool {
			t.Errorf("AdmitSigned(%s, new) past the bound = %s", k, v)
			return true
		})
	})

	t.Run("MigrationsIdempotent", func(t *testing.T) {
		s1 := open(t)
		claim(t, s1, "kept", t0)
		// Reopen twice at once (two replicas starting), then once more.
		var wg sync.WaitGroup
		stores := make([]Store, 2)
		for i := range stores {
			wg.Go(func() { stores[i] = open(t) })
		}
		wg.Wait()
		s4 := open(t)
		for _, s := range append(stores, s4) {
			get(t, s, "kept")
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

	t.Run("ConcurrentClaim", func(t *testing.T) {
		s := open(t)
		s2 := open(t)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins int
		)
		for i := range 20 {
			wg.Go(func() {
				st := s
				if i%2 == 1 {
					st = s2
				}
				ok, it, err := st.Claim(ctx, "same", []byte(fmt.Sprintf(`{"n":%d}`, i)), "", t0, lease)
				if err != nil {
					t.Errorf("Claim: %v", err)
					return
				}
				if !ok && (it == nil || it.MsgID != "same") {
					t.Errorf("losing Claim returned %+v", it)
				}
				mu.Lock()
				if ok {
					wins++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d Claims won, want exactly 1", wins)
		}
	})

	t.Run("ConcurrentNext", func(t *testing.T) {
		// Two Store instances on one database, like two replicas.
		stores := []Store{open(t), open(t)}
		const items = 50
		for i := range items {
			claim(t, stores[0], fmt.Sprintf("m%02d", i), at(time.Duration(i)*time.Millisecond))
		}
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			leased = map[string][]string{}
		)
		for w := range 10 {
			wg.Go(func() {
				s := stores[w%2]
				owner := fmt.Sprintf("w%d", w)
				for {
					it, err := s.Next(ctx, owner, at(time.Second), lease)
					if err != nil {
						t.Errorf("Next(%s): %v", owner, err)
						return
					}
					if it == nil {
						return
					}
					if it.Owner != owner {
						t.Errorf("Next(%s) returned owner %q", owner, it.Owner)
					}
					mu.Lock()
					leased[it.MsgID] = append(leased[it.MsgID], owner)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(leased) != items {
			t.Fatalf("%d items leased, want %d", len(leased), items)
		}
		for id, owners := range leased {
			if len(owners) != 1 {
				t.Fatalf("%s leased %d times: %v", id, len(owners), owners)
			}
			if it := get(t, stores[1], id); it.Owner != owners[0] {
				t.Fatalf("%s owner %q, leased by %v", id, it.Owner, owners)
			}
		}
	})

	t.Run("ConcurrentExpireAndReply", func(t *testing.T) {
		stores := []Store{open(t), open(t)}
		const items = 30
		for i := range items {
			id := fmt.Sprintf("m%02d", i)
			claim(t, stores[0], id, t0)
			next(t, stores[0], "dead", t0, id)
			if err := stores[0].MarkCalling(ctx, id, "dead", t0); err != nil {
				t.Fatal(err)
			}
		}
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			expired = map[string]int{}
		)
		for w := range 6 {
			wg.Go(func() {
				got, err := stores[w%2].ExpireCalling(ctx, at(time.Hour))
				if err != nil {
					t.Errorf("ExpireCalling: %v", err)
				}
				mu.Lock()
				for _, it := range got {
					expired[it.MsgID]++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(expired) != items {
			t.Fatalf("%d items expired, want %d", len(expired), items)
		}
		for id, n := range expired {
			if n != 1 {
				t.Fatalf("%s returned by %d ExpireCalling calls", id, n)
			}
		}
		// Exactly one of many concurrent senders may post the reply.
		var sending int
		for w := range 10 {
			wg.Go(func() {
				ok, err := stores[w%2].SetReplyState(ctx, "m00", ReplySending, at(time.Hour))
				if err != nil {
					t.Errorf("SetReplyState: %v", err)
				}
				if ok {
					mu.Lock()
					sending++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if sending != 1 {
			t.Fatalf("%d SetReplyState(sending) succeeded, want 1", sending)
		}
	})
}

func TestOpenURLs(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"mysql://root:s3cretpw@db/x", "s3cretpw", "redis://:s3cretpw@host:6379"} {
		_, err := Open(ctx, u, t.TempDir())
		if err == nil {
			t.Fatalf("Open(%q) succeeded", u)
		}
		if !strings.Contains(err.Error(), "DINGBOT_DATABASE_URL") || strings.Contains(err.Error(), "s3cretpw") {
			t.Fatalf("Open(%q) error %q: want DINGBOT_DATABASE_URL named and no password", u, err)
		}
	}
	// A PostgreSQL that cannot be reached: the error names it without the password.
	for _, u := range []string{
		"postgres://bob:s3cretpw@127.0.0.1:1/db?connect_timeout=2&sslmode=disable",
		"postgresql://127.0.0.1:1/db?user=bob&password=s3cretpw&connect_timeout=2&sslmode=disable",
		"postgres://bob:s3cretpw@[::1/db", // unparsable
	} {
		_, err := Open(ctx, u, "")
		if err == nil {
			t.Fatalf("Open(%q) succeeded", u)
		}
		if strings.Contains(err.Error(), "s3cretpw") {
			t.Fatalf("Open(%q) error contains the password: %v", u, err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1") && !strings.Contains(err.Error(), "postgres:…") {
			t.Errorf("Open(%q) error does not name the server: %v", u, err)
		}
	}
	// Nor any other secret: sslpassword, password in any case, in a URL
	// that pgx or net/url cannot parse, in key=value form.
	for u, secrets := range leakCases() {
		_, err := Open(ctx, u, "")
		if err == nil {
			t.Fatalf("Open(%q) succeeded", u)
		}
		for _, sec := range secrets {
			if strings.Contains(err.Error(), sec) {
				t.Errorf("Open(%q) error contains %q: %v", u, sec, err)
			}
		}
	}

	// Default: SQLite in the data directory, created 0700.
	dir := filepath.Join(t.TempDir(), "a", "data")
	s, err := Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir: %v, %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dingbot.db")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, "", ""); err == nil {
		t.Fatal("Open with no URL and no data dir succeeded")
	}

	// sqlite:PATH and file:PATH share one database.
	p := filepath.Join(t.TempDir(), "x.db")
	s1, err := Open(ctx, "sqlite:"+p, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	if ok, _, err := s1.Claim(ctx, "m", []byte("{}"), "", t0, lease); !ok || err != nil {
		t.Fatal(ok, err)
	}
	s2, err := Open(ctx, "file:"+p, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Get(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := s2.(*sqlStore).db.query(ctx, false, `PRAGMA journal_mode`, nil, func(scan func(...any) error) error { return scan(&mode) }); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@h:5432/db?sslmode=disable":             "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"postgres://u@h/db":                                     "postgres://u@h/db",
		"postgres://h/db?password=pw&user=u":                    "postgres://h/db?password=xxxxx&user=u",
		"postgres://u@h/db?sslpassword=pw&sslmode=require":      "postgres://u@h/db?sslpassword=xxxxx&sslmode=require",
		"postgresql://h/db?user=u&PassWord=pw&SSLPASSWORD=pw2":  "postgresql://h/db?user=u&PassWord=xxxxx&SSLPASSWORD=xxxxx",
		"postgres://h/db?pass%77ord=pw":                         "postgres://h/db?pass%77ord=xxxxx",
		"POSTGRES://u:pw@h/db#pw":                               "postgres://u:xxxxx@h/db",
		"postgres://u:pass/word@h/db":                           "postgres:…", // does not parse
		"postgres://u:1234#word@h/db":                           "postgres:…", // the password may be in the port
		"postgres://u:pw@h/db?application_name=a@b":             "postgres:…",
		"postgres://u@h/db?application_name=a@b":                "postgres://u@h/db?application_name=a@b",
		"host=h user=u password=pw sslpassword='p w' dbname=x":  "host=h user=u password=xxxxx sslpassword=xxxxx dbname=x",
		"host=h PASSWORD = pw dbname=x":                         "host=h PASSWORD = xxxxx dbname=x",
		"sqlite:/var/lib/dingbot/dingbot.db":                    "sqlite:/var/lib/dingbot/dingbot.db",
		"file:data/x.db":                                        "file:data/x.db",
		"s3cretpw":                                              "…",
		"mysql:s3cretpw":                                        "mysql:…",
		"mysql://root:s3cretpw@db/x?sslpassword=s3cretpw2#frag": "mysql://root:xxxxx@db/x?sslpassword=xxxxx",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	// Whatever the shape, the secrets are gone.
	for in, secrets := range leakCases() {
		got := Redact(in)
		for _, sec := range secrets {
			if strings.Contains(got, sec) {
				t.Errorf("Redact(%q) = %q: contains %q", in, got, sec)
			}
		}
	}
}

// leakCases are database settings, each with the secrets (or parts of
// them) no error or log line may contain. The PostgreSQL ones cannot be
// connected to (port 1) or do not parse.
func leakCases() map[string][]string {
	return map[string][]string{
		"postgres://u@h/db?sslpassword=TOPSECRET&connect_timeout=abc":                                         {"TOPSECRET"},
		"postgres://h/db?PASSWORD=TOPSECRET&connect_timeout=abc":                                              {"TOPSECRET"},
		"postgresql://h/db?SSLPassword=TOPSECRET&connect_timeout=abc":                                         {"TOPSECRET"},
		"postgres://h/db?pass%77ord=TOPSECRET&connect_timeout=abc":                                            {"TOPSECRET"},
		"postgres://u:TOPSECRET@127.0.0.1:1/db?sslpassword=TOPSECRET2&connect_timeout=1&sslmode=disable":      {"TOPSECRET"},
		"POSTGRES://u:TOPSECRET@127.0.0.1:1/db?SSLPASSWORD=TOPSECRET2&connect_timeout=1&sslmode=disable":      {"TOPSECRET"},
		"postgresql://127.0.0.1:1/db?user=u&password=TOP%20SECRET&connect_timeout=1&sslmode=disable":          {"TOP%20SECRET", "TOP SECRET"},
		"postgres://u:TOPSECRET@h/db?x=%zz":                                                                   {"TOPSECRET"},
		"postgres://u:TOP%SECRET@h/db":                                                                        {"TOP%SECRET"},
		"postgres://u:TOP/SECRET@127.0.0.1:1/db?connect_timeout=1":                                            {"TOP/SECRET", "SECRET"},
		"postgres://u:12#TOPSECRET@127.0.0.1:1/db?connect_timeout=1":                                          {"TOPSECRET"},
		"postgres://u:TOPSECRET@h:port/db":                                                                    {"TOPSECRET"},
		"host=127.0.0.1 port=1 user=u password=TOPSECRET sslpassword=TOPSECRET2 dbname=x connect_timeout=1":   {"TOPSECRET"},
		"host=127.0.0.1 port=1 user=u password = 'TOP SECRET' sslmode=disable dbname=x connect_timeout=1":     {"TOP SECRET", "SECRET"},
		"host=127.0.0.1 port=1 user=u PASSWORD=TOPSECRET SSLPassword=TOPSECRET2 dbname=x connect_timeout=abc": {"TOPSECRET"},
	}
}

// TestPostgresErrorsRedacted: the PostgreSQL engine's errors (pgx parse
// errors quote the connection string; connection errors) never hold a
// secret of its connection string, in URL or key=value form.
func TestPostgresErrorsRedacted(t *testing.T) {
	ctx := context.Background()
	for in, secrets := range leakCases() {
		_, err := openPostgres(ctx, in)
		if err == nil {
			t.Fatalf("openPostgres(%q) succeeded", in)
		}
		for _, sec := range secrets {
			if strings.Contains(err.Error(), sec) {
				t.Errorf("openPostgres(%q) error contains %q: %v", in, sec, err)
			}
		}
	}
}

func TestScrub(t *testing.T) {
	err := fmt.Errorf("dial postgres://u:pw@h/db?sslpassword=k3y password='a b' token=TOPSECRET: %w", context.DeadlineExceeded)
	got := scrub(err, []string{"TOPSECRET"})
	if want := "dial postgres://u:xxxxx@h/db?sslpassword=xxxxx password=xxxxx token=xxxxx: context deadline exceeded"; got.Error() != want {
		t.Errorf("scrub = %q, want %q", got, want)
	}
	if !errors.Is(got, context.DeadlineExceeded) {
		t.Error("the scrubbed error does not match its cause")
	}
	if errors.Unwrap(got) != nil {
		t.Error("the scrubbed error unwraps to the original")
	}
	plain := errors.New("connection refused")
	if scrub(plain, []string{"TOPSECRET"}) != plain || scrub(nil, nil) != nil {
		t.Error("scrub changed an error without secrets")
	}
}

// TestPostgresSchemeCase: the scheme is case-insensitive (pgx reads a URL
// only with a lower-case one, anything else as key=value settings).
func TestPostgresSchemeCase(t *testing.T) {
	u := freshSchema(t, postgresURL(t))
	scheme, rest, _ := strings.Cut(u, "://")
	s, err := Open(context.Background(), strings.ToUpper(scheme)+"://"+rest, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.PruneSigned(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
}
