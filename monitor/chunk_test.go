package monitor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities/disclosures"
)

func commitEvery(n uint64) func(*monitor.Options) {
	return func(o *monitor.Options) { o.CommitEvery = n; o.BatchSize = 5 }
}

// TestLongPassResumes: a first pass over 95 entries commits every 20; the
// connection breaks at entry 50. The log grows meanwhile, and a monitor
// restarted on the same store proves the new checkpoint consistent with
// the one it was verifying, goes on from the last commit (40), downloading
// none of the entries below it again, and ends with the same state as one
// pass.
func TestLongPassResumes(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	log := newFakeLog(w.logSigner)
	leaves := w.statements(t, 95)
	log.append(t, leaves...)
	store := openStore(t, monitor.Memory)

	log.failAt = 50
	h := newHarness(t, w, log, store, commitEvery(20))
	if err := h.mon.Follow(ctx); err == nil {
		t.Fatal("Follow succeeded with a connection that breaks")
	}
	v, ok, err := store.Verified(ctx, testOrigin)
	if err != nil || !ok || v.Size != 40 {
		t.Fatalf("after the break: verified %d (%v, %v), want 40", v.Size, ok, err)
	}
	served := map[uint64]int{}
	for i, n := range log.served {
		served[i] = n
	}

	log.failAt = 0
	more := w.statements(t, 105)[95:]
	log.append(t, more...)
	leaves = append(leaves, more...)
	h = newHarness(t, w, log, store, commitEvery(20))
	if err := h.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if a := h.takeAlerts(); len(a) != 0 {
		t.Fatalf("alerts on an honest log: %+v", a)
	}
	for i := range uint64(40) {
		if log.served[i] != served[i] {
			t.Errorf("entry %d downloaded again after the restart", i)
		}
	}
	v, _, _ = store.Verified(ctx, testOrigin)
	if v.Size != 105 {
		t.Errorf("verified %d entries, want 105", v.Size)
	}
	checkState(t, h, leaves)
}

// TestLongPassForgedEntry: an entry served in the second part of a long
// pass is not the one the checkpoint commits to. The log cannot prove the
// tree of the first 40 entries consistent with its checkpoint: a
// root_mismatch alert, and the store keeps the 20 entries proved before.
func TestLongPassForgedEntry(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	log := newFakeLog(w.logSigner)
	leaves := w.statements(t, 95)
	log.append(t, leaves...)
	log.swapped = map[uint64][]byte{30: w.sign(t, w.agency, disclosures.TypePublish, disclosures.PublishBody{
		DocID: "forged", Title: "t", SHA256: strings.Repeat("ab", 32), Category: "c", DecisionDate: "2026-03-07"})}
	store := openStore(t, monitor.Memory)
	h := newHarness(t, w, log, store, commitEvery(20))
	if err := h.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	alerts := h.takeAlerts()
	if len(alerts) != 1 || alerts[0].Kind != monitor.KindRootMismatch || !strings.Contains(alerts[0].Message, "entries 20 to 40") {
		t.Fatalf("alerts = %+v, want one root_mismatch for entries 20 to 40", alerts)
	}
	if e := evidenceOf(t, alerts[0]); len(e.Proof) == 0 || len(e.ComputedRoot) != 32 {
		t.Errorf("evidence lacks the proof or the computed root: %+v", e)
	}
	v, _, _ := store.Verified(ctx, testOrigin)
	if v.Size != 20 {
		t.Errorf("verified %d entries, want the 20 proved before the forged one", v.Size)
	}
	checkState(t, h, leaves[:20])
}

// TestLongPassOlderCheckpoint: a pass stopped partway goes on towards the
// checkpoint it was verifying even when the log then serves only an older
// checkpoint, so serving old checkpoints cannot hold a monitor back (and
// keep it from judging promises).
func TestLongPassOlderCheckpoint(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	leaves := w.statements(t, 95)
	older := newFakeLog(w.logSigner)
	older.append(t, leaves[:30]...)
	old, _ := older.Checkpoint(ctx, "disclosures")

	log := newFakeLog(w.logSigner)
	log.append(t, leaves...)
	store := openStore(t, monitor.Memory)
	log.failAt = 50
	h := newHarness(t, w, log, store, commitEvery(20))
	if err := h.mon.Follow(ctx); err == nil {
		t.Fatal("Follow succeeded with a connection that breaks")
	}
	log.failAt = 0
	log.setCheckpoint(old)
	h = newHarness(t, w, log, store, commitEvery(20))
	if err := h.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if a := h.takeAlerts(); len(a) != 0 {
		t.Fatalf("alerts on an honest log: %+v", a)
	}
	if v, _, _ := store.Verified(ctx, testOrigin); v.Size != 95 {
		t.Errorf("verified %d entries, want the 95 of the checkpoint being verified", v.Size)
	}
	checkState(t, h, leaves)
}
