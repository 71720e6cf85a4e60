package monitor

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/govlog/govlog/personalities/rule"
)

// KindOverdue: the log's own rules say it should have written a statement
// by now, and it has not: the funds log's guarantee release, due when a
// pay deadline passes with wages unpaid, missing for longer than
// Options.OverdueAfter in the checkpoint the log serves as its latest.
// Evidence: what is due (the statement's type, the key of what it is
// about, and since when), which anyone replaying the log finds due too.
// The statement's body, which may change while it stays due (a late wage
// changes a release's shares), and the checkpoint are in the message, so
// the alert is raised once per missing statement.
const KindOverdue Kind = "scheduled_overdue"

// checkOverdue raises KindOverdue for the statements l's domain (a
// rule.Scheduler) says were due OverdueAfter before the monitor fetched
// the checkpoint it has just verified, given the state replayed up to it:
// a log that writes them on time has them in it. Only after a pass that
// verified the log.
func (m *Monitor) checkOverdue(ctx context.Context, l *Log) error {
	sch, ok := l.Domain.(rule.Scheduler)
	fetched, seen := m.fetched[l.Origin]
	if !ok || !seen || m.opts.OverdueAfter <= 0 {
		return nil
	}
	v, ok, err := m.opts.Store.Verified(ctx, l.Origin)
	if err != nil || !ok || !caughtUp(v) {
		return err
	}
	asOf := fetched.Add(-m.opts.OverdueAfter).UTC().Truncate(time.Second)
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
		what, err := json.Marshal(struct {
			Type  string    `json:"type"`
			Key   string    `json:"key"`
			Since time.Time `json:"since"`
		}{d.Type, d.Key, d.Since.UTC()})
		if err != nil {
			return err
		}
		errs = append(errs, m.raise(ctx, Alert{Kind: KindOverdue, Log: l.Origin,
			Message: fmt.Sprintf("%s for %s, due since %s, is not in the log at size %d, served %s; the rules make it %s",
				d.Type, d.Key, d.Since.UTC().Format(time.RFC3339), v.Size, fetched.UTC().Format(time.RFC3339), body),
			Evidence: Evidence{Due: what, Error: "due, not written"}.marshal()}))
	}
	return errors.Join(errs...)
}

// KindLate: the log's rules gave an agency a deadline, and it has passed
// (the approvals log: an official's decision not made in the time the
// application's kind allows), as of the latest checkpoint the monitor
// verified. Raised once per deadline missed.
const KindLate Kind = "deadline_missed"

// checkLate raises KindLate for what l's domain (a rule.Deadliner) says is
// past due at the time the monitor fetched the checkpoint it verified.
func (m *Monitor) checkLate(ctx context.Context, l *Log) error {
	dl, ok := l.Domain.(rule.Deadliner)
	fetched, seen := m.fetched[l.Origin]
	if !ok || !seen {
		return nil
	}
	v, ok, err := m.opts.Store.Verified(ctx, l.Origin)
	if err != nil || !ok || !caughtUp(v) {
		return err
	}
	late, err := dl.Late(ctx, stateScanner{s: m.opts.Store, origin: l.Origin}, fetched)
	if err != nil {
		return fmt.Errorf("couldn't compute what is late: %w", err)
	}
	var errs []error
	for _, x := range late {
		what, err := json.Marshal(struct {
			Key string    `json:"key"`
			Due time.Time `json:"due"`
		}{x.Key, x.Due.UTC()})
		if err != nil {
			return err
		}
		errs = append(errs, m.raise(ctx, Alert{Kind: KindLate, Log: l.Origin,
			Message:  fmt.Sprintf("%s, due %s", x.What, x.Due.UTC().Format(time.RFC3339)),
			Evidence: Evidence{Due: what, Error: "past due"}.marshal()}))
	}
	return errors.Join(errs...)
}

// storeView is the replayed state of one log, for reading.
type storeView struct {
	s      *Store
	origin string
}

func (v storeView) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return v.s.getState(ctx, v.s.db, v.origin, key)
}

// getState reads one key of the replayed state of origin through db, one of
// the store's pools.
func (s *Store) getState(ctx context.Context, db *sql.DB, origin, key string) ([]byte, bool, error) {
	var value []byte
	err := db.QueryRowContext(ctx, getStateSQL, origin, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("couldn't read the state of %s: %w", origin, err)
	}
	return value, true, nil
}
