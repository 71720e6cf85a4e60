package funds

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
}

// WagePayBody is the body of funds.wage.pay.
type WagePayBody struct {
	PaymentID  string `json:"payment_id"`
	ContractID string `json:"contract_id"`
	Worker     string `json:"worker"`
	Period     string `json:"period"`
	Amount     int64  `json:"amount"`
	From       string `json:"from"`
	To         string `json:"to"`
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
	To     string `json:"to"`
	Amount int64  `json:"amount"`
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

// AidPayBody is the body of funds.aid.pay.
type AidPayBody struct {
	PaymentID     string `json:"payment_id"`
	BeneficiaryID string `json:"beneficiary_id"`
	Grade         string `json:"grade"`
	Period        string `json:"period"`
	From          string `json:"from"`
	To            string `json:"to"`
	Amount        int64  `json:"amount"`
}

// ParseAccountOpenBody parses and validates a funds.account.open body. Any
// error wraps [rule.ErrInvalidBody] and names the offending field; so for
// every Parse function below.
func ParseAccountOpenBody(body []byte) (AccountOpenBody, error) {
	o, err := parseObject(body, []string{"account_id", "owner_kind", "owner", "kind"}, nil)
	if err != nil {
		return AccountOpenBody{}, err
	}
	var b AccountOpenBody
	var ownerKind, kind string
	if b.AccountID, err = o.id("account_id"); err != nil {
		return AccountOpenBody{}, err
	}
	if ownerKind, err = o.str("owner_kind"); err != nil {
		return AccountOpenBody{}, err
	}
	if b.Owner, err = o.str("owner"); err != nil {
		return AccountOpenBody{}, err
	}
	if kind, err = o.str("kind"); err != nil {
		return AccountOpenBody{}, err
	}
	b.OwnerKind, b.Kind = OwnerKind(ownerKind), AccountKind(kind)
	allowed, ok := ownerKindsOf[b.Kind]
	if !ok {
		return AccountOpenBody{}, invalidBody("field \"kind\": %q is not budget, company, escrow, worker or beneficiary", kind)
	}
	switch b.OwnerKind {
	case OwnerAgency:
		if !validAgency(b.Owner) {
			return AccountOpenBody{}, invalidBody("field \"owner\": %q is not an agency ID ([a-z0-9][a-z0-9-]{0,63})", b.Owner)
		}
	case OwnerCompany:
		if err := checkID("owner", b.Owner); err != nil {
			return AccountOpenBody{}, err
		}
	case OwnerPerson:
		if err := checkCommitment("owner", b.Owner); err != nil {
			return AccountOpenBody{}, err
		}
	default:
		return AccountOpenBody{}, invalidBody("field \"owner_kind\": %q is not agency, company or person", ownerKind)
	}
	if !slices.Contains(allowed, b.OwnerKind) {
		return AccountOpenBody{}, invalidBody("an account of kind %s cannot have owner_kind %s", b.Kind, b.OwnerKind)
	}
	return b, nil
}

// ParseAllocateBody parses and validates a funds.allocate body.
func ParseAllocateBody(body []byte) (AllocateBody, error) {
	o, err := parseObject(body, []string{"allocation_id", "to", "amount", "budget_line"}, nil)
	if err != nil {
		return AllocateBody{}, err
	}
	var b AllocateBody
	if b.AllocationID, err = o.id("allocation_id"); err != nil {
		return AllocateBody{}, err
	}
	if b.To, err = o.id("to"); err != nil {
		return AllocateBody{}, err
	}
	if b.Amount, err = o.amount("amount", 1); err != nil {
		return AllocateBody{}, err
	}
	if b.BudgetLine, err = o.str("budget_line"); err != nil {
		return AllocateBody{}, err
	}
	if err := checkText("budget_line", b.BudgetLine, maxTextLen); err != nil {
		return AllocateBody{}, err
	}
	return b, nil
}

// ParseContractRegisterBody parses and validates a funds.contract.register
// body, including that a labour contract's ceiling covers its whole wage
// bill (so the ceiling never blocks a wage that is due).
func ParseContractRegisterBody(body []byte) (ContractRegisterBody, error) {
	o, err := parseObject(body, []string{"contract_id", "kind", "payer", "ceiling"},
		[]string{"payee", "workers", "wage_per_period", "schedule"})
	if err != nil {
		return ContractRegisterBody{}, err
	}
	var b ContractRegisterBody
	var kind string
	if b.ContractID, err = o.id("contract_id"); err != nil {
		return ContractRegisterBody{}, err
	}
	if kind, err = o.str("kind"); err != nil {
		return ContractRegisterBody{}, err
	}
	b.Kind = ContractKind(kind)
	if b.Payer, err = o.id("payer"); err != nil {
		return ContractRegisterBody{}, err
	}
	if b.Ceiling, err = o.amount("ceiling", 1); err != nil {
		return ContractRegisterBody{}, err
	}
	switch b.Kind {
	case ContractWorks, ContractSupply:
		for _, f := range []string{"workers", "wage_per_period", "schedule"} {
			if o.has(f) {
				return ContractRegisterBody{}, invalidBody("field %q is only for labour contracts", f)
			}
		}
		if !o.has("payee") {
			return ContractRegisterBody{}, invalidBody("missing field \"payee\"")
		}
		if b.Payee, err = o.id("payee"); err != nil {
			return ContractRegisterBody{}, err
		}
		if b.Payee == b.Payer {
			return ContractRegisterBody{}, invalidBody("payer and payee are the same account")
		}
		return b, nil
	case ContractLabour:
	default:
		return ContractRegisterBody{}, invalidBody("field \"kind\": %q is not works, supply or labour", kind)
	}
	if o.has("payee") {
		return ContractRegisterBody{}, invalidBody("field \"payee\" is not for labour contracts: the workers are paid")
	}
	for _, f := range []string{"workers", "wage_per_period", "schedule"} {
		if !o.has(f) {
			return ContractRegisterBody{}, invalidBody("missing field %q", f)
		}
	}
	workers, err := o.array("workers", 1, MaxWorkers)
	if err != nil {
		return ContractRegisterBody{}, err
	}
	for i, w := range workers {
		field := fmt.Sprintf("workers[%d]", i)
		s, ok := w.(string)
		if !ok {
			return ContractRegisterBody{}, invalidBody("field %q must be a string, not %s", field, jsonKind(w))
		}
		if err := checkCommitment(field, s); err != nil {
			return ContractRegisterBody{}, err
		}
		if slices.Contains(b.Workers, s) {
			return ContractRegisterBody{}, invalidBody("field %q repeats worker %s", field, s)
		}
		b.Workers = append(b.Workers, s)
	}
	if b.WagePerPeriod, err = o.amount("wage_per_period", 1); err != nil {
		return ContractRegisterBody{}, err
	}
	schedule, err := o.array("schedule", 1, MaxSchedule)
	if err != nil {
		return ContractRegisterBody{}, err
	}
	for i, v := range schedule {
		p, err := asObject(v, fmt.Sprintf("schedule[%d]", i), []string{"period", "pay_deadline"}, nil)
		if err != nil {
			return ContractRegisterBody{}, err
		}
		var pp PayPeriod
		if pp.Period, err = p.period("period"); err != nil {
			return ContractRegisterBody{}, err
		}
		if pp.PayDeadline, err = p.str("pay_deadline"); err != nil {
			return ContractRegisterBody{}, err
		}
		deadline, err := parseDeadline(p.field("pay_deadline"), pp.PayDeadline)
		if err != nil {
			return ContractRegisterBody{}, err
		}
		if !deadline.After(periodStart(pp.Period)) {
			return ContractRegisterBody{}, invalidBody("field %q: the deadline %s is not after the start of period %s", p.field("pay_deadline"), pp.PayDeadline, pp.Period)
		}
		if i > 0 && pp.Period <= b.Schedule[i-1].Period {
			return ContractRegisterBody{}, invalidBody("field %q: periods must be in increasing order without repeats", p.field("period"))
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
		return ContractRegisterBody{}, invalidBody("ceiling %d is less than the wage bill, %d per period × %d workers × %d periods", b.Ceiling, b.WagePerPeriod, len(b.Workers), len(b.Schedule))
	}
	return b, nil
}

// ParseTransferBody parses and validates a funds.transfer body.
func ParseTransferBody(body []byte) (TransferBody, error) {
	o, err := parseObject(body, []string{"transfer_id", "from", "to", "amount", "contract_id"}, nil)
	if err != nil {
		return TransferBody{}, err
	}
	var b TransferBody
	if b.TransferID, err = o.id("transfer_id"); err != nil {
		return TransferBody{}, err
	}
	if b.From, err = o.id("from"); err != nil {
		return TransferBody{}, err
	}
	if b.To, err = o.id("to"); err != nil {
		return TransferBody{}, err
	}
	if b.Amount, err = o.amount("amount", 1); err != nil {
		return TransferBody{}, err
	}
	if b.ContractID, err = o.id("contract_id"); err != nil {
		return TransferBody{}, err
	}
	if b.From == b.To {
		return TransferBody{}, invalidBody("from and to are the same account")
	}
	return b, nil
}

// ParseWagePayBody parses and validates a funds.wage.pay body.
func ParseWagePayBody(body []byte) (WagePayBody, error) {
	o, err := parseObject(body, []string{"payment_id", "contract_id", "worker", "period", "amount", "from", "to"}, nil)
	if err != nil {
		return WagePayBody{}, err
	}
	var b WagePayBody
	if b.PaymentID, err = o.id("payment_id"); err != nil {
		return WagePayBody{}, err
	}
	if b.ContractID, err = o.id("contract_id"); err != nil {
		return WagePayBody{}, err
	}
	if b.Worker, err = o.commitment("worker"); err != nil {
		return WagePayBody{}, err
	}
	if b.Period, err = o.period("period"); err != nil {
		return WagePayBody{}, err
	}
	if b.Amount, err = o.amount("amount", 1); err != nil {
		return WagePayBody{}, err
	}
	if b.From, err = o.id("from"); err != nil {
		return WagePayBody{}, err
	}
	if b.To, err = o.id("to"); err != nil {
		return WagePayBody{}, err
	}
	if b.From == b.To {
		return WagePayBody{}, invalidBody("from and to are the same account")
	}
	return b, nil
}

// ParseGuaranteeLodgeBody parses and validates a funds.guarantee.lodge body.
func ParseGuaranteeLodgeBody(body []byte) (GuaranteeLodgeBody, error) {
	o, err := parseObject(body, []string{"guarantee_id", "contract_id", "from", "escrow", "amount"}, nil)
	if err != nil {
		return GuaranteeLodgeBody{}, err
	}
	var b GuaranteeLodgeBody
	if b.GuaranteeID, err = o.id("guarantee_id"); err != nil {
		return GuaranteeLodgeBody{}, err
	}
	if b.ContractID, err = o.id("contract_id"); err != nil {
		return GuaranteeLodgeBody{}, err
	}
	if b.From, err = o.id("from"); err != nil {
		return GuaranteeLodgeBody{}, err
	}
	if b.Escrow, err = o.id("escrow"); err != nil {
		return GuaranteeLodgeBody{}, err
	}
	if b.Amount, err = o.amount("amount", 1); err != nil {
		return GuaranteeLodgeBody{}, err
	}
	if b.From == b.Escrow {
		return GuaranteeLodgeBody{}, invalidBody("from and escrow are the same account")
	}
	return b, nil
}

// ParseReleaseBody parses and validates a funds.guarantee.release body.
func ParseReleaseBody(body []byte) (ReleaseBody, error) {
	o, err := parseObject(body, []string{"contract_id", "period", "payments"}, []string{"escrow"})
	if err != nil {
		return ReleaseBody{}, err
	}
	var b ReleaseBody
	if b.ContractID, err = o.id("contract_id"); err != nil {
		return ReleaseBody{}, err
	}
	if b.Period, err = o.period("period"); err != nil {
		return ReleaseBody{}, err
	}
	if o.has("escrow") {
		if b.Escrow, err = o.id("escrow"); err != nil {
			return ReleaseBody{}, err
		}
	}
	payments, err := o.array("payments", 1, MaxWorkers)
	if err != nil {
		return ReleaseBody{}, err
	}
	for i, v := range payments {
		p, err := asObject(v, fmt.Sprintf("payments[%d]", i), []string{"worker", "to", "amount"}, nil)
		if err != nil {
			return ReleaseBody{}, err
		}
		var rp ReleasePayment
		if rp.Worker, err = p.commitment("worker"); err != nil {
			return ReleaseBody{}, err
		}
		if rp.To, err = p.id("to"); err != nil {
			return ReleaseBody{}, err
		}
		if rp.Amount, err = p.amount("amount", 0); err != nil {
			return ReleaseBody{}, err
		}
		if rp.To == b.Escrow {
			return ReleaseBody{}, invalidBody("field %q is the escrow account itself", p.field("to"))
		}
		for _, q := range b.Payments {
			if q.Worker == rp.Worker {
				return ReleaseBody{}, invalidBody("field %q repeats worker %s", p.field("worker"), rp.Worker)
			}
		}
		b.Payments = append(b.Payments, rp)
	}
	return b, nil
}

// ParseAidGradeBody parses and validates a funds.aid.grade body.
func ParseAidGradeBody(body []byte) (AidGradeBody, error) {
	o, err := parseObject(body, []string{"grade", "amount_per_period"}, nil)
	if err != nil {
		return AidGradeBody{}, err
	}
	var b AidGradeBody
	if b.Grade, err = o.id("grade"); err != nil {
		return AidGradeBody{}, err
	}
	if b.AmountPerPeriod, err = o.amount("amount_per_period", 1); err != nil {
		return AidGradeBody{}, err
	}
	return b, nil
}

// ParseBeneficiaryRegisterBody parses and validates a
// funds.aid.beneficiary.register body.
func ParseBeneficiaryRegisterBody(body []byte) (BeneficiaryRegisterBody, error) {
	o, err := parseObject(body, []string{"beneficiary_id", "credential", "grade", "account"}, nil)
	if err != nil {
		return BeneficiaryRegisterBody{}, err
	}
	var b BeneficiaryRegisterBody
	if b.BeneficiaryID, err = o.id("beneficiary_id"); err != nil {
		return BeneficiaryRegisterBody{}, err
	}
	if b.Credential, err = o.commitment("credential"); err != nil {
		return BeneficiaryRegisterBody{}, err
	}
	if b.Grade, err = o.id("grade"); err != nil {
		return BeneficiaryRegisterBody{}, err
	}
	if b.Account, err = o.id("account"); err != nil {
		return BeneficiaryRegisterBody{}, err
	}
	return b, nil
}

// ParseAidPayBody parses and validates a funds.aid.pay body.
func ParseAidPayBody(body []byte) (AidPayBody, error) {
	o, err := parseObject(body, []string{"payment_id", "beneficiary_id", "grade", "period", "from", "to", "amount"}, nil)
	if err != nil {
		return AidPayBody{}, err
	}
	var b AidPayBody
	if b.PaymentID, err = o.id("payment_id"); err != nil {
		return AidPayBody{}, err
	}
	if b.BeneficiaryID, err = o.id("beneficiary_id"); err != nil {
		return AidPayBody{}, err
	}
	if b.Grade, err = o.id("grade"); err != nil {
		return AidPayBody{}, err
	}
	if b.Period, err = o.period("period"); err != nil {
		return AidPayBody{}, err
	}
	if b.From, err = o.id("from"); err != nil {
		return AidPayBody{}, err
	}
	if b.To, err = o.id("to"); err != nil {
		return AidPayBody{}, err
	}
	if b.Amount, err = o.amount("amount", 1); err != nil {
		return AidPayBody{}, err
	}
	if b.From == b.To {
		return AidPayBody{}, invalidBody("from and to are the same account")
	}
	return b, nil
}

// validID reports whether s is 1 to 64 of [A-Za-z0-9._:-]. IDs never hold
// "/", so state keys built from them need no escaping and cannot alias.
func validID(s string) bool {
	if len(s) == 0 || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

func checkID(field, s string) error {
	if !validID(s) {
		return invalidBody("field %q: %q is not an ID (1 to %d of A-Z a-z 0-9 . _ : -)", field, s, maxIDLen)
	}
	return nil
}

// validAgency reports whether s has the form of a registry agency ID.
func validAgency(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validCommitment reports whether s is a salted commitment: 64 lowercase
// hex digits (a SHA-256), so that no name can be written where a person is
// meant.
func validCommitment(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

func checkCommitment(field, s string) error {
	if !validCommitment(s) {
		return invalidBody("field %q must be a salted commitment in 64 lowercase hex digits, never a name", field)
	}
	return nil
}

const periodLayout = "2006-01"

func validPeriod(s string) bool {
	t, err := time.Parse(periodLayout, s)
	return err == nil && t.Format(periodLayout) == s
}

func checkPeriod(field, s string) error {
	if !validPeriod(s) {
		return invalidBody("field %q: %q is not a period in the form YYYY-MM", field, s)
	}
	return nil
}

// periodStart is the first instant of a valid period, in UTC.
func periodStart(p string) time.Time {
	t, _ := time.Parse(periodLayout, p)
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
		return time.Time{}, invalidBody("field %q: %q is neither a date (YYYY-MM-DD) nor an RFC 3339 date-time in whole seconds", field, s)
	}
	return t.UTC(), nil
}

const stateTimeLayout = "2006-01-02T15:04:05Z"

func checkText(field, s string, maxLen int) error {
	if strings.TrimSpace(s) == "" {
		return invalidBody("field %q must not be empty", field)
	}
	if n := utf8.RuneCountInString(s); n > maxLen {
		return invalidBody("field %q is %d characters long, more than %d", field, n, maxLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalidBody("field %q contains the control character %U", field, r)
		}
	}
	return nil
}
