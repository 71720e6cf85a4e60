package ballot_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule/blindtoken"
	"github.com/govlog/govlog/personalities/votes/ballot"
)

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func status(err error) int {
	var ie *ballot.IssuerError
	if errors.As(err, &ie) {
		return ie.Status
	}
	return 0
}

func TestTokenRoundTrip(t *testing.T) {
	e := newEnv(t, 3)
	ctx := context.Background()
	tf, err := e.request(ctx, e.voters[0])
	if err != nil {
		t.Fatalf("RequestToken: %v", err)
	}
	if tf.ElectionID != testElection {
		t.Errorf("token file for election %q", tf.ElectionID)
	}
	if err := blindtoken.Verify(&e.priv.PublicKey, testElection, tf.Token); err != nil {
		t.Fatalf("the token doesn't verify: %v", err)
	}
	// The election body's spelling of the key verifies it too.
	b64, _ := blindtoken.EncodeIssuerKey(&e.priv.PublicKey)
	pub, err := blindtoken.ParseIssuerKey(b64)
	if err != nil {
		t.Fatal(err)
	}
	if err := blindtoken.Verify(pub, testElection, tf.Token); err != nil {
		t.Fatalf("the token doesn't verify with the parsed issuer key: %v", err)
	}
	if strings.Contains(tf.Token.Key, e.voters[0].id) || !strings.HasPrefix(tf.Token.Key, "voter+") {
		t.Errorf("one-time key %q", tf.Token.Key)
	}

	got := e.tokensStatements(t)
	if want := []ballot.TokensBody{{ElectionID: testElection, Batch: 1, Count: 1}}; !equalBodies(got, want) {
		t.Errorf("votes.tokens statements %+v, want %+v", got, want)
	}
	// The exact body, as the domain reads it.
	st, _, err := govlog.ParseStatement(e.log.all()[0], testOrigin, note.VerifierList(e.agency))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"batch":1,"count":1,"election_id":"2026-city-referendum"}`; string(st.Body) != want {
		t.Errorf("votes.tokens body %s, want %s", st.Body, want)
	}

	// The ballot: signed by the one-time key only, carrying the token.
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	signed, err := ballot.Ballot(testOrigin, testElection, "yes", tf, at)
	if err != nil {
		t.Fatal(err)
	}
	ov, err := note.NewVerifier(tf.Token.Key)
	if err != nil {
		t.Fatal(err)
	}
	bst, sigs, err := govlog.ParseStatement(signed, testOrigin, note.VerifierList(ov))
	if err != nil {
		t.Fatalf("the ballot doesn't parse with its one-time key: %v", err)
	}
	if len(sigs) != 1 || bytes.Count(signed, []byte("\n\u2014 ")) != 1 {
		t.Errorf("the ballot carries %d signatures", len(sigs))
	}
	if bst.Type != ballot.TypeBallot || !bst.Time.Equal(at) {
		t.Errorf("ballot type %s time %v", bst.Type, bst.Time)
	}
	var body ballot.BallotBody
	if err := decodeStrict(bst.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.ElectionID != testElection || body.Choice != "yes" || body.Token != tf.Token {
		t.Errorf("ballot body %+v", body)
	}
	if err := blindtoken.Verify(&e.priv.PublicKey, body.ElectionID, body.Token); err != nil {
		t.Errorf("the ballot's token doesn't verify: %v", err)
	}
	// A ballot for another election with this token is refused.
	if _, err := ballot.Ballot(testOrigin, "other", "yes", tf, at); err == nil {
		t.Error("Ballot made a ballot for another election")
	}
	// The token file round trips.
	raw, _ := json.Marshal(tf)
	if tf2, err := ballot.ReadTokenFile(raw); err != nil || tf2 != tf {
		t.Errorf("ReadTokenFile = %+v, %v", tf2, err)
	}
}

func equalBodies(a, b []ballot.TokensBody) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSecondRequestRefused(t *testing.T) {
	e := newEnv(t, 2)
	ctx := context.Background()
	if _, err := e.request(ctx, e.voters[0]); err != nil {
		t.Fatal(err)
	}
	_, err := e.request(ctx, e.voters[0])
	if status(err) != http.StatusConflict {
		t.Fatalf("second request: %v, want 409", err)
	}
	if !strings.Contains(err.Error(), "already got a token") {
		t.Errorf("the 409 doesn't say why: %v", err)
	}
	// Another voter is still served.
	if _, err := e.request(ctx, e.voters[1]); err != nil {
		t.Fatal(err)
	}
	if n := len(e.tokensStatements(t)); n != 2 {
		t.Errorf("%d votes.tokens statements, want 2", n)
	}
}

func TestConcurrentRequestsOfOneVoter(t *testing.T) {
	e := newEnv(t, 1)
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Go(func() { _, errs[i] = e.request(context.Background(), e.voters[0]) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case status(err) != http.StatusConflict:
			t.Errorf("request: %v, want 409", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of 5 concurrent requests by one voter got a token, want 1", ok)
	}
	total := 0
	for _, b := range e.tokensStatements(t) {
		total += b.Count
	}
	if total != 1 {
		t.Errorf("the log counts %d tokens, want 1", total)
	}
}

func TestRefusedRequests(t *testing.T) {
	e := newEnv(t, 2)
	ctx := context.Background()

	stranger := newVoter(t, "voter-id-9999")
	if _, err := e.request(ctx, stranger); status(err) != http.StatusForbidden {
		t.Errorf("unknown voter: %v, want 403", err)
	}
	// Voter 1's ID, voter 2's key.
	_, err := ballot.RequestToken(ctx, e.srv.URL, testElection, e.voters[0].id, e.voters[1].signer, &e.priv.PublicKey)
	if status(err) != http.StatusUnauthorized {
		t.Errorf("request signed by another voter's key: %v, want 401", err)
	}
	if _, err := ballot.RequestToken(ctx, e.srv.URL, "no-such-election", e.voters[0].id, e.voters[0].signer, &e.priv.PublicKey); status(err) != http.StatusNotFound {
		t.Errorf("unknown election: %v, want 404", err)
	}

	post := func(body string) int {
		resp, err := http.Post(e.srv.URL+"/token", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := post(`{"election_id":`); s != http.StatusBadRequest {
		t.Errorf("truncated JSON: %d, want 400", s)
	}
	if s := post(`{"election_id":"` + testElection + `","voter_id":"voter-id-0001","blinded":"AAAA","signature":"x"}`); s != http.StatusBadRequest {
		t.Errorf("short blinded message: %d, want 400", s)
	}
	// A valid request whose signature covers another blinded message.
	blinded := make([]byte, e.priv.Size())
	blinded[5] = 1
	sig, err := ballot.SignRequest(e.voters[0].signer, testElection, e.voters[0].id, blinded)
	if err != nil {
		t.Fatal(err)
	}
	blinded[6] = 1
	req, _ := json.Marshal(ballot.TokenRequest{ElectionID: testElection, VoterID: e.voters[0].id, Blinded: base64.StdEncoding.EncodeToString(blinded), Signature: sig})
	if s := post(string(req)); s != http.StatusUnauthorized {
		t.Errorf("signature over another blinded message: %d, want 401", s)
	}
	resp, err := http.Get(e.srv.URL + "/token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /token: %d, want 405", resp.StatusCode)
	}
	if n := len(e.log.all()); n != 0 {
		t.Errorf("refused requests wrote %d statements", n)
	}
	// None of them used up voter 1's token.
	if _, err := e.request(ctx, e.voters[0]); err != nil {
		t.Errorf("voter 1 after the refusals: %v", err)
	}
}

func TestBatchOfConcurrentRequests(t *testing.T) {
	e := newEnv(t, 10)
	var wg sync.WaitGroup
	errs := make([]error, len(e.voters))
	toks := make([]ballot.TokenFile, len(e.voters))
	for i, v := range e.voters {
		wg.Go(func() { toks[i], errs[i] = e.request(context.Background(), v) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("voter %d: %v", i+1, err)
		}
		if err := blindtoken.Verify(&e.priv.PublicKey, testElection, toks[i].Token); err != nil {
			t.Errorf("voter %d's token: %v", i+1, err)
		}
	}
	batches := e.tokensStatements(t)
	total := 0
	for i, b := range batches {
		if b.Batch != int64(i+1) || b.Count < 1 || b.ElectionID != testElection {
			t.Errorf("batch statement %d: %+v", i, b)
		}
		total += b.Count
	}
	if total != 10 {
		t.Errorf("batches %+v count %d tokens, want 10", batches, total)
	}
	t.Logf("10 concurrent requests -> %d batch(es): %+v", len(batches), batches)
	if len(batches) > 3 {
		t.Errorf("10 concurrent requests made %d batches; they should share one or a few", len(batches))
	}
}

func TestBatchMax(t *testing.T) {
	e := newEnv(t, 7, func(c *ballot.Config) { c.BatchMax = 3; c.BatchWait = time.Second })
	var wg sync.WaitGroup
	for _, v := range e.voters {
		wg.Go(func() {
			if _, err := e.request(context.Background(), v); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	total := 0
	for _, b := range e.tokensStatements(t) {
		if b.Count > 3 {
			t.Errorf("batch %+v exceeds BatchMax 3", b)
		}
		total += b.Count
	}
	if total != 7 {
		t.Errorf("batches count %d tokens, want 7", total)
	}
}

func TestLogFailure(t *testing.T) {
	e := newEnv(t, 2)
	ctx := context.Background()
	e.log.setFail(errors.New("unavailable: the log is down"))
	_, err := e.request(ctx, e.voters[0])
	if status(err) != http.StatusServiceUnavailable {
		t.Fatalf("request while the log fails: %v, want 503", err)
	}
	if !strings.Contains(err.Error(), "ask again") {
		t.Errorf("the 503 doesn't say what to do: %v", err)
	}
	e.log.setFail(nil)
	tf, err := e.request(ctx, e.voters[0])
	if err != nil {
		t.Fatalf("the voter asks again once the log is back: %v", err)
	}
	if err := blindtoken.Verify(&e.priv.PublicKey, testElection, tf.Token); err != nil {
		t.Fatal(err)
	}
	// The failed batch left no number behind: the first batch on the log is 1.
	got := e.tokensStatements(t)
	if want := []ballot.TokensBody{{ElectionID: testElection, Batch: 1, Count: 1}}; !equalBodies(got, want) {
		t.Errorf("votes.tokens statements %+v, want %+v", got, want)
	}
	if _, err := e.request(ctx, e.voters[0]); status(err) != http.StatusConflict {
		t.Errorf("a third request: %v, want 409", err)
	}
}

// TestSignaturesWaitForLog: no blind signature leaves the issuer before the
// batch's statement is on the log.
func TestSignaturesWaitForLog(t *testing.T) {
	e := newEnv(t, 1)
	gate := make(chan struct{})
	e.log.mu.Lock()
	e.log.gate = gate
	e.log.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		_, err := e.request(context.Background(), e.voters[0])
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the voter was answered (%v) before the log took the batch", err)
	case <-time.After(500 * time.Millisecond):
	}
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(e.log.all()); n != 1 {
		t.Errorf("%d statements, want 1", n)
	}
}

func TestLogsNoVoterIDs(t *testing.T) {
	e := newEnv(t, 4)
	for _, v := range e.voters[:2] {
		if _, err := e.request(context.Background(), v); err != nil {
			t.Fatal(err)
		}
	}
	e.log.setFail(errors.New("down"))
	e.request(context.Background(), e.voters[2])
	out := e.logged()
	if !strings.Contains(out, "batch 1: 1 tokens") || !strings.Contains(out, "NOT issued") {
		t.Errorf("the issuer's log lacks its batches:\n%s", out)
	}
	for _, v := range e.voters {
		if strings.Contains(out, v.id) {
			t.Errorf("the issuer's log names voter %s:\n%s", v.id, out)
		}
	}
}

func TestParseVoters(t *testing.T) {
	v := newVoter(t, "a")
	good := "# eligible voters\n\nalice " + v.vkey + "\n  bob " + v.vkey + "  \n"
	m, err := ballot.ParseVoters(strings.NewReader(good))
	if err != nil || len(m) != 2 || m["alice"] == nil || m["bob"] == nil {
		t.Fatalf("ParseVoters = %v, %v", m, err)
	}
	for name, bad := range map[string]string{
		"twice":     "alice " + v.vkey + "\nalice " + v.vkey + "\n",
		"no key":    "alice\n",
		"bad key":   "alice voter+zz\n",
		"three":     "alice " + v.vkey + " extra\n",
		"empty":     "# nobody\n",
		"ctrl char": "al\x01ice " + v.vkey + "\n",
	} {
		if _, err := ballot.ParseVoters(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: ParseVoters accepted %q", name, bad)
		}
	}
}
