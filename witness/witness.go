// Package witness is a C2SP [tlog-witness]: it cosigns a log's checkpoints,
// with [tlog-cosignature] cosignature/v1, only when they are consistent with
// the latest checkpoint it cosigned for that log, and it keeps evidence when
// the log is caught signing two checkpoints that cannot both be true.
//
// [Witness] is the protocol core: [Witness.AddCheckpoint] enforces every rule
// of add-checkpoint and reports each outcome as a sentinel error, which
// [NewHandler] maps to the spec's HTTP status codes in one switch. [Client]
// is the HTTP client of the same API. Package witness/gossip compares what
// this witness holds with its peers and the logs; witness/sqlstore is the
// SQLite [Store].
//
// # State
//
// For each log (origin) the witness keeps one thing: its latest cosigned
// checkpoint, as the log's signature plus its own cosignature, which it
// also serves at GET /checkpoint/<hex SHA-256 of origin>. The check of the
// old size against it and its replacement are one compare-and-swap
// ([Store.Update]) done before the cosignature is returned, so concurrent
// requests for sizes N and N+K can never roll it back, and a crash after
// the write leaves the log to learn the new size from a 409.
//
// # Throughput
//
// Only the compare-and-swap is serial, per store; everything costly runs
// in the request's own goroutine, in parallel with other requests: the log
// signature is verified, and the request is decided (size, proof, replay)
// against the log's state as this witness last read or wrote it, and
// cosigned if it passes. Inside Update the witness only checks that the
// store holds that same state (a byte comparison) and decides again if not,
// so the store's critical section costs microseconds, and a store that
// group-commits (witness/sqlstore) takes many requests into one
// transaction and one fsync. The witness opens and verifies its own stored
// checkpoint once, when it first reads it, not on every request. A
// cosignature made for a request that the decision in Update then refuses
// is dropped unsent: a cosignature leaves the witness only after its
// checkpoint is stored.
//
// # Evidence and frozen logs
//
// When the witness holds two checkpoints signed by one log key that cannot
// both be true, it stores an [Evidence] file: both checkpoints and, when
// their sizes differ, a consistency proof that pins the larger tree's root
// at the smaller size to a different value (see [Evidence] for exactly what
// it proves). The witness looks for such pairs in its own add-checkpoint
// requests (a validly signed checkpoint of its latest size with another
// root, or a request whose proof shows the log's tree has another prefix),
// and package witness/gossip looks for them among peers' and the log's
// checkpoints.
//
// Decision: once the witness holds evidence against a log, that log is
// frozen: every later add-checkpoint for it fails with [ErrLogEquivocated]
// (HTTP 422: no checkpoint can be consistent with two incompatible ones).
// A witness never cosigns a checkpoint inconsistent with the one it
// cosigned before in any case; freezing also denies the equivocating log
// the cosignatures it needs to keep showing either branch to clients that
// verify a witness quorum. Only the log's own key can produce evidence, so
// nobody else can freeze a log. The freeze lasts until the operator deletes
// the evidence from the store. A request already past the freeze check
// when evidence arrives may still be cosigned: it is consistent with the
// witness's own latest, so it can only extend the branch the witness was on.
//
// Other decisions where the specs are silent:
//   - The log's key name must be its origin, as in the root package.
//   - A request body is at most [MaxRequestSize] bytes (HTTP 413 beyond).
//   - The stored and served checkpoint keeps only the log's verified
//     signature and this witness's cosignature; other signatures in a
//     request are dropped.
//   - GET /checkpoint/<hash> and the spec's GET /<hash>/checkpoint serve the
//     same thing. GET /evidence lists evidence, one line each:
//     "<id> <kind> <found, RFC 3339> <origin>"; GET /evidence/<id> serves
//     the evidence file.
//
// [tlog-witness]: https://c2sp.org/tlog-witness
// [tlog-cosignature]: https://c2sp.org/tlog-cosignature
package witness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
)

// Outcomes of AddCheckpoint that a caller must tell apart, each wrapped
// with detail. http.go maps them to the spec's status codes.
var (
	// ErrMalformedRequest means the request or its checkpoint does not
	// follow the spec's format. HTTP 400.
	ErrMalformedRequest = errors.New("malformed add-checkpoint request")
	// ErrRequestTooLarge means the request body exceeds MaxRequestSize.
	// HTTP 413.
	ErrRequestTooLarge = errors.New("add-checkpoint request too large")
	// ErrOldSizeTooLarge means the old size is larger than the checkpoint's
	// size. HTTP 400.
	ErrOldSizeTooLarge = errors.New("old size larger than the checkpoint size")
	// ErrUnknownOrigin means the witness does not witness the checkpoint's
	// log. HTTP 404.
	ErrUnknownOrigin = errors.New("unknown log origin")
	// ErrLogSignature means the checkpoint has no valid signature by the
	// log's key, or a signature by that key fails. HTTP 403.
	ErrLogSignature = errors.New("checkpoint not validly signed by the log")
	// ErrSizeConflict means the old size is not the size of the latest
	// checkpoint the witness cosigned; errors.As gives a *SizeConflictError
	// with that size. HTTP 409.
	ErrSizeConflict = errors.New("old size is not the witness's latest size")
	// ErrInconsistent means the checkpoint is not proved consistent with
	// the witness's latest: a consistency proof that fails, a non-empty
	// proof from size zero, another root at the same size, or a size-zero
	// checkpoint whose root is not the empty tree's. HTTP 422.
	ErrInconsistent = errors.New("checkpoint not consistent with the witness's latest")
	// ErrLogEquivocated means the witness holds evidence that the log
	// signed two incompatible checkpoints, and cosigns nothing more for it.
	// HTTP 422.
	ErrLogEquivocated = errors.New("log equivocated; the witness holds evidence and cosigns nothing more for it")
	// ErrNoCheckpoint means the witness has never cosigned a checkpoint for
	// the log. HTTP 404 on GET /checkpoint.
	ErrNoCheckpoint = errors.New("no cosigned checkpoint for this log")
)

// A SizeConflictError is ErrSizeConflict with the witness's latest size.
type SizeConflictError struct {
	// Latest is the size of the latest checkpoint the witness cosigned for
	// the log, zero if none.
	Latest uint64
}

func (e *SizeConflictError) Error() string {
	return fmt.Sprintf("%v: the witness holds size %d", ErrSizeConflict, e.Latest)
}

func (e *SizeConflictError) Is(target error) bool { return target == ErrSizeConflict }

// MaxProofLines is the spec's limit on consistency proof lines.
const MaxProofLines = 63

// MaxRequestSize bounds an add-checkpoint request body: room for 63 proof
// lines and a checkpoint with dozens of signatures, even post-quantum ones.
const MaxRequestSize = 256 << 10

// A Store keeps a witness's state. Implementations must be safe for
// concurrent use; witness/sqlstore is the SQLite one and witness/witnesstest
// the conformance suite every implementation passes.
type Store interface {
	// Latest returns the latest cosigned checkpoint of origin as last
	// written by Update; ok is false if there is none. An error means the
	// store could not be read.
	Latest(ctx context.Context, origin string) (signedCheckpoint []byte, ok bool, err error)
	// Update atomically replaces origin's latest checkpoint with fn(old),
	// where old is the current value (nil if none), and returns once the
	// new value is durably stored. If another writer changes the value
	// between the read and the write, Update calls fn again with the new
	// value, so fn must be safe to call several times, on any goroutine.
	// If fn returns old itself, unchanged, the store may skip the write.
	// If fn returns an error, nothing is written and Update returns that
	// error unwrapped in the chain (errors.Is works). Any other error is the
	// store's: the new value may or may not have been written.
	//
	// A store may commit concurrent Updates together, of several origins
	// and of one origin in arrival order, each fn seeing the value the
	// previous fn of its origin returned. Then no Update of the batch
	// returns before the batch is committed, and if the commit fails each
	// returns the store's error, except an Update whose fn failed on a
	// value already committed, which returns fn's error.
	Update(ctx context.Context, origin string, fn func(old []byte) (new []byte, err error)) error
	// AddEvidence stores e unless evidence with the same ID is already
	// stored; added reports whether it was new.
	AddEvidence(ctx context.Context, e EvidenceRecord) (added bool, err error)
	// Evidence returns all stored evidence, oldest first.
	Evidence(ctx context.Context) ([]EvidenceRecord, error)
}

// An EvidenceRecord is evidence as stored and listed by a witness.
type EvidenceRecord struct {
	// ID is the hex SHA-256 of File, which identifies the evidence.
	ID string
	// Origin is the log the evidence is against.
	Origin string
	// Kind is KindSameSize or KindPrefix.
	Kind string
	// Found is when this witness found it.
	Found time.Time
	// File is the evidence file (see Evidence.Marshal).
	File []byte
}

// Options configures a Witness.
type Options struct {
	// Cosigner signs cosignatures: an Ed25519 cosignature/v1 signer from
	// govlog.NewCosigner, whose own clock stamps them. Required.
	Cosigner note.Signer
	// Logs maps the origin of each log this witness witnesses to the log's
	// verifier key, whose name must be the origin. At least one.
	Logs map[string]note.Verifier
	// Store keeps the latest checkpoints and the evidence. Required.
	Store Store
	// Logger receives alerts (at Error), store failures and, at Debug,
	// requests refused. Default: discard.
	Logger *slog.Logger
	// Now stamps the time evidence was found. Default time.Now.
	Now func() time.Time
	// Metrics, if set, receives the witness's counters, labelled with the
	// cosigner's name so several witnesses can share one registry.
	Metrics prometheus.Registerer
	// PerLogRate bounds the add-checkpoint requests the HTTP handler
	// takes for one log, per second, in bursts of up to twice as many;
	// past it they get 429. Zero means DefaultPerLogRate; negative, no
	// limit (a load test's logs push far faster than real ones).
	PerLogRate float64
}

// A Witness cosigns checkpoints of the logs it knows. It is safe for
// concurrent use.
type Witness struct {
	cosigner note.Signer
	logs     map[string]note.Verifier
	store    Store
	logger   *slog.Logger
	now      func() time.Time
	metrics  *metrics
	perLog   float64 // add-checkpoint requests a second per log; <0: no limit

	mu       sync.Mutex
	frozen   map[string]bool      // origins with evidence
	rejected map[string][]byte    // origin -> last validly signed checkpoint refused as inconsistent
	states   map[string]*logState // origin -> its state as last read or written
}

// New returns a Witness, reading from the store which logs are frozen.
func New(ctx context.Context, opts Options) (*Witness, error) {
	switch {
	case opts.Cosigner == nil:
		return nil, errors.New("witness: no cosigner")
	case opts.Store == nil:
		return nil, errors.New("witness: no store")
	case len(opts.Logs) == 0:
		return nil, errors.New("witness: no logs to witness")
	}
	for origin, v := range opts.Logs {
		if v == nil || v.Name() != origin {
			return nil, fmt.Errorf("witness: the key of log %q must be named after its origin", origin)
		}
	}
	w := &Witness{
		cosigner: opts.Cosigner,
		logs:     maps.Clone(opts.Logs),
		store:    opts.Store,
		logger:   opts.Logger,
		now:      opts.Now,
		perLog:   opts.PerLogRate,
		frozen:   map[string]bool{},
		rejected: map[string][]byte{},
		states:   map[string]*logState{},
	}
	if w.perLog == 0 {
		w.perLog = DefaultPerLogRate
	}
	if w.logger == nil {
		w.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if w.now == nil {
		w.now = time.Now
	}
	var err error
	if w.metrics, err = newMetrics(opts.Metrics, opts.Cosigner.Name()); err != nil {
		return nil, err
	}
	evidence, err := w.store.Evidence(ctx)
	if err != nil {
		return nil, fmt.Errorf("couldn't read evidence: %w", err)
	}
	for _, e := range evidence {
		w.frozen[e.Origin] = true
	}
	return w, nil
}

// Name returns the witness's name, its cosigner key's name.
func (w *Witness) Name() string { return w.cosigner.Name() }

// Origins returns the origins of the logs this witness witnesses, sorted.
func (w *Witness) Origins() []string { return slices.Sorted(maps.Keys(w.logs)) }

// LogKey returns the verifier key of the log with this origin.
func (w *Witness) LogKey(origin string) (note.Verifier, bool) {
	v, ok := w.logs[origin]
	return v, ok
}

// Frozen reports whether the witness holds evidence against the log and so
// cosigns nothing more for it.
func (w *Witness) Frozen(origin string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.frozen[origin]
}

// Latest returns the latest checkpoint the witness cosigned for origin,
// with the log's signature and its own cosignature; ok is false if none.
func (w *Witness) Latest(ctx context.Context, origin string) (cosigned []byte, ok bool, err error) {
	if _, known := w.logs[origin]; !known {
		return nil, false, fmt.Errorf("%w: %.256q", ErrUnknownOrigin, origin)
	}
	cosigned, ok, err = w.store.Latest(ctx, origin)
	if err != nil {
		return nil, false, fmt.Errorf("couldn't read latest checkpoint: %w", err)
	}
	return cosigned, ok, nil
}

// Rejected returns the last checkpoint for origin that was validly signed
// by the log but refused as inconsistent, if any since the witness started.
// Gossip tries to turn it into evidence with proofs from the log.
func (w *Witness) Rejected(origin string) ([]byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cp, ok := w.rejected[origin]
	return cp, ok
}

// emptyRoot is the RFC 6962 root of the empty tree, SHA-256 of "".
var emptyRoot = sha256.Sum256(nil)

// AddCheckpoint is the add-checkpoint call: it checks that signedCheckpoint
// is signed by its log and consistent, by proof, with the latest checkpoint
// this witness cosigned for that log (whose size must be oldSize), records
// it as the new latest, and returns this witness's cosignature line. Errors
// wrap the package's sentinels.
func (w *Witness) AddCheckpoint(ctx context.Context, oldSize uint64, consistency [][32]byte, signedCheckpoint []byte) (cosignature []byte, err error) {
	// SPEC: tlog-witness: the client MUST NOT send more than 63 proof lines.
	if len(consistency) > MaxProofLines {
		return nil, fmt.Errorf("%w: %d consistency proof lines, at most %d", ErrMalformedRequest, len(consistency), MaxProofLines)
	}
	cp, logSigned, err := w.open(signedCheckpoint)
	if err != nil {
		return nil, err
	}
	// SPEC: tlog-witness: the old size MUST be equal to or lower than the
	// checkpoint size, else 400.
	if oldSize > cp.Size {
		return nil, fmt.Errorf("%w: old size %d, checkpoint size %d", ErrOldSizeTooLarge, oldSize, cp.Size)
	}
	// SPEC: tlog-witness: a checkpoint of size zero MUST have the root hash
	// of the empty tree, else 422.
	if cp.Size == 0 && cp.Hash != emptyRoot {
		return nil, fmt.Errorf("%w: a size-0 checkpoint must have the empty tree's root", ErrInconsistent)
	}
	if w.Frozen(cp.Origin) {
		return nil, fmt.Errorf("%w: %s", ErrLogEquivocated, cp.Origin)
	}
	d, err := w.commit(ctx, cp, logSigned, oldSize, consistency)
	if err != nil {
		w.refused(ctx, cp, logSigned, d.evidence, err)
		return nil, err
	}
	w.metrics.cosigned.WithLabelValues(cp.Origin).Inc()
	return d.cosignature, nil
}

// commit decides a request and, if it is accepted, stores its checkpoint
// as the log's latest with this witness's cosignature, which the decision
// it returns then holds.
func (w *Witness) commit(ctx context.Context, cp govlog.Checkpoint, logSigned []byte, oldSize uint64, consistency [][32]byte) (decision, error) {
	key := w.logs[cp.Origin]
	// Decided first against the state this witness last saw for the log,
	// outside the store's Update and so in parallel with other requests;
	// fn decides again only if the store holds something else.
	pre := w.decide(w.lastState(cp.Origin), cp, logSigned, oldSize, consistency)
	var line []byte // this witness's cosignature on the request's checkpoint
	if pre.err == nil && !pre.replay {
		var err error
		if line, err = w.cosign(logSigned); err != nil {
			return decision{}, err
		}
	}
	var d decision
	err := w.store.Update(ctx, cp.Origin, func(old []byte) ([]byte, error) {
		d = pre
		if !pre.against.is(old) {
			st, err := w.state(key, old)
			if err != nil {
				d = decision{}
				return nil, err
			}
			d = w.decide(st, cp, logSigned, oldSize, consistency)
		}
		if d.err != nil {
			return nil, d.err
		}
		if d.replay {
			// The same checkpoint again (a retry, a replay): answer with
			// the cosignature already given, and write nothing.
			d.cosignature = slices.Clone(old[len(d.against.logSigned):])
			return old, nil
		}
		if line == nil {
			var err error
			if line, err = w.cosign(logSigned); err != nil {
				return nil, err
			}
		}
		d.cosignature = line
		next := append(slices.Clip(logSigned), line...)
		// Known before it is committed, so that a request extending this
		// one is decided against it (and may join its batch); should the
		// commit fail, Update gives the next request the stored value.
		w.remember(&logState{stored: next, exists: true, cp: cp, logSigned: logSigned})
		// SPEC: tlog-witness: the witness MUST persist the new checkpoint
		// before responding, atomically with the old size check.
		return next, nil
	})
	return d, err
}

// refused notes a refused request: a validly signed checkpoint that is
// inconsistent is kept for gossip, and evidence it makes is recorded.
func (w *Witness) refused(ctx context.Context, cp govlog.Checkpoint, logSigned []byte, evidence *Evidence, err error) {
	if errors.Is(err, ErrInconsistent) {
		// SPEC: tlog-witness: the witness MAY log a validly signed
		// checkpoint that fails the consistency checks, but MUST NOT
		// cosign it.
		w.mu.Lock()
		w.rejected[cp.Origin] = logSigned
		w.mu.Unlock()
		w.logger.Warn("log signed a checkpoint inconsistent with the witness's latest", "origin", cp.Origin, "size", cp.Size, "err", err)
	}
	if evidence != nil {
		if _, eerr := w.RecordEvidence(ctx, evidence); eerr != nil {
			w.logger.Error("couldn't record evidence of a split view", "origin", cp.Origin, "err", eerr)
		}
	}
}

// A logState is a log's latest cosigned checkpoint as the store holds it,
// opened, or the state of a log never cosigned.
type logState struct {
	stored    []byte // the log-signed checkpoint and this witness's cosignature
	exists    bool   // false: nothing stored (size 0, the empty tree)
	cp        govlog.Checkpoint
	logSigned []byte // stored without the cosignature
}

// is reports whether st is the state of the stored value old (nil if none).
func (st *logState) is(old []byte) bool {
	if st == nil {
		return false
	}
	if old == nil {
		return !st.exists
	}
	return st.exists && bytes.Equal(st.stored, old)
}

// lastState returns the state of origin this witness last read or wrote,
// nil if none yet: a guess at what the store holds, for deciding outside
// Update.
func (w *Witness) lastState(origin string) *logState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.states[origin]
}

// remember records st as the last state of its log, unless a larger one
// is known already (requests finish out of order).
func (w *Witness) remember(st *logState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if have := w.states[st.cp.Origin]; have == nil || !have.exists || have.cp.Size <= st.cp.Size {
		w.states[st.cp.Origin] = st
	}
}

// state opens the stored value old of the log with this key, reusing the
// last state when it is the same bytes, so that the witness checks its own
// checkpoint's signature once, not on every request.
func (w *Witness) state(key note.Verifier, old []byte) (*logState, error) {
	origin := key.Name()
	if st := w.lastState(origin); st.is(old) {
		return st, nil
	}
	st := &logState{cp: govlog.Checkpoint{Origin: origin, Hash: emptyRoot}}
	if old != nil {
		cp, logSigned, err := w.openStored(key, old)
		if err != nil {
			return nil, err
		}
		st = &logState{stored: slices.Clone(old), exists: true, cp: cp, logSigned: logSigned}
	}
	w.mu.Lock()
	w.states[origin] = st
	w.mu.Unlock()
	return st, nil
}

// A decision is add-checkpoint's answer to one request against one state
// of its log.
type decision struct {
	against     *logState // the state decided against; nil: none (decide in Update)
	err         error     // the refusal, if refused
	evidence    *Evidence // what the refusal proves, if anything
	replay      bool      // the checkpoint the state holds: answer with its cosignature
	cosignature []byte    // the cosignature line to answer with, once known
}

// decide applies add-checkpoint's rules to a request against the log's
// state st. It is pure: the same state and request give the same decision.
func (w *Witness) decide(st *logState, cp govlog.Checkpoint, logSigned []byte, oldSize uint64, consistency [][32]byte) decision {
	d := decision{against: st}
	if st == nil {
		return d
	}
	latest := st.cp
	switch {
	case oldSize != latest.Size:
		// SPEC: tlog-witness: the old size MUST match the size of the
		// latest cosigned checkpoint (zero if none), else 409 with that size.
		d.err = &SizeConflictError{Latest: latest.Size}
	case oldSize == 0:
		// SPEC: tlog-witness: if the old size is zero, the proof MUST be
		// empty, else 422.
		if len(consistency) > 0 {
			d.err = fmt.Errorf("%w: the proof from size 0 must be empty", ErrInconsistent)
		}
	case cp.Size == oldSize && cp.Hash != latest.Hash:
		// SPEC: tlog-witness: at the same size the root hashes MUST be
		// identical, else 422.
		d.err = fmt.Errorf("%w: size %d has another root", ErrInconsistent, cp.Size)
		d.evidence = &Evidence{First: st.logSigned, Second: logSigned}
	default:
		// SPEC: tlog-witness: the proof MUST be an RFC 6962 consistency
		// proof from the old size to the checkpoint size, else 422.
		if err := verifyConsistency(oldSize, cp.Size, consistency, latest.Hash, cp.Hash); err != nil {
			d.err = fmt.Errorf("%w: consistency proof from size %d to %d: %v", ErrInconsistent, oldSize, cp.Size, err)
			if r, ok := prefixRoot(oldSize, cp.Size, consistency, cp.Hash); ok && r != latest.Hash {
				d.evidence = &Evidence{First: st.logSigned, Second: logSigned, Prefix: &Prefix{Root: r, Proof: consistency}}
			}
		}
	}
	if d.err == nil && st.exists && bytes.Equal(logSigned, st.logSigned) &&
		bytes.HasPrefix(st.stored, st.logSigned) && len(st.stored) > len(st.logSigned) {
		d.replay = true
	}
	return d
}

// open verifies signed against the key of the log its origin names, and
// returns it re-encoded with only the log's verified signature.
func (w *Witness) open(signed []byte) (govlog.Checkpoint, []byte, error) {
	// The origin is the note's first line. A known one picks the key that
	// openLogSigned checks the whole note with; only for another is the
	// note parsed here, to tell a malformed request (400) from an unknown
	// log (404).
	first, _, _ := bytes.Cut(signed, []byte("\n"))
	if key, ok := w.logs[string(first)]; ok {
		return openLogSigned(key, signed)
	}
	origin, err := peekOrigin(signed)
	if err != nil {
		return govlog.Checkpoint{}, nil, err
	}
	// SPEC: tlog-witness: an unknown origin MUST get 404.
	return govlog.Checkpoint{}, nil, fmt.Errorf("%w: %.256q", ErrUnknownOrigin, origin)
}

// OpenCheckpoint verifies that signed is a checkpoint signed by the key of
// a log this witness knows and returns it. It ignores other signatures.
func (w *Witness) OpenCheckpoint(signed []byte) (govlog.Checkpoint, error) {
	cp, _, err := w.open(signed)
	return cp, err
}

// openLogSigned verifies signed with the log's key, ignoring signatures by
// other keys, and returns it re-encoded with only the log's signature.
func openLogSigned(key note.Verifier, signed []byte) (govlog.Checkpoint, []byte, error) {
	// SPEC: tlog-witness: the witness MUST verify the checkpoint signature
	// against the log's key, ignore signatures from unknown keys, and answer
	// 403 if none verifies or one by the log's key fails.
	cp, n, err := govlog.OpenCheckpoint(signed, key)
	switch {
	case errors.Is(err, govlog.ErrCheckpointSignature):
		return govlog.Checkpoint{}, nil, fmt.Errorf("%w: %w", ErrLogSignature, err)
	case err != nil:
		return govlog.Checkpoint{}, nil, fmt.Errorf("%w: %w", ErrMalformedRequest, err)
	}
	logSigned, err := note.Sign(&note.Note{Text: n.Text, Sigs: n.Sigs})
	if err != nil {
		return govlog.Checkpoint{}, nil, fmt.Errorf("%w: %v", ErrMalformedRequest, err)
	}
	return cp, logSigned, nil
}

// openStored opens the witness's own stored checkpoint.
func (w *Witness) openStored(key note.Verifier, stored []byte) (govlog.Checkpoint, []byte, error) {
	cp, logSigned, err := openLogSigned(key, stored)
	if err != nil {
		// Only a corrupt store or a changed log key gets here.
		return govlog.Checkpoint{}, nil, fmt.Errorf("stored checkpoint of %s doesn't open with the log's key: %v", key.Name(), err)
	}
	return cp, logSigned, nil
}

// peekOrigin returns the origin line of a well-formed signed note, before
// any signature is verified, to pick the log's key.
func peekOrigin(signed []byte) (string, error) {
	_, err := note.Open(signed, note.VerifierList())
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		return "", fmt.Errorf("%w: checkpoint is not a well-formed signed note", ErrMalformedRequest)
	}
	origin, _, _ := bytes.Cut([]byte(unverified.Note.Text), []byte("\n"))
	return string(origin), nil
}

// cosign returns this witness's cosignature line on a checkpoint signed by
// the log, over its exact note text.
func (w *Witness) cosign(logSigned []byte) ([]byte, error) {
	// The text ends at the last empty line; signature lines are never empty.
	text := logSigned[:bytes.LastIndex(logSigned, []byte("\n\n"))+1]
	sig, err := w.cosigner.Sign(text)
	if err != nil {
		return nil, fmt.Errorf("couldn't cosign: %w", err)
	}
	raw := binary.BigEndian.AppendUint32(nil, w.cosigner.KeyHash())
	raw = append(raw, sig...)
	return []byte("— " + w.cosigner.Name() + " " + base64.StdEncoding.EncodeToString(raw) + "\n"), nil
}

// RecordEvidence verifies e against the log's key and stores it. If it is
// new, the log is frozen and an alert is logged and counted.
func (w *Witness) RecordEvidence(ctx context.Context, e *Evidence) (added bool, err error) {
	origin, err := peekOrigin(e.First)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrMalformedEvidence, err)
	}
	key, ok := w.logs[origin]
	if !ok {
		return false, fmt.Errorf("%w: %.256q", ErrUnknownOrigin, origin)
	}
	first, second, err := e.Verify(key)
	if err != nil {
		return false, err
	}
	// Frozen before the evidence is stored: from the moment the evidence
	// can be read, no cosignature of the log is made. (If storing fails,
	// the log stays frozen in memory, and the evidence will be found again.)
	w.mu.Lock()
	w.frozen[origin] = true
	w.mu.Unlock()
	rec := EvidenceRecord{ID: e.ID(), Origin: origin, Kind: e.Kind(), Found: w.now().UTC(), File: e.Marshal()}
	added, err = w.store.AddEvidence(ctx, rec)
	if err != nil {
		return false, fmt.Errorf("couldn't store evidence: %w", err)
	}
	if added {
		w.metrics.equivocations.WithLabelValues(origin).Inc()
		w.logger.Error("ALERT: log signed two checkpoints that cannot both be true; refusing to cosign it from now on",
			"origin", origin, "evidence", rec.ID, "kind", rec.Kind,
			"size1", first.Size, "size2", second.Size)
	}
	return added, nil
}

// Evidence returns the evidence this witness holds, oldest first.
func (w *Witness) Evidence(ctx context.Context) ([]EvidenceRecord, error) {
	ev, err := w.store.Evidence(ctx)
	if err != nil {
		return nil, fmt.Errorf("couldn't read evidence: %w", err)
	}
	return ev, nil
}

// verifyConsistency checks an RFC 6962 consistency proof.
func verifyConsistency(size1, size2 uint64, p [][32]byte, root1, root2 [32]byte) error {
	err := proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, slices2(p), root1[:], root2[:])
	var mismatch proof.RootMismatchError
	if errors.As(err, &mismatch) {
		// The library's message prints hashes as decimal byte lists.
		return fmt.Errorf("the proof computes root %s, not %s",
			base64.StdEncoding.EncodeToString(mismatch.CalculatedRoot), base64.StdEncoding.EncodeToString(mismatch.ExpectedRoot))
	}
	return err
}

func slices2(hashes [][32]byte) [][]byte {
	out := make([][]byte, len(hashes))
	for i := range hashes {
		out[i] = hashes[i][:]
	}
	return out
}
