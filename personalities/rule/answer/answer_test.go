package answer_test

import (
	"strings"
	"testing"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/answer"
)

func TestDecode(t *testing.T) {
	type A struct{ X int }
	var a A
	if err := answer.Decode([]byte(`{"X":1}`), &a, "an A"); err != nil || a.X != 1 {
		t.Errorf("Decode = %+v, %v", a, err)
	}
	for in, want := range map[string]string{
		`{"X":1,"Y":2}`: "not an A: json: unknown field",
		`{"X":1}{}`:     "not an A: data after it",
		`nope`:          "not an A: invalid character",
	} {
		if err := answer.Decode([]byte(in), &a, "an A"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode(%s) = %v, want %q", in, err, want)
		}
	}
}

func TestEntry(t *testing.T) {
	e := rule.ProvedEntry{LeafHash: [32]byte{0xab}, Type: "t"}
	proved := answer.ByHash([]rule.ProvedEntry{e})
	hex := "ab00000000000000000000000000000000000000000000000000000000000000"
	if got, err := answer.Entry(proved, hex); err != nil || got.Type != "t" {
		t.Errorf("Entry = %+v, %v", got, err)
	}
	if _, err := answer.Entry(proved, "02"+hex[2:]); err == nil || !strings.Contains(err.Error(), "no proof") {
		t.Errorf("an entry not proved: %v", err)
	}
	for _, bad := range []string{strings.ToUpper(hex), hex[:62], "zz" + hex[2:]} {
		if _, err := answer.LeafHash(bad); err == nil {
			t.Errorf("LeafHash(%q) accepted", bad)
		}
	}
}
