package personalities_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/storage"
)

// TestFundsOnceReplayMatchesAdmission: wages, a guarantee release and aid
// paid to one-time commitments through the server, from several clients at
// once (hardening issue 19): the bureau vouches for a period's three
// workers and payroll pays one; the aid office vouches for its four
// beneficiaries in two statements at once, is refused a fifth commitment,
// pays the four at once and is refused a second payment to one. When the
// deadline passes the log's scheduler releases the guarantee to the two
// unpaid commitments, and payroll pays them the rest. Replaying the log
// from an empty state admits every entry and ends in the admission store's
// state, key by key.
func TestFundsOnceReplayMatchesAdmission(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		w := newFundsWorld(t, b)
		crew, aid := w.runOnce(t)
		n := uint64(w.admitted.Load()) + 1 // and the release
		if size := waitSize(t, w.log, n); size != n {
			t.Fatalf("log size %d, want %d admitted statements and one release", size, n)
		}
		replayed, types := w.replay(t, n)
		for typ, want := range map[string]int{funds.TypeWageVouch: 1, funds.TypeAidVouch: 2, funds.TypeGuaranteeRelease: 1,
			funds.TypeWagePay: 3, funds.TypeAidPay: 4} {
			if types[typ] != want {
				t.Errorf("%d %s in the log, want %d", types[typ], typ, want)
			}
		}
		ctx := t.Context()
		for i, c := range crew {
			bal, _, err := funds.Balance(ctx, replayed, funds.OnceAccount(c))
			if err != nil || bal != 600_000 {
				t.Errorf("one-time account of worker %d holds %d, %v; want the wage", i, bal, err)
			}
		}
		for i, c := range aid {
			bal, _, err := funds.Balance(ctx, replayed, funds.OnceAccount(c))
			if err != nil || bal != 30_000 {
				t.Errorf("one-time account of beneficiary %d holds %d, %v; want the grade's amount", i, bal, err)
			}
		}
		for i := range 4 {
			if bal, _, _ := funds.Balance(ctx, replayed, fmt.Sprintf("gy:b-%d", i)); bal != 0 {
				t.Errorf("registered account gy:b-%d holds %d: the registration was paid", i, bal)
			}
		}
		w.checkState(t, replayed)
	})
}

// runOnce is the workload of TestFundsOnceReplayMatchesAdmission; it
// returns the one-time commitments of the crew and of the aid, sorted.
func (w *fundsWorld) runOnce(t *testing.T) (crew, aid []string) {
	t.Helper()
	workers := []string{commitTo("once-worker-0"), commitTo("once-worker-1"), commitTo("once-worker-2")}
	for i := range 3 {
		crew = append(crew, commitTo(fmt.Sprintf("%s/xa:crew/2026-04", workers[i])))
	}
	for i := range 4 {
		aid = append(aid, commitTo(fmt.Sprintf("%s/2026-03", commitTo(fmt.Sprint("once-beneficiary-", i)))))
	}
	slices.Sort(crew)
	slices.Sort(aid)
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, a := range []funds.AccountOpenBody{
			{AccountID: "xa:budget", OwnerKind: funds.OwnerAgency, Owner: fwBureau, Kind: funds.KindBudget},
			{AccountID: "xa:builder", OwnerKind: funds.OwnerCompany, Owner: "91130600MA0C000001", Kind: funds.KindCompany},
			{AccountID: "xa:escrow", OwnerKind: funds.OwnerAgency, Owner: fwBureau, Kind: funds.KindEscrow},
		} {
			w.must(t, w.bureau, funds.TypeAccountOpen, a)
		}
		for i, p := range workers {
			w.must(t, w.bureau, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: fmt.Sprintf("xa:w-%d", i), OwnerKind: funds.OwnerPerson, Owner: p, Kind: funds.KindWorker})
		}
		w.must(t, w.treasury, funds.TypeAllocate, funds.AllocateBody{AllocationID: "xa:a-1", To: "xa:budget", Amount: 10_000_000, BudgetLine: "2026 roads"})
		w.must(t, w.bureau, funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "xa:road", Kind: funds.ContractWorks, Payer: "xa:budget", Payee: "xa:builder", Ceiling: 10_000_000})
		w.must(t, w.bureau, funds.TypeTransfer, funds.TransferBody{TransferID: "xa:t-1", From: "xa:budget", To: "xa:builder", Amount: 5_000_000, ContractID: "xa:road"})
		w.must(t, w.bureau, funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "xa:crew", Kind: funds.ContractLabour, Payer: "xa:builder",
			Ceiling: 1_800_000, Workers: workers, WagePerPeriod: 600_000, Schedule: []funds.PayPeriod{{Period: "2026-04", PayDeadline: "2026-05-10"}}})
		w.must(t, w.bureau, funds.TypeGuaranteeLodge, funds.GuaranteeLodgeBody{GuaranteeID: "xa:g-1", ContractID: "xa:crew", From: "xa:builder", Escrow: "xa:escrow", Amount: 1_000_001})
	})
	wg.Go(func() {
		w.must(t, w.aid, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: "gy:budget", OwnerKind: funds.OwnerAgency, Owner: fwAid, Kind: funds.KindBudget})
		w.must(t, w.treasury, funds.TypeAllocate, funds.AllocateBody{AllocationID: "gy:a-1", To: "gy:budget", Amount: 1_000_000, BudgetLine: "2026 minimum living allowance"})
		w.must(t, w.aid, funds.TypeAidGrade, funds.AidGradeBody{Grade: "low", AmountPerPeriod: 30_000})
		for i := range 4 {
			person := commitTo(fmt.Sprint("once-beneficiary-", i))
			acct := fmt.Sprintf("gy:b-%d", i)
			w.must(t, w.aid, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: acct, OwnerKind: funds.OwnerPerson, Owner: person, Kind: funds.KindBeneficiary})
			w.must(t, w.aid, funds.TypeBeneficiaryRegister, funds.BeneficiaryRegisterBody{BeneficiaryID: fmt.Sprintf("gy:ben-%d", i), Credential: person, Grade: "low", Account: acct})
		}
	})
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	wage := func(id, worker string, amount int64) funds.WagePayBody {
		return funds.WagePayBody{PaymentID: id, ContractID: "xa:crew", Worker: worker, Period: "2026-04", Amount: amount, From: "xa:builder"}
	}
	wg.Go(func() {
		w.must(t, w.bureau, funds.TypeWageVouch, funds.WageVouchBody{ContractID: "xa:crew", Period: "2026-04", Commitments: crew})
		w.must(t, w.bureau, funds.TypeWagePay, wage("xa:p-0", crew[0], 600_000))
		w.refused(t, w.bureau, funds.TypeWagePay, wage("xa:p-0-again", crew[0], 600_000), codes.AlreadyExists)
	})
	// Two vouches for the four beneficiaries at once, in either order.
	for _, half := range [][]string{aid[:2], aid[2:]} {
		wg.Go(func() {
			w.must(t, w.aid, funds.TypeAidVouch, funds.AidVouchBody{Grade: "low", Period: "2026-03", Commitments: half})
		})
	}
	wg.Wait()
	w.refused(t, w.aid, funds.TypeAidVouch, funds.AidVouchBody{Grade: "low", Period: "2026-03",
		Commitments: []string{commitTo("a fifth, for one of the four")}}, codes.FailedPrecondition)
	aidPay := func(id, c string) funds.AidPayBody {
		return funds.AidPayBody{PaymentID: id, Recipient: c, Grade: "low", Period: "2026-03", From: "gy:budget", Amount: 30_000}
	}
	for i, c := range aid {
		wg.Go(func() { w.must(t, w.aid, funds.TypeAidPay, aidPay(fmt.Sprint("gy:aid-", i), c)) })
	}
	wg.Wait()
	w.refused(t, w.aid, funds.TypeAidPay, aidPay("gy:aid-again", aid[0]), codes.AlreadyExists)
	if t.Failed() {
		t.FailNow()
	}

	// The deadline passes: the scheduler releases 500,000 to each unpaid
	// commitment (a fen stays in escrow), then payroll pays the rest.
	w.clock.Store(time.Date(2026, 5, 11, 0, 0, 5, 0, time.UTC).Unix())
	waitFor(t, func() bool {
		released := false
		w.inspect(t, func(ctx context.Context, tx storage.AdmitTx) error {
			p, ok, err := funds.Period(ctx, tx, "xa:crew", "2026-04")
			released = ok && p.Release != nil
			return err
		})
		return released
	})
	for i, c := range crew[1:] {
		wg.Go(func() { w.must(t, w.bureau, funds.TypeWagePay, wage(fmt.Sprintf("xa:p-%d-rest", i+1), c, 100_000)) })
	}
	wg.Wait()
	return crew, aid
}
