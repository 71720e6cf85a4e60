package edverify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"testing"

	"filippo.io/edwards25519"
	"golang.org/x/mod/sumdb/note"
)

// withTable returns the key pub with a table of m multiples of its own,
// as after enough checks, but outside the shared cache, which fills up.
func withTable(t testing.TB, pub []byte, m int) *PublicKey {
	t.Helper()
	k, err := NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if k.valid {
		k.tab.Store(newTable(&k.a, m))
		k.uses.Store(1 << 30) // past every tier: never built anew
	}
	return k
}

// groupOrder is l, the order of the base point.
var groupOrder, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

func reverse(b []byte) []byte {
	r := make([]byte, len(b))
	for i := range b {
		r[len(b)-1-i] = b[i]
	}
	return r
}

// TestRadix: the signed digits of scalars sum back to them, each within
// its table's bounds.
func TestRadix(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	for i := range 2000 {
		var b [64]byte
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		s, _ := new(edwards25519.Scalar).SetUniformBytes(b[:])
		switch i {
		case 0:
			s = edwards25519.NewScalar() // zero
		case 1:
			s.Subtract(edwards25519.NewScalar(), scalarOne()) // l - 1
		}
		want := new(big.Int).SetBytes(reverse(s.Bytes()))
		d16 := radix16(s.Bytes())
		var digits16 []int64
		for _, d := range d16 {
			digits16 = append(digits16, int64(d))
		}
		d256 := radix256(s.Bytes())
		var digits256 []int64
		for _, d := range d256 {
			digits256 = append(digits256, int64(d))
		}
		for _, c := range []struct {
			digits []int64
			bits   uint
			bound  int64
		}{{digits16, 4, 8}, {digits256, 8, 128}} {
			sum := new(big.Int)
			for k := len(c.digits) - 1; k >= 0; k-- {
				if c.digits[k] < -c.bound || c.digits[k] > c.bound {
					t.Fatalf("radix 2^%d: digit %d of %x is %d", c.bits, k, want, c.digits[k])
				}
				sum.Lsh(sum, c.bits)
				sum.Add(sum, big.NewInt(c.digits[k]))
			}
			if sum.Cmp(want) != 0 {
				t.Fatalf("radix 2^%d: digits of %x sum to %x", c.bits, want, sum)
			}
		}
	}
}

func scalarOne() *edwards25519.Scalar {
	one := make([]byte, 32)
	one[0] = 1
	s, _ := edwards25519.NewScalar().SetCanonicalBytes(one)
	return s
}

// torsion returns the points of small order: their encodings are those
// of the eight points of the subgroup of order 8.
func torsion(t testing.TB) []*edwards25519.Point {
	t.Helper()
	var pts []*edwards25519.Point
	for _, h := range []string{
		"0100000000000000000000000000000000000000000000000000000000000000", // identity
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
		"0000000000000000000000000000000000000000000000000000000000000080", // order 4
		"0000000000000000000000000000000000000000000000000000000000000000", // order 4
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	} {
		b, _ := hex.DecodeString(h)
		p, err := new(edwards25519.Point).SetBytes(b)
		if err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) != 1 {
			t.Fatalf("%s is not of small order", h)
		}
		pts = append(pts, p)
	}
	return pts
}

// TestDoubleBaseMult: the tabled [b]B - [a]A against edwards25519's, for
// points of every order and scalars of every kind.
func TestDoubleBaseMult(t *testing.T) {
	r := mrand.New(mrand.NewPCG(3, 4))
	randScalar := func() *edwards25519.Scalar {
		var b [64]byte
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		s, _ := new(edwards25519.Scalar).SetUniformBytes(b[:])
		return s
	}
	points := torsion(t)
	for range 6 {
		p := new(edwards25519.Point).ScalarBaseMult(randScalar())
		points = append(points, p, new(edwards25519.Point).Add(p, points[4]), new(edwards25519.Point).Add(p, points[1]))
	}
	scalars := []*edwards25519.Scalar{edwards25519.NewScalar(), scalarOne(), new(edwards25519.Scalar).Negate(scalarOne())}
	for range 20 {
		scalars = append(scalars, randScalar())
	}
	for pi, p := range points {
		for _, m := range []int{8, 128} {
			if m == 128 && pi%2 == 1 {
				continue // the large tables take a millisecond each
			}
			ta := newTable(p, m)
			for ai, a := range scalars {
				for bi, b := range scalars {
					if bi%3 != ai%3 && bi > 4 {
						continue
					}
					var got [32]byte
					doubleBaseMult(&got, ta, a.Bytes(), baseTable(), b.Bytes())
					minusP := new(edwards25519.Point).Negate(p)
					want := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(a, minusP, b).Bytes()
					if !bytes.Equal(got[:], want) {
						t.Fatalf("point %d, table of %d, scalars %d and %d: got %x, want %x", pi, m, ai, bi, got, want)
					}
				}
			}
		}
	}
}

// sign signs msg as Ed25519 does, with the secret scalar of seed, for the
// public point pub (which may differ from the seed's: a key with a small
// order component), returning the signature.
func sign(seed, pub, msg []byte, nonce byte) []byte {
	h := sha512.Sum512(seed)
	a, _ := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	rh := sha512.Sum512(append(append([]byte{nonce}, h[32:]...), msg...))
	rs, _ := edwards25519.NewScalar().SetUniformBytes(rh[:])
	R := new(edwards25519.Point).ScalarBaseMult(rs).Bytes()
	kh := sha512.New()
	kh.Write(R)
	kh.Write(pub)
	kh.Write(msg)
	k, _ := edwards25519.NewScalar().SetUniformBytes(kh.Sum(nil))
	s := edwards25519.NewScalar().MultiplyAdd(k, a, rs)
	return append(R, s.Bytes()...)
}

// addL returns the little-endian 32 bytes of s + l, a non-canonical S.
func addL(s []byte) []byte {
	n := new(big.Int).SetBytes(reverse(s))
	n.Add(n, groupOrder)
	b := n.FillBytes(make([]byte, 32))
	return reverse(b)
}

// TestVerifyAsStdlib: Verify answers as ed25519.Verify does, on valid
// signatures and on every kind of bad one: keys and R of small or mixed
// order, non-canonical encodings, S out of range, flipped bits.
func TestVerifyAsStdlib(t *testing.T) {
	type check struct {
		name          string
		pub, msg, sig []byte
	}
	var checks []check
	tors := torsion(t)
	for i := range 8 {
		seed := make([]byte, 32)
		seed[0] = byte(i)
		pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
		A, _ := new(edwards25519.Point).SetBytes(pub)
		// Keys with a small-order part: the cofactorless equation holds
		// for them only when [k]T vanishes, about one message in 8.
		mixed := [][]byte{pub}
		for _, T := range tors[1:] {
			mixed = append(mixed, new(edwards25519.Point).Add(A, T).Bytes())
		}
		for mi, key := range mixed {
			for j := range 24 {
				msg := fmt.Appendf(nil, "statement %d of key %d/%d", j, i, mi)
				sig := sign(seed, key, msg, byte(j))
				checks = append(checks, check{fmt.Sprintf("key %d/%d msg %d", i, mi, j), key, msg, sig})
			}
		}
		msg := []byte("a statement")
		sig := ed25519.Sign(ed25519.NewKeyFromSeed(seed), msg)
		bad := func(name string, f func(sig []byte) []byte) {
			checks = append(checks, check{fmt.Sprintf("key %d: %s", i, name), pub, msg, f(bytes.Clone(sig))})
		}
		bad("valid", func(s []byte) []byte { return s })
		bad("S + l", func(s []byte) []byte { return append(s[:32], addL(s[32:])...) })
		bad("S top bits", func(s []byte) []byte { s[63] |= 0x80; return s })
		bad("short", func(s []byte) []byte { return s[:63] })
		bad("long", func(s []byte) []byte { return append(s, 0) })
		for _, T := range tors {
			bad("R is small order", func(s []byte) []byte { return append(T.Bytes(), s[32:]...) })
		}
		for bit := 0; bit < 512; bit += 7 {
			bad(fmt.Sprintf("bit %d flipped", bit), func(s []byte) []byte { s[bit/8] ^= 1 << (bit % 8); return s })
		}
		checks = append(checks, check{fmt.Sprintf("key %d: other message", i), pub, []byte("another statement"), sig})
	}
	// Keys of small order and non-canonical encodings: y = p + small, and
	// x = 0 with the sign bit set.
	for _, T := range tors {
		for j := range 4 {
			msg := fmt.Appendf(nil, "m%d", j)
			sig := append(T.Bytes(), make([]byte, 32)...)
			checks = append(checks, check{"small-order key", T.Bytes(), msg, sig})
		}
	}
	for _, h := range []string{
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p: 0, non-canonical
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p+1: the identity
		"0100000000000000000000000000000000000000000000000000000000000080", // identity, x = 0 with sign set
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // order 2, sign set
		"0200000000000000000000000000000000000000000000000000000000000000", // not a point
	} {
		key, _ := hex.DecodeString(h)
		for j := range 4 {
			msg := fmt.Appendf(nil, "m%d", j)
			for _, R := range [][]byte{key, tors[0].Bytes()} {
				checks = append(checks, check{"non-canonical key " + h[:8], key, msg, append(bytes.Clone(R), make([]byte, 32)...)})
			}
		}
	}
	accepted := 0
	keys := map[string][]*PublicKey{}
	for _, c := range checks {
		want := ed25519.Verify(c.pub, c.msg, c.sig)
		ks := keys[string(c.pub)]
		if ks == nil {
			ks = []*PublicKey{withTable(t, c.pub, 8), withTable(t, c.pub, 128)}
			keys[string(c.pub)] = ks
		}
		for _, k := range ks {
			if got := k.Verify(c.msg, c.sig); got != want {
				t.Errorf("%s, table of %d: Verify = %v, ed25519.Verify = %v", c.name, k.tab.Load().m, got, want)
			}
		}
		if want {
			accepted++
		}
	}
	// The checks must include both answers, and mixed-order keys accepted
	// only sometimes.
	if accepted == 0 || accepted == len(checks) {
		t.Fatalf("%d of %d checks accepted", accepted, len(checks))
	}
	t.Logf("%d checks, %d accepted", len(checks), accepted)
}

// TestTableTiers: the first checks of a key go to crypto/ed25519, the
// fourth builds the small table, the 1024th the large one, and a key made
// anew finds the largest.
func TestTableTiers(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	k, _ := NewPublicKey(pub)
	msg := []byte("m")
	sig := ed25519.Sign(priv, msg)
	for i := 1; i <= tiers[1].after+1; i++ {
		if !k.Verify(msg, sig) {
			t.Fatalf("check %d failed", i)
		}
		want := 0
		for _, tier := range tiers {
			if i >= tier.after {
				want = tier.m
			}
		}
		got := 0
		if tab := k.tab.Load(); tab != nil {
			got = tab.m
		}
		if got != want {
			t.Fatalf("after check %d: a table of %d multiples, want %d", i, got, want)
		}
	}
	k2, _ := NewPublicKey(pub)
	if k2.tab.Load() != k.tab.Load() {
		t.Fatal("a key made anew did not find its table")
	}
	// A check that built the small table late does not undo the large one.
	large := k.tab.Load()
	if got := k.upgrade(newTable(&k.a, 8)); got != large || k.tab.Load() != large {
		t.Fatal("a small table replaced the large one")
	}
	if _, err := NewPublicKey(pub[:31]); err == nil {
		t.Fatal("NewPublicKey took 31 bytes")
	}
}

func TestNewVerifier(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "agency")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	want, _ := note.NewVerifier(vkey)
	v, err := NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if v.Name() != want.Name() || v.KeyHash() != want.KeyHash() {
		t.Fatalf("name %s hash %x, want %s %x", v.Name(), v.KeyHash(), want.Name(), want.KeyHash())
	}
	for i := range 10 {
		text := fmt.Sprintf("statement %d\n", i)
		msg, err := note.Sign(&note.Note{Text: text}, signer)
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open(msg, note.VerifierList(v))
		if err != nil || n.Text != text {
			t.Fatalf("open %d: %v", i, err)
		}
		tampered := bytes.Replace(msg, []byte("statement"), []byte("Statement"), 1)
		if _, err := note.Open(tampered, note.VerifierList(v)); err == nil {
			t.Fatalf("a tampered note %d opened", i)
		}
	}
	for _, bad := range []string{"", "agency", vkey + "x", "agency+00000000+AQ=="} {
		if _, err := NewVerifier(bad); err == nil {
			t.Errorf("NewVerifier(%q) succeeded", bad)
		}
	}
}

// FuzzVerify: on any key, message and signature, Verify with a table
// answers as ed25519.Verify.
func FuzzVerify(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	f.Add([]byte(pub), []byte("m"), ed25519.Sign(priv, []byte("m")))
	f.Add(torsion(f)[4].Bytes(), []byte("m"), make([]byte, 64))
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		if len(pub) != ed25519.PublicKeySize {
			return
		}
		want := ed25519.Verify(pub, msg, sig)
		m := 8
		if len(msg)%2 == 1 {
			m = 128
		}
		if got := withTable(t, pub, m).Verify(msg, sig); got != want {
			t.Fatalf("Verify(%x, %x, %x), table of %d: %v, ed25519.Verify = %v", pub, msg, sig, m, got, want)
		}
	})
}

// BenchmarkVerify checks 1,000 signatures of a key in turn, as a log's
// entries come: each with its own scalars, so its own table entries.
func BenchmarkVerify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	var msgs, sigs [][]byte
	for i := range 1000 {
		msg := fmt.Appendf(nil, "statement %d of about three hundred bytes %s", i, bytes.Repeat([]byte("x"), 260))
		msgs = append(msgs, msg)
		sigs = append(sigs, ed25519.Sign(priv, msg))
	}
	b.Run("crypto/ed25519", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if !ed25519.Verify(pub, msgs[i%1000], sigs[i%1000]) {
				b.Fatal("invalid")
			}
			i++
		}
	})
	for _, m := range []int{8, 128} {
		b.Run(fmt.Sprintf("edverify-table-%d", m), func(b *testing.B) {
			k := withTable(b, pub, m)
			i := 0
			for b.Loop() {
				if !k.Verify(msgs[i%1000], sigs[i%1000]) {
					b.Fatal("invalid")
				}
				i++
			}
		})
	}
	b.Run("build-table-8", func(b *testing.B) {
		a, _ := new(edwards25519.Point).SetBytes(pub)
		for b.Loop() {
			newTable(a, 8)
		}
	})
	b.Run("build-table-128", func(b *testing.B) {
		a, _ := new(edwards25519.Point).SetBytes(pub)
		for b.Loop() {
			newTable(a, 128)
		}
	})
}
