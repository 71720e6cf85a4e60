package funds

import (
	"encoding/json"
	"fmt"

	"github.com/govlog/govlog/personalities/rule"
)

// The funds log reads one fact of the approvals log (rule.Importer): that
// an application was approved. A works or supply contract may name an
// application kind and a threshold (approval_kind, approval_above); a
// transfer under it of more than the threshold must then cite, as
// "approval", an application of that kind that the approvals log had
// approved when the funds log admitted the transfer ([rule.Logs]: as of
// the approvals log's size that the funds log last named in a log view
// entry). The agency that filed the application must be the one that pays;
// one approval pays one transfer; if the approved application has a
// "contract_id" field, it must name the transfer's contract, and if it has
// an "amount" field (an integer), the transfer may not exceed it. Anything
// else is [rule.ErrRuleViolation]: FAILED_PRECONDITION.

// ApprovalsLog is the log the funds rules read approvals from, and
// approvedFact the fact they read.
const (
	ApprovalsLog = "approvals"
	approvedFact = "approved"
)

var _ rule.Importer = (*Rules)(nil)

// Imports names the approvals log.
func (*Rules) Imports() []string { return []string{ApprovalsLog} }

// ApprovalUsedKey marks an approved application as spent by a transfer;
// its value is the transfer's ID.
func ApprovalUsedKey(app string) string { return "approval-used/" + app }

// approved checks the approval b cites, where its contract k needs one (or
// b cites one anyway), and marks it used.
func (c *change) approved(k ContractRecord, b TransferBody) error {
	needed := k.ApprovalKind != "" && b.Amount > k.ApprovalAbove
	if b.Approval == "" {
		if needed {
			return fmt.Errorf("%w: contract %s needs an approved %s application for a transfer above %s; cite it as \"approval\"",
				rule.ErrRuleViolation, b.ContractID, k.ApprovalKind, FormatAmount(k.ApprovalAbove))
		}
		return nil
	}
	if k.ApprovalKind == "" {
		return fmt.Errorf("%w: contract %s needs no approval; leave \"approval\" out", rule.ErrRuleViolation, b.ContractID)
	}
	if c.e.Logs == nil {
		return fmt.Errorf("%w: %w", rule.ErrRuleViolation, rule.ErrNoLogs)
	}
	f, ok, err := c.e.Logs.Fact(c.ctx, ApprovalsLog, approvedFact, b.Approval)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: application %s is not approved in the %s log", rule.ErrRuleViolation, b.Approval, ApprovalsLog)
	}
	var v struct {
		Kind   string                     `json:"kind"`
		Agency string                     `json:"agency"`
		Fields map[string]json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(f.Value, &v); err != nil {
		return fmt.Errorf("the approvals log's fact about %s does not read: %v", b.Approval, err)
	}
	if v.Kind != k.ApprovalKind {
		return fmt.Errorf("%w: application %s is of kind %s; contract %s needs %s", rule.ErrRuleViolation, b.Approval, v.Kind, b.ContractID, k.ApprovalKind)
	}
	if v.Agency != c.e.Agency {
		return fmt.Errorf("%w: application %s was filed by %s, not by the paying agency %s", rule.ErrRuleViolation, b.Approval, v.Agency, c.e.Agency)
	}
	if raw, ok := v.Fields["contract_id"]; ok {
		var contract string
		if json.Unmarshal(raw, &contract) != nil || contract != b.ContractID {
			return fmt.Errorf("%w: application %s approves a payment under contract %s, not %s", rule.ErrRuleViolation, b.Approval, raw, b.ContractID)
		}
	}
	if raw, ok := v.Fields["amount"]; ok {
		var most int64
		if err := json.Unmarshal(raw, &most); err != nil {
			return fmt.Errorf("%w: application %s has an amount that is not a whole number of fen: %s", rule.ErrRuleViolation, b.Approval, raw)
		}
		if b.Amount > most {
			return fmt.Errorf("%w: application %s approves at most %s", rule.ErrRuleViolation, b.Approval, FormatAmount(most))
		}
	}
	var used string
	if ok, err := c.get(ApprovalUsedKey(b.Approval), &used); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: application %s already paid transfer %s", rule.ErrRuleViolation, b.Approval, used)
	}
	c.put(ApprovalUsedKey(b.Approval), b.TransferID)
	return nil
}
