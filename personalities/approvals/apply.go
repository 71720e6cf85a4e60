package approvals

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/record"
	"github.com/govlog/govlog/personalities/rule/ruleset"
)

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func step(e rule.Entry) Step {
	return Step{Type: e.Type, Index: e.Index, LeafHash: leafHex(e.LeafHash), Time: stamp(e.Time)}
}

func (r *Rules) applyRules(ctx context.Context, st rule.State, e rule.Entry) error {
	b, err := ParseRulesBody(e.Body)
	if err != nil {
		return err
	}
	if _, err := ruleset.Compile(b.Set()); err != nil {
		return fmt.Errorf("%w: %w", rule.ErrInvalidBody, err)
	}
	k, ok, err := ReadKind(ctx, st, b.Kind)
	if err != nil {
		return err
	}
	switch {
	case !ok && b.Version != 1:
		return fmt.Errorf("%w: %s is a new kind: its first version is 1, not %d", rule.ErrRuleViolation, b.Kind, b.Version)
	case ok && k.Owner != e.Agency:
		return fmt.Errorf("%w: the kind %s is owned by %s", rule.ErrNotAuthorized, b.Kind, k.Owner)
	case ok && b.Version != k.Version+1:
		return fmt.Errorf("%w: the kind %s is at version %d: the next is %d, not %d", rule.ErrRuleViolation, b.Kind, k.Version, k.Version+1, b.Version)
	}
	k = Kind{Kind: b.Kind, Owner: e.Agency, Title: b.Title, Version: b.Version}
	v := Version{Kind: b.Kind, Version: b.Version, Title: b.Title, Set: b.Set(), Official: b.Official,
		DecideWithinDays: b.DecideWithinDays, Published: stamp(e.Time), LeafHash: leafHex(e.LeafHash)}
	if err := record.Put(ctx, st, VersionKey(b.Kind, b.Version), v); err != nil {
		return err
	}
	return record.Put(ctx, st, KindKey(b.Kind), k)
}

// checkCitesHeld refuses a citation of an entry the cited log does not
// hold (as of the view the entry reads it at).
func checkCitesHeld(ctx context.Context, e rule.Entry, cites []Cite) error {
	for _, c := range cites {
		if e.Logs == nil {
			return fmt.Errorf("%w: %w", rule.ErrRuleViolation, rule.ErrNoLogs)
		}
		var h [32]byte
		hex.Decode(h[:], []byte(c.LeafHash)) // checked by the parser
		_, ok, err := e.Logs.Entry(ctx, c.Log, h)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: the %s log holds no entry %s", rule.ErrRuleViolation, c.Log, c.LeafHash)
		}
	}
	return nil
}

// current returns the current version of kind, and its program.
func (r *Rules) current(ctx context.Context, st rule.Reader, kind string) (Kind, Version, *ruleset.Program, error) {
	k, ok, err := ReadKind(ctx, st, kind)
	if err != nil {
		return k, Version{}, nil, err
	}
	if !ok {
		return k, Version{}, nil, fmt.Errorf("%w: no application kind %q has been published", rule.ErrInvalidBody, kind)
	}
	v, ok, err := ReadVersion(ctx, st, kind, k.Version)
	if err != nil {
		return k, v, nil, err
	}
	if !ok {
		return k, v, nil, fmt.Errorf("corrupt state: version %d of %s is missing", k.Version, kind)
	}
	p, err := r.program(v)
	return k, v, p, err
}

// schemaFields keeps the fields of vals that p declares.
func schemaFields(p *ruleset.Program, vals map[string]json.RawMessage) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for _, f := range p.Fields() {
		if v, ok := vals[f.Name]; ok {
			out[f.Name] = v
		}
	}
	return out
}

func (r *Rules) applyApply(ctx context.Context, st rule.State, e rule.Entry) error {
	b, err := ParseApplyBody(e.Body)
	if err != nil {
		return err
	}
	k, _, p, err := r.current(ctx, st, b.Kind)
	if err != nil {
		return err
	}
	if _, err := p.ParseValues(b.Fields); err != nil {
		return fmt.Errorf("%w: %w", rule.ErrInvalidBody, err)
	}
	if _, ok, err := ReadApplication(ctx, st, b.ApplicationID); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: application %s", rule.ErrAlreadyExists, b.ApplicationID)
	}
	if err := checkCitesHeld(ctx, e, b.Cites); err != nil {
		return err
	}
	stats, err := ReadAgencyStats(ctx, st, k.Owner)
	if err != nil {
		return err
	}
	stats.Applications++
	a := Application{ID: b.ApplicationID, Kind: b.Kind, Agency: e.Agency, Owner: k.Owner, Fields: b.Fields, Cites: b.Cites,
		Status: statusPending, Filed: stamp(e.Time), Submitted: stamp(e.Time), Steps: []Step{step(e)}}
	if err := record.Put(ctx, st, AgencyKey(k.Owner), stats); err != nil {
		return err
	}
	if err := record.Put(ctx, st, AppKey(a.ID), a); err != nil {
		return err
	}
	return st.Put(ctx, awaitingKey, []byte(a.ID))
}

func (r *Rules) applySupplement(ctx context.Context, st rule.State, e rule.Entry) error {
	b, err := ParseSupplementBody(e.Body)
	if err != nil {
		return err
	}
	a, ok, err := ReadApplication(ctx, st, b.ApplicationID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: there is no application %s", rule.ErrRuleViolation, b.ApplicationID)
	}
	if a.Agency != e.Agency {
		return fmt.Errorf("%w: application %s was filed by %s", rule.ErrNotAuthorized, a.ID, a.Agency)
	}
	if a.Status != StatusReturned {
		return fmt.Errorf("%w: application %s is %s, not waiting for a supplement", rule.ErrRuleViolation, a.ID, a.Status)
	}
	_, _, p, err := r.current(ctx, st, a.Kind)
	if err != nil {
		return err
	}
	if _, err := p.ParseValues(b.Fields); err != nil {
		return fmt.Errorf("%w: %w", rule.ErrInvalidBody, err)
	}
	if err := checkCitesHeld(ctx, e, b.Cites); err != nil {
		return err
	}
	// The kind's current version judges: fields it no longer declares go,
	// and a field filed before that it now reads as another type must be
	// supplied again.
	merged := schemaFields(p, a.Fields)
	maps.Copy(merged, b.Fields)
	if _, err := p.ParseValues(merged); err != nil {
		return fmt.Errorf("%w: the rules of %s changed since the filing; supply the field again: %w", rule.ErrInvalidBody, a.Kind, err)
	}
	a.Fields = merged
	for _, c := range b.Cites {
		if !slices.Contains(a.Cites, c) {
			a.Cites = append(a.Cites, c)
		}
	}
	if len(a.Cites) > maxCites {
		return fmt.Errorf("%w: application %s would cite more than %d entries", rule.ErrRuleViolation, a.ID, maxCites)
	}
	a.Status, a.Submitted = statusPending, stamp(e.Time)
	a.Steps = append(a.Steps, step(e))
	if err := record.Put(ctx, st, AppKey(a.ID), a); err != nil {
		return err
	}
	return st.Put(ctx, awaitingKey, []byte(a.ID))
}

// Evaluate returns the decision the kind's current rules make on a, an
// application being decided.
func (r *Rules) Evaluate(ctx context.Context, st rule.Reader, a Application) (Decision, error) {
	_, v, p, err := r.current(ctx, st, a.Kind)
	if err != nil {
		return Decision{}, err
	}
	submitted, err := time.Parse(time.RFC3339, a.Submitted)
	if err != nil {
		return Decision{}, fmt.Errorf("corrupt state: application %s: %v", a.ID, err)
	}
	return decide(a, v, p, submitted)
}

// decide evaluates a's fields with p, the rules of version v.
func decide(a Application, v Version, p *ruleset.Program, submitted time.Time) (Decision, error) {
	vals, err := p.ParseValues(schemaFields(p, a.Fields))
	if err != nil {
		return Decision{}, fmt.Errorf("%w: %w", rule.ErrInvalidBody, err)
	}
	res := p.Eval(vals, submitted)
	d := Decision{ApplicationID: a.ID, Kind: a.Kind, Version: v.Version, Failed: res.Failed, Missing: res.Missing}
	switch {
	case !res.Holds():
		d.Outcome = Returned
	case v.Official:
		d.Outcome = Passed
	default:
		d.Outcome = Approved
	}
	return d, nil
}

// Respond implements rule.Responder: the log's decision on an application
// or supplement, right after it.
func (r *Rules) Respond(ctx context.Context, st rule.Reader, e rule.Entry) ([]rule.Response, error) {
	if e.Type != TypeApply && e.Type != TypeSupplement {
		return nil, nil
	}
	id, err := awaiting(ctx, st)
	if err != nil || id == "" {
		return nil, err
	}
	a, ok, err := ReadApplication(ctx, st, id)
	if err != nil || !ok {
		return nil, fmt.Errorf("corrupt state: awaited application %s: %v", id, err)
	}
	d, err := r.Evaluate(ctx, st, a)
	if err != nil {
		return nil, err
	}
	d.Filing = leafHex(e.LeafHash)
	return []rule.Response{{Type: TypeDecide, Body: d}}, nil
}

func (r *Rules) applyDecide(ctx context.Context, st rule.State, e rule.Entry, owed string) error {
	d, err := ParseDecision(e.Body)
	if err != nil {
		return err
	}
	if owed != d.ApplicationID {
		return fmt.Errorf("%w: the log owes no decision on application %s", rule.ErrRuleViolation, d.ApplicationID)
	}
	a, ok, err := ReadApplication(ctx, st, d.ApplicationID)
	if err != nil || !ok {
		return fmt.Errorf("corrupt state: awaited application %s: %v", d.ApplicationID, err)
	}
	if last := a.Steps[len(a.Steps)-1]; d.Filing != last.LeafHash {
		return fmt.Errorf("%w: the decision names filing %.64s; the filing waiting for it is %s", rule.ErrRuleViolation, d.Filing, last.LeafHash)
	}
	want, err := r.Evaluate(ctx, st, a)
	if err != nil {
		return err
	}
	want.Filing = d.Filing
	if !reflect.DeepEqual(normal(want), normal(d)) {
		got, _ := json.Marshal(d)
		exp, _ := json.Marshal(want)
		return fmt.Errorf("%w: the log decided %s, and version %d of the %s rules decide %s", rule.ErrRuleViolation, got, want.Version, a.Kind, exp)
	}
	s := step(e)
	s.Decision = &d
	a.Steps = append(a.Steps, s)
	stats, err := ReadAgencyStats(ctx, st, a.Owner)
	if err != nil {
		return err
	}
	switch d.Outcome {
	case Returned:
		a.Status = StatusReturned
	case Approved:
		a.Status, a.Automatic = StatusApproved, true
		a.ApprovedIndex, a.ApprovedLeaf = e.Index, leafHex(e.LeafHash)
		if err := finish(ctx, st, &a, &stats, e.Time); err != nil {
			return err
		}
	case Passed:
		v, _, err := ReadVersion(ctx, st, a.Kind, d.Version)
		if err != nil {
			return err
		}
		filed, _ := time.Parse(time.RFC3339, a.Filed)
		a.Status = StatusOfficial
		a.Due = stamp(filed.Add(time.Duration(v.DecideWithinDays) * 24 * time.Hour))
		stats.WithOfficial++
		if err := st.Put(ctx, DueKey(a.Owner, a.ID), []byte(a.Due)); err != nil {
			return err
		}
	}
	if err := record.Put(ctx, st, AgencyKey(a.Owner), stats); err != nil {
		return err
	}
	if err := record.Put(ctx, st, AppKey(a.ID), a); err != nil {
		return err
	}
	return st.Put(ctx, awaitingKey, []byte{})
}

// normal makes empty and nil lists alike, as JSON reads them back, and
// drops the reasons: a reason may quote the CEL runtime's error text, which
// another version of cel-go may word differently; the outcome, the rules
// that failed and the fields missing are the decision.
func normal(d Decision) Decision {
	d.Failed = slices.Clone(d.Failed)
	for i := range d.Failed {
		d.Failed[i].Reason = ""
	}
	if len(d.Failed) == 0 {
		d.Failed = nil
	}
	if len(d.Missing) == 0 {
		d.Missing = nil
	}
	return d
}

// finish records a's final decision at t in its owner's figures.
func finish(ctx context.Context, st rule.State, a *Application, stats *AgencyStats, t time.Time) error {
	if !a.Automatic { // it was with an official
		stats.WithOfficial--
		if err := st.Put(ctx, DueKey(a.Owner, a.ID), []byte{}); err != nil {
			return err
		}
	}
	a.Decided, a.Due = stamp(t), ""
	filed, _ := time.Parse(time.RFC3339, a.Filed)
	took := max(0, int64(t.Sub(filed)/time.Second))
	if err := st.Put(ctx, RecentKey(a.Owner, stats.Decided%maxRecentDecisions), []byte(strconv.FormatInt(took, 10))); err != nil {
		return err
	}
	stats.Decided++
	if a.Automatic {
		stats.Automatic++
	}
	return nil
}

func (r *Rules) applySign(ctx context.Context, st rule.State, e rule.Entry) error {
	b, err := ParseSignBody(e.Body)
	if err != nil {
		return err
	}
	a, ok, err := ReadApplication(ctx, st, b.ApplicationID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: there is no application %s", rule.ErrRuleViolation, b.ApplicationID)
	}
	if e.Agency != a.Owner {
		return fmt.Errorf("%w: applications of kind %s are decided by %s", rule.ErrNotAuthorized, a.Kind, a.Owner)
	}
	if len(e.Officials) == 0 {
		return fmt.Errorf("%w: a decision needs the signature of one of %s's registered officials", rule.ErrNotAuthorized, a.Owner)
	}
	if a.Status != StatusOfficial {
		return fmt.Errorf("%w: application %s is %s: there is no decision for an official to make", rule.ErrRuleViolation, a.ID, a.Status)
	}
	stats, err := ReadAgencyStats(ctx, st, a.Owner)
	if err != nil {
		return err
	}
	s := step(e)
	s.Sign, s.Officials = &b, e.Officials
	a.Steps = append(a.Steps, s)
	if b.Decision == Approve {
		a.Status = StatusApproved
		a.ApprovedIndex, a.ApprovedLeaf = e.Index, leafHex(e.LeafHash)
	} else {
		a.Status = StatusRefused
	}
	if err := finish(ctx, st, &a, &stats, e.Time); err != nil {
		return err
	}
	if err := record.Put(ctx, st, AgencyKey(a.Owner), stats); err != nil {
		return err
	}
	return record.Put(ctx, st, AppKey(a.ID), a)
}

// Fact implements rule.Exporter: "approved" about an application ID.
func (*Rules) Fact(ctx context.Context, st rule.Reader, name, id string) (rule.Fact, bool, error) {
	if name != FactApproved {
		return rule.Fact{}, false, nil
	}
	a, ok, err := ReadApplication(ctx, st, id)
	if err != nil || !ok || a.Status != StatusApproved {
		return rule.Fact{}, false, err
	}
	v, err := json.Marshal(ApprovedFact{ApplicationID: a.ID, Kind: a.Kind, Agency: a.Agency, Owner: a.Owner, Fields: a.Fields})
	if err != nil {
		return rule.Fact{}, false, err
	}
	f := rule.Fact{Since: a.ApprovedIndex, Value: v}
	if _, err := hex.Decode(f.LeafHash[:], []byte(a.ApprovedLeaf)); err != nil {
		return f, false, fmt.Errorf("corrupt state: application %s: %v", id, err)
	}
	return f, true, nil
}
