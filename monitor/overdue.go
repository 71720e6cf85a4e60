package monitor

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
)

// KindOverdue: the log's own rules say it should have written a statement
// by now, and it has not: the funds log's guarantee release, due when a
// pay deadline passes with wages unpaid, missing for longer than
// Options.OverdueAfter in the checkpoint the log serves as its latest.
// Evidence: the statement that is due (its type and body, as the rules
// compute it from the replayed state), so anyone replaying the log finds
// it due too. The checkpoint is named in the message only, so that the
// alert is raised once, not again at every new checkpoint still without it.
const KindOverdue Kind = "scheduled_overdue"

// checkOverdue raises KindOverdue for the statements l's domain (a
// rule.Scheduler) says were due OverdueAfter ago, given the state replayed
// up to the checkpoint the log has just served as its latest: a log that
// writes them on time has them in it. Only after a pass that verified the
// log.
func (m *Monitor) checkOverdue(ctx context.Context, l *Log) error {
	sch, ok := l.Domain.(rule.Scheduler)
	if !ok || m.opts.OverdueAfter <= 0 {
		return nil
	}
	v, ok, err := m.opts.Store.Verified(ctx, l.Origin)
	if err != nil || !ok {
		return err
	}
	asOf := m.opts.Now().Add(-m.opts.OverdueAfter).UTC().Truncate(time.Second)
	due, err := sch.Due(ctx, storeView{m.opts.Store, l.Origin}, asOf)
	if err != nil {
		return fmt.Errorf("couldn't compute what is due: %w", err)
	}
	var errs []error
	for _, d := range due {
		body, err := json.Marshal(d.Body)
		if err != nil {
			return err
		}
		evidence, err := json.Marshal(struct {
			Type string          `json:"type"`
			Body json.RawMessage `json:"body"`
		}{d.Type, body})
		if err != nil {
			return err
		}
		errs = append(errs, m.raise(ctx, Alert{Kind: KindOverdue, Log: l.Origin,
			Message: fmt.Sprintf("%s was due by %s and is not in the log at size %d",
				d.Type, asOf.Format(time.RFC3339), v.Size),
			Evidence: Evidence{Due: evidence, Error: "due, not written"}.marshal()}))
	}
	return errors.Join(errs...)
}

// storeView is the replayed state of one log as a read-only rule.State.
type storeView struct {
	s      *Store
	origin string
}

func (v storeView) Get(ctx context.Context, key string) ([]byte, bool, error) {
	var value []byte
	err := v.s.db.QueryRowContext(ctx, getStateSQL, v.origin, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("couldn't read the state of %s: %w", v.origin, err)
	}
	return value, true, nil
}

func (v storeView) Put(_ context.Context, key string, _ []byte) error {
	return fmt.Errorf("monitor: the replayed state of %s is read-only here (Put %s)", v.origin, strings.ToValidUTF8(key, "?"))
}
