package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
)

const verifyOrigin = "gov.example/disclosures"

// cosignTime is when the fixture's witnesses cosign.
var cosignTime = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// verifyFixture is a small disclosures log with three witnesses, two of
// which must cosign, and the files verify reads, all made in the test.
type verifyFixture struct {
	dir       string
	logKey    note.Signer
	witnesses []note.Signer
	wskeys    []string // the witnesses' signer keys
	policy    string   // path, quorum 2 of 3
	entries   [][]byte
	tree      *testonly.Tree
	doc       string // path of the document entry 1 records
	docHash   string
	registry  string // path of a registry listing the agency that signed
}

func newVerifyFixture(t *testing.T) *verifyFixture {
	t.Helper()
	f := &verifyFixture{dir: t.TempDir(), tree: testonly.New(rfc6962.DefaultHasher)}
	skey, vkey, err := note.GenerateKey(rand.Reader, verifyOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if f.logKey, err = note.NewSigner(skey); err != nil {
		t.Fatal(err)
	}
	var pws []govlog.PolicyWitness
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("witness-%d", i)
		wskey, wvkey, err := govlog.GenerateCosignerKey(rand.Reader, name)
		if err != nil {
			t.Fatal(err)
		}
		w, err := govlog.NewCosigner(wskey, func() time.Time { return cosignTime })
		if err != nil {
			t.Fatal(err)
		}
		f.witnesses = append(f.witnesses, w)
		f.wskeys = append(f.wskeys, wskey)
		pws = append(pws, govlog.PolicyWitness{Name: name, VKey: wvkey})
	}
	f.policy = f.writePolicy(t, "policy.txt", []string{vkey}, pws, 2)

	f.doc = f.write(t, "budget-2027.txt", []byte("Budget 2027: full text\n"))
	sum := sha256.Sum256([]byte("Budget 2027: full text\n"))
	f.docHash = hex.EncodeToString(sum[:])
	agencyVkey, agencySkey := mustKey(t, "demo-agency")
	agency, err := note.NewSigner(agencySkey)
	if err != nil {
		t.Fatal(err)
	}
	f.registry = f.write(t, "registry.yaml", fmt.Appendf(nil, "agencies:\n  - id: demo-agency\n    roles: [discloser]\n    keys:\n      - vkey: %s\n", agencyVkey))
	for i, b := range []string{
		`{"doc_id":"2026-000","title":"Earlier","sha256":"` + strings.Repeat("ab", 32) + `","category":"budget","decision_date":"2026-11-01"}`,
		`{"doc_id":"2026-001","title":"Budget 2027","sha256":"` + f.docHash + `","category":"budget","decision_date":"2026-11-01"}`,
		`{"doc_id":"2026-002","title":"Later","sha256":"` + strings.Repeat("cd", 32) + `","category":"budget","decision_date":"2026-11-01"}`,
	} {
		st, err := govlog.NewStatement(verifyOrigin, "disclosure.publish", cosignTime.Add(-time.Duration(3-i)*time.Hour), []byte(b))
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := st.Sign(agency)
		if err != nil {
			t.Fatal(err)
		}
		f.entries = append(f.entries, leaf)
		f.tree.AppendData(leaf)
	}
	return f
}

// mustKey returns a fresh note key pair named name: vkey, skey.
func mustKey(t *testing.T, name string) (string, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	return vkey, skey
}

func (f *verifyFixture) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *verifyFixture) writePolicy(t *testing.T, name string, logVKeys []string, pws []govlog.PolicyWitness, quorum int) string {
	t.Helper()
	text, err := govlog.FormatPolicy(logVKeys, pws, quorum)
	if err != nil {
		t.Fatal(err)
	}
	return f.write(t, name, text)
}

// checkpoint returns the tree's checkpoint signed by the log and cosigned
// by the witnesses numbered (1 to 3).
func (f *verifyFixture) checkpoint(t *testing.T, witnesses ...int) []byte {
	t.Helper()
	c := govlog.Checkpoint{Origin: verifyOrigin, Size: f.tree.Size(), Hash: [32]byte(f.tree.Hash())}
	signers := []note.Signer{f.logKey}
	for _, w := range witnesses {
		signers = append(signers, f.witnesses[w-1])
	}
	signed, err := note.Sign(&note.Note{Text: string(c.Text())}, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// futureWitness returns witness n (1 to 3) with its clock 3 hours ahead.
func (f *verifyFixture) futureWitness(t *testing.T, n int) note.Signer {
	t.Helper()
	w, err := govlog.NewCosigner(f.wskeys[n-1], func() time.Time { return time.Now().Add(3*time.Hour + time.Minute) })
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// checkpointBy returns the tree's checkpoint signed by the log and
// cosigned by cosigners.
func (f *verifyFixture) checkpointBy(t *testing.T, cosigners ...note.Signer) []byte {
	t.Helper()
	c := govlog.Checkpoint{Origin: verifyOrigin, Size: f.tree.Size(), Hash: [32]byte(f.tree.Hash())}
	signed, err := note.Sign(&note.Note{Text: string(c.Text())}, append([]note.Signer{f.logKey}, cosigners...)...)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// bundle returns entry index's bundle under checkpoint.
func (f *verifyFixture) bundle(t *testing.T, index uint64, checkpoint []byte) *govlog.Bundle {
	t.Helper()
	hashes, err := f.tree.InclusionProof(index, f.tree.Size())
	if err != nil {
		t.Fatal(err)
	}
	b := &govlog.Bundle{Extra: f.entries[index], Index: index, Checkpoint: checkpoint}
	for _, h := range hashes {
		b.Proof = append(b.Proof, [32]byte(h))
	}
	return b
}

func (f *verifyFixture) promise(t *testing.T, leaf []byte, deadline time.Time, key note.Signer) []byte {
	t.Helper()
	p, err := govlog.Promise{Origin: verifyOrigin, LeafHash: govlog.LeafHash(leaf), Deadline: deadline}.Sign(key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// damage flips a character in the middle of the signature on the first
// line by key name, keeping its base64 canonical and its key hash.
func damage(t *testing.T, signed []byte, name string) []byte {
	t.Helper()
	prefix := []byte("\n— " + name + " ")
	i := bytes.Index(signed, prefix)
	if i < 0 {
		t.Fatalf("no line by %s in %q", name, signed)
	}
	out := bytes.Clone(signed)
	pos := i + len(prefix) + 20
	out[pos] = map[bool]byte{true: 'B', false: 'A'}[out[pos] == 'A']
	return out
}

// runVerifyCmd runs govlog verify with args and returns its output and
// error.
func runVerifyCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newVerifyCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

func TestVerifyChecks(t *testing.T) {
	f := newVerifyFixture(t)
	good := f.bundle(t, 1, f.checkpoint(t, 1, 2, 3))
	root := hex.EncodeToString(f.tree.Hash())

	otherDoc := f.write(t, "other.txt", []byte("Budget 2027: a forgery\n"))
	otherSum := sha256.Sum256([]byte("Budget 2027: a forgery\n"))

	notAStatement := f.bundle(t, 1, f.checkpoint(t, 1, 2, 3))
	notAStatement.Extra = bytes.Replace(bytes.Clone(notAStatement.Extra), []byte("govlog/statement/v1"), []byte("govlog/statement/v2"), 1)
	bodyChanged := f.bundle(t, 1, f.checkpoint(t, 1, 2, 3))
	bodyChanged.Extra = bytes.Replace(bytes.Clone(bodyChanged.Extra), []byte("Budget 2027"), []byte("Budget 2028"), 1)
	proofChanged := f.bundle(t, 1, f.checkpoint(t, 1, 2, 3))
	proofChanged.Proof[0][5] ^= 1
	indexChanged := f.bundle(t, 1, f.checkpoint(t, 1, 2, 3))
	indexChanged.Index = 2

	_, otherLogVKey := mustKeyPair(t, verifyOrigin)
	impostorPolicy := f.writePolicy(t, "impostor.txt", []string{otherLogVKey}, nil, 0)
	_, strangerVKey := mustKeyPair(t, "gov.example/funds")
	strangerPolicy := f.writePolicy(t, "stranger.txt", []string{strangerVKey}, nil, 0)

	tests := []struct {
		name    string
		bundle  *govlog.Bundle
		args    []string // after the bundle
		policy  string   // f.policy if empty
		wantErr string   // in the verdict error; "" for success
		want    []string // regexps, each must match a line of the output
		notWant []string
	}{
		{name: "good", bundle: good, want: []string{
			`^statement: disclosure.publish at 2026-12-01T08:00:00Z$`,
			`^✓ log signature: the checkpoint of gov.example/disclosures at tree size 3 is signed by the log's key in the policy$`,
			`^✓ witnesses: cosigned by witness-1, witness-2, witness-3: the policy's quorum is met$`,
			`^✓ inclusion proof: entry 1 is in the log's tree of size 3: the entry \(leaf hash [0-9a-f]{64}\) and the proof hash to the checkpoint's root ` + root + `$`,
			`^! agency signature: NOT checked: .* add --registry REGISTRY.yaml \(or --registry-server ADDR\)$`,
			`^OK: entry 1 of gov.example/disclosures is in the log, proved at tree size 3 \(root ` + root + `\)$`,
		}},
		{name: "document matches", bundle: good, args: []string{"--file", f.doc}, want: []string{
			`^✓ document .*budget-2027.txt: its SHA-256 ` + f.docHash + ` matches the entry's sha256: it is the document the entry records$`,
			`^OK: entry 1 .*; .*budget-2027.txt is the document it records$`,
		}},
		{name: "document does not match", bundle: good, args: []string{"--file", otherDoc}, wantErr: "does NOT match", want: []string{
			`^✗ document .*other.txt: does NOT match: its SHA-256 is ` + hex.EncodeToString(otherSum[:]) + `, but the entry records sha256 ` + f.docHash + `: this is not the document`,
		}, notWant: []string{`^OK`}},
		{name: "entry not a statement", bundle: notAStatement, wantErr: "entry: its bytes are not a well-formed statement", want: []string{
			`^✗ entry: its bytes are not a well-formed statement for gov.example/disclosures: changed after the log made this bundle \(with the proof they hash to root [0-9a-f]{64}, but the checkpoint's root is ` + root + `\)$`,
		}},
		{name: "entry changed, by its signature", bundle: bodyChanged, args: []string{"--registry", f.registry}, wantErr: "entry: its bytes were changed after it was signed", want: []string{
			`^✗ entry: its bytes were changed after it was signed: its signature does NOT verify with .*registry.yaml \(with the proof they hash to root [0-9a-f]{64}, but the checkpoint's root is ` + root + `\)$`,
		}, notWant: []string{`^✗ inclusion proof`, `agency signature`}},
		{name: "proof changed, the entry intact", bundle: proofChanged, args: []string{"--registry", f.registry}, wantErr: "inclusion proof: ", want: []string{
			`^✓ entry: its signature verifies with .*registry.yaml: its bytes are as its signer signed them$`,
			`^✗ inclusion proof: the entry and the proof hash to root [0-9a-f]{64}, but the checkpoint's root is ` + root + `: the proof or its index was changed after the log made this bundle$`,
		}},
		{name: "good, with the registry", bundle: good, args: []string{"--registry", f.registry}, want: []string{
			`^✓ agency signature: valid, by demo-agency$`,
			`^✓ authorized: demo-agency held the role discloser at 2026-12-01T08:00:00Z$`,
			`^OK: entry 1 `,
		}, notWant: []string{`NOT checked`}},
		{name: "registry unreadable", bundle: good, args: []string{"--registry", filepath.Join(f.dir, "none.yaml")}, wantErr: "agency signature: NOT checked: the registry", want: []string{
			`^✓ inclusion proof: `,
			`^✗ agency signature: NOT checked: the registry .*none.yaml can't be read: `,
		}},
		{name: "entry changed", bundle: bodyChanged, wantErr: "inclusion proof: the entry and the proof hash to root", want: []string{
			`^✗ inclusion proof: the entry and the proof hash to root [0-9a-f]{64}, but the checkpoint's root is ` + root + `: the entry, its index or the proof was changed`,
		}},
		{name: "proof changed", bundle: proofChanged, wantErr: "but the checkpoint's root is " + root, want: []string{
			`^✗ inclusion proof: the entry and the proof hash to root [0-9a-f]{64}, but the checkpoint's root is ` + root,
		}, notWant: []string{`\[\d+ \d+`}},
		{name: "index changed", bundle: indexChanged, args: []string{"--file", f.doc}, wantErr: "inclusion proof", want: []string{
			`^✗ inclusion proof: `,
			`^! document .*budget-2027.txt: NOT checked: the bundle does not prove its entry$`,
		}, notWant: []string{`agency signature`}},
		{name: "log signature bad", bundle: f.bundle(t, 1, damage(t, f.checkpoint(t, 1, 2, 3), verifyOrigin)), wantErr: "log signature", want: []string{
			`^✗ log signature: the checkpoint is NOT validly signed by the key the policy lists for gov.example/disclosures: it was changed after signing, or signed by another key`,
		}, notWant: []string{`^✓ inclusion`, `^OK`}},
		{name: "another key for the log", bundle: good, policy: impostorPolicy, wantErr: "log signature", want: []string{
			`^✗ log signature: the checkpoint is NOT validly signed by the key the policy lists for gov.example/disclosures`,
		}},
		{name: "log not in the policy", bundle: good, policy: strangerPolicy, wantErr: "log signature", want: []string{
			`^✗ log signature: the checkpoint is from the log gov.example/disclosures, which the policy does not list`,
		}},
		{name: "one bad cosignature, quorum holds", bundle: f.bundle(t, 1, damage(t, f.checkpoint(t, 1, 2, 3), "witness-2")), want: []string{
			`^! witness witness-2: its cosignature does NOT verify with its key in the policy \(damaged, or forged in its name\); ignored: the quorum holds without it$`,
			`^✓ witnesses: cosigned by witness-1, witness-3: the policy's quorum is met$`,
			`^OK: entry 1 `,
		}},
		{name: "bad cosignatures, quorum not met", bundle: f.bundle(t, 1, damage(t, damage(t, f.checkpoint(t, 1, 2, 3), "witness-2"), "witness-3")), wantErr: "witnesses: the policy's quorum is NOT met", want: []string{
			`^! witness witness-2: its cosignature does NOT verify .*; ignored: not counted$`,
			`^! witness witness-3: its cosignature does NOT verify .*; ignored: not counted$`,
			`^✗ witnesses: the policy's quorum is NOT met: only witness-1 counted \(witness quorum not met: group "witnesses" has 1 of 3 members satisfied, needs 2 \(counted: witness-1\); cosignature does not verify: witness "witness-2": .*witness "witness-3"`,
		}, notWant: []string{`^OK`}},
		{name: "one cosignature from the future", bundle: f.bundle(t, 1, f.checkpointBy(t, f.witnesses[0], f.futureWitness(t, 2))), wantErr: "only witness-1 counted", want: []string{
			`^! witness witness-2: its cosignature does not count: cosignature time not accepted: witness "witness-2" cosigned 3 hours [^(]*in the future \(at \S+\), beyond the 10 minutes of clock skew allowed; ignored: not counted$`,
			`^✗ witnesses: the policy's quorum is NOT met: only witness-1 counted`,
		}},
		{name: "one cosignature, quorum not met", bundle: f.bundle(t, 1, f.checkpoint(t, 3)), wantErr: "only witness-3 counted", want: []string{
			`^✗ witnesses: the policy's quorum is NOT met: only witness-3 counted`,
		}},
		{name: "a stranger's line", bundle: f.bundle(t, 1, append(f.checkpoint(t, 1, 2), "— witnesz-9 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"...)), want: []string{
			`^! ignored: 1 signature line\(s\) by no key of the policy \(witnesz-9\+00000000\): damaged, or by witnesses it does not list; the quorum holds without them$`,
			`^OK: entry 1 `,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := tt.policy
			if policy == "" {
				policy = f.policy
			}
			bundle := f.write(t, "entry.bundle", tt.bundle.Marshal())
			out, err := runVerifyCmd(t, append([]string{"--policy", policy, bundle}, tt.args...)...)
			checkVerifyOutput(t, out, err, tt.wantErr, tt.want, tt.notWant)
		})
	}
}

// mustKeyPair returns a fresh note signer named name and its vkey.
func mustKeyPair(t *testing.T, name string) (note.Signer, string) {
	t.Helper()
	vkey, skey := mustKey(t, name)
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

func checkVerifyOutput(t *testing.T, out string, err error, wantErr string, want, notWant []string) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Errorf("verify failed: %v\n%s", err, out)
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr) || !strings.Contains(err.Error(), "does NOT verify")):
		t.Errorf("verify error = %v, want one saying %q\n%s", err, wantErr, out)
	}
	for _, re := range want {
		if !regexp.MustCompile(`(?m)` + re).MatchString(out) {
			t.Errorf("output doesn't match %s:\n%s", re, out)
		}
	}
	for _, re := range notWant {
		if regexp.MustCompile(`(?m)` + re).MatchString(out) {
			t.Errorf("output matches %s:\n%s", re, out)
		}
	}
}

func TestVerifyPromise(t *testing.T) {
	f := newVerifyFixture(t)
	deadline := cosignTime.Add(time.Hour)
	dl := deadline.Format(time.RFC3339)
	leaf := govlog.LeafHash(f.entries[1])
	leafHex := hex.EncodeToString(leaf[:])
	promise := f.write(t, "entry.promise", f.promise(t, f.entries[1], deadline, f.logKey))
	bundle := f.write(t, "entry.bundle", f.bundle(t, 1, f.checkpoint(t, 1, 2)).Marshal())
	otherEntry := f.write(t, "other.bundle", f.bundle(t, 2, f.checkpoint(t, 1, 2)).Marshal())
	early := f.write(t, "early.promise", f.promise(t, f.entries[1], cosignTime.Add(-time.Hour), f.logKey))
	past := f.write(t, "past.promise", f.promise(t, f.entries[1], time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), f.logKey))
	future := f.write(t, "future.promise", f.promise(t, f.entries[1], time.Now().Add(24*time.Hour), f.logKey))
	impostor, _ := mustKeyPair(t, verifyOrigin)
	forged := f.write(t, "forged.promise", f.promise(t, f.entries[1], deadline, impostor))
	changed := f.write(t, "changed.promise", bytes.Replace(f.promise(t, f.entries[1], deadline, f.logKey),
		[]byte(fmt.Sprint(deadline.Unix())), []byte(fmt.Sprint(deadline.Add(time.Hour).Unix())), 1))

	tests := []struct {
		name    string
		args    []string
		wantErr string
		want    []string
		notWant []string
	}{
		{name: "alone", args: []string{"--promise", promise}, want: []string{
			`^✓ promise signature: signed by the key the policy lists for gov.example/disclosures$`,
			`^✓ promise: gov.example/disclosures promised to include the entry with leaf hash ` + leafHex + ` in the log by ` + dl + `$`,
			`^! promise kept: NOT checked: .* \(govlog prove --server ADDR --log disclosures --hash \S+ --out entry.bundle\)`,
			`^OK: gov.example/disclosures promised to include the entry with leaf hash ` + leafHex + ` by ` + dl + `$`,
		}, notWant: []string{`agency signature`}},
		{name: "alone, deadline passed", args: []string{"--promise", past}, want: []string{
			`^! promise deadline: passed at 2020-01-01T00:00:00Z: if the log does not hold the entry now, this signed promise is public evidence that it broke its word$`,
		}},
		{name: "alone, deadline to come", args: []string{"--promise", future}, notWant: []string{`^! promise deadline`}},
		{name: "alone, as the argument", args: []string{promise}, want: []string{`^✓ promise signature: `, `^OK: gov.example/disclosures promised`}},
		{name: "kept", args: []string{"--promise", promise, bundle}, want: []string{
			`^✓ promise kept: the promised entry is in the log, entry 1$`,
			`^✓ promise deadline: kept: witness-[12] cosigned a checkpoint holding the entry at 2026-12-01T10:00:00Z, by the deadline ` + dl + `$`,
			`^OK: entry 1 of gov.example/disclosures is in the log`,
		}},
		{name: "cosigned after the deadline", args: []string{"--promise", early, bundle}, want: []string{
			`^✓ promise kept: the promised entry is in the log, entry 1$`,
			`^! promise deadline: NOT shown: this bundle's checkpoint was first cosigned at 2026-12-01T10:00:00Z, after the deadline 2026-12-01T09:00:00Z`,
		}},
		{name: "another entry", args: []string{"--promise", promise, otherEntry}, wantErr: "is NOT the promised one", want: []string{
			`^✗ entry: the bundle's entry \(leaf hash [0-9a-f]{64} in gov.example/disclosures\) is NOT the promised one \(leaf hash ` + leafHex + ` in gov.example/disclosures\)`,
		}, notWant: []string{`^OK`}},
		{name: "signed by another key", args: []string{"--promise", forged}, wantErr: "promise signature", want: []string{
			`^✗ promise signature: the promise is NOT validly signed by the key the policy lists for gov.example/disclosures`,
		}},
		{name: "deadline changed", args: []string{"--promise", changed, bundle}, wantErr: "promise signature", want: []string{`^✗ promise signature: `}},
		{name: "not a promise", args: []string{"--promise", f.doc}, wantErr: "promise: not a signed promise"},
		{name: "with a bundle that does not verify", args: []string{"--promise", promise, f.doc}, wantErr: "bundle: not a readable proof bundle", want: []string{
			`^✓ promise signature: `,
			`^✗ promise kept: NOT shown: the bundle does not prove its entry$`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runVerifyCmd(t, append([]string{"--policy", f.policy}, tt.args...)...)
			checkVerifyOutput(t, out, err, tt.wantErr, tt.want, tt.notWant)
		})
	}
}

func TestVerifyUsage(t *testing.T) {
	f := newVerifyFixture(t)
	promise := f.write(t, "entry.promise", f.promise(t, f.entries[1], cosignTime, f.logKey))
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"x.bundle"}, "--policy is required"},
		{[]string{"--policy", f.policy}, "give a bundle to verify"},
		{[]string{"--policy", f.policy, "--file", f.doc, promise}, "--file needs the entry's bundle"},
		{[]string{"--policy", f.policy, "--registry", "r.yaml", "--registry-server", "x:1", promise}, "not both"},
	} {
		if _, err := runVerifyCmd(t, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("verify %q = %v, want %q", tt.args, err, tt.want)
		}
	}
}

// TestDocumentHashes: every SHA-256 of a body is found, at any depth, with
// where it is, fields named sha256 first.
func TestDocumentHashes(t *testing.T) {
	h := func(c string) string { return strings.Repeat(c, 64) }
	st, err := govlog.NewStatement(verifyOrigin, "approvals.apply", cosignTime,
		[]byte(`{"fields":{"site_plan":"`+h("a")+`","area_m2":120},"cites":[{"leaf_hash":"`+h("b")+`"}],"sha256":"`+h("c")+`","note":"`+strings.ToUpper(h("d"))+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := mustKeyPair(t, "demo-agency")
	entry, err := st.Sign(signer)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(documentHashes(entry))
	want := fmt.Sprint([]hashField{{"sha256", h("c")}, {"cites[0].leaf_hash", h("b")}, {"fields.site_plan", h("a")}})
	if got != want {
		t.Errorf("documentHashes() = %s, want %s", got, want)
	}
	if got := documentHashes([]byte("not a statement")); got != nil {
		t.Errorf("documentHashes(not a statement) = %v", got)
	}
}
