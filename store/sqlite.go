package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteDB is the SQLite engine (modernc.org/sqlite, no cgo) in WAL mode.
//
// SQLite has one writer at a time. All writes go through w, a pool of ONE
// connection, so writers of this process queue in database/sql instead of
// spinning on SQLITE_BUSY; other processes on the same file are waited for
// by busy_timeout. Every write is one statement (or a BEGIN IMMEDIATE
// transaction for migrations), and a write statement takes the write lock
// before it reads, so conditional updates such as Next's
// UPDATE … WHERE msg_id = (SELECT … LIMIT 1) RETURNING … are atomic.
// Pure reads use r, several connections reading WAL snapshots concurrently.
type sqliteDB struct {
	w, r *sql.DB
}

// sqliteDSN is path plus the pragmas every pooled connection runs when it
// opens. _txlock=immediate makes BeginTx issue BEGIN IMMEDIATE.
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	}
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string) (Store, error) {
	if path == "" {
		return nil, errors.New("store: sqlite: empty path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("store: sqlite: path %q must not contain '?' or '#'", path)
	}
	w, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("store: sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrateSQLite(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	return &sqlStore{db: &sqliteDB{w: w, r: r}}, nil
}

func (d *sqliteDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := d.w.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d *sqliteDB) query(ctx context.Context, write bool, q string, args []any, each func(scan func(dest ...any) error) error) error {
	pool := d.r
	if write {
		pool = d.w
	}
	rows, err := pool.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// For a write with RETURNING, Close is what finishes (commits) the
	// statement; report its error.
	return rows.Close()
}

func (d *sqliteDB) close() error {
	return errors.Join(d.r.Close(), d.w.Close())
}

// sqliteTx runs migrations in a BEGIN IMMEDIATE transaction: it takes the
// write lock up front, so two processes migrating at once run one after
// the other (the second waits up to busy_timeout, then sees the versions
// the first recorded).
type sqliteTx struct{ tx *sql.Tx }

func (t sqliteTx) exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.ExecContext(ctx, q, args...)
	return err
}

func (t sqliteTx) versions(ctx context.Context) (map[int]bool, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out[v] = true
	}
	return out, rows.Err()
}

func migrateSQLite(ctx context.Context, w *sql.DB) error {
	tx, err := w.BeginTx(ctx, nil) // BEGIN IMMEDIATE via _txlock
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := applyMigrations(ctx, sqliteTx{tx}, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}
