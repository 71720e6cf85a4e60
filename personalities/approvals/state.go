package approvals

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/ruleset"
)

// Kind is an application kind, the JSON value of its [KindKey].
type Kind struct {
	Kind  string `json:"kind"`
	Owner string `json:"owner"`
	Title string `json:"title"`
	// Version is the current version, from 1.
	Version int64 `json:"version"`
}

// Version is one version of a kind's rule set, the JSON value of its
// [VersionKey].
type Version struct {
	Kind             string      `json:"kind"`
	Version          int64       `json:"version"`
	Title            string      `json:"title"`
	Set              ruleset.Set `json:"set"`
	Official         bool        `json:"official"`
	DecideWithinDays int64       `json:"decide_within_days"`
	Published        string      `json:"published"`
	LeafHash         string      `json:"leaf_hash"`
}

// Statuses of an [Application].
const (
	StatusReturned = "returned"      // waiting for the applicant's supplement
	StatusOfficial = "with-official" // the rules hold; an official must decide
	StatusApproved = "approved"      // final
	StatusRefused  = "refused"       // final, by an official
	statusPending  = "being-decided" // between a filing and the log's decision
)

// Step is one entry of an application's history.
type Step struct {
	Type     string `json:"type"`
	Index    uint64 `json:"index"`
	LeafHash string `json:"leaf_hash"`
	Time     string `json:"time"`
	// Decision, for an approvals.decide; Sign, for an approvals.sign.
	Decision *Decision `json:"decision,omitempty"`
	Sign     *SignBody `json:"sign,omitempty"`
	// Officials who co-signed an approvals.sign.
	Officials []string `json:"officials,omitempty"`
}

// Application is an application, the JSON value of its [AppKey].
type Application struct {
	ID     string `json:"application_id"`
	Kind   string `json:"kind"`
	Agency string `json:"agency"`
	// Owner is the agency that owns the kind, and decides.
	Owner  string                     `json:"owner"`
	Fields map[string]json.RawMessage `json:"fields"`
	Cites  []Cite                     `json:"cites,omitempty"`
	Status string                     `json:"status"`
	// Filed is the time of the approvals.apply; Submitted, of the last
	// filing (apply or supplement), which the rules see as "submitted".
	Filed     string `json:"filed"`
	Submitted string `json:"submitted"`
	// Due is when a decision is owed, set while an official must decide.
	Due string `json:"due,omitempty"`
	// Decided is the time of the final decision; Automatic says the
	// rules made it, without an official.
	Decided   string `json:"decided,omitempty"`
	Automatic bool   `json:"automatic,omitempty"`
	// Approved is the index and leaf hash of the entry that approved it.
	ApprovedIndex uint64 `json:"approved_index,omitempty"`
	ApprovedLeaf  string `json:"approved_leaf,omitempty"`
	Steps         []Step `json:"steps"`
}

// ApprovedFact is the value of the [FactApproved] fact.
type ApprovedFact struct {
	ApplicationID string                     `json:"application_id"`
	Kind          string                     `json:"kind"`
	Agency        string                     `json:"agency"`
	Owner         string                     `json:"owner"`
	Fields        map[string]json.RawMessage `json:"fields"`
}

// maxRecentDecisions bounds the decision times an agency's figures keep.
const maxRecentDecisions = 1000

// AgencyStats are an owning agency's figures, the JSON value of its
// [AgencyKey]: what its dashboard panel shows.
type AgencyStats struct {
	Applications int64 `json:"applications"`
	Decided      int64 `json:"decided"`
	Automatic    int64 `json:"automatic"`
	// Recent are the seconds from filing to final decision of the latest
	// decisions, at most maxRecentDecisions.
	Recent []int64 `json:"recent"`
	// WithOfficial are the applications an official must decide, by ID,
	// with when the decision is due.
	WithOfficial map[string]string `json:"with_official"`
}

const awaitingKey = "awaiting"

// KindKey is the state key of a [Kind].
func KindKey(kind string) string { return "kind/" + kind }

// VersionKey is the state key of a [Version].
func VersionKey(kind string, n int64) string { return fmt.Sprintf("version/%s/%d", kind, n) }

// AppKey is the state key of an [Application].
func AppKey(id string) string { return "app/" + id }

// AgencyKey is the state key of an agency's [AgencyStats].
func AgencyKey(agency string) string { return "agency/" + agency }

// ReadKind reads a kind, ok=false if there is none.
func ReadKind(ctx context.Context, st rule.Reader, kind string) (Kind, bool, error) {
	var k Kind
	if !body.ID.Valid(kind) {
		return k, false, nil
	}
	ok, err := getJSON(ctx, st, KindKey(kind), &k)
	return k, ok, err
}

// ReadVersion reads version n of a kind's rule set.
func ReadVersion(ctx context.Context, st rule.Reader, kind string, n int64) (Version, bool, error) {
	var v Version
	if !body.ID.Valid(kind) {
		return v, false, nil
	}
	ok, err := getJSON(ctx, st, VersionKey(kind, n), &v)
	return v, ok, err
}

// ReadApplication reads an application.
func ReadApplication(ctx context.Context, st rule.Reader, id string) (Application, bool, error) {
	var a Application
	if !body.ID.Valid(id) {
		return a, false, nil
	}
	ok, err := getJSON(ctx, st, AppKey(id), &a)
	return a, ok, err
}

// ReadAgencyStats reads an owning agency's figures.
func ReadAgencyStats(ctx context.Context, st rule.Reader, agency string) (AgencyStats, error) {
	var s AgencyStats
	_, err := getJSON(ctx, st, AgencyKey(agency), &s)
	if s.WithOfficial == nil {
		s.WithOfficial = map[string]string{}
	}
	return s, err
}

func awaiting(ctx context.Context, st rule.Reader) (string, error) {
	v, _, err := st.Get(ctx, awaitingKey)
	return string(v), err
}

func getJSON(ctx context.Context, st rule.Reader, key string, v any) (bool, error) {
	b, ok, err := st.Get(ctx, key)
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("corrupt state at %s: %v", key, err)
	}
	return true, nil
}

func putJSON(ctx context.Context, st rule.State, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("couldn't encode %s: %w", key, err)
	}
	return st.Put(ctx, key, b)
}
