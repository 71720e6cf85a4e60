package ruletest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// roleLiar says every type needs role "liar".
type roleLiar struct{ *toy }

func (roleLiar) RequiredRole(string) (string, error) { return "liar", nil }

func TestCheckExamples(t *testing.T) {
	toyWith := func(change func(types []rule.TypeInfo) []rule.TypeInfo) *toy {
		d := newToy()
		d.types = change(d.types)
		return d
	}
	signOK := func(e rule.Entry) (rule.Entry, error) {
		if e.Agency != "" || time.Since(e.Time) > time.Minute || e.Type != "toy.self" {
			return e, errBroken
		}
		e.Signatures = []rule.Signature{{Name: "ok"}}
		return e, nil
	}
	signBadly := func(e rule.Entry) (rule.Entry, error) {
		e.Signatures = []rule.Signature{{Name: "forger"}}
		return e, nil
	}
	tests := []struct {
		name   string
		d      rule.Domain
		sign   ruletest.SignFunc
		report string // a substring of the failures; "": none
		log    string // a substring of the log
	}{
		{name: "skips self-signed", d: newToy(), log: "skipped the examples of toy.self: it is self-signed, and no SignFunc signs them"},
		{name: "signed", d: newToy(), sign: signOK},
		{name: "signed badly", d: newToy(), sign: signBadly, report: "example 1 of toy.self refused: not authorized: not signed by ok"},
		{name: "sign fails", d: newToy(), sign: func(e rule.Entry) (rule.Entry, error) { return e, errBroken },
			report: "example 1 of toy.self refused: couldn't sign: broken"},
		{name: "example refused", d: toyWith(func(ts []rule.TypeInfo) []rule.TypeInfo {
			ts[0].Examples = append(ts[0].Examples, ts[0].Examples[0])
			return ts
		}), report: "example 3 of toy.set refused: already exists: key a\n{\"key\":\"a\",\"value\":\"1\"}"},
		{name: "refused after a skip", d: toyWith(func(ts []rule.TypeInfo) []rule.TypeInfo {
			return append(ts, rule.TypeInfo{Type: "toy.set2", Role: "setter", Summary: "s", Examples: ts[0].Examples[:1]})
		}), report: "example 1 of toy.set2 refused (the examples of self-signed toy.self were skipped: CheckSignedExamples signs them): already exists"},
		{name: "no role", d: toyWith(func(ts []rule.TypeInfo) []rule.TypeInfo { ts[0].Role = ""; return ts }), report: `type "toy.set" has no role`},
		{name: "no summary", d: toyWith(func(ts []rule.TypeInfo) []rule.TypeInfo { ts[1].Summary = ""; return ts }), report: `type "toy.self" has no summary`},
		{name: "no example", d: toyWith(func(ts []rule.TypeInfo) []rule.TypeInfo { ts[1].Examples = nil; return ts }), report: `type "toy.self" has no example`},
		{name: "listed twice", d: toyWith(func(ts []rule.TypeInfo) []rule.TypeInfo { return append(ts, ts[2]) }), report: `type "toy.sloppy" is listed twice`},
		{name: "RequiredRole disagrees", d: roleLiar{newToy()},
			report: `RequiredRole("toy.set") = "liar", <nil>; Types() says "setter"`},
		{name: "RequiredRole knows every type", d: roleLiar{newToy()},
			report: `RequiredRole("ruletest.no-such-type") = <nil>, want an error wrapping rule.ErrUnknownType`},
		{name: "no types", d: toyWith(func([]rule.TypeInfo) []rule.TypeInfo { return nil }), report: "the toy rules describe no statement type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeT(t).run(func(ft testing.TB) {
				if tt.sign == nil {
					ruletest.CheckExamples(ft, tt.d)
				} else {
					ruletest.CheckSignedExamples(ft, tt.d, tt.sign)
				}
			})
			wantFailure(t, f, tt.report)
			if logs := strings.Join(f.logs, "\n"); !strings.Contains(logs, tt.log) {
				t.Errorf("logged %q, want %q", logs, tt.log)
			}
		})
	}
}

// TestCheckExamplesApplies checks that the examples reach the rules as
// DemoAgency's, in order, at the time of the test.
func TestCheckExamplesApplies(t *testing.T) {
	var seen []rule.Entry
	d := &recordingToy{toy: newToy(), seen: &seen}
	ruletest.CheckSignedExamples(t, d, func(e rule.Entry) (rule.Entry, error) {
		e.Signatures = []rule.Signature{{Name: "ok"}}
		return e, nil
	})
	var got []string
	for _, e := range seen {
		got = append(got, e.Type+" "+e.Agency+e.Signer+" "+string(e.Body))
		if time.Since(e.Time) > time.Minute || e.Time.Location() != time.UTC || e.LeafHash == ([32]byte{}) {
			t.Errorf("%s at %s, leaf hash %x", e.Type, e.Time, e.LeafHash)
		}
	}
	want := []string{
		`toy.set demo-agency {"key":"a","value":"1"}`,
		`toy.set demo-agency {"key":"b","value":"2"}`,
		`toy.self ok {"key":"c","value":"3"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("applied:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if seen[0].LeafHash == seen[1].LeafHash {
		t.Errorf("two examples share a leaf hash")
	}
}

// recordingToy notes the entries its rules are handed.
type recordingToy struct {
	*toy
	seen *[]rule.Entry
}

func (d *recordingToy) Apply(ctx context.Context, st rule.State, e rule.Entry) error {
	*d.seen = append(*d.seen, e)
	return d.toy.Apply(ctx, st, e)
}
