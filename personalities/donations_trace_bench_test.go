package personalities_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/donations"
	"github.com/govlog/govlog/personalities/registry"
)

// BenchmarkTraceSplit measures the donations log's trace of one donation
// split 1,000 ways: the answer, every hand-over, each entry with its
// inclusion proof at one checkpoint, read a page at a time as the CLI
// does. Run with
//
//	go test -run '^$' -bench TraceSplit -benchtime 20x ./personalities/
func BenchmarkTraceSplit(b *testing.B) {
	const ways = 1000
	const origin = "gov.example/donations"
	be := logtest.SQLite(b, logtest.Options{})
	logKey := logtest.NewLogKey(b, origin)
	l := be.OpenLog(b, logKey, 50*time.Millisecond)
	charity := newSigner(b, "red-cross")
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{{
		ID: "red-cross", Roles: []string{donations.RoleCharity}, Keys: []registry.Key{{VKey: charity.vkey}},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := personalities.NewServer(personalities.Options{Store: be.Store, Registry: reg,
		Personalities: map[string]personalities.Personality{donations.LogName: {Domain: donations.New(), Log: l}}})
	if err != nil {
		b.Fatal(err)
	}
	client, stop := startServer(b, srv)
	defer stop()
	submit := func(typ string, body any) {
		if _, err := client.Submit(b.Context(), &api.SubmitRequest{Log: donations.LogName, Statement: statementFor(b, origin, typ, time.Now(), body, charity)}); err != nil {
			b.Fatalf("%s: %v", typ, err)
		}
	}
	submit(donations.TypeCampaignOpen, map[string]any{"campaign_id": "c", "title": "c", "admin_share_max_percent": 5, "hand_on_by": "2099-12-31", "feedback_within_days": 14})
	submit(donations.TypeReceive, map[string]any{"donation_id": "big", "campaign_id": "c", "kind": "money", "currency": "CNY", "amount": 1 << 40})
	for i := range ways {
		submit(donations.TypeHandover, map[string]any{"handover_id": fmt.Sprintf("h-%d", i), "campaign_id": "c", "kind": "money", "currency": "CNY",
			"draws": []map[string]any{{"donation_id": "big", "amount": 100}}, "to_recipient": fmt.Sprintf("%064x", i),
			"code_hash": fmt.Sprintf("%064x", i+1)})
	}
	// Wait until a checkpoint holds them all.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		resp, err := client.GetCheckpoint(b.Context(), &api.GetCheckpointRequest{Log: donations.LogName})
		if err == nil {
			if cp, _, err := govlog.OpenCheckpoint(resp.Checkpoint, logKey.Verifier); err == nil && cp.Size >= ways+2 {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("the hand-overs were not integrated in time")
		}
	}
	const page = 400
	bytes, pages := 0, 0
	b.ResetTimer()
	for range b.N {
		seen := 0
		for from := 1; from <= ways; from += page {
			resp, err := client.Query(b.Context(), &api.QueryRequest{Log: donations.LogName, Query: "donation",
				Args: map[string]string{"id": "big", "from": strconv.Itoa(from), "limit": strconv.Itoa(page)}})
			if err != nil {
				b.Fatal(err)
			}
			seen += len(resp.Bundles) - 1 // the donation's own entry, then its hand-overs
			bytes += len(resp.ResultJson)
			for _, x := range resp.Bundles {
				bytes += len(x)
			}
			pages++
		}
		if seen != ways {
			b.Fatalf("the trace proved %d hand-overs, want %d", seen, ways)
		}
	}
	b.StopTimer()
	perTrace := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(perTrace.Milliseconds()), "ms/trace")
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes/trace")
	fmt.Printf("trace of a donation split %d ways: %v per trace (%d pages of %d, %.1f MB with proofs)\n",
		ways, perTrace.Round(time.Millisecond), pages/b.N, page, float64(bytes)/float64(b.N)/1e6)
}
