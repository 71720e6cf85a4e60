package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/govlog/govlog/witness"
	"github.com/govlog/govlog/witness/sqlstore"
	"github.com/govlog/govlog/witness/witnesstest"
)

func TestConformance(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		witnesstest.TestStore(t, func(t *testing.T) witness.Store {
			s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("memory", func(t *testing.T) {
		witnesstest.TestStore(t, func(t *testing.T) witness.Store {
			s, err := sqlstore.Open(context.Background(), sqlstore.Memory)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, "a", func([]byte) ([]byte, error) { return []byte("kept"), nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddEvidence(ctx, witness.EvidenceRecord{ID: "x", Origin: "a", Kind: witness.KindSameSize, File: []byte("f")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if cp, ok, err := s.Latest(ctx, "a"); err != nil || !ok || string(cp) != "kept" {
		t.Errorf("after reopening, Latest = %q, %v, %v", cp, ok, err)
	}
	if ev, err := s.Evidence(ctx); err != nil || len(ev) != 1 {
		t.Errorf("after reopening, Evidence = %v, %v", ev, err)
	}
}

func TestSchemaVersionChecked(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE witness_schema SET version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := sqlstore.Open(ctx, path); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("Open of a future schema = %v, want a version error", err)
	}
}
