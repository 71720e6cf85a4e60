package hammer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog"
)

// CheckInput is what Check judges.
type CheckInput struct {
	API      API
	Policy   *govlog.Policy
	Receipts []*Receipt
	// Origins maps each log name to its origin.
	Origins map[string]string
	// Polled holds, per log, the checkpoints read one after the other.
	Polled map[string][][]byte
	// SeenAt, if set, returns when a checkpoint of log including index
	// was first seen (polled while the log was hammered, and after): a
	// promise is kept if its entry was in the log by the deadline, however
	// late the check looks for it. Nil: when the check finds it.
	SeenAt func(log string, index uint64) (time.Time, bool)
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// PollEvery is how often pending promises are looked for; 0: 500ms.
	PollEvery   time.Duration
	CallTimeout time.Duration
	Progress    io.Writer
}

// LogStats is one log's line of the final table.
type LogStats struct {
	Log              string
	Sent             int
	Admitted         int // fresh statements admitted (duplicates not counted)
	Duplicates       int // duplicate submissions answered as such
	Refused          map[codes.Code]int
	Conflicts        int // conflict pairs
	ConflictsOK      int // pairs with exactly one admitted
	PromisesChecked  int // promises found kept
	BundlesChecked   int // bundles verified
	Lost             int // promises not kept by their deadline
	CheckpointsSeen  int
	RefusedAbsent    int // refusals confirmed absent from the log
	UnknownOutcome   int // errors that leave the outcome unknown
	ConsistencyProof int // consistency proofs verified
}

// RefusedTotal is the number of refusals of all codes.
func (s *LogStats) RefusedTotal() int {
	n := 0
	for _, c := range s.Refused {
		n += c
	}
	return n
}

// Report is the outcome of a run's checks.
type Report struct {
	Logs     []*LogStats
	Problems []string
}

// OK reports whether nothing went wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Lost is the number of promises not kept.
func (r *Report) Lost() int {
	n := 0
	for _, s := range r.Logs {
		n += s.Lost
	}
	return n
}

type checker struct {
	in    CheckInput
	mu    sync.Mutex
	stats map[string]*LogStats
	probs []string
	cps   map[string][][]byte // every checkpoint seen, per log, any source
}

func (c *checker) problem(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.probs = append(c.probs, fmt.Sprintf(format, args...))
}

func (c *checker) stat(log string, f func(*LogStats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats[log]
	if s == nil {
		s = &LogStats{Log: log, Refused: map[codes.Code]int{}}
		c.stats[log] = s
	}
	f(s)
}

func (c *checker) sawCheckpoint(log string, signed []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cps[log] = append(c.cps[log], signed)
}

func (c *checker) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.in.CallTimeout)
}

// retrying calls f until it answers, asking again for up to unreachableFor
// while the server does not answer.
func (c *checker) retrying(ctx context.Context, f func(context.Context) error) error {
	start := time.Now()
	for {
		cctx, cancel := c.call(ctx)
		err := f(cctx)
		cancel()
		if !outcomeUnknown(err) || ctx.Err() != nil || time.Since(start) > unreachableFor {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(c.in.PollEvery):
		}
	}
}

func short(h [32]byte) string { return fmt.Sprintf("%x", h[:6]) }

// Check verifies every receipt, waiting for promises up to their
// deadlines, and every checkpoint seen.
func Check(ctx context.Context, in CheckInput) *Report {
	if in.Now == nil {
		in.Now = time.Now
	}
	if in.PollEvery <= 0 {
		in.PollEvery = 500 * time.Millisecond
	}
	if in.CallTimeout <= 0 {
		in.CallTimeout = time.Minute
	}
	c := &checker{in: in, stats: map[string]*LogStats{}, cps: map[string][][]byte{}}
	for _, l := range Logs {
		c.stat(l, func(*LogStats) {})
	}
	for l, cps := range in.Polled {
		c.cps[l] = append(c.cps[l], cps...)
	}

	var promised []*pendingPromise
	pairs := map[int][]*Receipt{}
	for _, r := range in.Receipts {
		c.stat(r.Log, func(s *LogStats) { s.Sent++ })
		if r.Kind == KindConflict {
			pairs[r.Pair] = append(pairs[r.Pair], r)
		}
		if r.Err != "" && r.Admitted() {
			c.problem("%s %s %s: %s", r.Log, r.Kind, short(r.LeafHash), r.Err)
		}
		switch {
		case r.Admitted():
			c.admitted(r, &promised)
		case isRefusal(r.Code):
			c.stat(r.Log, func(s *LogStats) { s.Refused[r.Code]++ })
			if r.Kind != KindConflict && r.WantCode != r.Code {
				c.problem("%s: a %s statement %s was refused with %s, want %s: %s", r.Log, r.Kind, short(r.LeafHash), r.Code, r.WantCode, r.Err)
			}
		default:
			c.stat(r.Log, func(s *LogStats) { s.Refused[r.Code]++; s.UnknownOutcome++ })
			c.problem("%s: a %s statement %s failed with %s, outcome unknown: %s", r.Log, r.Kind, short(r.LeafHash), r.Code, r.Err)
		}
	}
	for n, rs := range pairs {
		log := rs[0].Log
		won := 0
		for _, r := range rs {
			if r.Admitted() {
				won++
			}
		}
		c.stat(log, func(s *LogStats) {
			s.Conflicts++
			if won == 1 && len(rs) == 2 {
				s.ConflictsOK++
			}
		})
		if won != 1 || len(rs) != 2 {
			var what []string
			for _, r := range rs {
				what = append(what, fmt.Sprintf("%s %s", short(r.LeafHash), r.Code))
			}
			c.problem("%s: conflict pair %d had %d of %d admitted, want exactly 1 (%s)", log, n, won, len(rs), strings.Join(what, "; "))
		}
	}

	c.settlePromises(ctx, promised)
	c.checkRefusedAbsent(ctx)
	c.checkCheckpoints(ctx)

	rep := &Report{Problems: c.probs}
	for _, l := range Logs {
		rep.Logs = append(rep.Logs, c.stats[l])
	}
	return rep
}

type pendingPromise struct {
	r        *Receipt
	deadline time.Time
}

// admitted checks what can be checked at once of an admitted submission:
// the answer's kind, its bundle, or its promise's signature.
func (c *checker) admitted(r *Receipt, promised *[]*pendingPromise) {
	switch {
	case r.Kind == KindDuplicate:
		if !r.Duplicate {
			c.problem("%s: the same bytes as %s sent again were not answered as a duplicate", r.Log, short(r.LeafHash))
		}
		if r.DupOf == nil || r.DupOf.LeafHash != r.LeafHash {
			c.problem("%s: a duplicate's leaf hash %s is not its original's", r.Log, short(r.LeafHash))
		}
		if r.Duplicate {
			c.stat(r.Log, func(s *LogStats) { s.Duplicates++ })
			c.sameAnswer(r)
		}
	case r.Duplicate && r.Resent == 0:
		c.problem("%s: a fresh %s statement %s was answered as a duplicate", r.Log, r.Kind, short(r.LeafHash))
	default:
		// Fresh, or sent again after an unknown outcome and answered as
		// the duplicate of its own first sending: admitted once.
		c.stat(r.Log, func(s *LogStats) { s.Admitted++ })
		if r.Kind != KindConflict && r.WantCode != r.Code {
			c.problem("%s: a %s statement %s was admitted, want %s", r.Log, r.Kind, short(r.LeafHash), r.WantCode)
		}
	}
	if r.Wait {
		if _, err := c.verifyBundle(r.Log, r.Bundle, r.Signed, true, r.Index); err != nil {
			c.problem("%s: the bundle of %s %s: %v", r.Log, r.Kind, short(r.LeafHash), err)
			return
		}
		c.stat(r.Log, func(s *LogStats) { s.BundlesChecked++ })
		return
	}
	p, err := c.openPromise(r)
	if err != nil {
		c.problem("%s: the promise for %s %s: %v", r.Log, r.Kind, short(r.LeafHash), err)
		return
	}
	*promised = append(*promised, &pendingPromise{r: r, deadline: p.Deadline})
}

// sameAnswer checks that a duplicate got the first receipt again: the
// same index as its original's bundle, or the same deadline as its
// original's promise (an answer of the other kind has nothing to compare).
func (c *checker) sameAnswer(r *Receipt) {
	o := r.DupOf
	if o == nil || !o.Admitted() {
		return
	}
	switch {
	case r.Wait && o.Wait && r.Index != o.Index:
		c.problem("%s: a duplicate of %s was proved at index %d, its first submission at %d", r.Log, short(r.LeafHash), r.Index, o.Index)
	case !r.Wait && !o.Wait:
		p, err := c.openPromise(r)
		if err != nil {
			return // reported with the duplicate's own promise
		}
		first, err := c.openPromise(o)
		if err != nil {
			return // reported with the first submission
		}
		if !p.Deadline.Equal(first.Deadline) {
			c.problem("%s: a duplicate of %s was promised by %s, its first submission by %s", r.Log, short(r.LeafHash),
				p.Deadline.Format(time.RFC3339), first.Deadline.Format(time.RFC3339))
		}
	}
}

func (c *checker) openPromise(r *Receipt) (govlog.Promise, error) {
	origin := c.in.Origins[r.Log]
	var v note.Verifier
	for _, lv := range c.in.Policy.Logs() {
		if lv.Name() == origin {
			v = lv
		}
	}
	if v == nil {
		return govlog.Promise{}, fmt.Errorf("the policy has no key for %q", origin)
	}
	p, err := govlog.OpenPromise(r.Promise, v)
	if err != nil {
		return govlog.Promise{}, err
	}
	if p.LeafHash != r.LeafHash || p.Origin != origin {
		return govlog.Promise{}, fmt.Errorf("it promises %s in %s, not %s in %s", short(p.LeafHash), p.Origin, short(r.LeafHash), origin)
	}
	return p, nil
}

// verifyBundle checks a bundle under the policy, for the entry signed
// (and at index if withIndex), keeps its checkpoint, and returns the
// entry's index.
func (c *checker) verifyBundle(log string, bundle, signed []byte, withIndex bool, index uint64) (uint64, error) {
	vb, err := govlog.VerifyBundle(bundle, c.in.Policy)
	if err != nil {
		return 0, err
	}
	if !bytes.Equal(vb.Entry, signed) {
		return 0, fmt.Errorf("it proves another entry")
	}
	if withIndex && vb.Index != index {
		return 0, fmt.Errorf("it proves index %d, the answer said %d", vb.Index, index)
	}
	if vb.Checkpoint.Origin != c.in.Origins[log] {
		return 0, fmt.Errorf("its checkpoint is of %s, not %s", vb.Checkpoint.Origin, c.in.Origins[log])
	}
	b, err := govlog.ParseBundle(bundle)
	if err != nil {
		return 0, err
	}
	c.sawCheckpoint(log, b.Checkpoint)
	return vb.Index, nil
}

// settlePromises looks for every promised leaf until it is in the log, or
// its deadline passes: a loss.
func (c *checker) settlePromises(ctx context.Context, pending []*pendingPromise) {
	if len(pending) > 0 && c.in.Progress != nil {
		last := pending[0].deadline
		for _, p := range pending {
			if p.deadline.After(last) {
				last = p.deadline
			}
		}
		fmt.Fprintf(c.in.Progress, "hammer: %d promises to check, the last due %s\n", len(pending), last.Format(time.RFC3339))
	}
	for len(pending) > 0 {
		var mu sync.Mutex
		var next []*pendingPromise
		sem := make(chan struct{}, 16)
		var wg sync.WaitGroup
		for _, p := range pending {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				if !c.lookForPromise(ctx, p) {
					mu.Lock()
					next = append(next, p)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		pending = next
		if len(pending) == 0 || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(c.in.PollEvery):
		}
	}
	for _, p := range pending { // only when ctx ended
		c.problem("%s: the promise for %s was not checked: %v", p.r.Log, short(p.r.LeafHash), ctx.Err())
	}
}

// unreachableFor bounds how long a check keeps asking a server that does
// not answer (one restarting) before it reports that it could not check.
const unreachableFor = 2 * time.Minute

// lookForPromise reports whether p is settled: kept, lost, or not
// checkable.
func (c *checker) lookForPromise(ctx context.Context, p *pendingPromise) bool {
	r := p.r
	cctx, cancel := c.call(ctx)
	bundle, err := c.in.API.BundleByHash(cctx, r.Log, r.LeafHash)
	cancel()
	now := c.in.Now()
	if err == nil {
		index, err := c.verifyBundle(r.Log, bundle, r.Signed, false, 0)
		if err != nil {
			c.problem("%s: the bundle served for promised %s: %v", r.Log, short(r.LeafHash), err)
			return true
		}
		seen := now
		if c.in.SeenAt != nil {
			if at, ok := c.in.SeenAt(r.Log, index); ok && at.Before(seen) {
				seen = at
			}
		}
		if seen.After(p.deadline.Add(time.Second)) { // deadlines are whole seconds
			c.stat(r.Log, func(s *LogStats) { s.Lost++ })
			c.problem("%s: LOST: %s %s promised by %s was first seen in the log at %s", r.Log, r.Kind, short(r.LeafHash),
				p.deadline.Format(time.RFC3339), seen.Format(time.RFC3339))
			return true
		}
		c.stat(r.Log, func(s *LogStats) { s.PromisesChecked++ })
		return true
	}
	if outcomeUnknown(err) {
		// The server does not answer: no judgement yet.
		if now.After(p.deadline.Add(unreachableFor)) {
			c.problem("%s: the promise for %s could not be checked: %v", r.Log, short(r.LeafHash), err)
			return true
		}
		return false
	}
	if now.After(p.deadline.Add(time.Second)) {
		c.stat(r.Log, func(s *LogStats) { s.Lost++ })
		c.problem("%s: LOST: %s %s promised by %s is not in the log at %s (%v)", r.Log, r.Kind, short(r.LeafHash),
			p.deadline.Format(time.RFC3339), now.Format(time.RFC3339), err)
		return true
	}
	return false
}

// checkRefusedAbsent asks for every refused statement: the log must not
// have it.
func (c *checker) checkRefusedAbsent(ctx context.Context) {
	admitted := map[[32]byte]bool{}
	for _, r := range c.in.Receipts {
		if r.Admitted() {
			admitted[r.LeafHash] = true
		}
	}
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, r := range c.in.Receipts {
		if !isRefusal(r.Code) || admitted[r.LeafHash] {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := c.retrying(ctx, func(ctx context.Context) error {
				_, err := c.in.API.BundleByHash(ctx, r.Log, r.LeafHash)
				return err
			})
			switch status.Code(err) {
			case codes.NotFound:
				c.stat(r.Log, func(s *LogStats) { s.RefusedAbsent++ })
			case codes.OK:
				c.problem("%s: the refused %s statement %s (%s) is in the log", r.Log, r.Kind, short(r.LeafHash), r.Code)
			default:
				c.problem("%s: couldn't check the refused %s is absent: %v", r.Log, short(r.LeafHash), err)
			}
		}()
	}
	wg.Wait()
}

type seenCheckpoint struct {
	cp     govlog.Checkpoint
	signed []byte
}

// checkCheckpoints checks that the polled checkpoints only grew, that
// every checkpoint seen satisfies the policy (the log's key and the
// witnesses' quorum), that one size has one root, and that each is
// consistent with the next larger.
func (c *checker) checkCheckpoints(ctx context.Context) {
	for _, log := range Logs {
		var prev uint64
		for i, signed := range c.in.Polled[log] {
			cp, _, err := c.in.Policy.Verify(signed)
			if err != nil {
				continue // reported below
			}
			if i > 0 && cp.Size < prev {
				c.problem("%s: the checkpoint shrank from size %d to %d", log, prev, cp.Size)
			}
			prev = cp.Size
		}
		bySize := map[uint64]seenCheckpoint{}
		for _, signed := range c.cps[log] {
			cp, _, err := c.in.Policy.Verify(signed)
			if err != nil {
				c.problem("%s: a checkpoint seen does not satisfy the policy: %v", log, err)
				continue
			}
			if cp.Origin != c.in.Origins[log] {
				c.problem("%s: a checkpoint of %s", log, cp.Origin)
				continue
			}
			if old, ok := bySize[cp.Size]; ok {
				if old.cp.Hash != cp.Hash {
					c.problem("%s: two checkpoints of size %d with different roots (a fork):\n%s\n%s", log, cp.Size, old.signed, signed)
				}
				continue
			}
			bySize[cp.Size] = seenCheckpoint{cp, signed}
		}
		sizes := make([]uint64, 0, len(bySize))
		for s := range bySize {
			sizes = append(sizes, s)
		}
		sort.Slice(sizes, func(i, j int) bool { return sizes[i] < sizes[j] })
		c.stat(log, func(s *LogStats) { s.CheckpointsSeen = len(sizes) })
		sem := make(chan struct{}, 8)
		var wg sync.WaitGroup
		for i := 1; i < len(sizes); i++ {
			a, b := bySize[sizes[i-1]].cp, bySize[sizes[i]].cp
			if a.Size == 0 {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				var hashes [][]byte
				err := c.retrying(ctx, func(ctx context.Context) (err error) {
					hashes, err = c.in.API.ConsistencyProof(ctx, log, a.Size, b.Size)
					return err
				})
				if err != nil {
					c.problem("%s: no consistency proof from %d to %d: %v", log, a.Size, b.Size, err)
					return
				}
				if err := proof.VerifyConsistency(rfc6962.DefaultHasher, a.Size, b.Size, hashes, a.Hash[:], b.Hash[:]); err != nil {
					c.problem("%s: the checkpoint at %d is NOT consistent with the one at %d: %v", log, b.Size, a.Size, err)
					return
				}
				c.stat(log, func(s *LogStats) { s.ConsistencyProof++ })
			}()
		}
		wg.Wait()
	}
}

// WriteTable writes the final table.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "%-12s %6s %8s %5s %7s %9s %8s %7s %4s %5s  %s\n",
		"log", "sent", "admitted", "dups", "refused", "conflicts", "promises", "bundles", "lost", "cps", "refused by code")
	var t LogStats
	t.Refused = map[codes.Code]int{}
	row := func(s *LogStats) {
		fmt.Fprintf(w, "%-12s %6d %8d %5d %7d %5d/%-3d %8d %7d %4d %5d  %s\n",
			s.Log, s.Sent, s.Admitted, s.Duplicates, s.RefusedTotal(), s.ConflictsOK, s.Conflicts,
			s.PromisesChecked, s.BundlesChecked, s.Lost, s.CheckpointsSeen, formatCodes(s.Refused))
	}
	for _, s := range r.Logs {
		row(s)
		t.Sent += s.Sent
		t.Admitted += s.Admitted
		t.Duplicates += s.Duplicates
		t.Conflicts += s.Conflicts
		t.ConflictsOK += s.ConflictsOK
		t.PromisesChecked += s.PromisesChecked
		t.BundlesChecked += s.BundlesChecked
		t.Lost += s.Lost
		t.CheckpointsSeen += s.CheckpointsSeen
		for c, n := range s.Refused {
			t.Refused[c] += n
		}
	}
	t.Log = "TOTAL"
	row(&t)
	fmt.Fprintln(w, "conflicts: pairs with exactly one admitted / pairs; cps: distinct checkpoint sizes seen, each consistent with the previous")
}
