// Package body is the kit domain authors share for reading statement
// bodies ([rule.Entry].Body): one strict JSON reader, [Parse], and the
// checkers of the fields several domains have (IDs, agency IDs, text,
// SHA-256s, dates, periods, amounts, commitments).
//
// Every error the package returns wraps [rule.ErrInvalidBody] and names the
// offending field by its path in the body: "amount" for a member of the body
// object, "schedule[1].period" below it. A domain's own checks of a body use
// [Errorf] for the same vocabulary.
//
// # Why a reader of its own
//
// [Parse] walks the JSON tokens itself instead of calling json.Unmarshal
// into a struct, because encoding/json matches member names without regard
// to case and lets a repeated name win silently: a signed body
// {"Amount":1,"amount":2} must not mean something a stricter reader of the
// log would not see. So the reader takes exactly one JSON object in valid
// UTF-8 (encoding/json would quietly turn bad bytes into U+FFFD), matches
// member names exactly, refuses a repeated or unknown name and a missing
// required one, keeps numbers as written ([json.Number]) and bounds the
// nesting ([MaxDepth]). Admission already demands RFC 8785 canonical JSON;
// the reader keeps the rules safe on their own, for the monitor's replay too.
//
// The reader decodes the whole body before it looks at the names, so its
// errors come in this order: bytes that are not UTF-8, malformed JSON
// (including a repeated name and too deep a nesting), data after the body,
// a body that is not an object, unknown names (in sorted order), missing
// names (in the order the caller listed them); then whatever the caller
// reads, in the order it reads it.
package body

import (
	"fmt"

	"github.com/govlog/govlog/personalities/rule"
)

// Errorf formats an error about a statement body, wrapping
// [rule.ErrInvalidBody]: "invalid statement body: <message>".
func Errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", rule.ErrInvalidBody, fmt.Sprintf(format, args...))
}
