package monitor_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/disclosures"
)

var benchEntries = flag.Int("monitor.entries", 100_000, "log size for BenchmarkFollow")

// BenchmarkFollow measures a monitor's first pass over a log of
// -monitor.entries entries (download, hash, verify every signature,
// authorize, replay the rules into SQLite) next to the bare cost of
// downloading and hashing the same entries (what any mirror of the log
// pays), and prints the ratio. The log is kept by Trillian on SQLite (as in
// `govlog dev`), then on MariaDB if GOVLOG_TEST_MYSQL_DSN is set, and read
// over gRPC on loopback TCP with the client package, as `govlog monitor`
// reads it. Server and monitor share the machine's cores. Run with
//
//	go test -run '^$' -bench Follow -benchtime 1x ./monitor/
func BenchmarkFollow(b *testing.B) {
	w := newWorld(b)
	leaves := w.statements(b, *benchEntries)
	b.Run("sqlite", func(b *testing.B) { benchFollowServer(b, w, leaves, logtest.SQLite(b, logtest.Options{})) })
	b.Run("mysql", func(b *testing.B) { benchFollowServer(b, w, leaves, logtest.MySQL(b, logtest.Options{})) })
}

func benchFollowServer(b *testing.B, w *testWorld, leaves [][]byte, backend *logtest.Backend) {
	ctx := context.Background()
	n := uint64(len(leaves))
	key := logtest.LogKey{Signer: w.logSigner}
	l := backend.OpenLog(b, key, time.Hour)
	start := time.Now()
	for i := 0; i < len(leaves); i += 1000 {
		if err := l.QueueLeaves(ctx, uint64(i), leaves[i:min(i+1000, len(leaves))]); err != nil {
			b.Fatal(err)
		}
	}
	for {
		if _, cp := l.Checkpoint(); cp.Size == n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Logf("log of %d entries built in %s", n, time.Since(start).Round(time.Millisecond))

	srv, err := personalities.NewServer(personalities.Options{
		Store: backend.Store, Registry: w.registry,
		Personalities: map[string]personalities.Personality{"disclosures": {Domain: disclosures.New(), Log: l}},
	})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go srv.Run(runCtx)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	gs := grpc.NewServer()
	api.RegisterLogServer(gs, srv)
	go gs.Serve(lis)
	defer gs.Stop()
	c, err := client.Dial(lis.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	signed, err := c.Checkpoint(ctx, "disclosures")
	if err != nil {
		b.Fatal(err)
	}
	cp, _, err := w.policy.Verify(signed)
	if err != nil {
		b.Fatal(err)
	}

	var verifyRate, hashRate, verifyCPU, hashCPU float64
	b.Run("verify", func(b *testing.B) {
		cpu0 := cpuTime(b)
		for b.Loop() {
			store, err := monitor.OpenStore(ctx, b.TempDir()+"/monitor.db")
			if err != nil {
				b.Fatal(err)
			}
			mon, err := monitor.New(monitor.Options{
				Logs: []monitor.Log{{Name: "disclosures", Origin: testOrigin, Policy: w.policy, Reader: c,
					Domain: disclosures.New(), Registry: w.registry}},
				Store:   store,
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
		verifyCPU = float64((cpuTime(b) - cpu0).Microseconds()) / float64(n) / float64(b.N)
		b.ReportMetric(verifyRate, "entries/s")
		b.ReportMetric(verifyCPU, "CPU-µs/entry")
	})
	b.Run("fetch-and-hash", func(b *testing.B) {
		factory := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
		cpu0 := cpuTime(b)
		for b.Loop() {
			rng := factory.NewEmptyRange(0)
			for next := uint64(0); next < n; {
				batch, err := c.Entries(ctx, "disclosures", next, 1000)
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
		hashCPU = float64((cpuTime(b) - cpu0).Microseconds()) / float64(n) / float64(b.N)
		b.ReportMetric(hashRate, "entries/s")
		b.ReportMetric(hashCPU, "CPU-µs/entry")
	})
	if verifyRate > 0 && hashRate > 0 {
		fmt.Printf("monitor over gRPC, %s: %d entries: verify %.0f entries/s (%.0f CPU-µs/entry), fetch-and-hash %.0f entries/s (%.0f CPU-µs/entry), verify/fetch-and-hash %.2f\n",
			backend.Name, n, verifyRate, verifyCPU, hashRate, hashCPU, verifyRate/hashRate)
	}
}

// cpuTime is the CPU time (user and system) this process has used so far:
// the server's and the monitor's, which share it.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSignatureCheck is the cost of checking one statement's note
// signature (Ed25519, crypto/ed25519), the floor of what a monitor pays per
// entry beyond fetching and hashing it.
func BenchmarkSignatureCheck(b *testing.B) {
	w := newWorld(b)
	leaf := w.statements(b, 1)[0]
	verifiers := w.registry.Verifiers()
	for b.Loop() {
		if _, err := note.Open(leaf, verifiers); err != nil {
			b.Fatal(err)
		}
	}
}
