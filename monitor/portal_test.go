package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/portal"
	"github.com/govlog/govlog/search"
)

// withPortal turns the portal on.
func withPortal(o *monitor.Options) { o.Portal = &monitor.PortalOptions{} }

// TestPortalIndexRebuild: a store replayed before the monitor kept the
// search index gets it on the first pass with the portal on: the index
// keys are then exactly those of a monitor that indexed from the start
// (the entry the replay refused left out of both), and the portal finds
// the old entries with bundles that verify.
func TestPortalIndexRebuild(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	log := newFakeLog(w.logSigner)
	leaves := w.statements(t, 50)
	revoked := w.sign(t, w.revoked, disclosures.TypePublish, disclosures.PublishBody{DocID: "r", Title: "Revoked",
		SHA256: strings.Repeat("ab", 32), Category: "c", DecisionDate: "2026-03-07"})
	log.append(t, leaves[:20]...)
	log.append(t, revoked)
	log.append(t, leaves[20:30]...)

	// Before the portal: no index.
	path := filepath.Join(t.TempDir(), "monitor.db")
	store := openStore(t, path)
	h := newHarness(t, w, log, store)
	if err := h.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if idx, err := store.StatePrefix(ctx, testOrigin, search.Prefix); err != nil || len(idx) != 0 {
		t.Fatalf("a monitor without the portal wrote %d index keys (err %v)", len(idx), err)
	}
	store.Close()

	// With the portal: the 31 entries replayed before are indexed, and
	// those after by the replay.
	log.append(t, leaves[30:40]...)
	rebuilt := newHarness(t, w, log, openStore(t, path), withPortal)
	if err := rebuilt.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	fresh := newHarness(t, w, log, openStore(t, monitor.Memory), withPortal)
	if err := fresh.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	got := searchIndex(t, rebuilt.store)
	want := searchIndex(t, fresh.store)
	if len(want) == 0 || !maps.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("rebuilt index has %d keys, one kept from the start %d, or values differ", len(got), len(want))
	}
	if _, ok := want["govlog.search/e/"+fmt.Sprintf("%020d", ^uint64(0)-20)]; ok {
		t.Error("the entry the replay refused is indexed")
	}

	// The portal finds an old entry by its title, with a bundle made by
	// the monitor that verifies.
	srv := httptest.NewServer(rebuilt.mon.Handler())
	defer srv.Close()
	var page portal.Page
	getJSON(t, srv.URL+"/api/v1/search?log=disclosures&id=doc-3", &page)
	if len(page.Results) != 1 || page.Results[0].Index != 3 || page.Results[0].Agency != "ministry-of-finance" {
		t.Fatalf("search for doc-3 found %+v", page.Results)
	}
	vb, err := govlog.VerifyBundle(page.Results[0].Bundle, w.policy)
	if err != nil || vb.Index != 3 || !bytes.Equal(vb.Entry, leaves[3]) {
		t.Fatalf("bundle of doc-3: %v", err)
	}
	// The dashboard keeps /; the domain queries are not answered here.
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(testOrigin)) {
		t.Errorf("GET / = %d, not the dashboard", resp.StatusCode)
	}
	srv.Close()
	rebuilt.store.Close()

	// Turned off, the monitor drops the index; on again, it indexes
	// every entry anew, those replayed meanwhile too.
	off := newHarness(t, w, log, openStore(t, path))
	log.append(t, leaves[40:45]...)
	if err := off.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if idx, err := off.store.StatePrefix(ctx, testOrigin, search.Prefix); err != nil || len(idx) != 0 {
		t.Fatalf("the monitor kept %d index keys with the portal off (err %v)", len(idx), err)
	}
	off.store.Close()
	on := newHarness(t, w, log, openStore(t, path), withPortal)
	log.append(t, leaves[45:]...)
	if err := on.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	fresh = newHarness(t, w, log, openStore(t, monitor.Memory), withPortal)
	if err := fresh.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	got, want = searchIndex(t, on.store), searchIndex(t, fresh.store)
	if !maps.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("index after off and on has %d keys, one kept from the start %d, or values differ", len(got), len(want))
	}
}

// TestPortalRefusesChangedLeaf: an entry whose leaf the log serves changed
// since the monitor verified it is not shown with a bundle.
func TestPortalRefusesChangedLeaf(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	log := newFakeLog(w.logSigner)
	leaves := w.statements(t, 8)
	log.append(t, leaves...)
	h := newHarness(t, w, log, openStore(t, monitor.Memory), withPortal)
	if err := h.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.mon.Handler())
	defer srv.Close()
	var e portal.Entry
	getJSON(t, srv.URL+"/api/v1/entries/disclosures/2", &e)
	if _, err := govlog.VerifyBundle(e.Bundle, w.policy); err != nil || e.Index != 2 {
		t.Fatalf("entry 2: %v", err)
	}
	// The log now serves another leaf at 2 (and signs a tree with it,
	// which the monitor has not verified).
	log.rewrite(t, 2, w.sign(t, w.agency, disclosures.TypePublish, disclosures.PublishBody{DocID: "doc-2", Title: "Other",
		SHA256: strings.Repeat("cd", 32), Category: "c", DecisionDate: "2026-03-07"}))
	resp, err := http.Get(srv.URL + "/api/v1/entries/disclosures/2")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || bytes.Contains(body, []byte("bundle")) {
		t.Fatalf("entry 2 with a leaf the monitor did not verify: %d %s", resp.StatusCode, body)
	}
}

// searchIndex returns the search index keys of the test log's replayed
// state, without the rebuild's progress.
func searchIndex(t *testing.T, s *monitor.Store) map[string][]byte {
	t.Helper()
	idx, err := s.StatePrefix(context.Background(), testOrigin, search.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	delete(idx, search.Prefix+"monitor-rebuild-blocks")
	return idx
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// BenchmarkReplayWithPortal prints the entries/s of a monitor's first pass
// over 2,000 disclosures in a SQLite file, without the portal and with it
// (the replay then writes each entry's search index too).
func BenchmarkReplayWithPortal(b *testing.B) {
	w := newWorld(b)
	log := newFakeLog(w.logSigner)
	log.maxBatch = 1000
	leaves := w.statements(b, 2000)
	log.append(b, leaves...)
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("portal=%v", on), func(b *testing.B) {
			for b.Loop() {
				var opts []func(*monitor.Options)
				if on {
					opts = append(opts, withPortal)
				}
				h := newHarness(b, w, log, openStore(b, filepath.Join(b.TempDir(), "m.db")), opts...)
				if err := h.mon.Follow(context.Background()); err != nil {
					b.Fatal(err)
				}
				h.store.Close()
			}
			b.ReportMetric(float64(len(leaves)*b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkPortalEntry prints what an entry of the monitor's portal costs
// on a log of 20,000 entries: the first (cold-ms: the verified tree built
// from the leaf hashes in the store, as after each new checkpoint), then
// the next ones (entries/s, the tree cached; each leaf read from the log).
func BenchmarkPortalEntry(b *testing.B) {
	const n = 20000
	ctx := context.Background()
	w := newWorld(b)
	log := newFakeLog(w.logSigner)
	log.maxBatch = 1000
	log.append(b, w.statements(b, n)...)
	h := newHarness(b, w, log, openStore(b, filepath.Join(b.TempDir(), "m.db")), withPortal)
	if err := h.mon.Follow(ctx); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h.mon.Handler())
	defer srv.Close()
	get := func(i int) {
		resp, err := http.Get(fmt.Sprintf("%s/api/v1/entries/disclosures/%d", srv.URL, i%n))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("entry %d: %d", i%n, resp.StatusCode)
		}
	}
	start := time.Now()
	get(0)
	cold := time.Since(start)
	i := 1
	for b.Loop() {
		get(i * 7919)
		i++
	}
	b.ReportMetric(float64(cold.Microseconds())/1000, "cold-ms")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
