package personalities_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/registry"
)

// TestAgencyQuota: an agency past its quota gets RESOURCE_EXHAUSTED and its
// statement is not admitted (the same bytes are admitted later, not as a
// duplicate); another agency is not held back; the quota refills with time;
// resubmitted duplicates are not charged to it.
func TestAgencyQuota(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	clock.Store(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	b := logtest.SQLite(t, logtest.Options{})
	l := b.OpenLog(t, logtest.NewLogKey(t, origin), testMMD)
	a, other := newSigner(t, cityA), newSigner(t, cityB)
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{
		{ID: cityA, Roles: []string{disclosures.RoleDiscloser}, Keys: []registry.Key{{VKey: a.vkey}}},
		{ID: cityB, Roles: []string{disclosures.RoleDiscloser}, Keys: []registry.Key{{VKey: other.vkey}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := personalities.NewServer(personalities.Options{
		Store: b.Store, Registry: reg, Now: now, AgencyQuota: personalities.Quota{PerSecond: 2, Burst: 2},
		Personalities: map[string]personalities.Personality{logName: {Domain: disclosures.New(), Log: l}},
	})
	if err != nil {
		t.Fatal(err)
	}
	client, stop := startServer(t, srv)
	defer stop()
	submit := func(stmt []byte) (*api.SubmitResponse, error) {
		return client.Submit(t.Context(), &api.SubmitRequest{Log: logName, Statement: stmt})
	}
	doc := func(k key, n int) []byte {
		return statementFor(t, origin, disclosures.TypePublish, now(), publish(fmt.Sprintf("doc-%d", n)), k)
	}
	for n := range 2 {
		if _, err := submit(doc(a, n)); err != nil {
			t.Fatalf("statement %d within the quota: %v", n, err)
		}
	}
	late := doc(a, 2)
	_, err = submit(late)
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "city-a may submit 2 statements a second") {
		t.Fatalf("third statement in a second: %v, want RESOURCE_EXHAUSTED naming the quota", err)
	}
	if _, err := submit(doc(other, 0)); err != nil {
		t.Errorf("another agency held back: %v", err)
	}
	clock.Add(int64(time.Second))
	resp, err := submit(late)
	if err != nil || resp.Duplicate {
		t.Errorf("the refused statement a second later: %v (duplicate %v), want admitted afresh", err, resp.GetDuplicate())
	}

	// Anyone resubmitting the agency's public entries (exact duplicates)
	// does not use up its quota: its next real statement is admitted.
	clock.Add(int64(time.Second))
	for range 10 {
		if resp, err := submit(late); err != nil || !resp.Duplicate {
			t.Fatalf("a resubmitted entry: %v (duplicate %v), want the entry as it is", err, resp.GetDuplicate())
		}
	}
	if _, err := submit(doc(a, 3)); err != nil {
		t.Errorf("the agency's next statement after 10 duplicates by someone else: %v, want admitted", err)
	}
}
