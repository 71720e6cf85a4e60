package main

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/rule"
)

// newQueryCmd is `govlog query`: any query of any domain, by name.
func newQueryCmd() *cobra.Command {
	var qf queryFlags
	cmd := &cobra.Command{
		Use:   "query --log LOG --policy POLICY QUERY [NAME=VALUE...]",
		Short: "Ask a log's public read API a query and verify the answer before printing it",
		Long: `query asks a log's domain the query QUERY with the arguments given as
NAME=VALUE (see govlog domains for each log's queries), and verifies the answer
before printing it: every entry it rests on comes with its inclusion proof, all
at one checkpoint, checked against --policy, and what the answer says about
those entries is checked against the entries themselves by the domain's own
check, as far as they can tell. An answer that fails is not printed, and the
command fails saying why.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := newDomain(qf.log)
			if err != nil {
				return err
			}
			qc, ok := d.(rule.QueryClient)
			if !ok {
				return fmt.Errorf("the %s log answers no queries", qf.log)
			}
			q := map[string]string{}
			for _, a := range args[1:] {
				k, v, ok := strings.Cut(a, "=")
				if !ok || k == "" {
					return fmt.Errorf("argument %q: want NAME=VALUE", a)
				}
				q[k] = v
			}
			return qf.run(cmd, qc, args[0], q)
		},
	}
	qf.register(cmd, "")
	return cmd
}

// newDomainQueryCmds returns a command per domain that answers queries,
// named after its log, with a verb per query: `govlog funds account ID`.
func newDomainQueryCmds() []*cobra.Command {
	var cmds []*cobra.Command
	for _, newDomain := range domainList {
		d := newDomain()
		qc, ok := d.(rule.QueryClient)
		tb, hasTools := d.(rule.Toolbox)
		extra := domainCommands[d.Log()]
		if !ok && !hasTools && extra == nil {
			continue
		}
		cmd := &cobra.Command{
			Use:   d.Log(),
			Short: fmt.Sprintf("Query the %s log: every entry of an answer proved, what it says checked", d.Log()),
			Long: fmt.Sprintf(`%[1]s asks the %[1]s log's public read API and verifies the answer before
printing it, as govlog query does: every entry it rests on is proved against
--policy, all at one checkpoint, and what the answer says about them is checked
against the entries themselves. --json prints the answer as the server sent it.`, d.Log()),
		}
		if ok {
			for _, info := range qc.Queries() {
				cmd.AddCommand(newDomainQueryCmd(d.Log(), qc, info))
			}
		}
		if hasTools {
			for _, t := range tb.Tools() {
				cmd.AddCommand(newToolCmd(d.Log(), t))
			}
		}
		if extra != nil {
			cmd.AddCommand(extra()...)
		}
		cmds = append(cmds, cmd)
	}
	return cmds
}

func newDomainQueryCmd(log string, qc rule.QueryClient, info rule.QueryInfo) *cobra.Command {
	var qf queryFlags
	flags := make([]string, len(info.Flags))
	cmd := &cobra.Command{
		Use:   cmp.Or(info.Verb, info.Name) + " --policy POLICY " + info.ArgName,
		Short: info.Summary,
		Long:  info.Doc,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := map[string]string{info.Arg: args[0]}
			for i, f := range info.Flags {
				if flags[i] != "" {
					q[f.Name] = flags[i]
				}
			}
			return qf.run(cmd, qc, info.Name, q)
		},
	}
	qf.register(cmd, log)
	for i, f := range info.Flags {
		cmd.Flags().StringVar(&flags[i], f.Name, "", f.Usage)
	}
	return cmd
}

// queryFlags are the flags of the verbs that ask a query.
type queryFlags struct {
	serverFlags
	policyPath  string
	origin      string
	json        bool
	save, saved string
}

func (f *queryFlags) register(cmd *cobra.Command, log string) {
	f.registerLog(cmd, log)
	cmd.Flags().StringVar(&f.policyPath, "policy", "", "C2SP tlog-policy file: every entry of the answer is verified against it")
	cmd.Flags().StringVar(&f.origin, "origin", "", "the log's origin (default: the one log of the policy whose origin ends in /<log>)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the answer as JSON (the verification goes to stderr)")
	cmd.Flags().StringVar(&f.save, "save", "", "also write the answer (answer.json) and each entry's bundle (<leaf hash>.tlog-proof) to this folder, to verify offline with --saved")
	cmd.Flags().StringVar(&f.saved, "saved", "", "verify the answer kept in this folder by --save, offline: no server is asked")
	cmd.MarkFlagRequired("policy")
}

// run asks the query, verifies the answer, checks it against its entries
// with the domain's check, and prints it with what was verified and
// checked.
func (f *queryFlags) run(cmd *cobra.Command, qc rule.QueryClient, name string, args map[string]string) error {
	a, err := f.ask(cmd, name, args)
	if err != nil {
		return err
	}
	proved, err := client.ProvedEntries(a.Entries)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	checked, err := qc.CheckAnswer(name, args, a.Result, proved)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	w := cmd.OutOrStdout()
	if f.json {
		var buf bytes.Buffer
		if err := json.Indent(&buf, a.Result, "", "  "); err != nil {
			return err
		}
		buf.WriteByte('\n')
		w.Write(buf.Bytes())
		w = cmd.ErrOrStderr()
	} else if err := qc.FormatAnswer(w, name, a.Result); err != nil {
		return err
	}
	fmt.Fprintln(w, verifiedLine(a, f.policyPath))
	fmt.Fprintln(w, "checked: "+checked)
	return nil
}

// ask runs a query and verifies the answer. The bundles are saved before
// the answer is checked against its entries: with the answer, they are the
// evidence of a false one.
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
	var a *client.Answer
	if f.saved != "" {
		if a, err = loadAnswer(f.saved, policy, f.log, name, args); err != nil {
			return nil, err
		}
	} else {
		c, ctx, done, err := f.dial(cmd)
		if err != nil {
			return nil, err
		}
		defer done()
		if a, err = c.Query(ctx, policy, f.log, name, args); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
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
		saved, err := json.MarshalIndent(savedAnswer{Log: f.log, Query: name, Args: args, Result: a.Result}, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(f.save, "answer.json"), append(saved, '\n'), 0o644); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// savedAnswer is answer.json, what --save keeps of an answer beside its
// bundles.
type savedAnswer struct {
	Log    string            `json:"log"`
	Query  string            `json:"query"`
	Args   map[string]string `json:"args"`
	Result json.RawMessage   `json:"result"`
}

// loadAnswer reads an answer --save kept in dir and verifies it against
// policy, as if the server had just sent it; it must answer the same
// query with the same arguments.
func loadAnswer(dir string, policy *govlog.Policy, log, name string, args map[string]string) (*client.Answer, error) {
	data, err := os.ReadFile(filepath.Join(dir, "answer.json"))
	if err != nil {
		return nil, fmt.Errorf("no saved answer: %w", err)
	}
	var s savedAnswer
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "answer.json"), err)
	}
	if s.Log != log || s.Query != name || !maps.Equal(s.Args, args) {
		return nil, fmt.Errorf("the answer saved in %s is to %s %s %v, not %s %s %v", dir, s.Log, s.Query, s.Args, log, name, args)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.tlog-proof"))
	if err != nil {
		return nil, err
	}
	var bundles [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		bundles = append(bundles, b)
	}
	a, err := client.VerifyAnswer(policy, s.Result, bundles)
	if err != nil {
		return nil, fmt.Errorf("%s (saved in %s): %w", name, dir, err)
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

func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// newToolCmd is `govlog <log> <tool>`: a domain's offline command, run on
// every entry of the log, checked against the policy first.
func newToolCmd(log string, t rule.Tool) *cobra.Command {
	var qf queryFlags
	flags := make([]string, len(t.Flags))
	use := t.Name + " --policy POLICY"
	nargs := cobra.NoArgs
	if t.ArgName != "" {
		use += " " + t.ArgName
		nargs = cobra.ExactArgs(1)
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: t.Summary,
		Long:  t.Doc,
		Args:  nargs,
		RunE: func(cmd *cobra.Command, args []string) error {
			set := map[string]string{}
			for i, f := range t.Flags {
				if flags[i] != "" {
					set[f.Name] = flags[i]
				}
			}
			text, err := os.ReadFile(qf.policyPath)
			if err != nil {
				return err
			}
			policy, err := govlog.ParsePolicy(text)
			if err != nil {
				return fmt.Errorf("policy %s: %w", qf.policyPath, err)
			}
			c, ctx, done, err := qf.dial(cmd)
			if err != nil {
				return err
			}
			defer done()
			cp, leaves, err := c.AllEntries(ctx, policy, qf.log)
			if err != nil {
				return err
			}
			entries := make([]rule.ProvedEntry, len(leaves))
			for i, leaf := range leaves {
				st, text, sigs, err := govlog.ReadStatement(leaf, cp.Origin)
				if err != nil {
					return fmt.Errorf("entry %d is not a statement of %s: %w", i, cp.Origin, err)
				}
				entries[i] = rule.ProvedEntry{LeafHash: govlog.LeafHash(leaf), Index: uint64(i), Type: st.Type, Time: st.Time, Body: st.Body, Text: text}
				for _, s := range sigs {
					entries[i].Signers = append(entries[i].Signers, s.Name)
					raw, err := base64.StdEncoding.DecodeString(s.Base64)
					if err != nil || len(raw) < 5 {
						return fmt.Errorf("entry %d has a bad signature line by %s", i, s.Name)
					}
					entries[i].Signatures = append(entries[i].Signatures, rule.Signature{Name: s.Name, KeyHash: s.Hash, Sig: raw[4:]})
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "verified: %d entries of %s, the whole tree of its checkpoint\n", len(entries), cp.Origin)
			arg := ""
			if len(args) > 0 {
				arg = args[0]
			}
			return t.Run(ctx, entries, arg, set, cmd.OutOrStdout())
		},
	}
	qf.registerLog(cmd, log)
	cmd.Flags().StringVar(&qf.policyPath, "policy", "", "C2SP tlog-policy file: the log's checkpoint and every entry are verified against it")
	cmd.MarkFlagRequired("policy")
	for i, f := range t.Flags {
		cmd.Flags().StringVar(&flags[i], f.Name, "", f.Usage)
	}
	for _, name := range t.Required {
		cmd.MarkFlagRequired(name)
	}
	return cmd
}
