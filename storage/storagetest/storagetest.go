// Package storagetest is the conformance suite for implementations of
// storage.AdmissionStore: each backend's tests call [TestAdmissionStore],
// so every backend keeps the contracts documented in package storage.
package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/govlog/govlog/storage"
)

// testLog is the log most subtests use; the isolation subtest adds others.
const testLog = "example.org/log"

// clockSlack is how far AdmittedAt may stray from the test's clock, for
// stores that take the time from a database server.
const clockSlack = 2 * time.Second

// TestAdmissionStore checks that the stores newStore returns keep the
// contracts of storage.AdmissionStore and storage.AdmitTx. newStore must
// return an empty store of its own each time it is called; it is called
// from parallel subtests, and should register on its t the cleanup of what
// it opens.
func TestAdmissionStore(t *testing.T, newStore func(t *testing.T) storage.AdmissionStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s storage.AdmissionStore)
	}{
		{"GetMissing", testGetMissing},
		{"PutGet", testPutGet},
		{"ManyKeys", testManyKeys},
		{"Prefetch", testPrefetch},
		{"Indexes", testIndexes},
		{"FailedAdmissionCommitsNothing", testFailedAdmissionCommitsNothing},
		{"Outbox", testOutbox},
		{"LookupOutboxMixed", testLookupOutboxMixed},
		{"LookupOutboxMany", testLookupOutboxMany},
		{"DuplicateLeaf", testDuplicateLeaf},
		{"LogsIsolated", testLogsIsolated},
		{"UnqueuedOrderAndLimit", testUnqueuedOrderAndLimit},
		{"MarkQueued", testMarkQueued},
		{"MarkQueuedMany", testMarkQueuedMany},
		{"RemoveIntegrated", testRemoveIntegrated},
		{"RemoveIntegratedMany", testRemoveIntegratedMany},
		{"RemoveIntegratedWhileAdmitting", testRemoveIntegratedWhileAdmitting},
		{"ConcurrentAdmissions", testConcurrentAdmissions},
		{"LargeValues", testLargeValues},
		{"ReadCommitted", testReadCommitted},
		{"ReadSnapshot", testReadSnapshot},
		{"ReadDoesNotBlockAdmit", testReadDoesNotBlockAdmit},
		{"ReadError", testReadError},
		{"Scan", testScan},
		{"ScanAllFF", testScanAllFF},
		{"ScanPages", testScanPages},
		{"ScanSnapshot", testScanSnapshot},
		{"ScanError", testScanError},
		{"ScanEmptyPrefix", testScanEmptyPrefix},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newStore(t))
		})
	}
}

func testGetMissing(t *testing.T, s storage.AdmissionStore) {
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		return tx.Put(ctx, "present", []byte("v"))
	})
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		for _, key := range []string{"missing", "present/", "Present", ""} {
			v, ok, err := tx.Get(ctx, key)
			if err != nil {
				return fmt.Errorf("Get(%q): %w", key, err)
			}
			if ok || len(v) != 0 {
				t.Errorf("Get(%q) = %q, %v; want no value", key, v, ok)
			}
		}
		return nil
	})
}

func testPutGet(t *testing.T, s storage.AdmissionStore) {
	all256 := make([]byte, 256)
	for i := range all256 {
		all256[i] = byte(i)
	}
	tests := []struct {
		name   string
		key    string
		first  []byte
		second []byte
	}{
		{"short", "k", []byte("v1"), []byte("v2")},
		{"empty value", "empty", []byte{}, []byte("no longer empty")},
		{"to empty", "to-empty", []byte("soon empty"), []byte{}},
		{"binary", "binary", all256, bytes.Repeat([]byte{0}, 10)},
		{"upper-case key", "Key", []byte("upper"), []byte("UPPER")},
		{"lower-case key", "key", []byte("lower"), []byte("LOWER")},
		{"non-ASCII key", "clé/ключ/鍵", []byte("unicode"), []byte("UNICODE")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// First write: visible in the same transaction, then in a later one.
			admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
				if err := tx.Put(ctx, tt.key, tt.first); err != nil {
					return fmt.Errorf("Put: %w", err)
				}
				return wantValue(ctx, t, tx, tt.key, tt.first, "same transaction as Put")
			})
			admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
				return wantValue(ctx, t, tx, tt.key, tt.first, "later transaction")
			})
			// Overwrite: the transaction sees its own write over the stored one.
			admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
				if err := wantValue(ctx, t, tx, tt.key, tt.first, "before overwriting"); err != nil {
					return err
				}
				if err := tx.Put(ctx, tt.key, tt.second); err != nil {
					return fmt.Errorf("Put: %w", err)
				}
				return wantValue(ctx, t, tx, tt.key, tt.second, "same transaction as overwrite")
			})
			admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
				return wantValue(ctx, t, tx, tt.key, tt.second, "after overwrite")
			})
		})
	}
	// Keys differing only in case are different keys.
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := wantValue(ctx, t, tx, "Key", []byte("UPPER"), "case-sensitive keys"); err != nil {
			return err
		}
		return wantValue(ctx, t, tx, "key", []byte("LOWER"), "case-sensitive keys")
	})
}

// testManyKeys puts more keys in one transaction than one multi-row
// statement holds, and the last Put of a key wins.
func testManyKeys(t *testing.T, s storage.AdmissionStore) {
	const n = 700
	key := func(i int) string { return fmt.Sprintf("key/%04d", i) }
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		for i := range n {
			if err := tx.Put(ctx, key(i), []byte("first")); err != nil {
				return err
			}
		}
		for i := range n {
			if err := tx.Put(ctx, key(i), []byte(strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return nil
	})
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		for i := range n {
			if err := wantValue(ctx, t, tx, key(i), []byte(strconv.Itoa(i)), "later transaction"); err != nil {
				return err
			}
		}
		return nil
	})
}

var errInjected = errors.New("injected failure")

func testFailedAdmissionCommitsNothing(t *testing.T, s storage.AdmissionStore) {
	kept := []byte("committed before")
	keptLeaf := []byte("leaf committed before")
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := tx.Put(ctx, "existing", kept); err != nil {
			return err
		}
		return tx.AddToOutbox(ctx, leafHash(keptLeaf), keptLeaf)
	})

	tests := []struct {
		name string
		// fail makes an admission fail after its writes; cancel cancels
		// the context Admit was given.
		fail    func(cancel context.CancelFunc) error
		wantErr error // nil: any error will do
	}{
		{"fn returns an error", func(context.CancelFunc) error { return errInjected }, errInjected},
		{"fn returns a wrapped error", func(context.CancelFunc) error { return fmt.Errorf("personality said no: %w", errInjected) }, errInjected},
		{"context canceled before commit", func(cancel context.CancelFunc) error { cancel(); return nil }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaf := []byte("leaf of " + tt.name)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			err := s.Admit(ctx, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
				if err := tx.Put(ctx, "existing", []byte("overwritten")); err != nil {
					return err
				}
				if err := tx.Put(ctx, "new", []byte("created")); err != nil {
					return err
				}
				if err := tx.AddToOutbox(ctx, leafHash(leaf), leaf); err != nil {
					return err
				}
				return tt.fail(cancel)
			})
			switch {
			case err == nil:
				t.Fatalf("Admit succeeded; want an error")
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("Admit: %v; want %v", err, tt.wantErr)
			}

			admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
				if err := wantValue(ctx, t, tx, "existing", kept, "after failed admission"); err != nil {
					return err
				}
				if err := wantNoValue(ctx, t, tx, "new"); err != nil {
					return err
				}
				got, err := tx.LookupOutbox(ctx, [][32]byte{leafHash(leaf)})
				if err != nil {
					return err
				}
				if len(got) != 0 {
					t.Errorf("LookupOutbox found the leaf of a failed admission")
				}
				return nil
			})
			wantUnqueued(t, s, testLog, 10, keptLeaf)
		})
	}
}

func testOutbox(t *testing.T, s storage.AdmissionStore) {
	leaf := []byte("a signed statement")
	h := leafHash(leaf)
	before := time.Now()
	var inTx storage.OutboxEntry
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := tx.AddToOutbox(ctx, h, leaf); err != nil {
			return fmt.Errorf("AddToOutbox: %w", err)
		}
		got, err := tx.LookupOutbox(ctx, [][32]byte{h})
		if err != nil {
			return fmt.Errorf("LookupOutbox: %w", err)
		}
		inTx = got[h]
		if len(got) != 1 {
			t.Errorf("LookupOutbox in the same transaction found %d entries; want 1", len(got))
		}
		return nil
	})
	after := time.Now()
	checkEntry(t, "in the admitting transaction", inTx, leaf, before, after)

	var committed storage.OutboxEntry
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		got, err := tx.LookupOutbox(ctx, [][32]byte{h})
		if err != nil {
			return fmt.Errorf("LookupOutbox: %w", err)
		}
		committed = got[h]
		if len(got) != 1 {
			t.Errorf("LookupOutbox after commit found %d entries; want 1", len(got))
		}
		return nil
	})
	checkEntry(t, "after commit", committed, leaf, before, after)
	if !committed.AdmittedAt.Equal(inTx.AdmittedAt) {
		t.Errorf("AdmittedAt after commit is %v, but was %v in the admitting transaction", committed.AdmittedAt, inTx.AdmittedAt)
	}

	un := unqueued(t, s, testLog, 10)
	if len(un) != 1 {
		t.Fatalf("Unqueued returned %d entries; want 1", len(un))
	}
	checkEntry(t, "from Unqueued", un[0], leaf, before, after)
	if !un[0].AdmittedAt.Equal(inTx.AdmittedAt) {
		t.Errorf("AdmittedAt from Unqueued is %v, but was %v in the admitting transaction", un[0].AdmittedAt, inTx.AdmittedAt)
	}

	// Nothing asked, nothing found.
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		for _, hashes := range [][][32]byte{nil, {}} {
			got, err := tx.LookupOutbox(ctx, hashes)
			if err != nil {
				return fmt.Errorf("LookupOutbox(%v): %w", hashes, err)
			}
			if len(got) != 0 {
				t.Errorf("LookupOutbox(%v) found %d entries", hashes, len(got))
			}
		}
		return nil
	})
}

func testLookupOutboxMixed(t *testing.T, s storage.AdmissionStore) {
	leaves := makeLeaves("mixed", 4)
	admit(t, s, testLog, addLeaves(leaves[:3]))
	unknown1, unknown2 := leafHash([]byte("never added 1")), leafHash([]byte("never added 2"))
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := tx.AddToOutbox(ctx, leafHash(leaves[3]), leaves[3]); err != nil {
			return err
		}
		ask := [][32]byte{
			leafHash(leaves[0]), unknown1, leafHash(leaves[3]), unknown2,
			leafHash(leaves[2]), leafHash(leaves[0]), // asked twice
		}
		got, err := tx.LookupOutbox(ctx, ask)
		if err != nil {
			return fmt.Errorf("LookupOutbox: %w", err)
		}
		wantFound(t, got, leaves[0], leaves[2], leaves[3])
		return nil
	})
}

// testLookupOutboxMany looks up more hashes than one statement holds, both
// in the transaction that adds them and after.
func testLookupOutboxMany(t *testing.T, s storage.AdmissionStore) {
	leaves := makeLeaves("many", 700)
	var ask [][32]byte
	for i, l := range leaves {
		ask = append(ask, leafHash(l))
		if i%2 == 0 {
			ask = append(ask, leafHash(fmt.Appendf(nil, "unknown %d", i)))
		}
	}
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := addLeaves(leaves)(ctx, tx); err != nil {
			return err
		}
		got, err := tx.LookupOutbox(ctx, ask)
		if err != nil {
			return fmt.Errorf("LookupOutbox in the same transaction: %w", err)
		}
		wantFound(t, got, leaves...)
		return nil
	})
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		got, err := tx.LookupOutbox(ctx, ask)
		if err != nil {
			return fmt.Errorf("LookupOutbox after commit: %w", err)
		}
		wantFound(t, got, leaves...)
		return nil
	})
}

func testDuplicateLeaf(t *testing.T, s storage.AdmissionStore) {
	tests := []struct {
		name string
		// firstQueued marks the first copy queued before the second is added.
		firstQueued bool
		sameTx      bool
	}{
		{name: "same transaction", sameTx: true},
		{name: "later transaction"},
		{name: "later transaction after MarkQueued", firstQueued: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := testLog + "/" + tt.name
			first := []byte("first copy, " + tt.name)
			h := leafHash(first)
			second := []byte("second copy under the same hash")
			other := []byte("another leaf, " + tt.name)

			if tt.sameTx {
				err := s.Admit(t.Context(), log, func(ctx context.Context, tx storage.AdmitTx) error {
					if err := tx.AddToOutbox(ctx, h, first); err != nil {
						return fmt.Errorf("first AddToOutbox: %w", err)
					}
					err := tx.AddToOutbox(ctx, h, second)
					if err == nil {
						t.Errorf("AddToOutbox of a hash added earlier in the transaction succeeded")
					}
					return err
				})
				if err == nil {
					t.Fatalf("Admit succeeded")
				}
				wantUnqueued(t, s, log, 10)
				return
			}

			admit(t, s, log, addLeaves([][]byte{first}))
			if tt.firstQueued {
				markQueued(t, s, log, h)
			}
			err := s.Admit(t.Context(), log, func(ctx context.Context, tx storage.AdmitTx) error {
				if err := tx.Put(ctx, "k", []byte("v")); err != nil {
					return err
				}
				if err := tx.AddToOutbox(ctx, leafHash(other), other); err != nil {
					return err
				}
				// The store may report the duplicate now or when committing.
				return tx.AddToOutbox(ctx, h, second)
			})
			if err == nil {
				t.Fatalf("Admit adding a hash already in the outbox succeeded")
			}
			admit(t, s, log, func(ctx context.Context, tx storage.AdmitTx) error {
				if err := wantNoValue(ctx, t, tx, "k"); err != nil {
					return err
				}
				got, err := tx.LookupOutbox(ctx, [][32]byte{h, leafHash(other)})
				if err != nil {
					return err
				}
				wantFound(t, got, first)
				return nil
			})
			if tt.firstQueued {
				wantUnqueued(t, s, log, 10)
			} else {
				wantUnqueued(t, s, log, 10, first)
			}
		})
	}
}

func testLogsIsolated(t *testing.T, s storage.AdmissionStore) {
	// Log names are compared exactly, as checkpoint origins are.
	logs := []string{"example.org/a", "example.org/b", "example.org/A", "example.org/a "}
	// The same statement submitted to every log.
	leaf := []byte("a statement for every log")
	h := leafHash(leaf)
	for _, log := range logs {
		admit(t, s, log, func(ctx context.Context, tx storage.AdmitTx) error {
			if err := wantNoValue(ctx, t, tx, "k"); err != nil {
				return err
			}
			got, err := tx.LookupOutbox(ctx, [][32]byte{h})
			if err != nil {
				return err
			}
			if len(got) != 0 {
				t.Errorf("log %q: LookupOutbox found another log's leaf", log)
			}
			if err := tx.Put(ctx, "k", []byte("value in "+log)); err != nil {
				return err
			}
			return tx.AddToOutbox(ctx, h, leaf)
		})
	}
	for _, log := range logs {
		admit(t, s, log, func(ctx context.Context, tx storage.AdmitTx) error {
			return wantValue(ctx, t, tx, "k", []byte("value in "+log), "log "+log)
		})
		wantUnqueued(t, s, log, 10, leaf)
	}
	markQueued(t, s, logs[0], h)
	wantUnqueued(t, s, logs[0], 10)
	for _, log := range logs[1:] {
		wantUnqueued(t, s, log, 10, leaf)
	}
	wantUnqueued(t, s, "example.org/empty", 10)
}

func testUnqueuedOrderAndLimit(t *testing.T, s storage.AdmissionStore) {
	leaves := makeLeaves("ordered", 5)
	for _, l := range leaves {
		admit(t, s, testLog, addLeaves([][]byte{l}))
	}
	tests := []struct {
		name  string
		limit int
		want  [][]byte
	}{
		{"limit above count", 100, leaves},
		{"limit equal to count", 5, leaves},
		{"limit below count", 3, leaves[:3]},
		{"limit one", 1, leaves[:1]},
		{"limit zero", 0, nil},
		{"negative limit", -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantUnqueued(t, s, testLog, tt.limit, tt.want...)
		})
	}
	markQueued(t, s, testLog, leafHash(leaves[0]), leafHash(leaves[2]))
	wantUnqueued(t, s, testLog, 100, leaves[1], leaves[3], leaves[4])
	wantUnqueued(t, s, testLog, 2, leaves[1], leaves[3])
}

func testMarkQueued(t *testing.T, s storage.AdmissionStore) {
	leaves := makeLeaves("mark", 3)
	for _, l := range leaves {
		admit(t, s, testLog, addLeaves([][]byte{l}))
	}
	unknown := leafHash([]byte("never added"))
	tests := []struct {
		name   string
		hashes [][32]byte
		want   [][]byte
	}{
		{"none", nil, leaves},
		{"unknown only", [][32]byte{unknown}, leaves},
		{"known and unknown", [][32]byte{unknown, leafHash(leaves[1])}, [][]byte{leaves[0], leaves[2]}},
		{"again", [][32]byte{leafHash(leaves[1]), leafHash(leaves[1])}, [][]byte{leaves[0], leaves[2]}},
		{"rest", [][32]byte{leafHash(leaves[2]), leafHash(leaves[0])}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			markQueued(t, s, testLog, tt.hashes...)
			wantUnqueued(t, s, testLog, 10, tt.want...)
		})
	}
	// Queued leaves stay in the outbox: resubmissions still find them.
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		got, err := tx.LookupOutbox(ctx, [][32]byte{leafHash(leaves[0]), leafHash(leaves[1]), leafHash(leaves[2])})
		if err != nil {
			return err
		}
		wantFound(t, got, leaves...)
		return nil
	})
}

// testMarkQueuedMany marks more hashes than one statement holds.
func testMarkQueuedMany(t *testing.T, s storage.AdmissionStore) {
	leaves := makeLeaves("mark many", 700)
	admit(t, s, testLog, addLeaves(leaves))
	var mark [][32]byte
	for i, l := range leaves[:600] {
		mark = append(mark, leafHash(l))
		if i%5 == 0 {
			mark = append(mark, leafHash(fmt.Appendf(nil, "unknown %d", i)))
		}
	}
	markQueued(t, s, testLog, mark...)
	got := unqueued(t, s, testLog, 2000)
	want := map[[32]byte]bool{}
	for _, l := range leaves[600:] {
		want[leafHash(l)] = true
	}
	gotSet := map[[32]byte]bool{}
	for _, e := range got {
		gotSet[e.LeafHash] = true
	}
	if !maps.Equal(gotSet, want) || len(got) != len(want) {
		t.Errorf("Unqueued after marking 600 of 700 returned %d entries; want the %d unmarked", len(got), len(want))
	}
}

// testConcurrentAdmissions increments counters from many goroutines at
// once; a store that does not lock what Get read (even a missing key) loses
// increments, and one that gives up on transient conflicts fails admissions.
func testConcurrentAdmissions(t *testing.T, s storage.AdmissionStore) {
	const n = 20
	shared := func(round, i int) string { return "counter" }
	tests := []struct {
		name    string
		rounds  int
		counter func(round, i int) string // the counter goroutine i increments
		start   []byte                    // nil: counters start missing, read as 0
	}{
		{"one missing key", 1, shared, nil},
		{"one existing key", 1, shared, []byte("0")},
		// On MySQL, reading missing keys takes gap locks, so creating
		// distinct keys concurrently deadlocks, and the store must retry
		// until it gets through.
		{"distinct missing keys", 5, func(round, i int) string { return fmt.Sprintf("counter/%d/%d", round, i) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for round := range tt.rounds {
				testConcurrentRound(t, s, testLog+"/"+tt.name, n, func(i int) string { return tt.counter(round, i) }, tt.start)
			}
		})
	}
}

func testConcurrentRound(t *testing.T, s storage.AdmissionStore, log string, n int, counter func(i int) string, start []byte) {
	t.Helper()
	want := map[string]int{}
	for i := range n {
		want[counter(i)]++
	}
	if start != nil {
		admit(t, s, log, func(ctx context.Context, tx storage.AdmitTx) error {
			for k := range want {
				if err := tx.Put(ctx, k, start); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key := counter(i)
			leaf := fmt.Appendf(nil, "admission %s %d", key, i)
			err := s.Admit(t.Context(), log, func(ctx context.Context, tx storage.AdmitTx) error {
				v, ok, err := tx.Get(ctx, key)
				if err != nil {
					return fmt.Errorf("Get: %w", err)
				}
				c := 0
				if ok {
					if c, err = strconv.Atoi(string(v)); err != nil {
						return fmt.Errorf("counter %q: %w", v, err)
					}
				}
				if err := tx.Put(ctx, key, []byte(strconv.Itoa(c+1))); err != nil {
					return fmt.Errorf("Put: %w", err)
				}
				return tx.AddToOutbox(ctx, leafHash(leaf), leaf)
			})
			if err != nil {
				t.Errorf("admission %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	admit(t, s, log, func(ctx context.Context, tx storage.AdmitTx) error {
		for k, c := range want {
			if err := wantValue(ctx, t, tx, k, []byte(strconv.Itoa(c)), "after concurrent increments"); err != nil {
				return err
			}
		}
		return nil
	})
	if got := unqueued(t, s, log, 2*n); len(got) != n {
		t.Errorf("Unqueued returned %d entries after %d admissions", len(got), n)
	}
	markQueued(t, s, log, hashesOf(unqueued(t, s, log, 2*n))...)
}

func hashesOf(entries []storage.OutboxEntry) [][32]byte {
	hashes := make([][32]byte, len(entries))
	for i, e := range entries {
		hashes[i] = e.LeafHash
	}
	return hashes
}

func testLargeValues(t *testing.T, s storage.AdmissionStore) {
	const size = 60 << 10
	rng := rand.NewChaCha8([32]byte{})
	random := func() []byte {
		b := make([]byte, size)
		rng.Read(b)
		return b
	}
	value, leaf := random(), random()
	h := leafHash(leaf)
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := tx.Put(ctx, "large", value); err != nil {
			return err
		}
		return tx.AddToOutbox(ctx, h, leaf)
	})
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := wantValue(ctx, t, tx, "large", value, "60 KiB value"); err != nil {
			return err
		}
		got, err := tx.LookupOutbox(ctx, [][32]byte{h})
		if err != nil {
			return err
		}
		wantFound(t, got, leaf)
		return nil
	})
	wantUnqueued(t, s, testLog, 10, leaf)

	// One transaction writing more than one statement may carry: 16 MiB
	// by default on MariaDB.
	const batch = 420
	batchValue := func(i int) []byte { return fmt.Appendf(bytes.Repeat([]byte{'v'}, 40<<10), "%d", i) }
	batchLeaves := make([][]byte, batch)
	for i := range batchLeaves {
		batchLeaves[i] = fmt.Appendf(bytes.Repeat([]byte{'l'}, 40<<10), "%d", i)
	}
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		for i := range batch {
			if err := tx.Put(ctx, fmt.Sprintf("batch/%d", i), batchValue(i)); err != nil {
				return err
			}
		}
		return addLeaves(batchLeaves)(ctx, tx)
	})
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		for _, i := range []int{0, batch / 2, batch - 1} {
			if err := wantValue(ctx, t, tx, fmt.Sprintf("batch/%d", i), batchValue(i), "after a large batch"); err != nil {
				return err
			}
		}
		return nil
	})
	if got := unqueued(t, s, testLog, 2*batch); len(got) != batch+1 {
		t.Errorf("Unqueued returned %d entries after a batch of %d large leaves and one other", len(got), batch)
	}
}

// testPrefetch: prefetched keys read the same as Get would, before and
// after a Put in the same transaction, across more keys than one query holds.
func testPrefetch(t *testing.T, s storage.AdmissionStore) {
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		for i := range 600 {
			if i%2 == 0 {
				if err := tx.Put(ctx, fmt.Sprintf("k%d", i), fmt.Appendf(nil, "v%d", i)); err != nil {
					return err
				}
			}
		}
		return tx.Put(ctx, "empty", []byte{})
	})
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := tx.Put(ctx, "k1", []byte("written before prefetch")); err != nil {
			return err
		}
		keys := []string{"empty", "never"}
		for i := range 600 {
			keys = append(keys, fmt.Sprintf("k%d", i))
		}
		if err := tx.Prefetch(ctx, keys); err != nil {
			return fmt.Errorf("Prefetch: %w", err)
		}
		if err := tx.Prefetch(ctx, keys[:3]); err != nil {
			return fmt.Errorf("Prefetch again: %w", err)
		}
		for i := range 600 {
			k := fmt.Sprintf("k%d", i)
			v, ok, err := tx.Get(ctx, k)
			if err != nil {
				return err
			}
			switch {
			case i == 1:
				if !ok || string(v) != "written before prefetch" {
					t.Errorf("Get(k1) = %q, %v; want the value put in this transaction", v, ok)
				}
			case i%2 == 0:
				if !ok || string(v) != fmt.Sprintf("v%d", i) {
					t.Errorf("Get(%s) = %q, %v; want v%d", k, v, ok, i)
				}
			default:
				if ok {
					t.Errorf("Get(%s) = %q; want no value", k, v)
				}
			}
		}
		if v, ok, err := tx.Get(ctx, "empty"); err != nil || !ok || len(v) != 0 {
			t.Errorf("Get(empty) = %q, %v, %v; want an empty value", v, ok, err)
		}
		if _, ok, err := tx.Get(ctx, "never"); err != nil || ok {
			t.Errorf("Get(never) = %v, %v; want no value", ok, err)
		}
		if err := tx.Put(ctx, "never", []byte("now")); err != nil {
			return err
		}
		if v, ok, _ := tx.Get(ctx, "never"); !ok || string(v) != "now" {
			t.Errorf("Get(never) after Put = %q, %v", v, ok)
		}
		return nil
	})
}

// testIndexes: leaves get 0, 1, 2, ... per log in the order they were added,
// across transactions, and a failed transaction uses up no index.
func testIndexes(t *testing.T, s storage.AdmissionStore) {
	ctx := t.Context()
	add := func(log string, leaves ...string) {
		admit(t, s, log, func(ctx context.Context, tx storage.AdmitTx) error {
			for _, l := range leaves {
				if err := tx.AddToOutbox(ctx, leafHash([]byte(l)), []byte(l)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	add(testLog, "a", "b")
	if err := s.Admit(ctx, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := tx.AddToOutbox(ctx, leafHash([]byte("lost")), []byte("lost")); err != nil {
			return err
		}
		return errors.New("rolled back")
	}); err == nil {
		t.Fatal("Admit succeeded despite fn's error")
	}
	add(testLog, "c")
	add("other.example/log", "x")
	add(testLog, "d", "e")
	entries, err := s.Unqueued(ctx, testLog, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, e := range entries {
		if e.Index != uint64(i) {
			t.Errorf("entry %q has index %d, want %d", e.Leaf, e.Index, i)
		}
		got = append(got, string(e.Leaf))
	}
	if want := []string{"a", "b", "c", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("Unqueued = %q, want %q in index order", got, want)
	}
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		// NextIndex says where the next leaf goes, before and after an add.
		if n, err := tx.NextIndex(ctx); err != nil || n != 5 {
			t.Errorf("NextIndex = %d, %v; want 5", n, err)
		}
		if err := tx.AddToOutbox(ctx, leafHash([]byte("f")), []byte("f")); err != nil {
			return err
		}
		if n, err := tx.NextIndex(ctx); err != nil || n != 6 {
			t.Errorf("NextIndex after an add = %d, %v; want 6", n, err)
		}
		found, err := tx.LookupOutbox(ctx, [][32]byte{leafHash([]byte("f")), leafHash([]byte("c"))})
		if err != nil {
			return err
		}
		if found[leafHash([]byte("f"))].Index != 5 || found[leafHash([]byte("c"))].Index != 2 {
			t.Errorf("LookupOutbox indexes = %d, %d; want 5, 2", found[leafHash([]byte("f"))].Index, found[leafHash([]byte("c"))].Index)
		}
		return nil
	})
	other, err := s.Unqueued(ctx, "other.example/log", 10)
	if err != nil || len(other) != 1 || other[0].Index != 0 {
		t.Errorf("other log: %+v, %v; want one entry at index 0", other, err)
	}
}

// admit runs fn in an admission that must succeed.
func admit(t *testing.T, s storage.AdmissionStore, log string, fn func(context.Context, storage.AdmitTx) error) {
	t.Helper()
	if err := s.Admit(t.Context(), log, fn); err != nil {
		t.Fatalf("Admit(%q): %v", log, err)
	}
}

func addLeaves(leaves [][]byte) func(context.Context, storage.AdmitTx) error {
	return func(ctx context.Context, tx storage.AdmitTx) error {
		for _, l := range leaves {
			if err := tx.AddToOutbox(ctx, leafHash(l), l); err != nil {
				return fmt.Errorf("AddToOutbox: %w", err)
			}
		}
		return nil
	}
}

func makeLeaves(prefix string, n int) [][]byte {
	leaves := make([][]byte, n)
	for i := range leaves {
		leaves[i] = fmt.Appendf(nil, "%s leaf %d", prefix, i)
	}
	return leaves
}

// leafHash is the RFC 6962 leaf hash; stores take it as given.
func leafHash(leaf []byte) [32]byte {
	return sha256.Sum256(append([]byte{0}, leaf...))
}

// wantValue reports a mismatch with t.Errorf and returns only the errors of
// the store, for fn to return.
func wantValue(ctx context.Context, t *testing.T, tx storage.AdmitTx, key string, want []byte, when string) error {
	t.Helper()
	got, ok, err := tx.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("Get(%q) %s: %w", key, when, err)
	}
	if !ok || !bytes.Equal(got, want) {
		t.Errorf("Get(%q) %s = %s, %v; want %s, true", key, when, short(got), ok, short(want))
	}
	return nil
}

func wantNoValue(ctx context.Context, t *testing.T, tx storage.AdmitTx, key string) error {
	t.Helper()
	got, ok, err := tx.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("Get(%q): %w", key, err)
	}
	if ok {
		t.Errorf("Get(%q) = %s, true; want no value", key, short(got))
	}
	return nil
}

func wantFound(t *testing.T, got map[[32]byte]storage.OutboxEntry, leaves ...[]byte) {
	t.Helper()
	if len(got) != len(leaves) {
		t.Errorf("LookupOutbox found %d entries; want %d", len(got), len(leaves))
	}
	failed := 0
	for _, l := range leaves {
		if failed == 5 {
			t.Errorf("... and maybe more")
			return
		}
		failed++
		h := leafHash(l)
		e, ok := got[h]
		switch {
		default:
			failed--
		case !ok:
			t.Errorf("LookupOutbox did not find %s", short(l))
		case e.LeafHash != h:
			t.Errorf("LookupOutbox entry under %x has LeafHash %x", h, e.LeafHash)
		case !bytes.Equal(e.Leaf, l):
			t.Errorf("LookupOutbox entry of %s has Leaf %s", short(l), short(e.Leaf))
		case e.AdmittedAt.IsZero():
			t.Errorf("LookupOutbox entry of %s has no AdmittedAt", short(l))
		}
	}
}

func checkEntry(t *testing.T, where string, e storage.OutboxEntry, leaf []byte, before, after time.Time) {
	t.Helper()
	if e.LeafHash != leafHash(leaf) || !bytes.Equal(e.Leaf, leaf) {
		t.Errorf("entry %s = %x, %s; want %x, %s", where, e.LeafHash, short(e.Leaf), leafHash(leaf), short(leaf))
	}
	if e.AdmittedAt.Before(before.Add(-clockSlack)) || e.AdmittedAt.After(after.Add(clockSlack)) {
		t.Errorf("entry %s: AdmittedAt = %v; want between %v and %v", where, e.AdmittedAt, before, after)
	}
}

func unqueued(t *testing.T, s storage.AdmissionStore, log string, limit int) []storage.OutboxEntry {
	t.Helper()
	got, err := s.Unqueued(t.Context(), log, limit)
	if err != nil {
		t.Fatalf("Unqueued(%q, %d): %v", log, limit, err)
	}
	return got
}

// wantUnqueued checks that Unqueued returns exactly want, in order.
func wantUnqueued(t *testing.T, s storage.AdmissionStore, log string, limit int, want ...[]byte) {
	t.Helper()
	got := unqueued(t, s, log, limit)
	var gotLeaves [][]byte
	for _, e := range got {
		gotLeaves = append(gotLeaves, e.Leaf)
		if e.LeafHash != leafHash(e.Leaf) {
			t.Errorf("Unqueued(%q): entry %s has LeafHash %x", log, short(e.Leaf), e.LeafHash)
		}
		if e.AdmittedAt.IsZero() {
			t.Errorf("Unqueued(%q): entry %s has no AdmittedAt", log, short(e.Leaf))
		}
	}
	if !slices.EqualFunc(gotLeaves, want, bytes.Equal) {
		t.Errorf("Unqueued(%q, %d) = %s; want %s", log, limit, shortAll(gotLeaves), shortAll(want))
	}
}

// markQueued marks the leaves of these hashes queued, by their indexes; a
// hash never admitted stands for an index the outbox does not hold, which
// MarkQueued must ignore.
func markQueued(t *testing.T, s storage.AdmissionStore, log string, hashes ...[32]byte) {
	t.Helper()
	found := lookup(t, s, log, hashes...)
	var indexes []uint64
	for i, h := range hashes {
		if e, ok := found[h]; ok {
			indexes = append(indexes, e.Index)
		} else {
			indexes = append(indexes, 1<<40+uint64(i))
		}
	}
	if err := s.MarkQueued(t.Context(), log, indexes); err != nil {
		t.Fatalf("MarkQueued(%q): %v", log, err)
	}
}

// lookup returns what a read transaction of log finds of hashes.
func lookup(t *testing.T, s storage.AdmissionStore, log string, hashes ...[32]byte) map[[32]byte]storage.OutboxEntry {
	t.Helper()
	var found map[[32]byte]storage.OutboxEntry
	err := s.Read(t.Context(), log, func(ctx context.Context, tx storage.ReadTx) (err error) {
		found, err = tx.LookupOutbox(ctx, hashes)
		return err
	})
	if err != nil {
		t.Fatalf("LookupOutbox(%q): %v", log, err)
	}
	return found
}

// short formats b for a failure message, eliding the middle of large values.
func short(b []byte) string {
	if len(b) > 64 {
		return fmt.Sprintf("%q...(%d bytes)", b[:32], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func shortAll(bs [][]byte) string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = short(b)
	}
	return fmt.Sprint(s)
}

// testReadCommitted: Read sees what admissions committed, in its own log
// only, and nothing of an admission that failed.
func testReadCommitted(t *testing.T, s storage.AdmissionStore) {
	const other = "example.org/other"
	leaf, failedLeaf, otherLeaf := []byte("read leaf"), []byte("failed leaf"), []byte("other log's leaf")
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := tx.Put(ctx, "k", []byte("v1")); err != nil {
			return err
		}
		if err := tx.Put(ctx, "empty", []byte{}); err != nil {
			return err
		}
		return addLeaves([][]byte{leaf})(ctx, tx)
	})
	admit(t, s, other, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := tx.Put(ctx, "only-other", []byte("x")); err != nil {
			return err
		}
		return addLeaves([][]byte{otherLeaf})(ctx, tx)
	})
	errFail := errors.New("admission fails")
	err := s.Admit(t.Context(), testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := tx.Put(ctx, "k", []byte("uncommitted")); err != nil {
			return err
		}
		if err := addLeaves([][]byte{failedLeaf})(ctx, tx); err != nil {
			return err
		}
		return errFail
	})
	if !errors.Is(err, errFail) {
		t.Fatalf("failing Admit returned %v", err)
	}
	err = s.Read(t.Context(), testLog, func(ctx context.Context, tx storage.ReadTx) error {
		for key, want := range map[string][]byte{"k": []byte("v1"), "empty": {}} {
			v, ok, err := tx.Get(ctx, key)
			if err != nil {
				return fmt.Errorf("Get(%q): %w", key, err)
			}
			if !ok || !bytes.Equal(v, want) {
				t.Errorf("Get(%q) = %q, %v; want %q", key, v, ok, want)
			}
		}
		for _, key := range []string{"missing", "only-other", ""} {
			v, ok, err := tx.Get(ctx, key)
			if err != nil {
				return fmt.Errorf("Get(%q): %w", key, err)
			}
			if ok || len(v) != 0 {
				t.Errorf("Get(%q) = %q, %v; want no value", key, v, ok)
			}
		}
		got, err := tx.LookupOutbox(ctx, [][32]byte{leafHash(leaf), leafHash(failedLeaf), leafHash(otherLeaf)})
		if err != nil {
			return fmt.Errorf("LookupOutbox: %w", err)
		}
		wantFound(t, got, leaf)
		if e := got[leafHash(leaf)]; e.Index != 0 {
			t.Errorf("LookupOutbox: index %d, want 0", e.Index)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
}

// testReadSnapshot: what Read's function reads does not change while it
// runs, even when an admission commits meanwhile; the admission is not
// lost, and does not wait for the read to end.
func testReadSnapshot(t *testing.T, s storage.AdmissionStore) {
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		return tx.Put(ctx, "k", []byte("before"))
	})
	err := s.Read(t.Context(), testLog, func(ctx context.Context, tx storage.ReadTx) error {
		if err := wantRead(ctx, t, tx, "k", "before"); err != nil {
			return err
		}
		admitCtx, cancel := context.WithTimeout(ctx, blockedAfter)
		defer cancel()
		err := s.Admit(admitCtx, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
			if err := tx.Put(ctx, "k", []byte("after")); err != nil {
				return err
			}
			return addLeaves([][]byte{[]byte("snapshot leaf")})(ctx, tx)
		})
		if err != nil {
			return fmt.Errorf("Admit while a Read runs: %w", err)
		}
		if err := wantRead(ctx, t, tx, "k", "before"); err != nil {
			return err
		}
		got, err := tx.LookupOutbox(ctx, [][32]byte{leafHash([]byte("snapshot leaf"))})
		if err != nil {
			return err
		}
		if len(got) != 0 {
			t.Errorf("the read saw an outbox entry committed after it began")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	err = s.Read(t.Context(), testLog, func(ctx context.Context, tx storage.ReadTx) error {
		return wantRead(ctx, t, tx, "k", "after")
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
}

// blockedAfter is how long a test lets an operation run before it takes
// it to be waiting for something that will not end: not a timing bound on
// the operation, which takes milliseconds, but a deadlock check.
const blockedAfter = 5 * time.Second

// testReadDoesNotBlockAdmit: while several reads are in progress, each
// holding its snapshot open, admissions commit, and the outbox's other
// operations run; the reads then end normally.
func testReadDoesNotBlockAdmit(t *testing.T, s storage.AdmissionStore) {
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		return tx.Put(ctx, "k", []byte("before"))
	})
	const reads = 3
	release := make(chan struct{})
	reading := make(chan struct{}, reads)
	readErrs := make(chan error, reads)
	for range reads {
		go func() {
			readErrs <- s.Read(context.Background(), testLog, func(ctx context.Context, tx storage.ReadTx) error {
				// Reading first takes the snapshot (and whatever a read
				// holds) before the admissions below start.
				if err := wantRead(ctx, t, tx, "k", "before"); err != nil {
					return err
				}
				reading <- struct{}{}
				<-release
				return wantRead(ctx, t, tx, "k", "before")
			})
		}()
	}
	ended := false
	endReads := func() {
		if !ended {
			ended = true
			close(release)
		}
	}
	defer endReads()
	for range reads {
		select {
		case <-reading:
		case err := <-readErrs:
			t.Fatalf("Read ended before it was released: %v", err)
		case <-time.After(blockedAfter):
			t.Fatalf("%d reads did not run at once: they wait for one another", reads)
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), blockedAfter)
	defer cancel()
	leaves := makeLeaves("beside a read", 2)
	for i, leaf := range leaves {
		err := s.Admit(ctx, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
			if err := tx.Put(ctx, "k", []byte(fmt.Sprint("after ", i))); err != nil {
				return err
			}
			return tx.AddToOutbox(ctx, leafHash(leaf), leaf)
		})
		if err != nil {
			t.Fatalf("Admit %d while reads run: %v", i, err)
		}
	}
	un, err := s.Unqueued(ctx, testLog, 10)
	if err != nil {
		t.Fatalf("Unqueued while reads run: %v", err)
	}
	if len(un) != len(leaves) {
		t.Errorf("Unqueued while reads run: %d entries, want %d", len(un), len(leaves))
	}
	if err := s.MarkQueued(ctx, testLog, []uint64{un[0].Index}); err != nil {
		t.Fatalf("MarkQueued while reads run: %v", err)
	}

	endReads()
	for range reads {
		if err := <-readErrs; err != nil {
			t.Errorf("Read: %v", err)
		}
	}
	err = s.Read(t.Context(), testLog, func(ctx context.Context, tx storage.ReadTx) error {
		if err := wantRead(ctx, t, tx, "k", "after 1"); err != nil {
			return err
		}
		got, err := tx.LookupOutbox(ctx, [][32]byte{leafHash(leaves[0]), leafHash(leaves[1])})
		if err != nil {
			return err
		}
		wantFound(t, got, leaves...)
		return nil
	})
	if err != nil {
		t.Fatalf("Read after the reads ended: %v", err)
	}
}

// testReadError: Read returns its function's error.
func testReadError(t *testing.T, s storage.AdmissionStore) {
	errMine := errors.New("the function's own error")
	err := s.Read(t.Context(), testLog, func(ctx context.Context, tx storage.ReadTx) error { return errMine })
	if !errors.Is(err, errMine) {
		t.Errorf("Read returned %v, want the function's error", err)
	}
}

func wantRead(ctx context.Context, t *testing.T, tx storage.ReadTx, key, want string) error {
	t.Helper()
	v, ok, err := tx.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("Get(%q): %w", key, err)
	}
	if !ok || string(v) != want {
		t.Errorf("Get(%q) = %q, %v; want %q", key, v, ok, want)
	}
	return nil
}

// scanned is one key and value Scan called its function with.
type scanned struct {
	key, value string
}

// scanAll returns what Scan of prefix calls its function with, in order.
func scanAll(ctx context.Context, tx storage.ReadTx, prefix string) ([]scanned, error) {
	var got []scanned
	err := tx.Scan(ctx, prefix, func(key string, value []byte) error {
		got = append(got, scanned{key, string(value)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("Scan(%q): %w", prefix, err)
	}
	return got, nil
}

// wantScan checks that Scan of prefix yields want, the keys in want with
// "value of " before each as their values, in the order of want.
func wantScan(ctx context.Context, t *testing.T, tx storage.ReadTx, prefix string, want ...string) error {
	t.Helper()
	got, err := scanAll(ctx, tx, prefix)
	if err != nil {
		return err
	}
	wantRows := []scanned{}
	for _, k := range want {
		wantRows = append(wantRows, scanned{k, "value of " + k})
	}
	if !slices.Equal(got, wantRows) {
		t.Errorf("Scan(%q) =\n  %q\nwant\n  %q", prefix, got, wantRows)
	}
	return nil
}

// putKeys is an admission that puts each key with "value of " before it
// as its value.
func putKeys(keys ...string) func(context.Context, storage.AdmitTx) error {
	return func(ctx context.Context, tx storage.AdmitTx) error {
		for _, k := range keys {
			if err := tx.Put(ctx, k, []byte("value of "+k)); err != nil {
				return err
			}
		}
		return nil
	}
}

// testScan: Scan yields exactly the committed keys that begin with the
// prefix, in bytewise order, with their values: not the keys just outside
// it (before it or after its last byte, incremented), nor another log's,
// nor what an admission wrote and did not commit; and keys holding LIKE's
// wildcards match only themselves.
func testScan(t *testing.T, s storage.AdmissionStore) {
	// Written in one admission, in no particular order.
	keys := []string{
		"a0", "a/x", "a.", "a/\xff", "a/", "a", "b", "a/\x00", "a/\xff\xff", "a/y/1",
		"a/x0", "a/X", "A/x", "a/\x7f", "a/\x80", "a/é", "a/ü",
		"p%/1", "p%/2", "pa/1", "p_/1", "pb/1", "p\\/1",
	}
	admit(t, s, testLog, putKeys(keys...))
	admit(t, s, "example.org/other", putKeys("a/other", "a/x", "a/", "p%/other"))
	err := s.Admit(t.Context(), testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := putKeys("a/uncommitted")(ctx, tx); err != nil {
			return err
		}
		return errInjected
	})
	if !errors.Is(err, errInjected) {
		t.Fatalf("failing Admit returned %v", err)
	}

	err = s.Read(t.Context(), testLog, func(ctx context.Context, tx storage.ReadTx) error {
		for _, c := range []struct {
			prefix string
			want   []string
		}{
			// "é" is c3 a9 and "ü" c3 bc: bytewise, after 0x80, before 0xff.
			{"a/", []string{"a/", "a/\x00", "a/X", "a/x", "a/x0", "a/y/1", "a/\x7f", "a/\x80", "a/é", "a/ü", "a/\xff", "a/\xff\xff"}},
			{"a/x", []string{"a/x", "a/x0"}},
			{"a/\xff", []string{"a/\xff", "a/\xff\xff"}},
			{"a/\x7f", []string{"a/\x7f"}},
			{"a/\xc3", []string{"a/é", "a/ü"}},
			{"a", []string{"a", "a.", "a/", "a/\x00", "a/X", "a/x", "a/x0", "a/y/1", "a/\x7f", "a/\x80", "a/é", "a/ü", "a/\xff", "a/\xff\xff", "a0"}},
			{"A", []string{"A/x"}},
			{"a/y/1", []string{"a/y/1"}},
			{"a/y/1/", nil},
			{"a/z", nil},
			{"c", nil},
			{"p%", []string{"p%/1", "p%/2"}},
			{"p_", []string{"p_/1"}},
			{"p\\", []string{"p\\/1"}},
			{"p", []string{"p%/1", "p%/2", "p\\/1", "p_/1", "pa/1", "pb/1"}},
		} {
			if err := wantScan(ctx, t, tx, c.prefix, c.want...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	err = s.Read(t.Context(), "example.org/other", func(ctx context.Context, tx storage.ReadTx) error {
		return wantScan(ctx, t, tx, "a/", "a/", "a/other", "a/x")
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	err = s.Read(t.Context(), "example.org/none", func(ctx context.Context, tx storage.ReadTx) error {
		return wantScan(ctx, t, tx, "a/")
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
}

// testScanAllFF: a prefix of only 0xff bytes has no key just above it; Scan
// yields every key from it on, which all begin with it.
func testScanAllFF(t *testing.T, s storage.AdmissionStore) {
	admit(t, s, testLog, putKeys("\xfe", "\xfe\xff", "\xff", "\xff\x00", "\xff\xff", "\xff\xff\xff", "z"))
	err := s.Read(t.Context(), testLog, func(ctx context.Context, tx storage.ReadTx) error {
		if err := wantScan(ctx, t, tx, "\xff", "\xff", "\xff\x00", "\xff\xff", "\xff\xff\xff"); err != nil {
			return err
		}
		if err := wantScan(ctx, t, tx, "\xff\xff", "\xff\xff", "\xff\xff\xff"); err != nil {
			return err
		}
		return wantScan(ctx, t, tx, "\xfe", "\xfe", "\xfe\xff")
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
}

// testScanPages: Scan yields more keys than a store reads at once, each
// once and in order, with empty and large values intact; and its function
// may call the transaction's other methods meanwhile.
func testScanPages(t *testing.T, s storage.AdmissionStore) {
	const n = 1100
	key := func(i int) string { return fmt.Sprintf("many/%05d", i) }
	value := func(i int) []byte {
		switch i % 100 {
		case 7:
			return []byte{}
		case 8:
			return bytes.Repeat([]byte{byte(i)}, 70_000)
		}
		return []byte(strconv.Itoa(i))
	}
	leaf := []byte("scan pages leaf")
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		// Put in reverse order, so that insertion order is not key order.
		for i := n - 1; i >= 0; i-- {
			if err := tx.Put(ctx, key(i), value(i)); err != nil {
				return err
			}
		}
		if err := tx.Put(ctx, "many0", []byte("just after")); err != nil {
			return err
		}
		return addLeaves([][]byte{leaf})(ctx, tx)
	})
	err := s.Read(t.Context(), testLog, func(ctx context.Context, tx storage.ReadTx) error {
		i := 0
		err := tx.Scan(ctx, "many/", func(k string, v []byte) error {
			if k != key(i) || !bytes.Equal(v, value(i)) {
				return fmt.Errorf("row %d: %q = %s; want %q = %s", i, k, short(v), key(i), short(value(i)))
			}
			// The other methods, on the same transaction, mid-scan.
			if i%97 == 0 {
				got, ok, err := tx.Get(ctx, key(n-1-i))
				if err != nil {
					return fmt.Errorf("Get during Scan: %w", err)
				}
				if !ok || !bytes.Equal(got, value(n-1-i)) {
					t.Errorf("Get(%q) during Scan = %s, %v", key(n-1-i), short(got), ok)
				}
				found, err := tx.LookupOutbox(ctx, [][32]byte{leafHash(leaf)})
				if err != nil {
					return fmt.Errorf("LookupOutbox during Scan: %w", err)
				}
				wantFound(t, found, leaf)
				inner, err := scanAll(ctx, tx, key(i))
				if err != nil {
					return fmt.Errorf("during Scan: %w", err)
				}
				if want := []scanned{{key(i), string(value(i))}}; !slices.Equal(inner, want) {
					t.Errorf("Scan(%q) during Scan = %q, want %q", key(i), inner, want)
				}
			}
			i++
			return nil
		})
		if err != nil {
			return err
		}
		if i != n {
			t.Errorf("Scan yielded %d keys, want %d", i, n)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
}

// testScanSnapshot: Scan reads the transaction's snapshot, also in its
// later pages: keys that an admission committing while it runs adds,
// changes or would have yielded are not seen.
func testScanSnapshot(t *testing.T, s storage.AdmissionStore) {
	const n = 600
	key := func(i int) string { return fmt.Sprintf("snap/%04d", i) }
	admit(t, s, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
		for i := range n {
			if err := tx.Put(ctx, key(2*i), []byte("before")); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Read(t.Context(), testLog, func(ctx context.Context, tx storage.ReadTx) error {
		i := 0
		return tx.Scan(ctx, "snap/", func(k string, v []byte) error {
			if k != key(2*i) || string(v) != "before" {
				return fmt.Errorf("row %d: %q = %q; want %q = \"before\"", i, k, v, key(2*i))
			}
			if i == 1 {
				admitCtx, cancel := context.WithTimeout(ctx, blockedAfter)
				defer cancel()
				err := s.Admit(admitCtx, testLog, func(ctx context.Context, tx storage.AdmitTx) error {
					for j := range 2 * n {
						if err := tx.Put(ctx, key(j), []byte("after")); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					return fmt.Errorf("Admit during Scan: %w", err)
				}
			}
			i++
			if i > n {
				return fmt.Errorf("more than %d keys", n)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
}

// testScanError: Scan stops at its function's first error and returns it.
func testScanError(t *testing.T, s storage.AdmissionStore) {
	admit(t, s, testLog, putKeys("e/1", "e/2", "e/3"))
	errMine := errors.New("the function's own error")
	err := s.Read(t.Context(), testLog, func(ctx context.Context, tx storage.ReadTx) error {
		var calls []string
		err := tx.Scan(ctx, "e/", func(k string, v []byte) error {
			calls = append(calls, k)
			if k == "e/2" {
				return errMine
			}
			return nil
		})
		if !errors.Is(err, errMine) {
			t.Errorf("Scan returned %v, want the function's error", err)
		}
		if !slices.Equal(calls, []string{"e/1", "e/2"}) {
			t.Errorf("Scan called its function with %q, want e/1 and e/2 only", calls)
		}
		// The transaction is still usable.
		return wantScan(ctx, t, tx, "e/", "e/1", "e/2", "e/3")
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
}

// testScanEmptyPrefix: Scan refuses an empty prefix, without calling its
// function, and leaves the transaction usable.
func testScanEmptyPrefix(t *testing.T, s storage.AdmissionStore) {
	admit(t, s, testLog, putKeys("k"))
	err := s.Read(t.Context(), testLog, func(ctx context.Context, tx storage.ReadTx) error {
		err := tx.Scan(ctx, "", func(k string, v []byte) error {
			t.Errorf("Scan with an empty prefix called its function with %q", k)
			return nil
		})
		if err == nil {
			t.Errorf("Scan with an empty prefix succeeded")
		}
		return wantScan(ctx, t, tx, "k", "k")
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
}
