package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/spf13/cobra"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/log-server/tiles/s3mirror"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/registry"
)

// serveConfig is the YAML file of `govlog serve`. Its field comments are its
// documentation; deploy/ has an example.
type serveConfig struct {
	// Listen is the personality server's gRPC address. Default 127.0.0.1:7000.
	Listen string `yaml:"listen"`
	// TLS, if set, makes the gRPC listener and the read path (http_listen)
	// speak TLS only, with this certificate (read again when its files
	// change). Clients then dial with --tls or --ca-file. With
	// client_ca_file, clients are asked for a certificate (mutual TLS) and
	// one that CA did not issue is refused; Submit requires one only with
	// submit_requires_client_cert. Default: plaintext.
	TLS *serveTLSConfig `yaml:"tls"`
	// AdminListen is the address of GET /metrics (Prometheus), /healthz
	// (200 while the process serves) and /readyz (503 until every log is
	// open and the registry's genesis admitted, then 200), a listener of
	// its own in plaintext, never a public one: keep it on loopback or a
	// private network. Default 127.0.0.1:7090; "off" for none.
	AdminListen string `yaml:"admin_listen"`
	// HTTPListen is the address of the read path over HTTP: each log's
	// C2SP tlog-tiles (checkpoint, tiles, entry bundles) below /<log>/,
	// which any tlog client, a CDN or a mirror can read. Default
	// 127.0.0.1:7080; "off" for none.
	HTTPListen string `yaml:"http_listen"`
	// Storage is "mysql" (MySQL/MariaDB, for production and scale-out) or
	// "sqlite" (one file, no server: a small agency or a town).
	Storage string `yaml:"storage"`
	// SQLite configures the embedded store, for storage: sqlite.
	SQLite struct {
		// Path of the database file, created if missing.
		Path string `yaml:"path"`
	} `yaml:"sqlite"`
	// MySQL configures the MySQL/MariaDB database shared by Trillian and the
	// personalities, for storage: mysql.
	MySQL struct {
		// DSN in go-sql-driver format: user@tcp(host:3306)/dbname, its
		// password left out: it comes from password_file or, without it,
		// the environment variable GOVLOG_MYSQL_PASSWORD. A password
		// written in the DSN (user:password@...) still works, with a
		// warning at every start.
		DSN string `yaml:"dsn"`
		// PasswordFile is the path of a file holding the database
		// password (one line; a final newline is not part of it),
		// readable by the server only.
		PasswordFile string `yaml:"password_file"`
		// MaxOpenConns caps connections (MariaDB allows 151). Default 64.
		MaxOpenConns int `yaml:"max_open_conns"`
	} `yaml:"mysql"`
	// Registry is the path of the registry's genesis file (agencies, keys,
	// roles; see personalities/registry): on the first start, while the
	// registry log is empty, it is written into it as entries signed by
	// registry_genesis_keys. Afterwards the registry log is the only truth
	// and the file is not read; change the registry with `govlog registry`.
	Registry string `yaml:"registry"`
	// RegistryRoots are the root keys that sign registry entries, and how
	// many of them must sign each one.
	RegistryRoots rootsConfig `yaml:"registry_roots"`
	// RegistryGenesisKeys are paths of root signing keys (at least the
	// quorum) that sign the genesis. Needed only for the first start: take
	// them away afterwards.
	RegistryGenesisKeys []string `yaml:"registry_genesis_keys"`
	// Policy is the path of the C2SP tlog-policy file the logs publish
	// under: every witness in it with a URL is sent each new checkpoint,
	// which is published once the quorum has cosigned it. Optional; without
	// it checkpoints are signed by the log alone.
	Policy string `yaml:"policy"`
	// WitnessTLS is how the policy's https:// witnesses are checked:
	// ca_file, the CA their certificates chain to (default: the system's
	// roots), and cert_file and key_file, the server's own certificate for
	// witnesses that require one.
	WitnessTLS *tlsClientConfig `yaml:"witness_tls"`
	// SequencerInterval is how often queued statements are integrated.
	// Default 100ms (logserver.DefaultSequencerInterval).
	SequencerInterval time.Duration `yaml:"sequencer_interval"`
	// MMD is the maximum merge delay promised to callers that do not wait.
	// Default 5m (logserver.DefaultMMD).
	MMD time.Duration `yaml:"mmd"`
	// ScheduleInterval is how often due statements (the funds log's
	// guarantee releases) are looked for and written. Default 5s
	// (personalities.DefaultScheduleInterval).
	ScheduleInterval time.Duration `yaml:"schedule_interval"`
	// AgencyQuota limits the statements each agency may submit, across
	// all logs: per_second, in bursts of burst (default per_second). Over
	// it, Submit answers RESOURCE_EXHAUSTED. Default 500 a second in
	// bursts of 1000 (personalities.DefaultAgencyQuota); "off: true" for
	// no limit.
	AgencyQuota quotaConfig `yaml:"agency_quota"`
	// AddressQuota limits, per client address, the statements no agency
	// signs (ballots, a recipient's feedback, a citizen's grant). Default
	// 50 a second in bursts of 100 (personalities.DefaultAddressQuota);
	// "off: true" for no limit.
	AddressQuota quotaConfig `yaml:"address_quota"`
	// CheckpointDir keeps each log's last signed checkpoint in a file,
	// outside the database: after a restart the log proves its tree extends
	// that checkpoint before signing, so a rolled-back database (a restored
	// backup, a lagging replica) stops it instead of making it fork. Keep it
	// on the log server's own disk, not with the database. Recommended.
	CheckpointDir string `yaml:"checkpoint_dir"`
	// TilesDir keeps each log's tiles (a folder per log), from which proofs,
	// entries and bundles are served. Keep it on the server's own disk; if
	// it is lost the tiles are made again from the database on start.
	// Empty: in memory only, made again on every start (slow for big logs).
	TilesDir string `yaml:"tiles_dir"`
	// TilesMirror, if set, copies every log's tiles as they grow to an
	// S3-compatible object store (Amazon S3, MinIO, Ceph, Garage), each
	// log below <prefix><log>/, so that the store, or a CDN in front of it,
	// serves the read path at any scale. Its checkpoint is written after
	// every tile it names; if the store is down the log goes on and the
	// copy catches up later. Optional.
	TilesMirror *tilesMirrorConfig `yaml:"tiles_mirror"`
	// Trillian, if set, keeps the logs' trees in an existing Trillian
	// deployment, over gRPC, instead of in this process: its log servers
	// (address) and its own log signers integrate the leaves. govlog's
	// own tables (state, outbox) stay in storage.
	Trillian *trillianConfig `yaml:"trillian"`
	// Election, if set, runs this process as one of several on one MariaDB
	// database: etcd elects the one that admits and signs, the others
	// serve reads and forward Submit calls to it (see electionConfig).
	// Without it, this process must be the only one on its database.
	Election *electionConfig `yaml:"election"`
	// Logs are the logs this server runs, the registry log (name:
	// registry) among them.
	Logs []serveLogConfig `yaml:"logs"`
}

// tilesMirrorConfig is where serve copies the logs' tiles.
type tilesMirrorConfig struct {
	// Endpoint is the store's host[:port], without a scheme:
	// s3.eu-central-1.amazonaws.com, minio.internal:9000.
	Endpoint string `yaml:"endpoint"`
	// Bucket must exist; the keys must allow reading and writing objects
	// in it. Make it (or the prefix) publicly readable to serve it.
	Bucket string `yaml:"bucket"`
	// Prefix is put before each log's folder: with "govlog/", the
	// disclosures log's checkpoint is govlog/disclosures/checkpoint.
	// Default none: <log>/ at the bucket's root.
	Prefix string `yaml:"prefix"`
	// Secure speaks HTTPS to the store. Default true; false only for a
	// store on loopback or a private network.
	Secure *bool `yaml:"secure"`
	// Region is the bucket's region. Default: asked of the store.
	Region string `yaml:"region"`
	// AccessKeyFile and SecretKeyFile hold the access key ID and the
	// secret key, one line each (the secret file readable by the server
	// only). Both left out: the environment's AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY and, if set, AWS_SESSION_TOKEN. Keys are
	// never written in this file.
	AccessKeyFile string `yaml:"access_key_file"`
	SecretKeyFile string `yaml:"secret_key_file"`
}

// mirror checks c, reads its keys and makes the store's client.
func (c *tilesMirrorConfig) mirror() (*s3mirror.Mirror, error) {
	opts := s3mirror.Options{Endpoint: c.Endpoint, Bucket: c.Bucket, Prefix: c.Prefix, Region: c.Region, Secure: c.Secure == nil || *c.Secure}
	switch {
	case c.AccessKeyFile == "" && c.SecretKeyFile == "":
		opts.AccessKeyID, opts.SecretAccessKey = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
		opts.SessionToken = os.Getenv("AWS_SESSION_TOKEN")
		if opts.AccessKeyID == "" || opts.SecretAccessKey == "" {
			return nil, errors.New("tiles_mirror: set access_key_file and secret_key_file, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
		}
	case c.AccessKeyFile == "" || c.SecretKeyFile == "":
		return nil, errors.New("tiles_mirror: access_key_file and secret_key_file go together")
	default:
		var err error
		if opts.AccessKeyID, err = readKeyFile(c.AccessKeyFile); err != nil {
			return nil, fmt.Errorf("tiles_mirror: access_key_file: %w", err)
		}
		if opts.SecretAccessKey, err = readKeyFile(c.SecretKeyFile); err != nil {
			return nil, fmt.Errorf("tiles_mirror: secret_key_file: %w", err)
		}
		warnIfShared(c.SecretKeyFile)
	}
	m, err := s3mirror.New(opts)
	if err != nil {
		return nil, fmt.Errorf("tiles_mirror: %w", err)
	}
	return m, nil
}

// serveTLSConfig is serve's tls block: a server's, and whether Submit
// requires a client certificate.
type serveTLSConfig struct {
	tlsServerConfig `yaml:",inline"`
	// SubmitRequiresClientCert makes Submit answer UNAUTHENTICATED to a
	// caller without a certificate issued by client_ca_file; every other
	// call (checkpoints, entries, proofs, queries) stays open to anyone.
	// For agencies that want only their own machines to submit.
	SubmitRequiresClientCert bool `yaml:"submit_requires_client_cert"`
}

// mysqlPasswordEnv is the environment variable the MySQL password may come
// from.
const mysqlPasswordEnv = "GOVLOG_MYSQL_PASSWORD"

// mysqlDSN is the DSN with the password put in from password_file or the
// environment (getenv). A password written in the DSN itself is kept, with
// a warning; two sources of it are an error. No error holds the password.
func (c *serveConfig) mysqlDSN(getenv func(string) string) (dsn string, warnings []string, err error) {
	cfg, err := gomysql.ParseDSN(c.MySQL.DSN)
	if err != nil {
		return "", nil, fmt.Errorf("mysql.dsn: %w", err)
	}
	env := getenv(mysqlPasswordEnv)
	switch {
	case c.MySQL.PasswordFile != "" && env != "":
		return "", nil, fmt.Errorf("mysql: the password is both in password_file and in %s: keep one", mysqlPasswordEnv)
	case cfg.Passwd != "" && (c.MySQL.PasswordFile != "" || env != ""):
		return "", nil, fmt.Errorf("mysql: the DSN holds a password and so does password_file or %s: take it out of the DSN", mysqlPasswordEnv)
	case c.MySQL.PasswordFile != "":
		b, err := os.ReadFile(c.MySQL.PasswordFile)
		if err != nil {
			return "", nil, fmt.Errorf("mysql.password_file: %w", err)
		}
		if cfg.Passwd = strings.TrimRight(string(b), "\r\n"); cfg.Passwd == "" {
			return "", nil, fmt.Errorf("mysql.password_file %s is empty", c.MySQL.PasswordFile)
		}
		warnIfShared(c.MySQL.PasswordFile)
	case env != "":
		cfg.Passwd = env
	case cfg.Passwd != "":
		warnings = append(warnings, fmt.Sprintf("mysql.dsn holds the database password: move it to mysql.password_file (chmod 600) or the %s environment variable", mysqlPasswordEnv))
	}
	return cfg.FormatDSN(), warnings, nil
}

// serveLogConfig is one log of a serveConfig.
type serveLogConfig struct {
	// Name is the log's short name and personality: registry,
	// disclosures.
	Name string `yaml:"name"`
	// Origin is the log's identity, <operator>/<name>.
	Origin string `yaml:"origin"`
	// Key is the path of the log's signing key; its name must be Origin.
	Key string `yaml:"key"`
	// RuleKey is the path of the key the log signs the statements it
	// writes itself with (funds: guarantee releases when a pay deadline
	// passes; `govlog domains` marks them "written by the log"). The
	// registry must list it under an agency holding their role.
	// Required for a log that writes statements itself.
	RuleKey string `yaml:"rule_key"`
	// TreeID names the log's tree in the Trillian deployment of the
	// trillian block (an active PREORDERED_LOG tree); 0 or left out: the
	// tree whose description is the origin, created if missing.
	TreeID int64 `yaml:"tree_id"`
}

// trillianConfig is serve's trillian block.
type trillianConfig struct {
	// Address is the deployment's log server, host:port (its Admin API
	// too, to find or create trees).
	Address string `yaml:"address"`
	// TLS, if set, checks the deployment's certificate (and presents
	// this server's); nil: plaintext.
	TLS *tlsClientConfig `yaml:"tls"`
}

// parseServeConfig reads the config strictly (unknown fields are errors),
// fills in the listen address and checks what can be checked without other
// files. Zero durations are left to the libraries' defaults.
func parseServeConfig(path string) (serveConfig, error) {
	var c serveConfig
	if err := readConfig(path, &c); err != nil {
		return c, err
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:7000"
	}
	c.AdminListen = adminListen(c.AdminListen, "127.0.0.1:7090")
	switch c.HTTPListen {
	case "":
		c.HTTPListen = "127.0.0.1:7080"
	case "off":
		c.HTTPListen = ""
	}
	switch {
	case c.Storage != "mysql" && c.Storage != "sqlite":
		return c, fmt.Errorf("%s: storage must be \"mysql\" or \"sqlite\", got %q", path, c.Storage)
	case c.Storage == "mysql" && c.MySQL.DSN == "":
		return c, fmt.Errorf("%s: mysql.dsn is required with storage: mysql", path)
	case c.TLS != nil && (c.TLS.CertFile == "" || c.TLS.KeyFile == ""):
		return c, fmt.Errorf("%s: tls: cert_file and key_file are required", path)
	case c.TLS != nil && c.TLS.SubmitRequiresClientCert && c.TLS.ClientCAFile == "":
		return c, fmt.Errorf("%s: tls: submit_requires_client_cert needs client_ca_file, the CA that issues the client certificates", path)
	case c.Storage == "sqlite" && c.SQLite.Path == "":
		return c, fmt.Errorf("%s: sqlite.path is required with storage: sqlite", path)
	case c.Registry == "":
		return c, fmt.Errorf("%s: registry (the genesis file) is required", path)
	case len(c.Logs) == 0:
		return c, fmt.Errorf("%s: at least one log is required", path)
	case !slices.ContainsFunc(c.Logs, func(l serveLogConfig) bool { return l.Name == registry.LogName }):
		return c, fmt.Errorf("%s: a log named %q is required: the registry log that authorizes the others", path, registry.LogName)
	case c.SequencerInterval < 0 || c.MMD < 0 || c.ScheduleInterval < 0:
		return c, fmt.Errorf("%s: durations must be positive", path)
	case c.AgencyQuota.PerSecond < 0 || c.AgencyQuota.Burst < 0:
		return c, fmt.Errorf("%s: agency_quota must be positive", path)
	case c.AddressQuota.PerSecond < 0 || c.AddressQuota.Burst < 0:
		return c, fmt.Errorf("%s: address_quota must be positive", path)
	case c.TilesMirror != nil && (c.TilesMirror.Endpoint == "" || c.TilesMirror.Bucket == ""):
		return c, fmt.Errorf("%s: tiles_mirror: endpoint and bucket are required", path)
	case c.Trillian != nil && c.Trillian.Address == "":
		return c, fmt.Errorf("%s: trillian: address (host:port of the Trillian deployment) is required", path)
	case c.Election != nil && c.Storage != "mysql":
		return c, fmt.Errorf("%s: election needs storage: mysql (the elected processes share one database; a SQLite file has one process)", path)
	}
	if c.Election != nil {
		if err := c.Election.check(); err != nil {
			return c, fmt.Errorf("%s: %w", path, err)
		}
	}
	seen := map[string]bool{}
	for i, l := range c.Logs {
		if l.Name != registry.LogName {
			d, err := newDomain(l.Name)
			if err != nil {
				return c, fmt.Errorf("%s: logs[%d]: %w", path, i, err)
			}
			if own := byLogTypes(d); len(own) > 0 && l.RuleKey == "" {
				return c, fmt.Errorf("%s: log %q: rule_key is required: the log writes %s itself, signed by that key", path, l.Name, strings.Join(own, ", "))
			}
		}
		if seen[l.Name] {
			return c, fmt.Errorf("%s: log %q listed twice", path, l.Name)
		}
		seen[l.Name] = true
		if l.Origin == "" || l.Key == "" {
			return c, fmt.Errorf("%s: log %q: origin and key are required", path, l.Name)
		}
	}
	return c, nil
}

// loadServeConfig parses the config and loads the files it names (registry,
// log keys), so that every mistake is reported before anything starts.
func loadServeConfig(path string) (nodeConfig, error) {
	var nc nodeConfig
	c, err := parseServeConfig(path)
	if err != nil {
		return nc, err
	}
	nc = nodeConfig{
		Listen: c.Listen, MySQLMaxConns: c.MySQL.MaxOpenConns, SQLitePath: c.SQLite.Path, CheckpointDir: c.CheckpointDir,
		TilesDir: c.TilesDir, HTTPListen: c.HTTPListen, AdminListen: c.AdminListen, WitnessTLS: c.WitnessTLS,
		SequencerInterval: c.SequencerInterval, MMD: c.MMD, ScheduleInterval: c.ScheduleInterval,
		AgencyQuota:  c.AgencyQuota.quota(personalities.DefaultAgencyQuota),
		AddressQuota: c.AddressQuota.quota(personalities.DefaultAddressQuota),
		Election:     c.Election,
		Trillian:     c.Trillian,
	}
	if c.TilesMirror != nil {
		if nc.TilesMirror, err = c.TilesMirror.mirror(); err != nil {
			return nc, fmt.Errorf("%s: %w", path, err)
		}
	}
	if c.Storage == "mysql" {
		if nc.MySQL, nc.warnings, err = c.mysqlDSN(os.Getenv); err != nil {
			return nc, fmt.Errorf("%s: %w", path, err)
		}
	}
	if c.TLS != nil {
		nc.TLS, nc.SubmitRequiresClientCert = &c.TLS.tlsServerConfig, c.TLS.SubmitRequiresClientCert
	}
	if err := checkTLSFiles(nc.TLS, c.WitnessTLS); err != nil {
		return nc, fmt.Errorf("%s: %w", path, err)
	}
	if nc.Roots, err = c.RegistryRoots.load(); err != nil {
		return nc, fmt.Errorf("%s: %w", path, err)
	}
	if nc.Genesis, err = registry.ReadFile(c.Registry); err != nil {
		return nc, err
	}
	for _, p := range c.RegistryGenesisKeys {
		signer, err := loadSigner(p)
		if err != nil {
			return nc, fmt.Errorf("%s: registry_genesis_keys: %w", path, err)
		}
		nc.GenesisSigners = append(nc.GenesisSigners, signer)
	}
	if c.Policy != "" {
		text, err := os.ReadFile(c.Policy)
		if err != nil {
			return nc, err
		}
		if nc.Policy, err = govlog.ParsePolicy(text); err != nil {
			return nc, fmt.Errorf("%s: policy %s: %w", path, c.Policy, err)
		}
		nc.PolicyText = text
	}
	for _, l := range c.Logs {
		signer, err := loadSigner(l.Key)
		if err != nil {
			return nc, fmt.Errorf("%s: log %q: %w", path, l.Name, err)
		}
		if signer.Name() != l.Origin {
			return nc, fmt.Errorf("%s: log %q: key %s is named %q, not the origin %q", path, l.Name, l.Key, signer.Name(), l.Origin)
		}
		if l.TreeID != 0 && c.Trillian == nil {
			return nc, fmt.Errorf("%s: log %q: tree_id names a tree of a Trillian deployment: it needs the trillian block", path, l.Name)
		}
		nl := nodeLog{Name: l.Name, Origin: l.Origin, Signer: signer, TreeID: l.TreeID}
		if l.RuleKey != "" {
			if nl.RuleKey, err = loadSigner(l.RuleKey); err != nil {
				return nc, fmt.Errorf("%s: log %q: rule_key: %w", path, l.Name, err)
			}
		}
		nc.Logs = append(nc.Logs, nl)
	}
	return nc, nil
}

func newServeCmd() *cobra.Command {
	return newDaemonCmd(daemon[nodeConfig]{
		name:       "serve",
		short:      "Run the log server and personalities from a config file (MySQL/MariaDB or SQLite)",
		configFile: "govlog.yaml",
		load:       loadServeConfig,
		summary: func(cfg nodeConfig) string {
			storage := "sqlite " + cfg.SQLitePath
			if cfg.MySQL != "" {
				storage = "mysql"
			}
			var names []string
			for _, l := range cfg.Logs {
				names = append(names, l.Name)
			}
			summary := fmt.Sprintf("%d logs (%s) on %s", len(cfg.Logs), strings.Join(names, ", "), storage)
			if cfg.TLS != nil {
				summary += ", TLS"
				if cfg.SubmitRequiresClientCert {
					summary += " (Submit requires a client certificate)"
				}
			}
			for _, w := range cfg.warnings {
				summary += "\nwarning: " + w
			}
			return summary
		},
		run: func(ctx context.Context, cfg nodeConfig, logger *slog.Logger) error {
			// Trillian's klog is as verbose as the logger: --verbose.
			quietTrillian(logger.Enabled(ctx, slog.LevelDebug))
			for _, w := range cfg.warnings {
				logger.Warn(w)
			}
			var httpURL string
			cfg.onHTTP = func(url string) { httpURL = url }
			return runNode(ctx, cfg, logger, func(addr string) {
				logger.Info("serving", "grpc", addr, "http", httpURL, "tls", cfg.TLS != nil, "logs", len(cfg.Logs))
			})
		},
	})
}

// quotaConfig is a quota in a config file: a rate, its burst, or off.
type quotaConfig struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"`
	// Off turns the limit off; a quota left out is the default.
	Off bool `yaml:"off"`
}

func (c quotaConfig) quota(def personalities.Quota) personalities.Quota {
	switch {
	case c.Off:
		return personalities.Quota{}
	case c.PerSecond == 0:
		return def
	}
	return personalities.Quota{PerSecond: c.PerSecond, Burst: c.Burst}
}
