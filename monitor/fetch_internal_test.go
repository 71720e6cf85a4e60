package monitor

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/govlog/govlog/personalities/registry"
)

// countingReader serves entries of 100 bytes, ten per call, and counts calls.
type countingReader struct {
	mu    sync.Mutex
	calls int
	fail  error
}

func (r *countingReader) Checkpoint(context.Context, string) ([]byte, error) { return nil, nil }
func (r *countingReader) ConsistencyProof(context.Context, string, uint64, uint64) ([][]byte, error) {
	return nil, nil
}

func (r *countingReader) Entries(_ context.Context, _ string, start, count uint64) ([][]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		return nil, r.fail
	}
	out := make([][]byte, min(count, 10))
	for i := range out {
		out[i] = bytes.Repeat([]byte{'x'}, 100)
	}
	return out, nil
}

func (r *countingReader) callCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// TestFetchAheadBudget: the fetcher stays within its byte budget (plus the
// batch waiting for room), whatever fetchDepth allows, and resumes as the
// caller releases batches; cancelling stops it.
func TestFetchAheadBudget(t *testing.T) {
	reg, err := registry.New(registry.File{})
	if err != nil {
		t.Fatal(err)
	}
	r := &countingReader{}
	m := &Monitor{opts: Options{BatchSize: 10}, aheadBytes: 2500} // two 1,000-byte batches
	l := &Log{Name: "x", Origin: "example.org/x", Reader: r, Registry: reg}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	budget := semaphore.NewWeighted(m.aheadBytes)
	batches := m.fetchAhead(ctx, l, 0, 1000, budget)

	time.Sleep(100 * time.Millisecond)
	if got := r.callCount(); got != 3 {
		t.Fatalf("%d batches fetched before any was replayed, want 3 (two in the budget, one waiting for room)", got)
	}
	for range 3 {
		f := <-batches
		<-f.ready
		if f.err != nil || len(f.leaves) != 10 || f.weight != 1000 {
			t.Fatalf("batch: %d entries, weight %d, err %v", len(f.leaves), f.weight, f.err)
		}
		budget.Release(f.weight)
	}
	time.Sleep(100 * time.Millisecond)
	if got := r.callCount(); got != 6 {
		t.Errorf("%d batches fetched after three were replayed, want 6", got)
	}
	cancel()
	for range batches { // closed once the fetcher stops
	}
}

// TestFetchAheadError: a failed download is the last batch, with its error.
func TestFetchAheadError(t *testing.T) {
	reg, err := registry.New(registry.File{})
	if err != nil {
		t.Fatal(err)
	}
	r := &countingReader{fail: errors.New("connection reset")}
	m := &Monitor{opts: Options{BatchSize: 10}, aheadBytes: maxAheadBytes}
	l := &Log{Name: "x", Origin: "example.org/x", Reader: r, Registry: reg}
	var got []*fetched
	for f := range m.fetchAhead(context.Background(), l, 0, 100, semaphore.NewWeighted(m.aheadBytes)) {
		<-f.ready
		got = append(got, f)
	}
	if len(got) != 1 || got[0].err == nil {
		t.Fatalf("got %d batches (first err %v), want one with the error", len(got), got[0].err)
	}
}
