package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"

	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/internal/tlsfiles"
	"github.com/govlog/govlog/storage/mysql"
	"github.com/govlog/govlog/storage/mysql/mysqltest"
)

// tlscerts DIR writes a test PKI to DIR: ca.pem, server.pem and
// server-key.pem (for 127.0.0.1 and localhost), expired.pem and
// expired-key.pem (a server certificate that expired an hour ago),
// agency.pem and agency-key.pem (a client certificate), and
// stranger.pem, stranger-key.pem and other-ca.pem (a client certificate
// of another CA).
func cmdTLSCerts(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: tlscerts DIR")
	}
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o700))
	write := func(name string, data []byte) {
		ts.Check(os.WriteFile(filepath.Join(dir, name), data, 0o600))
	}
	issue := func(ca *tlsfiles.CA, name string, l tlsfiles.Leaf) {
		cert, key, err := ca.Issue(l)
		ts.Check(err)
		write(name+".pem", cert)
		write(name+"-key.pem", key)
	}
	ca, err := tlsfiles.NewCA("test CA", time.Now().Add(24*time.Hour))
	ts.Check(err)
	other, err := tlsfiles.NewCA("another CA", time.Now().Add(24*time.Hour))
	ts.Check(err)
	write("ca.pem", ca.CertPEM())
	write("other-ca.pem", other.CertPEM())
	hosts := []string{"127.0.0.1", "localhost"}
	issue(ca, "server", tlsfiles.Leaf{Name: "govlog test", Hosts: hosts})
	issue(ca, "expired", tlsfiles.Leaf{Name: "govlog test", Hosts: hosts, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	issue(ca, "agency", tlsfiles.Leaf{Name: "demo-agency", Client: true})
	issue(other, "stranger", tlsfiles.Leaf{Name: "stranger", Client: true})
}

// waitready URL waits up to 60s until URL (an admin listener's /readyz)
// answers 200.
func cmdWaitReady(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitready URL")
	}
	var last string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(args[0])
		if err != nil {
			last = err.Error()
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
		last = resp.Status + ": " + string(b)
	}
	ts.Fatalf("%s never answered 200 (last: %s)", args[0], last)
}

// httpsget CAFILE URL TEXT fetches URL, its certificate checked with
// CAFILE, until its body contains TEXT (up to 30s).
func cmdHTTPSGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: httpsget CAFILE URL TEXT")
	}
	c, err := tlsfiles.NewClient(tlsfiles.ClientOptions{CAFile: ts.MkAbs(args[0])})
	ts.Check(err)
	hc := c.HTTPClient(10 * time.Second)
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := hc.Get(args[1])
		if err != nil {
			last = err.Error()
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if last = string(b); strings.Contains(last, args[2]) {
			return
		}
	}
	ts.Fatalf("%s never contained %q; last:\n%s", args[1], args[2], last)
}

// waitcert ADDR expired|valid waits up to 30s until the TLS server at
// ADDR presents a certificate in that state (a reload is checked for at
// most every 5 s, when a handshake asks).
func cmdWaitCert(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 || (args[1] != "expired" && args[1] != "valid") {
		ts.Fatalf("usage: waitcert ADDR expired|valid")
	}
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		// Only the certificate's dates are looked at.
		conn, err := tls.Dial("tcp", args[0], &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			last = err.Error()
			continue
		}
		leaf := conn.ConnectionState().PeerCertificates[0]
		conn.Close()
		state := "valid"
		if time.Now().After(leaf.NotAfter) {
			state = "expired"
		}
		if last = state; state == args[1] {
			return
		}
	}
	ts.Fatalf("%s never presented a certificate %s (last: %s)", args[0], args[1], last)
}

// TestAdminServer: /readyz answers 503 until the daemon is ready; /healthz
// and /metrics answer from the start.
func TestAdminServer(t *testing.T) {
	a := newAdminServer()
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "not ready") {
		t.Errorf("/readyz before ready: %d %q", code, body)
	}
	if code, body := get("/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get("/metrics"); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics: %d, no go_goroutines", code)
	}
	a.setReady()
	if code, body := get("/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("/readyz once ready: %d %q", code, body)
	}
}

func TestMySQLPassword(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secret := file("password", "s3cr:t@(x)\n")
	empty := file("empty", "\n")
	for _, tc := range []struct {
		name, dsn, file, env string
		wantDSN, wantErr     string
		wantWarning          bool
	}{
		{name: "none", dsn: "govlog@tcp(db:3306)/govlog", wantDSN: "govlog@tcp(db:3306)/govlog"},
		{name: "from a file", dsn: "govlog@tcp(db:3306)/govlog", file: secret, wantDSN: "govlog:s3cr:t@(x)@tcp(db:3306)/govlog"},
		{name: "from the environment", dsn: "govlog@tcp(db:3306)/govlog", env: "envpass", wantDSN: "govlog:envpass@tcp(db:3306)/govlog"},
		{name: "inline", dsn: "govlog:inline@tcp(db:3306)/govlog", wantDSN: "govlog:inline@tcp(db:3306)/govlog", wantWarning: true},
		{name: "file and environment", dsn: "govlog@tcp(db:3306)/govlog", file: secret, env: "envpass", wantErr: "both in password_file and in GOVLOG_MYSQL_PASSWORD"},
		{name: "inline and file", dsn: "govlog:inline@tcp(db:3306)/govlog", file: secret, wantErr: "take it out of the DSN"},
		{name: "inline and environment", dsn: "govlog:inline@tcp(db:3306)/govlog", env: "envpass", wantErr: "take it out of the DSN"},
		{name: "empty file", dsn: "govlog@tcp(db:3306)/govlog", file: empty, wantErr: "is empty"},
		{name: "missing file", dsn: "govlog@tcp(db:3306)/govlog", file: filepath.Join(dir, "none"), wantErr: "mysql.password_file: open"},
		{name: "bad DSN", dsn: "govlog:inline@db:3306", wantErr: "mysql.dsn: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c serveConfig
			c.MySQL.DSN, c.MySQL.PasswordFile = tc.dsn, tc.file
			dsn, warnings, err := c.mysqlDSN(func(k string) string {
				if k == mysqlPasswordEnv {
					return tc.env
				}
				return ""
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				for _, p := range []string{"inline", "envpass", "s3cr"} {
					if strings.Contains(err.Error(), p) {
						t.Errorf("the error shows the password: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if dsn != tc.wantDSN {
				t.Errorf("DSN %q, want %q", dsn, tc.wantDSN)
			}
			if got := len(warnings) > 0; got != tc.wantWarning || (got && !strings.Contains(warnings[0], "move it to mysql.password_file")) {
				t.Errorf("warnings %q, want one: %v", warnings, tc.wantWarning)
			}
		})
	}
}

// TestServeConfigTLSErrors: a tls block is checked before anything starts.
func TestServeConfigTLSErrors(t *testing.T) {
	const head = "storage: sqlite\nsqlite: {path: x.db}\nregistry: r\nlogs: [{name: registry, origin: o/registry, key: k}]\n"
	for _, tc := range []struct{ name, yaml, wantErr string }{
		{"no key", "tls: {cert_file: c.pem}\n", "tls: cert_file and key_file are required"},
		{"client certs without a CA", "tls: {cert_file: c.pem, key_file: k.pem, submit_requires_client_cert: true}\n", "submit_requires_client_cert needs client_ca_file"},
		{"unknown field", "tls: {cert_file: c.pem, key_file: k.pem, ca_file: x}\n", "field ca_file not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(head+tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := parseServeConfig(path)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// refusedCheckpointLog serves a checkpoint that no policy accepts, so that a monitor
// following it raises checkpoint_refused.
type refusedCheckpointLog struct{ api.UnimplementedLogServer }

func (refusedCheckpointLog) GetCheckpoint(context.Context, *api.GetCheckpointRequest) (*api.GetCheckpointResponse, error) {
	return &api.GetCheckpointResponse{Checkpoint: []byte("gov.example/registry\n1\nnot a hash\n\n— nobody AAAA\n")}, nil
}

// serveLogOverTLS serves srv over gRPC, with TLS from certFile and
// keyFile, on a loopback port whose address it returns, until the test
// ends.
func serveLogOverTLS(t *testing.T, certFile, keyFile string, srv api.LogServer) string {
	t.Helper()
	serverTLS, err := tlsfiles.NewServer(tlsfiles.ServerOptions{CertFile: certFile, KeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(serverTLS.GRPCCredentials()))
	api.RegisterLogServer(gs, srv)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return lis.Addr().String()
}

// TestMonitorOverTLS: a monitor configured with TLS follows a log over
// TLS (its CA in the log's tls block) and POSTs its alert to an https://
// webhook checked with webhook_tls's CA, presenting its own certificate to
// a receiver that requires one.
func TestMonitorOverTLS(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(path(name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ca, err := tlsfiles.NewCA("test CA", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	write("ca.pem", ca.CertPEM())
	for name, leaf := range map[string]tlsfiles.Leaf{
		"server":  {Name: "server", Hosts: []string{"127.0.0.1"}},
		"monitor": {Name: "monitor", Client: true},
	} {
		cert, key, err := ca.Issue(leaf)
		if err != nil {
			t.Fatal(err)
		}
		write(name+".pem", cert)
		write(name+"-key.pem", key)
	}
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
	write("policy.txt", []byte("log "+logVKey+"\nquorum none\n"))

	logAddr := serveLogOverTLS(t, path("server.pem"), path("server-key.pem"), refusedCheckpointLog{})

	// The receiver requires a client certificate of the CA.
	hookTLS, err := tlsfiles.NewServer(tlsfiles.ServerOptions{CertFile: path("server.pem"), KeyFile: path("server-key.pem"), ClientCAFile: path("ca.pem"), ClientCerts: tlsfiles.Require})
	if err != nil {
		t.Fatal(err)
	}
	posted := make(chan string, 10)
	hookLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hook := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		posted <- r.TLS.VerifiedChains[0][0].Subject.CommonName + " " + string(b)
	})}
	go hook.Serve(hookTLS.Listener(hookLis))
	defer hook.Close()
	hookURL := "https://" + hookLis.Addr().String()

	write("monitor.yaml", []byte(`listen: 127.0.0.1:0
admin_listen: "off"
tls: {cert_file: `+path("server.pem")+`, key_file: `+path("server-key.pem")+`}
database: `+path("monitor.db")+`
poll_interval: 100ms
registry_roots: {quorum: 2, keys: [`+path("root-1.vkey")+`, `+path("root-2.vkey")+`]}
webhooks: [`+hookURL+`/alerts]
webhook_tls: {ca_file: `+path("ca.pem")+`, cert_file: `+path("monitor.pem")+`, key_file: `+path("monitor-key.pem")+`}
logs:
  - origin: gov.example/registry
    url: `+logAddr+`
    policy: `+path("policy.txt")+`
    tls: {ca_file: `+path("ca.pem")+`}
`))
	lm, err := loadMonitorConfig(path("monitor.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runMonitor(ctx, lm, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	select {
	case body := <-posted:
		if !strings.HasPrefix(body, "monitor ") || !strings.Contains(body, `"checkpoint_refused"`) {
			t.Errorf("the webhook got %q, want a checkpoint_refused alert from the monitor's certificate", body)
		}
	case err := <-done:
		t.Fatalf("the monitor stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no alert reached the https webhook in 30s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("runMonitor: %v", err)
	}
}

// TestDeployTLSExamplesParse: the tls blocks deploy/*.yaml show commented
// out parse, uncommented, with the fields the daemons know.
func TestDeployTLSExamplesParse(t *testing.T) {
	block := regexp.MustCompile(`(?m)^(\s*)# ((?:tls|peers_tls|webhook_tls|witness_tls):\n(?:\s*#   \w+: .*\n)+)`)
	for _, tc := range []struct {
		file   string
		config any
		blocks int
	}{
		{"govlog.yaml", &serveConfig{}, 1},
		{"govlog-sqlite.yaml", &serveConfig{}, 1},
		{"witness.yaml", &witnessConfig{}, 3},
		{"monitor.yaml", &monitorConfig{}, 3},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("../../deploy", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			found := 0
			uncommented := block.ReplaceAllStringFunc(string(data), func(m string) string {
				found++
				lines := strings.Split(m, "\n")
				for i, l := range lines {
					indent, rest, _ := strings.Cut(l, "# ")
					lines[i] = indent + rest
				}
				return strings.Join(lines, "\n")
			})
			if found != tc.blocks {
				t.Fatalf("found %d commented TLS blocks, want %d", found, tc.blocks)
			}
			path := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(path, []byte(uncommented), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := readConfig(path, tc.config); err != nil {
				t.Fatalf("uncommented: %v", err)
			}
			switch c := tc.config.(type) {
			case *serveConfig:
				if c.TLS == nil || c.TLS.CertFile == "" || c.TLS.KeyFile == "" {
					t.Errorf("no tls block read: %+v", c.TLS)
				}
			case *witnessConfig:
				if c.TLS == nil || c.PeersTLS == nil || c.Logs[1].TLS == nil || c.Logs[1].TLS.CAFile == "" {
					t.Errorf("tls blocks not read: %+v %+v %+v", c.TLS, c.PeersTLS, c.Logs[1].TLS)
				}
			case *monitorConfig:
				if c.TLS == nil || c.WebhookTLS == nil || c.Logs[1].TLS == nil {
					t.Errorf("tls blocks not read: %+v %+v %+v", c.TLS, c.WebhookTLS, c.Logs[1].TLS)
				}
			}
		})
	}
}

// TestMySQLPasswordConnects: a server reaches MariaDB as a user with a
// password that is only in password_file, or only in the environment.
func TestMySQLPasswordConnects(t *testing.T) {
	dsn := mysqltest.DSN(t)
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	user, password := "govlog_pw_"+hex.EncodeToString(b[:]), "pw:"+hex.EncodeToString(b[:])+"@x"
	// Names and password are ours: hex, and characters a DSN must carry.
	for _, q := range []string{
		"CREATE USER '" + user + "'@'%' IDENTIFIED BY '" + password + "'",
		"GRANT ALL ON " + cfg.DBName + ".* TO '" + user + "'@'%'",
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer admin.Exec("DROP USER '" + user + "'@'%'")

	passwordFile := filepath.Join(t.TempDir(), "mysql.password")
	if err := os.WriteFile(passwordFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	userCfg := *cfg
	userCfg.User, userCfg.Passwd = user, ""
	for _, tc := range []struct {
		name, file, env string
		wantErr         bool
	}{
		{name: "password_file", file: passwordFile},
		{name: "environment", env: password},
		{name: "no password", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c serveConfig
			c.MySQL.DSN, c.MySQL.PasswordFile = userCfg.FormatDSN(), tc.file
			full, _, err := c.mysqlDSN(func(string) string { return tc.env })
			if err != nil {
				t.Fatal(err)
			}
			db, err := mysql.Open(t.Context(), full, mysql.Options{})
			if err == nil {
				err = db.PingContext(t.Context())
				db.Close()
			}
			if (err != nil) != tc.wantErr {
				t.Errorf("got %v, want an error: %v", err, tc.wantErr)
			}
		})
	}
}

// TestDevMySQLPassword: dev takes the password from GOVLOG_MYSQL_PASSWORD,
// as serve does, and refuses it twice.
func TestDevMySQLPassword(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == mysqlPasswordEnv {
				return v
			}
			return ""
		}
	}
	if dsn, err := devMySQLDSN("root@tcp(127.0.0.1:3306)/", env("pw")); err != nil || dsn != "root:pw@tcp(127.0.0.1:3306)/" {
		t.Errorf("with the variable: %q, %v", dsn, err)
	}
	if dsn, err := devMySQLDSN("root@tcp(127.0.0.1:3306)/", env("")); err != nil || dsn != "root@tcp(127.0.0.1:3306)/" {
		t.Errorf("without it: %q, %v", dsn, err)
	}
	if _, err := devMySQLDSN("root:inline@tcp(127.0.0.1:3306)/", env("pw")); err == nil || !strings.Contains(err.Error(), "--mysql: ") || strings.Contains(err.Error(), "pw") {
		t.Errorf("two passwords: %v", err)
	}
}

// TestHammerOverTLS: hammer speaks TLS with --ca-file, as the client
// verbs do: the calls reach the server (which implements none of them),
// where plaintext fails at the connection.
func TestHammerOverTLS(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	ca, err := tlsfiles.NewCA("test CA", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := ca.Issue(tlsfiles.Leaf{Name: "server", Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"ca.pem": ca.CertPEM(), "server.pem": cert, "server-key.pem": key} {
		if err := os.WriteFile(path(name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A dev data folder's two files the hammer reads.
	if err := os.MkdirAll(path("keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, "demo-agency")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeKeyFiles(path("keys/demo-agency"), skey, vkey); err != nil {
		t.Fatal(err)
	}
	_, logVKey, err := note.GenerateKey(rand.Reader, "gov.example/disclosures")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path("policy.txt"), []byte("log "+logVKey+"\nquorum none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := serveLogOverTLS(t, path("server.pem"), path("server-key.pem"), struct{ api.UnimplementedLogServer }{})

	hammer := func(extra ...string) string {
		t.Helper()
		cmd := newRootCmd()
		var out strings.Builder
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(append([]string{"hammer", "--server", addr, "--data", dir, "--duration", "1s", "--clients", "1", "--retry-for", "0"}, extra...))
		err := cmd.Execute()
		if err == nil {
			t.Fatalf("hammer %q against a server that implements nothing succeeded:\n%s", extra, out.String())
		}
		return err.Error() + "\n" + out.String()
	}
	got := hammer("--ca-file", path("ca.pem"))
	t.Logf("over TLS: %s", got)
	if !strings.Contains(got, "Unimplemented") {
		t.Errorf("over TLS, the calls did not reach the server:\n%s", got)
	}
	got = hammer()
	t.Logf("plaintext: %s", got)
	if strings.Contains(got, "Unimplemented") {
		t.Errorf("in plaintext, the calls reached a TLS server:\n%s", got)
	}
}
