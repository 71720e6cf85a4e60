package govlog

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// damageLine flips one character in the middle of the signature of the
// first line by key name in signed, keeping its base64 canonical and its
// key hash intact: a cosignature damaged in transit, or forged.
func damageLine(t testing.TB, signed []byte, name string) []byte {
	t.Helper()
	prefix := []byte("\n— " + name + " ")
	i := bytes.Index(signed, prefix)
	if i < 0 {
		t.Fatalf("no line by %s in %q", name, signed)
	}
	out := bytes.Clone(signed)
	pos := i + len(prefix) + 20
	if out[pos] == 'A' {
		out[pos] = 'B'
	} else {
		out[pos] = 'A'
	}
	return out
}

// TestVerifyCheckpointBadCosignature: a witness's cosignature that does not
// verify does not count, and is named; the checkpoint verifies if the quorum
// holds without it, and fails naming who counted if not.
func TestVerifyCheckpointBadCosignature(t *testing.T) {
	f := newPolicyFixture(t)
	p, err := ParsePolicy([]byte(f.expand(twoOfThree)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		signed        []byte
		wantWitnesses []string
		wantBad       []string // witnesses not counted, in line order
		wantErr       []error
		wantMsg       []string
	}{
		{name: "all good", signed: f.cosigned(t, "X1", "X2", "X3"), wantWitnesses: []string{"X1", "X2", "X3"}},
		{name: "one bad, quorum holds", signed: damageLine(t, f.cosigned(t, "X1", "X2", "X3"), "witness.example/x2"),
			wantWitnesses: []string{"X1", "X3"}, wantBad: []string{"X2"}},
		{name: "two bad, quorum not met", signed: damageLine(t, damageLine(t, f.cosigned(t, "X1", "X2", "X3"), "witness.example/x2"), "witness.example/x3"),
			wantWitnesses: []string{"X1"}, wantBad: []string{"X2", "X3"}, wantErr: []error{ErrQuorumNotMet, ErrInvalidCosignature},
			wantMsg: []string{`group "g" has 1 of 3 members satisfied, needs 2 (counted: X1)`, `witness "X2": its cosignature does not verify`, `witness "X3": its cosignature does not verify`}},
		{name: "one bad, one missing", signed: damageLine(t, f.cosigned(t, "X1", "X2"), "witness.example/x1"),
			wantWitnesses: []string{"X2"}, wantBad: []string{"X1"}, wantErr: []error{ErrQuorumNotMet, ErrInvalidCosignature},
			wantMsg: []string{`(counted: X2)`, `witness "X1": its cosignature does not verify`}},
		{name: "none counted", signed: f.checkpnt, wantErr: []error{ErrQuorumNotMet}, wantMsg: []string{`(counted: none)`}},
		// note.Open's rule: a witness's first line decides, later ones
		// are ignored, even a valid one.
		{name: "bad first line, good second", signed: append(damageLine(t, f.cosigned(t, "X1", "X2"), "witness.example/x1"), f.cosigned(t, "X1")[len(f.checkpnt):]...),
			wantWitnesses: []string{"X2"}, wantBad: []string{"X1"}, wantErr: []error{ErrQuorumNotMet}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := p.VerifyCheckpoint(tt.signed)
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("VerifyCheckpoint() error = %v, want %v", err, want)
				}
			}
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("VerifyCheckpoint() error = %v", err)
			}
			for _, want := range tt.wantMsg {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v doesn't say %q", err, want)
				}
			}
			if v == nil {
				t.Fatal("no verification returned with a quorum failure")
			}
			if !reflect.DeepEqual(v.Witnesses, tt.wantWitnesses) {
				t.Errorf("Witnesses = %q, want %q", v.Witnesses, tt.wantWitnesses)
			}
			if len(v.CosignedAt) != len(v.Witnesses) {
				t.Errorf("CosignedAt %v for witnesses %q", v.CosignedAt, v.Witnesses)
			}
			for _, at := range v.CosignedAt {
				if !at.Equal(fixedTime()) {
					t.Errorf("CosignedAt %v, want %v", at, fixedTime())
				}
			}
			var bad []string
			for _, nc := range v.NotCounted {
				bad = append(bad, nc.Witness)
				if !errors.Is(nc.Err, ErrInvalidCosignature) || !strings.Contains(nc.Err.Error(), `"`+nc.Witness+`"`) {
					t.Errorf("NotCounted %s: %v", nc.Witness, nc.Err)
				}
			}
			if !reflect.DeepEqual(bad, tt.wantBad) {
				t.Errorf("NotCounted = %q, want %q", bad, tt.wantBad)
			}
			// Verify agrees.
			_, names, verr := p.Verify(tt.signed)
			if (verr == nil) != (err == nil) || verr == nil && !reflect.DeepEqual(names, tt.wantWitnesses) {
				t.Errorf("Verify() = %q, %v; VerifyCheckpoint %q, %v", names, verr, v.Witnesses, err)
			}
		})
	}
}

// TestVerifyCheckpointBadLogSignature: the log's own signature failing
// rejects the checkpoint whatever the witnesses say, and no verification
// is returned.
func TestVerifyCheckpointBadLogSignature(t *testing.T) {
	f := newPolicyFixture(t)
	p, err := ParsePolicy([]byte(f.expand(twoOfThree)))
	if err != nil {
		t.Fatal(err)
	}
	signed := damageLine(t, f.cosigned(t, "X1", "X2", "X3"), logOrigin)
	v, err := p.VerifyCheckpoint(signed)
	if !errors.Is(err, ErrCheckpointSignature) || v != nil {
		t.Fatalf("VerifyCheckpoint() = %v, %v; want %v and no verification", v, err, ErrCheckpointSignature)
	}
	if _, _, err := p.Verify(signed); !errors.Is(err, ErrCheckpointSignature) {
		t.Fatalf("Verify() error = %v, want %v", err, ErrCheckpointSignature)
	}
}
