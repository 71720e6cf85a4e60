package logserver

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/witness"
)

// The fuzz targets here feed a witness's answer to add-checkpoint, as bytes
// off the wire, to the code the log reads it with: witness.Client (status
// and size conflict) and witnessClient.verify (which lines are this
// witness's valid cosignatures). Whatever the answer, nothing may panic, a
// line that is not a valid cosignature by the witness on the checkpoint
// asked for is never kept (the kept lines must pass the policy, which
// refuses a checkpoint carrying any bad signature by a key it knows), and
// the witness's valid cosignature line is always found, whatever surrounds
// it.

// witnessAnswerFixture is a checkpoint the log asks a witness to cosign,
// and lines a witness might answer with. Its keys are made from a fixed
// seed, so a saved crasher reproduces.
type witnessAnswerFixture struct {
	signed   []byte // the log-signed checkpoint sent to the witness
	valid    []byte // the witness's cosignature line on it
	later    []byte // another valid line, from a later cosignature
	other    []byte // the witness's cosignature line on another checkpoint
	stranger []byte // a cosignature line by a key the policy does not know
	logLine  []byte // the log's own signature line
	wc       *witnessClient
	policy   *govlog.Policy // the log and this witness, quorum 1
}

// signatureLine returns the one signature line signer adds to text.
func signatureLine(tb testing.TB, text []byte, signer note.Signer) []byte {
	tb.Helper()
	msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		tb.Fatal(err)
	}
	return msg[len(text)+1:]
}

func newWitnessAnswerFixture(tb testing.TB) *witnessAnswerFixture {
	tb.Helper()
	rng := rand.NewChaCha8([32]byte{'w', 'i', 't', 'n', 'e', 's', 's'})
	lskey, lvkey, err := note.GenerateKey(rng, "example.com/log")
	if err != nil {
		tb.Fatal(err)
	}
	logSigner, err := note.NewSigner(lskey)
	if err != nil {
		tb.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	wskey, wvkey, err := govlog.GenerateCosignerKey(rng, "witness.example/w1")
	if err != nil {
		tb.Fatal(err)
	}
	cosigner := func(skey string, at time.Time) note.Signer {
		s, err := govlog.NewCosigner(skey, func() time.Time { return at })
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}
	ws := cosigner(wskey, at)
	sskey, _, err := govlog.GenerateCosignerKey(rng, "witness.example/w2")
	if err != nil {
		tb.Fatal(err)
	}

	cp := govlog.Checkpoint{Origin: "example.com/log", Size: 12, Hash: [32]byte{1, 2, 3}}
	signed, err := govlog.SignCheckpoint(cp, logSigner)
	if err != nil {
		tb.Fatal(err)
	}
	otherCP := govlog.Checkpoint{Origin: "example.com/log", Size: 13, Hash: [32]byte{4, 5, 6}}
	text := cp.Text()
	fx := &witnessAnswerFixture{
		signed:   signed,
		valid:    signatureLine(tb, text, ws),
		later:    signatureLine(tb, text, cosigner(wskey, at.Add(time.Minute))),
		other:    signatureLine(tb, otherCP.Text(), ws),
		stranger: signatureLine(tb, text, cosigner(sskey, at)),
		logLine:  signatureLine(tb, text, logSigner),
	}
	v, err := govlog.NewCosignatureVerifier(wvkey)
	if err != nil {
		tb.Fatal(err)
	}
	fx.wc = &witnessClient{name: "w1", verifier: v}
	ptext, err := govlog.FormatPolicy([]string{lvkey}, []govlog.PolicyWitness{{Name: "w1", VKey: wvkey}}, 1)
	if err != nil {
		tb.Fatal(err)
	}
	if fx.policy, err = govlog.ParsePolicy(ptext); err != nil {
		tb.Fatal(err)
	}
	return fx
}

// maxAnswer is the most of an answer witness.Client reads.
const maxAnswer = 64 << 10

// hasLine reports whether answer holds line (which ends in a newline) as a
// whole line.
func hasLine(answer, line []byte) bool {
	return bytes.HasPrefix(answer, line) || bytes.Contains(answer, append([]byte("\n"), line...))
}

// checkKept checks what verify made of answer.
func (fx *witnessAnswerFixture) checkKept(t *testing.T, answer, kept []byte, err error) {
	t.Helper()
	if err != nil {
		if kept != nil {
			t.Errorf("verify failed (%v) but kept %q", err, kept)
		}
		for _, l := range [][]byte{fx.valid, fx.later} {
			if hasLine(answer, l) {
				t.Fatalf("the witness's valid cosignature line %q was not found in the answer %q: %v", l, answer, err)
			}
		}
		return
	}
	lines := strings.SplitAfter(string(kept), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		t.Fatalf("verify succeeded and kept nothing of %q", answer)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "— witness.example/w1 ") || !strings.HasSuffix(l, "\n") {
			t.Fatalf("kept a line that is not the witness's: %q (answer %q)", l, answer)
		}
	}
	// The policy opens the checkpoint with every kept line: one bad
	// signature by the witness's key would make it fail.
	cp, names, perr := fx.policy.Verify(append(bytes.Clone(fx.signed), kept...), govlog.WithClock(func() time.Time {
		return time.Date(2026, 12, 5, 12, 30, 0, 0, time.UTC)
	}))
	if perr != nil {
		t.Fatalf("the kept lines %q do not make a cosigned checkpoint: %v (answer %q)", kept, perr, answer)
	}
	if cp.Size != 12 || !slices.Equal(names, []string{"w1"}) {
		t.Fatalf("the kept lines make checkpoint %d cosigned by %v", cp.Size, names)
	}
	for _, l := range [][]byte{fx.valid, fx.later} {
		if hasLine(answer, l) && !hasLine(kept, l) {
			t.Fatalf("the valid line %q was not kept: %q (answer %q)", l, kept, answer)
		}
	}
}

// witnessAnswerSeeds are answers a witness might give.
func (fx *witnessAnswerFixture) seeds() [][]byte {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	flipped := bytes.Clone(fx.valid)
	flipped[len(flipped)-5] ^= 1
	return [][]byte{
		fx.valid,
		cat(fx.valid, fx.later),
		cat(fx.stranger, fx.valid),
		cat(fx.valid, []byte("garbage\n")),
		cat([]byte("not a signature line\n"), fx.valid),
		cat(fx.other, fx.valid),
		fx.other,
		fx.stranger,
		fx.logLine,
		flipped,
		cat(flipped, fx.valid),
		bytes.TrimSuffix(fx.valid, []byte("\n")),
		cat(bytes.TrimSuffix(fx.valid, []byte("\n")), []byte("\r\n")),
		cat([]byte("\n"), fx.valid),
		cat(fx.valid, fx.valid),
		[]byte(""),
		[]byte("\n"),
		[]byte("— witness.example/w1 AAAA\n"),
	}
}

// FuzzWitnessCosignatureLines: the lines of a witness's 200 answer, as
// the log keeps them.
func FuzzWitnessCosignatureLines(f *testing.F) {
	fx := newWitnessAnswerFixture(f)
	for _, s := range fx.seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, answer []byte) {
		if len(answer) > maxAnswer {
			return // witness.Client refuses longer answers
		}
		kept, err := fx.wc.verify(fx.signed, answer)
		fx.checkKept(t, answer, kept, err)
	})
}

// answerStatuses are the statuses the fuzzer picks from: the spec's, a
// redirect with no Location, server errors.
var answerStatuses = []int{200, 409, 400, 403, 404, 413, 422, 500, 503, 307}

// FuzzWitnessAddCheckpointAnswer: a whole HTTP answer to add-checkpoint
// (status and body) read as the log reads it: witness.Client, then verify.
func FuzzWitnessAddCheckpointAnswer(f *testing.F) {
	fx := newWitnessAnswerFixture(f)
	var answer atomic.Pointer[struct {
		status int
		body   []byte
	}]
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		a := answer.Load()
		rw.WriteHeader(a.status)
		rw.Write(a.body)
	}))
	f.Cleanup(srv.Close)
	client := &witness.Client{URL: srv.URL, HTTPClient: &http.Client{Timeout: 10 * time.Second}}
	for i, s := range fx.seeds() {
		f.Add(uint8(0), s)
		f.Add(uint8(i), s)
	}
	for _, s := range []string{"0\n", "12\n", "13\n", "012\n", "12", "-1\n", "18446744073709551615\n", "18446744073709551616\n", "1 2\n", ""} {
		f.Add(uint8(1), []byte(s))
	}
	f.Fuzz(func(t *testing.T, st uint8, body []byte) {
		status := answerStatuses[int(st)%len(answerStatuses)]
		answer.Store(&struct {
			status int
			body   []byte
		}{status, body})
		lines, err := client.AddCheckpoint(context.Background(), 0, nil, fx.signed)
		if status != http.StatusOK {
			if err == nil {
				t.Fatalf("a %d answer %q was read as cosignature lines %q", status, body, lines)
			}
			var conflict *witness.SizeConflictError
			isConflict := errors.As(err, &conflict)
			digits, ok := strings.CutSuffix(string(body), "\n")
			n, perr := strconv.ParseUint(digits, 10, 64)
			canonical := ok && perr == nil && strconv.FormatUint(n, 10) == digits
			switch {
			case status == http.StatusConflict && canonical && (!isConflict || conflict.Latest != n):
				t.Fatalf("409 %q: got %v, want a size conflict at %d", body, err, n)
			case isConflict && (status != http.StatusConflict || !canonical):
				t.Fatalf("%d %q read as a size conflict at %d", status, body, conflict.Latest)
			}
			return
		}
		if len(body) > maxAnswer {
			if err == nil {
				t.Fatalf("an answer of %d bytes was read", len(body))
			}
			return
		}
		if err != nil {
			t.Fatalf("a 200 answer of %d bytes: %v", len(body), err)
		}
		if !bytes.Equal(lines, body) {
			t.Fatalf("the client read %q of the answer %q", lines, body)
		}
		kept, err := fx.wc.verify(fx.signed, lines)
		fx.checkKept(t, body, kept, err)
	})
}
