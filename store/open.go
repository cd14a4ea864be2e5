package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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
	path, err := locate(databaseURL, dataDir)
	switch {
	case err != nil:
		return nil, err
	case path == "":
		return openPostgres(ctx, databaseURL)
	case databaseURL == "":
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("store: data directory: %w", err)
		}
	}
	return openSQLite(ctx, path)
}

// locate returns the SQLite file databaseURL and dataDir name, or "" for
// PostgreSQL, or the error Open gives for a URL it does not take.
func locate(databaseURL, dataDir string) (string, error) {
	switch {
	case databaseURL == "":
		if dataDir == "" {
			return "", errors.New("store: no DINGBOT_DATABASE_URL and no data directory")
		}
		return filepath.Join(dataDir, DefaultFile), nil
	case hasPrefixFold(databaseURL, "postgres://"), hasPrefixFold(databaseURL, "postgresql://"):
		return "", nil
	case hasPrefixFold(databaseURL, "sqlite:"):
		return sqlitePath(databaseURL[len("sqlite:"):]), nil
	case hasPrefixFold(databaseURL, "file:"):
		return sqlitePath(databaseURL[len("file:"):]), nil
	default:
		// Only the scheme is shown: the value may be a key=value DSN or
		// anything else holding a password.
		what := "is not a URL"
		if u, err := url.Parse(databaseURL); err == nil && u.Scheme != "" {
			what = fmt.Sprintf("has unsupported scheme %q", u.Scheme)
		}
		return "", fmt.Errorf("store: DINGBOT_DATABASE_URL %s: want postgres://…, postgresql://…, sqlite:PATH or file:PATH, or empty for SQLite in the data directory", what)
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

// Inspection is what Inspect found.
type Inspection struct {
	// Path is the SQLite database file, "" for PostgreSQL.
	Path string
	// Exists is false when the SQLite file does not exist yet: Open creates
	// it (and, in the data directory, the directory). A PostgreSQL database
	// that answered exists.
	Exists bool
	// Schema is whether the database has a schema (schema_migrations);
	// Open creates it when it has none.
	Schema bool
	// Pending is how many schema migrations Open would apply.
	Pending int
}

// Inspect looks at the store Open would open without changing anything:
// it creates no directory or file (SQLite) and runs no migration; what it
// reads, it reads in a read-only connection (SQLite mode=ro; a PostgreSQL
// READ ONLY transaction). A SQLite file that does not exist is no error
// (Exists is false) as long as Open could create it; an error is a store
// Open would fail to open or create, or that does not answer. Like Open's,
// its errors never contain a password.
func Inspect(ctx context.Context, databaseURL, dataDir string) (Inspection, error) {
	path, err := locate(databaseURL, dataDir)
	if err != nil {
		return Inspection{}, err
	}
	if path == "" {
		return inspectPostgres(ctx, databaseURL)
	}
	return inspectSQLite(ctx, path, databaseURL == "")
}

// inspectSQLite reads the schema versions of the SQLite file at path, or
// checks that Open could create it: inDataDir says Open creates its
// directory too (the data directory), otherwise the directory must exist.
func inspectSQLite(ctx context.Context, path string, inDataDir bool) (Inspection, error) {
	in := Inspection{Path: path}
	fail := func(err error) (Inspection, error) { return in, fmt.Errorf("store: sqlite %s: %w", path, err) }
	if path == ":memory:" {
		return in, nil // nothing on disk: every start begins with an empty database
	}
	if strings.ContainsAny(path, "?#") {
		return fail(errors.New("path must not contain '?' or '#'"))
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return in, creatable(path, inDataDir)
	} else if err != nil {
		return fail(err)
	}
	in.Exists = true
	// mode=ro never creates the file, and every write fails. A WAL database
	// whose -wal or -shm file is missing (no process has it open) is read
	// as immutable: a read-only connection would otherwise create those two
	// files and, unable to remove them, leave them behind. When they exist
	// (the bot is running), the connection reads through them as any reader.
	q := url.Values{}
	q.Set("mode", "ro")
	if !exists(path+"-wal") || !exists(path+"-shm") {
		q.Set("immutable", "1")
	}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "query_only(1)")
	db, err := sql.Open("sqlite", "file:"+strings.ReplaceAll(path, "%", "%25")+"?"+q.Encode())
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&tables); err != nil {
		return fail(err)
	}
	if tables == 0 {
		return pending(in, nil)
	}
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	done, err := versionSet(rows)
	if err != nil {
		return fail(err)
	}
	in.Schema = true
	return pending(in, done)
}

// creatable reports, without creating anything, an error if Open could not
// create the file at path because of its directory: that must be a
// directory or, when mkdir (the data directory, which Open creates), its
// nearest existing ancestor must be. (Permissions are not checked.)
func creatable(path string, mkdir bool) error {
	dir := filepath.Dir(path)
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		switch {
		case err == nil && fi.IsDir():
			return nil
		case err == nil:
			return fmt.Errorf("store: cannot create %s: %s is not a directory", path, d)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("store: data directory: %w", err)
		case !mkdir:
			return fmt.Errorf("store: sqlite: directory %s does not exist (it is not created for a sqlite: or file: URL)", dir)
		case filepath.Dir(d) == d:
			return nil
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// pending fills in.Pending from the versions applied (nil: no schema).
func pending(in Inspection, done map[int]bool) (Inspection, error) {
	all, err := migrations()
	if err != nil {
		return in, err
	}
	for _, m := range all {
		if !done[m.version] {
			in.Pending++
		}
	}
	return in, nil
}

// inspectPostgres connects once, without a pool, and reads the schema
// versions in a READ ONLY transaction.
func inspectPostgres(ctx context.Context, databaseURL string) (Inspection, error) {
	secrets := connSecrets(databaseURL)
	fail := func(err error) (Inspection, error) {
		return Inspection{}, scrub(fmt.Errorf("store: postgres %s: %w", Redact(databaseURL), err), secrets)
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return fail(errors.New("invalid URL")) // url errors quote the input, password included
	}
	// As openPostgres: a lower-case scheme, and the pool_ settings accepted
	// (pgxpool takes them out of the connection's settings).
	cfg, err := pgxpool.ParseConfig(u.Scheme + databaseURL[len(u.Scheme):])
	if err != nil {
		return fail(parseError(err))
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return fail(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	in := Inspection{Exists: true}
	// to_regclass follows search_path, as the migrations' unqualified names do.
	if err := tx.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&in.Schema); err != nil {
		return fail(err)
	}
	if !in.Schema {
		return pending(in, nil)
	}
	rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	done, err := versionSet(rows)
	if err != nil {
		return fail(err)
	}
	return pending(in, done)
}

// versionRows are the rows of SELECT version FROM schema_migrations, from
// database/sql or pgx.
type versionRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// versionSet reads the applied migration versions.
func versionSet(rows versionRows) (map[int]bool, error) {
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		done[v] = true
	}
	return done, rows.Err()
}
