package funds

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
)

// DueReleases returns the guarantee releases that are due at now: for each
// labour-contract period whose pay deadline is before now, that still has
// unpaid workers and was not released, the body of the
// funds.guarantee.release that [Rules.Apply] admits at now, sorted by
// deadline, then contract. Sign each as a statement dated now, truncated to
// the second as statement times are, with the funds log's rule key.
//
// It only reads st, so a scheduler can call it after any restart and as
// often as it likes: a release admitted meanwhile is not returned again,
// and one written twice is refused with [rule.ErrAlreadyExists]. A release
// that races a late wage payment is refused (the worker is no longer
// unpaid); call DueReleases again.
//
// Its cost is one read of [DuePeriodsKey], one of the [DueKey] list of each
// period that has begun, and for each due release one read per worker of
// the contract (or, for a period vouched for, of its vouch, and one per
// commitment vouched for). Fully paid and released periods leave those lists, so the
// cost follows the work pending, not the history.
func DueReleases(ctx context.Context, st rule.Reader, now time.Time) ([]ReleaseBody, error) {
	due, err := dueReleases(ctx, st, now)
	if err != nil {
		return nil, err
	}
	bodies := make([]ReleaseBody, len(due))
	for i, d := range due {
		bodies[i] = d.body
	}
	return bodies, nil
}

// dueRelease is a release that is due, with the pay deadline that made it
// due (UTC, stateTimeLayout).
type dueRelease struct {
	deadline string
	body     ReleaseBody
}

func dueReleases(ctx context.Context, st rule.Reader, now time.Time) ([]dueRelease, error) {
	now = now.UTC().Truncate(time.Second)
	var periods []string
	if _, err := getJSON(ctx, st, DuePeriodsKey, &periods); err != nil {
		return nil, err
	}
	type due = dueRelease
	var found []due
	for _, p := range periods {
		if !body.ValidPeriod(p) {
			return nil, fmt.Errorf("corrupt state: %s lists %q", DuePeriodsKey, p)
		}
		// Every deadline is after the start of its period, and periods
		// are sorted: none from here on can have passed.
		if !now.After(periodStart(p)) {
			break
		}
		var items []DueItem
		if _, err := getJSON(ctx, st, DueKey(p), &items); err != nil {
			return nil, err
		}
		for _, it := range items {
			deadline, err := time.Parse(stateTimeLayout, it.Deadline)
			if err != nil {
				return nil, fmt.Errorf("corrupt state: %s lists deadline %q", DueKey(p), it.Deadline)
			}
			if !now.After(deadline) {
				break // the list is sorted by deadline
			}
			body, ok, err := releaseFor(ctx, st, it.Contract, p)
			if err != nil {
				return nil, err
			}
			if ok {
				found = append(found, due{it.Deadline, body})
			}
		}
	}
	slices.SortStableFunc(found, func(a, b due) int {
		return cmp.Or(cmp.Compare(a.deadline, b.deadline), cmp.Compare(a.body.ContractID, b.body.ContractID),
			cmp.Compare(a.body.Period, b.body.Period))
	})
	return found, nil
}

// releaseFor computes the release of one contract's period, the way
// guaranteeRelease checks it. ok is false if there is nothing to release.
func releaseFor(ctx context.Context, st rule.Reader, contract, period string) (ReleaseBody, bool, error) {
	var k ContractRecord
	var prog ContractProgress
	var per PeriodRecord
	for _, r := range []struct {
		key string
		v   any
	}{{ContractKey(contract), &k}, {ProgressKey(contract), &prog}, {PeriodKey(contract, period), &per}} {
		ok, err := getJSON(ctx, st, r.key, r.v)
		if err != nil {
			return ReleaseBody{}, false, err
		}
		if !ok {
			return ReleaseBody{}, false, fmt.Errorf("corrupt state: %s is due for %s but %s is missing", contract, period, r.key)
		}
	}
	if per.Release != nil || per.Unpaid == 0 {
		return ReleaseBody{}, false, nil
	}
	order := k.Workers
	if per.Vouch != "" {
		var vouched []string
		ok, err := getJSON(ctx, st, WageVouchKey(contract, period), &vouched)
		if err != nil {
			return ReleaseBody{}, false, err
		}
		order = vouched
		if !ok {
			return ReleaseBody{}, false, fmt.Errorf("corrupt state: %s was vouched for but %s is missing", PeriodKey(contract, period), WageVouchKey(contract, period))
		}
	}
	var unpaid []string
	for _, w := range order {
		ok, err := getJSON(ctx, st, WageKey(contract, period, w), new(WageRecord))
		if err != nil {
			return ReleaseBody{}, false, err
		}
		if !ok {
			unpaid = append(unpaid, w)
		}
	}
	if len(unpaid) != per.Unpaid {
		return ReleaseBody{}, false, fmt.Errorf("corrupt state: %s counts %d unpaid workers, the wage records %d",
			PeriodKey(contract, period), per.Unpaid, len(unpaid))
	}
	share := releaseShare(k.WagePerPeriod, prog.Held, len(unpaid))
	body := ReleaseBody{ContractID: contract, Period: period, Escrow: prog.Escrow}
	for _, w := range unpaid {
		if per.Vouch != "" {
			// A one-time commitment is paid to its own account.
			body.Payments = append(body.Payments, ReleasePayment{Worker: w, Amount: share})
			continue
		}
		var wr WorkerRecord
		ok, err := getJSON(ctx, st, WorkerKey(w), &wr)
		if err != nil {
			return ReleaseBody{}, false, err
		}
		if !ok {
			return ReleaseBody{}, false, fmt.Errorf("corrupt state: worker %s of contract %s has no %s", w, contract, WorkerKey(w))
		}
		body.Payments = append(body.Payments, ReleasePayment{Worker: w, To: wr.Account, Amount: share})
	}
	return body, true, nil
}

var _ rule.Scheduler = (*Rules)(nil)

// Due implements [rule.Scheduler]: the guarantee releases due at now.
func (r *Rules) Due(ctx context.Context, st rule.Reader, now time.Time) ([]rule.Scheduled, error) {
	due, err := dueReleases(ctx, st, now)
	if err != nil {
		return nil, err
	}
	out := make([]rule.Scheduled, len(due))
	for i, d := range due {
		since, err := time.Parse(stateTimeLayout, d.deadline)
		if err != nil {
			return nil, fmt.Errorf("corrupt state: deadline %q", d.deadline)
		}
		out[i] = rule.Scheduled{Type: TypeGuaranteeRelease, Body: d.body,
			Key: PeriodKey(d.body.ContractID, d.body.Period), Since: since}
	}
	return out, nil
}
