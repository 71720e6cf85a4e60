// Package sqlitefile opens the small SQLite files that the witness and the
// monitor each keep (pure Go, modernc.org/sqlite) and gives them a
// versioned schema: WAL, synchronous=FULL and a busy timeout, so a write
// that returned is on disk, and one writer connection.
package sqlitefile

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Memory is the path of a private in-memory database, lost on Close.
const Memory = ":memory:"

const busyTimeout = "busy_timeout(10000)" // milliseconds

// Open opens (creating if needed) the database at path, or a private
// in-memory one for Memory, with one connection: SQLite has one writer
// anyway, and an in-memory database exists only inside its connection.
func Open(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", busyTimeout)
	if path != Memory {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("couldn't open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// OpenReader opens conns read-only connections to the file at path (not
// Memory), which in WAL mode read the last commit while the writer works.
func OpenReader(path string, conns int) (*sql.DB, error) {
	q := url.Values{}
	q.Add("mode", "ro")
	q.Add("_pragma", busyTimeout)
	q.Add("_pragma", "query_only(1)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("couldn't open %s for reading: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	return db, nil
}

// EnsureSchema runs the schema scripts (CREATE ... IF NOT EXISTS), which
// must create the table <name>_schema (version INTEGER), records version
// in it on first use, and fails if it holds another: a file written by
// another version of govlog is refused rather than misread.
func EnsureSchema(ctx context.Context, db *sql.DB, name string, version int, scripts ...string) error {
	for _, s := range scripts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("couldn't create the %s schema: %w", name, err)
		}
	}
	table := name + "_schema"
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		return fmt.Errorf("couldn't read the schema version: %w", err)
	}
	if n == 0 {
		if _, err := db.ExecContext(ctx, "INSERT INTO "+table+" (version) VALUES (?)", version); err != nil {
			return fmt.Errorf("couldn't write the schema version: %w", err)
		}
	}
	var v int
	if err := db.QueryRowContext(ctx, "SELECT version FROM "+table).Scan(&v); err != nil {
		return fmt.Errorf("couldn't read the schema version: %w", err)
	}
	if v != version {
		return fmt.Errorf("%s schema version %d, this govlog knows %d", name, v, version)
	}
	return nil
}
