package client

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// SaltSize is the size of a commitment's salt: 32 random bytes.
const SaltSize = 32

// Commit returns the commitment to value that DESIGN.md asks for wherever
// a leaf refers to a person or an attribute: HMAC-SHA256 keyed by salt, in
// lowercase hex (what the rules' commitment fields take). The salt must be
// fresh for each use (two commitments of one person must not be linkable)
// and is kept by the person, who can then show that the commitment is
// theirs; without it, a commitment cannot be brute-forced back to an ID
// number, as an unsalted hash can.
func Commit(value string, salt []byte) (string, error) {
	if len(salt) != SaltSize {
		return "", fmt.Errorf("a salt of %d bytes: want %d fresh random bytes", len(salt), SaltSize)
	}
	if value == "" {
		return "", errors.New("nothing to commit to")
	}
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil)), nil
}

// NewSalt returns SaltSize fresh random bytes.
func NewSalt() ([]byte, error) {
	salt := make([]byte, SaltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	return salt, nil
}

// CheckCommitment reports whether commitment is the commitment to value
// under salt, comparing in constant time.
func CheckCommitment(commitment, value string, salt []byte) bool {
	c, err := Commit(value, salt)
	return err == nil && hmac.Equal([]byte(c), []byte(commitment))
}
