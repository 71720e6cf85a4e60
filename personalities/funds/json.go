package funds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/govlog/govlog/personalities/rule"
)

// maxDepth bounds the nesting of a body: the deepest schema is an object in
// an array in the body object (guarantee release payments, contract
// schedule), so nothing legitimate goes past 3.
const maxDepth = 3

func invalidBody(format string, args ...any) error {
	return fmt.Errorf("%w: %s", rule.ErrInvalidBody, fmt.Sprintf(format, args...))
}

// decodeStrict reads body as exactly one JSON value, keeping numbers as
// json.Number, objects as map[string]any and arrays as []any.
//
// It walks the tokens itself instead of json.Unmarshal into a struct because
// encoding/json matches member names without regard to case and lets a
// repeated name win silently: a signed body {"Amount":1,"amount":2} must not
// mean something a stricter reader of the log would not see. Admission
// already demands RFC 8785 canonical JSON; this keeps the rules safe on their
// own, for the monitor's replay too.
func decodeStrict(body []byte) (any, error) {
	if !utf8.Valid(body) {
		// encoding/json would quietly turn bad bytes into U+FFFD.
		return nil, invalidBody("body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := readValue(dec, 0, "body")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalidBody("unexpected data after the body object")
	}
	return v, nil
}

func readValue(dec *json.Decoder, depth int, path string) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, invalidBody("malformed JSON in %s: %v", path, syntaxText(err))
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // string, json.Number, bool or nil
	}
	if depth >= maxDepth {
		return nil, invalidBody("%s is nested too deeply", path)
	}
	switch d {
	case '{':
		obj := map[string]any{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, invalidBody("malformed JSON in %s: %v", path, syntaxText(err))
			}
			name, ok := tok.(string)
			if !ok { // Token reports bad keys as errors; this is belt and braces.
				return nil, invalidBody("malformed JSON in %s: member name is %s", path, jsonKind(tok))
			}
			if _, dup := obj[name]; dup {
				return nil, invalidBody("duplicate field %q", joinPath(path, name))
			}
			v, err := readValue(dec, depth+1, joinPath(path, name))
			if err != nil {
				return nil, err
			}
			obj[name] = v
		}
		if _, err := dec.Token(); err != nil { // the closing '}'
			return nil, invalidBody("malformed JSON in %s: %v", path, syntaxText(err))
		}
		return obj, nil
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := readValue(dec, depth+1, fmt.Sprintf("%s[%d]", path, len(arr)))
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := dec.Token(); err != nil { // the closing ']'
			return nil, invalidBody("malformed JSON in %s: %v", path, syntaxText(err))
		}
		return arr, nil
	}
	return nil, invalidBody("malformed JSON in %s: unexpected %v", path, d)
}

// joinPath names a member for messages: "amount" at the top of the body,
// "payments[1].amount" below it.
func joinPath(path, name string) string {
	if path == "body" {
		return name
	}
	return path + "." + name
}

// syntaxText turns an io.EOF from a truncated body into words.
func syntaxText(err error) string {
	if errors.Is(err, io.EOF) {
		return "unexpected end of body"
	}
	return err.Error()
}

func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
	}
	return fmt.Sprintf("%v", v)
}

// object is one decoded JSON object with its path, for messages.
type object struct {
	m    map[string]any
	path string // "body", or "payments[1]"
}

// parseObject decodes body, which must be an object whose member names are
// all in required or optional and include every name in required.
func parseObject(body []byte, required, optional []string) (object, error) {
	v, err := decodeStrict(body)
	if err != nil {
		return object{}, err
	}
	return asObject(v, "body", required, optional)
}

func asObject(v any, path string, required, optional []string) (object, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return object{}, invalidBody("%s is %s, not a JSON object", path, jsonKind(v))
	}
	o := object{m: m, path: path}
	// Sorted, so the same body always gets the same message.
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(required, name) && !slices.Contains(optional, name) {
			return object{}, invalidBody("unknown field %q", o.field(name))
		}
	}
	for _, name := range required {
		if _, ok := m[name]; !ok {
			return object{}, invalidBody("missing field %q", o.field(name))
		}
	}
	return o, nil
}

func (o object) field(name string) string { return joinPath(o.path, name) }

func (o object) has(name string) bool {
	_, ok := o.m[name]
	return ok
}

// str returns a string member; an absent member is "".
func (o object) str(name string) (string, error) {
	v, ok := o.m[name]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", invalidBody("field %q must be a string, not %s", o.field(name), jsonKind(v))
	}
	return s, nil
}

// id returns a member that must be an ID (see validID).
func (o object) id(name string) (string, error) {
	s, err := o.str(name)
	if err != nil {
		return "", err
	}
	return s, checkID(o.field(name), s)
}

// commitment returns a member that must be a salted commitment.
func (o object) commitment(name string) (string, error) {
	s, err := o.str(name)
	if err != nil {
		return "", err
	}
	return s, checkCommitment(o.field(name), s)
}

// period returns a member that must be a period, YYYY-MM.
func (o object) period(name string) (string, error) {
	s, err := o.str(name)
	if err != nil {
		return "", err
	}
	return s, checkPeriod(o.field(name), s)
}

// amount returns a member that must be an integer number of minor units
// from minimum to MaxAmount, written as plain decimal digits.
func (o object) amount(name string, minimum int64) (int64, error) {
	field := o.field(name)
	n, ok := o.m[name].(json.Number)
	if !ok {
		return 0, invalidBody("field %q must be a number, not %s", field, jsonKind(o.m[name]))
	}
	s := string(n)
	if strings.HasPrefix(s, "-") {
		return 0, invalidBody("field %q must not be negative", field)
	}
	// The decoder has checked JSON number syntax, so no leading zeros; a
	// fraction or exponent is refused even where it would be integral
	// (1.0, 1e3): canonical JSON never writes an integer so.
	if strings.ContainsAny(s, ".eE") {
		return 0, invalidBody("field %q must be an integer of minor units, without fraction or exponent", field)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v > MaxAmount {
		return 0, invalidBody("field %q is more than %d (2^53), the largest amount every JSON reader agrees on", field, int64(MaxAmount))
	}
	if v < minimum {
		if minimum == 1 {
			return 0, invalidBody("field %q must be positive", field)
		}
		return 0, invalidBody("field %q must be at least %d", field, minimum)
	}
	return v, nil
}

// array returns a member that must be an array of minLen to maxLen values.
func (o object) array(name string, minLen, maxLen int) ([]any, error) {
	field := o.field(name)
	a, ok := o.m[name].([]any)
	if !ok {
		return nil, invalidBody("field %q must be an array, not %s", field, jsonKind(o.m[name]))
	}
	if len(a) < minLen || len(a) > maxLen {
		return nil, invalidBody("field %q has %d elements; it must have %d to %d", field, len(a), minLen, maxLen)
	}
	return a, nil
}
