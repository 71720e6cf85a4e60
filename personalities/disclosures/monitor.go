package disclosures

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/govlog/govlog/personalities/rule"
)

var (
	_ rule.Summarizer = (*Rules)(nil)
	_ rule.Watcher    = (*Rules)(nil)
)

// WatchKinds: a monitor can watch for the entries about a document: its
// publication, its corrections and its retraction.
func (*Rules) WatchKinds() []rule.WatchKind {
	return []rule.WatchKind{{Name: "document", Fields: []string{"doc_id", "corrects", "retracts"},
		Doc: "a document ID (doc_id), in its publication, corrections and retraction"}}
}

// Summary counts the documents of the state by agency: in force,
// corrections, retracted.
func (*Rules) Summary(ctx context.Context, st rule.Scanner, agency func(string) string) ([]rule.Table, error) {
	type counts struct{ published, corrections, retracted int }
	byAgency := map[string]*counts{}
	var all counts
	unreadable := 0
	err := st.Scan(ctx, DocumentKeyPrefix, func(key string, value []byte) error {
		id, _, ok := ParseDocumentKey(key)
		if !ok {
			return nil
		}
		var rec Record
		if err := json.Unmarshal(value, &rec); err != nil {
			unreadable++
			return nil
		}
		c := byAgency[id]
		if c == nil {
			c = &counts{}
			byAgency[id] = c
		}
		if rec.Corrects != "" {
			c.corrections++
			all.corrections++
		}
		switch rec.Status {
		case StatusPublished:
			c.published++
			all.published++
		case StatusRetracted:
			c.retracted++
			all.retracted++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	t := rule.Table{
		Caption: "Documents disclosed, by agency",
		Columns: []rule.Column{{Name: "Agency"}, {Name: "Documents in force", Numeric: true}, {Name: "Corrections", Numeric: true}, {Name: "Retracted", Numeric: true}},
		Total:   []string{"All agencies", strconv.Itoa(all.published), strconv.Itoa(all.corrections), strconv.Itoa(all.retracted)},
		Empty:   "No documents disclosed yet.",
		Note: "A correction publishes a new version that replaces an earlier one; the earlier one stays in the log. " +
			"A retracted document was withdrawn by its agency; its publication stays in the log.",
	}
	if unreadable > 0 {
		t.Note += fmt.Sprintf(" %d records of the replayed state could not be read.", unreadable)
	}
	for _, id := range slices.Sorted(maps.Keys(byAgency)) {
		c := byAgency[id]
		t.Rows = append(t.Rows, []string{agency(id), strconv.Itoa(c.published), strconv.Itoa(c.corrections), strconv.Itoa(c.retracted)})
	}
	return []rule.Table{t}, nil
}
