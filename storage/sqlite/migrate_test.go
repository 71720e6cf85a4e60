package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/govlog/govlog/storage"
	"github.com/govlog/govlog/storage/sqlite"
)

// schemaV2 is govlog's part of a version 2 store: the outbox kept every
// admitted leaf.
const schemaV2 = `
CREATE TABLE govlog_schema (version INTEGER NOT NULL);
INSERT INTO govlog_schema (version) VALUES (2);
CREATE TABLE govlog_state (log TEXT NOT NULL, k TEXT NOT NULL, v BLOB NOT NULL, PRIMARY KEY (log, k)) WITHOUT ROWID;
CREATE TABLE govlog_outbox (
  log TEXT NOT NULL, leaf_hash BLOB NOT NULL, leaf BLOB NOT NULL, admitted_nanos INTEGER NOT NULL,
  queued INTEGER NOT NULL, leaf_index INTEGER NOT NULL,
  PRIMARY KEY (log, leaf_hash), UNIQUE (log, leaf_index));
CREATE INDEX outbox_unqueued ON govlog_outbox (log, queued, leaf_index);
INSERT INTO govlog_state VALUES ('example.org/log', 'k', 'v');
INSERT INTO govlog_outbox VALUES
  ('example.org/log', X'0000000000000000000000000000000000000000000000000000000000000000', 'leaf 0', 1000, 1, 0),
  ('example.org/log', X'0100000000000000000000000000000000000000000000000000000000000000', 'leaf 1', 2000, 1, 1),
  ('example.org/log', X'0200000000000000000000000000000000000000000000000000000000000000', 'leaf 2', 3000, 0, 2);
`

// TestMigrateFrom2: Open brings a version 2 store to version 3 with every
// admitted leaf, its index, admission time and queued mark, and the state.
func TestMigrateFrom2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "govlog.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(schemaV2); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db := open(t, path)
	var version int
	if err := db.QueryRow("SELECT version FROM govlog_schema").Scan(&version); err != nil || version != 3 {
		t.Fatalf("schema version %d, %v; want 3", version, err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('govlog_outbox_v2', 'outbox_unqueued')").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d tables or indexes of version 2 left, %v", n, err)
	}
	checkMigrated(t, sqlite.NewAdmissionStore(db, nil))
	// Opening again changes nothing.
	db.Close()
	checkMigrated(t, sqlite.NewAdmissionStore(open(t, path), nil))
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
	err := s.Admit(ctx, "example.org/log", func(ctx context.Context, tx storage.AdmitTx) error {
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
		if next, err := tx.NextIndex(ctx); err != nil || next != 3 {
			t.Errorf("NextIndex = %d, %v; want 3", next, err)
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
