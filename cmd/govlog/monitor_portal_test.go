package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/portal"
)

// TestMonitorPortal: the monitor of a real `govlog dev` serves the portal
// over its own replay of the logs. A document published to the node is
// found by the monitor's search index (built by its replay) and served
// with a bundle the monitor made at the checkpoint it verified, which the
// Go verifier accepts; in Chromium, a reader searches the monitor's
// portal, opens the entry and sees it verified. The dashboard keeps GET /.
func TestMonitorPortal(t *testing.T) {
	browser := portalChromium(t)
	data := t.TempDir()
	addr, httpAddr, adminAddr, monAddr := "127.0.0.1:17870", "127.0.0.1:17871", "127.0.0.1:17872", "127.0.0.1:17873"
	out, _ := runDev(t, "--data", data, "--listen", addr, "--http", httpAddr, "--admin", adminAddr,
		"--monitor", monAddr, "--witness-ports", "17874,17875,17876")
	mon := "http://" + monAddr
	if !strings.Contains(out.String(), "monitor portal (the portal's pages from the monitor's own verified copy): "+mon+"/portal/\n") {
		t.Errorf("dev does not say where the monitor's portal is:\n%s", out.String())
	}

	doc := []byte("%PDF-1.7\nBridge inspection report 2027, audited copy\n")
	sum := hex.EncodeToString(sha256Of(doc))
	index := publishDocument(t, data, addr, doc, "Bridge inspection report 2027")
	// The city pays a contractor under a contract, in the funds log.
	for _, st := range [][2]string{
		{"funds.account.open", `{"account_id":"city-roads","owner_kind":"agency","owner":"demo-agency","kind":"budget"}`},
		{"funds.account.open", `{"account_id":"acme","owner_kind":"company","owner":"acme-construction","kind":"company"}`},
		{"funds.allocate", `{"allocation_id":"2027-roads","to":"city-roads","amount":1000000,"budget_line":"roads"}`},
		{"funds.contract.register", `{"contract_id":"road-7","kind":"works","payer":"city-roads","payee":"acme","ceiling":500000}`},
		{"funds.transfer", `{"transfer_id":"road-7-1","from":"city-roads","to":"acme","amount":200000,"contract_id":"road-7"}`},
	} {
		submitDemo(t, data, addr, "funds", st[0], st[1])
	}

	// The monitor's replay reaches the entry within a few passes (every
	// 2 seconds under dev): its search by SHA-256 then finds it, proved.
	var page portal.Page
	deadline := time.Now().Add(2 * time.Minute)
	for {
		page = portal.Page{}
		status, body := monitorGet(t, mon+"/api/v1/search?log=disclosures&sha256="+sum)
		if status == http.StatusOK {
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatalf("search answer: %v\n%s", err, body)
			}
		}
		if len(page.Results) > 0 && len(page.Results[0].Bundle) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the monitor's portal never found entry %d (last answer %d %s):\n%s", index, status, body, out.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	r := page.Results[0]
	if len(page.Results) != 1 || r.Index != index || r.Agency != "demo-agency" || r.Title != "Bridge inspection report 2027" {
		t.Fatalf("the monitor found %+v, want entry %d by demo-agency", page.Results, index)
	}
	policyText, err := os.ReadFile(filepath.Join(data, "policy.txt"))
	if err != nil {
		t.Fatal(err)
	}
	policy, err := govlog.ParsePolicy(policyText)
	if err != nil {
		t.Fatal(err)
	}
	vb, err := govlog.VerifyBundle(r.Bundle, policy)
	if err != nil {
		t.Fatalf("the monitor's bundle does not verify: %v\n%s", err, r.Bundle)
	}
	if vb.Index != index || !bytes.Equal(vb.Entry, r.Leaf) || govlog.LeafHash(r.Leaf) != [32]byte(r.LeafHash) {
		t.Fatalf("the monitor's bundle proves entry %d, not the result's %d", vb.Index, index)
	}
	// The bundle is at the checkpoint the monitor verified, which its
	// API lists for the log.
	var logs struct{ Logs []portal.LogInfo }
	status, body := monitorGet(t, mon+"/api/v1/logs")
	if status != http.StatusOK || json.Unmarshal(body, &logs) != nil {
		t.Fatalf("GET /api/v1/logs: %d %s", status, body)
	}
	b, err := govlog.ParseBundle(r.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range logs.Logs {
		if l.Name == "disclosures" {
			found = true
			if vb.Checkpoint.Size > l.Size || (vb.Checkpoint.Size == l.Size && !bytes.Equal(b.Checkpoint, l.Checkpoint)) {
				t.Errorf("the bundle's checkpoint (size %d) is not one the monitor verified (it lists size %d)", vb.Checkpoint.Size, l.Size)
			}
		}
	}
	if !found {
		t.Fatalf("the monitor's portal lists no disclosures log: %s", body)
	}

	// The entry's page, by the API and without JavaScript.
	status, body = monitorGet(t, mon+fmt.Sprintf("/api/v1/entries/disclosures/%d", index))
	if status != http.StatusOK || !bytes.Contains(body, []byte(sum)) {
		t.Fatalf("GET the entry from the monitor: %d %s", status, body)
	}
	// The dashboard keeps its path.
	if status, body := monitorGet(t, mon+"/"); status != http.StatusOK || !bytes.Contains(body, []byte("gov.example/disclosures")) {
		t.Fatalf("the dashboard at /: %d\n%s", status, body)
	}
	// The funds views, answered from the monitor's replay of the funds
	// log once it reaches the transfer (read without JavaScript).
	for {
		status, body = monitorGet(t, mon+"/money/account?id=acme")
		if status == http.StatusOK && bytes.Contains(body, []byte("transfer/road-7-1")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the monitor's ledger of acme never showed the transfer: %d\n%s", status, body)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !bytes.Contains(body, []byte("2,000.00 CNY")) {
		t.Errorf("the monitor's ledger of acme:\n%s", body)
	}
	status, body = monitorGet(t, mon+"/money/payment?ref=transfer/road-7-1")
	if status != http.StatusOK || !bytes.Contains(body, []byte("allocation/2027-roads")) || !bytes.Contains(body, []byte("10,000.00 CNY")) {
		t.Errorf("the monitor's path of the payment: %d\n%s", status, body)
	}

	// In Chromium: search the monitor's portal, open, see it verified.
	bctx := portalBrowser(t, browser)
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	do(chromedp.Navigate(mon+"/portal/"), chromedp.SendKeys(chromedp.ID("q"), "bridge inspection"), chromedp.Click(chromedp.ID("search-go")))
	link := fmt.Sprintf(`a[href="/entries/disclosures/%d"]`, index)
	do(chromedp.WaitVisible(chromedp.CSS(link)), chromedp.Click(chromedp.CSS(link)), chromedp.WaitVisible(chromedp.ID("proof")))
	state, err := chromedp.Run(bctx, chromedp.Poll[string](`(s => s !== "checking" && s)(document.getElementById("proof").dataset.state)`))
	if err != nil {
		t.Fatalf("the proof was never checked: %v", err)
	}
	if state != "verified" {
		text, _ := chromedp.Run(bctx, chromedp.Text(chromedp.ID("proof")))
		t.Fatalf("the monitor's entry page: proof %s:\n%s", state, text)
	}
}

// monitorGet returns the status and body of GET url.
func monitorGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, body
}
