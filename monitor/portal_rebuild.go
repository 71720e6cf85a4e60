package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/search"
)

// indexRebuildKey holds, in each log's replayed state, the progress of
// indexing for search the entries the monitor replayed before it kept the
// index (a store from before the portal): {"next":N,"target":T}, or
// {"done":true}. It is written before the first pass that indexes, with T
// the size replayed then, so entries from T on are indexed by the replay.
const indexRebuildKey = search.Prefix + "monitor-rebuild-blocks"

// oldIndexRebuildKey was indexRebuildKey while the index kept a row per
// entry and term, before its lists were blocks: such an index is dropped
// and made again.
const oldIndexRebuildKey = search.Prefix + "monitor-rebuild"

// indexRebuildBatch is how many entries one rebuild transaction indexes.
const indexRebuildBatch = 256

type indexRebuild struct {
	Next   uint64 `json:"next,omitempty"`
	Target uint64 `json:"target,omitempty"`
	Done   bool   `json:"done,omitempty"`
}

// rebuildIndex indexes for search the entries of l the monitor replayed
// before it kept the index, reading them from the log and checking each
// against the leaf hash it verified. It credits an entry to an agency as
// the registry stands now, and leaves out the
// entries the replay refused (an alert names each). Progress is stored
// with each batch, so a failure or a restart goes on where it stopped.
// Run it between passes: it writes to the store.
func (m *Monitor) rebuildIndex(ctx context.Context, l *Log) error {
	s := m.opts.Store
	st, err := m.startIndexRebuild(ctx, l)
	if err != nil || st.Done {
		return err
	}
	hashes, err := leafHashes(ctx, s.read, l.Origin, st.Target)
	if err != nil {
		return err
	}
	refused, err := s.refusedEntries(ctx, l.Origin)
	if err != nil {
		return err
	}
	types := l.Domain.Types()
	reg := m.registryOf(l)
	indexed := 0
	for st.Next < st.Target {
		leaves, err := l.Reader.Entries(ctx, l.Name, st.Next, min(indexRebuildBatch, st.Target-st.Next))
		if err != nil {
			return fmt.Errorf("couldn't read entries from %d: %w", st.Next, err)
		}
		if len(leaves) == 0 {
			return fmt.Errorf("the log returned no entries from %d", st.Next)
		}
		var entries []rule.Entry
		for i, leaf := range leaves {
			index := st.Next + uint64(i)
			if index >= st.Target {
				break
			}
			h := govlog.LeafHash(leaf)
			if string(h[:]) != string(hashes[index]) {
				return fmt.Errorf("the log served entry %d with leaf hash %x, not the %x the monitor verified", index, h, hashes[index])
			}
			o, err := reg.Open(leaf, l.Origin, l.Domain)
			if err != nil || refused[index] || !slices.ContainsFunc(types, func(t rule.TypeInfo) bool { return t.Type == o.Entry.Type }) {
				continue // not a domain statement the replay admitted
			}
			e := o.Entry
			e.Index, e.LeafHash = index, h
			e.Agency, _ = reg.AgencyOf(l.Domain, e, o.Sigs)
			entries = append(entries, e)
		}
		next := min(st.Next+uint64(len(leaves)), st.Target)
		err = s.writeState(ctx, l.Origin, func(w stateWriter) error {
			if err := search.IndexEntries(ctx, w, l.Domain, entries); err != nil {
				return err
			}
			return w.putJSON(ctx, indexRebuildKey, indexRebuild{Next: next, Target: st.Target, Done: next >= st.Target})
		})
		if err != nil {
			return fmt.Errorf("couldn't index entries %d to %d: %w", st.Next, next-1, err)
		}
		indexed += len(entries)
		st.Next = next
	}
	m.logger.Info("indexed for the portal's search the entries replayed before the monitor kept its index", "log", l.Origin, "entries", indexed)
	return nil
}

// startIndexRebuild reads l's rebuild progress, recording it on the first
// run: nothing to do on a log the monitor has not replayed yet.
func (m *Monitor) startIndexRebuild(ctx context.Context, l *Log) (indexRebuild, error) {
	s := m.opts.Store
	var st indexRebuild
	if _, old, err := s.getState(ctx, s.db, l.Origin, oldIndexRebuildKey); err != nil {
		return st, err
	} else if old {
		if err := s.deleteIndex(ctx, l.Origin); err != nil {
			return st, err
		}
		m.logger.Info("dropped the portal's search index to make it again with the lists as blocks", "log", l.Origin)
	}
	v, ok, err := s.getState(ctx, s.db, l.Origin, indexRebuildKey)
	if err != nil {
		return st, err
	}
	if ok {
		if err := json.Unmarshal(v, &st); err != nil {
			return st, fmt.Errorf("corrupt %s in store: %w", indexRebuildKey, err)
		}
		return st, nil
	}
	verified, ok, err := readVerified(ctx, s.db, l.Origin)
	if err != nil {
		return st, err
	}
	if ok {
		st.Target = verified.Size
	}
	st.Done = st.Target == 0
	return st, s.writeState(ctx, l.Origin, func(w stateWriter) error { return w.putJSON(ctx, indexRebuildKey, st) })
}

// refusedEntries returns the indexes of l's entries the replay refused.
func (s *Store) refusedEntries(ctx context.Context, origin string) (map[uint64]bool, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT idx FROM monitor_alerts WHERE log = ? AND kind = ? AND idx IS NOT NULL", origin, string(KindEntry))
	if err != nil {
		return nil, fmt.Errorf("couldn't read the alerts of %s: %w", origin, err)
	}
	defer rows.Close()
	out := map[uint64]bool{}
	for rows.Next() {
		var idx int64
		if err := rows.Scan(&idx); err != nil {
			return nil, fmt.Errorf("couldn't read the alerts of %s: %w", origin, err)
		}
		out[uint64(idx)] = true
	}
	return out, rows.Err()
}

// stateWriter writes a log's state in a transaction of its own, and reads
// it (stateTx).
type stateWriter struct{ stateTx }

func (w stateWriter) Put(ctx context.Context, key string, value []byte) error {
	_, err := w.tx.ExecContext(ctx, putStateSQL, w.origin, key, value)
	return err
}

func (w stateWriter) putJSON(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return w.Put(ctx, key, b)
}

// writeState runs fn in one transaction of the store's writer.
func (s *Store) writeState(ctx context.Context, origin string, fn func(stateWriter) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(stateWriter{stateTx{tx: tx, origin: origin}}); err != nil {
		return err
	}
	return tx.Commit()
}

// dropIndex deletes l's search index when the portal is off, if it has
// one: entries replayed from now on go unindexed, so the portal, turned on
// again, indexes all of them again rather than show a partial index.
func (m *Monitor) dropIndex(ctx context.Context, l *Log) error {
	s := m.opts.Store
	_, ok, err := s.getState(ctx, s.db, l.Origin, indexRebuildKey)
	if err == nil && !ok {
		_, ok, err = s.getState(ctx, s.db, l.Origin, oldIndexRebuildKey)
	}
	if err != nil || !ok {
		return err
	}
	if err := s.deleteIndex(ctx, l.Origin); err != nil {
		return err
	}
	m.logger.Info("dropped the portal's search index: the portal is off", "log", l.Origin)
	return nil
}

// deleteIndex deletes the search index of the log with origin.
func (s *Store) deleteIndex(ctx context.Context, origin string) error {
	// Keys compare as bytes; "/" + 1 is "0".
	end := strings.TrimSuffix(search.Prefix, "/") + "0"
	_, err := s.db.ExecContext(ctx, "DELETE FROM monitor_state WHERE origin = ? AND key >= ? AND key < ?", origin, search.Prefix, end)
	if err != nil {
		return fmt.Errorf("couldn't drop the search index of %s: %w", origin, err)
	}
	return nil
}
