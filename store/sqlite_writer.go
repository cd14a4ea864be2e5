package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
)

// This file is SQLite's writer: the goroutine that owns the write
// connection and commits the writes queued up together in one transaction
// (group commit, see sqliteDB).

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
