package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/trillian"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/log-server/logtest"
)

// TestServeWithTrillianDeployment: serve's trillian block keeps every log in
// a Trillian deployment reached over gRPC (Trillian's own servers and
// sequencer, here on a TCP listener with their own storage), while the
// state and outbox stay in govlog's store: the registry genesis and a
// statement are admitted, and the statement's bundle proves it in a
// checkpoint of that deployment's tree.
func TestServeWithTrillianDeployment(t *testing.T) {
	deployment := logtest.SQLite(t, logtest.Options{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go deployment.Trillian.Serve(lis)

	data := t.TempDir()
	cfg, err := prepareDevData(data, "gov.example")
	if err != nil {
		t.Fatal(err)
	}
	cfg.SQLitePath = filepath.Join(data, "govlog.db")
	cfg.Listen = "127.0.0.1:0"
	cfg.Trillian = &trillianConfig{Address: lis.Addr().String()}
	ctx, cancel := context.WithCancel(t.Context())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runNode(ctx, cfg, slog.New(slog.DiscardHandler), func(addr string) { addrc <- addr })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("runNode: %v", err)
		}
	})
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("runNode: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("not serving after a minute")
	}

	cl, err := client.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	signer, err := loadSigner(filepath.Join(data, "keys", "demo-agency.key"))
	if err != nil {
		t.Fatal(err)
	}
	origin, err := cl.Origin(ctx, "disclosures")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("remote trillian"))
	body, _ := json.Marshal(map[string]string{"doc_id": "remote-1", "title": "Kept in a Trillian deployment",
		"sha256": hex.EncodeToString(sum[:]), "category": "budget", "decision_date": "2026-11-01"})
	st, err := govlog.NewStatement(origin, "disclosure.publish", time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := st.Sign(signer)
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	res, err := cl.Submit(wctx, "disclosures", leaf, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := govlog.ParseBundle(res.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	text, _, _ := bytes.Cut(b.Checkpoint, []byte("\n\n"))
	cp, err := govlog.ParseCheckpoint(append(text, '\n'))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.VerifyInclusion(cp); err != nil {
		t.Fatalf("the bundle does not prove the entry: %v", err)
	}
	// The tree is the deployment's: its own API proves the same entry.
	trees, err := deployment.Trillian.Admin.ListTrees(ctx, &trillian.ListTreesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tree := range trees.Tree {
		found = found || tree.Description == origin
	}
	if !found {
		t.Fatalf("the deployment has no tree for %s", origin)
	}
}
