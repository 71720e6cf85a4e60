package donations

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
)

var _ rule.Deadliner = (*Rules)(nil)

const feedbackDuePrefix = "feedback-due/"

// Late implements [rule.Deadliner]: the campaigns past the end of their
// hand-on date, UTC, that still hold something (or have it in transit),
// and the hand-overs to final recipients whose feedback is past due.
func (*Rules) Late(ctx context.Context, st rule.Scanner, now time.Time) ([]rule.Late, error) {
	var out []rule.Late
	err := st.Scan(ctx, campaignPrefix, func(key string, value []byte) error {
		var c Campaign
		if err := json.Unmarshal(value, &c); err != nil {
			return fmt.Errorf("corrupt state at %s: %v", key, err)
		}
		due := handOnDeadline(c.HandOnBy)
		if !due.Before(now) {
			return nil
		}
		for _, t := range c.Totals {
			if t.Held() > 0 {
				out = append(out, rule.Late{Key: CampaignKey(c.ID), Due: due,
					What: fmt.Sprintf("campaign %s of charity %s still holds donations after its hand-on date", c.ID, c.Charity)})
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = st.Scan(ctx, feedbackDuePrefix, func(key string, value []byte) error {
		if len(value) == 0 {
			return nil // given
		}
		charity, handover, ok := strings.Cut(strings.TrimPrefix(key, feedbackDuePrefix), "/")
		due, err := time.Parse(time.RFC3339, string(value))
		if !ok || err != nil {
			return fmt.Errorf("corrupt state at %s: %q", key, value)
		}
		if due.Before(now) {
			out = append(out, rule.Late{Key: HandoverKey(handover), Due: due,
				What: fmt.Sprintf("the final recipient of hand-over %s (charity %s) has not confirmed it", handover, charity)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
