package main

import (
	"cmp"
	"crypto/rand"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// TestDeployConfigsParse keeps the examples in deploy/ true to the code.
func TestDeployConfigsParse(t *testing.T) {
	c, err := parseServeConfig("../../deploy/govlog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range c.Logs {
		names = append(names, l.Name)
	}
	if want := []string{"registry", "disclosures", "approvals", "funds", "donations", "votes"}; !slices.Equal(names, want) {
		t.Errorf("deploy/govlog.yaml runs %v, want every log: %v", names, want)
	}
	if c.Storage != "mysql" || c.Logs[0].Name != "registry" ||
		c.RegistryRoots.Quorum < 2 || len(c.RegistryRoots.Keys) < c.RegistryRoots.Quorum || len(c.RegistryGenesisKeys) < c.RegistryRoots.Quorum {
		t.Errorf("unexpected example config: %+v", c)
	}
	c, err = parseServeConfig("../../deploy/govlog-sqlite.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage != "sqlite" || c.SQLite.Path == "" || c.Logs[0].Name != "registry" ||
		c.RegistryRoots.Quorum < 2 || len(c.RegistryRoots.Keys) < c.RegistryRoots.Quorum || len(c.RegistryGenesisKeys) < c.RegistryRoots.Quorum {
		t.Errorf("unexpected example config: %+v", c)
	}
}

func TestServeConfigErrors(t *testing.T) {
	const regLog = "{name: registry, origin: o/registry, key: rk}"
	for _, tc := range []struct {
		name, yaml, wantErr string
	}{
		{"unknown field", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nlogs: [" + regLog + ", {name: disclosures, origin: o, key: k}]\ntypo: 1\n", "field typo not found"},
		{"no storage", "registry: r\n", `storage must be "mysql" or "sqlite"`},
		{"no dsn", "storage: mysql\nregistry: r\n", "mysql.dsn is required"},
		{"no sqlite path", "storage: sqlite\nregistry: r\n", "sqlite.path is required"},
		{"no genesis", "storage: mysql\nmysql: {dsn: x}\nlogs: [" + regLog + ", {name: disclosures, origin: o, key: k}]\n", "registry (the genesis file) is required"},
		{"no logs", "storage: mysql\nmysql: {dsn: x}\nregistry: r\n", `at least one log is required`},
		{"no registry log", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nlogs: [{name: disclosures, origin: o, key: k}]\n", `a log named "registry" is required: the registry log that authorizes the others`},
		{"unknown personality", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nlogs: [" + regLog + ", {name: lottery, origin: o, key: k}]\n", `no personality "lottery"`},
		{"no rule key for a log that writes its own statements", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nlogs: [" + regLog + ", {name: funds, origin: o, key: k}]\n", "rule_key is required: the log writes funds.guarantee.release itself"},
		{"duplicate log", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nlogs: [" + regLog + ", {name: disclosures, origin: o, key: k}, {name: disclosures, origin: o, key: k}]\n", "listed twice"},
		{"duplicate registry log", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nlogs: [" + regLog + ", " + regLog + ", {name: disclosures, origin: o, key: k}]\n", `log "registry" listed twice`},
		{"negative quota", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nagency_quota: {per_second: -1}\nlogs: [" + regLog + ", {name: disclosures, origin: o, key: k}]\n", "agency_quota must be positive"},
		{"election on sqlite", "storage: sqlite\nsqlite: {path: p}\nregistry: r\nelection: {etcd: [e], advertise: 'h:1'}\nlogs: [" + regLog + "]\n", "election needs storage: mysql"},
		{"election without advertise", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nelection: {etcd: [e]}\nlogs: [" + regLog + "]\n", "advertise (the host:port at which the other serve processes reach this one) is required"},
		{"election without etcd", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nelection: {advertise: 'h:1'}\nlogs: [" + regLog + "]\n", "election: etcd (the endpoints) is required"},
		{"election advertise without port", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nelection: {etcd: [e], advertise: h}\nlogs: [" + regLog + "]\n", `advertise "h": address h: missing port`},
		{"trillian without address", "storage: mysql\nmysql: {dsn: x}\nregistry: r\ntrillian: {}\nlogs: [" + regLog + "]\n", "trillian: address (host:port of the Trillian deployment) is required"},
		{"bad duration", "storage: mysql\nmysql: {dsn: x}\nregistry: r\nmmd: soon\nlogs: [" + regLog + ", {name: disclosures, origin: o, key: k}]\n", "line 4: cannot unmarshal"},
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
	if c.Key == "" || c.Database == "" || len(c.Logs) != 2 || c.Logs[0].Origin != "gov.example/registry" || len(c.Peers) != 2 {
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
	if c.Database == "" || c.RegistryRoots.Quorum < 2 || len(c.RegistryRoots.Keys) < c.RegistryRoots.Quorum || len(c.Logs) != 4 ||
		cmp.Or(c.Logs[0].Personality, c.Logs[0].Name, path.Base(c.Logs[0].Origin)) != "registry" || c.Logs[0].Policy == "" || c.Logs[1].Policy == "" {
		t.Errorf("unexpected example config: %+v", c)
	}
}

// TestServeConfigRegistryRoots: the registry's root keys and genesis keys
// are checked when the config is loaded, before anything starts.
func TestServeConfigRegistryRoots(t *testing.T) {
	dir := t.TempDir()
	var vkeys []string
	for _, name := range []string{"root-1", "root-2", "root-3"} {
		// A vkey line given inline must not contain a slash: the config
		// reads one that does as the path of a .vkey file (a bug to fix
		// in rootsConfig.load; base64 keys hold a slash half the time).
		for {
			skey, vkey, err := note.GenerateKey(rand.Reader, name)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(vkey, "/") {
				continue
			}
			if err := writeKeyFiles(filepath.Join(dir, name), skey, vkey); err != nil {
				t.Fatal(err)
			}
			vkeys = append(vkeys, vkey)
			break
		}
	}
	if _, err := writeKeyPair(filepath.Join(dir, "log-registry"), "o/registry"); err != nil {
		t.Fatal(err)
	}
	if _, err := writeKeyPair(filepath.Join(dir, "log-disclosures"), "o/disclosures"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "registry.yaml"), []byte("agencies: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	head := "storage: sqlite\nsqlite: {path: " + filepath.Join(dir, "govlog.db") + "}\nregistry: " + filepath.Join(dir, "registry.yaml") + "\n" +
		"logs: [{name: registry, origin: o/registry, key: " + filepath.Join(dir, "log-registry.key") + "}, " +
		"{name: disclosures, origin: o/disclosures, key: " + filepath.Join(dir, "log-disclosures.key") + "}]\n"
	vkeyFile := func(name string) string { return filepath.Join(dir, name+".vkey") }
	for _, tc := range []struct {
		name, yaml, wantErr string
		wantSigners         int
	}{
		{"no roots", "", "registry_roots: 0 root keys: name at least 2", 0},
		{"one root", "registry_roots: {quorum: 2, keys: [" + vkeyFile("root-1") + "]}\n", "registry_roots: 1 root keys: name at least 2", 0},
		{"quorum of one", "registry_roots: {quorum: 1, keys: [" + vkeyFile("root-1") + ", " + vkeyFile("root-2") + "]}\n", "registry_roots: root quorum 1: want at least 2", 0},
		{"quorum above the keys", "registry_roots: {quorum: 3, keys: [" + vkeyFile("root-1") + ", " + vkeyFile("root-2") + "]}\n", "root quorum 3: want at least 2 and at most the 2 root keys", 0},
		{"root listed twice", "registry_roots: {quorum: 2, keys: [" + vkeyFile("root-1") + ", '" + vkeys[0] + "']}\n", "listed twice", 0},
		{"bad root key", "registry_roots: {quorum: 2, keys: [" + vkeyFile("root-1") + ", not-a-key]}\n", "registry_roots: bad root key", 0},
		{"missing root key file", "registry_roots: {quorum: 2, keys: [" + vkeyFile("root-1") + ", " + vkeyFile("root-9") + "]}\n", "root-9.vkey", 0},
		{"missing genesis key", "registry_roots: {quorum: 2, keys: [" + vkeyFile("root-1") + ", " + vkeyFile("root-2") + "]}\nregistry_genesis_keys: [" + filepath.Join(dir, "root-9.key") + "]\n", "registry_genesis_keys: ", 0},
		{"genesis key not a signer", "registry_roots: {quorum: 2, keys: [" + vkeyFile("root-1") + ", " + vkeyFile("root-2") + "]}\nregistry_genesis_keys: [" + vkeyFile("root-1") + "]\n", "registry_genesis_keys: " + vkeyFile("root-1") + " is not a signer key", 0},
		// Vkey lines and .vkey paths mix; the genesis keys are loaded.
		{"ok", "registry_roots: {quorum: 2, keys: ['" + vkeys[0] + "', " + vkeyFile("root-2") + ", " + vkeyFile("root-3") + "]}\nregistry_genesis_keys: [" + filepath.Join(dir, "root-1.key") + ", " + filepath.Join(dir, "root-3.key") + "]\n", "", 2},
		// After the first start the genesis keys are taken away.
		{"ok without genesis keys", "registry_roots: {quorum: 2, keys: [" + vkeyFile("root-1") + ", " + vkeyFile("root-2") + ", " + vkeyFile("root-3") + "]}\n", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(head+tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			nc, err := loadServeConfig(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if nc.Roots == nil || nc.Roots.Quorum() != 2 || len(nc.Roots.Keys()) != 3 || len(nc.GenesisSigners) != tc.wantSigners || len(nc.Logs) != 2 {
				t.Errorf("loaded %+v", nc)
			}
		})
	}
}
