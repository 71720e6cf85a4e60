package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities/disclosures"
)

func evidenceOf(t *testing.T, a monitor.Alert) monitor.Evidence {
	t.Helper()
	var e monitor.Evidence
	if err := json.Unmarshal(a.Evidence, &e); err != nil {
		t.Fatalf("alert evidence is not JSON: %v", err)
	}
	return e
}

func checkState(t *testing.T, h *harness, leaves [][]byte) {
	t.Helper()
	got, err := h.store.State(context.Background(), testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	want := h.world.expectedState(t, leaves)
	if !maps.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("replayed state has %d keys, want %d, or values differ", len(got), len(want))
	}
}

func TestHonestLog(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	log := newFakeLog(w.logSigner)
	h := newHarness(t, w, log, openStore(t, monitor.Memory))
	leaves := w.statements(t, 60)

	log.append(t, leaves[:50]...)
	if err := h.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if a := h.takeAlerts(); len(a) != 0 {
		t.Fatalf("alerts on an honest log: %+v", a)
	}
	checkState(t, h, leaves[:50])

	cp := log.append(t, leaves[50:]...)
	if err := h.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if a := h.takeAlerts(); len(a) != 0 {
		t.Fatalf("alerts on an honest log: %+v", a)
	}
	checkState(t, h, leaves)
	v, ok, err := h.store.Verified(ctx, testOrigin)
	if err != nil || !ok || v.Size != 60 || !bytes.Equal(v.Checkpoint, cp) {
		t.Fatalf("verified = size %d, ok %v, err %v; want the checkpoint of size 60", v.Size, ok, err)
	}
	// A pass with nothing new is quiet.
	if err := h.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if total, maxRepeat := log.servedCount(); total != 60 || maxRepeat != 1 {
		t.Errorf("served %d entries, one of them %d times; want each of 60 once", total, maxRepeat)
	}
}

func TestMaliciousLog(t *testing.T) {
	tests := []struct {
		name string
		// cheat runs after the monitor verified 30 honest entries; it
		// returns the checkpoints the alert must hold as evidence.
		cheat    func(t *testing.T, w *testWorld, log *fakeLog, verified []byte, more [][]byte) [][]byte
		wantKind monitor.Kind
	}{
		{
			name: "rewrite an old entry, re-sign the same size",
			cheat: func(t *testing.T, w *testWorld, log *fakeLog, verified []byte, more [][]byte) [][]byte {
				forged := log.rewrite(t, 10, more[0])
				return [][]byte{verified, forged}
			},
			wantKind: monitor.KindInconsistent,
		},
		{
			name: "rewrite an old entry, then grow",
			cheat: func(t *testing.T, w *testWorld, log *fakeLog, verified []byte, more [][]byte) [][]byte {
				log.rewrite(t, 10, more[0])
				forged := log.append(t, more[1:]...)
				return [][]byte{verified, forged}
			},
			wantKind: monitor.KindInconsistent,
		},
		{
			name: "serve entries other than those signed",
			cheat: func(t *testing.T, w *testWorld, log *fakeLog, verified []byte, more [][]byte) [][]byte {
				signed := log.append(t, more...)
				log.mu.Lock()
				log.swapped = map[uint64][]byte{35: more[0]}
				log.mu.Unlock()
				return [][]byte{verified, signed}
			},
			wantKind: monitor.KindRootMismatch,
		},
		{
			name: "checkpoint signed by another key of the same name",
			cheat: func(t *testing.T, w *testWorld, log *fakeLog, verified []byte, more [][]byte) [][]byte {
				other, _ := newSigner(t, testOrigin, 99)
				liar := newFakeLog(other)
				forged := liar.append(t, more...)
				log.setCheckpoint(forged)
				return [][]byte{forged}
			},
			wantKind: monitor.KindCheckpointRefused,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t)
			log := newFakeLog(w.logSigner)
			h := newHarness(t, w, log, openStore(t, monitor.Memory))
			leaves := w.statements(t, 40)
			verified := log.append(t, leaves[:30]...)
			if err := h.mon.Follow(ctx); err != nil {
				t.Fatal(err)
			}
			wantCPs := tt.cheat(t, w, log, verified, leaves[30:])
			if err := h.mon.Follow(ctx); err != nil {
				t.Fatal(err)
			}
			alerts := h.takeAlerts()
			if len(alerts) != 1 || alerts[0].Kind != tt.wantKind {
				t.Fatalf("alerts = %+v, want one %s", alerts, tt.wantKind)
			}
			e := evidenceOf(t, alerts[0])
			if len(e.Checkpoints) != len(wantCPs) {
				t.Fatalf("evidence has %d checkpoints, want %d", len(e.Checkpoints), len(wantCPs))
			}
			for i := range wantCPs {
				if !bytes.Equal(e.Checkpoints[i], wantCPs[i]) {
					t.Errorf("evidence checkpoint %d:\n%s\nwant\n%s", i, e.Checkpoints[i], wantCPs[i])
				}
			}
			if tt.wantKind == monitor.KindInconsistent {
				// The two checkpoints are signed by the real log key: anyone
				// holding it can check them.
				for _, cp := range e.Checkpoints {
					if _, _, err := w.policy.Verify(cp); err != nil {
						t.Errorf("evidence checkpoint does not verify: %v", err)
					}
				}
			}
			// The store stays at the honest checkpoint and its state.
			v, _, err := h.store.Verified(ctx, testOrigin)
			if err != nil || !bytes.Equal(v.Checkpoint, verified) {
				t.Errorf("verified checkpoint moved to size %d (err %v)", v.Size, err)
			}
			checkState(t, h, leaves[:30])
			// The same fault found again is not a new alert.
			if err := h.mon.Follow(ctx); err != nil {
				t.Fatal(err)
			}
			if a := h.takeAlerts(); len(a) != 0 {
				t.Errorf("alert raised again: %+v", a)
			}
			all, err := h.store.Alerts(ctx)
			if err != nil || len(all) != 1 {
				t.Errorf("store holds %d alerts (err %v), want 1", len(all), err)
			}
		})
	}
}

func TestRefusedEntries(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	log := newFakeLog(w.logSigner)
	h := newHarness(t, w, log, openStore(t, monitor.Memory))
	pub := func(id string) disclosures.PublishBody {
		return disclosures.PublishBody{DocID: id, Title: "t", SHA256: strings.Repeat("ab", 32),
			Category: "c", DecisionDate: "2026-03-07"}
	}
	// A key retired since still covers what it signed before.
	good := append(w.statements(t, 19), w.signAt(t, w.rotated, rotatedAt.Add(-time.Second), disclosures.TypePublish, pub("by-rotated")))
	bad := []struct {
		leaf    []byte
		wantErr string
	}{
		{w.sign(t, w.revoked, disclosures.TypePublish, pub("by-revoked")), "revoked"},
		{w.signAt(t, w.rotated, rotatedAt, disclosures.TypePublish, pub("by-rotated-late")), "retired"},
		{w.sign(t, w.unknown, disclosures.TypePublish, pub("by-unknown")), "not signed by a known key"},
		{w.sign(t, w.agency, disclosures.TypePublish, pub("doc-0")), "already exists"},
		{w.sign(t, w.agency, "disclosure.delete", pub("x")), "unknown statement type"},
	}
	leaves := append([][]byte(nil), good[:10]...)
	for _, b := range bad {
		leaves = append(leaves, b.leaf)
	}
	leaves = append(leaves, good[10:]...)
	log.append(t, leaves...)
	if err := h.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	alerts := h.takeAlerts()
	if len(alerts) != len(bad) {
		t.Fatalf("got %d alerts, want %d: %+v", len(alerts), len(bad), alerts)
	}
	for i, a := range alerts {
		if a.Kind != monitor.KindEntry || a.Index == nil || *a.Index != uint64(10+i) {
			t.Errorf("alert %d = %s at %v, want %s at %d", i, a.Kind, a.Index, monitor.KindEntry, 10+i)
			continue
		}
		e := evidenceOf(t, a)
		if !bytes.Equal(e.Entry, bad[i].leaf) || !strings.Contains(e.Error, bad[i].wantErr) {
			t.Errorf("alert %d: evidence error %q, want the entry and %q", i, e.Error, bad[i].wantErr)
		}
		if len(e.Checkpoints) != 1 {
			t.Errorf("alert %d: want the checkpoint that commits to the entry", i)
		}
	}
	// The refused entries changed nothing; the rest replayed as admitted.
	checkState(t, h, good)
}

func TestRestartResumes(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	log := newFakeLog(w.logSigner)
	path := filepath.Join(t.TempDir(), "monitor.db")
	leaves := w.statements(t, 70)
	revoked := w.sign(t, w.revoked, disclosures.TypePublish, disclosures.PublishBody{DocID: "r", Title: "t",
		SHA256: strings.Repeat("ab", 32), Category: "c", DecisionDate: "2026-03-07"})

	store := openStore(t, path)
	h := newHarness(t, w, log, store)
	log.append(t, leaves[:50]...)
	log.append(t, revoked)
	if err := h.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if a := h.takeAlerts(); len(a) != 1 {
		t.Fatalf("want 1 alert, got %+v", a)
	}
	store.Close()

	// A failed pass after the restart persists nothing.
	h = newHarness(t, w, log, openStore(t, path))
	log.append(t, leaves[50:]...)
	log.mu.Lock()
	log.failEntries = errors.New("connection reset")
	log.mu.Unlock()
	if err := h.mon.Follow(ctx); err == nil {
		t.Fatal("Follow succeeded with a failing reader")
	}
	log.mu.Lock()
	log.failEntries = nil
	log.mu.Unlock()
	if err := h.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if a := h.takeAlerts(); len(a) != 0 {
		t.Fatalf("alerts after restart: %+v", a)
	}
	if total, maxRepeat := log.servedCount(); total != 71 || maxRepeat != 1 {
		t.Errorf("served %d entries, one of them %d times; want each of 71 once", total, maxRepeat)
	}
	checkState(t, h, leaves)
	v, _, err := h.store.Verified(ctx, testOrigin)
	if err != nil || v.Size != 71 {
		t.Errorf("verified size %d (err %v), want 71", v.Size, err)
	}
}

func TestStaleCheckpoint(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	log := newFakeLog(w.logSigner)
	now := time.Unix(1767225600, 0)
	var alerts []monitor.Alert
	mon, err := monitor.New(monitor.Options{
		Logs: []monitor.Log{{Name: "disclosures", Origin: testOrigin, Policy: w.policy, Reader: log,
			Domain: disclosures.New(), Registry: w.registry}},
		Store:            openStore(t, monitor.Memory),
		MaxCheckpointAge: time.Hour,
		Now:              func() time.Time { return now },
		OnAlert:          func(a monitor.Alert) { alerts = append(alerts, a) },
	})
	if err != nil {
		t.Fatal(err)
	}
	log.append(t, w.statements(t, 3)...)
	for _, step := range []time.Duration{0, 30 * time.Minute, 31 * time.Minute, time.Minute} {
		now = now.Add(step)
		if err := mon.Follow(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(alerts) != 1 || alerts[0].Kind != monitor.KindStale {
		t.Fatalf("alerts = %+v, want one %s", alerts, monitor.KindStale)
	}
	// A new checkpoint resets the clock.
	log.append(t, w.sign(t, w.agency, disclosures.TypePublish, disclosures.PublishBody{DocID: "new", Title: "t",
		SHA256: strings.Repeat("ab", 32), Category: "c", DecisionDate: "2026-03-07"}))
	if err := mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 {
		t.Fatalf("alerts = %+v after a new checkpoint", alerts)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	w := newWorld(t)
	store := openStore(t, monitor.Memory)
	l := monitor.Log{Name: "d", Origin: testOrigin, Policy: w.policy, Reader: newFakeLog(w.logSigner), Domain: disclosures.New(), Registry: w.registry}
	noPolicy := l
	noPolicy.Policy = nil
	tests := []struct {
		name string
		opts monitor.Options
	}{
		{"no store", monitor.Options{Logs: []monitor.Log{l}}},
		{"no policy", monitor.Options{Store: store, Logs: []monitor.Log{noPolicy}}},
		{"log twice", monitor.Options{Store: store, Logs: []monitor.Log{l, l}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := monitor.New(tt.opts); err == nil {
				t.Error("New accepted it")
			}
		})
	}
	_ = govlog.LeafHash
}

// TestEmptyLogThenEntries: a log that has no entries yet (a new govlog dev)
// verifies, and the monitor goes on from it when entries arrive.
func TestEmptyLogThenEntries(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	log := newFakeLog(w.logSigner)
	h := newHarness(t, w, log, openStore(t, filepath.Join(t.TempDir(), "monitor.db")))
	log.append(t)
	if err := h.mon.Follow(ctx); err != nil {
		t.Fatalf("following an empty log: %v", err)
	}
	leaves := w.statements(t, 5)
	log.append(t, leaves...)
	if err := h.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if a := h.takeAlerts(); len(a) != 0 {
		t.Fatalf("alerts: %+v", a)
	}
	checkState(t, h, leaves)
}
