package votes_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule/ruletest"
	"github.com/govlog/govlog/personalities/votes"
)

// FuzzParse feeds arbitrary bodies to the body parsers: they must not
// panic, and what they accept must survive a round trip through JSON.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"election_id":"e1","question":"Q?","options":["A","B"],"opens":"2026-01-01T00:00:00Z","closes":"2026-01-02T00:00:00Z","issuer_key":"AAAA"}`,
		`{"election_id":"e1","batch":1,"count":5}`,
		`{"election_id":"e1","choice":"A","token":{"key":"voter+00000000+AAAA","prefix":"00","signature":"AA=="}}`,
		`{"election_id":"e1","counts":{"A":1,"B":0},"ballots":1,"tokens":2,"last_ballot":"` + hexOf([32]byte{1}) + `"}`,
		`{"election_id":"e1","counts":{"A":1,"A":0},"ballots":1,"tokens":2,"last_ballot":""}`,
		`{"election_id":"e1","counts":[],"ballots":0,"tokens":0,"last_ballot":""}`,
		`{"counts":{"\ud800":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if b, err := votes.ParseOpenBody(data); err == nil {
			again, _ := json.Marshal(b)
			if _, err := votes.ParseOpenBody(again); err != nil {
				t.Errorf("open body %s accepted, its re-encoding %s refused: %v", data, again, err)
			}
		}
		if b, err := votes.ParseTokensBody(data); err == nil && (b.Batch < 1 || b.Count < 1) {
			t.Errorf("tokens body %s accepted as %+v", data, b)
		}
		if b, err := votes.ParseBallotBody(data); err == nil {
			again, _ := json.Marshal(b)
			if _, err := votes.ParseBallotBody(again); err != nil {
				t.Errorf("ballot body %s accepted, its re-encoding %s refused: %v", data, again, err)
			}
		}
		if b, err := votes.ParseCloseBody(data); err == nil {
			var sum int64
			for _, n := range b.Counts {
				sum += n
			}
			if sum != b.Ballots || b.Ballots > b.Tokens {
				t.Errorf("close body %s accepted as %+v", data, b)
			}
		}
	})
}

// FuzzApply feeds arbitrary types, bodies and times to the rules over a
// state with an open election, tokens and a ballot. A votes.ballot whose
// body makes a statement is signed by the fuzzer's voter, so the rules past
// the signature check are reached. The rules must not panic and must
// refuse with a rule sentinel, writing nothing (ruletest.CheckApply).
func FuzzApply(f *testing.F) {
	v := newVoter(f, election)
	mustJSON := func(x any) []byte {
		b, err := json.Marshal(x)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	for _, seed := range []struct {
		typ  string
		body []byte
		secs int64
	}{
		{votes.TypeBallot, mustJSON(ballotBody(election, "South", v.token)), 3600},
		{votes.TypeBallot, mustJSON(ballotBody(election, "West", v.token)), 3600},
		{votes.TypeTokens, []byte(`{"election_id":"e1","batch":2,"count":3}`), 0},
		{votes.TypeClose, []byte(`{"election_id":"e1","counts":{"North":1,"South":0,"None":0},"ballots":1,"tokens":2,"last_ballot":"` + hexOf([32]byte{1}) + `"}`), 12 * 3600},
		{votes.TypeOpen, mustJSON(openBody(f, "e2")), -3600},
	} {
		f.Add(seed.typ, seed.body, seed.secs)
	}
	r := votes.New()
	base := ruletest.State{}
	ruletest.Apply(f, r, base, openE(f, openBody(f, election)), tokens(f, election, 1, 2), ballot(f, "North", newVoter(f, election)))
	f.Fuzz(func(t *testing.T, typ string, body []byte, secs int64) {
		secs %= 400 * 24 * 3600
		at := t0.Add(time.Duration(secs) * time.Second)
		e := statement(t, "", votes.TypeOpen, at, map[string]any{}, agencyKey())
		e.Type, e.Body, e.Agency = typ, body, authority
		if typ == votes.TypeBallot && len(body) < govlog.MaxStatementSize/2 {
			if stmt, err := govlog.NewStatement(origin, typ, at, body); err == nil {
				e = statement(t, "", typ, stmt.Time, stmt.Body, v.key)
			}
		}
		ruletest.CheckApply(t, r, base.Clone(), e)
	})
}
