package funds_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// approvalsLog is a rule.Logs holding approved applications, as facts of
// the approvals log at the view the test sets.
type approvalsLog struct {
	view  uint64
	facts map[string]rule.Fact
}

func (l *approvalsLog) Fact(_ context.Context, log, name, id string) (rule.Fact, bool, error) {
	f, ok := l.facts[id]
	if log != funds.ApprovalsLog || name != "approved" || !ok {
		return rule.Fact{}, false, nil
	}
	return f, f.Since < l.view, nil
}

func (l *approvalsLog) Entry(context.Context, string, [32]byte) (uint64, bool, error) {
	return 0, false, nil
}

func approved(since uint64, kind, agency string, fields string) rule.Fact {
	return rule.Fact{Since: since, Value: json.RawMessage(`{"application_id":"x","kind":"` + kind + `","agency":"` + agency + `","owner":"council","fields":` + fields + `}`)}
}

// TestTransferNeedsApproval: a contract that names an approval kind pays
// above its threshold only against an application approved in the
// approvals log as of the view, filed by the payer, for this contract and
// at most its amount, once.
func TestTransferNeedsApproval(t *testing.T) {
	ctx := context.Background()
	st := ruletest.State{}
	r := funds.New()
	logs := &approvalsLog{view: 10, facts: map[string]rule.Fact{
		"ok":        approved(3, "contract-payment", bureau, `{"contract_id":"road","amount":600}`),
		"late":      approved(12, "contract-payment", bureau, `{"contract_id":"road","amount":600}`),
		"kind":      approved(3, "street-stall", bureau, `{}`),
		"other":     approved(3, "contract-payment", "someone-else", `{}`),
		"contract":  approved(3, "contract-payment", bureau, `{"contract_id":"bridge"}`),
		"small":     approved(3, "contract-payment", bureau, `{"amount":100}`),
		"badamount": approved(3, "contract-payment", bureau, `{"amount":"lots"}`),
	}}
	must := func(e rule.Entry) {
		t.Helper()
		e.Logs = logs
		if _, err := ruletest.Admit(ctx, r, st, e, nil); err != nil {
			t.Fatalf("%s: %v", e.Type, err)
		}
	}
	must(open(bureau, "budget", funds.OwnerAgency, bureau, funds.KindBudget))
	must(open(bureau, "acme", funds.OwnerCompany, "acme", funds.KindCompany))
	must(entry(treasury, funds.TypeAllocate, funds.AllocateBody{AllocationID: "a", To: "budget", Amount: 100000, BudgetLine: "roads"}))
	must(rawEntry(bureau, funds.TypeContractRegister, `{"contract_id":"road","kind":"works","payer":"budget","payee":"acme","ceiling":10000,"approval_kind":"contract-payment","approval_above":200}`))
	transfer := func(id string, amount int, approval string) rule.Entry {
		b := funds.TransferBody{TransferID: id, From: "budget", To: "acme", Amount: int64(amount), ContractID: "road", Approval: approval}
		e := entry(bureau, funds.TypeTransfer, b)
		e.Logs = logs
		return e
	}
	// At or below the threshold, no approval is needed.
	must(transfer("t-small", 200, ""))
	for _, tc := range []struct {
		name, approval, want string
		amount               int
	}{
		{"none", "", "needs an approved contract-payment application", 500},
		{"unknown", "nope", "is not approved", 500},
		{"approved after the view", "late", "is not approved", 500},
		{"another kind", "kind", "is of kind street-stall", 500},
		{"filed by another agency", "other", "not by the paying agency", 500},
		{"another contract", "contract", "under contract \"bridge\"", 500},
		{"over its amount", "small", "approves at most", 500},
		{"amount not an integer", "badamount", "not a whole number", 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ruletest.Admit(ctx, r, st, transfer("t-"+strings.ReplaceAll(tc.name, " ", "-"), tc.amount, tc.approval), nil)
			if !errors.Is(err, rule.ErrRuleViolation) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a rule violation saying %q", err, tc.want)
			}
		})
	}
	must(transfer("t-ok", 500, "ok"))
	// One approval pays one transfer.
	if _, err := ruletest.Admit(ctx, r, st, transfer("t-again", 500, "ok"), nil); !errors.Is(err, rule.ErrRuleViolation) || !strings.Contains(err.Error(), "already paid transfer t-ok") {
		t.Errorf("second use: %v", err)
	}
	// Without the other log (a server that does not run it): refused.
	e := transfer("t-nologs", 500, "ok")
	e.Logs = nil
	if _, err := ruletest.Admit(ctx, r, st, e, nil); !errors.Is(err, rule.ErrRuleViolation) {
		t.Errorf("without Logs: %v", err)
	}
	// A contract without an approval kind refuses a cited approval.
	must(rawEntry(bureau, funds.TypeContractRegister, `{"contract_id":"plain","kind":"works","payer":"budget","payee":"acme","ceiling":10000}`))
	b := funds.TransferBody{TransferID: "t-plain", From: "budget", To: "acme", Amount: 500, ContractID: "plain", Approval: "ok"}
	if _, err := ruletest.Admit(ctx, r, st, entry(bureau, funds.TypeTransfer, b), nil); !errors.Is(err, rule.ErrRuleViolation) {
		t.Errorf("approval on a plain contract: %v", err)
	}
}

// TestApprovalFieldsParse: approval_kind and approval_above go together,
// and only on works and supply contracts.
func TestApprovalFieldsParse(t *testing.T) {
	for _, body := range []string{
		`{"contract_id":"c","kind":"works","payer":"p","payee":"q","ceiling":1,"approval_kind":"k"}`,
		`{"contract_id":"c","kind":"works","payer":"p","payee":"q","ceiling":1,"approval_above":5}`,
		`{"contract_id":"c","kind":"works","payer":"p","payee":"q","ceiling":1,"approval_kind":"k","approval_above":0}`,
		`{"contract_id":"c","kind":"labour","payer":"p","ceiling":1,"workers":["` + alice + `"],"wage_per_period":1,"schedule":[{"period":"2030-01","pay_deadline":"2030-02-10"}],"approval_kind":"k","approval_above":5}`,
	} {
		if _, err := funds.ParseContractRegisterBody([]byte(body)); !errors.Is(err, rule.ErrInvalidBody) {
			t.Errorf("%s: %v, want ErrInvalidBody", body, err)
		}
	}
}
