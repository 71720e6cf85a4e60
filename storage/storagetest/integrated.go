package storagetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/govlog/govlog/storage"
)

// testRemoveIntegrated: RemoveIntegrated removes only the leaves below the
// size that are marked queued, never the newest; the entries stay visible
// to LookupOutbox (without their bytes) with their index and admission
// time, a removed hash is still a duplicate, and the next index counts on.
func testRemoveIntegrated(t *testing.T, s storage.AdmissionStore) {
	leaves := makeLeaves("integrated", 10)
	for _, l := range leaves {
		admit(t, s, testLog, addLeaves([][]byte{l}))
	}
	hashes := make([][32]byte, len(leaves))
	for i, l := range leaves {
		hashes[i] = leafHash(l)
	}
	before := lookup(t, s, testLog, hashes...)
	markQueued(t, s, testLog, hashes[0], hashes[1], hashes[2], hashes[4], hashes[5], hashes[6], hashes[7])

	steps := []struct {
		name string
		mark []int // marked queued before the step
		size uint64
		// removed are the leaves without their bytes after the step.
		removed []int
	}{
		{name: "nothing integrated", size: 0},
		{name: "below size, queued", size: 6, removed: []int{0, 1, 2, 4, 5}},
		{name: "same size again", size: 6, removed: []int{0, 1, 2, 4, 5}},
		{name: "an unqueued leaf waits", size: 8, removed: []int{0, 1, 2, 4, 5, 6, 7}},
		{name: "once queued, it goes", mark: []int{3}, size: 8, removed: []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{name: "the newest stays", mark: []int{8, 9}, size: 100, removed: []int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
	}
	for _, st := range steps {
		var mark [][32]byte
		for _, i := range st.mark {
			mark = append(mark, hashes[i])
		}
		if len(mark) > 0 {
			markQueued(t, s, testLog, mark...)
		}
		wasRemoved := removedOf(t, s, testLog, hashes)
		n, err := s.RemoveIntegrated(t.Context(), testLog, st.size)
		if err != nil {
			t.Fatalf("%s: RemoveIntegrated(%d): %v", st.name, st.size, err)
		}
		if want := len(st.removed) - len(wasRemoved); n != want {
			t.Errorf("%s: RemoveIntegrated(%d) = %d; want %d", st.name, st.size, n, want)
		}
		if got := removedOf(t, s, testLog, hashes); !slices.Equal(got, st.removed) {
			t.Errorf("%s: leaves without bytes %v; want %v", st.name, got, st.removed)
		}
	}

	after := lookup(t, s, testLog, hashes...)
	for i, h := range hashes {
		b, a := before[h], after[h]
		if a.LeafHash != h || a.Index != b.Index || !a.AdmittedAt.Equal(b.AdmittedAt) {
			t.Errorf("leaf %d after removal: %x at %d, %v; want %x at %d, %v", i, a.LeafHash, a.Index, a.AdmittedAt, h, b.Index, b.AdmittedAt)
		}
	}
	// A removed leaf is a duplicate still; the next leaf goes after the
	// newest; and Unqueued knows only the outbox.
	err := s.Admit(t.Context(), testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		return tx.AddToOutbox(ctx, hashes[0], leaves[0])
	})
	if err == nil {
		t.Error("AddToOutbox of a removed leaf's hash succeeded")
	}
	next := []byte("after the removals")
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		if n, err := tx.NextIndex(ctx); err != nil || n != 10 {
			t.Errorf("NextIndex after removals = %d, %v; want 10", n, err)
		}
		if err := tx.AddToOutbox(ctx, leafHash(next), next); err != nil {
			return err
		}
		found, err := tx.LookupOutbox(ctx, [][32]byte{hashes[0], leafHash(next)})
		if err != nil {
			return err
		}
		if e := found[hashes[0]]; e.Index != 0 || e.Leaf != nil {
			t.Errorf("LookupOutbox in an admission: removed leaf at %d with %q; want 0, no bytes", e.Index, e.Leaf)
		}
		if e := found[leafHash(next)]; e.Index != 10 || !bytes.Equal(e.Leaf, next) {
			t.Errorf("LookupOutbox in an admission: new leaf at %d with %q; want 10, %q", e.Index, e.Leaf, next)
		}
		return nil
	})
	wantUnqueued(t, s, testLog, 10, next)

	// Nothing to remove in an empty or unknown log.
	if n, err := s.RemoveIntegrated(t.Context(), "example.org/empty", 100); n != 0 || err != nil {
		t.Errorf("RemoveIntegrated of an empty log = %d, %v", n, err)
	}
}

// removedOf returns the positions in hashes of the entries LookupOutbox
// finds without their bytes.
func removedOf(t *testing.T, s storage.AdmissionStore, log string, hashes [][32]byte) []int {
	t.Helper()
	found := lookup(t, s, log, hashes...)
	var out []int
	for i, h := range hashes {
		e, ok := found[h]
		if !ok {
			t.Fatalf("LookupOutbox lost leaf %d", i)
		}
		if e.Leaf == nil {
			out = append(out, i)
		}
	}
	return out
}

// testRemoveIntegratedMany removes more leaves than one statement holds,
// in one log of two.
func testRemoveIntegratedMany(t *testing.T, s storage.AdmissionStore) {
	const other = "other.example/log"
	leaves := makeLeaves("many integrated", 1200)
	admit(t, s, testLog, addLeaves(leaves))
	admit(t, s, other, addLeaves(leaves[:3]))
	var all [][32]byte
	for _, l := range leaves {
		all = append(all, leafHash(l))
	}
	markQueued(t, s, testLog, all...)
	markQueued(t, s, other, all[:3]...)
	n, err := s.RemoveIntegrated(t.Context(), testLog, 1200)
	if err != nil || n != 1199 {
		t.Fatalf("RemoveIntegrated = %d, %v; want 1199 (all but the newest)", n, err)
	}
	if got := removedOf(t, s, testLog, all); len(got) != 1199 || slices.Contains(got, 1199) {
		t.Errorf("%d leaves without bytes (the newest among them: %v); want 1199, not the newest", len(got), slices.Contains(got, 1199))
	}
	if got := removedOf(t, s, other, all[:3]); len(got) != 0 {
		t.Errorf("the other log's leaves %v lost their bytes", got)
	}
}

// testRemoveIntegratedWhileAdmitting removes from two goroutines while
// others admit, one leaf per transaction: no admission fails or waits for
// good, indexes stay 0, 1, 2, ... with no gap or repeat, and every leaf
// stays found.
func testRemoveIntegratedWhileAdmitting(t *testing.T, s storage.AdmissionStore) {
	ctx := t.Context()
	const writers, perWriter = 4, 25
	stop := make(chan struct{})
	var removers sync.WaitGroup
	errs := make(chan error, writers*perWriter+2)
	for range 2 {
		removers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				un, err := s.Unqueued(ctx, testLog, 1000)
				if err != nil {
					errs <- err
					return
				}
				var indexes []uint64
				for _, e := range un {
					indexes = append(indexes, e.Index)
				}
				if err := s.MarkQueued(ctx, testLog, indexes); err != nil {
					errs <- err
					return
				}
				if _, err := s.RemoveIntegrated(ctx, testLog, 1<<40); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var writersWG sync.WaitGroup
	var all [][32]byte
	var mu sync.Mutex
	for w := range writers {
		writersWG.Go(func() {
			for i := range perWriter {
				leaf := fmt.Appendf(nil, "admitted while removing, %d/%d", w, i)
				if err := s.Admit(ctx, testLog, addLeaves([][]byte{leaf})); err != nil {
					errs <- fmt.Errorf("Admit: %w", err)
					return
				}
				mu.Lock()
				all = append(all, leafHash(leaf))
				mu.Unlock()
			}
		})
	}
	writersWG.Wait()
	close(stop)
	removers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	found := lookup(t, s, testLog, all...)
	seen := make([]bool, len(all))
	for _, e := range found {
		if e.Index >= uint64(len(all)) || seen[e.Index] {
			t.Errorf("index %d given twice or past the %d leaves", e.Index, len(all))
			continue
		}
		seen[e.Index] = true
	}
	if len(found) != len(all) {
		t.Errorf("LookupOutbox found %d of %d leaves", len(found), len(all))
	}
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		if n, err := tx.NextIndex(ctx); err != nil || n != uint64(len(all)) {
			t.Errorf("NextIndex = %d, %v; want %d", n, err, len(all))
		}
		return nil
	})
}
