package identity

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/notesig"
)

// Limits of the bodies.
const (
	// MaxAttributes is the most attributes a credential carries.
	MaxAttributes = 32
	// maxAttributeName is the longest attribute name.
	maxAttributeName = 32
	maxReasonLen     = 256 // characters
	maxSummaryLen    = 512 // characters
)

// Credential types, by family: the issue statement of a family issues only
// its types.
var families = map[string][]string{
	FamilyCivil:     {TypeBirthCredential, TypeMarriageCredential, TypeDivorceCredential, TypeParentLinkCredential},
	FamilyEducation: {TypeDiploma},
	FamilyHealth:    {TypeHealthCertificate},
	FamilyLabour:    {TypeEmploymentCredential, TypeQualification},
}

// Credential families.
const (
	FamilyCivil     = "civil"
	FamilyEducation = "education"
	FamilyHealth    = "health"
	FamilyLabour    = "labour"
)

// Credential types.
const (
	TypeBirthCredential      = "birth"
	TypeMarriageCredential   = "marriage"
	TypeDivorceCredential    = "divorce"
	TypeParentLinkCredential = "parent-link"
	TypeDiploma              = "diploma"
	TypeHealthCertificate    = "health-certificate"
	TypeEmploymentCredential = "employment"
	TypeQualification        = "qualification"
)

// FamilyOf returns the family of a credential type, "" for none.
func FamilyOf(credentialType string) string {
	for f, ts := range families {
		if slices.Contains(ts, credentialType) {
			return f
		}
	}
	return ""
}

// CredentialTypes lists every credential type, sorted.
func CredentialTypes() []string {
	var out []string
	for _, ts := range families {
		out = append(out, ts...)
	}
	slices.Sort(out)
	return out
}

// IssueBody is the body of an identity.credential.issue.<family>, and what
// each event issues for each credential.
type IssueBody struct {
	CredentialID string `json:"credential_id"`
	// Subject is the subject's ID ([SubjectID]).
	Subject string `json:"subject"`
	Type    string `json:"type"`
	Issued  string `json:"issued"`
	Expires string `json:"expires,omitempty"`
	// Attributes are salted commitments ([Commit]) by attribute name.
	Attributes map[string]string `json:"attributes"`
	Supersedes string            `json:"supersedes,omitempty"`
}

// RegisterBody is the body of an identity.subject.register.
type RegisterBody struct {
	// Subject is the subject's verifier key, named "subject".
	Subject string `json:"subject"`
}

// RevokeBody is the body of an identity.credential.revoke.
type RevokeBody struct {
	CredentialID string `json:"credential_id"`
	Reason       string `json:"reason"`
}

// GrantBody is the body of an identity.grant.
type GrantBody struct {
	GrantID string `json:"grant_id"`
	// Subject is the granting subject's verifier key, which signs.
	Subject string `json:"subject"`
	// Agency may check; [Public] for anyone.
	Agency         string `json:"agency"`
	CredentialType string `json:"credential_type"`
	Purpose        string `json:"purpose"`
	// Until is the last day of the grant (it ends at the end of that day,
	// UTC).
	Until string `json:"until"`
}

// WithdrawBody is the body of an identity.grant.withdraw.
type WithdrawBody struct {
	GrantID string `json:"grant_id"`
	Subject string `json:"subject"`
}

// AccessBody is the body of an identity.access.
type AccessBody struct {
	AccessID     string `json:"access_id"`
	GrantID      string `json:"grant_id"`
	CredentialID string `json:"credential_id"`
	Purpose      string `json:"purpose"`
}

// Issuance is one credential an event issues to a subject the event names
// elsewhere.
type Issuance struct {
	CredentialID string            `json:"credential_id"`
	Attributes   map[string]string `json:"attributes"`
}

// PartyIssuance is one credential an event issues to the subject it names.
type PartyIssuance struct {
	Subject      string            `json:"subject"`
	CredentialID string            `json:"credential_id"`
	Attributes   map[string]string `json:"attributes"`
}

// BirthBody is the body of an identity.event.birth: the child's "birth"
// credential and a "parent-link" credential for each parent.
type BirthBody struct {
	EventID string         `json:"event_id"`
	Issued  string         `json:"issued"`
	Child   string         `json:"child"`
	Birth   Issuance       `json:"birth"`
	Parent1 PartyIssuance  `json:"parent_1"`
	Parent2 *PartyIssuance `json:"parent_2,omitempty"`
}

// MarriageBody is the body of an identity.event.marriage: a "marriage"
// credential for each spouse.
type MarriageBody struct {
	EventID string        `json:"event_id"`
	Issued  string        `json:"issued"`
	Spouse1 PartyIssuance `json:"spouse_1"`
	Spouse2 PartyIssuance `json:"spouse_2"`
}

// EmploymentBody is the body of an identity.event.employment: an
// "employment" credential for the employee.
type EmploymentBody struct {
	EventID    string   `json:"event_id"`
	Employee   string   `json:"employee"`
	Issued     string   `json:"issued"`
	Credential Issuance `json:"credential"`
}

// IncidentBody is the body of an identity.incident.
type IncidentBody struct {
	IncidentID   string `json:"incident_id"`
	CredentialID string `json:"credential_id"`
	Summary      string `json:"summary"`
}

// Public is a grant's agency when anyone may check.
const Public = "*"

// ParseRegisterBody parses and checks the body of an
// identity.subject.register. Its errors wrap rule.ErrInvalidBody.
func ParseRegisterBody(data []byte) (RegisterBody, error) {
	o, err := body.Parse(data, []string{"subject"}, nil)
	if err != nil {
		return RegisterBody{}, err
	}
	var b RegisterBody
	if b.Subject, err = subjectKey(o, "subject"); err != nil {
		return RegisterBody{}, err
	}
	return b, nil
}

// ParseIssueBody parses and checks the body of an
// identity.credential.issue.<family>: the type must be a credential type,
// of whatever family (Apply checks it is the statement's). Its errors wrap
// rule.ErrInvalidBody.
func ParseIssueBody(data []byte) (IssueBody, error) {
	o, err := body.Parse(data, []string{"credential_id", "subject", "type", "issued", "attributes"}, []string{"expires", "supersedes"})
	if err != nil {
		return IssueBody{}, err
	}
	g := generic(data)
	var b IssueBody
	if b.CredentialID, err = o.ID("credential_id", body.ID); err != nil {
		return IssueBody{}, err
	}
	if b.Subject, err = subjectID(o, "subject"); err != nil {
		return IssueBody{}, err
	}
	if b.Type, err = credentialType(o, "type"); err != nil {
		return IssueBody{}, err
	}
	if b.Issued, err = o.Date("issued"); err != nil {
		return IssueBody{}, err
	}
	if o.Has("expires") {
		if b.Expires, err = o.Date("expires"); err != nil {
			return IssueBody{}, err
		}
		if b.Expires <= b.Issued {
			return IssueBody{}, body.Errorf("field %q: a credential issued %s expires after it, not %s", "expires", b.Issued, b.Expires)
		}
	}
	if b.Attributes, err = parseAttributes(o, memberNames(g, "attributes")); err != nil {
		return IssueBody{}, err
	}
	if o.Has("supersedes") {
		if b.Supersedes, err = o.ID("supersedes", body.ID); err != nil {
			return IssueBody{}, err
		}
		if b.Supersedes == b.CredentialID {
			return IssueBody{}, body.Errorf("field %q: credential %s cannot supersede itself", "supersedes", b.CredentialID)
		}
	}
	return b, nil
}

// ParseRevokeBody parses and checks the body of an
// identity.credential.revoke.
func ParseRevokeBody(data []byte) (RevokeBody, error) {
	o, err := body.Parse(data, []string{"credential_id", "reason"}, nil)
	if err != nil {
		return RevokeBody{}, err
	}
	var b RevokeBody
	if b.CredentialID, err = o.ID("credential_id", body.ID); err != nil {
		return RevokeBody{}, err
	}
	if b.Reason, err = o.Text("reason", maxReasonLen); err != nil {
		return RevokeBody{}, err
	}
	return b, nil
}

// ParseGrantBody parses and checks the body of an identity.grant.
func ParseGrantBody(data []byte) (GrantBody, error) {
	o, err := body.Parse(data, []string{"grant_id", "subject", "agency", "credential_type", "purpose", "until"}, nil)
	if err != nil {
		return GrantBody{}, err
	}
	var b GrantBody
	if b.GrantID, err = o.ID("grant_id", body.ID); err != nil {
		return GrantBody{}, err
	}
	if b.Subject, err = subjectKey(o, "subject"); err != nil {
		return GrantBody{}, err
	}
	if b.Agency, err = o.Str("agency"); err != nil {
		return GrantBody{}, err
	}
	if b.Agency != Public {
		if err := body.CheckAgencyID("agency", b.Agency); err != nil {
			return GrantBody{}, fmt.Errorf("%w, or %q for anyone", err, Public)
		}
	}
	if b.CredentialType, err = credentialType(o, "credential_type"); err != nil {
		return GrantBody{}, err
	}
	if b.Purpose, err = o.ID("purpose", body.ID); err != nil {
		return GrantBody{}, err
	}
	if b.Until, err = o.Date("until"); err != nil {
		return GrantBody{}, err
	}
	return b, nil
}

// ParseWithdrawBody parses and checks the body of an
// identity.grant.withdraw.
func ParseWithdrawBody(data []byte) (WithdrawBody, error) {
	o, err := body.Parse(data, []string{"grant_id", "subject"}, nil)
	if err != nil {
		return WithdrawBody{}, err
	}
	var b WithdrawBody
	if b.GrantID, err = o.ID("grant_id", body.ID); err != nil {
		return WithdrawBody{}, err
	}
	if b.Subject, err = subjectKey(o, "subject"); err != nil {
		return WithdrawBody{}, err
	}
	return b, nil
}

// ParseAccessBody parses and checks the body of an identity.access.
func ParseAccessBody(data []byte) (AccessBody, error) {
	o, err := body.Parse(data, []string{"access_id", "grant_id", "credential_id", "purpose"}, nil)
	if err != nil {
		return AccessBody{}, err
	}
	var b AccessBody
	for _, f := range []struct {
		name string
		v    *string
	}{{"access_id", &b.AccessID}, {"grant_id", &b.GrantID}, {"credential_id", &b.CredentialID}, {"purpose", &b.Purpose}} {
		if *f.v, err = o.ID(f.name, body.ID); err != nil {
			return AccessBody{}, err
		}
	}
	return b, nil
}

// ParseBirthBody parses and checks the body of an identity.event.birth:
// the child and the parents are distinct, and so are the credential IDs.
func ParseBirthBody(data []byte) (BirthBody, error) {
	o, err := body.Parse(data, []string{"event_id", "issued", "child", "birth", "parent_1"}, []string{"parent_2"})
	if err != nil {
		return BirthBody{}, err
	}
	g := generic(data)
	var b BirthBody
	if b.EventID, err = o.ID("event_id", body.ID); err != nil {
		return BirthBody{}, err
	}
	if b.Issued, err = o.Date("issued"); err != nil {
		return BirthBody{}, err
	}
	if b.Child, err = subjectID(o, "child"); err != nil {
		return BirthBody{}, err
	}
	if b.Birth, err = parseIssuance(o, g, "birth"); err != nil {
		return BirthBody{}, err
	}
	if b.Parent1, err = parseParty(o, g, "parent_1"); err != nil {
		return BirthBody{}, err
	}
	if o.Has("parent_2") {
		p, err := parseParty(o, g, "parent_2")
		if err != nil {
			return BirthBody{}, err
		}
		b.Parent2 = &p
	}
	return b, distinct(b.Issue())
}

// ParseMarriageBody parses and checks the body of an
// identity.event.marriage.
func ParseMarriageBody(data []byte) (MarriageBody, error) {
	o, err := body.Parse(data, []string{"event_id", "issued", "spouse_1", "spouse_2"}, nil)
	if err != nil {
		return MarriageBody{}, err
	}
	g := generic(data)
	var b MarriageBody
	if b.EventID, err = o.ID("event_id", body.ID); err != nil {
		return MarriageBody{}, err
	}
	if b.Issued, err = o.Date("issued"); err != nil {
		return MarriageBody{}, err
	}
	if b.Spouse1, err = parseParty(o, g, "spouse_1"); err != nil {
		return MarriageBody{}, err
	}
	if b.Spouse2, err = parseParty(o, g, "spouse_2"); err != nil {
		return MarriageBody{}, err
	}
	return b, distinct(b.Issue())
}

// ParseEmploymentBody parses and checks the body of an
// identity.event.employment.
func ParseEmploymentBody(data []byte) (EmploymentBody, error) {
	o, err := body.Parse(data, []string{"event_id", "employee", "issued", "credential"}, nil)
	if err != nil {
		return EmploymentBody{}, err
	}
	g := generic(data)
	var b EmploymentBody
	if b.EventID, err = o.ID("event_id", body.ID); err != nil {
		return EmploymentBody{}, err
	}
	if b.Employee, err = subjectID(o, "employee"); err != nil {
		return EmploymentBody{}, err
	}
	if b.Issued, err = o.Date("issued"); err != nil {
		return EmploymentBody{}, err
	}
	if b.Credential, err = parseIssuance(o, g, "credential"); err != nil {
		return EmploymentBody{}, err
	}
	return b, nil
}

// ParseIncidentBody parses and checks the body of an identity.incident.
func ParseIncidentBody(data []byte) (IncidentBody, error) {
	o, err := body.Parse(data, []string{"incident_id", "credential_id", "summary"}, nil)
	if err != nil {
		return IncidentBody{}, err
	}
	var b IncidentBody
	if b.IncidentID, err = o.ID("incident_id", body.ID); err != nil {
		return IncidentBody{}, err
	}
	if b.CredentialID, err = o.ID("credential_id", body.ID); err != nil {
		return IncidentBody{}, err
	}
	if b.Summary, err = o.Text("summary", maxSummaryLen); err != nil {
		return IncidentBody{}, err
	}
	return b, nil
}

// Issue lists the credentials a birth issues: the child's birth
// credential, then a parent-link for each parent.
func (b BirthBody) Issue() []IssueBody {
	out := []IssueBody{{CredentialID: b.Birth.CredentialID, Subject: b.Child, Type: TypeBirthCredential, Issued: b.Issued, Attributes: b.Birth.Attributes}}
	for _, p := range []*PartyIssuance{&b.Parent1, b.Parent2} {
		if p != nil {
			out = append(out, p.issue(TypeParentLinkCredential, b.Issued))
		}
	}
	return out
}

// Issue lists the credentials a marriage issues, one per spouse.
func (b MarriageBody) Issue() []IssueBody {
	return []IssueBody{b.Spouse1.issue(TypeMarriageCredential, b.Issued), b.Spouse2.issue(TypeMarriageCredential, b.Issued)}
}

// Issue lists the credential an employment issues.
func (b EmploymentBody) Issue() []IssueBody {
	return []IssueBody{{CredentialID: b.Credential.CredentialID, Subject: b.Employee, Type: TypeEmploymentCredential, Issued: b.Issued, Attributes: b.Credential.Attributes}}
}

func (p PartyIssuance) issue(typ, issued string) IssueBody {
	return IssueBody{CredentialID: p.CredentialID, Subject: p.Subject, Type: typ, Issued: issued, Attributes: p.Attributes}
}

// distinct refuses an event whose credentials share a subject or an ID.
func distinct(cs []IssueBody) error {
	subjects, ids := map[string]bool{}, map[string]bool{}
	for _, c := range cs {
		if subjects[c.Subject] {
			return body.Errorf("subject %s is named twice in the event", c.Subject)
		}
		if ids[c.CredentialID] {
			return body.Errorf("credential ID %s is used twice in the event", c.CredentialID)
		}
		subjects[c.Subject], ids[c.CredentialID] = true, true
	}
	return nil
}

// IssuedBy returns the credentials a statement of type typ with this body
// issues, or an error wrapping rule.ErrInvalidBody; none for a type that
// issues none.
func IssuedBy(typ string, data []byte) ([]IssueBody, error) {
	switch typ {
	case TypeIssueCivil, TypeIssueEducation, TypeIssueHealth, TypeIssueLabour:
		b, err := ParseIssueBody(data)
		return []IssueBody{b}, err
	case TypeBirth:
		b, err := ParseBirthBody(data)
		return b.Issue(), err
	case TypeMarriage:
		b, err := ParseMarriageBody(data)
		return b.Issue(), err
	case TypeEmployment:
		b, err := ParseEmploymentBody(data)
		return b.Issue(), err
	}
	return nil, nil
}

// eventID returns the event_id of an event's body, "" for another type.
func eventID(typ string, data []byte) string {
	var b struct {
		EventID string `json:"event_id"`
	}
	if typ != TypeBirth && typ != TypeMarriage && typ != TypeEmployment || json.Unmarshal(data, &b) != nil {
		return ""
	}
	return b.EventID
}

func parseIssuance(o body.Object, g any, name string) (Issuance, error) {
	x, err := o.Object(name, []string{"credential_id", "attributes"}, nil)
	if err != nil {
		return Issuance{}, err
	}
	var i Issuance
	if i.CredentialID, err = x.ID("credential_id", body.ID); err != nil {
		return Issuance{}, err
	}
	if i.Attributes, err = parseAttributes(x, memberNames(g, name, "attributes")); err != nil {
		return Issuance{}, err
	}
	return i, nil
}

func parseParty(o body.Object, g any, name string) (PartyIssuance, error) {
	x, err := o.Object(name, []string{"subject", "credential_id", "attributes"}, nil)
	if err != nil {
		return PartyIssuance{}, err
	}
	var p PartyIssuance
	if p.Subject, err = subjectID(x, "subject"); err != nil {
		return PartyIssuance{}, err
	}
	if p.CredentialID, err = x.ID("credential_id", body.ID); err != nil {
		return PartyIssuance{}, err
	}
	if p.Attributes, err = parseAttributes(x, memberNames(g, name, "attributes")); err != nil {
		return PartyIssuance{}, err
	}
	return p, nil
}

// parseAttributes reads the attributes member of o, an object of 1 to
// MaxAttributes commitments whose names (names, as a plain decoding of the
// body found them) are 1 to 32 of [a-z0-9_].
func parseAttributes(o body.Object, names []string) (map[string]string, error) {
	a, err := o.Object("attributes", nil, names)
	if err != nil {
		return nil, err
	}
	m, err := a.Strings()
	if err != nil {
		return nil, err
	}
	if len(m) < 1 || len(m) > MaxAttributes {
		return nil, body.Errorf("field %q has %d attributes; a credential has 1 to %d", o.Field("attributes"), len(m), MaxAttributes)
	}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if !ValidAttributeName(name) {
			return nil, body.Errorf("attribute %q of %q is not an attribute name (1 to %d of a-z 0-9 _)", name, o.Field("attributes"), maxAttributeName)
		}
		if err := body.CheckCommitment(a.Field(name), m[name]); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ValidAttributeName reports whether name is an attribute name: 1 to 32 of
// [a-z0-9_].
func ValidAttributeName(name string) bool {
	if len(name) == 0 || len(name) > maxAttributeName {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// generic decodes a body that body.Parse accepted, to find the member
// names of its attribute objects.
func generic(data []byte) any {
	var v any
	_ = json.Unmarshal(data, &v)
	return v
}

// memberNames returns the member names of the object at path in v, nil if
// there is none.
func memberNames(v any, path ...string) []string {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

func subjectID(o body.Object, name string) (string, error) {
	s, err := o.Str(name)
	if err != nil {
		return "", err
	}
	if !ValidSubjectID(s) {
		return "", body.Errorf("field %q: %.80q is not a subject ID (s- and 32 lowercase hex digits)", o.Field(name), s)
	}
	return s, nil
}

func subjectKey(o body.Object, name string) (string, error) {
	s, err := o.Str(name)
	if err != nil {
		return "", err
	}
	kname, _, err := notesig.ParseVKey(s)
	if err != nil {
		return "", fmt.Errorf("%w (in %q)", err, o.Field(name))
	}
	if kname != SubjectKeyName {
		return "", body.Errorf("field %q must be a key named %q, not %.64q", o.Field(name), SubjectKeyName, kname)
	}
	return s, nil
}

func credentialType(o body.Object, name string) (string, error) {
	s, err := o.Str(name)
	if err != nil {
		return "", err
	}
	if FamilyOf(s) == "" {
		return "", body.Errorf("field %q: %.64q is not a credential type (%v)", o.Field(name), s, CredentialTypes())
	}
	return s, nil
}

// SignerName names the signer of a statement signed by the subject key
// vkey: "subject+<key hash>", or "" if vkey is not a verifier key.
func SignerName(vkey string) string {
	name, hash, err := notesig.ParseVKey(vkey)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s+%08x", name, hash)
}
