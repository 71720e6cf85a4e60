package tlsfiles

import (
	"crypto/tls"
	"log"
	"net"
	"net/http"
	"strings"
	"time"
)

// Listener returns inner with TLS on top, for an http.Server's Serve.
func (s *Server) Listener(inner net.Listener) net.Listener {
	return tls.NewListener(inner, s.config)
}

// ErrorLog is an http.Server's ErrorLog that logs failed handshakes as
// GRPCCredentials does, and anything else the server says at Warn.
func (s *Server) ErrorLog() *log.Logger {
	return log.New(errorLogWriter{s}, "", 0)
}

type errorLogWriter struct{ s *Server }

func (w errorLogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	// net/http's line: "http: TLS handshake error from ADDR: ERR".
	if rest, ok := strings.CutPrefix(line, "http: TLS handshake error from "); ok {
		remote, msg, _ := strings.Cut(rest, ": ")
		w.s.log.failed(remote, textError(msg))
		return len(p), nil
	}
	w.s.opts.Logger.Warn("HTTP server", "msg", line)
	return len(p), nil
}

type textError string

func (e textError) Error() string { return string(e) }

// HTTPClient returns an HTTP client that speaks TLS with the client's
// configuration to https:// URLs, a failed handshake explained, and gives
// up on a request after timeout (0: never). A nil *Client makes a client
// with the system's roots.
func (c *Client) HTTPClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if c != nil {
		t.TLSClientConfig = c.config.Clone()
	}
	return &http.Client{Timeout: timeout, Transport: explainingTransport{t, c}}
}

// explainingTransport explains failed TLS handshakes.
type explainingTransport struct {
	base http.RoundTripper
	c    *Client
}

func (t explainingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil && req.URL.Scheme == "https" {
		c := t.c
		if c == nil {
			c = &Client{}
		}
		return nil, c.Explain(req.URL.Host, err)
	}
	return resp, err
}
