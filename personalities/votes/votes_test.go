package votes_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
	"github.com/govlog/govlog/personalities/votes"
)

// otherIssuer is an issuer key no test election names.
var otherIssuer = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// signExample signs the example ballot with exampleVoterKey.
func signExample(e rule.Entry) (rule.Entry, error) {
	s, err := note.NewSigner(exampleVoterKey)
	if err != nil {
		return e, err
	}
	st, err := govlog.NewStatement(origin, e.Type, e.Time, e.Body)
	if err != nil {
		return e, err
	}
	signed, err := st.Sign(s)
	if err != nil {
		return e, err
	}
	e.LeafHash = govlog.LeafHash(signed)
	e.Text, e.Signatures, err = ruletest.SplitNote(signed)
	return e, err
}

func TestExamples(t *testing.T) {
	ruletest.CheckSignedExamples(t, votes.New(), signExample)
}

func TestApply(t *testing.T) {
	alice, bob, carol := newVoter(t, election), newVoter(t, election), newVoter(t, election)
	stranger := newKey(t, votes.VoterKeyName)
	open := openE(t, openBody(t, election))
	batch1 := tokens(t, election, 1, 2)
	setup := []rule.Entry{open, batch1}
	seq := func(es ...rule.Entry) []rule.Entry { return append(append([]rule.Entry{}, setup...), es...) }

	otherElection := voter{alice.key, tokenFor(t, issuerKey(), "e2", alice.key)}
	otherIssuerTok := voter{alice.key, tokenFor(t, otherIssuer(), election, alice.key)}
	altered := alice
	sig := []byte(altered.token.Signature)
	sig[10] ^= 'A' ^ 'B'
	if sig[10] == '+' || sig[10] == '/' {
		sig[10] = 'Q'
	}
	altered.token.Signature = string(sig)
	tamperedLine := ballot(t, "North", alice)
	tamperedLine.Signatures = append([]rule.Signature(nil), tamperedLine.Signatures...)
	tamperedLine.Signatures[0].Sig = append([]byte(nil), tamperedLine.Signatures[0].Sig...)
	tamperedLine.Signatures[0].Sig[5] ^= 1
	smallKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, err := x509.MarshalPKIXPublicKey(&smallKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	small := base64.StdEncoding.EncodeToString(smallDER)

	closeBody := func(north, south, none, ballots, tokens int64, last string) map[string]any {
		return map[string]any{"election_id": election, "counts": map[string]int64{"North": north, "South": south, "None": none},
			"ballots": ballots, "tokens": tokens, "last_ballot": last}
	}
	aliceNorth := ballot(t, "North", alice)
	leafHex := func(e rule.Entry) string { return hexOf(e.LeafHash) }

	tests := []struct {
		name    string
		entries []rule.Entry // all but the last must be admitted
		wantErr error
		wantMsg string
	}{
		{name: "open", entries: []rule.Entry{open}},
		{name: "open twice", entries: []rule.Entry{open, open}, wantErr: rule.ErrAlreadyExists},
		{name: "election with no options", entries: []rule.Entry{openE(t, with(openBody(t, election), "options", []string{}))}, wantErr: rule.ErrInvalidBody},
		{name: "election with one option", entries: []rule.Entry{openE(t, with(openBody(t, election), "options", []string{"Yes"}))}, wantErr: rule.ErrInvalidBody, wantMsg: "an election needs 2 to 64 options"},
		{name: "options repeated", entries: []rule.Entry{openE(t, with(openBody(t, election), "options", []string{"Yes", "No", "Yes"}))}, wantErr: rule.ErrInvalidBody, wantMsg: "are the same"},
		{name: "65 options", entries: []rule.Entry{openE(t, with(openBody(t, election), "options", manyOptions(65)))}, wantErr: rule.ErrInvalidBody},
		{name: "64 options", entries: []rule.Entry{openE(t, with(openBody(t, election), "options", manyOptions(64)))}},
		{name: "closing before opening", entries: []rule.Entry{openE(t, with(openBody(t, election), "closes", "2026-02-28T00:00:00Z"))}, wantErr: rule.ErrInvalidBody, wantMsg: "not after it opens"},
		{name: "closing when opening", entries: []rule.Entry{openE(t, with(openBody(t, election), "closes", t0.Format(time.RFC3339)))}, wantErr: rule.ErrInvalidBody},
		{name: "time not in UTC Z", entries: []rule.Entry{openE(t, with(openBody(t, election), "closes", "2026-03-01T21:00:00+01:00"))}, wantErr: rule.ErrInvalidBody},
		{name: "time with fraction", entries: []rule.Entry{openE(t, with(openBody(t, election), "closes", "2026-03-01T20:00:00.5Z"))}, wantErr: rule.ErrInvalidBody},
		{name: "closing before the statement", entries: []rule.Entry{statement(t, authority, votes.TypeOpen, t1, openBody(t, election), agencyKey())}, wantErr: rule.ErrRuleViolation, wantMsg: "not after its opening statement"},
		{name: "bad issuer key", entries: []rule.Entry{openE(t, with(openBody(t, election), "issuer_key", "AAAA"))}, wantErr: rule.ErrInvalidBody, wantMsg: "issuer_key"},
		{name: "1024-bit issuer key", entries: []rule.Entry{openE(t, with(openBody(t, election), "issuer_key", small))}, wantErr: rule.ErrInvalidBody},

		{name: "tokens", entries: seq(tokens(t, election, 2, 5))},
		{name: "tokens batch out of order", entries: seq(tokens(t, election, 3, 5)), wantErr: rule.ErrRuleViolation, wantMsg: "the next is batch 2, not 3"},
		{name: "tokens batch repeated", entries: seq(tokens(t, election, 1, 5)), wantErr: rule.ErrRuleViolation},
		{name: "tokens of no election", entries: seq(tokens(t, "e9", 1, 5)), wantErr: rule.ErrRuleViolation},
		{name: "tokens count zero", entries: seq(tokens(t, election, 2, 0)), wantErr: rule.ErrInvalidBody},
		{name: "tokens by another issuer", entries: seq(statement(t, "city-b", votes.TypeTokens, t0, map[string]any{"election_id": election, "batch": 2, "count": 1}, agencyKey())),
			wantErr: rule.ErrRuleViolation, wantMsg: "issued by city-issuer"},
		{name: "tokens after the close", entries: seq(closeE(t, closeBody(0, 0, 0, 0, 2, "")), tokens(t, election, 2, 1)), wantErr: rule.ErrRuleViolation, wantMsg: "is closed"},

		{name: "ballot", entries: seq(aliceNorth)},
		{name: "ballot at opening", entries: seq(ballotAt(t, t0, election, "North", alice))},
		{name: "ballot before opening", entries: seq(ballotAt(t, t0.Add(-time.Second), election, "North", alice)), wantErr: rule.ErrRuleViolation, wantMsg: "opens at"},
		{name: "ballot at closing", entries: seq(ballotAt(t, t1, election, "North", alice)), wantErr: rule.ErrRuleViolation, wantMsg: "closed at"},
		{name: "ballot after closing", entries: seq(ballotAt(t, t1.Add(time.Hour), election, "North", alice)), wantErr: rule.ErrRuleViolation},
		{name: "ballot after the close entry", entries: seq(closeE(t, closeBody(0, 0, 0, 0, 2, "")), ballotAt(t, t1.Add(-time.Second), election, "North", alice)),
			wantErr: rule.ErrRuleViolation, wantMsg: "is closed"},
		{name: "same token twice", entries: seq(aliceNorth, ballotAt(t, t0.Add(2*time.Hour), election, "South", alice)), wantErr: rule.ErrRuleViolation, wantMsg: "this token has voted"},
		{name: "option not in the election", entries: seq(ballot(t, "West", alice)), wantErr: rule.ErrInvalidBody, wantMsg: `"West" is not an option`},
		{name: "option in another case", entries: seq(ballot(t, "north", alice)), wantErr: rule.ErrInvalidBody},
		{name: "ballots beyond tokens issued", entries: seq(ballot(t, "North", alice), ballot(t, "South", bob), ballot(t, "None", carol)),
			wantErr: rule.ErrRuleViolation, wantMsg: "of the 2 tokens issued"},
		{name: "ballot before any token is logged", entries: []rule.Entry{open, aliceNorth}, wantErr: rule.ErrRuleViolation, wantMsg: "of the 0 tokens issued"},
		{name: "ballot of no election", entries: seq(ballotAt(t, t0.Add(time.Hour), "e9", "North", alice)), wantErr: rule.ErrRuleViolation, wantMsg: "no election e9"},
		{name: "token signed by another issuer key", entries: seq(ballot(t, "North", otherIssuerTok)), wantErr: rule.ErrBadSignature},
		{name: "token of another election", entries: seq(ballot(t, "North", otherElection)), wantErr: rule.ErrBadSignature},
		{name: "token signature altered", entries: seq(ballot(t, "North", altered)), wantErr: rule.ErrBadSignature},
		{name: "ballot signature altered", entries: seq(tamperedLine), wantErr: rule.ErrBadSignature},
		{name: "ballot signed by another key", entries: seq(ballotAt(t, t0.Add(time.Hour), election, "North", alice, stranger)), wantErr: rule.ErrNotAuthorized},
		{name: "ballot signed twice", entries: seq(ballotAt(t, t0.Add(time.Hour), election, "North", alice, alice.key, stranger)), wantErr: rule.ErrNotAuthorized},
		{name: "ballot not signed", entries: seq(func() rule.Entry { e := aliceNorth; e.Signatures = nil; return e }()), wantErr: rule.ErrNotAuthorized},

		{name: "close", entries: seq(aliceNorth, closeE(t, closeBody(1, 0, 0, 1, 2, leafHex(aliceNorth))))},
		{name: "close without ballots", entries: seq(closeE(t, closeBody(0, 0, 0, 0, 2, "")))},
		{name: "forged close: wrong counts", entries: seq(aliceNorth, closeE(t, closeBody(0, 1, 0, 1, 2, leafHex(aliceNorth)))),
			wantErr: rule.ErrRuleViolation, wantMsg: `"North" has 1 ballots, not 0`},
		{name: "forged close: wrong tokens", entries: seq(aliceNorth, closeE(t, closeBody(1, 0, 0, 1, 3, leafHex(aliceNorth)))), wantErr: rule.ErrRuleViolation},
		{name: "forged close: wrong last ballot", entries: seq(aliceNorth, closeE(t, closeBody(1, 0, 0, 1, 2, strings.Repeat("0", 64)))), wantErr: rule.ErrRuleViolation},
		{name: "forged close: option missing", entries: seq(closeE(t, map[string]any{"election_id": election, "counts": map[string]int64{"North": 0, "South": 0},
			"ballots": 0, "tokens": 2, "last_ballot": ""})), wantErr: rule.ErrRuleViolation, wantMsg: `no count for "None"`},
		{name: "forged close: option added", entries: seq(closeE(t, map[string]any{"election_id": election, "counts": map[string]int64{"North": 0, "South": 0, "None": 0, "West": 0},
			"ballots": 0, "tokens": 2, "last_ballot": ""})), wantErr: rule.ErrRuleViolation, wantMsg: `"West" is not an option`},
		{name: "close counts not adding up", entries: seq(closeE(t, closeBody(1, 0, 0, 0, 2, ""))), wantErr: rule.ErrInvalidBody},
		{name: "close before closing time", entries: seq(statement(t, engine, votes.TypeClose, t1.Add(-time.Second), closeBody(0, 0, 0, 0, 2, ""), agencyKey())),
			wantErr: rule.ErrRuleViolation, wantMsg: "after the close entry"},
		{name: "close twice", entries: seq(closeE(t, closeBody(0, 0, 0, 0, 2, "")), closeE(t, closeBody(0, 0, 0, 0, 2, ""))), wantErr: rule.ErrRuleViolation},
		{name: "close of no election", entries: seq(closeE(t, with(closeBody(0, 0, 0, 0, 2, ""), "election_id", "e9"))), wantErr: rule.ErrRuleViolation},
		{name: "unknown type", entries: []rule.Entry{statement(t, authority, "votes.recount", t0, map[string]any{}, agencyKey())}, wantErr: rule.ErrUnknownType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ruletest.CheckEntries(t, votes.New(), ruletest.State{}, tc.entries, tc.wantErr, tc.wantMsg)
		})
	}
}

func manyOptions(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "Option " + strings.Repeat("x", i%5) + string(rune('A'+i%26)) + string(rune('a'+i/26))
	}
	return out
}

func TestDue(t *testing.T) {
	ctx := context.Background()
	r := votes.New()
	st := ruletest.State{}
	alice, bob := newVoter(t, election), newVoter(t, election)
	ruletest.Apply(t, r, st, openE(t, openBody(t, election)), tokens(t, election, 1, 3),
		openE(t, with(with(openBody(t, "e2"), "closes", t1.Add(time.Hour).Format(time.RFC3339)), "options", []string{"Yes", "No"})),
		ballot(t, "North", alice), ballot(t, "None", bob))
	for _, now := range []time.Time{t0, t1.Add(-time.Second)} {
		if due, err := r.Due(ctx, st, now); err != nil || len(due) != 0 {
			t.Fatalf("Due(%s) = %v, %v; want nothing before the close", now, due, err)
		}
	}
	due, err := r.Due(ctx, st, t1)
	if err != nil || len(due) != 1 {
		t.Fatalf("Due(t1) = %v, %v; want e1's close", due, err)
	}
	d := due[0]
	if d.Type != votes.TypeClose || d.Key != votes.ElectionKey(election) || !d.Since.Equal(t1) {
		t.Errorf("Due(t1) = %+v", d)
	}
	b := d.Body.(votes.CloseBody)
	if b.Counts["North"] != 1 || b.Counts["South"] != 0 || b.Counts["None"] != 1 || b.Ballots != 2 || b.Tokens != 3 {
		t.Errorf("due close body = %+v", b)
	}
	if due, _ := r.Due(ctx, st, t1.Add(2*time.Hour)); len(due) != 2 {
		t.Errorf("Due(t1+2h) = %v, want both elections", due)
	}
	closed := closeE(t, d.Body)
	ruletest.Apply(t, r, st, closed)
	if due, err := r.Due(ctx, st, t1.Add(time.Minute)); err != nil || len(due) != 0 {
		t.Errorf("Due after the close = %v, %v; want nothing", due, err)
	}
	if _, err := ruletest.Admit(ctx, r, st, closed, nil); !errors.Is(err, rule.ErrRuleViolation) {
		t.Errorf("the close again: %v, want ErrRuleViolation", err)
	}
}

// TestDueRace: a ballot admitted after the Scheduler computed the close
// makes that close refused; the next one is admitted.
func TestDueRace(t *testing.T) {
	ctx := context.Background()
	r := votes.New()
	st := ruletest.State{}
	ruletest.Apply(t, r, st, openE(t, openBody(t, election)), tokens(t, election, 1, 3))
	early := dueClose(t, st, election)
	ruletest.Apply(t, r, st, ballotAt(t, t1.Add(-time.Second), election, "South", newVoter(t, election)))
	if _, err := ruletest.Admit(ctx, r, st, early, nil); !errors.Is(err, rule.ErrRuleViolation) {
		t.Fatalf("stale close: %v, want ErrRuleViolation", err)
	}
	ruletest.Apply(t, r, st, dueClose(t, st, election))
}

// electionLog is a whole election's log: opened, two batches of tokens,
// n ballots and the close.
func electionLog(t testing.TB, n int) []rule.Entry {
	t.Helper()
	st := ruletest.State{}
	r := votes.New()
	entries := []rule.Entry{openE(t, openBody(t, election)), tokens(t, election, 1, int64(n)), tokens(t, election, 2, 2)}
	ruletest.Apply(t, r, st, entries...)
	choices := []string{"North", "South", "North", "None"}
	for i := range n {
		e := ballotAt(t, t0.Add(time.Duration(i)*time.Minute), election, choices[i%len(choices)], newVoter(t, election))
		ruletest.Apply(t, r, st, e)
		entries = append(entries, e)
	}
	entries = append(entries, dueClose(t, st, election))
	return indexed(entries...)
}

func TestReplayEqualsState(t *testing.T) {
	entries := electionLog(t, 6)
	st := ruletest.State{}
	admitted := ruletest.Apply(t, votes.New(), st, entries...)
	ruletest.ReplayEqualsState(t, votes.New(), admitted, st)
}

func TestStorageFailures(t *testing.T) {
	entries := electionLog(t, 2)
	r := votes.New()
	for i, e := range entries {
		st := ruletest.State{}
		ruletest.Apply(t, r, st, entries[:i]...)
		ruletest.CheckStorageFailures(t, r, st, e)
	}
}

func TestReadKeys(t *testing.T) {
	entries := electionLog(t, 2)
	r := votes.New()
	st := ruletest.State{}
	for _, e := range entries {
		named := map[string]bool{}
		for _, k := range r.ReadKeys(e) {
			named[k] = true
		}
		p := &ruletest.Probe{State: st}
		if _, err := ruletest.Admit(context.Background(), r, p, e, nil); err != nil {
			t.Fatal(err)
		}
		for _, k := range p.Read {
			if !named[k] {
				t.Errorf("%s read %s, which ReadKeys did not name", e.Type, k)
			}
		}
	}
}

func hexOf(h [32]byte) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 64)
	for i, c := range h {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(b)
}
