package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"gopkg.in/yaml.v3"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
)

func newDevCmd() *cobra.Command {
	var (
		data, listen, httpListen, mysqlDSN string
		adminAddr, operator                string
		witnessPorts, monitorAddr          string
		seqInterval, mmd, scheduleInterval time.Duration
		verbose, useTLS                    bool
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole system in one process, for trying govlog out",
		Long: `dev runs Trillian, every log and its personality in this process.

On first start it fills --data with a demo agency key, the registry, the log
keys and policy.txt, and prints what to type next. The logs live in one SQLite
file in --data (govlog.db), or in MySQL/MariaDB with --mysql; either way they
survive restarts.

With --tls it makes a local CA and a certificate for 127.0.0.1 and localhost
in --data/tls, and every listener (gRPC, the read path, the witnesses, the
monitor) speaks TLS: clients give --ca-file --data/tls/ca.pem. The CA is for
trying TLS on this machine, not for production.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			quietTrillian(verbose)
			logger := newLogger(cmd, slog.LevelWarn, verbose)
			out := cmd.OutOrStdout()
			if seqInterval <= 0 || mmd <= 0 || scheduleInterval <= 0 {
				return errors.New("--sequencer-interval, --mmd and --schedule-interval must be positive")
			}

			cfg, err := prepareDevData(data, operator)
			if err != nil {
				return err
			}
			if mysqlDSN != "" {
				if mysqlDSN, err = devMySQLDSN(mysqlDSN, os.Getenv); err != nil {
					return err
				}
			}
			cfg.Listen, cfg.MySQL, cfg.SQLitePath = listen, mysqlDSN, filepath.Join(data, "govlog.db")
			cfg.CheckpointDir = filepath.Join(data, "checkpoints")
			cfg.TilesDir = filepath.Join(data, "tiles")
			cfg.HTTPListen = devListen(httpListen, listen, "127.0.0.1:7080")
			var httpURL string
			cfg.onHTTP = func(url string) { httpURL = url }
			cfg.SequencerInterval, cfg.MMD, cfg.ScheduleInterval = seqInterval, mmd, scheduleInterval
			cfg.AgencyQuota, cfg.AddressQuota = personalities.DefaultAgencyQuota, personalities.DefaultAddressQuota
			var devTLS *devTLSFiles
			if useTLS {
				if devTLS, err = prepareDevTLS(filepath.Join(data, "tls"), listen); err != nil {
					return fmt.Errorf("--tls: %w", err)
				}
				cfg.TLS, cfg.WitnessTLS = &devTLS.server, &devTLS.client
			}
			cfg.admin = newAdminServer()
			stopAdmin, err := cfg.admin.start(devListen(adminAddr, listen, "127.0.0.1:7090"), logger)
			if err != nil {
				return err
			}
			defer stopAdmin()
			fmt.Fprintf(out, "govlog dev: keys, registry and policy in %s\n", data)
			for _, w := range cfg.warnings {
				fmt.Fprintln(out, "warning: "+w)
			}
			if mysqlDSN == "" {
				fmt.Fprintf(out, "storage: SQLite file %s, with the Trillian trees and the search index beside it (entries survive restarts)\n", cfg.SQLitePath)
			} else {
				fmt.Fprintln(out, "storage: MySQL/MariaDB (entries survive restarts)")
			}
			ports, err := devWitnessPorts(witnessPorts, listen)
			if err != nil {
				return err
			}
			g, gctx := errgroup.WithContext(ctx)
			policy, witnessURLs, err := startDevWitnesses(gctx, g, data, listen, ports, cfg, devTLS, logger)
			if err != nil {
				return err
			}
			cfg.Policy = policy
			// The portal publishes policy.txt as the CLI reads it, for
			// browsers to check bundles against.
			if cfg.PolicyText, err = os.ReadFile(filepath.Join(data, "policy.txt")); err != nil {
				return err
			}
			monitorURL, startMonitor, err := devMonitor(gctx, g, data, listen, devListen(monitorAddr, listen, "127.0.0.1:7390"), cfg, devTLS, logger)
			if err != nil {
				return err
			}
			cfg.monitors = []string{monitorURL + "/"}
			g.Go(func() error {
				return runNode(gctx, cfg, logger, func(addr string) {
					if devTLS != nil {
						fmt.Fprintf(out, "TLS: every listener below, with a certificate for %s issued by the local CA %s\n", strings.Join(devTLS.hosts, ", "), devTLS.client.CAFile)
						fmt.Fprintf(out, "gRPC (TLS): %s (clients: --ca-file %s)\n", addr, devTLS.client.CAFile)
					} else {
						fmt.Fprintf(out, "gRPC: %s\n", addr)
					}
					fmt.Fprintf(out, "portal (search, check a document, proofs checked in the browser): %s/\n", httpURL)
					fmt.Fprintf(out, "read path (C2SP tlog-tiles, any tlog client): %s/<log>/checkpoint\n", httpURL)
					for _, l := range cfg.Logs {
						fmt.Fprintf(out, "log %s: origin %s, tiles %s/%s/\n", l.Name, l.Origin, httpURL, l.Name)
					}
					fmt.Fprintf(out, "witnesses (%d of %d must cosign): %s\n", devQuorum, devWitnesses, strings.Join(witnessURLs, " "))
					fmt.Fprintf(out, "registry: %d of the %d root keys (%s/keys/root-N.key) sign each change; see govlog registry --help\n", devRootQuorum, devRoots, data)
					fmt.Fprintf(out, "monitor dashboard: %s/\n", monitorURL)
					fmt.Fprintf(out, "monitor portal (the portal's pages from the monitor's own verified copy): %s/portal/\n", monitorURL)
					fmt.Fprintf(out, "metrics and health (admin, plaintext): %s/metrics /healthz /readyz\n", cfg.admin.url)
					startMonitor()
					if err := seedDemo(gctx, data, addr, cfg, devTLS); err != nil {
						fmt.Fprintf(out, "warning: couldn't write the demo statements: %v\n", err)
					}
					printDevNextSteps(out, data, addr, devTLS)
					fmt.Fprintln(out, "ready")
				})
			})
			return g.Wait()
		},
	}
	cmd.Flags().StringVar(&data, "data", "govlog-data", "folder for keys, registry and policy (created if missing)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:7000", "gRPC listen address")
	cmd.Flags().StringVar(&httpListen, "http", "", "HTTP address of the read path (each log's tiles); default 127.0.0.1:7080 beside the default --listen, any free port with another --listen")
	cmd.Flags().StringVar(&adminAddr, "admin", "", "address of /metrics, /healthz and /readyz (plaintext); default 127.0.0.1:7090 beside the default --listen, any free port with another --listen")
	cmd.Flags().StringVar(&witnessPorts, "witness-ports", "", "ports of the three witnesses on 127.0.0.1, comma-separated (0: any free port); default 7380,7480,7580 beside the default --listen, free ports with another --listen")
	cmd.Flags().StringVar(&monitorAddr, "monitor", "", "address of the monitor's dashboard; default 127.0.0.1:7390 beside the default --listen, any free port with another --listen")
	cmd.Flags().BoolVar(&useTLS, "tls", false, "make a local CA and certificates in --data/tls and speak TLS on every listener")
	cmd.Flags().StringVar(&mysqlDSN, "mysql", "", "MySQL/MariaDB DSN (go-sql-driver format, e.g. root@tcp(127.0.0.1:3306)/govlog); default: SQLite in --data")
	cmd.Flags().StringVar(&operator, "operator", "gov.example", "operator name: each log's origin is <operator>/<log>")
	cmd.Flags().DurationVar(&seqInterval, "sequencer-interval", logserver.DefaultSequencerInterval, "how often queued statements are integrated")
	cmd.Flags().DurationVar(&mmd, "mmd", logserver.DefaultMMD, "maximum merge delay promised with wait=false")
	cmd.Flags().DurationVar(&scheduleInterval, "schedule-interval", personalities.DefaultScheduleInterval, "how often due statements (guarantee releases) are looked for")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log debug messages")
	return cmd
}

// devListen is the address of --http or --admin: as given, or def beside
// the default gRPC address, or any free port when --listen was changed (so
// two dev processes with their own --listen never collide on it).
func devListen(flag, grpcListen, def string) string {
	switch {
	case flag != "":
		return flag
	case grpcListen == "127.0.0.1:7000":
		return def
	}
	host, _, err := net.SplitHostPort(grpcListen)
	if err != nil {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, "0")
}

// devWitnessPorts parses --witness-ports, or gives its default: the same
// ports on every start beside the default --listen, so the addresses in
// policy.txt and in bookmarks stay true across restarts; free ones (0)
// with another --listen, so two dev processes never collide.
func devWitnessPorts(flag, grpcListen string) ([]int, error) {
	switch {
	case flag == "" && grpcListen == "127.0.0.1:7000":
		flag = "7380,7480,7580"
	case flag == "":
		return make([]int, devWitnesses), nil
	}
	parts := strings.Split(flag, ",")
	if len(parts) != devWitnesses {
		return nil, fmt.Errorf("--witness-ports %q: want %d ports, one per witness, comma-separated", flag, devWitnesses)
	}
	ports := make([]int, devWitnesses)
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 || n > 65535 {
			return nil, fmt.Errorf("--witness-ports %q: %q is not a port from 0 to 65535", flag, p)
		}
		ports[i] = n
	}
	return ports, nil
}

func printDevNextSteps(out interface{ Write([]byte) (int, error) }, data, addr string, devTLS *devTLSFiles) {
	// The first example of the first domain; govlog domains lists them all.
	d := domainList[0]()
	t := d.Types()[0]
	// With TLS, every command that dials the server checks its
	// certificate with the local CA.
	server := addr
	if devTLS != nil {
		server += " --ca-file " + devTLS.client.CAFile
	}
	fmt.Fprintf(out, `
Try it (in another terminal; govlog domains lists every log's statement types):
  govlog submit --server %[2]s --log %[3]s --key %[1]s/keys/demo-agency.key \
      --type %[4]s \
      --body '%[5]s' \
      --out entry.bundle
  govlog verify --policy %[1]s/policy.txt entry.bundle
  govlog get --server %[2]s --log %[3]s --index 1
  govlog prove --server %[2]s --log %[3]s --index 1 --out again.bundle
  govlog registry show --server %[2]s --policy %[1]s/policy.txt demo-agency
  govlog checkpoint --server %[2]s --log %[3]s --policy %[1]s/policy.txt
`, data, server, d.Log(), t.Type, t.Examples[0])
}

// prepareDevData creates what dev needs in data on first start and loads it
// on later ones.
func prepareDevData(data, operator string) (nodeConfig, error) {
	var cfg nodeConfig
	keys := filepath.Join(data, "keys")
	if err := os.MkdirAll(keys, 0o755); err != nil {
		return cfg, err
	}
	agencyVKey, err := devKey(filepath.Join(keys, "demo-agency"), "demo-agency")
	if err != nil {
		return cfg, err
	}
	// The demo agency holds every role an agency can hold, so one demo key
	// can try every statement type; a log that writes statements itself
	// signs them with its own rules key, under an agency of its own
	// holding those roles only.
	// Its official, known by a pseudonymous staff ID, signs beside it
	// with a key of their own (a disclosure's "official").
	officialVKey, err := devKey(filepath.Join(keys, devOfficial), devOfficial)
	if err != nil {
		return cfg, err
	}
	demo := registry.Agency{ID: "demo-agency", Name: "Demo Agency", Keys: []registry.Key{{VKey: agencyVKey}},
		Officials: []registry.Official{{Staff: devOfficial, Keys: []registry.Key{{VKey: officialVKey}}}}}
	var agencies []registry.Agency
	for _, name := range domainNames() {
		d, err := newDomain(name)
		if err != nil {
			return cfg, err
		}
		byLog, roles := logRoles(d)
		for _, r := range roles {
			if !slices.Contains(demo.Roles, r) {
				demo.Roles = append(demo.Roles, r)
			}
		}
		if len(byLog) == 0 {
			continue
		}
		id := name + "-rules"
		vkey, err := devKey(filepath.Join(keys, id), id)
		if err != nil {
			return cfg, err
		}
		agencies = append(agencies, registry.Agency{ID: id, Name: fmt.Sprintf("The %s log's own rules (%s)", name, strings.Join(byLogTypes(d), ", ")),
			Roles: byLog, Keys: []registry.Key{{VKey: vkey}}})
	}
	agencies = append(agencies, demo)

	regPath := filepath.Join(data, "registry.yaml")
	if _, err := os.Stat(regPath); os.IsNotExist(err) {
		b, err := yaml.Marshal(registry.File{Agencies: agencies})
		if err != nil {
			return cfg, err
		}
		head := "# The genesis of the registry log: the agencies allowed to submit, their\n# keys and roles, written into the registry log on the first start, signed by\n# keys/root-1 and keys/root-2. Afterwards the registry log is the truth:\n# change it with govlog registry (see the README), not here.\n"
		if err := os.WriteFile(regPath, append([]byte(head), b...), 0o644); err != nil {
			return cfg, err
		}
	}
	if cfg.Genesis, err = registry.ReadFile(regPath); err != nil {
		return cfg, err
	}
	// A folder made before a domain was added: its demo agency lacks the
	// new roles, and would be refused.
	if i := slices.IndexFunc(cfg.Genesis.Agencies, func(a registry.Agency) bool { return a.ID == demo.ID }); i >= 0 {
		held := cfg.Genesis.Agencies[i]
		if missing := slices.DeleteFunc(slices.Clone(demo.Roles), func(r string) bool { return slices.Contains(held.Roles, r) }); len(missing) > 0 {
			cfg.warnings = append(cfg.warnings, fmt.Sprintf("%s gives %s no role %s: grant them through the registry log (govlog registry) to try every log, or start with a new --data",
				regPath, demo.ID, strings.Join(missing, ", ")))
		}
	}

	// A folder whose logs were made before the registry log has entries
	// no registry view covers: the monitor refuses them.
	if fileExists(filepath.Join(data, "govlog.db")) && !fileExists(filepath.Join(keys, "root-1.key")) {
		cfg.warnings = append(cfg.warnings, fmt.Sprintf("%s was made before the registry log: its earlier entries name no registry, and the monitor will raise alerts on them; start with a new --data", data))
	}
	// The root keys that sign registry entries: dev holds all three and
	// signs with two; in production each is on its holder's machine.
	var rootVKeys []string
	for i := 1; i <= devRoots; i++ {
		name := fmt.Sprintf("root-%d", i)
		vkey, err := devKey(filepath.Join(keys, name), name)
		if err != nil {
			return cfg, err
		}
		rootVKeys = append(rootVKeys, vkey)
		if i <= devRootQuorum {
			signer, err := loadSigner(filepath.Join(keys, name+".key"))
			if err != nil {
				return cfg, err
			}
			cfg.GenesisSigners = append(cfg.GenesisSigners, signer)
		}
	}
	if cfg.Roots, err = registry.NewRoots(rootVKeys, devRootQuorum); err != nil {
		return cfg, err
	}

	var logVKeys []string
	for _, name := range append([]string{registry.LogName}, domainNames()...) {
		prefix := filepath.Join(keys, "log-"+name)
		origin := operator + "/" + name
		if _, err := os.Stat(prefix + ".key"); os.IsNotExist(err) {
			if _, err := writeKeyPair(prefix, origin); err != nil {
				return cfg, err
			}
		}
		signer, err := loadSigner(prefix + ".key")
		if err != nil {
			return cfg, err
		}
		if signer.Name() != origin {
			return cfg, fmt.Errorf("%s.key is for %q, not %q: use the --operator it was made with, or a new --data", prefix, signer.Name(), origin)
		}
		vkey, err := readKeyFile(prefix + ".vkey")
		if err != nil {
			return cfg, err
		}
		if _, err := note.NewVerifier(vkey); err != nil {
			return cfg, fmt.Errorf("%s.vkey: %w", prefix, err)
		}
		logVKeys = append(logVKeys, vkey)
		nl := nodeLog{Name: name, Origin: origin, Signer: signer}
		if ruleKey := filepath.Join(keys, name+"-rules.key"); fileExists(ruleKey) {
			if nl.RuleKey, err = loadSigner(ruleKey); err != nil {
				return cfg, err
			}
		}
		cfg.Logs = append(cfg.Logs, nl)
	}
	cfg.logVKeys = logVKeys
	return cfg, nil
}

// devKey makes prefix.key and .vkey named name if missing, and returns the
// vkey.
func devKey(prefix, name string) (string, error) {
	if _, err := os.Stat(prefix + ".key"); os.IsNotExist(err) {
		if _, err := writeKeyPair(prefix, name); err != nil {
			return "", err
		}
	}
	return readKeyFile(prefix + ".vkey")
}

// devOfficial is the staff ID of the demo agency's official.
const devOfficial = "demo-0001"

// devRoots is how many registry root keys dev makes, and devRootQuorum
// how many must sign a registry entry.
const devRoots, devRootQuorum = 3, 2

// devWitnesses is how many witnesses dev runs, and devQuorum how many must
// cosign a checkpoint before it is published.
const devWitnesses, devQuorum = 3, 2

// startDevWitnesses starts the dev witnesses in this process, each with
// its key and SQLite file in data, on its port of ports (0: a free one) on
// the loopback; they gossip with each other and read the logs from
// logAddr. It writes policy.txt naming
// the logs and the witnesses (with their URLs, which the logs push to) and
// returns the policy.
func startDevWitnesses(ctx context.Context, g *errgroup.Group, data, logAddr string, ports []int, cfg nodeConfig, devTLS *devTLSFiles, logger *slog.Logger) (*govlog.Policy, []string, error) {
	var pws []govlog.PolicyWitness
	var ws []*loadedWitness
	for i := 1; i <= devWitnesses; i++ {
		name := fmt.Sprintf("witness-%d", i)
		prefix := filepath.Join(data, "keys", name)
		if _, err := os.Stat(prefix + ".key"); os.IsNotExist(err) {
			skey, vkey, err := govlog.GenerateCosignerKey(nil, name)
			if err != nil {
				return nil, nil, err
			}
			if err := writeKeyFiles(prefix, skey, vkey); err != nil {
				return nil, nil, err
			}
		}
		skey, err := readKeyFile(prefix + ".key")
		if err != nil {
			return nil, nil, err
		}
		vkey, err := readKeyFile(prefix + ".vkey")
		if err != nil {
			return nil, nil, err
		}
		cosigner, err := govlog.NewCosigner(skey, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("%s.key: %w", prefix, err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[i-1]))
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("--witness-ports: %s can't listen on %s (another govlog dev running? give other ports, or 0 for any): %w", name, addr, err)
		}
		// The witnesses label their metrics with their names: they share
		// dev's admin listener.
		w := &loadedWitness{cosigner: cosigner, logKeys: map[string]note.Verifier{}, listener: lis, metrics: cfg.admin.reg}
		w.Database = filepath.Join(data, name+".db")
		w.PollInterval = 2 * time.Second
		scheme := "http"
		if devTLS != nil {
			w.TLS, w.PeersTLS, scheme = &devTLS.server, &devTLS.client, "https"
		}
		for i, l := range cfg.Logs {
			v, err := note.NewVerifier(cfg.logVKeys[i])
			if err != nil {
				return nil, nil, err
			}
			w.logKeys[l.Origin] = v
			wl := witnessLogConfig{Origin: l.Origin, VKey: cfg.logVKeys[i], URL: logAddr, Name: l.Name}
			if devTLS != nil {
				wl.TLS = &devTLS.client
			}
			w.Logs = append(w.Logs, wl)
		}
		ws = append(ws, w)
		pws = append(pws, govlog.PolicyWitness{Name: name, VKey: vkey, URL: scheme + "://" + lis.Addr().String()})
	}
	var urls []string
	for i, w := range ws {
		for j, pw := range pws {
			if i != j {
				w.Peers = append(w.Peers, pw.URL)
			}
		}
		urls = append(urls, pws[i].URL)
		g.Go(func() error { return runWitness(ctx, w, logger.With("witness", pws[i].Name)) })
	}
	text, err := govlog.FormatPolicy(cfg.logVKeys, pws, devQuorum)
	if err != nil {
		return nil, nil, err
	}
	head := fmt.Sprintf("# Which logs and witnesses a verifier trusts, and how many witnesses must\n# have cosigned: C2SP tlog-policy. The URLs are where the logs send\n# checkpoints; a verifier offline needs only the keys.\n")
	if err := os.WriteFile(filepath.Join(data, "policy.txt"), append([]byte(head), text...), 0o644); err != nil {
		return nil, nil, err
	}
	policy, err := govlog.ParsePolicy(text)
	return policy, urls, err
}

// devMonitor prepares a monitor, in this process, that follows the dev logs
// through their gRPC address, with its SQLite file in data, serving on
// addr. It returns the URL it serves on and a function that starts it once
// the logs serve.
func devMonitor(ctx context.Context, g *errgroup.Group, data, logAddr, addr string, cfg nodeConfig, devTLS *devTLSFiles, logger *slog.Logger) (string, func(), error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("--monitor: the monitor can't listen on %s (another govlog dev running? give another address, or port 0 for any): %w", addr, err)
	}
	m := &loadedMonitor{listener: lis, metrics: cfg.admin.reg}
	scheme := "http"
	if devTLS != nil {
		// The witnesses the policy names are read over TLS too.
		m.TLS, m.WitnessTLS, scheme = &devTLS.server, &devTLS.client, "https"
	}
	m.Database = filepath.Join(data, "monitor.db")
	m.PollInterval = 2 * time.Second
	m.BatchSize = monitor.DefaultBatchSize
	// A release is admitted within a schedule interval of its deadline and
	// integrated within the MMD: past that (and a minute more), it is late.
	m.OverdueAfter = cfg.MMD + cfg.ScheduleInterval + time.Minute
	for _, l := range cfg.Logs {
		domain, err := domainFor(l.Name, cfg.Roots)
		if err != nil {
			return "", nil, err
		}
		ml := monitorLogConfig{Origin: l.Origin, URL: logAddr, Name: l.Name}
		if devTLS != nil {
			ml.TLS = &devTLS.client
		}
		m.Logs = append(m.Logs, ml)
		m.logs = append(m.logs, monitor.Log{Name: l.Name, Origin: l.Origin, Policy: cfg.Policy, Domain: domain})
	}
	m.portalPolicy = cfg.PolicyText
	start := func() { g.Go(func() error { return runMonitor(ctx, m, logger.With("part", "monitor")) }) }
	return scheme + "://" + lis.Addr().String(), start, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// seedDemo writes, signed by the demo agency, the statements each domain
// that is a rule.Seeder wants its log to start with (the approvals log's
// demo application kind). On later starts the rules refuse them as done,
// which is not an error.
func seedDemo(ctx context.Context, data, addr string, cfg nodeConfig, devTLS *devTLSFiles) error {
	signer, err := loadSigner(filepath.Join(data, "keys", "demo-agency.key"))
	if err != nil {
		return err
	}
	var d client.Dialer
	if devTLS != nil {
		if d, err = logDialer(&devTLS.client, nil); err != nil {
			return err
		}
	}
	c, err := d.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, l := range cfg.Logs {
		d, err := newDomain(l.Name)
		if err != nil {
			continue // the registry log
		}
		seeder, ok := d.(rule.Seeder)
		if !ok {
			continue
		}
		for _, s := range seeder.Seed() {
			b, err := json.Marshal(s.Body)
			if err != nil {
				return err
			}
			st, err := govlog.NewStatement(l.Origin, s.Type, time.Now(), b)
			if err != nil {
				return err
			}
			signed, err := st.Sign(signer)
			if err != nil {
				return err
			}
			_, err = c.Submit(ctx, l.Name, signed, false)
			switch status.Code(err) {
			case codes.OK, codes.AlreadyExists, codes.FailedPrecondition:
			default:
				return fmt.Errorf("%s %s: %w", l.Name, s.Type, err)
			}
		}
	}
	return nil
}

// devMySQLDSN is the DSN of --mysql with the password from
// GOVLOG_MYSQL_PASSWORD put in, as serve takes it, so that it need not be
// on the command line for anyone to read in ps.
func devMySQLDSN(dsn string, getenv func(string) string) (string, error) {
	var c serveConfig
	c.MySQL.DSN = dsn
	out, _, err := c.mysqlDSN(getenv)
	if err != nil {
		return "", fmt.Errorf("--mysql: %w", err)
	}
	return out, nil
}
