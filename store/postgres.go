package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgMigrationLock is the pg_advisory_xact_lock key that serializes migrations
// of replicas starting at once ("dingbot!" as an int64).
const pgMigrationLock int64 = 0x64696e67626f7421

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
type pgDB struct {
	pool *pgxpool.Pool
}

func openPostgres(ctx context.Context, databaseURL string) (Store, error) {
	fail := func(err error) (Store, error) {
		return nil, fmt.Errorf("store: postgres %s: %w", Redact(databaseURL), err)
	}
	password := ""
	u, err := url.Parse(databaseURL)
	if err != nil {
		return fail(errors.New("invalid URL")) // url errors quote the input, password included
	}
	if u.User != nil {
		password, _ = u.User.Password()
	}
	q := u.Query()
	if p := q.Get("password"); p != "" {
		password = p
	}
	cfg, err := pgxpool.ParseConfig(databaseURL) // also reads pool_max_conns and the other pool_ settings
	if err != nil {
		return fail(scrub(err, password))
	}
	if q.Get("pool_max_conns") == "" {
		cfg.MaxConns = defaultPGConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fail(scrub(err, password))
	}
	d := &pgDB{pool: pool}
	if err := d.migrate(ctx); err != nil {
		pool.Close()
		return fail(scrub(err, password))
	}
	return &sqlStore{db: d, nextLock: " FOR UPDATE SKIP LOCKED", unrepliedFrom: "inbox"}, nil
}

func (d *pgDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := d.pool.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

func (d *pgDB) execIf(ctx context.Context, first statement, then []statement) (int64, error) {
	if len(then) == 0 {
		return d.exec(ctx, first.q, first.args...)
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

func (d *pgDB) query(ctx context.Context, _ bool, q string, args []any, each func(scan func(dest ...any) error) error) error {
	rows, err := d.pool.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
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
