package funds_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// fields turns a body struct into a map, to break it with with.
func fields(body any) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(mustJSON(body), &m); err != nil {
		panic(err)
	}
	return m
}

// deleteField, as a value in with, removes the field.
var deleteField = &struct{}{}

func with(m map[string]any, key string, v any) map[string]any {
	m = maps.Clone(m)
	if v == deleteField {
		delete(m, key)
	} else {
		m[key] = v
	}
	return m
}

// after is base followed by es.
func after(es ...rule.Entry) []rule.Entry { return append(base(), es...) }

var (
	afterMarch = marchDeadline.Add(time.Second)
	bothShort  = funds.ReleaseBody{ContractID: "c-lab", Period: "2026-03", Escrow: "escrow-1", Payments: []funds.ReleasePayment{
		{Worker: alice, To: "w-alice", Amount: 3_000}, {Worker: bob, To: "w-bob", Amount: 3_000}}}
	bobOnly = funds.ReleaseBody{ContractID: "c-lab", Period: "2026-03", Escrow: "escrow-1", Payments: []funds.ReleasePayment{
		{Worker: bob, To: "w-bob", Amount: 5_000}}}
)

func releaseWith(b funds.ReleaseBody, edit func(*funds.ReleaseBody)) funds.ReleaseBody {
	b.Payments = slices.Clone(b.Payments)
	edit(&b)
	return b
}

func TestApply(t *testing.T) {
	transfer := fields(funds.TransferBody{TransferID: "t-2", From: "budget-1", To: "co-1", Amount: 100, ContractID: "c-works"})
	tr := func(m map[string]any) rule.Entry { return entry(bureau, funds.TypeTransfer, m) }
	labourBody := fields(funds.ContractRegisterBody{ContractID: "c-new", Kind: funds.ContractLabour, Payer: "co-1", Ceiling: 10_000,
		Workers: []string{alice}, WagePerPeriod: 5_000, Schedule: []funds.PayPeriod{
			{Period: "2026-03", PayDeadline: "2026-04-10"}, {Period: "2026-04", PayDeadline: "2026-05-10"}}})
	lb := func(m map[string]any) rule.Entry { return entry(bureau, funds.TypeContractRegister, m) }
	schedule := func(pp ...funds.PayPeriod) []funds.PayPeriod { return pp }
	wageAlice := wage("p-1", "c-lab", alice, "2026-03", 5_000, "co-1", "w-alice")
	aidDave := aid(civil, "p-aid-1", "ben-dave", "dibao", "2026-03", "budget-aid", "b-dave", 1_200)

	tests := []struct {
		name    string
		entries []rule.Entry // all but the last must be admitted
		wantErr error
		wantMsg string // a substring of the error, if set
	}{
		{name: "base world", entries: base()},

		// Transfers.
		{name: "transfer", entries: after(tr(transfer))},
		{name: "transfer up to the ceiling", entries: after(xfer(bureau, "t-2", "budget-1", "co-1", 300_000, "c-works"))},
		{name: "over ceiling", entries: after(xfer(bureau, "t-2", "budget-1", "co-1", 300_001, "c-works")),
			wantErr: funds.ErrOverCeiling, wantMsg: "200000 of contract c-works's ceiling of 500000 is paid"},
		{name: "spend the whole balance", entries: after(works(bureau, "c-big", "budget-1", "co-2", funds.MaxAmount),
			xfer(bureau, "t-2", "budget-1", "co-2", 800_000, "c-big"))},
		{name: "overspend", entries: after(works(bureau, "c-big", "budget-1", "co-2", funds.MaxAmount),
			xfer(bureau, "t-2", "budget-1", "co-2", 800_001, "c-big")),
			wantErr: funds.ErrBalanceTooLow, wantMsg: "account budget-1 holds 800000, less than 800001"},
		{name: "zero amount", entries: after(tr(with(transfer, "amount", 0))), wantErr: rule.ErrInvalidBody, wantMsg: `"amount" must be positive`},
		{name: "negative amount", entries: after(tr(with(transfer, "amount", -5))), wantErr: rule.ErrInvalidBody, wantMsg: `"amount" must not be negative`},
		{name: "fractional amount", entries: after(tr(with(transfer, "amount", 1.5))), wantErr: rule.ErrInvalidBody, wantMsg: "without fraction"},
		{name: "amount with exponent", entries: after(rawEntry(bureau, funds.TypeTransfer,
			`{"amount":1e3,"contract_id":"c-works","from":"budget-1","to":"co-1","transfer_id":"t-2"}`)), wantErr: rule.ErrInvalidBody},
		{name: "amount 1.0", entries: after(rawEntry(bureau, funds.TypeTransfer,
			`{"amount":1.0,"contract_id":"c-works","from":"budget-1","to":"co-1","transfer_id":"t-2"}`)), wantErr: rule.ErrInvalidBody},
		{name: "amount as string", entries: after(tr(with(transfer, "amount", "100"))), wantErr: rule.ErrInvalidBody, wantMsg: `"amount" must be a number, not a string`},
		{name: "amount null", entries: after(tr(with(transfer, "amount", nil))), wantErr: rule.ErrInvalidBody},
		{name: "amount 2^53 parses", entries: after(tr(with(transfer, "amount", int64(1)<<53))), wantErr: funds.ErrOverCeiling},
		{name: "amount 2^53+1", entries: after(tr(with(transfer, "amount", int64(1)<<53+1))), wantErr: rule.ErrInvalidBody, wantMsg: "2^53"},
		{name: "amount beyond int64", entries: after(rawEntry(bureau, funds.TypeTransfer,
			`{"amount":92233720368547758070,"contract_id":"c-works","from":"budget-1","to":"co-1","transfer_id":"t-2"}`)), wantErr: rule.ErrInvalidBody},
		{name: "transfer without contract", entries: after(xfer(bureau, "t-2", "budget-1", "co-1", 100, "c-none")),
			wantErr: funds.ErrNoContract, wantMsg: "contract c-none does not exist"},
		{name: "transfer under a labour contract", entries: after(xfer(bureau, "t-2", "co-1", "co-2", 100, "c-lab")),
			wantErr: rule.ErrRuleViolation, wantMsg: "contract c-lab is a labour contract"},
		{name: "transfer to another payee", entries: after(xfer(bureau, "t-2", "budget-1", "co-2", 100, "c-works")),
			wantErr: rule.ErrRuleViolation, wantMsg: "contract c-works is from budget-1 to co-1"},
		{name: "transfer backwards", entries: after(xfer(bureau, "t-2", "co-1", "budget-1", 100, "c-works")), wantErr: rule.ErrRuleViolation},
		{name: "account the signer does not control", entries: after(xfer(civil, "t-2", "budget-1", "co-1", 100, "c-works")),
			wantErr: funds.ErrNotController, wantMsg: "account budget-1 is controlled by xiongan-fb, not by guiyang-ca"},
		{name: "transfer ID reused", entries: after(xfer(bureau, "t-1", "budget-1", "co-1", 100, "c-works")),
			wantErr: rule.ErrAlreadyExists, wantMsg: "transfer t-1"},
		{name: "transfer to itself", entries: after(xfer(bureau, "t-2", "co-1", "co-1", 100, "c-works")), wantErr: rule.ErrInvalidBody},

		// Wages.
		{name: "wage", entries: after(wageAlice)},
		{name: "second wage same period", entries: after(wageAlice, wage("p-2", "c-lab", alice, "2026-03", 5_000, "co-1", "w-alice")),
			wantErr: rule.ErrAlreadyExists, wantMsg: "was paid for 2026-03 under contract c-lab"},
		{name: "wage next period", entries: after(wageAlice, wage("p-2", "c-lab", alice, "2026-04", 5_000, "co-1", "w-alice"))},
		{name: "wage payment ID reused", entries: after(wageAlice, wage("p-1", "c-lab", bob, "2026-03", 5_000, "co-1", "w-bob")),
			wantErr: rule.ErrAlreadyExists, wantMsg: "payment p-1"},
		{name: "wage payment ID used by aid", entries: after(aidDave, wage("p-aid-1", "c-lab", bob, "2026-03", 5_000, "co-1", "w-bob")),
			wantErr: rule.ErrAlreadyExists},
		{name: "wage to a non-worker", entries: after(wage("p-1", "c-lab", carol, "2026-03", 5_000, "co-1", "w-carol")),
			wantErr: funds.ErrNotWorker, wantMsg: carol + " is not a worker of contract c-lab"},
		{name: "wage to another worker's account", entries: after(wage("p-1", "c-lab", alice, "2026-03", 5_000, "co-1", "w-bob")),
			wantErr: rule.ErrRuleViolation, wantMsg: "account w-bob is not the worker account of " + alice},
		{name: "wage of the wrong amount", entries: after(wage("p-1", "c-lab", alice, "2026-03", 4_999, "co-1", "w-alice")),
			wantErr: rule.ErrRuleViolation, wantMsg: "the wage due to " + alice + " for 2026-03 is 5000, not 4999"},
		{name: "wage for a period not scheduled", entries: after(wage("p-1", "c-lab", alice, "2026-05", 5_000, "co-1", "w-alice")),
			wantErr: rule.ErrRuleViolation, wantMsg: "period 2026-05 is not in the schedule"},
		{name: "wage from another account", entries: after(wage("p-1", "c-lab", alice, "2026-03", 5_000, "co-2", "w-alice")),
			wantErr: rule.ErrRuleViolation, wantMsg: "contract c-lab is paid from co-1, not co-2"},
		{name: "wage under a works contract", entries: after(wage("p-1", "c-works", alice, "2026-03", 5_000, "budget-1", "w-alice")),
			wantErr: rule.ErrRuleViolation, wantMsg: "is a works contract"},
		{name: "wage signed by another agency", entries: after(entry(civil, funds.TypeWagePay, funds.WagePayBody{
			PaymentID: "p-1", ContractID: "c-lab", Worker: alice, Period: "2026-03", Amount: 5_000, From: "co-1", To: "w-alice"})),
			wantErr: funds.ErrNotController},
		{name: "wage overspend", entries: after(
			labour(bureau, "c-lab2", "co-2", 5_000, 5_000, []string{carol}, funds.PayPeriod{Period: "2026-03", PayDeadline: "2026-04-10"}),
			wage("p-1", "c-lab2", carol, "2026-03", 5_000, "co-2", "w-carol")),
			wantErr: funds.ErrBalanceTooLow},
		{name: "wage worker not a commitment", entries: after(entry(bureau, funds.TypeWagePay, with(fields(funds.WagePayBody{
			PaymentID: "p-1", ContractID: "c-lab", Worker: alice, Period: "2026-03", Amount: 5_000, From: "co-1", To: "w-alice"}), "worker", "Alice Li"))),
			wantErr: rule.ErrInvalidBody, wantMsg: "never a name"},
		{name: "wage period not a month", entries: after(wage("p-1", "c-lab", alice, "2026-3", 5_000, "co-1", "w-alice")), wantErr: rule.ErrInvalidBody},

		// Guarantees.
		{name: "lodge again", entries: after(lodge("g-2", "c-lab", "co-1", "escrow-1", 4_000))},
		{name: "lodge ID reused", entries: after(lodge("g-1", "c-lab", "co-1", "escrow-1", 4_000)), wantErr: rule.ErrAlreadyExists},
		{name: "lodge into another escrow", entries: after(open(bureau, "escrow-2", funds.OwnerCompany, "bank-1", funds.KindEscrow),
			lodge("g-2", "c-lab", "co-1", "escrow-2", 4_000)),
			wantErr: rule.ErrRuleViolation, wantMsg: "held in escrow account escrow-1"},
		{name: "lodge from a budget", entries: after(lodge("g-2", "c-lab", "budget-1", "escrow-1", 4_000)),
			wantErr: rule.ErrRuleViolation, wantMsg: "account budget-1 is of kind budget, not company"},
		{name: "lodge into a company account", entries: after(lodge("g-2", "c-lab", "co-1", "co-2", 4_000)),
			wantErr: rule.ErrRuleViolation, wantMsg: "not escrow"},
		{name: "lodge another contract's guarantee into the same escrow", entries: after(
			labour(bureau, "c-lab-2", "co-1", 10_000, 5_000, []string{carol}, funds.PayPeriod{Period: "2026-03", PayDeadline: "2026-04-10"}),
			lodge("g-2", "c-lab-2", "co-1", "escrow-1", 4_000)), wantErr: rule.ErrRuleViolation, wantMsg: "holds the guarantee of contract c-lab"},
		{name: "lodge under a works contract", entries: after(lodge("g-2", "c-works", "co-1", "escrow-1", 4_000)), wantErr: rule.ErrRuleViolation},
		{name: "lodge overspend", entries: after(lodge("g-2", "c-lab", "co-1", "escrow-1", 194_001)), wantErr: funds.ErrBalanceTooLow},
		{name: "lodge from an account the signer does not control", entries: after(entry(civil, funds.TypeGuaranteeLodge, funds.GuaranteeLodgeBody{
			GuaranteeID: "g-2", ContractID: "c-lab", From: "co-1", Escrow: "escrow-1", Amount: 1})), wantErr: funds.ErrNotController},
		{name: "no transfer out of escrow", entries: after(works(bureau, "c-esc", "escrow-1", "co-2", 1_000)),
			wantErr: rule.ErrRuleViolation, wantMsg: "account escrow-1 is of kind escrow, not budget or company"},

		// Releases.
		{name: "release before deadline", entries: after(release(t0, bothShort)), wantErr: funds.ErrNotDue},
		{name: "release at the deadline", entries: after(release(marchDeadline, bothShort)),
			wantErr: funds.ErrNotDue, wantMsg: "deadline of contract c-lab for 2026-03 is 2026-04-10T23:59:59Z; the release is dated 2026-04-10T23:59:59Z"},
		{name: "release after deadline", entries: after(release(afterMarch, bothShort))},
		{name: "second release", entries: after(release(afterMarch, bothShort), release(afterMarch.Add(time.Hour), bothShort)),
			wantErr: rule.ErrAlreadyExists, wantMsg: "was released for 2026-03"},
		{name: "release paying a paid worker", entries: after(wageAlice, release(afterMarch, releaseWith(bothShort, func(b *funds.ReleaseBody) {
			b.Payments[0].Amount, b.Payments[1].Amount = 5_000, 5_000
		}))), wantErr: rule.ErrRuleViolation, wantMsg: "worker " + alice + " was paid for 2026-03"},
		{name: "release of the one unpaid worker", entries: after(wageAlice, release(afterMarch, bobOnly))},
		{name: "release omitting an unpaid worker", entries: after(release(afterMarch, releaseWith(bobOnly, func(b *funds.ReleaseBody) {
			b.Payments[0].Amount = 3_000
		}))), wantErr: rule.ErrRuleViolation, wantMsg: "2 workers of contract c-lab are unpaid for 2026-03; the release pays 1"},
		{name: "release of the wrong share", entries: after(release(afterMarch, releaseWith(bothShort, func(b *funds.ReleaseBody) {
			b.Payments[0].Amount, b.Payments[1].Amount = 5_000, 1_000
		}))), wantErr: rule.ErrRuleViolation, wantMsg: "pays 3000 to each unpaid worker"},
		{name: "release from another escrow", entries: after(open(bureau, "escrow-2", funds.OwnerAgency, bureau, funds.KindEscrow),
			release(afterMarch, releaseWith(bothShort, func(b *funds.ReleaseBody) { b.Escrow = "escrow-2" }))),
			wantErr: rule.ErrRuleViolation, wantMsg: "held in escrow account escrow-1"},
		{name: "release naming no escrow", entries: after(release(afterMarch, releaseWith(bothShort, func(b *funds.ReleaseBody) { b.Escrow = "" }))),
			wantErr: rule.ErrRuleViolation},
		{name: "release out of order", entries: after(release(afterMarch, releaseWith(bothShort, func(b *funds.ReleaseBody) {
			b.Payments[0], b.Payments[1] = b.Payments[1], b.Payments[0]
		}))), wantErr: rule.ErrRuleViolation, wantMsg: "contract's order"},
		{name: "release to a non-worker", entries: after(release(afterMarch, releaseWith(bothShort, func(b *funds.ReleaseBody) {
			b.Payments[1] = funds.ReleasePayment{Worker: carol, To: "w-carol", Amount: 3_000}
		}))), wantErr: funds.ErrNotWorker},
		{name: "release to a wrong account", entries: after(release(afterMarch, releaseWith(bothShort, func(b *funds.ReleaseBody) {
			b.Payments[1].To = "w-carol"
		}))), wantErr: rule.ErrRuleViolation, wantMsg: "account w-carol is not the worker account of " + bob},
		{name: "release for an unscheduled period", entries: after(release(afterMarch, releaseWith(bothShort, func(b *funds.ReleaseBody) {
			b.Period = "2026-02"
		}))), wantErr: rule.ErrRuleViolation, wantMsg: "not in the schedule"},
		{name: "release when every worker was paid", entries: after(wageAlice, wage("p-2", "c-lab", bob, "2026-03", 5_000, "co-1", "w-bob"),
			release(afterMarch, bobOnly)), wantErr: rule.ErrRuleViolation, wantMsg: "was paid"},
		{name: "release with no guarantee", entries: after(
			labour(bureau, "c-lab3", "co-1", 1_000, 1_000, []string{carol}, funds.PayPeriod{Period: "2026-03", PayDeadline: "2026-04-01"}),
			release(afterMarch, funds.ReleaseBody{ContractID: "c-lab3", Period: "2026-03", Payments: []funds.ReleasePayment{{Worker: carol, To: "w-carol"}}}))},
		{name: "release of an unknown contract", entries: after(release(afterMarch, releaseWith(bothShort, func(b *funds.ReleaseBody) {
			b.ContractID = "c-none"
		}))), wantErr: funds.ErrNoContract},
		{name: "release with no payments", entries: after(release(afterMarch, releaseWith(bothShort, func(b *funds.ReleaseBody) {
			b.Payments = []funds.ReleasePayment{}
		}))), wantErr: rule.ErrInvalidBody, wantMsg: `"payments" has 0 elements`},
		{name: "release repeating a worker", entries: after(release(afterMarch, releaseWith(bothShort, func(b *funds.ReleaseBody) {
			b.Payments[1] = b.Payments[0]
		}))), wantErr: rule.ErrInvalidBody, wantMsg: `"payments[1].worker" repeats`},
		{name: "release negative amount", entries: after(rawEntryAt(afterMarch, engine, funds.TypeGuaranteeRelease,
			`{"contract_id":"c-lab","escrow":"escrow-1","payments":[{"amount":-1,"to":"w-bob","worker":"`+bob+`"}],"period":"2026-03"}`)),
			wantErr: rule.ErrInvalidBody, wantMsg: `"payments[0].amount" must not be negative`},
		{name: "release payment with extra field", entries: after(rawEntryAt(afterMarch, engine, funds.TypeGuaranteeRelease,
			`{"contract_id":"c-lab","escrow":"escrow-1","payments":[{"amount":1,"name":"Bob","to":"w-bob","worker":"`+bob+`"}],"period":"2026-03"}`)),
			wantErr: rule.ErrInvalidBody, wantMsg: `unknown field "payments[0].name"`},
		{name: "wage after a partial release", entries: after(release(afterMarch, bothShort),
			wageAt(afterMarch, "p-1", "c-lab", alice, "2026-03", 2_000, "co-1", "w-alice"))},
		{name: "full wage after a partial release", entries: after(release(afterMarch, bothShort),
			wageAt(afterMarch, "p-1", "c-lab", alice, "2026-03", 5_000, "co-1", "w-alice")),
			wantErr: rule.ErrRuleViolation, wantMsg: "is 2000, not 5000"},
		{name: "wage after a full release", entries: after(wageAlice, release(afterMarch, bobOnly),
			wageAt(afterMarch, "p-2", "c-lab", bob, "2026-03", 5_000, "co-1", "w-bob")),
			wantErr: rule.ErrAlreadyExists},

		// Aid.
		{name: "aid", entries: after(aidDave)},
		{name: "aid of the wrong amount", entries: after(aid(civil, "p-aid-1", "ben-dave", "dibao", "2026-03", "budget-aid", "b-dave", 1_000)),
			wantErr: rule.ErrRuleViolation, wantMsg: "grade dibao pays 1200 per period, not 1000"},
		{name: "second aid in a period", entries: after(aidDave, aid(civil, "p-aid-2", "ben-dave", "dibao", "2026-03", "budget-aid", "b-dave", 1_200)),
			wantErr: rule.ErrAlreadyExists, wantMsg: "beneficiary ben-dave was paid for 2026-03 by payment p-aid-1"},
		{name: "aid for an earlier period", entries: after(aidDave, aid(civil, "p-aid-2", "ben-dave", "dibao", "2026-02", "budget-aid", "b-dave", 1_200))},
		{name: "aid in advance", entries: after(aid(civil, "p-aid-1", "ben-dave", "dibao", "2026-04", "budget-aid", "b-dave", 1_200)),
			wantErr: rule.ErrRuleViolation, wantMsg: "in advance"},
		{name: "aid by another agency", entries: after(aid(bureau, "p-aid-1", "ben-dave", "dibao", "2026-03", "budget-1", "b-dave", 1_200)),
			wantErr: funds.ErrNotController, wantMsg: "registered by guiyang-ca"},
		{name: "aid to another account", entries: after(aid(civil, "p-aid-1", "ben-dave", "dibao", "2026-03", "budget-aid", "w-alice", 1_200)),
			wantErr: rule.ErrRuleViolation, wantMsg: "paid to account b-dave"},
		{name: "aid of another grade", entries: after(aid(civil, "p-aid-1", "ben-dave", "tekun", "2026-03", "budget-aid", "b-dave", 1_200)),
			wantErr: rule.ErrRuleViolation, wantMsg: "has grade dibao"},
		{name: "aid from an account the signer does not control", entries: after(aid(civil, "p-aid-1", "ben-dave", "dibao", "2026-03", "budget-1", "b-dave", 1_200)),
			wantErr: funds.ErrNotController},
		{name: "aid to an unregistered beneficiary", entries: after(aid(civil, "p-aid-1", "ben-erin", "dibao", "2026-03", "budget-aid", "b-dave", 1_200)),
			wantErr: rule.ErrRuleViolation, wantMsg: "not registered"},
		{name: "aid at a changed grade", entries: after(grade(civil, "dibao", 1_500), aid(civil, "p-aid-1", "ben-dave", "dibao", "2026-03", "budget-aid", "b-dave", 1_500))},
		{name: "aid at the old grade", entries: after(grade(civil, "dibao", 1_500), aidDave), wantErr: rule.ErrRuleViolation},
		{name: "aid overspend", entries: after(grade(civil, "dibao", 100_001), aid(civil, "p-aid-1", "ben-dave", "dibao", "2026-03", "budget-aid", "b-dave", 100_001)),
			wantErr: funds.ErrBalanceTooLow},

		// Beneficiaries.
		{name: "second beneficiary", entries: after(open(civil, "b-erin", funds.OwnerPerson, erin, funds.KindBeneficiary),
			benef(civil, "ben-erin", erin, "dibao", "b-erin"))},
		{name: "credential registered twice", entries: after(open(civil, "b-dave2", funds.OwnerPerson, dave, funds.KindBeneficiary),
			benef(civil, "ben-dave2", dave, "dibao", "b-dave2")), wantErr: rule.ErrAlreadyExists, wantMsg: "registered as beneficiary ben-dave"},
		{name: "beneficiary ID reused", entries: after(open(civil, "b-erin", funds.OwnerPerson, erin, funds.KindBeneficiary),
			benef(civil, "ben-dave", erin, "dibao", "b-erin")), wantErr: rule.ErrAlreadyExists},
		{name: "beneficiary with someone else's account", entries: after(benef(civil, "ben-erin", erin, "dibao", "b-dave")),
			wantErr: rule.ErrRuleViolation, wantMsg: "account b-dave is not owned by credential " + erin},
		{name: "beneficiary with a worker account", entries: after(benef(civil, "ben-alice", alice, "dibao", "w-alice")),
			wantErr: rule.ErrRuleViolation, wantMsg: "not beneficiary"},
		{name: "beneficiary of another agency's grade", entries: after(open(bureau, "b-erin", funds.OwnerPerson, erin, funds.KindBeneficiary),
			benef(bureau, "ben-erin", erin, "dibao", "b-erin")), wantErr: rule.ErrRuleViolation, wantMsg: "agency xiongan-fb has no aid grade dibao"},

		// Accounts and allocations.
		{name: "account ID reused", entries: after(open(bureau, "co-1", funds.OwnerCompany, "x", funds.KindCompany)),
			wantErr: rule.ErrAlreadyExists, wantMsg: "account co-1"},
		{name: "second worker account", entries: after(open(bureau, "w-alice2", funds.OwnerPerson, alice, funds.KindWorker)),
			wantErr: rule.ErrRuleViolation, wantMsg: "already has worker account w-alice"},
		{name: "worker and beneficiary accounts of one person", entries: after(open(civil, "b-alice", funds.OwnerPerson, alice, funds.KindBeneficiary))},
		{name: "worker account owned by an agency", entries: after(open(bureau, "w-x", funds.OwnerAgency, bureau, funds.KindWorker)),
			wantErr: rule.ErrInvalidBody, wantMsg: "an account of kind worker cannot have owner_kind agency"},
		{name: "person named", entries: after(open(bureau, "w-x", funds.OwnerPerson, "Li Wei", funds.KindWorker)),
			wantErr: rule.ErrInvalidBody, wantMsg: "never a name"},
		{name: "owner agency not an agency ID", entries: after(open(bureau, "b-x", funds.OwnerAgency, "Xiongan FB", funds.KindBudget)),
			wantErr: rule.ErrInvalidBody},
		{name: "unknown account kind", entries: after(open(bureau, "x", funds.OwnerAgency, bureau, "savings")), wantErr: rule.ErrInvalidBody},
		{name: "unknown owner kind", entries: after(open(bureau, "x", "bank", bureau, funds.KindEscrow)), wantErr: rule.ErrInvalidBody},
		{name: "account ID with a slash", entries: after(open(bureau, "co/3", funds.OwnerCompany, "x", funds.KindCompany)), wantErr: rule.ErrInvalidBody},
		{name: "account ID of 65", entries: after(open(bureau, strings.Repeat("a", 65), funds.OwnerCompany, "x", funds.KindCompany)), wantErr: rule.ErrInvalidBody},
		{name: "allocation", entries: after(alloc("a-3", "budget-aid", 5))},
		{name: "allocation to a company", entries: after(alloc("a-3", "co-1", 5)), wantErr: rule.ErrRuleViolation, wantMsg: "not budget"},
		{name: "allocation to nowhere", entries: after(alloc("a-3", "budget-9", 5)), wantErr: rule.ErrRuleViolation, wantMsg: "account budget-9 does not exist"},
		{name: "allocation ID reused", entries: after(alloc("a-1", "budget-1", 5)), wantErr: rule.ErrAlreadyExists},
		{name: "allocation without budget line", entries: after(entry(treasury, funds.TypeAllocate, with(fields(funds.AllocateBody{
			AllocationID: "a-3", To: "budget-1", Amount: 1, BudgetLine: "x"}), "budget_line", " "))), wantErr: rule.ErrInvalidBody},
		{name: "allocations overflow", entries: overflowing(), wantErr: funds.ErrOverflow, wantMsg: "allocated so far"},

		// Contracts.
		{name: "labour contract", entries: after(lb(labourBody))},
		{name: "contract ID reused", entries: after(works(bureau, "c-works", "budget-1", "co-2", 1)), wantErr: rule.ErrAlreadyExists},
		{name: "contract payer the signer does not control", entries: after(works(civil, "c-2", "budget-1", "co-2", 1)), wantErr: funds.ErrNotController},
		{name: "contract paying an escrow", entries: after(works(bureau, "c-2", "budget-1", "escrow-1", 1)), wantErr: rule.ErrRuleViolation},
		{name: "contract paying a worker account", entries: after(works(bureau, "c-2", "budget-1", "w-alice", 1)), wantErr: rule.ErrRuleViolation},
		{name: "contract with a missing payee", entries: after(works(bureau, "c-2", "budget-1", "co-9", 1)), wantErr: rule.ErrRuleViolation},
		{name: "contract paying itself", entries: after(works(bureau, "c-2", "budget-1", "budget-1", 1)), wantErr: rule.ErrInvalidBody},
		{name: "labour contract with a worker without account", entries: after(lb(with(with(labourBody, "workers", []string{alice, erin}), "ceiling", 20_000))),
			wantErr: rule.ErrRuleViolation, wantMsg: "worker " + erin + " has no worker account"},
		{name: "labour contract with a past deadline", entries: after(lb(with(labourBody, "schedule",
			schedule(funds.PayPeriod{Period: "2026-02", PayDeadline: "2026-03-10"})))),
			wantErr: rule.ErrRuleViolation, wantMsg: "has already passed"},
		{name: "labour ceiling below the wage bill", entries: after(lb(with(labourBody, "ceiling", 9_999))),
			wantErr: rule.ErrInvalidBody, wantMsg: "less than the wage bill"},
		{name: "labour contract with a payee", entries: after(lb(with(labourBody, "payee", "co-2"))), wantErr: rule.ErrInvalidBody},
		{name: "labour contract without schedule", entries: after(lb(with(labourBody, "schedule", deleteField))),
			wantErr: rule.ErrInvalidBody, wantMsg: `missing field "schedule"`},
		{name: "works contract without payee", entries: after(entry(bureau, funds.TypeContractRegister, with(fields(funds.ContractRegisterBody{
			ContractID: "c-2", Kind: funds.ContractWorks, Payer: "budget-1", Payee: "co-2", Ceiling: 1}), "payee", deleteField))),
			wantErr: rule.ErrInvalidBody, wantMsg: `missing field "payee"`},
		{name: "works contract with workers", entries: after(entry(bureau, funds.TypeContractRegister, with(fields(funds.ContractRegisterBody{
			ContractID: "c-2", Kind: funds.ContractWorks, Payer: "budget-1", Payee: "co-2", Ceiling: 1}), "workers", []string{alice}))),
			wantErr: rule.ErrInvalidBody, wantMsg: "only for labour"},
		{name: "unknown contract kind", entries: after(lb(with(labourBody, "kind", "loan"))), wantErr: rule.ErrInvalidBody},
		{name: "schedule out of order", entries: after(lb(with(labourBody, "schedule", schedule(
			funds.PayPeriod{Period: "2026-04", PayDeadline: "2026-05-10"}, funds.PayPeriod{Period: "2026-03", PayDeadline: "2026-04-10"})))),
			wantErr: rule.ErrInvalidBody, wantMsg: "increasing order"},
		{name: "deadline before its period", entries: after(lb(with(labourBody, "schedule", schedule(
			funds.PayPeriod{Period: "2026-05", PayDeadline: "2026-04-30T23:59:59Z"})))), wantErr: rule.ErrInvalidBody},
		{name: "deadline with offset", entries: after(lb(with(labourBody, "schedule", schedule(
			funds.PayPeriod{Period: "2026-04", PayDeadline: "2026-05-10T09:00:00+08:00"}))))},
		{name: "deadline spelt +00:00", entries: after(lb(with(labourBody, "schedule", schedule(
			funds.PayPeriod{Period: "2026-04", PayDeadline: "2026-05-10T09:00:00+00:00"})))), wantErr: rule.ErrInvalidBody},
		{name: "deadline with fraction", entries: after(lb(with(labourBody, "schedule", schedule(
			funds.PayPeriod{Period: "2026-04", PayDeadline: "2026-05-10T09:00:00.5Z"})))), wantErr: rule.ErrInvalidBody},
		{name: "deadline not a date", entries: after(lb(with(labourBody, "schedule", schedule(
			funds.PayPeriod{Period: "2026-04", PayDeadline: "2026-04-31"})))), wantErr: rule.ErrInvalidBody},
		{name: "schedule entry with extra field", entries: after(lb(with(labourBody, "schedule",
			[]map[string]string{{"period": "2026-04", "pay_deadline": "2026-05-10", "note": "x"}}))),
			wantErr: rule.ErrInvalidBody, wantMsg: `unknown field "schedule[0].note"`},
		{name: "worker listed twice", entries: after(lb(with(labourBody, "workers", []string{alice, alice}))), wantErr: rule.ErrInvalidBody},
		{name: "no workers", entries: after(lb(with(labourBody, "workers", []string{}))), wantErr: rule.ErrInvalidBody},
		{name: "workers not strings", entries: after(lb(with(labourBody, "workers", []int{1}))), wantErr: rule.ErrInvalidBody},

		// Body syntax, type and agency.
		{name: "unknown field", entries: after(tr(with(transfer, "memo", "x"))), wantErr: rule.ErrInvalidBody, wantMsg: `unknown field "memo"`},
		{name: "field name in another case", entries: after(tr(with(with(transfer, "amount", deleteField), "Amount", 5))),
			wantErr: rule.ErrInvalidBody, wantMsg: `unknown field "Amount"`},
		{name: "missing field", entries: after(tr(with(transfer, "contract_id", deleteField))), wantErr: rule.ErrInvalidBody, wantMsg: `missing field "contract_id"`},
		{name: "duplicate field", entries: after(rawEntry(bureau, funds.TypeTransfer,
			`{"amount":1,"amount":2,"contract_id":"c-works","from":"budget-1","to":"co-1","transfer_id":"t-2"}`)),
			wantErr: rule.ErrInvalidBody, wantMsg: `duplicate field "amount"`},
		{name: "duplicate nested field", entries: after(rawEntryAt(afterMarch, engine, funds.TypeGuaranteeRelease,
			`{"contract_id":"c-lab","escrow":"escrow-1","payments":[{"amount":1,"amount":2,"to":"w-bob","worker":"`+bob+`"}],"period":"2026-03"}`)),
			wantErr: rule.ErrInvalidBody, wantMsg: `duplicate field "payments[0].amount"`},
		{name: "nested too deeply", entries: after(rawEntry(bureau, funds.TypeTransfer, `{"memo":[[[1]]]}`)),
			wantErr: rule.ErrInvalidBody, wantMsg: "nested too deeply"},
		{name: "body is an array", entries: after(rawEntry(bureau, funds.TypeTransfer, `[]`)), wantErr: rule.ErrInvalidBody},
		{name: "body is null", entries: after(rawEntry(bureau, funds.TypeTransfer, `null`)), wantErr: rule.ErrInvalidBody},
		{name: "body is empty", entries: after(rawEntry(bureau, funds.TypeTransfer, ``)), wantErr: rule.ErrInvalidBody},
		{name: "body truncated", entries: after(rawEntry(bureau, funds.TypeTransfer, `{"amount":1`)), wantErr: rule.ErrInvalidBody},
		{name: "data after body", entries: after(rawEntry(bureau, funds.TypeAidGrade, `{"amount_per_period":1,"grade":"g"}{}`)), wantErr: rule.ErrInvalidBody},
		{name: "body not UTF-8", entries: after(rawEntry(civil, funds.TypeAidGrade, "{\"amount_per_period\":1,\"grade\":\"g\xff\"}")), wantErr: rule.ErrInvalidBody},
		{name: "unknown type", entries: after(entry(bureau, "funds.mint", funds.AllocateBody{})), wantErr: rule.ErrUnknownType},
		{name: "agency not a registry ID", entries: after(grade("guiyang/ca", "dibao", 1)), wantErr: rule.ErrRuleViolation},
		{name: "empty agency", entries: after(grade("", "dibao", 1)), wantErr: rule.ErrRuleViolation},
	}
	ctx := context.Background()
	r := funds.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The last entry runs through a per-statement overlay, as
			// admission does, and once more on the plain state: a refusal
			// must leave both alone.
			st := ruletest.State{}
			if err := ruletest.CheckEntries(t, r, st, tt.entries, tt.wantErr, tt.wantMsg); err != nil {
				return
			}
			supply, err := funds.TotalSupply(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			if sum := sumBalances(t, st); sum != supply.Allocated {
				t.Errorf("balances sum to %d, allocations to %d", sum, supply.Allocated)
			}
		})
	}
}

// overflowing is base, then allocations of MaxAmount until the next one
// would take the total past math.MaxInt64 (the last entry).
func overflowing() []rule.Entry {
	es := base() // allocates 1,100,000
	for i := range 1024 {
		es = append(es, alloc(fmt.Sprintf("big-%04d", i), "budget-1", funds.MaxAmount))
	}
	// 1023 × 2^53 + 1,100,000 fits; a 1024th 2^53 does not.
	return es
}

// TestReceiverOverflow checks the per-account overflow guard, which the cap
// on allocations makes unreachable from an empty state, on a state made by
// hand.
func TestReceiverOverflow(t *testing.T) {
	ctx := context.Background()
	st := ruletest.State{}
	applyAll(t, st, base())
	a, _, err := funds.Account(ctx, st, "co-1")
	if err != nil {
		t.Fatal(err)
	}
	a.Balance = math.MaxInt64 - 100
	st["account/co-1"] = mustJSON(a)
	ov := ruletest.NewOverlay(st)
	err = funds.New().Apply(ctx, ov, xfer(bureau, "t-2", "budget-1", "co-1", 101, "c-works"))
	if !errors.Is(err, funds.ErrOverflow) || !errors.Is(err, rule.ErrRuleViolation) || ov.Puts() != 0 {
		t.Errorf("Apply = %v with %d puts, want ErrOverflow and none", err, ov.Puts())
	}
	if err := funds.New().Apply(ctx, ov, xfer(bureau, "t-2", "budget-1", "co-1", 100, "c-works")); err != nil {
		t.Errorf("Apply up to MaxInt64 = %v", err)
	}
}

// TestDoubleEntry follows money through the ledgers.
func TestDoubleEntry(t *testing.T) {
	ctx := context.Background()
	st := ruletest.State{}
	applyAll(t, st, after(
		wage("p-1", "c-lab", alice, "2026-03", 5_000, "co-1", "w-alice"),
		aid(civil, "p-aid-1", "ben-dave", "dibao", "2026-03", "budget-aid", "b-dave", 1_200),
	))
	wantBalances := map[string]int64{
		"budget-1": 800_000, "co-1": 189_000, "escrow-1": 6_000, "w-alice": 5_000, "w-bob": 0,
		"budget-aid": 98_800, "b-dave": 1_200, "co-2": 0, "w-carol": 0,
	}
	for id, want := range wantBalances {
		if got, ok, err := funds.Balance(ctx, st, id); err != nil || !ok || got != want {
			t.Errorf("Balance(%s) = %d, %v, %v; want %d", id, got, ok, err, want)
		}
	}
	if _, ok, err := funds.Balance(ctx, st, "nope"); ok || err != nil {
		t.Errorf("Balance(nope) = %v, %v", ok, err)
	}
	lines, err := funds.History(ctx, st, "co-1", 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind         funds.MovementKind
		ref, counter string
		amount, bal  int64
	}{
		{funds.MoveTransfer, "transfer/t-1", "budget-1", 200_000, 200_000},
		{funds.MoveGuarantee, "guarantee/g-1", "escrow-1", -6_000, 194_000},
		{funds.MoveWage, "payment/p-1", "w-alice", -5_000, 189_000},
	}
	if len(lines) != len(want) {
		t.Fatalf("History(co-1) = %+v", lines)
	}
	for i, w := range want {
		l := lines[i]
		if l.Kind != w.kind || l.Ref != w.ref || l.Counterparty != w.counter || l.Amount != w.amount || l.Balance != w.bal || len(l.LeafHash) != 64 {
			t.Errorf("line %d = %+v, want %+v", i+1, l, w)
		}
	}
	if tail, err := funds.History(ctx, st, "co-1", 3, 10); err != nil || len(tail) != 1 || tail[0] != lines[2] {
		t.Errorf("History(co-1, from 3) = %+v, %v", tail, err)
	}
	m, ok, err := funds.Payment(ctx, st, "p-1")
	if err != nil || !ok || m.Kind != funds.MoveWage || m.From != "co-1" || m.To != "w-alice" || m.Worker != alice || m.Period != "2026-03" {
		t.Errorf("Payment(p-1) = %+v, %v, %v", m, ok, err)
	}
	m, ok, err = funds.Allocation(ctx, st, "a-1")
	if err != nil || !ok || m.From != "" || m.To != "budget-1" || m.BudgetLine != "2026/xiongan/roads" || m.Agency != treasury {
		t.Errorf("Allocation(a-1) = %+v, %v, %v", m, ok, err)
	}
	if p, ok, err := funds.Progress(ctx, st, "c-lab"); err != nil || !ok || p != (funds.ContractProgress{Paid: 5_000, Escrow: "escrow-1", Held: 6_000, Lodged: 6_000}) {
		t.Errorf("Progress(c-lab) = %+v, %v, %v", p, ok, err)
	}
	if a, ok, err := funds.Aid(ctx, st, "ben-dave", "2026-03"); err != nil || !ok || a.Payment != "p-aid-1" || a.Amount != 1_200 {
		t.Errorf("Aid = %+v, %v, %v", a, ok, err)
	}
	if s, err := funds.TotalSupply(ctx, st); err != nil || s != (funds.Supply{Allocated: 1_100_000, Allocations: 2}) {
		t.Errorf("TotalSupply = %+v, %v", s, err)
	}
	if id, ok, err := funds.BeneficiaryByCredential(ctx, st, dave); err != nil || !ok || id != "ben-dave" {
		t.Errorf("BeneficiaryByCredential = %s, %v, %v", id, ok, err)
	}
	if acct, ok, err := funds.WorkerAccount(ctx, st, alice); err != nil || !ok || acct != "w-alice" {
		t.Errorf("WorkerAccount = %s, %v, %v", acct, ok, err)
	}
	if g, ok, err := funds.Grade(ctx, st, civil, "dibao"); err != nil || !ok || g.AmountPerPeriod != 1_200 || g.Version != 1 {
		t.Errorf("Grade = %+v, %v, %v", g, ok, err)
	}
	if sum := sumBalances(t, st); sum != 1_100_000 {
		t.Errorf("balances sum to %d", sum)
	}
}

// TestReadHelpersMalformedIDs: a read helper fed user input cannot be
// steered to another key.
func TestReadHelpersMalformedIDs(t *testing.T) {
	ctx := context.Background()
	st := ruletest.State{}
	applyAll(t, st, base())
	if _, ok, err := funds.Account(ctx, st, "co-1/../co-2"); ok || err != nil {
		t.Errorf("Account = %v, %v", ok, err)
	}
	if _, ok, err := funds.Contract(ctx, st, "c-lab/progress"); ok || err != nil {
		t.Errorf("Contract = %v, %v", ok, err)
	}
	if _, ok, err := funds.Period(ctx, st, "c-lab", "2026-3"); ok || err != nil {
		t.Errorf("Period = %v, %v", ok, err)
	}
	if _, ok, err := funds.Grade(ctx, st, "Guiyang", "dibao"); ok || err != nil {
		t.Errorf("Grade = %v, %v", ok, err)
	}
	if p, ok, err := funds.Period(ctx, st, "c-lab", "2026-03"); err != nil || !ok || p.Unpaid != 2 || p.Deadline != "2026-04-10T23:59:59Z" {
		t.Errorf("Period(c-lab, 2026-03) = %+v, %v, %v", p, ok, err)
	}
	if k, ok, err := funds.Contract(ctx, st, "c-lab"); err != nil || !ok || k.Schedule[1].PayDeadline != "2026-05-10T10:00:00Z" {
		t.Errorf("Contract(c-lab) = %+v, %v, %v", k, ok, err)
	}
}

func TestRequiredRole(t *testing.T) {
	r := funds.New()
	if got := r.Log(); got != "funds" {
		t.Errorf("Log() = %q", got)
	}
	want := map[string]string{
		"funds.account.open":             "fund-manager",
		"funds.allocate":                 "treasury",
		"funds.contract.register":        "fund-manager",
		"funds.transfer":                 "fund-manager",
		"funds.wage.pay":                 "payroll",
		"funds.guarantee.lodge":          "fund-manager",
		"funds.guarantee.release":        "rule-engine",
		"funds.aid.grade":                "aid-officer",
		"funds.aid.beneficiary.register": "aid-officer",
		"funds.aid.pay":                  "aid-officer",
		"funds.aid.vouch":                "aid-officer",
		"funds.wage.vouch":               "fund-manager",
	}
	for typ, w := range want {
		if role, err := r.RequiredRole(typ); err != nil || role != w {
			t.Errorf("RequiredRole(%s) = %q, %v; want %q", typ, role, err, w)
		}
	}
	for _, typ := range []string{"", "funds", "funds.Transfer", "disclosure.publish", "funds.aid"} {
		if _, err := r.RequiredRole(typ); !errors.Is(err, rule.ErrUnknownType) {
			t.Errorf("RequiredRole(%q) = %v, want ErrUnknownType", typ, err)
		}
	}
}

func TestExamples(t *testing.T) {
	ruletest.CheckExamples(t, funds.New())
}

func TestStorageFailure(t *testing.T) {
	r := funds.New()
	setup := ruletest.State{}
	applyAll(t, setup, base())
	for _, e := range []rule.Entry{
		xfer(bureau, "t-2", "budget-1", "co-1", 100, "c-works"),
		wage("p-1", "c-lab", alice, "2026-03", 5_000, "co-1", "w-alice"),
		release(afterMarch, bothShort),
		aid(civil, "p-aid-1", "ben-dave", "dibao", "2026-03", "budget-aid", "b-dave", 1_200),
		labour(bureau, "c-new", "co-1", 5_000, 5_000, []string{alice}, funds.PayPeriod{Period: "2026-04", PayDeadline: "2026-05-01"}),
	} {
		ruletest.CheckStorageFailures(t, r, setup, e)
	}
}

func TestCorruptState(t *testing.T) {
	ctx := context.Background()
	r := funds.New()
	tests := []struct {
		name    string
		corrupt func(ruletest.State)
		e       rule.Entry
	}{
		{"account not JSON", func(m ruletest.State) { m["account/co-1"] = []byte("{") }, xfer(bureau, "t-2", "budget-1", "co-1", 1, "c-works")},
		{"progress missing", func(m ruletest.State) { delete(m, "contract/c-works/progress") }, xfer(bureau, "t-2", "budget-1", "co-1", 1, "c-works")},
		{"period missing", func(m ruletest.State) { delete(m, "period/c-lab/2026-03") }, wage("p-1", "c-lab", alice, "2026-03", 5_000, "co-1", "w-alice")},
		{"due list missing the contract", func(m ruletest.State) { m["due/2026-03"] = []byte("[]") },
			release(afterMarch, bothShort)},
		{"grade missing", func(m ruletest.State) { delete(m, "grade/guiyang-ca/dibao") },
			aid(civil, "p-aid-1", "ben-dave", "dibao", "2026-03", "budget-aid", "b-dave", 1_200)},
		{"bad deadline", func(m ruletest.State) { m["period/c-lab/2026-03"] = []byte(`{"deadline":"soon","unpaid":2}`) }, release(afterMarch, bothShort)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ruletest.State{}
			applyAll(t, st, base())
			tt.corrupt(st)
			err := r.Apply(ctx, ruletest.NewOverlay(st), tt.e)
			if err == nil || wrapsSentinel(err) {
				t.Errorf("Apply = %v, want a state error wrapping no rule sentinel", err)
			}
		})
	}
}

// TestBodyTypesMatchParser checks that the exported body structs marshal to
// exactly what the parsers accept, so clients can build bodies with them.
func TestBodyTypesMatchParser(t *testing.T) {
	check := func(name string, v any, parse func([]byte) (any, error)) {
		t.Helper()
		got, err := parse(mustJSON(v))
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Errorf("%s: parse = %+v, %v; want %+v", name, got, err, v)
		}
	}
	wrap := func(f any) func([]byte) (any, error) {
		fv := reflect.ValueOf(f)
		return func(b []byte) (any, error) {
			out := fv.Call([]reflect.Value{reflect.ValueOf(b)})
			err, _ := out[1].Interface().(error)
			return out[0].Interface(), err
		}
	}
	check("account", funds.AccountOpenBody{AccountID: "a", OwnerKind: funds.OwnerPerson, Owner: alice, Kind: funds.KindWorker}, wrap(funds.ParseAccountOpenBody))
	check("allocate", funds.AllocateBody{AllocationID: "a", To: "b", Amount: funds.MaxAmount, BudgetLine: "预算 2026"}, wrap(funds.ParseAllocateBody))
	check("works", funds.ContractRegisterBody{ContractID: "c", Kind: funds.ContractSupply, Payer: "p", Payee: "q", Ceiling: 1}, wrap(funds.ParseContractRegisterBody))
	check("labour", funds.ContractRegisterBody{ContractID: "c", Kind: funds.ContractLabour, Payer: "p", Ceiling: 4, Workers: []string{alice, bob},
		WagePerPeriod: 1, Schedule: []funds.PayPeriod{{Period: "2026-01", PayDeadline: "2026-02-01"}, {Period: "2026-02", PayDeadline: "2026-03-01T00:00:00+08:00"}}},
		wrap(funds.ParseContractRegisterBody))
	check("transfer", funds.TransferBody{TransferID: "t", From: "a", To: "b", Amount: 1, ContractID: "c"}, wrap(funds.ParseTransferBody))
	check("wage", funds.WagePayBody{PaymentID: "p", ContractID: "c", Worker: alice, Period: "2026-01", Amount: 1, From: "a", To: "b"}, wrap(funds.ParseWagePayBody))
	check("lodge", funds.GuaranteeLodgeBody{GuaranteeID: "g", ContractID: "c", From: "a", Escrow: "e", Amount: 1}, wrap(funds.ParseGuaranteeLodgeBody))
	check("release", bothShort, wrap(funds.ParseReleaseBody))
	check("release without escrow", funds.ReleaseBody{ContractID: "c", Period: "2026-01", Payments: []funds.ReleasePayment{{Worker: alice, To: "w"}}}, wrap(funds.ParseReleaseBody))
	check("grade", funds.AidGradeBody{Grade: "g", AmountPerPeriod: 1}, wrap(funds.ParseAidGradeBody))
	check("beneficiary", funds.BeneficiaryRegisterBody{BeneficiaryID: "b", Credential: dave, Grade: "g", Account: "a"}, wrap(funds.ParseBeneficiaryRegisterBody))
	check("aid", funds.AidPayBody{PaymentID: "p", BeneficiaryID: "b", Grade: "g", Period: "2026-01", From: "a", To: "b", Amount: 1}, wrap(funds.ParseAidPayBody))
	check("aid by commitment", funds.AidPayBody{PaymentID: "p", Recipient: dave, Grade: "g", Period: "2026-01", From: "a", Amount: 1}, wrap(funds.ParseAidPayBody))
	check("wage by commitment", funds.WagePayBody{PaymentID: "p", ContractID: "c", Worker: alice, Period: "2026-01", Amount: 1, From: "a"}, wrap(funds.ParseWagePayBody))
	check("release by commitment", funds.ReleaseBody{ContractID: "c", Period: "2026-01", Escrow: "e", Payments: []funds.ReleasePayment{{Worker: alice, Amount: 1}}}, wrap(funds.ParseReleaseBody))
	lo, hi := sortedPair(alice, bob)
	check("aid vouch", funds.AidVouchBody{Grade: "g", Period: "2026-01", Commitments: []string{lo, hi}}, wrap(funds.ParseAidVouchBody))
	check("wage vouch", funds.WageVouchBody{ContractID: "c", Period: "2026-01", Commitments: []string{lo}}, wrap(funds.ParseWageVouchBody))
}
