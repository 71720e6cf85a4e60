package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/registry"
)

// watchWorld is a testWorld whose registry also authorizes city-a, so that
// entries of two agencies can be told apart.
func watchWorld(t *testing.T) *testWorld {
	t.Helper()
	w := newWorld(t)
	_, agencyVKey := newSigner(t, "ministry-of-finance", 2)
	_, cityVKey := newSigner(t, "city-a", 4)
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{
		{ID: "ministry-of-finance", Name: "Ministry of Finance", Roles: []string{disclosures.RoleDiscloser},
			Keys: []registry.Key{{VKey: agencyVKey}}},
		{ID: "city-a", Name: "City A", Roles: []string{disclosures.RoleDiscloser},
			Keys: []registry.Key{{VKey: cityVKey}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	w.registry = reg
	return w
}

func (w *testWorld) publish(t *testing.T, signer note.Signer, id string) []byte {
	t.Helper()
	return w.sign(t, signer, disclosures.TypePublish, disclosures.PublishBody{DocID: id, Title: "Decision " + id,
		SHA256: strings.Repeat("ab", 32), Category: "decision", DecisionDate: "2026-03-07"})
}

// watchHarness is a monitor over one fake log with watches, collecting
// notifications.
type watchHarness struct {
	mon   *monitor.Monitor
	mu    sync.Mutex
	notes []monitor.Notification
}

func newWatchHarness(t *testing.T, w *testWorld, log *fakeLog, store *monitor.Store, watches []monitor.Watch, webhooks ...string) *watchHarness {
	t.Helper()
	h := &watchHarness{}
	var err error
	h.mon, err = monitor.New(monitor.Options{
		Logs: []monitor.Log{{
			Name: "disclosures", Origin: testOrigin, Policy: w.policy, Reader: log,
			Domain: disclosures.New(), Registry: w.registry,
		}},
		Store: store, BatchSize: 7, Watches: watches, Webhooks: webhooks,
		OnAlert: func(a monitor.Alert) { t.Errorf("unexpected alert: %s", a.Message) },
		OnNotification: func(n monitor.Notification) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.notes = append(h.notes, n)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *watchHarness) follow(t *testing.T) []monitor.Notification {
	t.Helper()
	if err := h.mon.Follow(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.notes
	h.notes = nil
	return n
}

type noteKey struct {
	watch string
	index uint64
}

// checkNotifications checks that got are exactly want, each with a bundle
// that verifies under the policy and proves the log's entry.
func checkNotifications(t *testing.T, w *testWorld, log *fakeLog, got []monitor.Notification, want ...noteKey) {
	t.Helper()
	var keys []noteKey
	for _, n := range got {
		keys = append(keys, noteKey{n.Watch, n.Index})
		vb, err := govlog.VerifyBundle(n.Bundle, w.policy)
		if err != nil {
			t.Errorf("notification %s of entry %d: bundle does not verify: %v", n.Watch, n.Index, err)
			continue
		}
		log.mu.Lock()
		leaf := log.leaves[n.Index]
		log.mu.Unlock()
		if vb.Index != n.Index || !bytes.Equal(vb.Entry, leaf) || !bytes.Equal(n.Entry, leaf) {
			t.Errorf("notification %s of entry %d: bundle proves entry %d, or the wrong bytes", n.Watch, n.Index, vb.Index)
		}
	}
	if !slices.Equal(keys, want) {
		t.Errorf("notifications = %v, want %v", keys, want)
	}
}

func TestWatches(t *testing.T) {
	ctx := context.Background()
	w := watchWorld(t)
	log := newFakeLog(w.logSigner)
	dbPath := filepath.Join(t.TempDir(), "monitor.db")
	store := openStore(t, dbPath)
	watches := []monitor.Watch{
		{Name: "city", Agency: "city-a"},
		{Name: "doc-2", About: map[string]string{"document": "doc-2"}},
		{Name: "nobody", Agency: "ministry-of-health"},
	}
	h := newWatchHarness(t, w, log, store, watches)

	// Entries 0-9 by the ministry (doc-0 to doc-7, a correction of doc-7,
	// a retraction of doc-6), then two by city-a.
	log.append(t, w.statements(t, 10)...)
	log.append(t, w.publish(t, w.unknown, "city-1"), w.publish(t, w.unknown, "city-2"))
	got := h.follow(t)
	checkNotifications(t, w, log, got, noteKey{"doc-2", 2}, noteKey{"city", 10}, noteKey{"city", 11})
	for _, n := range got {
		if n.Watch == "city" && (n.Agency != "city-a" || n.Type != disclosures.TypePublish) {
			t.Errorf("notification = agency %q, type %q", n.Agency, n.Type)
		}
	}

	// Nothing new: nothing notified.
	if got := h.follow(t); len(got) != 0 {
		t.Errorf("a pass with no new entries notified %d times", len(got))
	}

	// A retraction of doc-2 mentions it; a ministry publication matches
	// nothing.
	log.append(t, w.publish(t, w.agency, "doc-20"),
		w.sign(t, w.agency, disclosures.TypeRetract, disclosures.RetractBody{Retracts: "doc-2", Reason: "withdrawn"}))
	checkNotifications(t, w, log, h.follow(t), noteKey{"doc-2", 13})

	// A restart on the same file repeats nothing, and goes on.
	store.Close()
	store = openStore(t, dbPath)
	h = newWatchHarness(t, w, log, store, watches)
	if got := h.follow(t); len(got) != 0 {
		t.Errorf("restart notified %d times again", len(got))
	}
	log.append(t, w.publish(t, w.unknown, "city-3"))
	checkNotifications(t, w, log, h.follow(t), noteKey{"city", 14})
	stored, err := store.Notifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkNotifications(t, w, log, stored, noteKey{"doc-2", 2}, noteKey{"city", 10}, noteKey{"city", 11}, noteKey{"doc-2", 13}, noteKey{"city", 14})

	// GET /notifications lists them, newest first, and serves each bundle.
	srv := httptest.NewServer(h.mon.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/notifications")
	if err != nil {
		t.Fatal(err)
	}
	var listed []monitor.NotificationJSON
	err = json.NewDecoder(resp.Body).Decode(&listed)
	resp.Body.Close()
	if err != nil || len(listed) != 5 || listed[0].Index != 14 || listed[0].Kind != monitor.NotificationKind {
		t.Fatalf("GET /notifications = %+v, %v", listed, err)
	}
	resp, err = http.Get(srv.URL + "/notifications/" + listed[0].ID + "/bundle")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if _, err := govlog.VerifyBundle(buf.Bytes(), w.policy); err != nil {
		t.Errorf("served bundle does not verify: %v", err)
	}
	resp, err = http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if n := strings.Count(buf.String(), `class="notification-row"`); n != 5 {
		t.Errorf("dashboard lists %d notifications, want 5", n)
	}
}

// TestWatchBundles checks the inclusion proofs the monitor builds for every
// index of trees grown in uneven passes, against the log's checkpoints.
func TestWatchBundles(t *testing.T) {
	w := watchWorld(t)
	log := newFakeLog(w.logSigner)
	h := newWatchHarness(t, w, log, openStore(t, monitor.Memory), []monitor.Watch{{Name: "all", Agency: "ministry-of-finance"}})
	var next uint64
	for _, n := range []int{1, 1, 2, 5, 8, 3, 16, 1, 33, 9} {
		var leaves [][]byte
		var want []noteKey
		for range n {
			leaves = append(leaves, w.publish(t, w.agency, fmt.Sprintf("d-%d", next)))
			want = append(want, noteKey{"all", next})
			next++
		}
		log.append(t, leaves...)
		checkNotifications(t, w, log, h.follow(t), want...)
	}
}

func TestWatchWebhook(t *testing.T) {
	got := make(chan monitor.NotificationJSON, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var n monitor.NotificationJSON
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		got <- n
	}))
	defer hook.Close()
	w := watchWorld(t)
	log := newFakeLog(w.logSigner)
	h := newWatchHarness(t, w, log, openStore(t, monitor.Memory), []monitor.Watch{{Name: "doc-1", Log: testOrigin, About: map[string]string{"document": "doc-1"}}}, hook.URL)
	log.append(t, w.statements(t, 3)...)
	notes := h.follow(t)
	if len(notes) != 1 {
		t.Fatalf("notifications = %d, want 1", len(notes))
	}
	select {
	case n := <-got:
		if n.Kind != monitor.NotificationKind || n.ID != notes[0].ID() || n.Index != 1 || n.Watch != "doc-1" {
			t.Errorf("webhook got %+v", n)
		}
		if _, err := govlog.VerifyBundle(n.Bundle, w.policy); err != nil {
			t.Errorf("webhook bundle does not verify: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("webhook not called")
	}
	h.mon.WaitWebhooks()
	select {
	case n := <-got:
		t.Errorf("second webhook call: %+v", n)
	default:
	}
}

func TestNewRefusesBadWatches(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name    string
		watches []monitor.Watch
	}{
		{"no name", []monitor.Watch{{Agency: "a"}}},
		{"no criterion", []monitor.Watch{{Name: "w", Log: testOrigin}}},
		{"unknown log", []monitor.Watch{{Name: "w", Log: "other.example/log", Agency: "a"}}},
		{"duplicate", []monitor.Watch{{Name: "w", Agency: "a"}, {Name: "w", About: map[string]string{"account": "b"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := monitor.New(monitor.Options{
				Logs: []monitor.Log{{Name: "disclosures", Origin: testOrigin, Policy: w.policy, Reader: newFakeLog(w.logSigner),
					Domain: disclosures.New(), Registry: w.registry}},
				Store: openStore(t, monitor.Memory), Watches: tc.watches,
			})
			if err == nil {
				t.Error("New accepted the watches")
			}
		})
	}
}
