package main

import (
	"context"
	"database/sql"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/govlog/govlog/storage/mysql/mysqltest"
)

// TestMariaDBRestart runs govlog dev on a MariaDB server of its own (a
// mariadbd started by the test on a data folder of its own, so the
// machine's server, which other tests use, stays up), under a steady load,
// and kills that server with SIGKILL twice, restarting it after a few
// seconds. While it is down Submit answers UNAVAILABLE; afterwards every
// statement that got a receipt or a promise is in the log (the crash
// test's checks, crashLog).
func TestMariaDBRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("MariaDB restart test: about a minute; skipped with -short")
	}
	mysqltest.DSN(t) // skips unless the MySQL tests are on
	mariadbd, err := exec.LookPath("mariadbd")
	if err != nil {
		mariadbd = "/usr/sbin/mariadbd"
	}
	if _, err := os.Stat(mariadbd); err != nil {
		t.Fatalf("the MySQL tests are on, but there is no mariadbd to start a server of the test's own: %v", err)
	}
	begin := time.Now()
	tmp := t.TempDir()
	db := &testMariaDB{t: t, bin: mariadbd, dir: filepath.Join(tmp, "mariadb"), addr: freeAddr(t)}
	db.install()
	db.start()
	t.Cleanup(db.kill)
	admin, err := sql.Open("mysql", "root@tcp("+db.addr+")/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE govlog"); err != nil {
		t.Fatal(err)
	}
	admin.Close()

	bin := filepath.Join(tmp, "govlog")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(tmp, "gl")
	addr := freeAddr(t)
	srv := &crashServer{t: t, bin: bin, args: []string{"dev", "--data", data, "--listen", addr, "--mysql", "root@tcp(" + db.addr + ")/govlog",
		"--mmd", crashMMD.String(), "--sequencer-interval", "50ms"}}
	t.Cleanup(srv.stop)
	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	if err := waitGenesis(addr, filepath.Join(data, "registry.yaml"), time.Minute); err != nil {
		t.Fatal(err)
	}
	c := newCrashLog(t, data, addr)
	seed := uint64(time.Now().UnixNano())
	load := c.startLoad(t, crashWorkers, seed, []string{addr})

	for restart := 1; restart <= 2; restart++ {
		time.Sleep(4 * time.Second)
		db.kill()
		killed := time.Now()
		time.Sleep(time.Second)
		if err := submitUnavailable(c, addr); err != nil {
			t.Errorf("MariaDB down (restart %d): %v", restart, err)
		}
		time.Sleep(2 * time.Second)
		db.start()
		up := time.Now()
		after := c.admittedAfter(load.hard, up, 60*time.Second)
		if after.IsZero() {
			t.Fatalf("nothing admitted within 60s after MariaDB restart %d", restart)
		}
		t.Logf("restart %d: MariaDB down %v; the first statement submitted after it was back was admitted %v later",
			restart, up.Sub(killed).Round(time.Millisecond), after.Sub(up).Round(time.Millisecond))
	}

	load.finish(crashMMD + 10*time.Second)
	fctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	final := c.awaitPromised(fctx, load.readers[0])
	c.checkFinal(fctx, final)
	s := c.summary()
	t.Logf("statements: %d submitted, %d promised, %d bundles; %d failed submissions resolved on resubmission (%d admitted before the failure); final log: %d entries; %v in all",
		s.submitted, s.promised, s.bundled, s.errThenDup+s.errThenNew, s.errThenDup, final.Size, time.Since(begin).Round(time.Millisecond))
	if t.Failed() {
		t.Logf("dev's last output:\n%s", srv.out.tail(4000))
	}
}

// testMariaDB is a MariaDB server of one test's own.
type testMariaDB struct {
	t    *testing.T
	bin  string
	dir  string
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func (m *testMariaDB) install() {
	out, err := exec.Command("mariadb-install-db", "--no-defaults", "--datadir="+filepath.Join(m.dir, "data"),
		"--auth-root-authentication-method=normal", "--skip-test-db", "--user="+currentUser()).CombinedOutput()
	if err != nil {
		m.t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
}

func (m *testMariaDB) start() {
	host, port := splitHostPort(m.t, m.addr)
	m.cmd = exec.Command(m.bin, "--no-defaults", "--datadir="+filepath.Join(m.dir, "data"), "--bind-address="+host, "--port="+port,
		"--socket="+filepath.Join(m.dir, "sock"), "--pid-file="+filepath.Join(m.dir, "pid"), "--user="+currentUser(),
		"--innodb-buffer-pool-size=64M", "--skip-log-bin")
	log, err := os.OpenFile(filepath.Join(m.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		m.t.Fatal(err)
	}
	m.cmd.Stdout, m.cmd.Stderr = log, log
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	m.done = make(chan struct{})
	go func() { m.cmd.Wait(); log.Close(); close(m.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		db, err := sql.Open("mysql", "root@tcp("+m.addr+")/")
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(filepath.Join(m.dir, "server.log"))
			m.t.Fatalf("mariadbd not answering after 60s: %v\n%s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill stops the server with SIGKILL, as a crash would.
func (m *testMariaDB) kill() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	select {
	case <-m.done:
		return
	default:
	}
	m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "root"
}

func splitHostPort(t *testing.T, addr string) (string, string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}
