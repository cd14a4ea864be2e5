package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgMigrationLock is the pg_advisory_xact_lock key that serializes migrations
// of replicas starting at once ("dingbot!" as an int64).
const pgMigrationLock int64 = 0x64696e67626f7421

// pgKeyedLock is the first key of the two-key pg_advisory_xact_lock that
// execKeyed takes ("dbot" as an int32); the second is a hash of its key.
// Two-key and one-key advisory locks never conflict with each other.
const pgKeyedLock int32 = 0x64626f74

// defaultPGConns is the connection limit unless the URL sets pool_max_conns.
const defaultPGConns = 8

// pgDB is the PostgreSQL engine (pgx v5).
//
// Atomicity comes from single conditional statements: Claim is INSERT … ON
// CONFLICT DO NOTHING (the primary key decides the one winner), Next is
// UPDATE … WHERE msg_id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING … (a
// row being leased by another transaction is skipped, never leased twice),
// and owner-checked updates re-evaluate their WHERE clause on the committed
// row version under READ COMMITTED, so only one of two racing updates matches.
// A statement whose outcome depends on other rows (AdmitSigned's count)
// runs after an advisory lock on its key instead (execKeyed).
//
// Every error it returns is free of the connection's secrets: pgx errors
// may quote the connection string.
type pgDB struct {
	pool    *pgxpool.Pool
	secrets []string // the connection string's secret values (connSecrets)
}

func openPostgres(ctx context.Context, databaseURL string) (Store, error) {
	secrets := connSecrets(databaseURL)
	fail := func(err error) (Store, error) {
		return nil, scrub(fmt.Errorf("store: postgres %s: %w", Redact(databaseURL), err), secrets)
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return fail(errors.New("invalid URL")) // url errors quote the input, password included
	}
	// pgx takes a URL only with a lower-case scheme (u.Scheme is lowered);
	// anything else it reads as key=value settings.
	conn := u.Scheme + databaseURL[len(u.Scheme):]
	cfg, err := pgxpool.ParseConfig(conn) // also reads pool_max_conns and the other pool_ settings
	if err != nil {
		return fail(parseError(err))
	}
	if u.Query().Get("pool_max_conns") == "" {
		cfg.MaxConns = defaultPGConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	d := &pgDB{pool: pool, secrets: secrets}
	if err := d.migrate(ctx); err != nil {
		pool.Close()
		return fail(err)
	}
	return &sqlStore{db: d, nextLock: " FOR UPDATE SKIP LOCKED", unrepliedFrom: "inbox", heldFrom: "inbox",
		clockQuery: `SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint`}, nil
}

// parseError drops the connection string pgx's parse errors quote
// ("cannot parse `…`: reason"), keeping the reason: pgx masks the
// passwords it recognizes there only on a best-effort basis.
func parseError(err error) error {
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return err
	}
	msg := pe.Error()
	if i := strings.LastIndex(msg, "`: "); i >= 0 {
		return fmt.Errorf("invalid connection string: %s", msg[i+len("`: "):])
	}
	return errors.New("invalid connection string")
}

func (d *pgDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := d.pool.Exec(ctx, q, args...)
	return tag.RowsAffected(), scrub(err, d.secrets)
}

func (d *pgDB) execIf(ctx context.Context, first statement, then []statement) (int64, error) {
	n, err := d.execIfTx(ctx, first, then)
	return n, scrub(err, d.secrets)
}

func (d *pgDB) execIfTx(ctx context.Context, first statement, then []statement) (int64, error) {
	if len(then) == 0 {
		tag, err := d.pool.Exec(ctx, first.q, first.args...)
		return tag.RowsAffected(), err
	}
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	tag, err := tx.Exec(ctx, first.q, first.args...)
	if err != nil || tag.RowsAffected() == 0 {
		return 0, err
	}
	for _, st := range then {
		if _, err := tx.Exec(ctx, st.q, st.args...); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// execKeyed sends the advisory lock and st as one batch: one round trip,
// and one implicit transaction (the batch ends with a single Sync, or is a
// single multi-statement query in the simple protocol), so the lock is held
// until st has committed and st's snapshot is taken after the lock was
// granted. If either fails, the transaction is rolled back.
func (d *pgDB) execKeyed(ctx context.Context, key string, st statement) (int64, error) {
	h := fnv.New32a()
	h.Write([]byte(key))
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, pgKeyedLock, int32(h.Sum32()))
	b.Queue(st.q, st.args...)
	br := d.pool.SendBatch(ctx, b)
	_, err := br.Exec()
	var tag pgconn.CommandTag
	if err == nil {
		tag, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, scrub(err, d.secrets)
	}
	return tag.RowsAffected(), nil
}

func (d *pgDB) query(ctx context.Context, _ bool, q string, args []any, each func(scan func(dest ...any) error) error) error {
	rows, err := d.pool.Query(ctx, q, args...)
	if err != nil {
		return scrub(err, d.secrets)
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return scrub(rows.Err(), d.secrets)
}

func (d *pgDB) close() error {
	d.pool.Close()
	return nil
}

// pgTx is a migration transaction holding the advisory lock.
type pgTx struct{ tx pgx.Tx }

func (t pgTx) exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.Exec(ctx, q, args...) // without args: simple protocol, several statements allowed
	return err
}

func (t pgTx) versions(ctx context.Context) (map[int]bool, error) {
	rows, err := t.tx.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var v int32
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out[int(v)] = true
	}
	return out, rows.Err()
}

// migrate applies the migrations in one transaction that first takes a
// transaction-scoped advisory lock, so replicas starting together migrate
// one after the other and the later ones find the work done.
func (d *pgDB) migrate(ctx context.Context) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgMigrationLock); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	if err := applyMigrations(ctx, pgTx{tx}, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
