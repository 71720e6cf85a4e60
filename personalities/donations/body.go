package donations

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/notesig"
)

// Limits of the bodies.
const (
	maxTitleLen = 128
	maxDraws    = 64
	maxDays     = 365
)

// Unit is what an amount counts: money in minor units of a currency, or
// goods in a unit of an item.
type Unit struct {
	Kind     string `json:"kind"`
	Currency string `json:"currency,omitempty"`
	Item     string `json:"item,omitempty"`
	Unit     string `json:"unit,omitempty"`
}

// Unit kinds.
const (
	Money = "money"
	Goods = "goods"
)

// Key names the unit in state and answers: "money:CNY", "goods:rice/kg".
func (u Unit) Key() string {
	if u.Kind == Money {
		return "money:" + u.Currency
	}
	return "goods:" + u.Item + "/" + u.Unit
}

func (u Unit) String() string {
	if u.Kind == Money {
		return u.Currency + " (minor units)"
	}
	return u.Unit + " of " + u.Item
}

var (
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	nameRE     = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
)

// unitFields are the optional members a body may spell its unit with.
var unitFields = []string{"currency", "item", "unit"}

func parseUnit(o body.Object) (Unit, error) {
	var u Unit
	var err error
	if u.Kind, err = o.Str("kind"); err != nil {
		return u, err
	}
	switch u.Kind {
	case Money:
		if o.Has("item") || o.Has("unit") {
			return u, body.Errorf("money has a currency, not an item or a unit")
		}
		if u.Currency, err = o.Str("currency"); err != nil {
			return u, err
		}
		if !currencyRE.MatchString(u.Currency) {
			return u, body.Errorf("field %q must be three capital letters (ISO 4217), not %.16q", "currency", u.Currency)
		}
	case Goods:
		if o.Has("currency") {
			return u, body.Errorf("goods have an item and a unit, not a currency")
		}
		if u.Item, err = o.Str("item"); err != nil {
			return u, err
		}
		if u.Unit, err = o.Str("unit"); err != nil {
			return u, err
		}
		if !nameRE.MatchString(u.Item) || !nameRE.MatchString(u.Unit) {
			return u, body.Errorf("fields %q and %q must each be 1 to 32 of [a-z0-9-]", "item", "unit")
		}
	default:
		return u, body.Errorf("field %q must be %q or %q, not %.16q", "kind", Money, Goods, u.Kind)
	}
	return u, nil
}

// CampaignBody is the body of a donations.campaign.open.
type CampaignBody struct {
	CampaignID     string `json:"campaign_id"`
	Title          string `json:"title"`
	AdminShareMax  int64  `json:"admin_share_max_percent"`
	HandOnBy       string `json:"hand_on_by"`
	FeedbackWithin int64  `json:"feedback_within_days"`
}

// ParseCampaignBody parses a donations.campaign.open body.
func ParseCampaignBody(data []byte) (CampaignBody, error) {
	o, err := body.Parse(data, []string{"campaign_id", "title", "admin_share_max_percent", "hand_on_by", "feedback_within_days"}, nil)
	if err != nil {
		return CampaignBody{}, err
	}
	var b CampaignBody
	if b.CampaignID, err = o.ID("campaign_id", body.ID); err != nil {
		return b, err
	}
	if b.Title, err = o.Text("title", maxTitleLen); err != nil {
		return b, err
	}
	if b.AdminShareMax, err = o.Amount("admin_share_max_percent", 0); err != nil {
		return b, err
	}
	if b.AdminShareMax > 100 {
		return b, body.Errorf("field %q: at most 100", "admin_share_max_percent")
	}
	if b.HandOnBy, err = o.Date("hand_on_by"); err != nil {
		return b, err
	}
	if b.FeedbackWithin, err = o.Amount("feedback_within_days", 1); err != nil {
		return b, err
	}
	if b.FeedbackWithin > maxDays {
		return b, body.Errorf("field %q: at most %d", "feedback_within_days", maxDays)
	}
	return b, nil
}

// handOnDeadline is the end of the hand_on_by day, UTC.
func handOnDeadline(date string) time.Time {
	t, _ := time.Parse(time.DateOnly, date) // checked by the parser
	return t.Add(24 * time.Hour)
}

// ReceiveBody is the body of a donations.receive.
type ReceiveBody struct {
	DonationID string `json:"donation_id"`
	CampaignID string `json:"campaign_id"`
	Unit
	Amount int64  `json:"amount"`
	Donor  string `json:"donor,omitempty"`
}

// ParseReceiveBody parses a donations.receive body.
func ParseReceiveBody(data []byte) (ReceiveBody, error) {
	o, err := body.Parse(data, []string{"donation_id", "campaign_id", "kind", "amount"}, append([]string{"donor"}, unitFields...))
	if err != nil {
		return ReceiveBody{}, err
	}
	var b ReceiveBody
	if b.DonationID, err = o.ID("donation_id", body.ID); err != nil {
		return b, err
	}
	if b.CampaignID, err = o.ID("campaign_id", body.ID); err != nil {
		return b, err
	}
	if b.Unit, err = parseUnit(o); err != nil {
		return b, err
	}
	if b.Amount, err = o.Amount("amount", 1); err != nil {
		return b, err
	}
	if o.Has("donor") {
		if b.Donor, err = o.Commitment("donor"); err != nil {
			return b, err
		}
	}
	return b, nil
}

// Draw is the part of one donation a hand-over hands on.
type Draw struct {
	DonationID string `json:"donation_id"`
	Amount     int64  `json:"amount"`
}

// HandoverBody is the body of a donations.handover.
type HandoverBody struct {
	HandoverID string `json:"handover_id"`
	CampaignID string `json:"campaign_id"`
	Unit
	Draws          []Draw `json:"draws"`
	ToAgency       string `json:"to_agency,omitempty"`
	ToRecipient    string `json:"to_recipient,omitempty"`
	CodeHash       string `json:"code_hash,omitempty"`
	Administration bool   `json:"administration,omitempty"`
}

// Total is what b hands on.
func (b HandoverBody) Total() int64 {
	var n int64
	for _, d := range b.Draws {
		n += d.Amount // each at most 2^53, at most 64 of them: no overflow
	}
	return n
}

// ParseHandoverBody parses a donations.handover body.
func ParseHandoverBody(data []byte) (HandoverBody, error) {
	o, err := body.Parse(data, []string{"handover_id", "campaign_id", "kind", "draws"},
		append([]string{"to_agency", "to_recipient", "code_hash", "administration"}, unitFields...))
	if err != nil {
		return HandoverBody{}, err
	}
	var b HandoverBody
	if b.HandoverID, err = o.ID("handover_id", body.ID); err != nil {
		return b, err
	}
	if b.CampaignID, err = o.ID("campaign_id", body.ID); err != nil {
		return b, err
	}
	if b.Unit, err = parseUnit(o); err != nil {
		return b, err
	}
	draws, err := o.Array("draws", 1, maxDraws)
	if err != nil {
		return b, err
	}
	seen := map[string]bool{}
	for i := range draws.Len() {
		d, err := draws.Object(i, []string{"donation_id", "amount"}, nil)
		if err != nil {
			return b, err
		}
		var dr Draw
		if dr.DonationID, err = d.ID("donation_id", body.ID); err != nil {
			return b, err
		}
		if dr.Amount, err = d.Amount("amount", 1); err != nil {
			return b, err
		}
		if seen[dr.DonationID] {
			return b, body.Errorf("%s: donation %s is drawn on twice", draws.Field(i), dr.DonationID)
		}
		seen[dr.DonationID] = true
		b.Draws = append(b.Draws, dr)
	}
	destinations := 0
	if o.Has("to_agency") {
		destinations++
		if b.ToAgency, err = o.AgencyID("to_agency"); err != nil {
			return b, err
		}
	}
	if o.Has("to_recipient") {
		destinations++
		if b.ToRecipient, err = o.Commitment("to_recipient"); err != nil {
			return b, err
		}
		if b.CodeHash, err = o.SHA256("code_hash"); err != nil {
			return b, err
		}
	} else if o.Has("code_hash") {
		return b, body.Errorf("field %q goes with %q", "code_hash", "to_recipient")
	}
	if o.Has("administration") {
		destinations++
		if b.Administration, err = o.Bool("administration"); err != nil {
			return b, err
		}
		if !b.Administration {
			return b, body.Errorf("field %q is true or absent", "administration")
		}
		if b.Kind != Money {
			return b, body.Errorf("only money goes to administration")
		}
	}
	if destinations != 1 {
		return b, body.Errorf("a hand-over has exactly one of %q, %q (with %q) and %q", "to_agency", "to_recipient", "code_hash", "administration")
	}
	return b, nil
}

// AcceptBody is the body of a donations.accept.
type AcceptBody struct {
	HandoverID string `json:"handover_id"`
}

// ParseAcceptBody parses a donations.accept body.
func ParseAcceptBody(data []byte) (AcceptBody, error) {
	o, err := body.Parse(data, []string{"handover_id"}, nil)
	if err != nil {
		return AcceptBody{}, err
	}
	var b AcceptBody
	b.HandoverID, err = o.ID("handover_id", body.ID)
	return b, err
}

// Feedback outcomes.
const (
	InFull = "in-full"
	Short  = "short"
)

// FeedbackBody is the body of a donations.feedback.
type FeedbackBody struct {
	HandoverID string `json:"handover_id"`
	Code       string `json:"code"`
	Received   string `json:"received"`
	Amount     int64  `json:"amount,omitempty"`
	Signer     string `json:"signer"`
}

// MarshalJSON writes amount exactly when received is "short" (where 0,
// nothing arrived, is an amount), as ParseFeedbackBody reads it.
func (b FeedbackBody) MarshalJSON() ([]byte, error) {
	type plain struct {
		HandoverID string `json:"handover_id"`
		Code       string `json:"code"`
		Received   string `json:"received"`
		Amount     *int64 `json:"amount,omitempty"`
		Signer     string `json:"signer"`
	}
	p := plain{HandoverID: b.HandoverID, Code: b.Code, Received: b.Received, Signer: b.Signer}
	if b.Received == Short {
		p.Amount = &b.Amount
	}
	return json.Marshal(p)
}

// ParseFeedbackBody parses a donations.feedback body.
func ParseFeedbackBody(data []byte) (FeedbackBody, error) {
	o, err := body.Parse(data, []string{"handover_id", "code", "received", "signer"}, []string{"amount"})
	if err != nil {
		return FeedbackBody{}, err
	}
	var b FeedbackBody
	if b.HandoverID, err = o.ID("handover_id", body.ID); err != nil {
		return b, err
	}
	if b.Code, err = o.Text("code", 128); err != nil {
		return b, err
	}
	if len(b.Code) < 8 {
		return b, body.Errorf("field %q: at least 8 characters", "code")
	}
	if b.Received, err = o.Str("received"); err != nil {
		return b, err
	}
	switch b.Received {
	case InFull:
		if o.Has("amount") {
			return b, body.Errorf("field %q goes with %q", "amount", Short)
		}
	case Short:
		if b.Amount, err = o.Amount("amount", 0); err != nil {
			return b, err
		}
	default:
		return b, body.Errorf("field %q must be %q or %q", "received", InFull, Short)
	}
	if b.Signer, err = o.Str("signer"); err != nil {
		return b, err
	}
	name, _, err := notesig.ParseVKey(b.Signer)
	if err != nil {
		return b, fmt.Errorf("%w (in %q)", err, "signer")
	}
	if name != RecipientKeyName {
		return b, body.Errorf("field %q must be a key named %q, not %.64q", "signer", RecipientKeyName, name)
	}
	return b, nil
}

// SignerName names the signer of b: "recipient+<key hash>".
func (b FeedbackBody) SignerName() string {
	name, hash, err := notesig.ParseVKey(b.Signer)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s+%08x", name, hash)
}

// CodeHash is the code_hash of a code: its SHA-256, in lowercase hex.
func CodeHash(code string) string {
	h := sha256.Sum256([]byte(code))
	return hex.EncodeToString(h[:])
}
