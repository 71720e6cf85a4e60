package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"gopkg.in/yaml.v3"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/witness"
)

// newBenchWitnessCmd is `govlog bench witness`: add-checkpoint throughput of
// a real witness process, driven as transparency-dev/witness's loadtest
// drives one.
func newBenchWitnessCmd() *cobra.Command {
	wb := &witnessBench{}
	var serveConfig string
	cmd := &cobra.Command{
		Use:   "witness",
		Short: "Measure a witness's add-checkpoint throughput: many logs pushing checkpoints",
		Long: `bench witness starts a witness as its own process (govlog witness's code,
real HTTP, a SQLite file in a temporary directory) witnessing --logs logs,
and pushes each log's checkpoints to it one leaf at a time, each with its
consistency proof, as transparency-dev/witness's loadtest does: --clients
concurrent clients (by default one per log, each waiting for its answer
before it sends the log's next checkpoint), until --n checkpoints are
cosigned or --max-time passes. Request bodies are made before the clock
starts, so the clients' CPU goes to HTTP, not to signing.

Without --rate the load saturates the witness; with it, the clients send at
most that many requests a second. A client retries a refused request (after
Retry-After on 429) and moves on when a 409 says the witness already holds a
later size; nothing stops the run but --max-time. It prints progress each
second, then add-checkpoint answers and cosignatures per second, p50 and p99
latency of the cosigned requests, the answers by status with their rates,
and the CPU cores the witness process and the load generator used. Last, it
reads back every log's latest cosigned checkpoint and checks it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if serveConfig != "" {
				return serveBenchWitness(cmd, serveConfig, wb.cpuProfile)
			}
			wb.out = cmd.OutOrStdout()
			return wb.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.IntVar(&wb.logs, "logs", 50, "logs the witness witnesses, each pushing its checkpoints")
	f.IntVar(&wb.clients, "clients", 0, "concurrent clients, shared out over the logs (default: one per log); several clients of one log send its successive checkpoints without waiting for each other")
	f.IntVar(&wb.n, "n", 100000, "checkpoints to have cosigned, shared equally over the logs")
	f.Float64Var(&wb.rate, "rate", 0, "requests a second to offer in all (default 0: as fast as the witness answers)")
	f.Float64Var(&wb.perLogRate, "per-log-rate", -1, "the witness's per_log_rate: add-checkpoint requests a second it takes per log (-1: no limit; 0: the witness's default)")
	f.DurationVar(&wb.maxTime, "max-time", 5*time.Minute, "stop the load after this long even if fewer checkpoints were cosigned")
	f.StringVar(&wb.cpuProfile, "cpuprofile", "", "write a CPU profile of the witness process here")
	f.StringVar(&serveConfig, "serve-config", "", "run as the witness process of a bench with this witness config (used by bench witness itself)")
	f.MarkHidden("serve-config")
	return cmd
}

// serveBenchWitness is the witness process of a bench: govlog witness's own
// config loader and server, with an optional CPU profile, until SIGTERM.
func serveBenchWitness(cmd *cobra.Command, configPath, cpuProfile string) error {
	cfg, err := loadWitnessConfig(configPath)
	if err != nil {
		return err
	}
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
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runWitness(ctx, cfg, newLogger(cmd, slog.LevelWarn, false))
}

type witnessBench struct {
	out        io.Writer
	logs       int
	clients    int
	n          int
	rate       float64
	perLogRate float64
	maxTime    time.Duration
	cpuProfile string

	url     string
	hc      *http.Client
	blogs   []*benchLog
	witness note.Verifier

	mu       sync.Mutex
	statuses map[string]int // "200", "409", ..., "no answer"
	lat      []time.Duration
	answered atomic.Int64 // requests with an HTTP answer
	cosigned atomic.Int64
}

// A benchLog is one simulated log: its key and the add-checkpoint request
// bodies that take the witness from each size to the next.
type benchLog struct {
	origin string
	vkey   string
	bodies [][]byte // bodies[k]: old size k, proof k -> k+1, checkpoint k+1

	mu     sync.Mutex
	latest uint64 // the witness's latest size, as far as the clients know
	next   uint64 // the next old size to send
}

func (wb *witnessBench) run(ctx context.Context) error {
	switch {
	case wb.logs < 1:
		return errors.New("--logs must be at least 1")
	case wb.n < wb.logs:
		return fmt.Errorf("--n must be at least --logs (%d)", wb.logs)
	case wb.clients == 0:
		wb.clients = wb.logs
	case wb.clients < 0:
		return errors.New("--clients must be positive")
	}
	dir, err := os.MkdirTemp("", "govlog-bench-witness-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	limit := "none"
	if wb.perLogRate > 0 {
		limit = fmt.Sprintf("%g/s", wb.perLogRate)
	} else if wb.perLogRate == 0 {
		limit = fmt.Sprintf("%d/s (the default)", witness.DefaultPerLogRate)
	}
	offered := "saturating"
	if wb.rate > 0 {
		offered = fmt.Sprintf("offered %s/s", withCommas(int64(wb.rate)))
	}
	fmt.Fprintf(wb.out, "govlog bench witness: %d logs, %d clients, %s checkpoints, %s, per-log rate limit %s, %d CPUs\n",
		wb.logs, wb.clients, withCommas(int64(wb.n)), offered, limit, runtime.NumCPU())

	t0 := time.Now()
	if err := wb.makeLogs(); err != nil {
		return err
	}
	fmt.Fprintf(wb.out, "  %s request bodies made in %v\n", withCommas(int64(wb.logs*len(wb.blogs[0].bodies))), time.Since(t0).Round(time.Millisecond))
	configPath, err := wb.writeConfig(dir)
	if err != nil {
		return err
	}
	proc, err := wb.startWitness(ctx, dir, configPath)
	if err != nil {
		return err
	}
	defer proc.stop()
	fmt.Fprintf(wb.out, "  witness process %d at %s, database %s\n", proc.cmd.Process.Pid, wb.url, filepath.Join(dir, "witness.db"))

	res := wb.load(ctx, proc)
	checkErr := wb.checkLatest(ctx)
	if err := proc.stop(); err != nil {
		fmt.Fprintf(wb.out, "  the witness process ended badly: %v (its log: %s)\n", err, proc.logTail())
	}
	wb.report(res)
	if checkErr != nil {
		fmt.Fprintf(wb.out, "read-back check FAILED: %v\n", checkErr)
	} else {
		fmt.Fprintf(wb.out, "read-back check: each log's latest cosigned checkpoint is the size its client last had cosigned, signed by the log and cosigned by the witness\n")
	}
	if wb.cpuProfile != "" {
		fmt.Fprintf(wb.out, "witness CPU profile: %s\n", wb.cpuProfile)
	}
	return nil
}

// makeLogs makes the logs' keys and every request body, a log per worker.
func (wb *witnessBench) makeLogs() error {
	per := wb.n / wb.logs
	wb.blogs = make([]*benchLog, wb.logs)
	var next atomic.Int64
	errs := make(chan error, runtime.NumCPU())
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= wb.logs {
					return
				}
				l, err := newBenchLog(fmt.Sprintf("bench.example/log%03d", i), per)
				if err != nil {
					errs <- err
					return
				}
				wb.blogs[i] = l
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// newBenchLog makes a log with size leaves and the bodies of the requests
// that take a witness from each size to the next.
func newBenchLog(origin string, size int) (*benchLog, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	l := &benchLog{origin: origin, vkey: vkey, bodies: make([][]byte, 0, size)}
	hasher := rfc6962.DefaultHasher
	rf := compact.RangeFactory{Hash: hasher.HashChildren}
	tree := rf.NewEmptyRange(0)
	nodes := map[compact.NodeID][]byte{} // every node of the perfect subtrees so far
	keep := func(id compact.NodeID, h []byte) { nodes[id] = h }
	for k := range uint64(size) {
		if err := tree.Append(hasher.HashLeaf(fmt.Appendf(nil, "%s leaf %d", origin, k)), keep); err != nil {
			return nil, err
		}
		root, err := tree.GetRootHash(nil)
		if err != nil {
			return nil, err
		}
		signed, err := govlog.SignCheckpoint(govlog.Checkpoint{Origin: origin, Size: k + 1, Hash: [32]byte(root)}, signer)
		if err != nil {
			return nil, err
		}
		var p [][32]byte
		if k > 0 {
			ids, err := proof.Consistency(k, k+1)
			if err != nil {
				return nil, err
			}
			hashes := make([][]byte, len(ids.IDs))
			for i, id := range ids.IDs {
				hashes[i] = nodes[id]
			}
			raw, err := ids.Rehash(hashes, hasher.HashChildren)
			if err != nil {
				return nil, err
			}
			for _, h := range raw {
				p = append(p, [32]byte(h))
			}
		}
		l.bodies = append(l.bodies, witness.FormatAddCheckpointRequest(k, p, signed))
	}
	return l, nil
}

// writeConfig writes the witness's key and a govlog witness config on a
// free port, and returns the config's path.
func (wb *witnessBench) writeConfig(dir string) (string, error) {
	skey, vkey, err := govlog.GenerateCosignerKey(nil, "bench.example/witness")
	if err != nil {
		return "", err
	}
	if wb.witness, err = govlog.NewCosignatureVerifier(vkey); err != nil {
		return "", err
	}
	keyPath := filepath.Join(dir, "witness.key")
	if err := os.WriteFile(keyPath, []byte(skey+"\n"), 0o600); err != nil {
		return "", err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := lis.Addr().String()
	lis.Close()
	wb.url = "http://" + addr
	cfg := witnessConfig{
		Listen: addr, Key: keyPath, Database: filepath.Join(dir, "witness.db"),
		PollInterval: time.Hour, PerLogRate: wb.perLogRate,
	}
	for _, l := range wb.blogs {
		cfg.Logs = append(cfg.Logs, witnessLogConfig{Origin: l.origin, VKey: l.vkey})
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "witness.yaml")
	return path, os.WriteFile(path, out, 0o600)
}

// benchWitnessProc is the witness process of a bench.
type benchWitnessProc struct {
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	err     error // cmd.Wait's, once exited is closed
	once    sync.Once
}

// startWitness runs this binary as the witness process and waits until it
// answers.
func (wb *witnessBench) startWitness(ctx context.Context, dir, configPath string) (*benchWitnessProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"bench", "witness", "--serve-config", configPath}
	if wb.cpuProfile != "" {
		if wb.cpuProfile, err = filepath.Abs(wb.cpuProfile); err != nil {
			return nil, err
		}
		args = append(args, "--cpuprofile", wb.cpuProfile)
	}
	p := &benchWitnessProc{cmd: exec.Command(exe, args...), logPath: filepath.Join(dir, "witness.log"), exited: make(chan struct{})}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("couldn't start the witness process: %w", err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	wb.hc = &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: wb.clients, MaxIdleConns: wb.clients, IdleConnTimeout: time.Minute},
		Timeout:   30 * time.Second,
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("the witness process exited at start: %v: %s", p.err, p.logTail())
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if resp, err := wb.hc.Get(wb.url + "/evidence"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("the witness process did not answer within 30s: %s", p.logTail())
		}
	}
}

// stop ends the witness process with SIGTERM (SIGKILL after 10s) and
// returns how it ended.
func (p *benchWitnessProc) stop() error {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p.err
}

// logTail returns the end of the witness process's log.
func (p *benchWitnessProc) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// benchResult is what load measured.
type benchResult struct {
	elapsed    time.Duration
	witnessCPU time.Duration // -1 if unknown
	selfCPU    time.Duration
	stopped    bool // by --max-time or the witness's exit, before all were cosigned
}

// load runs the clients until every log's checkpoints are cosigned,
// --max-time passes or the witness process exits, printing progress each
// second.
func (wb *witnessBench) load(ctx context.Context, proc *benchWitnessProc) benchResult {
	ctx, cancel := context.WithTimeout(ctx, wb.maxTime)
	defer cancel()
	go func() {
		select {
		case <-proc.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	pid := proc.cmd.Process.Pid
	wb.statuses = map[string]int{}
	var tokens chan struct{}
	if wb.rate > 0 {
		tokens = make(chan struct{}, max(1, int(wb.rate/50)))
		go feedTokens(ctx, tokens, wb.rate)
	}
	wcpu0, wok := procCPUTime(pid)
	self0 := selfCPUTime()
	start := time.Now()
	done := make(chan struct{})
	go wb.progress(start, done)
	var wg sync.WaitGroup
	for c := range wb.clients {
		l := wb.blogs[c%len(wb.blogs)]
		wg.Go(func() { wb.client(ctx, l, tokens) })
	}
	wg.Wait()
	res := benchResult{elapsed: time.Since(start), selfCPU: selfCPUTime() - self0, witnessCPU: -1, stopped: ctx.Err() != nil}
	close(done)
	if wcpu1, ok := procCPUTime(pid); ok && wok {
		res.witnessCPU = wcpu1 - wcpu0
	}
	return res
}

// feedTokens puts rate tokens a second into tokens, dropping those no
// client takes in time, until ctx is done.
func feedTokens(ctx context.Context, tokens chan<- struct{}, rate float64) {
	const tick = 10 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	owed := 0.0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for owed += rate * tick.Seconds(); owed >= 1; owed-- {
			select {
			case tokens <- struct{}{}:
			default:
			}
		}
	}
}

func (wb *witnessBench) progress(start time.Time, done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastAnswered, lastCosigned int64
	total := int64(len(wb.blogs) * len(wb.blogs[0].bodies))
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		answered, cosigned := wb.answered.Load(), wb.cosigned.Load()
		wb.mu.Lock()
		others := wb.statusLine(func(s string) bool { return s != "200" })
		wb.mu.Unlock()
		fmt.Fprintf(wb.out, "  %3.0fs: %s answers/s, %s cosigned/s; cosigned %s of %s%s\n",
			time.Since(start).Seconds(), withCommas(answered-lastAnswered), withCommas(cosigned-lastCosigned),
			withCommas(cosigned), withCommas(total), others)
		lastAnswered, lastCosigned = answered, cosigned
	}
}

// statusLine lists the counts of the statuses keep picks, as "; 409: 3".
// The caller holds wb.mu.
func (wb *witnessBench) statusLine(keep func(string) bool) string {
	var b strings.Builder
	for _, s := range slices.Sorted(maps.Keys(wb.statuses)) {
		if keep(s) {
			fmt.Fprintf(&b, "; %s: %s", s, withCommas(int64(wb.statuses[s])))
		}
	}
	return b.String()
}

// client pushes l's checkpoints until they are all cosigned or ctx is done.
func (wb *witnessBench) client(ctx context.Context, l *benchLog, tokens <-chan struct{}) {
	old, ok := l.take()
	for ok {
		if tokens != nil {
			select {
			case <-tokens:
			case <-ctx.Done():
				return
			}
		}
		a, err := wb.send(ctx, l.bodies[old])
		if ctx.Err() != nil {
			return // the run is over; this request doesn't count
		}
		wb.count(a, err, l.bodies[old])
		switch {
		case err != nil:
			sleepCtx(ctx, 100*time.Millisecond)
		case a.status == http.StatusOK:
			l.ack(old + 1)
			old, ok = l.take()
		case a.status == http.StatusConflict && a.latest > old:
			// The witness is past this one (another client's, or a request
			// that failed but was persisted).
			l.ack(a.latest)
			old, ok = l.take()
		case a.status == http.StatusConflict && a.latest < uint64(len(l.bodies)):
			// An earlier checkpoint isn't in yet: go on from the witness's.
			old = a.latest
		case a.status == http.StatusTooManyRequests:
			sleepCtx(ctx, a.retryAfter)
		default:
			sleepCtx(ctx, 100*time.Millisecond)
		}
	}
}

// take returns the next old size to send for l, false when all are sent
// (or cosigned).
func (l *benchLog) take() (uint64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := max(l.next, l.latest)
	if old >= uint64(len(l.bodies)) {
		return 0, false
	}
	l.next = old + 1
	return old, true
}

// ack notes that the witness holds size.
func (l *benchLog) ack(size uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.latest = max(l.latest, size)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// witnessAnswer is a witness's answer to one add-checkpoint request.
type witnessAnswer struct {
	status     int
	body       []byte
	latest     uint64 // of a 409
	retryAfter time.Duration
	latency    time.Duration
}

func (wb *witnessBench) send(ctx context.Context, body []byte) (witnessAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wb.url+"/add-checkpoint", bytes.NewReader(body))
	if err != nil {
		return witnessAnswer{}, err
	}
	t := time.Now()
	resp, err := wb.hc.Do(req)
	if err != nil {
		return witnessAnswer{}, err
	}
	a := witnessAnswer{status: resp.StatusCode}
	a.body, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	a.latency = time.Since(t)
	if err != nil {
		return witnessAnswer{}, err
	}
	switch a.status {
	case http.StatusConflict:
		a.latest, _ = strconv.ParseUint(strings.TrimSpace(string(a.body)), 10, 64)
	case http.StatusTooManyRequests:
		secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		a.retryAfter = min(time.Duration(max(secs, 0))*time.Second, time.Second)
		if err != nil || secs <= 0 {
			a.retryAfter = 100 * time.Millisecond
		}
	}
	return a, nil
}

// count records an answer; every 100th cosignature is verified.
func (wb *witnessBench) count(a witnessAnswer, err error, body []byte) {
	status := strconv.Itoa(a.status)
	if err != nil {
		status = "no answer"
	} else {
		wb.answered.Add(1)
	}
	if a.status == http.StatusOK {
		if n := wb.cosigned.Add(1); n%100 == 0 && !wb.cosignatureVerifies(body, a.body) {
			status = "200 with a bad cosignature"
		}
	}
	wb.mu.Lock()
	defer wb.mu.Unlock()
	wb.statuses[status]++
	if a.status == http.StatusOK {
		wb.lat = append(wb.lat, a.latency)
	}
}

// cosignatureVerifies checks the witness's cosignature line on the
// checkpoint of an add-checkpoint request body.
func (wb *witnessBench) cosignatureVerifies(body, line []byte) bool {
	_, signed, ok := bytes.Cut(body, []byte("\n\n"))
	if !ok {
		return false
	}
	n, err := note.Open(append(slices.Clip(signed), line...), note.VerifierList(wb.witness))
	return err == nil && len(n.Sigs) == 1
}

// checkLatest reads each log's latest checkpoint back from the witness and
// checks it: the size its client last had cosigned, signed by the log and
// cosigned by the witness.
func (wb *witnessBench) checkLatest(ctx context.Context) error {
	c := &witness.Client{URL: wb.url, HTTPClient: wb.hc}
	var bad []string
	for _, l := range wb.blogs {
		cp, err := c.Checkpoint(ctx, l.origin)
		if err != nil {
			if errors.Is(err, witness.ErrNoCheckpoint) && l.latest == 0 {
				continue
			}
			return err
		}
		logKey, err := note.NewVerifier(l.vkey)
		if err != nil {
			return err
		}
		got, n, err := govlog.OpenCheckpoint(cp, logKey)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", l.origin, err))
			continue
		}
		if _, err := note.Open(cp, note.VerifierList(wb.witness)); err != nil || len(n.UnverifiedSigs) != 1 {
			bad = append(bad, fmt.Sprintf("%s: not cosigned by the witness (%v)", l.origin, err))
		}
		if got.Size != l.latest {
			bad = append(bad, fmt.Sprintf("%s: size %d, its client had %d cosigned", l.origin, got.Size, l.latest))
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

func (wb *witnessBench) report(res benchResult) {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	secs := res.elapsed.Seconds()
	answered, cosigned := wb.answered.Load(), wb.cosigned.Load()
	attempts := int64(0)
	for _, n := range wb.statuses {
		attempts += int64(n)
	}
	fmt.Fprintf(wb.out, "\nwitness: %d logs, %d clients, %.1f s", wb.logs, wb.clients, secs)
	if res.stopped {
		fmt.Fprintf(wb.out, " (stopped before all were cosigned: --max-time, or the witness process ended)")
	}
	fmt.Fprintln(wb.out)
	fmt.Fprintf(wb.out, "  add-checkpoint answered: %s, %s/s\n", withCommas(answered), withCommas(int64(float64(answered)/secs)))
	fmt.Fprintf(wb.out, "  cosigned (200):          %s, %s/s\n", withCommas(cosigned), withCommas(int64(float64(cosigned)/secs)))
	if len(wb.lat) > 0 {
		slices.Sort(wb.lat)
		at := func(p float64) string {
			return fmt.Sprintf("%.1f ms", float64(wb.lat[int(p*float64(len(wb.lat)-1))].Microseconds())/1000)
		}
		fmt.Fprintf(wb.out, "  latency of 200s: p50 %s, p99 %s, max %s\n", at(0.50), at(0.99), at(1))
	}
	fmt.Fprintf(wb.out, "  requests by outcome:\n")
	for _, s := range slices.Sorted(maps.Keys(wb.statuses)) {
		n := wb.statuses[s]
		fmt.Fprintf(wb.out, "    %-28s %10s  %6.2f%%  %8s/s\n", s, withCommas(int64(n)), 100*float64(n)/float64(attempts), withCommas(int64(float64(n)/secs)))
	}
	witnessCPU := "unknown (not in /proc at the end)"
	if res.witnessCPU >= 0 {
		witnessCPU = fmt.Sprintf("%.2f cores", res.witnessCPU.Seconds()/secs)
		if answered > 0 {
			witnessCPU += fmt.Sprintf(" (%v of CPU an answer)", (res.witnessCPU / time.Duration(answered)).Round(time.Microsecond))
		}
	}
	fmt.Fprintf(wb.out, "  CPU: witness process %s; load generator %.2f cores\n", witnessCPU, res.selfCPU.Seconds()/secs)
}

// procCPUTime returns the user+system CPU time of process pid, from /proc.
func procCPUTime(pid int) (time.Duration, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command's closing parenthesis; utime and stime are
	// the 12th and 13th of them, in clock ticks (100 a second).
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, true
}

// selfCPUTime returns this process's user+system CPU time.
func selfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// withCommas formats n with thousands separators: 12,345.
func withCommas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
