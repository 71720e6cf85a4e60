package personalities_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule/blindtoken"
	"github.com/govlog/govlog/personalities/votes"
)

// BenchmarkBallots measures ballots admitted per second (wait=false) by 32
// concurrent clients, each ballot's blind-RSA token and one-time key
// signature verified at admission, on SQLite and, when
// GOVLOG_TEST_MYSQL_DSN names a server, MySQL/MariaDB. The tokens are made
// before the clock starts (a blind signature each). Run with
//
//	go test -run '^$' -bench Ballots -benchtime 3000x ./personalities/
func BenchmarkBallots(b *testing.B) {
	for _, be := range []struct {
		name string
		open func(testing.TB, logtest.Options) *logtest.Backend
	}{
		{"sqlite", logtest.SQLite},
		{"mysql", logtest.MySQL},
	} {
		b.Run(be.name, func(b *testing.B) { benchBallots(b, be.open) })
	}
}

func benchBallots(b *testing.B, open func(testing.TB, logtest.Options) *logtest.Backend) float64 {
	const clients = 32
	const origin = "gov.example/votes"
	be := open(b, logtest.Options{})
	l := be.OpenLog(b, logtest.NewLogKey(b, origin), time.Hour)
	authority := newSigner(b, "election-office")
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{{
		ID: "election-office", Roles: []string{votes.RoleAuthority, votes.RoleIssuer}, Keys: []registry.Key{{VKey: authority.vkey}},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := personalities.NewServer(personalities.Options{Store: be.Store, Registry: reg,
		Personalities: map[string]personalities.Personality{votes.LogName: {Domain: votes.New(), Log: l}}})
	if err != nil {
		b.Fatal(err)
	}
	client, stop := startServer(b, srv)
	defer stop()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	ik, err := blindtoken.EncodeIssuerKey(&priv.PublicKey)
	if err != nil {
		b.Fatal(err)
	}
	submit := func(stmt []byte) error {
		_, err := client.Submit(b.Context(), &api.SubmitRequest{Log: votes.LogName, Statement: stmt})
		return err
	}
	now := time.Now().UTC().Truncate(time.Second)
	if err := submit(statementFor(b, origin, votes.TypeOpen, now, map[string]any{"election_id": "e", "question": "q?",
		"options": []string{"yes", "no"}, "opens": now.Add(-time.Minute).Format(time.RFC3339), "closes": now.Add(time.Hour).Format(time.RFC3339),
		"issuer_key": ik}, authority)); err != nil {
		b.Fatal(err)
	}
	if err := submit(statementFor(b, origin, votes.TypeTokens, now, map[string]any{"election_id": "e", "batch": 1, "count": b.N}, authority)); err != nil {
		b.Fatal(err)
	}
	// One token and one ballot per voter, made on every CPU.
	stmts := make([][]byte, b.N)
	var wg sync.WaitGroup
	work := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range work {
				skey, vkey, err := note.GenerateKey(rand.Reader, "voter")
				if err != nil {
					panic(err)
				}
				blinded, req, err := blindtoken.Blind(&priv.PublicKey, "e", vkey, rand.Reader)
				if err != nil {
					panic(err)
				}
				sig, err := blindtoken.BlindSign(priv, blinded)
				if err != nil {
					panic(err)
				}
				tok, err := req.Finalize(sig)
				if err != nil {
					panic(err)
				}
				signer, err := note.NewSigner(skey)
				if err != nil {
					panic(err)
				}
				body, _ := json.Marshal(map[string]any{"election_id": "e", "choice": []string{"yes", "no"}[i%2], "token": tok})
				st, err := govlog.NewStatement(origin, votes.TypeBallot, now, body)
				if err != nil {
					panic(err)
				}
				if stmts[i], err = st.Sign(signer); err != nil {
					panic(err)
				}
			}
		})
	}
	for i := range b.N {
		work <- i
	}
	close(work)
	wg.Wait()
	rate := submitAll(b, clients, stmts, submit, "ballots", "ballots/s")
	return rate
}
