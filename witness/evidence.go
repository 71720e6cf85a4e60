package witness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"strconv"

	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
)

// Errors about evidence, each wrapped with detail.
var (
	// ErrMalformedEvidence means an evidence file breaks its format.
	ErrMalformedEvidence = errors.New("malformed evidence")
	// ErrNotEvidence means a well-formed evidence file does not prove that
	// the log signed two incompatible checkpoints.
	ErrNotEvidence = errors.New("not evidence of a split view")
	// ErrUnproven means two checkpoints look incompatible (the consistency
	// proof served between them verifies neither), but no proof that anyone
	// can check offline could be made from what the log served.
	ErrUnproven = errors.New("checkpoints look incompatible, but the log served no proof that shows it")
)

// Kinds of evidence.
const (
	// KindSameSize is two checkpoints of one size with different roots.
	KindSameSize = "same-size"
	// KindPrefix is two checkpoints of different sizes where the larger
	// tree's root at the smaller size is not the smaller's root.
	KindPrefix = "prefix"
)

// evidenceHeader is the first line of an evidence file.
const evidenceHeader = "govlog/evidence/v1"

// Evidence proves that a log's key signed two checkpoints that cannot both
// be true, so the log showed different histories to different parties.
// Anyone holding the log's verifier key can check it offline with
// [Evidence.Verify] (govlog check-evidence).
//
// What it proves, assuming SHA-256 is collision resistant:
//
//   - Same size (no Prefix): First and Second are both signed by the log's
//     key, have the same size and different root hashes. A tree of one size
//     has one root, so the log signed two different trees under one size.
//   - Different sizes (Prefix set): First (size m, root a) and Second (size
//     n > m, root b) are both signed by the log's key, and Prefix.Proof is an
//     RFC 6962 consistency proof from m to n that verifies with roots
//     Prefix.Root and b, where Prefix.Root is not a. A proof that verifies
//     pins the root at size m of the tree with root b (two different values
//     would give a SHA-256 collision), so Second's tree does not extend
//     First's: no consistency proof between them can exist, and the log,
//     which must never sign a checkpoint inconsistent with one it signed,
//     signed both. The proof need not come from the log; it is checked, not
//     trusted.
//
// A consistency proof that merely fails proves nothing: proofs are not
// signed, and anyone can write a bad one. That is why the evidence carries
// a proof that succeeds, for the other root.
//
// The file format, every line ending in a newline (U+000A):
//
//	govlog/evidence/v1
//	checkpoint <length of First in bytes, decimal>
//	<First: a signed checkpoint, exactly that many bytes>
//	checkpoint <length of Second in bytes, decimal>
//	<Second: a signed checkpoint, exactly that many bytes>
//
// followed, when the sizes differ, by
//
//	prefix <base64 of Prefix.Root>
//	<base64 of each hash of Prefix.Proof, one per line, at most 63>
//
// Decimals have no leading zeroes and base64 is standard and canonical.
// First's size is at most Second's. The file's ID is the hex SHA-256 of its
// bytes.
type Evidence struct {
	// First and Second are the two signed checkpoints, First's size at most
	// Second's. Signatures by keys other than the log's are ignored.
	First, Second []byte
	// Prefix is set when the sizes differ.
	Prefix *Prefix
}

// A Prefix shows the root of a tree at an earlier size.
type Prefix struct {
	// Root is the root of Second's tree at First's size.
	Root [32]byte
	// Proof is a consistency proof from First's size to Second's that
	// verifies with Root and Second's root.
	Proof [][32]byte
}

// Kind returns KindSameSize or KindPrefix.
func (e *Evidence) Kind() string {
	if e.Prefix != nil {
		return KindPrefix
	}
	return KindSameSize
}

// Marshal returns the evidence file.
func (e *Evidence) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(evidenceHeader + "\n")
	for _, cp := range [][]byte{e.First, e.Second} {
		fmt.Fprintf(&b, "checkpoint %d\n", len(cp))
		b.Write(cp)
	}
	if e.Prefix != nil {
		b.WriteString("prefix " + base64.StdEncoding.EncodeToString(e.Prefix.Root[:]) + "\n")
		for _, h := range e.Prefix.Proof {
			b.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
		}
	}
	return b.Bytes()
}

// ID returns the hex SHA-256 of the evidence file.
func (e *Evidence) ID() string {
	sum := sha256.Sum256(e.Marshal())
	return hex.EncodeToString(sum[:])
}

// ParseEvidence parses an evidence file strictly. It verifies nothing: use
// [Evidence.Verify].
func ParseEvidence(data []byte) (*Evidence, error) {
	fail := func(format string, args ...any) (*Evidence, error) {
		return nil, fmt.Errorf("%w: %s", ErrMalformedEvidence, fmt.Sprintf(format, args...))
	}
	rest, ok := bytes.CutPrefix(data, []byte(evidenceHeader+"\n"))
	if !ok {
		return fail("first line is not %q", evidenceHeader)
	}
	var e Evidence
	for _, cp := range []*[]byte{&e.First, &e.Second} {
		line, after, ok := bytes.Cut(rest, []byte("\n"))
		if !ok {
			return fail("missing checkpoint line")
		}
		lenText, ok := bytes.CutPrefix(line, []byte("checkpoint "))
		if !ok {
			return fail("want a checkpoint line, got %.64q", line)
		}
		n, err := parseDecimal(string(lenText))
		if err != nil || n > uint64(len(after)) || n > MaxRequestSize {
			return fail("bad checkpoint length %.32q", lenText)
		}
		*cp, rest = after[:n:n], after[n:]
		if n == 0 || (*cp)[n-1] != '\n' {
			return fail("a checkpoint must end in a newline")
		}
	}
	if len(rest) == 0 {
		return &e, nil
	}
	line, rest, ok := bytes.Cut(rest, []byte("\n"))
	rootText, isPrefix := bytes.CutPrefix(line, []byte("prefix "))
	if !ok || !isPrefix {
		return fail("want a prefix line, got %.64q", line)
	}
	root, err := decodeHash(string(rootText))
	if err != nil {
		return fail("prefix root: %v", err)
	}
	e.Prefix = &Prefix{Root: root}
	for len(rest) > 0 {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return fail("last line has no newline")
		}
		h, err := decodeHash(string(line))
		if err != nil {
			return fail("proof line %d: %v", len(e.Prefix.Proof)+1, err)
		}
		if len(e.Prefix.Proof) == MaxProofLines {
			return fail("more than %d proof lines", MaxProofLines)
		}
		e.Prefix.Proof = append(e.Prefix.Proof, h)
	}
	return &e, nil
}

// Verify checks that the evidence proves the log whose key is logKey signed
// two incompatible checkpoints, as described at [Evidence], and returns
// them.
func (e *Evidence) Verify(logKey note.Verifier) (first, second govlog.Checkpoint, err error) {
	first, _, err = govlog.OpenCheckpoint(e.First, logKey)
	if err != nil {
		return first, second, fmt.Errorf("first checkpoint: %w", err)
	}
	second, _, err = govlog.OpenCheckpoint(e.Second, logKey)
	if err != nil {
		return first, second, fmt.Errorf("second checkpoint: %w", err)
	}
	// Both origins equal the key's name, so they are equal.
	switch {
	case first.Size > second.Size:
		return first, second, fmt.Errorf("%w: the first checkpoint is larger than the second", ErrMalformedEvidence)
	case first.Size == second.Size:
		if e.Prefix != nil {
			return first, second, fmt.Errorf("%w: a prefix section with checkpoints of one size", ErrMalformedEvidence)
		}
		if first.Hash == second.Hash {
			return first, second, fmt.Errorf("%w: both checkpoints have size %d and the same root", ErrNotEvidence, first.Size)
		}
		return first, second, nil
	}
	if e.Prefix == nil {
		return first, second, fmt.Errorf("%w: checkpoints of sizes %d and %d need a prefix section", ErrNotEvidence, first.Size, second.Size)
	}
	if first.Size == 0 {
		return first, second, fmt.Errorf("%w: every tree extends the empty tree", ErrNotEvidence)
	}
	if e.Prefix.Root == first.Hash {
		return first, second, fmt.Errorf("%w: the prefix root is the first checkpoint's root", ErrNotEvidence)
	}
	if err := verifyConsistency(first.Size, second.Size, e.Prefix.Proof, e.Prefix.Root, second.Hash); err != nil {
		return first, second, fmt.Errorf("%w: the proof from size %d to %d doesn't verify with the prefix root: %v", ErrNotEvidence, first.Size, second.Size, err)
	}
	return first, second, nil
}

// VerifyEvidence parses an evidence file and verifies it with logKey.
func VerifyEvidence(data []byte, logKey note.Verifier) (*Evidence, govlog.Checkpoint, govlog.Checkpoint, error) {
	e, err := ParseEvidence(data)
	if err != nil {
		return nil, govlog.Checkpoint{}, govlog.Checkpoint{}, err
	}
	first, second, err := e.Verify(logKey)
	if err != nil {
		return nil, first, second, err
	}
	return e, first, second, nil
}

// A ProofSource serves a log's consistency proofs, typically the log itself.
// Nothing it serves is trusted: proofs are verified.
type ProofSource interface {
	// ConsistencyProof returns the RFC 6962 consistency proof from size
	// from to size to of the log with this origin. An error means no proof
	// was obtained; the caller tries again later.
	ConsistencyProof(ctx context.Context, origin string, from, to uint64) ([][32]byte, error)
}

// FindEvidence compares two checkpoints signed by the log whose key is
// logKey. It returns nil, nil if they are consistent, evidence if they
// provably cannot both be true, and an error otherwise: ErrUnproven when the
// proofs served show neither, or the proof source's error. Proofs are needed
// only for different sizes (with proofs nil, FindEvidence then returns an
// error).
//
// For sizes m < n it fetches the proof from m to n. If that proof verifies
// the two roots, they are consistent. Otherwise, when m is not a power of
// two, the proof itself carries the root at m that it claims for the larger
// tree; when m is a power of two it doesn't, and FindEvidence tries the
// hashes of the proof from m+1 to n, which carries that subtree root. Every
// candidate is checked with the proof before it becomes evidence. So
// incompatible pairs stay unproven only when the proofs served are for the
// smaller checkpoint's branch (compare the log's latest checkpoint, which
// is on the branch it serves proofs for), or when m is 1, or m is a power
// of two and n is m+1: RFC 6962 proofs never carry that root, and a later
// checkpoint of either branch settles it.
func FindEvidence(ctx context.Context, logKey note.Verifier, a, b []byte, proofs ProofSource) (*Evidence, error) {
	cpA, signedA, err := openLogSigned(logKey, a)
	if err != nil {
		return nil, err
	}
	cpB, signedB, err := openLogSigned(logKey, b)
	if err != nil {
		return nil, err
	}
	if cpA.Size > cpB.Size || cpA.Size == cpB.Size && bytes.Compare(cpA.Hash[:], cpB.Hash[:]) > 0 {
		cpA, cpB, signedA, signedB = cpB, cpA, signedB, signedA
	}
	switch {
	case cpA.Size == cpB.Size && cpA.Hash == cpB.Hash:
		return nil, nil
	case cpA.Size == cpB.Size:
		return &Evidence{First: signedA, Second: signedB}, nil
	case cpA.Size == 0:
		// Every tree extends the empty one; a size-0 checkpoint with another
		// root is malformed, not a split view.
		return nil, nil
	case proofs == nil:
		return nil, fmt.Errorf("no proof source to compare sizes %d and %d", cpA.Size, cpB.Size)
	}
	m, n := cpA.Size, cpB.Size
	p, err := proofs.ConsistencyProof(ctx, cpA.Origin, m, n)
	if err != nil {
		return nil, fmt.Errorf("couldn't fetch consistency proof from %d to %d: %w", m, n, err)
	}
	if verifyConsistency(m, n, p, cpA.Hash, cpB.Hash) == nil {
		return nil, nil
	}
	if len(p) <= MaxProofLines {
		if r, ok := prefixRoot(m, n, p, cpB.Hash); ok && r != cpA.Hash {
			return &Evidence{First: signedA, Second: signedB, Prefix: &Prefix{Root: r, Proof: p}}, nil
		}
		// An RFC 6962 proof from a power of two leaves out the root at that
		// size, a node of the larger tree. The proof from one more leaf
		// carries it (when it exists): try its hashes as the root.
		if m&(m-1) == 0 && m+1 < n {
			q, err := proofs.ConsistencyProof(ctx, cpA.Origin, m+1, n)
			if err != nil {
				return nil, fmt.Errorf("couldn't fetch consistency proof from %d to %d: %w", m+1, n, err)
			}
			for _, c := range q {
				if c != cpA.Hash && verifyConsistency(m, n, p, c, cpB.Hash) == nil {
					return &Evidence{First: signedA, Second: signedB, Prefix: &Prefix{Root: c, Proof: p}}, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("%w: sizes %d and %d", ErrUnproven, m, n)
}

// prefixRoot returns the root at size m that a consistency proof from m to
// n claims for the tree with root newRoot, if the proof carries it (m is not
// a power of two) and verifies with it.
func prefixRoot(m, n uint64, p [][32]byte, newRoot [32]byte) ([32]byte, bool) {
	r, ok := oldRootFromProof(m, n, p)
	if !ok || verifyConsistency(m, n, p, r, newRoot) != nil {
		return [32]byte{}, false
	}
	return r, true
}

// oldRootFromProof computes the first root of an RFC 6962 consistency proof
// from m to n, following the verification algorithm of RFC 9162, section
// 2.1.4.2, which derives both roots from the proof when m is not a power of
// two. Callers confirm the result with verifyConsistency.
func oldRootFromProof(m, n uint64, p [][32]byte) ([32]byte, bool) {
	if m == 0 || m >= n || m&(m-1) == 0 || len(p) == 0 {
		return [32]byte{}, false
	}
	fn, sn := m-1, n-1
	// Skip the levels where the old tree's last node is a right child: the
	// proof starts at the lowest node the old and new trees share.
	shift := bits.TrailingZeros64(^fn)
	fn, sn = fn>>shift, sn>>shift
	fr := p[0]
	for _, c := range p[1:] {
		if sn == 0 {
			return [32]byte{}, false
		}
		if fn&1 == 1 || fn == sn {
			fr = hashChildren(c, fr)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn, sn = fn>>1, sn>>1
				}
			}
		}
		fn, sn = fn>>1, sn>>1
	}
	return fr, true
}

func hashChildren(l, r [32]byte) [32]byte {
	return [32]byte(rfc6962.DefaultHasher.HashChildren(l[:], r[:]))
}

// decodeHash decodes a canonical base64 SHA-256 hash.
func decodeHash(s string) ([32]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 32 || base64.StdEncoding.EncodeToString(b) != s {
		return [32]byte{}, errors.New("not a 32-byte hash in canonical base64")
	}
	return [32]byte(b), nil
}

// parseDecimal parses an ASCII decimal with no sign and no leading zeroes.
func parseDecimal(s string) (uint64, error) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, errors.New("not a decimal without leading zeroes")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a decimal")
		}
	}
	return strconv.ParseUint(s, 10, 64)
}
