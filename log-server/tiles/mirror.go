package tiles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/sync/errgroup"
)

// Mirror is a copy of one log's tiles in another store (an S3-compatible
// bucket below a prefix), at the same C2SP paths, for a CDN or a static web
// server to serve. Implementations are safe for concurrent use.
type Mirror interface {
	// Get returns the object at path, or an error wrapping fs.ErrNotExist
	// if there is none; any other error means the store could not answer.
	Get(ctx context.Context, path string) ([]byte, error)
	// Put writes data at path, replacing any object there, with the HTTP
	// headers the store serves it with. It returns only once the object
	// is readable; on error the object may or may not have been written.
	Put(ctx context.Context, path string, data []byte, contentType, cacheControl string) error
}

// The headers of the tiles API, as ServeHTTP sends them: a tile's bytes
// never change (its width is part of its name), the checkpoint does.
const (
	TileContentType        = "application/octet-stream"
	TileCacheControl       = "public, max-age=31536000, immutable"
	CheckpointContentType  = "text/plain; charset=utf-8"
	CheckpointCacheControl = "public, max-age=2"
)

// MirrorOptions configures RunMirror; zero values are the defaults.
type MirrorOptions struct {
	Logger *slog.Logger
	// Interval is the least time between two checkpoints written to the
	// mirror, so that a log checkpointing every 100 ms costs a few writes
	// a second, not dozens; a CDN keeps the checkpoint 2 s anyway.
	// Default 1s.
	Interval time.Duration
	// Parallel is how many objects are written at once. Default 8.
	Parallel int
	// Retry is the pause after a failure, doubled on each failure in a row
	// up to MaxRetry. Default 1s and 1m.
	Retry, MaxRetry time.Duration
}

// mirrorChunk is how many entries' full tiles and bundles are written
// between two progress marks of a long upload (256 level-0 tiles, 256
// bundles, a level-1 tile).
const mirrorChunk = Width * Width

// RunMirror keeps m a copy of the tree's committed tiles until ctx is done,
// and then returns nil. It runs beside the log and never holds up a commit.
//
// The mirror's own checkpoint says what it holds: on start (and after any
// failure) it is read, and must be this log's (same origin, and the root
// this tree has at its size). After each commit with a checkpoint, the
// full tiles and entry bundles completed since, the partial tiles and the
// partial bundle of the new size (a CDN cannot cut them from the full
// ones) are written, and the checkpoint last: the mirror's checkpoint never
// names a tile the mirror lacks. Commits that come while an upload runs are
// folded into the next one. A failure is logged and retried, with growing
// pauses, from what the mirror holds; full tiles written before the failure
// are not written again by this process.
//
// One process writes a log's mirror (the one that signs its checkpoints):
// two writers could put an older checkpoint over a newer one.
func (t *Tree) RunMirror(ctx context.Context, m Mirror, opts MirrorOptions) error {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 8
	}
	if opts.Retry <= 0 {
		opts.Retry = time.Second
	}
	if opts.MaxRetry < opts.Retry {
		opts.MaxRetry = max(time.Minute, opts.Retry)
	}
	r := &mirrorRun{t: t, m: m, opts: opts}
	pause := opts.Retry
	for {
		changed := t.changes()
		st := t.st.Load()
		wrote, err := r.step(ctx, st)
		if ctx.Err() != nil {
			return nil
		}
		var wait <-chan time.Time
		switch {
		case err != nil:
			opts.Logger.Warn("couldn't update the tiles mirror; retrying", "size", st.size, "in", pause, "err", err)
			r.known = false // read what the mirror holds again
			wait = time.After(pause)
			pause = min(2*pause, opts.MaxRetry)
		case wrote:
			pause = opts.Retry
			wait = time.After(opts.Interval)
		default:
			pause = opts.Retry
		}
		if wait != nil {
			select {
			case <-ctx.Done():
				return nil
			case <-wait:
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// mirrorRun is what RunMirror knows of the mirror.
type mirrorRun struct {
	t    *Tree
	m    Mirror
	opts MirrorOptions
	// known says have and haveCheckpoint were read from the mirror (or
	// written to it) since the last failure.
	known          bool
	have           uint64
	haveCheckpoint []byte
	// fullDone is a tree size whose full tiles and bundles this process
	// has all written, so a retry does not write them again.
	fullDone uint64
	// ahead is the size past the tree's that the mirror was last found
	// at, so it is logged once.
	ahead uint64
}

// step brings the mirror to st if st has a checkpoint the mirror lacks,
// and says whether it wrote it.
func (r *mirrorRun) step(ctx context.Context, st *state) (bool, error) {
	if st.checkpoint == nil {
		return false, nil // a catch-up commit: wait for a signed one
	}
	if !r.known {
		if err := r.readMirror(ctx, st); err != nil {
			return false, err
		}
		if !r.known {
			return false, nil // the mirror is ahead of the tree
		}
	}
	if r.have == st.size && bytes.Equal(r.haveCheckpoint, st.checkpoint) {
		return false, nil
	}
	if err := r.upload(ctx, st); err != nil {
		return false, err
	}
	return true, nil
}

// readMirror learns what the mirror holds from its checkpoint, and checks
// it is this log's: an origin or a root other than this tree's means the
// prefix holds another log or another history, which is never written over.
// A mirror ahead of the tree (tiles made again from a database that is
// behind) is left as it is, and read again at the next commit, until the
// tree reaches its size and its root can be checked.
func (r *mirrorRun) readMirror(ctx context.Context, st *state) error {
	signed, err := r.m.Get(ctx, "checkpoint")
	if errors.Is(err, fs.ErrNotExist) {
		r.known, r.have, r.haveCheckpoint = true, 0, nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("couldn't read the mirror's checkpoint: %w", err)
	}
	theirs, err := parseCheckpoint(signed)
	if err != nil {
		return fmt.Errorf("the mirror's checkpoint is unreadable (%v): remove it to upload the log again", err)
	}
	// A copy: parseCheckpoint appends to its argument's text, and the
	// state's bytes are shared with every reader.
	ours, err := parseCheckpoint(bytes.Clone(st.checkpoint))
	if err != nil {
		return fmt.Errorf("the tree's checkpoint: %w", err)
	}
	if theirs.Origin != ours.Origin {
		return fmt.Errorf("the mirror holds the log %q, not %q: check its prefix", theirs.Origin, ours.Origin)
	}
	if theirs.Size > st.size {
		if r.ahead != theirs.Size {
			r.ahead = theirs.Size
			r.opts.Logger.Info("the tiles mirror is ahead of the log's tree: waiting for the tree to reach it", "mirror", theirs.Size, "size", st.size)
		}
		return nil
	}
	if theirs.Size > 0 {
		root, err := tlog.TreeHash(int64(theirs.Size), r.t.reader(st))
		if err != nil {
			return fmt.Errorf("couldn't compute the tree's root at the mirror's size %d: %w", theirs.Size, err)
		}
		if root != theirs.Hash {
			return fmt.Errorf("the mirror's checkpoint at size %d has root %x, but this log's tree has %x there: the mirror holds another history; empty it to upload this one", theirs.Size, theirs.Hash, root)
		}
	}
	r.known, r.have, r.haveCheckpoint = true, theirs.Size, signed
	return nil
}

// upload writes what the mirror needs to go from r.have to st, the
// checkpoint last.
func (r *mirrorRun) upload(ctx context.Context, st *state) error {
	start := time.Now()
	from := max(r.have, r.fullDone)
	end := st.size / Width * Width // the full tiles' end
	long := end > from+mirrorChunk
	if long {
		r.opts.Logger.Info("uploading tiles to the mirror", "from", from, "to", st.size)
	}
	for from < end {
		next := min((from/mirrorChunk+1)*mirrorChunk, end)
		if err := r.putAll(ctx, st, fullObjects(from, next)); err != nil {
			return err
		}
		r.fullDone, from = next, next
		if long {
			r.opts.Logger.Info("uploading tiles to the mirror", "size", next, "of", st.size)
		}
	}
	if err := r.putAll(ctx, st, partialObjects(r.have, st.size)); err != nil {
		return err
	}
	if err := r.m.Put(ctx, "checkpoint", st.checkpoint, CheckpointContentType, CheckpointCacheControl); err != nil {
		return fmt.Errorf("couldn't write the checkpoint of size %d: %w", st.size, err)
	}
	level := slog.LevelDebug
	if long {
		level = slog.LevelInfo
	}
	r.opts.Logger.Log(ctx, level, "tiles mirror updated", "from", r.have, "size", st.size, "took", time.Since(start).Round(time.Millisecond))
	r.have, r.haveCheckpoint = st.size, st.checkpoint
	return nil
}

// fullObjects are the full tiles and entry bundles of a tree of size to
// that a tree of size from does not have (to a multiple of Width).
func fullObjects(from, to uint64) []tileRef {
	var refs []tileRef
	for _, tile := range tlog.NewTiles(8, int64(from), int64(to)) {
		if tile.W == Width {
			refs = append(refs, tileRef{level: tile.L, n: uint64(tile.N), width: Width})
		}
	}
	for n := from / Width; n < to/Width; n++ {
		refs = append(refs, tileRef{n: n, width: Width, entries: true})
	}
	return refs
}

// partialObjects are the partial tiles, and the partial entry bundle, of a
// tree of size to that the mirror lacks when it holds size from: at each
// level whose partial tile did not change, the mirror has it already.
func partialObjects(from, to uint64) []tileRef {
	var refs []tileRef
	if w := to % Width; w > 0 && from != to {
		refs = append(refs, tileRef{n: to / Width, width: int(w), entries: true})
	}
	for level := 0; to>>(8*level) > 0; level++ {
		n := to >> (8 * level)
		if w := n % Width; w > 0 && from>>(8*level) != n {
			refs = append(refs, tileRef{level: level, n: n / Width, width: int(w)})
		}
	}
	return refs
}

// putAll writes refs of the tree st, opts.Parallel at a time.
func (r *mirrorRun) putAll(ctx context.Context, st *state, refs []tileRef) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(r.opts.Parallel)
	for _, ref := range refs {
		g.Go(func() error {
			var (
				data []byte
				path string
				err  error
			)
			// Read through the tree's checks: a damaged tile on disk is
			// refused, never copied.
			if ref.entries {
				path = EntriesPath(ref.n, ref.width)
				data, err = r.t.entriesTile(st, ref)
			} else {
				path = TilePath(ref.level, ref.n, ref.width)
				data, err = r.t.hashTile(st, ref)
			}
			if err != nil {
				return fmt.Errorf("couldn't read %s: %w", path, err)
			}
			if err := r.m.Put(ctx, path, data, TileContentType, TileCacheControl); err != nil {
				return fmt.Errorf("couldn't write %s: %w", path, err)
			}
			return nil
		})
	}
	return g.Wait()
}
