package monitor

import (
	"context"
	"fmt"
	"strings"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/registry"
)

// rescanCompromised names, in KindCompromised alerts, the entries of the
// other logs that the monitor replayed before it learnt that a key which
// signed them was revoked for compromise: when a pass over the registry
// log brings revocations that before did not hold, it reads the other logs
// again up to what it verified, checks that each entry is the one it
// verified (its leaf hash at its index), and names those signed by a newly
// revoked key and dated at or after the revocation's from time. Entries
// replayed after the revocation are named as they are replayed. The store
// keeps how much of the registry was rescanned for, so a monitor stopped
// in between rescans after its restart.
func (m *Monitor) rescanCompromised(ctx context.Context) error {
	after := m.reg
	done, err := m.opts.Store.mark(ctx, rescanMark)
	if err != nil {
		return err
	}
	if done >= after.Size() {
		return nil
	}
	old := after.Revoked(done)
	fresh := map[string]bool{}
	for id := range after.Revoked(after.Size()) {
		if _, ok := old[id]; !ok {
			fresh[id] = true
		}
	}
	for i := range m.opts.Logs {
		l := &m.opts.Logs[i]
		if l == m.regLog {
			continue
		}
		if len(fresh) == 0 {
			break
		}
		if err := m.rescanLog(ctx, l, after, fresh); err != nil {
			return fmt.Errorf("log %s: rescan for revoked keys: %w", l.Origin, err)
		}
	}
	return m.opts.Store.setMark(ctx, rescanMark, after.Size())
}

// rescanMark names, in the store, the registry size rescanned for.
const rescanMark = "registry-rescanned"

func (m *Monitor) rescanLog(ctx context.Context, l *Log, reg *registry.Registry, fresh map[string]bool) error {
	v, ok, err := m.opts.Store.Verified(ctx, l.Origin)
	if err != nil || !ok {
		return err
	}
	m.logger.Info("reading the log again for entries by newly revoked keys", "log", l.Origin, "entries", v.Size)
	for next := uint64(0); next < v.Size; {
		batch, err := l.Reader.Entries(ctx, l.Name, next, min(m.opts.BatchSize, v.Size-next))
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return fmt.Errorf("the log served no entry at %d", next)
		}
		for _, leaf := range batch {
			index := next
			next++
			if idx, ok, err := m.opts.Store.LeafIndex(ctx, l.Origin, govlog.LeafHash(leaf)); err != nil {
				return err
			} else if !ok || idx != index {
				return fmt.Errorf("the log served, at %d, an entry the monitor did not verify there", index)
			}
			p := parseEntry(l, reg, leaf)
			if p.err != nil || p.anchor != nil {
				continue
			}
			var named []string
			for _, k := range reg.Compromised(p.Sigs, p.Entry.Time) {
				if id, _, _ := strings.Cut(k, " "); fresh[id] {
					named = append(named, k)
				}
			}
			if len(named) == 0 {
				continue
			}
			err := m.raise(ctx, Alert{Kind: KindCompromised, Log: l.Origin, Index: &index,
				Message:  compromisedMessage(index, p.Entry.Type, named),
				Evidence: Evidence{Checkpoints: [][]byte{v.Checkpoint}, Entry: leaf, Error: "compromised key: " + strings.Join(named, "; ")}.marshal()})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// compromisedMessage is the message of a KindCompromised alert, the same
// whether the entry was verified after the revocation (by its replay) or
// before it (by the rescan): one alert, whichever came first.
func compromisedMessage(index uint64, typ string, keys []string) string {
	return fmt.Sprintf("entry %d (%s) is signed by a key revoked for compromise: %s", index, typ, strings.Join(keys, "; "))
}
