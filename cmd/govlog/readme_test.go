package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
)

// TestREADMEWalkthrough runs the README's walkthrough blocks as written,
// one after the other in one bash, against a dev server started from the
// real binary. Only the data folder and the port are moved, so that it can
// run beside other tests.
func TestREADMEWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := walkthroughBlocks(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	block := strings.Join(blocks, "\n")

	tmp := t.TempDir()
	addr, httpAddr := freeAddr(t), freeAddr(t)
	script := strings.NewReplacer("/tmp/gl", filepath.Join(tmp, "gl"), "127.0.0.1:7000", addr, "127.0.0.1:7080", httpAddr).Replace(block)

	bin := filepath.Join(tmp, "govlog")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dev := exec.CommandContext(ctx, bin, "dev", "--data", filepath.Join(tmp, "gl"), "--listen", addr, "--http", httpAddr)
	var devOut lockedBuffer
	dev.Stdout, dev.Stderr = &devOut, &devOut
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); dev.Wait() }()
	waitReady(t, &devOut, addr)
	if err := waitGenesis(addr, filepath.Join(tmp, "gl", "registry.yaml"), time.Minute); err != nil {
		t.Fatalf("%v\ndev server:\n%s", err, devOut.String())
	}

	sh := exec.Command("bash", "-euo", "pipefail", "-c", script)
	sh.Dir = "../.." // the repository root, where the README says to be
	out, err := sh.CombinedOutput()
	t.Logf("walkthrough output:\n%s", out)
	if err != nil {
		t.Fatalf("walkthrough failed: %v\ndev server:\n%s", err, devOut.String())
	}
	for _, want := range []string{
		// Entry 0 of each log is its registry view entry.
		"included: gov.example/disclosures entry 1",
		"OK: entry 1 of gov.example/disclosures is in the log, proved at tree size 2",
		// The read path over HTTP: the same proof from the tiles.
		"bundle written to tiles.bundle",
		"signature: valid, by demo-0001, demo-agency",
		"authorized: demo-agency held the role discloser at ",
		"official: demo-0001, a registered official of demo-agency, co-signed",
		"OK: gov.example/disclosures at size 2, signed by the log",
		"wrote ministry-of-finance.key",
		"included: gov.example/funds entry 5",
		"OK: entry 5 of gov.example/funds is in the log",
		"FailedPrecondition desc = rule violation: contract ceiling exceeded",
		"refused, as it must be",
		"account acme: company account of company acme-construction, controlled by demo-agency",
		"balance: 2,000.00 CNY after 1 ledger line",
		"verified: 2 entries proved in gov.example/funds",
		"transfer/road-7-1: transfer of 2,000.00 CNY, city-roads → acme, contract road-7",
		"  ← 2,000.00 CNY from allocation/2027-roads: allocation of 10,000.00 CNY",
		"verified: 3 entries proved in gov.example/funds",
		// Approvals, decided by the log, and a payment that needs one.
		"application stall-0001",
		"returned",
		"refused: no official signed",
		"1 would change",
		"refused: no approved application yet",
		"OK: entry",
		// Donations, traced to their recipients.
		"refused: only 50.00 CNY of gift-1 is left",
		"the recipient confirmed it in full",
		"verified offline",
		"Campaign flood-relief: Flood relief",
		// Votes: tokens, ballots, the log's tally recounted.
		"refused: one token per voter",
		"refused: that token has voted",
		"MATCHES the log's tally",
		"OK: entry",
		// Identity: a diploma, one attribute disclosed, an access, a withdrawal.
		"OK: credential dip-1 (diploma, issued by demo-agency on 2024-07-01) says degree = BSc Chemistry",
		"demo-agency checked diploma dip-1 for hiring",
		"refused: the grant was withdrawn",
		// The registry log, live.
		"refused: one root key is not a quorum",
		"refused: the old key is retired",
		"refused: signed by a key revoked for compromise",
		"REVOKED (entry ",
		"retired (entry ",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("walkthrough output lacks %q", want)
		}
	}
	checkDevMonitor(t, devOut.String(), filepath.Join(tmp, "gl", "policy.txt"), addr)
}

// checkDevMonitor waits until dev's monitor has verified every log up to
// its latest checkpoint, and checks that its replay refused nothing: every
// rule the walkthrough went through, re-run by the monitor, agrees.
func checkDevMonitor(t *testing.T, devOut, policyPath, addr string) {
	t.Helper()
	m := regexp.MustCompile(`monitor dashboard: (\S+)/`).FindStringSubmatch(devOut)
	if m == nil {
		t.Fatalf("dev printed no monitor address:\n%s", devOut)
	}
	text, err := os.ReadFile(policyPath)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := govlog.ParsePolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	logs := domainNames()
	sizes := map[string]uint64{}
	for _, l := range logs {
		signed, err := c.Checkpoint(t.Context(), l)
		if err != nil {
			t.Fatal(err)
		}
		cp, _, err := policy.Verify(signed)
		if err != nil {
			t.Fatal(err)
		}
		sizes[cp.Origin] = cp.Size
	}
	verified := func(page, origin string) uint64 {
		_, section, ok := strings.Cut(page, "<h3>"+origin+"</h3>")
		if !ok {
			return 0
		}
		v := regexp.MustCompile(`class="tree-size">(\d+)<`).FindStringSubmatch(section)
		if v == nil {
			return 0
		}
		n, _ := strconv.ParseUint(v[1], 10, 64)
		return n
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		page := httpBody(t, m[1]+"/")
		caughtUp := true
		for origin, size := range sizes {
			caughtUp = caughtUp && verified(page, origin) >= size
		}
		if caughtUp {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev's monitor did not verify the logs up to %v in time", sizes)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("dev's monitor verified %v", sizes)
	alerts := httpBody(t, m[1]+"/alerts")
	for _, kind := range []string{"entry_refused", "deadline_missed", "scheduled_overdue", "root_mismatch", "inconsistent_checkpoints"} {
		if strings.Contains(alerts, `"kind": "`+kind+`"`) {
			t.Errorf("dev's monitor raised %s:\n%s", kind, alerts)
		}
	}
}

func httpBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lockedBuffer is a bytes.Buffer a process writes while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// walkthroughBlocks returns the shell of every <!-- walkthrough --> block
// of the README, in order.
func walkthroughBlocks(readme string) ([]string, error) {
	var blocks []string
	for {
		_, rest, ok := strings.Cut(readme, "<!-- walkthrough -->")
		if !ok {
			break
		}
		block, after, ok := strings.Cut(rest, "<!-- /walkthrough -->")
		if !ok {
			return nil, errors.New("README.md has a <!-- walkthrough --> block that does not end")
		}
		block = strings.TrimSpace(block)
		block = strings.TrimPrefix(block, "```sh")
		block = strings.TrimSuffix(block, "```")
		blocks = append(blocks, block)
		readme = after
	}
	if len(blocks) == 0 {
		return nil, errors.New("README.md has no <!-- walkthrough --> block")
	}
	return blocks, nil
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitReady waits for the dev server to print "ready".
func waitReady(t *testing.T, out *lockedBuffer, addr string) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("dev server never listened on %s:\n%s", addr, out.String())
}
