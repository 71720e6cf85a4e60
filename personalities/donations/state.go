package donations

import (
	"context"
	"fmt"
	"strconv"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/record"
)

// Totals are a campaign's figures in one unit. A hand-over to another
// agency moves what it draws to that agency, still within the campaign:
// only what reaches final recipients or administration leaves it.
type Totals struct {
	Received       int64 `json:"received"`
	ToRecipients   int64 `json:"to_recipients"`
	Administration int64 `json:"administration"`
	// InTransit was handed to an agency that has not accepted it yet.
	InTransit int64 `json:"in_transit"`
}

// HandedOn is what left the campaign: to final recipients and to
// administration.
func (t Totals) HandedOn() int64 { return t.ToRecipients + t.Administration }

// Held is what the campaign's charities hold, or have in transit between
// them: received, less handed on.
func (t Totals) Held() int64 { return t.Received - t.HandedOn() }

// Campaign is a campaign, the JSON value of its [CampaignKey].
type Campaign struct {
	ID             string `json:"campaign_id"`
	Charity        string `json:"charity"`
	Title          string `json:"title"`
	AdminShareMax  int64  `json:"admin_share_max_percent"`
	HandOnBy       string `json:"hand_on_by"`
	FeedbackWithin int64  `json:"feedback_within_days"`
	Opened         string `json:"opened"`
	LeafHash       string `json:"leaf_hash"`
	// Totals by unit key ([Unit.Key]).
	Totals map[string]Totals `json:"totals"`
	// Donations counts the donations received.
	Donations int64 `json:"donations"`
}

// Donation is a donation, the JSON value of its [DonationKey].
type Donation struct {
	ID       string `json:"donation_id"`
	Campaign string `json:"campaign_id"`
	Charity  string `json:"charity"`
	Unit
	Amount   int64  `json:"amount"`
	Donor    string `json:"donor,omitempty"`
	Time     string `json:"time"`
	LeafHash string `json:"leaf_hash"`
	// Holders are what each agency holds of it now.
	Holders map[string]int64 `json:"holders"`
	// Handovers counts the hand-overs that drew on it, listed at
	// [DonationOutKey].
	Handovers int64 `json:"handovers"`
	// ToRecipients is how much of it reached final recipients.
	ToRecipients int64 `json:"to_recipients"`
}

// Handover is a hand-over, the JSON value of its [HandoverKey].
type Handover struct {
	ID       string `json:"handover_id"`
	Campaign string `json:"campaign_id"`
	Charity  string `json:"charity"`
	Unit
	Draws          []Draw `json:"draws"`
	Amount         int64  `json:"amount"`
	ToAgency       string `json:"to_agency,omitempty"`
	ToRecipient    string `json:"to_recipient,omitempty"`
	CodeHash       string `json:"code_hash,omitempty"`
	Administration bool   `json:"administration,omitempty"`
	Time           string `json:"time"`
	LeafHash       string `json:"leaf_hash"`
	// Accepted is the leaf hash of the donations.accept, for a hand-over
	// to an agency.
	Accepted string `json:"accepted,omitempty"`
	// Feedback is the recipient's, for a hand-over to one.
	Feedback *Feedback `json:"feedback,omitempty"`
	// FeedbackDue is when the recipient's feedback is due.
	FeedbackDue string `json:"feedback_due,omitempty"`
}

// Feedback is a final recipient's confirmation.
type Feedback struct {
	Received string `json:"received"`
	Amount   int64  `json:"amount"`
	Signer   string `json:"signer"`
	Time     string `json:"time"`
	LeafHash string `json:"leaf_hash"`
}

// CharityStats are a charity's counters, at [CharityKey].
type CharityStats struct {
	Campaigns int64 `json:"campaigns"`
	Donations int64 `json:"donations"`
	Handovers int64 `json:"handovers"`
	// ToRecipients counts its hand-overs to final recipients, and
	// Confirmed those the recipients confirmed.
	ToRecipients int64 `json:"to_recipients"`
	Confirmed    int64 `json:"confirmed"`
	Short        int64 `json:"short"`
}

// State keys.
func CampaignKey(id string) string { return "campaign/" + id }
func DonationKey(id string) string { return "donation/" + id }
func HandoverKey(id string) string { return "handover/" + id }
func CharityKey(id string) string  { return "charity/" + id }

// DonationOutKey is the key of the n-th hand-over drawing on a donation.
func DonationOutKey(id string, n int64) string {
	return "donation-out/" + id + "/" + strconv.FormatInt(n, 10)
}

// RecipientKey is the key of the n-th hand-over to a recipient; n = 0 is
// the count.
func RecipientKey(commitment string, n int64) string {
	return "recipient/" + commitment + "/" + strconv.FormatInt(n, 10)
}

// FeedbackDueKey holds when a hand-over's feedback is due, empty once
// given.
func FeedbackDueKey(charity, handover string) string {
	return "feedback-due/" + charity + "/" + handover
}

// ReadCampaign reads a campaign.
func ReadCampaign(ctx context.Context, st rule.Reader, id string) (Campaign, bool, error) {
	var c Campaign
	if !body.ID.Valid(id) {
		return c, false, nil
	}
	ok, err := record.Get(ctx, st, CampaignKey(id), &c)
	return c, ok, err
}

// ReadDonation reads a donation.
func ReadDonation(ctx context.Context, st rule.Reader, id string) (Donation, bool, error) {
	var d Donation
	if !body.ID.Valid(id) {
		return d, false, nil
	}
	ok, err := record.Get(ctx, st, DonationKey(id), &d)
	return d, ok, err
}

// ReadHandover reads a hand-over.
func ReadHandover(ctx context.Context, st rule.Reader, id string) (Handover, bool, error) {
	var h Handover
	if !body.ID.Valid(id) {
		return h, false, nil
	}
	ok, err := record.Get(ctx, st, HandoverKey(id), &h)
	return h, ok, err
}

// ReadCharity reads a charity's counters.
func ReadCharity(ctx context.Context, st rule.Reader, id string) (CharityStats, error) {
	var s CharityStats
	_, err := record.Get(ctx, st, CharityKey(id), &s)
	return s, err
}

// readCount reads a counter key (0 if absent).
func readCount(ctx context.Context, st rule.Reader, key string) (int64, error) {
	v, ok, err := st.Get(ctx, key)
	if err != nil || !ok {
		return 0, err
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("corrupt state at %s: %v", key, err)
	}
	return n, nil
}
