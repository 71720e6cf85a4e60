package votes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
)

// MaxSummaryRows is the most elections the dashboard summary lists, the
// first by ID.
const MaxSummaryRows = 100

var (
	_ rule.Summarizer = (*Rules)(nil)
	_ rule.Watcher    = (*Rules)(nil)
)

// errEnough stops a Scan that has read MaxSummaryRows elections.
var errEnough = errors.New("enough rows")

// Status tells an election's state at now: "upcoming", "open", "closing"
// (past its closing time, its close entry not yet written) or "closed".
func (r Election) Status(now time.Time) string {
	opens, closes, _ := r.times()
	switch {
	case r.Close != nil:
		return "closed"
	case now.Before(opens):
		return "upcoming"
	case now.Before(closes):
		return "open"
	}
	return "closing"
}

// Summary implements [rule.Summarizer]: a table of the elections, with the
// tokens issued, the ballots cast and, once an election is closed, its
// tally.
func (r *Rules) Summary(ctx context.Context, st rule.Scanner, agency func(id string) string) ([]rule.Table, error) {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	t := rule.Table{
		Caption: "Elections",
		Columns: []rule.Column{{Name: "Election"}, {Name: "Authority"}, {Name: "Opens"}, {Name: "Closes"}, {Name: "Status"},
			{Name: "Tokens issued", Numeric: true}, {Name: "Ballots", Numeric: true}, {Name: "Turnout", Numeric: true}, {Name: "Tally"}},
		Empty: "No election has been opened.",
		Note: "Ballots are anonymous: a voter's token, signed blindly by the token issuer, proves a right to vote without saying whose. " +
			"Turnout is ballots per token issued. The tally is the log's close entry, written at the closing time and recounted by " +
			"every monitor; it is hidden until then. \"closing\": the closing time has passed and the close entry is not written yet.",
	}
	err := st.Scan(ctx, electionPrefix, func(key string, value []byte) error {
		if len(t.Rows) == MaxSummaryRows {
			return errEnough
		}
		var rec Election
		if err := json.Unmarshal(value, &rec); err != nil {
			return fmt.Errorf("corrupt state at %s: %v", key, err)
		}
		if _, _, err := rec.times(); err != nil {
			return fmt.Errorf("corrupt state at %s: %w", key, err)
		}
		id := strings.TrimPrefix(key, electionPrefix)
		tally := "hidden until the close"
		if rec.Close != nil {
			if len(rec.Counts) != len(rec.Options) {
				return fmt.Errorf("corrupt state at %s: %d options, %d counts", key, len(rec.Options), len(rec.Counts))
			}
			parts := make([]string, len(rec.Options))
			for i, o := range rec.Options {
				parts[i] = fmt.Sprintf("%s: %d", o, rec.Counts[i])
			}
			tally = strings.Join(parts, ", ")
		}
		turnout := "-"
		if rec.Tokens > 0 {
			turnout = fmt.Sprintf("%.1f%%", 100*float64(rec.Ballots)/float64(rec.Tokens))
		}
		t.Rows = append(t.Rows, []string{id, agency(rec.Authority), rec.Opens, rec.Closes, rec.Status(now),
			strconv.FormatInt(rec.Tokens, 10), strconv.FormatInt(rec.Ballots, 10), turnout, tally})
		return nil
	})
	switch {
	case errors.Is(err, errEnough):
		t.Caption = fmt.Sprintf("Elections (the first %d by ID)", MaxSummaryRows)
	case err != nil:
		return nil, fmt.Errorf("couldn't list elections: %w", err)
	}
	return []rule.Table{t}, nil
}

// WatchKinds implements [rule.Watcher]: an election's ID names its
// opening, its batches of tokens, every ballot and its close.
func (*Rules) WatchKinds() []rule.WatchKind {
	return []rule.WatchKind{{
		Name:   "election",
		Fields: []string{"election_id"},
		Doc:    "an election's ID: the entry that opens it, its batches of tokens, every ballot cast in it and its close",
	}}
}
