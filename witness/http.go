package witness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// errNoSuchEvidence means no evidence has the requested ID. HTTP 404.
var errNoSuchEvidence = errors.New("no evidence with this ID")

// sizeContentType is the media type of a 409 answer.
const sizeContentType = "text/x.tlog.size"

// NewHandler returns the witness's HTTP API, with one prefix for submission
// and monitoring:
//
//	POST /add-checkpoint          C2SP tlog-witness add-checkpoint
//	GET  /checkpoint/<origin hash> the latest cosigned checkpoint of a log
//	GET  /<origin hash>/checkpoint the same, at the spec's monitoring path
//	GET  /evidence                 one line per evidence: id kind found origin
//	GET  /evidence/<id>            an evidence file
//
// where <origin hash> is the lowercase hex SHA-256 of the log's origin.
func NewHandler(w *Witness) http.Handler {
	h := &handler{w: w, origins: map[string]string{}, limits: map[string]*rate.Limiter{}}
	for origin := range w.logs {
		sum := sha256.Sum256([]byte(origin))
		h.origins[hex.EncodeToString(sum[:])] = origin
		if w.perLog > 0 {
			h.limits[origin] = rate.NewLimiter(rate.Limit(w.perLog), int(max(1, 2*w.perLog)))
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /add-checkpoint", h.addCheckpoint)
	mux.HandleFunc("GET /checkpoint/{hash}", h.checkpoint)
	// Shares its shape with the route above, so it is matched by hand.
	mux.HandleFunc("GET /{hash}/{name}", func(rw http.ResponseWriter, r *http.Request) {
		if r.PathValue("name") != "checkpoint" {
			http.NotFound(rw, r)
			return
		}
		h.checkpoint(rw, r)
	})
	mux.HandleFunc("GET /evidence", h.listEvidence)
	mux.HandleFunc("GET /evidence/{id}", h.getEvidence)
	return mux
}

type handler struct {
	w       *Witness
	origins map[string]string // hex SHA-256 of origin -> origin
	// limits hold one token bucket per known log origin for
	// add-checkpoint requests (see Options.PerLogRate); none if unlimited.
	limits map[string]*rate.Limiter
}

// DefaultPerLogRate bounds the add-checkpoint requests a witness takes per
// log and second, in bursts of twice as many: a log publishes a checkpoint
// at most every sequencer interval (100 ms by default), so this is twice
// that, and a replay flood of one log's checkpoints gets 429 Too Many
// Requests instead of the witness's CPU and disk.
const DefaultPerLogRate = 20

func (h *handler) addCheckpoint(rw http.ResponseWriter, r *http.Request) {
	status := http.StatusOK
	defer func() { h.w.metrics.requests.WithLabelValues(strconv.Itoa(status)).Inc() }()
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, MaxRequestSize))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		status = h.writeError(rw, r, fmt.Errorf("%w: more than %d bytes", ErrRequestTooLarge, MaxRequestSize))
		return
	case err != nil:
		status = h.writeError(rw, r, fmt.Errorf("%w: couldn't read body: %v", ErrMalformedRequest, err))
		return
	}
	old, consistency, signed, err := ParseAddCheckpointRequest(body)
	if err != nil {
		status = h.writeError(rw, r, err)
		return
	}
	if len(h.limits) > 0 {
		// The note's first line, its origin if it is well-formed; a
		// malformed one is refused later, but counted here all the same.
		origin, _, _ := bytes.Cut(signed, []byte("\n"))
		if l, ok := h.limits[string(origin)]; ok && !l.Allow() {
			status = http.StatusTooManyRequests
			rw.Header().Set("Retry-After", "1")
			http.Error(rw, fmt.Sprintf("more than %g add-checkpoint requests a second for %s", h.w.perLog, origin), status)
			return
		}
	}
	lines, err := h.w.AddCheckpoint(r.Context(), old, consistency, signed)
	if err != nil {
		status = h.writeError(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Write(lines)
}

func (h *handler) checkpoint(rw http.ResponseWriter, r *http.Request) {
	origin, ok := h.origins[r.PathValue("hash")]
	if !ok {
		h.writeError(rw, r, fmt.Errorf("%w: no log has origin hash %.64q", ErrUnknownOrigin, r.PathValue("hash")))
		return
	}
	cosigned, ok, err := h.w.Latest(r.Context(), origin)
	if err == nil && !ok {
		// SPEC: tlog-witness: a log never cosigned gets 404.
		err = fmt.Errorf("%w: %s", ErrNoCheckpoint, origin)
	}
	if err != nil {
		h.writeError(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Write(cosigned)
}

func (h *handler) listEvidence(rw http.ResponseWriter, r *http.Request) {
	evidence, err := h.w.Evidence(r.Context())
	if err != nil {
		h.writeError(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, e := range evidence {
		fmt.Fprintf(rw, "%s %s %s %s\n", e.ID, e.Kind, e.Found.UTC().Format(time.RFC3339), e.Origin)
	}
}

func (h *handler) getEvidence(rw http.ResponseWriter, r *http.Request) {
	evidence, err := h.w.Evidence(r.Context())
	if err != nil {
		h.writeError(rw, r, err)
		return
	}
	for _, e := range evidence {
		if e.ID == r.PathValue("id") {
			rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
			rw.Write(e.File)
			return
		}
	}
	h.writeError(rw, r, fmt.Errorf("%w: %.64q", errNoSuchEvidence, r.PathValue("id")))
}

// statusClientClosed counts requests whose client disconnected first.
const statusClientClosed = 499

// writeError answers with the status code of err, the one place where the
// package's sentinels meet HTTP, and returns the code.
func (h *handler) writeError(rw http.ResponseWriter, r *http.Request, err error) int {
	var conflict *SizeConflictError
	code := http.StatusInternalServerError
	switch {
	case r.Context().Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		// The client went away: nothing failed here. Counted apart (as
		// 499, nginx's "client closed request"), logged at debug.
		h.w.logger.Debug("client went away", "path", r.URL.Path, "err", err)
		rw.WriteHeader(statusClientClosed)
		return statusClientClosed
	case errors.As(err, &conflict):
		// SPEC: tlog-witness: a 409 body is the latest cosigned size in
		// decimal and a newline, as text/x.tlog.size.
		rw.Header().Set("Content-Type", sizeContentType)
		rw.WriteHeader(http.StatusConflict)
		fmt.Fprintf(rw, "%d\n", conflict.Latest)
		h.w.logger.Debug("add-checkpoint refused", "err", err, "code", http.StatusConflict)
		return http.StatusConflict
	case errors.Is(err, ErrMalformedRequest), errors.Is(err, ErrOldSizeTooLarge):
		code = http.StatusBadRequest
	case errors.Is(err, ErrRequestTooLarge):
		code = http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrLogSignature):
		code = http.StatusForbidden
	case errors.Is(err, ErrUnknownOrigin), errors.Is(err, ErrNoCheckpoint), errors.Is(err, errNoSuchEvidence):
		code = http.StatusNotFound
	case errors.Is(err, ErrInconsistent), errors.Is(err, ErrLogEquivocated):
		code = http.StatusUnprocessableEntity
	}
	if code == http.StatusInternalServerError {
		h.w.logger.Error("witness request failed", "path", r.URL.Path, "err", err)
		http.Error(rw, "internal error", code)
		return code
	}
	h.w.logger.Debug("request refused", "path", r.URL.Path, "err", err, "code", code)
	http.Error(rw, err.Error(), code)
	return code
}
