package monitor

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/govlog/govlog"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// passTree holds every node of the tree of size end that lies entirely in
// [begin, end): the leaves hashed in this pass and their perfect subtrees,
// level by level. An inclusion proof for an entry of the pass takes its
// right siblings from here and its left siblings from the compact range
// below the entry, so the monitor proves inclusion without storing or
// downloading old entries.
type passTree struct {
	begin  uint64
	levels [][][]byte // levels[k][j] is node (k, ceil(begin/2^k)+j)
}

func newPassTree(begin uint64, leaves [][]byte) *passTree {
	t := &passTree{begin: begin, levels: [][][]byte{leaves}}
	end := begin + uint64(len(leaves))
	for k := uint(1); ; k++ {
		first := (begin + 1<<k - 1) >> k
		last := end >> k // exclusive
		if first >= last {
			return t
		}
		below := t.levels[k-1]
		belowFirst := (begin + 1<<(k-1) - 1) >> (k - 1)
		level := make([][]byte, 0, last-first)
		for j := first; j < last; j++ {
			l, r := below[2*j-belowFirst], below[2*j+1-belowFirst]
			level = append(level, rfc6962.DefaultHasher.HashChildren(l, r))
		}
		t.levels = append(t.levels, level)
	}
}

func (t *passTree) node(id compact.NodeID) ([]byte, bool) {
	if int(id.Level) >= len(t.levels) {
		return nil, false
	}
	first := (t.begin + 1<<id.Level - 1) >> id.Level
	if id.Index < first || id.Index-first >= uint64(len(t.levels[id.Level])) {
		return nil, false
	}
	return t.levels[id.Level][id.Index-first], true
}

// inclusionProof returns the RFC 6962 inclusion proof of m's entry in the
// tree of size size.
func inclusionProof(m *watchMatch, size uint64, pass *passTree) ([][32]byte, error) {
	nodes, err := proof.Inclusion(m.index, size)
	if err != nil {
		return nil, err
	}
	leftIDs := compact.RangeNodes(0, m.index, nil)
	if len(leftIDs) != len(m.left) {
		return nil, fmt.Errorf("compact range below %d has %d hashes, want %d", m.index, len(m.left), len(leftIDs))
	}
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		if _, end := id.Coverage(); end <= m.index {
			j := slices.Index(leftIDs, id)
			if j < 0 {
				return nil, fmt.Errorf("node %+v is not in the compact range below %d", id, m.index)
			}
			hashes[i] = m.left[j]
			continue
		}
		h, ok := pass.node(id)
		if !ok {
			return nil, fmt.Errorf("node %+v is not in this pass", id)
		}
		hashes[i] = h
	}
	rehashed, err := nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
	if err != nil {
		return nil, err
	}
	out := make([][32]byte, len(rehashed))
	for i, h := range rehashed {
		out[i] = [32]byte(h)
	}
	return out, nil
}

// bundle builds the tlog-proof of m's entry under signed, the checkpoint
// whose root the pass just matched, and checks it as a recipient would.
func bundle(m *watchMatch, signed []byte, cp govlog.Checkpoint, policy *govlog.Policy, pass *passTree) ([]byte, error) {
	pf, err := inclusionProof(m, cp.Size, pass)
	if err != nil {
		return nil, fmt.Errorf("couldn't prove inclusion of entry %d: %w", m.index, err)
	}
	b := (&govlog.Bundle{Extra: m.entry, Index: m.index, Proof: pf, Checkpoint: signed}).Marshal()
	vb, err := govlog.VerifyBundle(b, policy)
	if err != nil {
		return nil, fmt.Errorf("bundle of entry %d does not verify: %w", m.index, err)
	}
	if vb.Index != m.index || !bytes.Equal(vb.Entry, m.entry) {
		return nil, fmt.Errorf("bundle of entry %d proves another entry", m.index)
	}
	return b, nil
}
