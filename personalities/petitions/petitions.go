// Package petitions holds the rules of the "petitions" log: an agency opens
// a petition until a closing date, and citizens sign it, each with a key of
// their own. It is the example domain of the plug-in contract ([rule]): it
// uses every part of it (an agency's type and a self-signed one with its
// Authenticator, a query with its client, a dashboard summary and a watch
// kind), and it is registered only in tests.
//
// # Statement types
//
// Bodies are JSON objects whose members are all strings; every field listed
// is required, and no other field is allowed.
//
// petition.open ([OpenBody]), signed by an agency with the registry role
// [RoleOffice]:
//
//	petition_id  1..64 of [A-Za-z0-9._:-], unique in the log
//	title        text, at most 256 characters, no control characters
//	closes       an RFC 3339 date (the petition closes at the end of that
//	             day, UTC) or date-time (it closes at that instant)
//
// petition.sign ([SignBody]), [rule.SelfSigned]: signed by the citizen,
// with the key the body names and no other (see [notesig]):
//
//	petition_id  the petition signed
//	signer       the citizen's signed-note verifier key, named "citizen"
//	             ([SignerKeyName]), spelled as golang.org/x/mod/sumdb/note
//	             spells it
//
// A citizen's key is all the log knows of them: a signature says that the
// holder of that key signed, not who they are. The signer of a
// petition.sign is named "citizen+<key hash>" ([SignBody.SignerName]).
//
// # Rules
//
//   - A petition_id is used once (ErrAlreadyExists); the closing time must
//     be after the time of the petition.open (ErrRuleViolation).
//   - A signature names an open petition: one that exists, opened at or
//     before the signature's time and closing after it (ErrRuleViolation).
//   - One signature per key per petition: a second one by the same key is
//     [rule.ErrAlreadyExists], checked before the petition's times.
//
// Apply reads everything it needs and checks every rule before its first
// Put, so a refused statement leaves the state untouched.
//
// # State
//
//	petition/<id>           [Record]: the petition and its signature count
//	signature/<id>/<n>      [SignatureRecord]: its n-th signature, from 1
//	signed/<id>/<key>       n, for the key whose verifier key has SHA-256
//	                        <key> (hex): one signature per key
//
// Petition IDs never contain "/", so no key aliases another.
//
// # Queries
//
// "petition" (argument "id") answers an [Answer]: the petition's record and
// its first [MaxCitedSignatures] signatures, citing the entry that opened it
// and each signature's entry.
package petitions

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/notesig"
	"github.com/govlog/govlog/personalities/rule/record"
)

const (
	// LogName is the name of the log these rules admit into.
	LogName = "petitions"

	// TypeOpen opens a petition.
	TypeOpen = "petition.open"
	// TypeSign is a citizen's signature of a petition.
	TypeSign = "petition.sign"

	// RoleOffice is the registry role an agency's key needs to open a
	// petition.
	RoleOffice = "petition-office"

	// SignerKeyName is the name of every citizen's key.
	SignerKeyName = "citizen"
)

// Rules implements [rule.Domain] for the petitions log.
type Rules struct {
	// Now is the clock by which the dashboard summary tells open petitions
	// from closed ones; nil means time.Now. The rules themselves judge by
	// each statement's own time only.
	Now func() time.Time
}

var (
	_ rule.Domain        = (*Rules)(nil)
	_ rule.Authenticator = (*Rules)(nil)
)

// New returns the petitions rules.
func New() *Rules { return &Rules{} }

// Log returns [LogName].
func (*Rules) Log() string { return LogName }

// Authenticate implements [rule.Authenticator] for petition.sign: e must be
// signed by the key its body names, and by no other, and the signer is
// named after that key.
func (*Rules) Authenticate(_ context.Context, _ rule.Reader, e rule.Entry) (string, error) {
	if e.Type != TypeSign {
		return "", fmt.Errorf("%w: %.64q is not a self-signed type of the %s log", rule.ErrUnknownType, e.Type, LogName)
	}
	b, err := ParseSignBody(e.Body)
	if err != nil {
		return "", err
	}
	if err := notesig.Verify(b.Signer, e); err != nil {
		return "", err
	}
	return b.SignerName(), nil
}

// Apply checks e against the rules in the package doc and records its
// effect in st. A refused statement gets an error wrapping one of the rule
// sentinels, and st is not written. Any other error comes from st.
func (r *Rules) Apply(ctx context.Context, st rule.State, e rule.Entry) error {
	if _, err := r.RequiredRole(e.Type); err != nil {
		return err
	}
	leaf := hex.EncodeToString(e.LeafHash[:])
	if e.Type == TypeOpen {
		b, err := ParseOpenBody(e.Body)
		if err != nil {
			return err
		}
		return applyOpen(ctx, st, e.Agency, e.Time, leaf, b)
	}
	b, err := ParseSignBody(e.Body)
	if err != nil {
		return err
	}
	// Authenticate named the signer after the key that signed.
	if e.Signer == "" || e.Signer != b.SignerName() {
		return fmt.Errorf("%w: the statement was not authenticated as signed by %s", rule.ErrNotAuthorized, b.SignerName())
	}
	return applySign(ctx, st, e.Signer, e.Time, leaf, b)
}

func applyOpen(ctx context.Context, st rule.State, agency string, at time.Time, leaf string, b OpenBody) error {
	if !body.ValidAgencyID(agency) {
		return fmt.Errorf("%w: agency ID %.64q is not a registry ID (%s)", rule.ErrRuleViolation, agency, body.AgencyIDPattern)
	}
	closes, _ := closingTime(b.Closes) // checked by ParseOpenBody
	if !closes.After(at) {
		return fmt.Errorf("%w: petition %s closes at %s, not after it opens (%s)", rule.ErrRuleViolation, b.PetitionID, closes.Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	if _, ok, err := Petition(ctx, st, b.PetitionID); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: petition %s", rule.ErrAlreadyExists, b.PetitionID)
	}
	return record.Put(ctx, st, PetitionKey(b.PetitionID), Record{
		Agency:   agency,
		Title:    b.Title,
		Closes:   b.Closes,
		Opened:   at.UTC().Format(time.RFC3339),
		LeafHash: leaf,
	})
}

func applySign(ctx context.Context, st rule.State, signer string, at time.Time, leaf string, b SignBody) error {
	rec, ok, err := Petition(ctx, st, b.PetitionID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: there is no petition %s", rule.ErrRuleViolation, b.PetitionID)
	}
	signedKey := SignedKey(b.PetitionID, b.Signer)
	if _, ok, err := st.Get(ctx, signedKey); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: %s has signed petition %s", rule.ErrAlreadyExists, signer, b.PetitionID)
	}
	opened, closes, err := rec.times()
	if err != nil {
		return fmt.Errorf("corrupt state: petition %s: %w", b.PetitionID, err)
	}
	if at.Before(opened) {
		return fmt.Errorf("%w: petition %s opens at %s", rule.ErrRuleViolation, b.PetitionID, rec.Opened)
	}
	if !at.Before(closes) {
		return fmt.Errorf("%w: petition %s closed at %s", rule.ErrRuleViolation, b.PetitionID, closes.Format(time.RFC3339))
	}
	rec.Signatures++
	sig := SignatureRecord{N: rec.Signatures, Signer: signer, Time: at.UTC().Format(time.RFC3339), LeafHash: leaf}
	if err := record.Put(ctx, st, signedKey, sig.N); err != nil {
		return err
	}
	if err := record.Put(ctx, st, SignatureKey(b.PetitionID, sig.N), sig); err != nil {
		return err
	}
	return record.Put(ctx, st, PetitionKey(b.PetitionID), rec)
}
