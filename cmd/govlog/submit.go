package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
)

func newSubmitCmd() *cobra.Command {
	var (
		sf                          serverFlags
		typ, body, bodyFile         string
		keyPaths                    []string
		origin, out, at, policyPath string
		wait                        bool
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
			var err error
			if len(keyPaths) == 0 {
				return fmt.Errorf("--key is required")
			}
			var signers []note.Signer
			for _, p := range keyPaths {
				signer, err := loadSigner(p)
				if err != nil {
					return err
				}
				signers = append(signers, signer)
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
			signed, err := st.Sign(signers...)
			if err != nil {
				return err
			}
			return submitSigned(cmd, c, ctx, sf.log, origin, signed, submitOutput{wait: wait, policyPath: policyPath, out: out})
		},
	}
	sf.register(cmd)
	cmd.Flags().StringArrayVar(&keyPaths, "key", nil, "the agency's signing key file (from keygen); again for a second signer, such as the responsible official's own key")
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

// submitOutput says what to do with a submitted statement's answer.
type submitOutput struct {
	wait       bool
	policyPath string // verify the answer against it, if set
	out        string // write the bundle or promise here; empty: stdout
}

// submitSigned submits signed to log and reports the answer.
func submitSigned(cmd *cobra.Command, c *client.Client, ctx context.Context, log, origin string, signed []byte, o submitOutput) error {
	res, err := c.Submit(ctx, log, signed, o.wait)
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	if o.policyPath != "" {
		if err := checkSubmitted(o.policyPath, origin, signed, res, o.wait); err != nil {
			return err
		}
	}
	w := cmd.OutOrStdout()
	what := "admitted"
	if res.Duplicate {
		what = "already in the log (same bytes submitted before)"
	}
	fmt.Fprintf(w, "%s: leaf hash %s\n", what, base64.StdEncoding.EncodeToString(res.LeafHash[:]))
	if !o.wait {
		if o.out != "" {
			if err := os.WriteFile(o.out, res.Promise, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(w, "promise signed by the log written to %s\n", o.out)
		} else {
			w.Write(res.Promise)
		}
		return nil
	}
	fmt.Fprintf(w, "included: %s entry %d\n", origin, res.Index)
	if o.out != "" {
		if err := os.WriteFile(o.out, res.Bundle, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(w, "bundle written to %s (check it with: govlog verify --policy POLICY %s)\n", o.out, o.out)
	} else {
		w.Write(res.Bundle)
	}
	return nil
}
