// Package notesig checks the signature of a statement that a domain
// authenticates itself ([rule.Authenticator]): one signed by a key the
// domain takes from the statement's body or its state, given as a signed-note
// verifier key ("<name>+<hash>+<base64 key>", [note]).
//
// A statement of such a type must carry exactly one signature line, by that
// key. A line the domain did not check would let anyone append one (or
// repeat the valid one, which note.Open skips unchecked) and make new leaf
// bytes for the same statement, so [Verify] refuses any other line.
//
// [note]: https://c2sp.org/signed-note
package notesig

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog/personalities/rule"
)

// Verify checks that e carries exactly one signature line, and that it is a
// valid signature of e.Text by the key vkey. Its errors wrap
// [rule.ErrNotAuthorized], or [rule.ErrBadSignature] for a signature that
// does not verify.
func Verify(vkey string, e rule.Entry) error {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("%w: %.120q is not a verifier key: %v", rule.ErrNotAuthorized, vkey, err)
	}
	switch len(e.Signatures) {
	case 0:
		return fmt.Errorf("%w: the statement is not signed", rule.ErrNotAuthorized)
	case 1:
	default:
		return fmt.Errorf("%w: the statement carries %d signature lines; it must carry one only, by %s", rule.ErrNotAuthorized, len(e.Signatures), keyID(v.Name(), v.KeyHash()))
	}
	s := e.Signatures[0]
	if s.Name != v.Name() || s.KeyHash != v.KeyHash() {
		return fmt.Errorf("%w: the statement is signed by %.80s, not by %s", rule.ErrNotAuthorized, keyID(s.Name, s.KeyHash), keyID(v.Name(), v.KeyHash()))
	}
	return VerifyLine(v, e, s)
}

// signedNote rebuilds the signed note of text with one signature line.
func signedNote(text []byte, s rule.Signature) []byte {
	raw := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(s.Sig)), s.KeyHash)
	raw = append(raw, s.Sig...)
	msg := make([]byte, 0, len(text)+len(s.Name)+base64.StdEncoding.EncodedLen(len(raw))+8)
	msg = append(msg, text...)
	msg = append(msg, "\n— "...)
	msg = append(msg, s.Name...)
	msg = append(msg, ' ')
	msg = base64.StdEncoding.AppendEncode(msg, raw)
	return append(msg, '\n')
}

// keyID names a key as "<name>+<hash>", as a verifier key begins.
func keyID(name string, hash uint32) string {
	return fmt.Sprintf("%s+%08x", name, hash)
}

// ParseVKey checks that vkey is a verifier key, spelled the one way note
// spells it (the hash in lowercase hex), so that one key has one spelling in
// a body and in the state; and returns its name and key hash. It is for a
// key carried in a statement's body: its errors wrap [rule.ErrInvalidBody].
func ParseVKey(vkey string) (name string, hash uint32, err error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %.120q is not a verifier key: %v", rule.ErrInvalidBody, vkey, err)
	}
	_, rest, _ := strings.Cut(vkey, "+")
	hash16, key64, _ := strings.Cut(rest, "+")
	key, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || hash16 != fmt.Sprintf("%08x", v.KeyHash()) || base64.StdEncoding.EncodeToString(key) != key64 {
		return "", 0, fmt.Errorf("%w: verifier key %.120q is not spelled as note spells it (%s+...)", rule.ErrInvalidBody, vkey, keyID(v.Name(), v.KeyHash()))
	}
	return v.Name(), v.KeyHash(), nil
}

// VerifyLine checks that s, one signature line of e, is a valid signature
// of e.Text by v. Its errors wrap [rule.ErrNotAuthorized], or
// [rule.ErrBadSignature] for a signature that does not verify.
func VerifyLine(v note.Verifier, e rule.Entry, s rule.Signature) error {
	if s.Name != v.Name() || s.KeyHash != v.KeyHash() {
		return fmt.Errorf("%w: the line by %.80s is not by %s", rule.ErrNotAuthorized, keyID(s.Name, s.KeyHash), keyID(v.Name(), v.KeyHash()))
	}
	if _, err := note.Open(signedNote(e.Text, s), note.VerifierList(v)); err != nil {
		var invalid *note.InvalidSignatureError
		if errors.As(err, &invalid) {
			return fmt.Errorf("%w: the signature by %s does not verify", rule.ErrBadSignature, keyID(s.Name, s.KeyHash))
		}
		return fmt.Errorf("%w: not a signed note: %v", rule.ErrBadSignature, err)
	}
	return nil
}
