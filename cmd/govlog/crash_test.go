package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/registry"
)

// The crash test's shape. A run takes about crashKills × (0.8 s + restart).
const (
	crashKills    = 24                     // SIGKILLs in one run (the issue asks for at least 20)
	crashMinLive  = 100 * time.Millisecond // shortest life of a server between kills
	crashMaxLive  = 1500 * time.Millisecond
	crashWorkers  = 4                // goroutines submitting
	crashWaitOneN = 5                // one statement in N waits for its bundle
	crashResubN   = 10               // one step in N resubmits an admitted statement
	crashMMD      = 30 * time.Second // --mmd
	crashLogName  = "disclosures"
	// crashSeenGrace is how late the reader may first see a promised entry
	// after the promise's deadline: the reader polls every 100 ms and cannot
	// read while the server is down.
	crashSeenGrace = 2 * time.Second
)

// TestCrashRecovery kills the real dev server with SIGKILL at random
// instants under a steady stream of submissions, restarts it on the same
// data folder and port each time, and then proves from what clients saw:
//
//   - every statement that got a promise or a bundle is in the log, a
//     promised one by its deadline (the MMD);
//   - no index ever held two different entries: every entry seen in a
//     bundle or read during the run is the final log's entry at that index;
//   - no statement is in the log twice, and every entry is one we submitted,
//     but for the one registry view entry the log writes, signed by its own
//     key, before the first statement (the registry does not change, so no
//     restart writes another);
//   - every checkpoint seen is consistent with the final one (a server
//     consistency proof, and the root recomputed from the final entries),
//     and none was served after a larger one had been seen;
//   - a statement whose Submit failed is, on resubmission of the same
//     bytes, either a duplicate of the entry admitted before the crash or
//     admitted then; an admitted statement resubmitted later is a duplicate
//     with the same promise deadline.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: about 25 s; skipped with -short")
	}
	begin := time.Now()
	tmp := t.TempDir()
	data := filepath.Join(tmp, "gl")
	addr := freeAddr(t)
	bin := filepath.Join(tmp, "govlog")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	built := time.Now()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, data %s, address %s", seed, data, addr)
	rng := rand.New(rand.NewPCG(seed, 0))

	srv := &crashServer{t: t, bin: bin, args: []string{"dev", "--data", data, "--listen", addr,
		"--mmd", crashMMD.String(), "--sequencer-interval", "50ms"}}
	t.Cleanup(srv.stop)
	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	// The first start writes the registry genesis after it listens; the
	// kills and the statements wait for it.
	if err := waitGenesis(addr, filepath.Join(data, "registry.yaml"), time.Minute); err != nil {
		t.Fatal(err)
	}

	c := newCrashLog(t, data, addr)

	load := c.startLoad(t, crashWorkers, seed, []string{addr})

	// The kills.
	var down time.Duration
	for kill := 1; kill <= crashKills; kill++ {
		live := crashMinLive + time.Duration(rng.Int64N(int64(crashMaxLive-crashMinLive)))
		select {
		case <-time.After(live):
		case <-srv.exited:
			t.Fatalf("dev server (start %d) exited by itself: %v\n%s", srv.starts, srv.waitErr, srv.out.tail(4000))
		}
		killed := time.Now()
		if err := srv.kill(); err != nil {
			t.Fatal(err)
		}
		c.noteKill(kill, srv.starts, time.Since(begin))
		if err := srv.start(); err != nil {
			t.Fatalf("restart after kill %d: %v", kill, err)
		}
		c.noteStart(srv.starts)
		down += time.Since(killed)
	}
	killsDone := time.Now()

	// The final server lives on: finish every statement in hand, then wait
	// for the promised ones (up to their deadlines) and read the log.
	load.finish(crashMMD + 5*time.Second)
	resolved := time.Now()
	fctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	final := c.awaitPromised(fctx, load.readers[0])
	waited := time.Now()
	c.checkFinal(fctx, final)
	srv.scanOutputs()

	s := c.summary()
	t.Logf("kills: %d (server down %v in all, %v per restart on average); statements: %d submitted, %d promised, %d bundles; "+
		"%d failed submissions resolved on resubmission (%d were admitted before the failure: duplicate; %d admitted then); "+
		"%d later resubmissions answered as duplicates; final log: %d entries, %d distinct checkpoints seen",
		crashKills, down.Round(time.Millisecond), (down / crashKills).Round(time.Millisecond),
		s.submitted, s.promised, s.bundled, s.errThenDup+s.errThenNew, s.errThenDup, s.errThenNew,
		s.resubmits, final.Size, s.checkpoints)
	t.Logf("time: %v total (build %v, kills %v, resolving in-hand statements %v, waiting for promised entries %v, final checks %v)",
		time.Since(begin).Round(time.Millisecond), built.Sub(begin).Round(time.Millisecond),
		killsDone.Sub(built).Round(time.Millisecond), resolved.Sub(killsDone).Round(time.Millisecond),
		waited.Sub(resolved).Round(time.Millisecond), time.Since(waited).Round(time.Millisecond))
	if t.Failed() {
		t.Logf("kill timeline: %s", strings.Join(c.kills, "; "))
		t.Logf("last server output:\n%s", srv.out.tail(4000))
	}
}

// crashServer is the dev server process, started again after every kill.
type crashServer struct {
	t       testing.TB
	bin     string
	args    []string
	starts  int
	cmd     *exec.Cmd
	out     *crashOutput
	outs    []*crashOutput // one per start
	exited  chan struct{}
	waitErr error
	// ready is what it prints once it serves; default dev's "ready" line.
	ready string
}

// start starts the server and waits until it prints "ready". While the
// server is down, the port is free for anyone: a client's connection (even
// one of ours, connecting to itself) may hold it for a moment, so a start
// that could not listen is tried again.
func (s *crashServer) start() error {
	for try := 1; ; try++ {
		err := s.startOnce()
		if err == nil || try == 20 || !strings.Contains(s.out.String(), "address already in use") {
			return err
		}
		s.t.Logf("start %d: port taken, trying again", s.starts)
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *crashServer) startOnce() error {
	s.starts++
	s.out = &crashOutput{}
	s.outs = append(s.outs, s.out)
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	s.exited = exited
	cmd := s.cmd
	go func() { s.waitErr = cmd.Wait(); close(exited) }()
	deadline := time.After(30 * time.Second)
	ready := s.ready
	if ready == "" {
		ready = "\nready\n"
	}
	for !s.out.contains(ready) {
		select {
		case <-exited:
			return fmt.Errorf("dev server (start %d) exited before ready: %v\n%s", s.starts, s.waitErr, s.out.tail(4000))
		case <-deadline:
			return fmt.Errorf("dev server (start %d) not ready after 30s:\n%s", s.starts, s.out.tail(4000))
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *crashServer) kill() error {
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill: %v", err)
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("dev server still running 10s after SIGKILL")
	}
}

// stop ends the last server, gently first.
func (s *crashServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
	}
}

// scanOutputs fails on what a server must never print, in any of its lives.
func (s *crashServer) scanOutputs() {
	var warnings []string
	for i, o := range s.outs {
		text := o.String()
		for _, bad := range []string{"panic:", "fatal error:", "refusing to sign", "inconsistent"} {
			if strings.Contains(text, bad) {
				s.t.Errorf("dev server (start %d) printed %q:\n%s", i+1, bad, text)
			}
		}
		for line := range strings.Lines(text) {
			if strings.Contains(line, "level=WARN") {
				warnings = append(warnings, fmt.Sprintf("start %d: %s", i+1, strings.TrimSpace(line)))
			}
		}
	}
	if len(warnings) > 0 {
		s.t.Logf("the dev servers logged %d warnings, the first:\n%s", len(warnings), strings.Join(warnings[:min(5, len(warnings))], "\n"))
	}
}

// crashOutput collects a process's output; safe to read while it writes.
type crashOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *crashOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *crashOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

func (o *crashOutput) contains(s string) bool { return strings.Contains(o.String(), s) }

func (o *crashOutput) tail(n int) string {
	s := o.String()
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}

// crashConn is a client that is dialled afresh after every failure, so a
// restarted server is reached at once instead of after gRPC's reconnect
// backoff.
type crashConn struct {
	addr string
	c    *client.Client
}

func (k *crashConn) get(t *testing.T) *client.Client {
	if k.c == nil {
		c, err := client.Dial(k.addr)
		if err != nil {
			t.Errorf("dial: %v", err) // only for a malformed address
			return nil
		}
		k.c = c
	}
	return k.c
}

func (k *crashConn) reset() {
	if k.c != nil {
		k.c.Close()
		k.c = nil
	}
}

// crashRetryable tells the errors a client sees while the server is down or
// restarting (or a wait=true Submit that ran out of time) from refusals.
func crashRetryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return true
	}
	return false
}

// crashStatement is one statement and what became of it. Only its worker
// writes it, under crashLog.mu; others read it under crashLog.mu.
type crashStatement struct {
	doc        string
	leaf       []byte
	hash       [32]byte
	wait       bool
	first      time.Time // first Submit
	firstStart int       // server start at the first Submit
	fails      int       // Submits that failed before it was resolved
	resolved   bool      // got a promise or a bundle
	duplicate  bool      // the answer that resolved it said duplicate
	deadline   time.Time // the promise's deadline (wait=false)
	index      uint64    // the bundle's index (wait=true)
	answeredAt time.Time
}

func (s *crashStatement) String() string {
	kind := "wait=false"
	if s.wait {
		kind = "wait=true"
	}
	answer := "no answer"
	if s.resolved {
		answer = "answered at " + s.answeredAt.Format("15:04:05.000")
		if s.duplicate {
			answer += " as a duplicate"
		}
	}
	return fmt.Sprintf("%s (%s, leaf %s, first submitted at %s to server start %d, %d failed submits, %s)",
		s.doc, kind, base64.StdEncoding.EncodeToString(s.hash[:]), s.first.Format("15:04:05.000"), s.firstStart,
		s.fails, answer)
}

type crashEntry struct {
	leaf []byte
	from string
}

// crashLog is everything clients saw.
type crashLog struct {
	t    *testing.T
	addr string
	// addrs, if set, are several servers of one log (TestFailover): each
	// worker submits to one of them, and each server is read by a reader
	// of its own, so only one server's checkpoints must never shrink.
	addrs  []string
	origin string
	signer note.Signer
	logKey note.Verifier
	policy *govlog.Policy

	mu         sync.Mutex
	stmts      map[[32]byte]*crashStatement
	entries    map[uint64]crashEntry // the first entry seen at each index
	seen       map[[32]byte]time.Time
	cps        map[uint64][32]byte // size -> root hash, of every checkpoint seen
	maxSize    uint64              // of every checkpoint seen
	start      int                 // server start number, for reports
	kills      []string
	errThenDup int
	errThenNew int
	resubmits  int

	failMu   sync.Mutex
	failures int
}

func newCrashLog(t *testing.T, data, addr string) *crashLog {
	c := &crashLog{t: t, addr: addr, start: 1,
		stmts: map[[32]byte]*crashStatement{}, entries: map[uint64]crashEntry{},
		seen: map[[32]byte]time.Time{}, cps: map[uint64][32]byte{}}
	var err error
	if c.signer, err = loadSigner(filepath.Join(data, "keys", "demo-agency.key")); err != nil {
		t.Fatal(err)
	}
	vkey, err := os.ReadFile(filepath.Join(data, "keys", "log-disclosures.vkey"))
	if err != nil {
		t.Fatal(err)
	}
	if c.logKey, err = note.NewVerifier(strings.TrimSpace(string(vkey))); err != nil {
		t.Fatal(err)
	}
	policy, err := os.ReadFile(filepath.Join(data, "policy.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if c.policy, err = govlog.ParsePolicy(policy); err != nil {
		t.Fatal(err)
	}
	cl, err := client.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c.origin, err = cl.Origin(ctx, crashLogName); err != nil {
		t.Fatal(err)
	}
	if c.origin != c.logKey.Name() {
		t.Fatalf("origin %q, but the log key is named %q", c.origin, c.logKey.Name())
	}
	return c
}

// errorf reports a failed check, the first 30 in full.
func (c *crashLog) errorf(format string, args ...any) {
	c.failMu.Lock()
	c.failures++
	n := c.failures
	c.failMu.Unlock()
	switch {
	case n <= 30:
		c.t.Errorf(format, args...)
	case n == 31:
		c.t.Errorf("more failures follow; only counted")
	default:
		c.t.Fail()
	}
}

func (c *crashLog) noteKill(kill, start int, at time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kills = append(c.kills, fmt.Sprintf("kill %d of start %d at %v", kill, start, at.Round(time.Millisecond)))
}

func (c *crashLog) noteStart(start int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.start = start
}

// newStatement signs a fresh disclosure.publish with a unique doc_id.
func (c *crashLog) newStatement(w, seq int, wait bool) *crashStatement {
	doc := fmt.Sprintf("crash-w%d-%d", w, seq)
	sum := sha256.Sum256([]byte(doc))
	body, err := json.Marshal(map[string]string{
		"doc_id": doc, "title": "Crash test " + doc, "sha256": hex.EncodeToString(sum[:]),
		"category": "budget", "decision_date": "2026-11-01",
	})
	if err != nil {
		panic(err)
	}
	st, err := govlog.NewStatement(c.origin, "disclosure.publish", time.Now(), body)
	if err != nil {
		panic(err)
	}
	leaf, err := st.Sign(c.signer)
	if err != nil {
		panic(err)
	}
	s := &crashStatement{doc: doc, leaf: leaf, hash: govlog.LeafHash(leaf), wait: wait, first: time.Now()}
	c.mu.Lock()
	c.stmts[s.hash] = s
	s.firstStart = c.start
	c.mu.Unlock()
	return s
}

// worker submits fresh statements, now and then resubmitting one it had
// admitted, until stop; the statement in hand is resolved even after stop.
func (c *crashLog) worker(ctx context.Context, w int, stop <-chan struct{}, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, uint64(w)+1))
	conn := &crashConn{addr: c.addr}
	if len(c.addrs) > 0 {
		conn.addr = c.addrs[w%len(c.addrs)]
	}
	defer conn.reset()
	var mine []*crashStatement
	for seq := 0; ; seq++ {
		select {
		case <-stop:
			return
		default:
		}
		if ctx.Err() != nil {
			return
		}
		if len(mine) > 0 && rng.IntN(crashResubN) == 0 {
			c.resubmit(ctx, conn, rng, mine[rng.IntN(len(mine))])
			continue
		}
		s := c.newStatement(w, seq, rng.IntN(crashWaitOneN) == 0)
		if c.submit(ctx, conn, rng, s) {
			mine = append(mine, s)
		}
	}
}

// submit sends s until it gets a promise or a bundle; a failed Submit may
// or may not have admitted it, so the same bytes are sent again.
func (c *crashLog) submit(ctx context.Context, conn *crashConn, rng *rand.Rand, s *crashStatement) bool {
	timeout := 5 * time.Second
	if s.wait {
		timeout = 15 * time.Second
	}
	for {
		cl := conn.get(c.t)
		if cl == nil {
			return false
		}
		actx, cancel := context.WithTimeout(ctx, timeout)
		res, err := cl.Submit(actx, crashLogName, s.leaf, s.wait)
		cancel()
		if err == nil {
			return c.resolve(s, res)
		}
		if ctx.Err() != nil {
			c.errorf("statement %s: never resolved; last error: %v", s, err)
			return false
		}
		if !crashRetryable(err) {
			c.errorf("statement %s: Submit refused it: %v", s, err)
			return false
		}
		c.mu.Lock()
		s.fails++
		c.mu.Unlock()
		conn.reset()
		crashPause(ctx, rng)
	}
}

func crashPause(ctx context.Context, rng *rand.Rand) {
	select {
	case <-ctx.Done():
	case <-time.After(20*time.Millisecond + time.Duration(rng.Int64N(int64(60*time.Millisecond)))):
	}
}

// resolve checks and records the answer that resolved s.
func (c *crashLog) resolve(s *crashStatement, res *client.Submitted) bool {
	now := time.Now()
	if res.Duplicate && s.fails == 0 {
		c.errorf("statement %s: a fresh statement was answered as a duplicate", s)
	}
	var (
		vb *govlog.VerifiedBundle
		p  govlog.Promise
	)
	if s.wait {
		var err error
		if vb, err = govlog.VerifyBundle(res.Bundle, c.policy); err != nil {
			c.errorf("statement %s: bundle does not verify: %v", s, err)
			return false
		}
		if !bytes.Equal(vb.Entry, s.leaf) || vb.Index != res.Index || vb.Checkpoint.Origin != c.origin {
			c.errorf("statement %s: bundle for entry %d (answer said %d) is of another entry or log", s, vb.Index, res.Index)
			return false
		}
	} else {
		var err error
		if p, err = govlog.OpenPromise(res.Promise, c.logKey); err != nil {
			c.errorf("statement %s: promise does not verify: %v", s, err)
			return false
		}
		if p.LeafHash != s.hash {
			c.errorf("statement %s: promise is for another leaf", s)
			return false
		}
		// Admitted between the first Submit and now; the deadline is the
		// admission time plus the MMD, rounded down to the second.
		lo, hi := s.first.Add(crashMMD).Truncate(time.Second), now.Add(crashMMD)
		if p.Deadline.Before(lo) || p.Deadline.After(hi) {
			c.errorf("statement %s: promise deadline %v is not within [%v, %v], the first Submit and the answer plus the MMD",
				s, p.Deadline, lo, hi)
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	s.resolved, s.duplicate, s.answeredAt = true, res.Duplicate, now
	if s.fails > 0 {
		if res.Duplicate {
			c.errThenDup++
		} else {
			c.errThenNew++
		}
	}
	if s.wait {
		s.index = vb.Index
		c.recordEntryLocked(vb.Index, s.leaf, "bundle of "+s.doc)
		c.recordCheckpointLocked(vb.Checkpoint, "bundle of "+s.doc)
		if _, ok := c.seen[s.hash]; !ok {
			c.seen[s.hash] = now
		}
	} else {
		s.deadline = p.Deadline
	}
	return true
}

// resubmit sends an admitted statement again: it must be a duplicate,
// promised for the same deadline as the first time.
func (c *crashLog) resubmit(ctx context.Context, conn *crashConn, rng *rand.Rand, s *crashStatement) {
	for {
		cl := conn.get(c.t)
		if cl == nil {
			return
		}
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		res, err := cl.Submit(actx, crashLogName, s.leaf, false)
		cancel()
		if err == nil {
			p, perr := govlog.OpenPromise(res.Promise, c.logKey)
			switch {
			case !res.Duplicate:
				c.errorf("statement %s: admitted again when resubmitted after being resolved", s)
			case perr != nil || p.LeafHash != s.hash:
				c.errorf("statement %s: resubmission's promise: %v", s, perr)
			case !s.wait && !p.Deadline.Equal(s.deadline):
				c.errorf("statement %s: resubmission promised deadline %v, the first promise %v", s, p.Deadline, s.deadline)
			}
			c.mu.Lock()
			c.resubmits++
			c.mu.Unlock()
			return
		}
		if ctx.Err() != nil {
			return
		}
		if !crashRetryable(err) {
			c.errorf("statement %s: resubmission refused: %v", s, err)
			return
		}
		conn.reset()
		crashPause(ctx, rng)
	}
}

// recordEntryLocked records that index held leaf; a different leaf seen
// there before is a fork.
func (c *crashLog) recordEntryLocked(index uint64, leaf []byte, from string) {
	if e, ok := c.entries[index]; ok {
		if !bytes.Equal(e.leaf, leaf) {
			c.errorf("index %d held two different entries: %s (seen in a %s) and %s (seen in a %s)",
				index, c.describeLocked(e.leaf), e.from, c.describeLocked(leaf), from)
		}
		return
	}
	c.entries[index] = crashEntry{leaf: leaf, from: from}
}

// describeLocked names an entry by the statement it is.
func (c *crashLog) describeLocked(leaf []byte) string {
	if s, ok := c.stmts[govlog.LeafHash(leaf)]; ok {
		return "statement " + s.String()
	}
	return fmt.Sprintf("unknown entry %.200q", leaf)
}

// recordCheckpointLocked records a verified checkpoint; two root hashes for
// one size is a fork.
func (c *crashLog) recordCheckpointLocked(cp govlog.Checkpoint, from string) {
	if h, ok := c.cps[cp.Size]; ok && h != cp.Hash {
		c.errorf("two checkpoints of size %d with different root hashes (the second from %s)", cp.Size, from)
		return
	}
	c.cps[cp.Size] = cp.Hash
	c.maxSize = max(c.maxSize, cp.Size)
}

// crashLoad is the load a crash test puts on its servers: workers that
// submit until stopped, and a reader of each server.
type crashLoad struct {
	// hard ends every call; stop asks the workers to finish the statement
	// in hand.
	hard              context.Context
	cancelHard        context.CancelFunc
	stopOnce          func()
	stopReading       func()
	workers, readDone sync.WaitGroup
	readers           []*crashReader
}

// startLoad starts workers submitting to c and a reader of each of addrs,
// all stopped when t ends if not before (finish).
func (c *crashLog) startLoad(t *testing.T, workers int, seed uint64, addrs []string) *crashLoad {
	l := &crashLoad{}
	// Workers submit until stop is closed, then finish the statement in
	// hand; they give up on it only when hard ends, an MMD after stop.
	l.hard, l.cancelHard = context.WithTimeout(context.Background(), 5*time.Minute)
	stop := make(chan struct{})
	l.stopOnce = sync.OnceFunc(func() { close(stop) })
	for w := range workers {
		l.workers.Go(func() { c.worker(l.hard, w, stop, seed) })
	}
	readCtx, stopReading := context.WithCancel(l.hard)
	l.stopReading = stopReading
	for _, addr := range addrs {
		r := &crashReader{c: c, conn: &crashConn{addr: addr}}
		l.readers = append(l.readers, r)
		l.readDone.Go(func() { r.run(readCtx) })
	}
	t.Cleanup(func() { // also on t.Fatal
		l.stopOnce()
		l.stopReading()
		l.cancelHard()
		l.workers.Wait()
		l.readDone.Wait()
	})
	return l
}

// finish stops the workers, waits for each to resolve the statement in
// hand (giving up grace after), then stops the readers.
func (l *crashLoad) finish(grace time.Duration) {
	l.stopOnce()
	giveUp := time.AfterFunc(grace, l.cancelHard)
	defer giveUp.Stop()
	l.workers.Wait()
	l.stopReading()
	l.readDone.Wait()
}

// crashReader follows the log as a monitor would: the latest checkpoint,
// then every entry up to it.
type crashReader struct {
	c    *crashLog
	conn *crashConn
	next uint64 // entries below next have been read
	last govlog.Checkpoint
	ok   bool // last is set
}

func (r *crashReader) run(ctx context.Context) {
	defer r.conn.reset()
	for ctx.Err() == nil {
		r.poll(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// poll reads and verifies the latest checkpoint, then the entries up to it.
func (r *crashReader) poll(ctx context.Context) {
	c := r.c
	cl := r.conn.get(c.t)
	if cl == nil {
		return
	}
	c.mu.Lock()
	floor := c.maxSize
	c.mu.Unlock()
	if len(c.addrs) > 0 {
		// Several servers: one that follows may lag another.
		floor = r.last.Size
	}
	actx, cancel := context.WithTimeout(ctx, 3*time.Second)
	signed, err := cl.Checkpoint(actx, crashLogName)
	cancel()
	if err != nil {
		r.conn.reset()
		return
	}
	cp, _, err := c.policy.Verify(signed)
	if err != nil {
		c.errorf("checkpoint does not verify: %v\n%s", err, signed)
		return
	}
	if cp.Size < floor {
		c.errorf("checkpoint of size %d served after one of size %d had been seen", cp.Size, floor)
	}
	c.mu.Lock()
	c.recordCheckpointLocked(cp, "reader")
	c.mu.Unlock()
	r.last, r.ok = cp, true
	for r.next < cp.Size {
		actx, cancel := context.WithTimeout(ctx, 3*time.Second)
		es, err := cl.Entries(actx, crashLogName, r.next, cp.Size-r.next)
		cancel()
		if err != nil {
			r.conn.reset()
			return
		}
		now := time.Now()
		c.mu.Lock()
		for _, e := range es {
			c.recordEntryLocked(r.next, e, "read")
			if h := govlog.LeafHash(e); c.seen[h].IsZero() {
				c.seen[h] = now
			}
			r.next++
		}
		c.mu.Unlock()
	}
}

// awaitPromised follows the log until every resolved statement is in it,
// or the last promise's deadline (plus the reader's grace) has passed, and
// returns the latest checkpoint.
func (c *crashLog) awaitPromised(ctx context.Context, r *crashReader) govlog.Checkpoint {
	c.mu.Lock()
	until := time.Now().Add(5 * time.Second)
	for _, s := range c.stmts {
		if s.resolved && !s.wait && s.deadline.Add(crashSeenGrace).After(until) {
			until = s.deadline.Add(crashSeenGrace)
		}
	}
	c.mu.Unlock()
	for {
		r.poll(ctx)
		c.mu.Lock()
		missing := 0
		for _, s := range c.stmts {
			if _, ok := c.seen[s.hash]; s.resolved && !ok {
				missing++
			}
		}
		c.mu.Unlock()
		if (r.ok && missing == 0) || time.Now().After(until) || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.conn.reset()
	if !r.ok {
		c.t.Fatal("never read a checkpoint from the final server")
	}
	return r.last
}

// checkFinal reads the whole log at the final checkpoint and checks it
// against everything seen.
func (c *crashLog) checkFinal(ctx context.Context, final govlog.Checkpoint) {
	t := c.t
	cl, err := client.Dial(c.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var log [][]byte
	for uint64(len(log)) < final.Size {
		es, err := cl.Entries(ctx, crashLogName, uint64(len(log)), final.Size-uint64(len(log)))
		if err != nil {
			t.Fatalf("reading entries from %d of %d: %v", len(log), final.Size, err)
		}
		log = append(log, es...)
	}
	if uint64(len(log)) != final.Size {
		t.Fatalf("read %d entries for a checkpoint of size %d", len(log), final.Size)
	}

	// The workers and the reader are done: nothing else uses c now.
	c.mu.Lock()
	defer c.mu.Unlock()
	report := c.errorf

	// No statement twice, and only statements we submitted, but for the
	// log's one registry view entry, first.
	at := map[[32]byte]uint64{}
	var views []int
	for i, e := range log {
		h := govlog.LeafHash(e)
		if j, ok := at[h]; ok {
			report("statement at index %d is also at index %d: %s", i, j, c.describeLocked(e))
			continue
		}
		at[h] = uint64(i)
		if _, ok := c.stmts[h]; ok {
			continue
		}
		if _, err := registry.OpenAnchor(e, c.origin, c.logKey); err != nil {
			report("index %d holds an entry no worker submitted, and not a registry view entry by the log (%v): %.200q", i, err, e)
			continue
		}
		views = append(views, i)
	}
	if len(log) > 0 && !slices.Equal(views, []int{0}) {
		report("registry view entries at indexes %v; want one, at 0, before the first statement", views)
	}

	// Every entry seen during the run is still there.
	for i, e := range c.entries {
		if i >= final.Size {
			report("entry %d, %s (seen in a %s), is beyond the final tree size %d", i, c.describeLocked(e.leaf), e.from, final.Size)
		} else if !bytes.Equal(e.leaf, log[i]) {
			report("index %d held %s (seen in a %s), now holds %s", i, c.describeLocked(e.leaf), e.from, c.describeLocked(log[i]))
		}
	}

	// Every promise and bundle was kept.
	for h, s := range c.stmts {
		if !s.resolved {
			continue // already reported by its worker
		}
		i, ok := at[h]
		switch {
		case !ok && s.wait:
			report("statement %s got a bundle for index %d but is not in the log of size %d", s, s.index, final.Size)
		case !ok:
			report("statement %s was promised for %v but is not in the log of size %d (read at %v)",
				s, s.deadline, final.Size, time.Now().Format("15:04:05.000"))
		case s.wait && i != s.index:
			report("statement %s got a bundle for index %d but is at index %d", s, s.index, i)
		case !s.wait && c.seen[h].After(s.deadline.Add(crashSeenGrace)):
			report("statement %s was promised for %v but first seen in the log at %v", s, s.deadline, c.seen[h])
		}
	}

	// Every checkpoint seen is consistent with the final one: by the
	// server's proof, and by the root hash of the final log's prefix.
	sizes := make([]uint64, 0, len(c.cps))
	for size := range c.cps {
		sizes = append(sizes, size)
	}
	slices.Sort(sizes)
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	prefix := rf.NewEmptyRange(0)
	for _, size := range sizes {
		hash := c.cps[size]
		if size > final.Size {
			report("a checkpoint of size %d was seen, beyond the final size %d", size, final.Size)
			continue
		}
		for prefix.End() < size {
			h := govlog.LeafHash(log[prefix.End()])
			if err := prefix.Append(h[:], nil); err != nil {
				t.Fatal(err)
			}
		}
		root, err := prefix.GetRootHash(nil)
		if err != nil {
			t.Fatal(err)
		}
		if size == 0 {
			root = rfc6962.DefaultHasher.EmptyRoot()
		}
		if !bytes.Equal(root, hash[:]) {
			report("checkpoint of size %d has root %x; the final log's first %d entries hash to %x", size, hash, size, root)
		}
		hashes, err := cl.ConsistencyProof(ctx, crashLogName, size, final.Size)
		if err != nil {
			report("consistency proof %d -> %d: %v", size, final.Size, err)
			continue
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, size, final.Size, hashes, hash[:], final.Hash[:]); err != nil {
			report("checkpoint of size %d is not consistent with the final one of size %d: %v", size, final.Size, err)
		}
	}
	if _, ok := c.cps[final.Size]; !ok {
		report("the final checkpoint was not recorded")
	}
}

type crashSummary struct {
	submitted, promised, bundled, errThenDup, errThenNew, resubmits, checkpoints int
}

func (c *crashLog) summary() crashSummary {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := crashSummary{submitted: len(c.stmts), errThenDup: c.errThenDup, errThenNew: c.errThenNew,
		resubmits: c.resubmits, checkpoints: len(c.cps)}
	for _, st := range c.stmts {
		switch {
		case st.resolved && st.wait:
			s.bundled++
		case st.resolved:
			s.promised++
		}
	}
	return s
}
