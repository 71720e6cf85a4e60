package personalities_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

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

// findEventually searches q until it finds want results or a minute
// passes: the index follows the published log a poll behind.
func findEventually(t *testing.T, svc *search.Service, q search.Query, want int) []search.Result {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		results, _, err := svc.Search(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(results) == want || time.Now().After(deadline) {
			return results
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSearchFollowsLog: entries the server admits are found once a
// published checkpoint includes them, through the index the server keeps
// following its log, each with a bundle that verifies against the policy;
// an entry past the published checkpoint is not found until one includes
// it; an entry shows the correction that names it.
func TestSearchFollowsLog(t *testing.T) {
	var frozen *frozenLog
	opts := harnessOptions{wrapLog: func(l *logserver.Log) personalities.Log {
		frozen = &frozenLog{Log: l}
		return frozen
	}}
	eachBackend(t, opts, func(t *testing.T, h *harness) {
		svc := search.NewService(h.store, nil, map[string]search.Source{logName: {Log: h.served, Domain: h.domain}})
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

		results := findEventually(t, svc, search.Query{Log: logName, Words: []string{"道路养护"}}, 1)
		if len(results) != 1 {
			t.Fatalf("search by Chinese words: %d results", len(results))
		}
		r := results[0]
		h.checkBundle(t, r.Bundle, first, idx[0])
		if r.Pending || r.Index != idx[0] || r.Agency != cityA || r.Type != disclosures.TypePublish || r.Title != doc1.Title || string(r.Leaf) != string(first) {
			t.Errorf("result %+v", r)
		}
		results = findEventually(t, svc, search.Query{Log: logName, Agency: cityA, ID: "doc-1"}, 2)
		if len(results) != 2 || results[0].Index != idx[1] || results[1].Index != idx[0] {
			t.Fatalf("doc-1 of city-a: %v", results)
		}
		_, rels, err := svc.Entry(ctx, logName, idx[0])
		if want := (search.Relation{Kind: search.CorrectedBy, ID: "doc-1", Index: idx[1], Found: true}); err != nil || len(rels) != 1 || rels[0] != want {
			t.Errorf("relations of %d: %+v, %v; want %+v", idx[0], rels, err, want)
		}
		if results := findEventually(t, svc, search.Query{Log: logName, Agency: cityB}, 1); len(results) != 1 || results[0].Index != idx[2] {
			t.Fatalf("city-b's entries: %+v", results)
		}

		// Admitted past the published checkpoint: not indexed yet.
		frozen.freeze()
		late := statement(t, disclosures.TypePublish, publish("doc-3"), h.keys.b)
		if _, err := h.submit(late, false); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond) // the log publishes underneath; the index polls the frozen checkpoint
		if results, _, err := svc.Search(ctx, search.Query{Log: logName, Agency: cityB}); err != nil || len(results) != 1 {
			t.Fatalf("city-b's entries with the checkpoint frozen: %d, %v", len(results), err)
		}
		frozen.thaw()
		results = findEventually(t, svc, search.Query{Log: logName, Agency: cityB}, 2)
		if len(results) != 2 || string(results[0].Leaf) != string(late) || results[0].Pending || results[1].Index != idx[2] {
			t.Fatalf("city-b's entries once included: %d results", len(results))
		}
		lateIndex := results[0].Index
		h.checkBundle(t, results[0].Bundle, late, lateIndex)
	})
}

// TestSearchFollowResumes: the index of a log is kept by search.Follow from
// where it stands in the state (Prefix+"next"), from the start on a store
// whose index admission kept; entries are credited to their agencies by
// the registry.
func TestSearchFollowResumes(t *testing.T) {
	eachBackend(t, harnessOptions{}, func(t *testing.T, h *harness) {
		ctx := t.Context()
		svc := search.NewService(h.store, nil, map[string]search.Source{logName: {Log: h.served, Domain: h.domain}})
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
		const all = "[3:city-b:Minutes of doc-3 2:city-a:Minutes of doc-2 1:city-b:Minutes of doc-1 0:city-a:Minutes of doc-0]"
		findEventually(t, svc, search.Query{Log: logName, Words: []string{"minutes"}}, 4)
		if got := find(search.Query{Words: []string{"minutes"}}); got != all {
			t.Fatalf("the server's index finds %s", got)
		}
		beforeB := find(search.Query{Agency: cityB})
		// restart removes the index and its place, writes state (if not
		// empty) and runs Follow until it has indexed the log's 4 entries.
		restart := func(state map[string]string) {
			t.Helper()
			if _, err := h.backend.DB.ExecContext(ctx, "DELETE FROM govlog_state WHERE log = ? AND k LIKE 'govlog.search/%'", logName); err != nil {
				t.Fatal(err)
			}
			if got := find(search.Query{Words: []string{"minutes"}}); got != "[]" {
				t.Fatalf("after removing the index: %s", got)
			}
			if err := h.store.Admit(ctx, logName, func(ctx context.Context, tx storage.AdmitTx) error {
				for k, v := range state {
					if err := tx.Put(ctx, search.Prefix+k, []byte(v)); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			fctx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				done <- search.Follow(fctx, search.FollowOptions{Store: h.store, Log: logName, Source: search.Source{Log: h.served, Domain: h.domain},
					Poll: 10 * time.Millisecond,
					Agency: func(ctx context.Context, e rule.Entry, sigs []note.Signature) string {
						id, _ := h.reg.Authorize(sigs, disclosures.RoleDiscloser, e.Time)
						return id
					}})
			}()
			deadline := time.Now().Add(time.Minute)
			for {
				var next string
				err := h.store.Read(ctx, logName, func(ctx context.Context, tx storage.ReadTx) error {
					v, _, err := tx.Get(ctx, search.Prefix+"next")
					next = string(v)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				if next == "4" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("Follow stands at %q after a minute", next)
				}
				time.Sleep(10 * time.Millisecond)
			}
			stop()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("Follow returned %v", err)
			}
		}

		// From the start, as on a store with no index.
		restart(nil)
		if got := find(search.Query{Words: []string{"minutes"}}); got != all {
			t.Errorf("index made again finds %s, the server's found %s", got, all)
		}
		if got := find(search.Query{Agency: cityB}); got != beforeB {
			t.Errorf("index made again finds for city-b %s, the server's found %s", got, beforeB)
		}
		// Where it stood.
		restart(map[string]string{"next": "2"})
		if got := find(search.Query{Words: []string{"minutes"}}); got != "[3:city-b:Minutes of doc-3 2:city-a:Minutes of doc-2]" {
			t.Errorf("resumed at entry 2: %s", got)
		}
		// A store whose index admission kept, in rows of the old layout:
		// every entry is indexed again.
		restart(map[string]string{"rebuild": `{"done":true}`})
		if got := find(search.Query{Words: []string{"minutes"}}); got != all {
			t.Errorf("after an index admission kept: %s", got)
		}
	})
}

// TestSearchPrunesOldLayout: the index admission kept (a row per entry and
// term, under other keys) is deleted, in batches, and the domain's state
// stays; the index Follow keeps still finds the entry.
func TestSearchPrunesOldLayout(t *testing.T) {
	eachBackend(t, harnessOptions{}, func(t *testing.T, h *harness) {
		ctx := t.Context()
		h.mustAdmit(t, statement(t, disclosures.TypePublish, publish("doc-1"), h.keys.a))
		keys := func() (old, kept int) {
			t.Helper()
			rows, err := h.backend.DB.QueryContext(ctx, "SELECT k FROM govlog_state WHERE log = ?", logName)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					t.Fatal(err)
				}
				switch {
				case strings.HasPrefix(k, search.Prefix+"entry/") || strings.HasPrefix(k, search.Prefix+"word/") || k == search.Prefix+"rebuild":
					old++
				case !strings.HasPrefix(k, search.Prefix):
					kept++ // the domain's
				}
			}
			return old, kept
		}
		_, before := keys()
		// 1,200 keys of the old layout: more than one batch.
		if err := h.store.Admit(ctx, logName, func(ctx context.Context, tx storage.AdmitTx) error {
			for i := range 600 {
				pos := fmt.Sprintf("%020d", ^uint64(0)-uint64(i))
				if err := tx.Put(ctx, search.Prefix+"entry/"+pos, []byte(`{}`)); err != nil {
					return err
				}
				if err := tx.Put(ctx, search.Prefix+"word/minutes/"+pos, []byte{}); err != nil {
					return err
				}
			}
			return tx.Put(ctx, search.Prefix+"rebuild", []byte(`{"done":true}`))
		}); err != nil {
			t.Fatal(err)
		}
		if old, _ := keys(); old != 1201 {
			t.Fatalf("%d old keys written", old)
		}
		n, err := search.PruneOldLayout(ctx, h.backend.Store, logName)
		if err != nil || n != 1201 {
			t.Fatalf("PruneOldLayout deleted %d keys, %v; want 1201", n, err)
		}
		if old, kept := keys(); old != 0 || kept != before {
			t.Errorf("after pruning: %d old keys, %d of the domain's (%d before)", old, kept, before)
		}
		svc := search.NewService(h.store, nil, map[string]search.Source{logName: {Log: h.served, Domain: h.domain}})
		if results := findEventually(t, svc, search.Query{Log: logName, ID: "doc-1"}, 1); len(results) != 1 {
			t.Errorf("after pruning, the index finds doc-1 %d times", len(results))
		}
	})
}
