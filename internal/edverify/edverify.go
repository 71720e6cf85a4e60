// Package edverify checks Ed25519 signatures as crypto/ed25519.Verify does,
// with the same cofactorless equation [S]B = R + [k]A and the same
// encodings accepted and refused, but faster for a key that signs many
// statements: the key's point is decoded once, and from its fourth check
// on its multiples come from a table, as the base point's do. A check is
// then at most 64 point additions for the key's scalar, 32 for the base
// point's and four doublings, where crypto/ed25519 makes about 256
// doublings and 70 additions.
//
// An agency's key signs every statement the agency submits, so admission
// and the monitor, which check one signature or more per statement, spend
// much of their time here.
package edverify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"filippo.io/edwards25519"
	"golang.org/x/mod/sumdb/note"
)

const (
	// buildAfter is the check at which a key's table is built: it costs
	// about two checks, and a key seen once or twice (a voter's, say) is
	// checked by crypto/ed25519 instead.
	buildAfter = 4
	// maxTables bounds the keys' tables kept, 30 KiB each; keys beyond it are
	// checked by crypto/ed25519.
	maxTables = 1024
)

// tables holds the keys' tables by public key, so that a verifier made
// anew for a key (a registry rebuilt after each change) finds its table.
var tables = struct {
	sync.Mutex
	m map[[32]byte]*table
}{m: map[[32]byte]*table{}}

var baseTable = sync.OnceValue(func() *table { return newTable(edwards25519.NewGeneratorPoint(), 128) })

// PublicKey is an Ed25519 public key ready for many checks.
type PublicKey struct {
	pub   [32]byte
	a     edwards25519.Point
	valid bool // pub encodes a point
	uses  atomic.Uint32
	tab   atomic.Pointer[table]
}

// NewPublicKey returns the key pub, of ed25519.PublicKeySize bytes. A key
// that encodes no point is returned too: no signature verifies under it,
// as under crypto/ed25519.
func NewPublicKey(pub []byte) (*PublicKey, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("ed25519 public key of %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	k := new(PublicKey)
	copy(k.pub[:], pub)
	if _, err := k.a.SetBytes(pub); err == nil {
		k.valid = true
		tables.Lock()
		if t := tables.m[k.pub]; t != nil {
			k.tab.Store(t)
		}
		tables.Unlock()
	}
	return k, nil
}

// Verify reports whether sig is a valid signature of msg by k, exactly as
// ed25519.Verify(k, msg, sig) would.
func (k *PublicKey) Verify(msg, sig []byte) bool {
	if len(sig) != ed25519.SignatureSize || sig[63]&224 != 0 || !k.valid {
		return false
	}
	t := k.table()
	if t == nil {
		return ed25519.Verify(k.pub[:], msg, sig)
	}
	s, err := new(edwards25519.Scalar).SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(k.pub[:])
	h.Write(msg)
	var digest [sha512.Size]byte
	kScalar, err := new(edwards25519.Scalar).SetUniformBytes(h.Sum(digest[:0]))
	if err != nil {
		panic("edverify: a 64-byte digest is not a scalar: " + err.Error())
	}
	kDigits, sDigits := radix16(kScalar.Bytes()), radix256(s.Bytes())
	var r [32]byte
	doubleBaseMult(&r, t, &kDigits, baseTable(), &sDigits)
	return bytes.Equal(r[:], sig[:32])
}

// table returns k's table, built at its buildAfter-th check, or nil.
func (k *PublicKey) table() *table {
	if t := k.tab.Load(); t != nil {
		return t
	}
	if !k.valid || k.uses.Add(1) < buildAfter {
		return nil
	}
	tables.Lock()
	t, n := tables.m[k.pub], len(tables.m)
	tables.Unlock()
	if t == nil {
		if n >= maxTables {
			return nil
		}
		built := newTable(&k.a, 8)
		tables.Lock()
		if t = tables.m[k.pub]; t == nil && len(tables.m) < maxTables {
			t = built
			tables.m[k.pub] = t
		}
		tables.Unlock()
		if t == nil {
			return nil
		}
	}
	k.tab.Store(t)
	return t
}

// NewVerifier is note.NewVerifier, whose verifier checks signatures with a
// PublicKey.
func NewVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	// note.NewVerifier has checked the key: "<name>+<hash>+<base64>",
	// whose bytes are the algorithm (1, Ed25519, the only one note knows)
	// and 32 bytes of key.
	// A name holds no '+', a hash is hex, base64 may hold '+'.
	f := strings.SplitN(vkey, "+", 3)
	raw, err := base64.StdEncoding.DecodeString(f[len(f)-1])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != 1 {
		return v, nil
	}
	k, err := NewPublicKey(raw[1:])
	if err != nil {
		return v, nil
	}
	return &verifier{Verifier: v, key: k}, nil
}

type verifier struct {
	note.Verifier
	key *PublicKey
}

func (v *verifier) Verify(msg, sig []byte) bool { return v.key.Verify(msg, sig) }
