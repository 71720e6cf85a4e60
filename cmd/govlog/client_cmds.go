package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/internal/tlsfiles"
)

// serverFlags are the flags every client verb that talks to a server has.
type serverFlags struct {
	server  string
	log     string
	timeout time.Duration
	tlsFlags
}

func (f *serverFlags) register(cmd *cobra.Command) { f.registerLog(cmd, "") }

// registerLog registers the flags with --log defaulting to defaultLog, or
// required if that is empty.
func (f *serverFlags) registerLog(cmd *cobra.Command, defaultLog string) {
	f.registerFlags(cmd, defaultLog)
	if defaultLog == "" {
		cmd.MarkFlagRequired("log")
	}
}

// registerFlags registers the flags; the command checks --log itself.
func (f *serverFlags) registerFlags(cmd *cobra.Command, defaultLog string) {
	cmd.Flags().StringVar(&f.server, "server", "127.0.0.1:7000", "personality server gRPC address")
	cmd.Flags().StringVar(&f.log, "log", defaultLog, "log name, e.g. disclosures")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 90*time.Second, "give up after this long")
	f.tlsFlags.register(cmd)
}

func (f *serverFlags) dial(cmd *cobra.Command) (*client.Client, context.Context, context.CancelFunc, error) {
	d, err := f.dialer()
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := d.Dial(f.server)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	return c, ctx, func() { cancel(); c.Close() }, nil
}

// tlsFlags are the TLS flags of a client verb: plaintext unless one is
// given.
type tlsFlags struct {
	tls                   bool
	caFile                string
	clientCert, clientKey string
}

func (f *tlsFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.tls, "tls", false, "speak TLS to the server, checking its certificate with the system's roots")
	cmd.Flags().StringVar(&f.caFile, "ca-file", "", "speak TLS to the server, checking its certificate with this CA (PEM), e.g. govlog-data/tls/ca.pem of govlog dev --tls")
	cmd.Flags().StringVar(&f.clientCert, "client-cert", "", "this client's certificate (PEM), for a server that requires one on Submit (mutual TLS); implies TLS")
	cmd.Flags().StringVar(&f.clientKey, "client-key", "", "the key of --client-cert (PEM)")
}

// client loads the TLS files; nil when no flag asks for TLS.
func (f *tlsFlags) client() (*tlsfiles.Client, error) {
	if !f.tls && f.caFile == "" && f.clientCert == "" && f.clientKey == "" {
		return nil, nil
	}
	if (f.clientCert == "") != (f.clientKey == "") {
		return nil, errors.New("give --client-cert and --client-key together")
	}
	c, err := tlsfiles.NewClient(tlsfiles.ClientOptions{CAFile: f.caFile, CertFile: f.clientCert, KeyFile: f.clientKey})
	if err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	if f.clientKey != "" {
		warnIfShared(f.clientKey)
	}
	return c, nil
}

// dialer is how to reach a gRPC server with these flags.
func (f *tlsFlags) dialer() (client.Dialer, error) {
	c, err := f.client()
	if err != nil || c == nil {
		return client.Dialer{}, err
	}
	return client.Dialer{Credentials: c.GRPCCredentials()}, nil
}

// httpClient fetches https:// URLs checked with these flags (the system's
// roots without them), a failed handshake explained.
func (f *tlsFlags) httpClient(timeout time.Duration) (*http.Client, error) {
	c, err := f.client()
	if err != nil {
		return nil, err
	}
	return c.HTTPClient(timeout), nil
}

// withHint adds to a failed command's error the flag that mends it, for
// errors a flag mends.
func withHint(err error) error {
	switch {
	case errors.Is(err, client.ErrServerSpeaksTLS):
		return fmt.Errorf("%w\nthe server speaks TLS: use --tls (its certificate checked with the system's roots) or --ca-file FILE", err)
	case errors.Is(err, client.ErrServerWithoutTLS):
		return fmt.Errorf("%w\nthe server speaks plaintext: leave out --tls, --ca-file and --client-cert, or dial its TLS address", err)
	}
	return err
}
