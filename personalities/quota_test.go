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
	"github.com/govlog/govlog/personalities/petitions"
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

// TestAddressQuota: statements no agency signs (here a citizen's petition
// signature) are limited per client address: past it, RESOURCE_EXHAUSTED
// and nothing admitted; agencies' statements are not held back by it, and a
// duplicate is not charged.
func TestAddressQuota(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	clock.Store(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	const porigin = "gov.example/petitions"
	b := logtest.SQLite(t, logtest.Options{})
	l := b.OpenLog(t, logtest.NewLogKey(t, porigin), testMMD)
	a := newSigner(t, cityA)
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{
		{ID: cityA, Roles: []string{petitions.RoleOffice}, Keys: []registry.Key{{VKey: a.vkey}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := personalities.NewServer(personalities.Options{
		Store: b.Store, Registry: reg, Now: now, AddressQuota: personalities.Quota{PerSecond: 1, Burst: 2},
		Personalities: map[string]personalities.Personality{petitions.LogName: {Domain: petitions.New(), Log: l}},
	})
	if err != nil {
		t.Fatal(err)
	}
	client, stop := startServer(t, srv)
	defer stop()
	submit := func(stmt []byte) (*api.SubmitResponse, error) {
		return client.Submit(t.Context(), &api.SubmitRequest{Log: petitions.LogName, Statement: stmt})
	}
	open := func(id string) []byte {
		return statementFor(t, porigin, petitions.TypeOpen, now(), map[string]string{"petition_id": id, "title": "t", "closes": "2099-12-31"}, a)
	}
	sign := func() []byte {
		c := newSigner(t, petitions.SignerKeyName)
		return statementFor(t, porigin, petitions.TypeSign, now(), map[string]string{"petition_id": "p-1", "signer": c.vkey}, c)
	}
	if _, err := submit(open("p-1")); err != nil {
		t.Fatal(err)
	}
	first := sign()
	for i, stmt := range [][]byte{first, sign()} {
		if _, err := submit(stmt); err != nil {
			t.Fatalf("signature %d within the quota: %v", i, err)
		}
	}
	// The same bytes again: a duplicate, not charged.
	if r, err := submit(first); err != nil || !r.Duplicate {
		t.Fatalf("duplicate: %v, %v", r, err)
	}
	_, err = submit(sign())
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "client address") {
		t.Fatalf("third signature from one address: %v, want ResourceExhausted naming the client address", err)
	}
	// Agencies are not held back by the address quota.
	for i := range 3 {
		if _, err := submit(open(fmt.Sprintf("p-%d", i+2))); err != nil {
			t.Fatalf("agency statement %d: %v", i, err)
		}
	}
	// The bucket refills with time.
	clock.Add(int64(2 * time.Second))
	if _, err := submit(sign()); err != nil {
		t.Fatalf("after the refill: %v", err)
	}
}
