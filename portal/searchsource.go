package portal

import (
	"context"
	"errors"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/search"
)

// SearchSource is the part of a Source a search index answers (Search and
// Entry), over a search.Service; a Source embeds it.
type SearchSource struct {
	Service *search.Service
}

func (s SearchSource) Search(ctx context.Context, q Query) (Page, error) {
	results, next, err := s.Service.Search(ctx, search.Query(q))
	if err != nil {
		return Page{}, searchError(err)
	}
	page := Page{Next: next, Results: make([]Result, len(results))}
	for i, r := range results {
		page.Results[i] = resultOf(r)
	}
	return page, nil
}

func (s SearchSource) Entry(ctx context.Context, log string, index uint64) (Entry, error) {
	r, rels, err := s.Service.Entry(ctx, log, index)
	if err != nil {
		return Entry{}, searchError(err)
	}
	e := Entry{Result: resultOf(r)}
	for _, rel := range rels {
		e.Relations = append(e.Relations, Relation(rel))
	}
	return e, nil
}

func resultOf(r search.Result) Result {
	return Result{Log: r.Log, Index: r.Index, LeafHash: Hash(r.LeafHash), Type: r.Type, Agency: r.Agency,
		Time: r.Time, Title: r.Title, Body: r.Body, Leaf: r.Leaf, Bundle: r.Bundle, Pending: r.Pending}
}

// searchError gives a search error the portal's sentinel for its cause.
func searchError(err error) error {
	for _, m := range []struct{ from, to error }{
		{search.ErrInvalidQuery, ErrInvalidQuery},
		{search.ErrUnknownLog, ErrUnknownLog},
		{search.ErrNotFound, ErrNotFound},
		{search.ErrNotYetReadable, ErrRetryLater},
	} {
		if errors.Is(err, m.from) {
			return SourceError(err, m.to)
		}
	}
	return err
}

// SourceError returns err with sentinel (ErrInvalidQuery, ErrNotFound, ...)
// among its causes and its text unchanged: what a Source returns for the
// API to answer with the sentinel's status.
func SourceError(err, sentinel error) error { return sourceError{err, sentinel} }

type sourceError struct{ err, sentinel error }

func (e sourceError) Error() string   { return e.err.Error() }
func (e sourceError) Unwrap() []error { return []error{e.err, e.sentinel} }

// LogInfoOf describes the log name, of origin, whose rules are d: its
// statement types, the ID kinds it is searched by and its queries. Its size
// and checkpoint are the caller's to set.
func LogInfoOf(name, origin string, d rule.Domain) LogInfo {
	info := LogInfo{Name: name, Origin: origin, Types: d.Types()}
	for _, t := range info.Types {
		info.TypeNames = append(info.TypeNames, t.Type)
	}
	if w, ok := d.(rule.Watcher); ok {
		info.IDKinds = w.WatchKinds()
	}
	if q, ok := d.(rule.QueryClient); ok {
		info.Queries = q.Queries()
	}
	return info
}
