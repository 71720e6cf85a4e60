// Package mysqltest gives tests a fresh, private MySQL/MariaDB database.
//
// Tests that need one call [DSN]. They run only when the environment
// variable GOVLOG_TEST_MYSQL_DSN names a server, as a go-sql-driver DSN
// without a database name:
//
//	GOVLOG_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/' go test ./storage/...
//
// Without it they skip. With it, an unreachable server fails them, so that
// CI, which sets it, cannot pass by skipping.
package mysqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
)

// EnvVar names the environment variable that enables MySQL tests.
const EnvVar = "GOVLOG_TEST_MYSQL_DSN"

// DSN creates a database named govlog_test_<random hex> on the server named
// by GOVLOG_TEST_MYSQL_DSN, drops it when t and its subtests finish, and
// returns the DSN of that database. Any database name in the variable is
// ignored. DSN skips t if the variable is unset and fails it if the server
// cannot be reached.
func DSN(t testing.TB) string {
	t.Helper()
	server := os.Getenv(EnvVar)
	if server == "" {
		t.Skipf("MySQL tests are off; set %s to a server DSN without a database name, e.g. %s='root@tcp(127.0.0.1:3306)/', to run them", EnvVar, EnvVar)
	}
	cfg, err := gomysql.ParseDSN(server)
	if err != nil {
		t.Fatalf("%s=%q is not a go-sql-driver DSN: %v", EnvVar, server, err)
	}
	cfg.DBName = ""
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("couldn't open MySQL from %s: %v", EnvVar, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Fatalf("couldn't reach MySQL at %s (from %s): %v", cfg.Addr, EnvVar, err)
	}

	var b [8]byte
	rand.Read(b[:])
	name := "govlog_test_" + hex.EncodeToString(b[:])
	// The name is ours and safe to splice: letters, digits and '_'.
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("couldn't create test database: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is already canceled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("couldn't drop test database %s: %v", name, err)
		}
		admin.Close()
	})

	cfg.DBName = name
	return cfg.FormatDSN()
}
