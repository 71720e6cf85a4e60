package personalities_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/registry"
)

// BenchmarkTransfers measures funds transfers admitted per second (wait=false)
// by 32 concurrent clients: "contended", every transfer from one account,
// against "spread", each client its own account; on SQLite and, when
// GOVLOG_TEST_MYSQL_DSN names a server, on MySQL/MariaDB. It prints both
// rates of each backend and their ratio. Run with
//
//	go test -run '^$' -bench Transfers ./personalities/
func BenchmarkTransfers(b *testing.B) {
	for _, be := range []struct {
		name string
		open func(testing.TB, logtest.Options) *logtest.Backend
	}{
		{"sqlite", logtest.SQLite},
		{"mysql", logtest.MySQL},
	} {
		b.Run(be.name, func(b *testing.B) {
			var rates [2]float64 // contended, spread
			for i, spread := range []bool{false, true} {
				name := "contended"
				if spread {
					name = "spread"
				}
				b.Run(name, func(b *testing.B) { rates[i] = benchTransfers(b, be.open, spread) })
			}
			if rates[0] > 0 && rates[1] > 0 {
				fmt.Printf("funds transfers on %s: contended %.0f/s, spread %.0f/s, contended/spread %.2f\n",
					be.name, rates[0], rates[1], rates[0]/rates[1])
			}
		})
	}
}

// benchTransfers returns the rate it measured.
func benchTransfers(b *testing.B, open func(testing.TB, logtest.Options) *logtest.Backend, spread bool) float64 {
	const clients = 32
	const fundsOrigin = "gov.example/funds"
	be := open(b, logtest.Options{})
	l := be.OpenLog(b, logtest.NewLogKey(b, fundsOrigin), time.Hour)
	agency := newSigner(b, cityA)
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{{
		ID: cityA, Roles: []string{funds.RoleTreasury, funds.RoleFundManager}, Keys: []registry.Key{{VKey: agency.vkey}},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := personalities.NewServer(personalities.Options{
		Store: be.Store, Registry: reg,
		Personalities: map[string]personalities.Personality{funds.LogName: {Domain: funds.New(), Log: l}},
	})
	if err != nil {
		b.Fatal(err)
	}
	client, stop := startServer(b, srv)
	defer stop()
	submit := func(stmt []byte) error {
		_, err := client.Submit(b.Context(), &api.SubmitRequest{Log: funds.LogName, Statement: stmt})
		return err
	}
	must := func(typ string, body any) {
		if err := submit(statementFor(b, fundsOrigin, typ, time.Now(), body, agency)); err != nil {
			b.Fatalf("%s: %v", typ, err)
		}
	}
	sources := 1
	if spread {
		sources = clients
	}
	must(funds.TypeAccountOpen, map[string]any{"account_id": "payee", "owner_kind": "company", "owner": "acme", "kind": "company"})
	for s := range sources {
		src := fmt.Sprintf("src-%d", s)
		must(funds.TypeAccountOpen, map[string]any{"account_id": src, "owner_kind": "agency", "owner": cityA, "kind": "budget"})
		must(funds.TypeAllocate, map[string]any{"allocation_id": "a-" + src, "to": src, "amount": 1 << 40, "budget_line": "bench"})
		must(funds.TypeContractRegister, map[string]any{"contract_id": "c-" + src, "kind": "works", "payer": src, "payee": "payee", "ceiling": 1 << 40})
	}
	// Statements signed before the clock starts, as govlog bench does.
	stmts := make([][]byte, b.N)
	for i := range stmts {
		src := fmt.Sprintf("src-%d", i%sources)
		stmts[i] = statementFor(b, fundsOrigin, funds.TypeTransfer, time.Now(), map[string]any{
			"transfer_id": fmt.Sprintf("t-%d", i), "from": src, "to": "payee", "amount": 1, "contract_id": "c-" + src,
		}, agency)
	}
	rate := submitAll(b, clients, stmts, submit, "transfers", "transfers/s")
	return rate
}
