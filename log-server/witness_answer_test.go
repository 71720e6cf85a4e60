package logserver_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/govlog/govlog/log-server/logtest"
)

// nonCanonical respells the base64 of every signature line of answer with a
// padding bit set: the same bytes to a lenient decoder (note.Open), another
// spelling to a strict one.
func nonCanonical(answer []byte) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out []byte
	for _, line := range bytes.SplitAfter(answer, []byte("\n")) {
		if s := strings.TrimRight(string(line), "\n="); strings.HasPrefix(s, "— ") && len(s) < len(strings.TrimSuffix(string(line), "\n")) {
			// Padded: the last character carries unused bits.
			i := len(s) - 1
			line = bytes.Clone(line)
			line[i] = alphabet[strings.IndexByte(alphabet, line[i])|1]
		}
		out = append(out, line...)
	}
	return out
}

// TestWitnessNonCanonicalCosignature: a witness that answers add-checkpoint
// with its valid cosignature spelled in non-canonical base64 (found by
// FuzzWitnessCosignatureLines) is not counted, and does not keep the log
// from publishing what the other witnesses cosigned. Before the fix the log
// kept the line as written, the policy refused the whole checkpoint (a
// malformed signature line), and one such witness stopped publication.
func TestWitnessNonCanonicalCosignature(t *testing.T) {
	t.Parallel()
	b := logtest.SQLite(t, logtest.Options{})
	key := logtest.NewLogKey(t, origin)
	ws := startWitnesses(t, 3, key)
	// w3's answers pass through a respelling proxy.
	real := ws[2].srv.URL
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, real+r.URL.Path, r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		rw.WriteHeader(resp.StatusCode)
		if resp.StatusCode == http.StatusOK {
			rw.Write(nonCanonical(body.Bytes()))
		} else {
			rw.Write(body.Bytes())
		}
	}))
	t.Cleanup(proxy.Close)
	ws[2].srv = &httptest.Server{URL: proxy.URL}
	p := witnessPolicy(t, key, ws, 2)
	l := openWitnessedLog(t, b, key, p)

	queueAndWait(t, l, 0, leaf(0), leaf(1))
	names := waitCosigned(t, l, p, 2)
	if strings.Join(names, ",") != "w1,w2" {
		t.Errorf("size 2 cosigned by %v, want w1 and w2 (w3's respelled line not counted)", names)
	}
	signed, _ := l.Checkpoint()
	if bytes.Contains(signed, []byte("— witness.example/w3 ")) {
		t.Errorf("the published checkpoint carries w3's respelled line:\n%s", signed)
	}
}
