package ruleset

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Values are an application's parsed field values, by field name: a
// string for String, SHA256 and Commitment fields, an int64 for Int, a
// bool for Bool and a time.Time at 00:00 UTC for Date. A field of the
// schema that is absent is missing (see [Result].Missing).
//
// [Program.ParseValues] makes Values from JSON; a caller that builds them
// itself gets the same checks in [Program.Eval], where a value that is not
// of its field's type fails the rules that read it.
type Values map[string]any

// maxInt is the largest magnitude of an Int field, 2^53: every JSON reader
// (a float64 one too) reads such an integer exactly.
const maxInt = 1 << 53

// ParseValues reads an application's fields, JSON values by field name,
// against the schema. A name not in the schema, or a value not of its
// field's type (null included), is an error that wraps [ErrBadFields] and
// names the field; names not in the schema are reported first, in sorted
// order, then bad values in schema order. Fields the application leaves
// out are allowed: they are missing (see [Program.Eval]). At most
// [MaxFields] members.
func (p *Program) ParseValues(fields map[string]json.RawMessage) (Values, error) {
	if len(fields) > MaxFields {
		return nil, fmt.Errorf("%w: %d fields, more than %d", ErrBadFields, len(fields), MaxFields)
	}
	var unknown []string
	for name := range fields {
		if _, ok := p.index[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("%w: field %q is not in the schema", ErrBadFields, unknown[0])
	}
	vals := make(Values, len(fields))
	for _, f := range p.fields {
		raw, ok := fields[f.Name]
		if !ok {
			continue
		}
		v, err := parseValue(f.Type, trimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("%w: field %q: %v", ErrBadFields, f.Name, err)
		}
		vals[f.Name] = v
	}
	return vals, nil
}

// parseValue reads one JSON value of type t.
func parseValue(t FieldType, raw []byte) (any, error) {
	switch t {
	case Int:
		return parseInt(raw)
	case Bool:
		switch string(raw) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("not a JSON boolean")
	}
	s, err := parseString(raw)
	if err != nil {
		return nil, err
	}
	if t == Date {
		return parseDate(s)
	}
	if err := checkString(t, s); err != nil {
		return nil, err
	}
	return s, nil
}

// parseInt reads a JSON integer, digits with an optional minus sign, of
// magnitude at most 2^53. A fraction or an exponent (1.0, 1e3) is refused:
// canonical JSON writes integers without them.
func parseInt(raw []byte) (int64, error) {
	digits := raw
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	ok := len(digits) > 0 && len(digits) <= 20 && !(len(digits) > 1 && digits[0] == '0')
	for i := 0; ok && i < len(digits); i++ {
		ok = '0' <= digits[i] && digits[i] <= '9'
	}
	if !ok {
		return 0, fmt.Errorf("not a JSON integer")
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n > maxInt || n < -maxInt {
		return 0, fmt.Errorf("integer out of range: its magnitude must be at most 2^53")
	}
	return n, nil
}

// parseDate reads "YYYY-MM-DD", a real calendar date from year 1 (CEL's
// first) to 9999, as 00:00 UTC that day.
func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s {
		return time.Time{}, fmt.Errorf("%q is not a date in the form YYYY-MM-DD", s)
	}
	if t.Year() < 1 {
		return time.Time{}, fmt.Errorf("%q is before year 1", s)
	}
	return t, nil
}

// checkString checks a string value of a String, SHA256 or Commitment
// field.
func checkString(t FieldType, s string) error {
	switch t {
	case String:
		if len(s) > MaxStringLen {
			return fmt.Errorf("%d bytes long, more than %d", len(s), MaxStringLen)
		}
		if !utf8.ValidString(s) {
			return fmt.Errorf("not valid UTF-8")
		}
		if r := badRune(s); r >= 0 {
			return fmt.Errorf("contains the character %U", r)
		}
	case SHA256:
		if !validHex64(s) {
			return fmt.Errorf("not a SHA-256 in 64 lowercase hex digits")
		}
	case Commitment:
		if !validHex64(s) {
			return fmt.Errorf("not a salted commitment in 64 lowercase hex digits")
		}
	}
	return nil
}

// validHex64 reports whether s is 64 lowercase hex digits.
func validHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// trimSpace cuts JSON white space from both ends of raw.
func trimSpace(raw []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(raw) > 0 && isSpace(raw[0]) {
		raw = raw[1:]
	}
	for len(raw) > 0 && isSpace(raw[len(raw)-1]) {
		raw = raw[:len(raw)-1]
	}
	return raw
}

// parseString reads a JSON string strictly. encoding/json would turn
// invalid UTF-8 and lone surrogates (\ud800) into U+FFFD without a word;
// here they are errors, so a value means what its bytes say.
func parseString(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", fmt.Errorf("not a JSON string")
	}
	in := raw[1 : len(raw)-1]
	if !utf8.Valid(in) {
		return "", fmt.Errorf("not valid UTF-8")
	}
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); {
		c := in[i]
		switch {
		case c == '"':
			return "", fmt.Errorf("not a JSON string")
		case c < 0x20:
			return "", fmt.Errorf("not a JSON string: a control character is not escaped")
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(in) {
			return "", fmt.Errorf("not a JSON string")
		}
		switch e := in[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(in[i+2:])
			if !ok {
				return "", fmt.Errorf("not a JSON string: bad \\u escape")
			}
			i += 6
			if utf16.IsSurrogate(r) {
				var r2 rune
				if len(in) >= i+6 && in[i] == '\\' && in[i+1] == 'u' {
					r2, ok = hex4(in[i+2:])
				} else {
					ok = false
				}
				dec := utf16.DecodeRune(r, r2)
				if !ok || dec == utf8.RuneError {
					return "", fmt.Errorf("not a JSON string: a lone surrogate \\u%04x", r)
				}
				r = dec
				i += 6
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return "", fmt.Errorf("not a JSON string: bad escape")
		}
		i += 2
	}
	return string(out), nil
}

// hex4 reads four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
