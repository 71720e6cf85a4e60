package disclosures

import (
	"slices"

	"github.com/govlog/govlog/personalities/rule/body"
)

// Limits of the body fields, in Unicode code points (doc_id is ASCII).
const (
	maxDocIDLen    = 128
	maxTitleLen    = 512
	maxCategoryLen = 64
	maxReasonLen   = 1024
)

// PublishBody is the body of a disclosure.publish statement. Marshal it with
// encoding/json (then canonicalise) to build a statement.
type PublishBody struct {
	// DocID is the agency's own ID for the document, unique per agency.
	DocID string `json:"doc_id"`
	// Title is the document's title as the public should see it.
	Title string `json:"title"`
	// SHA256 is the lowercase hex SHA-256 of the document's bytes, which
	// live in the blob store; it is what makes any copy checkable.
	SHA256 string `json:"sha256"`
	// Category is the agency's classification, e.g. "procurement".
	Category string `json:"category"`
	// DecisionDate is the date of the decision disclosed, YYYY-MM-DD.
	DecisionDate string `json:"decision_date"`
	// Official, if set, is the staff ID of the official responsible for
	// the document, a registered official of the agency who co-signs the
	// statement with their own key: the document is traceable to a person,
	// and no name is in the log in clear. Empty: the agency alone answers.
	Official string `json:"official,omitempty"`
}

// CorrectBody is the body of a disclosure.correct statement: a complete new
// version of a document, plus what it corrects and why.
type CorrectBody struct {
	// Corrects is the doc_id of the current version being corrected.
	Corrects string `json:"corrects"`
	// PublishBody describes the new version; its DocID must be unused.
	PublishBody
	// Reason says what was wrong with the corrected version.
	Reason string `json:"reason"`
}

// RetractBody is the body of a disclosure.retract statement.
type RetractBody struct {
	// Retracts is the doc_id of the current version being retracted.
	Retracts string `json:"retracts"`
	// Reason says why the document is withdrawn.
	Reason string `json:"reason"`
	// Official, if set, is the staff ID of the official responsible for
	// the retraction, who co-signs it (see PublishBody.Official).
	Official string `json:"official,omitempty"`
}

var (
	publishFields = []string{"doc_id", "title", "sha256", "category", "decision_date"}
	correctFields = append([]string{"corrects"}, append(slices.Clone(publishFields), "reason")...)
	retractFields = []string{"retracts", "reason"}
	// optionalFields are allowed in every body.
	optionalFields = []string{"official"}
)

// ParsePublishBody parses and validates a disclosure.publish body. Any error
// wraps [rule.ErrInvalidBody] and names the offending field.
func ParsePublishBody(data []byte) (PublishBody, error) {
	m, err := parseStrings(data, publishFields)
	if err != nil {
		return PublishBody{}, err
	}
	b := publishFromMap(m)
	if err := b.validate(); err != nil {
		return PublishBody{}, err
	}
	return b, nil
}

// ParseCorrectBody parses and validates a disclosure.correct body. Any error
// wraps [rule.ErrInvalidBody] and names the offending field.
func ParseCorrectBody(data []byte) (CorrectBody, error) {
	m, err := parseStrings(data, correctFields)
	if err != nil {
		return CorrectBody{}, err
	}
	b := CorrectBody{Corrects: m["corrects"], PublishBody: publishFromMap(m), Reason: m["reason"]}
	if err := docIDSyntax.Check("corrects", b.Corrects); err != nil {
		return CorrectBody{}, err
	}
	if err := b.PublishBody.validate(); err != nil {
		return CorrectBody{}, err
	}
	if err := body.CheckText("reason", b.Reason, maxReasonLen); err != nil {
		return CorrectBody{}, err
	}
	return b, nil
}

// ParseRetractBody parses and validates a disclosure.retract body. Any error
// wraps [rule.ErrInvalidBody] and names the offending field.
func ParseRetractBody(data []byte) (RetractBody, error) {
	m, err := parseStrings(data, retractFields)
	if err != nil {
		return RetractBody{}, err
	}
	b := RetractBody{Retracts: m["retracts"], Reason: m["reason"], Official: m["official"]}
	if err := docIDSyntax.Check("retracts", b.Retracts); err != nil {
		return RetractBody{}, err
	}
	if err := body.CheckText("reason", b.Reason, maxReasonLen); err != nil {
		return RetractBody{}, err
	}
	if err := checkOfficial(b.Official); err != nil {
		return RetractBody{}, err
	}
	return b, nil
}

func publishFromMap(m map[string]string) PublishBody {
	return PublishBody{
		DocID:        m["doc_id"],
		Title:        m["title"],
		SHA256:       m["sha256"],
		Category:     m["category"],
		DecisionDate: m["decision_date"],
		Official:     m["official"],
	}
}

func (b PublishBody) validate() error {
	if err := docIDSyntax.Check("doc_id", b.DocID); err != nil {
		return err
	}
	if err := body.CheckText("title", b.Title, maxTitleLen); err != nil {
		return err
	}
	if err := body.CheckSHA256("sha256", b.SHA256); err != nil {
		return err
	}
	if err := body.CheckText("category", b.Category, maxCategoryLen); err != nil {
		return err
	}
	if err := body.CheckDate("decision_date", b.DecisionDate); err != nil {
		return err
	}
	return checkOfficial(b.Official)
}

// checkOfficial checks an official's staff ID, if one is given: a
// registry staff ID, which has the form of an agency ID.
func checkOfficial(staff string) error {
	if staff == "" {
		return nil
	}
	if !body.ValidAgencyID(staff) {
		return body.Errorf("field %q: %.80q is not a staff ID (%s): name the official by their registry staff ID, not in clear", "official", staff, body.AgencyIDPattern)
	}
	return nil
}

// parseStrings reads a body whose members are exactly fields, all strings.
func parseStrings(data []byte, fields []string) (map[string]string, error) {
	o, err := body.Parse(data, fields, optionalFields)
	if err != nil {
		return nil, err
	}
	m, err := o.Strings()
	if err == nil && o.Has("official") && m["official"] == "" {
		err = body.Errorf("field %q is empty: give the official's staff ID, or leave the field out", "official")
	}
	return m, err
}

// docIDSyntax is the syntax of a document ID: the agency's own, so it may be a
// path. State keys put it last (see [DocumentKey]).
var docIDSyntax = body.IDSyntax{Noun: "a document ID", MaxLen: maxDocIDLen, Slash: true}
