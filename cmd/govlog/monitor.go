package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"
	"gopkg.in/yaml.v3"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/internal/tlsfiles"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities/registry"
)

var _ monitor.LogReader = (*client.Client)(nil)

// monitorConfig is the YAML file of `govlog monitor`. Its field comments are
// its documentation.
type monitorConfig struct {
	// Listen is the HTTP address of the dashboard (GET /), the alerts
	// (GET /alerts, GET /alerts/<id>) and POST /promises (anyone may hand
	// in a promise; a broken one is an alert), and of the public portal
	// over the monitor's own replay of the logs: its home at /portal/,
	// its pages at /search, /entries/, /check, /status..., its JSON API
	// below /api/v1/. Default 127.0.0.1:7390.
	Listen string `yaml:"listen"`
	// TLS, if set, makes Listen speak HTTPS only. With client_ca_file,
	// every client must present a certificate that CA issued.
	TLS *tlsServerConfig `yaml:"tls"`
	// AdminListen is the address of GET /metrics (Prometheus:
	// govlog_monitor_alerts_total by log and kind, and the rest), /healthz
	// and /readyz, a listener of its own in plaintext: keep it on loopback
	// or a private network. Default 127.0.0.1:7391; "off" for none.
	AdminListen string `yaml:"admin_listen"`
	// Database is the path of the monitor's SQLite file, created if
	// missing: per log, the last verified checkpoint and the replayed
	// domain state; and every alert with its evidence. Losing it costs a
	// full re-download, and forgets which checkpoint the log must extend.
	Database string `yaml:"database"`
	// PollInterval is the time between passes over the logs. Default 30s
	// (monitor.DefaultInterval).
	PollInterval time.Duration `yaml:"poll_interval"`
	// BatchSize is how many entries are asked for at once. Default 1000
	// (monitor.DefaultBatchSize).
	BatchSize uint64 `yaml:"batch_size"`
	// MaxCheckpointAge, if set, raises an alert when a log's checkpoint has
	// not changed for longer (a log that stopped, or hides its new
	// checkpoints from this monitor). Set it above the log's checkpoint
	// interval. Default: no such alert.
	MaxCheckpointAge time.Duration `yaml:"max_checkpoint_age"`
	// OverdueAfter is how long after it falls due a statement a log's
	// rules make it write itself (the funds log's guarantee releases) may
	// be missing before it is an alert. Set it above the log's schedule
	// interval plus its MMD. Default 15m (monitor.DefaultOverdueAfter).
	OverdueAfter time.Duration `yaml:"overdue_after"`
	// RegistryRoots are the root keys that sign the registry log's
	// entries and their quorum, as the auditor trusts them. The registry
	// log (personality registry) must be among the logs: it is replayed
	// first, and every other log's entries are authorized against it as
	// it stood when they were admitted.
	RegistryRoots rootsConfig `yaml:"registry_roots"`
	// Webhooks are URLs every new alert is POSTed to, as JSON (retried a
	// few times, never holding up the monitor; redirects are not
	// followed; at most monitor.WebhookQueueSize (1000) deliveries wait
	// per URL, the newest dropped beyond, counted in
	// govlog_monitor_webhook_drops_total).
	Webhooks []string `yaml:"webhooks"`
	// WebhookTLS is how https:// webhooks are checked: ca_file, the CA
	// their certificates chain to (default: the system's roots), and
	// cert_file and key_file, the monitor's own certificate for receivers
	// that require one.
	WebhookTLS *tlsClientConfig `yaml:"webhook_tls"`
	// WebhookSecretFile, if set, is the path of a file holding the secret
	// that signs every webhook POST: a Govlog-Signature header
	// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the
	// secret>", which a receiver recomputes over the raw body, compares in
	// constant time, and refuses when t is more than a few minutes old
	// (see monitor.WebhookSignatureHeader). Whitespace around the secret
	// (a final newline) is not part of it; an empty file is refused. Keep
	// it readable only by the monitor (chmod 600): it warns otherwise.
	// Default: POSTs are not signed.
	WebhookSecretFile string `yaml:"webhook_secret_file"`
	// Witnesses are URL prefixes of witnesses (http:// or https://, as in
	// a policy's witness lines) whose evidence of split views each pass
	// reads (GET <url>/evidence, a govlog witness's extension), besides the
	// witnesses the logs' policies give a URL, which are read too. Evidence
	// that a followed log signed two checkpoints that cannot both be true,
	// checked with the log's key, is a split_view alert; a witness that
	// cannot be reached is shown so on the dashboard, not alerted on.
	Witnesses []string `yaml:"witnesses"`
	// WitnessTLS is how https:// witnesses are checked: ca_file (default:
	// the system's roots), and cert_file and key_file for witnesses that
	// require a client certificate.
	WitnessTLS *tlsClientConfig `yaml:"witness_tls"`
	// Portal, if false, turns off the public portal at Listen (on by
	// default), and with it the search index the replay keeps for it,
	// which costs about half the entries replayed per second
	// (BenchmarkReplayWithPortal); the index kept so far is dropped.
	// Turned on again, the portal indexes every entry replayed before,
	// reading them from the log again.
	Portal *bool `yaml:"portal"`
	// Logs are the logs to follow.
	Logs []monitorLogConfig `yaml:"logs"`
	// Watches are what to be told about. Each entry verified after a watch
	// is added that matches it is a notification with the entry's
	// tlog-proof bundle: logged, counted in
	// govlog_monitor_notifications_total, POSTed to the webhooks (JSON,
	// "kind": "notification"), listed on the dashboard and at
	// GET /notifications.
	Watches []monitorWatchConfig `yaml:"watches"`
}

// monitorWatchConfig is one watch of a monitorConfig: a mapping with a
// name, and any of log, agency and the watch kinds of the followed logs'
// domains (`govlog domains` lists them: document, contract, account...),
// each naming an ID. An entry matches when every field that is set holds;
// use several watches for "either". For example:
//
//   - name: road-7
//     contract: road-7
//   - name: finance-documents
//     agency: ministry-of-finance
//     document: 2026-001
type monitorWatchConfig struct {
	// Name names the watch in notifications; required, unique.
	Name string
	// Log, if set, is the origin of the only followed log watched.
	Log string
	// Agency, if set, is the registry ID of the agency that signs.
	Agency string
	// About maps the other keys, watch kinds, to the ID each names.
	About map[string]string
}

// UnmarshalYAML reads a watch as a mapping of strings; which kinds exist is
// checked against the followed logs' domains once they are known.
func (w *monitorWatchConfig) UnmarshalYAML(n *yaml.Node) error {
	var m map[string]string
	if err := n.Decode(&m); err != nil {
		return fmt.Errorf("line %d: a watch is a mapping of names to strings: %w", n.Line, err)
	}
	*w = monitorWatchConfig{Name: m["name"], Log: m["log"], Agency: m["agency"]}
	for k, v := range m {
		if k != "name" && k != "log" && k != "agency" {
			if w.About == nil {
				w.About = map[string]string{}
			}
			w.About[k] = v
		}
	}
	return nil
}

// monitorLogConfig is one log of a monitorConfig.
type monitorLogConfig struct {
	// Origin is the log's origin line, for example gov.example/disclosures.
	Origin string `yaml:"origin"`
	// URL is the gRPC address (host:port) of a govlog server of the log.
	URL string `yaml:"url"`
	// Tiles, instead of URL, is the log's C2SP tlog-tiles prefix over HTTP
	// (a server's http_listen, a mirror or a CDN: for example
	// https://logs.example/disclosures/): checkpoints, entries and
	// consistency proofs are read there, every tile checked against the
	// checkpoint, and nothing is asked of the log's gRPC server. The tls
	// block applies to it when it is https://.
	Tiles string `yaml:"tiles"`
	// Name is the log's name on that server. Default: the last element of
	// the origin (disclosures for gov.example/disclosures).
	Name string `yaml:"name"`
	// Policy is the path of the C2SP tlog-policy file checkpoints must
	// satisfy: the log's key and the witnesses the auditor trusts.
	Policy string `yaml:"policy"`
	// Personality names the rules entries are replayed with (`govlog
	// domains` lists them; registry for the registry log). Default: Name.
	Personality string `yaml:"personality"`
	// TLS, if set, speaks TLS to URL: ca_file is the CA the server's
	// certificate chains to ("tls: {}" for the system's roots); cert_file
	// and key_file, the monitor's own certificate, if the server wants
	// one.
	TLS *tlsClientConfig `yaml:"tls"`
}

// loadedMonitor is a monitor config with its files read and checked.
type loadedMonitor struct {
	monitorConfig
	logs    []monitor.Log // Reader unset
	watches []monitor.Watch
	// webhookSecret is the content of WebhookSecretFile.
	webhookSecret []byte
	// listener, if set, is used instead of listening on Listen (govlog dev
	// picks a free port).
	listener net.Listener
	// metrics, if set, takes the monitor's metrics instead of an admin
	// listener of its own (govlog dev serves them on its own).
	metrics prometheus.Registerer
	// portalPolicy is the logs' policy file, which the portal's pages
	// verify bundles against: empty when the logs' policies differ.
	portalPolicy []byte
}

// loadMonitorConfig reads the config strictly (unknown fields are errors),
// fills in defaults and loads the files it names, so that every mistake is
// reported before anything starts.
func loadMonitorConfig(configPath string) (*loadedMonitor, error) {
	var c monitorConfig
	if err := readConfig(configPath, &c); err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) (*loadedMonitor, error) {
		return nil, fmt.Errorf("%s: %s", configPath, fmt.Sprintf(format, args...))
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:7390"
	}
	c.AdminListen = adminListen(c.AdminListen, "127.0.0.1:7391")
	if c.PollInterval == 0 {
		c.PollInterval = monitor.DefaultInterval
	}
	if c.BatchSize == 0 {
		c.BatchSize = monitor.DefaultBatchSize
	}
	if c.OverdueAfter == 0 {
		c.OverdueAfter = monitor.DefaultOverdueAfter
	}
	switch {
	case c.Database == "":
		return fail("database is required: the path of the monitor's SQLite file")
	case len(c.Logs) == 0:
		return fail("at least one log is required")
	case c.PollInterval < 0:
		return fail("poll_interval must be positive")
	case c.MaxCheckpointAge < 0:
		return fail("max_checkpoint_age must be positive")
	case c.OverdueAfter < 0:
		return fail("overdue_after must be positive")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fail("listen %q: %v", c.Listen, err)
	}
	var roots *registry.Roots
	if slices.ContainsFunc(c.Logs, func(l monitorLogConfig) bool {
		return cmp.Or(l.Personality, l.Name, path.Base(l.Origin)) == registry.LogName
	}) {
		var err error
		if roots, err = c.RegistryRoots.load(); err != nil {
			return fail("%v", err)
		}
	} else if len(c.Logs) > 0 {
		return fail("the registry log (personality %s) must be among the logs: every other log's entries are authorized against it", registry.LogName)
	}
	lm := &loadedMonitor{monitorConfig: c}
	seen := map[string]bool{}
	for i := range lm.Logs {
		l := &lm.Logs[i]
		if l.Origin == "" || (l.URL == "") == (l.Tiles == "") || l.Policy == "" {
			return fail("logs[%d]: origin, policy and one of url and tiles are required", i)
		}
		if seen[l.Origin] {
			return fail("log %q listed twice", l.Origin)
		}
		seen[l.Origin] = true
		if l.Tiles != "" && !strings.HasPrefix(l.Tiles, "http://") && !strings.HasPrefix(l.Tiles, "https://") {
			return fail("log %q: tiles %q is not an http:// or https:// prefix", l.Origin, l.Tiles)
		}
		if _, _, err := net.SplitHostPort(l.URL); l.URL != "" && err != nil {
			return fail("log %q: url %q is not host:port: %v", l.Origin, l.URL, err)
		}
		if err := checkTLSFiles(nil, l.TLS); err != nil {
			return fail("log %q: %v", l.Origin, err)
		}
		if l.Name == "" {
			l.Name = path.Base(l.Origin)
		}
		if l.Personality == "" {
			l.Personality = l.Name
		}
		domain, err := domainFor(l.Personality, roots)
		if err != nil {
			return fail("log %q: %v", l.Origin, err)
		}
		text, err := os.ReadFile(l.Policy)
		if err != nil {
			return fail("log %q: %v", l.Origin, err)
		}
		policy, err := govlog.ParsePolicy(text)
		if err != nil {
			return fail("log %q: policy %s: %v", l.Origin, l.Policy, err)
		}
		if !slices.ContainsFunc(policy.Logs(), func(v note.Verifier) bool { return v.Name() == l.Origin }) {
			return fail("log %q: policy %s lists no key for this origin", l.Origin, l.Policy)
		}
		lm.logs = append(lm.logs, monitor.Log{Name: l.Name, Origin: l.Origin, Policy: policy, Domain: domain})
		if i == 0 || bytes.Equal(lm.portalPolicy, text) {
			lm.portalPolicy = text
		} else {
			lm.portalPolicy = []byte{}
		}
	}
	for i, w := range c.Watches {
		if w.Name == "" {
			return fail("watches[%d]: name is required", i)
		}
		lm.watches = append(lm.watches, monitor.Watch{Name: w.Name, Log: w.Log, Agency: w.Agency, About: w.About})
	}
	if err := monitor.CheckWatches(lm.watches, lm.logs); err != nil {
		return fail("%v", err)
	}
	for _, u := range c.Witnesses {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return fail("witnesses: %q is not an http:// or https:// URL", u)
		}
	}
	if err := checkTLSFiles(c.TLS, c.WebhookTLS, c.WitnessTLS); err != nil {
		return fail("%v", err)
	}
	if c.WebhookSecretFile != "" {
		b, err := os.ReadFile(c.WebhookSecretFile)
		if err != nil {
			return fail("webhook_secret_file: %v", err)
		}
		if lm.webhookSecret = bytes.TrimSpace(b); len(lm.webhookSecret) == 0 {
			return fail("webhook_secret_file %s is empty", c.WebhookSecretFile)
		}
		warnIfShared(c.WebhookSecretFile)
	}
	return lm, nil
}

func newMonitorCmd() *cobra.Command {
	return newDaemonCmd(daemon[*loadedMonitor]{
		name:  "monitor",
		short: "Follow logs as an auditor: verify every checkpoint, entry and rule, and alert",
		long: `monitor follows the logs in a YAML config. For each it verifies the latest
checkpoint against the auditor's witness policy, proves it consistent with the
last one verified, downloads the new entries, recomputes the root from them,
and replays every statement: its signature, its key and role in the registry,
and the domain rules, with the same code the log's admission server ran.
Anything wrong is an alert, with its evidence, in the log output (level ERROR,
"ALERT"), in GET /metrics on the admin listener (govlog_monitor_alerts_total)
and in the database.
It resumes where it stopped.`,
		configFile: "monitor.yaml",
		load:       loadMonitorConfig,
		summary:    func(cfg *loadedMonitor) string { return fmt.Sprintf("%d logs", len(cfg.logs)) },
		run:        runMonitor,
	})
}

// runMonitor follows the logs until ctx is done, then shuts down gracefully.
func runMonitor(ctx context.Context, cfg *loadedMonitor, logger *slog.Logger) error {
	// With a client CA, every client must present a certificate it issued.
	tlsServer, err := cfg.TLS.server(tlsfiles.Require, logger)
	if err != nil {
		return err
	}
	hooks, err := cfg.WebhookTLS.client(logger)
	if err != nil {
		return fmt.Errorf("webhook_tls: %w", err)
	}
	witnesses, err := cfg.WitnessTLS.client(logger)
	if err != nil {
		return fmt.Errorf("witness_tls: %w", err)
	}
	reg, setReady, stopAdmin, err := startAdmin(cfg.metrics, cfg.AdminListen, logger)
	if err != nil {
		return err
	}
	defer stopAdmin()
	store, err := monitor.OpenStore(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer store.Close()
	byAddr := map[string]*client.Client{}
	defer func() {
		for _, c := range byAddr {
			c.Close()
		}
	}()
	logs := slices.Clone(cfg.logs)
	for i := range logs {
		// Logs on one server share a connection, if they reach it alike.
		lc := cfg.Logs[i]
		if lc.Tiles != "" {
			var hc *http.Client
			if lc.TLS != nil {
				tc, err := lc.TLS.client(logger)
				if err != nil {
					return fmt.Errorf("log %q: tls: %w", lc.Origin, err)
				}
				hc = tc.HTTPClient(30 * time.Second)
			}
			logs[i].Reader = client.NewTilesReader(map[string]string{logs[i].Name: lc.Tiles}, hc)
			continue
		}
		key := lc.URL
		if lc.TLS != nil {
			key += fmt.Sprintf(" %+v", *lc.TLS)
		}
		c, ok := byAddr[key]
		if !ok {
			d, err := logDialer(lc.TLS, logger)
			if err == nil {
				c, err = d.Dial(lc.URL)
			}
			if err != nil {
				return fmt.Errorf("log %q: %w", lc.Origin, err)
			}
			byAddr[key] = c
		}
		logs[i].Reader = c
	}
	var portalOpts *monitor.PortalOptions
	if cfg.Portal == nil || *cfg.Portal {
		portalOpts = &monitor.PortalOptions{Policy: cfg.portalPolicy}
	}
	mon, err := monitor.New(monitor.Options{
		Logs: logs, Store: store, Logger: logger, Metrics: reg,
		BatchSize: cfg.BatchSize, Interval: cfg.PollInterval, MaxCheckpointAge: cfg.MaxCheckpointAge, OverdueAfter: cfg.OverdueAfter,
		Webhooks: cfg.Webhooks, WebhookSecret: cfg.webhookSecret, Watches: cfg.watches,
		WebhookClient: hooks.HTTPClient(monitor.WebhookTimeout),
		Witnesses:     cfg.Witnesses, WitnessClient: witnesses.HTTPClient(monitor.WitnessTimeout),
		Portal: portalOpts,
	})
	if err != nil {
		return err
	}

	// The dashboard (GET /), alerts (GET /alerts), POST /promises and the
	// portal.
	lis, err := listenOr(cfg.listener, cfg.Listen)
	if err != nil {
		return err
	}
	logger.Info("monitor running", "dashboard", httpScheme(tlsServer)+"://"+lis.Addr().String()+"/",
		"logs", len(logs), "watches", len(cfg.watches), "database", cfg.Database, "poll_interval", cfg.PollInterval)
	setReady()

	err = serveHTTPWhile(ctx, lis, mon.Handler(), "monitor", tlsServer, mon.Run)
	mon.WaitWebhooks()
	logger.Info("monitor stopped")
	return err
}
