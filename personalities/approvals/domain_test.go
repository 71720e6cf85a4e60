package approvals_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/approvals"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruleset"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

const (
	owner     = "city-a" // owns the street-stall kind
	other     = "city-b"
	desk      = "desk-1" // the one-door window that files
	desk2     = "desk-2"
	official  = "staff-7"
	official2 = "staff-8"

	applicant = "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a"
	sitePlan  = "ef2d127de37b942baad06145e54b0c619a1f22327b2ebbcfbec78f5564afe39d"
)

// t0 is when the tests' first statements are made.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// testLog is an approvals log in memory: its state, and every entry
// admitted into it, in order, with the log's answers.
type testLog struct {
	t       testing.TB
	r       *approvals.Rules
	st      ruletest.State
	log     []rule.Entry
	entries map[[32]byte]rule.Entry
	seq     int
	// logs is what entries read of other logs.
	logs rule.Logs
}

func newLog(t testing.TB) *testLog {
	return &testLog{t: t, r: approvals.New(), st: ruletest.State{}, entries: map[[32]byte]rule.Entry{}}
}

// entry is a statement signed by agency's key, and by those of officials,
// at at; its index is set when it is submitted.
func (l *testLog) entry(agency, typ string, at time.Time, body string, officials ...string) rule.Entry {
	l.seq++
	e := rule.Entry{Type: typ, Time: at, Body: json.RawMessage(body), Agency: agency, Officials: officials, Logs: l.logs}
	e.LeafHash = sha256.Sum256(fmt.Appendf(nil, "%d %s %s", l.seq, typ, body))
	for _, name := range append([]string{agency}, officials...) {
		e.Signatures = append(e.Signatures, rule.Signature{Name: name})
	}
	return e
}

// submit admits e, as the next entry of the log, with the log's answers.
func (l *testLog) submit(e rule.Entry) ([]rule.Entry, error) {
	e.Index = uint64(len(l.log))
	answers, err := ruletest.AdmitAnswered(context.Background(), l.r, l.st, e, nil)
	if err != nil {
		return nil, err
	}
	for _, x := range append([]rule.Entry{e}, answers...) {
		l.log = append(l.log, x)
		l.entries[x.LeafHash] = x
	}
	return answers, nil
}

// must submits e and stops the test if it is refused; it returns the
// entry as admitted and the log's decision, if any.
func (l *testLog) must(e rule.Entry) (rule.Entry, *approvals.Decision) {
	l.t.Helper()
	answers, err := l.submit(e)
	if err != nil {
		l.t.Fatalf("%s %s: %v", e.Type, e.Body, err)
	}
	admitted := l.log[len(l.log)-1-len(answers)]
	if len(answers) == 0 {
		return admitted, nil
	}
	if len(answers) != 1 || answers[0].Type != approvals.TypeDecide {
		l.t.Fatalf("%s: the log answered %+v", e.Type, answers)
	}
	d, err := approvals.ParseDecision(answers[0].Body)
	if err != nil {
		l.t.Fatal(err)
	}
	return admitted, &d
}

// refuse checks that e is refused with an error wrapping want and saying
// msg, and that the state is left as it was.
func (l *testLog) refuse(e rule.Entry, want error, msg string) {
	l.t.Helper()
	before := l.st.Clone()
	_, err := l.submit(e)
	if !errors.Is(err, want) || !strings.Contains(fmt.Sprint(err), msg) {
		l.t.Errorf("%s %s: %v, want %v saying %q", e.Type, e.Body, err, want, msg)
	}
	if !ruletest.Equal(before, l.st) {
		l.t.Errorf("%s refused, but the state changed:\n%s", e.Type, ruletest.Diff(before, l.st))
	}
}

func (l *testLog) app(id string) approvals.Application {
	l.t.Helper()
	a, ok, err := approvals.ReadApplication(context.Background(), l.st, id)
	if err != nil || !ok {
		l.t.Fatalf("application %s: %v, %v", id, ok, err)
	}
	return a
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var stallFields = []ruleset.Field{{Name: "applicant", Type: ruleset.Commitment}, {Name: "area_m2", Type: ruleset.Int},
	{Name: "site_plan", Type: ruleset.SHA256}, {Name: "food", Type: ruleset.Bool}, {Name: "health_certified", Type: ruleset.Bool}}

var stallRules = []ruleset.Rule{
	{Name: "area", Expr: "area_m2 > 0 && area_m2 <= 6", Message: "a stall covers at most 6 square metres"},
	{Name: "food-hygiene", Expr: "!food || health_certified", Message: "a food stall needs its keeper's health certificate"},
}

// kind is the body of an approvals.rules.
func kind(t testing.TB, name string, version int64, official bool, fields []ruleset.Field, rules ...ruleset.Rule) string {
	return mustJSON(t, approvals.RulesBody{Kind: name, Version: version, Title: "Kind " + name, Fields: fields, Rules: rules,
		Official: official, DecideWithinDays: 5})
}

func stallKind(t testing.TB) string {
	return kind(t, "street-stall", 1, true, stallFields, stallRules...)
}

// fields are an application's fields: a good stall, with changes (nil
// deletes).
func fields(changes map[string]any) map[string]any {
	f := map[string]any{"applicant": applicant, "area_m2": 4, "site_plan": sitePlan, "food": true, "health_certified": true}
	for k, v := range changes {
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
	}
	return f
}

func applyBody(t testing.TB, id, kind string, f map[string]any, cites ...approvals.Cite) string {
	b := map[string]any{"application_id": id, "kind": kind, "fields": f}
	if len(cites) > 0 {
		b["cites"] = cites
	}
	return mustJSON(t, b)
}

func supplementBody(t testing.TB, id string, f map[string]any) string {
	return mustJSON(t, map[string]any{"application_id": id, "fields": f})
}

func signBody(id, decision, reason string) string {
	if reason == "" {
		return fmt.Sprintf(`{"application_id":%q,"decision":%q}`, id, decision)
	}
	return fmt.Sprintf(`{"application_id":%q,"decision":%q,"reason":%q}`, id, decision, reason)
}

// stallLog is a log with the street-stall kind published by owner.
func stallLog(t testing.TB) *testLog {
	l := newLog(t)
	l.must(l.entry(owner, approvals.TypeRules, t0, stallKind(t)))
	return l
}

func TestRulesRefused(t *testing.T) {
	strs := []ruleset.Field{{Name: "name", Type: ruleset.String}, {Name: "city", Type: ruleset.String}}
	tests := []struct {
		name    string
		agency  string
		body    func(t testing.TB) string
		wantErr error
		wantMsg string
	}{
		{"syntax error", owner, func(t testing.TB) string {
			return kind(t, "k", 1, true, stallFields, ruleset.Rule{Name: "area", Expr: "area_m2 >"})
		}, rule.ErrInvalidBody, `rule "area": ERROR: <input>:1:10: Syntax error`},
		{"undeclared field", owner, func(t testing.TB) string {
			return kind(t, "k", 1, true, stallFields, ruleset.Rule{Name: "area", Expr: "aera_m2 > 0"})
		}, rule.ErrInvalidBody, "undeclared reference to 'aera_m2'"},
		{"too costly", owner, func(t testing.TB) string {
			return kind(t, "k", 1, true, strs, ruleset.Rule{Name: "search", Expr: "name.contains(city)"})
		}, rule.ErrInvalidBody, "exceeds the bound 10000"},
		{"not bool", owner, func(t testing.TB) string {
			return kind(t, "k", 1, true, stallFields, ruleset.Rule{Name: "area", Expr: "area_m2 + 1"})
		}, rule.ErrInvalidBody, "not bool"},
		{"no days", owner, func(t testing.TB) string {
			return strings.Replace(kind(t, "k", 1, true, stallFields, stallRules...), `"decide_within_days":5`, `"decide_within_days":0`, 1)
		}, rule.ErrInvalidBody, "decide_within_days"},
		{"unknown member", owner, func(t testing.TB) string {
			return strings.Replace(stallKind(t), `"official":true`, `"official":true,"officials":2`, 1)
		}, rule.ErrInvalidBody, "officials"},
		{"version 2 by another agency", other, func(t testing.TB) string {
			return kind(t, "street-stall", 2, false, stallFields, stallRules...)
		}, rule.ErrNotAuthorized, "owned by city-a"},
		{"version 3 after 1", owner, func(t testing.TB) string {
			return kind(t, "street-stall", 3, true, stallFields, stallRules...)
		}, rule.ErrRuleViolation, "the next is 2, not 3"},
		{"version 1 again", owner, func(t testing.TB) string { return stallKind(t) }, rule.ErrRuleViolation, "the next is 2, not 1"},
		{"a new kind at version 2", owner, func(t testing.TB) string {
			return kind(t, "other-kind", 2, true, stallFields, stallRules...)
		}, rule.ErrRuleViolation, "its first version is 1, not 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := stallLog(t)
			e := l.entry(tt.agency, approvals.TypeRules, t0.Add(time.Hour), tt.body(t))
			l.refuse(e, tt.wantErr, tt.wantMsg)
			// The kit's own check: a refusal makes no Put, on an overlay or
			// on the state itself.
			if _, err := ruletest.CheckApply(t, l.r, l.st, e); !errors.Is(err, tt.wantErr) {
				t.Errorf("CheckApply = %v", err)
			}
		})
	}
}

func TestRulesPublished(t *testing.T) {
	l := stallLog(t)
	l.must(l.entry(owner, approvals.TypeRules, t0.Add(time.Hour), kind(t, "street-stall", 2, false, stallFields, stallRules[0])))
	k, ok, err := approvals.ReadKind(context.Background(), l.st, "street-stall")
	if err != nil || !ok || k.Owner != owner || k.Version != 2 {
		t.Fatalf("kind = %+v, %v, %v", k, ok, err)
	}
	v, ok, err := approvals.ReadVersion(context.Background(), l.st, "street-stall", 2)
	if err != nil || !ok || v.Official || len(v.Set.Rules) != 1 || v.LeafHash != fmt.Sprintf("%x", l.log[1].LeafHash) {
		t.Errorf("version 2 = %+v, %v, %v", v, ok, err)
	}
}

func TestApplyRefused(t *testing.T) {
	tests := []struct {
		name    string
		body    func(t testing.TB) string
		wantErr error
		wantMsg string
	}{
		{"unknown kind", func(t testing.TB) string { return applyBody(t, "a1", "dog-licence", fields(nil)) },
			rule.ErrInvalidBody, `no application kind "dog-licence"`},
		{"field of the wrong type", func(t testing.TB) string {
			return applyBody(t, "a1", "street-stall", fields(map[string]any{"area_m2": "4"}))
		},
			rule.ErrInvalidBody, `field "area_m2": not a JSON integer`},
		{"field not in the schema", func(t testing.TB) string {
			return applyBody(t, "a1", "street-stall", fields(map[string]any{"colour": "red"}))
		}, rule.ErrInvalidBody, `field "colour" is not in the schema`},
		{"a commitment that is not one", func(t testing.TB) string {
			return applyBody(t, "a1", "street-stall", fields(map[string]any{"applicant": "Li Wei"}))
		}, rule.ErrInvalidBody, "not a salted commitment"},
		{"null field", func(t testing.TB) string {
			return applyBody(t, "a1", "street-stall", fields(map[string]any{"food": json.RawMessage("null")}))
		},
			rule.ErrInvalidBody, `field "food"`},
		{"no fields", func(t testing.TB) string { return `{"application_id":"a1","fields":null,"kind":"street-stall"}` },
			rule.ErrInvalidBody, "fields"},
		{"bad ID", func(t testing.TB) string { return applyBody(t, "a/1", "street-stall", fields(nil)) }, rule.ErrInvalidBody, "application_id"},
		{"duplicate ID", func(t testing.TB) string { return applyBody(t, "a0", "street-stall", fields(nil)) }, rule.ErrAlreadyExists, "application a0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := stallLog(t)
			l.must(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a0", "street-stall", fields(nil))))
			l.refuse(l.entry(desk, approvals.TypeApply, t0, tt.body(t)), tt.wantErr, tt.wantMsg)
		})
	}
}

// TestApplication follows applications of the demo kind through the
// rules: one missing a field, one failing both rules, a supplement, and an
// official's sign-off.
func TestApplication(t *testing.T) {
	ctx := context.Background()
	l := stallLog(t)

	// A field left out: the log returns the application for it.
	_, d := l.must(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a1", "street-stall", fields(map[string]any{"health_certified": nil}))))
	want := approvals.Decision{ApplicationID: "a1", Kind: "street-stall", Version: 1, Outcome: approvals.Returned,
		Missing: []string{"health_certified"},
		Failed:  []ruleset.Failure{{Rule: "food-hygiene", Message: stallRules[1].Message, Reason: "missing field health_certified"}}}
	want.Filing = l.app("a1").Steps[0].LeafHash
	if mustJSON(t, d) != mustJSON(t, want) {
		t.Errorf("decision on a1 = %s, want %s", mustJSON(t, d), mustJSON(t, want))
	}
	if a := l.app("a1"); a.Status != approvals.StatusReturned || len(a.Steps) != 2 {
		t.Errorf("a1 = %+v", a)
	}

	// Both rules fail: the decision names both, with their messages.
	_, d = l.must(l.entry(desk2, approvals.TypeApply, t0, applyBody(t, "a2", "street-stall", fields(map[string]any{"area_m2": 9, "health_certified": false}))))
	if d.Outcome != approvals.Returned || len(d.Missing) != 0 || len(d.Failed) != 2 ||
		d.Failed[0] != (ruleset.Failure{Rule: "area", Message: stallRules[0].Message}) ||
		d.Failed[1] != (ruleset.Failure{Rule: "food-hygiene", Message: stallRules[1].Message}) {
		t.Errorf("decision on a2 = %+v", d)
	}

	// The supplement gives the field: the rules hold, an official must sign.
	_, d = l.must(l.entry(desk, approvals.TypeSupplement, t0.Add(time.Hour), supplementBody(t, "a1", map[string]any{"health_certified": true})))
	if d.Outcome != approvals.Passed || d.Version != 1 || len(d.Failed)+len(d.Missing) != 0 {
		t.Errorf("decision on the supplemented a1 = %+v", d)
	}
	a := l.app("a1")
	if a.Status != approvals.StatusOfficial || a.Due != "2026-03-07T09:00:00Z" || a.Submitted != "2026-03-02T10:00:00Z" || a.Filed != "2026-03-02T09:00:00Z" {
		t.Errorf("a1 = %+v", a)
	}
	if _, ok, err := l.r.Fact(ctx, l.st, approvals.FactApproved, "a1"); ok || err != nil {
		t.Errorf("Fact before the sign-off = %v, %v", ok, err)
	}

	// The owner's official approves.
	sign, _ := l.must(l.entry(owner, approvals.TypeSign, t0.Add(2*time.Hour), signBody("a1", approvals.Approve, "site inspected"), official))
	a = l.app("a1")
	if a.Status != approvals.StatusApproved || a.Automatic || a.Decided != "2026-03-02T11:00:00Z" || a.Due != "" {
		t.Errorf("a1 = %+v", a)
	}
	f, ok, err := l.r.Fact(ctx, l.st, approvals.FactApproved, "a1")
	if err != nil || !ok || f.Since != sign.Index || f.LeafHash != sign.LeafHash {
		t.Fatalf("Fact = %+v, %v, %v; the sign-off is entry %d", f, ok, err, sign.Index)
	}
	var fact approvals.ApprovedFact
	if err := json.Unmarshal(f.Value, &fact); err != nil || fact.ApplicationID != "a1" || fact.Owner != owner || fact.Agency != desk ||
		string(fact.Fields["health_certified"]) != "true" || len(fact.Fields) != 5 {
		t.Errorf("the fact's value = %s, %v", f.Value, err)
	}
	if _, ok, err := l.r.Fact(ctx, l.st, "refused", "a1"); ok || err != nil {
		t.Errorf("Fact of another name = %v, %v", ok, err)
	}
	if _, ok, err := l.r.Fact(ctx, l.st, approvals.FactApproved, "a2"); ok || err != nil {
		t.Errorf("Fact of a returned application = %v, %v", ok, err)
	}
	stats, err := approvals.ReadAgencyStats(ctx, l.st, owner)
	recent, rerr := approvals.RecentTimes(ctx, l.st, owner)
	if err != nil || rerr != nil || stats.Applications != 2 || stats.Decided != 1 || stats.Automatic != 0 || stats.WithOfficial != 0 ||
		!slices.Equal(recent, []int64{7200}) {
		t.Errorf("the owner's figures = %+v, %v", stats, err)
	}
	ruletest.ReplayEqualsState(t, l.r, l.log, l.st)
}

func TestRefusedSignOff(t *testing.T) {
	l := stallLog(t)
	l.must(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a1", "street-stall", fields(nil))))
	l.must(l.entry(owner, approvals.TypeSign, t0.Add(time.Hour), signBody("a1", approvals.Refuse, "the square is closed for works"), official))
	if a := l.app("a1"); a.Status != approvals.StatusRefused || a.Decided == "" {
		t.Errorf("a1 = %+v", a)
	}
	if _, ok, err := l.r.Fact(context.Background(), l.st, approvals.FactApproved, "a1"); ok || err != nil {
		t.Errorf("Fact of a refused application = %v, %v", ok, err)
	}
	l.refuse(l.entry(owner, approvals.TypeSign, t0, `{"application_id":"a1","decision":"refuse"}`, official), rule.ErrInvalidBody, "reason")
}

func TestAutomaticApproval(t *testing.T) {
	ctx := context.Background()
	l := newLog(t)
	l.must(l.entry(other, approvals.TypeRules, t0, kind(t, "market-stall", 1, false, stallFields, stallRules...)))
	e, d := l.must(l.entry(desk, approvals.TypeApply, t0.Add(time.Minute), applyBody(t, "m1", "market-stall", fields(nil))))
	if d.Outcome != approvals.Approved || d.Version != 1 {
		t.Fatalf("decision = %+v", d)
	}
	decide := l.log[e.Index+1]
	f, ok, err := l.r.Fact(ctx, l.st, approvals.FactApproved, "m1")
	if err != nil || !ok || f.Since != decide.Index || f.LeafHash != decide.LeafHash {
		t.Errorf("Fact = %+v, %v, %v; the decision is entry %d", f, ok, err, decide.Index)
	}
	a := l.app("m1")
	if a.Status != approvals.StatusApproved || !a.Automatic || a.Decided != "2026-03-02T09:01:00Z" {
		t.Errorf("m1 = %+v", a)
	}
	stats, err := approvals.ReadAgencyStats(ctx, l.st, other)
	recent, rerr := approvals.RecentTimes(ctx, l.st, other)
	if err != nil || rerr != nil || stats.Applications != 1 || stats.Decided != 1 || stats.Automatic != 1 || !slices.Equal(recent, []int64{0}) {
		t.Errorf("figures = %+v, %v", stats, err)
	}
	// Nothing is left for an official.
	l.refuse(l.entry(other, approvals.TypeSign, t0.Add(time.Hour), signBody("m1", approvals.Approve, ""), official), rule.ErrRuleViolation, "approved")
}

func TestWhoMayDecide(t *testing.T) {
	// passed: a1 is with an official; returned: a2 waits for a supplement.
	setup := func(t *testing.T) *testLog {
		l := stallLog(t)
		l.must(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a1", "street-stall", fields(nil))))
		l.must(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a2", "street-stall", fields(map[string]any{"area_m2": 12}))))
		return l
	}
	at := t0.Add(time.Hour)
	t.Run("another agency decides", func(t *testing.T) {
		l := setup(t)
		l.refuse(l.entry(other, approvals.TypeSign, at, signBody("a1", approvals.Approve, ""), official), rule.ErrNotAuthorized, "decided by city-a")
	})
	t.Run("no official", func(t *testing.T) {
		l := setup(t)
		l.refuse(l.entry(owner, approvals.TypeSign, at, signBody("a1", approvals.Approve, "")), rule.ErrNotAuthorized, "registered officials")
	})
	t.Run("a second decision", func(t *testing.T) {
		l := setup(t)
		l.must(l.entry(owner, approvals.TypeSign, at, signBody("a1", approvals.Approve, ""), official))
		l.refuse(l.entry(owner, approvals.TypeSign, at, signBody("a1", approvals.Refuse, "changed my mind"), official), rule.ErrRuleViolation, "is approved")
	})
	t.Run("two officials in sequence", func(t *testing.T) {
		l := setup(t)
		l.must(l.entry(owner, approvals.TypeSign, at, signBody("a1", approvals.Refuse, "no room"), official))
		l.refuse(l.entry(owner, approvals.TypeSign, at, signBody("a1", approvals.Approve, ""), official2), rule.ErrRuleViolation, "is refused")
	})
	t.Run("sign a returned application", func(t *testing.T) {
		l := setup(t)
		l.refuse(l.entry(owner, approvals.TypeSign, at, signBody("a2", approvals.Approve, ""), official), rule.ErrRuleViolation, "is returned")
	})
	t.Run("sign no application", func(t *testing.T) {
		l := setup(t)
		l.refuse(l.entry(owner, approvals.TypeSign, at, signBody("a9", approvals.Approve, ""), official), rule.ErrRuleViolation, "no application a9")
	})
	t.Run("supplement to an approved application", func(t *testing.T) {
		l := setup(t)
		l.must(l.entry(owner, approvals.TypeSign, at, signBody("a1", approvals.Approve, ""), official))
		l.refuse(l.entry(desk, approvals.TypeSupplement, at, supplementBody(t, "a1", map[string]any{"area_m2": 3})), rule.ErrRuleViolation, "is approved")
	})
	t.Run("supplement to an application with an official", func(t *testing.T) {
		l := setup(t)
		l.refuse(l.entry(desk, approvals.TypeSupplement, at, supplementBody(t, "a1", map[string]any{"area_m2": 3})), rule.ErrRuleViolation, "is with-official")
	})
	t.Run("supplement by another agency", func(t *testing.T) {
		l := setup(t)
		l.refuse(l.entry(desk2, approvals.TypeSupplement, at, supplementBody(t, "a2", map[string]any{"area_m2": 3})), rule.ErrNotAuthorized, "filed by desk-1")
	})
	t.Run("supplement of a field not in the schema", func(t *testing.T) {
		l := setup(t)
		l.refuse(l.entry(desk, approvals.TypeSupplement, at, supplementBody(t, "a2", map[string]any{"colour": "red"})), rule.ErrInvalidBody, "not in the schema")
	})
	t.Run("supplement to no application", func(t *testing.T) {
		l := setup(t)
		l.refuse(l.entry(desk, approvals.TypeSupplement, at, supplementBody(t, "a9", map[string]any{"area_m2": 3})), rule.ErrRuleViolation, "no application a9")
	})
	t.Run("duplicate application", func(t *testing.T) {
		l := setup(t)
		l.refuse(l.entry(desk2, approvals.TypeApply, at, applyBody(t, "a2", "street-stall", fields(nil))), rule.ErrAlreadyExists, "application a2")
	})
	t.Run("a decision nobody is owed", func(t *testing.T) {
		l := setup(t)
		d := `{"application_id":"a2","filing":"` + strings.Repeat("1", 64) + `","kind":"street-stall","outcome":"passed","version":1}`
		l.refuse(l.entry(ruletest.LogAgency, approvals.TypeDecide, at, d), rule.ErrRuleViolation, "owes no decision on application a2")
	})
}

// TestForgedDecision: the log's decision is checked by the rules, which
// evaluate the application again; and until it is written, nothing else is
// admitted.
func TestForgedDecision(t *testing.T) {
	ctx := context.Background()
	l := stallLog(t)
	apply := l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a1", "street-stall", fields(map[string]any{"area_m2": 40})))
	apply.Index = 1
	if _, err := ruletest.Admit(ctx, l.r, l.st, apply, nil); err != nil {
		t.Fatal(err)
	}
	filing := hex.EncodeToString(apply.LeafHash[:])
	forged := func(outcome string) string {
		return mustJSON(t, approvals.Decision{ApplicationID: "a1", Filing: filing, Kind: "street-stall", Version: 1, Outcome: outcome})
	}
	l.refuse(l.entry(ruletest.LogAgency, approvals.TypeDecide, t0, forged(approvals.Passed)), rule.ErrRuleViolation, "the log decided")
	l.refuse(l.entry(ruletest.LogAgency, approvals.TypeDecide, t0, forged(approvals.Approved)), rule.ErrRuleViolation, "the log decided")
	// The right outcome, but not the rule that failed.
	l.refuse(l.entry(ruletest.LogAgency, approvals.TypeDecide, t0, forged(approvals.Returned)), rule.ErrRuleViolation, "the log decided")
	wrongVersion := mustJSON(t, approvals.Decision{ApplicationID: "a1", Filing: filing, Kind: "street-stall", Version: 2, Outcome: approvals.Returned,
		Failed: []ruleset.Failure{{Rule: "area", Message: stallRules[0].Message}}})
	l.refuse(l.entry(ruletest.LogAgency, approvals.TypeDecide, t0, wrongVersion), rule.ErrRuleViolation, "the log decided")
	other := mustJSON(t, approvals.Decision{ApplicationID: "a2", Filing: filing, Kind: "street-stall", Version: 1, Outcome: approvals.Returned})
	l.refuse(l.entry(ruletest.LogAgency, approvals.TypeDecide, t0, other), rule.ErrRuleViolation, "owes no decision on application a2")

	const owed = "has not written its decision on application a1"
	l.refuse(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a2", "street-stall", fields(nil))), rule.ErrRuleViolation, owed)
	l.refuse(l.entry(owner, approvals.TypeRules, t0, kind(t, "street-stall", 2, true, stallFields, stallRules...)), rule.ErrRuleViolation, owed)
	l.refuse(l.entry(desk, approvals.TypeSupplement, t0, supplementBody(t, "a1", map[string]any{"area_m2": 4})), rule.ErrRuleViolation, owed)
	l.refuse(l.entry(owner, approvals.TypeSign, t0, signBody("a1", approvals.Approve, ""), official), rule.ErrRuleViolation, owed)

	// The true decision is admitted, and the log moves on.
	// A decision of another filing is refused.
	notThis := mustJSON(t, approvals.Decision{ApplicationID: "a1", Filing: strings.Repeat("0", 64), Kind: "street-stall", Version: 1, Outcome: approvals.Returned,
		Failed: []ruleset.Failure{{Rule: "area", Message: stallRules[0].Message}}})
	l.refuse(l.entry(ruletest.LogAgency, approvals.TypeDecide, t0, notThis), rule.ErrRuleViolation, "the filing waiting for it is")
	right := mustJSON(t, approvals.Decision{ApplicationID: "a1", Filing: filing, Kind: "street-stall", Version: 1, Outcome: approvals.Returned,
		Failed: []ruleset.Failure{{Rule: "area", Message: stallRules[0].Message}}})
	if _, err := ruletest.Admit(ctx, l.r, l.st, l.entry(ruletest.LogAgency, approvals.TypeDecide, t0, right), nil); err != nil {
		t.Fatalf("the true decision: %v", err)
	}
	l.must(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a2", "street-stall", fields(nil))))
}

// TestRuleChange: a new version decides every filing after it, a
// supplement to an application returned under the old one too.
func TestRuleChange(t *testing.T) {
	l := stallLog(t)
	// Returned under version 1: too large.
	l.must(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "old", "street-stall", fields(map[string]any{"area_m2": 8}))))

	// Version 2: at most 4 square metres, no site plan any more, no
	// official.
	v2fields := slices.DeleteFunc(slices.Clone(stallFields), func(f ruleset.Field) bool { return f.Name == "site_plan" })
	v2rules := []ruleset.Rule{{Name: "area", Expr: "area_m2 > 0 && area_m2 <= 4", Message: "at most 4 square metres"}, stallRules[1]}
	l.must(l.entry(owner, approvals.TypeRules, t0.Add(time.Hour), kind(t, "street-stall", 2, false, v2fields, v2rules...)))

	// A new application is judged by version 2: 5 m² passed version 1.
	_, d := l.must(l.entry(desk, approvals.TypeApply, t0.Add(2*time.Hour),
		applyBody(t, "new", "street-stall", fields(map[string]any{"area_m2": 5, "site_plan": nil}))))
	if d.Version != 2 || d.Outcome != approvals.Returned || len(d.Failed) != 1 || d.Failed[0].Message != "at most 4 square metres" {
		t.Errorf("decision on a new application = %+v", d)
	}
	// A field version 2 no longer declares is refused.
	l.refuse(l.entry(desk, approvals.TypeApply, t0.Add(2*time.Hour), applyBody(t, "new2", "street-stall", fields(nil))),
		rule.ErrInvalidBody, `field "site_plan" is not in the schema`)

	// The old application, supplemented now, is judged by version 2, which
	// drops its site plan.
	_, d = l.must(l.entry(desk, approvals.TypeSupplement, t0.Add(3*time.Hour), supplementBody(t, "old", map[string]any{"area_m2": 5})))
	if d.Version != 2 || d.Outcome != approvals.Returned || d.Failed[0].Message != "at most 4 square metres" {
		t.Errorf("decision on the supplemented application = %+v", d)
	}
	_, d = l.must(l.entry(desk, approvals.TypeSupplement, t0.Add(4*time.Hour), supplementBody(t, "old", map[string]any{"area_m2": 3})))
	if d.Version != 2 || d.Outcome != approvals.Approved {
		t.Errorf("decision on the second supplement = %+v", d)
	}
	a := l.app("old")
	if _, ok := a.Fields["site_plan"]; ok || string(a.Fields["area_m2"]) != "3" || a.Status != approvals.StatusApproved || len(a.Steps) != 6 {
		t.Errorf("old = %+v", a)
	}
	ruletest.ReplayEqualsState(t, l.r, l.log, l.st)
}

// fakeLogs is another log that holds the entries of held.
type fakeLogs struct{ held map[[32]byte]bool }

func (f fakeLogs) Fact(context.Context, string, string, string) (rule.Fact, bool, error) {
	return rule.Fact{}, false, nil
}

func (f fakeLogs) Entry(_ context.Context, log string, h [32]byte) (uint64, bool, error) {
	return 7, log == "disclosures" && f.held[h], nil
}

func TestCitations(t *testing.T) {
	held, unheld := [32]byte{1}, [32]byte{2}
	cite := func(h [32]byte) approvals.Cite {
		return approvals.Cite{Log: "disclosures", LeafHash: fmt.Sprintf("%x", h)}
	}
	logs := fakeLogs{held: map[[32]byte]bool{held: true}}
	t.Run("no other logs", func(t *testing.T) {
		l := stallLog(t)
		l.refuse(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a1", "street-stall", fields(nil), cite(held))), rule.ErrRuleViolation, "no other logs")
	})
	t.Run("an entry the log does not hold", func(t *testing.T) {
		l := stallLog(t)
		l.logs = logs
		l.refuse(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a1", "street-stall", fields(nil), cite(held), cite(unheld))),
			rule.ErrRuleViolation, "the disclosures log holds no entry "+cite(unheld).LeafHash)
	})
	t.Run("held", func(t *testing.T) {
		l := stallLog(t)
		l.logs = logs
		l.must(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a1", "street-stall", fields(map[string]any{"area_m2": 9}), cite(held))))
		if a := l.app("a1"); len(a.Cites) != 1 || a.Cites[0] != cite(held) {
			t.Errorf("a1 cites %+v", a.Cites)
		}
		// A supplement citing an entry not held is refused too.
		l.refuse(l.entry(desk, approvals.TypeSupplement, t0, mustJSON(t, approvals.SupplementBody{ApplicationID: "a1",
			Fields: map[string]json.RawMessage{"area_m2": json.RawMessage("4")}, Cites: []approvals.Cite{cite(unheld)}})),
			rule.ErrRuleViolation, "holds no entry")
	})
	t.Run("a malformed citation", func(t *testing.T) {
		l := stallLog(t)
		l.logs = logs
		l.refuse(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a1", "street-stall", fields(nil), approvals.Cite{Log: "disclosures", LeafHash: "abc"})),
			rule.ErrInvalidBody, "leaf_hash")
	})
}

func TestUnknownType(t *testing.T) {
	l := stallLog(t)
	l.refuse(l.entry(owner, "approvals.revoke", t0, `{}`), rule.ErrUnknownType, "approvals.revoke")
}

func TestStorageFailures(t *testing.T) {
	l := stallLog(t)
	ruletest.CheckStorageFailures(t, l.r, l.st, l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a1", "street-stall", fields(nil))))
	l.must(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a1", "street-stall", fields(nil))))
	ruletest.CheckStorageFailures(t, l.r, l.st, l.entry(owner, approvals.TypeSign, t0, signBody("a1", approvals.Approve, ""), official))
}
