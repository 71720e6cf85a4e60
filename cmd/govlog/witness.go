package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/internal/edverify"
	"github.com/govlog/govlog/internal/tlsfiles"
	"github.com/govlog/govlog/witness"
	"github.com/govlog/govlog/witness/gossip"
	"github.com/govlog/govlog/witness/sqlstore"
)

// witnessConfig is the YAML file of `govlog witness`. Its field comments are
// its documentation.
type witnessConfig struct {
	// Listen is the HTTP address of the witness API: POST /add-checkpoint,
	// GET /checkpoint/<hex SHA-256 of origin> and GET /evidence. Default
	// 127.0.0.1:7380.
	Listen string `yaml:"listen"`
	// TLS, if set, makes Listen speak HTTPS only: the logs then push to
	// https:// URLs. With client_ca_file, every client (the logs pushing,
	// peers gossiping, anyone reading) must present a certificate that CA
	// issued.
	TLS *tlsServerConfig `yaml:"tls"`
	// AdminListen is the address of GET /metrics (Prometheus), /healthz
	// and /readyz, a listener of its own in plaintext: keep it on loopback
	// or a private network. Default 127.0.0.1:7381; "off" for none.
	AdminListen string `yaml:"admin_listen"`
	// Key is the path of the witness's secret key, made by
	// `govlog keygen --witness --name <witness name>`.
	Key string `yaml:"key"`
	// Database is the path of the witness's SQLite file, created if
	// missing. It holds the latest cosigned checkpoint of each log and the
	// evidence; losing it lets a log roll the witness back.
	Database string `yaml:"database"`
	// Logs are the logs this witness cosigns.
	Logs []witnessLogConfig `yaml:"logs"`
	// Peers are the URL prefixes of other witnesses to gossip with, for
	// example https://witness2.example:7380.
	Peers []string `yaml:"peers"`
	// PeersTLS is how https:// peers are checked: ca_file, the CA their
	// certificates chain to (default: the system's roots), and cert_file
	// and key_file, this witness's own certificate for peers that require
	// one.
	PeersTLS *tlsClientConfig `yaml:"peers_tls"`
	// PollInterval is the time between gossip rounds over peers and logs.
	// Default 30s.
	PollInterval time.Duration `yaml:"poll_interval"`
	// PerLogRate is how many add-checkpoint requests a second the witness
	// takes for one log, in bursts of twice as many; past it, 429. Default
	// 20, twice what a log with a 100 ms sequencer interval sends; -1 for
	// no limit (a load test's logs push far faster than real ones).
	PerLogRate float64 `yaml:"per_log_rate"`
}

// witnessLogConfig is one log of a witnessConfig.
type witnessLogConfig struct {
	// Origin is the log's origin line, for example gov.example/funds.
	Origin string `yaml:"origin"`
	// VKey is the log's verifier key, named after the origin, or the path
	// of a .vkey file holding it.
	VKey string `yaml:"vkey"`
	// URL is optional: the gRPC address (host:port) of a govlog server
	// that serves this log. With it, gossip also compares the log's own
	// latest checkpoint and fetches consistency proofs from it, which turns
	// a split view between checkpoints of different sizes into evidence.
	URL string `yaml:"url"`
	// Name is the log's name on that server. Default: the last element of
	// the origin (funds for gov.example/funds).
	Name string `yaml:"name"`
	// TLS, if set, speaks TLS to URL: ca_file is the CA the server's
	// certificate chains to ("tls: {}" for the system's roots); cert_file
	// and key_file, this witness's own certificate, if the server wants
	// one.
	TLS *tlsClientConfig `yaml:"tls"`
}

// loadedWitness is a witness config with its files read and checked.
type loadedWitness struct {
	witnessConfig
	cosigner note.Signer
	logKeys  map[string]note.Verifier
	// listener, if set, is used instead of listening on Listen (govlog dev
	// picks free ports before it writes the policy naming them).
	listener net.Listener
	// metrics, if set, takes the witness's metrics instead of an admin
	// listener of its own (govlog dev serves several witnesses' on one).
	metrics prometheus.Registerer
}

// loadWitnessConfig reads the config strictly (unknown fields are errors),
// fills in defaults and loads the files it names, so that every mistake is
// reported before anything starts.
func loadWitnessConfig(configPath string) (*loadedWitness, error) {
	var c witnessConfig
	if err := readConfig(configPath, &c); err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) (*loadedWitness, error) {
		return nil, fmt.Errorf("%s: %s", configPath, fmt.Sprintf(format, args...))
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:7380"
	}
	c.AdminListen = adminListen(c.AdminListen, "127.0.0.1:7381")
	if c.PollInterval == 0 {
		c.PollInterval = 30 * time.Second
	}
	switch {
	case c.Key == "":
		return fail("key is required: the witness's key file (govlog keygen --witness)")
	case c.Database == "":
		return fail("database is required: the path of the witness's SQLite file")
	case len(c.Logs) == 0:
		return fail("at least one log is required")
	case c.PollInterval < 0:
		return fail("poll_interval must be positive")
	case c.PerLogRate < 0 && c.PerLogRate != -1:
		return fail("per_log_rate must be positive, or -1 for no limit")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fail("listen %q: %v", c.Listen, err)
	}
	lw := &loadedWitness{witnessConfig: c, logKeys: map[string]note.Verifier{}}
	skey, err := readKeyFile(c.Key)
	if err != nil {
		return fail("key: %v", err)
	}
	if lw.cosigner, err = govlog.NewCosigner(skey, nil); err != nil {
		return fail("key %s is not a witness key (make one with govlog keygen --witness): %v", c.Key, err)
	}
	for i := range lw.Logs {
		l := &lw.Logs[i]
		if l.Origin == "" || l.VKey == "" {
			return fail("logs[%d]: origin and vkey are required", i)
		}
		if _, dup := lw.logKeys[l.Origin]; dup {
			return fail("log %q listed twice", l.Origin)
		}
		vkey, err := vkeyOrFile(l.VKey)
		if err != nil {
			return fail("log %q: %v", l.Origin, err)
		}
		v, err := edverify.NewVerifier(vkey)
		if err != nil {
			return fail("log %q: vkey: %v", l.Origin, err)
		}
		if v.Name() != l.Origin {
			return fail("log %q: its vkey is named %q; a log's key must be named after its origin", l.Origin, v.Name())
		}
		lw.logKeys[l.Origin] = v
		if l.URL != "" {
			if _, _, err := net.SplitHostPort(l.URL); err != nil {
				return fail("log %q: url %q is not host:port: %v", l.Origin, l.URL, err)
			}
		}
		if l.Name == "" {
			l.Name = path.Base(l.Origin)
		}
	}
	for _, p := range c.Peers {
		u, err := url.Parse(p)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fail("peer %q is not an http(s) URL", p)
		}
	}
	if err := checkTLSFiles(c.TLS, c.PeersTLS); err != nil {
		return fail("%v", err)
	}
	for _, l := range c.Logs {
		if err := checkTLSFiles(nil, l.TLS); err != nil {
			return fail("log %q: %v", l.Origin, err)
		}
	}
	return lw, nil
}

// vkeyOrFile returns s, or the contents of the file s names.
func vkeyOrFile(s string) (string, error) {
	if _, err := os.Stat(s); err == nil {
		return readKeyFile(s)
	}
	if !strings.Contains(s, "+") {
		return "", fmt.Errorf("%q is neither a vkey nor a readable file", s)
	}
	return s, nil
}

func newWitnessCmd() *cobra.Command {
	return newDaemonCmd(daemon[*loadedWitness]{
		name:  "witness",
		short: "Run a C2SP tlog-witness: cosign consistent checkpoints, gossip with peers, keep evidence",
		long: `witness runs a witness server (C2SP tlog-witness) from a YAML config: it
cosigns a log's checkpoints only when they are consistent with the last one it
cosigned, gossips with peer witnesses and the logs, and keeps evidence when a
log signs two checkpoints that cannot both be true. It then cosigns nothing
more for that log; check the evidence with govlog check-evidence.`,
		configFile:  "witness.yaml",
		verboseHelp: "log debug messages, including refused requests",
		load:        loadWitnessConfig,
		summary: func(cfg *loadedWitness) string {
			return fmt.Sprintf("witness %s of %d logs", cfg.cosigner.Name(), len(cfg.Logs))
		},
		run: runWitness,
	})
}

// runWitness serves the witness until ctx is done, then shuts down
// gracefully.
func runWitness(ctx context.Context, cfg *loadedWitness, logger *slog.Logger) error {
	// With a client CA, every client must present a certificate it issued.
	tlsServer, err := cfg.TLS.server(tlsfiles.Require, logger)
	if err != nil {
		return err
	}
	peers, err := cfg.PeersTLS.client(logger)
	if err != nil {
		return fmt.Errorf("peers_tls: %w", err)
	}
	reg, setReady, stopAdmin, err := startAdmin(cfg.metrics, cfg.AdminListen, logger)
	if err != nil {
		return err
	}
	defer stopAdmin()
	store, err := sqlstore.Open(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer store.Close()
	w, err := witness.New(ctx, witness.Options{
		Cosigner: cfg.cosigner, Logs: cfg.logKeys, Store: store, Logger: logger, Metrics: reg,
		PerLogRate: cfg.PerLogRate,
	})
	if err != nil {
		return err
	}
	readers, err := newLogReaders(cfg.Logs, logger)
	if err != nil {
		return err
	}
	defer readers.close()
	gopts := gossip.Options{
		Witness: w, Peers: cfg.Peers, Interval: cfg.PollInterval, Logger: logger, Metrics: reg,
		HTTPClient: peers.HTTPClient(gossip.DefaultPeerTimeout),
	}
	if len(readers.logs) > 0 {
		gopts.Logs, gopts.Proofs = readers.checkpoint, readers
	} else {
		logger.Info("no log has a url: gossip compares peers' checkpoints of equal size and takes in their evidence, but can't prove splits between different sizes itself")
	}
	g, err := gossip.New(gopts)
	if err != nil {
		return err
	}

	lis, err := listenOr(cfg.listener, cfg.Listen)
	if err != nil {
		return err
	}
	logger.Info("witness serving", "addr", httpScheme(tlsServer)+"://"+lis.Addr().String(), "name", w.Name(),
		"logs", len(cfg.Logs), "peers", len(cfg.Peers), "database", cfg.Database)
	setReady()

	err = serveHTTPWhile(ctx, lis, witness.NewHandler(w), "witness", tlsServer, g.Run)
	logger.Info("witness stopped")
	return err
}

// logReaders reads logs from govlog servers, for gossip: their latest
// checkpoints and consistency proofs, by origin.
type logReaders struct {
	logs    map[string]logReader // origin -> reader
	clients []*client.Client
}

type logReader struct {
	c    *client.Client
	name string
}

var _ witness.ProofSource = (*logReaders)(nil)

var errNoLogURL = errors.New("no url configured for this log")

func newLogReaders(logs []witnessLogConfig, logger *slog.Logger) (*logReaders, error) {
	r := &logReaders{logs: map[string]logReader{}}
	byAddr := map[string]*client.Client{}
	for _, l := range logs {
		if l.URL == "" {
			continue
		}
		// Logs on one server share a connection, if they reach it alike.
		key := l.URL
		if l.TLS != nil {
			key += fmt.Sprintf(" %+v", *l.TLS)
		}
		c, ok := byAddr[key]
		if !ok {
			d, err := logDialer(l.TLS, logger)
			if err == nil {
				c, err = d.Dial(l.URL)
			}
			if err != nil {
				r.close()
				return nil, fmt.Errorf("log %q: %w", l.Origin, err)
			}
			byAddr[key] = c
			r.clients = append(r.clients, c)
		}
		r.logs[l.Origin] = logReader{c: c, name: l.Name}
	}
	return r, nil
}

func (r *logReaders) close() {
	for _, c := range r.clients {
		c.Close()
	}
}

func (r *logReaders) checkpoint(ctx context.Context, origin string) ([]byte, error) {
	l, ok := r.logs[origin]
	if !ok {
		return nil, errNoLogURL
	}
	return l.c.Checkpoint(ctx, l.name)
}

// ConsistencyProof implements witness.ProofSource.
func (r *logReaders) ConsistencyProof(ctx context.Context, origin string, from, to uint64) ([][32]byte, error) {
	l, ok := r.logs[origin]
	if !ok {
		return nil, errNoLogURL
	}
	raw, err := l.c.ConsistencyProof(ctx, l.name, from, to)
	if err != nil {
		return nil, err
	}
	out := make([][32]byte, len(raw))
	for i, h := range raw {
		if len(h) != 32 {
			return nil, fmt.Errorf("log served a %d-byte hash", len(h))
		}
		out[i] = [32]byte(h)
	}
	return out, nil
}

func newCheckEvidenceCmd() *cobra.Command {
	var logKey string
	cmd := &cobra.Command{
		Use:   "check-evidence --log-key VKEY FILE",
		Short: "Verify offline that an evidence file proves a log signed two incompatible checkpoints",
		Long: `check-evidence verifies a witness's evidence file (GET /evidence/<id>) with
the log's verifier key alone, offline. It succeeds only if the log's key signed
both checkpoints in it and they cannot both be true: the same size with
different roots, or, for different sizes, a consistency proof (which anyone can
check) showing that the larger tree's root at the smaller size is not the
smaller checkpoint's root. FILE may be - for standard input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if logKey == "" {
				return errors.New("--log-key is required: the log's vkey, or a file holding it")
			}
			vkey, err := vkeyOrFile(logKey)
			if err != nil {
				return fmt.Errorf("--log-key: %w", err)
			}
			v, err := note.NewVerifier(vkey)
			if err != nil {
				return fmt.Errorf("--log-key: %w", err)
			}
			var data []byte
			if args[0] == "-" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			e, first, second, err := witness.VerifyEvidence(data, v)
			if err != nil {
				return fmt.Errorf("%s is not evidence against %s: %w", args[0], v.Name(), err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "OK: log %s signed two checkpoints that cannot both be true\n", first.Origin)
			fmt.Fprintf(out, "  size %d, root %s\n", first.Size, b64(first.Hash))
			fmt.Fprintf(out, "  size %d, root %s\n", second.Size, b64(second.Hash))
			if e.Prefix == nil {
				fmt.Fprintln(out, "proof: one tree size, two roots")
			} else {
				fmt.Fprintf(out, "proof: a consistency proof from %d to %d shows the second tree's root at size %d is %s, not %s\n",
					first.Size, second.Size, first.Size, b64(e.Prefix.Root), b64(first.Hash))
			}
			fmt.Fprintf(out, "evidence ID: %s\n", e.ID())
			return nil
		},
	}
	cmd.Flags().StringVar(&logKey, "log-key", "", "the log's verifier key (vkey), or a file holding it")
	return cmd
}

func b64(h [32]byte) string { return base64.StdEncoding.EncodeToString(h[:]) }
