package monitor

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// parsedEntry is an entry whose registry signatures were checked.
type parsedEntry struct {
	registry.Opened
	// anchor is set for a registry view entry, signed by the log's key;
	// logView for a log view entry (rule.Importer), likewise.
	anchor  *registry.Anchor
	logView *govlog.LogView
	err     error
	// readKeys are the state keys the domain's rules will read for the
	// entry, as far as it can tell ahead (see readKeys).
	readKeys []string
}

// fetched is one batch of entries on its way through a pass: downloaded,
// then hashed and parsed (signatures checked) in parallel while earlier
// batches are replayed. The fields are set before ready is closed.
type fetched struct {
	leaves [][]byte
	hashes [][32]byte
	parsed []parsedEntry
	err    error
	ready  chan struct{}
	weight int64 // held in the pass's byte budget
}

// fetchAhead downloads the entries from start to end in batches and checks
// each as it arrives, ahead of the caller by at most fetchDepth batches and
// maxAheadBytes of entries (plus one batch): a server sending huge batches
// cannot make a monitor hold many of them. Each batch's weight is acquired
// from budget; the caller releases it once done with the batch. Batches come
// in log order; a failed download is the last batch sent, with err set.
// Cancelling ctx stops it.
func (m *Monitor) fetchAhead(ctx context.Context, l *Log, start, end uint64, budget *semaphore.Weighted) <-chan *fetched {
	out := make(chan *fetched, fetchDepth)
	reg := m.registryOf(l)
	go func() {
		defer close(out)
		for next := start; next < end; {
			count := min(m.opts.BatchSize, end-next)
			f := &fetched{ready: make(chan struct{})}
			f.leaves, f.err = l.Reader.Entries(ctx, l.Name, next, count)
			switch {
			case f.err != nil:
				f.err = fmt.Errorf("couldn't fetch entries %d to %d: %w", next, next+count, f.err)
			case len(f.leaves) == 0 || uint64(len(f.leaves)) > count:
				f.err = fmt.Errorf("asked for %d entries from %d, got %d", count, next, len(f.leaves))
			}
			if f.err != nil {
				close(f.ready)
			} else {
				for _, leaf := range f.leaves {
					f.weight += int64(len(leaf))
				}
				f.weight = min(f.weight, m.aheadBytes)
				if err := budget.Acquire(ctx, f.weight); err != nil {
					f.weight = 0
					return
				}
				go func() {
					f.hashes, f.parsed = parseBatch(l, reg, f.leaves)
					close(f.ready)
				}()
			}
			select {
			case out <- f:
			case <-ctx.Done():
				return
			}
			if f.err != nil {
				return
			}
			next += uint64(len(f.leaves))
		}
	}()
	return out
}

// fetchDepth is how many batches are downloaded ahead of the replay: enough
// to keep every core checking signatures while the replay (one goroutine)
// and the server catch up.
const fetchDepth = 4

// maxAheadBytes bounds the entries downloaded but not yet replayed
// (Monitor.aheadBytes, which tests lower).
const maxAheadBytes = 64 << 20

// parseSlots bounds the chunks of entries parsed at once, in all the
// batches fetched ahead, to one per core. Unbounded, the batches' workers
// would outnumber the cores and starve the replay, which runs in log order
// on one goroutine: it would then finish alone, on one core, the entries
// every other core had parsed.
var parseSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// parseBatch hashes the entries and verifies the statements' signatures in
// parallel: they depend on nothing but the entry and the registry, and are
// most of the cost of a pass. Rules are applied in log order afterwards.
func parseBatch(l *Log, reg *registry.Registry, batch [][]byte) ([][32]byte, []parsedEntry) {
	hashes := make([][32]byte, len(batch))
	out := make([]parsedEntry, len(batch))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	const chunk = 64
	for start := 0; start < len(batch); start += chunk {
		g.Go(func() error {
			parseSlots <- struct{}{}
			defer func() { <-parseSlots }()
			for i := start; i < min(start+chunk, len(batch)); i++ {
				hashes[i] = govlog.LeafHash(batch[i])
				out[i] = parseEntry(l, reg, batch[i])
			}
			return nil
		})
	}
	g.Wait()
	return hashes, out
}

// parseEntry opens one entry of l: a statement by registry keys (or a
// self-signed one), or, when a registry log authorizes l, a registry view
// entry signed by l's own key.
func parseEntry(l *Log, reg *registry.Registry, leaf []byte) parsedEntry {
	var p parsedEntry
	p.Opened, p.err = reg.Open(leaf, l.Origin, l.Domain)
	if p.err == nil {
		// Parsed here, on every core, not again in the replay.
		rule.Parse(l.Domain, &p.Entry)
		p.readKeys = readKeys(l.Domain, reg, p.Opened)
	}
	if p.err == nil || isRegistryLog(l) {
		return p
	}
	if _, ok := l.Domain.(rule.Importer); ok {
		v, err := govlog.OpenLogView(leaf, l.Origin, logKey(l))
		if err == nil {
			return parsedEntry{logView: &v}
		}
		if !errors.Is(err, govlog.ErrNotLogView) {
			p.err = err
			return p
		}
	}
	if l.Registry != nil {
		return p
	}
	a, err := registry.OpenAnchor(leaf, l.Origin, logKey(l))
	if errors.Is(err, registry.ErrNotAnchor) {
		return p
	}
	if err != nil {
		p.err = err
		return p
	}
	return parsedEntry{anchor: &a}
}

// readKeys returns the state keys d says its rules will read for o
// (rule.KeyReader), so that the replay reads a batch's in one go. The
// agency is the one reg, as the monitor holds it, names for o's
// signatures: a guess, for the keys alone, since the log may authorize
// against an older registry view. A key not named is read when the rules
// ask; an entry the registry does not authorize names none.
func readKeys(d rule.Domain, reg *registry.Registry, o registry.Opened) []string {
	kr, ok := d.(rule.KeyReader)
	if !ok {
		return nil
	}
	e := o.Entry
	if e.Agency, ok = reg.AgencyOf(d, e, o.Sigs); !ok {
		return nil
	}
	return kr.ReadKeys(e)
}
