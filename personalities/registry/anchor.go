package registry

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule/body"
)

// ViewType is the type of the entry a log writes, signed by its own key,
// when it starts to authorize against a registry that changed: from that
// entry on, the log's entries were admitted with the registry as it stood
// after Size registry entries, the last of which has leaf hash Last.
const ViewType = "registry.view"

// ViewStateKey is the key, in each log's state, of the registry size the
// log authorizes against, as its last ViewType entry named it: admission
// servers and monitors keep it beside the domain's keys (which never begin
// with "govlog.").
const ViewStateKey = "govlog.registry-view"

// Anchor is the body of a ViewType entry.
type Anchor struct {
	Size uint64
	Last [32]byte
}

func (a Anchor) String() string {
	return fmt.Sprintf("registry size %d (last entry %x)", a.Size, a.Last[:6])
}

// AnchorStatement is the statement by which the log origin adopts r.
func AnchorStatement(origin string, r *Registry, at time.Time) (*govlog.Statement, error) {
	if r.size == 0 {
		return nil, errors.New("no registry view of an empty registry")
	}
	last, _ := r.LeafHash(r.size - 1)
	b := fmt.Sprintf(`{"last":%q,"size":%d}`, hex.EncodeToString(last[:]), r.size)
	return govlog.NewStatement(origin, ViewType, at, []byte(b))
}

// ErrNotAnchor is OpenAnchor's error for a statement of another type.
var ErrNotAnchor = errors.New("not a registry view entry")

// OpenAnchor opens signed as a ViewType entry of the log origin, signed by
// the log's key logKey.
func OpenAnchor(signed []byte, origin string, logKey note.Verifier) (Anchor, error) {
	st, _, _, err := govlog.ReadStatement(signed, origin)
	if err != nil {
		return Anchor{}, err
	}
	if st.Type != ViewType {
		return Anchor{}, ErrNotAnchor
	}
	if _, _, err := govlog.ParseStatement(signed, origin, note.VerifierList(logKey)); err != nil {
		return Anchor{}, fmt.Errorf("registry view entry not signed by the log's key %s: %w", logKey.Name(), err)
	}
	b, err := body.Parse(st.Body, []string{"last", "size"}, nil)
	if err != nil {
		return Anchor{}, err
	}
	last, err := b.SHA256("last")
	if err != nil {
		return Anchor{}, err
	}
	var a Anchor
	if a.Last, err = parseHash(last); err != nil {
		return Anchor{}, err
	}
	n, err := b.Amount("size", 1)
	if err != nil {
		return Anchor{}, err
	}
	a.Size = uint64(n)
	return a, nil
}

// Check reports whether the anchor names r's first Size entries: r holds
// them and its entry Size-1 is Last.
func (a Anchor) Check(r *Registry) error {
	if a.Size > r.Size() {
		return fmt.Errorf("names registry size %d; the registry has %d entries", a.Size, r.Size())
	}
	if a.Size == 0 {
		return errors.New("names an empty registry")
	}
	h, ok := r.LeafHash(a.Size - 1)
	if !ok || h != a.Last {
		return fmt.Errorf("names %x as registry entry %d, which is not", a.Last[:6], a.Size-1)
	}
	return nil
}
