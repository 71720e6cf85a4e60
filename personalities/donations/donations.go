// Package donations holds the rules of the "donations" log: every gift to
// a charity, money or goods, traced from the donor to the person who
// received it (SEED.md, charity supervision). A charity records what it
// receives, each hand-over names the donations it draws from, another
// charity must accept what it is handed before it counts as theirs, and a
// final recipient confirms what they received with a code only they know.
// Out never exceeds in, per donation, per holder and per campaign.
//
// # Roles
//
//	charity  donations.campaign.open, donations.receive,
//	         donations.handover, donations.accept
//
// A final recipient's feedback (donations.feedback) is [rule.SelfSigned]:
// signed by a key of the recipient's own, named "recipient", that the body
// carries; the code in it is what proves it theirs.
//
// # Units
//
// A donation is money or goods. Money: "kind":"money", a "currency" (three
// capital letters, ISO 4217) and an "amount" in minor units (fen). Goods:
// "kind":"goods", an "item" and its "unit" (each 1 to 32 of [a-z0-9-]) and
// an "amount", the quantity in that unit. Amounts are integers from 1 to
// 2^53. A hand-over names its unit the same way, and draws only on
// donations of that very unit ([rule.ErrInvalidBody] otherwise): goods are
// never handed over as money, nor kilograms as tonnes.
//
// # Statement types
//
// donations.campaign.open ([CampaignBody]): campaign_id (ID), title (text,
// at most 128 characters), admin_share_max_percent (0 to 100: the most of
// the money received that may go to administration), hand_on_by (a date:
// what the campaign received must be handed on by the end of that day, UTC;
// no donation is received after it), feedback_within_days (1 to 365: the
// time a final recipient has to confirm). The signing charity runs it.
//
// donations.receive ([ReceiveBody]): donation_id (ID, unused), campaign_id
// (a campaign of the signer, open), the unit and amount, and donor: the
// donor's salted commitment (64 hex digits; see `govlog commit`), or
// absent for an anonymous gift. The donor keeps the salt and the entry's
// bundle: with both they can show the donation was theirs, and nobody can
// tell from the log who gave.
//
// donations.handover ([HandoverBody]): handover_id (ID, unused),
// campaign_id, the unit, draws (1 to 64 of {"donation_id", "amount"}, each
// donation once, all of the campaign) and exactly one destination:
//
//	to_agency       another registered agency; it must accept
//	                (donations.accept) before what it is handed counts as
//	                its own
//	to_recipient    a final recipient's commitment, with code_hash: the
//	                SHA-256 (hex) of a code the recipient chose and keeps
//	administration  true: money kept for the charity's running costs,
//	                within the campaign's administration share
//
// The signer must hold what it draws: a donation it never held is
// [rule.ErrNotAuthorized]; more than it holds is [rule.ErrRuleViolation].
//
// donations.accept ([AcceptBody]): handover_id, by the agency it was
// handed to, once.
//
// donations.feedback ([FeedbackBody]): handover_id, code (whose SHA-256 is
// the hand-over's code_hash), received ("in-full" or "short"; with "short",
// amount: what arrived), signer (the recipient's verifier key). Once per
// hand-over; a wrong code is [rule.ErrRuleViolation].
//
// # State
//
//	campaign/<id>              [Campaign], with its totals per unit
//	donation/<id>              [Donation], with what each holder holds
//	donation-out/<id>/<n>      the n-th hand-over drawing on it (from 1)
//	handover/<id>              [Handover]
//	recipient/<commitment>/<n> the n-th hand-over to that recipient
//	feedback-due/<charity>/<handover>  when feedback is due; empty once given
//	charity/<id>               [CharityStats]
package donations

import (
	"context"
	"fmt"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/notesig"
)

const (
	// LogName is the name of the log these rules admit into.
	LogName = "donations"

	TypeCampaignOpen = "donations.campaign.open"
	TypeReceive      = "donations.receive"
	TypeHandover     = "donations.handover"
	TypeAccept       = "donations.accept"
	TypeFeedback     = "donations.feedback"

	// RoleCharity is the registry role a charity's key needs.
	RoleCharity = "charity"

	// RecipientKeyName is the name of a final recipient's key.
	RecipientKeyName = "recipient"
)

// Rules implements [rule.Domain] for the donations log.
type Rules struct{}

var (
	_ rule.Domain        = (*Rules)(nil)
	_ rule.Authenticator = (*Rules)(nil)
)

// New returns the donations rules.
func New() *Rules { return &Rules{} }

// Log returns [LogName].
func (*Rules) Log() string { return LogName }

// RequiredRole returns the role of statementType.
func (*Rules) RequiredRole(statementType string) (string, error) {
	return rule.RoleOf(LogName, types, statementType)
}

// Authenticate implements [rule.Authenticator] for donations.feedback: it
// must be signed by the key its body names, and by no other.
func (*Rules) Authenticate(_ context.Context, _ rule.Reader, e rule.Entry) (string, error) {
	if e.Type != TypeFeedback {
		return "", fmt.Errorf("%w: %.64q is not a self-signed type of the %s log", rule.ErrUnknownType, e.Type, LogName)
	}
	b, err := ParseFeedbackBody(e.Body)
	if err != nil {
		return "", err
	}
	if err := notesig.Verify(b.Signer, e); err != nil {
		return "", err
	}
	return b.SignerName(), nil
}

// Apply checks e against the rules in the package doc and records its
// effects in st; it reads and checks everything before its first Put.
func (r *Rules) Apply(ctx context.Context, st rule.State, e rule.Entry) error {
	if _, err := r.RequiredRole(e.Type); err != nil {
		return err
	}
	switch e.Type {
	case TypeCampaignOpen:
		b, err := ParseCampaignBody(e.Body)
		if err != nil {
			return err
		}
		return applyCampaign(ctx, st, e, b)
	case TypeReceive:
		b, err := ParseReceiveBody(e.Body)
		if err != nil {
			return err
		}
		return applyReceive(ctx, st, e, b)
	case TypeHandover:
		b, err := ParseHandoverBody(e.Body)
		if err != nil {
			return err
		}
		return applyHandover(ctx, st, e, b)
	case TypeAccept:
		b, err := ParseAcceptBody(e.Body)
		if err != nil {
			return err
		}
		return applyAccept(ctx, st, e, b)
	default:
		b, err := ParseFeedbackBody(e.Body)
		if err != nil {
			return err
		}
		if e.Signer == "" || e.Signer != b.SignerName() {
			return fmt.Errorf("%w: the feedback was not authenticated as signed by %s", rule.ErrNotAuthorized, b.SignerName())
		}
		return applyFeedback(ctx, st, e, b)
	}
}

var _ rule.KeyReader = (*Rules)(nil)

// ReadKeys names the keys Apply reads for e that its body tells, so that a
// batch reads them in one query.
func (*Rules) ReadKeys(e rule.Entry) []string {
	switch e.Type {
	case TypeCampaignOpen:
		if b, err := ParseCampaignBody(e.Body); err == nil {
			return []string{CampaignKey(b.CampaignID), CharityKey(e.Agency)}
		}
	case TypeReceive:
		if b, err := ParseReceiveBody(e.Body); err == nil {
			return []string{DonationKey(b.DonationID), CampaignKey(b.CampaignID), CharityKey(e.Agency)}
		}
	case TypeHandover:
		if b, err := ParseHandoverBody(e.Body); err == nil {
			keys := []string{HandoverKey(b.HandoverID), CampaignKey(b.CampaignID), CharityKey(e.Agency)}
			for _, d := range b.Draws {
				keys = append(keys, DonationKey(d.DonationID))
			}
			if b.ToRecipient != "" {
				keys = append(keys, RecipientKey(b.ToRecipient, 0))
			}
			return keys
		}
	case TypeAccept:
		if b, err := ParseAcceptBody(e.Body); err == nil {
			return []string{HandoverKey(b.HandoverID)}
		}
	case TypeFeedback:
		if b, err := ParseFeedbackBody(e.Body); err == nil {
			return []string{HandoverKey(b.HandoverID)}
		}
	}
	return nil
}
