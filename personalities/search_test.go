package personalities_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/govlog/govlog"
	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/search"
)

// frozenLog is a log whose published checkpoint stops where it stands
// while frozen: what the server and the search see of a log whose newest
// entries no checkpoint includes yet.
type frozenLog struct {
	personalities.Log
	mu     sync.Mutex
	signed []byte
	cp     *govlog.Checkpoint
}

func (l *frozenLog) freeze() {
	l.mu.Lock()
	defer l.mu.Unlock()
	signed, cp := l.Log.Checkpoint()
	l.signed, l.cp = signed, &cp
}

func (l *frozenLog) thaw() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cp = nil
}

func (l *frozenLog) Checkpoint() ([]byte, govlog.Checkpoint) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cp == nil {
		return l.Log.Checkpoint()
	}
	return l.signed, *l.cp
}

func (l *frozenLog) Bundle(ctx context.Context, index uint64) ([]byte, error) {
	if _, cp := l.Checkpoint(); index >= cp.Size {
		return nil, fmt.Errorf("index %d, tree size %d: %w", index, cp.Size, govlog.ErrOutOfRange)
	}
	return l.Log.Bundle(ctx, index)
}

// TestSearchAdmitted: entries the server admits are found at once through
// the index its admission wrote, each with a bundle that verifies against
// the policy, or, past the published checkpoint, pending with its bytes
// from the outbox; an entry shows the correction that names it.
func TestSearchAdmitted(t *testing.T) {
	var frozen *frozenLog
	opts := harnessOptions{wrapLog: func(l *logserver.Log) personalities.Log {
		frozen = &frozenLog{Log: l}
		return frozen
	}}
	eachBackend(t, opts, func(t *testing.T, h *harness) {
		svc := search.NewService(h.store, map[string]search.Source{logName: {Log: h.served, Domain: h.domain}})
		ctx := t.Context()
		doc1 := publish("doc-1")
		doc1.Title = "城市道路养护预算 Road budget"
		first := statement(t, disclosures.TypePublish, doc1, h.keys.a)
		fix := statement(t, disclosures.TypeCorrect, correct("doc-1", "doc-1b"), h.keys.a)
		other := statement(t, disclosures.TypePublish, publish("doc-2"), h.keys.b)
		var idx []uint64
		for _, st := range [][]byte{first, fix, other} {
			idx = append(idx, uint64(h.mustAdmit(t, st).Index))
		}

		results, next, err := svc.Search(ctx, search.Query{Log: logName, Words: []string{"道路养护"}})
		if err != nil || len(results) != 1 || next != "" {
			t.Fatalf("search by Chinese words: %d results, next %q, %v", len(results), next, err)
		}
		r := results[0]
		h.checkBundle(t, r.Bundle, first, idx[0])
		if r.Pending || r.Index != idx[0] || r.Agency != cityA || r.Type != disclosures.TypePublish || r.Title != doc1.Title || string(r.Leaf) != string(first) {
			t.Errorf("result %+v", r)
		}
		results, _, err = svc.Search(ctx, search.Query{Log: logName, Agency: cityA, ID: "doc-1"})
		if err != nil || len(results) != 2 || results[0].Index != idx[1] || results[1].Index != idx[0] {
			t.Fatalf("doc-1 of city-a: %v, %v", results, err)
		}
		_, rels, err := svc.Entry(ctx, logName, idx[0])
		if want := (search.Relation{Kind: search.CorrectedBy, ID: "doc-1", Index: idx[1], Found: true}); err != nil || len(rels) != 1 || rels[0] != want {
			t.Errorf("relations of %d: %+v, %v; want %+v", idx[0], rels, err, want)
		}

		// Admitted past the published checkpoint: pending, its bytes from
		// the outbox, no bundle yet.
		frozen.freeze()
		late := statement(t, disclosures.TypePublish, publish("doc-3"), h.keys.b)
		if _, err := h.submit(late, false); err != nil {
			t.Fatal(err)
		}
		results, _, err = svc.Search(ctx, search.Query{Log: logName, Agency: cityB})
		if err != nil || len(results) != 2 {
			t.Fatalf("city-b's entries: %d, %v", len(results), err)
		}
		if p := results[0]; !p.Pending || p.Bundle != nil || string(p.Leaf) != string(late) {
			t.Errorf("entry past the checkpoint: pending %v, bundle %d bytes, leaf %q", p.Pending, len(p.Bundle), p.Leaf)
		}
		if results[1].Pending || results[1].Index != idx[2] {
			t.Errorf("older entry %+v", results[1])
		}
		frozen.thaw()
		lateIndex := results[0].Index
		h.waitForSize(t, lateIndex+1, 30*time.Second)
		r, _, err = svc.Entry(ctx, logName, lateIndex)
		if err != nil || r.Pending {
			t.Fatalf("entry %d once included: pending %v, %v", lateIndex, r.Pending, err)
		}
		h.checkBundle(t, r.Bundle, late, lateIndex)
	})
}
