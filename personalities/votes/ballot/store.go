package ballot

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// The issuer's store holds only what it needs to refuse a second token and
// to number its batches:
//
//   - issued(election_id, voter_id): who got a token, nothing else;
//   - batches(election_id, batch, count, leaf_hash): what it wrote to the
//     log, which is public anyway.
//
// It never holds a blinded message, a blind signature, a token, a one-time
// key, a time per voter or a batch number per voter. The blinded message is
// the only value the issuer sees that the voter's later ballot could be
// joined to (by whoever holds the voter's unblinding secret, so nobody else),
// and a time or batch per voter would narrow which ballots a voter could have
// cast (a ballot cast right after its batch reached the log). With this
// store, a leaked or subpoenaed issuer database says who asked for a token
// and how many tokens each batch held, and nothing joins a voter to a
// ballot.
//
// issued is a WITHOUT ROWID table, stored in (election_id, voter_id) order:
// an ordinary table's rowid would record the order voters were served, and
// with the batches' counts, each voter's batch. The journal is the rollback
// kind (a WAL file would keep recent rows in arrival order) and secure_delete
// overwrites deleted rows. What is left is the file's page layout, which may
// still hint at the order of insertion to a forensic reader of the file.
const schema = `
CREATE TABLE IF NOT EXISTS issued (
	election_id TEXT NOT NULL,
	voter_id    TEXT NOT NULL,
	PRIMARY KEY (election_id, voter_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
	election_id TEXT NOT NULL,
	batch       INTEGER NOT NULL,
	count       INTEGER NOT NULL,
	leaf_hash   TEXT NOT NULL,
	PRIMARY KEY (election_id, batch)
) WITHOUT ROWID;
`

// store is the issuer's SQLite store.
type store struct {
	db *sql.DB
}

func openStore(path string) (*store, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(DELETE)")
	q.Add("_pragma", "secure_delete(ON)")
	q.Add("_pragma", "synchronous(FULL)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("couldn't open the issuer store %s: %w", path, err)
	}
	// One writer, and the batch transaction spans the log submission: one
	// connection serializes everything without SQLITE_BUSY.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("couldn't set up the issuer store %s: %w", path, err)
	}
	return &store{db: db}, nil
}

func (s *store) close() error { return s.db.Close() }

// hasToken reports whether voter got a token for election.
func (s *store) hasToken(ctx context.Context, election, voter string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM issued WHERE election_id = ? AND voter_id = ?`, election, voter).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// recordBatch records, in one transaction, that voters got a token for
// election in the next batch, calls submit with that batch's number, and
// commits only if submit succeeds: a failed submission leaves no mark.
func (s *store) recordBatch(ctx context.Context, election string, voters []string, submit func(batch int64) ([32]byte, error)) (batch int64, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(batch), 0) + 1 FROM batches WHERE election_id = ?`, election).Scan(&batch); err != nil {
		return 0, err
	}
	for _, v := range voters {
		if _, err := tx.ExecContext(ctx, `INSERT INTO issued (election_id, voter_id) VALUES (?, ?)`, election, v); err != nil {
			return 0, fmt.Errorf("couldn't record a token: %w", err)
		}
	}
	leaf, err := submit(batch)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO batches (election_id, batch, count, leaf_hash) VALUES (?, ?, ?, ?)`,
		election, batch, len(voters), hex.EncodeToString(leaf[:])); err != nil {
		return 0, err
	}
	return batch, tx.Commit()
}
