package ruletest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/rule"
)

// DemoAgency is the agency that signs the examples [CheckExamples] applies,
// holding every role, as in dev's demo.
const DemoAgency = "demo-agency"

// DemoOfficial is the official of DemoAgency who co-signs the examples of a
// type that needs one (rule.TypeInfo.Official), as in dev's demo.
const DemoOfficial = "demo-0001"

// LogAgency is the agency of the log's own rule key, which signs the log's
// answers (rule.Responder) to the examples.
const LogAgency = "ruletest-log"

// SignFunc signs an example of a [rule.SelfSigned] type for
// [CheckSignedExamples]: given the entry's Type, Time and Body, it returns
// the entry with the Text and Signatures its domain's Authenticator accepts
// (and, usually, the LeafHash of the signed statement).
type SignFunc func(e rule.Entry) (rule.Entry, error)

// CheckExamples checks d's description of its statement types and applies
// their examples:
//
//   - every type is listed once, with a Role and a Summary, and
//     d.RequiredRole agrees with the list (and refuses a type not on it with
//     [rule.ErrUnknownType]);
//   - every type but the ByLog ones, which need their due time, has at least
//     one example;
//   - the examples, in order, from an empty state, at time.Now(), each
//     signed by [DemoAgency] holding every role, are all admitted by
//     [rule.Admit].
//
// The examples of a SelfSigned type need a signature by the key their body
// or the state names, which CheckExamples cannot make: it skips them, says
// so in the log, and goes on with the types after them, whose examples
// should not need them (if one is refused, the failure names what was
// skipped). A domain with SelfSigned types whose test can sign their
// examples (it holds the examples' demo keys) calls [CheckSignedExamples]
// instead, and nothing is skipped.
func CheckExamples(t testing.TB, d rule.Domain) {
	t.Helper()
	CheckSignedExamples(t, d, nil)
}

// CheckSignedExamples is [CheckExamples], with the examples of SelfSigned
// types signed by sign.
func CheckSignedExamples(t testing.TB, d rule.Domain, sign SignFunc) {
	t.Helper()
	types := d.Types()
	if len(types) == 0 {
		t.Fatalf("the %s rules describe no statement type", d.Log())
	}
	checkTypes(t, d, types)
	ctx := t.Context()
	st := State{}
	now := time.Now().UTC().Truncate(time.Second)
	var skipped []string
	var index uint64
	for _, ti := range types {
		if ti.ByLog {
			continue
		}
		if ti.Role == rule.SelfSigned && sign == nil {
			t.Logf("skipped the examples of %s: it is self-signed, and no SignFunc signs them", ti.Type)
			skipped = append(skipped, ti.Type)
			continue
		}
		for i, body := range ti.Examples {
			if err := applyExample(ctx, d, st, ti, now, body, sign, &index); err != nil {
				note := ""
				if len(skipped) > 0 {
					note = fmt.Sprintf(" (the examples of self-signed %s were skipped: CheckSignedExamples signs them)", strings.Join(skipped, ", "))
				}
				t.Errorf("example %d of %s refused%s: %v\n%s", i+1, ti.Type, note, err, body)
				return // the examples after it may build on it
			}
		}
	}
}

// checkTypes checks the list of types against itself and RequiredRole.
func checkTypes(t testing.TB, d rule.Domain, types []rule.TypeInfo) {
	t.Helper()
	seen := map[string]bool{}
	for _, ti := range types {
		if seen[ti.Type] {
			t.Errorf("type %q is listed twice", ti.Type)
		}
		seen[ti.Type] = true
		if ti.Role == "" {
			t.Errorf("type %q has no role", ti.Type)
		}
		if ti.Summary == "" {
			t.Errorf("type %q has no summary", ti.Type)
		}
		if !ti.ByLog && len(ti.Examples) == 0 {
			t.Errorf("type %q has no example", ti.Type)
		}
		if role, err := d.RequiredRole(ti.Type); err != nil || role != ti.Role {
			t.Errorf("RequiredRole(%q) = %q, %v; Types() says %q", ti.Type, role, err, ti.Role)
		}
	}
	const unknown = "ruletest.no-such-type"
	if _, err := d.RequiredRole(unknown); !seen[unknown] && !errors.Is(err, rule.ErrUnknownType) {
		t.Errorf("RequiredRole(%q) = %v, want an error wrapping rule.ErrUnknownType", unknown, err)
	}
}

// applyExample admits one example into st at *index, and the log's answers
// to it after it, and moves *index past them.
func applyExample(ctx context.Context, d rule.Domain, st State, ti rule.TypeInfo, now time.Time, body json.RawMessage, sign SignFunc, index *uint64) error {
	e := rule.Entry{Type: ti.Type, Time: now, Body: body, Agency: cmp.Or(ti.ExampleAgency, DemoAgency), Index: *index}
	if ti.Official {
		e.Officials = []string{DemoOfficial}
	}
	// A leaf hash of its own for every example: the rules may key state by it.
	e.LeafHash = sha256.Sum256(fmt.Appendf(nil, "%s\n%s\n%s", ti.Type, now.Format(time.RFC3339), body))
	if ti.Role == rule.SelfSigned {
		e.Agency = ""
		var err error
		if e, err = sign(e); err != nil {
			return fmt.Errorf("couldn't sign: %w", err)
		}
	}
	_, err := AdmitAnswered(ctx, d, st, e, nil)
	if err == nil {
		*index++
	}
	return err
}

// AdmitAnswered is [Admit], followed, for a rule.Responder, by the log's
// answers to e, each signed by [LogAgency] at the indexes after e's:
// together or not at all, as the admission server admits them. It returns
// the answers admitted.
func AdmitAnswered(ctx context.Context, d rule.Domain, st rule.State, e rule.Entry, authorize rule.Authorize) ([]rule.Entry, error) {
	ov := NewOverlay(st)
	admitted, err := Admit(ctx, d, ov, e, authorize)
	if err != nil {
		return nil, err
	}
	var answers []rule.Entry
	if r, ok := d.(rule.Responder); ok {
		resp, err := r.Respond(ctx, ov, admitted)
		if err != nil {
			return nil, err
		}
		for k, a := range resp {
			b, err := json.Marshal(a.Body)
			if err != nil {
				return nil, err
			}
			q := rule.Entry{Type: a.Type, Time: e.Time, Body: b, Agency: LogAgency, Index: e.Index + 1 + uint64(k), Logs: e.Logs}
			q.LeafHash = sha256.Sum256(fmt.Appendf(nil, "answer %x %d", e.LeafHash, k))
			if q, err = Admit(ctx, d, ov, q, AsAgency(LogAgency)); err != nil {
				return nil, fmt.Errorf("the log's answer %s was refused: %w", a.Type, err)
			}
			answers = append(answers, q)
		}
	}
	return answers, ov.Commit(ctx)
}
