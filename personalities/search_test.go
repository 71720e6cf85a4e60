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
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/search"
	"github.com/govlog/govlog/storage"
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

// TestSearchRebuild: the entries of a log admitted before its index
// existed (the index removed from the database here) are indexed again
// from the log by search.Rebuild, credited to their agencies by the
// registry; its progress is kept in the state, and once done it never
// runs again.
func TestSearchRebuild(t *testing.T) {
	eachBackend(t, harnessOptions{}, func(t *testing.T, h *harness) {
		ctx := t.Context()
		svc := search.NewService(h.store, map[string]search.Source{logName: {Log: h.served, Domain: h.domain}})
		for i, k := range []key{h.keys.a, h.keys.b, h.keys.a, h.keys.b} {
			h.mustAdmit(t, statement(t, disclosures.TypePublish, publish(fmt.Sprintf("doc-%d", i)), k))
		}
		find := func(q search.Query) string {
			t.Helper()
			q.Log = logName
			results, _, err := svc.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, r := range results {
				s = append(s, fmt.Sprintf("%d:%s:%s", r.Index, r.Agency, r.Title))
			}
			return fmt.Sprint(s)
		}
		before := find(search.Query{Words: []string{"minutes"}})
		beforeB := find(search.Query{Agency: cityB})
		// forget removes the index, and the rebuild's progress unless keep.
		forget := func(keep bool) {
			t.Helper()
			q := "DELETE FROM govlog_state WHERE log = ? AND k LIKE 'govlog.search/%'"
			if keep {
				q += " AND k <> '" + search.Prefix + "rebuild'"
			}
			if _, err := h.backend.DB.ExecContext(ctx, q, logName); err != nil {
				t.Fatal(err)
			}
			if got := find(search.Query{Words: []string{"minutes"}}); got != "[]" {
				t.Fatalf("after removing the index: %s", got)
			}
		}
		opts := search.RebuildOptions{Store: h.store, Log: logName, Source: search.Source{Log: h.served, Domain: h.domain},
			Agency: func(ctx context.Context, leaf []byte, e rule.Entry) string {
				_, sigs, err := govlog.ParseStatement(leaf, origin, h.reg.Verifiers())
				if err != nil {
					return ""
				}
				id, _ := h.reg.Authorize(sigs, disclosures.RoleDiscloser, e.Time)
				return id
			}}

		// Stopped after the first two entries: it goes on from there.
		forget(false)
		if err := h.store.Admit(ctx, logName, func(ctx context.Context, tx storage.AdmitTx) error {
			return tx.Put(ctx, search.Prefix+"rebuild", []byte(`{"next":2,"target":4}`))
		}); err != nil {
			t.Fatal(err)
		}
		if err := search.Rebuild(ctx, opts); err != nil {
			t.Fatal(err)
		}
		if got := find(search.Query{Words: []string{"minutes"}}); got != "[3:city-b:Minutes of doc-3 2:city-a:Minutes of doc-2]" {
			t.Errorf("resumed at entry 2: %s", got)
		}

		// From the start, as on the first run after an upgrade.
		forget(false)
		if err := search.Rebuild(ctx, opts); err != nil {
			t.Fatal(err)
		}
		if got := find(search.Query{Words: []string{"minutes"}}); got != before {
			t.Errorf("rebuilt index finds %s, the admitted one found %s", got, before)
		}
		if got := find(search.Query{Agency: cityB}); got != beforeB {
			t.Errorf("rebuilt index finds for city-b %s, the admitted one found %s", got, beforeB)
		}

		// Done: it never runs again.
		forget(true)
		if err := search.Rebuild(ctx, opts); err != nil {
			t.Fatal(err)
		}
		if got := find(search.Query{Words: []string{"minutes"}}); got != "[]" {
			t.Errorf("a finished rebuild ran again: %s", got)
		}
	})
}
