// Package edverify checks Ed25519 signatures as crypto/ed25519.Verify does,
// with the same cofactorless equation [S]B = R + [k]A and the same
// encodings accepted and refused, but faster for a key that signs many
// statements: the key's point is decoded once, and from its fourth check
// on its multiples come from a table, as the base point's do. A check is
// then at most 64 point additions for the key's scalar (32 from its 1024th
// check), 32 for the base point's and four doublings (none), where
// crypto/ed25519 makes about 256 doublings and 70 additions.
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

// A key's table comes in two sizes. The small one is built at a key's
// fourth check: it costs about three checks, and a key seen once or twice
// (a voter's, say) is checked by crypto/ed25519 instead. The large one, at
// the 1024th, costs about 100 checks and saves a sixth of each (the
// tables' size costs cache misses: BenchmarkVerify). Each size is bounded;
// a key beyond the bounds keeps what it has, or is checked by
// crypto/ed25519.
var tiers = [...]struct {
	m, after, max int
}{
	{m: 8, after: 4, max: 1024},    // 30 KiB each, 30 MiB in all
	{m: 128, after: 1024, max: 64}, // 480 KiB each, 30 MiB in all
}

// tables holds the keys' largest tables by public key, so that a verifier
// made anew for a key (a registry rebuilt after each change) finds its
// table; built counts them by tier.
var tables = struct {
	sync.Mutex
	m     map[[32]byte]*table
	built [len(tiers)]int
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
	var r [32]byte
	doubleBaseMult(&r, t, kScalar.Bytes(), baseTable(), s.Bytes())
	return bytes.Equal(r[:], sig[:32])
}

// table returns k's table, built or enlarged at the checks tiers name,
// or nil.
func (k *PublicKey) table() *table {
	t := k.tab.Load()
	if !k.valid || t != nil && t.m == tiers[len(tiers)-1].m {
		return t
	}
	uses := int(k.uses.Add(1))
	for i, tier := range tiers {
		if uses == tier.after && (t == nil || t.m < tier.m) {
			if built := k.build(i); built != nil {
				t = k.upgrade(built)
			}
		}
	}
	return t
}

// upgrade makes t k's table unless another check has set a larger one
// meanwhile, and returns k's table.
func (k *PublicKey) upgrade(t *table) *table {
	for {
		cur := k.tab.Load()
		if cur != nil && cur.m >= t.m {
			return cur
		}
		if k.tab.CompareAndSwap(cur, t) {
			return t
		}
	}
}

// build returns k's table of tiers[i], or a larger one, building it
// unless the tier is full (then nil).
func (k *PublicKey) build(i int) *table {
	m := tiers[i].m
	tables.Lock()
	t, full := tables.m[k.pub], tables.built[i] >= tiers[i].max
	tables.Unlock()
	if t != nil && t.m >= m {
		return t
	}
	if full {
		return nil
	}
	built := newTable(&k.a, m)
	tables.Lock()
	defer tables.Unlock()
	if t = tables.m[k.pub]; t != nil && t.m >= m {
		return t
	}
	if tables.built[i] >= tiers[i].max {
		return nil
	}
	tables.built[i]++
	tables.m[k.pub] = built
	return built
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
