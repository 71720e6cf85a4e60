package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/govlog/govlog/internal/tlsfiles"
)

// devTLSFiles are the files of `govlog dev --tls`: a local CA, and a
// certificate it issued for the addresses dev listens on.
type devTLSFiles struct {
	server tlsServerConfig
	client tlsClientConfig
	hosts  []string
}

// Validity of dev's CA and of the server certificate it issues; a
// certificate expiring within devRenewBefore is issued again at start.
const (
	devCAValidity     = 5 * 365 * 24 * time.Hour
	devServerValidity = 365 * 24 * time.Hour
	devRenewBefore    = 30 * 24 * time.Hour
)

// prepareDevTLS makes in dir, on first use, a CA (ca.pem, and ca-key.pem
// readable by the owner only) and a server certificate (server.pem,
// server-key.pem) for 127.0.0.1, ::1, localhost and the host of listen. A
// later start keeps them, issuing the server certificate again when it
// nears its end or misses a host.
func prepareDevTLS(dir, listen string) (*devTLSFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f := &devTLSFiles{
		server: tlsServerConfig{CertFile: filepath.Join(dir, "server.pem"), KeyFile: filepath.Join(dir, "server-key.pem")},
		client: tlsClientConfig{CAFile: filepath.Join(dir, "ca.pem")},
		hosts:  []string{"127.0.0.1", "::1", "localhost"},
	}
	if host, _, err := net.SplitHostPort(listen); err == nil && host != "" && !slices.Contains(f.hosts, host) {
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
			f.hosts = append(f.hosts, host)
		}
	}
	caKey := filepath.Join(dir, "ca-key.pem")
	var ca *tlsfiles.CA
	if fileExists(f.client.CAFile) && fileExists(caKey) {
		var err error
		if ca, err = tlsfiles.LoadCA(f.client.CAFile, caKey); err != nil {
			return nil, fmt.Errorf("%w (delete %s to start over)", err, dir)
		}
	}
	// A CA near its end is made again: clients then need the new ca.pem.
	if ca == nil || time.Until(ca.Cert.NotAfter) < devRenewBefore {
		var err error
		if ca, err = tlsfiles.NewCA("govlog dev local CA", time.Now().Add(devCAValidity)); err != nil {
			return nil, err
		}
		keyPEM, err := ca.KeyPEM()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(caKey, keyPEM, 0o600); err != nil {
			return nil, err
		}
		if err := os.WriteFile(f.client.CAFile, ca.CertPEM(), 0o644); err != nil {
			return nil, err
		}
		os.Remove(f.server.CertFile) // issued by another CA
	}
	if devCertCurrent(f.server.CertFile, ca, f.hosts) {
		return f, nil
	}
	notAfter := time.Now().Add(devServerValidity)
	if ca.Cert.NotAfter.Before(notAfter) {
		notAfter = ca.Cert.NotAfter
	}
	cert, key, err := ca.Issue(tlsfiles.Leaf{Name: "govlog dev", Hosts: f.hosts, NotAfter: notAfter})
	if err != nil {
		return nil, err
	}
	// The key first: a server reloading between the two writes keeps the
	// old pair, as a mismatched one does not load.
	if err := os.WriteFile(f.server.KeyFile, key, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(f.server.CertFile, cert, 0o644); err != nil {
		return nil, err
	}
	return f, nil
}

// devCertCurrent says whether the certificate at path was issued by ca,
// holds every host, and is valid for longer than devRenewBefore.
func devCertCurrent(path string, ca *tlsfiles.CA, hosts []string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || cert.CheckSignatureFrom(ca.Cert) != nil || time.Until(cert.NotAfter) < devRenewBefore {
		return false
	}
	for _, h := range hosts {
		if cert.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}
