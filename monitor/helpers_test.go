package monitor_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

const testOrigin = "gov.example/disclosures"

// testWorld holds real keys: the log's, and agency keys, one of them
// revoked in the registry and one not in it at all.
type testWorld struct {
	logSigner note.Signer
	policy    *govlog.Policy
	agency    note.Signer // ministry-of-finance, discloser
	revoked   note.Signer // ministry-of-finance, revoked
	rotated   note.Signer // ministry-of-finance, retired at rotatedAt
	unknown   note.Signer // city-a, not in the registry
	registry  *registry.Registry
	// agencyVKey is agency's verifier key.
	agencyVKey string
}

func newSigner(t testing.TB, name string, seed byte) (note.Signer, string) {
	t.Helper()
	r := &seeded{b: seed}
	skey, vkey, err := note.GenerateKey(r, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

// seeded is a deterministic byte source for test keys.
type seeded struct{ b byte }

func (s *seeded) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = s.b
		s.b = s.b*31 + 7
	}
	return len(p), nil
}

func newWorld(t testing.TB) *testWorld {
	t.Helper()
	w := &testWorld{}
	var logVKey, agencyVKey, revokedVKey, rotatedVKey string
	w.logSigner, logVKey = newSigner(t, testOrigin, 1)
	w.agency, agencyVKey = newSigner(t, "ministry-of-finance", 2)
	w.agencyVKey = agencyVKey
	w.revoked, revokedVKey = newSigner(t, "ministry-of-finance", 3)
	w.unknown, _ = newSigner(t, "city-a", 4)
	w.rotated, rotatedVKey = newSigner(t, "ministry-of-finance", 5)
	text, err := govlog.FormatPolicy([]string{logVKey}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if w.policy, err = govlog.ParsePolicy(text); err != nil {
		t.Fatal(err)
	}
	w.registry, err = registry.New(registry.File{Agencies: []registry.Agency{{
		ID: "ministry-of-finance", Name: "Ministry of Finance", Roles: []string{disclosures.RoleDiscloser},
		Keys: []registry.Key{{VKey: agencyVKey}, {VKey: revokedVKey, Revoked: true}, {VKey: rotatedVKey, Retired: rotatedAt}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// statements returns n valid disclosures statements signed by the agency:
// publications, then some corrections and retractions of them.
func (w *testWorld) statements(t testing.TB, n int) [][]byte {
	t.Helper()
	out := make([][]byte, 0, n)
	published := 0
	for i := range n {
		var typ string
		var body any
		pub := func(id string) disclosures.PublishBody {
			h := sha256.Sum256([]byte(id))
			return disclosures.PublishBody{DocID: id, Title: "Decision " + id, SHA256: hex.EncodeToString(h[:]),
				Category: "decision", DecisionDate: "2026-03-07"}
		}
		switch {
		case i%10 == 8 && published > 0:
			typ = disclosures.TypeCorrect
			body = disclosures.CorrectBody{PublishBody: pub(fmt.Sprintf("doc-%d-r", i)), Corrects: fmt.Sprintf("doc-%d", i-1), Reason: "typo"}
		case i%10 == 9 && published > 0:
			typ = disclosures.TypeRetract
			body = disclosures.RetractBody{Retracts: fmt.Sprintf("doc-%d", i-3), Reason: "withdrawn"}
		default:
			typ = disclosures.TypePublish
			body = pub(fmt.Sprintf("doc-%d", i))
			published++
		}
		out = append(out, w.sign(t, w.agency, typ, body))
	}
	return out
}

// statementTime is the time of the test statements.
var statementTime = time.Unix(1767225600, 0) // 2026-01-01

// rotatedAt is when the world's rotated key was retired.
var rotatedAt = statementTime.Add(30 * 24 * time.Hour)

func (w *testWorld) sign(t testing.TB, signer note.Signer, typ string, body any) []byte {
	t.Helper()
	return w.signAt(t, signer, statementTime, typ, body)
}

func (w *testWorld) signAt(t testing.TB, signer note.Signer, at time.Time, typ string, body any) []byte {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	st, err := govlog.NewStatement(testOrigin, typ, at, b)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := st.Sign(signer)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// expectedState replays leaves the way an honest admission server would
// have, into a map.
func (w *testWorld) expectedState(t testing.TB, leaves [][]byte) map[string][]byte {
	t.Helper()
	st := ruletest.State{}
	rules := disclosures.New()
	for i, leaf := range leaves {
		s, sigs, err := govlog.ParseStatement(leaf, testOrigin, w.registry.Verifiers())
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		agency, err := w.registry.Authorize(sigs, disclosures.RoleDiscloser, s.Time)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if err := rules.Apply(context.Background(), st, rule.Entry{Type: s.Type, Time: s.Time, Body: s.Body, Agency: agency, LeafHash: govlog.LeafHash(leaf)}); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	return st
}

// fakeLog is a log server under the test's control, honest or not: it
// serves the entries and checkpoints the test gives it, signed with the
// real log key, and real consistency proofs over its current entries.
type fakeLog struct {
	signer note.Signer

	mu         sync.Mutex
	leaves     [][]byte
	checkpoint []byte
	// maxBatch caps Entries like a real server.
	maxBatch uint64
	// served counts the entries served, by index.
	served map[uint64]int
	// failEntries, if set, fails every Entries call; failAt, if set, fails
	// those asking for entries at or past it.
	failEntries error
	failAt      uint64
	// swapped entries are served instead of the ones in the tree.
	swapped map[uint64][]byte
}

var _ monitor.LogReader = (*fakeLog)(nil)

func newFakeLog(signer note.Signer) *fakeLog {
	return &fakeLog{signer: signer, maxBatch: 17, served: map[uint64]int{}}
}

// append adds leaves and publishes a checkpoint of the new tree.
func (f *fakeLog) append(t testing.TB, leaves ...[]byte) []byte {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leaves = append(f.leaves, leaves...)
	f.checkpoint = f.signTree(t)
	return f.checkpoint
}

// rewrite replaces the entry at index and publishes a checkpoint of the
// forged tree, as a log operator hiding an entry would.
func (f *fakeLog) rewrite(t testing.TB, index int, leaf []byte) []byte {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leaves[index] = leaf
	f.checkpoint = f.signTree(t)
	return f.checkpoint
}

// setCheckpoint publishes signed as is.
func (f *fakeLog) setCheckpoint(signed []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkpoint = signed
}

func (f *fakeLog) tree() *testonly.Tree {
	tr := testonly.New(rfc6962.DefaultHasher)
	tr.AppendData(f.leaves...)
	return tr
}

func (f *fakeLog) signTree(t testing.TB) []byte {
	tr := f.tree()
	signed, err := govlog.SignCheckpoint(govlog.Checkpoint{Origin: f.signer.Name(), Size: tr.Size(), Hash: [32]byte(tr.Hash())}, f.signer)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func (f *fakeLog) Checkpoint(context.Context, string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checkpoint, nil
}

func (f *fakeLog) Entries(_ context.Context, _ string, start, count uint64) ([][]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failEntries != nil {
		return nil, f.failEntries
	}
	if f.failAt > 0 && start+count > f.failAt {
		return nil, errors.New("connection reset")
	}
	if start >= uint64(len(f.leaves)) {
		return nil, errors.New("beyond the end")
	}
	end := min(start+min(count, f.maxBatch), uint64(len(f.leaves)))
	out := make([][]byte, 0, end-start)
	for i := start; i < end; i++ {
		f.served[i]++
		if leaf, ok := f.swapped[i]; ok {
			out = append(out, leaf)
		} else {
			out = append(out, f.leaves[i])
		}
	}
	return out, nil
}

func (f *fakeLog) ConsistencyProof(_ context.Context, _ string, from, to uint64) ([][]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tree().ConsistencyProof(from, to)
}

func (f *fakeLog) servedCount() (total int, maxRepeat int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.served {
		total += n
		maxRepeat = max(maxRepeat, n)
	}
	return total, maxRepeat
}

// harness is a monitor over one fake log, collecting alerts.
type harness struct {
	world  *testWorld
	log    *fakeLog
	store  *monitor.Store
	mon    *monitor.Monitor
	mu     sync.Mutex
	alerts []monitor.Alert
}

func newHarness(t testing.TB, w *testWorld, log *fakeLog, store *monitor.Store, options ...func(*monitor.Options)) *harness {
	t.Helper()
	h := &harness{world: w, log: log, store: store}
	opts := monitor.Options{
		Logs: []monitor.Log{{
			Name: "disclosures", Origin: testOrigin, Policy: w.policy, Reader: log,
			Domain: disclosures.New(), Registry: w.registry,
		}},
		Store:     store,
		BatchSize: 20,
		OnAlert: func(a monitor.Alert) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.alerts = append(h.alerts, a)
		},
	}
	for _, o := range options {
		o(&opts)
	}
	var err error
	h.mon, err = monitor.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) takeAlerts() []monitor.Alert {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.alerts
	h.alerts = nil
	return a
}

func openStore(t testing.TB, path string) *monitor.Store {
	t.Helper()
	s, err := monitor.OpenStore(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
