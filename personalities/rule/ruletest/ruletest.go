// Package ruletest is the test kit of domain authors: it runs a domain's
// rules the way the admission server and the monitor do, so a domain's tests
// check the rules under the conditions they meet in production, without a
// database or a log.
//
//   - [State] is a domain state in memory, and [Probe] wraps a state to
//     count, record and fail its calls.
//   - [Overlay] is the per-statement state of admission: an entry's writes
//     reach the state only if the entry is admitted.
//   - [Admit] and [Apply] judge entries as admission does, through
//     [rule.Admit] and an Overlay; [CheckApply] also checks what must hold
//     of any entry, admitted or refused, and is what a fuzz test of the
//     rules calls on each input; [CheckEntries] runs one case of a table
//     test with it, and [CheckStorageFailures] fails each call an entry
//     makes to the state in turn.
//   - [ReplayEqualsState] checks what the monitor relies on: replaying the
//     log of admitted entries from an empty state gives the state admission
//     built.
//   - [CheckExamples] checks a domain's description of its statement types
//     and applies their examples, as `govlog domains` and dev's demo show
//     them. It skips the examples of self-signed types, which need a
//     signature it cannot make; [CheckSignedExamples] takes a [SignFunc]
//     that makes it.
//   - [SplitNote] turns a signed note into the Text and Signatures of a
//     [rule.Entry], for the tests of a self-signed statement type.
//
// The package imports only the standard library and [rule], like a domain.
// It is for tests, but it is a normal package, so every domain's tests share
// it.
package ruletest

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/govlog/govlog/personalities/rule"
)

// AsAgency returns the verdict of a registry by which agency holds every
// role.
func AsAgency(agency string) rule.Authorize {
	return func(string) (rule.Signers, error) { return rule.Signers{Agency: agency}, nil }
}

// AsSigners returns the verdict of a registry by which e's own agency holds
// every role and e's own Officials co-signed.
func AsSigners(e rule.Entry) rule.Authorize {
	return func(string) (rule.Signers, error) { return rule.Signers{Agency: e.Agency, Officials: e.Officials}, nil }
}

// Admit judges e as the admission server does: [rule.Admit] over an
// [Overlay] of st, whose writes reach st only if e is admitted. authorize is
// the registry's verdict on e's signer; nil stands for e's own agency
// holding every role, with e's own Officials co-signing. It returns e as admitted, with Agency or
// Signer set, and rule.Admit's error; an error of st comes back wrapped.
func Admit(ctx context.Context, d rule.Domain, st rule.State, e rule.Entry, authorize rule.Authorize) (rule.Entry, error) {
	if authorize == nil {
		authorize = AsSigners(e)
	}
	ov := NewOverlay(st)
	admitted, err := rule.Admit(ctx, d, ov, e, authorize)
	if err != nil {
		return admitted, err
	}
	return admitted, ov.Commit(ctx)
}

// Apply admits entries into st in order, as [Admit] does with each entry's
// own agency, and stops t at the first one that is not admitted. It returns
// the entries as admitted.
func Apply(t testing.TB, d rule.Domain, st rule.State, entries ...rule.Entry) []rule.Entry {
	t.Helper()
	out := make([]rule.Entry, len(entries))
	for i, e := range entries {
		var err error
		if out[i], err = Admit(t.Context(), d, st, e, nil); err != nil {
			t.Fatalf("entry %d (%s): %v", i, entryString(e), err)
		}
	}
	return out
}

// CheckApply judges e as [Admit] does with e's own agency, admitting it into
// st, and checks what must hold of any entry whatever its bytes:
//
//   - the rules do not panic;
//   - a refusal is the entry's fault ([rule.IsRefusal]: st cannot fail), it
//     makes no Put, and the rules refuse e the same way when handed st itself
//     instead of an overlay, leaving st as it was (so the rules check
//     everything before they write, and a replay without overlays is safe);
//   - an admitted entry has the same effect on st itself as through the
//     overlay;
//   - for a [rule.BodyParser], e with its body parsed ahead ([rule.Parse])
//     is judged as e, with the same effect.
//
// It returns the overlay e was judged in (whose Puts say whether it wrote)
// and the error. A fuzz test of a domain's rules calls it on each input over
// a clone of its base state.
func CheckApply(t testing.TB, d rule.Domain, st State, e rule.Entry) (*Overlay, error) {
	t.Helper()
	ctx := t.Context()
	authorize := AsSigners(e)
	ov := NewOverlay(st)
	_, err := admitNoPanic(t, ctx, d, ov, e, authorize)
	direct := st.Clone()
	_, errDirect := admitNoPanic(t, ctx, d, direct, e, authorize)
	if (err == nil) != (errDirect == nil) || err != nil && err.Error() != errDirect.Error() {
		t.Errorf("%s: through an overlay: %v; on the state itself: %v", e.Type, err, errDirect)
	}
	if _, ok := d.(rule.BodyParser); ok {
		// Parsed ahead, as admission and the monitor parse it, the entry
		// is judged alike and has the same effect.
		pe := e
		rule.Parse(d, &pe)
		parsed := st.Clone()
		_, errParsed := admitNoPanic(t, ctx, d, parsed, pe, authorize)
		if (errParsed == nil) != (errDirect == nil) || errParsed != nil && errParsed.Error() != errDirect.Error() {
			t.Errorf("%s: with its body parsed ahead: %v; parsed in Apply: %v", e.Type, errParsed, errDirect)
		} else if !Equal(parsed, direct) {
			t.Errorf("%s has another effect with its body parsed ahead:\n%s", e.Type, Diff(direct, parsed))
		}
	}
	if err != nil {
		if !rule.IsRefusal(err) {
			t.Errorf("%s refused with %v, which wraps no rule sentinel", e.Type, err)
		}
		if ov.Puts() != 0 {
			t.Errorf("%s refused (%v) after %d Puts", e.Type, err, ov.Puts())
		}
		if !Equal(st, direct) {
			t.Errorf("%s refused (%v) but changed the state:\n%s", e.Type, err, Diff(st, direct))
		}
		return ov, err
	}
	if err := ov.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if errDirect == nil && !Equal(st, direct) {
		t.Errorf("%s has another effect on the state itself than through an overlay:\n%s", e.Type, Diff(st, direct))
	}
	return ov, nil
}

// CheckEntries is the body of a table test of a domain's rules: it admits
// entries but the last into st with [Apply], judges the last with
// [CheckApply], and checks its outcome: an error wrapping wantErr, whose
// text contains wantMsg; or, if wantErr is nil, admission, with some write.
// It returns CheckApply's error, so a test can check more of an admitted
// entry's effect on st.
func CheckEntries(t testing.TB, d rule.Domain, st State, entries []rule.Entry, wantErr error, wantMsg string) error {
	t.Helper()
	if len(entries) == 0 {
		t.Fatal("ruletest: CheckEntries without entries")
	}
	Apply(t, d, st, entries[:len(entries)-1]...)
	ov, err := CheckApply(t, d, st, entries[len(entries)-1])
	if !errors.Is(err, wantErr) || (err == nil) != (wantErr == nil) {
		t.Fatalf("Apply = %v, want %v", err, wantErr)
	}
	if wantMsg != "" && !strings.Contains(err.Error(), wantMsg) {
		t.Errorf("Apply = %q, want it to contain %q", err, wantMsg)
	}
	if err == nil && ov.Puts() == 0 {
		t.Errorf("admitted statement wrote nothing")
	}
	return err
}

// CheckStorageFailures checks that the rules return a failure of the state
// as such: it admits e into a clone of st through a [Probe], counting the
// state's calls, then fails each call in turn, on a fresh clone, and checks
// that [rule.Admit] returns the injected error, wrapping no rule sentinel.
// e must be admitted when nothing fails.
func CheckStorageFailures(t testing.TB, d rule.Domain, st State, e rule.Entry) {
	t.Helper()
	ctx := t.Context()
	authorize := AsSigners(e)
	clean := &Probe{State: st.Clone()}
	if _, err := rule.Admit(ctx, d, clean, e, authorize); err != nil {
		t.Fatalf("%s: %v", entryString(e), err)
	}
	for i := 1; i <= clean.Gets+clean.Puts; i++ {
		p := &Probe{State: st.Clone()}
		if i <= clean.Gets {
			p.FailGet = i
		} else {
			p.FailPut = i - clean.Gets
		}
		if _, err := rule.Admit(ctx, d, p, e, authorize); !errors.Is(err, ErrInjected) || rule.IsRefusal(err) {
			t.Errorf("%s, failing access %d of %d: Admit = %v, want the storage error and no rule sentinel", e.Type, i, clean.Gets+clean.Puts, err)
		}
	}
}

// admitNoPanic runs rule.Admit and turns a panic of the rules into a test
// failure naming the entry.
func admitNoPanic(t testing.TB, ctx context.Context, d rule.Domain, st rule.State, e rule.Entry, authorize rule.Authorize) (applied rule.Entry, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("the %s rules panicked on %s: %v\n%s", d.Log(), entryString(e), r, debug.Stack())
		}
	}()
	return rule.Admit(ctx, d, st, e, authorize)
}

// ReplayEqualsState checks what monitors rely on: replaying entries, the log
// of the entries admitted (as Admit returned them), from an empty state
// through [rule.Admit] admits every one of them and ends in admitted, the
// state admission built, key by key. It reports any difference to t, and
// whether there was none.
func ReplayEqualsState(t testing.TB, d rule.Domain, entries []rule.Entry, admitted State) bool {
	t.Helper()
	replayed := State{}
	for i, e := range entries {
		if _, err := Admit(t.Context(), d, replayed, e, nil); err != nil {
			t.Errorf("replay refused entry %d of %d (%s): %v", i, len(entries), entryString(e), err)
			return false
		}
	}
	if diff := Diff(admitted, replayed); diff != "" {
		t.Errorf("replaying %d entries gives another state than admission built (got: the replay, want: admission's):\n%s", len(entries), diff)
		return false
	}
	return true
}

// entryString names an entry in a failure message.
func entryString(e rule.Entry) string {
	return fmt.Sprintf("%s %.300s", e.Type, e.Body)
}
