package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migration is one schema step. Versions start at 1 and increase by one;
// a released migration is never edited, only followed by a new one.
type migration struct {
	version int
	name    string
	stmts   []string
}

func migrations() []migration {
	return []migration{{
		version: 1,
		name:    "initial schema",
		stmts: []string{
			`CREATE TABLE signing_keys (
				kid         TEXT    NOT NULL PRIMARY KEY,
				alg         TEXT    NOT NULL,
				private_key BLOB    NOT NULL,
				created_at  INTEGER NOT NULL,
				activate_at INTEGER NOT NULL,
				retire_at   INTEGER,
				remove_at   INTEGER
			) STRICT`,
			`CREATE TABLE audit_events (
				id      TEXT    NOT NULL PRIMARY KEY,
				time    INTEGER NOT NULL,
				dialect TEXT    NOT NULL,
				method  TEXT    NOT NULL,
				outcome TEXT    NOT NULL,
				reason  TEXT    NOT NULL,
				data    BLOB    NOT NULL
			) STRICT`,
			`CREATE INDEX audit_events_time_id ON audit_events (time, id)`,
			`CREATE TABLE config_docs (
				version    INTEGER NOT NULL PRIMARY KEY,
				doc        BLOB    NOT NULL,
				updated_at INTEGER NOT NULL
			) STRICT`,
		},
	}, {
		version: 2,
		name:    "signing key owners",
		stmts: []string{
			`ALTER TABLE signing_keys ADD COLUMN owner TEXT NOT NULL DEFAULT ''`,
		},
	}}
}

// migrate applies the migrations newer than the database's schema version,
// in order, each in its own transaction together with its bookkeeping row.
func migrate(ctx context.Context, db *sql.DB, migs []migration, now func() time.Time) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for i, m := range migs {
		if m.version != i+1 {
			return fmt.Errorf("sqlite: migrate: migration %d has version %d, want %d", i, m.version, i+1)
		}
	}
	var current int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("sqlite: migrate: read schema version: %w", err)
	}
	if current > len(migs) {
		return fmt.Errorf("sqlite: migrate: database schema version %d is newer than this keyless supports (%d); upgrade keyless", current, len(migs))
	}
	for _, m := range migs[current:] {
		if err := apply(ctx, db, m, now); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, m migration, now func() time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migration %d (%s): %w", m.version, m.name, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	// Re-read under the write lock: another process may have migrated
	// between our first read and this transaction.
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("sqlite: migration %d (%s): %w", m.version, m.name, err)
	}
	if current >= m.version {
		return nil
	}
	for _, q := range m.stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlite: migration %d (%s): %w", m.version, m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, toDB(now())); err != nil {
		return fmt.Errorf("sqlite: migration %d (%s): record: %w", m.version, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migration %d (%s): commit: %w", m.version, m.name, err)
	}
	return nil
}
