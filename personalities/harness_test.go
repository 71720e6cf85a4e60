package personalities_test

// The harness every integration test of the admission server uses: the real
// in-process Trillian (log-server/logtest, on SQLite and, when
// GOVLOG_TEST_MYSQL_DSN is set, on MariaDB), the real disclosures rules, a
// registry of test agencies, and the Server behind a real gRPC server on an
// in-memory connection, configured as cmd/govlog/node.go configures it.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/storage"
)

const (
	logName = disclosures.LogName
	origin  = "gov.example/disclosures"
	testMMD = 5 * time.Minute
)

// Agencies of the test registry.
const (
	cityA   = "city-a"  // discloser; one active key, one revoked
	cityB   = "city-b"  // discloser
	auditor = "auditor" // registered, but without the discloser role
)

// keys are the test signers. "stranger" is in no registry entry; "impostor"
// is named like city-a's key but is not one of its keys.
type keys struct {
	a, aRevoked, b, auditor, stranger, impostor key
}

// harness is one log and its admission server.
type harness struct {
	t       *testing.T
	backend *logtest.Backend
	logKey  logtest.LogKey
	log     *logserver.Log
	keys    keys
	reg     *registry.Registry
	domain  rule.Domain
	policy  *govlog.Policy
	store   *countingStore
	srv     *personalities.Server
	served  personalities.Log // the log the server writes to: h.log, or its wrapper
	client  api.LogClient
	stop    func() // stops srv and its gRPC server; idempotent
	logs    *syncBuffer
	logger  *slog.Logger
}

// syncBuffer collects the server's log, shown when a test fails.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harnessOptions lets a test wrap the log or the store with fault injection.
type harnessOptions struct {
	wrapLog   func(*logserver.Log) personalities.Log
	wrapStore func(storage.AdmissionStore) storage.AdmissionStore
	now       func() time.Time
	backend   logtest.Options
	// domain replaces the disclosures rules.
	domain rule.Domain
}

// eachBackend runs f on SQLite and (if enabled) on MariaDB, each
// with a fresh log.
func eachBackend(t *testing.T, opts harnessOptions, f func(t *testing.T, h *harness)) {
	t.Helper()
	logtest.Each(t, opts.backend, func(t *testing.T, b *logtest.Backend) {
		f(t, newHarness(t, b, opts))
	})
}

func newHarness(t *testing.T, b *logtest.Backend, opts harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t, backend: b, logKey: logtest.NewLogKey(t, origin)}
	h.log = b.OpenLog(t, h.logKey, testMMD)
	h.keys = keys{
		a: newSigner(t, cityA), aRevoked: newSigner(t, cityA), b: newSigner(t, cityB),
		auditor: newSigner(t, auditor), stranger: newSigner(t, "stranger"), impostor: newSigner(t, cityA),
	}
	var err error
	h.reg, err = registry.New(registry.File{Agencies: []registry.Agency{
		{ID: cityA, Name: "City A", Roles: []string{disclosures.RoleDiscloser}, Keys: []registry.Key{
			{VKey: h.keys.a.vkey}, {VKey: h.keys.aRevoked.vkey, Revoked: true},
		}},
		{ID: cityB, Name: "City B", Roles: []string{disclosures.RoleDiscloser}, Keys: []registry.Key{{VKey: h.keys.b.vkey}}},
		{ID: auditor, Name: "Auditor", Roles: []string{"auditor"}, Keys: []registry.Key{{VKey: h.keys.auditor.vkey}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := govlog.FormatPolicy([]string{h.logKey.VKey}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if h.policy, err = govlog.ParsePolicy(policy); err != nil {
		t.Fatal(err)
	}
	var store storage.AdmissionStore = b.Store
	if opts.wrapStore != nil {
		store = opts.wrapStore(store)
	}
	h.store = &countingStore{AdmissionStore: store}
	h.logs = &syncBuffer{}
	h.logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", h.logs.String())
		}
	})
	var l personalities.Log = h.log
	if opts.wrapLog != nil {
		l = opts.wrapLog(h.log)
	}
	h.served = l
	h.domain = opts.domain
	if h.domain == nil {
		h.domain = disclosures.New()
	}
	h.serve(l, opts.now)
	return h
}

// serve starts an admission server for l on h's store, as h.srv, with
// h.client connected to it through gRPC. It stops when t ends, or at
// h.stop. A test that calls serve again gets a server on the same store,
// as after a restart.
func (h *harness) serve(l personalities.Log, now func() time.Time) {
	t := h.t
	srv, err := personalities.NewServer(personalities.Options{
		Store: h.store,
		// Not h.store: tests count and hold admissions, not the index's
		// transactions.
		SearchStore:   h.backend.Store,
		Registry:      h.reg,
		Personalities: map[string]personalities.Personality{logName: {Domain: h.domain, Log: l}},
		WaitTimeout:   20 * time.Second,
		Now:           now,
		Logger:        h.logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	h.client, h.stop = startServer(t, srv)
}

// startServer runs srv and a gRPC server for it, as cmd/govlog does, until
// t ends or stop is called, and returns a client of it.
func startServer(t testing.TB, srv *personalities.Server) (client api.LogClient, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()

	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(personalities.MaxMessageSize))
	api.RegisterLogServer(gs, srv)
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(16<<20)))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			conn.Close()
			gs.Stop()
			if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				t.Errorf("gRPC Serve: %v", err)
			}
			cancel()
			if err := <-ran; err != nil {
				t.Errorf("Server.Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return api.NewLogClient(conn), stop
}

// key is a test signer with its verifier key, for the registry.
type key struct {
	note.Signer
	vkey string
}

func newSigner(t testing.TB, name string) key {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return key{Signer: s, vkey: vkey}
}

// publish returns a valid disclosure.publish body for docID.
func publish(docID string) disclosures.PublishBody {
	sum := sha256.Sum256([]byte("document " + docID))
	return disclosures.PublishBody{
		DocID:        docID,
		Title:        "Minutes of " + docID,
		SHA256:       hex.EncodeToString(sum[:]),
		Category:     "minutes",
		DecisionDate: "2026-03-07",
	}
}

// correct returns a valid disclosure.correct body: newID corrects docID.
func correct(docID, newID string) disclosures.CorrectBody {
	return disclosures.CorrectBody{Corrects: docID, PublishBody: publish(newID), Reason: "the attendance list was incomplete"}
}

// statementFor signs a statement of type typ with body for the log origin
// o, made at time at.
func statementFor(t testing.TB, o, typ string, at time.Time, body any, signers ...note.Signer) []byte {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	st, err := govlog.NewStatement(o, typ, at, b)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := st.Sign(signers...)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// statement signs a statement for this log, made now.
func statement(t testing.TB, typ string, body any, signers ...note.Signer) []byte {
	t.Helper()
	return statementFor(t, origin, typ, time.Now(), body, signers...)
}

func (h *harness) submit(stmt []byte, wait bool) (*api.SubmitResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return h.client.Submit(ctx, &api.SubmitRequest{Log: logName, Statement: stmt, Wait: wait})
}

// mustAdmit submits stmt with wait=true and checks the answer: not a
// duplicate, a bundle that verifies against the policy and holds stmt at
// the index returned.
func (h *harness) mustAdmit(t testing.TB, stmt []byte) *api.SubmitResponse {
	t.Helper()
	resp, err := h.submit(stmt, true)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if resp.Duplicate {
		t.Errorf("Submit: Duplicate=true for a new statement")
	}
	h.checkBundle(t, resp.Bundle, stmt, uint64(resp.Index))
	if hash := govlog.LeafHash(stmt); string(resp.LeafHash) != string(hash[:]) {
		t.Errorf("LeafHash = %x, want %x", resp.LeafHash, hash)
	}
	return resp
}

// checkBundle verifies a tlog-proof bundle offline, as a journalist would.
func (h *harness) checkBundle(t testing.TB, bundle, wantEntry []byte, wantIndex uint64) *govlog.VerifiedBundle {
	t.Helper()
	vb, err := govlog.VerifyBundle(bundle, h.policy)
	if err != nil {
		t.Fatalf("VerifyBundle: %v\n%s", err, bundle)
	}
	if string(vb.Entry) != string(wantEntry) {
		t.Errorf("bundle entry differs from the statement")
	}
	if vb.Index != wantIndex {
		t.Errorf("bundle index %d, want %d", vb.Index, wantIndex)
	}
	if vb.Checkpoint.Origin != origin {
		t.Errorf("bundle checkpoint origin %q", vb.Checkpoint.Origin)
	}
	return vb
}

// checkpoint returns the latest checkpoint, verified with the log key.
func (h *harness) checkpoint(t testing.TB) govlog.Checkpoint {
	t.Helper()
	resp, err := h.client.GetCheckpoint(context.Background(), &api.GetCheckpointRequest{Log: logName})
	if err != nil {
		t.Fatalf("GetCheckpoint: %v", err)
	}
	cp, _, err := govlog.OpenCheckpoint(resp.Checkpoint, h.logKey.Verifier)
	if err != nil {
		t.Fatalf("OpenCheckpoint: %v", err)
	}
	return cp
}

// waitForSize waits until a checkpoint of at least size is published.
func (h *harness) waitForSize(t testing.TB, size uint64, timeout time.Duration) govlog.Checkpoint {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		cp := h.checkpoint(t)
		if cp.Size >= size {
			return cp
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint size %d after %s, want %d", cp.Size, timeout, size)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitForLeaf waits until the latest checkpoint includes leafHash and
// returns the inclusion proof response (with its bundle).
func (h *harness) waitForLeaf(t testing.TB, leafHash []byte, timeout time.Duration) *api.GetInclusionProofResponse {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := h.client.GetInclusionProof(context.Background(), &api.GetInclusionProofRequest{
			Log: logName, Entry: &api.GetInclusionProofRequest_LeafHash{LeafHash: leafHash},
		})
		if err == nil {
			return resp
		}
		if status.Code(err) != codes.NotFound {
			t.Fatalf("GetInclusionProof(leaf hash): %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("leaf %x not in the log after %s", leafHash, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var errReadOnly = errors.New("read-only transaction")

// inspect reads the admission store in a transaction that is rolled back.
func (h *harness) inspect(t testing.TB, f func(ctx context.Context, tx storage.AdmitTx) error) {
	t.Helper()
	err := h.backend.Store.Admit(context.Background(), logName, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := f(ctx, tx); err != nil {
			return err
		}
		return errReadOnly
	})
	if !errors.Is(err, errReadOnly) {
		t.Fatalf("couldn't inspect the store: %v", err)
	}
}

// inOutbox reports whether a leaf was ever admitted.
func (h *harness) inOutbox(t testing.TB, leaf []byte) bool {
	t.Helper()
	hash := govlog.LeafHash(leaf)
	var found bool
	h.inspect(t, func(ctx context.Context, tx storage.AdmitTx) error {
		seen, err := tx.LookupOutbox(ctx, [][32]byte{hash})
		_, found = seen[hash]
		return err
	})
	return found
}

// document returns the state record of agency's docID.
func (h *harness) document(t testing.TB, agency, docID string) (disclosures.Record, bool) {
	t.Helper()
	var rec disclosures.Record
	var ok bool
	h.inspect(t, func(ctx context.Context, tx storage.AdmitTx) error {
		var err error
		rec, ok, err = disclosures.Document(ctx, tx, agency, docID)
		return err
	})
	return rec, ok
}

// countingStore counts admission transactions, so tests can see group
// commit happen.
type countingStore struct {
	storage.AdmissionStore
	admits atomic.Int64
}

func (s *countingStore) Admit(ctx context.Context, log string, fn func(context.Context, storage.AdmitTx) error) error {
	s.admits.Add(1)
	return s.AdmissionStore.Admit(ctx, log, fn)
}

// wantCode fails t unless err carries the gRPC code want.
func wantCode(t testing.TB, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("%s: code %v (%v), want %v", what, got, err, want)
	}
	if want != codes.OK && strings.TrimSpace(status.Convert(err).Message()) == "" {
		t.Errorf("%s: %v with an empty message", what, want)
	}
}

// submitAll submits stmts, each once, from clients goroutines at once, with
// the benchmark's timer running only meanwhile; it fails b if any is not
// admitted (naming how many, and the first error), reports the rate as
// unit ("transfers/s") and returns it.
func submitAll(b *testing.B, clients int, stmts [][]byte, submit func([]byte) error, noun, unit string) float64 {
	b.Helper()
	var next, failed atomic.Int64
	var firstOnce sync.Once
	var firstErr error
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(stmts) {
					return
				}
				if err := submit(stmts[i]); err != nil {
					failed.Add(1)
					firstOnce.Do(func() { firstErr = err })
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d %s failed, the first: %v", f, noun, firstErr)
	}
	rate := float64(len(stmts)) / time.Since(start).Seconds()
	b.ReportMetric(rate, unit)
	return rate
}
