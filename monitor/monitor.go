// Package monitor follows govlog logs as a public auditor would, trusting
// neither their operator nor the admission server. For each log, a pass:
//
//  1. fetches the latest checkpoint ([tlog-checkpoint]) and refuses it
//     unless the auditor's witness policy ([tlog-policy]) accepts it
//     ([govlog.Policy.Verify]);
//  2. proves it consistent with the last checkpoint the monitor verified
//     (RFC 6962 consistency proof), or, for the same size, compares roots;
//  3. downloads the new entries in batches and hashes them onto the compact
//     range of the verified tree ([compact]), so the root is recomputed from
//     the entries without downloading old ones, and compares it to the
//     checkpoint's;
//  4. replays each entry: its note signature by a registry key, the key's
//     agency and role ([registry.Registry.Authorize]), and the domain rules
//     ([rule.Domain.Apply]) on the monitor's own copy of the domain state,
//     with the same personalities/<domain> package that admitted it;
//  5. then settles the promises handed to it, and, for a domain that
//     writes statements of its own when they fall due ([rule.Scheduler]:
//     the funds log's guarantee releases), checks that none due for longer
//     than Options.OverdueAfter is missing.
//
// Entries are downloaded a few batches ahead and their signatures checked
// on every core while one goroutine replays them in log order.
//
// Anything wrong is an [Alert] with its evidence, recorded once in the
// [Store], logged, counted in Prometheus and handed to Options.OnAlert.
//
// A pass moves a log from one verified checkpoint to the next in SQLite
// transactions holding the replayed state, the new checkpoint and the
// compact range of the entries replayed: one per pass, or one every
// Options.CommitEvery entries of a long pass, each proved part of the new
// checkpoint by the log's consistency proof. A crash or a root that does
// not match leaves the store at the last commit, and a restart resumes
// from there.
//
// Keys and roles are checked at the statement's signed time, so a key
// retired since, or a role given up since, still covers the entries of
// before; a revoked key covers nothing (see [registry]).
//
// [compact]: https://github.com/transparency-dev/merkle/blob/main/docs/compact_ranges.md
// [tlog-checkpoint]: https://c2sp.org/tlog-checkpoint
// [tlog-policy]: https://c2sp.org/tlog-policy
package monitor

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/sync/semaphore"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/search"
)

// LogReader reads one server's logs by name; *client.Client implements it.
// Every answer is untrusted: the monitor verifies all of it.
type LogReader interface {
	// Checkpoint returns the log's latest signed checkpoint. An error is a
	// failure to read; the pass is retried.
	Checkpoint(ctx context.Context, log string) ([]byte, error)
	// Entries returns up to count entries from index start; a server may
	// return fewer. An error is a failure to read; the pass is retried.
	Entries(ctx context.Context, log string, start, count uint64) ([][]byte, error)
	// ConsistencyProof returns the RFC 6962 proof that tree size to extends
	// tree size from. An error is a failure to read; a wrong proof is not
	// an error but an alert.
	ConsistencyProof(ctx context.Context, log string, from, to uint64) ([][]byte, error)
}

// Log is one log the monitor follows.
type Log struct {
	// Name is the log's name on its server ("disclosures").
	Name string
	// Origin is the log's origin line; checkpoints of other origins are
	// refused.
	Origin string
	// Policy says which checkpoints the auditor accepts: the log's key and
	// the witness quorum.
	Policy *govlog.Policy
	// Reader reads the log.
	Reader LogReader
	// Domain is the log's rules, as its admission server runs them.
	Domain rule.Domain
	// Registry holds the agencies' keys and roles, when the monitor
	// follows no registry log (tests): one fixed registry. When it follows
	// one (a Log whose Domain is a *registry.Domain), leave it nil: the
	// registry is then the one the monitor replays from that log, and
	// each entry is checked against the registry as it stood when the
	// entry was admitted (see personalities/registry).
	Registry *registry.Registry

	// kinds are Domain's watch kinds, by name.
	kinds map[string][]string
}

// Defaults of Options. OverdueAfter has none, as zero turns KindOverdue off;
// DefaultOverdueAfter is the value for a config that sets none: above a
// govlog log's default schedule interval plus its default MMD.
const (
	DefaultBatchSize    = 1000
	DefaultInterval     = 30 * time.Second
	DefaultOverdueAfter = 15 * time.Minute
)

// Options configure a Monitor.
type Options struct {
	// Logs are the logs to follow; origins must be unique.
	Logs []Log
	// Store keeps verified checkpoints, replayed state and alerts.
	Store *Store
	// Logger receives alerts (at Error) and progress; default: discard.
	Logger *slog.Logger
	// Metrics, if set, registers the monitor's Prometheus metrics.
	Metrics prometheus.Registerer
	// BatchSize is how many entries are asked for at once; default
	// [DefaultBatchSize].
	BatchSize uint64
	// CommitEvery is how many entries a long pass replays between commits
	// (default 100,000), each commit proved part of the checkpoint by a
	// consistency proof, so a monitor stopped in its first pass over a
	// big log resumes close to where it stopped. A log with watches is
	// committed once per pass: its notifications carry bundles at the
	// checkpoint, built from the pass's own leaves.
	CommitEvery uint64
	// Interval is the time between passes of Run; default [DefaultInterval].
	Interval time.Duration
	// MaxCheckpointAge, if positive, raises KindStale when a log's
	// checkpoint has not changed for longer.
	MaxCheckpointAge time.Duration
	// OverdueAfter, if positive, raises KindOverdue when a statement a
	// log's rules schedule (a guarantee release) is still missing this
	// long after it fell due. Set it above the log's schedule interval
	// plus its MMD.
	OverdueAfter time.Duration
	// OnAlert, if set, is called with each new alert after it is recorded.
	OnAlert func(Alert)
	// Webhooks are URLs each new alert is POSTed to as JSON (the body of
	// GET /alerts/<id>), in the background: per URL, one goroutine sends
	// from a queue of at most [WebhookQueueSize] deliveries (when it is
	// full, the newest are dropped and counted); a slow or failing
	// receiver is retried a few times, then given up on, and never delays
	// a pass. A redirect is a failed delivery, never followed. The
	// deliveries still queued when Run returns are dropped.
	Webhooks []string
	// WebhookClient sends the webhooks; default: an http.Client with a 10s
	// timeout. The monitor uses a copy that does not follow redirects.
	WebhookClient *http.Client
	// WebhookSecret, if set, signs every webhook POST with an HMAC-SHA256
	// in a [WebhookSignatureHeader] header, which receivers check with the
	// same secret (see there for the scheme). Without it, POSTs carry no
	// signature, and anyone who knows a receiver's URL can post to it.
	WebhookSecret []byte
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Watches are what people asked to be told about: each verified entry
	// that matches one is a [Notification], recorded once in the Store,
	// logged (at Info), counted in Prometheus, handed to OnNotification and
	// POSTed to the Webhooks like alerts. Names must be unique.
	Watches []Watch
	// OnNotification, if set, is called with each new notification after
	// it is recorded.
	OnNotification func(Notification)
	// Witnesses are URL prefixes of witnesses (as in a policy's witness
	// lines) whose evidence of split views each pass reads, besides those
	// the logs' policies give a URL: GET <url>/evidence, and the files it
	// lists against the followed logs. Evidence that verifies with the
	// log's key is a [KindSplitView] alert; a witness that cannot be
	// reached is shown on the dashboard, not alerted on.
	Witnesses []string
	// WitnessClient reads the witnesses; default: an http.Client with a
	// [WitnessTimeout] timeout.
	WitnessClient *http.Client
	// Portal, if set, serves the public portal over the monitor's own
	// replay (see [PortalOptions]); the replay then keeps the search index.
	Portal *PortalOptions
}

// Monitor follows logs. Its methods must not be called concurrently.
type Monitor struct {
	opts    Options
	logger  *slog.Logger
	factory *compact.RangeFactory

	alerts   *prometheus.CounterVec
	size     *prometheus.GaugeVec
	entries  *prometheus.CounterVec
	failures *prometheus.CounterVec
	notified *prometheus.CounterVec

	// watching holds the watches that apply to each log, by origin.
	watching map[string][]Watch

	// faulted holds the logs whose latest checkpoint could not be verified
	// in the current pass, whose promises must not be judged.
	faulted map[string]bool
	status  passStatuses
	hooks   *webhooks
	// witnesses is what the passes found at each witness.
	witnesses *witnessPolls

	// aheadBytes is the byte budget of fetchAhead: maxAheadBytes.
	aheadBytes int64
	// fetched is when each log's latest checkpoint was fetched, for
	// checkOverdue: the log vouched for its tree as of then.
	fetched map[string]time.Time

	// regLog is the registry log, if the monitor follows one (the first
	// of opts.Logs), and reg the registry replayed from it.
	regLog *Log
	reg    *registry.Registry
	// waiting holds, per log, the registry view entry a pass stopped at.
	waiting map[string]waitingView
	// portal is the public portal, if Options.Portal is set.
	portal *portalServer
}

// waitingView is a registry view entry naming more of the registry than
// the monitor has replayed, since when.
type waitingView struct {
	index uint64
	// names says what the entry names; shows, what the monitor has of it.
	names, shows string
	leaf         []byte
	since        time.Time
}

// wait records that l's pass stopped at its view entry index.
// The wait is logged once, not at each pass that finds it still waiting.
func (m *Monitor) wait(l *Log, index uint64, names, shows string, leaf []byte) {
	if w, ok := m.waiting[l.Origin]; ok && w.index == index {
		return
	}
	m.waiting[l.Origin] = waitingView{index: index, names: names, shows: shows, leaf: leaf, since: m.opts.Now()}
	m.logger.Info("waiting: an entry names more than the monitor has replayed; logged again when the wait moves",
		"log", l.Origin, "at", index, "names", names, "shows", shows)
}

// checkWaiting raises an alert when l has waited at a registry view entry
// for longer than OverdueAfter (DefaultOverdueAfter if unset): a view
// naming a registry the registry log never shows would otherwise stop the
// log's monitoring for good, in silence.
func (m *Monitor) checkWaiting(ctx context.Context, l *Log) error {
	w, ok := m.waiting[l.Origin]
	limit := cmp.Or(m.opts.OverdueAfter, DefaultOverdueAfter)
	if !ok || m.opts.Now().Sub(w.since) < limit {
		return nil
	}
	index := w.index
	msg := fmt.Sprintf("entry %d names %s, which %s has not shown for %s: the log's entries from there on cannot be checked",
		index, w.names, w.shows, limit)
	return m.raise(ctx, Alert{Kind: KindEntry, Log: l.Origin, Index: &index, Message: msg,
		Evidence: Evidence{Entry: w.leaf, Error: fmt.Sprintf("%s not shown", w.names)}.marshal()})
}

var allKinds = []Kind{KindCheckpointRefused, KindInconsistent, KindRootMismatch, KindEntry, KindStale, KindPromiseBroken, KindOverdue, KindCompromised, KindLate, KindSplitView}

// New checks opts and returns a Monitor.
func New(opts Options) (*Monitor, error) {
	if opts.Store == nil {
		return nil, errors.New("monitor: no store")
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.CommitEvery == 0 {
		opts.CommitEvery = 100_000
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	seen := map[string]bool{}
	// The registry log comes first: each pass replays it before the logs
	// whose entries it authorizes.
	opts.Logs = slices.Clone(opts.Logs)
	slices.SortStableFunc(opts.Logs, func(a, b Log) int {
		_, ar := a.Domain.(*registry.Domain)
		_, br := b.Domain.(*registry.Domain)
		switch {
		case ar && !br:
			return -1
		case br && !ar:
			return 1
		}
		return 0
	})
	hasRegistryLog := len(opts.Logs) > 0 && isRegistryLog(&opts.Logs[0])
	for i, l := range opts.Logs {
		switch {
		case l.Name == "" || l.Origin == "":
			return nil, fmt.Errorf("monitor: log %d: name and origin are required", i)
		case l.Policy == nil || l.Reader == nil || l.Domain == nil:
			return nil, fmt.Errorf("monitor: log %s: policy, reader and domain are required", l.Origin)
		case i > 0 && isRegistryLog(&l):
			return nil, fmt.Errorf("monitor: log %s: a second registry log", l.Origin)
		case !hasRegistryLog && l.Registry == nil:
			return nil, fmt.Errorf("monitor: log %s: a registry is required (or follow the registry log)", l.Origin)
		case hasRegistryLog && l.Registry != nil:
			return nil, fmt.Errorf("monitor: log %s: a fixed registry beside the registry log", l.Origin)
		case hasRegistryLog && !isRegistryLog(&l) && logKey(&l) == nil:
			return nil, fmt.Errorf("monitor: log %s: its policy names no key for it", l.Origin)
		case seen[l.Origin]:
			return nil, fmt.Errorf("monitor: log %s listed twice", l.Origin)
		}
		seen[l.Origin] = true
	}
	for i := range opts.Logs {
		opts.Logs[i].kinds = watchKinds(opts.Logs[i].Domain)
	}
	watching, err := watchesByLog(opts.Watches, opts.Logs)
	if err != nil {
		return nil, err
	}
	witnesses, err := witnessURLs(opts)
	if err != nil {
		return nil, err
	}
	m := &Monitor{
		opts:    opts,
		logger:  logger,
		factory: &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren},
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govlog_monitor_alerts_total", Help: "Alerts raised, by log origin and kind.",
		}, []string{"log", "kind"}),
		size: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "govlog_monitor_verified_tree_size", Help: "Tree size of the last checkpoint verified, entries replayed.",
		}, []string{"log"}),
		entries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govlog_monitor_entries_verified_total", Help: "Entries downloaded, hashed and replayed.",
		}, []string{"log"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govlog_monitor_pass_failures_total", Help: "Passes that failed to read a log or the store (not alerts).",
		}, []string{"log"}),
		notified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govlog_monitor_notifications_total", Help: "Watched entries found, by log origin and watch.",
		}, []string{"log", "watch"}),
		faulted:    map[string]bool{},
		witnesses:  newWitnessPolls(witnesses, opts.WitnessClient),
		waiting:    map[string]waitingView{},
		watching:   watching,
		aheadBytes: maxAheadBytes,
		fetched:    map[string]time.Time{},
	}
	if err := checkImports(opts.Logs); err != nil {
		logger.Warn("an entry that reads a log the monitor does not follow waits for it, and is reported after OverdueAfter", "err", err)
	}
	hooks, err := newWebhooks(opts, logger)
	if err != nil {
		return nil, err
	}
	m.hooks = hooks
	if opts.Portal != nil {
		if m.portal, err = newPortal(m, *opts.Portal); err != nil {
			return nil, fmt.Errorf("monitor: %w", err)
		}
	}
	if hasRegistryLog {
		m.regLog = &m.opts.Logs[0]
		if err := m.loadRegistry(context.Background()); err != nil {
			return nil, err
		}
	}
	for _, l := range opts.Logs {
		for _, k := range allKinds {
			m.alerts.WithLabelValues(l.Origin, string(k))
		}
		m.failures.WithLabelValues(l.Origin)
		m.entries.WithLabelValues(l.Origin)
	}
	if opts.Metrics != nil {
		for _, c := range []prometheus.Collector{m.alerts, m.size, m.entries, m.failures, m.notified} {
			if err := opts.Metrics.Register(c); err != nil {
				return nil, fmt.Errorf("monitor: couldn't register metrics: %w", err)
			}
		}
	}
	return m, nil
}

// Run makes a pass over every log, then one every Interval, until ctx is
// done. A failed pass is retried at the next tick; Follow logs its failures.
func (m *Monitor) Run(ctx context.Context) error {
	defer m.hooks.stop()
	t := time.NewTicker(m.opts.Interval)
	defer t.Stop()
	for {
		m.Follow(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Follow makes one pass over every log, then reads the witnesses'
// evidence. Alerts are not errors: an error means a log or the store could
// not be read or written, and the pass over that log should be retried.
// A log's failure is logged when it first happens and when it changes or
// ends, not at every pass that finds it again: a log stuck for hours logs
// once.
func (m *Monitor) Follow(ctx context.Context) error {
	var errs []error
	for i := range m.opts.Logs {
		l := &m.opts.Logs[i]
		delete(m.faulted, l.Origin)
		if m.portal != nil {
			if err := m.rebuildIndex(ctx, l); err != nil {
				m.logger.Warn("couldn't index for search the entries replayed before the portal; trying again next pass", "log", l.Origin, "err", err)
			}
		} else if err := m.dropIndex(ctx, l); err != nil {
			m.logger.Warn("couldn't drop the search index of the portal, which is off; trying again next pass", "log", l.Origin, "err", err)
		}
		err := m.follow(ctx, l)
		if l == m.regLog {
			if err = errors.Join(err, m.loadRegistry(ctx)); err == nil {
				err = m.rescanCompromised(ctx)
			}
		}
		if err == nil && !m.faulted[l.Origin] {
			err = errors.Join(m.checkPromises(ctx, l), m.checkOverdue(ctx, l), m.checkLate(ctx, l))
		}
		before, seen := m.status.get(l.Origin)
		m.status.record(l.Origin, m.opts.Now(), err)
		switch {
		case err != nil && ctx.Err() == nil && (!seen || before.Err == nil || before.Err.Error() != err.Error()):
			m.logger.Warn("pass over a log failed; retried at each pass, logged again when the failure changes or ends", "log", l.Origin, "err", err)
		case err == nil && seen && before.Err != nil:
			m.logger.Info("pass over a log succeeds again", "log", l.Origin, "failing_since", before.FailingSince)
		}
		if err != nil {
			m.failures.WithLabelValues(l.Origin).Inc()
			errs = append(errs, fmt.Errorf("log %s: %w", l.Origin, err))
		}
	}
	errs = append(errs, m.pollWitnesses(ctx))
	return errors.Join(errs...)
}

func (m *Monitor) follow(ctx context.Context, l *Log) error {
	delete(m.fetched, l.Origin)
	fetched := m.opts.Now()
	signed, err := l.Reader.Checkpoint(ctx, l.Name)
	if err != nil {
		return fmt.Errorf("couldn't fetch checkpoint: %w", err)
	}
	m.fetched[l.Origin] = fetched
	store := m.opts.Store
	prev, hadPrev, err := store.Verified(ctx, l.Origin)
	if err != nil {
		return err
	}
	var prevCP govlog.Checkpoint
	if hadPrev {
		if prevCP, err = parseSigned(prev.Checkpoint); err != nil {
			return fmt.Errorf("corrupt verified checkpoint in store: %w", err)
		}
		if prev.Size > prevCP.Size {
			return fmt.Errorf("corrupt store: %d entries replayed under a checkpoint of %d", prev.Size, prevCP.Size)
		}
		m.size.WithLabelValues(l.Origin).Set(float64(prev.Size))
	}

	cp, _, err := l.Policy.Verify(signed)
	if err == nil && cp.Origin != l.Origin {
		err = fmt.Errorf("%w: origin %q, want %q", govlog.ErrUnknownLog, cp.Origin, l.Origin)
	}
	if err != nil {
		return m.raise(ctx, Alert{Kind: KindCheckpointRefused, Log: l.Origin,
			Message:  fmt.Sprintf("checkpoint refused by the policy: %v", err),
			Evidence: Evidence{Checkpoints: [][]byte{signed}, Error: err.Error()}.marshal()})
	}

	// The checkpoint verified before may be ahead of the entries replayed
	// (prev.Size): a pass stopped between two of its commits.
	switch {
	case hadPrev && cp.Size < prevCP.Size:
		// An older checkpoint (a lagging replica, or a rollback): fine if it
		// is a prefix of the verified tree. A pass stopped partway goes on
		// towards the checkpoint it was verifying, so that serving old
		// checkpoints cannot hold the monitor back.
		pf, err := l.Reader.ConsistencyProof(ctx, l.Name, cp.Size, prevCP.Size)
		if err != nil {
			return fmt.Errorf("couldn't fetch consistency proof %d to %d: %w", cp.Size, prevCP.Size, err)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, cp.Size, prevCP.Size, pf, cp.Hash[:], prevCP.Hash[:]); err != nil {
			return m.inconsistent(ctx, l, signed, prev.Checkpoint, pf,
				fmt.Errorf("consistency proof from %d to %d does not verify: %w", cp.Size, prevCP.Size, err))
		}
		m.logger.Debug("log served an older checkpoint", "log", l.Origin, "size", cp.Size, "verified", prevCP.Size)
		if prev.Size == prevCP.Size {
			return nil
		}
		signed, cp = prev.Checkpoint, prevCP
	case hadPrev && cp.Size == prevCP.Size:
		if cp.Hash != prevCP.Hash {
			return m.inconsistent(ctx, l, prev.Checkpoint, signed, nil, errors.New("same tree size, different root"))
		}
		if bytes.Equal(signed, prev.Checkpoint) && prev.Size == cp.Size {
			return m.checkStale(ctx, l, prev)
		}
	case hadPrev && prevCP.Size > 0:
		pf, err := l.Reader.ConsistencyProof(ctx, l.Name, prevCP.Size, cp.Size)
		if err != nil {
			return fmt.Errorf("couldn't fetch consistency proof %d to %d: %w", prevCP.Size, cp.Size, err)
		}
		// SPEC: tlog-checkpoint: a client MUST verify that a checkpoint is
		// consistent with the one it verified before.
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, prevCP.Size, cp.Size, pf, prevCP.Hash[:], cp.Hash[:]); err != nil {
			return m.inconsistent(ctx, l, prev.Checkpoint, signed, pf,
				fmt.Errorf("consistency proof from %d to %d does not verify: %w", prevCP.Size, cp.Size, err))
		}
	}
	return m.catchUp(ctx, l, prev, hadPrev, signed, cp)
}

// errWaitingView is advance's answer when the range's first entry is a
// view entry naming more of another log than the monitor has replayed.
var errWaitingView = errors.New("waiting at a view entry")

// catchUp replays the entries from prev.Size up to cp, a verified
// checkpoint, in commits of at most CommitEvery entries (one for a log with
// watches).
func (m *Monitor) catchUp(ctx context.Context, l *Log, prev Verified, hadPrev bool, signed []byte, cp govlog.Checkpoint) error {
	for {
		end := cp.Size
		if len(m.watching[l.Origin]) == 0 && cp.Size-prev.Size > m.opts.CommitEvery {
			end = prev.Size + m.opts.CommitEvery
		}
		stored, err := m.advance(ctx, l, prev, hadPrev, signed, cp, end)
		if errors.Is(err, errWaitingView) {
			// Stopped at the first entry of the pass (even of the log):
			// nothing to commit, and the wait counts all the same.
			return m.checkWaiting(ctx, l)
		}
		if err != nil || stored.Checkpoint == nil || stored.Size == cp.Size {
			if err == nil && stored.Size == cp.Size {
				delete(m.waiting, l.Origin)
			}
			return err // nil Checkpoint: an alert stopped the pass
		}
		if stored.Size < end {
			// Stopped at a registry view the registry log has not shown
			// the monitor yet: the next pass goes on, unless it has waited
			// too long.
			return m.checkWaiting(ctx, l)
		}
		delete(m.waiting, l.Origin)
		prev, hadPrev = stored, true
	}
}

// advance downloads, hashes and replays the entries from the replayed size
// to end, at most cp's size, and stores them as verified under cp if they
// are cp's: at cp's size, if they hash to its root; before it, if the log
// proves the tree they make consistent with cp's. It returns what it stored
// (the zero Verified when an alert stopped it).
func (m *Monitor) advance(ctx context.Context, l *Log, prev Verified, hadPrev bool, signed []byte, cp govlog.Checkpoint, end uint64) (Verified, error) {
	if end < prev.Size || end > cp.Size {
		return Verified{}, fmt.Errorf("entries %d to %d are outside checkpoint size %d", prev.Size, end, cp.Size)
	}
	tx, err := m.opts.Store.begin(ctx, l.Origin)
	if err != nil {
		return Verified{}, err
	}
	defer tx.rollback()
	r, err := m.replayRange(ctx, l, tx, prev, signed, end)
	if err != nil {
		return Verified{}, err
	}
	if r.end < end {
		if r.end == prev.Size {
			return prev, errWaitingView // nothing replayed
		}
		end = r.end
	}
	var cps [][]byte
	if hadPrev {
		cps = append(cps, prev.Checkpoint)
	}
	alert, err := m.checkRoot(ctx, l, append(cps, signed), cp, prev.Size, end, r.rng)
	if err != nil {
		return Verified{}, err
	}
	if alert != nil {
		// The store has one writer: let go of it before recording the alert.
		tx.rollback()
		return Verified{}, m.raise(ctx, *alert)
	}
	return m.commitPass(ctx, l, tx, prev, hadPrev, signed, cp, end, r)
}

// replayed is what replaying a range of entries leaves for the root check
// and the commit.
type replayed struct {
	// rng is the compact range of the tree up to the range's end.
	rng *compact.Range
	// refused are the entries' alerts, which wait for the root check:
	// until then nothing says the log committed to these entries.
	refused []Alert
	// matched are the watched entries, which wait for it too; their
	// inclusion proofs are built from passLeaves, the range's leaf hashes,
	// and the compact range below each.
	matched    []watchMatch
	passLeaves [][]byte
	// end is where the range ended: before its end if it reached a
	// registry view entry naming more of the registry than the monitor
	// has replayed.
	end uint64
}

// replayRange downloads the entries from prev.Size to end and replays them
// in log order into tx, hashing each onto the compact range of the
// verified tree. signed is the checkpoint the pass verifies, for evidence.
func (m *Monitor) replayRange(ctx context.Context, l *Log, tx *advance, prev Verified, signed []byte, end uint64) (*replayed, error) {
	rng, err := m.factory.NewRange(0, prev.Size, prev.Range)
	if err != nil {
		return nil, fmt.Errorf("corrupt compact range in store: %w", err)
	}
	r := &replayed{rng: rng}
	watches := m.watching[l.Origin]
	view, err := m.viewOf(ctx, l, tx)
	if err != nil {
		return nil, err
	}
	logViews, err := m.logViewsOf(ctx, l, tx)
	if err != nil {
		return nil, err
	}
	fetchCtx, stopFetching := context.WithCancel(ctx)
	defer stopFetching()
	budget := semaphore.NewWeighted(m.aheadBytes)
	next := prev.Size
	for f := range m.fetchAhead(fetchCtx, l, prev.Size, end, budget) {
		<-f.ready
		if f.err != nil {
			return nil, f.err
		}
		if err := tx.prefetch(ctx, batchKeys(f.parsed)); err != nil {
			return nil, err
		}
		for i, leaf := range f.leaves {
			leafHash := f.hashes[i]
			if a := f.parsed[i].anchor; a != nil && a.Size > m.reg.Size() {
				r.end = next
				m.wait(l, next, a.String(), fmt.Sprintf("the registry log (it shows %d entries)", m.reg.Size()), leaf)
				return r, nil
			}
			if v := f.parsed[i].logView; v != nil {
				have, err := m.replayedSize(ctx, v.Log)
				if err != nil {
					return nil, err
				}
				if v.Size > have {
					r.end = next
					m.wait(l, next, v.String(), fmt.Sprintf("the monitor's replay of the %s log (it has %d entries)", v.Log, have), leaf)
					return r, nil
				}
			}
			if err := tx.putLeaf(ctx, leafHash, next); err != nil {
				return nil, err
			}
			agency, refusal, err := m.replay(ctx, l, tx, f.parsed[i], next, &view, logViews)
			if err == nil && refusal != nil && l == m.regLog {
				err = registry.SkipRefused(ctx, tx, leafHash)
			}
			if err != nil {
				return nil, fmt.Errorf("couldn't replay entry %d: %w", next, err)
			}
			if refusal == nil && m.regLog != nil && l != m.regLog {
				if keys := m.reg.Compromised(f.parsed[i].Sigs, f.parsed[i].Entry.Time); len(keys) > 0 {
					index := next
					r.refused = append(r.refused, Alert{Kind: KindCompromised, Log: l.Origin, Index: &index,
						Message:  compromisedMessage(index, f.parsed[i].Entry.Type, keys),
						Evidence: Evidence{Checkpoints: [][]byte{signed}, Entry: leaf, Error: "compromised key: " + strings.Join(keys, "; ")}.marshal()})
				}
			}
			if len(watches) > 0 {
				r.passLeaves = append(r.passLeaves, leafHash[:])
				if refusal == nil {
					e := f.parsed[i].Entry
					e.Agency = agency
					if names := matchWatches(watches, l.kinds, e); len(names) > 0 {
						r.matched = append(r.matched, watchMatch{watches: names, index: next, typ: e.Type,
							agency: agency, entry: leaf, left: slices.Clone(rng.Hashes())})
					}
				}
			}
			if err := rng.Append(leafHash[:], nil); err != nil {
				return nil, fmt.Errorf("couldn't hash entry %d: %w", next, err)
			}
			if refusal != nil {
				index := next
				r.refused = append(r.refused, Alert{Kind: KindEntry, Log: l.Origin, Index: &index,
					Message:  fmt.Sprintf("entry %d refused on replay: %v", index, refusal),
					Evidence: Evidence{Checkpoints: [][]byte{signed}, Entry: leaf, Error: refusal.Error()}.marshal()})
			}
			next++
		}
		budget.Release(f.weight)
	}
	if next != end {
		// The fetcher stopped early: ctx was cancelled.
		return nil, fmt.Errorf("pass interrupted at entry %d of %d: %w", next, end, context.Cause(ctx))
	}
	r.end = end
	return r, nil
}

// checkRoot checks that the entries from begin to end, which hash to rng,
// are those of cp, the last of cps (the checkpoints the alert's evidence
// needs): at cp's size, by its root; before it, by the log's consistency
// proof. It returns the alert to raise if they are not; an error is a
// failure to check.
func (m *Monitor) checkRoot(ctx context.Context, l *Log, cps [][]byte, cp govlog.Checkpoint, begin, end uint64, rng *compact.Range) (*Alert, error) {
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return nil, fmt.Errorf("couldn't compute the root: %w", err)
	}
	if end == 0 {
		root = rfc6962.DefaultHasher.EmptyRoot()
	}
	if end == cp.Size {
		if bytes.Equal(root, cp.Hash[:]) {
			return nil, nil
		}
		return &Alert{Kind: KindRootMismatch, Log: l.Origin,
			Message: fmt.Sprintf("entries %d to %d hash to root %s, not the checkpoint's %s",
				begin, cp.Size, base64.StdEncoding.EncodeToString(root), base64.StdEncoding.EncodeToString(cp.Hash[:])),
			Evidence: Evidence{Checkpoints: cps, ComputedRoot: root}.marshal()}, nil
	}
	// Part of a long pass: the entries so far are cp's if the log proves
	// the tree they make consistent with cp.
	pf, err := l.Reader.ConsistencyProof(ctx, l.Name, end, cp.Size)
	if err != nil {
		return nil, fmt.Errorf("couldn't fetch consistency proof %d to %d: %w", end, cp.Size, err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, end, cp.Size, pf, root, cp.Hash[:]); err != nil {
		return &Alert{Kind: KindRootMismatch, Log: l.Origin,
			Message: fmt.Sprintf("entries %d to %d hash to root %s, which the log does not prove part of its checkpoint: %v",
				begin, end, base64.StdEncoding.EncodeToString(root), firstLine(err.Error())),
			Evidence: Evidence{Checkpoints: cps, ComputedRoot: root, Proof: pf, Error: err.Error()}.marshal()}, nil
	}
	return nil, nil
}

// commitPass records the watched entries' notifications and commits tx
// with the entries from prev.Size to end verified under signed; then, and
// only then, it delivers the notifications and raises the entries' alerts.
func (m *Monitor) commitPass(ctx context.Context, l *Log, tx *advance, prev Verified, hadPrev bool, signed []byte, cp govlog.Checkpoint, end uint64, r *replayed) (Verified, error) {
	notes, err := m.recordMatches(ctx, l, tx, r.matched, r.passLeaves, prev.Size, signed, cp)
	if err != nil {
		return Verified{}, err
	}
	seen := m.opts.Now()
	if hadPrev && bytes.Equal(signed, prev.Checkpoint) {
		seen = prev.Seen
	}
	stored := Verified{Checkpoint: signed, Size: end, Range: r.rng.Hashes(), Seen: seen}
	if err := tx.commit(ctx, prev, hadPrev, stored); err != nil {
		return Verified{}, err
	}
	m.size.WithLabelValues(l.Origin).Set(float64(end))
	m.entries.WithLabelValues(l.Origin).Add(float64(end - prev.Size))
	m.logger.Info("verified entries", "log", l.Origin, "size", end, "checkpoint_size", cp.Size, "new_entries", end-prev.Size, "refused", len(r.refused))
	for _, n := range notes {
		m.notify(n)
	}
	var errs []error
	for _, a := range r.refused {
		errs = append(errs, m.raise(ctx, a))
	}
	return stored, errors.Join(errs...)
}

// replay checks one entry as its admission server did and applies it to
// st, with the registry as it stood after *view entries; a registry view
// entry moves *view. agency is the signer the registry authorized;
// refusal is the entry's fault; err is a failure of st.
func (m *Monitor) replay(ctx context.Context, l *Log, st rule.State, p parsedEntry, index uint64, view *uint64, logViews map[string]uint64) (agency string, refusal, err error) {
	if p.err != nil {
		return "", p.err, nil
	}
	if v := p.logView; v != nil {
		if _, ok := logViews[v.Log]; !ok {
			return "", fmt.Errorf("log view entry names %s, which the %s rules do not read", v, l.Name), nil
		}
		if v.Size <= logViews[v.Log] {
			return "", fmt.Errorf("log view entry names %s, but the log already read size %d", v, logViews[v.Log]), nil
		}
		logViews[v.Log] = v.Size
		return "", nil, st.Put(ctx, govlog.LogViewStateKey(v.Log), []byte(strconv.FormatUint(v.Size, 10)))
	}
	p.Entry.Index = index
	if logViews != nil {
		p.Entry.Logs = &replayedLogs{m: m, views: logViews}
	}
	reg := m.registryOf(l)
	if p.anchor != nil {
		if p.anchor.Size <= *view {
			return "", fmt.Errorf("registry view entry names %s, but the log already authorized against size %d", p.anchor, *view), nil
		}
		if err := p.anchor.Check(reg); err != nil {
			return "", fmt.Errorf("registry view entry %w", err), nil
		}
		*view = p.anchor.Size
		return "", nil, st.Put(ctx, registry.ViewStateKey, []byte(strconv.FormatUint(*view, 10)))
	}
	n := *view
	if l.Registry != nil {
		n = l.Registry.Size() // a fixed registry: all of it, always
	}
	e, err := rule.Admit(ctx, l.Domain, st, p.Entry, reg.Authorizer(p.Opened, n))
	if err != nil && rule.IsRefusal(err) {
		return e.Agency, err, nil
	}
	if err == nil && m.portal != nil {
		// The portal's search index, as the log's server keeps it.
		e.Index = index
		err = search.IndexEntries(ctx, st, l.Domain, []rule.Entry{e})
	}
	return e.Agency, nil, err
}

// batchKeys returns the state keys the rules will read for a batch, as
// its entries' parsing named them (readKeys).
func batchKeys(parsed []parsedEntry) []string {
	var keys []string
	for _, p := range parsed {
		keys = append(keys, p.readKeys...)
	}
	return keys
}

// registryOf returns the registry that authorizes l's entries.
func (m *Monitor) registryOf(l *Log) *registry.Registry {
	if l.Registry != nil {
		return l.Registry
	}
	return m.reg
}

// viewOf returns the registry size l's entries are authorized against
// after the entries replayed into tx.
func (m *Monitor) viewOf(ctx context.Context, l *Log, tx *advance) (uint64, error) {
	v, ok, err := tx.Get(ctx, registry.ViewStateKey)
	if err != nil || !ok {
		return 0, err
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("corrupt %s %q in store", registry.ViewStateKey, v)
	}
	return n, nil
}

// loadRegistry builds the registry from the registry log's replayed state,
// unless it holds no more entries than the one built before (one read, not
// a scan of every agency, on a pass that brought the registry nothing).
func (m *Monitor) loadRegistry(ctx context.Context) error {
	st := stateScanner{s: m.opts.Store, origin: m.regLog.Origin}
	if m.reg != nil {
		n, err := registry.StateSize(ctx, st)
		if err != nil {
			return fmt.Errorf("couldn't read the replayed registry: %w", err)
		}
		if n == m.reg.Size() {
			return nil
		}
	}
	r, err := registry.FromState(ctx, st)
	if err != nil {
		return fmt.Errorf("couldn't read the replayed registry: %w", err)
	}
	m.reg = r
	return nil
}

func isRegistryLog(l *Log) bool {
	_, ok := l.Domain.(*registry.Domain)
	return ok
}

// logKey returns the key l's policy names for l itself.
func logKey(l *Log) note.Verifier {
	for _, v := range l.Policy.Logs() {
		if v.Name() == l.Origin {
			return v
		}
	}
	return nil
}

func (m *Monitor) inconsistent(ctx context.Context, l *Log, older, newer []byte, pf [][]byte, cause error) error {
	return m.raise(ctx, Alert{Kind: KindInconsistent, Log: l.Origin,
		Message:  fmt.Sprintf("log signed inconsistent checkpoints: %v", firstLine(cause.Error())),
		Evidence: Evidence{Checkpoints: [][]byte{older, newer}, Proof: pf, Error: cause.Error()}.marshal()})
}

func (m *Monitor) checkStale(ctx context.Context, l *Log, v Verified) error {
	if m.opts.MaxCheckpointAge <= 0 {
		return nil
	}
	age := m.opts.Now().Sub(v.Seen)
	if age <= m.opts.MaxCheckpointAge {
		return nil
	}
	return m.raise(ctx, Alert{Kind: KindStale, Log: l.Origin,
		Message:  fmt.Sprintf("no new checkpoint since %s (more than %s)", v.Seen.Format(time.RFC3339), m.opts.MaxCheckpointAge),
		Evidence: Evidence{Checkpoints: [][]byte{v.Checkpoint}}.marshal()})
}

// raise records a and, if it is new, delivers it. A failure to record is
// returned, after delivery: an alert must not be lost to a storage fault.
func (m *Monitor) raise(ctx context.Context, a Alert) error {
	a.Time = m.opts.Now().UTC()
	switch a.Kind {
	case KindCheckpointRefused, KindInconsistent, KindRootMismatch:
		m.faulted[a.Log] = true
	}
	isNew, err := m.opts.Store.addAlert(ctx, a)
	if err == nil && !isNew {
		return nil
	}
	m.alerts.WithLabelValues(a.Log, string(a.Kind)).Inc()
	attrs := []any{"kind", a.Kind, "log", a.Log, "alert_id", a.ID(), "evidence", base64.StdEncoding.EncodeToString(a.Evidence)}
	if a.Index != nil {
		attrs = append(attrs, "index", *a.Index)
	}
	m.logger.Error("ALERT: "+a.Message, attrs...)
	if m.opts.OnAlert != nil {
		m.opts.OnAlert(a)
	}
	m.hooks.send(a)
	return err
}

// caughtUp reports whether every entry of v's checkpoint was replayed: a
// pass stopped between two commits leaves fewer, and what is missing must
// not be judged (a promise, a release) on them.
func caughtUp(v Verified) bool {
	cp, err := parseSigned(v.Checkpoint)
	return err == nil && cp.Size == v.Size
}

// parseSigned parses the text of a signed checkpoint stored after it was
// verified.
func parseSigned(signed []byte) (govlog.Checkpoint, error) {
	i := bytes.Index(signed, []byte("\n\n"))
	if i < 0 {
		return govlog.Checkpoint{}, govlog.ErrMalformedCheckpoint
	}
	return govlog.ParseCheckpoint(signed[:i+1])
}

// firstLine keeps messages on one line; the full error is in the evidence.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSuffix(line, ":")
}
