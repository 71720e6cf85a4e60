// Package disclosures holds the rules of the "disclosures" log: an agency
// publishes a government document by its SHA-256 and metadata, and may later
// correct or retract it. Corrections and retractions are new entries that
// point at the earlier one; nothing already in the log changes, so a reader
// can always see what was disclosed, when, by whom, and what replaced it.
//
// The document itself is not in the log (a leaf is at most 64 KiB and must
// not carry personal data in clear); it lives in a content-addressed blob
// store, and its hash here is what makes any copy of it checkable.
//
// The package is pure: it reads and writes a [rule.State] and nothing else,
// so the admission server (personalities) and the monitor, which replays the
// log from an empty state, run the very same code. See [DESIGN.md] for the
// system and [rule] for the contract.
//
// # Statement types
//
// Every type needs the registry role [RoleDiscloser] ("discloser"). Bodies
// are JSON objects whose members are all strings; every field listed is
// required unless marked optional, and no other field is allowed.
//
// The responsible official is named by their registry staff ID, never by a
// name in clear, and must co-sign: a statement naming an official carries,
// beside the agency's signature, one by a registered key of that official
// of the same agency (rule.Entry.Officials), or it is refused with
// [rule.ErrNotAuthorized]. Without an official the agency alone answers
// for the statement.
//
// disclosure.publish ([PublishBody]):
//
//	doc_id         1..128 of [A-Za-z0-9._:/-], the agency's own document ID
//	title          text, at most 512 characters
//	sha256         the document's SHA-256, 64 lowercase hex digits
//	category       text, at most 64 characters
//	decision_date  YYYY-MM-DD, a real calendar date
//	official       optional: the staff ID of the responsible official
//
// disclosure.correct ([CorrectBody]): every publish field, describing the new
// version, plus
//
//	corrects       doc_id of the version being corrected
//	reason         text, at most 1024 characters
//
// disclosure.retract ([RetractBody]):
//
//	retracts       doc_id of the version being retracted
//	reason         text, at most 1024 characters
//	official       optional: the staff ID of the official who retracts it
//
// "text" means: at least one non-space character, no control characters
// (no newlines or tabs: these fields are shown on one line by dashboards),
// and the limit counts Unicode code points, not bytes.
//
// # Rules
//
//   - A doc_id is unique per agency, forever: publishing or correcting into a
//     (agency, doc_id) that exists, in any status, fails with
//     [rule.ErrAlreadyExists]. A retracted ID is not reusable, so an ID always
//     names one document. Two agencies may use the same doc_id.
//   - A correction or retraction names a document of the signing agency only:
//     state is keyed by agency, so another agency's document is "not found".
//   - A correction or retraction must name the current version: one that
//     exists, is not retracted and has not been superseded. Naming a
//     superseded version fails and the message names the latest version, so
//     that two officials correcting the same document concurrently cannot
//     fork its history: the second one is told to look at the first one's
//     correction. These failures wrap [rule.ErrRuleViolation].
//   - A correction marks the corrected version superseded by the new one;
//     a retraction marks the version retracted. A retracted version cannot be
//     corrected (publish a new document instead); the versions it superseded
//     stay superseded.
//   - For a correction, the new doc_id is checked before the corrected one,
//     so resubmitting a correction that was already admitted reports
//     [rule.ErrAlreadyExists] (the same business ID again), not a violation.
//
// Apply reads everything it needs and checks every rule before its first
// Put, so a statement that is refused leaves the state untouched even when
// the State is not a per-statement overlay. Only a failing Put can leave a
// correction half-written; that error is a storage failure (it wraps none of
// the sentinels) and the admission server discards the overlay.
//
// # State
//
// One key per document version, "doc/<agency>/<doc_id>" ([DocumentKey]),
// holding the JSON of a [Record]. Agency IDs are registry IDs (body.AgencyIDPattern),
// which never contain "/", so the first "/" after "doc/" ends the agency and
// everything after it is the doc_id, even when the doc_id contains "/" itself
// ([ParseDocumentKey]). No escaping is needed, and keys stay readable.
// Apply refuses an entry whose agency is not of that form
// ([rule.ErrRuleViolation]), since its key could alias another agency's.
//
// [DESIGN.md]: https://github.com/govlog/govlog/blob/main/DESIGN.md
package disclosures

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
)

const (
	// LogName is the name of the log these rules admit into.
	LogName = "disclosures"

	// TypePublish discloses a new document.
	TypePublish = "disclosure.publish"
	// TypeCorrect publishes a new version that supersedes an earlier one.
	TypeCorrect = "disclosure.correct"
	// TypeRetract withdraws a document without replacing it.
	TypeRetract = "disclosure.retract"

	// RoleDiscloser is the registry role a key needs to sign any statement
	// of this log.
	RoleDiscloser = "discloser"
)

// Rules implements [rule.Domain] for the disclosures log. It has no fields:
// everything it knows is in the State it is handed.
type Rules struct{}

var _ rule.Domain = (*Rules)(nil)

// New returns the disclosures rules.
func New() *Rules { return &Rules{} }

// Log returns [LogName].
func (*Rules) Log() string { return LogName }

// Apply checks e against the rules in the package doc and records its effect
// in st. A refused statement gets an error wrapping [rule.ErrUnknownType],
// [rule.ErrInvalidBody], [rule.ErrRuleViolation] or [rule.ErrAlreadyExists],
// and st is not written. Any other error comes from st.
func (r *Rules) Apply(ctx context.Context, st rule.State, e rule.Entry) error {
	if _, err := r.RequiredRole(e.Type); err != nil {
		return err
	}
	if !body.ValidAgencyID(e.Agency) {
		return fmt.Errorf("%w: agency ID %q is not a registry ID (%s)", rule.ErrRuleViolation, e.Agency, body.AgencyIDPattern)
	}
	leaf := hex.EncodeToString(e.LeafHash[:])
	switch e.Type {
	case TypePublish:
		b, err := rule.ParsedAs(e, ParsePublishBody)
		if err == nil {
			err = checkSigned(e, b.Official)
		}
		if err != nil {
			return err
		}
		return applyPublish(ctx, st, e.Agency, leaf, b)
	case TypeCorrect:
		b, err := rule.ParsedAs(e, ParseCorrectBody)
		if err == nil {
			err = checkSigned(e, b.Official)
		}
		if err != nil {
			return err
		}
		return applyCorrect(ctx, st, e.Agency, leaf, b)
	default: // TypeRetract, the only one left after RequiredRole.
		b, err := rule.ParsedAs(e, ParseRetractBody)
		if err == nil {
			err = checkSigned(e, b.Official)
		}
		if err != nil {
			return err
		}
		return applyRetract(ctx, st, e.Agency, leaf, b)
	}
}

// checkSigned requires the official a statement names, if any, to have
// co-signed it.
func checkSigned(e rule.Entry, official string) error {
	if official == "" || slices.Contains(e.Officials, official) {
		return nil
	}
	return fmt.Errorf("%w: the statement names official %q, who did not sign it with a registered key of agency %s (sign with the agency's key and theirs)",
		rule.ErrNotAuthorized, official, e.Agency)
}

var (
	_ rule.KeyReader  = (*Rules)(nil)
	_ rule.BodyParser = (*Rules)(nil)
)

// ParseBody parses the body of a statement of any of the domain's types.
func (r *Rules) ParseBody(e rule.Entry) (any, error) {
	switch e.Type {
	case TypePublish:
		return ParsePublishBody(e.Body)
	case TypeCorrect:
		return ParseCorrectBody(e.Body)
	case TypeRetract:
		return ParseRetractBody(e.Body)
	}
	return nil, nil // Apply refuses the type
}

// ReadKeys names the documents Apply reads: the one published, or the one
// corrected or retracted (and the correction's new ID). A body that does not
// parse names none; Apply will refuse it.
func (r *Rules) ReadKeys(e rule.Entry) []string {
	switch e.Type {
	case TypePublish:
		if b, err := rule.ParsedAs(e, ParsePublishBody); err == nil {
			return []string{DocumentKey(e.Agency, b.DocID)}
		}
	case TypeCorrect:
		if b, err := rule.ParsedAs(e, ParseCorrectBody); err == nil {
			return []string{DocumentKey(e.Agency, b.Corrects), DocumentKey(e.Agency, b.DocID)}
		}
	case TypeRetract:
		if b, err := rule.ParsedAs(e, ParseRetractBody); err == nil {
			return []string{DocumentKey(e.Agency, b.Retracts)}
		}
	}
	return nil
}

func applyPublish(ctx context.Context, st rule.State, agency, leaf string, b PublishBody) error {
	if err := requireUnused(ctx, st, agency, b.DocID); err != nil {
		return err
	}
	return putRecord(ctx, st, agency, b.DocID, Record{
		LeafHash: leaf,
		SHA256:   b.SHA256,
		Status:   StatusPublished,
	})
}

func applyCorrect(ctx context.Context, st rule.State, agency, leaf string, b CorrectBody) error {
	// The new ID first: see "resubmitting a correction" in the package doc.
	if err := requireUnused(ctx, st, agency, b.DocID); err != nil {
		return err
	}
	earlier, err := requireCurrent(ctx, st, agency, b.Corrects, "corrected")
	if err != nil {
		return err
	}
	earlier.Status = StatusSuperseded
	earlier.SupersededBy = b.DocID
	// All checks are done; from here on only storage can fail.
	if err := putRecord(ctx, st, agency, b.DocID, Record{
		LeafHash: leaf,
		SHA256:   b.SHA256,
		Status:   StatusPublished,
		Corrects: b.Corrects,
	}); err != nil {
		return err
	}
	return putRecord(ctx, st, agency, b.Corrects, earlier)
}

func applyRetract(ctx context.Context, st rule.State, agency, leaf string, b RetractBody) error {
	rec, err := requireCurrent(ctx, st, agency, b.Retracts, "retracted")
	if err != nil {
		return err
	}
	rec.Status = StatusRetracted
	rec.RetractedBy = leaf
	return putRecord(ctx, st, agency, b.Retracts, rec)
}

// requireUnused fails with ErrAlreadyExists if docID was ever used by agency.
func requireUnused(ctx context.Context, st rule.State, agency, docID string) error {
	_, ok, err := Document(ctx, st, agency, docID)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("%w: document %s of agency %s", rule.ErrAlreadyExists, docID, agency)
	}
	return nil
}

// requireCurrent returns the record of docID if it is the current version of
// its document, the only one a correction or retraction may name. verb says
// what the statement wanted to do, for the message.
func requireCurrent(ctx context.Context, st rule.State, agency, docID, verb string) (Record, error) {
	rec, ok, err := Document(ctx, st, agency, docID)
	if err != nil {
		return Record{}, err
	}
	if !ok {
		return Record{}, fmt.Errorf("%w: document %s of agency %s does not exist", rule.ErrRuleViolation, docID, agency)
	}
	switch rec.Status {
	case StatusPublished:
		return rec, nil
	case StatusRetracted:
		return Record{}, fmt.Errorf("%w: document %s of agency %s was retracted and cannot be %s", rule.ErrRuleViolation, docID, agency, verb)
	case StatusSuperseded:
		latest, lrec, _, err := Latest(ctx, st, agency, docID)
		if err != nil {
			return Record{}, err
		}
		if lrec.Status == StatusRetracted {
			return Record{}, fmt.Errorf("%w: document %s of agency %s was superseded by %s; its latest version, %s, was retracted",
				rule.ErrRuleViolation, docID, agency, rec.SupersededBy, latest)
		}
		return Record{}, fmt.Errorf("%w: document %s of agency %s was superseded by %s; only its latest version, %s, can be %s",
			rule.ErrRuleViolation, docID, agency, rec.SupersededBy, latest, verb)
	default:
		// Not the statement's fault: the state holds something Apply never
		// writes, so this wraps no sentinel.
		return Record{}, fmt.Errorf("document %s of agency %s has unknown status %q in state", docID, agency, rec.Status)
	}
}
