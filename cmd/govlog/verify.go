package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
)

func newVerifyCmd() *cobra.Command {
	var policyPath, registryPath, registryServer string
	var timeout time.Duration
	var tf tlsFlags
	cmd := &cobra.Command{
		Use:   "verify --policy POLICY BUNDLE",
		Short: "Verify offline that a bundle's entry is in the log",
		Long: `verify checks a c2sp.org/tlog-proof@v1 bundle with no server: the checkpoint
is signed by a log of the policy and cosigned by its witness quorum, and the
inclusion proof hashes the entry carried in the bundle up to the checkpoint's
root. With --registry it also checks who signed the statement: the signature
verifies with a key the registry lists, and that key's agency held the role
the statement's type needs at the statement's time (a key revoked, or retired
before that time, does not count). --registry takes a YAML registry file;
--registry-server reads the registry log itself from a server instead, every
entry checked against a checkpoint --policy accepts (the policy must list the
registry log), and judges by the registry as it stands now: a key revoked for
compromise after the entry was admitted refuses it too.
It exits 0 and says what it proved, or non-zero with the reason.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if policyPath == "" {
				return fmt.Errorf("--policy is required: the logs and witnesses you trust")
			}
			policyText, err := os.ReadFile(policyPath)
			if err != nil {
				return err
			}
			policy, err := govlog.ParsePolicy(policyText)
			if err != nil {
				return fmt.Errorf("policy %s: %w", policyPath, err)
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			vb, err := govlog.VerifyBundle(data, policy)
			if err != nil {
				return fmt.Errorf("%s does NOT verify: %w", args[0], err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "OK: entry %d of %s is in the log, proved at tree size %d (root %s)\n",
				vb.Index, vb.Checkpoint.Origin, vb.Checkpoint.Size, base64.StdEncoding.EncodeToString(vb.Checkpoint.Hash[:]))
			if len(vb.Witnesses) == 0 {
				fmt.Fprintln(w, "witnesses: none required by the policy")
			} else {
				fmt.Fprintf(w, "witnesses: cosigned by %s\n", strings.Join(vb.Witnesses, ", "))
			}
			if len(vb.Ignored) > 0 {
				fmt.Fprintf(w, "ignored: %d signature line(s) by no key of the policy (%s): damaged, or by witnesses it does not list; the quorum held without them\n",
					len(vb.Ignored), printable(strings.Join(vb.Ignored, ", ")))
			}
			describeStatement(w, vb.Entry)
			switch {
			case registryPath != "" && registryServer != "":
				return fmt.Errorf("give --registry or --registry-server, not both")
			case registryPath != "":
				reg, err := registry.Load(registryPath)
				if err != nil {
					return err
				}
				return checkSigner(w, vb, reg, registryPath)
			case registryServer != "":
				d, err := tf.dialer()
				if err != nil {
					return err
				}
				reg, where, err := readRegistryLog(cmd, d, registryServer, policy, timeout)
				if err != nil {
					return fmt.Errorf("the entry is in the log, but the registry could not be read: %w", err)
				}
				fmt.Fprintf(w, "registry: %s\n", where)
				return checkSigner(w, vb, reg, where)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&policyPath, "policy", "", "C2SP tlog-policy file: trusted logs, witnesses, quorum")
	cmd.Flags().StringVar(&registryPath, "registry", "", "registry file, to check who signed the statement too")
	cmd.Flags().StringVar(&registryServer, "registry-server", "", "gRPC address of a server of the registry log, to check who signed against the registry log itself")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for --registry-server")
	tf.register(cmd) // for --registry-server
	return cmd
}

// describeStatement prints what a statement says, without vouching for its
// signature (verify --registry does that).
func describeStatement(w io.Writer, entry []byte) {
	text, _, ok := bytes.Cut(entry, []byte("\n\n"))
	lines := strings.Split(string(text), "\n")
	if !ok || len(lines) != 3 || lines[0] != govlog.StatementFormat {
		fmt.Fprintln(w, "entry: not a govlog statement")
		return
	}
	var st struct {
		Type string          `json:"type"`
		Time string          `json:"time"`
		Body json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal([]byte(lines[2]), &st); err != nil {
		fmt.Fprintln(w, "entry: unreadable statement JSON")
		return
	}
	fmt.Fprintf(w, "statement: %s at %s\nbody: %s\n", printable(st.Type), printable(st.Time), printable(string(st.Body)))
}

// printable escapes, as \uXXXX, what a terminal would not show as it is:
// control characters and the bidirectional formatting characters that
// reorder text on screen, so that a bundle prints what it holds.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) || body.IsBidiControl(r) || !unicode.IsPrint(r) && r != ' ' {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// signerNames lists the key names of sigs, or of lines.
func signerNames(sigs []note.Signature, lines []rule.Signature) string {
	var names []string
	for _, s := range sigs {
		names = append(names, s.Name)
	}
	for _, l := range lines {
		names = append(names, fmt.Sprintf("%s+%08x", l.Name, l.KeyHash))
	}
	return strings.Join(names, ", ")
}

// checkSigner checks, for verify --registry, that the registry authorizes
// the signer of vb's entry as the log's admission server did: its key, not
// revoked nor retired by the statement's time, and its agency's role then.
func checkSigner(w io.Writer, vb *govlog.VerifiedBundle, reg *registry.Registry, registryPath string) error {
	origin := vb.Checkpoint.Origin
	d, err := newDomain(path.Base(origin))
	if err != nil {
		return fmt.Errorf("the entry is in the log, but who may sign it is unknown: log %s: %w", origin, err)
	}
	opened, err := reg.Open(vb.Entry, origin, d)
	if err != nil {
		return fmt.Errorf("the entry is in the log, but its signature does NOT verify with %s: %w", registryPath, err)
	}
	e := opened.Entry
	role, err := d.RequiredRole(e.Type)
	if err != nil {
		return fmt.Errorf("the entry is in the log, but %w", err)
	}
	if role == rule.SelfSigned {
		fmt.Fprintf(w, "signature: by %s, a key of the signer's own that the %s rules check; the registry lists none\n",
			signerNames(nil, e.Signatures), d.Log())
		return nil
	}
	fmt.Fprintf(w, "signature: valid, by %s\n", signerNames(opened.Sigs, nil))
	signers, err := reg.AuthorizeAt(reg.Size(), opened.Sigs, role, e.Time)
	if err != nil {
		return fmt.Errorf("the entry is in the log, but %s does NOT authorize its signer for %s at %s: %w",
			registryPath, e.Type, e.Time.UTC().Format(time.RFC3339), err)
	}
	fmt.Fprintf(w, "authorized: %s held the role %s at %s\n", signers.Agency, role, e.Time.UTC().Format(time.RFC3339))
	for _, o := range signers.Officials {
		fmt.Fprintf(w, "official: %s, a registered official of %s, co-signed\n", o, signers.Agency)
	}
	return nil
}

// readRegistryLog reads the registry log from server, checked against a
// checkpoint policy accepts, and replays it.
func readRegistryLog(cmd *cobra.Command, d client.Dialer, server string, policy *govlog.Policy, timeout time.Duration) (*registry.Registry, string, error) {
	c, err := d.Dial(server)
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	cp, entries, err := c.AllEntries(ctx, policy, registry.LogName)
	if err != nil {
		return nil, "", err
	}
	reg, err := registry.Replay(cp.Origin, entries)
	if err != nil {
		return nil, "", err
	}
	return reg, fmt.Sprintf("the registry log %s (%d entries, proved by its checkpoint)", cp.Origin, cp.Size), nil
}
