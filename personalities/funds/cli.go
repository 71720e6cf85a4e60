package funds

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/govlog/govlog/personalities/rule"
)

var _ rule.QueryClient = (*Rules)(nil)

// Queries describes the queries of the log for the command line:
// `govlog funds account ACCOUNT` and `govlog funds trace REF`.
func (*Rules) Queries() []rule.QueryInfo {
	return []rule.QueryInfo{{
		Name: QueryAccount, Arg: "id", ArgName: "ACCOUNT",
		Summary: "Print an account's balance and ledger, each line's entry proved",
		Doc: fmt.Sprintf(`account prints an account of the funds log (an ID, or @ and a one-time
commitment for the account a payment to that commitment opened): its kind, owner and controller,
its balance, and a page of its ledger (at most %d lines, oldest first), each
line a movement of money in (+) or out (-) with the balance after it. The
entries that opened the account and made each line are proved against
--policy.`, MaxHistoryPage),
		Flags: []rule.QueryFlag{
			{Name: "from", Usage: "first ledger line, from 1 (default 1)"},
			{Name: "limit", Usage: fmt.Sprintf("lines per page, at most %d (default %d)", MaxHistoryPage, MaxHistoryPage)},
		},
	}, {
		Name: QueryPayment, Verb: "trace", Arg: "ref", ArgName: "REF|LEAF_HASH",
		Summary: "Print the full path of one payment, from the treasury to its destination, each entry proved",
		Doc: `trace prints the path of one payment of the funds log: the payment, the
movements into its payer that paid for it, those into their payers, and so
on back to the budget allocations from the treasury, with how much of each
ended up in the payment. Money in an account is mixed, so the path applies
first in, first out (the rule of Clayton's Case): the oldest money in an
account is spent first. The payment is named by its record, such as
transfer/<id>, payment/<id> (wages and aid), allocation/<id> or
guarantee/<id>, or period/<contract>/<period> with --to for a guarantee
release; or by the leaf hash of its entry, in hex or in base64 as submit prints it. Every entry on the path, and
every contract it was paid under, is proved against --policy.`,
		Flags: []rule.QueryFlag{{Name: "to", Usage: "for a guarantee release: the worker account whose payment to trace (@ and the commitment, for a one-time commitment)"}},
	}}
}

// CheckAnswer is the package's [CheckAnswer], for rule.QueryClient.
func (*Rules) CheckAnswer(query string, args map[string]string, result []byte, entries []rule.ProvedEntry) (string, error) {
	return CheckAnswer(query, args, result, entries)
}

// FormatAnswer prints a checked answer for people, amounts in yuan.
func (*Rules) FormatAnswer(w io.Writer, query string, result []byte) error {
	switch query {
	case QueryAccount:
		var v AccountView
		if err := json.Unmarshal(result, &v); err != nil {
			return fmt.Errorf("couldn't read the answer: %w", err)
		}
		printAccount(w, &v)
	case QueryPayment:
		var p PaymentTrace
		if err := json.Unmarshal(result, &p); err != nil {
			return fmt.Errorf("couldn't read the answer: %w", err)
		}
		if len(p.Hops) == 0 {
			return fmt.Errorf("the answer holds no payment")
		}
		printTrace(w, &p)
	default:
		return fmt.Errorf("%w %q", rule.ErrUnknownQuery, query)
	}
	return nil
}

func printAccount(w io.Writer, v *AccountView) {
	a := v.Account
	if a.Controller == "" {
		fmt.Fprintf(w, "account %s: one-time %s account of the commitment %s, opened by its payment; nothing moves out of it\n", v.ID, a.Kind, a.Owner)
	} else {
		fmt.Fprintf(w, "account %s: %s account of %s %s, controlled by %s\n", v.ID, a.Kind, a.OwnerKind, a.Owner, a.Controller)
	}
	fmt.Fprintf(w, "balance: %s after %s\n", FormatAmount(a.Balance), plural(int(a.Lines), "ledger line"))
	if len(v.Lines) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LINE\tKIND\tMOVEMENT\tCOUNTERPARTY\tAMOUNT\tBALANCE")
	for _, l := range v.Lines {
		amount := FormatAmount(l.Amount)
		if l.Amount > 0 {
			amount = "+" + amount
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", l.N, l.Kind, l.Ref, counterparty(l.Counterparty), amount, FormatAmount(l.Balance))
	}
	tw.Flush()
	if v.Next != 0 {
		fmt.Fprintf(w, "more: lines from %d (--from %d)\n", v.Next, v.Next)
	}
}

// counterparty names the other side of a movement; an allocation's money
// comes from the treasury, outside the log.
func counterparty(account string) string {
	if account == "" {
		return "(treasury)"
	}
	return account
}

func printTrace(w io.Writer, p *PaymentTrace) {
	pay := p.Hops[0]
	fmt.Fprintf(w, "%s: %s of %s, %s → %s%s\n", pay.Ref, pay.Kind, FormatAmount(pay.Amount), counterparty(pay.From), pay.To, hopDetails(pay.Movement))
	if len(p.Hops) > 1 {
		fmt.Fprintln(w, "paid with (first in, first out):")
	}
	for _, h := range p.Hops[1:] {
		fmt.Fprintf(w, "%s← %s from %s: %s of %s, %s → %s%s\n", strings.Repeat("  ", h.Depth), FormatAmount(h.Attributed),
			h.Ref, h.Kind, FormatAmount(h.Amount), counterparty(h.From), h.To, hopDetails(h.Movement))
	}
	if len(p.Contracts) == 0 {
		return
	}
	fmt.Fprintln(w, "contracts:")
	ids := make([]string, 0, len(p.Contracts))
	for id := range p.Contracts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		k := p.Contracts[id]
		payee := k.Payee
		if k.Kind == ContractLabour {
			payee = plural(len(k.Workers), "worker")
		}
		fmt.Fprintf(w, "  %s: %s, %s → %s, ceiling %s, registered by %s\n", id, k.Kind, k.Payer, payee, FormatAmount(k.Ceiling), k.Agency)
	}
}

func hopDetails(m Movement) string {
	var parts []string
	if m.Contract != "" {
		parts = append(parts, "contract "+m.Contract)
	}
	if m.Period != "" {
		parts = append(parts, "period "+m.Period)
	}
	if m.BudgetLine != "" {
		parts = append(parts, fmt.Sprintf("budget line %q", m.BudgetLine))
	}
	if m.Beneficiary != "" {
		parts = append(parts, "beneficiary "+m.Beneficiary)
	}
	if m.Recipient != "" {
		parts = append(parts, "one-time commitment "+m.Recipient)
	}
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, ", ")
}

func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
