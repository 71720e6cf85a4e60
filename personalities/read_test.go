package personalities_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/personalities/disclosures"
)

// TestReadErrors: every read past the latest checkpoint is OUT_OF_RANGE, a
// malformed request INVALID_ARGUMENT, an unknown leaf NOT_FOUND; none of
// them is an internal error.
func TestReadErrors(t *testing.T) {
	t.Parallel()
	eachBackend(t, harnessOptions{}, func(t *testing.T, h *harness) {
		ctx := context.Background()
		incl := func(index, size int64) error {
			_, err := h.client.GetInclusionProof(ctx, &api.GetInclusionProofRequest{
				Log: logName, Entry: &api.GetInclusionProofRequest_Index{Index: index}, TreeSize: size,
			})
			return err
		}
		inclHash := func(hash []byte, size int64) error {
			_, err := h.client.GetInclusionProof(ctx, &api.GetInclusionProofRequest{
				Log: logName, Entry: &api.GetInclusionProofRequest_LeafHash{LeafHash: hash}, TreeSize: size,
			})
			return err
		}
		entries := func(log string, start, count int64) error {
			_, err := h.client.GetEntries(ctx, &api.GetEntriesRequest{Log: log, Start: start, Count: count})
			return err
		}
		consistency := func(from, to int64) error {
			_, err := h.client.GetConsistencyProof(ctx, &api.GetConsistencyProofRequest{Log: logName, FromSize: from, ToSize: to})
			return err
		}
		unknown := govlog.LeafHash([]byte("never submitted"))

		// The empty log.
		for _, c := range []struct {
			name string
			err  error
			want codes.Code
		}{
			{"GetEntries of the empty log", entries(logName, 0, 1), codes.OutOfRange},
			{"GetInclusionProof(0) of the empty log", incl(0, 0), codes.OutOfRange},
			{"GetInclusionProof(hash) of the empty log", inclHash(unknown[:], 0), codes.NotFound},
			{"GetConsistencyProof(0, 1) of the empty log", consistency(0, 1), codes.OutOfRange},
		} {
			wantCode(t, c.name, c.err, c.want)
		}

		var leaves [][]byte
		for _, doc := range []string{"r-0", "r-1", "r-2"} {
			s := statement(t, disclosures.TypePublish, publish(doc), h.keys.a)
			h.mustAdmit(t, s)
			leaves = append(leaves, s)
		}
		size := int64(h.checkpoint(t).Size)
		if size != 3 {
			t.Fatalf("checkpoint size %d, want 3", size)
		}
		last := govlog.LeafHash(leaves[2])

		for _, c := range []struct {
			name string
			call func() error
			want codes.Code
		}{
			{"GetInclusionProof with a negative index", func() error { return incl(-1, 0) }, codes.InvalidArgument},
			{"GetInclusionProof with a negative tree size", func() error { return incl(0, -1) }, codes.InvalidArgument},
			{"GetInclusionProof with the index at the tree size", func() error { return incl(size, 0) }, codes.OutOfRange},
			{"GetInclusionProof with an index far past the tree size", func() error { return incl(1<<40, 0) }, codes.OutOfRange},
			{"GetInclusionProof with an index past a given size", func() error { return incl(2, 2) }, codes.OutOfRange},
			{"GetInclusionProof at a size past the latest checkpoint", func() error { return incl(0, size+1) }, codes.OutOfRange},
			{"GetInclusionProof with neither index nor hash", func() error {
				_, err := h.client.GetInclusionProof(ctx, &api.GetInclusionProofRequest{Log: logName})
				return err
			}, codes.InvalidArgument},
			{"GetInclusionProof of an unknown leaf hash", func() error { return inclHash(unknown[:], 0) }, codes.NotFound},
			{"GetInclusionProof of a leaf hash past the given size", func() error { return inclHash(last[:], 2) }, codes.NotFound},
			{"GetInclusionProof of a leaf hash at a size past the latest", func() error { return inclHash(last[:], size+1) }, codes.OutOfRange},
			{"GetInclusionProof with a short leaf hash", func() error { return inclHash(last[:31], 0) }, codes.InvalidArgument},
			{"GetInclusionProof of an unknown log", func() error {
				_, err := h.client.GetInclusionProof(ctx, &api.GetInclusionProofRequest{Log: "funds", Entry: &api.GetInclusionProofRequest_Index{Index: 0}})
				return err
			}, codes.InvalidArgument},
			{"GetEntries with a negative start", func() error { return entries(logName, -1, 1) }, codes.InvalidArgument},
			{"GetEntries with count 0", func() error { return entries(logName, 0, 0) }, codes.InvalidArgument},
			{"GetEntries with a negative count", func() error { return entries(logName, 0, -1) }, codes.InvalidArgument},
			{"GetEntries from the tree size", func() error { return entries(logName, size, 1) }, codes.OutOfRange},
			{"GetEntries of an unknown log", func() error { return entries("funds", 0, 1) }, codes.InvalidArgument},
			{"GetConsistencyProof to a size past the latest", func() error { return consistency(1, size+1) }, codes.OutOfRange},
			{"GetConsistencyProof from a size past the latest", func() error { return consistency(size+1, 0) }, codes.OutOfRange},
			{"GetConsistencyProof from a larger size", func() error { return consistency(2, 1) }, codes.InvalidArgument},
			{"GetConsistencyProof with a negative size", func() error { return consistency(-1, 2) }, codes.InvalidArgument},
			{"GetConsistencyProof of an unknown log", func() error {
				_, err := h.client.GetConsistencyProof(ctx, &api.GetConsistencyProofRequest{Log: "funds", FromSize: 1, ToSize: 2})
				return err
			}, codes.InvalidArgument},
			{"GetCheckpoint of an unknown log", func() error {
				_, err := h.client.GetCheckpoint(ctx, &api.GetCheckpointRequest{Log: "funds"})
				return err
			}, codes.InvalidArgument},
		} {
			t.Run(c.name, func(t *testing.T) {
				wantCode(t, c.name, c.call(), c.want)
			})
		}

		// A count past the end is cut at the tree size, not refused.
		resp, err := h.client.GetEntries(ctx, &api.GetEntriesRequest{Log: logName, Start: 1, Count: 1 << 40})
		if err != nil || len(resp.Entries) != 2 {
			t.Errorf("GetEntries(1, 2^40) = %d entries, %v; want 2", len(resp.GetEntries()), err)
		}
		// Reads changed nothing.
		if got := h.mustAdmit(t, statement(t, disclosures.TypePublish, publish("r-3"), h.keys.a)); got.Index != size {
			t.Errorf("next statement at %d, want %d", got.Index, size)
		}
	})
}
