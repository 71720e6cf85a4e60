package tlsfiles

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// syncBuffer is a log output tests read while servers write to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits up to 5 s for the log to contain want.
func (s *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(s.String(), want) {
			return
		}
	}
	t.Errorf("the server's log never said %q:\n%s", want, s.String())
}

func newLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// pki is a test CA with files in a folder.
type pki struct {
	t   *testing.T
	dir string
	ca  *CA
}

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	ca, err := NewCA(name, time.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{t: t, dir: t.TempDir(), ca: ca}
	p.write("ca.pem", ca.CertPEM())
	return p
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

func (p *pki) write(name string, data []byte) {
	p.t.Helper()
	if err := os.WriteFile(p.path(name), data, 0o600); err != nil {
		p.t.Fatal(err)
	}
}

// issue writes <name>.pem and <name>.key.
func (p *pki) issue(name string, l Leaf) {
	p.t.Helper()
	cert, key, err := p.ca.Issue(l)
	if err != nil {
		p.t.Fatal(err)
	}
	p.write(name+".pem", cert)
	p.write(name+".key", key)
}

func (p *pki) server(opts ServerOptions) *Server {
	p.t.Helper()
	if opts.CertFile == "" {
		opts.CertFile, opts.KeyFile = p.path("server.pem"), p.path("server.key")
	}
	s, err := NewServer(opts)
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

func (p *pki) client(opts ClientOptions) *Client {
	p.t.Helper()
	if opts.CAFile == "" {
		opts.CAFile = p.path("ca.pem")
	}
	c, err := NewClient(opts)
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

var localhost = []string{"127.0.0.1", "localhost"}

// serveHTTPS serves a handler naming the client's verified certificate.
func serveHTTPS(t *testing.T, s *Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ErrorLog: s.ErrorLog(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := "anonymous"
		if len(r.TLS.VerifiedChains) > 0 {
			who = r.TLS.VerifiedChains[0][0].Subject.CommonName
		}
		io.WriteString(w, "hello "+who)
	})}
	go srv.Serve(s.Listener(lis))
	t.Cleanup(func() { srv.Close() })
	return "https://" + lis.Addr().String() + "/"
}

// serveGRPC serves gRPC's health service, with TLS if s is set.
func serveGRPC(t *testing.T, s *Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	if s != nil {
		opts = append(opts, grpc.Creds(s.GRPCCredentials()))
	}
	gs := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(gs, health.NewServer())
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return lis.Addr().String()
}

func checkGRPC(addr string, creds grpc.DialOption) error {
	conn, err := grpc.NewClient(addr, creds)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func get(c *Client, url string) (string, error) {
	resp, err := c.HTTPClient(10 * time.Second).Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// servedName is the common name of the certificate the server at addr
// presents now.
func servedName(t *testing.T, c *Client, addr string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, c.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
}

func TestServerReloadsChangedFiles(t *testing.T) {
	p := newPKI(t, "test CA")
	p.issue("server", Leaf{Name: "first", Hosts: localhost})
	var log syncBuffer
	s := p.server(ServerOptions{ReloadInterval: 20 * time.Millisecond, Logger: newLogger(&log)})
	url := serveHTTPS(t, s)
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "https://"), "/")
	c := p.client(ClientOptions{})
	if got := servedName(t, c, addr); got != "first" {
		t.Fatalf("serves %q, want first", got)
	}

	// A renewed pair replaces it, with no restart.
	p.issue("server", Leaf{Name: "second", Hosts: localhost})
	waitServed(t, c, addr, "second")
	log.waitFor(t, "TLS certificate reloaded")

	// A certificate written before its key: the pair does not match, and
	// the old one stays in service, with an error logged.
	cert, key, err := p.ca.Issue(Leaf{Name: "third", Hosts: localhost})
	if err != nil {
		t.Fatal(err)
	}
	p.write("server.pem", cert)
	// The files are checked when a handshake asks for the certificate.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !strings.Contains(log.String(), "don't load"); time.Sleep(10 * time.Millisecond) {
		servedName(t, c, addr)
	}
	log.waitFor(t, "the TLS certificate files changed but don't load")
	if got := servedName(t, c, addr); got != "second" {
		t.Fatalf("a mismatched pair: serves %q, want the old one, second", got)
	}
	if body, err := get(c, url); err != nil || body != "hello anonymous" {
		t.Fatalf("GET with a mismatched pair on disk: %q, %v", body, err)
	}
	// Its key arrives: the new pair loads.
	p.write("server.key", key)
	waitServed(t, c, addr, "third")

	// A file that is garbage keeps the pair in service too.
	p.write("server.pem", []byte("not a certificate"))
	time.Sleep(50 * time.Millisecond)
	if got := servedName(t, c, addr); got != "third" {
		t.Fatalf("a broken file: serves %q, want third", got)
	}
}

func waitServed(t *testing.T, c *Client, addr, want string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got = servedName(t, c, addr); got == want {
			return
		}
	}
	t.Fatalf("the server still presents %q, want %q", got, want)
}

func TestExpiredServerCertificate(t *testing.T) {
	p := newPKI(t, "test CA")
	p.issue("server", Leaf{Name: "old", Hosts: localhost, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	var log syncBuffer
	s := p.server(ServerOptions{Logger: newLogger(&log)})
	log.waitFor(t, "the TLS certificate in service has expired")
	c := p.client(ClientOptions{})

	url := serveHTTPS(t, s)
	_, err := get(c, url)
	for _, want := range []string{"the certificate of 127.0.0.1 has expired", "not valid after"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("HTTPS: got %v, want an error saying %q", err, want)
		}
	}
	log.waitFor(t, "a client refused this server's TLS certificate: it has expired")

	addr := serveGRPC(t, s)
	err = checkGRPC(addr, grpc.WithTransportCredentials(c.GRPCCredentials()))
	if err == nil || !strings.Contains(err.Error(), "the certificate of 127.0.0.1 has expired") {
		t.Errorf("gRPC: got %v, want an error saying the certificate of 127.0.0.1 has expired", err)
	}
	var he *HandshakeError
	if _, err := tls.Dial("tcp", addr, c.Config()); err == nil {
		t.Error("a handshake with an expired certificate succeeded")
	} else if !errors.As(c.Explain(addr, err), &he) || he.Server != addr {
		t.Errorf("Explain: got %v, want a *HandshakeError for %s", c.Explain(addr, err), addr)
	}
}

func TestWrongCA(t *testing.T) {
	p := newPKI(t, "test CA")
	p.issue("server", Leaf{Name: "server", Hosts: localhost})
	other := newPKI(t, "another CA")
	var log syncBuffer
	s := p.server(ServerOptions{Logger: newLogger(&log)})
	c := other.client(ClientOptions{})
	want := []string{"the certificate of 127.0.0.1 is issued by", "CN=test CA", "not by a CA in " + other.path("ca.pem")}

	_, err := get(c, serveHTTPS(t, s))
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("HTTPS: got %v, want an error saying %q", err, w)
		}
	}
	log.waitFor(t, "a client refused this server's TLS certificate: does it trust the CA that issued it")

	err = checkGRPC(serveGRPC(t, s), grpc.WithTransportCredentials(c.GRPCCredentials()))
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("gRPC: got %v, want an error saying %q", err, w)
		}
	}

	// The system's roots know no test CA.
	sys, err := NewClient(ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = get(sys, serveHTTPS(t, s))
	if err == nil || !strings.Contains(err.Error(), "not by a CA in the system's roots") {
		t.Errorf("system roots: got %v", err)
	}
}

func TestCertificateForAnotherHost(t *testing.T) {
	p := newPKI(t, "test CA")
	p.issue("server", Leaf{Name: "elsewhere", Hosts: []string{"log.gov.example", "10.1.2.3"}})
	c := p.client(ClientOptions{})
	_, err := get(c, serveHTTPS(t, p.server(ServerOptions{})))
	want := "the certificate of 127.0.0.1 is for log.gov.example, 10.1.2.3, not 127.0.0.1"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error saying %q", err, want)
	}
}

func TestPlaintextAndTLSMismatch(t *testing.T) {
	p := newPKI(t, "test CA")
	p.issue("server", Leaf{Name: "server", Hosts: localhost})
	var log syncBuffer
	s := p.server(ServerOptions{Logger: newLogger(&log)})
	c := p.client(ClientOptions{})
	tlsAddr, plainAddr := serveGRPC(t, s), serveGRPC(t, nil)

	// A TLS client to a plaintext server is told so, at once.
	start := time.Now()
	err := checkGRPC(plainAddr, grpc.WithTransportCredentials(c.GRPCCredentials()))
	if want := plainAddr + " answered the handshake in plaintext: the server does not speak TLS"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("TLS to plaintext gRPC: got %v, want %q", err, want)
	}
	if _, err := tls.Dial("tcp", plainAddr, c.Config()); !errors.Is(c.Explain(plainAddr, err), ErrPlaintextServer) {
		t.Errorf("Explain: got %v, want ErrPlaintextServer", c.Explain(plainAddr, err))
	}
	t.Logf("TLS client to a plaintext gRPC server: failed after %v", time.Since(start))

	// A plaintext client to a TLS server fails at once too (the client
	// package explains it with SpeaksTLS); the server logs it at Debug.
	start = time.Now()
	if err := checkGRPC(tlsAddr, grpc.WithTransportCredentials(insecure.NewCredentials())); err == nil {
		t.Error("a plaintext client talked to a TLS server")
	}
	t.Logf("plaintext client to a TLS gRPC server: failed after %v", time.Since(start))
	log.waitFor(t, "a client spoke plaintext to a TLS listener")
	if !SpeaksTLS(context.Background(), tlsAddr) {
		t.Error("SpeaksTLS: false for a TLS server")
	}
	if SpeaksTLS(context.Background(), plainAddr) {
		t.Error("SpeaksTLS: true for a plaintext server")
	}

	// Over HTTP, net/http answers a plaintext request itself, which the
	// HTTP client says plainly.
	url := serveHTTPS(t, s)
	plainURL := "http://" + strings.TrimPrefix(url, "https://")
	if _, err := get(c, plainURL); !errors.Is(err, ErrHTTPSServer) || !strings.Contains(err.Error(), "use an https:// URL") {
		t.Errorf("http:// to an HTTPS server: got %v, want ErrHTTPSServer", err)
	}
	// Any other 400 reaches the caller whole.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad request: no such tile", http.StatusBadRequest)
	}))
	defer other.Close()
	if body, err := get(c, other.URL); err != nil || body != "bad request: no such tile\n" {
		t.Errorf("a plaintext 400: got %q, %v", body, err)
	}
	resp, err := http.Get(plainURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "HTTP request to an HTTPS server") {
		t.Errorf("plaintext HTTP to a TLS server: %d %q", resp.StatusCode, body)
	}
}

func TestClientCertificates(t *testing.T) {
	p := newPKI(t, "test CA")
	p.issue("server", Leaf{Name: "server", Hosts: localhost})
	p.issue("agency", Leaf{Name: "agency", Client: true})
	p.issue("expired", Leaf{Name: "expired", Client: true, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	other := newPKI(t, "another CA")
	other.issue("stranger", Leaf{Name: "stranger", Client: true})

	var log syncBuffer
	optional := serveHTTPS(t, p.server(ServerOptions{ClientCAFile: p.path("ca.pem"), Logger: newLogger(&log)}))
	required := serveHTTPS(t, p.server(ServerOptions{ClientCAFile: p.path("ca.pem"), ClientCerts: Require, Logger: newLogger(&log)}))

	for _, tc := range []struct {
		name      string
		cert, key string
		url       string
		want      string // the body, or the error
		wantErr   bool
	}{
		{"optional, none given", "", "", optional, "hello anonymous", false},
		{"optional, given", p.path("agency.pem"), p.path("agency.key"), optional, "hello agency", false},
		{"required, given", p.path("agency.pem"), p.path("agency.key"), required, "hello agency", false},
		{"required, none given", "", "", required, "requires a client certificate, and this client has none", true},
		{"expired", p.path("expired.pem"), p.path("expired.key"), required, "refused this client's certificate " + p.path("expired.pem"), true},
		{"another CA", other.path("stranger.pem"), other.path("stranger.key"), optional, "refused this client's certificate " + other.path("stranger.pem"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := p.client(ClientOptions{CertFile: tc.cert, KeyFile: tc.key})
			body, err := get(c, tc.url)
			switch {
			case tc.wantErr && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %q, %v; want an error saying %q", body, err, tc.want)
			case !tc.wantErr && (err != nil || body != tc.want):
				t.Errorf("got %q, %v; want %q", body, err, tc.want)
			}
		})
	}
	log.waitFor(t, "refused a client's TLS certificate")

	// The server says why it refused one (on a log of its own: the lines
	// of a kind are at most one every 10 s).
	var expiredLog syncBuffer
	url := serveHTTPS(t, p.server(ServerOptions{ClientCAFile: p.path("ca.pem"), Logger: newLogger(&expiredLog)}))
	if _, err := get(p.client(ClientOptions{CertFile: p.path("expired.pem"), KeyFile: p.path("expired.key")}), url); err == nil {
		t.Error("an expired client certificate was taken")
	}
	expiredLog.waitFor(t, "refused a client's TLS certificate")
	expiredLog.waitFor(t, "certificate has expired")
}

func TestOptionsErrors(t *testing.T) {
	p := newPKI(t, "test CA")
	p.issue("server", Leaf{Name: "server", Hosts: localhost})
	p.write("garbage.pem", []byte("-----BEGIN NOTHING-----\n"))
	for _, tc := range []struct {
		name    string
		server  *ServerOptions
		client  *ClientOptions
		wantErr string
	}{
		{"no key", &ServerOptions{CertFile: p.path("server.pem")}, nil, "needs both cert_file and key_file"},
		{"missing cert", &ServerOptions{CertFile: p.path("none.pem"), KeyFile: p.path("server.key")}, nil, "none.pem: no such file"},
		{"key of another cert", &ServerOptions{CertFile: p.path("server.pem"), KeyFile: p.path("ca.pem")}, nil, "couldn't load the certificate"},
		{"required without CA", &ServerOptions{CertFile: p.path("server.pem"), KeyFile: p.path("server.key"), ClientCerts: Require}, nil, "needs client_ca_file"},
		{"verified later without CA", &ServerOptions{CertFile: p.path("server.pem"), KeyFile: p.path("server.key"), ClientCerts: VerifyLater}, nil, "needs client_ca_file"},
		{"client CA not PEM", &ServerOptions{CertFile: p.path("server.pem"), KeyFile: p.path("server.key"), ClientCAFile: p.path("garbage.pem")}, nil, "garbage.pem holds no PEM certificate"},
		{"CA file missing", nil, &ClientOptions{CAFile: p.path("none.pem")}, "none.pem: no such file"},
		{"client cert without key", nil, &ClientOptions{CertFile: p.path("server.pem")}, "needs both its certificate and its key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.server != nil {
				_, err = NewServer(*tc.server)
			} else {
				_, err = NewClient(*tc.client)
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestLoadCA(t *testing.T) {
	p := newPKI(t, "test CA")
	key, err := p.ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	p.write("ca.key", key)
	ca, err := LoadCA(p.path("ca.pem"), p.path("ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	// A certificate issued by the loaded CA verifies with the first's file.
	cert, k, err := ca.Issue(Leaf{Name: "again", Hosts: localhost})
	if err != nil {
		t.Fatal(err)
	}
	p.write("server.pem", cert)
	p.write("server.key", k)
	if body, err := get(p.client(ClientOptions{}), serveHTTPS(t, p.server(ServerOptions{}))); err != nil || body != "hello anonymous" {
		t.Errorf("got %q, %v", body, err)
	}
	p.issue("leaf", Leaf{Name: "leaf", Hosts: localhost})
	if _, err := LoadCA(p.path("leaf.pem"), p.path("leaf.key")); err == nil || !strings.Contains(err.Error(), "is not a CA certificate") {
		t.Errorf("a leaf as CA: got %v", err)
	}
}

func TestVerifyClientLater(t *testing.T) {
	p := newPKI(t, "test CA")
	p.issue("server", Leaf{Name: "server", Hosts: localhost})
	p.issue("agency", Leaf{Name: "agency", Client: true})
	p.issue("expired", Leaf{Name: "expired", Client: true, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	other := newPKI(t, "another CA")
	other.issue("stranger", Leaf{Name: "stranger", Client: true})

	s := p.server(ServerOptions{ClientCAFile: p.path("ca.pem"), ClientCerts: VerifyLater})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The handler says whom it verified, or why not: every handshake
	// succeeds.
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cert, err := s.VerifyClient(*r.TLS)
		if err != nil {
			if errors.Is(err, ErrNoClientCert) {
				io.WriteString(w, "none: ")
			}
			io.WriteString(w, err.Error())
			return
		}
		io.WriteString(w, "verified "+cert.Subject.CommonName)
	})}
	go srv.Serve(s.Listener(lis))
	t.Cleanup(func() { srv.Close() })
	url := "https://" + lis.Addr().String() + "/"

	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"none", "", "", "none: the client gave no certificate"},
		{"issued by the client CA", p.path("agency.pem"), p.path("agency.key"), "verified agency"},
		{"expired", p.path("expired.pem"), p.path("expired.key"), `the client certificate "CN=expired" has expired (not valid after `},
		{"another CA", other.path("stranger.pem"), other.path("stranger.key"), `the client certificate "CN=stranger" is issued by "CN=another CA", not by this server's client CA`},
		{"a server certificate", p.path("server.pem"), p.path("server.key"), `the client certificate "CN=server" does not verify`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := get(p.client(ClientOptions{CertFile: tc.cert, KeyFile: tc.key}), url)
			if err != nil || !strings.HasPrefix(body, tc.want) {
				t.Errorf("got %q, %v; want %q", body, err, tc.want)
			}
		})
	}
}
