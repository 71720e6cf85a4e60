package monitor_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities/disclosures"
)

var benchEntries = flag.Int("monitor.entries", 100_000, "log size for BenchmarkFollow")

// BenchmarkFollow measures a first pass over a log of -monitor.entries
// entries (download, hash, verify signatures, authorize, replay the rules
// into SQLite), next to the bare cost of downloading and hashing them, and
// prints the ratio. The log is in memory, so "download" costs only the
// copy: the ratio is the monitor's own cost.
func BenchmarkFollow(b *testing.B) {
	ctx := context.Background()
	w := newWorld(b)
	log := newFakeLog(w.logSigner)
	log.maxBatch = 1000
	log.append(b, w.statements(b, *benchEntries)...)
	signed, _ := log.Checkpoint(ctx, "disclosures")
	cp, _, err := w.policy.Verify(signed)
	if err != nil {
		b.Fatal(err)
	}
	n := cp.Size

	var verifyRate, hashRate float64
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			store, err := monitor.OpenStore(ctx, monitor.Memory)
			if err != nil {
				b.Fatal(err)
			}
			mon, err := monitor.New(monitor.Options{
				Logs: []monitor.Log{{Name: "disclosures", Origin: testOrigin, Policy: w.policy, Reader: log,
					Domain: disclosures.New(), Registry: w.registry}},
				Store: store, BatchSize: 1000,
				OnAlert: func(a monitor.Alert) { b.Fatalf("alert: %s", a.Message) },
			})
			if err != nil {
				b.Fatal(err)
			}
			if err := mon.Follow(ctx); err != nil {
				b.Fatal(err)
			}
			store.Close()
		}
		verifyRate = float64(n) * float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(verifyRate, "entries/s")
	})
	b.Run("fetch-and-hash", func(b *testing.B) {
		factory := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
		for b.Loop() {
			rng := factory.NewEmptyRange(0)
			for next := uint64(0); next < n; {
				batch, err := log.Entries(ctx, "disclosures", next, 1000)
				if err != nil {
					b.Fatal(err)
				}
				for _, leaf := range batch {
					h := govlog.LeafHash(leaf)
					if err := rng.Append(h[:], nil); err != nil {
						b.Fatal(err)
					}
				}
				next += uint64(len(batch))
			}
			root, err := rng.GetRootHash(nil)
			if err != nil || !bytes.Equal(root, cp.Hash[:]) {
				b.Fatalf("root mismatch (%v)", err)
			}
		}
		hashRate = float64(n) * float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(hashRate, "entries/s")
	})
	if verifyRate > 0 && hashRate > 0 {
		fmt.Printf("monitor: %d entries: verify %.0f entries/s, fetch-and-hash %.0f entries/s, ratio %.1fx\n",
			n, verifyRate, hashRate, hashRate/verifyRate)
	}
}
