package witness_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/witness"
	"github.com/govlog/govlog/witness/witnesstest"
)

// TestFindEvidenceAllPairs forks a log at every point and compares every
// pair of checkpoints across the two branches, with proofs from the branch
// of the larger one (the log's current tree, as seen by a witness that
// compares its checkpoint with the log's latest).
func TestFindEvidenceAllPairs(t *testing.T) {
	ctx := context.Background()
	maxSize := uint64(16)
	if raceEnabled {
		maxSize = 10 // still covers sizes 1, 2, 4, 8 and 8+1
	}
	a := witnesstest.NewLog(t, "example.com/log").Grow(maxSize)
	unproven := 0
	for p := uint64(0); p < maxSize; p++ {
		b := a.Fork(p, fmt.Sprintf("fork%d", p)).Grow(maxSize)
		for m := uint64(1); m <= maxSize; m++ {
			for n := m; n <= maxSize; n++ {
				for _, dir := range []struct{ small, large *testLog }{{a, b}, {b, a}} {
					ev, err := witness.FindEvidence(ctx, a.Verifier, dir.small.Checkpoint(m), dir.large.Checkpoint(n), dir.large)
					compatible := m <= p
					switch {
					case compatible && (ev != nil || err != nil):
						t.Fatalf("fork at %d, sizes %d and %d: evidence %v, err %v; want compatible", p, m, n, ev != nil, err)
					case compatible:
					case errors.Is(err, witness.ErrUnproven):
						// Documented limit: an RFC 6962 proof never carries the
						// root at a power-of-two size, nor does the proof from
						// one more leaf when there is no such proof.
						if m&(m-1) != 0 || (m != 1 && m+1 != n) {
							t.Errorf("fork at %d, sizes %d and %d: unproven", p, m, n)
						}
						unproven++
					case err != nil || ev == nil:
						t.Fatalf("fork at %d, sizes %d and %d: evidence %v, err %v; want evidence", p, m, n, ev != nil, err)
					default:
						checkEvidence(t, ev, a)
					}
				}
			}
		}
	}
	t.Logf("%d incompatible pairs left unproven (sizes 1, or 2^k and 2^k+1)", unproven)
}

// checkEvidence verifies ev through its file, which must round-trip.
func checkEvidence(t *testing.T, ev *witness.Evidence, log *testLog) {
	t.Helper()
	file := ev.Marshal()
	parsed, first, second, err := witness.VerifyEvidence(file, log.Verifier)
	if err != nil {
		t.Fatalf("evidence doesn't verify: %v\n%s", err, file)
	}
	if (first.Size == second.Size) != (ev.Kind() == witness.KindSameSize) {
		t.Errorf("kind %s for sizes %d and %d", ev.Kind(), first.Size, second.Size)
	}
	if !bytes.Equal(parsed.Marshal(), file) || parsed.ID() != ev.ID() {
		t.Errorf("evidence file doesn't round-trip:\n%s", file)
	}
}

// TestFindEvidenceWrongBranchProofs: a log serving the smaller checkpoint's
// branch gives no proof; the caller gets ErrUnproven, not evidence.
func TestFindEvidenceWrongBranchProofs(t *testing.T) {
	ctx := context.Background()
	a := witnesstest.NewLog(t, "example.com/log").Grow(20)
	b := a.Fork(4, "B").Grow(20)
	_, err := witness.FindEvidence(ctx, a.Verifier, a.Checkpoint(6), b.Checkpoint(13), a)
	if !errors.Is(err, witness.ErrUnproven) {
		t.Fatalf("err = %v, want ErrUnproven", err)
	}
	// The log's own latest on branch A against branch B's checkpoint is
	// provable with the same proofs.
	ev, err := witness.FindEvidence(ctx, a.Verifier, b.Checkpoint(13), a.Checkpoint(20), a)
	if err != nil || ev == nil {
		t.Fatalf("FindEvidence = %v, %v; want evidence", ev, err)
	}
	checkEvidence(t, ev, a)
}

func TestVerifyEvidenceRejects(t *testing.T) {
	a := witnesstest.NewLog(t, "example.com/log").Grow(20)
	b := a.Fork(4, "B").Grow(20)
	impostor := witnesstest.NewLog(t, "example.com/log")
	good := &witness.Evidence{First: a.Checkpoint(9), Second: b.Checkpoint(14), Prefix: &witness.Prefix{Root: b.Root(9), Proof: b.Proof(9, 14)}}
	if _, _, err := good.Verify(a.Verifier); err != nil {
		t.Fatalf("good evidence: %v", err)
	}
	flipped := b.Proof(9, 14)
	flipped[1][0] ^= 1
	tests := []struct {
		name    string
		ev      *witness.Evidence
		wantErr error
	}{
		{"same checkpoint twice", &witness.Evidence{First: a.Checkpoint(9), Second: a.Checkpoint(9)}, witness.ErrNotEvidence},
		{"consistent checkpoints, invented prefix", &witness.Evidence{First: a.Checkpoint(9), Second: a.Checkpoint(14), Prefix: &witness.Prefix{Root: b.Root(9), Proof: a.Proof(9, 14)}}, witness.ErrNotEvidence},
		{"consistent checkpoints, their own prefix", &witness.Evidence{First: a.Checkpoint(9), Second: a.Checkpoint(14), Prefix: &witness.Prefix{Root: a.Root(9), Proof: a.Proof(9, 14)}}, witness.ErrNotEvidence},
		{"different sizes, no prefix", &witness.Evidence{First: a.Checkpoint(9), Second: b.Checkpoint(14)}, witness.ErrNotEvidence},
		{"proof doesn't verify", &witness.Evidence{First: a.Checkpoint(9), Second: b.Checkpoint(14), Prefix: &witness.Prefix{Root: b.Root(9), Proof: flipped}}, witness.ErrNotEvidence},
		{"prefix at size zero", &witness.Evidence{First: a.Checkpoint(0), Second: b.Checkpoint(14), Prefix: &witness.Prefix{Root: b.Root(9), Proof: nil}}, witness.ErrNotEvidence},
		{"larger first", &witness.Evidence{First: b.Checkpoint(14), Second: a.Checkpoint(9), Prefix: good.Prefix}, witness.ErrMalformedEvidence},
		{"prefix at one size", &witness.Evidence{First: a.Checkpoint(9), Second: b.Checkpoint(9), Prefix: good.Prefix}, witness.ErrMalformedEvidence},
		{"signed by another key", &witness.Evidence{First: impostor.Checkpoint(9), Second: b.Checkpoint(9)}, govlog.ErrCheckpointSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tt.ev.Verify(a.Verifier)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
			_, _, _, err = witness.VerifyEvidence(tt.ev.Marshal(), a.Verifier)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyEvidence = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestParseEvidenceRejects(t *testing.T) {
	a := witnesstest.NewLog(t, "example.com/log")
	b := a.Fork(2, "B")
	good := (&witness.Evidence{First: a.Checkpoint(5), Second: b.Checkpoint(7), Prefix: &witness.Prefix{Root: b.Root(5), Proof: b.Proof(5, 7)}}).Marshal()
	if _, err := witness.ParseEvidence(good); err != nil {
		t.Fatal(err)
	}
	firstLen := len(a.Checkpoint(5))
	for name, data := range map[string][]byte{
		"empty":              nil,
		"wrong header":       bytes.Replace(good, []byte("v1"), []byte("v2"), 1),
		"trailing garbage":   append(bytes.Clone(good), "junk\n"...),
		"no final newline":   good[:len(good)-1],
		"length too long":    bytes.Replace(good, fmt.Appendf(nil, "checkpoint %d\n", firstLen), fmt.Appendf(nil, "checkpoint %d\n", firstLen+1), 1),
		"length with zero":   bytes.Replace(good, fmt.Appendf(nil, "checkpoint %d\n", firstLen), fmt.Appendf(nil, "checkpoint 0%d\n", firstLen), 1),
		"only one":           good[:bytes.Index(good, []byte("\ncheckpoint "))+1],
		"non-canonical hash": bytes.Replace(good, []byte("=\n"), []byte("=\r\n"), 1),
	} {
		if _, err := witness.ParseEvidence(data); !errors.Is(err, witness.ErrMalformedEvidence) {
			t.Errorf("%s: err = %v, want ErrMalformedEvidence", name, err)
		}
	}
}

func FuzzParseEvidence(f *testing.F) {
	a := witnesstest.NewLog(f, "example.com/log")
	b := a.Fork(2, "B")
	f.Add((&witness.Evidence{First: a.Checkpoint(5), Second: b.Checkpoint(7), Prefix: &witness.Prefix{Root: b.Root(5), Proof: b.Proof(5, 7)}}).Marshal())
	f.Add((&witness.Evidence{First: a.Checkpoint(5), Second: b.Checkpoint(5)}).Marshal())
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := witness.ParseEvidence(data)
		if err != nil {
			return
		}
		// A parsed file has exactly one spelling.
		if !bytes.Equal(e.Marshal(), data) {
			t.Fatalf("Marshal(ParseEvidence(x)) != x:\n%q\n%q", e.Marshal(), data)
		}
		e.Verify(a.Verifier)
	})
}
