package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeployConfigsParse keeps the examples in deploy/ true to the code.
func TestDeployConfigsParse(t *testing.T) {
	c, err := parseServeConfig("../../deploy/govlog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage != "mysql" || len(c.Logs) != 1 || c.Logs[0].Name != "disclosures" {
		t.Errorf("unexpected example config: %+v", c)
	}
	c, err = parseServeConfig("../../deploy/govlog-sqlite.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage != "sqlite" || c.SQLite.Path == "" {
		t.Errorf("unexpected example config: %+v", c)
	}
}

func TestServeConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, wantErr string
	}{
		{"unknown field", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nlogs: [{name: disclosures, origin: o, key: k}]\ntypo: 1\n", "field typo not found"},
		{"no storage", "registry: r\n", `storage must be "mysql" or "sqlite"`},
		{"no dsn", "storage: mysql\nregistry: r\n", "mysql.dsn is required"},
		{"no sqlite path", "storage: sqlite\nregistry: r\n", "sqlite.path is required"},
		{"no logs", "storage: mysql\nmysql: {dsn: x}\nregistry: r\n", "at least one log"},
		{"unknown personality", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nlogs: [{name: lottery, origin: o, key: k}]\n", `no personality "lottery"`},
		{"no rule key for a log that writes its own statements", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nlogs: [{name: funds, origin: o, key: k}]\n", "rule_key is required: the log writes funds.guarantee.release itself"},
		{"duplicate log", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nlogs: [{name: disclosures, origin: o, key: k}, {name: disclosures, origin: o, key: k}]\n", "listed twice"},
		{"negative quota", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nagency_quota: {per_second: -1}\nlogs: [{name: disclosures, origin: o, key: k}]\n", "agency_quota must be positive"},
		{"bad duration", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nmmd: soon\nlogs: [{name: disclosures, origin: o, key: k}]\n", "line 4: cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := parseServeConfig(path)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestDeployWitnessConfigParses: deploy/witness.yaml has only fields the
// witness knows (its files exist only on a real witness host).
func TestDeployWitnessConfigParses(t *testing.T) {
	var c witnessConfig
	if err := readConfig("../../deploy/witness.yaml", &c); err != nil {
		t.Fatal(err)
	}
	if c.Key == "" || c.Database == "" || len(c.Logs) != 1 || len(c.Peers) != 2 {
		t.Errorf("unexpected example config: %+v", c)
	}
}

// TestDeployMonitorConfigParses: deploy/monitor.yaml has only fields the
// monitor knows (its files exist only on a real monitor host).
func TestDeployMonitorConfigParses(t *testing.T) {
	var c monitorConfig
	if err := readConfig("../../deploy/monitor.yaml", &c); err != nil {
		t.Fatal(err)
	}
	if c.Database == "" || c.Registry == "" || len(c.Logs) != 1 || c.Logs[0].Policy == "" {
		t.Errorf("unexpected example config: %+v", c)
	}
}
