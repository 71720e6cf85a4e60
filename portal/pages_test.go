package portal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
)

// fakeSource is a Source held in memory; err, if set, is every method's
// answer.
type fakeSource struct {
	logs    []LogInfo
	entries map[string][]Entry // by log, index = position
	answers map[string]Answer  // by query name
	err     error
}

func (f *fakeSource) Logs(context.Context) ([]LogInfo, error) { return f.logs, f.err }

func (f *fakeSource) Search(_ context.Context, q Query) (Page, error) {
	if f.err != nil {
		return Page{}, f.err
	}
	if _, ok := logNamed(f.logs, q.Log); !ok {
		return Page{}, fmt.Errorf("%w %q", ErrUnknownLog, q.Log)
	}
	var out []Result
	for _, e := range slices.Backward(f.entries[q.Log]) {
		r := e.Result
		ok := (q.SHA256 == "" || strings.Contains(string(r.Body), q.SHA256)) &&
			(q.Agency == "" || r.Agency == q.Agency) && (q.Type == "" || r.Type == q.Type) &&
			(q.From.IsZero() || !r.Time.Before(q.From)) && (q.To.IsZero() || !r.Time.After(q.To))
		for _, w := range q.Words {
			ok = ok && strings.Contains(strings.ToLower(r.Title), strings.ToLower(w))
		}
		if ok {
			out = append(out, r)
		}
	}
	return Page{Results: out}, nil
}

func (f *fakeSource) Entry(_ context.Context, log string, index uint64) (Entry, error) {
	if f.err != nil {
		return Entry{}, f.err
	}
	es, ok := f.entries[log]
	if !ok {
		return Entry{}, fmt.Errorf("%w %q", ErrUnknownLog, log)
	}
	if index >= uint64(len(es)) {
		return Entry{}, fmt.Errorf("%w: entry %d", ErrNotFound, index)
	}
	return es[index], nil
}

func (f *fakeSource) Query(_ context.Context, log, name string, args map[string]string) (Answer, error) {
	if f.err != nil {
		return Answer{}, f.err
	}
	a, ok := f.answers[name]
	if !ok {
		return Answer{}, fmt.Errorf("%w: no query %q", ErrInvalidQuery, name)
	}
	return a, nil
}

var _ Source = (*fakeSource)(nil)

const docHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// newFakeSource has a disclosures log of two entries (a document and its
// correction, the latter pending) and a funds log answering the account
// and payment queries.
func newFakeSource(t *testing.T) (*fakeSource, *vectorKeys) {
	t.Helper()
	k := newVectorKeys(t)
	b := k.bundle(t, 2, 0, k.log, k.witnesses[0], k.witnesses[1])
	at := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	publish := Entry{Result: Result{Log: "disclosures", Index: 0, Type: "disclosure.publish", Agency: "city-roads", Time: at,
		Title: "2027年道路预算 Road budget 2027", Body: []byte(`{"category":"budget","doc_id":"rb-2027","sha256":"` + docHash + `","title":"2027年道路预算 Road budget 2027"}`),
		LeafHash: Hash(govlog.LeafHash(b.Extra)), Leaf: b.Extra, Bundle: b.Marshal()},
		Relations: []Relation{{Kind: CorrectedBy, ID: "rb-2027-v2", Index: 1, Found: true}}}
	correct := Entry{Result: Result{Log: "disclosures", Index: 1, Type: "disclosure.correct", Agency: "city-roads", Time: at.Add(time.Hour),
		Title: "Road budget 2027 (corrected)", Body: []byte(`{"corrects":"rb-2027","doc_id":"rb-2027-v2"}`), Leaf: []byte("leaf"), Pending: true},
		Relations: []Relation{{Kind: Corrects, ID: "rb-2027", Index: 0, Found: true}}}
	// Entry 2 shows another leaf than its bundle proves; entry 3's proof
	// is tampered with.
	other := publish
	other.Index, other.Title, other.LeafHash, other.Relations = 2, "", Hash{1}, nil
	tb := k.bundle(t, 2, 0, k.log, k.witnesses[0], k.witnesses[1])
	tb.Proof[0][0] ^= 1
	tampered := other
	tampered.Index, tampered.LeafHash, tampered.Bundle = 3, Hash(govlog.LeafHash(tb.Extra)), tb.Marshal()
	src := &fakeSource{
		logs: []LogInfo{
			{Name: "disclosures", Origin: k.origin, Size: 1, TypeNames: []string{"disclosure.publish", "disclosure.correct"}},
			{Name: "funds", Origin: "gov.example/funds", Size: 7, Queries: []rule.QueryInfo{{Name: "account"}, {Name: "payment"}}},
			{Name: "registry", Origin: "gov.example/registry", Size: 1},
		},
		entries: map[string][]Entry{"disclosures": {publish, correct, other, tampered}, "funds": {},
			"registry": {{Result: Result{Log: "registry", Type: "agency.register", Agency: "city-roads", Time: at.Add(-time.Hour),
				Body: []byte(`{"agency":"city-roads","name":"City Roads Bureau"}`)}}}},
		answers: map[string]Answer{
			"account": {Result: []byte(`{"id":"cb:acme","currency":"CNY","account":{"leaf_hash":"aa","controller":"city-b","owner_kind":"company","owner":"acme","kind":"company","balance":100000000,"lines":1,"in":100000000,"out":0},` +
				`"lines":[{"n":1,"leaf_hash":"bb","kind":"transfer","ref":"transfer/t-1","counterparty":"cb:budget","amount":100000000,"balance":100000000}]}`)},
			"payment": {Result: []byte(`{"ref":"transfer/t-1","currency":"CNY","hops":[{"ref":"transfer/t-1","funds":-1,"depth":0,"attributed":100000000,"kind":"transfer","leaf_hash":"bb","agency":"city-b","from":"cb:budget","to":"cb:acme","amount":100000000,"contract":"k-1"},` +
				`{"ref":"allocation/a-1","funds":0,"depth":1,"attributed":100000000,"kind":"allocation","leaf_hash":"cc","agency":"mof","to":"cb:budget","amount":123456789}]}`)},
		},
	}
	return src, k
}

func newTestPages(t *testing.T, src Source, policy []byte) *httptest.Server {
	t.Helper()
	p, err := NewPages(PagesOptions{Source: src, Policy: policy, Monitors: []string{"http://127.0.0.1:7100"},
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv
}

// testWriter writes a logger's lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func get(t *testing.T, url string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// TestPagesInBothLanguages renders every page in Chinese and English:
// each answers 200 with no string missing from the catalogue, in the
// language asked, and shows what it is for without JavaScript.
func TestPagesInBothLanguages(t *testing.T) {
	src, k := newFakeSource(t)
	srv := newTestPages(t, src, k.policy)
	pages := []struct {
		path string
		want map[lang][]string
	}{
		{"/", map[lang][]string{langEnglish: {"Search the logs", "gov.example/disclosures", `href="/disclosures/checkpoint"`}, langChinese: {"搜索日志", "日志列表"}}},
		{"/search?q=budget", map[lang][]string{langEnglish: {`href="/entries/disclosures/0"`, "2027年道路预算 Road budget 2027", "City Roads Bureau (city-roads)"}, langChinese: {"搜索结果", `href="/entries/disclosures/0"`}}},
		{"/search?q=预算&log=disclosures", map[lang][]string{langEnglish: {`href="/entries/disclosures/0"`}}},
		{"/search?q=nothing-like-this", map[lang][]string{langEnglish: {"No entry matches."}, langChinese: {"没有匹配的记录。"}}},
		{"/entries/disclosures/0", map[lang][]string{
			langEnglish: {"Road budget 2027", "City Roads Bureau (city-roads)", "Corrected by", `href="/entries/disclosures/1"`, `data-bundle="/proofs/disclosures/0"`, "/static/verify.js", "Download the proof", `href="/check?sha256=` + docHash},
			langChinese: {"已被更正，见", "下载证明", "disclosures 日志第 0 条记录"}}},
		{"/entries/disclosures/1", map[lang][]string{langEnglish: {"no signed checkpoint includes it yet", "Corrects"}, langChinese: {"更正了"}}},
		{"/check", map[lang][]string{langEnglish: {"Check a document", `type="file"`}, langChinese: {"核对文件"}}},
		{"/check?sha256=" + docHash, map[lang][]string{langEnglish: {"Match: this document is in the log.", `href="/entries/disclosures/0"`}, langChinese: {"匹配：该文件已记录在日志中。"}}},
		{"/check?sha256=" + strings.Repeat("0", 64), map[lang][]string{langEnglish: {"No match"}, langChinese: {"不匹配"}}},
		{"/money/", map[lang][]string{langEnglish: {"Follow the money", `action="/money/account"`}, langChinese: {"资金追踪"}}},
		{"/money/account?id=cb:acme", map[lang][]string{langEnglish: {"Ledger of cb:acme", "1,000,000.00 CNY", `href="/money/account?id=cb%3abudget"`}, langChinese: {"cb:acme 的流水", "余额"}}},
		{"/money/payment?ref=transfer/t-1", map[lang][]string{langEnglish: {"Path of transfer/t-1", "1,234,567.89 CNY", "outside the log"}, langChinese: {"transfer/t-1 的资金路径"}}},
		{"/status", map[lang][]string{langEnglish: {"<td>court</td>", "http://127.0.0.1:7100", "Witness policy"}, langChinese: {"见证策略", "监督方"}}},
	}
	for _, pg := range pages {
		for _, l := range langs {
			t.Run(string(l)+pg.path, func(t *testing.T) {
				status, h, body := get(t, srv.URL+pg.path+sep(pg.path)+"lang="+string(l))
				if status != http.StatusOK {
					t.Fatalf("status %d\n%s", status, body)
				}
				if m := regexp.MustCompile(`![a-z.]+!`).FindString(body); m != "" {
					t.Errorf("string %s is missing from the catalogue", m)
				}
				wantAttr := map[lang]string{langEnglish: `<html lang="en">`, langChinese: `<html lang="zh-CN">`}[l]
				if !strings.Contains(body, wantAttr) || h.Get("Content-Language") != string(l) {
					t.Errorf("page not in %s: Content-Language %q", l, h.Get("Content-Language"))
				}
				for _, want := range pg.want[l] {
					if !strings.Contains(body, want) {
						t.Errorf("page lacks %q", want)
					}
				}
			})
		}
	}
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

// TestChooseLang: ?lang= wins and sets the cookie, then the cookie, then
// Accept-Language by weight; Chinese by default.
func TestChooseLang(t *testing.T) {
	for _, tc := range []struct {
		name, query, cookie, accept string
		want                        lang
		wantCookie                  bool
	}{
		{name: "default", want: langChinese},
		{name: "accept English", accept: "en-GB,en;q=0.9", want: langEnglish},
		{name: "accept Chinese first", accept: "zh-CN,zh;q=0.9,en;q=0.8", want: langChinese},
		{name: "weights", accept: "fr;q=1, zh-TW;q=0.3, en-US;q=0.7", want: langEnglish},
		{name: "no language spoken here", accept: "fr, de;q=0.5", want: langChinese},
		{name: "refused", accept: "en;q=0", want: langChinese},
		{name: "cookie over header", cookie: "en", accept: "zh", want: langEnglish},
		{name: "switch over cookie", query: "zh", cookie: "en", accept: "en", want: langChinese, wantCookie: true},
		{name: "bad switch", query: "xx", accept: "en", want: langEnglish},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/?lang="+tc.query, nil)
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: langCookie, Value: tc.cookie})
			}
			if tc.accept != "" {
				r.Header.Set("Accept-Language", tc.accept)
			}
			w := httptest.NewRecorder()
			if got := chooseLang(w, r); got != tc.want {
				t.Errorf("chose %q, want %q", got, tc.want)
			}
			if set := w.Header().Get("Set-Cookie"); (set != "") != tc.wantCookie || tc.wantCookie && !strings.HasPrefix(set, langCookie+"="+string(tc.want)) {
				t.Errorf("Set-Cookie %q", set)
			}
		})
	}
}

// TestPageErrors: a reader's mistake is a 400 or 404 that says what is
// wrong; the node's own failure is a 500 that shows nothing of it.
func TestPageErrors(t *testing.T) {
	src, _ := newFakeSource(t)
	srv := newTestPages(t, src, nil)
	for _, tc := range []struct {
		path       string
		wantStatus int
		want       string
	}{
		{"/entries/nope/0", http.StatusNotFound, "Not found."},
		{"/entries/disclosures/7", http.StatusNotFound, "Not found."},
		{"/entries/disclosures/x", http.StatusBadRequest, "an entry&#39;s number is a whole number"},
		{"/proofs/disclosures/1", http.StatusNotFound, "no signed checkpoint includes it yet"},
		{"/search", http.StatusBadRequest, "Give at least one criterion."},
		{"/search?sha256=zz", http.StatusBadRequest, "A SHA-256 is 64 hexadecimal digits."},
		{"/search?q=x&from=yesterday", http.StatusBadRequest, "nor a date"},
		{"/check?sha256=12ab", http.StatusBadRequest, "A SHA-256 is 64 hexadecimal digits."},
		{"/money/payment?ref=x", http.StatusOK, ""},
		{"/policy", http.StatusNotFound, "no witness policy"},
		{"/nothing-here", http.StatusNotFound, ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			status, _, body := get(t, srv.URL+tc.path, "Accept-Language", "en")
			if status != tc.wantStatus || !strings.Contains(body, tc.want) {
				t.Errorf("status %d, want %d with %q:\n%s", status, tc.wantStatus, tc.want, body)
			}
		})
	}

	src, _ = newFakeSource(t)
	src.err = errors.New("database is on fire at 10.0.0.7")
	failing := newTestPages(t, src, nil)
	status, _, body := get(t, failing.URL+"/entries/disclosures/0", "Accept-Language", "en")
	if status != http.StatusInternalServerError || strings.Contains(body, "fire") {
		t.Errorf("a failing source: status %d, page shows:\n%s", status, body)
	}
	src.err = fmt.Errorf("%w: no checkpoint yet", ErrRetryLater)
	if status, _, _ := get(t, failing.URL+"/search?q=x&log=disclosures"); status != http.StatusServiceUnavailable {
		t.Errorf("retry later: status %d, want 503", status)
	}
}

// TestProofDownload: the bundle link serves the entry's bundle as a
// .tlog-proof file, and the policy link the node's policy.
func TestProofDownload(t *testing.T) {
	src, k := newFakeSource(t)
	policy := k.policy
	srv := newTestPages(t, src, policy)
	status, h, body := get(t, srv.URL+"/proofs/disclosures/0")
	if status != http.StatusOK || body != string(src.entries["disclosures"][0].Bundle) {
		t.Fatalf("status %d, body %q", status, body)
	}
	if cd := h.Get("Content-Disposition"); cd != `attachment; filename="disclosures-0.tlog-proof"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if status, _, body := get(t, srv.URL+"/policy"); status != http.StatusOK || body != string(policy) {
		t.Errorf("policy: status %d, %q", status, body)
	}
}

// TestCatalogue: every string is in both languages with the same verbs;
// every key the templates, scripts and Go code use is in the catalogue,
// and every key of the catalogue is used.
func TestCatalogue(t *testing.T) {
	verbs := regexp.MustCompile(`%(\[\d\])?[sdv]`)
	for k, m := range catalogue {
		if m.en == "" || m.zh == "" {
			t.Errorf("%s: missing a language: %+v", k, m)
		}
		if len(verbs.FindAllString(m.en, -1)) != len(verbs.FindAllString(m.zh, -1)) {
			t.Errorf("%s: the languages take different arguments: %q, %q", k, m.en, m.zh)
		}
	}
	var sources []string
	for _, dir := range []fs.FS{templateFiles, staticFiles} {
		fs.WalkDir(dir, ".", func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := fs.ReadFile(dir, path)
				sources = append(sources, string(b))
			}
			return err
		})
	}
	gofiles, _ := fs.Glob(os.DirFS("."), "*.go")
	for _, f := range gofiles {
		if !strings.HasSuffix(f, "_test.go") && f != "i18n.go" {
			b, _ := os.ReadFile(f)
			sources = append(sources, string(b))
		}
	}
	all := strings.Join(sources, "\n")
	used := map[string]bool{}
	for _, re := range []string{`\{\{t "([a-z0-9._]+)"`, `\(t "([a-z0-9._]+)"`, `\.t\("([a-z0-9._]+)"`, `msgs\["([a-z0-9._]+)"\]`, `msg\("([a-z0-9._]+)"`, `"([a-z]+\.[a-z0-9._]+)",?`} {
		for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(all, -1) {
			used[m[1]] = true
		}
	}
	// Keys built at run time: proof.fail.<part> in entry.js, rel.<kind>
	// in entry.html.
	for _, part := range []string{"bundle", "policy", "log", "quorum", "inclusion", "crypto", "entry", "fetch"} {
		used["proof.fail."+part] = true
	}
	for _, kind := range []string{Corrects, Retracts, CorrectedBy, RetractedBy} {
		used["rel."+kind] = true
	}
	for k := range used {
		if _, ok := catalogue[k]; !ok && !strings.HasSuffix(k, ".") && (strings.HasPrefix(k, "proof.") || strings.HasPrefix(k, "rel.") || isCatalogueKeyUse(all, k)) {
			t.Errorf("%s is used but not in the catalogue", k)
		}
	}
	for k := range catalogue {
		if !used[k] {
			t.Errorf("%s is in the catalogue but used nowhere", k)
		}
	}
}

// isCatalogueKeyUse reports whether key appears in a translating call, not
// merely as some quoted string.
func isCatalogueKeyUse(all, key string) bool {
	q := regexp.QuoteMeta(key)
	return regexp.MustCompile(`(\{\{t|\(t|\.t\(|msgs\[|msg\() ?"` + q + `"`).MatchString(all)
}
