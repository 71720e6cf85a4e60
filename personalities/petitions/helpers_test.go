package petitions_test

import (
	"crypto/rand"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

const (
	origin = "gov.example/petitions"
	cityA  = "city-a"
	cityB  = "city-b"
)

// t0 is when the test petitions open; they close on 2027-01-31, UTC.
var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// exampleCitizenKey signs the example of petition.sign in types.go.
const exampleCitizenKey = "PRIVATE+KEY+citizen+9c7cd4df+AfIpqWgWtTP9UuEYV78n0b1DQP2LO29EDMM4vigV1WnY"

// key is a signer's key pair.
type key struct {
	note.Signer
	vkey string
}

func newKey(t testing.TB, name string) key {
	t.Helper()
	k, err := generateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signerOf returns the key of a signer key, without its verifier key.
func signerOf(t testing.TB, skey string) key {
	t.Helper()
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return key{Signer: s}
}

func generateKey(name string) (key, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return key{}, err
	}
	s, err := note.NewSigner(skey)
	return key{s, vkey}, err
}

// agencyKey signs the petitions the tests open: the rules do not look at
// it (admission checks an agency's key), but a query's client sees it.
var agencyKey = sync.OnceValue(func() key {
	k, err := generateKey("gov.example/city-a")
	if err != nil {
		panic(err)
	}
	return k
})

// statement returns the entry of a statement signed by keys, as the
// centre hands it to the rules; agency is the registry's verdict on its
// signer, "" for a self-signed type.
func statement(t testing.TB, agency, typ string, at time.Time, body any, keys ...key) rule.Entry {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	st, err := govlog.NewStatement(origin, typ, at, b)
	if err != nil {
		t.Fatal(err)
	}
	var signers []note.Signer
	for _, k := range keys {
		signers = append(signers, k.Signer)
	}
	signed, err := st.Sign(signers...)
	if err != nil {
		t.Fatal(err)
	}
	e := rule.Entry{Type: st.Type, Time: st.Time, Body: st.Body, Agency: agency, LeafHash: govlog.LeafHash(signed)}
	if e.Text, e.Signatures, err = ruletest.SplitNote(signed); err != nil {
		t.Fatal(err)
	}
	return e
}

func openBody(id string) map[string]string {
	return map[string]string{"petition_id": id, "title": "Petition " + id, "closes": "2027-01-31"}
}

func openAt(t testing.TB, at time.Time, agency string, body map[string]string) rule.Entry {
	return statement(t, agency, "petition.open", at, body, agencyKey())
}

func open(t testing.TB, id string) rule.Entry { return openAt(t, t0, cityA, openBody(id)) }

func signBody(id string, k key) map[string]string {
	return map[string]string{"petition_id": id, "signer": k.vkey}
}

// signAt is k's signature of petition id at at, signed by keys (k's alone
// if none are given).
func signAt(t testing.TB, at time.Time, id string, k key, keys ...key) rule.Entry {
	if len(keys) == 0 {
		keys = []key{k}
	}
	return statement(t, "", "petition.sign", at, signBody(id, k), keys...)
}

func sign(t testing.TB, id string, k key) rule.Entry { return signAt(t, t0.Add(time.Hour), id, k) }

// rawEntry is an agency's entry with any body: the rules of an agency's
// type do not read the note.
func rawEntry(agency, typ, body string) rule.Entry {
	return rule.Entry{Type: typ, Time: t0, Body: json.RawMessage(body), Agency: agency, LeafHash: [32]byte{1}}
}

// proved is e as a client holding its inclusion proof sees it.
func proved(e rule.Entry) rule.ProvedEntry {
	p := rule.ProvedEntry{LeafHash: e.LeafHash, Type: e.Type, Time: e.Time, Body: e.Body}
	for _, s := range e.Signatures {
		p.Signers = append(p.Signers, s.Name)
	}
	return p
}
