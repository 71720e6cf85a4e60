package ruleset

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// Result is the outcome of evaluating every rule of a set.
type Result struct {
	// Missing are the schema's fields absent from the values, in schema
	// order.
	Missing []string `json:"missing,omitempty"`
	// Failed are the rules that did not hold, in rule order.
	Failed []Failure `json:"failed,omitempty"`
	// Cost is the actual CEL cost of the evaluation, summed over the rules
	// evaluated. It is a figure for dashboards and benchmarks: no decision
	// depends on it.
	Cost uint64 `json:"cost"`
}

// Failure is a rule that did not hold.
type Failure struct {
	// Rule is the rule's name.
	Rule string `json:"rule"`
	// Message is the rule's message, what the applicant must fix.
	Message string `json:"message,omitempty"`
	// Reason is empty when the rule evaluated to false. Otherwise it says
	// why the rule could not be evaluated: "missing field X" ("missing
	// fields X, Y") when it reads fields the application left out, or the
	// CEL runtime error ("division by zero").
	Reason string `json:"reason,omitempty"`
}

// Holds reports whether the application meets the rule set: no field is
// missing and every rule held.
func (r Result) Holds() bool { return len(r.Missing) == 0 && len(r.Failed) == 0 }

// Eval evaluates every rule with vals and submitted, the time of the
// application, which rules read as the CEL timestamp submitted (in UTC).
//
// A rule that reads a missing field is not evaluated: it fails with the
// reason "missing field X". One that reads a value that is not of its
// field's type (possible only with Values not made by ParseValues) fails
// with "invalid field X: ...". A rule that evaluates to false fails with no
// reason; one that stops on a runtime error, division by zero, an overflow
// or the runtime cost limit (4 times MaxCost, a second guard behind the
// estimate of Compile), fails with the error's text. Values of names not in the schema
// are ignored.
//
// Eval never panics, and it is deterministic: the same program, values and
// time give the same Result (Cost included).
func (p *Program) Eval(vals Values, submitted time.Time) Result {
	var res Result
	act := make(map[string]any, len(p.fields)+1)
	act[Submitted] = types.Timestamp{Time: submitted.UTC()}
	absent := make([]bool, len(p.fields))
	invalid := make([]string, len(p.fields))
	for i, f := range p.fields {
		v, ok := vals[f.Name]
		if !ok {
			absent[i] = true
			res.Missing = append(res.Missing, f.Name)
			continue
		}
		cv, err := toCEL(f.Type, v)
		if err != nil {
			invalid[i] = fmt.Sprintf("invalid field %s: %v", f.Name, err)
			continue
		}
		act[f.Name] = cv
	}
	for _, r := range p.rules {
		var missing []string
		reason := ""
		for _, i := range r.reads {
			if absent[i] {
				missing = append(missing, p.fields[i].Name)
			} else if reason == "" {
				reason = invalid[i]
			}
		}
		switch {
		case len(missing) == 1:
			reason = "missing field " + missing[0]
		case len(missing) > 1:
			reason = "missing fields " + strings.Join(missing, ", ")
		case reason == "":
			ok, why, cost := r.eval(act)
			res.Cost += cost
			if ok {
				continue
			}
			reason = why
		}
		res.Failed = append(res.Failed, Failure{Rule: r.name, Message: r.message, Reason: reason})
	}
	return res
}

// eval evaluates the rule: whether it held, and if not, why ("" when it
// was false); and its actual cost.
func (r compiled) eval(act map[string]any) (ok bool, reason string, cost uint64) {
	defer func() {
		// cel-go recovers from panics in evaluation itself; this is for
		// anything it misses, so Eval never panics.
		if x := recover(); x != nil {
			ok, reason = false, fmt.Sprintf("internal error: %v", x)
		}
	}()
	out, det, err := r.prog.Eval(act)
	if det != nil {
		if c := det.ActualCost(); c != nil {
			cost = *c
		}
	}
	if err != nil {
		return false, err.Error(), cost
	}
	b, isBool := out.(types.Bool)
	if !isBool {
		return false, fmt.Sprintf("the rule evaluated to %s, not a bool", out.Type().TypeName()), cost
	}
	return bool(b), "", cost
}

// toCEL checks v, a value of a field of type t, and converts it to CEL.
func toCEL(t FieldType, v any) (ref.Val, error) {
	switch t {
	case String, SHA256, Commitment:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("got %T, want string", v)
		}
		if err := checkString(t, s); err != nil {
			return nil, err
		}
		return types.String(s), nil
	case Int:
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("got %T, want int64", v)
		}
		if n > maxInt || n < -maxInt {
			return nil, fmt.Errorf("integer out of range: its magnitude must be at most 2^53")
		}
		return types.Int(n), nil
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("got %T, want bool", v)
		}
		return types.Bool(b), nil
	case Date:
		d, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("got %T, want time.Time", v)
		}
		h, m, sec := d.Clock()
		if _, err := parseDate(d.Format(time.DateOnly)); err != nil || d.Location() != time.UTC || h != 0 || m != 0 || sec != 0 || d.Nanosecond() != 0 {
			return nil, fmt.Errorf("not a date at 00:00 UTC from year 1 to 9999")
		}
		return types.Timestamp{Time: d}, nil
	}
	return nil, fmt.Errorf("unknown type %q", t)
}
