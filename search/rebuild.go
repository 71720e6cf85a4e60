package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/storage"
)

// rebuildKey holds the progress of Rebuild: {"next":N,"target":T}, or
// {"done":true} once every entry below T is indexed. It is under Prefix,
// with the index it describes.
const rebuildKey = Prefix + "rebuild"

// rebuildBatch is how many entries one rebuild transaction indexes.
const rebuildBatch = 256

// RebuildOptions configures Rebuild.
type RebuildOptions struct {
	// Store holds the log's state, where the index goes.
	Store storage.AdmissionStore
	// Log is the log's name, Source the log and its rules; Source.Log
	// must read entries (Entries) as well.
	Log    string
	Source Source
	// Agency names the agency whose registered key signed leaf (entry e,
	// as read from it), or "" if none or unknown: the registry as it
	// stands now, so a key revoked since with no from time credits no one.
	Agency func(ctx context.Context, leaf []byte, e rule.Entry) string
	// Poll is how long to wait for a checkpoint to include the entries
	// still to index. Default 1 second.
	Poll   time.Duration
	Logger *slog.Logger
}

// EntryReader is a Log that also reads entries: log-server's *Log.
type EntryReader interface {
	Log
	// Entries returns up to count entries from start, below the latest
	// checkpoint.
	Entries(ctx context.Context, start, count uint64) ([][]byte, error)
}

type rebuildState struct {
	Next   uint64 `json:"next,omitempty"`
	Target uint64 `json:"target,omitempty"`
	Done   bool   `json:"done,omitempty"`
}

// Rebuild indexes the entries admitted before the log's index existed
// (those below the log's next index when it first runs), reading them
// from the log, and records its progress in the log's state with each
// batch it indexes, so a restart goes on where it stopped and a finished
// rebuild never runs again. Entries already indexed (admitted since) are
// left as they are. It returns when done or when ctx is done.
func Rebuild(ctx context.Context, opts RebuildOptions) error {
	l, ok := opts.Source.Log.(EntryReader)
	if !ok {
		return errors.New("search rebuild: the log cannot read its entries")
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := startRebuild(ctx, opts)
	if err != nil || st.Done {
		return err
	}
	indexed := 0
	for st.Next < st.Target {
		_, cp := l.Checkpoint()
		if cp.Size <= st.Next {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(opts.Poll):
				continue
			}
		}
		leaves, err := l.Entries(ctx, st.Next, min(rebuildBatch, st.Target-st.Next, cp.Size-st.Next))
		if err != nil {
			return fmt.Errorf("search rebuild: couldn't read entries from %d: %w", st.Next, err)
		}
		if len(leaves) == 0 {
			return fmt.Errorf("search rebuild: the log returned no entries from %d", st.Next)
		}
		n, err := rebuildBatchAt(ctx, opts, l.Origin(), &st, leaves)
		if err != nil {
			return err
		}
		indexed += n
	}
	if indexed > 0 {
		opts.Logger.Info("indexed the entries admitted before the search index", "log", opts.Log, "entries", indexed)
	}
	return nil
}

// startRebuild reads the rebuild's progress, recording its target (the
// log's next index now) on its first run.
func startRebuild(ctx context.Context, opts RebuildOptions) (rebuildState, error) {
	var st rebuildState
	err := opts.Store.Admit(ctx, opts.Log, func(ctx context.Context, tx storage.AdmitTx) error {
		v, ok, err := tx.Get(ctx, rebuildKey)
		if err != nil {
			return err
		}
		if ok {
			return json.Unmarshal(v, &st)
		}
		if st.Target, err = tx.NextIndex(ctx); err != nil {
			return err
		}
		st.Done = st.Target == 0
		return putRebuild(ctx, tx, st)
	})
	if err != nil {
		return rebuildState{}, fmt.Errorf("search rebuild: couldn't read its progress: %w", err)
	}
	return st, nil
}

func putRebuild(ctx context.Context, tx storage.AdmitTx, st rebuildState) error {
	if st.Next >= st.Target {
		st = rebuildState{Done: true}
	}
	v, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return tx.Put(ctx, rebuildKey, v)
}

// rebuildBatchAt indexes leaves, the entries from st.Next on, and moves
// st.Next past them, in one transaction. It returns how many it indexed.
func rebuildBatchAt(ctx context.Context, opts RebuildOptions, origin string, st *rebuildState, leaves [][]byte) (int, error) {
	d := opts.Source.Domain
	types := d.Types()
	entries := make([]*rule.Entry, len(leaves))
	for i, leaf := range leaves {
		s, _, _, err := govlog.ReadStatement(leaf, origin)
		if err != nil {
			return 0, fmt.Errorf("search rebuild: entry %d of the log does not read: %v", st.Next+uint64(i), err)
		}
		// The entries a log writes about itself outside its domain's
		// types (registry and log views) are not indexed, as admission
		// does not index them.
		if !slices.ContainsFunc(types, func(t rule.TypeInfo) bool { return t.Type == s.Type }) {
			continue
		}
		e := rule.Entry{Type: s.Type, Time: s.Time, Body: s.Body, LeafHash: govlog.LeafHash(leaf), Index: st.Next + uint64(i)}
		if opts.Agency != nil {
			e.Agency = opts.Agency(ctx, leaf, e)
		}
		entries[i] = &e
	}
	n := 0
	err := opts.Store.Admit(ctx, opts.Log, func(ctx context.Context, tx storage.AdmitTx) error {
		n = 0
		for _, e := range entries {
			if e == nil {
				continue
			}
			// Admitted since the index existed: its admission indexed it.
			if _, ok, err := tx.Get(ctx, entryPrefix+position(e.Index)); err != nil || ok {
				if err != nil {
					return err
				}
				continue
			}
			if err := Index(ctx, tx, d, e.Index, *e); err != nil {
				return err
			}
			n++
		}
		return putRebuild(ctx, tx, rebuildState{Next: st.Next + uint64(len(leaves)), Target: st.Target})
	})
	if err != nil {
		return 0, fmt.Errorf("search rebuild: couldn't index entries %d to %d: %w", st.Next, st.Next+uint64(len(leaves))-1, err)
	}
	st.Next += uint64(len(leaves))
	return n, nil
}
