// Package funds holds the rules of the "funds" log, where every flow of
// public money is an entry: accounts, budget allocations, contracts,
// transfers under them, workers' wages, the guarantee deposits that pay
// those wages when a company does not, and aid paid to registered
// beneficiaries by need grade. It serves the fund-control platform of
// Xiong'an and the aid system of Guiyang (SEED.md): money cannot move
// without a contract, be paid twice, be paid late unseen, or go to anyone
// but the registered person, and anyone can follow a payment from its
// source to its destination.
//
// The package is pure: it reads and writes a [rule.State] and nothing else,
// so the admission server (personalities) and the monitor, which replays the
// log from an empty state, run the very same code. See [DESIGN.md] for the
// system and [rule] for the contract.
//
// # Money
//
// Amounts are integers in minor units of the log's one currency, [Currency]
// (CNY, so fen); a deployment in another currency changes that constant, and
// the log never mixes currencies, so bodies carry no currency field. In a
// body an amount is a JSON number written as plain decimal digits, from 1 to
// [MaxAmount] (2^53): larger integers do not survive the IEEE 754 reading of
// RFC 8785, so two readers could disagree on them. Zero, negative,
// fractional, exponent and larger amounts are [rule.ErrInvalidBody].
// Balances are int64 and never negative. The total ever allocated is capped
// at math.MaxInt64 ([ErrOverflow]); as money only moves between accounts
// after that, no balance can overflow either (Apply checks anyway).
//
// Every movement is double entry: in one Apply, the payer's balance goes
// down, the payee's goes up by the same amount, and each account gets a
// [LedgerLine]. The sum of all balances is always [Supply].Allocated.
//
// # Roles
//
// An agency's key needs the registry role that the statement type requires
// ([Rules.RequiredRole]); an agency may hold several.
//
//	treasury      funds.allocate
//	fund-manager  funds.account.open, funds.contract.register,
//	              funds.transfer, funds.guarantee.lodge, funds.wage.vouch
//	payroll       funds.wage.pay
//	aid-officer   funds.aid.grade, funds.aid.beneficiary.register,
//	              funds.aid.vouch, funds.aid.pay
//	rule-engine   funds.guarantee.release: held only by the funds log's own
//	              rule key, which govlog uses to write the releases that
//	              DueReleases computes
//
// # Statement types
//
// Bodies are JSON objects; every field listed is required unless its line
// says when it is absent, and no other field is allowed. "ID" means 1 to 64 of
// [A-Za-z0-9._:-]; IDs are global to the log (agencies should prefix theirs,
// e.g. "xiongan-fb:2026-0001"). "commitment" means a salted commitment to a
// person, 64 lowercase hex digits (a SHA-256): names never go into the log.
// "period" is a calendar month, YYYY-MM.
//
// funds.account.open ([AccountOpenBody]):
//
//	account_id   ID, unused
//	owner_kind   agency | company | person
//	owner        agency: a registry agency ID; company: an ID (e.g. a
//	             unified social credit code); person: a commitment
//	kind         budget (owner agency) | company (owner company) |
//	             escrow (owner agency or company) | worker (person) |
//	             beneficiary (person)
//
// The signing agency becomes the account's controller: only statements it
// signs move money out of the account ([ErrNotController]). A person has at
// most one worker account, which is where their wages and released
// guarantees go. Worker and beneficiary accounts only receive: what a person
// does with the money happens at their bank, outside the log, which records
// what they were paid.
//
// funds.allocate ([AllocateBody]): money entering the log from the treasury.
//
//	allocation_id  ID, unused
//	to             a budget account
//	amount         amount
//	budget_line    text, at most 128 characters: the budget classification
//
// funds.contract.register ([ContractRegisterBody]):
//
//	contract_id      ID, unused
//	kind             works | supply | labour
//	payer            a budget or company account the signer controls
//	ceiling          amount: the most the payer may pay under the contract
//	payee            works, supply: a budget or company account, not payer;
//	                 absent for labour
//	workers          labour only: 1 to 300 distinct commitments, each with
//	                 a worker account
//	wage_per_period  labour only: amount each worker earns per period
//	schedule         labour only: 1 to 60 of {"period", "pay_deadline"},
//	                 periods increasing; a deadline is an RFC 3339
//	                 date-time in whole seconds, or a date meaning its last
//	                 second in UTC; it must be after the start of its period
//	                 and after the statement's time
//
// A labour contract's ceiling must cover its whole wage bill (wage × workers
// × periods), so the ceiling never blocks a wage that is due.
//
// funds.transfer ([TransferBody]):
//
//	transfer_id  ID, unused
//	from         the contract's payer, controlled by the signer
//	to           the contract's payee
//	amount       amount
//	contract_id  a registered works or supply contract
//
// No transfer without a contract ([ErrNoContract]); the total paid under a
// contract never exceeds its ceiling ([ErrOverCeiling]); no balance goes
// negative ([ErrBalanceTooLow]).
//
// funds.wage.vouch ([WageVouchBody]), signed by the agency that
// registered the contract (else [ErrNotController]); see "One-time
// commitments":
//
//	contract_id  a labour contract
//	period       a period of its schedule, not released
//	commitments  fresh one-time commitments, in increasing order, exactly
//	             as many as the period's unpaid workers
//
// At most once per contract and period (then [rule.ErrAlreadyExists]).
// From then on the period's unpaid workers are paid by these commitments
// only.
//
// funds.wage.pay ([WagePayBody]):
//
//	payment_id   ID, unused by any wage or aid payment
//	contract_id  a labour contract
//	worker       a worker of the contract (else ErrNotWorker); in a
//	             period vouched for, one of its one-time commitments
//	             instead (else ErrNotVouched)
//	period       a period of the contract's schedule
//	amount       the wage due: wage_per_period, less what a release
//	             already paid the worker for the period
//	from         the contract's payer, controlled by the signer
//	to           the worker's worker account; absent in a period vouched
//	             for: the wage goes to the commitment's one-time account
//
// A worker is paid once per contract and period: a second payment is
// [rule.ErrAlreadyExists] (the wage is the business identity; a payroll
// system that resubmits under a new payment_id learns it is done). Wages
// count against the ceiling. Paying late is allowed and visible: compare
// the entry's time with the deadline.
//
// funds.guarantee.lodge ([GuaranteeLodgeBody]):
//
//	guarantee_id  ID, unused
//	contract_id   a labour contract
//	from          a company account the signer controls
//	escrow        an escrow account; every lodging for one contract must
//	              use the same one, and no other contract's guarantee may
//	              be in it (one escrow account per contract)
//	amount        amount
//
// Several guarantees may be lodged for one contract; they add up to what
// its escrow holds for it ([ContractProgress].Held). Money leaves an escrow
// account only by release: no contract can have one as payer or payee.
//
// funds.guarantee.release ([ReleaseBody]), signed by the rule engine:
//
//	contract_id  a labour contract
//	period       a period of its schedule
//	escrow       the contract's escrow account; absent if no guarantee
//	             was ever lodged for the contract
//	payments     1 to 300 of {"worker", "to", "amount"}: exactly the
//	             workers with no wage for the period, in the contract's
//	             order, each to their worker account; amount 0 to 2^53.
//	             In a period vouched for, exactly the one-time
//	             commitments with no wage, in the vouch's order, without
//	             "to": each is paid to its one-time account
//
// It is valid only if the entry's time is after the period's deadline
// ([ErrNotDue]) and at most once per contract and period (then
// [rule.ErrAlreadyExists]). Each unpaid worker gets the same share: the
// wage, or if the deposit held for the contract cannot pay every unpaid
// worker in full, the deposit divided equally among them, rounded down (the
// remainder stays in escrow). The share may be 0: the entry then still
// records, publicly, whose wages went unpaid. A release closes the period
// to releases; a worker it paid less than the wage may still be paid the
// rest by funds.wage.pay. Naming a worker who was paid is
// [rule.ErrRuleViolation].
//
// funds.aid.grade ([AidGradeBody]): a row of the signing agency's need-grade
// table (each agency has its own).
//
//	grade              ID
//	amount_per_period  amount
//
// A later statement for the same grade replaces the amount for payments
// admitted after it; payments already made stand, and [GradeRecord].Version
// counts the changes. (Rates change, and beneficiaries stay registered.)
//
// funds.aid.beneficiary.register ([BeneficiaryRegisterBody]):
//
//	beneficiary_id  ID, unused
//	credential      commitment, registered for no other beneficiary
//	                anywhere in the log (else rule.ErrAlreadyExists)
//	grade           a grade of the signing agency's table
//	account         a beneficiary account whose owner is credential, so
//	                the money can only reach that person's account
//
// funds.aid.vouch ([AidVouchBody]); see "One-time commitments":
//
//	grade        a grade of the signing agency's table
//	period       a period
//	commitments  1 to MaxVouch fresh one-time commitments, in
//	             increasing order
//
// An agency may vouch for a grade and period in several statements, but
// the commitments it vouched for, and the payments by beneficiary_id it
// made, at that grade for that period never number more than the
// beneficiaries it registered with that grade.
//
// funds.aid.pay ([AidPayBody]):
//
//	payment_id      ID, unused by any wage or aid payment
//	beneficiary_id  a beneficiary the signing agency registered
//	recipient       instead of beneficiary_id and to: a one-time
//	                commitment the signing agency vouched for this
//	                grade and period (else ErrNotVouched), paid to its
//	                one-time account
//	grade           the beneficiary's grade, so the entry shows it
//	period          the period paid for, not after the month of the
//	                statement's time (aid is not paid in advance)
//	from            a budget account the signer controls
//	to              the beneficiary's registered account
//	amount          exactly the grade's amount_per_period
//
// A beneficiary, or a one-time commitment, is paid once: a second payment
// is [rule.ErrAlreadyExists]. Once the agency vouched for commitments at a
// grade and period, the payments of that grade and period are by
// recipient only: the vouch counted those by beneficiary_id before it.
//
// # One-time commitments
//
// A commitment that comes back in several payments links them: anyone
// reading the log sees that one person got this wage, that one and this
// aid. DESIGN.md asks for one commitment per use. The rules cannot check
// that two commitments are of one person without a salt the log never
// sees, so the link between a registration (a beneficiary's credential, a
// labour contract's worker) and a payment is vouched for by the agency
// that made the registration, in the open, as a count:
//
//   - For each period, the agency logs a vouch: fresh commitments, one per
//     registered person to be paid, in increasing order (sorting random
//     HMAC outputs is a shuffle that cannot carry which registration each
//     is for). funds.aid.vouch is per grade, and its count is bounded by
//     the beneficiaries registered with that grade; funds.wage.vouch
//     lists exactly the contract's unpaid workers of the period.
//   - A payment then names one of them (aid's "recipient", a wage's or a
//     release's "worker"), for the period, grade or contract it was
//     vouched for, and is paid once to it, into [OnceAccount] of the
//     commitment: an account no body can name, which the payment opens.
//     A commitment is vouched for once in the whole log, and may not be
//     a credential or a worker's commitment, nor later become one or own
//     an account opened by funds.account.open, so it never links to
//     anything but its own payment. (A worker paid part
//     of a wage by a release gets the rest to the same commitment: one
//     period's wage.)
//
// What the log enforces is the count: no more payments per period than
// registered people, each at their grade and the contract's wage. Which
// commitment is whose is the agency's word, which each person can check:
// the agency gives them the salt of their commitment, made (by `govlog
// commit`) of "<credential>/<period>" for aid, or "<worker
// commitment>/<contract>/<period>" for wages. With it, and the salt of
// their credential, they can find their commitment in the vouch and show
// anyone that a payment, and its registration, were theirs, and an
// auditor given the openings can find a person vouched for twice. Without
// the salts, two payments of one person look like payments of two.
//
// Paying by registration (beneficiary_id, a worker's own commitment) stays
// valid, so entries written before these rules replay as they were; a
// period is paid by one-time commitments from its vouch on. The counts
// they rest on ([GradeCountKey], [AidPeriodKey]) are written by these
// rules only: a state built by earlier code lacks the count of the
// beneficiaries registered before, and must be rebuilt by replaying the
// log (as a monitor does) before its agencies vouch.
//
// # Refusals
//
// Apply checks the business ID first, so resubmitting an admitted statement
// reports [rule.ErrAlreadyExists]. A malformed body is [rule.ErrInvalidBody];
// a rule that says no is [rule.ErrRuleViolation], through one of this
// package's sentinels where a caller may want to tell the case apart (all of
// them wrap [rule.ErrRuleViolation]). Apply reads everything it needs and
// checks every rule before its first Put, so a refused statement writes
// nothing, whatever State it is given. A failing Put is a storage failure
// (it wraps no sentinel) and the admission server discards the statement's
// overlay. Apply refuses an entry whose agency is not a registry ID
// ([a-z0-9][a-z0-9-]{0,63}), since keys are built from it.
//
// # State
//
// Records are JSON, one per key; see each key function for its record:
// [AccountKey], [LedgerKey], [ContractKey], [ProgressKey], [PeriodKey],
// [WageKey], [WorkerKey], [AllocationKey], [TransferKey], [PaymentKey],
// [GuaranteeKey], [GradeKey], [BeneficiaryKey], [CredentialKey], [AidKey],
// [OnceKey], [WageVouchKey], [GradeCountKey], [AidPeriodKey], [SupplyKey],
// [DueKey] and [DuePeriodsKey]. Agency IDs, IDs, commitments, periods and
// one-time account IDs never contain "/", so keys need no escaping and
// cannot alias.
//
// The State has no range reads, so what a reader must find without knowing
// a key is indexed: an account's ledger lines are numbered (Lines in its
// record), and the labour-contract periods not yet fully paid or released
// are listed per period at [DueKey], with the periods listed at
// [DuePeriodsKey]. Wage payments touch those lists only when they pay the
// last unpaid worker of a period.
//
// # Queries
//
// [Rules.Query] answers the public read API over the committed state
// ([rule.Querier]; gRPC Query, `govlog funds account` and `govlog funds
// trace`). Each answer is JSON that names every entry it rests on by its
// "leaf_hash", and the server sends an inclusion proof of each, all at one
// checkpoint. Amounts are in minor units of [Currency] ([FormatAmount]
// writes them for people).
//
// account ([AccountView], [ReadAccount]): an account's record (balance,
// number of ledger lines) and one page of its ledger, oldest first.
//
//	id     the account ID, or a one-time account's ("@<commitment>")
//	from   optional: the first line number, from 1 (default 1)
//	limit  optional: lines per page, 1 to MaxHistoryPage (the default)
//
// It cites the account's funds.account.open and each line's entry. Next,
// when set, is the from of the next page.
//
// payment ([PaymentTrace], [TracePayment]): the full path of one payment,
// from the treasury to its destination. Give exactly one of
//
//	ref        the payment's record: allocation/<id>, transfer/<id>,
//	           payment/<id> (a wage or aid payment), guarantee/<id>, or
//	           period/<contract>/<period> for a guarantee release
//	leaf_hash  the hex leaf hash of the entry that made the payment
//
// and, for a release, which paid every unpaid worker of a period,
//
//	to         the worker account whose payment to trace (not needed by
//	           leaf_hash when the release paid one account only)
//
// The path is the payment itself, then the movements into its payer that
// paid for it, then those into their payers, and so on back to the
// allocations from the treasury, each with its budget line. Money in an
// account is mixed, so which inflow paid for which outflow is a rule, not
// a fact: the path applies first in, first out, the rule of Clayton's
// Case (Devaynes v Noble, 1816) that courts use to trace money through a
// mixed account. The k-th fen to leave an account is the k-th fen that
// came into it, so an outflow is attributed to the oldest inflows not
// already spent, split across several where it spans them; each hop says
// how much of it ([Hop].Attributed) ended up in the payment, and the parts
// of a hop's funding add up to it. The answer also gives the terms of every
// contract a hop was paid under, and cites every entry on the path and
// every such contract's funds.contract.register.
//
// Each ledger line records the account's running In and Out and the
// number of its mirror line in the counterparty's ledger, so each step of
// a trace is a binary search: a few dozen lines read per hop, however busy
// the account (a trace through 12,000 lines of one budget account reads
// 15). Work is bounded all the same: at most [MaxTraceLines] ledger lines
// read and [MaxTraceHops] movements per path, past which the query fails
// with [rule.ErrQueryTooLarge], which says so.
//
// An unknown account or payment is [rule.ErrNotFound]; an unknown, missing
// or malformed argument [rule.ErrInvalidQuery]; another query name
// [rule.ErrUnknownQuery].
//
// # Checking an answer
//
// The inclusion proofs show that the entries an answer cites are in the
// log; what the answer says about them is the server's reading of the
// state they built. [CheckAnswer] checks that reading against the entries
// themselves, as far as they alone can tell, so that a server lying about
// them is caught ([ErrAnswerMismatch]); `govlog funds` runs it on every
// answer, through [rule.QueryClient]. It reads each entry's type and body
// as the client read them from its leaf ([rule.ProvedEntry]), and who
// signed it from its signature lines: registry keys are named after their
// agency, and the log checked the signatures when it admitted the entry.
//
// account: the answer is about the account asked for, and its record
// matches the account's funds.account.open (ID, owner kind, owner, kind;
// the controller signed it), or for a one-time account the payment that
// opened it (it pays the account, whose owner is the commitment, whose
// kind is worker for a wage or a release and beneficiary for aid, and
// whose controller is nobody; the account's line 1 is that payment). The lines are numbered consecutively from the
// line asked for, at most limit of them, each from an entry later in the
// log than the one before it; each is a movement its entry records, in its
// direction, with its counterparty, kind, amount and ref. Each balance is
// the one before plus the amount, the first from 0 on a page from line 1,
// and so are the running In and Out (In - Out is the balance).
// A page with no next ends at the account's last line, and its last
// balance is the account's. No line repeats another's movement.
//
// payment: the answer traces the payment asked for. Each hop is a movement
// its entry records (kind, from, to, amount, ref, contract, period,
// worker, beneficiary, budget line, signer); hop 0 is the payment,
// attributed in full; every other hop funds the hop it is listed under
// (the last one level up), paying into its payer, from an entry earlier in
// the log, and is attributed more than 0 and at most its amount. What the
// hops funding a hop are attributed adds up to what it is; an allocation
// is funded by nothing; no movement is attributed more than its amount in
// all its hops. As first in, first out spends one stretch of a payer's
// inflows, the hops funding one hop are in log order, each but the first
// and last attributed in full. Every contract a hop names is given, as its
// funds.contract.register says, and was registered before the hop; no
// other contract is given.
//
// What the answer alone cannot show is not checked: that first in, first
// out picked the right inflows, and how much of the first and last, needs
// the payer's whole ledger; the balance before a page that does not start
// at line 1 needs the lines before it, so such a page's balances are
// checked only against each other and its amounts; and a movement the
// server leaves out of every answer consistently, renumbering the ledger
// around it, shows only in a replay of the log, which the monitor does.
//
// [DESIGN.md]: https://github.com/govlog/govlog/blob/main/DESIGN.md
package funds

import (
	"context"
	"errors"
	"fmt"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
)

const (
	// LogName is the name of the log these rules admit into.
	LogName = "funds"
	// Currency is the ISO 4217 code of the one currency of the log; amounts
	// are in its minor unit (fen).
	Currency = "CNY"
)

// Statement types.
const (
	TypeAccountOpen         = "funds.account.open"
	TypeAllocate            = "funds.allocate"
	TypeContractRegister    = "funds.contract.register"
	TypeTransfer            = "funds.transfer"
	TypeWagePay             = "funds.wage.pay"
	TypeGuaranteeLodge      = "funds.guarantee.lodge"
	TypeGuaranteeRelease    = "funds.guarantee.release"
	TypeAidGrade            = "funds.aid.grade"
	TypeBeneficiaryRegister = "funds.aid.beneficiary.register"
	TypeAidPay              = "funds.aid.pay"
	TypeWageVouch           = "funds.wage.vouch"
	TypeAidVouch            = "funds.aid.vouch"
)

// Registry roles; see "Roles" in the package doc.
const (
	RoleTreasury    = "treasury"
	RoleFundManager = "fund-manager"
	RolePayroll     = "payroll"
	RoleAidOfficer  = "aid-officer"
	RoleRuleEngine  = "rule-engine"
)

// Refusals a caller may want to tell apart. Each wraps
// [rule.ErrRuleViolation], so errors.Is matches both.
var (
	// ErrBalanceTooLow: the paying account holds less than the amount.
	ErrBalanceTooLow = fmt.Errorf("%w: balance too low", rule.ErrRuleViolation)
	// ErrOverflow: a balance or the total allocated would pass
	// math.MaxInt64.
	ErrOverflow = fmt.Errorf("%w: amount overflow", rule.ErrRuleViolation)
	// ErrNotController: the signer does not control the account money is
	// to leave (or did not register the beneficiary it pays).
	ErrNotController = fmt.Errorf("%w: signer does not control the account", rule.ErrRuleViolation)
	// ErrNoContract: the contract named does not exist.
	ErrNoContract = fmt.Errorf("%w: no such contract", rule.ErrRuleViolation)
	// ErrOverCeiling: the payment would take the contract past its ceiling.
	ErrOverCeiling = fmt.Errorf("%w: contract ceiling exceeded", rule.ErrRuleViolation)
	// ErrNotWorker: the person is not a worker of the labour contract.
	ErrNotWorker = fmt.Errorf("%w: not a worker of the contract", rule.ErrRuleViolation)
	// ErrNotDue: a release dated at or before the pay deadline.
	ErrNotDue = fmt.Errorf("%w: pay deadline not passed", rule.ErrRuleViolation)
)

// Rules implements [rule.Domain] for the funds log. It has no fields:
// everything it knows is in the State it is handed.
type Rules struct{}

var (
	_ rule.Domain    = (*Rules)(nil)
	_ rule.KeyReader = (*Rules)(nil)
)

// New returns the funds rules.
func New() *Rules { return &Rules{} }

// Log returns [LogName].
func (*Rules) Log() string { return LogName }

// Apply checks e against the rules in the package doc and records its
// effects in st. A refused statement gets an error wrapping one of the
// [rule] sentinels, and st is not written. Any other error comes from st or
// is a corrupt record in it.
func (r *Rules) Apply(ctx context.Context, st rule.State, e rule.Entry) error {
	if _, err := r.RequiredRole(e.Type); err != nil {
		return err
	}
	if !body.ValidAgencyID(e.Agency) {
		return fmt.Errorf("%w: agency ID %q is not a registry ID ([a-z0-9][a-z0-9-]{0,63})", rule.ErrRuleViolation, e.Agency)
	}
	c := newChange(ctx, st, e)
	var err error
	switch e.Type {
	case TypeAccountOpen:
		err = applyBody(ParseAccountOpenBody, c.accountOpen, e.Body)
	case TypeAllocate:
		err = applyBody(ParseAllocateBody, c.allocate, e.Body)
	case TypeContractRegister:
		err = applyBody(ParseContractRegisterBody, c.contractRegister, e.Body)
	case TypeTransfer:
		err = applyBody(ParseTransferBody, c.transfer, e.Body)
	case TypeWagePay:
		err = applyBody(ParseWagePayBody, c.wagePay, e.Body)
	case TypeGuaranteeLodge:
		err = applyBody(ParseGuaranteeLodgeBody, c.guaranteeLodge, e.Body)
	case TypeGuaranteeRelease:
		err = applyBody(ParseReleaseBody, c.guaranteeRelease, e.Body)
	case TypeAidGrade:
		err = applyBody(ParseAidGradeBody, c.aidGrade, e.Body)
	case TypeBeneficiaryRegister:
		err = applyBody(ParseBeneficiaryRegisterBody, c.beneficiaryRegister, e.Body)
	case TypeAidPay:
		err = applyBody(ParseAidPayBody, c.aidPay, e.Body)
	case TypeWageVouch:
		err = applyBody(ParseWageVouchBody, c.wageVouch, e.Body)
	case TypeAidVouch:
		err = applyBody(ParseAidVouchBody, c.aidVouch, e.Body)
	default:
		err = errors.New("statement type with a role but no rules") // unreachable
	}
	if err != nil {
		return err
	}
	return c.commit()
}

func applyBody[B any](parse func([]byte) (B, error), apply func(B) error, body []byte) error {
	b, err := parse(body)
	if err != nil {
		return err
	}
	return apply(b)
}

// ReadKeys names every key Apply reads when it admits e, so the admission
// server can fetch a batch's keys in one query. A body that does not parse
// names none; Apply will refuse it.
func (r *Rules) ReadKeys(e rule.Entry) []string {
	switch e.Type {
	case TypeAccountOpen:
		if b, err := ParseAccountOpenBody(e.Body); err == nil {
			keys := []string{AccountKey(b.AccountID)}
			if b.Kind == KindWorker {
				keys = append(keys, WorkerKey(b.Owner))
			}
			if b.OwnerKind == OwnerPerson {
				keys = append(keys, OnceKey(b.Owner))
			}
			return keys
		}
	case TypeAllocate:
		if b, err := ParseAllocateBody(e.Body); err == nil {
			return []string{AllocationKey(b.AllocationID), AccountKey(b.To), SupplyKey}
		}
	case TypeContractRegister:
		if b, err := ParseContractRegisterBody(e.Body); err == nil {
			keys := []string{ContractKey(b.ContractID), AccountKey(b.Payer)}
			if b.Payee != "" {
				keys = append(keys, AccountKey(b.Payee))
			}
			for _, w := range b.Workers {
				keys = append(keys, WorkerKey(w))
			}
			for _, p := range b.Schedule {
				keys = append(keys, DueKey(p.Period))
			}
			if len(b.Schedule) > 0 {
				keys = append(keys, DuePeriodsKey)
			}
			return keys
		}
	case TypeTransfer:
		if b, err := ParseTransferBody(e.Body); err == nil {
			keys := []string{TransferKey(b.TransferID), ContractKey(b.ContractID), ProgressKey(b.ContractID),
				AccountKey(b.From), AccountKey(b.To)}
			if b.Approval != "" {
				keys = append(keys, ApprovalUsedKey(b.Approval))
			}
			return keys
		}
	case TypeWagePay:
		if b, err := ParseWagePayBody(e.Body); err == nil {
			// The due lists are read only when the payment is the last of
			// its period, but that cannot be known here.
			return []string{PaymentKey(b.PaymentID), ContractKey(b.ContractID), ProgressKey(b.ContractID),
				AccountKey(b.From), AccountKey(b.Account()), WorkerKey(b.Worker), OnceKey(b.Worker), PeriodKey(b.ContractID, b.Period),
				WageKey(b.ContractID, b.Period, b.Worker), DueKey(b.Period), DuePeriodsKey}
		}
	case TypeGuaranteeLodge:
		if b, err := ParseGuaranteeLodgeBody(e.Body); err == nil {
			return []string{GuaranteeKey(b.GuaranteeID), ContractKey(b.ContractID), ProgressKey(b.ContractID),
				AccountKey(b.From), AccountKey(b.Escrow)}
		}
	case TypeGuaranteeRelease:
		if b, err := ParseReleaseBody(e.Body); err == nil {
			keys := []string{ContractKey(b.ContractID), ProgressKey(b.ContractID), PeriodKey(b.ContractID, b.Period),
				DueKey(b.Period), DuePeriodsKey}
			if b.Escrow != "" {
				keys = append(keys, AccountKey(b.Escrow))
			}
			keys = append(keys, WageVouchKey(b.ContractID, b.Period))
			for _, p := range b.Payments {
				keys = append(keys, WageKey(b.ContractID, b.Period, p.Worker), WorkerKey(p.Worker), AccountKey(p.Account()))
			}
			return keys
		}
	case TypeAidGrade:
		if b, err := ParseAidGradeBody(e.Body); err == nil {
			return []string{GradeKey(e.Agency, b.Grade)}
		}
	case TypeBeneficiaryRegister:
		if b, err := ParseBeneficiaryRegisterBody(e.Body); err == nil {
			return []string{BeneficiaryKey(b.BeneficiaryID), CredentialKey(b.Credential), OnceKey(b.Credential),
				GradeKey(e.Agency, b.Grade), GradeCountKey(e.Agency, b.Grade), AccountKey(b.Account)}
		}
	case TypeAidPay:
		if b, err := ParseAidPayBody(e.Body); err == nil {
			if b.Recipient != "" {
				return []string{PaymentKey(b.PaymentID), OnceKey(b.Recipient), GradeKey(e.Agency, b.Grade),
					AccountKey(b.From), AccountKey(b.Account())}
			}
			// A beneficiary is paid by the agency that registered them,
			// which must be the signer, at their grade, which must be the
			// body's: other keys would be read only by a refused payment.
			return []string{PaymentKey(b.PaymentID), BeneficiaryKey(b.BeneficiaryID), AidKey(b.BeneficiaryID, b.Period),
				GradeKey(e.Agency, b.Grade), AidPeriodKey(e.Agency, b.Grade, b.Period), AccountKey(b.From), AccountKey(b.To)}
		}
	case TypeWageVouch:
		if b, err := ParseWageVouchBody(e.Body); err == nil {
			keys := []string{ContractKey(b.ContractID), ProgressKey(b.ContractID), PeriodKey(b.ContractID, b.Period)}
			return append(keys, freshKeys(b.Commitments)...)
		}
	case TypeAidVouch:
		if b, err := ParseAidVouchBody(e.Body); err == nil {
			keys := []string{GradeKey(e.Agency, b.Grade), GradeCountKey(e.Agency, b.Grade), AidPeriodKey(e.Agency, b.Grade, b.Period)}
			return append(keys, freshKeys(b.Commitments)...)
		}
	}
	return nil
}

// freshKeys are the keys that show whether commitments are fresh.
func freshKeys(commitments []string) []string {
	keys := make([]string, 0, 3*len(commitments))
	for _, c := range commitments {
		keys = append(keys, OnceKey(c), CredentialKey(c), WorkerKey(c))
	}
	return keys
}
