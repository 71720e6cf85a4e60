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
	storagetest.TestAdmissionStore(t, func(t *testing.T) storage.AdmissionStore {
		return openStore(t, filepath.Join(t.TempDir(), "govlog.db"))
	})
}

// openStore opens the database at path and its reader, as cmd/govlog
// does, and returns their admission store.
func openStore(t *testing.T, path string) storage.AdmissionStore {
	t.Helper()
	db := open(t, path)
	reader, err := sqlite.OpenReader(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Close() })
	return sqlite.NewAdmissionStore(db, reader)
}

// TestWithoutReader: an in-memory database has no reader, and its store
// reads on its one connection: what admissions committed, with admissions
// after the read ends.
func TestWithoutReader(t *testing.T) {
	if _, err := sqlite.OpenReader(t.Context(), sqlite.Memory); err == nil {
		t.Error("OpenReader of an in-memory database succeeded")
	}
	db, err := sqlite.Open(t.Context(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := sqlite.NewAdmissionStore(db, nil)
	for _, v := range []string{"v1", "v2"} {
		err := s.Admit(t.Context(), "example.org/log", func(ctx context.Context, tx storage.AdmitTx) error {
			return tx.Put(ctx, "k", []byte(v))
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Read(t.Context(), "example.org/log", func(ctx context.Context, tx storage.ReadTx) error {
			got, ok, err := tx.Get(ctx, "k")
			if err != nil {
				return err
			}
			if !ok || string(got) != v {
				t.Errorf("Read: Get(k) = %q, %v; want %q", got, ok, v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpenReader: the reader reads what Open's connection commits, after
// it opened too, and refuses to write; it opens only a database Open has
// made.
func TestOpenReader(t *testing.T) {
	dir := t.TempDir()
	if r, err := sqlite.OpenReader(t.Context(), filepath.Join(dir, "missing.db")); err == nil {
		r.Close()
		t.Error("OpenReader of a missing file succeeded")
	}
	path := filepath.Join(dir, "govlog.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reader, err := sqlite.OpenReader(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if _, err := db.ExecContext(t.Context(), "INSERT INTO govlog_state (log, k, v) VALUES ('l', 'k', x'01')"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM govlog_state").Scan(&n); err != nil || n != 1 {
		t.Errorf("reader sees %d rows, %v; want the 1 committed", n, err)
	}
	if _, err := reader.ExecContext(t.Context(), "DELETE FROM govlog_state"); err == nil {
		t.Error("a write through the reader succeeded")
	}
	if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM govlog_state").Scan(&n); err != nil || n != 1 {
		t.Errorf("after a write through the reader, %d rows, %v; want 1", n, err)
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
	err = sqlite.NewAdmissionStore(db, nil).Admit(t.Context(), "example.org/log", func(ctx context.Context, tx storage.AdmitTx) error {
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
	s := sqlite.NewAdmissionStore(db, nil)
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
