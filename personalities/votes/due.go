package votes

import (
	"context"
	"fmt"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/record"
)

var _ rule.Scheduler = (*Rules)(nil)

// Due implements [rule.Scheduler]: the votes.close of every election whose
// closing time is at or before now and that has no close entry, in order
// of closing time, then ID. Its body is the tally the state holds, which
// is what [Rules.Apply] admits; sign it as a statement dated now, truncated
// to the second, with the log's rule key (role votes-engine). A ballot
// admitted meanwhile (one dated before the close) changes the tally: the
// close written before it is refused, and the next call returns the new
// one.
//
// Its cost is one read of [PendingKey] and one of each election due.
func (*Rules) Due(ctx context.Context, st rule.Reader, now time.Time) ([]rule.Scheduled, error) {
	now = now.UTC().Truncate(time.Second)
	var pending []Pending
	if _, err := record.Get(ctx, st, PendingKey, &pending); err != nil {
		return nil, err
	}
	var out []rule.Scheduled
	for _, p := range pending {
		closes, err := parseTime(p.Closes)
		if err != nil {
			return nil, fmt.Errorf("corrupt state: %s lists election %s closing at %q", PendingKey, p.Election, p.Closes)
		}
		if now.Before(closes) {
			break // the list is sorted by closing time
		}
		rec, ok, err := ReadElection(ctx, st, p.Election)
		if err != nil {
			return nil, err
		}
		if !ok || rec.Close != nil {
			return nil, fmt.Errorf("corrupt state: %s lists election %s, which is not open", PendingKey, p.Election)
		}
		b, err := rec.tally(p.Election)
		if err != nil {
			return nil, err
		}
		out = append(out, rule.Scheduled{Type: TypeClose, Body: b, Key: ElectionKey(p.Election), Since: closes})
	}
	return out, nil
}
