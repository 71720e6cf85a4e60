package main

import (
	"context"
	"errors"
	"maps"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/portal"
	"github.com/govlog/govlog/search"
	"github.com/govlog/govlog/storage"
)

// portalSource is what the portal reads of a node: its logs, the search
// index in their state, and the admission server's domain queries.
type portalSource struct {
	ps     map[string]personalities.Personality
	search *search.Service
	srv    api.LogServer
}

var _ portal.Source = (*portalSource)(nil)

func newPortalSource(store, index storage.AdmissionStore, ps map[string]personalities.Personality, srv api.LogServer) *portalSource {
	logs := map[string]search.Source{}
	for name, p := range ps {
		logs[name] = search.Source{Log: p.Log, Domain: p.Domain}
	}
	return &portalSource{ps: ps, search: search.NewService(store, index, logs), srv: srv}
}

func (s *portalSource) Logs(ctx context.Context) ([]portal.LogInfo, error) {
	var out []portal.LogInfo
	for _, name := range slices.Sorted(maps.Keys(s.ps)) {
		p := s.ps[name]
		signed, cp := p.Log.Checkpoint()
		info := portal.LogInfo{Name: name, Origin: p.Log.Origin(), Size: cp.Size, Checkpoint: signed, Types: p.Domain.Types()}
		for _, t := range info.Types {
			info.TypeNames = append(info.TypeNames, t.Type)
		}
		if w, ok := p.Domain.(rule.Watcher); ok {
			info.IDKinds = w.WatchKinds()
		}
		if q, ok := p.Domain.(rule.QueryClient); ok {
			info.Queries = q.Queries()
		}
		out = append(out, info)
	}
	return out, nil
}

func (s *portalSource) Search(ctx context.Context, q portal.Query) (portal.Page, error) {
	results, next, err := s.search.Search(ctx, search.Query(q))
	if err != nil {
		return portal.Page{}, portalError(err)
	}
	page := portal.Page{Next: next, Results: make([]portal.Result, len(results))}
	for i, r := range results {
		page.Results[i] = portalResult(r)
	}
	return page, nil
}

func (s *portalSource) Entry(ctx context.Context, log string, index uint64) (portal.Entry, error) {
	r, rels, err := s.search.Entry(ctx, log, index)
	if err != nil {
		return portal.Entry{}, portalError(err)
	}
	e := portal.Entry{Result: portalResult(r)}
	for _, rel := range rels {
		e.Relations = append(e.Relations, portal.Relation(rel))
	}
	return e, nil
}

func (s *portalSource) Query(ctx context.Context, log, name string, args map[string]string) (portal.Answer, error) {
	resp, err := s.srv.Query(ctx, &api.QueryRequest{Log: log, Query: name, Args: args})
	if err != nil {
		return portal.Answer{}, portalQueryError(err)
	}
	return portal.Answer{Result: resp.ResultJson, Bundles: resp.Bundles}, nil
}

func portalResult(r search.Result) portal.Result {
	return portal.Result{Log: r.Log, Index: r.Index, LeafHash: portal.Hash(r.LeafHash), Type: r.Type, Agency: r.Agency,
		Time: r.Time, Title: r.Title, Body: r.Body, Leaf: r.Leaf, Bundle: r.Bundle, Pending: r.Pending}
}

// sourceError is an error of the search index or the admission server,
// with the portal's sentinel for its cause: its text stays the cause's.
type sourceError struct {
	err, sentinel error
}

func (e sourceError) Error() string   { return e.err.Error() }
func (e sourceError) Unwrap() []error { return []error{e.err, e.sentinel} }

func portalError(err error) error {
	for _, m := range []struct{ from, to error }{
		{search.ErrInvalidQuery, portal.ErrInvalidQuery},
		{search.ErrUnknownLog, portal.ErrUnknownLog},
		{search.ErrNotFound, portal.ErrNotFound},
		{search.ErrNotYetReadable, portal.ErrRetryLater},
	} {
		if errors.Is(err, m.from) {
			return sourceError{err, m.to}
		}
	}
	return err
}

// portalQueryError maps a Query's gRPC status (personalities' one switch
// made it) to the portal's sentinels.
func portalQueryError(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	var to error
	switch st.Code() {
	case codes.InvalidArgument, codes.ResourceExhausted:
		to = portal.ErrInvalidQuery
	case codes.NotFound:
		to = portal.ErrNotFound
	case codes.DeadlineExceeded, codes.Unavailable:
		to = portal.ErrRetryLater
	default:
		return err
	}
	return sourceError{errors.New(st.Message()), to}
}
