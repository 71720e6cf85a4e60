package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/witness"
	"github.com/govlog/govlog/witness/sqlstore"
	"github.com/govlog/govlog/witness/witnesstest"
)

// checkpointReader serves one signed checkpoint (or fails), for a log
// whose entries the test never needs: a monitor at size 0 reads none.
type checkpointReader struct {
	signed []byte
	err    atomic.Pointer[error]
	calls  atomic.Int64
}

func (r *checkpointReader) Checkpoint(context.Context, string) ([]byte, error) {
	r.calls.Add(1)
	if err := r.err.Load(); err != nil {
		return nil, *err
	}
	return r.signed, nil
}

func (r *checkpointReader) Entries(context.Context, string, uint64, uint64) ([][]byte, error) {
	return nil, errors.New("no entries")
}

func (r *checkpointReader) ConsistencyProof(context.Context, string, uint64, uint64) ([][]byte, error) {
	return nil, errors.New("no proofs")
}

func (r *checkpointReader) fail(err error) { r.err.Store(&err) }

// syncBuffer is a log output the monitor's goroutines may write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) count(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), substr)
}

// newSplitWitness runs a real witness (SQLite store, HTTP handler) of log
// l that has seen l sign two checkpoints of size 5 with different roots,
// and returns its URL and the evidence it holds.
func newSplitWitness(t *testing.T, l *witnesstest.Log) (*httptest.Server, witness.EvidenceRecord, string) {
	t.Helper()
	ctx := context.Background()
	skey, vkey, err := govlog.GenerateCosignerKey(nil, "witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	cosigner, err := govlog.NewCosigner(skey, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlstore.Open(ctx, t.TempDir()+"/witness.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	w, err := witness.New(ctx, witness.Options{Cosigner: cosigner, Logs: map[string]note.Verifier{l.Origin: l.Verifier}, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddCheckpoint(ctx, 0, nil, l.Checkpoint(5)); err != nil {
		t.Fatal(err)
	}
	evil := l.Fork(3, "evil")
	if _, err := w.AddCheckpoint(ctx, 5, nil, evil.Checkpoint(5)); err == nil {
		t.Fatal("the witness cosigned a second root for size 5")
	}
	evidence, err := w.Evidence(ctx)
	if err != nil || len(evidence) != 1 {
		t.Fatalf("witness evidence = %d records, %v; want 1", len(evidence), err)
	}
	srv := httptest.NewServer(witness.NewHandler(w))
	t.Cleanup(srv.Close)
	return srv, evidence[0], vkey
}

// TestSplitViewEvidence: a witness named in the log's policy holds evidence
// that the log signed two roots for one size; the monitor, which itself
// saw nothing wrong, reads and verifies it and raises one split_view alert
// (dashboard, webhook); a later pass raises nothing new; a witness that
// stops answering is shown unreachable on the dashboard, logged once, and
// is no alert.
func TestSplitViewEvidence(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	l := witnesstest.NewLog(t, testOrigin)
	srv, evidence, witnessVKey := newSplitWitness(t, l)

	text, err := govlog.FormatPolicy([]string{l.VKey}, []govlog.PolicyWitness{{Name: "witness.example/w1", VKey: witnessVKey, URL: srv.URL}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := govlog.ParsePolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	hooked := make(chan monitor.AlertJSON, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var a monitor.AlertJSON
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		hooked <- a
	}))
	defer hook.Close()
	var logs syncBuffer
	var alerts []monitor.Alert
	mon, err := monitor.New(monitor.Options{
		Logs: []monitor.Log{{Name: "disclosures", Origin: testOrigin, Policy: policy,
			Reader: &checkpointReader{signed: l.Checkpoint(0)}, Domain: disclosures.New(), Registry: w.registry}},
		Store:    openStore(t, monitor.Memory),
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
		Webhooks: []string{hook.URL},
		OnAlert:  func(a monitor.Alert) { alerts = append(alerts, a) },
	})
	if err != nil {
		t.Fatal(err)
	}
	// Run's first pass (the next is 30s away) finds it and delivers the
	// webhook.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { mon.Run(runCtx); close(done) }()
	var got monitor.AlertJSON
	select {
	case got = <-hooked:
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook for the split view")
	}
	stop()
	<-done

	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1 split_view: %+v", len(alerts), alerts)
	}
	a := alerts[0]
	if a.Kind != monitor.KindSplitView || a.Log != testOrigin || !strings.Contains(a.Message, srv.URL) {
		t.Errorf("alert = %s on %s: %q", a.Kind, a.Log, a.Message)
	}
	var ev monitor.Evidence
	if err := json.Unmarshal(a.Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ev.SplitView, evidence.File) || len(ev.Checkpoints) != 2 {
		t.Errorf("alert evidence: %d checkpoints, split_view matches the witness's file: %v", len(ev.Checkpoints), bytes.Equal(ev.SplitView, evidence.File))
	}
	if _, _, _, err := witness.VerifyEvidence(ev.SplitView, l.Verifier); err != nil {
		t.Errorf("the alert's evidence file doesn't verify with the witness package: %v", err)
	}
	if got.ID != a.ID() || got.Kind != monitor.KindSplitView {
		t.Errorf("webhook delivered %s %s, want %s %s", got.Kind, got.ID, monitor.KindSplitView, a.ID())
	}
	st := mon.Witnesses()[0]
	if st.URL != srv.URL || st.Unreachable != "" || st.SplitViews != 1 || st.Refused != 0 {
		t.Errorf("witness status = %+v", st)
	}
	page := dashboardPage(t, mon)
	for _, want := range []string{srv.URL, "answered", `<span class="alert">1</span>`, string(monitor.KindSplitView)} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}

	// Nothing new on the next pass; then the witness goes away.
	if err := mon.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	for range 5 {
		if err := mon.Follow(ctx); err != nil {
			t.Fatalf("an unreachable witness failed the pass: %v", err)
		}
	}
	if len(alerts) != 1 {
		t.Errorf("%d alerts after more passes, want still 1", len(alerts))
	}
	st = mon.Witnesses()[0]
	if st.Unreachable == "" || st.FailingSince.IsZero() || st.SplitViews != 1 {
		t.Errorf("witness status after it went away = %+v", st)
	}
	if page := dashboardPage(t, mon); !strings.Contains(page, `class="unreachable"`) {
		t.Error("the dashboard doesn't show the witness unreachable")
	}
	if n := logs.count("couldn't read a witness's evidence"); n != 1 {
		t.Errorf("the unreachable witness was logged %d times in 5 passes, want once", n)
	}
}

// TestWitnessEvidenceThatDoesNotVerify: a witness (a hand-written one)
// serving evidence against the log that does not verify, and junk against a
// log the monitor does not follow, raises no alert; the dashboard counts
// the refused file, fetched once.
func TestWitnessEvidenceThatDoesNotVerify(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	l := witnesstest.NewLog(t, testOrigin)
	other := witnesstest.NewLog(t, testOrigin) // same origin, another key: not the log's
	forged := witness.Evidence{First: other.Checkpoint(4), Second: other.Fork(2, "b").Checkpoint(4)}
	file := forged.Marshal()
	var fetches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/evidence":
			io.WriteString(rw, forged.ID()+" same-size 2026-12-01T00:00:00Z "+testOrigin+"\n")
			io.WriteString(rw, strings.Repeat("ab", 32)+" same-size 2026-12-01T00:00:00Z gov.example/unfollowed\n")
		case "/evidence/" + forged.ID():
			fetches.Add(1)
			rw.Write(file)
		default:
			http.NotFound(rw, r)
		}
	}))
	defer srv.Close()
	policy := logPolicy(t, l)
	var alerts []monitor.Alert
	mon, err := monitor.New(monitor.Options{
		Logs: []monitor.Log{{Name: "disclosures", Origin: testOrigin, Policy: policy,
			Reader: &checkpointReader{signed: l.Checkpoint(0)}, Domain: disclosures.New(), Registry: w.registry}},
		Store:     openStore(t, monitor.Memory),
		Witnesses: []string{srv.URL + "/"},
		OnAlert:   func(a monitor.Alert) { alerts = append(alerts, a) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := mon.Follow(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(alerts) != 0 {
		t.Errorf("alerts for evidence that doesn't verify: %+v", alerts)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("the refused file was fetched %d times in 3 passes, want once", n)
	}
	if st := mon.Witnesses(); len(st) != 1 || st[0].URL != srv.URL || st[0].Refused != 1 || st[0].SplitViews != 0 || st[0].Unreachable != "" {
		t.Errorf("witness status = %+v", st)
	}
}

// TestStuckLogLogsOnce: a log whose server keeps failing is logged when it
// starts failing, not at every pass (Run, at a short interval, makes many),
// again when the failure changes, and once when it recovers.
func TestStuckLogLogsOnce(t *testing.T) {
	w := newWorld(t)
	l := witnesstest.NewLog(t, testOrigin)
	policy := logPolicy(t, l)
	r := &checkpointReader{signed: l.Checkpoint(0)}
	r.fail(errors.New("connection refused"))
	var logs syncBuffer
	mon, err := monitor.New(monitor.Options{
		Logs: []monitor.Log{{Name: "disclosures", Origin: testOrigin, Policy: policy,
			Reader: r, Domain: disclosures.New(), Registry: w.registry}},
		Store:    openStore(t, monitor.Memory),
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
		Interval: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { mon.Run(ctx); close(done) }()
	passes := func(n int64) {
		t.Helper()
		target := r.calls.Load() + n
		waitFor(t, func() bool { return r.calls.Load() >= target })
	}
	const failed, recovered = "pass over a log failed", "pass over a log succeeds again"
	passes(30)
	if n := logs.count(failed); n != 1 {
		t.Errorf("30 failing passes logged %d failures, want 1", n)
	}
	r.fail(errors.New("deadline exceeded"))
	passes(30)
	if n := logs.count(failed); n != 2 {
		t.Errorf("after the failure changed: %d failures logged, want 2", n)
	}
	r.err.Store(nil)
	passes(30)
	stop()
	<-done
	if n := logs.count(recovered); n != 1 {
		t.Errorf("30 good passes after the failure logged %d recoveries, want 1", n)
	}
	if n := logs.count(failed); n != 2 {
		t.Errorf("%d failures logged in all, want 2", n)
	}
}

// logPolicy is a policy that trusts l's key and needs no witness.
func logPolicy(t *testing.T, l *witnesstest.Log) *govlog.Policy {
	t.Helper()
	text, err := govlog.FormatPolicy([]string{l.VKey}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := govlog.ParsePolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFor polls cond until it holds, failing the test after a long while.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 30s")
		}
		time.Sleep(time.Millisecond)
	}
}

func dashboardPage(t *testing.T, mon *monitor.Monitor) string {
	t.Helper()
	rec := httptest.NewRecorder()
	mon.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("dashboard: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}
