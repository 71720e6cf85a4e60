package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/govlog/govlog"
)

func newCheckpointCmd() *cobra.Command {
	var sf serverFlags
	var policyPath string
	cmd := &cobra.Command{
		Use:   "checkpoint --log LOG [--policy POLICY]",
		Short: "Print a log's latest signed checkpoint (verified with --policy)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, ctx, done, err := sf.dial(cmd)
			if err != nil {
				return err
			}
			defer done()
			signed, err := c.Checkpoint(ctx, sf.log)
			if err != nil {
				return fmt.Errorf("checkpoint: %w", err)
			}
			w := cmd.OutOrStdout()
			w.Write(signed)
			if policyPath == "" {
				return nil
			}
			text, err := os.ReadFile(policyPath)
			if err != nil {
				return err
			}
			policy, err := govlog.ParsePolicy(text)
			if err != nil {
				return fmt.Errorf("policy %s: %w", policyPath, err)
			}
			cp, witnesses, err := policy.Verify(signed)
			if err != nil {
				return fmt.Errorf("checkpoint does NOT verify with %s: %w", policyPath, err)
			}
			fmt.Fprintf(w, "OK: %s at size %d, signed by the log", cp.Origin, cp.Size)
			if len(witnesses) > 0 {
				fmt.Fprintf(w, ", cosigned by %s", strings.Join(witnesses, ", "))
			}
			fmt.Fprintln(w)
			return nil
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&policyPath, "policy", "", "verify against this C2SP tlog-policy file")
	return cmd
}
