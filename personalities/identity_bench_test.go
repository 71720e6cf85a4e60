package personalities_test

import (
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/identity"
	"github.com/govlog/govlog/personalities/registry"
)

// BenchmarkAccesses measures identity.access statements admitted per
// second (wait=false) by 32 concurrent clients, each judged against the
// subject's grant and the credential, on SQLite and, when
// GOVLOG_TEST_MYSQL_DSN names a server, MySQL/MariaDB. Run with
//
//	go test -run '^$' -bench Accesses -benchtime 3000x ./personalities/
func BenchmarkAccesses(b *testing.B) {
	for _, be := range []struct {
		name string
		open func(testing.TB, logtest.Options) *logtest.Backend
	}{
		{"sqlite", logtest.SQLite},
		{"mysql", logtest.MySQL},
	} {
		b.Run(be.name, func(b *testing.B) { benchAccesses(b, be.open) })
	}
}

func benchAccesses(b *testing.B, open func(testing.TB, logtest.Options) *logtest.Backend) {
	const clients = 32
	const origin = "gov.example/identity"
	be := open(b, logtest.Options{})
	l := be.OpenLog(b, logtest.NewLogKey(b, origin), time.Hour)
	agency := newSigner(b, "city-hall")
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{{
		ID: "city-hall", Roles: []string{identity.RoleRegistrar, identity.RoleEducation, identity.RoleChecker}, Keys: []registry.Key{{VKey: agency.vkey}},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := personalities.NewServer(personalities.Options{Store: be.Store, Registry: reg,
		Personalities: map[string]personalities.Personality{identity.LogName: {Domain: identity.New(), Log: l}}})
	if err != nil {
		b.Fatal(err)
	}
	client, stop := startServer(b, srv)
	defer stop()
	submit := func(stmt []byte) error {
		_, err := client.Submit(b.Context(), &api.SubmitRequest{Log: identity.LogName, Statement: stmt})
		return err
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, identity.SubjectKeyName)
	if err != nil {
		b.Fatal(err)
	}
	subject, err := note.NewSigner(skey)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	must := func(stmt []byte) {
		if err := submit(stmt); err != nil {
			b.Fatal(err)
		}
	}
	must(statementFor(b, origin, identity.TypeRegister, now, map[string]string{"subject": vkey}, agency))
	must(statementFor(b, origin, identity.TypeIssueEducation, now, map[string]any{"credential_id": "dip-1", "subject": identity.SubjectID(vkey),
		"type": "diploma", "issued": "2024-07-01", "attributes": map[string]string{"degree": strings.Repeat("ab", 32)}}, agency))
	must(statementFor(b, origin, identity.TypeGrant, now, map[string]string{"grant_id": "g-1", "subject": vkey, "agency": "city-hall",
		"credential_type": "diploma", "purpose": "hiring", "until": "2099-12-31"}, subject))
	stmts := make([][]byte, b.N)
	for i := range stmts {
		stmts[i] = statementFor(b, origin, identity.TypeAccess, now, map[string]string{"access_id": fmt.Sprintf("a-%d", i),
			"grant_id": "g-1", "credential_id": "dip-1", "purpose": "hiring"}, agency)
	}
	submitAll(b, clients, stmts, submit, "accesses", "accesses/s")
}
