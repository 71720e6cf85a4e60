package donations

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/record"
)

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func leafHex(e rule.Entry) string { return hex.EncodeToString(e.LeafHash[:]) }

// add returns a+b, or an error if it would overflow.
func add(a, b int64, what string) (int64, error) {
	if a > math.MaxInt64-b {
		return 0, fmt.Errorf("%w: %s would overflow", rule.ErrRuleViolation, what)
	}
	return a + b, nil
}

func applyCampaign(ctx context.Context, st rule.State, e rule.Entry, b CampaignBody) error {
	if !body.ValidAgencyID(e.Agency) {
		return fmt.Errorf("%w: agency ID %.64q is not a registry ID", rule.ErrRuleViolation, e.Agency)
	}
	if _, ok, err := ReadCampaign(ctx, st, b.CampaignID); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: campaign %s", rule.ErrAlreadyExists, b.CampaignID)
	}
	if !handOnDeadline(b.HandOnBy).After(e.Time) {
		return fmt.Errorf("%w: campaign %s must be handed on by %s, which has passed", rule.ErrRuleViolation, b.CampaignID, b.HandOnBy)
	}
	stats, err := ReadCharity(ctx, st, e.Agency)
	if err != nil {
		return err
	}
	stats.Campaigns++
	c := Campaign{ID: b.CampaignID, Charity: e.Agency, Title: b.Title, AdminShareMax: b.AdminShareMax, HandOnBy: b.HandOnBy,
		FeedbackWithin: b.FeedbackWithin, Opened: stamp(e.Time), LeafHash: leafHex(e), Totals: map[string]Totals{}}
	if err := record.Put(ctx, st, CharityKey(e.Agency), stats); err != nil {
		return err
	}
	return record.Put(ctx, st, CampaignKey(c.ID), c)
}

// campaignOf reads the campaign a statement names, which must exist.
func campaignOf(ctx context.Context, st rule.Reader, id string) (Campaign, error) {
	c, ok, err := ReadCampaign(ctx, st, id)
	if err != nil {
		return c, err
	}
	if !ok {
		return c, fmt.Errorf("%w: there is no campaign %s", rule.ErrRuleViolation, id)
	}
	if c.Totals == nil {
		c.Totals = map[string]Totals{}
	}
	return c, nil
}

func applyReceive(ctx context.Context, st rule.State, e rule.Entry, b ReceiveBody) error {
	if _, ok, err := ReadDonation(ctx, st, b.DonationID); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: donation %s", rule.ErrAlreadyExists, b.DonationID)
	}
	c, err := campaignOf(ctx, st, b.CampaignID)
	if err != nil {
		return err
	}
	if c.Charity != e.Agency {
		return fmt.Errorf("%w: campaign %s is run by %s", rule.ErrNotAuthorized, c.ID, c.Charity)
	}
	if !e.Time.Before(handOnDeadline(c.HandOnBy)) {
		return fmt.Errorf("%w: campaign %s takes no donation after %s", rule.ErrRuleViolation, c.ID, c.HandOnBy)
	}
	t := c.Totals[b.Unit.Key()]
	if t.Received, err = add(t.Received, b.Amount, "the campaign's total received"); err != nil {
		return err
	}
	c.Totals[b.Unit.Key()] = t
	c.Donations++
	stats, err := ReadCharity(ctx, st, e.Agency)
	if err != nil {
		return err
	}
	stats.Donations++
	d := Donation{ID: b.DonationID, Campaign: c.ID, Charity: e.Agency, Unit: b.Unit, Amount: b.Amount, Donor: b.Donor,
		Time: stamp(e.Time), LeafHash: leafHex(e), Holders: map[string]int64{e.Agency: b.Amount}}
	if err := record.Put(ctx, st, CharityKey(e.Agency), stats); err != nil {
		return err
	}
	if err := record.Put(ctx, st, CampaignKey(c.ID), c); err != nil {
		return err
	}
	return record.Put(ctx, st, DonationKey(d.ID), d)
}

func applyHandover(ctx context.Context, st rule.State, e rule.Entry, b HandoverBody) error {
	if _, ok, err := ReadHandover(ctx, st, b.HandoverID); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: hand-over %s", rule.ErrAlreadyExists, b.HandoverID)
	}
	c, err := campaignOf(ctx, st, b.CampaignID)
	if err != nil {
		return err
	}
	if b.ToAgency == e.Agency {
		return fmt.Errorf("%w: %s hands over to itself", rule.ErrRuleViolation, e.Agency)
	}
	total := b.Total()
	donations := make([]Donation, len(b.Draws))
	for i, dr := range b.Draws {
		d, ok, err := ReadDonation(ctx, st, dr.DonationID)
		if err != nil {
			return err
		}
		switch {
		case !ok:
			return fmt.Errorf("%w: there is no donation %s", rule.ErrRuleViolation, dr.DonationID)
		case d.Campaign != c.ID:
			return fmt.Errorf("%w: donation %s is for campaign %s, not %s", rule.ErrRuleViolation, d.ID, d.Campaign, c.ID)
		case d.Unit != b.Unit:
			return fmt.Errorf("%w: donation %s is counted in %s, not %s", rule.ErrInvalidBody, d.ID, d.Unit, b.Unit)
		case !heldBy(d, e.Agency):
			return fmt.Errorf("%w: %s never held any of donation %s", rule.ErrNotAuthorized, e.Agency, d.ID)
		case d.Holders[e.Agency] < dr.Amount:
			return fmt.Errorf("%w: %s holds %d of donation %s, not %d", rule.ErrRuleViolation, e.Agency, d.Holders[e.Agency], d.ID, dr.Amount)
		}
		donations[i] = d
	}
	t := c.Totals[b.Unit.Key()]
	switch {
	case b.Administration:
		if t.Administration, err = add(t.Administration, total, "administration"); err != nil {
			return err
		}
		// administration × 100 ≤ share × received, exactly.
		lhs := new(big.Int).Mul(big.NewInt(t.Administration), big.NewInt(100))
		rhs := new(big.Int).Mul(big.NewInt(c.AdminShareMax), big.NewInt(t.Received))
		if lhs.Cmp(rhs) > 0 {
			return fmt.Errorf("%w: campaign %s may spend at most %d%% of the %s it received on administration", rule.ErrRuleViolation, c.ID, c.AdminShareMax, b.Unit)
		}
	case b.ToRecipient != "":
		t.ToRecipients += total // within received: no overflow
	default:
		t.InTransit += total
	}
	c.Totals[b.Unit.Key()] = t
	h := Handover{ID: b.HandoverID, Campaign: c.ID, Charity: e.Agency, Unit: b.Unit, Draws: b.Draws, Amount: total,
		ToAgency: b.ToAgency, ToRecipient: b.ToRecipient, CodeHash: b.CodeHash, Administration: b.Administration,
		Time: stamp(e.Time), LeafHash: leafHex(e)}
	stats, err := ReadCharity(ctx, st, e.Agency)
	if err != nil {
		return err
	}
	stats.Handovers++
	var recipients int64
	if b.ToRecipient != "" {
		stats.ToRecipients++
		h.FeedbackDue = stamp(e.Time.Add(time.Duration(c.FeedbackWithin) * 24 * time.Hour))
		if recipients, err = readCount(ctx, st, RecipientKey(b.ToRecipient, 0)); err != nil {
			return err
		}
	}
	// Every check done: write.
	for i, d := range donations {
		dr := b.Draws[i]
		// A holder stays listed at 0: it held the donation, and a draw on
		// what it no longer has is over what remains, not someone else's.
		d.Holders[e.Agency] -= dr.Amount
		if b.ToRecipient != "" {
			d.ToRecipients += dr.Amount
		}
		d.Handovers++
		if err := st.Put(ctx, DonationOutKey(d.ID, d.Handovers), []byte(h.ID)); err != nil {
			return err
		}
		if err := record.Put(ctx, st, DonationKey(d.ID), d); err != nil {
			return err
		}
	}
	if b.ToRecipient != "" {
		recipients++
		if err := st.Put(ctx, RecipientKey(b.ToRecipient, recipients), []byte(h.ID)); err != nil {
			return err
		}
		if err := st.Put(ctx, RecipientKey(b.ToRecipient, 0), []byte(strconv.FormatInt(recipients, 10))); err != nil {
			return err
		}
		if err := st.Put(ctx, FeedbackDueKey(e.Agency, h.ID), []byte(h.FeedbackDue)); err != nil {
			return err
		}
	}
	if err := record.Put(ctx, st, CharityKey(e.Agency), stats); err != nil {
		return err
	}
	if err := record.Put(ctx, st, CampaignKey(c.ID), c); err != nil {
		return err
	}
	return record.Put(ctx, st, HandoverKey(h.ID), h)
}

func applyAccept(ctx context.Context, st rule.State, e rule.Entry, b AcceptBody) error {
	h, ok, err := ReadHandover(ctx, st, b.HandoverID)
	if err != nil {
		return err
	}
	switch {
	case !ok:
		return fmt.Errorf("%w: there is no hand-over %s", rule.ErrRuleViolation, b.HandoverID)
	case h.ToAgency == "":
		return fmt.Errorf("%w: hand-over %s is not to an agency", rule.ErrRuleViolation, h.ID)
	case h.ToAgency != e.Agency:
		return fmt.Errorf("%w: hand-over %s is to %s", rule.ErrNotAuthorized, h.ID, h.ToAgency)
	case h.Accepted != "":
		return fmt.Errorf("%w: hand-over %s was accepted already", rule.ErrRuleViolation, h.ID)
	}
	c, err := campaignOf(ctx, st, h.Campaign)
	if err != nil {
		return err
	}
	t := c.Totals[h.Unit.Key()]
	t.InTransit -= h.Amount
	c.Totals[h.Unit.Key()] = t
	donations := make([]Donation, len(h.Draws))
	for i, dr := range h.Draws {
		d, ok, err := ReadDonation(ctx, st, dr.DonationID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("corrupt state: donation %s of hand-over %s is missing", dr.DonationID, h.ID)
		}
		donations[i] = d
	}
	for i, d := range donations {
		if d.Holders == nil {
			d.Holders = map[string]int64{}
		}
		d.Holders[e.Agency] += h.Draws[i].Amount
		if err := record.Put(ctx, st, DonationKey(d.ID), d); err != nil {
			return err
		}
	}
	h.Accepted = leafHex(e)
	if err := record.Put(ctx, st, CampaignKey(c.ID), c); err != nil {
		return err
	}
	return record.Put(ctx, st, HandoverKey(h.ID), h)
}

func applyFeedback(ctx context.Context, st rule.State, e rule.Entry, b FeedbackBody) error {
	h, ok, err := ReadHandover(ctx, st, b.HandoverID)
	if err != nil {
		return err
	}
	switch {
	case !ok:
		return fmt.Errorf("%w: there is no hand-over %s", rule.ErrRuleViolation, b.HandoverID)
	case h.ToRecipient == "":
		return fmt.Errorf("%w: hand-over %s is not to a final recipient", rule.ErrRuleViolation, h.ID)
	case CodeHash(b.Code) != h.CodeHash:
		return fmt.Errorf("%w: that is not the code of hand-over %s", rule.ErrRuleViolation, h.ID)
	case h.Feedback != nil:
		return fmt.Errorf("%w: the recipient of hand-over %s has confirmed it already", rule.ErrRuleViolation, h.ID)
	case b.Received == Short && b.Amount >= h.Amount:
		return fmt.Errorf("%w: a shortfall is less than the %d handed over, not %d", rule.ErrRuleViolation, h.Amount, b.Amount)
	}
	stats, err := ReadCharity(ctx, st, h.Charity)
	if err != nil {
		return err
	}
	amount := h.Amount
	if b.Received == Short {
		amount = b.Amount
		stats.Short++
	}
	stats.Confirmed++
	h.Feedback = &Feedback{Received: b.Received, Amount: amount, Signer: e.Signer, Time: stamp(e.Time), LeafHash: leafHex(e)}
	if err := st.Put(ctx, FeedbackDueKey(h.Charity, h.ID), []byte{}); err != nil {
		return err
	}
	if err := record.Put(ctx, st, CharityKey(h.Charity), stats); err != nil {
		return err
	}
	return record.Put(ctx, st, HandoverKey(h.ID), h)
}

// heldBy reports whether agency holds, or held, some of d.
func heldBy(d Donation, agency string) bool {
	_, ok := d.Holders[agency]
	return ok
}
