package main

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/govlog/govlog"
)

func newKeygenCmd() *cobra.Command {
	var name, out string
	var witness bool
	cmd := &cobra.Command{
		Use:   "keygen --name NAME",
		Short: "Generate a signing key: NAME.key (secret) and NAME.vkey (public)",
		Long: `keygen writes an Ed25519 signed-note key pair. The .key file is secret
(mode 0600); the .vkey line is what goes into a registry or a policy.
For a log key, the name must be the log's origin (e.g. gov.example/funds);
with --witness it makes a C2SP cosignature/v1 witness key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return fmt.Errorf("--name is required")
			}
			if out == "" {
				out = strings.ReplaceAll(name, "/", "_")
			}
			var vkey string
			var err error
			if witness {
				var skey string
				if skey, vkey, err = govlog.GenerateCosignerKey(rand.Reader, name); err == nil {
					err = writeKeyFiles(out, skey, vkey)
				}
			} else {
				vkey, err = writeKeyPair(out, name)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (secret, keep it safe) and %s\n%s\n",
				filepath.Clean(out+".key"), filepath.Clean(out+".vkey"), vkey)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "key name: an agency ID, a log origin or a witness name")
	cmd.Flags().StringVar(&out, "out", "", "path prefix of the files (default: the name, '/' replaced by '_')")
	cmd.Flags().BoolVar(&witness, "witness", false, "make a witness cosigning key (cosignature/v1)")
	return cmd
}
