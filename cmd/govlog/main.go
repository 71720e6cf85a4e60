// Command govlog is every role of govlog in one binary: the servers (dev,
// serve) and the client verbs agencies, journalists and auditors type
// (keygen, submit, get, prove, verify, checkpoint, query, and a query verb per domain). It is the only place
// that reads flags and files and picks implementations.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "govlog:", withHint(err))
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "govlog",
		Short: "A transparent, verifiable audit log for government records",
		Long: `govlog keeps government statements (disclosures, approvals, fund flows,
donations, votes) in append-only Merkle logs that anyone can verify.

Start everything on this machine:   govlog dev --data /tmp/gl
Verify a bundle offline:            govlog verify --policy policy.txt entry.bundle`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newDevCmd(),
		newServeCmd(),
		newKeygenCmd(),
		newSubmitCmd(),
		newGetCmd(),
		newProveCmd(),
		newVerifyCmd(),
		newCheckpointCmd(),
		newQueryCmd(),
		newDomainsCmd(),
		newBenchCmd(),
		newWitnessCmd(),
		newCheckEvidenceCmd(),
		newMonitorCmd(),
		newRegistryCmd(),
		newCommitCmd(),
		newHammerCmd(),
	)
	root.AddCommand(newDomainQueryCmds()...)
	return root
}
