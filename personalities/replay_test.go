package personalities_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// TestReplayMatchesAdmission: the log holds statements in the order they
// were admitted, so replaying it from an empty state through the same rules
// admits every entry and ends in the personality's state (DESIGN.md: domain
// state must always equal a replay of the log). Each correction is
// submitted right after its publication, from several clients at once, so
// both often share a batch or neighbouring batches.
func TestReplayMatchesAdmission(t *testing.T) {
	t.Parallel()
	const pairs, clients = 60, 6
	eachBackend(t, harnessOptions{}, func(t *testing.T, h *harness) {
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				for i := c; i < pairs; i += clients {
					doc := fmt.Sprintf("order-%03d", i)
					for _, stmt := range [][]byte{
						statement(t, disclosures.TypePublish, publish(doc), h.keys.a),
						statement(t, disclosures.TypeCorrect, correct(doc, doc+"-v2"), h.keys.a),
					} {
						if _, err := h.submit(stmt, false); err != nil {
							t.Errorf("Submit %s: %v", doc, err)
						}
					}
				}
			})
		}
		wg.Wait()
		cp := h.waitForSize(t, 2*pairs, 30*time.Second)
		resp, err := h.client.GetEntries(t.Context(), &api.GetEntriesRequest{Log: disclosures.LogName, Start: 0, Count: int64(cp.Size)})
		if err != nil {
			t.Fatal(err)
		}
		replayed := ruletest.State{}
		rules := disclosures.New()
		for i, leaf := range resp.Entries {
			st, sigs, err := govlog.ParseStatement(leaf, h.log.Origin(), h.reg.Verifiers())
			if err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
			agency, err := h.reg.Authorize(sigs, disclosures.RoleDiscloser, st.Time)
			if err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
			e := rule.Entry{Type: st.Type, Time: st.Time, Body: st.Body, Agency: agency, LeafHash: govlog.LeafHash(leaf)}
			if err := rules.Apply(t.Context(), replayed, e); err != nil {
				t.Fatalf("replay refuses entry %d (%s): %v", i, st.Type, err)
			}
		}
		for i := range pairs {
			doc := fmt.Sprintf("order-%03d", i)
			for _, id := range []string{doc, doc + "-v2"} {
				want, ok := h.document(t, cityA, id)
				got, ok2, err := disclosures.Document(t.Context(), replayed, cityA, id)
				if err != nil || !ok || !ok2 || got != want {
					t.Errorf("%s: replayed %+v (%v), personality %+v (%v)", id, got, ok2, want, ok)
				}
			}
		}
	})
}
