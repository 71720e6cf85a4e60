package blindtoken_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog/personalities/rule/blindtoken"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

// issuerKey returns a 2048-bit key shared by the tests (generation is slow).
func issuerKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

func voterKey(t testing.TB) string {
	t.Helper()
	_, vkey, err := note.GenerateKey(rand.Reader, blindtoken.KeyName)
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}

// issue runs the protocol and returns the token.
func issue(t testing.TB, priv *rsa.PrivateKey, election, vkey string) blindtoken.Token {
	t.Helper()
	blinded, req, err := blindtoken.Blind(&priv.PublicKey, election, vkey, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := blindtoken.BlindSign(priv, blinded)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := req.Finalize(sig)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRoundTrip(t *testing.T) {
	priv := issuerKey(t)
	vkey := voterKey(t)
	tok := issue(t, priv, "2026-city-referendum", vkey)
	if tok.Key != vkey {
		t.Errorf("token key %q, want %q", tok.Key, vkey)
	}
	if len(tok.Prefix) != 64 || strings.ToLower(tok.Prefix) != tok.Prefix {
		t.Errorf("prefix %q is not 32 bytes of lowercase hex", tok.Prefix)
	}
	if err := blindtoken.Verify(&priv.PublicKey, "2026-city-referendum", tok); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// Through the election body's encoding of the key.
	b64, err := blindtoken.EncodeIssuerKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := blindtoken.ParseIssuerKey(b64)
	if err != nil {
		t.Fatalf("ParseIssuerKey: %v", err)
	}
	if err := blindtoken.Verify(pub, "2026-city-referendum", tok); err != nil {
		t.Fatalf("Verify with the parsed key: %v", err)
	}
	// Two tokens of one key differ (random prefix and salt) and both verify.
	tok2 := issue(t, priv, "2026-city-referendum", vkey)
	if tok2.Prefix == tok.Prefix || tok2.Signature == tok.Signature {
		t.Error("two tokens share a prefix or signature")
	}
}

func TestMessage(t *testing.T) {
	got := string(blindtoken.Message("E1", "voter+01020304+AAAA"))
	if want := "govlog/votes/token/v1\nE1\nvoter+01020304+AAAA"; got != want {
		t.Errorf("Message = %q, want %q", got, want)
	}
}

func TestWrongElectionOrKey(t *testing.T) {
	priv := issuerKey(t)
	tok := issue(t, priv, "E1", voterKey(t))

	if err := blindtoken.Verify(&priv.PublicKey, "E2", tok); !errors.Is(err, blindtoken.ErrBadToken) {
		t.Errorf("token of E1 verified for E2: %v", err)
	}
	other := tok
	other.Key = voterKey(t)
	if err := blindtoken.Verify(&priv.PublicKey, "E1", other); !errors.Is(err, blindtoken.ErrBadToken) {
		t.Errorf("token verified with another one-time key: %v", err)
	}
	otherIssuer, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if err := blindtoken.Verify(&otherIssuer.PublicKey, "E1", tok); !errors.Is(err, blindtoken.ErrBadToken) {
		t.Errorf("token verified with another issuer's key: %v", err)
	}
}

func TestAlteredToken(t *testing.T) {
	priv := issuerKey(t)
	tok := issue(t, priv, "E1", voterKey(t))
	pub := &priv.PublicKey

	sig, _ := base64.StdEncoding.DecodeString(tok.Signature)
	prefix, _ := hex.DecodeString(tok.Prefix)
	for _, i := range []int{0, 100, len(sig) - 1} {
		bad := tok
		s := append([]byte(nil), sig...)
		s[i] ^= 1
		bad.Signature = base64.StdEncoding.EncodeToString(s)
		if err := blindtoken.Verify(pub, "E1", bad); !errors.Is(err, blindtoken.ErrBadToken) {
			t.Errorf("signature with byte %d flipped verified: %v", i, err)
		}
	}
	for _, i := range []int{0, 31} {
		bad := tok
		p := append([]byte(nil), prefix...)
		p[i] ^= 0x80
		bad.Prefix = hex.EncodeToString(p)
		if err := blindtoken.Verify(pub, "E1", bad); !errors.Is(err, blindtoken.ErrBadToken) {
			t.Errorf("prefix with byte %d flipped verified: %v", i, err)
		}
	}
	cases := map[string]blindtoken.Token{
		"uppercase prefix":     {Key: tok.Key, Prefix: strings.ToUpper(tok.Prefix), Signature: tok.Signature},
		"short prefix":         {Key: tok.Key, Prefix: tok.Prefix[:62], Signature: tok.Signature},
		"no prefix":            {Key: tok.Key, Signature: tok.Signature},
		"unpadded signature":   {Key: tok.Key, Prefix: tok.Prefix, Signature: strings.TrimRight(tok.Signature, "=")},
		"url base64 signature": {Key: tok.Key, Prefix: tok.Prefix, Signature: base64.URLEncoding.EncodeToString(sig)},
		"short signature":      {Key: tok.Key, Prefix: tok.Prefix, Signature: base64.StdEncoding.EncodeToString(sig[1:])},
		"no key":               {Prefix: tok.Prefix, Signature: tok.Signature},
		"garbage key":          {Key: "voter+zz", Prefix: tok.Prefix, Signature: tok.Signature},
	}
	for name, bad := range cases {
		if err := blindtoken.Verify(pub, "E1", bad); !errors.Is(err, blindtoken.ErrBadToken) {
			t.Errorf("%s: verified or wrong error: %v", name, err)
		}
	}
	if err := blindtoken.Verify(pub, "E1", tok); err != nil {
		t.Errorf("the original token no longer verifies: %v", err)
	}
}

func TestKeyNameMustBeVoter(t *testing.T) {
	priv := issuerKey(t)
	_, vkey, err := note.GenerateKey(rand.Reader, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := blindtoken.Blind(&priv.PublicKey, "E1", vkey, nil); err == nil {
		t.Error("Blind accepted a one-time key not named voter")
	}
}

func TestBadElectionID(t *testing.T) {
	priv := issuerKey(t)
	for _, id := range []string{"", "E1\nvoter+x", strings.Repeat("e", 300)} {
		if _, _, err := blindtoken.Blind(&priv.PublicKey, id, voterKey(t), nil); err == nil {
			t.Errorf("Blind accepted election ID %q", id)
		}
	}
}

func TestSmallKeyRefused(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&small.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blindtoken.ParseIssuerKey(base64.StdEncoding.EncodeToString(der)); !errors.Is(err, blindtoken.ErrBadKey) {
		t.Errorf("ParseIssuerKey accepted a 1024-bit key: %v", err)
	}
	if _, err := blindtoken.EncodeIssuerKey(&small.PublicKey); !errors.Is(err, blindtoken.ErrBadKey) {
		t.Errorf("EncodeIssuerKey accepted a 1024-bit key: %v", err)
	}
	if _, _, err := blindtoken.Blind(&small.PublicKey, "E1", voterKey(t), nil); !errors.Is(err, blindtoken.ErrBadKey) {
		t.Errorf("Blind accepted a 1024-bit key: %v", err)
	}
	if _, err := blindtoken.BlindSign(small, make([]byte, 128)); !errors.Is(err, blindtoken.ErrBadKey) {
		t.Errorf("BlindSign accepted a 1024-bit key: %v", err)
	}
	if err := blindtoken.Verify(&small.PublicKey, "E1", blindtoken.Token{}); !errors.Is(err, blindtoken.ErrBadKey) {
		t.Errorf("Verify accepted a 1024-bit key: %v", err)
	}
}

func TestParseIssuerKeyRefuses(t *testing.T) {
	priv := issuerKey(t)
	good, err := blindtoken.EncodeIssuerKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := base64.StdEncoding.DecodeString(good)
	ecKey := "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + strings.Repeat("A", 88)
	bigE := priv.PublicKey
	bigE.E = 4
	derE, _ := x509.MarshalPKIXPublicKey(&bigE)
	for name, s := range map[string]string{
		"empty":          "",
		"not base64":     "!!!",
		"extra padding":  good + "====",
		"url base64":     base64.URLEncoding.EncodeToString(der),
		"trailing bytes": base64.StdEncoding.EncodeToString(append(append([]byte(nil), der...), 0)),
		"truncated":      base64.StdEncoding.EncodeToString(der[:len(der)-1]),
		"not rsa":        ecKey,
		"even exponent":  base64.StdEncoding.EncodeToString(derE),
		"with newline":   good + "\n",
	} {
		if _, err := blindtoken.ParseIssuerKey(s); !errors.Is(err, blindtoken.ErrBadKey) {
			t.Errorf("%s: ParseIssuerKey = %v, want ErrBadKey", name, err)
		}
	}
}

func TestBlindSignRefusesBadInput(t *testing.T) {
	priv := issuerKey(t)
	if _, err := blindtoken.BlindSign(priv, make([]byte, 255)); err == nil {
		t.Error("BlindSign accepted a short message")
	}
	tooBig := make([]byte, 256)
	for i := range tooBig {
		tooBig[i] = 0xff
	}
	if _, err := blindtoken.BlindSign(priv, tooBig); err == nil {
		t.Error("BlindSign accepted a message above the modulus")
	}
}

func TestFinalizeRefusesBadBlindSignature(t *testing.T) {
	priv := issuerKey(t)
	blinded, req, err := blindtoken.Blind(&priv.PublicKey, "E1", voterKey(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := blindtoken.BlindSign(priv, blinded)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), sig...)
	bad[10] ^= 1
	if _, err := req.Finalize(bad); !errors.Is(err, blindtoken.ErrBadToken) {
		t.Errorf("Finalize accepted an altered blind signature: %v", err)
	}
	if _, err := req.Finalize(sig[1:]); !errors.Is(err, blindtoken.ErrBadToken) {
		t.Errorf("Finalize accepted a short blind signature: %v", err)
	}
	if _, err := req.Finalize(sig); err != nil {
		t.Errorf("Finalize: %v", err)
	}
}

func FuzzVerify(f *testing.F) {
	priv := issuerKey(f)
	tok := issue(f, priv, "E1", voterKey(f))
	f.Add("E1", tok.Key, tok.Prefix, tok.Signature)
	f.Add("E1", "", "", "")
	f.Add("E1\n", tok.Key, tok.Prefix[1:], tok.Signature[4:])
	f.Add("", "voter+00000000+", strings.Repeat("0", 64), strings.Repeat("A", 344))
	f.Fuzz(func(t *testing.T, election, key, prefix, sig string) {
		tk := blindtoken.Token{Key: key, Prefix: prefix, Signature: sig}
		err := blindtoken.Verify(&priv.PublicKey, election, tk)
		if err == nil && tk != tok {
			t.Fatalf("Verify accepted a token other than the one issued: %+v for %q", tk, election)
		}
		if err != nil && !errors.Is(err, blindtoken.ErrBadToken) {
			t.Fatalf("Verify error does not wrap ErrBadToken: %v", err)
		}
		_, _ = blindtoken.ParseIssuerKey(sig)
	})
}

func BenchmarkBlindSign(b *testing.B) {
	priv := issuerKey(b)
	blinded, _, err := blindtoken.Blind(&priv.PublicKey, "E1", voterKey(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		if _, err := blindtoken.BlindSign(priv, blinded); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "signatures/s")
}

func BenchmarkVerify(b *testing.B) {
	priv := issuerKey(b)
	tok := issue(b, priv, "E1", voterKey(b))
	n := 0
	for b.Loop() {
		if err := blindtoken.Verify(&priv.PublicKey, "E1", tok); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "verifications/s")
}
