// Package blindtoken is the kit for anonymous one-time tokens: an issuer's
// RSA blind signature (RFC 9474, RSABSSA-SHA384-PSS-Randomized) over a
// voter's one-time signed-note key, for one election.
//
// A voter makes a one-time note key named "voter" (its verifier key is
// VKEY) and asks the election's token issuer to sign, blindly, the message
//
//	"govlog/votes/token/v1\n" + ELECTION_ID + "\n" + VKEY
//
// (see [Message]). The issuer learns who asked, never VKEY; the voter then
// holds a [Token]: VKEY, the 32 random bytes RFC 9474 prepends to the message
// (Prepare), and the RSA signature of prefix||message, which anyone checks
// with the issuer's public key ([Verify]). A ballot signed by VKEY and
// carrying the token is therefore from somebody the issuer gave a token to,
// and nobody, the issuer included, can tell whom.
//
// The RSA is circl's (github.com/cloudflare/circl/blindsign/blindrsa);
// this package only fixes the variant, the message and the encodings.
package blindtoken

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/cloudflare/circl/blindsign/blindrsa"
	"golang.org/x/mod/sumdb/note"
)

// MinKeyBits is the smallest issuer key accepted, in bits of the modulus.
const MinKeyBits = 2048

// MaxKeyBits is the largest issuer key accepted, which bounds the work of
// verifying a token.
const MaxKeyBits = 8192

// KeyName is the name of a voter's one-time note key.
const KeyName = "voter"

// PrefixSize is the size of the random prefix RFC 9474's randomized
// variants prepend to the message.
const PrefixSize = 32

// MessagePrefix begins every token message.
const MessagePrefix = "govlog/votes/token/v1\n"

// maxElectionID and maxKeyLen bound what Verify reads.
const (
	maxElectionID = 256
	maxKeyLen     = 512
)

// variant is the one RFC 9474 variant tokens use.
const variant = blindrsa.SHA384PSSRandomized

var (
	// ErrBadKey: the issuer key is not a usable RSA key.
	ErrBadKey = errors.New("bad token issuer key")
	// ErrBadToken: the token is malformed or its signature does not verify.
	ErrBadToken = errors.New("bad token")
)

// Token is a voter's proof that the issuer signed their one-time key.
type Token struct {
	// Key is the voter's one-time note verifier key, VKEY.
	Key string `json:"key"`
	// Prefix is the 32 random bytes prepended to the message, lowercase hex.
	Prefix string `json:"prefix"`
	// Signature is the RSA signature of Prefix||Message, standard base64.
	Signature string `json:"signature"`
}

// ParseIssuerKey decodes an issuer key as an election body writes it:
// standard base64 (padded, canonical) of the PKIX (SubjectPublicKeyInfo)
// DER of an RSA public key of MinKeyBits to MaxKeyBits bits with an odd
// exponent above 1. The encoding must be exactly what [EncodeIssuerKey]
// writes, so a key has one spelling. Errors wrap [ErrBadKey].
func ParseIssuerKey(b64 string) (*rsa.PublicKey, error) {
	if len(b64) > 4*MaxKeyBits/8 {
		return nil, fmt.Errorf("%w: %d characters is too long for a key", ErrBadKey, len(b64))
	}
	der, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: not standard base64: %v", ErrBadKey, err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: not a PKIX public key: %v", ErrBadKey, err)
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: a %T, not an RSA key", ErrBadKey, k)
	}
	if err := checkKey(pub); err != nil {
		return nil, err
	}
	if again, err := EncodeIssuerKey(pub); err != nil || again != b64 {
		return nil, fmt.Errorf("%w: not the canonical encoding of the key", ErrBadKey)
	}
	return pub, nil
}

// checkKey checks an RSA public key's size and exponent.
func checkKey(pub *rsa.PublicKey) error {
	if pub == nil || pub.N == nil || pub.N.Sign() <= 0 {
		return fmt.Errorf("%w: no modulus", ErrBadKey)
	}
	if n := pub.N.BitLen(); n < MinKeyBits {
		return fmt.Errorf("%w: a %d-bit key; an issuer key has at least %d bits", ErrBadKey, n, MinKeyBits)
	} else if n > MaxKeyBits {
		return fmt.Errorf("%w: a %d-bit key; an issuer key has at most %d bits", ErrBadKey, n, MaxKeyBits)
	}
	if pub.E < 3 || pub.E%2 == 0 {
		return fmt.Errorf("%w: public exponent %d (want an odd one above 1, usually 65537)", ErrBadKey, pub.E)
	}
	if pub.N.Bit(0) == 0 {
		return fmt.Errorf("%w: even modulus", ErrBadKey)
	}
	return nil
}

// EncodeIssuerKey returns the issuer key as an election body writes it:
// standard base64 of its PKIX DER.
func EncodeIssuerKey(pub *rsa.PublicKey) (string, error) {
	if err := checkKey(pub); err != nil {
		return "", err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// Message returns the message a token signs (before RFC 9474's prefix):
// "govlog/votes/token/v1\n" + electionID + "\n" + vkey.
func Message(electionID, vkey string) []byte {
	return []byte(MessagePrefix + electionID + "\n" + vkey)
}

// checkElectionID refuses an election ID that would make Message ambiguous.
func checkElectionID(electionID string) error {
	if electionID == "" || len(electionID) > maxElectionID || strings.ContainsAny(electionID, "\n\r") {
		return fmt.Errorf("election ID %.64q: want 1 to %d bytes and no line break", electionID, maxElectionID)
	}
	return nil
}

// checkVoterKey checks that vkey is a note verifier key named KeyName.
func checkVoterKey(vkey string) error {
	if len(vkey) > maxKeyLen {
		return fmt.Errorf("a %d-byte key is too long for a note verifier key", len(vkey))
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("key %.80q is not a note verifier key: %v", vkey, err)
	}
	if v.Name() != KeyName {
		return fmt.Errorf("the one-time key is named %.64q, not %q", v.Name(), KeyName)
	}
	return nil
}

// Verify checks that t is a token of the issuer pub for electionID: its key
// is a note verifier key named "voter", its prefix 32 bytes in lowercase hex,
// its signature standard base64 of an RSABSSA-SHA384-PSS-Randomized
// signature by pub of prefix||Message(electionID, t.Key). Errors wrap
// [ErrBadToken] (or [ErrBadKey], for a bad pub).
func Verify(pub *rsa.PublicKey, electionID string, t Token) error {
	if err := checkKey(pub); err != nil {
		return err
	}
	if err := checkElectionID(electionID); err != nil {
		return fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	if err := checkVoterKey(t.Key); err != nil {
		return fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	if len(t.Prefix) != 2*PrefixSize {
		return fmt.Errorf("%w: the prefix has %d hex digits, not %d", ErrBadToken, len(t.Prefix), 2*PrefixSize)
	}
	prefix, err := hex.DecodeString(t.Prefix)
	if err != nil || hex.EncodeToString(prefix) != t.Prefix {
		return fmt.Errorf("%w: the prefix is not lowercase hex", ErrBadToken)
	}
	size := (pub.N.BitLen() + 7) / 8
	if len(t.Signature) != base64.StdEncoding.EncodedLen(size) {
		return fmt.Errorf("%w: the signature is not the base64 of %d bytes", ErrBadToken, size)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(t.Signature)
	if err != nil || len(sig) != size {
		return fmt.Errorf("%w: the signature is not the base64 of %d bytes", ErrBadToken, size)
	}
	v, err := blindrsa.NewVerifier(variant, pub)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	msg := append(prefix, Message(electionID, t.Key)...)
	if err := v.Verify(msg, sig); err != nil {
		return fmt.Errorf("%w: the signature does not verify with the election's issuer key", ErrBadToken)
	}
	return nil
}

// Request is a voter's state between [Blind] and [Request.Finalize]. It
// holds the blinding factor's inverse: keep it secret and use it once.
type Request struct {
	pub        *rsa.PublicKey
	client     blindrsa.Client
	state      blindrsa.State
	electionID string
	vkey       string
	prefix     []byte
	done       bool
}

// Blind prepares the token message of vkey for electionID (32 random
// prefix bytes) and blinds it for the issuer pub. The voter sends blinded
// to the issuer and keeps r for Finalize. rand nil means crypto/rand.
func Blind(pub *rsa.PublicKey, electionID, vkey string, rand io.Reader) (blinded []byte, r *Request, err error) {
	if rand == nil {
		rand = cryptoRand
	}
	if err := checkKey(pub); err != nil {
		return nil, nil, err
	}
	if err := checkElectionID(electionID); err != nil {
		return nil, nil, err
	}
	if err := checkVoterKey(vkey); err != nil {
		return nil, nil, err
	}
	c, err := blindrsa.NewClient(variant, pub)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	prepared, err := c.Prepare(rand, Message(electionID, vkey))
	if err != nil {
		return nil, nil, fmt.Errorf("couldn't prepare the token message: %w", err)
	}
	blinded, state, err := c.Blind(rand, prepared)
	if err != nil {
		return nil, nil, fmt.Errorf("couldn't blind the token message: %w", err)
	}
	return blinded, &Request{
		pub: pub, client: c, state: state, electionID: electionID, vkey: vkey,
		prefix: bytes.Clone(prepared[:PrefixSize]),
	}, nil
}

// Finalize unblinds the issuer's blind signature into the token, and
// verifies the token with [Verify]. Errors wrap [ErrBadToken].
func (r *Request) Finalize(blindSig []byte) (Token, error) {
	if r == nil || r.pub == nil {
		return Token{}, fmt.Errorf("%w: no request to finalize", ErrBadToken)
	}
	if r.done {
		return Token{}, fmt.Errorf("%w: the request was finalized already", ErrBadToken)
	}
	sig, err := r.client.Finalize(r.state, blindSig)
	if err != nil {
		return Token{}, fmt.Errorf("%w: the issuer's blind signature does not verify: %v", ErrBadToken, err)
	}
	t := Token{
		Key:       r.vkey,
		Prefix:    hex.EncodeToString(r.prefix),
		Signature: base64.StdEncoding.EncodeToString(sig),
	}
	if err := Verify(r.pub, r.electionID, t); err != nil {
		return Token{}, err
	}
	r.done = true
	return t, nil
}

// BlindSign is the issuer's side: it signs a voter's blinded message with
// priv. It checks the message's size and that it is below the modulus;
// whom to sign for is the caller's decision. Errors wrap [ErrBadKey] for a
// bad priv.
func BlindSign(priv *rsa.PrivateKey, blinded []byte) ([]byte, error) {
	if priv == nil {
		return nil, fmt.Errorf("%w: no private key", ErrBadKey)
	}
	if err := checkKey(&priv.PublicKey); err != nil {
		return nil, err
	}
	if len(priv.Primes) != 2 || priv.D == nil {
		return nil, fmt.Errorf("%w: not a two-prime RSA private key", ErrBadKey)
	}
	if size := (priv.N.BitLen() + 7) / 8; len(blinded) != size {
		return nil, fmt.Errorf("a blinded message for this key has %d bytes, not %d", size, len(blinded))
	}
	if new(big.Int).SetBytes(blinded).Cmp(priv.N) >= 0 {
		return nil, errors.New("the blinded message is not below the key's modulus")
	}
	sig, err := blindrsa.NewSigner(priv).BlindSign(blinded)
	if err != nil {
		return nil, fmt.Errorf("couldn't sign the blinded message: %w", err)
	}
	return sig, nil
}

var cryptoRand = rand.Reader
