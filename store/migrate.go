package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one versioned schema file, migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// createMigrationsTable is run (idempotently) before the migrations, inside
// the same transaction and lock.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at BIGINT NOT NULL
)`

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	seen := map[int]string{}
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", base)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s have the same version", prev, base)
		}
		seen[v] = base
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrator is an open transaction of an engine, already holding the
// engine's migration lock.
type migrator interface {
	exec(ctx context.Context, q string, args ...any) error
	versions(ctx context.Context) (map[int]bool, error)
}

// applyMigrations runs the pending migrations in version order in tx and
// records each one in schema_migrations. The caller commits.
func applyMigrations(ctx context.Context, tx migrator, nowMS int64) error {
	all, err := migrations()
	if err != nil {
		return err
	}
	if err := tx.exec(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	done, err := tx.versions(ctx)
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	for _, m := range all {
		if done[m.version] {
			continue
		}
		if err := tx.exec(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if err := tx.exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, m.version, nowMS); err != nil {
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
	}
	return nil
}
