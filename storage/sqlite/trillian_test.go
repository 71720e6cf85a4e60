package sqlite_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/trillian"
	"github.com/google/trillian/extension"
	tlog "github.com/google/trillian/log"
	"github.com/google/trillian/monitoring"
	"github.com/google/trillian/quota"
	"github.com/google/trillian/server"
	tstorage "github.com/google/trillian/storage"
	"github.com/google/trillian/types"
	"github.com/google/trillian/util/clock"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/govlog/govlog"
	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/storage/sqlite"
	"github.com/govlog/govlog/storage/storagetest"
)

func TestTrillianStorage(t *testing.T) {
	tests := []struct {
		name string
		path func(t *testing.T) string
	}{
		{"file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "govlog.db") }},
		{"memory", func(*testing.T) string { return sqlite.Memory }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storagetest.TestTrillianStorage(t, func(t *testing.T) (tstorage.AdminStorage, tstorage.LogStorage) {
				return sqlite.TrillianStorage(open(t, tt.path(t)))
			})
		})
	}
}

func open(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenCreatesTrillianSchema(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "govlog.db"))
	rows, err := db.QueryContext(t.Context(), "SELECT name FROM sqlite_schema WHERE type = 'table'")
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
		"trillian_trees", "trillian_tree_heads", "trillian_tiles", "trillian_leaves", "trillian_sequenced", "trillian_unsequenced",
		"govlog_schema", "govlog_state", "govlog_outbox",
	} {
		if !slices.Contains(tables, want) {
			t.Errorf("table %s missing after Open; have %v", want, tables)
		}
	}
}

// TestTrillianReopen checks that a tree, its roots, leaves, tiles and queue
// are all still there, and usable, when the database file is opened again.
func TestTrillianReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "govlog.db")
	tlog.InitMetrics(monitoring.InertMetricFactory{})
	leaf := func(i int) *trillian.LogLeaf {
		v := fmt.Appendf(nil, "leaf %d", i)
		h := rfc6962.DefaultHasher.HashLeaf(v)
		return &trillian.LogLeaf{LeafValue: v, MerkleLeafHash: h, LeafIdentityHash: h}
	}
	newServer := func(admin tstorage.AdminStorage, logs tstorage.LogStorage) *server.TrillianLogRPCServer {
		return server.NewTrillianLogRPCServer(extension.Registry{
			AdminStorage: admin, LogStorage: logs, QuotaManager: quota.Noop(), MetricFactory: monitoring.InertMetricFactory{},
		}, clock.System)
	}

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	admin, logs := sqlite.TrillianStorage(db)
	tree, err := tstorage.CreateTree(ctx, admin, &trillian.Tree{
		TreeState: trillian.TreeState_ACTIVE, TreeType: trillian.TreeType_LOG,
		DisplayName: "reopen", Description: "example.org/reopen", MaxRootDuration: durationpb.New(0),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newServer(admin, logs).InitLog(ctx, &trillian.InitLogRequest{LogId: tree.TreeId}); err != nil {
		t.Fatal(err)
	}
	var leaves []*trillian.LogLeaf
	for i := range 300 {
		leaves = append(leaves, leaf(i))
	}
	if _, err := logs.QueueLeaves(ctx, tree, leaves, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := tlog.IntegrateBatch(ctx, tree, 100, 0, 0, clock.System, logs, quota.Noop()); err != nil {
			t.Fatal(err)
		}
	}
	before := root(t, logs, tree)
	if before.TreeSize != 200 {
		t.Fatalf("tree size %d before reopening, want 200", before.TreeSize)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = open(t, path)
	admin, logs = sqlite.TrillianStorage(db)
	got, err := tstorage.GetTree(ctx, admin, tree.TreeId)
	if err != nil {
		t.Fatalf("GetTree after reopening: %v", err)
	}
	if got.Description != tree.Description || !got.CreateTime.AsTime().Equal(tree.CreateTime.AsTime()) {
		t.Errorf("after reopening, tree is %v, want %v", got, tree)
	}
	after := root(t, logs, tree)
	if after.TreeSize != before.TreeSize || !bytes.Equal(after.RootHash, before.RootHash) || after.TimestampNanos != before.TimestampNanos {
		t.Errorf("after reopening, root %+v, want %+v", after, before)
	}
	// The 100 leaves still queued are integrated after the restart.
	if n, err := tlog.IntegrateBatch(ctx, tree, 1000, 0, 0, clock.System, logs, quota.Noop()); err != nil || n != 100 {
		t.Fatalf("integrating after reopening: %d leaves, %v; want the 100 still queued", n, err)
	}
	// All queued at once, so sequenced in identity hash order, which is
	// their Merkle leaf hash here.
	var hashes [][]byte
	for _, l := range leaves {
		hashes = append(hashes, l.MerkleLeafHash)
	}
	slices.SortFunc(hashes, bytes.Compare)
	// Proofs at every size, from the tiles written before and after.
	srv := newServer(admin, logs)
	rootAt := func(size uint64) []byte { return rfc6962Root(hashes[:size]) }
	final := rootAt(300)
	if got := root(t, logs, tree); got.TreeSize != 300 || !bytes.Equal(got.RootHash, final) {
		t.Fatalf("after integrating the rest, root %+v, want size 300 and hash %x", got, final)
	}
	// Four roots were written (the initial one, then three batches): only
	// the newest is kept.
	var heads int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM trillian_tree_heads WHERE tree_id = ?", tree.TreeId).Scan(&heads); err != nil || heads != 1 {
		t.Errorf("%d roots kept (%v), want the newest only", heads, err)
	}
	for size := uint64(1); size < 300; size += 7 {
		resp, err := srv.GetConsistencyProof(ctx, &trillian.GetConsistencyProofRequest{LogId: tree.TreeId, FirstTreeSize: int64(size), SecondTreeSize: 300})
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, size, 300, resp.Proof.GetHashes(), rootAt(size), final); err != nil {
			t.Errorf("consistency %d -> 300 after reopening: %v", size, err)
		}
	}
	// Queueing a leaf sequenced before the restart is still a duplicate.
	queued, err := logs.QueueLeaves(ctx, tree, []*trillian.LogLeaf{leaf(5)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if queued[0].GetStatus().GetCode() == 0 {
		t.Errorf("queueing leaf 5 again after reopening: status OK, want AlreadyExists")
	}
}

// rfc6962Root computes the root of the tree of these leaf hashes as RFC
// 6962 section 2.1 defines it.
func rfc6962Root(hashes [][]byte) []byte {
	switch len(hashes) {
	case 0:
		return rfc6962.DefaultHasher.EmptyRoot()
	case 1:
		return hashes[0]
	}
	k := 1 // the largest power of two smaller than len(hashes)
	for k*2 < len(hashes) {
		k *= 2
	}
	return rfc6962.DefaultHasher.HashChildren(rfc6962Root(hashes[:k]), rfc6962Root(hashes[k:]))
}

func root(t *testing.T, logs tstorage.LogStorage, tree *trillian.Tree) types.LogRootV1 {
	t.Helper()
	tx, err := logs.SnapshotForTree(t.Context(), tree)
	if err != nil {
		t.Fatalf("SnapshotForTree: %v", err)
	}
	defer tx.Close()
	slr, err := tx.LatestSignedLogRoot(t.Context())
	if err != nil {
		t.Fatalf("LatestSignedLogRoot: %v", err)
	}
	var r types.LogRootV1
	if err := r.UnmarshalBinary(slr.LogRoot); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSnapshotOfUninitialisedTreeFreesConnection: Trillian's log server
// leaves open the snapshot SnapshotForTree returns with ErrTreeNeedsInit
// (GetLatestSignedLogRoot of a new tree), which on one connection would
// block every other transaction.
func TestSnapshotOfUninitialisedTreeFreesConnection(t *testing.T) {
	admin, logs := sqlite.TrillianStorage(open(t, filepath.Join(t.TempDir(), "govlog.db")))
	tree, err := tstorage.CreateTree(t.Context(), admin, &trillian.Tree{
		TreeState: trillian.TreeState_ACTIVE, TreeType: trillian.TreeType_LOG, MaxRootDuration: durationpb.New(0),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := logs.SnapshotForTree(t.Context(), tree); err != tstorage.ErrTreeNeedsInit {
		t.Fatalf("SnapshotForTree: %v, want ErrTreeNeedsInit", err)
	}
	// Not closed. Another transaction must still get the connection.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := tstorage.GetTree(ctx, admin, tree.TreeId); err != nil {
		t.Errorf("GetTree after an unclosed snapshot of an uninitialised tree: %v", err)
	}
}

// TestTrillianEndToEnd runs govlog's in-process Trillian on a SQLite file,
// logs entries, stops everything, and starts again on the same file: the
// log is the same tree with the same entries and checkpoint, and grows on.
func TestTrillianEndToEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "govlog.db")
	const origin = "example.org/e2e"
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}

	// run starts Trillian and the log on the file, queues leaves, waits
	// until a checkpoint includes them all, and stops everything.
	type batch struct {
		first  uint64
		leaves [][]byte
	}
	run := func(batches ...batch) (treeID int64, signed []byte, cp govlog.Checkpoint, entries [][]byte) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		admin, logs := sqlite.TrillianStorage(db)
		trill, err := logserver.StartTrillian(logserver.TrillianOptions{AdminStorage: admin, LogStorage: logs, SequencerInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer trill.Close()
		l, err := trill.OpenLog(ctx, logserver.LogOptions{Origin: origin, Signer: signer, MMD: time.Minute, PollInterval: 10 * time.Millisecond})
		if err != nil {
			t.Fatalf("OpenLog: %v", err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- l.Run(runCtx) }()
		defer func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}()
		var all [][]byte
		for _, b := range batches {
			if err := l.QueueLeaves(ctx, b.first, b.leaves); err != nil {
				t.Fatalf("QueueLeaves: %v", err)
			}
			all = append(all, b.leaves...)
		}
		for _, leaf := range all {
			if _, _, err := l.WaitForInclusion(ctx, leaf); err != nil {
				t.Fatalf("WaitForInclusion(%q): %v", leaf, err)
			}
		}
		signed, cp = l.Checkpoint()
		if _, _, err := govlog.OpenCheckpoint(signed, verifier); err != nil {
			t.Fatalf("OpenCheckpoint: %v", err)
		}
		if cp.Size > 0 {
			entries, err = l.Entries(ctx, 0, cp.Size)
			if err != nil {
				t.Fatalf("Entries: %v", err)
			}
		}
		return l.TreeID(), signed, cp, entries
	}

	var first [][]byte
	for i := range 50 {
		first = append(first, fmt.Appendf(nil, "entry %d\n", i))
	}
	id1, signed1, cp1, entries1 := run(batch{0, first})
	if cp1.Size != 50 || len(entries1) != 50 {
		t.Fatalf("first run: checkpoint size %d, %d entries; want 50", cp1.Size, len(entries1))
	}

	// Nothing queued: the same tree, checkpoint and entries.
	id2, signed2, cp2, entries2 := run()
	if id2 != id1 {
		t.Errorf("after restarting, tree %d, want %d", id2, id1)
	}
	if cp2.Size != cp1.Size || cp2.Hash != cp1.Hash || !bytes.Equal(signed2, signed1) {
		t.Errorf("after restarting, checkpoint\n%s\nwant\n%s", signed2, signed1)
	}
	if !slices.EqualFunc(entries2, entries1, bytes.Equal) {
		t.Errorf("after restarting, the entries differ")
	}

	// The log grows on from where it was, with the first entries kept and
	// re-queued ones not logged twice.
	id3, _, cp3, entries3 := run(batch{0, first[:10]}, batch{50, [][]byte{[]byte("entry 50\n"), []byte("entry 51\n")}})
	if id3 != id1 || cp3.Size != 52 {
		t.Fatalf("third run: tree %d size %d, want tree %d size 52", id3, cp3.Size, id1)
	}
	if !slices.EqualFunc(entries3[:50], entries1, bytes.Equal) {
		t.Errorf("third run: the first 50 entries changed")
	}
}

func TestStoreSignedLogRootRefusesShrinking(t *testing.T) {
	ctx := t.Context()
	admin, logs := sqlite.TrillianStorage(open(t, sqlite.Memory))
	tree, err := tstorage.CreateTree(ctx, admin, &trillian.Tree{
		TreeState: trillian.TreeState_ACTIVE, TreeType: trillian.TreeType_LOG, MaxRootDuration: durationpb.New(0),
	})
	if err != nil {
		t.Fatal(err)
	}
	store := func(size, timestamp uint64) error {
		return logs.ReadWriteTransaction(ctx, tree, func(ctx context.Context, tx tstorage.LogTreeTX) error {
			b, err := (&types.LogRootV1{TreeSize: size, RootHash: make([]byte, 32), TimestampNanos: timestamp}).MarshalBinary()
			if err != nil {
				return err
			}
			return tx.StoreSignedLogRoot(ctx, &trillian.SignedLogRoot{LogRoot: b})
		})
	}
	if err := store(5, 1); err != nil {
		t.Fatal(err)
	}
	if err := store(4, 2); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("storing a smaller root: %v, want FailedPrecondition", err)
	}
	if err := store(5, 3); err != nil {
		t.Errorf("storing a root of the same size: %v", err)
	}
}

// TestOpenTrillian: a new store keeps its Trillian trees in a file of its
// own, found again on reopening; a store whose own file already holds a
// tree (made before the trees had a file) keeps them there.
func TestOpenTrillian(t *testing.T) {
	ctx := t.Context()
	makeTree := func(db *sql.DB) int64 {
		t.Helper()
		admin, _ := sqlite.TrillianStorage(db)
		tree, err := tstorage.CreateTree(ctx, admin, &trillian.Tree{
			TreeState: trillian.TreeState_ACTIVE, TreeType: trillian.TreeType_PREORDERED_LOG,
			DisplayName: "t", MaxRootDuration: durationpb.New(0),
		})
		if err != nil {
			t.Fatal(err)
		}
		return tree.TreeId
	}
	trees := func(db *sql.DB) (n int) {
		t.Helper()
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM trillian_trees").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	path := filepath.Join(t.TempDir(), "govlog.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	tdb, closeTrillian, err := sqlite.OpenTrillian(ctx, db, path)
	if err != nil {
		t.Fatal(err)
	}
	if tdb == db {
		t.Fatal("a new store's trees are in its own file")
	}
	makeTree(tdb)
	closeTrillian()
	if tdb, closeTrillian, err = sqlite.OpenTrillian(ctx, db, path); err != nil {
		t.Fatal(err)
	}
	if tdb == db || trees(tdb) != 1 || trees(db) != 0 {
		t.Errorf("reopened: the trees' file holds %d trees, the store's %d", trees(tdb), trees(db))
	}
	closeTrillian()
	db.Close()
	if want := filepath.Join(filepath.Dir(path), "govlog.trillian.db"); sqlite.TrillianPath(path) != want {
		t.Errorf("TrillianPath %s, want %s", sqlite.TrillianPath(path), want)
	}

	old := filepath.Join(t.TempDir(), "govlog.db")
	if db, err = sqlite.Open(ctx, old); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	makeTree(db)
	tdb, closeTrillian, err = sqlite.OpenTrillian(ctx, db, old)
	if err != nil {
		t.Fatal(err)
	}
	defer closeTrillian()
	if tdb != db {
		t.Error("a store whose file holds its tree: the trees moved to another file")
	}
}
