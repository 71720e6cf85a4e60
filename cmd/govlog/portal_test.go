package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/portal"
)

var updatePortalPNG = flag.Bool("update-portal-png", false, "write the journalist test's screenshot to docs/portal.png")

// TestPortalJournalist walks a journalist's path through the portal of a
// real `govlog dev` (Trillian, every log, three witnesses, SQLite) in
// headless Chromium: search a document by words of its title, open it,
// see its proof verified in the browser; check a file that matches and
// one that does not; read an account's ledger and follow a payment back to
// its allocation; switch to Chinese. The screenshot of the verified
// entry is the README's (go test -run TestPortalJournalist
// -update-portal-png ./cmd/govlog writes docs/portal.png).
func TestPortalJournalist(t *testing.T) {
	browser := portalChromium(t)
	data := t.TempDir()
	addr, httpAddr, adminAddr := "127.0.0.1:17820", "127.0.0.1:17821", "127.0.0.1:17822"
	_, portal := runDev(t, "--data", data, "--listen", addr, "--http", httpAddr, "--admin", adminAddr)

	// An agency publishes a document; the journalist has a copy of it.
	doc := []byte("%PDF-1.7\n2027年城市道路养护预算 Road maintenance budget 2027\n")
	docPath := filepath.Join(t.TempDir(), "budget.pdf")
	otherPath := filepath.Join(t.TempDir(), "budget-altered.pdf")
	if err := os.WriteFile(docPath, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(otherPath, append(doc, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	index := publishDocument(t, data, addr, doc, "2027年城市道路养护预算 Road maintenance budget 2027")
	entryPath := fmt.Sprintf("/entries/disclosures/%d", index)

	bctx := portalBrowser(t, browser)
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	waitProof := func() string {
		t.Helper()
		state, err := chromedp.Run(bctx, chromedp.Poll[string](`(s => s !== "checking" && s)(document.getElementById("proof").dataset.state)`))
		if err != nil {
			t.Fatalf("the proof was never checked: %v", err)
		}
		return state
	}

	// Search by words of the title, in English (the browser's language).
	do(chromedp.Navigate(portal + "/"))
	if got := text("h1"); got != "Search the logs" {
		t.Errorf("home page heading %q, want English", got)
	}
	do(chromedp.SendKeys(chromedp.ID("q"), "maintenance"), chromedp.Click(chromedp.ID("search-go")))
	link := fmt.Sprintf(`a[href="%s"]`, entryPath)
	do(chromedp.WaitVisible(chromedp.CSS(link)))
	if got := text(link); !strings.Contains(got, "Road maintenance budget 2027") {
		t.Errorf("result link reads %q", got)
	}
	do(chromedp.Click(chromedp.CSS(link)), chromedp.WaitVisible(chromedp.ID("proof")))
	if state := waitProof(); state != "verified" {
		t.Fatalf("entry %d: proof %s:\n%s", index, state, text("#proof"))
	}
	if got := text("#proof-status"); !strings.Contains(got, "Verified") || !strings.Contains(got, "cosigned it") {
		t.Errorf("proof status reads %q", got)
	}
	if got := text("main"); !strings.Contains(got, "demo-agency") || !strings.Contains(got, hex.EncodeToString(sha256Of(doc))) {
		t.Errorf("entry page lacks its agency or document hash:\n%s", got)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if *updatePortalPNG {
		if err := os.WriteFile("../../docs/portal.png", shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Check a file that matches, then one that does not: hashed in the
	// browser, looked up through the JSON API.
	do(chromedp.Navigate(portal+"/check"), chromedp.SetUploadFiles(chromedp.ID("file"), []string{docPath}))
	verdict := func() string {
		t.Helper()
		cls, err := chromedp.Run(bctx, chromedp.Poll[string](`(v => v && v.className)(document.getElementById("check-verdict"))`))
		if err != nil {
			t.Fatalf("no verdict: %v", err)
		}
		return cls
	}
	if cls := verdict(); cls != "good" || !strings.Contains(text("#check-result"), "Road maintenance budget 2027") {
		t.Errorf("matching file: verdict %q:\n%s", cls, text("#check-result"))
	}
	do(chromedp.Navigate(portal+"/check"), chromedp.SetUploadFiles(chromedp.ID("file"), []string{otherPath}))
	if cls := verdict(); cls != "bad" || !strings.Contains(text("#check-result"), "No match") {
		t.Errorf("altered file: verdict %q:\n%s", cls, text("#check-result"))
	}

	// Follow the money: the city's budget pays a contractor under a
	// contract; the views ask the funds log itself (its tiles are below
	// /funds/, the views below /money/).
	for _, st := range [][2]string{
		{"funds.account.open", `{"account_id":"city-roads","owner_kind":"agency","owner":"demo-agency","kind":"budget"}`},
		{"funds.account.open", `{"account_id":"acme","owner_kind":"company","owner":"acme-construction","kind":"company"}`},
		{"funds.allocate", `{"allocation_id":"2027-roads","to":"city-roads","amount":1000000,"budget_line":"roads"}`},
		{"funds.contract.register", `{"contract_id":"road-7","kind":"works","payer":"city-roads","payee":"acme","ceiling":500000}`},
		{"funds.transfer", `{"transfer_id":"road-7-1","from":"city-roads","to":"acme","amount":200000,"contract_id":"road-7"}`},
	} {
		submitDemo(t, data, addr, "funds", st[0], st[1])
	}
	do(chromedp.Navigate(portal+"/money/"), chromedp.SendKeys(chromedp.ID("account"), "acme"), chromedp.Submit(chromedp.ID("account")),
		chromedp.WaitVisible(chromedp.ID("ledger-h")))
	if got := text("main"); !strings.Contains(got, "Ledger of acme") || !strings.Contains(got, "2,000.00 CNY") || !strings.Contains(got, "transfer/road-7-1") {
		t.Errorf("acme's ledger:\n%s", got)
	}
	do(chromedp.Click(chromedp.CSS(`a[href^="/money/payment?ref=transfer"]`)), chromedp.WaitVisible(chromedp.ID("path-h")))
	if got := text("main"); !strings.Contains(got, "allocation/2027-roads") || !strings.Contains(got, "10,000.00 CNY") {
		t.Errorf("the payment's path:\n%s", got)
	}
	do(chromedp.Navigate(portal + "/money/account?id=no-such-account"))
	if got := text("main"); !strings.Contains(got, "The funds log could not answer") {
		t.Errorf("funds view of an unknown account:\n%s", got)
	}

	// Switch to Chinese: the choice holds on the next page.
	do(chromedp.Click(chromedp.ID("lang-zh")), chromedp.WaitVisible(chromedp.CSS(`html[lang="zh-CN"]`)))
	if got := text("h1"); got != "资金追踪" {
		t.Errorf("after the switch, heading %q", got)
	}
	do(chromedp.Navigate(portal + entryPath))
	if state := waitProof(); state != "verified" || !strings.Contains(text("#proof-status"), "已验证") {
		t.Errorf("entry in Chinese: %s, %q", state, text("#proof-status"))
	}
}

func sha256Of(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

// portalChromium returns Debian's chromium, or skips t.
func portalChromium(t *testing.T) string {
	t.Helper()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not found (apt-get install chromium to run this test)")
	}
	return browser
}

// portalBrowser starts a headless Chromium that asks for English pages,
// stopped when t ends.
func portalBrowser(t *testing.T, browser string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1000, 900),
		chromedp.Flag("accept-lang", "en-US,en"), chromedp.Flag("lang", "en-US"))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })
	return ctx
}

// runDev runs govlog dev with args until t ends, waits for it to print
// "ready", and returns what it printed so far and after, and the portal's
// URL.
func runDev(t *testing.T, args ...string) (*lockedBuffer, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	cmd := newRootCmd()
	cmd.SetArgs(append([]string{"dev"}, args...))
	cmd.SetOut(out)
	cmd.SetErr(out)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("govlog dev: %v", err)
		}
	})
	return out, waitPortal(t, out, done)
}

// waitPortal waits for dev to print "ready" and returns the portal's URL.
func waitPortal(t *testing.T, out *lockedBuffer, done <-chan error) string {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(out.String(), "\nready\n") {
		select {
		case err := <-done:
			t.Fatalf("govlog dev stopped: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("govlog dev never got ready:\n%s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	m := regexp.MustCompile(`(?m)^portal \(search, check a document, proofs checked in the browser\): (http://\S+)/$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("dev printed no portal address:\n%s", out.String())
	}
	return m[1]
}

// publishDocument submits a disclosure of doc signed by dev's demo agency,
// waits for its bundle, and returns its index.
func publishDocument(t *testing.T, data, addr string, doc []byte, title string) uint64 {
	t.Helper()
	body, err := json.Marshal(map[string]string{"doc_id": "roads-2027-maint", "title": title,
		"sha256": hex.EncodeToString(sha256Of(doc)), "category": "budget", "decision_date": "2026-11-20"})
	if err != nil {
		t.Fatal(err)
	}
	return submitDemo(t, data, addr, "disclosures", "disclosure.publish", string(body))
}

// submitDemo submits a statement of typ with body to log, signed by dev's
// demo agency, waits for its bundle, and returns its index.
func submitDemo(t *testing.T, data, addr, log, typ, body string) uint64 {
	t.Helper()
	signer, err := loadSigner(filepath.Join(data, "keys", "demo-agency.key"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := govlog.NewStatement("gov.example/"+log, typ, time.Now(), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := st.Sign(signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sub, err := c.Submit(ctx, log, signed, true)
	if err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
	b, err := govlog.ParseBundle(sub.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	return b.Index
}

// TestPortalPathsFreeOfLogs: no log is named after a path the portal
// serves below, which its tiles (/<log>/) would hide.
func TestPortalPathsFreeOfLogs(t *testing.T) {
	names := []string{registry.LogName}
	for _, d := range domainList {
		names = append(names, d().Log())
	}
	for _, name := range names {
		if slices.Contains(portal.ReservedNames(), name) {
			t.Errorf("the %s log's tiles would hide the portal's /%s/", name, name)
		}
	}
}
