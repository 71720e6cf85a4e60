package personalities

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/storage"
)

// readLogViews returns the sizes at which the log reads each of imports
// (0: none yet).
func readLogViews(ctx context.Context, tx storage.AdmitTx, imports map[string]rule.Domain) (map[string]uint64, error) {
	views := map[string]uint64{}
	for log := range imports {
		v, ok, err := tx.Get(ctx, govlog.LogViewStateKey(log))
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("corrupt %s %q", govlog.LogViewStateKey(log), v)
		}
		views[log] = n
	}
	return views, nil
}

// adoptLogView admits a log view entry naming v, signed by the log's key,
// and records the view in the log's state.
func (a *admitter) adoptLogView(ctx context.Context, tx storage.AdmitTx, v govlog.LogView, admitted []storage.OutboxEntry) ([]storage.OutboxEntry, error) {
	st, err := govlog.NewLogView(a.backend.Origin(), v, time.Now())
	if err != nil {
		return nil, err
	}
	leaf, err := a.backend.SignStatement(st)
	if err != nil {
		return nil, err
	}
	hash := govlog.LeafHash(leaf)
	if err := tx.AddToOutbox(ctx, hash, leaf); err != nil {
		return nil, err
	}
	if err := tx.Put(ctx, govlog.LogViewStateKey(v.Log), []byte(strconv.FormatUint(v.Size, 10))); err != nil {
		return nil, err
	}
	added, err := tx.LookupOutbox(ctx, [][32]byte{hash})
	if err != nil {
		return nil, err
	}
	a.logger.Info("the log now reads another log further", "other", v.Log, "size", v.Size, "index", added[hash].Index)
	return append(admitted, added[hash]), nil
}

// crossLogs is rule.Logs for the admission server: it reads the other logs'
// committed state, each in a read transaction of its own, and answers as of
// views. What it finds beyond a view it records in want, the view that
// would have found it.
type crossLogs struct {
	store   storage.AdmissionStore
	domains map[string]rule.Domain
	views   map[string]uint64
	want    map[string]uint64
}

var _ rule.Logs = (*crossLogs)(nil)

func (c *crossLogs) domain(log string) (rule.Domain, error) {
	d, ok := c.domains[log]
	if !ok {
		return nil, fmt.Errorf("%w: the %s log is not run by this server", rule.ErrRuleViolation, log)
	}
	return d, nil
}

// seen answers for an entry of log at index: held at the view, or not
// (and how far a view must reach to hold it).
func (c *crossLogs) seen(log string, index uint64) bool {
	if index < c.views[log] {
		return true
	}
	if c.want == nil {
		c.want = map[string]uint64{}
	}
	c.want[log] = max(c.want[log], index+1)
	return false
}

func (c *crossLogs) Fact(ctx context.Context, log, name, id string) (f rule.Fact, ok bool, err error) {
	d, err := c.domain(log)
	if err != nil {
		return f, false, err
	}
	exp, isExp := d.(rule.Exporter)
	if !isExp {
		return f, false, nil
	}
	err = c.store.Read(ctx, log, func(ctx context.Context, tx storage.ReadTx) error {
		f, ok, err = exp.Fact(ctx, tx, name, id)
		return err
	})
	if err != nil || !ok {
		return f, false, err
	}
	return f, c.seen(log, f.Since), nil
}

func (c *crossLogs) Entry(ctx context.Context, log string, leafHash [32]byte) (uint64, bool, error) {
	if _, err := c.domain(log); err != nil {
		return 0, false, err
	}
	var found map[[32]byte]storage.OutboxEntry
	err := c.store.Read(ctx, log, func(ctx context.Context, tx storage.ReadTx) (err error) {
		found, err = tx.LookupOutbox(ctx, [][32]byte{leafHash})
		return err
	})
	if err != nil {
		return 0, false, err
	}
	e, ok := found[leafHash]
	if !ok {
		return 0, false, nil
	}
	return e.Index, c.seen(log, e.Index), nil
}

// viewsAbove returns the log views c reads at that go beyond old, in log
// name order.
func (c *crossLogs) viewsAbove(old map[string]uint64) []govlog.LogView {
	var out []govlog.LogView
	for log, n := range c.views {
		if n > old[log] {
			out = append(out, govlog.LogView{Log: log, Size: n})
		}
	}
	slices.SortFunc(out, func(a, b govlog.LogView) int { return strings.Compare(a.Log, b.Log) })
	return out
}
