// Package storage declares what govlog keeps besides Trillian's own tables:
// each personality's domain state and its outbox of admitted leaves. The
// implementations are storage/mysql (production, MySQL/MariaDB, shared with
// Trillian) and storage/sqlite (the embedded default, one file, pure Go);
// both pass the conformance suite in storage/storagetest.
//
// The outbox is what makes admission crash-safe: a statement's state change
// and its leaf are committed in ONE transaction, and a leaf in the outbox is
// queued to Trillian (idempotently) until it is marked queued, so a
// statement that was admitted is never lost, whenever the process dies.
//
// Once a checkpoint that the log has signed and published includes a leaf,
// Trillian keeps its bytes for good and the outbox's copy is no longer
// needed: RemoveIntegrated lets go of it. What the store keeps of every
// admitted leaf for good is small: its hash, index and admission time, by
// which a statement submitted again is answered as the duplicate it is, with
// its first promise, and by which queries cite entries.
package storage

import (
	"context"
	"errors"
	"time"
)

// ErrFenced is the error of an admission (or a checkpoint's publication)
// by a process that no longer holds the fence: another process was elected
// to admit since, and took it (see the sqlstore's TakeFence). Nothing the
// refused transaction wrote is kept.
var ErrFenced = errors.New("this process is no longer the log's elected admitter")

// OutboxEntry is one admitted leaf.
type OutboxEntry struct {
	// LeafHash is the RFC 6962 leaf hash of Leaf.
	LeafHash [32]byte
	// Leaf is the signed statement, exactly as submitted. It is nil in an
	// entry that LookupOutbox returns once RemoveIntegrated has let go of
	// the outbox's copy: the leaf is then in a published checkpoint, and
	// the log has it at Index.
	Leaf []byte
	// Index is the leaf's position in the log, assigned by AddToOutbox in
	// admission order: 0, 1, 2, ... per log, with no gaps. The log keeps
	// leaves at exactly these positions, so replaying the log applies
	// statements in the order they were admitted.
	Index uint64
	// AdmittedAt is when the leaf was admitted: set by the store when it
	// is added, and the same inside the admitting transaction as after it
	// commits (to the precision of the clock); a promise's deadline counts
	// from it.
	AdmittedAt time.Time
}

// StatePruner is an AdmissionStore that deletes state no one reads any
// more (a search index kept in an older layout).
type StatePruner interface {
	// DeleteStatePrefix deletes up to limit keys of log's state that begin
	// with prefix (not empty), and returns how many it deleted.
	DeleteStatePrefix(ctx context.Context, log, prefix string, limit int) (int, error)
}

// AdmissionStore keeps domain state and the outbox, per log.
type AdmissionStore interface {
	// Admit runs fn in one database transaction scoped to log and commits
	// it if fn returns nil. Nothing fn wrote is kept if either fails. fn
	// may be called again after a transient conflict, so it must not keep
	// state across calls.
	Admit(ctx context.Context, log string, fn func(ctx context.Context, tx AdmitTx) error) error
	// Read runs fn on a read-only transaction of log: the committed state
	// and outbox as one consistent snapshot, which admissions committing
	// meanwhile do not change. It takes no lock and holds no connection
	// that an admission waits for, so admissions commit while fn runs.
	// Read returns fn's error, or a storage failure.
	Read(ctx context.Context, log string, fn func(ctx context.Context, tx ReadTx) error) error
	Outbox
}

// Outbox moves admitted leaves into the log. A leaf enters it in the
// transaction that admits it (AdmitTx.AddToOutbox); it is queued to
// Trillian, again after any failure or crash, until MarkQueued records that
// it is; it leaves once a published checkpoint includes it
// (RemoveIntegrated). Its hash, index and admission time stay for good
// (LookupOutbox).
type Outbox interface {
	// Unqueued returns up to limit outbox entries of log not yet marked
	// queued, oldest first, with their leaves.
	Unqueued(ctx context.Context, log string, limit int) ([]OutboxEntry, error)
	// MarkQueued records that the leaves of log at these indexes are in
	// Trillian's queue (or already in the tree), so Unqueued no longer
	// returns them. Indexes the outbox does not hold are ignored.
	MarkQueued(ctx context.Context, log string, indexes []uint64) error
	// RemoveIntegrated lets go of the outbox's copies of log's leaves
	// below index size that are marked queued, and returns how many it
	// removed. size must be the size of a checkpoint that the log has
	// signed and published, whose leaves Trillian therefore keeps for
	// good; removing less than asked is never wrong, removing a leaf not
	// yet integrated would lose it. The log's newest leaf always keeps its
	// copy (the store counts the next index on from it). The entries stay
	// visible to LookupOutbox, with a nil Leaf.
	RemoveIntegrated(ctx context.Context, log string, size uint64) (int, error)
}

// ReadTx is the read-only transaction Read hands to its function.
type ReadTx interface {
	// Get reads the committed domain state at key, without locking it.
	// ok=false means no value.
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	// LookupOutbox returns the committed entries admitted to the log that
	// exist among leafHashes, the outbox's or not (see OutboxEntry.Leaf).
	LookupOutbox(ctx context.Context, leafHashes [][32]byte) (map[[32]byte]OutboxEntry, error)
	// Scan calls fn with every committed state key of the log that begins
	// with prefix (not empty), in key order (bytewise), and its value,
	// until fn returns an error, which Scan returns. An empty prefix is
	// an error. The keys and values are read from the transaction's
	// snapshot, a bounded number at a time, and fn is called with none
	// of the database's results open, so fn may call the transaction's
	// other methods (Get, LookupOutbox, Scan). fn may keep value; it is
	// not reused.
	Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error
}

// AdmitTx is the transaction Admit hands to its function.
type AdmitTx interface {
	// Get reads the domain state at key, locking it against concurrent
	// admissions until the transaction ends. ok=false means no value.
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Prefetch reads (and locks, as Get does) the state at keys in one
	// round trip, so that later Gets of them need none.
	Prefetch(ctx context.Context, keys []string) error
	// Put sets the domain state at key.
	Put(ctx context.Context, key string, value []byte) error
	// LookupOutbox returns the entries admitted to the log that exist
	// among leafHashes, including those added earlier in this transaction
	// (see OutboxEntry.Leaf).
	LookupOutbox(ctx context.Context, leafHashes [][32]byte) (map[[32]byte]OutboxEntry, error)
	// AddToOutbox adds an admitted leaf at the log's next index; its Index
	// and AdmittedAt (read them back with LookupOutbox) are set by the
	// store. Adding a hash already present is an error.
	AddToOutbox(ctx context.Context, leafHash [32]byte, leaf []byte) error
	// NextIndex returns the index the next AddToOutbox gives, locking the
	// log's outbox against other admissions as AddToOutbox does.
	NextIndex(ctx context.Context) (uint64, error)
}
