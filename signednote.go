package govlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// validKeyName reports whether name can be a note key name. Origins of govlog
// logs must be key names too, because a log's key is named after its origin.
func validKeyName(name string) bool {
	// SPEC: signed-note: key names MUST be non-empty and MUST NOT contain any
	// Unicode spaces or plus (U+002B) characters.
	return name != "" && utf8.ValidString(name) &&
		strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) < 0 &&
		!strings.Contains(name, "+")
}

// validNoteText reports whether text can be the text of a signed note.
func validNoteText(text []byte) bool {
	// SPEC: signed-note: notes MUST be valid UTF-8 and MUST NOT contain any
	// ASCII control characters other than newline.
	if !utf8.Valid(text) {
		return false
	}
	for _, b := range text {
		if b < 0x20 && b != '\n' {
			return false
		}
	}
	return true
}

// decodeBase64 decodes standard padded base64 and rejects any other spelling
// of the same bytes (non-zero padding bits, embedded CR or LF), so every
// decoded value has exactly one encoding and a flipped bit never goes unseen.
func decodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if base64.StdEncoding.EncodeToString(b) != s {
		return nil, errors.New("non-canonical base64")
	}
	return b, nil
}

var errNonCanonicalSignature = errors.New("signature line with non-canonical base64")

// checkSignatureLines rejects a note whose signature lines carry
// non-canonical base64. note.Open decodes them leniently, so two different
// byte strings would otherwise open to the same verified note. Other
// malformations are left for note.Open to report.
func checkSignatureLines(msg []byte) error {
	split := bytes.LastIndex(msg, []byte("\n\n"))
	if split < 0 {
		return nil
	}
	for _, line := range strings.Split(string(msg[split+2:]), "\n") {
		rest, ok := strings.CutPrefix(line, "— ")
		if !ok {
			continue
		}
		_, b64, _ := strings.Cut(rest, " ")
		if _, err := decodeBase64(b64); err != nil {
			return errNonCanonicalSignature
		}
	}
	return nil
}

// parseDecimal parses an unsigned ASCII decimal with no sign and no leading
// zeroes, the spelling every C2SP format uses for sizes and indexes.
func parseDecimal(s string) (uint64, error) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, errors.New("not a decimal without leading zeroes")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a decimal")
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

// splitNoteLines splits note text, which ends in a newline, into its lines.
func splitNoteLines(text string) ([]string, bool) {
	body, ok := strings.CutSuffix(text, "\n")
	if !ok {
		return nil, false
	}
	return strings.Split(body, "\n"), true
}

// noteTextUnverified returns the text of a well-formed note without
// verifying any signature. Callers use it only to choose which keys to
// verify with, or to check a note's structure.
func noteTextUnverified(msg []byte) (string, error) {
	if err := checkSignatureLines(msg); err != nil {
		return "", err
	}
	_, err := note.Open(msg, note.VerifierList())
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		if err == nil {
			err = errors.New("note verified with no keys")
		}
		return "", err
	}
	return unverified.Note.Text, nil
}
