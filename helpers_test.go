package govlog

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// testKeys returns a deterministic Ed25519 note key pair named name, derived
// from a seed of 32 copies of seed.
func testKeys(name string, seed byte) (skey, vkey string) {
	s := bytes.Repeat([]byte{seed}, ed25519.SeedSize)
	pub := ed25519.NewKeyFromSeed(s).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		panic(err)
	}
	id := strings.Split(vkey, "+")[1]
	skey = fmt.Sprintf("PRIVATE+KEY+%s+%s+%s", name, id, base64.StdEncoding.EncodeToString(append([]byte{1}, s...)))
	return skey, vkey
}

// testSigner returns a deterministic note signer and verifier named name.
func testSigner(t testing.TB, name string, seed byte) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey := testKeys(name, seed)
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// fixedTime is the clock of test cosigners.
func fixedTime() time.Time { return time.Unix(1767225600, 0) }

// testWitness returns a deterministic cosigner and its vkey.
func testWitness(t testing.TB, name string, seed byte) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := GenerateCosignerKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 32)), name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewCosigner(skey, fixedTime)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

// cosign appends cosignatures by signers to a signed note.
func cosign(t testing.TB, signed []byte, signers ...note.Signer) []byte {
	t.Helper()
	n, err := note.Open(signed, note.VerifierList())
	un, ok := err.(*note.UnverifiedNoteError)
	if !ok {
		t.Fatalf("note.Open: %v", err)
	}
	n = un.Note
	// Keep existing signatures first, in their order.
	n.Sigs, n.UnverifiedSigs = n.UnverifiedSigs, nil
	out, err := note.Sign(n, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
