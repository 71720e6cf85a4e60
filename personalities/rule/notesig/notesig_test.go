package notesig_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/notesig"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

type key struct {
	signer note.Signer
	vkey   string
}

func newKey(t testing.TB, name string) key {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return key{s, vkey}
}

// signed returns the entry of text signed by keys, as the centre hands it
// to a domain.
func signed(t testing.TB, text string, keys ...key) rule.Entry {
	t.Helper()
	var signers []note.Signer
	for _, k := range keys {
		signers = append(signers, k.signer)
	}
	msg, err := note.Sign(&note.Note{Text: text}, signers...)
	if err != nil {
		t.Fatal(err)
	}
	e := rule.Entry{Type: "petition.sign"}
	if e.Text, e.Signatures, err = ruletest.SplitNote(msg); err != nil {
		t.Fatal(err)
	}
	return e
}

const text = "govlog/statement/v1\ngov.example/petitions\n{\"body\":{},\"time\":\"2026-12-05T10:00:00Z\",\"type\":\"petition.sign\"}\n"

func TestVerify(t *testing.T) {
	alice, bob := newKey(t, "citizen"), newKey(t, "citizen")
	other := newKey(t, "official")
	good := signed(t, text, alice)
	tampered := func(change func(e *rule.Entry)) rule.Entry {
		e := good
		e.Text = slices.Clone(good.Text)
		e.Signatures = slices.Clone(good.Signatures)
		e.Signatures[0].Sig = slices.Clone(good.Signatures[0].Sig)
		change(&e)
		return e
	}
	tests := []struct {
		name    string
		vkey    string
		e       rule.Entry
		wantMsg string // a substring of the error; "": no error
	}{
		{name: "valid", vkey: alice.vkey, e: good},
		{name: "tampered text", vkey: alice.vkey, e: tampered(func(e *rule.Entry) { e.Text[len(e.Text)-5] = 'X' }),
			wantMsg: "does not verify"},
		{name: "text with a line more", vkey: alice.vkey, e: tampered(func(e *rule.Entry) { e.Text = append(e.Text, "x\n"...) }),
			wantMsg: "does not verify"},
		{name: "flipped signature bit", vkey: alice.vkey, e: tampered(func(e *rule.Entry) { e.Signatures[0].Sig[10] ^= 1 }),
			wantMsg: "does not verify"},
		{name: "short signature", vkey: alice.vkey, e: tampered(func(e *rule.Entry) { e.Signatures[0].Sig = e.Signatures[0].Sig[:63] }),
			wantMsg: "does not verify"},
		{name: "no signature bytes", vkey: alice.vkey, e: tampered(func(e *rule.Entry) { e.Signatures[0].Sig = nil }),
			wantMsg: "not a signed note"},
		{name: "second line by another key", vkey: alice.vkey, e: signed(t, text, alice, other),
			wantMsg: "carries 2 signature lines; it must carry one only, by citizen+"},
		{name: "second line by another key of the same name", vkey: alice.vkey, e: signed(t, text, alice, bob),
			wantMsg: "carries 2 signature lines"},
		{name: "repeated line", vkey: alice.vkey, e: tampered(func(e *rule.Entry) { e.Signatures = append(e.Signatures, e.Signatures[0]) }),
			wantMsg: "carries 2 signature lines"},
		{name: "wrong key", vkey: bob.vkey, e: good, wantMsg: "is signed by citizen+"},
		{name: "key of another name", vkey: other.vkey, e: good, wantMsg: ", not by official+"},
		{name: "right hash, wrong name", vkey: alice.vkey, e: tampered(func(e *rule.Entry) { e.Signatures[0].Name = "citizen2" }),
			wantMsg: "is signed by citizen2+"},
		{name: "no signature", vkey: alice.vkey, e: tampered(func(e *rule.Entry) { e.Signatures = nil }), wantMsg: "not signed"},
		{name: "text without final newline", vkey: alice.vkey, e: tampered(func(e *rule.Entry) { e.Text = e.Text[:len(e.Text)-1] }),
			wantMsg: "not a signed note"},
		{name: "empty text", vkey: alice.vkey, e: tampered(func(e *rule.Entry) { e.Text = nil }), wantMsg: "not a signed note"},
		{name: "text with a control character", vkey: alice.vkey, e: tampered(func(e *rule.Entry) { e.Text[3] = '\t' }),
			wantMsg: "not a signed note"},
		{name: "not a verifier key", vkey: "citizen+00000000+AAAA", e: good, wantMsg: "is not a verifier key"},
		{name: "empty verifier key", vkey: "", e: good, wantMsg: "is not a verifier key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := notesig.Verify(tt.vkey, tt.e)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("Verify = %v", err)
				}
				return
			}
			// A signature that does not verify is not authentic
			// (UNAUTHENTICATED); any other refusal is about who signed.
			want := rule.ErrNotAuthorized
			if strings.Contains(tt.wantMsg, "does not verify") || strings.Contains(tt.wantMsg, "not a signed note") {
				want = rule.ErrBadSignature
			}
			if !errors.Is(err, want) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Verify = %v, want %v saying %q", err, want, tt.wantMsg)
			}
		})
	}
}

func TestParseVKey(t *testing.T) {
	k := newKey(t, "citizen")
	name, rest, _ := strings.Cut(k.vkey, "+")
	hash16, key64, _ := strings.Cut(rest, "+")
	official := newKey(t, "official")
	tests := []struct {
		name    string
		vkey    string
		wantErr bool
	}{
		{name: "valid", vkey: k.vkey},
		{name: "another name", vkey: official.vkey},
		{name: "hash in upper case", vkey: name + "+" + strings.ToUpper(hash16) + "+" + key64, wantErr: strings.ToUpper(hash16) != hash16},
		{name: "wrong hash", vkey: name + "+" + fmt.Sprintf("%08x", ^uint32(0)) + "+" + key64, wantErr: true},
		{name: "other name, same key", vkey: "citizen2+" + hash16 + "+" + key64, wantErr: true},
		{name: "key not base64", vkey: name + "+" + hash16 + "+" + key64[:len(key64)-1] + "!", wantErr: true},
		{name: "key cut short", vkey: name + "+" + hash16 + "+" + key64[:len(key64)-4], wantErr: true},
		{name: "trailing data", vkey: k.vkey + "+", wantErr: true},
		{name: "unknown algorithm", vkey: "x+2d9ff7c8+AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", wantErr: true},
		{name: "signer key", vkey: "PRIVATE+KEY+" + k.vkey, wantErr: true},
		{name: "empty", vkey: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotName, gotHash, err := notesig.ParseVKey(tt.vkey)
			if tt.wantErr {
				if !errors.Is(err, rule.ErrInvalidBody) {
					t.Errorf("ParseVKey(%q) = %q, %08x, %v; want ErrInvalidBody", tt.vkey, gotName, gotHash, err)
				}
				return
			}
			if err != nil || !strings.HasPrefix(tt.vkey, fmt.Sprintf("%s+%08x+", gotName, gotHash)) {
				t.Errorf("ParseVKey(%q) = %q, %08x, %v", tt.vkey, gotName, gotHash, err)
			}
		})
	}
	// A hash with a letter in it, to be sure the upper-case spelling is
	// refused: make keys until one has one.
	for range 100 {
		k := newKey(t, "c")
		_, rest, _ := strings.Cut(k.vkey, "+")
		hash16, key64, _ := strings.Cut(rest, "+")
		if up := strings.ToUpper(hash16); up != hash16 {
			if _, _, err := notesig.ParseVKey("c+" + up + "+" + key64); !errors.Is(err, rule.ErrInvalidBody) {
				t.Errorf("ParseVKey of an upper-case hash = %v", err)
			}
			return
		}
	}
	t.Fatal("no key hash with a letter in 100 keys")
}

// FuzzParseVKey: ParseVKey does not panic, and a key it accepts is one note
// accepts, spelled as ParseVKey says.
func FuzzParseVKey(f *testing.F) {
	f.Add(newKey(f, "citizen").vkey)
	f.Add("citizen+00000000+AAAA")
	f.Add("a+b+c")
	f.Fuzz(func(t *testing.T, vkey string) {
		name, hash, err := notesig.ParseVKey(vkey)
		if err != nil {
			return
		}
		v, err := note.NewVerifier(vkey)
		if err != nil || v.Name() != name || v.KeyHash() != hash || !strings.HasPrefix(vkey, fmt.Sprintf("%s+%08x+", name, hash)) {
			t.Errorf("ParseVKey(%q) = %q, %08x; note: %v", vkey, name, hash, err)
		}
	})
}

// FuzzVerify: whatever the text and signature line, Verify does not panic,
// and it accepts only what note.Open verifies.
func FuzzVerify(f *testing.F) {
	k := newKey(f, "citizen")
	good := signed(f, text, k)
	f.Add(good.Text, good.Signatures[0].Name, good.Signatures[0].KeyHash, good.Signatures[0].Sig)
	f.Add([]byte("a\n"), "citizen", uint32(0), []byte{})
	f.Fuzz(func(t *testing.T, text []byte, name string, hash uint32, sig []byte) {
		e := rule.Entry{Text: text, Signatures: []rule.Signature{{Name: name, KeyHash: hash, Sig: sig}}}
		err := notesig.Verify(k.vkey, e)
		if err != nil {
			if !errors.Is(err, rule.ErrNotAuthorized) {
				t.Fatalf("Verify = %v, not ErrNotAuthorized", err)
			}
			return
		}
		v, _ := note.NewVerifier(k.vkey)
		if !v.Verify(text, sig) {
			t.Fatalf("Verify accepted a signature the key does not make: %q %x", text, sig)
		}
	})
}
