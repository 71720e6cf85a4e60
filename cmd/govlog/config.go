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

	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/internal/tlsfiles"
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
	return serveHTTPTLS(ctx, lis, h, name, nil)
}

// serveHTTPTLS is serveHTTP with TLS on lis when tlsServer is set.
func serveHTTPTLS(ctx context.Context, lis net.Listener, h http.Handler, name string, tlsServer *tlsfiles.Server) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	if tlsServer != nil {
		lis = tlsServer.Listener(lis)
		srv.ErrorLog = tlsServer.ErrorLog()
	}
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

// tlsServerConfig is a server's tls: block. With it the server speaks TLS
// only; without it, plaintext. The certificate and key are read again when
// they change (checked at most every 5 s), so renewing them needs no
// restart; the client CA is read at start.
type tlsServerConfig struct {
	// CertFile is the server's certificate chain (PEM, leaf first), for
	// every name and address clients dial.
	CertFile string `yaml:"cert_file"`
	// KeyFile is its private key (PEM), readable by the server only.
	KeyFile string `yaml:"key_file"`
	// ClientCAFile, if set, is the CA (PEM) that issues client
	// certificates (mutual TLS): a client that presents a certificate it
	// did not issue is refused.
	ClientCAFile string `yaml:"client_ca_file"`
}

// server loads the block's files, client certificates treated as
// clientCerts says (if it names a client CA); nil for no block.
func (c *tlsServerConfig) server(clientCerts tlsfiles.ClientCertPolicy, logger *slog.Logger) (*tlsfiles.Server, error) {
	if c == nil {
		return nil, nil
	}
	if c.ClientCAFile == "" {
		clientCerts = tlsfiles.VerifyIfGiven
	}
	s, err := tlsfiles.NewServer(tlsfiles.ServerOptions{
		CertFile: c.CertFile, KeyFile: c.KeyFile, ClientCAFile: c.ClientCAFile,
		ClientCerts: clientCerts, Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return s, nil
}

// tlsClientConfig is a client's TLS files, for the servers a daemon
// reaches: logs (gRPC), witnesses, peers and webhooks (https:// URLs).
type tlsClientConfig struct {
	// CAFile is the CA (PEM) the servers' certificates must chain to.
	// Default: the system's roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile, both or neither, are this daemon's own
	// certificate and key (PEM), for servers that require one.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// client loads the files; a nil block is the system's roots.
func (c *tlsClientConfig) client(logger *slog.Logger) (*tlsfiles.Client, error) {
	var opts tlsfiles.ClientOptions
	if c != nil {
		opts = tlsfiles.ClientOptions{CAFile: c.CAFile, CertFile: c.CertFile, KeyFile: c.KeyFile, Logger: logger}
	}
	return tlsfiles.NewClient(opts)
}

// checkTLSFiles loads a daemon's TLS files, so that a mistake in them stops
// it before it starts; a server's key file readable by others is warned
// about.
func checkTLSFiles(server *tlsServerConfig, clients ...*tlsClientConfig) error {
	if server != nil {
		if _, err := server.server(tlsfiles.VerifyIfGiven, nil); err != nil {
			return err
		}
		warnIfShared(server.KeyFile)
	}
	for _, c := range clients {
		if c == nil {
			continue
		}
		if _, err := c.client(nil); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		if c.KeyFile != "" {
			warnIfShared(c.KeyFile)
		}
	}
	return nil
}

// logDialer is how a daemon reaches a log's gRPC address: with TLS when
// the log's config has a tls block (the system's roots when it is empty).
func logDialer(c *tlsClientConfig, logger *slog.Logger) (client.Dialer, error) {
	if c == nil {
		return client.Dialer{}, nil
	}
	tc, err := c.client(logger)
	if err != nil {
		return client.Dialer{}, fmt.Errorf("tls: %w", err)
	}
	return client.Dialer{Credentials: tc.GRPCCredentials()}, nil
}

// httpScheme is the scheme of a server's URLs.
func httpScheme(tlsServer *tlsfiles.Server) string {
	if tlsServer != nil {
		return "https"
	}
	return "http"
}
