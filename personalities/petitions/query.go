package petitions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/answer"
	"github.com/govlog/govlog/personalities/rule/body"
)

// QueryPetition is the name of the one query of the log.
const QueryPetition = "petition"

// MaxCitedSignatures is the most signatures a petition query returns: the
// first ones, in log order.
const MaxCitedSignatures = 100

// Answer is the answer to a petition query.
type Answer struct {
	ID       string `json:"id"`
	Petition Record `json:"petition"`
	// Signatures are the first min(Petition.Signatures,
	// MaxCitedSignatures) signatures, numbered from 1.
	Signatures []SignatureRecord `json:"signatures"`
}

// ErrAnswerMismatch is what CheckAnswer's errors wrap: the answer says what
// its entries do not.
var ErrAnswerMismatch = errors.New("the answer does not match its entries")

var (
	_ rule.Querier     = (*Rules)(nil)
	_ rule.QueryClient = (*Rules)(nil)
)

// Query implements [rule.Querier]: the petition query of the package doc.
// It reads at most 1 + MaxCitedSignatures keys.
func (*Rules) Query(ctx context.Context, v rule.View, name string, args map[string]string) (any, [][32]byte, error) {
	if name != QueryPetition {
		return nil, nil, fmt.Errorf("%w %.64q: the %s log answers %q", rule.ErrUnknownQuery, name, LogName, QueryPetition)
	}
	id, ok := args["id"]
	if len(args) != 1 || !ok {
		return nil, nil, fmt.Errorf("%w: the %s query takes one argument, id (have %q)", rule.ErrInvalidQuery, QueryPetition, slices.Sorted(maps.Keys(args)))
	}
	if !body.ID.Valid(id) {
		return nil, nil, fmt.Errorf("%w: %.80q is not a petition ID", rule.ErrInvalidQuery, id)
	}
	rec, ok, err := Petition(ctx, v, id)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, fmt.Errorf("%w: there is no petition %s", rule.ErrNotFound, id)
	}
	a := &Answer{ID: id, Petition: rec, Signatures: []SignatureRecord{}}
	leaf, err := answer.LeafHash(rec.LeafHash)
	if err != nil {
		return nil, nil, fmt.Errorf("corrupt state: petition %s: %w", id, err)
	}
	cited := [][32]byte{leaf}
	for n := int64(1); n <= min(rec.Signatures, MaxCitedSignatures); n++ {
		s, ok, err := Signature(ctx, v, id, n)
		if err != nil {
			return nil, nil, err
		}
		if leaf, err = answer.LeafHash(s.LeafHash); !ok || err != nil {
			return nil, nil, fmt.Errorf("corrupt state: petition %s counts %d signatures, but its signature %d is missing or malformed", id, rec.Signatures, n)
		}
		a.Signatures = append(a.Signatures, s)
		cited = append(cited, leaf)
	}
	return a, cited, nil
}

// Queries implements [rule.QueryClient].
func (*Rules) Queries() []rule.QueryInfo {
	return []rule.QueryInfo{{
		Name:    QueryPetition,
		Summary: "a petition, how many signed it, and its first signatures",
		Doc: fmt.Sprintf("Shows the petition, who opened it and when it closes, its count of signatures and the first %d of them, "+
			"each checked against its entry in the log: the petition.open that opened it and every petition.sign cited.", MaxCitedSignatures),
		Arg:     "id",
		ArgName: "PETITION",
	}}
}

// CheckAnswer implements [rule.QueryClient]: the petition's record is what
// its petition.open says, and each signature cited is a petition.sign of
// that petition, by a key of its own, made while the petition was open.
// Errors wrap [ErrAnswerMismatch].
func (*Rules) CheckAnswer(query string, args map[string]string, result []byte, entries []rule.ProvedEntry) (string, error) {
	if query != QueryPetition {
		return "", fmt.Errorf("%w %.64q", rule.ErrUnknownQuery, query)
	}
	a, err := decodeAnswer(result)
	if err != nil {
		return "", err
	}
	if a.ID != args["id"] {
		return "", mismatch("the answer is about petition %.80q, not %.80q", a.ID, args["id"])
	}
	proved := answer.ByHash(entries)
	closes, err := checkOpening(a, proved)
	if err != nil {
		return "", err
	}
	if err := checkSignatures(a, closes, proved); err != nil {
		return "", err
	}
	checked := fmt.Sprintf("checked: petition %s is as the entry that opened it says, and the %d signatures shown are petition.sign entries for it, by %d different keys, made while it was open",
		a.ID, len(a.Signatures), len(a.Signatures))
	if a.Petition.Signatures > int64(len(a.Signatures)) {
		checked += fmt.Sprintf("; its count of %d signatures is the log's word beyond those", a.Petition.Signatures)
	}
	return checked + "; the agency named is the one admission recorded for the opening entry", nil
}

func decodeAnswer(result []byte) (*Answer, error) {
	var a Answer
	if err := answer.Decode(result, &a, "a petition answer"); err != nil {
		return nil, mismatch("%v", err)
	}
	return &a, nil
}

func mismatch(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrAnswerMismatch, fmt.Sprintf(format, args...))
}

// provedEntry returns the proved entry of the leaf hash an answer gives.
func provedEntry(proved map[[32]byte]rule.ProvedEntry, what, leafHex string) (rule.ProvedEntry, error) {
	e, err := answer.Entry(proved, leafHex)
	if err != nil {
		return e, mismatch("%s: %v", what, err)
	}
	return e, nil
}

// checkOpening checks the petition's record against its petition.open, and
// returns when it closes.
func checkOpening(a *Answer, proved map[[32]byte]rule.ProvedEntry) (time.Time, error) {
	rec := a.Petition
	e, err := provedEntry(proved, "the petition", rec.LeafHash)
	if err != nil {
		return time.Time{}, err
	}
	if e.Type != TypeOpen {
		return time.Time{}, mismatch("the petition's entry is a %.64s, not a %s", e.Type, TypeOpen)
	}
	b, err := ParseOpenBody(e.Body)
	if err != nil {
		return time.Time{}, mismatch("the petition's entry: %v", err)
	}
	switch {
	case b.PetitionID != a.ID:
		return time.Time{}, mismatch("the petition's entry opens petition %s, not %.80s", b.PetitionID, a.ID)
	case b.Title != rec.Title:
		return time.Time{}, mismatch("the petition's entry gives the title %q, not %.300q", b.Title, rec.Title)
	case b.Closes != rec.Closes:
		return time.Time{}, mismatch("the petition's entry closes it at %s, not %.80s", b.Closes, rec.Closes)
	case e.Time.UTC().Format(time.RFC3339) != rec.Opened:
		return time.Time{}, mismatch("the petition's entry was made at %s, not %.80s", e.Time.UTC().Format(time.RFC3339), rec.Opened)
	}
	closes, _ := closingTime(b.Closes) // checked by ParseOpenBody
	return closes, nil
}

// checkSignatures checks the signatures cited against their petition.sign
// entries, and their number against the count.
func checkSignatures(a *Answer, closes time.Time, proved map[[32]byte]rule.ProvedEntry) error {
	count := a.Petition.Signatures
	if want := min(max(count, 0), MaxCitedSignatures); int64(len(a.Signatures)) != want {
		return mismatch("the answer shows %d signatures of the %d it counts; the query shows the first %d", len(a.Signatures), count, want)
	}
	opened, _ := time.Parse(time.RFC3339, a.Petition.Opened) // checked by checkOpening
	keys := map[string]int64{}
	for i, s := range a.Signatures {
		what := fmt.Sprintf("signature %d", i+1)
		if s.N != int64(i+1) {
			return mismatch("%s is numbered %d", what, s.N)
		}
		e, err := provedEntry(proved, what, s.LeafHash)
		if err != nil {
			return err
		}
		if e.Type != TypeSign {
			return mismatch("%s's entry is a %.64s, not a %s", what, e.Type, TypeSign)
		}
		b, err := ParseSignBody(e.Body)
		if err != nil {
			return mismatch("%s's entry: %v", what, err)
		}
		switch at := e.Time.UTC(); {
		case b.PetitionID != a.ID:
			return mismatch("%s's entry signs petition %s", what, b.PetitionID)
		case b.SignerName() != s.Signer:
			return mismatch("%s's entry is signed by %s, not %.80s", what, b.SignerName(), s.Signer)
		case !slices.Contains(e.Signers, SignerKeyName):
			return mismatch("%s's entry carries no signature by a key named %s", what, SignerKeyName)
		case at.Format(time.RFC3339) != s.Time:
			return mismatch("%s's entry was made at %s, not %.80s", what, at.Format(time.RFC3339), s.Time)
		case at.Before(opened) || !at.Before(closes):
			return mismatch("%s's entry was made at %s, when the petition was not open", what, at.Format(time.RFC3339))
		}
		if n, ok := keys[b.Signer]; ok {
			return mismatch("signatures %d and %d are by the same key", n, s.N)
		}
		keys[b.Signer] = s.N
	}
	return nil
}

// FormatAnswer implements [rule.QueryClient].
func (*Rules) FormatAnswer(w io.Writer, query string, result []byte) error {
	if query != QueryPetition {
		return fmt.Errorf("%w %.64q", rule.ErrUnknownQuery, query)
	}
	a, err := decodeAnswer(result)
	if err != nil {
		return err
	}
	p := a.Petition
	var b strings.Builder
	fmt.Fprintf(&b, "Petition %s: %s\n", a.ID, p.Title)
	fmt.Fprintf(&b, "  opened %s by %s, closes %s\n", p.Opened, p.Agency, p.Closes)
	fmt.Fprintf(&b, "  %d signatures", p.Signatures)
	if int64(len(a.Signatures)) < p.Signatures {
		fmt.Fprintf(&b, " (the first %d shown)", len(a.Signatures))
	}
	b.WriteString("\n")
	for _, s := range a.Signatures {
		fmt.Fprintf(&b, "  %4d  %s  %s\n", s.N, s.Time, s.Signer)
	}
	_, err = io.WriteString(w, b.String())
	return err
}
