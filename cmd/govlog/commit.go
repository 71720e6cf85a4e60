package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/govlog/govlog/client"
)

func newCommitCmd() *cobra.Command {
	var saltOut, saltHex string
	cmd := &cobra.Command{
		Use:   "commit VALUE --salt-out FILE | --salt HEX VALUE",
		Short: "Make (or check) a salted commitment to a person's ID or attribute, for a statement's body",
		Long: `commit makes the commitment a statement carries instead of a name, an ID
number or an attribute in clear: HMAC-SHA256 of VALUE keyed by a fresh 32-byte
random salt, in hex. The salt goes to --salt-out (mode 0600) for the person to
keep: with it they can show the commitment is theirs; without it, nobody can
brute-force the commitment back to the ID number, as an unsalted SHA-256 could
be. Use a fresh salt for each use, or two uses link. With --salt, commit
recomputes the commitment of VALUE under that salt, to check one.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var salt []byte
			switch {
			case saltHex != "" && saltOut != "":
				return fmt.Errorf("give --salt (to check) or --salt-out (to make one), not both")
			case saltHex != "":
				var err error
				if salt, err = hex.DecodeString(strings.TrimSpace(saltHex)); err != nil {
					return fmt.Errorf("--salt: not hex: %w", err)
				}
			case saltOut != "":
				var err error
				if salt, err = client.NewSalt(); err != nil {
					return err
				}
				f, err := os.OpenFile(saltOut, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return fmt.Errorf("couldn't write the salt (an existing file is never overwritten): %w", err)
				}
				if _, err := fmt.Fprintln(f, hex.EncodeToString(salt)); err != nil {
					f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
			default:
				return fmt.Errorf("--salt-out FILE is required: the salt is the person's to keep")
			}
			c, err := client.Commit(args[0], salt)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), c)
			if saltOut != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "salt written to %s: give it to the person, and keep no copy\n", saltOut)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&saltOut, "salt-out", "", "file to write the new salt to (hex, mode 0600; never overwritten)")
	cmd.Flags().StringVar(&saltHex, "salt", "", "the salt (hex) of an existing commitment, to check it")
	return cmd
}
