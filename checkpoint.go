package govlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/mod/sumdb/note"
)

// Errors about checkpoints, each wrapped with detail.
var (
	// ErrMalformedCheckpoint means the note or its text is not a
	// well-formed checkpoint.
	ErrMalformedCheckpoint = errors.New("malformed checkpoint")
	// ErrCheckpointSignature means the checkpoint is not validly signed by
	// the expected log key, or a known key's signature on it fails.
	ErrCheckpointSignature = errors.New("checkpoint not validly signed by the log")
)

// A Checkpoint is a log's tree head in the C2SP tlog-checkpoint format.
type Checkpoint struct {
	// Origin identifies the log; for govlog logs it is also the name of
	// the log's key.
	Origin string
	// Size is the number of leaves in the tree.
	Size uint64
	// Hash is the RFC 6962 root hash of the tree at Size.
	Hash [32]byte
	// Extensions are opaque extra lines; govlog logs don't write any.
	Extensions []string
}

// Text returns the checkpoint's note text.
func (c Checkpoint) Text() []byte {
	var b bytes.Buffer
	b.WriteString(c.Origin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatUint(c.Size, 10))
	b.WriteByte('\n')
	b.WriteString(base64.StdEncoding.EncodeToString(c.Hash[:]))
	b.WriteByte('\n')
	for _, ext := range c.Extensions {
		b.WriteString(ext)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ParseCheckpoint parses checkpoint note text strictly. It verifies no
// signature: use [OpenCheckpoint] or [Policy.Verify] on signed bytes.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	if !validNoteText(text) {
		return Checkpoint{}, fmt.Errorf("%w: invalid UTF-8 or control character", ErrMalformedCheckpoint)
	}
	lines, ok := splitNoteLines(string(text))
	// SPEC: tlog-checkpoint: the note text is a sequence of at least three
	// non-empty lines.
	if !ok || len(lines) < 3 {
		return Checkpoint{}, fmt.Errorf("%w: want at least 3 newline-terminated lines", ErrMalformedCheckpoint)
	}
	for i, line := range lines {
		// SPEC: tlog-checkpoint: the origin MUST be non-empty; extension
		// lines, if any, MUST be non-empty.
		if line == "" {
			return Checkpoint{}, fmt.Errorf("%w: line %d is empty", ErrMalformedCheckpoint, i+1)
		}
	}
	c := Checkpoint{Origin: lines[0]}
	// SPEC: tlog-checkpoint: the tree size is ASCII decimal with no leading
	// zeroes.
	size, err := parseDecimal(lines[1])
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: tree size %.32q: %v", ErrMalformedCheckpoint, lines[1], err)
	}
	c.Size = size
	hash, err := decodeBase64(lines[2])
	if err != nil || len(hash) != len(c.Hash) {
		return Checkpoint{}, fmt.Errorf("%w: root hash %.64q is not 32 bytes of base64", ErrMalformedCheckpoint, lines[2])
	}
	c.Hash = [32]byte(hash)
	if len(lines) > 3 {
		c.Extensions = lines[3:]
	}
	return c, nil
}

// SignCheckpoint returns the checkpoint signed by the log's key, whose name
// must be the checkpoint's origin.
func SignCheckpoint(c Checkpoint, logKey note.Signer) ([]byte, error) {
	text := c.Text()
	if _, err := ParseCheckpoint(text); err != nil {
		return nil, err
	}
	if logKey.Name() != c.Origin {
		return nil, fmt.Errorf("log key name %q is not the origin %q", logKey.Name(), c.Origin)
	}
	signed, err := note.Sign(&note.Note{Text: string(text)}, logKey)
	if err != nil {
		return nil, fmt.Errorf("couldn't sign checkpoint: %w", err)
	}
	return signed, nil
}

// OpenCheckpoint verifies the log's signature on a checkpoint and returns
// the checkpoint and the note. Other signatures, such as witness
// cosignatures, are kept unverified in the note's UnverifiedSigs.
func OpenCheckpoint(signed []byte, logKey note.Verifier) (Checkpoint, *note.Note, error) {
	if err := checkSignatureLines(signed); err != nil {
		return Checkpoint{}, nil, fmt.Errorf("%w: %v", ErrMalformedCheckpoint, err)
	}
	n, err := note.Open(signed, note.VerifierList(logKey))
	if err != nil {
		return Checkpoint{}, nil, checkpointNoteError(err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, nil, err
	}
	// SPEC: tlog-policy: the log's key name MUST correspond to the log's
	// origin line. (tlog-checkpoint only says SHOULD; govlog requires it.)
	if c.Origin != logKey.Name() {
		return Checkpoint{}, nil, fmt.Errorf("%w: origin %.256q is not the log key name %q", ErrCheckpointSignature, c.Origin, logKey.Name())
	}
	return c, n, nil
}

// checkpointNoteError maps note.Open's errors to this package's sentinels.
func checkpointNoteError(err error) error {
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		// SPEC: signed-note: if no signature from a known key verifies,
		// clients MUST reject the note.
		return fmt.Errorf("%w: %v", ErrCheckpointSignature, err)
	case errors.As(err, &invalid):
		// SPEC: signed-note: if the key name and ID match a known key,
		// verifiers MUST verify the signature.
		return fmt.Errorf("%w: %v", ErrCheckpointSignature, err)
	default:
		return fmt.Errorf("%w: %v", ErrMalformedCheckpoint, err)
	}
}
