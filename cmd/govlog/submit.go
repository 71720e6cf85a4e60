package main

import (
	"bytes"

	"encoding/base64"
	"fmt"
	"github.com/govlog/govlog/client"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/govlog/govlog"
)

func newSubmitCmd() *cobra.Command {
	var (
		sf                           serverFlags
		keyPath, typ, body, bodyFile string
		origin, out, at, policyPath  string
		wait                         bool
	)
	cmd := &cobra.Command{
		Use:   "submit --log LOG --key KEY --type TYPE --body JSON",
		Short: "Sign a statement and submit it; save its bundle (or promise)",
		Long: `submit builds a govlog/statement/v1 note for the log (its origin is read
from the server's checkpoint unless --origin is given), signs it with --key,
and submits it. By default it waits until a checkpoint includes it and writes
the tlog-proof bundle to --out; with --wait=false it writes the log's signed
promise instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			signer, err := loadSigner(keyPath)
			if err != nil {
				return err
			}
			if bodyFile != "" {
				b, err := os.ReadFile(bodyFile)
				if err != nil {
					return err
				}
				body = string(b)
			}
			if body == "" {
				return fmt.Errorf("--body or --body-file is required")
			}
			t := time.Now().UTC().Truncate(time.Second)
			if at != "" {
				if t, err = time.Parse(time.RFC3339, at); err != nil {
					return fmt.Errorf("--time: %w", err)
				}
			}
			c, ctx, done, err := sf.dial(cmd)
			if err != nil {
				return err
			}
			defer done()
			if origin == "" {
				if origin, err = c.Origin(ctx, sf.log); err != nil {
					return fmt.Errorf("couldn't learn the log's origin: %w", err)
				}
			}
			st, err := govlog.NewStatement(origin, typ, t, []byte(body))
			if err != nil {
				return err
			}
			signed, err := st.Sign(signer)
			if err != nil {
				return err
			}
			res, err := c.Submit(ctx, sf.log, signed, wait)
			if err != nil {
				return fmt.Errorf("submit: %w", err)
			}
			if policyPath != "" {
				if err := checkSubmitted(policyPath, origin, signed, res, wait); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			what := "admitted"
			if res.Duplicate {
				what = "already in the log (same bytes submitted before)"
			}
			fmt.Fprintf(w, "%s: leaf hash %s\n", what, base64.StdEncoding.EncodeToString(res.LeafHash[:]))
			if !wait {
				if out != "" {
					if err := os.WriteFile(out, res.Promise, 0o644); err != nil {
						return err
					}
					fmt.Fprintf(w, "promise signed by the log written to %s\n", out)
				} else {
					w.Write(res.Promise)
				}
				return nil
			}
			fmt.Fprintf(w, "included: %s entry %d\n", origin, res.Index)
			if out != "" {
				if err := os.WriteFile(out, res.Bundle, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(w, "bundle written to %s (check it with: govlog verify --policy POLICY %s)\n", out, out)
			} else {
				w.Write(res.Bundle)
			}
			return nil
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&keyPath, "key", "", "the agency's signing key file (from keygen)")
	cmd.Flags().StringVar(&typ, "type", "", "statement type, e.g. disclosure.publish")
	cmd.Flags().StringVar(&body, "body", "", "statement body, a JSON object")
	cmd.Flags().StringVar(&bodyFile, "body-file", "", "read the body from this file")
	cmd.Flags().StringVar(&origin, "origin", "", "the log's origin (default: read from the server)")
	cmd.Flags().StringVar(&at, "time", "", "statement time, RFC 3339 (default: now)")
	cmd.Flags().StringVar(&out, "out", "", "write the bundle (or promise) here instead of stdout")
	cmd.Flags().StringVar(&policyPath, "policy", "", "verify the bundle (or promise) against this C2SP tlog-policy before saving it")
	cmd.Flags().BoolVar(&wait, "wait", true, "wait for inclusion and return a bundle; false: return a promise at once")
	cmd.MarkFlagRequired("key")
	cmd.MarkFlagRequired("type")
	return cmd
}

// checkSubmitted verifies what the server answered: the bundle proves this
// very statement under the policy, or the promise is signed by the policy's
// key for this log and names this statement.
func checkSubmitted(policyPath, origin string, signed []byte, res *client.Submitted, wait bool) error {
	text, err := os.ReadFile(policyPath)
	if err != nil {
		return err
	}
	policy, err := govlog.ParsePolicy(text)
	if err != nil {
		return fmt.Errorf("policy %s: %w", policyPath, err)
	}
	if wait {
		vb, err := govlog.VerifyBundle(res.Bundle, policy)
		if err != nil {
			return fmt.Errorf("the server's bundle does NOT verify with %s: %w", policyPath, err)
		}
		if !bytes.Equal(vb.Entry, signed) || vb.Index != res.Index {
			return fmt.Errorf("the server's bundle proves another entry than the one submitted")
		}
		return nil
	}
	for _, v := range policy.Logs() {
		if v.Name() != origin {
			continue
		}
		p, err := govlog.OpenPromise(res.Promise, v)
		if err != nil {
			continue
		}
		if p.LeafHash != govlog.LeafHash(signed) || p.Origin != origin {
			return fmt.Errorf("the server's promise names another entry than the one submitted")
		}
		return nil
	}
	return fmt.Errorf("the server's promise is NOT signed by a key of %s in %s", origin, policyPath)
}
