package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresAdminURL is the test PostgreSQL server's URL
// (DINGBOT_TEST_POSTGRES_URL). Without one the test is skipped, except in
// CI, which must test PostgreSQL (.ci/run starts a server and sets it).
func PostgresAdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("DINGBOT_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("DINGBOT_TEST_POSTGRES_URL is not set, but CI must test PostgreSQL (.ci/run starts a server)")
		}
		t.Skip("DINGBOT_TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable); skipping PostgreSQL")
	}
	return u
}

// PostgresDatabase creates a uniquely named database (prefix_<random>) on
// the test PostgreSQL server, drops it when the test ends, and returns its
// URL. The URL carries the password "dbpass", which the test server (trust
// authentication) ignores, so that tests can check it is never logged.
func PostgresDatabase(t testing.TB, prefix string) string {
	t.Helper()
	admin := PostgresAdminURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connecting to the test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := prefix + "_" + hex.EncodeToString(r[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = c.Close(ctx)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	u.User = url.UserPassword(u.User.Username(), "dbpass")
	return u.String()
}
