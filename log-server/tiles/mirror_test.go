package tiles

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	stdslices "slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
)

// memMirror is a Mirror in memory that records its writes.
type memMirror struct {
	mu      sync.Mutex
	objects map[string][]byte
	puts    []string
}

func newMemMirror() *memMirror { return &memMirror{objects: map[string][]byte{}} }

func (m *memMirror) Get(ctx context.Context, path string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.objects[path]
	if !ok {
		return nil, fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	return bytes.Clone(data), nil
}

func (m *memMirror) Put(ctx context.Context, path string, data []byte, contentType, cacheControl string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[path] = bytes.Clone(data)
	m.puts = append(m.puts, path)
	return nil
}

func (m *memMirror) written() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return stdslices.Clone(m.puts)
}

func (m *memMirror) object(path string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.objects[path]
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// mirrorFor runs tree.RunMirror to m until the test ends.
func mirrorFor(t *testing.T, tree *Tree, m Mirror, logs io.Writer) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- tree.RunMirror(ctx, m, MirrorOptions{
			Logger:   slog.New(slog.NewTextHandler(logs, nil)),
			Interval: time.Millisecond, Retry: 10 * time.Millisecond, MaxRetry: 50 * time.Millisecond,
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunMirror: %v", err)
		}
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 30 s", what)
		}
	}
}

// TestMirrorMatchesServer: every object the mirror holds is what the log's
// own handler serves at that path, with its headers; a mirror ahead of the
// tree is left alone until the tree reaches it, then checked and extended.
func TestMirrorMatchesServer(t *testing.T) {
	tree, _ := Open(context.Background(), "", nil, nil, nil)
	f := &fakeLog{}
	growTo(t, tree, f, 600, 250)
	m := newMemMirror()
	var logs syncBuffer
	mirrorFor(t, tree, m, &logs)
	waitFor(t, "mirror at 600", func() bool { return bytes.Equal(m.object("checkpoint"), tree.Checkpoint()) })

	// The same log's tiles made again up to 300 (a database behind the
	// mirror): nothing is written while the mirror is ahead.
	again, _ := Open(context.Background(), "", nil, nil, nil)
	g := &fakeLog{}
	growTo(t, again, g, 300, 300)
	before := len(m.written())
	mirrorFor(t, again, m, &logs)
	waitFor(t, "ahead logged", func() bool { return strings.Contains(logs.String(), "ahead of the log's tree") })
	growTo(t, again, g, 590, 290)
	if n := len(m.written()); n != before {
		t.Fatalf("%d objects written to a mirror ahead of the tree", n-before)
	}
	growTo(t, again, g, 700, 110)
	waitFor(t, "mirror at 700", func() bool { return bytes.Equal(m.object("checkpoint"), again.Checkpoint()) })
	// 600 = 2*256+88 to 700 = 2*256+188.
	got := m.written()[before:]
	if len(got) != 3 || got[2] != "checkpoint" || !stdslices.Equal(stdslices.Sorted(stdslices.Values(got[:2])), []string{"tile/0/002.p/188", "tile/entries/002.p/188"}) {
		t.Fatalf("from 600 to 700 the mirror wrote %v, want the two partial tiles, then the checkpoint", got)
	}

	srv := httptest.NewServer(again)
	defer srv.Close()
	m.mu.Lock()
	defer m.mu.Unlock()
	for path, data := range m.objects {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/"+path, nil)
		req.Header.Set("Accept-Encoding", "identity")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(body, data) {
			t.Errorf("%s: the mirror holds %d bytes, the server serves %d bytes (%s)", path, len(data), len(body), resp.Status)
		}
		wantCT, wantCC := TileContentType, TileCacheControl
		if path == "checkpoint" {
			wantCT, wantCC = CheckpointContentType, CheckpointCacheControl
		}
		if resp.Header.Get("Content-Type") != wantCT || resp.Header.Get("Cache-Control") != wantCC {
			t.Errorf("%s: the server sends %q, %q; the mirror writes %q, %q", path, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), wantCT, wantCC)
		}
	}
}

// TestMirrorOfAnotherLog: a mirror holding another log, another history
// of this one, or an unreadable checkpoint is never written over.
func TestMirrorOfAnotherLog(t *testing.T) {
	tree, _ := Open(context.Background(), "", nil, nil, nil)
	f := &fakeLog{}
	growTo(t, tree, f, 300, 300)
	otherRoot := f.root(t, 200)
	otherRoot[0] ^= 1
	skey, _, err := note.GenerateKey(rand.Reader, "example.org/other")
	if err != nil {
		t.Fatal(err)
	}
	otherSigner, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	otherLog, err := govlog.SignCheckpoint(govlog.Checkpoint{Origin: "example.org/other", Size: 10, Hash: f.root(t, 10)}, otherSigner)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		checkpoint []byte
		wantLog    string
	}{
		{"another history", signed(t, 200, otherRoot), "holds another history"},
		{"another log", otherLog, `holds the log \"example.org/other\"`},
		{"unreadable", []byte("not a checkpoint"), "unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemMirror()
			m.objects["checkpoint"] = tc.checkpoint
			var logs syncBuffer
			mirrorFor(t, tree, m, &logs)
			// Refused twice: the second time after reading it again.
			waitFor(t, "refusal logged twice", func() bool { return strings.Count(logs.String(), tc.wantLog) >= 2 })
			if got := m.written(); len(got) > 0 {
				t.Fatalf("wrote %v over it", got)
			}
		})
	}
}
