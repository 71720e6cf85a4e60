package funds

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
)

func (c *change) accountOpen(b AccountOpenBody) error {
	if err := c.unused(AccountKey(b.AccountID), "account "+b.AccountID); err != nil {
		return err
	}
	if b.Kind == KindWorker {
		var w WorkerRecord
		ok, err := c.get(WorkerKey(b.Owner), &w)
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("%w: person %s already has worker account %s", rule.ErrRuleViolation, b.Owner, w.Account)
		}
		c.put(WorkerKey(b.Owner), WorkerRecord{Account: b.AccountID})
	}
	if b.OwnerKind == OwnerPerson {
		if err := c.notOnce(b.Owner); err != nil {
			return err
		}
	}
	c.put(AccountKey(b.AccountID), AccountRecord{
		LeafHash:   c.leaf,
		Controller: c.e.Agency,
		OwnerKind:  b.OwnerKind,
		Owner:      b.Owner,
		Kind:       b.Kind,
	})
	return nil
}

func (c *change) allocate(b AllocateBody) error {
	ref := AllocationKey(b.AllocationID)
	if err := c.unused(ref, "allocation "+b.AllocationID); err != nil {
		return err
	}
	to, err := c.account(b.To)
	if err != nil {
		return err
	}
	if err := requireKind(b.To, to, KindBudget); err != nil {
		return err
	}
	var s Supply
	if _, err := c.get(SupplyKey, &s); err != nil {
		return err
	}
	// Capping the total keeps every balance, and every sum of balances,
	// within int64: no movement inside the log can overflow.
	if s.Allocated > math.MaxInt64-b.Amount {
		return fmt.Errorf("%w: %d allocated so far; %d more would overflow", ErrOverflow, s.Allocated, b.Amount)
	}
	if err := c.credit(MoveAllocation, ref, b.To, b.Amount); err != nil {
		return err
	}
	s.Allocated += b.Amount
	s.Allocations++
	c.put(SupplyKey, s)
	c.put(ref, Movement{Kind: MoveAllocation, LeafHash: c.leaf, Agency: c.e.Agency, To: b.To, Amount: b.Amount, BudgetLine: b.BudgetLine})
	return nil
}

func (c *change) contractRegister(b ContractRegisterBody) error {
	if err := c.unused(ContractKey(b.ContractID), "contract "+b.ContractID); err != nil {
		return err
	}
	payer, err := c.controlled(b.Payer)
	if err != nil {
		return err
	}
	if err := requireKind(b.Payer, payer, KindBudget, KindCompany); err != nil {
		return err
	}
	rec := ContractRecord{
		LeafHash: c.leaf, Agency: c.e.Agency, Kind: b.Kind, Payer: b.Payer, Payee: b.Payee, Ceiling: b.Ceiling,
		Workers: b.Workers, WagePerPeriod: b.WagePerPeriod, ApprovalKind: b.ApprovalKind, ApprovalAbove: b.ApprovalAbove,
	}
	if b.Kind != ContractLabour {
		payee, err := c.account(b.Payee)
		if err != nil {
			return err
		}
		if err := requireKind(b.Payee, payee, KindBudget, KindCompany); err != nil {
			return err
		}
	}
	for _, w := range b.Workers {
		ok, err := c.get(WorkerKey(w), new(WorkerRecord))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: worker %s has no worker account", rule.ErrRuleViolation, w)
		}
	}
	for _, p := range b.Schedule {
		deadline, _ := parseDeadline("", p.PayDeadline) // checked by the parser
		if !deadline.After(c.e.Time) {
			return fmt.Errorf("%w: the pay deadline of period %s, %s, has already passed", rule.ErrRuleViolation, p.Period, p.PayDeadline)
		}
		d := deadline.Format(stateTimeLayout)
		rec.Schedule = append(rec.Schedule, PayPeriod{Period: p.Period, PayDeadline: d})
		if err := c.addDue(p.Period, DueItem{Contract: b.ContractID, Deadline: d}); err != nil {
			return err
		}
		c.put(PeriodKey(b.ContractID, p.Period), PeriodRecord{Deadline: d, Unpaid: len(b.Workers)})
	}
	c.put(ContractKey(b.ContractID), rec)
	c.put(ProgressKey(b.ContractID), ContractProgress{})
	return nil
}

// contract returns a contract and its progress. kinds, if any, are the
// kinds the statement accepts.
func (c *change) contract(id string, kinds ...ContractKind) (ContractRecord, *ContractProgress, error) {
	var k ContractRecord
	ok, err := c.get(ContractKey(id), &k)
	if err != nil {
		return ContractRecord{}, nil, err
	}
	if !ok {
		return ContractRecord{}, nil, fmt.Errorf("%w: contract %s does not exist", ErrNoContract, id)
	}
	if len(kinds) > 0 && !slices.Contains(kinds, k.Kind) {
		return ContractRecord{}, nil, fmt.Errorf("%w: contract %s is a %s contract", rule.ErrRuleViolation, id, k.Kind)
	}
	p := new(ContractProgress)
	if err := c.mustGet(ProgressKey(id), p); err != nil {
		return ContractRecord{}, nil, err
	}
	return k, p, nil
}

// pay checks and records a payment by the contract's payer under the
// contract's ceiling.
func (c *change) payUnder(k ContractRecord, id string, p *ContractProgress, amount int64) error {
	if p.Paid > k.Ceiling-amount {
		return fmt.Errorf("%w: %d of contract %s's ceiling of %d is paid; %d more would exceed it", ErrOverCeiling, p.Paid, id, k.Ceiling, amount)
	}
	p.Paid += amount
	return nil
}

func (c *change) transfer(b TransferBody) error {
	ref := TransferKey(b.TransferID)
	if err := c.unused(ref, "transfer "+b.TransferID); err != nil {
		return err
	}
	k, p, err := c.contract(b.ContractID, ContractWorks, ContractSupply)
	if err != nil {
		return err
	}
	if b.From != k.Payer || b.To != k.Payee {
		return fmt.Errorf("%w: contract %s is from %s to %s, not from %s to %s", rule.ErrRuleViolation, b.ContractID, k.Payer, k.Payee, b.From, b.To)
	}
	if _, err := c.controlled(b.From); err != nil {
		return err
	}
	if err := c.payUnder(k, b.ContractID, p, b.Amount); err != nil {
		return err
	}
	if err := c.approved(k, b); err != nil {
		return err
	}
	line, err := c.move(MoveTransfer, ref, b.From, b.To, b.Amount)
	if err != nil {
		return err
	}
	c.put(ProgressKey(b.ContractID), p)
	c.put(ref, Movement{Kind: MoveTransfer, LeafHash: c.leaf, Agency: c.e.Agency, From: b.From, FromLine: line, To: b.To, Amount: b.Amount, Contract: b.ContractID})
	return nil
}

// labourPeriod returns a labour contract's pay period, which the
// contract's schedule must list.
func (c *change) labourPeriod(k ContractRecord, contract, period string) (*PeriodRecord, error) {
	if !slices.ContainsFunc(k.Schedule, func(p PayPeriod) bool { return p.Period == period }) {
		return nil, fmt.Errorf("%w: period %s is not in the schedule of contract %s", rule.ErrRuleViolation, period, contract)
	}
	rec := new(PeriodRecord)
	if err := c.mustGet(PeriodKey(contract, period), rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// workerAccount returns the worker account of a worker, which the
// statement names as to.
func (c *change) workerAccount(worker, to string) error {
	var w WorkerRecord
	ok, err := c.get(WorkerKey(worker), &w)
	if err != nil {
		return err
	}
	if !ok || w.Account != to {
		return fmt.Errorf("%w: account %s is not the worker account of %s", rule.ErrRuleViolation, to, worker)
	}
	return nil
}

func (c *change) wagePay(b WagePayBody) error {
	ref := PaymentKey(b.PaymentID)
	if err := c.unused(ref, "payment "+b.PaymentID); err != nil {
		return err
	}
	k, p, err := c.contract(b.ContractID, ContractLabour)
	if err != nil {
		return err
	}
	if b.From != k.Payer {
		return fmt.Errorf("%w: contract %s is paid from %s, not %s", rule.ErrRuleViolation, b.ContractID, k.Payer, b.From)
	}
	if _, err := c.controlled(b.From); err != nil {
		return err
	}
	if !slices.Contains(k.Workers, b.Worker) && b.To != "" {
		return fmt.Errorf("%w: %s is not a worker of contract %s", ErrNotWorker, b.Worker, b.ContractID)
	}
	period, err := c.labourPeriod(k, b.ContractID, b.Period)
	if err != nil {
		return err
	}
	to := b.To
	switch {
	case period.Vouch != "" && b.To != "":
		return fmt.Errorf("%w: the workers of contract %s were vouched for %s: pay their one-time commitments, with no \"to\"", ErrNotVouched, b.ContractID, b.Period)
	case period.Vouch != "":
		if err := c.vouchedWorker(b.ContractID, b.Period, b.Worker); err != nil {
			return err
		}
		if to, err = c.onceAccount(b.Worker, KindWorker); err != nil {
			return err
		}
	case b.To == "":
		return fmt.Errorf("%w: the workers of contract %s were not vouched for %s: pay a worker of the contract, to their worker account (\"to\")", ErrNotWorker, b.ContractID, b.Period)
	default:
		if err := c.workerAccount(b.Worker, b.To); err != nil {
			return err
		}
	}
	wageKey := WageKey(b.ContractID, b.Period, b.Worker)
	var w WageRecord
	paidBefore, err := c.get(wageKey, &w)
	if err != nil {
		return err
	}
	if w.Paid >= k.WagePerPeriod {
		return fmt.Errorf("%w: worker %s was paid for %s under contract %s", rule.ErrAlreadyExists, b.Worker, b.Period, b.ContractID)
	}
	if due := k.WagePerPeriod - w.Paid; b.Amount != due {
		return fmt.Errorf("%w: the wage due to %s for %s is %d, not %d", rule.ErrRuleViolation, b.Worker, b.Period, due, b.Amount)
	}
	if err := c.payUnder(k, b.ContractID, p, b.Amount); err != nil {
		return err
	}
	line, err := c.move(MoveWage, ref, b.From, to, b.Amount)
	if err != nil {
		return err
	}
	w.Paid += b.Amount
	w.Payment = b.PaymentID
	if !paidBefore {
		period.Unpaid--
		if period.Unpaid == 0 && period.Release == nil {
			if err := c.removeDue(b.Period, DueItem{Contract: b.ContractID, Deadline: period.Deadline}); err != nil {
				return err
			}
		}
		c.put(PeriodKey(b.ContractID, b.Period), period)
	}
	c.put(wageKey, w)
	c.put(ProgressKey(b.ContractID), p)
	c.put(ref, Movement{Kind: MoveWage, LeafHash: c.leaf, Agency: c.e.Agency, From: b.From, FromLine: line, To: to, Amount: b.Amount,
		Contract: b.ContractID, Period: b.Period, Worker: b.Worker})
	return nil
}

func (c *change) guaranteeLodge(b GuaranteeLodgeBody) error {
	ref := GuaranteeKey(b.GuaranteeID)
	if err := c.unused(ref, "guarantee "+b.GuaranteeID); err != nil {
		return err
	}
	_, p, err := c.contract(b.ContractID, ContractLabour)
	if err != nil {
		return err
	}
	from, err := c.controlled(b.From)
	if err != nil {
		return err
	}
	if err := requireKind(b.From, from, KindCompany); err != nil {
		return err
	}
	escrow, err := c.account(b.Escrow)
	if err != nil {
		return err
	}
	if err := requireKind(b.Escrow, escrow, KindEscrow); err != nil {
		return err
	}
	if p.Escrow != "" && p.Escrow != b.Escrow {
		return fmt.Errorf("%w: the guarantee of contract %s is held in escrow account %s", rule.ErrRuleViolation, b.ContractID, p.Escrow)
	}
	// One contract per escrow account: its ledger is then that contract's
	// alone, so a release traced back through it reaches only the deposits
	// lodged for the same contract.
	if escrow.Contract != "" && escrow.Contract != b.ContractID {
		return fmt.Errorf("%w: escrow account %s holds the guarantee of contract %s; each contract needs its own", rule.ErrRuleViolation, b.Escrow, escrow.Contract)
	}
	escrow.Contract = b.ContractID
	line, err := c.move(MoveGuarantee, ref, b.From, b.Escrow, b.Amount)
	if err != nil {
		return err
	}
	// Escrow balances are sums of Held over contracts, so these stay
	// within int64 as the escrow balance did.
	p.Escrow = b.Escrow
	p.Held += b.Amount
	p.Lodged += b.Amount
	c.put(ProgressKey(b.ContractID), p)
	c.put(ref, Movement{Kind: MoveGuarantee, LeafHash: c.leaf, Agency: c.e.Agency, From: b.From, FromLine: line, To: b.Escrow, Amount: b.Amount, Contract: b.ContractID})
	return nil
}

// releaseShare is what each of n unpaid workers gets from a deposit of
// held: an equal share, at most the wage; what cannot be split equally
// stays in escrow.
func releaseShare(wage, held int64, n int) int64 {
	return min(wage, held/int64(n))
}

func (c *change) guaranteeRelease(b ReleaseBody) error {
	k, p, err := c.contract(b.ContractID, ContractLabour)
	if err != nil {
		return err
	}
	period, err := c.labourPeriod(k, b.ContractID, b.Period)
	if err != nil {
		return err
	}
	if period.Release != nil {
		return fmt.Errorf("%w: the guarantee of contract %s was released for %s by entry %s", rule.ErrAlreadyExists, b.ContractID, b.Period, period.Release.LeafHash)
	}
	deadline, err := time.Parse(stateTimeLayout, period.Deadline)
	if err != nil {
		return fmt.Errorf("corrupt state: %s has deadline %q", PeriodKey(b.ContractID, b.Period), period.Deadline)
	}
	if !c.e.Time.After(deadline) {
		return fmt.Errorf("%w: the pay deadline of contract %s for %s is %s; the release is dated %s",
			ErrNotDue, b.ContractID, b.Period, period.Deadline, c.e.Time.UTC().Format(stateTimeLayout))
	}
	if b.Escrow != p.Escrow {
		if p.Escrow == "" {
			return fmt.Errorf("%w: no guarantee was lodged for contract %s, so the release names no escrow account", rule.ErrRuleViolation, b.ContractID)
		}
		return fmt.Errorf("%w: the guarantee of contract %s is held in escrow account %s", rule.ErrRuleViolation, b.ContractID, p.Escrow)
	}
	// The payments must be exactly the unpaid workers, in contract order
	// (or the unpaid one-time commitments vouched for the period, in
	// theirs): each is one with no wage record, in increasing order, and
	// there are as many as the period counts unpaid.
	order, err := c.releaseOrder(k, b.ContractID, b.Period, period)
	if err != nil {
		return err
	}
	dest := make([]string, len(b.Payments))
	last := -1
	for j, pay := range b.Payments {
		i := slices.Index(order, pay.Worker)
		switch {
		case i < 0 && period.Vouch != "":
			return fmt.Errorf("%w: %s is not a one-time commitment vouched for contract %s, period %s", ErrNotVouched, pay.Worker, b.ContractID, b.Period)
		case i < 0:
			return fmt.Errorf("%w: %s is not a worker of contract %s", ErrNotWorker, pay.Worker, b.ContractID)
		case i <= last:
			return fmt.Errorf("%w: the release must list workers in the contract's order (or the vouch's)", rule.ErrRuleViolation)
		}
		last = i
		ok, err := c.get(WageKey(b.ContractID, b.Period, pay.Worker), new(WageRecord))
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("%w: worker %s was paid for %s under contract %s", rule.ErrRuleViolation, pay.Worker, b.Period, b.ContractID)
		}
		switch {
		case period.Vouch != "" && pay.To != "":
			return fmt.Errorf("%w: the workers of contract %s were vouched for %s: a release pays their one-time accounts, with no \"to\"", rule.ErrRuleViolation, b.ContractID, b.Period)
		case period.Vouch != "":
			if dest[j], err = c.onceAccount(pay.Worker, KindWorker); err != nil {
				return err
			}
		case pay.To == "":
			return fmt.Errorf("%w: the release must pay worker %s to their worker account (\"to\")", rule.ErrRuleViolation, pay.Worker)
		default:
			if err := c.workerAccount(pay.Worker, pay.To); err != nil {
				return err
			}
			dest[j] = pay.To
		}
	}
	if len(b.Payments) != period.Unpaid {
		return fmt.Errorf("%w: %d workers of contract %s are unpaid for %s; the release pays %d", rule.ErrRuleViolation, period.Unpaid, b.ContractID, b.Period, len(b.Payments))
	}
	share := releaseShare(k.WagePerPeriod, p.Held, len(b.Payments))
	ref := PeriodKey(b.ContractID, b.Period)
	for j, pay := range b.Payments {
		if pay.Amount != share {
			return fmt.Errorf("%w: the release pays %d to each unpaid worker of contract %s for %s, not %d", rule.ErrRuleViolation, share, b.ContractID, b.Period, pay.Amount)
		}
		var line int64
		if share > 0 {
			var err error
			if line, err = c.move(MoveRelease, ref, b.Escrow, dest[j], share); err != nil {
				return err
			}
		}
		c.put(WageKey(b.ContractID, b.Period, pay.Worker), WageRecord{Paid: share, FromGuarantee: share, Release: c.leaf, ReleaseLine: line})
	}
	total := share * int64(len(b.Payments)) // at most Held
	p.Held -= total
	p.Released += total
	period.Unpaid = 0 // every worker has a wage record now
	period.Release = &ReleaseRecord{LeafHash: c.leaf, Escrow: b.Escrow, Workers: len(b.Payments), Share: share}
	if err := c.removeDue(b.Period, DueItem{Contract: b.ContractID, Deadline: period.Deadline}); err != nil {
		return err
	}
	c.put(ref, period)
	c.put(ProgressKey(b.ContractID), p)
	return nil
}

func (c *change) aidGrade(b AidGradeBody) error {
	key := GradeKey(c.e.Agency, b.Grade)
	var g GradeRecord
	if _, err := c.get(key, &g); err != nil {
		return err
	}
	c.put(key, GradeRecord{LeafHash: c.leaf, AmountPerPeriod: b.AmountPerPeriod, Version: g.Version + 1})
	return nil
}

func (c *change) beneficiaryRegister(b BeneficiaryRegisterBody) error {
	if err := c.unused(BeneficiaryKey(b.BeneficiaryID), "beneficiary "+b.BeneficiaryID); err != nil {
		return err
	}
	var cr CredentialRecord
	ok, err := c.get(CredentialKey(b.Credential), &cr)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("%w: credential %s is registered as beneficiary %s", rule.ErrAlreadyExists, b.Credential, cr.Beneficiary)
	}
	if err := c.notOnce(b.Credential); err != nil {
		return err
	}
	ok, err = c.get(GradeKey(c.e.Agency, b.Grade), new(GradeRecord))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: agency %s has no aid grade %s", rule.ErrRuleViolation, c.e.Agency, b.Grade)
	}
	a, err := c.account(b.Account)
	if err != nil {
		return err
	}
	if err := requireKind(b.Account, a, KindBeneficiary); err != nil {
		return err
	}
	if a.Owner != b.Credential {
		return fmt.Errorf("%w: account %s is not owned by credential %s", rule.ErrRuleViolation, b.Account, b.Credential)
	}
	c.put(BeneficiaryKey(b.BeneficiaryID), BeneficiaryRecord{
		LeafHash: c.leaf, Agency: c.e.Agency, Credential: b.Credential, Grade: b.Grade, Account: b.Account,
	})
	c.put(CredentialKey(b.Credential), CredentialRecord{Beneficiary: b.BeneficiaryID})
	var n GradeCount
	if _, err := c.get(GradeCountKey(c.e.Agency, b.Grade), &n); err != nil {
		return err
	}
	n.Beneficiaries++
	c.put(GradeCountKey(c.e.Agency, b.Grade), n)
	return nil
}

func (c *change) aidPay(b AidPayBody) error {
	if b.Recipient != "" {
		return c.aidPayOnce(b)
	}
	ref := PaymentKey(b.PaymentID)
	if err := c.unused(ref, "payment "+b.PaymentID); err != nil {
		return err
	}
	var ben BeneficiaryRecord
	ok, err := c.get(BeneficiaryKey(b.BeneficiaryID), &ben)
	if err != nil {
		return err
	}
	switch {
	case !ok:
		return fmt.Errorf("%w: beneficiary %s is not registered", rule.ErrRuleViolation, b.BeneficiaryID)
	case ben.Agency != c.e.Agency:
		return fmt.Errorf("%w: beneficiary %s is registered by %s, which alone pays them", ErrNotController, b.BeneficiaryID, ben.Agency)
	case ben.Grade != b.Grade:
		return fmt.Errorf("%w: beneficiary %s has grade %s, not %s", rule.ErrRuleViolation, b.BeneficiaryID, ben.Grade, b.Grade)
	case ben.Account != b.To:
		return fmt.Errorf("%w: beneficiary %s is paid to account %s, not %s", rule.ErrRuleViolation, b.BeneficiaryID, ben.Account, b.To)
	}
	if now := c.e.Time.UTC().Format(body.PeriodLayout); b.Period > now {
		return fmt.Errorf("%w: aid for %s cannot be paid in advance, in %s", rule.ErrRuleViolation, b.Period, now)
	}
	aidKey := AidKey(b.BeneficiaryID, b.Period)
	var prior AidRecord
	ok, err = c.get(aidKey, &prior)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("%w: beneficiary %s was paid for %s by payment %s", rule.ErrAlreadyExists, b.BeneficiaryID, b.Period, prior.Payment)
	}
	if err := c.aidAmount(ben.Agency, b); err != nil {
		return err
	}
	// Once one-time commitments are vouched for at this grade and period,
	// they alone are paid: the vouch counted the payments by ID before it.
	periodKey := AidPeriodKey(ben.Agency, ben.Grade, b.Period)
	var ap AidPeriodRecord
	if _, err := c.get(periodKey, &ap); err != nil {
		return err
	}
	if ap.Vouched > 0 {
		return fmt.Errorf("%w: %s vouched for one-time commitments of grade %s for %s: pay those, by \"recipient\"", rule.ErrRuleViolation, ben.Agency, ben.Grade, b.Period)
	}
	line, err := c.move(MoveAid, ref, b.From, b.To, b.Amount)
	if err != nil {
		return err
	}
	ap.ByBeneficiary++
	c.put(periodKey, ap)
	c.put(aidKey, AidRecord{Payment: b.PaymentID, Amount: b.Amount})
	c.put(ref, Movement{Kind: MoveAid, LeafHash: c.leaf, Agency: c.e.Agency, From: b.From, FromLine: line, To: b.To, Amount: b.Amount,
		Period: b.Period, Beneficiary: b.BeneficiaryID})
	return nil
}
