package funds_test

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/govlog/govlog/personalities/rule"
)

// memState is a rule.State in a map.
type memState map[string][]byte

var _ rule.State = memState(nil)

func (m memState) Get(_ context.Context, key string) ([]byte, bool, error) {
	v, ok := m[key]
	return slices.Clone(v), ok, nil
}

func (m memState) Put(_ context.Context, key string, value []byte) error {
	m[key] = slices.Clone(value)
	return nil
}

func (m memState) clone() memState { return maps.Clone(m) }

// overlay is the per-statement State the admission server hands a rule:
// reads fall through to base, writes stay in the overlay until commit.
type overlay struct {
	base   rule.State
	writes map[string][]byte
	puts   int
}

func newOverlay(base rule.State) *overlay {
	return &overlay{base: base, writes: map[string][]byte{}}
}

func (o *overlay) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if v, ok := o.writes[key]; ok {
		return slices.Clone(v), true, nil
	}
	return o.base.Get(ctx, key)
}

func (o *overlay) Put(_ context.Context, key string, value []byte) error {
	o.puts++
	o.writes[key] = slices.Clone(value)
	return nil
}

func (o *overlay) commit(ctx context.Context) error {
	for _, k := range slices.Sorted(maps.Keys(o.writes)) {
		if err := o.base.Put(ctx, k, o.writes[k]); err != nil {
			return err
		}
	}
	return nil
}

var errInjected = errors.New("injected storage failure")

// failingState fails the n-th Get or Put on demand, to check that storage
// failures come back as such and wrap none of the rule sentinels.
type failingState struct {
	memState
	failGetAt, failPutAt int // 1-based; 0: never
	gets, puts           int
}

func (f *failingState) Get(ctx context.Context, key string) ([]byte, bool, error) {
	f.gets++
	if f.gets == f.failGetAt {
		return nil, false, errInjected
	}
	return f.memState.Get(ctx, key)
}

func (f *failingState) Put(ctx context.Context, key string, value []byte) error {
	f.puts++
	if f.puts == f.failPutAt {
		return errInjected
	}
	return f.memState.Put(ctx, key, value)
}

// recordingState notes every key read, over a plain map.
type recordingState struct {
	memState
	read []string
}

func (s *recordingState) Get(ctx context.Context, k string) ([]byte, bool, error) {
	s.read = append(s.read, k)
	return s.memState.Get(ctx, k)
}
