package mysql

import (
	"context"
	"database/sql"
	"fmt"
)

// migrateFrom2 brings a version 2 database to version 3: the outbox of
// version 2 kept every admitted leaf's bytes for good, a copy of what
// Trillian keeps; version 3 keeps each leaf's hash, index and admission
// time in govlog_leaves, and its bytes in the outbox only until a published
// checkpoint includes it. MySQL commits each schema change on its own, so
// every step can be run again after a crash, and the rows move in one
// transaction with the version change:
//
//  1. the old outbox is renamed govlog_outbox_v2 (unless it was);
//  2. the new tables are created (IF NOT EXISTS);
//  3. in one transaction, every old row is copied to both (the integrated
//     ones leave the outbox at the next clean-up) and the version set to 3;
//  4. the old table is dropped, also at a later start if a crash came
//     between 3 and 4.
//
// A database of another version, or a new one, is left to the version
// check.
func migrateFrom2(ctx context.Context, db *sql.DB) error {
	var version int
	if err := db.QueryRowContext(ctx, "SELECT version FROM govlog_schema").Scan(&version); err != nil {
		return nil // a new database
	}
	old, err := tableExists(ctx, db, "govlog_outbox_v2")
	if err != nil {
		return err
	}
	switch {
	case version == 3 && old:
		return dropOldOutbox(ctx, db)
	case version != 2:
		return nil
	}
	if !old {
		if _, err := db.ExecContext(ctx, "RENAME TABLE govlog_outbox TO govlog_outbox_v2"); err != nil {
			return fmt.Errorf("couldn't migrate to schema version 3: %w", err)
		}
	}
	if _, err := db.ExecContext(ctx, govlogSchema); err != nil {
		return fmt.Errorf("couldn't migrate to schema version 3: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("couldn't migrate to schema version 3: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		`INSERT IGNORE INTO govlog_leaves (log, leaf_hash, leaf_index, admitted_nanos)
			SELECT log, leaf_hash, leaf_index, admitted_nanos FROM govlog_outbox_v2`,
		`INSERT IGNORE INTO govlog_outbox (log, leaf_index, leaf_hash, leaf, admitted_nanos, queued)
			SELECT log, leaf_index, leaf_hash, leaf, admitted_nanos, queued FROM govlog_outbox_v2`,
		"UPDATE govlog_schema SET version = 3 WHERE version = 2",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("couldn't migrate to schema version 3: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("couldn't migrate to schema version 3: %w", err)
	}
	return dropOldOutbox(ctx, db)
}

func dropOldOutbox(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS govlog_outbox_v2"); err != nil {
		return fmt.Errorf("couldn't drop the version 2 outbox, migrated: %w", err)
	}
	return nil
}

func tableExists(ctx context.Context, db *sql.DB, name string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", name).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("couldn't read the schema: %w", err)
	}
	return n > 0, nil
}
