package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/registry"
)

func newRegistryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Change the registry log (each entry signed by k of n root keys) and read it",
		Long: `The registry log says which agencies may sign what: agencies, their officials
(pseudonymous staff IDs with keys of their own), keys and roles. Each entry is
signed by a quorum of the root keys the servers and monitors are configured
with, so no single key can change it. A change takes effect on every log at
once, without a restart.

A change is made in three steps, on different machines as a real quorum does:

  govlog registry prepare key.add agency=city-a key=@city-a-2.vkey --server ADDR --out change.note
  govlog registry sign --key root-1.key change.note     # by each root holder
  govlog registry submit --server ADDR change.note

The entry's time is set when it is prepared, and a server admits a statement
at most 24 hours old (its max age): gather the signatures within that, or
prepare it again.

Entry types and their fields (a value @FILE is read from the file):
  agency.register    agency=ID name=TEXT
  official.register  agency=ID staff=STAFF-ID key=VKEY (named STAFF-ID)
  key.add            agency=ID key=VKEY (named ID or one of its staff IDs)
  key.retire         key=VKEY|NAME+HASH at=RFC3339 (signs nothing dated at or after)
  key.revoke         key=VKEY|NAME+HASH [from=RFC3339] (nothing it signed from then counts; no from: nothing ever)
  role.grant         agency=ID role=ROLE
  role.withdraw      agency=ID role=ROLE [at=RFC3339] (default: the entry's time)`,
	}
	cmd.AddCommand(newRegistryPrepareCmd(), newRegistrySignCmd(), newRegistrySubmitCmd())
	d := registry.NewDomain(nil)
	for _, info := range d.Queries() {
		cmd.AddCommand(newDomainQueryCmd(registry.LogName, d, info))
	}
	return cmd
}

func newRegistryPrepareCmd() *cobra.Command {
	var (
		sf          serverFlags
		origin, out string
		at          string
	)
	cmd := &cobra.Command{
		Use:   "prepare TYPE FIELD=VALUE... --out FILE",
		Short: "Write a registry entry's statement, unsigned, for the root holders to sign",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			typ := args[0]
			d := registry.NewDomain(nil)
			if _, err := d.RequiredRole(typ); err != nil {
				return err
			}
			fields := map[string]string{}
			for _, kv := range args[1:] {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return fmt.Errorf("%q: give fields as NAME=VALUE", kv)
				}
				if file, ok := strings.CutPrefix(v, "@"); ok {
					b, err := os.ReadFile(file)
					if err != nil {
						return err
					}
					v = strings.TrimSpace(string(b))
				}
				// A retirement or revocation names the key by its ID.
				if k == "key" && (typ == registry.TypeKeyRetire || typ == registry.TypeKeyRevoke) {
					if v2, err := note.NewVerifier(v); err == nil {
						v = fmt.Sprintf("%s+%08x", v2.Name(), v2.KeyHash())
					}
				}
				fields[k] = v
			}
			t := time.Now().UTC().Truncate(time.Second)
			if at != "" {
				var err error
				if t, err = time.Parse(time.RFC3339, at); err != nil {
					return fmt.Errorf("--time: %w", err)
				}
			}
			if origin == "" {
				c, ctx, done, err := sf.dial(cmd)
				if err != nil {
					return err
				}
				defer done()
				if origin, err = c.Origin(ctx, registry.LogName); err != nil {
					return fmt.Errorf("couldn't learn the registry log's origin (or give --origin): %w", err)
				}
			}
			body, err := json.Marshal(fields)
			if err != nil {
				return err
			}
			st, err := govlog.NewStatement(origin, typ, t, body)
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, st.Text(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "prepared %s for %s in %s:\n%s\nnext: each root holder runs  govlog registry sign --key ROOT.key %s\n", typ, origin, out, st.Text(), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&sf.server, "server", "127.0.0.1:7000", "personality server gRPC address, to learn the registry log's origin")
	cmd.Flags().DurationVar(&sf.timeout, "timeout", 30*time.Second, "how long to wait for the server")
	cmd.Flags().StringVar(&origin, "origin", "", "the registry log's origin (default: read from --server)")
	cmd.Flags().StringVar(&at, "time", "", "the entry's time, RFC 3339 (default: now)")
	cmd.Flags().StringVar(&out, "out", "", "file to write the statement to")
	cmd.MarkFlagRequired("out")
	return cmd
}

func newRegistrySignCmd() *cobra.Command {
	var keyPaths []string
	cmd := &cobra.Command{
		Use:   "sign --key ROOT.key FILE",
		Short: "Add a root key's signature to a prepared registry entry, in place",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			msg, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			for _, p := range keyPaths {
				signer, err := loadSigner(p)
				if err != nil {
					return err
				}
				if msg, err = govlog.AddSignature(msg, signer); err != nil {
					return fmt.Errorf("%s: %w", args[0], err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "signed %s with %s+%08x\n", args[0], signer.Name(), signer.KeyHash())
			}
			if err := os.WriteFile(args[0], msg, 0o644); err != nil {
				return err
			}
			var names []string
			for _, line := range strings.Split(string(msg), "\n") {
				if rest, ok := strings.CutPrefix(line, "— "); ok {
					name, _, _ := strings.Cut(rest, " ")
					names = append(names, name)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s now carries %d signature(s): %s\n", args[0], len(names), strings.Join(slices.Compact(names), ", "))
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&keyPaths, "key", nil, "root signing key file (repeat for several)")
	cmd.MarkFlagRequired("key")
	return cmd
}

func newRegistrySubmitCmd() *cobra.Command {
	var (
		sf                    serverFlags
		policyPath, out, file string
		wait                  bool
	)
	cmd := &cobra.Command{
		Use:   "submit --server ADDR FILE",
		Short: "Submit a registry entry signed by a quorum of root keys",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file = args[0]
			signed, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			c, ctx, done, err := sf.dial(cmd)
			if err != nil {
				return err
			}
			defer done()
			origin, err := c.Origin(ctx, registry.LogName)
			if err != nil {
				return fmt.Errorf("couldn't learn the registry log's origin: %w", err)
			}
			return submitSigned(cmd, c, ctx, registry.LogName, origin, signed, submitOutput{wait: wait, policyPath: policyPath, out: out})
		},
	}
	sf.registerLog(cmd, registry.LogName)
	cmd.Flags().StringVar(&out, "out", "", "write the bundle (or promise) here instead of stdout")
	cmd.Flags().StringVar(&policyPath, "policy", "", "verify the bundle (or promise) against this C2SP tlog-policy")
	cmd.Flags().BoolVar(&wait, "wait", true, "wait for inclusion and return a bundle; false: return a promise at once")
	return cmd
}
