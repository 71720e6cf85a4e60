package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog/client"
)

func newProveCmd() *cobra.Command {
	var sf serverFlags
	var index int64
	var hash, out, tilesURL string
	var wait bool
	cmd := &cobra.Command{
		Use:   "prove (--log LOG | --tiles URL) --index N --out FILE",
		Short: "Fetch an entry's bundle (entry, inclusion proof, checkpoint)",
		Long: `prove fetches the tlog-proof bundle of one entry, by --index or by --hash
(its base64 leaf hash), at the log's latest checkpoint. Check it offline
with govlog verify.

With --tiles it reads the log's C2SP tlog-tiles read path over HTTP instead
of gRPC (a server's http_listen, a mirror or a CDN): the entry from its entry
bundle, the proof from hash tiles checked against the checkpoint. Tiles are
found by index only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (index < 0) == (hash == "") {
				return fmt.Errorf("give exactly one of --index and --hash")
			}
			var bundle []byte
			if tilesURL != "" {
				if hash != "" {
					return fmt.Errorf("--tiles finds entries by --index only: a static read path has no index by hash")
				}
				hc, err := sf.httpClient(0) // --timeout bounds it
				if err != nil {
					return err
				}
				b, err := proveFromTiles(cmd, client.NewTiles(tilesURL, hc), uint64(index), sf.timeout, wait)
				if err != nil {
					return err
				}
				return writeBundle(cmd, b, out)
			}
			if sf.log == "" {
				return fmt.Errorf("give --log (or --tiles)")
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
			return writeBundle(cmd, bundle, out)
		},
	}
	// --log is not needed with --tiles: the prefix names the log.
	sf.registerFlags(cmd, "")
	cmd.Flags().Int64Var(&index, "index", -1, "entry index")
	cmd.Flags().StringVar(&hash, "hash", "", "entry leaf hash (base64)")
	cmd.Flags().BoolVar(&wait, "wait", false, "if the entry is not in the log yet, wait for it (up to --timeout)")
	cmd.Flags().StringVar(&out, "out", "", "write the bundle here instead of stdout")
	cmd.Flags().StringVar(&tilesURL, "tiles", "", "read the log's tlog-tiles over HTTP at this prefix (e.g. http://127.0.0.1:7080/disclosures/) instead of gRPC; an https:// prefix is checked with --ca-file (or the system's roots)")
	return cmd
}

// proveFromTiles makes the bundle of entry index from the log's tiles,
// waiting (with wait) until a checkpoint includes it.
func proveFromTiles(cmd *cobra.Command, t *client.Tiles, index uint64, timeout time.Duration, wait bool) ([]byte, error) {
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	for {
		bundle, err := t.Bundle(ctx, index)
		if err == nil {
			return bundle, nil
		}
		if !wait || !strings.Contains(err.Error(), "is not in the log's checkpoint") {
			return nil, fmt.Errorf("prove: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("prove: still not in the log after %s: %w", timeout, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func writeBundle(cmd *cobra.Command, bundle []byte, out string) error {
	if out == "" {
		cmd.OutOrStdout().Write(bundle)
		return nil
	}
	if err := os.WriteFile(out, bundle, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "bundle written to %s\n", out)
	return nil
}
