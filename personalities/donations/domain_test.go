package donations_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/donations"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

var _ interface {
	rule.Domain
	rule.Authenticator
} = donations.New()

// TestExamples applies the examples of types.go, the feedback signed by the
// example recipient key.
func TestExamples(t *testing.T) {
	k := exampleRecipient(t)
	ruletest.CheckSignedExamples(t, donations.New(), func(e rule.Entry) (rule.Entry, error) {
		return signed(t, e.Type, e.Time, json.RawMessage(e.Body), k), nil
	})
}

// TestExampleCodeHash checks the code_hash of the hand-over example: the
// hash of the code the feedback example reveals.
func TestExampleCodeHash(t *testing.T) {
	const want = "c93bea1cf19f4602673c14d107533b67d1ba009ffd207809593d635b65beef26"
	if got := donations.CodeHash(code); got != want {
		t.Errorf("CodeHash(%q) = %s, want %s", code, got, want)
	}
	var found bool
	for _, ti := range donations.New().Types() {
		for _, ex := range ti.Examples {
			var b struct {
				CodeHash string `json:"code_hash"`
			}
			if err := json.Unmarshal(ex, &b); err != nil {
				t.Fatal(err)
			}
			if b.CodeHash != "" {
				found = true
				if b.CodeHash != donations.CodeHash(code) {
					t.Errorf("example %s has code_hash %s, want CodeHash(%q) = %s", ti.Type, b.CodeHash, code, donations.CodeHash(code))
				}
			}
		}
	}
	if !found {
		t.Error("no example has a code_hash")
	}
}

// checkRefused admits entries but the last into a new state, then judges
// the last with ruletest.CheckEntries (no panic, the same verdict on an
// overlay and on the state itself, no Put when refused) and checks its
// outcome: an error wrapping wantErr, whose text contains wantMsg, and the
// state as it was; or admission, and a changed state.
func checkRefused(t *testing.T, entries []rule.Entry, wantErr error, wantMsg string) {
	t.Helper()
	r := donations.New()
	st := ruletest.State{}
	ruletest.Apply(t, r, st, entries[:len(entries)-1]...)
	before := st.Clone()
	err := ruletest.CheckEntries(t, r, st, entries[len(entries)-1:], wantErr, wantMsg)
	switch {
	case err != nil && !ruletest.Equal(before, st):
		t.Errorf("refused, but the state changed:\n%s", ruletest.Diff(before, st))
	case err == nil && ruletest.Equal(before, st):
		t.Errorf("admitted, but the state did not change")
	}
}

// TestRefused is the list of bad input, each a case, beside the
// good input next to it.
func TestRefused(t *testing.T) {
	k, other := newKey(t, "recipient"), newKey(t, "recipient")
	notRecipient := newKey(t, "donor")
	open := openCampaign(t, charityA, "c-1")
	d1 := receive(t, charityA, "d-1", "c-1", cny, 100_000)
	d2 := receive(t, charityA, "d-2", "c-1", rice, 500)
	world := []rule.Entry{open, d1, d2}
	then := func(es ...rule.Entry) []rule.Entry { return append(append([]rule.Entry{}, world...), es...) }
	toR1 := toRecipient(recip1)
	h1 := handover(t, charityA, "h-1", "c-1", cny, toR1, draw("d-1", 30_000))
	hB := handover(t, charityA, "h-b", "c-1", cny, toAgency(charityB), draw("d-1", 30_000))
	fb := feedbackBody("h-1", k)
	raw := func(agency, typ, body string) rule.Entry { return entry(t, agency, typ, t0, body) }
	hRaw := func(amount string) string {
		return `{"campaign_id":"c-1","currency":"CNY","draws":[{"amount":` + amount + `,"donation_id":"d-1"}],"handover_id":"h-9","kind":"money","to_recipient":"` + recip1 + `","code_hash":"` + donations.CodeHash(code) + `"}`
	}
	rRaw := func(amount string) string {
		return `{"amount":` + amount + `,"campaign_id":"c-1","currency":"CNY","donation_id":"d-9","kind":"money"}`
	}
	manyMax := func(n int) []rule.Entry {
		es := []rule.Entry{open}
		for i := range n {
			es = append(es, receive(t, charityA, fmt.Sprintf("big-%d", i), "c-1", cny, maxAmount))
		}
		return es
	}

	tests := []struct {
		name    string
		entries []rule.Entry // all but the last must be admitted
		wantErr error
		wantMsg string
	}{
		// Hand-over above what remains.
		{"hand over all that remains", then(handover(t, charityA, "h-9", "c-1", cny, toR1, draw("d-1", 100_000))), nil, ""},
		{"hand over above what remains", then(handover(t, charityA, "h-9", "c-1", cny, toR1, draw("d-1", 100_001))),
			rule.ErrRuleViolation, "charity-a holds 100000 of donation d-1, not 100001"},
		{"hand over above what remains after a first", then(h1, handover(t, charityA, "h-9", "c-1", cny, toR1, draw("d-1", 70_001))),
			rule.ErrRuleViolation, "holds 70000 of donation d-1, not 70001"},
		{"hand over above what remains of one of two", then(handover(t, charityA, "h-9", "c-1", cny, toR1, draw("d-1", 1), draw("d-3", 2))),
			rule.ErrRuleViolation, "there is no donation d-3"},

		// Units.
		{"goods as money", then(handover(t, charityA, "h-9", "c-1", cny, toR1, draw("d-2", 100))),
			rule.ErrInvalidBody, "donation d-2 is counted in kg of rice, not CNY (minor units)"},
		{"money as goods", then(handover(t, charityA, "h-9", "c-1", rice, toAgency(charityB), draw("d-1", 100))),
			rule.ErrInvalidBody, "donation d-1 is counted in CNY (minor units), not kg of rice"},
		{"goods in another unit", then(handover(t, charityA, "h-9", "c-1", tons, toAgency(charityB), draw("d-2", 1))),
			rule.ErrInvalidBody, "donation d-2 is counted in kg of rice, not t of rice"},
		{"money in another currency", then(handover(t, charityA, "h-9", "c-1", usd, toR1, draw("d-1", 1))),
			rule.ErrInvalidBody, "not USD (minor units)"},
		{"goods in their unit", then(handover(t, charityA, "h-9", "c-1", rice, toAgency(charityB), draw("d-2", 500))), nil, ""},
		{"money with an item", then(receive(t, charityA, "d-9", "c-1", cny.set("item", "rice"), 1)),
			rule.ErrInvalidBody, "money has a currency, not an item or a unit"},
		{"goods with a currency", then(receive(t, charityA, "d-9", "c-1", rice.set("currency", "CNY"), 1)),
			rule.ErrInvalidBody, "goods have an item and a unit, not a currency"},
		{"currency in lower case", then(receive(t, charityA, "d-9", "c-1", cny.set("currency", "cny"), 1)),
			rule.ErrInvalidBody, `"currency" must be three capital letters`},
		{"unit in capitals", then(receive(t, charityA, "d-9", "c-1", rice.set("unit", "KG"), 1)),
			rule.ErrInvalidBody, `must each be 1 to 32 of [a-z0-9-]`},
		{"kind unknown", then(receive(t, charityA, "d-9", "c-1", cny.set("kind", "shares"), 1)),
			rule.ErrInvalidBody, `"kind" must be "money" or "goods"`},

		// Amounts.
		{"amount 2^53", then(raw(charityA, donations.TypeReceive, rRaw("9007199254740992"))), nil, ""},
		{"amount 2^53+1", then(raw(charityA, donations.TypeReceive, rRaw("9007199254740993"))),
			rule.ErrInvalidBody, `"amount" is more than 9007199254740992`},
		{"amount beyond int64", then(raw(charityA, donations.TypeReceive, rRaw("99999999999999999999"))),
			rule.ErrInvalidBody, `"amount" is more than 9007199254740992`},
		{"amount -1", then(raw(charityA, donations.TypeReceive, rRaw("-1"))), rule.ErrInvalidBody, `"amount" must not be negative`},
		{"amount 0", then(raw(charityA, donations.TypeReceive, rRaw("0"))), rule.ErrInvalidBody, `"amount" must be positive`},
		{"amount 1.5", then(raw(charityA, donations.TypeReceive, rRaw("1.5"))), rule.ErrInvalidBody, "without fraction or exponent"},
		{"amount 1e3", then(raw(charityA, donations.TypeReceive, rRaw("1e3"))), rule.ErrInvalidBody, "without fraction or exponent"},
		{"amount a string", then(raw(charityA, donations.TypeReceive, rRaw(`"5"`))), rule.ErrInvalidBody, `"amount" must be a number`},
		{"draw 2^53+1", then(raw(charityA, donations.TypeHandover, hRaw("9007199254740993"))),
			rule.ErrInvalidBody, `"draws[0].amount" is more than 9007199254740992`},
		{"draw -1", then(raw(charityA, donations.TypeHandover, hRaw("-1"))), rule.ErrInvalidBody, `"draws[0].amount" must not be negative`},
		{"draw 1.5", then(raw(charityA, donations.TypeHandover, hRaw("1.5"))), rule.ErrInvalidBody, "without fraction or exponent"},
		{"draw 1e3", then(raw(charityA, donations.TypeHandover, hRaw("1e3"))), rule.ErrInvalidBody, "without fraction or exponent"},
		{"draw 0", then(raw(charityA, donations.TypeHandover, hRaw("0"))), rule.ErrInvalidBody, "must be positive"},

		// Campaign totals. 1023 × 2^53 fits in an int64; 1024 × 2^53 = 2^63
		// does not.
		{"campaign totals up to the last that fits", manyMax(1023), nil, ""},
		{"campaign totals overflow", manyMax(1024), rule.ErrRuleViolation, "the campaign's total received would overflow"},

		// Feedback.
		{"feedback", then(h1, feedback(t, fb, k)), nil, ""},
		{"feedback with a wrong code", then(h1, feedback(t, fb.set("code", "plum-river-4821-otteR"), k)),
			rule.ErrRuleViolation, "that is not the code of hand-over h-1"},
		{"feedback twice", then(h1, feedback(t, fb, k), feedback(t, feedbackBody("h-1", other).set("received", donations.Short).set("amount", 1), other)),
			rule.ErrRuleViolation, "the recipient of hand-over h-1 has confirmed it already"},
		{"feedback twice, same body", then(h1, feedback(t, fb, k), signed(t, donations.TypeFeedback, t0.Add(2*time.Hour), fb, k)),
			rule.ErrRuleViolation, "has confirmed it already"},
		{"feedback signed by another key than the body's", then(h1, feedback(t, fb, k, other)),
			rule.ErrNotAuthorized, "the statement is signed by recipient+"},
		{"feedback signed twice", then(h1, feedback(t, fb, k, k, other)),
			rule.ErrNotAuthorized, "carries 2 signature lines"},
		{"feedback by a key not named recipient", then(h1, feedback(t, feedbackBody("h-1", notRecipient), notRecipient)),
			rule.ErrInvalidBody, `"signer" must be a key named "recipient"`},
		{"feedback on a hand-over to an agency", then(hB, feedback(t, feedbackBody("h-b", k), k)),
			rule.ErrRuleViolation, "hand-over h-b is not to a final recipient"},
		{"feedback on no hand-over", then(feedback(t, fb, k)), rule.ErrRuleViolation, "there is no hand-over h-1"},
		{"short feedback", then(h1, feedback(t, fb.set("received", donations.Short).set("amount", 29_999), k)), nil, ""},
		{"short feedback of nothing", then(h1, feedback(t, fb.set("received", donations.Short).set("amount", 0), k)), nil, ""},
		{"short feedback of all", then(h1, feedback(t, fb.set("received", donations.Short).set("amount", 30_000), k)),
			rule.ErrRuleViolation, "a shortfall is less than the 30000 handed over, not 30000"},
		{"short feedback of more", then(h1, feedback(t, fb.set("received", donations.Short).set("amount", 30_001), k)),
			rule.ErrRuleViolation, "a shortfall is less than the 30000 handed over, not 30001"},
		{"short feedback without amount", then(h1, feedback(t, fb.set("received", donations.Short), k)),
			rule.ErrInvalidBody, `missing field "amount"`},
		{"in-full feedback with amount", then(h1, feedback(t, fb.set("amount", 30_000), k)),
			rule.ErrInvalidBody, `field "amount" goes with "short"`},

		// Whose donation, which campaign.
		{"hand over another charity's donation", then(handover(t, charityB, "h-9", "c-1", cny, toR1, draw("d-1", 1))),
			rule.ErrNotAuthorized, "charity-b never held any of donation d-1"},
		{"hand over a donation of another campaign", then(openCampaign(t, charityA, "c-2"), receive(t, charityA, "d-9", "c-2", cny, 10),
			handover(t, charityA, "h-9", "c-1", cny, toR1, draw("d-9", 1))),
			rule.ErrRuleViolation, "donation d-9 is for campaign c-2, not c-1"},
		{"hand over in no campaign", then(handover(t, charityA, "h-9", "c-9", cny, toR1, draw("d-1", 1))),
			rule.ErrRuleViolation, "there is no campaign c-9"},

		// Administration.
		{"administration at its share", then(handover(t, charityA, "h-9", "c-1", cny, admin, draw("d-1", 5000))), nil, ""},
		{"administration one above its share", then(handover(t, charityA, "h-8", "c-1", cny, admin, draw("d-1", 5000)),
			handover(t, charityA, "h-9", "c-1", cny, admin, draw("d-1", 1))),
			rule.ErrRuleViolation, "campaign c-1 may spend at most 5% of the CNY (minor units) it received on administration"},
		{"administration above its share at once", then(handover(t, charityA, "h-9", "c-1", cny, admin, draw("d-1", 5001))),
			rule.ErrRuleViolation, "may spend at most 5%"},
		{"administration of goods", then(handover(t, charityA, "h-9", "c-1", rice, admin, draw("d-2", 1))),
			rule.ErrInvalidBody, "only money goes to administration"},
		{"administration false", then(handover(t, charityA, "h-9", "c-1", cny, obj{"administration": false}, draw("d-1", 1))),
			rule.ErrInvalidBody, `field "administration" is true or absent`},

		// Destinations.
		{"two destinations", then(handover(t, charityA, "h-9", "c-1", cny, toR1.with(toAgency(charityB)), draw("d-1", 1))),
			rule.ErrInvalidBody, "a hand-over has exactly one of"},
		{"agency and administration", then(handover(t, charityA, "h-9", "c-1", cny, admin.with(toAgency(charityB)), draw("d-1", 1))),
			rule.ErrInvalidBody, "a hand-over has exactly one of"},
		{"no destination", then(handover(t, charityA, "h-9", "c-1", cny, obj{}, draw("d-1", 1))),
			rule.ErrInvalidBody, "a hand-over has exactly one of"},
		{"code_hash without to_recipient", then(handover(t, charityA, "h-9", "c-1", cny, toAgency(charityB).set("code_hash", donations.CodeHash(code)), draw("d-1", 1))),
			rule.ErrInvalidBody, `field "code_hash" goes with "to_recipient"`},
		{"to_recipient without code_hash", then(handover(t, charityA, "h-9", "c-1", cny, toR1.without("code_hash"), draw("d-1", 1))),
			rule.ErrInvalidBody, `missing field "code_hash"`},
		{"no draws", then(handover(t, charityA, "h-9", "c-1", cny, toR1)), rule.ErrInvalidBody, `"draws" has 0 elements`},
		{"one donation drawn twice", then(handover(t, charityA, "h-9", "c-1", cny, toR1, draw("d-1", 1), draw("d-1", 2))),
			rule.ErrInvalidBody, "donation d-1 is drawn on twice"},
		{"hand-over to oneself", then(handover(t, charityA, "h-9", "c-1", cny, toAgency(charityA), draw("d-1", 1))),
			rule.ErrRuleViolation, "charity-a hands over to itself"},

		// Donations.
		{"donation to another charity's campaign", then(receive(t, charityB, "d-9", "c-1", cny, 1)),
			rule.ErrNotAuthorized, "campaign c-1 is run by charity-a"},
		{"donation to no campaign", then(receive(t, charityA, "d-9", "c-9", cny, 1)), rule.ErrRuleViolation, "there is no campaign c-9"},
		{"donation on the last second", then(entry(t, charityA, donations.TypeReceive, closed.Add(-time.Second), receiveBody("d-9", "c-1", cny, 1))), nil, ""},
		{"donation after hand_on_by", then(entry(t, charityA, donations.TypeReceive, closed, receiveBody("d-9", "c-1", cny, 1))),
			rule.ErrRuleViolation, "campaign c-1 takes no donation after 2027-12-31"},
		{"donor not a commitment", then(receive(t, charityA, "d-9", "c-1", cny.set("donor", "Zhang San"), 1)),
			rule.ErrInvalidBody, `"donor"`},
		{"anonymous donation", then(receive(t, charityA, "d-9", "c-1", cny, 1)), nil, ""},
		{"donation with its donor", then(receive(t, charityA, "d-9", "c-1", cny.set("donor", donor), 1)), nil, ""},

		// Accepting.
		{"accept", then(hB, accept(t, charityB, "h-b")), nil, ""},
		{"accept by the wrong agency", then(hB, accept(t, charityC, "h-b")), rule.ErrNotAuthorized, "hand-over h-b is to charity-b"},
		{"accept by the giver", then(hB, accept(t, charityA, "h-b")), rule.ErrNotAuthorized, "hand-over h-b is to charity-b"},
		{"accept twice", then(hB, accept(t, charityB, "h-b"), accept(t, charityB, "h-b")),
			rule.ErrRuleViolation, "hand-over h-b was accepted already"},
		{"accept a hand-over to a recipient", then(h1, accept(t, charityB, "h-1")), rule.ErrRuleViolation, "hand-over h-1 is not to an agency"},
		{"accept no hand-over", then(accept(t, charityB, "h-9")), rule.ErrRuleViolation, "there is no hand-over h-9"},

		// Campaigns.
		{"campaign closing today", []rule.Entry{entry(t, charityA, donations.TypeCampaignOpen, t0, campaignBody("c-9").set("hand_on_by", "2027-03-01"))}, nil, ""},
		{"campaign closed yesterday", []rule.Entry{entry(t, charityA, donations.TypeCampaignOpen, t0, campaignBody("c-9").set("hand_on_by", "2027-02-28"))},
			rule.ErrRuleViolation, "campaign c-9 must be handed on by 2027-02-28, which has passed"},
		{"admin share above 100", []rule.Entry{entry(t, charityA, donations.TypeCampaignOpen, t0, campaignBody("c-9").set("admin_share_max_percent", 101))},
			rule.ErrInvalidBody, "at most 100"},
		{"feedback within 366 days", []rule.Entry{entry(t, charityA, donations.TypeCampaignOpen, t0, campaignBody("c-9").set("feedback_within_days", 366))},
			rule.ErrInvalidBody, "at most 365"},
		{"feedback within 0 days", []rule.Entry{entry(t, charityA, donations.TypeCampaignOpen, t0, campaignBody("c-9").set("feedback_within_days", 0))},
			rule.ErrInvalidBody, `"feedback_within_days" must be positive`},
		{"title of 129", []rule.Entry{entry(t, charityA, donations.TypeCampaignOpen, t0, campaignBody("c-9").set("title", strings.Repeat("救", 129)))},
			rule.ErrInvalidBody, `"title"`},
		{"agency not a registry ID", []rule.Entry{openCampaign(t, "Charity A", "c-9")}, rule.ErrRuleViolation, "is not a registry ID"},

		// Duplicate IDs.
		{"duplicate campaign", then(openCampaign(t, charityB, "c-1")), rule.ErrAlreadyExists, "campaign c-1"},
		{"duplicate donation", then(receive(t, charityA, "d-1", "c-1", cny, 1)), rule.ErrAlreadyExists, "donation d-1"},
		{"duplicate hand-over", then(h1, handover(t, charityA, "h-1", "c-1", cny, admin, draw("d-1", 1))), rule.ErrAlreadyExists, "hand-over h-1"},

		// Types and bodies.
		{"unknown type", then(raw(charityA, "donations.refund", `{}`)), rule.ErrUnknownType, `"donations.refund" is not a statement type of the donations log`},
		{"unknown field", then(receive(t, charityA, "d-9", "c-1", cny.set("note", "x"), 1)), rule.ErrInvalidBody, `unknown field "note"`},
		{"body not JSON", then(raw(charityA, donations.TypeAccept, `{"handover_id":`)), rule.ErrInvalidBody, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkRefused(t, tt.entries, tt.wantErr, tt.wantMsg) })
	}
}

// TestApplyNeedsAuthentication: Apply itself refuses a feedback that did
// not go through Authenticate (rule.Admit), or was authenticated as another
// signer; and Authenticate knows no agency's type.
func TestApplyNeedsAuthentication(t *testing.T) {
	ctx := context.Background()
	k := newKey(t, "recipient")
	r := donations.New()
	st := ruletest.State{}
	ruletest.Apply(t, r, st, openCampaign(t, charityA, "c-1"), receive(t, charityA, "d-1", "c-1", cny, 10),
		handover(t, charityA, "h-1", "c-1", cny, toRecipient(recip1), draw("d-1", 10)))
	e := feedback(t, feedbackBody("h-1", k), k)
	for _, signer := range []string{"", "recipient+00000000", charityA} {
		e.Signer = signer
		if err := r.Apply(ctx, ruletest.NewOverlay(st), e); !errors.Is(err, rule.ErrNotAuthorized) {
			t.Errorf("Apply with signer %q = %v, want ErrNotAuthorized", signer, err)
		}
	}
	if _, err := r.Authenticate(ctx, st, openCampaign(t, charityA, "c-2")); !errors.Is(err, rule.ErrUnknownType) {
		t.Errorf("Authenticate(campaign.open) = %v, want ErrUnknownType", err)
	}
	// A feedback signed by an agency's key is refused whatever the registry says.
	agencyKey := newKey(t, charityA)
	e = signed(t, donations.TypeFeedback, t0, feedbackBody("h-1", k), agencyKey)
	e.Agency = charityA
	if _, err := ruletest.Admit(ctx, r, st, e, ruletest.AsAgency(charityA)); !errors.Is(err, rule.ErrNotAuthorized) {
		t.Errorf("feedback signed by an agency = %v, want ErrNotAuthorized", err)
	}
}

func TestRequiredRole(t *testing.T) {
	r := donations.New()
	if r.Log() != "donations" {
		t.Errorf("Log() = %q", r.Log())
	}
	for typ, want := range map[string]string{
		donations.TypeCampaignOpen: donations.RoleCharity, donations.TypeReceive: donations.RoleCharity,
		donations.TypeHandover: donations.RoleCharity, donations.TypeAccept: donations.RoleCharity,
		donations.TypeFeedback: rule.SelfSigned,
	} {
		if role, err := r.RequiredRole(typ); err != nil || role != want {
			t.Errorf("RequiredRole(%s) = %q, %v; want %q", typ, role, err, want)
		}
	}
	for _, typ := range []string{"", "donations", "donations.Receive", "funds.transfer"} {
		if _, err := r.RequiredRole(typ); !errors.Is(err, rule.ErrUnknownType) {
			t.Errorf("RequiredRole(%q) = %v, want ErrUnknownType", typ, err)
		}
	}
}

// world is a donations state with the reads the tests make of it.
type world struct {
	t  *testing.T
	r  *donations.Rules
	st ruletest.State
}

func newWorld(t *testing.T) *world { return &world{t, donations.New(), ruletest.State{}} }

func (w *world) must(es ...rule.Entry) {
	w.t.Helper()
	ruletest.Apply(w.t, w.r, w.st, es...)
}

// refuse checks that e is refused with wantErr and a message with wantMsg,
// and leaves the state as it was.
func (w *world) refuse(e rule.Entry, wantErr error, wantMsg string) {
	w.t.Helper()
	before := w.st.Clone()
	_, err := ruletest.Admit(w.t.Context(), w.r, w.st, e, nil)
	if !errors.Is(err, wantErr) || !strings.Contains(fmt.Sprint(err), wantMsg) {
		w.t.Errorf("%s %s = %v, want %v (%q)", e.Type, e.Body, err, wantErr, wantMsg)
	}
	if !ruletest.Equal(before, w.st) {
		w.t.Errorf("%s refused, but the state changed:\n%s", e.Type, ruletest.Diff(before, w.st))
	}
}

func (w *world) campaign(id string) donations.Campaign {
	w.t.Helper()
	c, ok, err := donations.ReadCampaign(w.t.Context(), w.st, id)
	if err != nil || !ok {
		w.t.Fatalf("ReadCampaign(%s) = %v, %v", id, ok, err)
	}
	return c
}

func (w *world) totals(campaign string, unit obj) donations.Totals {
	w.t.Helper()
	key := "money:" + fmt.Sprint(unit["currency"])
	if unit["kind"] == donations.Goods {
		key = fmt.Sprintf("goods:%s/%s", unit["item"], unit["unit"])
	}
	return w.campaign(campaign).Totals[key]
}

func (w *world) donation(id string) donations.Donation {
	w.t.Helper()
	d, ok, err := donations.ReadDonation(w.t.Context(), w.st, id)
	if err != nil || !ok {
		w.t.Fatalf("ReadDonation(%s) = %v, %v", id, ok, err)
	}
	return d
}

func (w *world) handover(id string) donations.Handover {
	w.t.Helper()
	h, ok, err := donations.ReadHandover(w.t.Context(), w.st, id)
	if err != nil || !ok {
		w.t.Fatalf("ReadHandover(%s) = %v, %v", id, ok, err)
	}
	return h
}

func (w *world) charity(id string) donations.CharityStats {
	w.t.Helper()
	s, err := donations.ReadCharity(w.t.Context(), w.st, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) value(key string) (string, bool) {
	v, ok := w.st[key]
	return string(v), ok
}

func (w *world) checkTotals(what string, got, want donations.Totals, held int64) {
	w.t.Helper()
	if got != want || got.Held() != held || got.HandedOn() != want.ToRecipients+want.Administration {
		w.t.Errorf("%s: totals %+v (held %d, handed on %d), want %+v (held %d)", what, got, got.Held(), got.HandedOn(), want, held)
	}
}

func (w *world) checkHolders(what, donation string, want map[string]int64) {
	w.t.Helper()
	if got := w.donation(donation).Holders; !maps.Equal(got, want) {
		w.t.Errorf("%s: holders of %s = %v, want %v", what, donation, got, want)
	}
}

// TestFlow follows a donation from charity A to partner B, which accepts
// it, and on to a recipient who confirms it; with administration beside.
func TestFlow(t *testing.T) {
	k := newKey(t, "recipient")
	w := newWorld(t)
	w.must(
		openCampaign(t, charityA, "c-1"),
		receive(t, charityA, "d-1", "c-1", cny.set("donor", donor), 100_000),
		receive(t, charityA, "d-2", "c-1", rice, 500),
	)
	w.checkTotals("received", w.totals("c-1", cny), donations.Totals{Received: 100_000}, 100_000)
	w.checkTotals("received goods", w.totals("c-1", rice), donations.Totals{Received: 500}, 500)
	w.checkHolders("received", "d-1", map[string]int64{charityA: 100_000})
	if c := w.campaign("c-1"); c.Donations != 2 || c.Charity != charityA || c.AdminShareMax != 5 || c.HandOnBy != handOnBy || c.FeedbackWithin != 14 ||
		c.Opened != "2027-03-01T09:00:00Z" || len(c.LeafHash) != 64 {
		t.Errorf("campaign = %+v", c)
	}
	if d := w.donation("d-1"); d.Donor != donor || d.Amount != 100_000 || d.Charity != charityA || d.Campaign != "c-1" || d.Unit.Key() != "money:CNY" {
		t.Errorf("donation = %+v", d)
	}

	// A hands 40000 to B: in transit, A holds less.
	w.must(handover(t, charityA, "h-1", "c-1", cny, toAgency(charityB), draw("d-1", 40_000)))
	w.checkHolders("in transit", "d-1", map[string]int64{charityA: 60_000})
	w.checkTotals("in transit", w.totals("c-1", cny), donations.Totals{Received: 100_000, InTransit: 40_000}, 100_000)
	if h := w.handover("h-1"); h.Amount != 40_000 || h.ToAgency != charityB || h.Accepted != "" || h.Charity != charityA || h.FeedbackDue != "" {
		t.Errorf("hand-over in transit = %+v", h)
	}

	// B cannot draw on it before accepting; C cannot accept it.
	w.refuse(handover(t, charityB, "h-2", "c-1", cny, toRecipient(recip1), draw("d-1", 1)), rule.ErrNotAuthorized, "charity-b never held any of donation d-1")
	w.refuse(accept(t, charityC, "h-1"), rule.ErrNotAuthorized, "hand-over h-1 is to charity-b")

	// B accepts: it holds 40000.
	acc := accept(t, charityB, "h-1")
	w.must(acc)
	w.checkHolders("accepted", "d-1", map[string]int64{charityA: 60_000, charityB: 40_000})
	w.checkTotals("accepted", w.totals("c-1", cny), donations.Totals{Received: 100_000}, 100_000)
	if h := w.handover("h-1"); h.Accepted != fmt.Sprintf("%x", acc.LeafHash) {
		t.Errorf("accepted = %q, want the accept's leaf hash", h.Accepted)
	}
	w.refuse(accept(t, charityB, "h-1"), rule.ErrRuleViolation, "was accepted already")
	w.refuse(handover(t, charityB, "h-2", "c-1", cny, toRecipient(recip1), draw("d-1", 40_001)), rule.ErrRuleViolation, "charity-b holds 40000 of donation d-1, not 40001")

	// B hands 30000 on to a recipient.
	w.must(entry(t, charityB, donations.TypeHandover, t0.Add(time.Hour), handoverBody("h-2", "c-1", cny, toRecipient(recip1), draw("d-1", 30_000))))
	w.checkHolders("to a recipient", "d-1", map[string]int64{charityA: 60_000, charityB: 10_000})
	w.checkTotals("to a recipient", w.totals("c-1", cny), donations.Totals{Received: 100_000, ToRecipients: 30_000}, 70_000)
	if d := w.donation("d-1"); d.ToRecipients != 30_000 || d.Handovers != 2 {
		t.Errorf("donation d-1: to recipients %d, hand-overs %d; want 30000, 2", d.ToRecipients, d.Handovers)
	}
	h2 := w.handover("h-2")
	if h2.ToRecipient != recip1 || h2.CodeHash != donations.CodeHash(code) || h2.Charity != charityB || h2.Feedback != nil ||
		h2.FeedbackDue != "2027-03-15T10:00:00Z" {
		t.Errorf("hand-over to a recipient = %+v", h2)
	}
	for key, want := range map[string]string{
		donations.DonationOutKey("d-1", 1):        "h-1",
		donations.DonationOutKey("d-1", 2):        "h-2",
		donations.RecipientKey(recip1, 0):         "1",
		donations.RecipientKey(recip1, 1):         "h-2",
		donations.FeedbackDueKey(charityB, "h-2"): "2027-03-15T10:00:00Z",
	} {
		if got, ok := w.value(key); !ok || got != want {
			t.Errorf("%s = %q, %v; want %q", key, got, ok, want)
		}
	}

	// A keeps 5000 for administration (5% of 100000), not a unit more.
	w.must(handover(t, charityA, "h-3", "c-1", cny, admin, draw("d-1", 5000)))
	w.refuse(handover(t, charityA, "h-4", "c-1", cny, admin, draw("d-1", 1)), rule.ErrRuleViolation, "may spend at most 5%")
	// B spending on administration counts against the same share.
	w.refuse(handover(t, charityB, "h-4", "c-1", cny, admin, draw("d-1", 1)), rule.ErrRuleViolation, "may spend at most 5%")

	// The recipient confirms in full.
	fb := feedback(t, feedbackBody("h-2", k), k)
	w.must(fb)
	h2 = w.handover("h-2")
	wantFB := donations.Feedback{Received: donations.InFull, Amount: 30_000, Signer: strings.Join(strings.Split(k.vkey, "+")[:2], "+"),
		Time: "2027-03-01T10:00:00Z", LeafHash: fmt.Sprintf("%x", fb.LeafHash)}
	if h2.Feedback == nil || *h2.Feedback != wantFB {
		t.Errorf("feedback = %+v, want %+v", h2.Feedback, wantFB)
	}
	if v, ok := w.value(donations.FeedbackDueKey(charityB, "h-2")); !ok || v != "" {
		t.Errorf("feedback due after the feedback = %q, %v; want empty", v, ok)
	}
	w.refuse(feedback(t, feedbackBody("h-2", k), k), rule.ErrRuleViolation, "has confirmed it already")

	w.checkTotals("at the end", w.totals("c-1", cny), donations.Totals{Received: 100_000, ToRecipients: 30_000, Administration: 5000}, 65_000)
	w.checkHolders("at the end", "d-1", map[string]int64{charityA: 55_000, charityB: 10_000})
	if d := w.donation("d-1"); d.ToRecipients != 30_000 || d.Handovers != 3 {
		t.Errorf("donation d-1 at the end: to recipients %d, hand-overs %d; want 30000, 3", d.ToRecipients, d.Handovers)
	}
	if got, want := w.charity(charityA), (donations.CharityStats{Campaigns: 1, Donations: 2, Handovers: 2}); got != want {
		t.Errorf("charity A = %+v, want %+v", got, want)
	}
	if got, want := w.charity(charityB), (donations.CharityStats{Handovers: 1, ToRecipients: 1, Confirmed: 1}); got != want {
		t.Errorf("charity B = %+v, want %+v", got, want)
	}
	if got := w.charity(charityC); got != (donations.CharityStats{}) {
		t.Errorf("charity C = %+v, want nothing", got)
	}

	// Out never exceeds in: what the holders hold and what left adds up.
	var held int64
	for _, n := range w.donation("d-1").Holders {
		held += n
	}
	tot := w.totals("c-1", cny)
	if held+tot.HandedOn()+tot.InTransit != tot.Received {
		t.Errorf("held %d + handed on %d + in transit %d != received %d", held, tot.HandedOn(), tot.InTransit, tot.Received)
	}
}

// TestShortFeedback: a recipient reports a shortfall.
func TestShortFeedback(t *testing.T) {
	k := newKey(t, "recipient")
	w := newWorld(t)
	w.must(openCampaign(t, charityA, "c-1"), receive(t, charityA, "d-2", "c-1", rice, 500),
		handover(t, charityA, "h-1", "c-1", rice, toRecipient(recip2), draw("d-2", 200)),
		handover(t, charityA, "h-2", "c-1", rice, toRecipient(recip2), draw("d-2", 100)))
	w.must(feedback(t, feedbackBody("h-1", k).set("received", donations.Short).set("amount", 150), k))
	if f := w.handover("h-1").Feedback; f == nil || f.Received != donations.Short || f.Amount != 150 {
		t.Errorf("feedback = %+v", f)
	}
	if got, want := w.charity(charityA), (donations.CharityStats{Campaigns: 1, Donations: 1, Handovers: 2, ToRecipients: 2, Confirmed: 1, Short: 1}); got != want {
		t.Errorf("charity A = %+v, want %+v", got, want)
	}
	for key, want := range map[string]string{
		donations.RecipientKey(recip2, 0): "2", donations.RecipientKey(recip2, 1): "h-1", donations.RecipientKey(recip2, 2): "h-2",
		donations.FeedbackDueKey(charityA, "h-1"): "", donations.FeedbackDueKey(charityA, "h-2"): "2027-03-15T09:00:00Z",
	} {
		if got, ok := w.value(key); !ok || got != want {
			t.Errorf("%s = %q, %v; want %q", key, got, ok, want)
		}
	}
	w.checkTotals("goods", w.totals("c-1", rice), donations.Totals{Received: 500, ToRecipients: 300}, 200)
}

// TestHandoverRace: two hand-overs each drawing the whole remainder of a
// donation, applied one after the other as admission serializes them:
// exactly one wins, the other is refused as above what remains.
func TestHandoverRace(t *testing.T) {
	for _, first := range []int64{0, 40} {
		t.Run(fmt.Sprintf("after %d drawn", first), func(t *testing.T) {
			w := newWorld(t)
			w.must(openCampaign(t, charityA, "c-1"), receive(t, charityA, "d-1", "c-1", cny, 100))
			if first > 0 {
				w.must(handover(t, charityA, "h-0", "c-1", cny, toAgency(charityB), draw("d-1", first)))
			}
			rest := 100 - first
			a := handover(t, charityA, "h-a", "c-1", cny, toRecipient(recip1), draw("d-1", rest))
			b := handover(t, charityA, "h-b", "c-1", cny, toRecipient(recip2), draw("d-1", rest))
			w.must(a)
			w.refuse(b, rule.ErrRuleViolation, "donation d-1")
		})
	}
}

// TestReplay checks what monitors rely on: replaying the log of the entries
// admitted, feedback signatures verified again, gives the state admission
// built. The log covers every type, and refused entries between.
func TestReplay(t *testing.T) {
	ctx := context.Background()
	r := donations.New()
	keys := []key{newKey(t, "recipient"), newKey(t, "recipient"), exampleRecipient(t)}
	charities := []string{charityA, charityB, charityC}
	var submitted []rule.Entry
	add := func(agency, typ string, at time.Time, body obj) {
		submitted = append(submitted, entry(t, agency, typ, at, body))
	}
	for c, ch := range charities {
		add(ch, donations.TypeCampaignOpen, t0, campaignBody(fmt.Sprintf("c-%d", c)).set("admin_share_max_percent", 10))
	}
	units := []obj{cny, rice, usd}
	for i := range 120 {
		at := t0.Add(time.Duration(i) * time.Hour)
		c := i % len(charities)
		ch, camp := charities[c], fmt.Sprintf("c-%d", c)
		unit := units[i%len(units)]
		d := fmt.Sprintf("d-%d", i/6*6+c) // a donation made a few steps before, often
		switch i % 6 {
		case 0, 1, 2:
			add(ch, donations.TypeReceive, at, receiveBody(fmt.Sprintf("d-%d", i), camp, unit, 1000+i))
		case 3:
			add(ch, donations.TypeHandover, at, handoverBody(fmt.Sprintf("h-%d", i), camp, units[c%len(units)], toAgency(charities[(c+1)%3]), draw(d, 300)))
		case 4:
			prev := fmt.Sprintf("h-%d", i-1)
			add(charities[(i-1)%3+0], donations.TypeAccept, at, obj{"handover_id": prev}) // often the wrong agency
			add(charities[((i-1)%3+1)%3], donations.TypeAccept, at, obj{"handover_id": prev})
			// The accepting charity draws on it.
			taker := charities[((i-1)%3+1)%3]
			add(taker, donations.TypeHandover, at, handoverBody(fmt.Sprintf("h-%d", i), fmt.Sprintf("c-%d", (i-1)%3), units[((i-1)%3)%len(units)],
				toRecipient(commitment(i%5)), draw(fmt.Sprintf("d-%d", (i-1)/6*6+(i-1)%3), 200)))
		case 5:
			add(ch, donations.TypeHandover, at, handoverBody(fmt.Sprintf("a-%d", i), camp, cny, admin, draw(fmt.Sprintf("d-%d", i/6*6), 90)))
			k := keys[i%len(keys)]
			fb := feedbackBody(fmt.Sprintf("h-%d", i-1), k)
			if i%4 == 1 {
				fb = fb.set("received", donations.Short).set("amount", i%200)
			}
			submitted = append(submitted, signed(t, donations.TypeFeedback, at, fb, k))
			submitted = append(submitted, signed(t, donations.TypeFeedback, at, fb, k)) // twice: refused
		}
	}
	st := ruletest.State{}
	var log []rule.Entry
	admittedTypes := map[string]int{}
	for _, e := range submitted {
		e.Index = uint64(len(log))
		a, err := ruletest.Admit(ctx, r, st, e, nil)
		if err == nil {
			log = append(log, a)
			admittedTypes[e.Type]++
		} else if !rule.IsRefusal(err) {
			t.Fatal(err)
		}
	}
	for _, ti := range r.Types() {
		if admittedTypes[ti.Type] == 0 {
			t.Errorf("no %s admitted: %v", ti.Type, admittedTypes)
		}
	}
	if len(log) < 60 || len(log) == len(submitted) {
		t.Fatalf("%d of %d entries admitted (%v): the test exercises too little", len(log), len(submitted), admittedTypes)
	}
	ruletest.ReplayEqualsState(t, r, log, st)
}

// TestStorageFailures: a failure of the state is returned as such, for
// every type, wrapping no rule sentinel.
func TestStorageFailures(t *testing.T) {
	r := donations.New()
	k := newKey(t, "recipient")
	st := ruletest.State{}
	ruletest.Apply(t, r, st,
		openCampaign(t, charityA, "c-1"),
		receive(t, charityA, "d-1", "c-1", cny, 100_000),
		receive(t, charityA, "d-2", "c-1", cny, 100_000),
		handover(t, charityA, "h-1", "c-1", cny, toRecipient(recip1), draw("d-1", 10)),
		handover(t, charityA, "h-2", "c-1", cny, toAgency(charityB), draw("d-1", 10), draw("d-2", 10)),
	)
	for _, e := range []rule.Entry{
		openCampaign(t, charityA, "c-2"),
		receive(t, charityA, "d-3", "c-1", cny, 1),
		handover(t, charityA, "h-3", "c-1", cny, toRecipient(recip1), draw("d-1", 1), draw("d-2", 1)),
		handover(t, charityA, "h-3", "c-1", cny, admin, draw("d-1", 1)),
		accept(t, charityB, "h-2"),
		feedback(t, feedbackBody("h-1", k), k),
	} {
		t.Run(e.Type, func(t *testing.T) { ruletest.CheckStorageFailures(t, r, st, e) })
	}
}

// TestCorruptState: a state the rules did not write is a failure of the
// state, not the statement's fault.
func TestCorruptState(t *testing.T) {
	k := newKey(t, "recipient")
	tests := []struct {
		name    string
		corrupt func(ruletest.State)
		e       func() rule.Entry
	}{
		{"campaign not JSON", func(m ruletest.State) { m[donations.CampaignKey("c-1")] = []byte("{") },
			func() rule.Entry { return receive(t, charityA, "d-9", "c-1", cny, 1) }},
		{"donation not JSON", func(m ruletest.State) { m[donations.DonationKey("d-1")] = []byte("[]") },
			func() rule.Entry { return handover(t, charityA, "h-9", "c-1", cny, admin, draw("d-1", 1)) }},
		{"hand-over not JSON", func(m ruletest.State) { m[donations.HandoverKey("h-1")] = []byte("7") },
			func() rule.Entry { return feedback(t, feedbackBody("h-1", k), k) }},
		{"charity not JSON", func(m ruletest.State) { m[donations.CharityKey(charityA)] = []byte("x") },
			func() rule.Entry { return openCampaign(t, charityA, "c-9") }},
		{"recipient count not a number", func(m ruletest.State) { m[donations.RecipientKey(recip1, 0)] = []byte("one") },
			func() rule.Entry {
				return handover(t, charityA, "h-9", "c-1", cny, toRecipient(recip1), draw("d-1", 1))
			}},
	}
	r := donations.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ruletest.State{}
			ruletest.Apply(t, r, st, openCampaign(t, charityA, "c-1"), receive(t, charityA, "d-1", "c-1", cny, 100),
				handover(t, charityA, "h-1", "c-1", cny, toRecipient(recip1), draw("d-1", 10)))
			tt.corrupt(st)
			if _, err := ruletest.Admit(context.Background(), r, st, tt.e(), nil); err == nil || rule.IsRefusal(err) {
				t.Errorf("Admit = %v, want a state error wrapping no rule sentinel", err)
			}
		})
	}
}

// TestReadMissing: the readers say "none" of an ID they cannot hold.
func TestReadMissing(t *testing.T) {
	ctx := context.Background()
	st := ruletest.State{}
	for _, id := range []string{"x", "a/b", ""} {
		if _, ok, err := donations.ReadCampaign(ctx, st, id); ok || err != nil {
			t.Errorf("ReadCampaign(%q) = %v, %v", id, ok, err)
		}
		if _, ok, err := donations.ReadDonation(ctx, st, id); ok || err != nil {
			t.Errorf("ReadDonation(%q) = %v, %v", id, ok, err)
		}
		if _, ok, err := donations.ReadHandover(ctx, st, id); ok || err != nil {
			t.Errorf("ReadHandover(%q) = %v, %v", id, ok, err)
		}
	}
}
