package client_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
)

const testOrigin = "gov.example/funds"

// testLog is a log of three entries, with its checkpoints at sizes 2 and 3.
type testLog struct {
	entries [][]byte
	hashes  [][32]byte
	signer  note.Signer
	policy  *govlog.Policy
}

func newTestLog(t *testing.T) *testLog {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	text, err := govlog.FormatPolicy([]string{vkey}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := govlog.ParsePolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	l := &testLog{signer: signer, policy: policy}
	for i := range 3 {
		e := []byte(fmt.Sprintf("entry %d\n", i))
		l.entries = append(l.entries, e)
		l.hashes = append(l.hashes, govlog.LeafHash(e))
	}
	return l
}

func (l *testLog) hex(i int) string { return hex.EncodeToString(l.hashes[i][:]) }

// bundle returns entry i's bundle at size 2 or 3.
func (l *testLog) bundle(t *testing.T, i, size int) []byte {
	t.Helper()
	h := rfc6962.DefaultHasher
	h01 := [32]byte(h.HashChildren(l.hashes[0][:], l.hashes[1][:]))
	root, proofs := h01, map[int][][32]byte{0: {l.hashes[1]}, 1: {l.hashes[0]}}
	if size == 3 {
		root = [32]byte(h.HashChildren(h01[:], l.hashes[2][:]))
		proofs = map[int][][32]byte{0: {l.hashes[1], l.hashes[2]}, 1: {l.hashes[0], l.hashes[2]}, 2: {h01}}
	}
	signed, err := govlog.SignCheckpoint(govlog.Checkpoint{Origin: testOrigin, Size: uint64(size), Hash: root}, l.signer)
	if err != nil {
		t.Fatal(err)
	}
	b := govlog.Bundle{Extra: l.entries[i], Index: uint64(i), Proof: proofs[i], Checkpoint: signed}
	return b.Marshal()
}

func TestVerifyAnswer(t *testing.T) {
	l := newTestLog(t)
	other := newTestLog(t) // another key for the same origin
	result := fmt.Sprintf(`{"account":{"leaf_hash":%q},"lines":[{"n":1,"leaf_hash":%q}]}`, l.hex(0), l.hex(1))
	tests := []struct {
		name    string
		result  string
		bundles [][]byte
		wantErr string
	}{
		{"verified", result, [][]byte{l.bundle(t, 0, 2), l.bundle(t, 1, 2)}, ""},
		{"more proved than named", result, [][]byte{l.bundle(t, 0, 3), l.bundle(t, 1, 3), l.bundle(t, 2, 3)}, ""},
		{"no entries", `{"lines":[]}`, nil, ""},
		{"a named entry without a proof", result, [][]byte{l.bundle(t, 0, 2)}, "without a proof"},
		{"proofs at two checkpoints", result, [][]byte{l.bundle(t, 0, 2), l.bundle(t, 1, 3)}, "different checkpoints"},
		{"a proof by a key outside the policy", result, [][]byte{l.bundle(t, 0, 2), other.bundle(t, 1, 2)}, "does NOT verify"},
		{"a proof tampered with", result, [][]byte{l.bundle(t, 0, 2), []byte(strings.Replace(string(l.bundle(t, 1, 2)), "index 1", "index 0", 1))}, "does NOT verify"},
		{"an uppercase leaf hash", strings.Replace(result, l.hex(0), strings.ToUpper(l.hex(0)), 1), [][]byte{l.bundle(t, 0, 2), l.bundle(t, 1, 2)}, "without a proof"},
		{"a leaf hash that is not a string", `{"leaf_hash":["x"]}`, [][]byte{l.bundle(t, 0, 2)}, "without a proof"},
		{"not JSON", `{"leaf_hash":`, [][]byte{l.bundle(t, 0, 2)}, "not JSON"},
		{"not an object", `["x"]`, nil, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := client.VerifyAnswer(l.policy, []byte(tt.result), tt.bundles)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("VerifyAnswer = %v, want an error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("VerifyAnswer: %v", err)
			}
			if len(a.Entries) != len(tt.bundles) || string(a.Result) != tt.result {
				t.Errorf("answer with %d entries, result %s", len(a.Entries), a.Result)
			}
			if len(tt.bundles) > 0 && (a.Checkpoint.Origin != testOrigin || a.Checkpoint.Size != a.Entries[0].Checkpoint.Size) {
				t.Errorf("answer checkpoint %+v", a.Checkpoint)
			}
		})
	}
}
