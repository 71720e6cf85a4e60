package monitor

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
)

// A Watch asks to be told when an entry about something appears in a log:
// an agency's statements, or those about a document, a contract, an
// account: whatever kinds of ID the followed logs' domains declare
// ([rule.Watcher]).
//
// An entry matches a watch if every criterion the watch sets holds (a watch
// sets at least one besides Log):
//
//   - Log: the entry is in the log with this origin;
//   - Agency: the entry is signed by this agency (the agency the registry
//     authorized on replay);
//   - About: for each kind named, the entry's body mentions the ID in one
//     of the fields the log's domain lists for that kind; a log whose
//     domain declares no such kind has no entry about it.
//
// A body mentions an ID in a field when the canonical JSON of the body, at
// any depth (objects inside objects or arrays), has a string member with
// that field name whose value is exactly the ID. The field sets are small
// and fixed by each domain, so that a watch on account "a-1" does not fire
// on a document titled "a-1".
//
// For "either this agency or that document", use two watches. Only entries
// the monitor verified and replayed without fault are matched (an entry
// refused on replay is an alert instead), and only entries verified after
// the watch was configured: adding a watch does not re-scan the log.
type Watch struct {
	// Name identifies the watch in notifications; unique.
	Name string
	// Log, if set, is the origin of the only log the watch applies to.
	Log string
	// Agency, if set, is the registry ID of the signing agency.
	Agency string
	// About maps watch kinds ("document", "account") to the ID watched.
	About map[string]string
}

// watchKinds returns the watch kinds of a domain, by name.
func watchKinds(d rule.Domain) map[string][]string {
	out := map[string][]string{}
	if w, ok := d.(rule.Watcher); ok {
		for _, k := range w.WatchKinds() {
			out[k.Name] = k.Fields
		}
	}
	return out
}

// appliesTo reports whether w can match entries of l: it names l or no
// log, and l's domain declares every kind it is about.
func (w *Watch) appliesTo(l *Log, kinds map[string][]string) bool {
	if w.Log != "" && w.Log != l.Origin {
		return false
	}
	for kind := range w.About {
		if _, ok := kinds[kind]; !ok {
			return false
		}
	}
	return true
}

// matches reports whether an entry signed by agency with body matches w,
// a watch that applies to the entry's log, whose domain has kinds. body is
// decoded lazily, once, by the caller.
func (w *Watch) matches(agency string, kinds map[string][]string, body func() any) bool {
	if w.Agency != "" && w.Agency != agency {
		return false
	}
	for kind, id := range w.About {
		if !mentions(body(), kinds[kind], id) {
			return false
		}
	}
	return true
}

// mentions reports whether v, decoded JSON, has a string member named one
// of fields whose value is id, at any depth.
func mentions(v any, fields []string, id string) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && s == id && slices.Contains(fields, k) {
				return true
			}
			if mentions(x, fields, id) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if mentions(x, fields, id) {
				return true
			}
		}
	}
	return false
}

// A Notification says that an entry matching a watch is in a log, with the
// proof: Bundle is a C2SP tlog-proof of Entry at Index under the checkpoint
// the monitor verified, which anyone can check offline with
// [govlog.VerifyBundle] and the log's policy.
type Notification struct {
	// Watch is the watch's name.
	Watch string
	// Log is the log's origin.
	Log string
	// Index is the entry's index in the log.
	Index uint64
	// Type is the statement's type ("disclosures/publish").
	Type string
	// Agency is the agency that signed it.
	Agency string
	// Entry is the entry's bytes (the signed statement).
	Entry []byte
	// Bundle is the tlog-proof bundle of the entry.
	Bundle []byte
	// Time is when the monitor found it.
	Time time.Time
}

// ID identifies a notification by what it is about: the hex SHA-256 of its
// watch, log and index.
func (n Notification) ID() string {
	h := sha256.New()
	h.Write([]byte(n.Watch))
	h.Write([]byte{0})
	h.Write([]byte(n.Log))
	h.Write([]byte{0})
	h.Write(binary.BigEndian.AppendUint64(nil, n.Index))
	return hex.EncodeToString(h.Sum(nil))
}

// NotificationKind is the kind of a notification in JSON, which webhooks
// receive beside alerts (whose kinds are [Kind]s).
const NotificationKind = "notification"

// NotificationJSON is a notification as GET /notifications and webhooks
// serve it. Entry and Bundle are base64.
type NotificationJSON struct {
	ID     string    `json:"id"`
	Kind   string    `json:"kind"` // always NotificationKind
	Watch  string    `json:"watch"`
	Log    string    `json:"log"`
	Index  uint64    `json:"index"`
	Type   string    `json:"type"`
	Agency string    `json:"agency"`
	Time   time.Time `json:"time"`
	Entry  []byte    `json:"entry"`
	Bundle []byte    `json:"bundle"`
}

func newNotificationJSON(n Notification) NotificationJSON {
	return NotificationJSON{ID: n.ID(), Kind: NotificationKind, Watch: n.Watch, Log: n.Log, Index: n.Index,
		Type: n.Type, Agency: n.Agency, Time: n.Time, Entry: n.Entry, Bundle: n.Bundle}
}

// watchMatch is an entry of the current pass that matched watches, waiting
// for the root check before its bundle is built.
type watchMatch struct {
	watches []string
	index   uint64
	typ     string
	agency  string
	entry   []byte
	// left is the compact range of [0, index): the left siblings of the
	// entry's inclusion proof.
	left [][]byte
}

// matchWatches returns the names of the watches of a log, whose domain
// has kinds, that the replayed entry e matches.
func matchWatches(watches []Watch, kinds map[string][]string, e rule.Entry) []string {
	var decoded any
	var parsed bool
	body := func() any {
		if !parsed {
			parsed = true
			// A body that is not JSON mentions nothing; replay accepted it,
			// so it is canonical JSON.
			json.Unmarshal(e.Body, &decoded)
		}
		return decoded
	}
	var out []string
	for i := range watches {
		if watches[i].matches(e.Agency, kinds, body) {
			out = append(out, watches[i].Name)
		}
	}
	return out
}

// watchesByLog checks watches and groups them by the origin of the logs
// they apply to.
func watchesByLog(watches []Watch, logs []Log) (map[string][]Watch, error) {
	followed := map[string]bool{}
	for _, l := range logs {
		followed[l.Origin] = true
	}
	names := map[string]bool{}
	out := map[string][]Watch{}
	for i := range watches {
		w := &watches[i]
		switch {
		case w.Name == "":
			return nil, errors.New("monitor: a watch has no name")
		case names[w.Name]:
			return nil, fmt.Errorf("monitor: watch %q listed twice", w.Name)
		case w.Agency == "" && len(w.About) == 0:
			return nil, fmt.Errorf("monitor: watch %q: set an agency or something it is about", w.Name)
		case w.Log != "" && !followed[w.Log]:
			return nil, fmt.Errorf("monitor: watch %q: log %q is not followed", w.Name, w.Log)
		}
		names[w.Name] = true
		applies := false
		for i := range logs {
			if w.appliesTo(&logs[i], watchKinds(logs[i].Domain)) {
				out[logs[i].Origin] = append(out[logs[i].Origin], *w)
				applies = true
			}
		}
		if !applies {
			return nil, fmt.Errorf("monitor: watch %q: no followed log has entries about %s (kinds: %s)",
				w.Name, strings.Join(slices.Sorted(maps.Keys(w.About)), " and "), strings.Join(KnownWatchKinds(logs), ", "))
		}
	}
	return out, nil
}

// CheckWatches checks watches as New does, against the logs to follow:
// names unique, logs followed, kinds known to their domains.
func CheckWatches(watches []Watch, logs []Log) error {
	_, err := watchesByLog(watches, logs)
	return err
}

// KnownWatchKinds lists the watch kinds the domains of logs declare.
func KnownWatchKinds(logs []Log) []string {
	var out []string
	for _, l := range logs {
		for k := range watchKinds(l.Domain) {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

// recordMatches builds the bundles of the pass's watched entries under cp,
// whose root the pass matched, and records their notifications in tx,
// returning the new ones to deliver once tx commits. passLeaves are the
// leaf hashes of the pass, from index begin.
func (m *Monitor) recordMatches(ctx context.Context, l *Log, tx *advance, matched []watchMatch, passLeaves [][]byte, begin uint64, signed []byte, cp govlog.Checkpoint) ([]Notification, error) {
	if len(matched) == 0 {
		return nil, nil
	}
	pass := newPassTree(begin, passLeaves)
	now := m.opts.Now().UTC()
	var out []Notification
	for i := range matched {
		w := &matched[i]
		b, err := bundle(w, signed, cp, l.Policy, pass)
		if err != nil {
			return nil, err
		}
		for _, name := range w.watches {
			n := Notification{Watch: name, Log: l.Origin, Index: w.index, Type: w.typ, Agency: w.agency,
				Entry: w.entry, Bundle: b, Time: now}
			isNew, err := tx.putNotification(ctx, n)
			if err != nil {
				return nil, err
			}
			if isNew {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// notify delivers a notification recorded by a committed pass.
func (m *Monitor) notify(n Notification) {
	m.notified.WithLabelValues(n.Log, n.Watch).Inc()
	m.logger.Info("watched entry: "+n.Watch, "watch", n.Watch, "log", n.Log, "index", n.Index, "type", n.Type,
		"agency", n.Agency, "notification_id", n.ID())
	if m.opts.OnNotification != nil {
		m.opts.OnNotification(n)
	}
	m.hooks.sendNotification(n)
}
