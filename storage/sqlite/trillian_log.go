package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/google/trillian"
	tstorage "github.com/google/trillian/storage"
	"github.com/google/trillian/storage/cache"
	"github.com/google/trillian/storage/storagepb"
	"github.com/google/trillian/storage/tree"
	"github.com/google/trillian/types"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	selectActiveLogIDsSQL = `SELECT tree_id FROM trillian_trees
		WHERE tree_type IN ('LOG', 'PREORDERED_LOG') AND tree_state IN ('ACTIVE', 'DRAINING') AND deleted = 0`

	selectLatestHeadSQL = `SELECT revision, timestamp_nanos, tree_size, root_hash FROM trillian_tree_heads
		WHERE tree_id = ? ORDER BY revision DESC LIMIT 1`
	insertHeadSQL = `INSERT INTO trillian_tree_heads (tree_id, revision, timestamp_nanos, tree_size, root_hash) VALUES (?, ?, ?, ?, ?)`
	// Only the newest head is ever read: the ones before it go when it is
	// written, in its transaction.
	deleteOldHeadsSQL = "DELETE FROM trillian_tree_heads WHERE tree_id = ? AND revision < ?"

	// %s: the tile IDs.
	selectTilesSQL = "SELECT tile FROM trillian_tiles WHERE tree_id = ? AND tile_id IN (%s)"
	upsertTileSQL  = `INSERT INTO trillian_tiles (tree_id, tile_id, revision, tile) VALUES (?, ?, ?, ?)
		ON CONFLICT (tree_id, tile_id) DO UPDATE SET revision = excluded.revision, tile = excluded.tile`

	insertLeafSQL = `INSERT INTO trillian_leaves (tree_id, identity_hash, merkle_hash, value, extra_data, queue_time_nanos)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tree_id, identity_hash) DO NOTHING`
	deleteLeafSQL           = "DELETE FROM trillian_leaves WHERE tree_id = ? AND identity_hash = ?"
	insertUnsequencedSQL    = "INSERT INTO trillian_unsequenced (tree_id, queue_time_nanos, identity_hash) VALUES (?, ?, ?)"
	deleteUnsequencedSQL    = "DELETE FROM trillian_unsequenced WHERE tree_id = ? AND queue_time_nanos = ? AND identity_hash = ?"
	insertSequencedSQL      = "INSERT INTO trillian_sequenced (tree_id, leaf_index, identity_hash, integrate_time_nanos) VALUES (?, ?, ?, ?)"
	insertSequencedIfNewSQL = insertSequencedSQL + " ON CONFLICT DO NOTHING"

	selectQueuedSQL = `SELECT u.identity_hash, l.merkle_hash, u.queue_time_nanos
		FROM trillian_unsequenced u
		JOIN trillian_leaves l ON l.tree_id = u.tree_id AND l.identity_hash = u.identity_hash
		WHERE u.tree_id = ? AND u.queue_time_nanos <= ?
		ORDER BY u.queue_time_nanos, u.identity_hash LIMIT ?`

	// The leaf columns scanLeaf reads.
	leafColumns = "s.leaf_index, l.identity_hash, l.merkle_hash, l.value, l.extra_data, l.queue_time_nanos, s.integrate_time_nanos"

	selectLeavesByRangeSQL = "SELECT " + leafColumns + ` FROM trillian_sequenced s
		JOIN trillian_leaves l ON l.tree_id = s.tree_id AND l.identity_hash = s.identity_hash
		WHERE s.tree_id = ? AND s.leaf_index >= ? AND s.leaf_index < ? ORDER BY s.leaf_index`
	// %s: the Merkle leaf hashes. No ORDER BY: SQLite would then walk the
	// whole tree in index order instead of looking the hashes up.
	selectLeavesByMerkleHashSQL = "SELECT " + leafColumns + ` FROM trillian_leaves l
		JOIN trillian_sequenced s ON s.tree_id = l.tree_id AND s.identity_hash = l.identity_hash
		WHERE l.tree_id = ? AND l.merkle_hash IN (%s)`
	// %s: the identity hashes. Leaves not yet sequenced have a NULL index.
	selectLeavesByIdentityHashSQL = "SELECT " + leafColumns + ` FROM trillian_leaves l
		LEFT JOIN trillian_sequenced s ON s.tree_id = l.tree_id AND s.identity_hash = l.identity_hash
		WHERE l.tree_id = ? AND l.identity_hash IN (%s)`
)

// logStorage implements Trillian's storage.LogStorage.
type logStorage struct {
	db *sql.DB
	// prepared are statements prepared once (see prepare); a transaction
	// runs them on its connection through stmt.
	prepared map[string]*sql.Stmt
}

var _ tstorage.LogStorage = (*logStorage)(nil)

func (s *logStorage) CheckDatabaseAccessible(ctx context.Context) error {
	return s.db.PingContext(ctx)
}

func (s *logStorage) GetActiveLogIDs(ctx context.Context) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, selectActiveLogIDsSQL)
	if err != nil {
		return nil, fmt.Errorf("couldn't list active logs: %w", err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("couldn't list active logs: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("couldn't list active logs: %w", err)
	}
	return ids, nil
}

// SnapshotForTree returns, for a tree without a root, an already closed
// transaction along with ErrTreeNeedsInit (see TrillianStorage).
func (s *logStorage) SnapshotForTree(ctx context.Context, tree *trillian.Tree) (tstorage.ReadOnlyLogTreeTX, error) {
	tx, err := s.begin(ctx, tree, true)
	if errors.Is(err, tstorage.ErrTreeNeedsInit) {
		tx.Close()
	}
	if tx == nil {
		return nil, err
	}
	return tx, err
}

func (s *logStorage) ReadWriteTransaction(ctx context.Context, tree *trillian.Tree, f tstorage.LogTXFunc) error {
	tx, err := s.begin(ctx, tree, false)
	if err != nil && !errors.Is(err, tstorage.ErrTreeNeedsInit) {
		return err
	}
	defer tx.Close()
	if err := f(ctx, tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// QueueLeaves fails with ErrTreeNeedsInit for a tree without a root.
func (s *logStorage) QueueLeaves(ctx context.Context, tree *trillian.Tree, leaves []*trillian.LogLeaf, queueTimestamp time.Time) ([]*trillian.QueuedLogLeaf, error) {
	tx, err := s.begin(ctx, tree, false)
	if tx != nil {
		defer tx.Close()
	}
	if err != nil {
		return nil, err
	}
	queued, err := tx.queueLeaves(ctx, leaves, queueTimestamp)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return queued, nil
}

// AddSequencedLeaves fails with ErrTreeNeedsInit for a tree without a root
// and codes.FailedPrecondition for a tree that is not a PREORDERED_LOG.
func (s *logStorage) AddSequencedLeaves(ctx context.Context, tree *trillian.Tree, leaves []*trillian.LogLeaf, timestamp time.Time) ([]*trillian.QueuedLogLeaf, error) {
	if tree.TreeType != trillian.TreeType_PREORDERED_LOG {
		return nil, status.Errorf(codes.FailedPrecondition, "AddSequencedLeaves: tree %d is a %s, not a PREORDERED_LOG", tree.TreeId, tree.TreeType)
	}
	tx, err := s.begin(ctx, tree, false)
	if tx != nil {
		defer tx.Close()
	}
	if err != nil {
		return nil, err
	}
	added, err := tx.addSequencedLeaves(ctx, leaves, timestamp)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return added, nil
}

// begin starts a transaction on tree at its latest root. For a tree without
// a root it returns the open transaction and ErrTreeNeedsInit; for other
// errors, no transaction.
func (s *logStorage) begin(ctx context.Context, tree *trillian.Tree, readOnly bool) (*logTX, error) {
	sqlTx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return nil, fmt.Errorf("couldn't begin transaction on tree %d: %w", tree.TreeId, err)
	}
	t := &logTX{
		tx:       sqlTx,
		prepared: s.prepared,
		treeID:   tree.TreeId,
		treeType: tree.TreeType,
		readOnly: readOnly,
		tiles:    cache.NewLogSubtreeCache(rfc6962.DefaultHasher),
		dequeued: map[string]dequeuedLeaf{},
	}
	var (
		revision, timestamp, size int64
		rootHash                  []byte
	)
	row := sqlTx.QueryRowContext
	if st, ok := s.prepared[selectLatestHeadSQL]; ok {
		row = func(ctx context.Context, _ string, args ...any) *sql.Row {
			return sqlTx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
		}
	}
	err = row(ctx, selectLatestHeadSQL, tree.TreeId).Scan(&revision, &timestamp, &size, &rootHash)
	if errors.Is(err, sql.ErrNoRows) {
		// The root that initialises the tree is written at revision 0.
		t.writeRevision = 0
		return t, tstorage.ErrTreeNeedsInit
	}
	if err != nil {
		sqlTx.Rollback()
		return nil, fmt.Errorf("couldn't read latest root of tree %d: %w", tree.TreeId, err)
	}
	t.root = types.LogRootV1{TreeSize: uint64(size), RootHash: rootHash, TimestampNanos: uint64(timestamp)}
	logRoot, err := t.root.MarshalBinary()
	if err != nil {
		sqlTx.Rollback()
		return nil, fmt.Errorf("couldn't marshal root of tree %d: %w", tree.TreeId, err)
	}
	t.slr = &trillian.SignedLogRoot{LogRoot: logRoot}
	t.writeRevision = revision + 1
	return t, nil
}

// dequeuedLeaf is what UpdateSequencedLeaves needs to take a leaf that
// DequeueLeaves returned off the queue.
type dequeuedLeaf struct {
	queueTimeNanos int64
	merkleHash     []byte
}

// logTX implements Trillian's storage.LogTreeTX.
type logTX struct {
	// mu serialises the methods: the tiles cache and the maps are not safe
	// for concurrent use.
	mu       sync.Mutex
	tx       *sql.Tx
	prepared map[string]*sql.Stmt
	closed   bool
	treeID   int64
	treeType trillian.TreeType
	readOnly bool

	// root and slr are the latest root when the transaction began; slr is
	// nil for a tree that needs initialising.
	root          types.LogRootV1
	slr           *trillian.SignedLogRoot
	writeRevision int64

	tiles    *cache.SubtreeCache
	dequeued map[string]dequeuedLeaf // by identity hash
}

var _ tstorage.LogTreeTX = (*logTX)(nil)

func (t *logTX) Commit(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed && t.slr == nil {
		return nil // a snapshot of an uninitialised tree, closed by SnapshotForTree
	}
	if !t.readOnly {
		tiles, err := t.tiles.UpdatedTiles()
		if err != nil {
			return fmt.Errorf("couldn't collect updated tiles: %w", err)
		}
		if err := t.writeTiles(ctx, tiles); err != nil {
			return err
		}
	}
	t.closed = true
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("couldn't commit transaction on tree %d: %w", t.treeID, err)
	}
	return nil
}

func (t *logTX) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	if err := t.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

func (t *logTX) LatestSignedLogRoot(ctx context.Context) (*trillian.SignedLogRoot, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.slr == nil {
		return nil, tstorage.ErrTreeNeedsInit
	}
	return t.slr, nil
}

func (t *logTX) StoreSignedLogRoot(ctx context.Context, root *trillian.SignedLogRoot) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lr types.LogRootV1
	if err := lr.UnmarshalBinary(root.GetLogRoot()); err != nil {
		return status.Errorf(codes.InvalidArgument, "couldn't parse log root: %v", err)
	}
	if len(lr.Metadata) != 0 {
		return status.Error(codes.Unimplemented, "SQLite storage keeps no log root metadata")
	}
	if lr.TreeSize > math.MaxInt64 || lr.TimestampNanos > math.MaxInt64 {
		return status.Errorf(codes.InvalidArgument, "log root out of range: size %d, timestamp %d", lr.TreeSize, lr.TimestampNanos)
	}
	// Belt and braces: a log that shrinks has forked.
	if t.slr != nil && lr.TreeSize < t.root.TreeSize {
		return status.Errorf(codes.FailedPrecondition, "log root of size %d would shrink tree %d from size %d", lr.TreeSize, t.treeID, t.root.TreeSize)
	}
	_, err := t.tx.ExecContext(ctx, insertHeadSQL, t.treeID, t.writeRevision, int64(lr.TimestampNanos), int64(lr.TreeSize), blob(lr.RootHash))
	if err != nil {
		return fmt.Errorf("couldn't store root of tree %d at revision %d: %w", t.treeID, t.writeRevision, err)
	}
	if _, err := t.tx.ExecContext(ctx, deleteOldHeadsSQL, t.treeID, t.writeRevision); err != nil {
		return fmt.Errorf("couldn't remove the roots of tree %d before revision %d: %w", t.treeID, t.writeRevision, err)
	}
	return nil
}

// GetMerkleNodes reads the nodes through the transaction's tile cache,
// Trillian's storage/cache, which recomputes internal nodes from the tiles'
// leaves.
func (t *logTX) GetMerkleNodes(ctx context.Context, ids []compact.NodeID) ([]tree.Node, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tiles.GetNodes(ids, t.readTiles(ctx))
}

// SetMerkleNodes updates the nodes in the tile cache; Commit writes the
// tiles that changed.
func (t *logTX) SetMerkleNodes(ctx context.Context, nodes []tree.Node) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tiles.SetNodes(nodes, t.readTiles(ctx))
}

func (t *logTX) readTiles(ctx context.Context) cache.GetSubtreesFunc {
	return func(ids [][]byte) ([]*storagepb.SubtreeProto, error) {
		var tiles []*storagepb.SubtreeProto
		for chunk := range slices.Chunk(ids, hashesPerStatement) {
			args := make([]any, 0, 1+len(chunk))
			args = append(args, t.treeID)
			for _, id := range chunk {
				args = append(args, blob(id))
			}
			rows, err := t.tx.QueryContext(ctx, withIn(selectTilesSQL, len(chunk)), args...)
			if err != nil {
				return nil, fmt.Errorf("couldn't read tiles of tree %d: %w", t.treeID, err)
			}
			for rows.Next() {
				var b []byte
				if err := rows.Scan(&b); err != nil {
					rows.Close()
					return nil, fmt.Errorf("couldn't read tile of tree %d: %w", t.treeID, err)
				}
				var tile storagepb.SubtreeProto
				if err := proto.Unmarshal(b, &tile); err != nil {
					rows.Close()
					return nil, fmt.Errorf("couldn't parse tile of tree %d: %w", t.treeID, err)
				}
				if tile.Prefix == nil {
					tile.Prefix = []byte{} // the root tile; the cache keys tiles by prefix
				}
				tiles = append(tiles, &tile)
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, fmt.Errorf("couldn't read tiles of tree %d: %w", t.treeID, err)
			}
		}
		return tiles, nil
	}
}

func (t *logTX) writeTiles(ctx context.Context, tiles []*storagepb.SubtreeProto) error {
	if len(tiles) == 0 {
		return nil
	}
	stmt, err := t.tx.PrepareContext(ctx, upsertTileSQL)
	if err != nil {
		return fmt.Errorf("couldn't write tiles: %w", err)
	}
	defer stmt.Close()
	for _, tile := range tiles {
		b, err := proto.Marshal(tile)
		if err != nil {
			return fmt.Errorf("couldn't marshal tile %x: %w", tile.Prefix, err)
		}
		if _, err := stmt.ExecContext(ctx, t.treeID, blob(tile.Prefix), t.writeRevision, b); err != nil {
			return fmt.Errorf("couldn't write tile %x of tree %d: %w", tile.Prefix, t.treeID, err)
		}
	}
	return nil
}

// checkLeafHashes refuses a leaf whose hashes are not SHA-256 sized.
func checkLeafHashes(i int, leaf *trillian.LogLeaf) error {
	if got, want := len(leaf.LeafIdentityHash), rfc6962.DefaultHasher.Size(); got != want {
		return status.Errorf(codes.InvalidArgument, "leaves[%d]: LeafIdentityHash has %d bytes, want %d", i, got, want)
	}
	if got, want := len(leaf.MerkleLeafHash), rfc6962.DefaultHasher.Size(); got != want {
		return status.Errorf(codes.InvalidArgument, "leaves[%d]: MerkleLeafHash has %d bytes, want %d", i, got, want)
	}
	return nil
}

// queueLeaves adds the leaves to the tree's queue and returns each one's
// outcome: the leaf itself, or the stored leaf and codes.AlreadyExists. It
// sets the leaves' QueueTimestamp.
func (t *logTX) queueLeaves(ctx context.Context, leaves []*trillian.LogLeaf, queueTimestamp time.Time) ([]*trillian.QueuedLogLeaf, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ts := timestamppb.New(queueTimestamp)
	if err := ts.CheckValid(); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid queue timestamp: %v", err)
	}
	for i, leaf := range leaves {
		if err := checkLeafHashes(i, leaf); err != nil {
			return nil, err
		}
	}
	insertLeaf, err := t.tx.PrepareContext(ctx, insertLeafSQL)
	if err != nil {
		return nil, fmt.Errorf("couldn't queue leaves: %w", err)
	}
	defer insertLeaf.Close()
	insertQueued, err := t.tx.PrepareContext(ctx, insertUnsequencedSQL)
	if err != nil {
		return nil, fmt.Errorf("couldn't queue leaves: %w", err)
	}
	defer insertQueued.Close()

	nanos := queueTimestamp.UnixNano()
	out := make([]*trillian.QueuedLogLeaf, len(leaves))
	var dups [][]byte
	for i, leaf := range leaves {
		leaf.QueueTimestamp = timestamppb.New(queueTimestamp)
		res, err := insertLeaf.ExecContext(ctx, t.treeID, leaf.LeafIdentityHash, leaf.MerkleLeafHash, blob(leaf.LeafValue), leaf.ExtraData, nanos)
		if err != nil {
			return nil, fmt.Errorf("couldn't queue leaf %x: %w", leaf.LeafIdentityHash, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("couldn't queue leaf %x: %w", leaf.LeafIdentityHash, err)
		} else if n == 0 {
			// Already stored, earlier or in this batch: answered below.
			dups = append(dups, leaf.LeafIdentityHash)
			continue
		}
		if _, err := insertQueued.ExecContext(ctx, t.treeID, nanos, leaf.LeafIdentityHash); err != nil {
			return nil, fmt.Errorf("couldn't queue leaf %x: %w", leaf.LeafIdentityHash, err)
		}
		out[i] = &trillian.QueuedLogLeaf{Leaf: leaf}
	}
	if len(dups) == 0 {
		return out, nil
	}

	stored, err := t.leavesByIdentityHash(ctx, dups)
	if err != nil {
		return nil, err
	}
	for i, leaf := range leaves {
		if out[i] != nil {
			continue
		}
		original, ok := stored[string(leaf.LeafIdentityHash)]
		if !ok {
			return nil, fmt.Errorf("duplicate leaf %x not found", leaf.LeafIdentityHash)
		}
		out[i] = &trillian.QueuedLogLeaf{
			Leaf:   proto.Clone(original).(*trillian.LogLeaf),
			Status: status.Newf(codes.AlreadyExists, "leaf already exists: %x", leaf.LeafIdentityHash).Proto(),
		}
	}
	return out, nil
}

// leavesByIdentityHash returns the stored leaves among hashes, by identity
// hash, with LeafIndex -1 for those not yet sequenced.
func (t *logTX) leavesByIdentityHash(ctx context.Context, hashes [][]byte) (map[string]*trillian.LogLeaf, error) {
	found := map[string]*trillian.LogLeaf{}
	for chunk := range slices.Chunk(hashes, hashesPerStatement) {
		leaves, err := t.queryLeaves(ctx, withIn(selectLeavesByIdentityHashSQL, len(chunk)), hashArgs(t.treeID, chunk)...)
		if err != nil {
			return nil, err
		}
		for _, leaf := range leaves {
			found[string(leaf.LeafIdentityHash)] = leaf
		}
	}
	return found, nil
}

// addSequencedLeaves stores leaves of a PREORDERED_LOG at their indexes.
// A leaf whose identity hash or index is taken is not stored, and gets
// codes.FailedPrecondition.
func (t *logTX) addSequencedLeaves(ctx context.Context, leaves []*trillian.LogLeaf, timestamp time.Time) ([]*trillian.QueuedLogLeaf, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, leaf := range leaves {
		if err := checkLeafHashes(i, leaf); err != nil {
			return nil, err
		}
		if leaf.LeafIndex < 0 {
			return nil, status.Errorf(codes.InvalidArgument, "leaves[%d]: negative LeafIndex %d", i, leaf.LeafIndex)
		}
	}
	nanos := timestamp.UnixNano()
	ok := status.New(codes.OK, "OK").Proto()
	out := make([]*trillian.QueuedLogLeaf, len(leaves))
	for i, leaf := range leaves {
		res, err := t.exec(ctx, insertLeafSQL, t.treeID, leaf.LeafIdentityHash, leaf.MerkleLeafHash, blob(leaf.LeafValue), leaf.ExtraData, nanos)
		if err != nil {
			return nil, fmt.Errorf("couldn't add leaf %d: %w", leaf.LeafIndex, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("couldn't add leaf %d: %w", leaf.LeafIndex, err)
		} else if n == 0 {
			out[i] = &trillian.QueuedLogLeaf{Status: status.New(codes.FailedPrecondition, "conflicting LeafIdentityHash").Proto()}
			continue
		}
		// Integration times of pre-ordered leaves are not recorded (0), as
		// with MySQL.
		res, err = t.exec(ctx, insertSequencedIfNewSQL, t.treeID, leaf.LeafIndex, leaf.LeafIdentityHash, 0)
		if err != nil {
			return nil, fmt.Errorf("couldn't add leaf %d: %w", leaf.LeafIndex, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("couldn't add leaf %d: %w", leaf.LeafIndex, err)
		} else if n == 0 {
			if _, err := t.tx.ExecContext(ctx, deleteLeafSQL, t.treeID, leaf.LeafIdentityHash); err != nil {
				return nil, fmt.Errorf("couldn't undo adding leaf %d: %w", leaf.LeafIndex, err)
			}
			out[i] = &trillian.QueuedLogLeaf{Status: status.New(codes.FailedPrecondition, "conflicting LeafIndex").Proto()}
			continue
		}
		out[i] = &trillian.QueuedLogLeaf{Status: ok}
	}
	return out, nil
}

// exec runs query in the transaction, as the statement prepared once for
// the store if there is one.
func (t *logTX) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := t.prepared[query]; ok {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

// DequeueLeaves returns, for a LOG tree, up to limit queued leaves not
// newer than cutoff, oldest first (by queue time, then identity hash),
// skipping those this transaction already dequeued; for a PREORDERED_LOG,
// the stored leaves that follow the tree.
func (t *logTX) DequeueLeaves(ctx context.Context, limit int, cutoff time.Time) ([]*trillian.LogLeaf, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if limit <= 0 {
		return nil, nil
	}
	if t.treeType == trillian.TreeType_PREORDERED_LOG {
		return t.leavesByRange(ctx, int64(t.root.TreeSize), int64(limit))
	}
	rows, err := t.tx.QueryContext(ctx, selectQueuedSQL, t.treeID, cutoff.UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("couldn't dequeue leaves of tree %d: %w", t.treeID, err)
	}
	defer rows.Close()
	leaves := make([]*trillian.LogLeaf, 0, min(limit, 4096))
	for rows.Next() {
		var (
			identityHash, merkleHash []byte
			queueNanos               int64
		)
		if err := rows.Scan(&identityHash, &merkleHash, &queueNanos); err != nil {
			return nil, fmt.Errorf("couldn't dequeue leaves of tree %d: %w", t.treeID, err)
		}
		if _, ok := t.dequeued[string(identityHash)]; ok {
			continue
		}
		t.dequeued[string(identityHash)] = dequeuedLeaf{queueTimeNanos: queueNanos, merkleHash: merkleHash}
		leaves = append(leaves, &trillian.LogLeaf{
			LeafIdentityHash: identityHash,
			MerkleLeafHash:   merkleHash,
			QueueTimestamp:   timestampFromNanos(queueNanos),
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("couldn't dequeue leaves of tree %d: %w", t.treeID, err)
	}
	return leaves, nil
}

// UpdateSequencedLeaves records the indexes assigned to leaves that
// DequeueLeaves returned in this transaction and takes them off the queue.
func (t *logTX) UpdateSequencedLeaves(ctx context.Context, leaves []*trillian.LogLeaf) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	insert, err := t.tx.PrepareContext(ctx, insertSequencedSQL)
	if err != nil {
		return fmt.Errorf("couldn't sequence leaves: %w", err)
	}
	defer insert.Close()
	remove, err := t.tx.PrepareContext(ctx, deleteUnsequencedSQL)
	if err != nil {
		return fmt.Errorf("couldn't sequence leaves: %w", err)
	}
	defer remove.Close()
	for _, leaf := range leaves {
		dq, ok := t.dequeued[string(leaf.LeafIdentityHash)]
		if !ok {
			return fmt.Errorf("leaf %x was not dequeued in this transaction", leaf.LeafIdentityHash)
		}
		if !bytes.Equal(leaf.MerkleLeafHash, dq.merkleHash) {
			return fmt.Errorf("leaf %x: MerkleLeafHash changed since it was dequeued", leaf.LeafIdentityHash)
		}
		if leaf.LeafIndex < 0 {
			return fmt.Errorf("leaf %x: negative LeafIndex %d", leaf.LeafIdentityHash, leaf.LeafIndex)
		}
		if err := leaf.IntegrateTimestamp.CheckValid(); err != nil {
			return fmt.Errorf("leaf %x: invalid integrate timestamp: %w", leaf.LeafIdentityHash, err)
		}
		if _, err := insert.ExecContext(ctx, t.treeID, leaf.LeafIndex, leaf.LeafIdentityHash, leaf.IntegrateTimestamp.AsTime().UnixNano()); err != nil {
			return fmt.Errorf("couldn't sequence leaf %x at %d: %w", leaf.LeafIdentityHash, leaf.LeafIndex, err)
		}
		res, err := remove.ExecContext(ctx, t.treeID, dq.queueTimeNanos, leaf.LeafIdentityHash)
		if err != nil {
			return fmt.Errorf("couldn't take leaf %x off the queue: %w", leaf.LeafIdentityHash, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("couldn't take leaf %x off the queue: %d rows, %v", leaf.LeafIdentityHash, n, err)
		}
		delete(t.dequeued, string(leaf.LeafIdentityHash))
	}
	return nil
}

// GetLeavesByRange returns the leaves from start on, up to count of them,
// stopping at the end of a LOG tree, at the first missing index, or after
// maxLeavesPerRange.
func (t *logTX) GetLeavesByRange(ctx context.Context, start, count int64) ([]*trillian.LogLeaf, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if count <= 0 {
		return nil, status.Errorf(codes.InvalidArgument, "invalid count %d, want > 0", count)
	}
	if start < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "invalid start %d, want >= 0", start)
	}
	if t.treeType == trillian.TreeType_LOG {
		size := int64(t.root.TreeSize)
		if size == 0 {
			return nil, status.Error(codes.OutOfRange, "empty tree")
		}
		if start >= size {
			return nil, status.Errorf(codes.OutOfRange, "invalid start %d, want < tree size %d", start, size)
		}
		count = min(count, size-start)
	}
	return t.leavesByRange(ctx, start, count)
}

func (t *logTX) leavesByRange(ctx context.Context, start, count int64) ([]*trillian.LogLeaf, error) {
	count = min(count, maxLeavesPerRange)
	leaves, err := t.queryLeaves(ctx, selectLeavesByRangeSQL, t.treeID, start, start+count)
	if err != nil {
		return nil, err
	}
	for i, leaf := range leaves {
		if leaf.LeafIndex != start+int64(i) {
			return leaves[:i], nil
		}
	}
	return leaves, nil
}

// GetLeavesByHash returns the sequenced leaves whose Merkle leaf hash is
// among leafHashes, in index order if orderBySequence.
func (t *logTX) GetLeavesByHash(ctx context.Context, leafHashes [][]byte, orderBySequence bool) ([]*trillian.LogLeaf, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var unique [][]byte
	seen := map[string]bool{}
	for _, h := range leafHashes {
		if !seen[string(h)] {
			seen[string(h)] = true
			unique = append(unique, h)
		}
	}
	var leaves []*trillian.LogLeaf
	for chunk := range slices.Chunk(unique, hashesPerStatement) {
		found, err := t.queryLeaves(ctx, withIn(selectLeavesByMerkleHashSQL, len(chunk)), hashArgs(t.treeID, chunk)...)
		if err != nil {
			return nil, err
		}
		leaves = append(leaves, found...)
	}
	if orderBySequence {
		slices.SortStableFunc(leaves, func(a, b *trillian.LogLeaf) int { return cmp.Compare(a.LeafIndex, b.LeafIndex) })
	}
	return leaves, nil
}

func hashArgs(treeID int64, hashes [][]byte) []any {
	args := make([]any, 0, 1+len(hashes))
	args = append(args, treeID)
	for _, h := range hashes {
		args = append(args, blob(h))
	}
	return args
}

// queryLeaves runs a query selecting leafColumns.
func (t *logTX) queryLeaves(ctx context.Context, query string, args ...any) ([]*trillian.LogLeaf, error) {
	if t.slr == nil && t.closed {
		return nil, tstorage.ErrTreeNeedsInit
	}
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("couldn't read leaves of tree %d: %w", t.treeID, err)
	}
	defer rows.Close()
	var leaves []*trillian.LogLeaf
	for rows.Next() {
		var (
			leaf                  trillian.LogLeaf
			index, integrateNanos sql.NullInt64
			queueNanos            int64
		)
		if err := rows.Scan(&index, &leaf.LeafIdentityHash, &leaf.MerkleLeafHash, &leaf.LeafValue, &leaf.ExtraData, &queueNanos, &integrateNanos); err != nil {
			return nil, fmt.Errorf("couldn't read leaf of tree %d: %w", t.treeID, err)
		}
		leaf.QueueTimestamp = timestampFromNanos(queueNanos)
		leaf.LeafIndex = -1
		if index.Valid {
			leaf.LeafIndex = index.Int64
			leaf.IntegrateTimestamp = timestampFromNanos(integrateNanos.Int64)
		}
		leaves = append(leaves, &leaf)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("couldn't read leaves of tree %d: %w", t.treeID, err)
	}
	return leaves, nil
}
