package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/portal"
)

// TestSearchAPI searches a real `govlog dev` (Trillian, every log, three
// witnesses, SQLite) through its JSON read API: a document published and
// then corrected is found by words of its Chinese and English title, by
// its SHA-256 and doc_id, by agency, type and time; each result's bundle
// verifies offline against dev's witness policy with govlog's own
// verifier; the entry shows its correction; bad parameters get 400 and
// unknown logs and entries 404.
func TestSearchAPI(t *testing.T) {
	data := t.TempDir()
	addr, httpAddr, adminAddr := "127.0.0.1:17810", "127.0.0.1:17811", "127.0.0.1:17812"
	runDev(t, "--data", data, "--listen", addr, "--http", httpAddr, "--admin", adminAddr)
	policyText, err := os.ReadFile(filepath.Join(data, "policy.txt"))
	if err != nil {
		t.Fatal(err)
	}
	policy, err := govlog.ParsePolicy(policyText)
	if err != nil {
		t.Fatal(err)
	}

	doc, fixed := []byte("2027年道路养护预算 v1"), []byte("2027年道路养护预算 v2")
	published := submitDisclosure(t, data, addr, "disclosure.publish", map[string]string{"doc_id": "roads-2027", "title": "2027年道路养护预算 Road budget",
		"sha256": sha256Hex(doc), "category": "budget", "decision_date": "2026-11-20"})
	corrected := submitDisclosure(t, data, addr, "disclosure.correct", map[string]string{"doc_id": "roads-2027-v2", "corrects": "roads-2027",
		"title": "2027年道路养护预算（更正） Road budget, corrected", "sha256": sha256Hex(fixed), "category": "budget", "decision_date": "2026-11-21",
		"reason": "table 2 misprinted"})

	api := "http://" + httpAddr + "/api/v1/"
	search := func(params string) portal.Page {
		t.Helper()
		var page portal.Page
		if code := getJSON(t, api+"search?log=disclosures&"+params, &page); code != 200 {
			t.Fatalf("search %s: %d", params, code)
		}
		for _, r := range page.Results {
			if r.Pending {
				t.Fatalf("search %s: entry %d pending, though its bundle was returned at submission", params, r.Index)
			}
			v, err := govlog.VerifyBundle(r.Bundle, policy)
			if err != nil {
				t.Fatalf("search %s: entry %d's bundle: %v", params, r.Index, err)
			}
			if v.Index != r.Index || string(v.Entry) != string(r.Leaf) || govlog.LeafHash(r.Leaf) != [32]byte(r.LeafHash) {
				t.Fatalf("search %s: the bundle proves entry %d, the result says %d (or another leaf)", params, v.Index, r.Index)
			}
		}
		return page
	}
	indexes := func(p portal.Page) string {
		var s []string
		for _, r := range p.Results {
			s = append(s, fmt.Sprint(r.Index))
		}
		return strings.Join(s, ",")
	}
	both := fmt.Sprintf("%d,%d", corrected, published)
	// The index follows the log: both entries are found within a poll of
	// the checkpoint that includes them.
	for deadline := time.Now().Add(30 * time.Second); indexes(search("id=roads-2027")) != both; {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s the index finds %q for id=roads-2027, want %q", indexes(search("id=roads-2027")), both)
		}
		time.Sleep(20 * time.Millisecond)
	}
	day := time.Now().UTC().Format(time.DateOnly)
	for _, tt := range []struct{ params, want string }{
		{"q=" + url.QueryEscape("养护预算"), both},
		{"q=" + url.QueryEscape("更正"), fmt.Sprint(corrected)},
		{"q=ROAD+budget", both},
		{"q=corrected&type=disclosure.correct", fmt.Sprint(corrected)},
		{"sha256=" + strings.ToUpper(sha256Hex(doc)), fmt.Sprint(published)},
		{"id=roads-2027", both},
		{"agency=demo-agency&type=disclosure.publish&q=road", fmt.Sprint(published)},
		{"agency=nobody&q=road", ""},
		{"from=" + day + "&to=" + day + "&q=road", both},
		{"to=2020-01-01&q=road", ""},
		{"q=road&limit=1&cursor=" + fmt.Sprint(corrected), fmt.Sprint(published)},
	} {
		if got := indexes(search(tt.params)); got != tt.want {
			t.Errorf("search %s: entries %q, want %q", tt.params, got, tt.want)
		}
	}
	first := search("q=road&limit=1")
	if len(first.Results) != 1 || first.Next != fmt.Sprint(corrected) {
		t.Errorf("first page of one: %s, next %q", indexes(first), first.Next)
	}
	r := first.Results[0]
	if r.Agency != "demo-agency" || r.Type != "disclosure.correct" || !strings.HasPrefix(r.Title, "2027年道路养护预算（更正）") || !strings.Contains(string(r.Body), `"corrects":"roads-2027"`) {
		t.Errorf("result %+v", r)
	}

	var e portal.Entry
	if code := getJSON(t, fmt.Sprintf("%sentries/disclosures/%d", api, published), &e); code != 200 {
		t.Fatalf("entry %d: %d", published, code)
	}
	if _, err := govlog.VerifyBundle(e.Bundle, policy); err != nil || e.Index != published {
		t.Errorf("entry %d: bundle %v", published, err)
	}
	if want := (portal.Relation{Kind: portal.CorrectedBy, ID: "roads-2027", Index: corrected, Found: true}); len(e.Relations) != 1 || e.Relations[0] != want {
		t.Errorf("entry %d relations %+v, want %+v", published, e.Relations, want)
	}
	getJSON(t, fmt.Sprintf("%sentries/disclosures/%d", api, corrected), &e)
	if want := (portal.Relation{Kind: portal.Corrects, ID: "roads-2027", Index: published, Found: true}); len(e.Relations) != 1 || e.Relations[0] != want {
		t.Errorf("entry %d relations %+v, want %+v", corrected, e.Relations, want)
	}
	// The registry log's entries are indexed too: the genesis, by type.
	var reg portal.Page
	if code := getJSON(t, api+"search?log=registry&limit=100", &reg); code != 200 || len(reg.Results) == 0 {
		t.Errorf("registry search: %d, %d entries", code, len(reg.Results))
	}

	var logs struct{ Logs []portal.LogInfo }
	if code := getJSON(t, api+"logs", &logs); code != 200 || len(logs.Logs) < 2 {
		t.Fatalf("logs: %d %+v", code, logs)
	}
	for _, l := range logs.Logs {
		if l.Name == "disclosures" && (l.Size < corrected+1 || l.Origin != "gov.example/disclosures") {
			t.Errorf("disclosures: %+v", l)
		}
	}

	for _, tt := range []struct {
		path string
		code int
	}{
		{"search?log=disclosures&limit=1000", 400},
		{"search?log=disclosures&sha256=1234", 400},
		{"search?log=disclosures&from=yesterday", 400},
		{"search?q=road", 400},
		{"search?log=nope", 404},
		{"entries/disclosures/999999", 404},
		{"entries/nope/0", 404},
		{"entries/disclosures/x", 400},
	} {
		var body struct{ Error string }
		if code := getJSON(t, api+tt.path, &body); code != tt.code || body.Error == "" {
			t.Errorf("%s: %d %q, want %d with a message", tt.path, code, body.Error, tt.code)
		}
	}
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// submitDisclosure submits a statement of dev's demo agency to the
// disclosures log, waits for its bundle, and returns its index.
func submitDisclosure(t *testing.T, data, addr, typ string, body map[string]string) uint64 {
	t.Helper()
	signer, err := loadSigner(filepath.Join(data, "keys", "demo-agency.key"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	st, err := govlog.NewStatement("gov.example/disclosures", typ, time.Now(), b)
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
	sub, err := c.Submit(ctx, "disclosures", signed, true)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := govlog.ParseBundle(sub.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	return bundle.Index
}

// getJSON decodes the JSON at url into v and returns the status.
func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %d, not JSON: %v", url, resp.StatusCode, err)
	}
	return resp.StatusCode
}
