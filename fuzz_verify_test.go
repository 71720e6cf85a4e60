package govlog

import (
	"bytes"
	"testing"
)

// FuzzPolicyVerify: a checkpoint with arbitrary extra signature lines
// (many of them, repeated, damaged, by strangers) never panics Verify, and
// never verifies with fewer real cosignatures than the quorum.
func FuzzPolicyVerify(f *testing.F) {
	fx := newPolicyFixture(f)
	p, err := ParsePolicy([]byte(fx.expand("log {log}\nwitness X1 {X1}\nwitness X2 {X2}\nwitness Y1 {Y1}\ngroup X 2 X1 X2\nquorum X\n")))
	if err != nil {
		f.Fatal(err)
	}
	good := fx.cosigned(f, "X1", "X2")
	one := fx.cosigned(f, "X1")
	f.Add(good[bytes.LastIndex(good, []byte("\n\n"))+2:])
	f.Add([]byte("— witness.example/x2 AAAAAAAA\n"))
	f.Add(bytes.Repeat([]byte("— witness.example/x1 AAAA\n"), 50))
	f.Fuzz(func(t *testing.T, lines []byte) {
		// X1's real cosignature, then whatever lines.
		signed := append(append([]byte{}, one...), lines...)
		_, names, err := p.Verify(signed)
		if err != nil {
			return
		}
		// The quorum needs X2 beside X1: only a line by X2's key can
		// give it (a forged one must have been refused above).
		if !bytes.Contains(lines, []byte("— witness.example/x2 ")) {
			t.Fatalf("verified with cosigners %v from lines %q, with no line by X2", names, lines)
		}
	})
}

// FuzzNewCosignatureVerifier: any string is a cosignature/v1 verifier key
// or refused, never a panic; an accepted key's name and ID are those it
// spells, and it verifies nothing of a fixed text signed by nobody.
func FuzzNewCosignatureVerifier(f *testing.F) {
	_, vkey, err := GenerateCosignerKey(nil, "witness.example/w1")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(vkey)
	f.Add("witness.example/w1+00000000+BA==")
	f.Add("a+b+c")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := NewCosignatureVerifier(s)
		if err != nil {
			return
		}
		name, _, _ := bytes.Cut([]byte(s), []byte("+"))
		if v.Name() != string(name) {
			t.Fatalf("verifier of %q is named %q", s, v.Name())
		}
		if v.Verify([]byte("text\n"), make([]byte, 72)) {
			t.Fatalf("verifier of %q accepted a zero signature", s)
		}
	})
}
