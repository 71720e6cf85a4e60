package identity_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/identity"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

const origin = "gov.example/identity"

// exampleSubjectSigner signs the example grants and withdrawal in types.go.
const exampleSubjectSigner = "PRIVATE+KEY+subject+82dd309d+AYYloA1GeA10meWJWzEHpsiQ890lGVvVG+hCUCerGlRq"

// Agencies of the tests.
const (
	registrar = "registrar"
	civil     = "civil-a"
	civilB    = "civil-b"
	school    = "school-a"
	clinic    = "clinic-a"
	labour    = "labour-a"
	checker   = "checker-a"
	checkerB  = "checker-b"
	regulator = "regulator"
)

// t0 is when the tests' log begins.
var t0 = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// key is a subject's key pair.
type key struct {
	note.Signer
	vkey string
}

func (k key) id() string { return identity.SubjectID(k.vkey) }

func newKey(t testing.TB) key {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, identity.SubjectKeyName)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return key{s, vkey}
}

// signedEntry is the entry of a statement signed by keys, as the centre
// hands a self-signed one to the rules.
func signedEntry(t testing.TB, typ string, at time.Time, body any, keys ...key) rule.Entry {
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
	e := rule.Entry{Type: st.Type, Time: st.Time, Body: st.Body, LeafHash: govlog.LeafHash(signed)}
	if e.Text, e.Signatures, err = ruletest.SplitNote(signed); err != nil {
		t.Fatal(err)
	}
	return e
}

// view is a rule.View over a test log.
type view struct {
	ruletest.State
	entries map[[32]byte]rule.Entry
}

func (v view) Entry(_ context.Context, h [32]byte) (rule.Entry, bool, error) {
	e, ok := v.entries[h]
	e.Agency = ""
	return e, ok, nil
}

// tlog is an identity log in memory.
type tlog struct {
	t        testing.TB
	r        *identity.Rules
	st       ruletest.State
	entries  map[[32]byte]rule.Entry
	admitted []rule.Entry
	seq      int
}

func newLog(t testing.TB) *tlog {
	return &tlog{t: t, r: identity.New(), st: ruletest.State{}, entries: map[[32]byte]rule.Entry{}}
}

func (l *tlog) view() view { return view{l.st, l.entries} }

// agencyEntry is a statement of agency, signed by its key (named by its
// ID, as the registry names agency keys).
func (l *tlog) agencyEntry(agency, typ string, at time.Time, body any) rule.Entry {
	l.t.Helper()
	b, ok := body.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(body); err != nil {
			l.t.Fatal(err)
		}
	}
	l.seq++
	e := rule.Entry{Type: typ, Time: at, Body: b, Agency: agency, Signatures: []rule.Signature{{Name: agency}}}
	e.LeafHash = sha256.Sum256(fmt.Appendf(nil, "%d %s %s", l.seq, typ, b))
	return e
}

// submit admits e as the next entry.
func (l *tlog) submit(e rule.Entry) (rule.Entry, error) {
	e.Index = uint64(len(l.admitted))
	got, err := ruletest.Admit(context.Background(), l.r, l.st, e, nil)
	if err != nil {
		return got, err
	}
	l.admitted = append(l.admitted, got)
	l.entries[got.LeafHash] = got
	return got, nil
}

func (l *tlog) must(e rule.Entry) rule.Entry {
	l.t.Helper()
	got, err := l.submit(e)
	if err != nil {
		l.t.Fatalf("%s %s: %v", e.Type, e.Body, err)
	}
	return got
}

// by admits a statement of agency.
func (l *tlog) by(agency, typ string, at time.Time, body any) rule.Entry {
	l.t.Helper()
	return l.must(l.agencyEntry(agency, typ, at, body))
}

// try submits a statement of agency and returns the error.
func (l *tlog) try(agency, typ string, at time.Time, body any) error {
	l.t.Helper()
	_, err := l.submit(l.agencyEntry(agency, typ, at, body))
	return err
}

func (l *tlog) register(k key) {
	l.by(registrar, identity.TypeRegister, t0, map[string]string{"subject": k.vkey})
}

// attrs commits to values with fresh salts.
func attrs(t testing.TB, values map[string]string) (map[string]string, map[string][]byte) {
	t.Helper()
	out, salts := map[string]string{}, map[string][]byte{}
	for name, v := range values {
		salt, err := identity.NewSalt()
		if err != nil {
			t.Fatal(err)
		}
		out[name], salts[name] = identity.Commit(salt, v), salt
	}
	return out, salts
}

// someAttrs is one attribute with a fresh commitment.
func someAttrs(t testing.TB) map[string]string {
	a, _ := attrs(t, map[string]string{"grade": "A"})
	return a
}

func issueBody(t testing.TB, id string, k key, typ, issued string) map[string]any {
	return map[string]any{"credential_id": id, "subject": k.id(), "type": typ, "issued": issued, "attributes": someAttrs(t)}
}

func grantBody(id string, k key, agency, typ, purpose, until string) map[string]string {
	return map[string]string{"grant_id": id, "subject": k.vkey, "agency": agency, "credential_type": typ, "purpose": purpose, "until": until}
}

// grant admits k's grant at at.
func (l *tlog) grant(k key, at time.Time, id, agency, typ, purpose, until string) rule.Entry {
	l.t.Helper()
	return l.must(signedEntry(l.t, identity.TypeGrant, at, grantBody(id, k, agency, typ, purpose, until), k))
}

func accessBody(id, grant, credential, purpose string) map[string]string {
	return map[string]string{"access_id": id, "grant_id": grant, "credential_id": credential, "purpose": purpose}
}

// proved is e as a client holding its inclusion proof sees it.
func proved(e rule.Entry) rule.ProvedEntry {
	p := rule.ProvedEntry{LeafHash: e.LeafHash, Index: e.Index, Type: e.Type, Time: e.Time, Body: e.Body}
	for _, s := range e.Signatures {
		p.Signers = append(p.Signers, s.Name)
	}
	return p
}

// world is a log with three registered subjects, alice with a diploma,
// a health certificate, a qualification and a birth credential.
type world struct {
	*tlog
	alice, bob, carol key
}

func newWorld(t testing.TB) *world {
	l := newLog(t)
	w := &world{tlog: l, alice: newKey(t), bob: newKey(t), carol: newKey(t)}
	for _, k := range []key{w.alice, w.bob, w.carol} {
		l.register(k)
	}
	l.by(school, identity.TypeIssueEducation, t0, issueBody(t, "dip-1", w.alice, identity.TypeDiploma, "2020-07-01"))
	l.by(clinic, identity.TypeIssueHealth, t0, issueBody(t, "hc-1", w.alice, identity.TypeHealthCertificate, "2026-05-01"))
	l.by(labour, identity.TypeIssueLabour, t0, issueBody(t, "q-1", w.alice, identity.TypeQualification, "2025-01-01"))
	l.by(civil, identity.TypeIssueCivil, t0, issueBody(t, "b-1", w.alice, identity.TypeBirthCredential, "1990-01-01"))
	return w
}
