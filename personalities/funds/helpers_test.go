package funds_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

var sentinels = []error{rule.ErrUnknownType, rule.ErrInvalidBody, rule.ErrRuleViolation, rule.ErrAlreadyExists}

func wrapsSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// Agencies of the tests. Apply does not check roles (admission does), only
// who controls which account.
const (
	treasury = "mof"
	bureau   = "xiongan-fb" // fund manager: budget, company and escrow accounts
	civil    = "guiyang-ca" // aid officer
	engine   = "govlog-funds"
)

// t0 is when the base scenario happens; the first pay deadline is in April.
var t0 = time.Date(2026, 3, 15, 8, 0, 0, 0, time.UTC)

// person returns the salted commitment of a test person.
func person(name string) string {
	h := sha256.Sum256([]byte("salt:" + name))
	return hex.EncodeToString(h[:])
}

var (
	alice = person("alice")
	bob   = person("bob")
	carol = person("carol")
	dave  = person("dave")
	erin  = person("erin")
)

func rawEntryAt(t time.Time, agency, typ, body string) rule.Entry {
	return rule.Entry{
		Type:     typ,
		Time:     t,
		Body:     json.RawMessage(body),
		Agency:   agency,
		LeafHash: sha256.Sum256([]byte(t.Format(time.RFC3339) + "\n" + agency + "\n" + typ + "\n" + body)),
	}
}

func rawEntry(agency, typ, body string) rule.Entry { return rawEntryAt(t0, agency, typ, body) }

func entryAt(t time.Time, agency, typ string, body any) rule.Entry {
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	return rawEntryAt(t, agency, typ, string(b))
}

func entry(agency, typ string, body any) rule.Entry { return entryAt(t0, agency, typ, body) }

func open(agency, id string, ownerKind funds.OwnerKind, owner string, kind funds.AccountKind) rule.Entry {
	return entry(agency, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: id, OwnerKind: ownerKind, Owner: owner, Kind: kind})
}

func alloc(id, to string, amount int64) rule.Entry {
	return entry(treasury, funds.TypeAllocate, funds.AllocateBody{AllocationID: id, To: to, Amount: amount, BudgetLine: "2026/xiongan/roads"})
}

func works(agency, id, payer, payee string, ceiling int64) rule.Entry {
	return entry(agency, funds.TypeContractRegister, funds.ContractRegisterBody{
		ContractID: id, Kind: funds.ContractWorks, Payer: payer, Payee: payee, Ceiling: ceiling})
}

func labour(agency, id, payer string, ceiling, wage int64, workers []string, schedule ...funds.PayPeriod) rule.Entry {
	return entry(agency, funds.TypeContractRegister, funds.ContractRegisterBody{
		ContractID: id, Kind: funds.ContractLabour, Payer: payer, Ceiling: ceiling,
		Workers: workers, WagePerPeriod: wage, Schedule: schedule})
}

func xfer(agency, id, from, to string, amount int64, contract string) rule.Entry {
	return entry(agency, funds.TypeTransfer, funds.TransferBody{TransferID: id, From: from, To: to, Amount: amount, ContractID: contract})
}

func wage(id, contract, worker, period string, amount int64, from, to string) rule.Entry {
	return wageAt(t0, id, contract, worker, period, amount, from, to)
}

func wageAt(t time.Time, id, contract, worker, period string, amount int64, from, to string) rule.Entry {
	return entryAt(t, bureau, funds.TypeWagePay, funds.WagePayBody{
		PaymentID: id, ContractID: contract, Worker: worker, Period: period, Amount: amount, From: from, To: to})
}

func lodge(id, contract, from, escrow string, amount int64) rule.Entry {
	return entry(bureau, funds.TypeGuaranteeLodge, funds.GuaranteeLodgeBody{GuaranteeID: id, ContractID: contract, From: from, Escrow: escrow, Amount: amount})
}

func release(t time.Time, b funds.ReleaseBody) rule.Entry {
	return entryAt(t, engine, funds.TypeGuaranteeRelease, b)
}

func grade(agency, g string, amount int64) rule.Entry {
	return entry(agency, funds.TypeAidGrade, funds.AidGradeBody{Grade: g, AmountPerPeriod: amount})
}

func benef(agency, id, credential, g, account string) rule.Entry {
	return entry(agency, funds.TypeBeneficiaryRegister, funds.BeneficiaryRegisterBody{BeneficiaryID: id, Credential: credential, Grade: g, Account: account})
}

func aid(agency, id, ben, g, period, from, to string, amount int64) rule.Entry {
	return entry(agency, funds.TypeAidPay, funds.AidPayBody{PaymentID: id, BeneficiaryID: ben, Grade: g, Period: period, From: from, To: to, Amount: amount})
}

// Deadlines of the base labour contract, c-lab.
var (
	marchDeadline = time.Date(2026, 4, 10, 23, 59, 59, 0, time.UTC) // "2026-04-10"
	aprilDeadline = time.Date(2026, 5, 10, 10, 0, 0, 0, time.UTC)   // "2026-05-10T18:00:00+08:00"
)

// base is a small world: a budget with a works contract, a company that
// employs alice and bob under labour contract c-lab (wage 5,000 for March
// and April) with a 6,000 guarantee in escrow, and an aid office with one
// beneficiary, dave, of grade dibao (1,200).
func base() []rule.Entry {
	return []rule.Entry{
		open(bureau, "budget-1", funds.OwnerAgency, bureau, funds.KindBudget),
		open(civil, "budget-aid", funds.OwnerAgency, civil, funds.KindBudget),
		open(bureau, "co-1", funds.OwnerCompany, "91130600MA0C000001", funds.KindCompany),
		open(bureau, "co-2", funds.OwnerCompany, "91130600MA0C000002", funds.KindCompany),
		open(bureau, "escrow-1", funds.OwnerAgency, bureau, funds.KindEscrow),
		open(bureau, "w-alice", funds.OwnerPerson, alice, funds.KindWorker),
		open(bureau, "w-bob", funds.OwnerPerson, bob, funds.KindWorker),
		open(bureau, "w-carol", funds.OwnerPerson, carol, funds.KindWorker),
		alloc("a-1", "budget-1", 1_000_000),
		alloc("a-2", "budget-aid", 100_000),
		works(bureau, "c-works", "budget-1", "co-1", 500_000),
		xfer(bureau, "t-1", "budget-1", "co-1", 200_000, "c-works"),
		labour(bureau, "c-lab", "co-1", 20_000, 5_000, []string{alice, bob},
			funds.PayPeriod{Period: "2026-03", PayDeadline: "2026-04-10"},
			funds.PayPeriod{Period: "2026-04", PayDeadline: "2026-05-10T18:00:00+08:00"}),
		lodge("g-1", "c-lab", "co-1", "escrow-1", 6_000),
		grade(civil, "dibao", 1_200),
		open(civil, "b-dave", funds.OwnerPerson, dave, funds.KindBeneficiary),
		benef(civil, "ben-dave", dave, "dibao", "b-dave"),
	}
}

func applyAll(t testing.TB, st rule.State, entries []rule.Entry) {
	t.Helper()
	ruletest.Apply(t, funds.New(), st, entries...)
}

// sumBalances adds up every account in st, checking each one's ledger.
func sumBalances(t testing.TB, st ruletest.State) int64 {
	t.Helper()
	ctx := context.Background()
	var sum int64
	for k := range st {
		id, ok := cutPrefix(k, "account/")
		if !ok {
			continue
		}
		a, _, err := funds.Account(ctx, st, id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Balance < 0 {
			t.Errorf("account %s has balance %d", id, a.Balance)
		}
		lines, err := funds.History(ctx, st, id, 1, int(a.Lines)+1)
		if err != nil {
			t.Fatal(err)
		}
		var net int64
		for _, l := range lines {
			net += l.Amount
			if l.Balance != net {
				t.Errorf("account %s: ledger line balance %d, running sum %d", id, l.Balance, net)
			}
		}
		if net != a.Balance || int64(len(lines)) != a.Lines {
			t.Errorf("account %s: %d lines summing to %d, record says %d lines, balance %d", id, len(lines), net, a.Lines, a.Balance)
		}
		sum += a.Balance
	}
	return sum
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || s[:len(prefix)] != prefix {
		return "", false
	}
	rest := s[len(prefix):]
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' {
			return "", false
		}
	}
	return rest, true
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return b
}
