package funds_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// world drives random statements at the rules, as agencies and the release
// scheduler would, and keeps the ones admitted: the log.
type world struct {
	t        *testing.T
	rng      *rand.Rand
	r        *funds.Rules
	st       ruletest.State
	now      time.Time
	log      []rule.Entry
	refused  int
	n        int
	works    []string
	labour   []string
	benefs   []string
	onceAid  []string // one-time commitments vouched for aid
	releases int
}

// fresh returns n new one-time commitments, sorted as a vouch lists them.
func (w *world) fresh(n int) []string {
	cs := make([]string, n)
	for i := range cs {
		cs[i] = person(w.id("once"))
	}
	slices.Sort(cs)
	return cs
}

var (
	budgets    = []string{"B0", "B1"}
	companies  = []string{"C0", "C1", "C2"}
	escrows    = []string{"E0", "E1"}
	grades     = []string{"g0", "g1", "g2"}
	workerPool = []string{person("p0"), person("p1"), person("p2"), person("p3"), person("p4"), person("p5")}
)

func (w *world) submit(e rule.Entry) bool {
	w.t.Helper()
	ctx := context.Background()
	ov := ruletest.NewOverlay(w.st)
	if err := w.r.Apply(ctx, ov, e); err != nil {
		if !wrapsSentinel(err) {
			w.t.Fatalf("%s %s: %v, which wraps no rule sentinel", e.Type, e.Body, err)
		}
		if ov.Puts() != 0 {
			w.t.Fatalf("%s refused (%v) after %d Puts", e.Type, err, ov.Puts())
		}
		w.refused++
		return false
	}
	if err := ov.Commit(ctx); err != nil {
		w.t.Fatal(err)
	}
	w.log = append(w.log, e)
	return true
}

func (w *world) id(prefix string) string {
	w.n++
	return fmt.Sprintf("%s%d", prefix, w.n)
}

func (w *world) pick(xs []string) string { return xs[w.rng.IntN(len(xs))] }

func (w *world) amount(maxAmount int64) int64 { return 1 + w.rng.Int64N(maxAmount) }

func (w *world) at(agency, typ string, body any) rule.Entry { return entryAt(w.now, agency, typ, body) }

func (w *world) setup() {
	for _, b := range budgets {
		w.submit(w.at(bureau, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: b, OwnerKind: funds.OwnerAgency, Owner: bureau, Kind: funds.KindBudget}))
	}
	w.submit(w.at(civil, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: "BA", OwnerKind: funds.OwnerAgency, Owner: civil, Kind: funds.KindBudget}))
	for i, c := range companies {
		w.submit(w.at(bureau, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: c, OwnerKind: funds.OwnerCompany, Owner: fmt.Sprintf("co-%d", i), Kind: funds.KindCompany}))
	}
	for _, e := range escrows {
		w.submit(w.at(bureau, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: e, OwnerKind: funds.OwnerCompany, Owner: "bank-" + e, Kind: funds.KindEscrow}))
	}
	for i, p := range workerPool {
		w.submit(w.at(bureau, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: fmt.Sprintf("W%d", i), OwnerKind: funds.OwnerPerson, Owner: p, Kind: funds.KindWorker}))
	}
	for i := range 4 {
		w.submit(w.at(civil, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: fmt.Sprintf("Q%d", i), OwnerKind: funds.OwnerPerson, Owner: person(fmt.Sprint("q", i)), Kind: funds.KindBeneficiary}))
	}
}

func (w *world) step() {
	ctx := context.Background()
	switch op := w.rng.IntN(100); {
	case op < 10: // allocation, now and then to a company (refused)
		to := w.pick(append(slices.Clone(budgets), "BA"))
		if op == 0 {
			to = w.pick(companies)
		}
		w.submit(w.at(treasury, funds.TypeAllocate, funds.AllocateBody{AllocationID: w.id("A"), To: to, Amount: w.amount(2_000_000), BudgetLine: "line"}))
	case op < 15:
		payers := append(slices.Clone(budgets), companies...)
		id := w.id("K")
		if w.submit(w.at(bureau, funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: id, Kind: funds.ContractWorks,
			Payer: w.pick(payers), Payee: w.pick(payers), Ceiling: w.amount(3_000_000)})) {
			w.works = append(w.works, id)
		}
	case op < 35: // transfers, sometimes overspending or over the ceiling
		if len(w.works) == 0 {
			return
		}
		id := w.pick(w.works)
		k, _, _ := funds.Contract(ctx, w.st, id)
		from, to := k.Payer, k.Payee
		if op == 15 {
			from, to = to, from
		}
		w.submit(w.at(bureau, funds.TypeTransfer, funds.TransferBody{TransferID: w.id("T"), From: from, To: to, Amount: w.amount(400_000), ContractID: id}))
	case op < 42:
		id := w.id("L")
		workers := slices.Clone(workerPool)
		w.rng.Shuffle(len(workers), func(i, j int) { workers[i], workers[j] = workers[j], workers[i] })
		workers = workers[:1+w.rng.IntN(4)]
		wage := w.amount(5_000)
		var schedule []funds.PayPeriod
		month := time.Date(w.now.Year(), w.now.Month(), 1, 0, 0, 0, 0, time.UTC)
		for i := range 1 + w.rng.IntN(3) {
			p := month.AddDate(0, i, 0)
			deadline := p.AddDate(0, 1, 9).Add(time.Duration(w.rng.IntN(24)) * time.Hour)
			schedule = append(schedule, funds.PayPeriod{Period: p.Format("2006-01"), PayDeadline: deadline.Format(time.RFC3339)})
		}
		ceiling := wage * int64(len(workers)*len(schedule))
		if w.submit(w.at(bureau, funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: id, Kind: funds.ContractLabour,
			Payer: w.pick(companies), Ceiling: ceiling, Workers: workers, WagePerPeriod: wage, Schedule: schedule})) {
			w.labour = append(w.labour, id)
		}
	case op < 62: // wages, most of them due
		if len(w.labour) == 0 {
			return
		}
		id := w.pick(w.labour)
		k, _, _ := funds.Contract(ctx, w.st, id)
		period := k.Schedule[w.rng.IntN(len(k.Schedule))].Period
		if w.onceWage(id, period, k) {
			return
		}
		worker := w.pick(k.Workers)
		if op == 42 {
			worker = w.pick(workerPool)
		}
		paid, _, _ := funds.Wage(ctx, w.st, id, period, worker)
		to, _, _ := funds.WorkerAccount(ctx, w.st, worker)
		w.submit(w.at(bureau, funds.TypeWagePay, funds.WagePayBody{PaymentID: w.id("P"), ContractID: id, Worker: worker, Period: period,
			Amount: max(k.WagePerPeriod-paid.Paid, 1), From: k.Payer, To: to}))
	case op < 70:
		if len(w.labour) == 0 {
			return
		}
		id := w.pick(w.labour)
		escrow := w.pick(escrows)
		if p, _, _ := funds.Progress(ctx, w.st, id); p.Escrow != "" && op != 62 {
			escrow = p.Escrow
		}
		w.submit(w.at(bureau, funds.TypeGuaranteeLodge, funds.GuaranteeLodgeBody{GuaranteeID: w.id("G"), ContractID: id,
			From: w.pick(companies), Escrow: escrow, Amount: w.amount(20_000)}))
	case op < 73:
		w.submit(w.at(civil, funds.TypeAidGrade, funds.AidGradeBody{Grade: w.pick(grades), AmountPerPeriod: w.amount(3_000)}))
	case op < 77:
		i := w.rng.IntN(4)
		id := w.id("BEN")
		if w.submit(w.at(civil, funds.TypeBeneficiaryRegister, funds.BeneficiaryRegisterBody{BeneficiaryID: id,
			Credential: person(fmt.Sprint("q", i)), Grade: w.pick(grades), Account: fmt.Sprintf("Q%d", i)})) {
			w.benefs = append(w.benefs, id)
		}
	case op < 87:
		if w.rng.IntN(2) == 0 {
			w.onceAidStep()
			return
		}
		if len(w.benefs) == 0 {
			return
		}
		id := w.pick(w.benefs)
		b, _, _ := funds.Beneficiary(ctx, w.st, id)
		g, _, _ := funds.Grade(ctx, w.st, civil, b.Grade)
		period := w.now.AddDate(0, -w.rng.IntN(2), 0).Format("2006-01")
		w.submit(w.at(civil, funds.TypeAidPay, funds.AidPayBody{PaymentID: w.id("P"), BeneficiaryID: id, Grade: b.Grade, Period: period,
			From: "BA", To: b.Account, Amount: g.AmountPerPeriod}))
	case op < 89: // garbage
		w.submit(rawEntryAt(w.now, bureau, funds.TypeTransfer, `{"amount":-1}`))
	default: // time passes, and the scheduler writes what is due
		w.now = w.now.Add(time.Duration(1+w.rng.IntN(20*24)) * time.Hour)
		due, err := funds.DueReleases(ctx, w.st, w.now)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, b := range due {
			if !w.submit(entryAt(w.now, engine, funds.TypeGuaranteeRelease, b)) {
				w.t.Fatalf("DueReleases proposed %+v, which Apply refuses", b)
			}
			w.releases++
		}
	}
}

// onceWage, now and then, vouches for the unpaid workers of a period (at
// times one too many), or pays a commitment vouched for in it; it reports
// whether it submitted anything.
func (w *world) onceWage(contract, period string, k funds.ContractRecord) bool {
	ctx := context.Background()
	per, _, _ := funds.Period(ctx, w.st, contract, period)
	if per.Vouch == "" {
		if per.Release != nil || per.Unpaid == 0 || w.rng.IntN(3) > 0 {
			return false
		}
		n := per.Unpaid
		if w.rng.IntN(10) == 0 {
			n++
		}
		w.submit(w.at(bureau, funds.TypeWageVouch, funds.WageVouchBody{ContractID: contract, Period: period, Commitments: w.fresh(n)}))
		return true
	}
	vouched, _, _ := funds.WageVouch(ctx, w.st, contract, period)
	c := w.pick(vouched)
	paid, _, _ := funds.Wage(ctx, w.st, contract, period, c)
	w.submit(w.at(bureau, funds.TypeWagePay, funds.WagePayBody{PaymentID: w.id("P"), ContractID: contract, Worker: c, Period: period,
		Amount: max(k.WagePerPeriod-paid.Paid, 1), From: k.Payer}))
	return true
}

// onceAidStep vouches for a fresh commitment at a grade (refused past the
// beneficiaries registered with it), or pays one vouched for, now and then
// for another period or twice.
func (w *world) onceAidStep() {
	ctx := context.Background()
	if len(w.onceAid) == 0 || w.rng.IntN(2) == 0 {
		period := w.now.AddDate(0, -w.rng.IntN(2), 0).Format("2006-01")
		cs := w.fresh(1 + w.rng.IntN(2))
		if w.submit(w.at(civil, funds.TypeAidVouch, funds.AidVouchBody{Grade: w.pick(grades), Period: period, Commitments: cs})) {
			w.onceAid = append(w.onceAid, cs...)
		}
		return
	}
	c := w.pick(w.onceAid)
	o, _, _ := funds.Once(ctx, w.st, c)
	g, _, _ := funds.Grade(ctx, w.st, civil, o.Grade)
	period := o.Period
	if w.rng.IntN(8) == 0 {
		period = w.now.Format("2006-01")
	}
	w.submit(w.at(civil, funds.TypeAidPay, funds.AidPayBody{PaymentID: w.id("P"), Recipient: c, Grade: o.Grade, Period: period,
		From: "BA", Amount: g.AmountPerPeriod}))
}

// TestReplay checks what monitors rely on: applying the log from an empty
// state, twice, gives the very state admission built, byte for byte; and
// the books balance all along.
func TestReplay(t *testing.T) {
	ctx := context.Background()
	allSeeds := make([]map[string]int, 16)
	defer func() {
		// Over all seeds, every path of one-time commitments is taken.
		total := map[string]int{}
		for _, m := range allSeeds {
			for k, n := range m {
				total[k] += n
			}
		}
		for _, k := range []string{funds.TypeWageVouch, funds.TypeAidVouch, "aid by commitment", "wage by commitment", "release by commitment"} {
			if total[k] == 0 {
				t.Errorf("no %s admitted in any seed: %v", k, total)
			}
		}
	}()
	for seed := range uint64(16) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			w := &world{t: t, rng: rand.New(rand.NewPCG(seed, 0x5eed)), r: funds.New(), st: ruletest.State{}, now: t0}
			w.setup()
			for range 400 {
				w.step()
			}
			if len(w.log) < 150 || w.releases == 0 {
				t.Errorf("only %d admitted (%d refused), %d releases: the test exercises too little", len(w.log), w.refused, w.releases)
			}
			byType := map[string]int{}
			for _, e := range w.log {
				byType[e.Type]++
				if b, err := funds.ParseAidPayBody(e.Body); err == nil && b.Recipient != "" {
					byType["aid by commitment"]++
				}
				if b, err := funds.ParseWagePayBody(e.Body); err == nil && b.To == "" {
					byType["wage by commitment"]++
				}
				if b, err := funds.ParseReleaseBody(e.Body); err == nil && b.Payments[0].To == "" {
					byType["release by commitment"]++
				}
			}
			t.Logf("%d admitted, %d refused, %d releases; %v", len(w.log), w.refused, w.releases, byType)
			allSeeds[seed] = byType

			supply, err := funds.TotalSupply(ctx, w.st)
			if err != nil {
				t.Fatal(err)
			}
			if sum := sumBalances(t, w.st); sum != supply.Allocated {
				t.Errorf("balances sum to %d, allocations to %d", sum, supply.Allocated)
			}
			checkContracts(t, w.st)
			checkDueIndex(t, w.st)

			for range 2 {
				if !ruletest.ReplayEqualsState(t, funds.New(), w.log, w.st) {
					t.FailNow()
				}
			}
		})
	}
}

// checkContracts: no contract pays past its ceiling, deposits add up, and
// each escrow account holds exactly the deposits of its contracts.
func checkContracts(t *testing.T, st ruletest.State) {
	t.Helper()
	ctx := context.Background()
	held := map[string]int64{}
	for k := range st {
		id, ok := strings.CutPrefix(k, "contract/")
		if !ok || strings.Contains(id, "/") {
			continue
		}
		c, _, _ := funds.Contract(ctx, st, id)
		p, ok, err := funds.Progress(ctx, st, id)
		if err != nil || !ok {
			t.Fatalf("Progress(%s) = %v, %v", id, ok, err)
		}
		if p.Paid > c.Ceiling || p.Held != p.Lodged-p.Released || p.Held < 0 {
			t.Errorf("contract %s (ceiling %d): %+v", id, c.Ceiling, p)
		}
		held[p.Escrow] += p.Held
	}
	for _, e := range escrows {
		if b, _, _ := funds.Balance(ctx, st, e); b != held[e] {
			t.Errorf("escrow %s holds %d, its contracts' deposits add up to %d", e, b, held[e])
		}
	}
}

// checkDueIndex: a labour-contract period is on the due lists exactly when
// it has unpaid workers and no release, and the lists of periods match.
func checkDueIndex(t *testing.T, st ruletest.State) {
	t.Helper()
	listed := map[string]bool{}
	var nonEmpty []string
	for k, v := range st {
		p, ok := strings.CutPrefix(k, "due/")
		if !ok || k == funds.DuePeriodsKey {
			continue
		}
		var items []funds.DueItem
		if err := json.Unmarshal(v, &items); err != nil {
			t.Fatal(err)
		}
		if len(items) > 0 {
			nonEmpty = append(nonEmpty, p)
		}
		for _, it := range items {
			listed[it.Contract+"/"+p] = true
		}
	}
	slices.Sort(nonEmpty)
	if ps := duePeriods(t, st); !slices.Equal(ps, nonEmpty) {
		t.Errorf("%s = %q, non-empty lists %q", funds.DuePeriodsKey, ps, nonEmpty)
	}
	for k, v := range st {
		cp, ok := strings.CutPrefix(k, "period/")
		if !ok {
			continue
		}
		var rec funds.PeriodRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			t.Fatal(err)
		}
		if want := rec.Unpaid > 0 && rec.Release == nil; listed[cp] != want {
			t.Errorf("%s: %+v, listed %v", k, rec, listed[cp])
		}
		delete(listed, cp)
	}
	for cp := range listed {
		t.Errorf("%s listed as due but has no period record", cp)
	}
}
