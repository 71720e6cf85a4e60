package portal

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestEntryProofInBrowser: on an entry's page, entry.js checks the bundle
// with verify.js and says "verified" only for a bundle that proves the
// entry shown; a bundle for another leaf, or a tampered proof, is "not
// verified" with the reason, in the reader's language.
func TestEntryProofInBrowser(t *testing.T) {
	src, k := newFakeSource(t)
	srv := newTestPages(t, src, k.policy)
	ctx := newBrowser(t, 800, 900)
	for _, tc := range []struct {
		path, wantState string
		want            []string
	}{
		{"/entries/disclosures/0?lang=en", "verified", []string{"✓ Verified", "a checkpoint of 2 entries, court, parliament cosigned it"}},
		{"/entries/disclosures/0?lang=zh", "verified", []string{"✓ 已验证"}},
		{"/entries/disclosures/2?lang=en", "failed", []string{"✗ Not verified", "The proof is for another entry than the one shown."}},
		{"/entries/disclosures/3?lang=en", "failed", []string{"The inclusion proof does not bind this entry", "the proof leads to root "}},
		{"/entries/disclosures/3?lang=zh", "failed", []string{"✗ 未通过验证", "包含证明无法把本记录与检查点的根哈希绑定。"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+tc.path)); err != nil {
				t.Fatal(err)
			}
			state, err := chromedp.Run(ctx, chromedp.Poll[string](`(s => s !== "checking" && s)(document.getElementById("proof").dataset.state)`))
			if err != nil {
				t.Fatal(err)
			}
			text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("proof")))
			if err != nil {
				t.Fatal(err)
			}
			if state != tc.wantState {
				t.Errorf("state %q, want %q:\n%s", state, tc.wantState, text)
			}
			for _, want := range tc.want {
				if !strings.Contains(text, want) {
					t.Errorf("proof box lacks %q:\n%s", want, text)
				}
			}
		})
	}
}

// TestInsecureContextSaysSo: over plain HTTP to a host other than the
// loopback, browsers give no WebCrypto; the entry's page then says it
// cannot check the proof there, and the check page asks for the file's
// hash, instead of failing obscurely.
func TestInsecureContextSaysSo(t *testing.T) {
	src, k := newFakeSource(t)
	srv := newTestPages(t, src, k.policy)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// portal.test resolves to the test server, but is not localhost.
	ctx := newBrowser(t, 800, 900, chromedp.Flag("host-resolver-rules", "MAP portal.test 127.0.0.1"))
	base := "http://portal.test:" + u.Port()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/entries/disclosures/0?lang=en")); err != nil {
		t.Fatal(err)
	}
	state, err := chromedp.Run(ctx, chromedp.Poll[string](`(s => s !== "checking" && s)(document.getElementById("proof").dataset.state)`))
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("proof")))
	if err != nil {
		t.Fatal(err)
	}
	if state != "failed" || !strings.Contains(text, "This browser cannot check signatures here") {
		t.Errorf("state %q:\n%s", state, text)
	}

	doc := filepath.Join(t.TempDir(), "doc.txt")
	if err := os.WriteFile(doc, []byte("test"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/check?lang=en"), chromedp.SetUploadFiles(chromedp.ID("file"), []string{doc})); err != nil {
		t.Fatal(err)
	}
	said, err := chromedp.Run(ctx, chromedp.Poll[string](`document.getElementById("check-result").textContent.trim()`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(said, "paste the file's SHA-256 instead") {
		t.Errorf("check page says %q", said)
	}
}

// TestReadingWithoutJavaScript: with scripts off, a reader still searches
// (a plain form), reads an entry with its proof link, and checks a
// document by its SHA-256; the entry's page says the proof is not checked
// there and how to check it.
func TestReadingWithoutJavaScript(t *testing.T) {
	src, k := newFakeSource(t)
	srv := newTestPages(t, src, k.policy)
	ctx := newBrowser(t, 800, 900)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/?lang=en"), chromedp.SendKeys(chromedp.ID("q"), "budget"),
		chromedp.Click(chromedp.ID("search-go")), chromedp.WaitVisible(chromedp.CSS(`a[href="/entries/disclosures/0"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/entries/disclosures/0"]`)), chromedp.WaitVisible(chromedp.ID("proof"))); err != nil {
		t.Fatal(err)
	}
	if got := text("#proof"); !strings.Contains(got, "runs no JavaScript") || !strings.Contains(got, "Download the proof") {
		t.Errorf("entry without JavaScript:\n%s", got)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/check"), chromedp.SendKeys(chromedp.ID("sha256"), docHash),
		chromedp.Submit(chromedp.ID("sha256")), chromedp.WaitVisible(chromedp.ID("check-verdict"))); err != nil {
		t.Fatal(err)
	}
	if got := text("#check-result"); !strings.Contains(got, "Match: this document is in the log.") {
		t.Errorf("check without JavaScript:\n%s", got)
	}
}
