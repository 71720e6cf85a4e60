package mysql_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/storage"
	"github.com/govlog/govlog/storage/mysql"
	"github.com/govlog/govlog/storage/mysql/mysqltest"
)

// TestFence: two processes' stores on one database; once the second takes
// the fence, none of the first's admissions or checkpoints commits, and
// no index is given twice however the two race.
func TestFence(t *testing.T) {
	ctx := t.Context()
	dsn := mysqltest.DSN(t)
	a := mysql.NewAdmissionStore(open(t, dsn))
	b := mysql.NewAdmissionStore(open(t, dsn))
	add := func(s storage.AdmissionStore, leaf string) error {
		return s.Admit(ctx, "l", func(ctx context.Context, tx storage.AdmitTx) error {
			return tx.AddToOutbox(ctx, govlog.LeafHash([]byte(leaf)), []byte(leaf))
		})
	}
	// Unfenced stores admit without a fence row (one process, as today).
	if err := add(a, "before"); err != nil {
		t.Fatal(err)
	}
	if err := a.TakeFence(ctx, 10, "a"); err != nil {
		t.Fatal(err)
	}
	if err := add(a, "a1"); err != nil {
		t.Fatalf("the holder's admission: %v", err)
	}
	if err := a.StoreCheckpoint(ctx, "o", 2, []byte("cp2")); err != nil {
		t.Fatal(err)
	}
	if err := b.TakeFence(ctx, 9, "b"); !errors.Is(err, storage.ErrFenced) {
		t.Fatalf("taking the fence with an older token: %v, want ErrFenced", err)
	}
	if err := b.TakeFence(ctx, 11, "b"); err != nil {
		t.Fatal(err)
	}
	if err := add(a, "a2"); !errors.Is(err, storage.ErrFenced) {
		t.Fatalf("the old holder's admission: %v, want ErrFenced", err)
	}
	if err := a.StoreCheckpoint(ctx, "o", 3, []byte("cp3")); !errors.Is(err, storage.ErrFenced) {
		t.Fatalf("the old holder's checkpoint: %v, want ErrFenced", err)
	}
	if err := add(b, "b1"); err != nil {
		t.Fatal(err)
	}
	if cp, ok, err := b.LatestCheckpoint(ctx, "o"); err != nil || !ok || string(cp) != "cp2" {
		t.Fatalf("LatestCheckpoint = %q, %v, %v; want cp2", cp, ok, err)
	}
	// A smaller size never replaces a larger one.
	if err := b.StoreCheckpoint(ctx, "o", 1, []byte("cp1")); err != nil {
		t.Fatal(err)
	}
	if err := b.StoreCheckpoint(ctx, "o", 4, []byte("cp4")); err != nil {
		t.Fatal(err)
	}
	if cp, _, _ := a.LatestCheckpoint(ctx, "o"); string(cp) != "cp4" {
		t.Fatalf("LatestCheckpoint = %q, want cp4", cp)
	}
	var found map[[32]byte]storage.OutboxEntry
	err := b.Read(ctx, "l", func(ctx context.Context, tx storage.ReadTx) (err error) {
		found, err = tx.LookupOutbox(ctx, [][32]byte{govlog.LeafHash([]byte("a2")), govlog.LeafHash([]byte("b1"))})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := found[govlog.LeafHash([]byte("a2"))]; ok {
		t.Error("the fenced admission was kept")
	}
	if e := found[govlog.LeafHash([]byte("b1"))]; e.Index != 2 {
		t.Errorf("b1 at index %d, want 2", e.Index)
	}
}

// TestFenceRace: one store admits as fast as it can while another takes
// the fence; every admission of the first that reports success committed
// before the take returned, and the indexes of both are one sequence.
func TestFenceRace(t *testing.T) {
	ctx := t.Context()
	dsn := mysqltest.DSN(t)
	a := mysql.NewAdmissionStore(open(t, dsn))
	b := mysql.NewAdmissionStore(open(t, dsn))
	if err := a.TakeFence(ctx, 1, "a"); err != nil {
		t.Fatal(err)
	}
	var taken atomic.Bool
	var lateCommits atomic.Int64
	var wg sync.WaitGroup
	var admitted atomic.Int64
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				leaf := fmt.Sprintf("a-%d-%d", w, i)
				// Read before the admission begins: a commit that started
				// after the take returned must fail.
				after := taken.Load()
				err := a.Admit(ctx, "race", func(ctx context.Context, tx storage.AdmitTx) error {
					return tx.AddToOutbox(ctx, govlog.LeafHash([]byte(leaf)), []byte(leaf))
				})
				switch {
				case err == nil && after:
					lateCommits.Add(1)
				case err == nil:
					admitted.Add(1)
				case errors.Is(err, storage.ErrFenced):
					return
				default:
					t.Error(err)
					return
				}
			}
		}()
	}
	for admitted.Load() < 50 {
		if t.Failed() {
			t.FailNow()
		}
		time.Sleep(time.Millisecond)
	}
	if err := b.TakeFence(ctx, 2, "b"); err != nil {
		t.Fatal(err)
	}
	taken.Store(true)
	wg.Wait()
	if n := lateCommits.Load(); n > 0 {
		t.Fatalf("%d admissions begun after the fence was taken committed", n)
	}
	// b goes on from the next index: no index given twice.
	leaf := []byte("b-first")
	if err := b.Admit(ctx, "race", func(ctx context.Context, tx storage.AdmitTx) error {
		next, err := tx.NextIndex(ctx)
		if err != nil {
			return err
		}
		if next != uint64(admitted.Load()) {
			return fmt.Errorf("next index %d, want %d (one per admission that reported success)", next, admitted.Load())
		}
		return tx.AddToOutbox(ctx, govlog.LeafHash(leaf), leaf)
	}); err != nil {
		t.Fatal(err)
	}
}
