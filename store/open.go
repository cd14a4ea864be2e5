package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// DefaultFile is the SQLite database file Open uses inside the data
// directory when no database URL is given.
const DefaultFile = "dingbot.db"

// Open opens the store named by databaseURL (the DINGBOT_DATABASE_URL
// setting) and brings its schema up to date:
//
//   - "" — SQLite in dataDir/dingbot.db (dataDir is created with mode 0700
//     if missing; DataDirWarning checks an existing one);
//   - "postgres://…" or "postgresql://…" (scheme in any case) — PostgreSQL;
//   - "sqlite:PATH" or "file:PATH" — SQLite at PATH.
//
// SQLite's files (the database, -wal and -shm) are created with mode 0600,
// and existing ones are made so. Anything else is an error. Errors never
// contain the database's password or sslpassword (see Redact).
func Open(ctx context.Context, databaseURL, dataDir string) (Store, error) {
	switch {
	case databaseURL == "":
		if dataDir == "" {
			return nil, errors.New("store: no DINGBOT_DATABASE_URL and no data directory")
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("store: data directory: %w", err)
		}
		return openSQLite(ctx, filepath.Join(dataDir, DefaultFile))
	case hasPrefixFold(databaseURL, "postgres://"), hasPrefixFold(databaseURL, "postgresql://"):
		return openPostgres(ctx, databaseURL)
	case hasPrefixFold(databaseURL, "sqlite:"):
		return openSQLite(ctx, sqlitePath(databaseURL[len("sqlite:"):]))
	case hasPrefixFold(databaseURL, "file:"):
		return openSQLite(ctx, sqlitePath(databaseURL[len("file:"):]))
	default:
		// Only the scheme is shown: the value may be a key=value DSN or
		// anything else holding a password.
		what := "is not a URL"
		if u, err := url.Parse(databaseURL); err == nil && u.Scheme != "" {
			what = fmt.Sprintf("has unsupported scheme %q", u.Scheme)
		}
		return nil, fmt.Errorf("store: DINGBOT_DATABASE_URL %s: want postgres://…, postgresql://…, sqlite:PATH or file:PATH, or empty for SQLite in the data directory", what)
	}
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// sqlitePath accepts "sqlite:///abs/path" and "sqlite://rel" spellings too.
func sqlitePath(p string) string {
	if strings.HasPrefix(p, "//") {
		return p[2:]
	}
	return p
}
