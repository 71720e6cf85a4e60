package portal

import (
	"strings"
	"testing"

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
