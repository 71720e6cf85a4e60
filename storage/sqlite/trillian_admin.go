package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/trillian"
	tstorage "github.com/google/trillian/storage"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	selectTreesSQL = `SELECT tree_id, tree_state, tree_type, display_name, description,
		create_time_nanos, update_time_nanos, max_root_duration_nanos, deleted, delete_time_nanos
		FROM trillian_trees`
	selectTreeSQL        = selectTreesSQL + " WHERE tree_id = ?"
	selectLiveTreesSQL   = selectTreesSQL + " WHERE deleted = 0"
	selectTreeDeletedSQL = "SELECT deleted FROM trillian_trees WHERE tree_id = ?"
	insertTreeSQL        = `INSERT INTO trillian_trees (tree_id, tree_state, tree_type, display_name, description, create_time_nanos, update_time_nanos, max_root_duration_nanos) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	updateTreeSQL        = `UPDATE trillian_trees SET tree_state = ?, tree_type = ?, display_name = ?, description = ?, update_time_nanos = ?, max_root_duration_nanos = ? WHERE tree_id = ?`
	updateTreeDeletedSQL = "UPDATE trillian_trees SET deleted = ?, delete_time_nanos = ? WHERE tree_id = ?"
	deleteTreeSQL        = "DELETE FROM trillian_trees WHERE tree_id = ?"
)

// adminStorage implements Trillian's storage.AdminStorage.
type adminStorage struct {
	db *sql.DB
}

var _ tstorage.AdminStorage = (*adminStorage)(nil)

func (s *adminStorage) Snapshot(ctx context.Context) (tstorage.ReadOnlyAdminTX, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("couldn't begin admin snapshot: %w", err)
	}
	return &adminTX{tx: tx}, nil
}

func (s *adminStorage) ReadWriteTransaction(ctx context.Context, f tstorage.AdminTXFunc) error {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("couldn't begin admin transaction: %w", err)
	}
	tx := &adminTX{tx: sqlTx}
	defer tx.Close()
	if err := f(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *adminStorage) CheckDatabaseAccessible(ctx context.Context) error {
	return s.db.PingContext(ctx)
}

// adminTX implements Trillian's storage.AdminTX.
type adminTX struct {
	tx *sql.Tx

	mu     sync.Mutex
	closed bool
}

func (t *adminTX) Commit() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	return t.tx.Commit()
}

func (t *adminTX) Close() error {
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

func (t *adminTX) GetTree(ctx context.Context, treeID int64) (*trillian.Tree, error) {
	tree, err := scanTree(t.tx.QueryRowContext(ctx, selectTreeSQL, treeID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, status.Errorf(codes.NotFound, "tree %d not found", treeID)
	}
	if err != nil {
		return nil, fmt.Errorf("couldn't read tree %d: %w", treeID, err)
	}
	return tree, nil
}

func (t *adminTX) ListTrees(ctx context.Context, includeDeleted bool) ([]*trillian.Tree, error) {
	query := selectLiveTreesSQL
	if includeDeleted {
		query = selectTreesSQL
	}
	rows, err := t.tx.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("couldn't list trees: %w", err)
	}
	defer rows.Close()
	trees := []*trillian.Tree{}
	for rows.Next() {
		tree, err := scanTree(rows)
		if err != nil {
			return nil, fmt.Errorf("couldn't read tree: %w", err)
		}
		trees = append(trees, tree)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("couldn't list trees: %w", err)
	}
	return trees, nil
}

func (t *adminTX) CreateTree(ctx context.Context, tree *trillian.Tree) (*trillian.Tree, error) {
	if err := tstorage.ValidateTreeForCreation(ctx, tree); err != nil {
		return nil, err
	}
	if err := validateTreeForSQLite(tree); err != nil {
		return nil, err
	}
	id, err := tstorage.NewTreeID()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	created := proto.Clone(tree).(*trillian.Tree)
	created.TreeId = id
	created.CreateTime = timestamppb.New(now)
	created.UpdateTime = timestamppb.New(now)
	_, err = t.tx.ExecContext(ctx, insertTreeSQL,
		id, created.TreeState.String(), created.TreeType.String(), created.DisplayName, created.Description,
		now.UnixNano(), now.UnixNano(), created.MaxRootDuration.AsDuration().Nanoseconds())
	if err != nil {
		return nil, fmt.Errorf("couldn't create tree: %w", err)
	}
	return created, nil
}

func (t *adminTX) UpdateTree(ctx context.Context, treeID int64, updateFunc func(*trillian.Tree)) (*trillian.Tree, error) {
	stored, err := t.GetTree(ctx, treeID)
	if err != nil {
		return nil, err
	}
	tree := proto.Clone(stored).(*trillian.Tree)
	updateFunc(tree)
	if err := tstorage.ValidateTreeForUpdate(ctx, stored, tree); err != nil {
		return nil, err
	}
	if err := validateTreeForSQLite(tree); err != nil {
		return nil, err
	}
	now := time.Now()
	tree.UpdateTime = timestamppb.New(now)
	_, err = t.tx.ExecContext(ctx, updateTreeSQL,
		tree.TreeState.String(), tree.TreeType.String(), tree.DisplayName, tree.Description,
		now.UnixNano(), tree.MaxRootDuration.AsDuration().Nanoseconds(), treeID)
	if err != nil {
		return nil, fmt.Errorf("couldn't update tree %d: %w", treeID, err)
	}
	return tree, nil
}

func (t *adminTX) SoftDeleteTree(ctx context.Context, treeID int64) (*trillian.Tree, error) {
	if err := t.checkDeleted(ctx, treeID, false); err != nil {
		return nil, err
	}
	if _, err := t.tx.ExecContext(ctx, updateTreeDeletedSQL, 1, time.Now().UnixNano(), treeID); err != nil {
		return nil, fmt.Errorf("couldn't soft delete tree %d: %w", treeID, err)
	}
	return t.GetTree(ctx, treeID)
}

func (t *adminTX) UndeleteTree(ctx context.Context, treeID int64) (*trillian.Tree, error) {
	if err := t.checkDeleted(ctx, treeID, true); err != nil {
		return nil, err
	}
	if _, err := t.tx.ExecContext(ctx, updateTreeDeletedSQL, 0, nil, treeID); err != nil {
		return nil, fmt.Errorf("couldn't undelete tree %d: %w", treeID, err)
	}
	return t.GetTree(ctx, treeID)
}

// HardDeleteTree removes the tree and, through the schema's cascading
// foreign keys, its roots, tiles and leaves.
func (t *adminTX) HardDeleteTree(ctx context.Context, treeID int64) error {
	if err := t.checkDeleted(ctx, treeID, true); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, deleteTreeSQL, treeID); err != nil {
		return fmt.Errorf("couldn't hard delete tree %d: %w", treeID, err)
	}
	return nil
}

// checkDeleted returns codes.NotFound for a missing tree and
// codes.FailedPrecondition unless the tree's soft deletion is as wanted.
func (t *adminTX) checkDeleted(ctx context.Context, treeID int64, want bool) error {
	var deleted bool
	err := t.tx.QueryRowContext(ctx, selectTreeDeletedSQL, treeID).Scan(&deleted)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return status.Errorf(codes.NotFound, "tree %d not found", treeID)
	case err != nil:
		return fmt.Errorf("couldn't read tree %d: %w", treeID, err)
	case want && !deleted:
		return status.Errorf(codes.FailedPrecondition, "tree %d is not soft deleted", treeID)
	case !want && deleted:
		return status.Errorf(codes.FailedPrecondition, "tree %d already soft deleted", treeID)
	}
	return nil
}

// validateTreeForSQLite refuses what this storage cannot keep: tree types
// other than logs (the schema's CHECK would refuse them less clearly) and
// storage settings, of which it has none.
func validateTreeForSQLite(tree *trillian.Tree) error {
	switch tree.TreeType {
	case trillian.TreeType_LOG, trillian.TreeType_PREORDERED_LOG:
	default:
		return status.Errorf(codes.InvalidArgument, "tree_type %s not supported by SQLite storage", tree.TreeType)
	}
	if tree.StorageSettings != nil {
		return status.Error(codes.InvalidArgument, "SQLite storage takes no storage_settings")
	}
	return nil
}

// scanTree reads a row selected by selectTreesSQL.
func scanTree(row interface{ Scan(...any) error }) (*trillian.Tree, error) {
	var (
		tree                                 trillian.Tree
		state, treeType                      string
		createNanos, updateNanos, maxRootDur int64
		deleted                              bool
		deleteNanos                          sql.NullInt64
	)
	err := row.Scan(&tree.TreeId, &state, &treeType, &tree.DisplayName, &tree.Description,
		&createNanos, &updateNanos, &maxRootDur, &deleted, &deleteNanos)
	if err != nil {
		return nil, err
	}
	s, ok := trillian.TreeState_value[state]
	if !ok {
		return nil, fmt.Errorf("tree %d has unknown state %q", tree.TreeId, state)
	}
	tree.TreeState = trillian.TreeState(s)
	ty, ok := trillian.TreeType_value[treeType]
	if !ok {
		return nil, fmt.Errorf("tree %d has unknown type %q", tree.TreeId, treeType)
	}
	tree.TreeType = trillian.TreeType(ty)
	tree.CreateTime = timestampFromNanos(createNanos)
	tree.UpdateTime = timestampFromNanos(updateNanos)
	tree.MaxRootDuration = durationpb.New(time.Duration(maxRootDur))
	tree.Deleted = deleted
	if deleted && deleteNanos.Valid {
		tree.DeleteTime = timestampFromNanos(deleteNanos.Int64)
	}
	return &tree, nil
}
