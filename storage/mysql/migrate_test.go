package mysql_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/govlog/govlog/storage"
	"github.com/govlog/govlog/storage/mysql"
	"github.com/govlog/govlog/storage/mysql/mysqltest"
)

// schemaV2 is govlog's part of a version 2 database: the outbox kept every
// admitted leaf.
const schemaV2 = `
CREATE TABLE govlog_schema (version INT NOT NULL);
INSERT INTO govlog_schema (version) VALUES (2);
CREATE TABLE govlog_state (log VARBINARY(64) NOT NULL, k VARBINARY(512) NOT NULL, v MEDIUMBLOB NOT NULL, PRIMARY KEY (log, k));
CREATE TABLE govlog_outbox (
  log VARBINARY(64) NOT NULL, leaf_hash BINARY(32) NOT NULL, leaf MEDIUMBLOB NOT NULL, admitted_nanos BIGINT NOT NULL,
  queued BOOLEAN NOT NULL, leaf_index BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (log, leaf_hash), UNIQUE KEY outbox_index (log, leaf_index), KEY outbox_unqueued (log, queued, leaf_index));
INSERT INTO govlog_state VALUES ('example.org/log', 'k', 'v');
INSERT INTO govlog_outbox VALUES
  ('example.org/log', X'0000000000000000000000000000000000000000000000000000000000000000', 'leaf 0', 1000, 1, 0),
  ('example.org/log', X'0100000000000000000000000000000000000000000000000000000000000000', 'leaf 1', 2000, 1, 1),
  ('example.org/log', X'0200000000000000000000000000000000000000000000000000000000000000', 'leaf 2', 3000, 0, 2);
`

// TestMigrateFrom2: Open brings a version 2 database to version 3 with
// every admitted leaf, its index, admission time and queued mark, and the
// state; also when a crash stopped an earlier migration after the old
// outbox was renamed, or after the rows were moved but before the old
// table was dropped.
func TestMigrateFrom2(t *testing.T) {
	for _, tt := range []struct {
		name string
		// crashed is what an interrupted earlier migration did.
		crashed string
	}{
		{name: "version 2"},
		{name: "renamed, not moved", crashed: "RENAME TABLE govlog_outbox TO govlog_outbox_v2"},
		{name: "moved, not dropped", crashed: `RENAME TABLE govlog_outbox TO govlog_outbox_v2;
			` + schemaV3(t) + `
			INSERT INTO govlog_leaves SELECT log, leaf_hash, leaf_index, admitted_nanos FROM govlog_outbox_v2;
			INSERT INTO govlog_outbox SELECT log, leaf_index, leaf_hash, leaf, admitted_nanos, queued FROM govlog_outbox_v2;
			UPDATE govlog_schema SET version = 3`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dsn := mysqltest.DSN(t)
			cfg, err := gomysql.ParseDSN(dsn)
			if err != nil {
				t.Fatal(err)
			}
			cfg.MultiStatements = true
			old, err := sql.Open("mysql", cfg.FormatDSN())
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()
			if _, err := old.Exec(schemaV2); err != nil {
				t.Fatal(err)
			}
			if tt.crashed != "" {
				if _, err := old.Exec(tt.crashed); err != nil {
					t.Fatal(err)
				}
			}
			db := open(t, dsn)
			var version, n int
			if err := db.QueryRow("SELECT version FROM govlog_schema").Scan(&version); err != nil || version != 3 {
				t.Fatalf("schema version %d, %v; want 3", version, err)
			}
			if !hasPrimaryKey(t, db, "govlog_schema") {
				t.Error("govlog_schema of version 2 has no primary key after Open")
			}
			if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'govlog_outbox_v2'").Scan(&n); err != nil || n != 0 {
				t.Errorf("the version 2 outbox is still there (%v)", err)
			}
			checkMigrated(t, mysql.NewAdmissionStore(db))
			checkMigrated(t, mysql.NewAdmissionStore(open(t, dsn)))
		})
	}
}

// schemaV3 is schema.sql, whose tables a migration creates.
func schemaV3(t *testing.T) string {
	b, err := os.ReadFile("schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkMigrated checks a store migrated from schemaV2.
func checkMigrated(t *testing.T, s storage.AdmissionStore) {
	t.Helper()
	ctx := t.Context()
	var hashes [][32]byte
	for i := range 3 {
		var h [32]byte
		h[0] = byte(i)
		hashes = append(hashes, h)
	}
	err := s.Read(ctx, "example.org/log", func(ctx context.Context, tx storage.ReadTx) error {
		if v, ok, err := tx.Get(ctx, "k"); err != nil || !ok || string(v) != "v" {
			t.Errorf("Get(k) = %q, %v, %v; want v", v, ok, err)
		}
		found, err := tx.LookupOutbox(ctx, hashes)
		if err != nil {
			return err
		}
		for i, h := range hashes {
			e := found[h]
			if e.Index != uint64(i) || !bytes.Equal(e.Leaf, []byte{'l', 'e', 'a', 'f', ' ', byte('0' + i)}) || e.AdmittedAt.UnixNano() != int64(1000*(i+1)) {
				t.Errorf("leaf %d: %+v", i, e)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	un, err := s.Unqueued(ctx, "example.org/log", 10)
	if err != nil || len(un) != 1 || un[0].Index != 2 {
		t.Errorf("Unqueued = %+v, %v; want leaf 2", un, err)
	}
}
