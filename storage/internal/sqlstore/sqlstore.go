// Package sqlstore implements storage.AdmissionStore over database/sql for
// both MySQL/MariaDB and SQLite: the SQL is the same but for the few
// statements a Dialect spells out.
package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/govlog/govlog/storage"
)

// Dialect holds what differs between the SQL engines.
type Dialect struct {
	// ForUpdate is appended to a state read inside Admit to lock the row
	// (" FOR UPDATE" on MySQL; empty on SQLite, whose write transactions
	// are serialised by BEGIN IMMEDIATE).
	ForUpdate string
	// ForShare is appended to the fence's read to lock it shared (" LOCK
	// IN SHARE MODE" on MySQL and MariaDB; empty on SQLite).
	ForShare string
	// UpsertState is a multi-row upsert of (log, k, v); %s stands for the
	// VALUES tuples.
	UpsertState string
	// MultiStatements says the connections take several statements in one
	// Exec, separated by ";" (go-sql-driver/mysql's multiStatements).
	MultiStatements bool
	// Retryable reports whether a failed transaction may succeed if run
	// again (a deadlock or a busy database).
	Retryable func(error) bool
}

// SQL shared by both engines; table definitions live in each backend's
// schema.sql.
const (
	getStateSQL     = "SELECT v FROM govlog_state WHERE log = ? AND k = ?"
	getStatesSQL    = "SELECT k, v FROM govlog_state WHERE log = ? AND k IN (%s)"
	insertLeavesSQL = "INSERT INTO govlog_leaves (log, leaf_hash, leaf_index, admitted_nanos) VALUES %s"
	insertOutboxSQL = "INSERT INTO govlog_outbox (log, leaf_index, leaf_hash, leaf, admitted_nanos, queued) VALUES %s"
	// An admitted leaf, with its bytes while the outbox holds them.
	lookupOutboxSQL = `SELECT l.leaf_hash, o.leaf, l.admitted_nanos, l.leaf_index FROM govlog_leaves l
		LEFT JOIN govlog_outbox o ON o.log = l.log AND o.leaf_index = l.leaf_index
		WHERE l.log = ? AND l.leaf_hash IN (%s)`
	unqueuedSQL   = "SELECT leaf_hash, leaf, admitted_nanos, leaf_index FROM govlog_outbox WHERE log = ? AND queued = 0 ORDER BY leaf_index LIMIT ?"
	nextIndexSQL  = "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM govlog_outbox WHERE log = ?"
	markQueuedSQL = "UPDATE govlog_outbox SET queued = 1 WHERE log = ? AND leaf_index IN (%s)"
	// The leaves RemoveIntegrated may remove, and the newest, which stays.
	integratedSQL = "SELECT leaf_index FROM govlog_outbox WHERE log = ? AND queued = 1 AND leaf_index < ? ORDER BY leaf_index LIMIT ?"
	newestSQL     = "SELECT COALESCE(MAX(leaf_index), -1) FROM govlog_outbox WHERE log = ?"
	removeSQL     = "DELETE FROM govlog_outbox WHERE log = ? AND leaf_index IN (%s)"
)

// rowsPerStatement bounds multi-row statements well below both engines'
// limits on bound parameters.
const rowsPerStatement = 500

// bytesPerStatement bounds the data in one multi-row write well below
// MySQL's max_allowed_packet (4 MiB by default on MySQL 5.7, 16 MiB on
// MariaDB), past which the server refuses the statement and drops the
// connection. A single larger row still goes alone.
const bytesPerStatement = 4 << 20

// rowsInStatement returns how many of the next n rows go in one statement,
// where size(i) is the byte size of row i.
func rowsInStatement(n int, size func(i int) int) int {
	n = min(n, rowsPerStatement)
	total := 0
	for i := range n {
		total += size(i)
		if i > 0 && total > bytesPerStatement {
			return i
		}
	}
	return n
}

// Store is a storage.AdmissionStore on a *sql.DB.
type Store struct {
	db *sql.DB
	// read serves Read: db, or connections of its own to the same
	// database (SQLite's read-only pool), so that reads do not wait for
	// the connection admissions use, nor make them wait for it.
	read *sql.DB
	d    Dialect
	// fence is the token this Store took the fence with (TakeFence); 0:
	// it never did, and admits without looking at the fence.
	fence atomic.Int64
}

var _ storage.AdmissionStore = (*Store)(nil)

// New returns a Store on db, whose Read uses read, or db if read is nil;
// the schema must already be in place.
func New(db, read *sql.DB, d Dialect) *Store {
	if read == nil {
		read = db
	}
	return &Store{db: db, read: read, d: d}
}

// Admit implements storage.AdmissionStore.
func (s *Store) Admit(ctx context.Context, log string, fn func(context.Context, storage.AdmitTx) error) error {
	// On MySQL, concurrent admissions that read missing keys hold gap locks
	// and deadlock when they insert; the deadlock victims are retried. The
	// waits are random, growing exponentially, so that victims do not meet
	// again in lockstep.
	const attempts = 16
	wait := 4 * time.Millisecond
	for i := 1; ; i++ {
		err := s.admitOnce(ctx, log, fn)
		if err == nil || i == attempts || s.d.Retryable == nil || !s.d.Retryable(err) {
			return err
		}
		timer := time.NewTimer(rand.N(wait))
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

func (s *Store) admitOnce(ctx context.Context, log string, fn func(context.Context, storage.AdmitTx) error) error {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("couldn't begin transaction: %w", err)
	}
	defer sqlTx.Rollback()
	if err := s.checkFence(ctx, sqlTx); err != nil {
		return err
	}
	tx := &admitTx{s: s, tx: sqlTx, log: log, puts: map[string][]byte{}, read: map[string][]byte{}, added: map[[32]byte]storage.OutboxEntry{}}
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if err := tx.flush(ctx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("couldn't commit admission: %w", err)
	}
	return nil
}

// admitTx buffers writes and sends them in a few multi-row statements when
// fn returns: one round trip per few hundred rows instead of one per row.
type admitTx struct {
	s        *Store
	tx       *sql.Tx
	log      string
	puts     map[string][]byte
	putOrder []string
	read     map[string][]byte // prefetched values; nil value: known absent
	next     uint64            // the index the next added leaf gets
	haveNext bool
	added    map[[32]byte]storage.OutboxEntry
	addOrder [][32]byte
}

func (t *admitTx) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if v, ok := t.puts[key]; ok {
		return bytes.Clone(v), true, nil
	}
	if v, ok := t.read[key]; ok {
		return bytes.Clone(v), v != nil, nil
	}
	var v []byte
	err := t.tx.QueryRowContext(ctx, getStateSQL+t.s.d.ForUpdate, t.log, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		t.read[key] = nil
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("couldn't read state %q: %w", key, err)
	}
	// Kept for the rest of the transaction, which holds the row's lock:
	// a rule that reads a key again (a batch's statements, a statement and
	// the log's answer to it) asks the database once.
	if v == nil {
		v = []byte{}
	}
	t.read[key] = bytes.Clone(v)
	return v, true, nil
}

func (t *admitTx) Prefetch(ctx context.Context, keys []string) error {
	var ask []string
	for _, k := range keys {
		if _, ok := t.puts[k]; ok {
			continue
		}
		if _, ok := t.read[k]; ok {
			continue
		}
		t.read[k] = nil // absent unless the query finds it
		ask = append(ask, k)
	}
	for len(ask) > 0 {
		n := min(len(ask), rowsPerStatement)
		args := []any{t.log}
		for _, k := range ask[:n] {
			args = append(args, k)
		}
		rows, err := t.tx.QueryContext(ctx, fmt.Sprintf(getStatesSQL, placeholders(n, 1))+t.s.d.ForUpdate, args...)
		if err != nil {
			return fmt.Errorf("couldn't read state: %w", err)
		}
		for rows.Next() {
			var k string
			var v []byte
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return fmt.Errorf("couldn't read state: %w", err)
			}
			t.read[k] = append([]byte{}, v...)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("couldn't read state: %w", err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("couldn't read state: %w", err)
		}
		ask = ask[n:]
	}
	return nil
}

func (t *admitTx) Put(ctx context.Context, key string, value []byte) error {
	if _, ok := t.puts[key]; !ok {
		t.putOrder = append(t.putOrder, key)
	}
	// Never nil, even for an empty value: nil would be written as NULL.
	t.puts[key] = append([]byte{}, value...)
	return nil
}

func (t *admitTx) LookupOutbox(ctx context.Context, hashes [][32]byte) (map[[32]byte]storage.OutboxEntry, error) {
	found := map[[32]byte]storage.OutboxEntry{}
	var ask [][32]byte
	for _, h := range hashes {
		if e, ok := t.added[h]; ok {
			found[h] = e
		} else {
			ask = append(ask, h)
		}
	}
	if err := lookupOutbox(ctx, t.tx, t.log, ask, found); err != nil {
		return nil, err
	}
	return found, nil
}

// lookupOutbox adds to found the outbox entries of log among hashes.
func lookupOutbox(ctx context.Context, tx *sql.Tx, log string, hashes [][32]byte, found map[[32]byte]storage.OutboxEntry) error {
	for len(hashes) > 0 {
		n := min(len(hashes), rowsPerStatement)
		args := []any{log}
		for _, h := range hashes[:n] {
			args = append(args, h[:])
		}
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(lookupOutboxSQL, placeholders(n, 1)), args...)
		if err != nil {
			return fmt.Errorf("couldn't look up outbox: %w", err)
		}
		entries, err := scanOutbox(rows)
		if err != nil {
			return err
		}
		for _, e := range entries {
			found[e.LeafHash] = e
		}
		hashes = hashes[n:]
	}
	return nil
}

func (t *admitTx) AddToOutbox(ctx context.Context, leafHash [32]byte, leaf []byte) error {
	if _, ok := t.added[leafHash]; ok {
		return fmt.Errorf("leaf %x added twice in one transaction", leafHash)
	}
	// AdmittedAt is fixed now, not at commit, so that what fn sees in this
	// transaction (and may put in a promise) is exactly what is stored.
	// time.Unix drops the monotonic reading, as a stored time has none.
	if _, err := t.NextIndex(ctx); err != nil {
		return err
	}
	t.added[leafHash] = storage.OutboxEntry{
		LeafHash:   leafHash,
		Leaf:       append([]byte{}, leaf...),
		AdmittedAt: time.Unix(0, time.Now().UnixNano()),
		Index:      t.next,
	}
	t.next++
	t.addOrder = append(t.addOrder, leafHash)
	return nil
}

func (t *admitTx) NextIndex(ctx context.Context) (uint64, error) {
	if !t.haveNext {
		// Locked (FOR UPDATE on MySQL, the write lock on SQLite) until the
		// transaction ends, so concurrent admissions take turns.
		if err := t.tx.QueryRowContext(ctx, nextIndexSQL+t.s.d.ForUpdate, t.log).Scan(&t.next); err != nil {
			return 0, fmt.Errorf("couldn't read the next log index: %w", err)
		}
		t.haveNext = true
	}
	return t.next, nil
}

func (t *admitTx) flush(ctx context.Context) error {
	w := writes{tx: t.tx, multi: t.s.d.MultiStatements}
	for keys := t.putOrder; len(keys) > 0; {
		size := func(i int) int { return len(t.log) + len(keys[i]) + len(t.puts[keys[i]]) }
		n := rowsInStatement(len(keys), size)
		args := make([]any, 0, 3*n)
		total := 0
		for i, k := range keys[:n] {
			args = append(args, t.log, k, t.puts[k])
			total += size(i)
		}
		if err := w.add(ctx, fmt.Sprintf(t.s.d.UpsertState, placeholders(n, 3)), total, args); err != nil {
			return fmt.Errorf("couldn't write state: %w", err)
		}
		keys = keys[n:]
	}
	for hashes := t.addOrder; len(hashes) > 0; {
		n := min(len(hashes), rowsPerStatement)
		args := make([]any, 0, 4*n)
		for _, h := range hashes[:n] {
			e := t.added[h]
			args = append(args, t.log, h[:], e.Index, e.AdmittedAt.UnixNano())
		}
		if err := w.add(ctx, fmt.Sprintf(insertLeavesSQL, placeholders(n, 4)), n*(len(t.log)+48), args); err != nil {
			return fmt.Errorf("couldn't write admitted leaves: %w", err)
		}
		hashes = hashes[n:]
	}
	for hashes := t.addOrder; len(hashes) > 0; {
		size := func(i int) int { return len(t.log) + 32 + len(t.added[hashes[i]].Leaf) }
		n := rowsInStatement(len(hashes), size)
		args := make([]any, 0, 6*n)
		total := 0
		for i, h := range hashes[:n] {
			e := t.added[h]
			args = append(args, t.log, e.Index, h[:], e.Leaf, e.AdmittedAt.UnixNano(), false)
			total += size(i)
		}
		if err := w.add(ctx, fmt.Sprintf(insertOutboxSQL, placeholders(n, 6)), total, args); err != nil {
			return fmt.Errorf("couldn't write outbox: %w", err)
		}
		hashes = hashes[n:]
	}
	if err := w.send(ctx); err != nil {
		return fmt.Errorf("couldn't write admission: %w", err)
	}
	return nil
}

// writes sends a transaction's writes: each as it comes or, when multi,
// several in one round trip, as few round trips as bytesPerStatement
// allows (an admission's writes are a few statements, each a round trip
// otherwise).
type writes struct {
	tx    *sql.Tx
	multi bool
	query []string
	args  []any
	size  int
}

// add sends query, or keeps it for the next round trip; size is roughly
// its arguments' bytes.
func (w *writes) add(ctx context.Context, query string, size int, args []any) error {
	if !w.multi {
		_, err := w.tx.ExecContext(ctx, query, args...)
		return err
	}
	if len(w.query) > 0 && w.size+size > bytesPerStatement {
		if err := w.send(ctx); err != nil {
			return err
		}
	}
	w.query = append(w.query, query)
	w.args = append(w.args, args...)
	w.size += size
	return nil
}

// send sends the statements kept, if any.
func (w *writes) send(ctx context.Context) error {
	if len(w.query) == 0 {
		return nil
	}
	_, err := w.tx.ExecContext(ctx, strings.Join(w.query, ";\n"), w.args...)
	w.query, w.args, w.size = w.query[:0], nil, 0
	return err
}

// DeleteStatePrefix implements storage.StatePruner, in one transaction.
func (s *Store) DeleteStatePrefix(ctx context.Context, log, prefix string, limit int) (int, error) {
	if prefix == "" {
		return 0, errors.New("DeleteStatePrefix needs a prefix")
	}
	limit = min(limit, rowsPerStatement)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	// Keys compare as bytes: those with prefix lie from prefix up to, not
	// including, prefix with its last byte raised (prefixes here are
	// ASCII, so the last byte is below 0xff).
	end := prefix[:len(prefix)-1] + string(rune(prefix[len(prefix)-1]+1))
	rows, err := tx.QueryContext(ctx, "SELECT k FROM govlog_state WHERE log = ? AND k >= ? AND k < ? ORDER BY k LIMIT ?", log, prefix, end, limit)
	if err != nil {
		return 0, fmt.Errorf("couldn't read state to delete: %w", err)
	}
	args := []any{log}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return 0, err
		}
		args = append(args, k)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	n := len(args) - 1
	if n == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("DELETE FROM govlog_state WHERE log = ? AND k IN (%s)", placeholders(n, 1)), args...); err != nil {
		return 0, fmt.Errorf("couldn't delete state: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return n, nil
}

// Read implements storage.AdmissionStore. The transaction is read-only: on
// MySQL/MariaDB, at the REPEATABLE READ that mysql.Open sets on every
// connection, its reads are consistent nonlocking reads of the snapshot
// taken at the first one; on
// SQLite, a deferred BEGIN (modernc.org/sqlite ignores _txlock=immediate
// for read-only transactions) reads one snapshot of the WAL without the
// write lock.
func (s *Store) Read(ctx context.Context, log string, fn func(context.Context, storage.ReadTx) error) error {
	sqlTx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("couldn't begin read transaction: %w", err)
	}
	defer sqlTx.Rollback()
	return fn(ctx, &readTx{tx: sqlTx, log: log})
}

type readTx struct {
	tx  *sql.Tx
	log string
}

func (t *readTx) Get(ctx context.Context, key string) ([]byte, bool, error) {
	var v []byte
	err := t.tx.QueryRowContext(ctx, getStateSQL, t.log, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("couldn't read state %q: %w", key, err)
	}
	return v, true, nil
}

func (t *readTx) LookupOutbox(ctx context.Context, hashes [][32]byte) (map[[32]byte]storage.OutboxEntry, error) {
	found := map[[32]byte]storage.OutboxEntry{}
	if err := lookupOutbox(ctx, t.tx, t.log, hashes, found); err != nil {
		return nil, err
	}
	return found, nil
}

// scanPage is how many rows Scan reads per query.
const scanPage = 256

// Scan reads the keys in pages of scanPage rows, one query each, and calls
// fn only between queries, with no result set open: go-sql-driver/mysql
// can't run a statement on a connection while another's rows are being
// read, so fn could not call Get if it ran inside a result set. The pages
// are all read in the transaction's one snapshot (REPEATABLE READ on
// MySQL, one read transaction of the WAL on SQLite), so they fit together
// as one read would. Keys are bound as strings: on SQLite a TEXT column
// compares with text bytewise (the BINARY collation) but sorts every BLOB
// after every text; on MySQL k is VARBINARY, compared byte for byte.
func (t *readTx) Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error {
	if prefix == "" {
		return errors.New("state scan with an empty prefix")
	}
	end, bounded := prefixEnd(prefix)
	lower, from := ">=", prefix
	for {
		q := "SELECT k, v FROM govlog_state WHERE log = ? AND k " + lower + " ?"
		args := []any{t.log, from}
		if bounded {
			q += " AND k < ?"
			args = append(args, end)
		}
		q += " ORDER BY k LIMIT ?"
		args = append(args, scanPage)
		page, err := t.scanPage(ctx, q, args)
		if err != nil {
			return fmt.Errorf("couldn't scan state under %q: %w", prefix, err)
		}
		for _, r := range page {
			if err := fn(r.k, r.v); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		lower, from = ">", page[len(page)-1].k
	}
}

type stateRow struct {
	k string
	v []byte
}

func (t *readTx) scanPage(ctx context.Context, q string, args []any) ([]stateRow, error) {
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := make([]stateRow, 0, scanPage)
	for rows.Next() {
		var r stateRow
		if err := rows.Scan(&r.k, &r.v); err != nil {
			return nil, err
		}
		if r.v == nil {
			r.v = []byte{} // an empty value, as Get returns it
		}
		page = append(page, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return page, rows.Close()
}

// prefixEnd returns the least key above every key that begins with
// prefix: prefix without its trailing 0xff bytes, its last byte then
// incremented. bounded=false when prefix is all 0xff bytes, so that every
// key from prefix on begins with it.
func prefixEnd(prefix string) (end string, bounded bool) {
	b := []byte(prefix)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "", false
	}
	b[len(b)-1]++
	return string(b), true
}

// Unqueued implements storage.AdmissionStore.
func (s *Store) Unqueued(ctx context.Context, log string, limit int) ([]storage.OutboxEntry, error) {
	if limit <= 0 {
		// SQLite reads LIMIT -1 as no limit, and MySQL refuses it.
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, unqueuedSQL, log, limit)
	if err != nil {
		return nil, fmt.Errorf("couldn't read outbox: %w", err)
	}
	return scanOutbox(rows)
}

// MarkQueued implements storage.AdmissionStore.
func (s *Store) MarkQueued(ctx context.Context, log string, indexes []uint64) error {
	for len(indexes) > 0 {
		n := min(len(indexes), rowsPerStatement)
		args := []any{log}
		for _, i := range indexes[:n] {
			args = append(args, i)
		}
		if _, err := s.db.ExecContext(ctx, fmt.Sprintf(markQueuedSQL, placeholders(n, 1)), args...); err != nil {
			return fmt.Errorf("couldn't mark leaves queued: %w", err)
		}
		indexes = indexes[n:]
	}
	return nil
}

// RemoveIntegrated implements storage.AdmissionStore. It reads which rows
// to remove without locking (a leaf below a published size and marked
// queued never changes again), keeps the newest row whatever it read, and
// deletes the rest by primary key, a few hundred per transaction: on MySQL
// it locks only those rows, never the newest, which admissions lock to
// count the next index, so it neither waits for admissions nor makes them
// wait. The newest row stays even when two run at once: each removes only
// rows below a row it saw committed, and rows are only ever added above
// the newest.
func (s *Store) RemoveIntegrated(ctx context.Context, log string, size uint64) (int, error) {
	removed := 0
	for {
		n, err := s.removeIntegratedOnce(ctx, log, size)
		removed += n
		if err != nil || n < rowsPerStatement {
			return removed, err
		}
	}
}

func (s *Store) removeIntegratedOnce(ctx context.Context, log string, size uint64) (int, error) {
	var newest int64
	if err := s.db.QueryRowContext(ctx, newestSQL, log).Scan(&newest); err != nil {
		return 0, fmt.Errorf("couldn't read the outbox: %w", err)
	}
	if newest < 0 {
		return 0, nil
	}
	below := min(size, uint64(newest)) // the newest stays
	rows, err := s.db.QueryContext(ctx, integratedSQL, log, below, rowsPerStatement)
	if err != nil {
		return 0, fmt.Errorf("couldn't read the outbox: %w", err)
	}
	args := []any{log}
	for rows.Next() {
		var i uint64
		if err := rows.Scan(&i); err != nil {
			rows.Close()
			return 0, fmt.Errorf("couldn't read the outbox: %w", err)
		}
		args = append(args, i)
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("couldn't read the outbox: %w", err)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("couldn't read the outbox: %w", err)
	}
	n := len(args) - 1
	if n == 0 {
		return 0, nil
	}
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf(removeSQL, placeholders(n, 1)), args...); err != nil {
		return 0, fmt.Errorf("couldn't remove integrated leaves from the outbox: %w", err)
	}
	return n, nil
}

func scanOutbox(rows *sql.Rows) ([]storage.OutboxEntry, error) {
	defer rows.Close()
	var out []storage.OutboxEntry
	for rows.Next() {
		var h, leaf []byte // leaf: NULL once removed from the outbox
		var nanos int64
		var index uint64
		if err := rows.Scan(&h, &leaf, &nanos, &index); err != nil {
			return nil, fmt.Errorf("couldn't read outbox row: %w", err)
		}
		if len(h) != 32 {
			return nil, fmt.Errorf("outbox row with a %d-byte leaf hash", len(h))
		}
		e := storage.OutboxEntry{Leaf: leaf, AdmittedAt: time.Unix(0, nanos), Index: index}
		copy(e.LeafHash[:], h)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("couldn't read outbox: %w", err)
	}
	return out, nil
}

// placeholders returns n tuples of width question marks, "(?,?),(?,?)",
// or for width 1 a plain list "?,?" for IN clauses.
func placeholders(n, width int) string {
	tuple := strings.TrimSuffix(strings.Repeat("?,", width), ",")
	if width > 1 {
		tuple = "(" + tuple + ")"
	}
	return strings.TrimSuffix(strings.Repeat(tuple+",", n), ",")
}

// CheckExistingVersion fails if db already holds govlog tables of another
// schema version, before any schema statement could fail on them with a
// less helpful error. A database without them passes.
func CheckExistingVersion(ctx context.Context, db *sql.DB, want int) error {
	var got int
	if err := db.QueryRowContext(ctx, "SELECT version FROM govlog_schema").Scan(&got); err != nil {
		return nil // no table, or no row yet: a new database
	}
	if got != want {
		return fmt.Errorf("database schema version %d, this govlog needs %d: use a new database (or data folder)", got, want)
	}
	return nil
}

// CheckSchemaVersion fails unless the govlog_schema table holds want.
func CheckSchemaVersion(ctx context.Context, db *sql.DB, want int) error {
	var got int
	if err := db.QueryRowContext(ctx, "SELECT version FROM govlog_schema").Scan(&got); err != nil {
		return fmt.Errorf("couldn't read schema version: %w", err)
	}
	if got != want {
		return fmt.Errorf("database schema version %d, this govlog needs %d", got, want)
	}
	return nil
}
