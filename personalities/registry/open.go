package registry

import (
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
)

// Opened is a signed statement opened for its log's rules.
type Opened struct {
	// Entry has everything but Agency and Signer, which rule.Admit sets.
	Entry rule.Entry
	// Sigs are the signatures by registry keys, verified; none for a
	// statement of a rule.SelfSigned type, whose lines are in
	// Entry.Signatures for the domain to verify.
	Sigs []note.Signature
}

// Open opens signed, a statement for the log origin whose rules are d: the
// checks of [govlog.ParseStatement] with the registry's keys for a type an
// agency signs, or those of [govlog.ReadStatement] for a type d
// authenticates itself ([rule.SelfSigned]), whose signature lines then go
// to d unverified. The admission server and the monitor both open entries
// with it, so they agree on who must have signed what.
func (r *Registry) Open(signed []byte, origin string, d rule.Domain) (Opened, error) {
	st, sigs, err := govlog.ParseStatement(signed, origin, r.verifiers)
	if err != nil && !errors.Is(err, govlog.ErrUnknownSigner) {
		return Opened{}, err
	}
	if err == nil && !selfSigned(d, st.Type) {
		return Opened{Entry: entryOf(st, signed), Sigs: sigs}, nil
	}
	// No registry key signed, or a registry key signed a self-signed type:
	// every line goes to the domain.
	st, text, lines, rerr := govlog.ReadStatement(signed, origin)
	if rerr != nil {
		return Opened{}, rerr
	}
	if !selfSigned(d, st.Type) {
		return Opened{}, err // signed by no registry key, and an agency must sign
	}
	e := entryOf(st, signed)
	e.Text = text
	for _, l := range lines {
		raw, derr := base64.StdEncoding.DecodeString(l.Base64)
		if derr != nil || len(raw) < 5 { // note.Open checked both
			return Opened{}, fmt.Errorf("%w: bad signature line by %s", govlog.ErrMalformedStatement, l.Name)
		}
		e.Signatures = append(e.Signatures, rule.Signature{Name: l.Name, KeyHash: l.Hash, Sig: raw[4:]})
	}
	return Opened{Entry: e}, nil
}

func selfSigned(d rule.Domain, typ string) bool {
	role, err := d.RequiredRole(typ)
	return err == nil && role == rule.SelfSigned
}

func entryOf(st *govlog.Statement, signed []byte) rule.Entry {
	return rule.Entry{Type: st.Type, Time: st.Time, Body: st.Body, LeafHash: govlog.LeafHash(signed)}
}

// Authorizer returns the rule.Authorize of a replay: o's signatures at the
// statement's own time, with the registry as it stood after n entries
// (see [Registry.AuthorizeAt]).
func (r *Registry) Authorizer(o Opened, n uint64) rule.Authorize {
	return func(role string) (rule.Signers, error) { return r.AuthorizeAt(n, o.Sigs, role, o.Entry.Time) }
}

// AgencyOf returns the agency the registry, as it stands now, names for an
// entry of the domain d signed with sigs (as read, or as verified): ""
// for a type d authenticates itself; ok is false for an unknown type or
// signatures that authorize no agency. It is for crediting and looking up
// an entry (search, state read ahead), not for admitting it.
func (r *Registry) AgencyOf(d rule.Domain, e rule.Entry, sigs []note.Signature) (agency string, ok bool) {
	role, err := d.RequiredRole(e.Type)
	if err != nil {
		return "", false
	}
	if role == rule.SelfSigned {
		return "", true
	}
	agency, err = r.Authorize(sigs, role, e.Time)
	return agency, err == nil
}

// AdmissionAuthorizer returns the rule.Authorize of an admission at now
// (see [Registry.AuthorizeAdmission]).
func (r *Registry) AdmissionAuthorizer(o Opened, now time.Time) rule.Authorize {
	return func(role string) (rule.Signers, error) { return r.AuthorizeAdmission(o.Sigs, role, o.Entry.Time, now) }
}
