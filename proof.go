package govlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"golang.org/x/mod/sumdb/note"
	"strconv"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// BundleHeader is the first line of a tlog-proof bundle.
const BundleHeader = "c2sp.org/tlog-proof@v1"

// maxProofHashes bounds an inclusion proof: no tree of up to 2^64 leaves
// needs more than 64 hashes.
const maxProofHashes = 64

// Errors about bundles, each wrapped with detail.
var (
	// ErrMalformedBundle means the bytes are not a well-formed tlog-proof,
	// or carry no entry in the extra line.
	ErrMalformedBundle = errors.New("malformed bundle")
	// ErrInclusionProof means the inclusion proof doesn't bind the entry to
	// the checkpoint's root hash.
	ErrInclusionProof = errors.New("inclusion proof doesn't verify")
)

// A Bundle is a C2SP tlog-proof: everything a journalist needs to check
// offline that an entry is in a log. For govlog, Extra is the entry itself
// (the signed statement), so the verifier computes the leaf hash and the
// extra data needs no trust of its own.
type Bundle struct {
	// Extra is the opaque extra data; for govlog, the entry's bytes.
	Extra []byte
	// Index is the entry's zero-based index in the log.
	Index uint64
	// Proof is the RFC 6962 inclusion proof, from the leaf's sibling up.
	Proof [][32]byte
	// Checkpoint is the signed, cosigned checkpoint note, verbatim.
	Checkpoint []byte
}

// Marshal returns the bundle in the tlog-proof format, to be stored in a
// .tlog-proof file.
func (b *Bundle) Marshal() []byte {
	var buf bytes.Buffer
	buf.WriteString(BundleHeader + "\n")
	if len(b.Extra) > 0 {
		buf.WriteString("extra " + base64.StdEncoding.EncodeToString(b.Extra) + "\n")
	}
	buf.WriteString("index " + strconv.FormatUint(b.Index, 10) + "\n")
	for _, h := range b.Proof {
		buf.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
	}
	buf.WriteString("\n")
	buf.Write(b.Checkpoint)
	return buf.Bytes()
}

// ParseBundle parses a tlog-proof strictly: canonical base64, decimal index,
// at most 64 proof hashes, and a well-formed checkpoint note (whose
// signatures are not verified here).
func ParseBundle(data []byte) (*Bundle, error) {
	head, checkpoint, ok := bytes.Cut(data, []byte("\n\n"))
	if !ok {
		return nil, fmt.Errorf("%w: no empty line before the checkpoint", ErrMalformedBundle)
	}
	lines := strings.Split(string(head), "\n")
	// SPEC: tlog-proof: the first line MUST be "c2sp.org/tlog-proof@v1".
	if lines[0] != BundleHeader {
		return nil, fmt.Errorf("%w: first line %.64q, want %q", ErrMalformedBundle, lines[0], BundleHeader)
	}
	lines = lines[1:]
	b := &Bundle{}
	if len(lines) > 0 {
		if b64, ok := strings.CutPrefix(lines[0], "extra "); ok {
			extra, err := decodeBase64(b64)
			// An empty extra is spelled by omitting the line, so there is
			// only one encoding of each bundle.
			if err != nil || len(extra) == 0 {
				return nil, fmt.Errorf("%w: extra is not non-empty canonical base64", ErrMalformedBundle)
			}
			b.Extra = extra
			lines = lines[1:]
		}
	}
	// SPEC: tlog-proof: the index line MUST be "index", a space, and the
	// index as ASCII decimal with no leading zeroes.
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: missing index line", ErrMalformedBundle)
	}
	idx, ok := strings.CutPrefix(lines[0], "index ")
	if !ok {
		return nil, fmt.Errorf("%w: line %.64q, want the index", ErrMalformedBundle, lines[0])
	}
	index, err := parseDecimal(idx)
	if err != nil {
		return nil, fmt.Errorf("%w: index %.32q: %v", ErrMalformedBundle, idx, err)
	}
	b.Index = index
	lines = lines[1:]
	if len(lines) > maxProofHashes {
		return nil, fmt.Errorf("%w: %d proof hashes, at most %d", ErrMalformedBundle, len(lines), maxProofHashes)
	}
	for _, line := range lines {
		h, err := decodeBase64(line)
		if err != nil || len(h) != 32 {
			return nil, fmt.Errorf("%w: proof line %.64q is not a base64 SHA-256 hash", ErrMalformedBundle, line)
		}
		b.Proof = append(b.Proof, [32]byte(h))
	}
	// SPEC: tlog-proof: the checkpoint is included verbatim, per
	// tlog-checkpoint.
	text, err := noteTextUnverified(checkpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: checkpoint: %v", ErrMalformedBundle, err)
	}
	if _, err := ParseCheckpoint([]byte(text)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedBundle, err)
	}
	b.Checkpoint = bytes.Clone(checkpoint)
	return b, nil
}

// A VerifiedBundle is what a verified bundle proves: Entry is at Index in
// the log whose Checkpoint the named Witnesses cosigned. Entry is not
// parsed: callers that expect a statement pass it to [ParseStatement] with
// the keys they trust.
type VerifiedBundle struct {
	Checkpoint Checkpoint
	Index      uint64
	Entry      []byte
	Witnesses  []string
	// CosignedAt holds the time each of Witnesses put in its cosignature.
	CosignedAt []time.Time
	// NotCounted lists the policy's witnesses whose cosignature line is on
	// the checkpoint but did not count (see [Policy.VerifyCheckpoint]); the
	// quorum held without them.
	NotCounted []WitnessNotCounted
	// Ignored names ("name+hash") the checkpoint's signature lines by no
	// key of the policy: another witness's, or a line damaged in its key
	// name or hash. They did not count, and the quorum held without them.
	Ignored []string
}

// A RootMismatchError is an [ErrInclusionProof] where the entry and the
// proof hash to another root than the checkpoint's: the entry, the index
// or the proof is not what the log made.
type RootMismatchError struct {
	Computed, Checkpoint [32]byte
}

func (e *RootMismatchError) Error() string {
	return fmt.Sprintf("%v: the entry and the proof hash to root %x, but the checkpoint's root is %x", ErrInclusionProof, e.Computed, e.Checkpoint)
}

// Is makes a RootMismatchError an ErrInclusionProof.
func (e *RootMismatchError) Is(target error) bool { return target == ErrInclusionProof }

// VerifyInclusion checks that the inclusion proof binds the RFC 6962 leaf
// hash of b's extra data (the entry) at b's index to c's root hash. A
// well-formed proof to another root is a [*RootMismatchError]; any other
// failure wraps [ErrInclusionProof].
func (b *Bundle) VerifyInclusion(c Checkpoint) error {
	if b.Index >= c.Size {
		return fmt.Errorf("%w: index %d is not below tree size %d", ErrInclusionProof, b.Index, c.Size)
	}
	// SPEC: tlog-proof: the inclusion proof binds the leaf hash computed
	// from the entry to the root hash of the signed checkpoint.
	leaf := LeafHash(b.Extra)
	hashes := make([][]byte, len(b.Proof))
	for i := range b.Proof {
		hashes[i] = b.Proof[i][:]
	}
	// The root is computed, not only compared, so that a mismatch says
	// both roots in hex.
	root, err := proof.RootFromInclusionProof(rfc6962.DefaultHasher, b.Index, c.Size, leaf[:], hashes)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInclusionProof, err)
	}
	if !bytes.Equal(root, c.Hash[:]) {
		return &RootMismatchError{Computed: [32]byte(root), Checkpoint: c.Hash}
	}
	return nil
}

// VerifyBundle verifies a govlog bundle offline against a policy: the
// checkpoint is signed by one of the policy's logs and cosigned by a quorum
// of its witnesses, and the inclusion proof binds the RFC 6962 leaf hash of
// the extra data (the entry) to the checkpoint's root hash. Options judge
// cosignature timestamps as in [Policy.Verify].
func VerifyBundle(data []byte, policy *Policy, opts ...VerifyOption) (*VerifiedBundle, error) {
	b, err := ParseBundle(data)
	if err != nil {
		return nil, err
	}
	if len(b.Extra) == 0 {
		return nil, fmt.Errorf("%w: no entry in the extra line", ErrMalformedBundle)
	}
	// SPEC: tlog-proof: check the checkpoint is signed by a log key for its
	// origin, and verify the cosignatures of known witnesses.
	v, err := policy.VerifyCheckpoint(b.Checkpoint, opts...)
	if err != nil {
		return nil, fmt.Errorf("couldn't verify bundle checkpoint: %w", err)
	}
	if err := b.VerifyInclusion(v.Checkpoint); err != nil {
		return nil, err
	}
	return &VerifiedBundle{
		Checkpoint: v.Checkpoint, Index: b.Index, Entry: b.Extra,
		Witnesses: v.Witnesses, CosignedAt: v.CosignedAt, NotCounted: v.NotCounted,
		Ignored: v.Ignored,
	}, nil
}

// unknownSigners names the signature lines of signed, a verified note,
// by no key of p.
func (p *Policy) unknownSigners(signed []byte) []string {
	_, err := note.Open(signed, note.VerifierList())
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		return nil
	}
	known := map[string]bool{}
	for _, l := range p.logs {
		known[fmt.Sprintf("%s+%08x", l.verifier.Name(), l.verifier.KeyHash())] = true
	}
	for _, w := range p.witnesses {
		known[fmt.Sprintf("%s+%08x", w.verifier.Name(), w.verifier.KeyHash())] = true
	}
	var out []string
	for _, s := range unverified.Note.UnverifiedSigs {
		if id := fmt.Sprintf("%s+%08x", s.Name, s.Hash); !known[id] {
			out = append(out, id)
		}
	}
	return out
}
