package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/personalities/registry"
)

// benchNode is a govlog node on a fresh store for the bench: a registry log
// whose genesis names the bench agency, and a disclosures log.
type benchNode struct {
	cfg     nodeConfig
	addr    string
	clients []*client.Client // one connection per 64 concurrent callers
	agency  note.Signer
	publish string // the statement type the bench submits
	stop    func() error
}

const benchOrigin = "bench.example/disclosures"

// startNode starts a node on cfg's store (filled in by a benchStore) with
// enough client connections for conc concurrent callers.
func (b *bench) startNode(ctx context.Context, cfg nodeConfig, conc int) (*benchNode, error) {
	skey, vkey, err := note.GenerateKey(nil, "bench-agency")
	if err != nil {
		return nil, err
	}
	n := &benchNode{}
	n.agency, _ = note.NewSigner(skey)
	domain, err := newDomain("disclosures")
	if err != nil {
		return nil, err
	}
	publish := domain.Types()[0]
	n.publish = publish.Type
	// The registry is a log, as in production: its genesis names the
	// bench agency, signed by two root keys.
	cfg.Genesis = registry.File{Agencies: []registry.Agency{{
		ID: "bench-agency", Roles: []string{publish.Role}, Keys: []registry.Key{{VKey: vkey}},
	}}}
	var rootVKeys []string
	for _, name := range []string{"bench-root-1", "bench-root-2"} {
		sk, vk, err := note.GenerateKey(nil, name)
		if err != nil {
			return nil, err
		}
		signer, _ := note.NewSigner(sk)
		rootVKeys, cfg.GenesisSigners = append(rootVKeys, vk), append(cfg.GenesisSigners, signer)
	}
	if cfg.Roots, err = registry.NewRoots(rootVKeys, 2); err != nil {
		return nil, err
	}
	for _, l := range []struct{ name, origin string }{{"disclosures", benchOrigin}, {registry.LogName, "bench.example/registry"}} {
		lkey, lvkey, err := note.GenerateKey(nil, l.origin)
		if err != nil {
			return nil, err
		}
		signer, _ := note.NewSigner(lkey)
		cfg.Logs = append(cfg.Logs, nodeLog{Name: l.name, Origin: l.origin, Signer: signer})
		cfg.logVKeys = append(cfg.logVKeys, lvkey)
	}
	n.cfg = cfg

	nodeCtx, cancel := context.WithCancel(ctx)
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- runNode(nodeCtx, cfg, slog.New(slog.DiscardHandler), func(addr string) { addrc <- addr })
	}()
	n.stop = func() error {
		for _, c := range n.clients {
			c.Close()
		}
		cancel()
		if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	}
	select {
	case n.addr = <-addrc:
	case err := <-errc:
		cancel()
		return nil, err
	}
	for range (conc + 63) / 64 {
		c, err := client.Dial(n.addr)
		if err != nil {
			n.stop()
			return nil, err
		}
		n.clients = append(n.clients, c)
	}
	return n, nil
}

// client returns the connection caller i uses.
func (n *benchNode) client(i int) *client.Client { return n.clients[i%len(n.clients)] }

// statements signs count publications of new documents, numbered from
// first, before any clock starts: the client's signing is not the
// server's admission.
func (n *benchNode) statements(first, count int) ([][]byte, error) {
	out := make([][]byte, count)
	now := time.Now().UTC().Truncate(time.Second)
	for i := range out {
		k := first + i
		body := fmt.Sprintf(`{"doc_id":"bench-%d","title":"Benchmark document %d","sha256":"%064x","category":"budget","decision_date":"2026-11-01"}`, k, k, k)
		st, err := govlog.NewStatement(benchOrigin, n.publish, now, []byte(body))
		if err != nil {
			return nil, err
		}
		if out[i], err = st.Sign(n.agency); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readRun fills a fresh store's disclosures log with b.readSize entries,
// then asks for bundles of random entries (govlog's GetInclusionProof with
// the bundle: entry, proof and cosigned checkpoint) with b.readConc
// clients; then stops the node and, on the same store and tree, asks
// Trillian's own GetInclusionProof, over gRPC on TCP, for proofs of the same
// entries with as many clients.
func (b *bench) readRun(ctx context.Context, st benchStore) (bundles, trillianProofs runResult, size uint64, err error) {
	cfg := nodeConfig{Listen: "127.0.0.1:0", SequencerInterval: b.seq, MMD: time.Hour}
	drop, err := st.node(ctx, &cfg)
	if err != nil {
		return
	}
	defer drop()
	node, err := b.startNode(ctx, cfg, b.conc)
	if err != nil {
		return
	}
	defer func() {
		if node != nil {
			node.stop()
		}
	}()
	statements, err := node.statements(0, b.readSize)
	if err != nil {
		return
	}
	fmt.Fprintf(b.out, "read run: filling the disclosures log with %d entries (Submit wait=false)\n", b.readSize)
	fill, err := b.parallel("fill", len(statements), b.conc, func(i int) error {
		_, err := node.client(i).Submit(ctx, "disclosures", statements[i], false)
		return err
	})
	if err == nil && fill.errs > 0 {
		err = fmt.Errorf("%d of %d statements refused while filling: %w", fill.errs, len(statements), fill.firstErr)
	}
	if err != nil {
		return
	}
	// The log's own view entry comes first: readSize+1 entries in all.
	if size, err = waitIntegrated(ctx, node.clients[0], uint64(b.readSize)+1); err != nil {
		return
	}
	fmt.Fprintf(b.out, "  a checkpoint holds all %d entries\n", size)
	indexes := make([]uint64, b.readN)
	for i := range indexes {
		indexes[i] = rand.Uint64N(size)
	}
	fmt.Fprintf(b.out, "govlog bundles (GetInclusionProof with the bundle), %d clients:\n", b.readConc)
	bundles, err = b.parallel("bundles", b.readN, b.readConc, func(i int) error {
		_, err := node.client(i).Bundle(ctx, "disclosures", indexes[i])
		return err
	})
	if err != nil {
		return
	}
	if err = node.stop(); err != nil {
		return
	}
	node = nil

	opts, closeStore, err := st.reopen(ctx, cfg)
	if err != nil {
		return
	}
	defer closeStore()
	opts.SequencerInterval = b.seq
	trill, err := logserver.StartTrillian(opts)
	if err != nil {
		return
	}
	defer trill.Close()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return
	}
	go trill.Serve(lis)
	prover, err := logserver.DialTrillianProver(ctx, lis.Addr().String(), benchOrigin)
	if err != nil {
		return
	}
	defer prover.Close()
	fmt.Fprintf(b.out, "Trillian GetInclusionProof on the same tree, %d clients:\n", b.readConc)
	trillianProofs, err = b.parallel("GetInclusionProof", b.readN, b.readConc, func(i int) error {
		return prover.Prove(ctx, indexes[i], size)
	})
	return
}
