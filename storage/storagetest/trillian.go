package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/trillian"
	"github.com/google/trillian/extension"
	tlog "github.com/google/trillian/log"
	"github.com/google/trillian/monitoring"
	"github.com/google/trillian/quota"
	"github.com/google/trillian/server"
	tstorage "github.com/google/trillian/storage"
	"github.com/google/trillian/storage/testonly"
	"github.com/google/trillian/trees"
	"github.com/google/trillian/types"
	"github.com/google/trillian/util/clock"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ProofTreeSize is how many leaves the proofs subtest integrates, in
// batches of varied sizes, before it checks inclusion and consistency
// proofs at every tree size up to it.
const ProofTreeSize = 3000

// TestTrillianStorage checks that the Trillian storage providers newStorage
// returns keep the semantics Trillian's log server and sequencer rely on,
// as Trillian's own MySQL provider defines them: Trillian's admin storage
// tests (storage/testonly), then queueing, dequeueing, sequencing with
// Trillian's sequencer (log.IntegrateBatch), tree heads, reading leaves,
// inclusion and consistency proofs at every tree size up to ProofTreeSize
// (from GetMerkleNodes and from Trillian's log server) checked against
// github.com/transparency-dev/merkle, and tree states. LOG and
// PREORDERED_LOG trees are covered.
//
// newStorage must return storage on a database of its own, empty, each
// time it is called; it is called from parallel subtests, and should
// register on its t the cleanup of what it opens.
func TestTrillianStorage(t *testing.T, newStorage func(t *testing.T) (tstorage.AdminStorage, tstorage.LogStorage)) {
	tlog.InitMetrics(monitoring.InertMetricFactory{})
	t.Run("Admin", func(t *testing.T) {
		t.Parallel()
		// The first storage is made here, so that a backend that is off
		// skips this test rather than the tester's subtests' parent.
		first, _ := newStorage(t)
		tester := testonly.AdminStorageTester{NewAdminStorage: func() tstorage.AdminStorage {
			if admin := first; admin != nil {
				first = nil
				return admin
			}
			admin, _ := newStorage(t)
			return admin
		}}
		tester.RunAllTests(t)
	})
	tests := []struct {
		name string
		run  func(t *testing.T, e *trillianEnv)
	}{
		{"LatestRoot", testLatestRoot},
		{"QueueDuplicates", testQueueDuplicates},
		{"QueueNeedsInit", testQueueNeedsInit},
		{"DequeueOrderLimitCutoff", testDequeueOrderLimitCutoff},
		{"DequeueRollback", testDequeueRollback},
		{"DequeueWithoutSequencing", testDequeueWithoutSequencing},
		{"LeavesByRange", testLeavesByRange},
		{"LeavesByHash", testLeavesByHash},
		{"TreeStates", testTreeStates},
		{"HardDelete", testHardDelete},
		{"Preordered", testPreordered},
		{"ConcurrentQueueAndSequence", testConcurrentQueueAndSequence},
		{"Proofs", testProofs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			admin, logs := newStorage(t)
			registry := extension.Registry{
				AdminStorage:  admin,
				LogStorage:    logs,
				QuotaManager:  quota.Noop(),
				MetricFactory: monitoring.InertMetricFactory{},
			}
			tt.run(t, &trillianEnv{
				t: t, admin: admin, logs: logs, registry: registry,
				server: server.NewTrillianLogRPCServer(registry, clock.System),
			})
		})
	}
}

// trillianEnv is one storage under test, with Trillian's log server on it.
type trillianEnv struct {
	t        *testing.T
	admin    tstorage.AdminStorage
	logs     tstorage.LogStorage
	registry extension.Registry
	server   *server.TrillianLogRPCServer
}

// newTree creates a tree of type tt and, unless uninitialised, initialises
// it through the log server.
func (e *trillianEnv) newTree(tt trillian.TreeType, uninitialised bool) *trillian.Tree {
	e.t.Helper()
	tree, err := tstorage.CreateTree(e.t.Context(), e.admin, &trillian.Tree{
		TreeState:       trillian.TreeState_ACTIVE,
		TreeType:        tt,
		DisplayName:     "storagetest",
		Description:     "a tree of the Trillian storage conformance suite",
		MaxRootDuration: durationpb.New(0),
	})
	if err != nil {
		e.t.Fatalf("CreateTree: %v", err)
	}
	if !uninitialised {
		if _, err := e.server.InitLog(e.t.Context(), &trillian.InitLogRequest{LogId: tree.TreeId}); err != nil {
			e.t.Fatalf("InitLog: %v", err)
		}
	}
	return tree
}

func (e *trillianEnv) queue(tree *trillian.Tree, ts time.Time, leaves ...*trillian.LogLeaf) []*trillian.QueuedLogLeaf {
	e.t.Helper()
	queued, err := e.logs.QueueLeaves(e.t.Context(), tree, leaves, ts)
	if err != nil {
		e.t.Fatalf("QueueLeaves: %v", err)
	}
	if len(queued) != len(leaves) {
		e.t.Fatalf("QueueLeaves returned %d results for %d leaves", len(queued), len(leaves))
	}
	return queued
}

// integrate runs one pass of Trillian's sequencer over tree and returns how
// many leaves it integrated.
func (e *trillianEnv) integrate(tree *trillian.Tree, limit int) int {
	e.t.Helper()
	n, err := tlog.IntegrateBatch(e.t.Context(), tree, limit, 0, 0, clock.System, e.logs, quota.Noop())
	if err != nil {
		e.t.Fatalf("IntegrateBatch: %v", err)
	}
	return n
}

// integrateAll integrates until the queue is empty.
func (e *trillianEnv) integrateAll(tree *trillian.Tree) {
	e.t.Helper()
	for e.integrate(tree, 1000) > 0 {
	}
}

// root returns tree's latest root, read in a snapshot.
func (e *trillianEnv) root(tree *trillian.Tree) types.LogRootV1 {
	e.t.Helper()
	var root types.LogRootV1
	e.snapshot(tree, func(tx tstorage.ReadOnlyLogTreeTX) error {
		slr, err := tx.LatestSignedLogRoot(e.t.Context())
		if err != nil {
			return err
		}
		return root.UnmarshalBinary(slr.LogRoot)
	})
	return root
}

// snapshot runs f in a snapshot of tree and commits it; an error fails t.
func (e *trillianEnv) snapshot(tree *trillian.Tree, f func(tx tstorage.ReadOnlyLogTreeTX) error) {
	e.t.Helper()
	tx, err := e.logs.SnapshotForTree(e.t.Context(), tree)
	if err != nil {
		if tx != nil {
			tx.Close()
		}
		e.t.Fatalf("SnapshotForTree: %v", err)
	}
	defer tx.Close()
	if err := f(tx); err != nil {
		e.t.Fatal(err)
	}
	if err := tx.Commit(e.t.Context()); err != nil {
		e.t.Fatalf("Commit of snapshot: %v", err)
	}
}

// leavesByRange reads leaves [start, start+count) of tree, in as many calls
// as the storage needs, checking that each call returns a non-empty prefix.
func (e *trillianEnv) leavesByRange(tree *trillian.Tree, start, count int64) []*trillian.LogLeaf {
	e.t.Helper()
	var all []*trillian.LogLeaf
	for int64(len(all)) < count {
		next := start + int64(len(all))
		e.snapshot(tree, func(tx tstorage.ReadOnlyLogTreeTX) error {
			leaves, err := tx.GetLeavesByRange(e.t.Context(), next, count-int64(len(all)))
			if err != nil {
				return fmt.Errorf("GetLeavesByRange(%d, %d): %w", next, count-int64(len(all)), err)
			}
			if len(leaves) == 0 {
				return fmt.Errorf("GetLeavesByRange(%d, %d) returned no leaves", next, count-int64(len(all)))
			}
			for i, leaf := range leaves {
				if leaf.LeafIndex != next+int64(i) {
					return fmt.Errorf("GetLeavesByRange(%d, ...)[%d] has index %d", next, i, leaf.LeafIndex)
				}
			}
			all = append(all, leaves...)
			return nil
		})
	}
	return all
}

// treeContext returns a context carrying tree, so that the log server does
// not read it again from admin storage on each call.
func (e *trillianEnv) treeContext(tree *trillian.Tree) context.Context {
	return trees.NewContext(e.t.Context(), tree)
}

func (e *trillianEnv) checkInclusion(ctx context.Context, tree *trillian.Tree, index, size uint64, leafHash, root []byte) {
	e.t.Helper()
	resp, err := e.server.GetInclusionProof(ctx, &trillian.GetInclusionProofRequest{
		LogId: tree.TreeId, LeafIndex: int64(index), TreeSize: int64(size),
	})
	if err != nil {
		e.t.Fatalf("GetInclusionProof(%d, %d): %v", index, size, err)
	}
	if resp.Proof == nil {
		e.t.Fatalf("GetInclusionProof(%d, %d): no proof", index, size)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, leafHash, resp.Proof.Hashes, root); err != nil {
		e.t.Fatalf("inclusion proof of %d in %d: %v", index, size, err)
	}
}

func (e *trillianEnv) checkConsistency(ctx context.Context, tree *trillian.Tree, size1, size2 uint64, root1, root2 []byte) {
	e.t.Helper()
	resp, err := e.server.GetConsistencyProof(ctx, &trillian.GetConsistencyProofRequest{
		LogId: tree.TreeId, FirstTreeSize: int64(size1), SecondTreeSize: int64(size2),
	})
	if err != nil {
		e.t.Fatalf("GetConsistencyProof(%d, %d): %v", size1, size2, err)
	}
	if resp.Proof == nil {
		e.t.Fatalf("GetConsistencyProof(%d, %d): no proof", size1, size2)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, resp.Proof.Hashes, root1, root2); err != nil {
		e.t.Fatalf("consistency proof %d -> %d: %v", size1, size2, err)
	}
}

// newLeaf returns a leaf whose identity hash is its Merkle leaf hash, as in
// govlog's logs.
func newLeaf(value string) *trillian.LogLeaf {
	h := rfc6962.DefaultHasher.HashLeaf([]byte(value))
	return &trillian.LogLeaf{LeafValue: []byte(value), MerkleLeafHash: h, LeafIdentityHash: h}
}

// newLeafWithID returns a leaf whose identity hash is derived from id, not
// from its value.
func newLeafWithID(id, value string) *trillian.LogLeaf {
	identity := sha256.Sum256([]byte(id))
	return &trillian.LogLeaf{
		LeafValue: []byte(value), ExtraData: []byte("extra " + value),
		MerkleLeafHash: rfc6962.DefaultHasher.HashLeaf([]byte(value)), LeafIdentityHash: identity[:],
	}
}

func code(q *trillian.QueuedLogLeaf) codes.Code { return codes.Code(q.GetStatus().GetCode()) }

// expectedRoots returns the RFC 6962 root of each prefix of leafHashes,
// from the empty tree on.
func expectedRoots(t *testing.T, leafHashes [][]byte) [][]byte {
	t.Helper()
	roots := [][]byte{rfc6962.DefaultHasher.EmptyRoot()}
	cr := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	for _, h := range leafHashes {
		if err := cr.Append(h, nil); err != nil {
			t.Fatal(err)
		}
		root, err := cr.GetRootHash(nil)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, root)
	}
	return roots
}

func testLatestRoot(t *testing.T, e *trillianEnv) {
	ctx := t.Context()
	tree := e.newTree(trillian.TreeType_LOG, true)

	tx, err := e.logs.SnapshotForTree(ctx, tree)
	if !errors.Is(err, tstorage.ErrTreeNeedsInit) {
		t.Errorf("SnapshotForTree of a tree without a root: %v, want ErrTreeNeedsInit", err)
	}
	if tx != nil {
		if _, err := tx.LatestSignedLogRoot(ctx); !errors.Is(err, tstorage.ErrTreeNeedsInit) {
			t.Errorf("LatestSignedLogRoot of a tree without a root: %v, want ErrTreeNeedsInit", err)
		}
		if err := tx.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}

	store := func(root types.LogRootV1, fail bool) error {
		return e.logs.ReadWriteTransaction(ctx, tree, func(ctx context.Context, tx tstorage.LogTreeTX) error {
			b, err := root.MarshalBinary()
			if err != nil {
				return err
			}
			if err := tx.StoreSignedLogRoot(ctx, &trillian.SignedLogRoot{LogRoot: b}); err != nil {
				return err
			}
			if fail {
				return errors.New("rolled back on purpose")
			}
			return nil
		})
	}
	first := types.LogRootV1{RootHash: rfc6962.DefaultHasher.EmptyRoot(), TimestampNanos: 1000}
	if err := store(first, false); err != nil {
		t.Fatalf("storing the first root: %v", err)
	}
	if got := e.root(tree); got.TreeSize != 0 || !bytes.Equal(got.RootHash, first.RootHash) || got.TimestampNanos != first.TimestampNanos {
		t.Errorf("after storing the first root, LatestSignedLogRoot = %+v, want %+v", got, first)
	}

	second := types.LogRootV1{TreeSize: 1, RootHash: bytes.Repeat([]byte{2}, 32), TimestampNanos: 2000}
	if err := store(second, true); err == nil {
		t.Fatal("a failing ReadWriteTransaction returned no error")
	}
	if got := e.root(tree); got.TimestampNanos != first.TimestampNanos {
		t.Errorf("after a rolled-back root, LatestSignedLogRoot = %+v, want %+v", got, first)
	}
	if err := store(second, false); err != nil {
		t.Fatalf("storing the second root: %v", err)
	}
	if got := e.root(tree); got.TreeSize != 1 || !bytes.Equal(got.RootHash, second.RootHash) || got.TimestampNanos != second.TimestampNanos {
		t.Errorf("after storing the second root, LatestSignedLogRoot = %+v, want %+v", got, second)
	}
}

func testQueueDuplicates(t *testing.T, e *trillianEnv) {
	tree := e.newTree(trillian.TreeType_LOG, false)
	t1 := time.Unix(1700000000, 123456789)
	a := newLeafWithID("a", "first value of a")
	b := newLeafWithID("b", "value of b")
	a2 := newLeafWithID("a", "second value of a")

	checkOriginal := func(when string, q *trillian.QueuedLogLeaf) {
		t.Helper()
		if code(q) != codes.AlreadyExists {
			t.Errorf("%s: status %v, want AlreadyExists", when, q.GetStatus())
			return
		}
		got := q.Leaf
		if !bytes.Equal(got.GetLeafIdentityHash(), a.LeafIdentityHash) || string(got.GetLeafValue()) != "first value of a" ||
			string(got.GetExtraData()) != "extra first value of a" || !got.GetQueueTimestamp().AsTime().Equal(t1) {
			t.Errorf("%s: returned leaf %v, want the original leaf queued at %v", when, got, t1)
		}
	}

	queued := e.queue(tree, t1, a, b, a2)
	for i, want := range []codes.Code{codes.OK, codes.OK, codes.AlreadyExists} {
		if got := code(queued[i]); got != want {
			t.Errorf("queueing [a, b, a again]: leaf %d has status %v, want %v", i, queued[i].GetStatus(), want)
		}
	}
	if got := queued[0].Leaf; string(got.GetLeafValue()) != "first value of a" || !got.GetQueueTimestamp().AsTime().Equal(t1) {
		t.Errorf("queued leaf returned as %v, want the leaf with its queue time", got)
	}
	checkOriginal("duplicate in the same batch", queued[2])

	queued = e.queue(tree, t1.Add(time.Hour), a2)
	checkOriginal("duplicate in a later batch", queued[0])

	e.integrateAll(tree)
	if got := e.root(tree).TreeSize; got != 2 {
		t.Fatalf("after integrating [a, b, a, a], tree size %d, want 2", got)
	}
	queued = e.queue(tree, t1.Add(2*time.Hour), a2)
	checkOriginal("duplicate of a sequenced leaf", queued[0])
	e.integrateAll(tree)
	if got := e.root(tree).TreeSize; got != 2 {
		t.Errorf("after queueing a sequenced leaf again and integrating, tree size %d, want 2", got)
	}
	leaves := e.leavesByRange(tree, 0, 2)
	for _, leaf := range leaves {
		if bytes.Equal(leaf.LeafIdentityHash, a.LeafIdentityHash) && string(leaf.LeafValue) != "first value of a" {
			t.Errorf("sequenced leaf a has value %q, want the first one", leaf.LeafValue)
		}
	}
}

func testQueueNeedsInit(t *testing.T, e *trillianEnv) {
	tree := e.newTree(trillian.TreeType_LOG, true)
	_, err := e.logs.QueueLeaves(t.Context(), tree, []*trillian.LogLeaf{newLeaf("x")}, time.Now())
	if !errors.Is(err, tstorage.ErrTreeNeedsInit) {
		t.Errorf("QueueLeaves to a tree without a root: %v, want ErrTreeNeedsInit", err)
	}
}

// dequeue dequeues in a transaction that it then rolls back, and returns
// the leaves' values.
func (e *trillianEnv) dequeue(tree *trillian.Tree, limit int, cutoff time.Time) []string {
	e.t.Helper()
	var values []string
	errRollback := errors.New("roll back")
	err := e.logs.ReadWriteTransaction(e.t.Context(), tree, func(ctx context.Context, tx tstorage.LogTreeTX) error {
		leaves, err := tx.DequeueLeaves(ctx, limit, cutoff)
		if err != nil {
			return err
		}
		values = nil
		for _, leaf := range leaves {
			values = append(values, e.valueOf(leaf.MerkleLeafHash))
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		e.t.Fatalf("DequeueLeaves: %v", err)
	}
	return values
}

// valueOf names leaves made by newLeaf from their Merkle leaf hash.
func (e *trillianEnv) valueOf(merkleHash []byte) string {
	for _, v := range []string{"t1", "t2", "t3", "t5", "same time 1", "same time 2", "x", "y", "z"} {
		if bytes.Equal(newLeaf(v).MerkleLeafHash, merkleHash) {
			return v
		}
	}
	return fmt.Sprintf("%x", merkleHash)
}

func testDequeueOrderLimitCutoff(t *testing.T, e *trillianEnv) {
	tree := e.newTree(trillian.TreeType_LOG, false)
	t0 := time.Now().Add(-time.Hour)
	e.queue(tree, t0.Add(3*time.Second), newLeaf("t3"))
	e.queue(tree, t0.Add(1*time.Second), newLeaf("t1"))
	e.queue(tree, t0.Add(5*time.Second), newLeaf("t5"))
	e.queue(tree, t0.Add(2*time.Second), newLeaf("t2"))
	// Leaves queued at the same time leave in identity hash order.
	same1, same2 := newLeaf("same time 1"), newLeaf("same time 2")
	if bytes.Compare(same1.LeafIdentityHash, same2.LeafIdentityHash) > 0 {
		same1, same2 = same2, same1
	}
	e.queue(tree, t0.Add(4*time.Second), same2, same1)

	tests := []struct {
		name   string
		limit  int
		cutoff time.Time
		want   []string
	}{
		{"all", 10, t0.Add(time.Minute), []string{"t1", "t2", "t3", e.valueOf(same1.MerkleLeafHash), e.valueOf(same2.MerkleLeafHash), "t5"}},
		{"limit", 2, t0.Add(time.Minute), []string{"t1", "t2"}},
		{"cutoff inclusive", 10, t0.Add(3 * time.Second), []string{"t1", "t2", "t3"}},
		{"cutoff and limit", 1, t0.Add(3 * time.Second), []string{"t1"}},
		{"cutoff before all", 10, t0, nil},
		{"zero limit", 0, t0.Add(time.Minute), nil},
	}
	for _, tt := range tests {
		if got := e.dequeue(tree, tt.limit, tt.cutoff); !slices.Equal(got, tt.want) {
			t.Errorf("%s: DequeueLeaves(%d, t0+%v) = %q, want %q", tt.name, tt.limit, tt.cutoff.Sub(t0), got, tt.want)
		}
	}
}

func testDequeueRollback(t *testing.T, e *trillianEnv) {
	tree := e.newTree(trillian.TreeType_LOG, false)
	e.queue(tree, time.Now().Add(-time.Minute), newLeaf("x"), newLeaf("y"), newLeaf("z"))

	errRollback := errors.New("roll back")
	err := e.logs.ReadWriteTransaction(t.Context(), tree, func(ctx context.Context, tx tstorage.LogTreeTX) error {
		leaves, err := tx.DequeueLeaves(ctx, 10, time.Now())
		if err != nil {
			return err
		}
		if len(leaves) != 3 {
			t.Errorf("DequeueLeaves returned %d leaves, want 3", len(leaves))
		}
		now := time.Now()
		for i, leaf := range leaves {
			leaf.LeafIndex = int64(i)
			leaf.IntegrateTimestamp = timestamppb.New(now)
		}
		if err := tx.UpdateSequencedLeaves(ctx, leaves); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("ReadWriteTransaction: %v", err)
	}
	if got := e.dequeue(tree, 10, time.Now()); len(got) != 3 {
		t.Errorf("after a rolled-back sequencing, DequeueLeaves = %q, want all 3 leaves again", got)
	}
	e.integrateAll(tree)
	if got := e.root(tree).TreeSize; got != 3 {
		t.Errorf("after integrating, tree size %d, want 3", got)
	}
	if got := e.dequeue(tree, 10, time.Now()); len(got) != 0 {
		t.Errorf("after integrating, DequeueLeaves = %q, want none", got)
	}
}

func testDequeueWithoutSequencing(t *testing.T, e *trillianEnv) {
	tree := e.newTree(trillian.TreeType_LOG, false)
	e.queue(tree, time.Now().Add(-time.Minute), newLeaf("x"), newLeaf("y"))
	err := e.logs.ReadWriteTransaction(t.Context(), tree, func(ctx context.Context, tx tstorage.LogTreeTX) error {
		leaves, err := tx.DequeueLeaves(ctx, 10, time.Now())
		if len(leaves) != 2 {
			t.Errorf("DequeueLeaves returned %d leaves, want 2", len(leaves))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.dequeue(tree, 10, time.Now()); len(got) != 2 {
		t.Errorf("leaves dequeued but not sequenced in a committed transaction: DequeueLeaves = %q, want both again", got)
	}
}

func testLeavesByRange(t *testing.T, e *trillianEnv) {
	ctx := t.Context()
	tree := e.newTree(trillian.TreeType_LOG, false)
	e.snapshot(tree, func(tx tstorage.ReadOnlyLogTreeTX) error {
		if _, err := tx.GetLeavesByRange(ctx, 0, 1); status.Code(err) != codes.OutOfRange {
			t.Errorf("GetLeavesByRange(0, 1) of the empty tree: %v, want OutOfRange", err)
		}
		return nil
	})

	queuedAt := time.Now().Add(-time.Minute).Truncate(time.Microsecond)
	var leaves []*trillian.LogLeaf
	for i := range 10 {
		leaves = append(leaves, newLeafWithID(fmt.Sprint(i), fmt.Sprintf("leaf %d", i)))
	}
	e.queue(tree, queuedAt, leaves...)
	e.integrateAll(tree)
	e.queue(tree, queuedAt, newLeaf("queued, not sequenced"))

	byIdentity := map[string]*trillian.LogLeaf{}
	for _, leaf := range leaves {
		byIdentity[string(leaf.LeafIdentityHash)] = leaf
	}
	got := e.leavesByRange(tree, 0, 10)
	for _, leaf := range got {
		want := byIdentity[string(leaf.LeafIdentityHash)]
		if want == nil {
			t.Errorf("leaf %d: unknown identity hash %x", leaf.LeafIndex, leaf.LeafIdentityHash)
			continue
		}
		delete(byIdentity, string(leaf.LeafIdentityHash))
		if !bytes.Equal(leaf.LeafValue, want.LeafValue) || !bytes.Equal(leaf.ExtraData, want.ExtraData) || !bytes.Equal(leaf.MerkleLeafHash, want.MerkleLeafHash) {
			t.Errorf("leaf %d = %v, want %v", leaf.LeafIndex, leaf, want)
		}
		if !leaf.GetQueueTimestamp().AsTime().Equal(queuedAt) {
			t.Errorf("leaf %d queued at %v, want %v", leaf.LeafIndex, leaf.GetQueueTimestamp().AsTime(), queuedAt)
		}
		if leaf.IntegrateTimestamp == nil || leaf.IntegrateTimestamp.AsTime().Before(queuedAt) {
			t.Errorf("leaf %d integrated at %v, want a time after it was queued", leaf.LeafIndex, leaf.IntegrateTimestamp)
		}
	}
	if len(byIdentity) != 0 {
		t.Errorf("%d queued leaves missing from the tree", len(byIdentity))
	}

	tests := []struct {
		name         string
		start, count int64
		wantCode     codes.Code
		wantLen      int
	}{
		{"middle", 3, 4, codes.OK, 4},
		{"past the end", 3, 100, codes.OK, 7},
		{"last", 9, 1, codes.OK, 1},
		{"start at size", 10, 1, codes.OutOfRange, 0},
		{"start past size", 11, 1, codes.OutOfRange, 0},
		{"zero count", 0, 0, codes.InvalidArgument, 0},
		{"negative count", 0, -1, codes.InvalidArgument, 0},
		{"negative start", -1, 1, codes.InvalidArgument, 0},
	}
	e.snapshot(tree, func(tx tstorage.ReadOnlyLogTreeTX) error {
		for _, tt := range tests {
			leaves, err := tx.GetLeavesByRange(ctx, tt.start, tt.count)
			if status.Code(err) != tt.wantCode {
				t.Errorf("%s: GetLeavesByRange(%d, %d): %v, want code %v", tt.name, tt.start, tt.count, err, tt.wantCode)
				continue
			}
			if len(leaves) != tt.wantLen {
				t.Errorf("%s: GetLeavesByRange(%d, %d) returned %d leaves, want %d", tt.name, tt.start, tt.count, len(leaves), tt.wantLen)
			}
			for i, leaf := range leaves {
				if leaf.LeafIndex != tt.start+int64(i) || !bytes.Equal(leaf.LeafIdentityHash, got[leaf.LeafIndex].LeafIdentityHash) {
					t.Errorf("%s: GetLeavesByRange(%d, %d)[%d] is leaf %d", tt.name, tt.start, tt.count, i, leaf.LeafIndex)
				}
			}
		}
		return nil
	})
}

func testLeavesByHash(t *testing.T, e *trillianEnv) {
	ctx := t.Context()
	tree := e.newTree(trillian.TreeType_LOG, false)
	base := time.Now().Add(-time.Hour)
	for i := range 6 {
		e.queue(tree, base.Add(time.Duration(i)*time.Second), newLeaf(fmt.Sprintf("leaf %d", i)))
	}
	// Two leaves with the same value, so the same Merkle leaf hash, but
	// different identities: a log that allows duplicates.
	e.queue(tree, base.Add(10*time.Second), newLeafWithID("twin 1", "twin"))
	e.queue(tree, base.Add(11*time.Second), newLeafWithID("twin 2", "twin"))
	e.integrateAll(tree)
	e.queue(tree, base.Add(12*time.Second), newLeaf("queued, not sequenced"))

	hash := func(v string) []byte { return rfc6962.DefaultHasher.HashLeaf([]byte(v)) }
	tests := []struct {
		name    string
		hashes  [][]byte
		ordered bool
		want    []int64 // leaf indexes; in this order if ordered
	}{
		{"one", [][]byte{hash("leaf 3")}, true, []int64{3}},
		{"ordered by sequence", [][]byte{hash("leaf 5"), hash("leaf 1"), hash("leaf 2")}, true, []int64{1, 2, 5}},
		{"unordered", [][]byte{hash("leaf 5"), hash("leaf 0")}, false, []int64{0, 5}},
		{"unknown", [][]byte{hash("no such leaf")}, true, nil},
		{"unknown among known", [][]byte{hash("no such leaf"), hash("leaf 4")}, true, []int64{4}},
		{"not sequenced", [][]byte{hash("queued, not sequenced")}, true, nil},
		{"twins", [][]byte{hash("twin")}, true, []int64{6, 7}},
		{"repeated hash", [][]byte{hash("leaf 2"), hash("leaf 2")}, true, []int64{2}},
	}
	e.snapshot(tree, func(tx tstorage.ReadOnlyLogTreeTX) error {
		for _, tt := range tests {
			leaves, err := tx.GetLeavesByHash(ctx, tt.hashes, tt.ordered)
			if err != nil {
				t.Errorf("%s: GetLeavesByHash: %v", tt.name, err)
				continue
			}
			var got []int64
			for _, leaf := range leaves {
				got = append(got, leaf.LeafIndex)
				if !slices.ContainsFunc(tt.hashes, func(h []byte) bool { return bytes.Equal(h, leaf.MerkleLeafHash) }) {
					t.Errorf("%s: GetLeavesByHash returned leaf %d with hash %x, not asked for", tt.name, leaf.LeafIndex, leaf.MerkleLeafHash)
				}
				if !bytes.Equal(rfc6962.DefaultHasher.HashLeaf(leaf.LeafValue), leaf.MerkleLeafHash) {
					t.Errorf("%s: leaf %d has value %q, which does not hash to %x", tt.name, leaf.LeafIndex, leaf.LeafValue, leaf.MerkleLeafHash)
				}
			}
			if !tt.ordered {
				slices.Sort(got)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s: GetLeavesByHash returned leaves %v, want %v", tt.name, got, tt.want)
			}
		}
		return nil
	})
}

func testTreeStates(t *testing.T, e *trillianEnv) {
	ctx := t.Context()
	active := e.newTree(trillian.TreeType_LOG, false)
	draining := e.newTree(trillian.TreeType_LOG, false)
	frozen := e.newTree(trillian.TreeType_LOG, false)
	deleted := e.newTree(trillian.TreeType_LOG, false)
	preordered := e.newTree(trillian.TreeType_PREORDERED_LOG, false)

	// Leaves queued before the tree drains are still integrated after.
	e.queue(draining, time.Now().Add(-time.Minute), newLeaf("x"))
	setState := func(tree *trillian.Tree, state trillian.TreeState) {
		t.Helper()
		_, err := tstorage.UpdateTree(ctx, e.admin, tree.TreeId, func(tree *trillian.Tree) { tree.TreeState = state })
		if err != nil {
			t.Fatalf("UpdateTree to %v: %v", state, err)
		}
	}
	setState(draining, trillian.TreeState_DRAINING)
	setState(frozen, trillian.TreeState_DRAINING)
	setState(frozen, trillian.TreeState_FROZEN)
	if _, err := tstorage.SoftDeleteTree(ctx, e.admin, deleted.TreeId); err != nil {
		t.Fatal(err)
	}

	ids, err := e.logs.GetActiveLogIDs(ctx)
	if err != nil {
		t.Fatalf("GetActiveLogIDs: %v", err)
	}
	slices.Sort(ids)
	want := []int64{active.TreeId, draining.TreeId, preordered.TreeId}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("GetActiveLogIDs = %v, want the active, draining and pre-ordered trees %v (not frozen %d nor deleted %d)", ids, want, frozen.TreeId, deleted.TreeId)
	}

	queueLeaf := func(tree *trillian.Tree) error {
		_, err := e.server.QueueLeaf(ctx, &trillian.QueueLeafRequest{LogId: tree.TreeId, Leaf: &trillian.LogLeaf{LeafValue: []byte("a leaf")}})
		return err
	}
	for _, tt := range []struct {
		name string
		tree *trillian.Tree
		want codes.Code
	}{
		{"active", active, codes.OK},
		{"draining", draining, codes.PermissionDenied},
		{"frozen", frozen, codes.PermissionDenied},
		{"deleted", deleted, codes.NotFound},
	} {
		if err := queueLeaf(tt.tree); status.Code(err) != tt.want {
			t.Errorf("QueueLeaf to the %s tree: %v, want code %v", tt.name, err, tt.want)
		}
	}
	if _, err := e.server.GetLatestSignedLogRoot(ctx, &trillian.GetLatestSignedLogRootRequest{LogId: frozen.TreeId}); err != nil {
		t.Errorf("GetLatestSignedLogRoot of the frozen tree: %v", err)
	}

	// The sequencer integrates active and draining trees, and refuses
	// frozen ones.
	seq := tlog.NewSequencerManager(e.registry, 0)
	info := &tlog.OperationInfo{Registry: e.registry, BatchSize: 100, TimeSource: clock.System}
	for _, tt := range []struct {
		name string
		tree *trillian.Tree
		want uint64
	}{
		{"active", active, 1},
		{"draining", draining, 1},
	} {
		if _, err := seq.ExecutePass(ctx, tt.tree.TreeId, info); err != nil {
			t.Errorf("sequencing the %s tree: %v", tt.name, err)
		}
		if got := e.root(tt.tree).TreeSize; got != tt.want {
			t.Errorf("after sequencing the %s tree, size %d, want %d", tt.name, got, tt.want)
		}
	}
	if _, err := seq.ExecutePass(ctx, frozen.TreeId, info); err == nil {
		t.Error("sequencing the frozen tree succeeded")
	}

	// A frozen pre-ordered log may become a log; nothing else may change type.
	if _, err := tstorage.UpdateTree(ctx, e.admin, active.TreeId, func(tree *trillian.Tree) { tree.TreeType = trillian.TreeType_PREORDERED_LOG }); status.Code(err) != codes.InvalidArgument {
		t.Errorf("changing an active log to a pre-ordered log: %v, want InvalidArgument", err)
	}
	setState(preordered, trillian.TreeState_FROZEN)
	updated, err := tstorage.UpdateTree(ctx, e.admin, preordered.TreeId, func(tree *trillian.Tree) { tree.TreeType = trillian.TreeType_LOG })
	if err != nil {
		t.Fatalf("changing a frozen pre-ordered log to a log: %v", err)
	}
	if got, err := tstorage.GetTree(ctx, e.admin, preordered.TreeId); err != nil || got.TreeType != trillian.TreeType_LOG || updated.TreeType != trillian.TreeType_LOG {
		t.Errorf("after changing its type, tree is %v, %v", got, err)
	}
}

func testHardDelete(t *testing.T, e *trillianEnv) {
	ctx := t.Context()
	tree := e.newTree(trillian.TreeType_LOG, false)
	kept := e.newTree(trillian.TreeType_LOG, false)
	for _, tr := range []*trillian.Tree{tree, kept} {
		e.queue(tr, time.Now().Add(-time.Minute), newLeaf("x"), newLeaf("y"))
		e.integrateAll(tr)
		e.queue(tr, time.Now().Add(-time.Minute), newLeaf("z"))
	}
	if err := tstorage.HardDeleteTree(ctx, e.admin, tree.TreeId); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("HardDeleteTree of a live tree: %v, want FailedPrecondition", err)
	}
	if _, err := tstorage.SoftDeleteTree(ctx, e.admin, tree.TreeId); err != nil {
		t.Fatal(err)
	}
	if err := tstorage.HardDeleteTree(ctx, e.admin, tree.TreeId); err != nil {
		t.Fatalf("HardDeleteTree: %v", err)
	}
	if _, err := tstorage.GetTree(ctx, e.admin, tree.TreeId); status.Code(err) != codes.NotFound {
		t.Errorf("GetTree of a hard-deleted tree: %v, want NotFound", err)
	}
	// Its roots went with it.
	tx, err := e.logs.SnapshotForTree(ctx, tree)
	if tx != nil {
		tx.Close()
	}
	if !errors.Is(err, tstorage.ErrTreeNeedsInit) {
		t.Errorf("SnapshotForTree of a hard-deleted tree: %v, want ErrTreeNeedsInit", err)
	}
	// The other tree is untouched.
	if got := e.root(kept).TreeSize; got != 2 {
		t.Errorf("the other tree has size %d, want 2", got)
	}
	e.integrateAll(kept)
	if got := len(e.leavesByRange(kept, 0, 3)); got != 3 {
		t.Errorf("the other tree has %d leaves, want 3", got)
	}
}

func testPreordered(t *testing.T, e *trillianEnv) {
	ctx := t.Context()
	tree := e.newTree(trillian.TreeType_PREORDERED_LOG, false)
	at := func(index int64, id, value string) *trillian.LogLeaf {
		leaf := newLeafWithID(id, value)
		leaf.LeafIndex = index
		return leaf
	}
	add := func(leaves ...*trillian.LogLeaf) []codes.Code {
		t.Helper()
		res, err := e.logs.AddSequencedLeaves(ctx, tree, leaves, time.Now())
		if err != nil {
			t.Fatalf("AddSequencedLeaves: %v", err)
		}
		var got []codes.Code
		for _, r := range res {
			got = append(got, code(r))
		}
		return got
	}
	var leaves []*trillian.LogLeaf
	for i := range int64(10) {
		leaves = append(leaves, at(i, fmt.Sprint(i), fmt.Sprintf("leaf %d", i)))
	}
	if got := add(leaves...); slices.ContainsFunc(got, func(c codes.Code) bool { return c != codes.OK }) {
		t.Errorf("AddSequencedLeaves of 10 new leaves: %v, want all OK", got)
	}
	if got, want := add(at(3, "other", "another leaf at 3"), at(20, "2", "leaf 2 again"), at(11, "11", "leaf 11")),
		[]codes.Code{codes.FailedPrecondition, codes.FailedPrecondition, codes.OK}; !slices.Equal(got, want) {
		t.Errorf("AddSequencedLeaves of [taken index, taken identity, new]: %v, want %v", got, want)
	}

	// Index 10 is missing: the sequencer integrates up to it and stops.
	e.integrateAll(tree)
	var hashes [][]byte
	for _, leaf := range leaves {
		hashes = append(hashes, leaf.MerkleLeafHash)
	}
	roots := expectedRoots(t, hashes)
	if got := e.root(tree); got.TreeSize != 10 || !bytes.Equal(got.RootHash, roots[10]) {
		t.Fatalf("after integrating leaves 0-9 and 11, root %+v, want size 10 and hash %x", got, roots[10])
	}
	if got := add(at(10, "10", "leaf 10")); !slices.Equal(got, []codes.Code{codes.OK}) {
		t.Errorf("AddSequencedLeaves at 10: %v", got)
	}
	e.integrateAll(tree)
	hashes = append(hashes, newLeafWithID("10", "leaf 10").MerkleLeafHash, newLeafWithID("11", "leaf 11").MerkleLeafHash)
	roots = expectedRoots(t, hashes)
	if got := e.root(tree); got.TreeSize != 12 || !bytes.Equal(got.RootHash, roots[12]) {
		t.Fatalf("after adding leaf 10, root %+v, want size 12 and hash %x", got, roots[12])
	}
	for i, leaf := range e.leavesByRange(tree, 0, 12) {
		if !bytes.Equal(leaf.MerkleLeafHash, hashes[i]) {
			t.Errorf("leaf %d has hash %x, want %x", i, leaf.MerkleLeafHash, hashes[i])
		}
	}
	pctx := e.treeContext(tree)
	for size := uint64(1); size <= 12; size++ {
		e.checkInclusion(pctx, tree, size-1, size, hashes[size-1], roots[size])
		e.checkConsistency(pctx, tree, size, 12, roots[size], roots[12])
	}
}

func testConcurrentQueueAndSequence(t *testing.T, e *trillianEnv) {
	tree := e.newTree(trillian.TreeType_LOG, false)
	const writers, batches, perBatch = 4, 10, 10
	// Writers overlap by half, so some leaves are queued twice at once.
	want := map[string]bool{}
	for w := range writers {
		for i := range batches * perBatch {
			want[fmt.Sprintf("leaf %d", w*batches*perBatch/2+i)] = true
		}
	}

	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	done := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				var leaves []*trillian.LogLeaf
				for i := range perBatch {
					leaves = append(leaves, newLeaf(fmt.Sprintf("leaf %d", w*batches*perBatch/2+b*perBatch+i)))
				}
				// A failed QueueLeaves is retried, as govlog's outbox does:
				// Trillian's MySQL provider can fail a batch that races
				// another one queueing the same leaves ("failed to retrieve
				// all existing leaves").
				for attempt := 1; ; attempt++ {
					_, err := e.logs.QueueLeaves(t.Context(), tree, leaves, time.Now())
					if err == nil {
						break
					}
					if attempt == 5 {
						errs <- fmt.Errorf("QueueLeaves, %d attempts: %w", attempt, err)
						return
					}
					t.Logf("QueueLeaves failed, retrying: %v", err)
				}
			}
		})
	}
	var seqWG sync.WaitGroup
	seqWG.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := tlog.IntegrateBatch(t.Context(), tree, 17, 0, 0, clock.System, e.logs, quota.Noop()); err != nil {
				errs <- fmt.Errorf("IntegrateBatch: %w", err)
				return
			}
		}
	})
	wg.Wait()
	close(done)
	seqWG.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	e.integrateAll(tree)

	size := e.root(tree).TreeSize
	if size != uint64(len(want)) {
		t.Fatalf("tree size %d, want %d distinct leaves", size, len(want))
	}
	var hashes [][]byte
	for _, leaf := range e.leavesByRange(tree, 0, int64(size)) {
		if !want[string(leaf.LeafValue)] {
			t.Errorf("leaf %d is %q: unexpected or twice in the tree", leaf.LeafIndex, leaf.LeafValue)
		}
		delete(want, string(leaf.LeafValue))
		hashes = append(hashes, leaf.MerkleLeafHash)
	}
	roots := expectedRoots(t, hashes)
	if got := e.root(tree).RootHash; !bytes.Equal(got, roots[size]) {
		t.Errorf("root hash %x, want %x", got, roots[size])
	}
}

// testProofs queues and integrates ProofTreeSize leaves in batches of
// varied sizes, checking each root and a few proofs from the log server as
// the tree grows, then inclusion and consistency proofs at every tree size.
func testProofs(t *testing.T, e *trillianEnv) {
	tree := e.newTree(trillian.TreeType_LOG, false)
	ctx := e.treeContext(tree)
	rnd := rand.New(rand.NewPCG(1, 2))

	// Each queued batch shares a queue time, one second after the last, so
	// the dequeue order, hence each leaf's index, is known: by batch, then
	// by identity hash.
	var order [][]byte
	queueSizes := []int{1, 3, 17, 64, 100, 255, 256, 257, 2, 511}
	integrateLimits := []int{1, 50, 256, 7, 300, 1000, 129, 2}
	base := time.Now().Add(-24 * time.Hour)
	queued, sizes := 0, []uint64{0}
	for step := 0; ; step++ {
		if queued < ProofTreeSize {
			n := min(queueSizes[step%len(queueSizes)], ProofTreeSize-queued)
			var batch []*trillian.LogLeaf
			for i := range n {
				batch = append(batch, newLeaf(fmt.Sprintf("leaf %d", queued+i)))
			}
			e.queue(tree, base.Add(time.Duration(step)*time.Second), batch...)
			slices.SortFunc(batch, func(a, b *trillian.LogLeaf) int { return bytes.Compare(a.LeafIdentityHash, b.LeafIdentityHash) })
			for _, leaf := range batch {
				order = append(order, leaf.MerkleLeafHash)
			}
			queued += n
		}
		n := e.integrate(tree, integrateLimits[step%len(integrateLimits)])
		if n == 0 && queued == ProofTreeSize {
			break
		}
		size := e.root(tree).TreeSize
		if size != sizes[len(sizes)-1]+uint64(n) {
			t.Fatalf("integrated %d leaves into size %d, got size %d", n, sizes[len(sizes)-1], size)
		}
		roots := expectedRoots(t, order[:size])
		if got := e.root(tree).RootHash; !bytes.Equal(got, roots[size]) {
			t.Fatalf("at size %d, root hash %x, want %x", size, got, roots[size])
		}
		if size > 0 {
			e.checkInclusion(ctx, tree, size-1, size, order[size-1], roots[size])
			e.checkInclusion(ctx, tree, 0, size, order[0], roots[size])
			i := rnd.Uint64N(size)
			e.checkInclusion(ctx, tree, i, size, order[i], roots[size])
		}
		if prev := sizes[len(sizes)-1]; prev > 0 && prev < size {
			e.checkConsistency(ctx, tree, prev, size, roots[prev], roots[size])
		}
		sizes = append(sizes, size)
	}
	const n = ProofTreeSize
	if len(order) != n {
		t.Fatalf("queued %d leaves, want %d", len(order), n)
	}

	leaves := e.leavesByRange(tree, 0, n)
	for i, leaf := range leaves {
		if !bytes.Equal(leaf.MerkleLeafHash, order[i]) {
			t.Fatalf("leaf %d has hash %x, want %x", i, leaf.MerkleLeafHash, order[i])
		}
		if !bytes.Equal(rfc6962.DefaultHasher.HashLeaf(leaf.LeafValue), order[i]) {
			t.Fatalf("leaf %d has value %q, which does not hash to %x", i, leaf.LeafValue, order[i])
		}
	}

	// Every tree size, in one snapshot: the nodes the proofs need, read
	// through GetMerkleNodes and rehashed as Trillian's log server does.
	roots := expectedRoots(t, order)
	e.snapshot(tree, func(tx tstorage.ReadOnlyLogTreeTX) error {
		prove := func(nodes proof.Nodes, err error) [][]byte {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			got, err := tx.GetMerkleNodes(ctx, nodes.IDs)
			if err != nil {
				t.Fatalf("GetMerkleNodes: %v", err)
			}
			if len(got) != len(nodes.IDs) {
				t.Fatalf("GetMerkleNodes returned %d nodes for %d IDs", len(got), len(nodes.IDs))
			}
			hashes := make([][]byte, len(got))
			for i, node := range got {
				if node.ID != nodes.IDs[i] {
					t.Fatalf("GetMerkleNodes returned node %+v for %+v", node.ID, nodes.IDs[i])
				}
				hashes[i] = node.Hash
			}
			p, err := nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		inclusion := func(index, size uint64) {
			t.Helper()
			p := prove(proof.Inclusion(index, size))
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, order[index], p, roots[size]); err != nil {
				t.Fatalf("inclusion proof of %d in %d: %v", index, size, err)
			}
		}
		consistency := func(size1, size2 uint64) {
			t.Helper()
			p := prove(proof.Consistency(size1, size2))
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, p, roots[size1], roots[size2]); err != nil {
				t.Fatalf("consistency proof %d -> %d: %v", size1, size2, err)
			}
		}
		for size := uint64(1); size <= n; size++ {
			inclusion(size-1, size)
			inclusion(rnd.Uint64N(size), size)
			if size < n {
				consistency(size, n)
			}
			if size > 1 {
				consistency(1+rnd.Uint64N(size-1), size)
			}
		}
		return nil
	})

	// A sample of sizes through the log server, one snapshot per proof.
	for range 100 {
		size := 1 + rnd.Uint64N(n)
		i := rnd.Uint64N(size)
		e.checkInclusion(ctx, tree, i, size, order[i], roots[size])
		if size < n {
			e.checkConsistency(ctx, tree, size, n, roots[size], roots[n])
		}
	}

	// Proofs by hash, as govlog's log server asks for them.
	for range 20 {
		i := rnd.Uint64N(n)
		size := i + 1 + rnd.Uint64N(n-i)
		resp, err := e.server.GetInclusionProofByHash(ctx, &trillian.GetInclusionProofByHashRequest{
			LogId: tree.TreeId, LeafHash: order[i], TreeSize: int64(size), OrderBySequence: true,
		})
		if err != nil {
			t.Fatalf("GetInclusionProofByHash(leaf %d, size %d): %v", i, size, err)
		}
		if len(resp.Proof) != 1 || resp.Proof[0].LeafIndex != int64(i) {
			t.Fatalf("GetInclusionProofByHash(leaf %d, size %d) = %v, want one proof for index %d", i, size, resp.Proof, i)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, i, size, order[i], resp.Proof[0].Hashes, roots[size]); err != nil {
			t.Fatalf("inclusion proof by hash of %d in %d: %v", i, size, err)
		}
	}
}
