package personalities_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/approvals"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
)

// BenchmarkApplications measures approvals.apply statements admitted per
// second (wait=false) by 32 concurrent clients, each judged by the demo
// kind's CEL rules and answered by the log's own decision in the same
// transaction, beside disclosure.publish statements on the same store; on
// SQLite and, when GOVLOG_TEST_MYSQL_DSN names a server, on MySQL/MariaDB.
// The kind is the demo contract-payment kind, decided by the rules alone:
// half the applications are approved at once, half are returned. Run with
//
//	go test -run '^$' -bench Applications ./personalities/
func BenchmarkApplications(b *testing.B) {
	for _, be := range []struct {
		name string
		open func(testing.TB, logtest.Options) *logtest.Backend
	}{
		{"sqlite", logtest.SQLite},
		{"mysql", logtest.MySQL},
	} {
		b.Run(be.name, func(b *testing.B) {
			var rates [2]float64
			for i, log := range []string{approvals.LogName, disclosures.LogName} {
				b.Run(log, func(b *testing.B) { rates[i] = benchAdmit(b, be.open, log) })
			}
			if rates[0] > 0 && rates[1] > 0 {
				fmt.Printf("on %s: applications %.0f/s (each with the log's decision), disclosures %.0f/s, ratio %.2f\n",
					be.name, rates[0], rates[1], rates[0]/rates[1])
			}
		})
	}
}

func benchAdmit(b *testing.B, open func(testing.TB, logtest.Options) *logtest.Backend, log string) float64 {
	const clients = 32
	origin := "gov.example/" + log
	be := open(b, logtest.Options{})
	l := be.OpenLog(b, logtest.NewLogKey(b, origin), time.Hour)
	agency := newSigner(b, cityA)
	engine := newSigner(b, "approvals-rules")
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{{
		ID: cityA, Roles: []string{approvals.RoleAuthority, approvals.RoleDesk, disclosures.RoleDiscloser}, Keys: []registry.Key{{VKey: agency.vkey}},
	}, {
		ID: "approvals-rules", Roles: []string{approvals.RoleEngine}, Keys: []registry.Key{{VKey: engine.vkey}},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	var d rule.Domain = disclosures.New()
	if log == approvals.LogName {
		d = approvals.New()
	}
	srv, err := personalities.NewServer(personalities.Options{
		Store: be.Store, Registry: reg,
		Personalities: map[string]personalities.Personality{log: {Domain: d, Log: l, RuleKey: engine}},
	})
	if err != nil {
		b.Fatal(err)
	}
	client, stop := startServer(b, srv)
	defer stop()
	submit := func(stmt []byte) error {
		_, err := client.Submit(b.Context(), &api.SubmitRequest{Log: log, Statement: stmt})
		return err
	}
	if log == approvals.LogName {
		if err := submit(statementFor(b, origin, approvals.TypeRules, time.Now(), json.RawMessage(approvals.DemoPaymentKind), agency)); err != nil {
			b.Fatal(err)
		}
	}
	stmts := make([][]byte, b.N)
	for i := range stmts {
		if log == disclosures.LogName {
			stmts[i] = statementFor(b, origin, disclosures.TypePublish, time.Now(), publish(fmt.Sprintf("doc-%d", i)), agency)
			continue
		}
		stmts[i] = statementFor(b, origin, approvals.TypeApply, time.Now(), map[string]any{
			"application_id": fmt.Sprintf("app-%d", i), "kind": "contract-payment",
			"fields": map[string]any{"contract_id": fmt.Sprintf("c-%d", i), "amount": 1000 + i,
				"invoice": "ef2d127de37b942baad06145e54b0c619a1f22327b2ebbcfbec78f5564afe39d", "works_accepted": i%2 == 0},
		}, agency)
	}
	rate := submitAll(b, clients, stmts, submit, "statements", "statements/s")
	return rate
}
