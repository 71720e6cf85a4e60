package govlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/gowebpki/jcs"
)

// checkNumbersByDecoder is the straightforward check, with a tokenizing
// decoder: the oracle checkNumbers' scan is tested against.
func checkNumbersByDecoder(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if n, ok := tok.(json.Number); ok && !safeNumber(string(n)) {
			return ErrMalformedStatement
		}
	}
}

var numberSeeds = []string{
	`{}`, `{"n":9007199254740992}`, `{"n":-9007199254740992}`, `{"n":9007199254740993}`,
	`{"n":1e+21}`, `{"n":[0.1,-2.5e-7,3]}`, `{"a":"-99999999999999999","b":1}`,
	`{"a\"9007199254740993":1}`, `{"a\\":9007199254740993}`, `{"\u0039":[true,false,null,-0]}`,
	`{"n":{"m":[[9007199254740993]]}}`, `{"s":"\\\"","n":12}`, `{"n":4503599627370496.5}`,
}

func TestCheckNumbersMatchesDecoder(t *testing.T) {
	for _, s := range numberSeeds {
		checkNumbersAgree(t, []byte(s))
	}
}

// FuzzCheckNumbers: on every canonical JSON text, the scan and the decoder
// agree on whether its numbers are safe.
func FuzzCheckNumbers(f *testing.F) {
	for _, s := range numberSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkNumbersAgree)
}

func checkNumbersAgree(t *testing.T, data []byte) {
	canonical, err := jcs.Transform(data)
	if err != nil {
		return // checkNumbers only ever sees canonical JSON
	}
	scan, oracle := checkNumbers(canonical), checkNumbersByDecoder(canonical)
	if (scan == nil) != (oracle == nil) {
		t.Fatalf("%s: scan says %v, decoder says %v", canonical, scan, oracle)
	}
}
