package witness

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
)

// FormatAddCheckpointRequest returns the body of an add-checkpoint request:
// the old size line, one line per proof hash, an empty line and the signed
// checkpoint.
func FormatAddCheckpointRequest(oldSize uint64, consistency [][32]byte, signedCheckpoint []byte) []byte {
	b := make([]byte, 0, 32+45*len(consistency)+len(signedCheckpoint))
	b = append(b, "old "...)
	b = strconv.AppendUint(b, oldSize, 10)
	b = append(b, '\n')
	for _, h := range consistency {
		b = base64.StdEncoding.AppendEncode(b, h[:])
		b = append(b, '\n')
	}
	b = append(b, '\n')
	return append(b, signedCheckpoint...)
}

// ParseAddCheckpointRequest parses an add-checkpoint request body strictly.
// The checkpoint is returned as sent, unverified. Errors wrap
// ErrMalformedRequest.
func ParseAddCheckpointRequest(body []byte) (oldSize uint64, consistency [][32]byte, signedCheckpoint []byte, err error) {
	fail := func(format string, args ...any) (uint64, [][32]byte, []byte, error) {
		return 0, nil, nil, fmt.Errorf("%w: %s", ErrMalformedRequest, fmt.Sprintf(format, args...))
	}
	// SPEC: tlog-witness: each line MUST terminate in a newline.
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return fail("no old size line")
	}
	// SPEC: tlog-witness: the old size line is "old", a space and the size
	// in decimal with no leading zeroes.
	sizeText, ok := bytes.CutPrefix(line, []byte("old "))
	if !ok {
		return fail("first line %.64q is not an old size line", line)
	}
	oldSize, err = parseDecimal(string(sizeText))
	if err != nil {
		return fail("old size %.32q: %v", sizeText, err)
	}
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return fail("no empty line before the checkpoint")
		}
		if len(line) == 0 {
			break
		}
		// SPEC: tlog-witness: the client MUST NOT send more than 63
		// consistency proof lines.
		if len(consistency) == MaxProofLines {
			return fail("more than %d consistency proof lines", MaxProofLines)
		}
		// SPEC: tlog-witness: each proof line encodes one hash in base64.
		h, err := decodeHash(string(line))
		if err != nil {
			return fail("proof line %d: %v", len(consistency)+1, err)
		}
		consistency = append(consistency, h)
	}
	if len(rest) == 0 {
		return fail("no checkpoint")
	}
	return oldSize, consistency, rest, nil
}
