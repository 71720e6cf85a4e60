package govlog

import (
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// policyFixture holds a log and six witnesses with deterministic keys.
type policyFixture struct {
	logKey   note.Signer
	logVKey  string
	wit      map[string]note.Signer
	witVKey  map[string]string
	checkpnt []byte // signed by the log, no cosignatures
}

func newPolicyFixture(t testing.TB) *policyFixture {
	t.Helper()
	f := &policyFixture{wit: map[string]note.Signer{}, witVKey: map[string]string{}}
	skey, vkey := testKeys(logOrigin, 10)
	var err error
	if f.logKey, err = note.NewSigner(skey); err != nil {
		t.Fatal(err)
	}
	f.logVKey = vkey
	for i, name := range []string{"X1", "X2", "X3", "Y1", "Y2", "Y3"} {
		f.wit[name], f.witVKey[name] = testWitness(t, "witness.example/"+strings.ToLower(name), byte(30+i))
	}
	if f.checkpnt, err = SignCheckpoint(testCheckpoint(), f.logKey); err != nil {
		t.Fatal(err)
	}
	return f
}

// expand replaces {log} and {X1}... in a policy template with vkeys.
func (f *policyFixture) expand(tmpl string) string {
	r := []string{"{log}", f.logVKey}
	for name, vkey := range f.witVKey {
		r = append(r, "{"+name+"}", vkey)
	}
	return strings.NewReplacer(r...).Replace(tmpl)
}

// cosigned returns the checkpoint cosigned by the named witnesses.
func (f *policyFixture) cosigned(t testing.TB, names ...string) []byte {
	return cosign(t, f.checkpnt, signersOf(f, names)...)
}

func TestParsePolicy(t *testing.T) {
	f := newPolicyFixture(t)
	_, otherLog := testKeys("gov.example/votes", 11)
	_, sameKeyOtherName := testKeys("gov.example/renamed", 10)
	// X1's public key, as an Ed25519 note key of a log.
	x1Pub, err := base64.StdEncoding.DecodeString(strings.SplitN(f.witVKey["X1"], "+", 3)[2])
	if err != nil {
		t.Fatal(err)
	}
	x1AsLog, err := note.NewEd25519VerifierKey("gov.example/x1", x1Pub[1:])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		policy  string
		wantErr error
	}{
		{name: "spec example", policy: `log {log}

witness X1 {X1}
witness X2 {X2}
witness X3 {X3}
group X-witnesses 2 X1 X2 X3

witness Y1 {Y1}
witness Y2 {Y2}
witness Y3 {Y3}
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
`},
		{name: "quorum none", policy: "log {log}\nquorum none\n"},
		{name: "no logs", policy: "quorum none\n"},
		{name: "comments and whitespace", policy: "# a policy\n \t# indented comment\n\t log \t{log}  https://log.example/ \n\n   \nwitness X1 {X1} https://w.example/\nquorum\tX1\t\n"},
		{name: "no final newline", policy: "log {log}\nquorum none"},
		{name: "two logs", policy: "log {log}\nlog " + otherLog + "\nquorum none\n"},
		{name: "non-ASCII name", policy: "witness K\xe2\x84\xaa {X1}\nwitness K {X2}\ngroup g all K\xe2\x84\xaa K\nquorum g\n"},
		{name: "numeric threshold", policy: "witness X1 {X1}\nwitness X2 {X2}\ngroup g 2 X1 X2\nquorum g\n"},
		{name: "quorum before other lines", policy: "witness X1 {X1}\nquorum X1\nlog {log}\n"},

		{name: "empty", policy: "", wantErr: ErrMalformedPolicy},
		{name: "no quorum", policy: "log {log}\n", wantErr: ErrMalformedPolicy},
		{name: "two quorums", policy: "quorum none\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "quorum of undefined", policy: "quorum X1\nwitness X1 {X1}\n", wantErr: ErrMalformedPolicy},
		{name: "quorum extra item", policy: "quorum none none\n", wantErr: ErrMalformedPolicy},
		{name: "unknown keyword", policy: "logs {log}\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "trailing comment", policy: "quorum none # no witnesses\n", wantErr: ErrMalformedPolicy},
		{name: "carriage return", policy: "log {log}\r\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "control character", policy: "quorum none\n#\x00\n", wantErr: ErrMalformedPolicy},
		{name: "DEL", policy: "quorum none\n#\x7f\n", wantErr: ErrMalformedPolicy},
		{name: "form feed as whitespace", policy: "quorum\fnone\n", wantErr: ErrMalformedPolicy},
		{name: "log without key", policy: "log\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "log extra item", policy: "log {log} https://a/ b\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "log bad vkey", policy: "log gov.example/funds+00000000+AQ==\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "log with cosignature key", policy: "log {X1}\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "witness with note key", policy: "witness X1 {log}\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "duplicate log", policy: "log {log}\nlog {log}\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "duplicate log key, other name", policy: "log {log}\nlog " + sameKeyOtherName + "\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "duplicate witness key", policy: "witness X1 {X1}\nwitness X1b {X1}\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "key as log and witness", policy: "log " + x1AsLog + "\nwitness X1 {X1}\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "duplicate witness name", policy: "witness X1 {X1}\nwitness X1 {X2}\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "witness named none", policy: "witness none {X1}\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "witness missing key", policy: "witness X1\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "group named like witness", policy: "witness X1 {X1}\ngroup X1 any X1\nquorum X1\n", wantErr: ErrMalformedPolicy},
		{name: "group named none", policy: "witness X1 {X1}\ngroup none any X1\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "group without members", policy: "group g any\nquorum none\n", wantErr: ErrMalformedPolicy},
		{name: "group of undefined", policy: "group g any X1\nwitness X1 {X1}\nquorum g\n", wantErr: ErrMalformedPolicy},
		{name: "group of itself", policy: "witness X1 {X1}\ngroup g any g X1\nquorum g\n", wantErr: ErrMalformedPolicy},
		{name: "group with none", policy: "witness X1 {X1}\ngroup g any X1 none\nquorum g\n", wantErr: ErrMalformedPolicy},
		{name: "group repeated member", policy: "witness X1 {X1}\ngroup g any X1 X1\nquorum g\n", wantErr: ErrMalformedPolicy},
		{name: "threshold zero", policy: "witness X1 {X1}\ngroup g 0 X1\nquorum g\n", wantErr: ErrMalformedPolicy},
		{name: "threshold above n", policy: "witness X1 {X1}\ngroup g 2 X1\nquorum g\n", wantErr: ErrMalformedPolicy},
		{name: "threshold negative", policy: "witness X1 {X1}\ngroup g -1 X1\nquorum g\n", wantErr: ErrMalformedPolicy},
		{name: "threshold leading zero", policy: "witness X1 {X1}\ngroup g 01 X1\nquorum g\n", wantErr: ErrMalformedPolicy},
		{name: "threshold word", policy: "witness X1 {X1}\ngroup g most X1\nquorum g\n", wantErr: ErrMalformedPolicy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(f.expand(tt.policy)))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParsePolicy() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestPolicyVerify(t *testing.T) {
	f := newPolicyFixture(t)
	const twoLevels = `log {log}
witness X1 {X1}
witness X2 {X2}
witness X3 {X3}
group X-witnesses 2 X1 X2 X3
witness Y1 {Y1}
witness Y2 {Y2}
witness Y3 {Y3}
group Y-witnesses any Y1 Y2 Y3
group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
`
	stranger, _ := testWitness(t, "witness.example/stranger", 99)
	_, otherLogVKey := testKeys("gov.example/votes", 11)
	otherLogKey, _ := testSigner(t, "gov.example/votes", 11)
	otherCheckpoint, err := SignCheckpoint(Checkpoint{Origin: "gov.example/votes", Size: 1}, otherLogKey)
	if err != nil {
		t.Fatal(err)
	}
	// A repeated, identical cosignature line.
	x1Twice := f.cosigned(t, "X1")
	x1Twice = append(x1Twice, x1Twice[len(f.checkpnt):]...)
	// Only witnesses, no log signature.
	witnessOnly := f.cosigned(t, "X1")
	witnessOnly = append(witnessOnly[:len(testCheckpoint().Text())+1:len(testCheckpoint().Text())+1], witnessOnly[len(f.checkpnt):]...)
	// A known witness's cosignature that fails to verify.
	badCosig := f.cosigned(t, "X1")
	badCosig[len(badCosig)-10] ^= 0x01

	tests := []struct {
		name          string
		policy        string
		signed        []byte
		wantWitnesses []string
		wantErr       error
	}{
		{name: "none", policy: "log {log}\nquorum none\n", signed: f.checkpnt},
		{name: "none, cosigned anyway", policy: "log {log}\nwitness X1 {X1}\nquorum none\n", signed: f.cosigned(t, "X1"), wantWitnesses: []string{"X1"}},
		{name: "single witness", policy: "log {log}\nwitness X1 {X1}\nquorum X1\n", signed: f.cosigned(t, "X1"), wantWitnesses: []string{"X1"}},
		{name: "single witness missing", policy: "log {log}\nwitness X1 {X1}\nquorum X1\n", signed: f.checkpnt, wantErr: ErrQuorumNotMet},
		{name: "single witness, another cosigned", policy: "log {log}\nwitness X1 {X1}\nwitness X2 {X2}\nquorum X1\n", signed: f.cosigned(t, "X2"), wantErr: ErrQuorumNotMet},
		{name: "groups of groups", policy: twoLevels, signed: f.cosigned(t, "X1", "X3", "Y2"), wantWitnesses: []string{"X1", "X3", "Y2"}},
		{name: "groups of groups, all", policy: twoLevels, signed: f.cosigned(t, "Y3", "X1", "X2", "X3", "Y1", "Y2"), wantWitnesses: []string{"X1", "X2", "X3", "Y1", "Y2", "Y3"}},
		{name: "groups of groups, one X", policy: twoLevels, signed: f.cosigned(t, "X1", "Y1", "Y2"), wantErr: ErrQuorumNotMet},
		{name: "groups of groups, no Y", policy: twoLevels, signed: f.cosigned(t, "X1", "X2", "X3"), wantErr: ErrQuorumNotMet},
		{name: "repeated witness counted once", policy: "log {log}\nwitness X1 {X1}\nwitness X2 {X2}\ngroup g 2 X1 X2\nquorum g\n", signed: x1Twice, wantErr: ErrQuorumNotMet},
		{name: "repeated witness line accepted", policy: "log {log}\nwitness X1 {X1}\nquorum X1\n", signed: x1Twice, wantWitnesses: []string{"X1"}},
		{name: "unknown witness ignored", policy: "log {log}\nwitness X1 {X1}\nquorum X1\n", signed: cosign(t, f.cosigned(t, "X1"), stranger), wantWitnesses: []string{"X1"}},
		{name: "unknown witness doesn't count", policy: "log {log}\nwitness X1 {X1}\nwitness X2 {X2}\ngroup g 2 X1 X2\nquorum g\n", signed: cosign(t, f.cosigned(t, "X1"), stranger), wantErr: ErrQuorumNotMet},
		{name: "witness of another policy ignored", policy: "log {log}\nwitness X1 {X1}\nquorum X1\n", signed: f.cosigned(t, "X1", "Y1"), wantWitnesses: []string{"X1"}},
		{name: "bad cosignature does not count", policy: "log {log}\nwitness X1 {X1}\nquorum none\n", signed: badCosig},
		{name: "bad cosignature, quorum not met", policy: "log {log}\nwitness X1 {X1}\nquorum X1\n", signed: badCosig, wantErr: ErrInvalidCosignature},
		{name: "unknown log", policy: "log " + otherLogVKey + "\nquorum none\n", signed: f.checkpnt, wantErr: ErrUnknownLog},
		{name: "no logs", policy: "quorum none\n", signed: f.checkpnt, wantErr: ErrUnknownLog},
		{name: "second log", policy: "log {log}\nlog " + otherLogVKey + "\nquorum none\n", signed: otherCheckpoint},
		{name: "witnesses but no log signature", policy: "log {log}\nwitness X1 {X1}\nquorum X1\n", signed: witnessOnly, wantErr: ErrCheckpointSignature},
		{name: "malformed", policy: "log {log}\nquorum none\n", signed: f.checkpnt[:10], wantErr: ErrMalformedCheckpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy([]byte(f.expand(tt.policy)))
			if err != nil {
				t.Fatal(err)
			}
			c, witnesses, err := p.Verify(tt.signed)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if c.Origin == "" || !reflect.DeepEqual(witnesses, tt.wantWitnesses) {
				t.Errorf("Verify() = %+v, %q; want witnesses %q", c, witnesses, tt.wantWitnesses)
			}
		})
	}
}

func TestQuorumNotMetDetail(t *testing.T) {
	f := newPolicyFixture(t)
	p, err := ParsePolicy([]byte(f.expand("log {log}\nwitness X1 {X1}\nwitness X2 {X2}\nwitness X3 {X3}\ngroup g 2 X1 X2 X3\nquorum g\n")))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = p.Verify(f.cosigned(t, "X2"))
	if want := `group "g" has 1 of 3 members satisfied, needs 2`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q doesn't say %q", err, want)
	}
}

func TestPolicyAccessors(t *testing.T) {
	f := newPolicyFixture(t)
	p, err := ParsePolicy([]byte(f.expand("log {log} https://log.example/\nwitness X1 {X1} https://x1.example/\nwitness X2 {X2}\nquorum X1\n")))
	if err != nil {
		t.Fatal(err)
	}
	logs := p.Logs()
	if len(logs) != 1 || logs[0].Name() != logOrigin {
		t.Errorf("Logs() = %v", logs)
	}
	want := []PolicyWitness{{Name: "X1", VKey: f.witVKey["X1"], URL: "https://x1.example/"}, {Name: "X2", VKey: f.witVKey["X2"]}}
	if got := p.Witnesses(); !reflect.DeepEqual(got, want) {
		t.Errorf("Witnesses() = %+v, want %+v", got, want)
	}
}

func TestFormatPolicy(t *testing.T) {
	f := newPolicyFixture(t)
	ws := []PolicyWitness{{Name: "X1", VKey: f.witVKey["X1"], URL: "https://x1.example/"}, {Name: "X2", VKey: f.witVKey["X2"]}}
	text, err := FormatPolicy([]string{f.logVKey}, ws, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("log %s\nwitness X1 %s https://x1.example/\nwitness X2 %s\ngroup witnesses 2 X1 X2\nquorum witnesses\n", f.logVKey, ws[0].VKey, ws[1].VKey)
	if string(text) != want {
		t.Errorf("FormatPolicy() = %q, want %q", text, want)
	}
	p, _ := ParsePolicy(text)
	if _, _, err := p.Verify(f.cosigned(t, "X1")); !errors.Is(err, ErrQuorumNotMet) {
		t.Errorf("Verify(one of two) = %v", err)
	}
	if _, _, err := p.Verify(f.cosigned(t, "X1", "X2")); err != nil {
		t.Errorf("Verify(two of two) = %v", err)
	}
	if text, err := FormatPolicy([]string{f.logVKey}, nil, 0); err != nil || !strings.HasSuffix(string(text), "quorum none\n") {
		t.Errorf("FormatPolicy(none) = %q, %v", text, err)
	}
	for _, bad := range [][]PolicyWitness{
		{{Name: "X1\nquorum", VKey: f.witVKey["X1"]}},
		{{Name: "X 1", VKey: f.witVKey["X1"]}},
		{{Name: "", VKey: f.witVKey["X1"]}},
		{{Name: "X1", VKey: f.witVKey["X1"], URL: "a b"}},
	} {
		if _, err := FormatPolicy(nil, bad, 1); !errors.Is(err, ErrMalformedPolicy) {
			t.Errorf("FormatPolicy(%q) error = %v", bad[0].Name, err)
		}
	}
	if _, err := FormatPolicy(nil, ws, 3); !errors.Is(err, ErrMalformedPolicy) {
		t.Errorf("FormatPolicy(threshold 3 of 2) error = %v", err)
	}
}

func FuzzParsePolicy(f *testing.F) {
	fx := newPolicyFixture(f)
	f.Add([]byte(fx.expand("log {log}\nwitness X1 {X1}\nwitness X2 {X2}\nwitness Y1 {Y1}\ngroup X 2 X1 X2\ngroup XY all X Y1\nquorum XY\n")))
	f.Add([]byte(fx.expand("# comment\n log {log} https://log.example/\nquorum none\n")))
	f.Add([]byte(fx.expand("witness X1 {X1}\ngroup g any X1\nquorum g")))
	checkpoint := fx.cosigned(f, "X1", "X2", "Y1")
	f.Fuzz(func(t *testing.T, text []byte) {
		p, err := ParsePolicy(text)
		if err != nil {
			return
		}
		// Whatever the policy, verifying must not panic, and success
		// requires a log signature.
		if _, _, err := p.Verify(checkpoint); err == nil && len(p.Logs()) == 0 {
			t.Fatal("verified a checkpoint with no logs")
		}
		// Formatting the parsed logs and witnesses parses again.
		var vkeys []string
		for _, l := range p.logs {
			vkeys = append(vkeys, l.vkey)
		}
		if _, err := FormatPolicy(vkeys, p.Witnesses(), 0); err != nil {
			t.Fatalf("FormatPolicy of a parsed policy: %v", err)
		}
	})
}
