package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/internal/hammer"
)

func newHammerCmd() *cobra.Command {
	var (
		server, data string
		duration     time.Duration
		retryFor     time.Duration
		clients      int
		seed         int64
		tf           tlsFlags
	)
	cmd := &cobra.Command{
		Use:   "hammer --server ADDR --data DIR --duration 30s",
		Short: "Load-test a running deployment and check every receipt it gave",
		Long: `hammer drives a running deployment (dev or serve) with the demo agency's
key from DIR/keys/demo-agency.key, on the disclosures, funds, donations,
approvals, identity and votes logs: a seeded mix of valid statements,
invalid ones (a bad signature, a wrong origin, malformed JSON, a rule
violation, an application of an unknown kind or with a field of the wrong
type, an access for a purpose not granted, a grant not signed by its
subject, a ballot with a bad token, for an option the election does not
offer, or signed by another key than its token's), exact duplicates, and
conflicting pairs (two spends of one balance, two ballots with one
token), half waited for, half promised. On the approvals log it files
applications of dev's demo kind contract-payment (each followed by the
log's own decision); on the identity log it registers a fresh subject key,
issues it a diploma and has it grant the demo agency access, then records
accesses; on the votes log it opens an election naming an RSA token
issuer key it makes for the run, logs batches of tokens, mints them by
RFC 9474 blind signatures, and casts one ballot per token. A
submission refused with RESOURCE_EXHAUSTED (a quota) is sent again, the
same bytes, after a short sleep; so is, for up to --retry-for, one whose
answer left its outcome unknown (UNAVAILABLE, DEADLINE_EXCEEDED: the
server, a witness or the database restarting), and the answer may then be
the duplicate of its own first sending. A promise is kept if the hammer
saw a checkpoint including its entry by the deadline. Afterwards it
waits up to the log's maximum merge delay and checks that every promise
was kept, every bundle verifies against DIR/policy.txt, every refused
statement is absent, every duplicate got the same answer, every conflict
was won exactly once, and every checkpoint seen is cosigned and
consistent with the others. It prints a table per log and exits non-zero on
any loss or inconsistency.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if duration <= 0 || clients <= 0 {
				return fmt.Errorf("--duration and --clients must be positive")
			}
			signer, err := loadSigner(filepath.Join(data, "keys", "demo-agency.key"))
			if err != nil {
				return err
			}
			text, err := os.ReadFile(filepath.Join(data, "policy.txt"))
			if err != nil {
				return err
			}
			policy, err := govlog.ParsePolicy(text)
			if err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(data, "policy.txt"), err)
			}
			dialer, err := tf.dialer()
			if err != nil {
				return err
			}
			c, err := dialer.Dial(server)
			if err != nil {
				return err
			}
			defer c.Close()
			if !cmd.Flags().Changed("seed") {
				seed = time.Now().UnixNano() % 1_000_000
			}
			stderr := cmd.ErrOrStderr()
			fmt.Fprintf(stderr, "hammer: %s for %s with %d clients, seed %d\n", server, duration, clients, seed)
			rep, err := hammer.Run(ctx, hammer.Config{
				API: c, Policy: policy, Signer: signer, Duration: duration, Clients: clients, Seed: seed,
				Progress: stderr, ProgressEvery: 3 * time.Second, RetryFor: retryFor,
			})
			if err != nil {
				return err
			}
			rep.WriteTable(cmd.OutOrStdout())
			if !rep.OK() {
				fmt.Fprintf(stderr, "hammer: %d problems:\n", len(rep.Problems))
				for _, p := range rep.Problems {
					fmt.Fprintln(stderr, "  "+p)
				}
				return fmt.Errorf("hammer: %d problems, %d promises lost", len(rep.Problems), rep.Lost())
			}
			fmt.Fprintln(cmd.OutOrStdout(), "OK: every promise kept, every bundle verified, every refusal absent, one consistent cosigned history")
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "127.0.0.1:7000", "the deployment's gRPC address")
	cmd.Flags().StringVar(&data, "data", "govlog-data", "a govlog dev data folder: keys/demo-agency.key and policy.txt")
	cmd.Flags().DurationVar(&duration, "duration", 30*time.Second, "how long to submit")
	cmd.Flags().IntVar(&clients, "clients", 16, "concurrent submitters")
	cmd.Flags().DurationVar(&retryFor, "retry-for", 2*time.Minute, "how long to send a submission again while its outcome is unknown (0: never)")
	cmd.Flags().Int64Var(&seed, "seed", 0, "seed of the statement mix (default: from the clock, printed)")
	tf.register(cmd)
	return cmd
}
