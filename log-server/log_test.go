package logserver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/govlog/govlog"
	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/storage/mysql"
)

const origin = "gov.example/test"

// queueAndWait stores leaves from index first and waits until a checkpoint
// includes them all.
func queueAndWait(t *testing.T, l *logserver.Log, first uint64, leaves ...[]byte) {
	t.Helper()
	if err := l.QueueLeaves(t.Context(), first, leaves); err != nil {
		t.Fatalf("QueueLeaves: %v", err)
	}
	for _, leaf := range leaves {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		if _, _, err := l.WaitForInclusion(ctx, leaf); err != nil {
			t.Fatalf("WaitForInclusion: %v", err)
		}
		cancel()
	}
}

func leaf(i int) []byte { return fmt.Appendf(nil, "leaf %d\n", i) }

func TestLog(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		key := logtest.NewLogKey(t, origin)
		l := b.OpenLog(t, key, time.Minute)

		// A new log has an empty, signed checkpoint.
		signed, cp := l.Checkpoint()
		if cp.Size != 0 || cp.Origin != origin {
			t.Fatalf("new log checkpoint %+v", cp)
		}
		if _, _, err := govlog.OpenCheckpoint(signed, key.Verifier); err != nil {
			t.Fatalf("OpenCheckpoint: %v", err)
		}
		if _, err := l.Entries(t.Context(), 0, 1); !errors.Is(err, govlog.ErrOutOfRange) {
			t.Errorf("Entries of the empty log: %v, want ErrOutOfRange", err)
		}
		if _, _, err := l.FindLeaf(t.Context(), govlog.LeafHash(leaf(0)), 0); !errors.Is(err, govlog.ErrNotFound) {
			t.Errorf("FindLeaf in the empty log: %v, want ErrNotFound", err)
		}

		queueAndWait(t, l, 0, leaf(0), leaf(1))
		queueAndWait(t, l, 2, leaf(2), leaf(3))
		_, cp1 := l.Checkpoint()
		if cp1.Size != 4 {
			t.Fatalf("checkpoint size %d after queueing 4 leaves", cp1.Size)
		}
		entries, err := l.Entries(t.Context(), 0, 100)
		if err != nil || len(entries) != 4 {
			t.Fatalf("Entries(0, 100) = %d entries, %v", len(entries), err)
		}
		seen := map[string]bool{}
		for _, e := range entries {
			seen[string(e)] = true
		}
		for i := range 4 {
			if !seen[string(leaf(i))] {
				t.Errorf("leaf %d not in the log", i)
			}
		}

		queueAndWait(t, l, 4, leaf(4), leaf(5), leaf(6))
		signed2, cp2 := l.Checkpoint()
		if _, _, err := govlog.OpenCheckpoint(signed2, key.Verifier); err != nil || cp2.Size != 7 {
			t.Fatalf("checkpoint %+v, %v; want size 7", cp2, err)
		}
		cons, err := l.ConsistencyProof(t.Context(), cp1.Size, cp2.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, cp1.Size, cp2.Size, toSlices(cons), cp1.Hash[:], cp2.Hash[:]); err != nil {
			t.Errorf("consistency %d -> %d: %v", cp1.Size, cp2.Size, err)
		}
		for i := range uint64(cp2.Size) {
			hashes, size, err := l.InclusionProof(t.Context(), i, 0)
			if err != nil || size != cp2.Size {
				t.Fatalf("InclusionProof(%d, 0) at size %d: %v", i, size, err)
			}
			e, err := l.Entries(t.Context(), i, 1)
			if err != nil {
				t.Fatal(err)
			}
			h := govlog.LeafHash(e[0])
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, i, size, h[:], toSlices(hashes), cp2.Hash[:]); err != nil {
				t.Errorf("inclusion of %d: %v", i, err)
			}
			index, _, err := l.FindLeaf(t.Context(), h, 0)
			if err != nil || index != i {
				t.Errorf("FindLeaf(entry %d) = %d, %v", i, index, err)
			}
			bundle, err := l.Bundle(t.Context(), i)
			if err != nil {
				t.Fatal(err)
			}
			policy, err := govlog.FormatPolicy([]string{key.VKey}, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			p, err := govlog.ParsePolicy(policy)
			if err != nil {
				t.Fatal(err)
			}
			if vb, err := govlog.VerifyBundle(bundle, p); err != nil || vb.Index != i || string(vb.Entry) != string(e[0]) {
				t.Errorf("bundle of %d: %+v, %v", i, vb, err)
			}
		}

		later := govlog.LeafHash(entries7(t, l)[6])
		for _, c := range []struct {
			name    string
			call    func() error
			wantErr error
		}{
			{"Entries from the tree size", func() error { _, err := l.Entries(t.Context(), 7, 1); return err }, govlog.ErrOutOfRange},
			{"InclusionProof at the tree size", func() error { _, _, err := l.InclusionProof(t.Context(), 7, 0); return err }, govlog.ErrOutOfRange},
			{"InclusionProof past a given size", func() error { _, _, err := l.InclusionProof(t.Context(), 3, 3); return err }, govlog.ErrOutOfRange},
			{"InclusionProof at a size past the latest", func() error { _, _, err := l.InclusionProof(t.Context(), 0, 8); return err }, govlog.ErrOutOfRange},
			{"FindLeaf at a size past the latest", func() error { _, _, err := l.FindLeaf(t.Context(), later, 8); return err }, govlog.ErrOutOfRange},
			{"FindLeaf of a later leaf at an earlier size", func() error { _, _, err := l.FindLeaf(t.Context(), later, 6); return err }, govlog.ErrNotFound},
			{"FindLeaf of an unknown leaf", func() error {
				_, _, err := l.FindLeaf(t.Context(), govlog.LeafHash([]byte("unknown")), 0)
				return err
			}, govlog.ErrNotFound},
			{"Bundle at the tree size", func() error { _, err := l.Bundle(t.Context(), 7); return err }, govlog.ErrOutOfRange},
			{"ConsistencyProof backwards", func() error { _, err := l.ConsistencyProof(t.Context(), 5, 4); return err }, govlog.ErrOutOfRange},
		} {
			t.Run(c.name, func(t *testing.T) {
				if err := c.call(); !errors.Is(err, c.wantErr) {
					t.Errorf("%s: %v, want %v", c.name, err, c.wantErr)
				}
			})
		}

		// A leaf never queued is never included: WaitForInclusion gives up
		// with its context.
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		if _, _, err := l.WaitForInclusion(ctx, []byte("never queued")); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitForInclusion of a leaf never queued: %v", err)
		}

		// The promise: leaf hash and deadline = queue time + MMD.
		at := time.Unix(1_800_000_000, 600_000_000)
		signedPromise, err := l.Promise(govlog.LeafHash(leaf(9)), at)
		if err != nil {
			t.Fatal(err)
		}
		p, err := govlog.OpenPromise(signedPromise, key.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		if want := at.Add(time.Minute).Truncate(time.Second); !p.Deadline.Equal(want) || p.LeafHash != govlog.LeafHash(leaf(9)) {
			t.Errorf("promise %+v, want deadline %v", p, want)
		}

		// Opening the same log again finds the same tree and signs the
		// same checkpoint bytes.
		again := b.OpenLog(t, key, time.Minute)
		if again.TreeID() != l.TreeID() {
			t.Errorf("reopened log has tree %d, want %d", again.TreeID(), l.TreeID())
		}
		if s, _ := again.Checkpoint(); string(s) != string(signed2) {
			t.Errorf("reopened log signed\n%s\nwant\n%s", s, signed2)
		}
	})
}

// TestQueueIdempotent: storing a leaf again at its index adds nothing
// (personalities.Queue's contract, which the outbox re-queue relies on),
// leaves land at exactly the indexes given, and another leaf at a taken
// index is refused.
func TestQueueIdempotent(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		l := b.OpenLog(t, logtest.NewLogKey(t, origin), time.Minute)
		queueAndWait(t, l, 0, leaf(0), leaf(1))
		// Again, in a later call, after integration.
		queueAndWait(t, l, 1, leaf(1), leaf(2))
		// Stored ahead of a gap, then the gap filled: nothing is
		// integrated past a gap, then both in order.
		if err := l.QueueLeaves(t.Context(), 4, [][]byte{leaf(4)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		if _, cp := l.Checkpoint(); cp.Size != 3 {
			t.Errorf("size %d with a gap at index 3, want 3", cp.Size)
		}
		queueAndWait(t, l, 3, leaf(3), leaf(4))
		if err := l.QueueLeaves(t.Context(), 2, [][]byte{leaf(9)}); err == nil {
			t.Error("QueueLeaves put another leaf at index 2 without an error")
		}
		time.Sleep(100 * time.Millisecond)
		entries, err := l.Entries(t.Context(), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 5 {
			t.Fatalf("%d entries, want 5", len(entries))
		}
		for i, e := range entries {
			if string(e) != string(leaf(i)) {
				t.Errorf("entry %d = %q, want %q", i, e, leaf(i))
			}
		}
	})
}

func entries7(t *testing.T, l *logserver.Log) [][]byte {
	t.Helper()
	e, err := l.Entries(t.Context(), 0, 7)
	if err != nil || len(e) != 7 {
		t.Fatalf("Entries(0, 7): %d, %v", len(e), err)
	}
	return e
}

// TestOpenLogKeyName: a log's key must be named after its origin.
func TestOpenLogKeyName(t *testing.T) {
	t.Parallel()
	b := logtest.SQLite(t, logtest.Options{})
	key := logtest.NewLogKey(t, "gov.example/other")
	if _, err := b.Trillian.OpenLog(t.Context(), logserver.LogOptions{Origin: origin, Signer: key.Signer}); err == nil {
		t.Error("OpenLog accepted a key named after another origin")
	}
	if _, err := b.Trillian.OpenLog(t.Context(), logserver.LogOptions{Origin: origin}); err == nil {
		t.Error("OpenLog accepted no key")
	}
}

// TestRestartMySQL: a log on MySQL survives a restart of Trillian: the
// same tree, the same entries, the same checkpoint bytes.
func TestRestartMySQL(t *testing.T) {
	t.Parallel()
	b := logtest.MySQL(t, logtest.Options{})
	key := logtest.NewLogKey(t, origin)
	l := b.OpenLog(t, key, time.Minute)
	queueAndWait(t, l, 0, leaf(0), leaf(1), leaf(2))
	signed, _ := l.Checkpoint()

	admin, logStorage := mysql.TrillianStorage(b.DB)
	trill, err := logserver.StartTrillian(logserver.TrillianOptions{AdminStorage: admin, LogStorage: logStorage, SequencerInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer trill.Close()
	l2, err := trill.OpenLog(t.Context(), logserver.LogOptions{Origin: origin, Signer: key.Signer, MMD: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if l2.TreeID() != l.TreeID() {
		t.Errorf("tree %d after the restart, want %d", l2.TreeID(), l.TreeID())
	}
	if s, _ := l2.Checkpoint(); string(s) != string(signed) {
		t.Errorf("checkpoint after the restart:\n%s\nwant\n%s", s, signed)
	}
	e, err := l2.Entries(t.Context(), 0, 10)
	if err != nil || len(e) != 3 {
		t.Errorf("Entries after the restart: %d, %v", len(e), err)
	}
}

func toSlices(in [][32]byte) [][]byte {
	out := make([][]byte, len(in))
	for i := range in {
		out[i] = in[i][:]
	}
	return out
}

// TestRolledBackStorageIsRefused: with a CheckpointStore, a log whose tree
// is behind the last checkpoint it signed (a restored backup, a lagging
// replica) refuses to sign instead of forking; the same tree reopens fine.
func TestRolledBackStorageIsRefused(t *testing.T) {
	t.Parallel()
	store := logserver.FileCheckpointStore{Dir: t.TempDir()}
	key := logtest.NewLogKey(t, origin)
	open := func(b *logtest.Backend) (*logserver.Log, error) {
		return b.Trillian.OpenLog(t.Context(), logserver.LogOptions{
			Origin: origin, Signer: key.Signer, Checkpoints: store, PollInterval: 10 * time.Millisecond,
		})
	}
	b := logtest.SQLite(t, logtest.Options{})
	l, err := open(b)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	queueAndWait(t, l, 0, leaf(0), leaf(1), leaf(2))
	cancel()
	<-done
	if _, err := open(b); err != nil {
		t.Errorf("reopening the same tree: %v", err)
	}
	empty := logtest.SQLite(t, logtest.Options{})
	if _, err := open(empty); err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Errorf("opening a tree behind the last signed checkpoint: %v, want a rolled-back refusal", err)
	}
}

// TestEntriesBoundedByBytes: one Entries call answers at most
// MaxEntriesBytes (but always one entry), and the caller reads on from
// where it stopped.
func TestEntriesBoundedByBytes(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		l := b.OpenLog(t, logtest.NewLogKey(t, origin), time.Minute)
		const n, size = 80, 60 << 10 // 4.7 MiB in all
		var leaves [][]byte
		for i := range n {
			leaves = append(leaves, append(fmt.Appendf(nil, "leaf %d ", i), bytes.Repeat([]byte{'x'}, size)...))
		}
		queueAndWait(t, l, 0, leaves...)
		var got [][]byte
		for calls := 0; len(got) < n; calls++ {
			page, err := l.Entries(t.Context(), uint64(len(got)), n)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, e := range page {
				total += len(e)
			}
			if len(page) == 0 || total > logserver.MaxEntriesBytes {
				t.Fatalf("call %d: %d entries, %d bytes; want 1 or more, at most %d bytes", calls, len(page), total, logserver.MaxEntriesBytes)
			}
			got = append(got, page...)
		}
		for i := range leaves {
			if !bytes.Equal(got[i], leaves[i]) {
				t.Fatalf("entry %d differs", i)
			}
		}
	})
}
