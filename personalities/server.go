package personalities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/search"
	"github.com/govlog/govlog/storage"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/peer"
)

// MaxMessageSize is the gRPC receive limit: a statement of MaxStatementSize
// plus room for the request's other fields. Larger messages are refused by
// gRPC before any parsing, with RESOURCE_EXHAUSTED.
const MaxMessageSize = govlog.MaxStatementSize + 4096

// Backend is the verifiable log behind one personality; log-server's *Log
// implements it.
type Backend interface {
	Queue
	// Origin is the log's origin line.
	Origin() string
	// WaitForInclusion blocks until a published checkpoint includes leaf and
	// returns the leaf's tlog-proof bundle and index.
	WaitForInclusion(ctx context.Context, leaf []byte) ([]byte, uint64, error)
	// Promise signs a promise that leafHash will be included by
	// admittedAt plus the log's MMD.
	Promise(leafHash [32]byte, admittedAt time.Time) ([]byte, error)
	// SignStatement signs a statement with the log's key (the registry
	// view entries the log writes about itself).
	SignStatement(st *govlog.Statement) ([]byte, error)
}

// Reader is the read side of a log; log-server's *Log implements it. Its
// errors wrap govlog.ErrOutOfRange for indexes or sizes past the latest
// checkpoint and govlog.ErrNotFound for an unknown leaf hash.
type Reader interface {
	// Checkpoint returns the latest signed checkpoint.
	Checkpoint() ([]byte, govlog.Checkpoint)
	// Entries returns up to count entries from start.
	Entries(ctx context.Context, start, count uint64) ([][]byte, error)
	// InclusionProof returns the proof of entry index at size (0: latest),
	// with the size it used.
	InclusionProof(ctx context.Context, index, size uint64) ([][32]byte, uint64, error)
	// FindLeaf returns the index and inclusion proof of a leaf hash at size.
	FindLeaf(ctx context.Context, hash [32]byte, size uint64) (uint64, [][32]byte, error)
}

// Prover makes the proofs that are not about one entry at one size.
type Prover interface {
	// Bundle returns entry index's tlog-proof at the latest checkpoint.
	Bundle(ctx context.Context, index uint64) ([]byte, error)
	// ConsistencyProof proves size to extends size from.
	ConsistencyProof(ctx context.Context, from, to uint64) ([][32]byte, error)
}

// catcherUp is a Log served by a process that follows another's
// checkpoints (log-server's elected mode): asked for a size past its own,
// it looks for a newer one first.
type catcherUp interface {
	CatchUp(ctx context.Context, size uint64)
}

// Log is everything a personality needs from its log.
type Log interface {
	Backend
	Reader
	Prover
}

// Personality is one domain's rules and the log they admit into.
type Personality struct {
	Domain rule.Domain
	Log    Log
	// RuleKey signs the statements the log writes itself, when Domain is
	// a rule.Scheduler (the funds log's guarantee releases). The registry
	// must list it, under an agency holding the role those statements need.
	RuleKey note.Signer
}

// DefaultScheduleInterval is Options.ScheduleInterval when unset.
const DefaultScheduleInterval = 5 * time.Second

// Options configures a Server.
type Options struct {
	// Store keeps domain state and the outbox.
	Store storage.AdmissionStore
	// SearchStore keeps the logs' search index (search.Follow); default
	// Store.
	SearchStore storage.AdmissionStore
	// Registry authenticates submitters when no personality keeps the
	// registry log (tests, benchmarks): one fixed registry, which no log
	// records. With a registry personality (a *registry.Domain), the
	// registry is the registry log's state, live, and each other log
	// records the registry size it authorizes against (see
	// personalities/registry).
	Registry *registry.Registry
	// Genesis are the registry log's first entries, signed by root keys:
	// Run admits them, in order, if the registry log is empty.
	Genesis [][]byte
	// Personalities, one per log, keyed by the log's short name.
	Personalities map[string]Personality
	// MaxBatch caps statements per admission transaction. Default 1000.
	MaxBatch int
	// MaxClockSkew and MaxAge bound a statement's time around now.
	// Defaults 5 minutes and 24 hours.
	MaxClockSkew, MaxAge time.Duration
	// ScheduleInterval is how often the scheduled statements of a
	// rule.Scheduler domain are looked for and written. Default
	// [DefaultScheduleInterval]: a statement is written at most this long
	// after it is due (plus one admission), also after a restart.
	ScheduleInterval time.Duration
	// WaitTimeout caps how long Submit with wait=true waits for inclusion
	// when the caller set no deadline. Default 1 minute.
	WaitTimeout time.Duration
	// AgencyQuota limits each agency's statements (see Quota); the zero
	// value sets no limit.
	AgencyQuota Quota
	// AddressQuota limits, per client address, the statements no agency
	// signs (ballots, feedback, grants: self-signed types, which no agency
	// quota covers); the zero value sets no limit.
	AddressQuota Quota
	// Elected says several processes serve these logs on one database and
	// an election picks the one that admits (see Lead): this Server admits
	// only while it leads, and otherwise hands each Submit, once checked, to
	// Forwarder. Run is for a Server that is not Elected.
	Elected   bool
	Forwarder Forwarder
	// Now is the clock; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Forwarder carries Submit calls from the processes that are not elected
// to the one that is (Options.Elected).
type Forwarder interface {
	// Forward sends req, which this process has checked (signatures,
	// registry, quotas), to the process elected to admit, and returns its
	// answer. It fails with an error wrapping ErrNotAdmitting when no
	// process is known to be elected.
	Forward(ctx context.Context, req *api.SubmitRequest) (*api.SubmitResponse, error)
	// Forwarded reports whether ctx is the call of another of the
	// deployment's processes, forwarding a Submit it checked: its quotas
	// were taken there, and it must not be forwarded again.
	Forwarded(ctx context.Context) bool
}

// Server implements the gRPC Log service over a set of personalities.
type Server struct {
	api.UnimplementedLogServer
	opts Options
	logs map[string]*servedLog
	// queryTurns holds a token for each Query reading the database now;
	// see maxConcurrentQueries.
	queryTurns chan struct{}
	quotas     *quotas
	addrQuotas *quotas
	// reg is the registry the logs authorize against now. With a registry
	// log, regCommits counts the registry log's commits (from 1, so the
	// first use reads it) and regRead how many of them reg holds.
	reg                 atomic.Pointer[registry.Registry]
	regCommits, regRead atomic.Uint64
	regMu               sync.Mutex
	// batchMu orders the registry log's batches against every other log's:
	// those hold it shared from reading the registry to their commit, the
	// registry's exclusively, so a retirement is judged against every
	// statement by the key admitted before it, and none is admitted
	// against the registry it changed.
	batchMu sync.RWMutex
	// genesisMu makes AdmitGenesis run once at a time.
	genesisMu sync.Mutex
	// registryLog is the personality keeping the registry log, if any.
	registryLog *servedLog
	// leading is set while Lead admits (an Elected Server).
	leading atomic.Bool
}

type servedLog struct {
	Personality
	admitter *admitter
	// indexed is how many of the log's first entries its search index
	// holds (search.Follow).
	indexed atomic.Uint64
}

// LogStats are a log's counts since the Server started, for metrics.
type LogStats struct {
	// Admitted counts the entries this process admitted into the log
	// (statements, and the entries the log writes itself).
	Admitted uint64
	// Indexed is how many of the log's first entries its search index
	// holds, as this process last wrote or read it (0 in a process that
	// does not admit).
	Indexed uint64
}

// Stats returns log's counts, or false for a log the Server does not serve.
func (s *Server) Stats(log string) (LogStats, bool) {
	l, ok := s.logs[log]
	if !ok {
		return LogStats{}, false
	}
	return LogStats{Admitted: l.admitter.admittedTotal.Load(), Indexed: l.indexed.Load()}, true
}

var _ api.LogServer = (*Server)(nil)

// NewServer validates opts and builds a Server. Call Run to start admitting.
func NewServer(opts Options) (*Server, error) {
	_, hasRegistryLog := opts.Personalities[registry.LogName].Domain.(*registry.Domain)
	if opts.Store == nil || (opts.Registry == nil) == !hasRegistryLog || len(opts.Personalities) == 0 {
		return nil, errors.New("personalities: a store, at least one personality, and either a registry or a registry log personality are required")
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1000
	}
	if opts.SearchStore == nil {
		opts.SearchStore = opts.Store
	}
	if opts.MaxClockSkew <= 0 {
		opts.MaxClockSkew = 5 * time.Minute
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 24 * time.Hour
	}
	if opts.ScheduleInterval <= 0 {
		opts.ScheduleInterval = DefaultScheduleInterval
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, logs: map[string]*servedLog{}, queryTurns: make(chan struct{}, maxConcurrentQueries),
		quotas: newQuotas("agency", opts.AgencyQuota), addrQuotas: newQuotas("client address", opts.AddressQuota)}
	for name, p := range opts.Personalities {
		if p.Domain == nil || p.Log == nil {
			return nil, fmt.Errorf("personality %q: domain and log are required", name)
		}
		if p.Domain.Log() != name {
			return nil, fmt.Errorf("personality %q: its domain admits into %q", name, p.Domain.Log())
		}
		a := &admitter{
			log: name, domain: p.Domain, store: opts.Store, queue: p.Log,
			backend: p.Log, ruleKey: p.RuleKey, published: p.Log.Checkpoint,
			maxBatch: opts.MaxBatch, checkTime: s.checkTime, registry: s.registry, stale: func() { s.regCommits.Add(1) },
			logger: opts.Logger.With("log", name),
			queued: make(chan []storage.OutboxEntry, 64), recheck: make(chan struct{}, 1),
		}
		if !opts.Elected {
			// Statements submitted before Run wait for it.
			a.newTerm()
		}
		l := &servedLog{Personality: p, admitter: a}
		s.logs[name] = l
		switch {
		case !hasRegistryLog:
		case name == registry.LogName:
			s.registryLog = l
			a.afterCommit = func() { s.regCommits.Add(1) }
			a.lock = func() func() { s.batchMu.Lock(); return s.batchMu.Unlock }
			// The registry's rules refuse a retirement that would disown
			// a statement a log admitted.
			p.Domain.(*registry.Domain).LastUse = s.lastUse
		default:
			a.registryViews = true
			a.lock = func() func() { s.batchMu.RLock(); return s.batchMu.RUnlock }
		}
	}
	for name, l := range s.logs {
		if _, ok := l.Domain.(rule.Responder); ok && l.RuleKey == nil {
			return nil, fmt.Errorf("personality %q: its rules answer statements with the log's own, and it has no rule key to sign them", name)
		}
		imp, ok := l.Domain.(rule.Importer)
		if !ok {
			continue
		}
		l.admitter.imports = map[string]rule.Domain{}
		for _, other := range imp.Imports() {
			// A log this server does not run is not readable: a statement
			// that needs it is refused (FAILED_PRECONDITION).
			if o, ok := s.logs[other]; ok && other != name {
				l.admitter.imports[other] = o.Domain
			}
		}
	}
	if hasRegistryLog {
		s.regCommits.Store(1)
		if _, err := s.registry(context.Background()); err != nil {
			return nil, err
		}
	} else {
		s.reg.Store(opts.Registry)
	}
	return s, nil
}

// registry returns the registry the logs authorize against now: with a
// registry log, its state as of at least every registry commit that
// happened before the call.
func (s *Server) registry(ctx context.Context) (*registry.Registry, error) {
	want := s.regCommits.Load()
	if s.regRead.Load() >= want {
		return s.reg.Load(), nil
	}
	s.regMu.Lock()
	defer s.regMu.Unlock()
	if s.regRead.Load() >= want {
		return s.reg.Load(), nil
	}
	// Read after want was: the state read holds every commit counted.
	var r *registry.Registry
	err := s.opts.Store.Read(ctx, registry.LogName, func(ctx context.Context, tx storage.ReadTx) error {
		var err error
		r, err = registry.FromState(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("couldn't read the registry: %w", err)
	}
	s.reg.Store(r)
	s.regRead.Store(want)
	return r, nil
}

// fresherRegistry returns the registry log's registry if it holds more
// entries than reg, else reg: one small read of the registry's size.
func (s *Server) fresherRegistry(ctx context.Context, reg *registry.Registry) (*registry.Registry, error) {
	if s.registryLog == nil {
		return reg, nil
	}
	var size uint64
	err := s.opts.Store.Read(ctx, registry.LogName, func(ctx context.Context, tx storage.ReadTx) (err error) {
		size, err = registry.StateSize(ctx, tx)
		return err
	})
	if err != nil || size <= reg.Size() {
		return reg, err
	}
	s.regCommits.Add(1)
	return s.registry(ctx)
}

// registryPollInterval is how often a server looks in the store for
// registry entries another process admitted.
const registryPollInterval = time.Second

// watchRegistry notices registry entries admitted by another server
// process on the same database (this one's own are known at once), so that
// they take effect here within registryPollInterval.
func (s *Server) watchRegistry(ctx context.Context) {
	t := time.NewTicker(registryPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var size uint64
		err := s.opts.Store.Read(ctx, registry.LogName, func(ctx context.Context, tx storage.ReadTx) (err error) {
			size, err = registry.StateSize(ctx, tx)
			return err
		})
		if err == nil && size > s.reg.Load().Size() {
			s.regCommits.Add(1)
		}
	}
}

// lastUse returns the signed time of the latest statement key signed that
// any log admitted (the registry's LastUse).
func (s *Server) lastUse(ctx context.Context, key string) (time.Time, bool, error) {
	var last time.Time
	found := false
	for name := range s.logs {
		if name == registry.LogName {
			continue
		}
		err := s.opts.Store.Read(ctx, name, func(ctx context.Context, tx storage.ReadTx) error {
			v, ok, err := tx.Get(ctx, keyUsePrefix+key)
			if err != nil || !ok {
				return err
			}
			t, err := time.Parse(time.RFC3339Nano, string(v))
			if err != nil {
				return fmt.Errorf("corrupt key use of %s in log %s: %w", key, name, err)
			}
			if !found || t.After(last) {
				last, found = t, true
			}
			return nil
		})
		if err != nil {
			return time.Time{}, false, err
		}
	}
	return last, found, nil
}

// Run admits statements until ctx is done. With a registry log, it first
// admits the genesis into it if it is empty.
func (s *Server) Run(ctx context.Context) error {
	if s.opts.Elected {
		return errors.New("personalities: an elected server admits in Lead, not Run")
	}
	return s.run(ctx)
}

// Lead admits statements, as Run does, until ctx is done or another process
// fences this one out (storage.ErrFenced): the term of an Elected Server
// that won the election, after it took the store's fence. Other processes
// admitted before it, so it reads the registry again first. When Lead
// returns, statements waiting for a batch have been answered with
// ErrNotAdmitting (submit again: the next elected process takes them).
func (s *Server) Lead(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.regCommits.Add(1)
	if _, err := s.registry(ctx); err != nil {
		return err
	}
	for _, l := range s.logs {
		l.admitter.fenced = cancel
		l.admitter.newTerm()
	}
	s.leading.Store(true)
	defer s.leading.Store(false)
	s.opts.Logger.Info("elected: admitting")
	err := s.run(ctx)
	s.opts.Logger.Info("no longer admitting")
	return err
}

func (s *Server) run(ctx context.Context) error {
	if err := s.AdmitGenesis(ctx); err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	if s.registryLog != nil {
		g.Go(func() error { s.watchRegistry(ctx); return nil })
	}
	for name, l := range s.logs {
		g.Go(func() error { s.indexSearch(ctx, name, l); return nil })
		t := l.admitter.term.Load()
		if t == nil {
			t = l.admitter.newTerm()
		}
		g.Go(func() error { l.admitter.run(ctx, t); return nil })
		if sch, ok := l.Domain.(rule.Scheduler); ok && l.RuleKey != nil {
			g.Go(func() error { s.runScheduler(ctx, l, sch); return nil })
		}
	}
	return g.Wait()
}

// searchRetry is how long indexSearch waits after a failure.
const searchRetry = 10 * time.Second

// indexSearch keeps l's search index (search.Follow) until ctx is done,
// going on after a failure: searches miss the newest entries meanwhile,
// and admission goes on. The index is written by the process that admits,
// as it writes to the log's state.
func (s *Server) indexSearch(ctx context.Context, name string, l *servedLog) {
	agency := func(ctx context.Context, e rule.Entry, sigs []note.Signature) string {
		reg, err := s.registry(ctx)
		if err != nil {
			return ""
		}
		id, _ := reg.AgencyOf(l.Domain, e, sigs)
		return id
	}
	// An index admission kept, before Follow, is no longer read.
	if n, err := search.PruneOldLayout(ctx, s.opts.Store, name); err != nil {
		s.opts.Logger.Warn("couldn't delete the search index's old layout; it stays, unread", "log", name, "err", err)
	} else if n > 0 {
		s.opts.Logger.Info("deleted the search index's old layout", "log", name, "keys", n)
	}
	for {
		err := search.Follow(ctx, search.FollowOptions{Store: s.opts.SearchStore, Log: name,
			Source: search.Source{Log: l.Log, Domain: l.Domain}, Agency: agency, Logger: s.opts.Logger, Indexed: l.indexed.Store})
		if ctx.Err() != nil {
			return
		}
		s.opts.Logger.Warn("the search index stopped; starting it again", "log", name, "err", err, "retry", searchRetry)
		select {
		case <-ctx.Done():
			return
		case <-time.After(searchRetry):
		}
	}
}

// AdmitGenesis admits Options.Genesis into the registry log if it is
// empty, all of it in one transaction or none of it (a genesis cut short
// would leave agencies without their keys or roles). Run calls it before
// any log admits; call it before serving, so that no statement arrives
// before the registry. It must not run beside Run's admission.
func (s *Server) AdmitGenesis(ctx context.Context) error {
	s.genesisMu.Lock()
	defer s.genesisMu.Unlock()
	l := s.registryLog
	if l == nil {
		return nil
	}
	reg, err := s.registry(ctx)
	if err != nil || reg.Size() > 0 {
		return err
	}
	if len(s.opts.Genesis) == 0 {
		return errors.New("the registry log is empty and no genesis was given: every statement would be refused")
	}
	batch := make([]*pending, len(s.opts.Genesis))
	for i, leaf := range s.opts.Genesis {
		opened, err := reg.Open(leaf, l.Log.Origin(), l.Domain)
		if err != nil {
			return fmt.Errorf("registry genesis entry %d of %d: %w", i+1, len(batch), err)
		}
		batch[i] = &pending{leaf: leaf, entry: opened.Entry, received: s.opts.Now(), done: make(chan admission, 1)}
	}
	// The admitter is not running yet: this is its only caller.
	if err := l.admitter.admitAll(ctx, batch); err != nil {
		return fmt.Errorf("registry genesis refused, nothing written: %w", err)
	}
	s.opts.Logger.Info("wrote the registry genesis into the registry log", "entries", len(batch))
	return nil
}

func (s *Server) checkTime(t time.Time) error {
	now := s.opts.Now()
	switch {
	case t.After(now.Add(s.opts.MaxClockSkew)):
		return fmt.Errorf("%w: %s is more than %s ahead of the log's clock (%s)", ErrBadTime, t.Format(time.RFC3339), s.opts.MaxClockSkew, now.UTC().Format(time.RFC3339))
	case t.Before(now.Add(-s.opts.MaxAge)):
		return fmt.Errorf("%w: %s is more than %s old", ErrBadTime, t.Format(time.RFC3339), s.opts.MaxAge)
	}
	return nil
}

func (s *Server) log(name string) (*servedLog, error) {
	l, ok := s.logs[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownLog, name)
	}
	return l, nil
}

// Submit implements api.LogServer.
func (s *Server) Submit(ctx context.Context, req *api.SubmitRequest) (*api.SubmitResponse, error) {
	resp, err := s.submit(ctx, req)
	return resp, toStatus(s.opts.Logger, err)
}

func (s *Server) submit(ctx context.Context, req *api.SubmitRequest) (*api.SubmitResponse, error) {
	l, err := s.log(req.Log)
	if err != nil {
		return nil, err
	}
	if len(req.Statement) > govlog.MaxStatementSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", govlog.ErrStatementTooLarge, len(req.Statement), govlog.MaxStatementSize)
	}
	reg, err := s.registry(ctx)
	if err != nil {
		return nil, err
	}
	opened, err := reg.Open(req.Statement, l.Log.Origin(), l.Domain)
	if errors.Is(err, govlog.ErrUnknownSigner) {
		// A key the registry log gained a moment ago (its commit not yet
		// counted here, or another process's) may be the signer: read the
		// registry again if it grew, and try once more.
		if reg, err = s.fresherRegistry(ctx, reg); err != nil {
			return nil, err
		}
		opened, err = reg.Open(req.Statement, l.Log.Origin(), l.Domain)
	}
	if err != nil {
		return nil, err
	}
	// Parsed here, in the caller's goroutine, not again in the batch.
	rule.Parse(l.Domain, &opened.Entry)
	role, err := l.Domain.RequiredRole(opened.Entry.Type)
	if err != nil {
		return nil, err
	}
	received := s.opts.Now()
	refund := func() {}
	forwarded := s.opts.Forwarder != nil && s.opts.Forwarder.Forwarded(ctx)
	// The scheduler's statements, and those a front end forwards after
	// taking their quota, are not counted again.
	quotaFree := ctx.Value(scheduledKey{}) != nil || forwarded
	if role == rule.SelfSigned && !quotaFree {
		// No agency answers for it: the client's address does.
		if refund, err = s.addrQuotas.take(clientAddress(ctx), received); err != nil {
			if refund, err = s.overQuota(ctx, l, opened.Entry.LeafHash, err); err != nil {
				return nil, err
			}
		}
	}
	if role != rule.SelfSigned {
		// Refused here, before it waits for a batch; rule.Admit asks again
		// in the batch, with the registry the batch authorizes against,
		// where the one judgement shared with replay runs.
		signers, err := reg.AdmissionAuthorizer(opened, received)(role)
		if err != nil {
			return nil, err
		}
		agency := signers.Agency
		// Known before the batch, so the domain can name the keys it will
		// read (rule.KeyReader) and the batch reads them in one query.
		opened.Entry.Agency = agency
		// The quota is per agency; a self-signed statement (a ballot) has
		// none, and its domain bounds what one signer may do.
		if !quotaFree {
			if refund, err = s.quotas.take(agency, s.opts.Now()); err != nil {
				if refund, err = s.overQuota(ctx, l, opened.Entry.LeafHash, err); err != nil {
					return nil, err
				}
			}
		}
	}
	if s.opts.Elected && !s.leading.Load() {
		// Checked here; admitted by the elected process.
		if forwarded || s.opts.Forwarder == nil {
			refund()
			return nil, ErrNotAdmitting
		}
		resp, err := s.opts.Forwarder.Forward(ctx, req)
		if err != nil || resp.Duplicate {
			refund()
		}
		return resp, err
	}
	leaf := append([]byte(nil), req.Statement...)
	hash := opened.Entry.LeafHash
	res := l.admitter.admit(ctx, &pending{leaf: leaf, entry: opened.Entry, sigs: opened.Sigs, received: received})
	if res.duplicate {
		refund() // the same bytes again cost the log nothing
	}
	if res.err != nil {
		return nil, res.err
	}
	resp := &api.SubmitResponse{LeafHash: hash[:], Duplicate: res.duplicate}
	if !req.Wait {
		resp.Promise, err = l.Log.Promise(hash, res.admittedAt)
		return resp, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.WaitTimeout)
		defer cancel()
	}
	bundle, index, err := l.Log.WaitForInclusion(ctx, leaf)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("%w: submit the same bytes again, or with wait=false for a promise", ErrNotYetIncluded)
	}
	if err != nil {
		return nil, err
	}
	resp.Bundle, resp.Index = bundle, int64(index)
	return resp, nil
}

// GetCheckpoint implements api.LogServer.
func (s *Server) GetCheckpoint(ctx context.Context, req *api.GetCheckpointRequest) (*api.GetCheckpointResponse, error) {
	l, err := s.log(req.Log)
	if err != nil {
		return nil, toStatus(s.opts.Logger, err)
	}
	signed, _ := l.Log.Checkpoint()
	if len(signed) == 0 {
		// Nothing published yet: the witnesses have not cosigned a first
		// checkpoint (a quorum is down), and nothing below the policy is
		// ever served.
		return nil, toStatus(s.opts.Logger, ErrNoCheckpoint)
	}
	return &api.GetCheckpointResponse{Checkpoint: signed}, nil
}

// GetEntries implements api.LogServer.
func (s *Server) GetEntries(ctx context.Context, req *api.GetEntriesRequest) (*api.GetEntriesResponse, error) {
	l, err := s.log(req.Log)
	if err == nil && (req.Start < 0 || req.Count <= 0) {
		err = fmt.Errorf("%w: start must be >= 0 and count > 0", ErrBadRequest)
	}
	if err != nil {
		return nil, toStatus(s.opts.Logger, err)
	}
	entries, err := l.Log.Entries(ctx, uint64(req.Start), uint64(req.Count))
	if err != nil {
		return nil, toStatus(s.opts.Logger, err)
	}
	return &api.GetEntriesResponse{Entries: entries}, nil
}

// GetInclusionProof implements api.LogServer.
func (s *Server) GetInclusionProof(ctx context.Context, req *api.GetInclusionProofRequest) (*api.GetInclusionProofResponse, error) {
	resp, err := s.inclusionProof(ctx, req)
	return resp, toStatus(s.opts.Logger, err)
}

func (s *Server) inclusionProof(ctx context.Context, req *api.GetInclusionProofRequest) (*api.GetInclusionProofResponse, error) {
	l, err := s.log(req.Log)
	if err != nil {
		return nil, err
	}
	if req.TreeSize < 0 {
		return nil, fmt.Errorf("%w: negative tree size", ErrBadRequest)
	}
	var index uint64
	var hashes [][32]byte
	size := uint64(req.TreeSize)
	switch e := req.Entry.(type) {
	case *api.GetInclusionProofRequest_Index:
		if e.Index < 0 {
			return nil, fmt.Errorf("%w: negative index %d", ErrBadRequest, e.Index)
		}
		index = uint64(e.Index)
		hashes, size, err = l.Log.InclusionProof(ctx, index, size)
	case *api.GetInclusionProofRequest_LeafHash:
		if len(e.LeafHash) != 32 {
			return nil, fmt.Errorf("%w: leaf hash of %d bytes, want 32", ErrBadRequest, len(e.LeafHash))
		}
		if size == 0 {
			_, cp := l.Log.Checkpoint()
			size = cp.Size
		}
		index, hashes, err = l.Log.FindLeaf(ctx, [32]byte(e.LeafHash), size)
	default:
		return nil, fmt.Errorf("%w: give an index or a leaf hash", ErrBadRequest)
	}
	if err != nil {
		return nil, err
	}
	resp := &api.GetInclusionProofResponse{Index: int64(index), TreeSize: int64(size)}
	for _, h := range hashes {
		resp.Hashes = append(resp.Hashes, h[:])
	}
	if req.TreeSize == 0 {
		// The bundle is made at the checkpoint current now, which may
		// have grown since the proof above; it carries its own proof.
		if resp.Bundle, err = l.Log.Bundle(ctx, index); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// GetConsistencyProof implements api.LogServer.
func (s *Server) GetConsistencyProof(ctx context.Context, req *api.GetConsistencyProofRequest) (*api.GetConsistencyProofResponse, error) {
	l, err := s.log(req.Log)
	if err == nil && (req.FromSize < 0 || req.ToSize < 0) {
		err = fmt.Errorf("%w: negative tree size", ErrBadRequest)
	}
	if err != nil {
		return nil, toStatus(s.opts.Logger, err)
	}
	if c, ok := l.Log.(catcherUp); ok {
		c.CatchUp(ctx, uint64(max(req.FromSize, req.ToSize)))
	}
	_, cp := l.Log.Checkpoint()
	to := uint64(req.ToSize)
	if to == 0 {
		to = cp.Size // 0: the latest
	}
	switch {
	case to > cp.Size || uint64(req.FromSize) > cp.Size:
		// The log may grow to it, as CT answers.
		err = fmt.Errorf("sizes %d to %d, latest checkpoint %d: %w", req.FromSize, to, cp.Size, govlog.ErrOutOfRange)
	case uint64(req.FromSize) > to:
		err = fmt.Errorf("%w: from size %d is larger than to size %d: a consistency proof goes from the smaller tree to the larger", ErrBadRequest, req.FromSize, to)
	}
	if err != nil {
		return nil, toStatus(s.opts.Logger, err)
	}
	hashes, err := l.Log.ConsistencyProof(ctx, uint64(req.FromSize), uint64(req.ToSize))
	if err != nil {
		return nil, toStatus(s.opts.Logger, err)
	}
	resp := &api.GetConsistencyProofResponse{}
	for _, h := range hashes {
		resp.Hashes = append(resp.Hashes, h[:])
	}
	return resp, nil
}

// clientAddress is the caller's IP address, for the per-address quota
// ("unknown" when the transport gives none: an in-process call).
func clientAddress(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return "unknown"
	}
	if host, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
		return host
	}
	return p.Addr.String()
}

// overQuota decides a statement over its quota: refused with quotaErr,
// unless the log admitted the same bytes before. A duplicate costs the log
// nothing, and anyone may resubmit an agency's public entries: that must
// neither be refused nor use up the agency's quota. The outbox is read only
// on this path, not for every statement.
func (s *Server) overQuota(ctx context.Context, l *servedLog, hash [32]byte, quotaErr error) (refund func(), err error) {
	var found map[[32]byte]storage.OutboxEntry
	err = s.opts.Store.Read(ctx, l.admitter.log, func(ctx context.Context, tx storage.ReadTx) (err error) {
		found, err = tx.LookupOutbox(ctx, [][32]byte{hash})
		return err
	})
	if err != nil {
		return nil, err
	}
	if _, dup := found[hash]; dup {
		return func() {}, nil
	}
	return nil, quotaErr
}
