package rule

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// SelfSigned is the role RequiredRole returns for a statement type that is
// not signed by a registered agency (a voter's ballot signed by a one-time
// key, a citizen's grant signed by their own key): the domain, an
// Authenticator, checks its signatures itself, from its state and the
// statement.
const SelfSigned = "(self-signed)"

// TypeInfo describes one statement type of a domain, as plain data.
type TypeInfo struct {
	// Type is the statement type, e.g. "disclosure.publish".
	Type string
	// Role is the registry role its signer needs, or SelfSigned.
	Role string
	// ByLog is set for a type the log writes itself (a Scheduler's), signed
	// by its rule key: the agency of that key holds Role, and no other
	// agency should.
	ByLog bool
	// ExampleAgency, if set, is the agency that signs this type's
	// examples instead of the demo agency (an agency accepting what
	// another handed it).
	ExampleAgency string
	// Official is set for a type that one of the agency's registered
	// officials must co-sign (the domain checks Entry.Officials); the
	// examples are co-signed by the demo official.
	Official bool
	// Summary says in one line what the statement records.
	Summary string
	// Examples are bodies of this type that the rules accept, applied in
	// order after the examples of the types listed before it, starting
	// from an empty state, signed by one agency holding every role (none
	// for a ByLog type, which needs its due time); `govlog domains` prints
	// them and a test applies them all.
	Examples []json.RawMessage
}

// RoleOf returns the role of statementType in types, the types of the log
// called log, or an error wrapping ErrUnknownType that says so.
func RoleOf(log string, types []TypeInfo, statementType string) (string, error) {
	i := slices.IndexFunc(types, func(t TypeInfo) bool { return t.Type == statementType })
	if i < 0 {
		return "", fmt.Errorf("%w: %.64q is not a statement type of the %s log", ErrUnknownType, statementType, log)
	}
	return types[i].Role, nil
}

// Seeder is implemented by a Domain whose log `govlog dev` starts with some
// statements, signed by the demo agency, so that a new user has something
// to try (the approvals log's demo application kind).
type Seeder interface {
	Seed() []Response
}

// Authenticator is implemented by a Domain with SelfSigned statement types.
type Authenticator interface {
	// Authenticate names who signed e, a statement of a SelfSigned type,
	// by checking e.Signatures over e.Text with keys it takes from st or
	// from e.Body. Every signature line must verify by a key it trusts:
	// a line it ignored would let anyone make new leaf bytes for the same
	// statement. An error wrapping ErrNotAuthorized (or another sentinel)
	// refuses the statement; any other is a failure of st.
	Authenticate(ctx context.Context, st Reader, e Entry) (signer string, err error)
}

// Authorize is the registry's verdict on an entry of an agency's type: who
// signed it, if the agency's key may sign for role.
type Authorize func(role string) (Signers, error)

// Signers is who signed an agency's statement, as the registry knows them.
type Signers struct {
	// Agency is the ID of the agency whose key signed.
	Agency string
	// Officials are the staff IDs of the agency's officials whose own
	// keys signed too (the responsible official's second signature).
	Officials []string
}

func (s Signers) String() string {
	if len(s.Officials) == 0 {
		return s.Agency
	}
	return fmt.Sprintf("%s (officials %s)", s.Agency, strings.Join(s.Officials, ", "))
}

// Admit is the one judgement of an entry that the admission server and the
// monitor's replay share: who signed it (authorize, for an agency's type;
// the domain's Authenticator, for a SelfSigned type), then the domain's
// rules, which record the entry's effects in st. It returns the entry as
// applied, with Agency or Signer set. An error is the entry's fault when
// IsRefusal(err); authorize's errors come back wrapped in ErrNotAuthorized
// as well as in their own sentinels.
func Admit(ctx context.Context, d Domain, st State, e Entry, authorize Authorize) (Entry, error) {
	role, err := d.RequiredRole(e.Type)
	if err != nil {
		return e, err
	}
	if role == SelfSigned {
		a, ok := d.(Authenticator)
		if !ok {
			return e, fmt.Errorf("%w: %s is self-signed, but the %s rules authenticate no signer", ErrNotAuthorized, e.Type, d.Log())
		}
		e.Agency, e.Officials = "", nil
		if e.Signer, err = a.Authenticate(ctx, st, e); err != nil {
			return e, err
		}
		if e.Signer == "" {
			return e, fmt.Errorf("%w: the %s rules named no signer", ErrNotAuthorized, d.Log())
		}
	} else {
		e.Signer = ""
		signers, err := authorize(role)
		if err != nil {
			return e, fmt.Errorf("%w: %w", ErrNotAuthorized, err)
		}
		e.Agency, e.Officials = signers.Agency, signers.Officials
	}
	return e, d.Apply(ctx, st, e)
}

// Scanner is a Reader that can also list keys: what a Summarizer reads.
type Scanner interface {
	Reader
	// Scan calls fn with every key that begins with prefix (not empty), in
	// key order, and its value, until fn returns an error, which Scan
	// returns.
	Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error
}

// Summarizer is implemented by a Domain that shows its state on the
// monitor's public dashboard.
type Summarizer interface {
	// Summary describes st, the domain's replayed state, as tables a
	// citizen can read. agency turns an agency ID into how the registry
	// names it. It should read a bounded part of the state (records, not
	// ledgers that grow with every entry).
	Summary(ctx context.Context, st Scanner, agency func(id string) string) ([]Table, error)
}

// Table is one captioned table of a dashboard summary.
type Table struct {
	Caption string
	// Columns name the columns; a Numeric column is right-aligned.
	Columns []Column
	Rows    [][]string
	// Total, if set, is a last row set apart (sums).
	Total []string
	// Empty is shown instead of a table without rows.
	Empty string
	// Note is a paragraph shown below the table: how to read it.
	Note string
}

// Column is one column of a Table.
type Column struct {
	Name    string
	Numeric bool
}

// Watcher is implemented by a Domain whose entries people can watch for in
// the monitor: an agency's entries can always be watched; a watch kind
// names something else the entries are about.
type Watcher interface {
	WatchKinds() []WatchKind
}

// WatchKind is one kind of ID a monitor watch can name ("document",
// "account"). An entry is about the ID if its body has, at any depth, a
// string member named one of Fields whose value is the ID.
type WatchKind struct {
	Name   string
	Fields []string
	// Doc says what the ID is, for the monitor's config documentation.
	Doc string
}

// ProvedEntry is an entry a client holds an inclusion proof of, as a
// QueryClient checks an answer against it.
type ProvedEntry struct {
	LeafHash [32]byte
	// Index is the entry's index in the log.
	Index uint64
	Type  string
	Time  time.Time
	Body  json.RawMessage
	// Signers are the key names on its signature lines, unverified: the
	// inclusion proof says the log admitted the entry, whose admission
	// checked them against the registry.
	Signers []string
	// Text and Signatures are the signed note, as a rule.Entry holds them,
	// for a Tool that checks signatures itself (the votes log's tally
	// checks each ballot's one-time key); set by `govlog <log> <tool>`.
	Text       []byte
	Signatures []Signature
}

// QueryClient is implemented by a Querier for the clients of its queries:
// the CLI's `govlog query` and `govlog <log> <query>` verbs take all they
// know of a domain's queries from it.
type QueryClient interface {
	// Queries describes the queries the domain answers.
	Queries() []QueryInfo
	// CheckAnswer checks what result, the answer to query with args, says
	// against entries, every entry it cites, each already proved in the
	// log. It returns a line saying what it established (and what it could
	// not), or an error saying where the answer is false.
	CheckAnswer(query string, args map[string]string, result []byte, entries []ProvedEntry) (checked string, err error)
	// FormatAnswer writes a checked answer to query for people.
	FormatAnswer(w io.Writer, query string, result []byte) error
}

// QueryInfo describes one query for the command line.
type QueryInfo struct {
	// Name is the query's name.
	Name string
	// Verb is the CLI verb `govlog <log> <verb>`; default Name.
	Verb string
	// Summary is one line; Doc, paragraphs.
	Summary, Doc string
	// Arg names the query argument the CLI verb's one positional argument
	// fills ("id"), and ArgName shows it in usage ("ACCOUNT").
	Arg, ArgName string
	// Flags are the other query arguments, offered as --<name> flags.
	Flags []QueryFlag
}

// QueryFlag is one optional query argument.
type QueryFlag struct {
	Name, Usage string
}

// Toolbox is implemented by a Domain that offers offline commands over its
// log's entries: `govlog <log> <tool>` fetches every entry up to the
// latest checkpoint, checks them against the policy (the checkpoint's
// signatures, and that the entries hash to its root), and runs the tool
// on them (the approvals log's test-rules replays past applications under
// a draft rule set).
type Toolbox interface {
	Tools() []Tool
}

// Tool is one offline command of a Toolbox.
type Tool struct {
	// Name is the CLI verb; ArgName, its one positional argument's name in
	// usage, if it takes one.
	Name, ArgName string
	// Summary is one line; Doc, paragraphs.
	Summary, Doc string
	// Flags are its --<name> flags; Required lists those it needs.
	Flags    []QueryFlag
	Required []string
	// Run runs the tool on entries, every entry of the log in index order,
	// with arg (the positional argument, "" if none) and the flags set,
	// and writes what it found to w. A file named in a flag is Run's to
	// read.
	Run func(ctx context.Context, entries []ProvedEntry, arg string, flags map[string]string, w io.Writer) error
}

// Deadliner is implemented by a Domain whose rules give agencies deadlines
// that the log cannot meet for them (the approvals log: a decision an
// official owes by the time the kind allows). The monitor raises an alert
// for each one past due, once.
type Deadliner interface {
	// Late returns what is past due at now, given st.
	Late(ctx context.Context, st Scanner, now time.Time) ([]Late, error)
}

// Late is one deadline missed.
type Late struct {
	// Key names what is late, the same for as long as it is (a state key).
	Key string
	// What says, for people, what is owed and by whom.
	What string
	Due  time.Time
}
