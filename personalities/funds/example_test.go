package funds_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// A road builder employs two workers under a labour contract with a
// guarantee deposit. Wang is paid on time; Zhao is not, and when the
// deadline has passed the deposit pays him.
func Example() {
	ctx := context.Background()
	rules := funds.New()
	st := ruletest.State{} // any rule.State; the admission server's is SQL

	// A person is a salted commitment, never a name.
	commit := func(s string) string {
		h := sha256.Sum256([]byte(s))
		return hex.EncodeToString(h[:])
	}
	wang, zhao := commit("7f3a…|Wang"), commit("c41d…|Zhao")

	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	submit := func(agency, typ string, body any) error {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		return rules.Apply(ctx, st, rule.Entry{Type: typ, Time: now, Body: b, Agency: agency})
	}
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	const bureau = "xiongan-fb"
	for _, a := range []funds.AccountOpenBody{
		{AccountID: "xa:budget", OwnerKind: funds.OwnerAgency, Owner: bureau, Kind: funds.KindBudget},
		{AccountID: "xa:builder", OwnerKind: funds.OwnerCompany, Owner: "91130600MA0C000001", Kind: funds.KindCompany},
		{AccountID: "xa:escrow", OwnerKind: funds.OwnerAgency, Owner: bureau, Kind: funds.KindEscrow},
		{AccountID: "xa:w-wang", OwnerKind: funds.OwnerPerson, Owner: wang, Kind: funds.KindWorker},
		{AccountID: "xa:w-zhao", OwnerKind: funds.OwnerPerson, Owner: zhao, Kind: funds.KindWorker},
	} {
		must(submit(bureau, funds.TypeAccountOpen, a))
	}
	// Amounts are fen: 50,000.00 yuan.
	must(submit("mof", funds.TypeAllocate, funds.AllocateBody{AllocationID: "2026-001", To: "xa:budget", Amount: 50_000_00, BudgetLine: "2026 roads"}))
	must(submit(bureau, funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "xa:road-7", Kind: funds.ContractWorks,
		Payer: "xa:budget", Payee: "xa:builder", Ceiling: 40_000_00}))
	must(submit(bureau, funds.TypeTransfer, funds.TransferBody{TransferID: "xa:t-1", From: "xa:budget", To: "xa:builder", Amount: 30_000_00, ContractID: "xa:road-7"}))
	must(submit(bureau, funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "xa:road-7-crew", Kind: funds.ContractLabour,
		Payer: "xa:builder", Ceiling: 12_000_00, Workers: []string{wang, zhao}, WagePerPeriod: 6_000_00,
		Schedule: []funds.PayPeriod{{Period: "2026-03", PayDeadline: "2026-04-10"}}}))
	must(submit(bureau, funds.TypeGuaranteeLodge, funds.GuaranteeLodgeBody{GuaranteeID: "xa:g-1", ContractID: "xa:road-7-crew",
		From: "xa:builder", Escrow: "xa:escrow", Amount: 9_000_00}))

	wage := funds.WagePayBody{PaymentID: "xa:p-1", ContractID: "xa:road-7-crew", Worker: wang, Period: "2026-03",
		Amount: 6_000_00, From: "xa:builder", To: "xa:w-wang"}
	must(submit(bureau, funds.TypeWagePay, wage))
	wage.PaymentID = "xa:p-2"
	err := submit(bureau, funds.TypeWagePay, wage)
	fmt.Println("Wang paid twice:", errors.Is(err, rule.ErrAlreadyExists))

	// After the deadline, the scheduler asks what is due, and govlog signs
	// it with the funds log's rule key.
	now = time.Date(2026, 4, 11, 0, 0, 0, 0, time.UTC)
	due, err := funds.DueReleases(ctx, st, now)
	must(err)
	for _, r := range due {
		fmt.Printf("release %s %s: %d to %s\n", r.ContractID, r.Period, r.Payments[0].Amount, r.Payments[0].To)
		must(submit("govlog-funds", funds.TypeGuaranteeRelease, r))
	}
	for _, id := range []string{"xa:budget", "xa:builder", "xa:escrow", "xa:w-wang", "xa:w-zhao"} {
		b, _, err := funds.Balance(ctx, st, id)
		must(err)
		fmt.Printf("%-10s %9d.%02d %s\n", id, b/100, b%100, funds.Currency)
	}
	// Output:
	// Wang paid twice: true
	// release xa:road-7-crew 2026-03: 600000 to xa:w-zhao
	// xa:budget      20000.00 CNY
	// xa:builder     15000.00 CNY
	// xa:escrow       3000.00 CNY
	// xa:w-wang       6000.00 CNY
	// xa:w-zhao       6000.00 CNY
}
