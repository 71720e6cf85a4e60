package main

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
)

// TestTilesMirror: a node with tiles_mirror copies every log's tiles to an
// S3 server (gofakes3, in the test process); read from the store alone, a
// standard tlog client proves a submitted statement against the store's
// checkpoint, signed by the log, and bundles made from the store are the
// ones gRPC gives.
func TestTilesMirror(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	backend := s3mem.New()
	if err := backend.CreateBucket("public"); err != nil {
		t.Fatal(err)
	}
	store := httptest.NewServer(gofakes3.New(backend).Server())
	defer store.Close()
	u, _ := url.Parse(store.URL)
	secure := false
	mc := tilesMirrorConfig{Endpoint: u.Host, Bucket: "public", Prefix: "govlog", Secure: &secure}
	t.Setenv("AWS_ACCESS_KEY_ID", "test-id")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	m, err := mc.mirror()
	if err != nil {
		t.Fatal(err)
	}

	b := &bench{out: io.Discard}
	cfg := nodeConfig{Listen: "127.0.0.1:0", SQLitePath: filepath.Join(dir, "govlog.db"), TilesDir: filepath.Join(dir, "tiles"), TilesMirror: m}
	node, err := b.startNode(ctx, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer node.stop()
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

	// The store catches up with the log's checkpoint.
	prefix := store.URL + "/public/govlog/disclosures/"
	var signed []byte
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		want, err := node.client(0).Checkpoint(ctx, "disclosures")
		if err != nil {
			t.Fatal(err)
		}
		if signed, err = httpGet(prefix + "checkpoint"); err == nil && bytes.Equal(signed, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store's checkpoint is not the log's after a minute: %q, %v", signed, err)
		}
	}
	v, err := note.NewVerifier(node.cfg.logVKeys[0])
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		t.Fatalf("the store's checkpoint: %v", err)
	}
	cp, err := govlog.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		t.Fatal(err)
	}
	tree := tlog.Tree{N: int64(cp.Size), Hash: cp.Hash}
	p, err := tlog.ProveRecord(tree.N, int64(bundle.Index), tlog.TileHashReader(tree, tilesOverHTTP{prefix}))
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckRecord(p, tree.N, tree.Hash, int64(bundle.Index), tlog.RecordHash(bundle.Extra)); err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint64{0, 255, 256, bundle.Index} {
		fromStore, err := client.NewTiles(prefix, nil).Bundle(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		fromGRPC, err := node.client(0).Bundle(ctx, "disclosures", i)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fromStore, fromGRPC) {
			t.Fatalf("entry %d: the bundle from the store differs from gRPC's", i)
		}
	}
	// Every log is mirrored, each below its own name.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		reg, err := httpGet(store.URL + "/public/govlog/registry/checkpoint")
		if err == nil && bytes.HasPrefix(reg, []byte("bench.example/registry\n")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the registry log is not in the store: %q, %v", reg, err)
		}
	}
}

func TestTilesMirrorConfig(t *testing.T) {
	dir := t.TempDir()
	id, secret := filepath.Join(dir, "s3.id"), filepath.Join(dir, "s3.secret")
	os.WriteFile(id, []byte("AKIDEXAMPLE\n"), 0o600)
	os.WriteFile(secret, []byte("wJalrXUtnFEMI/K7MDENG\n"), 0o600)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	for _, tc := range []struct {
		name    string
		c       tilesMirrorConfig
		env     bool
		wantErr string
	}{
		{"key files", tilesMirrorConfig{Endpoint: "s3.example.org", Bucket: "b", AccessKeyFile: id, SecretKeyFile: secret}, false, ""},
		{"environment", tilesMirrorConfig{Endpoint: "s3.example.org", Bucket: "b"}, true, ""},
		{"no keys", tilesMirrorConfig{Endpoint: "s3.example.org", Bucket: "b"}, false, "AWS_ACCESS_KEY_ID"},
		{"one key file", tilesMirrorConfig{Endpoint: "s3.example.org", Bucket: "b", AccessKeyFile: id}, true, "go together"},
		{"missing key file", tilesMirrorConfig{Endpoint: "s3.example.org", Bucket: "b", AccessKeyFile: id, SecretKeyFile: filepath.Join(dir, "none")}, false, "secret_key_file"},
		{"a URL", tilesMirrorConfig{Endpoint: "https://s3.example.org", Bucket: "b", AccessKeyFile: id, SecretKeyFile: secret}, false, "without a scheme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env {
				t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
				t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			}
			m, err := tc.c.mirror()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m.Sub("funds").Prefix() != "funds/" {
					t.Fatalf("prefix %q", m.Sub("funds").Prefix())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}

	// In the config file: endpoint and bucket are required; keys are
	// never fields of it.
	base := "storage: sqlite\nsqlite: {path: x}\nregistry: r\nlogs: [{name: registry, origin: o/registry, key: rk}]\n"
	for yaml, wantErr := range map[string]string{
		"tiles_mirror: {bucket: b}\n":                                  "endpoint and bucket are required",
		"tiles_mirror: {endpoint: e}\n":                                "endpoint and bucket are required",
		"tiles_mirror: {endpoint: e, bucket: b, secret_key: hunter}\n": "field secret_key not found",
	} {
		path := filepath.Join(dir, "c.yaml")
		os.WriteFile(path, []byte(base+yaml), 0o644)
		if _, err := parseServeConfig(path); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: got %v, want %q", yaml, err, wantErr)
		}
	}
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte(base+"tiles_mirror: {endpoint: e, bucket: b, prefix: govlog/}\n"), 0o644)
	c, err := parseServeConfig(path)
	if err != nil || c.TilesMirror == nil || c.TilesMirror.Secure != nil {
		t.Fatalf("%+v, %v", c.TilesMirror, err)
	}
}
