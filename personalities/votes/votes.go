// Package votes holds the rules of the "votes" log: anonymous ballots, one
// per voter, and a tally anyone recomputes. An election authority opens an
// election with its question, options, opening and closing times and the
// public key of a token issuer; the issuer hands each eligible voter one
// token, a blind signature of a one-time key the voter made; each voter
// casts one ballot, signed by that one-time key and carrying the token;
// and at the closing time the log itself writes the tally, which its rules
// recompute from the ballots they admitted.
//
// # Roles
//
//	election-authority  votes.election.open
//	token-issuer        votes.tokens
//	votes-engine        votes.close, written by the log itself ([rule.TypeInfo].ByLog):
//	                    the agency of the log's rule key holds it, no other should
//
// votes.ballot is [rule.SelfSigned]: signed by the voter's one-time key,
// named "voter" ([VoterKeyName]), which the body's token carries.
//
// # Why the log never learns who voted
//
// The issuer checks who a voter is (outside the log) and signs their
// one-time key blindly (RSABSSA-SHA384-PSS-Randomized, RFC 9474, see
// [blindtoken]): it sees neither the key nor the signature it makes, so it
// cannot link the token it signed for a person to the token that later
// comes with a ballot. The log sees a token that verifies with the
// election's issuer key and a ballot signed by the key the token names: a
// vote by someone the issuer admitted, once per token, and nothing of who.
// What the log learns is what the issuer says: how many tokens it issued
// (votes.tokens), so anyone can check that no more ballots were counted.
// A voter should submit through a channel that hides their address, and
// not at the moment they fetched their token.
//
// Ballots are entries of a public log: anyone can count them as they come.
// The rules only keep the running counts out of the dashboard and the
// queries until the close entry, so the log does not itself publish early
// results.
//
// # Statement types
//
// Bodies are JSON objects; every field listed is required, and no other
// field is allowed. Times are RFC 3339 date-times in whole seconds, UTC,
// written with "Z" (2026-01-01T00:00:00Z).
//
// votes.election.open ([OpenBody]), by an election authority:
//
//	election_id  1..64 of [A-Za-z0-9._:-], unique in the log
//	question     text, at most 256 characters
//	options      2 to 64 distinct texts of at most 128 characters
//	opens        when ballots may first be cast
//	closes       when voting ends: after opens, and after the statement
//	issuer_key   the token issuer's RSA public key (at least 2048 bits),
//	             base64 of its PKIX DER, as blindtoken.EncodeIssuerKey
//	             spells it
//
// votes.tokens ([TokensBody]), by a token issuer:
//
//	election_id  the election
//	batch        1, 2, ...: the issuer's batches of the election, in order
//	count        the number of tokens in the batch, at least 1
//
// votes.ballot ([BallotBody]), self-signed:
//
//	election_id  the election
//	choice       one of its options, exactly
//	token        {"key", "prefix", "signature"}: key is the voter's one-time
//	             signed-note verifier key, named "voter"; prefix and
//	             signature make the issuer's blind signature of
//	             blindtoken.Message(election_id, key) ([blindtoken.Token])
//
// votes.close ([CloseBody]), by the log:
//
//	election_id  the election
//	counts       {option: ballots} for every option, zeros included
//	ballots      the number of ballots, the sum of counts
//	tokens       the number of tokens issued
//	last_ballot  the leaf hash (hex) of the last ballot admitted, "" if none
//
// # Rules
//
//   - An election_id is used once ([rule.ErrAlreadyExists]); the election
//     must close after the time of its votes.election.open
//     ([rule.ErrRuleViolation]). The signing agency runs it.
//   - Batches of tokens are numbered 1, 2, ... per election, come from one
//     agency (the one that logged batch 1), and none is logged after the
//     election's close entry ([rule.ErrRuleViolation]). An honest issuer
//     logs a batch before it hands its tokens out.
//   - A ballot is authenticated ([Rules.Authenticate]) by its token, which
//     must verify with the issuer key of its election (an unknown election
//     is [rule.ErrRuleViolation]; a token that does not verify,
//     [rule.ErrBadSignature]), and by its one signature line, by the
//     token's key ([notesig.Verify]). Its signer is "voter+<key hash>".
//   - A ballot's choice must be an option of the election
//     ([rule.ErrInvalidBody]). Its time must be at or after opens and
//     before closes, and the election not closed; one ballot per token key;
//     and the ballots admitted may not outnumber the tokens issued
//     ([rule.ErrRuleViolation]).
//   - The votes.close of an election is due ([Rules.Due]) from its closing
//     time on, until it is admitted. Its body is the tally the state
//     holds: Apply recomputes it and refuses any other
//     ([rule.ErrRuleViolation]), so a monitor's replay re-counts every
//     election. After it, the election is closed.
//
// Apply reads everything it needs and checks every rule before its first
// Put, so a refused statement leaves the state untouched.
//
// # State
//
//	election/<id>         [Election]: terms, tokens issued, ballots, counts
//	batch/<id>/<n>        [BatchRecord]: its n-th votes.tokens, from 1
//	ballot/<id>/<key>     [BallotRecord], for the token whose one-time key
//	                      has SHA-256 <key> (hex): one ballot per token
//	pending-close         [Pending] list: elections without a close entry
//
// Election IDs never contain "/", so no key aliases another.
//
// # Queries and tools
//
// "election" (argument "id") and "ballot" (argument "leaf_hash"), see
// [Rules.Queries]; the tool "tally" ([Recount]) recomputes an election's
// tally offline from every entry of the log.
package votes

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/blindtoken"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/notesig"
	"github.com/govlog/govlog/personalities/rule/record"
)

const (
	// LogName is the name of the log these rules admit into.
	LogName = "votes"

	TypeOpen   = "votes.election.open"
	TypeTokens = "votes.tokens"
	TypeBallot = "votes.ballot"
	TypeClose  = "votes.close"

	// RoleAuthority is the registry role an agency's key needs to open an
	// election.
	RoleAuthority = "election-authority"
	// RoleIssuer is the registry role an agency's key needs to log
	// batches of tokens.
	RoleIssuer = "token-issuer"
	// RoleEngine is the role of the log's own rule key, which writes the
	// close entries.
	RoleEngine = "votes-engine"

	// VoterKeyName is the name of every voter's one-time key.
	VoterKeyName = "voter"

	// MaxBatches bounds the batches of tokens of one election, so that a
	// query citing them all stays bounded.
	MaxBatches = 1000
)

// Rules implements [rule.Domain] for the votes log.
type Rules struct {
	// Now is the clock by which the dashboard summary tells upcoming, open
	// and closed elections apart; nil means time.Now. The rules themselves
	// judge by each statement's own time only.
	Now func() time.Time
}

var (
	_ rule.Domain        = (*Rules)(nil)
	_ rule.Authenticator = (*Rules)(nil)
	_ rule.KeyReader     = (*Rules)(nil)
)

// New returns the votes rules.
func New() *Rules { return &Rules{} }

// Log returns [LogName].
func (*Rules) Log() string { return LogName }

// Authenticate implements [rule.Authenticator] for votes.ballot: its token
// must verify with the issuer key of its election, and it must be signed by
// the token's one-time key and by no other. The signer is named after that
// key.
func (*Rules) Authenticate(ctx context.Context, st rule.Reader, e rule.Entry) (string, error) {
	if e.Type != TypeBallot {
		return "", fmt.Errorf("%w: %.64q is not a self-signed type of the %s log", rule.ErrUnknownType, e.Type, LogName)
	}
	b, err := ParseBallotBody(e.Body)
	if err != nil {
		return "", err
	}
	rec, ok, err := ReadElection(ctx, st, b.ElectionID)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%w: there is no election %s", rule.ErrRuleViolation, b.ElectionID)
	}
	pub, err := blindtoken.ParseIssuerKey(rec.IssuerKey)
	if err != nil {
		return "", fmt.Errorf("corrupt state: election %s: issuer key: %v", b.ElectionID, err)
	}
	if err := blindtoken.Verify(pub, b.ElectionID, b.Token); err != nil {
		return "", fmt.Errorf("%w: the ballot's token is not the issuer's signature of its key for election %s: %v", rule.ErrBadSignature, b.ElectionID, err)
	}
	if err := notesig.Verify(b.Token.Key, e); err != nil {
		return "", err
	}
	return b.SignerName(), nil
}

// Apply checks e against the rules in the package doc and records its
// effects in st. A refused statement gets an error wrapping one of the rule
// sentinels, and st is not written. Any other error comes from st.
func (r *Rules) Apply(ctx context.Context, st rule.State, e rule.Entry) error {
	if _, err := r.RequiredRole(e.Type); err != nil {
		return err
	}
	at := e.Time.UTC()
	leaf := hex.EncodeToString(e.LeafHash[:])
	switch e.Type {
	case TypeOpen:
		b, err := ParseOpenBody(e.Body)
		if err != nil {
			return err
		}
		return applyOpen(ctx, st, e.Agency, at, leaf, b)
	case TypeTokens:
		b, err := ParseTokensBody(e.Body)
		if err != nil {
			return err
		}
		return applyTokens(ctx, st, e.Agency, at, leaf, b)
	case TypeBallot:
		b, err := ParseBallotBody(e.Body)
		if err != nil {
			return err
		}
		// Authenticate named the signer after the token's key.
		if e.Signer == "" || e.Signer != b.SignerName() {
			return fmt.Errorf("%w: the ballot was not authenticated as signed by %s", rule.ErrNotAuthorized, b.SignerName())
		}
		return applyBallot(ctx, st, at, leaf, b)
	default:
		b, err := ParseCloseBody(e.Body)
		if err != nil {
			return err
		}
		return applyClose(ctx, st, at, leaf, b)
	}
}

func applyOpen(ctx context.Context, st rule.State, agency string, at time.Time, leaf string, b OpenBody) error {
	if !body.ValidAgencyID(agency) {
		return fmt.Errorf("%w: agency ID %.64q is not a registry ID (%s)", rule.ErrRuleViolation, agency, body.AgencyIDPattern)
	}
	closes, _ := parseTime(b.Closes) // checked by ParseOpenBody
	if !closes.After(at) {
		return fmt.Errorf("%w: election %s closes at %s, not after its opening statement (%s)", rule.ErrRuleViolation, b.ElectionID, b.Closes, formatTime(at))
	}
	if _, ok, err := ReadElection(ctx, st, b.ElectionID); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: election %s", rule.ErrAlreadyExists, b.ElectionID)
	}
	var pending []Pending
	if _, err := record.Get(ctx, st, PendingKey, &pending); err != nil {
		return err
	}
	p := Pending{Closes: b.Closes, Election: b.ElectionID}
	i, _ := slices.BinarySearchFunc(pending, p, comparePending)
	pending = slices.Insert(pending, i, p)
	rec := Election{
		Authority: agency,
		Question:  b.Question,
		Options:   b.Options,
		Opens:     b.Opens,
		Closes:    b.Closes,
		IssuerKey: b.IssuerKey,
		Opened:    formatTime(at),
		LeafHash:  leaf,
		Counts:    make([]int64, len(b.Options)),
	}
	if err := record.Put(ctx, st, PendingKey, pending); err != nil {
		return err
	}
	return record.Put(ctx, st, ElectionKey(b.ElectionID), rec)
}

// comparePending orders the pending list: by closing time (the strings
// are all of one layout), then election.
func comparePending(a, b Pending) int {
	return cmp.Or(cmp.Compare(a.Closes, b.Closes), cmp.Compare(a.Election, b.Election))
}

// election reads the election a statement names, which must exist.
func election(ctx context.Context, st rule.Reader, id string) (Election, error) {
	rec, ok, err := ReadElection(ctx, st, id)
	if err != nil {
		return rec, err
	}
	if !ok {
		return rec, fmt.Errorf("%w: there is no election %s", rule.ErrRuleViolation, id)
	}
	return rec, nil
}

func applyTokens(ctx context.Context, st rule.State, agency string, at time.Time, leaf string, b TokensBody) error {
	rec, err := election(ctx, st, b.ElectionID)
	if err != nil {
		return err
	}
	switch {
	case rec.Close != nil:
		return fmt.Errorf("%w: election %s is closed (%s): no more tokens", rule.ErrRuleViolation, b.ElectionID, rec.Close.Time)
	case rec.Issuer != "" && agency != rec.Issuer:
		return fmt.Errorf("%w: the tokens of election %s are issued by %s, not %.64s", rule.ErrRuleViolation, b.ElectionID, rec.Issuer, agency)
	case b.Batch != rec.Batches+1:
		return fmt.Errorf("%w: election %s has %d batches of tokens; the next is batch %d, not %d", rule.ErrRuleViolation, b.ElectionID, rec.Batches, rec.Batches+1, b.Batch)
	case b.Batch > MaxBatches:
		return fmt.Errorf("%w: election %s has %d batches of tokens, the most one election may have", rule.ErrRuleViolation, b.ElectionID, MaxBatches)
	case rec.Tokens+b.Count > body.MaxAmount:
		return fmt.Errorf("%w: election %s would have more than %d tokens", rule.ErrRuleViolation, b.ElectionID, int64(body.MaxAmount))
	}
	rec.Issuer = agency
	rec.Batches = b.Batch
	rec.Tokens += b.Count
	batch := BatchRecord{Batch: b.Batch, Count: b.Count, Agency: agency, Time: formatTime(at), LeafHash: leaf}
	if err := record.Put(ctx, st, BatchKey(b.ElectionID, b.Batch), batch); err != nil {
		return err
	}
	return record.Put(ctx, st, ElectionKey(b.ElectionID), rec)
}

func applyBallot(ctx context.Context, st rule.State, at time.Time, leaf string, b BallotBody) error {
	rec, err := election(ctx, st, b.ElectionID)
	if err != nil {
		return err
	}
	choice := slices.Index(rec.Options, b.Choice)
	if choice < 0 {
		return fmt.Errorf("%w: %q is not an option of election %s", rule.ErrInvalidBody, b.Choice, b.ElectionID)
	}
	if len(rec.Counts) != len(rec.Options) {
		return fmt.Errorf("corrupt state: election %s has %d options and %d counts", b.ElectionID, len(rec.Options), len(rec.Counts))
	}
	if rec.Close != nil {
		return fmt.Errorf("%w: election %s is closed (%s)", rule.ErrRuleViolation, b.ElectionID, rec.Close.Time)
	}
	opens, closes, err := rec.times()
	if err != nil {
		return fmt.Errorf("corrupt state: election %s: %w", b.ElectionID, err)
	}
	if at.Before(opens) {
		return fmt.Errorf("%w: election %s opens at %s, after the ballot (%s)", rule.ErrRuleViolation, b.ElectionID, rec.Opens, formatTime(at))
	}
	if !at.Before(closes) {
		return fmt.Errorf("%w: election %s closed at %s, before the ballot (%s)", rule.ErrRuleViolation, b.ElectionID, rec.Closes, formatTime(at))
	}
	key := BallotKey(b.ElectionID, b.Token.Key)
	var prior BallotRecord
	if ok, err := record.Get(ctx, st, key, &prior); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: this token has voted in election %s (ballot %d, %s)", rule.ErrRuleViolation, b.ElectionID, prior.N, prior.LeafHash)
	}
	if rec.Ballots >= rec.Tokens {
		return fmt.Errorf("%w: election %s has counted %d ballots of the %d tokens issued: a ballot more than the tokens logged", rule.ErrRuleViolation, b.ElectionID, rec.Ballots, rec.Tokens)
	}
	rec.Ballots++
	rec.Counts[choice]++
	rec.LastBallot = leaf
	if err := record.Put(ctx, st, key, BallotRecord{N: rec.Ballots, Time: formatTime(at), LeafHash: leaf}); err != nil {
		return err
	}
	return record.Put(ctx, st, ElectionKey(b.ElectionID), rec)
}

func applyClose(ctx context.Context, st rule.State, at time.Time, leaf string, b CloseBody) error {
	rec, err := election(ctx, st, b.ElectionID)
	if err != nil {
		return err
	}
	if rec.Close != nil {
		return fmt.Errorf("%w: election %s was closed at %s", rule.ErrRuleViolation, b.ElectionID, rec.Close.Time)
	}
	_, closes, err := rec.times()
	if err != nil {
		return fmt.Errorf("corrupt state: election %s: %w", b.ElectionID, err)
	}
	if at.Before(closes) {
		return fmt.Errorf("%w: election %s closes at %s, after the close entry (%s)", rule.ErrRuleViolation, b.ElectionID, rec.Closes, formatTime(at))
	}
	want, err := rec.tally(b.ElectionID)
	if err != nil {
		return err
	}
	if diff := tallyDiff(want, b); diff != "" {
		return fmt.Errorf("%w: the close of election %s is not its tally: %s", rule.ErrRuleViolation, b.ElectionID, diff)
	}
	var pending []Pending
	if _, err := record.Get(ctx, st, PendingKey, &pending); err != nil {
		return err
	}
	i, found := slices.BinarySearchFunc(pending, Pending{Closes: rec.Closes, Election: b.ElectionID}, comparePending)
	if !found {
		return fmt.Errorf("corrupt state: election %s is open but not in %s", b.ElectionID, PendingKey)
	}
	pending = slices.Delete(pending, i, i+1)
	rec.Close = &CloseRecord{Time: formatTime(at), LeafHash: leaf}
	if err := record.Put(ctx, st, PendingKey, pending); err != nil {
		return err
	}
	return record.Put(ctx, st, ElectionKey(b.ElectionID), rec)
}

// tallyDiff says how got differs from the tally want, "" if it does not.
func tallyDiff(want, got CloseBody) string {
	diffs := tallyDiffs(want, got)
	if len(diffs) > 8 {
		diffs = append(diffs[:8], fmt.Sprintf("and %d more differences", len(diffs)-8))
	}
	return strings.Join(diffs, "; ")
}

// tallyDiffs lists how got differs from the tally want.
func tallyDiffs(want, got CloseBody) []string {
	var diffs []string
	for _, o := range sortedOptions(want.Counts, got.Counts) {
		w, inWant := want.Counts[o]
		g, inGot := got.Counts[o]
		switch {
		case !inWant:
			diffs = append(diffs, fmt.Sprintf("%q is not an option", o))
		case !inGot:
			diffs = append(diffs, fmt.Sprintf("no count for %q (%d)", o, w))
		case w != g:
			diffs = append(diffs, fmt.Sprintf("%q has %d ballots, not %d", o, w, g))
		}
	}
	if want.Ballots != got.Ballots {
		diffs = append(diffs, fmt.Sprintf("%d ballots, not %d", want.Ballots, got.Ballots))
	}
	if want.Tokens != got.Tokens {
		diffs = append(diffs, fmt.Sprintf("%d tokens issued, not %d", want.Tokens, got.Tokens))
	}
	if want.LastBallot != got.LastBallot {
		diffs = append(diffs, fmt.Sprintf("the last ballot is %q, not %q", want.LastBallot, got.LastBallot))
	}
	return diffs
}

func sortedOptions(a, b map[string]int64) []string {
	var out []string
	for o := range a {
		out = append(out, o)
	}
	for o := range b {
		if _, ok := a[o]; !ok {
			out = append(out, o)
		}
	}
	slices.Sort(out)
	return out
}

// ReadKeys names the keys Apply (and Authenticate) read for e that its
// body tells, so that a batch reads them in one query.
func (*Rules) ReadKeys(e rule.Entry) []string {
	switch e.Type {
	case TypeOpen:
		if b, err := ParseOpenBody(e.Body); err == nil {
			return []string{ElectionKey(b.ElectionID), PendingKey}
		}
	case TypeTokens:
		if b, err := ParseTokensBody(e.Body); err == nil {
			return []string{ElectionKey(b.ElectionID)}
		}
	case TypeBallot:
		if b, err := ParseBallotBody(e.Body); err == nil {
			return []string{ElectionKey(b.ElectionID), BallotKey(b.ElectionID, b.Token.Key)}
		}
	case TypeClose:
		if b, err := ParseCloseBody(e.Body); err == nil {
			return []string{ElectionKey(b.ElectionID), PendingKey}
		}
	}
	return nil
}
