package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/storage"
)

// Errors of a Service, besides ErrInvalidQuery.
var (
	// ErrUnknownLog: the service serves no log of that name.
	ErrUnknownLog = errors.New("unknown log")
	// ErrNotFound: no entry at that index.
	ErrNotFound = errors.New("no such entry")
	// ErrNotYetReadable: the entry left the outbox for a checkpoint this
	// process has not read yet (another process published it); retry.
	ErrNotYetReadable = errors.New("entry not readable yet")
)

// Store reads a log's committed state and outbox: storage.AdmissionStore.
type Store interface {
	Read(ctx context.Context, log string, fn func(ctx context.Context, tx storage.ReadTx) error) error
}

// Log is the read side of one log: log-server's *Log.
type Log interface {
	Origin() string
	// Checkpoint returns the latest published checkpoint.
	Checkpoint() ([]byte, govlog.Checkpoint)
	// Bundle returns entry index's tlog-proof at the latest checkpoint,
	// or an error wrapping govlog.ErrOutOfRange past it.
	Bundle(ctx context.Context, index uint64) ([]byte, error)
}

// Source is one log a Service searches: the log and its rules.
type Source struct {
	Log    Log
	Domain rule.Domain
}

// Service answers searches and entry look-ups of the logs it is given,
// with each entry's bytes and its proof.
type Service struct {
	store, index Store
	logs         map[string]Source
}

// NewService returns a Service over the logs (by short name) whose outbox
// store keeps and whose index index keeps (nil: store keeps it too).
func NewService(store, index Store, logs map[string]Source) *Service {
	if index == nil {
		index = store
	}
	return &Service{store: store, index: index, logs: logs}
}

// Result is one entry with what a client needs to check it: its bytes,
// and its bundle unless Pending.
type Result struct {
	Log   string
	Index uint64
	Summary
	// Body is the statement's body.
	Body json.RawMessage
	// Leaf is the signed statement.
	Leaf []byte
	// Bundle is the entry's tlog-proof at the latest checkpoint.
	Bundle []byte
	// Pending: admitted, and no published checkpoint includes it yet.
	Pending bool
}

// Relation kinds (portal's too).
const (
	Corrects    = "corrects"
	Retracts    = "retracts"
	CorrectedBy = "corrected_by"
	RetractedBy = "retracted_by"
)

// Relation is a link the index knows between two entries of a log.
type Relation struct {
	Kind  string
	ID    string
	Index uint64
	Found bool
}

// maxRelated caps the entries examined for each relation of an entry.
const maxRelated = 20

// Search returns the results of q (see Find) and the next page's cursor.
func (s *Service) Search(ctx context.Context, q Query) ([]Result, string, error) {
	src, ok := s.logs[q.Log]
	if !ok {
		return nil, "", fmt.Errorf("%w %.64q", ErrUnknownLog, q.Log)
	}
	var hits []Hit
	var next string
	err := s.index.Read(ctx, q.Log, func(ctx context.Context, tx storage.ReadTx) (err error) {
		hits, next, err = Find(ctx, tx, q)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	results, err := s.complete(ctx, q.Log, src.Log, hits)
	return results, next, err
}

// complete reads each hit's leaf and bundle: from the log for the entries
// a checkpoint includes, from the outbox for the others.
func (s *Service) complete(ctx context.Context, name string, l Log, hits []Hit) ([]Result, error) {
	_, cp := l.Checkpoint()
	results := make([]Result, len(hits))
	var pending [][32]byte
	for i, h := range hits {
		results[i] = Result{Log: name, Index: h.Index, Summary: h.Summary}
		if h.Index >= cp.Size {
			pending = append(pending, h.LeafHash)
		}
	}
	var outbox map[[32]byte]storage.OutboxEntry
	if len(pending) > 0 {
		err := s.store.Read(ctx, name, func(ctx context.Context, tx storage.ReadTx) (err error) {
			outbox, err = tx.LookupOutbox(ctx, pending)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	for i := range results {
		r := &results[i]
		if e, ok := outbox[r.LeafHash]; ok && e.Leaf != nil {
			r.Leaf, r.Pending = e.Leaf, true
		} else if err := s.prove(ctx, l, r); err != nil {
			return nil, err
		}
		if err := r.readBody(l.Origin()); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// prove sets r's bundle, and its leaf from the bundle.
func (s *Service) prove(ctx context.Context, l Log, r *Result) error {
	b, err := l.Bundle(ctx, r.Index)
	if errors.Is(err, govlog.ErrOutOfRange) {
		return fmt.Errorf("%w: entry %d is in a checkpoint this server has not read yet; retry", ErrNotYetReadable, r.Index)
	}
	if err != nil {
		return fmt.Errorf("couldn't prove entry %d: %w", r.Index, err)
	}
	parsed, err := govlog.ParseBundle(b)
	if err != nil {
		return fmt.Errorf("the log's bundle of entry %d does not parse: %w", r.Index, err)
	}
	if got := govlog.LeafHash(parsed.Extra); got != r.LeafHash {
		return fmt.Errorf("the log's entry %d has leaf hash %x, the index says %x", r.Index, got, r.LeafHash)
	}
	r.Leaf, r.Bundle = parsed.Extra, b
	return nil
}

// readBody sets r's body from its leaf, which was admitted: read, not
// verified again (its signatures are the client's to check).
func (r *Result) readBody(origin string) error {
	st, _, _, err := govlog.ReadStatement(r.Leaf, origin)
	if err != nil {
		return fmt.Errorf("couldn't read admitted entry %d: %v", r.Index, err)
	}
	r.Body = st.Body
	return nil
}

// Entry returns entry index of log, and what the index knows of the
// entries it corrects or retracts and of those that correct or retract
// it. An entry the index does not hold (the entries a log writes about
// itself, registry and log views) is read from the log if a checkpoint
// includes it, its agency then unknown.
func (s *Service) Entry(ctx context.Context, log string, index uint64) (Result, []Relation, error) {
	src, ok := s.logs[log]
	if !ok {
		return Result{}, nil, fmt.Errorf("%w %.64q", ErrUnknownLog, log)
	}
	var sum Summary
	found := false
	err := s.index.Read(ctx, log, func(ctx context.Context, tx storage.ReadTx) error {
		v, ok, err := tx.Get(ctx, entryPrefix+position(index))
		if err != nil || !ok {
			return err
		}
		sum, err = parseSummary(index, v)
		found = err == nil
		return err
	})
	if err != nil {
		return Result{}, nil, err
	}
	if !found {
		r, err := s.unindexed(ctx, log, src.Log, index)
		return r, nil, err
	}
	results, err := s.complete(ctx, log, src.Log, []Hit{{Index: index, Summary: sum}})
	if err != nil {
		return Result{}, nil, err
	}
	rels, err := s.relations(ctx, log, src.Domain, results[0])
	return results[0], rels, err
}

// unindexed reads entry index from the log.
func (s *Service) unindexed(ctx context.Context, log string, l Log, index uint64) (Result, error) {
	if _, cp := l.Checkpoint(); index >= cp.Size {
		return Result{}, fmt.Errorf("%w: %s has no entry %d in its index, and its latest checkpoint holds %d", ErrNotFound, log, index, cp.Size)
	}
	b, err := l.Bundle(ctx, index)
	if err != nil {
		return Result{}, fmt.Errorf("couldn't prove entry %d: %w", index, err)
	}
	parsed, err := govlog.ParseBundle(b)
	if err != nil {
		return Result{}, fmt.Errorf("the log's bundle of entry %d does not parse: %w", index, err)
	}
	st, _, _, err := govlog.ReadStatement(parsed.Extra, l.Origin())
	if err != nil {
		return Result{}, fmt.Errorf("couldn't read entry %d of the log: %v", index, err)
	}
	r := Result{Log: log, Index: index, Leaf: parsed.Extra, Bundle: b, Body: st.Body}
	r.Summary = Summary{LeafHash: govlog.LeafHash(parsed.Extra), Type: st.Type, Time: st.Time}
	return r, nil
}

// relations finds, through the index, the entries r corrects or retracts
// (an earlier entry of its agency carrying the ID named, not itself
// naming it) and those that correct or retract r (a later entry of its
// agency naming one of r's IDs).
func (s *Service) relations(ctx context.Context, log string, d rule.Domain, r Result) ([]Relation, error) {
	var rels []Relation
	named := map[string]string{Corrects: r.Corrects, Retracts: r.Retracts}
	for _, kind := range []string{Corrects, Retracts} {
		id := named[kind]
		if id == "" {
			continue
		}
		hits, err := s.find(ctx, Query{Log: log, ID: id, Agency: r.Agency, Limit: maxRelated, Cursor: strconv.FormatUint(r.Index, 10)})
		if err != nil {
			return nil, err
		}
		rel := Relation{Kind: kind, ID: id}
		for _, h := range hits {
			if normalize(h.Corrects) != normalize(id) && normalize(h.Retracts) != normalize(id) {
				rel.Index, rel.Found = h.Index, true
				break
			}
		}
		rels = append(rels, rel)
	}
	terms, _ := Terms(d, rule.Entry{Type: r.Type, Time: r.Time, Body: r.Body, Agency: r.Agency})
	for _, t := range terms {
		if t.Kind != KindID || t.Value == normalize(r.Corrects) || t.Value == normalize(r.Retracts) {
			continue
		}
		hits, err := s.find(ctx, Query{Log: log, ID: t.Value, Agency: r.Agency, Limit: maxRelated})
		if err != nil {
			return nil, err
		}
		for _, h := range hits {
			switch {
			case h.Index <= r.Index:
			case normalize(h.Corrects) == t.Value:
				rels = append(rels, Relation{Kind: CorrectedBy, ID: h.Corrects, Index: h.Index, Found: true})
			case normalize(h.Retracts) == t.Value:
				rels = append(rels, Relation{Kind: RetractedBy, ID: h.Retracts, Index: h.Index, Found: true})
			}
		}
	}
	return rels, nil
}

func (s *Service) find(ctx context.Context, q Query) (hits []Hit, err error) {
	err = s.index.Read(ctx, q.Log, func(ctx context.Context, tx storage.ReadTx) error {
		hits, _, err = Find(ctx, tx, q)
		return err
	})
	return hits, err
}
