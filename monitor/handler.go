package monitor

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
)

// maxPromiseSize bounds the body of POST /promises; a promise is a few
// hundred bytes.
const maxPromiseSize = 16 << 10

// Errors of POST /promises, mapped to HTTP statuses in promiseStatus.
var (
	// ErrUnknownOrigin: the promise is for a log the monitor does not follow.
	ErrUnknownOrigin = errors.New("no followed log has this origin")
)

//go:embed dashboard.html
var dashboardHTML string

var dashboardTemplate = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"b64":  func(b []byte) string { return base64.StdEncoding.EncodeToString(b) },
	// numeric reports whether column i of t is right-aligned.
	"numeric": func(t rule.Table, i int) bool { return i < len(t.Columns) && t.Columns[i].Numeric },
}).Parse(dashboardHTML))

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
// It only reads and writes the Store, so it may serve while Run runs.
func (m *Monitor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", m.serveDashboard)
	mux.HandleFunc("GET /alerts", m.serveAlerts)
	mux.HandleFunc("GET /alerts/{id}", m.serveAlert)
	mux.HandleFunc("POST /promises", m.servePromise)
	mux.HandleFunc("GET /notifications", m.serveNotifications)
	mux.HandleFunc("GET /notifications/{id}/bundle", m.serveNotificationBundle)
	return mux
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

// newestAlerts returns the stored alerts, newest first.
func (m *Monitor) newestAlerts(ctx context.Context) ([]Alert, error) {
	alerts, err := m.opts.Store.Alerts(ctx)
	slices.Reverse(alerts)
	return alerts, err
}

func (m *Monitor) serveAlerts(w http.ResponseWriter, r *http.Request) {
	alerts, err := m.newestAlerts(r.Context())
	if err != nil {
		m.serverError(w, err)
		return
	}
	out := make([]AlertJSON, 0, len(alerts))
	for _, a := range alerts {
		out = append(out, newAlertJSON(a))
	}
	writeJSON(w, out)
}

func (m *Monitor) serveAlert(w http.ResponseWriter, r *http.Request) {
	alerts, err := m.newestAlerts(r.Context())
	if err != nil {
		m.serverError(w, err)
		return
	}
	id := r.PathValue("id")
	for _, a := range alerts {
		if a.ID() == id {
			writeJSON(w, newAlertJSON(a))
			return
		}
	}
	http.Error(w, "no such alert", http.StatusNotFound)
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

// The dashboard's data.
type (
	dashboard struct {
		Now           time.Time
		Logs          []logView
		Alerts        []alertView
		Notifications []NotificationJSON
	}
	logView struct {
		Origin, Name string
		Verified     bool
		Size         uint64
		// CheckpointSize is the verified checkpoint's size: more than
		// Size while a long pass is partway.
		CheckpointSize uint64
		Root           string
		Seen           time.Time
		Witnesses      []witnessView
		LastPass       time.Time
		LastError      string
		AlertCount     int
		Promises       map[string]int
		// Summary is the domain's tables of the replayed state.
		Summary []rule.Table
	}
	witnessView struct {
		Name     string
		Cosigned bool
		Time     time.Time // zero if unknown
	}
	alertView struct {
		AlertJSON
	}
)

func (m *Monitor) serveDashboard(w http.ResponseWriter, r *http.Request) {
	d, err := m.dashboard(r.Context())
	if err != nil {
		m.serverError(w, err)
		return
	}
	var buf bytes.Buffer
	if err := dashboardTemplate.Execute(&buf, d); err != nil {
		m.serverError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

func (m *Monitor) dashboard(ctx context.Context) (*dashboard, error) {
	d := &dashboard{Now: m.opts.Now().UTC()}
	alerts, err := m.newestAlerts(ctx)
	if err != nil {
		return nil, err
	}
	if d.Notifications, err = m.newestNotifications(ctx); err != nil {
		return nil, err
	}
	perLog := map[string]int{}
	for _, a := range alerts {
		d.Alerts = append(d.Alerts, alertView{newAlertJSON(a)})
		perLog[a.Log]++
	}
	for i := range m.opts.Logs {
		l := &m.opts.Logs[i]
		v := logView{Origin: l.Origin, Name: l.Name, AlertCount: perLog[l.Origin]}
		if st, ok := m.status.get(l.Origin); ok {
			v.LastPass = st.At
			if st.Err != nil {
				v.LastError = firstLine(st.Err.Error())
			}
		}
		ver, ok, err := m.opts.Store.Verified(ctx, l.Origin)
		if err != nil {
			return nil, err
		}
		if ok {
			cp, err := parseSigned(ver.Checkpoint)
			if err != nil {
				return nil, err
			}
			v.Verified, v.Size, v.CheckpointSize, v.Seen = true, ver.Size, cp.Size, ver.Seen
			v.Root = base64.StdEncoding.EncodeToString(cp.Hash[:])
			v.Witnesses = cosigners(l.Policy, ver.Checkpoint)
		}
		counts, err := m.opts.Store.PromiseCounts(ctx, l.Origin)
		if err != nil {
			return nil, err
		}
		if len(counts) > 0 {
			v.Promises = map[string]int{}
			for s, n := range counts {
				v.Promises[string(s)] = n
			}
		}
		if sum, ok := l.Domain.(rule.Summarizer); ok {
			st := stateScanner{m.opts.Store, l.Origin}
			if v.Summary, err = sum.Summary(ctx, st, func(id string) string { return agencyLabel(l.Registry, id) }); err != nil {
				return nil, fmt.Errorf("couldn't summarize the state of %s: %w", l.Origin, err)
			}
		}
		d.Logs = append(d.Logs, v)
	}
	return d, nil
}

// cosigners lists the policy's witnesses with whether and when they
// cosigned signed, a checkpoint the monitor verified.
func cosigners(p *govlog.Policy, signed []byte) []witnessView {
	var out []witnessView
	var verifiers []note.Verifier
	for _, w := range p.Witnesses() {
		out = append(out, witnessView{Name: w.Name})
		v, err := govlog.NewCosignatureVerifier(w.VKey)
		if err != nil {
			verifiers = append(verifiers, nil)
			continue
		}
		verifiers = append(verifiers, v)
	}
	known := slices.DeleteFunc(slices.Clone(verifiers), func(v note.Verifier) bool { return v == nil })
	known = append(known, p.Logs()...)
	n, err := note.Open(signed, note.VerifierList(known...))
	if err != nil {
		return out
	}
	for _, sig := range n.Sigs {
		for i, v := range verifiers {
			if v == nil || v.Name() != sig.Name || v.KeyHash() != sig.Hash {
				continue
			}
			out[i].Cosigned = true
			if t, err := govlog.CosignatureTime(sig); err == nil {
				out[i].Time = t
			}
		}
	}
	return out
}

// agencyName is the registry's name of an agency, or its ID.
func agencyName(reg *registry.Registry, id string) string {
	if a, ok := reg.Agency(id); ok {
		return cmp.Or(a.Name, id)
	}
	return id
}

// agencyLabel is "Name (id)", or the ID of an agency the registry does not
// name.
func agencyLabel(reg *registry.Registry, id string) string {
	if name := agencyName(reg, id); name != id {
		return name + " (" + id + ")"
	}
	return id
}

// stateScanner is the replayed state of one log as a rule.Scanner, read
// through the store's read-only connections.
type stateScanner struct {
	s      *Store
	origin string
}

var _ rule.Scanner = stateScanner{}

func (v stateScanner) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return v.s.getState(ctx, v.s.read, v.origin, key)
}

func (v stateScanner) Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error {
	state, err := v.s.StatePrefix(ctx, v.origin, prefix)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(state)) {
		if err := fn(k, state[k]); err != nil {
			return err
		}
	}
	return nil
}
