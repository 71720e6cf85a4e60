package govlog

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// StatementFormat is the first line of every statement note. It binds a
// signature to this format, so it can't be replayed as another kind of note.
const StatementFormat = "govlog/statement/v1"

// MaxStatementSize caps a whole signed statement, in bytes, so a leaf stays
// small; larger documents go to the blob store, referenced by SHA-256.
const MaxStatementSize = 64 << 10

// statementTimeLayout is the only accepted spelling of a statement's time:
// whole seconds in UTC, so one instant has one encoding.
const statementTimeLayout = "2006-01-02T15:04:05Z"

// maxSafeInteger is 2^53: every integer up to this magnitude survives the
// IEEE 754 round trip that RFC 8785 canonicalization makes.
const maxSafeInteger = 1 << 53

// Errors returned by [ParseStatement], each wrapped with detail. A submitter
// can tell them apart to map them to INVALID_ARGUMENT, RESOURCE_EXHAUSTED or
// UNAUTHENTICATED.
var (
	// ErrStatementTooLarge means the signed statement exceeds MaxStatementSize.
	ErrStatementTooLarge = errors.New("statement too large")
	// ErrMalformedStatement means the note or its text is not a well-formed
	// statement: truncated, garbled, wrong format line, bad JSON or fields.
	ErrMalformedStatement = errors.New("malformed statement")
	// ErrNotCanonical means the JSON line is valid JSON but not in the
	// canonical form of RFC 8785.
	ErrNotCanonical = errors.New("statement JSON is not canonical")
	// ErrWrongOrigin means the statement is for another log.
	ErrWrongOrigin = errors.New("statement is for another log")
	// ErrUnknownSigner means no signature is by a known key.
	ErrUnknownSigner = errors.New("statement not signed by a known key")
	// ErrBadSignature means a known key's signature does not verify.
	ErrBadSignature = errors.New("invalid statement signature")
)

// A Statement is what an agency signs: a typed, timestamped JSON body bound
// to one log by its origin.
type Statement struct {
	// Origin is the origin of the target log, e.g. "gov.example/disclosures".
	Origin string
	// Type names the kind of statement, e.g. "disclosure.publish".
	Type string
	// Time is when the submitter made the statement, in UTC, whole seconds.
	Time time.Time
	// Body is a JSON object in canonical form (RFC 8785).
	Body json.RawMessage
}

// NewStatement returns a statement with body canonicalized (RFC 8785) and t
// truncated to the second in UTC. It rejects an origin that is not a valid
// note key name, a type outside [a-z0-9._-]+, and a body that isn't a JSON
// object or that holds an integer beyond ±2^53, which canonicalization would
// silently change. Errors wrap [ErrMalformedStatement].
func NewStatement(origin, typ string, t time.Time, body []byte) (*Statement, error) {
	if body == nil {
		return nil, fmt.Errorf("%w: missing body", ErrMalformedStatement)
	}
	canonical, err := jcs.Transform(body)
	if err != nil {
		return nil, fmt.Errorf("%w: body is not valid JSON: %v", ErrMalformedStatement, err)
	}
	// Checked before canonicalization too, which would hide a changed value.
	if err := checkNumbers(body); err != nil {
		return nil, err
	}
	s := &Statement{
		Origin: origin,
		Type:   typ,
		Time:   t.UTC().Truncate(time.Second),
		Body:   canonical,
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// validate checks everything Text relies on to produce a statement that
// ParseStatement accepts.
func (s *Statement) validate() error {
	if !validKeyName(s.Origin) {
		return fmt.Errorf("%w: invalid origin %q", ErrMalformedStatement, s.Origin)
	}
	if !validType(s.Type) {
		return fmt.Errorf("%w: invalid type %q", ErrMalformedStatement, s.Type)
	}
	if s.Time.IsZero() {
		return fmt.Errorf("%w: missing time", ErrMalformedStatement)
	}
	ts := s.Time.UTC().Format(statementTimeLayout)
	if _, err := parseStatementTime(ts); err != nil || s.Time.Nanosecond() != 0 {
		return fmt.Errorf("%w: time %v is not whole seconds within years 0000-9999", ErrMalformedStatement, s.Time)
	}
	canonical, err := jcs.Transform(s.Body)
	if err != nil {
		return fmt.Errorf("%w: body is not valid JSON: %v", ErrMalformedStatement, err)
	}
	if !bytes.Equal(canonical, s.Body) {
		return fmt.Errorf("%w: body", ErrNotCanonical)
	}
	return checkBody(s.Body)
}

// validType reports whether typ is a non-empty string over [a-z0-9._-].
func validType(typ string) bool {
	if typ == "" {
		return false
	}
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// parseStatementTime accepts only the canonical spelling of a time.
func parseStatementTime(s string) (time.Time, error) {
	t, err := time.Parse(statementTimeLayout, s)
	if err != nil {
		return time.Time{}, err
	}
	if t.Format(statementTimeLayout) != s {
		return time.Time{}, errors.New("time not in canonical form")
	}
	return t, nil
}

// checkBody checks that canonical JSON is an object and that its numbers are
// all safe.
func checkBody(canonical []byte) error {
	if len(canonical) == 0 || canonical[0] != '{' {
		return fmt.Errorf("%w: body is not a JSON object", ErrMalformedStatement)
	}
	return checkNumbers(canonical)
}

// checkNumbers rejects any number of magnitude 2^53 or more (integers may
// reach 2^53 exactly): RFC 8785 reads numbers as IEEE 754 doubles, so larger
// integers would silently change value on canonicalization. data must be
// valid JSON (the callers canonicalized it first), so a number is any run
// of number characters that starts outside a string with '-' or a digit;
// this scan costs a fraction of a tokenizing decoder, which matters to a
// monitor checking every entry of a log.
func checkNumbers(data []byte) error {
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inString:
			switch c {
			case '\\':
				i++ // an escaped character (in \uXXXX, the hex digits follow harmlessly)
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '-' || '0' <= c && c <= '9':
			j := i + 1
			for j < len(data) && isNumberByte(data[j]) {
				j++
			}
			if !safeNumber(string(data[i:j])) {
				return fmt.Errorf("%w: number %.32s is beyond ±2^53; encode it as a string", ErrMalformedStatement, data[i:j])
			}
			i = j - 1
		}
	}
	return nil
}

func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// safeNumber reports whether the JSON number n has a magnitude below 2^53,
// or is an integer of magnitude 2^53.
func safeNumber(n string) bool {
	if strings.ContainsAny(n, ".eE") {
		f, err := strconv.ParseFloat(n, 64)
		return err == nil && math.Abs(f) < maxSafeInteger
	}
	i, err := strconv.ParseInt(n, 10, 64)
	return err == nil && i <= maxSafeInteger && i >= -maxSafeInteger
}

// Text returns the note text of the statement:
//
//	govlog/statement/v1
//	<origin>
//	<canonical JSON of {"body":...,"time":...,"type":...}>
//
// It is meaningful only for a valid statement, as made by [NewStatement] or
// [ParseStatement]; [Statement.Sign] checks validity.
func (s *Statement) Text() []byte {
	var b bytes.Buffer
	b.WriteString(StatementFormat)
	b.WriteByte('\n')
	b.WriteString(s.Origin)
	b.WriteString("\n{\"body\":")
	b.Write(s.Body)
	// RFC 8785 sorts keys by UTF-16 code units: body < time < type. Neither
	// the time nor a valid type needs escaping.
	b.WriteString(`,"time":"`)
	b.WriteString(s.Time.UTC().Format(statementTimeLayout))
	b.WriteString(`","type":"`)
	b.WriteString(s.Type)
	b.WriteString("\"}\n")
	return b.Bytes()
}

// Sign returns the signed note, which is the leaf. Steps that need several
// signers pass them all.
func (s *Statement) Sign(signers ...note.Signer) ([]byte, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	if len(signers) == 0 {
		return nil, errors.New("no signers")
	}
	// Signature lines sorted by key name and ID: the one encoding
	// ParseStatement accepts for a given set of signers.
	signers = slices.Clone(signers)
	slices.SortFunc(signers, func(a, b note.Signer) int {
		return cmp.Or(strings.Compare(a.Name(), b.Name()), cmp.Compare(a.KeyHash(), b.KeyHash()))
	})
	signed, err := note.Sign(&note.Note{Text: string(s.Text())}, signers...)
	if err != nil {
		return nil, fmt.Errorf("couldn't sign statement: %w", err)
	}
	if len(signed) > MaxStatementSize {
		return nil, fmt.Errorf("%w: %d bytes signed, limit %d", ErrStatementTooLarge, len(signed), MaxStatementSize)
	}
	return signed, nil
}

// ParseStatement opens a signed statement for the log wantOrigin and
// returns it with the signatures that verified. The size is checked before
// anything is parsed; the text is read only after a signature verified.
func ParseStatement(signed []byte, wantOrigin string, verifiers note.Verifiers) (*Statement, []note.Signature, error) {
	if err := checkStatementNote(signed); err != nil {
		return nil, nil, err
	}
	n, err := note.Open(signed, verifiers)
	if err != nil {
		return nil, nil, statementNoteError(err)
	}
	// A leaf carries only signatures that verify: anyone could otherwise
	// append a line by an unknown key and make new leaf bytes for the same
	// signed statement, defeating the "same bytes, same entry" rule.
	if len(n.UnverifiedSigs) > 0 {
		return nil, nil, fmt.Errorf("%w: it also carries a signature by %s+%08x, which is not a known key; submit it without that signature", ErrUnknownSigner, n.UnverifiedSigs[0].Name, n.UnverifiedSigs[0].Hash)
	}
	s, err := parseStatementNote(signed, n.Text, n.Sigs, wantOrigin)
	if err != nil {
		return nil, nil, err
	}
	return s, n.Sigs, nil
}

// ReadStatement is ParseStatement for a statement whose signer the log's
// rules authenticate themselves, with keys the registry does not list (a
// voter's one-time key, a citizen's own): it makes every check but the
// signatures' and returns the note's text, which the signatures cover, and
// its signature lines, unverified. The caller must verify every one of
// them: a line left unchecked would let anyone make new leaf bytes for the
// same statement.
func ReadStatement(signed []byte, wantOrigin string) (*Statement, []byte, []note.Signature, error) {
	if err := checkStatementNote(signed); err != nil {
		return nil, nil, nil, err
	}
	_, err := note.Open(signed, note.VerifierList())
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		if err == nil { // no verifier: note.Open cannot succeed
			err = errors.New("a note verified by no key")
		}
		return nil, nil, nil, statementNoteError(err)
	}
	n := unverified.Note
	s, err := parseStatementNote(signed, n.Text, n.UnverifiedSigs, wantOrigin)
	if err != nil {
		return nil, nil, nil, err
	}
	return s, []byte(n.Text), n.UnverifiedSigs, nil
}

// checkStatementNote makes the checks of a signed statement that come
// before note.Open: its size and the encoding of its signature lines.
func checkStatementNote(signed []byte) error {
	if len(signed) > MaxStatementSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrStatementTooLarge, len(signed), MaxStatementSize)
	}
	// Unsigned is not authentic, before it is malformed: a statement's
	// text with no signature line at all.
	if unsigned(signed) {
		return fmt.Errorf("%w: the statement carries no signature line", ErrUnknownSigner)
	}
	if err := checkSignatureLines(signed); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedStatement, err)
	}
	return nil
}

// unsigned reports whether msg is a whole statement's text (three lines,
// the last a JSON object), with or without the blank line that would come
// before signatures, and no signature.
func unsigned(msg []byte) bool {
	text := msg
	if bytes.HasSuffix(text, []byte("\n\n")) {
		text = text[:len(text)-1]
	}
	if !bytes.HasSuffix(text, []byte("\n")) || bytes.Contains(text, []byte("\n\n")) {
		return false
	}
	lines := bytes.Split(bytes.TrimSuffix(text, []byte("\n")), []byte("\n"))
	return len(lines) == 3 && string(lines[0]) == StatementFormat &&
		bytes.HasPrefix(lines[2], []byte("{")) && json.Valid(lines[2])
}

// parseStatementNote checks the signature lines note.Open read from
// signed, sigs, and parses the note's text.
func parseStatementNote(signed []byte, text string, sigs []note.Signature, wantOrigin string) (*Statement, error) {
	// note.Open skips a repeated line by a key it already verified without
	// checking it, so a copied or garbage repeat would make new leaf bytes
	// for the same statement; and the lines' order is free. One encoding
	// only: each key once, lines sorted by key name and ID.
	if lines := bytes.Count(signed[bytes.LastIndex(signed, []byte("\n\n")):], []byte("\n— ")); lines != len(sigs) {
		return nil, fmt.Errorf("%w: %d signature lines for %d signing keys: each key signs once", ErrMalformedStatement, lines, len(sigs))
	}
	for i := 1; i < len(sigs); i++ {
		a, b := sigs[i-1], sigs[i]
		if cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.Hash, b.Hash)) >= 0 {
			return nil, fmt.Errorf("%w: signature lines must be sorted by key name and key ID", ErrMalformedStatement)
		}
	}
	lines, ok := splitNoteLines(text)
	if !ok || len(lines) != 3 {
		return nil, fmt.Errorf("%w: want 3 lines of text", ErrMalformedStatement)
	}
	if lines[0] != StatementFormat {
		return nil, fmt.Errorf("%w: format line %.64q, want %q", ErrMalformedStatement, lines[0], StatementFormat)
	}
	if lines[1] != wantOrigin {
		return nil, fmt.Errorf("%w: origin %.256q, want %q", ErrWrongOrigin, lines[1], wantOrigin)
	}
	return parseStatementJSON(lines[1], []byte(lines[2]))
}

// statementNoteError maps note.Open's errors to this package's sentinels.
func statementNoteError(err error) error {
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		// SPEC: signed-note: if no signature from a known key verifies,
		// clients MUST reject the note.
		return fmt.Errorf("%w: %v", ErrUnknownSigner, err)
	case errors.As(err, &invalid):
		// SPEC: signed-note: if the key name and ID match a known key,
		// verifiers MUST verify the signature.
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	default:
		return fmt.Errorf("%w: %v", ErrMalformedStatement, err)
	}
}

// parseStatementJSON parses the JSON line of a statement.
func parseStatementJSON(origin string, line []byte) (*Statement, error) {
	if !provablyCanonical(line) {
		canonical, err := jcs.Transform(line)
		if err != nil {
			return nil, fmt.Errorf("%w: invalid JSON: %v", ErrMalformedStatement, err)
		}
		if !bytes.Equal(canonical, line) {
			return nil, ErrNotCanonical
		}
	}
	body, ts, typ, ok := splitStatement(line)
	if !ok {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(line, &fields); err != nil {
			return nil, fmt.Errorf("%w: JSON is not an object: %v", ErrMalformedStatement, err)
		}
		var okBody, okTime, okType bool
		var rawTime, rawType json.RawMessage
		body, okBody = fields["body"]
		rawTime, okTime = fields["time"]
		rawType, okType = fields["type"]
		if len(fields) != 3 || !okBody || !okTime || !okType {
			return nil, fmt.Errorf("%w: want exactly the keys body, time and type", ErrMalformedStatement)
		}
		if err := json.Unmarshal(rawType, &typ); err != nil || !validType(typ) {
			return nil, fmt.Errorf("%w: invalid type %.64s", ErrMalformedStatement, rawType)
		}
		if err := json.Unmarshal(rawTime, &ts); err != nil {
			return nil, fmt.Errorf("%w: time is not a string", ErrMalformedStatement)
		}
	} else if !validType(typ) {
		// As the JSON has it: quoted, with no escape.
		return nil, fmt.Errorf("%w: invalid type %.64s", ErrMalformedStatement, `"`+typ+`"`)
	}
	t, err := parseStatementTime(ts)
	if err != nil {
		return nil, fmt.Errorf("%w: time %.64q is not RFC 3339 UTC whole seconds", ErrMalformedStatement, ts)
	}
	if err := checkBody(body); err != nil {
		return nil, err
	}
	if !validKeyName(origin) {
		return nil, fmt.Errorf("%w: invalid origin %.256q", ErrMalformedStatement, origin)
	}
	return &Statement{Origin: origin, Type: typ, Time: t, Body: bytes.Clone(body)}, nil
}

// provablyCanonical reports whether data is plainly RFC 8785 canonical
// JSON: objects with ASCII names in strictly ascending order, no white
// space, strings of UTF-8 with no escape and no control character,
// integers of at most 15 digits (no -0), true, false and null. Such JSON
// is its own canonical form, which jcs.Transform would return unchanged;
// for anything else, false, and the caller asks jcs.Transform. Statements
// are almost always plain, and the transform is most of their parsing.
func provablyCanonical(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	c := canonScanner{data: data}
	return c.value(0) && c.i == len(data)
}

type canonScanner struct {
	data []byte
	i    int
}

// maxCanonDepth bounds the nesting the quick check follows.
const maxCanonDepth = 16

func (c *canonScanner) value(depth int) bool {
	if c.i >= len(c.data) || depth > maxCanonDepth {
		return false
	}
	switch b := c.data[c.i]; {
	case b == '{':
		c.i++
		if c.next('}') {
			return true
		}
		var prev []byte
		for {
			start := c.i + 1
			if !c.string() {
				return false
			}
			name := c.data[start : c.i-1]
			for _, ch := range name {
				if ch >= utf8.RuneSelf {
					return false // UTF-16 order differs from bytes' beyond ASCII
				}
			}
			if prev != nil && bytes.Compare(prev, name) >= 0 {
				return false // out of order, or repeated
			}
			prev = name
			if !c.next(':') || !c.value(depth+1) {
				return false
			}
			if c.next('}') {
				return true
			}
			if !c.next(',') {
				return false
			}
		}
	case b == '[':
		c.i++
		if c.next(']') {
			return true
		}
		for {
			if !c.value(depth + 1) {
				return false
			}
			if c.next(']') {
				return true
			}
			if !c.next(',') {
				return false
			}
		}
	case b == '"':
		return c.string()
	case b == '-' || b >= '0' && b <= '9':
		return c.integer()
	case b == 't':
		return c.literal("true")
	case b == 'f':
		return c.literal("false")
	case b == 'n':
		return c.literal("null")
	}
	return false
}

func (c *canonScanner) string() bool {
	if !c.next('"') {
		return false
	}
	for ; c.i < len(c.data); c.i++ {
		switch b := c.data[c.i]; {
		case b == '"':
			c.i++
			return true
		case b == '\\' || b < 0x20:
			return false
		}
	}
	return false
}

// integer reads an integer as ES6 prints it: 0, or up to 15 digits with no
// leading zero, after a '-' if negative. Such a number is exact as an
// IEEE double and prints as written.
func (c *canonScanner) integer() bool {
	neg := c.next('-')
	start := c.i
	for c.i < len(c.data) && c.data[c.i] >= '0' && c.data[c.i] <= '9' {
		c.i++
	}
	digits := c.data[start:c.i]
	switch {
	case len(digits) == 0 || len(digits) > 15:
		return false
	case digits[0] == '0':
		if len(digits) > 1 || neg {
			return false // a leading zero, or -0
		}
	}
	if c.i < len(c.data) {
		if b := c.data[c.i]; b == '.' || b == 'e' || b == 'E' {
			return false
		}
	}
	return true
}

func (c *canonScanner) literal(s string) bool {
	if !bytes.HasPrefix(c.data[c.i:], []byte(s)) {
		return false
	}
	c.i += len(s)
	return true
}

func (c *canonScanner) next(b byte) bool {
	if c.i < len(c.data) && c.data[c.i] == b {
		c.i++
		return true
	}
	return false
}

// splitStatement is the quick path of parseStatementJSON, for a line RFC
// 8785 has written: {"body":B,"time":"T","type":"Y"}, with no escape in T
// and Y. It returns B, T and Y, and ok=false for any other line, which
// parseStatementJSON then reads with encoding/json, for the same result or
// the same error.
func splitStatement(line []byte) (body []byte, ts, typ string, ok bool) {
	rest, ok := bytes.CutPrefix(line, []byte(`{"body":`))
	if !ok {
		return nil, "", "", false
	}
	n := skipJSONValue(rest)
	if n <= 0 {
		return nil, "", "", false
	}
	body, rest = rest[:n], rest[n:]
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"time":"`)); !ok {
		return nil, "", "", false
	}
	ts, rest, ok = cutPlainString(rest)
	if !ok {
		return nil, "", "", false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"type":"`)); !ok {
		return nil, "", "", false
	}
	typ, rest, ok = cutPlainString(rest)
	if !ok || string(rest) != "}" {
		return nil, "", "", false
	}
	return body, ts, typ, true
}

// cutPlainString returns the string that data begins with, up to its
// closing quote, if it holds no escape.
func cutPlainString(data []byte) (s string, rest []byte, ok bool) {
	i := bytes.IndexAny(data, `"\`)
	if i < 0 || data[i] != '"' {
		return "", nil, false
	}
	return string(data[:i]), data[i+1:], true
}

// skipJSONValue returns the length of the JSON value data begins with, for
// data that is valid JSON with no white space (RFC 8785 output); 0 if it
// finds no end.
func skipJSONValue(data []byte) int {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			// Skip the string, and the escaped characters in it.
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
			if i >= len(data) {
				return 0
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return 0
			}
		case ',':
			if depth == 0 {
				return i
			}
			continue
		default:
			continue
		}
		if depth == 0 {
			return i + 1
		}
	}
	return 0
}

// LeafHash returns the RFC 6962 leaf hash of a leaf, for govlog the exact
// bytes of a signed statement.
func LeafHash(leaf []byte) [32]byte {
	return [32]byte(rfc6962.DefaultHasher.HashLeaf(leaf))
}

// AddSignature adds signer's signature to msg, a statement's text or a
// signed statement, and returns the signed statement with its lines in the
// one order ParseStatement accepts: what each holder of a quorum key runs,
// on their own machine, to add theirs. Existing lines are kept as they are,
// unverified; a line by the same key is replaced.
func AddSignature(msg []byte, signer note.Signer) ([]byte, error) {
	text := msg
	var lines []note.Signature
	if _, err := note.Open(msg, note.VerifierList()); err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			text, lines = []byte(unverified.Note.Text), unverified.Note.UnverifiedSigs
		}
	}
	if !bytes.HasPrefix(text, []byte(StatementFormat+"\n")) || !bytes.HasSuffix(text, []byte("\n")) || bytes.Contains(text, []byte("\n\n")) {
		return nil, fmt.Errorf("%w: not a statement's text nor a signed statement", ErrMalformedStatement)
	}
	signed, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		return nil, err
	}
	_, err = note.Open(signed, note.VerifierList())
	var own *note.UnverifiedNoteError
	if !errors.As(err, &own) || len(own.Note.UnverifiedSigs) != 1 {
		return nil, fmt.Errorf("couldn't read back the signature: %v", err)
	}
	mine := own.Note.UnverifiedSigs[0]
	lines = slices.DeleteFunc(lines, func(s note.Signature) bool { return s.Name == mine.Name && s.Hash == mine.Hash })
	lines = append(lines, mine)
	slices.SortFunc(lines, func(a, b note.Signature) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.Hash, b.Hash))
	})
	out := append(slices.Clone(text), '\n')
	for _, s := range lines {
		out = fmt.Appendf(out, "— %s %s\n", s.Name, s.Base64)
	}
	if len(out) > MaxStatementSize {
		return nil, fmt.Errorf("%w: %d bytes signed, limit %d", ErrStatementTooLarge, len(out), MaxStatementSize)
	}
	return out, nil
}
