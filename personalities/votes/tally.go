package votes

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/blindtoken"
	"github.com/govlog/govlog/personalities/rule/notesig"
)

var _ rule.Toolbox = (*Rules)(nil)

// ErrTallyDiffers is what the tally tool returns when its recount is not
// the log's tally, or the log holds entries its rules refuse.
var ErrTallyDiffers = errors.New("the recount differs from the log's tally")

// Tools offers tally: `govlog votes tally ELECTION`.
func (*Rules) Tools() []rule.Tool {
	return []rule.Tool{{
		Name:    "tally",
		ArgName: "ELECTION",
		Summary: "Recount an election from every ballot in the log and compare with the log's tally",
		Doc: `tally reads every entry of the votes log, verified against --policy, and
recounts ELECTION by itself: each ballot's token must verify with the
election's issuer key, the ballot must be signed by one key named voter, cast
while the election was open, for one of its options, with a token not used
before, and within the tokens issued so far; the ballot's signature by its
one-time key is checked too. A ballot that fails is listed and not counted;
only ballots before the close entry count. It then compares its counts, the
number of ballots and of tokens issued, and the last ballot with the log's
close entry and says whether they match. It exits with an error if they
differ or the log holds a ballot after its close.`,
		Run: func(_ context.Context, entries []rule.ProvedEntry, arg string, _ map[string]string, w io.Writer) error {
			r, err := Recount(entries, arg, notesOf(entries))
			if err != nil {
				return err
			}
			return r.Write(w)
		},
	}}
}

// notesOf gives Recount the signed notes the entries carry, nil if they
// carry none (a caller that handed only bodies).
func notesOf(entries []rule.ProvedEntry) Notes {
	byHash := map[[32]byte]int{}
	for i, e := range entries {
		if len(e.Signatures) > 0 {
			byHash[e.LeafHash] = i
		}
	}
	if len(byHash) == 0 {
		return nil
	}
	return func(h [32]byte) ([]byte, []rule.Signature, bool) {
		i, ok := byHash[h]
		if !ok {
			return nil, nil, false
		}
		return entries[i].Text, entries[i].Signatures, true
	}
}

// Notes gives the signed note of a ballot entry (its Text and Signatures,
// as a [rule.Entry] holds them), ok=false if it has none, for [Recount] to
// check the one-time key's signature.
type Notes func(leafHash [32]byte) (text []byte, sigs []rule.Signature, ok bool)

// RefusedBallot is a ballot of the election that the recount does not
// count.
type RefusedBallot struct {
	Index    uint64
	LeafHash string
	Reason   string
}

// Recounted is what [Recount] found.
type Recounted struct {
	ElectionID string
	Options    []string
	// Tokens is the sum of the election's votes.tokens counts before its
	// close entry.
	Tokens int64
	// Counts are the ballots counted per option, in the order of Options,
	// Ballots their sum and LastBallot the leaf hash of the last.
	Counts     []int64
	Ballots    int64
	LastBallot string
	// Refused lists the ballots not counted, and AfterClose the entries
	// of the election (ballots, tokens) after its close entry, which the
	// rules refuse.
	Refused    []RefusedBallot
	AfterClose []RefusedBallot
	// Logged is the close entry's body and CloseIndex its index; nil if
	// the log has not closed the election.
	Logged     *CloseBody
	CloseIndex uint64
	// Differences says how the close entry differs from the recount.
	Differences []string
	// SignaturesChecked is set when every ballot's one-time key signature
	// was checked (Recount had its notes).
	SignaturesChecked bool
}

// Recount recomputes the tally of election from entries, every entry of
// the votes log in index order, as the package doc's rules count it, and
// compares it with the close entry. notes, if not nil, gives the signed
// note of each ballot, whose signature it then checks (with [notesig]); a
// ballot whose note it lacks is refused. The tokens of the ballots are
// verified in parallel. An error means there is no such election in the
// entries.
func Recount(entries []rule.ProvedEntry, election string, notes Notes) (*Recounted, error) {
	r := &Recounted{ElectionID: election, SignaturesChecked: notes != nil}
	openAt := slices.IndexFunc(entries, func(e rule.ProvedEntry) bool {
		if e.Type != TypeOpen {
			return false
		}
		b, err := ParseOpenBody(e.Body)
		return err == nil && b.ElectionID == election
	})
	if openAt < 0 {
		return nil, fmt.Errorf("the log holds no votes.election.open of election %.80q", election)
	}
	open, _ := ParseOpenBody(entries[openAt].Body)
	pub, _ := blindtoken.ParseIssuerKey(open.IssuerKey) // checked by ParseOpenBody
	opens, _ := parseTime(open.Opens)
	closes, _ := parseTime(open.Closes)
	r.Options = open.Options
	r.Counts = make([]int64, len(open.Options))

	// The ballots of the election, parsed, with their tokens verified in
	// parallel: the verification is most of the work.
	ballots := map[int]*recountBallot{}
	for i, e := range entries {
		if e.Type != TypeBallot {
			continue
		}
		b, err := ParseBallotBody(e.Body)
		if err != nil {
			if electionOf(e.Body) == election {
				ballots[i] = &recountBallot{bad: err.Error()}
			}
			continue
		}
		if b.ElectionID == election {
			ballots[i] = &recountBallot{b: b, parsed: true}
		}
	}
	verifyBallots(pub, election, entries, ballots, notes)

	seen := map[string]uint64{} // token key -> index of its ballot
	closed := false
	for i, e := range entries {
		if i <= openAt {
			if _, ok := ballots[i]; ok {
				r.Refused = append(r.Refused, RefusedBallot{e.Index, leafHex(e.LeafHash), "cast before the election was opened"})
			}
			continue
		}
		switch e.Type {
		case TypeTokens:
			b, err := ParseTokensBody(e.Body)
			if err != nil || b.ElectionID != election {
				continue
			}
			if closed {
				r.AfterClose = append(r.AfterClose, RefusedBallot{e.Index, leafHex(e.LeafHash), fmt.Sprintf("votes.tokens batch %d after the close", b.Batch)})
				continue
			}
			r.Tokens += b.Count
		case TypeClose:
			b, err := ParseCloseBody(e.Body)
			if err != nil || b.ElectionID != election || closed {
				continue
			}
			closed, r.Logged, r.CloseIndex = true, &b, e.Index
		case TypeBallot:
			x, ok := ballots[i]
			if !ok {
				continue
			}
			refuse := func(reason string) {
				r.Refused = append(r.Refused, RefusedBallot{e.Index, leafHex(e.LeafHash), reason})
			}
			choice := slices.Index(open.Options, x.b.Choice)
			switch at := e.Time.UTC(); {
			case closed:
				r.AfterClose = append(r.AfterClose, RefusedBallot{e.Index, leafHex(e.LeafHash), "ballot after the close"})
			case x.bad != "":
				refuse(x.bad)
			case at.Before(opens) || !at.Before(closes):
				refuse(fmt.Sprintf("cast at %s, when the election was not open", formatTime(at)))
			case choice < 0:
				refuse(fmt.Sprintf("%q is not an option", x.b.Choice))
			case seen[x.b.Token.Key] != 0:
				refuse(fmt.Sprintf("its token voted before, at index %d", seen[x.b.Token.Key]-1))
			case r.Ballots >= r.Tokens:
				refuse(fmt.Sprintf("ballot %d, but only %d tokens were issued by then", r.Ballots+1, r.Tokens))
			default:
				seen[x.b.Token.Key] = e.Index + 1
				r.Counts[choice]++
				r.Ballots++
				r.LastBallot = leafHex(e.LeafHash)
			}
		}
	}
	if r.Logged != nil {
		want := CloseBody{ElectionID: election, Counts: map[string]int64{}, Ballots: r.Ballots, Tokens: r.Tokens, LastBallot: r.LastBallot}
		for i, o := range r.Options {
			want.Counts[o] = r.Counts[i]
		}
		r.Differences = tallyDiffs(want, *r.Logged)
	}
	return r, nil
}

// recountBallot is a ballot of the election being recounted.
type recountBallot struct {
	b      BallotBody
	parsed bool
	bad    string // why it does not parse or verify
}

// verifyBallots checks the token (and, with notes, the signature) of every
// parsed ballot, on all CPUs, and records why those that fail do.
func verifyBallots(pub *rsa.PublicKey, election string, entries []rule.ProvedEntry, ballots map[int]*recountBallot, notes Notes) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range work {
				// Each ballot is one worker's: no lock needed.
				if x := ballots[i]; x.parsed {
					x.bad = checkBallotEntry(pub, election, entries[i], x.b, notes)
				}
			}
		})
	}
	for i := range ballots {
		work <- i
	}
	close(work)
	wg.Wait()
}

// checkBallotEntry says why a ballot's signer or token does not verify, ""
// if they do.
func checkBallotEntry(pub *rsa.PublicKey, election string, e rule.ProvedEntry, b BallotBody, notes Notes) string {
	if !slices.Equal(e.Signers, []string{VoterKeyName}) {
		return fmt.Sprintf("not signed by one key named %s (signers %q)", VoterKeyName, e.Signers)
	}
	if err := blindtoken.Verify(pub, election, b.Token); err != nil {
		return fmt.Sprintf("its token does not verify: %v", err)
	}
	if notes == nil {
		return ""
	}
	text, sigs, ok := notes(e.LeafHash)
	if !ok {
		return "its signed note is missing"
	}
	if err := notesig.Verify(b.Token.Key, rule.Entry{Text: text, Signatures: sigs}); err != nil {
		return fmt.Sprintf("its signature: %v", err)
	}
	return ""
}

// electionOf reads the election_id of a body the parser refuses, "" if it
// has none.
func electionOf(data []byte) string {
	var b struct {
		ElectionID string `json:"election_id"`
	}
	if json.Unmarshal(data, &b) != nil {
		return ""
	}
	return b.ElectionID
}

// Err returns an error wrapping [ErrTallyDiffers] if the recount differs
// from the close entry or the log holds entries of the election after its
// close, nil otherwise.
func (r *Recounted) Err() error {
	var why []string
	if len(r.Differences) > 0 {
		why = append(why, strings.Join(r.Differences, "; "))
	}
	if n := len(r.AfterClose); n > 0 {
		why = append(why, fmt.Sprintf("the log holds %d entries of the election after its close", n))
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("%w: election %s: %s", ErrTallyDiffers, r.ElectionID, strings.Join(why, "; "))
}

// Write prints the recount for people, and returns [Recounted.Err].
func (r *Recounted) Write(w io.Writer) error {
	var s strings.Builder
	fmt.Fprintf(&s, "Election %s, recounted from the log's entries:\n", r.ElectionID)
	for i, o := range r.Options {
		fmt.Fprintf(&s, "  %8d  %s\n", r.Counts[i], o)
	}
	fmt.Fprintf(&s, "ballots counted: %d; tokens issued: %d%s\n", r.Ballots, r.Tokens, turnout(r.Ballots, r.Tokens))
	if len(r.Refused) > 0 {
		fmt.Fprintf(&s, "ballots not counted: %d\n", len(r.Refused))
		for _, b := range r.Refused {
			fmt.Fprintf(&s, "  index %d (%s): %s\n", b.Index, b.LeafHash, b.Reason)
		}
	}
	if len(r.AfterClose) > 0 {
		fmt.Fprintf(&s, "entries after the close entry, which the rules refuse: %d\n", len(r.AfterClose))
		for _, b := range r.AfterClose {
			fmt.Fprintf(&s, "  index %d (%s): %s\n", b.Index, b.LeafHash, b.Reason)
		}
	}
	if !r.SignaturesChecked {
		s.WriteString("one-time key signatures: not re-checked here (the log checked them at admission, monitors on replay)\n")
	}
	switch {
	case r.Logged == nil:
		s.WriteString("the log has not closed the election: there is no tally of its own to compare\n")
	case len(r.Differences) == 0:
		fmt.Fprintf(&s, "MATCHES the log's tally (the close entry at index %d)\n", r.CloseIndex)
	default:
		fmt.Fprintf(&s, "DIFFERS from the log's tally (the close entry at index %d): %s\n", r.CloseIndex, strings.Join(r.Differences, "; "))
	}
	if _, err := io.WriteString(w, s.String()); err != nil {
		return err
	}
	return r.Err()
}
