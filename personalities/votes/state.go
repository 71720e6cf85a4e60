package votes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/record"
)

// Election is an election, the JSON value of its [ElectionKey].
type Election struct {
	// Authority is the registry ID of the agency that opened it.
	Authority string   `json:"authority"`
	Question  string   `json:"question"`
	Options   []string `json:"options"`
	// Opens and Closes are as the votes.election.open gave them.
	Opens     string `json:"opens"`
	Closes    string `json:"closes"`
	IssuerKey string `json:"issuer_key"`
	// Opened is the time of the votes.election.open, RFC 3339 UTC, and
	// LeafHash its leaf hash, lowercase hex.
	Opened   string `json:"opened"`
	LeafHash string `json:"leaf_hash"`
	// Issuer is the agency that logged the first batch of tokens; every
	// later batch is its own. "" before the first.
	Issuer string `json:"issuer,omitempty"`
	// Batches counts the votes.tokens entries, Tokens adds up their counts.
	Batches int64 `json:"batches"`
	Tokens  int64 `json:"tokens"`
	// Ballots counts the ballots admitted, Counts them per option, in the
	// order of Options; LastBallot is the leaf hash of the last one, ""
	// before the first. Neither the dashboard nor a query shows Counts
	// before the election's close entry.
	Ballots    int64   `json:"ballots"`
	Counts     []int64 `json:"counts"`
	LastBallot string  `json:"last_ballot"`
	// Close is the votes.close that closed the election, nil before it.
	Close *CloseRecord `json:"close,omitempty"`
}

// CloseRecord is the entry that closed an election.
type CloseRecord struct {
	// Time is the time of the votes.close, RFC 3339 UTC.
	Time     string `json:"time"`
	LeafHash string `json:"leaf_hash"`
}

// BatchRecord is one votes.tokens entry, the JSON value of its
// [BatchKey].
type BatchRecord struct {
	Batch  int64  `json:"batch"`
	Count  int64  `json:"count"`
	Agency string `json:"agency"`
	// Time is the time of the votes.tokens, RFC 3339 UTC.
	Time     string `json:"time"`
	LeafHash string `json:"leaf_hash"`
}

// BallotRecord records that a token voted, the JSON value of its
// [BallotKey].
type BallotRecord struct {
	// N numbers the election's ballots, from 1, in log order.
	N int64 `json:"n"`
	// Time is the time of the votes.ballot, RFC 3339 UTC.
	Time     string `json:"time"`
	LeafHash string `json:"leaf_hash"`
}

// Pending is one election without a close entry, in the list at
// [PendingKey].
type Pending struct {
	Closes   string `json:"closes"`
	Election string `json:"election"`
}

// times returns when the election opens and when it closes.
func (r Election) times() (opens, closes time.Time, err error) {
	if opens, err = parseTime(r.Opens); err != nil {
		return opens, closes, err
	}
	closes, err = parseTime(r.Closes)
	return opens, closes, err
}

// tally is the body of the votes.close of the election as it stands.
func (r Election) tally(id string) (CloseBody, error) {
	if len(r.Counts) != len(r.Options) {
		return CloseBody{}, fmt.Errorf("corrupt state: election %s has %d options and %d counts", id, len(r.Options), len(r.Counts))
	}
	b := CloseBody{ElectionID: id, Counts: make(map[string]int64, len(r.Options)), Ballots: r.Ballots, Tokens: r.Tokens, LastBallot: r.LastBallot}
	for i, o := range r.Options {
		b.Counts[o] = r.Counts[i]
	}
	return b, nil
}

const (
	electionPrefix = "election/"
	// PendingKey holds the elections without a close entry, sorted by
	// closing time, then ID: what the Scheduler reads.
	PendingKey = "pending-close"
)

// ElectionKey is the state key of an election's [Election].
func ElectionKey(id string) string { return electionPrefix + id }

// BatchKey is the state key of an election's n-th [BatchRecord].
func BatchKey(id string, n int64) string { return "batch/" + id + "/" + strconv.FormatInt(n, 10) }

// BallotKey is the state key that records that the token whose one-time
// key is vkey voted in the election: told apart by the whole key, not its
// 32-bit key hash, which anyone could match with a key of their own.
func BallotKey(id, vkey string) string {
	h := sha256.Sum256([]byte(vkey))
	return "ballot/" + id + "/" + hex.EncodeToString(h[:])
}

// ReadElection reads the election id, ok=false if there is none (or id is
// not an election ID).
func ReadElection(ctx context.Context, st rule.Reader, id string) (Election, bool, error) {
	var r Election
	if !body.ID.Valid(id) {
		return r, false, nil
	}
	ok, err := record.Get(ctx, st, ElectionKey(id), &r)
	return r, ok, err
}
