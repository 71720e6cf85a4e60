package identity

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
)

// SaltSize is the size of a commitment's salt: 32 random bytes, fresh for
// every attribute of every credential.
const SaltSize = 32

// NewSalt returns a fresh salt of [SaltSize] random bytes.
func NewSalt() ([]byte, error) {
	salt := make([]byte, SaltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	return salt, nil
}

// Commit returns the salted commitment to value: the lowercase hex of
// HMAC-SHA256 keyed by salt over value's UTF-8 bytes. Only the commitment
// goes on the log; the citizen keeps the salt and the value, and discloses
// both to whom they choose, who checks them with [CheckCommitment].
func Commit(salt []byte, value string) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckCommitment reports whether commitment is [Commit](salt, value), for a
// salt of [SaltSize] bytes (a shorter salt, and above all an empty one,
// would let anyone try every value). It compares in constant time.
func CheckCommitment(commitment, value string, salt []byte) bool {
	if len(salt) != SaltSize {
		return false
	}
	want := Commit(salt, value)
	return subtle.ConstantTimeCompare([]byte(commitment), []byte(want)) == 1
}

// SubjectID names the subject whose key is vkey, a signed-note verifier
// key: "s-" and the first 32 hex digits of the SHA-256 of vkey as spelled.
func SubjectID(vkey string) string {
	h := sha256.Sum256([]byte(vkey))
	return "s-" + hex.EncodeToString(h[:16])
}

// ValidSubjectID reports whether s is spelled as [SubjectID] spells one.
func ValidSubjectID(s string) bool {
	if len(s) != 34 || s[:2] != "s-" {
		return false
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
