package funds_test

import (
	"context"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// FuzzApply feeds arbitrary types, bodies and times to Apply over the base
// world. Apply must not panic, must refuse with a rule sentinel (the state
// here cannot fail), must not write when it refuses, and must keep the books
// balanced when it admits.
func FuzzApply(f *testing.F) {
	day := int64(24 * 60 * 60)
	for _, seed := range []struct {
		typ  string
		body []byte
		secs int64 // after t0
		who  uint8 // index in signers
	}{
		{funds.TypeAccountOpen, mustJSON(funds.AccountOpenBody{AccountID: "w-erin", OwnerKind: funds.OwnerPerson, Owner: erin, Kind: funds.KindWorker}), 0, 1},
		{funds.TypeAllocate, mustJSON(funds.AllocateBody{AllocationID: "a-9", To: "budget-1", Amount: funds.MaxAmount, BudgetLine: "x"}), 0, 0},
		{funds.TypeContractRegister, mustJSON(funds.ContractRegisterBody{ContractID: "c-9", Kind: funds.ContractLabour, Payer: "co-1", Ceiling: 2,
			Workers: []string{alice, carol}, WagePerPeriod: 1, Schedule: []funds.PayPeriod{{Period: "2026-03", PayDeadline: "2026-03-31"}}}), 0, 1},
		{funds.TypeContractRegister, mustJSON(funds.ContractRegisterBody{ContractID: "c-9", Kind: funds.ContractSupply, Payer: "co-1", Payee: "co-2", Ceiling: 9}), 0, 1},
		{funds.TypeTransfer, mustJSON(funds.TransferBody{TransferID: "t-9", From: "budget-1", To: "co-1", Amount: 300_000, ContractID: "c-works"}), 0, 1},
		{funds.TypeWagePay, mustJSON(funds.WagePayBody{PaymentID: "p-9", ContractID: "c-lab", Worker: bob, Period: "2026-03", Amount: 5_000, From: "co-1", To: "w-bob"}), 0, 1},
		{funds.TypeGuaranteeLodge, mustJSON(funds.GuaranteeLodgeBody{GuaranteeID: "g-9", ContractID: "c-lab", From: "co-1", Escrow: "escrow-1", Amount: 1}), 0, 1},
		{funds.TypeGuaranteeRelease, mustJSON(bothShort), 27 * day, 3},
		{funds.TypeGuaranteeRelease, mustJSON(bobOnly), 27 * day, 3},
		{funds.TypeAidGrade, mustJSON(funds.AidGradeBody{Grade: "dibao", AmountPerPeriod: 7}), 0, 2},
		{funds.TypeBeneficiaryRegister, mustJSON(funds.BeneficiaryRegisterBody{BeneficiaryID: "ben-9", Credential: carol, Grade: "dibao", Account: "b-dave"}), 0, 2},
		{funds.TypeAidPay, mustJSON(funds.AidPayBody{PaymentID: "p-9", BeneficiaryID: "ben-dave", Grade: "dibao", Period: "2026-03", From: "budget-aid", To: "b-dave", Amount: 1_200}), 0, 2},
		{funds.TypeAidVouch, mustJSON(funds.AidVouchBody{Grade: "dibao", Period: "2026-03", Commitments: []string{r2}}), 0, 2},
		{funds.TypeAidPay, mustJSON(funds.AidPayBody{PaymentID: "p-9", Recipient: r1, Grade: "dibao", Period: "2026-04", From: "budget-aid", Amount: 1_200}), 20 * day, 2},
		{funds.TypeWageVouch, mustJSON(funds.WageVouchBody{ContractID: "c-lab", Period: "2026-03", Commitments: []string{min(w2, w3), max(w2, w3)}}), 0, 1},
		{funds.TypeWagePay, mustJSON(funds.WagePayBody{PaymentID: "p-9", ContractID: "c-lab", Worker: w1, Period: "2026-04", Amount: 5_000, From: "co-1"}), 0, 1},
		{funds.TypeTransfer, []byte(`{"amount":1,"amount":2}`), 0, 1},
		{funds.TypeTransfer, []byte(`{"amount":1e999,"contract_id":[{}],"from":null}`), 0, 1},
		{funds.TypeGuaranteeRelease, []byte(`{"payments":[[[[]]]]}`), 0, 3},
		{funds.TypeAllocate, []byte(`{"allocation_id":"\ud800"}`), 0, 0},
		{"funds.unknown", []byte(`{}`), 0, 1},
	} {
		f.Add(seed.typ, seed.body, seed.secs, seed.who)
	}
	ctx := context.Background()
	r := funds.New()
	base0 := ruletest.State{}
	// A second beneficiary, and a period of aid and one of wages paid by
	// one-time commitments (r1; w1, bob's rest of April).
	applyAll(f, base0, after(wage("p-1", "c-lab", alice, "2026-04", 5_000, "co-1", "w-alice"),
		open(civil, "b-erin", funds.OwnerPerson, erin, funds.KindBeneficiary), benef(civil, "ben-erin", erin, "dibao", "b-erin"),
		aidVouch(civil, "dibao", "2026-04", r1), wageVouch(bureau, "c-lab", "2026-04", w1)))
	signers := []string{treasury, bureau, civil, engine}
	f.Fuzz(func(t *testing.T, typ string, body []byte, secs int64, who uint8) {
		secs %= 400 * day // from about a year before t0 to a year after
		// Roles are admission's to check; who signs matters for control.
		e := rawEntryAt(t0.Add(time.Duration(secs)*time.Second), signers[int(who)%len(signers)], typ, string(body))
		// CheckApply checks that Apply does not panic and that a refusal
		// writes nothing.
		st := base0.Clone()
		_, err := ruletest.CheckApply(t, r, st, e)
		if err != nil {
			if !wrapsSentinel(err) {
				t.Fatalf("Apply = %v, which wraps no rule sentinel", err)
			}
			return
		}
		if _, ok := parsers[typ]; !ok {
			t.Fatalf("admitted unknown type %q", typ)
		}
		if err := parsers[typ](body); err != nil {
			t.Fatalf("admitted a body its parser refuses: %v", err)
		}
		supply, err := funds.TotalSupply(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sumBalances(t, st); sum != supply.Allocated {
			t.Fatalf("balances sum to %d, allocations to %d", sum, supply.Allocated)
		}
	})
}

func parse[B any](p func([]byte) (B, error)) func([]byte) error {
	return func(b []byte) error { _, err := p(b); return err }
}

var parsers = map[string]func([]byte) error{
	funds.TypeAccountOpen:         parse(funds.ParseAccountOpenBody),
	funds.TypeAllocate:            parse(funds.ParseAllocateBody),
	funds.TypeContractRegister:    parse(funds.ParseContractRegisterBody),
	funds.TypeTransfer:            parse(funds.ParseTransferBody),
	funds.TypeWagePay:             parse(funds.ParseWagePayBody),
	funds.TypeGuaranteeLodge:      parse(funds.ParseGuaranteeLodgeBody),
	funds.TypeGuaranteeRelease:    parse(funds.ParseReleaseBody),
	funds.TypeAidGrade:            parse(funds.ParseAidGradeBody),
	funds.TypeBeneficiaryRegister: parse(funds.ParseBeneficiaryRegisterBody),
	funds.TypeAidPay:              parse(funds.ParseAidPayBody),
	funds.TypeAidVouch:            parse(funds.ParseAidVouchBody),
	funds.TypeWageVouch:           parse(funds.ParseWageVouchBody),
}

var _ rule.Domain = funds.New()
