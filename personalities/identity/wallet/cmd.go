package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/rule"
)

// Commands returns the subcommands of `govlog identity` this package
// runs: attributes (the issuer's), disclose (the holder's) and check (the
// verifier's). qc is the identity domain: check runs its CheckAnswer on
// the log's answer.
func Commands(qc rule.QueryClient) []*cobra.Command {
	return []*cobra.Command{attributesCmd(), discloseCmd(), checkCmd(qc)}
}

func attributesCmd() *cobra.Command {
	var credentialID, typ, out string
	cmd := &cobra.Command{
		Use:   "attributes --credential-id ID --type TYPE --out wallet.json NAME=VALUE...",
		Short: "Commit to a credential's attributes: write the holder's wallet, print the commitments",
		Long: `attributes is the issuer's side of a credential's attributes. For each
NAME=VALUE it makes a fresh 32-byte salt and the commitment HMAC-SHA256(salt,
VALUE); it writes the values and salts to --out, the holder's wallet file
(mode 0600; it refuses to overwrite a file), and prints the commitments as one
line of JSON, {NAME: commitment}, to put in the credential body's
"attributes". Only the commitments go on the log: hand the wallet file to the
holder, who alone can then disclose an attribute, and keep no copy.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			values := map[string]string{}
			for _, a := range args {
				name, value, ok := strings.Cut(a, "=")
				if !ok || name == "" {
					return fmt.Errorf("argument %q: want NAME=VALUE, e.g. birth_date=1990-04-01", a)
				}
				if _, dup := values[name]; dup {
					return fmt.Errorf("attribute %q is given twice: give each attribute once", name)
				}
				values[name] = value
			}
			w, commitments, err := NewWallet(credentialID, typ, values)
			if err != nil {
				return err
			}
			data, err := w.Marshal()
			if err != nil {
				return err
			}
			if err := writeNew(out, data); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote the holder's wallet to %s (secret: give it to the holder and keep no copy); the credential body's \"attributes\" are:\n", out)
			// One line of compact JSON, the keys sorted.
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetEscapeHTML(false)
			return enc.Encode(commitments)
		},
	}
	f := cmd.Flags()
	f.StringVar(&credentialID, "credential-id", "", "the ID of the credential the attributes are for")
	f.StringVar(&typ, "type", "", "the credential's type")
	f.StringVar(&out, "out", "", "write the holder's wallet file here (it must not exist)")
	for _, name := range []string{"credential-id", "type", "out"} {
		cmd.MarkFlagRequired(name)
	}
	return cmd
}

func discloseCmd() *cobra.Command {
	var walletPath, attribute, out string
	cmd := &cobra.Command{
		Use:   "disclose --wallet wallet.json --attribute NAME [--out disclosure.json]",
		Short: "Disclose one attribute of a credential: its value and the salt of its commitment",
		Long: `disclose is the holder's side: it takes one attribute from the wallet file
and writes what a verifier needs to check it against the credential on the
log: the credential's ID, the attribute's name, its value and the salt of its
commitment. Nothing of the other attributes is disclosed. The disclosure goes
to --out (mode 0600; it refuses to overwrite a file), or to stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := os.ReadFile(walletPath)
			if err != nil {
				return fmt.Errorf("couldn't read the wallet: %w", err)
			}
			if fi, err := os.Stat(walletPath); err == nil && fi.Mode().Perm()&0o077 != 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s is a secret wallet readable by others (mode %04o): chmod 600 %s\n", walletPath, fi.Mode().Perm(), walletPath)
			}
			w, err := ReadWallet(data)
			if err != nil {
				return fmt.Errorf("%s: %w", walletPath, err)
			}
			d, err := w.Disclose(attribute)
			if err != nil {
				return err
			}
			b, err := d.Marshal()
			if err != nil {
				return err
			}
			if out == "" {
				cmd.OutOrStdout().Write(b)
				return nil
			}
			if err := writeNew(out, b); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "disclosure of %s of credential %s written to %s (the verifier checks it with govlog identity check)\n", attribute, w.CredentialID, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&walletPath, "wallet", "", "the wallet file the issuer gave you")
	f.StringVar(&attribute, "attribute", "", "the name of the one attribute to disclose")
	f.StringVar(&out, "out", "", "write the disclosure here (it must not exist) instead of stdout")
	cmd.MarkFlagRequired("wallet")
	cmd.MarkFlagRequired("attribute")
	return cmd
}

func checkCmd(qc rule.QueryClient) *cobra.Command {
	var server, policyPath, logName, origin string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "check --server ADDR --policy POLICY disclosure.json",
		Short: "Check a disclosed attribute against its credential, as the log proves it",
		Long: `check is the verifier's side: it asks the identity log at --server for the
credential the disclosure names, verifies every entry the answer rests on
against --policy (all at one checkpoint of the identity log), checks the
answer against those entries with the identity domain's own check, and then
checks the disclosure: the credential has the attribute, its commitment opens
to the disclosed value under the disclosed salt, and the credential is valid
(not revoked, superseded or expired). It prints one line saying what the
credential says, and fails, saying why, on anything else.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if qc == nil {
				return errors.New("no identity domain to check the log's answer with")
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("couldn't read the disclosure: %w", err)
			}
			d, err := ReadDisclosure(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			text, err := os.ReadFile(policyPath)
			if err != nil {
				return fmt.Errorf("couldn't read the policy: %w", err)
			}
			policy, err := govlog.ParsePolicy(text)
			if err != nil {
				return fmt.Errorf("policy %s: %w", policyPath, err)
			}
			if origin == "" {
				if origin, err = logOrigin(policy, policyPath, logName); err != nil {
					return err
				}
			}
			c, err := client.Dial(server)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			q := map[string]string{QueryArg: d.CredentialID}
			a, err := c.Query(ctx, policy, logName, QueryCredential, q)
			if err != nil {
				return fmt.Errorf("asking the %s log at %s for credential %s: %w", logName, server, d.CredentialID, err)
			}
			if len(a.Entries) == 0 {
				return fmt.Errorf("the %s log's answer about credential %s cites no entry: nothing proves it; not trusting it", logName, d.CredentialID)
			}
			if a.Checkpoint.Origin != origin {
				return fmt.Errorf("the answer about credential %s is proved in log %s, not %s: not trusting it (name the log with --origin if the policy's is another)", d.CredentialID, a.Checkpoint.Origin, origin)
			}
			proved, err := client.ProvedEntries(a.Entries)
			if err != nil {
				return fmt.Errorf("the answer about credential %s: %w", d.CredentialID, err)
			}
			checked, err := qc.CheckAnswer(QueryCredential, q, a.Result, proved)
			if err != nil {
				return fmt.Errorf("the log's answer about credential %s does NOT agree with the entries it proves: %w", d.CredentialID, err)
			}
			cred, err := CheckCredential(d, a.Result, time.Now())
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			fmt.Fprintf(stderr, "verified: %d entries proved in %s at tree size %d with %s", len(a.Entries), a.Checkpoint.Origin, a.Checkpoint.Size, policyPath)
			if len(a.Witnesses) > 0 {
				fmt.Fprintf(stderr, ", cosigned by %s", strings.Join(a.Witnesses, ", "))
			}
			fmt.Fprintf(stderr, "\nchecked: %s\n", strings.TrimPrefix(checked, "checked: "))
			fmt.Fprintln(cmd.OutOrStdout(), cred.Describe(d, a.Checkpoint.Origin, a.Checkpoint.Size))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "", "the identity log's server address (host:port)")
	f.StringVar(&policyPath, "policy", "", "C2SP tlog-policy file: every entry of the answer is verified against it")
	f.StringVar(&logName, "log", LogName, "the log's name on the server")
	f.StringVar(&origin, "origin", "", "the log's origin (default: the one log of the policy whose origin ends in /<log>)")
	f.DurationVar(&timeout, "timeout", time.Minute, "give up on the server after this long")
	cmd.MarkFlagRequired("server")
	cmd.MarkFlagRequired("policy")
	return cmd
}

// logOrigin is the one log of policy whose origin names the log
// (<operator>/<log>).
func logOrigin(policy *govlog.Policy, policyPath, log string) (string, error) {
	var found []string
	for _, v := range policy.Logs() {
		if strings.HasSuffix(v.Name(), "/"+log) {
			found = append(found, v.Name())
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("policy %s lists no log whose origin ends in /%s: name it with --origin", policyPath, log)
	default:
		return "", fmt.Errorf("policy %s lists several %s logs (%s): name one with --origin", policyPath, log, strings.Join(found, ", "))
	}
}
