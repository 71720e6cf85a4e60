package search_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
	"github.com/govlog/govlog/search"
)

// docs is a domain as the index sees one: a log name and watch kinds.
type docs struct{}

func (docs) Log() string                                         { return "docs" }
func (docs) Types() []rule.TypeInfo                              { return nil }
func (docs) RequiredRole(string) (string, error)                 { return "", nil }
func (docs) Apply(context.Context, rule.State, rule.Entry) error { return nil }
func (docs) WatchKinds() []rule.WatchKind {
	return []rule.WatchKind{{Name: "document", Fields: []string{"doc_id", "corrects", "retracts"}},
		{Name: "account", Fields: []string{"from", "to"}}}
}

func TestWords(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"latin", "Budget 2027 (corrected)", []string{"budget", "2027", "corrected"}},
		{"accents and case", "Élection Municipale", []string{"élection", "municipale"}},
		{"chinese", "预算报告", []string{"预", "预算", "算", "算报", "报", "报告", "告"}},
		{"mixed", "2027年预算, Guiyang", []string{"2027", "年", "年预", "预", "预算", "算", "guiyang"}},
		{"punctuation only", " -- ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := search.Words(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("Words(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestQueryWords(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"预算报告", []string{"报告", "算报", "预算"}},
		{"预", []string{"预"}},
		{"Budget budget 2027", []string{"2027", "budget"}},
	}
	for _, tt := range tests {
		if got := search.QueryWords(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("QueryWords(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestTerms(t *testing.T) {
	hash := strings.Repeat("AB", 32)
	body := `{"doc_id":"Dept/2026-001","title":"Budget 2027 预算","sha256":"` + hash + `",` +
		`"annex":{"items":[{"doc_id":"annex-7","file_sha256":"` + strings.Repeat("0c", 32) + `"}]},` +
		`"transfer":{"from":"acct-1","to":"acct-2"},"not_a_hash_sha256":"xyz","corrects":"Dept/2025-009"}`
	e := rule.Entry{Type: "disclosure.correct", Agency: "finance-bureau", Body: json.RawMessage(body),
		Time: time.Date(2026, 12, 6, 23, 30, 0, 0, time.FixedZone("CST", 8*3600))}
	terms, sum := search.Terms(docs{}, e)
	want := []search.Term{
		{Kind: search.KindAgency, Value: "finance-bureau"},
		{Kind: search.KindType, Value: "disclosure.correct"},
		// 23:30 at +08:00 is 15:30 UTC, the same day.
		{Kind: search.KindYear, Value: "2026"}, {Kind: search.KindMonth, Value: "2026-12"}, {Kind: search.KindDay, Value: "2026-12-06"},
		{Kind: search.KindID, Value: "dept/2026-001"},
		{Kind: search.KindID, Value: "annex-7"},
		{Kind: search.KindID, Value: "dept/2025-009"},
		{Kind: search.KindID, Value: "acct-1"}, {Kind: search.KindID, Value: "acct-2"},
		{Kind: search.KindSHA256, Value: strings.Repeat("ab", 32)},
		{Kind: search.KindSHA256, Value: strings.Repeat("0c", 32)},
		{Kind: search.KindWord, Value: "budget"}, {Kind: search.KindWord, Value: "预算"},
	}
	for _, w := range want {
		if !slices.Contains(terms, w) {
			t.Errorf("no term %v in %v", w, terms)
		}
	}
	for _, got := range terms {
		if got.Kind == search.KindSHA256 && !slices.Contains(want, got) {
			t.Errorf("unexpected hash term %v", got)
		}
	}
	if sum.Title != "Budget 2027 预算" || sum.Corrects != "Dept/2025-009" || sum.Agency != "finance-bureau" || !sum.Time.Equal(e.Time) {
		t.Errorf("summary = %+v", sum)
	}
}

// TestTermsCapped: a title of many words fills the cap last, after the
// agency, type, time, IDs and hashes.
func TestTermsCapped(t *testing.T) {
	var words []string
	for i := range 500 {
		words = append(words, fmt.Sprintf("w%d", i))
	}
	b, _ := json.Marshal(map[string]string{"title": strings.Join(words, " "), "doc_id": "d-1", "sha256": strings.Repeat("1", 64)})
	terms, _ := search.Terms(docs{}, rule.Entry{Type: "t", Agency: "a", Body: b, Time: time.Now()})
	if len(terms) != search.MaxTermsPerEntry {
		t.Fatalf("%d terms, want the cap %d", len(terms), search.MaxTermsPerEntry)
	}
	for _, k := range []string{search.KindAgency, search.KindType, search.KindDay, search.KindID, search.KindSHA256} {
		if !slices.ContainsFunc(terms, func(t search.Term) bool { return t.Kind == k }) {
			t.Errorf("capped terms lost kind %s", k)
		}
	}
}

// TestLongTerm: an ID longer than a key allows is found all the same.
func TestLongTerm(t *testing.T) {
	long := strings.Repeat("x", 300)
	st := ruletest.State{}
	b, _ := json.Marshal(map[string]string{"doc_id": long})
	if err := search.IndexEntries(t.Context(), st, docs{}, []rule.Entry{{Type: "t", Body: b, Time: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	for k := range st {
		if len(k) > 200 {
			t.Errorf("key of %d bytes: %.80s...", len(k), k)
		}
	}
	hits, _, err := search.Find(t.Context(), st, search.Query{ID: long})
	if err != nil || len(hits) != 1 {
		t.Errorf("Find by the long ID: %d hits, %v", len(hits), err)
	}
}
