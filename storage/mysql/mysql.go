// Package mysql is govlog's production storage on MySQL/MariaDB
// (github.com/go-sql-driver/mysql): Trillian's tables, created from the
// pinned Trillian v1.8.0 schema when missing, and govlog's own state and
// outbox tables beside them in the same database.
package mysql

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/google/trillian/monitoring"
	tstorage "github.com/google/trillian/storage"
	tmysql "github.com/google/trillian/storage/mysql"

	"github.com/govlog/govlog/storage/internal/sqlstore"
)

// schemaVersion 3: every admitted leaf's hash, index and admission time in
// govlog_leaves, its bytes in the outbox only until a published checkpoint
// includes it (2: the outbox kept them all; migrated by migrateFrom2).
const schemaVersion = 3

var (
	//go:embed trillian_schema.sql
	trillianSchema string
	//go:embed schema.sql
	govlogSchema string
)

// Options configures the connection pool.
type Options struct {
	// MaxOpenConns caps connections. MariaDB allows 151 by default and
	// clients past that see errors, so the default is 64.
	MaxOpenConns int
	// ServerSidePrepare turns off client-side interpolation of arguments,
	// go-sql-driver's default (three round trips per statement instead of
	// one). Only for measuring Trillian as its own docs configure it.
	ServerSidePrepare bool
}

// Open connects to dsn (go-sql-driver format, e.g.
// "root@tcp(127.0.0.1:3306)/govlog"), creating the schema if it is missing
// and checking its version.
func Open(ctx context.Context, dsn string, opts Options) (*sql.DB, error) {
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("bad MySQL DSN: %w", err)
	}
	// Multi-statement schema files (ensureSchemaWith), and the admission
	// store's batched writes, which send several statements in one round
	// trip: turning it off on the pool cost a quarter of MySQL admission
	// throughput (govlog bench, 2026-12-05: 1,684-1,765/s against 2,297/s).
	// Arguments are interpolated by the driver, which escapes them, and no
	// query text is built from input.
	cfg.MultiStatements = true
	cfg.ParseTime = false
	// Interpolate arguments client-side: one round trip per statement
	// instead of prepare, execute and close. Trillian's per-leaf inserts
	// are most of a queue write, so this is most of its cost.
	cfg.InterpolateParams = !opts.ServerSidePrepare
	// Strict mode on every connection (Trillian asks for it too, but only
	// on the one connection that opened the pool).
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["sql_mode"] = "'STRICT_ALL_TABLES'"
	// REPEATABLE READ on every connection, whatever the server's default:
	// only at that level does an admission's locking read of a missing key
	// (or of the next index) lock the gap, so that concurrent admissions
	// take turns instead of both inserting, and is a Read one snapshot.
	// Set once per connection, as sql_mode is, not per transaction.
	variable, err := isolationVariable(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cfg.Params[variable] = "'REPEATABLE-READ'"
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("couldn't open MySQL: %w", err)
	}
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = 64
	}
	db.SetMaxOpenConns(opts.MaxOpenConns)
	db.SetMaxIdleConns(opts.MaxOpenConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("couldn't reach MySQL at %s: %w", cfg.Addr, err)
	}
	if err := ensureSchemaWith(ctx, cfg); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// ensureSchemaWith creates or checks the schema through a connection of
// its own that runs the multi-statement schema files.
func ensureSchemaWith(ctx context.Context, cfg *gomysql.Config) error {
	schemaCfg := cfg.Clone()
	schemaCfg.MultiStatements = true
	db, err := sql.Open("mysql", schemaCfg.FormatDSN())
	if err != nil {
		return fmt.Errorf("couldn't open MySQL: %w", err)
	}
	defer db.Close()
	// One connection holds the lock, one makes the schema: processes
	// starting together take turns (the version row is counted, then
	// written).
	db.SetMaxOpenConns(2)
	return Locked(ctx, db, "govlog_schema", func() error { return ensureSchema(ctx, db) })
}

// addSchemaPrimaryKey gives govlog_schema, in a database made before it had
// one, its primary key: Galera with wsrep_mode=REQUIRED_PRIMARY_KEY (or
// innodb_force_primary_key) refuses a table without.
func addSchemaPrimaryKey(ctx context.Context, db *sql.DB) error {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'govlog_schema' AND CONSTRAINT_TYPE = 'PRIMARY KEY'`).Scan(&n)
	if err != nil {
		return fmt.Errorf("couldn't read the schema: %w", err)
	}
	if n > 0 {
		return nil
	}
	if _, err := db.ExecContext(ctx, "ALTER TABLE govlog_schema ADD PRIMARY KEY (version)"); err != nil {
		return fmt.Errorf("couldn't give govlog_schema its primary key: %w", err)
	}
	return nil
}

// isolationVariable returns the name of the server's session isolation
// variable: transaction_isolation (MySQL 8, MariaDB 11.1 and later), or
// tx_isolation (older MariaDB).
func isolationVariable(ctx context.Context, cfg *gomysql.Config) (string, error) {
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return "", fmt.Errorf("couldn't open MySQL: %w", err)
	}
	defer db.Close()
	var name, value string
	err = db.QueryRowContext(ctx, "SHOW VARIABLES LIKE 'transaction_isolation'").Scan(&name, &value)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "tx_isolation", nil
	case err != nil:
		return "", fmt.Errorf("couldn't reach MySQL at %s: %w", cfg.Addr, err)
	}
	return "transaction_isolation", nil
}

func ensureSchema(ctx context.Context, db *sql.DB) error {
	if err := migrateFrom2(ctx, db); err != nil {
		return err
	}
	if err := sqlstore.CheckExistingVersion(ctx, db, schemaVersion); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, trillianSchema); err != nil {
		return fmt.Errorf("couldn't create Trillian schema: %w", err)
	}
	if _, err := db.ExecContext(ctx, govlogSchema); err != nil {
		return fmt.Errorf("couldn't create govlog schema: %w", err)
	}
	if err := addSchemaPrimaryKey(ctx, db); err != nil {
		return err
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM govlog_schema").Scan(&n); err != nil {
		return fmt.Errorf("couldn't read schema version: %w", err)
	}
	if n == 0 {
		if _, err := db.ExecContext(ctx, "INSERT INTO govlog_schema (version) VALUES (?)", schemaVersion); err != nil {
			return fmt.Errorf("couldn't write schema version: %w", err)
		}
	}
	return sqlstore.CheckSchemaVersion(ctx, db, schemaVersion)
}

// NewAdmissionStore returns the personalities' state and outbox store on a
// db from Open, whose connections run at REPEATABLE READ whatever the
// server's default isolation, as its admissions' locking and its reads'
// snapshots need. Its reads share db's pool: consistent nonlocking reads,
// which wait for no admission and make none wait.
func NewAdmissionStore(db *sql.DB) *sqlstore.Store {
	return sqlstore.New(db, nil, sqlstore.Dialect{
		ForUpdate:       " FOR UPDATE",
		ForShare:        " LOCK IN SHARE MODE",
		UpsertState:     "INSERT INTO govlog_state (log, k, v) VALUES %s ON DUPLICATE KEY UPDATE v = VALUES(v)",
		MultiStatements: true,
		Retryable:       retryable,
	})
}

// TrillianStorage returns Trillian's MySQL admin and log storage on db.
func TrillianStorage(db *sql.DB) (tstorage.AdminStorage, tstorage.LogStorage) {
	return tmysql.NewAdminStorage(db), &logStorage{LogStorage: tmysql.NewLogStorage(db, monitoring.InertMetricFactory{}), db: db}
}

// retryable: deadlocks (1213) and lock wait timeouts (1205) roll the
// transaction back and may succeed when run again.
func retryable(err error) bool {
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	return strings.Contains(err.Error(), "Deadlock found")
}
