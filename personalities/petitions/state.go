package petitions

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

// Record is a petition, the JSON value of its [PetitionKey].
type Record struct {
	// Agency is the registry ID of the agency that opened it.
	Agency string `json:"agency"`
	Title  string `json:"title"`
	// Closes is as the petition.open gave it.
	Closes string `json:"closes"`
	// Opened is the time of the petition.open, RFC 3339 UTC.
	Opened string `json:"opened"`
	// LeafHash is the leaf hash of the petition.open, lowercase hex.
	LeafHash string `json:"leaf_hash"`
	// Signatures counts the signatures admitted.
	Signatures int64 `json:"signatures"`
}

// SignatureRecord is one signature of a petition, the JSON value of its
// [SignatureKey].
type SignatureRecord struct {
	// N numbers the petition's signatures, from 1, in log order.
	N int64 `json:"n"`
	// Signer is "citizen+<key hash>".
	Signer string `json:"signer"`
	// Time is the time of the petition.sign, RFC 3339 UTC.
	Time string `json:"time"`
	// LeafHash is the leaf hash of the petition.sign, lowercase hex.
	LeafHash string `json:"leaf_hash"`
}

// times returns when the petition opened and when it closes.
func (r Record) times() (opened, closes time.Time, err error) {
	if opened, err = time.Parse(time.RFC3339, r.Opened); err != nil {
		return opened, closes, fmt.Errorf("opening time %.40q: %v", r.Opened, err)
	}
	closes, err = closingTime(r.Closes)
	return opened, closes, err
}

const petitionPrefix = "petition/"

// PetitionKey is the state key of a petition's [Record].
func PetitionKey(id string) string { return petitionPrefix + id }

// SignatureKey is the state key of a petition's n-th [SignatureRecord].
func SignatureKey(id string, n int64) string {
	return "signature/" + id + "/" + strconv.FormatInt(n, 10)
}

// SignedKey is the state key that records that the key vkey signed the
// petition: one key's signatures are told apart by the whole key, not its
// 32-bit key hash, which anyone could match with a key of their own.
func SignedKey(id, vkey string) string {
	h := sha256.Sum256([]byte(vkey))
	return "signed/" + id + "/" + hex.EncodeToString(h[:])
}

// Petition reads the petition id, ok=false if there is none (or id is not a
// petition ID).
func Petition(ctx context.Context, st rule.Reader, id string) (Record, bool, error) {
	var r Record
	if !body.ID.Valid(id) {
		return r, false, nil
	}
	ok, err := record.Get(ctx, st, PetitionKey(id), &r)
	return r, ok, err
}

// Signature reads the n-th signature of the petition id, ok=false if there
// is none.
func Signature(ctx context.Context, st rule.Reader, id string, n int64) (SignatureRecord, bool, error) {
	var s SignatureRecord
	if !body.ID.Valid(id) {
		return s, false, nil
	}
	ok, err := record.Get(ctx, st, SignatureKey(id, n), &s)
	return s, ok, err
}
