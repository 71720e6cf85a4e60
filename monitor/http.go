package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/govlog/govlog"
)

// maxPromiseSize bounds the body of POST /promises; a promise is a few
// hundred bytes.
const maxPromiseSize = 16 << 10

// Errors of POST /promises, mapped to HTTP statuses in promiseStatus.
var (
	// ErrUnknownOrigin: the promise is for a log the monitor does not follow.
	ErrUnknownOrigin = errors.New("no followed log has this origin")
)

// Handler serves the monitor's public pages:
//
//	GET /              the dashboard, HTML, refreshed every 10 seconds:
//	                   per log, its verified checkpoint and alerts, and the
//	                   tables its domain makes of its replayed state for a
//	                   citizen to read (rule.Summarizer)
//	GET /alerts        every alert, newest first, as a JSON array
//	GET /alerts/<id>   one alert with its evidence, as JSON
//	GET /notifications every notification of a watched entry, newest
//	                   first, as a JSON array ([NotificationJSON])
//	GET /notifications/<id>/bundle
//	                   the notification's tlog-proof bundle, as a file
//	POST /promises     a govlog/promise/v1 signed note, checked against the
//	                   log's key and recorded: 202 Accepted, 400 if it is
//	                   malformed or not signed by the log, 404 if the monitor
//	                   follows no log of its origin
//
// With Options.Portal, the public portal over the monitor's own replay
// too: its home at /portal/, its pages at /search, /entries/, /proofs/,
// /check, /money/, /status, /policy and /static/, and its JSON API below
// /api/v1/ (see [PortalOptions]).
//
// It only reads and writes the Store, so it may serve while Run runs.
func (m *Monitor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", m.serveDashboard)
	mux.HandleFunc("GET /alerts", m.serveAlerts)
	mux.HandleFunc("GET /alerts/{id}", m.serveAlert)
	mux.HandleFunc("POST /promises", m.servePromise)
	mux.HandleFunc("GET /notifications", m.serveNotifications)
	mux.HandleFunc("GET /notifications/{id}/bundle", m.serveNotificationBundle)
	if m.portal != nil {
		m.portal.mount(mux)
	}
	return securityHeaders(mux)
}

// securityHeaders sets, on every answer, what keeps a browser from running
// anything the dashboard did not ship (it has no script; its one style
// sheet is inline), from framing it, and from sniffing a type.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// AlertJSON is an alert as GET /alerts and webhooks serve it.
type AlertJSON struct {
	ID       string          `json:"id"`
	Kind     Kind            `json:"kind"`
	Log      string          `json:"log"`
	Index    *uint64         `json:"index,omitempty"`
	Message  string          `json:"message"`
	Time     time.Time       `json:"time"`
	Evidence json.RawMessage `json:"evidence"`
}

func newAlertJSON(a Alert) AlertJSON {
	ev := json.RawMessage(a.Evidence)
	if !json.Valid(ev) {
		ev = json.RawMessage("null")
	}
	return AlertJSON{ID: a.ID(), Kind: a.Kind, Log: a.Log, Index: a.Index, Message: a.Message, Time: a.Time, Evidence: ev}
}

// Pages of GET /alerts and of the dashboard's alert table.
const (
	defaultAlertPage = 100
	maxAlertPage     = 1000
)

// serveAlerts answers a page of the alerts, newest first: ?limit= (default
// 100, at most 1,000) from ?offset= (default 0). The total is in the
// X-Total-Count header, and a Link header with rel="next" names the next
// page while there is one.
func (m *Monitor) serveAlerts(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := pageOf(r, defaultAlertPage, maxAlertPage)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	counts, err := m.opts.Store.AlertCounts(r.Context())
	if err != nil {
		m.serverError(w, err)
		return
	}
	alerts, err := m.opts.Store.NewestAlerts(r.Context(), offset, limit)
	if err != nil {
		m.serverError(w, err)
		return
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	if offset+len(alerts) < total {
		w.Header().Set("Link", fmt.Sprintf(`<alerts?offset=%d&limit=%d>; rel="next"`, offset+len(alerts), limit))
	}
	out := make([]AlertJSON, 0, len(alerts))
	for _, a := range alerts {
		out = append(out, newAlertJSON(a))
	}
	writeJSON(w, out)
}

// pageOf reads ?offset= and ?limit= of r.
func pageOf(r *http.Request, def, most int) (offset, limit int, err error) {
	limit = def
	for name, v := range map[string]*int{"offset": &offset, "limit": &limit} {
		s := r.URL.Query().Get(name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || name == "limit" && (n == 0 || n > most) {
			return 0, 0, fmt.Errorf("%s %.20q: want a whole number (limit: 1 to %d)", name, s, most)
		}
		*v = n
	}
	return offset, limit, nil
}

func (m *Monitor) serveAlert(w http.ResponseWriter, r *http.Request) {
	a, ok, err := m.opts.Store.Alert(r.Context(), r.PathValue("id"))
	if err != nil {
		m.serverError(w, err)
		return
	}
	if !ok {
		http.Error(w, "no such alert", http.StatusNotFound)
		return
	}
	writeJSON(w, newAlertJSON(a))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func (m *Monitor) serverError(w http.ResponseWriter, err error) {
	m.logger.Error("monitor HTTP request failed", "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

func (m *Monitor) servePromise(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPromiseSize))
	if err == nil {
		err = m.acceptPromise(r.Context(), body)
	}
	if err != nil {
		m.logger.Debug("promise not accepted", "err", err)
	}
	switch {
	case err == nil:
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "accepted\n")
	case errors.Is(err, ErrUnknownOrigin):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, govlog.ErrMalformedPromise), errors.Is(err, govlog.ErrPromiseSignature):
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "promise too large", http.StatusRequestEntityTooLarge)
			return
		}
		m.serverError(w, err)
	}
}

// acceptPromise verifies signed with the key of the followed log of its
// origin and records it.
func (m *Monitor) acceptPromise(ctx context.Context, signed []byte) error {
	// The origin is read before verification only to pick the log's keys.
	lines := strings.SplitN(string(signed), "\n", 3)
	if len(lines) < 3 || lines[0] != govlog.PromiseFormat {
		return govlog.ErrMalformedPromise
	}
	origin := lines[1]
	i := slices.IndexFunc(m.opts.Logs, func(l Log) bool { return l.Origin == origin })
	if i < 0 {
		return ErrUnknownOrigin
	}
	l := &m.opts.Logs[i]
	err := ErrUnknownOrigin
	for _, v := range l.Policy.Logs() {
		if v.Name() != origin {
			continue
		}
		var p govlog.Promise
		if p, err = govlog.OpenPromise(signed, v); err == nil {
			return m.opts.Store.AddPromise(ctx, p, signed, m.opts.Now())
		}
		if !errors.Is(err, govlog.ErrPromiseSignature) {
			return err
		}
	}
	return err
}

// serveNotifications answers a page of the notifications, newest first,
// as serveAlerts pages the alerts.
func (m *Monitor) serveNotifications(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := pageOf(r, defaultAlertPage, maxAlertPage)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	total, err := m.opts.Store.NotificationCount(r.Context())
	if err != nil {
		m.serverError(w, err)
		return
	}
	ns, err := m.newestNotifications(r.Context(), offset, limit)
	if err != nil {
		m.serverError(w, err)
		return
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	if offset+len(ns) < total {
		w.Header().Set("Link", fmt.Sprintf(`<notifications?offset=%d&limit=%d>; rel="next"`, offset+len(ns), limit))
	}
	writeJSON(w, ns)
}

// serveNotificationBundle finds the notification by ID a page at a time,
// never holding them all.
func (m *Monitor) serveNotificationBundle(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	for offset := 0; ; offset += maxAlertPage {
		ns, err := m.newestNotifications(r.Context(), offset, maxAlertPage)
		if err != nil {
			m.serverError(w, err)
			return
		}
		for _, n := range ns {
			if n.ID != id {
				continue
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fmt.Sprintf("entry-%d.tlog-proof", n.Index)))
			w.Write(n.Bundle)
			return
		}
		if len(ns) < maxAlertPage {
			break
		}
	}
	http.Error(w, "no such notification", http.StatusNotFound)
}
