package main

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/storage/mysql"
	"github.com/govlog/govlog/storage/sqlite"
)

func newBenchCmd() *cobra.Command {
	var (
		mysqlServer string
		n, latencyN int
		concurrency int
		cpuProfile  string
		seqInterval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "bench [--mysql 'root@tcp(127.0.0.1:3306)/']",
		Short: "Measure admission against Trillian's own QueueLeaf, side by side",
		Long: `bench runs on SQLite and, with --mysql, on MySQL/MariaDB, each run on a
fresh store (a temporary file; a new database on the server given):
  1. Trillian's own QueueLeaf over gRPC (quota off), --concurrency clients;
  2. govlog Submit with wait=false (admitted statements per second), same clients;
  3. govlog Submit with wait=true (Submit to bundle latency).
It shows progress, prints a table and, last, the ratio of (2) to (1) per
backend. The stores are removed afterwards.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			quietTrillian(false)
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			b := &bench{out: cmd.OutOrStdout(), server: mysqlServer, n: n, latencyN: latencyN, conc: concurrency, seq: seqInterval}
			return b.run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&mysqlServer, "mysql", "", "MySQL/MariaDB server DSN without a database name; bench creates and drops its own databases (default: SQLite only)")
	cmd.Flags().IntVar(&n, "n", 10000, "statements (and leaves) per throughput run")
	cmd.Flags().IntVar(&latencyN, "latency-n", 400, "statements in the wait=true latency run")
	cmd.Flags().IntVar(&concurrency, "concurrency", 32, "concurrent clients")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run here")
	cmd.Flags().DurationVar(&seqInterval, "sequencer-interval", logserver.DefaultSequencerInterval, "sequencer interval")
	cmd.AddCommand(newBenchWitnessCmd())
	return cmd
}

type bench struct {
	out      io.Writer
	server   string
	n        int
	latencyN int
	conc     int
	seq      time.Duration
}

// benchStore is one storage backend under test: a fresh, empty store for
// each run, for Trillian alone and for a whole govlog node.
type benchStore struct {
	name string
	// trillian opens a fresh store and returns Trillian's storage on it;
	// prepared asks MySQL for its driver's default prepared statements.
	trillian func(ctx context.Context, prepared bool) (logserver.TrillianOptions, func(), error)
	// node fills in cfg's storage with a fresh store.
	node func(ctx context.Context, cfg *nodeConfig) (func(), error)
}

type benchRow struct {
	label string
	r     runResult
}

func (b *bench) run(ctx context.Context) error {
	stores := []benchStore{b.sqliteStore()}
	if b.server != "" {
		stores = append(stores, b.mysqlStore())
	}
	fmt.Fprintf(b.out, "govlog bench: %d statements, %d clients, sequencer every %s\n", b.n, b.conc, b.seq)
	var rows []benchRow
	ratios := map[string]float64{}
	for _, st := range stores {
		fmt.Fprintf(b.out, "== %s\n", st.name)
		var best float64
		settings := []bool{false}
		if st.name == "mysql" {
			settings = []bool{true, false}
		}
		for _, prepared := range settings {
			r, err := b.trillianQueueLeaf(ctx, st, prepared)
			if err != nil {
				return fmt.Errorf("%s QueueLeaf run: %w", st.name, err)
			}
			label := st.name + ": Trillian QueueLeaf, quota off"
			if st.name == "mysql" && prepared {
				label += ", prepared"
			} else if st.name == "mysql" {
				label += ", interpolated"
			}
			rows = append(rows, benchRow{label, r})
			best = max(best, r.rate)
		}
		admitted, err := b.govlogSubmit(ctx, st, false, b.n)
		if err != nil {
			return fmt.Errorf("%s wait=false run: %w", st.name, err)
		}
		waited, err := b.govlogSubmit(ctx, st, true, b.latencyN)
		if err != nil {
			return fmt.Errorf("%s wait=true run: %w", st.name, err)
		}
		rows = append(rows,
			benchRow{st.name + ": govlog Submit wait=false (admitted)", admitted},
			benchRow{st.name + ": govlog Submit wait=true (to bundle)", waited})
		// Against Trillian's better setting on this backend.
		ratios[st.name] = admitted.rate / best
	}
	fmt.Fprintf(b.out, "\n%-52s %10s %10s %10s %10s\n", "run", "per second", "p50", "p99", "CPU/op")
	for _, row := range rows {
		fmt.Fprintf(b.out, "%-52s %10.0f %10s %10s %10s\n", row.label, row.r.rate, row.r.p50(), row.r.p99(), row.r.cpu())
	}
	fmt.Fprintf(b.out, "wait=true p50 is measured with %d concurrent clients; sequencer interval %s\n", b.conc, b.seq)
	mysqlRatio := "n/a (no --mysql)"
	if r, ok := ratios["mysql"]; ok {
		mysqlRatio = fmt.Sprintf("%.2f", r)
	}
	fmt.Fprintf(b.out, "ratio admitted/QueueLeaf: sqlite %.2f mysql %s\n", ratios["sqlite"], mysqlRatio)
	return nil
}

func (b *bench) sqliteStore() benchStore {
	fresh := func(ctx context.Context) (string, func(), error) {
		dir, err := os.MkdirTemp("", "govlog-bench-")
		if err != nil {
			return "", nil, err
		}
		return filepath.Join(dir, "govlog.db"), func() { os.RemoveAll(dir) }, nil
	}
	return benchStore{
		name: "sqlite",
		trillian: func(ctx context.Context, _ bool) (logserver.TrillianOptions, func(), error) {
			var opts logserver.TrillianOptions
			path, drop, err := fresh(ctx)
			if err != nil {
				return opts, nil, err
			}
			db, err := sqlite.Open(ctx, path)
			if err != nil {
				drop()
				return opts, nil, err
			}
			opts.AdminStorage, opts.LogStorage = sqlite.TrillianStorage(db)
			return opts, func() { db.Close(); drop() }, nil
		},
		node: func(ctx context.Context, cfg *nodeConfig) (func(), error) {
			path, drop, err := fresh(ctx)
			cfg.SQLitePath = path
			return drop, err
		},
	}
}

func (b *bench) mysqlStore() benchStore {
	return benchStore{
		name: "mysql",
		trillian: func(ctx context.Context, prepared bool) (logserver.TrillianOptions, func(), error) {
			var opts logserver.TrillianOptions
			dsn, drop, err := b.freshDB(ctx, "trillian")
			if err != nil {
				return opts, nil, err
			}
			db, err := mysql.Open(ctx, dsn, mysql.Options{ServerSidePrepare: prepared})
			if err != nil {
				drop()
				return opts, nil, err
			}
			opts.AdminStorage, opts.LogStorage = mysql.TrillianStorage(db)
			return opts, func() { db.Close(); drop() }, nil
		},
		node: func(ctx context.Context, cfg *nodeConfig) (func(), error) {
			dsn, drop, err := b.freshDB(ctx, "govlog")
			cfg.MySQL = dsn
			return drop, err
		},
	}
}

type runResult struct {
	rate      float64
	latencies []time.Duration
	// cpuPerOp is the CPU time of this process (server and clients) and of
	// a local mariadbd, divided by the operations; 0 if unknown.
	cpuPerOp time.Duration
}

func (r runResult) pct(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.latencies)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))].Round(100 * time.Microsecond)
}
func (r runResult) cpu() string {
	if r.cpuPerOp == 0 {
		return "-"
	}
	return r.cpuPerOp.Round(time.Microsecond).String()
}

// cpuTime is the user+system CPU time of this process plus that of a
// mariadbd or mysqld running on this machine (read from /proc), so a run's
// database work counts too.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	total := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	procs, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, comm := range procs {
		name, err := os.ReadFile(comm)
		if err != nil || (strings.TrimSpace(string(name)) != "mariadbd" && strings.TrimSpace(string(name)) != "mysqld") {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(filepath.Dir(comm), "stat"))
		if err != nil {
			return 0, false
		}
		// Fields after the command's closing parenthesis; utime and stime
		// are the 12th and 13th of them, in clock ticks (100 per second).
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 13 {
			return 0, false
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		return total + time.Duration(ut+st)*10*time.Millisecond, true
	}
	return 0, false
}

func (r runResult) p50() time.Duration { return r.pct(0.50) }
func (r runResult) p99() time.Duration { return r.pct(0.99) }

// freshDB creates an empty database on the server and returns its DSN and
// a function that drops it.
func (b *bench) freshDB(ctx context.Context, label string) (string, func(), error) {
	cfg, err := gomysql.ParseDSN(b.server)
	if err != nil {
		return "", nil, err
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("govlog_bench_%s_%d", label, time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("couldn't create database: %w", err)
	}
	cfg.DBName = name
	return cfg.FormatDSN(), func() {
		admin.Exec("DROP DATABASE " + name)
		admin.Close()
	}, nil
}

// parallel runs do(i) for i in [0,n) on conc workers, printing progress, and
// returns the rate and each call's latency.
func (b *bench) parallel(label string, n, conc int, do func(i int) error) (runResult, error) {
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	done := make(chan struct{})
	cpu0, cpuOK := cpuTime()
	start := time.Now()
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				fmt.Fprintf(b.out, "  %s: %d/%d\n", label, min(int(next.Load()), n), n)
			}
		}
	}()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				if err := do(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	close(done)
	elapsed := time.Since(start)
	if firstErr != nil {
		return runResult{}, firstErr
	}
	r := runResult{rate: float64(n) / elapsed.Seconds(), latencies: lat}
	if cpu1, ok := cpuTime(); ok && cpuOK {
		r.cpuPerOp = (cpu1 - cpu0) / time.Duration(n)
	}
	return r, nil
}

// trillianQueueLeaf measures Trillian's own QueueLeaf RPC on a fresh store
// (on MySQL, with the database driver's default server-side prepared
// statements or, as govlog runs, client-side interpolation).
func (b *bench) trillianQueueLeaf(ctx context.Context, st benchStore, prepared bool) (runResult, error) {
	opts, closeStore, err := st.trillian(ctx, prepared)
	if err != nil {
		return runResult{}, err
	}
	defer closeStore()
	opts.SequencerInterval = b.seq
	trill, err := logserver.StartTrillian(opts)
	if err != nil {
		return runResult{}, err
	}
	defer trill.Close()
	plain, err := trill.CreatePlainLog(ctx, "bench")
	if err != nil {
		return runResult{}, err
	}
	fmt.Fprintf(b.out, "Trillian QueueLeaf:\n")
	return b.parallel("QueueLeaf", b.n, b.conc, func(i int) error {
		// Leaves the size of a typical statement.
		leaf := make([]byte, 600)
		binary.BigEndian.PutUint64(leaf, uint64(i))
		return plain.QueueLeaf(ctx, leaf)
	})
}

func (b *bench) govlogSubmit(ctx context.Context, st benchStore, wait bool, n int) (runResult, error) {
	cfg := nodeConfig{Listen: "127.0.0.1:0", SequencerInterval: b.seq, MMD: time.Hour}
	drop, err := st.node(ctx, &cfg)
	if err != nil {
		return runResult{}, err
	}
	defer drop()
	skey, vkey, err := note.GenerateKey(nil, "bench-agency")
	if err != nil {
		return runResult{}, err
	}
	agency, _ := note.NewSigner(skey)
	// The workload: disclosures' publications, each of a new document.
	domain, err := newDomain("disclosures")
	if err != nil {
		return runResult{}, err
	}
	publish := domain.Types()[0]
	// The registry is a log, as in production: its genesis names the
	// bench agency, signed by two root keys.
	genesis := registry.File{Agencies: []registry.Agency{{
		ID: "bench-agency", Roles: []string{publish.Role}, Keys: []registry.Key{{VKey: vkey}},
	}}}
	var rootVKeys []string
	var rootSigners []note.Signer
	for _, name := range []string{"bench-root-1", "bench-root-2"} {
		sk, vk, err := note.GenerateKey(nil, name)
		if err != nil {
			return runResult{}, err
		}
		signer, _ := note.NewSigner(sk)
		rootVKeys, rootSigners = append(rootVKeys, vk), append(rootSigners, signer)
	}
	roots, err := registry.NewRoots(rootVKeys, 2)
	if err != nil {
		return runResult{}, err
	}
	var logSigners []note.Signer
	for _, origin := range []string{"bench.example/disclosures", "bench.example/registry"} {
		lkey, _, err := note.GenerateKey(nil, origin)
		if err != nil {
			return runResult{}, err
		}
		signer, _ := note.NewSigner(lkey)
		logSigners = append(logSigners, signer)
	}

	// Statements are signed before the clock starts: the client's signing
	// is not the server's admission.
	statements := make([][]byte, n)
	now := time.Now().UTC().Truncate(time.Second)
	for i := range statements {
		body := fmt.Sprintf(`{"doc_id":"bench-%d","title":"Benchmark document %d","sha256":"%064x","category":"budget","decision_date":"2026-11-01"}`, i, i, i)
		st, err := govlog.NewStatement("bench.example/disclosures", publish.Type, now, []byte(body))
		if err != nil {
			return runResult{}, err
		}
		if statements[i], err = st.Sign(agency); err != nil {
			return runResult{}, err
		}
	}

	nodeCtx, stop := context.WithCancel(ctx)
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		cfg.Roots, cfg.Genesis, cfg.GenesisSigners = roots, genesis, rootSigners
		cfg.Logs = []nodeLog{
			{Name: "disclosures", Origin: "bench.example/disclosures", Signer: logSigners[0]},
			{Name: registry.LogName, Origin: "bench.example/registry", Signer: logSigners[1]},
		}
		errc <- runNode(nodeCtx, cfg, slog.New(slog.DiscardHandler), func(addr string) { addrc <- addr })
	}()
	defer func() { stop(); <-errc }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		return runResult{}, err
	}
	c, err := client.Dial(addr)
	if err != nil {
		return runResult{}, err
	}
	defer c.Close()
	label := "Submit wait=false"
	conc := b.conc
	if wait {
		label = "Submit wait=true"
	}
	fmt.Fprintf(b.out, "govlog %s:\n", label)
	return b.parallel(label, n, conc, func(i int) error {
		_, err := c.Submit(ctx, "disclosures", statements[i], wait)
		return err
	})
}
