package govlog

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/gowebpki/jcs"
)

var splitSeeds = []string{
	`{"body":{"doc_id":"2026-001","title":"Budget \"2026\""},"time":"2026-06-01T00:00:00Z","type":"disclosure.publish"}`,
	`{"body":[1,{"a":"]"},"\\"],"time":"2026-06-01T00:00:00Z","type":"x.y"}`,
	`{"body":"x,y","time":"t","type":"y"}`, `{"body":1,"time":"t","type":"y"}`, `{"body":null,"time":"t","type":"y"}`,
	`{"body":{},"time":"t\n","type":"y"}`, `{"body":{},"time":"t","type":"y","zz":1}`, `{"a":1,"body":{},"time":"t","type":"y"}`,
	`{"body":{},"time":1,"type":"y"}`, `{"body":{},"type":"y"}`, `{"body":{}}`, `{}`, `[]`,
}

// TestSplitStatementTakesCommonLines: the quick path is taken for
// statements as clients write them, so it is not dead code.
func TestSplitStatementTakesCommonLines(t *testing.T) {
	for _, s := range splitSeeds[:5] {
		if _, _, _, ok := splitStatement([]byte(s)); !ok {
			t.Errorf("splitStatement left %s to encoding/json", s)
		}
	}
}

// FuzzSplitStatement: on a canonical line (the only kind it is given),
// what the quick path takes, encoding/json reads the same way.
func FuzzSplitStatement(f *testing.F) {
	for _, s := range splitSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if c, err := jcs.Transform(line); err != nil || !bytes.Equal(c, line) {
			return
		}
		body, ts, typ, ok := splitStatement(line)
		if !ok {
			return
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(line, &fields); err != nil || len(fields) != 3 {
			t.Fatalf("splitStatement took %q: encoding/json reads %d fields, %v", line, len(fields), err)
		}
		var wantTS, wantType string
		if err := json.Unmarshal(fields["time"], &wantTS); err != nil {
			t.Fatalf("%q: time: %v", line, err)
		}
		if err := json.Unmarshal(fields["type"], &wantType); err != nil {
			t.Fatalf("%q: type: %v", line, err)
		}
		if !bytes.Equal(body, fields["body"]) || ts != wantTS || typ != wantType {
			t.Fatalf("%q: split into %q %q %q, encoding/json reads %q %q %q", line, body, ts, typ, fields["body"], wantTS, wantType)
		}
	})
}

var canonicalSeeds = []string{
	`{"body":{"doc_id":"2026-001","pages":12,"title":"Budget 2026 — 预算"},"time":"2026-06-01T00:00:00Z","type":"disclosure.publish"}`,
	`{"a":[1,-2,0,true,false,null,{}],"b":[]}`, `[]`, `"x"`, `0`,
	`{"b":1,"a":2}`, `{"a":1,"a":1}`, `{"a":1.5}`, `{"a":1e3}`, `{"a":-0}`, `{"a":01}`, `{"a":1234567890123456}`,
	`{"a":"x\"y"}`, `{"a":"\u00e9"}`, `{"é":1}`, `{ "a":1}`, `{"a":1} `, "{\"a\":\"\x7f\"}", "{\"a\":\"\xff\"}",
	`{"a":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}`, `{"a":truex}`, `{"a":1,}`, ``,
}

// TestProvablyCanonicalTakesCommonLines: statements as clients write them
// are proved canonical without jcs.Transform, so the quick path is used.
func TestProvablyCanonicalTakesCommonLines(t *testing.T) {
	for _, s := range canonicalSeeds[:5] {
		if !provablyCanonical([]byte(s)) {
			t.Errorf("provablyCanonical(%s) = false", s)
		}
	}
}

// FuzzProvablyCanonical: what the quick check proves canonical,
// jcs.Transform returns unchanged.
func FuzzProvablyCanonical(f *testing.F) {
	for _, s := range append(canonicalSeeds, splitSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !provablyCanonical(data) {
			return
		}
		c, err := jcs.Transform(data)
		if err != nil || !bytes.Equal(c, data) {
			t.Fatalf("provablyCanonical(%q), but jcs.Transform = %q, %v", data, c, err)
		}
	})
}
