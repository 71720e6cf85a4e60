package tlsfiles

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
)

// ErrPlaintextServer is a TLS client's error when the server answered its
// handshake without TLS.
var ErrPlaintextServer = errors.New("the server does not speak TLS")

// HandshakeError is a client's failed TLS handshake, said plainly. Unwrap
// gives crypto/tls's own error.
type HandshakeError struct {
	// Server is the address or name the client dialled.
	Server string
	msg    string
	err    error
}

func (e *HandshakeError) Error() string { return e.msg }
func (e *HandshakeError) Unwrap() error { return e.err }

// Explain says what a failed TLS handshake with server means; it returns
// err itself when err is no handshake failure it knows.
func (c *Client) Explain(server string, err error) error {
	host := server
	if h, _, splitErr := net.SplitHostPort(server); splitErr == nil {
		host = h
	}
	say := func(format string, args ...any) error {
		return &HandshakeError{Server: server, msg: fmt.Sprintf(format, args...), err: err}
	}
	var (
		invalid  x509.CertificateInvalidError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		record   tls.RecordHeaderError
		verify   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		cert, now := invalid.Cert, time.Now()
		if now.Before(cert.NotBefore) {
			return say("TLS: the certificate of %s is not valid yet (not before %s, and this machine's clock says %s): check the clocks",
				host, cert.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
		return say("TLS: the certificate of %s has expired (not valid after %s): the server must renew it",
			host, cert.NotAfter.UTC().Format(time.RFC3339))
	case errors.As(err, &unknown):
		issuer := "an unknown issuer"
		if unknown.Cert != nil {
			issuer = fmt.Sprintf("%q", unknown.Cert.Issuer.String())
		}
		return say("TLS: the certificate of %s is issued by %s, not by a CA in %s: trust the CA that issued it (a CA file)",
			host, issuer, c.trusted())
	case errors.As(err, &hostname):
		return say("TLS: the certificate of %s is for %s, not %s: dial a name it holds, or issue it for this one",
			host, certNames(hostname.Certificate), hostname.Host)
	case errors.As(err, &verify):
		return say("TLS: the certificate of %s does not verify: %v", host, verify.Err)
	case errors.As(err, &record):
		err = fmt.Errorf("%w: %w", ErrPlaintextServer, err)
		return say("TLS: %s answered the handshake in plaintext: %v (connect without TLS, or to its TLS address)", server, ErrPlaintextServer)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "remote error: tls: certificate required"):
		return say("TLS: %s requires a client certificate, and this client has none", server)
	case strings.Contains(msg, "remote error: tls: bad certificate"),
		strings.Contains(msg, "remote error: tls: unknown certificate authority"),
		strings.Contains(msg, "remote error: tls: expired certificate"),
		strings.Contains(msg, "remote error: tls: certificate expired"):
		if c.opts.CertFile == "" {
			return say("TLS: %s refused the handshake (%s)", server, remoteAlert(msg))
		}
		return say("TLS: %s refused this client's certificate %s (%s): is it expired, or issued by a CA the server does not trust?",
			server, c.opts.CertFile, remoteAlert(msg))
	}
	return err
}

// remoteAlert is the alert in crypto/tls's "remote error: tls: ..." text.
func remoteAlert(msg string) string {
	if _, alert, ok := strings.Cut(msg, "remote error: "); ok {
		return alert
	}
	return msg
}

// certNames lists the names a certificate is valid for.
func certNames(c *x509.Certificate) string {
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "no host name (only the common name " + fmt.Sprintf("%q", c.Subject.CommonName) + ", which TLS no longer reads)"
	}
	return strings.Join(names, ", ")
}

// handshakeLog logs a server's failed handshakes by what they most likely
// mean, at most one line every logEvery per kind at Warn and Error.
type handshakeLog struct {
	logger *slog.Logger
	pair   *keyPair

	mu      sync.Mutex
	last    map[string]time.Time
	skipped map[string]int
}

const logEvery = 10 * time.Second

// failed logs one failed handshake with the client at remote.
func (h *handshakeLog) failed(remote string, err error) {
	msg := err.Error()
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	switch {
	case strings.Contains(msg, "remote error: tls: "):
		alert := remoteAlert(msg)
		if expired, notAfter := h.pair.expired(); expired {
			h.warn("refused-expired", slog.LevelError, "a client refused this server's TLS certificate: it has expired", remote, alert,
				"not_after", notAfter.UTC().Format(time.RFC3339), "cert_file", h.pair.certFile)
			return
		}
		if strings.Contains(alert, "certificate") {
			h.warn("refused", slog.LevelWarn, "a client refused this server's TLS certificate: does it trust the CA that issued it, and did it dial a name the certificate holds?",
				remote, alert, "cert_file", h.pair.certFile)
			return
		}
		h.warn("alert", slog.LevelWarn, "a client ended the TLS handshake", remote, alert)
	case errors.As(err, &verify), strings.Contains(msg, "tls: failed to verify certificate"),
		strings.Contains(msg, "client didn't provide a certificate"):
		h.warn("client-cert", slog.LevelWarn, "refused a client's TLS certificate", remote, msg)
	case errors.As(err, &record), strings.Contains(msg, "does not look like a TLS handshake"),
		strings.Contains(msg, "client sent an HTTP request to an HTTPS server"):
		h.logger.Debug("a client spoke plaintext to a TLS listener", "client", remote, "err", msg)
	default:
		h.logger.Debug("TLS handshake failed", "client", remote, "err", msg)
	}
}

// warn logs at level unless a line of this kind was logged less than
// logEvery ago; the lines skipped are counted in the next.
func (h *handshakeLog) warn(kind string, level slog.Level, msg, remote, errText string, args ...any) {
	h.mu.Lock()
	if h.last == nil {
		h.last, h.skipped = map[string]time.Time{}, map[string]int{}
	}
	now := time.Now()
	if now.Sub(h.last[kind]) < logEvery {
		h.skipped[kind]++
		h.mu.Unlock()
		return
	}
	h.last[kind] = now
	skipped := h.skipped[kind]
	h.skipped[kind] = 0
	h.mu.Unlock()
	args = append([]any{"client", remote, "err", errText}, args...)
	if skipped > 0 {
		args = append(args, "more_since_last_line", skipped)
	}
	h.logger.Log(context.Background(), level, msg, args...)
}
