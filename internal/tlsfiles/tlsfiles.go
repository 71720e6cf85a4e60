// Package tlsfiles makes the TLS configurations of govlog's servers and
// clients from PEM files, so that every listener can speak TLS and every
// client can check it (DESIGN.md: "Every listener speaks TLS when given
// certificates (reloaded when they change); a client takes a CA file or the
// system roots").
//
// Decisions made here, where DESIGN.md is silent:
//
//   - TLS 1.2 is the minimum; Go negotiates 1.3 whenever the peer has it,
//     and its default 1.2 cipher suites (ECDHE with AEADs) are kept.
//   - A server's certificate and key are re-read when either file's
//     modification time or size changes, checked at most every
//     ReloadInterval (5 s) and only when a handshake asks for the
//     certificate. A new pair that does not load (the key written after
//     the certificate, a typo) keeps the old pair in service and logs an
//     error; it is tried again once either file changes again. Renewing a
//     certificate therefore needs no restart. A client's own certificate
//     (mutual TLS) is reloaded the same way.
//   - The client-CA file (mutual TLS) is read once, at start: changing it
//     needs a restart. Client certificates are asked for, and verified
//     when given; the server may require one (Require), or verify it
//     itself on the requests that need one (VerifyLater: govlog serve
//     requires one on Submit only, and answers a missing or refused one
//     with UNAUTHENTICATED on that call, reads staying open).
//   - A server that holds an expired certificate starts anyway and logs an
//     error at every reload check (at most once a minute): refusing to
//     start would also stop the reload that mends it.
//   - A failed handshake is logged by the server with what it most likely
//     means: a client that refused this server's certificate, or a
//     client certificate refused, at Warn (at most one line every 10 s per
//     kind, counting the rest); a client that spoke plaintext, or any other
//     failure, at Debug, as per-request client errors are.
//   - A client names what went wrong and with which server (the
//     certificate of 127.0.0.1 has expired; is signed by a CA the client
//     does not trust; is for other names; the server does not speak TLS),
//     instead of crypto/tls's bare x509 text. Verification itself is
//     crypto/tls's own, never replaced.
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// DefaultReloadInterval is how often, at most, certificate files are
// checked for a change.
const DefaultReloadInterval = 5 * time.Second

// ServerOptions are a server's TLS files.
type ServerOptions struct {
	// CertFile holds the server's certificate chain (PEM, leaf first);
	// KeyFile its private key (PEM). Both are required.
	CertFile, KeyFile string
	// ClientCAFile, if set, holds the CA certificates (PEM) that client
	// certificates are verified against: clients are asked for one, and
	// ClientCerts says what follows.
	ClientCAFile string
	// ClientCerts is what the handshake does with client certificates
	// when ClientCAFile is set. Default VerifyIfGiven.
	ClientCerts ClientCertPolicy
	// ReloadInterval is how often, at most, the files are checked for a
	// change. Default DefaultReloadInterval.
	ReloadInterval time.Duration
	// Logger logs reloads and failed handshakes. Default: nothing logged.
	Logger *slog.Logger
}

// ClientCertPolicy is what a server's handshake does with client
// certificates.
type ClientCertPolicy int

const (
	// VerifyIfGiven: a certificate given must verify against the client
	// CA, or the handshake fails; none is fine.
	VerifyIfGiven ClientCertPolicy = iota
	// Require: a certificate must be given and verify, or the handshake
	// fails.
	Require
	// VerifyLater: the handshake proves the client holds the key of the
	// certificate it gives, but does not verify it; the server calls
	// VerifyClient on the requests that need one. A missing or refused
	// certificate is then an answer to that request, which the client
	// reads plainly, instead of a broken connection (with TLS 1.3 a
	// client learns that its certificate was refused only on its first
	// read, if the connection is not torn down first).
	VerifyLater
)

// ErrNoClientCert is VerifyClient's error for a client that gave no
// certificate.
var ErrNoClientCert = errors.New("the client gave no certificate")

// Server is a server's TLS configuration, its certificate reloaded from
// its files.
type Server struct {
	opts      ServerOptions
	config    *tls.Config
	clientCAs *x509.CertPool
	pair      *keyPair
	log       handshakeLog
}

// NewServer loads the files and returns the server's configuration. An
// error names the file at fault.
func NewServer(opts ServerOptions) (*Server, error) {
	switch {
	case opts.CertFile == "" || opts.KeyFile == "":
		return nil, errors.New("TLS needs both cert_file and key_file")
	case opts.ClientCerts != VerifyIfGiven && opts.ClientCAFile == "":
		return nil, errors.New("requiring client certificates needs client_ca_file, the CA they are checked against")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	pair, err := newKeyPair(opts.CertFile, opts.KeyFile, opts.ReloadInterval, opts.Logger)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, pair: pair, log: handshakeLog{logger: opts.Logger, pair: pair}}
	s.config = &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return pair.current(), nil
		},
	}
	if opts.ClientCAFile != "" {
		pool, err := readPool(opts.ClientCAFile)
		if err != nil {
			return nil, err
		}
		s.clientCAs = pool
		s.config.ClientCAs = pool
		switch opts.ClientCerts {
		case VerifyIfGiven:
			s.config.ClientAuth = tls.VerifyClientCertIfGiven
		case Require:
			s.config.ClientAuth = tls.RequireAndVerifyClientCert
		case VerifyLater:
			s.config.ClientAuth = tls.RequestClientCert
		}
	}
	return s, nil
}

// VerifyClient returns the verified certificate of the client of a
// connection: the handshake's (VerifyIfGiven, Require), or, with
// VerifyLater, the one the client gave, verified now against the client
// CA as crypto/tls would have. The error says plainly what is wrong;
// ErrNoClientCert if the client gave none.
func (s *Server) VerifyClient(cs tls.ConnectionState) (*x509.Certificate, error) {
	if len(cs.VerifiedChains) > 0 {
		return cs.VerifiedChains[0][0], nil
	}
	if len(cs.PeerCertificates) == 0 || s.clientCAs == nil {
		return nil, ErrNoClientCert
	}
	leaf := cs.PeerCertificates[0]
	opts := x509.VerifyOptions{
		Roots:         s.clientCAs,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(opts); err != nil {
		var invalid x509.CertificateInvalidError
		var unknown x509.UnknownAuthorityError
		name := leaf.Subject.String()
		switch {
		case errors.As(err, &invalid) && invalid.Reason == x509.Expired && time.Now().After(leaf.NotAfter):
			return nil, fmt.Errorf("the client certificate %q has expired (not valid after %s)", name, leaf.NotAfter.UTC().Format(time.RFC3339))
		case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
			return nil, fmt.Errorf("the client certificate %q is not valid yet (not before %s)", name, leaf.NotBefore.UTC().Format(time.RFC3339))
		case errors.As(err, &unknown):
			return nil, fmt.Errorf("the client certificate %q is issued by %q, not by this server's client CA", name, leaf.Issuer.String())
		}
		return nil, fmt.Errorf("the client certificate %q does not verify: %w", name, err)
	}
	return leaf, nil
}

// Config returns the server's configuration. Its certificate follows the
// files.
func (s *Server) Config() *tls.Config { return s.config }

// Leaf returns the certificate in service now.
func (s *Server) Leaf() *x509.Certificate { return s.pair.current().Leaf }

// ClientOptions are a client's TLS files.
type ClientOptions struct {
	// CAFile holds the CA certificates (PEM) the server's certificate must
	// chain to. Empty: the system's roots.
	CAFile string
	// CertFile and KeyFile, both or neither, are the client's own
	// certificate and key (PEM), for servers that ask for one (mutual
	// TLS). They are reloaded as a server's are.
	CertFile, KeyFile string
	// ReloadInterval and Logger are as in ServerOptions, for the client's
	// own certificate.
	ReloadInterval time.Duration
	Logger         *slog.Logger
}

// Client is a client's TLS configuration.
type Client struct {
	opts   ClientOptions
	config *tls.Config
}

// NewClient loads the files and returns the client's configuration.
func NewClient(opts ClientOptions) (*Client, error) {
	if (opts.CertFile == "") != (opts.KeyFile == "") {
		return nil, errors.New("a client certificate needs both its certificate and its key file")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Client{opts: opts, config: &tls.Config{MinVersion: tls.VersionTLS12}}
	if opts.CAFile != "" {
		pool, err := readPool(opts.CAFile)
		if err != nil {
			return nil, err
		}
		c.config.RootCAs = pool
	}
	if opts.CertFile != "" {
		pair, err := newKeyPair(opts.CertFile, opts.KeyFile, opts.ReloadInterval, opts.Logger)
		if err != nil {
			return nil, err
		}
		c.config.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return pair.current(), nil
		}
	}
	return c, nil
}

// Config returns the client's configuration. Use it as is: http.Transport
// and gRPC set the server name per connection.
func (c *Client) Config() *tls.Config { return c.config }

// trusted says, for errors, which CAs the client trusts.
func (c *Client) trusted() string {
	if c.opts.CAFile == "" {
		return "the system's roots"
	}
	return c.opts.CAFile
}

// readPool reads a file of PEM CA certificates.
func readPool(path string) (*x509.CertPool, error) {
	certs, err := readCertificates(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// readCertificates reads every certificate of a PEM file; none is an error.
func readCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return certs, nil
}

// keyPair is a certificate and key read from files, read again when they
// change.
type keyPair struct {
	certFile, keyFile string
	interval          time.Duration
	logger            *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]fileStamp // of the files last tried, loaded or not
	checked time.Time
	warned  time.Time // last expiry error
}

// fileStamp tells a file's versions apart.
type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.ModTime(), fi.Size()}, nil
}

func newKeyPair(certFile, keyFile string, interval time.Duration, logger *slog.Logger) (*keyPair, error) {
	if interval <= 0 {
		interval = DefaultReloadInterval
	}
	k := &keyPair{certFile: certFile, keyFile: keyFile, interval: interval, logger: logger}
	stamp, err := k.stamps()
	if err != nil {
		return nil, err
	}
	cert, err := k.load()
	if err != nil {
		return nil, err
	}
	k.cert, k.stamp, k.checked = cert, stamp, time.Now()
	k.warnExpiry(time.Now())
	return k, nil
}

func (k *keyPair) stamps() ([2]fileStamp, error) {
	c, err := stampOf(k.certFile)
	if err != nil {
		return [2]fileStamp{}, err
	}
	key, err := stampOf(k.keyFile)
	if err != nil {
		return [2]fileStamp{}, err
	}
	return [2]fileStamp{c, key}, nil
}

func (k *keyPair) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(k.certFile, k.keyFile)
	if err != nil {
		return nil, fmt.Errorf("couldn't load the certificate %s with the key %s: %w", k.certFile, k.keyFile, err)
	}
	return &cert, nil // LoadX509KeyPair sets Leaf
}

// current returns the pair in service, first reloading it if the files
// changed and the last check is older than the interval.
func (k *keyPair) current() *tls.Certificate {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := time.Now()
	if now.Sub(k.checked) < k.interval {
		return k.cert
	}
	k.checked = now
	stamp, err := k.stamps()
	switch {
	case err != nil:
		k.logger.Error("couldn't check the TLS certificate files for a change: keeping the certificate in service", "err", err)
	case stamp != k.stamp:
		k.stamp = stamp
		cert, err := k.load()
		if err != nil {
			k.logger.Error("the TLS certificate files changed but don't load: keeping the certificate in service until they change again", "err", err)
			break
		}
		k.cert = cert
		k.warned = time.Time{}
		k.logger.Info("TLS certificate reloaded", "cert_file", k.certFile, "subject", cert.Leaf.Subject.String(), "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	k.warnExpiry(now)
	return k.cert
}

// warnExpiry logs, at most once a minute, that the certificate in service
// is out of its validity period: every client will refuse it.
func (k *keyPair) warnExpiry(now time.Time) {
	leaf := k.cert.Leaf
	if now.Sub(k.warned) < time.Minute {
		return
	}
	switch {
	case now.After(leaf.NotAfter):
		k.warned = now
		k.logger.Error("the TLS certificate in service has expired: clients refuse it; put a renewed one in its files (it is read again without a restart)",
			"cert_file", k.certFile, "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(leaf.NotBefore):
		k.warned = now
		k.logger.Error("the TLS certificate in service is not valid yet: clients refuse it; check the clocks",
			"cert_file", k.certFile, "not_before", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
}

// expired says whether the certificate in service is out of its validity
// period now.
func (k *keyPair) expired() (bool, time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := time.Now()
	return now.After(k.cert.Leaf.NotAfter) || now.Before(k.cert.Leaf.NotBefore), k.cert.Leaf.NotAfter
}
