package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/govlog/govlog"
)

// fakeLog is the log's storage as a slice of leaves, with a reference
// root computed by golang.org/x/mod/sumdb/tlog's own stored hashes.
type fakeLog struct {
	leaves [][]byte
	stored []tlog.Hash
}

func (f *fakeLog) add(t *testing.T, leaf []byte) {
	t.Helper()
	hs, err := tlog.StoredHashes(int64(len(f.leaves)), leaf, tlog.HashReaderFunc(f.read))
	if err != nil {
		t.Fatal(err)
	}
	f.stored = append(f.stored, hs...)
	f.leaves = append(f.leaves, leaf)
}

func (f *fakeLog) read(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x >= int64(len(f.stored)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = f.stored[x]
	}
	return out, nil
}

func (f *fakeLog) root(t *testing.T, n uint64) [32]byte {
	t.Helper()
	h, err := tlog.TreeHash(int64(n), tlog.HashReaderFunc(f.read))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (f *fakeLog) source(ctx context.Context, start, count uint64) ([][]byte, error) {
	if start+count > uint64(len(f.leaves)) {
		return nil, fmt.Errorf("leaves %d+%d past %d", start, count, len(f.leaves))
	}
	return f.leaves[start : start+count], nil
}

func leafOf(i int) []byte {
	return fmt.Appendf(nil, "govlog/statement/v1\nexample.org/test\n{\"n\":%d}\n%s", i, strings.Repeat("x", i%300))
}

var testSKey, testVKey, _ = note.GenerateKey(rand.Reader, "example.org/test")

var testSigner = func() note.Signer {
	s, err := note.NewSigner(testSKey)
	if err != nil {
		panic(err)
	}
	return s
}()

func signed(t *testing.T, size uint64, root [32]byte) []byte {
	t.Helper()
	b, err := govlog.SignCheckpoint(govlog.Checkpoint{Origin: "example.org/test", Size: size, Hash: root}, testSigner)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// growTo appends leaves to f and tree up to size n in batches of step,
// committing each and checking its root against tlog's.
func growTo(t *testing.T, tree *Tree, f *fakeLog, n, step int) {
	t.Helper()
	for len(f.leaves) < n {
		start := len(f.leaves)
		for i := start; i < min(start+step, n); i++ {
			f.add(t, leafOf(i))
		}
		g, err := tree.Grow(f.leaves[start:])
		if err != nil {
			t.Fatal(err)
		}
		want := f.root(t, uint64(len(f.leaves)))
		if g.Root() != want {
			t.Fatalf("size %d: root %x, tlog says %x", len(f.leaves), g.Root(), want)
		}
		if err := g.Commit(signed(t, g.Size(), g.Root())); err != nil {
			t.Fatal(err)
		}
	}
}

func TestProofsAgainstMerkleLibrary(t *testing.T) {
	tree, err := Open(context.Background(), "", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeLog{}
	sizes := []int{1, 2, 3, 255, 256, 257, 511, 512, 1000, 65535, 65536, 65537, 70000}
	for _, n := range sizes {
		growTo(t, tree, f, n, 997)
		size := uint64(n)
		root := tree.Root()
		for _, index := range []uint64{0, 1, size / 3, size / 2, size - 2, size - 1} {
			if index >= size {
				continue
			}
			p, err := tree.InclusionProof(index, size)
			if err != nil {
				t.Fatalf("size %d index %d: %v", n, index, err)
			}
			lh := rfc6962.DefaultHasher.HashLeaf(f.leaves[index])
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, lh, slices(p), root[:]); err != nil {
				t.Fatalf("size %d index %d: %v", n, index, err)
			}
		}
		for _, from := range []uint64{1, 2, 255, 256, 300, 65536, size - 1} {
			if from == 0 || from >= size {
				continue
			}
			p, err := tree.ConsistencyProof(from, size)
			if err != nil {
				t.Fatalf("%d to %d: %v", from, size, err)
			}
			old := f.root(t, from)
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, from, size, slices(p), old[:], root[:]); err != nil {
				t.Fatalf("%d to %d: %v", from, size, err)
			}
		}
	}
	ents, err := tree.Entries(250, 20, 1<<20)
	if err != nil || len(ents) != 20 || !bytes.Equal(ents[0], leafOf(250)) || !bytes.Equal(ents[19], leafOf(269)) {
		t.Fatalf("Entries(250, 20): %d entries, %v", len(ents), err)
	}
	ents, err = tree.Entries(69990, 100, 1<<20)
	if err != nil || len(ents) != 10 {
		t.Fatalf("Entries at the end: %d entries, %v", len(ents), err)
	}
	ents, err = tree.Entries(0, 1000, 1000)
	if err != nil || len(ents) < 1 || len(ents) > 20 {
		t.Fatalf("Entries bounded by bytes: %d entries, %v", len(ents), err)
	}
	if _, err := tree.InclusionProof(5, 70001); !errors.Is(err, ErrBeyond) {
		t.Fatalf("proof past the tree: %v", err)
	}
	if _, err := tree.Entries(70000, 1, 1<<20); !errors.Is(err, ErrBeyond) {
		t.Fatalf("entries past the tree: %v", err)
	}
}

func slices(p [][32]byte) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out
}

// httpTiles is a tlog.TileReader over HTTP: it names tiles by
// golang.org/x/mod/sumdb/tlog's own paths, turned into C2SP's (no height
// element; "data" is "entries"), so the server's path code is not used.
type httpTiles struct {
	t    *testing.T
	base string
}

func (h httpTiles) Height() int { return 8 }

func (h httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		data, err := h.get(c2spPath(tile))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (h httpTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func (h httpTiles) get(path string) ([]byte, error) {
	resp, err := http.Get(h.base + "/" + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	return body, nil
}

func c2spPath(t tlog.Tile) string {
	p := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
	return strings.Replace(p, "tile/data/", "tile/entries/", 1)
}

// TestStandardTlogClient reads the tiles over HTTP with
// golang.org/x/mod/sumdb/tlog's tile reader, which checks every tile it
// reads against the checkpoint's root, and checks record proofs with it.
func TestStandardTlogClient(t *testing.T) {
	dir := t.TempDir()
	tree, err := Open(context.Background(), dir, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeLog{}
	growTo(t, tree, f, 66000, 1500)
	srv := httptest.NewServer(tree)
	defer srv.Close()
	client := httpTiles{t: t, base: srv.URL}

	cpText, err := client.get("checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(cpText, note.VerifierList(mustVerifier(t)))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := govlog.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		t.Fatal(err)
	}
	tree0 := tlog.Tree{N: int64(cp.Size), Hash: cp.Hash}
	reader := tlog.TileHashReader(tree0, client)
	th, err := tlog.TreeHash(tree0.N, reader)
	if err != nil || th != tree0.Hash {
		t.Fatalf("tlog's tree hash over the tiles: %x, %v; checkpoint %x", th, err, tree0.Hash)
	}
	for _, index := range []int64{0, 255, 256, 40000, 65535, 65536, 65999} {
		p, err := tlog.ProveRecord(tree0.N, index, reader)
		if err != nil {
			t.Fatalf("record %d: %v", index, err)
		}
		if err := tlog.CheckRecord(p, tree0.N, tree0.Hash, index, tlog.RecordHash(f.leaves[index])); err != nil {
			t.Fatalf("record %d: %v", index, err)
		}
		// The entry bundle holds the entry, which hashes to the leaf the
		// hash tile holds.
		bundle := tlog.Tile{H: 8, L: -1, N: index / 256, W: 256}
		if rest := tree0.N - bundle.N*256; rest < 256 {
			bundle.W = int(rest)
		}
		data, err := client.get(c2spPath(bundle))
		if err != nil {
			t.Fatal(err)
		}
		ents, err := decodeBundleIndependently(data)
		if err != nil || len(ents) != bundle.W || !bytes.Equal(ents[index%256], f.leaves[index]) {
			t.Fatalf("bundle %d: %d entries, %v", bundle.N, len(ents), err)
		}
	}
	// An older checkpoint's partial tiles are still served.
	old := tlog.Tree{N: 65600, Hash: f.root(t, 65600)}
	p, err := tlog.ProveRecord(old.N, 65590, tlog.TileHashReader(old, client))
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckRecord(p, old.N, old.Hash, 65590, tlog.RecordHash(f.leaves[65590])); err != nil {
		t.Fatal(err)
	}
	tp, err := tlog.ProveTree(tree0.N, old.N, tlog.TileHashReader(tree0, client))
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(tp, tree0.N, tree0.Hash, old.N, old.Hash); err != nil {
		t.Fatal(err)
	}
}

// decodeBundleIndependently reads uint16-length-prefixed entries.
func decodeBundleIndependently(data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("short")
		}
		n := int(data[0])<<8 | int(data[1])
		if len(data) < 2+n {
			return nil, errors.New("short entry")
		}
		out = append(out, data[2:2+n])
		data = data[2+n:]
	}
	return out, nil
}

func mustVerifier(t *testing.T) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(testVKey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestHTTP(t *testing.T) {
	tree, err := Open(context.Background(), "", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(tree)
	defer srv.Close()
	get := func(path string, gz bool) (int, http.Header, []byte) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/"+path, nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		} else {
			req.Header.Set("Accept-Encoding", "identity")
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, body
	}
	if code, _, _ := get("checkpoint", false); code != http.StatusNotFound {
		t.Fatalf("checkpoint of an empty tree: %d", code)
	}
	f := &fakeLog{}
	growTo(t, tree, f, 300, 300)

	code, h, body := get("checkpoint", false)
	if code != 200 || h.Get("Content-Type") != "text/plain; charset=utf-8" || !strings.Contains(h.Get("Cache-Control"), "max-age=2") || !bytes.HasPrefix(body, []byte("example.org/test\n300\n")) {
		t.Fatalf("checkpoint: %d %v %q", code, h, body)
	}
	code, h, body = get("tile/0/000", false)
	if code != 200 || len(body) != 8192 || !strings.Contains(h.Get("Cache-Control"), "immutable") || h.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("full tile: %d %v %d bytes", code, h, len(body))
	}
	if code, _, body = get("tile/0/001.p/44", false); code != 200 || len(body) != 44*32 {
		t.Fatalf("partial tile: %d, %d bytes", code, len(body))
	}
	if code, _, body = get("tile/0/001.p/10", false); code != 200 || len(body) != 10*32 {
		t.Fatalf("narrower partial tile: %d, %d bytes", code, len(body))
	}
	if code, _, body = get("tile/0/000.p/7", false); code != 200 || len(body) != 7*32 {
		t.Fatalf("partial of a full tile: %d, %d bytes", code, len(body))
	}
	if code, _, body = get("tile/1/000.p/1", false); code != 200 || len(body) != 32 {
		t.Fatalf("level 1: %d, %d bytes", code, len(body))
	}
	code, h, body = get("tile/entries/000", true)
	if code != 200 || h.Get("Content-Encoding") != "gzip" {
		t.Fatalf("entries: %d %v", code, h)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	ents, err := decodeBundleIndependently(raw)
	if err != nil || len(ents) != 256 || !bytes.Equal(ents[3], f.leaves[3]) {
		t.Fatalf("entries: %d, %v", len(ents), err)
	}
	for _, path := range []string{
		"tile/0/001.p/45", // wider than the tree
		"tile/0/001",      // not full yet
		"tile/0/002.p/1",
		"tile/2/000.p/1",
		"tile/entries/001.p/45",
		"tile/0/1",        // not 3 digits
		"tile/0/x000/001", // not canonical
		"tile/00/000",
		"tile/0/000.p/0",
		"tile/0/000.p/256",
		"tile/64/000",
		"tile/entries",
		"other",
	} {
		if code, _, _ := get(path, false); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
	}
	resp, err := http.Post(srv.URL+"/checkpoint", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
}

func TestPaths(t *testing.T) {
	for n, want := range map[uint64]string{0: "000", 5: "005", 999: "999", 1000: "x001/000", 1234067: "x001/x234/067"} {
		if got := tileIndexPath(n); got != want {
			t.Errorf("%d: %s, want %s", n, got, want)
		}
		ref, err := parsePath("tile/3/" + want + ".p/9")
		if err != nil || ref.n != n || ref.level != 3 || ref.width != 9 || ref.entries {
			t.Errorf("parse %s: %+v %v", want, ref, err)
		}
	}
	// Every tile path tlog makes (its height element taken out) parses
	// back to the same tile.
	for range 2000 {
		l, _ := rand.Int(rand.Reader, big.NewInt(5))
		n, _ := rand.Int(rand.Reader, big.NewInt(1<<40))
		w, _ := rand.Int(rand.Reader, big.NewInt(256))
		tile := tlog.Tile{H: 8, L: int(l.Int64()), N: n.Int64(), W: int(w.Int64()) + 1}
		ref, err := parsePath(c2spPath(tile))
		if err != nil || ref.level != tile.L || ref.n != uint64(tile.N) || ref.width != tile.W {
			t.Fatalf("%s: %+v %v", c2spPath(tile), ref, err)
		}
		if got := TilePath(tile.L, uint64(tile.N), tile.W); got != c2spPath(tile) {
			t.Fatalf("TilePath: %s, tlog: %s", got, c2spPath(tile))
		}
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"tile/0/000", "tile/entries/x001/234.p/5", "tile/63/x999/999", "checkpoint", "tile/0/000.p/255"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		ref, err := parsePath(p)
		if err != nil {
			return
		}
		var back string
		if ref.entries {
			back = EntriesPath(ref.n, ref.width)
		} else {
			back = TilePath(ref.level, ref.n, ref.width)
		}
		if back != p {
			t.Fatalf("%q parses to %+v, which prints as %q", p, ref, back)
		}
	})
}

// TestReopen: tiles written to a folder are found again; a damaged tile
// under the right edge makes Open rebuild them; a damaged full tile
// elsewhere is refused when read; storage that no longer holds the tree
// makes Open fail.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tree, err := Open(ctx, dir, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeLog{}
	growTo(t, tree, f, 70000, 4000)
	root := tree.Root()

	again, err := Open(ctx, dir, NewCache(0), f.source, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Size() != 70000 || again.Root() != root || !bytes.Equal(again.Checkpoint(), tree.Checkpoint()) {
		t.Fatalf("reopened: size %d root %x", again.Size(), again.Root())
	}
	// It grows on from there.
	f.add(t, leafOf(70000))
	g, err := again.Grow(f.leaves[70000:])
	if err != nil || g.Root() != f.root(t, 70001) {
		t.Fatalf("grow after reopen: %v", err)
	}

	// A damaged level-0 tile deep inside the tree: Open does not read it,
	// but a proof through it is refused, not served.
	damage(t, filepath.Join(dir, "tile", "0", "010"))
	again, err = Open(ctx, dir, NewCache(0), f.source, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.InclusionProof(10*256+3, 70000); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("proof through a damaged tile: %v", err)
	}
	if _, err := again.Entries(10*256, 1, 1<<20); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("entries through a damaged tile: %v", err)
	}

	// A damaged tile under the right edge: Open rebuilds every tile.
	damage(t, filepath.Join(dir, "tile", "0", "272")) // 70000 = 273*256 + 112: tile 272 is the last full one
	again, err = Open(ctx, dir, NewCache(0), f.source, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Root() != root {
		t.Fatal("rebuilt tiles have another root")
	}
	p, err := again.InclusionProof(10*256+3, 70000)
	if err != nil {
		t.Fatal(err)
	}
	lh := rfc6962.DefaultHasher.HashLeaf(f.leaves[10*256+3])
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, 10*256+3, 70000, lh, slices(p), root[:]); err != nil {
		t.Fatal(err)
	}

	// The storage lost the tree (a rolled-back database): Open fails.
	other := &fakeLog{}
	for i := range 70000 {
		other.leaves = append(other.leaves, leafOf(i+1))
	}
	damage(t, filepath.Join(dir, "tile", "0", "272"))
	if _, err := Open(ctx, dir, NewCache(0), other.source, nil); err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("storage with other leaves: %v", err)
	}
	short := &fakeLog{leaves: f.leaves[:1000]}
	if _, err := Open(ctx, dir, NewCache(0), short.source, nil); err == nil {
		t.Fatal("storage shorter than the tiles' checkpoint: no error")
	}
}

func damage(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[100] ^= 1
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEntryTooLarge(t *testing.T) {
	tree, _ := Open(context.Background(), "", nil, nil, nil)
	if _, err := tree.Grow([][]byte{make([]byte, MaxEntrySize+1)}); err == nil {
		t.Fatal("an entry too large for a bundle was taken")
	}
	g, err := tree.Grow([][]byte{make([]byte, MaxEntrySize)})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Commit(nil); err != nil {
		t.Fatal(err)
	}
	// A growth made before another commit is refused.
	g1, _ := tree.Grow([][]byte{[]byte("a")})
	g2, _ := tree.Grow([][]byte{[]byte("b")})
	if err := g1.Commit(nil); err != nil {
		t.Fatal(err)
	}
	if err := g2.Commit(nil); err == nil {
		t.Fatal("a stale growth was committed")
	}
}
