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
	"github.com/govlog/govlog/portal"
	"github.com/govlog/govlog/search"
	"github.com/govlog/govlog/storage"
)

// portalSource is what the portal reads of a node: its logs, the search
// index beside their state, and the admission server's domain queries.
type portalSource struct {
	portal.SearchSource
	ps  map[string]personalities.Personality
	srv api.LogServer
}

var _ portal.Source = (*portalSource)(nil)

func newPortalSource(store, index storage.AdmissionStore, ps map[string]personalities.Personality, srv api.LogServer) *portalSource {
	logs := map[string]search.Source{}
	for name, p := range ps {
		logs[name] = search.Source{Log: p.Log, Domain: p.Domain}
	}
	return &portalSource{SearchSource: portal.SearchSource{Service: search.NewService(store, index, logs)}, ps: ps, srv: srv}
}

func (s *portalSource) Logs(ctx context.Context) ([]portal.LogInfo, error) {
	var out []portal.LogInfo
	for _, name := range slices.Sorted(maps.Keys(s.ps)) {
		p := s.ps[name]
		info := portal.LogInfoOf(name, p.Log.Origin(), p.Domain)
		signed, cp := p.Log.Checkpoint()
		info.Checkpoint, info.Size = signed, cp.Size
		out = append(out, info)
	}
	return out, nil
}

func (s *portalSource) Query(ctx context.Context, log, name string, args map[string]string) (portal.Answer, error) {
	resp, err := s.srv.Query(ctx, &api.QueryRequest{Log: log, Query: name, Args: args})
	if err != nil {
		return portal.Answer{}, portalQueryError(err)
	}
	return portal.Answer{Result: resp.ResultJson, Bundles: resp.Bundles}, nil
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
	return portal.SourceError(errors.New(st.Message()), to)
}
