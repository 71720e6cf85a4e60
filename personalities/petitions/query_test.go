package petitions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/petitions"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// memView is a rule.View over a state and the entries admitted into it.
type memView struct {
	ruletest.State
	entries map[[32]byte]rule.Entry
}

var _ rule.View = memView{}

func (v memView) Entry(_ context.Context, h [32]byte) (rule.Entry, bool, error) {
	e, ok := v.entries[h]
	e.Agency = ""
	return e, ok, nil
}

func viewOf(t testing.TB, entries ...rule.Entry) memView {
	t.Helper()
	v := memView{ruletest.State{}, map[[32]byte]rule.Entry{}}
	for _, e := range ruletest.Apply(t, petitions.New(), v.State, entries...) {
		v.entries[e.LeafHash] = e
	}
	return v
}

// answer asks v the petition query about id and returns the answer as a
// client receives it, with the entries it cites, proved.
func answer(t testing.TB, v memView, id string) ([]byte, []rule.ProvedEntry) {
	t.Helper()
	res, cited, err := petitions.New().Query(context.Background(), v, petitions.QueryPetition, map[string]string{"id": id})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var ps []rule.ProvedEntry
	for _, h := range cited {
		e, ok, err := v.Entry(context.Background(), h)
		if err != nil || !ok {
			t.Fatalf("cited %x: %v, %v", h, ok, err)
		}
		ps = append(ps, proved(e))
	}
	return b, ps
}

// signedView is a view with petition p1 signed by n citizens, and p2
// signed by one.
func signedView(t testing.TB, n int) memView {
	t.Helper()
	entries := []rule.Entry{open(t, "p1"), open(t, "p2")}
	for i := range n {
		entries = append(entries, signAt(t, t0.Add(time.Duration(i)*time.Second), "p1", newKey(t, "citizen")))
	}
	entries = append(entries, sign(t, "p2", newKey(t, "citizen")))
	return viewOf(t, entries...)
}

func TestQuery(t *testing.T) {
	for _, n := range []int{0, 3, petitions.MaxCitedSignatures, petitions.MaxCitedSignatures + 20} {
		t.Run(fmt.Sprint(n, " signatures"), func(t *testing.T) {
			v := signedView(t, n)
			res, cited, err := petitions.New().Query(context.Background(), v, petitions.QueryPetition, map[string]string{"id": "p1"})
			if err != nil {
				t.Fatal(err)
			}
			a := res.(*petitions.Answer)
			shown := min(n, petitions.MaxCitedSignatures)
			if a.ID != "p1" || a.Petition.Signatures != int64(n) || len(a.Signatures) != shown || len(cited) != 1+shown {
				t.Fatalf("answer %+v, %d cited", a, len(cited))
			}
			if fmt.Sprintf("%x", cited[0]) != a.Petition.LeafHash {
				t.Errorf("cites %x first, not the petition's entry %s", cited[0], a.Petition.LeafHash)
			}
			for i, s := range a.Signatures {
				if s.N != int64(i+1) || fmt.Sprintf("%x", cited[i+1]) != s.LeafHash {
					t.Errorf("signature %d: %+v, cited %x", i+1, s, cited[i+1])
				}
			}
			b, ps := answer(t, v, "p1")
			checked, err := petitions.New().CheckAnswer(petitions.QueryPetition, map[string]string{"id": "p1"}, b, ps)
			if err != nil || !strings.HasPrefix(checked, "checked: ") {
				t.Errorf("CheckAnswer of the honest answer = %q, %v", checked, err)
			}
			if beyond := strings.Contains(checked, "the log's word beyond those"); beyond != (n > petitions.MaxCitedSignatures) {
				t.Errorf("CheckAnswer = %q", checked)
			}
		})
	}
}

func TestQueryRefused(t *testing.T) {
	v := signedView(t, 1)
	tests := []struct {
		name    string
		query   string
		args    map[string]string
		wantErr error
	}{
		{"unknown query", "petitions", map[string]string{"id": "p1"}, rule.ErrUnknownQuery},
		{"no id", petitions.QueryPetition, map[string]string{}, rule.ErrInvalidQuery},
		{"another argument", petitions.QueryPetition, map[string]string{"id": "p1", "limit": "5"}, rule.ErrInvalidQuery},
		{"bad id", petitions.QueryPetition, map[string]string{"id": "p1/../p2"}, rule.ErrInvalidQuery},
		{"empty id", petitions.QueryPetition, map[string]string{"id": ""}, rule.ErrInvalidQuery},
		{"no such petition", petitions.QueryPetition, map[string]string{"id": "p9"}, rule.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := petitions.New().Query(context.Background(), v, tt.query, tt.args); !errors.Is(err, tt.wantErr) {
				t.Errorf("Query = %v, want %v", err, tt.wantErr)
			}
		})
	}
	corrupt := signedView(t, 2)
	delete(corrupt.State, petitions.SignatureKey("p1", 2))
	if _, _, err := petitions.New().Query(context.Background(), corrupt, petitions.QueryPetition, map[string]string{"id": "p1"}); err == nil ||
		errors.Is(err, rule.ErrNotFound) || errors.Is(err, rule.ErrInvalidQuery) {
		t.Errorf("Query over a missing signature = %v, want a state error", err)
	}
}

func TestCheckAnswer(t *testing.T) {
	v := signedView(t, 3)
	honest, ps := answer(t, v, "p1")
	_, ps2 := answer(t, v, "p2")
	other := ps2[1] // p2's signature
	edit := func(change func(a *petitions.Answer)) []byte {
		var a petitions.Answer
		if err := json.Unmarshal(honest, &a); err != nil {
			t.Fatal(err)
		}
		change(&a)
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	hexOf := func(e rule.ProvedEntry) string { return fmt.Sprintf("%x", e.LeafHash) }
	tests := []struct {
		name    string
		id      string // "" for p1
		result  []byte
		entries []rule.ProvedEntry // nil for ps
		wantMsg string             // a substring of the error; "": no error
	}{
		{name: "honest", result: honest},
		{name: "another petition asked", id: "p2", result: honest, wantMsg: `about petition "p1", not "p2"`},
		{name: "title changed", result: edit(func(a *petitions.Answer) { a.Petition.Title = "Something else" }), wantMsg: "gives the title"},
		{name: "closes later", result: edit(func(a *petitions.Answer) { a.Petition.Closes = "2027-12-31" }), wantMsg: "closes it at 2027-01-31"},
		{name: "opened earlier", result: edit(func(a *petitions.Answer) { a.Petition.Opened = "2026-01-01T00:00:00Z" }), wantMsg: "was made at 2026-12-01T09:00:00Z"},
		{name: "petition entry is a signature", result: edit(func(a *petitions.Answer) { a.Petition.LeafHash = hexOf(ps[1]) }),
			wantMsg: "the petition's entry is a petition.sign"},
		{name: "another petition's entry", result: edit(func(a *petitions.Answer) { a.Petition.LeafHash = hexOf(ps2[0]) }), entries: append(ps, ps2[0]),
			wantMsg: "opens petition p2"},
		{name: "petition entry unproved", result: honest, entries: ps[1:], wantMsg: "the petition: no proof of its entry"},
		{name: "leaf hash in upper case", result: edit(func(a *petitions.Answer) { a.Petition.LeafHash = strings.ToUpper(a.Petition.LeafHash) }),
			wantMsg: "is not a leaf hash"},
		{name: "count lowered below the signatures shown", result: edit(func(a *petitions.Answer) { a.Petition.Signatures = 2 }),
			wantMsg: "shows 3 signatures of the 2 it counts"},
		{name: "count raised, no more shown", result: edit(func(a *petitions.Answer) { a.Petition.Signatures = 4 }),
			wantMsg: "shows 3 signatures of the 4 it counts; the query shows the first 4"},
		{name: "negative count", result: edit(func(a *petitions.Answer) { a.Petition.Signatures = -1 }), wantMsg: "shows 3 signatures of the -1"},
		{name: "a signature left out", result: edit(func(a *petitions.Answer) { a.Signatures = a.Signatures[:2] }), wantMsg: "shows 2 signatures of the 3"},
		{name: "signer swapped", result: edit(func(a *petitions.Answer) { a.Signatures[0].Signer = a.Signatures[1].Signer }),
			wantMsg: "signature 1's entry is signed by"},
		{name: "signature time changed", result: edit(func(a *petitions.Answer) { a.Signatures[1].Time = "2026-12-02T00:00:00Z" }),
			wantMsg: "signature 2's entry was made at"},
		{name: "signatures renumbered", result: edit(func(a *petitions.Answer) { a.Signatures[2].N = 7 }), wantMsg: "signature 3 is numbered 7"},
		{name: "signature is the petition's entry", result: edit(func(a *petitions.Answer) { a.Signatures[0].LeafHash = a.Petition.LeafHash }),
			wantMsg: "signature 1's entry is a petition.open"},
		{name: "another petition's signature", result: edit(func(a *petitions.Answer) {
			a.Signatures[2] = petitions.SignatureRecord{N: 3, LeafHash: hexOf(other), Signer: a.Signatures[2].Signer, Time: a.Signatures[2].Time}
		}), entries: append(ps, other), wantMsg: "signature 3's entry signs petition p2"},
		{name: "one signature twice", result: edit(func(a *petitions.Answer) { a.Signatures[1] = a.Signatures[0]; a.Signatures[1].N = 2 }),
			wantMsg: "signatures 1 and 2 are by the same key"},
		{name: "signature unproved", result: honest, entries: ps[:3], wantMsg: "signature 3: no proof of its entry"},
		{name: "signature made after the close", result: edit(func(a *petitions.Answer) { a.Petition.Closes = "2026-12-01T09:00:01Z" }),
			entries: withBody(ps, 0, `{"closes":"2026-12-01T09:00:01Z","petition_id":"p1","title":"Petition p1"}`),
			wantMsg: "signature 2's entry was made at 2026-12-01T09:00:01Z, when the petition was not open"},
		{name: "signature without a citizen's line", result: honest, entries: withSigners(ps, 2, "forger"),
			wantMsg: "signature 2's entry carries no signature by a key named citizen"},
		{name: "unknown field", result: bytes.Replace(honest, []byte(`{"id":`), []byte(`{"note":"x","id":`), 1), wantMsg: `unknown field "note"`},
		{name: "data after the answer", result: append(honest, "{}"...), wantMsg: "data after it"},
		{name: "not JSON", result: []byte("petition p1"), wantMsg: "not a petition answer"},
	}
	r := petitions.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, entries := tt.id, tt.entries
			if id == "" {
				id = "p1"
			}
			if entries == nil {
				entries = ps
			}
			checked, err := r.CheckAnswer(petitions.QueryPetition, map[string]string{"id": id}, tt.result, entries)
			if tt.wantMsg == "" {
				if err != nil || !strings.HasPrefix(checked, "checked: petition p1 is as the entry that opened it says, and the 3 signatures") {
					t.Errorf("CheckAnswer = %q, %v", checked, err)
				}
				return
			}
			if !errors.Is(err, petitions.ErrAnswerMismatch) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("CheckAnswer = %q, %v; want ErrAnswerMismatch saying %q", checked, err, tt.wantMsg)
			}
		})
	}
	if _, err := r.CheckAnswer("petitions", map[string]string{"id": "p1"}, honest, ps); !errors.Is(err, rule.ErrUnknownQuery) {
		t.Errorf("CheckAnswer of an unknown query = %v", err)
	}
}

// withBody returns entries with the i-th one's body replaced.
func withBody(entries []rule.ProvedEntry, i int, body string) []rule.ProvedEntry {
	out := append([]rule.ProvedEntry(nil), entries...)
	out[i].Body = json.RawMessage(body)
	return out
}

// withSigners returns entries with the i-th one's signers replaced.
func withSigners(entries []rule.ProvedEntry, i int, signers ...string) []rule.ProvedEntry {
	out := append([]rule.ProvedEntry(nil), entries...)
	out[i].Signers = signers
	return out
}

func TestQueries(t *testing.T) {
	qs := petitions.New().Queries()
	if len(qs) != 1 || qs[0].Name != petitions.QueryPetition || qs[0].Arg != "id" || qs[0].ArgName != "PETITION" || qs[0].Summary == "" || qs[0].Doc == "" {
		t.Errorf("Queries() = %+v", qs)
	}
}

func TestFormatAnswer(t *testing.T) {
	a := petitions.Answer{
		ID: "p1",
		Petition: petitions.Record{Agency: cityA, Title: "Bike lanes", Closes: "2027-01-31", Opened: "2026-12-01T09:00:00Z",
			LeafHash: strings.Repeat("ab", 32), Signatures: 3},
		Signatures: []petitions.SignatureRecord{
			{N: 1, Signer: "citizen+1a2b3c4d", Time: "2026-12-01T10:00:00Z", LeafHash: strings.Repeat("cd", 32)},
			{N: 2, Signer: "citizen+5e6f7a8b", Time: "2026-12-01T11:00:00Z", LeafHash: strings.Repeat("ef", 32)},
		},
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := petitions.New().FormatAnswer(&out, petitions.QueryPetition, b); err != nil {
		t.Fatal(err)
	}
	want := `Petition p1: Bike lanes
  opened 2026-12-01T09:00:00Z by city-a, closes 2027-01-31
  3 signatures (the first 2 shown)
     1  2026-12-01T10:00:00Z  citizen+1a2b3c4d
     2  2026-12-01T11:00:00Z  citizen+5e6f7a8b
`
	if out.String() != want {
		t.Errorf("FormatAnswer wrote:\n%s\nwant:\n%s", out.String(), want)
	}
	if err := petitions.New().FormatAnswer(&out, petitions.QueryPetition, []byte("{")); err == nil {
		t.Errorf("FormatAnswer of a broken answer succeeded")
	}
}
