package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/storage/mysql/mysqltest"
)

// The failover test's shape.
const (
	failoverServers = 3
	failoverKills   = 6
	failoverLive    = 3 * time.Second // between kills, after the last restart
)

// TestFailover runs three govlog serve processes on one MariaDB database,
// elected through etcd (embedded here), three witness processes, and a
// load through all three servers, and kills the elected process with
// SIGKILL again and again, restarting it each time as a follower. Then,
// from what clients saw (the crash test's checks, crashLog): every
// statement that got a receipt or a promise is in the log, a promised one
// within the MMD; no index held two entries; no statement is in the log
// twice; every checkpoint any server served is consistent with the final
// one and verifies against the witnesses' policy (so the witnesses
// cosigned one history). It reports the time from each kill to the next
// statement admitted.
func TestFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("failover test: about a minute; skipped with -short")
	}
	begin := time.Now()
	cl := startCluster(t, failoverServers)
	data, etcdServer, serveAddrs, servers, witnesses := cl.data, cl.etcd, cl.serveAddrs, cl.servers, cl.witnesses
	defer func() {
		if t.Failed() {
			for i, s := range servers {
				t.Logf("server %d's last output:\n%s", i+1, s.out.tail(3000))
			}
			for i, s := range witnesses {
				t.Logf("witness %d's last output:\n%s", i+1, s.out.tail(1500))
			}
		}
	}()
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{etcdServer.url}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	leader := func() int {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			resp, err := etcd.Get(ctx, "/govlog/leader/", clientv3.WithFirstCreate()...)
			cancel()
			if err == nil && len(resp.Kvs) == 1 {
				if i := slices.Index(serveAddrs, string(resp.Kvs[0].Value)); i >= 0 {
					return i
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatal("no serve process elected within 30s")
		return -1
	}
	started := time.Now()

	c := newCrashLog(t, data, serveAddrs[0])
	c.addrs = serveAddrs
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	load := c.startLoad(t, 2*failoverServers, seed, serveAddrs)

	// The kills: each time the elected process, found in etcd.
	var failovers []time.Duration
	for kill := 1; kill <= failoverKills; kill++ {
		time.Sleep(failoverLive + time.Duration(rng.Int64N(int64(time.Second))))
		i := leader()
		killed := time.Now()
		if err := servers[i].kill(); err != nil {
			t.Fatal(err)
		}
		c.noteKill(kill, i+1, time.Since(begin))
		after := c.admittedAfter(load.hard, killed, 60*time.Second)
		if after.IsZero() {
			t.Fatalf("kill %d (server %d): nothing admitted within 60s after it", kill, i+1)
		}
		failovers = append(failovers, after.Sub(killed))
		if err := servers[i].start(); err != nil {
			t.Fatalf("restart of server %d after kill %d: %v", i+1, kill, err)
		}
	}
	killsDone := time.Now()

	// etcd goes down: every server still serves reads; Submit answers
	// UNAVAILABLE once the elected process's lease ran out (the workers
	// retry the same bytes), and admits again once etcd is back.
	etcdServer.stop()
	etcdDown := time.Now()
	time.Sleep(4 * time.Second) // twice the lease
	for i, addr := range serveAddrs {
		if err := checkReads(addr); err != nil {
			t.Errorf("server %d with etcd down: %v", i+1, err)
		}
		if err := submitUnavailable(c, addr); err != nil {
			t.Errorf("server %d with etcd down: %v", i+1, err)
		}
	}
	etcdServer.start()
	back := time.Now()
	after := c.admittedAfter(load.hard, back, 60*time.Second)
	if after.IsZero() {
		t.Fatal("nothing admitted within 60s after etcd came back")
	}
	t.Logf("etcd down for %v: reads served and Submit UNAVAILABLE on all %d servers; the first statement submitted after etcd came back was admitted %v later",
		back.Sub(etcdDown).Round(time.Millisecond), failoverServers, after.Sub(back).Round(time.Millisecond))

	load.finish(crashMMD + 10*time.Second)
	fctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The final checkpoint, and the entries it holds, from the elected
	// server: another may not have followed it there yet.
	last := leader()
	final := c.awaitPromised(fctx, load.readers[last])
	c.addr = serveAddrs[last]
	c.checkFinal(fctx, final)
	for _, s := range append(servers, witnesses...) {
		s.scanOutputs()
	}

	slices.Sort(failovers)
	s := c.summary()
	t.Logf("%d kills of the elected process: from the kill to the next statement admitted: median %v, worst %v (all: %v)",
		failoverKills, failovers[len(failovers)/2].Round(time.Millisecond), failovers[len(failovers)-1].Round(time.Millisecond), roundAll(failovers))
	t.Logf("statements: %d submitted, %d promised, %d bundles; %d failed submissions resolved on resubmission; final log: %d entries, %d distinct checkpoints seen",
		s.submitted, s.promised, s.bundled, s.errThenDup+s.errThenNew, final.Size, s.checkpoints)
	t.Logf("time: %v total (setup %v, kills %v, final checks %v)", time.Since(begin).Round(time.Millisecond),
		started.Sub(begin).Round(time.Millisecond), killsDone.Sub(started).Round(time.Millisecond), time.Since(killsDone).Round(time.Millisecond))
	if t.Failed() {
		t.Logf("kill timeline: %s", strings.Join(c.kills, "; "))
	}
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

// admittedAfter waits until a statement first submitted after t is
// answered (a promise or a bundle, not a duplicate), and returns when it
// was; zero if none within limit.
func (c *crashLog) admittedAfter(ctx context.Context, t time.Time, limit time.Duration) time.Time {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		c.mu.Lock()
		var first time.Time
		for _, s := range c.stmts {
			if s.resolved && !s.duplicate && s.first.After(t) && (first.IsZero() || s.answeredAt.Before(first)) {
				first = s.answeredAt
			}
		}
		c.mu.Unlock()
		if !first.IsZero() {
			return first
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Time{}
}

// testEtcd is an embedded etcd server, which a test may stop and start
// again (same data, same ports).
type testEtcd struct {
	t   testing.TB
	cfg *embed.Config
	e   *embed.Etcd
	url string
}

// startEtcd starts an embedded etcd server for the test.
func startEtcd(t testing.TB, dir string) *testEtcd {
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.LogLevel = "error"
	client, err := url.Parse("http://" + freeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	peer, err := url.Parse("http://" + freeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	e := &testEtcd{t: t, cfg: cfg, url: client.String()}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *testEtcd) start() {
	var err error
	if e.e, err = embed.StartEtcd(e.cfg); err != nil {
		e.t.Fatal(err)
	}
	select {
	case <-e.e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.t.Fatal("embedded etcd not ready after 30s")
	}
}

func (e *testEtcd) stop() {
	if e.e != nil {
		e.e.Close()
		e.e = nil
	}
}

// waitCheckpoint waits until the server at addr serves a checkpoint of log.
func waitCheckpoint(addr, log string, limit time.Duration) error {
	cl, err := client.Dial(addr)
	if err != nil {
		return err
	}
	defer cl.Close()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := cl.Checkpoint(ctx, log)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no checkpoint of %s after %v: %w", log, limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkReads reads the latest checkpoint and its last entry from addr.
func checkReads(addr string) error {
	cl, err := client.Dial(addr)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	signed, err := cl.Checkpoint(ctx, crashLogName)
	if err != nil {
		return fmt.Errorf("reading the checkpoint: %w", err)
	}
	cp, err := govlog.ParseCheckpoint(signed[:bytes.Index(signed, []byte("\n\n"))+1])
	if err != nil {
		return err
	}
	if _, err := cl.Entries(ctx, crashLogName, cp.Size-1, 1); err != nil {
		return fmt.Errorf("reading entry %d: %w", cp.Size-1, err)
	}
	return nil
}

// submitUnavailable submits a fresh statement to addr and wants
// UNAVAILABLE; the statement is then one the workers never sent, so it is
// left out of the log's checks (it must not be admitted).
func submitUnavailable(c *crashLog, addr string) error {
	s := c.newStatement(99, int(time.Now().UnixNano()), false)
	cl, err := client.Dial(addr)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = cl.Submit(ctx, crashLogName, s.leaf, false)
	if status.Code(err) != codes.Unavailable {
		return fmt.Errorf("Submit answered %v, want UNAVAILABLE", err)
	}
	return nil
}

// cluster is a deployment on one MariaDB database prepared by govlog dev:
// etcd (embedded), three witness processes, and n serve processes elected
// through etcd.
type cluster struct {
	data               string
	etcd               *testEtcd
	logs, origins      []string
	serveAddrs         []string
	servers, witnesses []*crashServer
}

// startCluster starts a cluster of n serve processes and waits until each
// serves a checkpoint of the disclosures log.
func startCluster(t testing.TB, n int) *cluster {
	dsn := mysqltest.DSN(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "govlog")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	etcdServer := startEtcd(t, filepath.Join(tmp, "etcd"))
	etcdURL := etcdServer.url

	// dev prepares the deployment, as deploy/longrun does: keys, the
	// registry genesis in the database, the witnesses' keys and policy.
	data := filepath.Join(tmp, "gl")
	devAddr := freeAddr(t)
	dev := &crashServer{t: t, bin: bin, args: []string{"dev", "--data", data, "--mysql", dsn, "--listen", devAddr}}
	if err := dev.start(); err != nil {
		t.Fatal(err)
	}
	if err := waitGenesis(devAddr, filepath.Join(data, "registry.yaml"), time.Minute); err != nil {
		dev.stop()
		t.Fatal(err)
	}
	var logs, origins []string
	for line := range strings.Lines(dev.out.String()) {
		var name, origin string
		if n, _ := fmt.Sscanf(line, "log %s origin %s", &name, &origin); n == 2 {
			logs, origins = append(logs, strings.TrimSuffix(name, ":")), append(origins, strings.TrimSuffix(origin, ","))
		}
	}
	dev.stop()
	if !slices.Contains(logs, crashLogName) {
		t.Fatalf("dev named no %s log:\n%s", crashLogName, dev.out.tail(3000))
	}

	serveAddrs := make([]string, n)
	for i := range serveAddrs {
		serveAddrs[i] = freeAddr(t)
	}
	witnessAddrs := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	policy, err := os.ReadFile(filepath.Join(data, "policy.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var withURLs strings.Builder
	for line := range strings.Lines(string(policy)) {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "witness" {
			// dev's witnesses' URLs, replaced by this test's.
			var n int
			fmt.Sscanf(f[1], "witness-%d", &n)
			line = fmt.Sprintf("%s %s %s http://%s\n", f[0], f[1], f[2], witnessAddrs[n-1])
		}
		withURLs.WriteString(line)
	}
	policyPath := filepath.Join(tmp, "policy.txt")
	if err := os.WriteFile(policyPath, []byte(withURLs.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// The test reads bundles and checkpoints with the same policy.
	if err := os.WriteFile(filepath.Join(data, "policy.txt"), []byte(withURLs.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	var witnesses []*crashServer
	for w, addr := range witnessAddrs {
		var cfg strings.Builder
		fmt.Fprintf(&cfg, "listen: %s\nadmin_listen: off\nkey: %s\ndatabase: %s\npoll_interval: 5s\nlogs:\n", addr,
			filepath.Join(data, "keys", fmt.Sprintf("witness-%d.key", w+1)), filepath.Join(tmp, fmt.Sprintf("witness-%d.db", w+1)))
		for i, name := range logs {
			fmt.Fprintf(&cfg, "  - {origin: %s, vkey: %s, url: '%s', name: %s}\n", origins[i],
				filepath.Join(data, "keys", "log-"+name+".vkey"), serveAddrs[w%n], name)
		}
		path := filepath.Join(tmp, fmt.Sprintf("witness-%d.yaml", w+1))
		if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		ws := &crashServer{t: t, bin: bin, args: []string{"witness", "-c", path}, ready: `msg="witness serving"`}
		t.Cleanup(ws.stop)
		if err := ws.start(); err != nil {
			t.Fatal(err)
		}
		witnesses = append(witnesses, ws)
	}

	servers := make([]*crashServer, n)
	for i, addr := range serveAddrs {
		var cfg strings.Builder
		fmt.Fprintf(&cfg, "listen: %s\nhttp_listen: off\nadmin_listen: off\nstorage: mysql\nmysql: {dsn: '%s'}\nregistry: %s\n", addr, dsn, filepath.Join(data, "registry.yaml"))
		fmt.Fprintf(&cfg, "registry_roots:\n  quorum: 2\n  keys: [%s, %s, %s]\n", filepath.Join(data, "keys", "root-1.vkey"),
			filepath.Join(data, "keys", "root-2.vkey"), filepath.Join(data, "keys", "root-3.vkey"))
		fmt.Fprintf(&cfg, "policy: %s\nsequencer_interval: 50ms\nmmd: %s\ncheckpoint_dir: %s\ntiles_dir: %s\n", policyPath, crashMMD,
			filepath.Join(tmp, fmt.Sprintf("serve-%d", i+1), "checkpoints"), filepath.Join(tmp, fmt.Sprintf("serve-%d", i+1), "tiles"))
		cfg.WriteString("agency_quota: {off: true}\naddress_quota: {off: true}\n")
		fmt.Fprintf(&cfg, "election: {etcd: ['%s'], advertise: '%s', ttl: 2s}\nlogs:\n", etcdURL, addr)
		for j, name := range logs {
			fmt.Fprintf(&cfg, "  - name: %s\n    origin: %s\n    key: %s\n", name, origins[j], filepath.Join(data, "keys", "log-"+name+".key"))
			if rk := filepath.Join(data, "keys", name+"-rules.key"); fileExists(rk) {
				fmt.Fprintf(&cfg, "    rule_key: %s\n", rk)
			}
		}
		path := filepath.Join(tmp, fmt.Sprintf("serve-%d.yaml", i+1))
		if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		servers[i] = &crashServer{t: t, bin: bin, args: []string{"serve", "-c", path}, ready: "msg=serving"}
		t.Cleanup(servers[i].stop)
		if err := servers[i].start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, addr := range serveAddrs {
		if err := waitCheckpoint(addr, crashLogName, time.Minute); err != nil {
			t.Fatalf("server %s: %v", addr, err)
		}
	}
	return &cluster{data: data, etcd: etcdServer, logs: logs, origins: origins,
		serveAddrs: serveAddrs, servers: servers, witnesses: witnesses}
}

// stop stops every process of the cluster, and etcd.
func (c *cluster) stop() {
	for _, s := range append(c.servers, c.witnesses...) {
		s.stop()
	}
	c.etcd.stop()
}
