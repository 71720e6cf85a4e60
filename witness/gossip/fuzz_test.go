package gossip_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
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

// peerAnswers is what the fuzzed peer serves: its latest checkpoint (with
// a status), its evidence list, in which "{id}" stands for the hex SHA-256
// of the evidence file (so the fuzzer's files get past the ID check and
// are parsed and verified), and that file, at any /evidence/<id>.
type peerAnswers struct {
	status     int
	checkpoint []byte
	list       []byte
	file       []byte
}

// peerStatuses are the statuses the fuzzer picks from for the checkpoint.
var peerStatuses = []int{200, 404, 500, 307, 400}

// peerTransport is a witness peer that answers whatever the fuzzer says,
// in process: an HTTP round trip per request would make each run cost
// milliseconds.
type peerTransport struct{ answers atomic.Pointer[peerAnswers] }

func (pt *peerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	a := pt.answers.Load()
	status, body := http.StatusNotFound, []byte("404 page not found\n")
	switch {
	case strings.HasSuffix(r.URL.Path, "/checkpoint"):
		status, body = a.status, a.checkpoint
	case r.URL.Path == "/evidence":
		sum := sha256.Sum256(a.file)
		status, body = http.StatusOK, bytes.ReplaceAll(a.list, []byte("{id}"), []byte(hex.EncodeToString(sum[:])))
	case strings.HasPrefix(r.URL.Path, "/evidence/"):
		status, body = http.StatusOK, a.file
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{},
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r,
	}, nil
}

// deterministicLog is a witnesstest log whose key comes from a fixed seed,
// so that a saved crasher (signed checkpoints among it) reproduces.
func deterministicLog(tb testing.TB, origin string) *witnesstest.Log {
	tb.Helper()
	l := witnesstest.NewLog(tb, origin)
	skey, vkey, err := note.GenerateKey(rand.NewChaCha8([32]byte{'g', 'o', 's', 's', 'i', 'p'}), origin)
	if err != nil {
		tb.Fatal(err)
	}
	if l.Signer, err = note.NewSigner(skey); err != nil {
		tb.Fatal(err)
	}
	if l.Verifier, err = note.NewVerifier(vkey); err != nil {
		tb.Fatal(err)
	}
	l.VKey = vkey
	return l
}

// newFuzzWitness is a witness, in memory, that has cosigned cp (if not
// nil), closed at the end of the test.
func newFuzzWitness(tb testing.TB, log *witnesstest.Log, cp []byte) *witness.Witness {
	tb.Helper()
	w, closeStore := openFuzzWitness(tb, log, cp)
	tb.Cleanup(closeStore)
	return w
}

// openFuzzWitness is newFuzzWitness with a function that closes its store.
func openFuzzWitness(tb testing.TB, log *witnesstest.Log, cp []byte) (*witness.Witness, func()) {
	tb.Helper()
	ctx := context.Background()
	skey, _, err := govlog.GenerateCosignerKey(rand.NewChaCha8([32]byte{'w'}), "witness.example/w1")
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := govlog.NewCosigner(skey, nil)
	if err != nil {
		tb.Fatal(err)
	}
	store, err := sqlstore.Open(ctx, sqlstore.Memory)
	if err != nil {
		tb.Fatal(err)
	}
	w, err := witness.New(ctx, witness.Options{Cosigner: signer, Logs: map[string]note.Verifier{log.Origin: log.Verifier}, Store: store})
	if err != nil {
		tb.Fatal(err)
	}
	if cp != nil {
		if _, err := w.AddCheckpoint(ctx, 0, nil, cp); err != nil {
			tb.Fatal(err)
		}
	}
	return w, func() { store.Close() }
}

// evidenceOf has a fresh witness cosign first, then be shown second (with
// proof), and returns its evidence list line (ID as "{id}") and file.
func evidenceOf(tb testing.TB, log *witnesstest.Log, first []byte, oldSize uint64, proof [][32]byte, second []byte) (list, file []byte) {
	tb.Helper()
	ctx := context.Background()
	w := newFuzzWitness(tb, log, first)
	if _, err := w.AddCheckpoint(ctx, oldSize, proof, second); err == nil {
		tb.Fatal("the other branch was cosigned")
	}
	ev, err := w.Evidence(ctx)
	if err != nil || len(ev) != 1 {
		tb.Fatalf("evidence: %v, %v", ev, err)
	}
	e := ev[0]
	return fmt.Appendf(nil, "{id} %s %s %s\n", e.Kind, e.Found.UTC().Format(time.RFC3339), e.Origin), e.File
}

// proofTable serves the consistency proofs of a log up to its size, all
// made beforehand: a witnesstest.Log reports to the testing.F that made
// it, which a fuzz function must not call.
type proofTable struct {
	origin string
	size   uint64
	proofs map[[2]uint64][][32]byte
}

func newProofTable(l *witnesstest.Log) *proofTable {
	pt := &proofTable{origin: l.Origin, size: l.Size(), proofs: map[[2]uint64][][32]byte{}}
	for from := range pt.size + 1 {
		for to := from; to <= pt.size; to++ {
			pt.proofs[[2]uint64{from, to}] = l.Proof(from, to)
		}
	}
	return pt
}

func (pt *proofTable) ConsistencyProof(_ context.Context, origin string, from, to uint64) ([][32]byte, error) {
	p, ok := pt.proofs[[2]uint64{from, to}]
	if origin != pt.origin || !ok {
		return nil, fmt.Errorf("no proof from %d to %d", from, to)
	}
	return p, nil
}

// FuzzPeerAnswers feeds a peer witness's answers (its latest checkpoint,
// its evidence list and an evidence file) to a witness's gossip. The
// witness has cosigned size 8 of an honest history A; the log key has also
// signed a second history B, forked after 3 leaves, which only the seeds
// carry. Whatever the peer answers: nothing panics, gossip never changes
// what the witness cosigned, and evidence is recorded only if it holds a
// checkpoint off history A (which only the log's key can sign) and
// verifies offline; a peer serving B's checkpoint at size 8, or a valid
// evidence file, always freezes the log.
func FuzzPeerAnswers(f *testing.F) {
	ctx := context.Background()
	a := deterministicLog(f, "example.com/log")
	b := a.Fork(3, "B")
	a.Grow(16)
	b.Grow(12)
	peer := &peerTransport{}
	peerClient := &http.Client{Transport: peer, Timeout: 10 * time.Second}

	sameList, sameFile := evidenceOf(f, a, a.Checkpoint(8), 8, nil, b.Checkpoint(8))
	prefixList, prefixFile := evidenceOf(f, a, a.Checkpoint(6), 6, b.Proof(6, 11), b.Checkpoint(11))
	forkCP := b.Checkpoint(8)
	ownCP := a.Checkpoint(8)
	proofs := newProofTable(a)
	rootsA := map[uint64][32]byte{}
	for n := range a.Size() + 1 {
		rootsA[n] = a.Root(n)
	}
	logKey := a.Verifier
	// One witness serves until it records evidence (gossip changes nothing
	// else, which each run checks), then a fresh one: a witness costs
	// milliseconds, which minimizing an input would pay per try.
	var (
		w          *witness.Witness
		closeStore func()
	)
	f.Cleanup(func() {
		if closeStore != nil {
			closeStore()
		}
	})
	cosigned := func(cp []byte) []byte { // with a witness's cosignature, as peers serve it
		w := newFuzzWitness(f, a, nil)
		cosig, err := w.AddCheckpoint(ctx, 0, nil, cp)
		if err != nil {
			f.Fatal(err)
		}
		return append(bytes.Clone(cp), cosig...)
	}
	for i, cp := range [][]byte{
		a.Checkpoint(8), cosigned(a.Checkpoint(8)), a.Checkpoint(12), cosigned(a.Checkpoint(12)), forkCP, cosigned(forkCP),
		b.Checkpoint(10), a.Checkpoint(5), append(a.Checkpoint(8), "— junk line\n"...), []byte("not a checkpoint\n"), nil,
	} {
		f.Add(uint8(0), cp, []byte(nil), []byte(nil))
		f.Add(uint8(i), cp, sameList, sameFile)
	}
	f.Add(uint8(1), []byte(nil), sameList, sameFile)
	f.Add(uint8(1), []byte(nil), prefixList, prefixFile)
	f.Add(uint8(1), []byte(nil), bytes.Replace(sameList, []byte("example.com/log"), []byte("example.com/other"), 1), sameFile)
	f.Add(uint8(1), []byte(nil), append(bytes.Clone(sameList), "x y\n"...), sameFile)
	f.Add(uint8(1), []byte(nil), []byte("{id} same-size not-a-time example.com/log\n"), sameFile)
	f.Add(uint8(1), []byte(nil), sameList, (&witness.Evidence{First: a.Checkpoint(5), Second: a.Checkpoint(9),
		Prefix: &witness.Prefix{Root: a.Root(4), Proof: a.Proof(5, 9)}}).Marshal())

	f.Fuzz(func(t *testing.T, st uint8, checkpoint, list, file []byte) {
		status := peerStatuses[int(st)%len(peerStatuses)]
		peer.answers.Store(&peerAnswers{status: status, checkpoint: checkpoint, list: list, file: file})
		if w == nil || w.Frozen(a.Origin) {
			if closeStore != nil {
				closeStore()
			}
			w, closeStore = openFuzzWitness(t, a, ownCP)
		}
		before, _, err := w.Latest(ctx, a.Origin)
		if err != nil {
			t.Fatal(err)
		}
		g, err := gossip.New(gossip.Options{Witness: w, Peers: []string{"http://peer.example"}, Proofs: proofs, HTTPClient: peerClient})
		if err != nil {
			t.Fatal(err)
		}
		found := g.Poll(ctx)

		after, _, err := w.Latest(ctx, a.Origin)
		if err != nil || !bytes.Equal(after, before) {
			t.Fatalf("gossip changed the witness's latest checkpoint (%v):\n%s\nto\n%s", err, before, after)
		}
		ev, err := w.Evidence(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if found != len(ev) || w.Frozen(a.Origin) != (len(ev) > 0) {
			t.Fatalf("Poll found %d, the witness holds %d evidence, frozen %v", found, len(ev), w.Frozen(a.Origin))
		}
		for _, e := range ev {
			_, first, second, err := witness.VerifyEvidence(e.File, logKey)
			if err != nil {
				t.Fatalf("recorded evidence does not verify: %v\n%s", err, e.File)
			}
			onA := func(cp govlog.Checkpoint) bool { r, ok := rootsA[cp.Size]; return ok && cp.Hash == r }
			if onA(first) && onA(second) {
				t.Fatalf("evidence against two checkpoints of the honest history (sizes %d and %d):\n%s", first.Size, second.Size, e.File)
			}
		}
		switch {
		case status == http.StatusOK && bytes.Equal(checkpoint, forkCP) && len(ev) == 0:
			t.Fatalf("the peer served the other history's checkpoint at the witness's size, and no evidence was recorded")
		case bytes.Equal(list, sameList) && bytes.Equal(file, sameFile) && len(ev) == 0,
			bytes.Equal(list, prefixList) && bytes.Equal(file, prefixFile) && len(ev) == 0:
			t.Fatalf("the peer served valid evidence, and none was recorded")
		}
	})
}
