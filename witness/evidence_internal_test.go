package witness

import (
	"fmt"
	"testing"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

// TestOldRootFromProof checks that the root a proof carries for its first
// size is the tree's root at that size, whenever the proof carries one.
func TestOldRootFromProof(t *testing.T) {
	tree := testonly.New(rfc6962.DefaultHasher)
	const maxSize = 70
	for i := range maxSize {
		tree.AppendData(fmt.Appendf(nil, "leaf %d", i))
	}
	for m := uint64(1); m < maxSize; m++ {
		for n := m + 1; n <= maxSize; n++ {
			raw, err := tree.ConsistencyProof(m, n)
			if err != nil {
				t.Fatal(err)
			}
			p := make([][32]byte, len(raw))
			for i := range raw {
				p[i] = [32]byte(raw[i])
			}
			r, ok := prefixRoot(m, n, p, [32]byte(tree.HashAt(n)))
			if pow2 := m&(m-1) == 0; ok == pow2 {
				t.Fatalf("sizes %d to %d: found a root: %v", m, n, ok)
			}
			if ok && r != [32]byte(tree.HashAt(m)) {
				t.Fatalf("sizes %d to %d: root at %d is wrong", m, n, m)
			}
			// Against another new root, the proof claims nothing.
			if _, ok := prefixRoot(m, n, p, [32]byte(tree.HashAt(n-1))); ok {
				t.Fatalf("sizes %d to %d: a root for the wrong new root", m, n)
			}
		}
	}
}
