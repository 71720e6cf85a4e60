package funds_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// once returns a test one-time commitment.
func once(name string) string { return person("once:" + name) }

// One-time commitments of the tests: r for aid, w for wages.
var (
	r1, r2, r3     = once("r1"), once("r2"), once("r3")
	w1, w2, w3, w4 = once("w1"), once("w2"), once("w3"), once("w4")
)

func aidVouch(agency, g, period string, cs ...string) rule.Entry {
	return entry(agency, funds.TypeAidVouch, funds.AidVouchBody{Grade: g, Period: period, Commitments: slices.Sorted(slices.Values(cs))})
}

func aidOnce(agency, id, recipient, g, period, from string, amount int64) rule.Entry {
	return entry(agency, funds.TypeAidPay, funds.AidPayBody{PaymentID: id, Recipient: recipient, Grade: g, Period: period, From: from, Amount: amount})
}

func wageVouch(agency, contract, period string, cs ...string) rule.Entry {
	return entry(agency, funds.TypeWageVouch, funds.WageVouchBody{ContractID: contract, Period: period, Commitments: slices.Sorted(slices.Values(cs))})
}

func wageOnce(t time.Time, id, contract, worker, period string, amount int64) rule.Entry {
	return entryAt(t, bureau, funds.TypeWagePay, funds.WagePayBody{PaymentID: id, ContractID: contract, Worker: worker, Period: period, Amount: amount, From: "co-1"})
}

// sortedPair returns a and b in increasing order, as a vouch lists them.
func sortedPair(a, b string) (string, string) {
	if a > b {
		return b, a
	}
	return a, b
}

// TestOnceAid: aid by one-time commitments vouched for per period; each
// bad input of the hardening issue is refused.
func TestOnceAid(t *testing.T) {
	vouch := aidVouch(civil, "dibao", "2026-03", r1)
	pay := aidOnce(civil, "p-1", r1, "dibao", "2026-03", "budget-aid", 1_200)
	aidDave := aid(civil, "p-aid-1", "ben-dave", "dibao", "2026-03", "budget-aid", "b-dave", 1_200)
	erinRegistered := []rule.Entry{
		open(civil, "b-erin", funds.OwnerPerson, erin, funds.KindBeneficiary),
		benef(civil, "ben-erin", erin, "dibao", "b-erin"),
	}
	withErin := func(es ...rule.Entry) []rule.Entry { return after(append(slices.Clone(erinRegistered), es...)...) }
	payBody := fields(funds.AidPayBody{PaymentID: "p-1", Recipient: r1, Grade: "dibao", Period: "2026-03", From: "budget-aid", Amount: 1_200})
	rawPay := func(m map[string]any) rule.Entry { return entry(civil, funds.TypeAidPay, m) }
	tests := []struct {
		name    string
		entries []rule.Entry
		wantErr error
		wantMsg string
	}{
		{name: "vouch", entries: after(vouch)},
		{name: "aid to a vouched commitment", entries: after(vouch, pay)},
		{name: "vouch in two statements, one per beneficiary", entries: withErin(vouch, aidVouch(civil, "dibao", "2026-03", r2))},
		{name: "vouch in advance", entries: after(aidVouch(civil, "dibao", "2026-04", r1))},

		// Bad inputs.
		{name: "unvouched commitment", entries: after(pay), wantErr: funds.ErrNotVouched, wantMsg: "no vouch lists " + r1},
		{name: "commitment used twice", entries: after(vouch, pay, aidOnce(civil, "p-2", r1, "dibao", "2026-03", "budget-aid", 1_200)),
			wantErr: rule.ErrAlreadyExists, wantMsg: r1 + " was paid for 2026-03 by payment p-1"},
		{name: "wrong grade", entries: after(grade(civil, "tekun", 1_200), vouch, aidOnce(civil, "p-1", r1, "tekun", "2026-03", "budget-aid", 1_200)),
			wantErr: funds.ErrNotVouched, wantMsg: "vouched for at grade dibao, not tekun"},
		{name: "wrong period", entries: after(vouch, aidOnce(civil, "p-1", r1, "dibao", "2026-02", "budget-aid", 1_200)),
			wantErr: funds.ErrNotVouched, wantMsg: "vouched for 2026-03, not 2026-02"},
		{name: "reused across periods", entries: withErin(vouch, aidVouch(civil, "dibao", "2026-02", r1)),
			wantErr: rule.ErrAlreadyExists, wantMsg: "a one-time commitment is used once"},
		{name: "reused in the same vouch", entries: after(rawEntry(civil, funds.TypeAidVouch,
			`{"commitments":["`+r1+`","`+r1+`"],"grade":"dibao","period":"2026-03"}`)),
			wantErr: rule.ErrInvalidBody, wantMsg: "increasing order without repeats"},
		{name: "vouch not sorted", entries: withErin(rawEntry(civil, funds.TypeAidVouch,
			`{"commitments":["`+max(r1, r2)+`","`+min(r1, r2)+`"],"grade":"dibao","period":"2026-03"}`)),
			wantErr: rule.ErrInvalidBody, wantMsg: "increasing order"},
		{name: "more commitments than beneficiaries", entries: after(aidVouch(civil, "dibao", "2026-03", r1, r2)),
			wantErr: rule.ErrRuleViolation, wantMsg: "guiyang-ca registered 1 beneficiary of grade dibao; for 2026-03 it paid 0 by beneficiary ID and vouched for 0, so 2 more is too many"},
		{name: "more commitments than beneficiaries, over two vouches", entries: withErin(vouch, aidVouch(civil, "dibao", "2026-03", r2, r3)),
			wantErr: rule.ErrRuleViolation, wantMsg: "vouched for 1, so 2 more"},
		{name: "vouch after the beneficiary was paid by ID", entries: after(aidDave, vouch),
			wantErr: rule.ErrRuleViolation, wantMsg: "it paid 1 by beneficiary ID"},
		{name: "vouch for the rest after a payment by ID", entries: withErin(aidDave, vouch)},
		{name: "payment by ID after a vouch", entries: after(vouch, aidDave),
			wantErr: rule.ErrRuleViolation, wantMsg: "pay those, by \"recipient\""},
		{name: "payment by ID of another period than the vouch's", entries: after(vouch,
			aid(civil, "p-aid-1", "ben-dave", "dibao", "2026-02", "budget-aid", "b-dave", 1_200))},
		{name: "vouch at a grade with no beneficiaries", entries: after(grade(civil, "tekun", 2_000), aidVouch(civil, "tekun", "2026-03", r1)),
			wantErr: rule.ErrRuleViolation, wantMsg: "registered 0 beneficiaries of grade tekun"},
		{name: "vouch at an unknown grade", entries: after(aidVouch(civil, "tekun", "2026-03", r1)),
			wantErr: rule.ErrRuleViolation, wantMsg: "agency guiyang-ca has no aid grade tekun"},
		{name: "vouch at another agency's grade", entries: after(aidVouch(bureau, "dibao", "2026-03", r1)),
			wantErr: rule.ErrRuleViolation, wantMsg: "agency xiongan-fb has no aid grade dibao"},
		{name: "vouch for a credential", entries: after(aidVouch(civil, "dibao", "2026-03", dave)),
			wantErr: rule.ErrRuleViolation, wantMsg: dave + " is a registered commitment"},
		{name: "vouch for a worker's commitment", entries: after(aidVouch(civil, "dibao", "2026-03", alice)),
			wantErr: rule.ErrRuleViolation, wantMsg: alice + " is a registered commitment"},
		{name: "credential registered after it was vouched for", entries: after(vouch, benef(civil, "ben-r1", r1, "dibao", "b-dave")),
			wantErr: rule.ErrRuleViolation, wantMsg: r1 + " is a one-time commitment"},
		{name: "worker account for a one-time commitment", entries: after(vouch, open(bureau, "w-r1", funds.OwnerPerson, r1, funds.KindWorker)),
			wantErr: rule.ErrRuleViolation, wantMsg: r1 + " is a one-time commitment"},
		{name: "beneficiary account for a one-time commitment", entries: after(vouch, open(civil, "b-r1", funds.OwnerPerson, r1, funds.KindBeneficiary)),
			wantErr: rule.ErrRuleViolation, wantMsg: r1 + " is a one-time commitment"},
		{name: "paid by another agency than the voucher", entries: after(vouch, aidOnce(bureau, "p-1", r1, "dibao", "2026-03", "budget-1", 1_200)),
			wantErr: funds.ErrNotController, wantMsg: "vouched for by guiyang-ca, which alone pays it"},
		{name: "paid in advance", entries: after(aidVouch(civil, "dibao", "2026-04", r1), aidOnce(civil, "p-1", r1, "dibao", "2026-04", "budget-aid", 1_200)),
			wantErr: rule.ErrRuleViolation, wantMsg: "cannot be paid in advance"},
		{name: "wrong amount", entries: after(vouch, aidOnce(civil, "p-1", r1, "dibao", "2026-03", "budget-aid", 1_000)),
			wantErr: rule.ErrRuleViolation, wantMsg: "grade dibao pays 1200 per period, not 1000"},
		{name: "from a budget the signer does not control", entries: after(vouch, aidOnce(civil, "p-1", r1, "dibao", "2026-03", "budget-1", 1_200)),
			wantErr: funds.ErrNotController},
		{name: "a wage's commitment paid as aid", entries: after(wageVouch(bureau, "c-lab", "2026-03", w1, w2), aidOnce(civil, "p-1", w1, "dibao", "2026-03", "budget-aid", 1_200)),
			wantErr: funds.ErrNotVouched, wantMsg: "for a wage, not aid"},
		{name: "payment ID reused by a wage", entries: after(vouch, pay, wage("p-1", "c-lab", alice, "2026-03", 5_000, "co-1", "w-alice")),
			wantErr: rule.ErrAlreadyExists},
		{name: "recipient and beneficiary_id", entries: after(vouch, rawPay(with(payBody, "beneficiary_id", "ben-dave"))),
			wantErr: rule.ErrInvalidBody, wantMsg: "goes without"},
		{name: "recipient and to", entries: after(vouch, rawPay(with(payBody, "to", "b-dave"))),
			wantErr: rule.ErrInvalidBody, wantMsg: "goes without"},
		{name: "neither recipient nor beneficiary_id", entries: after(vouch, rawPay(with(payBody, "recipient", deleteField))),
			wantErr: rule.ErrInvalidBody, wantMsg: `missing field "beneficiary_id"`},
		{name: "recipient not a commitment", entries: after(vouch, rawPay(with(payBody, "recipient", "ben-dave"))),
			wantErr: rule.ErrInvalidBody},
		{name: "empty vouch", entries: after(rawEntry(civil, funds.TypeAidVouch, `{"commitments":[],"grade":"dibao","period":"2026-03"}`)),
			wantErr: rule.ErrInvalidBody},
		{name: "vouch with a field too many", entries: after(entry(civil, funds.TypeAidVouch, with(fields(funds.AidVouchBody{
			Grade: "dibao", Period: "2026-03", Commitments: []string{r1}}), "beneficiary_id", "ben-dave"))),
			wantErr: rule.ErrInvalidBody, wantMsg: `unknown field "beneficiary_id"`},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ruletest.State{}
			if err := ruletest.CheckEntries(t, funds.New(), st, tt.entries, tt.wantErr, tt.wantMsg); err != nil {
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

// TestOnceAidEffects: a payment to a one-time commitment opens its own
// account, records the commitment and no beneficiary, and the counts add
// up.
func TestOnceAidEffects(t *testing.T) {
	ctx := context.Background()
	st := ruletest.State{}
	applyAll(t, st, after(aidVouch(civil, "dibao", "2026-03", r1), aidOnce(civil, "p-1", r1, "dibao", "2026-03", "budget-aid", 1_200)))
	a, ok, err := funds.Account(ctx, st, funds.OnceAccount(r1))
	if err != nil || !ok {
		t.Fatalf("Account(@r1) = %v, %v", ok, err)
	}
	if a.Controller != "" || a.OwnerKind != funds.OwnerPerson || a.Owner != r1 || a.Kind != funds.KindBeneficiary || a.Balance != 1_200 || a.Lines != 1 {
		t.Errorf("Account(@r1) = %+v", a)
	}
	m, ok, err := funds.Payment(ctx, st, "p-1")
	if err != nil || !ok || m.To != "@"+r1 || m.Recipient != r1 || m.Beneficiary != "" || m.From != "budget-aid" || m.Amount != 1_200 || m.Period != "2026-03" {
		t.Errorf("Payment(p-1) = %+v, %v, %v", m, ok, err)
	}
	o, ok, err := funds.Once(ctx, st, r1)
	if err != nil || !ok || o.Kind != funds.OnceAid || o.Agency != civil || o.Grade != "dibao" || o.Period != "2026-03" || o.Payment != "p-1" || len(o.LeafHash) != 64 {
		t.Errorf("Once(r1) = %+v, %v, %v", o, ok, err)
	}
	if n, err := funds.Beneficiaries(ctx, st, civil, "dibao"); err != nil || n != 1 {
		t.Errorf("Beneficiaries = %d, %v", n, err)
	}
	if ap, err := funds.AidPeriod(ctx, st, civil, "dibao", "2026-03"); err != nil || ap != (funds.AidPeriodRecord{Vouched: 1}) {
		t.Errorf("AidPeriod = %+v, %v", ap, err)
	}
	if _, ok, err := funds.Aid(ctx, st, "ben-dave", "2026-03"); ok || err != nil {
		t.Errorf("Aid(ben-dave) = %v, %v: the registration was paid", ok, err)
	}
	if b, _, _ := funds.Balance(ctx, st, "b-dave"); b != 0 {
		t.Errorf("b-dave holds %d", b)
	}
	// Read helpers fed user input are not steered to another key.
	if _, ok, err := funds.Account(ctx, st, "@"+r1[:63]); ok || err != nil {
		t.Errorf("Account(@ and 63 hex digits) = %v, %v", ok, err)
	}
	if _, ok, err := funds.Once(ctx, st, "../"+r1[3:]); ok || err != nil {
		t.Errorf("Once(malformed) = %v, %v", ok, err)
	}
}

// TestOnceUnlinkable: a beneficiary paid in three periods by one-time
// commitments, as the package doc says an agency makes them. No two of
// the entries the log holds for the person after their registration (the
// vouches and the payments) share a commitment or an account, and none
// names the registration.
func TestOnceUnlinkable(t *testing.T) {
	later := t0.AddDate(0, 3, 0) // June: March to May are payable
	es := append(base(),
		open(civil, "b-erin", funds.OwnerPerson, erin, funds.KindBeneficiary),
		benef(civil, "ben-erin", erin, "dibao", "b-erin"))
	var mine []rule.Entry
	for i, p := range []string{"2026-03", "2026-04", "2026-05"} {
		daveOnce, erinOnce := person(dave+"/"+p), person(erin+"/"+p)
		v := entryAt(later, civil, funds.TypeAidVouch, funds.AidVouchBody{Grade: "dibao", Period: p,
			Commitments: slices.Sorted(slices.Values([]string{daveOnce, erinOnce}))})
		pay := entryAt(later, civil, funds.TypeAidPay, funds.AidPayBody{PaymentID: "aid-" + p + "-" + string(rune('a'+i)),
			Recipient: daveOnce, Grade: "dibao", Period: p, From: "budget-aid", Amount: 1_200})
		es = append(es, v, pay)
		mine = append(mine, pay)
	}
	st := ruletest.State{}
	applyAll(t, st, es)
	hex64 := regexp.MustCompile(`[0-9a-f]{64}`)
	seen := map[string]int{}
	for i, e := range mine {
		for _, banned := range []string{dave, "ben-dave", "b-dave"} {
			if strings.Contains(string(e.Body), banned) {
				t.Errorf("payment %d names %s: %s", i, banned, e.Body)
			}
		}
		for _, c := range hex64.FindAllString(string(e.Body), -1) {
			if j, ok := seen[c]; ok && j != i {
				t.Errorf("payments %d and %d both carry %s", j, i, c)
			}
			seen[c] = i
		}
		var b funds.AidPayBody
		if err := json.Unmarshal(e.Body, &b); err != nil {
			t.Fatal(err)
		}
		if bal, ok, _ := funds.Balance(context.Background(), st, b.Account()); !ok || bal != 1_200 {
			t.Errorf("%s holds %d", b.Account(), bal)
		}
	}
}

// TestOnceWage: wages, and releases, paid to one-time commitments vouched
// for per period by the agency that registered the contract.
func TestOnceWage(t *testing.T) {
	a, b := sortedPair(w1, w2)
	vouch := wageVouch(bureau, "c-lab", "2026-03", w1, w2)
	payW1 := wageOnce(t0, "p-1", "c-lab", w1, "2026-03", 5_000)
	onceRelease := funds.ReleaseBody{ContractID: "c-lab", Period: "2026-03", Escrow: "escrow-1", Payments: []funds.ReleasePayment{
		{Worker: a, Amount: 3_000}, {Worker: b, Amount: 3_000}}}
	tests := []struct {
		name    string
		entries []rule.Entry
		wantErr error
		wantMsg string
	}{
		{name: "vouch", entries: after(vouch)},
		{name: "wage to a vouched commitment", entries: after(vouch, payW1)},
		{name: "both wages, the period done", entries: after(vouch, payW1, wageOnce(t0, "p-2", "c-lab", w2, "2026-03", 5_000))},
		{name: "vouch after a wage by registration, for the rest", entries: after(wageAlice(), wageVouch(bureau, "c-lab", "2026-03", w1))},
		{name: "vouch after the deadline, before the release", entries: after(entryAt(afterMarch, bureau, funds.TypeWageVouch,
			funds.WageVouchBody{ContractID: "c-lab", Period: "2026-03", Commitments: []string{a, b}}))},
		{name: "release to the vouched commitments", entries: after(vouch, release(afterMarch, onceRelease))},
		{name: "the rest of a wage after a release, to the same commitment", entries: after(vouch, release(afterMarch, onceRelease),
			wageOnce(afterMarch, "p-3", "c-lab", w1, "2026-03", 2_000))},

		// Bad inputs.
		{name: "unvouched commitment in a vouched period", entries: after(vouch, wageOnce(t0, "p-1", "c-lab", w3, "2026-03", 5_000)),
			wantErr: funds.ErrNotVouched, wantMsg: w3 + " is not one of their one-time commitments"},
		{name: "one-time commitment in a period not vouched for", entries: after(wageOnce(t0, "p-1", "c-lab", w1, "2026-03", 5_000)),
			wantErr: funds.ErrNotWorker, wantMsg: "were not vouched for 2026-03"},
		{name: "commitment used twice", entries: after(vouch, payW1, wageOnce(t0, "p-2", "c-lab", w1, "2026-03", 5_000)),
			wantErr: rule.ErrAlreadyExists, wantMsg: "worker " + w1 + " was paid for 2026-03"},
		{name: "wrong period", entries: after(vouch, wageVouch(bureau, "c-lab", "2026-04", w3, w4), wageOnce(t0, "p-1", "c-lab", w1, "2026-04", 5_000)),
			wantErr: funds.ErrNotVouched, wantMsg: "vouched for 2026-04, and " + w1},
		{name: "reused across periods", entries: after(vouch, wageVouch(bureau, "c-lab", "2026-04", w1, w3)),
			wantErr: rule.ErrAlreadyExists, wantMsg: "a one-time commitment is used once"},
		{name: "reused across contracts", entries: after(vouch,
			labour(bureau, "c-lab2", "co-1", 1_000, 1_000, []string{carol}, funds.PayPeriod{Period: "2026-03", PayDeadline: "2026-04-01"}),
			wageVouch(bureau, "c-lab2", "2026-03", w1)),
			wantErr: rule.ErrAlreadyExists, wantMsg: "(wage, 2026-03)"},
		{name: "aid's commitment paid as a wage", entries: after(aidVouch(civil, "dibao", "2026-03", r1), wageVouch(bureau, "c-lab", "2026-03", r1, w2)),
			wantErr: rule.ErrAlreadyExists, wantMsg: "(aid, 2026-03)"},
		{name: "registered worker paid in a vouched period", entries: after(vouch, wageAlice()),
			wantErr: funds.ErrNotVouched, wantMsg: "pay their one-time commitments"},
		{name: "one-time commitment paid to a worker account", entries: after(vouch, wage("p-1", "c-lab", w1, "2026-03", 5_000, "co-1", "w-alice")),
			wantErr: funds.ErrNotWorker},
		{name: "wrong amount", entries: after(vouch, wageOnce(t0, "p-1", "c-lab", w1, "2026-03", 4_000)),
			wantErr: rule.ErrRuleViolation, wantMsg: "the wage due to " + w1 + " for 2026-03 is 5000, not 4000"},
		{name: "vouch by an agency that did not register the contract", entries: after(wageVouch(civil, "c-lab", "2026-03", w1, w2)),
			wantErr: funds.ErrNotController, wantMsg: "registered by xiongan-fb, which alone vouches"},
		{name: "vouch for fewer than the unpaid workers", entries: after(wageVouch(bureau, "c-lab", "2026-03", w1)),
			wantErr: rule.ErrRuleViolation, wantMsg: "2 workers of contract c-lab are unpaid for 2026-03; the vouch lists 1"},
		{name: "vouch for more than the unpaid workers", entries: after(wageAlice(), wageVouch(bureau, "c-lab", "2026-03", w1, w2)),
			wantErr: rule.ErrRuleViolation, wantMsg: "1 workers of contract c-lab are unpaid"},
		{name: "vouch twice", entries: after(vouch, wageVouch(bureau, "c-lab", "2026-03", w3, w4)),
			wantErr: rule.ErrAlreadyExists, wantMsg: "were vouched for 2026-03 by entry"},
		{name: "vouch after the release", entries: after(release(afterMarch, bothShort), entryAt(afterMarch, bureau, funds.TypeWageVouch,
			funds.WageVouchBody{ContractID: "c-lab", Period: "2026-03", Commitments: []string{a, b}})),
			wantErr: rule.ErrRuleViolation, wantMsg: "nobody is left to vouch for"},
		{name: "vouch for a period not in the schedule", entries: after(wageVouch(bureau, "c-lab", "2026-05", w1, w2)),
			wantErr: rule.ErrRuleViolation, wantMsg: "not in the schedule"},
		{name: "vouch for a works contract", entries: after(wageVouch(bureau, "c-works", "2026-03", w1)),
			wantErr: rule.ErrRuleViolation, wantMsg: "is a works contract"},
		{name: "vouch for a registered worker", entries: after(wageVouch(bureau, "c-lab", "2026-03", alice, w2)),
			wantErr: rule.ErrRuleViolation, wantMsg: alice + " is a registered commitment"},
		{name: "vouch not sorted", entries: after(rawEntry(bureau, funds.TypeWageVouch,
			`{"commitments":["`+b+`","`+a+`"],"contract_id":"c-lab","period":"2026-03"}`)),
			wantErr: rule.ErrInvalidBody, wantMsg: "increasing order"},
		{name: "release to registered workers in a vouched period", entries: after(vouch, release(afterMarch, bothShort)),
			wantErr: funds.ErrNotVouched, wantMsg: "is not a one-time commitment vouched for contract c-lab"},
		{name: "release with to in a vouched period", entries: after(vouch, release(afterMarch, releaseWith(onceRelease, func(r *funds.ReleaseBody) {
			r.Payments[0].To = "w-alice"
		}))), wantErr: rule.ErrRuleViolation, wantMsg: "pays their one-time accounts"},
		{name: "release out of the vouch's order", entries: after(vouch, release(afterMarch, releaseWith(onceRelease, func(r *funds.ReleaseBody) {
			r.Payments[0], r.Payments[1] = r.Payments[1], r.Payments[0]
		}))), wantErr: rule.ErrRuleViolation, wantMsg: "in the contract's order (or the vouch's)"},
		{name: "release of a paid commitment", entries: after(vouch, payW1, release(afterMarch, onceRelease)),
			wantErr: rule.ErrRuleViolation, wantMsg: "worker " + w1 + " was paid"},
		{name: "release without to in a period not vouched for", entries: after(release(afterMarch, releaseWith(bothShort, func(r *funds.ReleaseBody) {
			r.Payments[1].To = ""
		}))), wantErr: rule.ErrRuleViolation, wantMsg: "to their worker account"},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ruletest.State{}
			if err := ruletest.CheckEntries(t, funds.New(), st, tt.entries, tt.wantErr, tt.wantMsg); err != nil {
				return
			}
			supply, err := funds.TotalSupply(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			if sum := sumBalances(t, st); sum != supply.Allocated {
				t.Errorf("balances sum to %d, allocations to %d", sum, supply.Allocated)
			}
			checkContracts(t, st)
			checkDueIndex(t, st)
		})
	}
}

func wageAlice() rule.Entry { return wage("p-0", "c-lab", alice, "2026-03", 5_000, "co-1", "w-alice") }

// TestOnceRelease: in a period vouched for, DueReleases proposes a release
// to the unpaid one-time commitments, which Apply admits, paying their
// one-time accounts; the rest of the wage goes to the same commitment.
func TestOnceRelease(t *testing.T) {
	ctx := context.Background()
	st := ruletest.State{}
	a, b := sortedPair(w1, w2)
	applyAll(t, st, after(wageVouch(bureau, "c-lab", "2026-03", w1, w2), lodge("g-2", "c-lab", "co-1", "escrow-1", 1_000)))
	if got := dueReleases(t, st, marchDeadline); len(got) != 0 {
		t.Fatalf("DueReleases at the deadline = %+v", got)
	}
	want := funds.ReleaseBody{ContractID: "c-lab", Period: "2026-03", Escrow: "escrow-1", Payments: []funds.ReleasePayment{
		{Worker: a, Amount: 3_500}, {Worker: b, Amount: 3_500}}}
	got := dueReleases(t, st, afterMarch)
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("DueReleases = %+v, want %+v", got, want)
	}
	body, err := json.Marshal(got[0])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), `"to"`) {
		t.Errorf("the release names accounts: %s", body)
	}
	applyAll(t, st, []rule.Entry{release(afterMarch, got[0]), wageOnce(afterMarch, "p-rest", "c-lab", a, "2026-03", 1_500)})
	for _, c := range []struct {
		commitment string
		balance    int64
		lines      int64
	}{{a, 5_000, 2}, {b, 3_500, 1}} {
		acct, ok, err := funds.Account(ctx, st, funds.OnceAccount(c.commitment))
		if err != nil || !ok || acct.Balance != c.balance || acct.Lines != c.lines || acct.Kind != funds.KindWorker || acct.Controller != "" {
			t.Errorf("Account(@%s) = %+v, %v, %v", c.commitment, acct, ok, err)
		}
	}
	if p, ok, err := funds.Period(ctx, st, "c-lab", "2026-03"); err != nil || !ok || p.Unpaid != 0 || p.Release == nil || p.Vouch == "" {
		t.Errorf("Period = %+v, %v, %v", p, ok, err)
	}
	if vs, ok, err := funds.WageVouch(ctx, st, "c-lab", "2026-03"); err != nil || !ok || !slices.Equal(vs, []string{a, b}) {
		t.Errorf("WageVouch = %q, %v, %v", vs, ok, err)
	}
	if got := dueReleases(t, st, afterMarch.Add(time.Hour)); len(got) != 0 {
		t.Errorf("DueReleases after the release = %+v", got)
	}
	checkDueIndex(t, st)

	// A period vouched for with one wage paid: the release pays the other.
	st = ruletest.State{}
	applyAll(t, st, after(wageVouch(bureau, "c-lab", "2026-03", w1, w2), wageOnce(t0, "p-1", "c-lab", w2, "2026-03", 5_000)))
	got = dueReleases(t, st, afterMarch)
	if want := []funds.ReleasePayment{{Worker: w1, Amount: 5_000}}; len(got) != 1 || !reflect.DeepEqual(got[0].Payments, want) {
		t.Fatalf("DueReleases = %+v, want payments %+v", got, want)
	}
	applyAll(t, st, []rule.Entry{release(afterMarch, got[0])})
	if bal, _, _ := funds.Balance(ctx, st, funds.OnceAccount(w1)); bal != 5_000 {
		t.Errorf("@w1 holds %d", bal)
	}
}

// TestOnceCorruptState: a vouched period whose vouch is gone is the
// state's fault, not the statement's.
func TestOnceCorruptState(t *testing.T) {
	st := ruletest.State{}
	applyAll(t, st, after(wageVouch(bureau, "c-lab", "2026-03", w1, w2)))
	delete(st, funds.WageVouchKey("c-lab", "2026-03"))
	a, b := sortedPair(w1, w2)
	err := funds.New().Apply(context.Background(), ruletest.NewOverlay(st), release(afterMarch, funds.ReleaseBody{
		ContractID: "c-lab", Period: "2026-03", Escrow: "escrow-1", Payments: []funds.ReleasePayment{{Worker: a, Amount: 3_000}, {Worker: b, Amount: 3_000}}}))
	if err == nil || wrapsSentinel(err) {
		t.Errorf("Apply = %v, want a state error", err)
	}
	if _, err := funds.DueReleases(context.Background(), st, afterMarch); err == nil || wrapsSentinel(err) {
		t.Errorf("DueReleases = %v, want a state error", err)
	}
}

func TestOnceStorageFailure(t *testing.T) {
	r := funds.New()
	setup := ruletest.State{}
	applyAll(t, setup, after(open(civil, "b-erin", funds.OwnerPerson, erin, funds.KindBeneficiary),
		aidVouch(civil, "dibao", "2026-03", r1), wageVouch(bureau, "c-lab", "2026-03", w1, w2)))
	for _, e := range []rule.Entry{
		aidOnce(civil, "p-1", r1, "dibao", "2026-03", "budget-aid", 1_200),
		wageOnce(t0, "p-2", "c-lab", w1, "2026-03", 5_000),
		release(afterMarch, dueReleases(t, setup, afterMarch)[0]),
		wageVouch(bureau, "c-lab", "2026-04", w3, w4),
		benef(civil, "ben-erin", erin, "dibao", "b-erin"),
	} {
		ruletest.CheckStorageFailures(t, r, setup, e)
	}
	applyAll(t, setup, []rule.Entry{benef(civil, "ben-erin", erin, "dibao", "b-erin")})
	ruletest.CheckStorageFailures(t, r, setup, aidVouch(civil, "dibao", "2026-03", r2))
}

// TestOnceQueries: a one-time account and a payment to one are read and
// traced like any other, and CheckAnswer holds them to the entry that
// opened the account.
func TestOnceQueries(t *testing.T) {
	ctx := context.Background()
	es := after(aidVouch(civil, "dibao", "2026-03", r1), aidOnce(civil, "p-aid", r1, "dibao", "2026-03", "budget-aid", 1_200),
		wageVouch(bureau, "c-lab", "2026-03", w1, w2), wageOnce(t0, "p-w", "c-lab", w1, "2026-03", 5_000))
	_, b := sortedPair(w1, w2)
	v := viewOf(t, es)
	rel := dueReleases(t, v.State, afterMarch)
	es = append(es, release(afterMarch, rel[0]))
	v = viewOf(t, es)
	r := funds.New()
	for _, q := range []struct {
		name string
		args map[string]string
	}{
		{funds.QueryAccount, map[string]string{"id": "@" + r1}},
		{funds.QueryAccount, map[string]string{"id": "@" + w1}},
		{funds.QueryAccount, map[string]string{"id": "@" + b}},
		{funds.QueryPayment, map[string]string{"ref": "payment/p-aid"}},
		{funds.QueryPayment, map[string]string{"ref": "payment/p-w"}},
		{funds.QueryPayment, map[string]string{"ref": "period/c-lab/2026-03", "to": "@" + w2}},
		{funds.QueryPayment, map[string]string{"leaf_hash": leafOf(t, es, `"escrow":"escrow-1","payments"`)}},
	} {
		res, cited, err := r.Query(ctx, v, q.name, q.args)
		if err != nil {
			t.Errorf("Query(%s, %v): %v", q.name, q.args, err)
			continue
		}
		checkHonest(t, v, q.name, q.args, res, cited)
	}
	res, _, err := r.Query(ctx, v, funds.QueryPayment, map[string]string{"ref": "payment/p-aid"})
	if err != nil {
		t.Fatal(err)
	}
	if p := res.(*funds.PaymentTrace); p.Hops[0].To != "@"+r1 || p.Hops[0].Recipient != r1 || len(p.Hops) != 2 {
		t.Errorf("trace of p-aid = %q", hopLines(p))
	}
	if _, _, err := r.Query(ctx, v, funds.QueryAccount, map[string]string{"id": "@" + r2}); !errors.Is(err, rule.ErrNotFound) {
		t.Errorf("Query(@r2) = %v, want ErrNotFound: nothing paid it", err)
	}
	if _, _, err := r.Query(ctx, v, funds.QueryAccount, map[string]string{"id": "@nope"}); !errors.Is(err, rule.ErrInvalidQuery) {
		t.Errorf("Query(@nope) = %v, want ErrInvalidQuery", err)
	}

	// Lies about a one-time account.
	wOnce := leafOf(t, es, `"payment_id":"p-w"`)
	aidLeaf := leafOf(t, es, `"payment_id":"p-aid"`)
	for _, tt := range []struct {
		name string
		id   string
		edit func(*funds.AccountView)
		want string
	}{
		{"a controller", "@" + r1, func(a *funds.AccountView) { a.Account.Controller = civil }, "controlled by nobody"},
		{"another kind", "@" + r1, func(a *funds.AccountView) { a.Account.Kind = funds.KindWorker }, "is a beneficiary account of person"},
		{"another owner", "@" + r1, func(a *funds.AccountView) { a.Account.Owner = r2 }, "account of person " + r1},
		{"opened by another payment", "@" + r1, func(a *funds.AccountView) { a.Account.LeafHash = wOnce }, "pays nothing to it"},
		{"line 1 from another payment", "@" + w1, func(a *funds.AccountView) { a.Account.LeafHash = aidLeaf }, "pays nothing to it"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, proved := answer(t, v, funds.QueryAccount, map[string]string{"id": tt.id})
			av := res.(*funds.AccountView)
			tt.edit(av)
			checkErr(t, checkAnswer(funds.QueryAccount, map[string]string{"id": tt.id}, reencode(t, av), proved), tt.want)
		})
	}
}

func TestReadKeysCoverOncePaths(t *testing.T) {
	a, b := sortedPair(w1, w2)
	checkReadKeys(t, after(
		open(civil, "b-erin", funds.OwnerPerson, erin, funds.KindBeneficiary),
		benef(civil, "ben-erin", erin, "dibao", "b-erin"),
		aid(civil, "p-aid-0", "ben-erin", "dibao", "2026-03", "budget-aid", "b-erin", 1_200),
		aidVouch(civil, "dibao", "2026-03", r1),
		aidOnce(civil, "p-aid-1", r1, "dibao", "2026-03", "budget-aid", 1_200),
		wageVouch(bureau, "c-lab", "2026-03", w1, w2),
		lodge("g-2", "c-lab", "co-1", "escrow-1", 1_000),
		// A release that leaves a remainder, and the rest of a wage to the
		// account the release opened.
		release(afterMarch, funds.ReleaseBody{ContractID: "c-lab", Period: "2026-03", Escrow: "escrow-1", Payments: []funds.ReleasePayment{
			{Worker: a, Amount: 3_500}, {Worker: b, Amount: 3_500}}}),
		wageOnce(afterMarch, "p-3", "c-lab", a, "2026-03", 1_500),
		// A wage that is not the last of its period, then the last one.
		wageVouch(bureau, "c-lab", "2026-04", w3, w4),
		wageOnce(t0, "p-4", "c-lab", w3, "2026-04", 5_000),
		wageOnce(t0, "p-5", "c-lab", w4, "2026-04", 5_000),
		open(bureau, "w-dave", funds.OwnerPerson, dave, funds.KindWorker),
	), funds.TypeAidVouch, funds.TypeWageVouch, funds.TypeAidPay, funds.TypeWagePay, funds.TypeGuaranteeRelease)
}

// TestVouchFitsALeaf: the largest vouches the parsers allow fit in one
// signed statement.
func TestVouchFitsALeaf(t *testing.T) {
	many := func(n int) []string {
		cs := make([]string, n)
		for i := range cs {
			cs[i] = once(fmt.Sprint("many-", i))
		}
		slices.Sort(cs)
		return cs
	}
	for _, e := range []rule.Entry{
		entry(civil, funds.TypeAidVouch, funds.AidVouchBody{Grade: strings.Repeat("g", 64), Period: "2026-03", Commitments: many(funds.MaxVouch)}),
		entry(bureau, funds.TypeWageVouch, funds.WageVouchBody{ContractID: strings.Repeat("c", 64), Period: "2026-03", Commitments: many(funds.MaxWorkers)}),
	} {
		_, leaf := signed(t, e)
		if len(leaf) > govlog.MaxStatementSize {
			t.Errorf("%s: %d bytes", e.Type, len(leaf))
		}
		t.Logf("%s: %d bytes signed", e.Type, len(leaf))
	}
}

// BenchmarkAidVouch applies a vouch of MaxVouch commitments, in memory:
// the rules' cost of one full statement (3 reads and 1 write per
// commitment).
func BenchmarkAidVouch(b *testing.B) {
	cs := make([]string, funds.MaxVouch)
	for i := range cs {
		cs[i] = once(fmt.Sprint("bench-", i))
	}
	slices.Sort(cs)
	setup := ruletest.State{}
	es := base()
	for i := range funds.MaxVouch {
		id := fmt.Sprint("many-", i)
		es = append(es, open(civil, "b-"+id, funds.OwnerPerson, person(id), funds.KindBeneficiary), benef(civil, "ben-"+id, person(id), "dibao", "b-"+id))
	}
	applyAll(b, setup, es)
	e := aidVouch(civil, "dibao", "2026-03", cs...)
	r := funds.New()
	b.ResetTimer()
	for range b.N {
		if err := r.Apply(context.Background(), ruletest.NewOverlay(setup), e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/funds.MaxVouch, "ns/commitment")
}
