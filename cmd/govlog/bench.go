package main

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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

	logserver "github.com/govlog/govlog/log-server"
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
		waitClients []int
		readSize    int
		readN       int
		readConc    int
		pairs       int
	)
	cmd := &cobra.Command{
		Use:   "bench [--mysql 'root@tcp(127.0.0.1:3306)/']",
		Short: "Measure admission against Trillian's own QueueLeaf, side by side",
		Long: `bench runs on SQLite and, with --mysql, on MySQL/MariaDB, each run on a
fresh store (a temporary file; a new database on the server given):
  1. Trillian's own QueueLeaf over gRPC (quota off), --concurrency clients;
  2. govlog Submit with wait=false (admitted statements per second), same clients;
     (1) and (2) run back to back --pairs times, so that both of a pair meet
     the same load on a shared machine;
  3. govlog Submit with wait=true (Submit to bundle latency), with each of
     --wait-clients concurrent callers;
  4. the read run: a log of --read-size entries, then bundles of random
     entries (govlog GetInclusionProof with the bundle) against Trillian's own
     GetInclusionProof on the same tree, --read-clients clients each.
It shows progress, prints a table (a run whose calls fail shows its error
rate; a run that cannot start shows why, and the bench goes on; of the pairs,
the one whose ratio is the median) and, last, the ratios of (2) to (1), the
median of the pairs', and of the bundles to GetInclusionProof per backend.
The stores are removed afterwards.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			quietTrillian(false)
			b := &bench{out: cmd.OutOrStdout(), server: mysqlServer, n: n, latencyN: latencyN, conc: concurrency, seq: seqInterval,
				waitClients: waitClients, readSize: readSize, readN: readN, readConc: readConc, cpuProfile: cpuProfile, pairs: pairs}
			if b.pairs < 1 {
				return errors.New("--pairs must be at least 1")
			}
			return b.run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&mysqlServer, "mysql", "", "MySQL/MariaDB server DSN without a database name; bench creates and drops its own databases (default: SQLite only)")
	cmd.Flags().IntVar(&n, "n", 10000, "statements (and leaves) per throughput run")
	cmd.Flags().IntVar(&latencyN, "latency-n", 400, "statements in each wait=true run (at least twice its clients)")
	cmd.Flags().IntSliceVar(&waitClients, "wait-clients", []int{32, 256, 1024}, "concurrent callers of each wait=true run")
	cmd.Flags().IntVar(&readSize, "read-size", 100_000, "entries in the read run's log (0: no read run)")
	cmd.Flags().IntVar(&readN, "read-n", 20_000, "bundles (and Trillian proofs) asked for in the read run")
	cmd.Flags().IntVar(&readConc, "read-clients", 16, "concurrent clients of the read run")
	cmd.Flags().IntVar(&concurrency, "concurrency", 32, "concurrent clients")
	cmd.Flags().IntVar(&pairs, "pairs", 3, "runs of (1) QueueLeaf and (2) Submit wait=false, back to back; the ratio is the median of the pairs'")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of each timed run to this path plus .<store>.<run>")
	cmd.Flags().DurationVar(&seqInterval, "sequencer-interval", logserver.DefaultSequencerInterval, "sequencer interval")
	cmd.AddCommand(newBenchWitnessCmd())
	cmd.AddCommand(newBenchStorageCmd())
	cmd.AddCommand(newBenchMonitorCmd())
	return cmd
}

type bench struct {
	out         io.Writer
	server      string
	n           int
	latencyN    int
	conc        int
	seq         time.Duration
	waitClients []int
	readSize    int
	readN       int
	readConc    int
	pairs       int
	// cpuProfile, if set, is the path prefix of each timed run's CPU
	// profile; store is the backend being measured, for its name.
	cpuProfile string
	store      string
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
	// reopen opens Trillian's storage on the store node made.
	reopen func(ctx context.Context, cfg nodeConfig) (logserver.TrillianOptions, func(), error)
}

type benchRow struct {
	label string
	r     runResult
	err   error // the run could not be made
}

func (b *bench) run(ctx context.Context) error {
	stores := []benchStore{b.sqliteStore()}
	if b.server != "" {
		stores = append(stores, b.mysqlStore())
	}
	fmt.Fprintf(b.out, "govlog bench: %d statements, %d clients, sequencer every %s\n", b.n, b.conc, b.seq)
	var rows []benchRow
	ratios, readRatios := map[string]float64{}, map[string]float64{}
	pairRatios := map[string][]string{}
	for _, st := range stores {
		fmt.Fprintf(b.out, "== %s\n", st.name)
		b.store = st.name
		pairs := b.admissionPairs(ctx, st)
		median := medianPair(pairs)
		rows = append(rows, pairs[median].rows...)
		if pairs[median].ok {
			ratios[st.name] = pairs[median].ratio
		}
		for _, p := range pairs {
			pairRatios[st.name] = append(pairRatios[st.name], p.ratioText())
		}
		for _, conc := range b.waitClients {
			waited, err := b.govlogSubmit(ctx, st, true, max(b.latencyN, 2*conc), conc)
			rows = append(rows, benchRow{fmt.Sprintf("%s: govlog Submit wait=true, %d clients", st.name, conc), waited, err})
		}
		if b.readSize > 0 {
			bundles, proofs, size, err := b.readRun(ctx, st)
			rows = append(rows,
				benchRow{fmt.Sprintf("%s: Trillian GetInclusionProof, %d entries", st.name, size), proofs, err},
				benchRow{fmt.Sprintf("%s: govlog bundles, %d entries", st.name, size), bundles, err})
			if err == nil && proofs.rate > 0 {
				readRatios[st.name] = bundles.rate / proofs.rate
			}
		}
	}
	fmt.Fprintf(b.out, "\n%-56s %10s %10s %10s %10s %8s\n", "run", "per second", "p50", "p99", "CPU/op", "errors")
	for _, row := range rows {
		if row.err != nil {
			fmt.Fprintf(b.out, "%-56s failed: %v\n", row.label, row.err)
			continue
		}
		fmt.Fprintf(b.out, "%-56s %10.0f %10s %10s %10s %8s\n", row.label, row.r.rate, row.r.p50(), row.r.p99(), row.r.cpu(), row.r.errRate())
	}
	for _, row := range rows {
		if row.r.firstErr != nil {
			fmt.Fprintf(b.out, "%s: first error: %v\n", row.label, row.r.firstErr)
		}
	}
	fmt.Fprintf(b.out, "sequencer interval %s; per second counts the calls that succeeded\n", b.seq)
	if b.pairs > 1 {
		var each []string
		for _, name := range []string{"sqlite", "mysql"} {
			if r := pairRatios[name]; len(r) > 0 {
				each = append(each, name+" "+strings.Join(r, ", "))
			}
		}
		fmt.Fprintf(b.out, "each pair's admitted/QueueLeaf (the table shows the median's runs): %s\n", strings.Join(each, "; "))
	}
	fmt.Fprintf(b.out, "ratio admitted/QueueLeaf: sqlite %s mysql %s\n", ratioText(ratios, "sqlite", b), ratioText(ratios, "mysql", b))
	if b.readSize > 0 {
		fmt.Fprintf(b.out, "ratio bundles/GetInclusionProof: sqlite %s mysql %s\n", ratioText(readRatios, "sqlite", b), ratioText(readRatios, "mysql", b))
	}
	return nil
}

// admissionPair is one run of Trillian's QueueLeaf (each setting) and one
// of govlog's Submit wait=false, back to back on fresh stores.
type admissionPair struct {
	rows []benchRow
	// ratio is the admitted rate over QueueLeaf's better setting's, if ok.
	ratio float64
	ok    bool
}

func (p admissionPair) ratioText() string {
	if !p.ok {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", p.ratio)
}

// admissionPairs runs b.pairs pairs on st.
func (b *bench) admissionPairs(ctx context.Context, st benchStore) []admissionPair {
	settings := []bool{false}
	if st.name == "mysql" {
		settings = []bool{true, false}
	}
	var pairs []admissionPair
	for i := range b.pairs {
		if b.pairs > 1 {
			fmt.Fprintf(b.out, "pair %d of %d:\n", i+1, b.pairs)
		}
		var p admissionPair
		var best float64
		for _, prepared := range settings {
			r, err := b.trillianQueueLeaf(ctx, st, prepared)
			label := st.name + ": Trillian QueueLeaf, quota off"
			if st.name == "mysql" && prepared {
				label += ", prepared"
			} else if st.name == "mysql" {
				label += ", interpolated"
			}
			p.rows = append(p.rows, benchRow{label, r, err})
			if err == nil && r.errs == 0 {
				best = max(best, r.rate)
			}
		}
		admitted, err := b.govlogSubmit(ctx, st, false, b.n, b.conc)
		p.rows = append(p.rows, benchRow{st.name + ": govlog Submit wait=false (admitted)", admitted, err})
		if err == nil && best > 0 {
			// Against Trillian's better setting on this backend.
			p.ratio, p.ok = admitted.rate/best, true
		}
		pairs = append(pairs, p)
	}
	return pairs
}

// medianPair returns the index of the pair whose ratio is the median of
// those measured (the lower of the middle two of an even number), or of
// the last pair if none was.
func medianPair(pairs []admissionPair) int {
	var ok []int
	for i, p := range pairs {
		if p.ok {
			ok = append(ok, i)
		}
	}
	if len(ok) == 0 {
		return len(pairs) - 1
	}
	slices.SortFunc(ok, func(a, b int) int { return cmp.Compare(pairs[a].ratio, pairs[b].ratio) })
	return ok[(len(ok)-1)/2]
}

func ratioText(ratios map[string]float64, store string, b *bench) string {
	if r, ok := ratios[store]; ok {
		return fmt.Sprintf("%.2f", r)
	}
	if store == "mysql" && b.server == "" {
		return "n/a (no --mysql)"
	}
	return "n/a (a run failed)"
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
		reopen: func(ctx context.Context, cfg nodeConfig) (logserver.TrillianOptions, func(), error) {
			var opts logserver.TrillianOptions
			db, err := sqlite.Open(ctx, cfg.SQLitePath)
			if err != nil {
				return opts, nil, err
			}
			tdb, closeTrillian, err := sqlite.OpenTrillian(ctx, db, cfg.SQLitePath)
			if err != nil {
				db.Close()
				return opts, nil, err
			}
			opts.AdminStorage, opts.LogStorage = sqlite.TrillianStorage(tdb)
			return opts, func() { closeTrillian(); db.Close() }, nil
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
		reopen: func(ctx context.Context, cfg nodeConfig) (logserver.TrillianOptions, func(), error) {
			var opts logserver.TrillianOptions
			db, err := mysql.Open(ctx, cfg.MySQL, mysql.Options{})
			if err != nil {
				return opts, nil, err
			}
			opts.AdminStorage, opts.LogStorage = mysql.TrillianStorage(db)
			return opts, func() { db.Close() }, nil
		},
	}
}

type runResult struct {
	rate      float64
	latencies []time.Duration
	// errs calls failed, the first with firstErr; the run went on.
	errs     int
	firstErr error
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

func (r runResult) errRate() string {
	if r.errs == 0 {
		return "0"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(r.errs)/float64(r.errs+len(r.latencies)))
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

// parallel runs do(i) for i in [0,n) on conc workers, printing progress,
// and returns the rate of calls that succeeded and each one's latency. A
// call that fails is counted, not retried, and the run goes on.
func (b *bench) parallel(label string, n, conc int, do func(i int) error) (runResult, error) {
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	lat := make([]time.Duration, n)
	failed := make([]bool, n)
	var errs atomic.Int64
	var wg sync.WaitGroup
	done := make(chan struct{})
	stopProfile, err := b.startProfile(label)
	if err != nil {
		return runResult{}, err
	}
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
				fmt.Fprintf(b.out, "  %s: %d/%d (%d failed)\n", label, min(int(next.Load()), n), n, errs.Load())
			}
		}
	}()
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				if err := do(i); err != nil {
					errs.Add(1)
					failed[i] = true
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				lat[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	close(done)
	elapsed := time.Since(start)
	if err := stopProfile(); err != nil {
		return runResult{}, err
	}
	ok := lat[:0]
	for i, d := range lat {
		if !failed[i] {
			ok = append(ok, d)
		}
	}
	r := runResult{rate: float64(len(ok)) / elapsed.Seconds(), latencies: ok, errs: int(errs.Load()), firstErr: firstErr}
	if cpu1, cpuOK1 := cpuTime(); cpuOK1 && cpuOK && len(ok) > 0 {
		r.cpuPerOp = (cpu1 - cpu0) / time.Duration(len(ok))
	}
	return r, nil
}

// startProfile starts the CPU profile of the run label, if asked for
// (--cpuprofile): one file per run, so that each is read apart.
func (b *bench) startProfile(label string) (stop func() error, err error) {
	if b.cpuProfile == "" {
		return func() error { return nil }, nil
	}
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '=' {
			return r
		}
		return '-'
	}, label)
	f, err := os.Create(b.cpuProfile + "." + b.store + "." + name)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	fmt.Fprintf(b.out, "  CPU profile: %s\n", f.Name())
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
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

// govlogSubmit submits n publications to a node on a fresh store with conc
// concurrent callers.
func (b *bench) govlogSubmit(ctx context.Context, st benchStore, wait bool, n, conc int) (runResult, error) {
	cfg := nodeConfig{Listen: "127.0.0.1:0", SequencerInterval: b.seq, MMD: time.Hour}
	drop, err := st.node(ctx, &cfg)
	if err != nil {
		return runResult{}, err
	}
	defer drop()
	node, err := b.startNode(ctx, cfg, conc)
	if err != nil {
		return runResult{}, err
	}
	defer node.stop()
	statements, err := node.statements(0, n)
	if err != nil {
		return runResult{}, err
	}
	label := "Submit wait=false"
	if wait {
		label = fmt.Sprintf("Submit wait=true, %d clients", conc)
	}
	fmt.Fprintf(b.out, "govlog %s:\n", label)
	return b.parallel(label, n, conc, func(i int) error {
		_, err := node.client(i).Submit(ctx, "disclosures", statements[i], wait)
		return err
	})
}
