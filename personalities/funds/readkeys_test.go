package funds_test

import (
	"context"
	"slices"
	"testing"

	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// TestReadKeysCoverAdmittedEntries: on every path that admits an entry,
// Apply reads no key that ReadKeys did not name, so the batch prefetch
// serves every read of the hot path.
func TestReadKeysCoverAdmittedEntries(t *testing.T) {
	checkReadKeys(t, after(
		// A wage that is not the last of its period, then the last one,
		// which takes the period off the due lists.
		wage("p-1", "c-lab", alice, "2026-04", 5_000, "co-1", "w-alice"),
		wage("p-2", "c-lab", bob, "2026-04", 5_000, "co-1", "w-bob"),
		lodge("g-2", "c-lab", "co-1", "escrow-1", 1_000),
		// A release that leaves a remainder, and the rest of a wage.
		release(afterMarch, funds.ReleaseBody{ContractID: "c-lab", Period: "2026-03", Escrow: "escrow-1", Payments: []funds.ReleasePayment{
			{Worker: alice, To: "w-alice", Amount: 3_500}, {Worker: bob, To: "w-bob", Amount: 3_500}}}),
		wageAt(afterMarch, "p-3", "c-lab", alice, "2026-03", 1_500, "co-1", "w-alice"),
		// A release with nothing to pay from.
		labour(bureau, "c-lab3", "co-1", 1_000, 1_000, []string{carol}, funds.PayPeriod{Period: "2026-03", PayDeadline: "2026-04-01"}),
		release(afterMarch, funds.ReleaseBody{ContractID: "c-lab3", Period: "2026-03", Payments: []funds.ReleasePayment{{Worker: carol, To: "w-carol"}}}),
		xfer(bureau, "t-2", "budget-1", "co-1", 1, "c-works"),
		alloc("a-3", "budget-1", 7),
		grade(civil, "dibao", 1_300),
		aid(civil, "p-aid-1", "ben-dave", "dibao", "2026-03", "budget-aid", "b-dave", 1_300),
		open(civil, "b-erin", funds.OwnerPerson, erin, funds.KindBeneficiary),
		benef(civil, "ben-erin", erin, "dibao", "b-erin"),
		open(bureau, "w-erin", funds.OwnerPerson, erin, funds.KindWorker),
	), funds.TypeAccountOpen, funds.TypeAllocate, funds.TypeContractRegister, funds.TypeTransfer,
		funds.TypeWagePay, funds.TypeGuaranteeLodge, funds.TypeGuaranteeRelease, funds.TypeAidGrade,
		funds.TypeBeneficiaryRegister, funds.TypeAidPay)
	r := funds.New()
	for _, e := range []rule.Entry{rawEntry(bureau, funds.TypeTransfer, "{"), rawEntry(bureau, "funds.mint", "{}")} {
		if got := r.ReadKeys(e); got != nil {
			t.Errorf("ReadKeys of %s %s = %q, want none", e.Type, e.Body, got)
		}
	}
}

// checkReadKeys admits entries, checking that each reads no key that
// ReadKeys did not name, and that they include each of types.
func checkReadKeys(t *testing.T, entries []rule.Entry, types ...string) {
	t.Helper()
	ctx := context.Background()
	st := &ruletest.Probe{State: ruletest.State{}}
	r := funds.New()
	seen := map[string]bool{}
	for _, e := range entries {
		st.Read = nil
		keys := r.ReadKeys(e)
		if err := r.Apply(ctx, st, e); err != nil {
			t.Fatalf("%s %s: %v", e.Type, e.Body, err)
		}
		seen[e.Type] = true
		for _, k := range st.Read {
			if !slices.Contains(keys, k) {
				t.Errorf("%s read %q, not among ReadKeys %q", e.Type, k, keys)
			}
		}
	}
	for _, typ := range types {
		if !seen[typ] {
			t.Errorf("no %s in the test", typ)
		}
	}
}
