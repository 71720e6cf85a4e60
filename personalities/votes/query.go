package votes

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/answer"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/record"
)

// The queries of the log.
const (
	QueryElection = "election"
	QueryBallot   = "ballot"
)

// ElectionAnswer is the answer to an election query.
type ElectionAnswer struct {
	ID       string `json:"id"`
	Election Terms  `json:"election"`
	// Tokens is the number of tokens issued, the sum of Batches' counts.
	Tokens  int64         `json:"tokens"`
	Batches []BatchRecord `json:"batches"`
	// Ballots is the number of ballots admitted so far.
	Ballots int64 `json:"ballots"`
	// Close is the close entry and its tally, nil while the election has
	// none: the counts are not shown before it.
	Close *CloseAnswer `json:"close,omitempty"`
}

// Terms are an election's terms, as its votes.election.open set them.
type Terms struct {
	Authority string   `json:"authority"`
	Question  string   `json:"question"`
	Options   []string `json:"options"`
	Opens     string   `json:"opens"`
	Closes    string   `json:"closes"`
	IssuerKey string   `json:"issuer_key"`
	// Opened is the time of the votes.election.open, LeafHash its leaf
	// hash.
	Opened   string `json:"opened"`
	LeafHash string `json:"leaf_hash"`
}

// CloseAnswer is an election's close entry and the tally it holds.
type CloseAnswer struct {
	Time       string           `json:"time"`
	LeafHash   string           `json:"leaf_hash"`
	Counts     map[string]int64 `json:"counts"`
	LastBallot string           `json:"last_ballot"`
}

// BallotAnswer is the answer to a ballot query: the ballot is in the
// count of its election (every ballot the log admitted is).
type BallotAnswer struct {
	LeafHash   string `json:"leaf_hash"`
	ElectionID string `json:"election_id"`
	Choice     string `json:"choice"`
	Time       string `json:"time"`
	// N is its number among the election's ballots, from 1.
	N int64 `json:"n"`
	// Election is the entry that opened the election.
	Election OpenRef `json:"election"`
	// Close is the election's close entry, nil while it has none.
	Close *CloseRef `json:"close,omitempty"`
}

// OpenRef names an election's votes.election.open.
type OpenRef struct {
	LeafHash string `json:"leaf_hash"`
	Opens    string `json:"opens"`
	Closes   string `json:"closes"`
}

// CloseRef names an election's votes.close.
type CloseRef struct {
	LeafHash string `json:"leaf_hash"`
	Time     string `json:"time"`
	// Ballots is the number of ballots the close counts, and ForChoice
	// those for the ballot's choice.
	Ballots   int64 `json:"ballots"`
	ForChoice int64 `json:"for_choice"`
}

// ErrAnswerMismatch is what CheckAnswer's errors wrap: the answer says what
// its entries do not.
var ErrAnswerMismatch = errors.New("the answer does not match its entries")

var (
	_ rule.Querier     = (*Rules)(nil)
	_ rule.QueryClient = (*Rules)(nil)
)

// Query implements [rule.Querier]. The election query reads at most
// 1 + [MaxBatches] keys, the ballot query one entry and two keys.
func (*Rules) Query(ctx context.Context, v rule.View, name string, args map[string]string) (any, [][32]byte, error) {
	var arg string
	switch name {
	case QueryElection:
		arg = "id"
	case QueryBallot:
		arg = "leaf_hash"
	default:
		return nil, nil, fmt.Errorf("%w %.64q: the %s log answers %q and %q", rule.ErrUnknownQuery, name, LogName, QueryElection, QueryBallot)
	}
	val, ok := args[arg]
	if len(args) != 1 || !ok {
		return nil, nil, fmt.Errorf("%w: the %s query takes one argument, %s (have %q)", rule.ErrInvalidQuery, name, arg, slices.Sorted(maps.Keys(args)))
	}
	if name == QueryElection {
		return queryElection(ctx, v, val)
	}
	h, err := answer.ParseLeafHash(val)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", rule.ErrInvalidQuery, err)
	}
	return queryBallot(ctx, v, h)
}

func queryElection(ctx context.Context, v rule.View, id string) (any, [][32]byte, error) {
	if !body.ID.Valid(id) {
		return nil, nil, fmt.Errorf("%w: %.80q is not an election ID", rule.ErrInvalidQuery, id)
	}
	rec, ok, err := ReadElection(ctx, v, id)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, fmt.Errorf("%w: there is no election %s", rule.ErrNotFound, id)
	}
	a := &ElectionAnswer{ID: id, Election: termsOf(rec), Tokens: rec.Tokens, Batches: []BatchRecord{}, Ballots: rec.Ballots}
	leaf, err := answer.LeafHash(rec.LeafHash)
	if err != nil {
		return nil, nil, fmt.Errorf("corrupt state: election %s: %w", id, err)
	}
	cited := [][32]byte{leaf}
	if rec.Batches > MaxBatches {
		return nil, nil, fmt.Errorf("corrupt state: election %s has %d batches", id, rec.Batches)
	}
	for n := int64(1); n <= rec.Batches; n++ {
		var b BatchRecord
		ok, err := record.Get(ctx, v, BatchKey(id, n), &b)
		if err != nil {
			return nil, nil, err
		}
		if leaf, err = answer.LeafHash(b.LeafHash); !ok || err != nil {
			return nil, nil, fmt.Errorf("corrupt state: election %s counts %d batches, but batch %d is missing or malformed", id, rec.Batches, n)
		}
		a.Batches = append(a.Batches, b)
		cited = append(cited, leaf)
	}
	if rec.Close != nil {
		t, err := rec.tally(id)
		if err != nil {
			return nil, nil, err
		}
		if leaf, err = answer.LeafHash(rec.Close.LeafHash); err != nil {
			return nil, nil, fmt.Errorf("corrupt state: election %s: close: %w", id, err)
		}
		a.Close = &CloseAnswer{Time: rec.Close.Time, LeafHash: rec.Close.LeafHash, Counts: t.Counts, LastBallot: t.LastBallot}
		cited = append(cited, leaf)
	}
	return a, cited, nil
}

func termsOf(r Election) Terms {
	return Terms{Authority: r.Authority, Question: r.Question, Options: r.Options, Opens: r.Opens, Closes: r.Closes,
		IssuerKey: r.IssuerKey, Opened: r.Opened, LeafHash: r.LeafHash}
}

func queryBallot(ctx context.Context, v rule.View, leafHex string) (any, [][32]byte, error) {
	leaf, err := answer.LeafHash(leafHex)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", rule.ErrInvalidQuery, err)
	}
	e, ok, err := v.Entry(ctx, leaf)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, fmt.Errorf("%w: the log holds no entry %s: it counts no such ballot", rule.ErrNotFound, leafHex)
	}
	if e.Type != TypeBallot {
		return nil, nil, fmt.Errorf("%w: entry %s is a %.64s, not a ballot", rule.ErrNotFound, leafHex, e.Type)
	}
	b, err := ParseBallotBody(e.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("corrupt state: admitted ballot %s: %w", leafHex, err)
	}
	rec, ok, err := ReadElection(ctx, v, b.ElectionID)
	if err != nil {
		return nil, nil, err
	}
	var br BallotRecord
	okBallot, err := record.Get(ctx, v, BallotKey(b.ElectionID, b.Token.Key), &br)
	if err != nil {
		return nil, nil, err
	}
	if !ok || !okBallot || br.LeafHash != leafHex {
		return nil, nil, fmt.Errorf("corrupt state: admitted ballot %s is not recorded in election %s", leafHex, b.ElectionID)
	}
	openLeaf, err := answer.LeafHash(rec.LeafHash)
	if err != nil {
		return nil, nil, fmt.Errorf("corrupt state: election %s: %w", b.ElectionID, err)
	}
	a := &BallotAnswer{LeafHash: leafHex, ElectionID: b.ElectionID, Choice: b.Choice, Time: formatTime(e.Time), N: br.N,
		Election: OpenRef{LeafHash: rec.LeafHash, Opens: rec.Opens, Closes: rec.Closes}}
	cited := [][32]byte{leaf, openLeaf}
	if rec.Close != nil {
		closeLeaf, err := answer.LeafHash(rec.Close.LeafHash)
		if err != nil {
			return nil, nil, fmt.Errorf("corrupt state: election %s: close: %w", b.ElectionID, err)
		}
		i := slices.Index(rec.Options, b.Choice)
		if i < 0 || len(rec.Counts) != len(rec.Options) {
			return nil, nil, fmt.Errorf("corrupt state: election %s has no count for %q", b.ElectionID, b.Choice)
		}
		a.Close = &CloseRef{LeafHash: rec.Close.LeafHash, Time: rec.Close.Time, Ballots: rec.Ballots, ForChoice: rec.Counts[i]}
		cited = append(cited, closeLeaf)
	}
	return a, cited, nil
}

// Queries implements [rule.QueryClient].
func (*Rules) Queries() []rule.QueryInfo {
	return []rule.QueryInfo{{
		Name:    QueryElection,
		Summary: "an election's terms, the tokens issued, the ballots cast, and its tally once closed",
		Doc: "Shows the election's question, options and voting times, the token issuer's key, every batch of tokens issued " +
			"and the number of ballots cast, each checked against its entry in the log: the votes.election.open, every " +
			"votes.tokens and, once the election is closed, the votes.close holding the tally. The counts are not shown " +
			"before the close. To recount the ballots yourself, run the tally tool.",
		Arg:     "id",
		ArgName: "ELECTION",
	}, {
		Name:    QueryBallot,
		Summary: "whether a ballot is in the count of its election",
		Doc: "Given the leaf hash of a ballot (which its voter keeps from the bundle of their submission), shows that the " +
			"log holds it and counts it: its election, its choice and its number among the election's ballots, checked " +
			"against the ballot's entry, the entry that opened the election and, once closed, the close entry, which must " +
			"come after the ballot and count its choice.",
		Arg:     "leaf_hash",
		ArgName: "LEAF_HASH",
	}}
}

// CheckAnswer implements [rule.QueryClient]. Errors wrap
// [ErrAnswerMismatch].
func (*Rules) CheckAnswer(query string, args map[string]string, result []byte, entries []rule.ProvedEntry) (string, error) {
	proved := answer.ByHash(entries)
	switch query {
	case QueryElection:
		var a ElectionAnswer
		if err := answer.Decode(result, &a, "an election answer"); err != nil {
			return "", mismatch("%v", err)
		}
		if a.ID != args["id"] {
			return "", mismatch("the answer is about election %.80q, not %.80q", a.ID, args["id"])
		}
		return checkElection(&a, proved)
	case QueryBallot:
		var a BallotAnswer
		if err := answer.Decode(result, &a, "a ballot answer"); err != nil {
			return "", mismatch("%v", err)
		}
		if want, _ := answer.ParseLeafHash(args["leaf_hash"]); a.LeafHash != want {
			return "", mismatch("the answer is about ballot %.80q, not %.80q", a.LeafHash, args["leaf_hash"])
		}
		return checkBallot(&a, proved)
	}
	return "", fmt.Errorf("%w %.64q", rule.ErrUnknownQuery, query)
}

func mismatch(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrAnswerMismatch, fmt.Sprintf(format, args...))
}

// provedEntry returns the proved entry of the leaf hash an answer gives,
// which must be of type typ.
func provedEntry(proved map[[32]byte]rule.ProvedEntry, what, leafHex, typ string) (rule.ProvedEntry, error) {
	e, err := answer.Entry(proved, leafHex)
	if err != nil {
		return e, mismatch("%s: %v", what, err)
	}
	if e.Type != typ {
		return e, mismatch("%s's entry is a %.64s, not a %s", what, e.Type, typ)
	}
	return e, nil
}

// checkOpen checks an election's terms against its votes.election.open.
func checkOpen(id string, t Terms, proved map[[32]byte]rule.ProvedEntry) (rule.ProvedEntry, OpenBody, error) {
	e, err := provedEntry(proved, "the election", t.LeafHash, TypeOpen)
	if err != nil {
		return e, OpenBody{}, err
	}
	b, err := ParseOpenBody(e.Body)
	if err != nil {
		return e, b, mismatch("the election's entry: %v", err)
	}
	switch {
	case b.ElectionID != id:
		return e, b, mismatch("the election's entry opens election %s, not %.80s", b.ElectionID, id)
	case b.Question != t.Question:
		return e, b, mismatch("the election's entry asks %q, not %.300q", b.Question, t.Question)
	case !slices.Equal(b.Options, t.Options):
		return e, b, mismatch("the election's entry gives the options %q, not %.600q", b.Options, t.Options)
	case b.Opens != t.Opens || b.Closes != t.Closes:
		return e, b, mismatch("the election's entry has it open from %s to %s, not %.40s to %.40s", b.Opens, b.Closes, t.Opens, t.Closes)
	case b.IssuerKey != t.IssuerKey:
		return e, b, mismatch("the election's entry names another issuer key")
	case formatTime(e.Time) != t.Opened:
		return e, b, mismatch("the election's entry was made at %s, not %.40s", formatTime(e.Time), t.Opened)
	}
	return e, b, nil
}

func checkElection(a *ElectionAnswer, proved map[[32]byte]rule.ProvedEntry) (string, error) {
	open, ob, err := checkOpen(a.ID, a.Election, proved)
	if err != nil {
		return "", err
	}
	var sum int64
	for i, br := range a.Batches {
		what := fmt.Sprintf("batch %d", i+1)
		e, err := provedEntry(proved, what, br.LeafHash, TypeTokens)
		if err != nil {
			return "", err
		}
		b, err := ParseTokensBody(e.Body)
		if err != nil {
			return "", mismatch("%s's entry: %v", what, err)
		}
		switch {
		case b.ElectionID != a.ID:
			return "", mismatch("%s's entry is for election %s", what, b.ElectionID)
		case b.Batch != int64(i+1) || br.Batch != b.Batch:
			return "", mismatch("%s's entry is batch %d, the answer says %d", what, b.Batch, br.Batch)
		case b.Count != br.Count:
			return "", mismatch("%s's entry counts %d tokens, not %d", what, b.Count, br.Count)
		case formatTime(e.Time) != br.Time:
			return "", mismatch("%s's entry was made at %s, not %.40s", what, formatTime(e.Time), br.Time)
		case e.Index <= open.Index:
			return "", mismatch("%s's entry (index %d) comes before the election's (index %d)", what, e.Index, open.Index)
		}
		sum += b.Count
	}
	if sum != a.Tokens {
		return "", mismatch("the %d batches shown add up to %d tokens, not the %d the answer says", len(a.Batches), sum, a.Tokens)
	}
	if a.Ballots < 0 || a.Ballots > a.Tokens {
		return "", mismatch("%d ballots of %d tokens issued", a.Ballots, a.Tokens)
	}
	checked := fmt.Sprintf("election %s is as the entry that opened it says, and the %d tokens issued are the sum of its %d votes.tokens entries",
		a.ID, a.Tokens, len(a.Batches))
	if a.Close == nil {
		return checked + fmt.Sprintf("; it is not closed: its %d ballots are the log's word, and the tally is not shown before the close", a.Ballots), nil
	}
	c := a.Close
	e, err := provedEntry(proved, "the close", c.LeafHash, TypeClose)
	if err != nil {
		return "", err
	}
	b, err := ParseCloseBody(e.Body)
	if err != nil {
		return "", mismatch("the close's entry: %v", err)
	}
	closes, _ := parseTime(ob.Closes) // checked by ParseOpenBody
	switch {
	case b.ElectionID != a.ID:
		return "", mismatch("the close's entry closes election %s", b.ElectionID)
	case !maps.Equal(b.Counts, c.Counts):
		return "", mismatch("the close's entry counts %v, not %v", b.Counts, c.Counts)
	case b.Ballots != a.Ballots:
		return "", mismatch("the close's entry counts %d ballots, not %d", b.Ballots, a.Ballots)
	case b.Tokens != a.Tokens:
		return "", mismatch("the close's entry counts %d tokens issued, not %d", b.Tokens, a.Tokens)
	case b.LastBallot != c.LastBallot:
		return "", mismatch("the close's entry names the last ballot %q, not %.80q", b.LastBallot, c.LastBallot)
	case formatTime(e.Time) != c.Time:
		return "", mismatch("the close's entry was made at %s, not %.40s", formatTime(e.Time), c.Time)
	case e.Time.Before(closes):
		return "", mismatch("the close's entry (%s) is before the election closes (%s)", formatTime(e.Time), ob.Closes)
	case e.Index <= open.Index:
		return "", mismatch("the close's entry comes before the election's")
	}
	for _, o := range ob.Options {
		if _, ok := b.Counts[o]; !ok {
			return "", mismatch("the close's entry has no count for the option %q", o)
		}
	}
	if len(b.Counts) != len(ob.Options) {
		return "", mismatch("the close's entry counts %d options, the election has %d", len(b.Counts), len(ob.Options))
	}
	return checked + fmt.Sprintf("; its tally of %d ballots is the close entry's, written by the log, whose rules recount it (run the tally tool to recount it yourself)", a.Ballots), nil
}

func checkBallot(a *BallotAnswer, proved map[[32]byte]rule.ProvedEntry) (string, error) {
	e, err := provedEntry(proved, "the ballot", a.LeafHash, TypeBallot)
	if err != nil {
		return "", err
	}
	b, err := ParseBallotBody(e.Body)
	if err != nil {
		return "", mismatch("the ballot's entry: %v", err)
	}
	switch at := formatTime(e.Time); {
	case b.ElectionID != a.ElectionID:
		return "", mismatch("the ballot's entry is for election %s, not %.80s", b.ElectionID, a.ElectionID)
	case b.Choice != a.Choice:
		return "", mismatch("the ballot's entry chooses %q, not %.200q", b.Choice, a.Choice)
	case at != a.Time:
		return "", mismatch("the ballot's entry was made at %s, not %.40s", at, a.Time)
	case !slices.Equal(e.Signers, []string{VoterKeyName}):
		return "", mismatch("the ballot's entry is not signed by one key named %s (%q)", VoterKeyName, e.Signers)
	case a.N < 1:
		return "", mismatch("the ballot is numbered %d", a.N)
	}
	oe, err := provedEntry(proved, "the election", a.Election.LeafHash, TypeOpen)
	if err != nil {
		return "", err
	}
	obody, err := ParseOpenBody(oe.Body)
	if err != nil {
		return "", mismatch("the election's entry: %v", err)
	}
	opens, _ := parseTime(obody.Opens)
	closes, _ := parseTime(obody.Closes)
	switch {
	case obody.ElectionID != a.ElectionID:
		return "", mismatch("the election's entry opens election %s, not %.80s", obody.ElectionID, a.ElectionID)
	case obody.Opens != a.Election.Opens || obody.Closes != a.Election.Closes:
		return "", mismatch("the election's entry has it open from %s to %s", obody.Opens, obody.Closes)
	case oe.Index >= e.Index:
		return "", mismatch("the ballot's entry comes before the election's")
	case e.Time.Before(opens) || !e.Time.Before(closes):
		return "", mismatch("the ballot was cast at %s, when the election was not open (%s to %s)", formatTime(e.Time), obody.Opens, obody.Closes)
	case !slices.Contains(obody.Options, b.Choice):
		return "", mismatch("the ballot's choice %q is not an option of the election", b.Choice)
	}
	checked := fmt.Sprintf("the log holds this ballot for %q in election %s, signed by its one-time voter key, cast while the election was open", a.Choice, a.ElectionID)
	if a.Close == nil {
		return checked + fmt.Sprintf("; the election is not closed yet, and that it is ballot %d is the log's word", a.N), nil
	}
	ce, err := provedEntry(proved, "the close", a.Close.LeafHash, TypeClose)
	if err != nil {
		return "", err
	}
	cb, err := ParseCloseBody(ce.Body)
	if err != nil {
		return "", mismatch("the close's entry: %v", err)
	}
	switch {
	case cb.ElectionID != a.ElectionID:
		return "", mismatch("the close's entry closes election %s", cb.ElectionID)
	case ce.Index <= e.Index:
		return "", mismatch("the close's entry (index %d) comes before the ballot (index %d), which it cannot count", ce.Index, e.Index)
	case formatTime(ce.Time) != a.Close.Time:
		return "", mismatch("the close's entry was made at %s, not %.40s", formatTime(ce.Time), a.Close.Time)
	case cb.Ballots != a.Close.Ballots || cb.Counts[b.Choice] != a.Close.ForChoice:
		return "", mismatch("the close's entry counts %d ballots, %d for %q; the answer says %d and %d", cb.Ballots, cb.Counts[b.Choice], b.Choice, a.Close.Ballots, a.Close.ForChoice)
	case cb.Counts[b.Choice] < 1:
		return "", mismatch("the close's entry counts no ballot for %q", b.Choice)
	case a.N > cb.Ballots:
		return "", mismatch("the ballot is numbered %d, but the close counts %d ballots", a.N, cb.Ballots)
	}
	return checked + fmt.Sprintf(", and the close entry after it counts %d ballots for %q (of %d); that it is one of them rests on the log's rules, which admit no ballot they do not count (run the tally tool to recount)", cb.Counts[b.Choice], b.Choice, cb.Ballots), nil
}

// FormatAnswer implements [rule.QueryClient].
func (*Rules) FormatAnswer(w io.Writer, query string, result []byte) error {
	var s strings.Builder
	switch query {
	case QueryElection:
		var a ElectionAnswer
		if err := answer.Decode(result, &a, "an election answer"); err != nil {
			return err
		}
		t := a.Election
		fmt.Fprintf(&s, "Election %s: %s\n", a.ID, t.Question)
		fmt.Fprintf(&s, "  run by %s, open from %s to %s\n", t.Authority, t.Opens, t.Closes)
		fmt.Fprintf(&s, "  tokens issued: %d, in %d batches\n", a.Tokens, len(a.Batches))
		fmt.Fprintf(&s, "  ballots cast:  %d%s\n", a.Ballots, turnout(a.Ballots, a.Tokens))
		if a.Close == nil {
			s.WriteString("  tally: hidden until the close\n")
			for _, o := range t.Options {
				fmt.Fprintf(&s, "    %s\n", o)
			}
		} else {
			fmt.Fprintf(&s, "  tally (closed %s):\n", a.Close.Time)
			for _, o := range t.Options {
				fmt.Fprintf(&s, "    %8d  %s\n", a.Close.Counts[o], o)
			}
		}
	case QueryBallot:
		var a BallotAnswer
		if err := answer.Decode(result, &a, "a ballot answer"); err != nil {
			return err
		}
		fmt.Fprintf(&s, "Ballot %s\n", a.LeafHash)
		fmt.Fprintf(&s, "  election %s, choice %q, cast %s\n", a.ElectionID, a.Choice, a.Time)
		fmt.Fprintf(&s, "  in the count: ballot %d of the election\n", a.N)
		if a.Close != nil {
			fmt.Fprintf(&s, "  the election closed %s: %d ballots, %d for %q\n", a.Close.Time, a.Close.Ballots, a.Close.ForChoice, a.Choice)
		} else {
			s.WriteString("  the election is not closed yet\n")
		}
	default:
		return fmt.Errorf("%w %.64q", rule.ErrUnknownQuery, query)
	}
	_, err := io.WriteString(w, s.String())
	return err
}

// turnout writes ballots as a share of tokens: " (45.0% of the tokens)".
func turnout(ballots, tokens int64) string {
	if tokens <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%.1f%% of the tokens)", 100*float64(ballots)/float64(tokens))
}

// leafHex is a leaf hash as answers and the state write it.
func leafHex(h [32]byte) string { return hex.EncodeToString(h[:]) }
