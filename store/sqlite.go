package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteDB is the SQLite engine (modernc.org/sqlite, no cgo) in WAL mode.
//
// SQLite has one writer at a time, so this process has one too: a goroutine
// (writeLoop) that owns the single write connection and runs every write
// statement. Writers queue on its channel instead of spinning on
// SQLITE_BUSY; other processes on the same file are waited for by
// busy_timeout. A write statement takes the write lock before it reads, so
// conditional updates such as Next's
// UPDATE … WHERE msg_id = (SELECT … LIMIT 1) RETURNING … are atomic.
//
// Group commit: the writes that queue up while one commit is running are run
// together, each statement as before, in one BEGIN IMMEDIATE … COMMIT. Every
// caller still returns only after its statement has committed, so nothing a
// caller was told is stored can be lost; what is shared is the cost of the
// commit (the WAL frames of pages several statements touch are written once).
// Under load this is most of SQLite's cost per message (BENCHMARKS.md). If
// any statement of a batch fails, the batch is rolled back and its statements
// are run again one by one, so one statement's error never reaches another
// caller.
//
// The database file is created 0600 before SQLite opens it, and SQLite gives
// its -wal and -shm files the same mode (makePrivate).
//
// Pure reads use r, several connections reading WAL snapshots concurrently.
// Statements are prepared once and kept: SQLite parsing and planning every
// statement again cost about a tenth of the bot's CPU under load.
type sqliteDB struct {
	w, r   *sql.DB
	stmts  sync.Map // read statements: query text → *sql.Stmt on r
	nStmts atomic.Int32

	writes   chan *writeOp // unbuffered: a queued write is one a caller is still waiting to hand over
	stop     chan struct{} // closed by close: the writer stops taking writes
	stopOnce sync.Once
	stopped  chan struct{} // closed when the writer has stopped

	ck        *sql.DB       // one connection for checkpointLoop
	ckStopped chan struct{} // closed when checkpointLoop has stopped
	commits   atomic.Int64  // write statements and transactions committed, so checkpointLoop idles when nothing changed

	grouped   atomic.Int64 // transactions of several statements committed (for tests)
	unbatched atomic.Int64 // batches rolled back and run again statement by statement (for tests)
}

// maxStmts bounds each statement cache; queries built from filters (audit,
// groups) come in a few shapes, so it is never reached in practice.
const maxStmts = 128

// maxBatch is the most write statements committed together.
const maxBatch = 256

// writeTimeout bounds one batch; SQLite statements here take microseconds,
// and waiting for another process's lock is bounded by busy_timeout.
const writeTimeout = 30 * time.Second

// walBackstopPages is the WAL size (4 KiB pages) at which the writer
// checkpoints after all, should checkpointLoop fall behind.
const walBackstopPages = 16384

// checkpointEvery is how often checkpointLoop copies the WAL into the database.
const checkpointEvery = 250 * time.Millisecond

// checkpointLoop copies committed pages from the WAL into the database
// file every interval, on its own connection, so writers never wait for it:
// a PASSIVE checkpoint takes neither the write lock nor waits for readers.
// The WAL restarts from its beginning once everything in it was copied.
func (d *sqliteDB) checkpointLoop(interval time.Duration) {
	defer close(d.ckStopped)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var done int64
	for {
		select {
		case <-d.stop:
			return
		case <-tick.C:
		}
		if n := d.commits.Load(); n != done {
			ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			if _, err := d.ck.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err == nil {
				done = n
			}
			cancel()
		}
	}
}

// stmt returns the prepared read statement for q, or nil (the caller runs q
// unprepared) if it cannot be prepared.
func (d *sqliteDB) stmt(ctx context.Context, q string) *sql.Stmt {
	if s, ok := d.stmts.Load(q); ok {
		return s.(*sql.Stmt)
	}
	if d.nStmts.Load() >= maxStmts {
		return nil
	}
	s, err := d.r.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	if prev, loaded := d.stmts.LoadOrStore(q, s); loaded {
		s.Close()
		return prev.(*sql.Stmt)
	}
	d.nStmts.Add(1)
	return s
}

// sqliteDSN is path plus the pragmas every pooled connection runs when it
// opens. _txlock=immediate makes BeginTx issue BEGIN IMMEDIATE.
//
// The writer does not checkpoint the WAL itself at SQLite's default of 1000
// pages: that copy (several MB) ran inside whichever commit crossed the
// threshold, a few times a second under load, and every write queued behind
// it (the tail of the receipt → reply latency). checkpointLoop does it
// beside the writer; walBackstopPages only bounds the WAL if it falls behind.
//
// synchronous(FULL): every commit, the "calling" mark before a create above
// all, is on disk before it returns. With NORMAL a power cut could undo a
// committed "calling" whose create DingTalk had already made, and the
// restarted bot would create the group a second time. Group commit keeps
// the cost to one WAL sync per batch of writes.
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walBackstopPages))
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
	var opened []io.Closer // closed, last first, if opening fails
	fail := func(err error) (Store, error) {
		for i := len(opened) - 1; i >= 0; i-- {
			opened[i].Close()
		}
		return nil, fmt.Errorf("store: sqlite %s: %w", path, err)
	}
	if err := makePrivate(path); err != nil {
		return fail(err)
	}
	w, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return fail(err)
	}
	opened = append(opened, w)
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrateSQLite(ctx, w); err != nil {
		return fail(err)
	}
	conn, err := w.Conn(ctx)
	if err != nil {
		return fail(err)
	}
	opened = append(opened, conn)
	r, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		return fail(err)
	}
	opened = append(opened, r)
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	ck, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return fail(err)
	}
	ck.SetMaxOpenConns(1)
	d := &sqliteDB{w: w, r: r, ck: ck, writes: make(chan *writeOp), stop: make(chan struct{}),
		stopped: make(chan struct{}), ckStopped: make(chan struct{})}
	go d.writeLoop(conn)
	go d.checkpointLoop(checkpointEvery)
	return &sqlStore{db: d, unrepliedFrom: "inbox INDEXED BY inbox_unreplied", heldFrom: "inbox INDEXED BY inbox_held"}, nil
}

func (d *sqliteDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	op := &writeOp{q: q, args: args}
	if err := d.write(ctx, op); err != nil {
		return 0, err
	}
	return op.n, nil
}

func (d *sqliteDB) execIf(ctx context.Context, first statement, then []statement) (int64, error) {
	op := &writeOp{q: first.q, args: first.args, then: then}
	if err := d.write(ctx, op); err != nil {
		return 0, err
	}
	return op.n, nil
}

// execKeyed needs no lock of its own: st runs on the writer, holding the
// write lock from its first read (alone or in a group commit, after the
// statements before it in the same transaction).
func (d *sqliteDB) execKeyed(ctx context.Context, _ string, st statement) (int64, error) {
	return d.exec(ctx, st.q, st.args...)
}

func (d *sqliteDB) query(ctx context.Context, write bool, q string, args []any, each func(scan func(dest ...any) error) error) error {
	if write {
		op := &writeOp{q: q, args: args, returns: true}
		if err := d.write(ctx, op); err != nil {
			return err
		}
		for _, row := range op.rows {
			if err := each(scanValues(row)); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		rows *sql.Rows
		err  error
	)
	if s := d.stmt(ctx, q); s != nil {
		rows, err = s.QueryContext(ctx, args...)
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
	return rows.Close()
}

func (d *sqliteDB) close() error {
	d.stopOnce.Do(func() { close(d.stop) })
	<-d.stopped
	<-d.ckStopped
	d.stmts.Range(func(_, s any) bool {
		s.(*sql.Stmt).Close()
		return true
	})
	return errors.Join(d.ck.Close(), d.r.Close(), d.w.Close())
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
