package monitor_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/sync/errgroup"
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

	// The monitor's own rate, next to the machine's Ed25519 ceiling: the
	// entries downloaded before the clock starts (a server on another
	// machine costs this one nothing), and ed25519.Verify of each entry's
	// signature on every core, the least any monitor pays per entry.
	pre := prefetch(b, c, n)
	var ownRate, ownCPU float64
	b.Run("verify-prefetched", func(b *testing.B) {
		cpu0 := cpuTime(b)
		for b.Loop() {
			followOnce(b, w, pre)
		}
		ownRate = float64(n) * float64(b.N) / b.Elapsed().Seconds()
		ownCPU = float64((cpuTime(b) - cpu0).Microseconds()) / float64(n) / float64(b.N)
		b.ReportMetric(ownRate, "entries/s")
		b.ReportMetric(ownCPU, "CPU-µs/entry")
	})
	ceiling := ed25519Ceiling(b, w, pre.leaves)
	if ownRate > 0 && ceiling > 0 {
		fmt.Printf("monitor, %s, entries prefetched: %d entries: verify %.0f entries/s (%.0f CPU-µs/entry); Ed25519 ceiling (ed25519.Verify, %d cores) %.0f entries/s; verify/ceiling %.2f; over gRPC (server on this machine) %.2f\n",
			backend.Name, n, ownRate, ownCPU, runtime.GOMAXPROCS(0), ceiling, ownRate/ceiling, verifyRate/ceiling)
	}
}

// followOnce runs a first pass of a new monitor over the log r serves.
func followOnce(b *testing.B, w *testWorld, r monitor.LogReader) {
	ctx := context.Background()
	store, err := monitor.OpenStore(ctx, b.TempDir()+"/monitor.db")
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	mon, err := monitor.New(monitor.Options{
		Logs: []monitor.Log{{Name: "disclosures", Origin: testOrigin, Policy: w.policy, Reader: r,
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
}

// prefetchedLog serves a log's entries from memory, read once from its
// server, which answers the rest.
type prefetchedLog struct {
	monitor.LogReader
	leaves [][]byte
}

func prefetch(b *testing.B, r monitor.LogReader, n uint64) *prefetchedLog {
	p := &prefetchedLog{LogReader: r}
	for uint64(len(p.leaves)) < n {
		batch, err := r.Entries(context.Background(), "disclosures", uint64(len(p.leaves)), n-uint64(len(p.leaves)))
		if err != nil {
			b.Fatal(err)
		}
		p.leaves = append(p.leaves, batch...)
	}
	return p
}

func (p *prefetchedLog) Entries(ctx context.Context, log string, start, count uint64) ([][]byte, error) {
	if start >= uint64(len(p.leaves)) {
		return nil, fmt.Errorf("entries from %d: only %d", start, len(p.leaves))
	}
	return p.leaves[start:min(start+count, uint64(len(p.leaves)))], nil
}

// ed25519Ceiling measures the entries per second this machine checks if
// all it does is ed25519.Verify of one signature per entry, on every core:
// the keys, signed texts and signatures are taken out of the notes before
// the clock starts.
func ed25519Ceiling(b *testing.B, w *testWorld, leaves [][]byte) float64 {
	type check struct {
		key      ed25519.PublicKey
		msg, sig []byte
	}
	name, key, err := ed25519Key(w.agencyVKey)
	if err != nil {
		b.Fatal(err)
	}
	keys := map[string]ed25519.PublicKey{name: key}
	checks := make([]check, len(leaves))
	for i, leaf := range leaves {
		text, sigs, ok := bytes.Cut(leaf, []byte("\n\n"))
		if !ok {
			b.Fatalf("entry %d is not a note", i)
		}
		// The first signature line: "— <name> <base64(hash || sig)>".
		line, _, _ := bytes.Cut(sigs, []byte("\n"))
		f := strings.Fields(strings.TrimPrefix(string(line), "— "))
		raw, err := base64.StdEncoding.DecodeString(f[len(f)-1])
		if err != nil || len(raw) != 4+ed25519.SignatureSize {
			b.Fatalf("entry %d: bad signature line %q", i, line)
		}
		key := keys[fmt.Sprintf("%s+%08x", f[0], binary.BigEndian.Uint32(raw))]
		if key == nil {
			b.Fatalf("entry %d: signed by no registry key", i)
		}
		checks[i] = check{key, append(text, '\n'), raw[4:]}
	}
	var rate float64
	b.Run("ed25519-ceiling", func(b *testing.B) {
		for b.Loop() {
			var next atomic.Int64
			var g errgroup.Group
			for range runtime.GOMAXPROCS(0) {
				g.Go(func() error {
					for {
						i := int(next.Add(64)) - 64
						if i >= len(checks) {
							return nil
						}
						for _, c := range checks[i:min(i+64, len(checks))] {
							if !ed25519.Verify(c.key, c.msg, c.sig) {
								return errors.New("a signature does not verify")
							}
						}
					}
				})
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		rate = float64(len(checks)) * float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(rate, "entries/s")
	})
	return rate
}

// ed25519Key decodes a note verifier key, "<name>+<hash>+<base64(alg || key)>"
// (a name holds no "+"), to its name with hash and its Ed25519 public key.
func ed25519Key(vkey string) (string, ed25519.PublicKey, error) {
	f := strings.SplitN(vkey, "+", 3)
	if len(f) != 3 {
		return "", nil, fmt.Errorf("not a verifier key: %q", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(f[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != 1 {
		return "", nil, fmt.Errorf("not an Ed25519 verifier key: %q", vkey)
	}
	return f[0] + "+" + f[1], ed25519.PublicKey(raw[1:]), nil
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
