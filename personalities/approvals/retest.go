package approvals

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruleset"
)

var _ rule.Toolbox = (*Rules)(nil)

// Tools offers test-rules: `govlog approvals test-rules --draft FILE`.
func (r *Rules) Tools() []rule.Tool {
	return []rule.Tool{{
		Name:    "test-rules",
		Summary: "Replay the log's past applications of a kind under a draft rule set and list the decisions that would change",
		Doc: `test-rules reads a draft rule set (the body of an approvals.rules statement,
as --draft FILE) before it is published, and replays every automatic decision
the log made on applications of the draft's kind: each filing's fields, as
they stood then, are judged by the draft, and every decision whose outcome, or
whose list of failed rules and missing fields, would differ is listed. It
runs offline on the log's entries, all of them, verified against --policy,
so what it says is about the decisions the log really made. A draft that
does not compile is reported with the compiler's message, as the log would
refuse it.`,
		Flags:    []rule.QueryFlag{{Name: "draft", Usage: "the draft rule set: a JSON file holding an approvals.rules body"}},
		Required: []string{"draft"},
		Run: func(_ context.Context, entries []rule.ProvedEntry, _ string, flags map[string]string, w io.Writer) error {
			data, err := os.ReadFile(flags["draft"])
			if err != nil {
				return err
			}
			changes, n, err := Retest(entries, data)
			if err != nil {
				return err
			}
			return WriteChanges(w, changes, n)
		},
	}}
}

// Change is a decision a draft rule set would make differently.
type Change struct {
	ApplicationID string `json:"application_id"`
	// Index is the logged decision's index.
	Index  uint64   `json:"index"`
	Logged Decision `json:"logged"`
	Draft  Decision `json:"draft"`
	// Unreadable is set when the draft cannot read the fields as filed.
	Unreadable string `json:"unreadable,omitempty"`
}

// Retest replays the decisions in entries (every entry of an approvals
// log, in order) on applications of the kind of draft, an approvals.rules
// body, under draft, and returns those that would change and how many
// decisions it replayed.
func Retest(entries []rule.ProvedEntry, draft []byte) ([]Change, int, error) {
	b, err := ParseRulesBody(draft)
	if err != nil {
		return nil, 0, fmt.Errorf("the draft: %w", err)
	}
	p, err := ruleset.Compile(b.Set())
	if err != nil {
		return nil, 0, fmt.Errorf("the draft does not compile: %w", err)
	}
	v := Version{Kind: b.Kind, Version: b.Version, Set: b.Set(), Official: b.Official, DecideWithinDays: b.DecideWithinDays}
	type filing struct {
		fields    map[string]json.RawMessage
		submitted time.Time
	}
	apps := map[string]*filing{}
	var changes []Change
	replayed := 0
	for _, e := range entries {
		switch e.Type {
		case TypeApply:
			a, err := ParseApplyBody(e.Body)
			if err != nil || a.Kind != b.Kind {
				continue
			}
			apps[a.ApplicationID] = &filing{fields: a.Fields, submitted: e.Time}
		case TypeSupplement:
			s, err := ParseSupplementBody(e.Body)
			f, ok := apps[s.ApplicationID]
			if err != nil || !ok {
				continue
			}
			merged := maps.Clone(f.fields)
			maps.Copy(merged, s.Fields)
			f.fields, f.submitted = merged, e.Time
		case TypeDecide:
			logged, err := ParseDecision(e.Body)
			f, ok := apps[logged.ApplicationID]
			if err != nil || !ok {
				continue
			}
			replayed++
			a := Application{ID: logged.ApplicationID, Kind: b.Kind, Fields: f.fields}
			d, err := decide(a, v, p, f.submitted)
			if err != nil {
				changes = append(changes, Change{ApplicationID: a.ID, Index: e.Index, Logged: logged, Unreadable: err.Error()})
				continue
			}
			if !sameJudgement(logged, d) {
				changes = append(changes, Change{ApplicationID: a.ID, Index: e.Index, Logged: logged, Draft: d})
			}
		}
	}
	return changes, replayed, nil
}

// sameJudgement compares outcomes and what failed, not versions or the
// wording of messages.
func sameJudgement(a, b Decision) bool {
	return a.Outcome == b.Outcome && slices.Equal(a.Missing, b.Missing) && slices.Equal(failedRules(a), failedRules(b))
}

func failedRules(d Decision) []string {
	var out []string
	for _, f := range d.Failed {
		out = append(out, f.Rule)
	}
	return out
}

func describe(d Decision) string {
	s := d.Outcome
	var why []string
	if r := failedRules(d); len(r) > 0 {
		why = append(why, "failed "+strings.Join(r, ", "))
	}
	if len(d.Missing) > 0 {
		why = append(why, "missing "+strings.Join(d.Missing, ", "))
	}
	if len(why) > 0 {
		s += " (" + strings.Join(why, "; ") + ")"
	}
	return s
}

// WriteChanges prints Retest's findings for people.
func WriteChanges(w io.Writer, changes []Change, replayed int) error {
	for _, c := range changes {
		if c.Unreadable != "" {
			fmt.Fprintf(w, "%s (decision at entry %d): logged %s under version %d; the draft cannot read its fields: %s\n",
				c.ApplicationID, c.Index, describe(c.Logged), c.Logged.Version, c.Unreadable)
			continue
		}
		fmt.Fprintf(w, "%s (decision at entry %d): logged %s under version %d; the draft decides %s\n",
			c.ApplicationID, c.Index, describe(c.Logged), c.Logged.Version, describe(c.Draft))
	}
	_, err := fmt.Fprintf(w, "%d decisions replayed under the draft: %d would change\n", replayed, len(changes))
	return err
}
