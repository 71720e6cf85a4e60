package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/registry"
)

func newVerifyCmd() *cobra.Command {
	var policyPath, registryPath string
	cmd := &cobra.Command{
		Use:   "verify --policy POLICY BUNDLE",
		Short: "Verify offline that a bundle's entry is in the log",
		Long: `verify checks a c2sp.org/tlog-proof@v1 bundle with no server: the checkpoint
is signed by a log of the policy and cosigned by its witness quorum, and the
inclusion proof hashes the entry carried in the bundle up to the checkpoint's
root. With --registry it also checks who signed the statement.
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
			describeStatement(w, vb.Entry)
			if registryPath != "" {
				reg, err := registry.Load(registryPath)
				if err != nil {
					return err
				}
				_, sigs, err := govlog.ParseStatement(vb.Entry, vb.Checkpoint.Origin, reg.Verifiers())
				if err != nil {
					return fmt.Errorf("the entry is in the log, but its signature does NOT verify with %s: %w", registryPath, err)
				}
				fmt.Fprintf(w, "signature: valid, by %s\n", signerNames(sigs))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&policyPath, "policy", "", "C2SP tlog-policy file: trusted logs, witnesses, quorum")
	cmd.Flags().StringVar(&registryPath, "registry", "", "registry file, to check who signed the statement too")
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
	fmt.Fprintf(w, "statement: %s at %s\nbody: %s\n", st.Type, st.Time, st.Body)
}

func signerNames(sigs []note.Signature) string {
	var names []string
	for _, s := range sigs {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}
