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
//     if missing);
//   - "postgres://…" or "postgresql://…" — PostgreSQL;
//   - "sqlite:PATH" or "file:PATH" — SQLite at PATH.
//
// Anything else is an error. Errors never contain the database password.
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

// Redact returns a database URL fit for logs and errors: the password in
// the userinfo (and a password query parameter) is replaced by "xxxxx".
// A string that does not parse as a URL is reduced to its scheme.
func Redact(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		if scheme, _, ok := strings.Cut(databaseURL, ":"); ok && !strings.ContainsAny(scheme, "@/") {
			return scheme + ":…"
		}
		return "…"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// scrub removes secret from err's message (drivers may echo connection
// strings); it keeps err itself when there is nothing to remove.
func scrub(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "xxxxx"))
}
