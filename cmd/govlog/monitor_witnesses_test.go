package main

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// TestMonitorConfigWitnesses: the monitor's witnesses: list takes http://
// and https:// URL prefixes and refuses anything else, and a witness_tls
// block's files are loaded before the monitor starts.
func TestMonitorConfigWitnesses(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	logVKey := ""
	for _, name := range []string{"root-1", "root-2", "log"} {
		origin := name
		if name == "log" {
			origin = "gov.example/registry"
		}
		skey, vkey, err := note.GenerateKey(rand.Reader, origin)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeKeyFiles(path(name), skey, vkey); err != nil {
			t.Fatal(err)
		}
		logVKey = vkey
	}
	if err := os.WriteFile(path("policy.txt"), []byte("log "+logVKey+"\nquorum none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := `database: ` + path("monitor.db") + `
registry_roots: {quorum: 2, keys: [` + path("root-1.vkey") + `, ` + path("root-2.vkey") + `]}
logs:
  - origin: gov.example/registry
    url: 127.0.0.1:7000
    policy: ` + path("policy.txt") + `
`
	for _, tc := range []struct {
		name, extra, wantErr string
	}{
		{"http and https", "witnesses: [http://127.0.0.1:7380, https://witness.example/w/]\n", ""},
		{"not a URL prefix", "witnesses: [witness.example:7380]\n", `witnesses: "witness.example:7380" is not an http:// or https:// URL`},
		{"another scheme", "witnesses: [ftp://witness.example]\n", "is not an http:// or https:// URL"},
		{"missing CA file", "witnesses: [https://witness.example]\nwitness_tls: {ca_file: " + path("nope.pem") + "}\n", "nope.pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path("monitor.yaml"), []byte(base+tc.extra), 0o600); err != nil {
				t.Fatal(err)
			}
			lm, err := loadMonitorConfig(path("monitor.yaml"))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("loadMonitorConfig: %v", err)
			case tc.wantErr == "" && len(lm.Witnesses) != 2:
				t.Errorf("witnesses = %q", lm.Witnesses)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("loadMonitorConfig = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
