package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govlog/govlog/storage"
	"github.com/govlog/govlog/storage/sqlite"
	"github.com/govlog/govlog/storage/storagetest"
)

func TestAdmissionStore(t *testing.T) {
	tests := []struct {
		name string
		path func(t *testing.T) string
	}{
		{"file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "govlog.db") }},
		{"memory", func(*testing.T) string { return sqlite.Memory }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storagetest.TestAdmissionStore(t, func(t *testing.T) storage.AdmissionStore {
				db, err := sqlite.Open(t.Context(), tt.path(t))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return sqlite.NewAdmissionStore(db)
			})
		})
	}
}

func TestReopenKeepsCommittedData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "govlog.db")
	leaf := []byte("admitted before the restart")
	var h [32]byte
	h[0] = 1

	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	err = sqlite.NewAdmissionStore(db).Admit(t.Context(), "example.org/log", func(ctx context.Context, tx storage.AdmitTx) error {
		if err := tx.Put(ctx, "k", []byte("v")); err != nil {
			return err
		}
		return tx.AddToOutbox(ctx, h, leaf)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer db.Close()
	s := sqlite.NewAdmissionStore(db)
	err = s.Admit(t.Context(), "example.org/log", func(ctx context.Context, tx storage.AdmitTx) error {
		v, ok, err := tx.Get(ctx, "k")
		if err != nil {
			return err
		}
		if !ok || string(v) != "v" {
			t.Errorf("after reopening, Get(k) = %q, %v; want \"v\", true", v, ok)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	un, err := s.Unqueued(t.Context(), "example.org/log", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(un) != 1 || un[0].LeafHash != h || string(un[0].Leaf) != string(leaf) {
		t.Errorf("after reopening, Unqueued = %v; want the one admitted leaf", un)
	}
}

func TestSchemaVersionMismatchRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "govlog.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), "UPDATE govlog_schema SET version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = sqlite.Open(t.Context(), path)
	if err == nil {
		db.Close()
		t.Fatal("Open of a database at schema version 99 succeeded")
	}
	if !strings.Contains(err.Error(), "schema version 99") {
		t.Errorf("Open: %v; want an error naming schema version 99", err)
	}
}
