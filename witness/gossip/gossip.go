// Package gossip lets a witness compare notes: every poll interval it reads,
// for each log it witnesses, its own latest cosigned checkpoint, the latest
// checkpoint each peer witness serves (C2SP [tlog-witness] monitoring path)
// and the log's own latest checkpoint, and checks every pair of them with
// [witness.FindEvidence]. A pair that cannot both be true becomes evidence,
// which the witness verifies, stores, serves at GET /evidence and alerts on;
// from then on it cosigns nothing more for that log (see package witness).
//
// Only checkpoints validly signed by the log's key are compared; everything
// else a peer or the log serves is ignored, so a peer can neither forge
// evidence nor hide it from the others. Pairs of different sizes need a
// consistency proof, fetched from [Options.Proofs] (usually the log): an
// honest log can always serve one, and an equivocating log serving the tree
// of either branch gives away the proof that makes evidence, at the latest
// once its current checkpoint is compared with the other branch's.
//
// Evidence travels too: each poll also reads every peer's GET /evidence and
// records what verifies with the log's key, so one witness's proof freezes
// the log at every witness that polls it, even one that could not have
// found the proof itself (it has no proof source).
//
// Decisions:
//   - Gossip only observes: it never changes what the witness has cosigned,
//     so the witness's latest size is only ever moved by add-checkpoint.
//   - A pair whose proof verifies neither way (ErrUnproven) is logged at
//     Error and counted once, but is not evidence and does not freeze the
//     log: a bad proof is not signed, so it proves nothing to anyone else.
//   - Pairs found consistent or unproven are remembered, so a steady state
//     costs each poll one GET per peer and log, and no proof fetches.
//
// [tlog-witness]: https://c2sp.org/tlog-witness
package gossip

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/witness"
)

// A CheckpointSource returns the latest signed checkpoint of the log with
// this origin, unverified. An error means none was obtained this time.
type CheckpointSource func(ctx context.Context, origin string) ([]byte, error)

// DefaultPeerTimeout bounds one request to a peer when Options.HTTPClient
// is not set.
const DefaultPeerTimeout = 10 * time.Second

// Options configures a Gossip.
type Options struct {
	// Witness is the witness whose checkpoints are compared and which
	// records evidence. Required.
	Witness *witness.Witness
	// Peers are the URL prefixes of peer witnesses, for example
	// "http://w2.example:7380".
	Peers []string
	// Logs reads the logs' latest checkpoints; nil to poll only peers.
	Logs CheckpointSource
	// Proofs serves the logs' consistency proofs; without it only
	// checkpoints of the same size can be compared.
	Proofs witness.ProofSource
	// Interval is the time between polls. Default 10s.
	Interval time.Duration
	// HTTPClient fetches from peers; its transport checks https:// peers'
	// certificates. Default: one with DefaultPeerTimeout and the system's
	// roots.
	HTTPClient *http.Client
	// Logger gets the alerts and fetch failures. Default: discard.
	Logger *slog.Logger
	// Metrics, if set, receives the gossip counters, labelled with the
	// witness's name.
	Metrics prometheus.Registerer
}

// Gossip polls peers and logs on behalf of one witness.
type Gossip struct {
	opts     Options
	peers    []*witness.Client
	unproven *prometheus.CounterVec
	errors   *prometheus.CounterVec

	mu       sync.Mutex
	decided  map[[64]byte]bool // pairs of checkpoint texts already compared
	badFiles map[string]bool   // IDs of peers' evidence that didn't verify
}

// maxDecided bounds the memory of compared pairs; past it, it starts over.
const maxDecided = 1 << 14

// New returns a Gossip.
func New(opts Options) (*Gossip, error) {
	if opts.Witness == nil {
		return nil, errors.New("gossip: no witness")
	}
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Second
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: DefaultPeerTimeout}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	g := &Gossip{
		opts:     opts,
		decided:  map[[64]byte]bool{},
		badFiles: map[string]bool{},
		unproven: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govlog_witness_gossip_unproven_conflicts_total",
			Help: "Pairs of checkpoints that looked incompatible but whose served proof verified neither way, by log origin.",
		}, []string{"origin"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govlog_witness_gossip_fetch_errors_total",
			Help: "Failed fetches of checkpoints or proofs, by source (peer, log, proof).",
		}, []string{"source"}),
	}
	for _, p := range opts.Peers {
		g.peers = append(g.peers, &witness.Client{URL: p, HTTPClient: opts.HTTPClient})
	}
	if opts.Metrics != nil {
		reg := prometheus.WrapRegistererWith(prometheus.Labels{"witness": opts.Witness.Name()}, opts.Metrics)
		for _, c := range []prometheus.Collector{g.unproven, g.errors} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("gossip: %w", err)
			}
		}
	}
	return g, nil
}

// Run polls every interval until ctx is done, then returns nil.
func (g *Gossip) Run(ctx context.Context) error {
	t := time.NewTicker(g.opts.Interval)
	defer t.Stop()
	for {
		g.Poll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// candidate is a checkpoint signed by the log, and where it was seen.
type candidate struct {
	source string
	signed []byte
	cp     govlog.Checkpoint
}

// Poll makes one round over every log and every peer's evidence and
// returns how many new pieces of evidence it recorded.
func (g *Gossip) Poll(ctx context.Context) int {
	found := 0
	for _, origin := range g.opts.Witness.Origins() {
		found += g.pollLog(ctx, origin)
	}
	for _, p := range g.peers {
		found += g.pollEvidence(ctx, p)
	}
	return found
}

// maxEvidencePerPoll bounds the evidence files fetched from one peer in one
// poll, so a peer cannot keep this witness busy.
const maxEvidencePerPoll = 16

// pollEvidence records the evidence a peer holds against logs this witness
// witnesses, once it verifies with the log's key.
func (g *Gossip) pollEvidence(ctx context.Context, p *witness.Client) int {
	w := g.opts.Witness
	theirs, err := p.Evidence(ctx)
	if err != nil {
		g.errors.WithLabelValues("peer").Inc()
		g.opts.Logger.Debug("couldn't list a peer's evidence", "peer", p.URL, "err", err)
		return 0
	}
	ours, err := w.Evidence(ctx)
	if err != nil {
		g.opts.Logger.Error("couldn't read own evidence", "err", err)
		return 0
	}
	known := map[string]bool{}
	for _, e := range ours {
		known[e.ID] = true
	}
	found, fetched := 0, 0
	for _, e := range theirs {
		if _, ok := w.LogKey(e.Origin); !ok || known[e.ID] || g.isRejectedEvidence(e.ID) {
			continue
		}
		if fetched++; fetched > maxEvidencePerPoll {
			break
		}
		file, err := p.EvidenceFile(ctx, e.ID)
		if err != nil {
			g.errors.WithLabelValues("peer").Inc()
			g.opts.Logger.Debug("couldn't fetch a peer's evidence", "peer", p.URL, "id", e.ID, "err", err)
			continue
		}
		ev, err := witness.ParseEvidence(file)
		if err == nil {
			var added bool
			added, err = w.RecordEvidence(ctx, ev)
			if added {
				found++
				g.opts.Logger.Error("ALERT: split view proved by a peer's evidence", "origin", e.Origin, "evidence", e.ID, "peer", p.URL)
			}
		}
		if err != nil {
			g.rejectEvidence(e.ID)
			g.opts.Logger.Warn("a peer serves evidence that doesn't verify", "peer", p.URL, "id", e.ID, "err", err)
		}
	}
	return found
}

func (g *Gossip) pollLog(ctx context.Context, origin string) int {
	w := g.opts.Witness
	var cands []candidate
	var mu sync.Mutex
	add := func(source string, signed []byte) {
		cp, err := w.OpenCheckpoint(signed)
		if err != nil || cp.Origin != origin {
			g.opts.Logger.Warn("ignoring a checkpoint not validly signed by the log", "origin", origin, "source", source, "err", err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cands {
			if c.cp.Size == cp.Size && c.cp.Hash == cp.Hash {
				return
			}
		}
		cands = append(cands, candidate{source: source, signed: signed, cp: cp})
	}
	if own, ok, err := w.Latest(ctx, origin); err != nil {
		g.opts.Logger.Error("couldn't read own latest checkpoint", "origin", origin, "err", err)
	} else if ok {
		add("self", own)
	}
	if rejected, ok := w.Rejected(origin); ok {
		add("add-checkpoint (refused)", rejected)
	}
	var wg sync.WaitGroup
	for _, p := range g.peers {
		wg.Go(func() {
			signed, err := p.Checkpoint(ctx, origin)
			if errors.Is(err, witness.ErrNoCheckpoint) {
				return
			}
			if err != nil {
				g.errors.WithLabelValues("peer").Inc()
				g.opts.Logger.Debug("couldn't fetch a peer's checkpoint", "peer", p.URL, "origin", origin, "err", err)
				return
			}
			add(p.URL, signed)
		})
	}
	if g.opts.Logs != nil {
		wg.Go(func() {
			signed, err := g.opts.Logs(ctx, origin)
			if err != nil {
				g.errors.WithLabelValues("log").Inc()
				g.opts.Logger.Debug("couldn't fetch the log's checkpoint", "origin", origin, "err", err)
				return
			}
			add("log", signed)
		})
	}
	wg.Wait()

	key, _ := w.LogKey(origin)
	found := 0
	for i := range cands {
		for j := i + 1; j < len(cands); j++ {
			a, b := cands[i], cands[j]
			if a.cp.Size != b.cp.Size && g.opts.Proofs == nil {
				continue
			}
			pair := pairKey(a.cp, b.cp)
			if g.isDecided(pair) {
				continue
			}
			ev, err := witness.FindEvidence(ctx, key, a.signed, b.signed, g.opts.Proofs)
			switch {
			case errors.Is(err, witness.ErrUnproven):
				g.decide(pair)
				g.unproven.WithLabelValues(origin).Inc()
				g.opts.Logger.Error("ALERT: checkpoints look incompatible but the log's proof shows neither; not evidence",
					"origin", origin, "source1", a.source, "size1", a.cp.Size, "source2", b.source, "size2", b.cp.Size, "err", err)
			case err != nil:
				g.errors.WithLabelValues("proof").Inc()
				g.opts.Logger.Warn("couldn't compare checkpoints", "origin", origin, "size1", a.cp.Size, "size2", b.cp.Size, "err", err)
			case ev == nil:
				g.decide(pair)
			default:
				added, err := w.RecordEvidence(ctx, ev)
				if err != nil {
					g.opts.Logger.Error("couldn't record evidence", "origin", origin, "err", err)
					continue
				}
				g.decide(pair)
				if added {
					found++
					g.opts.Logger.Error("ALERT: split view found by gossip", "origin", origin, "evidence", ev.ID(),
						"source1", a.source, "size1", a.cp.Size, "source2", b.source, "size2", b.cp.Size)
				}
			}
		}
	}
	return found
}

// pairKey identifies an unordered pair of tree heads.
func pairKey(a, b govlog.Checkpoint) [64]byte {
	ha := sha256.Sum256(govlog.Checkpoint{Origin: a.Origin, Size: a.Size, Hash: a.Hash}.Text())
	hb := sha256.Sum256(govlog.Checkpoint{Origin: b.Origin, Size: b.Size, Hash: b.Hash}.Text())
	if string(ha[:]) > string(hb[:]) {
		ha, hb = hb, ha
	}
	return [64]byte(append(ha[:], hb[:]...))
}

func (g *Gossip) isDecided(pair [64]byte) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.decided[pair]
}

func (g *Gossip) decide(pair [64]byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.decided) >= maxDecided {
		clear(g.decided)
	}
	g.decided[pair] = true
}

func (g *Gossip) isRejectedEvidence(id string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.badFiles[id]
}

func (g *Gossip) rejectEvidence(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.badFiles) >= maxDecided {
		clear(g.badFiles)
	}
	g.badFiles[id] = true
}
