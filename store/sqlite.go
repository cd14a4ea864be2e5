package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"runtime"
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

// errClosed is returned for writes after the database was closed.
var errClosed = errors.New("sqlite: database is closed")

// writeOp is one write statement handed to the writer.
type writeOp struct {
	q       string
	args    []any
	returns bool // a statement with RETURNING (or a read on the writer): collect its rows
	// then runs after the statement, in the same transaction, if it
	// affected a row (not with returns).
	then []statement

	// taken is 0 while queued, 1 once the writer runs it, 2 if its caller gave up first.
	taken atomic.Int32
	done  chan struct{} // closed when the results below are final

	n    int64   // rows affected (returns == false)
	rows [][]any // rows returned (returns == true)
	err  error
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
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
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
	return &sqlStore{db: d, unrepliedFrom: "inbox INDEXED BY inbox_unreplied"}, nil
}

// write hands op to the writer and waits for its result. A caller whose ctx
// ends while op is still queued gets ctx's error and op never runs; once the
// writer has taken op, the caller waits for the outcome (a statement takes
// microseconds), so it is never told "failed" about a write the writer then
// makes.
func (d *sqliteDB) write(ctx context.Context, op *writeOp) error {
	op.done = make(chan struct{})
	select {
	case d.writes <- op:
	case <-d.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-op.done:
		return op.err
	case <-ctx.Done():
		if op.taken.CompareAndSwap(0, 2) {
			return ctx.Err()
		}
		<-op.done
		return op.err
	}
}

// writeLoop is the writer: it owns conn and runs the writes queued on
// d.writes, those that queued up together in one transaction, until close.
func (d *sqliteDB) writeLoop(conn *sql.Conn) {
	defer close(d.stopped)
	stmts := make(map[string]*sql.Stmt)
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
		conn.Close()
	}()
	batch := make([]*writeOp, 0, maxBatch)
	for {
		select {
		case <-d.stop:
			return
		case op := <-d.writes:
			batch = append(batch[:0], op)
		}
		// Let goroutines that are about to write hand their writes over
		// too: under load this groups more statements into each commit; on
		// an idle bot there is nobody to wait for and it returns at once.
		runtime.Gosched()
	more:
		for len(batch) < maxBatch {
			select {
			case op := <-d.writes:
				batch = append(batch, op)
			default:
				break more
			}
		}
		d.runBatch(conn, stmts, batch)
		clear(batch)
	}
}

// runBatch runs the writes of batch whose callers still wait, all in one
// transaction, and tells each caller its own result.
func (d *sqliteDB) runBatch(conn *sql.Conn, stmts map[string]*sql.Stmt, batch []*writeOp) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	ops := batch[:0]
	for _, op := range batch {
		if op.taken.CompareAndSwap(0, 1) {
			ops = append(ops, op)
		}
	}
	defer func() {
		for _, op := range ops {
			close(op.done)
		}
	}()
	d.commits.Add(1)
	if len(ops) == 1 {
		runAlone(ctx, conn, stmts, ops[0])
		return
	}
	if len(ops) == 0 || d.runTogether(ctx, conn, stmts, ops) {
		return
	}
	for _, op := range ops {
		opCtx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		runAlone(opCtx, conn, stmts, op)
		cancel()
	}
}

// txControl runs BEGIN IMMEDIATE, COMMIT or ROLLBACK. They ignore the
// batch's deadline: the driver skips a statement whose context has ended
// and reports a finished one as failed if the context ends while it runs,
// which would leave a transaction open on the connection or turn a commit
// into an error for writes that are stored. BEGIN IMMEDIATE waits at most
// busy_timeout for another process's lock.
func txControl(conn *sql.Conn, q string) error {
	_, err := conn.ExecContext(context.Background(), q)
	return err
}

// runAlone runs op in a transaction of its own: the statement's own, or
// BEGIN … COMMIT around it and its then statements.
func runAlone(ctx context.Context, conn *sql.Conn, stmts map[string]*sql.Stmt, op *writeOp) {
	if len(op.then) == 0 {
		runWrite(ctx, conn, stmts, op)
		return
	}
	if err := txControl(conn, "BEGIN IMMEDIATE"); err != nil {
		op.err = err
		return
	}
	runWrite(ctx, conn, stmts, op)
	if op.err == nil {
		if op.err = txControl(conn, "COMMIT"); op.err == nil {
			return
		}
	}
	_ = txControl(conn, "ROLLBACK") // fails harmlessly if SQLite already rolled back
	op.n = 0
}

// runTogether runs ops in one transaction. It reports false, having rolled
// everything back, if the transaction could not begin, a statement failed or
// the commit failed.
func (d *sqliteDB) runTogether(ctx context.Context, conn *sql.Conn, stmts map[string]*sql.Stmt, ops []*writeOp) bool {
	if err := txControl(conn, "BEGIN IMMEDIATE"); err != nil {
		return false
	}
	failed := false
	for _, op := range ops {
		if runWrite(ctx, conn, stmts, op); op.err != nil {
			failed = true
			break
		}
	}
	if !failed {
		if err := txControl(conn, "COMMIT"); err == nil {
			d.grouped.Add(1)
			return true
		}
	}
	// A failed statement or commit: undo the whole batch (SQLite may already
	// have), then let the caller run each statement on its own.
	_ = txControl(conn, "ROLLBACK")
	d.unbatched.Add(1)
	for _, op := range ops {
		op.n, op.rows, op.err = 0, nil, nil
	}
	return false
}

// prepared returns the statement prepared for q on conn, or nil (the
// caller runs q unprepared) if it cannot be prepared.
func prepared(ctx context.Context, conn *sql.Conn, stmts map[string]*sql.Stmt, q string) *sql.Stmt {
	s := stmts[q]
	if s == nil && len(stmts) < maxStmts {
		if p, err := conn.PrepareContext(ctx, q); err == nil {
			s, stmts[q] = p, p
		}
	}
	return s
}

// execOn runs one statement without rows on conn.
func execOn(ctx context.Context, conn *sql.Conn, stmts map[string]*sql.Stmt, q string, args []any) (int64, error) {
	var (
		res sql.Result
		err error
	)
	if s := prepared(ctx, conn, stmts, q); s != nil {
		res, err = s.ExecContext(ctx, args...)
	} else {
		res, err = conn.ExecContext(ctx, q, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// runWrite runs op's statements on conn, inside the caller's transaction
// if it has then statements, and stores the result in op.
func runWrite(ctx context.Context, conn *sql.Conn, stmts map[string]*sql.Stmt, op *writeOp) {
	if !op.returns {
		op.n, op.err = execOn(ctx, conn, stmts, op.q, op.args)
		if op.err != nil || op.n == 0 {
			return
		}
		for _, st := range op.then {
			if _, op.err = execOn(ctx, conn, stmts, st.q, st.args); op.err != nil {
				return
			}
		}
		return
	}
	s := prepared(ctx, conn, stmts, op.q)
	var (
		rows *sql.Rows
		err  error
	)
	if s != nil {
		rows, err = s.QueryContext(ctx, op.args...)
	} else {
		rows, err = conn.QueryContext(ctx, op.q, op.args...)
	}
	if err != nil {
		op.err = err
		return
	}
	op.rows, op.err = collectRows(rows)
}

// collectRows reads every row as the driver's values; for a write with
// RETURNING, Close is what finishes the statement, so its error counts.
func collectRows(rows *sql.Rows) ([][]any, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}

// scanValues is a scan function over one collected row: it assigns the
// driver values (int64, float64, string, []byte, nil) to the destinations
// the store scans into.
func scanValues(vals []any) func(dest ...any) error {
	return func(dest ...any) error {
		if len(dest) != len(vals) {
			return fmt.Errorf("sqlite: scan: %d destinations for %d columns", len(dest), len(vals))
		}
		for i, v := range vals {
			if err := assignValue(dest[i], v); err != nil {
				return fmt.Errorf("sqlite: scan column %d: %w", i, err)
			}
		}
		return nil
	}
}

func assignValue(dest, v any) error {
	switch d := dest.(type) {
	case *any:
		*d = v
		return nil
	case *string:
		switch s := v.(type) {
		case string:
			*d = s
			return nil
		case []byte:
			*d = string(s)
			return nil
		case nil:
			*d = ""
			return nil
		}
	case *int64:
		switch n := v.(type) {
		case int64:
			*d = n
			return nil
		case nil:
			*d = 0
			return nil
		}
	case *int:
		if n, ok := v.(int64); ok {
			*d = int(n)
			return nil
		}
	case *[]byte:
		switch s := v.(type) {
		case []byte:
			*d = append([]byte(nil), s...)
			return nil
		case string:
			*d = []byte(s)
			return nil
		}
	}
	return fmt.Errorf("cannot store %T in %T", v, dest)
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
