package approvals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
)

// MaxSummaryRows is the most rows each table of the dashboard summary
// lists, the first by ID.
const MaxSummaryRows = 100

// now is the clock of the summary's "overdue"; tests set it.
var now = time.Now

var (
	_ rule.Summarizer = (*Rules)(nil)
	_ rule.Watcher    = (*Rules)(nil)
)

// errEnough stops a Scan that has read MaxSummaryRows records.
var errEnough = errors.New("enough rows")

const (
	agencyPrefix = "agency/"
	kindPrefix   = "kind/"
)

// Summary implements [rule.Summarizer]: the figures of every deciding
// agency, and the application kinds with their current rules.
func (*Rules) Summary(ctx context.Context, st rule.Scanner, agency func(id string) string) ([]rule.Table, error) {
	agencies, err := agencyTable(ctx, st, agency, now().UTC())
	if err != nil {
		return nil, err
	}
	kinds, err := kindTable(ctx, st, agency)
	if err != nil {
		return nil, err
	}
	return []rule.Table{agencies, kinds}, nil
}

func agencyTable(ctx context.Context, st rule.Scanner, agency func(id string) string, at time.Time) (rule.Table, error) {
	t := rule.Table{
		Caption: "Approvals by deciding agency",
		Columns: []rule.Column{{Name: "Agency"}, {Name: "Applications", Numeric: true}, {Name: "Decided", Numeric: true},
			{Name: "Automatic", Numeric: true}, {Name: "Median time to decision", Numeric: true},
			{Name: "With an official", Numeric: true}, {Name: "Overdue", Numeric: true}},
		Empty: "No application has been filed.",
		Note: "Each agency that owns an application kind decides its applications: the rules it published decide " +
			"at once, and for a kind that needs an official's sign-off, one of its officials decides after the rules " +
			"hold. Applications counts those filed; Decided, those approved or refused for good (an application " +
			"returned for a supplement is not decided yet); Automatic is the share of those the rules decided alone. " +
			fmt.Sprintf("The median time runs from the filing to the final decision, over the latest %d decisions. ", maxRecentDecisions) +
			"With an official counts the applications whose rules hold and that wait for an official's decision now; " +
			"Overdue, those of them past the time the agency allows itself for a decision.",
	}
	var sum AgencyStats
	var withOfficial, overdue int64
	err := st.Scan(ctx, agencyPrefix, func(key string, value []byte) error {
		if len(t.Rows) == MaxSummaryRows {
			return errEnough
		}
		var s AgencyStats
		if err := json.Unmarshal(value, &s); err != nil {
			return fmt.Errorf("corrupt state at %s: %v", key, err)
		}
		id := strings.TrimPrefix(key, agencyPrefix)
		late := int64(0)
		if err := Owed(ctx, st, id, func(_ string, due time.Time) error {
			if due.Before(at) {
				late++
			}
			return nil
		}); err != nil {
			return err
		}
		recent, err := RecentTimes(ctx, st, id)
		if err != nil {
			return err
		}
		t.Rows = append(t.Rows, []string{agency(id), strconv.FormatInt(s.Applications, 10),
			strconv.FormatInt(s.Decided, 10), share(s.Automatic, s.Decided), median(recent),
			strconv.FormatInt(s.WithOfficial, 10), strconv.FormatInt(late, 10)})
		sum.Applications += s.Applications
		sum.Decided += s.Decided
		sum.Automatic += s.Automatic
		withOfficial += s.WithOfficial
		overdue += late
		return nil
	})
	switch {
	case errors.Is(err, errEnough):
		t.Caption = fmt.Sprintf("Approvals by deciding agency (the first %d by ID)", MaxSummaryRows)
	case err != nil:
		return t, fmt.Errorf("couldn't list the agencies' figures: %w", err)
	}
	if len(t.Rows) > 1 {
		t.Total = []string{"Total", strconv.FormatInt(sum.Applications, 10), strconv.FormatInt(sum.Decided, 10),
			share(sum.Automatic, sum.Decided), "", strconv.FormatInt(withOfficial, 10), strconv.FormatInt(overdue, 10)}
	}
	return t, nil
}

func kindTable(ctx context.Context, st rule.Scanner, agency func(id string) string) (rule.Table, error) {
	t := rule.Table{
		Caption: "Application kinds",
		Columns: []rule.Column{{Name: "Kind"}, {Name: "Title"}, {Name: "Owner"}, {Name: "Version", Numeric: true}, {Name: "Official sign-off"}},
		Empty:   "No application kind has been published.",
		Note: "An application kind is a rule set an agency published (approvals.rules): the fields an application " +
			"carries and the conditions they must meet, written as CEL expressions. The agency that published version 1 " +
			"owns the kind: it alone publishes later versions, and the current version decides every new filing. " +
			"Official sign-off says whether, under the current version, an official of the owner must approve an " +
			"application whose rules hold; without it, such an application is approved at once.",
	}
	err := st.Scan(ctx, kindPrefix, func(key string, value []byte) error {
		if len(t.Rows) == MaxSummaryRows {
			return errEnough
		}
		var k Kind
		if err := json.Unmarshal(value, &k); err != nil {
			return fmt.Errorf("corrupt state at %s: %v", key, err)
		}
		v, ok, err := ReadVersion(ctx, st, k.Kind, k.Version)
		if err != nil {
			return err
		}
		if !ok || k.Kind != strings.TrimPrefix(key, kindPrefix) {
			return fmt.Errorf("corrupt state at %s: version %d of %q is missing", key, k.Version, k.Kind)
		}
		official := "no"
		if v.Official {
			official = "yes"
		}
		t.Rows = append(t.Rows, []string{k.Kind, k.Title, agency(k.Owner), strconv.FormatInt(k.Version, 10), official})
		return nil
	})
	switch {
	case errors.Is(err, errEnough):
		t.Caption = fmt.Sprintf("Application kinds (the first %d by ID)", MaxSummaryRows)
	case err != nil:
		return t, fmt.Errorf("couldn't list the application kinds: %w", err)
	}
	return t, nil
}

// share is part of whole as a percentage with one decimal, "-" if whole
// is 0.
func share(part, whole int64) string {
	if whole <= 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(part)*100/float64(whole), 'f', 1, 64) + "%"
}

// median is the median of seconds as a duration people read, "-" if
// there are none.
func median(seconds []int64) string {
	if len(seconds) == 0 {
		return "-"
	}
	s := slices.Sorted(slices.Values(seconds))
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return formatSeconds(m)
}

// formatSeconds writes a duration in its two largest units: "45s", "3m",
// "2h5m", "4d", "4d3h".
func formatSeconds(s int64) string {
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", max(s, 0))
	case s < 3600:
		return fmt.Sprintf("%dm", s/60)
	case s < 86400:
		if m := s % 3600 / 60; m != 0 {
			return fmt.Sprintf("%dh%dm", s/3600, m)
		}
		return fmt.Sprintf("%dh", s/3600)
	}
	if h := s % 86400 / 3600; h != 0 {
		return fmt.Sprintf("%dd%dh", s/86400, h)
	}
	return fmt.Sprintf("%dd", s/86400)
}

// WatchKinds implements [rule.Watcher].
func (*Rules) WatchKinds() []rule.WatchKind {
	return []rule.WatchKind{{
		Name:   "application",
		Fields: []string{"application_id"},
		Doc:    "an application's ID: its filing, every supplement, every decision of the log on it and an official's sign-off",
	}, {
		Name:   "kind",
		Fields: []string{"kind"},
		Doc:    "an application kind: every version of its rules, every application of it and every decision of the log on one",
	}}
}
