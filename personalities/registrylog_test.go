package personalities_test

// The admission server in registry-log mode, as cmd/govlog/node.go runs
// it: the registry is a log of its own whose entries k of n root keys sign,
// its genesis admitted on first start, and the disclosures log authorizes
// against the registry log's state, live, writing a registry view entry
// before the first statement under a registry that changed.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/search"
	"github.com/govlog/govlog/storage"
)

const registryOrigin = "gov.example/registry"

// regLogServer is an admission server with a registry log (3 root keys,
// quorum 2) and the disclosures log, on one backend, behind gRPC.
type regLogServer struct {
	t       *testing.T
	backend *logtest.Backend
	regKey  logtest.LogKey
	discKey logtest.LogKey
	regLog  *logserver.Log
	discLog *logserver.Log
	roots   []key
	rootSet *registry.Roots
	// k1 is city-a's key in the genesis; k1Seed makes it, so that a test
	// can list its public key under another name.
	k1     key
	k1Seed []byte
	client api.LogClient
	stop   func()
	logs   *syncBuffer
	logger *slog.Logger
}

// genesisSize is the number of registry entries of the test genesis:
// agency.register, key.add, role.grant.
const genesisSize = 3

func newRegLogServer(t *testing.T, b *logtest.Backend) *regLogServer {
	t.Helper()
	s := &regLogServer{t: t, backend: b,
		regKey: logtest.NewLogKey(t, registryOrigin), discKey: logtest.NewLogKey(t, origin)}
	s.regLog = b.OpenLog(t, s.regKey, testMMD)
	s.discLog = b.OpenLog(t, s.discKey, testMMD)
	var vkeys []string
	for i := range 3 {
		r := newSigner(t, fmt.Sprintf("root-%d", i+1))
		s.roots = append(s.roots, r)
		vkeys = append(vkeys, r.vkey)
	}
	var err error
	if s.rootSet, err = registry.NewRoots(vkeys, 2); err != nil {
		t.Fatal(err)
	}
	s.k1Seed = make([]byte, 32)
	rand.Read(s.k1Seed)
	s.k1 = seededSigner(t, cityA, s.k1Seed)
	s.logs = &syncBuffer{}
	s.logger = slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs.String())
		}
	})
	s.serve(s.genesis(t))
	return s
}

// genesis signs the test genesis with two of the three roots, dated now,
// as node.go does on every start.
func (s *regLogServer) genesis(t *testing.T) [][]byte {
	t.Helper()
	g, err := registry.Genesis(registry.File{Agencies: []registry.Agency{{
		ID: cityA, Name: "City A", Roles: []string{disclosures.RoleDiscloser}, Keys: []registry.Key{{VKey: s.k1.vkey}},
	}}}, registryOrigin, time.Now(), s.roots[0], s.roots[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != genesisSize {
		t.Fatalf("genesis of %d entries, want %d", len(g), genesisSize)
	}
	return g
}

// serve starts a Server on s's store and logs, as a (re)start does.
func (s *regLogServer) serve(genesis [][]byte) {
	t := s.t
	srv, err := personalities.NewServer(personalities.Options{
		Store:   s.backend.Store,
		Genesis: genesis,
		Personalities: map[string]personalities.Personality{
			registry.LogName: {Domain: registry.NewDomain(s.rootSet), Log: s.regLog},
			logName:          {Domain: disclosures.New(), Log: s.discLog},
		},
		WaitTimeout: 20 * time.Second,
		Logger:      s.logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.client, s.stop = startServer(t, srv)
}

// secondServer starts another server process on s's database and logs,
// which writes no genesis of its own.
func (s *regLogServer) secondServer(t *testing.T) (api.LogClient, func()) {
	t.Helper()
	other, err := personalities.NewServer(personalities.Options{
		Store: s.backend.Store,
		Personalities: map[string]personalities.Personality{
			registry.LogName: {Domain: registry.NewDomain(s.rootSet), Log: s.regLog},
			logName:          {Domain: disclosures.New(), Log: s.discLog},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return startServer(t, other)
}

// seededSigner makes the key of seed named name: the same seed under two
// names is one public key under two key IDs.
func seededSigner(t testing.TB, name string, seed []byte) key {
	t.Helper()
	skey, vkey, err := note.GenerateKey(bytes.NewReader(seed), name)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return key{Signer: signer, vkey: vkey}
}

// keyID is how registry entries name a key: "name+hash".
func keyID(k key) string { return fmt.Sprintf("%s+%08x", k.Name(), k.KeyHash()) }

// regStatement is a registry entry of type typ, dated now, signed by signers.
func regStatement(t testing.TB, typ string, body any, signers ...note.Signer) []byte {
	t.Helper()
	return statementFor(t, registryOrigin, typ, time.Now(), body, signers...)
}

func (s *regLogServer) submit(log string, stmt []byte, wait bool) (*api.SubmitResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.client.Submit(ctx, &api.SubmitRequest{Log: log, Statement: stmt, Wait: wait})
}

// mustAdmit submits stmt to log with wait=true; it must be admitted, as a
// new entry.
func (s *regLogServer) mustAdmit(t testing.TB, log string, stmt []byte) *api.SubmitResponse {
	t.Helper()
	resp, err := s.submit(log, stmt, true)
	if err != nil {
		t.Fatalf("Submit to %s: %v", log, err)
	}
	if resp.Duplicate {
		t.Fatalf("Submit to %s: Duplicate=true for a new statement", log)
	}
	return resp
}

// registrySize reads the size of the registry the server keeps, through
// the store as the server does.
func (s *regLogServer) registrySize(t testing.TB) uint64 {
	t.Helper()
	var n uint64
	err := s.backend.Store.Read(context.Background(), registry.LogName, func(ctx context.Context, tx storage.ReadTx) error {
		r, err := registry.FromState(ctx, tx)
		if err == nil {
			n = r.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (s *regLogServer) waitRegistrySize(t testing.TB, n uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for s.registrySize(t) < n {
		if time.Now().After(deadline) {
			t.Fatalf("registry size %d after 20s, want %d", s.registrySize(t), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logSnapshot is what a log holds in the admission store: its state, key
// by key, and how many entries it admitted.
type logSnapshot struct {
	state  map[string]string
	outbox int
}

// snapshot reads log's state and outbox size from the database (the store
// interface has no range read; storage/sqlite and storage/mysql name the
// tables alike).
func (s *regLogServer) snapshot(t testing.TB, log string) logSnapshot {
	t.Helper()
	ctx := context.Background()
	rows, err := s.backend.DB.QueryContext(ctx, "SELECT k, v FROM govlog_state WHERE log = ?", log)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	snap := logSnapshot{state: map[string]string{}}
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(string(k), search.Prefix) {
			continue // the search index follows the log on its own
		}
		snap.state[string(k)] = string(v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.backend.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM govlog_leaves WHERE log = ?", log).Scan(&snap.outbox); err != nil {
		t.Fatal(err)
	}
	return snap
}

// snapshots are both logs' snapshots, registry first.
func (s *regLogServer) snapshots(t testing.TB) [2]logSnapshot {
	t.Helper()
	return [2]logSnapshot{s.snapshot(t, registry.LogName), s.snapshot(t, logName)}
}

// sameSnapshot fails t unless nothing was written between a and b.
func sameSnapshot(t testing.TB, what string, a, b [2]logSnapshot) {
	t.Helper()
	for i, log := range []string{registry.LogName, logName} {
		if a[i].outbox != b[i].outbox {
			t.Errorf("%s: the %s log admitted %d entries, want none", what, log, b[i].outbox-a[i].outbox)
		}
		for _, k := range slices.Sorted(maps.Keys(b[i].state)) {
			if v, ok := a[i].state[k]; !ok || v != b[i].state[k] {
				t.Errorf("%s: %s state %s written: %.200s", what, log, k, b[i].state[k])
			}
		}
		for k := range a[i].state {
			if _, ok := b[i].state[k]; !ok {
				t.Errorf("%s: %s state %s deleted", what, log, k)
			}
		}
	}
}

// waitForSize waits until log's checkpoint, verified with v, holds n
// entries.
func (s *regLogServer) waitForSize(t testing.TB, log string, v note.Verifier, n uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := s.client.GetCheckpoint(context.Background(), &api.GetCheckpointRequest{Log: log})
		if err == nil {
			cp, _, err := govlog.OpenCheckpoint(resp.Checkpoint, v)
			if err != nil {
				t.Fatalf("%s checkpoint: %v", log, err)
			}
			if cp.Size >= n {
				return
			}
		} else if status.Code(err) != codes.Unavailable {
			t.Fatalf("GetCheckpoint(%s): %v", log, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no checkpoint of %d entries after 20s", log, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// entry reads entry index of log once a checkpoint includes it.
func (s *regLogServer) entry(t testing.TB, log string, v note.Verifier, index uint64) []byte {
	t.Helper()
	s.waitForSize(t, log, v, index+1)
	resp, err := s.client.GetEntries(context.Background(), &api.GetEntriesRequest{Log: log, Start: int64(index), Count: 1})
	if err != nil {
		t.Fatalf("GetEntries(%s, %d): %v", log, index, err)
	}
	if len(resp.Entries) != 1 {
		t.Fatalf("GetEntries(%s, %d): %d entries", log, index, len(resp.Entries))
	}
	return resp.Entries[0]
}

// checkView checks that the disclosures log's entry index is a registry
// view entry, signed by the log's key, naming the registry of size entries
// and its last entry as the registry log holds it.
func (s *regLogServer) checkView(t testing.TB, index, size uint64) {
	t.Helper()
	leaf := s.entry(t, logName, s.discKey.Verifier, index)
	a, err := registry.OpenAnchor(leaf, origin, s.discKey.Verifier)
	if err != nil {
		t.Fatalf("disclosures entry %d: %v\n%s", index, err, leaf)
	}
	if a.Size != size {
		t.Errorf("disclosures entry %d names registry size %d, want %d", index, a.Size, size)
	}
	if last := govlog.LeafHash(s.entry(t, registry.LogName, s.regKey.Verifier, size-1)); a.Last != last {
		t.Errorf("disclosures entry %d names %x as registry entry %d, which is %x", index, a.Last, size-1, last)
	}
	if _, err := registry.OpenAnchor(leaf, origin, s.regKey.Verifier); err == nil {
		t.Errorf("disclosures entry %d opens as a view entry with the registry log's key", index)
	}
}

// checkEntry checks that entry index of log is stmt.
func (s *regLogServer) checkEntry(t testing.TB, log string, v note.Verifier, index uint64, stmt []byte) {
	t.Helper()
	if got := s.entry(t, log, v, index); !bytes.Equal(got, stmt) {
		t.Errorf("%s entry %d is\n%s\nwant\n%s", log, index, got, stmt)
	}
}

// TestRegistryLog: the registry as a log. Its genesis is admitted on first
// start; a disclosure is preceded in its log by a view entry naming the
// registry it was authorized against; bad registry entries and a
// disclosure by a key revoked one registry entry before are refused with
// the right code and write nothing, in either log; a registry change takes
// effect at the next submission, with a new view entry, without a restart;
// a restart keeps the registry and writes no second genesis.
func TestRegistryLog(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		s := newRegLogServer(t, b)
		s.waitRegistrySize(t, genesisSize)
		genesisLeaf := s.entry(t, registry.LogName, s.regKey.Verifier, 0)
		if snap := s.snapshot(t, registry.LogName); snap.outbox != genesisSize || snap.state["size"] != fmt.Sprint(genesisSize) {
			t.Fatalf("registry log admitted %d entries, state size %q; want the %d of the genesis", snap.outbox, snap.state["size"], genesisSize)
		}

		// The first disclosure: at index 1, after the view entry naming
		// the genesis.
		t1 := time.Now().UTC().Truncate(time.Second)
		d1 := statementFor(t, origin, disclosures.TypePublish, t1, publish("doc-1"), s.k1)
		if r := s.mustAdmit(t, logName, d1); r.Index != 1 {
			t.Errorf("first disclosure at index %d, want 1 (after the registry view entry)", r.Index)
		}
		s.checkView(t, 0, genesisSize)
		s.checkEntry(t, logName, s.discKey.Verifier, 1, d1)

		// city-b, by two roots (not the genesis' two): a registry change.
		s.mustAdmit(t, registry.LogName, regStatement(t, registry.TypeAgencyRegister,
			map[string]string{"agency": cityB, "name": "City B"}, s.roots[0], s.roots[2]))
		k2 := newSigner(t, cityA)
		// k1's public key, named as city-b's.
		k1AsCityB := seededSigner(t, cityB, s.k1Seed)
		stranger := newSigner(t, cityA)
		for _, tc := range []struct {
			name string
			log  string
			stmt []byte
			want codes.Code
		}{
			{"key.add signed by one root key", registry.LogName,
				regStatement(t, registry.TypeKeyAdd, map[string]string{"agency": cityA, "key": k2.vkey}, s.roots[0]),
				codes.PermissionDenied},
			{"key.add signed by one root key and an agency key", registry.LogName,
				regStatement(t, registry.TypeKeyAdd, map[string]string{"agency": cityA, "key": k2.vkey}, s.roots[0], s.k1),
				codes.PermissionDenied},
			{"key.add of a public key listed under another agency", registry.LogName,
				regStatement(t, registry.TypeKeyAdd, map[string]string{"agency": cityB, "key": k1AsCityB.vkey}, s.roots[0], s.roots[1]),
				codes.FailedPrecondition},
			{"key.revoke of an unknown key", registry.LogName,
				regStatement(t, registry.TypeKeyRevoke, map[string]string{"key": keyID(stranger)}, s.roots[0], s.roots[1]),
				codes.FailedPrecondition},
			{"key.retire dated before the key's latest admitted statement", registry.LogName,
				regStatement(t, registry.TypeKeyRetire, map[string]string{"key": keyID(s.k1), "at": t1.Add(-time.Minute).Format(time.RFC3339)}, s.roots[0], s.roots[1]),
				codes.InvalidArgument},
			{"key.retire dated at the key's latest admitted statement", registry.LogName,
				regStatement(t, registry.TypeKeyRetire, map[string]string{"key": keyID(s.k1), "at": t1.Format(time.RFC3339)}, s.roots[0], s.roots[1]),
				codes.InvalidArgument},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := s.snapshots(t)
				_, err := s.submit(tc.log, tc.stmt, false)
				wantCode(t, "Submit", err, tc.want)
				sameSnapshot(t, tc.name, before, s.snapshots(t))
			})
		}
		if n := s.registrySize(t); n != genesisSize+1 {
			t.Fatalf("registry size %d after the refusals, want %d", n, genesisSize+1)
		}

		// k2 added under city-a, by the quorum: the next disclosure, by
		// k2, is admitted, after a view entry naming the new size.
		s.mustAdmit(t, registry.LogName, regStatement(t, registry.TypeKeyAdd,
			map[string]string{"agency": cityA, "key": k2.vkey}, s.roots[1], s.roots[2]))
		d2 := statement(t, disclosures.TypePublish, publish("doc-2"), k2)
		if r := s.mustAdmit(t, logName, d2); r.Index != 3 {
			t.Errorf("k2's disclosure at index %d, want 3 (after a second view entry)", r.Index)
		}
		s.checkView(t, 2, genesisSize+2)
		s.checkEntry(t, logName, s.discKey.Verifier, 3, d2)

		// k1 revoked from an hour ago; k1's disclosures are refused as
		// soon as the revocation returns: no restart, no wait.
		revokedFrom := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
		s.mustAdmit(t, registry.LogName, regStatement(t, registry.TypeKeyRevoke,
			map[string]string{"key": keyID(s.k1), "from": revokedFrom.Format(time.RFC3339)}, s.roots[0], s.roots[1]))
		for _, tc := range []struct {
			name string
			at   time.Time
		}{
			{"disclosure by a key revoked one registry entry before", time.Now()},
			{"disclosure by a revoked key, dated before the revocation's from", revokedFrom.Add(-time.Minute)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := s.snapshots(t)
				_, err := s.submit(logName, statementFor(t, origin, disclosures.TypePublish, tc.at, publish("doc-3"), s.k1), false)
				wantCode(t, "Submit", err, codes.PermissionDenied)
				sameSnapshot(t, tc.name, before, s.snapshots(t))
			})
		}

		// A restart, with the genesis signed again (as node.go signs it
		// on every start): the registry is the log's, with no second
		// genesis, and the revocation holds.
		regBefore := s.snapshot(t, registry.LogName)
		if regBefore.outbox != genesisSize+3 {
			t.Fatalf("registry log admitted %d entries, want %d", regBefore.outbox, genesisSize+3)
		}
		s.stop()
		s.serve(s.genesis(t))
		// Admitted with wait=true: the disclosures log admits only once
		// the server is past its genesis step.
		d3 := statement(t, disclosures.TypePublish, publish("doc-4"), k2)
		if r := s.mustAdmit(t, logName, d3); r.Index != 5 {
			t.Errorf("disclosure after the restart at index %d, want 5 (after a third view entry)", r.Index)
		}
		s.checkView(t, 4, genesisSize+3)
		s.checkEntry(t, logName, s.discKey.Verifier, 5, d3)
		regAfter := s.snapshot(t, registry.LogName)
		sameSnapshot(t, "restart", [2]logSnapshot{regBefore, {}}, [2]logSnapshot{regAfter, {}})
		if n := s.registrySize(t); n != genesisSize+3 {
			t.Errorf("registry size %d after the restart, want %d", n, genesisSize+3)
		}
		if got := s.entry(t, registry.LogName, s.regKey.Verifier, 0); !bytes.Equal(got, genesisLeaf) {
			t.Errorf("registry entry 0 changed across the restart")
		}
		_, err := s.submit(logName, statement(t, disclosures.TypePublish, publish("doc-5"), s.k1), false)
		wantCode(t, "Submit by the revoked key after the restart", err, codes.PermissionDenied)

		// What `govlog registry show city-a` reads: every change cites
		// its registry entry.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := s.client.Query(ctx, &api.QueryRequest{Log: registry.LogName, Query: registry.QueryAgency, Args: map[string]string{"agency": cityA}})
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		var ans registry.AgencyAnswer
		if err := json.Unmarshal(resp.ResultJson, &ans); err != nil {
			t.Fatal(err)
		}
		keys := map[string]registry.KeyState{}
		for _, k := range ans.Keys {
			keys[k.Key] = k
		}
		switch ks1, ks2 := keys[keyID(s.k1)], keys[keyID(k2)]; {
		case len(ans.Keys) != 2:
			t.Errorf("city-a has %d keys, want 2: %s", len(ans.Keys), resp.ResultJson)
		case ks1.Added.Index != 1 || ks1.Revoked == nil || ks1.Revoked.Index != 5 || !ks1.Revoked.At.Equal(revokedFrom) || ks1.Retired != nil:
			t.Errorf("k1: %+v; want added by entry 1, revoked by entry 5 from %s, never retired", ks1, revokedFrom)
		case ks2.Added.Index != 4 || ks2.Revoked != nil || ks2.Retired != nil:
			t.Errorf("k2: %+v; want added by entry 4", ks2)
		}
		if len(resp.Bundles) == 0 {
			t.Errorf("the answer carries no bundle")
		}
	})
}

// TestGenesisAllOrNothing: a genesis with an entry the registry refuses
// (the genesis agency's key again, under a second agency) writes nothing,
// and Run says why at once instead of serving a registry cut short.
func TestGenesisAllOrNothing(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		s := &regLogServer{t: t, backend: b, regKey: logtest.NewLogKey(t, registryOrigin), discKey: logtest.NewLogKey(t, origin)}
		s.regLog = b.OpenLog(t, s.regKey, testMMD)
		s.discLog = b.OpenLog(t, s.discKey, testMMD)
		var vkeys []string
		for i := range 2 {
			r := newSigner(t, fmt.Sprintf("root-%d", i+1))
			s.roots = append(s.roots, r)
			vkeys = append(vkeys, r.vkey)
		}
		roots, err := registry.NewRoots(vkeys, 2)
		if err != nil {
			t.Fatal(err)
		}
		seed := make([]byte, 32)
		rand.Read(seed)
		k1, k1AsB := seededSigner(t, cityA, seed), seededSigner(t, cityB, seed)
		genesis, err := registry.Genesis(registry.File{Agencies: []registry.Agency{
			{ID: cityA, Roles: []string{disclosures.RoleDiscloser}, Keys: []registry.Key{{VKey: k1.vkey}}},
			{ID: cityB, Roles: []string{disclosures.RoleDiscloser}, Keys: []registry.Key{{VKey: k1AsB.vkey}}},
		}}, registryOrigin, time.Now(), s.roots[0], s.roots[1])
		if err != nil {
			t.Fatal(err)
		}
		srv, err := personalities.NewServer(personalities.Options{
			Store: b.Store, Genesis: genesis,
			Personalities: map[string]personalities.Personality{
				registry.LogName: {Domain: registry.NewDomain(roots), Log: s.regLog},
				logName:          {Domain: disclosures.New(), Log: s.discLog},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		err = srv.Run(ctx)
		if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "nothing written") || !strings.Contains(err.Error(), "already listed") {
			t.Fatalf("Run = %v, want the genesis refused at once, nothing written, naming the listed key", err)
		}
		if snap := s.snapshot(t, registry.LogName); snap.outbox != 0 || len(snap.state) != 0 {
			t.Errorf("a refused genesis left %d entries and %d state keys", snap.outbox, len(snap.state))
		}
	})
}

// TestViewOnlyWithAStatement: after a registry change, a batch whose
// statements are all refused (or duplicates) writes no registry view
// entry; the first statement admitted comes right after one.
func TestViewOnlyWithAStatement(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		s := newRegLogServer(t, b)
		s.waitRegistrySize(t, genesisSize)
		d1 := statementFor(t, origin, disclosures.TypePublish, time.Now().UTC().Truncate(time.Second), publish("doc-1"), s.k1)
		s.mustAdmit(t, logName, d1) // view at 0, d1 at 1
		s.mustAdmit(t, registry.LogName, regStatement(t, registry.TypeAgencyRegister,
			map[string]string{"agency": cityB, "name": "City B"}, s.roots[0], s.roots[1]))
		before := s.snapshot(t, logName)
		again := statementFor(t, origin, disclosures.TypePublish, time.Now().UTC().Truncate(time.Second).Add(time.Second), publish("doc-1"), s.k1)
		if _, err := s.submit(logName, again, false); status.Code(err) != codes.AlreadyExists {
			t.Fatalf("doc-1 again: %v, want AlreadyExists", err)
		}
		if r, err := s.submit(logName, d1, false); err != nil || !r.Duplicate {
			t.Fatalf("d1 resubmitted: %v, duplicate %v", err, r.GetDuplicate())
		}
		if after := s.snapshot(t, logName); after.outbox != before.outbox {
			t.Fatalf("refused and duplicate statements made the log write %d entries", after.outbox-before.outbox)
		}
		d2 := statementFor(t, origin, disclosures.TypePublish, time.Now().UTC().Truncate(time.Second), publish("doc-2"), s.k1)
		if r := s.mustAdmit(t, logName, d2); r.Index != 3 {
			t.Errorf("doc-2 at index %d, want 3 (after the view entry at 2)", r.Index)
		}
		s.checkView(t, 2, genesisSize+1)
	})
}

// TestOfficialCoSigns: an official registered live in the registry log
// signs beside their agency; a disclosure naming them is admitted only with
// their signature, and an official of another agency is not credited.
func TestOfficialCoSigns(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		s := newRegLogServer(t, b)
		s.waitRegistrySize(t, genesisSize)
		clerk, other := newSigner(t, "staff-7"), newSigner(t, "staff-8")
		s.mustAdmit(t, registry.LogName, regStatement(t, registry.TypeOfficialRegister,
			map[string]string{"agency": cityA, "staff": "staff-7", "key": clerk.vkey}, s.roots[0], s.roots[1]))
		s.mustAdmit(t, registry.LogName, regStatement(t, registry.TypeAgencyRegister,
			map[string]string{"agency": cityB, "name": "City B"}, s.roots[0], s.roots[1]))
		s.mustAdmit(t, registry.LogName, regStatement(t, registry.TypeOfficialRegister,
			map[string]string{"agency": cityB, "staff": "staff-8", "key": other.vkey}, s.roots[0], s.roots[1]))
		now := time.Now().UTC().Truncate(time.Second)
		named := func(doc, staff string) disclosures.PublishBody {
			p := publish(doc)
			p.Official = staff
			return p
		}
		for _, tc := range []struct {
			name    string
			body    disclosures.PublishBody
			signers []note.Signer
			want    codes.Code
		}{
			{"named and co-signed", named("d1", "staff-7"), []note.Signer{s.k1, clerk}, codes.OK},
			{"named, not co-signed", named("d2", "staff-7"), []note.Signer{s.k1}, codes.PermissionDenied},
			{"named, signed by another agency's official", named("d3", "staff-8"), []note.Signer{s.k1, other}, codes.PermissionDenied},
			{"the official alone", named("d4", "staff-7"), []note.Signer{clerk}, codes.PermissionDenied},
			{"named in clear", named("d5", "J. Doe"), []note.Signer{s.k1, clerk}, codes.InvalidArgument},
			{"no official named, co-signed anyway", publish("d6"), []note.Signer{s.k1, clerk}, codes.OK},
		} {
			_, err := s.submit(logName, statementFor(t, origin, disclosures.TypePublish, now, tc.body, tc.signers...), false)
			if got := status.Code(err); got != tc.want {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
	})
}

// TestRegistryChangeReachesAnotherServer: a second server process on the
// same database, which admits no registry entry itself, authorizes against
// a change the first one admitted within about a second, with no restart.
func TestRegistryChangeReachesAnotherServer(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		s := newRegLogServer(t, b)
		s.waitRegistrySize(t, genesisSize)
		otherClient, stopOther := s.secondServer(t)
		defer stopOther()
		k2 := newSigner(t, cityA)
		s.mustAdmit(t, registry.LogName, regStatement(t, registry.TypeKeyAdd,
			map[string]string{"agency": cityA, "key": k2.vkey}, s.roots[0], s.roots[1]))
		stmt := statementFor(t, origin, disclosures.TypePublish, time.Now().UTC().Truncate(time.Second), publish("doc-k2"), k2)
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err := otherClient.Submit(t.Context(), &api.SubmitRequest{Log: logName, Statement: stmt})
			if err == nil {
				return
			}
			if status.Code(err) != codes.Unauthenticated || time.Now().After(deadline) {
				t.Fatalf("the other server, after the key was added: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// TestStaleServerNeverAuthorizesBehindTheLog: a second server process that
// has not yet read a revocation, admitting into a log whose last registry
// view (written by the first process) names it, reads the registry again
// and refuses the revoked key, instead of admitting after that view a
// statement a replay refuses. (Found in review.)
func TestStaleServerNeverAuthorizesBehindTheLog(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		s := newRegLogServer(t, b)
		s.waitRegistrySize(t, genesisSize)
		otherClient, stopOther := s.secondServer(t)
		defer stopOther()
		now := time.Now().UTC().Truncate(time.Second)
		// The other server reads the genesis registry, and names it.
		if _, err := otherClient.Submit(t.Context(), &api.SubmitRequest{Log: logName, Statement: statementFor(t, origin, disclosures.TypePublish, now, publish("d0"), s.k1)}); err != nil {
			t.Fatal(err)
		}
		k2 := newSigner(t, cityA)
		s.mustAdmit(t, registry.LogName, regStatement(t, registry.TypeKeyAdd, map[string]string{"agency": cityA, "key": k2.vkey}, s.roots[0], s.roots[1]))
		s.mustAdmit(t, registry.LogName, regStatement(t, registry.TypeKeyRevoke, map[string]string{"key": keyID(s.k1)}, s.roots[0], s.roots[1]))
		// The first server names the new registry in the log...
		s.mustAdmit(t, logName, statementFor(t, origin, disclosures.TypePublish, now, publish("d1"), k2))
		// ... and the other, at once, does not authorize k1 behind it.
		_, err := otherClient.Submit(t.Context(), &api.SubmitRequest{Log: logName, Statement: statementFor(t, origin, disclosures.TypePublish, now, publish("d2"), s.k1)})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("the other server, right after the revocation was named in the log: %v, want PermissionDenied", err)
		}
	})
}
