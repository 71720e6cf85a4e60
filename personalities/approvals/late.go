package approvals

import (
	"context"
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
	err := st.Scan(ctx, prefix, func(key string, _ []byte) error {
		agency, _ := strings.CutPrefix(key, prefix)
		return Owed(ctx, st, agency, func(id string, due time.Time) error {
			if due.Before(now) {
				out = append(out, rule.Late{Key: AppKey(id), Due: due,
					What: "an official of " + agency + " has not decided application " + id})
			}
			return nil
		})
	})
	return out, err
}
