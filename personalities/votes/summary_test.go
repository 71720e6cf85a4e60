package votes_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/rule/ruletest"
	"github.com/govlog/govlog/personalities/votes"
)

func TestSummary(t *testing.T) {
	entries := electionLog(t, 4)
	for _, tc := range []struct {
		name     string
		entries  int // how many of entries
		now      time.Time
		status   string
		tally    string
		turnout  string
		hidesAll bool
	}{
		{"upcoming", 3, t0.Add(-time.Minute), "upcoming", "hidden until the close", "0.0%", true},
		{"open", len(entries) - 1, t0.Add(time.Hour), "open", "hidden until the close", "66.7%", true},
		{"closing", len(entries) - 1, t1, "closing", "hidden until the close", "66.7%", true},
		{"closed", len(entries), t1, "closed", "North: 2, South: 1, None: 1", "66.7%", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := ruletest.State{}
			ruletest.Apply(t, votes.New(), st, entries[:tc.entries]...)
			r := &votes.Rules{Now: func() time.Time { return tc.now }}
			tables, err := r.Summary(context.Background(), st, func(id string) string { return "Agency " + id })
			if err != nil || len(tables) != 1 || len(tables[0].Rows) != 1 {
				t.Fatalf("Summary = %v, %v", tables, err)
			}
			row := tables[0].Rows[0]
			want := []string{election, "Agency " + authority, t0.Format(time.RFC3339), t1.Format(time.RFC3339), tc.status}
			for i, w := range want {
				if row[i] != w {
					t.Errorf("column %s = %q, want %q", tables[0].Columns[i].Name, row[i], w)
				}
			}
			if row[7] != tc.turnout || row[8] != tc.tally {
				t.Errorf("row %q: want turnout %q, tally %q", row, tc.turnout, tc.tally)
			}
			if tc.hidesAll && strings.Contains(strings.Join(row, "|"), "North") {
				t.Errorf("the summary shows the options' counts while open: %q", row)
			}
		})
	}
	tables, err := votes.New().Summary(context.Background(), ruletest.State{}, func(id string) string { return id })
	if err != nil || len(tables[0].Rows) != 0 || tables[0].Empty == "" {
		t.Errorf("empty Summary = %v, %v", tables, err)
	}
}
