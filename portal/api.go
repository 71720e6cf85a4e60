package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// API is the public JSON read API, version 1, below /api/v1/:
//
//	GET /api/v1/logs                     the logs, with their latest checkpoints
//	GET /api/v1/search?log=L&...         entries of log L, newest first
//	GET /api/v1/entries/{log}/{index}    one entry and its relations
//
// Search parameters, all optional but log: agency, type, id, sha256, from
// and to (RFC 3339, or a date YYYY-MM-DD, UTC, to meaning its whole day),
// q (words of the title, all required), limit and cursor (a page's next).
// Every result carries the signed statement (leaf) and, unless pending,
// its tlog-proof bundle, both base64 as JSON holds bytes. An error is
// {"error": "..."} with 400 (a bad parameter), 404 (no such log or
// entry), 503 (retry later) or 500.
type API struct {
	src    Source
	logger *slog.Logger
	mux    *http.ServeMux
}

// NewAPI returns the API reading src; logger may be nil.
func NewAPI(src Source, logger *slog.Logger) *API {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &API{src: src, logger: logger, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /api/v1/logs", a.logs)
	a.mux.HandleFunc("GET /api/v1/search", a.search)
	a.mux.HandleFunc("GET /api/v1/entries/{log}/{index}", a.entry)
	a.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, fmt.Errorf("%w: %s %s: the API answers GET /api/v1/logs, /api/v1/search and /api/v1/entries/{log}/{index}", errNoRoute, r.Method, r.URL.Path))
	})
	return a
}

// ServeHTTP serves the paths below /api/; mount it there.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The data is public: any page may read it.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	a.mux.ServeHTTP(w, r)
}

// errNoRoute: no API call at that path (404).
var errNoRoute = errors.New("no such API call")

func (a *API) logs(w http.ResponseWriter, r *http.Request) {
	if err := onlyParams(r.URL.Query()); err != nil {
		a.fail(w, r, err)
		return
	}
	logs, err := a.src.Logs(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, r, struct {
		Logs []LogInfo `json:"logs"`
	}{logs})
}

func (a *API) search(w http.ResponseWriter, r *http.Request) {
	q, err := parseSearch(r.URL.Query())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.src.Search(r.Context(), q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if page.Results == nil {
		page.Results = []Result{} // [] in JSON, not null
	}
	a.reply(w, r, page)
}

func (a *API) entry(w http.ResponseWriter, r *http.Request) {
	if err := onlyParams(r.URL.Query()); err != nil {
		a.fail(w, r, err)
		return
	}
	index, err := strconv.ParseUint(r.PathValue("index"), 10, 64)
	if err != nil {
		a.fail(w, r, fmt.Errorf("%w: index %.32q is not a number", ErrInvalidQuery, r.PathValue("index")))
		return
	}
	e, err := a.src.Entry(r.Context(), r.PathValue("log"), index)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, r, e)
}

// searchParams are the parameters /api/v1/search takes.
var searchParams = []string{"log", "agency", "type", "id", "sha256", "from", "to", "q", "limit", "cursor"}

// parseSearch reads a search's parameters; the source checks their
// values' bounds (the limit, a hash's form).
func parseSearch(v url.Values) (Query, error) {
	if err := onlyParams(v, searchParams...); err != nil {
		return Query{}, err
	}
	q := Query{Log: v.Get("log"), Agency: v.Get("agency"), Type: v.Get("type"), ID: v.Get("id"),
		SHA256: v.Get("sha256"), Words: strings.Fields(v.Get("q")), Cursor: v.Get("cursor")}
	if q.Log == "" {
		return Query{}, fmt.Errorf("%w: the log parameter is required (see /api/v1/logs)", ErrInvalidQuery)
	}
	var err error
	if s := v.Get("from"); s != "" {
		if q.From, err = parseTime("from", s, false); err != nil {
			return Query{}, err
		}
	}
	if s := v.Get("to"); s != "" {
		if q.To, err = parseTime("to", s, true); err != nil {
			return Query{}, err
		}
	}
	if s := v.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 {
			return Query{}, fmt.Errorf("%w: limit %.20q is not a positive number", ErrInvalidQuery, s)
		}
	}
	return q, nil
}

// onlyParams refuses parameters other than allowed, and any given twice:
// a misspelt criterion silently ignored would widen a search.
func onlyParams(v url.Values, allowed ...string) error {
	for k, vs := range v {
		switch {
		case !slices.Contains(allowed, k):
			if len(allowed) == 0 {
				return fmt.Errorf("%w: unknown parameter %.32q: this call takes none", ErrInvalidQuery, k)
			}
			return fmt.Errorf("%w: unknown parameter %.32q (known: %s)", ErrInvalidQuery, k, strings.Join(allowed, ", "))
		case len(vs) > 1:
			return fmt.Errorf("%w: parameter %q given %d times", ErrInvalidQuery, k, len(vs))
		}
	}
	return nil
}

// parseTime reads a time bound: RFC 3339, or a date (UTC), which as an
// end bound means the end of that day.
func parseTime(name, s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %.40q is neither RFC 3339 (2026-12-06T10:00:00Z) nor a date (2026-12-06)", ErrInvalidQuery, name, s)
	}
	if end {
		t = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	return t, nil
}

// status maps an error of a Source (or of the API itself) to its HTTP
// status: the one place that does.
func status(err error) int {
	switch {
	case errors.Is(err, ErrInvalidQuery):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnknownLog), errors.Is(err, ErrNotFound), errors.Is(err, errNoRoute):
		return http.StatusNotFound
	case errors.Is(err, ErrRetryLater):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := status(err)
	msg := err.Error()
	if code == http.StatusInternalServerError {
		a.logger.Error("read API failed", "path", r.URL.Path, "err", err)
		msg = "internal error; the server's log says more"
	} else {
		a.logger.Debug("read API refused a request", "path", r.URL.Path, "err", err)
	}
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}

func (a *API) reply(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		a.fail(w, r, fmt.Errorf("couldn't encode the answer: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n'))
}
