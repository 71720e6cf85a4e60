package govlog

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// PromiseFormat is the first line of every signed promise.
const PromiseFormat = "govlog/promise/v1"

// Errors about promises, each wrapped with detail.
var (
	// ErrMalformedPromise means the note or its text is not a well-formed
	// promise.
	ErrMalformedPromise = errors.New("malformed promise")
	// ErrPromiseSignature means the promise is not validly signed by the
	// log key.
	ErrPromiseSignature = errors.New("promise not validly signed by the log")
)

// A Promise is the log's signed commitment to include a leaf by Deadline
// (queue time plus the maximum merge delay). A promise not kept by its
// deadline is public evidence of misbehaviour.
type Promise struct {
	// Origin is the log's origin, which is also its key's name.
	Origin string
	// LeafHash is the RFC 6962 leaf hash of the promised entry.
	LeafHash [32]byte
	// Deadline is when the leaf must be in a signed checkpoint, whole
	// seconds, not before the Unix epoch.
	Deadline time.Time
}

// Text returns the promise's note text:
//
//	govlog/promise/v1
//	<origin>
//	<base64 leaf hash>
//	<deadline, Unix seconds>
func (p Promise) Text() []byte {
	return fmt.Appendf(nil, "%s\n%s\n%s\n%d\n", PromiseFormat, p.Origin,
		base64.StdEncoding.EncodeToString(p.LeafHash[:]), p.Deadline.Unix())
}

// Sign returns the promise signed by the log's key, whose name must be the
// origin. A sub-second deadline is rounded down.
func (p Promise) Sign(logKey note.Signer) ([]byte, error) {
	if !validKeyName(p.Origin) {
		return nil, fmt.Errorf("%w: invalid origin %q", ErrMalformedPromise, p.Origin)
	}
	if p.Deadline.Unix() < 0 {
		return nil, fmt.Errorf("%w: deadline %v before the Unix epoch", ErrMalformedPromise, p.Deadline)
	}
	if logKey.Name() != p.Origin {
		return nil, fmt.Errorf("log key name %q is not the origin %q", logKey.Name(), p.Origin)
	}
	signed, err := note.Sign(&note.Note{Text: string(p.Text())}, logKey)
	if err != nil {
		return nil, fmt.Errorf("couldn't sign promise: %w", err)
	}
	return signed, nil
}

// OpenPromise verifies a promise signed by the log key and returns it.
func OpenPromise(signed []byte, logKey note.Verifier) (Promise, error) {
	if err := checkSignatureLines(signed); err != nil {
		return Promise{}, fmt.Errorf("%w: %v", ErrMalformedPromise, err)
	}
	n, err := note.Open(signed, note.VerifierList(logKey))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		if errors.As(err, &unverified) || errors.As(err, &invalid) {
			return Promise{}, fmt.Errorf("%w: %v", ErrPromiseSignature, err)
		}
		return Promise{}, fmt.Errorf("%w: %v", ErrMalformedPromise, err)
	}
	lines, ok := splitNoteLines(n.Text)
	if !ok || len(lines) != 4 {
		return Promise{}, fmt.Errorf("%w: want 4 lines of text", ErrMalformedPromise)
	}
	if lines[0] != PromiseFormat {
		return Promise{}, fmt.Errorf("%w: format line %.64q, want %q", ErrMalformedPromise, lines[0], PromiseFormat)
	}
	if lines[1] != logKey.Name() {
		return Promise{}, fmt.Errorf("%w: origin %.256q is not the log key name %q", ErrPromiseSignature, lines[1], logKey.Name())
	}
	hash, err := decodeBase64(lines[2])
	if err != nil || len(hash) != 32 {
		return Promise{}, fmt.Errorf("%w: leaf hash %.64q is not 32 bytes of base64", ErrMalformedPromise, lines[2])
	}
	secs, err := parseDecimal(lines[3])
	if err != nil || secs > math.MaxInt64 {
		return Promise{}, fmt.Errorf("%w: deadline %.32q is not Unix seconds", ErrMalformedPromise, lines[3])
	}
	return Promise{
		Origin:   lines[1],
		LeafHash: [32]byte(hash),
		Deadline: time.Unix(int64(secs), 0).UTC(),
	}, nil
}
