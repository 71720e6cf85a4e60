package votes_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/votes"
)

func provedAll(entries []rule.Entry) []rule.ProvedEntry {
	out := make([]rule.ProvedEntry, len(entries))
	for i, e := range entries {
		out[i] = proved(e)
	}
	return out
}

// runTally runs the tally tool as the CLI does.
func runTally(t *testing.T, entries []rule.ProvedEntry, id string) (string, error) {
	t.Helper()
	tools := votes.New().Tools()
	if len(tools) != 1 || tools[0].Name != "tally" || tools[0].ArgName != "ELECTION" {
		t.Fatalf("Tools() = %+v", tools)
	}
	var out bytes.Buffer
	err := tools[0].Run(context.Background(), entries, id, nil, &out)
	return out.String(), err
}

func TestTallyMatches(t *testing.T) {
	entries := electionLog(t, 5)
	out, err := runTally(t, provedAll(entries), election)
	if err != nil {
		t.Fatalf("tally: %v\n%s", err, out)
	}
	for _, want := range []string{"MATCHES the log's tally", "       3  North", "       1  South", "       1  None",
		"ballots counted: 5; tokens issued: 7", "not re-checked"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// With the notes, the signatures are checked too.
	notes := func(h [32]byte) ([]byte, []rule.Signature, bool) {
		for _, e := range entries {
			if e.LeafHash == h {
				return e.Text, e.Signatures, true
			}
		}
		return nil, nil, false
	}
	r, err := votes.Recount(provedAll(entries), election, notes)
	if err != nil || r.Err() != nil || !r.SignaturesChecked || r.Ballots != 5 {
		t.Fatalf("Recount with notes = %+v, %v", r, err)
	}
	// A ballot whose signature does not verify is refused by the recount.
	bad := func(h [32]byte) ([]byte, []rule.Signature, bool) {
		text, sigs, ok := notes(h)
		if h == entries[3].LeafHash {
			sigs = []rule.Signature{sigs[0]}
			sigs[0].Sig = append([]byte(nil), sigs[0].Sig...)
			sigs[0].Sig[0] ^= 1
		}
		return text, sigs, ok
	}
	if r, err := votes.Recount(provedAll(entries), election, bad); err != nil || len(r.Refused) != 1 || !errors.Is(r.Err(), votes.ErrTallyDiffers) {
		t.Errorf("Recount with a bad signature = %+v, %v", r, err)
	}
	if _, err := runTally(t, provedAll(entries), "e9"); err == nil {
		t.Errorf("tally of no election: no error")
	}
}

func TestTallyDiffers(t *testing.T) {
	entries := electionLog(t, 4)
	last := len(entries) - 1
	// withBallot is the log with extra, a ballot, before the close, and a
	// close that counts it for South.
	withBallot := func(t *testing.T, extra rule.ProvedEntry) []rule.ProvedEntry {
		ps := provedAll(entries)
		extra.Index = uint64(last)
		cl := ps[last]
		cl.Index++
		body := string(cl.Body)
		for _, r := range [][2]string{{`"ballots":4`, `"ballots":5`}, {`"South":1`, `"South":2`}, {hexOf(entries[last-1].LeafHash), hexOf(extra.LeafHash)}} {
			if !strings.Contains(body, r[0]) {
				t.Fatalf("close body %s lacks %s", body, r[0])
			}
			body = strings.Replace(body, r[0], r[1], 1)
		}
		cl.Body = []byte(body)
		return append(ps[:last], extra, cl)
	}
	t.Run("forged token counted", func(t *testing.T) {
		forged := newVoter(t, election)
		forged.token = tokenFor(t, otherIssuer(), election, forged.key)
		ps := withBallot(t, proved(ballotAt(t, t0.Add(10*time.Hour), election, "South", forged)))
		out, err := runTally(t, ps, election)
		if !errors.Is(err, votes.ErrTallyDiffers) || !strings.Contains(out, "DIFFERS from the log's tally") || !strings.Contains(out, "its token does not verify") {
			t.Errorf("err %v\n%s", err, out)
		}
	})
	t.Run("token counted twice", func(t *testing.T) {
		dup := proved(entries[4]) // the second ballot's token, voting again
		dup.LeafHash[0] ^= 1
		out, err := runTally(t, withBallot(t, dup), election)
		if !errors.Is(err, votes.ErrTallyDiffers) || !strings.Contains(out, "DIFFERS") || !strings.Contains(out, "its token voted before") {
			t.Errorf("err %v\n%s", err, out)
		}
	})
	t.Run("wrong counts", func(t *testing.T) {
		ps := provedAll(entries)
		ps[last].Body = []byte(strings.Replace(strings.Replace(string(ps[last].Body), `"North":2`, `"North":1`, 1), `"South":1`, `"South":2`, 1))
		out, err := runTally(t, ps, election)
		if !errors.Is(err, votes.ErrTallyDiffers) || !strings.Contains(out, `DIFFERS from the log's tally (the close entry at index 7): "North" has 2 ballots, not 1`) {
			t.Errorf("err %v\n%s", err, out)
		}
	})
	t.Run("ballot after the close", func(t *testing.T) {
		ps := provedAll(entries)
		after := proved(ballotAt(t, t0.Add(time.Hour), election, "North", newVoter(t, election)))
		after.Index = uint64(len(ps))
		out, err := runTally(t, append(ps, after), election)
		if !errors.Is(err, votes.ErrTallyDiffers) || !strings.Contains(out, "MATCHES") || !strings.Contains(out, "entries after the close entry") {
			t.Errorf("err %v\n%s", err, out)
		}
	})
	t.Run("not closed", func(t *testing.T) {
		out, err := runTally(t, provedAll(entries[:last]), election)
		if err != nil || !strings.Contains(out, "has not closed the election") {
			t.Errorf("err %v\n%s", err, out)
		}
	})
}
