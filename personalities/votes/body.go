package votes

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/govlog/govlog/personalities/rule/blindtoken"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/notesig"
)

// OpenBody is the body of a votes.election.open.
type OpenBody struct {
	ElectionID string   `json:"election_id"`
	Question   string   `json:"question"`
	Options    []string `json:"options"`
	Opens      string   `json:"opens"`
	Closes     string   `json:"closes"`
	// IssuerKey is the token issuer's RSA public key, base64 PKIX DER
	// ([blindtoken.ParseIssuerKey]).
	IssuerKey string `json:"issuer_key"`
}

// TokensBody is the body of a votes.tokens.
type TokensBody struct {
	ElectionID string `json:"election_id"`
	// Batch numbers the issuer's batches of the election, from 1.
	Batch int64 `json:"batch"`
	// Count is how many tokens the batch hands out.
	Count int64 `json:"count"`
}

// BallotBody is the body of a votes.ballot.
type BallotBody struct {
	ElectionID string `json:"election_id"`
	Choice     string `json:"choice"`
	// Token is the voter's token: Token.Key is the one-time verifier key
	// that signs the ballot, and the issuer's blind signature of it.
	Token blindtoken.Token `json:"token"`
}

// CloseBody is the body of a votes.close, the tally.
type CloseBody struct {
	ElectionID string `json:"election_id"`
	// Counts has a member for every option of the election, zeros
	// included: the ballots for that option.
	Counts map[string]int64 `json:"counts"`
	// Ballots is the number of ballots admitted, the sum of Counts.
	Ballots int64 `json:"ballots"`
	// Tokens is the number of tokens issued, the sum of the election's
	// votes.tokens counts.
	Tokens int64 `json:"tokens"`
	// LastBallot is the leaf hash (lowercase hex) of the last ballot
	// admitted, "" if there was none.
	LastBallot string `json:"last_ballot"`
}

// Limits of the fields.
const (
	MinOptions     = 2
	MaxOptions     = 64
	maxQuestionLen = 256 // characters
	maxOptionLen   = 128 // characters
	maxTokenField  = 2048
)

// ParseOpenBody parses and checks the body of a votes.election.open. Its
// errors wrap [rule.ErrInvalidBody].
func ParseOpenBody(data []byte) (OpenBody, error) {
	o, err := body.Parse(data, []string{"election_id", "question", "options", "opens", "closes", "issuer_key"}, nil)
	if err != nil {
		return OpenBody{}, err
	}
	var b OpenBody
	if b.ElectionID, err = o.ID("election_id", body.ID); err != nil {
		return OpenBody{}, err
	}
	if b.Question, err = o.Text("question", maxQuestionLen); err != nil {
		return OpenBody{}, err
	}
	arr, err := o.Array("options", 0, MaxOptions)
	if err != nil {
		return OpenBody{}, err
	}
	if arr.Len() < MinOptions {
		return OpenBody{}, body.Errorf("field %q has %d elements: an election needs %d to %d options", "options", arr.Len(), MinOptions, MaxOptions)
	}
	for i := range arr.Len() {
		s, err := arr.Str(i)
		if err != nil {
			return OpenBody{}, err
		}
		if err := body.CheckText(arr.Field(i), s, maxOptionLen); err != nil {
			return OpenBody{}, err
		}
		if j := slices.Index(b.Options, s); j >= 0 {
			return OpenBody{}, body.Errorf("options %d and %d are the same, %q", j+1, i+1, s)
		}
		b.Options = append(b.Options, s)
	}
	var opens, closes time.Time
	if b.Opens, opens, err = timeField(o, "opens"); err != nil {
		return OpenBody{}, err
	}
	if b.Closes, closes, err = timeField(o, "closes"); err != nil {
		return OpenBody{}, err
	}
	if !closes.After(opens) {
		return OpenBody{}, body.Errorf("the election closes at %s, not after it opens (%s)", b.Closes, b.Opens)
	}
	if b.IssuerKey, err = o.Str("issuer_key"); err != nil {
		return OpenBody{}, err
	}
	if _, err := blindtoken.ParseIssuerKey(b.IssuerKey); err != nil {
		return OpenBody{}, body.Errorf("field %q: %v", "issuer_key", err)
	}
	return b, nil
}

// timeField reads a member that must be an RFC 3339 date-time in whole
// seconds, UTC, written with "Z".
func timeField(o body.Object, name string) (string, time.Time, error) {
	s, err := o.Str(name)
	if err != nil {
		return "", time.Time{}, err
	}
	t, err := parseTime(s)
	if err != nil {
		return "", time.Time{}, body.Errorf("field %q: %v", o.Field(name), err)
	}
	return s, t, nil
}

// parseTime reads a time as bodies and the state write it:
// 2006-01-02T15:04:05Z.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.UTC().Format(time.RFC3339) != s {
		return time.Time{}, fmt.Errorf("%.40q is not an RFC 3339 date-time in whole seconds, UTC (2006-01-02T15:04:05Z)", s)
	}
	return t.UTC(), nil
}

// formatTime writes t as [parseTime] reads it.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ParseTokensBody parses and checks the body of a votes.tokens. Its errors
// wrap [rule.ErrInvalidBody].
func ParseTokensBody(data []byte) (TokensBody, error) {
	o, err := body.Parse(data, []string{"election_id", "batch", "count"}, nil)
	if err != nil {
		return TokensBody{}, err
	}
	var b TokensBody
	if b.ElectionID, err = o.ID("election_id", body.ID); err != nil {
		return TokensBody{}, err
	}
	if b.Batch, err = o.Amount("batch", 1); err != nil {
		return TokensBody{}, err
	}
	if b.Count, err = o.Amount("count", 1); err != nil {
		return TokensBody{}, err
	}
	return b, nil
}

// ParseBallotBody parses and checks the body of a votes.ballot: the form of
// its fields, not whether the choice is an option of the election nor the
// token valid, which take the election. Its errors wrap
// [rule.ErrInvalidBody].
func ParseBallotBody(data []byte) (BallotBody, error) {
	o, err := body.Parse(data, []string{"election_id", "choice", "token"}, nil)
	if err != nil {
		return BallotBody{}, err
	}
	var b BallotBody
	if b.ElectionID, err = o.ID("election_id", body.ID); err != nil {
		return BallotBody{}, err
	}
	if b.Choice, err = o.Text("choice", maxOptionLen); err != nil {
		return BallotBody{}, err
	}
	t, err := o.Object("token", []string{"key", "prefix", "signature"}, nil)
	if err != nil {
		return BallotBody{}, err
	}
	if b.Token.Key, err = t.Str("key"); err != nil {
		return BallotBody{}, err
	}
	name, _, err := notesig.ParseVKey(b.Token.Key)
	if err != nil {
		return BallotBody{}, fmt.Errorf("%w (in %q)", err, t.Field("key"))
	}
	if name != VoterKeyName {
		return BallotBody{}, body.Errorf("field %q must be a key named %q, not %.64q", t.Field("key"), VoterKeyName, name)
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"prefix", &b.Token.Prefix}, {"signature", &b.Token.Signature}} {
		if *f.v, err = t.Str(f.name); err != nil {
			return BallotBody{}, err
		}
		if *f.v == "" || len(*f.v) > maxTokenField {
			return BallotBody{}, body.Errorf("field %q must be 1 to %d characters long", t.Field(f.name), maxTokenField)
		}
	}
	return b, nil
}

// SignerName names the voter of b: "voter+<key hash>" of its token's
// one-time key, or "" if that is not a verifier key.
func (b BallotBody) SignerName() string {
	name, hash, err := notesig.ParseVKey(b.Token.Key)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s+%08x", name, hash)
}

// ParseCloseBody parses and checks the body of a votes.close: its form,
// not whether it is the election's tally. Its errors wrap
// [rule.ErrInvalidBody].
func ParseCloseBody(data []byte) (CloseBody, error) {
	o, err := body.Parse(data, []string{"election_id", "counts", "ballots", "tokens", "last_ballot"}, nil)
	if err != nil {
		return CloseBody{}, err
	}
	var b CloseBody
	if b.ElectionID, err = o.ID("election_id", body.ID); err != nil {
		return CloseBody{}, err
	}
	// The body reader names no members it was not told of: take the names
	// of counts from encoding/json, which body.Parse has made safe (one
	// object, valid UTF-8, no repeated or unknown name).
	var names struct {
		Counts map[string]json.RawMessage `json:"counts"`
	}
	if err := json.Unmarshal(data, &names); err != nil {
		return CloseBody{}, body.Errorf("field %q must be an object of counts", "counts")
	}
	if n := len(names.Counts); n < MinOptions || n > MaxOptions {
		return CloseBody{}, body.Errorf("field %q has %d members; an election has %d to %d options", "counts", n, MinOptions, MaxOptions)
	}
	keys := slices.Sorted(maps.Keys(names.Counts))
	c, err := o.Object("counts", keys, nil)
	if err != nil {
		return CloseBody{}, err
	}
	b.Counts = make(map[string]int64, len(keys))
	var sum int64
	for _, k := range keys {
		if err := body.CheckText(c.Field(k), k, maxOptionLen); err != nil {
			return CloseBody{}, err
		}
		if b.Counts[k], err = c.Amount(k, 0); err != nil {
			return CloseBody{}, err
		}
		sum += b.Counts[k] // at most 64 * 2^53: no overflow
	}
	if b.Ballots, err = o.Amount("ballots", 0); err != nil {
		return CloseBody{}, err
	}
	if b.Tokens, err = o.Amount("tokens", 0); err != nil {
		return CloseBody{}, err
	}
	if sum != b.Ballots {
		return CloseBody{}, body.Errorf("the counts add up to %d, not to the %d ballots", sum, b.Ballots)
	}
	if b.Ballots > b.Tokens {
		return CloseBody{}, body.Errorf("%d ballots of %d tokens issued", b.Ballots, b.Tokens)
	}
	if b.LastBallot, err = o.Str("last_ballot"); err != nil {
		return CloseBody{}, err
	}
	switch {
	case b.LastBallot == "" && b.Ballots != 0:
		return CloseBody{}, body.Errorf("field %q is empty, but %d ballots were cast", "last_ballot", b.Ballots)
	case b.LastBallot != "" && b.Ballots == 0:
		return CloseBody{}, body.Errorf("field %q names a ballot, but none was cast", "last_ballot")
	case b.LastBallot != "" && !body.ValidSHA256(b.LastBallot):
		return CloseBody{}, body.Errorf("field %q must be a leaf hash, 64 lowercase hex digits", "last_ballot")
	}
	return b, nil
}
