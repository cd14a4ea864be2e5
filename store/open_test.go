package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
