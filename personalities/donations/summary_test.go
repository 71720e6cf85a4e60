package donations

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/rule"
)

func qAgency(id string) string { return "Agency " + id }

// qSummaryLog is qScenario with city-b's campaigns: "small", handed on
// in full and confirmed, and "empty", which received nothing; both must be
// handed on by the end of 2027-03-31.
func qSummaryLog(t testing.TB) *qLog {
	l := qScenario(t)
	l.by("city-b", TypeCampaignOpen, qT0, qOpen("small", "2027-03-31", 0))
	l.by("city-b", TypeCampaignOpen, qT0, qOpen("empty", "2027-03-31", 0))
	l.by("city-b", TypeReceive, qT0.Add(time.Hour), qMoney("d-s", "small", 1000, ""))
	l.by("city-b", TypeHandover, qT0.Add(2*time.Hour), qHandover("h-s", "small", qCNY, qR2, "small-code-1", "d-s", 1000))
	l.feedback(qT0.Add(3*time.Hour), "h-s", "small-code-1", InFull, 0)
	return l
}

func TestSummary(t *testing.T) {
	l := qSummaryLog(t)
	tests := []struct {
		at                  time.Time
		flood, small, empty string
	}{
		{time.Date(2027, 3, 20, 0, 0, 0, 0, time.UTC), statusOpen, statusOpen, statusOpen},
		{time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), statusOpen, statusOpen, statusOpen},
		{time.Date(2027, 4, 1, 0, 0, 1, 0, time.UTC), statusOpen, statusHandedOn, statusEmpty},
		{time.Date(2027, 7, 1, 0, 0, 1, 0, time.UTC), statusHolding, statusHandedOn, statusEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.at.Format(time.RFC3339), func(t *testing.T) {
			qSetNow(t, tt.at)
			tables, err := l.r.Summary(context.Background(), l.st, qAgency)
			if err != nil {
				t.Fatal(err)
			}
			if len(tables) != 2 || tables[0].Caption != "Campaigns" || tables[1].Caption != "Charities" || tables[0].Note == "" || tables[1].Note == "" {
				t.Fatalf("tables %+v", tables)
			}
			want := [][]string{
				{"empty (Campaign empty)", "Agency city-b", "-", "-", "-", "- / 0%", "2027-03-31", tt.empty},
				{"flood-2027 (Campaign flood-2027)", "Agency city-a", "500 kg of rice", "150 kg of rice", "350 kg of rice", "-", "2027-06-30", tt.flood},
				{"flood-2027 (Campaign flood-2027)", "Agency city-a", "1,500.00 CNY", "650.00 CNY", "850.00 CNY", "3.33% / 5%", "2027-06-30", tt.flood},
				{"small (Campaign small)", "Agency city-b", "10.00 CNY", "10.00 CNY", "0.00 CNY", "0.00% / 0%", "2027-03-31", tt.small},
			}
			if got := tables[0].Rows; !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("campaigns:\n%q\nwant\n%q", got, want)
			}
			if n := len(tables[0].Columns); n != len(want[0]) {
				t.Errorf("%d columns", n)
			}
		})
	}
	qSetNow(t, qT0)
	tables, err := l.r.Summary(context.Background(), l.st, qAgency)
	if err != nil {
		t.Fatal(err)
	}
	charities := tables[1]
	want := [][]string{
		{"Agency city-a", "1", "3", "5", "2", "1", "1", "0"},
		{"Agency city-b", "2", "1", "1", "1", "1", "0", "0"},
		{"Agency partner-charity", "0", "0", "1", "1", "1", "0", "1"},
	}
	if !slices.EqualFunc(charities.Rows, want, slices.Equal) {
		t.Errorf("charities:\n%q\nwant\n%q", charities.Rows, want)
	}
	if total := []string{"Total", "3", "4", "7", "4", "3", "1", "1"}; !slices.Equal(charities.Total, total) {
		t.Errorf("total %q, want %q", charities.Total, total)
	}
	for i, c := range charities.Columns {
		if c.Numeric != (i > 0) {
			t.Errorf("column %q numeric: %t", c.Name, c.Numeric)
		}
	}
}

func TestSummaryEmpty(t *testing.T) {
	tables, err := New().Summary(context.Background(), qView{State: map[string][]byte{}}, qAgency)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if len(tb.Rows) != 0 || tb.Empty == "" || tb.Total != nil {
			t.Errorf("table %q: %q, empty %q", tb.Caption, tb.Rows, tb.Empty)
		}
	}
}

// The tables list at most MaxSummaryRows rows.
func TestSummaryCapped(t *testing.T) {
	l := newQLog(t)
	for i := range MaxSummaryRows + 1 {
		l.by(fmt.Sprintf("charity-%03d", i), TypeCampaignOpen, qT0, qOpen(fmt.Sprintf("c-%03d", i), "2027-06-30", 0))
	}
	qSetNow(t, qT0)
	tables, err := l.r.Summary(context.Background(), l.st, qAgency)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if len(tb.Rows) != MaxSummaryRows || !strings.Contains(tb.Caption, fmt.Sprintf("the first %d", MaxSummaryRows)) {
			t.Errorf("table %q: %d rows", tb.Caption, len(tb.Rows))
		}
	}
	if got := tables[0].Rows[MaxSummaryRows-1][0]; got != "c-099 (Campaign c-099)" {
		t.Errorf("last row %q", got)
	}
}

func TestSummaryCorrupt(t *testing.T) {
	v := qView{State: map[string][]byte{CampaignKey("c"): []byte("{")}}
	if _, err := New().Summary(context.Background(), v, qAgency); err == nil || !strings.Contains(err.Error(), "corrupt state at campaign/c") {
		t.Errorf("Summary = %v", err)
	}
}

func TestWatchKinds(t *testing.T) {
	var got []string
	for _, k := range New().WatchKinds() {
		if k.Doc == "" {
			t.Errorf("watch kind %s has no doc", k.Name)
		}
		got = append(got, k.Name+"="+strings.Join(k.Fields, ","))
	}
	if want := []string{"campaign=campaign_id", "donation=donation_id", "recipient=to_recipient"}; !slices.Equal(got, want) {
		t.Errorf("WatchKinds = %q, want %q", got, want)
	}
	var _ rule.Watcher = New()
}
