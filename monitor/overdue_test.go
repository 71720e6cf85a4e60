package monitor_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// TestOverdueRelease: a funds log whose operator never writes the
// guarantee release a pay deadline made due. The monitor says nothing
// while the release is within OverdueAfter of its deadline, then raises
// one scheduled_overdue alert naming the contract's period, not again at
// later passes, nor when more is lodged and the release's shares change,
// and none once the release is in the log.
func TestOverdueRelease(t *testing.T) {
	ctx := context.Background()
	const origin = "gov.example/funds"
	logSigner, logVKey := newSigner(t, origin, 11)
	bureau, bureauVKey := newSigner(t, "city-a", 12)
	rules, rulesVKey := newSigner(t, "funds-rules", 13)
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{
		{ID: "city-a", Roles: []string{funds.RoleTreasury, funds.RoleFundManager, funds.RolePayroll}, Keys: []registry.Key{{VKey: bureauVKey}}},
		{ID: "funds-rules", Roles: []string{funds.RoleRuleEngine}, Keys: []registry.Key{{VKey: rulesVKey}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	policyText, err := govlog.FormatPolicy([]string{logVKey}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := govlog.ParsePolicy(policyText)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(signer note.Signer, at time.Time, typ string, body any) []byte {
		t.Helper()
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		st, err := govlog.NewStatement(origin, typ, at, b)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := st.Sign(signer)
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}
	commit := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	wang, zhao := commit("salt-1|Wang"), commit("salt-2|Zhao")
	day := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
	var leaves [][]byte
	add := func(typ string, body any) { leaves = append(leaves, sign(bureau, day, typ, body)) }
	for _, a := range []funds.AccountOpenBody{
		{AccountID: "budget", OwnerKind: funds.OwnerAgency, Owner: "city-a", Kind: funds.KindBudget},
		{AccountID: "builder", OwnerKind: funds.OwnerCompany, Owner: "builder-co", Kind: funds.KindCompany},
		{AccountID: "escrow", OwnerKind: funds.OwnerAgency, Owner: "city-a", Kind: funds.KindEscrow},
		{AccountID: "w-wang", OwnerKind: funds.OwnerPerson, Owner: wang, Kind: funds.KindWorker},
		{AccountID: "w-zhao", OwnerKind: funds.OwnerPerson, Owner: zhao, Kind: funds.KindWorker},
	} {
		add(funds.TypeAccountOpen, a)
	}
	add(funds.TypeAllocate, funds.AllocateBody{AllocationID: "a1", To: "budget", Amount: 50_000, BudgetLine: "roads"})
	add(funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "road", Kind: funds.ContractWorks, Payer: "budget", Payee: "builder", Ceiling: 40_000})
	add(funds.TypeTransfer, funds.TransferBody{TransferID: "t1", From: "budget", To: "builder", Amount: 30_000, ContractID: "road"})
	add(funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "crew", Kind: funds.ContractLabour, Payer: "builder",
		Ceiling: 12_000, Workers: []string{wang, zhao}, WagePerPeriod: 6_000,
		Schedule: []funds.PayPeriod{{Period: "2026-01", PayDeadline: "2026-01-10"}}})
	add(funds.TypeGuaranteeLodge, funds.GuaranteeLodgeBody{GuaranteeID: "g1", ContractID: "crew", From: "builder", Escrow: "escrow", Amount: 4_000})
	add(funds.TypeWagePay, funds.WagePayBody{PaymentID: "p1", ContractID: "crew", Worker: wang, Period: "2026-01", Amount: 6_000, From: "builder", To: "w-wang"})

	log := newFakeLog(logSigner)
	log.append(t, leaves...)
	deadline := time.Date(2026, 1, 10, 23, 59, 59, 0, time.UTC)
	now := deadline.Add(5 * time.Minute)
	var alerts []monitor.Alert
	mon, err := monitor.New(monitor.Options{
		Logs:  []monitor.Log{{Name: funds.LogName, Origin: origin, Policy: policy, Reader: log, Domain: funds.New(), Registry: reg}},
		Store: openStore(t, monitor.Memory), OverdueAfter: 10 * time.Minute,
		Now:     func() time.Time { return now },
		OnAlert: func(a monitor.Alert) { alerts = append(alerts, a) },
	})
	if err != nil {
		t.Fatal(err)
	}
	follow := func() {
		t.Helper()
		if err := mon.Follow(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// Due for 5 minutes: not overdue yet.
	follow()
	if len(alerts) != 0 {
		t.Fatalf("alerts within OverdueAfter of the deadline: %+v", alerts)
	}
	// An hour after the deadline: overdue, once.
	now = deadline.Add(time.Hour)
	follow()
	follow()
	if len(alerts) != 1 || alerts[0].Kind != monitor.KindOverdue {
		t.Fatalf("alerts = %+v, want one %s", alerts, monitor.KindOverdue)
	}
	var ev struct {
		Due struct {
			Type, Key string
			Since     time.Time
		}
	}
	if err := json.Unmarshal(alerts[0].Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Due.Type != funds.TypeGuaranteeRelease || ev.Due.Key != funds.PeriodKey("crew", "2026-01") || !ev.Due.Since.Equal(deadline) {
		t.Errorf("evidence does not name crew's 2026-01 release, due since the deadline: %s", alerts[0].Evidence)
	}
	for _, want := range []string{"not in the log at size 11", `"to":"w-zhao"`, `"amount":4000`} {
		if !strings.Contains(alerts[0].Message, want) {
			t.Errorf("message %q does not say %s", alerts[0].Message, want)
		}
	}

	// More is lodged: Zhao's share grows, the release is still missing,
	// and it is the same alert.
	more := sign(bureau, day, funds.TypeGuaranteeLodge, funds.GuaranteeLodgeBody{GuaranteeID: "g2", ContractID: "crew", From: "builder", Escrow: "escrow", Amount: 1_000})
	leaves = append(leaves, more)
	log.append(t, more)
	now = deadline.Add(90 * time.Minute)
	follow()
	if len(alerts) != 1 {
		t.Fatalf("a second alert for the same missing release: %+v", alerts[1:])
	}

	// The log writes it at last: nothing more is due.
	st := ruletest.State{}
	replayAll(t, reg, origin, leaves, st)
	due, err := funds.New().Due(ctx, st, now)
	if err != nil || len(due) != 1 {
		t.Fatalf("due = %v, %v; want the release", due, err)
	}
	release := sign(rules, deadline.Add(95*time.Minute), due[0].Type, due[0].Body)
	log.append(t, release)
	now = deadline.Add(2 * time.Hour)
	follow()
	if len(alerts) != 1 {
		t.Errorf("alerts after the release: %+v", alerts[1:])
	}
	// The release paid Zhao the 5,000 held.
	st = ruletest.State{}
	replayAll(t, reg, origin, append(leaves, release), st)
	if due, err := funds.New().Due(ctx, st, now); err != nil || len(due) != 0 {
		t.Errorf("still due after the release: %v, %v", due, err)
	}
	if b, _, err := funds.Balance(ctx, st, "w-zhao"); err != nil || b != 5_000 {
		t.Errorf("Zhao's balance %d, %v; want 5000", b, err)
	}
}

// replayAll applies every leaf to st through the funds rules.
func replayAll(t *testing.T, reg *registry.Registry, origin string, leaves [][]byte, st rule.State) {
	t.Helper()
	rules := funds.New()
	for i, leaf := range leaves {
		s, sigs, err := govlog.ParseStatement(leaf, origin, reg.Verifiers())
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		role, err := rules.RequiredRole(s.Type)
		if err != nil {
			t.Fatal(err)
		}
		agency, err := reg.Authorize(sigs, role, s.Time)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if err := rules.Apply(context.Background(), st, rule.Entry{Type: s.Type, Time: s.Time, Body: s.Body, Agency: agency, LeafHash: govlog.LeafHash(leaf)}); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
}
