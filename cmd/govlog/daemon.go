package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/govlog/govlog/internal/tlsfiles"
)

// daemon is a subcommand that runs a server from one YAML config until it
// is interrupted: serve, witness, monitor. C is its config, loaded and
// checked.
type daemon[C any] struct {
	// name is the subcommand; short and long are its help.
	name, short, long string
	// configFile is the default of -c/--config.
	configFile string
	// verboseHelp describes -v/--verbose. Default "log debug messages".
	verboseHelp string
	// load reads the config at path strictly, fills in its defaults and
	// loads and checks the files it names, so that every mistake is
	// reported before anything starts.
	load func(path string) (C, error)
	// summary is what --check prints of a loaded config, after
	// "<path>: OK, ".
	summary func(C) string
	// run serves until ctx is done (SIGINT, SIGTERM), then shuts down
	// gracefully. logger logs from Info, or from Debug with --verbose.
	run func(ctx context.Context, cfg C, logger *slog.Logger) error
}

// newDaemonCmd returns d's command: `<name> -c CONFIG [-v] [--check]`.
func newDaemonCmd[C any](d daemon[C]) *cobra.Command {
	var configPath string
	var verbose, check bool
	cmd := &cobra.Command{
		Use:   d.name + " -c CONFIG",
		Short: d.short,
		Long:  d.long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := d.load(configPath)
			if err != nil {
				return err
			}
			if check {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: OK, %s\n", configPath, d.summary(cfg))
				return nil
			}
			logger := newLogger(cmd, slog.LevelInfo, verbose)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return d.run(ctx, cfg, logger)
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", d.configFile, "YAML config file")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, cmp.Or(d.verboseHelp, "log debug messages"))
	cmd.Flags().BoolVar(&check, "check", false, "check the config and its files, then exit")
	return cmd
}

// adminServer is a daemon's admin listener, its own and never a public
// one: GET /metrics (Prometheus: the Go runtime and process collectors
// and what the daemon registers), GET /healthz (200 while the process
// serves: liveness) and GET /readyz (503 until the daemon says it is
// ready, then 200: readiness). It speaks plaintext: bind it to loopback or
// a private network.
type adminServer struct {
	reg   *prometheus.Registry
	ready atomic.Bool
	// url is where it serves, once started.
	url string
}

func newAdminServer() *adminServer {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &adminServer{reg: reg}
}

// setReady marks the daemon ready: /readyz answers 200 from now on.
func (a *adminServer) setReady() { a.ready.Store(true) }

func (a *adminServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !a.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready: starting\n")
			return
		}
		io.WriteString(w, "ready\n")
	})
	return mux
}

// start listens on addr and serves the admin handler in the background
// until stop is called; "" serves nothing.
func (a *adminServer) start(addr string, logger *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin_listen: couldn't listen on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := serveHTTP(ctx, lis, a.handler(), "admin"); err != nil {
			logger.Error("admin listener stopped", "err", err)
		}
	}()
	a.url = "http://" + lis.Addr().String()
	logger.Info("admin listener: /metrics, /healthz, /readyz", "addr", a.url)
	return func() { cancel(); <-done }, nil
}

// startAdmin starts a daemon's admin server on addr ("" for none), its
// metrics registered in the registry returned; or, when shared is set
// (govlog dev serves every part's metrics on its own), none, the metrics
// registered in shared. setReady marks the daemon ready on /readyz.
func startAdmin(shared prometheus.Registerer, addr string, logger *slog.Logger) (reg prometheus.Registerer, setReady, stop func(), err error) {
	if shared != nil {
		return shared, func() {}, func() {}, nil
	}
	a := newAdminServer()
	if stop, err = a.start(addr, logger); err != nil {
		return nil, nil, nil, err
	}
	return a.reg, a.setReady, stop, nil
}

// adminListen is an admin_listen setting: the default when empty, none
// for "off".
func adminListen(setting, def string) string {
	switch setting {
	case "":
		return def
	case "off":
		return ""
	}
	return setting
}

// serveHTTPWhile serves h on lis (with TLS if tlsServer is set) and runs
// run until ctx is done or either fails, then shuts both down.
func serveHTTPWhile(ctx context.Context, lis net.Listener, h http.Handler, name string, tlsServer *tlsfiles.Server, run func(context.Context) error) error {
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return serveHTTPTLS(ctx, lis, h, name, tlsServer) })
	eg.Go(func() error { return run(ctx) })
	return eg.Wait()
}
