package identity_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/identity"
	"github.com/govlog/govlog/personalities/rule"
)

func agencyName(id string) string { return "Agency " + id }

func summary(t testing.TB, w *world, now time.Time) []rule.Table {
	t.Helper()
	w.r.Now = func() time.Time { return now }
	tables, err := w.r.Summary(context.Background(), w.st, agencyName)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 3 || tables[0].Caption != "Credentials issued" || tables[1].Caption != "Checks and incidents" || tables[2].Caption != "Service workers" {
		t.Fatalf("tables %+v", tables)
	}
	for _, tb := range tables {
		for _, r := range tb.Rows {
			if len(r) != len(tb.Columns) {
				t.Errorf("%s: row %q has %d cells for %d columns", tb.Caption, r, len(r), len(tb.Columns))
			}
		}
	}
	return tables
}

func TestSummary(t *testing.T) {
	w := scenario(t)
	now := time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)
	tables := summary(t, w, now)
	issued := [][]string{
		{"Agency civil-a", "birth", "2", "0"},
		{"Agency civil-a", "divorce", "1", "0"},
		{"Agency civil-a", "marriage", "2", "0"},
		{"Agency civil-a", "parent-link", "2", "0"},
		{"Agency clinic-a", "health-certificate", "1", "0"},
		{"Agency labour-a", "employment", "1", "0"},
		{"Agency labour-a", "qualification", "1", "1"},
		{"Agency school-a", "diploma", "1", "0"},
	}
	if got := tables[0].Rows; !slices.EqualFunc(got, issued, slices.Equal) {
		t.Errorf("issued:\n%q\nwant\n%q", got, issued)
	}
	if got, want := tables[0].Total, []string{"Total", "", "11", "1"}; !slices.Equal(got, want) {
		t.Errorf("issued total %q, want %q", got, want)
	}
	checks := [][]string{{"Agency checker-a", "2", "0"}, {"Agency checker-b", "1", "0"}, {"Agency regulator", "0", "1"}}
	if got := tables[1].Rows; !slices.EqualFunc(got, checks, slices.Equal) {
		t.Errorf("checks:\n%q\nwant\n%q", got, checks)
	}
	alice := w.alice.id()
	workers := [][]string{
		{alice, "health-certificate", "hc-1", "Agency clinic-a", "2026-05-01", "-", "valid", "1", "2099-12-31"},
		{alice, "qualification", "q-1", "Agency labour-a", "2025-01-01", "-", "revoked", "0", "2099-12-31"},
	}
	if got := tables[2].Rows; !slices.EqualFunc(got, workers, slices.Equal) {
		t.Errorf("workers:\n%q\nwant\n%q", got, workers)
	}

	// A newer certificate that expires; the subject withdraws the
	// qualification's public grant.
	b := issueBody(t, "hc-2", w.alice, identity.TypeHealthCertificate, "2026-06-01")
	b["expires"], b["supersedes"] = "2026-12-31", "hc-1"
	w.by(clinic, identity.TypeIssueHealth, t0.Add(7*time.Hour), b)
	w.must(signedEntry(t, identity.TypeWithdraw, t0.Add(8*time.Hour), map[string]string{"grant_id": "g-q", "subject": w.alice.vkey}, w.alice))
	workers = [][]string{
		{alice, "health-certificate", "hc-2", "Agency clinic-a", "2026-06-01", "2026-12-31", "valid", "0", "2099-12-31"},
		{alice, "health-certificate", "hc-1", "Agency clinic-a", "2026-05-01", "-", "superseded", "1", "2099-12-31"},
	}
	if got := summary(t, w, now)[2].Rows; !slices.EqualFunc(got, workers, slices.Equal) {
		t.Errorf("workers:\n%q\nwant\n%q", got, workers)
	}
	workers[0][6] = identity.StatusExpired
	if got := summary(t, w, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))[2].Rows; !slices.EqualFunc(got, workers, slices.Equal) {
		t.Errorf("workers in 2027:\n%q\nwant\n%q", got, workers)
	}
	if got := summary(t, newWorld(t), now)[1].Rows; len(got) != 0 {
		t.Errorf("checks of a log without any: %q", got)
	}
}

func TestWatchKinds(t *testing.T) {
	kinds := identity.New().WatchKinds()
	if len(kinds) != 2 || kinds[0].Name != "subject" || kinds[1].Name != "credential" {
		t.Fatalf("%+v", kinds)
	}
	for _, k := range kinds {
		if len(k.Fields) == 0 || k.Doc == "" {
			t.Errorf("%+v", k)
		}
	}
}
