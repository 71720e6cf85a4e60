package petitions

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

// MaxSummaryRows is the most petitions the dashboard summary lists, the
// first by ID.
const MaxSummaryRows = 100

var (
	_ rule.Summarizer = (*Rules)(nil)
	_ rule.Watcher    = (*Rules)(nil)
)

// errEnough stops a Scan that has read MaxSummaryRows petitions.
var errEnough = errors.New("enough rows")

// Summary implements [rule.Summarizer]: a table of the petitions, with
// their signature counts and whether they are still open, by r.Now.
func (r *Rules) Summary(ctx context.Context, st rule.Scanner, agency func(id string) string) ([]rule.Table, error) {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	t := rule.Table{
		Caption: "Petitions",
		Columns: []rule.Column{{Name: "Petition"}, {Name: "Title"}, {Name: "Agency"}, {Name: "Signatures", Numeric: true}, {Name: "Closes"}, {Name: "Status"}},
		Empty:   "No petition has been opened.",
	}
	var total int64
	err := st.Scan(ctx, petitionPrefix, func(key string, value []byte) error {
		if len(t.Rows) == MaxSummaryRows {
			return errEnough
		}
		var rec Record
		if err := json.Unmarshal(value, &rec); err != nil {
			return fmt.Errorf("corrupt state at %s: %v", key, err)
		}
		_, closes, err := rec.times()
		if err != nil {
			return fmt.Errorf("corrupt state at %s: %w", key, err)
		}
		status := "open"
		if !now.Before(closes) {
			status = "closed"
		}
		id := strings.TrimPrefix(key, petitionPrefix)
		t.Rows = append(t.Rows, []string{id, rec.Title, agency(rec.Agency), strconv.FormatInt(rec.Signatures, 10), rec.Closes, status})
		total += rec.Signatures
		return nil
	})
	switch {
	case errors.Is(err, errEnough):
		t.Caption = fmt.Sprintf("Petitions (the first %d by ID)", MaxSummaryRows)
	case err != nil:
		return nil, fmt.Errorf("couldn't list petitions: %w", err)
	}
	if len(t.Rows) > 0 {
		t.Total = []string{"Total", "", "", strconv.FormatInt(total, 10), "", ""}
	}
	return []rule.Table{t}, nil
}

// WatchKinds implements [rule.Watcher]: a petition's ID names its opening
// and every signature of it.
func (*Rules) WatchKinds() []rule.WatchKind {
	return []rule.WatchKind{{
		Name:   "petition",
		Fields: []string{"petition_id"},
		Doc:    "a petition's ID: the entry that opens it and every signature of it",
	}}
}
