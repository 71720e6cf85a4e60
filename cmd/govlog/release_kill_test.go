package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// TestReleaseSurvivesKill: a labour contract's pay deadline passes with a
// worker unpaid while the real dev server is being killed with SIGKILL at
// random instants around it (right after the deadline first, then
// repeatedly). Once the server lives on, the guarantee release is in the
// funds log within a bounded time, exactly once, paying the unpaid worker.
func TestReleaseSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test: about 15 s; skipped with -short")
	}
	const (
		schedule = 300 * time.Millisecond // --schedule-interval
		kills    = 8
	)
	tmp := t.TempDir()
	data := filepath.Join(tmp, "gl")
	addr := freeAddr(t)
	bin := filepath.Join(tmp, "govlog")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d", seed)
	srv := &crashServer{t: t, bin: bin, args: []string{"dev", "--data", data, "--listen", addr,
		"--sequencer-interval", "50ms", "--schedule-interval", schedule.String()}}
	t.Cleanup(srv.stop)
	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	if err := waitGenesis(addr, filepath.Join(data, "registry.yaml"), time.Minute); err != nil {
		t.Fatal(err)
	}
	signer, err := loadSigner(filepath.Join(data, "keys", "demo-agency.key"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	submit := func(typ string, body any) {
		t.Helper()
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		st, err := govlog.NewStatement("gov.example/funds", typ, time.Now().Truncate(time.Second), b)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := st.Sign(signer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Submit(ctx, funds.LogName, signed, false); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
	}
	commit := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	wang, zhao := commit("salt-1|Wang"), commit("salt-2|Zhao")
	for _, a := range []funds.AccountOpenBody{
		{AccountID: "budget", OwnerKind: funds.OwnerAgency, Owner: "demo-agency", Kind: funds.KindBudget},
		{AccountID: "builder", OwnerKind: funds.OwnerCompany, Owner: "builder-co", Kind: funds.KindCompany},
		{AccountID: "escrow", OwnerKind: funds.OwnerAgency, Owner: "demo-agency", Kind: funds.KindEscrow},
		{AccountID: "w-wang", OwnerKind: funds.OwnerPerson, Owner: wang, Kind: funds.KindWorker},
		{AccountID: "w-zhao", OwnerKind: funds.OwnerPerson, Owner: zhao, Kind: funds.KindWorker},
	} {
		submit(funds.TypeAccountOpen, a)
	}
	submit(funds.TypeAllocate, funds.AllocateBody{AllocationID: "a1", To: "budget", Amount: 100_000, BudgetLine: "roads"})
	submit(funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "road", Kind: funds.ContractWorks, Payer: "budget", Payee: "builder", Ceiling: 50_000})
	submit(funds.TypeTransfer, funds.TransferBody{TransferID: "t1", From: "budget", To: "builder", Amount: 20_000, ContractID: "road"})
	now := time.Now().UTC()
	deadline := now.Truncate(time.Second).Add(3 * time.Second)
	period := now.Format("2006-01")
	submit(funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "crew", Kind: funds.ContractLabour, Payer: "builder",
		Ceiling: 2_000, Workers: []string{wang, zhao}, WagePerPeriod: 1_000,
		Schedule: []funds.PayPeriod{{Period: period, PayDeadline: deadline.Format(time.RFC3339)}}})
	submit(funds.TypeGuaranteeLodge, funds.GuaranteeLodgeBody{GuaranteeID: "g1", ContractID: "crew", From: "builder", Escrow: "escrow", Amount: 1_500})
	submit(funds.TypeWagePay, funds.WagePayBody{PaymentID: "p1", ContractID: "crew", Worker: wang, Period: period, Amount: 1_000, From: "builder", To: "w-wang"})

	// The release is due once the clock, in whole seconds, is past the
	// deadline. The first kill lands within two schedule intervals of
	// that; the others at random instants after each restart.
	time.Sleep(time.Until(deadline.Add(time.Second)) + time.Duration(rng.Int64N(int64(2*schedule))))
	for k := range kills {
		if err := srv.kill(); err != nil {
			t.Fatal(err)
		}
		if err := srv.start(); err != nil {
			t.Fatalf("restart after kill %d: %v", k+1, err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(3 * schedule))))
	}

	// The server lives on: the release is in the log, once.
	releases := func() []string {
		signed, err := c.Checkpoint(ctx, funds.LogName)
		if err != nil {
			return nil
		}
		cp, err := govlog.ParseCheckpoint(signed[:strings.Index(string(signed), "\n\n")+1])
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for next := uint64(0); next < cp.Size; {
			batch, err := c.Entries(ctx, funds.LogName, next, cp.Size-next)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range batch {
				if strings.Contains(string(e), `"type":"`+funds.TypeGuaranteeRelease+`"`) {
					out = append(out, string(e))
				}
			}
			next += uint64(len(batch))
		}
		return out
	}
	var found []string
	for wait := time.Now().Add(20 * time.Second); len(found) == 0 && time.Now().Before(wait); time.Sleep(50 * time.Millisecond) {
		found = releases()
	}
	if len(found) == 0 {
		t.Fatalf("no release in the log 20s after the last restart\n%s", srv.out.tail(3000))
	}
	t.Logf("release in the log %s after the deadline (%d kills)", time.Since(deadline).Round(time.Millisecond), kills)
	// Several more scheduler passes write nothing more.
	time.Sleep(5 * schedule)
	found = releases()
	if len(found) != 1 {
		t.Fatalf("%d releases in the log, want 1:\n%s", len(found), strings.Join(found, "\n"))
	}
	if !strings.Contains(found[0], zhao) || strings.Contains(found[0], wang) || !strings.Contains(found[0], `"amount":1000`) {
		t.Errorf("the release does not pay Zhao (only) the wage:\n%s", found[0])
	}
	replayFunds(ctx, t, c, data)
	srv.scanOutputs()
}

// replayFunds replays the whole funds log from an empty state through the
// funds rules, as a monitor does: the registry log read and proved against
// dev's policy, each registry view entry checked (signed by the funds log's
// key, naming the registry log's entries) and every other entry admitted
// again, authorized by the registry as it stood at the view before it.
func replayFunds(ctx context.Context, t *testing.T, c *client.Client, data string) {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(data, "policy.txt"))
	if err != nil {
		t.Fatal(err)
	}
	policy, err := govlog.ParsePolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	regCP, regEntries, err := c.AllEntries(ctx, policy, registry.LogName)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Replay(regCP.Origin, regEntries)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := readKeyFile(filepath.Join(data, "keys", "log-funds.vkey"))
	if err != nil {
		t.Fatal(err)
	}
	logKey, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := c.Checkpoint(ctx, funds.LogName)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := govlog.ParseCheckpoint(signed[:strings.Index(string(signed), "\n\n")+1])
	if err != nil {
		t.Fatal(err)
	}
	rules, st := funds.New(), ruletest.State{}
	var view uint64 // the registry size the log authorizes against
	for next := uint64(0); next < cp.Size; {
		batch, err := c.Entries(ctx, funds.LogName, next, cp.Size-next)
		if err != nil {
			t.Fatal(err)
		}
		for _, leaf := range batch {
			a, err := registry.OpenAnchor(leaf, cp.Origin, logKey)
			switch {
			case err == nil:
				if err := a.Check(reg); err != nil {
					t.Fatalf("entry %d, a registry view entry: %v", next, err)
				}
				if a.Size <= view {
					t.Fatalf("entry %d: registry view of size %d after one of size %d", next, a.Size, view)
				}
				view = a.Size
			case !errors.Is(err, registry.ErrNotAnchor):
				t.Fatalf("entry %d: %v", next, err)
			default:
				opened, err := reg.Open(leaf, cp.Origin, rules)
				if err != nil {
					t.Fatalf("entry %d: %v", next, err)
				}
				if _, err := rule.Admit(ctx, rules, st, opened.Entry, reg.Authorizer(opened, view)); err != nil {
					t.Fatalf("entry %d (%s) refused on replay: %v", next, opened.Entry.Type, err)
				}
			}
			next++
		}
	}
	if view == 0 {
		t.Errorf("the funds log has no registry view entry")
	}
}
