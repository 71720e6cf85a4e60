package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrateFrom2 brings a version 2 store to version 3 in one transaction:
// the outbox of version 2 kept every admitted leaf's bytes for good, a copy
// of what Trillian keeps; version 3 keeps each leaf's hash, index and
// admission time in govlog_leaves, and its bytes in the outbox only until a
// published checkpoint includes it. Every outbox row is copied to both
// tables (the integrated ones leave the outbox at the next clean-up), so
// nothing admitted is lost, and a crash leaves version 2 as it was. A store
// of another version, or a new one, is left to the version check.
func migrateFrom2(ctx context.Context, db *sql.DB) error {
	var version int
	if err := db.QueryRowContext(ctx, "SELECT version FROM govlog_schema").Scan(&version); err != nil || version != 2 {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		return fmt.Errorf("couldn't begin the migration to schema version 3: %w", err)
	}
	defer tx.Rollback()
	// Read again under the write lock: another process may have migrated.
	if err := tx.QueryRowContext(ctx, "SELECT version FROM govlog_schema").Scan(&version); err != nil {
		return fmt.Errorf("couldn't read schema version: %w", err)
	}
	if version != 2 {
		return nil
	}
	steps := []string{
		// Index names are the database's, not the table's: the old one goes
		// before its table is renamed.
		"DROP INDEX IF EXISTS outbox_unqueued",
		"ALTER TABLE govlog_outbox RENAME TO govlog_outbox_v2",
		schema,
		`INSERT INTO govlog_leaves (log, leaf_hash, leaf_index, admitted_nanos)
			SELECT log, leaf_hash, leaf_index, admitted_nanos FROM govlog_outbox_v2`,
		`INSERT INTO govlog_outbox (log, leaf_index, leaf_hash, leaf, admitted_nanos, queued)
			SELECT log, leaf_index, leaf_hash, leaf, admitted_nanos, queued FROM govlog_outbox_v2`,
		"DROP TABLE govlog_outbox_v2",
		"UPDATE govlog_schema SET version = 3",
	}
	for _, q := range steps {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("couldn't migrate to schema version 3: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("couldn't migrate to schema version 3: %w", err)
	}
	return nil
}
