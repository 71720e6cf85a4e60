package votes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
	"github.com/govlog/govlog/personalities/votes"
)

// memView is a rule.View over a state and the entries admitted into it.
type memView struct {
	ruletest.State
	entries map[[32]byte]rule.Entry
}

func (v memView) Entry(_ context.Context, h [32]byte) (rule.Entry, bool, error) {
	e, ok := v.entries[h]
	e.Agency = ""
	return e, ok, nil
}

func viewOf(t testing.TB, entries []rule.Entry) memView {
	t.Helper()
	v := memView{ruletest.State{}, map[[32]byte]rule.Entry{}}
	for _, e := range ruletest.Apply(t, votes.New(), v.State, entries...) {
		v.entries[e.LeafHash] = e
	}
	return v
}

// ask asks v a query and returns the answer as a client receives it, with
// the entries it cites, proved.
func ask(t testing.TB, v memView, query string, args map[string]string) ([]byte, []rule.ProvedEntry) {
	t.Helper()
	res, cited, err := votes.New().Query(context.Background(), v, query, args)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var ps []rule.ProvedEntry
	for _, h := range cited {
		e, ok, _ := v.Entry(context.Background(), h)
		if !ok {
			t.Fatalf("cited %x, which the log does not hold", h)
		}
		ps = append(ps, proved(e))
	}
	return b, ps
}

func TestQueryElection(t *testing.T) {
	entries := electionLog(t, 4)
	r := votes.New()
	args := map[string]string{"id": election}
	open := viewOf(t, entries[:len(entries)-1])
	res, cited := ask(t, open, votes.QueryElection, args)
	if bytes.Contains(res, []byte(`"counts"`)) || bytes.Contains(res, []byte(`"close"`)) {
		t.Errorf("the answer shows counts before the close: %s", res)
	}
	if len(cited) != 3 {
		t.Errorf("cited %d entries, want the open and 2 batches", len(cited))
	}
	checked, err := r.CheckAnswer(votes.QueryElection, args, res, cited)
	if err != nil || !strings.Contains(checked, "not closed") {
		t.Fatalf("CheckAnswer = %q, %v", checked, err)
	}

	closed := viewOf(t, entries)
	res, cited = ask(t, closed, votes.QueryElection, args)
	checked, err = r.CheckAnswer(votes.QueryElection, args, res, cited)
	if err != nil || !strings.Contains(checked, "tally of 4 ballots") {
		t.Fatalf("CheckAnswer = %q, %v", checked, err)
	}
	var a votes.ElectionAnswer
	if err := json.Unmarshal(res, &a); err != nil || a.Close == nil || a.Close.Counts["North"] != 2 || a.Tokens != 6 || a.Ballots != 4 {
		t.Fatalf("answer %s (%v)", res, err)
	}
	var out strings.Builder
	if err := r.FormatAnswer(&out, votes.QueryElection, res); err != nil || !strings.Contains(out.String(), "2  North") {
		t.Errorf("FormatAnswer: %v\n%s", err, out.String())
	}

	tamper := func(name string, change func(a *votes.ElectionAnswer), cited []rule.ProvedEntry) {
		t.Run(name, func(t *testing.T) {
			var a votes.ElectionAnswer
			if err := json.Unmarshal(res, &a); err != nil {
				t.Fatal(err)
			}
			change(&a)
			b, _ := json.Marshal(a)
			if _, err := r.CheckAnswer(votes.QueryElection, args, b, cited); !errors.Is(err, votes.ErrAnswerMismatch) {
				t.Errorf("CheckAnswer = %v, want ErrAnswerMismatch", err)
			}
		})
	}
	tamper("counts", func(a *votes.ElectionAnswer) { a.Close.Counts["North"]++; a.Close.Counts["South"]-- }, cited)
	tamper("tokens", func(a *votes.ElectionAnswer) { a.Tokens++ }, cited)
	tamper("batch count", func(a *votes.ElectionAnswer) { a.Batches[1].Count++; a.Tokens++ }, cited)
	tamper("batch dropped", func(a *votes.ElectionAnswer) { a.Batches = a.Batches[:1] }, cited)
	tamper("ballots", func(a *votes.ElectionAnswer) { a.Ballots-- }, cited)
	tamper("question", func(a *votes.ElectionAnswer) { a.Election.Question = "Which park last?" }, cited)
	tamper("options", func(a *votes.ElectionAnswer) {
		a.Election.Options[0], a.Election.Options[1] = a.Election.Options[1], a.Election.Options[0]
	}, cited)
	tamper("closes", func(a *votes.ElectionAnswer) { a.Election.Closes = "2099-01-01T00:00:00Z" }, cited)
	tamper("close uncited", func(a *votes.ElectionAnswer) {}, cited[:len(cited)-1])
	tamper("close as open", func(a *votes.ElectionAnswer) { a.Close.LeafHash = a.Election.LeafHash }, cited)
	if _, err := r.CheckAnswer(votes.QueryElection, map[string]string{"id": "e2"}, res, cited); !errors.Is(err, votes.ErrAnswerMismatch) {
		t.Errorf("answer about another election: %v", err)
	}

	for _, q := range []struct {
		name string
		args map[string]string
		want error
	}{
		{votes.QueryElection, map[string]string{"id": "e9"}, rule.ErrNotFound},
		{votes.QueryElection, map[string]string{"id": "e/1"}, rule.ErrInvalidQuery},
		{votes.QueryElection, map[string]string{}, rule.ErrInvalidQuery},
		{votes.QueryBallot, map[string]string{"leaf_hash": "zz"}, rule.ErrInvalidQuery},
		{votes.QueryBallot, map[string]string{"leaf_hash": strings.Repeat("ab", 32)}, rule.ErrNotFound},
		{votes.QueryBallot, map[string]string{"leaf_hash": hexOf(entries[0].LeafHash)}, rule.ErrNotFound},
		{"tally", map[string]string{"id": election}, rule.ErrUnknownQuery},
	} {
		if _, _, err := r.Query(context.Background(), closed, q.name, q.args); !errors.Is(err, q.want) {
			t.Errorf("Query(%s, %v) = %v, want %v", q.name, q.args, err, q.want)
		}
	}
}

func TestQueryBallot(t *testing.T) {
	entries := electionLog(t, 3)
	r := votes.New()
	b := entries[4] // the second ballot
	args := map[string]string{"leaf_hash": hexOf(b.LeafHash)}

	res, cited := ask(t, viewOf(t, entries[:len(entries)-1]), votes.QueryBallot, args)
	checked, err := r.CheckAnswer(votes.QueryBallot, args, res, cited)
	if err != nil || !strings.Contains(checked, "not closed yet") {
		t.Fatalf("CheckAnswer = %q, %v", checked, err)
	}

	res, cited = ask(t, viewOf(t, entries), votes.QueryBallot, args)
	checked, err = r.CheckAnswer(votes.QueryBallot, args, res, cited)
	if err != nil || !strings.Contains(checked, `counts 1 ballots for "South"`) {
		t.Fatalf("CheckAnswer = %q, %v\n%s", checked, err, res)
	}
	var out strings.Builder
	if err := r.FormatAnswer(&out, votes.QueryBallot, res); err != nil || !strings.Contains(out.String(), "ballot 2 of the election") {
		t.Errorf("FormatAnswer: %v\n%s", err, out.String())
	}
	tamper := func(name string, change func(a *votes.BallotAnswer)) {
		t.Run(name, func(t *testing.T) {
			var a votes.BallotAnswer
			if err := json.Unmarshal(res, &a); err != nil {
				t.Fatal(err)
			}
			change(&a)
			out, _ := json.Marshal(a)
			if _, err := r.CheckAnswer(votes.QueryBallot, args, out, cited); !errors.Is(err, votes.ErrAnswerMismatch) {
				t.Errorf("CheckAnswer = %v, want ErrAnswerMismatch", err)
			}
		})
	}
	tamper("choice", func(a *votes.BallotAnswer) { a.Choice = "North" })
	tamper("for choice", func(a *votes.BallotAnswer) { a.Close.ForChoice = 7 })
	tamper("number", func(a *votes.BallotAnswer) { a.N = 9 })
	tamper("closes", func(a *votes.BallotAnswer) { a.Election.Closes = "2099-01-01T00:00:00Z" })
	tamper("close is the ballot", func(a *votes.BallotAnswer) { a.Close.LeafHash = a.LeafHash })
}
