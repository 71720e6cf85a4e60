package personalities

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/storage"
)

// Errors the admission server itself returns.
var (
	// ErrUnknownLog: the request names a log this server does not run.
	ErrUnknownLog = errors.New("unknown log")
	// ErrBadTime: the statement's time is too far from the server's clock.
	ErrBadTime = errors.New("statement time out of bounds")
	// ErrBadRequest: a read request with a negative or missing field.
	ErrBadRequest = errors.New("bad request")
	// ErrNotYetIncluded: wait=true ran out of time before a checkpoint
	// included the admitted statement.
	ErrNotYetIncluded = errors.New("admitted, not yet included")
	// ErrNoCheckpoint: the log has published no checkpoint yet.
	ErrNoCheckpoint = errors.New("no checkpoint published yet (waiting for the witnesses' quorum); retry")
	// ErrShuttingDown: the server stopped while the statement was waiting
	// for admission; submit the same bytes again (to this server once it
	// is back, or another): that returns the entry if it was admitted.
	ErrShuttingDown = errors.New("server shutting down; submit the same bytes again")
	// ErrNotAdmitting: of several processes serving the logs, none is
	// known to be elected to admit right now (an election under way, or
	// etcd out of reach); submit the same bytes again.
	ErrNotAdmitting = errors.New("no process is elected to admit right now (an election is under way, or etcd is out of reach); submit the same bytes again")
)

// toStatus maps an error to the gRPC status the caller sees: the one place
// where outcomes become codes. Errors that are not the caller's fault are
// logged here and reach the caller as UNAVAILABLE without internal text.
func toStatus(log *slog.Logger, err error) error {
	var code codes.Code
	switch {
	case err == nil:
		return nil
	case isStatus(err):
		// The elected process's own answer to a forwarded Submit.
		return err
	case errors.Is(err, govlog.ErrStatementTooLarge), errors.Is(err, ErrOverQuota):
		code = codes.ResourceExhausted
	case errors.Is(err, govlog.ErrMalformedStatement),
		errors.Is(err, govlog.ErrNotCanonical),
		errors.Is(err, govlog.ErrWrongOrigin),
		errors.Is(err, rule.ErrUnknownType),
		errors.Is(err, rule.ErrInvalidBody),
		errors.Is(err, ErrBadTime),
		errors.Is(err, ErrUnknownLog),
		errors.Is(err, ErrBadRequest),
		errors.Is(err, rule.ErrUnknownQuery),
		errors.Is(err, rule.ErrInvalidQuery):
		code = codes.InvalidArgument
	case errors.Is(err, rule.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, rule.ErrQueryTooLarge):
		code = codes.ResourceExhausted
	case errors.Is(err, govlog.ErrUnknownSigner),
		errors.Is(err, govlog.ErrBadSignature),
		errors.Is(err, rule.ErrBadSignature):
		code = codes.Unauthenticated
	// A revoked or retired key signed validly, and is known: it may no
	// longer sign, as an agency without the role may not.
	case errors.Is(err, registry.ErrKeyRevoked), errors.Is(err, registry.ErrRoleMissing), errors.Is(err, rule.ErrNotAuthorized):
		code = codes.PermissionDenied
	case errors.Is(err, rule.ErrRuleViolation):
		code = codes.FailedPrecondition
	case errors.Is(err, rule.ErrAlreadyExists):
		code = codes.AlreadyExists
	case errors.Is(err, govlog.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, govlog.ErrOutOfRange):
		code = codes.OutOfRange
	case errors.Is(err, ErrNotYetIncluded):
		code = codes.DeadlineExceeded
	case errors.Is(err, ErrShuttingDown), errors.Is(err, ErrNoCheckpoint), errors.Is(err, ErrNotAdmitting), errors.Is(err, storage.ErrFenced):
		code = codes.Unavailable
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	default:
		log.Warn("back-end failure", "err", err)
		return status.Error(codes.Unavailable, "back-end unavailable; retry")
	}
	log.Debug("request refused", "code", code, "err", err)
	return status.Error(code, err.Error())
}

// isStatus reports whether err itself, not wrapped, is a gRPC status: the
// answer of another process, as a Forwarder returns it. A wrapped one is a
// back-end failure (in-process Trillian's), whose text stays inside.
func isStatus(err error) bool {
	_, ok := err.(interface{ GRPCStatus() *status.Status })
	return ok
}
