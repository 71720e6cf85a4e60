package approvals

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
)

var _ rule.Deadliner = (*Rules)(nil)

// Late lists the decisions owed by an official past the time their kind
// allows: the applications with an official whose due time is before now.
func (*Rules) Late(ctx context.Context, st rule.Scanner, now time.Time) ([]rule.Late, error) {
	var out []rule.Late
	prefix := AgencyKey("")
	err := st.Scan(ctx, prefix, func(key string, v []byte) error {
		agency, _ := strings.CutPrefix(key, prefix)
		var s AgencyStats
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("corrupt state at %s: %v", key, err)
		}
		for _, id := range slices.Sorted(func(yield func(string) bool) {
			for id := range s.WithOfficial {
				if !yield(id) {
					return
				}
			}
		}) {
			due, err := time.Parse(time.RFC3339, s.WithOfficial[id])
			if err != nil {
				return fmt.Errorf("corrupt state at %s: due time of %s: %v", key, id, err)
			}
			if !due.Before(now) {
				continue
			}
			out = append(out, rule.Late{Key: AppKey(id), Due: due,
				What: "an official of " + agency + " has not decided application " + id})
		}
		return nil
	})
	return out, err
}
