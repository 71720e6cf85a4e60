package approvals_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/approvals"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

func agencyName(id string) string { return strings.ToUpper(id) }

// rows returns a table's rows and total, each row's cells joined by "|".
func rows(tab rule.Table) string {
	var out []string
	for _, row := range tab.Rows {
		out = append(out, strings.Join(row, "|"))
	}
	if tab.Total != nil {
		out = append(out, strings.Join(tab.Total, "|"))
	}
	return strings.Join(out, "\n")
}

func TestSummary(t *testing.T) {
	ctx := context.Background()
	clock := t0
	defer approvals.SetNow(func() time.Time { return clock })()

	l := newLog(t)
	tables, err := l.r.Summary(ctx, l.st, agencyName)
	if err != nil || len(tables) != 2 || len(tables[0].Rows)+len(tables[1].Rows) != 0 || tables[0].Empty == "" || tables[1].Empty == "" {
		t.Fatalf("Summary of an empty state = %+v, %v", tables, err)
	}

	// city-a's street stalls need an official, within 5 days; city-b's
	// market stalls are approved by the rules.
	l.must(l.entry(owner, approvals.TypeRules, t0, stallKind(t)))
	l.must(l.entry(other, approvals.TypeRules, t0, kind(t, "market-stall", 1, false, stallFields, stallRules...)))
	// s1 passes and waits for an official; m1 is approved at once.
	l.must(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "s1", "street-stall", fields(nil))))
	l.must(l.entry(desk, approvals.TypeApply, t0.Add(time.Hour), applyBody(t, "m1", "market-stall", fields(nil))))

	clock = t0.Add(6 * 24 * time.Hour) // s1 was due a day ago
	tables, err = l.r.Summary(ctx, l.st, agencyName)
	if err != nil || len(tables) != 2 {
		t.Fatalf("Summary = %+v, %v", tables, err)
	}
	agencies, kinds := tables[0], tables[1]
	want := "CITY-A|1|0|-|-|1|1\n" +
		"CITY-B|1|1|100.0%|0s|0|0\n" +
		"Total|2|1|100.0%||1|1"
	if got := rows(agencies); got != want || agencies.Caption != "Approvals by deciding agency" || agencies.Note == "" ||
		len(agencies.Columns) != len(agencies.Rows[0]) || agencies.Columns[0].Numeric || !agencies.Columns[6].Numeric {
		t.Errorf("agencies:\n%s\nwant:\n%s\n(columns %+v)", got, want, agencies.Columns)
	}
	want = "market-stall|Kind market-stall|CITY-B|1|no\n" +
		"street-stall|Kind street-stall|CITY-A|1|yes"
	if got := rows(kinds); got != want || kinds.Caption != "Application kinds" || kinds.Note == "" || len(kinds.Columns) != len(kinds.Rows[0]) {
		t.Errorf("kinds:\n%s\nwant:\n%s", got, want)
	}

	// Before it is due, s1 is not overdue.
	clock = t0.Add(4 * 24 * time.Hour)
	if tables, err := l.r.Summary(ctx, l.st, agencyName); err != nil || !strings.HasPrefix(rows(tables[0]), "CITY-A|1|0|-|-|1|0\n") {
		t.Errorf("Summary before s1 is due:\n%s, %v", rows(tables[0]), err)
	}

	// The official approves s1 2h5m after its filing; a second street
	// stall is returned (not decided); version 2 drops the official.
	l.must(l.entry(owner, approvals.TypeSign, t0.Add(2*time.Hour+5*time.Minute), signBody("s1", approvals.Approve, ""), official))
	l.must(l.entry(desk, approvals.TypeApply, t0, applyBody(t, "s2", "street-stall", fields(map[string]any{"area_m2": 30}))))
	l.must(l.entry(owner, approvals.TypeRules, t0, kind(t, "street-stall", 2, false, stallFields, stallRules...)))
	tables, err = l.r.Summary(ctx, l.st, agencyName)
	want = "CITY-A|2|1|0.0%|2h5m|0|0\n" +
		"CITY-B|1|1|100.0%|0s|0|0\n" +
		"Total|3|2|50.0%||0|0"
	if err != nil || rows(tables[0]) != want {
		t.Errorf("agencies:\n%s\nwant:\n%s\n%v", rows(tables[0]), want, err)
	}
	if got := rows(tables[1]); !strings.HasSuffix(got, "street-stall|Kind street-stall|CITY-A|2|no") {
		t.Errorf("kinds after version 2:\n%s", got)
	}

	failing := &ruletest.Probe{State: l.st, FailGet: 1}
	if _, err := l.r.Summary(ctx, failing, agencyName); !errors.Is(err, ruletest.ErrInjected) {
		t.Errorf("Summary over a failing state = %v", err)
	}
	failing = &ruletest.Probe{State: l.st, FailGet: 3} // the kinds' scan reads versions
	if _, err := l.r.Summary(ctx, failing, agencyName); !errors.Is(err, ruletest.ErrInjected) {
		t.Errorf("Summary over a state failing later = %v", err)
	}
	corrupt := l.st.Clone()
	corrupt[approvals.AgencyKey(owner)] = []byte(`{"applications":1,"with_official":{"s9":"soon"}}`)
	if _, err := l.r.Summary(ctx, corrupt, agencyName); err == nil || rule.IsRefusal(err) {
		t.Errorf("Summary over a corrupt due time = %v", err)
	}
	corrupt = l.st.Clone()
	delete(corrupt, approvals.VersionKey("street-stall", 2))
	if _, err := l.r.Summary(ctx, corrupt, agencyName); err == nil || rule.IsRefusal(err) {
		t.Errorf("Summary over a missing version = %v", err)
	}
}

func TestSummaryMedian(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		recent string
		want   string
	}{
		{`[]`, "-"},
		{`[45]`, "45s"},
		{`[180, 5, 300]`, "3m"},
		{`[7500]`, "2h5m"},
		{`[7200]`, "2h"},
		{`[345600, 10, 345600, 400000]`, "4d"},
		{`[356400]`, "4d3h"},
		{`[60, 120]`, "1m"},
	} {
		st := ruletest.State{approvals.AgencyKey(owner): []byte(`{"applications":1,"decided":1}`)}
		var times []int64
		if err := json.Unmarshal([]byte(tc.recent), &times); err != nil {
			t.Fatal(err)
		}
		for i, n := range times {
			st[approvals.RecentKey(owner, int64(i))] = []byte(strconv.FormatInt(n, 10))
		}
		tables, err := approvals.New().Summary(ctx, st, agencyName)
		if err != nil {
			t.Fatal(err)
		}
		if got := tables[0].Rows[0][4]; got != tc.want {
			t.Errorf("median of %s = %q, want %q", tc.recent, got, tc.want)
		}
	}
}

func TestWatchKinds(t *testing.T) {
	ks := approvals.New().WatchKinds()
	if len(ks) != 2 || ks[0].Name != "application" || len(ks[0].Fields) != 1 || ks[0].Fields[0] != "application_id" ||
		ks[1].Name != "kind" || len(ks[1].Fields) != 1 || ks[1].Fields[0] != "kind" || ks[0].Doc == "" || ks[1].Doc == "" {
		t.Errorf("WatchKinds() = %+v", ks)
	}
}
