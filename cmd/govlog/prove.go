package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func newProveCmd() *cobra.Command {
	var sf serverFlags
	var index int64
	var hash, out string
	var wait bool
	cmd := &cobra.Command{
		Use:   "prove --log LOG --index N --out FILE",
		Short: "Fetch an entry's bundle (entry, inclusion proof, checkpoint)",
		Long: `prove fetches the tlog-proof bundle of one entry, by --index or by --hash
(its base64 leaf hash), at the log's latest checkpoint. Check it offline
with govlog verify.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (index < 0) == (hash == "") {
				return fmt.Errorf("give exactly one of --index and --hash")
			}
			c, ctx, done, err := sf.dial(cmd)
			if err != nil {
				return err
			}
			defer done()
			var leafHash []byte
			if hash != "" {
				leafHash, err = base64.StdEncoding.DecodeString(hash)
				if err != nil || len(leafHash) != 32 {
					return fmt.Errorf("--hash must be a base64 SHA-256 leaf hash")
				}
			}
			var bundle []byte
			for {
				if leafHash != nil {
					bundle, err = c.BundleByHash(ctx, sf.log, [32]byte(leafHash))
				} else {
					bundle, err = c.Bundle(ctx, sf.log, uint64(index))
				}
				// With --wait, an entry not in the log yet (a promise
				// not yet kept) is polled for until --timeout.
				if c := status.Code(err); !wait || (c != codes.OutOfRange && c != codes.NotFound) {
					break
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("prove: still not in the log after %s: %w", sf.timeout, err)
				case <-time.After(200 * time.Millisecond):
				}
			}
			if err != nil {
				return fmt.Errorf("prove: %w", err)
			}
			if out == "" {
				cmd.OutOrStdout().Write(bundle)
				return nil
			}
			if err := os.WriteFile(out, bundle, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "bundle written to %s\n", out)
			return nil
		},
	}
	sf.register(cmd)
	cmd.Flags().Int64Var(&index, "index", -1, "entry index")
	cmd.Flags().StringVar(&hash, "hash", "", "entry leaf hash (base64)")
	cmd.Flags().BoolVar(&wait, "wait", false, "if the entry is not in the log yet, wait for it (up to --timeout)")
	cmd.Flags().StringVar(&out, "out", "", "write the bundle here instead of stdout")
	return cmd
}
