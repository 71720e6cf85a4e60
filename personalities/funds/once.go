package funds

import (
	"fmt"
	"slices"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
)

// ErrNotVouched: a payment by one-time commitment names a commitment that
// no vouch listed for it (another period, grade, contract or kind, or none
// at all); or, in a period vouched for, a worker's registered commitment.
var ErrNotVouched = fmt.Errorf("%w: commitment not vouched for this payment", rule.ErrRuleViolation)

// fresh checks that commitment may become a one-time commitment: never
// vouched for before (else [rule.ErrAlreadyExists]), and not a credential
// or worker commitment, which would tie the payment to a registration.
func (c *change) fresh(commitment string) error {
	var o OnceRecord
	ok, err := c.get(OnceKey(commitment), &o)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("%w: one-time commitment %s was vouched for by entry %s (%s, %s); a one-time commitment is used once",
			rule.ErrAlreadyExists, commitment, o.LeafHash, o.Kind, o.Period)
	}
	for _, key := range []string{CredentialKey(commitment), WorkerKey(commitment)} {
		_, ok, err := c.st.Get(c.ctx, key)
		if err != nil {
			return fmt.Errorf("couldn't read %s: %w", key, err)
		}
		if ok {
			return fmt.Errorf("%w: %s is a registered commitment (%s); a one-time commitment must be fresh", rule.ErrRuleViolation, commitment, key)
		}
	}
	return nil
}

// notOnce refuses, as the commitment of a registration (a credential or a
// worker account's owner), a commitment vouched for as a one-time one.
func (c *change) notOnce(commitment string) error {
	_, ok, err := c.st.Get(c.ctx, OnceKey(commitment))
	if err != nil {
		return fmt.Errorf("couldn't read %s: %w", OnceKey(commitment), err)
	}
	if ok {
		return fmt.Errorf("%w: %s is a one-time commitment; a registration takes a commitment of its own", rule.ErrRuleViolation, commitment)
	}
	return nil
}

// onceAccount returns the one-time account of commitment, which the
// payment being checked opens if it is the first to it (the account is
// then written only if a ledger line is).
func (c *change) onceAccount(commitment string, kind AccountKind) (string, error) {
	id := OnceAccount(commitment)
	if _, ok := c.accounts[id]; ok {
		return id, nil
	}
	a := new(AccountRecord)
	ok, err := c.get(AccountKey(id), a)
	if err != nil {
		return "", err
	}
	if !ok {
		a = &AccountRecord{LeafHash: c.leaf, OwnerKind: OwnerPerson, Owner: commitment, Kind: kind}
	}
	if a.Kind != kind || a.Owner != commitment {
		return "", fmt.Errorf("corrupt state: account %s is a %s account of %s", id, a.Kind, a.Owner)
	}
	c.accounts[id] = a
	return id, nil
}

func (c *change) wageVouch(b WageVouchBody) error {
	k, _, err := c.contract(b.ContractID, ContractLabour)
	if err != nil {
		return err
	}
	if k.Agency != c.e.Agency {
		return fmt.Errorf("%w: contract %s was registered by %s, which alone vouches for its workers", ErrNotController, b.ContractID, k.Agency)
	}
	period, err := c.labourPeriod(k, b.ContractID, b.Period)
	if err != nil {
		return err
	}
	switch {
	case period.Vouch != "":
		return fmt.Errorf("%w: the workers of contract %s were vouched for %s by entry %s", rule.ErrAlreadyExists, b.ContractID, b.Period, period.Vouch)
	case period.Release != nil:
		return fmt.Errorf("%w: the guarantee of contract %s was released for %s: nobody is left to vouch for", rule.ErrRuleViolation, b.ContractID, b.Period)
	case len(b.Commitments) != period.Unpaid:
		// One each: as many as the workers still unpaid, so no worker can
		// be paid twice, nor one left out unseen.
		return fmt.Errorf("%w: %d workers of contract %s are unpaid for %s; the vouch lists %d commitments",
			rule.ErrRuleViolation, period.Unpaid, b.ContractID, b.Period, len(b.Commitments))
	}
	for _, w := range b.Commitments {
		if err := c.fresh(w); err != nil {
			return err
		}
		c.put(OnceKey(w), OnceRecord{LeafHash: c.leaf, Agency: c.e.Agency, Kind: OnceWage, Period: b.Period, Contract: b.ContractID})
	}
	period.Vouch = c.leaf
	c.put(WageVouchKey(b.ContractID, b.Period), b.Commitments)
	c.put(PeriodKey(b.ContractID, b.Period), period)
	return nil
}

// vouchedWorker checks that worker is one of the one-time commitments
// vouched for the period of the contract.
func (c *change) vouchedWorker(contract, period, worker string) error {
	var o OnceRecord
	ok, err := c.get(OnceKey(worker), &o)
	if err != nil {
		return err
	}
	if !ok || o.Kind != OnceWage || o.Contract != contract || o.Period != period {
		return fmt.Errorf("%w: the workers of contract %s were vouched for %s, and %s is not one of their one-time commitments", ErrNotVouched, contract, period, worker)
	}
	return nil
}

func (c *change) aidVouch(b AidVouchBody) error {
	ok, err := c.get(GradeKey(c.e.Agency, b.Grade), new(GradeRecord))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: agency %s has no aid grade %s", rule.ErrRuleViolation, c.e.Agency, b.Grade)
	}
	var n GradeCount
	if _, err := c.get(GradeCountKey(c.e.Agency, b.Grade), &n); err != nil {
		return err
	}
	key := AidPeriodKey(c.e.Agency, b.Grade, b.Period)
	var ap AidPeriodRecord
	if _, err := c.get(key, &ap); err != nil {
		return err
	}
	// At most one payment per registered beneficiary and period: which
	// commitment is whose is the agency's to know, how many is the log's.
	if ap.ByBeneficiary+ap.Vouched+len(b.Commitments) > n.Beneficiaries {
		return fmt.Errorf("%w: %s registered %s of grade %s; for %s it paid %d by beneficiary ID and vouched for %d, so %d more is too many",
			rule.ErrRuleViolation, c.e.Agency, plural(n.Beneficiaries, "beneficiary"), b.Grade, b.Period, ap.ByBeneficiary, ap.Vouched, len(b.Commitments))
	}
	for _, r := range b.Commitments {
		if err := c.fresh(r); err != nil {
			return err
		}
		c.put(OnceKey(r), OnceRecord{LeafHash: c.leaf, Agency: c.e.Agency, Kind: OnceAid, Period: b.Period, Grade: b.Grade})
	}
	ap.Vouched += len(b.Commitments)
	c.put(key, ap)
	return nil
}

// aidPayOnce pays aid to a one-time commitment the signer vouched for.
func (c *change) aidPayOnce(b AidPayBody) error {
	ref := PaymentKey(b.PaymentID)
	if err := c.unused(ref, "payment "+b.PaymentID); err != nil {
		return err
	}
	var o OnceRecord
	ok, err := c.get(OnceKey(b.Recipient), &o)
	if err != nil {
		return err
	}
	switch {
	case !ok:
		return fmt.Errorf("%w: no vouch lists %s", ErrNotVouched, b.Recipient)
	case o.Kind != OnceAid:
		return fmt.Errorf("%w: %s was vouched for by entry %s for a %s, not aid", ErrNotVouched, b.Recipient, o.LeafHash, o.Kind)
	case o.Agency != c.e.Agency:
		return fmt.Errorf("%w: %s was vouched for by %s, which alone pays it", ErrNotController, b.Recipient, o.Agency)
	case o.Period != b.Period:
		return fmt.Errorf("%w: %s was vouched for %s, not %s", ErrNotVouched, b.Recipient, o.Period, b.Period)
	case o.Grade != b.Grade:
		return fmt.Errorf("%w: %s was vouched for at grade %s, not %s", ErrNotVouched, b.Recipient, o.Grade, b.Grade)
	case o.Payment != "":
		return fmt.Errorf("%w: %s was paid for %s by payment %s", rule.ErrAlreadyExists, b.Recipient, o.Period, o.Payment)
	}
	if now := c.e.Time.UTC().Format(body.PeriodLayout); b.Period > now {
		return fmt.Errorf("%w: aid for %s cannot be paid in advance, in %s", rule.ErrRuleViolation, b.Period, now)
	}
	if err := c.aidAmount(c.e.Agency, b); err != nil {
		return err
	}
	to, err := c.onceAccount(b.Recipient, KindBeneficiary)
	if err != nil {
		return err
	}
	line, err := c.move(MoveAid, ref, b.From, to, b.Amount)
	if err != nil {
		return err
	}
	o.Payment = b.PaymentID
	c.put(OnceKey(b.Recipient), o)
	c.put(ref, Movement{Kind: MoveAid, LeafHash: c.leaf, Agency: c.e.Agency, From: b.From, FromLine: line, To: to, Amount: b.Amount,
		Period: b.Period, Recipient: b.Recipient})
	return nil
}

// aidAmount checks an aid payment's amount against the grade, and that it
// comes from a budget account the signer controls.
func (c *change) aidAmount(agency string, b AidPayBody) error {
	var g GradeRecord
	if err := c.mustGet(GradeKey(agency, b.Grade), &g); err != nil {
		return err
	}
	if b.Amount != g.AmountPerPeriod {
		return fmt.Errorf("%w: grade %s pays %d per period, not %d", rule.ErrRuleViolation, b.Grade, g.AmountPerPeriod, b.Amount)
	}
	from, err := c.controlled(b.From)
	if err != nil {
		return err
	}
	return requireKind(b.From, from, KindBudget)
}

// releaseOrder returns whom a release of the period pays, in the order it
// must list them: the contract's workers, or the one-time commitments
// vouched for the period.
func (c *change) releaseOrder(k ContractRecord, contract, period string, rec *PeriodRecord) ([]string, error) {
	if rec.Vouch == "" {
		return k.Workers, nil
	}
	var vouched []string
	if err := c.mustGet(WageVouchKey(contract, period), &vouched); err != nil {
		return nil, err
	}
	if !slices.IsSorted(vouched) {
		return nil, fmt.Errorf("corrupt state: %s is not sorted", WageVouchKey(contract, period))
	}
	return vouched, nil
}
