package main

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
)

// TestElectionAdvertiseFromEnvironment: serve's election.advertise takes
// ${NAME} from the environment (a Kubernetes pod's address), and refuses
// a variable that is not set rather than advertise half an address.
func TestElectionAdvertiseFromEnvironment(t *testing.T) {
	t.Setenv("GOVLOG_TEST_POD_IP", "10.1.2.3")
	t.Setenv("GOVLOG_TEST_POD_IP6", "fd00::7")
	t.Setenv("GOVLOG_TEST_EMPTY", "")
	for _, tc := range []struct {
		name, advertise, want, wantErr string
	}{
		{name: "literal", advertise: "serve-1:7000", want: "serve-1:7000"},
		{name: "pod address", advertise: "${GOVLOG_TEST_POD_IP}:7000", want: "10.1.2.3:7000"},
		{name: "IPv6 pod address", advertise: "[${GOVLOG_TEST_POD_IP6}]:7000", want: "[fd00::7]:7000"},
		{name: "IPv6 without brackets", advertise: "${GOVLOG_TEST_POD_IP6}:7000", wantErr: "too many colons"},
		{name: "not set", advertise: "${GOVLOG_TEST_NOT_SET}:7000", wantErr: `election: advertise "${GOVLOG_TEST_NOT_SET}:7000": the environment variable GOVLOG_TEST_NOT_SET is not set`},
		{name: "empty", advertise: "${GOVLOG_TEST_EMPTY}:7000", wantErr: "the environment variable GOVLOG_TEST_EMPTY is not set"},
		{name: "no port", advertise: "${GOVLOG_TEST_POD_IP}", wantErr: "missing port in address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := "storage: mysql\nmysql: {dsn: 'govlog@tcp(db:3306)/govlog'}\nregistry: r\n" +
				"logs: [{name: registry, origin: o/registry, key: rk}]\n" +
				"election: {etcd: ['http://etcd:2379'], advertise: '" + tc.advertise + "'}\n"
			path := filepath.Join(t.TempDir(), "govlog.yaml")
			if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := parseServeConfig(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Election.Advertise != tc.want {
				t.Errorf("advertise %q is %q, want %q", tc.advertise, c.Election.Advertise, tc.want)
			}
		})
	}
}

// TestElectionOverTLS: the election reaches an etcd that serves TLS only
// with etcd_tls's CA, and wins; without that CA it never gets a lease.
func TestElectionOverTLS(t *testing.T) {
	dir := t.TempDir()
	files, err := prepareDevTLS(filepath.Join(dir, "tls"), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(dir, "etcd")
	cfg.LogLevel = "error"
	clientURL, _ := url.Parse("https://" + freeAddr(t))
	peerURL, _ := url.Parse("http://" + freeAddr(t))
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*clientURL}, []url.URL{*clientURL}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peerURL}, []url.URL{*peerURL}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	cfg.ClientTLSInfo = transport.TLSInfo{CertFile: files.server.CertFile, KeyFile: files.server.KeyFile}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		t.Fatal("etcd not ready")
	}
	logger := slog.New(slog.DiscardHandler)
	elect := func(etcdTLS *tlsClientConfig) error {
		el, err := startElection(&electionConfig{Etcd: []string{clientURL.String()}, Advertise: "127.0.0.1:7000", TTL: 2 * time.Second, EtcdTLS: etcdTLS}, logger)
		if err != nil {
			return err
		}
		defer el.close()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		won := errors.New("not elected within 10s")
		el.elector.Run(ctx, func(context.Context, int64) error { won = nil; cancel(); return nil })
		return won
	}
	if err := elect(&files.client); err != nil {
		t.Errorf("with etcd_tls's CA: %v", err)
	}
	if err := elect(nil); err == nil {
		t.Error("elected through a TLS etcd whose certificate the system's roots do not know")
	}
}
