package monitor_test

// The monitor following a real admission server in registry-log mode
// (Trillian and the admission store on SQLite, and on MariaDB when
// GOVLOG_TEST_MYSQL_DSN is set), over gRPC with the client package: the
// registry log first, then the disclosures log, each entry checked against
// the registry as it stood when the entry was admitted, and the entries of
// keys revoked for compromise named in alerts.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/search"
)

const registryTestOrigin = "gov.example/registry"

// Registry sizes of the scenarios: the genesis is agency.register,
// key.add of k1 and role.grant of city-a.
const regGenesisSize = 3

// registryServer is an admission server with the registry log (3 root
// keys, quorum 2) and the disclosures log, served over gRPC on loopback
// TCP, as `govlog serve` runs them.
type registryServer struct {
	backend *logtest.Backend
	regKey  logtest.LogKey
	discKey logtest.LogKey
	roots   *registry.Roots
	// rootSigners are the three root keys, rootVKeys their verifier keys.
	rootSigners []note.Signer
	rootVKeys   []string
	// k1 is city-a's key in the genesis; k2 a key the tests add.
	k1, k2     note.Signer
	k1VKey     string
	k2VKey     string
	addr       string
	client     *client.Client
	regPolicy  *govlog.Policy
	discPolicy *govlog.Policy
}

func randomSigner(t testing.TB, name string) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

func policyOf(t testing.TB, k logtest.LogKey) *govlog.Policy {
	t.Helper()
	text, err := govlog.FormatPolicy([]string{k.VKey}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := govlog.ParsePolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startRegistryServer starts the server on b and waits until its genesis
// is in a checkpoint of the registry log.
func startRegistryServer(t *testing.T, b *logtest.Backend) *registryServer {
	t.Helper()
	s := &registryServer{backend: b,
		regKey: logtest.NewLogKey(t, registryTestOrigin), discKey: logtest.NewLogKey(t, testOrigin)}
	s.regPolicy, s.discPolicy = policyOf(t, s.regKey), policyOf(t, s.discKey)
	var vkeys []string
	for i := range 3 {
		signer, vkey := randomSigner(t, fmt.Sprintf("root-%d", i+1))
		s.rootSigners = append(s.rootSigners, signer)
		vkeys = append(vkeys, vkey)
		s.rootVKeys = append(s.rootVKeys, vkey)
	}
	var err error
	if s.roots, err = registry.NewRoots(vkeys, 2); err != nil {
		t.Fatal(err)
	}
	s.k1, s.k1VKey = randomSigner(t, "city-a")
	s.k2, s.k2VKey = randomSigner(t, "city-a")
	genesis, err := registry.Genesis(registry.File{Agencies: []registry.Agency{{
		ID: "city-a", Name: "City A", Roles: []string{disclosures.RoleDiscloser}, Keys: []registry.Key{{VKey: s.k1VKey}},
	}}}, registryTestOrigin, time.Now(), s.rootSigners[0], s.rootSigners[1])
	if err != nil {
		t.Fatal(err)
	}

	regLog := b.OpenLog(t, s.regKey, time.Hour)
	discLog := b.OpenLog(t, s.discKey, time.Hour)
	srv, err := personalities.NewServer(personalities.Options{
		Store: b.Store, Genesis: genesis, WaitTimeout: 20 * time.Second,
		Personalities: map[string]personalities.Personality{
			registry.LogName:    {Domain: registry.NewDomain(s.roots), Log: regLog},
			disclosures.LogName: {Domain: disclosures.New(), Log: discLog},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(personalities.MaxMessageSize))
	api.RegisterLogServer(gs, srv)
	go gs.Serve(lis)
	t.Cleanup(func() {
		gs.Stop()
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Server.Run: %v", err)
		}
	})
	s.addr = lis.Addr().String()
	if s.client, err = client.Dial(s.addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.client.Close() })
	s.waitSize(t, registry.LogName, s.regKey.Verifier, regGenesisSize)
	return s
}

// waitSize waits until log's latest checkpoint holds n entries and
// returns it.
func (s *registryServer) waitSize(t *testing.T, log string, v note.Verifier, n uint64) []byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		signed, err := s.client.Checkpoint(context.Background(), log)
		if err == nil {
			cp, _, err := govlog.OpenCheckpoint(signed, v)
			if err != nil {
				t.Fatal(err)
			}
			if cp.Size >= n {
				return signed
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no checkpoint of %d entries after 20s (%v)", log, n, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// submit signs body as a statement of log (origin o) dated at, submits it
// with wait=true, and returns its index.
func (s *registryServer) submit(t *testing.T, log, o, typ string, at time.Time, body any, signers ...note.Signer) (uint64, []byte) {
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.client.Submit(ctx, log, signed, true)
	if err != nil {
		t.Fatalf("%s %s: %v", log, typ, err)
	}
	if res.Duplicate {
		t.Fatalf("%s %s: a duplicate", log, typ)
	}
	return res.Index, signed
}

// disclose publishes docID, signed by signer, dated at.
func (s *registryServer) disclose(t *testing.T, signer note.Signer, at time.Time, docID string) (uint64, []byte) {
	t.Helper()
	return s.submit(t, disclosures.LogName, testOrigin, disclosures.TypePublish, at, disclosures.PublishBody{
		DocID: docID, Title: "Minutes of " + docID, SHA256: strings.Repeat("ab", 32),
		Category: "minutes", DecisionDate: "2026-03-07",
	}, signer)
}

// registryChange submits a registry entry of type typ signed by two roots.
func (s *registryServer) registryChange(t *testing.T, typ string, body map[string]string) uint64 {
	t.Helper()
	i, _ := s.submit(t, registry.LogName, registryTestOrigin, typ, time.Now(), body, s.rootSigners[1], s.rootSigners[2])
	return i
}

func keyIDOf(s note.Signer) string { return fmt.Sprintf("%s+%08x", s.Name(), s.KeyHash()) }

// outbox returns how many entries log admitted.
func (s *registryServer) outbox(t *testing.T, log string) uint64 {
	t.Helper()
	var n uint64
	if err := s.backend.DB.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM govlog_leaves WHERE log = ?", log).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// state reads log's whole state in the admission store (see
// fundsServer.state).
func (s *registryServer) state(t *testing.T, log string) map[string][]byte {
	t.Helper()
	rows, err := s.backend.DB.QueryContext(t.Context(), "SELECT k, v FROM govlog_state WHERE log = ?", log)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(string(k), search.Prefix) {
			continue // the server's search index, which no replay makes
		}
		out[string(k)] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// keyUsePrefix begins the state keys only admission servers keep (the
// latest use of each key, for the registry's rule on retirements; see
// personalities/admission.go).
const keyUsePrefix = "govlog.key-use/"

// sameState fails t unless the monitor's replayed state of each log is the
// admission store's, key by key, but for the server-only keys.
func (s *registryServer) sameState(t *testing.T, store *monitor.Store) {
	t.Helper()
	for _, l := range []struct{ name, origin string }{{registry.LogName, registryTestOrigin}, {disclosures.LogName, testOrigin}} {
		admission := s.state(t, l.name)
		replayed, err := store.State(t.Context(), l.origin)
		if err != nil {
			t.Fatal(err)
		}
		serverOnly := 0
		for _, k := range slices.Sorted(maps.Keys(admission)) {
			if strings.HasPrefix(k, keyUsePrefix) {
				serverOnly++
				continue
			}
			if got, ok := replayed[k]; !ok || !bytes.Equal(got, admission[k]) {
				t.Errorf("%s %s: monitor %.200q, admission store %.200q", l.name, k, got, admission[k])
			}
		}
		for _, k := range slices.Sorted(maps.Keys(replayed)) {
			if _, ok := admission[k]; !ok {
				t.Errorf("%s %s: only in the monitor's state: %.200q", l.name, k, replayed[k])
			}
		}
		if l.name == disclosures.LogName && serverOnly == 0 {
			t.Errorf("the disclosures state has no %s key: nothing was compared without them", keyUsePrefix)
		}
		if len(admission)-serverOnly < 2 {
			t.Errorf("%s: the admission store holds %d keys", l.name, len(admission))
		}
	}
}

// followingMonitor is a monitor of both logs, from an empty store,
// collecting alerts.
type followingMonitor struct {
	mon    *monitor.Monitor
	store  *monitor.Store
	mu     sync.Mutex
	alerts []monitor.Alert
	// logs is the monitor's log output.
	logs syncBuffer
}

// newMonitor follows s's logs, the registry log through regReader and
// the disclosures log with the client. The disclosures log is listed
// first: the monitor must order them.
func (s *registryServer) newMonitor(t *testing.T, regReader monitor.LogReader) *followingMonitor {
	t.Helper()
	return s.newMonitorWithRoots(t, regReader, s.roots)
}

// newMonitorWithRoots is newMonitor for an auditor who trusts roots.
func (s *registryServer) newMonitorWithRoots(t *testing.T, regReader monitor.LogReader, roots *registry.Roots) *followingMonitor {
	t.Helper()
	return s.newMonitorWith(t, regReader, roots, nil)
}

// newMonitorWith is newMonitorWithRoots with the monitor's clock now (nil:
// time.Now).
func (s *registryServer) newMonitorWith(t *testing.T, regReader monitor.LogReader, roots *registry.Roots, now func() time.Time) *followingMonitor {
	t.Helper()
	c, err := client.Dial(s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if regReader == nil {
		regReader = c
	}
	f := &followingMonitor{store: openStore(t, monitor.Memory)}
	f.mon, err = monitor.New(monitor.Options{
		Logs: []monitor.Log{
			{Name: disclosures.LogName, Origin: testOrigin, Policy: s.discPolicy, Reader: c, Domain: disclosures.New()},
			{Name: registry.LogName, Origin: registryTestOrigin, Policy: s.regPolicy, Reader: regReader, Domain: registry.NewDomain(roots)},
		},
		Store: f.store, BatchSize: 2, // several batches per pass
		Now:    now,
		Logger: slog.New(slog.NewTextHandler(&f.logs, nil)),
		OnAlert: func(a monitor.Alert) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.alerts = append(f.alerts, a)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// take returns the alerts delivered since the last call.
func (f *followingMonitor) take() []monitor.Alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.alerts
	f.alerts = nil
	return a
}

// verified returns how many entries of origin the monitor replayed, and
// the size of the checkpoint it verified them under.
func (f *followingMonitor) verified(t *testing.T, origin string) (replayed, checkpoint uint64) {
	t.Helper()
	v, ok, err := f.store.Verified(t.Context(), origin)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return 0, 0
	}
	text, _, _ := bytes.Cut(v.Checkpoint, []byte("\n\n"))
	cp, err := govlog.ParseCheckpoint(append(text, '\n'))
	if err != nil {
		t.Fatal(err)
	}
	return v.Size, cp.Size
}

// follow runs passes until the monitor replayed reg entries of the
// registry log and disc of the disclosures log.
func (f *followingMonitor) follow(t *testing.T, reg, disc uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := f.mon.Follow(t.Context()); err != nil {
			t.Fatalf("Follow: %v", err)
		}
		r, _ := f.verified(t, registryTestOrigin)
		d, _ := f.verified(t, testOrigin)
		if r == reg && d == disc {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s the monitor replayed %d registry and %d disclosures entries, want %d and %d", r, d, reg, disc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkCompromised fails t unless alerts are exactly one KindCompromised
// alert for disclosures entry index, leaf, naming key.
func checkCompromised(t *testing.T, alerts []monitor.Alert, index uint64, leaf []byte, key string) {
	t.Helper()
	if len(alerts) != 1 {
		for _, a := range alerts {
			t.Errorf("alert %s: %s", a.Kind, a.Message)
		}
		t.Fatalf("%d alerts, want 1", len(alerts))
	}
	a := alerts[0]
	if a.Kind != monitor.KindCompromised || a.Log != testOrigin || a.Index == nil || *a.Index != index {
		t.Fatalf("alert %s on %s at %v: %s; want %s on %s at %d", a.Kind, a.Log, a.Index, a.Message, monitor.KindCompromised, testOrigin, index)
	}
	if !strings.Contains(a.Message, key) {
		t.Errorf("alert %q does not name the key %s", a.Message, key)
	}
	var ev monitor.Evidence
	if err := json.Unmarshal(a.Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ev.Entry, leaf) {
		t.Errorf("the alert's evidence is entry\n%s\nwant\n%s", ev.Entry, leaf)
	}
	if len(ev.Checkpoints) == 0 {
		t.Errorf("the alert's evidence has no checkpoint")
	}
}

// TestFollowRegistryLog: a server's registry and disclosures logs, where a
// key was added, signed disclosures, then was revoked for compromise from
// the time of its last one. A monitor starting from nothing replays the
// registry log, then the disclosures log with its view entries, raises
// one alert, KindCompromised, for the disclosure signed by the key at or
// after the revocation's from time (not for the one it signed before), and
// its replayed state of each log is the admission store's.
func TestFollowRegistryLog(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		s := startRegistryServer(t, b)
		now := time.Now().UTC().Truncate(time.Second)
		if i, _ := s.disclose(t, s.k1, now, "doc-1"); i != 1 {
			t.Fatalf("first disclosure at %d, want 1", i)
		}
		s.disclose(t, s.k1, now, "doc-2")
		s.registryChange(t, registry.TypeKeyAdd, map[string]string{"agency": "city-a", "key": s.k2VKey})
		if i, _ := s.disclose(t, s.k2, now.Add(-2*time.Minute), "doc-3"); i != 4 {
			t.Fatalf("k2's first disclosure at %d, want 4 (after a view entry)", i)
		}
		signedAt := time.Now().UTC().Truncate(time.Second)
		compromised, leaf := s.disclose(t, s.k2, signedAt, "doc-4")
		s.registryChange(t, registry.TypeKeyRevoke, map[string]string{"key": keyIDOf(s.k2), "from": signedAt.Format(time.RFC3339)})
		regSize, discSize := s.outbox(t, registry.LogName), s.outbox(t, disclosures.LogName)
		if regSize != regGenesisSize+2 || discSize != 6 {
			t.Fatalf("the logs hold %d and %d entries, want %d and 6", regSize, discSize, regGenesisSize+2)
		}

		f := s.newMonitor(t, nil)
		f.follow(t, regSize, discSize)
		checkCompromised(t, f.take(), compromised, leaf, keyIDOf(s.k2))
		if stored, err := f.store.Alerts(t.Context()); err != nil || len(stored) != 1 {
			t.Errorf("the store holds %d alerts (%v), want 1", len(stored), err)
		}
		s.sameState(t, f.store)

		// Another pass: nothing new.
		f.follow(t, regSize, discSize)
		for _, a := range f.take() {
			t.Errorf("alert on a pass with nothing new: %s: %s", a.Kind, a.Message)
		}
	})
}

// TestFollowRegistryRevocationRescan: a monitor that replayed a disclosure
// before the registry revoked its key for compromise raises the
// KindCompromised alert for it on the pass that brings the revocation,
// once, by reading the disclosures log again.
func TestFollowRegistryRevocationRescan(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		s := startRegistryServer(t, b)
		s.disclose(t, s.k1, time.Now(), "doc-1")
		s.registryChange(t, registry.TypeKeyAdd, map[string]string{"agency": "city-a", "key": s.k2VKey})
		signedAt := time.Now().UTC().Truncate(time.Second)
		compromised, leaf := s.disclose(t, s.k2, signedAt, "doc-2")
		if compromised != 3 {
			t.Fatalf("k2's disclosure at %d, want 3", compromised)
		}

		f := s.newMonitor(t, nil)
		f.follow(t, regGenesisSize+1, 4)
		for _, a := range f.take() {
			t.Errorf("alert before the revocation: %s: %s", a.Kind, a.Message)
		}

		s.registryChange(t, registry.TypeKeyRevoke, map[string]string{"key": keyIDOf(s.k2), "from": signedAt.Format(time.RFC3339)})
		f.follow(t, regGenesisSize+2, 4)
		checkCompromised(t, f.take(), compromised, leaf, keyIDOf(s.k2))
		s.sameState(t, f.store)

		f.follow(t, regGenesisSize+2, 4)
		for _, a := range f.take() {
			t.Errorf("alert raised again: %s: %s", a.Kind, a.Message)
		}
		if stored, err := f.store.Alerts(t.Context()); err != nil || len(stored) != 1 {
			t.Errorf("the store holds %d alerts (%v), want 1", len(stored), err)
		}
	})
}

// laggingReader reads the registry log through its server, but serves the
// checkpoint it was given instead of the latest, as a replica behind the
// disclosures log would, until fresh is called.
type laggingReader struct {
	monitor.LogReader
	mu     sync.Mutex
	old    []byte
	served atomic.Int64
}

func (r *laggingReader) Checkpoint(ctx context.Context, log string) ([]byte, error) {
	r.mu.Lock()
	old := r.old
	r.mu.Unlock()
	if old != nil {
		r.served.Add(1)
		return old, nil
	}
	return r.LogReader.Checkpoint(ctx, log)
}

// fresh makes r serve the latest checkpoint.
func (r *laggingReader) fresh() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.old = nil
}

// TestFollowLaggingRegistryLog: a monitor whose registry log lags behind
// the disclosures log replays the disclosures entries up to the view
// entry naming a registry it has not seen, raises no alert on those after
// it (signed by a key it does not know yet), and goes on once the
// registry log catches up.
func TestFollowLaggingRegistryLog(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		s := startRegistryServer(t, b)
		c, err := client.Dial(s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		lag := &laggingReader{LogReader: c, old: s.waitSize(t, registry.LogName, s.regKey.Verifier, regGenesisSize)}

		s.disclose(t, s.k1, time.Now(), "doc-1")
		s.registryChange(t, registry.TypeKeyAdd, map[string]string{"agency": "city-a", "key": s.k2VKey})
		const view = 2 // the view entry naming the registry with k2
		if i, _ := s.disclose(t, s.k2, time.Now(), "doc-2"); i != view+1 {
			t.Fatalf("k2's disclosure at %d, want %d", i, view+1)
		}
		s.disclose(t, s.k1, time.Now(), "doc-3")
		discSize := s.outbox(t, disclosures.LogName)

		f := s.newMonitor(t, lag)
		for range 3 {
			if err := f.mon.Follow(t.Context()); err != nil {
				t.Fatalf("Follow: %v", err)
			}
			if r, _ := f.verified(t, registryTestOrigin); r != regGenesisSize {
				t.Fatalf("the monitor replayed %d registry entries from a checkpoint of %d", r, regGenesisSize)
			}
			switch d, cp := f.verified(t, testOrigin); {
			case d != view:
				t.Fatalf("the monitor replayed %d disclosures entries, want %d: up to the view entry it cannot check yet", d, view)
			case cp != discSize:
				t.Errorf("the monitor's disclosures checkpoint has %d entries, want %d", cp, discSize)
			}
			for _, a := range f.take() {
				t.Errorf("alert while the registry lags: %s: %s", a.Kind, a.Message)
			}
		}
		if lag.served.Load() == 0 {
			t.Fatal("the lagging reader served no checkpoint")
		}
		if n := f.logs.count("waiting"); n != 1 {
			t.Errorf("3 passes stopped at the same view entry logged the wait %d times, want once", n)
		}

		lag.fresh()
		f.follow(t, regGenesisSize+1, discSize)
		for _, a := range f.take() {
			t.Errorf("alert once the registry caught up: %s: %s", a.Kind, a.Message)
		}
		s.sameState(t, f.store)
	})
}

// TestFollowRefusedRegistryEntry: a registry entry the monitor refuses
// (signed by a root key this auditor does not trust) is an alert, and the
// other logs go on being checked against the registry without it, at the
// same log positions: no pass stops for good, in silence. (Found in review.)
func TestFollowRefusedRegistryEntry(t *testing.T) {
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		s := startRegistryServer(t, b)
		now := time.Now().UTC().Truncate(time.Second)
		s.disclose(t, s.k1, now, "doc-1")
		keyAdd := s.registryChange(t, registry.TypeKeyAdd, map[string]string{"agency": "city-a", "key": s.k2VKey})
		k2Doc, _ := s.disclose(t, s.k2, now, "doc-2")
		s.disclose(t, s.k1, now, "doc-3")

		// This auditor trusts root-1, root-2 and a key of its own: the
		// key.add, signed by root-2 and root-3, lacks its quorum.
		_, own := randomSigner(t, "auditor-root")
		roots, err := registry.NewRoots([]string{s.rootVKeys[0], s.rootVKeys[1], own}, 2)
		if err != nil {
			t.Fatal(err)
		}
		f := s.newMonitorWithRoots(t, nil, roots)
		f.follow(t, keyAdd+1, 5)
		var got []string
		for _, a := range f.take() {
			got = append(got, fmt.Sprintf("%s %s %d", a.Kind, a.Log, *a.Index))
		}
		slices.Sort(got)
		want := []string{
			fmt.Sprintf("%s %s %d", monitor.KindEntry, testOrigin, k2Doc),
			fmt.Sprintf("%s %s %d", monitor.KindEntry, registryTestOrigin, keyAdd),
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("alerts %q, want %q", got, want)
		}
	})
}

// TestFollowRegistryNeverShown: a registry view entry naming a registry
// the registry log never shows stops the log's replay there, and once it
// has waited longer than the overdue time, that is an alert (a log must
// not be able to stop its own monitoring in silence).
func TestFollowRegistryNeverShown(t *testing.T) {
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		s := startRegistryServer(t, b)
		c, err := client.Dial(s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		lag := &laggingReader{LogReader: c, old: s.waitSize(t, registry.LogName, s.regKey.Verifier, regGenesisSize)}
		s.disclose(t, s.k1, time.Now(), "doc-1")
		s.registryChange(t, registry.TypeKeyAdd, map[string]string{"agency": "city-a", "key": s.k2VKey})
		view, _ := s.disclose(t, s.k2, time.Now(), "doc-2")
		view-- // the view entry just before it

		var mu sync.Mutex
		clock := time.Now()
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		f := s.newMonitorWith(t, lag, s.roots, now)
		for range 2 {
			if err := f.mon.Follow(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if a := f.take(); len(a) != 0 {
			t.Fatalf("alerts while waiting a little: %v", a)
		}
		mu.Lock()
		clock = clock.Add(monitor.DefaultOverdueAfter + time.Minute)
		mu.Unlock()
		if err := f.mon.Follow(t.Context()); err != nil {
			t.Fatal(err)
		}
		a := f.take()
		if len(a) != 1 || a[0].Kind != monitor.KindEntry || a[0].Log != testOrigin || *a[0].Index != view ||
			!strings.Contains(a[0].Message, "has not shown") {
			t.Fatalf("alerts %v, want one naming the registry view entry %d", a, view)
		}
		// Once the registry log shows it, the replay goes on.
		lag.fresh()
		f.follow(t, regGenesisSize+1, view+2)
	})
}
