package approvals

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/answer"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/ruleset"
)

// QueryApplication is the name of the one query of the log: an
// application, every step of it and the versions of the rules that
// decided it.
const QueryApplication = "application"

// MaxAnswerSteps bounds the steps of an application a query answers: an
// application has a few (a filing and its decision, a supplement or two,
// an official's decision); one with more is ErrQueryTooLarge.
const MaxAnswerSteps = 200

// ApplicationAnswer is the answer to an application query: the
// application's record and the versions of its kind's rules that its
// decisions name. Every step and every version carries the leaf hash of
// its entry in this log, which the answer cites.
type ApplicationAnswer struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Agency string `json:"agency"`
	Owner  string `json:"owner"`
	Status string `json:"status"`
	// Fields are the application's fields, as its filings made them.
	Fields map[string]json.RawMessage `json:"fields"`
	// Cites are the entries of other logs the application rests on: they
	// are not entries of this log, so they are not proved with the answer
	// (and their hash is not in a leaf_hash member).
	Cites     []OtherEntry `json:"cites,omitempty"`
	Filed     string       `json:"filed"`
	Submitted string       `json:"submitted"`
	Due       string       `json:"due,omitempty"`
	Decided   string       `json:"decided,omitempty"`
	Automatic bool         `json:"automatic,omitempty"`
	Steps     []Step       `json:"steps"`
	// Versions are the versions the decisions name, by version.
	Versions []VersionRef `json:"versions"`
}

// OtherEntry names an entry of another log that an application cites.
type OtherEntry struct {
	Log   string `json:"log"`
	Entry string `json:"entry"`
}

// VersionRef is a version of a kind's rules, as an answer names it.
type VersionRef struct {
	Kind             string `json:"kind"`
	Version          int64  `json:"version"`
	Title            string `json:"title"`
	Official         bool   `json:"official"`
	DecideWithinDays int64  `json:"decide_within_days"`
	LeafHash         string `json:"leaf_hash"`
}

// ErrAnswerMismatch is what CheckAnswer's errors wrap: the answer says what
// its entries do not.
var ErrAnswerMismatch = errors.New("the answer does not match its entries")

var (
	_ rule.Querier     = (*Rules)(nil)
	_ rule.QueryClient = (*Rules)(nil)
)

// Query implements [rule.Querier]: the application query. It reads the
// application and each version its decisions name: at most
// 1 + MaxAnswerSteps keys.
func (*Rules) Query(ctx context.Context, v rule.View, name string, args map[string]string) (any, [][32]byte, error) {
	if name != QueryApplication {
		return nil, nil, fmt.Errorf("%w %.64q: the %s log answers %q", rule.ErrUnknownQuery, name, LogName, QueryApplication)
	}
	id, ok := args["id"]
	if len(args) != 1 || !ok {
		return nil, nil, fmt.Errorf("%w: the %s query takes one argument, id (have %q)", rule.ErrInvalidQuery, QueryApplication, slices.Sorted(maps.Keys(args)))
	}
	if !body.ID.Valid(id) {
		return nil, nil, fmt.Errorf("%w: %.80q is not an application ID", rule.ErrInvalidQuery, id)
	}
	a, ok, err := ReadApplication(ctx, v, id)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, fmt.Errorf("%w: there is no application %s", rule.ErrNotFound, id)
	}
	if len(a.Steps) > MaxAnswerSteps {
		return nil, nil, fmt.Errorf("%w: application %s has %d steps, more than the %d a query shows", rule.ErrQueryTooLarge, id, len(a.Steps), MaxAnswerSteps)
	}
	out := &ApplicationAnswer{ID: a.ID, Kind: a.Kind, Agency: a.Agency, Owner: a.Owner, Status: a.Status, Fields: a.Fields,
		Filed: a.Filed, Submitted: a.Submitted, Due: a.Due, Decided: a.Decided, Automatic: a.Automatic, Steps: a.Steps,
		Versions: []VersionRef{}}
	if out.Fields == nil {
		out.Fields = map[string]json.RawMessage{}
	}
	for _, c := range a.Cites {
		out.Cites = append(out.Cites, OtherEntry{Log: c.Log, Entry: c.LeafHash})
	}
	var cited [][32]byte
	var versions []int64
	for i, s := range a.Steps {
		h, err := answer.LeafHash(s.LeafHash)
		if err != nil {
			return nil, nil, fmt.Errorf("corrupt state: application %s, step %d: %w", id, i+1, err)
		}
		cited = append(cited, h)
		if s.Decision != nil && !slices.Contains(versions, s.Decision.Version) {
			versions = append(versions, s.Decision.Version)
		}
	}
	slices.Sort(versions)
	for _, n := range versions {
		ver, ok, err := ReadVersion(ctx, v, a.Kind, n)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, fmt.Errorf("corrupt state: application %s was decided under version %d of %s, which is missing", id, n, a.Kind)
		}
		h, err := answer.LeafHash(ver.LeafHash)
		if err != nil {
			return nil, nil, fmt.Errorf("corrupt state: version %d of %s: %w", n, a.Kind, err)
		}
		cited = append(cited, h)
		out.Versions = append(out.Versions, VersionRef{Kind: ver.Kind, Version: ver.Version, Title: ver.Title, Official: ver.Official,
			DecideWithinDays: ver.DecideWithinDays, LeafHash: ver.LeafHash})
	}
	return out, cited, nil
}

// Queries implements [rule.QueryClient].
func (*Rules) Queries() []rule.QueryInfo {
	return []rule.QueryInfo{{
		Name: QueryApplication, Verb: "status", Arg: "id", ArgName: "APP-ID",
		Summary: "an application: its status, every filing and decision, and the rules that decided it",
		Doc: `status shows an application: its kind, who filed it, its fields (personal data as
commitments, documents as their SHA-256), its status and, while an official
must decide, when the decision is due; then every step, each an entry of the
log proved with the answer: the filing and each supplement, each decision of
the rules (naming every rule that failed and every field missing) and an
official's sign-off. The answer is checked against those entries: the fields
are what the filings say, each decision of the rules is evaluated again with
the version of the rules it names (whose approvals.rules entry is proved too),
and the status is what the last step makes it.`,
	}}
}

// CheckAnswer implements [rule.QueryClient]: every step is the proved
// entry it cites, of its type and time, about the application; the
// fields and citations are what its filings say, merged as the rules
// merge them; every decision of the rules is the one its entry records,
// and the one the version it names makes again from those fields; the
// versions are the proved approvals.rules entries of the owner; and the
// status, the due and decision times follow from the steps. Errors wrap
// [ErrAnswerMismatch].
func (*Rules) CheckAnswer(query string, args map[string]string, result []byte, entries []rule.ProvedEntry) (string, error) {
	if query != QueryApplication {
		return "", fmt.Errorf("%w %.64q", rule.ErrUnknownQuery, query)
	}
	a, err := decodeAnswer(result)
	if err != nil {
		return "", err
	}
	if a.ID != args["id"] {
		return "", mismatch("the answer is about application %.80q, not %.80q", a.ID, args["id"])
	}
	proved := answer.ByHash(entries)
	versions, err := checkVersions(a, proved)
	if err != nil {
		return "", err
	}
	w, err := replaySteps(a, versions, proved)
	if err != nil {
		return "", err
	}
	if err := w.compare(a); err != nil {
		return "", err
	}
	return w.describe(a), nil
}

// checkedVersion is a version an answer names, checked against its entry.
type checkedVersion struct {
	VersionRef
	program *ruleset.Program
	used    bool
}

// checkVersions checks the versions of the answer against their proved
// approvals.rules entries and compiles their rules.
func checkVersions(a *ApplicationAnswer, proved map[[32]byte]rule.ProvedEntry) (map[int64]*checkedVersion, error) {
	if len(a.Versions) > max(len(a.Steps), 1) || len(a.Versions) > MaxAnswerSteps {
		return nil, mismatch("the answer names %d versions of the rules for %d steps", len(a.Versions), len(a.Steps))
	}
	out := map[int64]*checkedVersion{}
	for _, v := range a.Versions {
		what := fmt.Sprintf("version %d", v.Version)
		if _, dup := out[v.Version]; dup {
			return nil, mismatch("%s is named twice", what)
		}
		e, err := provedEntry(proved, what, v.LeafHash)
		if err != nil {
			return nil, err
		}
		if e.Type != TypeRules {
			return nil, mismatch("%s's entry is a %.64s, not a %s", what, e.Type, TypeRules)
		}
		b, err := ParseRulesBody(e.Body)
		if err != nil {
			return nil, mismatch("%s's entry: %v", what, err)
		}
		switch {
		case b.Kind != a.Kind || v.Kind != a.Kind:
			return nil, mismatch("%s's entry is of the kind %s, the application of %.80s", what, b.Kind, a.Kind)
		case b.Version != v.Version:
			return nil, mismatch("%s's entry publishes version %d", what, b.Version)
		case b.Title != v.Title || b.Official != v.Official || b.DecideWithinDays != v.DecideWithinDays:
			return nil, mismatch("%s's entry gives the title %q, official %t and %d days, not %.200q, %t and %d", what,
				b.Title, b.Official, b.DecideWithinDays, v.Title, v.Official, v.DecideWithinDays)
		case !slices.Contains(e.Signers, a.Owner):
			return nil, mismatch("%s's entry carries no signature by a key named %.80s, the kind's owner", what, a.Owner)
		}
		p, err := ruleset.Compile(b.Set())
		if err != nil {
			return nil, mismatch("%s's entry: its rules do not compile: %v", what, err)
		}
		out[v.Version] = &checkedVersion{VersionRef: v, program: p}
	}
	return out, nil
}

// walk is what the steps of an application make of it, as the rules
// would.
type walk struct {
	fields            map[string]json.RawMessage
	cites             []Cite
	status            string
	filed, submitted  string
	due, decided      string
	automatic         bool
	decisions, proved int
	officials         []string
	lastVersion       int64
}

// replaySteps checks each step of a against its proved entry and works out
// what the steps make of the application.
func replaySteps(a *ApplicationAnswer, versions map[int64]*checkedVersion, proved map[[32]byte]rule.ProvedEntry) (*walk, error) {
	if len(a.Steps) == 0 {
		return nil, mismatch("the application has no steps")
	}
	if len(a.Steps) > MaxAnswerSteps {
		return nil, mismatch("the application has %d steps, more than a query shows", len(a.Steps))
	}
	w := &walk{}
	var supp *SupplementBody // the filing the next decision decides, if a supplement
	prev := ""               // the type of the previous step
	var prevIndex uint64
	for i, s := range a.Steps {
		what := fmt.Sprintf("step %d (%.32s)", i+1, s.Type)
		e, err := provedEntry(proved, what, s.LeafHash)
		if err != nil {
			return nil, err
		}
		at := stamp(e.Time)
		switch {
		case e.Type != s.Type:
			return nil, mismatch("%s: its entry is a %.64s", what, e.Type)
		case e.Index != s.Index:
			return nil, mismatch("%s: its entry is entry %d of the log, not %d", what, e.Index, s.Index)
		case at != s.Time:
			return nil, mismatch("%s: its entry was made at %s, not %.80s", what, at, s.Time)
		case i > 0 && s.Index <= prevIndex:
			return nil, mismatch("%s: entry %d does not come after entry %d", what, s.Index, prevIndex)
		case s.Type != TypeDecide && s.Decision != nil, s.Type != TypeSign && (s.Sign != nil || len(s.Officials) > 0):
			return nil, mismatch("%s: a %s records no decision", what, s.Type)
		case !follows(prev, s.Type, w.status):
			return nil, mismatch("%s: a %s cannot follow %s", what, s.Type, describePrev(prev, w.status))
		}
		prevIndex = s.Index
		w.proved++
		switch s.Type {
		case TypeApply:
			b, err := ParseApplyBody(e.Body)
			if err != nil {
				return nil, mismatch("%s: %v", what, err)
			}
			if b.ApplicationID != a.ID || b.Kind != a.Kind {
				return nil, mismatch("%s: its entry files application %s of kind %s", what, b.ApplicationID, b.Kind)
			}
			if !slices.Contains(e.Signers, a.Agency) {
				return nil, mismatch("%s: its entry carries no signature by a key named %.80s", what, a.Agency)
			}
			w.fields, w.cites = b.Fields, slices.Clone(b.Cites)
			w.filed, w.submitted, w.status = at, at, statusPending
		case TypeSupplement:
			b, err := ParseSupplementBody(e.Body)
			if err != nil {
				return nil, mismatch("%s: %v", what, err)
			}
			if b.ApplicationID != a.ID {
				return nil, mismatch("%s: its entry supplements application %s", what, b.ApplicationID)
			}
			if !slices.Contains(e.Signers, a.Agency) {
				return nil, mismatch("%s: its entry carries no signature by a key named %.80s", what, a.Agency)
			}
			supp, w.submitted, w.status = &b, at, statusPending
		case TypeDecide:
			// A decision names the filing it decides, the step before it.
			if i == 0 || a.Steps[i-1].LeafHash != decidedFiling(e.Body) {
				return nil, mismatch("%s: its entry does not name the filing before it", what)
			}
			if err := w.decide(a, s, e, what, supp, versions); err != nil {
				return nil, err
			}
			supp = nil
		case TypeSign:
			b, err := ParseSignBody(e.Body)
			if err != nil {
				return nil, mismatch("%s: %v", what, err)
			}
			switch {
			case s.Sign == nil || *s.Sign != b:
				return nil, mismatch("%s: its entry records the decision %q (%q), the answer %s", what, b.Decision, b.Reason, showSign(s.Sign))
			case b.ApplicationID != a.ID:
				return nil, mismatch("%s: its entry decides application %s", what, b.ApplicationID)
			case !slices.Contains(e.Signers, a.Owner):
				return nil, mismatch("%s: its entry carries no signature by a key named %.80s, the kind's owner", what, a.Owner)
			case len(s.Officials) == 0:
				return nil, mismatch("%s: the answer names no official who signed it", what)
			}
			for _, o := range s.Officials {
				if !slices.Contains(e.Signers, o) {
					return nil, mismatch("%s: its entry carries no signature by a key named %.80s", what, o)
				}
			}
			w.officials = s.Officials
			w.decided = at
			if b.Decision == Approve {
				w.status = StatusApproved
			} else {
				w.status = StatusRefused
			}
			w.due = ""
		default:
			return nil, mismatch("%s: an application has no step of type %.64s", what, s.Type)
		}
		prev = s.Type
	}
	for _, v := range versions {
		if !v.used {
			return nil, mismatch("version %d is named by no decision", v.Version)
		}
	}
	if w.status == statusPending {
		return nil, mismatch("the log's decision on the last filing is missing")
	}
	return w, nil
}

// follows reports whether a step of type typ may follow one of type prev,
// after which the application was status.
func follows(prev, typ, status string) bool {
	switch prev {
	case "":
		return typ == TypeApply
	case TypeApply, TypeSupplement:
		return typ == TypeDecide
	case TypeDecide:
		return status == StatusReturned && typ == TypeSupplement || status == StatusOfficial && typ == TypeSign
	}
	return false
}

func describePrev(prev, status string) string {
	if prev == "" {
		return "nothing (an application starts with its " + TypeApply + ")"
	}
	return fmt.Sprintf("a %s (the application %s)", prev, status)
}

func showSign(s *SignBody) string {
	if s == nil {
		return "none"
	}
	return fmt.Sprintf("%.16q (%.200q)", s.Decision, s.Reason)
}

// decide checks a decision step: its entry records the answer's decision,
// and the version it names makes that decision again from the fields the
// filings gave.
func (w *walk) decide(a *ApplicationAnswer, s Step, e rule.ProvedEntry, what string, supp *SupplementBody, versions map[int64]*checkedVersion) error {
	d, err := ParseDecision(e.Body)
	if err != nil {
		return mismatch("%s: %v", what, err)
	}
	if s.Decision == nil || !reflect.DeepEqual(normal(*s.Decision), normal(d)) {
		got, _ := json.Marshal(d)
		return mismatch("%s: its entry records the decision %s, the answer %s", what, got, showDecision(s.Decision))
	}
	if d.ApplicationID != a.ID || d.Kind != a.Kind {
		return mismatch("%s: its entry decides application %s of kind %s", what, d.ApplicationID, d.Kind)
	}
	v, ok := versions[d.Version]
	if !ok {
		return mismatch("%s: the decision names version %d, which the answer does not give", what, d.Version)
	}
	v.used = true
	if supp != nil {
		// The version that decides a supplement was the current one when
		// it was filed: nothing comes between a filing and its decision.
		merged := schemaFields(v.program, w.fields)
		maps.Copy(merged, supp.Fields)
		w.fields = merged
		for _, c := range supp.Cites {
			if !slices.Contains(w.cites, c) {
				w.cites = append(w.cites, c)
			}
		}
	}
	submitted, err := time.Parse(time.RFC3339, w.submitted)
	if err != nil {
		return mismatch("%s: %v", what, err)
	}
	ver := Version{Kind: a.Kind, Version: v.Version, Official: v.Official}
	want, err := decide(Application{ID: a.ID, Kind: a.Kind, Fields: w.fields}, ver, v.program, submitted)
	if err != nil {
		return mismatch("%s: the fields filed do not fit version %d: %v", what, v.Version, err)
	}
	want.Filing = d.Filing
	if !reflect.DeepEqual(normal(want), normal(d)) {
		got, _ := json.Marshal(d)
		exp, _ := json.Marshal(want)
		return mismatch("%s: the log decided %s, and version %d of the rules decides %s", what, got, v.Version, exp)
	}
	w.decisions++
	w.lastVersion = v.Version
	switch d.Outcome {
	case Returned:
		w.status = StatusReturned
	case Approved:
		w.status, w.automatic, w.decided = StatusApproved, true, stamp(e.Time)
	case Passed:
		filed, err := time.Parse(time.RFC3339, w.filed)
		if err != nil {
			return mismatch("%s: %v", what, err)
		}
		w.status = StatusOfficial
		w.due = stamp(filed.Add(time.Duration(v.DecideWithinDays) * 24 * time.Hour))
	}
	return nil
}

func showDecision(d *Decision) string {
	if d == nil {
		return "none"
	}
	b, _ := json.Marshal(d)
	return fmt.Sprintf("%.1000s", b)
}

// compare checks what the answer says of the application against what
// its steps make of it.
func (w *walk) compare(a *ApplicationAnswer) error {
	switch {
	case a.Status != w.status:
		return mismatch("the answer says the application is %.32q; its steps make it %s", a.Status, w.status)
	case a.Filed != w.filed:
		return mismatch("the answer says it was filed at %.80s; its approvals.apply was made at %s", a.Filed, w.filed)
	case a.Submitted != w.submitted:
		return mismatch("the answer says its last filing was at %.80s, not %s", a.Submitted, w.submitted)
	case a.Due != w.due:
		return mismatch("the answer gives the due time %.80q, its steps %q", a.Due, w.due)
	case a.Decided != w.decided:
		return mismatch("the answer gives the time of decision %.80q, its steps %q", a.Decided, w.decided)
	case a.Automatic != w.automatic:
		return mismatch("the answer says the decision was automatic: %t; its steps: %t", a.Automatic, w.automatic)
	}
	for _, name := range slices.Sorted(maps.Keys(a.Fields)) {
		want, ok := w.fields[name]
		if !ok {
			return mismatch("field %.64s: no filing gives it", name)
		}
		if !sameJSON(a.Fields[name], want) {
			return mismatch("field %.64s: the answer says %.200s, the filings %s", name, a.Fields[name], want)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(w.fields)) {
		if _, ok := a.Fields[name]; !ok {
			return mismatch("field %s: the filings give it, the answer leaves it out", name)
		}
	}
	if len(a.Cites) != len(w.cites) {
		return mismatch("the answer gives %d citations, the filings %d", len(a.Cites), len(w.cites))
	}
	for i, c := range w.cites {
		if a.Cites[i] != (OtherEntry{Log: c.Log, Entry: c.LeafHash}) {
			return mismatch("citation %d: the answer says %.32s %.80s, the filings %s %s", i+1, a.Cites[i].Log, a.Cites[i].Entry, c.Log, c.LeafHash)
		}
	}
	return nil
}

// describe says what CheckAnswer established.
func (w *walk) describe(a *ApplicationAnswer) string {
	var what string
	switch w.status {
	case StatusApproved:
		if w.automatic {
			what = fmt.Sprintf("approved by version %d of the rules alone", w.lastVersion)
		} else {
			what = fmt.Sprintf("approved by an official of %s (%s)", a.Owner, strings.Join(w.officials, ", "))
		}
	case StatusRefused:
		what = fmt.Sprintf("refused by an official of %s (%s)", a.Owner, strings.Join(w.officials, ", "))
	case StatusReturned:
		what = fmt.Sprintf("returned to %s for a supplement", a.Agency)
	case StatusOfficial:
		what = fmt.Sprintf("passed by the rules, waiting for an official of %s, due %s", a.Owner, w.due)
	}
	decisions := "decisions"
	if w.decisions == 1 {
		decisions = "decision"
	}
	return fmt.Sprintf("application %s: %s after %d %s of the rules, each evaluated again with the version it names; "+
		"its fields are what its filings say; %d entries proved (%d steps, %d versions of the rules)",
		a.ID, what, w.decisions, decisions, w.proved+len(a.Versions), w.proved, len(a.Versions))
}

// sameJSON reports whether two JSON values are the same value.
func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if err := decodeNumbers(a, &x); err != nil {
		return false
	}
	if err := decodeNumbers(b, &y); err != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func decodeNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

func decodeAnswer(result []byte) (*ApplicationAnswer, error) {
	var a ApplicationAnswer
	if err := answer.Decode(result, &a, "an application answer"); err != nil {
		return nil, mismatch("%v", err)
	}
	return &a, nil
}

func mismatch(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrAnswerMismatch, fmt.Sprintf(format, args...))
}

// provedEntry returns the proved entry of the leaf hash an answer gives.
func provedEntry(proved map[[32]byte]rule.ProvedEntry, what, leafHex string) (rule.ProvedEntry, error) {
	e, err := answer.Entry(proved, leafHex)
	if err != nil {
		return e, mismatch("%s: %v", what, err)
	}
	return e, nil
}

// FormatAnswer implements [rule.QueryClient].
func (*Rules) FormatAnswer(w io.Writer, query string, result []byte) error {
	if query != QueryApplication {
		return fmt.Errorf("%w %.64q", rule.ErrUnknownQuery, query)
	}
	a, err := decodeAnswer(result)
	if err != nil {
		return err
	}
	var b strings.Builder
	title := ""
	if n := len(a.Versions); n > 0 {
		title = ": " + a.Versions[n-1].Title
	}
	fmt.Fprintf(&b, "Application %s, of kind %s%s\n", a.ID, a.Kind, title)
	fmt.Fprintf(&b, "  filed %s by %s; decided by %s\n", a.Filed, a.Agency, a.Owner)
	switch a.Status {
	case StatusApproved:
		how := "by an official"
		if a.Automatic {
			how = "by the rules alone"
		}
		fmt.Fprintf(&b, "  status: approved %s, %s\n", how, a.Decided)
	case StatusRefused:
		fmt.Fprintf(&b, "  status: refused by an official, %s\n", a.Decided)
	case StatusOfficial:
		fmt.Fprintf(&b, "  status: with an official, decision due %s\n", a.Due)
	case StatusReturned:
		fmt.Fprintf(&b, "  status: returned, waiting for a supplement\n")
	default:
		fmt.Fprintf(&b, "  status: %s\n", a.Status)
	}
	if len(a.Fields) > 0 {
		b.WriteString("  fields:\n")
		for _, name := range slices.Sorted(maps.Keys(a.Fields)) {
			fmt.Fprintf(&b, "    %s = %s\n", name, a.Fields[name])
		}
	}
	for _, c := range a.Cites {
		fmt.Fprintf(&b, "  cites %s entry %s\n", c.Log, c.Entry)
	}
	b.WriteString("  steps:\n")
	for _, s := range a.Steps {
		fmt.Fprintf(&b, "    %s  #%d  %s", s.Time, s.Index, s.Type)
		switch {
		case s.Decision != nil:
			d := s.Decision
			fmt.Fprintf(&b, ": %s under version %d\n", d.Outcome, d.Version)
			for _, f := range d.Failed {
				fmt.Fprintf(&b, "        %s: %s", f.Rule, f.Message)
				if f.Reason != "" {
					fmt.Fprintf(&b, " (%s)", f.Reason)
				}
				b.WriteString("\n")
			}
			if len(d.Missing) > 0 {
				fmt.Fprintf(&b, "        missing: %s\n", strings.Join(d.Missing, ", "))
			}
		case s.Sign != nil:
			fmt.Fprintf(&b, ": %s", s.Sign.Decision)
			if s.Sign.Reason != "" {
				fmt.Fprintf(&b, ", %q", s.Sign.Reason)
			}
			if len(s.Officials) > 0 {
				fmt.Fprintf(&b, " (officials %s)", strings.Join(s.Officials, ", "))
			}
			b.WriteString("\n")
		default:
			b.WriteString("\n")
		}
	}
	for _, v := range a.Versions {
		official := "no official"
		if v.Official {
			official = "an official signs"
		}
		fmt.Fprintf(&b, "  version %d of %s: %s; %s; decided within %d days\n", v.Version, v.Kind, v.Title, official, v.DecideWithinDays)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// decidedFiling returns the filing a decision entry's body names, "" if
// it does not parse.
func decidedFiling(body []byte) string {
	d, err := ParseDecision(body)
	if err != nil {
		return ""
	}
	return d.Filing
}
