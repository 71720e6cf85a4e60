package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/funds"
)

func newFundsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "funds",
		Short: "Follow public money: an account's ledger, the path of a payment, every entry proved",
		Long: `funds asks the funds log's public read API (personalities/funds, "Queries")
and verifies the answer before printing it: every entry it rests on comes with
its inclusion proof, all at one checkpoint, checked against --policy, and what
the answer says about those entries (amounts, accounts, balances, how a
payment was funded) is checked against the entries themselves, as far as they
can tell (personalities/funds, "Checking an answer"). An answer that fails is
not printed, and the command fails saying why. Amounts are printed in yuan;
--json prints the answer as the server sent it, amounts in fen.`,
	}
	cmd.AddCommand(newFundsAccountCmd(), newFundsTraceCmd())
	return cmd
}

// queryFlags are the flags of the verbs that ask a query.
type queryFlags struct {
	serverFlags
	policyPath string
	origin     string
	json       bool
	save       string
}

func (f *queryFlags) register(cmd *cobra.Command) {
	f.registerLog(cmd, funds.LogName)
	cmd.Flags().StringVar(&f.policyPath, "policy", "", "C2SP tlog-policy file: every entry of the answer is verified against it")
	cmd.Flags().StringVar(&f.origin, "origin", "", "the log's origin (default: the one log of the policy whose origin ends in /<log>)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the answer as JSON (the verification goes to stderr)")
	cmd.Flags().StringVar(&f.save, "save", "", "also write each entry's bundle to this folder, as <leaf hash>.tlog-proof, to verify offline")
	cmd.MarkFlagRequired("policy")
}

// ask runs a query, verifies the answer and checks it against its
// entries. The bundles are saved even when the check fails: with the
// answer, they are the evidence of it.
func (f *queryFlags) ask(cmd *cobra.Command, name string, args map[string]string) (*client.Answer, error) {
	text, err := os.ReadFile(f.policyPath)
	if err != nil {
		return nil, err
	}
	policy, err := govlog.ParsePolicy(text)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", f.policyPath, err)
	}
	origin, err := f.expectedOrigin(policy)
	if err != nil {
		return nil, err
	}
	c, ctx, done, err := f.dial(cmd)
	if err != nil {
		return nil, err
	}
	defer done()
	a, err := c.Query(ctx, policy, f.log, name, args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// Every bundle is at one checkpoint; it must be the asked log's, not
	// another log the policy also trusts.
	if len(a.Entries) > 0 && a.Checkpoint.Origin != origin {
		return nil, fmt.Errorf("%s: the answer is proved in log %s, not %s", name, a.Checkpoint.Origin, origin)
	}
	if f.save != "" {
		if err := os.MkdirAll(f.save, 0o755); err != nil {
			return nil, err
		}
		for i, b := range a.Bundles {
			h := govlog.LeafHash(a.Entries[i].Entry)
			if err := os.WriteFile(filepath.Join(f.save, hex.EncodeToString(h[:])+".tlog-proof"), b, 0o644); err != nil {
				return nil, err
			}
		}
	}
	if err := funds.CheckAnswer(name, args, a.Result, a.Entries); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return a, nil
}

// expectedOrigin is --origin, or the one log of the policy whose origin
// names the log asked (<operator>/<log>).
func (f *queryFlags) expectedOrigin(policy *govlog.Policy) (string, error) {
	if f.origin != "" {
		return f.origin, nil
	}
	var found []string
	for _, v := range policy.Logs() {
		if strings.HasSuffix(v.Name(), "/"+f.log) {
			found = append(found, v.Name())
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("policy %s lists no log whose origin ends in /%s: name it with --origin", f.policyPath, f.log)
	default:
		return "", fmt.Errorf("policy %s lists several %s logs (%s): name one with --origin", f.policyPath, f.log, strings.Join(found, ", "))
	}
}

// report prints the answer, as JSON or with print, what was verified and
// what was checked.
func (f *queryFlags) report(cmd *cobra.Command, a *client.Answer, checked string, print func(w io.Writer)) error {
	w := cmd.OutOrStdout()
	if f.json {
		var buf bytes.Buffer
		if err := json.Indent(&buf, a.Result, "", "  "); err != nil {
			return err
		}
		buf.WriteByte('\n')
		w.Write(buf.Bytes())
		w = cmd.ErrOrStderr()
	} else {
		print(w)
	}
	fmt.Fprintln(w, verifiedLine(a, f.policyPath))
	fmt.Fprintln(w, "checked: "+checked)
	return nil
}

func verifiedLine(a *client.Answer, policyPath string) string {
	if len(a.Entries) == 0 {
		return "verified: the answer cites no entry"
	}
	s := fmt.Sprintf("verified: %s proved in %s at tree size %d with %s", plural(len(a.Entries), "entry"), a.Checkpoint.Origin, a.Checkpoint.Size, policyPath)
	if len(a.Witnesses) > 0 {
		s += ", cosigned by " + strings.Join(a.Witnesses, ", ")
	}
	return s
}

func newFundsAccountCmd() *cobra.Command {
	var (
		qf          queryFlags
		from, limit int64
	)
	cmd := &cobra.Command{
		Use:   "account --policy POLICY ACCOUNT",
		Short: "Print an account's balance and ledger, each line's entry proved",
		Long: fmt.Sprintf(`account prints an account of the funds log: its kind, owner and controller,
its balance, and a page of its ledger (at most %d lines, oldest first), each
line a movement of money in (+) or out (-) with the balance after it. The
entries that opened the account and made each line are proved against
--policy.`, funds.MaxHistoryPage),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := map[string]string{"id": args[0]}
			if from != 0 {
				q["from"] = strconv.FormatInt(from, 10)
			}
			if limit != 0 {
				q["limit"] = strconv.FormatInt(limit, 10)
			}
			a, err := qf.ask(cmd, funds.QueryAccount, q)
			if err != nil {
				return err
			}
			var v funds.AccountView
			if err := json.Unmarshal(a.Result, &v); err != nil {
				return fmt.Errorf("couldn't read the answer: %w", err)
			}
			return qf.report(cmd, a, accountChecked(&v), func(w io.Writer) { printAccount(w, &v) })
		},
	}
	qf.register(cmd)
	cmd.Flags().Int64Var(&from, "from", 0, "first ledger line, from 1 (default 1)")
	cmd.Flags().Int64Var(&limit, "limit", 0, fmt.Sprintf("lines per page, at most %d (default %d)", funds.MaxHistoryPage, funds.MaxHistoryPage))
	return cmd
}

// accountChecked says what funds.CheckAnswer established about an account
// page: balances add up from 0 only on a page from line 1.
func accountChecked(v *funds.AccountView) string {
	switch {
	case len(v.Lines) == 0:
		return "the account matches its entry"
	case v.Lines[0].N > 1:
		return fmt.Sprintf("the account and every line match their entries, balances add up within the page "+
			"(the balance before line %d is the server's word)", v.Lines[0].N)
	case v.Next == 0:
		return "the account and every line match their entries, balances add up from 0 to the account's balance"
	}
	return "the account and every line match their entries, balances add up from 0"
}

func printAccount(w io.Writer, v *funds.AccountView) {
	a := v.Account
	fmt.Fprintf(w, "account %s: %s account of %s %s, controlled by %s\n", v.ID, a.Kind, a.OwnerKind, a.Owner, a.Controller)
	fmt.Fprintf(w, "balance: %s after %s\n", funds.FormatAmount(a.Balance), plural(int(a.Lines), "ledger line"))
	if len(v.Lines) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LINE\tKIND\tMOVEMENT\tCOUNTERPARTY\tAMOUNT\tBALANCE")
	for _, l := range v.Lines {
		amount := funds.FormatAmount(l.Amount)
		if l.Amount > 0 {
			amount = "+" + amount
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", l.N, l.Kind, l.Ref, counterparty(l.Counterparty), amount, funds.FormatAmount(l.Balance))
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

func newFundsTraceCmd() *cobra.Command {
	var (
		qf queryFlags
		to string
	)
	cmd := &cobra.Command{
		Use:   "trace --policy POLICY REF|LEAF_HASH",
		Short: "Print the full path of one payment, from the treasury to its destination, each entry proved",
		Long: `trace prints the path of one payment of the funds log: the payment, the
movements into its payer that paid for it, those into their payers, and so
on back to the budget allocations from the treasury, with how much of each
ended up in the payment. Money in an account is mixed, so the path applies
first in, first out (the rule of Clayton's Case): the oldest money in an
account is spent first. The payment is named by its record, such as
transfer/<id>, payment/<id> (wages and aid), allocation/<id> or
guarantee/<id>, or period/<contract>/<period> with --to for a guarantee
release; or by the leaf hash of its entry, in hex or in base64 as submit prints it. Every entry on the path, and
every contract it was paid under, is proved against --policy.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := map[string]string{"ref": args[0]}
			if h, ok := parseLeafHash(args[0]); ok {
				q = map[string]string{"leaf_hash": hex.EncodeToString(h)}
			}
			if to != "" {
				q["to"] = to
			}
			a, err := qf.ask(cmd, funds.QueryPayment, q)
			if err != nil {
				return err
			}
			var p funds.PaymentTrace
			if err := json.Unmarshal(a.Result, &p); err != nil {
				return fmt.Errorf("couldn't read the answer: %w", err)
			}
			if len(p.Hops) == 0 {
				return fmt.Errorf("the answer holds no payment")
			}
			return qf.report(cmd, a, "every hop and contract matches its entry, and what funds each hop adds up to it "+
				"(which inflows first in, first out takes is the server's reading of the payers' ledgers)",
				func(w io.Writer) { printTrace(w, &p) })
		},
	}
	qf.register(cmd)
	cmd.Flags().StringVar(&to, "to", "", "for a guarantee release: the worker account whose payment to trace")
	return cmd
}

// parseLeafHash reads a leaf hash in hex, or in base64 as submit prints
// it. A ref is neither: it has a "/", which hex has not, and no "=", which
// ends the base64 of 32 bytes.
func parseLeafHash(s string) ([]byte, bool) {
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, true
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, true
	}
	return nil, false
}

func printTrace(w io.Writer, p *funds.PaymentTrace) {
	pay := p.Hops[0]
	fmt.Fprintf(w, "%s: %s of %s, %s → %s%s\n", pay.Ref, pay.Kind, funds.FormatAmount(pay.Amount), counterparty(pay.From), pay.To, hopDetails(pay.Movement))
	if len(p.Hops) > 1 {
		fmt.Fprintln(w, "paid with (first in, first out):")
	}
	for _, h := range p.Hops[1:] {
		fmt.Fprintf(w, "%s← %s from %s: %s of %s, %s → %s%s\n", strings.Repeat("  ", h.Depth), funds.FormatAmount(h.Attributed),
			h.Ref, h.Kind, funds.FormatAmount(h.Amount), counterparty(h.From), h.To, hopDetails(h.Movement))
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
		if k.Kind == funds.ContractLabour {
			payee = plural(len(k.Workers), "worker")
		}
		fmt.Fprintf(w, "  %s: %s, %s → %s, ceiling %s, registered by %s\n", id, k.Kind, k.Payer, payee, funds.FormatAmount(k.Ceiling), k.Agency)
	}
}

func hopDetails(m funds.Movement) string {
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
