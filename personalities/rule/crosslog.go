package rule

import (
	"context"
	"encoding/json"
	"errors"
)

// # Reading another log
//
// A domain's rules may rely on what another log admitted: a funds transfer
// on an approved application, an application on a published disclosure.
// Two logs are two sequences, admitted independently, so "what the other
// log holds" must be pinned to a point of it, or the admission server and
// a monitor replaying years later would disagree. The contract:
//
//   - The reading domain is an [Importer]: it names the logs it reads.
//   - Its log records, as entries of its own signed by its log key, the
//     size of each log it reads ("log.view" entries, like the registry
//     view): from such an entry on, its entries read that log as it stood
//     after that many entries. The admission server writes one only when a
//     statement needs more of the other log than the last one named.
//   - What a rule may read of another log is narrow, so that "as it stood
//     after n entries" can be answered from that log's latest state:
//     whether it holds an entry (by leaf hash, at an index below n), and
//     the facts its domain exports ([Exporter]): statements that, once
//     true, stay true with the same value, each with the index of the
//     entry that made it true. At view n a fact holds if that index is
//     below n.
//   - A monitor replays the reading log in order; at a log view naming n
//     it waits until it has replayed n entries of the other log, then
//     answers from its replay exactly as the server did.
//
// Because a view only ever names entries admitted before it, the logs'
// views never wait on each other in a circle.
//
// Importer is implemented by a Domain whose rules read other logs (see
// [Logs]). The admission server and the monitor must run or follow every
// log it names.
type Importer interface {
	Imports() []string
}

// Exporter is implemented by a Domain whose state other logs' rules may
// rely on, as facts.
type Exporter interface {
	// Fact reads the fact called name about id from st, the domain's own
	// state, ok=false if it does not hold (or the domain exports no such
	// fact). A fact that holds never stops holding, with the same Since,
	// LeafHash and Value: a later change of the record it is about is a
	// new fact, under another name.
	Fact(ctx context.Context, st Reader, name, id string) (f Fact, ok bool, err error)
}

// Fact is one thing a log's domain says holds.
type Fact struct {
	// Since is the index, in the exporting log, of the entry that made
	// the fact hold, and LeafHash that entry's leaf hash.
	Since    uint64
	LeafHash [32]byte
	// Value is what the fact says, as the exporting domain documents it.
	Value json.RawMessage
}

// Logs is what an Importer's rules read of other logs, through
// Entry.Logs, each as it stood at the size the reading log last named.
type Logs interface {
	// Fact returns the fact called name about id that the log's domain
	// exports, if it held at the view.
	Fact(ctx context.Context, log, name, id string) (Fact, bool, error)
	// Entry returns the index of the entry with this leaf hash, if the log
	// held it at the view.
	Entry(ctx context.Context, log string, leafHash [32]byte) (index uint64, ok bool, err error)
}

// ErrNoLogs is the error of a rule that reads another log through an Entry
// whose Logs is nil (a domain that is not an Importer, or a test).
var ErrNoLogs = errors.New("no other logs are readable here")

// Responder is implemented by a Domain whose log answers some statements
// with statements of its own, signed by its rule key and written right
// after them in the same transaction (the approvals log's decision on an
// application): a statement and its answer are admitted together or not
// at all, so no replay ever finds one without the other.
type Responder interface {
	// Respond returns the statements the log writes right after e, given
	// st with e's effects applied. It only reads. Each answer is then
	// admitted as any statement of its type is (its role must be a ByLog
	// type's); if the rules refuse one, e is refused too.
	Respond(ctx context.Context, st Reader, e Entry) ([]Response, error)
}

// Response is one statement a Responder wants written.
type Response struct {
	Type string
	// Body is the statement's body, JSON-marshalable.
	Body any
}
