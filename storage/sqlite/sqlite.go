// Package sqlite is govlog's embedded storage: SQLite files through
// modernc.org/sqlite (pure Go, no cgo), in WAL mode with synchronous=FULL so
// a committed admission survives a crash or power loss, and one writer per
// file at a time (write transactions BEGIN IMMEDIATE, waiting up to the
// busy timeout), each file on Open's one connection. A node keeps its
// logs' state and outbox in one file and their Trillian trees in another
// (OpenTrillian), so that admissions and Trillian's writes each have a
// writer; the public read API reads through OpenReader's read-only
// connections beside them. Open sets a 64 MiB page cache and keeps
// temporary files (statement journals of multi-row writes) in memory.
package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/govlog/govlog/storage/internal/sqlstore"
)

// schemaVersion 3: every admitted leaf's hash, index and admission time in
// govlog_leaves, its bytes in the outbox only until a published checkpoint
// includes it (2: the outbox kept them all; migrated by migrateFrom2).
const schemaVersion = 3

//go:embed schema.sql
var schema string

// Memory is the path that opens a private in-memory database, lost when the
// process exits.
const Memory = ":memory:"

// Open opens (creating if needed) the database at path, or a private
// in-memory one for Memory, and creates or checks the schema.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "cache_size(-65536)")
	q.Add("_pragma", "temp_store(MEMORY)")
	if path != Memory {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("couldn't open %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and an in-memory
	// database exists only inside its connection.
	db.SetMaxOpenConns(1)
	if err := migrateFrom2(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := sqlstore.CheckExistingVersion(ctx, db, schemaVersion); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, trillianSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("couldn't create Trillian schema in %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("couldn't create schema in %s: %w", path, err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM govlog_schema").Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("couldn't read schema version: %w", err)
	}
	if n == 0 {
		if _, err := db.ExecContext(ctx, "INSERT INTO govlog_schema (version) VALUES (?)", schemaVersion); err != nil {
			db.Close()
			return nil, fmt.Errorf("couldn't write schema version: %w", err)
		}
	}
	if err := sqlstore.CheckSchemaVersion(ctx, db, schemaVersion); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// readerConns caps OpenReader's connections. A read past it waits for one,
// which delays only other reads; the public read API runs few at a time.
const readerConns = 4

// OpenReader opens read-only connections to the database at path, which
// Open has created, for an admission store's reads. In WAL mode they read
// beside the one writer: each read transaction (a deferred BEGIN) is one
// snapshot of what was committed when it first read, and it neither waits
// for Open's connection nor makes admissions or Trillian wait for it. An
// in-memory database has no other connections: it has no reader.
func OpenReader(ctx context.Context, path string) (*sql.DB, error) {
	if path == Memory {
		return nil, errors.New("an in-memory SQLite database can't be read from other connections")
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "query_only(1)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("couldn't open %s for reading: %w", path, err)
	}
	db.SetMaxOpenConns(readerConns)
	db.SetMaxIdleConns(readerConns)
	// Without WAL, a reader's shared lock would make a committing writer
	// wait, the very thing the reader is for avoiding.
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("couldn't open %s for reading: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		db.Close()
		return nil, fmt.Errorf("%s is in journal mode %q, not WAL: open it with Open first", path, mode)
	}
	if err := sqlstore.CheckSchemaVersion(ctx, db, schemaVersion); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return db, nil
}

// NewAdmissionStore returns the personalities' state and outbox store on
// db, from Open. Its reads (Read) use reader, from OpenReader on the same
// file; with a nil reader (an in-memory database) they use db, whose one
// connection admissions then wait for while a read runs.
func NewAdmissionStore(db, reader *sql.DB) *sqlstore.Store {
	return sqlstore.New(db, reader, sqlstore.Dialect{
		UpsertState: "INSERT INTO govlog_state (log, k, v) VALUES %s ON CONFLICT (log, k) DO UPDATE SET v = excluded.v",
		Retryable:   retryable,
	})
}

func retryable(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked")) && !errors.Is(err, context.Canceled)
}
