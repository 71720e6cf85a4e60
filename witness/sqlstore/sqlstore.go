// Package sqlstore is the witness's [witness.Store] on SQLite
// (modernc.org/sqlite, pure Go): one file per witness, in WAL mode with
// synchronous=FULL, so a checkpoint the witness cosigned is on disk before
// the cosignature leaves, and survives a crash or power loss.
//
// The witness keeps its own small file rather than sharing the log's
// database: witnesses are run by other institutions, and one process may run
// several (govlog dev). The latest checkpoint is replaced by a conditional
// UPDATE on its previous bytes (compare-and-swap), which needs no
// transaction isolation. MySQL is not offered: a witness's state is a few
// rows per log, and its operator should not need a database server.
package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/govlog/govlog/internal/sqlitefile"
	"github.com/govlog/govlog/witness"
)

const schemaVersion = 1

//go:embed schema.sql
var schema string

// SQL, beside the schema it runs on.
const (
	latestSQL         = "SELECT checkpoint FROM witness_checkpoints WHERE origin = ?"
	insertLatestSQL   = "INSERT INTO witness_checkpoints (origin, checkpoint) VALUES (?, ?) ON CONFLICT (origin) DO NOTHING"
	swapLatestSQL     = "UPDATE witness_checkpoints SET checkpoint = ? WHERE origin = ? AND checkpoint = ?"
	insertEvidenceSQL = "INSERT INTO witness_evidence (id, origin, kind, found_nanos, file) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
	selectEvidenceSQL = "SELECT id, origin, kind, found_nanos, file FROM witness_evidence ORDER BY found_nanos, id"
)

// Memory is the path of a private in-memory database, lost on Close.
const Memory = sqlitefile.Memory

// Store is a witness.Store in a SQLite database.
type Store struct {
	db *sql.DB
}

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
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

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

// Update implements witness.Store with a compare-and-swap on the previous
// bytes, retried while other writers win.
func (s *Store) Update(ctx context.Context, origin string, fn func(old []byte) ([]byte, error)) error {
	for {
		old, ok, err := s.Latest(ctx, origin)
		if err != nil {
			return err
		}
		next, err := fn(old)
		if err != nil {
			return err
		}
		if ok && bytes.Equal(next, old) {
			return nil // nothing changed: no write, no fsync
		}
		var res sql.Result
		if ok {
			res, err = s.db.ExecContext(ctx, swapLatestSQL, next, origin, old)
		} else {
			res, err = s.db.ExecContext(ctx, insertLatestSQL, origin, next)
		}
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			return nil
		}
		// Another writer changed it first: decide again on its value.
		if err := ctx.Err(); err != nil {
			return err
		}
	}
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
