// Package logtest runs Trillian in process for tests, the way cmd/govlog
// wires it, on one of two backends:
//
//   - "memory": Trillian's memory storage and an in-memory SQLite admission
//     store (storage/sqlite), what `govlog dev` uses without --mysql;
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
	"sync"
	"testing"
	"time"

	"github.com/google/trillian"
	"github.com/google/trillian/monitoring"
	tstorage "github.com/google/trillian/storage"
	"github.com/google/trillian/storage/memory"
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
	// Name is "memory" or "mysql".
	Name     string
	Trillian *logserver.Trillian
	// Store is the personalities' state and outbox store.
	Store storage.AdmissionStore
	// DB is the database behind Store (and Trillian, on MySQL).
	DB *sql.DB
}

// Each runs f as the subtests "memory" and "mysql" (the latter skipped
// unless mysqltest is enabled). Each subtest gets its own Backend.
func Each(t *testing.T, opts Options, f func(t *testing.T, b *Backend)) {
	t.Helper()
	t.Run("memory", func(t *testing.T) { f(t, Memory(t, opts)) })
	t.Run("mysql", func(t *testing.T) { f(t, MySQL(t, opts)) })
}

// Memory starts Trillian on its memory storage, with an in-memory SQLite
// admission store.
func Memory(t testing.TB, opts Options) *Backend {
	t.Helper()
	quietKlog()
	db, err := sqlite.Open(t.Context(), sqlite.Memory)
	if err != nil {
		t.Fatalf("couldn't open in-memory SQLite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	ts := memory.NewTreeStorage()
	b := &Backend{Name: "memory", Store: sqlite.NewAdmissionStore(db), DB: db}
	b.Trillian = start(t, opts, logserver.TrillianOptions{
		AdminStorage: memory.NewAdminStorage(ts),
		LogStorage:   &serialSnapshots{LogStorage: memory.NewLogStorage(ts, monitoring.InertMetricFactory{})},
	})
	return b
}

// serialSnapshots works around a data race in Trillian v1.8.0's memory
// storage (storage/memory/tree_storage.go): read-only transactions run
// side by side under the tree's read lock, yet each one clones the shared
// btree in beginTreeTX (btree.Clone writes to the tree it clones) and
// Commit replaces tree.store. Taking read-only transactions one at a time
// removes the race; writers already hold the tree's write lock.
type serialSnapshots struct {
	tstorage.LogStorage
	mu sync.Mutex
}

func (s *serialSnapshots) SnapshotForTree(ctx context.Context, tree *trillian.Tree) (tstorage.ReadOnlyLogTreeTX, error) {
	s.mu.Lock()
	tx, err := s.LogStorage.SnapshotForTree(ctx, tree)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	return &serialTX{ReadOnlyLogTreeTX: tx, done: sync.OnceFunc(s.mu.Unlock)}, nil
}

type serialTX struct {
	tstorage.ReadOnlyLogTreeTX
	done func()
}

func (t *serialTX) Commit(ctx context.Context) error {
	defer t.done()
	return t.ReadOnlyLogTreeTX.Commit(ctx)
}

func (t *serialTX) Close() error {
	defer t.done()
	return t.ReadOnlyLogTreeTX.Close()
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
