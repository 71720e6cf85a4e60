package portal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
)

// jsResult is what govlogVerify.verifyBundle returns, less the entry.
type jsResult struct {
	OK               bool     `json:"ok"`
	Failed           string   `json:"failed"`
	Detail           string   `json:"detail"`
	Origin           string   `json:"origin"`
	Index            string   `json:"index"`
	LeafHash         string   `json:"leafHash"`
	Witnesses        []string `json:"witnesses"`
	InvalidWitnesses []string `json:"invalidWitnesses"`
	LateWitnesses    []string `json:"lateWitnesses"`
	Ignored          []string `json:"ignored"`
}

// goPart names the part of a bundle that the Go verifier's error blames,
// in verify.js's words.
func goPart(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, govlog.ErrMalformedBundle):
		return "bundle"
	case errors.Is(err, govlog.ErrInclusionProof):
		return "inclusion"
	case errors.Is(err, govlog.ErrQuorumNotMet):
		return "quorum"
	case errors.Is(err, govlog.ErrUnknownLog), errors.Is(err, govlog.ErrCheckpointSignature):
		return "log"
	}
	return "other: " + err.Error()
}

// testTree is an RFC 6962 tree of leaves held in memory.
type testTree [][]byte

func (tr testTree) hash(lo, hi int) []byte {
	if hi-lo == 1 {
		h := govlog.LeafHash(tr[lo])
		return h[:]
	}
	k := 1 << (bits.Len(uint(hi-lo-1)) - 1) // largest power of 2 below hi-lo
	l, r := tr.hash(lo, lo+k), tr.hash(lo+k, hi)
	h := sha256.Sum256(append(append([]byte{1}, l...), r...))
	return h[:]
}

// path is the inclusion proof of leaf i in tr[lo:hi] (RFC 6962, 2.1.1).
func (tr testTree) path(i, lo, hi int) [][32]byte {
	if hi-lo == 1 {
		return nil
	}
	k := 1 << (bits.Len(uint(hi-lo-1)) - 1)
	if i < lo+k {
		return append(tr.path(i, lo, lo+k), [32]byte(tr.hash(lo+k, hi)))
	}
	return append(tr.path(i, lo+k, hi), [32]byte(tr.hash(lo, lo+k)))
}

// vectorKeys are a log's key and three witnesses' keys, with a policy
// that needs two of the three.
type vectorKeys struct {
	origin    string
	log       note.Signer
	witnesses []note.Signer // cosigning now
	future    note.Signer   // the first witness, with its clock an hour ahead
	stranger  note.Signer   // a witness the policy doesn't know
	policy    []byte
}

func newVectorKeys(t *testing.T) *vectorKeys {
	t.Helper()
	k := &vectorKeys{origin: "gov.example/disclosures"}
	skey, vkey, err := note.GenerateKey(nil, k.origin)
	if err != nil {
		t.Fatal(err)
	}
	if k.log, err = note.NewSigner(skey); err != nil {
		t.Fatal(err)
	}
	var pws []govlog.PolicyWitness
	now := time.Now()
	for i, name := range []string{"court.example", "parliament.example", "press.example", "stranger.example"} {
		wskey, wvkey, err := govlog.GenerateCosignerKey(nil, name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := govlog.NewCosigner(wskey, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			k.stranger = s
			continue
		}
		if i == 0 {
			if k.future, err = govlog.NewCosigner(wskey, func() time.Time { return now.Add(time.Hour) }); err != nil {
				t.Fatal(err)
			}
		}
		k.witnesses = append(k.witnesses, s)
		pws = append(pws, govlog.PolicyWitness{Name: strings.TrimSuffix(name, ".example"), VKey: wvkey})
	}
	if k.policy, err = govlog.FormatPolicy([]string{vkey}, pws, 2); err != nil {
		t.Fatal(err)
	}
	return k
}

// bundle makes a bundle of entry i of a tree of n leaves, its checkpoint
// signed by signers.
func (k *vectorKeys) bundle(t *testing.T, n, i int, signers ...note.Signer) *govlog.Bundle {
	t.Helper()
	tr := make(testTree, n)
	for j := range tr {
		tr[j] = fmt.Appendf(nil, "govlog/statement/v1\n%s\n{\"n\":%d}\n\n— agency.example AAAA\n", k.origin, j)
	}
	cp := govlog.Checkpoint{Origin: k.origin, Size: uint64(n), Hash: [32]byte(tr.hash(0, n))}
	signed, err := note.Sign(&note.Note{Text: string(cp.Text())}, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return &govlog.Bundle{Extra: tr[i], Index: uint64(i), Proof: tr.path(i, 0, n), Checkpoint: signed}
}

// breakSignature flips a bit in the signature of the checkpoint's line by
// name.
func breakSignature(t *testing.T, b *govlog.Bundle, name string) {
	t.Helper()
	lines := strings.Split(string(b.Checkpoint), "\n")
	for i, l := range lines {
		rest, ok := strings.CutPrefix(l, "— "+name+" ")
		if !ok {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			t.Fatal(err)
		}
		raw[len(raw)-1] ^= 1
		lines[i] = "— " + name + " " + base64.StdEncoding.EncodeToString(raw)
		b.Checkpoint = []byte(strings.Join(lines, "\n"))
		return
	}
	t.Fatalf("no signature by %s", name)
}

// verifyVector is one bundle, what verify.js must conclude, and which part
// it must blame.
type verifyVector struct {
	name          string
	bundle        []byte
	wantPart      string // "" for verified
	wantWitnesses []string
	wantInvalid   []string
}

func verifyVectors(t *testing.T, k *vectorKeys) []verifyVector {
	w := k.witnesses
	var vs []verifyVector
	add := func(name string, b *govlog.Bundle, part string, witnesses, invalid []string) {
		vs = append(vs, verifyVector{name, b.Marshal(), part, witnesses, invalid})
	}
	add("two of three cosigned", k.bundle(t, 11, 5, k.log, w[0], w[2]), "", []string{"court", "press"}, nil)
	add("all three, and a stranger", k.bundle(t, 11, 10, k.log, w[0], w[1], w[2], k.stranger), "", []string{"court", "parliament", "press"}, nil)
	add("one-entry log", k.bundle(t, 1, 0, k.log, w[1], w[2]), "", []string{"parliament", "press"}, nil)
	add("last of a power of two", k.bundle(t, 16, 15, k.log, w[0], w[1]), "", []string{"court", "parliament"}, nil)

	b := k.bundle(t, 11, 5, k.log, w[0], w[1], w[2])
	breakSignature(t, b, "parliament.example")
	add("a bad cosignature, quorum still met", b, "", []string{"court", "press"}, []string{"parliament"})
	b = k.bundle(t, 11, 5, k.log, w[0], w[1])
	breakSignature(t, b, "court.example")
	add("a bad cosignature, quorum not met", b, "quorum", nil, []string{"court"})
	add("one cosignature", k.bundle(t, 11, 5, k.log, w[0]), "quorum", nil, nil)
	add("a cosignature dated in the future", k.bundle(t, 11, 5, k.log, k.future, w[1]), "quorum", nil, nil)
	add("no log signature", k.bundle(t, 11, 5, w[0], w[1]), "log", nil, nil)
	b = k.bundle(t, 11, 5, k.log, w[0], w[1])
	breakSignature(t, b, k.origin)
	add("a bad log signature", b, "log", nil, nil)

	b = k.bundle(t, 11, 5, k.log, w[0], w[1])
	b.Proof[2][7] ^= 0x40
	add("a tampered proof", b, "inclusion", []string{"court", "parliament"}, nil)
	b = k.bundle(t, 11, 5, k.log, w[0], w[1])
	b.Extra = bytes.Replace(b.Extra, []byte(`"n":5`), []byte(`"n":6`), 1)
	add("a tampered entry", b, "inclusion", []string{"court", "parliament"}, nil)
	b = k.bundle(t, 11, 5, k.log, w[0], w[1])
	b.Index = 4
	add("a wrong index", b, "inclusion", []string{"court", "parliament"}, nil)
	b = k.bundle(t, 11, 5, k.log, w[0], w[1])
	b.Proof = b.Proof[:len(b.Proof)-1]
	add("a short proof", b, "inclusion", []string{"court", "parliament"}, nil)

	other := *k
	other.origin = "gov.example/funds"
	otherSigner, err := note.NewSigner(mustKey(t, other.origin))
	if err != nil {
		t.Fatal(err)
	}
	add("a log not in the policy", other.bundle(t, 3, 1, otherSigner, w[0], w[1]), "log", nil, nil)
	good := k.bundle(t, 11, 5, k.log, w[0], w[1]).Marshal()
	vs = append(vs, verifyVector{name: "not a bundle", bundle: bytes.Replace(good, []byte("tlog-proof@v1"), []byte("tlog-proof@v2"), 1), wantPart: "bundle"})
	vs = append(vs, verifyVector{name: "an index with a leading zero", bundle: bytes.Replace(good, []byte("\nindex 5\n"), []byte("\nindex 05\n"), 1), wantPart: "bundle"})
	return vs
}

func mustKey(t *testing.T, name string) string {
	t.Helper()
	skey, _, err := note.GenerateKey(nil, name)
	if err != nil {
		t.Fatal(err)
	}
	return skey
}

// serveStatic serves the portal's static files and an empty page that
// loads verify.js, on a loopback address (a secure context for WebCrypto).
func serveStatic(t *testing.T) *httptest.Server {
	t.Helper()
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>verify</title><script src="/static/verify.js"></script>`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestVerifyJSAgreesWithGo runs every vector through govlog.VerifyBundle
// and through verify.js in Chromium: both must reach the same verdict,
// blame the same part, and count the same witnesses.
func TestVerifyJSAgreesWithGo(t *testing.T) {
	ctx := newBrowser(t, 800, 600)
	srv := serveStatic(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	k := newVectorKeys(t)
	policy, err := govlog.ParsePolicy(k.policy)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range verifyVectors(t, k) {
		t.Run(v.name, func(t *testing.T) {
			vb, goErr := govlog.VerifyBundle(v.bundle, policy)
			js := runVerifyJS(t, ctx, v.bundle, k.policy)
			if got := goPart(goErr); got != v.wantPart {
				t.Errorf("Go: %v (part %q), want part %q", goErr, got, v.wantPart)
			}
			if js.Failed != v.wantPart || js.OK != (v.wantPart == "") {
				t.Errorf("verify.js: ok=%v failed=%q (%s), want part %q", js.OK, js.Failed, js.Detail, v.wantPart)
			}
			if !slices.Equal(js.InvalidWitnesses, v.wantInvalid) {
				t.Errorf("verify.js found bad cosignatures by %q, want %q", js.InvalidWitnesses, v.wantInvalid)
			}
			if v.wantPart == "" || v.wantPart == "inclusion" {
				if !slices.Equal(js.Witnesses, v.wantWitnesses) {
					t.Errorf("verify.js counted witnesses %q, want %q", js.Witnesses, v.wantWitnesses)
				}
			}
			// The checkpoint's cosignatures, one by one: who counted, who
			// had an invalid one, who dated it too far ahead.
			if b, err := govlog.ParseBundle(v.bundle); err == nil {
				if cv, _ := policy.VerifyCheckpoint(b.Checkpoint); cv != nil {
					var invalid, late []string
					for _, nc := range cv.NotCounted {
						switch {
						case errors.Is(nc.Err, govlog.ErrInvalidCosignature):
							invalid = append(invalid, nc.Witness)
						case errors.Is(nc.Err, govlog.ErrCosignatureTime):
							late = append(late, nc.Witness)
						}
					}
					if !slices.Equal(cv.Witnesses, js.Witnesses) || !slices.Equal(invalid, js.InvalidWitnesses) || !slices.Equal(late, js.LateWitnesses) {
						t.Errorf("cosignatures: Go counted %q, invalid %q, late %q; verify.js %q, %q, %q",
							cv.Witnesses, invalid, late, js.Witnesses, js.InvalidWitnesses, js.LateWitnesses)
					}
				}
			}
			if goErr != nil {
				return
			}
			if !slices.Equal(vb.Witnesses, js.Witnesses) {
				t.Errorf("witnesses counted: Go %q, verify.js %q", vb.Witnesses, js.Witnesses)
			}
			if !slices.Equal(vb.Ignored, js.Ignored) {
				t.Errorf("signatures ignored: Go %q, verify.js %q", vb.Ignored, js.Ignored)
			}
			leaf := govlog.LeafHash(vb.Entry)
			if js.LeafHash != fmt.Sprintf("%x", leaf) || js.Index != fmt.Sprint(vb.Index) || js.Origin != vb.Checkpoint.Origin {
				t.Errorf("verify.js read leaf %s at %s of %s; Go %x at %d of %s", js.LeafHash, js.Index, js.Origin, leaf, vb.Index, vb.Checkpoint.Origin)
			}
		})
	}
}

// runVerifyJS runs govlogVerify.verifyBundle in the browser tab of ctx.
func runVerifyJS(t *testing.T, ctx context.Context, bundle, policy []byte) jsResult {
	t.Helper()
	b64, _ := json.Marshal(base64.StdEncoding.EncodeToString(bundle))
	pol, _ := json.Marshal(string(policy))
	expr := fmt.Sprintf(`(async () => {
		const bytes = Uint8Array.from(atob(%s), (c) => c.charCodeAt(0));
		const r = await govlogVerify.verifyBundle(bytes, %s);
		delete r.entry;
		return r;
	})()`, b64, pol)
	res, err := chromedp.Run(ctx, chromedp.Evaluate[jsResult](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("verify.js: %v", err)
	}
	return res
}
