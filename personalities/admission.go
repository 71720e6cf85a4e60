package personalities

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/storage"
)

// Queue is where admitted leaves go to be integrated (log-server's Log).
type Queue interface {
	// QueueLeaves stores leaves at indexes first, first+1, ... for the
	// sequencer to integrate in that order. Storing a leaf again at its
	// index is not an error, so a caller may re-queue after any failure.
	QueueLeaves(ctx context.Context, first uint64, leaves [][]byte) error
}

// pending is one authenticated statement waiting for its batch.
type pending struct {
	entry rule.Entry
	leaf  []byte
	// sigs are its signatures by registry keys, verified, and received
	// when it arrived: the batch authorizes them with its registry.
	sigs     []note.Signature
	received time.Time
	done     chan admission
}

// admission is the outcome of admitting one statement.
type admission struct {
	duplicate  bool
	admittedAt time.Time
	err        error
}

// admitter runs one log's group-commit loop.
type admitter struct {
	log       string
	domain    rule.Domain
	store     storage.AdmissionStore
	queue     Queue
	maxBatch  int
	checkTime func(time.Time) error
	logger    *slog.Logger
	// registry returns the registry to authorize against.
	registry func(context.Context) (*registry.Registry, error)
	// backend signs the entries the log writes about itself with the
	// log's key: registry views (when registryViews: every log but the
	// registry log, when there is one) and log views.
	backend interface {
		Origin() string
		SignStatement(*govlog.Statement) ([]byte, error)
	}
	registryViews bool
	// imports are the domains of the logs this log's rules read
	// (rule.Importer), by log name.
	imports map[string]rule.Domain
	// ruleKey signs the log's answers (rule.Responder).
	ruleKey note.Signer
	// afterCommit, if set, runs after a batch that admitted something
	// commits, before its callers hear of it.
	afterCommit func()
	// stale says the registry must be read again before the next use.
	stale func()
	// lock, if set, is taken around each batch, from reading the registry
	// to after afterCommit; it returns the unlock.
	lock func() (unlock func())
	// published returns the log's latest published checkpoint, whose
	// leaves the outbox may let go of (removeIntegrated).
	published func() ([]byte, govlog.Checkpoint)

	// term is the admission loop running now, nil while none runs (a
	// process that is not the elected admitter).
	term   atomic.Pointer[term]
	queued chan []storage.OutboxEntry
	// recheck says a batch failed in the store: its transaction may have
	// committed all the same, so the outbox is read again for leaves to
	// queue.
	recheck chan struct{}
	// fenced, if set, is called when the store refuses a batch because
	// another process took the fence: this one must stop admitting.
	fenced func()
	// admittedTotal counts the entries admitted (Server.Stats).
	admittedTotal atomic.Uint64
}

// term is one run of the admission loop: statements are handed to it on in,
// and stopped is closed when it returns.
type term struct {
	in      chan *pending
	stopped chan struct{}
}

// newTerm makes the term the next run uses; a statement handed to it before
// the run starts waits for it.
func (a *admitter) newTerm() *term {
	t := &term{in: make(chan *pending, a.maxBatch), stopped: make(chan struct{})}
	a.term.Store(t)
	return t
}

// admit hands p to the loop and waits for its outcome.
func (a *admitter) admit(ctx context.Context, p *pending) admission {
	p.done = make(chan admission, 1)
	t := a.term.Load()
	if t == nil {
		return admission{err: ErrNotAdmitting}
	}
	select {
	case t.in <- p:
	case <-t.stopped:
		return admission{err: ErrNotAdmitting}
	case <-ctx.Done():
		return admission{err: ctx.Err()}
	}
	// Once handed over, the outcome is decided by the loop; wait for it
	// even if the caller gives up, so the result is never ambiguous. If the
	// loop stopped first, p was never taken and nothing was admitted.
	select {
	case r := <-p.done:
		return r
	case <-t.stopped:
		select {
		case r := <-p.done:
			return r
		default:
			return admission{err: ErrShuttingDown}
		}
	}
}

// run takes whatever arrived in t while the last batch was committing and
// admits it as one batch, until ctx is done.
func (a *admitter) run(ctx context.Context, t *term) {
	queued := make(chan struct{})
	defer func() {
		a.term.CompareAndSwap(t, nil)
		close(t.stopped)
		<-queued
	}()
	go func() {
		defer close(queued)
		a.queueLoop(ctx)
	}()
	for {
		var batch []*pending
		select {
		case p := <-t.in:
			batch = append(batch, p)
		case <-ctx.Done():
			return
		}
	drain:
		for len(batch) < a.maxBatch {
			select {
			case p := <-t.in:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		a.admitBatch(ctx, batch)
	}
}

func (a *admitter) admitBatch(ctx context.Context, batch []*pending) {
	a.admitBatchAtomic(ctx, batch, false)
}

// admitAll admits batch in one transaction, all of it or, if one
// statement is refused, none of it, and returns that refusal.
func (a *admitter) admitAll(ctx context.Context, batch []*pending) error {
	for _, p := range batch {
		p.done = make(chan admission, 1)
	}
	a.admitBatchAtomic(ctx, batch, true)
	var first error
	for i, p := range batch {
		r := <-p.done
		switch {
		case r.err == nil:
		case !errors.Is(r.err, errRefusedInAtomicBatch):
			return fmt.Errorf("statement %d of %d: %w", i+1, len(batch), r.err)
		case first == nil:
			first = r.err
		}
	}
	return first
}

// errRefusedInAtomicBatch rolls back an all-or-nothing batch.
var errRefusedInAtomicBatch = errors.New("a statement of an all-or-nothing batch was refused")

func (a *admitter) admitBatchAtomic(ctx context.Context, batch []*pending, atomic bool) {
	if a.lock != nil {
		defer a.lock()()
	}
	results := make([]admission, len(batch))
	var admitted []storage.OutboxEntry
	err := a.store.Admit(ctx, a.log, func(ctx context.Context, tx storage.AdmitTx) error {
		clear(results)
		admitted = admitted[:0]
		hashes := make([][32]byte, len(batch))
		for i, p := range batch {
			hashes[i] = p.entry.LeafHash
		}
		seen, err := tx.LookupOutbox(ctx, hashes)
		if err != nil {
			return err
		}
		reg, err := a.registry(ctx)
		if err != nil {
			return err
		}
		// One round trip for the keys the batch reads for sure.
		if err := tx.Prefetch(ctx, a.batchKeys(batch, seen)); err != nil {
			return err
		}
		var view uint64
		if a.registryViews {
			// Another server process may have made the log name a larger
			// registry than this one has read yet: never authorize
			// against an older registry than the log's last view.
			if view, err = readView(ctx, tx); err != nil {
				return err
			}
			if view > reg.Size() {
				a.stale()
				if reg, err = a.registry(ctx); err != nil {
					return err
				}
				if view > reg.Size() {
					return fmt.Errorf("the log names registry size %d, and only %d registry entries are readable yet", view, reg.Size())
				}
			}
		}
		// The registry view entry, if the log must write one, goes just
		// before the first statement admitted.
		adopt := a.registryViews
		uses := map[string]time.Time{}
		var logViews map[string]uint64
		if len(a.imports) > 0 {
			if logViews, err = readLogViews(ctx, tx, a.imports); err != nil {
				return err
			}
		}
		for i, p := range batch {
			if e, ok := seen[p.entry.LeafHash]; ok {
				results[i] = admission{duplicate: true, admittedAt: e.AdmittedAt}
				continue
			}
			if err := a.checkTime(p.entry.Time); err != nil {
				results[i].err = err
				continue
			}
			// The registry view entry, if one is due, and the log views the
			// statement needs go just before it: its index counts them.
			next, err := tx.NextIndex(ctx)
			if err != nil {
				return err
			}
			if adopt && reg.Size() > view {
				next++
			}
			j, err := a.judge(ctx, tx, p, reg, next, logViews)
			if err == nil && j.refusal != nil && j.logs != nil && len(j.logs.want) > 0 {
				// Refused at the log's views, but another log holds more
				// than they name: judge it again reading that much more,
				// with the log views that say so written before it.
				wider := maps.Clone(logViews)
				maps.Copy(wider, j.logs.want)
				j, err = a.judge(ctx, tx, p, reg, next+uint64(len(j.logs.want)), wider)
				if err == nil && j.refusal == nil {
					j.newViews = j.logs.viewsAbove(logViews)
				}
			}
			if err != nil {
				return err
			}
			if j.refusal != nil {
				results[i].err = j.refusal
				if atomic {
					return errRefusedInAtomicBatch
				}
				continue
			}
			if adopt {
				if admitted, err = a.adoptRegistry(ctx, tx, reg, view, admitted); err != nil {
					return err
				}
				adopt = false
			}
			for _, v := range j.newViews {
				if admitted, err = a.adoptLogView(ctx, tx, v, admitted); err != nil {
					return err
				}
				logViews[v.Log] = v.Size
			}
			for _, k := range j.st.order {
				if err := tx.Put(ctx, k, j.st.puts[k]); err != nil {
					return err
				}
			}
			for k, e := range append([]*pending{p}, j.responses...) {
				if err := tx.AddToOutbox(ctx, e.entry.LeafHash, e.leaf); err != nil {
					return err
				}
				// Read the entry back for the index and admission time the
				// store gave it, so this caller's promise and any replay's
				// (even later in this batch) count from the same instant.
				added, err := tx.LookupOutbox(ctx, [][32]byte{e.entry.LeafHash})
				if err != nil {
					return err
				}
				got := added[e.entry.LeafHash]
				if want := j.index + uint64(k); got.Index != want {
					return fmt.Errorf("entry admitted at index %d, judged as %d", got.Index, want)
				}
				seen[e.entry.LeafHash] = got
				if k == 0 {
					results[i].admittedAt = got.AdmittedAt
				}
				admitted = append(admitted, got)
				for _, sig := range e.sigs {
					id := keyUseID(sig)
					if t, ok := uses[id]; !ok || e.entry.Time.After(t) {
						uses[id] = e.entry.Time
					}
				}
			}
		}
		if a.registryViews {
			return recordKeyUse(ctx, tx, uses)
		}
		return nil
	})
	if err == nil {
		a.admittedTotal.Add(uint64(len(admitted)))
	}
	if err == nil && len(admitted) > 0 && a.afterCommit != nil {
		a.afterCommit()
	}
	if errors.Is(err, storage.ErrFenced) && a.fenced != nil {
		a.logger.Warn("another process took the fence: stopping admission", "err", err)
		a.fenced()
	}
	for i, p := range batch {
		r := results[i]
		switch {
		case errors.Is(err, errRefusedInAtomicBatch):
			if r.err == nil {
				r = admission{err: fmt.Errorf("not admitted: %w", err)}
			}
		case err != nil && ctx.Err() != nil:
			r = admission{err: ErrShuttingDown}
		case err != nil:
			r = admission{err: fmt.Errorf("couldn't admit batch of %d: %w", len(batch), err)}
		}
		p.done <- r
	}
	if err != nil && !errors.Is(err, errRefusedInAtomicBatch) {
		select {
		case a.recheck <- struct{}{}:
		default:
		}
	}
	if err == nil && len(admitted) > 0 {
		select {
		case a.queued <- admitted:
		case <-ctx.Done():
			// Shutting down: the leaves are in the outbox, unmarked, and
			// the next start queues them.
		}
	}
}

// judgement is the outcome of judging one statement in a batch.
type judgement struct {
	// st holds its effects (and its responses'), to write if admitted.
	st *overlay
	// index is the index it gets; its responses follow it.
	index     uint64
	responses []*pending
	// logs is what it read of other logs; newViews are the log views to
	// write before it.
	logs     *crossLogs
	newViews []govlog.LogView
	refusal  error
}

// judge judges p as a replay will (rule.Admit) at index, reading other
// logs at views, and, if it is admitted, the log's responses to it
// (rule.Responder). err is a failure of the store; refusal, p's fault.
func (a *admitter) judge(ctx context.Context, tx storage.AdmitTx, p *pending, reg *registry.Registry, index uint64, views map[string]uint64) (judgement, error) {
	j := judgement{st: &overlay{under: tx, puts: map[string][]byte{}}, index: index}
	e := p.entry
	e.Index = index
	if len(a.imports) > 0 {
		j.logs = &crossLogs{store: a.store, domains: a.imports, views: views}
		e.Logs = j.logs
	}
	e, err := a.admitEntry(ctx, j.st, e, p.sigs, p.received, reg)
	if err != nil {
		if rule.IsRefusal(err) {
			j.refusal = err
			return j, nil
		}
		return j, err
	}
	resp, ok := a.domain.(rule.Responder)
	if !ok {
		return j, nil
	}
	// The answer is part of the statement's judgement: if the rules cannot
	// answer it (or the answer would be too large to log), the statement
	// is refused, and its batch goes on.
	refuse := func(err error) (judgement, error) {
		if !rule.IsRefusal(err) && !errors.Is(err, govlog.ErrStatementTooLarge) {
			return j, err
		}
		a.logger.Warn("the log could not answer a statement; statement refused", "type", e.Type, "err", err)
		j.refusal = fmt.Errorf("%w: the log could not answer it: %w", rule.ErrRuleViolation, err)
		return j, nil
	}
	answers, err := resp.Respond(ctx, j.st, e)
	if err != nil {
		return refuse(err)
	}
	for k, r := range answers {
		q, err := a.respond(r, e.Time)
		if err != nil {
			return refuse(err)
		}
		q.entry.Index = index + 1 + uint64(k)
		q.entry.Logs = e.Logs
		if _, err := a.admitEntry(ctx, j.st, q.entry, q.sigs, q.received, reg); err != nil {
			if !rule.IsRefusal(err) {
				return j, err
			}
			a.logger.Error("the rules refused the log's own answer to a statement; statement refused", "type", e.Type, "answer", r.Type, "err", err)
			return refuse(err)
		}
		j.responses = append(j.responses, q)
	}
	return j, nil
}

// respond signs r with the log's rule key, as a statement to admit, dated
// no earlier than after.
func (a *admitter) respond(r rule.Response, after time.Time) (*pending, error) {
	if a.ruleKey == nil {
		return nil, fmt.Errorf("the %s rules answer statements, and the log has no rule key to sign the answers", a.log)
	}
	b, err := json.Marshal(r.Body)
	if err != nil {
		return nil, err
	}
	// Never dated before the statement it answers, whatever the clocks.
	now := time.Now()
	if now.Before(after) {
		now = after
	}
	st, err := govlog.NewStatement(a.backend.Origin(), r.Type, now, b)
	if err != nil {
		return nil, err
	}
	leaf, err := st.Sign(a.ruleKey)
	if err != nil {
		return nil, err
	}
	// Signed here a moment ago: read, not verified again. The registry
	// still judges the key, by name and hash, as it judges any signer's.
	st, _, sigs, err := govlog.ReadStatement(leaf, a.backend.Origin())
	if err != nil {
		return nil, fmt.Errorf("the log's answer %s does not open: %w", r.Type, err)
	}
	e := rule.Entry{Type: st.Type, Time: st.Time, Body: st.Body, LeafHash: govlog.LeafHash(leaf)}
	return &pending{entry: e, leaf: leaf, sigs: sigs, received: now}, nil
}

// admitEntry judges one statement as a replay will (rule.Admit). A panic in
// the domain's code (a bug) refuses that statement alone instead of ending
// the process.
func (a *admitter) admitEntry(ctx context.Context, st rule.State, e rule.Entry, sigs []note.Signature, received time.Time, reg *registry.Registry) (out rule.Entry, err error) {
	defer func() {
		if r := recover(); r != nil {
			a.logger.Error("domain rules panicked; statement refused", "type", e.Type, "leaf_hash", fmt.Sprintf("%x", e.LeafHash), "panic", r)
			err = fmt.Errorf("%w: the rules could not judge this statement", rule.ErrRuleViolation)
		}
	}()
	opened := registry.Opened{Entry: e, Sigs: sigs}
	return rule.Admit(ctx, a.domain, st, e, reg.AdmissionAuthorizer(opened, received))
}

// State keys the admission server keeps in each log's state beside the
// domain's (which never begin with "govlog."):
const (
	viewKey = registry.ViewStateKey
	// keyUsePrefix + "<name>+<hash>" holds the latest signed time
	// (RFC 3339) of a statement by that key the log admitted, for the
	// registry's rule on retirements; only admission servers keep it.
	keyUsePrefix = "govlog.key-use/"
)

// adoptRegistry makes reg the registry the log authorizes against: if the
// log last named (adopted) a smaller registry, it admits, before anything else in
// the batch, a registry view entry signed by the log's key naming reg's
// size and last entry, and returns admitted with it.
func (a *admitter) adoptRegistry(ctx context.Context, tx storage.AdmitTx, reg *registry.Registry, adopted uint64, admitted []storage.OutboxEntry) ([]storage.OutboxEntry, error) {
	if reg.Size() == 0 || adopted >= reg.Size() {
		return admitted, nil
	}
	st, err := registry.AnchorStatement(a.backend.Origin(), reg, time.Now())
	if err != nil {
		return nil, err
	}
	leaf, err := a.backend.SignStatement(st)
	if err != nil {
		return nil, err
	}
	hash := govlog.LeafHash(leaf)
	if err := tx.AddToOutbox(ctx, hash, leaf); err != nil {
		return nil, err
	}
	if err := tx.Put(ctx, viewKey, []byte(strconv.FormatUint(reg.Size(), 10))); err != nil {
		return nil, err
	}
	added, err := tx.LookupOutbox(ctx, [][32]byte{hash})
	if err != nil {
		return nil, err
	}
	a.logger.Info("the log now authorizes against a new registry", "registry_size", reg.Size(), "index", added[hash].Index)
	return append(admitted, added[hash]), nil
}

// batchKeys returns the state keys that admitting batch reads for sure,
// but for its statements admitted already (seen): the log's registry view
// and its signers' latest uses, if the log keeps them, and the keys the
// domain says its rules read (rule.KeyReader).
func (a *admitter) batchKeys(batch []*pending, seen map[[32]byte]storage.OutboxEntry) []string {
	var keys []string
	if a.registryViews {
		keys = append(keys, viewKey)
	}
	kr, _ := a.domain.(rule.KeyReader)
	for _, p := range batch {
		if _, dup := seen[p.entry.LeafHash]; dup {
			continue
		}
		if a.registryViews {
			for _, sig := range p.sigs {
				keys = append(keys, keyUsePrefix+keyUseID(sig))
			}
		}
		if kr != nil {
			keys = append(keys, kr.ReadKeys(p.entry)...)
		}
	}
	return keys
}

// keyUseID names sig's key in the state key of its latest use.
func keyUseID(sig note.Signature) string {
	return fmt.Sprintf("%s+%08x", sig.Name, sig.Hash)
}

// readView returns the registry size the log last named (0: none).
func readView(ctx context.Context, tx storage.AdmitTx) (uint64, error) {
	v, ok, err := tx.Get(ctx, viewKey)
	if err != nil || !ok {
		return 0, err
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("corrupt %s %q", viewKey, v)
	}
	return n, nil
}

// recordKeyUse raises each key's latest use in the log's state to the
// time in uses.
func recordKeyUse(ctx context.Context, tx storage.AdmitTx, uses map[string]time.Time) error {
	for id, t := range uses {
		v, ok, err := tx.Get(ctx, keyUsePrefix+id)
		if err != nil {
			return err
		}
		if ok {
			if old, err := time.Parse(time.RFC3339Nano, string(v)); err == nil && !t.After(old) {
				continue
			}
		}
		if err := tx.Put(ctx, keyUsePrefix+id, []byte(t.UTC().Format(time.RFC3339Nano))); err != nil {
			return err
		}
	}
	return nil
}

// queueLoop sends admitted leaves to Trillian and marks them queued, off the
// admission path; every requeueInterval it also re-queues outbox rows left
// unmarked by a crash or a failed queue write, and every removeInterval it
// lets go of the outbox rows a published checkpoint includes.
func (a *admitter) queueLoop(ctx context.Context) {
	tick := time.NewTicker(requeueInterval)
	defer tick.Stop()
	remove := time.NewTicker(removeInterval)
	defer remove.Stop()
	// Queued leaves are marked in the outbox a tick later, many batches in
	// one write, not one write per batch: admissions, queue writes and
	// marks all take turns at the database, and a mark is only needed
	// after a crash (an unmarked leaf is queued again, harmlessly) and
	// before removal (only marked leaves are let go of).
	var toMark []uint64
	failed := !a.requeue(ctx, &toMark)
	var removedBelow uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-remove.C:
			if len(toMark) > 0 {
				if err := a.store.MarkQueued(ctx, a.log, toMark); err != nil {
					if ctx.Err() == nil {
						a.logger.Warn("couldn't mark queued leaves in the outbox; will retry", "n", len(toMark), "err", err)
					}
					continue
				}
				toMark = toMark[:0]
				// Rows just marked may lie below a checkpoint already
				// removed below: look again at the same size.
				removedBelow = 0
			}
			removedBelow = a.removeIntegrated(ctx, removedBelow)
		case entries := <-a.queued:
			// Several batches' leaves in one write: each write is a
			// transaction (and a sync) that rewrites the pages at the end
			// of Trillian's tables. A leaf waits for the sequencer's next
			// pass anyway, so a few milliseconds cost it nothing.
			linger := time.NewTimer(queueLinger)
		more:
			for len(entries) < maxQueueWrite {
				select {
				case e := <-a.queued:
					entries = append(entries, e...)
				case <-linger.C:
					break more
				case <-ctx.Done():
					break more
				}
			}
			linger.Stop()
			if err := a.queueLeaves(ctx, entries, &toMark); err != nil && ctx.Err() == nil {
				a.logger.Warn("couldn't queue admitted leaves; will retry from the outbox", "n", len(entries), "err", err)
				failed = true
			}
		case <-tick.C:
			select {
			case <-a.recheck:
				failed = true
			default:
			}
			// Only after a failure: otherwise every leaf admitted was
			// queued (or is in toMark, not yet marked).
			if failed {
				failed = !a.requeue(ctx, &toMark)
			}
		}
	}
}

const requeueInterval = 5 * time.Second

// queueLinger is how long leaves admitted wait for others to share their
// queue write: a tenth of the default sequencer interval.
const queueLinger = 10 * time.Millisecond

// removeInterval is how often the outbox lets go of integrated leaves:
// often enough that it holds no more than a few seconds of admissions, at
// the cost of one delete per few hundred leaves.
const removeInterval = 500 * time.Millisecond

// removeIntegrated removes from the outbox the leaves that the log's latest
// published checkpoint includes, if it grew past done (the size removed
// below last time), and returns the size removed below now. The checkpoint
// was signed and published after Trillian integrated its leaves, which it
// keeps for good: a leaf is removed only once it is safe in the log, and a
// crash at any instant loses nothing, as the removal is one transaction
// after the publication. A leaf not yet marked queued stays until it is
// (its queue write confirms the log holds this leaf at its index).
func (a *admitter) removeIntegrated(ctx context.Context, done uint64) uint64 {
	if a.published == nil {
		return done
	}
	signed, cp := a.published()
	if signed == nil || cp.Size <= done {
		return done
	}
	if _, err := a.store.RemoveIntegrated(ctx, a.log, cp.Size); err != nil {
		if ctx.Err() == nil {
			a.logger.Warn("couldn't remove integrated leaves from the outbox; will retry", "size", cp.Size, "err", err)
		}
		return done
	}
	return cp.Size
}

// queueLeaves queues entries to Trillian and adds their indexes to toMark.
func (a *admitter) queueLeaves(ctx context.Context, entries []storage.OutboxEntry, toMark *[]uint64) error {
	// One write per run of consecutive indexes, one after the other: the
	// storage stores a write in a few statements whatever its size, and on
	// SQLite each write is a transaction (and a sync) on the one connection
	// that admissions use too.
	for _, run := range indexRuns(entries, maxQueueWrite) {
		leaves := make([][]byte, len(run))
		for i, e := range run {
			leaves[i] = e.Leaf
		}
		if err := a.queue.QueueLeaves(ctx, run[0].Index, leaves); err != nil {
			return err
		}
	}
	for _, e := range entries {
		*toMark = append(*toMark, e.Index)
	}
	return nil
}

// leafOf returns e's bytes: the outbox's copy or, once the outbox let go
// of it (a published checkpoint includes it), the log's entry at its index.
func leafOf(ctx context.Context, r Reader, e storage.OutboxEntry) ([]byte, error) {
	if e.Leaf != nil {
		return e.Leaf, nil
	}
	leaves, err := r.Entries(ctx, e.Index, 1)
	if errors.Is(err, govlog.ErrOutOfRange) {
		// Another server process published the checkpoint that includes
		// it, and this one has not read it yet.
		return nil, fmt.Errorf("%w: entry %d is in a checkpoint this server has not read yet; retry", ErrNotYetIncluded, e.Index)
	}
	if err != nil {
		return nil, fmt.Errorf("couldn't read entry %d from the log: %w", e.Index, err)
	}
	if len(leaves) != 1 || govlog.LeafHash(leaves[0]) != e.LeafHash {
		return nil, fmt.Errorf("the log's entry %d is not the leaf admitted there (%x)", e.Index, e.LeafHash)
	}
	return leaves[0], nil
}

// indexRuns splits entries, sorted by index, into runs of consecutive
// indexes of at most max entries.
func indexRuns(entries []storage.OutboxEntry, max int) [][]storage.OutboxEntry {
	slices.SortFunc(entries, func(a, b storage.OutboxEntry) int { return cmp.Compare(a.Index, b.Index) })
	var runs [][]storage.OutboxEntry
	start := 0
	for i := 1; i <= len(entries); i++ {
		if i == len(entries) || entries[i].Index != entries[i-1].Index+1 || i-start == max {
			runs = append(runs, entries[start:i])
			start = i
		}
	}
	return runs
}

// maxQueueWrite caps the leaves of one queue write.
const maxQueueWrite = 1000

// requeue queues every outbox row not marked queued, in chunks, marks them
// and reports whether it got through.
func (a *admitter) requeue(ctx context.Context, toMark *[]uint64) bool {
	total := 0
	for ctx.Err() == nil {
		// Marks first: Unqueued must not hand back what is queued already.
		if len(*toMark) > 0 {
			if err := a.store.MarkQueued(ctx, a.log, *toMark); err != nil {
				a.logger.Warn("couldn't mark queued leaves in the outbox", "err", err)
				return false
			}
			*toMark = (*toMark)[:0]
		}
		entries, err := a.store.Unqueued(ctx, a.log, 1000)
		if err != nil {
			a.logger.Warn("couldn't read outbox", "err", err)
			return false
		}
		if len(entries) == 0 {
			break
		}
		if err := a.queueLeaves(ctx, entries, toMark); err != nil {
			a.logger.Warn("couldn't re-queue outbox", "n", len(entries), "err", err)
			return false
		}
		total += len(entries)
	}
	if total > 0 {
		a.logger.Info("re-queued admitted leaves from the outbox", "n", total)
	}
	return ctx.Err() == nil
}

// overlay is the state one statement sees: the transaction's state plus
// the statement's own writes, which reach the transaction only if the
// statement passes every rule.
type overlay struct {
	under storage.AdmitTx
	puts  map[string][]byte
	order []string
}

var _ rule.State = (*overlay)(nil)

func (o *overlay) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if v, ok := o.puts[key]; ok {
		return v, true, nil
	}
	return o.under.Get(ctx, key)
}

func (o *overlay) Put(ctx context.Context, key string, value []byte) error {
	if _, ok := o.puts[key]; !ok {
		o.order = append(o.order, key)
	}
	o.puts[key] = append([]byte(nil), value...)
	return nil
}
