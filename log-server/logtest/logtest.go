// Package logtest runs Trillian in process for tests, the way cmd/govlog
// wires it, on one of two backends:
//
//   - "sqlite": Trillian and the admission store sharing one SQLite file
//     (storage/sqlite), the store reading through its own read-only
//     connections, what `govlog dev` uses;
//   - "mysql": Trillian and the admission store sharing one fresh
//     MySQL/MariaDB database from storage/mysql/mysqltest, which skips the
//     test unless GOVLOG_TEST_MYSQL_DSN names a server.
//
// [Each] runs a test on both, so one test body covers both backends. Every
// resource is released by t.Cleanup.
package logtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"flag"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"k8s.io/klog/v2"

	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/storage"
	"github.com/govlog/govlog/storage/mysql"
	"github.com/govlog/govlog/storage/mysql/mysqltest"
	"github.com/govlog/govlog/storage/sqlite"
)

// Options configures a Backend.
type Options struct {
	// SequencerInterval is Trillian's sequencer interval. Default 20ms, so
	// that a test waiting for inclusion waits little.
	SequencerInterval time.Duration
	// MySQLMaxOpenConns caps the MySQL connection pool shared by Trillian
	// and the admission store. Default 32: several tests run at once
	// against one server, which allows 151 connections by default.
	MySQLMaxOpenConns int
}

// Backend is one running in-process Trillian and the admission store that
// goes with it.
type Backend struct {
	// Name is "sqlite" or "mysql".
	Name     string
	Trillian *logserver.Trillian
	// Store is the personalities' state and outbox store.
	Store storage.AdmissionStore
	// DB is the database behind Store and Trillian.
	DB *sql.DB
}

// Each runs f as the subtests "sqlite" and "mysql" (the latter skipped
// unless mysqltest is enabled). Each subtest gets its own Backend.
func Each(t *testing.T, opts Options, f func(t *testing.T, b *Backend)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { f(t, SQLite(t, opts)) })
	t.Run("mysql", func(t *testing.T) { f(t, MySQL(t, opts)) })
}

// SQLite starts Trillian on a fresh SQLite file, shared with the admission
// store, whose reads use a reader of their own as cmd/govlog's do.
func SQLite(t testing.TB, opts Options) *Backend {
	t.Helper()
	quietKlog()
	path := filepath.Join(t.TempDir(), "govlog.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("couldn't open SQLite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	reader, err := sqlite.OpenReader(t.Context(), path)
	if err != nil {
		t.Fatalf("couldn't open SQLite for reading: %v", err)
	}
	t.Cleanup(func() { reader.Close() })
	admin, logStorage := sqlite.TrillianStorage(db)
	b := &Backend{Name: "sqlite", Store: sqlite.NewAdmissionStore(db, reader), DB: db}
	b.Trillian = start(t, opts, logserver.TrillianOptions{AdminStorage: admin, LogStorage: logStorage})
	return b
}

// MySQL starts Trillian on a fresh MySQL/MariaDB database, shared with the
// admission store. It skips t unless GOVLOG_TEST_MYSQL_DSN is set.
func MySQL(t testing.TB, opts Options) *Backend {
	t.Helper()
	quietKlog()
	dsn := mysqltest.DSN(t)
	conns := opts.MySQLMaxOpenConns
	if conns <= 0 {
		conns = 32
	}
	db, err := mysql.Open(t.Context(), dsn, mysql.Options{MaxOpenConns: conns})
	if err != nil {
		t.Fatalf("couldn't open MySQL: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	admin, logStorage := mysql.TrillianStorage(db)
	b := &Backend{Name: "mysql", Store: mysql.NewAdmissionStore(db), DB: db}
	b.Trillian = start(t, opts, logserver.TrillianOptions{AdminStorage: admin, LogStorage: logStorage})
	return b
}

func start(t testing.TB, opts Options, topts logserver.TrillianOptions) *logserver.Trillian {
	t.Helper()
	topts.SequencerInterval = opts.SequencerInterval
	if topts.SequencerInterval <= 0 {
		topts.SequencerInterval = 20 * time.Millisecond
	}
	trill, err := logserver.StartTrillian(topts)
	if err != nil {
		t.Fatalf("couldn't start Trillian: %v", err)
	}
	t.Cleanup(func() { trill.Close() })
	return trill
}

// LogKey is a log's note key pair.
type LogKey struct {
	Signer   note.Signer
	Verifier note.Verifier
	// VKey is the verifier key in its text form, for policies.
	VKey string
}

// NewLogKey generates a note key named origin.
func NewLogKey(t testing.TB, origin string) LogKey {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatalf("couldn't generate key: %v", err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return LogKey{Signer: s, Verifier: v, VKey: vkey}
}

// OpenLog opens (creating on first use) the log origin with key and
// publishes its checkpoints until t ends. PollInterval defaults to 10ms.
func (b *Backend) OpenLog(t testing.TB, key LogKey, mmd time.Duration) *logserver.Log {
	t.Helper()
	l, err := b.Trillian.OpenLog(t.Context(), logserver.LogOptions{
		Origin: key.Signer.Name(), Signer: key.Signer, MMD: mmd, PollInterval: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("couldn't open log %s: %v", key.Signer.Name(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("log %s: Run: %v", key.Signer.Name(), err)
		}
	})
	return l
}

var klogOnce sync.Once

// quietKlog silences klog, through which Trillian reports routine events
// every sequencer pass.
func quietKlog() {
	klogOnce.Do(func() {
		fs := flag.NewFlagSet("klog", flag.ContinueOnError)
		klog.InitFlags(fs)
		_ = fs.Set("logtostderr", "false")
		_ = fs.Set("alsologtostderr", "false")
		_ = fs.Set("stderrthreshold", "FATAL")
		klog.SetOutput(io.Discard)
	})
}
