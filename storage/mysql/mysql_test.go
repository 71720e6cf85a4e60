package mysql_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/google/trillian"
	tstorage "github.com/google/trillian/storage"
	"github.com/google/trillian/types"
	"github.com/transparency-dev/merkle/rfc6962"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/govlog/govlog/storage"
	"github.com/govlog/govlog/storage/mysql"
	"github.com/govlog/govlog/storage/mysql/mysqltest"
	"github.com/govlog/govlog/storage/storagetest"
)

func TestAdmissionStore(t *testing.T) {
	storagetest.TestAdmissionStore(t, func(t *testing.T) storage.AdmissionStore {
		return mysql.NewAdmissionStore(open(t, mysqltest.DSN(t)))
	})
}

// TestAdmissionStoreReadCommitted: the suite passes with a DSN that asks
// for READ COMMITTED, under which a transaction's reads are not one
// snapshot and a locking read of a missing key locks nothing: Open sets
// REPEATABLE READ on every connection.
func TestAdmissionStoreReadCommitted(t *testing.T) {
	storagetest.TestAdmissionStore(t, func(t *testing.T) storage.AdmissionStore {
		dsn := mysqltest.DSN(t)
		db := open(t, dsn)
		// MariaDB before 11.1 names the variable tx_isolation; MySQL 8
		// only transaction_isolation.
		variable := "transaction_isolation"
		var name, value string
		if err := db.QueryRowContext(t.Context(), "SHOW VARIABLES LIKE 'transaction_isolation'").Scan(&name, &value); errors.Is(err, sql.ErrNoRows) {
			variable = "tx_isolation"
		} else if err != nil {
			t.Fatal(err)
		}
		cfg, err := gomysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params[variable] = "'READ-COMMITTED'"
		// Open overrides what the DSN asks for.
		db = open(t, cfg.FormatDSN())
		if err := db.QueryRowContext(t.Context(), "SELECT @@"+variable).Scan(&value); err != nil || value != "REPEATABLE-READ" {
			t.Fatalf("session isolation %q, %v; want REPEATABLE-READ", value, err)
		}
		return mysql.NewAdmissionStore(db)
	})
}

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := mysql.Open(t.Context(), dsn, mysql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenCreatesSchema(t *testing.T) {
	dsn := mysqltest.DSN(t)
	db := open(t, dsn)

	rows, err := db.QueryContext(t.Context(), "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Trees", "TreeControl", "Subtree", "TreeHead", "LeafData", "SequencedLeafData", "Unsequenced",
		"govlog_schema", "govlog_state", "govlog_leaves", "govlog_outbox",
	} {
		if !slices.Contains(tables, want) {
			t.Errorf("table %s missing after Open; have %v", want, tables)
		}
	}
	// Every table has a primary key, as Galera's REQUIRED_PRIMARY_KEY
	// mode requires.
	for _, table := range tables {
		if !hasPrimaryKey(t, db, table) {
			t.Errorf("table %s has no primary key", table)
		}
	}

	// Trillian's own code can use its tables: create a tree, initialise it
	// and queue a leaf, as the log server does.
	ctx := t.Context()
	admin, logs := mysql.TrillianStorage(db)
	tree, err := tstorage.CreateTree(ctx, admin, &trillian.Tree{
		TreeState:       trillian.TreeState_ACTIVE,
		TreeType:        trillian.TreeType_LOG,
		DisplayName:     "govlog test",
		MaxRootDuration: durationpb.New(time.Hour),
	})
	if err != nil {
		t.Fatalf("Trillian couldn't create a tree: %v", err)
	}
	err = logs.ReadWriteTransaction(ctx, tree, func(ctx context.Context, tx tstorage.LogTreeTX) error {
		root, err := (&types.LogRootV1{RootHash: rfc6962.DefaultHasher.EmptyRoot(), TimestampNanos: uint64(time.Now().UnixNano())}).MarshalBinary()
		if err != nil {
			return err
		}
		return tx.StoreSignedLogRoot(ctx, &trillian.SignedLogRoot{LogRoot: root})
	})
	if err != nil {
		t.Fatalf("Trillian couldn't initialise the tree: %v", err)
	}
	leaf := []byte("a leaf")
	leafHash := rfc6962.DefaultHasher.HashLeaf(leaf)
	queued, err := logs.QueueLeaves(ctx, tree, []*trillian.LogLeaf{{LeafValue: leaf, LeafIdentityHash: leafHash, MerkleLeafHash: leafHash}}, time.Now())
	if err != nil || len(queued) != 1 || queued[0].Status != nil {
		t.Fatalf("Trillian couldn't queue a leaf: %v, %v", queued, err)
	}
	err = logs.ReadWriteTransaction(ctx, tree, func(ctx context.Context, tx tstorage.LogTreeTX) error {
		leaves, err := tx.DequeueLeaves(ctx, 10, time.Now().Add(time.Minute))
		if len(leaves) != 1 {
			t.Errorf("Trillian dequeued %d leaves; want 1", len(leaves))
		}
		return err
	})
	if err != nil {
		t.Fatalf("Trillian couldn't dequeue: %v", err)
	}

	// Opening again leaves the schema, and what is in it, as it was.
	db2 := open(t, dsn)
	admin2, _ := mysql.TrillianStorage(db2)
	if _, err := tstorage.GetTree(ctx, admin2, tree.TreeId); err != nil {
		t.Errorf("tree created before reopening: %v", err)
	}
	var versions int
	if err := db2.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM govlog_schema").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != 1 {
		t.Errorf("govlog_schema has %d rows after opening twice; want 1", versions)
	}
}

func TestOpenIsIdempotent(t *testing.T) {
	dsn := mysqltest.DSN(t)
	s := mysql.NewAdmissionStore(open(t, dsn))
	err := s.Admit(t.Context(), "example.org/log", func(ctx context.Context, tx storage.AdmitTx) error {
		return tx.Put(ctx, "k", []byte("v"))
	})
	if err != nil {
		t.Fatal(err)
	}
	s = mysql.NewAdmissionStore(open(t, dsn))
	err = s.Admit(t.Context(), "example.org/log", func(ctx context.Context, tx storage.AdmitTx) error {
		v, ok, err := tx.Get(ctx, "k")
		if !ok || string(v) != "v" {
			t.Errorf("after a second Open, Get(k) = %q, %v; want \"v\", true", v, ok)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSchemaVersionMismatchRefused(t *testing.T) {
	dsn := mysqltest.DSN(t)
	db := open(t, dsn)
	if _, err := db.ExecContext(t.Context(), "UPDATE govlog_schema SET version = 99"); err != nil {
		t.Fatal(err)
	}
	db2, err := mysql.Open(t.Context(), dsn, mysql.Options{})
	if err == nil {
		db2.Close()
		t.Fatal("Open of a database at schema version 99 succeeded")
	}
	if !strings.Contains(err.Error(), "schema version 99") {
		t.Errorf("Open: %v; want an error naming schema version 99", err)
	}
}

func hasPrimaryKey(t *testing.T, db *sql.DB, table string) bool {
	t.Helper()
	var n int
	err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_TYPE = 'PRIMARY KEY'`, table).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}
