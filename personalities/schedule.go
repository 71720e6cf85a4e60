package personalities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/storage"
)

// scheduledKey marks the context of a statement the scheduler submits.
type scheduledKey struct{}

// runScheduler writes, every ScheduleInterval and once at start, the
// statements l's rules say are due, signed by l's rule key and admitted like
// any other statement (so the registry, the rules and the outbox all apply).
// Nothing is remembered between passes: what is due is read from the state,
// so a restart loses nothing and a statement written twice is refused.
func (s *Server) runScheduler(ctx context.Context, l *servedLog, sch rule.Scheduler) {
	tick := time.NewTicker(s.opts.ScheduleInterval)
	defer tick.Stop()
	for {
		if err := s.schedulePass(ctx, l, sch); err != nil && ctx.Err() == nil {
			l.admitter.logger.Warn("couldn't write scheduled statements", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *Server) schedulePass(ctx context.Context, l *servedLog, sch rule.Scheduler) error {
	now := s.opts.Now().UTC().Truncate(time.Second)
	var due []rule.Scheduled
	// A transaction that writes nothing: Due only reads.
	err := s.opts.Store.Admit(ctx, l.admitter.log, func(ctx context.Context, tx storage.AdmitTx) error {
		var err error
		due, err = sch.Due(ctx, tx, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("couldn't read what is due: %w", err)
	}
	for _, d := range due {
		body, err := json.Marshal(d.Body)
		if err != nil {
			return err
		}
		st, err := govlog.NewStatement(l.Log.Origin(), d.Type, now, body)
		if err != nil {
			return err
		}
		signed, err := st.Sign(l.RuleKey)
		if err != nil {
			return err
		}
		// No quota for the log's own statements: a release is due now.
		_, err = s.submit(context.WithValue(ctx, scheduledKey{}, true), &api.SubmitRequest{Log: l.admitter.log, Statement: signed})
		switch {
		case err == nil:
			l.admitter.logger.Info("wrote scheduled statement", "type", d.Type)
		case errors.Is(err, rule.ErrAlreadyExists), errors.Is(err, rule.ErrRuleViolation):
			// Written meanwhile, or overtaken (a late payment): the next
			// pass reads the state again.
			l.admitter.logger.Debug("scheduled statement refused", "type", d.Type, "err", err)
		default:
			return fmt.Errorf("couldn't write scheduled %s: %w", d.Type, err)
		}
	}
	return nil
}
