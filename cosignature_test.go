package govlog

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

func TestCosignatureKeys(t *testing.T) {
	skey, vkey, err := GenerateCosignerKey(bytes.NewReader(bytes.Repeat([]byte{7}, 32)), "witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(skey, "PRIVATE+KEY+witness.example/w1+") || !strings.HasPrefix(vkey, "witness.example/w1+") {
		t.Fatalf("keys %q, %q", skey, vkey)
	}
	s, err := NewCosigner(skey, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewCosignatureVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != v.Name() || s.KeyHash() != v.KeyHash() {
		t.Errorf("signer %s+%08x, verifier %s+%08x", s.Name(), s.KeyHash(), v.Name(), v.KeyHash())
	}

	// A note key is not a cosigner key, nor the other way round.
	noteSkey, noteVkey := testKeys("witness.example/w1", 7)
	if _, err := NewCosigner(noteSkey, nil); err == nil {
		t.Error("NewCosigner accepted an Ed25519 note key")
	}
	if _, err := NewCosignatureVerifier(noteVkey); err == nil {
		t.Error("NewCosignatureVerifier accepted an Ed25519 note vkey")
	}
	if _, err := note.NewVerifier(vkey); err == nil {
		t.Error("note.NewVerifier accepted a cosignature vkey")
	}
	for _, bad := range []string{"", "w+00000000+", "w+0000000+BA==", "a b+00000000+BA==", strings.Replace(vkey, "+", "+0", 1)} {
		if _, err := NewCosignatureVerifier(bad); err == nil {
			t.Errorf("NewCosignatureVerifier(%q) succeeded", bad)
		}
	}
	wrongID := vkey[:len("witness.example/w1+")] + "00000000" + vkey[len("witness.example/w1+00000000"):]
	if _, err := NewCosignatureVerifier(wrongID); err == nil {
		t.Error("NewCosignatureVerifier accepted a wrong key ID")
	}
	if _, _, err := GenerateCosignerKey(nil, "bad name"); err == nil {
		t.Error("GenerateCosignerKey accepted an invalid name")
	}
}

func TestCosigner(t *testing.T) {
	logKey, logV := testSigner(t, logOrigin, 10)
	w, wvkey := testWitness(t, "witness.example/w1", 20)
	wv, err := NewCosignatureVerifier(wvkey)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := SignCheckpoint(testCheckpoint(), logKey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(cosign(t, signed, w), note.VerifierList(logV, wv))
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Sigs) != 2 {
		t.Fatalf("%d verified signatures, want 2", len(n.Sigs))
	}
	got, err := CosignatureTime(n.Sigs[1])
	if err != nil || !got.Equal(fixedTime()) {
		t.Errorf("CosignatureTime() = %v, %v; want %v", got, err, fixedTime())
	}
	if _, err := CosignatureTime(n.Sigs[0]); err == nil {
		t.Error("CosignatureTime accepted a plain Ed25519 signature")
	}

	// The cosigner refuses to sign anything but a checkpoint.
	if _, err := w.Sign([]byte("hello\n")); err == nil {
		t.Error("cosigner signed a non-checkpoint")
	}
	// Times before the epoch can't be encoded.
	skey, _, _ := GenerateCosignerKey(bytes.NewReader(bytes.Repeat([]byte{20}, 32)), "witness.example/w1")
	early, _ := NewCosigner(skey, func() time.Time { return time.Unix(-1, 0) })
	if _, err := early.Sign(testCheckpoint().Text()); err == nil {
		t.Error("cosigner signed with a negative time")
	}
}

func TestCosignatureVerify(t *testing.T) {
	w, wvkey := testWitness(t, "witness.example/w1", 20)
	wv, _ := NewCosignatureVerifier(wvkey)
	msg := testCheckpoint().Text()
	sig, err := w.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !wv.Verify(msg, sig) {
		t.Fatal("valid cosignature doesn't verify")
	}
	if wv.Verify(append(bytes.Clone(msg), "ext\n"...), sig) {
		t.Error("cosignature verified over another message")
	}
	later := bytes.Clone(sig)
	binary.BigEndian.PutUint64(later, uint64(fixedTime().Unix()+1))
	if wv.Verify(msg, later) {
		t.Error("cosignature verified with another timestamp")
	}
	huge := bytes.Clone(sig)
	huge[0] |= 0x80
	if wv.Verify(msg, huge) {
		t.Error("cosignature verified with a timestamp over 2^63-1")
	}
	if wv.Verify(msg, sig[:len(sig)-1]) {
		t.Error("short cosignature verified")
	}
}

// TestCosignatureInterop checks both directions against the independent
// implementation in github.com/transparency-dev/formats/note.
func TestCosignatureInterop(t *testing.T) {
	skey, vkey, err := GenerateCosignerKey(bytes.NewReader(bytes.Repeat([]byte{9}, 32)), "witness.example/w9")
	if err != nil {
		t.Fatal(err)
	}
	ours, err := NewCosigner(skey, fixedTime)
	if err != nil {
		t.Fatal(err)
	}
	oursV, err := NewCosignatureVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatalf("formats rejects our skey: %v", err)
	}
	theirsV, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatalf("formats rejects our vkey: %v", err)
	}
	if theirs.KeyHash() != ours.KeyHash() || theirsV.KeyHash() != oursV.KeyHash() {
		t.Fatalf("key IDs differ: ours %08x, theirs %08x", ours.KeyHash(), theirs.KeyHash())
	}

	logKey, _ := testSigner(t, logOrigin, 10)
	signed, err := SignCheckpoint(testCheckpoint(), logKey)
	if err != nil {
		t.Fatal(err)
	}

	// Ours signs, theirs verifies.
	n, err := note.Open(cosign(t, signed, ours), note.VerifierList(theirsV))
	if err != nil {
		t.Fatalf("formats doesn't verify our cosignature: %v", err)
	}
	if ts, err := fnote.CoSigV1Timestamp(n.Sigs[0]); err != nil || !ts.Equal(fixedTime()) {
		t.Errorf("formats reads our timestamp as %v, %v", ts, err)
	}

	// Theirs signs, ours verifies.
	n, err = note.Open(cosign(t, signed, theirs), note.VerifierList(oursV))
	if err != nil {
		t.Fatalf("we don't verify formats' cosignature: %v", err)
	}
	ts, err := CosignatureTime(n.Sigs[0])
	if err != nil || time.Since(ts) > time.Hour {
		t.Errorf("CosignatureTime(formats' cosignature) = %v, %v", ts, err)
	}

	// The C2SP example's encoding: 4-byte key ID, 8-byte time, 64-byte signature.
	raw, _ := base64.StdEncoding.DecodeString(n.Sigs[0].Base64)
	if len(raw) != 76 {
		t.Errorf("cosignature is %d bytes, want 76", len(raw))
	}
}
