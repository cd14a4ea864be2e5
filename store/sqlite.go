package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
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
//
// Statements are prepared once per pool and kept (stmts): SQLite parsing
// and planning every statement again cost about a tenth of the bot's CPU
// under load (loadtest's profile, BENCHMARKS.md).
type sqliteDB struct {
	w, r   *sql.DB
	stmts  sync.Map // stmtKey → *sql.Stmt
	nStmts atomic.Int32
}

// stmtKey names a prepared statement: its text and its pool.
type stmtKey struct {
	q     string
	write bool
}

// maxStmts bounds the statement cache; queries built from filters (audit,
// groups) come in a few shapes, so it is never reached in practice.
const maxStmts = 128

// stmt returns the prepared statement for q on the writer or the readers,
// or nil (the caller runs q unprepared) if it cannot be prepared.
func (d *sqliteDB) stmt(ctx context.Context, write bool, q string) *sql.Stmt {
	key := stmtKey{q, write}
	if s, ok := d.stmts.Load(key); ok {
		return s.(*sql.Stmt)
	}
	if d.nStmts.Load() >= maxStmts {
		return nil
	}
	pool := d.r
	if write {
		pool = d.w
	}
	s, err := pool.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	if prev, loaded := d.stmts.LoadOrStore(key, s); loaded {
		s.Close()
		return prev.(*sql.Stmt)
	}
	d.nStmts.Add(1)
	return s
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
	var (
		res sql.Result
		err error
	)
	if s := d.stmt(ctx, true, q); s != nil {
		res, err = s.ExecContext(ctx, args...)
	} else {
		res, err = d.w.ExecContext(ctx, q, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d *sqliteDB) query(ctx context.Context, write bool, q string, args []any, each func(scan func(dest ...any) error) error) error {
	var (
		rows *sql.Rows
		err  error
	)
	if s := d.stmt(ctx, write, q); s != nil {
		rows, err = s.QueryContext(ctx, args...)
	} else if write {
		rows, err = d.w.QueryContext(ctx, q, args...)
	} else {
		rows, err = d.r.QueryContext(ctx, q, args...)
	}
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
	d.stmts.Range(func(_, s any) bool {
		s.(*sql.Stmt).Close()
		return true
	})
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
