package client

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/govlog/govlog"
)

// Tiles reads one log through its C2SP tlog-tiles read path over HTTP (a
// govlog server's /<log>/ prefix, a mirror, or a CDN in front of either),
// without gRPC. Every tile it uses is checked against the checkpoint it
// read, by golang.org/x/mod/sumdb/tlog's tile reader.
type Tiles struct {
	prefix string
	http   *http.Client
}

// maxTileBody bounds one tile or entry bundle read: 256 entries of at most
// 64 KiB each, with their lengths.
const maxTileBody = 256 * (1<<16 + 2)

// NewTiles reads the log whose tiles are below prefix (for example
// http://127.0.0.1:7080/disclosures/). hc nil: a client with a 30 s timeout.
func NewTiles(prefix string, hc *http.Client) *Tiles {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Tiles{prefix: strings.TrimSuffix(prefix, "/") + "/", http: hc}
}

func (t *Tiles) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.prefix+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTileBody+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", req.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", req.URL, resp.Status)
	}
	if len(body) > maxTileBody {
		return nil, fmt.Errorf("GET %s: answer larger than any tile", req.URL)
	}
	return body, nil
}

// Checkpoint returns the log's latest signed checkpoint, cosignatures
// attached, unverified.
func (t *Tiles) Checkpoint(ctx context.Context) ([]byte, error) {
	return t.get(ctx, "checkpoint")
}

// tileReader is a tlog.TileReader over the read path.
type tileReader struct {
	ctx context.Context
	t   *Tiles
}

func (r tileReader) Height() int { return 8 }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		data, err := r.t.get(r.ctx, c2spTilePath(tile))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (r tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

// c2spTilePath is the C2SP path of a tlog tile of height 8: tlog's own path
// without the height element, with "entries" for "data".
func c2spTilePath(t tlog.Tile) string {
	p := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
	return strings.Replace(p, "tile/data/", "tile/entries/", 1)
}

// Bundle makes the tlog-proof bundle of entry index at the latest
// checkpoint from the tiles: the entry from its bundle, the inclusion
// proof from hash tiles checked against the checkpoint's root. The
// checkpoint's signatures are not checked here: govlog verify checks the
// bundle against a policy.
func (t *Tiles) Bundle(ctx context.Context, index uint64) ([]byte, error) {
	signed, err := t.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	text, _, ok := cutNote(signed)
	if !ok {
		return nil, errors.New("the read path's checkpoint is not a signed note")
	}
	cp, err := govlog.ParseCheckpoint(text)
	if err != nil {
		return nil, fmt.Errorf("the read path's checkpoint: %w", err)
	}
	if index >= cp.Size {
		return nil, fmt.Errorf("entry %d is not in the log's checkpoint of size %d", index, cp.Size)
	}
	tree := tlog.Tree{N: int64(cp.Size), Hash: cp.Hash}
	reader := tlog.TileHashReader(tree, tileReader{ctx, t})
	proof, err := tlog.ProveRecord(tree.N, int64(index), reader)
	if err != nil {
		return nil, fmt.Errorf("couldn't prove entry %d from the tiles: %w", index, err)
	}
	entry, err := t.entry(ctx, cp.Size, index)
	if err != nil {
		return nil, err
	}
	if err := tlog.CheckRecord(proof, tree.N, tree.Hash, int64(index), tlog.RecordHash(entry)); err != nil {
		return nil, fmt.Errorf("entry %d from its bundle is not the leaf the tiles hold: %w", index, err)
	}
	hashes := make([][32]byte, len(proof))
	for i, h := range proof {
		hashes[i] = h
	}
	b := govlog.Bundle{Extra: entry, Index: index, Proof: hashes, Checkpoint: signed}
	return b.Marshal(), nil
}

// entry reads entry index from its entry bundle in a tree of size size.
func (t *Tiles) entry(ctx context.Context, size, index uint64) ([]byte, error) {
	ents, err := t.bundle(ctx, size, index/256)
	if err != nil {
		return nil, err
	}
	if int(index%256) >= len(ents) {
		return nil, fmt.Errorf("entry bundle %d has %d entries, not entry %d", index/256, len(ents), index)
	}
	return ents[index%256], nil
}

// Entries returns the entries from start up to the end of their entry
// bundle (at most count), in a tree of size size. They are not checked
// here: a caller hashes them into the checkpoint's root, as a monitor does.
func (t *Tiles) Entries(ctx context.Context, size, start, count uint64) ([][]byte, error) {
	if start >= size {
		return nil, fmt.Errorf("start %d is past the tree of size %d", start, size)
	}
	ents, err := t.bundle(ctx, size, start/256)
	if err != nil {
		return nil, err
	}
	ents = ents[start%256:]
	return ents[:min(uint64(len(ents)), count)], nil
}

// bundle reads entry bundle n of a tree of size size: full, or partial with
// the width that size gives it.
func (t *Tiles) bundle(ctx context.Context, size, n uint64) ([][]byte, error) {
	tile := tlog.Tile{H: 8, L: -1, N: int64(n), W: 256}
	if rest := size - n*256; rest < 256 {
		tile.W = int(rest)
	}
	data, err := t.get(ctx, c2spTilePath(tile))
	if err != nil {
		return nil, err
	}
	var ents [][]byte
	for len(data) > 0 {
		if len(data) < 2 || len(data) < 2+int(binary.BigEndian.Uint16(data)) {
			return nil, fmt.Errorf("entry bundle %d is truncated", n)
		}
		l := int(binary.BigEndian.Uint16(data))
		ents = append(ents, data[2:2+l:2+l])
		data = data[2+l:]
	}
	if len(ents) != tile.W {
		return nil, fmt.Errorf("entry bundle %d holds %d entries, want %d", n, len(ents), tile.W)
	}
	return ents, nil
}

// TilesReader reads several logs through their tiles, by log name, the way
// a monitor reads them over gRPC (it implements monitor.LogReader): the
// checkpoint, entries from entry bundles, and consistency proofs made from
// hash tiles, each tile checked against the checkpoint last read.
type TilesReader struct {
	mu   sync.Mutex
	logs map[string]*Tiles
	last map[string]govlog.Checkpoint // the checkpoint last read, per log
}

// NewTilesReader reads each log named in prefixes from its prefix (for
// example "disclosures": "https://logs.example/disclosures/").
func NewTilesReader(prefixes map[string]string, hc *http.Client) *TilesReader {
	r := &TilesReader{logs: map[string]*Tiles{}, last: map[string]govlog.Checkpoint{}}
	for name, p := range prefixes {
		r.logs[name] = NewTiles(p, hc)
	}
	return r
}

func (r *TilesReader) log(name string) (*Tiles, error) {
	t, ok := r.logs[name]
	if !ok {
		return nil, fmt.Errorf("no tiles URL for log %q", name)
	}
	return t, nil
}

func (r *TilesReader) lastCheckpoint(name string) (govlog.Checkpoint, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp, ok := r.last[name]
	return cp, ok
}

// Checkpoint returns the log's latest checkpoint, unverified, and keeps
// its size and root for the reads that follow.
func (r *TilesReader) Checkpoint(ctx context.Context, name string) ([]byte, error) {
	t, err := r.log(name)
	if err != nil {
		return nil, err
	}
	signed, err := t.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	text, _, ok := cutNote(signed)
	if !ok {
		return nil, fmt.Errorf("the %s read path's checkpoint is not a signed note", name)
	}
	cp, err := govlog.ParseCheckpoint(text)
	if err != nil {
		return nil, fmt.Errorf("the %s read path's checkpoint: %w", name, err)
	}
	r.mu.Lock()
	r.last[name] = cp
	r.mu.Unlock()
	return signed, nil
}

// Entries returns entries from start, up to the end of their entry bundle,
// within the checkpoint last read.
func (r *TilesReader) Entries(ctx context.Context, name string, start, count uint64) ([][]byte, error) {
	t, err := r.log(name)
	if err != nil {
		return nil, err
	}
	cp, ok := r.lastCheckpoint(name)
	if !ok {
		return nil, fmt.Errorf("read the %s checkpoint before its entries", name)
	}
	return t.Entries(ctx, cp.Size, start, count)
}

// ConsistencyProof proves that the checkpoint last read (of size to)
// extends the tree of size from, from hash tiles.
func (r *TilesReader) ConsistencyProof(ctx context.Context, name string, from, to uint64) ([][]byte, error) {
	t, err := r.log(name)
	if err != nil {
		return nil, err
	}
	cp, ok := r.lastCheckpoint(name)
	if !ok || cp.Size != to {
		return nil, fmt.Errorf("a consistency proof to size %d needs that checkpoint read first", to)
	}
	if from == 0 || from == to {
		return nil, nil
	}
	if from > to {
		return nil, fmt.Errorf("from size %d is past to size %d", from, to)
	}
	tree := tlog.Tree{N: int64(to), Hash: cp.Hash}
	p, err := tlog.ProveTree(tree.N, int64(from), tlog.TileHashReader(tree, tileReader{ctx, t}))
	if err != nil {
		return nil, fmt.Errorf("couldn't prove %d to %d from the tiles: %w", from, to, err)
	}
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out, nil
}
