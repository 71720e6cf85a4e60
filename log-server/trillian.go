package logserver

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/google/trillian"
	"github.com/google/trillian/client"
	"github.com/google/trillian/extension"
	tlog "github.com/google/trillian/log"
	"github.com/google/trillian/monitoring"
	"github.com/google/trillian/quota"
	"github.com/google/trillian/server"
	"github.com/google/trillian/server/admin"
	"github.com/google/trillian/storage"
	"github.com/google/trillian/util/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/govlog/govlog/log-server/tiles"
)

// DefaultSequencerInterval is TrillianOptions.SequencerInterval when unset.
const DefaultSequencerInterval = 100 * time.Millisecond

// TrillianOptions configures the in-process Trillian.
type TrillianOptions struct {
	// AdminStorage and LogStorage are Trillian's storage (storage/mysql,
	// or storage/sqlite for the embedded default).
	AdminStorage storage.AdminStorage
	LogStorage   storage.LogStorage
	// SequencerInterval is how often the sequencer integrates queued
	// leaves into the trees. Default [DefaultSequencerInterval].
	SequencerInterval time.Duration
	// SequencerBatchSize caps the leaves integrated per tree per pass.
	// Default 2000.
	SequencerBatchSize int
	// ElectedSequencer: several processes share the storage, and the
	// sequencer runs only inside RunSequencer, in the process elected to
	// admit (Trillian's storage refuses a second integration of the same
	// revision all the same: its tree heads are unique per revision).
	ElectedSequencer bool
	// CreateTrees, if set, runs each find-or-create of a log's tree, so
	// that processes starting together on one database take turns (a
	// named database lock) instead of each creating a tree for the log.
	CreateTrees func(fn func() error) error
	// TileCacheBytes bounds the memory in which every log keeps the tiles
	// and entry bundles it has read (tiles.DefaultCacheBytes when zero).
	TileCacheBytes int
	Logger         *slog.Logger
}

// Trillian is Trillian's log server, admin server and sequencer running in
// this process, reachable only through an in-memory gRPC connection (the
// Log and Admin clients).
type Trillian struct {
	opts     TrillianOptions
	grpc     *grpc.Server
	conn     *grpc.ClientConn
	lis      *bufconn.Listener
	cancel   context.CancelFunc
	seqDone  chan struct{}
	Log      trillian.TrillianLogClient
	Admin    trillian.TrillianAdminClient
	registry extension.Registry
	tiles    *tiles.Cache
	// remote: the trees are a Trillian deployment's, over gRPC
	// (DialTrillian), with no storage or sequencer here.
	remote bool
}

// StartTrillian starts the servers and the sequencer. Close stops them.
func StartTrillian(opts TrillianOptions) (*Trillian, error) {
	if opts.AdminStorage == nil || opts.LogStorage == nil {
		return nil, errors.New("trillian: storage is required")
	}
	if opts.SequencerInterval <= 0 {
		opts.SequencerInterval = DefaultSequencerInterval
	}
	if opts.SequencerBatchSize <= 0 {
		opts.SequencerBatchSize = 2000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// The noop quota manager: Trillian's own quota costs a third of
	// QueueLeaf's throughput, and admission limits callers before Trillian.
	registry := extension.Registry{
		AdminStorage:  opts.AdminStorage,
		LogStorage:    opts.LogStorage,
		QuotaManager:  quota.Noop(),
		MetricFactory: monitoring.InertMetricFactory{},
	}
	// An in-memory listener: Trillian's API (which could queue leaves past
	// admission, or delete a tree) is reachable from this process only.
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(64 << 20))
	trillian.RegisterTrillianLogServer(gs, server.NewTrillianLogRPCServer(registry, clock.System))
	trillian.RegisterTrillianAdminServer(gs, admin.New(registry, []trillian.TreeType{trillian.TreeType_LOG, trillian.TreeType_PREORDERED_LOG}))
	go func() { _ = gs.Serve(lis) }()

	conn, err := grpc.NewClient("passthrough:///trillian",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		gs.Stop()
		return nil, fmt.Errorf("couldn't dial in-process trillian: %w", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	t := &Trillian{
		opts: opts, grpc: gs, conn: conn, lis: lis, cancel: cancel,
		Log:      trillian.NewTrillianLogClient(conn),
		Admin:    trillian.NewTrillianAdminClient(conn),
		registry: registry,
		tiles:    tiles.NewCache(opts.TileCacheBytes),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if !opts.ElectedSequencer {
			t.RunSequencer(ctx)
		}
	}()
	t.seqDone = done
	opts.Logger.Info("trillian started", "sequencer_interval", opts.SequencerInterval)
	return t, nil
}

// RunSequencer integrates queued leaves into the trees until ctx is done.
// StartTrillian runs it, unless the sequencer is ElectedSequencer.
func (t *Trillian) RunSequencer(ctx context.Context) {
	if t.remote {
		// The deployment's own log signer integrates.
		<-ctx.Done()
		return
	}
	tlog.NewOperationManager(tlog.OperationInfo{
		Registry:    t.registry,
		BatchSize:   t.opts.SequencerBatchSize,
		NumWorkers:  1,
		RunInterval: t.opts.SequencerInterval,
		TimeSource:  clock.System,
	}, tlog.NewSequencerManager(t.registry, 0)).OperationLoop(ctx)
}

// Close stops the sequencer and the servers. It does not close storage.
func (t *Trillian) Close() error {
	t.cancel()
	<-t.seqDone
	err := t.conn.Close()
	if t.grpc != nil {
		t.grpc.Stop()
	}
	return err
}

// PlainLog is a Trillian LOG tree, whose own sequencer orders what
// QueueLeaf queues: Trillian as used without a personality that orders its
// leaves. govlog's logs are pre-ordered trees; `govlog bench` measures this
// one beside them as the peer of admission.
type PlainLog struct {
	t  *Trillian
	id int64
}

// CreatePlainLog creates and initializes a LOG tree named name.
func (t *Trillian) CreatePlainLog(ctx context.Context, name string) (*PlainLog, error) {
	tree, err := client.CreateAndInitTree(ctx, &trillian.CreateTreeRequest{Tree: &trillian.Tree{
		TreeState: trillian.TreeState_ACTIVE, TreeType: trillian.TreeType_LOG,
		DisplayName: name, MaxRootDuration: durationpb.New(0),
	}}, t.Admin, t.Log)
	if err != nil {
		return nil, fmt.Errorf("couldn't create tree %q: %w", name, err)
	}
	return &PlainLog{t: t, id: tree.TreeId}, nil
}

// QueueLeaf queues leaf through Trillian's QueueLeaf RPC, identified by its
// SHA-256.
func (p *PlainLog) QueueLeaf(ctx context.Context, leaf []byte) error {
	h := sha256.Sum256(leaf)
	_, err := p.t.Log.QueueLeaf(ctx, &trillian.QueueLeafRequest{LogId: p.id, Leaf: &trillian.LogLeaf{LeafValue: leaf, LeafIdentityHash: h[:]}})
	return err
}

// Serve serves Trillian's own gRPC API on lis as well, until Close. It is
// for measuring Trillian beside govlog (govlog bench) only: in production
// the API stays inside this process, so nothing reaches a tree but
// admission.
func (t *Trillian) Serve(lis net.Listener) error { return t.grpc.Serve(lis) }

// TrillianProver asks a Trillian log server's own GetInclusionProof RPC,
// over gRPC, for proofs in one of govlog's trees: govlog bench measures it
// beside govlog's bundles on the same tree.
type TrillianProver struct {
	conn   *grpc.ClientConn
	log    trillian.TrillianLogClient
	treeID int64
}

// DialTrillianProver connects to the Trillian API at addr (see Serve) and
// finds the tree of the log with this origin.
func DialTrillianProver(ctx context.Context, addr, origin string) (*TrillianProver, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	trees, err := trillian.NewTrillianAdminClient(conn).ListTrees(ctx, &trillian.ListTreesRequest{})
	if err != nil {
		conn.Close()
		return nil, err
	}
	for _, t := range trees.Tree {
		if t.Description == origin && !t.Deleted {
			return &TrillianProver{conn: conn, log: trillian.NewTrillianLogClient(conn), treeID: t.TreeId}, nil
		}
	}
	conn.Close()
	return nil, fmt.Errorf("no trillian tree for %q", origin)
}

// Prove asks for the inclusion proof of entry index in the tree of size.
func (p *TrillianProver) Prove(ctx context.Context, index, size uint64) error {
	_, err := p.log.GetInclusionProof(ctx, &trillian.GetInclusionProofRequest{LogId: p.treeID, LeafIndex: int64(index), TreeSize: int64(size)})
	return err
}

// Close closes the connection.
func (p *TrillianProver) Close() error { return p.conn.Close() }
