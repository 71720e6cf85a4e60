package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/storage"
)

// nextKey holds the index of the next entry Follow indexes, in decimal: it
// has indexed every entry below it. It is under Prefix, with the index it
// describes, and written in the transactions that index.
const nextKey = Prefix + "next"

// longBacklog is how far behind the log Follow must be to report its
// progress.
const longBacklog = 10_000

// followBatch is how many entries one transaction indexes: enough that the
// index's pages are written once for many entries, few enough that the
// transaction holds an SQLite store's one connection only briefly.
const followBatch = 256

// FollowOptions configures Follow.
type FollowOptions struct {
	// Store holds the log's state, where the index goes.
	Store storage.AdmissionStore
	// Log is the log's name, Source the log and its rules; Source.Log
	// must read entries (Entries) as well.
	Log    string
	Source Source
	// Agency names the agency whose registered key signed entry e, whose
	// signature lines are sigs (as read, not verified: the log verified
	// them when it admitted e), or "" if none or unknown.
	Agency func(ctx context.Context, e rule.Entry, sigs []note.Signature) string
	// Poll is how often to look for a newer checkpoint once every entry
	// below the latest is indexed. Default 200 ms.
	Poll   time.Duration
	Logger *slog.Logger
	// Indexed, if set, is told how many of the log's first entries the
	// index holds: where Follow starts, and after each batch.
	Indexed func(next uint64)
}

// EntryReader is a Log that also reads entries: log-server's *Log.
type EntryReader interface {
	Log
	// Entries returns up to count entries from start, below the latest
	// checkpoint.
	Entries(ctx context.Context, start, count uint64) ([][]byte, error)
}

// Follow indexes the log's entries in order as published checkpoints
// include them, until ctx is done, recording with each batch the index of
// the next entry to index, so that a restart goes on where it stopped.
// Indexing an entry again writes the same keys, so a batch retried after
// a failure whose commit is unknown does no harm.
func Follow(ctx context.Context, opts FollowOptions) error {
	l, ok := opts.Source.Log.(EntryReader)
	if !ok {
		return errors.New("search index: the log cannot read its entries")
	}
	if opts.Poll <= 0 {
		opts.Poll = 200 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	next, err := startFollow(ctx, opts)
	if err != nil {
		return err
	}
	if opts.Indexed == nil {
		opts.Indexed = func(uint64) {}
	}
	opts.Indexed(next)
	poll := time.NewTicker(opts.Poll)
	defer poll.Stop()
	// A long way behind (a store indexed anew): say so, every minute, and
	// when caught up.
	var behind struct {
		since      time.Time
		from       uint64
		lastReport time.Time
	}
	for {
		_, cp := l.Checkpoint()
		switch {
		case cp.Size-min(next, cp.Size) >= longBacklog && behind.since.IsZero():
			behind.since, behind.from, behind.lastReport = time.Now(), next, time.Now()
			opts.Logger.Info("indexing the log for search", "log", opts.Log, "from", next, "to", cp.Size)
		case !behind.since.IsZero() && cp.Size <= next:
			opts.Logger.Info("the search index caught up with the log", "log", opts.Log, "entries", next-behind.from,
				"took", time.Since(behind.since).Round(time.Second))
			behind.since = time.Time{}
		case !behind.since.IsZero() && time.Since(behind.lastReport) >= time.Minute:
			behind.lastReport = time.Now()
			opts.Logger.Info("indexing the log for search", "log", opts.Log, "indexed", next, "of", cp.Size)
		}
		if cp.Size <= next {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-poll.C:
				continue
			}
		}
		leaves, err := l.Entries(ctx, next, min(followBatch, cp.Size-next))
		if err != nil {
			return fmt.Errorf("search index: couldn't read entries from %d: %w", next, err)
		}
		if len(leaves) == 0 {
			return fmt.Errorf("search index: the log returned no entries from %d", next)
		}
		if err := indexBatch(ctx, opts, l.Origin(), next, leaves); err != nil {
			return err
		}
		next += uint64(len(leaves))
		opts.Indexed(next)
	}
}

// startFollow reads the index of the next entry to index: 0 on a store
// whose index has never been kept this way. (An index that admission kept,
// before Follow, had other keys, which PruneOldLayout deletes: every entry
// is indexed again.)
func startFollow(ctx context.Context, opts FollowOptions) (uint64, error) {
	var next uint64
	err := opts.Store.Read(ctx, opts.Log, func(ctx context.Context, tx storage.ReadTx) error {
		v, ok, err := tx.Get(ctx, nextKey)
		if err != nil || !ok {
			return err
		}
		next, err = strconv.ParseUint(string(v), 10, 64)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("search index: couldn't read where it stands: %w", err)
	}
	return next, nil
}

// indexBatch indexes leaves, the entries from first on, and records the
// index after them, in one transaction.
func indexBatch(ctx context.Context, opts FollowOptions, origin string, first uint64, leaves [][]byte) error {
	d := opts.Source.Domain
	types := d.Types()
	var entries []rule.Entry
	for i, leaf := range leaves {
		s, _, sigs, err := govlog.ReadStatement(leaf, origin)
		if err != nil {
			return fmt.Errorf("search index: entry %d of the log does not read: %v", first+uint64(i), err)
		}
		// The entries a log writes about itself outside its domain's
		// types (registry and log views) are not indexed.
		if !slices.ContainsFunc(types, func(t rule.TypeInfo) bool { return t.Type == s.Type }) {
			continue
		}
		e := rule.Entry{Type: s.Type, Time: s.Time, Body: s.Body, LeafHash: govlog.LeafHash(leaf), Index: first + uint64(i)}
		if opts.Agency != nil {
			e.Agency = opts.Agency(ctx, e, sigs)
		}
		entries = append(entries, e)
	}
	next := first + uint64(len(leaves))
	err := opts.Store.Admit(ctx, opts.Log, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := IndexEntries(ctx, tx, d, entries); err != nil {
			return err
		}
		return tx.Put(ctx, nextKey, []byte(strconv.FormatUint(next, 10)))
	})
	if err != nil {
		return fmt.Errorf("search index: couldn't index entries %d to %d: %w", first, next-1, err)
	}
	return nil
}

// oldLayout are the key prefixes of the index as admission kept it before
// Follow: a row per entry (entry/) and per entry and term (by kind), and
// its one-time rebuild's progress.
var oldLayout = []string{Prefix + "entry/", Prefix + "rebuild", Prefix + KindAgency + "/", Prefix + KindType + "/",
	Prefix + KindID + "/", Prefix + KindSHA256 + "/", Prefix + KindWord + "/", Prefix + KindYear + "/",
	Prefix + KindMonth + "/", Prefix + KindDay + "/"}

// PruneOldLayout deletes from store, a batch at a time, log's index in
// the layout admission kept, which no search reads since Follow keeps it
// (in a store of its own, or beside it under other keys). It returns how
// many keys it deleted; a store that cannot delete (storage.StatePruner)
// keeps them.
func PruneOldLayout(ctx context.Context, store storage.AdmissionStore, log string) (int, error) {
	p, ok := store.(storage.StatePruner)
	if !ok {
		return 0, nil
	}
	const batch = 500
	total := 0
	for _, prefix := range oldLayout {
		for {
			n, err := p.DeleteStatePrefix(ctx, log, prefix, batch)
			total += n
			if err != nil {
				return total, fmt.Errorf("search index: couldn't delete the old layout's keys: %w", err)
			}
			if n < batch {
				break
			}
		}
	}
	return total, nil
}
