package logserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/trillian"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog/log-server/tiles"
)

// RemoteOptions configures a connection to a Trillian deployment that runs
// elsewhere (its own log servers and log signers, over gRPC).
type RemoteOptions struct {
	// Address is its log server's gRPC address, host:port.
	Address string
	// Credentials secure the connection (TLS); nil is plaintext.
	Credentials credentials.TransportCredentials
	// TileCacheBytes and CreateTrees are as in TrillianOptions.
	TileCacheBytes int
	CreateTrees    func(fn func() error) error
	Logger         *slog.Logger
}

// DialTrillian uses an existing Trillian deployment, over gRPC, instead of
// one inside this process: its log signer integrates the leaves the logs
// store (so RunSequencer does nothing), and every read and write goes
// through its API. Its trees must be pre-ordered logs; OpenLog finds a
// log's tree by TrillianTreeID, or by its origin as description, and
// creates it if missing (the Admin API must then be served too).
func DialTrillian(opts RemoteOptions) (*Trillian, error) {
	if opts.Address == "" {
		return nil, errors.New("trillian: the address of the Trillian deployment is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	creds := opts.Credentials
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	conn, err := grpc.NewClient(opts.Address, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return nil, fmt.Errorf("couldn't dial trillian at %s: %w", opts.Address, err)
	}
	opts.Logger.Info("using the trillian deployment", "address", opts.Address)
	return &Trillian{
		opts:    TrillianOptions{Logger: opts.Logger, CreateTrees: opts.CreateTrees},
		conn:    conn,
		cancel:  func() {},
		seqDone: closedChan(),
		Log:     trillian.NewTrillianLogClient(conn),
		Admin:   trillian.NewTrillianAdminClient(conn),
		remote:  true,
		tiles:   tiles.NewCache(opts.TileCacheBytes),
	}, nil
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// remoteAddSequenced stores leaves through the AddSequencedLeaves RPC and
// returns each leaf's status, as the storage call does.
func (l *Log) remoteAddSequenced(ctx context.Context, leaves []*trillian.LogLeaf) ([]*trillian.QueuedLogLeaf, error) {
	resp, err := l.trill.Log.AddSequencedLeaves(ctx, &trillian.AddSequencedLeavesRequest{LogId: l.tree.TreeId, Leaves: leaves})
	if err != nil {
		return nil, err
	}
	if len(resp.Results) != len(leaves) {
		return nil, fmt.Errorf("trillian answered %d results for %d leaves", len(resp.Results), len(leaves))
	}
	return resp.Results, nil
}

// remoteLeafAt reads the leaf at index once the deployment has integrated
// it: its API reads no leaf past the tree's size.
func (l *Log) remoteLeafAt(ctx context.Context, index uint64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		resp, err := l.trill.Log.GetLeavesByRange(ctx, &trillian.GetLeavesByRangeRequest{LogId: l.tree.TreeId, StartIndex: int64(index), Count: 1})
		switch {
		case err == nil && len(resp.Leaves) == 1 && resp.Leaves[0].LeafIndex == int64(index):
			return resp.Leaves[0].LeafValue, nil
		case err != nil && status.Code(err) != codes.OutOfRange:
			return nil, fmt.Errorf("couldn't read leaf %d: %w", index, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("leaf %d not integrated by the trillian deployment within a minute: %w", index, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// remoteIndexes finds leaf hashes below size through the deployment's
// GetInclusionProofByHash, one call per hash.
func (l *Log) remoteIndexes(ctx context.Context, hashes [][]byte, size uint64) (map[[32]byte]uint64, error) {
	found := map[[32]byte]uint64{}
	if size == 0 {
		return found, nil
	}
	for _, h := range hashes {
		resp, err := l.trill.Log.GetInclusionProofByHash(ctx, &trillian.GetInclusionProofByHashRequest{
			LogId: l.tree.TreeId, LeafHash: h, TreeSize: int64(size), OrderBySequence: true})
		if status.Code(err) == codes.NotFound {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("couldn't look up a leaf by hash: %w", err)
		}
		for _, p := range resp.Proof {
			if len(h) != 32 || p.LeafIndex < 0 || uint64(p.LeafIndex) >= size {
				continue
			}
			if old, ok := found[[32]byte(h)]; !ok || uint64(p.LeafIndex) < old {
				found[[32]byte(h)] = uint64(p.LeafIndex)
			}
		}
	}
	return found, nil
}

// TreeID is the plain log's Trillian tree ID.
func (p *PlainLog) TreeID() int64 { return p.id }
