package witness_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	tdnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/witness"
	"github.com/govlog/govlog/witness/sqlstore"
	"github.com/govlog/govlog/witness/witnesstest"
)

func TestMemStoreConformance(t *testing.T) {
	witnesstest.TestStore(t, func(t *testing.T) witness.Store { return newMemStore() })
}

func TestAddCheckpoint(t *testing.T) {
	ctx := context.Background()
	log := witnesstest.NewLog(t, "example.com/log")
	other := witnesstest.NewLog(t, "example.com/other")
	impostor := witnesstest.NewLog(t, "example.com/log") // same origin, another key
	fork := log.Fork(5, "fork")                          // shares the witness's 5 leaves
	early := log.Fork(3, "early")                        // shares only 3

	// setup brings a fresh witness to size 5.
	setup := func(t *testing.T) *witness.Witness {
		w, _ := newWitness(t, newMemStore(), log)
		if _, err := w.AddCheckpoint(ctx, 0, nil, log.Checkpoint(5)); err != nil {
			t.Fatal(err)
		}
		return w
	}
	badProof := log.Proof(5, 9)
	badProof[0][0] ^= 1
	corrupt := bytes.Clone(log.Checkpoint(9))
	if i := len(corrupt) - 20; corrupt[i] == 'A' { // inside the signature's base64
		corrupt[i] = 'B'
	} else {
		corrupt[i] = 'A'
	}
	wrongEmpty, _ := govlog.SignCheckpoint(govlog.Checkpoint{Origin: log.Origin, Size: 0, Hash: log.Root(1)}, log.Signer)

	tests := []struct {
		name    string
		old     uint64
		proof   [][32]byte
		cp      []byte
		wantErr error
	}{
		{"extends", 5, log.Proof(5, 9), log.Checkpoint(9), nil},
		{"same checkpoint again", 5, nil, log.Checkpoint(5), nil},
		{"old size larger than new", 9, nil, log.Checkpoint(8), witness.ErrOldSizeTooLarge},
		{"unknown origin", 5, nil, other.Checkpoint(9), witness.ErrUnknownOrigin},
		{"signed by another key", 5, log.Proof(5, 9), impostor.Checkpoint(9), witness.ErrLogSignature},
		{"bad log signature", 5, log.Proof(5, 9), corrupt, witness.ErrLogSignature},
		{"not a note", 5, nil, []byte("example.com/log\n9\n"), witness.ErrMalformedRequest},
		{"too many proof lines", 5, make([][32]byte, 64), log.Checkpoint(9), witness.ErrMalformedRequest},
		{"old size not the latest", 4, log.Proof(4, 9), log.Checkpoint(9), witness.ErrSizeConflict},
		{"old size zero when the witness has one", 0, nil, log.Checkpoint(9), witness.ErrSizeConflict},
		{"bad proof", 5, badProof, log.Checkpoint(9), witness.ErrInconsistent},
		{"proof of another size", 5, log.Proof(5, 8), log.Checkpoint(9), witness.ErrInconsistent},
		{"a fork within its shared prefix", 5, nil, fork.Checkpoint(5), nil},
		{"a fork past its shared prefix", 5, fork.Proof(5, 9), fork.Checkpoint(9), nil},
		{"same size, another root", 5, nil, early.Checkpoint(5), witness.ErrInconsistent},
		{"another prefix", 5, early.Proof(5, 9), early.Checkpoint(9), witness.ErrInconsistent},
		{"no proof", 5, nil, log.Checkpoint(9), witness.ErrInconsistent},
		{"size zero with a wrong root", 0, nil, wrongEmpty, witness.ErrInconsistent},
		{"non-empty proof at the same size", 5, log.Proof(4, 5), log.Checkpoint(5), witness.ErrInconsistent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := setup(t)
			lines, err := w.AddCheckpoint(ctx, tt.old, tt.proof, tt.cp)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("AddCheckpoint = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if lines != nil {
					t.Errorf("cosignature returned with an error")
				}
				return
			}
			if !bytes.HasPrefix(lines, []byte("— witness.example/w1 ")) || !bytes.HasSuffix(lines, []byte("\n")) || bytes.Count(lines, []byte("\n")) != 1 {
				t.Errorf("cosignature = %q, want one signature line", lines)
			}
		})
	}
}

func TestSizeConflictReportsLatest(t *testing.T) {
	ctx := context.Background()
	log := witnesstest.NewLog(t, "example.com/log")
	w, _ := newWitness(t, newMemStore(), log)
	_, err := w.AddCheckpoint(ctx, 3, log.Proof(3, 7), log.Checkpoint(7))
	var conflict *witness.SizeConflictError
	if !errors.As(err, &conflict) || conflict.Latest != 0 {
		t.Fatalf("fresh witness: err = %v, want a size conflict at 0", err)
	}
	if _, err := w.AddCheckpoint(ctx, 0, nil, log.Checkpoint(7)); err != nil {
		t.Fatal(err)
	}
	_, err = w.AddCheckpoint(ctx, 3, log.Proof(3, 9), log.Checkpoint(9))
	if !errors.As(err, &conflict) || conflict.Latest != 7 {
		t.Fatalf("err = %v, want a size conflict at 7", err)
	}
	// The log resends from the size it was told.
	if _, err := w.AddCheckpoint(ctx, conflict.Latest, log.Proof(7, 9), log.Checkpoint(9)); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyTree(t *testing.T) {
	ctx := context.Background()
	log := witnesstest.NewLog(t, "example.com/log")
	w, _ := newWitness(t, newMemStore(), log)
	if _, err := w.AddCheckpoint(ctx, 0, nil, log.Checkpoint(0)); err != nil {
		t.Fatalf("empty tree: %v", err)
	}
	if _, err := w.AddCheckpoint(ctx, 0, log.Proof(1, 4), log.Checkpoint(4)); !errors.Is(err, witness.ErrInconsistent) {
		t.Fatalf("non-empty proof from 0: err = %v, want ErrInconsistent", err)
	}
	if _, err := w.AddCheckpoint(ctx, 0, nil, log.Checkpoint(4)); err != nil {
		t.Fatal(err)
	}
}

// TestCosignatureVerifies checks the cosignature with the root package's
// verifier, with transparency-dev/formats' independent cosignature/v1
// verifier, and through a tlog-policy that requires the witness.
func TestCosignatureVerifies(t *testing.T) {
	ctx := context.Background()
	log := witnesstest.NewLog(t, "example.com/log")
	w, vkey := newWitness(t, newMemStore(), log)
	signed := log.Checkpoint(12)
	lines, err := w.AddCheckpoint(ctx, 0, nil, signed)
	if err != nil {
		t.Fatal(err)
	}
	cosigned := append(bytes.Clone(signed), lines...)

	ours, err := govlog.NewCosignatureVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := tdnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]note.Verifier{"govlog": ours, "transparency-dev/formats": theirs} {
		n, err := note.Open(cosigned, note.VerifierList(v))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(n.Sigs) != 1 {
			t.Errorf("%s: %d verified signatures, want 1", name, len(n.Sigs))
			continue
		}
		ts, err := tdnote.CoSigV1Timestamp(n.Sigs[0])
		if err != nil || ts.IsZero() || ts.Unix() == 0 {
			t.Errorf("%s: cosignature timestamp %v, %v; want a non-zero time", name, ts, err)
		}
	}

	policy, err := govlog.FormatPolicy([]string{log.VKey}, []govlog.PolicyWitness{{Name: "w1", VKey: vkey}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := govlog.ParsePolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	if _, names, err := p.Verify(cosigned); err != nil || len(names) != 1 {
		t.Errorf("policy.Verify = %v, %v; want cosigned by w1", names, err)
	}

	// The witness serves the same cosigned checkpoint.
	latest, ok, err := w.Latest(ctx, log.Origin)
	if err != nil || !ok || !bytes.Equal(latest, cosigned) {
		t.Errorf("Latest = %q, %v, %v; want %q", latest, ok, err, cosigned)
	}
}

// TestDropsOtherSignatures checks that signatures by unknown keys are ignored
// and not stored.
func TestDropsOtherSignatures(t *testing.T) {
	ctx := context.Background()
	log := witnesstest.NewLog(t, "example.com/log")
	w, _ := newWitness(t, newMemStore(), log)
	other, _ := newCosigner(t, "witness.example/other")
	n, err := note.Open(log.Checkpoint(3), note.VerifierList(log.Verifier))
	if err != nil {
		t.Fatal(err)
	}
	withOther, err := note.Sign(n, other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddCheckpoint(ctx, 0, nil, withOther); err != nil {
		t.Fatal(err)
	}
	latest, _, _ := w.Latest(ctx, log.Origin)
	if bytes.Contains(latest, []byte("witness.example/other")) {
		t.Errorf("stored checkpoint kept an unknown signature:\n%s", latest)
	}
}

// TestConcurrentNeverRollsBack sends many concurrent requests for sizes N
// and N+K; whatever order they land in, the witness's size only grows, and
// every size it cosigned is at most its final size.
func TestConcurrentNeverRollsBack(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) witness.Store{
		"mem": func(*testing.T) witness.Store { s := newMemStore(); s.yield = true; return s },
		"sqlite": func(t *testing.T) witness.Store {
			s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			const maxSize = 64
			log := witnesstest.NewLog(t, "example.com/log")
			log.Grow(maxSize)
			store := open(t)
			w, _ := newWitness(t, store, log)
			if _, err := w.AddCheckpoint(ctx, 0, nil, log.Checkpoint(10)); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			var watcher sync.WaitGroup
			watcher.Go(func() {
				var last uint64
				for {
					select {
					case <-stop:
						return
					default:
					}
					cp := latestSize(t, w, log)
					if cp < last {
						t.Errorf("witness rolled back from %d to %d", last, cp)
					}
					last = cp
				}
			})
			var maxCosigned atomic.Uint64
			var wg sync.WaitGroup
			for g := range 16 {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(g), 1))
					known := uint64(10)
					for range 20 {
						to := known + rng.Uint64N(maxSize-known+1)
						_, err := w.AddCheckpoint(ctx, known, log.Proof(known, to), log.Checkpoint(to))
						var conflict *witness.SizeConflictError
						switch {
						case errors.As(err, &conflict):
							known = conflict.Latest
						case err != nil:
							t.Errorf("AddCheckpoint(%d -> %d): %v", known, to, err)
							return
						default:
							known = to
							for {
								m := maxCosigned.Load()
								if to <= m || maxCosigned.CompareAndSwap(m, to) {
									break
								}
							}
						}
					}
				})
			}
			wg.Wait()
			close(stop)
			watcher.Wait()
			if got, want := latestSize(t, w, log), maxCosigned.Load(); got != want {
				t.Errorf("final size %d, but the witness cosigned size %d", got, want)
			}
		})
	}
}

func latestSize(t *testing.T, w *witness.Witness, log *testLog) uint64 {
	cp, ok, err := w.Latest(context.Background(), log.Origin)
	if err != nil || !ok {
		t.Errorf("Latest: %v, %v", ok, err)
		return 0
	}
	c, _, err := govlog.OpenCheckpoint(cp, log.Verifier)
	if err != nil {
		t.Errorf("stored checkpoint: %v", err)
	}
	return c.Size
}

// TestRestartKeepsLatest reopens the SQLite store: the witness remembers its
// size, and a log that forgot it learns it from a 409.
func TestRestartKeepsLatest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "witness.db")
	log := witnesstest.NewLog(t, "example.com/log")
	signer, _ := newCosigner(t, "witness.example/w1")

	s1, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	w1 := newWitnessWithKey(t, signer, s1, log)
	if _, err := w1.AddCheckpoint(ctx, 0, nil, log.Checkpoint(21)); err != nil {
		t.Fatal(err)
	}
	before, _, _ := w1.Latest(ctx, log.Origin)
	s1.Close()

	s2, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	w2 := newWitnessWithKey(t, signer, s2, log)
	after, ok, err := w2.Latest(ctx, log.Origin)
	if err != nil || !ok || !bytes.Equal(before, after) {
		t.Fatalf("after restart Latest = %q, %v, %v; want %q", after, ok, err, before)
	}
	_, err = w2.AddCheckpoint(ctx, 0, nil, log.Checkpoint(30))
	var conflict *witness.SizeConflictError
	if !errors.As(err, &conflict) || conflict.Latest != 21 {
		t.Fatalf("err = %v, want a size conflict at 21", err)
	}
	if _, err := w2.AddCheckpoint(ctx, 21, log.Proof(21, 30), log.Checkpoint(30)); err != nil {
		t.Fatal(err)
	}
}

// TestStoreFailures checks both failures of the store: a write that failed
// and did not happen, and one that failed but happened. In neither does the
// witness return a cosignature; in both the log recovers.
func TestStoreFailures(t *testing.T) {
	ctx := context.Background()
	log := witnesstest.NewLog(t, "example.com/log")
	errDisk := errors.New("disk on fire")

	t.Run("not persisted", func(t *testing.T) {
		s := newMemStore()
		w, _ := newWitness(t, s, log)
		s.failBefore = errDisk
		if lines, err := w.AddCheckpoint(ctx, 0, nil, log.Checkpoint(4)); !errors.Is(err, errDisk) || lines != nil {
			t.Fatalf("AddCheckpoint = %q, %v; want the store's error", lines, err)
		}
		s.failBefore = nil
		if _, err := w.AddCheckpoint(ctx, 0, nil, log.Checkpoint(4)); err != nil {
			t.Fatalf("retry: %v", err)
		}
	})
	t.Run("persisted", func(t *testing.T) {
		s := newMemStore()
		w, _ := newWitness(t, s, log)
		s.failAfter = errDisk
		if lines, err := w.AddCheckpoint(ctx, 0, nil, log.Checkpoint(4)); !errors.Is(err, errDisk) || lines != nil {
			t.Fatalf("AddCheckpoint = %q, %v; want the store's error", lines, err)
		}
		s.failAfter = nil
		// The log retries from 0, learns 4, and resends from 4.
		_, err := w.AddCheckpoint(ctx, 0, nil, log.Checkpoint(4))
		var conflict *witness.SizeConflictError
		if !errors.As(err, &conflict) || conflict.Latest != 4 {
			t.Fatalf("retry: err = %v, want a size conflict at 4", err)
		}
		if _, err := w.AddCheckpoint(ctx, 4, nil, log.Checkpoint(4)); err != nil {
			t.Fatalf("resend: %v", err)
		}
	})
}

// TestEquivocationInRequests: a log that sends the witness a checkpoint of
// its latest size with another root, or a proof showing another prefix,
// leaves evidence, and the witness cosigns nothing more for it, even after
// a restart.
func TestEquivocationInRequests(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name     string
		send     func(w *witness.Witness, a, b *testLog) error
		wantKind string
	}{
		{"same size", func(w *witness.Witness, a, b *testLog) error {
			_, err := w.AddCheckpoint(ctx, 7, nil, b.Checkpoint(7))
			return err
		}, witness.KindSameSize},
		{"prefix", func(w *witness.Witness, a, b *testLog) error {
			_, err := w.AddCheckpoint(ctx, 7, b.Proof(7, 11), b.Checkpoint(11))
			return err
		}, witness.KindPrefix},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := witnesstest.NewLog(t, "example.com/log")
			b := a.Fork(3, "B")
			s := newMemStore()
			w, _ := newWitness(t, s, a)
			if _, err := w.AddCheckpoint(ctx, 0, nil, a.Checkpoint(7)); err != nil {
				t.Fatal(err)
			}
			if err := tt.send(w, a, b); !errors.Is(err, witness.ErrInconsistent) {
				t.Fatalf("other branch: err = %v, want ErrInconsistent", err)
			}
			ev, err := w.Evidence(ctx)
			if err != nil || len(ev) != 1 {
				t.Fatalf("Evidence = %v, %v; want one", ev, err)
			}
			if ev[0].Kind != tt.wantKind || ev[0].Origin != a.Origin {
				t.Errorf("evidence kind %s origin %s, want %s %s", ev[0].Kind, ev[0].Origin, tt.wantKind, a.Origin)
			}
			if _, _, _, err := witness.VerifyEvidence(ev[0].File, a.Verifier); err != nil {
				t.Errorf("stored evidence doesn't verify: %v", err)
			}
			if !w.Frozen(a.Origin) {
				t.Errorf("log not frozen")
			}
			// Even the honest branch is refused now.
			if _, err := w.AddCheckpoint(ctx, 7, a.Proof(7, 9), a.Checkpoint(9)); !errors.Is(err, witness.ErrLogEquivocated) {
				t.Errorf("after evidence: err = %v, want ErrLogEquivocated", err)
			}
			w2, _ := newWitness(t, s, a)
			if _, err := w2.AddCheckpoint(ctx, 7, a.Proof(7, 9), a.Checkpoint(9)); !errors.Is(err, witness.ErrLogEquivocated) {
				t.Errorf("after restart: err = %v, want ErrLogEquivocated", err)
			}
		})
	}
}

// TestBadProofIsNotEvidence: a validly signed checkpoint with a garbage
// proof is refused but proves nothing, so the log is not frozen.
func TestBadProofIsNotEvidence(t *testing.T) {
	ctx := context.Background()
	log := witnesstest.NewLog(t, "example.com/log")
	w, _ := newWitness(t, newMemStore(), log)
	if _, err := w.AddCheckpoint(ctx, 0, nil, log.Checkpoint(7)); err != nil {
		t.Fatal(err)
	}
	garbage := log.Proof(7, 11)
	for i := range garbage {
		garbage[i][5] ^= 0xff
	}
	if _, err := w.AddCheckpoint(ctx, 7, garbage, log.Checkpoint(11)); !errors.Is(err, witness.ErrInconsistent) {
		t.Fatalf("err = %v, want ErrInconsistent", err)
	}
	if ev, _ := w.Evidence(ctx); len(ev) != 0 || w.Frozen(log.Origin) {
		t.Fatalf("a bad proof made evidence %v", ev)
	}
	if rejected, ok := w.Rejected(log.Origin); !ok || !strings.HasPrefix(string(rejected), "example.com/log\n11\n") {
		t.Errorf("Rejected = %q, %v; want the size-11 checkpoint", rejected, ok)
	}
	if _, err := w.AddCheckpoint(ctx, 7, log.Proof(7, 11), log.Checkpoint(11)); err != nil {
		t.Fatalf("with the right proof: %v", err)
	}
}

// TestMetricsSharedRegistry: several witnesses (govlog dev runs three) share
// one registry, and a witness restarted in the same process keeps counting.
func TestMetricsSharedRegistry(t *testing.T) {
	ctx := context.Background()
	log := witnesstest.NewLog(t, "example.com/log")
	reg := prometheus.NewRegistry()
	for _, name := range []string{"witness.example/w1", "witness.example/w2", "witness.example/w1"} {
		signer, _ := newCosigner(t, name)
		w, err := witness.New(ctx, witness.Options{Cosigner: signer, Logs: map[string]note.Verifier{log.Origin: log.Verifier}, Store: newMemStore(), Metrics: reg})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := w.AddCheckpoint(ctx, 0, nil, log.Checkpoint(3)); err != nil {
			t.Fatal(err)
		}
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "govlog_witness_cosigned_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "witness" {
					got[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	if got["witness.example/w1"] != 2 || got["witness.example/w2"] != 1 {
		t.Errorf("cosigned counters %v, want w1: 2, w2: 1", got)
	}
}
