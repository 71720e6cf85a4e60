package body

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// IDSyntax is the form of one kind of ID: 1 to MaxLen of the ASCII letters,
// digits and . _ : -, and / too if Slash is set.
type IDSyntax struct {
	// Noun names the kind of ID in messages, with its article: "an ID".
	Noun string
	// MaxLen is the most characters (bytes) an ID may have.
	MaxLen int
	// Slash allows '/', for IDs an agency chose that may be paths
	// ("2026/budget.pdf"). State keys built from such an ID must put it
	// last, after fields that hold no '/', or keys could alias.
	Slash bool
}

// ID is the syntax of the IDs that name things in most logs (accounts,
// contracts, payments): 1 to 64 of [A-Za-z0-9._:-]. It holds no '/', so
// state keys built from IDs need no escaping and cannot alias.
var ID = IDSyntax{Noun: "an ID", MaxLen: 64}

// Valid reports whether s is an ID of this syntax.
func (x IDSyntax) Valid(s string) bool {
	if len(s) == 0 || len(s) > x.MaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == ':', c == '-':
		case c == '/' && x.Slash:
		default:
			return false
		}
	}
	return true
}

// Check returns an error naming field unless s is an ID of this syntax.
func (x IDSyntax) Check(field, s string) error {
	if !x.Valid(s) {
		chars := "A-Z a-z 0-9 . _ : -"
		if x.Slash {
			chars = "A-Z a-z 0-9 . _ : / -"
		}
		return Errorf("field %q: %q is not %s (1 to %d of %s)", field, s, x.Noun, x.MaxLen, chars)
	}
	return nil
}

// AgencyIDPattern is the form of a registry agency ID, as a regular
// expression without anchors: it names the agency in state keys, so it
// holds no '/', and leads with a letter or digit.
const AgencyIDPattern = "[a-z0-9][a-z0-9-]{0,63}"

// ValidAgencyID reports whether s is a registry agency ID: the whole of s
// matches [AgencyIDPattern]. The registry admits no other, and domains check
// it again, not assume it, because their keys' uniqueness depends on it.
func ValidAgencyID(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// CheckAgencyID returns an error naming field unless s is a registry agency
// ID.
func CheckAgencyID(field, s string) error {
	if !ValidAgencyID(s) {
		return Errorf("field %q: %q is not an agency ID (%s)", field, s, AgencyIDPattern)
	}
	return nil
}

// CheckText returns an error naming field unless s is text for people: not
// empty nor only white space, at most maxLen Unicode code points, and free
// of control characters and of the bidirectional formatting characters
// (U+202A to U+202E, U+2066 to U+2069), which make a title read otherwise
// on screen than in the log ("Trojan Source").
func CheckText(field, s string, maxLen int) error {
	if strings.TrimSpace(s) == "" {
		return Errorf("field %q must not be empty", field)
	}
	if n := utf8.RuneCountInString(s); n > maxLen {
		return Errorf("field %q is %d characters long, more than %d", field, n, maxLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return Errorf("field %q contains the control character %U", field, r)
		}
		if IsBidiControl(r) {
			return Errorf("field %q contains the bidirectional formatting character %U", field, r)
		}
	}
	return nil
}

// IsBidiControl reports whether r is a bidirectional embedding, override
// or isolate character, which reorders the text around it on screen.
func IsBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// validHex64 reports whether s is 64 lowercase hex digits, the one spelling
// of a SHA-256 the logs take, so equal hashes are equal strings.
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

// ValidSHA256 reports whether s is a SHA-256 in 64 lowercase hex digits.
func ValidSHA256(s string) bool { return validHex64(s) }

// CheckSHA256 returns an error naming field unless s is a SHA-256 in 64
// lowercase hex digits.
func CheckSHA256(field, s string) error {
	if !validHex64(s) {
		return Errorf("field %q must be a SHA-256 in 64 lowercase hex digits", field)
	}
	return nil
}

// ValidCommitment reports whether s is a salted commitment to a person:
// 64 lowercase hex digits (an HMAC-SHA256), so that no name can be written
// where a person is meant.
func ValidCommitment(s string) bool { return validHex64(s) }

// CheckCommitment returns an error naming field unless s is a salted
// commitment.
func CheckCommitment(field, s string) error {
	if !validHex64(s) {
		return Errorf("field %q must be a salted commitment in 64 lowercase hex digits, never a name", field)
	}
	return nil
}

// ValidDate reports whether s is a real calendar date written YYYY-MM-DD.
func ValidDate(s string) bool {
	// time.Parse checks the day against the month; the round trip refuses
	// anything it would tolerate that is not exactly YYYY-MM-DD.
	t, err := time.Parse(time.DateOnly, s)
	return err == nil && t.Format(time.DateOnly) == s
}

// CheckDate returns an error naming field unless s is a date, YYYY-MM-DD.
func CheckDate(field, s string) error {
	if !ValidDate(s) {
		return Errorf("field %q: %q is not a date in the form YYYY-MM-DD", field, s)
	}
	return nil
}

// PeriodLayout is the layout of a period, a calendar month, for time.Parse
// and time.Time.Format: "2006-01".
const PeriodLayout = "2006-01"

// ValidPeriod reports whether s is a period, a calendar month written
// YYYY-MM.
func ValidPeriod(s string) bool {
	t, err := time.Parse(PeriodLayout, s)
	return err == nil && t.Format(PeriodLayout) == s
}

// CheckPeriod returns an error naming field unless s is a period, YYYY-MM.
func CheckPeriod(field, s string) error {
	if !ValidPeriod(s) {
		return Errorf("field %q: %q is not a period in the form YYYY-MM", field, s)
	}
	return nil
}
