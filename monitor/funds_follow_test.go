package monitor_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule/ruletest"
	"github.com/govlog/govlog/search"
	"github.com/govlog/govlog/storage"
)

const fundsTestOrigin = "gov.example/funds"

// TestFollowFundsServer: the real funds admission server (Trillian and the
// admission store on SQLite, as `govlog dev` runs them) serves its log over
// gRPC, and the monitor reads it with the client package, as `govlog
// monitor` does, while several clients use the log: transfers, some refused
// for overspending, wages, a guarantee released by the log's rule key when
// the pay deadline passes, aid. The monitor follows the log twice, midway
// (after the transfers, before the release) and at the end, raises no alert, and its replayed state is the
// admission store's, key by key: the same balances and total allocated.
// Its dashboard shows them.
func TestFollowFundsServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startFundsServer(t)

	policyText, err := govlog.FormatPolicy([]string{s.logKey.VKey}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := govlog.ParsePolicy(policyText)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	store := openStore(t, monitor.Memory)
	var mu sync.Mutex
	var alerts []monitor.Alert
	mon, err := monitor.New(monitor.Options{
		Logs: []monitor.Log{{Name: funds.LogName, Origin: fundsTestOrigin, Policy: policy, Reader: c,
			Domain: funds.New(), Registry: s.reg}},
		Store: store, BatchSize: 16, // several batches per pass
		OnAlert: func(a monitor.Alert) {
			mu.Lock()
			defer mu.Unlock()
			alerts = append(alerts, a)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	followed := func() uint64 {
		t.Helper()
		if err := mon.Follow(ctx); err != nil {
			t.Fatalf("Follow: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, a := range alerts {
			t.Errorf("alert %s: %s", a.Kind, a.Message)
		}
		v, ok, err := store.Verified(ctx, fundsTestOrigin)
		if err != nil || !ok {
			t.Fatalf("no verified checkpoint after Follow (%v)", err)
		}
		return v.Size
	}

	s.setUp(t)
	s.spend(t)
	if size := followed(); size == 0 {
		t.Error("the first pass verified no entry")
	}
	s.releaseAndPay(t)
	n := s.admitted.Load() + 1 // and the release
	s.waitSize(t, n)
	if size := followed(); size != n {
		t.Fatalf("verified %d entries, want %d", size, n)
	}
	if stored, _ := store.Alerts(ctx); len(stored) != 0 {
		t.Errorf("store holds %d alerts", len(stored))
	}

	replayed, err := store.State(ctx, fundsTestOrigin)
	if err != nil {
		t.Fatal(err)
	}
	admission := s.state(t)
	for _, k := range slices.Sorted(maps.Keys(admission)) {
		if !bytes.Equal(replayed[k], admission[k]) {
			t.Errorf("%s: monitor %s, admission store %s", k, replayed[k], admission[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(replayed)) {
		if _, ok := admission[k]; !ok {
			t.Errorf("%s: only in the monitor's state: %s", k, replayed[k])
		}
	}
	var accounts []string
	for k := range replayed {
		if id, ok := strings.CutPrefix(k, funds.AccountKey("")); ok {
			accounts = append(accounts, id)
		}
	}
	slices.Sort(accounts)
	if len(accounts) != 9 {
		t.Errorf("monitor replayed %d accounts, want 9: %v", len(accounts), accounts)
	}
	var sum int64
	for _, id := range accounts {
		got, _, err := funds.Balance(ctx, ruletest.State(replayed), id)
		if err != nil {
			t.Fatal(err)
		}
		if want := s.balance(t, id); got != want {
			t.Errorf("%s: monitor's balance %d, admission store's %d", id, got, want)
		}
		sum += got
	}
	supply, err := funds.TotalSupply(ctx, ruletest.State(replayed))
	if err != nil {
		t.Fatal(err)
	}
	if want := s.supply(t); supply != want || supply.Allocated != 52_000_000 || sum != supply.Allocated {
		t.Errorf("monitor's supply %+v (balances sum to %d), admission store's %+v; want 52000000", supply, sum, want)
	}

	srv := httptest.NewServer(mon.Handler())
	defer srv.Close()
	_, page := get(t, srv.URL+"/")
	for _, want := range []string{
		`<td class="num">520,000.00 CNY</td>`,
		`<td>sz:escrow</td><td>escrow</td><td>agency</td><td>Shenzhen finance bureau (sz-fb)</td><td>Shenzhen finance bureau (sz-fb)</td><td class="num">0.01 CNY</td>`,
		`<td>sz:w-1</td><td>worker</td><td>person</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("dashboard:\n%s", page)
	}
}

// Agencies of the funds server.
const (
	szTreasury = "sz-treasury"
	szBureau   = "sz-fb"
	szRules    = "sz-funds-rules"
)

// fundsServer is a funds admission server on SQLite, served over gRPC on
// loopback TCP, with a settable clock and the log's rule key, and the
// agencies that submit to it with the client package.
type fundsServer struct {
	backend  *logtest.Backend
	logKey   logtest.LogKey
	reg      *registry.Registry
	addr     string
	client   *client.Client
	clock    atomic.Int64 // Unix seconds
	treasury note.Signer
	bureau   note.Signer
	workers  []string // commitments
	// admitted counts the statements the agencies got admitted.
	admitted atomic.Uint64
}

func startFundsServer(t *testing.T) *fundsServer {
	t.Helper()
	s := &fundsServer{backend: logtest.SQLite(t, logtest.Options{}), logKey: logtest.NewLogKey(t, fundsTestOrigin)}
	var treasuryVKey, bureauVKey string
	s.treasury, treasuryVKey = newSigner(t, szTreasury, 41)
	s.bureau, bureauVKey = newSigner(t, szBureau, 42)
	ruleKey, rulesVKey := newSigner(t, szRules, 43)
	var err error
	s.reg, err = registry.New(registry.File{Agencies: []registry.Agency{
		{ID: szTreasury, Name: "Shenzhen treasury", Roles: []string{funds.RoleTreasury}, Keys: []registry.Key{{VKey: treasuryVKey}}},
		{ID: szBureau, Name: "Shenzhen finance bureau", Roles: []string{funds.RoleFundManager, funds.RolePayroll, funds.RoleAidOfficer},
			Keys: []registry.Key{{VKey: bureauVKey}}},
		{ID: szRules, Roles: []string{funds.RoleRuleEngine}, Keys: []registry.Key{{VKey: rulesVKey}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		h := sha256.Sum256(fmt.Appendf(nil, "salt-%d|worker %d", i, i))
		s.workers = append(s.workers, hex.EncodeToString(h[:]))
	}
	s.clock.Store(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC).Unix())

	l := s.backend.OpenLog(t, s.logKey, time.Hour)
	srv, err := personalities.NewServer(personalities.Options{
		Store: s.backend.Store, Registry: s.reg, Now: s.now, ScheduleInterval: 20 * time.Millisecond,
		Personalities: map[string]personalities.Personality{funds.LogName: {Domain: funds.New(), Log: l, RuleKey: ruleKey}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(personalities.MaxMessageSize))
	api.RegisterLogServer(gs, srv)
	go gs.Serve(lis)
	t.Cleanup(func() {
		gs.Stop()
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Server.Run: %v", err)
		}
	})
	s.addr = lis.Addr().String()
	if s.client, err = client.Dial(s.addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.client.Close() })
	return s
}

func (s *fundsServer) now() time.Time { return time.Unix(s.clock.Load(), 0).UTC() }

// submit signs body as a statement made now and submits it without
// waiting for inclusion.
func (s *fundsServer) submit(signer note.Signer, typ string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	st, err := govlog.NewStatement(fundsTestOrigin, typ, s.now(), b)
	if err != nil {
		return err
	}
	signed, err := st.Sign(signer)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.client.Submit(ctx, funds.LogName, signed, false)
	if err == nil && !res.Duplicate {
		s.admitted.Add(1)
	}
	return err
}

// must submits a statement that must be admitted, from any goroutine.
func (s *fundsServer) must(t *testing.T, signer note.Signer, typ string, body any) {
	if err := s.submit(signer, typ, body); err != nil {
		t.Errorf("%s %+v: %v", typ, body, err)
	}
}

func (s *fundsServer) wage(id string, worker int, period string, amount int64) funds.WagePayBody {
	return funds.WagePayBody{PaymentID: id, ContractID: "sz:crew", Worker: s.workers[worker], Period: period, Amount: amount,
		From: "sz:builder", To: fmt.Sprintf("sz:w-%d", worker)}
}

func aid(id string, ben int, period string) funds.AidPayBody {
	return funds.AidPayBody{PaymentID: id, BeneficiaryID: fmt.Sprintf("sz:ben-%d", ben), Grade: "basic", Period: period,
		From: "sz:aid", To: fmt.Sprintf("sz:b-%d", ben), Amount: 50_000}
}

// setUp opens nine accounts, allocates 500,000.00 yuan (amounts are in
// fen), registers a works contract with an advance to the builder, a
// labour contract of three workers with a guarantee of 10,000.01, and two
// aid beneficiaries.
func (s *fundsServer) setUp(t *testing.T) {
	for _, a := range []funds.AccountOpenBody{
		{AccountID: "sz:budget", OwnerKind: funds.OwnerAgency, Owner: szBureau, Kind: funds.KindBudget},
		{AccountID: "sz:aid", OwnerKind: funds.OwnerAgency, Owner: szBureau, Kind: funds.KindBudget},
		{AccountID: "sz:builder", OwnerKind: funds.OwnerCompany, Owner: "91440300MA5F000001", Kind: funds.KindCompany},
		{AccountID: "sz:escrow", OwnerKind: funds.OwnerAgency, Owner: szBureau, Kind: funds.KindEscrow},
	} {
		s.must(t, s.bureau, funds.TypeAccountOpen, a)
	}
	for i, w := range s.workers {
		s.must(t, s.bureau, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: fmt.Sprintf("sz:w-%d", i), OwnerKind: funds.OwnerPerson, Owner: w, Kind: funds.KindWorker})
	}
	s.must(t, s.treasury, funds.TypeAllocate, funds.AllocateBody{AllocationID: "sz:a-1", To: "sz:budget", Amount: 50_000_000, BudgetLine: "2026 metro"})
	s.must(t, s.treasury, funds.TypeAllocate, funds.AllocateBody{AllocationID: "sz:a-2", To: "sz:aid", Amount: 2_000_000, BudgetLine: "2026 aid"})
	s.must(t, s.bureau, funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "sz:metro", Kind: funds.ContractWorks,
		Payer: "sz:budget", Payee: "sz:builder", Ceiling: 100_000_000})
	s.must(t, s.bureau, funds.TypeTransfer, funds.TransferBody{TransferID: "sz:t-advance", From: "sz:budget", To: "sz:builder", Amount: 10_000_000, ContractID: "sz:metro"})
	s.must(t, s.bureau, funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "sz:crew", Kind: funds.ContractLabour, Payer: "sz:builder",
		Ceiling: 3_600_000, Workers: s.workers, WagePerPeriod: 600_000,
		Schedule: []funds.PayPeriod{{Period: "2026-03", PayDeadline: "2026-04-10"}, {Period: "2026-04", PayDeadline: "2026-05-10"}}})
	s.must(t, s.bureau, funds.TypeGuaranteeLodge, funds.GuaranteeLodgeBody{GuaranteeID: "sz:g-1", ContractID: "sz:crew", From: "sz:builder", Escrow: "sz:escrow", Amount: 1_000_001})
	s.must(t, s.bureau, funds.TypeAidGrade, funds.AidGradeBody{Grade: "basic", AmountPerPeriod: 50_000})
	for i := range 2 {
		h := sha256.Sum256(fmt.Appendf(nil, "salt-%d|beneficiary %d", i, i))
		person := hex.EncodeToString(h[:])
		s.must(t, s.bureau, funds.TypeAccountOpen, funds.AccountOpenBody{AccountID: fmt.Sprintf("sz:b-%d", i), OwnerKind: funds.OwnerPerson, Owner: person, Kind: funds.KindBeneficiary})
		s.must(t, s.bureau, funds.TypeBeneficiaryRegister, funds.BeneficiaryRegisterBody{BeneficiaryID: fmt.Sprintf("sz:ben-%d", i), Credential: person, Grade: "basic", Account: fmt.Sprintf("sz:b-%d", i)})
	}
	if t.Failed() {
		t.FailNow()
	}
}

// spend runs, at once: four clients sending 32 transfers of 20,000.00 from
// a budget that covers 20 of them; payroll paying one worker for March;
// the aid office paying March.
func (s *fundsServer) spend(t *testing.T) {
	var wg sync.WaitGroup
	var refused atomic.Int64
	for c := range 4 {
		wg.Go(func() {
			for i := range 8 {
				err := s.submit(s.bureau, funds.TypeTransfer, funds.TransferBody{TransferID: fmt.Sprintf("sz:t-%d-%d", c, i),
					From: "sz:budget", To: "sz:builder", Amount: 2_000_000, ContractID: "sz:metro"})
				switch status.Code(err) {
				case codes.OK:
				case codes.FailedPrecondition:
					refused.Add(1)
				default:
					t.Errorf("transfer: %v", err)
				}
			}
		})
	}
	wg.Go(func() { s.must(t, s.bureau, funds.TypeWagePay, s.wage("sz:p-03-0", 0, "2026-03", 600_000)) })
	wg.Go(func() {
		for i := range 2 {
			s.must(t, s.bureau, funds.TypeAidPay, aid(fmt.Sprintf("sz:aid-03-%d", i), i, "2026-03"))
		}
	})
	wg.Wait()
	if n := refused.Load(); n != 12 {
		t.Errorf("%d transfers refused, want 12", n)
	}
}

// releaseAndPay moves the clock past March's pay deadline, waits for the
// rule key's release of the deposit to the two unpaid workers (5,000.00
// each, a fen staying in escrow), then pays them the rest of March and
// everyone April, and the aid for April.
func (s *fundsServer) releaseAndPay(t *testing.T) {
	s.clock.Store(time.Date(2026, 4, 11, 0, 0, 5, 0, time.UTC).Unix())
	deadline := time.Now().Add(10 * time.Second)
	for {
		var released bool
		s.read(t, func(ctx context.Context, tx storage.AdmitTx) error {
			p, ok, err := funds.Period(ctx, tx, "sz:crew", "2026-03")
			released = ok && p.Release != nil
			return err
		})
		if released {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no release 10s after the deadline passed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; i <= 2; i++ {
			s.must(t, s.bureau, funds.TypeWagePay, s.wage(fmt.Sprintf("sz:p-03-%d-rest", i), i, "2026-03", 100_000))
		}
	})
	wg.Go(func() {
		for i := range 3 {
			s.must(t, s.bureau, funds.TypeWagePay, s.wage(fmt.Sprintf("sz:p-04-%d", i), i, "2026-04", 600_000))
		}
	})
	wg.Go(func() {
		for i := range 2 {
			s.must(t, s.bureau, funds.TypeAidPay, aid(fmt.Sprintf("sz:aid-04-%d", i), i, "2026-04"))
		}
	})
	wg.Wait()
}

// waitSize waits until the log's checkpoint holds n entries.
func (s *fundsServer) waitSize(t *testing.T, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		signed, err := s.client.Checkpoint(context.Background(), funds.LogName)
		if err != nil {
			t.Fatal(err)
		}
		cp, _, err := govlog.OpenCheckpoint(signed, s.logKey.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Size >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint size %d, want %d", cp.Size, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var errRolledBack = errors.New("read only")

// read reads the admission store in a transaction that is rolled back.
func (s *fundsServer) read(t *testing.T, f func(ctx context.Context, tx storage.AdmitTx) error) {
	t.Helper()
	err := s.backend.Store.Admit(context.Background(), funds.LogName, func(ctx context.Context, tx storage.AdmitTx) error {
		if err := f(ctx, tx); err != nil {
			return err
		}
		return errRolledBack
	})
	if !errors.Is(err, errRolledBack) {
		t.Fatalf("couldn't read the admission store: %v", err)
	}
}

func (s *fundsServer) balance(t *testing.T, account string) int64 {
	t.Helper()
	var b int64
	s.read(t, func(ctx context.Context, tx storage.AdmitTx) error {
		var err error
		b, _, err = funds.Balance(ctx, tx, account)
		return err
	})
	return b
}

func (s *fundsServer) supply(t *testing.T) funds.Supply {
	t.Helper()
	var sup funds.Supply
	s.read(t, func(ctx context.Context, tx storage.AdmitTx) error {
		var err error
		sup, err = funds.TotalSupply(ctx, tx)
		return err
	})
	return sup
}

// state reads the admission store's whole funds state. Its interface has
// no range read, so the table is read directly (see storage/sqlite/schema.sql).
func (s *fundsServer) state(t *testing.T) map[string][]byte {
	t.Helper()
	rows, err := s.backend.DB.QueryContext(t.Context(), "SELECT k, v FROM govlog_state WHERE log = ?", funds.LogName)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(k, search.Prefix) {
			continue // the server's search index, which no replay makes
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
