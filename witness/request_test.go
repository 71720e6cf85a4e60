package witness_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/govlog/govlog/witness"
)

// specExample is the request body in the text of C2SP tlog-witness.
const specExample = `old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
`

func TestParseAddCheckpointRequest(t *testing.T) {
	old, proof, cp, err := witness.ParseAddCheckpointRequest([]byte(specExample))
	if err != nil {
		t.Fatal(err)
	}
	if old != 20852014 || len(proof) != 4 || !strings.HasPrefix(string(cp), "example.com/behind-the-sofa\n20852163\n") {
		t.Errorf("parsed old %d, %d proof lines, checkpoint %q", old, len(proof), cp)
	}
	if got := witness.FormatAddCheckpointRequest(old, proof, cp); string(got) != specExample {
		t.Errorf("Format doesn't give back the spec's example:\n%s", got)
	}

	hash := "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
	for _, tt := range []struct {
		name, body string
	}{
		{"empty", ""},
		{"no old line", "\nexample.com/log\n"},
		{"old with leading zero", "old 01\n\nx\n"},
		{"old negative", "old -1\n\nx\n"},
		{"old with plus", "old +1\n\nx\n"},
		{"old too big", "old 18446744073709551616\n\nx\n"},
		{"old with two spaces", "old  1\n\nx\n"},
		{"capital Old", "Old 1\n\nx\n"},
		{"CRLF", "old 1\r\n\r\nx\n"},
		{"no empty line", "old 1\n" + hash},
		{"no checkpoint", "old 1\n\n"},
		{"short hash", "old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpka==\n\nx\n"},
		{"unpadded hash", "old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw\n\nx\n"},
		{"url-safe base64", "old 1\n5-pKlUdi2LeF_BcMHBn-Ku6yhPGNCswZZD1X_6QgPd8=\n\nx\n"},
		{"64 proof lines", "old 1\n" + strings.Repeat(hash, 64) + "\nx\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := witness.ParseAddCheckpointRequest([]byte(tt.body)); !errors.Is(err, witness.ErrMalformedRequest) {
				t.Errorf("err = %v, want ErrMalformedRequest", err)
			}
		})
	}
	if _, p, _, err := witness.ParseAddCheckpointRequest([]byte("old 1\n" + strings.Repeat(hash, 63) + "\nx\n")); err != nil || len(p) != 63 {
		t.Errorf("63 proof lines: %d, %v", len(p), err)
	}
}

func FuzzParseAddCheckpointRequest(f *testing.F) {
	f.Add([]byte(specExample))
	f.Add([]byte("old 0\n\nexample.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n— example.com/log AAAA\n"))
	f.Add([]byte("old 1\n\n\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		old, proof, cp, err := witness.ParseAddCheckpointRequest(body)
		if err != nil {
			if !errors.Is(err, witness.ErrMalformedRequest) {
				t.Fatalf("error %v is not ErrMalformedRequest", err)
			}
			return
		}
		if len(proof) > witness.MaxProofLines || len(cp) == 0 {
			t.Fatalf("parsed %d proof lines and a %d-byte checkpoint", len(proof), len(cp))
		}
		// A request has one spelling: formatting what was parsed gives
		// back the same bytes.
		if got := witness.FormatAddCheckpointRequest(old, proof, cp); !bytes.Equal(got, body) {
			t.Fatalf("Format(Parse(%q)) = %q", body, got)
		}
	})
}
