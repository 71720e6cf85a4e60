// Package tiles keeps a log's Merkle tree as C2SP tlog-tiles
// (https://c2sp.org/tlog-tiles): hash tiles of height 8 and entry bundles,
// written as the log grows, and serves from them everything the read path
// needs: inclusion and consistency proofs, entries, and the tiles
// themselves over HTTP, so any tlog client can read a log.
//
// Decisions where DESIGN.md is silent:
//   - Full tiles and full entry bundles are files at their C2SP paths
//     below a directory, written once. The right edge (the partial tile
//     of each level and the entries of the partial bundle) is kept in
//     memory and not written: on start it is derived again from the full
//     tiles and from the log's storage, and must hash to the root of the
//     checkpoint file. So a checkpoint every 100 ms costs no partial-tile
//     writes, and a partial tile is served for any width a checkpoint had,
//     as the prefix of the tile it grew into.
//   - The tiles are a copy of what Trillian holds, so they are not synced
//     to disk one by one: a tile that was damaged (a crash, a disk) is
//     caught when read, because every full tile is checked against its
//     parent, up to the checkpoint's root, before it is used or served;
//     a right edge that does not hash to the checkpoint makes Open rebuild
//     every tile from the log's storage.
//   - The tree is grown before the checkpoint is signed, and its root must
//     equal Trillian's: the log signs nothing it cannot recompute from its
//     own leaves.
package tiles

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/govlog/govlog"
)

// Width is the number of hashes in a full tile (height 8), and of entries
// in a full entry bundle.
const Width = 256

// MaxEntrySize is the largest entry a bundle can hold: its length is a
// big-endian uint16.
const MaxEntrySize = 1<<16 - 1

// ErrBeyond means a size or index past the tree's.
var ErrBeyond = errors.New("beyond the tiled tree")

// LeafSource reads exactly count leaves of the log from index start, from
// its storage (Trillian); it is how the right edge is found again on start.
type LeafSource func(ctx context.Context, start, count uint64) ([][]byte, error)

type hash = [32]byte

// Tree is one log's tiles. Reads are safe at any time; Grow and Commit are
// called by one writer (the log's publishing loop).
type Tree struct {
	files store
	cache *Cache
	st    atomic.Pointer[state]
	mu    sync.Mutex // held from Grow to Commit
	// changed is closed, and replaced, each time a commit is served:
	// what a mirror waits on.
	changed atomic.Pointer[chan struct{}]
}

// state is the tree at one size; it is never changed once made.
type state struct {
	size       uint64
	root       hash
	checkpoint []byte
	// edges[l] is the partial tile of level l (nil if it has no hash);
	// entries are the partial entry bundle's entries.
	edges   []*rows
	entries [][]byte
	// pending holds the full tiles a Growth made and Commit has not yet
	// written, so proofs can be made on a tree before it is published.
	pending map[tileKey]*fullTile
}

type tileKey struct {
	level int
	n     uint64
}

// rows is a tile with the levels inside it: rows[0] are its hashes and
// rows[k][i] the node over rows[k-1][2i] and rows[k-1][2i+1]; rows[8][0]
// is a full tile's root.
type rows [9][]hash

type fullTile struct {
	rows    *rows
	entries [][]byte // level 0 only
}

func expand(bottom []hash) *rows {
	var r rows
	r[0] = bottom
	for k := 1; k < len(r); k++ {
		below := r[k-1]
		r[k] = make([]hash, len(below)/2)
		for i := range r[k] {
			r[k][i] = nodeHash(below[2*i], below[2*i+1])
		}
	}
	return &r
}

func nodeHash(l, r hash) hash {
	var buf [65]byte
	buf[0] = 1
	copy(buf[1:], l[:])
	copy(buf[33:], r[:])
	return sha256.Sum256(buf[:])
}

// Open reads the tiles kept in dir (created if missing; "" keeps them in
// memory only, for tests and tools) and derives their right edge again
// from leaves. If the tiles do not hash to the checkpoint kept with them,
// they are rebuilt from leaves; if the rebuilt ones do not either, the
// log's storage no longer holds the tree that checkpoint was signed for,
// and Open fails.
func Open(ctx context.Context, dir string, cache *Cache, leaves LeafSource, logger *slog.Logger) (*Tree, error) {
	if cache == nil {
		cache = NewCache(0)
	}
	if logger == nil {
		logger = slog.Default()
	}
	t := &Tree{cache: cache}
	t.changed.Store(new(make(chan struct{})))
	if dir == "" {
		t.files = &memStore{m: map[string][]byte{}}
	} else {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("tiles: %w", err)
		}
		t.files = dirStore(dir)
	}
	t.st.Store(&state{root: sha256.Sum256(nil)})
	signed, err := t.files.read("checkpoint")
	if errors.Is(err, fs.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tiles: %w", err)
	}
	cp, err := parseCheckpoint(signed)
	if err != nil {
		return nil, fmt.Errorf("tiles: the checkpoint kept in %s: %w", dir, err)
	}
	st, err := t.deriveEdge(ctx, cp.Size, leaves)
	if err == nil && st.root != cp.Hash {
		err = fmt.Errorf("the right edge hashes to %x, not the checkpoint's root", st.root)
	}
	if err != nil {
		logger.Warn("tiles do not match their checkpoint: rebuilding them from the log's storage", "dir", dir, "size", cp.Size, "err", err)
		if st, err = t.rebuild(ctx, cp.Size, leaves, logger); err != nil {
			return nil, err
		}
		if st.root != cp.Hash {
			return nil, fmt.Errorf("tiles: the log's storage holds a tree of root %x at size %d, not the root %x of the checkpoint kept in %s: its storage was changed or rolled back", st.root, cp.Size, cp.Hash, dir)
		}
	}
	st.checkpoint = signed
	t.st.Store(st)
	return t, nil
}

func parseCheckpoint(signed []byte) (govlog.Checkpoint, error) {
	text, _, ok := bytes.Cut(signed, []byte("\n\n"))
	if !ok {
		return govlog.Checkpoint{}, errors.New("not a signed note")
	}
	// A copy: text shares its bytes with the served checkpoint.
	return govlog.ParseCheckpoint(append(text[:len(text):len(text)], '\n'))
}

// deriveEdge makes the state of a tree of size n from its full tiles and
// the leaves of its partial bundle. Its root is checked by the caller.
func (t *Tree) deriveEdge(ctx context.Context, n uint64, leaves LeafSource) (*state, error) {
	st := &state{size: n}
	if w := n % Width; w > 0 {
		ents, err := leaves(ctx, n-w, w)
		if err != nil {
			return nil, err
		}
		if uint64(len(ents)) != w {
			return nil, fmt.Errorf("read %d leaves at %d, want %d", len(ents), n-w, w)
		}
		st.entries = ents
	}
	for level := 0; n>>(8*level) > 0; level++ {
		w := int((n >> (8 * level)) % Width)
		bottom := make([]hash, 0, w)
		if level == 0 {
			for _, e := range st.entries {
				bottom = append(bottom, govlog.LeafHash(e))
			}
		} else {
			// The edge's hashes are the roots of the full tiles below it.
			first := n>>(8*level) - uint64(w)
			for i := range uint64(w) {
				r, err := t.readFull(level-1, first+i)
				if err != nil {
					return nil, err
				}
				bottom = append(bottom, r[8][0])
			}
		}
		st.edges = append(st.edges, edgeRows(bottom))
	}
	st.root = rootOf(st)
	return st, nil
}

func edgeRows(bottom []hash) *rows {
	if len(bottom) == 0 {
		return nil
	}
	return expand(bottom)
}

// rootOf is the RFC 6962 root of st: its perfect subtrees, largest first,
// are all in the right edge's tiles.
func rootOf(st *state) hash {
	if st.size == 0 {
		return sha256.Sum256(nil)
	}
	var subtrees []hash
	for level := len(st.edges) - 1; level >= 0; level-- {
		e := st.edges[level]
		if e == nil {
			continue
		}
		w, used := len(e[0]), 0
		for k := 7; k >= 0; k-- {
			if w&(1<<k) != 0 {
				subtrees = append(subtrees, e[k][used>>k])
				used += 1 << k
			}
		}
	}
	r := subtrees[len(subtrees)-1]
	for i := len(subtrees) - 2; i >= 0; i-- {
		r = nodeHash(subtrees[i], r)
	}
	return r
}

// rebuild makes every tile again from the log's first n leaves.
func (t *Tree) rebuild(ctx context.Context, n uint64, leaves LeafSource, logger *slog.Logger) (*state, error) {
	st := &state{root: sha256.Sum256(nil)}
	const chunk = 64 * Width
	for st.size < n {
		count := min(chunk, n-st.size)
		ents, err := leaves(ctx, st.size, count)
		if err != nil {
			return nil, fmt.Errorf("tiles: rebuilding: %w", err)
		}
		if uint64(len(ents)) != count {
			return nil, fmt.Errorf("tiles: rebuilding: read %d leaves at %d, want %d", len(ents), st.size, count)
		}
		next, err := grow(st, ents)
		if err != nil {
			return nil, err
		}
		if err := t.writeFull(next.pending); err != nil {
			return nil, err
		}
		next.pending = nil
		st = next
		if st.size%(16*chunk) == 0 || st.size == n {
			logger.Info("rebuilding tiles", "size", st.size, "of", n)
		}
	}
	return st, nil
}

// grow returns the tree from with entries appended; the full tiles it
// completes are in its pending map.
func grow(from *state, entries [][]byte) (*state, error) {
	cur := make([][]hash, len(from.edges))
	for l, e := range from.edges {
		if e != nil {
			cur[l] = append([]hash(nil), e[0]...)
		}
	}
	ents := append([][]byte(nil), from.entries...)
	size := from.size
	pending := map[tileKey]*fullTile{}
	for _, e := range entries {
		if len(e) > MaxEntrySize {
			return nil, fmt.Errorf("tiles: entry %d has %d bytes, more than an entry bundle holds (%d)", size, len(e), MaxEntrySize)
		}
		ents = append(ents, e)
		if len(cur) == 0 {
			cur = append(cur, nil)
		}
		cur[0] = append(cur[0], govlog.LeafHash(e))
		size++
		for level := 0; len(cur[level]) == Width; level++ {
			r := expand(cur[level])
			ft := &fullTile{rows: r}
			if level == 0 {
				ft.entries, ents = ents, nil
			}
			pending[tileKey{level, size>>(8*(level+1)) - 1}] = ft
			cur[level] = nil
			if len(cur) == level+1 {
				cur = append(cur, nil)
			}
			cur[level+1] = append(cur[level+1], r[8][0])
		}
	}
	st := &state{size: size, entries: ents, pending: pending, checkpoint: from.checkpoint}
	for _, c := range cur {
		st.edges = append(st.edges, edgeRows(c))
	}
	st.root = rootOf(st)
	return st, nil
}

// Growth is the tree grown by new entries, not yet written or served.
type Growth struct {
	t        *Tree
	from, to *state
}

// Grow appends entries (the leaves from index Size()) to the tree and
// returns the result, to be checked and then committed.
func (t *Tree) Grow(entries [][]byte) (*Growth, error) {
	from := t.st.Load()
	to, err := grow(from, entries)
	if err != nil {
		return nil, err
	}
	return &Growth{t: t, from: from, to: to}, nil
}

// Size is the grown tree's size.
func (g *Growth) Size() uint64 { return g.to.size }

// Root is the grown tree's RFC 6962 root hash.
func (g *Growth) Root() [32]byte { return g.to.root }

// ConsistencyProof proves that the grown tree extends the tree of size
// from (which may be the committed tree or any smaller one).
func (g *Growth) ConsistencyProof(from uint64) ([][32]byte, error) {
	return g.t.consistency(g.to, from, g.to.size)
}

// Commit writes the grown tree's new full tiles, then its checkpoint
// (signed, cosignatures attached), and serves it. It fails if the tree was
// committed by another growth since this one was made.
func (g *Growth) Commit(signed []byte) error {
	t := g.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.st.Load() != g.from {
		return errors.New("tiles: the tree changed since this growth was made")
	}
	if err := t.writeFull(g.to.pending); err != nil {
		return err
	}
	if signed != nil {
		if err := t.files.write("checkpoint", signed); err != nil {
			return fmt.Errorf("tiles: %w", err)
		}
	}
	to := *g.to
	to.pending, to.checkpoint = nil, signed
	for k, ft := range g.to.pending {
		t.cache.put(cacheKey{log: t, level: k.level, n: k.n}, ft.rows, rowsBytes)
		if ft.entries != nil {
			t.cache.put(cacheKey{log: t, n: k.n, entries: true}, ft.entries, entriesBytes(ft.entries))
		}
	}
	t.st.Store(&to)
	// After the store: a waiter that took the channel before loading the
	// state is woken, one that took it after has seen the new state.
	next := make(chan struct{})
	close(*t.changed.Swap(&next))
	return nil
}

// changes returns a channel closed at the next commit; take it before
// reading the state it should wake on.
func (t *Tree) changes() <-chan struct{} { return *t.changed.Load() }

// rowsBytes is what one full tile with its inner levels holds in memory.
const rowsBytes = (2*Width-1)*32 + 9*24

func entriesBytes(ents [][]byte) int {
	n := len(ents) * 24
	for _, e := range ents {
		n += len(e)
	}
	return n
}

// writeFull writes full tiles and their entry bundles to the tiles' files.
func (t *Tree) writeFull(tiles map[tileKey]*fullTile) error {
	for k, ft := range tiles {
		data := make([]byte, 0, Width*32)
		for _, h := range ft.rows[0] {
			data = append(data, h[:]...)
		}
		if err := t.files.write(TilePath(k.level, k.n, Width), data); err != nil {
			return fmt.Errorf("tiles: %w", err)
		}
		if ft.entries != nil {
			if err := t.files.write(EntriesPath(k.n, Width), encodeBundle(ft.entries)); err != nil {
				return fmt.Errorf("tiles: %w", err)
			}
		}
	}
	return nil
}

func encodeBundle(ents [][]byte) []byte {
	out := make([]byte, 0, entriesBytes(ents))
	for _, e := range ents {
		out = binary.BigEndian.AppendUint16(out, uint16(len(e)))
		out = append(out, e...)
	}
	return out
}

func decodeBundle(data []byte) ([][]byte, error) {
	var ents [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("truncated entry length")
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, errors.New("truncated entry")
		}
		ents = append(ents, data[2:2+n:2+n])
		data = data[2+n:]
	}
	return ents, nil
}

// Size is the size of the committed tree.
func (t *Tree) Size() uint64 { return t.st.Load().size }

// Root is the root hash of the committed tree.
func (t *Tree) Root() [32]byte { return t.st.Load().root }

// Checkpoint is the committed tree's checkpoint, as given to Commit.
func (t *Tree) Checkpoint() []byte { return t.st.Load().checkpoint }

// rowsAt returns tile (level, n) of the tree st: its right edge, a full
// tile not yet written, or a full tile read and checked against its parent.
func (t *Tree) rowsAt(st *state, level int, n uint64) (*rows, error) {
	edge := st.size >> (8 * (level + 1))
	if n > edge || (n == edge && (level >= len(st.edges) || st.edges[level] == nil)) {
		return nil, fmt.Errorf("tile %d/%d of a tree of %d: %w", level, n, st.size, ErrBeyond)
	}
	if n == edge {
		return st.edges[level], nil
	}
	if ft, ok := st.pending[tileKey{level, n}]; ok {
		return ft.rows, nil
	}
	key := cacheKey{log: t, level: level, n: n}
	if v, ok := t.cache.get(key); ok {
		return v.(*rows), nil
	}
	r, err := t.readFull(level, n)
	if err != nil {
		return nil, err
	}
	parent, err := t.rowsAt(st, level+1, n/Width)
	if err != nil {
		return nil, err
	}
	if parent[0][n%Width] != r[8][0] {
		return nil, fmt.Errorf("tiles: %s is damaged: it does not hash to its parent (remove the tiles folder to rebuild it from the log's storage)", TilePath(level, n, Width))
	}
	t.cache.put(key, r, rowsBytes)
	return r, nil
}

// readFull reads a full tile's file, unchecked.
func (t *Tree) readFull(level int, n uint64) (*rows, error) {
	path := TilePath(level, n, Width)
	data, err := t.files.read(path)
	if err != nil {
		return nil, fmt.Errorf("tiles: %w", err)
	}
	if len(data) != Width*32 {
		return nil, fmt.Errorf("tiles: %s has %d bytes, not %d: it is damaged", path, len(data), Width*32)
	}
	bottom := make([]hash, Width)
	for i := range bottom {
		copy(bottom[i][:], data[32*i:])
	}
	return expand(bottom), nil
}

// bundle returns the entries of entry bundle n of the tree st (the partial
// one included), each checked against its leaf hash.
func (t *Tree) bundle(st *state, n uint64) ([][]byte, error) {
	edge := st.size / Width
	switch {
	case n > edge || (n == edge && len(st.entries) == 0):
		return nil, fmt.Errorf("entry bundle %d of a tree of %d: %w", n, st.size, ErrBeyond)
	case n == edge:
		return st.entries, nil
	}
	key := cacheKey{log: t, n: n, entries: true}
	if v, ok := t.cache.get(key); ok {
		return v.([][]byte), nil
	}
	path := EntriesPath(n, Width)
	data, err := t.files.read(path)
	if err != nil {
		return nil, fmt.Errorf("tiles: %w", err)
	}
	ents, err := decodeBundle(data)
	if err == nil && len(ents) != Width {
		err = fmt.Errorf("%d entries, not %d", len(ents), Width)
	}
	if err != nil {
		return nil, fmt.Errorf("tiles: %s is damaged: %v", path, err)
	}
	hashes, err := t.rowsAt(st, 0, n)
	if err != nil {
		return nil, err
	}
	for i, e := range ents {
		if govlog.LeafHash(e) != hashes[0][i] {
			return nil, fmt.Errorf("tiles: %s is damaged: entry %d does not hash to its leaf", path, i)
		}
	}
	t.cache.put(key, ents, entriesBytes(ents))
	return ents, nil
}

// Entries returns up to count entries from start of the committed tree,
// stopping before maxBytes (at least one entry is returned).
func (t *Tree) Entries(start, count uint64, maxBytes int) ([][]byte, error) {
	st := t.st.Load()
	if start >= st.size {
		return nil, fmt.Errorf("start %d, tree size %d: %w", start, st.size, ErrBeyond)
	}
	count = min(count, st.size-start)
	var out [][]byte
	size := 0
	for next := start; next < start+count; {
		ents, err := t.bundle(st, next/Width)
		if err != nil {
			return nil, err
		}
		for _, e := range ents[next%Width:] {
			if next == start+count || (len(out) > 0 && size+len(e) > maxBytes) {
				return out, nil
			}
			out = append(out, e)
			size += len(e)
			next++
		}
	}
	return out, nil
}

// reader reads stored hashes (golang.org/x/mod/sumdb/tlog's numbering of
// every complete subtree) from the tiles of st.
func (t *Tree) reader(st *state) tlog.HashReaderFunc {
	return func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			level, n := tlog.SplitStoredHashIndex(x)
			k := level % 8
			tn := uint64(n) >> (8 - k)
			pos := uint64(n) - tn<<(8-k)
			r, err := t.rowsAt(st, level/8, tn)
			if err != nil {
				return nil, err
			}
			if pos >= uint64(len(r[k])) {
				return nil, fmt.Errorf("hash %d at level %d of a tree of %d: %w", n, level, st.size, ErrBeyond)
			}
			out[i] = r[k][pos]
		}
		return out, nil
	}
}

// InclusionProof proves entry index in the tree of the given size, which
// must be at most the committed tree's.
func (t *Tree) InclusionProof(index, size uint64) ([][32]byte, error) {
	st := t.st.Load()
	if size > st.size || index >= size {
		return nil, fmt.Errorf("index %d in a tree of %d, tiled up to %d: %w", index, size, st.size, ErrBeyond)
	}
	p, err := tlog.ProveRecord(int64(size), int64(index), t.reader(st))
	if err != nil {
		return nil, err
	}
	return toArrays(p), nil
}

// ConsistencyProof proves that the tree of size to extends the tree of
// size from; both at most the committed tree's.
func (t *Tree) ConsistencyProof(from, to uint64) ([][32]byte, error) {
	return t.consistency(t.st.Load(), from, to)
}

func (t *Tree) consistency(st *state, from, to uint64) ([][32]byte, error) {
	if from > to || to > st.size {
		return nil, fmt.Errorf("sizes %d to %d, tiled up to %d: %w", from, to, st.size, ErrBeyond)
	}
	if from == 0 || from == to {
		return nil, nil
	}
	p, err := tlog.ProveTree(int64(to), int64(from), t.reader(st))
	if err != nil {
		return nil, err
	}
	return toArrays(p), nil
}

func toArrays(p []tlog.Hash) [][32]byte {
	out := make([][32]byte, len(p))
	for i, h := range p {
		out[i] = h
	}
	return out
}

// store keeps the tiles' files.
type store interface {
	read(name string) ([]byte, error)
	write(name string, data []byte) error
}

// dirStore keeps them below a directory, each written whole (a temporary
// file renamed into place), so a reader never sees half a tile.
type dirStore string

func (d dirStore) read(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(string(d), filepath.FromSlash(name)))
}

func (d dirStore) write(name string, data []byte) error {
	path := filepath.Join(string(d), filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// memStore keeps them in memory (tools and tests).
type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memStore) read(name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.m[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
	}
	return data, nil
}

func (s *memStore) write(name string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[name] = bytes.Clone(data)
	return nil
}
