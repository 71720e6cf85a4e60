package mysql

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/trillian"
	tstorage "github.com/google/trillian/storage"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// SQL of addSequenced, on Trillian v1.8.0's tables (trillian_schema.sql).
const (
	treeHasRootSQL     = "SELECT 1 FROM TreeHead WHERE TreeId = ? LIMIT 1"
	takenIdentitiesSQL = "SELECT LeafIdentityHash FROM LeafData WHERE TreeId = ? AND LeafIdentityHash IN (%s)"
	takenIndexesSQL    = "SELECT SequenceNumber FROM SequencedLeafData WHERE TreeId = ? AND SequenceNumber IN (%s)"
	insertLeafDataSQL  = "INSERT INTO LeafData (TreeId, LeafIdentityHash, LeafValue, ExtraData, QueueTimestampNanos) VALUES %s"
	insertSequencedSQL = "INSERT INTO SequencedLeafData (TreeId, LeafIdentityHash, MerkleLeafHash, SequenceNumber, IntegrateTimestampNanos) VALUES %s"
)

// Bounds of one multi-row statement: bound parameters well below the
// server's limit (65,535), and bytes well below max_allowed_packet (16 MiB
// on MariaDB, 4 MiB on MySQL 5.7).
const (
	leavesPerStatement = 1000
	bytesPerStatement  = 4 << 20
)

// logStorage is Trillian's MySQL log storage but for AddSequencedLeaves,
// which stores a batch of leaves in a few multi-row statements: Trillian's
// own sends three statements per leaf (a savepoint and two inserts), and
// admission's queue writes are most of what the log stores.
type logStorage struct {
	tstorage.LogStorage
	db *sql.DB
}

// AddSequencedLeaves stores leaves at their LeafIndex in one transaction,
// with Trillian's results: OK for a leaf stored; FailedPrecondition for a
// leaf whose identity hash is in the tree already (whatever its index) or
// whose index another leaf holds, and nothing of it stored. It fails with
// ErrTreeNeedsInit for a tree without a root, and with FailedPrecondition
// for a tree that is not a PREORDERED_LOG (as storage/sqlite's).
func (s *logStorage) AddSequencedLeaves(ctx context.Context, tree *trillian.Tree, leaves []*trillian.LogLeaf, timestamp time.Time) ([]*trillian.QueuedLogLeaf, error) {
	if tree.TreeType != trillian.TreeType_PREORDERED_LOG {
		return nil, status.Errorf(codes.FailedPrecondition, "AddSequencedLeaves: tree %d is a %s, not a PREORDERED_LOG", tree.TreeId, tree.TreeType)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("couldn't begin transaction on tree %d: %w", tree.TreeId, err)
	}
	defer tx.Rollback()
	var one int
	switch err := tx.QueryRowContext(ctx, treeHasRootSQL, tree.TreeId).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, tstorage.ErrTreeNeedsInit
	case err != nil:
		return nil, fmt.Errorf("couldn't read the root of tree %d: %w", tree.TreeId, err)
	}
	res, err := addSequenced(ctx, tx, tree.TreeId, leaves, timestamp)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("couldn't commit leaves to tree %d: %w", tree.TreeId, err)
	}
	return res, nil
}

func addSequenced(ctx context.Context, tx *sql.Tx, treeID int64, leaves []*trillian.LogLeaf, timestamp time.Time) ([]*trillian.QueuedLogLeaf, error) {
	for i, leaf := range leaves {
		if len(leaf.LeafIdentityHash) != 32 {
			return nil, status.Errorf(codes.FailedPrecondition, "leaves[%d] has incorrect hash size %d, want 32", i, len(leaf.LeafIdentityHash))
		}
		if leaf.LeafIndex < 0 {
			return nil, status.Errorf(codes.InvalidArgument, "leaves[%d] has negative index %d", i, leaf.LeafIndex)
		}
	}
	// Plain reads, not locking ones: a locking read of a missing key locks
	// the gap, and concurrent writers of neighbouring indexes would then
	// deadlock as they insert. Whatever another transaction stores
	// meanwhile makes an insert below fail on its duplicate key, and the
	// whole batch with it: the caller stores it again.
	identities, err := taken(ctx, tx, takenIdentitiesSQL, treeID, leaves, func(l *trillian.LogLeaf) any { return l.LeafIdentityHash },
		func(rows *sql.Rows) (string, error) {
			var h []byte
			err := rows.Scan(&h)
			return string(h), err
		})
	if err != nil {
		return nil, err
	}
	indexes, err := taken(ctx, tx, takenIndexesSQL, treeID, leaves, func(l *trillian.LogLeaf) any { return l.LeafIndex },
		func(rows *sql.Rows) (int64, error) {
			var i int64
			err := rows.Scan(&i)
			return i, err
		})
	if err != nil {
		return nil, err
	}
	res := make([]*trillian.QueuedLogLeaf, len(leaves))
	var add []*trillian.LogLeaf
	for i, leaf := range leaves {
		code, msg := codes.OK, "OK"
		switch {
		case identities[string(leaf.LeafIdentityHash)]:
			code, msg = codes.FailedPrecondition, "conflicting LeafIdentityHash"
		case indexes[leaf.LeafIndex]:
			code, msg = codes.FailedPrecondition, "conflicting LeafIndex"
		default:
			// Taken now, for the leaves after it in this batch.
			identities[string(leaf.LeafIdentityHash)] = true
			indexes[leaf.LeafIndex] = true
			add = append(add, leaf)
		}
		res[i] = &trillian.QueuedLogLeaf{Status: status.New(code, msg).Proto()}
	}
	// In the order of the tables' keys, as Trillian inserts them, so that
	// concurrent writers lock rows in the same order.
	slices.SortFunc(add, func(a, b *trillian.LogLeaf) int {
		return strings.Compare(string(a.LeafIdentityHash), string(b.LeafIdentityHash))
	})
	err = insertRows(ctx, tx, insertLeafDataSQL, 5, add, func(l *trillian.LogLeaf) []any {
		return []any{treeID, l.LeafIdentityHash, l.LeafValue, l.ExtraData, timestamp.UnixNano()}
	})
	if err != nil {
		return nil, fmt.Errorf("couldn't store leaves in tree %d: %w", treeID, err)
	}
	slices.SortFunc(add, func(a, b *trillian.LogLeaf) int { return cmp.Compare(a.LeafIndex, b.LeafIndex) })
	err = insertRows(ctx, tx, insertSequencedSQL, 5, add, func(l *trillian.LogLeaf) []any {
		return []any{treeID, l.LeafIdentityHash, l.MerkleLeafHash, l.LeafIndex, 0}
	})
	if err != nil {
		return nil, fmt.Errorf("couldn't sequence leaves in tree %d: %w", treeID, err)
	}
	return res, nil
}

// taken returns which of the leaves' keys (key) the query finds in tree.
func taken[K comparable](ctx context.Context, tx *sql.Tx, query string, treeID int64, leaves []*trillian.LogLeaf, key func(*trillian.LogLeaf) any, scan func(*sql.Rows) (K, error)) (map[K]bool, error) {
	found := map[K]bool{}
	for start := 0; start < len(leaves); start += leavesPerStatement {
		part := leaves[start:min(len(leaves), start+leavesPerStatement)]
		args := make([]any, 0, 1+len(part))
		args = append(args, treeID)
		for _, l := range part {
			args = append(args, key(l))
		}
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(query, marks(len(part), 1)), args...)
		if err != nil {
			return nil, fmt.Errorf("couldn't look up leaves in tree %d: %w", treeID, err)
		}
		for rows.Next() {
			k, err := scan(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("couldn't look up leaves in tree %d: %w", treeID, err)
			}
			found[k] = true
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("couldn't look up leaves in tree %d: %w", treeID, err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("couldn't look up leaves in tree %d: %w", treeID, err)
		}
	}
	return found, nil
}

// insertRows inserts a row of width values (row) per leaf, in as few
// statements as the bounds allow.
func insertRows(ctx context.Context, tx *sql.Tx, query string, width int, leaves []*trillian.LogLeaf, row func(*trillian.LogLeaf) []any) error {
	for len(leaves) > 0 {
		n, size := 0, 0
		for n < len(leaves) && n < leavesPerStatement {
			size += len(leaves[n].LeafValue) + len(leaves[n].ExtraData)
			if n > 0 && size > bytesPerStatement {
				break
			}
			n++
		}
		args := make([]any, 0, width*n)
		for _, l := range leaves[:n] {
			args = append(args, row(l)...)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(query, marks(n, width)), args...); err != nil {
			return err
		}
		leaves = leaves[n:]
	}
	return nil
}

// marks returns n tuples of width question marks, "(?,?),(?,?)", or for
// width 1 a plain list "?,?" for IN clauses.
func marks(n, width int) string {
	tuple := strings.TrimSuffix(strings.Repeat("?,", width), ",")
	if width > 1 {
		tuple = "(" + tuple + ")"
	}
	return strings.TrimSuffix(strings.Repeat(tuple+",", n), ",")
}
