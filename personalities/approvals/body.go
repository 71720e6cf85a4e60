package approvals

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/ruleset"
)

// Limits of the bodies.
const (
	maxTitleLen  = 128
	maxReasonLen = 512
	maxCites     = 16
	maxDays      = 365
)

// RulesBody is the body of an approvals.rules.
type RulesBody struct {
	Kind             string          `json:"kind"`
	Version          int64           `json:"version"`
	Title            string          `json:"title"`
	Fields           []ruleset.Field `json:"fields"`
	Rules            []ruleset.Rule  `json:"rules"`
	Official         bool            `json:"official"`
	DecideWithinDays int64           `json:"decide_within_days"`
}

// Set returns the rule set of b.
func (b RulesBody) Set() ruleset.Set { return ruleset.Set{Fields: b.Fields, Rules: b.Rules} }

// Cite names an entry of another log.
type Cite struct {
	Log      string `json:"log"`
	LeafHash string `json:"leaf_hash"`
}

// ApplyBody is the body of an approvals.apply.
type ApplyBody struct {
	ApplicationID string                     `json:"application_id"`
	Kind          string                     `json:"kind"`
	Fields        map[string]json.RawMessage `json:"fields"`
	Cites         []Cite                     `json:"cites,omitempty"`
}

// SupplementBody is the body of an approvals.supplement.
type SupplementBody struct {
	ApplicationID string                     `json:"application_id"`
	Fields        map[string]json.RawMessage `json:"fields"`
	Cites         []Cite                     `json:"cites,omitempty"`
}

// Outcomes of a [Decision].
const (
	Approved = "approved"
	Returned = "returned"
	Passed   = "passed"
)

// Decision is the body of an approvals.decide: the log's evaluation of an
// application under a version of its kind's rules.
type Decision struct {
	ApplicationID string `json:"application_id"`
	// Filing is the leaf hash of the filing decided (the approvals.apply
	// or approvals.supplement right before it), lowercase hex.
	Filing  string            `json:"filing"`
	Kind    string            `json:"kind"`
	Version int64             `json:"version"`
	Outcome string            `json:"outcome"`
	Failed  []ruleset.Failure `json:"failed,omitempty"`
	Missing []string          `json:"missing,omitempty"`
}

// Decisions of an official.
const (
	Approve = "approve"
	Refuse  = "refuse"
)

// SignBody is the body of an approvals.sign.
type SignBody struct {
	ApplicationID string `json:"application_id"`
	Decision      string `json:"decision"`
	Reason        string `json:"reason,omitempty"`
}

// strict decodes data, a body the kit has checked, into v, refusing
// unknown members at any depth.
func strict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return body.Errorf("%v", err)
	}
	return nil
}

// ParseRulesBody parses the body of an approvals.rules; the rule set
// itself is checked by ruleset.Compile.
func ParseRulesBody(data []byte) (RulesBody, error) {
	o, err := body.Parse(data, []string{"kind", "version", "title", "fields", "rules", "official", "decide_within_days"}, nil)
	if err != nil {
		return RulesBody{}, err
	}
	var b RulesBody
	if b.Kind, err = o.ID("kind", body.ID); err != nil {
		return b, err
	}
	if b.Title, err = o.Text("title", maxTitleLen); err != nil {
		return b, err
	}
	if b.Version, err = o.Amount("version", 1); err != nil {
		return b, err
	}
	if b.DecideWithinDays, err = o.Amount("decide_within_days", 1); err != nil {
		return b, err
	}
	if b.DecideWithinDays > maxDays {
		return b, body.Errorf("field %q: at most %d days", "decide_within_days", maxDays)
	}
	var full RulesBody
	if err := strict(data, &full); err != nil {
		return b, err
	}
	b.Fields, b.Rules, b.Official = full.Fields, full.Rules, full.Official
	return b, nil
}

func checkCites(cites []Cite) error {
	if len(cites) > maxCites {
		return body.Errorf("field %q: at most %d citations", "cites", maxCites)
	}
	imports := (*Rules)(nil).Imports()
	for i, c := range cites {
		if !slices.Contains(imports, c.Log) {
			return body.Errorf("citation %d: the %s log cites entries of %s only, not %.32q", i+1, LogName, strings.Join(imports, ", "), c.Log)
		}
		if err := body.CheckSHA256(fmt.Sprintf("cites[%d].leaf_hash", i), c.LeafHash); err != nil {
			return err
		}
		if j := slices.Index(cites[:i], c); j >= 0 {
			return body.Errorf("citation %d repeats citation %d", i+1, j+1)
		}
	}
	return nil
}

// ParseApplyBody parses the body of an approvals.apply.
func ParseApplyBody(data []byte) (ApplyBody, error) {
	o, err := body.Parse(data, []string{"application_id", "kind", "fields"}, []string{"cites"})
	if err != nil {
		return ApplyBody{}, err
	}
	var b ApplyBody
	if b.Kind, err = o.ID("kind", body.ID); err != nil {
		return b, err
	}
	b.ApplicationID, b.Fields, b.Cites, err = parseFiling(o, data)
	return b, err
}

// ParseSupplementBody parses the body of an approvals.supplement.
func ParseSupplementBody(data []byte) (SupplementBody, error) {
	o, err := body.Parse(data, []string{"application_id", "fields"}, []string{"cites"})
	if err != nil {
		return SupplementBody{}, err
	}
	var b SupplementBody
	b.ApplicationID, b.Fields, b.Cites, err = parseFiling(o, data)
	return b, err
}

// parseFiling reads what an application and a supplement share: the ID,
// the fields (any JSON values: the kind's schema judges them) and the
// citations.
func parseFiling(o body.Object, data []byte) (id string, fields map[string]json.RawMessage, cites []Cite, err error) {
	if id, err = o.ID("application_id", body.ID); err != nil {
		return "", nil, nil, err
	}
	var f struct {
		ApplicationID string                     `json:"application_id"`
		Kind          string                     `json:"kind"`
		Fields        map[string]json.RawMessage `json:"fields"`
		Cites         []Cite                     `json:"cites"`
	}
	if err := strict(data, &f); err != nil {
		return "", nil, nil, err
	}
	if f.Fields == nil {
		return "", nil, nil, body.Errorf("field %q must be an object", "fields")
	}
	if len(f.Fields) > ruleset.MaxFields {
		return "", nil, nil, body.Errorf("field %q: at most %d fields", "fields", ruleset.MaxFields)
	}
	if err := checkCites(f.Cites); err != nil {
		return "", nil, nil, err
	}
	return id, f.Fields, f.Cites, nil
}

// ParseDecision parses the body of an approvals.decide.
func ParseDecision(data []byte) (Decision, error) {
	o, err := body.Parse(data, []string{"application_id", "filing", "kind", "version", "outcome"}, []string{"failed", "missing"})
	if err != nil {
		return Decision{}, err
	}
	var d Decision
	if d.ApplicationID, err = o.ID("application_id", body.ID); err != nil {
		return d, err
	}
	if _, err := o.SHA256("filing"); err != nil {
		return d, err
	}
	if err := strict(data, &d); err != nil {
		return d, err
	}
	if !slices.Contains([]string{Approved, Returned, Passed}, d.Outcome) {
		return d, body.Errorf("field %q must be %s, %s or %s", "outcome", Approved, Returned, Passed)
	}
	return d, nil
}

// ParseSignBody parses the body of an approvals.sign.
func ParseSignBody(data []byte) (SignBody, error) {
	o, err := body.Parse(data, []string{"application_id", "decision"}, []string{"reason"})
	if err != nil {
		return SignBody{}, err
	}
	var b SignBody
	if b.ApplicationID, err = o.ID("application_id", body.ID); err != nil {
		return b, err
	}
	if b.Decision, err = o.Str("decision"); err != nil {
		return b, err
	}
	if b.Decision != Approve && b.Decision != Refuse {
		return b, body.Errorf("field %q must be %q or %q", "decision", Approve, Refuse)
	}
	if o.Has("reason") {
		if b.Reason, err = o.Text("reason", maxReasonLen); err != nil {
			return b, err
		}
	}
	if b.Decision == Refuse && b.Reason == "" {
		return b, body.Errorf("a refusal needs a %q", "reason")
	}
	return b, nil
}

// leafHex returns a leaf hash in lowercase hex.
func leafHex(h [32]byte) string { return hex.EncodeToString(h[:]) }
