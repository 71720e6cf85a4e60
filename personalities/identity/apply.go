package identity

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/govlog/govlog/personalities/rule"
)

// applier applies one entry through a tx.
type applier struct {
	t    *tx
	e    rule.Entry
	leaf string // the entry's leaf hash, hex
	at   string // its time, RFC 3339 UTC
}

func violation(format string, args ...any) error {
	return fmt.Errorf("%w: %s", rule.ErrRuleViolation, fmt.Sprintf(format, args...))
}

func (a *applier) apply(ctx context.Context) error {
	e := a.e
	switch e.Type {
	case TypeRegister:
		b, err := ParseRegisterBody(e.Body)
		if err != nil {
			return err
		}
		return a.register(ctx, b)
	case TypeIssueCivil, TypeIssueEducation, TypeIssueHealth, TypeIssueLabour:
		b, err := ParseIssueBody(e.Body)
		if err != nil {
			return err
		}
		if FamilyOf(b.Type) != issueFamily[e.Type] {
			return fmt.Errorf("%w: field \"type\": %s is a credential of the %s family; %s issues %v", rule.ErrInvalidBody, b.Type, FamilyOf(b.Type), e.Type, families[issueFamily[e.Type]])
		}
		return a.issue(ctx, b, "")
	case TypeRevoke:
		b, err := ParseRevokeBody(e.Body)
		if err != nil {
			return err
		}
		return a.revoke(ctx, b)
	case TypeGrant:
		b, err := ParseGrantBody(e.Body)
		if err != nil {
			return err
		}
		return a.grant(ctx, b)
	case TypeWithdraw:
		b, err := ParseWithdrawBody(e.Body)
		if err != nil {
			return err
		}
		return a.withdraw(ctx, b)
	case TypeAccess:
		b, err := ParseAccessBody(e.Body)
		if err != nil {
			return err
		}
		return a.access(ctx, b)
	case TypeBirth:
		b, err := ParseBirthBody(e.Body)
		if err != nil {
			return err
		}
		return a.event(ctx, b.EventID, b.Issue())
	case TypeMarriage:
		b, err := ParseMarriageBody(e.Body)
		if err != nil {
			return err
		}
		return a.event(ctx, b.EventID, b.Issue())
	case TypeEmployment:
		b, err := ParseEmploymentBody(e.Body)
		if err != nil {
			return err
		}
		return a.event(ctx, b.EventID, b.Issue())
	case TypeIncident:
		b, err := ParseIncidentBody(e.Body)
		if err != nil {
			return err
		}
		return a.incident(ctx, b)
	}
	return fmt.Errorf("%w: %.64q", rule.ErrUnknownType, e.Type)
}

func (a *applier) register(ctx context.Context, b RegisterBody) error {
	id := SubjectID(b.Subject)
	if ok, err := a.t.has(ctx, SubjectKey(id)); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: subject %s is registered", rule.ErrAlreadyExists, id)
	}
	return a.t.put(SubjectKey(id), Subject{ID: id, Key: b.Subject, Registrar: a.e.Agency, Time: a.at, LeafHash: a.leaf})
}

// subject reads a registered subject.
func (a *applier) subject(ctx context.Context, id string) (Subject, error) {
	var s Subject
	ok, err := a.t.get(ctx, SubjectKey(id), &s)
	if err == nil && !ok {
		err = violation("subject %s is not registered", id)
	}
	return s, err
}

// credential reads a credential that must exist.
func (a *applier) credential(ctx context.Context, id string) (Credential, error) {
	var c Credential
	ok, err := a.t.get(ctx, CredentialKey(id), &c)
	if err == nil && !ok {
		err = violation("there is no credential %s", id)
	}
	return c, err
}

// mayIssue reports whether a credential of type newType may supersede one
// of type old.
func mayIssue(newType, old string) bool {
	return newType == old || newType == TypeDivorceCredential && old == TypeMarriageCredential
}

// issue issues one credential, of an issue statement or an event.
func (a *applier) issue(ctx context.Context, b IssueBody, event string) error {
	if day := a.e.Time.UTC().Format(time.DateOnly); b.Issued > day {
		return violation("credential %s is dated %s, after the statement's day %s", b.CredentialID, b.Issued, day)
	}
	if ok, err := a.t.has(ctx, CredentialKey(b.CredentialID)); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: credential %s", rule.ErrAlreadyExists, b.CredentialID)
	}
	subj, err := a.subject(ctx, b.Subject)
	if err != nil {
		return err
	}
	if b.Supersedes != "" {
		old, err := a.credential(ctx, b.Supersedes)
		if err != nil {
			return err
		}
		switch {
		case old.Subject != b.Subject:
			return violation("credential %s supersedes %s, a credential of another subject", b.CredentialID, old.ID)
		case !mayIssue(b.Type, old.Type):
			return fmt.Errorf("%w: field \"supersedes\": a %s cannot supersede a %s (only one of its own type, or a divorce a marriage)", rule.ErrInvalidBody, b.Type, old.Type)
		case old.Status() != StatusValid:
			return violation("credential %s supersedes %s, which is %s", b.CredentialID, old.ID, old.Status())
		}
		old.SupersededBy = &Supersession{CredentialID: b.CredentialID, Time: a.at, LeafHash: a.leaf}
		if err := a.t.put(CredentialKey(old.ID), old); err != nil {
			return err
		}
	}
	var held []string
	if _, err := a.t.get(ctx, HoldingKey(b.Subject, b.Type), &held); err != nil {
		return err
	}
	if len(held) >= MaxHeld {
		return violation("subject %s holds %d credentials of type %s, the most it may", b.Subject, len(held), b.Type)
	}
	stats, err := a.t.agency(ctx, a.e.Agency)
	if err != nil {
		return err
	}
	stats.Issued[b.Type]++
	subj.Credentials++
	c := Credential{ID: b.CredentialID, Type: b.Type, Issuer: a.e.Agency, Subject: b.Subject, Issued: b.Issued, Expires: b.Expires,
		Attributes: b.Attributes, Supersedes: b.Supersedes, Statement: a.e.Type, Event: event, Time: a.at, LeafHash: a.leaf}
	for _, w := range []struct {
		key string
		v   any
	}{
		{CredentialKey(c.ID), c},
		{SubjectKey(subj.ID), subj},
		{HoldingKey(b.Subject, b.Type), append(held, c.ID)},
		{AgencyKey(a.e.Agency), stats},
	} {
		if err := a.t.put(w.key, w.v); err != nil {
			return err
		}
	}
	return nil
}

// event issues an event's credentials, all or none.
func (a *applier) event(ctx context.Context, id string, cs []IssueBody) error {
	if ok, err := a.t.has(ctx, EventKey(id)); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: event %s", rule.ErrAlreadyExists, id)
	}
	ev := Event{ID: id, Type: a.e.Type, Agency: a.e.Agency, Time: a.at, LeafHash: a.leaf}
	for _, c := range cs {
		if err := a.issue(ctx, c, id); err != nil {
			return fmt.Errorf("event %s: %w", id, err)
		}
		ev.Credentials = append(ev.Credentials, c.CredentialID)
	}
	return a.t.put(EventKey(id), ev)
}

func (a *applier) revoke(ctx context.Context, b RevokeBody) error {
	c, err := a.credential(ctx, b.CredentialID)
	if err != nil {
		return err
	}
	if c.Issuer != a.e.Agency {
		return fmt.Errorf("%w: credential %s was issued by %s; only its issuer revokes it", rule.ErrNotAuthorized, c.ID, c.Issuer)
	}
	if c.Revoked != nil {
		return violation("credential %s was revoked at %s", c.ID, c.Revoked.Time)
	}
	stats, err := a.t.agency(ctx, a.e.Agency)
	if err != nil {
		return err
	}
	stats.Revoked[c.Type]++
	c.Revoked = &Revocation{Reason: b.Reason, Time: a.at, LeafHash: a.leaf}
	if err := a.t.put(CredentialKey(c.ID), c); err != nil {
		return err
	}
	return a.t.put(AgencyKey(a.e.Agency), stats)
}

func (a *applier) grant(ctx context.Context, b GrantBody) error {
	if ok, err := a.t.has(ctx, GrantKey(b.GrantID)); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: grant %s", rule.ErrAlreadyExists, b.GrantID)
	}
	id := SubjectID(b.Subject)
	subj, err := a.subject(ctx, id)
	if err != nil {
		return err
	}
	if subj.Key != b.Subject {
		return violation("subject %s is registered with another key", id)
	}
	if day := a.e.Time.UTC().Format(time.DateOnly); b.Until < day {
		return violation("grant %s ends on %s, before it is made (%s)", b.GrantID, b.Until, day)
	}
	g := Grant{ID: b.GrantID, Subject: id, Key: b.Subject, Agency: b.Agency, CredentialType: b.CredentialType,
		Purpose: b.Purpose, Until: b.Until, Time: a.at, LeafHash: a.leaf}
	if err := a.t.put(GrantKey(g.ID), g); err != nil {
		return err
	}
	if b.Agency == Public {
		return a.t.put(PublicKey(id, b.CredentialType), PublicGrant{GrantID: g.ID, Until: g.Until})
	}
	return nil
}

func (a *applier) withdraw(ctx context.Context, b WithdrawBody) error {
	var g Grant
	if ok, err := a.t.get(ctx, GrantKey(b.GrantID), &g); err != nil {
		return err
	} else if !ok {
		return violation("there is no grant %s", b.GrantID)
	}
	if g.Key != b.Subject {
		return fmt.Errorf("%w: grant %s is subject %s's; only they withdraw it", rule.ErrNotAuthorized, g.ID, g.Subject)
	}
	if g.Withdrawn != nil {
		return violation("grant %s was withdrawn at %s", g.ID, g.Withdrawn.Time)
	}
	g.Withdrawn = &EntryRef{Time: a.at, LeafHash: a.leaf}
	if g.Agency == Public {
		var p PublicGrant
		if ok, err := a.t.get(ctx, PublicKey(g.Subject, g.CredentialType), &p); err != nil {
			return err
		} else if ok && p.GrantID == g.ID {
			p.Withdrawn = true
			if err := a.t.put(PublicKey(g.Subject, g.CredentialType), p); err != nil {
				return err
			}
		}
	}
	return a.t.put(GrantKey(g.ID), g)
}

// liveGrant checks that g lets agency see credential c for purpose at at.
func liveGrant(g Grant, c Credential, agency, purpose string, at time.Time) error {
	made, err := time.Parse(time.RFC3339, g.Time)
	if err != nil {
		return fmt.Errorf("corrupt state: grant %s: %v", g.ID, err)
	}
	end, err := endOfDay(g.Until)
	if err != nil {
		return fmt.Errorf("corrupt state: grant %s: %v", g.ID, err)
	}
	switch {
	case g.Withdrawn != nil:
		return violation("grant %s was withdrawn at %s", g.ID, g.Withdrawn.Time)
	case at.Before(made):
		return violation("grant %s is made at %s, after the access", g.ID, g.Time)
	case !at.Before(end):
		return violation("grant %s ended at the end of %s", g.ID, g.Until)
	case g.Agency != Public && g.Agency != agency:
		return violation("grant %s is for agency %s, not %s", g.ID, g.Agency, agency)
	case g.Purpose != purpose:
		return violation("grant %s is for the purpose %s, not %s", g.ID, g.Purpose, purpose)
	case g.CredentialType != c.Type:
		return violation("grant %s is for a %s, and credential %s is a %s", g.ID, g.CredentialType, c.ID, c.Type)
	case g.Subject != c.Subject:
		return violation("grant %s is subject %s's, and credential %s is another's", g.ID, g.Subject, c.ID)
	case c.Status() != StatusValid:
		return violation("credential %s is %s", c.ID, c.Status())
	}
	return nil
}

func (a *applier) access(ctx context.Context, b AccessBody) error {
	if ok, err := a.t.has(ctx, AccessKey(b.AccessID)); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: access %s", rule.ErrAlreadyExists, b.AccessID)
	}
	var g Grant
	if ok, err := a.t.get(ctx, GrantKey(b.GrantID), &g); err != nil {
		return err
	} else if !ok {
		return violation("there is no grant %s", b.GrantID)
	}
	c, err := a.credential(ctx, b.CredentialID)
	if err != nil {
		return err
	}
	if err := liveGrant(g, c, a.e.Agency, b.Purpose, a.e.Time); err != nil {
		return err
	}
	subj, err := a.subject(ctx, g.Subject)
	if err != nil {
		return fmt.Errorf("corrupt state: grant %s: %w", g.ID, err)
	}
	stats, err := a.t.agency(ctx, a.e.Agency)
	if err != nil {
		return err
	}
	subj.Accesses++
	g.Accesses++
	stats.Accesses++
	acc := Access{ID: b.AccessID, Agency: a.e.Agency, Subject: g.Subject, GrantID: g.ID, CredentialID: c.ID,
		Purpose: b.Purpose, Time: a.at, LeafHash: a.leaf, N: subj.Accesses}
	for _, w := range []struct {
		key string
		v   any
	}{
		{AccessKey(acc.ID), acc},
		{SubjectAccessKey(subj.ID, acc.N), acc.ID},
		{SubjectKey(subj.ID), subj},
		{GrantKey(g.ID), g},
		{AgencyKey(a.e.Agency), stats},
	} {
		if err := a.t.put(w.key, w.v); err != nil {
			return err
		}
	}
	return nil
}

// workerTypes are the credentials an incident may cite.
var workerTypes = []string{TypeQualification, TypeHealthCertificate}

func (a *applier) incident(ctx context.Context, b IncidentBody) error {
	if ok, err := a.t.has(ctx, IncidentKey(b.IncidentID)); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: incident %s", rule.ErrAlreadyExists, b.IncidentID)
	}
	c, err := a.credential(ctx, b.CredentialID)
	if err != nil {
		return err
	}
	if !slices.Contains(workerTypes, c.Type) {
		return violation("credential %s is a %s; an incident cites a %v", c.ID, c.Type, workerTypes)
	}
	stats, err := a.t.agency(ctx, a.e.Agency)
	if err != nil {
		return err
	}
	stats.Incidents++
	c.Incidents++
	inc := Incident{ID: b.IncidentID, CredentialID: c.ID, Subject: c.Subject, Regulator: a.e.Agency, Summary: b.Summary,
		Time: a.at, LeafHash: a.leaf, N: c.Incidents}
	for _, w := range []struct {
		key string
		v   any
	}{
		{IncidentKey(inc.ID), inc},
		{WorkerIncidentKey(c.ID, inc.N), inc.ID},
		{CredentialKey(c.ID), c},
		{AgencyKey(a.e.Agency), stats},
	} {
		if err := a.t.put(w.key, w.v); err != nil {
			return err
		}
	}
	return nil
}
