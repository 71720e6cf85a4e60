package personalities_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/storage"
)

// TestFundsContention: 50 concurrent transfers from one account whose
// balance covers 10 of them. Exactly 10 are admitted, the other 40 are
// refused with FAILED_PRECONDITION, the balance ends at zero and never
// below, on SQLite and on MariaDB (DESIGN.md: two statements that conflict
// race in one transaction; exactly one wins).
func TestFundsContention(t *testing.T) {
	t.Parallel()
	const fundsOrigin = "gov.example/funds"
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		logKey := logtest.NewLogKey(t, fundsOrigin)
		l := b.OpenLog(t, logKey, testMMD)
		agency := newSigner(t, cityA)
		reg, err := registry.New(registry.File{Agencies: []registry.Agency{{
			ID: cityA, Roles: []string{funds.RoleTreasury, funds.RoleFundManager},
			Keys: []registry.Key{{VKey: agency.vkey}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := personalities.NewServer(personalities.Options{
			Store: b.Store, Registry: reg,
			Personalities: map[string]personalities.Personality{funds.LogName: {Domain: funds.New(), Log: l}},
		})
		if err != nil {
			t.Fatal(err)
		}
		client, stop := startServer(t, srv)
		defer stop()
		submit := func(typ string, body any) error {
			stmt := statementFor(t, fundsOrigin, typ, time.Now(), body, agency)
			_, err := client.Submit(t.Context(), &api.SubmitRequest{Log: funds.LogName, Statement: stmt})
			return err
		}
		for _, s := range []struct {
			typ  string
			body any
		}{
			{funds.TypeAccountOpen, map[string]any{"account_id": "budget", "owner_kind": "agency", "owner": cityA, "kind": "budget"}},
			{funds.TypeAccountOpen, map[string]any{"account_id": "acme", "owner_kind": "company", "owner": "acme", "kind": "company"}},
			{funds.TypeAllocate, map[string]any{"allocation_id": "a1", "to": "budget", "amount": 1000, "budget_line": "roads"}},
			{funds.TypeContractRegister, map[string]any{"contract_id": "c1", "kind": "works", "payer": "budget", "payee": "acme", "ceiling": 100000}},
		} {
			if err := submit(s.typ, s.body); err != nil {
				t.Fatalf("%s: %v", s.typ, err)
			}
		}
		const n = 50
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = submit(funds.TypeTransfer, map[string]any{
					"transfer_id": fmt.Sprintf("t%02d", i), "from": "budget", "to": "acme", "amount": 100, "contract_id": "c1",
				})
			})
		}
		wg.Wait()
		admitted := 0
		for i, err := range errs {
			switch status.Code(err) {
			case codes.OK:
				admitted++
			case codes.FailedPrecondition:
			default:
				t.Errorf("transfer %d: %v", i, err)
			}
		}
		if admitted != 10 {
			t.Errorf("%d transfers admitted, want exactly 10", admitted)
		}
		var budget, acme int64
		err = b.Store.Admit(context.Background(), funds.LogName, func(ctx context.Context, tx storage.AdmitTx) error {
			var err error
			if budget, _, err = funds.Balance(ctx, tx, "budget"); err != nil {
				return err
			}
			acme, _, err = funds.Balance(ctx, tx, "acme")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if budget != 0 || acme != 1000 {
			t.Errorf("balances budget %d, acme %d; want 0 and 1000", budget, acme)
		}
	})
}
