package disclosures_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// FuzzApply feeds arbitrary types and bodies to Apply over a state with a
// document in every status. Apply must not panic, must refuse with a rule
// sentinel (the state here cannot fail), and must not write when it refuses.
func FuzzApply(f *testing.F) {
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	for _, seed := range []struct {
		typ  string
		body []byte
	}{
		{disclosures.TypePublish, mustJSON(publishFields("d9"))},
		{disclosures.TypePublish, mustJSON(publishFields("d1"))},
		{disclosures.TypeCorrect, mustJSON(correctFields("d1", "d9"))},
		{disclosures.TypeCorrect, mustJSON(correctFields("d2", "d9"))},
		{disclosures.TypeCorrect, mustJSON(correctFields("d4", "d9"))},
		{disclosures.TypeRetract, mustJSON(retractFields("d3"))},
		{disclosures.TypeRetract, mustJSON(retractFields("d4"))},
		{disclosures.TypeRetract, []byte(`{"official":"a","reason":"b","retracts":"d1","retracts":"d2"}`)},
		{disclosures.TypeRetract, []byte(`{"official":1e999,"reason":[{}],"retracts":null}`)},
		{disclosures.TypePublish, []byte(`{"doc_id":"\ud800"}`)},
		{"disclosure.unknown", []byte(`{}`)},
	} {
		f.Add(seed.typ, seed.body)
	}
	ctx := context.Background()
	r := disclosures.New()
	setup := []rule.Entry{pub(cityA, "d1"), pub(cityA, "d2"), cor(cityA, "d2", "d3"), pub(cityA, "d4"), ret(cityA, "d4"), pub(cityB, "d5")}
	base := ruletest.State{}
	ruletest.Apply(f, r, base, setup...)
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		// CheckApply checks that Apply does not panic and that a refusal
		// writes nothing.
		st := base.Clone()
		e := rawEntry(cityA, typ, string(body))
		_, err := ruletest.CheckApply(t, r, st, e)
		if err != nil {
			if !wrapsSentinel(err) {
				t.Fatalf("Apply = %v, which wraps no rule sentinel", err)
			}
			return
		}
		// Admitted: the body must parse on its own and the new version must
		// be readable as published.
		var docID string
		switch typ {
		case disclosures.TypePublish:
			b, perr := disclosures.ParsePublishBody(body)
			docID, err = b.DocID, perr
		case disclosures.TypeCorrect:
			b, perr := disclosures.ParseCorrectBody(body)
			docID, err = b.DocID, perr
		case disclosures.TypeRetract:
			b, perr := disclosures.ParseRetractBody(body)
			docID, err = b.Retracts, perr
		default:
			t.Fatalf("admitted unknown type %q", typ)
		}
		if err != nil {
			t.Fatalf("admitted a body its parser refuses: %v", err)
		}
		rec, ok, err := disclosures.Document(ctx, st, cityA, docID)
		if err != nil || !ok {
			t.Fatalf("Document(%s) after admission = %v, %v", docID, ok, err)
		}
		if typ != disclosures.TypeRetract && rec.Status != disclosures.StatusPublished {
			t.Fatalf("new version has status %s", rec.Status)
		}
	})
}
