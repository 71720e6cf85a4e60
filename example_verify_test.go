package govlog

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// ExamplePolicy_VerifyCheckpoint verifies a checkpoint that three
// witnesses cosigned, one of whose lines was damaged on its way: two of
// three suffice, so it verifies, and the damaged one is named.
func ExamplePolicy_VerifyCheckpoint() {
	logSkey, logVkey := testKeys("gov.example/funds", 10)
	logKey, _ := note.NewSigner(logSkey)
	checkpoint := Checkpoint{Origin: "gov.example/funds", Size: 12}
	signers := []note.Signer{logKey}
	var witnesses []PolicyWitness
	for i, name := range []string{"court", "parliament", "press"} {
		skey, vkey, _ := GenerateCosignerKey(bytes.NewReader(bytes.Repeat([]byte{byte(20 + i)}, 32)), "witness.example/"+name)
		w, _ := NewCosigner(skey, func() time.Time { return time.Unix(1767225600, 0) })
		signers = append(signers, w)
		witnesses = append(witnesses, PolicyWitness{Name: name, VKey: vkey})
	}
	signed, _ := note.Sign(&note.Note{Text: string(checkpoint.Text())}, signers...)
	// One character of parliament's signature changed in transit.
	damage := func(signed []byte, name string) []byte {
		prefix := "— witness.example/" + name + " "
		i := bytes.Index(signed, []byte(prefix)) + len(prefix) + 20
		out := bytes.Clone(signed)
		out[i] = map[bool]byte{true: 'B', false: 'A'}[out[i] == 'A']
		return out
	}
	signed = damage(signed, "parliament")

	policyText, _ := FormatPolicy([]string{logVkey}, witnesses, 2)
	policy, err := ParsePolicy(policyText)
	if err != nil {
		panic(err)
	}
	v, err := policy.VerifyCheckpoint(signed)
	fmt.Println(err)
	fmt.Println(v.Checkpoint.Origin, v.Checkpoint.Size, v.Witnesses, v.CosignedAt[0].Format(time.DateOnly))
	for _, nc := range v.NotCounted {
		fmt.Println(nc.Witness, errors.Is(nc.Err, ErrInvalidCosignature))
	}

	// With press's line damaged too, the quorum fails, naming who counted.
	_, err = policy.VerifyCheckpoint(damage(signed, "press"))
	fmt.Println(errors.Is(err, ErrQuorumNotMet), errors.Is(err, ErrInvalidCosignature))
	fmt.Println(err)
	// Output:
	// <nil>
	// gov.example/funds 12 [court press] 2026-01-01
	// parliament true
	// true true
	// witness quorum not met: group "witnesses" has 1 of 3 members satisfied, needs 2 (counted: court); cosignature does not verify: witness "parliament": its cosignature does not verify with its key in the policy; witness "press": its cosignature does not verify with its key in the policy
}
