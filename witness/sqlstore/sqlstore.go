// Package sqlstore is the witness's [witness.Store] on SQLite
// (modernc.org/sqlite, pure Go): one file per witness, in WAL mode with
// synchronous=FULL, so a checkpoint the witness cosigned is on disk before
// the cosignature leaves, and survives a crash or power loss.
//
// The witness keeps its own small file rather than sharing the log's
// database: witnesses are run by other institutions, and one process may run
// several (govlog dev). MySQL is not offered: a witness's state is a few
// rows per log, and its operator should not need a database server.
//
// # Group commit
//
// One goroutine, the committer, makes every write. Updates that arrive while
// it commits wait in a queue, and it takes all of them (up to MaxBatch) into
// its next transaction: it reads the current values of their logs in one
// query, calls each update's fn in arrival order (a second update of the
// same log sees the first's new value, so two for one log can both succeed
// when the second extends the first), writes the new values in one
// statement and commits once, with one fsync for all of them. Only then
// does any update of the batch return, so no caller learns of a value that
// is not on disk; if the commit fails, every update of the batch returns
// its error. An idle committer starts a batch on the first update, so a
// single request waits for nothing but its own commit.
//
// Decision: each batch reads its logs' values from the file (one query)
// rather than from a copy in memory, so the file stays the only truth even
// if something else writes it; that read costs about 10 µs a request.
package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govlog/govlog/internal/sqlitefile"
	"github.com/govlog/govlog/witness"
)

const schemaVersion = 1

//go:embed schema.sql
var schema string

// SQL, beside the schema it runs on.
const (
	latestSQL = "SELECT checkpoint FROM witness_checkpoints WHERE origin = ?"
	// The batch's queries, completed with one "?" or "(?, ?)" per log.
	batchLatestSQL    = "SELECT origin, checkpoint FROM witness_checkpoints WHERE origin IN "
	batchWriteSQL     = "INSERT INTO witness_checkpoints (origin, checkpoint) VALUES "
	batchWriteEnd     = " ON CONFLICT (origin) DO UPDATE SET checkpoint = excluded.checkpoint"
	insertEvidenceSQL = "INSERT INTO witness_evidence (id, origin, kind, found_nanos, file) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
	selectEvidenceSQL = "SELECT id, origin, kind, found_nanos, file FROM witness_evidence ORDER BY found_nanos, id"
)

// Memory is the path of a private in-memory database, lost on Close.
const Memory = sqlitefile.Memory

// MaxBatch is the most updates one transaction takes: 2 query parameters
// each stay far below SQLite's limit of 32,766.
const MaxBatch = 1024

// ErrClosed is returned by Update after Close.
var ErrClosed = errors.New("witness store closed")

// Store is a witness.Store in a SQLite database.
type Store struct {
	db      *sql.DB
	updates chan *update
	closing chan struct{} // closed by Close
	stopped chan struct{} // closed when the committer has returned
	once    sync.Once
}

// An update is one call of Update, queued for the committer.
type update struct {
	origin string
	fn     func(old []byte) ([]byte, error)
	// state is queued until the committer takes the update or its caller
	// gives up on it, whichever comes first; the other then leaves it.
	state atomic.Int32
	err   error         // the outcome, set by the committer
	done  chan struct{} // closed by the committer when err is set
	// sure is set when fn failed on a committed value: its error stands
	// even if the batch's commit fails.
	sure bool
}

const (
	queued int32 = iota
	taken
	abandoned
)

var _ witness.Store = (*Store)(nil)

// Open opens (creating if needed) the witness database at path, or a
// private in-memory one for Memory, and creates or checks its schema.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := sqlitefile.Open(path)
	if err != nil {
		return nil, err
	}
	if err := sqlitefile.EnsureSchema(ctx, db, "witness", schemaVersion, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s := &Store{
		db:      db,
		updates: make(chan *update, MaxBatch),
		closing: make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go s.commitLoop()
	return s, nil
}

// Close stops the committer, after the batch it is committing, and closes
// the database.
func (s *Store) Close() error {
	s.once.Do(func() { close(s.closing) })
	<-s.stopped
	return s.db.Close()
}

// Latest implements witness.Store.
func (s *Store) Latest(ctx context.Context, origin string) ([]byte, bool, error) {
	var cp []byte
	err := s.db.QueryRowContext(ctx, latestSQL, origin).Scan(&cp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return cp, true, nil
}

// Update implements witness.Store. Concurrent updates are committed
// together (see the package doc); fn is called on the committer's
// goroutine, once, in a transaction that holds the database's write lock,
// so it is never called again. Update returns once the batch holding its
// write is committed, or, if ctx is done first, ctx.Err() if the committer
// had not yet taken it.
func (s *Store) Update(ctx context.Context, origin string, fn func(old []byte) ([]byte, error)) error {
	u := &update{origin: origin, fn: fn, done: make(chan struct{})}
	select {
	case s.updates <- u:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closing:
		return ErrClosed
	}
	select {
	case <-u.done:
		return u.err
	case <-ctx.Done():
		if u.state.CompareAndSwap(queued, abandoned) {
			return ctx.Err()
		}
	case <-s.stopped:
		if u.state.CompareAndSwap(queued, abandoned) {
			return ErrClosed
		}
	}
	<-u.done // the committer has it: its batch is nearly done
	return u.err
}

// commitLoop is the committer: it commits batches of queued updates until
// Close.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	batch := make([]*update, 0, MaxBatch)
	for {
		batch = batch[:0]
		select {
		case u := <-s.updates:
			batch = append(batch, u)
		case <-s.closing:
			return
		}
	more:
		for len(batch) < MaxBatch {
			select {
			case u := <-s.updates:
				batch = append(batch, u)
			default:
				break more
			}
		}
		s.commitBatch(batch)
	}
}

// commitBatch applies the updates in one transaction and answers them all
// once it is committed (or failed).
func (s *Store) commitBatch(batch []*update) {
	mine := batch[:0]
	for _, u := range batch {
		if u.state.CompareAndSwap(queued, taken) {
			mine = append(mine, u)
		}
	}
	if len(mine) == 0 {
		return
	}
	if err := s.apply(mine); err != nil {
		for _, u := range mine {
			if !u.sure {
				u.err = err
			}
		}
	}
	for _, u := range mine {
		close(u.done)
	}
}

// apply runs the updates' fns over the current values in one transaction
// and commits their writes. It sets the updates' own errors; an error it
// returns is the store's, for all of them.
func (s *Store) apply(updates []*update) error {
	// Not any caller's context: a caller who leaves must not undo the
	// others' writes.
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	values, err := readLatest(ctx, tx, updates)
	if err != nil {
		return err
	}
	var written []string // origins whose value changed, in first-write order
	changed := map[string]bool{}
	for _, u := range updates {
		old, ok := values[u.origin]
		next, err := callFn(u, old)
		if err != nil {
			u.err, u.sure = err, !changed[u.origin]
			continue
		}
		if ok && bytes.Equal(next, old) {
			continue // nothing changed: no write
		}
		values[u.origin] = next
		if !changed[u.origin] {
			changed[u.origin] = true
			written = append(written, u.origin)
		}
	}
	if len(written) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(written))
	for _, origin := range written {
		args = append(args, origin, values[origin])
	}
	q := batchWriteSQL + strings.TrimSuffix(strings.Repeat("(?, ?), ", len(written)), ", ") + batchWriteEnd
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return err
	}
	return tx.Commit()
}

// callFn calls u.fn, turning a panic into an error: fn runs on the
// committer's goroutine, where a panic would end the process rather than
// one request.
func callFn(u *update, old []byte) (next []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("update of %s panicked: %v", u.origin, r)
		}
	}()
	return u.fn(old)
}

// readLatest returns the stored values of the updates' origins; an origin
// with none is absent.
func readLatest(ctx context.Context, tx *sql.Tx, updates []*update) (map[string][]byte, error) {
	values := make(map[string][]byte, len(updates))
	var args []any
	seen := map[string]bool{}
	for _, u := range updates {
		if !seen[u.origin] {
			seen[u.origin] = true
			args = append(args, u.origin)
		}
	}
	q := batchLatestSQL + "(" + strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ") + ")"
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var origin string
		var cp []byte
		if err := rows.Scan(&origin, &cp); err != nil {
			return nil, err
		}
		values[origin] = cp
	}
	return values, rows.Err()
}

// AddEvidence implements witness.Store.
func (s *Store) AddEvidence(ctx context.Context, e witness.EvidenceRecord) (bool, error) {
	res, err := s.db.ExecContext(ctx, insertEvidenceSQL, e.ID, e.Origin, e.Kind, e.Found.UnixNano(), e.File)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// Evidence implements witness.Store.
func (s *Store) Evidence(ctx context.Context) ([]witness.EvidenceRecord, error) {
	rows, err := s.db.QueryContext(ctx, selectEvidenceSQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []witness.EvidenceRecord
	for rows.Next() {
		var e witness.EvidenceRecord
		var nanos int64
		if err := rows.Scan(&e.ID, &e.Origin, &e.Kind, &nanos, &e.File); err != nil {
			return nil, err
		}
		e.Found = time.Unix(0, nanos).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
