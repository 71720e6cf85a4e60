package monitor

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/govlog/govlog"
)

// KindPromiseBroken: a log signed a promise to include a leaf by a
// deadline, the deadline passed, and the leaf is not in the log's latest
// verified checkpoint. Evidence: the signed promise and that checkpoint.
const KindPromiseBroken Kind = "promise_broken"

// PromiseStatus is where a submitted promise stands.
type PromiseStatus string

// Promise statuses.
const (
	PromisePending PromiseStatus = "pending"
	PromiseKept    PromiseStatus = "kept"
	PromiseBroken  PromiseStatus = "broken"
)

// SQL of schema_promises.sql.
const (
	insertLeafSQL    = "INSERT INTO monitor_leaves (origin, leaf_hash, idx) VALUES (?, ?, ?) ON CONFLICT (origin, leaf_hash) DO NOTHING"
	selectLeafSQL    = "SELECT idx FROM monitor_leaves WHERE origin = ? AND leaf_hash = ?"
	insertPromiseSQL = "INSERT INTO monitor_promises (origin, leaf_hash, deadline_secs, signed, status, received_nanos) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (origin, leaf_hash, deadline_secs) DO NOTHING"
	selectPendingSQL = "SELECT leaf_hash, deadline_secs, signed FROM monitor_promises WHERE origin = ? AND status = 'pending' ORDER BY deadline_secs"
	updatePromiseSQL = "UPDATE monitor_promises SET status = ?, idx = ? WHERE origin = ? AND leaf_hash = ? AND deadline_secs = ?"
	countPromisesSQL = "SELECT status, COUNT(*) FROM monitor_promises WHERE origin = ? GROUP BY status"
)

// LeafIndex returns the index of the verified entry with leafHash in the
// log with origin, ok=false if the monitor has verified no such entry.
func (s *Store) LeafIndex(ctx context.Context, origin string, leafHash [32]byte) (index uint64, ok bool, err error) {
	var idx int64
	err = s.db.QueryRowContext(ctx, selectLeafSQL, origin, leafHash[:]).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("couldn't look up a leaf hash of %s: %w", origin, err)
	}
	return uint64(idx), true, nil
}

// AddPromise records a promise, verified by the caller, as pending. A
// promise recorded before is left as it is.
func (s *Store) AddPromise(ctx context.Context, p govlog.Promise, signed []byte, received time.Time) error {
	_, err := s.db.ExecContext(ctx, insertPromiseSQL, p.Origin, p.LeafHash[:], p.Deadline.Unix(), signed,
		string(PromisePending), received.UnixNano())
	if err != nil {
		return fmt.Errorf("couldn't record promise: %w", err)
	}
	return nil
}

// PromiseCounts returns how many promises of the log with origin are in
// each status.
func (s *Store) PromiseCounts(ctx context.Context, origin string) (map[PromiseStatus]int, error) {
	rows, err := s.read.QueryContext(ctx, countPromisesSQL, origin)
	if err != nil {
		return nil, fmt.Errorf("couldn't count promises of %s: %w", origin, err)
	}
	defer rows.Close()
	out := map[PromiseStatus]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("couldn't count promises of %s: %w", origin, err)
		}
		out[PromiseStatus(st)] = n
	}
	return out, rows.Err()
}

type pendingPromise struct {
	leafHash [32]byte
	deadline int64
	signed   []byte
}

func (s *Store) pendingPromises(ctx context.Context, origin string) ([]pendingPromise, error) {
	rows, err := s.db.QueryContext(ctx, selectPendingSQL, origin)
	if err != nil {
		return nil, fmt.Errorf("couldn't read the promises of %s: %w", origin, err)
	}
	defer rows.Close()
	var out []pendingPromise
	for rows.Next() {
		var p pendingPromise
		var h []byte
		if err := rows.Scan(&h, &p.deadline, &p.signed); err != nil {
			return nil, fmt.Errorf("couldn't read the promises of %s: %w", origin, err)
		}
		if len(h) != 32 {
			return nil, fmt.Errorf("corrupt promise of %s: leaf hash of %d bytes", origin, len(h))
		}
		p.leafHash = [32]byte(h)
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) settlePromise(ctx context.Context, origin string, p pendingPromise, status PromiseStatus, index *uint64) error {
	var idx sql.NullInt64
	if index != nil {
		idx = sql.NullInt64{Int64: int64(*index), Valid: true}
	}
	if _, err := s.db.ExecContext(ctx, updatePromiseSQL, string(status), idx, origin, p.leafHash[:], p.deadline); err != nil {
		return fmt.Errorf("couldn't update a promise of %s: %w", origin, err)
	}
	return nil
}

// checkPromises settles the pending promises of l after a pass that
// verified its latest checkpoint: kept if the leaf is in the verified log,
// broken if not and the deadline passed. A log that the monitor could not
// verify this pass is not judged, since its latest tree is unknown.
func (m *Monitor) checkPromises(ctx context.Context, l *Log) error {
	store := m.opts.Store
	pending, err := store.pendingPromises(ctx, l.Origin)
	if err != nil || len(pending) == 0 {
		return err
	}
	v, ok, err := store.Verified(ctx, l.Origin)
	if err != nil || !ok || !caughtUp(v) {
		return err
	}
	now := m.opts.Now()
	var errs []error
	for _, p := range pending {
		index, found, err := store.LeafIndex(ctx, l.Origin, p.leafHash)
		if err != nil {
			return err
		}
		switch {
		case found:
			errs = append(errs, store.settlePromise(ctx, l.Origin, p, PromiseKept, &index))
		case now.Unix() > p.deadline:
			deadline := time.Unix(p.deadline, 0).UTC()
			errs = append(errs, m.raise(ctx, Alert{Kind: KindPromiseBroken, Log: l.Origin,
				Message: fmt.Sprintf("leaf %s promised by %s is not in the log at size %d",
					base64.StdEncoding.EncodeToString(p.leafHash[:]), deadline.Format(time.RFC3339), v.Size),
				Evidence: Evidence{Checkpoints: [][]byte{v.Checkpoint}, Promise: p.signed}.marshal()}))
			errs = append(errs, store.settlePromise(ctx, l.Origin, p, PromiseBroken, nil))
		}
	}
	return errors.Join(errs...)
}
