package monitor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
)

// A log whose rules read other logs (rule.Importer) records, in log view
// entries, how much of each it reads from there on. The monitor replays
// such a log up to a log view naming more of the other log than it has
// verified, and goes on in a later pass; the rules then read the other
// log's replayed state and verified leaves, as of the view, as the
// admission server read them.

// logViewsOf returns the sizes at which l's entries read the logs it
// imports after the entries replayed into tx; nil if l imports none.
func (m *Monitor) logViewsOf(ctx context.Context, l *Log, tx *advance) (map[string]uint64, error) {
	imp, ok := l.Domain.(rule.Importer)
	if !ok {
		return nil, nil
	}
	views := map[string]uint64{}
	for _, other := range imp.Imports() {
		views[other] = 0
		v, ok, err := tx.Get(ctx, govlog.LogViewStateKey(other))
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("corrupt %s %q in store", govlog.LogViewStateKey(other), v)
		}
		views[other] = n
	}
	return views, nil
}

// logNamed returns the followed log called name.
func (m *Monitor) logNamed(name string) (*Log, bool) {
	for i := range m.opts.Logs {
		if m.opts.Logs[i].Name == name {
			return &m.opts.Logs[i], true
		}
	}
	return nil, false
}

// replayedSize returns how many entries of the log called name the monitor
// has verified and replayed.
func (m *Monitor) replayedSize(ctx context.Context, name string) (uint64, error) {
	o, ok := m.logNamed(name)
	if !ok {
		return 0, nil
	}
	v, ok, err := m.opts.Store.Verified(ctx, o.Origin)
	if err != nil || !ok {
		return 0, err
	}
	return v.Size, nil
}

// checkImports makes sure every log an importing log reads is followed.
func checkImports(logs []Log) error {
	for _, l := range logs {
		imp, ok := l.Domain.(rule.Importer)
		if !ok {
			continue
		}
		for _, other := range imp.Imports() {
			found := false
			for _, o := range logs {
				found = found || o.Name == other
			}
			if !found {
				return fmt.Errorf("monitor: the %s log's rules read the %s log: follow it too", l.Name, other)
			}
		}
	}
	return nil
}

// replayedLogs is rule.Logs for a replay: the other logs' replayed state
// and verified leaves, as of views.
type replayedLogs struct {
	m     *Monitor
	views map[string]uint64
}

var _ rule.Logs = (*replayedLogs)(nil)

func (r *replayedLogs) log(name string) (*Log, error) {
	if _, ok := r.views[name]; !ok {
		return nil, fmt.Errorf("%w: the %s log is not one these rules read", rule.ErrRuleViolation, name)
	}
	o, ok := r.m.logNamed(name)
	if !ok {
		return nil, fmt.Errorf("the %s log is not followed", name)
	}
	return o, nil
}

func (r *replayedLogs) Fact(ctx context.Context, log, name, id string) (rule.Fact, bool, error) {
	o, err := r.log(log)
	if err != nil {
		return rule.Fact{}, false, err
	}
	exp, ok := o.Domain.(rule.Exporter)
	if !ok {
		return rule.Fact{}, false, nil
	}
	// The read pool: the pass's own transaction holds the writer.
	f, ok, err := exp.Fact(ctx, readView{r.m.opts.Store, o.Origin}, name, id)
	if err != nil || !ok {
		return f, false, err
	}
	return f, f.Since < r.views[log], nil
}

func (r *replayedLogs) Entry(ctx context.Context, log string, leafHash [32]byte) (uint64, bool, error) {
	o, err := r.log(log)
	if err != nil {
		return 0, false, err
	}
	var idx int64
	err = r.m.opts.Store.read.QueryRowContext(ctx, selectLeafSQL, o.Origin, leafHash[:]).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return uint64(idx), uint64(idx) < r.views[log], nil
}

// readView is the committed replayed state of one log, read through the
// store's read pool.
type readView struct {
	s      *Store
	origin string
}

func (v readView) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return v.s.getState(ctx, v.s.read, v.origin, key)
}
