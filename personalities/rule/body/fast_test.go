package body

import (
	"reflect"
	"testing"
	"unicode/utf8"
)

// fastSeeds are bodies of every shape: the quick path takes the first
// ones, and must leave the rest (escapes, white space, repeated names,
// bad numbers, too deep) to the token reader.
var fastSeeds = []string{
	`{"doc_id":"2026-001","sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","title":"Budget 2026","url":"https://example.org/b.pdf"}`,
	`{"a":1,"b":[{"c":null},true,false,-0.5e+10,[]],"d":{}}`,
	`{"a":"\u00e9"}`, `{"a":"x\"y"}`, `{ "a":1}`, `{"a":1 }`, ` {"a":1}`, `{"a":1,"a":2}`,
	`{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a":[[[1]]]}`, `{"a":[{"b":{}}]}`,
	`{"a":1}x`, `{"a":1,}`, `{"a"}`, `[]`, `"x"`, `{"a":"` + "\x01" + `"}`, `{"a":"é"}`, `{`, ``,
}

// TestFastDecodeTakesCommonBodies: the quick path is taken for bodies as
// RFC 8785 writes them, so it is not dead code.
func TestFastDecodeTakesCommonBodies(t *testing.T) {
	for _, s := range fastSeeds[:2] {
		if _, ok := fastDecode([]byte(s)); !ok {
			t.Errorf("fastDecode left %s to the token reader", s)
		}
	}
}

// FuzzFastDecode: whatever the quick path takes, the token reader takes
// too, with the same result.
func FuzzFastDecode(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return // decode refuses it before either path
		}
		v, ok := fastDecode(data)
		if !ok {
			return
		}
		w, err := decodeTokens(data)
		if err != nil {
			t.Fatalf("fastDecode took %q, the token reader refuses it: %v", data, err)
		}
		if !reflect.DeepEqual(v, w) {
			t.Fatalf("%q: fastDecode = %#v, the token reader = %#v", data, v, w)
		}
	})
}
