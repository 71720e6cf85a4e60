package ruletest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// signatureLine makes a signature line the way a signed note writes it.
func signatureLine(s rule.Signature) string {
	raw := binary.BigEndian.AppendUint32(nil, s.KeyHash)
	return fmt.Sprintf("— %s %s\n", s.Name, base64.StdEncoding.EncodeToString(append(raw, s.Sig...)))
}

func TestSplitNote(t *testing.T) {
	a := rule.Signature{Name: "citizen", KeyHash: 0x1a2b3c4d, Sig: bytes.Repeat([]byte{7}, 64)}
	b := rule.Signature{Name: "gov.example/x", KeyHash: 0xffffffff, Sig: []byte{1}}
	text := "govlog/statement/v1\ngov.example/petitions\n{}\n"
	tests := []struct {
		name     string
		msg      string
		wantText string
		wantSigs []rule.Signature
		wantErr  bool
	}{
		{name: "one", msg: text + "\n" + signatureLine(a), wantText: text, wantSigs: []rule.Signature{a}},
		{name: "two", msg: text + "\n" + signatureLine(a) + signatureLine(b), wantText: text, wantSigs: []rule.Signature{a, b}},
		{name: "blank lines in the text", msg: "a\n\nb\n\n" + signatureLine(a), wantText: "a\n\nb\n", wantSigs: []rule.Signature{a}},
		{name: "no blank line", msg: text + signatureLine(a), wantErr: true},
		{name: "no signature", msg: text + "\n", wantErr: true},
		{name: "no final newline", msg: text + "\n" + signatureLine(a)[:len(signatureLine(a))-1], wantErr: true},
		{name: "not a signature line", msg: text + "\n" + "- citizen AAAAAAA=\n", wantErr: true},
		{name: "no name", msg: text + "\n" + "—  AAAAAAA=\n", wantErr: true},
		{name: "name with plus", msg: text + "\n" + "— a+b AAAAAAA=\n", wantErr: true},
		{name: "too short", msg: text + "\n" + "— a AAAAAA==\n", wantErr: true},
		{name: "not base64", msg: text + "\n" + "— a AAAA!AAA\n", wantErr: true},
		// As in note.Open, the signatures are the lines after the last blank line.
		{name: "blank line among signatures", msg: text + "\n" + signatureLine(a) + "\n" + signatureLine(b),
			wantText: text + "\n" + signatureLine(a), wantSigs: []rule.Signature{b}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, sigs, err := ruletest.SplitNote([]byte(tt.msg))
			if (err != nil) != tt.wantErr {
				t.Fatalf("SplitNote = %v", err)
			}
			if err != nil {
				return
			}
			if string(text) != tt.wantText || fmt.Sprint(sigs) != fmt.Sprint(tt.wantSigs) {
				t.Errorf("SplitNote = %q, %v", text, sigs)
			}
		})
	}
}

// FuzzSplitNote: whatever the bytes, SplitNote does not panic, and what it
// accepts it splits without loss: the text and the lines rebuilt from the
// signatures give the bytes back, up to the spelling of the base64.
func FuzzSplitNote(f *testing.F) {
	f.Add([]byte("a\n\n" + signatureLine(rule.Signature{Name: "n", KeyHash: 1, Sig: []byte{2}})))
	f.Add([]byte("a\n\n— n AAAAAQI=\n— m AAAAAQI=\n"))
	f.Add([]byte("\n\n— n AAAAAQI\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		text, sigs, err := ruletest.SplitNote(msg)
		if err != nil {
			return
		}
		rebuilt := string(text) + "\n"
		for _, s := range sigs {
			rebuilt += signatureLine(s)
		}
		again, sigs2, err := ruletest.SplitNote([]byte(rebuilt))
		if err != nil || !bytes.Equal(again, text) || fmt.Sprint(sigs2) != fmt.Sprint(sigs) {
			t.Errorf("SplitNote(%q) = %q, %v; rebuilt %q splits to %q, %v, %v", msg, text, sigs, rebuilt, again, sigs2, err)
		}
	})
}
