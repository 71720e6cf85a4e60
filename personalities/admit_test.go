package personalities_test

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"google.golang.org/grpc/codes"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities/disclosures"
)

// checkPromise opens a promise with the log key and checks that it is for
// stmt, with a deadline of MMD after a time in [from, to].
func (h *harness) checkPromise(t testing.TB, signed, stmt []byte, from, to time.Time) govlog.Promise {
	t.Helper()
	p, err := govlog.OpenPromise(signed, h.logKey.Verifier)
	if err != nil {
		t.Fatalf("OpenPromise: %v\n%s", err, signed)
	}
	if p.Origin != origin {
		t.Errorf("promise origin %q, want %q", p.Origin, origin)
	}
	if p.LeafHash != govlog.LeafHash(stmt) {
		t.Errorf("promise for leaf %x, want %x", p.LeafHash, govlog.LeafHash(stmt))
	}
	earliest, latest := from.Add(testMMD).Truncate(time.Second), to.Add(testMMD)
	if p.Deadline.Before(earliest) || p.Deadline.After(latest) {
		t.Errorf("promise deadline %v, want in [%v, %v] (admission + MMD %v)", p.Deadline, earliest, latest, testMMD)
	}
	// Nobody else's key opens it.
	other := logtest.NewLogKey(t, origin)
	if _, err := govlog.OpenPromise(signed, other.Verifier); err == nil {
		t.Errorf("promise opens with another key named %s", origin)
	}
	return p
}

// TestSubmitPromise: wait=false answers at once with a promise signed by the
// log key, deadline now+MMD, and the entry then appears in the log.
func TestSubmitPromise(t *testing.T) {
	t.Parallel()
	eachBackend(t, harnessOptions{}, func(t *testing.T, h *harness) {
		stmt := statement(t, disclosures.TypePublish, publish("promised"), h.keys.a)
		from := time.Now()
		resp, err := h.submit(stmt, false)
		if err != nil {
			t.Fatalf("Submit(wait=false): %v", err)
		}
		to := time.Now()
		if resp.Duplicate || len(resp.Bundle) != 0 || resp.Index != 0 {
			t.Errorf("wait=false answer has Duplicate=%v, a %d-byte bundle, index %d", resp.Duplicate, len(resp.Bundle), resp.Index)
		}
		if hash := govlog.LeafHash(stmt); !bytes.Equal(resp.LeafHash, hash[:]) {
			t.Errorf("LeafHash = %x, want %x", resp.LeafHash, hash)
		}
		h.checkPromise(t, resp.Promise, stmt, from, to)

		// The promise is kept: the entry is in the log, with a bundle.
		incl := h.waitForLeaf(t, resp.LeafHash, 10*time.Second)
		h.checkBundle(t, incl.Bundle, stmt, uint64(incl.Index))
		entries, err := h.client.GetEntries(context.Background(), &api.GetEntriesRequest{Log: logName, Start: incl.Index, Count: 1})
		if err != nil {
			t.Fatalf("GetEntries: %v", err)
		}
		if len(entries.Entries) != 1 || !bytes.Equal(entries.Entries[0], stmt) {
			t.Errorf("GetEntries(%d) = %q, want the statement", incl.Index, entries.Entries)
		}
		if rec, ok := h.document(t, cityA, "promised"); !ok || rec.LeafHash == "" {
			t.Errorf("state of the promised document: %+v, %v", rec, ok)
		}
	})
}

// TestSubmitReplay: the same bytes again get the same entry back, marked
// Duplicate, whichever wait mode each submission uses, and add nothing.
func TestSubmitReplay(t *testing.T) {
	t.Parallel()
	eachBackend(t, harnessOptions{}, func(t *testing.T, h *harness) {
		// First with wait=true, then replayed both ways.
		first := statement(t, disclosures.TypePublish, publish("replay-1"), h.keys.a)
		r1 := h.mustAdmit(t, first)
		r2, err := h.submit(first, true)
		if err != nil {
			t.Fatalf("replay with wait=true: %v", err)
		}
		if !r2.Duplicate || r2.Index != r1.Index || !bytes.Equal(r2.LeafHash, r1.LeafHash) {
			t.Errorf("replay with wait=true: Duplicate=%v index %d leaf %x, want true, %d, %x", r2.Duplicate, r2.Index, r2.LeafHash, r1.Index, r1.LeafHash)
		}
		h.checkBundle(t, r2.Bundle, first, uint64(r1.Index))
		from := time.Now()
		r3, err := h.submit(first, false)
		if err != nil {
			t.Fatalf("replay with wait=false: %v", err)
		}
		if !r3.Duplicate || !bytes.Equal(r3.LeafHash, r1.LeafHash) {
			t.Errorf("replay with wait=false: Duplicate=%v leaf %x, want true, %x", r3.Duplicate, r3.LeafHash, r1.LeafHash)
		}
		// The promise counts from the first admission, not the replay.
		h.checkPromise(t, r3.Promise, first, from.Add(-time.Minute), time.Now())

		// First with wait=false, then replayed both ways.
		second := statement(t, disclosures.TypePublish, publish("replay-2"), h.keys.a)
		from = time.Now()
		p1, err := h.submit(second, false)
		if err != nil {
			t.Fatalf("Submit(wait=false): %v", err)
		}
		to := time.Now()
		if p1.Duplicate {
			t.Errorf("first submission marked Duplicate")
		}
		promise1 := h.checkPromise(t, p1.Promise, second, from, to)
		p2, err := h.submit(second, false)
		if err != nil {
			t.Fatalf("replay with wait=false: %v", err)
		}
		if !p2.Duplicate {
			t.Errorf("replay with wait=false: Duplicate=false")
		}
		// Same admission time, so the same deadline (the first one is
		// counted from the clock after commit, the replay's from the
		// stored time; both are rounded down to the second).
		if promise2 := h.checkPromise(t, p2.Promise, second, from, to); promise2.Deadline.Sub(promise1.Deadline).Abs() > time.Second {
			t.Errorf("replayed promise deadline %v, first promise %v", promise2.Deadline, promise1.Deadline)
		}
		b, err := h.submit(second, true)
		if err != nil {
			t.Fatalf("replay with wait=true: %v", err)
		}
		if !b.Duplicate || b.Index != r1.Index+1 {
			t.Errorf("replay with wait=true: Duplicate=%v index %d, want true, %d", b.Duplicate, b.Index, r1.Index+1)
		}
		h.checkBundle(t, b.Bundle, second, uint64(b.Index))

		// Nothing was added by the replays: the next statement is next.
		if got := h.mustAdmit(t, statement(t, disclosures.TypePublish, publish("replay-3"), h.keys.a)); got.Index != b.Index+1 {
			t.Errorf("next statement at %d, want %d", got.Index, b.Index+1)
		}
		if cp := h.checkpoint(t); cp.Size != uint64(b.Index)+2 {
			t.Errorf("checkpoint size %d, want %d", cp.Size, b.Index+2)
		}
	})
}

// TestSubmitReplayAfterClockMoved: a replay is the same entry even once its
// time is out of bounds (personalities doc: replays are not re-checked),
// while a new statement with that time is refused.
func TestSubmitReplayAfterClockMoved(t *testing.T) {
	t.Parallel()
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	eachBackend(t, harnessOptions{now: now}, func(t *testing.T, h *harness) {
		skew.Store(0)
		made := time.Now()
		stmt := statementFor(t, origin, disclosures.TypePublish, made, publish("old"), h.keys.a)
		r1 := h.mustAdmit(t, stmt)

		skew.Store(int64(25 * time.Hour))
		r2, err := h.submit(stmt, true)
		if err != nil {
			t.Fatalf("replay after the clock moved: %v", err)
		}
		if !r2.Duplicate || r2.Index != r1.Index {
			t.Errorf("replay: Duplicate=%v index %d, want true, %d", r2.Duplicate, r2.Index, r1.Index)
		}
		late := statementFor(t, origin, disclosures.TypePublish, made, publish("old-2"), h.keys.a)
		_, err = h.submit(late, false)
		wantCode(t, "a new statement as old", err, codes.InvalidArgument)
		if h.inOutbox(t, late) {
			t.Errorf("refused statement is in the outbox")
		}
		skew.Store(0)
		if got := h.mustAdmit(t, late); got.Index != r1.Index+1 {
			t.Errorf("admitted at %d, want %d", got.Index, r1.Index+1)
		}
	})
}

// TestProofs: the bundle of wait=true, the bundle and proof of
// GetInclusionProof, and GetConsistencyProof between two checkpoints all
// verify against the log key alone.
func TestProofs(t *testing.T) {
	t.Parallel()
	eachBackend(t, harnessOptions{}, func(t *testing.T, h *harness) {
		var stmts [][]byte
		for _, doc := range []string{"p-0", "p-1", "p-2"} {
			s := statement(t, disclosures.TypePublish, publish(doc), h.keys.a)
			h.mustAdmit(t, s)
			stmts = append(stmts, s)
		}
		cp1 := h.checkpoint(t)
		if cp1.Size != 3 {
			t.Fatalf("checkpoint size %d, want 3", cp1.Size)
		}
		for _, doc := range []string{"p-3", "p-4", "p-5", "p-6", "p-7"} {
			s := statement(t, disclosures.TypePublish, publish(doc), h.keys.a)
			h.mustAdmit(t, s)
			stmts = append(stmts, s)
		}
		cp2 := h.checkpoint(t)
		if cp2.Size != 8 {
			t.Fatalf("checkpoint size %d, want 8", cp2.Size)
		}

		entries, err := h.client.GetEntries(context.Background(), &api.GetEntriesRequest{Log: logName, Start: 0, Count: 100})
		if err != nil {
			t.Fatalf("GetEntries: %v", err)
		}
		if len(entries.Entries) != 8 {
			t.Fatalf("GetEntries(0, 100): %d entries, want 8", len(entries.Entries))
		}
		for i, e := range entries.Entries {
			if !bytes.Equal(e, stmts[i]) {
				t.Errorf("entry %d is not the statement admitted %d-th", i, i)
			}
		}

		for i, s := range stmts {
			hash := govlog.LeafHash(s)
			// By index at the latest checkpoint: a bundle.
			byIndex, err := h.client.GetInclusionProof(context.Background(), &api.GetInclusionProofRequest{
				Log: logName, Entry: &api.GetInclusionProofRequest_Index{Index: int64(i)},
			})
			if err != nil {
				t.Fatalf("GetInclusionProof(%d): %v", i, err)
			}
			h.checkBundle(t, byIndex.Bundle, s, uint64(i))
			// By hash at the older checkpoint: a proof against its root.
			if i < int(cp1.Size) {
				byHash, err := h.client.GetInclusionProof(context.Background(), &api.GetInclusionProofRequest{
					Log: logName, Entry: &api.GetInclusionProofRequest_LeafHash{LeafHash: hash[:]}, TreeSize: int64(cp1.Size),
				})
				if err != nil {
					t.Fatalf("GetInclusionProof(hash of %d, size %d): %v", i, cp1.Size, err)
				}
				if byHash.Index != int64(i) || byHash.TreeSize != int64(cp1.Size) || len(byHash.Bundle) != 0 {
					t.Errorf("GetInclusionProof(hash of %d, size %d): index %d, size %d, %d-byte bundle", i, cp1.Size, byHash.Index, byHash.TreeSize, len(byHash.Bundle))
				}
				if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), cp1.Size, hash[:], byHash.Hashes, cp1.Hash[:]); err != nil {
					t.Errorf("inclusion of %d at size %d: %v", i, cp1.Size, err)
				}
			} else {
				// Not yet in the older tree.
				_, err := h.client.GetInclusionProof(context.Background(), &api.GetInclusionProofRequest{
					Log: logName, Entry: &api.GetInclusionProofRequest_LeafHash{LeafHash: hash[:]}, TreeSize: int64(cp1.Size),
				})
				wantCode(t, "GetInclusionProof(a later leaf at an earlier size)", err, codes.NotFound)
			}
		}

		leaf0 := govlog.LeafHash(stmts[0])
		for _, c := range []struct {
			name             string
			from, to         uint64 // to 0: the latest checkpoint
			fromRoot, toRoot []byte
		}{
			{"between two checkpoints", cp1.Size, cp2.Size, cp1.Hash[:], cp2.Hash[:]},
			{"from size 1", 1, cp2.Size, leaf0[:], cp2.Hash[:]},
			{"to the latest", cp1.Size, 0, cp1.Hash[:], cp2.Hash[:]},
			{"to the same size", cp1.Size, cp1.Size, cp1.Hash[:], cp1.Hash[:]},
		} {
			resp, err := h.client.GetConsistencyProof(context.Background(), &api.GetConsistencyProofRequest{
				Log: logName, FromSize: int64(c.from), ToSize: int64(c.to),
			})
			if err != nil {
				t.Fatalf("GetConsistencyProof %s (%d, %d): %v", c.name, c.from, c.to, err)
			}
			to := c.to
			if to == 0 {
				to = cp2.Size
			}
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, c.from, to, resp.Hashes, c.fromRoot, c.toRoot); err != nil {
				t.Errorf("consistency proof %s (%d -> %d): %v", c.name, c.from, to, err)
			}
		}
		// From the empty tree: nothing to prove.
		resp, err := h.client.GetConsistencyProof(context.Background(), &api.GetConsistencyProofRequest{Log: logName, FromSize: 0, ToSize: int64(cp2.Size)})
		if err != nil || len(resp.Hashes) != 0 {
			t.Errorf("GetConsistencyProof(0, %d) = %d hashes, %v; want none", cp2.Size, len(resp.GetHashes()), err)
		}
	})
}
