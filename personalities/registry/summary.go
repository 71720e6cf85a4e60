package registry

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

var _ rule.Summarizer = (*Domain)(nil)

// MaxSummaryRows bounds each table of the registry's dashboard summary.
const MaxSummaryRows = 200

var errEnough = errors.New("enough rows")

// Summary implements rule.Summarizer: the agencies with what they hold
// now (by the clock), and every key retired or revoked (the changes an
// auditor checks first).
func (d *Domain) Summary(ctx context.Context, st rule.Scanner, _ func(string) string) ([]rule.Table, error) {
	now := time.Now()
	agencies := rule.Table{
		Caption: "Agencies",
		Columns: []rule.Column{{Name: "Agency"}, {Name: "Name"}, {Name: "Roles held"}, {Name: "Valid keys", Numeric: true}, {Name: "Officials", Numeric: true}},
		Empty:   "No agency is registered.",
		Note:    "What the registry log says now: every change is an entry signed by a quorum of root keys (govlog registry show AGENCY prints one agency's history, proved).",
	}
	ends := rule.Table{
		Caption: "Keys retired or revoked",
		Columns: []rule.Column{{Name: "Key"}, {Name: "Agency"}, {Name: "Change"}, {Name: "From"}, {Name: "Registry entry", Numeric: true}},
		Empty:   "No key has been retired or revoked.",
		Note:    "A retired key signs nothing dated from its retirement; what a revoked key signed from its revocation's time does not count, and the monitor names those entries in an alert.",
	}
	err := st.Scan(ctx, agencyPrefix, func(key string, value []byte) error {
		if len(agencies.Rows) == MaxSummaryRows {
			return errEnough
		}
		var a agencyRecord
		if err := json.Unmarshal(value, &a); err != nil {
			return fmt.Errorf("corrupt registry state at %s: %v", key, err)
		}
		var roles []string
		for _, g := range a.Roles {
			if g.Withdrawn == nil && !slices.Contains(roles, g.Role) {
				roles = append(roles, g.Role)
			}
		}
		valid := 0
		for _, k := range a.Keys {
			id := vkeyID(k.VKey)
			switch {
			case k.Revoked != nil:
				from := "always"
				if !k.Revoked.At.IsZero() {
					from = k.Revoked.At.UTC().Format(time.RFC3339)
				}
				ends.Rows = append(ends.Rows, []string{id, a.ID, "revoked", from, strconv.FormatUint(k.Revoked.Index, 10)})
			case k.Retired != nil:
				ends.Rows = append(ends.Rows, []string{id, a.ID, "retired", k.Retired.At.UTC().Format(time.RFC3339), strconv.FormatUint(k.Retired.Index, 10)})
				if now.Before(k.Retired.At) {
					valid++ // until then
				}
			default:
				valid++
			}
		}
		agencies.Rows = append(agencies.Rows, []string{a.ID, a.Name, strings.Join(roles, ", "), strconv.Itoa(valid), strconv.Itoa(len(a.Officials))})
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	if len(ends.Rows) > MaxSummaryRows {
		ends.Rows = ends.Rows[:MaxSummaryRows]
	}
	return []rule.Table{agencies, ends}, nil
}
