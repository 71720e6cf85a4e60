package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/internal/edverify"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities/registry"
)

func newBenchMonitorCmd() *cobra.Command {
	var n, conc, rounds int
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Measure a monitor's first pass against the machine's Ed25519 ceiling",
		Long: `bench monitor fills a fresh SQLite node with --n disclosures publications,
then measures, on this machine:
  1. a monitor's first pass over the registry and disclosures logs (every
     entry hashed, its signature checked on every core, authorized and its
     rules replayed into the monitor's SQLite file), the entries downloaded
     before the clock starts: the monitor's own cost;
  2. the same pass reading over gRPC from the node, which shares the cores;
  3. the Ed25519 ceiling: ed25519.Verify of each entry's signature, and
     nothing else, on every core;
  4. the same with the monitor's own check (internal/edverify, the same
     answers with tables per key), once.
(1) and (3) are run in --pairs pairs, one after the other, so that both of a
pair meet the same load on a shared machine; (2) twice. It prints entries
per second and CPU time per entry of each run's fastest, and last the ratio
of (1) to (3), the median of the pairs', by wall-clock time and by CPU time.
The store is removed afterwards.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			quietTrillian(false)
			b := &bench{out: cmd.OutOrStdout(), n: n, conc: conc}
			if rounds < 1 {
				return fmt.Errorf("--pairs %d: want at least 1", rounds)
			}
			return b.runMonitor(cmd.Context(), rounds, cpuProfile)
		},
	}
	cmd.Flags().IntVar(&n, "n", 100_000, "disclosures entries")
	cmd.Flags().IntVar(&conc, "concurrency", 32, "concurrent clients filling the log")
	cmd.Flags().IntVar(&rounds, "pairs", 3, "runs of the monitor with entries prefetched, each followed by one of the ceiling")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the pairs' runs (monitor with entries prefetched, and ceiling) to this path")
	return cmd
}

func (b *bench) runMonitor(ctx context.Context, rounds int, cpuProfile string) error {
	fmt.Fprintf(b.out, "govlog bench monitor: %d disclosures entries, %d cores\n", b.n, runtime.GOMAXPROCS(0))
	cfg := nodeConfig{Listen: "127.0.0.1:0", MMD: time.Hour}
	drop, err := b.sqliteStore().node(ctx, &cfg)
	if err != nil {
		return err
	}
	defer drop()
	node, err := b.startNode(ctx, cfg, b.conc)
	if err != nil {
		return err
	}
	defer node.stop()
	size, err := b.fill(ctx, node)
	if err != nil {
		return err
	}
	var logs []monitor.Log
	prefetched := map[string]*prefetchedLog{}
	for i, l := range node.cfg.Logs {
		domain, err := domainFor(l.Name, node.cfg.Roots)
		if err != nil {
			return err
		}
		text, err := govlog.FormatPolicy([]string{node.cfg.logVKeys[i]}, nil, 0)
		if err != nil {
			return err
		}
		policy, err := govlog.ParsePolicy(text)
		if err != nil {
			return err
		}
		logs = append(logs, monitor.Log{Name: l.Name, Origin: l.Origin, Policy: policy, Domain: domain})
		if prefetched[l.Name], err = prefetch(ctx, node.clients[0], l.Name); err != nil {
			return err
		}
	}

	// The monitor's own runs and the ceiling's alternate, so that each pair
	// meets the same load on a machine shared with other work (minutes
	// apart, the load differs more than the two do); the ratio printed is
	// the median of the pairs'. The table keeps each run's fastest, the
	// one least disturbed.
	fmt.Fprintf(b.out, "monitor with entries prefetched, then the Ed25519 ceiling, %d pairs:\n", rounds)
	stopProfile, err := startCPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	var own, ceiling passResult
	var wallRatios, cpuRatios []float64
	for i := range rounds {
		o, err := b.followOnce(ctx, logs, func(name string) monitor.LogReader { return prefetched[name] })
		if err != nil {
			return errors.Join(err, stopProfile())
		}
		c, err := ed25519Ceiling(prefetched["disclosures"].leaves, node.cfg.Genesis)
		if err != nil {
			return errors.Join(err, stopProfile())
		}
		wallRatios = append(wallRatios, c.elapsed.Seconds()/o.elapsed.Seconds())
		cpuRatios = append(cpuRatios, c.cpu.Seconds()/o.cpu.Seconds())
		fmt.Fprintf(b.out, "  ceiling %s: ratio %.2f (by CPU time %.2f)\n", c.elapsed.Round(time.Millisecond), wallRatios[i], cpuRatios[i])
		if i == 0 || o.elapsed < own.elapsed {
			own = o
		}
		if i == 0 || c.elapsed < ceiling.elapsed {
			ceiling = c
		}
	}
	if err := stopProfile(); err != nil {
		return err
	}
	tabled, err := edverifyCeiling(prefetched["disclosures"].leaves, node.cfg.Genesis)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "monitor over gRPC:\n")
	overGRPC, err := fastest(2, func() (passResult, error) {
		return b.followOnce(ctx, logs, func(string) monitor.LogReader { return node.clients[0] })
	})
	if err != nil {
		return err
	}

	perEntry := func(d time.Duration) string {
		return (d / time.Duration(size)).Round(100 * time.Nanosecond).String()
	}
	fmt.Fprintf(b.out, "\n%-52s %12s %12s\n", "run", "entries/s", "CPU/entry")
	for _, r := range []struct {
		label string
		r     passResult
	}{
		{"monitor, entries prefetched (its own cost)", own},
		{"monitor over gRPC (server on this machine)", overGRPC},
		{"Ed25519 ceiling (ed25519.Verify, every core)", ceiling},
		{"the monitor's Ed25519 check alone (edverify)", tabled},
	} {
		fmt.Fprintf(b.out, "%-52s %12.0f %12s\n", r.label, float64(size)/r.r.elapsed.Seconds(), perEntry(r.r.cpu))
	}
	fmt.Fprintf(b.out, "CPU/entry is this whole process's: the monitor's, and the node's while it serves.\n")
	fmt.Fprintf(b.out, "The monitor checks signatures as ed25519.Verify does (same answers), with tables per key (internal/edverify).\n")
	fmt.Fprintf(b.out, "ratio monitor/Ed25519 ceiling: %.2f, median of %d pairs (by CPU time %.2f; over gRPC, fastest runs %.2f)\n",
		median(wallRatios), rounds, median(cpuRatios), ceiling.elapsed.Seconds()/overGRPC.elapsed.Seconds())
	return nil
}

// startCPUProfile starts a CPU profile written to path, if not empty.
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

func median(xs []float64) float64 {
	xs = slices.Sorted(slices.Values(xs))
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// fastest runs f n times and returns its fastest result.
func fastest(n int, f func() (passResult, error)) (passResult, error) {
	var best passResult
	for i := range n {
		r, err := f()
		if err != nil {
			return passResult{}, err
		}
		if i == 0 || r.elapsed < best.elapsed {
			best = r
		}
	}
	return best, nil
}

// passResult is the wall-clock and CPU time of one run.
type passResult struct {
	elapsed, cpu time.Duration
}

// measure runs f and returns its wall-clock time and this process's CPU
// time meanwhile (the node's too, which shares the process).
func measure(f func() error) (passResult, error) {
	cpu0 := processCPU()
	start := time.Now()
	err := f()
	return passResult{elapsed: time.Since(start), cpu: processCPU() - cpu0}, err
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// followOnce runs a new monitor's first pass over logs, each read through
// reader(name), on a fresh store, and fails on any alert.
func (b *bench) followOnce(ctx context.Context, logs []monitor.Log, reader func(name string) monitor.LogReader) (passResult, error) {
	dir, err := os.MkdirTemp("", "govlog-bench-monitor-")
	if err != nil {
		return passResult{}, err
	}
	defer os.RemoveAll(dir)
	store, err := monitor.OpenStore(ctx, filepath.Join(dir, "monitor.db"))
	if err != nil {
		return passResult{}, err
	}
	defer store.Close()
	var alerts atomic.Int64
	var first atomic.Value
	logs = append([]monitor.Log(nil), logs...)
	for i := range logs {
		logs[i].Reader = reader(logs[i].Name)
	}
	mon, err := monitor.New(monitor.Options{Logs: logs, Store: store, OnAlert: func(a monitor.Alert) {
		if alerts.Add(1) == 1 {
			first.Store(a.Message)
		}
	}})
	if err != nil {
		return passResult{}, err
	}
	r, err := measure(func() error { return mon.Follow(ctx) })
	if err == nil && alerts.Load() > 0 {
		err = fmt.Errorf("%d alerts, the first: %s", alerts.Load(), first.Load())
	}
	fmt.Fprintf(b.out, "  %s\n", r.elapsed.Round(time.Millisecond))
	return r, err
}

// prefetchedLog serves one log's entries from memory, read once from its
// server, which answers the rest.
type prefetchedLog struct {
	monitor.LogReader
	leaves [][]byte
}

func prefetch(ctx context.Context, r monitor.LogReader, name string) (*prefetchedLog, error) {
	signed, err := r.Checkpoint(ctx, name)
	if err != nil {
		return nil, err
	}
	text, _, _ := bytes.Cut(signed, []byte("\n\n"))
	cp, err := govlog.ParseCheckpoint(append(text, '\n'))
	if err != nil {
		return nil, err
	}
	p := &prefetchedLog{LogReader: r}
	for uint64(len(p.leaves)) < cp.Size {
		batch, err := r.Entries(ctx, name, uint64(len(p.leaves)), cp.Size-uint64(len(p.leaves)))
		if err != nil {
			return nil, err
		}
		p.leaves = append(p.leaves, batch...)
	}
	return p, nil
}

func (p *prefetchedLog) Entries(_ context.Context, _ string, start, count uint64) ([][]byte, error) {
	if start >= uint64(len(p.leaves)) {
		return nil, fmt.Errorf("entries from %d: the log has %d", start, len(p.leaves))
	}
	return p.leaves[start:min(start+count, uint64(len(p.leaves)))], nil
}

// ed25519Ceiling measures ed25519.Verify of each statement's signature,
// by a key of the genesis, on every core: the keys, signed texts and
// signatures are taken out of the notes before the clock starts. Entries
// signed by no genesis key (the log's own registry view entry) are left
// out.
func ed25519Ceiling(leaves [][]byte, genesis registry.File) (passResult, error) {
	return signatureCeiling(leaves, genesis, func(pub ed25519.PublicKey) func(msg, sig []byte) bool {
		return func(msg, sig []byte) bool { return ed25519.Verify(pub, msg, sig) }
	})
}

// edverifyCeiling is ed25519Ceiling with the check the monitor makes
// (internal/edverify: the same answers, tables per key), its tables built
// before the clock starts.
func edverifyCeiling(leaves [][]byte, genesis registry.File) (passResult, error) {
	return signatureCeiling(leaves, genesis, func(pub ed25519.PublicKey) func(msg, sig []byte) bool {
		k, err := edverify.NewPublicKey(pub)
		if err != nil {
			return func([]byte, []byte) bool { return false }
		}
		return k.Verify
	})
}

// signatureCeiling measures check, made for each key by newCheck, of each
// statement's signature on every core (see ed25519Ceiling).
func signatureCeiling(leaves [][]byte, genesis registry.File, newCheck func(ed25519.PublicKey) func(msg, sig []byte) bool) (passResult, error) {
	keys := map[string]func(msg, sig []byte) bool{}
	for _, a := range genesis.Agencies {
		for _, k := range a.Keys {
			// "<name>+<hash>+<base64(alg || key)>"; a name holds no "+".
			f := strings.SplitN(k.VKey, "+", 3)
			if len(f) != 3 {
				return passResult{}, fmt.Errorf("not a verifier key: %q", k.VKey)
			}
			raw, err := base64.StdEncoding.DecodeString(f[2])
			if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != 1 {
				return passResult{}, fmt.Errorf("not an Ed25519 verifier key: %q", k.VKey)
			}
			keys[f[0]+"+"+f[1]] = newCheck(ed25519.PublicKey(raw[1:]))
		}
	}
	type check struct {
		verify   func(msg, sig []byte) bool
		msg, sig []byte
	}
	var checks []check
	for _, leaf := range leaves {
		text, sigs, ok := bytes.Cut(leaf, []byte("\n\n"))
		if !ok {
			return passResult{}, errors.New("an entry is not a signed note")
		}
		// The first signature line: "— <name> <base64(key hash || sig)>".
		line, _, _ := bytes.Cut(sigs, []byte("\n"))
		f := strings.Fields(strings.TrimPrefix(string(line), "— "))
		raw, err := base64.StdEncoding.DecodeString(f[len(f)-1])
		if err != nil || len(raw) != 4+ed25519.SignatureSize {
			return passResult{}, fmt.Errorf("bad signature line %q", line)
		}
		if verify := keys[fmt.Sprintf("%s+%08x", f[0], binary.BigEndian.Uint32(raw))]; verify != nil {
			checks = append(checks, check{verify, append(text, '\n'), raw[4:]})
		}
	}
	// Warm up: edverify builds a key's tables at its checks 4 and 1,024.
	for _, c := range checks[:min(len(checks), 2048)] {
		c.verify(c.msg, c.sig)
	}
	r, err := measure(func() error {
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
						if !c.verify(c.msg, c.sig) {
							return errors.New("a signature does not verify")
						}
					}
				}
			})
		}
		return g.Wait()
	})
	// Per entry of the log: scaled to the checks made.
	if len(checks) > 0 && len(checks) != len(leaves) {
		r.elapsed = r.elapsed * time.Duration(len(leaves)) / time.Duration(len(checks))
		r.cpu = r.cpu * time.Duration(len(leaves)) / time.Duration(len(checks))
	}
	return r, err
}
