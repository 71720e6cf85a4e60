package ballot

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/rule/blindtoken"
)

// Commands returns the subcommands of `govlog votes` this package runs:
// issuer, issuer-key, token and cast.
func Commands() []*cobra.Command {
	return []*cobra.Command{issuerCmd(), issuerKeyCmd(), tokenCmd(), castCmd()}
}

// loadSigner reads a note signer key file (as govlog keygen writes it).
func loadSigner(path string) (note.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("couldn't read key: %w", err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s is not a signer key (make one with govlog keygen): %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(os.Stderr, "govlog: warning: %s is a secret key readable by others (mode %04o): chmod 600 %s\n", path, fi.Mode().Perm(), path)
	}
	return s, nil
}

func issuerCmd() *cobra.Command {
	var (
		elections, keys, votersFiles   []string
		server, logName, agencyKey, db string
		listen                         string
		batchWait                      time.Duration
		batchMax                       int
	)
	cmd := &cobra.Command{
		Use:   "issuer --election E --key issuer.pem --voters voters.txt --server ADDR --agency-key KEY --db issuer.db",
		Short: "Run an election's token issuer: blind-sign one token per eligible voter",
		Long: `issuer serves POST /token: an eligible voter (a line "<voter-id> <note
verifier key>" of --voters) sends a blinded one-time key signed by their key,
and gets it blind-signed with the election's issuer key (--key, from
issuer-key), once. Requests are answered in batches: for each batch the
issuer first writes a votes.tokens statement (election, batch number,
count), signed by --agency-key (the agency's registry key, role
token-issuer), to the votes log at --server, and answers only once the log
took it. If the log does not, the batch's voters get 503 and may ask again.

The store (--db) holds only which voters got a token and the batches' counts
and leaf hashes: nothing that joins a voter to a ballot.

Serve several elections with --election, --key (and --voters) repeated, in
the same order; a single --voters serves all of them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(elections) == 0 || len(keys) != len(elections) {
				return fmt.Errorf("give each --election its --key (got %d elections, %d keys)", len(elections), len(keys))
			}
			if len(votersFiles) != 1 && len(votersFiles) != len(elections) {
				return fmt.Errorf("give one --voters for all elections, or one per --election (got %d)", len(votersFiles))
			}
			cfg := Config{LogName: logName, DB: db, BatchWait: batchWait, BatchMax: batchMax}
			for i, id := range elections {
				pemBytes, err := os.ReadFile(keys[i])
				if err != nil {
					return fmt.Errorf("couldn't read the issuer key of election %s: %w", id, err)
				}
				priv, err := ParseIssuerPrivateKey(pemBytes)
				if err != nil {
					return fmt.Errorf("%s: %w", keys[i], err)
				}
				vf := votersFiles[0]
				if len(votersFiles) > 1 {
					vf = votersFiles[i]
				}
				f, err := os.Open(vf)
				if err != nil {
					return fmt.Errorf("couldn't read the voters of election %s: %w", id, err)
				}
				voters, err := ParseVoters(f)
				f.Close()
				if err != nil {
					return fmt.Errorf("%s: %w", vf, err)
				}
				cfg.Elections = append(cfg.Elections, Election{ID: id, Key: priv, Voters: voters})
			}
			var err error
			if cfg.AgencyKey, err = loadSigner(agencyKey); err != nil {
				return err
			}
			c, err := client.Dial(server)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			octx, cancel := context.WithTimeout(ctx, 30*time.Second)
			cfg.Origin, err = c.Origin(octx, logName)
			cancel()
			if err != nil {
				return fmt.Errorf("couldn't learn the %s log's origin from %s (is the server up and does it run the %s log?): %w", logName, server, logName, err)
			}
			cfg.Log = c
			is, err := NewIssuer(cfg)
			if err != nil {
				return err
			}
			defer is.Close()
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("couldn't listen on %s: %w", listen, err)
			}
			srv := &http.Server{Handler: is, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "token issuer for election %s (log %s, %s) at http://%s\n", strings.Join(elections, ", "), logName, cfg.Origin, ln.Addr())
			fmt.Fprintln(w, "ready")
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&elections, "election", nil, "the election ID (repeat for several elections)")
	f.StringArrayVar(&keys, "key", nil, "the election's issuer key, PKCS#8 PEM from issuer-key (one per --election)")
	f.StringArrayVar(&votersFiles, "voters", nil, `the voters file: one line "<voter-id> <note verifier key>" per eligible voter`)
	f.StringVar(&server, "server", "", "the votes log's server address (host:port)")
	f.StringVar(&logName, "log", LogName, "the log's name on the server")
	f.StringVar(&agencyKey, "agency-key", "", "the issuer agency's signing key (from keygen; role token-issuer in the registry)")
	f.StringVar(&db, "db", "issuer.db", "the issuer's SQLite store")
	f.StringVar(&listen, "listen", "127.0.0.1:7400", "the address to serve on")
	f.DurationVar(&batchWait, "batch-wait", DefaultBatchWait, "how long a batch collects requests")
	f.IntVar(&batchMax, "batch-max", DefaultBatchMax, "the most requests in a batch")
	for _, name := range []string{"election", "key", "voters", "server", "agency-key"} {
		cmd.MarkFlagRequired(name)
	}
	return cmd
}

func issuerKeyCmd() *cobra.Command {
	var (
		out  string
		bits int
	)
	cmd := &cobra.Command{
		Use:   "issuer-key --out issuer",
		Short: "Make an election's token issuer key; print its public key for the election body",
		Long: `issuer-key makes an RSA key for an election's token issuer, writes it to
OUT.pem (PKCS#8 PEM, mode 0600; it refuses to overwrite one) and prints the
public key as the election body's issuer_key: standard base64 of its PKIX DER.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if bits < blindtoken.MinKeyBits || bits > blindtoken.MaxKeyBits {
				return fmt.Errorf("--bits %d: an issuer key has %d to %d bits", bits, blindtoken.MinKeyBits, blindtoken.MaxKeyBits)
			}
			path := out + ".pem"
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s already exists; not overwriting a key (choose another --out)", path)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "making a %d-bit RSA key...\n", bits)
			priv, err := rsa.GenerateKey(rand.Reader, bits)
			if err == nil {
				var pemBytes []byte
				if pemBytes, err = MarshalIssuerPrivateKey(priv); err == nil {
					_, err = f.Write(pemBytes)
				}
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(path)
				return err
			}
			pub, err := blindtoken.EncodeIssuerKey(&priv.PublicKey)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (secret: the issuer's alone); the election body's issuer_key is:\n", path)
			fmt.Fprintln(cmd.OutOrStdout(), pub)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "issuer", "write the key to OUT.pem")
	cmd.Flags().IntVar(&bits, "bits", blindtoken.MinKeyBits, "the key's size in bits")
	return cmd
}

func tokenCmd() *cobra.Command {
	var issuerURL, election, voterID, keyPath, issuerKey, out string
	cmd := &cobra.Command{
		Use:   "token --issuer URL --election E --voter-id ID --key voter.key --issuer-key BASE64 --out token.json",
		Short: "Get a voter's one anonymous token for an election from its issuer",
		Long: `token makes a one-time key, has the election's token issuer blindly sign it
(the request signed by --key, the voter's key on the voter list) and writes
the token and the one-time key to --out (mode 0600; it refuses to overwrite
a file). The issuer gives each voter one token only: keep the file, it is
your ballot's only key.

--issuer-key is the issuer_key of the election's body, as the log shows it:
take it from the log, not from the issuer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pub, err := blindtoken.ParseIssuerKey(strings.TrimSpace(issuerKey))
			if err != nil {
				return fmt.Errorf("--issuer-key: %w (copy issuer_key from the election's body)", err)
			}
			signer, err := loadSigner(keyPath)
			if err != nil {
				return err
			}
			// Claim the file first: a token can't be asked for twice.
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s already exists; not overwriting a token (choose another --out)", out)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "asking %s for a token for election %s...\n", issuerURL, election)
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			tf, err := RequestToken(ctx, issuerURL, election, voterID, signer, pub)
			if err != nil {
				f.Close()
				os.Remove(out)
				return err
			}
			b, err := json.MarshalIndent(tf, "", "  ")
			if err != nil {
				return err
			}
			b = append(b, '\n')
			if _, err := f.Write(b); err != nil {
				f.Close()
				return writeFailed(cmd.OutOrStdout(), out, b, err)
			}
			if err := f.Close(); err != nil {
				return writeFailed(cmd.OutOrStdout(), out, b, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "token for election %s written to %s (secret: it casts your ballot; keep it until you vote)\n", election, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&issuerURL, "issuer", "", "the token issuer's URL, e.g. http://127.0.0.1:7400")
	f.StringVar(&election, "election", "", "the election ID")
	f.StringVar(&voterID, "voter-id", "", "your ID on the election's voter list")
	f.StringVar(&keyPath, "key", "", "your signing key (the one on the voter list)")
	f.StringVar(&issuerKey, "issuer-key", "", "the election body's issuer_key (base64)")
	f.StringVar(&out, "out", "token.json", "write the token here")
	for _, name := range []string{"issuer", "election", "voter-id", "key", "issuer-key"} {
		cmd.MarkFlagRequired(name)
	}
	return cmd
}

// writeFailed prints a token that could not be saved, so it isn't lost.
func writeFailed(w io.Writer, path string, token []byte, err error) error {
	fmt.Fprintf(w, "couldn't write %s; here is the token, save it yourself:\n%s", path, token)
	return fmt.Errorf("writing %s: %w", path, err)
}

func castCmd() *cobra.Command {
	var (
		server, logName, tokenPath, choice, out, origin, at string
		wait                                                bool
	)
	cmd := &cobra.Command{
		Use:   "cast --server ADDR --token token.json --choice X --out ballot.bundle",
		Short: "Cast a ballot with a token: sign it with the one-time key and submit it",
		Long: `cast builds a votes.ballot statement (the election of --token, --choice and
the token), signs it with the token's one-time key only, and submits it to
the votes log. By default it waits until a checkpoint includes it and writes
the tlog-proof bundle to --out; with --wait=false it writes the log's signed
promise instead.

Casting right after getting the token lets whoever watches both the issuer
and the log guess whose ballot it is from the timing: better cast later.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := os.ReadFile(tokenPath)
			if err != nil {
				return fmt.Errorf("couldn't read the token: %w", err)
			}
			tf, err := ReadTokenFile(b)
			if err != nil {
				return fmt.Errorf("%s: %w", tokenPath, err)
			}
			t := time.Now().UTC().Truncate(time.Second)
			if at != "" {
				if t, err = time.Parse(time.RFC3339, at); err != nil {
					return fmt.Errorf("--time: %w", err)
				}
			}
			c, err := client.Dial(server)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			if origin == "" {
				if origin, err = c.Origin(ctx, logName); err != nil {
					return fmt.Errorf("couldn't learn the %s log's origin from %s: %w", logName, server, err)
				}
			}
			signed, err := Ballot(origin, tf.ElectionID, choice, tf, t)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "casting a ballot in election %s...\n", tf.ElectionID)
			res, err := c.Submit(ctx, logName, signed, wait)
			if err != nil {
				return fmt.Errorf("submit: %w", err)
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
	f := cmd.Flags()
	f.StringVar(&server, "server", "", "the votes log's server address (host:port)")
	f.StringVar(&logName, "log", LogName, "the log's name on the server")
	f.StringVar(&tokenPath, "token", "token.json", "the token file from govlog votes token")
	f.StringVar(&choice, "choice", "", "your choice: one of the election's options")
	f.StringVar(&out, "out", "", "write the bundle (or promise) here instead of stdout")
	f.StringVar(&origin, "origin", "", "the log's origin (default: read from the server)")
	f.StringVar(&at, "time", "", "the ballot's time, RFC 3339 (default: now)")
	f.BoolVar(&wait, "wait", true, "wait for inclusion and return a bundle; false: return a promise at once")
	cmd.MarkFlagRequired("server")
	cmd.MarkFlagRequired("choice")
	return cmd
}
