package monitor_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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
	"github.com/govlog/govlog/personalities/approvals"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/search"
)

const approvalsTestOrigin = "gov.example/approvals"

// Agencies of the approvals and funds server: one city government that
// owns the payment kind, files applications at its desk and pays, and the
// two logs' rule keys.
const (
	ccGov           = "cc-gov"
	ccApprovalRules = "cc-approvals-rules"
	ccFundsRules    = "cc-funds-rules"
)

// approvalsFundsServer is one admission server running the approvals and
// the funds logs on one SQLite backend, served over gRPC on loopback TCP.
type approvalsFundsServer struct {
	backend       *logtest.Backend
	approvalsKey  logtest.LogKey
	fundsKey      logtest.LogKey
	reg           *registry.Registry
	addr          string
	client        *client.Client
	gov           note.Signer
	approvalsRule note.Verifier
}

func startApprovalsFundsServer(t *testing.T) *approvalsFundsServer {
	t.Helper()
	s := &approvalsFundsServer{backend: logtest.SQLite(t, logtest.Options{}),
		approvalsKey: logtest.NewLogKey(t, approvalsTestOrigin), fundsKey: logtest.NewLogKey(t, fundsTestOrigin)}
	var govVKey string
	s.gov, govVKey = newSigner(t, ccGov, 61)
	approvalsRuleKey, approvalsRuleVKey := newSigner(t, ccApprovalRules, 62)
	fundsRuleKey, fundsRuleVKey := newSigner(t, ccFundsRules, 63)
	var err error
	if s.approvalsRule, err = note.NewVerifier(approvalsRuleVKey); err != nil {
		t.Fatal(err)
	}
	s.reg, err = registry.New(registry.File{Agencies: []registry.Agency{
		{ID: ccGov, Name: "Chancheng district government",
			Roles: []string{approvals.RoleAuthority, approvals.RoleDesk, funds.RoleTreasury, funds.RoleFundManager},
			Keys:  []registry.Key{{VKey: govVKey}}},
		{ID: ccApprovalRules, Roles: []string{approvals.RoleEngine}, Keys: []registry.Key{{VKey: approvalsRuleVKey}}},
		{ID: ccFundsRules, Roles: []string{funds.RoleRuleEngine}, Keys: []registry.Key{{VKey: fundsRuleVKey}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	approvalsLog := s.backend.OpenLog(t, s.approvalsKey, time.Hour)
	fundsLog := s.backend.OpenLog(t, s.fundsKey, time.Hour)
	srv, err := personalities.NewServer(personalities.Options{
		Store: s.backend.Store, Registry: s.reg, ScheduleInterval: 20 * time.Millisecond,
		Personalities: map[string]personalities.Personality{
			approvals.LogName: {Domain: approvals.New(), Log: approvalsLog, RuleKey: approvalsRuleKey},
			funds.LogName:     {Domain: funds.New(), Log: fundsLog, RuleKey: fundsRuleKey},
		},
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

func (s *approvalsFundsServer) origin(log string) string {
	if log == approvals.LogName {
		return approvalsTestOrigin
	}
	return fundsTestOrigin
}

func (s *approvalsFundsServer) logKey(log string) logtest.LogKey {
	if log == approvals.LogName {
		return s.approvalsKey
	}
	return s.fundsKey
}

// submit signs body as the city government's statement to log, made now,
// and submits it; with wait, it returns once it is in a checkpoint.
func (s *approvalsFundsServer) submit(log, typ string, body any, wait bool) (*client.Submitted, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	st, err := govlog.NewStatement(s.origin(log), typ, time.Now(), b)
	if err != nil {
		return nil, err
	}
	signed, err := st.Sign(s.gov)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.client.Submit(ctx, log, signed, wait)
}

// must submits a statement that must be admitted.
func (s *approvalsFundsServer) must(t *testing.T, log, typ string, body any, wait bool) *client.Submitted {
	t.Helper()
	res, err := s.submit(log, typ, body, wait)
	if err != nil {
		t.Fatalf("%s %+v: %v", typ, body, err)
	}
	return res
}

// refused submits a statement the rules must refuse with FailedPrecondition.
func (s *approvalsFundsServer) refused(t *testing.T, log, typ string, body any) {
	t.Helper()
	_, err := s.submit(log, typ, body, false)
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("%s %+v: %v, want FailedPrecondition", typ, body, err)
	}
}

// waitSize waits until log's checkpoint holds n entries.
func (s *approvalsFundsServer) waitSize(t *testing.T, log string, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		signed, err := s.client.Checkpoint(context.Background(), log)
		if err != nil {
			t.Fatal(err)
		}
		cp, _, err := govlog.OpenCheckpoint(signed, s.logKey(log).Verifier)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Size >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: checkpoint size %d, want %d", log, cp.Size, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// entry reads entry index of log.
func (s *approvalsFundsServer) entry(t *testing.T, log string, index uint64) []byte {
	t.Helper()
	entries, err := s.client.Entries(context.Background(), log, index, 1)
	if err != nil || len(entries) != 1 {
		t.Fatalf("%s entry %d: %d entries, %v", log, index, len(entries), err)
	}
	return entries[0]
}

// state reads the admission store's whole state of log.
func (s *approvalsFundsServer) state(t *testing.T, log string) map[string][]byte {
	t.Helper()
	rows, err := s.backend.DB.QueryContext(t.Context(), "SELECT k, v FROM govlog_state WHERE log = ?", log)
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

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// paymentFields are the fields of a contract-payment application.
func paymentFields(contract string, amount int64, accepted bool) map[string]any {
	return map[string]any{"contract_id": contract, "amount": amount, "invoice": sha256Hex("invoice " + contract), "works_accepted": accepted}
}

// TestFollowApprovalsAndFunds: one admission server runs the approvals log
// and the funds log, whose works contract needs an approved payment
// application for transfers above 1.00 CNY. A transfer citing an
// application not yet filed is refused; once the application is filed, the
// log writes its decision (approved) right after it, and the transfer is
// admitted behind a log view entry naming the approvals log up to the
// decision; a second transfer on the same approval is refused. A monitor
// following the funds log first stops its first pass over it at the log
// view, which names more of the approvals log than it has replayed, goes
// on in its second pass, raises no alert, and replays both logs' state as
// the admission store holds it.
func TestFollowApprovalsAndFunds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startApprovalsFundsServer(t)

	const contract = "cc:bridge"
	s.must(t, approvals.LogName, approvals.TypeRules, json.RawMessage(approvals.DemoPaymentKind), false)
	for _, a := range []funds.AccountOpenBody{
		{AccountID: "cc:budget", OwnerKind: funds.OwnerAgency, Owner: ccGov, Kind: funds.KindBudget},
		{AccountID: "cc:builder", OwnerKind: funds.OwnerCompany, Owner: "91440300MA5F000001", Kind: funds.KindCompany},
	} {
		s.must(t, funds.LogName, funds.TypeAccountOpen, a, false)
	}
	s.must(t, funds.LogName, funds.TypeAllocate, funds.AllocateBody{AllocationID: "cc:a-1", To: "cc:budget", Amount: 1_000_000, BudgetLine: "2026 bridge"}, false)
	s.must(t, funds.LogName, funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: contract, Kind: funds.ContractWorks,
		Payer: "cc:budget", Payee: "cc:builder", Ceiling: 1_000_000, ApprovalKind: "contract-payment", ApprovalAbove: 100}, false)
	transfer := func(id string) funds.TransferBody {
		return funds.TransferBody{TransferID: id, From: "cc:budget", To: "cc:builder", Amount: 500, ContractID: contract, Approval: "pay-1"}
	}
	s.refused(t, funds.LogName, funds.TypeTransfer, transfer("cc:t-early"))

	apply := s.must(t, approvals.LogName, approvals.TypeApply, approvals.ApplyBody{ApplicationID: "pay-1", Kind: "contract-payment",
		Fields: rawFields(t, paymentFields(contract, 500, true))}, true)
	decideIndex := apply.Index + 1
	s.waitSize(t, approvals.LogName, decideIndex+1)
	decideLeaf := s.entry(t, approvals.LogName, decideIndex)
	st, _, err := govlog.ParseStatement(decideLeaf, approvalsTestOrigin, note.VerifierList(s.approvalsRule))
	if err != nil {
		t.Fatalf("entry %d after the application is not signed by the approvals rule key: %v", decideIndex, err)
	}
	if st.Type != approvals.TypeDecide {
		t.Fatalf("entry %d after the application is a %s, want %s", decideIndex, st.Type, approvals.TypeDecide)
	}
	d, err := approvals.ParseDecision(st.Body)
	if err != nil {
		t.Fatal(err)
	}
	if d.Outcome != approvals.Approved || d.ApplicationID != "pay-1" || d.Filing != hex.EncodeToString(apply.LeafHash[:]) {
		t.Fatalf("decision %s, want pay-1 approved on filing %x", st.Body, apply.LeafHash)
	}

	paid := s.must(t, funds.LogName, funds.TypeTransfer, transfer("cc:t-1"), true)
	if paid.Index == 0 {
		t.Fatal("the transfer is the funds log's first entry: no log view before it")
	}
	viewIndex := paid.Index - 1
	v, err := govlog.OpenLogView(s.entry(t, funds.LogName, viewIndex), fundsTestOrigin, s.fundsKey.Verifier)
	if err != nil {
		t.Fatalf("entry %d before the transfer: %v", viewIndex, err)
	}
	if want := (govlog.LogView{Log: approvals.LogName, Size: decideIndex + 1}); v != want {
		t.Fatalf("entry %d before the transfer names %s, want %s", viewIndex, v, want)
	}
	s.refused(t, funds.LogName, funds.TypeTransfer, transfer("cc:t-2"))
	fundsSize := paid.Index + 1
	approvalsSize := decideIndex + 1
	s.waitSize(t, funds.LogName, fundsSize)

	c, err := client.Dial(s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	store := openStore(t, filepath.Join(t.TempDir(), "monitor.db"))
	var mu sync.Mutex
	var alerts []monitor.Alert
	// The funds log first: its pass reaches the log view before the
	// approvals log's pass has replayed what it names.
	mon, err := monitor.New(monitor.Options{
		Logs: []monitor.Log{
			{Name: funds.LogName, Origin: fundsTestOrigin, Policy: policyOf(t, s.fundsKey), Reader: c, Domain: funds.New(), Registry: s.reg},
			{Name: approvals.LogName, Origin: approvalsTestOrigin, Policy: policyOf(t, s.approvalsKey), Reader: c, Domain: approvals.New(), Registry: s.reg},
		},
		Store: store,
		OnAlert: func(a monitor.Alert) {
			mu.Lock()
			defer mu.Unlock()
			alerts = append(alerts, a)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	verified := func(origin string) uint64 {
		t.Helper()
		v, ok, err := store.Verified(ctx, origin)
		if err != nil || !ok {
			t.Fatalf("%s: no verified checkpoint (%v)", origin, err)
		}
		return v.Size
	}
	follow := func() {
		t.Helper()
		if err := mon.Follow(ctx); err != nil {
			t.Fatalf("Follow: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, a := range alerts {
			t.Errorf("alert %s: %s", a.Kind, a.Message)
		}
		alerts = nil
	}
	follow()
	if got := verified(approvalsTestOrigin); got != approvalsSize {
		t.Errorf("first pass: approvals verified up to %d, want %d", got, approvalsSize)
	}
	if got := verified(fundsTestOrigin); got != viewIndex {
		t.Errorf("first pass: funds verified up to %d, want %d (its log view)", got, viewIndex)
	}
	follow()
	if got := verified(fundsTestOrigin); got != fundsSize {
		t.Errorf("second pass: funds verified up to %d, want %d", got, fundsSize)
	}
	if got := verified(approvalsTestOrigin); got != approvalsSize {
		t.Errorf("second pass: approvals verified up to %d, want %d", got, approvalsSize)
	}
	if stored, _ := store.Alerts(ctx); len(stored) != 0 {
		t.Errorf("store holds %d alerts", len(stored))
	}

	for _, l := range []struct{ name, origin string }{{funds.LogName, fundsTestOrigin}, {approvals.LogName, approvalsTestOrigin}} {
		admission := s.state(t, l.name)
		replayed, err := store.State(ctx, l.origin)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range slices.Sorted(maps.Keys(admission)) {
			if strings.HasPrefix(k, keyUsePrefix) {
				continue // only admission servers keep them
			}
			if got, ok := replayed[k]; !ok || !bytes.Equal(got, admission[k]) {
				t.Errorf("%s %s: monitor %.200q (%v), admission store %.200q", l.name, k, got, ok, admission[k])
			}
		}
		for _, k := range slices.Sorted(maps.Keys(replayed)) {
			if _, ok := admission[k]; !ok {
				t.Errorf("%s %s: only in the monitor's state: %.200q", l.name, k, replayed[k])
			}
		}
		if len(replayed) == 0 {
			t.Errorf("%s: the monitor replayed no state", l.name)
		}
	}
	replayed, err := store.State(ctx, fundsTestOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(replayed[funds.ApprovalUsedKey("pay-1")]); got != `"cc:t-1"` {
		t.Errorf("monitor: approval pay-1 used by %s, want \"cc:t-1\"", got)
	}
	if got, want := string(replayed[govlog.LogViewStateKey(approvals.LogName)]), fmt.Sprint(approvalsSize); got != want {
		t.Errorf("monitor: the funds log reads the approvals log at %q, want %s", got, want)
	}
}

func rawFields(t testing.TB, fields map[string]any) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for k, v := range fields {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

// crossWorld holds the keys of fake approvals and funds logs and of the
// agencies that use them, in a static registry.
type crossWorld struct {
	approvalsLog, fundsLog note.Signer
	approvalsPolicy        *govlog.Policy
	fundsPolicy            *govlog.Policy
	owner, desk, engine    note.Signer // approval-authority; service-desk and fund-manager; approvals-engine
	registry               *registry.Registry
}

func newCrossWorld(t testing.TB) *crossWorld {
	t.Helper()
	w := &crossWorld{}
	policy := func(origin string, seed byte) (note.Signer, *govlog.Policy) {
		s, vkey := newSigner(t, origin, seed)
		text, err := govlog.FormatPolicy([]string{vkey}, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		p, err := govlog.ParsePolicy(text)
		if err != nil {
			t.Fatal(err)
		}
		return s, p
	}
	w.approvalsLog, w.approvalsPolicy = policy(approvalsTestOrigin, 71)
	w.fundsLog, w.fundsPolicy = policy(fundsTestOrigin, 72)
	var ownerVKey, deskVKey, engineVKey string
	w.owner, ownerVKey = newSigner(t, "cc-planning", 73)
	w.desk, deskVKey = newSigner(t, "cc-desk", 74)
	w.engine, engineVKey = newSigner(t, "cc-approvals-rules", 75)
	var err error
	w.registry, err = registry.New(registry.File{Agencies: []registry.Agency{
		{ID: "cc-planning", Roles: []string{approvals.RoleAuthority}, Keys: []registry.Key{{VKey: ownerVKey}}},
		{ID: "cc-desk", Roles: []string{approvals.RoleDesk, funds.RoleFundManager}, Keys: []registry.Key{{VKey: deskVKey}}},
		{ID: "cc-approvals-rules", Roles: []string{approvals.RoleEngine}, Keys: []registry.Key{{VKey: engineVKey}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// signIn signs body as a statement of the log origin by signer, at
// statementTime plus seconds.
func signIn(t testing.TB, origin string, signer note.Signer, seconds int, typ string, body any) []byte {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	st, err := govlog.NewStatement(origin, typ, statementTime.Add(time.Duration(seconds)*time.Second), b)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := st.Sign(signer)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// paymentApplication returns the approvals log's first entries: the
// payment kind's rules and an application, id, filed by the desk.
func (w *crossWorld) paymentApplication(t testing.TB, id string, accepted bool) (rules, apply []byte) {
	t.Helper()
	rules = signIn(t, approvalsTestOrigin, w.owner, 0, approvals.TypeRules, json.RawMessage(approvals.DemoPaymentKind))
	apply = signIn(t, approvalsTestOrigin, w.desk, 1, approvals.TypeApply, approvals.ApplyBody{ApplicationID: id, Kind: "contract-payment",
		Fields: rawFields(t, paymentFields("cc:bridge", 500, accepted))})
	return rules, apply
}

// decision returns an approvals.decide of the application id, filed in
// filing, with outcome, signed by the approvals rule key.
func (w *crossWorld) decision(t testing.TB, id string, filing []byte, outcome string) []byte {
	t.Helper()
	h := govlog.LeafHash(filing)
	return signIn(t, approvalsTestOrigin, w.engine, 2, approvals.TypeDecide, approvals.Decision{ApplicationID: id,
		Filing: hex.EncodeToString(h[:]), Kind: "contract-payment", Version: 1, Outcome: outcome})
}

func (w *crossWorld) approvalsLogOf(reader monitor.LogReader) monitor.Log {
	return monitor.Log{Name: approvals.LogName, Origin: approvalsTestOrigin, Policy: w.approvalsPolicy, Reader: reader,
		Domain: approvals.New(), Registry: w.registry}
}

func (w *crossWorld) fundsLogOf(reader monitor.LogReader) monitor.Log {
	return monitor.Log{Name: funds.LogName, Origin: fundsTestOrigin, Policy: w.fundsPolicy, Reader: reader,
		Domain: funds.New(), Registry: w.registry}
}

// alertCollector gathers a monitor's alerts.
type alertCollector struct {
	mu     sync.Mutex
	alerts []monitor.Alert
}

func (c *alertCollector) add(a monitor.Alert) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.alerts = append(c.alerts, a)
}

func (c *alertCollector) take() []monitor.Alert {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.alerts
	c.alerts = nil
	return a
}

// TestForgedDecisionAlert: an approvals log that writes, with its rule
// key, a decision its rules do not make (an application whose works were
// not accepted, "approved") is caught by the monitor's replay: an alert for
// the decision, and one for the next filing, which the log admitted while
// it still owed its decision on the first.
func TestForgedDecisionAlert(t *testing.T) {
	t.Parallel()
	w := newCrossWorld(t)
	log := newFakeLog(w.approvalsLog)
	rules, apply := w.paymentApplication(t, "pay-1", false)
	forged := w.decision(t, "pay-1", apply, approvals.Approved)
	next := signIn(t, approvalsTestOrigin, w.desk, 3, approvals.TypeApply, approvals.ApplyBody{ApplicationID: "pay-2", Kind: "contract-payment",
		Fields: rawFields(t, paymentFields("cc:bridge", 300, true))})
	log.append(t, rules, apply, forged, next)

	var got alertCollector
	store := openStore(t, filepath.Join(t.TempDir(), "monitor.db"))
	mon, err := monitor.New(monitor.Options{Logs: []monitor.Log{w.approvalsLogOf(log)}, Store: store, OnAlert: got.add})
	if err != nil {
		t.Fatal(err)
	}
	if err := mon.Follow(t.Context()); err != nil {
		t.Fatal(err)
	}
	alerts := got.take()
	byIndex := map[uint64]monitor.Alert{}
	for _, a := range alerts {
		if a.Kind != monitor.KindEntry || a.Log != approvalsTestOrigin || a.Index == nil {
			t.Errorf("alert %s on %s: %s", a.Kind, a.Log, a.Message)
			continue
		}
		byIndex[*a.Index] = a
	}
	if len(alerts) != 2 {
		t.Errorf("%d alerts, want 2 (the decision at 2, the filing at 3)", len(alerts))
	}
	if a, ok := byIndex[2]; !ok || !strings.Contains(a.Message, "rules decide") || !strings.Contains(a.Message, approvals.Returned) {
		t.Errorf("no alert for the forged decision at 2 saying the rules return the application; alerts: %v", alerts)
	}
	if a, ok := byIndex[3]; !ok || !strings.Contains(a.Message, "has not written its decision on application pay-1") {
		t.Errorf("no alert for the filing at 3 the log admitted while it owed its decision; alerts: %v", alerts)
	}
	if v, ok, err := store.Verified(t.Context(), approvalsTestOrigin); err != nil || !ok || v.Size != 4 {
		t.Errorf("verified %+v, %v, %v; want 4 entries", v.Size, ok, err)
	}
	// The replayed application is as the rules leave it: filed, never
	// decided; no fact says it is approved.
	st, err := store.State(t.Context(), approvalsTestOrigin)
	if err != nil {
		t.Fatal(err)
	}
	var a approvals.Application
	if err := json.Unmarshal(st[approvals.AppKey("pay-1")], &a); err != nil {
		t.Fatal(err)
	}
	if a.Status == approvals.StatusApproved {
		t.Errorf("the monitor replayed the forged approval: %+v", a)
	}
	if _, ok := st[approvals.AppKey("pay-2")]; ok {
		t.Error("the monitor replayed the filing admitted while a decision was owed")
	}
}

// TestLogViewBeyondReplayWaits: a funds log view naming more of the
// approvals log than the approvals log shows stops the funds replay there,
// in silence while it may be a lag, and is an alert once it has waited
// longer than OverdueAfter (a log must not stop its own monitoring in
// silence by naming entries the other log never shows).
func TestLogViewBeyondReplayWaits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// before is how many funds entries come before the view.
		before int
	}{
		{"after-entries", 2},
		{"first-entry", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newCrossWorld(t)
			approvalsLog := newFakeLog(w.approvalsLog)
			rules, apply := w.paymentApplication(t, "pay-1", true)
			approvalsLog.append(t, rules, apply, w.decision(t, "pay-1", apply, approvals.Approved))

			fundsLog := newFakeLog(w.fundsLog)
			var leaves [][]byte
			for i := range tc.before {
				leaves = append(leaves, signIn(t, fundsTestOrigin, w.desk, i, funds.TypeAccountOpen,
					funds.AccountOpenBody{AccountID: fmt.Sprintf("cc:budget-%d", i), OwnerKind: funds.OwnerAgency, Owner: "cc-desk", Kind: funds.KindBudget}))
			}
			view, err := govlog.NewLogView(fundsTestOrigin, govlog.LogView{Log: approvals.LogName, Size: 50}, statementTime.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			viewLeaf, err := view.Sign(w.fundsLog)
			if err != nil {
				t.Fatal(err)
			}
			viewIndex := uint64(len(leaves))
			leaves = append(leaves, viewLeaf, signIn(t, fundsTestOrigin, w.desk, 120, funds.TypeAccountOpen,
				funds.AccountOpenBody{AccountID: "cc:builder", OwnerKind: funds.OwnerCompany, Owner: "91440300MA5F000001", Kind: funds.KindCompany}))
			fundsLog.append(t, leaves...)

			var mu sync.Mutex
			clock := time.Now()
			now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
			var got alertCollector
			store := openStore(t, filepath.Join(t.TempDir(), "monitor.db"))
			mon, err := monitor.New(monitor.Options{
				Logs:  []monitor.Log{w.fundsLogOf(fundsLog), w.approvalsLogOf(approvalsLog)},
				Store: store, OnAlert: got.add, Now: now, OverdueAfter: time.Hour,
			})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := mon.Follow(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			if a := got.take(); len(a) != 0 {
				t.Fatalf("alerts while waiting a little: %v", a)
			}
			if v, ok, err := store.Verified(t.Context(), approvalsTestOrigin); err != nil || !ok || v.Size != 3 {
				t.Errorf("approvals verified %d (%v, %v), want 3", v.Size, ok, err)
			}
			if v, ok, err := store.Verified(t.Context(), fundsTestOrigin); err != nil || (ok || viewIndex > 0) && v.Size != viewIndex {
				t.Errorf("funds verified %d (%v, %v), want %d (its log view)", v.Size, ok, err, viewIndex)
			}

			mu.Lock()
			clock = clock.Add(time.Hour + time.Minute)
			mu.Unlock()
			if err := mon.Follow(t.Context()); err != nil {
				t.Fatal(err)
			}
			a := got.take()
			if len(a) != 1 || a[0].Kind != monitor.KindEntry || a[0].Log != fundsTestOrigin || a[0].Index == nil || *a[0].Index != viewIndex ||
				!strings.Contains(a[0].Message, "has not shown") {
				t.Fatalf("alerts %v, want one KindEntry on funds entry %d saying the approvals log has not shown size 50", a, viewIndex)
			}
			if !strings.Contains(a[0].Message, "log approvals at size 50") {
				t.Errorf("alert %q does not name the view", a[0].Message)
			}
		})
	}
}
