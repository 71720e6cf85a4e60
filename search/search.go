package search

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bounds of a search.
const (
	// DefaultLimit is the page size when a query sets none.
	DefaultLimit = 20
	// MaxLimit is the largest page a query may ask for.
	MaxLimit = 100
	// MaxWords caps the word terms of one query.
	MaxWords = 16
	// maxExamined caps the entries one page looks at: a page of a query
	// whose criteria rarely meet may hold fewer than Limit results, and
	// its Next goes on from where it stopped.
	maxExamined = 5000
	// maxTimeLists caps the year, month and day lists a time range is
	// read from; a longer range (or an open one) is checked entry by
	// entry instead.
	maxTimeLists = 96
)

// ErrInvalidQuery: a query's parameter is malformed or out of bounds.
var ErrInvalidQuery = errors.New("invalid search")

// Reader reads a log's committed state: storage.ReadTx.
type Reader interface {
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Scan calls fn with every key beginning with prefix, in ascending
	// order, until fn returns an error, which Scan returns.
	Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error
}

// Query is a search of one log's index; its fields are those of
// portal.Query (the portal's adapter converts one to the other).
type Query struct {
	Log                      string
	Agency, Type, ID, SHA256 string
	From, To                 time.Time
	Words                    []string
	Limit                    int
	Cursor                   string
}

// Hit is one entry a search found.
type Hit struct {
	Index uint64
	Summary
}

// plan is a checked query: the lists to read and what to check of each
// entry read from them.
type plan struct {
	// drive are the lists read; an entry is in at most one of them.
	drive []driveList
	// terms are the terms an entry must have, the driving one's list
	// first once Find ordered them (see order).
	terms    []Term
	from, to time.Time
	limit    int
	// before: only entries below it (the cursor), if set.
	before    uint64
	hasBefore bool
}

// driveList is one list a search reads.
type driveList struct {
	prefix string
	// checkTime: its entries may lie outside the query's time range.
	checkTime bool
}

// candidate is an entry that passed a search's checks; its summary is
// read only if it makes the page.
type candidate struct {
	index uint64
	sum   *Summary
}

// Find returns the entries that meet every criterion of q, newest first,
// up to q.Limit, and the cursor of the next page ("" when there is none).
// A page may hold fewer than Limit entries and still have a next one (see
// maxExamined).
func Find(ctx context.Context, r Reader, q Query) ([]Hit, string, error) {
	p, err := planOf(q)
	if err != nil {
		return nil, "", err
	}
	if p.hasBefore && p.before == 0 {
		return nil, "", nil
	}
	if err := p.order(ctx, r); err != nil {
		return nil, "", err
	}
	var found []candidate
	// bound: every entry at or above it, in every list, was examined.
	bound, bounded := uint64(0), false
	budget := max(maxExamined/len(p.drive), p.limit+1)
	for _, list := range p.drive {
		c, stop, stopped, err := p.read(ctx, r, list, budget)
		if err != nil {
			return nil, "", err
		}
		found = append(found, c...)
		if stopped && (!bounded || stop > bound) {
			bound, bounded = stop, true
		}
	}
	if bounded {
		found = slices.DeleteFunc(found, func(c candidate) bool { return c.index < bound })
	}
	slices.SortFunc(found, func(a, b candidate) int { return cmp.Compare(b.index, a.index) })
	found = slices.CompactFunc(found, func(a, b candidate) bool { return a.index == b.index })
	var next uint64
	switch {
	case len(found) > p.limit:
		found = found[:p.limit]
		next = found[len(found)-1].index
	case bounded:
		next = bound
	}
	hits := make([]Hit, len(found))
	for i, c := range found {
		if c.sum == nil {
			if c.sum, err = summaryAt(ctx, r, c.index); err != nil {
				return nil, "", err
			}
		}
		hits[i] = Hit{Index: c.index, Summary: *c.sum}
	}
	if next == 0 {
		return hits, "", nil
	}
	return hits, strconv.FormatUint(next, 10), nil
}

// sampleSize is how many keys of each term's list order reads.
const sampleSize = 256

// order makes the sparsest term's list the one read, and checks the
// others sparsest first, so that an entry read fails its checks early.
// A list's density is judged from its first sampleSize keys below the
// cursor: how far back they reach (one read each, cheap beside reading a
// dense list when a sparse one would do).
func (p *plan) order(ctx context.Context, r Reader) error {
	if len(p.terms) == 0 {
		return nil
	}
	if len(p.terms) > 1 {
		type sample struct {
			n           int
			first, last uint64
		}
		samples := make(map[Term]sample, len(p.terms))
		var top uint64
		for _, t := range p.terms {
			var s sample
			err := scanBelow(ctx, r, listPrefix(t), p.before, p.hasBefore, func(index uint64, _ []byte) error {
				if s.n == 0 {
					s.first = index
				}
				s.n, s.last = s.n+1, index
				if s.n == sampleSize {
					return errStop
				}
				return nil
			})
			if err != nil && !errors.Is(err, errStop) {
				return err
			}
			if s.n < sampleSize {
				s.last = 0 // the whole list
			}
			samples[t] = s
			top = max(top, s.first)
		}
		if p.hasBefore {
			top = p.before - 1
		}
		density := func(t Term) float64 {
			s := samples[t]
			return float64(s.n) / float64(top-min(s.last, top)+1)
		}
		slices.SortStableFunc(p.terms, func(a, b Term) int { return cmp.Compare(density(a), density(b)) })
	}
	p.drive = []driveList{{prefix: listPrefix(p.terms[0]), checkTime: !p.from.IsZero() || !p.to.IsZero()}}
	return nil
}

// errStop ends a scan early.
var errStop = errors.New("stop")

// read reads list from the cursor down, returning up to limit+1 entries
// that pass the checks. stopped says it stopped before the list's end,
// having examined the entries from the cursor down to stop.
func (p *plan) read(ctx context.Context, r Reader, list driveList, budget int) (found []candidate, stop uint64, stopped bool, err error) {
	if len(p.terms) > 1 {
		return p.readChunks(ctx, r, list, budget)
	}
	examined := 0
	err = scanBelow(ctx, r, list.prefix, p.before, p.hasBefore, func(index uint64, value []byte) error {
		examined++
		c, ok, err := p.match(ctx, r, list, index, value)
		if err != nil {
			return err
		}
		if ok {
			found = append(found, c)
		}
		if len(found) > p.limit || examined >= budget {
			stop, stopped = index, true
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return found, stop, stopped, err
}

// checkChunk is how many entries of the list read readChunks checks at a
// time.
const checkChunk = 128

// readChunks is read for a search of several terms: it takes the list's
// entries checkChunk at a time, and keeps those that every other term's
// list holds, reading each of those lists over the chunk's span (a few
// range reads) instead of each entry's key (a read per entry and term).
func (p *plan) readChunks(ctx context.Context, r Reader, list driveList, budget int) (found []candidate, stop uint64, stopped bool, err error) {
	before, hasBefore := p.before, p.hasBefore
	examined := 0
	for {
		var chunk []uint64
		err := scanBelow(ctx, r, list.prefix, before, hasBefore, func(index uint64, _ []byte) error {
			chunk = append(chunk, index)
			if len(chunk) == checkChunk {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return nil, 0, false, err
		}
		alive := make(map[uint64]bool, len(chunk))
		for _, i := range chunk {
			alive[i] = true
		}
		for _, t := range p.terms[1:] {
			if len(alive) == 0 || len(chunk) == 0 {
				break
			}
			held := make(map[uint64]bool, len(alive))
			err := scanRange(ctx, r, listPrefix(t), chunk[len(chunk)-1], chunk[0], func(index uint64, _ []byte) error {
				if alive[index] {
					held[index] = true
				}
				return nil
			})
			if err != nil {
				return nil, 0, false, err
			}
			alive = held
		}
		for _, index := range chunk {
			examined++
			if alive[index] {
				c := candidate{index: index}
				if list.checkTime {
					if c.sum, err = summaryAt(ctx, r, index); err != nil {
						return nil, 0, false, err
					}
				}
				if !list.checkTime || p.inRange(c.sum.Time) {
					found = append(found, c)
				}
			}
			if len(found) > p.limit || examined >= budget {
				return found, index, true, nil
			}
		}
		if len(chunk) < checkChunk {
			return found, 0, false, nil
		}
		before, hasBefore = chunk[len(chunk)-1], true
	}
}

func (p *plan) inRange(t time.Time) bool {
	return (p.from.IsZero() || !t.Before(p.from)) && (p.to.IsZero() || !t.After(p.to))
}

// match checks the entry at index, read from list (with value, the
// summary when list is the list of all entries).
func (p *plan) match(ctx context.Context, r Reader, list driveList, index uint64, value []byte) (candidate, bool, error) {
	checks := p.terms
	if len(checks) > 0 {
		checks = checks[1:] // the first is list's own
	}
	start := blockStart(index)
	for _, t := range checks {
		v, _, err := r.Get(ctx, listPrefix(t)+position(start))
		if err != nil || bytes.IndexByte(v, byte(index-start)) < 0 {
			return candidate{}, false, err
		}
	}
	c := candidate{index: index}
	var err error
	switch {
	case list.prefix == entryPrefix:
		var s Summary
		if s, err = parseSummary(index, value); err != nil {
			return candidate{}, false, err
		}
		c.sum = &s
	case list.checkTime:
		if c.sum, err = summaryAt(ctx, r, index); err != nil {
			return candidate{}, false, err
		}
	}
	if list.checkTime && !p.inRange(c.sum.Time) {
		return candidate{}, false, nil
	}
	return c, true, nil
}

// summaryAt reads the summary of the entry at index, which the index
// holds (a list named it).
func summaryAt(ctx context.Context, r Reader, index uint64) (*Summary, error) {
	v, ok, err := r.Get(ctx, entryPrefix+position(index))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("search index: entry %d is listed without its summary", index)
	}
	s, err := parseSummary(index, v)
	return &s, err
}

// isBlocks says whether list is a term's list, of blocks (see blockSize),
// rather than the list of every entry.
func isBlocks(list string) bool { return strings.HasPrefix(list, blockPrefix) }

// visit calls fn with each entry the key of list holds (a block's entries,
// or one entry and its summary), from hi down to lo.
func visit(list, key string, value []byte, lo, hi uint64, fn func(index uint64, value []byte) error) error {
	base, ok := parsePosition(key[len(list):])
	if !ok {
		return fmt.Errorf("search index: malformed key %q", key)
	}
	if !isBlocks(list) {
		if base < lo || base > hi {
			return nil
		}
		return fn(base, value)
	}
	for i := len(value) - 1; i >= 0; i-- {
		index := base + uint64(value[i])
		if index > hi {
			continue
		}
		if index < lo {
			break
		}
		if err := fn(index, nil); err != nil {
			return err
		}
	}
	return nil
}

// scanBelow calls fn with each entry of list (a key prefix followed by
// positions), newest first, only those below before if hasBefore.
//
// A state scan reads a whole prefix from its start, so the keys below
// before are read as the few prefixes that together hold exactly the
// positions above before's: for each digit of before's position, from
// the last, the same digits up to it and a larger one there. A block
// holding before and older entries is keyed by its first index, below
// before, so it is read too.
func scanBelow(ctx context.Context, r Reader, list string, before uint64, hasBefore bool, fn func(index uint64, value []byte) error) error {
	hi := uint64(math.MaxUint64)
	if hasBefore {
		hi = before - 1
	}
	each := func(key string, value []byte) error { return visit(list, key, value, 0, hi, fn) }
	if !hasBefore {
		return r.Scan(ctx, list, each)
	}
	lo, top := position(before), position(0)
	for i := positionLen - 1; i >= 0; i-- {
		for d := lo[i] + 1; d <= '9'; d++ {
			// Past the largest position (index 0), nothing.
			if lo[:i] == top[:i] && d > top[i] {
				break
			}
			if err := r.Scan(ctx, list+lo[:i]+string(d), each); err != nil {
				return err
			}
		}
	}
	return nil
}

// scanRange calls fn with each entry of list from index hi down to lo
// (both included), newest first: the prefixes that together hold exactly
// the positions of the keys from hi's to lo's (lo's block's, for a list of
// blocks), read in ascending order.
func scanRange(ctx context.Context, r Reader, list string, lo, hi uint64, fn func(index uint64, value []byte) error) error {
	each := func(key string, value []byte) error { return visit(list, key, value, lo, hi, fn) }
	keyLo := lo
	if isBlocks(list) {
		keyLo = blockStart(lo)
	}
	a, b := position(hi), position(keyLo) // a <= b
	if a == b {
		return r.Scan(ctx, list+a, each)
	}
	k := 0
	for a[k] == b[k] {
		k++
	}
	// From a to the end of the block a[:k+1]: a itself, then the larger
	// positions sharing ever shorter prefixes with it.
	if err := r.Scan(ctx, list+a, each); err != nil {
		return err
	}
	for i := positionLen - 1; i > k; i-- {
		for d := a[i] + 1; d <= '9'; d++ {
			if err := r.Scan(ctx, list+a[:i]+string(d), each); err != nil {
				return err
			}
		}
	}
	// The whole blocks between.
	for d := a[k] + 1; d < b[k]; d++ {
		if err := r.Scan(ctx, list+a[:k]+string(d), each); err != nil {
			return err
		}
	}
	// From the start of the block b[:k+1] to b: the smaller positions
	// sharing ever longer prefixes with b, then b itself.
	for i := k + 1; i < positionLen; i++ {
		for d := byte('0'); d < b[i]; d++ {
			if err := r.Scan(ctx, list+b[:i]+string(d), each); err != nil {
				return err
			}
		}
	}
	return r.Scan(ctx, list+b, each)
}

// planOf checks q and decides how to answer it: the terms an entry must
// have (Find reads the sparsest one's list), else the time range's lists,
// else every entry.
func planOf(q Query) (*plan, error) {
	p := &plan{from: q.From, to: q.To, limit: q.Limit}
	switch {
	case q.Limit == 0:
		p.limit = DefaultLimit
	case q.Limit < 0 || q.Limit > MaxLimit:
		return nil, fmt.Errorf("%w: limit %d, it must be 1 to %d", ErrInvalidQuery, q.Limit, MaxLimit)
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return nil, fmt.Errorf("%w: the time range ends (%s) before it starts (%s)", ErrInvalidQuery, q.To.Format(time.RFC3339), q.From.Format(time.RFC3339))
	}
	if q.Cursor != "" {
		n, err := strconv.ParseUint(q.Cursor, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: cursor %.32q is not one a search returned", ErrInvalidQuery, q.Cursor)
		}
		p.before, p.hasBefore = n, true
	}
	var terms []Term // in the order of their usual selectivity, for ties
	if q.SHA256 != "" {
		if !isHex64(q.SHA256) {
			return nil, fmt.Errorf("%w: sha256 %.80q is not 64 hex digits", ErrInvalidQuery, q.SHA256)
		}
		terms = append(terms, Term{KindSHA256, normalize(q.SHA256)})
	}
	if q.ID != "" {
		terms = append(terms, Term{KindID, normalize(q.ID)})
	}
	var words []string
	for _, w := range q.Words {
		words = append(words, QueryWords(w)...)
	}
	if len(words) > MaxWords {
		return nil, fmt.Errorf("%w: %d words, at most %d", ErrInvalidQuery, len(words), MaxWords)
	}
	// A longer word is usually the rarer.
	slices.SortStableFunc(words, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, w := range slices.Compact(words) {
		terms = append(terms, Term{KindWord, normalize(w)})
	}
	if q.Agency != "" {
		terms = append(terms, Term{KindAgency, normalize(q.Agency)})
	}
	if q.Type != "" {
		terms = append(terms, Term{KindType, normalize(q.Type)})
	}
	if len(terms) > 0 {
		p.terms = terms // Find orders them
		return p, nil
	}
	if lists, ok := timeLists(q.From, q.To); ok {
		p.drive = lists
		return p, nil
	}
	p.drive = []driveList{{prefix: entryPrefix, checkTime: !q.From.IsZero() || !q.To.IsZero()}}
	return p, nil
}

// timeLists returns the year, month and day lists that together hold
// exactly the entries dated in the UTC days from..to, or false when the
// range is open or needs more than maxTimeLists. Only the lists of the
// range's first and last days hold entries outside it.
func timeLists(from, to time.Time) ([]driveList, bool) {
	if from.IsZero() || to.IsZero() {
		return nil, false
	}
	day := func(t time.Time) time.Time {
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	last := day(to)
	var lists []driveList
	for d := day(from); !d.After(last); {
		var t Term
		begin := d
		switch {
		case d.YearDay() == 1 && !d.AddDate(1, 0, -1).After(last):
			t, d = Term{KindYear, d.Format("2006")}, d.AddDate(1, 0, 0)
		case d.Day() == 1 && !d.AddDate(0, 1, -1).After(last):
			t, d = Term{KindMonth, d.Format("2006-01")}, d.AddDate(0, 1, 0)
		default:
			t, d = Term{KindDay, d.Format("2006-01-02")}, d.AddDate(0, 0, 1)
		}
		if len(lists) == maxTimeLists {
			return nil, false
		}
		// d is now the end of the list's span (exclusive).
		inside := !begin.Before(from) && !d.Add(-time.Nanosecond).After(to)
		lists = append(lists, driveList{prefix: listPrefix(t), checkTime: !inside})
	}
	return lists, true
}
