package disclosures_test

import (
	"context"
	"slices"
	"testing"

	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// TestReadKeysCoverAdmittedEntries: on every path that admits an entry,
// Apply reads no key that ReadKeys did not name, so the batch prefetch
// serves every read of the hot path.
func TestReadKeysCoverAdmittedEntries(t *testing.T) {
	ctx := context.Background()
	st := &ruletest.Probe{State: ruletest.State{}}
	r := disclosures.New()
	for _, e := range []rule.Entry{
		pub("agency-a", "d1"),
		pub("agency-a", "d2"),
		cor("agency-a", "d1", "d1b"),
		cor("agency-a", "d1b", "d1c"),
		ret("agency-a", "d2"),
		ret("agency-a", "d1c"),
	} {
		st.Read = nil
		keys := r.ReadKeys(e)
		if err := r.Apply(ctx, st, e); err != nil {
			t.Fatalf("%s: %v", e.Type, err)
		}
		for _, k := range st.Read {
			if !slices.Contains(keys, k) {
				t.Errorf("%s read %q, not among ReadKeys %q", e.Type, k, keys)
			}
		}
	}
	if got := r.ReadKeys(rawEntry("agency-a", disclosures.TypePublish, "{")); got != nil {
		t.Errorf("ReadKeys of a malformed body = %q, want none", got)
	}
}
