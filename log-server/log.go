package logserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/trillian"
	"github.com/google/trillian/client"
	"github.com/google/trillian/types"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/log-server/tiles"
)

// MaxEntriesPerRequest caps one Entries call, like CT's get-entries, and
// MaxEntriesBytes the bytes of its answer (at least one entry is always
// returned): entries are up to 64 KiB, and 1,000 of them would be 64 MiB
// held in memory for one caller, past what a gRPC client takes by default
// (4 MiB). A caller asks again from where the answer stopped.
const (
	MaxEntriesPerRequest = 1000
	MaxEntriesBytes      = 2 << 20
)

// entriesChunk is how many leaves one read from Trillian asks for, so the
// byte bound is kept without reading far past it.
const entriesChunk = 256

// DefaultMMD is LogOptions.MMD when unset.
const DefaultMMD = 5 * time.Minute

// LogOptions configures one log.
type LogOptions struct {
	// Origin is the log's identity, "<operator>/<log>".
	Origin string
	// Signer is the log's note key; its name must equal Origin.
	Signer note.Signer
	// MMD is the maximum merge delay promised to callers that do not wait.
	// Default [DefaultMMD].
	MMD time.Duration
	// PollInterval is how often the log looks for a grown tree to sign.
	// Default 25ms: a fraction of the sequencer interval, so a Submit that
	// waits is answered soon after its leaf is integrated.
	PollInterval time.Duration
	// Policy is the operator's C2SP tlog-policy for this log. A checkpoint
	// is pushed to every witness in it that has a URL (C2SP tlog-witness)
	// and published, cosignatures attached, only once the policy's quorum
	// is met. Nil publishes checkpoints signed by the log alone.
	Policy *govlog.Policy
	// WitnessTimeout bounds one round of cosigning. Default 10s.
	WitnessTimeout time.Duration
	// WitnessClient sends checkpoints to the witnesses; its transport
	// checks https:// witnesses' certificates (and may present the log's
	// own). Default: an http.Client with DefaultWitnessRequestTimeout and
	// the system's roots.
	WitnessClient *http.Client
	// TilesDir keeps the log's C2SP tlog-tiles (see package tiles), from
	// which its proofs, entries and bundles are read. Empty: the tiles are
	// kept in memory, made again from the tree on each start.
	TilesDir string
	// Checkpoints, if set, keeps the last checkpoint signed, so that after a
	// restart the log refuses to sign anything its tree cannot prove
	// extends it. Nil: the guard holds within one process only (and the
	// witnesses, if any, guard across restarts).
	Checkpoints CheckpointStore
	// Elected says several processes serve this log from one database, and
	// an election picks the one that signs: this Log signs and publishes
	// only inside Lead, and otherwise follows the checkpoints the elected
	// one published in Shared. Shared is required with Elected; without
	// it, a Log that signs records its checkpoints there too.
	Elected bool
	Shared  SharedCheckpoints
	// TrillianTreeID names the log's tree in a Trillian deployment
	// (DialTrillian) that an operator made; 0: the tree whose description
	// is the log's origin, made on first use.
	TrillianTreeID int64
	Logger         *slog.Logger
}

// SharedCheckpoints is where the processes serving a log from one database
// find its newest published checkpoint (sqlstore's Store).
type SharedCheckpoints interface {
	LatestCheckpoint(ctx context.Context, origin string) (signed []byte, ok bool, err error)
	// StoreCheckpoint records a checkpoint before it is published; it
	// fails (storage.ErrFenced) once another process was elected.
	StoreCheckpoint(ctx context.Context, origin string, size uint64, signed []byte) error
}

// Log is one govlog log backed by one Trillian tree.
type Log struct {
	opts  LogOptions
	tree  *trillian.Tree
	trill *Trillian
	tiles *tiles.Tree

	witnesses []*witnessClient
	// leading is set while Lead runs: Run signs instead of following.
	leading atomic.Bool
	// followMu makes one follow at a time (Run's, and a reader's asking
	// for a size past this process's checkpoint).
	followMu sync.Mutex
	// retryAt delays the next attempt to publish after witnesses failed.
	retryAt time.Time

	mu      sync.Mutex
	latest  published
	changed chan struct{} // closed and replaced whenever latest changes

	// Callers of WaitForInclusion, by leaf hash. One goroutine resolves
	// them all per checkpoint, so any number of waiting callers costs a few
	// storage reads, never one connection each.
	waitMu  sync.Mutex
	waiting map[[32]byte]*waiter
	wake    chan struct{} // a new waiter arrived
}

type waiter struct {
	leaf   []byte
	refs   int
	done   chan struct{} // closed once bundle and index are set
	bundle []byte
	index  uint64
}

type published struct {
	signed []byte
	cp     govlog.Checkpoint
}

// OpenLog finds the log's tree, creating and initialising it on first use,
// and signs a checkpoint for its current state. Call Run to keep publishing.
func (t *Trillian) OpenLog(ctx context.Context, opts LogOptions) (*Log, error) {
	if opts.Signer == nil || opts.Signer.Name() != opts.Origin {
		return nil, fmt.Errorf("log %q: its key must be named after its origin", opts.Origin)
	}
	if len(opts.Origin) > 200 {
		return nil, fmt.Errorf("log %q: origin longer than 200 bytes", opts.Origin)
	}
	if opts.MMD <= 0 {
		opts.MMD = DefaultMMD
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 25 * time.Millisecond
	}
	if opts.WitnessTimeout <= 0 {
		opts.WitnessTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = t.opts.Logger
	}
	opts.Logger = opts.Logger.With("log", opts.Origin)
	var tree *trillian.Tree
	var err error
	if opts.TrillianTreeID != 0 {
		tree, err = t.namedTree(ctx, opts.TrillianTreeID)
	} else if t.opts.CreateTrees != nil {
		err = t.opts.CreateTrees(func() (err error) {
			tree, err = t.findOrCreateTree(ctx, opts.Origin)
			return err
		})
	} else {
		tree, err = t.findOrCreateTree(ctx, opts.Origin)
	}
	if err != nil {
		return nil, err
	}
	l := &Log{opts: opts, tree: tree, trill: t, changed: make(chan struct{}),
		waiting: map[[32]byte]*waiter{}, wake: make(chan struct{}, 1)}
	if l.tiles, err = tiles.Open(ctx, opts.TilesDir, t.tiles, l.storedLeaves, opts.Logger); err != nil {
		return nil, fmt.Errorf("log %q: %w", opts.Origin, err)
	}
	if opts.Policy != nil {
		if !policyHasLog(opts.Policy, opts.Signer) {
			return nil, fmt.Errorf("log %q: its policy does not list its key", opts.Origin)
		}
		if l.witnesses, err = newWitnessClients(opts.Policy, opts.WitnessClient); err != nil {
			return nil, err
		}
	}
	if opts.Elected {
		if opts.Shared == nil {
			return nil, fmt.Errorf("log %q: an elected log needs shared checkpoints", opts.Origin)
		}
		if err := l.follow(ctx); err != nil {
			opts.Logger.Warn("couldn't read the published checkpoint yet", "err", err)
		}
	} else if err := l.publishIfGrown(ctx); err != nil {
		if len(l.witnesses) == 0 {
			return nil, err
		}
		// Witnesses may come up later; Run keeps trying.
		opts.Logger.Warn("no cosigned checkpoint yet", "err", err)
	}
	opts.Logger.Info("log open", "tree_id", tree.TreeId, "size", l.latest.cp.Size)
	return l, nil
}

// namedTree returns the tree with this ID, which must be a live
// pre-ordered log.
func (t *Trillian) namedTree(ctx context.Context, id int64) (*trillian.Tree, error) {
	tree, err := t.Admin.GetTree(ctx, &trillian.GetTreeRequest{TreeId: id})
	if err != nil {
		return nil, fmt.Errorf("couldn't get trillian tree %d: %w", id, err)
	}
	if tree.TreeType != trillian.TreeType_PREORDERED_LOG || tree.Deleted || tree.TreeState != trillian.TreeState_ACTIVE {
		return nil, fmt.Errorf("trillian tree %d is a %s tree in state %s (deleted: %v); govlog needs an active PREORDERED_LOG tree", id, tree.TreeType, tree.TreeState, tree.Deleted)
	}
	return tree, nil
}

func (t *Trillian) findOrCreateTree(ctx context.Context, origin string) (*trillian.Tree, error) {
	resp, err := t.Admin.ListTrees(ctx, &trillian.ListTreesRequest{})
	if err != nil {
		return nil, fmt.Errorf("couldn't list trillian trees: %w", err)
	}
	for _, tree := range resp.Tree {
		if tree.Description == origin && !tree.Deleted {
			if tree.TreeType != trillian.TreeType_PREORDERED_LOG {
				return nil, fmt.Errorf("log %q: tree %d is a %s tree, made by an earlier govlog; use a new database", origin, tree.TreeId, tree.TreeType)
			}
			return tree, nil
		}
	}
	name := path.Base(origin)
	if len(name) > 20 {
		name = name[:20]
	}
	tree, err := client.CreateAndInitTree(ctx, &trillian.CreateTreeRequest{Tree: &trillian.Tree{
		TreeState: trillian.TreeState_ACTIVE,
		// Pre-ordered: govlog, not the sequencer, decides each leaf's index.
		TreeType:        trillian.TreeType_PREORDERED_LOG,
		DisplayName:     name,
		Description:     origin,
		MaxRootDuration: durationpb.New(0),
	}}, t.Admin, t.Log)
	if err != nil {
		return nil, fmt.Errorf("couldn't create tree for %q: %w", origin, err)
	}
	t.opts.Logger.Info("created trillian tree", "log", origin, "tree_id", tree.TreeId)
	return tree, nil
}

// Origin is the log's origin line.
func (l *Log) Origin() string { return l.opts.Origin }

// TreeID is the log's Trillian tree ID.
func (l *Log) TreeID() int64 { return l.tree.TreeId }

// Run signs and publishes a checkpoint whenever the tree grows, and answers
// WaitForInclusion callers, until ctx is done.
func (l *Log) Run(ctx context.Context) error {
	done := make(chan struct{})
	defer func() { <-done }()
	go func() {
		defer close(done)
		l.resolveWaiters(ctx)
	}()
	tick := time.NewTicker(l.opts.PollInterval)
	defer tick.Stop()
	ticks := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if l.opts.Elected && !l.leading.Load() {
			// Following costs a database read per log: a few times a
			// second keeps reads fresh enough (Submit's waiting callers
			// wait at the elected process).
			if ticks++; ticks%followEvery != 0 {
				continue
			}
			if err := l.follow(ctx); err != nil && ctx.Err() == nil {
				l.opts.Logger.Warn("couldn't follow the published checkpoint", "err", err)
			}
			continue
		}
		if err := l.publishIfGrown(ctx); err != nil && ctx.Err() == nil {
			l.opts.Logger.Warn("couldn't publish checkpoint", "err", err)
		}
	}
}

// followEvery is how many PollIntervals apart a log that is not elected
// reads the newest published checkpoint.
const followEvery = 8

// Lead makes this Log sign and publish its checkpoints (in Run) until ctx
// is done: the term of an Elected log's process that won the election and
// took the store's fence. It first catches up with the newest checkpoint
// published (by the process elected before), which what it signs must
// extend. Its publications are fenced: once another process is elected,
// none of this one's commits.
func (l *Log) Lead(ctx context.Context) error {
	for {
		err := l.follow(ctx)
		if err == nil {
			break
		}
		l.opts.Logger.Warn("couldn't catch up with the published checkpoint before signing; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	l.leading.Store(true)
	defer l.leading.Store(false)
	<-ctx.Done()
	return nil
}

// follow publishes here the newest checkpoint in Shared, if it is newer
// than this process's: the tiles are grown to it from the tree's leaves and
// must hash to its root, and it must extend the last one published here.
func (l *Log) follow(ctx context.Context) error {
	l.followMu.Lock()
	defer l.followMu.Unlock()
	signed, ok, err := l.opts.Shared.LatestCheckpoint(ctx, l.opts.Origin)
	if err != nil || !ok {
		return err
	}
	text, _, _ := bytes.Cut(signed, []byte("\n\n"))
	cp, err := govlog.ParseCheckpoint(append(text, '\n'))
	if err != nil || cp.Origin != l.opts.Origin {
		return fmt.Errorf("the published checkpoint of %s is unreadable: %v", l.opts.Origin, err)
	}
	if l.opts.Policy != nil {
		if _, _, err := l.opts.Policy.Verify(signed); err != nil {
			return fmt.Errorf("the published checkpoint of size %d does not verify: %w", cp.Size, err)
		}
	}
	prev, _ := l.current()
	switch {
	case prev.signed != nil && cp.Size == prev.cp.Size && cp.Hash != prev.cp.Hash:
		return fmt.Errorf("the published checkpoint of size %d has another root than the one published here", cp.Size)
	case prev.signed != nil && cp.Size <= prev.cp.Size:
		return nil
	}
	g, err := l.growTiles(ctx, cp)
	if err != nil {
		return err
	}
	if prev.signed != nil && prev.cp.Size > 0 {
		hashes, err := g.ConsistencyProof(prev.cp.Size)
		if err != nil {
			return err
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, prev.cp.Size, cp.Size, toSlices(hashes), prev.cp.Hash[:], cp.Hash[:]); err != nil {
			return fmt.Errorf("the published checkpoint of size %d does not extend size %d: %w", cp.Size, prev.cp.Size, err)
		}
	}
	if err := g.Commit(signed); err != nil {
		return fmt.Errorf("couldn't write the tiles of size %d: %w", cp.Size, err)
	}
	l.setLatest(signed, cp)
	l.opts.Logger.Debug("following checkpoint", "size", cp.Size)
	return nil
}

func (l *Log) setLatest(signed []byte, cp govlog.Checkpoint) {
	l.mu.Lock()
	l.latest = published{signed: signed, cp: cp}
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *Log) publishIfGrown(ctx context.Context) error {
	resp, err := l.trill.Log.GetLatestSignedLogRoot(ctx, &trillian.GetLatestSignedLogRootRequest{LogId: l.tree.TreeId})
	if err != nil {
		return fmt.Errorf("couldn't get latest root: %w", err)
	}
	var root types.LogRootV1
	if err := root.UnmarshalBinary(resp.SignedLogRoot.GetLogRoot()); err != nil {
		return fmt.Errorf("couldn't parse trillian root: %w", err)
	}
	if len(root.RootHash) != sha256.Size {
		return fmt.Errorf("trillian root hash has %d bytes", len(root.RootHash))
	}
	cp := govlog.Checkpoint{Origin: l.opts.Origin, Size: root.TreeSize}
	copy(cp.Hash[:], root.RootHash)
	prev, _ := l.current()
	last, haveLast := prev.cp, prev.signed != nil
	if !haveLast {
		if last, haveLast, err = l.storedCheckpoint(); err != nil {
			return err
		}
	}
	switch {
	case haveLast && cp.Size < last.Size:
		return fmt.Errorf("refusing to sign: the tree has %d entries, but this log already signed a checkpoint of size %d: its storage was rolled back", cp.Size, last.Size)
	case haveLast && cp.Size == last.Size && cp.Hash != last.Hash:
		return fmt.Errorf("refusing to sign: the tree's root at size %d differs from the checkpoint this log signed at that size", cp.Size)
	case prev.signed != nil && cp.Size == last.Size:
		return nil // nothing new
	}
	// The tiles are grown first: the root of the log's own leaves must be
	// Trillian's, or nothing is signed.
	g, err := l.growTiles(ctx, cp)
	if err != nil {
		return err
	}
	if haveLast && last.Size > 0 && cp.Size > last.Size {
		// Never sign a fork: prove the new tree extends the last one signed.
		hashes, err := g.ConsistencyProof(last.Size)
		if err != nil {
			return err
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, last.Size, cp.Size, toSlices(hashes), last.Hash[:], cp.Hash[:]); err != nil {
			return fmt.Errorf("refusing to sign size %d: inconsistent with size %d: %w", cp.Size, last.Size, err)
		}
	}
	signed, err := govlog.SignCheckpoint(cp, l.opts.Signer)
	if err != nil {
		return fmt.Errorf("couldn't sign checkpoint: %w", err)
	}
	if len(l.witnesses) > 0 {
		if time.Now().Before(l.retryAt) {
			return nil
		}
		cosigned, err := l.cosignAll(ctx, cp, signed, g.ConsistencyProof)
		if err != nil {
			l.retryAt = time.Now().Add(time.Second)
			return err
		}
		signed = cosigned
	} else if l.opts.Policy != nil {
		// A policy without witness URLs: check the quorum all the same
		// (it must be "none"), so a bundle is never below the policy.
		if _, _, err := l.opts.Policy.Verify(signed); err != nil {
			return fmt.Errorf("size %d not published: %w", cp.Size, err)
		}
	}
	if l.opts.Shared != nil {
		// Fenced: a process no longer elected publishes nothing.
		if err := l.opts.Shared.StoreCheckpoint(ctx, l.opts.Origin, cp.Size, signed); err != nil {
			return fmt.Errorf("couldn't record the checkpoint of size %d before publishing it: %w", cp.Size, err)
		}
	}
	if err := g.Commit(signed); err != nil {
		return fmt.Errorf("couldn't write the tiles of size %d: %w", cp.Size, err)
	}
	if l.opts.Checkpoints != nil {
		if err := l.opts.Checkpoints.Store(l.opts.Origin, signed); err != nil {
			return fmt.Errorf("couldn't keep the checkpoint before publishing it: %w", err)
		}
	}
	l.setLatest(signed, cp)
	l.opts.Logger.Debug("published checkpoint", "size", cp.Size)
	return nil
}

// storedCheckpoint returns the checkpoint of the CheckpointStore, if any.
func (l *Log) storedCheckpoint() (govlog.Checkpoint, bool, error) {
	if l.opts.Checkpoints == nil {
		return govlog.Checkpoint{}, false, nil
	}
	signed, ok, err := l.opts.Checkpoints.Latest(l.opts.Origin)
	if err != nil || !ok {
		return govlog.Checkpoint{}, false, err
	}
	// The file is this log's own: its text is all we need.
	text, _, _ := bytes.Cut(signed, []byte("\n\n"))
	cp, err := govlog.ParseCheckpoint(append(text, '\n'))
	if err != nil || cp.Origin != l.opts.Origin {
		return govlog.Checkpoint{}, false, fmt.Errorf("the last signed checkpoint kept for %s is unreadable: %v", l.opts.Origin, err)
	}
	return cp, true, nil
}

// tilesChunk is how many leaves the tiles grow by at most before a commit,
// so catching up a long way (tiles made again from scratch) holds a
// bounded number of leaves in memory.
const tilesChunk = 1 << 16

// growTiles grows the tiles to the tree of checkpoint cp and checks that
// their root is cp's. Growth far past the tiles is committed in chunks
// first, without a checkpoint.
func (l *Log) growTiles(ctx context.Context, cp govlog.Checkpoint) (*tiles.Growth, error) {
	for {
		have := l.tiles.Size()
		if cp.Size < have {
			return nil, fmt.Errorf("refusing to sign: the tree has %d entries, but the log's tiles already hold %d: its storage was rolled back", cp.Size, have)
		}
		count := min(cp.Size-have, tilesChunk)
		leaves, err := l.storedLeaves(ctx, have, count)
		if err != nil {
			return nil, err
		}
		g, err := l.tiles.Grow(leaves)
		if err != nil {
			return nil, err
		}
		if g.Size() == cp.Size {
			if g.Root() != cp.Hash {
				return nil, fmt.Errorf("refusing to sign size %d: the tree's leaves hash to %x, not to Trillian's root %x", cp.Size, g.Root(), cp.Hash)
			}
			return g, nil
		}
		if err := g.Commit(nil); err != nil {
			return nil, err
		}
		l.opts.Logger.Info("tiles catching up", "size", g.Size(), "of", cp.Size)
	}
}

// storedLeaves reads exactly count leaves from index start from
// Trillian's storage.
func (l *Log) storedLeaves(ctx context.Context, start, count uint64) ([][]byte, error) {
	out := make([][]byte, 0, count)
	for uint64(len(out)) < count {
		next := start + uint64(len(out))
		resp, err := l.trill.Log.GetLeavesByRange(ctx, &trillian.GetLeavesByRangeRequest{
			LogId: l.tree.TreeId, StartIndex: int64(next), Count: int64(min(count-uint64(len(out)), entriesChunk)),
		})
		if err != nil {
			return nil, fmt.Errorf("couldn't read leaves at %d: %w", next, err)
		}
		if len(resp.Leaves) == 0 {
			return nil, fmt.Errorf("trillian returned no leaves at %d", next)
		}
		for _, leaf := range resp.Leaves {
			if uint64(leaf.LeafIndex) != next {
				return nil, fmt.Errorf("trillian returned leaf %d, want %d", leaf.LeafIndex, next)
			}
			out = append(out, leaf.LeafValue)
			next++
		}
	}
	return out, nil
}

// policyHasLog reports whether the policy lists the log's key.
func policyHasLog(p *govlog.Policy, s note.Signer) bool {
	for _, v := range p.Logs() {
		if v.Name() == s.Name() && v.KeyHash() == s.KeyHash() {
			return true
		}
	}
	return false
}

func (l *Log) current() (published, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.latest, l.changed
}

// Checkpoint returns the latest signed checkpoint and its parsed form.
func (l *Log) Checkpoint() ([]byte, govlog.Checkpoint) {
	p, _ := l.current()
	return p.signed, p.cp
}

// QueueLeaves stores leaves at indexes first, first+1, ... through
// Trillian's storage API, in one storage transaction; the sequencer then
// integrates them in exactly that order. The personality assigns the
// indexes when it admits the statements, so the log's order is the
// admission order. Storing a leaf again at its index is not an error;
// another leaf already at one of these indexes is (and means the outbox and
// the tree disagree: the log refuses to go on).
func (l *Log) QueueLeaves(ctx context.Context, first uint64, leaves [][]byte) error {
	if len(leaves) == 0 {
		return nil
	}
	tl := make([]*trillian.LogLeaf, len(leaves))
	for i, leaf := range leaves {
		h := govlog.LeafHash(leaf)
		tl[i] = &trillian.LogLeaf{LeafValue: leaf, MerkleLeafHash: h[:], LeafIdentityHash: h[:], LeafIndex: int64(first) + int64(i)}
	}
	var added []*trillian.QueuedLogLeaf
	var err error
	if l.trill.remote {
		added, err = l.remoteAddSequenced(ctx, tl)
	} else {
		added, err = l.trill.opts.LogStorage.AddSequencedLeaves(ctx, l.tree, tl, time.Now())
	}
	if err != nil {
		return fmt.Errorf("couldn't store %d leaves at %d: %w", len(leaves), first, err)
	}
	var taken []uint64
	for i, a := range added {
		switch c := codes.Code(a.GetStatus().GetCode()); c {
		case codes.OK, codes.AlreadyExists:
		case codes.FailedPrecondition:
			// Trillian says the index or the leaf is taken, without
			// saying by what: look.
			taken = append(taken, first+uint64(i))
		default:
			return fmt.Errorf("couldn't store leaf %d: %s: %s", first+uint64(i), c, a.GetStatus().GetMessage())
		}
	}
	for _, index := range taken {
		if err := l.checkStored(ctx, index, leaves[index-first]); err != nil {
			return err
		}
	}
	return nil
}

// checkStored succeeds if leaf is stored at index, and otherwise says why
// not: the outbox and the tree disagree, and nothing more may be stored.
func (l *Log) checkStored(ctx context.Context, index uint64, leaf []byte) error {
	read := l.storedLeafAt
	if l.trill.remote {
		read = l.remoteLeafAt
	}
	stored, err := read(ctx, index)
	if err != nil {
		return err
	}
	if bytes.Equal(stored, leaf) {
		return nil
	}
	l.opts.Logger.Error("the outbox and the tree disagree: refusing to store", "index", index)
	return fmt.Errorf("index %d does not hold the admitted leaf (another leaf is there, or this leaf is at another index): the outbox and the tree disagree", index)
}

// storedLeafAt reads the leaf at index from Trillian's storage directly
// (nil if there is none): stored, perhaps not yet integrated.
func (l *Log) storedLeafAt(ctx context.Context, index uint64) ([]byte, error) {
	tx, err := l.trill.opts.LogStorage.SnapshotForTree(ctx, l.tree)
	if err != nil {
		return nil, fmt.Errorf("couldn't read trillian storage: %w", err)
	}
	defer tx.Close()
	stored, err := tx.GetLeavesByRange(ctx, int64(index), 1)
	if err != nil {
		return nil, fmt.Errorf("couldn't read leaf %d: %w", index, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("couldn't read trillian storage: %w", err)
	}
	if len(stored) != 1 || stored[0].LeafIndex != int64(index) {
		return nil, nil
	}
	return stored[0].LeafValue, nil
}

// Promise signs a govlog/promise/v1 note: the leaf will be in the log by
// SignStatement signs st with the log's key: the entries the log writes
// about itself (personalities: the registry view it authorizes against).
func (l *Log) SignStatement(st *govlog.Statement) ([]byte, error) {
	return st.Sign(l.opts.Signer)
}

// queuedAt + MMD.
func (l *Log) Promise(leafHash [32]byte, queuedAt time.Time) ([]byte, error) {
	p := govlog.Promise{Origin: l.opts.Origin, LeafHash: leafHash, Deadline: queuedAt.Add(l.opts.MMD).Truncate(time.Second)}
	return p.Sign(l.opts.Signer)
}

// WaitForInclusion blocks until a published checkpoint includes leaf, and
// returns its bundle and index. It needs Run to be running.
func (l *Log) WaitForInclusion(ctx context.Context, leaf []byte) ([]byte, uint64, error) {
	hash := govlog.LeafHash(leaf)
	l.waitMu.Lock()
	w, ok := l.waiting[hash]
	if !ok {
		w = &waiter{leaf: leaf, done: make(chan struct{})}
		l.waiting[hash] = w
	}
	w.refs++
	l.waitMu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default: // a pass is already due
	}
	select {
	case <-w.done:
		return w.bundle, w.index, nil
	case <-ctx.Done():
		l.waitMu.Lock()
		if w.refs--; w.refs == 0 && l.waiting[hash] == w {
			delete(l.waiting, hash)
		}
		l.waitMu.Unlock()
		return nil, 0, ctx.Err()
	}
}

// resolveWaiters answers waiters whenever a checkpoint is published or a
// waiter arrives.
func (l *Log) resolveWaiters(ctx context.Context) {
	for {
		// Take the checkpoint and its change signal together, so a
		// checkpoint published during the pass wakes the next one.
		p, changed := l.current()
		if err := l.resolvePass(ctx, p); err != nil && ctx.Err() == nil {
			l.opts.Logger.Warn("couldn't answer callers waiting for inclusion", "err", err)
			// Try again at the next checkpoint or waiter; don't spin.
			select {
			case <-ctx.Done():
				return
			case <-time.After(l.opts.PollInterval):
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-l.wake:
		}
	}
}

// resolvePass finds, in one storage read per few hundred waiters, which
// waiting leaves checkpoint p includes, and hands each its bundle.
func (l *Log) resolvePass(ctx context.Context, p published) error {
	if p.cp.Size == 0 {
		return nil
	}
	l.waitMu.Lock()
	hashes := make([][]byte, 0, len(l.waiting))
	for h := range l.waiting {
		hashes = append(hashes, h[:])
	}
	l.waitMu.Unlock()
	for len(hashes) > 0 {
		n := min(len(hashes), 500)
		found, err := l.sequencedIndexes(ctx, hashes[:n], p.cp.Size)
		if err != nil {
			return err
		}
		for h, index := range found {
			proof, _, err := l.InclusionProof(ctx, index, p.cp.Size)
			if err != nil {
				return err
			}
			l.waitMu.Lock()
			if w, ok := l.waiting[h]; ok {
				b := govlog.Bundle{Extra: w.leaf, Index: index, Proof: proof, Checkpoint: p.signed}
				w.bundle, w.index = b.Marshal(), index
				close(w.done)
				delete(l.waiting, h)
			}
			l.waitMu.Unlock()
		}
		hashes = hashes[n:]
	}
	return nil
}

// sequencedIndexes returns the lowest index below size of each leaf hash
// that has one, reading Trillian's storage directly in one snapshot.
func (l *Log) sequencedIndexes(ctx context.Context, hashes [][]byte, size uint64) (map[[32]byte]uint64, error) {
	if l.trill.remote {
		return l.remoteIndexes(ctx, hashes, size)
	}
	tx, err := l.trill.opts.LogStorage.SnapshotForTree(ctx, l.tree)
	if err != nil {
		return nil, fmt.Errorf("couldn't read trillian storage: %w", err)
	}
	defer tx.Close()
	leaves, err := tx.GetLeavesByHash(ctx, hashes, true)
	if err != nil {
		return nil, fmt.Errorf("couldn't look up leaves by hash: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("couldn't read trillian storage: %w", err)
	}
	found := map[[32]byte]uint64{}
	for _, leaf := range leaves {
		if len(leaf.MerkleLeafHash) != 32 || leaf.LeafIndex < 0 || uint64(leaf.LeafIndex) >= size {
			continue
		}
		h := [32]byte(leaf.MerkleLeafHash)
		if old, ok := found[h]; !ok || uint64(leaf.LeafIndex) < old {
			found[h] = uint64(leaf.LeafIndex)
		}
	}
	return found, nil
}

func (l *Log) proveHash(ctx context.Context, hash [32]byte, size uint64) (uint64, [][32]byte, error) {
	found, err := l.sequencedIndexes(ctx, [][]byte{hash[:]}, size)
	if err != nil {
		return 0, nil, err
	}
	index, ok := found[hash]
	if !ok {
		return 0, nil, fmt.Errorf("leaf %x at size %d: %w", hash, size, govlog.ErrNotFound)
	}
	hashes, err := l.tiles.InclusionProof(index, size)
	return index, hashes, tilesErr(err)
}

// tilesErr maps the tiles' "beyond the tree" to the log's out-of-range.
func tilesErr(err error) error {
	if errors.Is(err, tiles.ErrBeyond) {
		return fmt.Errorf("%v: %w", err, govlog.ErrOutOfRange)
	}
	return err
}

// FindLeaf returns the index of the leaf with this hash in the tree of the
// given size (0: the latest checkpoint), and its inclusion proof.
func (l *Log) FindLeaf(ctx context.Context, hash [32]byte, size uint64) (uint64, [][32]byte, error) {
	size, err := l.checkSize(size)
	if err != nil {
		return 0, nil, err
	}
	if size == 0 {
		return 0, nil, fmt.Errorf("empty log: %w", govlog.ErrNotFound)
	}
	return l.proveHash(ctx, hash, size)
}

// CatchUp follows the published checkpoint at once when a reader asks a
// process that is not elected for a size past its own: a witness or
// monitor that saw a newer checkpoint from the elected process, or from
// another that follows it, is answered instead of told to come back.
func (l *Log) CatchUp(ctx context.Context, size uint64) {
	if !l.opts.Elected || l.leading.Load() {
		return
	}
	if _, cp := l.Checkpoint(); size <= cp.Size {
		return
	}
	if err := l.follow(ctx); err != nil && ctx.Err() == nil {
		l.opts.Logger.Warn("couldn't follow the published checkpoint", "err", err)
	}
}

// checkSize resolves size 0 to the latest checkpoint and refuses sizes past
// it: proofs are only served for trees a checkpoint has been signed for.
func (l *Log) checkSize(size uint64) (uint64, error) {
	_, cp := l.Checkpoint()
	if size == 0 {
		return cp.Size, nil
	}
	if size > cp.Size {
		return 0, fmt.Errorf("tree size %d, latest checkpoint %d: %w", size, cp.Size, govlog.ErrOutOfRange)
	}
	return size, nil
}

// InclusionProof proves entry index in the tree of the given size (0: the
// latest checkpoint).
func (l *Log) InclusionProof(ctx context.Context, index, size uint64) ([][32]byte, uint64, error) {
	l.CatchUp(ctx, size)
	size, err := l.checkSize(size)
	if err != nil {
		return nil, 0, err
	}
	if index >= size {
		return nil, 0, fmt.Errorf("index %d, tree size %d: %w", index, size, govlog.ErrOutOfRange)
	}
	hashes, err := l.tiles.InclusionProof(index, size)
	return hashes, size, tilesErr(err)
}

// Bundle returns the tlog-proof bundle of entry index at the latest
// checkpoint.
func (l *Log) Bundle(ctx context.Context, index uint64) ([]byte, error) {
	signed, cp := l.Checkpoint()
	if index >= cp.Size {
		return nil, fmt.Errorf("index %d, tree size %d: %w", index, cp.Size, govlog.ErrOutOfRange)
	}
	entries, err := l.tiles.Entries(index, 1, MaxEntriesBytes)
	if err != nil {
		return nil, tilesErr(err)
	}
	hashes, err := l.tiles.InclusionProof(index, cp.Size)
	if err != nil {
		return nil, tilesErr(err)
	}
	b := govlog.Bundle{Extra: entries[0], Index: index, Proof: hashes, Checkpoint: signed}
	return b.Marshal(), nil
}

// Entries returns up to count entries from start, never past the latest
// checkpoint and at most MaxEntriesPerRequest.
func (l *Log) Entries(ctx context.Context, start, count uint64) ([][]byte, error) {
	_, cp := l.Checkpoint()
	if start >= cp.Size {
		return nil, fmt.Errorf("start %d, tree size %d: %w", start, cp.Size, govlog.ErrOutOfRange)
	}
	count = min(count, cp.Size-start, MaxEntriesPerRequest)
	out, err := l.tiles.Entries(start, count, MaxEntriesBytes)
	return out, tilesErr(err)
}

// ConsistencyProof proves that the tree of size to extends the tree of size
// from; both must be at most the latest checkpoint (to=0: the latest).
func (l *Log) ConsistencyProof(ctx context.Context, from, to uint64) ([][32]byte, error) {
	if to == 0 {
		_, cp := l.Checkpoint()
		to = cp.Size
	}
	if from > to {
		return nil, fmt.Errorf("from size %d is past to size %d: %w", from, to, govlog.ErrOutOfRange)
	}
	l.CatchUp(ctx, to)
	if _, cp := l.Checkpoint(); to > cp.Size {
		return nil, fmt.Errorf("to size %d is past the latest checkpoint %d: %w", to, cp.Size, govlog.ErrOutOfRange)
	}
	hashes, err := l.tiles.ConsistencyProof(from, to)
	return hashes, tilesErr(err)
}

// Tiles is the log's tiles: its C2SP tlog-tiles read path over HTTP
// (ServeHTTP, paths relative to the handler's prefix) and what a mirror
// copies (RunMirror).
func (l *Log) Tiles() *tiles.Tree { return l.tiles }

func toHashes(in [][]byte) ([][32]byte, error) {
	out := make([][32]byte, len(in))
	for i, h := range in {
		if len(h) != 32 {
			return nil, fmt.Errorf("proof hash of %d bytes", len(h))
		}
		copy(out[i][:], h)
	}
	return out, nil
}

func toSlices(in [][32]byte) [][]byte {
	out := make([][]byte, len(in))
	for i := range in {
		out[i] = in[i][:]
	}
	return out
}
