// Package answer is the kit a domain's rule.QueryClient checks answers
// with: it reads an answer strictly (a member the domain does not know
// would be shown by --json without having been checked) and finds the
// proved entries an answer names by leaf hash. Its errors say what is
// wrong; the domain wraps them in its own mismatch error.
package answer

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/govlog/govlog/personalities/rule"
)

// Decode reads result into v: one JSON value, no member v does not
// declare, nothing after it. noun names what an answer should be ("a
// petition answer"), for the error.
func Decode(result []byte, v any, noun string) error {
	dec := json.NewDecoder(bytes.NewReader(result))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not %s: %v", noun, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("not %s: data after it", noun)
	}
	return nil
}

// LeafHash reads a leaf hash as answers write it: 64 lowercase hex digits.
func LeafHash(s string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) || hex.EncodeToString(b) != s {
		return h, fmt.Errorf("%.80q is not a leaf hash (64 lowercase hex digits)", s)
	}
	copy(h[:], b)
	return h, nil
}

// ParseLeafHash reads a leaf hash as people give it: 64 hex digits, or the
// base64 `govlog submit` prints; it returns the lowercase hex answers use.
func ParseLeafHash(s string) (string, error) {
	if h, err := LeafHash(strings.ToLower(s)); err == nil {
		return hex.EncodeToString(h[:]), nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return hex.EncodeToString(b), nil
	}
	return "", fmt.Errorf("%.80q is not a leaf hash (64 hex digits, or base64 as govlog submit prints it)", s)
}

// ByHash indexes proved entries by leaf hash.
func ByHash(entries []rule.ProvedEntry) map[[32]byte]rule.ProvedEntry {
	out := make(map[[32]byte]rule.ProvedEntry, len(entries))
	for _, e := range entries {
		out[e.LeafHash] = e
	}
	return out
}

// Entry returns the proved entry whose leaf hash an answer gives as
// leafHex.
func Entry(proved map[[32]byte]rule.ProvedEntry, leafHex string) (rule.ProvedEntry, error) {
	leaf, err := LeafHash(leafHex)
	if err != nil {
		return rule.ProvedEntry{}, err
	}
	e, ok := proved[leaf]
	if !ok {
		return e, fmt.Errorf("no proof of its entry %s", leafHex)
	}
	return e, nil
}
