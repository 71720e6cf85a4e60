package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// TestPanickingUpdate: an fn that panics on the committer's goroutine fails
// its own Update, not the process nor the updates after it.
func TestPanickingUpdate(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(ctx, "a", func([]byte) ([]byte, error) { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("Update with a panicking fn = %v, want an error", err)
	}
	if err := s.Update(ctx, "a", func([]byte) ([]byte, error) { return []byte("ok"), nil }); err != nil {
		t.Fatalf("the next Update: %v", err)
	}
}

// TestCloseWhileUpdating: Close with updates queued and in flight returns,
// and every Update returns too: committed, or ErrClosed.
func TestCloseWhileUpdating(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var committed, closed atomic.Int64
	for g := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				err := s.Update(ctx, fmt.Sprintf("log%d", g), func([]byte) ([]byte, error) { return []byte(strconv.Itoa(i)), nil })
				switch {
				case err == nil:
					committed.Add(1)
				case errors.Is(err, sqlstore.ErrClosed):
					closed.Add(1)
					return
				default:
					t.Errorf("Update during Close: %v", err)
					return
				}
			}
		})
	}
	for committed.Load() < 100 {
		time.Sleep(time.Millisecond)
	}
	done := make(chan struct{})
	go func() { s.Close(); wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close or an Update hung")
	}
	if closed.Load() != 16 {
		t.Errorf("%d of 16 writers saw ErrClosed", closed.Load())
	}
}
