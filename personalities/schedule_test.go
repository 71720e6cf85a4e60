package personalities_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govlog/govlog/api"
	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/storage"
)

// TestGuaranteeReleasedOnce: a labour contract's pay deadline passes with
// a worker unpaid; the funds log's rule key writes the release within a
// few scheduler passes, exactly once, and a restarted server (the same
// store, the deadline long past) does not write it again.
func TestGuaranteeReleasedOnce(t *testing.T) {
	t.Parallel()
	const fundsOrigin = "gov.example/funds"
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		l := b.OpenLog(t, logtest.NewLogKey(t, fundsOrigin), testMMD)
		bureau, ruleKey := newSigner(t, cityA), newSigner(t, "funds-rules")
		reg, err := registry.New(registry.File{Agencies: []registry.Agency{
			{ID: cityA, Roles: []string{funds.RoleTreasury, funds.RoleFundManager, funds.RolePayroll}, Keys: []registry.Key{{VKey: bureau.vkey}}},
			{ID: "funds-rules", Roles: []string{funds.RoleRuleEngine}, Keys: []registry.Key{{VKey: ruleKey.vkey}}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		var clock atomic.Int64
		clock.Store(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC).Unix())
		now := func() time.Time { return time.Unix(clock.Load(), 0).UTC() }
		serve := func() (api.LogClient, func()) {
			srv, err := personalities.NewServer(personalities.Options{
				Store: b.Store, Registry: reg, Now: now, ScheduleInterval: 20 * time.Millisecond,
				Personalities: map[string]personalities.Personality{funds.LogName: {Domain: funds.New(), Log: l, RuleKey: ruleKey}},
			})
			if err != nil {
				t.Fatal(err)
			}
			return startServer(t, srv)
		}
		client, stop := serve()
		submit := func(typ string, body any) {
			t.Helper()
			stmt := statementFor(t, fundsOrigin, typ, now(), body, bureau)
			if _, err := client.Submit(t.Context(), &api.SubmitRequest{Log: funds.LogName, Statement: stmt}); err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
		}
		commit := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
		wang, zhao := commit("salt-1|Wang"), commit("salt-2|Zhao")
		for _, a := range []funds.AccountOpenBody{
			{AccountID: "budget", OwnerKind: funds.OwnerAgency, Owner: cityA, Kind: funds.KindBudget},
			{AccountID: "builder", OwnerKind: funds.OwnerCompany, Owner: "builder-co", Kind: funds.KindCompany},
			{AccountID: "escrow", OwnerKind: funds.OwnerAgency, Owner: cityA, Kind: funds.KindEscrow},
			{AccountID: "w-wang", OwnerKind: funds.OwnerPerson, Owner: wang, Kind: funds.KindWorker},
			{AccountID: "w-zhao", OwnerKind: funds.OwnerPerson, Owner: zhao, Kind: funds.KindWorker},
		} {
			submit(funds.TypeAccountOpen, a)
		}
		submit(funds.TypeAllocate, funds.AllocateBody{AllocationID: "a1", To: "budget", Amount: 50_000, BudgetLine: "roads"})
		submit(funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "road", Kind: funds.ContractWorks, Payer: "budget", Payee: "builder", Ceiling: 40_000})
		submit(funds.TypeTransfer, funds.TransferBody{TransferID: "t1", From: "budget", To: "builder", Amount: 30_000, ContractID: "road"})
		submit(funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "crew", Kind: funds.ContractLabour, Payer: "builder",
			Ceiling: 12_000, Workers: []string{wang, zhao}, WagePerPeriod: 6_000,
			Schedule: []funds.PayPeriod{{Period: "2026-03", PayDeadline: "2026-04-10"}}})
		submit(funds.TypeGuaranteeLodge, funds.GuaranteeLodgeBody{GuaranteeID: "g1", ContractID: "crew", From: "builder", Escrow: "escrow", Amount: 9_000})
		submit(funds.TypeWagePay, funds.WagePayBody{PaymentID: "p1", ContractID: "crew", Worker: wang, Period: "2026-03", Amount: 6_000, From: "builder", To: "w-wang"})
		const admitted = 11 // statements submitted above

		// Before the deadline nothing is written.
		time.Sleep(100 * time.Millisecond)
		if n := countReleases(t, b.Store); n != 0 {
			t.Fatalf("%d releases before the deadline", n)
		}
		// The deadline passes (23:59:59 UTC on 2026-04-10).
		clock.Store(time.Date(2026, 4, 11, 0, 0, 5, 0, time.UTC).Unix())
		waitFor(t, func() bool { return countReleases(t, b.Store) == 1 })
		if got := balance(t, b.Store, "w-zhao"); got != 6_000 {
			t.Errorf("Zhao's account holds %d after the release, want 6000", got)
		}

		// A restart, a day later: still one release.
		stop()
		clock.Store(time.Date(2026, 4, 12, 0, 0, 0, 0, time.UTC).Unix())
		client, stop = serve()
		defer stop()
		time.Sleep(200 * time.Millisecond)
		if n := countReleases(t, b.Store); n != 1 {
			t.Errorf("%d releases after a restart, want 1", n)
		}
		// And the log holds it once, after the statements admitted.
		cp := waitSize(t, l, admitted+1)
		resp, err := client.GetEntries(t.Context(), &api.GetEntriesRequest{Log: funds.LogName, Start: 0, Count: int64(cp)})
		if err != nil {
			t.Fatal(err)
		}
		releases := 0
		for _, e := range resp.Entries {
			if strings.Contains(string(e), `"type":"funds.guarantee.release"`) {
				releases++
			}
		}
		if releases != 1 || len(resp.Entries) != admitted+1 {
			t.Errorf("log: %d entries, %d releases; want %d and 1", len(resp.Entries), releases, admitted+1)
		}
	})
}

// countReleases is 1 once the state records the release of crew's
// 2026-03 period, else 0.
func countReleases(t *testing.T, s storage.AdmissionStore) int {
	t.Helper()
	var n int
	err := s.Admit(context.Background(), funds.LogName, func(ctx context.Context, tx storage.AdmitTx) error {
		p, ok, err := funds.Period(ctx, tx, "crew", "2026-03")
		if ok && p.Release != nil {
			n = 1
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func balance(t *testing.T, s storage.AdmissionStore, account string) int64 {
	t.Helper()
	var b int64
	err := s.Admit(context.Background(), funds.LogName, func(ctx context.Context, tx storage.AdmitTx) error {
		var err error
		b, _, err = funds.Balance(ctx, tx, account)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("condition never met")
}

// waitSize waits until l's checkpoint reaches size, and returns its size.
func waitSize(t *testing.T, l *logserver.Log, size uint64) uint64 {
	t.Helper()
	waitFor(t, func() bool { _, cp := l.Checkpoint(); return cp.Size >= size })
	_, cp := l.Checkpoint()
	return cp.Size
}
