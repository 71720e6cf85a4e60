package donations

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/govlog/govlog/personalities/rule"
)

// qCheckCites checks that the answer's leaf_hash members are the entries
// it cites.
func qCheckCites(t *testing.T, b []byte, cited []string) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	got := qLeafHashes(doc)
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(cited))) {
		t.Errorf("leaf_hash members %q, cited %q", got, cited)
	}
}

func TestQueryDonation(t *testing.T) {
	l := qScenario(t)
	tests := []struct {
		id           string
		handovers    []string
		draws        []int64
		toRecipients int64
		holders      map[string]int64
		cites        int
		wantCheck    string
	}{
		{"d-1", []string{"h-1", "h-3", "h-5", "h-6"}, []int64{30000, 5000, 20000, 10000}, 50000, map[string]int64{qCharity: 35000}, 6,
			"donation d-1: its donations.receive and all 4 hand-overs match their entries, in log order; what each agency holds (city-a 350.00 CNY), " +
				"the 100.00 CNY in transit and the 500.00 CNY that reached final recipients add up from its 1,000.00 CNY"},
		{"d-2", []string{"h-2", "h-4"}, []int64{200, 150}, 150, map[string]int64{qCharity: 300, qPartner: 50}, 5,
			"donation d-2: its donations.receive and all 2 hand-overs match their entries, in log order; what each agency holds " +
				"(city-a 300 kg of rice, partner-charity 50 kg of rice), the 0 kg of rice in transit and the 150 kg of rice that reached final recipients add up from its 500 kg of rice"},
		{"d-3", []string{"h-5"}, []int64{10000}, 10000, map[string]int64{qCharity: 40000}, 2, "donation d-3: its donations.receive and all 1 hand-overs"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			res, _, err := l.r.Query(context.Background(), l.view(), QueryDonation, map[string]string{"id": tt.id})
			if err != nil {
				t.Fatal(err)
			}
			a := res.(*DonationTrace)
			var ids []string
			var draws []int64
			for _, s := range a.Handovers {
				ids = append(ids, s.Handover.ID)
				draws = append(draws, s.Draw)
			}
			if a.Donation.ID != tt.id || !slices.Equal(ids, tt.handovers) || !slices.Equal(draws, tt.draws) || a.From != 1 || a.Next != 0 ||
				a.Donation.ToRecipients != tt.toRecipients || fmt.Sprint(a.Donation.Holders) != fmt.Sprint(tt.holders) {
				t.Fatalf("answer %+v", a)
			}
			b, ps, cited := qAsk(t, l, QueryDonation, map[string]string{"id": tt.id})
			if len(cited) != tt.cites {
				t.Errorf("%d entries cited, want %d", len(cited), tt.cites)
			}
			qCheckCites(t, b, cited)
			checked, err := l.r.CheckAnswer(QueryDonation, map[string]string{"id": tt.id}, b, ps)
			if err != nil || !strings.HasPrefix(checked, tt.wantCheck) {
				t.Errorf("CheckAnswer = %q, %v\nwant it to begin %q", checked, err, tt.wantCheck)
			}
		})
	}
	// What d-1's hand-overs show: the feedback of h-1, the administration
	// of h-3, h-5 waiting for feedback, h-6 in transit; d-2's acceptance.
	res, _, _ := l.r.Query(context.Background(), l.view(), QueryDonation, map[string]string{"id": "d-1"})
	a := res.(*DonationTrace)
	if h := a.Handovers[0].Handover; h.ToRecipient != qR1 || h.Feedback == nil || h.Feedback.Received != InFull || h.Feedback.Amount != 30000 || h.FeedbackDue == "" {
		t.Errorf("h-1 = %+v", h)
	}
	if h := a.Handovers[1].Handover; !h.Administration || h.Accept != nil || h.Feedback != nil {
		t.Errorf("h-3 = %+v", h)
	}
	if h := a.Handovers[2].Handover; h.Feedback != nil || h.FeedbackDue != "2027-03-15T15:00:00Z" || len(h.Draws) != 2 || h.Amount != 30000 {
		t.Errorf("h-5 = %+v", h)
	}
	if h := a.Handovers[3].Handover; h.ToAgency != qPartner || h.Accept != nil {
		t.Errorf("h-6 = %+v", h)
	}
	res, _, _ = l.r.Query(context.Background(), l.view(), QueryDonation, map[string]string{"id": "d-2"})
	if h := res.(*DonationTrace).Handovers[0].Handover; h.Accept == nil || h.Accept.Time != "2027-03-01T13:00:00Z" {
		t.Errorf("h-2 = %+v", h)
	}
}

// A donation split 1,000 ways is answered in one page, and checked whole;
// smaller pages are checked as pages.
func TestQueryDonationSplit(t *testing.T) {
	l := qSplit(t, MaxTracePage)
	b, ps, cited := qAsk(t, l, QueryDonation, map[string]string{"id": "d-big"})
	var a DonationTrace
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Handovers) != MaxTracePage || a.Next != 0 || len(cited) != 1+MaxTracePage || a.Handovers[999].N != 1000 || a.Handovers[999].Handover.ID != "h-1000" {
		t.Fatalf("%d hand-overs, next %d, %d cited", len(a.Handovers), a.Next, len(cited))
	}
	qCheckCites(t, b, cited)
	checked, err := l.r.CheckAnswer(QueryDonation, map[string]string{"id": "d-big"}, b, ps)
	if err != nil || !strings.Contains(checked, "all 1000 hand-overs") || !strings.Contains(checked, "city-a 9,990.00 CNY") {
		t.Errorf("CheckAnswer = %q, %v", checked, err)
	}
	pages := []struct {
		from, limit string
		n           int
		first, next int64
	}{
		{"1", "300", 300, 1, 301},
		{"301", "300", 300, 301, 601},
		{"901", "300", 100, 901, 0},
		{"1000", "1", 1, 1000, 0},
		{"1001", "5", 0, 0, 0},
		{"5000", "", 0, 0, 0},
	}
	for _, p := range pages {
		args := map[string]string{"id": "d-big", "from": p.from, "limit": p.limit}
		if p.limit == "" {
			delete(args, "limit")
		}
		b, ps, cited := qAsk(t, l, QueryDonation, args)
		var a DonationTrace
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatal(err)
		}
		if len(a.Handovers) != p.n || a.Next != p.next || len(cited) != 1+p.n || p.n > 0 && a.Handovers[0].N != p.first {
			t.Errorf("page %v: %d hand-overs, next %d", args, len(a.Handovers), a.Next)
		}
		checked, err := l.r.CheckAnswer(QueryDonation, args, b, ps)
		if err != nil || !strings.Contains(checked, "is the log's word") {
			t.Errorf("CheckAnswer of page %v = %q, %v", args, checked, err)
		}
	}
	// The recipient of all 1,000: one page too.
	b, ps, cited = qAsk(t, l, QueryRecipient, map[string]string{"commitment": qR3})
	var r RecipientAnswer
	json.Unmarshal(b, &r)
	if len(r.Handovers) != MaxTracePage || r.Count != MaxTracePage || r.Next != 0 || len(cited) != 2*MaxTracePage {
		t.Fatalf("%d hand-overs of %d, next %d, %d cited", len(r.Handovers), r.Count, r.Next, len(cited))
	}
	qCheckCites(t, b, cited)
	if checked, err := l.r.CheckAnswer(QueryRecipient, map[string]string{"commitment": qR3}, b, ps); err != nil ||
		!strings.Contains(checked, "hand-overs 1 to 1000 of 1000, 0 of them confirmed, and the 1000 donations") {
		t.Errorf("CheckAnswer = %q, %v", checked, err)
	}
}

func TestQueryRecipient(t *testing.T) {
	l := qScenario(t)
	b, ps, cited := qAsk(t, l, QueryRecipient, map[string]string{"commitment": qR1})
	var a RecipientAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if a.Count != 2 || len(a.Handovers) != 2 || a.Next != 0 || len(cited) != 6 {
		t.Fatalf("answer %s", b)
	}
	h1, h4 := a.Handovers[0], a.Handovers[1]
	if h1.Handover.ID != "h-1" || len(h1.Donations) != 1 || h1.Donations[0].ID != "d-1" || h1.Donations[0].Donor != exampleDonor ||
		h1.Handover.Feedback == nil || h4.Handover.ID != "h-4" || h4.Donations[0].Unit != qKgOf || h4.Handover.Feedback.Amount != 100 ||
		h4.Handover.Charity != qPartner {
		t.Errorf("answer %s", b)
	}
	qCheckCites(t, b, cited)
	checked, err := l.r.CheckAnswer(QueryRecipient, map[string]string{"commitment": qR1}, b, ps)
	if want := "recipient " + qR1 + ": hand-overs 1 to 2 of 2, 2 of them confirmed, and the 2 donations they drew on match their entries, in log order"; err != nil || checked != want {
		t.Errorf("CheckAnswer = %q, %v\nwant %q", checked, err, want)
	}
	// R2's hand-over drew on two donations.
	b, ps, cited = qAsk(t, l, QueryRecipient, map[string]string{"commitment": qR2})
	a = RecipientAnswer{}
	json.Unmarshal(b, &a)
	if len(a.Handovers) != 1 || len(a.Handovers[0].Donations) != 2 || a.Handovers[0].Donations[1].ID != "d-3" || len(cited) != 3 {
		t.Errorf("answer %s", b)
	}
	if _, err := l.r.CheckAnswer(QueryRecipient, map[string]string{"commitment": qR2}, b, ps); err != nil {
		t.Errorf("CheckAnswer = %v", err)
	}
	// Pages of one.
	for from, want := range map[string]struct {
		id   string
		next int64
	}{"1": {"h-1", 2}, "2": {"h-4", 0}} {
		args := map[string]string{"commitment": qR1, "from": from, "limit": "1"}
		b, ps, _ := qAsk(t, l, QueryRecipient, args)
		var a RecipientAnswer
		json.Unmarshal(b, &a)
		if len(a.Handovers) != 1 || a.Handovers[0].Handover.ID != want.id || a.Next != want.next {
			t.Errorf("page from %s: %s", from, b)
		}
		if _, err := l.r.CheckAnswer(QueryRecipient, args, b, ps); err != nil {
			t.Errorf("CheckAnswer of page from %s = %v", from, err)
		}
	}
}

// A recipient page lists at most MaxPageDonations donations: one that
// would list more ends early.
func TestQueryRecipientDonationBound(t *testing.T) {
	l := newQLog(t)
	l.by(qCharity, TypeCampaignOpen, qT0, qOpen("c-many", "2027-06-30", 0))
	var draws []any
	for i := range maxDraws {
		id := fmt.Sprintf("d-%02d", i)
		l.by(qCharity, TypeReceive, qT0, qMoney(id, "c-many", 1000, ""))
		draws = append(draws, id, 1)
	}
	n := MaxPageDonations/maxDraws + 1
	for i := range n {
		l.by(qCharity, TypeHandover, qT0, qHandover(fmt.Sprint("h-", i), "c-many", qCNY, qR1, "code-of-many", draws...))
	}
	b, ps, cited := qAsk(t, l, QueryRecipient, map[string]string{"commitment": qR1})
	var a RecipientAnswer
	json.Unmarshal(b, &a)
	if len(a.Handovers) != n-1 || a.Next != int64(n) || a.Count != int64(n) || len(cited) != (n-1)*(1+maxDraws) {
		t.Fatalf("%d hand-overs of %d, next %d, %d cited", len(a.Handovers), a.Count, a.Next, len(cited))
	}
	if _, err := l.r.CheckAnswer(QueryRecipient, map[string]string{"commitment": qR1}, b, ps); err != nil {
		t.Errorf("CheckAnswer = %v", err)
	}
	args := map[string]string{"commitment": qR1, "from": fmt.Sprint(n)}
	b, ps, _ = qAsk(t, l, QueryRecipient, args)
	a = RecipientAnswer{}
	json.Unmarshal(b, &a)
	if len(a.Handovers) != 1 || a.Next != 0 {
		t.Errorf("the last page: %d hand-overs, next %d", len(a.Handovers), a.Next)
	}
	if _, err := l.r.CheckAnswer(QueryRecipient, args, b, ps); err != nil {
		t.Errorf("CheckAnswer = %v", err)
	}
}

func TestQueryCampaign(t *testing.T) {
	l := qScenario(t)
	b, ps, cited := qAsk(t, l, QueryCampaign, map[string]string{"id": "flood-2027"})
	var a CampaignAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	want := []UnitTotals{
		{Unit: qKgOf, Received: 500, ToRecipients: 150, Held: 350},
		{Unit: qCNY, Received: 150000, ToRecipients: 60000, Administration: 5000, InTransit: 10000, Held: 85000, AdminShareBasisPoints: 333},
	}
	if a.ID != "flood-2027" || a.Charity != qCharity || a.Donations != 3 || a.AdminShareMax != 5 || !slices.Equal(a.Units, want) || len(cited) != 1 {
		t.Fatalf("answer %s", b)
	}
	qCheckCites(t, b, cited)
	checked, err := l.r.CheckAnswer(QueryCampaign, map[string]string{"id": "flood-2027"}, b, ps)
	if err != nil || !strings.HasPrefix(checked, "campaign flood-2027: its donations.campaign.open matches the answer, and its totals in 2 units add up") {
		t.Errorf("CheckAnswer = %q, %v", checked, err)
	}
	// A campaign without donations.
	l.by("city-b", TypeCampaignOpen, qT0, qOpen("quiet", "2027-12-31", 10))
	b, ps, _ = qAsk(t, l, QueryCampaign, map[string]string{"id": "quiet"})
	if !bytes.Contains(b, []byte(`"units":[]`)) {
		t.Errorf("answer %s", b)
	}
	if _, err := l.r.CheckAnswer(QueryCampaign, map[string]string{"id": "quiet"}, b, ps); err != nil {
		t.Errorf("CheckAnswer = %v", err)
	}
}

func TestQueryRefused(t *testing.T) {
	l := qScenario(t)
	tests := []struct {
		name    string
		query   string
		args    map[string]string
		wantErr error
	}{
		{"unknown query", "donations", map[string]string{"id": "d-1"}, rule.ErrUnknownQuery},
		{"trace: no id", QueryDonation, map[string]string{}, rule.ErrInvalidQuery},
		{"trace: empty id", QueryDonation, map[string]string{"id": ""}, rule.ErrInvalidQuery},
		{"trace: bad id", QueryDonation, map[string]string{"id": "d-1/../d-2"}, rule.ErrInvalidQuery},
		{"trace: another argument", QueryDonation, map[string]string{"id": "d-1", "commitment": qR1}, rule.ErrInvalidQuery},
		{"trace: from 0", QueryDonation, map[string]string{"id": "d-1", "from": "0"}, rule.ErrInvalidQuery},
		{"trace: from not a number", QueryDonation, map[string]string{"id": "d-1", "from": "one"}, rule.ErrInvalidQuery},
		{"trace: empty from", QueryDonation, map[string]string{"id": "d-1", "from": ""}, rule.ErrInvalidQuery},
		{"trace: limit 0", QueryDonation, map[string]string{"id": "d-1", "limit": "0"}, rule.ErrInvalidQuery},
		{"trace: negative limit", QueryDonation, map[string]string{"id": "d-1", "limit": "-3"}, rule.ErrInvalidQuery},
		{"trace: limit too large", QueryDonation, map[string]string{"id": "d-1", "limit": fmt.Sprint(MaxTracePage + 1)}, rule.ErrQueryTooLarge},
		{"trace: unknown donation", QueryDonation, map[string]string{"id": "d-9"}, rule.ErrNotFound},
		{"recipient: no commitment", QueryRecipient, map[string]string{"id": qR1}, rule.ErrInvalidQuery},
		{"recipient: not a commitment", QueryRecipient, map[string]string{"commitment": "Zhang San"}, rule.ErrInvalidQuery},
		{"recipient: upper case", QueryRecipient, map[string]string{"commitment": strings.ToUpper(qR1)}, rule.ErrInvalidQuery},
		{"recipient: limit too large", QueryRecipient, map[string]string{"commitment": qR1, "limit": "100000"}, rule.ErrQueryTooLarge},
		{"recipient: nothing handed", QueryRecipient, map[string]string{"commitment": exampleDonor}, rule.ErrNotFound},
		{"campaign: no id", QueryCampaign, map[string]string{}, rule.ErrInvalidQuery},
		{"campaign: a page", QueryCampaign, map[string]string{"id": "flood-2027", "from": "1"}, rule.ErrInvalidQuery},
		{"campaign: bad id", QueryCampaign, map[string]string{"id": "flood 2027"}, rule.ErrInvalidQuery},
		{"campaign: unknown", QueryCampaign, map[string]string{"id": "drought-2027"}, rule.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cited, err := l.r.Query(context.Background(), l.view(), tt.query, tt.args)
			if !errors.Is(err, tt.wantErr) || res != nil || cited != nil {
				t.Errorf("Query = %v, %v, %v; want %v", res, cited, err, tt.wantErr)
			}
		})
	}
}

// A campaign counting more units than a query shows is too large.
func TestQueryCampaignTooLarge(t *testing.T) {
	v := qView{State: map[string][]byte{}}
	c := Campaign{ID: "c", Charity: qCharity, HandOnBy: "2027-06-30", LeafHash: strings.Repeat("ab", 32), Totals: map[string]Totals{}}
	for i := range MaxCampaignUnits + 1 {
		c.Totals[Unit{Kind: Goods, Item: fmt.Sprint("item-", i), Unit: "kg"}.Key()] = Totals{Received: 1}
	}
	b, _ := json.Marshal(c)
	v.State[CampaignKey("c")] = b
	if _, _, err := New().Query(context.Background(), v, QueryCampaign, map[string]string{"id": "c"}); !errors.Is(err, rule.ErrQueryTooLarge) {
		t.Errorf("Query = %v", err)
	}
}

// A state the rules could not have written is not the caller's fault.
func TestQueryCorruptState(t *testing.T) {
	l := qScenario(t)
	l.st[DonationOutKey("d-1", 2)] = []byte("h-404")
	_, _, err := l.r.Query(context.Background(), l.view(), QueryDonation, map[string]string{"id": "d-1"})
	if err == nil || errors.Is(err, rule.ErrNotFound) || errors.Is(err, rule.ErrInvalidQuery) || !strings.Contains(err.Error(), "corrupt state") {
		t.Errorf("Query = %v", err)
	}
}

func TestCheckAnswerTampered(t *testing.T) {
	l := qScenario(t)
	d1 := map[string]string{"id": "d-1"}
	d2 := map[string]string{"id": "d-2"}
	r1 := map[string]string{"commitment": qR1}
	camp := map[string]string{"id": "flood-2027"}
	answers := map[string][]byte{}
	provedOf := map[string][]rule.ProvedEntry{}
	for name, q := range map[string]struct {
		query string
		args  map[string]string
	}{"d1": {QueryDonation, d1}, "d2": {QueryDonation, d2}, "r1": {QueryRecipient, r1}, "camp": {QueryCampaign, camp}} {
		answers[name], provedOf[name], _ = qAsk(t, l, q.query, q.args)
	}
	hand := func(i int) string { return fmt.Sprintf("handovers.%d.handover", i) }
	tests := []struct {
		name    string
		answer  string
		f       func(m map[string]any)
		wantMsg string
	}{
		{"donation amount", "d1", func(m map[string]any) { qPath(m, "donation")["amount"] = 200000 }, "its entry records 1,000.00 CNY, not 2,000.00 CNY"},
		{"donor", "d1", func(m map[string]any) { qPath(m, "donation")["donor"] = qR2 }, "its entry names the donor"},
		{"donor hidden", "d1", func(m map[string]any) { delete(qPath(m, "donation"), "donor") }, "not anonymous"},
		{"donation unit", "d1", func(m map[string]any) { qPath(m, "donation")["currency"] = "USD" }, "not 1,000.00 USD"},
		{"donation campaign", "d1", func(m map[string]any) { qPath(m, "donation")["campaign_id"] = "other" }, "its entry gives it to campaign flood-2027"},
		{"donation time", "d1", func(m map[string]any) { qPath(m, "donation")["time"] = "2027-03-01T09:00:00Z" }, "its entry was made at 2027-03-01T09:01:00Z"},
		{"draw from the donation", "d1", func(m map[string]any) { qPath(m, "handovers.0")["draw"] = 20000 }, "it draws 300.00 CNY on the donation, not 200.00 CNY"},
		{"hand-over's draws", "d1", func(m map[string]any) {
			qPath(m, hand(0)+".draws.0")["amount"] = 20000
			qPath(m, "handovers.0")["draw"] = 20000
		}, "its entry draws 300.00 CNY from d-1"},
		{"hand-over amount", "d1", func(m map[string]any) { qPath(m, hand(2))["amount"] = 20000 }, "it hands on 300.00 CNY in all"},
		{"destination", "d1", func(m map[string]any) { qPath(m, hand(0))["to_recipient"] = qR2 }, "its entry hands it to final recipient " + qR1},
		{"administration as a recipient", "d1", func(m map[string]any) {
			h := qPath(m, hand(1))
			delete(h, "administration")
			h["to_recipient"], h["code_hash"] = qR2, CodeHash("x")
		}, "its entry hands it to administration"},
		{"code hash", "d1", func(m map[string]any) { qPath(m, hand(2))["code_hash"] = CodeHash("guess") }, "its entry gives the code hash"},
		{"hand-over signer", "d1", func(m map[string]any) { qPath(m, hand(0))["charity"] = qPartner }, "no signature by a key named \"partner-charity\""},
		{"hand-overs reordered", "d1", func(m map[string]any) {
			hs := m["handovers"].([]any)
			hs[0], hs[1] = hs[1], hs[0]
			hs[0].(map[string]any)["n"], hs[1].(map[string]any)["n"] = 1, 2
		}, "does not come after"},
		{"hand-over dropped", "d1", func(m map[string]any) {
			hs := m["handovers"].([]any)
			m["handovers"] = hs[:3]
		}, "the page ends at 3 of 4 and names no next page"},
		{"hand-over dropped, count too", "d1", func(m map[string]any) {
			m["handovers"] = m["handovers"].([]any)[1:]
			for i, h := range m["handovers"].([]any) {
				h.(map[string]any)["n"] = i + 1
			}
			qPath(m, "donation")["handovers"] = 3
		}, "it says the agencies hold city-a 350.00 CNY; its hand-overs leave city-a 650.00 CNY"},
		{"to recipients inflated", "d1", func(m map[string]any) {
			qPath(m, "donation")["to_recipients"] = 60000
			qPath(m, "donation")["holders"] = map[string]any{qCharity: 25000}
		}, "its hand-overs leave city-a 350.00 CNY"},
		{"holders inflated", "d1", func(m map[string]any) { qPath(m, "donation")["holders"] = map[string]any{qCharity: 45000} }, "its hand-overs leave city-a 350.00 CNY"},
		{"feedback received", "d1", func(m map[string]any) { qPath(m, hand(0)+".feedback")["received"] = Short }, "its entry says \"in-full\""},
		{"feedback amount", "r1", func(m map[string]any) { qPath(m, hand(1)+".feedback")["amount"] = 150 }, "its entry says 100 kg of rice arrived, not 150 kg of rice"},
		{"feedback of another hand-over", "r1", func(m map[string]any) {
			qPath(m, hand(0))["feedback"] = qPath(m, hand(1)+".feedback")
		}, "its entry confirms hand-over h-4"},
		{"feedback forged", "d1", func(m map[string]any) {
			qPath(m, hand(2))["feedback"] = map[string]any{"received": InFull, "amount": 30000, "signer": "recipient+00000000", "time": "2027-03-02T09:00:00Z", "leaf_hash": strings.Repeat("0", 64)}
		}, "no proof of its entry"},
		{"feedback hidden", "d1", func(m map[string]any) { qPath(m, hand(0))["feedback_due"] = nil }, "a feedback due time"},
		{"acceptance of another hand-over", "d2", func(m map[string]any) {
			qPath(m, hand(0)+".accept")["leaf_hash"] = qPath(m, hand(1))["leaf_hash"]
		}, "is a donations.handover, not a donations.accept"},
		{"acceptance dropped", "d2", func(m map[string]any) { delete(qPath(m, hand(0)), "accept") }, "partner-charity hands on more of it"},
		{"acceptance invented", "d1", func(m map[string]any) {
			qPath(m, hand(3))["accept"] = map[string]any{"time": "2027-03-05T09:00:00Z", "leaf_hash": qPath(m, hand(0))["leaf_hash"]}
		}, "not a donations.accept"},
		{"acceptance time", "d2", func(m map[string]any) { qPath(m, hand(0)+".accept")["time"] = "2027-03-01T12:00:00Z" }, "its entry was made at 2027-03-01T13:00:00Z"},
		{"unit of a hand-over", "d2", func(m map[string]any) { qPath(m, hand(0))["item"] = "flour" }, "its entry hands on kg of rice, not kg of flour"},
		{"unknown member", "d1", func(m map[string]any) { m["verified"] = true }, "unknown field"},
		{"another donation", "d2", func(m map[string]any) { qPath(m, "donation")["donation_id"] = "d-1" }, "the answer traces donation \"d-1\", not \"d-2\""},
		{"recipient's donation amount", "r1", func(m map[string]any) { qPath(m, "handovers.0.donations.0")["amount"] = 10 }, "its entry records 1,000.00 CNY, not 0.10 CNY"},
		{"recipient's donation dropped", "r1", func(m map[string]any) { qPath(m, "handovers.0")["donations"] = []any{} }, "0 donations for 1 draws"},
		{"recipient's hand-over to another", "r1", func(m map[string]any) { m["recipient"] = qR2 }, "the answer is about recipient"},
		{"recipient count", "r1", func(m map[string]any) { m["count"] = 5 }, "the page ends at 2 of 5 and names no next page"},
		{"campaign title", "camp", func(m map[string]any) { m["title"] = "Something else" }, "its entry opens campaign flood-2027"},
		{"campaign share", "camp", func(m map[string]any) { m["admin_share_max_percent"] = 50 }, "its entry opens campaign"},
		{"campaign charity", "camp", func(m map[string]any) { m["charity"] = qPartner }, "no signature by a key named"},
		{"campaign held", "camp", func(m map[string]any) { qPath(m, "units.1")["held"] = 500000 }, "5,000.00 CNY held of 1,500.00 CNY received"},
		{"campaign admin share", "camp", func(m map[string]any) { qPath(m, "units.1")["admin_share_basis_points"] = 100 }, "an administration share of 100 basis points, not 333"},
		{"campaign over its share", "camp", func(m map[string]any) {
			u := qPath(m, "units.1")
			u["administration"], u["held"], u["admin_share_basis_points"] = 50000, 40000, 3333
		}, "more than 5% of"},
		{"campaign goods to administration", "camp", func(m map[string]any) {
			u := qPath(m, "units.0")
			u["administration"], u["held"] = 10, 340
		}, "goods went to administration"},
		{"campaign in transit", "camp", func(m map[string]any) { qPath(m, "units.0")["in_transit"] = 400 }, "400 kg of rice in transit of 350 kg of rice held"},
		{"campaign units out of order", "camp", func(m map[string]any) {
			us := m["units"].([]any)
			us[0], us[1] = us[1], us[0]
		}, "the units are not in order"},
	}
	queries := map[string]string{"d1": QueryDonation, "d2": QueryDonation, "r1": QueryRecipient, "camp": QueryCampaign}
	argsOf := map[string]map[string]string{"d1": d1, "d2": d2, "r1": r1, "camp": camp}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := qTamper(t, answers[tt.answer], tt.f)
			_, err := l.r.CheckAnswer(queries[tt.answer], argsOf[tt.answer], b, provedOf[tt.answer])
			if !errors.Is(err, ErrAnswerMismatch) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("CheckAnswer = %v\nwant %q", err, tt.wantMsg)
			}
		})
	}
	// Entries the client holds no proof of, or that say something else.
	t.Run("an entry unproved", func(t *testing.T) {
		if _, err := l.r.CheckAnswer(QueryDonation, d1, answers["d1"], provedOf["d1"][1:]); !errors.Is(err, ErrAnswerMismatch) || !strings.Contains(err.Error(), "no proof of its entry") {
			t.Errorf("CheckAnswer = %v", err)
		}
	})
	t.Run("an entry with another body", func(t *testing.T) {
		ps := slices.Clone(provedOf["d1"])
		for i, p := range ps {
			if p.Type == TypeHandover {
				ps[i].Body = bytes.Replace(p.Body, []byte(`"amount":30000`), []byte(`"amount":3000`), 1)
				break
			}
		}
		if _, err := l.r.CheckAnswer(QueryDonation, d1, answers["d1"], ps); !errors.Is(err, ErrAnswerMismatch) || !strings.Contains(err.Error(), "its entry draws 30.00 CNY from d-1") {
			t.Errorf("CheckAnswer = %v", err)
		}
	})
	t.Run("a page other than asked", func(t *testing.T) {
		if _, err := l.r.CheckAnswer(QueryDonation, map[string]string{"id": "d-1", "from": "2"}, answers["d1"], provedOf["d1"]); !errors.Is(err, ErrAnswerMismatch) ||
			!strings.Contains(err.Error(), "the page begins at 1, not 2") {
			t.Errorf("CheckAnswer = %v", err)
		}
		if _, err := l.r.CheckAnswer(QueryDonation, map[string]string{"id": "d-1", "limit": "2"}, answers["d1"], provedOf["d1"]); !errors.Is(err, ErrAnswerMismatch) ||
			!strings.Contains(err.Error(), "4 on a page of at most 2") {
			t.Errorf("CheckAnswer = %v", err)
		}
	})
	t.Run("not an answer", func(t *testing.T) {
		if _, err := l.r.CheckAnswer(QueryDonation, d1, []byte(`{"donation":{}} {}`), nil); !errors.Is(err, ErrAnswerMismatch) {
			t.Errorf("CheckAnswer = %v", err)
		}
	})
	t.Run("arguments", func(t *testing.T) {
		if _, err := l.r.CheckAnswer("donations", d1, answers["d1"], provedOf["d1"]); !errors.Is(err, rule.ErrUnknownQuery) {
			t.Errorf("CheckAnswer of an unknown query = %v", err)
		}
		if _, err := l.r.CheckAnswer(QueryDonation, map[string]string{"id": "d-1", "limit": "x"}, answers["d1"], provedOf["d1"]); !errors.Is(err, rule.ErrInvalidQuery) {
			t.Errorf("CheckAnswer with a bad limit = %v", err)
		}
	})
}

// A page of a donation's hand-overs cannot claim more went to recipients
// and administration than the donation gave.
func TestCheckAnswerOverdrawnPage(t *testing.T) {
	l := qScenario(t)
	args := map[string]string{"id": "d-1", "from": "1", "limit": "2"}
	b, ps, _ := qAsk(t, l, QueryDonation, args)
	if _, err := l.r.CheckAnswer(QueryDonation, args, b, ps); err != nil {
		t.Fatal(err)
	}
	forged := qTamper(t, b, func(m map[string]any) { qPath(m, "donation")["to_recipients"] = 100 })
	if _, err := l.r.CheckAnswer(QueryDonation, args, forged, ps); !errors.Is(err, ErrAnswerMismatch) || !strings.Contains(err.Error(), "more than the 1.00 CNY it says reached them") {
		t.Errorf("CheckAnswer = %v", err)
	}
}

func TestFormatAnswer(t *testing.T) {
	l := qScenario(t)
	format := func(query string, args map[string]string) string {
		t.Helper()
		b, _, _ := qAsk(t, l, query, args)
		var w strings.Builder
		if err := l.r.FormatAnswer(&w, query, b); err != nil {
			t.Fatal(err)
		}
		return w.String()
	}
	trace := format(QueryDonation, map[string]string{"id": "d-1"})
	for _, want := range []string{
		"Donation d-1: 1,000.00 CNY to campaign flood-2027 of city-a\n",
		"  received 2027-03-01T09:01:00Z from donor " + exampleDonor + "\n",
		"  reached final recipients: 500.00 CNY\n",
		"  held now: city-a 350.00 CNY\n",
		"  hand-overs 1 to 4 of 4:\n",
		"    1. 2027-03-01T10:00:00Z  h-1 by city-a: 300.00 CNY to final recipient " + qR1 + "\n",
		"       the recipient confirmed it in full 2027-03-02T09:00:00Z\n",
		"    2. 2027-03-01T12:00:00Z  h-3 by city-a: 50.00 CNY to administration\n",
		"    3. 2027-03-01T15:00:00Z  h-5 by city-a: 200.00 CNY (of 300.00 CNY in all) to final recipient " + qR2 + "\n",
		"       not confirmed by the recipient (due 2027-03-15T15:00:00Z)\n",
		"       not accepted yet: in transit\n",
	} {
		if !strings.Contains(trace, want) {
			t.Errorf("trace lacks %q:\n%s", want, trace)
		}
	}
	if rice := format(QueryDonation, map[string]string{"id": "d-2"}); !strings.Contains(rice, "Donation d-2: 500 kg of rice to campaign flood-2027 of city-a\n") ||
		!strings.Contains(rice, "from anonymous") || !strings.Contains(rice, "accepted by partner-charity 2027-03-01T13:00:00Z") ||
		!strings.Contains(rice, "held now: city-a 300 kg of rice, partner-charity 50 kg of rice") {
		t.Errorf("trace of d-2:\n%s", rice)
	}
	if page := format(QueryDonation, map[string]string{"id": "d-1", "limit": "1"}); !strings.Contains(page, "  more: --from 2\n") {
		t.Errorf("a page:\n%s", page)
	}
	recipient := format(QueryRecipient, map[string]string{"commitment": qR1})
	for _, want := range []string{
		"Final recipient " + qR1 + ": 2 hand-overs\n",
		"  2. 2027-03-01T14:00:00Z  h-4: 150 kg of rice from partner-charity, campaign flood-2027\n",
		"     the recipient reported a shortfall 2027-03-03T09:00:00Z: 100 kg of rice arrived\n",
		"     300.00 CNY of donation d-1 (1,000.00 CNY received 2027-03-01T09:01:00Z from donor " + exampleDonor + ")\n",
	} {
		if !strings.Contains(recipient, want) {
			t.Errorf("recipient lacks %q:\n%s", want, recipient)
		}
	}
	campaign := format(QueryCampaign, map[string]string{"id": "flood-2027"})
	for _, want := range []string{
		"Campaign flood-2027: Campaign flood-2027\n",
		"  at most 5% of the money received for administration; hand on by 2027-06-30; recipients confirm within 14 days\n",
		"    received          1,500.00 CNY\n",
		"    administration    50.00 CNY (3.33% of 5% allowed)\n",
		"    held              850.00 CNY (100.00 CNY of it in transit between agencies)\n",
		"    held              350 kg of rice\n",
	} {
		if !strings.Contains(campaign, want) {
			t.Errorf("campaign lacks %q:\n%s", want, campaign)
		}
	}
	if err := l.r.FormatAnswer(&strings.Builder{}, "donations", []byte(`{}`)); !errors.Is(err, rule.ErrUnknownQuery) {
		t.Errorf("FormatAnswer of an unknown query = %v", err)
	}
	if err := l.r.FormatAnswer(&strings.Builder{}, QueryCampaign, []byte(`{"campaign_id":1}`)); !errors.Is(err, ErrAnswerMismatch) {
		t.Errorf("FormatAnswer of a bad answer = %v", err)
	}
}

func TestFormatAmount(t *testing.T) {
	for _, tt := range []struct {
		u    Unit
		n    int64
		want string
	}{
		{qCNY, 0, "0.00 CNY"},
		{qCNY, 5, "0.05 CNY"},
		{qCNY, 123456, "1,234.56 CNY"},
		{qCNY, 1 << 53, "90,071,992,547,409.92 CNY"},
		{qCNY, -100000, "-1,000.00 CNY"},
		{Unit{Kind: Money, Currency: "USD"}, 99999999, "999,999.99 USD"},
		{qKgOf, 500, "500 kg of rice"},
		{Unit{Kind: Goods, Item: "blanket", Unit: "piece"}, 12000, "12,000 piece of blanket"},
	} {
		if got := FormatAmount(tt.u, tt.n); got != tt.want {
			t.Errorf("FormatAmount(%v, %d) = %q, want %q", tt.u, tt.n, got, tt.want)
		}
	}
}

func TestQueries(t *testing.T) {
	var got []string
	for _, q := range New().Queries() {
		if q.Summary == "" || q.Doc == "" {
			t.Errorf("query %s is not described", q.Name)
		}
		got = append(got, fmt.Sprintf("%s %s %s=%s %d", q.Name, q.Verb, q.Arg, q.ArgName, len(q.Flags)))
	}
	want := []string{"donation trace id=DONATION 2", "recipient  commitment=COMMITMENT 2", "campaign  id=CAMPAIGN 0"}
	if !slices.Equal(got, want) {
		t.Errorf("Queries = %q, want %q", got, want)
	}
}
