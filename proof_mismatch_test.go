package govlog

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestVerifyInclusionRootMismatch: a changed entry or proof hash is a
// RootMismatchError that says both roots in hex, never as Go byte slices.
func TestVerifyInclusionRootMismatch(t *testing.T) {
	bf := newBundleFixture(t, 7)
	cp, _, err := bf.policy.Verify(bf.checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if err := bf.bundle(t, 3).VerifyInclusion(cp); err != nil {
		t.Fatalf("VerifyInclusion() = %v", err)
	}
	otherEntry := bf.bundle(t, 3)
	otherEntry.Extra = bf.entries[4]
	otherProof := bf.bundle(t, 3)
	otherProof.Proof[1][0] ^= 1
	for name, b := range map[string]*Bundle{"entry": otherEntry, "proof": otherProof} {
		t.Run(name, func(t *testing.T) {
			err := b.VerifyInclusion(cp)
			var mismatch *RootMismatchError
			if !errors.As(err, &mismatch) || !errors.Is(err, ErrInclusionProof) {
				t.Fatalf("VerifyInclusion() = %v, want a RootMismatchError", err)
			}
			if mismatch.Checkpoint != cp.Hash || mismatch.Computed == cp.Hash {
				t.Errorf("roots %x, %x; checkpoint's %x", mismatch.Computed, mismatch.Checkpoint, cp.Hash)
			}
			msg := err.Error()
			for _, want := range []string{fmt.Sprintf("%x", mismatch.Computed), fmt.Sprintf("%x", cp.Hash)} {
				if !strings.Contains(msg, want) {
					t.Errorf("%q doesn't say %s", msg, want)
				}
			}
			if strings.Contains(msg, "[") {
				t.Errorf("%q prints a byte slice", msg)
			}
			// VerifyBundle returns the same error.
			if _, err := VerifyBundle(b.Marshal(), bf.policy); !errors.As(err, &mismatch) {
				t.Errorf("VerifyBundle() = %v, want a RootMismatchError", err)
			}
		})
	}
	short := bf.bundle(t, 3)
	short.Proof = short.Proof[1:]
	if err := short.VerifyInclusion(cp); !errors.Is(err, ErrInclusionProof) || errors.As(err, new(*RootMismatchError)) {
		t.Errorf("short proof: %v, want ErrInclusionProof but no root mismatch", err)
	}
}

// TestVerifyBundleNotCounted: a bundle whose checkpoint carries one bad
// cosignature verifies when the quorum holds without it, and says whose.
func TestVerifyBundleNotCounted(t *testing.T) {
	bf := newBundleFixture(t, 7)
	// The fixture's keys are deterministic: the same witnesses, two of three.
	f := newPolicyFixture(t)
	p, err := ParsePolicy([]byte(f.expand("log {log}\nwitness X1 {X1}\nwitness X2 {X2}\nwitness Y1 {Y1}\ngroup g 2 X1 X2 Y1\nquorum g\n")))
	if err != nil {
		t.Fatal(err)
	}
	b := bf.bundle(t, 3)
	b.Checkpoint = damageLine(t, b.Checkpoint, "witness.example/x2")
	vb, err := VerifyBundle(b.Marshal(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(vb.NotCounted) != 1 || vb.NotCounted[0].Witness != "X2" || !errors.Is(vb.NotCounted[0].Err, ErrInvalidCosignature) {
		t.Errorf("NotCounted = %+v", vb.NotCounted)
	}
	if strings.Join(vb.Witnesses, ",") != "X1,Y1" || len(vb.CosignedAt) != 2 || len(vb.Ignored) != 0 {
		t.Errorf("Witnesses %q at %v, ignored %q", vb.Witnesses, vb.CosignedAt, vb.Ignored)
	}
	// With every witness required, the same bundle fails, naming X2.
	if _, err := VerifyBundle(b.Marshal(), bf.policy); !errors.Is(err, ErrQuorumNotMet) || !errors.Is(err, ErrInvalidCosignature) || !strings.Contains(err.Error(), `witness "X2"`) {
		t.Errorf("VerifyBundle(all required) = %v", err)
	}
}
