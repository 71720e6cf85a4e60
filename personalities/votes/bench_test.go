package votes_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
	"github.com/govlog/govlog/personalities/votes"
)

// voters makes n voters of the election, on all CPUs: each needs the
// issuer's blind signature, a 2048-bit RSA private-key operation.
func voters(b testing.TB, n int) []voter {
	out := make([]voter, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range work {
				out[i] = newVoter(b, election)
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

// BenchmarkBallotApply admits ballots through rule.Admit: the token's RSA
// verification, the one-time key's signature and the rules.
func BenchmarkBallotApply(b *testing.B) {
	ctx := context.Background()
	r := votes.New()
	st := ruletest.State{}
	ruletest.Apply(b, r, st, openE(b, openBody(b, election)), tokens(b, election, 1, int64(b.N)))
	vs := voters(b, b.N)
	choices := []string{"North", "South", "None"}
	entries := make([]rule.Entry, b.N)
	for i, v := range vs {
		entries[i] = ballotAt(b, t0.Add(time.Duration(i%40000)*time.Second), election, choices[i%3], v)
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := ruletest.Admit(ctx, r, st, entries[i], nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ballots/s")
}

// tallyBallots is the number of ballots BenchmarkTally100k recounts:
// 10,000 unless VOTES_TALLY_BALLOTS says otherwise (100000 for the full
// run; making each ballot's token takes a blind signature, about 1.5 ms of
// one CPU).
func tallyBallots() int {
	if n, err := strconv.Atoi(os.Getenv("VOTES_TALLY_BALLOTS")); err == nil && n > 0 {
		return n
	}
	return 10_000
}

// BenchmarkTally100k runs the tally tool's recount over an election of
// tallyBallots() ballots (see there), and reports the time per ballot.
func BenchmarkTally100k(b *testing.B) {
	n := tallyBallots()
	vs := voters(b, n)
	st := ruletest.State{}
	r := votes.New()
	entries := []rule.Entry{openE(b, openBody(b, election)), tokens(b, election, 1, int64(n))}
	ruletest.Apply(b, r, st, entries...)
	choices := []string{"North", "South", "None", "North"}
	for i, v := range vs {
		// Built as admission would: the rules' checks are in the other
		// benchmark; here only the entries matter.
		entries = append(entries, ballotAt(b, t0.Add(time.Duration(i%40000)*time.Second), election, choices[i%4], v))
	}
	for _, e := range entries[2:] {
		if _, err := ruletest.Admit(context.Background(), r, st, e, nil); err != nil {
			b.Fatal(err)
		}
	}
	entries = append(entries, dueClose(b, st, election))
	ps := provedAll(indexed(entries...))
	b.ResetTimer()
	for range b.N {
		rc, err := votes.Recount(ps, election, nil)
		if err != nil || rc.Err() != nil || rc.Ballots != int64(n) {
			b.Fatalf("Recount: %v, %v", err, rc.Err())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/ballot")
	b.ReportMetric(float64(n), "ballots")
}
