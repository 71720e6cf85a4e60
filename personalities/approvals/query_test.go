package approvals_test

import (
	"bytes"
	"context"
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

// memView is a rule.View over a test log's state and entries.
type memView struct {
	ruletest.State
	entries map[[32]byte]rule.Entry
}

var _ rule.View = memView{}

func (v memView) Entry(_ context.Context, h [32]byte) (rule.Entry, bool, error) {
	e, ok := v.entries[h]
	e.Agency = ""
	return e, ok, nil
}

func (l *testLog) view() memView { return memView{l.st, l.entries} }

// proved is e as a client holding its inclusion proof sees it.
func proved(e rule.Entry) rule.ProvedEntry {
	p := rule.ProvedEntry{LeafHash: e.LeafHash, Index: e.Index, Type: e.Type, Time: e.Time, Body: e.Body}
	for _, s := range e.Signatures {
		p.Signers = append(p.Signers, s.Name)
	}
	return p
}

// queryLog is a log with applications in every state:
//
//	a1  returned for a missing field, supplemented, passed, approved by an official
//	a2  returned under version 1, supplemented under version 2 (which
//	    drops site_plan and needs no official): approved by the rules
//	a3  passed, with an official
//	m1  of a kind without officials: approved at once
func queryLog(t testing.TB) *testLog {
	l := stallLog(t)
	l.must(l.entry(other, approvals.TypeRules, t0, kind(t, "market-stall", 1, false, stallFields, stallRules...)))
	l.must(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a1", "street-stall", fields(map[string]any{"health_certified": nil}))))
	l.must(l.entry(desk2, approvals.TypeApply, t0, applyBody(t, "a2", "street-stall", fields(map[string]any{"area_m2": 9}))))
	l.must(l.entry(desk, approvals.TypeApply, t0.Add(time.Minute), applyBody(t, "a3", "street-stall", fields(nil))))
	l.must(l.entry(desk, approvals.TypeApply, t0.Add(time.Minute), applyBody(t, "m1", "market-stall", fields(nil))))
	l.must(l.entry(desk, approvals.TypeSupplement, t0.Add(time.Hour), supplementBody(t, "a1", map[string]any{"health_certified": true})))
	l.must(l.entry(owner, approvals.TypeSign, t0.Add(2*time.Hour), signBody("a1", approvals.Approve, "site inspected"), official))
	v2fields := slices.DeleteFunc(slices.Clone(stallFields), func(f ruleset.Field) bool { return f.Name == "site_plan" })
	l.must(l.entry(owner, approvals.TypeRules, t0.Add(3*time.Hour), kind(t, "street-stall", 2, false, v2fields, stallRules...)))
	l.must(l.entry(desk2, approvals.TypeSupplement, t0.Add(4*time.Hour), supplementBody(t, "a2", map[string]any{"area_m2": 3})))
	return l
}

// answer asks the log the application query about id and returns the
// answer as a client receives it, with the entries it cites, proved.
func answer(t testing.TB, l *testLog, id string) ([]byte, []rule.ProvedEntry) {
	t.Helper()
	v := l.view()
	res, cited, err := l.r.Query(context.Background(), v, approvals.QueryApplication, map[string]string{"id": id})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var ps []rule.ProvedEntry
	for _, h := range cited {
		e, ok, err := v.Entry(context.Background(), h)
		if err != nil || !ok {
			t.Fatalf("cited %x: %v, %v", h, ok, err)
		}
		ps = append(ps, proved(l.entries[e.LeafHash]))
	}
	return b, ps
}

// leafHashes returns the values of every "leaf_hash" member of a JSON
// document, as a client collects them.
func leafHashes(doc any) []string {
	var out []string
	switch x := doc.(type) {
	case map[string]any:
		for k, y := range x {
			if k == "leaf_hash" {
				out = append(out, fmt.Sprint(y))
				continue
			}
			out = append(out, leafHashes(y)...)
		}
	case []any:
		for _, y := range x {
			out = append(out, leafHashes(y)...)
		}
	}
	return out
}

func TestQuery(t *testing.T) {
	l := queryLog(t)
	tests := []struct {
		id                string
		status            string
		steps, versions   int
		wantCheck         string
		wantDue, wantDecd string
	}{
		{"a1", approvals.StatusApproved, 5, 1, "application a1: approved by an official of city-a (staff-7) after 2 decisions of the rules", "", "2026-03-02T11:00:00Z"},
		{"a2", approvals.StatusApproved, 4, 2, "application a2: approved by version 2 of the rules alone after 2 decisions of the rules", "", "2026-03-02T13:00:00Z"},
		{"a3", approvals.StatusOfficial, 2, 1, "application a3: passed by the rules, waiting for an official of city-a, due 2026-03-07T09:01:00Z after 1 decision of the rules", "2026-03-07T09:01:00Z", ""},
		{"m1", approvals.StatusApproved, 2, 1, "application m1: approved by version 1 of the rules alone after 1 decision of the rules", "", "2026-03-02T09:01:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			res, cited, err := l.r.Query(context.Background(), l.view(), approvals.QueryApplication, map[string]string{"id": tt.id})
			if err != nil {
				t.Fatal(err)
			}
			a := res.(*approvals.ApplicationAnswer)
			if a.ID != tt.id || a.Status != tt.status || len(a.Steps) != tt.steps || len(a.Versions) != tt.versions ||
				len(cited) != tt.steps+tt.versions || a.Due != tt.wantDue || a.Decided != tt.wantDecd {
				t.Fatalf("answer %+v, %d cited", a, len(cited))
			}
			// Every leaf_hash member is an entry cited, and the other way round.
			b, ps := answer(t, l, tt.id)
			var doc any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			var citedHex []string
			for _, h := range cited {
				citedHex = append(citedHex, fmt.Sprintf("%x", h))
			}
			if got := leafHashes(doc); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(citedHex))) {
				t.Errorf("leaf_hash members %q, cited %q", got, citedHex)
			}
			checked, err := l.r.CheckAnswer(approvals.QueryApplication, map[string]string{"id": tt.id}, b, ps)
			if err != nil || !strings.HasPrefix(checked, tt.wantCheck) ||
				!strings.HasSuffix(checked, fmt.Sprintf("%d entries proved (%d steps, %d versions of the rules)", len(ps), tt.steps, tt.versions)) {
				t.Errorf("CheckAnswer = %q, %v\nwant it to begin %q", checked, err, tt.wantCheck)
			}
		})
	}
	// a2's fields are what version 2 kept of them: no site plan.
	res, _, _ := l.r.Query(context.Background(), l.view(), approvals.QueryApplication, map[string]string{"id": "a2"})
	if a := res.(*approvals.ApplicationAnswer); a.Fields["site_plan"] != nil || string(a.Fields["area_m2"]) != "3" || len(a.Fields) != 4 {
		t.Errorf("a2's fields = %s", mustJSON(t, a.Fields))
	}
}

func TestQueryCites(t *testing.T) {
	l := stallLog(t)
	held := [32]byte{1}
	l.logs = fakeLogs{held: map[[32]byte]bool{held: true}}
	c := approvals.Cite{Log: "disclosures", LeafHash: fmt.Sprintf("%x", held)}
	l.must(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "a1", "street-stall", fields(nil), c)))
	b, ps := answer(t, l, "a1")
	var doc any
	json.Unmarshal(b, &doc)
	// The other log's entry is not one of this log's: it is named, but not
	// in a leaf_hash member, which a client would want proved here.
	if got := leafHashes(doc); len(got) != 3 || slices.Contains(got, c.LeafHash) || !bytes.Contains(b, []byte(`"cites":[{"log":"disclosures","entry":"`+c.LeafHash+`"}]`)) {
		t.Errorf("answer %s", b)
	}
	if _, err := l.r.CheckAnswer(approvals.QueryApplication, map[string]string{"id": "a1"}, b, ps); err != nil {
		t.Errorf("CheckAnswer = %v", err)
	}
	forged := bytes.Replace(b, []byte(c.LeafHash), []byte(strings.Repeat("0", 64)), 1)
	if _, err := l.r.CheckAnswer(approvals.QueryApplication, map[string]string{"id": "a1"}, forged, ps); !errors.Is(err, approvals.ErrAnswerMismatch) ||
		!strings.Contains(err.Error(), "citation 1") {
		t.Errorf("CheckAnswer of another citation = %v", err)
	}
}

func TestQueryRefused(t *testing.T) {
	l := queryLog(t)
	tests := []struct {
		name    string
		query   string
		args    map[string]string
		wantErr error
	}{
		{"unknown query", "applications", map[string]string{"id": "a1"}, rule.ErrUnknownQuery},
		{"no id", approvals.QueryApplication, map[string]string{}, rule.ErrInvalidQuery},
		{"another argument", approvals.QueryApplication, map[string]string{"id": "a1", "limit": "5"}, rule.ErrInvalidQuery},
		{"bad id", approvals.QueryApplication, map[string]string{"id": "a1/../a2"}, rule.ErrInvalidQuery},
		{"empty id", approvals.QueryApplication, map[string]string{"id": ""}, rule.ErrInvalidQuery},
		{"no such application", approvals.QueryApplication, map[string]string{"id": "a9"}, rule.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := l.r.Query(context.Background(), l.view(), tt.query, tt.args); !errors.Is(err, tt.wantErr) {
				t.Errorf("Query = %v, want %v", err, tt.wantErr)
			}
		})
	}
	t.Run("too many steps", func(t *testing.T) {
		big := l.app("a1")
		for len(big.Steps) <= approvals.MaxAnswerSteps {
			big.Steps = append(big.Steps, big.Steps[0])
		}
		v := memView{l.st.Clone(), l.entries}
		v.State[approvals.AppKey("a1")] = []byte(mustJSON(t, big))
		if _, _, err := l.r.Query(context.Background(), v, approvals.QueryApplication, map[string]string{"id": "a1"}); !errors.Is(err, rule.ErrQueryTooLarge) {
			t.Errorf("Query = %v", err)
		}
	})
	t.Run("corrupt state", func(t *testing.T) {
		v := memView{l.st.Clone(), l.entries}
		delete(v.State, approvals.VersionKey("street-stall", 1))
		_, _, err := l.r.Query(context.Background(), v, approvals.QueryApplication, map[string]string{"id": "a1"})
		if err == nil || errors.Is(err, rule.ErrNotFound) || errors.Is(err, rule.ErrInvalidQuery) {
			t.Errorf("Query over a missing version = %v, want a state error", err)
		}
	})
}

func TestCheckAnswer(t *testing.T) {
	l := queryLog(t)
	honest := map[string][]byte{}
	entries := map[string][]rule.ProvedEntry{}
	for _, id := range []string{"a1", "a2", "a3", "m1"} {
		honest[id], entries[id] = answer(t, l, id)
	}
	edit := func(id string, change func(a *approvals.ApplicationAnswer)) []byte {
		var a approvals.ApplicationAnswer
		if err := json.Unmarshal(honest[id], &a); err != nil {
			t.Fatal(err)
		}
		change(&a)
		return []byte(mustJSON(t, a))
	}
	// withEntry returns id's entries with the one of step i changed.
	withEntry := func(id string, i int, change func(e *rule.ProvedEntry)) []rule.ProvedEntry {
		out := slices.Clone(entries[id])
		change(&out[i])
		return out
	}
	a1 := func(change func(a *approvals.ApplicationAnswer)) []byte { return edit("a1", change) }
	tests := []struct {
		name    string
		id      string // the application of the answer; "" for a1
		asked   string // the id asked; "" for id
		result  []byte
		entries []rule.ProvedEntry // nil for id's
		wantMsg string
	}{
		{name: "another application asked", asked: "a2", result: honest["a1"], wantMsg: `about application "a1", not "a2"`},
		{name: "status changed", result: a1(func(a *approvals.ApplicationAnswer) { a.Status = approvals.StatusRefused }),
			wantMsg: `the answer says the application is "refused"; its steps make it approved`},
		{name: "automatic claimed", result: a1(func(a *approvals.ApplicationAnswer) { a.Automatic = true }), wantMsg: "was automatic: true"},
		{name: "decision outcome changed", result: a1(func(a *approvals.ApplicationAnswer) { a.Steps[1].Decision.Outcome = approvals.Passed }),
			wantMsg: "step 2 (approvals.decide): its entry records the decision"},
		{name: "decision and its entry changed", result: a1(func(a *approvals.ApplicationAnswer) {
			a.Steps[1].Decision.Outcome, a.Steps[1].Decision.Failed, a.Steps[1].Decision.Missing = approvals.Passed, nil, nil
		}), entries: withEntry("a1", 1, func(e *rule.ProvedEntry) {
			e.Body = json.RawMessage(`{"application_id":"a1","kind":"street-stall","outcome":"passed","version":1}`)
		}), wantMsg: "does not name the filing before it"},
		{name: "failed rule left out", result: a1(func(a *approvals.ApplicationAnswer) { a.Steps[1].Decision.Failed = nil }),
			wantMsg: "its entry records the decision"},
		{name: "supplement removed", result: a1(func(a *approvals.ApplicationAnswer) { a.Steps = slices.Delete(a.Steps, 2, 3) }),
			wantMsg: "step 3 (approvals.decide): a approvals.decide cannot follow a approvals.decide"},
		{name: "sign-off removed", result: a1(func(a *approvals.ApplicationAnswer) { a.Steps = a.Steps[:4] }),
			wantMsg: "its steps make it with-official"},
		{name: "first step removed", result: a1(func(a *approvals.ApplicationAnswer) { a.Steps = a.Steps[1:] }),
			wantMsg: "cannot follow nothing"},
		{name: "field value changed", result: a1(func(a *approvals.ApplicationAnswer) { a.Fields["area_m2"] = json.RawMessage("5") }),
			wantMsg: "field area_m2: the answer says 5, the filings 4"},
		{name: "field added", result: a1(func(a *approvals.ApplicationAnswer) { a.Fields["colour"] = json.RawMessage(`"red"`) }),
			wantMsg: "field colour: no filing gives it"},
		{name: "field left out", result: a1(func(a *approvals.ApplicationAnswer) { delete(a.Fields, "food") }),
			wantMsg: "field food: the filings give it, the answer leaves it out"},
		{name: "dropped field kept", id: "a2", result: edit("a2", func(a *approvals.ApplicationAnswer) {
			a.Fields["site_plan"] = json.RawMessage(`"` + sitePlan + `"`)
		}), wantMsg: "field site_plan: no filing gives it"},
		{name: "due moved", id: "a3", result: edit("a3", func(a *approvals.ApplicationAnswer) { a.Due = "2026-03-20T09:01:00Z" }),
			wantMsg: `the answer gives the due time "2026-03-20T09:01:00Z", its steps "2026-03-07T09:01:00Z"`},
		{name: "filed earlier", result: a1(func(a *approvals.ApplicationAnswer) { a.Filed = "2026-03-01T09:00:00Z" }), wantMsg: "filed at"},
		{name: "version title changed", result: a1(func(a *approvals.ApplicationAnswer) { a.Versions[0].Title = "Kiosk" }),
			wantMsg: "version 1's entry gives the title"},
		{name: "version official changed", id: "m1", result: edit("m1", func(a *approvals.ApplicationAnswer) { a.Versions[0].Official = true }),
			wantMsg: "version 1's entry gives the title"},
		{name: "version left out", result: a1(func(a *approvals.ApplicationAnswer) { a.Versions = nil }),
			wantMsg: "the decision names version 1, which the answer does not give"},
		{name: "version of another kind", result: a1(func(a *approvals.ApplicationAnswer) { a.Versions[0].LeafHash = versionLeaf(t, honest["m1"]) }),
			entries: append(slices.Clone(entries["a1"]), entries["m1"][2]), wantMsg: "is of the kind market-stall"},
		{name: "unused version", result: a1(func(a *approvals.ApplicationAnswer) {
			a.Versions = append(a.Versions, approvals.VersionRef{Kind: "street-stall", Version: 2, Title: "Kind street-stall", DecideWithinDays: 5,
				LeafHash: versionLeaf(t, honest["a2"], 2)})
		}), entries: append(slices.Clone(entries["a1"]), entries["a2"][5]), wantMsg: "version 2 is named by no decision"},
		{name: "step unproved", result: honest["a1"], entries: entries["a1"][1:], wantMsg: "step 1 (approvals.apply): no proof of its entry"},
		{name: "version unproved", result: honest["a1"], entries: entries["a1"][:5], wantMsg: "version 1: no proof of its entry"},
		{name: "step time changed", result: a1(func(a *approvals.ApplicationAnswer) { a.Steps[2].Time = "2026-03-02T09:30:00Z" }),
			wantMsg: "step 3 (approvals.supplement): its entry was made at 2026-03-02T10:00:00Z"},
		{name: "step index changed", result: a1(func(a *approvals.ApplicationAnswer) { a.Steps[0].Index = 0 }), wantMsg: "its entry is entry"},
		{name: "step type changed", result: a1(func(a *approvals.ApplicationAnswer) { a.Steps[2].Type = approvals.TypeApply }),
			wantMsg: "its entry is a approvals.supplement"},
		{name: "official changed", result: a1(func(a *approvals.ApplicationAnswer) { a.Steps[4].Officials = []string{official2} }),
			wantMsg: "no signature by a key named staff-8"},
		{name: "sign-off reason changed", result: a1(func(a *approvals.ApplicationAnswer) { a.Steps[4].Sign.Reason = "looks fine" }),
			wantMsg: `its entry records the decision "approve" ("site inspected")`},
		{name: "filer changed", result: a1(func(a *approvals.ApplicationAnswer) { a.Agency = desk2 }), wantMsg: "no signature by a key named desk-2"},
		{name: "owner changed", result: a1(func(a *approvals.ApplicationAnswer) { a.Owner = other }), wantMsg: "no signature by a key named city-b, the kind's owner"},
		{name: "filing not signed by the filer", result: honest["a1"], entries: withEntry("a1", 0, func(e *rule.ProvedEntry) { e.Signers = []string{desk2} }),
			wantMsg: "step 1 (approvals.apply): its entry carries no signature by a key named desk-1"},
		{name: "filing of another application", result: honest["a1"], entries: withEntry("a1", 0, func(e *rule.ProvedEntry) {
			e.Body = json.RawMessage(applyBody(t, "a7", "street-stall", fields(map[string]any{"health_certified": nil})))
		}), wantMsg: "its entry files application a7"},
		{name: "leaf hash in upper case", result: a1(func(a *approvals.ApplicationAnswer) { a.Steps[0].LeafHash = strings.ToUpper(a.Steps[0].LeafHash) }),
			wantMsg: "is not a leaf hash"},
		{name: "no steps", result: a1(func(a *approvals.ApplicationAnswer) { a.Steps = nil }), wantMsg: "no steps"},
		{name: "unknown field", result: bytes.Replace(honest["a1"], []byte(`{"id":`), []byte(`{"note":"x","id":`), 1), wantMsg: `unknown field "note"`},
		{name: "data after the answer", result: append(slices.Clone(honest["a1"]), "{}"...), wantMsg: "data after it"},
		{name: "not JSON", result: []byte("application a1"), wantMsg: "not an application answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.id
			if id == "" {
				id = "a1"
			}
			asked := tt.asked
			if asked == "" {
				asked = id
			}
			es := tt.entries
			if es == nil {
				es = entries[id]
			}
			checked, err := l.r.CheckAnswer(approvals.QueryApplication, map[string]string{"id": asked}, tt.result, es)
			if !errors.Is(err, approvals.ErrAnswerMismatch) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("CheckAnswer = %q, %v; want ErrAnswerMismatch saying %q", checked, err, tt.wantMsg)
			}
		})
	}
	if _, err := l.r.CheckAnswer("applications", map[string]string{"id": "a1"}, honest["a1"], entries["a1"]); !errors.Is(err, rule.ErrUnknownQuery) {
		t.Errorf("CheckAnswer of an unknown query = %v", err)
	}
}

// versionLeaf returns the leaf hash of version n (default 1) in an answer.
func versionLeaf(t testing.TB, answer []byte, n ...int64) string {
	t.Helper()
	var a approvals.ApplicationAnswer
	if err := json.Unmarshal(answer, &a); err != nil {
		t.Fatal(err)
	}
	want := int64(1)
	if len(n) > 0 {
		want = n[0]
	}
	for _, v := range a.Versions {
		if v.Version == want {
			return v.LeafHash
		}
	}
	t.Fatalf("no version %d in %s", want, answer)
	return ""
}

func TestQueries(t *testing.T) {
	qs := approvals.New().Queries()
	if len(qs) != 1 || qs[0].Name != approvals.QueryApplication || qs[0].Verb != "status" || qs[0].Arg != "id" || qs[0].ArgName != "APP-ID" ||
		qs[0].Summary == "" || qs[0].Doc == "" {
		t.Errorf("Queries() = %+v", qs)
	}
}

func TestFormatAnswer(t *testing.T) {
	l := queryLog(t)
	b, _ := answer(t, l, "a1")
	var out strings.Builder
	if err := l.r.FormatAnswer(&out, approvals.QueryApplication, b); err != nil {
		t.Fatal(err)
	}
	want := `Application a1, of kind street-stall: Kind street-stall
  filed 2026-03-02T09:00:00Z by desk-1; decided by city-a
  status: approved by an official, 2026-03-02T11:00:00Z
  fields:
    applicant = "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a"
    area_m2 = 4
    food = true
    health_certified = true
    site_plan = "ef2d127de37b942baad06145e54b0c619a1f22327b2ebbcfbec78f5564afe39d"
  steps:
    2026-03-02T09:00:00Z  #2  approvals.apply
    2026-03-02T09:00:00Z  #3  approvals.decide: returned under version 1
        food-hygiene: a food stall needs its keeper's health certificate (missing field health_certified)
        missing: health_certified
    2026-03-02T10:00:00Z  #10  approvals.supplement
    2026-03-02T10:00:00Z  #11  approvals.decide: passed under version 1
    2026-03-02T11:00:00Z  #12  approvals.sign: approve, "site inspected" (officials staff-7)
  version 1 of street-stall: Kind street-stall; an official signs; decided within 5 days
`
	if out.String() != want {
		t.Errorf("FormatAnswer wrote:\n%s\nwant:\n%s", out.String(), want)
	}
	b, _ = answer(t, l, "a3")
	out.Reset()
	if err := l.r.FormatAnswer(&out, approvals.QueryApplication, b); err != nil || !strings.Contains(out.String(), "status: with an official, decision due 2026-03-07T09:01:00Z") {
		t.Errorf("FormatAnswer of a3 = %s, %v", out.String(), err)
	}
	if err := l.r.FormatAnswer(&out, approvals.QueryApplication, []byte("{")); err == nil {
		t.Errorf("FormatAnswer of a broken answer succeeded")
	}
	if err := l.r.FormatAnswer(&out, "applications", b); !errors.Is(err, rule.ErrUnknownQuery) {
		t.Errorf("FormatAnswer of an unknown query = %v", err)
	}
}
