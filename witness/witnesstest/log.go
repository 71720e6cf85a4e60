package witnesstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
)

// A Log is a log test double: it holds the real log key and a Merkle tree,
// and signs whatever its test asks, including a second history (Fork) to
// play a log that equivocates. It grows on demand: asking for a checkpoint
// or proof at a size appends leaves up to that size. It is a
// witness.ProofSource for its current tree. Safe for concurrent use.
type Log struct {
	// Origin is the log's origin and its key's name.
	Origin string
	// Signer is the log's key; Verifier and VKey its public key.
	Signer   note.Signer
	Verifier note.Verifier
	VKey     string

	t      testing.TB
	mu     *sync.Mutex // shared with forks
	label  string      // makes the leaves of different branches differ
	leaves [][]byte
	tree   *testonly.Tree
	signed map[uint64][]byte // checkpoints signed so far, by size
}

// NewLog returns an empty log with a new key named origin.
func NewLog(t testing.TB, origin string) *Log {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return &Log{
		Origin: origin, Signer: signer, Verifier: verifier, VKey: vkey,
		t: t, mu: new(sync.Mutex), label: "main",
		tree: testonly.New(rfc6962.DefaultHasher), signed: map[uint64][]byte{},
	}
}

// Grow appends leaves until the tree has size leaves, and returns l.
func (l *Log) Grow(size uint64) *Log {
	l.mu.Lock()
	defer l.mu.Unlock()
	for uint64(len(l.leaves)) < size {
		leaf := fmt.Appendf(nil, "%s leaf %d", l.label, len(l.leaves))
		l.leaves = append(l.leaves, leaf)
		l.tree.AppendData(leaf)
	}
	return l
}

// Size returns the number of leaves.
func (l *Log) Size() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint64(len(l.leaves))
}

// Fork returns the same log (same key) with a history that shares the first
// prefix leaves and then differs; label names the new branch's leaves.
func (l *Log) Fork(prefix uint64, label string) *Log {
	l.Grow(prefix)
	l.mu.Lock()
	defer l.mu.Unlock()
	f := *l
	f.label = label
	f.leaves = nil
	f.signed = map[uint64][]byte{}
	f.tree = testonly.New(rfc6962.DefaultHasher)
	for _, leaf := range l.leaves[:prefix] {
		f.leaves = append(f.leaves, leaf)
		f.tree.AppendData(leaf)
	}
	return &f
}

// Root returns the root at size.
func (l *Log) Root(size uint64) [32]byte {
	l.Grow(size)
	l.mu.Lock()
	defer l.mu.Unlock()
	return [32]byte(l.tree.HashAt(size))
}

// Checkpoint returns the tree head at size, signed by the log's key.
func (l *Log) Checkpoint(size uint64) []byte {
	l.t.Helper()
	root := l.Root(size)
	l.mu.Lock()
	defer l.mu.Unlock()
	if signed, ok := l.signed[size]; ok {
		return bytes.Clone(signed)
	}
	signed, err := govlog.SignCheckpoint(govlog.Checkpoint{Origin: l.Origin, Size: size, Hash: root}, l.Signer)
	if err != nil {
		l.t.Fatal(err)
	}
	l.signed[size] = signed
	return bytes.Clone(signed)
}

// Latest returns the checkpoint at the tree's current size.
func (l *Log) Latest() []byte { return l.Checkpoint(l.Size()) }

// Proof returns the consistency proof from size from to size to.
func (l *Log) Proof(from, to uint64) [][32]byte {
	l.t.Helper()
	l.Grow(to)
	l.mu.Lock()
	defer l.mu.Unlock()
	p, err := l.tree.ConsistencyProof(from, to)
	if err != nil {
		l.t.Fatal(err)
	}
	out := make([][32]byte, len(p))
	for i := range p {
		out[i] = [32]byte(p[i])
	}
	return out
}

// ConsistencyProof serves proofs within the current tree, as a log does.
func (l *Log) ConsistencyProof(_ context.Context, origin string, from, to uint64) ([][32]byte, error) {
	if origin != l.Origin || to > l.Size() || from > to {
		return nil, errors.New("no such proof")
	}
	return l.Proof(from, to), nil
}
