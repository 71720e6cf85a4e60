// Package rule is the contract between a domain's pure rules
// (personalities/<domain>) and the code that runs them: the admission server,
// which applies a statement's effects to the domain state in the same
// transaction that writes the leaf to the outbox, and the monitor, which
// replays the whole log from an empty state and must reach the same state;
// and, for a domain that is a Querier, the public read API over that state.
//
// A domain package imports only this package, its kit (rule/body for
// statement bodies, rule/ruletest for tests) and the standard library, so
// the very code that admitted a statement re-checks it on replay. Everything
// the centre needs to know of a domain (its log, statement types and roles,
// what the log writes itself, its queries, its dashboard summary and watch
// kinds) it asks of the domain through this package, as plain data: the
// centre never names a domain, and adding one is its folder plus one line of
// registration (cmd/govlog/domains.go).
package rule

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Reader reads domain state. Keys are domain-chosen strings
// ("doc/<agency>/<doc_id>"); values are opaque bytes, usually JSON.
type Reader interface {
	// Get returns the value stored at key, ok=false if there is none.
	// A non-nil error is a storage failure, never "not found".
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
}

// State is the domain state a rule reads and writes.
//
// The admission server hands a rule a State scoped to one statement: writes
// become visible to later statements only if Apply returns nil.
type State interface {
	Reader
	// Put stores value at key, replacing any earlier value.
	Put(ctx context.Context, key string, value []byte) error
}

// Entry is one authenticated statement as a rule sees it.
type Entry struct {
	// Type is the statement type, e.g. "disclosure.publish".
	Type string
	// Time is the time the submitter put in the statement (UTC).
	Time time.Time
	// Body is the statement's body, canonical JSON (RFC 8785).
	Body json.RawMessage
	// Agency is the registry ID of the agency whose key signed the
	// statement; empty for a statement of a type the domain authenticates
	// itself (see Authenticator).
	Agency string
	// Officials are the staff IDs of the agency's officials who signed
	// beside it with their own registered keys, sorted.
	Officials []string
	// Signer is who signed a statement of a type the domain authenticates
	// itself, as its Authenticator named them; empty for an agency's.
	Signer string
	// Text is the signed note's text, what its signatures cover, and
	// Signatures are its signature lines, unverified: an Authenticator
	// checks them with keys it takes from its state or the body.
	Text       []byte
	Signatures []Signature
	// LeafHash is the RFC 6962 leaf hash of the signed statement, so state
	// can point back at the entry that created it.
	LeafHash [32]byte
	// Index is the entry's index in its log: where the admission server
	// puts it, where a replay finds it.
	Index uint64
	// Logs reads other logs as this entry's log last named them, for an
	// Importer's rules (see crosslog.go); nil for any other domain.
	Logs Logs
	// Parsed is what the domain's ParseBody made of Body, when the caller
	// ran it ahead of Apply (see [Parse]); nil otherwise.
	Parsed *ParsedBody
}

// BodyParser is implemented by a Domain whose Apply begins by parsing the
// statement's body. ParseBody does that alone, from the entry and nothing
// else, so that the admission server and the monitor run it on every core
// ahead of Apply, which runs in log order on one; Apply then takes the
// result from Entry.Parsed with [ParsedAs].
type BodyParser interface {
	ParseBody(e Entry) (any, error)
}

// ParsedBody is the result of a BodyParser's ParseBody.
type ParsedBody struct {
	Value any
	Err   error
}

// Parse runs d's ParseBody on e, if d is a BodyParser, and keeps its
// result in e.Parsed.
func Parse(d Domain, e *Entry) {
	if p, ok := d.(BodyParser); ok {
		v, err := p.ParseBody(*e)
		e.Parsed = &ParsedBody{Value: v, Err: err}
	}
}

// ParsedAs returns e's body as parse makes it: what ParseBody left in
// e.Parsed, if it is a T or an error, else parse(e.Body).
func ParsedAs[T any](e Entry, parse func([]byte) (T, error)) (T, error) {
	if e.Parsed != nil {
		if e.Parsed.Err != nil {
			var zero T
			return zero, e.Parsed.Err
		}
		if v, ok := e.Parsed.Value.(T); ok {
			return v, nil
		}
	}
	return parse(e.Body)
}

// Signature is one signature line of a signed note (c2sp.org/signed-note).
type Signature struct {
	// Name is the key name on the line.
	Name string
	// KeyHash is the key hash, the first 4 bytes of the line's signature.
	KeyHash uint32
	// Sig is the rest: for an Ed25519 key, the 64-byte signature of Text.
	Sig []byte
}

// Domain is one personality's rules.
type Domain interface {
	// Log is the name of the log the domain admits into ("disclosures").
	Log() string
	// Types describes every statement type the log accepts. The centre
	// derives from it the roles the domain uses, which of them the log
	// holds itself, dev's demo, and `govlog domains`.
	Types() []TypeInfo
	// RequiredRole returns the registry role a signer needs for the
	// statement type (SelfSigned for a type the domain authenticates
	// itself), or an error wrapping ErrUnknownType. RoleOf(d.Log(), d.Types(), t)
	// is a fine implementation.
	RequiredRole(statementType string) (string, error)
	// Apply checks the entry against the domain rules and the current state
	// and records its effects in state. The error wraps one of the sentinels
	// below when the statement is at fault; any other error is a failure of
	// the state and the statement may be retried.
	Apply(ctx context.Context, state State, e Entry) error
}

// KeyReader is implemented by a Domain that can name, before Apply, the
// state keys Apply will read for an entry. The admission server then reads
// the keys of a whole batch in one query instead of one query per Get; keys
// it did not name are still read one by one, so naming too few is only
// slower, never wrong.
type KeyReader interface {
	ReadKeys(e Entry) []string
}

// Scheduler is implemented by a Domain whose rules call for statements the
// log writes itself, signed by its own rule key (the funds log's guarantee
// releases when a pay deadline passes). Due returns those due at now given
// the state; it only reads, so it may be called after any restart and as
// often as wanted: a statement already admitted is not due again, and one
// written twice is refused by the rules.
type Scheduler interface {
	Due(ctx context.Context, st Reader, now time.Time) ([]Scheduled, error)
}

// Scheduled is one statement a Scheduler wants written.
type Scheduled struct {
	Type string
	// Body is the statement's body, JSON-marshalable. It may change while
	// the statement is due (a late payment changes a release's shares).
	Body any
	// Key names what the statement is about, the same for as long as it
	// is due (the funds log: the state key of the contract's period), so a
	// monitor reports a missing statement once.
	Key string
	// Since is when it fell due (the pay deadline).
	Since time.Time
}

// Querier is implemented by a Domain that answers public read queries over
// its committed state (the funds log: an account's history, the path of a
// payment). The admission server serves them through the gRPC Query call,
// with an inclusion proof of every entry an answer rests on, all at one
// checkpoint, so a client checks the answer against the log it trusts
// instead of trusting the server.
type Querier interface {
	// Query answers the query called name. result must marshal to a JSON
	// object that names every entry it rests on in a "leaf_hash" member
	// holding the entry's leaf hash in lowercase hex, and cited lists those
	// entries (in any order, repeats allowed): a client refuses an answer
	// naming an entry it has no proof of. Query only reads, and must bound
	// its work whatever the arguments.
	//
	// An error wrapping ErrUnknownQuery, ErrInvalidQuery, ErrNotFound or
	// ErrQueryTooLarge is the query's fault; any other error is a failure
	// of the view (or a corrupt state) and the query may be retried.
	Query(ctx context.Context, v View, name string, args map[string]string) (result any, cited [][32]byte, err error)
}

// View is what a Querier reads: a domain's committed state, as one
// consistent snapshot, and the entries committed with it.
type View interface {
	Reader
	// Entry returns the entry with this leaf hash if it was admitted into
	// the log, ok=false if not. Its Agency is empty: who signed it is for
	// the client to check, in the entry's own signatures.
	Entry(ctx context.Context, leafHash [32]byte) (e Entry, ok bool, err error)
}

// Sentinels a Querier's errors wrap, mapped to gRPC codes by the admission
// server.
var (
	// ErrUnknownQuery: the domain answers no query of this name.
	ErrUnknownQuery = errors.New("unknown query")
	// ErrInvalidQuery: an argument is missing, unknown or malformed.
	ErrInvalidQuery = errors.New("invalid query")
	// ErrNotFound: the query names a record the state does not hold.
	ErrNotFound = errors.New("not found")
	// ErrQueryTooLarge: answering would take more work than the domain's
	// bound; ask for less (a smaller page, a shorter path).
	ErrQueryTooLarge = errors.New("query too large")
)

// IsRefusal reports whether err is the statement's fault (it wraps one of
// the sentinels below) rather than a failure of the state.
func IsRefusal(err error) bool {
	return errors.Is(err, ErrUnknownType) || errors.Is(err, ErrInvalidBody) ||
		errors.Is(err, ErrRuleViolation) || errors.Is(err, ErrAlreadyExists) ||
		errors.Is(err, ErrNotAuthorized) || errors.Is(err, ErrBadSignature)
}

// Sentinels a Domain's Apply and RequiredRole wrap, so callers can map them
// to gRPC codes (personalities) or alerts (monitor) in one switch.
var (
	// ErrUnknownType: the log does not accept this statement type.
	ErrUnknownType = errors.New("unknown statement type")
	// ErrInvalidBody: the body does not match the type's schema.
	ErrInvalidBody = errors.New("invalid statement body")
	// ErrRuleViolation: the body is well formed but a rule says no, given
	// the current state.
	ErrRuleViolation = errors.New("rule violation")
	// ErrAlreadyExists: the business ID in the body was used before.
	ErrAlreadyExists = errors.New("already exists")
	// ErrNotAuthorized: the signer may not make this statement: the
	// registry refused its key or role, or, for a self-signed type, the
	// domain's Authenticator found no valid signature by a key it trusts.
	// Admit wraps the registry's own error with it.
	ErrNotAuthorized = errors.New("not authorized")
	// ErrBadSignature: for a self-signed type, a signature line does not
	// verify with the key it names: the statement is not authentic
	// (UNAUTHENTICATED), whoever may sign it.
	ErrBadSignature = errors.New("invalid signature")
)
