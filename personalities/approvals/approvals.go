// Package approvals holds the rules of the "approvals" log: administrative
// approvals decided by rules that are data, every step on the log. It
// serves the simplified approvals of Chancheng's one-door service
// (SEED.md): the material goes in electronically, the conditions are
// written as rules, an application that meets them is approved at once
// (or passed to an official to sign off), and one that does not goes back
// to the applicant naming every rule it failed.
//
// # Roles
//
//	approval-authority  approvals.rules, approvals.sign: the agency that
//	                    owns an application kind, and its officials
//	service-desk        approvals.apply, approvals.supplement: the one-door
//	                    window that takes in an applicant's material
//	approvals-engine    approvals.decide: held only by the log's own rule
//	                    key, with which the log writes its decisions
//
// # Statement types
//
// approvals.rules ([RulesBody]) publishes version n of the rule set of an
// application kind:
//
//	kind                ID: the application kind ("business-licence")
//	version             1 for a new kind, else the kind's version + 1
//	title               text, at most 128 characters
//	fields              the fields an application must carry, each
//	                    {"name", "type"}; types: string, int, bool, date,
//	                    sha256 (a document's hash), commitment (personal
//	                    data, salted; see below)
//	rules               1 to 64 of {"name", "expr", "message"}: CEL
//	                    expressions over the fields (and "submitted", the
//	                    application's time) that must all hold
//	official            true if an official of the owning agency must
//	                    sign after the rules hold
//	decide_within_days  1..365: the time the owning agency allows itself
//	                    for a decision, from the first filing
//
// The first agency to publish a kind owns it: only it publishes later
// versions and signs its decisions ([rule.ErrNotAuthorized] for anyone
// else). A rule set that does not compile, reads a field it does not
// declare, or whose worst-case cost is above the bound of
// personalities/rule/ruleset is [rule.ErrInvalidBody], with the compiler's
// message; nothing is written.
//
// approvals.apply ([ApplyBody]) files an application:
//
//	application_id  ID, unused
//	kind            a published kind ([rule.ErrInvalidBody] if unknown)
//	fields          {name: value}, each a field of the kind's current
//	                version, of its type; a field left out is not an
//	                error: the application goes back for it
//	cites           optional, at most 16 of {"log", "leaf_hash"}: entries
//	                of other logs the application rests on (a disclosure);
//	                one the log does not hold is [rule.ErrRuleViolation]
//
// approvals.supplement ([SupplementBody]) adds or replaces fields (and
// citations) of an application that was returned, by the agency that
// filed it; fields and cites as above. A supplement to an application that
// is not waiting for one (approved, refused, with an official) is
// [rule.ErrRuleViolation].
//
// approvals.decide ([Decision]) is written by the log itself, in the same
// transaction, right after every application and supplement
// ([rule.Responder]): the outcome of the kind's current rules, "approved",
// "returned" (naming every rule that failed and every field missing) or
// "passed" (the rules hold, an official must sign). Its rules evaluate the
// application again and refuse a decision that is not theirs, so a
// monitor's replay re-checks every automatic decision with the version it
// names. Until it is written no other statement is admitted.
//
// approvals.sign ([SignBody]) is an official's decision on a passed
// application: {"application_id", "decision": "approve"|"refuse",
// "reason"} (reason required to refuse), signed by the owning agency's key
// and co-signed by one of its registered officials. Anyone else is
// [rule.ErrNotAuthorized]; a second decision is [rule.ErrRuleViolation].
//
// # Personal data
//
// Names, ID numbers and addresses never go into the log: an application
// carries them as commitment fields, HMAC-SHA256(key = a fresh 32-byte
// random salt, message = the value's UTF-8 bytes) in lowercase hex, the
// recipe of `govlog commit`. The applicant keeps the salt, and can later
// show one value to whoever they choose, who recomputes the commitment.
// Documents go in as their SHA-256.
//
// # Other logs
//
// The log reads the logs its applications cite ([Imports]) through
// [rule.Logs], and exports one fact ([rule.Exporter]): "approved" about an
// application ID, holding from the entry that approved it, whose value is
// an [ApprovedFact]. The funds log relies on it for payments that need an
// approval; see personalities/rule for how a log's reads of another log are
// pinned to its size, so that a monitor replays them in the order the two
// logs admitted them.
//
// # State
//
//	kind/<kind>            [Kind]: owner and current version
//	version/<kind>/<n>     [Version]: the rule set of version n
//	app/<id>               [Application]: status, fields and every step
//	agency/<agency>        [AgencyStats]: the owning agency's figures
//	awaiting               the application whose decision the log owes
package approvals

import (
	"context"
	"fmt"
	"sync"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruleset"
)

const (
	// LogName is the name of the log these rules admit into.
	LogName = "approvals"

	TypeRules      = "approvals.rules"
	TypeApply      = "approvals.apply"
	TypeSupplement = "approvals.supplement"
	TypeDecide     = "approvals.decide"
	TypeSign       = "approvals.sign"

	RoleAuthority = "approval-authority"
	RoleDesk      = "service-desk"
	RoleEngine    = "approvals-engine"

	// FactApproved is the fact the log exports about an approved
	// application; its value is an [ApprovedFact].
	FactApproved = "approved"
)

// Rules implements [rule.Domain] for the approvals log.
type Rules struct {
	// programs caches compiled rule sets by version leaf hash: a version
	// never changes, and compiling costs far more than evaluating.
	programs sync.Map
}

var (
	_ rule.Domain    = (*Rules)(nil)
	_ rule.Responder = (*Rules)(nil)
	_ rule.Exporter  = (*Rules)(nil)
	_ rule.Importer  = (*Rules)(nil)
)

// New returns the approvals rules.
func New() *Rules { return &Rules{} }

// Log returns [LogName].
func (*Rules) Log() string { return LogName }

// RequiredRole returns the role of statementType (see "Roles").
func (*Rules) RequiredRole(statementType string) (string, error) {
	return rule.RoleOf(LogName, types, statementType)
}

// Imports are the logs an application may cite.
func (*Rules) Imports() []string { return []string{"disclosures"} }

// Apply checks e against the rules in the package doc and records its
// effects in st. It reads and checks everything before its first Put.
func (r *Rules) Apply(ctx context.Context, st rule.State, e rule.Entry) error {
	if _, err := r.RequiredRole(e.Type); err != nil {
		return err
	}
	owed, err := awaiting(ctx, st)
	if err != nil {
		return err
	}
	if owed != "" && e.Type != TypeDecide {
		return fmt.Errorf("%w: the log has not written its decision on application %s", rule.ErrRuleViolation, owed)
	}
	switch e.Type {
	case TypeRules:
		return r.applyRules(ctx, st, e)
	case TypeApply:
		return r.applyApply(ctx, st, e)
	case TypeSupplement:
		return r.applySupplement(ctx, st, e)
	case TypeDecide:
		return r.applyDecide(ctx, st, e, owed)
	default:
		return r.applySign(ctx, st, e)
	}
}

// program returns the compiled rule set of v.
func (r *Rules) program(v Version) (*ruleset.Program, error) {
	if p, ok := r.programs.Load(v.LeafHash); ok {
		return p.(*ruleset.Program), nil
	}
	p, err := ruleset.Compile(v.Set)
	if err != nil {
		return nil, fmt.Errorf("corrupt state: version %d of %s does not compile: %w", v.Version, v.Kind, err)
	}
	r.programs.Store(v.LeafHash, p)
	return p, nil
}

var _ rule.KeyReader = (*Rules)(nil)

// ReadKeys names the keys Apply reads first for e, so that a batch reads
// them in one query; the kind's version and its owner's figures are read
// after (they depend on what these hold).
func (*Rules) ReadKeys(e rule.Entry) []string {
	keys := []string{awaitingKey}
	switch e.Type {
	case TypeApply:
		if b, err := ParseApplyBody(e.Body); err == nil {
			keys = append(keys, KindKey(b.Kind), AppKey(b.ApplicationID))
		}
	case TypeSupplement:
		if b, err := ParseSupplementBody(e.Body); err == nil {
			keys = append(keys, AppKey(b.ApplicationID))
		}
	case TypeSign:
		if b, err := ParseSignBody(e.Body); err == nil {
			keys = append(keys, AppKey(b.ApplicationID))
		}
	case TypeRules:
		if b, err := ParseRulesBody(e.Body); err == nil {
			keys = append(keys, KindKey(b.Kind))
		}
	}
	return keys
}
