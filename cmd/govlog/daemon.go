package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
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

// newMetrics returns a Prometheus registry with the Go runtime and process
// collectors, and a mux serving it at GET /metrics.
func newMetrics() (*prometheus.Registry, *http.ServeMux) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return reg, mux
}

// serveHTTPWhile serves h on lis and runs run until ctx is done or either
// fails, then shuts both down.
func serveHTTPWhile(ctx context.Context, lis net.Listener, h http.Handler, name string, run func(context.Context) error) error {
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return serveHTTP(ctx, lis, h, name) })
	eg.Go(func() error { return run(ctx) })
	return eg.Wait()
}
