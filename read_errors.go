package govlog

import "errors"

// Errors of a log's read API, shared by the server that returns them and the
// clients that must tell them apart (mapped to gRPC NOT_FOUND and
// OUT_OF_RANGE on the wire).
var (
	// ErrNotFound: no entry with that leaf hash in the tree of that size.
	ErrNotFound = errors.New("entry not found")
	// ErrOutOfRange: an index or tree size beyond the latest checkpoint. Not
	// necessarily final: the log may grow to it.
	ErrOutOfRange = errors.New("beyond the latest checkpoint")
)
