package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// db is what the shared implementation needs from an engine. Statements use
// PostgreSQL's $N placeholders; SQLite (modernc.org/sqlite) binds $N by
// ordinal too, so both engines run the same SQL text.
type db interface {
	// exec runs a statement and returns how many rows it affected.
	exec(ctx context.Context, q string, args ...any) (int64, error)
	// execIf runs first and, only if it affected a row, then in the same
	// transaction; it returns how many rows first affected. Nothing is
	// written unless every statement succeeds.
	execIf(ctx context.Context, first statement, then []statement) (int64, error)
	// execKeyed runs st, which reads rows and writes depending on them,
	// serialized with every other execKeyed of the same key, also in other
	// processes: PostgreSQL first takes a transaction-scoped advisory lock on
	// the key in the same transaction, so that st's snapshot (taken after
	// the lock, under READ COMMITTED) sees what the previous holder
	// committed; SQLite's write statements already hold the database's write
	// lock from their first read. It returns how many rows st affected.
	execKeyed(ctx context.Context, key string, st statement) (int64, error)
	// query runs a statement returning rows and calls each once per row with
	// that row's scan function. write is true for writes with RETURNING (SQLite
	// sends those to its writer connection, PostgreSQL ignores it).
	query(ctx context.Context, write bool, q string, args []any, each func(scan func(dest ...any) error) error) error
	// close releases the database.
	close() error
}

// statement is one SQL statement and its arguments.
type statement struct {
	q    string
	args []any
}

// sqlStore implements Store on top of a db. All state transitions are single
// conditional statements (UPDATE … WHERE <expected state> [RETURNING …]), so
// they are atomic in both engines without explicit transactions: in SQLite
// every write statement holds the database's single write lock; in
// PostgreSQL row locks plus READ COMMITTED re-evaluation of the WHERE clause
// make a concurrent second update see the first one's result.
//
// Its methods are in sqlinbox.go (Inbox), sqlaudit.go (Audit),
// sqlsignatures.go (Signatures), sqlpreviews.go (Previews) and
// sqlliveness.go (Liveness and Limits).
type sqlStore struct {
	db db
	// nextLock is appended to Next's inner SELECT: " FOR UPDATE SKIP LOCKED"
	// in PostgreSQL (so concurrent workers pick different rows instead of
	// queueing on the same one), "" in SQLite (writes are serialized anyway).
	nextLock string
	// unrepliedFrom is Unreplied's FROM: SQLite's planner, without table
	// statistics, would rather read inbox_next than the small partial index
	// made for the query, so it is named (INDEXED BY); PostgreSQL picks it.
	unrepliedFrom string
	// heldFrom is the table ReleaseDead updates: SQLite's planner, without
	// table statistics, would rather walk every received item through
	// inbox_next than look the dead owners' few items up in inbox_held, so
	// it is named (INDEXED BY); PostgreSQL picks it.
	heldFrom string
	// clockQuery is Clock's query, returning the database's time in unix
	// milliseconds (PostgreSQL); "" means the local clock (SQLite, used by
	// one process).
	clockQuery string
}

// ms converts a time to the stored unix milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts stored unix milliseconds back; 0 is the zero time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

func opErr(op string, err error) error {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrLeaseLost) {
		return err
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

func checkOwner(owner string) error {
	if owner == "" {
		return errors.New("empty owner")
	}
	return nil
}

// where builds a WHERE clause from conditions whose placeholders are
// numbered in order ("sender = $%d"), appending their arguments to args.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, arg any) {
	w.args = append(w.args, arg)
	w.conds = append(w.conds, fmt.Sprintf(cond, len(w.args)))
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// page appends LIMIT and OFFSET; a limit <= 0 means no limit.
func (w *where) page(limit, offset int) string {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	w.args = append(w.args, limit, max(offset, 0))
	return fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(w.args)-1, len(w.args))
}

// Close implements Store.
func (s *sqlStore) Close() error { return s.db.close() }
