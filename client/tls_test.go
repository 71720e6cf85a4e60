package client_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/internal/tlsfiles"
)

// checkpointServer answers GetCheckpoint with a fixed text.
type checkpointServer struct{ api.UnimplementedLogServer }

func (checkpointServer) GetCheckpoint(context.Context, *api.GetCheckpointRequest) (*api.GetCheckpointResponse, error) {
	return &api.GetCheckpointResponse{Checkpoint: []byte("a checkpoint")}, nil
}

// serve serves checkpointServer, with TLS if s is set.
func serve(t *testing.T, s *tlsfiles.Server) string {
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
	api.RegisterLogServer(gs, checkpointServer{})
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return lis.Addr().String()
}

// testPKI writes a CA and a server certificate for 127.0.0.1, valid
// until notAfter, and returns the folder.
func testPKI(t *testing.T, notAfter time.Time) string {
	t.Helper()
	dir := t.TempDir()
	ca, err := tlsfiles.NewCA("test CA", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := ca.Issue(tlsfiles.Leaf{Name: "server", Hosts: []string{"127.0.0.1"}, NotBefore: notAfter.Add(-48 * time.Hour), NotAfter: notAfter})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"ca.pem": ca.CertPEM(), "server.pem": cert, "server.key": key} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func tlsServer(t *testing.T, dir string) *tlsfiles.Server {
	t.Helper()
	s, err := tlsfiles.NewServer(tlsfiles.ServerOptions{CertFile: filepath.Join(dir, "server.pem"), KeyFile: filepath.Join(dir, "server.key")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tlsDialer(t *testing.T, dir string) client.Dialer {
	t.Helper()
	c, err := tlsfiles.NewClient(tlsfiles.ClientOptions{CAFile: filepath.Join(dir, "ca.pem")})
	if err != nil {
		t.Fatal(err)
	}
	return client.Dialer{Credentials: c.GRPCCredentials()}
}

func checkpoint(t *testing.T, d client.Dialer, addr string) error {
	t.Helper()
	c, err := d.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cp, err := c.Checkpoint(ctx, "disclosures")
	if err == nil && string(cp) != "a checkpoint" {
		t.Errorf("got checkpoint %q", cp)
	}
	return err
}

func TestDialTLS(t *testing.T) {
	dir := testPKI(t, time.Now().Add(time.Hour))
	tlsAddr, plainAddr := serve(t, tlsServer(t, dir)), serve(t, nil)
	if err := checkpoint(t, tlsDialer(t, dir), tlsAddr); err != nil {
		t.Errorf("TLS to TLS: %v", err)
	}
	if err := checkpoint(t, client.Dialer{}, plainAddr); err != nil {
		t.Errorf("plaintext to plaintext: %v", err)
	}

	// A mismatch fails at once, saying which (not after the call's
	// deadline), and stays UNAVAILABLE for callers that retry on it.
	err := checkpoint(t, client.Dialer{}, tlsAddr)
	if !errors.Is(err, client.ErrServerSpeaksTLS) || status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), tlsAddr) {
		t.Errorf("plaintext to TLS: got %v (code %v), want ErrServerSpeaksTLS naming %s, UNAVAILABLE", err, status.Code(err), tlsAddr)
	}
	err = checkpoint(t, tlsDialer(t, dir), plainAddr)
	if !errors.Is(err, client.ErrServerWithoutTLS) || status.Code(err) != codes.Unavailable {
		t.Errorf("TLS to plaintext: got %v (code %v), want ErrServerWithoutTLS, UNAVAILABLE", err, status.Code(err))
	}

	// A server that is down is neither.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := lis.Addr().String()
	lis.Close()
	err = checkpoint(t, client.Dialer{}, down)
	if err == nil || errors.Is(err, client.ErrServerSpeaksTLS) || status.Code(err) != codes.Unavailable {
		t.Errorf("server down: got %v", err)
	}
}

func TestDialTLSExpiredCertificate(t *testing.T) {
	dir := testPKI(t, time.Now().Add(-time.Hour))
	err := checkpoint(t, tlsDialer(t, dir), serve(t, tlsServer(t, dir)))
	if err == nil || !strings.Contains(err.Error(), "the certificate of 127.0.0.1 has expired") {
		t.Errorf("got %v, want an error saying the certificate of 127.0.0.1 has expired", err)
	}
}
