package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/config"
	"github.com/dingbot/dingbot/internal/testutil"
	"github.com/dingbot/dingbot/store"
)

// TestStorageCheckCreatesNothing: the preflight's storage line for a
// database that does not exist yet is "?", and nothing is created; a
// place where it cannot be created is "✗".
func TestStorageCheckCreatesNothing(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	for _, tc := range []struct {
		name      string
		cfg       config.Config
		status    bot.CheckStatus
		detailHas string
	}{
		{"data directory missing", config.Config{DataDir: filepath.Join(root, "a", "data")}, bot.CheckUnknown, "does not exist yet: serve creates it"},
		{"sqlite: in an existing directory", config.Config{DatabaseURL: "sqlite:" + filepath.Join(root, "x.db")}, bot.CheckUnknown, "does not exist yet"},
		{"sqlite: in a missing directory", config.Config{DatabaseURL: "sqlite:" + filepath.Join(root, "b", "x.db")}, bot.CheckMissing, "does not exist"},
		{"sqlite: in memory", config.Config{DatabaseURL: "sqlite::memory:"}, bot.CheckOK, "in memory"},
		{"unsupported URL", config.Config{DatabaseURL: "mysql://u:pw@h/db"}, bot.CheckMissing, "unsupported scheme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := storageCheck(ctx, &tc.cfg)
			if c.Name != "storage" || c.Status != tc.status || !strings.Contains(c.Detail, tc.detailHas) {
				t.Errorf("got %+v, want status %s and a detail with %q", c, tc.status, tc.detailHas)
			}
		})
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("the checks created %v", entries)
	}

	// The data directory's place is taken by a file.
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{file, filepath.Join(file, "data")} {
		if c := storageCheck(ctx, &config.Config{DataDir: dir}); c.Status != bot.CheckMissing {
			t.Errorf("data directory %s: got %+v, want missing", dir, c)
		}
	}
}

// TestStorageCheckReadsOnly: an existing SQLite database is checked
// without a write, and migrations it lacks are counted, not applied.
func TestStorageCheckReadsOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, store.DefaultFile)
	cfg := &config.Config{DataDir: dir}

	before := fileState(t, dir)
	time.Sleep(10 * time.Millisecond)
	if c := storageCheck(ctx, cfg); c.Status != bot.CheckOK || !strings.HasSuffix(c.Detail, "answers, schema up to date") {
		t.Errorf("got %+v, want ok and up to date", c)
	}
	if after := fileState(t, dir); after != before {
		t.Errorf("the check changed the data directory:\nbefore %s\nafter  %s", before, after)
	}

	// A migration missing: counted, still not applied.
	w, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	before = fileState(t, dir)
	in, err := store.Inspect(ctx, "", dir)
	if err != nil || !in.Exists || !in.Schema || in.Pending != 1 {
		t.Errorf("Inspect = %+v, %v; want an existing schema with 1 pending migration", in, err)
	}
	if c := storageCheck(ctx, cfg); c.Status != bot.CheckOK || !strings.Contains(c.Detail, "1 pending schema migration") {
		t.Errorf("got %+v, want ok with 1 pending migration", c)
	}
	if after := fileState(t, dir); after != before {
		t.Errorf("the check changed the data directory:\nbefore %s\nafter  %s", before, after)
	}

	// Not a database: missing, and left as it is.
	if err := os.WriteFile(path, []byte("not a database, but long enough to have a header that is not SQLite's"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path + "-wal", path + "-shm"} {
		os.Remove(p)
	}
	if c := storageCheck(ctx, cfg); c.Status != bot.CheckMissing {
		t.Errorf("a file that is no database: got %+v, want missing", c)
	}
}

// TestStorageCheckPostgres: a PostgreSQL database is reached and read in a
// read-only transaction: a fresh one gets no schema from the check.
func TestStorageCheckPostgres(t *testing.T) {
	ctx := context.Background()
	u := testutil.PostgresDatabase(t, "dingbot_preflight")
	cfg := &config.Config{DatabaseURL: u}
	c := storageCheck(ctx, cfg)
	if c.Status != bot.CheckOK || !strings.Contains(c.Detail, "serve creates the schema on first start") || strings.Contains(c.Detail, "dbpass") {
		t.Errorf("fresh database: got %+v", c)
	}
	if c := storageCheck(ctx, cfg); !strings.Contains(c.Detail, "serve creates the schema") {
		t.Errorf("the first check created the schema: %+v", c)
	}
	db, err := store.Open(ctx, u, "")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if c := storageCheck(ctx, cfg); c.Status != bot.CheckOK || !strings.HasSuffix(c.Detail, "answers, schema up to date") {
		t.Errorf("migrated database: got %+v", c)
	}
	bad := strings.Replace(u, "dingbot_preflight", "dingbot_nosuchdb", 1)
	if c := storageCheck(ctx, &config.Config{DatabaseURL: bad}); c.Status != bot.CheckMissing || strings.Contains(c.Detail, "dbpass") {
		t.Errorf("missing database: got %+v, want missing without the password", c)
	}
}

// fileState is the names, sizes, modes and modification times of dir's files.
func fileState(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %d %v %s; ", fi.Name(), fi.Size(), fi.Mode(), fi.ModTime().Format(time.RFC3339Nano))
	}
	return b.String()
}
