package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dingbot/dingbot/internal/testutil"
	"github.com/dingbot/dingbot/store"
	"github.com/dingbot/dingbot/store/storetest"
)

// TestSQLite runs the conformance suite and the SQL implementation's own
// checks on SQLite files in temporary directories.
func TestSQLite(t *testing.T) {
	var mu sync.Mutex
	dirs := map[string]string{} // subtest name → data dir
	open := func(t *testing.T) store.Store {
		mu.Lock()
		dir, ok := dirs[t.Name()]
		if !ok {
			dir = t.TempDir()
			dirs[t.Name()] = dir
		}
		mu.Unlock()
		s, err := store.Open(context.Background(), "", dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	storetest.Run(t, open)
	store.RunSQLTests(t, open)
}

// TestPostgres runs the conformance suite and the SQL implementation's own
// checks on PostgreSQL at DINGBOT_TEST_POSTGRES_URL, each subtest in a fresh
// schema that is dropped afterwards. Without the variable it is skipped,
// except under CI, which must run it.
func TestPostgres(t *testing.T) {
	admin := postgresURL(t)
	var mu sync.Mutex
	urls := map[string]string{} // subtest name → URL of its schema
	open := func(t *testing.T) store.Store {
		mu.Lock()
		u, ok := urls[t.Name()]
		if !ok {
			u = freshSchema(t, admin)
			urls[t.Name()] = u
		}
		mu.Unlock()
		s, err := store.Open(context.Background(), u, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	storetest.Run(t, open)
	store.RunSQLTests(t, open)
}

func postgresURL(t *testing.T) string {
	t.Helper()
	return testutil.PostgresAdminURL(t)
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
		t.Fatalf("connect %s: %v", store.Redact(admin), err)
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

// TestPostgresSchemeCase: the scheme is case-insensitive (pgx reads a URL
// only with a lower-case one, anything else as key=value settings).
func TestPostgresSchemeCase(t *testing.T) {
	u := freshSchema(t, postgresURL(t))
	scheme, rest, _ := strings.Cut(u, "://")
	s, err := store.Open(context.Background(), strings.ToUpper(scheme)+"://"+rest, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.PruneSigned(context.Background(), time.UnixMilli(1_700_000_000_000)); err != nil {
		t.Fatal(err)
	}
}
