package govlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

const testOrigin = "gov.example/disclosures"

var testTime = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)

// signText signs arbitrary note text, to build statements that
// NewStatement would refuse to make.
func signText(t testing.TB, text string, signers ...note.Signer) []byte {
	t.Helper()
	signed, err := note.Sign(&note.Note{Text: text}, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestNewStatement(t *testing.T) {
	tests := []struct {
		name     string
		origin   string
		typ      string
		time     time.Time
		body     string
		wantBody string
		wantErr  error
	}{
		{name: "canonicalizes", origin: testOrigin, typ: "disclosure.publish", time: testTime,
			body: `{ "title": "Budget", "amount": 1.0e3, "a": [true, null] }`, wantBody: `{"a":[true,null],"amount":1000,"title":"Budget"}`},
		{name: "empty object", origin: testOrigin, typ: "x", time: testTime, body: `{}`, wantBody: `{}`},
		{name: "safe integer bound", origin: testOrigin, typ: "x", time: testTime, body: `{"n":-9007199254740992}`, wantBody: `{"n":-9007199254740992}`},
		{name: "unsafe integer", origin: testOrigin, typ: "x", time: testTime, body: `{"n":9007199254740993}`, wantErr: ErrMalformedStatement},
		{name: "unsafe integer as float", origin: testOrigin, typ: "x", time: testTime, body: `{"n":9007199254740993.0}`, wantErr: ErrMalformedStatement},
		{name: "unsafe exponent", origin: testOrigin, typ: "x", time: testTime, body: `{"n":9.007199254740993e15}`, wantErr: ErrMalformedStatement},
		{name: "small float", origin: testOrigin, typ: "x", time: testTime, body: `{"n":[0.1,-2.5e-7]}`, wantBody: `{"n":[0.1,-2.5e-7]}`},
		{name: "unsafe after canonicalization", origin: testOrigin, typ: "x", time: testTime, body: `{"n":1e20}`, wantErr: ErrMalformedStatement},
		{name: "array body", origin: testOrigin, typ: "x", time: testTime, body: `[1]`, wantErr: ErrMalformedStatement},
		{name: "string body", origin: testOrigin, typ: "x", time: testTime, body: `"x"`, wantErr: ErrMalformedStatement},
		{name: "invalid JSON", origin: testOrigin, typ: "x", time: testTime, body: `{"a":}`, wantErr: ErrMalformedStatement},
		{name: "duplicate key", origin: testOrigin, typ: "x", time: testTime, body: `{"a":1,"a":2}`, wantErr: ErrMalformedStatement},
		{name: "empty origin", origin: "", typ: "x", time: testTime, body: `{}`, wantErr: ErrMalformedStatement},
		{name: "origin with space", origin: "gov.example/a b", typ: "x", time: testTime, body: `{}`, wantErr: ErrMalformedStatement},
		{name: "origin with plus", origin: "gov.example/a+b", typ: "x", time: testTime, body: `{}`, wantErr: ErrMalformedStatement},
		{name: "origin with newline", origin: "gov.example/a\nb", typ: "x", time: testTime, body: `{}`, wantErr: ErrMalformedStatement},
		{name: "empty type", origin: testOrigin, typ: "", time: testTime, body: `{}`, wantErr: ErrMalformedStatement},
		{name: "upper-case type", origin: testOrigin, typ: "Disclosure", time: testTime, body: `{}`, wantErr: ErrMalformedStatement},
		{name: "type with quote", origin: testOrigin, typ: `a"b`, time: testTime, body: `{}`, wantErr: ErrMalformedStatement},
		{name: "zero time", origin: testOrigin, typ: "x", body: `{}`, wantErr: ErrMalformedStatement},
		{name: "year 10000", origin: testOrigin, typ: "x", time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), body: `{}`, wantErr: ErrMalformedStatement},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewStatement(tt.origin, tt.typ, tt.time, []byte(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewStatement() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if string(s.Body) != tt.wantBody {
				t.Errorf("Body = %s, want %s", s.Body, tt.wantBody)
			}
		})
	}
}

func TestNewStatementTime(t *testing.T) {
	local := time.Date(2026, 3, 1, 13, 30, 0, 999_999_999, time.FixedZone("CET", 3600))
	s, err := NewStatement(testOrigin, "x", local, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Time.Equal(testTime) || s.Time.Location() != time.UTC {
		t.Errorf("Time = %v, want %v in UTC", s.Time, testTime)
	}
	want := "govlog/statement/v1\ngov.example/disclosures\n{\"body\":{},\"time\":\"2026-03-01T12:30:00Z\",\"type\":\"x\"}\n"
	if got := string(s.Text()); got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
}

func TestStatementSign(t *testing.T) {
	signer, _ := testSigner(t, "agency.example/finance", 1)
	s, err := NewStatement(testOrigin, "x", testTime, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(); err == nil {
		t.Error("Sign() with no signers succeeded")
	}
	bad := *s
	bad.Body = []byte(`{ }`)
	if _, err := bad.Sign(signer); !errors.Is(err, ErrNotCanonical) {
		t.Errorf("Sign(non-canonical body) error = %v, want ErrNotCanonical", err)
	}
	bad = *s
	bad.Time = testTime.Add(time.Millisecond)
	if _, err := bad.Sign(signer); !errors.Is(err, ErrMalformedStatement) {
		t.Errorf("Sign(sub-second time) error = %v, want ErrMalformedStatement", err)
	}
	big, err := NewStatement(testOrigin, "x", testTime, fmt.Appendf(nil, `{"a":%q}`, strings.Repeat("a", MaxStatementSize)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := big.Sign(signer); !errors.Is(err, ErrStatementTooLarge) {
		t.Errorf("Sign(huge) error = %v, want ErrStatementTooLarge", err)
	}
}

func TestParseStatement(t *testing.T) {
	agency, agencyV := testSigner(t, "agency.example/finance", 1)
	clerk, clerkV := testSigner(t, "agency.example/clerk", 2)
	stranger, _ := testSigner(t, "stranger.example", 3)
	known := note.VerifierList(agencyV, clerkV)

	s, err := NewStatement(testOrigin, "disclosure.publish", testTime, []byte(`{"title":"Budget 2026","sha256":"00ff"}`))
	if err != nil {
		t.Fatal(err)
	}
	valid, err := s.Sign(agency)
	if err != nil {
		t.Fatal(err)
	}
	json := `{"body":{"a":1},"time":"2026-03-01T12:30:00Z","type":"x"}`
	text := func(jsonLine string) string {
		return StatementFormat + "\n" + testOrigin + "\n" + jsonLine + "\n"
	}

	// flipSig flips a bit of the Ed25519 signature (not the key ID) of
	// the first signature line.
	flipSig := func(signed []byte) []byte {
		i := bytes.LastIndex(signed, []byte("\n\n")) + 2
		line := string(signed[i : len(signed)-1])
		prefix, b64, _ := strings.Cut(line[len("— "):], " ")
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		raw[10] ^= 0x01
		return fmt.Appendf(bytes.Clone(signed[:i]), "— %s %s\n", prefix, base64.StdEncoding.EncodeToString(raw))
	}
	// padBits sets a padding bit of the last signature's base64, an
	// alternative spelling that note.Open alone would accept.
	padBits := func(signed []byte) []byte {
		out := bytes.Clone(signed)
		i := bytes.LastIndexByte(out[:len(out)-1], '=') - 1
		// The char before '=' of a 68-byte signature carries 2 padding bits.
		c := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", out[i])
		out[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[c^1]
		return out
	}

	tests := []struct {
		name       string
		signed     []byte
		wantSigs   int
		wantErr    error
		wantOrigin string
	}{
		{name: "valid", signed: valid, wantSigs: 1},
		{name: "two known signers", signed: signText(t, text(json), clerk, agency), wantSigs: 2},
		{name: "Sign sorts its signers", signed: func() []byte { b, _ := s.Sign(agency, clerk); return b }(), wantSigs: 2},
		{name: "signature lines out of order", signed: signText(t, text(json), agency, clerk), wantErr: ErrMalformedStatement},
		{name: "repeated signature line", signed: append(bytes.Clone(valid), valid[bytes.LastIndex(valid, []byte("\n\n"))+2:]...), wantErr: ErrMalformedStatement},
		{name: "known and unknown signers", signed: signText(t, text(json), stranger, agency), wantErr: ErrUnknownSigner},
		{name: "too large", signed: bytes.Repeat([]byte("a"), MaxStatementSize+1), wantErr: ErrStatementTooLarge},
		{name: "empty", signed: nil, wantErr: ErrMalformedStatement},
		{name: "truncated", signed: valid[:len(valid)-1], wantErr: ErrMalformedStatement},
		{name: "truncated text", signed: valid[:30], wantErr: ErrMalformedStatement},
		{name: "garbled signature line", signed: bytes.Replace(valid, []byte("— "), []byte("- "), 1), wantErr: ErrMalformedStatement},
		{name: "invalid base64 signature", signed: bytes.Replace(valid, []byte("finance "), []byte("finance !"), 1), wantErr: ErrMalformedStatement},
		{name: "non-canonical base64 signature", signed: padBits(valid), wantErr: ErrMalformedStatement},
		{name: "control character", signed: signText(t, text(`{"body":{},"time":"2026-03-01T12:30:00Z","type":"x"}`)+"\x01\n", agency), wantErr: ErrMalformedStatement},
		{name: "unknown signer", signed: signText(t, text(json), stranger), wantErr: ErrUnknownSigner},
		{name: "flipped signature bit", signed: flipSig(valid), wantErr: ErrBadSignature},
		{name: "format line", signed: signText(t, "govlog/statement/v2\n"+testOrigin+"\n"+json+"\n", agency), wantErr: ErrMalformedStatement},
		{name: "two lines", signed: signText(t, StatementFormat+"\n"+testOrigin+"\n", agency), wantErr: ErrMalformedStatement},
		{name: "four lines", signed: signText(t, text(json)+"extra\n", agency), wantErr: ErrMalformedStatement},
		{name: "wrong origin", signed: valid, wantOrigin: "gov.example/funds", wantErr: ErrWrongOrigin},
		{name: "not canonical: space", signed: signText(t, text(`{"body":{"a":1}, "time":"2026-03-01T12:30:00Z","type":"x"}`), agency), wantErr: ErrNotCanonical},
		{name: "not canonical: order", signed: signText(t, text(`{"time":"2026-03-01T12:30:00Z","body":{"a":1},"type":"x"}`), agency), wantErr: ErrNotCanonical},
		{name: "not canonical: number", signed: signText(t, text(`{"body":{"a":1.0},"time":"2026-03-01T12:30:00Z","type":"x"}`), agency), wantErr: ErrNotCanonical},
		{name: "invalid JSON", signed: signText(t, text(`{"body":`), agency), wantErr: ErrMalformedStatement},
		{name: "JSON array", signed: signText(t, text(`[1]`), agency), wantErr: ErrMalformedStatement},
		{name: "unknown key", signed: signText(t, text(`{"body":{},"extra":1,"time":"2026-03-01T12:30:00Z","type":"x"}`), agency), wantErr: ErrMalformedStatement},
		{name: "missing body", signed: signText(t, text(`{"time":"2026-03-01T12:30:00Z","type":"x"}`), agency), wantErr: ErrMalformedStatement},
		{name: "body array", signed: signText(t, text(`{"body":[],"time":"2026-03-01T12:30:00Z","type":"x"}`), agency), wantErr: ErrMalformedStatement},
		{name: "rounded integer", signed: signText(t, text(`{"body":{"a":9007199254740993},"time":"2026-03-01T12:30:00Z","type":"x"}`), agency), wantErr: ErrNotCanonical},
		{name: "unsafe number", signed: signText(t, text(`{"body":{"a":1e+21},"time":"2026-03-01T12:30:00Z","type":"x"}`), agency), wantErr: ErrMalformedStatement},
		{name: "time offset", signed: signText(t, text(`{"body":{},"time":"2026-03-01T13:30:00+01:00","type":"x"}`), agency), wantErr: ErrMalformedStatement},
		{name: "time fraction", signed: signText(t, text(`{"body":{},"time":"2026-03-01T12:30:00.5Z","type":"x"}`), agency), wantErr: ErrMalformedStatement},
		{name: "time short hour", signed: signText(t, text(`{"body":{},"time":"2026-03-01T2:30:00Z","type":"x"}`), agency), wantErr: ErrMalformedStatement},
		{name: "time number", signed: signText(t, text(`{"body":{},"time":1,"type":"x"}`), agency), wantErr: ErrMalformedStatement},
		{name: "type invalid", signed: signText(t, text(`{"body":{},"time":"2026-03-01T12:30:00Z","type":"A"}`), agency), wantErr: ErrMalformedStatement},
		{name: "type number", signed: signText(t, text(`{"body":{},"time":"2026-03-01T12:30:00Z","type":1}`), agency), wantErr: ErrMalformedStatement},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			origin := testOrigin
			if tt.wantOrigin != "" {
				origin = tt.wantOrigin
			}
			got, sigs, err := ParseStatement(tt.signed, origin, known)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseStatement() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if len(sigs) != tt.wantSigs {
				t.Errorf("got %d signatures, want %d", len(sigs), tt.wantSigs)
			}
			if !bytes.HasPrefix(tt.signed, got.Text()) {
				t.Errorf("Text() = %q is not the signed text", got.Text())
			}
		})
	}
}

func TestStatementRoundTrip(t *testing.T) {
	agency, agencyV := testSigner(t, "agency.example/finance", 1)
	s, err := NewStatement(testOrigin, "funds.transfer", testTime, []byte(`{"amount":125000,"from":"A","to":"B","memo":"\u00e9\n"}`))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := s.Sign(agency)
	if err != nil {
		t.Fatal(err)
	}
	got, sigs, err := ParseStatement(signed, testOrigin, note.VerifierList(agencyV))
	if err != nil {
		t.Fatal(err)
	}
	if got.Origin != s.Origin || got.Type != s.Type || !got.Time.Equal(s.Time) || !bytes.Equal(got.Body, s.Body) {
		t.Errorf("round trip: got %+v, want %+v", got, s)
	}
	if len(sigs) != 1 || sigs[0].Name != agency.Name() || sigs[0].Hash != agency.KeyHash() {
		t.Errorf("signatures = %+v", sigs)
	}
	resigned, err := got.Sign(agency)
	if err != nil || !bytes.Equal(resigned, signed) {
		t.Errorf("re-signing changed the leaf: %v", err)
	}
}

func TestLeafHash(t *testing.T) {
	// RFC 6962: the leaf hash is SHA-256(0x00 || leaf); this is the hash of
	// the empty leaf.
	got := LeafHash(nil)
	if want := "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="; base64.StdEncoding.EncodeToString(got[:]) != want {
		t.Errorf("LeafHash(nil) = %x", got)
	}
}

func FuzzParseStatement(f *testing.F) {
	agency, agencyV := testSigner(f, "agency.example/finance", 1)
	known := note.VerifierList(agencyV)
	s, err := NewStatement(testOrigin, "disclosure.publish", testTime, []byte(`{"title":"Budget","n":[1,2.5,-3],"o":{"k":null}}`))
	if err != nil {
		f.Fatal(err)
	}
	valid, err := s.Sign(agency)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(signText(f, text3(`{"body":{},"time":"2026-03-01T12:30:00Z","type":"x"}`), agency))
	f.Add(signText(f, text3(`{"body":{}, "time":"2026-03-01T12:30:00Z","type":"x"}`), agency))
	f.Add(valid[:len(valid)-2])
	f.Fuzz(func(t *testing.T, signed []byte) {
		got, sigs, err := ParseStatement(signed, testOrigin, known)
		if err != nil {
			return
		}
		if len(sigs) == 0 {
			t.Fatal("no verified signatures")
		}
		if !bytes.HasPrefix(signed, got.Text()) || signed[len(got.Text())] != '\n' {
			t.Fatalf("Text() = %q doesn't match the signed note %q", got.Text(), signed)
		}
		resigned, err := got.Sign(agency)
		if err != nil {
			t.Fatalf("re-signing a parsed statement: %v", err)
		}
		again, _, err := ParseStatement(resigned, testOrigin, known)
		if err != nil || !bytes.Equal(again.Text(), got.Text()) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func text3(jsonLine string) string {
	return StatementFormat + "\n" + testOrigin + "\n" + jsonLine + "\n"
}

func ExampleNewStatement() {
	skey, vkey := testKeys("agency.example/finance", 1)
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)

	s, err := NewStatement("gov.example/disclosures", "disclosure.publish",
		time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC),
		[]byte(`{"title": "Budget 2026", "sha256": "9f86d081884c7d65"}`))
	if err != nil {
		panic(err)
	}
	leaf, err := s.Sign(signer)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s", leaf)

	got, sigs, err := ParseStatement(leaf, "gov.example/disclosures", note.VerifierList(verifier))
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Type, got.Time.Format(time.RFC3339), string(got.Body))
	fmt.Println("signed by", sigs[0].Name)
	// Output:
	// govlog/statement/v1
	// gov.example/disclosures
	// {"body":{"sha256":"9f86d081884c7d65","title":"Budget 2026"},"time":"2026-03-01T12:30:00Z","type":"disclosure.publish"}
	//
	// — agency.example/finance jDGx4HXjB1e2OMM3L4JkVGik95f90tDdp36LyqzJeICRibHUEjjAiMPtyRJkorwZyloRIcTtVaGXpcnchS6ZGiULhQ4=
	// disclosure.publish 2026-03-01T12:30:00Z {"sha256":"9f86d081884c7d65","title":"Budget 2026"}
	// signed by agency.example/finance
}
