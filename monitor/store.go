package monitor

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/govlog/govlog/internal/sqlitefile"
	"github.com/govlog/govlog/personalities/rule"
)

// schemaVersion is the version of schema.sql plus schema_promises.sql and
// schema_watches.sql. The notifications table of schema_watches.sql was
// added to version 2 without a bump: it only adds a table, created at
// start-up if missing.
// Version 1 had no promises or leaf hashes; a version 1 file is refused
// rather than upgraded, because the leaf hashes of the entries it verified
// are not in it: delete it and the monitor re-verifies from the start.
const schemaVersion = 2

//go:embed schema.sql
var schema string

//go:embed schema_promises.sql
var schemaPromises string

// SQL, beside the schema it runs on.
const (
	selectVerifiedSQL = "SELECT size, checkpoint, range, seen_nanos FROM monitor_logs WHERE origin = ?"
	insertVerifiedSQL = "INSERT INTO monitor_logs (origin, size, checkpoint, range, seen_nanos) VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO NOTHING"
	swapVerifiedSQL   = "UPDATE monitor_logs SET size = ?, checkpoint = ?, range = ?, seen_nanos = ? WHERE origin = ? AND size = ? AND checkpoint = ?"
	getStateSQL       = "SELECT value FROM monitor_state WHERE origin = ? AND key = ?"
	getStatesSQL      = "SELECT key, value FROM monitor_state WHERE origin = ? AND key IN (?)"
	putStateSQL       = "INSERT INTO monitor_state (origin, key, value) VALUES (?, ?, ?) ON CONFLICT (origin, key) DO UPDATE SET value = excluded.value"
	dumpStateSQL      = "SELECT key, value FROM monitor_state WHERE origin = ? ORDER BY key"
	prefixStateSQL    = "SELECT key, value FROM monitor_state WHERE origin = ? AND key >= ? AND key < ? ORDER BY key"
	insertAlertSQL    = "INSERT INTO monitor_alerts (id, log, kind, idx, message, evidence, found_nanos) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
	selectAlertsSQL   = "SELECT log, kind, idx, message, evidence, found_nanos FROM monitor_alerts ORDER BY found_nanos, id"
	newestAlertsSQL   = "SELECT log, kind, idx, message, evidence, found_nanos FROM monitor_alerts ORDER BY found_nanos DESC, id DESC LIMIT ? OFFSET ?"
	alertByIDSQL      = "SELECT log, kind, idx, message, evidence, found_nanos FROM monitor_alerts WHERE id = ?"
	alertCountsSQL    = "SELECT log, COUNT(*) FROM monitor_alerts GROUP BY log"
)

// ErrConcurrentUpdate is returned when the verified checkpoint of a log
// changed under a pass: two monitors share one database file. The pass is
// rolled back and the next one starts from the new checkpoint.
var ErrConcurrentUpdate = errors.New("verified checkpoint changed during the pass")

// writerCacheKiB is the page cache of the store's writer connection.
const writerCacheKiB = 64 << 10

// Memory is the path of a private in-memory database, lost on Close.
const Memory = sqlitefile.Memory

// Store is the monitor's SQLite file: per log, the last verified checkpoint
// with its compact range and the replayed domain state; and the alerts.
type Store struct {
	db *sql.DB
	// read serves the dashboard's and the API's reads from other
	// connections, so they see the last committed pass instead of waiting
	// for the one in progress (SQLite's WAL lets readers run beside the
	// writer). It is db for an in-memory store.
	read *sql.DB
}

// OpenStore opens (creating if needed) the monitor database at path, or a
// private in-memory one for Memory, and creates or checks its schema.
func OpenStore(ctx context.Context, path string) (*Store, error) {
	db, err := sqlitefile.Open(path)
	if err != nil {
		return nil, err
	}
	if err := sqlitefile.EnsureSchema(ctx, db, "monitor", schemaVersion, schema, schemaPromises, schemaWatches); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// A pass writes its state and leaf hashes in one transaction: with
	// SQLite's default cache of 2 MiB it spilled its dirty pages to the WAL
	// again and again before it committed, and each multi-row write kept
	// its statement journal in a temporary file: 3.5 writes and 0.7 reads
	// of a page per entry replayed (BenchmarkReplayStore under strace,
	// 2026-12-05), a tenth of that with both in memory. The pool has one
	// connection, which keeps the settings.
	if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d; PRAGMA temp_store = MEMORY", -writerCacheKiB)); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if path == Memory {
		return &Store{db: db, read: db}, nil
	}
	read, err := sqlitefile.OpenReader(path, 4)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db, read: read}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if s.read != s.db {
		s.read.Close()
	}
	return s.db.Close()
}

// Verified is the last checkpoint the monitor verified for a log.
type Verified struct {
	// Checkpoint is the signed checkpoint as the log served it.
	Checkpoint []byte
	// Size is how many entries were replayed: the checkpoint's tree size,
	// or fewer while a long pass is partway (the entries below it proved
	// part of the checkpoint's tree).
	Size uint64
	// Range holds the roots of the perfect subtrees covering [0, Size),
	// left to right: the compact range new entries are hashed onto.
	Range [][]byte
	// Seen is when these checkpoint bytes were first seen.
	Seen time.Time
}

// Verified returns the last verified checkpoint of the log with origin,
// ok=false if the monitor has verified none yet.
func (s *Store) Verified(ctx context.Context, origin string) (v Verified, ok bool, err error) {
	return readVerified(ctx, s.read, origin)
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func readVerified(ctx context.Context, db queryRower, origin string) (Verified, bool, error) {
	var size, nanos int64
	var cp, rng []byte
	err := db.QueryRowContext(ctx, selectVerifiedSQL, origin).Scan(&size, &cp, &rng, &nanos)
	if errors.Is(err, sql.ErrNoRows) {
		return Verified{}, false, nil
	}
	if err != nil {
		return Verified{}, false, fmt.Errorf("couldn't read the verified checkpoint of %s: %w", origin, err)
	}
	if len(rng)%32 != 0 {
		return Verified{}, false, fmt.Errorf("corrupt compact range of %s: %d bytes", origin, len(rng))
	}
	v := Verified{Checkpoint: cp, Size: uint64(size), Seen: time.Unix(0, nanos).UTC()}
	for i := 0; i < len(rng); i += 32 {
		v.Range = append(v.Range, rng[i:i+32])
	}
	return v, true, nil
}

// State returns the replayed domain state of the log with origin, by key.
func (s *Store) State(ctx context.Context, origin string) (map[string][]byte, error) {
	return s.queryState(ctx, origin, dumpStateSQL, origin)
}

// StatePrefix returns the keys of the replayed state of the log with origin
// that begin with prefix (not empty), with their values: one index range,
// not the whole state.
func (s *Store) StatePrefix(ctx context.Context, origin, prefix string) (map[string][]byte, error) {
	if prefix == "" {
		return nil, errors.New("monitor: StatePrefix needs a prefix")
	}
	// Keys compare as bytes: every key with the prefix sorts at or after
	// it and before the prefix with its last byte raised (or, if that byte
	// is 0xff, before the shorter prefix raised in turn).
	end := []byte(prefix)
	for len(end) > 0 && end[len(end)-1] == 0xff {
		end = end[:len(end)-1]
	}
	if len(end) == 0 {
		return s.queryState(ctx, origin, "SELECT key, value FROM monitor_state WHERE origin = ? AND key >= ? ORDER BY key", origin, prefix)
	}
	end[len(end)-1]++
	return s.queryState(ctx, origin, prefixStateSQL, origin, prefix, string(end))
}

func (s *Store) queryState(ctx context.Context, origin, query string, args ...any) (map[string][]byte, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("couldn't read the state of %s: %w", origin, err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("couldn't read the state of %s: %w", origin, err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// Alerts returns every alert recorded, oldest first.
func (s *Store) Alerts(ctx context.Context) ([]Alert, error) {
	return s.queryAlerts(ctx, selectAlertsSQL)
}

// NewestAlerts returns at most limit alerts, newest first, skipping the
// offset newest.
func (s *Store) NewestAlerts(ctx context.Context, offset, limit int) ([]Alert, error) {
	return s.queryAlerts(ctx, newestAlertsSQL, limit, offset)
}

// Alert returns the alert with this ID, ok=false if there is none.
func (s *Store) Alert(ctx context.Context, id string) (a Alert, ok bool, err error) {
	alerts, err := s.queryAlerts(ctx, alertByIDSQL, id)
	if err != nil || len(alerts) == 0 {
		return Alert{}, false, err
	}
	return alerts[0], true, nil
}

// AlertCounts returns how many alerts each log has, by origin.
func (s *Store) AlertCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.read.QueryContext(ctx, alertCountsSQL)
	if err != nil {
		return nil, fmt.Errorf("couldn't count alerts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var log string
		var n int
		if err := rows.Scan(&log, &n); err != nil {
			return nil, fmt.Errorf("couldn't count alerts: %w", err)
		}
		out[log] = n
	}
	return out, rows.Err()
}

func (s *Store) queryAlerts(ctx context.Context, query string, args ...any) ([]Alert, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("couldn't read alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var idx sql.NullInt64
		var nanos int64
		if err := rows.Scan(&a.Log, &a.Kind, &idx, &a.Message, &a.Evidence, &nanos); err != nil {
			return nil, fmt.Errorf("couldn't read alerts: %w", err)
		}
		if idx.Valid {
			i := uint64(idx.Int64)
			a.Index = &i
		}
		a.Time = time.Unix(0, nanos).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// addAlert records a, reporting false if the same alert was recorded before.
func (s *Store) addAlert(ctx context.Context, a Alert) (bool, error) {
	var idx sql.NullInt64
	if a.Index != nil {
		idx = sql.NullInt64{Int64: int64(*a.Index), Valid: true}
	}
	res, err := s.db.ExecContext(ctx, insertAlertSQL, a.ID(), a.Log, string(a.Kind), idx, a.Message, a.Evidence, a.Time.UnixNano())
	if err != nil {
		return false, fmt.Errorf("couldn't record alert: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("couldn't record alert: %w", err)
	}
	return n == 1, nil
}

// advance is one log's move from its verified checkpoint to the next: the
// replayed state and the new checkpoint are written in one transaction, so
// a crash, a failed pass or a root that does not match leaves both as they
// were. Writes are buffered in memory and flushed in multi-row statements,
// which is most of the cost of a replay saved: rules read back what they
// just wrote, and a statement per key is a round trip through SQLite.
type advance struct {
	tx     *sql.Tx
	origin string
	get    *sql.Stmt
	// pending holds the state written since the last flush.
	pending map[string][]byte
	// read holds the state read ahead for a batch of entries (prefetch),
	// as the store had it at the last flush, nil for a key it lacks:
	// pending comes first.
	read map[string][]byte
	// leaves holds the verified leaf hashes (for promises) since the last
	// flush.
	leaves []verifiedLeaf
}

type verifiedLeaf struct {
	hash  [32]byte
	index uint64
}

// flushAt is how many pending state keys or leaf hashes make a flush: large
// enough to amortize, small enough to bound a pass's memory.
const flushAt = 8192

// rowsPerInsert is how many rows one INSERT writes: within SQLite's default
// limit of 32,766 bound parameters at three per row.
const rowsPerInsert = 500

var _ rule.State = (*advance)(nil)

func (s *Store) begin(ctx context.Context, origin string) (*advance, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("couldn't begin a transaction: %w", err)
	}
	a := &advance{tx: tx, origin: origin, pending: map[string][]byte{}, read: map[string][]byte{}}
	if a.get, err = tx.PrepareContext(ctx, getStateSQL); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("couldn't prepare state queries: %w", err)
	}
	return a, nil
}

// Get implements rule.State.
func (a *advance) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if v, ok := a.pending[key]; ok {
		// A copy: a rule that changed what it read must not change what
		// will be written.
		return bytes.Clone(v), true, nil
	}
	if v, ok := a.read[key]; ok {
		return bytes.Clone(v), v != nil, nil
	}
	var v []byte
	err := a.get.QueryRowContext(ctx, a.origin, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// Put implements rule.State.
func (a *advance) Put(ctx context.Context, key string, value []byte) error {
	a.pending[key] = bytes.Clone(value)
	if len(a.pending) >= flushAt {
		return a.flush(ctx)
	}
	return nil
}

// putLeaf records the leaf hash of entry index as verified, with the rest
// of the pass.
func (a *advance) putLeaf(ctx context.Context, leafHash [32]byte, index uint64) error {
	a.leaves = append(a.leaves, verifiedLeaf{leafHash, index})
	if len(a.leaves) >= flushAt {
		return a.flush(ctx)
	}
	return nil
}

// flush writes the pending state and leaf hashes into the transaction.
func (a *advance) flush(ctx context.Context) error {
	keys := slices.Sorted(maps.Keys(a.pending))
	for chunk := range slices.Chunk(keys, rowsPerInsert) {
		args := make([]any, 0, 3*len(chunk))
		for _, k := range chunk {
			args = append(args, a.origin, k, a.pending[k])
		}
		if _, err := a.tx.ExecContext(ctx, multiRow(putStateSQL, len(chunk)), args...); err != nil {
			return fmt.Errorf("couldn't write the replayed state: %w", err)
		}
	}
	clear(a.pending)
	// What was read ahead may since have been written: read it again.
	clear(a.read)
	for chunk := range slices.Chunk(a.leaves, rowsPerInsert) {
		args := make([]any, 0, 3*len(chunk))
		for _, l := range chunk {
			args = append(args, a.origin, l.hash[:], int64(l.index))
		}
		if _, err := a.tx.ExecContext(ctx, multiRow(insertLeafSQL, len(chunk)), args...); err != nil {
			return fmt.Errorf("couldn't record verified leaf hashes: %w", err)
		}
	}
	a.leaves = a.leaves[:0]
	return nil
}

// prefetch reads the keys a batch of entries will read, in a statement per
// rowsPerInsert keys instead of one per key (see rule.KeyReader); keys not
// named are still read one by one.
func (a *advance) prefetch(ctx context.Context, keys []string) error {
	var todo []string
	for _, k := range keys {
		if _, ok := a.pending[k]; ok {
			continue
		}
		if _, ok := a.read[k]; ok {
			continue
		}
		a.read[k] = nil // absent unless found below; dedups keys
		todo = append(todo, k)
	}
	for chunk := range slices.Chunk(todo, rowsPerInsert) {
		args := make([]any, 0, 1+len(chunk))
		args = append(args, a.origin)
		for _, k := range chunk {
			args = append(args, k)
		}
		q := strings.Replace(getStatesSQL, "(?)", "(?"+strings.Repeat(", ?", len(chunk)-1)+")", 1)
		rows, err := a.tx.QueryContext(ctx, q, args...)
		if err != nil {
			clear(a.read)
			return fmt.Errorf("couldn't read the state ahead: %w", err)
		}
		for rows.Next() {
			var k string
			var v []byte
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				clear(a.read)
				return fmt.Errorf("couldn't read the state ahead: %w", err)
			}
			if v == nil {
				v = []byte{} // present, empty
			}
			a.read[k] = v
		}
		if err := rows.Close(); err != nil {
			clear(a.read)
			return fmt.Errorf("couldn't read the state ahead: %w", err)
		}
	}
	return nil
}

// multiRow turns "INSERT ... VALUES (?, ?, ?) ON CONFLICT ..." into the same
// statement inserting n rows.
func multiRow(insert string, n int) string {
	const row = "(?, ?, ?)"
	head, tail, ok := strings.Cut(insert, row)
	if !ok {
		panic("monitor: multiRow: no " + row + " in " + insert)
	}
	return head + strings.Repeat(row+", ", n-1) + row + tail
}

// commit stores next as the verified checkpoint if the stored one is still
// prev (ok=false: none), and commits the replayed state with it.
func (a *advance) commit(ctx context.Context, prev Verified, hadPrev bool, next Verified) error {
	defer a.tx.Rollback()
	if err := a.flush(ctx); err != nil {
		return err
	}
	// Never nil, even for an empty tree: nil would be stored as NULL.
	rng := []byte{}
	for _, h := range next.Range {
		rng = append(rng, h...)
	}
	var res sql.Result
	var err error
	if hadPrev {
		res, err = a.tx.ExecContext(ctx, swapVerifiedSQL, int64(next.Size), next.Checkpoint, rng, next.Seen.UnixNano(),
			a.origin, int64(prev.Size), prev.Checkpoint)
	} else {
		res, err = a.tx.ExecContext(ctx, insertVerifiedSQL, a.origin, int64(next.Size), next.Checkpoint, rng, next.Seen.UnixNano())
	}
	if err != nil {
		return fmt.Errorf("couldn't store the verified checkpoint: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("couldn't store the verified checkpoint: %w", err)
	}
	if n != 1 {
		return fmt.Errorf("%s: %w", a.origin, ErrConcurrentUpdate)
	}
	if err := a.tx.Commit(); err != nil {
		return fmt.Errorf("couldn't commit the replayed entries: %w", err)
	}
	return nil
}

func (a *advance) rollback() { a.tx.Rollback() }

// markOrigin is the pseudo-origin under which the store keeps the
// monitor's own marks among the states (no log has it: it has no dot
// followed by a slash).
const markOrigin = "govlog-monitor:"

// mark returns the monitor's mark called name; 0 if never set.
func (s *Store) mark(ctx context.Context, name string) (uint64, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, "SELECT value FROM monitor_state WHERE origin = ? AND key = ?", markOrigin, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(string(v), 10, 64)
}

// setMark sets the monitor's mark called name.
func (s *Store) setMark(ctx context.Context, name string, v uint64) error {
	_, err := s.db.ExecContext(ctx, putStateSQL, markOrigin, name, []byte(strconv.FormatUint(v, 10)))
	return err
}
