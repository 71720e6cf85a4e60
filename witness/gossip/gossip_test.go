package gossip_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/witness"
	"github.com/govlog/govlog/witness/gossip"
	"github.com/govlog/govlog/witness/sqlstore"
	"github.com/govlog/govlog/witness/witnesstest"
)

// node is one witness with its HTTP server.
type node struct {
	w   *witness.Witness
	srv *httptest.Server
	c   *witness.Client
}

func newNode(t *testing.T, name string, log *witnesstest.Log) *node {
	t.Helper()
	ctx := context.Background()
	skey, _, err := govlog.GenerateCosignerKey(nil, name)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := govlog.NewCosigner(skey, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlstore.Open(ctx, sqlstore.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	w, err := witness.New(ctx, witness.Options{Cosigner: signer, Logs: map[string]note.Verifier{log.Origin: log.Verifier}, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(witness.NewHandler(w))
	t.Cleanup(srv.Close)
	return &node{w: w, srv: srv, c: &witness.Client{URL: srv.URL}}
}

// push has the log bring the witness to size over HTTP, in two steps.
func (n *node) push(t *testing.T, log *witnesstest.Log, size uint64) {
	t.Helper()
	ctx := context.Background()
	if _, err := n.c.AddCheckpoint(ctx, 0, nil, log.Checkpoint(size/2)); err != nil {
		t.Fatal(err)
	}
	if _, err := n.c.AddCheckpoint(ctx, size/2, log.Proof(size/2, size), log.Checkpoint(size)); err != nil {
		t.Fatal(err)
	}
}

// TestSplitViewCaught plays a malicious log that shows branch A to witness
// 1 and branch B to witness 2. Gossip between the two (and with the log)
// must give both verifiable evidence within a few poll intervals, and then
// neither cosigns the log again.
func TestSplitViewCaught(t *testing.T) {
	tests := []struct {
		name         string
		sizeA, sizeB uint64
		// logOnA makes the log serve branch A (grown to 12) as its latest
		// checkpoint and proofs; otherwise it serves branch B.
		logOnA bool
	}{
		{name: "same size", sizeA: 8, sizeB: 8},
		{name: "different sizes", sizeA: 6, sizeB: 9},
		{name: "smaller size a power of two", sizeA: 4, sizeB: 9},
		{name: "log serves the smaller branch", sizeA: 6, sizeB: 9, logOnA: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			a := witnesstest.NewLog(t, "example.com/log")
			b := a.Fork(3, "B")
			w1, w2 := newNode(t, "witness.example/w1", a), newNode(t, "witness.example/w2", a)
			w1.push(t, a, tt.sizeA)
			w2.push(t, b, tt.sizeB)

			public := b
			if tt.logOnA {
				public = a.Grow(12)
			}
			b.Grow(tt.sizeB)
			logs := func(_ context.Context, origin string) ([]byte, error) { return public.Latest(), nil }
			const interval = 20 * time.Millisecond
			for _, pair := range [][2]*node{{w1, w2}, {w2, w1}} {
				g, err := gossip.New(gossip.Options{
					Witness: pair[0].w, Peers: []string{pair[1].srv.URL},
					Logs: logs, Proofs: public, Interval: interval,
				})
				if err != nil {
					t.Fatal(err)
				}
				go g.Run(ctx)
			}

			start := time.Now()
			for _, n := range []*node{w1, w2} {
				var ev []witness.EvidenceRecord
				for len(ev) == 0 {
					if time.Since(start) > 50*interval {
						t.Fatalf("%s: no evidence after %v", n.w.Name(), time.Since(start))
					}
					time.Sleep(interval / 4)
					var err error
					if ev, err = n.w.Evidence(ctx); err != nil {
						t.Fatal(err)
					}
				}
				// What the witness serves is what check-evidence accepts.
				for _, e := range ev {
					if _, _, _, err := witness.VerifyEvidence(e.File, a.Verifier); err != nil {
						t.Errorf("%s: evidence %s doesn't verify: %v\n%s", n.w.Name(), e.ID, err, e.File)
					}
				}
				if !n.w.Frozen(a.Origin) {
					t.Errorf("%s: log not frozen", n.w.Name())
				}
			}
			t.Logf("both witnesses hold evidence after %v (%.1f poll intervals)", time.Since(start).Round(time.Millisecond), float64(time.Since(start))/float64(interval))

			// Neither branch gets another cosignature.
			if _, err := w1.c.AddCheckpoint(ctx, tt.sizeA, a.Proof(tt.sizeA, 13), a.Checkpoint(13)); !errors.Is(err, witness.ErrInconsistent) {
				t.Errorf("w1 after evidence: %v, want 422", err)
			}
			if _, err := w2.c.AddCheckpoint(ctx, tt.sizeB, b.Proof(tt.sizeB, 13), b.Checkpoint(13)); !errors.Is(err, witness.ErrInconsistent) {
				t.Errorf("w2 after evidence: %v, want 422", err)
			}
		})
	}
}

// countingProofs counts proof fetches.
type countingProofs struct {
	witness.ProofSource
	n atomic.Int64
}

func (c *countingProofs) ConsistencyProof(ctx context.Context, origin string, from, to uint64) ([][32]byte, error) {
	c.n.Add(1)
	return c.ProofSource.ConsistencyProof(ctx, origin, from, to)
}

// TestHonestLog: witnesses at different sizes of one honest log find
// nothing, change nothing, and stop fetching proofs once pairs are checked.
func TestHonestLog(t *testing.T) {
	ctx := context.Background()
	log := witnesstest.NewLog(t, "example.com/log")
	w1, w2 := newNode(t, "witness.example/w1", log), newNode(t, "witness.example/w2", log)
	w1.push(t, log, 5)
	w2.push(t, log, 9)
	log.Grow(14)
	before, _, _ := w1.w.Latest(ctx, log.Origin)
	proofs := &countingProofs{ProofSource: log}
	g, err := gossip.New(gossip.Options{
		Witness: w1.w, Peers: []string{w2.srv.URL, "http://127.0.0.1:1"}, // the second peer is down
		Logs:   func(context.Context, string) ([]byte, error) { return log.Latest(), nil },
		Proofs: proofs,
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := g.Poll(ctx); n != 0 {
		t.Fatalf("Poll found %d evidence on an honest log", n)
	}
	fetched := proofs.n.Load()
	if fetched == 0 {
		t.Errorf("no proofs fetched for checkpoints of sizes 5, 9 and 14")
	}
	if g.Poll(ctx); proofs.n.Load() != fetched {
		t.Errorf("second poll fetched %d more proofs", proofs.n.Load()-fetched)
	}
	if ev, _ := w1.w.Evidence(ctx); len(ev) != 0 || w1.w.Frozen(log.Origin) {
		t.Errorf("evidence on an honest log: %v", ev)
	}
	if after, _, _ := w1.w.Latest(ctx, log.Origin); string(after) != string(before) {
		t.Errorf("gossip changed the witness's latest checkpoint")
	}
}

// TestIgnoresForgeries: a peer serving a checkpoint not signed by the log's
// key cannot make evidence.
func TestIgnoresForgeries(t *testing.T) {
	ctx := context.Background()
	log := witnesstest.NewLog(t, "example.com/log")
	impostor := witnesstest.NewLog(t, "example.com/log").Fork(0, "forged")
	w1 := newNode(t, "witness.example/w1", log)
	w1.push(t, log, 8)
	g, err := gossip.New(gossip.Options{
		Witness: w1.w,
		Logs:    func(context.Context, string) ([]byte, error) { return impostor.Checkpoint(8), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := g.Poll(ctx); n != 0 || w1.w.Frozen(log.Origin) {
		t.Fatalf("a forged checkpoint made %d evidence", n)
	}
}

// TestEvidenceSpreads: witness 1 proves the split itself (the log pushed it
// the other branch); witness 2, with no proof source, learns the evidence
// from witness 1 and freezes the log too.
func TestEvidenceSpreads(t *testing.T) {
	ctx := context.Background()
	a := witnesstest.NewLog(t, "example.com/log")
	b := a.Fork(3, "B")
	w1, w2 := newNode(t, "witness.example/w1", a), newNode(t, "witness.example/w2", a)
	w1.push(t, a, 6)
	w2.push(t, b, 9)
	if _, err := w1.c.AddCheckpoint(ctx, 6, b.Proof(6, 11), b.Checkpoint(11)); !errors.Is(err, witness.ErrInconsistent) {
		t.Fatalf("other branch: %v, want 422", err)
	}
	if !w1.w.Frozen(a.Origin) {
		t.Fatal("w1 didn't make evidence from the request")
	}
	g, err := gossip.New(gossip.Options{Witness: w2.w, Peers: []string{w1.srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	if n := g.Poll(ctx); n != 1 || !w2.w.Frozen(a.Origin) {
		t.Fatalf("Poll recorded %d evidence, frozen %v; want 1, true", n, w2.w.Frozen(a.Origin))
	}
	if n := g.Poll(ctx); n != 0 {
		t.Errorf("second Poll recorded %d more", n)
	}
}

// TestForgedEvidenceIgnored: a peer serving evidence that doesn't verify
// (here, two consistent checkpoints) changes nothing.
func TestForgedEvidenceIgnored(t *testing.T) {
	ctx := context.Background()
	log := witnesstest.NewLog(t, "example.com/log")
	forged := (&witness.Evidence{First: log.Checkpoint(5), Second: log.Checkpoint(9),
		Prefix: &witness.Prefix{Root: log.Root(4), Proof: log.Proof(5, 9)}}).Marshal()
	sum := sha256.Sum256(forged)
	id := hex.EncodeToString(sum[:])
	var fetches atomic.Int64
	peer := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/evidence":
			fmt.Fprintf(rw, "%s prefix 2026-01-01T00:00:00Z %s\n", id, log.Origin)
		case "/evidence/" + id:
			fetches.Add(1)
			rw.Write(forged)
		default:
			http.NotFound(rw, r)
		}
	}))
	defer peer.Close()
	w1 := newNode(t, "witness.example/w1", log)
	g, err := gossip.New(gossip.Options{Witness: w1.w, Peers: []string{peer.URL}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if n := g.Poll(ctx); n != 0 {
			t.Fatalf("forged evidence recorded")
		}
	}
	if w1.w.Frozen(log.Origin) {
		t.Error("log frozen by forged evidence")
	}
	if fetches.Load() != 1 {
		t.Errorf("forged file fetched %d times, want once", fetches.Load())
	}
}
