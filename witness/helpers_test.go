package witness_test

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/witness"
	"github.com/govlog/govlog/witness/witnesstest"
)

// testLog is the log test double of witnesstest.
type testLog = witnesstest.Log

// newCosigner returns a witness key pair named name.
func newCosigner(t testing.TB, name string) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := govlog.GenerateCosignerKey(nil, name)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := govlog.NewCosigner(skey, nil)
	if err != nil {
		t.Fatal(err)
	}
	return signer, vkey
}

// newWitness returns a witness of logs on store, and its vkey.
func newWitness(t testing.TB, store witness.Store, logs ...*testLog) (*witness.Witness, string) {
	t.Helper()
	signer, vkey := newCosigner(t, "witness.example/w1")
	return newWitnessWithKey(t, signer, store, logs...), vkey
}

func newWitnessWithKey(t testing.TB, signer note.Signer, store witness.Store, logs ...*testLog) *witness.Witness {
	t.Helper()
	keys := map[string]note.Verifier{}
	for _, l := range logs {
		keys[l.Origin] = l.Verifier
	}
	w, err := witness.New(context.Background(), witness.Options{Cosigner: signer, Logs: keys, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// memStore is a witness.Store in memory with failure injection.
type memStore struct {
	mu       sync.Mutex
	latest   map[string][]byte
	evidence []witness.EvidenceRecord

	// failBefore makes Update fail without writing (fail-and-not-persisted).
	failBefore error
	// failAfter makes Update fail after writing (fail-but-persisted).
	failAfter error
	// yield widens the window between Update's read and its write.
	yield bool
}

var _ witness.Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{latest: map[string][]byte{}} }

func (s *memStore) Latest(_ context.Context, origin string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp, ok := s.latest[origin]
	return bytes.Clone(cp), ok, nil
}

func (s *memStore) Update(ctx context.Context, origin string, fn func([]byte) ([]byte, error)) error {
	for {
		old, ok, _ := s.Latest(ctx, origin)
		if s.yield {
			runtime.Gosched()
			time.Sleep(50 * time.Microsecond)
		}
		next, err := fn(old)
		if err != nil {
			return err
		}
		s.mu.Lock()
		cur, curOK := s.latest[origin]
		if curOK != ok || !bytes.Equal(cur, old) {
			s.mu.Unlock()
			continue
		}
		if s.failBefore != nil {
			s.mu.Unlock()
			return s.failBefore
		}
		s.latest[origin] = bytes.Clone(next)
		s.mu.Unlock()
		return s.failAfter
	}
}

func (s *memStore) AddEvidence(_ context.Context, e witness.EvidenceRecord) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, have := range s.evidence {
		if have.ID == e.ID {
			return false, nil
		}
	}
	s.evidence = append(s.evidence, e)
	return true, nil
}

func (s *memStore) Evidence(context.Context) ([]witness.EvidenceRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]witness.EvidenceRecord(nil), s.evidence...), nil
}
