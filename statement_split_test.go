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
