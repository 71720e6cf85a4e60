package s3mirror

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/log-server/tiles"
)

const (
	bucket = "transparency"
	origin = "example.org/disclosures"
)

// fakeS3 is an S3 server in the test process (gofakes3, in memory) behind
// a handler that counts the writes by key and can refuse every request,
// as a store that is down does.
type fakeS3 struct {
	backend *s3mem.Backend
	srv     *httptest.Server

	mu       sync.Mutex
	down     bool
	puts     map[string]int
	headers  map[string][2]string // key: Content-Type, Cache-Control of its last write
	cpReads  int
	inner    http.Handler
	putOrder []string
}

func newFakeS3(t testing.TB) *fakeS3 {
	f := &fakeS3{backend: s3mem.New(), puts: map[string]int{}, headers: map[string][2]string{}}
	if err := f.backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	f.inner = gofakes3.New(f.backend).Server()
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	if f.down {
		f.mu.Unlock()
		http.Error(w, "down for the test", http.StatusServiceUnavailable)
		return
	}
	key := strings.TrimPrefix(r.URL.Path, "/"+bucket+"/")
	switch r.Method {
	case http.MethodPut:
		f.puts[key]++
		f.putOrder = append(f.putOrder, key)
		f.headers[key] = [2]string{r.Header.Get("Content-Type"), r.Header.Get("Cache-Control")}
	case http.MethodGet:
		if strings.HasSuffix(key, "/checkpoint") {
			f.cpReads++
		}
	}
	f.mu.Unlock()
	f.inner.ServeHTTP(w, r)
}

func (f *fakeS3) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// object reads a key from the backend itself, past the handler.
func (f *fakeS3) object(key string) ([]byte, error) {
	obj, err := f.backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil, err
	}
	defer obj.Contents.Close()
	return io.ReadAll(obj.Contents)
}

func (f *fakeS3) mirror(t *testing.T, log string) *Mirror {
	t.Helper()
	u, err := url.Parse(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Options{Endpoint: u.Host, Bucket: bucket, Prefix: "/govlog", AccessKeyID: "test", SecretAccessKey: "test-secret"})
	if err != nil {
		t.Fatal(err)
	}
	return m.Sub(log)
}

// testLog is a log's leaves, its tree of tiles and its signer.
type testLog struct {
	t      testing.TB
	tree   *tiles.Tree
	leaves [][]byte
	stored []tlog.Hash // tlog's own stored hashes: the reference roots
	signer note.Signer
	vkey   string
}

func newTestLog(t testing.TB) *testLog {
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := tiles.Open(context.Background(), "", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &testLog{t: t, tree: tree, signer: signer, vkey: vkey}
}

func (l *testLog) read(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = l.stored[x]
	}
	return out, nil
}

func (l *testLog) root(n int) tlog.Hash {
	h, err := tlog.TreeHash(int64(n), tlog.HashReaderFunc(l.read))
	if err != nil {
		l.t.Fatal(err)
	}
	return h
}

// growTo appends leaves up to size n, step at a time, each step
// committed with a signed checkpoint, as the log's publishing loop does.
func (l *testLog) growTo(n, step int) {
	t := l.t
	t.Helper()
	for len(l.leaves) < n {
		start := len(l.leaves)
		for i := start; i < min(start+step, n); i++ {
			leaf := fmt.Appendf(nil, "govlog/statement/v1\n%s\n{\"n\":%d}\n%s", origin, i, strings.Repeat("y", i%200))
			hs, err := tlog.StoredHashes(int64(i), leaf, tlog.HashReaderFunc(l.read))
			if err != nil {
				t.Fatal(err)
			}
			l.stored = append(l.stored, hs...)
			l.leaves = append(l.leaves, leaf)
		}
		g, err := l.tree.Grow(l.leaves[start:])
		if err != nil {
			t.Fatal(err)
		}
		if g.Root() != l.root(len(l.leaves)) {
			t.Fatalf("size %d: the tree's root is not tlog's", len(l.leaves))
		}
		signed, err := govlog.SignCheckpoint(govlog.Checkpoint{Origin: origin, Size: g.Size(), Hash: g.Root()}, l.signer)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Commit(signed); err != nil {
			t.Fatal(err)
		}
	}
}

// runMirror runs tree.RunMirror until the returned stop is called.
func runMirror(t *testing.T, tree *tiles.Tree, m tiles.Mirror, logs io.Writer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- tree.RunMirror(ctx, m, tiles.MirrorOptions{
			Logger:   slog.New(slog.NewTextHandler(logs, nil)),
			Interval: 5 * time.Millisecond, Retry: 20 * time.Millisecond, MaxRetry: 200 * time.Millisecond,
		})
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("RunMirror: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitMirrored waits until the store's checkpoint is the tree's.
func waitMirrored(t *testing.T, f *fakeS3, key string, tree *tiles.Tree) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := f.object(key)
		if err == nil && bytes.Equal(got, tree.Checkpoint()) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mirror's checkpoint is not the tree's of size %d after a minute (%v)", tree.Size(), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// storeTiles is a tlog.TileReader over plain HTTP GETs of the store,
// anonymous, as a CDN in front of it would make: it uses none of our code,
// and names tiles by tlog's own paths turned into C2SP's.
type storeTiles struct{ base string }

func (s storeTiles) Height() int { return 8 }

func (s storeTiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, tile := range ts {
		data, _, err := s.get(c2spPath(tile))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (s storeTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func (s storeTiles) get(path string) ([]byte, http.Header, error) {
	resp, err := http.Get(s.base + path)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return body, resp.Header, nil
}

func c2spPath(t tlog.Tile) string {
	p := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
	return strings.Replace(p, "tile/data/", "tile/entries/", 1)
}

// checkFromStore reads the log back from the store only: its checkpoint
// (signature checked), the tree hash over its tiles, record proofs of
// spread indexes and the entries in their bundles, a consistency proof
// from an older size.
func checkFromStore(t *testing.T, l *testLog, base string) {
	t.Helper()
	client := storeTiles{base: base}
	cpText, h, err := client.get("checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("Content-Type") != tiles.CheckpointContentType {
		t.Errorf("checkpoint's Content-Type: %q", h.Get("Content-Type"))
	}
	v, err := note.NewVerifier(l.vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(cpText, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := govlog.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		t.Fatal(err)
	}
	if cp.Size != uint64(len(l.leaves)) {
		t.Fatalf("the store's checkpoint has size %d, the log %d", cp.Size, len(l.leaves))
	}
	tree := tlog.Tree{N: int64(cp.Size), Hash: cp.Hash}
	reader := tlog.TileHashReader(tree, client)
	th, err := tlog.TreeHash(tree.N, reader)
	if err != nil || th != tree.Hash {
		t.Fatalf("tlog's tree hash over the store's tiles: %x, %v; checkpoint %x", th, err, tree.Hash)
	}
	for _, index := range []int64{0, 1, 255, 256, 257, 40000, 65535, 65536, tree.N / 2, tree.N - 257, tree.N - 2, tree.N - 1} {
		if index < 0 || index >= tree.N {
			continue
		}
		p, err := tlog.ProveRecord(tree.N, index, reader)
		if err != nil {
			t.Fatalf("record %d: %v", index, err)
		}
		if err := tlog.CheckRecord(p, tree.N, tree.Hash, index, tlog.RecordHash(l.leaves[index])); err != nil {
			t.Fatalf("record %d: %v", index, err)
		}
		bundle := tlog.Tile{H: 8, L: -1, N: index / 256, W: int(min(256, tree.N-index/256*256))}
		data, h, err := client.get(c2spPath(bundle))
		if err != nil {
			t.Fatal(err)
		}
		if h.Get("Content-Type") != tiles.TileContentType {
			t.Errorf("%s: Content-Type %q", c2spPath(bundle), h.Get("Content-Type"))
		}
		ents := splitBundle(t, data)
		if len(ents) != bundle.W || !bytes.Equal(ents[index%256], l.leaves[index]) {
			t.Fatalf("bundle %s: %d entries, entry %d not the log's", c2spPath(bundle), len(ents), index)
		}
	}
	if old := tree.N * 2 / 3; old > 0 {
		p, err := tlog.ProveTree(tree.N, old, reader)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(p, tree.N, tree.Hash, old, l.root(int(old))); err != nil {
			t.Fatal(err)
		}
	}
}

func splitBundle(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 2 || len(data) < 2+(int(data[0])<<8|int(data[1])) {
			t.Fatal("truncated entry bundle")
		}
		n := int(data[0])<<8 | int(data[1])
		out = append(out, data[2:2+n])
		data = data[2+n:]
	}
	return out
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestMirrorToS3: a log of 70,000 entries is uploaded to an S3 server,
// then follows the log as it grows, and a standard tlog client reading the
// store alone proves its records; a store that refuses every request for a
// while is caught up once it answers; a mirror started again writes only
// what the store lacks.
func TestMirrorToS3(t *testing.T) {
	f := newFakeS3(t)
	l := newTestLog(t)
	l.growTo(70000, 1500) // past a level-0 and a level-1 tile boundary
	const prefix = "govlog/disclosures/"
	base := f.srv.URL + "/" + bucket + "/" + prefix

	var logs lockedBuffer
	stop := runMirror(t, l.tree, f.mirror(t, "disclosures"), &logs)
	waitMirrored(t, f, prefix+"checkpoint", l.tree)
	checkFromStore(t, l, base)
	if !strings.Contains(logs.String(), `msg="uploading tiles to the mirror" size=65536 of=70000`) {
		t.Errorf("no progress logged for the first upload:\n%s", logs.String())
	}
	f.mu.Lock()
	for key, h := range f.headers {
		want := [2]string{tiles.TileContentType, tiles.TileCacheControl}
		if strings.HasSuffix(key, "/checkpoint") {
			want = [2]string{tiles.CheckpointContentType, tiles.CheckpointCacheControl}
		}
		if h != want {
			t.Errorf("%s written with %q, want %q", key, h, want)
		}
	}
	f.mu.Unlock()

	// It follows the log: small commits, across tile boundaries.
	l.growTo(70000+700, 97)
	waitMirrored(t, f, prefix+"checkpoint", l.tree)
	checkFromStore(t, l, base)

	// The store refuses every request while the log grows: the mirror's
	// checkpoint stays where it was, then catches up.
	before, err := f.object(prefix + "checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	f.setDown(true)
	l.growTo(70700+2000, 450)
	for deadline := time.Now().Add(time.Minute); strings.Count(logs.String(), "couldn't update the tiles mirror; retrying") < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no failure logged in a minute of the store down:\n%s", logs.String())
		}
	}
	if got, _ := f.object(prefix + "checkpoint"); !bytes.Equal(got, before) {
		t.Fatal("the mirror's checkpoint changed while the store was down")
	}
	f.setDown(false)
	waitMirrored(t, f, prefix+"checkpoint", l.tree)
	checkFromStore(t, l, base)

	// Every object was written once: nothing written again after the
	// failure. The checkpoint was written after every tile it names.
	f.mu.Lock()
	for key, n := range f.puts {
		if n != 1 && !strings.HasSuffix(key, "/checkpoint") {
			t.Errorf("%s written %d times", key, n)
		}
	}
	if last := f.putOrder[len(f.putOrder)-1]; last != prefix+"checkpoint" {
		t.Errorf("the last object written was %s, not the checkpoint", last)
	}
	f.mu.Unlock()

	// Started again, with the log grown meanwhile past a tile: only the
	// new full tiles, the new partial ones and the checkpoint are written.
	stop()
	l.growTo(72700+100, 100) // 72,700 = 283*256+252: tile 0/283 fills
	f.mu.Lock()
	f.puts, f.putOrder, f.cpReads = map[string]int{}, nil, 0
	f.mu.Unlock()
	runMirror(t, l.tree, f.mirror(t, "disclosures"), &logs)
	waitMirrored(t, f, prefix+"checkpoint", l.tree)
	checkFromStore(t, l, base)
	f.mu.Lock()
	defer f.mu.Unlock()
	// 72,800 = 284*256 + 96 = (1*256 + 28)*256 + 96.
	want := []string{"tile/0/283", "tile/entries/283", "tile/0/284.p/96", "tile/entries/284.p/96", "tile/1/001.p/28", "checkpoint"}
	if len(f.puts) != len(want) || f.cpReads == 0 {
		t.Errorf("restarted: read the checkpoint %d times, wrote %v; want %v", f.cpReads, f.putOrder, want)
	}
	for _, key := range want {
		if f.puts[prefix+key] != 1 {
			t.Errorf("restarted: %s written %d times, want once (all: %v)", key, f.puts[prefix+key], f.putOrder)
		}
	}
}

func TestGetMissing(t *testing.T) {
	f := newFakeS3(t)
	m := f.mirror(t, "votes")
	ctx := context.Background()
	if _, err := m.Get(ctx, "checkpoint"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing object: %v, want fs.ErrNotExist", err)
	}
	if err := m.Put(ctx, "tile/0/000.p/1", []byte("0123456789abcdef0123456789abcdef"), tiles.TileContentType, tiles.TileCacheControl); err != nil {
		t.Fatal(err)
	}
	got, err := m.Get(ctx, "tile/0/000.p/1")
	if err != nil || string(got) != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("read back: %q, %v", got, err)
	}
	if _, err := f.object("govlog/votes/tile/0/000.p/1"); err != nil {
		t.Fatalf("not under the prefix: %v", err)
	}
	// A missing bucket is not an empty mirror.
	u, _ := url.Parse(f.srv.URL)
	other, err := New(Options{Endpoint: u.Host, Bucket: "no-such-bucket", AccessKeyID: "a", SecretAccessKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Get(ctx, "checkpoint"); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing bucket: %v", err)
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no endpoint", Options{Bucket: "b", AccessKeyID: "a", SecretAccessKey: "s"}},
		{"a URL", Options{Endpoint: "https://s3.example.org", Bucket: "b", AccessKeyID: "a", SecretAccessKey: "s"}},
		{"no bucket", Options{Endpoint: "s3.example.org", AccessKeyID: "a", SecretAccessKey: "s"}},
		{"no secret", Options{Endpoint: "s3.example.org", Bucket: "b", AccessKeyID: "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.opts); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	m, err := New(Options{Endpoint: "s3.example.org", Bucket: "b", Prefix: "/a//", AccessKeyID: "a", SecretAccessKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Prefix() != "a/" || m.Sub("funds").Prefix() != "a/funds/" {
		t.Fatalf("prefixes %q, %q", m.Prefix(), m.Sub("funds").Prefix())
	}
	if m, _ := New(Options{Endpoint: "s3.example.org", Bucket: "b", AccessKeyID: "a", SecretAccessKey: "s"}); m.Sub("funds").Prefix() != "funds/" {
		t.Fatalf("no prefix: %q", m.Sub("funds").Prefix())
	}
}

// BenchmarkFirstUpload uploads a log of 65,636 entries (256 full tiles and
// bundles, a level-1 tile, three partial ones, the checkpoint: 517
// objects) to an empty prefix of the in-process S3 server, 8 at a time,
// and reports objects and entries per second.
func BenchmarkFirstUpload(b *testing.B) {
	f := newFakeS3(b)
	l := newTestLog(b)
	l.growTo(65536+100, 65536+100)
	u, _ := url.Parse(f.srv.URL)
	var objects int
	b.ResetTimer()
	for i := range b.N {
		m, err := New(Options{Endpoint: u.Host, Bucket: bucket, Prefix: fmt.Sprintf("bench-%d", i), AccessKeyID: "a", SecretAccessKey: "b"})
		if err != nil {
			b.Fatal(err)
		}
		f.mu.Lock()
		before := len(f.putOrder)
		f.mu.Unlock()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- l.tree.RunMirror(ctx, m, tiles.MirrorOptions{Logger: slog.New(slog.DiscardHandler)}) }()
		for {
			got, err := f.object(m.Prefix() + "checkpoint")
			if err == nil && bytes.Equal(got, l.tree.Checkpoint()) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		cancel()
		<-done
		f.mu.Lock()
		objects += len(f.putOrder) - before
		f.mu.Unlock()
	}
	b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(len(l.leaves)*b.N)/b.Elapsed().Seconds(), "entries/s")
}
