package ruletest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

func TestAdmit(t *testing.T) {
	ctx := context.Background()
	d := newToy()
	st := ruletest.State{}
	e, err := ruletest.Admit(ctx, d, st, set("city-a", "k", "v"), nil)
	if err != nil || e.Agency != "city-a" || string(st["by/k"]) != "city-a" {
		t.Fatalf("Admit with the entry's agency = %+v, %v; state %q", e, err, st)
	}
	e, err = ruletest.Admit(ctx, d, st, set("city-a", "k2", "v"), ruletest.AsAgency("city-b"))
	if err != nil || e.Agency != "city-b" || string(st["by/k2"]) != "city-b" {
		t.Fatalf("Admit as city-b = %+v, %v; state %q", e, err, st)
	}
	before := st.Clone()
	if _, err := ruletest.Admit(ctx, d, st, set("city-a", "k", "again"), nil); !errors.Is(err, rule.ErrAlreadyExists) {
		t.Errorf("Admit of a used key = %v", err)
	}
	sloppy := set("city-a", "k3", "v")
	sloppy.Type = "toy.sloppy"
	if _, err := ruletest.Admit(ctx, d, st, sloppy, nil); !errors.Is(err, rule.ErrRuleViolation) {
		t.Errorf("Admit of sloppy = %v", err)
	}
	refuse := func(string) (rule.Signers, error) { return rule.Signers{}, errBroken }
	if _, err := ruletest.Admit(ctx, d, st, set("city-a", "k4", "v"), refuse); !errors.Is(err, rule.ErrNotAuthorized) || !errors.Is(err, errBroken) {
		t.Errorf("Admit refused by the registry = %v", err)
	}
	if diff := ruletest.Diff(before, st); diff != "" {
		t.Errorf("refused entries changed the state:\n%s", diff)
	}
	failing := &ruletest.Probe{State: ruletest.State{}, FailPut: 2}
	if _, err := ruletest.Admit(ctx, d, failing, set("city-a", "k", "v"), nil); !errors.Is(err, ruletest.ErrInjected) || rule.IsRefusal(err) {
		t.Errorf("Admit with a failing commit = %v", err)
	}
}

func TestApply(t *testing.T) {
	d := newToy()
	st := ruletest.State{}
	f := newFakeT(t).run(func(t testing.TB) {
		got := ruletest.Apply(t, d, st, set("a", "k1", "v"), set("b", "k2", "v"))
		if len(got) != 2 || got[1].Agency != "b" {
			t.Errorf("Apply = %+v", got)
		}
	})
	wantFailure(t, f, "")
	f = newFakeT(t).run(func(t testing.TB) {
		ruletest.Apply(t, d, st, set("a", "k3", "v"), set("a", "k1", "again"), set("a", "k4", "v"))
	})
	wantFailure(t, f, `entry 1 (toy.set {"key":"k1","value":"again"}): already exists`)
	if _, ok := st["kv/k4"]; ok || !f.fatal {
		t.Errorf("Apply went on after a refusal (fatal %v): %q", f.fatal, st)
	}
}

func TestCheckApply(t *testing.T) {
	base := ruletest.State{}
	ruletest.Apply(t, newToy(), base, set("a", "k", "v"))
	of := func(typ string, e rule.Entry) rule.Entry { e.Type = typ; return e }
	tests := []struct {
		name    string
		d       rule.Domain
		e       rule.Entry
		wantErr error
		report  string // a substring of what CheckApply reports; "": nothing
	}{
		{name: "admitted", d: newToy(), e: set("a", "k2", "v")},
		{name: "refused", d: newToy(), e: set("a", "k", "v"), wantErr: rule.ErrAlreadyExists},
		{name: "unknown type", d: newToy(), e: of("toy.nope", set("a", "k2", "v")), wantErr: rule.ErrUnknownType},
		{name: "malformed body", d: newToy(), e: rule.Entry{Type: "toy.set", Body: json.RawMessage(`{"key":`)}, wantErr: rule.ErrInvalidBody},
		{name: "refused after a Put", d: newToy(), e: of("toy.sloppy", set("a", "k2", "v")), wantErr: rule.ErrRuleViolation,
			report: "toy.sloppy refused (rule violation: sloppy) after 1 Puts"},
		{name: "refused after a Put changes the state", d: newToy(), e: of("toy.sloppy", set("a", "k2", "v")), wantErr: rule.ErrRuleViolation,
			report: `but changed the state:` + "\n" + `"kv/k2": unexpected "v"`},
		{name: "panics", d: newToy(), e: of("toy.panic", set("a", "k2", "v")), report: "the toy rules panicked on toy.panic"},
		{name: "refused with no sentinel", d: brokenToy{newToy()}, e: set("a", "k2", "v"), wantErr: errBroken, report: "which wraps no rule sentinel"},
		{name: "another effect without an overlay", d: readsBackToy{newToy()}, e: set("a", "k2", "v"),
			report: `another effect on the state itself than through an overlay`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := base.Clone()
			var ov *ruletest.Overlay
			var err error
			f := newFakeT(t).run(func(ft testing.TB) { ov, err = ruletest.CheckApply(ft, tt.d, st, tt.e) })
			wantFailure(t, f, tt.report)
			if f.fatal {
				return
			}
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("CheckApply = %v, want %v", err, tt.wantErr)
			}
			if err != nil && !ruletest.Equal(st, base) || err == nil && (ov.Puts() == 0 || ruletest.Equal(st, base)) {
				t.Errorf("after CheckApply = %v: state %q", err, st)
			}
		})
	}
}

// brokenToy refuses toy.set with an error that is no refusal.
type brokenToy struct{ *toy }

func (brokenToy) Apply(context.Context, rule.State, rule.Entry) error { return errBroken }

// readsBackToy writes a key only if it can read back another it wrote:
// something an overlay always allows, but not every state would.
type readsBackToy struct{ *toy }

func (d readsBackToy) Apply(ctx context.Context, st rule.State, e rule.Entry) error {
	if err := d.toy.Apply(ctx, st, e); err != nil {
		return err
	}
	if _, ok := st.(*ruletest.Overlay); ok {
		return st.Put(ctx, "overlay", []byte("seen"))
	}
	return nil
}

func TestCheckEntries(t *testing.T) {
	of := func(typ string, e rule.Entry) rule.Entry { e.Type = typ; return e }
	tests := []struct {
		name    string
		entries []rule.Entry
		wantErr error
		wantMsg string
		report  string // a substring of what CheckEntries reports; "": nothing
	}{
		{name: "admitted", entries: []rule.Entry{set("a", "k1", "v"), set("a", "k2", "v")}},
		{name: "refused as expected", entries: []rule.Entry{set("a", "k1", "v"), set("a", "k1", "v")}, wantErr: rule.ErrAlreadyExists, wantMsg: "key k1"},
		{name: "refused unexpectedly", entries: []rule.Entry{set("a", "k1", "v"), set("a", "k1", "v")},
			report: "Apply = already exists: key k1, want <nil>"},
		{name: "admitted unexpectedly", entries: []rule.Entry{set("a", "k1", "v")}, wantErr: rule.ErrAlreadyExists,
			report: "Apply = <nil>, want already exists"},
		{name: "another refusal", entries: []rule.Entry{set("a", "k1", "v"), set("a", "k1", "v")}, wantErr: rule.ErrRuleViolation,
			report: "Apply = already exists: key k1, want rule violation"},
		{name: "another message", entries: []rule.Entry{set("a", "k1", "v"), set("a", "k1", "v")}, wantErr: rule.ErrAlreadyExists, wantMsg: "key k2",
			report: `Apply = "already exists: key k1", want it to contain "key k2"`},
		{name: "admitted without a write", entries: []rule.Entry{of("toy.noop", set("a", "k1", "v"))}, report: "admitted statement wrote nothing"},
		{name: "setup refused", entries: []rule.Entry{set("a", "k1", "v"), set("a", "k1", "v"), set("a", "k2", "v")}, report: "entry 1 (toy.set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeT(t).run(func(ft testing.TB) {
				ruletest.CheckEntries(ft, newToy(), ruletest.State{}, tt.entries, tt.wantErr, tt.wantMsg)
			})
			wantFailure(t, f, tt.report)
		})
	}
}

// masksFailures reports a failure of the state as a refusal.
type masksFailures struct{ *toy }

func (d masksFailures) Apply(ctx context.Context, st rule.State, e rule.Entry) error {
	err := d.toy.Apply(ctx, st, e)
	if err != nil && !rule.IsRefusal(err) {
		return fmt.Errorf("%w: %v", rule.ErrRuleViolation, err)
	}
	return err
}

func TestCheckStorageFailures(t *testing.T) {
	st := ruletest.State{}
	ruletest.Apply(t, newToy(), st, set("a", "k1", "v"))
	f := newFakeT(t).run(func(ft testing.TB) { ruletest.CheckStorageFailures(ft, newToy(), st, set("a", "k2", "v")) })
	wantFailure(t, f, "")
	f = newFakeT(t).run(func(ft testing.TB) {
		ruletest.CheckStorageFailures(ft, masksFailures{newToy()}, st, set("a", "k2", "v"))
	})
	wantFailure(t, f, "toy.set, failing access 1 of 3: Admit = rule violation: couldn't read")
	if n := strings.Count(f.failed(), "failing access"); n != 3 {
		t.Errorf("%d failures reported, want one per access:\n%s", n, f.failed())
	}
	f = newFakeT(t).run(func(ft testing.TB) { ruletest.CheckStorageFailures(ft, newToy(), st, set("a", "k1", "v")) })
	wantFailure(t, f, "already exists")
	if len(st) != 2 {
		t.Errorf("CheckStorageFailures changed the state: %q", st)
	}
}

func TestReplayEqualsState(t *testing.T) {
	d := newToy()
	st := ruletest.State{}
	log := ruletest.Apply(t, d, st, set("a", "k1", "v"), set("b", "k2", "w"))
	f := newFakeT(t).run(func(t testing.TB) {
		if !ruletest.ReplayEqualsState(t, d, log, st) {
			t.Errorf("false")
		}
	})
	wantFailure(t, f, "")

	tampered := st.Clone()
	tampered["kv/k2"] = []byte("x")
	f = newFakeT(t).run(func(t testing.TB) { ruletest.ReplayEqualsState(t, d, log, tampered) })
	wantFailure(t, f, "replaying 2 entries gives another state than admission built (got: the replay, want: admission's):\n\"kv/k2\":\n\tgot  \"w\"\n\twant \"x\"")

	f = newFakeT(t).run(func(t testing.TB) { ruletest.ReplayEqualsState(t, d, append(log, log[0]), st) })
	wantFailure(t, f, `replay refused entry 2 of 3 (toy.set {"key":"k1","value":"v"}): already exists`)
}
