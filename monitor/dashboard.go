package monitor

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
)

//go:embed dashboard.html
var dashboardHTML string

var dashboardTemplate = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"b64":  func(b []byte) string { return base64.StdEncoding.EncodeToString(b) },
	// numeric reports whether column i of t is right-aligned.
	"numeric": func(t rule.Table, i int) bool { return i < len(t.Columns) && t.Columns[i].Numeric },
}).Parse(dashboardHTML))

// The dashboard's data.
type (
	dashboard struct {
		Now  time.Time
		Logs []logView
		// Alerts are the newest alerts, AlertTotal how many there are.
		Alerts        []alertView
		AlertTotal    int
		Notifications []NotificationJSON
		// NotificationTotal is how many notifications there are.
		NotificationTotal int
		// EvidenceFrom is what each witness whose evidence of split views
		// the monitor reads served at the last pass.
		EvidenceFrom []WitnessStatus
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
	d := &dashboard{Now: m.opts.Now().UTC(), EvidenceFrom: m.Witnesses()}
	alerts, err := m.opts.Store.NewestAlerts(ctx, 0, defaultAlertPage)
	if err != nil {
		return nil, err
	}
	perLog, err := m.opts.Store.AlertCounts(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range perLog {
		d.AlertTotal += n
	}
	if d.Notifications, err = m.newestNotifications(ctx, 0, defaultAlertPage); err != nil {
		return nil, err
	}
	if d.NotificationTotal, err = m.opts.Store.NotificationCount(ctx); err != nil {
		return nil, err
	}
	for _, a := range alerts {
		d.Alerts = append(d.Alerts, alertView{newAlertJSON(a)})
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
			if v.Summary, err = sum.Summary(ctx, st, func(id string) string { return agencyLabel(m.registryOf(l), id) }); err != nil {
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
	if name, ok := reg.Name(id); ok {
		return cmp.Or(name, id)
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
var _ rule.Scanner = stateScanner{}

type stateScanner struct {
	s      *Store
	origin string
}

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
