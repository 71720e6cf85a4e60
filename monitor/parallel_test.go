package monitor_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"runtime"
	"strings"
	"testing"

	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities/disclosures"
)

// forgeSignature returns leaf with the last byte of its signature changed:
// the same key, a signature that does not verify.
func forgeSignature(t *testing.T, leaf []byte) []byte {
	t.Helper()
	i := bytes.LastIndex(leaf, []byte(" "))
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(string(leaf[i+1:]), "\n"))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	return append(append(bytes.Clone(leaf[:i+1]), base64.StdEncoding.EncodeToString(raw)...), '\n')
}

// TestParallelVerification: the signatures of a batch of 1,000 entries are
// checked on several goroutines, and the replay still sees the entries in
// log order (corrections and retractions name earlier documents, some in
// other chunks of the batch, and the root is recomputed from the hashes in
// order); entries with a bad signature in the middle of a batch, at the
// edges of the checkers' chunks and in the next batch are each refused
// with an alert at their own index, with their own evidence, and change
// nothing.
func TestParallelVerification(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // several checkers, whatever the machine
	ctx := context.Background()
	w := newWorld(t)
	log := newFakeLog(w.logSigner)
	log.maxBatch = 1000
	good := w.statements(t, 1995)
	bad := map[uint64][]byte{}
	var leaves, kept [][]byte
	for _, i := range []uint64{63, 64, 500, 999, 1000, 1700} {
		bad[i] = nil
	}
	for i := uint64(0); len(leaves) < 2000; i++ {
		if _, ok := bad[i]; ok {
			var leaf []byte
			if i == 500 {
				// A body changed after signing.
				leaf = bytes.Replace(good[0], []byte("doc-0"), []byte("doc-X"), 1)
			} else {
				leaf = forgeSignature(t, w.sign(t, w.agency, disclosures.TypePublish, disclosures.PublishBody{
					DocID: "forged-" + string(rune('a'+len(leaves)%26)), Title: "t", SHA256: strings.Repeat("ab", 32),
					Category: "c", DecisionDate: "2026-03-07"}))
			}
			bad[i] = leaf
			leaves = append(leaves, leaf)
			continue
		}
		leaves = append(leaves, good[len(kept)])
		kept = append(kept, good[len(kept)])
	}
	log.append(t, leaves...)
	h := newHarness(t, w, log, openStore(t, monitor.Memory), func(o *monitor.Options) { o.BatchSize = 1000 })
	if err := h.mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	alerts := h.takeAlerts()
	want := []uint64{63, 64, 500, 999, 1000, 1700}
	if len(alerts) != len(want) {
		var got []string
		for _, a := range alerts {
			got = append(got, a.Message)
		}
		t.Fatalf("got %d alerts, want %d at %v:\n%s", len(alerts), len(want), want, strings.Join(got, "\n"))
	}
	for i, a := range alerts {
		if a.Kind != monitor.KindEntry || a.Index == nil || *a.Index != want[i] {
			t.Errorf("alert %d: %s at %v, want %s at %d", i, a.Kind, a.Index, monitor.KindEntry, want[i])
			continue
		}
		e := evidenceOf(t, a)
		if !bytes.Equal(e.Entry, bad[want[i]]) || !strings.Contains(e.Error, "signature") {
			t.Errorf("alert at %d: evidence error %q, want its own entry and a signature error", want[i], e.Error)
		}
	}
	if v, _, _ := h.store.Verified(ctx, testOrigin); v.Size != 2000 {
		t.Errorf("verified %d entries, want 2000", v.Size)
	}
	checkState(t, h, kept)
}
