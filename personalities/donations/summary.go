package donations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
)

// MaxSummaryRows is the most rows each table of the dashboard summary
// lists, the first by ID.
const MaxSummaryRows = 100

// now is the clock of the summary's campaign status; tests set it.
var now = time.Now

var (
	_ rule.Summarizer = (*Rules)(nil)
	_ rule.Watcher    = (*Rules)(nil)
)

// errEnough stops a Scan that has listed MaxSummaryRows rows.
var errEnough = errors.New("enough rows")

const (
	campaignPrefix = "campaign/"
	charityPrefix  = "charity/"
)

// Campaign statuses, as the summary shows them.
const (
	statusOpen     = "open"
	statusHolding  = "past its hand-on date, still holding"
	statusHandedOn = "handed on"
	statusEmpty    = "closed, nothing received"
)

// Summary implements [rule.Summarizer]: every campaign with what it
// received, handed on and holds per unit, and every charity's counters.
func (*Rules) Summary(ctx context.Context, st rule.Scanner, agency func(id string) string) ([]rule.Table, error) {
	campaigns, err := campaignTable(ctx, st, agency, now().UTC())
	if err != nil {
		return nil, err
	}
	charities, err := charityTable(ctx, st, agency)
	if err != nil {
		return nil, err
	}
	return []rule.Table{campaigns, charities}, nil
}

// campaignStatus is where a campaign stands at at, in the unit it holds
// held of. Like [Rules.Late], it is past its date once the end of the
// hand-on date, UTC, is before at.
func campaignStatus(c Campaign, held int64, at time.Time) string {
	switch {
	case !handOnDeadline(c.HandOnBy).Before(at):
		return statusOpen
	case held > 0:
		return statusHolding
	case len(c.Totals) == 0:
		return statusEmpty
	}
	return statusHandedOn
}

func campaignTable(ctx context.Context, st rule.Scanner, agency func(id string) string, at time.Time) (rule.Table, error) {
	t := rule.Table{
		Caption: "Campaigns",
		Columns: []rule.Column{{Name: "Campaign"}, {Name: "Charity"}, {Name: "Received", Numeric: true},
			{Name: "Handed on", Numeric: true}, {Name: "Held", Numeric: true}, {Name: "Administration (used / allowed)", Numeric: true},
			{Name: "Hand on by"}, {Name: "Status"}},
		Empty: "No campaign has been opened.",
		Note: "A charity opens a campaign, records every donation it receives (money or goods; the donor is a salted " +
			"commitment only the donor can open, or absent), and hands what it received on: to a final recipient, to " +
			"another agency, or, for money, to its running costs within the administration share it set itself. " +
			"Each row is one unit of a campaign (a currency, or an item in its unit). Received is every donation; " +
			"Handed on is what reached final recipients or administration; Held is the rest, which the charity or a " +
			"partner agency still holds, or which is in transit between them. Administration is the share of the " +
			"money received that went to running costs, and the most the campaign allows. By the end of its hand-on " +
			"date, UTC, a campaign should hold nothing: \"" + statusHolding + "\" means it has not handed everything on in time.",
	}
	err := st.Scan(ctx, campaignPrefix, func(key string, value []byte) error {
		if len(t.Rows) >= MaxSummaryRows {
			return errEnough
		}
		var c Campaign
		if err := json.Unmarshal(value, &c); err != nil {
			return fmt.Errorf("corrupt state at %s: %v", key, err)
		}
		name := c.ID
		if c.Title != "" {
			name = c.ID + " (" + c.Title + ")"
		}
		if len(c.Totals) == 0 {
			t.Rows = append(t.Rows, []string{name, agency(c.Charity), "-", "-", "-",
				fmt.Sprintf("- / %d%%", c.AdminShareMax), c.HandOnBy, campaignStatus(c, 0, at)})
			return nil
		}
		for _, k := range slices.Sorted(maps.Keys(c.Totals)) {
			if len(t.Rows) >= MaxSummaryRows {
				return errEnough
			}
			u, ok := unitOfKey(k)
			if !ok {
				return fmt.Errorf("corrupt state at %s: %q is not a unit", key, k)
			}
			tot := c.Totals[k]
			adm := "-"
			if u.Kind == Money {
				bp := basisPoints(tot.Administration, tot.Received)
				adm = fmt.Sprintf("%d.%02d%% / %d%%", bp/100, bp%100, c.AdminShareMax)
			}
			t.Rows = append(t.Rows, []string{name, agency(c.Charity), FormatAmount(u, tot.Received),
				FormatAmount(u, tot.HandedOn()), FormatAmount(u, tot.Held()), adm, c.HandOnBy, campaignStatus(c, tot.Held(), at)})
		}
		return nil
	})
	switch {
	case errors.Is(err, errEnough):
		t.Caption = fmt.Sprintf("Campaigns (the first %d rows by campaign ID)", MaxSummaryRows)
	case err != nil:
		return t, fmt.Errorf("couldn't list the campaigns: %w", err)
	}
	return t, nil
}

func charityTable(ctx context.Context, st rule.Scanner, agency func(id string) string) (rule.Table, error) {
	t := rule.Table{
		Caption: "Charities",
		Columns: []rule.Column{{Name: "Charity"}, {Name: "Campaigns", Numeric: true}, {Name: "Donations", Numeric: true},
			{Name: "Hand-overs", Numeric: true}, {Name: "To final recipients", Numeric: true}, {Name: "Confirmed", Numeric: true},
			{Name: "Feedback missing", Numeric: true}, {Name: "Short", Numeric: true}},
		Empty: "No charity has recorded anything.",
		Note: "Campaigns and Donations count the campaigns a charity opened and the donations it recorded; Hand-overs, " +
			"everything it handed on, to final recipients, other agencies or administration. A final recipient " +
			"confirms a hand-over to them with a code only they know: Confirmed counts the hand-overs to final " +
			"recipients they confirmed, Feedback missing those not confirmed (yet: a recipient has as many days as " +
			"the campaign allows), and Short those a recipient confirmed receiving less than the charity recorded.",
	}
	var sum CharityStats
	err := st.Scan(ctx, charityPrefix, func(key string, value []byte) error {
		if len(t.Rows) >= MaxSummaryRows {
			return errEnough
		}
		var s CharityStats
		if err := json.Unmarshal(value, &s); err != nil {
			return fmt.Errorf("corrupt state at %s: %v", key, err)
		}
		id := strings.TrimPrefix(key, charityPrefix)
		t.Rows = append(t.Rows, charityRow(agency(id), s))
		sum.Campaigns += s.Campaigns
		sum.Donations += s.Donations
		sum.Handovers += s.Handovers
		sum.ToRecipients += s.ToRecipients
		sum.Confirmed += s.Confirmed
		sum.Short += s.Short
		return nil
	})
	switch {
	case errors.Is(err, errEnough):
		t.Caption = fmt.Sprintf("Charities (the first %d by ID)", MaxSummaryRows)
	case err != nil:
		return t, fmt.Errorf("couldn't list the charities: %w", err)
	}
	if len(t.Rows) > 1 {
		t.Total = charityRow("Total", sum)
	}
	return t, nil
}

func charityRow(name string, s CharityStats) []string {
	n := func(x int64) string { return strconv.FormatInt(x, 10) }
	return []string{name, n(s.Campaigns), n(s.Donations), n(s.Handovers), n(s.ToRecipients), n(s.Confirmed),
		n(s.ToRecipients - s.Confirmed), n(s.Short)}
}

// WatchKinds implements [rule.Watcher].
func (*Rules) WatchKinds() []rule.WatchKind {
	return []rule.WatchKind{{
		Name:   "campaign",
		Fields: []string{"campaign_id"},
		Doc:    "a campaign's ID: its opening, every donation it received and every hand-over of them",
	}, {
		Name:   "donation",
		Fields: []string{"donation_id"},
		Doc:    "a donation's ID: its receipt and every hand-over that draws on it",
	}, {
		Name:   "recipient",
		Fields: []string{"to_recipient"},
		Doc:    "a final recipient's salted commitment: every hand-over to them",
	}}
}
