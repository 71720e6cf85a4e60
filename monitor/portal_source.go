package monitor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/portal"
	"github.com/govlog/govlog/search"
	"github.com/govlog/govlog/storage"
)

// PortalOptions turn on the public portal (package portal) at the
// monitor's listener, over its own verified copy of the logs: the replay
// keeps the search index in each log's replayed state, as the log's server
// keeps it beside the log's (search.Follow), and every entry the portal shows carries a bundle the
// monitor makes at the checkpoint it verified, from the leaf hashes it
// verified, not the log operator's.
type PortalOptions struct {
	// Policy is the witness policy text the reader's browser verifies
	// bundles against (the followed logs' policy). Empty: the pages say
	// proofs are checked offline only.
	Policy []byte
}

// portalServer is the portal's pages and JSON API over the monitor.
type portalServer struct {
	pages *portal.Pages
	api   *portal.API
}

func newPortal(m *Monitor, opts PortalOptions) (*portalServer, error) {
	src := newPortalSource(m)
	pages, err := portal.NewPages(portal.PagesOptions{Source: src, Policy: opts.Policy, Logger: m.logger})
	if err != nil {
		return nil, err
	}
	return &portalServer{pages: pages, api: portal.NewAPI(src, m.logger)}, nil
}

// mount serves the portal beside the dashboard, which keeps GET /: the
// portal's home (its search form) is at /portal/, and its other pages at
// their own paths (/search, /entries/..., /check, /status, /static/...),
// which no path of the dashboard's takes, and the API below /api/.
func (p *portalServer) mount(mux *http.ServeMux) {
	mux.Handle("GET /portal/{$}", http.StripPrefix("/portal", p.pages))
	for _, path := range []string{"/search", "/entries/", "/proofs/", "/check", "/money/", "/status", "/policy", "/static/"} {
		mux.Handle("GET "+path, p.pages)
	}
	mux.Handle("/api/", p.api)
}

// portalSource is a portal.Source over the monitor's store: the search
// index and checkpoints of its replay, bundles it proves itself, and the
// leaves read from the log and checked against the hashes it verified.
type portalSource struct {
	portal.SearchSource
	m    *Monitor
	logs map[string]*Log // by name

	mu sync.Mutex
	// trees caches, per origin, the tree of the last verified size a
	// bundle was asked at.
	trees map[string]*verifiedTree
}

// verifiedTree is every node of a log's tree at a verified checkpoint,
// built from the leaf hashes the monitor verified.
type verifiedTree struct {
	size uint64
	tree *passTree
}

var _ portal.Source = (*portalSource)(nil)

func newPortalSource(m *Monitor) *portalSource {
	s := &portalSource{m: m, logs: map[string]*Log{}, trees: map[string]*verifiedTree{}}
	sources := map[string]search.Source{}
	for i := range m.opts.Logs {
		l := &m.opts.Logs[i]
		s.logs[l.Name] = l
		sources[l.Name] = search.Source{Log: portalLog{s: s, l: l}, Domain: l.Domain}
	}
	s.Service = search.NewService(portalStore{s}, nil, sources)
	return s
}

func (s *portalSource) Logs(ctx context.Context) ([]portal.LogInfo, error) {
	var out []portal.LogInfo
	for _, name := range slices.Sorted(maps.Keys(s.logs)) {
		l := s.logs[name]
		info := portal.LogInfoOf(name, l.Origin, l.Domain)
		if _, ok := l.Domain.(rule.Querier); !ok {
			info.Queries = nil // the monitor answers a query from its replayed state, by the domain's Querier
		}
		v, ok, err := s.m.opts.Store.Verified(ctx, l.Origin)
		if err != nil {
			return nil, err
		}
		if ok {
			info.Size, info.Checkpoint = v.Size, v.Checkpoint
		}
		out = append(out, info)
	}
	return out, nil
}

// bundle proves entry index of l at the verified checkpoint: the leaf is
// read from the log and must hash to the leaf hash the monitor verified
// at index; the proof is computed from those hashes. An entry past the
// replayed size, or any while a long pass has replayed only part of its
// checkpoint, is govlog.ErrOutOfRange: the search service says retry.
func (s *portalSource) bundle(ctx context.Context, l *Log, index uint64) ([]byte, error) {
	v, ok, err := s.m.opts.Store.Verified(ctx, l.Origin)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: the monitor has verified no checkpoint of %s yet", govlog.ErrOutOfRange, l.Origin)
	}
	cp, err := parseSigned(v.Checkpoint)
	if err != nil {
		return nil, fmt.Errorf("corrupt verified checkpoint of %s: %w", l.Origin, err)
	}
	if index >= v.Size || v.Size != cp.Size {
		return nil, fmt.Errorf("%w: entry %d is not in the checkpoint the monitor verified (%d entries of %d replayed)",
			govlog.ErrOutOfRange, index, v.Size, cp.Size)
	}
	tree, err := s.tree(ctx, s.m.opts.Store.read, l, cp)
	if err != nil {
		return nil, err
	}
	leaf, err := readVerifiedLeaf(ctx, l, tree, index)
	if err != nil {
		return nil, err
	}
	return bundleAt(l, v.Checkpoint, cp, tree, index, leaf)
}

// readVerifiedLeaf reads entry index from the log, which must hash to the
// leaf hash the monitor verified there (tree's).
func readVerifiedLeaf(ctx context.Context, l *Log, tree *passTree, index uint64) ([]byte, error) {
	want, ok := tree.node(compactLeaf(index))
	if !ok {
		return nil, fmt.Errorf("entry %d is past the verified tree", index)
	}
	leaves, err := l.Reader.Entries(ctx, l.Name, index, 1)
	if err != nil {
		return nil, fmt.Errorf("couldn't read entry %d from the log: %w", index, err)
	}
	if len(leaves) == 0 {
		return nil, fmt.Errorf("the log returned no entry %d", index)
	}
	leaf := leaves[0]
	if h := govlog.LeafHash(leaf); string(h[:]) != string(want) {
		return nil, fmt.Errorf("the log served entry %d with leaf hash %x, not the %x the monitor verified", index, h, want)
	}
	return leaf, nil
}

// compactLeaf is the tree node of leaf index.
func compactLeaf(index uint64) compact.NodeID { return compact.NewNodeID(0, index) }

// bundleAt makes the bundle of leaf, entry index, at the verified
// checkpoint signed (cp) whose tree is tree.
func bundleAt(l *Log, signed []byte, cp govlog.Checkpoint, tree *passTree, index uint64, leaf []byte) ([]byte, error) {
	nodes, err := proof.Inclusion(index, cp.Size)
	if err != nil {
		return nil, err
	}
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		h, ok := tree.node(id)
		if !ok {
			return nil, fmt.Errorf("no node %+v in the verified tree of size %d", id, cp.Size)
		}
		hashes[i] = h
	}
	rehashed, err := nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
	if err != nil {
		return nil, err
	}
	pf := make([][32]byte, len(rehashed))
	for i, h := range rehashed {
		pf[i] = [32]byte(h)
	}
	b := (&govlog.Bundle{Extra: leaf, Index: index, Proof: pf, Checkpoint: signed}).Marshal()
	if _, err := govlog.VerifyBundle(b, l.Policy); err != nil {
		return nil, fmt.Errorf("the monitor's bundle of entry %d does not verify: %w", index, err)
	}
	return b, nil
}

// tree returns the tree of cp's size from the leaf hashes the monitor
// verified, checked against cp's root.
func (s *portalSource) tree(ctx context.Context, db queryer, l *Log, cp govlog.Checkpoint) (*passTree, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.trees[l.Origin]; ok && t.size == cp.Size {
		return t.tree, nil
	}
	leaves, err := leafHashes(ctx, db, l.Origin, cp.Size)
	if err != nil {
		return nil, err
	}
	t := newPassTree(0, leaves)
	rng, err := s.m.factory.NewRange(0, 0, nil)
	if err != nil {
		return nil, err
	}
	for _, h := range leaves {
		if err := rng.Append(h, nil); err != nil {
			return nil, err
		}
	}
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return nil, err
	}
	if string(root) != string(cp.Hash[:]) {
		return nil, fmt.Errorf("the leaf hashes the monitor verified of %s hash to %x, not its checkpoint's root %x", l.Origin, root, cp.Hash)
	}
	s.trees[l.Origin] = &verifiedTree{size: cp.Size, tree: t}
	return t, nil
}

// queryer is a database or a transaction in it.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// leafHashes returns the verified leaf hashes of entries 0 to size-1 of
// the log with origin, in order; an error if any is missing (a leaf the
// log admitted twice is kept once).
func leafHashes(ctx context.Context, db queryer, origin string, size uint64) ([][]byte, error) {
	rows, err := db.QueryContext(ctx, "SELECT leaf_hash, idx FROM monitor_leaves WHERE origin = ? AND idx < ?", origin, int64(size))
	if err != nil {
		return nil, fmt.Errorf("couldn't read the verified leaf hashes of %s: %w", origin, err)
	}
	defer rows.Close()
	out := make([][]byte, size)
	n := uint64(0)
	for rows.Next() {
		var h []byte
		var idx int64
		if err := rows.Scan(&h, &idx); err != nil {
			return nil, fmt.Errorf("couldn't read the verified leaf hashes of %s: %w", origin, err)
		}
		if idx < 0 || uint64(idx) >= size || len(h) != 32 || out[idx] != nil {
			return nil, fmt.Errorf("corrupt verified leaf hash of %s at %d", origin, idx)
		}
		out[idx] = h
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if n != size {
		return nil, fmt.Errorf("the monitor holds %d leaf hashes of %s's first %d entries: it cannot prove them", n, origin, size)
	}
	return out, nil
}

// portalLog is one followed log as search.Service reads it: the
// checkpoint the monitor verified and bundles it proves.
type portalLog struct {
	s *portalSource
	l *Log
}

func (p portalLog) Origin() string { return p.l.Origin }

// Checkpoint returns the verified checkpoint, its size the entries
// replayed; none (size 0) if the store cannot be read.
func (p portalLog) Checkpoint() ([]byte, govlog.Checkpoint) {
	v, ok, err := p.s.m.opts.Store.Verified(context.Background(), p.l.Origin)
	if err != nil || !ok {
		return nil, govlog.Checkpoint{}
	}
	cp, err := parseSigned(v.Checkpoint)
	if err != nil {
		return nil, govlog.Checkpoint{}
	}
	cp.Size = v.Size
	return v.Checkpoint, cp
}

func (p portalLog) Bundle(ctx context.Context, index uint64) ([]byte, error) {
	return p.s.bundle(ctx, p.l, index)
}

// portalStore is the monitor's replayed state as search.Service reads it.
type portalStore struct{ s *portalSource }

func (p portalStore) Read(ctx context.Context, log string, fn func(ctx context.Context, tx storage.ReadTx) error) error {
	l, ok := p.s.logs[log]
	if !ok {
		return fmt.Errorf("%w %.64q", search.ErrUnknownLog, log)
	}
	tx, err := p.s.m.opts.Store.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("couldn't read the state of %s: %w", l.Origin, err)
	}
	defer tx.Rollback()
	return fn(ctx, stateTx{tx: tx, origin: l.Origin})
}

// stateTx reads one log's replayed state in one read transaction, a
// snapshot of the last committed pass.
type stateTx struct {
	tx     *sql.Tx
	origin string
}

// scanBatch is how many keys a Scan reads at once.
const scanBatch = 256

func (t stateTx) Get(ctx context.Context, key string) ([]byte, bool, error) {
	var v []byte
	err := t.tx.QueryRowContext(ctx, getStateSQL, t.origin, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	return v, err == nil, err
}

// Scan reads the keys a batch at a time and calls fn with no rows open.
func (t stateTx) Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error {
	if prefix == "" {
		return errors.New("monitor: Scan needs a prefix")
	}
	// Keys compare as bytes: those with the prefix sort from it to the
	// prefix with its last byte raised (see StatePrefix).
	end := []byte(prefix)
	for len(end) > 0 && end[len(end)-1] == 0xff {
		end = end[:len(end)-1]
	}
	bound, endArgs := "", []any{}
	if len(end) > 0 {
		end[len(end)-1]++
		bound, endArgs = " AND key < ?", []any{string(end)}
	}
	from, inclusive := prefix, true
	for {
		op := ">"
		if inclusive {
			op = ">="
		}
		args := append(append([]any{t.origin, from}, endArgs...), scanBatch)
		rows, err := t.tx.QueryContext(ctx, "SELECT key, value FROM monitor_state WHERE origin = ? AND key "+op+" ?"+bound+" ORDER BY key LIMIT ?", args...)
		if err != nil {
			return fmt.Errorf("couldn't read the state of %s: %w", t.origin, err)
		}
		type kv struct {
			k string
			v []byte
		}
		var batch []kv
		for rows.Next() {
			var e kv
			if err := rows.Scan(&e.k, &e.v); err != nil {
				rows.Close()
				return fmt.Errorf("couldn't read the state of %s: %w", t.origin, err)
			}
			batch = append(batch, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("couldn't read the state of %s: %w", t.origin, err)
		}
		for _, e := range batch {
			if err := fn(e.k, e.v); err != nil {
				return err
			}
		}
		if len(batch) < scanBatch {
			return nil
		}
		from, inclusive = batch[len(batch)-1].k, false
	}
}

// LookupOutbox finds nothing: the monitor has no outbox, and every entry
// its index holds is in the checkpoint it verified.
func (t stateTx) LookupOutbox(ctx context.Context, leafHashes [][32]byte) (map[[32]byte]storage.OutboxEntry, error) {
	return map[[32]byte]storage.OutboxEntry{}, nil
}
