package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

// readConfig decodes the YAML file at path into v strictly: a field the
// struct does not have is an error, so a typo fails at start-up.
func readConfig(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// listenOr returns lis, or listens on addr when lis is nil.
func listenOr(lis net.Listener, addr string) (net.Listener, error) {
	if lis != nil {
		return lis, nil
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("couldn't listen on %s: %w", addr, err)
	}
	return lis, nil
}

// serveHTTP serves h on lis until ctx is done, then shuts down gracefully
// (closing outright after 5 seconds).
func serveHTTP(ctx context.Context, lis net.Listener, h http.Handler, name string) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			srv.Close()
		}
	}()
	err := srv.Serve(lis)
	<-stopped
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s HTTP server: %w", name, err)
	}
	return nil
}

// newLogger logs to the command's stderr from level up, or from debug with
// --verbose.
func newLogger(cmd *cobra.Command, level slog.Level, verbose bool) *slog.Logger {
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
}
