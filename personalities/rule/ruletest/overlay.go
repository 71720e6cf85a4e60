package ruletest

import (
	"context"
	"fmt"
	"slices"

	"github.com/govlog/govlog/personalities/rule"
)

// Overlay is the state the admission server hands a domain for one
// statement: reads see the statement's own writes, then the state below;
// writes stay in the overlay, and reach the state below, in the order they
// were first made, only when Commit is called (if the statement is
// admitted).
type Overlay struct {
	base   rule.State
	writes map[string][]byte
	order  []string
	puts   int
}

var _ rule.State = (*Overlay)(nil)

// NewOverlay returns an empty overlay over base.
func NewOverlay(base rule.State) *Overlay {
	return &Overlay{base: base, writes: map[string][]byte{}}
}

// Get implements [rule.Reader].
func (o *Overlay) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if v, ok := o.writes[key]; ok {
		return slices.Clone(v), true, nil
	}
	return o.base.Get(ctx, key)
}

// Put implements [rule.State].
func (o *Overlay) Put(_ context.Context, key string, value []byte) error {
	o.puts++
	if _, ok := o.writes[key]; !ok {
		o.order = append(o.order, key)
	}
	o.writes[key] = slices.Clone(value)
	return nil
}

// Puts returns the number of Put calls made so far.
func (o *Overlay) Puts() int { return o.puts }

// Writes returns a copy of the writes held, the last value of each key.
func (o *Overlay) Writes() State {
	return State(o.writes).Clone()
}

// Commit writes the writes held to the state below, each key once, in the
// order they were first made.
func (o *Overlay) Commit(ctx context.Context) error {
	for _, k := range o.order {
		if err := o.base.Put(ctx, k, o.writes[k]); err != nil {
			return fmt.Errorf("couldn't commit %q: %w", k, err)
		}
	}
	return nil
}
