package identity_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/identity"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

func examplesOf(typ string) [][]byte {
	var out [][]byte
	for _, ti := range identity.New().Types() {
		if ti.Type == typ {
			for _, ex := range ti.Examples {
				out = append(out, ex)
			}
		}
	}
	return out
}

// fuzzParse fuzzes a body parser, seeded with the examples of typ: it
// must not panic, must refuse with rule.ErrInvalidBody, and what it
// accepts must marshal to a body it reads the same.
func fuzzParse[B any](f *testing.F, typ string, parse func([]byte) (B, error), seeds ...string) {
	for _, ex := range examplesOf(typ) {
		f.Add(ex)
	}
	for _, s := range append(seeds, `{}`, `[]`, `{"attributes":{"a":1}}`, "{\"subject\":\"\xff\"}", `{"attributes":{"a":{"b":{}}}}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := parse(data)
		if err != nil {
			if !errors.Is(err, rule.ErrInvalidBody) {
				t.Fatalf("refused with %v, not rule.ErrInvalidBody", err)
			}
			return
		}
		again, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := parse(again)
		if err != nil {
			t.Fatalf("accepted %s as %+v, which marshals to %s, refused: %v", data, b, again, err)
		}
		if !reflect.DeepEqual(b, b2) {
			t.Fatalf("accepted %s as %+v; marshalled, %s, it reads %+v", data, b, again, b2)
		}
	})
}

const c64 = "0b5945ca491a7fa294bf715ce16ba36f6d46e380a3da11fad05f18954d5bef9f"

func FuzzParseRegisterBody(f *testing.F) {
	fuzzParse(f, identity.TypeRegister, identity.ParseRegisterBody, `{"subject":"subject+00000000+AAAA"}`)
}

func FuzzParseIssueBody(f *testing.F) {
	fuzzParse(f, identity.TypeIssueCivil, identity.ParseIssueBody,
		`{"credential_id":"c","subject":"s-3fb5efed15a9a04043d0c0ae4e9c885f","type":"divorce","issued":"2024-02-29","expires":"2024-03-01","attributes":{"a_1":"`+c64+`"},"supersedes":"m"}`,
		`{"credential_id":"c","subject":"s-3fb5efed15a9a04043d0c0ae4e9c885f","type":"birth","issued":"2024-02-29","attributes":{"A":"`+c64+`"},"supersedes":"c"}`)
}

func FuzzParseGrantBody(f *testing.F) {
	fuzzParse(f, identity.TypeGrant, identity.ParseGrantBody)
}

func FuzzParseWithdrawBody(f *testing.F) {
	fuzzParse(f, identity.TypeWithdraw, identity.ParseWithdrawBody)
}

func FuzzParseAccessBody(f *testing.F) {
	fuzzParse(f, identity.TypeAccess, identity.ParseAccessBody)
}

func FuzzParseRevokeBody(f *testing.F) {
	fuzzParse(f, identity.TypeRevoke, identity.ParseRevokeBody, `{"credential_id":"c","reason":"\u202e"}`)
}

func FuzzParseBirthBody(f *testing.F) {
	fuzzParse(f, identity.TypeBirth, identity.ParseBirthBody)
}

func FuzzParseMarriageBody(f *testing.F) {
	fuzzParse(f, identity.TypeMarriage, identity.ParseMarriageBody)
}

func FuzzParseEmploymentBody(f *testing.F) {
	fuzzParse(f, identity.TypeEmployment, identity.ParseEmploymentBody)
}

func FuzzParseIncidentBody(f *testing.F) {
	fuzzParse(f, identity.TypeIncident, identity.ParseIncidentBody)
}

// FuzzApply judges any agency statement over the scenario's state: the
// rules never panic, refuse with a rule sentinel and write nothing when
// they refuse (ruletest.CheckApply).
func FuzzApply(f *testing.F) {
	var types []string
	for _, ti := range identity.New().Types() {
		if ti.Role == rule.SelfSigned {
			continue
		}
		types = append(types, ti.Type)
		for _, ex := range ti.Examples {
			f.Add(uint8(len(types)-1), []byte(ex))
		}
	}
	f.Add(uint8(0), []byte(`{"access_id":"a-9","grant_id":"g-pub","credential_id":"hc-1","purpose":"service-work"}`))
	base := scenario(f)
	f.Fuzz(func(t *testing.T, typ uint8, data []byte) {
		e := rule.Entry{Type: types[int(typ)%len(types)], Time: t0.Add(24 * time.Hour), Body: data, Agency: checker, LeafHash: [32]byte{9}}
		ruletest.CheckApply(t, identity.New(), base.st.Clone(), e)
	})
}
