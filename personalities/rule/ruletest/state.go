package ruletest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/govlog/govlog/personalities/rule"
)

// State is a domain state in memory, a [rule.State] and [rule.Scanner]. It is
// a plain map so a test can also read it, and corrupt it, directly. Get and
// Scan hand out copies and Put keeps one, so no caller can change a value
// behind another's back. Make it with State{}: a nil State cannot be written.
type State map[string][]byte

var (
	_ rule.State   = State(nil)
	_ rule.Scanner = State(nil)
)

// Get implements [rule.Reader].
func (s State) Get(_ context.Context, key string) ([]byte, bool, error) {
	v, ok := s[key]
	return slices.Clone(v), ok, nil
}

// Put implements [rule.State].
func (s State) Put(_ context.Context, key string, value []byte) error {
	s[key] = slices.Clone(value)
	return nil
}

// Scan implements [rule.Scanner]. It refuses an empty prefix, which the
// contract rules out, so a domain that scans everything is caught in tests.
func (s State) Scan(_ context.Context, prefix string, fn func(key string, value []byte) error) error {
	if prefix == "" {
		return errors.New("ruletest: Scan with an empty prefix")
	}
	for _, k := range slices.Sorted(maps.Keys(s)) {
		if strings.HasPrefix(k, prefix) {
			if err := fn(k, slices.Clone(s[k])); err != nil {
				return err
			}
		}
	}
	return nil
}

// Clone returns a copy of s that shares no memory with it.
func (s State) Clone() State {
	c := make(State, len(s))
	for k, v := range s {
		c[k] = slices.Clone(v)
	}
	return c
}

// Equal reports whether a and b hold the same keys with the same bytes. A
// nil State equals an empty one.
func Equal(a, b State) bool {
	return maps.EqualFunc(a, b, func(x, y []byte) bool { return string(x) == string(y) })
}

// maxDiffLines bounds Diff's report, so a state that went wrong everywhere
// still gives a readable failure.
const maxDiffLines = 20

// Diff describes, key by key in key order, how got differs from want: ""
// if they are Equal.
func Diff(want, got State) string {
	keys := slices.Sorted(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	n := 0
	for _, k := range keys {
		w, inWant := want[k]
		g, inGot := got[k]
		if inWant && inGot && string(w) == string(g) {
			continue
		}
		if n++; n > maxDiffLines {
			continue
		}
		switch {
		case !inGot:
			fmt.Fprintf(&b, "%q: missing, want %s\n", k, showValue(w))
		case !inWant:
			fmt.Fprintf(&b, "%q: unexpected %s\n", k, showValue(g))
		default:
			fmt.Fprintf(&b, "%q:\n\tgot  %s\n\twant %s\n", k, showValue(g), showValue(w))
		}
	}
	if n > maxDiffLines {
		fmt.Fprintf(&b, "and %d more keys differ\n", n-maxDiffLines)
	}
	return b.String()
}

// showValue prints a value as text when it is text (JSON, usually), else as
// hex, cut to a length a reader takes in.
func showValue(v []byte) string {
	const max = 300
	more := ""
	if len(v) > max {
		v, more = v[:max], fmt.Sprintf("... (%d bytes)", len(v))
	}
	if utf8.Valid(v) {
		return fmt.Sprintf("%q%s", v, more)
	}
	return fmt.Sprintf("%x%s", v, more)
}

// ErrInjected is the storage failure a [Probe] injects.
var ErrInjected = errors.New("ruletest: injected storage failure")

// Probe wraps a state, counting and recording the calls made to it and
// failing them on demand, as a storage back-end fails: to check that a
// domain returns a storage failure as such, wrapping none of the rule
// sentinels, and that a domain reads only the keys it names (KeyReader).
type Probe struct {
	State rule.State
	// FailGet, if positive, makes the FailGet-th read (Get or Scan) and
	// every later one fail with ErrInjected: a broken transaction stays
	// broken. FailPut does the same for Puts.
	FailGet, FailPut int
	// Gets and Puts count the calls so far, failed ones included, and Read
	// lists the keys read, in order (a Scan adds its prefix).
	Gets, Puts int
	Read       []string
}

var (
	_ rule.State   = (*Probe)(nil)
	_ rule.Scanner = (*Probe)(nil)
)

// Get implements [rule.Reader].
func (p *Probe) Get(ctx context.Context, key string) ([]byte, bool, error) {
	p.Gets++
	p.Read = append(p.Read, key)
	if p.FailGet > 0 && p.Gets >= p.FailGet {
		return nil, false, fmt.Errorf("couldn't read %q: %w", key, ErrInjected)
	}
	return p.State.Get(ctx, key)
}

// Put implements [rule.State].
func (p *Probe) Put(ctx context.Context, key string, value []byte) error {
	p.Puts++
	if p.FailPut > 0 && p.Puts >= p.FailPut {
		return fmt.Errorf("couldn't write %q: %w", key, ErrInjected)
	}
	return p.State.Put(ctx, key, value)
}

// Scan implements [rule.Scanner] if the wrapped state does; it counts as one
// read.
func (p *Probe) Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error {
	p.Gets++
	p.Read = append(p.Read, prefix)
	if p.FailGet > 0 && p.Gets >= p.FailGet {
		return fmt.Errorf("couldn't scan %q: %w", prefix, ErrInjected)
	}
	sc, ok := p.State.(rule.Scanner)
	if !ok {
		return fmt.Errorf("ruletest: the probed %T is not a rule.Scanner", p.State)
	}
	return sc.Scan(ctx, prefix, fn)
}
