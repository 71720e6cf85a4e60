package portal

import (
	"encoding/json"
	"testing"

	"github.com/govlog/govlog/personalities/funds"
)

// TestFundsAnswersDecode: the funds views read the funds domain's answers
// by their JSON, without importing the domain (only cmd/govlog names
// domains); this test, which may import it, keeps the two in step.
func TestFundsAnswersDecode(t *testing.T) {
	acct := funds.AccountView{ID: "cb:acme", Currency: funds.Currency,
		Account: funds.AccountRecord{LeafHash: "aa", Controller: "city-b", OwnerKind: funds.OwnerCompany, Owner: "acme",
			Kind: funds.KindCompany, Balance: 7, Lines: 1, In: 9, Out: 2},
		Lines: []funds.NumberedLine{{N: 1, LedgerLine: funds.LedgerLine{LeafHash: "bb", Kind: funds.MoveTransfer,
			Ref: "transfer/t-1", Counterparty: "cb:budget", Amount: 9, Balance: 9}}},
		Next: 2}
	b, err := json.Marshal(acct)
	if err != nil {
		t.Fatal(err)
	}
	var got fundsAccount
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	a, l := got.Account, got.Lines
	if got.ID != "cb:acme" || got.Currency != "CNY" || got.Next != 2 || a.LeafHash != "aa" || a.Controller != "city-b" ||
		a.OwnerKind != "company" || a.Owner != "acme" || a.Kind != "company" || a.Balance != 7 || a.Lines != 1 || a.In != 9 || a.Out != 2 ||
		len(l) != 1 || l[0].N != 1 || l[0].LeafHash != "bb" || l[0].Kind != "transfer" || l[0].Ref != "transfer/t-1" ||
		l[0].Counterparty != "cb:budget" || l[0].Amount != 9 || l[0].Balance != 9 {
		t.Errorf("account answer read as %+v from %s", got, b)
	}

	trace := funds.PaymentTrace{Ref: "transfer/t-1", Currency: funds.Currency, Hops: []funds.Hop{{Ref: "transfer/t-1", Funds: -1, Depth: 0,
		Attributed: 5, Movement: funds.Movement{Kind: funds.MoveTransfer, LeafHash: "bb", Agency: "city-b", From: "cb:budget", To: "cb:acme",
			Amount: 5, Contract: "k-1"}}}}
	if b, err = json.Marshal(trace); err != nil {
		t.Fatal(err)
	}
	var gotTrace fundsTrace
	if err := json.Unmarshal(b, &gotTrace); err != nil {
		t.Fatal(err)
	}
	h := gotTrace.Hops
	if gotTrace.Ref != "transfer/t-1" || gotTrace.Currency != "CNY" || len(h) != 1 || h[0].Ref != "transfer/t-1" || h[0].Depth != 0 ||
		h[0].Attributed != 5 || h[0].Kind != "transfer" || h[0].LeafHash != "bb" || h[0].Agency != "city-b" || h[0].From != "cb:budget" ||
		h[0].To != "cb:acme" || h[0].Amount != 5 || h[0].Contract != "k-1" {
		t.Errorf("payment answer read as %+v from %s", gotTrace, b)
	}
	if got := moneyIn("CNY")(-123456789); got != funds.FormatAmount(-123456789) {
		t.Errorf("money %q, the domain writes %q", got, funds.FormatAmount(-123456789))
	}
}
