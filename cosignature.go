package govlog

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// cosignatureV1Type is the signature type byte of Ed25519 cosignature/v1
// keys, from the signed-note registry.
const cosignatureV1Type = 0x04

// ed25519Type is the signature type byte of plain Ed25519 note keys.
const ed25519Type = 0x01

// cosignatureSize is the size of a timestamped_signature: a u64 timestamp
// and an Ed25519 signature.
const cosignatureSize = 8 + ed25519.SignatureSize

// keyID computes a note key ID from a key name and the type-prefixed key.
func keyID(name string, typedKey []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n'})
	h.Write(typedKey)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// GenerateCosignerKey returns a signer key and a verifier key for the
// Ed25519 cosignature/v1 witness named name, reading the seed from rand
// (crypto/rand if nil). The skey is encoded like a note signer key:
//
//	PRIVATE+KEY+<name>+<hex key ID>+base64(0x04 || 32-byte seed)
func GenerateCosignerKey(rand io.Reader, name string) (skey, vkey string, err error) {
	if !validKeyName(name) {
		return "", "", fmt.Errorf("invalid key name %q", name)
	}
	if rand == nil {
		rand = cryptoRand
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(rand, seed); err != nil {
		return "", "", fmt.Errorf("couldn't read seed: %w", err)
	}
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	typedPub := append([]byte{cosignatureV1Type}, pub...)
	id := keyID(name, typedPub)
	skey = fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, id, base64.StdEncoding.EncodeToString(append([]byte{cosignatureV1Type}, seed...)))
	vkey = fmt.Sprintf("%s+%08x+%s", name, id, base64.StdEncoding.EncodeToString(typedPub))
	return skey, vkey, nil
}

var cryptoRand = rand.Reader

// cosigner signs checkpoints with a cosignature/v1 key.
type cosigner struct {
	name string
	id   uint32
	key  ed25519.PrivateKey
	now  func() time.Time
}

var _ note.Signer = (*cosigner)(nil)

// NewCosigner returns a note signer for an skey from [GenerateCosignerKey].
// Its Sign takes a checkpoint's note text and returns the
// timestamped_signature, stamped with now (time.Now if nil), so a witness
// signs with note.Sign like any other key.
func NewCosigner(skey string, now func() time.Time) (note.Signer, error) {
	rest, ok := strings.CutPrefix(skey, "PRIVATE+KEY+")
	if !ok {
		return nil, errors.New("malformed cosigner key")
	}
	name, id, key, err := splitKey(rest)
	if err != nil {
		return nil, fmt.Errorf("malformed cosigner key: %w", err)
	}
	if len(key) != 1+ed25519.SeedSize || key[0] != cosignatureV1Type {
		return nil, errors.New("not an Ed25519 cosignature/v1 signer key")
	}
	priv := ed25519.NewKeyFromSeed(key[1:])
	if keyID(name, append([]byte{cosignatureV1Type}, priv.Public().(ed25519.PublicKey)...)) != id {
		return nil, errors.New("cosigner key ID doesn't match the key")
	}
	if now == nil {
		now = time.Now
	}
	return &cosigner{name: name, id: id, key: priv, now: now}, nil
}

func (s *cosigner) Name() string    { return s.name }
func (s *cosigner) KeyHash() uint32 { return s.id }

// Sign returns timestamp || Ed25519 signature over the cosigned message.
// It signs only checkpoints: a witness has no business signing anything else.
func (s *cosigner) Sign(msg []byte) ([]byte, error) {
	if _, err := ParseCheckpoint(msg); err != nil {
		return nil, fmt.Errorf("refusing to cosign: %w", err)
	}
	t := s.now().Unix()
	if t < 0 {
		return nil, fmt.Errorf("cosignature time %d is before the epoch", t)
	}
	sig := make([]byte, 0, cosignatureSize)
	sig = binary.BigEndian.AppendUint64(sig, uint64(t))
	return append(sig, ed25519.Sign(s.key, cosignedMessage(uint64(t), msg))...), nil
}

// cosignedMessage is the message an Ed25519 cosignature/v1 signs.
func cosignedMessage(t uint64, checkpoint []byte) []byte {
	// SPEC: tlog-cosignature: the signed message MUST be the header line
	// "cosignature/v1", the line "time <decimal, no leading zeroes>", then
	// the whole note body of the checkpoint.
	m := make([]byte, 0, 64+len(checkpoint))
	m = append(m, "cosignature/v1\ntime "...)
	m = strconv.AppendUint(m, t, 10)
	m = append(m, '\n')
	return append(m, checkpoint...)
}

// cosignatureVerifier verifies Ed25519 cosignature/v1 signatures.
type cosignatureVerifier struct {
	name string
	id   uint32
	key  ed25519.PublicKey
}

var _ note.Verifier = (*cosignatureVerifier)(nil)

// NewCosignatureVerifier returns a note verifier for an Ed25519
// cosignature/v1 vkey (signature type 0x04).
func NewCosignatureVerifier(vkey string) (note.Verifier, error) {
	name, id, key, err := splitKey(vkey)
	if err != nil {
		return nil, fmt.Errorf("malformed cosigner vkey: %w", err)
	}
	if len(key) != 1+ed25519.PublicKeySize || key[0] != cosignatureV1Type {
		return nil, errors.New("not an Ed25519 cosignature/v1 vkey")
	}
	// SPEC: tlog-cosignature: the key ID MUST be
	// SHA-256(<name> || "\n" || 0x04 || public key)[:4].
	if keyID(name, key) != id {
		return nil, errors.New("cosigner vkey ID doesn't match the key")
	}
	return &cosignatureVerifier{name: name, id: id, key: ed25519.PublicKey(key[1:])}, nil
}

func (v *cosignatureVerifier) Name() string    { return v.name }
func (v *cosignatureVerifier) KeyHash() uint32 { return v.id }

func (v *cosignatureVerifier) Verify(msg, sig []byte) bool {
	// SPEC: tlog-cosignature: the signature MUST be a timestamped_signature.
	if len(sig) != cosignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	// SPEC: tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1.
	if t > math.MaxInt64 {
		return false
	}
	return ed25519.Verify(v.key, cosignedMessage(t, msg), sig[8:])
}

// CosignatureTime returns the timestamp of a cosignature/v1 signature line,
// which the caller has verified (for example one of note.Note.Sigs).
func CosignatureTime(sig note.Signature) (time.Time, error) {
	raw, err := decodeBase64(sig.Base64)
	if err != nil || len(raw) != 4+cosignatureSize {
		return time.Time{}, errors.New("not an Ed25519 cosignature/v1 signature")
	}
	t := binary.BigEndian.Uint64(raw[4:])
	if t > math.MaxInt64 {
		return time.Time{}, errors.New("cosignature timestamp exceeds 2^63-1")
	}
	return time.Unix(int64(t), 0).UTC(), nil
}

// splitKey parses "<name>+<hex key ID>+<base64 key>", the shape shared by
// vkeys and (after "PRIVATE+KEY+") signer keys. key keeps its type byte.
func splitKey(s string) (name string, id uint32, key []byte, err error) {
	name, rest, _ := strings.Cut(s, "+")
	hex, b64, _ := strings.Cut(rest, "+")
	if !validKeyName(name) {
		return "", 0, nil, errors.New("invalid key name")
	}
	n, err := strconv.ParseUint(hex, 16, 32)
	if len(hex) != 8 || err != nil {
		return "", 0, nil, errors.New("invalid key ID")
	}
	key, err = base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) == 0 {
		return "", 0, nil, errors.New("invalid key encoding")
	}
	return name, uint32(n), key, nil
}

// approxDuration spells d, rounded down to the second, in its largest unit
// and the next smaller one that is not zero, for error messages: "3 hours",
// "2 days 5 hours", "2 days 1 second", "10 minutes 30 seconds", "0 seconds".
func approxDuration(d time.Duration) string {
	if d < 0 {
		d = -max(d, -math.MaxInt64)
	}
	units := []struct {
		name string
		size time.Duration
	}{{"day", 24 * time.Hour}, {"hour", time.Hour}, {"minute", time.Minute}, {"second", time.Second}}
	spell := func(n time.Duration, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	for i, u := range units {
		n := d / u.size
		if n == 0 && i < len(units)-1 {
			continue
		}
		s := spell(n, u.name)
		rest := d % u.size
		for _, next := range units[i+1:] {
			if m := rest / next.size; m > 0 {
				return s + " " + spell(m, next.name)
			}
		}
		return s
	}
	panic("unreachable")
}
