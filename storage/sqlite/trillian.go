package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	tstorage "github.com/google/trillian/storage"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// trillianSchema holds Trillian's tables; Open creates them.
//
//go:embed trillian_schema.sql
var trillianSchema string

// TrillianStorage returns a Trillian storage provider, admin storage and log
// storage, on db, which must come from Open. It keeps Trillian's semantics
// as its MySQL provider (storage/mysql in github.com/google/trillian)
// defines them, on the one connection Open allows:
//
//   - Every transaction, read-only or not, holds that connection until it
//     is committed or closed, so transactions run one at a time and a read
//     inside a read-write transaction sees a consistent tree; no subtree
//     revisions are kept for snapshots, as with MySQL's default for new
//     trees, and each tile is rewritten in place. Callers must not start
//     a transaction while they hold another one: it would wait forever.
//   - QueueLeaves reports a leaf whose LeafIdentityHash is already in the
//     tree or its queue with codes.AlreadyExists and the stored leaf
//     (value, extra data, queue time; index and integration time once
//     sequenced, LeafIndex -1 before). MySQL returns LeafIndex -1 and a
//     placeholder MerkleLeafHash in all cases, so callers should use only
//     the leaf's data.
//   - DequeueLeaves returns the oldest queued leaves first, up to the limit
//     and not newer than the cutoff; they leave the queue only through
//     UpdateSequencedLeaves in a committed transaction.
//   - GetLeavesByRange returns at most maxLeavesPerRange leaves per call.
//   - PREORDERED_LOG trees accept AddSequencedLeaves, like MySQL's;
//     AddSequencedLeaves refuses LOG trees (codes.FailedPrecondition).
//   - Trees take no storage_settings, and log roots no metadata.
//   - A snapshot of a tree without a root (ErrTreeNeedsInit) is closed
//     before it is returned, so a caller that forgets to close it cannot
//     hold the connection.
func TrillianStorage(db *sql.DB) (tstorage.AdminStorage, tstorage.LogStorage) {
	return &adminStorage{db: db}, &logStorage{db: db, prepared: prepare(db, selectLatestHeadSQL, insertLeafSQL, insertSequencedIfNewSQL)}
}

// prepare prepares the statements every write to a tree runs, once: modernc's
// SQLite otherwise parses a statement each time it runs, and admission
// stores each leaf with two of them. A statement that does not prepare is
// left out (it is then prepared as it runs, as any other).
func prepare(db *sql.DB, queries ...string) map[string]*sql.Stmt {
	out := map[string]*sql.Stmt{}
	for _, q := range queries {
		if st, err := db.Prepare(q); err == nil {
			out[q] = st
		}
	}
	return out
}

// maxLeavesPerRange caps one GetLeavesByRange, so that no read holds the
// only connection for long.
const maxLeavesPerRange = 1024

// hashesPerStatement bounds the hashes bound in one IN (...) list.
const hashesPerStatement = 500

// placeholders returns "?,?,...,?" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// withIn returns query with its one "%s" replaced by n placeholders.
func withIn(query string, n int) string {
	return fmt.Sprintf(query, placeholders(n))
}

// blob returns b, or an empty non-nil slice for nil: the driver binds a
// nil []byte as NULL, which NOT NULL BLOB columns refuse.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func timestampFromNanos(nanos int64) *timestamppb.Timestamp {
	return timestamppb.New(time.Unix(0, nanos))
}

// TrillianPath is the file that keeps the Trillian trees of the store at
// path (see OpenTrillian): govlog.db's are in govlog.trillian.db.
func TrillianPath(path string) string { return sibling(path, "trillian") }

// SearchPath is the file of the search index beside the store at path:
// govlog.db's is govlog.search.db.
func SearchPath(path string) string { return sibling(path, "search") }

// sibling is the file beside path named with part before its extension.
func sibling(path, part string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + part + ext
}

// OpenTrillian opens the database that keeps the Trillian trees of the
// store db, opened with Open at path, and returns it with what closes it.
// The trees are kept in a file of their own (TrillianPath), so that
// Trillian's writes (leaves stored, the sequencer's integration) and
// admissions each have a writer of their own and wait for each other only
// for the disk; SQLite allows one writer per file. A store made when the
// trees were kept in its own file (db holds a tree and TrillianPath does
// not exist) keeps them there.
func OpenTrillian(ctx context.Context, db *sql.DB, path string) (*sql.DB, func(), error) {
	own := TrillianPath(path)
	if _, err := os.Stat(own); errors.Is(err, fs.ErrNotExist) {
		var trees int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM trillian_trees").Scan(&trees); err != nil {
			return nil, nil, fmt.Errorf("couldn't look for Trillian trees in %s: %w", path, err)
		}
		if trees > 0 {
			return db, func() {}, nil
		}
	}
	tdb, err := Open(ctx, own)
	if err != nil {
		return nil, nil, err
	}
	return tdb, func() { tdb.Close() }, nil
}
