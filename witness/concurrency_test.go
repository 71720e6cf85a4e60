package witness_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/witness"
	"github.com/govlog/govlog/witness/sqlstore"
	"github.com/govlog/govlog/witness/witnesstest"
)

// concurrentStores are the stores the concurrency tests run on: the SQLite
// store, which group-commits, and the in-memory compare-and-swap store with
// a wide window between read and write.
var concurrentStores = map[string]func(t *testing.T) witness.Store{
	"sqlite": func(t *testing.T) witness.Store {
		s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	},
	"mem": func(*testing.T) witness.Store { s := newMemStore(); s.yield = true; return s },
}

// TestConcurrentManyLogs: several clients for each of many logs send
// growing checkpoints and replays of the latest at once, so the SQLite
// store's batches mix logs and hold several requests of one log. Every
// cosignature returned verifies; a size is never cosigned twice (a replay
// gets the very cosignature given first); each log ends at the largest
// size cosigned for it, holding the cosignature that was returned for it.
func TestConcurrentManyLogs(t *testing.T) {
	logs, clients, rounds := 12, 5, 15
	if raceEnabled {
		logs, rounds = 6, 8
	}
	for name, open := range concurrentStores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var all []*testLog
			for i := range logs {
				all = append(all, witnesstest.NewLog(t, fmt.Sprintf("example.com/log%02d", i)))
			}
			w, vkey := newWitness(t, open(t), all...)
			cosigV, err := govlog.NewCosignatureVerifier(vkey)
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			given := map[string]map[uint64][]byte{} // origin -> size -> cosignature
			for _, log := range all {
				given[log.Origin] = map[uint64][]byte{}
				log.Grow(uint64(clients*rounds*4 + 1))
			}
			var wg sync.WaitGroup
			for li, log := range all {
				for c := range clients {
					wg.Go(func() {
						rng := rand.New(rand.NewPCG(uint64(li), uint64(c)))
						known := uint64(0)
						for range rounds {
							to, proof := known+1+rng.Uint64N(4), [][32]byte(nil)
							if known > 0 && rng.IntN(5) == 0 {
								to = known // the latest again
							}
							if known > 0 {
								proof = log.Proof(known, to)
							}
							signed := log.Checkpoint(to)
							line, err := w.AddCheckpoint(ctx, known, proof, signed)
							var conflict *witness.SizeConflictError
							switch {
							case errors.As(err, &conflict):
								known = conflict.Latest
								continue
							case err != nil:
								t.Errorf("%s %d -> %d: %v", log.Origin, known, to, err)
								return
							}
							if _, err := note.Open(append(signed, line...), note.VerifierList(log.Verifier, cosigV)); err != nil {
								t.Errorf("%s size %d: cosignature doesn't verify: %v", log.Origin, to, err)
							}
							mu.Lock()
							if first, ok := given[log.Origin][to]; ok && !bytes.Equal(first, line) {
								t.Errorf("%s size %d cosigned twice:\n%s%s", log.Origin, to, first, line)
							}
							given[log.Origin][to] = line
							mu.Unlock()
							known = to
						}
					})
				}
			}
			wg.Wait()
			for _, log := range all {
				var top uint64
				for size := range given[log.Origin] {
					top = max(top, size)
				}
				stored, ok, err := w.Latest(ctx, log.Origin)
				if err != nil || !ok {
					t.Fatalf("%s: Latest: %v, %v", log.Origin, ok, err)
				}
				if want := append(log.Checkpoint(top), given[log.Origin][top]...); !bytes.Equal(stored, want) {
					t.Errorf("%s: stored\n%s\nwant the largest cosigned, size %d:\n%s", log.Origin, stored, top, want)
				}
			}
		})
	}
}

// TestConcurrentForksOneRootPerSize: a log that equivocates sends two
// checkpoints of one size with different roots, each from many clients at
// the same moment. Exactly one request is cosigned and every other gets
// 409; when the losing branch then asks from the winner's size, it is
// refused with evidence, and the log is frozen.
func TestConcurrentForksOneRootPerSize(t *testing.T) {
	rounds, clients := 8, 16
	if raceEnabled {
		rounds = 3
	}
	honest := witnesstest.NewLog(t, "example.com/log")
	fork := honest.Fork(4, "fork")
	for name, open := range concurrentStores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for r := range rounds {
				w, _ := newWitness(t, open(t), honest)
				if _, err := w.AddCheckpoint(ctx, 0, nil, honest.Checkpoint(4)); err != nil {
					t.Fatal(err)
				}
				// Not a power of two: a proof from it pins its root, which
				// makes the losing branch's second request evidence.
				size := uint64(5 + r%3)
				branches := []*testLog{honest, fork}
				start := make(chan struct{})
				won := make([]bool, clients)
				errs := make([]error, clients)
				var wg sync.WaitGroup
				for c := range clients {
					b := branches[c%2]
					wg.Go(func() {
						<-start
						_, errs[c] = w.AddCheckpoint(ctx, 4, b.Proof(4, size), b.Checkpoint(size))
						won[c] = errs[c] == nil
					})
				}
				close(start)
				wg.Wait()
				winner := -1
				for c := range clients {
					var conflict *witness.SizeConflictError
					switch {
					case won[c] && winner >= 0:
						t.Fatalf("round %d: clients %d and %d both cosigned size %d", r, winner, c, size)
					case won[c]:
						winner = c
					case !errors.As(errs[c], &conflict) || conflict.Latest != size:
						t.Errorf("round %d: client %d: %v, want 409 at %d", r, c, errs[c], size)
					}
				}
				if winner < 0 {
					t.Fatalf("round %d: no request cosigned", r)
				}
				winBranch, loseBranch := branches[winner%2], branches[1-winner%2]
				if got := latestSize(t, w, honest); got != size {
					t.Fatalf("round %d: witness holds size %d, want %d", r, got, size)
				}
				if stored, _, _ := w.Latest(ctx, honest.Origin); !bytes.HasPrefix(stored, winBranch.Checkpoint(size)) {
					t.Fatalf("round %d: the stored checkpoint is not the one cosigned", r)
				}
				// The losing branch, told the size, asks again from it.
				for range clients / 2 {
					wg.Go(func() {
						_, err := w.AddCheckpoint(ctx, size, loseBranch.Proof(size, size+2), loseBranch.Checkpoint(size+2))
						if !errors.Is(err, witness.ErrInconsistent) && !errors.Is(err, witness.ErrLogEquivocated) {
							t.Errorf("round %d: the losing branch from the winner's size: %v, want 422", r, err)
						}
					})
				}
				wg.Wait()
				if !w.Frozen(honest.Origin) {
					t.Errorf("round %d: log not frozen after a split view", r)
				}
				if ev, err := w.Evidence(ctx); err != nil || len(ev) != 1 {
					t.Errorf("round %d: evidence %v, %v; want one", r, ev, err)
				}
			}
		})
	}
}
