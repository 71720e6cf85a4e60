package monitor

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/portal"
)

// maxQueryCites bounds the bundles of one answer, as the admission
// server's does.
const maxQueryCites = 1000

// Query answers a domain's public query (the funds ledger and payment
// path) over the monitor's replayed state, at the checkpoint it verified:
// the state and the checkpoint are read in one snapshot, and every entry
// the answer cites is read from the log, checked against the leaf hash
// the monitor verified, and proved at that checkpoint.
func (s *portalSource) Query(ctx context.Context, log, name string, args map[string]string) (portal.Answer, error) {
	l, ok := s.logs[log]
	if !ok {
		return portal.Answer{}, fmt.Errorf("%w %.64q", portal.ErrUnknownLog, log)
	}
	q, ok := l.Domain.(rule.Querier)
	if !ok {
		return portal.Answer{}, fmt.Errorf("%w: the %s log answers no queries", portal.ErrInvalidQuery, log)
	}
	tx, err := s.m.opts.Store.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return portal.Answer{}, fmt.Errorf("couldn't read the state of %s: %w", l.Origin, err)
	}
	defer tx.Rollback()
	v, ok, err := readVerified(ctx, tx, l.Origin)
	if err != nil {
		return portal.Answer{}, err
	}
	if !ok {
		return portal.Answer{}, fmt.Errorf("%w: the monitor has verified no checkpoint of %s yet", portal.ErrRetryLater, l.Origin)
	}
	cp, err := parseSigned(v.Checkpoint)
	if err != nil {
		return portal.Answer{}, fmt.Errorf("corrupt verified checkpoint of %s: %w", l.Origin, err)
	}
	if v.Size != cp.Size {
		return portal.Answer{}, fmt.Errorf("%w: the monitor is partway through replaying %s", portal.ErrRetryLater, l.Origin)
	}
	tree, err := s.tree(ctx, tx, l, cp)
	if err != nil {
		return portal.Answer{}, err
	}
	qv := &queryView{st: stateTx{tx: tx, origin: l.Origin}, l: l, tree: tree, leaves: map[[32]byte]indexedLeaf{}}
	res, cited, err := q.Query(ctx, qv, name, args)
	if err != nil {
		return portal.Answer{}, queryError(err)
	}
	result, err := json.Marshal(res)
	if err != nil {
		return portal.Answer{}, fmt.Errorf("couldn't encode the answer to %s: %w", name, err)
	}
	seen := map[[32]byte]bool{}
	var bundles [][]byte
	for _, h := range cited {
		if seen[h] {
			continue
		}
		seen[h] = true
		if len(seen) > maxQueryCites {
			return portal.Answer{}, fmt.Errorf("%w: the answer cites more than %d entries", portal.ErrInvalidQuery, maxQueryCites)
		}
		e, ok, err := qv.leaf(ctx, h)
		if err != nil {
			return portal.Answer{}, err
		}
		if !ok {
			return portal.Answer{}, fmt.Errorf("the answer to %s cites %x, which the monitor never verified", name, h)
		}
		b, err := bundleAt(l, v.Checkpoint, cp, tree, e.index, e.leaf)
		if err != nil {
			return portal.Answer{}, err
		}
		bundles = append(bundles, b)
	}
	return portal.Answer{Result: result, Bundles: bundles}, nil
}

// queryError maps a Querier's errors to the portal's sentinels.
func queryError(err error) error {
	switch {
	case errors.Is(err, rule.ErrUnknownQuery), errors.Is(err, rule.ErrInvalidQuery), errors.Is(err, rule.ErrQueryTooLarge):
		return portal.SourceError(err, portal.ErrInvalidQuery)
	case errors.Is(err, rule.ErrNotFound):
		return portal.SourceError(err, portal.ErrNotFound)
	}
	return err
}

// queryView is the rule.View of a query at the monitor: its replayed
// state, and the entries it verified, read from the log and checked.
type queryView struct {
	st     stateTx
	l      *Log
	tree   *passTree
	leaves map[[32]byte]indexedLeaf
}

type indexedLeaf struct {
	index uint64
	leaf  []byte
}

var _ rule.View = (*queryView)(nil)

func (v *queryView) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return v.st.Get(ctx, key)
}

func (v *queryView) Entry(ctx context.Context, leafHash [32]byte) (rule.Entry, bool, error) {
	e, ok, err := v.leaf(ctx, leafHash)
	if err != nil || !ok {
		return rule.Entry{}, false, err
	}
	st, _, _, err := govlog.ReadStatement(e.leaf, v.l.Origin)
	if err != nil {
		return rule.Entry{}, false, fmt.Errorf("couldn't read verified entry %x: %v", leafHash, err)
	}
	return rule.Entry{Type: st.Type, Time: st.Time, Body: st.Body, LeafHash: leafHash, Index: e.index}, true, nil
}

// leaf returns the verified entry with leafHash in the snapshot's tree,
// ok=false if the monitor verified none there.
func (v *queryView) leaf(ctx context.Context, leafHash [32]byte) (indexedLeaf, bool, error) {
	if e, ok := v.leaves[leafHash]; ok {
		return e, true, nil
	}
	var idx int64
	err := v.st.tx.QueryRowContext(ctx, selectLeafSQL, v.l.Origin, leafHash[:]).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) {
		return indexedLeaf{}, false, nil
	}
	if err != nil {
		return indexedLeaf{}, false, fmt.Errorf("couldn't look up a leaf hash of %s: %w", v.l.Origin, err)
	}
	if _, ok := v.tree.node(compactLeaf(uint64(idx))); !ok {
		return indexedLeaf{}, false, nil // verified after the snapshot's checkpoint
	}
	leaf, err := readVerifiedLeaf(ctx, v.l, v.tree, uint64(idx))
	if err != nil {
		return indexedLeaf{}, false, err
	}
	e := indexedLeaf{index: uint64(idx), leaf: leaf}
	v.leaves[leafHash] = e
	return e, true, nil
}
