// Package identity holds the rules of the "identity" log: the credentials
// that belong to a citizen (birth, marriage, diploma, health certificate,
// employment...), issued by the agencies that attest them, and who looked
// at them, with the citizen's leave.
//
// Nothing personal is on the log in clear. A citizen, a "subject", is
// named by a key of their own: a signed-note verifier key named "subject"
// ([SubjectKeyName]), and its ID is [SubjectID] of that key ("s-" and 32
// hex digits). Every attribute of a credential (a name, an ID number, a
// date of birth, a grade) is a salted commitment, [Commit](salt, value):
// HMAC-SHA256 keyed by 32 random bytes, fresh per attribute. The issuing
// agency hands the subject the values and their salts; the subject shows
// one attribute by disclosing its value and salt, which anyone checks
// against the credential query's commitment with [CheckCommitment].
//
// # Roles
//
//	identity-registrar  identity.subject.register
//	civil-affairs       identity.credential.issue.civil,
//	                    identity.event.birth, identity.event.marriage
//	education           identity.credential.issue.education
//	health              identity.credential.issue.health
//	labour              identity.credential.issue.labour,
//	                    identity.event.employment
//	credential-issuer   identity.credential.revoke: every issuing agency
//	                    holds it too, and revokes only what it issued
//	identity-checker    identity.access
//	service-regulator   identity.incident
//
// identity.grant and identity.grant.withdraw are [rule.SelfSigned]: signed
// by the subject's key, which the body carries, and by no other
// ([notesig]); the signer is "subject+<key hash>".
//
// # Statement types
//
// identity.subject.register ([RegisterBody]): subject, the subject's
// verifier key. A subject is registered once ([rule.ErrAlreadyExists]).
//
// identity.credential.issue.<family> ([IssueBody]): credential_id (ID,
// unused), subject (a registered subject's ID), type (of the statement's
// family, else [rule.ErrInvalidBody]), issued (a date, not after the
// statement's day), expires (optional date, after issued), attributes
// (1 to 32 commitments by name; names 1 to 32 of [a-z0-9_]), supersedes
// (optional: a credential of the same subject, neither revoked nor
// superseded, of the same type, or a "marriage" superseded by a
// "divorce"; another type is [rule.ErrInvalidBody]). The families:
//
//	civil      birth, marriage, divorce, parent-link
//	education  diploma
//	health     health-certificate
//	labour     employment, qualification
//
// identity.credential.revoke ([RevokeBody]): credential_id, reason (text,
// at most 256 characters); only by the agency that issued it
// ([rule.ErrNotAuthorized]), once.
//
// identity.grant ([GrantBody]): grant_id (ID, unused), subject (the
// subject's key, registered; it signs), agency (the agency that may check,
// or "*": anyone, which makes the subject's credentials of that type
// public on the dashboard, as a service worker's are), credential_type,
// purpose (ID), until (a date, not before the statement's day: the grant
// ends at the end of that day, UTC).
//
// identity.grant.withdraw ([WithdrawBody]): grant_id, subject (the key of
// the grant's subject, else [rule.ErrNotAuthorized]); once.
//
// identity.access ([AccessBody]): access_id (ID, unused), grant_id,
// credential_id, purpose. The grant must be live at the statement's time
// (made, not withdrawn, not ended), for the signing agency or "*", for the
// credential's type and for this purpose; the credential must be the
// grant's subject's, neither revoked nor superseded
// ([rule.ErrRuleViolation] otherwise).
//
// Events issue several credentials at once, all or none. Their
// credentials are as an issue's, without expires or supersedes.
//
//	identity.event.birth ([BirthBody]): event_id, issued, child (subject
//	ID), birth {credential_id, attributes}: the child's "birth" credential;
//	parent_1 and optionally parent_2 {subject, credential_id, attributes}:
//	a "parent-link" credential for each parent.
//	identity.event.marriage ([MarriageBody]): event_id, issued, spouse_1
//	and spouse_2 {subject, credential_id, attributes}: a "marriage"
//	credential for each.
//	identity.event.employment ([EmploymentBody]): event_id, employee
//	(subject ID), issued, credential {credential_id, attributes}: an
//	"employment" credential.
//
// The subjects of an event are distinct ([rule.ErrInvalidBody]) and
// registered ([rule.ErrRuleViolation]). (The parties are named members,
// not an array: the body kit reads objects three deep, so an object of
// attributes cannot sit in an array's element.)
//
// identity.incident ([IncidentBody]): incident_id (ID, unused),
// credential_id (a qualification or health-certificate), summary (text, at
// most 512 characters, naming nobody: it is public).
//
// # State
//
//	subject/<subject id>               [Subject]
//	credential/<id>                    [Credential], with its status
//	holding/<subject id>/<type>        the subject's credential IDs of a type
//	grant/<id>                         [Grant]
//	public/<subject id>/<type>         [PublicGrant]: the latest "*" grant
//	access/<id>                        [Access]
//	subject-access/<subject id>/<n>    the ID of the n-th access (from 1) to
//	                                   the subject's credentials; the count
//	                                   is the Subject's
//	event/<id>                         [Event]
//	incident/<id>                      [Incident]
//	worker-incident/<credential>/<n>   the ID of the n-th incident citing
//	                                   it; the count is the Credential's
//	agency/<id>                        [AgencyStats]
//
// # Queries
//
// "accesses" (argument "subject", a subject ID; "from", "limit" at most
// [MaxAccessPage]) answers an [AccessesAnswer]: every access to the
// subject's credentials, each citing its access, grant and credential
// entries. "credential" (argument "id") answers a [CredentialAnswer]: the
// credential, its attribute commitments by name and its status, citing
// the entry that issued it and any that superseded or revoked it.
package identity

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/notesig"
)

const (
	// LogName is the name of the log these rules admit into.
	LogName = "identity"

	TypeRegister       = "identity.subject.register"
	TypeIssueCivil     = "identity.credential.issue.civil"
	TypeIssueEducation = "identity.credential.issue.education"
	TypeIssueHealth    = "identity.credential.issue.health"
	TypeIssueLabour    = "identity.credential.issue.labour"
	TypeRevoke         = "identity.credential.revoke"
	TypeGrant          = "identity.grant"
	TypeWithdraw       = "identity.grant.withdraw"
	TypeAccess         = "identity.access"
	TypeBirth          = "identity.event.birth"
	TypeMarriage       = "identity.event.marriage"
	TypeEmployment     = "identity.event.employment"
	TypeIncident       = "identity.incident"

	RoleRegistrar = "identity-registrar"
	RoleCivil     = "civil-affairs"
	RoleEducation = "education"
	RoleHealth    = "health"
	RoleLabour    = "labour"
	// RoleIssuer revokes credentials: every issuing agency holds it.
	RoleIssuer    = "credential-issuer"
	RoleChecker   = "identity-checker"
	RoleRegulator = "service-regulator"

	// SubjectKeyName is the name of every subject's key.
	SubjectKeyName = "subject"
)

// issueFamily is the family each issue statement type issues.
var issueFamily = map[string]string{
	TypeIssueCivil:     FamilyCivil,
	TypeIssueEducation: FamilyEducation,
	TypeIssueHealth:    FamilyHealth,
	TypeIssueLabour:    FamilyLabour,
}

// Rules implements [rule.Domain] for the identity log.
type Rules struct {
	// Now is the clock by which the dashboard tells live public grants;
	// nil means time.Now. The rules judge by each statement's time only.
	Now func() time.Time
}

var (
	_ rule.Domain        = (*Rules)(nil)
	_ rule.Authenticator = (*Rules)(nil)
	_ rule.KeyReader     = (*Rules)(nil)
)

// New returns the identity rules.
func New() *Rules { return &Rules{} }

// Log returns [LogName].
func (*Rules) Log() string { return LogName }

// RequiredRole returns the role of statementType.
func (*Rules) RequiredRole(statementType string) (string, error) {
	return rule.RoleOf(LogName, types, statementType)
}

// Authenticate implements [rule.Authenticator] for identity.grant and
// identity.grant.withdraw: signed by the subject key the body names, and by
// no other.
func (*Rules) Authenticate(_ context.Context, _ rule.Reader, e rule.Entry) (string, error) {
	vkey, err := selfSigner(e)
	if err != nil {
		return "", err
	}
	if err := notesig.Verify(vkey, e); err != nil {
		// A grant or withdrawal speaks for the subject: signed by anyone
		// else (or unsigned), it is not authentic (UNAUTHENTICATED), not
		// merely unauthorized.
		if errors.Is(err, rule.ErrNotAuthorized) {
			return "", fmt.Errorf("%w: not signed by the subject's key: %w", rule.ErrBadSignature, err)
		}
		return "", err
	}
	return SignerName(vkey), nil
}

// selfSigner returns the key that must sign e, a self-signed statement.
func selfSigner(e rule.Entry) (string, error) {
	switch e.Type {
	case TypeGrant:
		b, err := ParseGrantBody(e.Body)
		return b.Subject, err
	case TypeWithdraw:
		b, err := ParseWithdrawBody(e.Body)
		return b.Subject, err
	}
	return "", fmt.Errorf("%w: %.64q is not a self-signed type of the %s log", rule.ErrUnknownType, e.Type, LogName)
}

// Apply checks e against the rules in the package doc and records its
// effects in st; it reads and checks everything before its first Put.
func (r *Rules) Apply(ctx context.Context, st rule.State, e rule.Entry) error {
	role, err := r.RequiredRole(e.Type)
	if err != nil {
		return err
	}
	if role == rule.SelfSigned {
		vkey, err := selfSigner(e)
		if err != nil {
			return err
		}
		// Authenticate named the signer after the key that signed.
		if e.Signer == "" || e.Signer != SignerName(vkey) {
			return fmt.Errorf("%w: the statement was not authenticated as signed by %s", rule.ErrNotAuthorized, SignerName(vkey))
		}
	} else if !body.ValidAgencyID(e.Agency) {
		return fmt.Errorf("%w: agency ID %.64q is not a registry ID (%s)", rule.ErrRuleViolation, e.Agency, body.AgencyIDPattern)
	}
	t := newTx(st)
	a := &applier{t: t, e: e, leaf: hex.EncodeToString(e.LeafHash[:]), at: stamp(e.Time)}
	if err := a.apply(ctx); err != nil {
		return err
	}
	return t.commit(ctx)
}

// ReadKeys names the keys Apply reads for e that its body tells.
func (*Rules) ReadKeys(e rule.Entry) []string {
	var keys []string
	switch e.Type {
	case TypeRegister:
		if b, err := ParseRegisterBody(e.Body); err == nil {
			keys = append(keys, SubjectKey(SubjectID(b.Subject)))
		}
	case TypeRevoke:
		if b, err := ParseRevokeBody(e.Body); err == nil {
			keys = append(keys, CredentialKey(b.CredentialID), AgencyKey(e.Agency))
		}
	case TypeGrant:
		if b, err := ParseGrantBody(e.Body); err == nil {
			keys = append(keys, GrantKey(b.GrantID), SubjectKey(SubjectID(b.Subject)))
		}
	case TypeWithdraw:
		if b, err := ParseWithdrawBody(e.Body); err == nil {
			keys = append(keys, GrantKey(b.GrantID))
		}
	case TypeAccess:
		if b, err := ParseAccessBody(e.Body); err == nil {
			keys = append(keys, AccessKey(b.AccessID), GrantKey(b.GrantID), CredentialKey(b.CredentialID), AgencyKey(e.Agency))
		}
	case TypeIncident:
		if b, err := ParseIncidentBody(e.Body); err == nil {
			keys = append(keys, IncidentKey(b.IncidentID), CredentialKey(b.CredentialID), AgencyKey(e.Agency))
		}
	default:
		cs, err := IssuedBy(e.Type, e.Body)
		if err != nil || len(cs) == 0 {
			return nil
		}
		keys = append(keys, AgencyKey(e.Agency))
		if id := eventID(e.Type, e.Body); id != "" {
			keys = append(keys, EventKey(id))
		}
		for _, c := range cs {
			keys = append(keys, CredentialKey(c.CredentialID), SubjectKey(c.Subject), HoldingKey(c.Subject, c.Type))
			if c.Supersedes != "" {
				keys = append(keys, CredentialKey(c.Supersedes))
			}
		}
	}
	return slices.Compact(keys)
}
