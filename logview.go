package govlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// LogViewType is the type of the entry a log writes, signed by its own key,
// when its rules start to read more of another log (personalities/rule,
// "Reading another log"): from that entry on, the log's entries read the
// log named Log as it stood after Size entries. Its body is
// {"log":"<short name>","size":<n>}.
const LogViewType = "log.view"

// LogView is the body of a LogViewType entry.
type LogView struct {
	Log  string `json:"log"`
	Size uint64 `json:"size"`
}

func (v LogView) String() string { return fmt.Sprintf("log %s at size %d", v.Log, v.Size) }

// LogViewStateKey is the key, in an importing log's state, of the size of
// the log called log that its entries read, as its last LogViewType entry
// named it: admission servers and monitors keep it beside the domain's
// keys (which never begin with "govlog.").
func LogViewStateKey(log string) string { return "govlog.view/" + log }

// ErrNotLogView is OpenLogView's error for a statement of another type.
var ErrNotLogView = errors.New("not a log view entry")

var logNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// NewLogView returns the statement by which the log origin starts to read
// v.Log at v.Size.
func NewLogView(origin string, v LogView, at time.Time) (*Statement, error) {
	if !logNameRE.MatchString(v.Log) || v.Size == 0 {
		return nil, fmt.Errorf("bad log view %s", v)
	}
	b, _ := json.Marshal(v)
	return NewStatement(origin, LogViewType, at, b)
}

// OpenLogView opens signed as a LogViewType entry of the log origin, signed
// by the log's key logKey.
func OpenLogView(signed []byte, origin string, logKey note.Verifier) (LogView, error) {
	st, _, _, err := ReadStatement(signed, origin)
	if err != nil {
		return LogView{}, err
	}
	if st.Type != LogViewType {
		return LogView{}, ErrNotLogView
	}
	if _, _, err := ParseStatement(signed, origin, note.VerifierList(logKey)); err != nil {
		return LogView{}, fmt.Errorf("log view entry not signed by the log's key %s: %w", logKey.Name(), err)
	}
	var v LogView
	dec := json.NewDecoder(bytes.NewReader(st.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil || !logNameRE.MatchString(v.Log) || v.Size == 0 {
		return LogView{}, fmt.Errorf("%w: malformed log view body %.100q", ErrMalformedStatement, st.Body)
	}
	return v, nil
}
