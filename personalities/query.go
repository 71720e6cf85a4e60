package personalities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/storage"
)

// Bounds of a Query request, checked before the domain sees it.
const (
	maxQueryName  = 64
	maxQueryArgs  = 16
	maxQueryArg   = 1024 // bytes of one argument's name or value
	maxQueryCites = 1000 // bundles in one answer
)

// maxConcurrentQueries caps how many Query calls of one Server read the
// database at once. Query is public and unauthenticated, and one answer
// may read thousands of rows and make maxQueryCites proofs, through the
// database that admissions and Trillian's sequencer use: past the cap,
// callers wait their turn, up to their own deadline, instead of crowding
// them out.
const maxConcurrentQueries = 4

// Query implements api.LogServer: the public read API of a domain that is
// a rule.Querier.
//
// The domain answers from one read-only snapshot of the committed state
// (storage.AdmissionStore.Read), and the entries it cites are found, in
// the same snapshot, in the outbox, which gives each one's index and
// bytes. Every bundle is then made at ONE checkpoint, the latest, so a
// client verifies them all against one cosigned tree head. State commits
// before the log includes its entries, so an answer may cite an entry no
// checkpoint includes yet: the call then waits for a checkpoint that does,
// as Submit with wait=true does, up to the caller's deadline or
// Options.WaitTimeout, and otherwise fails with DEADLINE_EXCEEDED, to be
// retried.
//
// Reading the snapshot and making the proofs each take one of
// maxConcurrentQueries turns; waiting for the checkpoint takes none.
func (s *Server) Query(ctx context.Context, req *api.QueryRequest) (*api.QueryResponse, error) {
	resp, err := s.query(ctx, req)
	return resp, toStatus(s.opts.Logger, err)
}

func (s *Server) query(ctx context.Context, req *api.QueryRequest) (*api.QueryResponse, error) {
	l, err := s.log(req.Log)
	if err != nil {
		return nil, err
	}
	q, ok := l.Domain.(rule.Querier)
	if !ok {
		return nil, fmt.Errorf("%w %.64q: the %s log answers no queries", rule.ErrUnknownQuery, req.Query, req.Log)
	}
	if err := checkQueryRequest(req); err != nil {
		return nil, err
	}
	var (
		result []byte
		cited  []storage.OutboxEntry
	)
	reg, err := s.registry(ctx)
	if err != nil {
		return nil, err
	}
	err = s.inQueryTurn(ctx, func() error {
		return s.opts.Store.Read(ctx, req.Log, func(ctx context.Context, tx storage.ReadTx) error {
			v := &view{tx: tx, log: l.Log, origin: l.Log.Origin(), verifiers: reg.Verifiers()}
			res, hashes, err := q.Query(ctx, v, req.Query, req.Args)
			if err != nil {
				return err
			}
			if result, err = json.Marshal(res); err != nil {
				return fmt.Errorf("couldn't encode the answer to %s: %w", req.Query, err)
			}
			hashes = dedupe(hashes)
			if len(hashes) > maxQueryCites {
				return fmt.Errorf("%w: the answer cites %d entries, at most %d are proved per query", rule.ErrQueryTooLarge, len(hashes), maxQueryCites)
			}
			found, err := tx.LookupOutbox(ctx, hashes)
			if err != nil {
				return err
			}
			for _, h := range hashes {
				e, ok := found[h]
				if !ok {
					return fmt.Errorf("the answer to %s cites %x, which was never admitted", req.Query, h)
				}
				cited = append(cited, e)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if len(cited) == 0 {
		return &api.QueryResponse{ResultJson: result}, nil
	}
	err = s.inQueryTurn(ctx, func() error {
		for i := range cited {
			if cited[i].Leaf, err = leafOf(ctx, l.Log, cited[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	signed, cp, err := s.checkpointIncluding(ctx, l, cited)
	if err != nil {
		return nil, err
	}
	var bundles [][]byte
	err = s.inQueryTurn(ctx, func() (err error) {
		bundles, err = bundlesAt(ctx, l, cited, signed, cp)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.QueryResponse{ResultJson: result, Bundles: bundles}, nil
}

// inQueryTurn runs f once fewer than maxConcurrentQueries calls are
// running in a turn of their own, or fails when ctx is done first.
func (s *Server) inQueryTurn(ctx context.Context, f func() error) error {
	select {
	case s.queryTurns <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("waiting for a turn to query: %w", ctx.Err())
	}
	defer func() { <-s.queryTurns }()
	return f()
}

func checkQueryRequest(req *api.QueryRequest) error {
	if req.Query == "" || len(req.Query) > maxQueryName {
		return fmt.Errorf("%w: a query name of 1 to %d bytes is required", ErrBadRequest, maxQueryName)
	}
	if len(req.Args) > maxQueryArgs {
		return fmt.Errorf("%w: %d arguments, at most %d", ErrBadRequest, len(req.Args), maxQueryArgs)
	}
	for k, v := range req.Args {
		if len(k) > maxQueryArg || len(v) > maxQueryArg {
			return fmt.Errorf("%w: an argument or its value is longer than %d bytes", ErrBadRequest, maxQueryArg)
		}
	}
	return nil
}

func dedupe(hashes [][32]byte) [][32]byte {
	seen := make(map[[32]byte]bool, len(hashes))
	out := hashes[:0:0]
	for _, h := range hashes {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// checkpointIncluding returns the latest checkpoint, waiting for one that
// includes every entry. It holds nothing while it waits.
func (s *Server) checkpointIncluding(ctx context.Context, l *servedLog, entries []storage.OutboxEntry) ([]byte, govlog.Checkpoint, error) {
	last := entries[0]
	for _, e := range entries {
		if e.Index > last.Index {
			last = e
		}
	}
	signed, cp := l.Log.Checkpoint()
	if last.Index < cp.Size {
		return signed, cp, nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.WaitTimeout)
		defer cancel()
	}
	// A checkpoint that includes the latest entry includes the others:
	// indexes are positions in the tree.
	if _, _, err := l.Log.WaitForInclusion(ctx, last.Leaf); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, govlog.Checkpoint{}, fmt.Errorf("%w: the answer rests on entries no checkpoint includes yet; retry", ErrNotYetIncluded)
		}
		return nil, govlog.Checkpoint{}, err
	}
	signed, cp = l.Log.Checkpoint()
	return signed, cp, nil
}

// bundlesAt returns the bundles of entries, in order, at the checkpoint cp
// (signed), which includes them all. Each proof is a read of its own: no
// transaction or connection is held from one to the next.
func bundlesAt(ctx context.Context, l *servedLog, entries []storage.OutboxEntry, signed []byte, cp govlog.Checkpoint) ([][]byte, error) {
	bundles := make([][]byte, 0, len(entries))
	for _, e := range entries {
		proof, _, err := l.Log.InclusionProof(ctx, e.Index, cp.Size)
		if err != nil {
			return nil, err
		}
		b := govlog.Bundle{Extra: e.Leaf, Index: e.Index, Proof: proof, Checkpoint: signed}
		bundles = append(bundles, b.Marshal())
	}
	return bundles, nil
}

// view is the rule.View a Querier reads: the read transaction's state,
// and the admitted entries in its outbox.
type view struct {
	tx storage.ReadTx
	// log has the entries the outbox let go of.
	log       Reader
	origin    string
	verifiers note.Verifiers
}

var _ rule.View = (*view)(nil)

func (v *view) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return v.tx.Get(ctx, key)
}

func (v *view) Entry(ctx context.Context, leafHash [32]byte) (rule.Entry, bool, error) {
	found, err := v.tx.LookupOutbox(ctx, [][32]byte{leafHash})
	if err != nil {
		return rule.Entry{}, false, err
	}
	e, ok := found[leafHash]
	if !ok {
		return rule.Entry{}, false, nil
	}
	// The statement's signatures were checked when it was admitted (by the
	// registry, or by its domain for a self-signed type), so it is only
	// read here. An entry that no longer parses is a failure here, not the
	// caller's fault: %v keeps the statement's sentinels out of the error.
	leaf, err := leafOf(ctx, v.log, e)
	if err != nil {
		return rule.Entry{}, false, err
	}
	st, _, _, err := govlog.ReadStatement(leaf, v.origin)
	if err != nil {
		return rule.Entry{}, false, fmt.Errorf("couldn't read admitted entry %x: %v", leafHash, err)
	}
	return rule.Entry{Type: st.Type, Time: st.Time, Body: st.Body, LeafHash: leafHash}, true, nil
}
