package petitions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/notesig"
)

// OpenBody is the body of a petition.open.
type OpenBody struct {
	PetitionID string `json:"petition_id"`
	Title      string `json:"title"`
	Closes     string `json:"closes"`
}

// SignBody is the body of a petition.sign.
type SignBody struct {
	PetitionID string `json:"petition_id"`
	// Signer is the verifier key of the citizen who signs.
	Signer string `json:"signer"`
}

// Limits of the fields.
const (
	maxIDLen    = 64
	maxTitleLen = 256 // characters
)

// ParseOpenBody parses and checks the body of a petition.open. Its errors
// wrap [rule.ErrInvalidBody].
func ParseOpenBody(body []byte) (OpenBody, error) {
	v, err := readStrings(body, "petition_id", "title", "closes")
	if err != nil {
		return OpenBody{}, err
	}
	b := OpenBody{PetitionID: v[0], Title: v[1], Closes: v[2]}
	if err := checkID("petition_id", b.PetitionID); err != nil {
		return OpenBody{}, err
	}
	if err := checkText("title", b.Title, maxTitleLen); err != nil {
		return OpenBody{}, err
	}
	if _, err := closingTime(b.Closes); err != nil {
		return OpenBody{}, fmt.Errorf("%w: %q %v", rule.ErrInvalidBody, "closes", err)
	}
	return b, nil
}

// ParseSignBody parses and checks the body of a petition.sign. Its errors
// wrap [rule.ErrInvalidBody].
func ParseSignBody(body []byte) (SignBody, error) {
	v, err := readStrings(body, "petition_id", "signer")
	if err != nil {
		return SignBody{}, err
	}
	b := SignBody{PetitionID: v[0], Signer: v[1]}
	if err := checkID("petition_id", b.PetitionID); err != nil {
		return SignBody{}, err
	}
	name, _, err := notesig.ParseVKey(b.Signer)
	if err != nil {
		return SignBody{}, fmt.Errorf("%w (in %q)", err, "signer")
	}
	if name != SignerKeyName {
		return SignBody{}, fmt.Errorf("%w: %q must be a key named %q, not %.64q", rule.ErrInvalidBody, "signer", SignerKeyName, name)
	}
	return b, nil
}

// SignerName names the signer of b: "citizen+<key hash>", or "" if b.Signer
// is not a verifier key.
func (b SignBody) SignerName() string {
	name, hash, err := notesig.ParseVKey(b.Signer)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s+%08x", name, hash)
}

// readStrings reads body, a JSON object whose members are exactly names,
// each once, each a string, and returns their values in the order of names.
// It is stricter than encoding/json's Unmarshal with DisallowUnknownFields:
// a repeated member, a missing one, a member of another type (null
// included) and data after the object are refused too. Its errors wrap
// [rule.ErrInvalidBody].
func readStrings(body []byte, names ...string) ([]string, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", rule.ErrInvalidBody, fmt.Sprintf(format, args...))
	}
	if !utf8.Valid(body) {
		return nil, invalid("not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, invalid("not a JSON object")
	}
	values := make([]string, len(names))
	seen := make([]bool, len(names))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, invalid("malformed JSON: %v", err)
		}
		key, _ := tok.(string) // the decoder gives only strings as keys
		i := slices.Index(names, key)
		if i < 0 {
			return nil, invalid("unknown field %.64q", key)
		}
		if seen[i] {
			return nil, invalid("duplicate field %q", key)
		}
		seen[i] = true
		if tok, err = dec.Token(); err != nil {
			return nil, invalid("malformed JSON: %v", err)
		}
		var ok bool
		if values[i], ok = tok.(string); !ok {
			return nil, invalid("%q must be a string", key)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, invalid("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid("data after the object")
	}
	for i, ok := range seen {
		if !ok {
			return nil, invalid("missing field %q", names[i])
		}
	}
	return values, nil
}

// checkID checks a petition ID: 1..64 of [A-Za-z0-9._:-].
func checkID(field, id string) error {
	if !validID(id) {
		return fmt.Errorf("%w: %q must be 1 to %d of A-Z a-z 0-9 . _ : -, not %.80q", rule.ErrInvalidBody, field, maxIDLen, id)
	}
	return nil
}

func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._:-", c) >= 0) {
			return false
		}
	}
	return true
}

// validAgency reports whether id can be a registry ID, [a-z0-9-]+.
func validAgency(id string) bool {
	return id != "" && strings.Trim(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}

// checkText checks a text field: not blank, no control characters, at most
// max characters.
func checkText(field, s string, max int) error {
	switch {
	case strings.TrimFunc(s, unicode.IsSpace) == "":
		return fmt.Errorf("%w: %q must not be empty", rule.ErrInvalidBody, field)
	case strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("%w: %q must not contain control characters", rule.ErrInvalidBody, field)
	case utf8.RuneCountInString(s) > max:
		return fmt.Errorf("%w: %q must be at most %d characters", rule.ErrInvalidBody, field, max)
	}
	return nil
}

// closingTime returns the instant a petition closing at closes closes: the
// end of the day, UTC, for a date; the instant itself for a date-time.
func closingTime(closes string) (time.Time, error) {
	if len(closes) == len(time.DateOnly) {
		d, err := time.Parse(time.DateOnly, closes)
		if err != nil {
			return time.Time{}, fmt.Errorf("%.40q is not a date (YYYY-MM-DD)", closes)
		}
		return d.AddDate(0, 0, 1), nil
	}
	t, err := time.Parse(time.RFC3339, closes)
	if err != nil {
		return time.Time{}, fmt.Errorf("%.40q is neither an RFC 3339 date nor a date-time", closes)
	}
	return t.UTC(), nil
}
