package personalities_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/rule"
)

// keySpy records the entries the batch asks their read keys of.
type keySpy struct {
	*disclosures.Rules
	mu       sync.Mutex
	agencies []string
}

func (s *keySpy) ReadKeys(e rule.Entry) []string {
	s.mu.Lock()
	s.agencies = append(s.agencies, e.Agency)
	s.mu.Unlock()
	return s.Rules.ReadKeys(e)
}

// TestPrefetchKnowsTheAgency: a batch asks the domain which keys it will
// read with the entry's agency already set, as the domain's keys depend on
// it; without it the batch prefetches the wrong keys and reads each one
// again, a round trip per statement.
func TestPrefetchKnowsTheAgency(t *testing.T) {
	spy := &keySpy{Rules: disclosures.New()}
	eachBackend(t, harnessOptions{domain: spy}, func(t *testing.T, h *harness) {
		spy.mu.Lock()
		spy.agencies = nil
		spy.mu.Unlock()
		h.mustAdmit(t, statement(t, disclosures.TypePublish, publish("prefetch-1"), h.keys.a))
		spy.mu.Lock()
		defer spy.mu.Unlock()
		if !slices.Equal(spy.agencies, []string{cityA}) {
			t.Errorf("ReadKeys saw agencies %q, want [%q]", spy.agencies, cityA)
		}
	})
}
