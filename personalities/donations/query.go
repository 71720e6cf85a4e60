package donations

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/answer"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/money"
)

// Queries of the public read API.
const (
	// QueryDonation traces a donation: its record and every hand-over that
	// drew on it, in order (`govlog donations trace DONATION`).
	QueryDonation = "donation"
	// QueryRecipient lists what a final recipient was handed, and the
	// donations each hand-over drew on (`govlog donations recipient
	// COMMITMENT`).
	QueryRecipient = "recipient"
	// QueryCampaign shows a campaign and its totals per unit (`govlog
	// donations campaign CAMPAIGN`).
	QueryCampaign = "campaign"
)

// Bounds of the queries' work.
const (
	// MaxTracePage is the most hand-overs one donation or recipient query
	// returns, and the number it returns when the query does not say: a
	// donation split 1,000 ways is answered in one page.
	MaxTracePage = 1000
	// MaxPageDonations is the most donations (counted once per hand-over
	// that drew on them) one recipient page lists; a page that would list
	// more ends early, and its next page goes on.
	MaxPageDonations = 4096
	// MaxCampaignUnits is the most units a campaign query shows.
	MaxCampaignUnits = 1000
)

// ErrAnswerMismatch is what CheckAnswer's errors wrap: the answer says what
// its entries do not, or does not add up.
var ErrAnswerMismatch = errors.New("the answer does not match its entries")

var (
	_ rule.Querier     = (*Rules)(nil)
	_ rule.QueryClient = (*Rules)(nil)
)

// DonationTrace is the answer to a donation query: the donation's record
// (with the leaf hash of its donations.receive) and one page of the
// hand-overs that drew on it, in the order they were admitted.
type DonationTrace struct {
	Donation Donation `json:"donation"`
	// From is the number of the first hand-over of the page (from 1).
	From      int64       `json:"from"`
	Handovers []TraceStep `json:"handovers"`
	// Next is the number of the hand-over after the page, to ask for the
	// next one; 0 when the page ends the list.
	Next int64 `json:"next,omitempty"`
}

// TraceStep is the n-th hand-over drawing on a traced donation, with what
// it drew from it.
type TraceStep struct {
	N        int64        `json:"n"`
	Draw     int64        `json:"draw"`
	Handover HandoverView `json:"handover"`
}

// HandoverView is a hand-over as an answer shows it: its record, with the
// entries that accepted it (to an agency) or confirmed it (to a final
// recipient), each named by leaf hash.
type HandoverView struct {
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
	// Accept is the donations.accept of the agency it was handed to.
	Accept *AcceptRef `json:"accept,omitempty"`
	// FeedbackDue is when the final recipient's feedback is due.
	FeedbackDue string `json:"feedback_due,omitempty"`
	// Feedback is the final recipient's donations.feedback.
	Feedback *Feedback `json:"feedback,omitempty"`
}

// AcceptRef is the entry by which an agency accepted a hand-over.
type AcceptRef struct {
	Time     string `json:"time"`
	LeafHash string `json:"leaf_hash"`
}

// RecipientAnswer is the answer to a recipient query: one page of the
// hand-overs to a final recipient, each with the donations it drew on.
type RecipientAnswer struct {
	Recipient string `json:"recipient"`
	// Count is the number of hand-overs to the recipient in all.
	Count     int64           `json:"count"`
	From      int64           `json:"from"`
	Handovers []RecipientStep `json:"handovers"`
	Next      int64           `json:"next,omitempty"`
}

// RecipientStep is the n-th hand-over to a recipient.
type RecipientStep struct {
	N        int64        `json:"n"`
	Handover HandoverView `json:"handover"`
	// Donations are the donations it drew on, in the order of its draws.
	Donations []DonationRef `json:"donations"`
}

// DonationRef is a donation as its donations.receive recorded it.
type DonationRef struct {
	ID       string `json:"donation_id"`
	Campaign string `json:"campaign_id"`
	Charity  string `json:"charity"`
	Unit
	Amount   int64  `json:"amount"`
	Donor    string `json:"donor,omitempty"`
	Time     string `json:"time"`
	LeafHash string `json:"leaf_hash"`
}

// CampaignAnswer is the answer to a campaign query.
type CampaignAnswer struct {
	ID             string `json:"campaign_id"`
	Charity        string `json:"charity"`
	Title          string `json:"title"`
	AdminShareMax  int64  `json:"admin_share_max_percent"`
	HandOnBy       string `json:"hand_on_by"`
	FeedbackWithin int64  `json:"feedback_within_days"`
	Opened         string `json:"opened"`
	LeafHash       string `json:"leaf_hash"`
	Donations      int64  `json:"donations"`
	// Units are its totals per unit, by unit key.
	Units []UnitTotals `json:"units"`
}

// UnitTotals are a campaign's totals in one unit.
type UnitTotals struct {
	Unit
	Received       int64 `json:"received"`
	ToRecipients   int64 `json:"to_recipients"`
	Administration int64 `json:"administration"`
	InTransit      int64 `json:"in_transit"`
	// Held is received, less what reached final recipients and
	// administration: what the campaign's charities hold or have in
	// transit between them.
	Held int64 `json:"held"`
	// AdminShareBasisPoints is administration as a share of received, in
	// hundredths of a percent, rounded down.
	AdminShareBasisPoints int64 `json:"admin_share_basis_points"`
}

// Query implements [rule.Querier]: the donation, recipient and campaign
// queries. A donation or recipient page reads at most 2 + 3 ×
// [MaxTracePage] keys and entries, and a recipient page at most
// [MaxPageDonations] donations more; a campaign query reads one key.
func (*Rules) Query(ctx context.Context, v rule.View, name string, args map[string]string) (any, [][32]byte, error) {
	switch name {
	case QueryDonation:
		if err := answer.CheckArgs(args, "id", "from", "limit"); err != nil {
			return nil, nil, err
		}
		from, limit, err := answer.Page(args, MaxTracePage, "hand-overs")
		if err != nil {
			return nil, nil, err
		}
		a, err := TraceDonation(ctx, v, args["id"], from, limit)
		if err != nil {
			return nil, nil, err
		}
		cited, err := answer.LeafHashes(a.leafHashes())
		return a, cited, err
	case QueryRecipient:
		if err := answer.CheckArgs(args, "commitment", "from", "limit"); err != nil {
			return nil, nil, err
		}
		from, limit, err := answer.Page(args, MaxTracePage, "hand-overs")
		if err != nil {
			return nil, nil, err
		}
		a, err := RecipientHandovers(ctx, v, args["commitment"], from, limit)
		if err != nil {
			return nil, nil, err
		}
		cited, err := answer.LeafHashes(a.leafHashes())
		return a, cited, err
	case QueryCampaign:
		if err := answer.CheckArgs(args, "id"); err != nil {
			return nil, nil, err
		}
		a, err := CampaignTotals(ctx, v, args["id"])
		if err != nil {
			return nil, nil, err
		}
		cited, err := answer.LeafHashes([]string{a.LeafHash})
		return a, cited, err
	}
	return nil, nil, fmt.Errorf("%w %.64q: the %s log answers %q, %q and %q", rule.ErrUnknownQuery, name, LogName, QueryDonation, QueryRecipient, QueryCampaign)
}

// TraceDonation returns a donation and up to limit of the hand-overs that
// drew on it, from the from-th (the first is 1). A malformed ID is
// [rule.ErrInvalidQuery], an unknown donation [rule.ErrNotFound].
func TraceDonation(ctx context.Context, v rule.View, id string, from, limit int64) (*DonationTrace, error) {
	if !body.ID.Valid(id) {
		return nil, fmt.Errorf("%w: %.80q is not a donation ID", rule.ErrInvalidQuery, id)
	}
	d, ok, err := ReadDonation(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: there is no donation %s", rule.ErrNotFound, id)
	}
	if d.Holders == nil {
		d.Holders = map[string]int64{}
	}
	out := &DonationTrace{Donation: d, From: from, Handovers: []TraceStep{}}
	last := min(d.Handovers, from+limit-1)
	for n := from; n <= last; n++ {
		h, err := handoverAt(ctx, v, DonationOutKey(id, n))
		if err != nil {
			return nil, err
		}
		draw := drawOf(h.Draws, id)
		if draw <= 0 {
			return nil, fmt.Errorf("corrupt state: hand-over %s, the %d-th on donation %s, does not draw on it", h.ID, n, id)
		}
		hv, err := viewHandover(ctx, v, h)
		if err != nil {
			return nil, err
		}
		out.Handovers = append(out.Handovers, TraceStep{N: n, Draw: draw, Handover: hv})
	}
	if last < d.Handovers {
		out.Next = last + 1
	}
	return out, nil
}

// RecipientHandovers returns up to limit of the hand-overs to the final
// recipient commitment, from the from-th, each with the donations it drew
// on. A malformed commitment is [rule.ErrInvalidQuery], one nothing was
// handed to [rule.ErrNotFound].
func RecipientHandovers(ctx context.Context, v rule.View, commitment string, from, limit int64) (*RecipientAnswer, error) {
	if !body.ValidCommitment(commitment) {
		return nil, fmt.Errorf("%w: a recipient is a salted commitment, 64 lowercase hex digits, not %.80q", rule.ErrInvalidQuery, commitment)
	}
	count, err := readCount(ctx, v, RecipientKey(commitment, 0))
	if err != nil {
		return nil, err
	}
	if count == 0 {
		return nil, fmt.Errorf("%w: nothing was handed to recipient %s", rule.ErrNotFound, commitment)
	}
	out := &RecipientAnswer{Recipient: commitment, Count: count, From: from, Handovers: []RecipientStep{}}
	donations := map[string]DonationRef{}
	listed := 0
	last := min(count, from+limit-1)
	n := from
	for ; n <= last; n++ {
		h, err := handoverAt(ctx, v, RecipientKey(commitment, n))
		if err != nil {
			return nil, err
		}
		if h.ToRecipient != commitment {
			return nil, fmt.Errorf("corrupt state: hand-over %s, the %d-th to recipient %s, is not to them", h.ID, n, commitment)
		}
		if listed+len(h.Draws) > MaxPageDonations {
			break // the next page goes on with it
		}
		listed += len(h.Draws)
		step := RecipientStep{N: n, Donations: []DonationRef{}}
		if step.Handover, err = viewHandover(ctx, v, h); err != nil {
			return nil, err
		}
		for _, dr := range h.Draws {
			ref, ok := donations[dr.DonationID]
			if !ok {
				d, found, err := ReadDonation(ctx, v, dr.DonationID)
				if err != nil {
					return nil, err
				}
				if !found {
					return nil, fmt.Errorf("corrupt state: hand-over %s draws on donation %s, which is missing", h.ID, dr.DonationID)
				}
				ref = DonationRef{ID: d.ID, Campaign: d.Campaign, Charity: d.Charity, Unit: d.Unit, Amount: d.Amount,
					Donor: d.Donor, Time: d.Time, LeafHash: d.LeafHash}
				donations[d.ID] = ref
			}
			step.Donations = append(step.Donations, ref)
		}
		out.Handovers = append(out.Handovers, step)
	}
	if n <= count {
		out.Next = n
	}
	return out, nil
}

// CampaignTotals returns a campaign with its totals per unit. A malformed
// ID is [rule.ErrInvalidQuery], an unknown campaign [rule.ErrNotFound], one
// with more than [MaxCampaignUnits] units [rule.ErrQueryTooLarge].
func CampaignTotals(ctx context.Context, v rule.Reader, id string) (*CampaignAnswer, error) {
	if !body.ID.Valid(id) {
		return nil, fmt.Errorf("%w: %.80q is not a campaign ID", rule.ErrInvalidQuery, id)
	}
	c, ok, err := ReadCampaign(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: there is no campaign %s", rule.ErrNotFound, id)
	}
	if len(c.Totals) > MaxCampaignUnits {
		return nil, fmt.Errorf("%w: campaign %s counts %d units, more than the %d a query shows", rule.ErrQueryTooLarge, id, len(c.Totals), MaxCampaignUnits)
	}
	out := &CampaignAnswer{ID: c.ID, Charity: c.Charity, Title: c.Title, AdminShareMax: c.AdminShareMax, HandOnBy: c.HandOnBy,
		FeedbackWithin: c.FeedbackWithin, Opened: c.Opened, LeafHash: c.LeafHash, Donations: c.Donations, Units: []UnitTotals{}}
	for _, key := range slices.Sorted(maps.Keys(c.Totals)) {
		u, ok := unitOfKey(key)
		if !ok {
			return nil, fmt.Errorf("corrupt state: campaign %s counts in %q, which is not a unit", id, key)
		}
		t := c.Totals[key]
		out.Units = append(out.Units, UnitTotals{Unit: u, Received: t.Received, ToRecipients: t.ToRecipients,
			Administration: t.Administration, InTransit: t.InTransit, Held: t.Held(), AdminShareBasisPoints: basisPoints(t.Administration, t.Received)})
	}
	return out, nil
}

// basisPoints is part as a share of whole in hundredths of a percent,
// rounded down; 0 for a whole of 0.
func basisPoints(part, whole int64) int64 {
	if whole <= 0 || part <= 0 {
		return 0
	}
	q := new(big.Int).Mul(big.NewInt(part), big.NewInt(10000))
	return q.Quo(q, big.NewInt(whole)).Int64()
}

// unitOfKey is the unit whose [Unit.Key] is key.
func unitOfKey(key string) (Unit, bool) {
	var u Unit
	if c, ok := strings.CutPrefix(key, "money:"); ok {
		u = Unit{Kind: Money, Currency: c}
	} else if g, ok := strings.CutPrefix(key, "goods:"); ok {
		item, unit, _ := strings.Cut(g, "/")
		u = Unit{Kind: Goods, Item: item, Unit: unit}
	}
	return u, validUnit(u) && u.Key() == key
}

// validUnit reports whether u is a unit a body may name.
func validUnit(u Unit) bool {
	switch u.Kind {
	case Money:
		return currencyRE.MatchString(u.Currency) && u.Item == "" && u.Unit == ""
	case Goods:
		return nameRE.MatchString(u.Item) && nameRE.MatchString(u.Unit) && u.Currency == ""
	}
	return false
}

// handoverAt reads the hand-over whose ID is stored at key.
func handoverAt(ctx context.Context, v rule.Reader, key string) (Handover, error) {
	id, ok, err := v.Get(ctx, key)
	if err != nil {
		return Handover{}, err
	}
	if !ok {
		return Handover{}, fmt.Errorf("corrupt state: %s is missing", key)
	}
	h, ok, err := ReadHandover(ctx, v, string(id))
	if err != nil {
		return Handover{}, err
	}
	if !ok {
		return Handover{}, fmt.Errorf("corrupt state: %s names hand-over %.80q, which is missing", key, id)
	}
	return h, nil
}

// viewHandover is h as an answer shows it; it reads the entry of its
// acceptance for its time.
func viewHandover(ctx context.Context, v rule.View, h Handover) (HandoverView, error) {
	hv := HandoverView{ID: h.ID, Campaign: h.Campaign, Charity: h.Charity, Unit: h.Unit, Draws: h.Draws, Amount: h.Amount,
		ToAgency: h.ToAgency, ToRecipient: h.ToRecipient, CodeHash: h.CodeHash, Administration: h.Administration,
		Time: h.Time, LeafHash: h.LeafHash, FeedbackDue: h.FeedbackDue, Feedback: h.Feedback}
	if h.Accepted != "" {
		leaf, err := answer.LeafHash(h.Accepted)
		if err != nil {
			return hv, fmt.Errorf("corrupt state: hand-over %s: %v", h.ID, err)
		}
		e, ok, err := v.Entry(ctx, leaf)
		if err != nil {
			return hv, err
		}
		if !ok {
			return hv, fmt.Errorf("corrupt state: hand-over %s was accepted by entry %s, which the log does not hold", h.ID, h.Accepted)
		}
		hv.Accept = &AcceptRef{Time: stamp(e.Time), LeafHash: h.Accepted}
	}
	return hv, nil
}

// drawOf is what draws take of donation id.
func drawOf(draws []Draw, id string) int64 {
	for _, d := range draws {
		if d.DonationID == id {
			return d.Amount
		}
	}
	return 0
}

func (h *HandoverView) leafHashes() []string {
	out := []string{h.LeafHash}
	if h.Accept != nil {
		out = append(out, h.Accept.LeafHash)
	}
	if h.Feedback != nil {
		out = append(out, h.Feedback.LeafHash)
	}
	return out
}

func (a *DonationTrace) leafHashes() []string {
	out := []string{a.Donation.LeafHash}
	for i := range a.Handovers {
		out = append(out, a.Handovers[i].Handover.leafHashes()...)
	}
	return out
}

func (a *RecipientAnswer) leafHashes() []string {
	var out []string
	for i := range a.Handovers {
		out = append(out, a.Handovers[i].Handover.leafHashes()...)
		for _, d := range a.Handovers[i].Donations {
			out = append(out, d.LeafHash)
		}
	}
	return out
}

// Queries implements [rule.QueryClient].
func (*Rules) Queries() []rule.QueryInfo {
	page := []rule.QueryFlag{
		{Name: "from", Usage: "first hand-over of the page, from 1 (default 1)"},
		{Name: "limit", Usage: fmt.Sprintf("hand-overs per page, at most %d (default %d)", MaxTracePage, MaxTracePage)},
	}
	return []rule.QueryInfo{{
		Name: QueryDonation, Verb: "trace", Arg: "id", ArgName: "DONATION",
		Summary: "trace a donation to the people who received it: every hand-over that drew on it, each entry proved",
		Doc: fmt.Sprintf(`trace shows a donation of the donations log: the campaign it was given to,
what it was (money or goods) and how much, the donor's commitment if the
donor gave one, who holds what is left of it now and how much of it reached
final recipients; then every hand-over that drew on it, in the order the
log admitted them (at most %d a page): how much it took of this donation,
and where it went: to another agency (with that agency's acceptance, if it
accepted), to a final recipient (with their confirmation, if they gave it)
or to the charity's administration. Every entry is proved against --policy
and checked: the donation and each hand-over are what their entries say,
and, on an answer that holds every hand-over, what each holder holds and
what reached recipients add up from the donation's amount.`, MaxTracePage),
		Flags: page,
	}, {
		Name: QueryRecipient, Arg: "commitment", ArgName: "COMMITMENT",
		Summary: "what a final recipient was handed, and the donations it came from, each entry proved",
		Doc: fmt.Sprintf(`recipient shows every hand-over to a final recipient, named by their salted
commitment (see govlog commit), at most %d a page: who handed what, when,
whether the recipient confirmed it (in full or short), and each donation it
drew on, as the charity recorded receiving it. Every entry is proved
against --policy and checked against the answer.`, MaxTracePage),
		Flags: page,
	}, {
		Name: QueryCampaign, Arg: "id", ArgName: "CAMPAIGN",
		Summary: "a campaign: its terms and what it received, handed on and still holds, per unit",
		Doc: `campaign shows a campaign of the donations log: the charity that runs it,
the most of its money that may go to administration, the date by which what
it received must be handed on, and per unit (a currency, or an item and its
unit) what it received, what reached final recipients and administration,
what is in transit between agencies and what its charities still hold. The
campaign's opening entry is proved against --policy and checked; the totals
are the log's sums, and are checked to add up.`,
	}}
}

// CheckAnswer implements [rule.QueryClient]: every record the answer shows
// is what its proved entry says (type, body, time, signer), the hand-overs
// come in log order, and the figures add up as far as the answer lets
// them be checked. Errors wrap [ErrAnswerMismatch]; a query this log does
// not answer is [rule.ErrUnknownQuery], page arguments Query would refuse
// are [rule.ErrInvalidQuery] (or [rule.ErrQueryTooLarge]).
func (*Rules) CheckAnswer(query string, args map[string]string, result []byte, entries []rule.ProvedEntry) (string, error) {
	proved := answer.ByHash(entries)
	switch query {
	case QueryDonation:
		from, limit, err := answer.Page(args, MaxTracePage, "hand-overs")
		if err != nil {
			return "", err
		}
		var a DonationTrace
		if err := decode(result, &a, "a donation trace"); err != nil {
			return "", err
		}
		return checkTrace(&a, args["id"], from, limit, proved)
	case QueryRecipient:
		from, limit, err := answer.Page(args, MaxTracePage, "hand-overs")
		if err != nil {
			return "", err
		}
		var a RecipientAnswer
		if err := decode(result, &a, "a recipient answer"); err != nil {
			return "", err
		}
		return checkRecipient(&a, args["commitment"], from, limit, proved)
	case QueryCampaign:
		var a CampaignAnswer
		if err := decode(result, &a, "a campaign answer"); err != nil {
			return "", err
		}
		return checkCampaign(&a, args["id"], proved)
	}
	return "", fmt.Errorf("%w %.64q: the %s log answers %q, %q and %q", rule.ErrUnknownQuery, query, LogName, QueryDonation, QueryRecipient, QueryCampaign)
}

func decode(result []byte, v any, noun string) error {
	if err := answer.Decode(result, v, noun); err != nil {
		return mismatch("%v", err)
	}
	return nil
}

func mismatch(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrAnswerMismatch, fmt.Sprintf(format, args...))
}

// entryOf returns the proved entry of leafHex, which must be of type typ.
func entryOf(proved map[[32]byte]rule.ProvedEntry, what, leafHex, typ string) (rule.ProvedEntry, error) {
	e, err := answer.Entry(proved, leafHex)
	if err != nil {
		return e, mismatch("%s: %v", what, err)
	}
	if e.Type != typ {
		return e, mismatch("%s: entry %s is a %.64s, not a %s", what, leafHex, e.Type, typ)
	}
	return e, nil
}

// checkMade checks that an entry was made at the time an answer gives
// and carries a signature by a key named signer.
func checkMade(e rule.ProvedEntry, what, at, signer string) error {
	if stamp(e.Time) != at {
		return mismatch("%s: its entry was made at %s, not %.40q", what, stamp(e.Time), at)
	}
	if !slices.Contains(e.Signers, signer) {
		return mismatch("%s: its entry carries no signature by a key named %.80q", what, signer)
	}
	return nil
}

// checkDonationRecord checks what an answer says of a donation against its
// donations.receive, and returns the entry.
func checkDonationRecord(r DonationRef, what string, proved map[[32]byte]rule.ProvedEntry) (rule.ProvedEntry, error) {
	e, err := entryOf(proved, what, r.LeafHash, TypeReceive)
	if err != nil {
		return e, err
	}
	b, err := ParseReceiveBody(e.Body)
	if err != nil {
		return e, mismatch("%s: its entry: %v", what, err)
	}
	switch {
	case b.DonationID != r.ID:
		return e, mismatch("%s: its entry records donation %s", what, b.DonationID)
	case b.CampaignID != r.Campaign:
		return e, mismatch("%s: its entry gives it to campaign %s, not %.80s", what, b.CampaignID, r.Campaign)
	case b.Unit != r.Unit || b.Amount != r.Amount:
		return e, mismatch("%s: its entry records %s, not %s", what, FormatAmount(b.Unit, b.Amount), FormatAmount(r.Unit, r.Amount))
	case b.Donor != r.Donor:
		return e, mismatch("%s: its entry names the donor %s, not %.80s", what, showDonor(b.Donor), showDonor(r.Donor))
	}
	return e, checkMade(e, what, r.Time, r.Charity)
}

// checkHandover checks what an answer says of a hand-over against its
// entry, its acceptance's and its feedback's, and returns its entry and
// its acceptance's (zero if none).
func checkHandover(h *HandoverView, what string, proved map[[32]byte]rule.ProvedEntry) (e, accept rule.ProvedEntry, err error) {
	if e, err = entryOf(proved, what, h.LeafHash, TypeHandover); err != nil {
		return e, accept, err
	}
	b, err := ParseHandoverBody(e.Body)
	if err != nil {
		return e, accept, mismatch("%s: its entry: %v", what, err)
	}
	switch {
	case b.HandoverID != h.ID:
		return e, accept, mismatch("%s: its entry records hand-over %s", what, b.HandoverID)
	case b.CampaignID != h.Campaign:
		return e, accept, mismatch("%s: its entry is of campaign %s, not %.80s", what, b.CampaignID, h.Campaign)
	case b.Unit != h.Unit:
		return e, accept, mismatch("%s: its entry hands on %s, not %s", what, b.Unit, h.Unit)
	case !slices.Equal(b.Draws, h.Draws):
		return e, accept, mismatch("%s: its entry draws %s, not %.400s", what, showDraws(b.Unit, b.Draws), showDraws(h.Unit, h.Draws))
	case b.Total() != h.Amount:
		return e, accept, mismatch("%s: it hands on %s in all, not %s", what, FormatAmount(b.Unit, b.Total()), FormatAmount(h.Unit, h.Amount))
	case b.ToAgency != h.ToAgency || b.ToRecipient != h.ToRecipient || b.Administration != h.Administration:
		return e, accept, mismatch("%s: its entry hands it %s, not %s", what, destination(b.ToAgency, b.ToRecipient), destination(h.ToAgency, h.ToRecipient))
	case b.CodeHash != h.CodeHash:
		return e, accept, mismatch("%s: its entry gives the code hash %q, not %.80q", what, b.CodeHash, h.CodeHash)
	}
	if err := checkMade(e, what, h.Time, h.Charity); err != nil {
		return e, accept, err
	}
	if h.Accept != nil {
		if h.ToAgency == "" {
			return e, accept, mismatch("%s: it is not to an agency, and has no acceptance", what)
		}
		w := what + ", its acceptance"
		if accept, err = entryOf(proved, w, h.Accept.LeafHash, TypeAccept); err != nil {
			return e, accept, err
		}
		ab, err := ParseAcceptBody(accept.Body)
		if err != nil {
			return e, accept, mismatch("%s: %v", w, err)
		}
		if ab.HandoverID != h.ID {
			return e, accept, mismatch("%s: its entry accepts hand-over %s", w, ab.HandoverID)
		}
		if err := checkMade(accept, w, h.Accept.Time, h.ToAgency); err != nil {
			return e, accept, err
		}
		if accept.Index <= e.Index {
			return e, accept, mismatch("%s: entry %d does not come after the hand-over, entry %d", w, accept.Index, e.Index)
		}
	}
	if (h.FeedbackDue != "") != (h.ToRecipient != "") {
		return e, accept, mismatch("%s: a feedback due time %.40q for a hand-over %s", what, h.FeedbackDue, destination(h.ToAgency, h.ToRecipient))
	}
	if h.FeedbackDue != "" {
		due, err := time.Parse(time.RFC3339, h.FeedbackDue)
		if err != nil || !due.After(e.Time) || stamp(due) != h.FeedbackDue {
			return e, accept, mismatch("%s: feedback due %.40q, not a time after it", what, h.FeedbackDue)
		}
	}
	if f := h.Feedback; f != nil {
		if h.ToRecipient == "" {
			return e, accept, mismatch("%s: it is not to a final recipient, and has no feedback", what)
		}
		w := what + ", its feedback"
		fe, err := entryOf(proved, w, f.LeafHash, TypeFeedback)
		if err != nil {
			return e, accept, err
		}
		fb, err := ParseFeedbackBody(fe.Body)
		if err != nil {
			return e, accept, mismatch("%s: %v", w, err)
		}
		amount := h.Amount
		if fb.Received == Short {
			amount = fb.Amount
		}
		switch {
		case fb.HandoverID != h.ID:
			return e, accept, mismatch("%s: its entry confirms hand-over %s", w, fb.HandoverID)
		case CodeHash(fb.Code) != h.CodeHash:
			return e, accept, mismatch("%s: its entry's code is not the hand-over's", w)
		case fb.Received != f.Received:
			return e, accept, mismatch("%s: its entry says %q, not %.16q", w, fb.Received, f.Received)
		case fb.Received == Short && fb.Amount >= h.Amount:
			return e, accept, mismatch("%s: a shortfall of %s received of %s", w, FormatAmount(h.Unit, fb.Amount), FormatAmount(h.Unit, h.Amount))
		case amount != f.Amount:
			return e, accept, mismatch("%s: its entry says %s arrived, not %s", w, FormatAmount(h.Unit, amount), FormatAmount(h.Unit, f.Amount))
		case fb.SignerName() != f.Signer:
			return e, accept, mismatch("%s: its entry is signed by %s, not %.80s", w, fb.SignerName(), f.Signer)
		}
		if err := checkMade(fe, w, f.Time, RecipientKeyName); err != nil {
			return e, accept, err
		}
		if fe.Index <= e.Index {
			return e, accept, mismatch("%s: entry %d does not come after the hand-over, entry %d", w, fe.Index, e.Index)
		}
	}
	return e, accept, nil
}

// checkPage checks that a page of n items numbered from from, with next,
// is the page asked for of a list of count.
func checkPage(what string, from, limit, gotFrom int64, n int, next, count int64) error {
	end := gotFrom + int64(n) // the number after the page
	switch {
	case gotFrom != from:
		return mismatch("%s: the page begins at %d, not %d", what, gotFrom, from)
	case int64(n) > limit:
		return mismatch("%s: %d on a page of at most %d", what, n, limit)
	case n > 0 && end-1 > count:
		return mismatch("%s: the page ends at %d of %d", what, end-1, count)
	case next != 0 && (next != end || next > count):
		return mismatch("%s: the page of %d from %d names the next page %d, of %d", what, n, from, next, count)
	case next == 0 && n > 0 && end-1 != count:
		return mismatch("%s: the page ends at %d of %d and names no next page", what, end-1, count)
	case next == 0 && n == 0 && from <= count:
		return mismatch("%s: nothing from %d of %d, and no next page", what, from, count)
	}
	return nil
}

// holding is one change of what an agency holds of a donation: a
// hand-over by it (-) or its acceptance of one (+), at a log index.
type holding struct {
	index  uint64
	agency string
	delta  int64
}

func checkTrace(a *DonationTrace, id string, from, limit int64, proved map[[32]byte]rule.ProvedEntry) (string, error) {
	d := &a.Donation
	if d.ID != id {
		return "", mismatch("the answer traces donation %.80q, not %.80q", d.ID, id)
	}
	what := "donation " + d.ID
	recv, err := checkDonationRecord(DonationRef{ID: d.ID, Campaign: d.Campaign, Charity: d.Charity, Unit: d.Unit, Amount: d.Amount,
		Donor: d.Donor, Time: d.Time, LeafHash: d.LeafHash}, what, proved)
	if err != nil {
		return "", err
	}
	var held int64
	for _, agency := range slices.Sorted(maps.Keys(d.Holders)) {
		n := d.Holders[agency]
		if n <= 0 || n > d.Amount {
			return "", mismatch("%s: %s holds %d of its %d", what, agency, n, d.Amount)
		}
		held += n
	}
	if d.ToRecipients < 0 || d.Handovers < 0 || held+d.ToRecipients > d.Amount {
		return "", mismatch("%s: %s held and %s to recipients of %s", what, FormatAmount(d.Unit, held), FormatAmount(d.Unit, d.ToRecipients), FormatAmount(d.Unit, d.Amount))
	}
	if err := checkPage(what, from, limit, a.From, len(a.Handovers), a.Next, d.Handovers); err != nil {
		return "", err
	}
	index := recv.Index
	var toRecipients, leaving, inTransit int64
	holdings := []holding{{recv.Index, d.Charity, d.Amount}}
	for i := range a.Handovers {
		s := &a.Handovers[i]
		h := &s.Handover
		w := fmt.Sprintf("%s, hand-over %d (%.80s)", what, s.N, h.ID)
		if s.N != a.From+int64(i) {
			return "", mismatch("%s: it is numbered %d on a page from %d", w, s.N, a.From)
		}
		e, accept, err := checkHandover(h, w, proved)
		if err != nil {
			return "", err
		}
		switch {
		case e.Index <= index:
			return "", mismatch("%s: entry %d does not come after entry %d", w, e.Index, index)
		case h.Campaign != d.Campaign || h.Unit != d.Unit:
			return "", mismatch("%s: it hands on %s of campaign %s, the donation is %s of campaign %s", w, h.Unit, h.Campaign, d.Unit, d.Campaign)
		case s.Draw <= 0 || drawOf(h.Draws, d.ID) != s.Draw:
			return "", mismatch("%s: it draws %s on the donation, not %s", w, FormatAmount(d.Unit, drawOf(h.Draws, d.ID)), FormatAmount(d.Unit, s.Draw))
		case s.Draw > d.Amount:
			return "", mismatch("%s: it draws %s on a donation of %s", w, FormatAmount(d.Unit, s.Draw), FormatAmount(d.Unit, d.Amount))
		}
		index = e.Index
		holdings = append(holdings, holding{e.Index, h.Charity, -s.Draw})
		switch {
		case h.ToRecipient != "":
			toRecipients += s.Draw
			leaving += s.Draw
		case h.Administration:
			leaving += s.Draw
		case h.Accept != nil:
			holdings = append(holdings, holding{accept.Index, h.ToAgency, s.Draw})
		default:
			inTransit += s.Draw
		}
		if leaving > d.Amount {
			return "", mismatch("%s: the hand-overs to recipients and administration draw %s on a donation of %s", w, FormatAmount(d.Unit, leaving), FormatAmount(d.Unit, d.Amount))
		}
	}
	if toRecipients > d.ToRecipients {
		return "", mismatch("%s: the page hands %s of it to recipients, more than the %s it says reached them", what, FormatAmount(d.Unit, toRecipients), FormatAmount(d.Unit, d.ToRecipients))
	}
	page := fmt.Sprintf("hand-overs %d to %d of %d", a.From, a.From+int64(len(a.Handovers))-1, d.Handovers)
	if len(a.Handovers) == 0 {
		page = fmt.Sprintf("no hand-over from %d of %d", a.From, d.Handovers)
	}
	if a.From != 1 || a.Next != 0 {
		return fmt.Sprintf("%s: its donations.receive and %s match their entries, in log order, "+
			"and draw no more than it gave; what it says each agency holds and reached recipients is the log's word "+
			"(a page: the hand-overs before and after it are not in the answer)", what, page), nil
	}
	// Every hand-over is here: replay what each agency held, in log order.
	slices.SortStableFunc(holdings, func(x, y holding) int { return cmp.Compare(x.index, y.index) })
	holders := map[string]int64{}
	for _, hd := range holdings {
		holders[hd.agency] += hd.delta
		if holders[hd.agency] < 0 {
			return "", mismatch("%s: %s hands on more of it (entry %d) than it holds", what, hd.agency, hd.index)
		}
	}
	if !maps.Equal(holders, d.Holders) {
		return "", mismatch("%s: it says the agencies hold %s; its hand-overs leave %s", what, showHolders(d.Unit, d.Holders), showHolders(d.Unit, holders))
	}
	if toRecipients != d.ToRecipients {
		return "", mismatch("%s: it says %s reached recipients; its hand-overs to them draw %s", what, FormatAmount(d.Unit, d.ToRecipients), FormatAmount(d.Unit, toRecipients))
	}
	return fmt.Sprintf("%s: its donations.receive and all %d hand-overs match their entries, in log order; "+
		"what each agency holds (%s), the %s in transit and the %s that reached final recipients add up from its %s",
		what, len(a.Handovers), showHolders(d.Unit, holders), FormatAmount(d.Unit, inTransit), FormatAmount(d.Unit, toRecipients),
		FormatAmount(d.Unit, d.Amount)), nil
}

func checkRecipient(a *RecipientAnswer, commitment string, from, limit int64, proved map[[32]byte]rule.ProvedEntry) (string, error) {
	if a.Recipient != commitment {
		return "", mismatch("the answer is about recipient %.80q, not %.80q", a.Recipient, commitment)
	}
	what := "recipient " + a.Recipient
	if a.Count < 1 {
		return "", mismatch("%s: %d hand-overs", what, a.Count)
	}
	if err := checkPage(what, from, limit, a.From, len(a.Handovers), a.Next, a.Count); err != nil {
		return "", err
	}
	var index uint64
	listed, confirmed := 0, 0
	for i := range a.Handovers {
		s := &a.Handovers[i]
		h := &s.Handover
		w := fmt.Sprintf("%s, hand-over %d (%.80s)", what, s.N, h.ID)
		if s.N != a.From+int64(i) {
			return "", mismatch("%s: it is numbered %d on a page from %d", w, s.N, a.From)
		}
		e, _, err := checkHandover(h, w, proved)
		if err != nil {
			return "", err
		}
		switch {
		case h.ToRecipient != a.Recipient:
			return "", mismatch("%s: it is handed %s", w, destination(h.ToAgency, h.ToRecipient))
		case i > 0 && e.Index <= index:
			return "", mismatch("%s: entry %d does not come after entry %d", w, e.Index, index)
		case len(s.Donations) != len(h.Draws):
			return "", mismatch("%s: %d donations for %d draws", w, len(s.Donations), len(h.Draws))
		}
		index = e.Index
		listed += len(s.Donations)
		if listed > MaxPageDonations {
			return "", mismatch("%s: the page lists more than %d donations", w, MaxPageDonations)
		}
		if h.Feedback != nil {
			confirmed++
		}
		for j, r := range s.Donations {
			dw := fmt.Sprintf("%s, donation %.80s", w, r.ID)
			if r.ID != h.Draws[j].DonationID {
				return "", mismatch("%s: draw %d is on donation %s", dw, j+1, h.Draws[j].DonationID)
			}
			re, err := checkDonationRecord(r, dw, proved)
			if err != nil {
				return "", err
			}
			switch {
			case r.Unit != h.Unit || r.Campaign != h.Campaign:
				return "", mismatch("%s: it is %s of campaign %s, the hand-over %s of campaign %s", dw, r.Unit, r.Campaign, h.Unit, h.Campaign)
			case h.Draws[j].Amount > r.Amount:
				return "", mismatch("%s: the hand-over draws %s on a donation of %s", dw, FormatAmount(r.Unit, h.Draws[j].Amount), FormatAmount(r.Unit, r.Amount))
			case re.Index >= e.Index:
				return "", mismatch("%s: its entry %d does not come before the hand-over's, entry %d", dw, re.Index, e.Index)
			}
		}
	}
	if len(a.Handovers) == 0 {
		return fmt.Sprintf("%s: no hand-over from %d of %d", what, a.From, a.Count), nil
	}
	return fmt.Sprintf("%s: hand-overs %d to %d of %d, %d of them confirmed, and the %d donations they drew on match their entries, in log order",
		what, a.From, a.From+int64(len(a.Handovers))-1, a.Count, confirmed, listed), nil
}

func checkCampaign(a *CampaignAnswer, id string, proved map[[32]byte]rule.ProvedEntry) (string, error) {
	if a.ID != id {
		return "", mismatch("the answer is about campaign %.80q, not %.80q", a.ID, id)
	}
	what := "campaign " + a.ID
	e, err := entryOf(proved, what, a.LeafHash, TypeCampaignOpen)
	if err != nil {
		return "", err
	}
	b, err := ParseCampaignBody(e.Body)
	if err != nil {
		return "", mismatch("%s: its entry: %v", what, err)
	}
	if b != (CampaignBody{CampaignID: a.ID, Title: a.Title, AdminShareMax: a.AdminShareMax, HandOnBy: a.HandOnBy, FeedbackWithin: a.FeedbackWithin}) {
		return "", mismatch("%s: its entry opens campaign %s %q, %d%% for administration, hand on by %s, feedback within %d days; "+
			"the answer says %.80s %.200q, %d%%, %.16s, %d days", what, b.CampaignID, b.Title, b.AdminShareMax, b.HandOnBy, b.FeedbackWithin,
			a.ID, a.Title, a.AdminShareMax, a.HandOnBy, a.FeedbackWithin)
	}
	if err := checkMade(e, what, a.Opened, a.Charity); err != nil {
		return "", err
	}
	if a.Donations < 0 || a.Donations == 0 && len(a.Units) > 0 || len(a.Units) > MaxCampaignUnits {
		return "", mismatch("%s: %d donations in %d units", what, a.Donations, len(a.Units))
	}
	for i, u := range a.Units {
		uw := fmt.Sprintf("%s, %s", what, u.Unit)
		if !validUnit(u.Unit) {
			return "", mismatch("%s: not a unit", uw)
		}
		if i > 0 && a.Units[i-1].Key() >= u.Key() {
			return "", mismatch("%s: the units are not in order, each once", uw)
		}
		adm := new(big.Int).Mul(big.NewInt(u.Administration), big.NewInt(100))
		allowed := new(big.Int).Mul(big.NewInt(a.AdminShareMax), big.NewInt(u.Received))
		switch {
		case u.Received <= 0 || u.ToRecipients < 0 || u.Administration < 0 || u.InTransit < 0:
			return "", mismatch("%s: received %d, to recipients %d, administration %d, in transit %d", uw, u.Received, u.ToRecipients, u.Administration, u.InTransit)
		case u.Held != u.Received-u.ToRecipients-u.Administration || u.Held < 0:
			return "", mismatch("%s: %s held of %s received, less %s to recipients and %s to administration", uw,
				FormatAmount(u.Unit, u.Held), FormatAmount(u.Unit, u.Received), FormatAmount(u.Unit, u.ToRecipients), FormatAmount(u.Unit, u.Administration))
		case u.InTransit > u.Held:
			return "", mismatch("%s: %s in transit of %s held", uw, FormatAmount(u.Unit, u.InTransit), FormatAmount(u.Unit, u.Held))
		case u.Kind != Money && u.Administration != 0:
			return "", mismatch("%s: goods went to administration", uw)
		case adm.Cmp(allowed) > 0:
			return "", mismatch("%s: %s to administration, more than %d%% of %s", uw, FormatAmount(u.Unit, u.Administration), a.AdminShareMax, FormatAmount(u.Unit, u.Received))
		case u.AdminShareBasisPoints != basisPoints(u.Administration, u.Received):
			return "", mismatch("%s: an administration share of %d basis points, not %d", uw, u.AdminShareBasisPoints, basisPoints(u.Administration, u.Received))
		}
	}
	return fmt.Sprintf("%s: its donations.campaign.open matches the answer, and its totals in %d units add up "+
		"(what it received and handed on are the log's sums of entries not in the answer)", what, len(a.Units)), nil
}

// FormatAmount writes an amount for people: money as the major unit with
// thousands separators and two decimals ("1,234.56 CNY", from 123456 fen;
// every currency the same way), goods as "500 kg of rice".
func FormatAmount(u Unit, n int64) string {
	if u.Kind == Money {
		return money.Format(n, u.Currency)
	}
	sign, m := "", uint64(n)
	if n < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%s %s of %s", sign, group(m), u.Unit, u.Item)
}

// group writes n with thousands separators.
func group(n uint64) string {
	digits := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func showDraws(u Unit, draws []Draw) string {
	parts := make([]string, len(draws))
	for i, d := range draws {
		parts[i] = fmt.Sprintf("%s from %s", FormatAmount(u, d.Amount), d.DonationID)
	}
	return strings.Join(parts, ", ")
}

func showHolders(u Unit, holders map[string]int64) string {
	var parts []string
	for _, a := range slices.Sorted(maps.Keys(holders)) {
		if holders[a] != 0 { // an agency that held it all and handed it on
			parts = append(parts, fmt.Sprintf("%s %s", a, FormatAmount(u, holders[a])))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

func showDonor(d string) string {
	if d == "" {
		return "anonymous"
	}
	return "donor " + d
}

// destination says where a hand-over goes.
func destination(toAgency, toRecipient string) string {
	switch {
	case toAgency != "":
		return "to agency " + toAgency
	case toRecipient != "":
		return "to final recipient " + toRecipient
	}
	return "to administration"
}

// FormatAnswer implements [rule.QueryClient].
func (*Rules) FormatAnswer(w io.Writer, query string, result []byte) error {
	var b strings.Builder
	switch query {
	case QueryDonation:
		var a DonationTrace
		if err := decode(result, &a, "a donation trace"); err != nil {
			return err
		}
		formatTrace(&b, &a)
	case QueryRecipient:
		var a RecipientAnswer
		if err := decode(result, &a, "a recipient answer"); err != nil {
			return err
		}
		formatRecipient(&b, &a)
	case QueryCampaign:
		var a CampaignAnswer
		if err := decode(result, &a, "a campaign answer"); err != nil {
			return err
		}
		formatCampaign(&b, &a)
	default:
		return fmt.Errorf("%w %.64q", rule.ErrUnknownQuery, query)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func formatTrace(b *strings.Builder, a *DonationTrace) {
	d := &a.Donation
	fmt.Fprintf(b, "Donation %s: %s to campaign %s of %s\n", d.ID, FormatAmount(d.Unit, d.Amount), d.Campaign, d.Charity)
	fmt.Fprintf(b, "  received %s from %s\n", d.Time, showDonor(d.Donor))
	fmt.Fprintf(b, "  reached final recipients: %s\n", FormatAmount(d.Unit, d.ToRecipients))
	fmt.Fprintf(b, "  held now: %s\n", showHolders(d.Unit, d.Holders))
	switch {
	case d.Handovers == 0:
		b.WriteString("  no hand-over has drawn on it\n")
	case len(a.Handovers) == 0:
		fmt.Fprintf(b, "  no hand-over from %d of %d\n", a.From, d.Handovers)
	default:
		fmt.Fprintf(b, "  hand-overs %d to %d of %d:\n", a.From, a.From+int64(len(a.Handovers))-1, d.Handovers)
	}
	for _, s := range a.Handovers {
		h := &s.Handover
		of := ""
		if h.Amount != s.Draw {
			of = fmt.Sprintf(" (of %s in all)", FormatAmount(h.Unit, h.Amount))
		}
		fmt.Fprintf(b, "    %d. %s  %s by %s: %s%s %s\n", s.N, h.Time, h.ID, h.Charity, FormatAmount(h.Unit, s.Draw), of,
			destination(h.ToAgency, h.ToRecipient))
		formatOutcome(b, h, "       ")
	}
	if a.Next != 0 {
		fmt.Fprintf(b, "  more: --from %d\n", a.Next)
	}
}

// formatOutcome says what became of a hand-over: accepted, confirmed.
func formatOutcome(b *strings.Builder, h *HandoverView, indent string) {
	switch {
	case h.ToAgency != "" && h.Accept != nil:
		fmt.Fprintf(b, "%saccepted by %s %s\n", indent, h.ToAgency, h.Accept.Time)
	case h.ToAgency != "":
		fmt.Fprintf(b, "%snot accepted yet: in transit\n", indent)
	case h.ToRecipient != "" && h.Feedback != nil:
		f := h.Feedback
		if f.Received == Short {
			fmt.Fprintf(b, "%sthe recipient reported a shortfall %s: %s arrived\n", indent, f.Time, FormatAmount(h.Unit, f.Amount))
		} else {
			fmt.Fprintf(b, "%sthe recipient confirmed it in full %s\n", indent, f.Time)
		}
	case h.ToRecipient != "":
		fmt.Fprintf(b, "%snot confirmed by the recipient (due %s)\n", indent, h.FeedbackDue)
	}
}

func formatRecipient(b *strings.Builder, a *RecipientAnswer) {
	fmt.Fprintf(b, "Final recipient %s: %d hand-overs\n", a.Recipient, a.Count)
	if len(a.Handovers) == 0 {
		fmt.Fprintf(b, "  none from %d\n", a.From)
	}
	for _, s := range a.Handovers {
		h := &s.Handover
		fmt.Fprintf(b, "  %d. %s  %s: %s from %s, campaign %s\n", s.N, h.Time, h.ID, FormatAmount(h.Unit, h.Amount), h.Charity, h.Campaign)
		formatOutcome(b, h, "     ")
		for _, d := range s.Donations {
			fmt.Fprintf(b, "     %s of donation %s (%s received %s from %s)\n", FormatAmount(h.Unit, drawOf(h.Draws, d.ID)),
				d.ID, FormatAmount(d.Unit, d.Amount), d.Time, showDonor(d.Donor))
		}
	}
	if a.Next != 0 {
		fmt.Fprintf(b, "  more: --from %d\n", a.Next)
	}
}

func formatCampaign(b *strings.Builder, a *CampaignAnswer) {
	fmt.Fprintf(b, "Campaign %s: %s\n", a.ID, a.Title)
	fmt.Fprintf(b, "  run by %s, opened %s\n", a.Charity, a.Opened)
	fmt.Fprintf(b, "  at most %d%% of the money received for administration; hand on by %s; recipients confirm within %d days\n",
		a.AdminShareMax, a.HandOnBy, a.FeedbackWithin)
	fmt.Fprintf(b, "  %d donations\n", a.Donations)
	for _, u := range a.Units {
		fmt.Fprintf(b, "  %s:\n", u.Unit)
		fmt.Fprintf(b, "    received          %s\n", FormatAmount(u.Unit, u.Received))
		fmt.Fprintf(b, "    to recipients     %s\n", FormatAmount(u.Unit, u.ToRecipients))
		if u.Kind == Money {
			fmt.Fprintf(b, "    administration    %s (%d.%02d%% of %d%% allowed)\n", FormatAmount(u.Unit, u.Administration),
				u.AdminShareBasisPoints/100, u.AdminShareBasisPoints%100, a.AdminShareMax)
		}
		fmt.Fprintf(b, "    held              %s", FormatAmount(u.Unit, u.Held))
		if u.InTransit > 0 {
			fmt.Fprintf(b, " (%s of it in transit between agencies)", FormatAmount(u.Unit, u.InTransit))
		}
		b.WriteString("\n")
	}
}
