package approvals

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/record"
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

// AgencyStats are an owning agency's counters, the JSON value of its
// [AgencyKey]: a small record every filing and decision rewrites. What
// grows with the backlog lives under keys of its own: each application an
// official must decide at [DueKey], and the latest decision times at
// [RecentKey], a ring of maxRecentDecisions slots.
type AgencyStats struct {
	Applications int64 `json:"applications"`
	Decided      int64 `json:"decided"`
	Automatic    int64 `json:"automatic"`
	// WithOfficial counts the applications an official must decide now.
	WithOfficial int64 `json:"with_official"`
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
	ok, err := record.Get(ctx, st, KindKey(kind), &k)
	return k, ok, err
}

// ReadVersion reads version n of a kind's rule set.
func ReadVersion(ctx context.Context, st rule.Reader, kind string, n int64) (Version, bool, error) {
	var v Version
	if !body.ID.Valid(kind) {
		return v, false, nil
	}
	ok, err := record.Get(ctx, st, VersionKey(kind, n), &v)
	return v, ok, err
}

// ReadApplication reads an application.
func ReadApplication(ctx context.Context, st rule.Reader, id string) (Application, bool, error) {
	var a Application
	if !body.ID.Valid(id) {
		return a, false, nil
	}
	ok, err := record.Get(ctx, st, AppKey(id), &a)
	return a, ok, err
}

// ReadAgencyStats reads an owning agency's counters.
func ReadAgencyStats(ctx context.Context, st rule.Reader, agency string) (AgencyStats, error) {
	var s AgencyStats
	_, err := record.Get(ctx, st, AgencyKey(agency), &s)
	return s, err
}

// DueKey is the state key of when an official of agency must have decided
// application id (RFC 3339), empty once decided.
func DueKey(agency, id string) string { return "due/" + agency + "/" + id }

// RecentKey is the state key of one slot of an agency's ring of the
// latest decision times: seconds from filing to final decision.
func RecentKey(agency string, slot int64) string { return fmt.Sprintf("recent/%s/%d", agency, slot) }

// Owed calls fn with each application an official of agency must decide
// now, in ID order, and when the decision is due.
func Owed(ctx context.Context, st rule.Scanner, agency string, fn func(id string, due time.Time) error) error {
	prefix := DueKey(agency, "")
	return st.Scan(ctx, prefix, func(key string, v []byte) error {
		if len(v) == 0 {
			return nil
		}
		due, err := time.Parse(time.RFC3339, string(v))
		if err != nil {
			return fmt.Errorf("corrupt state at %s: %v", key, err)
		}
		return fn(strings.TrimPrefix(key, prefix), due)
	})
}

// RecentTimes returns the latest decision times of agency, in seconds, in
// no particular order.
func RecentTimes(ctx context.Context, st rule.Scanner, agency string) ([]int64, error) {
	var out []int64
	err := st.Scan(ctx, "recent/"+agency+"/", func(key string, v []byte) error {
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return fmt.Errorf("corrupt state at %s: %v", key, err)
		}
		out = append(out, n)
		return nil
	})
	return out, err
}

func awaiting(ctx context.Context, st rule.Reader) (string, error) {
	v, _, err := st.Get(ctx, awaitingKey)
	return string(v), err
}
