package petitions_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/petitions"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

func agencyName(id string) string { return strings.ToUpper(id) }

func TestSummary(t *testing.T) {
	ctx := context.Background()
	st := ruletest.State{}
	r := petitions.New()
	r.Now = func() time.Time { return time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC) }
	if tables, err := r.Summary(ctx, st, agencyName); err != nil || len(tables) != 1 || len(tables[0].Rows) != 0 || tables[0].Empty == "" || tables[0].Total != nil {
		t.Errorf("Summary of an empty state = %+v, %v", tables, err)
	}
	ruletest.Apply(t, r, st,
		open(t, "p1"),
		openAt(t, t0, cityB, with(openBody("p0"), "closes", "2026-12-10")),
		sign(t, "p1", newKey(t, "citizen")),
		sign(t, "p1", newKey(t, "citizen")),
		sign(t, "p0", newKey(t, "citizen")),
	)
	tables, err := r.Summary(ctx, st, agencyName)
	if err != nil || len(tables) != 1 {
		t.Fatalf("Summary = %+v, %v", tables, err)
	}
	tab := tables[0]
	var got []string
	for _, row := range append(tab.Rows, tab.Total) {
		got = append(got, strings.Join(row, "|"))
	}
	want := []string{
		"p0|Petition p0|CITY-B|1|2026-12-10|closed",
		"p1|Petition p1|CITY-A|2|2027-01-31|open",
		"Total|||3||",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || tab.Caption != "Petitions" || len(tab.Columns) != len(tab.Rows[0]) || !tab.Columns[3].Numeric {
		t.Errorf("Summary:\n%s\ncolumns %+v, caption %q\nwant:\n%s", strings.Join(got, "\n"), tab.Columns, tab.Caption, strings.Join(want, "\n"))
	}

	// Bounded: only the first MaxSummaryRows petitions, by ID.
	for i := range petitions.MaxSummaryRows {
		ruletest.Apply(t, r, st, open(t, fmt.Sprintf("q%03d", i)))
	}
	if tables, err := r.Summary(ctx, st, agencyName); err != nil || len(tables[0].Rows) != petitions.MaxSummaryRows ||
		!strings.Contains(tables[0].Caption, "first 100") || tables[0].Rows[99][0] != "q097" {
		t.Errorf("Summary of %d petitions: %d rows, caption %q, %v", petitions.MaxSummaryRows+2, len(tables[0].Rows), tables[0].Caption, err)
	}

	failing := &ruletest.Probe{State: st, FailGet: 1}
	if _, err := r.Summary(ctx, failing, agencyName); !errors.Is(err, ruletest.ErrInjected) {
		t.Errorf("Summary over a failing state = %v", err)
	}
	st["petition/p1"] = []byte(`{"opened":"2026-12-01T09:00:00Z","closes":"soon"}`)
	if _, err := r.Summary(ctx, st, agencyName); err == nil || rule.IsRefusal(err) {
		t.Errorf("Summary over a corrupt record = %v", err)
	}
}
