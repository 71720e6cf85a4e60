package ballot_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/votes/ballot"
)

const (
	testOrigin   = "gov.example/votes"
	testElection = "2026-city-referendum"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

// issuerKey is a 2048-bit key shared by the tests.
func issuerKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

// fakeLog is a Logger that keeps what it is given.
type fakeLog struct {
	mu         sync.Mutex
	statements [][]byte
	fail       error
	gate       chan struct{} // if set, Submit waits for it
}

func (f *fakeLog) Submit(ctx context.Context, log string, statement []byte, wait bool) (*client.Submitted, error) {
	if log != ballot.LogName {
		return nil, fmt.Errorf("submitted to log %q", log)
	}
	if wait {
		return nil, errors.New("the issuer must not wait for inclusion")
	}
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.statements = append(f.statements, statement)
	return &client.Submitted{LeafHash: govlog.LeafHash(statement), Promise: []byte("promise\n")}, nil
}

func (f *fakeLog) setFail(err error) {
	f.mu.Lock()
	f.fail = err
	f.mu.Unlock()
}

func (f *fakeLog) all() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.statements...)
}

type voter struct {
	id     string
	signer note.Signer
	vkey   string
}

func newVoter(t testing.TB, id string) voter {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "citizen-"+id)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return voter{id, s, vkey}
}

// env is an issuer under test.
type env struct {
	is      *ballot.Issuer
	srv     *httptest.Server
	log     *fakeLog
	voters  []voter
	priv    *rsa.PrivateKey
	agency  note.Verifier
	db      string
	logMu   sync.Mutex
	logText strings.Builder
}

func newEnv(t *testing.T, nVoters int, tweak ...func(*ballot.Config)) *env {
	t.Helper()
	return newEnvWrapped(t, nVoters, nil, tweak...)
}

// newEnvWrapped is newEnv with the issuer's handler wrapped by wrap.
func newEnvWrapped(t *testing.T, nVoters int, wrap func(http.Handler) http.Handler, tweak ...func(*ballot.Config)) *env {
	t.Helper()
	e := &env{log: &fakeLog{}, priv: issuerKey(t), db: filepath.Join(t.TempDir(), "issuer.db")}
	voters := map[string]note.Verifier{}
	for i := range nVoters {
		v := newVoter(t, fmt.Sprintf("voter-id-%04d", i+1))
		e.voters = append(e.voters, v)
		nv, err := note.NewVerifier(v.vkey)
		if err != nil {
			t.Fatal(err)
		}
		voters[v.id] = nv
	}
	askey, avkey, err := note.GenerateKey(rand.Reader, "issuer-agency")
	if err != nil {
		t.Fatal(err)
	}
	as, _ := note.NewSigner(askey)
	e.agency, _ = note.NewVerifier(avkey)
	cfg := ballot.Config{
		Elections: []ballot.Election{{ID: testElection, Key: e.priv, Voters: voters}},
		Log:       e.log, Origin: testOrigin, AgencyKey: as, DB: e.db,
		Logf: func(format string, args ...any) {
			e.logMu.Lock()
			fmt.Fprintf(&e.logText, format+"\n", args...)
			e.logMu.Unlock()
		},
	}
	for _, f := range tweak {
		f(&cfg)
	}
	e.is, err = ballot.NewIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = e.is
	if wrap != nil {
		h = wrap(h)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(func() {
		e.srv.Close()
		e.is.Close()
	})
	return e
}

func (e *env) request(ctx context.Context, v voter) (ballot.TokenFile, error) {
	return ballot.RequestToken(ctx, e.srv.URL, testElection, v.id, v.signer, &e.priv.PublicKey)
}

// tokensStatements parses the votes.tokens statements the issuer wrote.
func (e *env) tokensStatements(t *testing.T) []ballot.TokensBody {
	t.Helper()
	var out []ballot.TokensBody
	for _, signed := range e.log.all() {
		st, sigs, err := govlog.ParseStatement(signed, testOrigin, note.VerifierList(e.agency))
		if err != nil {
			t.Fatalf("the issuer's statement doesn't parse with the agency's key: %v", err)
		}
		if len(sigs) != 1 || st.Type != ballot.TypeTokens {
			t.Fatalf("statement type %s with %d signatures", st.Type, len(sigs))
		}
		var b ballot.TokensBody
		if err := decodeStrict(st.Body, &b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func (e *env) logged() string {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return e.logText.String()
}
