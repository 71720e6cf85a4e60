package disclosures

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
)

// Limits of the body fields, in Unicode code points (doc_id is ASCII).
const (
	maxDocIDLen    = 128
	maxTitleLen    = 512
	maxCategoryLen = 64
	maxOfficialLen = 128
	maxReasonLen   = 1024
)

// PublishBody is the body of a disclosure.publish statement. Marshal it with
// encoding/json (then canonicalise) to build a statement.
type PublishBody struct {
	// DocID is the agency's own ID for the document, unique per agency.
	DocID string `json:"doc_id"`
	// Title is the document's title as the public should see it.
	Title string `json:"title"`
	// SHA256 is the lowercase hex SHA-256 of the document's bytes, which
	// live in the blob store; it is what makes any copy checkable.
	SHA256 string `json:"sha256"`
	// Category is the agency's classification, e.g. "procurement".
	Category string `json:"category"`
	// DecisionDate is the date of the decision disclosed, YYYY-MM-DD.
	DecisionDate string `json:"decision_date"`
	// Official is the official responsible for the document, so it is
	// traceable to a person and not only to an agency.
	Official string `json:"official"`
}

// CorrectBody is the body of a disclosure.correct statement: a complete new
// version of a document, plus what it corrects and why.
type CorrectBody struct {
	// Corrects is the doc_id of the current version being corrected.
	Corrects string `json:"corrects"`
	// PublishBody describes the new version; its DocID must be unused.
	PublishBody
	// Reason says what was wrong with the corrected version.
	Reason string `json:"reason"`
}

// RetractBody is the body of a disclosure.retract statement.
type RetractBody struct {
	// Retracts is the doc_id of the current version being retracted.
	Retracts string `json:"retracts"`
	// Reason says why the document is withdrawn.
	Reason string `json:"reason"`
	// Official is the official responsible for the retraction.
	Official string `json:"official"`
}

var (
	publishFields = []string{"doc_id", "title", "sha256", "category", "decision_date", "official"}
	correctFields = append([]string{"corrects"}, append(slices.Clone(publishFields), "reason")...)
	retractFields = []string{"retracts", "reason", "official"}
)

// ParsePublishBody parses and validates a disclosure.publish body. Any error
// wraps [rule.ErrInvalidBody] and names the offending field.
func ParsePublishBody(body []byte) (PublishBody, error) {
	m, err := parseStringObject(body, publishFields)
	if err != nil {
		return PublishBody{}, err
	}
	b := publishFromMap(m)
	if err := b.validate(); err != nil {
		return PublishBody{}, err
	}
	return b, nil
}

// ParseCorrectBody parses and validates a disclosure.correct body. Any error
// wraps [rule.ErrInvalidBody] and names the offending field.
func ParseCorrectBody(body []byte) (CorrectBody, error) {
	m, err := parseStringObject(body, correctFields)
	if err != nil {
		return CorrectBody{}, err
	}
	b := CorrectBody{Corrects: m["corrects"], PublishBody: publishFromMap(m), Reason: m["reason"]}
	if err := checkDocID("corrects", b.Corrects); err != nil {
		return CorrectBody{}, err
	}
	if err := b.PublishBody.validate(); err != nil {
		return CorrectBody{}, err
	}
	if err := checkText("reason", b.Reason, maxReasonLen); err != nil {
		return CorrectBody{}, err
	}
	return b, nil
}

// ParseRetractBody parses and validates a disclosure.retract body. Any error
// wraps [rule.ErrInvalidBody] and names the offending field.
func ParseRetractBody(body []byte) (RetractBody, error) {
	m, err := parseStringObject(body, retractFields)
	if err != nil {
		return RetractBody{}, err
	}
	b := RetractBody{Retracts: m["retracts"], Reason: m["reason"], Official: m["official"]}
	if err := checkDocID("retracts", b.Retracts); err != nil {
		return RetractBody{}, err
	}
	if err := checkText("reason", b.Reason, maxReasonLen); err != nil {
		return RetractBody{}, err
	}
	if err := checkText("official", b.Official, maxOfficialLen); err != nil {
		return RetractBody{}, err
	}
	return b, nil
}

func publishFromMap(m map[string]string) PublishBody {
	return PublishBody{
		DocID:        m["doc_id"],
		Title:        m["title"],
		SHA256:       m["sha256"],
		Category:     m["category"],
		DecisionDate: m["decision_date"],
		Official:     m["official"],
	}
}

func (b PublishBody) validate() error {
	if err := checkDocID("doc_id", b.DocID); err != nil {
		return err
	}
	if err := checkText("title", b.Title, maxTitleLen); err != nil {
		return err
	}
	if err := checkSHA256("sha256", b.SHA256); err != nil {
		return err
	}
	if err := checkText("category", b.Category, maxCategoryLen); err != nil {
		return err
	}
	if err := checkDate("decision_date", b.DecisionDate); err != nil {
		return err
	}
	return checkText("official", b.Official, maxOfficialLen)
}

func invalidBody(format string, args ...any) error {
	return fmt.Errorf("%w: %s", rule.ErrInvalidBody, fmt.Sprintf(format, args...))
}

// parseStringObject reads body as exactly one JSON object whose member names
// are exactly fields, each once, and whose values are all strings.
//
// It walks the tokens itself instead of json.Unmarshal with
// DisallowUnknownFields because encoding/json matches member names without
// regard to case and lets a repeated name win silently: a signed body
// {"Title":"a","title":"b"} must not mean something a stricter reader of the
// log would not see. Admission already demands RFC 8785 canonical JSON; this
// keeps the rules safe on their own, for the monitor's replay too.
func parseStringObject(body []byte, fields []string) (map[string]string, error) {
	if !utf8.Valid(body) {
		// encoding/json would quietly turn bad bytes into U+FFFD.
		return nil, invalidBody("body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, invalidBody("body is not a JSON object: %v", syntaxText(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, invalidBody("body is %s, not a JSON object", jsonKind(tok))
	}
	got := make(map[string]string, len(fields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, invalidBody("malformed JSON: %v", syntaxText(err))
		}
		name, ok := tok.(string)
		if !ok { // Token reports bad keys as errors; this is belt and braces.
			return nil, invalidBody("malformed JSON: member name is %s", jsonKind(tok))
		}
		if !slices.Contains(fields, name) {
			return nil, invalidBody("unknown field %q", name)
		}
		if _, dup := got[name]; dup {
			return nil, invalidBody("duplicate field %q", name)
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, invalidBody("malformed JSON in field %q: %v", name, syntaxText(err))
		}
		s, ok := tok.(string)
		if !ok {
			return nil, invalidBody("field %q must be a string, not %s", name, jsonKind(tok))
		}
		got[name] = s
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, invalidBody("malformed JSON: %v", syntaxText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalidBody("unexpected data after the body object")
	}
	for _, f := range fields {
		if _, ok := got[f]; !ok {
			return nil, invalidBody("missing field %q", f)
		}
	}
	return got, nil
}

// syntaxText turns an io.EOF from a truncated body into words.
func syntaxText(err error) string {
	if errors.Is(err, io.EOF) {
		return "unexpected end of body"
	}
	return err.Error()
}

func jsonKind(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
	}
	return fmt.Sprintf("%v", tok)
}

func validDocID(s string) bool {
	if len(s) == 0 || len(s) > maxDocIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == ':', c == '/', c == '-':
		default:
			return false
		}
	}
	return true
}

func checkDocID(field, s string) error {
	if !validDocID(s) {
		return invalidBody("field %q: %q is not a document ID (1 to %d of A-Z a-z 0-9 . _ : / -)", field, s, maxDocIDLen)
	}
	return nil
}

func checkText(field, s string, maxLen int) error {
	if strings.TrimSpace(s) == "" {
		return invalidBody("field %q must not be empty", field)
	}
	if n := utf8.RuneCountInString(s); n > maxLen {
		return invalidBody("field %q is %d characters long, more than %d", field, n, maxLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalidBody("field %q contains the control character %U", field, r)
		}
	}
	return nil
}

func checkSHA256(field, s string) error {
	ok := len(s) == 64
	for i := 0; ok && i < len(s); i++ {
		ok = '0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f'
	}
	if !ok {
		return invalidBody("field %q must be a SHA-256 in 64 lowercase hex digits", field)
	}
	return nil
}

func checkDate(field, s string) error {
	// time.Parse checks the day against the month; the round trip rejects
	// anything it would tolerate that is not exactly YYYY-MM-DD.
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s {
		return invalidBody("field %q: %q is not a date in the form YYYY-MM-DD", field, s)
	}
	return nil
}
