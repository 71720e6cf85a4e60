package funds

import (
	"math"
	"slices"
	"time"

	"github.com/govlog/govlog/personalities/rule/body"
)

// Limits of body fields.
const (
	// MaxAmount is the largest amount a body may carry, 2^53 minor units:
	// RFC 8785 reads numbers as IEEE 754 doubles, so past it two readers of
	// the same canonical JSON could disagree on the integer (and the root
	// package refuses such statements). Balances and totals are int64.
	MaxAmount = 1 << 53
	// MaxWorkers is the most workers one labour contract names. A guarantee
	// release lists every unpaid worker with an account, and must fit in a
	// 64 KiB leaf; larger workforces are split over several contracts.
	MaxWorkers = 300
	// MaxSchedule is the most pay periods one labour contract has.
	MaxSchedule = 60
	// MaxVouch is the most one-time commitments one funds.aid.vouch lists
	// (about 34 KB of them, within a 64 KiB leaf); an agency with more
	// beneficiaries of a grade vouches in several statements. A
	// funds.wage.vouch lists at most MaxWorkers.
	MaxVouch = 500

	maxIDLen   = 64
	maxTextLen = 128
)

// AccountKind says what an account is for, and so which statements may
// move money in and out of it.
type AccountKind string

// Account kinds.
const (
	// KindBudget: an agency's budget; receives allocations, pays under
	// contracts and pays aid.
	KindBudget AccountKind = "budget"
	// KindCompany: a company's account; paid under contracts, pays under
	// contracts and wages, lodges guarantees.
	KindCompany AccountKind = "company"
	// KindEscrow: holds guarantee deposits; money leaves only by
	// funds.guarantee.release.
	KindEscrow AccountKind = "escrow"
	// KindWorker: a worker's wage account, one per person.
	KindWorker AccountKind = "worker"
	// KindBeneficiary: an aid beneficiary's account.
	KindBeneficiary AccountKind = "beneficiary"
)

// OwnerKind says what an account's owner field holds.
type OwnerKind string

// Owner kinds.
const (
	// OwnerAgency: a registry agency ID.
	OwnerAgency OwnerKind = "agency"
	// OwnerCompany: a company ID, e.g. a unified social credit code.
	OwnerCompany OwnerKind = "company"
	// OwnerPerson: a salted commitment to a person, never a name.
	OwnerPerson OwnerKind = "person"
)

// ownerKindsOf lists the owner kinds each account kind allows.
var ownerKindsOf = map[AccountKind][]OwnerKind{
	KindBudget:      {OwnerAgency},
	KindCompany:     {OwnerCompany},
	KindEscrow:      {OwnerAgency, OwnerCompany},
	KindWorker:      {OwnerPerson},
	KindBeneficiary: {OwnerPerson},
}

// ContractKind is what a contract buys.
type ContractKind string

// Contract kinds.
const (
	ContractWorks  ContractKind = "works"
	ContractSupply ContractKind = "supply"
	// ContractLabour: the payer employs the listed workers, who are paid by
	// funds.wage.pay per period; it has no payee.
	ContractLabour ContractKind = "labour"
)

// AccountOpenBody is the body of funds.account.open. Marshal it with
// encoding/json (then canonicalise) to build a statement.
type AccountOpenBody struct {
	AccountID string      `json:"account_id"`
	OwnerKind OwnerKind   `json:"owner_kind"`
	Owner     string      `json:"owner"`
	Kind      AccountKind `json:"kind"`
}

// AllocateBody is the body of funds.allocate.
type AllocateBody struct {
	AllocationID string `json:"allocation_id"`
	To           string `json:"to"`
	Amount       int64  `json:"amount"`
	// BudgetLine is the budget classification the money comes from.
	BudgetLine string `json:"budget_line"`
}

// ContractRegisterBody is the body of funds.contract.register. Payee is
// set for works and supply; Workers, WagePerPeriod and Schedule for labour.
type ContractRegisterBody struct {
	ContractID    string       `json:"contract_id"`
	Kind          ContractKind `json:"kind"`
	Payer         string       `json:"payer"`
	Payee         string       `json:"payee,omitempty"`
	Ceiling       int64        `json:"ceiling"`
	Workers       []string     `json:"workers,omitempty"`
	WagePerPeriod int64        `json:"wage_per_period,omitempty"`
	Schedule      []PayPeriod  `json:"schedule,omitempty"`
	// ApprovalKind and ApprovalAbove, on a works or supply contract: a
	// transfer of more than ApprovalAbove must cite an application of
	// that kind approved in the approvals log.
	ApprovalKind  string `json:"approval_kind,omitempty"`
	ApprovalAbove int64  `json:"approval_above,omitempty"`
}

// PayPeriod is one period of a labour contract and the deadline by which
// its wages must be paid.
type PayPeriod struct {
	// Period is a calendar month, YYYY-MM.
	Period string `json:"period"`
	// PayDeadline is an RFC 3339 date-time in whole seconds
	// ("2026-04-10T18:00:00+08:00"), or a date, YYYY-MM-DD, meaning the end
	// of that day in UTC (23:59:59Z). In state it is kept in UTC.
	PayDeadline string `json:"pay_deadline"`
}

// TransferBody is the body of funds.transfer.
type TransferBody struct {
	TransferID string `json:"transfer_id"`
	From       string `json:"from"`
	To         string `json:"to"`
	Amount     int64  `json:"amount"`
	ContractID string `json:"contract_id"`
	// Approval is the ID of the approved application the transfer rests
	// on, where its contract needs one.
	Approval string `json:"approval,omitempty"`
}

// WagePayBody is the body of funds.wage.pay. Worker is a commitment of
// the contract's workers, with To their worker account; or, in a period
// whose workers were vouched for (funds.wage.vouch), one of the one-time
// commitments vouched for, with To empty: the wage goes to its one-time
// account, [OnceAccount] of Worker.
type WagePayBody struct {
	PaymentID  string `json:"payment_id"`
	ContractID string `json:"contract_id"`
	Worker     string `json:"worker"`
	Period     string `json:"period"`
	Amount     int64  `json:"amount"`
	From       string `json:"from"`
	To         string `json:"to,omitempty"`
}

// Account returns the account the wage goes to.
func (b WagePayBody) Account() string {
	if b.To == "" {
		return OnceAccount(b.Worker)
	}
	return b.To
}

// WageVouchBody is the body of funds.wage.vouch.
type WageVouchBody struct {
	ContractID string `json:"contract_id"`
	Period     string `json:"period"`
	// Commitments are fresh one-time commitments, one per unpaid worker of
	// the period, in increasing order (so their order says nothing about
	// which worker has which).
	Commitments []string `json:"commitments"`
}

// AidVouchBody is the body of funds.aid.vouch.
type AidVouchBody struct {
	Grade  string `json:"grade"`
	Period string `json:"period"`
	// Commitments are fresh one-time commitments, one per registered
	// beneficiary of the grade to be paid for the period, in increasing
	// order.
	Commitments []string `json:"commitments"`
}

// GuaranteeLodgeBody is the body of funds.guarantee.lodge.
type GuaranteeLodgeBody struct {
	GuaranteeID string `json:"guarantee_id"`
	ContractID  string `json:"contract_id"`
	From        string `json:"from"`
	Escrow      string `json:"escrow"`
	Amount      int64  `json:"amount"`
}

// ReleaseBody is the body of funds.guarantee.release, as [DueReleases]
// computes it. Escrow is the contract's escrow account, absent if no
// guarantee was ever lodged for it.
type ReleaseBody struct {
	ContractID string           `json:"contract_id"`
	Period     string           `json:"period"`
	Escrow     string           `json:"escrow,omitempty"`
	Payments   []ReleasePayment `json:"payments"`
}

// ReleasePayment is what one unpaid worker gets from the deposit. Amount
// may be 0 when the deposit is exhausted: the entry then still records the
// missing wage.
type ReleasePayment struct {
	Worker string `json:"worker"`
	// To is the worker's worker account; empty when the period's workers
	// were vouched for and Worker is a one-time commitment, paid to its
	// [OnceAccount].
	To     string `json:"to,omitempty"`
	Amount int64  `json:"amount"`
}

// Account returns the account the payment goes to.
func (p ReleasePayment) Account() string {
	if p.To == "" {
		return OnceAccount(p.Worker)
	}
	return p.To
}

// AidGradeBody is the body of funds.aid.grade.
type AidGradeBody struct {
	Grade           string `json:"grade"`
	AmountPerPeriod int64  `json:"amount_per_period"`
}

// BeneficiaryRegisterBody is the body of funds.aid.beneficiary.register.
type BeneficiaryRegisterBody struct {
	BeneficiaryID string `json:"beneficiary_id"`
	// Credential is the salted commitment identifying the person; it is
	// also the owner of Account.
	Credential string `json:"credential"`
	Grade      string `json:"grade"`
	Account    string `json:"account"`
}

// AidPayBody is the body of funds.aid.pay: either BeneficiaryID and To
// (the registered beneficiary and their account), or Recipient alone (a
// one-time commitment the agency vouched for, paid to its [OnceAccount]).
type AidPayBody struct {
	PaymentID     string `json:"payment_id"`
	BeneficiaryID string `json:"beneficiary_id,omitempty"`
	Recipient     string `json:"recipient,omitempty"`
	Grade         string `json:"grade"`
	Period        string `json:"period"`
	From          string `json:"from"`
	To            string `json:"to,omitempty"`
	Amount        int64  `json:"amount"`
}

// Account returns the account the aid goes to.
func (b AidPayBody) Account() string {
	if b.Recipient != "" {
		return OnceAccount(b.Recipient)
	}
	return b.To
}

// ParseAccountOpenBody parses and validates a funds.account.open body. Any
// error wraps [rule.ErrInvalidBody] and names the offending field; so for
// every Parse function below.
func ParseAccountOpenBody(data []byte) (AccountOpenBody, error) {
	o, err := body.Parse(data, []string{"account_id", "owner_kind", "owner", "kind"}, nil)
	if err != nil {
		return AccountOpenBody{}, err
	}
	var b AccountOpenBody
	var ownerKind, kind string
	if b.AccountID, err = o.ID("account_id", body.ID); err != nil {
		return AccountOpenBody{}, err
	}
	if ownerKind, err = o.Str("owner_kind"); err != nil {
		return AccountOpenBody{}, err
	}
	if b.Owner, err = o.Str("owner"); err != nil {
		return AccountOpenBody{}, err
	}
	if kind, err = o.Str("kind"); err != nil {
		return AccountOpenBody{}, err
	}
	b.OwnerKind, b.Kind = OwnerKind(ownerKind), AccountKind(kind)
	allowed, ok := ownerKindsOf[b.Kind]
	if !ok {
		return AccountOpenBody{}, body.Errorf("field \"kind\": %q is not budget, company, escrow, worker or beneficiary", kind)
	}
	switch b.OwnerKind {
	case OwnerAgency:
		if err := body.CheckAgencyID("owner", b.Owner); err != nil {
			return AccountOpenBody{}, err
		}
	case OwnerCompany:
		if err := body.ID.Check("owner", b.Owner); err != nil {
			return AccountOpenBody{}, err
		}
	case OwnerPerson:
		if err := body.CheckCommitment("owner", b.Owner); err != nil {
			return AccountOpenBody{}, err
		}
	default:
		return AccountOpenBody{}, body.Errorf("field \"owner_kind\": %q is not agency, company or person", ownerKind)
	}
	if !slices.Contains(allowed, b.OwnerKind) {
		return AccountOpenBody{}, body.Errorf("an account of kind %s cannot have owner_kind %s", b.Kind, b.OwnerKind)
	}
	return b, nil
}

// ParseAllocateBody parses and validates a funds.allocate body.
func ParseAllocateBody(data []byte) (AllocateBody, error) {
	o, err := body.Parse(data, []string{"allocation_id", "to", "amount", "budget_line"}, nil)
	if err != nil {
		return AllocateBody{}, err
	}
	var b AllocateBody
	if b.AllocationID, err = o.ID("allocation_id", body.ID); err != nil {
		return AllocateBody{}, err
	}
	if b.To, err = o.ID("to", body.ID); err != nil {
		return AllocateBody{}, err
	}
	if b.Amount, err = o.Amount("amount", 1); err != nil {
		return AllocateBody{}, err
	}
	if b.BudgetLine, err = o.Str("budget_line"); err != nil {
		return AllocateBody{}, err
	}
	if err := body.CheckText("budget_line", b.BudgetLine, maxTextLen); err != nil {
		return AllocateBody{}, err
	}
	return b, nil
}

// ParseContractRegisterBody parses and validates a funds.contract.register
// body, including that a labour contract's ceiling covers its whole wage
// bill (so the ceiling never blocks a wage that is due).
func ParseContractRegisterBody(data []byte) (ContractRegisterBody, error) {
	o, err := body.Parse(data, []string{"contract_id", "kind", "payer", "ceiling"},
		[]string{"payee", "workers", "wage_per_period", "schedule", "approval_kind", "approval_above"})
	if err != nil {
		return ContractRegisterBody{}, err
	}
	var b ContractRegisterBody
	var kind string
	if b.ContractID, err = o.ID("contract_id", body.ID); err != nil {
		return ContractRegisterBody{}, err
	}
	if kind, err = o.Str("kind"); err != nil {
		return ContractRegisterBody{}, err
	}
	b.Kind = ContractKind(kind)
	if b.Payer, err = o.ID("payer", body.ID); err != nil {
		return ContractRegisterBody{}, err
	}
	if b.Ceiling, err = o.Amount("ceiling", 1); err != nil {
		return ContractRegisterBody{}, err
	}
	switch b.Kind {
	case ContractWorks, ContractSupply:
		for _, f := range []string{"workers", "wage_per_period", "schedule"} {
			if o.Has(f) {
				return ContractRegisterBody{}, body.Errorf("field %q is only for labour contracts", f)
			}
		}
		if !o.Has("payee") {
			return ContractRegisterBody{}, body.Errorf("missing field \"payee\"")
		}
		if b.Payee, err = o.ID("payee", body.ID); err != nil {
			return ContractRegisterBody{}, err
		}
		if b.Payee == b.Payer {
			return ContractRegisterBody{}, body.Errorf("payer and payee are the same account")
		}
		if o.Has("approval_kind") != o.Has("approval_above") {
			return ContractRegisterBody{}, body.Errorf("fields \"approval_kind\" and \"approval_above\" go together")
		}
		if o.Has("approval_kind") {
			if b.ApprovalKind, err = o.ID("approval_kind", body.ID); err != nil {
				return ContractRegisterBody{}, err
			}
			if b.ApprovalAbove, err = o.Amount("approval_above", 1); err != nil {
				return ContractRegisterBody{}, err
			}
		}
		return b, nil
	case ContractLabour:
	default:
		return ContractRegisterBody{}, body.Errorf("field \"kind\": %q is not works, supply or labour", kind)
	}
	if o.Has("payee") {
		return ContractRegisterBody{}, body.Errorf("field \"payee\" is not for labour contracts: the workers are paid")
	}
	if o.Has("approval_kind") || o.Has("approval_above") {
		return ContractRegisterBody{}, body.Errorf("approvals are for works and supply contracts")
	}
	for _, f := range []string{"workers", "wage_per_period", "schedule"} {
		if !o.Has(f) {
			return ContractRegisterBody{}, body.Errorf("missing field %q", f)
		}
	}
	workers, err := o.Array("workers", 1, MaxWorkers)
	if err != nil {
		return ContractRegisterBody{}, err
	}
	for i := range workers.Len() {
		field := workers.Field(i)
		s, err := workers.Str(i)
		if err != nil {
			return ContractRegisterBody{}, err
		}
		if err := body.CheckCommitment(field, s); err != nil {
			return ContractRegisterBody{}, err
		}
		if slices.Contains(b.Workers, s) {
			return ContractRegisterBody{}, body.Errorf("field %q repeats worker %s", field, s)
		}
		b.Workers = append(b.Workers, s)
	}
	if b.WagePerPeriod, err = o.Amount("wage_per_period", 1); err != nil {
		return ContractRegisterBody{}, err
	}
	schedule, err := o.Array("schedule", 1, MaxSchedule)
	if err != nil {
		return ContractRegisterBody{}, err
	}
	for i := range schedule.Len() {
		p, err := schedule.Object(i, []string{"period", "pay_deadline"}, nil)
		if err != nil {
			return ContractRegisterBody{}, err
		}
		var pp PayPeriod
		if pp.Period, err = p.Period("period"); err != nil {
			return ContractRegisterBody{}, err
		}
		if pp.PayDeadline, err = p.Str("pay_deadline"); err != nil {
			return ContractRegisterBody{}, err
		}
		deadline, err := parseDeadline(p.Field("pay_deadline"), pp.PayDeadline)
		if err != nil {
			return ContractRegisterBody{}, err
		}
		if !deadline.After(periodStart(pp.Period)) {
			return ContractRegisterBody{}, body.Errorf("field %q: the deadline %s is not after the start of period %s", p.Field("pay_deadline"), pp.PayDeadline, pp.Period)
		}
		if i > 0 && pp.Period <= b.Schedule[i-1].Period {
			return ContractRegisterBody{}, body.Errorf("field %q: periods must be in increasing order without repeats", p.Field("period"))
		}
		b.Schedule = append(b.Schedule, pp)
	}
	// wage × workers × periods, without overflowing: every factor is at
	// most 2^53 and the ceiling at most MaxAmount.
	bill := b.WagePerPeriod
	for _, n := range []int64{int64(len(b.Workers)), int64(len(b.Schedule))} {
		if bill > math.MaxInt64/n {
			bill = math.MaxInt64
			break
		}
		bill *= n
	}
	if b.Ceiling < bill {
		return ContractRegisterBody{}, body.Errorf("ceiling %d is less than the wage bill, %d per period × %d workers × %d periods", b.Ceiling, b.WagePerPeriod, len(b.Workers), len(b.Schedule))
	}
	return b, nil
}

// ParseTransferBody parses and validates a funds.transfer body.
func ParseTransferBody(data []byte) (TransferBody, error) {
	o, err := body.Parse(data, []string{"transfer_id", "from", "to", "amount", "contract_id"}, []string{"approval"})
	if err != nil {
		return TransferBody{}, err
	}
	var b TransferBody
	if b.TransferID, err = o.ID("transfer_id", body.ID); err != nil {
		return TransferBody{}, err
	}
	if b.From, err = o.ID("from", body.ID); err != nil {
		return TransferBody{}, err
	}
	if b.To, err = o.ID("to", body.ID); err != nil {
		return TransferBody{}, err
	}
	if b.Amount, err = o.Amount("amount", 1); err != nil {
		return TransferBody{}, err
	}
	if b.ContractID, err = o.ID("contract_id", body.ID); err != nil {
		return TransferBody{}, err
	}
	if o.Has("approval") {
		if b.Approval, err = o.ID("approval", body.ID); err != nil {
			return TransferBody{}, err
		}
	}
	if b.From == b.To {
		return TransferBody{}, body.Errorf("from and to are the same account")
	}
	return b, nil
}

// ParseWagePayBody parses and validates a funds.wage.pay body.
func ParseWagePayBody(data []byte) (WagePayBody, error) {
	o, err := body.Parse(data, []string{"payment_id", "contract_id", "worker", "period", "amount", "from"}, []string{"to"})
	if err != nil {
		return WagePayBody{}, err
	}
	var b WagePayBody
	if b.PaymentID, err = o.ID("payment_id", body.ID); err != nil {
		return WagePayBody{}, err
	}
	if b.ContractID, err = o.ID("contract_id", body.ID); err != nil {
		return WagePayBody{}, err
	}
	if b.Worker, err = o.Commitment("worker"); err != nil {
		return WagePayBody{}, err
	}
	if b.Period, err = o.Period("period"); err != nil {
		return WagePayBody{}, err
	}
	if b.Amount, err = o.Amount("amount", 1); err != nil {
		return WagePayBody{}, err
	}
	if b.From, err = o.ID("from", body.ID); err != nil {
		return WagePayBody{}, err
	}
	if o.Has("to") {
		if b.To, err = o.ID("to", body.ID); err != nil {
			return WagePayBody{}, err
		}
	}
	if b.From == b.To {
		return WagePayBody{}, body.Errorf("from and to are the same account")
	}
	return b, nil
}

// ParseWageVouchBody parses and validates a funds.wage.vouch body.
func ParseWageVouchBody(data []byte) (WageVouchBody, error) {
	o, err := body.Parse(data, []string{"contract_id", "period", "commitments"}, nil)
	if err != nil {
		return WageVouchBody{}, err
	}
	var b WageVouchBody
	if b.ContractID, err = o.ID("contract_id", body.ID); err != nil {
		return WageVouchBody{}, err
	}
	if b.Period, err = o.Period("period"); err != nil {
		return WageVouchBody{}, err
	}
	if b.Commitments, err = parseCommitments(o, "commitments", MaxWorkers); err != nil {
		return WageVouchBody{}, err
	}
	return b, nil
}

// ParseAidVouchBody parses and validates a funds.aid.vouch body.
func ParseAidVouchBody(data []byte) (AidVouchBody, error) {
	o, err := body.Parse(data, []string{"grade", "period", "commitments"}, nil)
	if err != nil {
		return AidVouchBody{}, err
	}
	var b AidVouchBody
	if b.Grade, err = o.ID("grade", body.ID); err != nil {
		return AidVouchBody{}, err
	}
	if b.Period, err = o.Period("period"); err != nil {
		return AidVouchBody{}, err
	}
	if b.Commitments, err = parseCommitments(o, "commitments", MaxVouch); err != nil {
		return AidVouchBody{}, err
	}
	return b, nil
}

// parseCommitments reads a vouch's list of 1 to maxLen commitments, which
// must be in strictly increasing order: one order for any set, so the
// list's order cannot carry which registration each commitment is for.
func parseCommitments(o body.Object, name string, maxLen int) ([]string, error) {
	a, err := o.Array(name, 1, maxLen)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, a.Len())
	for i := range a.Len() {
		s, err := a.Str(i)
		if err != nil {
			return nil, err
		}
		if err := body.CheckCommitment(a.Field(i), s); err != nil {
			return nil, err
		}
		if i > 0 && s <= out[i-1] {
			return nil, body.Errorf("field %q: commitments must be in increasing order without repeats (sorted, so that their order says nothing)", a.Field(i))
		}
		out = append(out, s)
	}
	return out, nil
}

// ParseGuaranteeLodgeBody parses and validates a funds.guarantee.lodge body.
func ParseGuaranteeLodgeBody(data []byte) (GuaranteeLodgeBody, error) {
	o, err := body.Parse(data, []string{"guarantee_id", "contract_id", "from", "escrow", "amount"}, nil)
	if err != nil {
		return GuaranteeLodgeBody{}, err
	}
	var b GuaranteeLodgeBody
	if b.GuaranteeID, err = o.ID("guarantee_id", body.ID); err != nil {
		return GuaranteeLodgeBody{}, err
	}
	if b.ContractID, err = o.ID("contract_id", body.ID); err != nil {
		return GuaranteeLodgeBody{}, err
	}
	if b.From, err = o.ID("from", body.ID); err != nil {
		return GuaranteeLodgeBody{}, err
	}
	if b.Escrow, err = o.ID("escrow", body.ID); err != nil {
		return GuaranteeLodgeBody{}, err
	}
	if b.Amount, err = o.Amount("amount", 1); err != nil {
		return GuaranteeLodgeBody{}, err
	}
	if b.From == b.Escrow {
		return GuaranteeLodgeBody{}, body.Errorf("from and escrow are the same account")
	}
	return b, nil
}

// ParseReleaseBody parses and validates a funds.guarantee.release body.
func ParseReleaseBody(data []byte) (ReleaseBody, error) {
	o, err := body.Parse(data, []string{"contract_id", "period", "payments"}, []string{"escrow"})
	if err != nil {
		return ReleaseBody{}, err
	}
	var b ReleaseBody
	if b.ContractID, err = o.ID("contract_id", body.ID); err != nil {
		return ReleaseBody{}, err
	}
	if b.Period, err = o.Period("period"); err != nil {
		return ReleaseBody{}, err
	}
	if o.Has("escrow") {
		if b.Escrow, err = o.ID("escrow", body.ID); err != nil {
			return ReleaseBody{}, err
		}
	}
	payments, err := o.Array("payments", 1, MaxWorkers)
	if err != nil {
		return ReleaseBody{}, err
	}
	for i := range payments.Len() {
		p, err := payments.Object(i, []string{"worker", "amount"}, []string{"to"})
		if err != nil {
			return ReleaseBody{}, err
		}
		var rp ReleasePayment
		if rp.Worker, err = p.Commitment("worker"); err != nil {
			return ReleaseBody{}, err
		}
		if p.Has("to") {
			if rp.To, err = p.ID("to", body.ID); err != nil {
				return ReleaseBody{}, err
			}
		}
		if rp.Amount, err = p.Amount("amount", 0); err != nil {
			return ReleaseBody{}, err
		}
		if rp.To != "" && rp.To == b.Escrow {
			return ReleaseBody{}, body.Errorf("field %q is the escrow account itself", p.Field("to"))
		}
		for _, q := range b.Payments {
			if q.Worker == rp.Worker {
				return ReleaseBody{}, body.Errorf("field %q repeats worker %s", p.Field("worker"), rp.Worker)
			}
		}
		b.Payments = append(b.Payments, rp)
	}
	return b, nil
}

// ParseAidGradeBody parses and validates a funds.aid.grade body.
func ParseAidGradeBody(data []byte) (AidGradeBody, error) {
	o, err := body.Parse(data, []string{"grade", "amount_per_period"}, nil)
	if err != nil {
		return AidGradeBody{}, err
	}
	var b AidGradeBody
	if b.Grade, err = o.ID("grade", body.ID); err != nil {
		return AidGradeBody{}, err
	}
	if b.AmountPerPeriod, err = o.Amount("amount_per_period", 1); err != nil {
		return AidGradeBody{}, err
	}
	return b, nil
}

// ParseBeneficiaryRegisterBody parses and validates a
// funds.aid.beneficiary.register body.
func ParseBeneficiaryRegisterBody(data []byte) (BeneficiaryRegisterBody, error) {
	o, err := body.Parse(data, []string{"beneficiary_id", "credential", "grade", "account"}, nil)
	if err != nil {
		return BeneficiaryRegisterBody{}, err
	}
	var b BeneficiaryRegisterBody
	if b.BeneficiaryID, err = o.ID("beneficiary_id", body.ID); err != nil {
		return BeneficiaryRegisterBody{}, err
	}
	if b.Credential, err = o.Commitment("credential"); err != nil {
		return BeneficiaryRegisterBody{}, err
	}
	if b.Grade, err = o.ID("grade", body.ID); err != nil {
		return BeneficiaryRegisterBody{}, err
	}
	if b.Account, err = o.ID("account", body.ID); err != nil {
		return BeneficiaryRegisterBody{}, err
	}
	return b, nil
}

// ParseAidPayBody parses and validates a funds.aid.pay body: with
// beneficiary_id and to, or with recipient instead of both.
func ParseAidPayBody(data []byte) (AidPayBody, error) {
	o, err := body.Parse(data, []string{"payment_id", "grade", "period", "from", "amount"}, []string{"beneficiary_id", "to", "recipient"})
	if err != nil {
		return AidPayBody{}, err
	}
	var b AidPayBody
	if b.PaymentID, err = o.ID("payment_id", body.ID); err != nil {
		return AidPayBody{}, err
	}
	switch {
	case o.Has("recipient") && (o.Has("beneficiary_id") || o.Has("to")):
		return AidPayBody{}, body.Errorf("field \"recipient\" (a one-time commitment, paid to its own account) goes without \"beneficiary_id\" and \"to\"")
	case o.Has("recipient"):
		if b.Recipient, err = o.Commitment("recipient"); err != nil {
			return AidPayBody{}, err
		}
	case !o.Has("beneficiary_id"):
		return AidPayBody{}, body.Errorf("missing field \"beneficiary_id\" (or \"recipient\", a one-time commitment)")
	case !o.Has("to"):
		return AidPayBody{}, body.Errorf("missing field \"to\"")
	default:
		if b.BeneficiaryID, err = o.ID("beneficiary_id", body.ID); err != nil {
			return AidPayBody{}, err
		}
		if b.To, err = o.ID("to", body.ID); err != nil {
			return AidPayBody{}, err
		}
	}
	if b.Grade, err = o.ID("grade", body.ID); err != nil {
		return AidPayBody{}, err
	}
	if b.Period, err = o.Period("period"); err != nil {
		return AidPayBody{}, err
	}
	if b.From, err = o.ID("from", body.ID); err != nil {
		return AidPayBody{}, err
	}
	if b.Amount, err = o.Amount("amount", 1); err != nil {
		return AidPayBody{}, err
	}
	if b.From == b.To {
		return AidPayBody{}, body.Errorf("from and to are the same account")
	}
	return b, nil
}

// periodStart is the first instant of a valid period, in UTC.
func periodStart(p string) time.Time {
	t, _ := time.Parse(body.PeriodLayout, p)
	return t
}

// parseDeadline reads a pay deadline: a date means its last second in UTC;
// a date-time must be RFC 3339 in whole seconds, spelt the way Go formats it
// back (so "Z", not "+00:00"), giving one spelling per instant and offset.
func parseDeadline(field, s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil && t.Format(time.DateOnly) == s {
		return t.Add(24*time.Hour - time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Format(time.RFC3339) != s {
		return time.Time{}, body.Errorf("field %q: %q is neither a date (YYYY-MM-DD) nor an RFC 3339 date-time in whole seconds", field, s)
	}
	return t.UTC(), nil
}

const stateTimeLayout = "2006-01-02T15:04:05Z"
