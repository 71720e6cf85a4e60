package personalities_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
	"github.com/govlog/govlog/search"
	"github.com/govlog/govlog/storage"
)

// TestFundsReplayMatchesAdmission: a city's fund-control platform and its
// aid office use the funds log at once from several clients (accounts,
// allocations, works, supply and labour contracts, transfers that overspend
// a budget, wages, a guarantee the rule key releases when the pay deadline
// passes, aid grades, beneficiaries and payments). Replaying the whole log
// from an empty state through the funds rules admits every entry and ends
// in exactly the admission store's state, key by key, so every balance and
// the total allocated agree (DESIGN.md: domain state must always equal a
// replay of the log).
func TestFundsReplayMatchesAdmission(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		w := newFundsWorld(t, b)
		w.run(t)
		n := uint64(w.admitted.Load()) + 1 // and the release
		if size := waitSize(t, w.log, n); size != n {
			t.Fatalf("log size %d, want %d admitted statements and one release", size, n)
		}
		replayed, types := w.replay(t, n)
		if releases := types[funds.TypeGuaranteeRelease]; releases != 1 {
			t.Errorf("%d releases in the log, want 1", releases)
		}

		// Every account's balance and the supply, read as a dashboard would.
		var accounts []string
		for k := range replayed {
			if id, ok := strings.CutPrefix(k, funds.AccountKey("")); ok {
				accounts = append(accounts, id)
			}
		}
		slices.Sort(accounts)
		if len(accounts) != 14 {
			t.Errorf("%d accounts replayed, want 14: %v", len(accounts), accounts)
		}
		admitted := map[string]int64{}
		var admittedSupply funds.Supply
		w.inspect(t, func(ctx context.Context, tx storage.AdmitTx) error {
			for _, id := range accounts {
				bal, ok, err := funds.Balance(ctx, tx, id)
				if err != nil {
					return err
				}
				if !ok {
					t.Errorf("account %s replayed, absent from the admission store", id)
				}
				admitted[id] = bal
			}
			var err error
			admittedSupply, err = funds.TotalSupply(ctx, tx)
			return err
		})
		var sum int64
		for _, id := range accounts {
			bal, _, err := funds.Balance(t.Context(), replayed, id)
			if err != nil {
				t.Fatal(err)
			}
			if bal != admitted[id] {
				t.Errorf("account %s: replayed balance %d, admission store %d", id, bal, admitted[id])
			}
			sum += bal
		}
		supply, err := funds.TotalSupply(t.Context(), replayed)
		if err != nil {
			t.Fatal(err)
		}
		if supply != admittedSupply {
			t.Errorf("total supply: replayed %+v, admission store %+v", supply, admittedSupply)
		}
		if supply.Allocated != 230_000_000 || supply.Allocations != 3 || sum != supply.Allocated {
			t.Errorf("supply %+v, balances sum to %d; want 230000000 in 3 allocations, all in accounts", supply, sum)
		}
		// The balances the workload determines, whatever the interleaving.
		for id, want := range map[string]int64{
			"xa:budget": 20_000_000, // exhausted by the transfers, then topped up
			"xa:escrow": 1,          // 1,000,001 lodged, 2 x 500,000 released
			"xa:w-0":    1_200_000,  // two wages
			"xa:w-1":    1_200_000,  // 500,000 released, the 100,000 rest, a wage
			"xa:w-2":    1_200_000,
			"gy:budget": 10_000_000 - 270_000 - 285_000,
		} {
			if got := admitted[id]; got != want {
				t.Errorf("account %s holds %d, want %d", id, got, want)
			}
		}

		// And the whole state, key by key.
		w.checkState(t, replayed)
	})
}

// replay reads the first n entries of the funds log and applies them, as
// a monitor does, from an empty state through the funds rules; each must
// be admitted. It returns the state and how many entries of each type.
func (w *fundsWorld) replay(t *testing.T, n uint64) (ruletest.State, map[string]int) {
	t.Helper()
	var entries [][]byte
	for uint64(len(entries)) < n {
		resp, err := w.client.GetEntries(t.Context(), &api.GetEntriesRequest{
			Log: funds.LogName, Start: int64(len(entries)), Count: int64(n) - int64(len(entries)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Entries) == 0 {
			t.Fatalf("no entries from %d below size %d", len(entries), n)
		}
		entries = append(entries, resp.Entries...)
	}
	replayed := ruletest.State{}
	rules := funds.New()
	types := map[string]int{}
	for i, leaf := range entries {
		st, sigs, err := govlog.ParseStatement(leaf, fundsWorldOrigin, w.reg.Verifiers())
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		role, err := rules.RequiredRole(st.Type)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		agency, err := w.reg.Authorize(sigs, role, st.Time)
		if err != nil {
			t.Fatalf("entry %d (%s): %v", i, st.Type, err)
		}
		e := rule.Entry{Type: st.Type, Time: st.Time, Body: st.Body, Agency: agency, LeafHash: govlog.LeafHash(leaf)}
		if err := rules.Apply(t.Context(), replayed, e); err != nil {
			t.Fatalf("replay refuses entry %d (%s): %v", i, st.Type, err)
		}
		types[st.Type]++
	}
	return replayed, types
}

// checkState compares a replayed state with the admission store's, key by
// key. The store's interface has no range read, so its table is read
// directly (see storage/*/schema.sql).
func (w *fundsWorld) checkState(t *testing.T, replayed ruletest.State) {
	t.Helper()
	stored := map[string][]byte{}
	rows, err := w.backend.DB.QueryContext(t.Context(), "SELECT k, v FROM govlog_state WHERE log = ?", funds.LogName)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(k, search.Prefix) {
			continue // the server's search index, not the rules' state
		}
		stored[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := diffStates(replayed, stored); len(diff) > 0 {
		t.Errorf("replayed state (%d keys) differs from the admission store's (%d keys):\n%s",
			len(replayed), len(stored), strings.Join(diff, "\n"))
	}
}

// diffStates lists up to 20 keys whose values differ between a replayed
// state and a stored one.
func diffStates(replayed, stored map[string][]byte) []string {
	keys := map[string]bool{}
	for k := range replayed {
		keys[k] = true
	}
	for k := range stored {
		keys[k] = true
	}
	var diff []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		r, inReplay := replayed[k]
		s, inStore := stored[k]
		switch {
		case !inReplay:
			diff = append(diff, fmt.Sprintf("  %s: only in the store: %s", k, s))
		case !inStore:
			diff = append(diff, fmt.Sprintf("  %s: only in the replay: %s", k, r))
		case !bytes.Equal(r, s):
			diff = append(diff, fmt.Sprintf("  %s: replayed %s, stored %s", k, r, s))
		}
		if len(diff) == 20 {
			return append(diff, "  ...")
		}
	}
	return diff
}

const fundsWorldOrigin = "gov.example/funds"

// Agencies of the funds world.
const (
	fwTreasury = "mof"         // treasury: allocates
	fwBureau   = "xiongan-fb"  // Xiong'an finance bureau: works, supply and labour contracts, payroll
	fwAid      = "guiyang-ca"  // Guiyang civil affairs: aid
	fwRules    = "funds-rules" // the log's rule key: guarantee releases
)

// fundsWorld is a funds admission server on one backend, with a settable
// clock and the log's rule key, as cmd/govlog runs it, and the keys of the
// agencies that use it.
type fundsWorld struct {
	backend *logtest.Backend
	log     *logserver.Log
	reg     *registry.Registry
	client  api.LogClient
	clock   atomic.Int64 // Unix seconds

	treasury, bureau, aid key

	// admitted counts the statements admitted from clients (not the
	// duplicates, nor the scheduler's).
	admitted atomic.Int64
}

func newFundsWorld(t *testing.T, b *logtest.Backend) *fundsWorld {
	t.Helper()
	w := &fundsWorld{backend: b, treasury: newSigner(t, fwTreasury), bureau: newSigner(t, fwBureau), aid: newSigner(t, fwAid)}
	ruleKey := newSigner(t, fwRules)
	w.log = b.OpenLog(t, logtest.NewLogKey(t, fundsWorldOrigin), testMMD)
	var err error
	w.reg, err = registry.New(registry.File{Agencies: []registry.Agency{
		{ID: fwTreasury, Roles: []string{funds.RoleTreasury}, Keys: []registry.Key{{VKey: w.treasury.vkey}}},
		{ID: fwBureau, Roles: []string{funds.RoleFundManager, funds.RolePayroll}, Keys: []registry.Key{{VKey: w.bureau.vkey}}},
		{ID: fwAid, Roles: []string{funds.RoleFundManager, funds.RoleAidOfficer}, Keys: []registry.Key{{VKey: w.aid.vkey}}},
		{ID: fwRules, Roles: []string{funds.RoleRuleEngine}, Keys: []registry.Key{{VKey: ruleKey.vkey}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Store(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC).Unix())
	srv, err := personalities.NewServer(personalities.Options{
		Store: b.Store, Registry: w.reg, Now: w.now, ScheduleInterval: 20 * time.Millisecond,
		Personalities: map[string]personalities.Personality{funds.LogName: {Domain: funds.New(), Log: w.log, RuleKey: ruleKey}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.client, _ = startServer(t, srv)
	return w
}

func (w *fundsWorld) now() time.Time { return time.Unix(w.clock.Load(), 0).UTC() }

// submit signs body as a statement made now and submits it without
// waiting for inclusion.
func (w *fundsWorld) submit(t *testing.T, signer key, typ string, body any) error {
	stmt := statementFor(t, fundsWorldOrigin, typ, w.now(), body, signer)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := w.client.Submit(ctx, &api.SubmitRequest{Log: funds.LogName, Statement: stmt})
	if err == nil && !resp.Duplicate {
		w.admitted.Add(1)
	}
	return err
}

// must submits a statement that must be admitted; it may run in any
// goroutine, so it reports with Errorf.
func (w *fundsWorld) must(t *testing.T, signer key, typ string, body any) {
	if err := w.submit(t, signer, typ, body); err != nil {
		t.Errorf("%s %+v: %v", typ, body, err)
	}
}

// refused submits a statement the rules must refuse with code.
func (w *fundsWorld) refused(t *testing.T, signer key, typ string, body any, code codes.Code) {
	if err := w.submit(t, signer, typ, body); status.Code(err) != code {
		t.Errorf("%s %+v: %v, want %v", typ, body, err, code)
	}
}

// inspect reads the admission store in a transaction that is rolled back.
func (w *fundsWorld) inspect(t *testing.T, f func(ctx context.Context, tx storage.AdmitTx) error) {
	t.Helper()
	err := w.backend.Store.Admit(context.Background(), funds.LogName, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := f(ctx, tx); err != nil {
			return err
		}
		return errReadOnly
	})
	if !errors.Is(err, errReadOnly) {
		t.Fatalf("couldn't inspect the store: %v", err)
	}
}

// commitTo is a salted commitment to a person, as agencies put them in
// statements.
func commitTo(s string) string {
	h := sha256.Sum256([]byte("salt|" + s))
	return hex.EncodeToString(h[:])
}

// run is the workload. In the amounts, 100 is one yuan.
//
//  1. Xiong'an and Guiyang set up at once: accounts, allocations, a works
//     and a supply contract, an advance to the builder, a labour contract
//     of three workers whose builder lodges a guarantee of 10,000.01 in two
//     parts; an aid table of two grades and six beneficiaries.
//  2. At once: four clients send 48 transfers of 50,000 under the two
//     contracts from a budget that covers 34 of them (the ceilings would
//     allow 44), so exactly 14 are refused; payroll pays one worker for
//     March (and is refused a second time); the aid office pays March,
//     raises a grade and pays April (and is refused a second March).
//  3. The clock passes March's pay deadline: the rule key releases the
//     deposit to the two unpaid workers, 5,000.00 each, a cent staying in
//     escrow.
//  4. At once: payroll pays the two the rest of March and everyone April;
//     the treasury tops the budget up.
func (w *fundsWorld) run(t *testing.T) {
	t.Helper()
	workers := []string{commitTo("worker-0"), commitTo("worker-1"), commitTo("worker-2")}
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, a := range []funds.AccountOpenBody{
			{AccountID: "xa:budget", OwnerKind: funds.OwnerAgency, Owner: fwBureau, Kind: funds.KindBudget},
			{AccountID: "xa:builder", OwnerKind: funds.OwnerCompany, Owner: "91130600MA0C000001", Kind: funds.KindCompany},
			{AccountID: "xa:supplier", OwnerKind: funds.OwnerCompany, Owner: "91130600MA0C000002", Kind: funds.KindCompany},
			{AccountID: "xa:escrow", OwnerKind: funds.OwnerAgency, Owner: fwBureau, Kind: funds.KindEscrow},
		} {
			w.must(t, w.bureau, funds.TypeAccountOpen, a)
		}
		for i, p := range workers {
			w.must(t, w.bureau, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: fmt.Sprintf("xa:w-%d", i), OwnerKind: funds.OwnerPerson, Owner: p, Kind: funds.KindWorker})
		}
		w.must(t, w.treasury, funds.TypeAllocate, funds.AllocateBody{AllocationID: "xa:a-2026-001", To: "xa:budget", Amount: 200_000_000, BudgetLine: "2026 roads"})
		w.must(t, w.bureau, funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "xa:road", Kind: funds.ContractWorks, Payer: "xa:budget", Payee: "xa:builder", Ceiling: 150_000_000})
		w.must(t, w.bureau, funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "xa:cement", Kind: funds.ContractSupply, Payer: "xa:budget", Payee: "xa:supplier", Ceiling: 100_000_000})
		w.must(t, w.bureau, funds.TypeTransfer, funds.TransferBody{TransferID: "xa:t-advance", From: "xa:budget", To: "xa:builder", Amount: 30_000_000, ContractID: "xa:road"})
		w.must(t, w.bureau, funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "xa:crew", Kind: funds.ContractLabour, Payer: "xa:builder",
			Ceiling: 3_600_000, Workers: workers, WagePerPeriod: 600_000,
			Schedule: []funds.PayPeriod{{Period: "2026-03", PayDeadline: "2026-04-10"}, {Period: "2026-04", PayDeadline: "2026-05-10"}}})
		w.must(t, w.bureau, funds.TypeGuaranteeLodge, funds.GuaranteeLodgeBody{GuaranteeID: "xa:g-1", ContractID: "xa:crew", From: "xa:builder", Escrow: "xa:escrow", Amount: 800_000})
		w.must(t, w.bureau, funds.TypeGuaranteeLodge, funds.GuaranteeLodgeBody{GuaranteeID: "xa:g-2", ContractID: "xa:crew", From: "xa:builder", Escrow: "xa:escrow", Amount: 200_001})
	})
	grades := []string{"low", "high"}
	rates := map[string]int64{"low": 30_000, "high": 60_000}
	wg.Go(func() {
		w.must(t, w.aid, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: "gy:budget", OwnerKind: funds.OwnerAgency, Owner: fwAid, Kind: funds.KindBudget})
		w.must(t, w.treasury, funds.TypeAllocate, funds.AllocateBody{AllocationID: "gy:a-2026-001", To: "gy:budget", Amount: 10_000_000, BudgetLine: "2026 minimum living allowance"})
		for _, g := range grades {
			w.must(t, w.aid, funds.TypeAidGrade, funds.AidGradeBody{Grade: g, AmountPerPeriod: rates[g]})
		}
		for i := range 6 {
			person := commitTo(fmt.Sprint("beneficiary-", i))
			acct := fmt.Sprintf("gy:b-%d", i)
			w.must(t, w.aid, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: acct, OwnerKind: funds.OwnerPerson, Owner: person, Kind: funds.KindBeneficiary})
			w.must(t, w.aid, funds.TypeBeneficiaryRegister, funds.BeneficiaryRegisterBody{BeneficiaryID: fmt.Sprintf("gy:ben-%d", i), Credential: person, Grade: grades[i%2], Account: acct})
		}
	})
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	const transferClients, perClient, amount = 4, 12, 5_000_000
	var transfersRefused atomic.Int64
	for c := range transferClients {
		wg.Go(func() {
			for i := range perClient {
				contract, to := "xa:road", "xa:builder"
				if (c+i)%2 == 1 {
					contract, to = "xa:cement", "xa:supplier"
				}
				err := w.submit(t, w.bureau, funds.TypeTransfer, funds.TransferBody{
					TransferID: fmt.Sprintf("xa:t-%d-%02d", c, i), From: "xa:budget", To: to, Amount: amount, ContractID: contract})
				switch status.Code(err) {
				case codes.OK:
				case codes.FailedPrecondition:
					transfersRefused.Add(1)
				default:
					t.Errorf("transfer %d-%d: %v", c, i, err)
				}
			}
		})
	}
	wage := func(id string, worker int, period string, amount int64) funds.WagePayBody {
		return funds.WagePayBody{PaymentID: id, ContractID: "xa:crew", Worker: workers[worker], Period: period, Amount: amount,
			From: "xa:builder", To: fmt.Sprintf("xa:w-%d", worker)}
	}
	wg.Go(func() {
		w.must(t, w.bureau, funds.TypeWagePay, wage("xa:p-2026-03-0", 0, "2026-03", 600_000))
		w.refused(t, w.bureau, funds.TypeWagePay, wage("xa:p-2026-03-0-again", 0, "2026-03", 600_000), codes.AlreadyExists)
	})
	aidPay := func(id string, ben int, period string, rates map[string]int64) funds.AidPayBody {
		g := grades[ben%2]
		return funds.AidPayBody{PaymentID: id, BeneficiaryID: fmt.Sprintf("gy:ben-%d", ben), Grade: g, Period: period,
			From: "gy:budget", To: fmt.Sprintf("gy:b-%d", ben), Amount: rates[g]}
	}
	wg.Go(func() {
		for i := range 6 {
			w.must(t, w.aid, funds.TypeAidPay, aidPay(fmt.Sprintf("gy:aid-%d-2026-03", i), i, "2026-03", rates))
		}
		raised := map[string]int64{"low": 35_000, "high": rates["high"]}
		w.must(t, w.aid, funds.TypeAidGrade, funds.AidGradeBody{Grade: "low", AmountPerPeriod: raised["low"]})
		for i := range 6 {
			w.must(t, w.aid, funds.TypeAidPay, aidPay(fmt.Sprintf("gy:aid-%d-2026-04", i), i, "2026-04", raised))
		}
		w.refused(t, w.aid, funds.TypeAidPay, aidPay("gy:aid-0-2026-03-again", 0, "2026-03", rates), codes.AlreadyExists)
	})
	wg.Wait()
	// The budget holds 170,000,000 after the advance: 34 transfers.
	if n := transfersRefused.Load(); n != transferClients*perClient-34 {
		t.Errorf("%d transfers refused, want %d", n, transferClients*perClient-34)
	}

	w.clock.Store(time.Date(2026, 4, 11, 0, 0, 5, 0, time.UTC).Unix())
	waitFor(t, func() bool {
		released := false
		w.inspect(t, func(ctx context.Context, tx storage.AdmitTx) error {
			p, ok, err := funds.Period(ctx, tx, "xa:crew", "2026-03")
			released = ok && p.Release != nil
			return err
		})
		return released
	})

	wg.Go(func() {
		for i := 1; i <= 2; i++ {
			w.must(t, w.bureau, funds.TypeWagePay, wage(fmt.Sprintf("xa:p-2026-03-%d-rest", i), i, "2026-03", 100_000))
		}
	})
	wg.Go(func() {
		for i := range workers {
			w.must(t, w.bureau, funds.TypeWagePay, wage(fmt.Sprintf("xa:p-2026-04-%d", i), i, "2026-04", 600_000))
		}
	})
	wg.Go(func() {
		w.must(t, w.treasury, funds.TypeAllocate, funds.AllocateBody{AllocationID: "xa:a-2026-002", To: "xa:budget", Amount: 20_000_000, BudgetLine: "2026 roads, supplementary"})
	})
	wg.Wait()
}
