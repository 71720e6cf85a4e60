package funds

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
)

// AccountRecord is an account, at [AccountKey].
type AccountRecord struct {
	// LeafHash is the hex leaf hash of the funds.account.open entry.
	LeafHash string `json:"leaf_hash"`
	// Controller is the agency that opened the account: only statements
	// it signs move money out of it.
	Controller string      `json:"controller"`
	OwnerKind  OwnerKind   `json:"owner_kind"`
	Owner      string      `json:"owner"`
	Kind       AccountKind `json:"kind"`
	// Balance is in minor units of [Currency]; never negative.
	Balance int64 `json:"balance"`
	// Lines is how many ledger lines the account has; the n-th (from 1) is
	// at LedgerKey(id, n).
	Lines int64 `json:"lines"`
	// In and Out are all the money that ever came in and went out:
	// Balance = In - Out.
	In  int64 `json:"in"`
	Out int64 `json:"out"`
	// Contract, for an escrow account, is the labour contract whose
	// guarantee it holds, from the first lodging on; no other contract's
	// may be lodged in it.
	Contract string `json:"contract,omitempty"`
}

// LedgerLine is one side of one money movement, at [LedgerKey]: the
// account's journal, in log order, so a dashboard can show an account's
// history without replaying the log.
type LedgerLine struct {
	// LeafHash is the hex leaf hash of the entry that moved the money.
	LeafHash string       `json:"leaf_hash"`
	Kind     MovementKind `json:"kind"`
	// Ref is the state key of the movement's record: "transfer/<id>",
	// "payment/<id>", ..., or "period/<contract>/<period>" for a release.
	Ref string `json:"ref"`
	// Counterparty is the other account; empty for an allocation, whose
	// money comes from outside the log.
	Counterparty string `json:"counterparty,omitempty"`
	// CounterLine is the number of the same movement's line in the
	// Counterparty's ledger.
	CounterLine int64 `json:"counter_line,omitempty"`
	// Amount is positive for money in, negative for money out.
	Amount int64 `json:"amount"`
	// Balance is the account's balance after this line.
	Balance int64 `json:"balance"`
	// In and Out are the account's In and Out after this line: a
	// first-in-first-out trace finds, by binary search on In, the inflow
	// that holds any given unit of the money that came in.
	In  int64 `json:"in"`
	Out int64 `json:"out"`
}

// MovementKind says which statement moved money.
type MovementKind string

// Movement kinds.
const (
	MoveAllocation MovementKind = "allocation"
	MoveTransfer   MovementKind = "transfer"
	MoveWage       MovementKind = "wage"
	MoveGuarantee  MovementKind = "guarantee"
	MoveRelease    MovementKind = "release"
	MoveAid        MovementKind = "aid"
)

// Movement records one allocation, transfer, wage or aid payment, or
// guarantee lodging, at the key of its business ID ([AllocationKey],
// [TransferKey], [PaymentKey], [GuaranteeKey]), so that any payment can be
// looked up by its ID and traced through the ledgers of From and To.
type Movement struct {
	Kind     MovementKind `json:"kind"`
	LeafHash string       `json:"leaf_hash"`
	// Agency signed the statement.
	Agency string `json:"agency"`
	// From is empty for an allocation. FromLine is the number of the
	// movement's line in From's ledger.
	From     string `json:"from,omitempty"`
	FromLine int64  `json:"from_line,omitempty"`
	To       string `json:"to"`
	Amount   int64  `json:"amount"`

	Contract    string `json:"contract,omitempty"`
	Period      string `json:"period,omitempty"`
	Worker      string `json:"worker,omitempty"`
	Beneficiary string `json:"beneficiary,omitempty"`
	// Recipient is the one-time commitment an aid payment by commitment
	// went to (Beneficiary is then empty).
	Recipient  string `json:"recipient,omitempty"`
	BudgetLine string `json:"budget_line,omitempty"`
}

// ContractRecord is a contract's terms, at [ContractKey]; they never change.
type ContractRecord struct {
	LeafHash string `json:"leaf_hash"`
	// Agency registered the contract; it controlled the payer then.
	Agency  string       `json:"agency"`
	Kind    ContractKind `json:"kind"`
	Payer   string       `json:"payer"`
	Payee   string       `json:"payee,omitempty"`
	Ceiling int64        `json:"ceiling"`
	// Workers, WagePerPeriod and Schedule are set for labour contracts.
	// Workers' order is the order a release pays them in.
	Workers       []string `json:"workers,omitempty"`
	WagePerPeriod int64    `json:"wage_per_period,omitempty"`
	// Schedule's deadlines are in UTC, "2006-01-02T15:04:05Z".
	Schedule []PayPeriod `json:"schedule,omitempty"`
	// ApprovalKind and ApprovalAbove: transfers above it need an approved
	// application of that kind.
	ApprovalKind  string `json:"approval_kind,omitempty"`
	ApprovalAbove int64  `json:"approval_above,omitempty"`
}

// ContractProgress is what has happened under a contract, at
// [ProgressKey]; kept apart from the terms so that a payment rewrites a
// few bytes, not the list of workers.
type ContractProgress struct {
	// Paid is what the payer paid under the contract (transfers, wages);
	// at most the ceiling.
	Paid int64 `json:"paid"`
	// Escrow is the escrow account of the contract's guarantee, fixed by
	// its first lodging.
	Escrow string `json:"escrow,omitempty"`
	// Held is the deposit still in escrow for this contract.
	Held int64 `json:"held"`
	// Lodged and Released are running totals; Held = Lodged - Released.
	Lodged   int64 `json:"lodged"`
	Released int64 `json:"released"`
}

// PeriodRecord is one pay period of a labour contract, at [PeriodKey].
type PeriodRecord struct {
	// Deadline is the pay deadline, UTC, "2006-01-02T15:04:05Z".
	Deadline string `json:"deadline"`
	// Unpaid counts the contract's workers with no wage record for the
	// period yet.
	Unpaid int `json:"unpaid"`
	// Release is set once the guarantee was released for the period.
	Release *ReleaseRecord `json:"release,omitempty"`
	// Vouch is the hex leaf hash of the funds.wage.vouch of the period,
	// once its workers were vouched for: from then on Unpaid counts the
	// one-time commitments at [WageVouchKey] with no wage record, and the
	// period is paid to those only.
	Vouch string `json:"vouch,omitempty"`
}

// ReleaseRecord is a guarantee release, inside its [PeriodRecord].
type ReleaseRecord struct {
	LeafHash string `json:"leaf_hash"`
	Escrow   string `json:"escrow,omitempty"`
	// Workers is how many unpaid workers the release paid Share each.
	Workers int   `json:"workers"`
	Share   int64 `json:"share"`
}

// WageRecord is what one worker got for one period of a labour contract,
// at [WageKey]. Its existence means the worker is not "unpaid" any more.
type WageRecord struct {
	// Paid is the total received for the period, at most the wage.
	Paid int64 `json:"paid"`
	// FromGuarantee is the part paid by a release, from the deposit.
	FromGuarantee int64 `json:"from_guarantee,omitempty"`
	// Payment is the payment_id of the funds.wage.pay, if any.
	Payment string `json:"payment,omitempty"`
	// Release is the hex leaf hash of the release, if any, and
	// ReleaseLine the number of its payment's line in the escrow's ledger
	// (0 if it paid nothing).
	Release     string `json:"release,omitempty"`
	ReleaseLine int64  `json:"release_line,omitempty"`
}

// WorkerRecord maps a person's commitment to their one worker account, at
// [WorkerKey].
type WorkerRecord struct {
	Account string `json:"account"`
}

// GradeRecord is one need grade of an agency's aid table, at [GradeKey].
type GradeRecord struct {
	// LeafHash is that of the funds.aid.grade entry that set the amount.
	LeafHash        string `json:"leaf_hash"`
	AmountPerPeriod int64  `json:"amount_per_period"`
	// Version counts the funds.aid.grade statements for this grade, from 1.
	Version int `json:"version"`
}

// BeneficiaryRecord is a registered aid beneficiary, at [BeneficiaryKey].
type BeneficiaryRecord struct {
	LeafHash string `json:"leaf_hash"`
	// Agency registered the beneficiary; only it pays them, by its grades.
	Agency     string `json:"agency"`
	Credential string `json:"credential"`
	Grade      string `json:"grade"`
	Account    string `json:"account"`
}

// CredentialRecord maps a credential to the one beneficiary registered
// with it, at [CredentialKey].
type CredentialRecord struct {
	Beneficiary string `json:"beneficiary"`
}

// OnceRecord is a one-time commitment, at [OnceKey]: what a vouch said it
// may be paid, and whether it was.
type OnceRecord struct {
	// LeafHash is that of the funds.wage.vouch or funds.aid.vouch that
	// listed it.
	LeafHash string `json:"leaf_hash"`
	// Agency signed the vouch: for aid, it alone pays the commitment.
	Agency string   `json:"agency"`
	Kind   OnceKind `json:"kind"`
	Period string   `json:"period"`
	// Contract, for a wage commitment: the labour contract.
	Contract string `json:"contract,omitempty"`
	// Grade, for an aid commitment: the need grade it is paid at.
	Grade string `json:"grade,omitempty"`
	// Payment, for an aid commitment, is the payment_id that paid it. (A
	// wage commitment's pay is in its [WageRecord].)
	Payment string `json:"payment,omitempty"`
}

// OnceKind says what a one-time commitment was vouched for.
type OnceKind string

// One-time commitment kinds.
const (
	OnceWage OnceKind = "wage"
	OnceAid  OnceKind = "aid"
)

// GradeCount is how many beneficiaries an agency registered with a grade,
// at [GradeCountKey]: the most one-time commitments it may vouch for at
// that grade in one period.
type GradeCount struct {
	Beneficiaries int `json:"beneficiaries"`
}

// AidPeriodRecord counts the aid of one agency's grade in one period, at
// [AidPeriodKey]: ByBeneficiary payments by beneficiary_id and Vouched
// one-time commitments. Together they never pass [GradeCount].
type AidPeriodRecord struct {
	ByBeneficiary int `json:"by_beneficiary,omitempty"`
	Vouched       int `json:"vouched,omitempty"`
}

// AidRecord marks a beneficiary paid for a period, at [AidKey].
type AidRecord struct {
	Payment string `json:"payment"`
	Amount  int64  `json:"amount"`
}

// Supply is the money that entered the log, at [SupplyKey]. The sum of all
// balances always equals Allocated.
type Supply struct {
	Allocated   int64 `json:"allocated"`
	Allocations int64 `json:"allocations"`
}

// DueItem is one labour-contract period awaiting its pay deadline, in the
// list at [DueKey] of its period.
type DueItem struct {
	Contract string `json:"contract"`
	// Deadline is UTC, "2006-01-02T15:04:05Z".
	Deadline string `json:"deadline"`
}

// State keys. IDs never contain "/" and agency IDs, commitments and
// periods neither, so a key built from valid parts names one thing only.
const (
	// SupplyKey holds the [Supply].
	SupplyKey = "supply"
	// DuePeriodsKey holds the sorted list of periods whose [DueKey] list
	// is not empty.
	DuePeriodsKey = "due/periods"
)

// AccountKey is "account/<id>", an [AccountRecord].
func AccountKey(id string) string { return "account/" + id }

// LedgerKey is "ledger/<account>/<n>", the n-th [LedgerLine] of the
// account, n from 1 and zero-padded to 12 digits so keys sort in order.
func LedgerKey(account string, n int64) string {
	return fmt.Sprintf("ledger/%s/%012d", account, n)
}

// ContractKey is "contract/<id>", a [ContractRecord].
func ContractKey(id string) string { return "contract/" + id }

// ProgressKey is "contract/<id>/progress", a [ContractProgress].
func ProgressKey(id string) string { return "contract/" + id + "/progress" }

// PeriodKey is "period/<contract>/<period>", a [PeriodRecord].
func PeriodKey(contract, period string) string { return "period/" + contract + "/" + period }

// WageKey is "wage/<contract>/<period>/<worker>", a [WageRecord].
func WageKey(contract, period, worker string) string {
	return "wage/" + contract + "/" + period + "/" + worker
}

// WorkerKey is "worker/<commitment>", a [WorkerRecord].
func WorkerKey(commitment string) string { return "worker/" + commitment }

// AllocationKey is "allocation/<id>", a [Movement].
func AllocationKey(id string) string { return "allocation/" + id }

// TransferKey is "transfer/<id>", a [Movement].
func TransferKey(id string) string { return "transfer/" + id }

// PaymentKey is "payment/<id>", a [Movement] of a wage or aid payment: the
// two share one namespace of payment IDs.
func PaymentKey(id string) string { return "payment/" + id }

// GuaranteeKey is "guarantee/<id>", a [Movement].
func GuaranteeKey(id string) string { return "guarantee/" + id }

// GradeKey is "grade/<agency>/<grade>", a [GradeRecord]: each agency keeps
// its own grade table.
func GradeKey(agency, grade string) string { return "grade/" + agency + "/" + grade }

// BeneficiaryKey is "beneficiary/<id>", a [BeneficiaryRecord].
func BeneficiaryKey(id string) string { return "beneficiary/" + id }

// CredentialKey is "credential/<commitment>", a [CredentialRecord].
func CredentialKey(commitment string) string { return "credential/" + commitment }

// AidKey is "aid/<beneficiary>/<period>", an [AidRecord].
func AidKey(beneficiary, period string) string { return "aid/" + beneficiary + "/" + period }

// OnceKey is "once/<commitment>", a [OnceRecord]. A commitment is vouched
// for once in the whole log, so it names one period's pay of one person.
func OnceKey(commitment string) string { return "once/" + commitment }

// WageVouchKey is "vouch/<contract>/<period>", the sorted one-time
// commitments a funds.wage.vouch listed for the period ([]string).
func WageVouchKey(contract, period string) string { return "vouch/" + contract + "/" + period }

// GradeCountKey is "grade/<agency>/<grade>/beneficiaries", a [GradeCount].
func GradeCountKey(agency, grade string) string { return GradeKey(agency, grade) + "/beneficiaries" }

// AidPeriodKey is "aidperiod/<agency>/<grade>/<period>", an
// [AidPeriodRecord].
func AidPeriodKey(agency, grade, period string) string {
	return "aidperiod/" + agency + "/" + grade + "/" + period
}

// OnceAccount is the ID of the account a one-time commitment is paid to:
// "@" and the commitment. No body can name it ("@" is not an ID
// character), so nobody can open it before the payment, nor move money
// out of it; the first payment to the commitment opens it, as a worker
// account (wages) or a beneficiary account (aid) owned by the commitment
// and controlled by nobody.
func OnceAccount(commitment string) string { return "@" + commitment }

// onceOwner returns the commitment of a one-time account ID.
func onceOwner(account string) (string, bool) {
	c, ok := strings.CutPrefix(account, "@")
	return c, ok && body.ValidCommitment(c)
}

// validAccountID reports whether id is an account ID: an ID, or a
// one-time account.
func validAccountID(id string) bool {
	_, once := onceOwner(id)
	return once || body.ID.Valid(id)
}

// DueKey is "due/<period>", the sorted list of [DueItem]s of labour
// contracts whose period is neither fully paid nor released.
func DueKey(period string) string { return "due/" + period }

// getJSON reads key into v. A non-nil error is a failure of st or a record
// that does not decode, never "not found".
func getJSON(ctx context.Context, st rule.Reader, key string, v any) (bool, error) {
	b, ok, err := st.Get(ctx, key)
	if err != nil {
		return false, fmt.Errorf("couldn't read %s: %w", key, err)
	}
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("couldn't decode the record at %s: %w", key, err)
	}
	return true, nil
}

// read is getJSON for a read helper: ok is false if any part is malformed,
// so user input cannot steer a helper to some other key.
func read[T any](ctx context.Context, st rule.Reader, valid bool, key string) (T, bool, error) {
	var v T
	if !valid {
		return v, false, nil
	}
	ok, err := getJSON(ctx, st, key, &v)
	if err != nil || !ok {
		var zero T
		return zero, false, err
	}
	return v, true, nil
}

// Account returns an account (an ID, or an [OnceAccount]). ok is false if
// there is none.
func Account(ctx context.Context, st rule.Reader, id string) (AccountRecord, bool, error) {
	return read[AccountRecord](ctx, st, validAccountID(id), AccountKey(id))
}

// Balance returns an account's balance in minor units of [Currency].
func Balance(ctx context.Context, st rule.Reader, account string) (int64, bool, error) {
	a, ok, err := Account(ctx, st, account)
	return a.Balance, ok, err
}

// History returns up to limit ledger lines of an account, starting with
// line number from (the first is 1), oldest first.
func History(ctx context.Context, st rule.Reader, account string, from int64, limit int) ([]LedgerLine, error) {
	a, ok, err := Account(ctx, st, account)
	if err != nil || !ok {
		return nil, err
	}
	from = max(from, 1)
	var lines []LedgerLine
	for n := from; n <= a.Lines && len(lines) < limit; n++ {
		key := LedgerKey(account, n)
		var l LedgerLine
		ok, err := getJSON(ctx, st, key, &l)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("corrupt state: account %s has %d lines but %s is missing", account, a.Lines, key)
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// Contract returns a contract's terms.
func Contract(ctx context.Context, st rule.Reader, id string) (ContractRecord, bool, error) {
	return read[ContractRecord](ctx, st, body.ID.Valid(id), ContractKey(id))
}

// Progress returns what has been paid and lodged under a contract.
func Progress(ctx context.Context, st rule.Reader, contract string) (ContractProgress, bool, error) {
	return read[ContractProgress](ctx, st, body.ID.Valid(contract), ProgressKey(contract))
}

// Period returns a pay period of a labour contract, with its release if
// there was one.
func Period(ctx context.Context, st rule.Reader, contract, period string) (PeriodRecord, bool, error) {
	return read[PeriodRecord](ctx, st, body.ID.Valid(contract) && body.ValidPeriod(period), PeriodKey(contract, period))
}

// Wage returns what a worker got for a period of a labour contract. ok is
// false while the worker is unpaid.
func Wage(ctx context.Context, st rule.Reader, contract, period, worker string) (WageRecord, bool, error) {
	return read[WageRecord](ctx, st, body.ID.Valid(contract) && body.ValidPeriod(period) && body.ValidCommitment(worker),
		WageKey(contract, period, worker))
}

// WorkerAccount returns the worker account of a person.
func WorkerAccount(ctx context.Context, st rule.Reader, commitment string) (string, bool, error) {
	w, ok, err := read[WorkerRecord](ctx, st, body.ValidCommitment(commitment), WorkerKey(commitment))
	return w.Account, ok, err
}

// Allocation returns the allocation with this ID.
func Allocation(ctx context.Context, st rule.Reader, id string) (Movement, bool, error) {
	return read[Movement](ctx, st, body.ID.Valid(id), AllocationKey(id))
}

// Transfer returns the transfer with this ID.
func Transfer(ctx context.Context, st rule.Reader, id string) (Movement, bool, error) {
	return read[Movement](ctx, st, body.ID.Valid(id), TransferKey(id))
}

// Payment returns the wage or aid payment with this ID.
func Payment(ctx context.Context, st rule.Reader, id string) (Movement, bool, error) {
	return read[Movement](ctx, st, body.ID.Valid(id), PaymentKey(id))
}

// Guarantee returns the guarantee lodging with this ID.
func Guarantee(ctx context.Context, st rule.Reader, id string) (Movement, bool, error) {
	return read[Movement](ctx, st, body.ID.Valid(id), GuaranteeKey(id))
}

// Grade returns a grade of an agency's aid table.
func Grade(ctx context.Context, st rule.Reader, agency, grade string) (GradeRecord, bool, error) {
	return read[GradeRecord](ctx, st, body.ValidAgencyID(agency) && body.ID.Valid(grade), GradeKey(agency, grade))
}

// Beneficiary returns a registered beneficiary.
func Beneficiary(ctx context.Context, st rule.Reader, id string) (BeneficiaryRecord, bool, error) {
	return read[BeneficiaryRecord](ctx, st, body.ID.Valid(id), BeneficiaryKey(id))
}

// BeneficiaryByCredential returns the ID of the beneficiary registered with
// a credential.
func BeneficiaryByCredential(ctx context.Context, st rule.Reader, credential string) (string, bool, error) {
	c, ok, err := read[CredentialRecord](ctx, st, body.ValidCommitment(credential), CredentialKey(credential))
	return c.Beneficiary, ok, err
}

// Aid returns the aid a beneficiary got for a period. ok is false if they
// were not paid for it.
func Aid(ctx context.Context, st rule.Reader, beneficiary, period string) (AidRecord, bool, error) {
	return read[AidRecord](ctx, st, body.ID.Valid(beneficiary) && body.ValidPeriod(period), AidKey(beneficiary, period))
}

// Once returns a one-time commitment vouched for, and what paid it.
func Once(ctx context.Context, st rule.Reader, commitment string) (OnceRecord, bool, error) {
	return read[OnceRecord](ctx, st, body.ValidCommitment(commitment), OnceKey(commitment))
}

// WageVouch returns the one-time commitments vouched for a period of a
// labour contract, sorted.
func WageVouch(ctx context.Context, st rule.Reader, contract, period string) ([]string, bool, error) {
	return read[[]string](ctx, st, body.ID.Valid(contract) && body.ValidPeriod(period), WageVouchKey(contract, period))
}

// Beneficiaries returns how many beneficiaries an agency registered with a
// grade.
func Beneficiaries(ctx context.Context, st rule.Reader, agency, grade string) (int, error) {
	g, _, err := read[GradeCount](ctx, st, body.ValidAgencyID(agency) && body.ID.Valid(grade), GradeCountKey(agency, grade))
	return g.Beneficiaries, err
}

// AidPeriod returns the counts of an agency's aid of a grade in a period.
func AidPeriod(ctx context.Context, st rule.Reader, agency, grade, period string) (AidPeriodRecord, error) {
	a, _, err := read[AidPeriodRecord](ctx, st, body.ValidAgencyID(agency) && body.ID.Valid(grade) && body.ValidPeriod(period),
		AidPeriodKey(agency, grade, period))
	return a, err
}

// TotalSupply returns the money that entered the log; zero before the
// first allocation.
func TotalSupply(ctx context.Context, st rule.Reader) (Supply, error) {
	s, _, err := read[Supply](ctx, st, true, SupplyKey)
	return s, err
}
