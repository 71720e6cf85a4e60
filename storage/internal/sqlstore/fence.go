package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/govlog/govlog/storage"
)

// The fence: when several processes share the database and an election
// picks the one that admits (govlog serve with etcd), the winner takes the
// fence with its election's token, which only grows. From then on every
// admission transaction of this Store reads the fence, locking it shared,
// and rolls back unless it still holds this Store's token; taking the fence
// writes the row, so it waits for the admissions of the previous holder in
// flight and, once it commits, no later one of theirs can commit. Two
// processes can therefore never both commit admissions (and give an index
// twice), whatever their clocks and however late one learns that it lost
// its lease.
const (
	fenceSQL       = "SELECT token FROM govlog_fence WHERE id = 1"
	takeFenceSQL   = "UPDATE govlog_fence SET token = ?, holder = ?, taken_nanos = ? WHERE id = 1 AND token < ?"
	insertFenceSQL = "INSERT INTO govlog_fence (id, token, holder, taken_nanos) VALUES (1, ?, ?, ?)"

	checkpointSizeSQL   = "SELECT size FROM govlog_checkpoints WHERE log = ?"
	checkpointSQL       = "SELECT checkpoint FROM govlog_checkpoints WHERE log = ?"
	insertCheckpointSQL = "INSERT INTO govlog_checkpoints (log, size, checkpoint) VALUES (?, ?, ?)"
	updateCheckpointSQL = "UPDATE govlog_checkpoints SET size = ?, checkpoint = ? WHERE log = ?"
)

// TakeFence makes this Store the fence's holder with token, which must be
// greater than every token taken before (an etcd election's revision), and
// fences every other Store: their admissions fail with
// storage.ErrFenced. It fails with storage.ErrFenced if the fence holds a
// token as great already (a newer leader took it).
func (s *Store) TakeFence(ctx context.Context, token int64, holder string) error {
	if token <= 0 {
		return errors.New("a fence token must be positive")
	}
	now := time.Now().UnixNano()
	res, err := s.db.ExecContext(ctx, takeFenceSQL, token, holder, now, token)
	if err != nil {
		return fmt.Errorf("couldn't take the fence: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("couldn't take the fence: %w", err)
	} else if n == 1 {
		s.fence.Store(token)
		return nil
	}
	var held int64
	switch err := s.db.QueryRowContext(ctx, fenceSQL).Scan(&held); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := s.db.ExecContext(ctx, insertFenceSQL, token, holder, now); err != nil {
			// Another process inserted it first: try once more.
			return s.takeFenceAgain(ctx, token, holder)
		}
		s.fence.Store(token)
		return nil
	case err != nil:
		return fmt.Errorf("couldn't read the fence: %w", err)
	default:
		return fmt.Errorf("%w: the fence holds token %d, not below %d", storage.ErrFenced, held, token)
	}
}

func (s *Store) takeFenceAgain(ctx context.Context, token int64, holder string) error {
	res, err := s.db.ExecContext(ctx, takeFenceSQL, token, holder, time.Now().UnixNano(), token)
	if err != nil {
		return fmt.Errorf("couldn't take the fence: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: a newer token holds the fence", storage.ErrFenced)
	}
	s.fence.Store(token)
	return nil
}

// checkFence fails with storage.ErrFenced if this Store is fenced and the
// fence no longer holds its token. It runs first in the transaction, so
// the shared lock it takes is held to the commit.
func (s *Store) checkFence(ctx context.Context, tx *sql.Tx) error {
	token := s.fence.Load()
	if token == 0 {
		return nil
	}
	var held int64
	if err := tx.QueryRowContext(ctx, fenceSQL+s.d.ForShare).Scan(&held); err != nil {
		return fmt.Errorf("couldn't read the fence: %w", err)
	}
	if held != token {
		return fmt.Errorf("%w: token %d took the fence from this process's %d", storage.ErrFenced, held, token)
	}
	return nil
}

// LatestCheckpoint returns the newest checkpoint of the log with this
// origin that a leader published (StoreCheckpoint); ok=false if none.
func (s *Store) LatestCheckpoint(ctx context.Context, origin string) (signed []byte, ok bool, err error) {
	err = s.read.QueryRowContext(ctx, checkpointSQL, origin).Scan(&signed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("couldn't read the published checkpoint of %s: %w", origin, err)
	}
	return signed, true, nil
}

// StoreCheckpoint records signed, a checkpoint of size the log with this
// origin publishes, for the other processes to serve (and the next leader
// to extend). A smaller size than the one stored is left alone. While this
// Store is fenced, only its holder's write commits.
func (s *Store) StoreCheckpoint(ctx context.Context, origin string, size uint64, signed []byte) error {
	// The first checkpoints of several logs, written at once, take gap
	// locks and may deadlock on MySQL: the victim tries again.
	for attempt := 1; ; attempt++ {
		err := s.storeCheckpointOnce(ctx, origin, size, signed)
		if err == nil || attempt == 5 || s.d.Retryable == nil || !s.d.Retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt) * 10 * time.Millisecond)
	}
}

func (s *Store) storeCheckpointOnce(ctx context.Context, origin string, size uint64, signed []byte) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("couldn't begin transaction: %w", err)
	}
	defer tx.Rollback()
	if err := s.checkFence(ctx, tx); err != nil {
		return err
	}
	var have uint64
	switch err := tx.QueryRowContext(ctx, checkpointSizeSQL+s.d.ForUpdate, origin).Scan(&have); {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, insertCheckpointSQL, origin, size, signed)
		if err != nil {
			return fmt.Errorf("couldn't store the checkpoint of %s: %w", origin, err)
		}
	case err != nil:
		return fmt.Errorf("couldn't read the checkpoint of %s: %w", origin, err)
	case have > size:
		return nil
	default:
		if _, err := tx.ExecContext(ctx, updateCheckpointSQL, size, signed, origin); err != nil {
			return fmt.Errorf("couldn't store the checkpoint of %s: %w", origin, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("couldn't store the checkpoint of %s: %w", origin, err)
	}
	return nil
}
