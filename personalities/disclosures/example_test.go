package disclosures_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

func Example() {
	ctx := context.Background()
	rules := disclosures.New()
	st := ruletest.State{} // any rule.State; the admission server's is SQL

	doc := sha256.Sum256([]byte("the minutes of the council meeting"))
	first := disclosures.PublishBody{
		DocID:        "2026/minutes-07",
		Title:        "Council minutes, 7 March 2026",
		SHA256:       hex.EncodeToString(doc[:]),
		Category:     "minutes",
		DecisionDate: "2026-03-07",
		Official:     "staff-0042", // the clerk's registry staff ID
	}
	body, _ := json.Marshal(first)
	err := rules.Apply(ctx, st, rule.Entry{Type: disclosures.TypePublish, Body: body, Agency: "city-a", Officials: []string{"staff-0042"}})
	fmt.Println("publish:", err)

	fixed := first
	fixed.DocID = "2026/minutes-07-r1"
	fixed.Title = "Council minutes, 7 March 2026 (corrected)"
	body, _ = json.Marshal(disclosures.CorrectBody{Corrects: first.DocID, PublishBody: fixed, Reason: "attendance list was incomplete"})
	err = rules.Apply(ctx, st, rule.Entry{Type: disclosures.TypeCorrect, Body: body, Agency: "city-a", Officials: []string{"staff-0042"}})
	fmt.Println("correct:", err)

	// A second correction of the first version is refused, naming the latest.
	fixed.DocID = "2026/minutes-07-r2"
	body, _ = json.Marshal(disclosures.CorrectBody{Corrects: first.DocID, PublishBody: fixed, Reason: "typo"})
	err = rules.Apply(ctx, st, rule.Entry{Type: disclosures.TypeCorrect, Body: body, Agency: "city-a", Officials: []string{"staff-0042"}})
	fmt.Println("correct again:", err)

	rec, _, _ := disclosures.Document(ctx, st, "city-a", first.DocID)
	latest, _, _, _ := disclosures.Latest(ctx, st, "city-a", first.DocID)
	fmt.Println(first.DocID, rec.Status, "latest:", latest)
	// Output:
	// publish: <nil>
	// correct: <nil>
	// correct again: rule violation: document 2026/minutes-07 of agency city-a was superseded by 2026/minutes-07-r1; only its latest version, 2026/minutes-07-r1, can be corrected
	// 2026/minutes-07 superseded latest: 2026/minutes-07-r1
}
