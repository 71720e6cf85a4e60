package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
)

// tilesOverHTTP is a tlog.TileReader over a log's read path. It names
// tiles by golang.org/x/mod/sumdb/tlog's own paths, turned into C2SP's
// (no height element; "data" is "entries").
type tilesOverHTTP struct{ prefix string }

func (h tilesOverHTTP) Height() int { return 8 }

func (h tilesOverHTTP) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		p = strings.Replace(p, "tile/data/", "tile/entries/", 1)
		data, err := httpGet(h.prefix + p)
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (h tilesOverHTTP) SaveTiles([]tlog.Tile, [][]byte) {}

func httpGet(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, err
}

// TestReadPathTiles: a node serves each log's tiles over HTTP; the
// checkpoint there is the one gRPC gives, and a standard tlog client
// (golang.org/x/mod/sumdb/tlog, which checks every tile against the
// checkpoint) proves a submitted statement is in the log and reads it from
// its entry bundle. After a restart the tiles are read again from their
// folder.
func TestReadPathTiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := &bench{out: io.Discard, seq: 0}
	cfg := nodeConfig{Listen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", SQLitePath: filepath.Join(dir, "govlog.db"), TilesDir: filepath.Join(dir, "tiles")}
	var httpURL string
	cfg.onHTTP = func(url string) { httpURL = url }
	node, err := b.startNode(ctx, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if node != nil {
			node.stop()
		}
	}()
	// 300 entries and the log's own view entry: one full tile and a
	// partial one.
	statements, err := node.statements(0, 300)
	if err != nil {
		t.Fatal(err)
	}
	var last []byte
	for i, st := range statements {
		sub, err := node.client(0).Submit(ctx, "disclosures", st, i == len(statements)-1)
		if err != nil {
			t.Fatal(err)
		}
		last = sub.Bundle
	}
	bundle, err := govlog.ParseBundle(last)
	if err != nil {
		t.Fatal(err)
	}

	prefix := httpURL + "/disclosures/"
	index, err := httpGet(httpURL + "/")
	// The portal's home lists each log with its origin and tiles prefix.
	if err != nil || !bytes.Contains(index, []byte("<code>"+benchOrigin+"</code>")) || !bytes.Contains(index, []byte(`href="/disclosures/checkpoint"`)) {
		t.Fatalf("index: %q, %v", index, err)
	}
	signed, err := httpGet(prefix + "checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	grpcSigned, err := node.client(0).Checkpoint(ctx, "disclosures")
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(node.cfg.logVKeys[0])
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		t.Fatalf("checkpoint over HTTP: %v\n%s", err, signed)
	}
	cp, err := govlog.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		t.Fatal(err)
	}
	if cp.Size <= bundle.Index {
		t.Fatalf("HTTP checkpoint of size %d, the last statement is at %d", cp.Size, bundle.Index)
	}
	if !bytes.Equal(signed, grpcSigned) {
		// A checkpoint may have been published between the two reads;
		// both must then be valid, the HTTP one no smaller.
		t.Logf("HTTP and gRPC checkpoints differ (published in between?)")
	}
	tree := tlog.Tree{N: int64(cp.Size), Hash: cp.Hash}
	reader := tlog.TileHashReader(tree, tilesOverHTTP{prefix})
	p, err := tlog.ProveRecord(tree.N, int64(bundle.Index), reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckRecord(p, tree.N, tree.Hash, int64(bundle.Index), tlog.RecordHash(bundle.Extra)); err != nil {
		t.Fatal(err)
	}
	ents, err := httpGet(prefix + fmt.Sprintf("tile/entries/001.p/%d", cp.Size-256))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ents, bundle.Extra) {
		t.Fatal("the last statement is not in its entry bundle")
	}

	// govlog prove --tiles makes the bundle gRPC gives, byte for byte.
	for _, i := range []uint64{0, 7, 255, 256, bundle.Index} {
		fromTiles, err := client.NewTiles(prefix, nil).Bundle(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		fromGRPC, err := node.client(0).Bundle(ctx, "disclosures", i)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fromTiles, fromGRPC) {
			t.Fatalf("entry %d: the bundle from tiles differs from gRPC's:\n%s\n%s", i, fromTiles, fromGRPC)
		}
	}
	// A monitor's reads, from the tiles: the same entries and consistency
	// proofs as gRPC gives.
	tr := client.NewTilesReader(map[string]string{"disclosures": prefix}, nil)
	if _, err := tr.Entries(ctx, "disclosures", 0, 10); err == nil {
		t.Fatal("entries read before a checkpoint")
	}
	if _, err := tr.Checkpoint(ctx, "disclosures"); err != nil {
		t.Fatal(err)
	}
	for _, start := range []uint64{0, 250, 256, cp.Size - 1} {
		got, err := tr.Entries(ctx, "disclosures", start, 1000)
		if err != nil {
			t.Fatal(err)
		}
		want, err := node.client(0).Entries(ctx, "disclosures", start, uint64(len(got)))
		if err != nil || len(got) == 0 || len(want) != len(got) || !bytes.Equal(got[len(got)-1], want[len(want)-1]) || !bytes.Equal(got[0], want[0]) {
			t.Fatalf("entries from %d: %d from tiles, %d from gRPC (%v)", start, len(got), len(want), err)
		}
	}
	for _, from := range []uint64{1, 100, 256, cp.Size - 1} {
		got, err := tr.ConsistencyProof(ctx, "disclosures", from, cp.Size)
		if err != nil {
			t.Fatal(err)
		}
		want, err := node.client(0).ConsistencyProof(ctx, "disclosures", from, cp.Size)
		if err != nil || !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("consistency %d to %d: tiles %x, gRPC %x (%v)", from, cp.Size, got, want, err)
		}
	}
	if _, err := tr.ConsistencyProof(ctx, "disclosures", 1, cp.Size+1); err == nil {
		t.Fatal("a proof to a size no checkpoint read has")
	}
	if _, err := client.NewTiles(prefix, nil).Bundle(ctx, cp.Size); err == nil {
		t.Fatal("a bundle past the checkpoint was made")
	}
	if _, err := os.Stat(filepath.Join(dir, "tiles", "disclosures", "tile", "0", "000")); err != nil {
		t.Fatalf("full tile not written: %v", err)
	}
}
