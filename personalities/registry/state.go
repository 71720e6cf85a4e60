package registry

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
)

// The registry log's state, as its rules keep it (rule.State keys):
//
//	size                  how many registry entries were applied: the index
//	                      the next one gets in the registry log
//	leaf/<index>          the leaf hash (hex) of registry entry index
//	                      (16 hex digits), so an anchor can be checked
//	agency/<id>           the agency's record (agencyRecord, JSON) with the
//	                      history of its keys, officials and roles
//	name/<name>           the agency that owns a key name: an agency ID or
//	                      an official's staff ID (one namespace, as a
//	                      signature line names its key by it)
//	pub/<base64 key>      the key ID that holds this public key, which no
//	                      other key ID may hold
//
// Every change records the registry entry that made it (its index and
// time), so a Registry built from the state authorizes as the registry
// stood after any number of entries (see [Registry.AuthorizeAt]).
const (
	sizeKey      = "size"
	leafPrefix   = "leaf/"
	agencyPrefix = "agency/"
	namePrefix   = "name/"
	pubPrefix    = "pub/"
)

// Change is the registry entry that made a change: its index in the
// registry log and its signed time.
type Change struct {
	Index uint64    `json:"index"`
	Time  time.Time `json:"time"`
}

// agencyRecord is one agency's state: what it is, and all it ever held.
type agencyRecord struct {
	ID         string           `json:"id"`
	Name       string           `json:"name"`
	Registered Change           `json:"registered"`
	Officials  []officialRecord `json:"officials,omitempty"`
	Keys       []keyRecord      `json:"keys,omitempty"`
	Roles      []roleRecord     `json:"roles,omitempty"`
}

// officialRecord is a staff member of the agency, known by a pseudonymous
// staff ID, who signs with keys of their own (named by the staff ID).
type officialRecord struct {
	Staff      string `json:"staff"`
	Registered Change `json:"registered"`
}

// keyRecord is one verifier key, of the agency (named by its ID) or of one
// of its officials (named by the staff ID).
type keyRecord struct {
	VKey  string `json:"vkey"`
	Added Change `json:"added"`
	// Retired, if set: rotated out; signs nothing dated at or after At.
	Retired *until `json:"retired,omitempty"`
	// Revoked, if set: compromised; nothing it signed dated at or after
	// At counts (At zero: nothing it ever signed).
	Revoked *until `json:"revoked,omitempty"`
}

// roleRecord is one grant of a role, and its withdrawal if any.
type roleRecord struct {
	Role    string `json:"role"`
	Granted Change `json:"granted"`
	// Withdrawn, if set: held for statements dated before At only.
	Withdrawn *until `json:"withdrawn,omitempty"`
}

// until is a change that ends something for statements dated at or after
// At.
type until struct {
	At time.Time `json:"at"`
	Change
}

func leafKey(index uint64) string { return fmt.Sprintf("%s%016x", leafPrefix, index) }

// SkipRefused counts, in a replay's state st, a registry log entry that
// the rules refused (which an honest log never holds): the entries after it
// keep their log positions, as the other logs' registry views name them.
func SkipRefused(ctx context.Context, st rule.State, leafHash [32]byte) error {
	n, err := readSize(ctx, st)
	if err != nil {
		return err
	}
	if err := st.Put(ctx, sizeKey, []byte(strconv.FormatUint(n+1, 10))); err != nil {
		return err
	}
	return st.Put(ctx, leafKey(n), []byte(hex.EncodeToString(leafHash[:])))
}

// StateSize returns how many registry entries the registry log's state st
// holds, without reading the rest.
func StateSize(ctx context.Context, st rule.Reader) (uint64, error) { return readSize(ctx, st) }

func readSize(ctx context.Context, st rule.Reader) (uint64, error) {
	v, ok, err := st.Get(ctx, sizeKey)
	if err != nil || !ok {
		return 0, err
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("corrupt registry state: size %q", v)
	}
	return n, nil
}

func readAgency(ctx context.Context, st rule.Reader, id string) (*agencyRecord, error) {
	v, ok, err := st.Get(ctx, agencyPrefix+id)
	if err != nil || !ok {
		return nil, err
	}
	var a agencyRecord
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, fmt.Errorf("corrupt registry state: agency %q: %w", id, err)
	}
	return &a, nil
}

func putJSON(ctx context.Context, st rule.State, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return st.Put(ctx, key, b)
}

// memState is a rule.State and rule.Scanner in memory: the state of a
// registry that lives in no log (New).
type memState map[string][]byte

func (m memState) Get(_ context.Context, key string) ([]byte, bool, error) {
	v, ok := m[key]
	return v, ok, nil
}

func (m memState) Put(_ context.Context, key string, value []byte) error {
	m[key] = append([]byte(nil), value...)
	return nil
}

func (m memState) Scan(_ context.Context, prefix string, fn func(string, []byte) error) error {
	var keys []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn(k, m[k]); err != nil {
			return err
		}
	}
	return nil
}
