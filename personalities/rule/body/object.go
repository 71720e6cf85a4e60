package body

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
)

// MaxDepth bounds the nesting of a body: objects and arrays may nest
// MaxDepth deep, counting the body object itself, so an object in an array
// in the body is the deepest value the reader takes. That is as deep as any
// domain's schema goes (the funds log's guarantee release payments and
// contract schedule). The bound keeps the work of refusing a body small; a
// value the schema does not expect is refused anyway.
const MaxDepth = 3

// Object is one JSON object of a body, read strictly by [Parse],
// [Object.Object] or [Array.Object], with its path for messages.
//
// Its accessors read one member each and check its type and form. A member
// the object does not have is missing: call [Object.Has] first for an
// optional one.
type Object struct {
	members map[string]any // values: string, json.Number, bool, nil, map[string]any, []any
	path    string         // "" for the body itself, else "payments[1]"
}

// Parse reads data as a statement body: exactly one JSON object whose member
// names are all in required or optional, and include every name in
// required. See the package doc for what else it refuses.
func Parse(data []byte, required, optional []string) (Object, error) {
	v, err := decode(data)
	if err != nil {
		return Object{}, err
	}
	return asObject(v, "", required, optional)
}

// decode reads data as exactly one JSON value, keeping numbers as
// json.Number, objects as map[string]any and arrays as []any.
func decode(data []byte) (any, error) {
	if !utf8.Valid(data) {
		// encoding/json would quietly turn bad bytes into U+FFFD.
		return nil, Errorf("body is not valid UTF-8")
	}
	if v, ok := fastDecode(data); ok {
		return v, nil
	}
	return decodeTokens(data)
}

// decodeTokens is decode for any data: it reads the JSON token by token.
func decodeTokens(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := readValue(dec, 0, "")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, Errorf("unexpected data after the body object")
	}
	return v, nil
}

func readValue(dec *json.Decoder, depth int, path string) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, Errorf("malformed JSON in %s: %v", describe(path), syntaxText(err))
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // string, json.Number, bool or nil
	}
	if depth >= MaxDepth {
		return nil, Errorf("%s is nested too deeply", describe(path))
	}
	switch d {
	case '{':
		return readObject(dec, depth, path)
	case '[':
		return readArray(dec, depth, path)
	}
	// The decoder reports a misplaced '}' or ']' as an error instead.
	return nil, Errorf("malformed JSON in %s: unexpected %v", describe(path), d)
}

// readObject reads the members of an object whose '{' was just read.
func readObject(dec *json.Decoder, depth int, path string) (map[string]any, error) {
	obj := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, Errorf("malformed JSON in %s: %v", describe(path), syntaxText(err))
		}
		name, ok := tok.(string)
		if !ok { // Token reports bad names as errors; this is belt and braces.
			return nil, Errorf("malformed JSON in %s: member name is %s", describe(path), kind(tok))
		}
		if _, dup := obj[name]; dup {
			return nil, Errorf("duplicate field %q", memberPath(path, name))
		}
		v, err := readValue(dec, depth+1, memberPath(path, name))
		if err != nil {
			return nil, err
		}
		obj[name] = v
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, Errorf("malformed JSON in %s: %v", describe(path), syntaxText(err))
	}
	return obj, nil
}

// readArray reads the elements of an array whose '[' was just read.
func readArray(dec *json.Decoder, depth int, path string) ([]any, error) {
	arr := []any{}
	for dec.More() {
		v, err := readValue(dec, depth+1, elementPath(path, len(arr)))
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return nil, Errorf("malformed JSON in %s: %v", describe(path), syntaxText(err))
	}
	return arr, nil
}

// memberPath names a member for messages: "amount" in the body object,
// "payments[1].amount" below it.
func memberPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// elementPath names an array element for messages: "payments[1]".
func elementPath(path string, i int) string {
	return fmt.Sprintf("%s[%d]", describe(path), i)
}

// describe names a value for messages: "body" for the body itself.
func describe(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// syntaxText turns an io.EOF from a truncated body into words.
func syntaxText(err error) string {
	if errors.Is(err, io.EOF) {
		return "unexpected end of body"
	}
	return err.Error()
}

// kind names the JSON type of a decoded value or token, for messages.
func kind(v any) string {
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

func asObject(v any, path string, required, optional []string) (Object, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Object{}, Errorf("%s is %s, not a JSON object", describe(path), kind(v))
	}
	o := Object{members: m, path: path}
	// Sorted, so the same body always gets the same message.
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(required, name) && !slices.Contains(optional, name) {
			return Object{}, Errorf("unknown field %q", o.Field(name))
		}
	}
	for _, name := range required {
		if _, ok := m[name]; !ok {
			return Object{}, Errorf("missing field %q", o.Field(name))
		}
	}
	return o, nil
}

// Field is the path of the member called name, for messages: "amount" in
// the body object, "payments[1].amount" in the object at payments[1].
func (o Object) Field(name string) string { return memberPath(o.path, name) }

// Has reports whether the object has a member called name.
func (o Object) Has(name string) bool {
	_, ok := o.members[name]
	return ok
}

// member returns the member called name, or an error if it is missing.
func (o Object) member(name string) (any, error) {
	v, ok := o.members[name]
	if !ok {
		return nil, Errorf("missing field %q", o.Field(name))
	}
	return v, nil
}

// Str returns a member that must be a string.
func (o Object) Str(name string) (string, error) {
	v, err := o.member(name)
	if err != nil {
		return "", err
	}
	return asString(v, o.Field(name))
}

// Bool returns a member that must be true or false.
func (o Object) Bool(name string) (bool, error) {
	v, err := o.member(name)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, Errorf("field %q must be true or false, not %s", o.Field(name), kind(v))
	}
	return b, nil
}

func asString(v any, field string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", Errorf("field %q must be a string, not %s", field, kind(v))
	}
	return s, nil
}

// Strings returns the members of an object whose members must all be
// strings (every disclosures body), checked in the order of their names.
func (o Object) Strings() (map[string]string, error) {
	out := make(map[string]string, len(o.members))
	for _, name := range slices.Sorted(maps.Keys(o.members)) {
		s, err := asString(o.members[name], o.Field(name))
		if err != nil {
			return nil, err
		}
		out[name] = s
	}
	return out, nil
}

// checked returns a string member that check accepts.
func (o Object) checked(name string, check func(field, s string) error) (string, error) {
	s, err := o.Str(name)
	if err != nil {
		return "", err
	}
	return s, check(o.Field(name), s)
}

// ID returns a member that must be an ID of the given syntax (usually
// [ID]).
func (o Object) ID(name string, syntax IDSyntax) (string, error) {
	return o.checked(name, syntax.Check)
}

// AgencyID returns a member that must be a registry agency ID
// ([ValidAgencyID]).
func (o Object) AgencyID(name string) (string, error) { return o.checked(name, CheckAgencyID) }

// Text returns a member that must be text of at most maxLen code points
// ([CheckText]).
func (o Object) Text(name string, maxLen int) (string, error) {
	return o.checked(name, func(field, s string) error { return CheckText(field, s, maxLen) })
}

// SHA256 returns a member that must be a SHA-256 in lowercase hex.
func (o Object) SHA256(name string) (string, error) { return o.checked(name, CheckSHA256) }

// Date returns a member that must be a date, YYYY-MM-DD.
func (o Object) Date(name string) (string, error) { return o.checked(name, CheckDate) }

// Period returns a member that must be a period, YYYY-MM.
func (o Object) Period(name string) (string, error) { return o.checked(name, CheckPeriod) }

// Commitment returns a member that must be a salted commitment
// ([ValidCommitment]).
func (o Object) Commitment(name string) (string, error) { return o.checked(name, CheckCommitment) }

// MaxAmount is the largest amount a body may carry, 2^53 minor units:
// RFC 8785 reads numbers as IEEE 754 doubles, so past it two readers of the
// same canonical JSON could disagree on the integer (and the root package
// refuses such statements).
const MaxAmount = 1 << 53

// Amount returns a member that must be an integer number of minor units
// from minimum to [MaxAmount], written as plain decimal digits.
func (o Object) Amount(name string, minimum int64) (int64, error) {
	v, err := o.member(name)
	if err != nil {
		return 0, err
	}
	field := o.Field(name)
	n, ok := v.(json.Number)
	if !ok {
		return 0, Errorf("field %q must be a number, not %s", field, kind(v))
	}
	s := string(n)
	if strings.HasPrefix(s, "-") {
		return 0, Errorf("field %q must not be negative", field)
	}
	// The decoder has checked JSON number syntax, so no leading zeros; a
	// fraction or exponent is refused even where it would be integral
	// (1.0, 1e3): canonical JSON never writes an integer so.
	if strings.ContainsAny(s, ".eE") {
		return 0, Errorf("field %q must be an integer of minor units, without fraction or exponent", field)
	}
	a, err := strconv.ParseInt(s, 10, 64)
	if err != nil || a > MaxAmount {
		return 0, Errorf("field %q is more than %d (2^53), the largest amount every JSON reader agrees on", field, int64(MaxAmount))
	}
	if a < minimum {
		if minimum == 1 {
			return 0, Errorf("field %q must be positive", field)
		}
		return 0, Errorf("field %q must be at least %d", field, minimum)
	}
	return a, nil
}

// Array returns a member that must be an array of minLen to maxLen values.
func (o Object) Array(name string, minLen, maxLen int) (Array, error) {
	v, err := o.member(name)
	if err != nil {
		return Array{}, err
	}
	field := o.Field(name)
	a, ok := v.([]any)
	if !ok {
		return Array{}, Errorf("field %q must be an array, not %s", field, kind(v))
	}
	if len(a) < minLen || len(a) > maxLen {
		return Array{}, Errorf("field %q has %d elements; it must have %d to %d", field, len(a), minLen, maxLen)
	}
	return Array{elems: a, path: field}, nil
}

// Object returns a member that must be an object whose member names are all
// in required or optional, and include every name in required.
func (o Object) Object(name string, required, optional []string) (Object, error) {
	v, err := o.member(name)
	if err != nil {
		return Object{}, err
	}
	return asObject(v, o.Field(name), required, optional)
}

// Array is one JSON array of a body, with its path for messages.
type Array struct {
	elems []any
	path  string // "payments"
}

// Len is the number of elements.
func (a Array) Len() int { return len(a.elems) }

// Field is the path of element i, for messages: "payments[1]".
func (a Array) Field(i int) string { return elementPath(a.path, i) }

// Str returns element i, which must be a string. It panics if i is out of
// range, as indexing a slice does.
func (a Array) Str(i int) (string, error) { return asString(a.elems[i], a.Field(i)) }

// Object returns element i, which must be an object whose member names are
// all in required or optional, and include every name in required. It
// panics if i is out of range, as indexing a slice does.
func (a Array) Object(i int, required, optional []string) (Object, error) {
	return asObject(a.elems[i], a.Field(i), required, optional)
}
