package petitions_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/petitions"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// FuzzApply feeds arbitrary types, bodies and times to the rules over a
// state with an open petition, signed once, and a closed one. A
// petition.sign whose body makes a statement is signed by the citizen the
// fuzzer picks, so the rules past Authenticate are reached. The rules must
// not panic, must refuse with a rule sentinel and write nothing when they
// refuse (ruletest.CheckApply), and an admitted signature must be counted.
func FuzzApply(f *testing.F) {
	alice, bob := newKey(f, "citizen"), newKey(f, "citizen")
	citizens := []key{alice, bob}
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	day := int64(24 * 60 * 60)
	for _, seed := range []struct {
		typ  string
		body []byte
		secs int64 // after t0
		who  uint8 // index in citizens
	}{
		{"petition.open", mustJSON(openBody("p9")), 0, 0},
		{"petition.open", mustJSON(openBody("p1")), 0, 0},
		{"petition.open", mustJSON(with(openBody("p9"), "closes", "2026-12-01T10:00:00+01:00")), 0, 0},
		{"petition.sign", mustJSON(signBody("p1", bob)), day, 1},
		{"petition.sign", mustJSON(signBody("p1", alice)), day, 0},
		{"petition.sign", mustJSON(signBody("p1", bob)), day, 0},
		{"petition.sign", mustJSON(signBody("p0", bob)), 20 * day, 1},
		{"petition.sign", mustJSON(signBody("p1", bob)), 100 * day, 1},
		{"petition.sign", []byte(`{"petition_id":"p1","petition_id":"p1","signer":"x"}`), day, 1},
		{"petition.open", []byte(`{"closes":1e999,"petition_id":[{}],"title":null}`), 0, 0},
		{"petition.open", []byte(`{"title":"\ud800"}`), 0, 0},
		{"petition.close", []byte(`{}`), 0, 0},
	} {
		f.Add(seed.typ, seed.body, seed.secs, seed.who)
	}
	ctx := context.Background()
	r := petitions.New()
	base := ruletest.State{}
	ruletest.Apply(f, r, base,
		open(f, "p1"),
		openAt(f, t0, cityA, with(openBody("p0"), "closes", "2026-12-10")),
		sign(f, "p1", alice),
	)
	f.Fuzz(func(t *testing.T, typ string, body []byte, secs int64, who uint8) {
		secs %= 400 * day // from about a year before t0 to a year after
		at := t0.Add(time.Duration(secs) * time.Second)
		e := rawEntry(cityA, typ, string(body))
		e.Time = at
		if typ == petitions.TypeSign && len(body) < govlog.MaxStatementSize/2 {
			e.Agency = ""
			if stmt, err := govlog.NewStatement(origin, typ, at, body); err == nil {
				e = statement(t, "", typ, stmt.Time, stmt.Body, citizens[int(who)%len(citizens)])
			}
		}
		st := base.Clone()
		_, err := ruletest.CheckApply(t, r, st, e)
		if err != nil || typ != petitions.TypeSign {
			return
		}
		b, err := petitions.ParseSignBody(e.Body)
		if err != nil {
			t.Fatalf("admitted a body its parser refuses: %v", err)
		}
		before, _, _ := petitions.Petition(ctx, base, b.PetitionID)
		after, _, err := petitions.Petition(ctx, st, b.PetitionID)
		if err != nil || after.Signatures != before.Signatures+1 {
			t.Fatalf("signature admitted, count %d then %d (%v)", before.Signatures, after.Signatures, err)
		}
	})
}

var _ rule.Domain = petitions.New()
