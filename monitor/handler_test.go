package monitor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/registry"
)

// testClock is a settable Options.Now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newServedHarness is a harness whose monitor has a clock and webhooks,
// with its Handler served by an httptest server.
func newServedHarness(t *testing.T, webhooks ...string) (*harness, *testClock, *httptest.Server) {
	t.Helper()
	w := newWorld(t)
	h := &harness{world: w, log: newFakeLog(w.logSigner), store: openStore(t, monitor.Memory)}
	clock := &testClock{now: time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)}
	var err error
	h.mon, err = monitor.New(monitor.Options{
		Logs: []monitor.Log{{
			Name: "disclosures", Origin: testOrigin, Policy: w.policy, Reader: h.log,
			Domain: disclosures.New(), Registry: w.registry,
		}},
		Store: h.store, BatchSize: 20, Now: clock.Now, Webhooks: webhooks,
		OnAlert: func(a monitor.Alert) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.alerts = append(h.alerts, a)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.mon.Handler())
	t.Cleanup(srv.Close)
	return h, clock, srv
}

func get(t *testing.T, url string) (int, string) {
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
	return resp.StatusCode, string(b)
}

func follow(t *testing.T, h *harness) {
	t.Helper()
	if err := h.mon.Follow(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestDashboard(t *testing.T) {
	h, _, srv := newServedHarness(t)
	w := h.world

	code, page := get(t, srv.URL+"/")
	if code != http.StatusOK || !strings.Contains(page, testOrigin) || !strings.Contains(page, "none yet") {
		t.Fatalf("before the first pass: status %d, page:\n%s", code, page)
	}

	// 30 statements: 24 publications, 3 corrections, 3 retractions.
	h.log.append(t, w.statements(t, 30)...)
	follow(t, h)
	_, page = get(t, srv.URL+"/")
	for _, want := range []string{
		`<meta http-equiv="refresh" content="10">`,
		`<code class="origin">` + testOrigin + `</code>`,
		`<td class="tree-size">30</td>`,
		`Ministry of Finance (ministry-of-finance)</td><td class="num">21</td><td class="num">3</td><td class="num">3</td>`,
		"No alerts",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	// An entry signed by a key the registry does not know.
	bad := w.sign(t, w.unknown, disclosures.TypePublish, disclosures.PublishBody{DocID: "forged", Title: "Forged",
		SHA256: strings.Repeat("ab", 32), Category: "decision", DecisionDate: "2026-03-07"})
	h.log.append(t, bad)
	follow(t, h)
	alerts := h.takeAlerts()
	if len(alerts) != 1 || alerts[0].Kind != monitor.KindEntry {
		t.Fatalf("alerts = %+v, want one %s", alerts, monitor.KindEntry)
	}
	id := alerts[0].ID()
	_, page = get(t, srv.URL+"/")
	for _, want := range []string{"entry_refused", `href="alerts/` + id + `"`, "1 alert:", `<td class="tree-size">31</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page after a bad entry lacks %q", want)
		}
	}

	code, body := get(t, srv.URL+"/alerts")
	var list []monitor.AlertJSON
	if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("GET /alerts = %d %v, %s", code, err, body)
	}
	code, body = get(t, srv.URL+"/alerts/"+id)
	var one struct {
		monitor.AlertJSON
		Evidence monitor.Evidence `json:"evidence"`
	}
	if err := json.Unmarshal([]byte(body), &one); code != http.StatusOK || err != nil {
		t.Fatalf("GET /alerts/<id> = %d %v, %s", code, err, body)
	}
	if one.Kind != monitor.KindEntry || one.Index == nil || *one.Index != 30 || string(one.Evidence.Entry) != string(bad) {
		t.Errorf("GET /alerts/<id> = %s", body)
	}
	if code, _ := get(t, srv.URL+"/alerts/0000"); code != http.StatusNotFound {
		t.Errorf("GET /alerts/<unknown id> = %d, want 404", code)
	}
}

func post(t *testing.T, url string, body []byte) int {
	t.Helper()
	resp, err := http.Post(url, "text/plain", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func signPromise(t *testing.T, origin string, leaf []byte, deadline time.Time, seed byte) []byte {
	t.Helper()
	s, _ := newSigner(t, origin, seed)
	signed, err := govlog.Promise{Origin: origin, LeafHash: govlog.LeafHash(leaf), Deadline: deadline}.Sign(s)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestPostPromise(t *testing.T) {
	h, clock, srv := newServedHarness(t)
	deadline := clock.Now().Add(time.Hour)
	good, err := govlog.Promise{Origin: testOrigin, LeafHash: govlog.LeafHash([]byte("x")), Deadline: deadline}.Sign(h.world.logSigner)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body []byte
		want int
	}{
		{"valid", good, http.StatusAccepted},
		{"again", good, http.StatusAccepted},
		{"empty", nil, http.StatusBadRequest},
		{"garbage", []byte("hello\nworld\n"), http.StatusBadRequest},
		{"tampered", []byte(strings.Replace(string(good), fmt.Sprint(deadline.Unix()), fmt.Sprint(deadline.Unix()+1), 1)), http.StatusBadRequest},
		{"other key, same origin", signPromise(t, testOrigin, []byte("x"), deadline, 99), http.StatusBadRequest},
		{"unknown origin", signPromise(t, "other.example/log", []byte("x"), deadline, 98), http.StatusNotFound},
		{"too large", append(append([]byte{}, good...), make([]byte, 1<<20)...), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(t, srv.URL+"/promises", tt.body); got != tt.want {
				t.Errorf("POST /promises = %d, want %d", got, tt.want)
			}
		})
	}
	counts, err := h.store.PromiseCounts(context.Background(), testOrigin)
	if err != nil || len(counts) != 1 || counts[monitor.PromisePending] != 1 {
		t.Errorf("promise counts = %v, %v; want one pending", counts, err)
	}
}

func TestPromiseBroken(t *testing.T) {
	h, clock, srv := newServedHarness(t)
	w := h.world
	leaves := w.statements(t, 12)
	h.log.append(t, leaves[:10]...)
	follow(t, h)

	deadline := clock.Now().Add(time.Hour)
	promise := func(leaf []byte) []byte {
		signed, err := govlog.Promise{Origin: testOrigin, LeafHash: govlog.LeafHash(leaf), Deadline: deadline}.Sign(w.logSigner)
		if err != nil {
			t.Fatal(err)
		}
		if code := post(t, srv.URL+"/promises", signed); code != http.StatusAccepted {
			t.Fatalf("POST /promises = %d", code)
		}
		return signed
	}
	promise(leaves[0])           // already in the log
	promise(leaves[10])          // included before the deadline
	never := promise(leaves[11]) // never included

	follow(t, h)
	h.log.append(t, leaves[10])
	clock.Add(30 * time.Minute)
	follow(t, h)
	if a := h.takeAlerts(); len(a) != 0 {
		t.Fatalf("alerts before the deadline: %+v", a)
	}
	clock.Add(31 * time.Minute)
	follow(t, h)
	follow(t, h)
	alerts := h.takeAlerts()
	if len(alerts) != 1 || alerts[0].Kind != monitor.KindPromiseBroken {
		t.Fatalf("alerts = %+v, want one %s", alerts, monitor.KindPromiseBroken)
	}
	if ev := evidenceOf(t, alerts[0]); string(ev.Promise) != string(never) || len(ev.Checkpoints) != 1 {
		t.Errorf("evidence = %+v, want the promise and the checkpoint", ev)
	}
	counts, err := h.store.PromiseCounts(context.Background(), testOrigin)
	if err != nil || counts[monitor.PromiseKept] != 2 || counts[monitor.PromiseBroken] != 1 || counts[monitor.PromisePending] != 0 {
		t.Errorf("promise counts = %v, %v; want 2 kept, 1 broken", counts, err)
	}
	if _, page := get(t, srv.URL+"/"); !strings.Contains(page, "promise_broken") {
		t.Error("the dashboard does not show the broken promise")
	}
}

func TestPromiseNotJudgedOnUnverifiedLog(t *testing.T) {
	h, clock, srv := newServedHarness(t)
	w := h.world
	leaves := w.statements(t, 5)
	h.log.append(t, leaves[:4]...)
	follow(t, h)
	signed, err := govlog.Promise{Origin: testOrigin, LeafHash: govlog.LeafHash(leaves[4]), Deadline: clock.Now().Add(time.Minute)}.Sign(w.logSigner)
	if err != nil {
		t.Fatal(err)
	}
	if code := post(t, srv.URL+"/promises", signed); code != http.StatusAccepted {
		t.Fatalf("POST /promises = %d", code)
	}
	// The log includes the leaf but serves entries that do not match its
	// checkpoint: the monitor cannot see its tree, so it judges no promise.
	h.log.append(t, leaves[4])
	h.log.swapped = map[uint64][]byte{4: leaves[0]}
	clock.Add(time.Hour)
	follow(t, h)
	for _, a := range h.takeAlerts() {
		if a.Kind != monitor.KindRootMismatch {
			t.Errorf("alert %s, want only %s", a.Kind, monitor.KindRootMismatch)
		}
	}
	counts, _ := h.store.PromiseCounts(context.Background(), testOrigin)
	if counts[monitor.PromisePending] != 1 {
		t.Errorf("promise counts = %v, want it still pending", counts)
	}
}

func TestWebhook(t *testing.T) {
	type delivery struct {
		alert monitor.AlertJSON
		err   error
	}
	got := make(chan delivery, 10)
	var mu sync.Mutex
	calls := 0
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first { // the first attempt fails: it must be retried
			http.Error(rw, "busy", http.StatusServiceUnavailable)
			return
		}
		var a monitor.AlertJSON
		err := json.NewDecoder(r.Body).Decode(&a)
		got <- delivery{a, err}
	}))
	defer hook.Close()
	h, _, _ := newServedHarness(t, hook.URL)
	w := h.world
	h.log.append(t, w.statements(t, 3)...)
	h.log.append(t, w.sign(t, w.revoked, disclosures.TypePublish, disclosures.PublishBody{DocID: "late", Title: "Late",
		SHA256: strings.Repeat("cd", 32), Category: "decision", DecisionDate: "2026-03-07"}))
	start := time.Now()
	follow(t, h)
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Follow took %v: webhooks must not block it", d)
	}
	alerts := h.takeAlerts()
	if len(alerts) != 1 {
		t.Fatalf("alerts = %+v", alerts)
	}
	select {
	case d := <-got:
		if d.err != nil || d.alert.ID != alerts[0].ID() || d.alert.Kind != monitor.KindEntry || d.alert.Index == nil || *d.alert.Index != 3 {
			t.Errorf("webhook got %+v, %v; want alert %s", d.alert, d.err, alerts[0].ID())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("webhook not called")
	}
	h.mon.WaitWebhooks()
}

func TestNewRejectsBadWebhook(t *testing.T) {
	_, err := monitor.New(monitor.Options{Store: openStore(t, monitor.Memory), Webhooks: []string{"ftp://x"}})
	if err == nil {
		t.Error("New accepted a webhook that is not an http(s) URL")
	}
}

// findChromium returns the path of Debian's chromium, or skips t.
func findChromium(t *testing.T) string {
	t.Helper()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if _, err := os.Stat("/usr/bin/chromium"); err != nil {
			t.Skip("chromium not found (apt-get install chromium to run this test)")
		}
		browser = "/usr/bin/chromium"
	}
	return browser
}

// dumpDOM loads url in a headless browser and returns the rendered DOM.
func dumpDOM(t *testing.T, browser, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(), "--dump-dom", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// TestDashboardChromium loads the dashboard in a real headless Chromium
// (Debian's chromium package) and checks the rendered DOM.
func TestDashboardChromium(t *testing.T) {
	browser := findChromium(t)
	h, _, srv := newServedHarness(t)
	w := h.world
	h.log.append(t, w.statements(t, 12)...)
	follow(t, h)

	dom := dumpDOM(t, browser, srv.URL+"/")
	for _, want := range []string{testOrigin, `<td class="tree-size">12</td>`, "Ministry of Finance", "No alerts"} {
		if !strings.Contains(dom, want) {
			t.Errorf("DOM lacks %q:\n%s", want, dom)
		}
	}

	h.log.append(t, w.sign(t, w.unknown, disclosures.TypePublish, disclosures.PublishBody{DocID: "forged", Title: "Forged",
		SHA256: strings.Repeat("ef", 32), Category: "decision", DecisionDate: "2026-03-07"}))
	follow(t, h)
	dom = dumpDOM(t, browser, srv.URL+"/")
	for _, want := range []string{`class="alert-row"`, "entry_refused", "entry 12 refused on replay"} {
		if !strings.Contains(dom, want) {
			t.Errorf("DOM after a bad entry lacks %q:\n%s", want, dom)
		}
	}
}

const fundsDashboardOrigin = "gov.example/funds"

// fundsDashboard is a monitor following a fake funds log, its dashboard
// served, and the keys of two agencies: "city-b" (named in the registry),
// and "mof" (not named).
type fundsDashboard struct {
	log         *fakeLog
	mon         *monitor.Monitor
	srv         *httptest.Server
	bureau, mof note.Signer
	alerts      []monitor.Alert // OnAlert runs inside Follow
	// at is the time of every statement.
	at time.Time
}

func newFundsDashboard(t *testing.T) *fundsDashboard {
	t.Helper()
	logSigner, logVKey := newSigner(t, fundsDashboardOrigin, 51)
	d := &fundsDashboard{log: newFakeLog(logSigner), at: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	var bureauVKey, mofVKey string
	d.bureau, bureauVKey = newSigner(t, "city-b", 52)
	d.mof, mofVKey = newSigner(t, "mof", 53)
	text, err := govlog.FormatPolicy([]string{logVKey}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := govlog.ParsePolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{
		{ID: "city-b", Name: "City B Finance", Roles: []string{funds.RoleFundManager}, Keys: []registry.Key{{VKey: bureauVKey}}},
		{ID: "mof", Roles: []string{funds.RoleTreasury, funds.RoleFundManager}, Keys: []registry.Key{{VKey: mofVKey}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	d.mon, err = monitor.New(monitor.Options{
		Logs: []monitor.Log{{Name: funds.LogName, Origin: fundsDashboardOrigin, Policy: policy, Reader: d.log,
			Domain: funds.New(), Registry: reg}},
		Store:   openStore(t, monitor.Memory),
		OnAlert: func(a monitor.Alert) { d.alerts = append(d.alerts, a) },
	})
	if err != nil {
		t.Fatal(err)
	}
	d.srv = httptest.NewServer(d.mon.Handler())
	t.Cleanup(d.srv.Close)
	return d
}

// add appends statements to the log, which the monitor verifies.
func (d *fundsDashboard) add(t *testing.T, signer note.Signer, typ string, body any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	st, err := govlog.NewStatement(fundsDashboardOrigin, typ, d.at, b)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := st.Sign(signer)
	if err != nil {
		t.Fatal(err)
	}
	d.log.append(t, signed)
}

func (d *fundsDashboard) follow(t *testing.T) {
	t.Helper()
	if err := d.mon.Follow(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// spend opens four accounts, allocates 1,234,567.89 yuan and pays
// 1,000,000.00 of it to a company under a contract.
func (d *fundsDashboard) spend(t *testing.T) {
	t.Helper()
	worker := strings.Repeat("ab", 32) // a commitment
	for _, a := range []struct {
		signer note.Signer
		body   funds.AccountOpenBody
	}{
		{d.bureau, funds.AccountOpenBody{AccountID: "cb:budget", OwnerKind: funds.OwnerAgency, Owner: "city-b", Kind: funds.KindBudget}},
		{d.bureau, funds.AccountOpenBody{AccountID: "cb:acme", OwnerKind: funds.OwnerCompany, Owner: "91110000ACME00001X", Kind: funds.KindCompany}},
		{d.bureau, funds.AccountOpenBody{AccountID: "cb:w-1", OwnerKind: funds.OwnerPerson, Owner: worker, Kind: funds.KindWorker}},
		{d.mof, funds.AccountOpenBody{AccountID: "mof:reserve", OwnerKind: funds.OwnerAgency, Owner: "mof", Kind: funds.KindBudget}},
	} {
		d.add(t, a.signer, funds.TypeAccountOpen, a.body)
	}
	d.add(t, d.mof, funds.TypeAllocate, funds.AllocateBody{AllocationID: "a-1", To: "cb:budget", Amount: 123_456_789, BudgetLine: "roads"})
	d.add(t, d.bureau, funds.TypeContractRegister, funds.ContractRegisterBody{ContractID: "k-1", Kind: funds.ContractWorks,
		Payer: "cb:budget", Payee: "cb:acme", Ceiling: 200_000_000})
	d.add(t, d.bureau, funds.TypeTransfer, funds.TransferBody{TransferID: "t-1", From: "cb:budget", To: "cb:acme", Amount: 100_000_000, ContractID: "k-1"})
}

// TestDashboardFunds: a funds log's dashboard shows the total allocated and
// every account of the verified replayed state, with its kind, owner,
// controller and balance in yuan.
func TestDashboardFunds(t *testing.T) {
	d := newFundsDashboard(t)
	_, page := get(t, d.srv.URL+"/")
	if !strings.Contains(page, "none yet") || !strings.Contains(page, "No accounts opened yet.") {
		t.Errorf("before the first pass, the page lacks the empty funds summary:\n%s", page)
	}

	d.spend(t)
	d.follow(t)
	_, page = get(t, d.srv.URL+"/")
	for _, want := range []string{
		`<td class="tree-size">7</td>`,
		`<tr><td class="num">1,234,567.89 CNY</td><td class="num">1</td></tr>`,
		`<tr><td>cb:acme</td><td>company</td><td>company</td><td>91110000ACME00001X</td><td>City B Finance (city-b)</td><td class="num">1,000,000.00 CNY</td></tr>`,
		`<tr><td>cb:budget</td><td>budget</td><td>agency</td><td>City B Finance (city-b)</td><td>City B Finance (city-b)</td><td class="num">234,567.89 CNY</td></tr>`,
		`<tr><td>cb:w-1</td><td>worker</td><td>person</td><td>a person, not named in the log</td><td>City B Finance (city-b)</td><td class="num">0.00 CNY</td></tr>`,
		`<tr><td>mof:reserve</td><td>budget</td><td>agency</td><td>mof</td><td>mof</td><td class="num">0.00 CNY</td></tr>`,
		`<tfoot><tr><th scope="row">All accounts</th><td></td><td></td><td></td><td></td><td class="num">1,234,567.89 CNY</td></tr></tfoot>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", page)
	}

	if len(d.alerts) != 0 {
		t.Fatalf("alerts on an honest log: %+v", d.alerts)
	}

	// An overspending transfer in the log: the monitor refuses it on
	// replay, so no balance moves, and the page shows the alert.
	d.add(t, d.bureau, funds.TypeTransfer, funds.TransferBody{TransferID: "t-2", From: "cb:budget", To: "cb:acme", Amount: 100_000_000, ContractID: "k-1"})
	d.follow(t)
	if len(d.alerts) != 1 || d.alerts[0].Kind != monitor.KindEntry {
		t.Fatalf("alerts = %+v, want one %s", d.alerts, monitor.KindEntry)
	}
	_, page = get(t, d.srv.URL+"/")
	for _, want := range []string{
		`<td class="tree-size">8</td>`,
		"balance too low",
		`<td class="num">234,567.89 CNY</td>`,
		`<td class="num">1,000,000.00 CNY</td>`,
		`<tr><td class="num">1,234,567.89 CNY</td><td class="num">1</td></tr>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page after a refused transfer lacks %s", want)
		}
	}
}

// TestDashboardFundsChromium checks the funds summary as a browser renders
// it.
func TestDashboardFundsChromium(t *testing.T) {
	browser := findChromium(t)
	d := newFundsDashboard(t)
	d.spend(t)
	d.follow(t)
	dom := dumpDOM(t, browser, d.srv.URL+"/")
	for _, want := range []string{
		"Public money",
		`<tr><td class="num">1,234,567.89 CNY</td><td class="num">1</td></tr>`,
		`<td class="num">234,567.89 CNY</td>`,
		"a person, not named in the log",
		"No alerts",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("DOM lacks %q:\n%s", want, dom)
		}
	}
}

// TestSecurityHeaders: every page and API answer tells the browser to run
// nothing the dashboard did not ship, not to frame it, and not to sniff.
func TestSecurityHeaders(t *testing.T) {
	_, _, srv := newServedHarness(t)
	for _, path := range []string{"/", "/alerts", "/notifications", "/no-such-page"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for k, want := range map[string]string{
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": "default-src 'none'",
		} {
			if got := resp.Header.Get(k); !strings.Contains(got, want) {
				t.Errorf("GET %s: %s = %q, want %q", path, k, got, want)
			}
		}
	}
}
