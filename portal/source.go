// Package portal is govlog's public read side over HTTP, for journalists
// and citizens: a JSON API (api.go: /api/v1/logs, /api/v1/search,
// /api/v1/entries/{log}/{index}) and web pages built on it, both reading a
// Source. Every entry it returns carries the signed statement and, once a
// published checkpoint includes it, its tlog-proof bundle, so a client
// verifies what it is shown instead of trusting the portal.
//
// [tlog-proof]: https://c2sp.org/tlog-proof
package portal

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/search"
)

// Source is what the portal reads: the logs a node serves, their search
// index, one entry with its proof, and a domain's own queries (the funds
// log's account ledger and payment path). The admission server implements
// it (through a small adapter in cmd/govlog); the portal never writes.
//
// Errors: each method's error wraps ErrUnknownLog, ErrNotFound,
// ErrInvalidQuery or ErrRetryLater when the request is the cause (mapped
// to 404, 404, 400 and 503 by the API); any other error is a failure of
// the source (500, its text not shown).
type Source interface {
	// Logs describes every log the source serves, sorted by name.
	Logs(ctx context.Context) ([]LogInfo, error)
	// Search returns the entries of one log that meet every criterion of
	// q, newest (highest index) first, one page at a time.
	Search(ctx context.Context, q Query) (Page, error)
	// Entry returns entry index of log, with what it corrects or
	// retracts and what corrected or retracted it. An index past the
	// last admitted entry is ErrNotFound.
	Entry(ctx context.Context, log string, index uint64) (Entry, error)
	// Query answers a domain's public query (rule.Querier), with the
	// bundle of every entry the answer cites, all at one checkpoint.
	Query(ctx context.Context, log, name string, args map[string]string) (Answer, error)
}

// Sentinels a Source's errors wrap when the request is the cause.
var (
	// ErrUnknownLog: the source serves no log of that name.
	ErrUnknownLog = errors.New("unknown log")
	// ErrNotFound: no such entry (or the record a query names).
	ErrNotFound = errors.New("not found")
	// ErrInvalidQuery: a parameter is malformed or out of bounds (a bad
	// time or hash, a limit too large, an unknown query name).
	ErrInvalidQuery = errors.New("invalid query")
	// ErrRetryLater: the answer rests on entries no checkpoint includes
	// yet, or the source is busy; the same request may succeed later.
	ErrRetryLater = errors.New("retry later")
)

// LogInfo describes one log.
type LogInfo struct {
	// Name is the log's short name ("disclosures"), Origin its origin line.
	Name   string `json:"name"`
	Origin string `json:"origin"`
	// Size is the size of the latest checkpoint, which is Checkpoint, the
	// signed note (empty before the first one is published).
	Size       uint64 `json:"size"`
	Checkpoint []byte `json:"checkpoint,omitempty"`
	// Types are the statement types of the log.
	Types []rule.TypeInfo `json:"-"`
	// TypeNames are the names of Types, as the API lists them.
	TypeNames []string `json:"types"`
	// IDKinds are the kinds of business ID its entries carry (the
	// domain's watch kinds): Search finds them by Query.ID.
	IDKinds []rule.WatchKind `json:"id_kinds,omitempty"`
	// Queries are the domain's public queries, for Source.Query.
	Queries []rule.QueryInfo `json:"queries,omitempty"`
}

// Query is a search of one log's index. Every criterion given must hold
// (they intersect); at least Log is required.
type Query struct {
	Log string
	// Agency is the registry ID of the signing agency.
	Agency string
	// Type is a statement type ("disclosure.publish").
	Type string
	// ID is a business ID found at any depth of the body in a field the
	// domain names (doc_id, contract_id, account, ...).
	ID string
	// SHA256 is a document's SHA-256, in hex (any case).
	SHA256 string
	// From and To bound the statement's own time, both inclusive; zero
	// means unbounded.
	From, To time.Time
	// Words must all occur in the entry's title (or name): Latin words,
	// matched lower-cased; Chinese text matches by its characters and
	// their pairs.
	Words []string
	// Limit is the page size; 0 asks for the source's default.
	Limit int
	// Cursor is a Page's Next, to continue after it; empty for the first
	// page.
	Cursor string
}

// Page is one page of search results.
type Page struct {
	Results []Result `json:"results"`
	// Next continues the search after the last result; empty when there
	// is no more.
	Next string `json:"next,omitempty"`
}

// Result is one entry found, with what a client needs to verify it.
type Result struct {
	Log      string    `json:"log"`
	Index    uint64    `json:"index"`
	LeafHash Hash      `json:"leaf_hash"`
	Type     string    `json:"type"`
	Agency   string    `json:"agency,omitempty"`
	Time     time.Time `json:"time"`
	Title    string    `json:"title,omitempty"`
	// Body is the statement's body (canonical JSON).
	Body json.RawMessage `json:"body,omitempty"`
	// Leaf is the signed statement, exactly as the log holds it.
	Leaf []byte `json:"leaf"`
	// Bundle is the entry's tlog-proof bundle (c2sp.org/tlog-proof) at the
	// latest checkpoint: it verifies offline, with the witness policy,
	// and carries Leaf in its extra line. It is empty while Pending.
	Bundle []byte `json:"bundle,omitempty"`
	// Pending says the entry was admitted but no published checkpoint
	// includes it yet, so there is no proof to give: ask again later.
	Pending bool `json:"pending,omitempty"`
}

// Entry is one entry and how it relates to others of its log.
type Entry struct {
	Result
	// Relations are the entries it corrects or retracts, and those that
	// correct or retract it, as far as the index knows them.
	Relations []Relation `json:"relations,omitempty"`
}

// Relation kinds: the search index's.
const (
	Corrects    = search.Corrects
	Retracts    = search.Retracts
	CorrectedBy = search.CorrectedBy
	RetractedBy = search.RetractedBy
)

// Relation is one link between two entries of a log.
type Relation struct {
	// Kind is Corrects, Retracts, CorrectedBy or RetractedBy.
	Kind string `json:"kind"`
	// ID is the business ID the link names (the corrected doc_id).
	ID string `json:"id"`
	// Index is the other entry's index, with Found false when the index
	// holds no such entry.
	Index uint64 `json:"index"`
	Found bool   `json:"found"`
}

// Answer is a domain query's answer (api.QueryResponse).
type Answer struct {
	// Result is the domain's answer, a JSON object.
	Result json.RawMessage `json:"result"`
	// Bundles prove every entry Result cites, all at one checkpoint.
	Bundles [][]byte `json:"bundles,omitempty"`
}

// Hash is a SHA-256 hash, lower-case hex in JSON and text.
type Hash [32]byte

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler: 64 hex digits.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != 64 {
		return fmt.Errorf("%w: a hash is 64 hex digits, got %d characters", ErrInvalidQuery, len(b))
	}
	if _, err := hex.Decode(h[:], b); err != nil {
		return fmt.Errorf("%w: %.64q is not hex", ErrInvalidQuery, b)
	}
	return nil
}
