package govlog

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"
)

// bundleFixture is a log of a few signed statements, a checkpoint cosigned
// by the given witnesses (X1, X2, Y1 if none), and a policy that needs all
// of them.
type bundleFixture struct {
	entries    [][]byte
	tree       *testonly.Tree
	checkpoint []byte
	policy     *Policy
}

func newBundleFixture(t testing.TB, size int, witnesses ...string) *bundleFixture {
	t.Helper()
	f := newPolicyFixture(t)
	agency, _ := testSigner(t, "agency.example/finance", 1)
	bf := &bundleFixture{tree: testonly.New(rfc6962.DefaultHasher)}
	for i := range size {
		s, err := NewStatement(logOrigin, "funds.transfer", testTime, fmt.Appendf(nil, `{"amount":%d}`, i))
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := s.Sign(agency)
		if err != nil {
			t.Fatal(err)
		}
		bf.entries = append(bf.entries, leaf)
		bf.tree.AppendData(leaf)
	}
	signed, err := SignCheckpoint(Checkpoint{Origin: logOrigin, Size: bf.tree.Size(), Hash: [32]byte(bf.tree.Hash())}, f.logKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(witnesses) == 0 {
		witnesses = []string{"X1", "X2", "Y1"}
	}
	policy := "log {log}\n"
	for _, w := range witnesses {
		policy += "witness " + w + " {" + w + "}\n"
	}
	policy += "group g all " + strings.Join(witnesses, " ") + "\nquorum g\n"
	bf.checkpoint = cosign(t, signed, signersOf(f, witnesses)...)
	bf.policy, err = ParsePolicy([]byte(f.expand(policy)))
	if err != nil {
		t.Fatal(err)
	}
	return bf
}

func signersOf(f *policyFixture, names []string) []note.Signer {
	var signers []note.Signer
	for _, n := range names {
		signers = append(signers, f.wit[n])
	}
	return signers
}

func (bf *bundleFixture) bundle(t testing.TB, index uint64) *Bundle {
	t.Helper()
	hashes, err := bf.tree.InclusionProof(index, bf.tree.Size())
	if err != nil {
		t.Fatal(err)
	}
	b := &Bundle{Extra: bf.entries[index], Index: index, Checkpoint: bf.checkpoint}
	for _, h := range hashes {
		b.Proof = append(b.Proof, [32]byte(h))
	}
	return b
}

func TestBundleRoundTrip(t *testing.T) {
	bf := newBundleFixture(t, 7)
	for _, b := range []*Bundle{
		bf.bundle(t, 3),
		{Index: 0, Checkpoint: bf.checkpoint},
		{Extra: []byte{0}, Index: 18446744073709551615, Checkpoint: bf.checkpoint},
	} {
		got, err := ParseBundle(b.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, b) {
			t.Errorf("ParseBundle(Marshal()) = %+v, want %+v", got, b)
		}
	}
}

func TestParseBundle(t *testing.T) {
	bf := newBundleFixture(t, 3)
	cp := string(bf.checkpoint)
	h := "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	tests := []struct {
		name    string
		data    string
		wantErr error
	}{
		{name: "valid", data: "c2sp.org/tlog-proof@v1\nextra AQID\nindex 1\n" + h + "\n" + h + "\n\n" + cp},
		{name: "no extra, no proof", data: "c2sp.org/tlog-proof@v1\nindex 0\n\n" + cp},
		{name: "empty", data: "", wantErr: ErrMalformedBundle},
		{name: "no checkpoint", data: "c2sp.org/tlog-proof@v1\nindex 0\n", wantErr: ErrMalformedBundle},
		{name: "empty checkpoint", data: "c2sp.org/tlog-proof@v1\nindex 0\n\n", wantErr: ErrMalformedBundle},
		{name: "unsigned checkpoint", data: "c2sp.org/tlog-proof@v1\nindex 0\n\n" + string(testCheckpoint().Text()), wantErr: ErrMalformedBundle},
		{name: "malformed checkpoint text", data: "c2sp.org/tlog-proof@v1\nindex 0\n\n" + strings.Replace(cp, "\n", "\n0", 1), wantErr: ErrMalformedBundle},
		{name: "wrong header", data: "c2sp.org/tlog-proof@v2\nindex 0\n\n" + cp, wantErr: ErrMalformedBundle},
		{name: "missing index", data: "c2sp.org/tlog-proof@v1\nextra AQID\n\n" + cp, wantErr: ErrMalformedBundle},
		{name: "index first", data: "c2sp.org/tlog-proof@v1\nindex 0\nextra AQID\n\n" + cp, wantErr: ErrMalformedBundle},
		{name: "empty extra", data: "c2sp.org/tlog-proof@v1\nextra \nindex 0\n\n" + cp, wantErr: ErrMalformedBundle},
		{name: "extra padding bits", data: "c2sp.org/tlog-proof@v1\nextra AQJ=\nindex 0\n\n" + cp, wantErr: ErrMalformedBundle},
		{name: "extra twice", data: "c2sp.org/tlog-proof@v1\nextra AQID\nextra AQID\nindex 0\n\n" + cp, wantErr: ErrMalformedBundle},
		{name: "index leading zero", data: "c2sp.org/tlog-proof@v1\nindex 01\n\n" + cp, wantErr: ErrMalformedBundle},
		{name: "index sign", data: "c2sp.org/tlog-proof@v1\nindex +1\n\n" + cp, wantErr: ErrMalformedBundle},
		{name: "index overflow", data: "c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\n" + cp, wantErr: ErrMalformedBundle},
		{name: "index two spaces", data: "c2sp.org/tlog-proof@v1\nindex  1\n\n" + cp, wantErr: ErrMalformedBundle},
		{name: "short hash", data: "c2sp.org/tlog-proof@v1\nindex 1\nAQID\n\n" + cp, wantErr: ErrMalformedBundle},
		{name: "hash padding bits", data: "c2sp.org/tlog-proof@v1\nindex 1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n\n" + cp, wantErr: ErrMalformedBundle},
		{name: "too many hashes", data: "c2sp.org/tlog-proof@v1\nindex 1\n" + strings.Repeat(h+"\n", 65) + "\n" + cp, wantErr: ErrMalformedBundle},
		{name: "CRLF", data: "c2sp.org/tlog-proof@v1\r\nindex 0\r\n\r\n" + cp, wantErr: ErrMalformedBundle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ParseBundle([]byte(tt.data))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseBundle() error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && string(b.Marshal()) != tt.data {
				t.Errorf("Marshal() = %q, want %q", b.Marshal(), tt.data)
			}
		})
	}
}

func TestVerifyBundle(t *testing.T) {
	bf := newBundleFixture(t, 7)
	otherLog := newBundleFixture(t, 7)
	otherLog.policy, _ = ParsePolicy([]byte("quorum none\n"))

	withIndex := func(b *Bundle, i uint64) *Bundle { b.Index = i; return b }
	withExtra := func(b *Bundle, e []byte) *Bundle { b.Extra = e; return b }
	withProof := func(b *Bundle, p [][32]byte) *Bundle { b.Proof = p; return b }
	withCheckpoint := func(b *Bundle, c []byte) *Bundle { b.Checkpoint = c; return b }
	logOnly := bf.checkpoint[:bytes.Index(bf.checkpoint, []byte("\n— witness"))+1]

	tests := []struct {
		name    string
		bundle  *Bundle
		policy  *Policy
		wantErr error
	}{
		{name: "first", bundle: bf.bundle(t, 0)},
		{name: "middle", bundle: bf.bundle(t, 3)},
		{name: "last", bundle: bf.bundle(t, 6)},
		{name: "no entry", bundle: withExtra(bf.bundle(t, 3), nil), wantErr: ErrMalformedBundle},
		{name: "other entry", bundle: withExtra(bf.bundle(t, 3), bf.entries[4]), wantErr: ErrInclusionProof},
		{name: "other index", bundle: withIndex(bf.bundle(t, 3), 2), wantErr: ErrInclusionProof},
		{name: "index at size", bundle: withIndex(bf.bundle(t, 3), 7), wantErr: ErrInclusionProof},
		{name: "short proof", bundle: withProof(bf.bundle(t, 3), bf.bundle(t, 3).Proof[1:]), wantErr: ErrInclusionProof},
		{name: "no proof", bundle: withProof(bf.bundle(t, 3), nil), wantErr: ErrInclusionProof},
		{name: "quorum not met", bundle: withCheckpoint(bf.bundle(t, 3), logOnly), wantErr: ErrQuorumNotMet},
		{name: "unknown log", bundle: bf.bundle(t, 3), policy: otherLog.policy, wantErr: ErrUnknownLog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := bf.policy
			if tt.policy != nil {
				p = tt.policy
			}
			got, err := VerifyBundle(tt.bundle.Marshal(), p)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyBundle() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.Index != tt.bundle.Index || !bytes.Equal(got.Entry, tt.bundle.Extra) || got.Checkpoint.Size != 7 ||
				!reflect.DeepEqual(got.Witnesses, []string{"X1", "X2", "Y1"}) {
				t.Errorf("VerifyBundle() = %+v", got)
			}
		})
	}
}

// TestVerifyBundleBitFlips flips every bit of a bundle in turn: each flip
// must make verification fail, whatever the line it lands on. One witness
// keeps it fast; its line is needed for the quorum.
func TestVerifyBundleBitFlips(t *testing.T) {
	bf := newBundleFixture(t, 5, "X1")
	data := bf.bundle(t, 2).Marshal()
	if _, err := VerifyBundle(data, bf.policy); err != nil {
		t.Fatal(err)
	}
	for bit := range 8 {
		t.Run(fmt.Sprint("bit ", bit), func(t *testing.T) {
			t.Parallel()
			for i := range data {
				flipped := bytes.Clone(data)
				flipped[i] ^= 1 << bit
				if _, err := VerifyBundle(flipped, bf.policy); err == nil {
					t.Fatalf("flipping bit %d of byte %d (%q) still verifies", bit, i, data[i])
				}
			}
		})
	}
}

func FuzzParseBundle(f *testing.F) {
	bf := newBundleFixture(f, 5)
	f.Add(bf.bundle(f, 2).Marshal())
	f.Add(bf.bundle(f, 4).Marshal())
	f.Add((&Bundle{Index: 0, Checkpoint: bf.checkpoint}).Marshal())
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if err != nil {
			return
		}
		if !bytes.Equal(b.Marshal(), data) {
			t.Fatalf("Marshal() = %q, want %q", b.Marshal(), data)
		}
		// Must not panic, whatever the proof.
		VerifyBundle(data, bf.policy)
	})
}

// Example_bundle builds a bundle as a log does for the second of two
// entries, and verifies it offline as a journalist does.
func Example_bundle() {
	// The log, its key named after its origin, and one witness.
	logSkey, logVkey := testKeys("gov.example/funds", 10)
	logKey, _ := note.NewSigner(logSkey)
	witnessSkey, witnessVkey, _ := GenerateCosignerKey(bytes.NewReader(bytes.Repeat([]byte{20}, 32)), "witness.example/court")
	witness, _ := NewCosigner(witnessSkey, func() time.Time { return time.Unix(1767225600, 0) })

	// Two entries; a tree of two leaves has root HASH(leaf 0, leaf 1), and
	// the proof for entry 1 is the hash of leaf 0.
	entries := [][]byte{[]byte("entry zero"), []byte("entry one")}
	leaf0, leaf1 := LeafHash(entries[0]), LeafHash(entries[1])
	root := rfc6962.DefaultHasher.HashChildren(leaf0[:], leaf1[:])
	checkpoint := Checkpoint{Origin: "gov.example/funds", Size: 2, Hash: [32]byte(root)}
	signed, _ := SignCheckpoint(checkpoint, logKey)

	// The witness cosigns the same text; its signature line is appended.
	cosignature, _ := note.Sign(&note.Note{Text: string(checkpoint.Text())}, witness)
	cosigned := append(signed, cosignature[len(checkpoint.Text())+1:]...)

	bundle := &Bundle{Extra: entries[1], Index: 1, Proof: [][32]byte{leaf0}, Checkpoint: cosigned}
	data := bundle.Marshal()

	// The verifier's policy: the log, and the witness must have cosigned.
	policyText, _ := FormatPolicy([]string{logVkey}, []PolicyWitness{{Name: "court", VKey: witnessVkey}}, 1)
	policy, err := ParsePolicy(policyText)
	if err != nil {
		panic(err)
	}
	v, err := VerifyBundle(data, policy)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q is entry %d of %s (size %d), cosigned by %v\n", v.Entry, v.Index, v.Checkpoint.Origin, v.Checkpoint.Size, v.Witnesses)

	data[len(data)-5] ^= 1
	_, err = VerifyBundle(data, policy)
	fmt.Println(err != nil)
	// Output:
	// "entry one" is entry 1 of gov.example/funds (size 2), cosigned by [court]
	// true
}
