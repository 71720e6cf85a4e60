package tlsfiles

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
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

// ErrHTTPSServer is an http:// request's error when the server speaks
// HTTPS on that address.
var ErrHTTPSServer = errors.New("the server speaks HTTPS")

// explainingTransport explains failed TLS handshakes, and a plaintext
// request answered by an HTTPS server.
type explainingTransport struct {
	base http.RoundTripper
	c    *Client
}

// httpsAnswer is what net/http's TLS server answers a plaintext request.
const httpsAnswer = "Client sent an HTTP request to an HTTPS server."

func (t explainingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	switch {
	case err != nil && req.URL.Scheme == "https":
		c := t.c
		if c == nil {
			c = &Client{}
		}
		return nil, c.Explain(req.URL.Host, err)
	case err == nil && req.URL.Scheme == "http" && resp.StatusCode == http.StatusBadRequest:
		head, readErr := io.ReadAll(io.LimitReader(resp.Body, int64(len(httpsAnswer))+16))
		if readErr == nil && strings.Contains(string(head), httpsAnswer) {
			resp.Body.Close()
			return nil, fmt.Errorf("%s: %w: use an https:// URL", req.URL.Host, ErrHTTPSServer)
		}
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	}
	return resp, err
}
