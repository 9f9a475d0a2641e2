package tokenstore

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one versioned schema step. Versions are applied in order,
// each once, recorded in schema_migrations, inside one transaction per
// Open that holds a lock: several replicas starting at once queue, the
// first applies what is missing, the others find it applied. A database
// whose schema is newer than this binary knows is refused.
type migration struct {
	version int
	name    string
	sqlite  func(ctx context.Context, tx *sql.Tx) error
	pg      string
}

func execAll(stmts ...string) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, st := range stmts {
			if _, err := tx.ExecContext(ctx, st); err != nil {
				return err
			}
		}
		return nil
	}
}

var migrations = []migration{
	{
		version: 1,
		name:    "grants, audit and key check",
		// IF NOT EXISTS and the column check: SQLite files written before
		// the schema was versioned already hold these tables, some
		// without the audit count.
		sqlite: func(ctx context.Context, tx *sql.Tx) error {
			if err := execAll(`
				CREATE TABLE IF NOT EXISTS meta (
					name  TEXT PRIMARY KEY,
					value BLOB NOT NULL
				)`, `
				CREATE TABLE IF NOT EXISTS grants (
					subject            TEXT PRIMARY KEY,
					refresh_token      BLOB NOT NULL,
					scopes             TEXT NOT NULL DEFAULT '',
					client_id          TEXT NOT NULL DEFAULT '',
					refresh_expires_at INTEGER NOT NULL DEFAULT 0,
					created_at         INTEGER NOT NULL,
					updated_at         INTEGER NOT NULL,
					generation         INTEGER NOT NULL DEFAULT 1
				)`, `
				CREATE TABLE IF NOT EXISTS audit (
					id      INTEGER PRIMARY KEY AUTOINCREMENT,
					time    INTEGER NOT NULL,
					subject TEXT NOT NULL,
					event   TEXT NOT NULL,
					detail  TEXT NOT NULL DEFAULT '',
					repeats INTEGER NOT NULL DEFAULT 1
				)`,
				`CREATE INDEX IF NOT EXISTS audit_subject_time ON audit(subject, time)`)(ctx, tx); err != nil {
				return err
			}
			var hasRepeats int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('audit') WHERE name = 'repeats'`).Scan(&hasRepeats); err != nil {
				return err
			}
			if hasRepeats == 0 {
				_, err := tx.ExecContext(ctx, `ALTER TABLE audit ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1`)
				return err
			}
			return nil
		},
		pg: `
			CREATE TABLE meta (
				name  TEXT PRIMARY KEY,
				value BYTEA NOT NULL
			);
			CREATE TABLE grants (
				subject            TEXT PRIMARY KEY,
				refresh_token      BYTEA NOT NULL,
				scopes             TEXT NOT NULL DEFAULT '',
				client_id          TEXT NOT NULL DEFAULT '',
				refresh_expires_at BIGINT NOT NULL DEFAULT 0,
				created_at         BIGINT NOT NULL,
				updated_at         BIGINT NOT NULL,
				generation         BIGINT NOT NULL DEFAULT 1
			);
			CREATE TABLE audit (
				id      BIGSERIAL PRIMARY KEY,
				time    BIGINT NOT NULL,
				subject TEXT NOT NULL,
				event   TEXT NOT NULL,
				detail  TEXT NOT NULL DEFAULT '',
				repeats INTEGER NOT NULL DEFAULT 1
			);
			CREATE INDEX audit_subject_time ON audit(subject, time);`,
	},
	{
		version: 2,
		name:    "pending consent states and refresh records",
		sqlite: execAll(`
			CREATE TABLE consent_states (
				id         INTEGER PRIMARY KEY AUTOINCREMENT,
				state_hash TEXT NOT NULL UNIQUE,
				subject    TEXT NOT NULL,
				verifier   BLOB NOT NULL,
				expires_at INTEGER NOT NULL,
				used       INTEGER NOT NULL DEFAULT 0
			)`,
			`CREATE INDEX consent_states_subject ON consent_states(subject, id)`,
			`CREATE INDEX consent_states_expiry ON consent_states(expires_at)`, `
			CREATE TABLE refresh_attempts (
				subject    TEXT PRIMARY KEY,
				generation INTEGER NOT NULL,
				started_at INTEGER NOT NULL,
				replica    TEXT NOT NULL DEFAULT ''
			)`),
		pg: `
			CREATE TABLE consent_states (
				id         BIGSERIAL PRIMARY KEY,
				state_hash TEXT NOT NULL UNIQUE,
				subject    TEXT NOT NULL,
				verifier   BYTEA NOT NULL,
				expires_at BIGINT NOT NULL,
				used       INTEGER NOT NULL DEFAULT 0
			);
			CREATE INDEX consent_states_subject ON consent_states(subject, id);
			CREATE INDEX consent_states_expiry ON consent_states(expires_at);
			CREATE TABLE refresh_attempts (
				subject    TEXT PRIMARY KEY,
				generation BIGINT NOT NULL,
				started_at BIGINT NOT NULL,
				replica    TEXT NOT NULL DEFAULT ''
			);`,
	},
}

// SchemaVersion is the schema version this binary writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrate brings the schema to SchemaVersion.
func (s *sqlStore) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("starting the schema migration", err)
	}
	defer rollback(tx)
	if s.pg {
		// Held until commit: a second replica's migration waits here and
		// then finds every version applied.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, lockClassMigration); err != nil {
			return s.wrap("locking the schema migration", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at BIGINT NOT NULL
		)`); err != nil {
		return s.wrap("creating schema_migrations", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return s.wrap("reading the schema version", err)
	}
	if current > SchemaVersion() {
		return fmt.Errorf("tokenstore: the %s database has schema version %d, newer than this binary's %d; run the newer binary (or restore a matching backup)", s.backend, current, SchemaVersion())
	}
	for _, m := range migrations[current:] {
		if s.pg {
			_, err = tx.ExecContext(ctx, m.pg)
		} else {
			err = m.sqlite(ctx, tx)
		}
		if err != nil {
			return s.wrap(fmt.Sprintf("migrating the schema to version %d (%s)", m.version, m.name), err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations(version, name, applied_at) VALUES(?, ?, ?)`),
			m.version, m.name, ms(s.now())); err != nil {
			return s.wrap("recording the schema version", err)
		}
	}
	return s.wrap("committing the schema migration", tx.Commit())
}
