package personalities_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/donations"
	"github.com/govlog/govlog/personalities/registry"
)

const donationsOrigin = "gov.example/donations"

// donationsServer runs an admission server of the donations log on be, with
// one registered charity, cityA, and a campaign of it, "c-1", open until
// 2099; it returns a submit function signing a statement of cityA's.
func donationsServer(t testing.TB, be *logtest.Backend) (submit func(typ string, body any) error, sign func(typ string, body any) []byte, send func(stmt []byte) error) {
	t.Helper()
	l := be.OpenLog(t, logtest.NewLogKey(t, donationsOrigin), time.Hour)
	charity := newSigner(t, cityA)
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{{
		ID: cityA, Roles: []string{donations.RoleCharity}, Keys: []registry.Key{{VKey: charity.vkey}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := personalities.NewServer(personalities.Options{
		Store: be.Store, Registry: reg,
		Personalities: map[string]personalities.Personality{donations.LogName: {Domain: donations.New(), Log: l}},
	})
	if err != nil {
		t.Fatal(err)
	}
	client, _ := startServer(t, srv)
	sign = func(typ string, body any) []byte {
		return statementFor(t, donationsOrigin, typ, time.Now(), body, charity)
	}
	send = func(stmt []byte) error {
		_, err := client.Submit(t.Context(), &api.SubmitRequest{Log: donations.LogName, Statement: stmt})
		return err
	}
	submit = func(typ string, body any) error { return send(sign(typ, body)) }
	if err := submit(donations.TypeCampaignOpen, map[string]any{"campaign_id": "c-1", "title": "Flood relief",
		"admin_share_max_percent": 5, "hand_on_by": "2099-12-31", "feedback_within_days": 14}); err != nil {
		t.Fatal(err)
	}
	return submit, sign, send
}

// donationsRecipient is the commitment of the n-th final recipient.
func donationsRecipient(n int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "recipient %d", n))
	return hex.EncodeToString(h[:])
}

// handoverToRecipient is the body of a hand-over of amount of donation to
// the n-th recipient.
func handoverToRecipient(id, donation string, amount int64, n int) map[string]any {
	return map[string]any{"handover_id": id, "campaign_id": "c-1", "kind": "money", "currency": "CNY",
		"draws":        []map[string]any{{"donation_id": donation, "amount": amount}},
		"to_recipient": donationsRecipient(n), "code_hash": donations.CodeHash(fmt.Sprintf("code-of-recipient-%d", n))}
}

// TestDonationRace: hand-overs racing for the whole of one donation through
// a real server, 8 at once: exactly one is admitted, the others are refused
// as drawing more than remains (FAILED_PRECONDITION). Five rounds.
func TestDonationRace(t *testing.T) {
	const racers = 8
	submit, sign, send := donationsServer(t, logtest.SQLite(t, logtest.Options{}))
	for round := range 5 {
		donation := fmt.Sprintf("d-%d", round)
		if err := submit(donations.TypeReceive, map[string]any{"donation_id": donation, "campaign_id": "c-1",
			"kind": "money", "currency": "CNY", "amount": 1000}); err != nil {
			t.Fatal(err)
		}
		stmts := make([][]byte, racers)
		for k := range stmts {
			stmts[k] = sign(donations.TypeHandover, handoverToRecipient(fmt.Sprintf("h-%d-%d", round, k), donation, 1000, k))
		}
		got := make([]error, racers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for k := range stmts {
			wg.Go(func() {
				<-start
				got[k] = send(stmts[k])
			})
		}
		close(start)
		wg.Wait()
		byCode := map[codes.Code]int{}
		for k, err := range got {
			c := status.Code(err)
			byCode[c]++
			if c != codes.OK && c != codes.FailedPrecondition {
				t.Errorf("round %d, hand-over %d: %v", round, k, err)
			}
		}
		if byCode[codes.OK] != 1 || byCode[codes.FailedPrecondition] != racers-1 {
			t.Errorf("round %d: %v, want exactly one OK and %d FailedPrecondition", round, byCode, racers-1)
		}
	}
}

// BenchmarkHandovers measures donations.handover statements to final
// recipients admitted per second (wait=false) by 32 concurrent clients,
// "contended": all of them drawing on the same 4 donations of one campaign;
// beside contended funds transfers (BenchmarkTransfers) on the same store
// kind. On SQLite and, when GOVLOG_TEST_MYSQL_DSN names a server, on
// MySQL/MariaDB. Run with
//
//	go test -run '^$' -bench Handovers ./personalities/
func BenchmarkHandovers(b *testing.B) {
	for _, be := range []struct {
		name string
		open func(testing.TB, logtest.Options) *logtest.Backend
	}{
		{"sqlite", logtest.SQLite},
		{"mysql", logtest.MySQL},
	} {
		b.Run(be.name, func(b *testing.B) {
			var rates [2]float64 // hand-overs, funds transfers
			b.Run("handovers", func(b *testing.B) { rates[0] = benchHandovers(b, be.open) })
			b.Run("funds-transfers", func(b *testing.B) { rates[1] = benchTransfers(b, be.open, false) })
			if rates[0] > 0 && rates[1] > 0 {
				fmt.Printf("on %s: hand-overs %.0f/s (contended, %d donations), funds transfers %.0f/s, ratio %.2f\n",
					be.name, rates[0], benchDonations, rates[1], rates[0]/rates[1])
			}
		})
	}
}

// benchDonations is how many donations the benchmark's hand-overs draw on.
const benchDonations = 4

// benchHandovers returns the rate it measured.
func benchHandovers(b *testing.B, open func(testing.TB, logtest.Options) *logtest.Backend) float64 {
	const clients = 32
	submit, sign, send := donationsServer(b, open(b, logtest.Options{}))
	for d := range benchDonations {
		if err := submit(donations.TypeReceive, map[string]any{"donation_id": fmt.Sprintf("d-%d", d), "campaign_id": "c-1",
			"kind": "money", "currency": "CNY", "amount": int64(1) << 53}); err != nil {
			b.Fatal(err)
		}
	}
	// Statements signed before the clock starts, as govlog bench does.
	stmts := make([][]byte, b.N)
	for i := range stmts {
		stmts[i] = sign(donations.TypeHandover, handoverToRecipient(fmt.Sprintf("h-%d", i), fmt.Sprintf("d-%d", i%benchDonations), 1, i))
	}
	rate := submitAll(b, clients, stmts, send, "hand-overs", "handovers/s")
	return rate
}
