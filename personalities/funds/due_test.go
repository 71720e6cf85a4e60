package funds_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

func dueReleases(t *testing.T, st rule.State, now time.Time) []funds.ReleaseBody {
	t.Helper()
	got, err := funds.DueReleases(context.Background(), st, now)
	if err != nil {
		t.Fatalf("DueReleases(%s): %v", now, err)
	}
	return got
}

func duePeriods(t *testing.T, st ruletest.State) []string {
	t.Helper()
	var ps []string
	if v, ok := st[funds.DuePeriodsKey]; ok {
		if err := json.Unmarshal(v, &ps); err != nil {
			t.Fatal(err)
		}
	}
	return ps
}

// TestGuaranteeRelease walks the life of a labour contract: the deadline
// passes with wages unpaid, a late wage comes in, the release pays the rest,
// and a fully paid period never falls due.
func TestGuaranteeRelease(t *testing.T) {
	ctx := context.Background()
	r := funds.New()
	st := ruletest.State{}
	applyAll(t, st, base())

	if got := dueReleases(t, st, t0); len(got) != 0 {
		t.Errorf("DueReleases before any deadline = %+v", got)
	}
	// Statement times are whole seconds: at the deadline plus a fraction,
	// a release would be dated the deadline itself, which Apply refuses.
	if got := dueReleases(t, st, marchDeadline.Add(999*time.Millisecond)); len(got) != 0 {
		t.Errorf("DueReleases at the deadline = %+v", got)
	}
	if got := dueReleases(t, st, afterMarch); !reflect.DeepEqual(got, []funds.ReleaseBody{bothShort}) {
		t.Errorf("DueReleases after the March deadline = %+v, want %+v", got, bothShort)
	}
	// Pure: asking again, as a restarted scheduler would, gives the same.
	if got := dueReleases(t, st, afterMarch.Add(time.Hour)); !reflect.DeepEqual(got, []funds.ReleaseBody{bothShort}) {
		t.Errorf("DueReleases again = %+v", got)
	}

	// Alice is paid late; the release computed before that is now refused,
	// and the new one pays Bob in full, since the deposit covers him.
	applyAll(t, st, []rule.Entry{wageAt(afterMarch, "p-1", "c-lab", alice, "2026-03", 5_000, "co-1", "w-alice")})
	err := r.Apply(ctx, ruletest.NewOverlay(st), release(afterMarch, bothShort))
	if !errors.Is(err, rule.ErrRuleViolation) {
		t.Errorf("stale release = %v, want ErrRuleViolation", err)
	}
	due := dueReleases(t, st, afterMarch)
	if !reflect.DeepEqual(due, []funds.ReleaseBody{bobOnly}) {
		t.Fatalf("DueReleases after Alice's late wage = %+v, want %+v", due, bobOnly)
	}
	applyAll(t, st, []rule.Entry{release(afterMarch, due[0])})
	if err := r.Apply(ctx, ruletest.NewOverlay(st), release(afterMarch.Add(time.Minute), due[0])); !errors.Is(err, rule.ErrAlreadyExists) {
		t.Errorf("release written twice = %v, want ErrAlreadyExists", err)
	}
	if got := dueReleases(t, st, afterMarch); len(got) != 0 {
		t.Errorf("DueReleases after the release = %+v", got)
	}
	for id, want := range map[string]int64{"escrow-1": 1_000, "w-bob": 5_000, "w-alice": 5_000, "co-1": 189_000} {
		if got, _, _ := funds.Balance(ctx, st, id); got != want {
			t.Errorf("Balance(%s) = %d, want %d", id, got, want)
		}
	}
	p, _, _ := funds.Period(ctx, st, "c-lab", "2026-03")
	if p.Release == nil || p.Release.Share != 5_000 || p.Release.Workers != 1 || p.Release.Escrow != "escrow-1" {
		t.Errorf("Period(c-lab, 2026-03) = %+v", p)
	}
	w, ok, _ := funds.Wage(ctx, st, "c-lab", "2026-03", bob)
	if !ok || w.Paid != 5_000 || w.FromGuarantee != 5_000 || w.Release != p.Release.LeafHash {
		t.Errorf("Wage(bob, 2026-03) = %+v, %v", w, ok)
	}
	if prog, _, _ := funds.Progress(ctx, st, "c-lab"); prog.Held != 1_000 || prog.Released != 5_000 || prog.Paid != 5_000 {
		t.Errorf("Progress(c-lab) = %+v", prog)
	}
	if ps := duePeriods(t, st); !reflect.DeepEqual(ps, []string{"2026-04"}) {
		t.Errorf("due periods = %q, want [2026-04]", ps)
	}

	// April is paid on time, so its period leaves the due lists and never
	// falls due.
	applyAll(t, st, []rule.Entry{
		wageAt(afterMarch, "p-2", "c-lab", alice, "2026-04", 5_000, "co-1", "w-alice"),
		wageAt(afterMarch, "p-3", "c-lab", bob, "2026-04", 5_000, "co-1", "w-bob"),
	})
	if ps := duePeriods(t, st); len(ps) != 0 {
		t.Errorf("due periods = %q, want none", ps)
	}
	if got := dueReleases(t, st, aprilDeadline.Add(time.Hour)); len(got) != 0 {
		t.Errorf("DueReleases after April = %+v", got)
	}
}

// TestDueReleasesOrder: several contracts fall due; they come sorted by
// deadline, a later period's contract can fall due first, and a contract
// without deposit gets a release of zero shares.
func TestDueReleasesOrder(t *testing.T) {
	st := ruletest.State{}
	applyAll(t, st, after(
		labour(bureau, "c-early", "co-1", 1_000, 1_000, []string{carol}, funds.PayPeriod{Period: "2026-04", PayDeadline: "2026-04-05T00:00:00Z"}),
		labour(bureau, "c-late", "co-2", 1_000, 1_000, []string{carol}, funds.PayPeriod{Period: "2026-03", PayDeadline: "2026-04-20"}),
	))
	got := dueReleases(t, st, time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC))
	want := []funds.ReleaseBody{
		{ContractID: "c-early", Period: "2026-04", Payments: []funds.ReleasePayment{{Worker: carol, To: "w-carol"}}},
		bothShort,
		{ContractID: "c-late", Period: "2026-03", Payments: []funds.ReleasePayment{{Worker: carol, To: "w-carol"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DueReleases = %+v\nwant %+v", got, want)
	}
	now := time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)
	for _, b := range got {
		applyAll(t, st, []rule.Entry{release(now, b)})
	}
	if got := dueReleases(t, st, now); len(got) != 0 {
		t.Errorf("DueReleases after releasing all = %+v", got)
	}
	if ps := duePeriods(t, st); !reflect.DeepEqual(ps, []string{"2026-04"}) {
		t.Errorf("due periods = %q, want c-lab's April", ps)
	}
}

func TestDueReleasesCorruptState(t *testing.T) {
	for name, corrupt := range map[string]func(ruletest.State){
		"periods not JSON":   func(m ruletest.State) { m[funds.DuePeriodsKey] = []byte("[") },
		"period malformed":   func(m ruletest.State) { m[funds.DuePeriodsKey] = []byte(`["2026-13"]`) },
		"deadline malformed": func(m ruletest.State) { m["due/2026-03"] = []byte(`[{"contract":"c-lab","deadline":"x"}]`) },
		"contract missing":   func(m ruletest.State) { delete(m, "contract/c-lab") },
		"unpaid count off": func(m ruletest.State) {
			m["period/c-lab/2026-03"] = []byte(`{"deadline":"2026-04-10T23:59:59Z","unpaid":1}`)
		},
		"worker index missing": func(m ruletest.State) { delete(m, funds.WorkerKey(bob)) },
	} {
		t.Run(name, func(t *testing.T) {
			st := ruletest.State{}
			applyAll(t, st, base())
			corrupt(st)
			if got, err := funds.DueReleases(context.Background(), st, afterMarch); err == nil || wrapsSentinel(err) {
				t.Errorf("DueReleases = %+v, %v; want a state error", got, err)
			}
		})
	}
}
