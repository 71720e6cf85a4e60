package identity_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog/personalities/identity"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// refuse checks that the rules refuse e with an error wrapping want,
// writing nothing, the way admission and replay both judge it.
func (l *tlog) refuse(e rule.Entry, want error, msg string) {
	l.t.Helper()
	_, err := ruletest.CheckApply(l.t, l.r, l.st, e)
	if !errors.Is(err, want) {
		l.t.Fatalf("%s %s: %v, want %v", e.Type, e.Body, err, want)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		l.t.Errorf("%s: %q, want it to say %q", e.Type, err, msg)
	}
}

func TestExamples(t *testing.T) {
	signer, err := note.NewSigner(exampleSubjectSigner)
	if err != nil {
		t.Fatal(err)
	}
	ruletest.CheckSignedExamples(t, identity.New(), func(e rule.Entry) (rule.Entry, error) {
		s := signedEntry(t, e.Type, e.Time, json.RawMessage(e.Body), key{Signer: signer})
		s.Index = e.Index
		return s, nil
	})
}

func TestExampleSubjects(t *testing.T) {
	for _, ti := range identity.New().Types() {
		for _, ex := range ti.Examples {
			var m map[string]any
			if err := json.Unmarshal(ex, &m); err != nil {
				t.Fatal(err)
			}
			if k, ok := m["subject"].(string); ok && strings.HasPrefix(k, "subject+") {
				if !strings.Contains(string(mustJSON(t, identity.New().Types())), identity.SubjectID(k)) {
					t.Errorf("no example names subject %s, the ID of key %s", identity.SubjectID(k), k)
				}
			}
		}
	}
	s, err := note.NewSigner(exampleSubjectSigner)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != identity.SubjectKeyName {
		t.Errorf("the example signer is named %q", s.Name())
	}
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCommit(t *testing.T) {
	salt, err := identity.NewSalt()
	if err != nil {
		t.Fatal(err)
	}
	c := identity.Commit(salt, "Zhang Wei")
	if len(c) != 64 || strings.ToLower(c) != c {
		t.Fatalf("Commit = %q", c)
	}
	if !identity.CheckCommitment(c, "Zhang Wei", salt) {
		t.Error("CheckCommitment refuses the committed value")
	}
	salt2, _ := identity.NewSalt()
	for _, tc := range []struct {
		value string
		salt  []byte
	}{{"Zhang  Wei", salt}, {"zhang wei", salt}, {"Zhang Wei", salt2}, {"Zhang Wei", salt[:31]}, {"Zhang Wei", nil}} {
		if identity.CheckCommitment(c, tc.value, tc.salt) {
			t.Errorf("CheckCommitment accepts %q with salt %x", tc.value, tc.salt)
		}
	}
	if identity.Commit(salt, "x") == identity.Commit(salt2, "x") {
		t.Error("two salts give one commitment")
	}
	// A known answer, so the wallet and the log agree on the spelling.
	zero := make([]byte, identity.SaltSize)
	if got, want := identity.Commit(zero, "abc"), "fd7adb152c05ef80dccf50a1fa4c05d5a3ec6da95575fc312ae7c5d091836351"; got != want {
		t.Errorf("Commit(zero, abc) = %s", got)
	}
	k := "subject+82dd309d+AY4/hxLLViutBMRv15zQElv8YZZyNvB5UFbqYgjOT0Io"
	if got := identity.SubjectID(k); got != "s-3fb5efed15a9a04043d0c0ae4e9c885f" || !identity.ValidSubjectID(got) {
		t.Errorf("SubjectID = %q", got)
	}
	for _, bad := range []string{"", "s-", "s-3FB5efed15a9a04043d0c0ae4e9c885f", "x-3fb5efed15a9a04043d0c0ae4e9c885f", "s-3fb5efed15a9a04043d0c0ae4e9c885"} {
		if identity.ValidSubjectID(bad) {
			t.Errorf("ValidSubjectID(%q)", bad)
		}
	}
}

func TestRegister(t *testing.T) {
	l := newLog(t)
	k := newKey(t)
	l.register(k)
	l.refuse(l.agencyEntry(registrar, identity.TypeRegister, t0, map[string]string{"subject": k.vkey}), rule.ErrAlreadyExists, "")
	_, other, _ := note.GenerateKey(rand0{}, "citizen")
	l.refuse(l.agencyEntry(registrar, identity.TypeRegister, t0, map[string]string{"subject": other}), rule.ErrInvalidBody, `named "subject"`)
}

// rand0 is a deterministic reader for keys whose privacy does not matter.
type rand0 struct{}

func (rand0) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

func TestIssue(t *testing.T) {
	tests := []struct {
		name    string
		agency  string
		typ     string
		body    func(w *world) map[string]any
		wantErr error
		msg     string
	}{
		{"ok", civil, identity.TypeIssueCivil, func(w *world) map[string]any {
			return issueBody(t, "c-new", w.bob, identity.TypeBirthCredential, "1991-02-03")
		}, nil, ""},
		{"type of another family", civil, identity.TypeIssueCivil, func(w *world) map[string]any {
			return issueBody(t, "c-new", w.bob, identity.TypeDiploma, "2020-01-01")
		}, rule.ErrInvalidBody, "education family"},
		{"health under labour", labour, identity.TypeIssueLabour, func(w *world) map[string]any {
			return issueBody(t, "c-new", w.bob, identity.TypeHealthCertificate, "2020-01-01")
		}, rule.ErrInvalidBody, ""},
		{"unknown type", civil, identity.TypeIssueCivil, func(w *world) map[string]any {
			return issueBody(t, "c-new", w.bob, "passport", "2020-01-01")
		}, rule.ErrInvalidBody, "not a credential type"},
		{"unregistered subject", civil, identity.TypeIssueCivil, func(w *world) map[string]any {
			return issueBody(t, "c-new", newKey(t), identity.TypeBirthCredential, "2020-01-01")
		}, rule.ErrRuleViolation, "not registered"},
		{"credential ID used", school, identity.TypeIssueEducation, func(w *world) map[string]any {
			return issueBody(t, "dip-1", w.bob, identity.TypeDiploma, "2020-01-01")
		}, rule.ErrAlreadyExists, ""},
		{"issued after the statement", school, identity.TypeIssueEducation, func(w *world) map[string]any {
			return issueBody(t, "c-new", w.bob, identity.TypeDiploma, "2026-06-02")
		}, rule.ErrRuleViolation, "after the statement's day"},
		{"expires before issued", school, identity.TypeIssueEducation, func(w *world) map[string]any {
			b := issueBody(t, "c-new", w.bob, identity.TypeDiploma, "2020-01-01")
			b["expires"] = "2020-01-01"
			return b
		}, rule.ErrInvalidBody, "expires"},
		{"a name in clear", school, identity.TypeIssueEducation, func(w *world) map[string]any {
			b := issueBody(t, "c-new", w.bob, identity.TypeDiploma, "2020-01-01")
			b["attributes"] = map[string]string{"name": "Zhang Wei"}
			return b
		}, rule.ErrInvalidBody, "never a name"},
		{"no attributes", school, identity.TypeIssueEducation, func(w *world) map[string]any {
			b := issueBody(t, "c-new", w.bob, identity.TypeDiploma, "2020-01-01")
			b["attributes"] = map[string]string{}
			return b
		}, rule.ErrInvalidBody, "1 to 32"},
		{"bad attribute name", school, identity.TypeIssueEducation, func(w *world) map[string]any {
			b := issueBody(t, "c-new", w.bob, identity.TypeDiploma, "2020-01-01")
			b["attributes"] = map[string]string{"Name": strings.Repeat("a", 64)}
			return b
		}, rule.ErrInvalidBody, "attribute name"},
		{"supersede same type", school, identity.TypeIssueEducation, func(w *world) map[string]any {
			b := issueBody(t, "dip-2", w.alice, identity.TypeDiploma, "2021-01-01")
			b["supersedes"] = "dip-1"
			return b
		}, nil, ""},
		{"supersede another type", clinic, identity.TypeIssueHealth, func(w *world) map[string]any {
			b := issueBody(t, "hc-2", w.alice, identity.TypeHealthCertificate, "2026-05-02")
			b["supersedes"] = "dip-1"
			return b
		}, rule.ErrInvalidBody, "cannot supersede"},
		{"marriage supersedes birth", civil, identity.TypeIssueCivil, func(w *world) map[string]any {
			b := issueBody(t, "m-2", w.alice, identity.TypeMarriageCredential, "2026-05-02")
			b["supersedes"] = "b-1"
			return b
		}, rule.ErrInvalidBody, "cannot supersede"},
		{"supersede another subject's", school, identity.TypeIssueEducation, func(w *world) map[string]any {
			b := issueBody(t, "dip-2", w.bob, identity.TypeDiploma, "2021-01-01")
			b["supersedes"] = "dip-1"
			return b
		}, rule.ErrRuleViolation, "another subject"},
		{"supersede nothing", school, identity.TypeIssueEducation, func(w *world) map[string]any {
			b := issueBody(t, "dip-2", w.alice, identity.TypeDiploma, "2021-01-01")
			b["supersedes"] = "dip-9"
			return b
		}, rule.ErrRuleViolation, "no credential dip-9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			e := w.agencyEntry(tc.agency, tc.typ, t0, tc.body(w))
			ruletest.CheckEntries(t, w.r, w.st, []rule.Entry{e}, tc.wantErr, tc.msg)
		})
	}
}

func TestSupersede(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.by(civil, identity.TypeMarriage, t0, map[string]any{"event_id": "ev-m", "issued": "2026-05-01",
		"spouse_1": map[string]any{"subject": w.alice.id(), "credential_id": "m-a", "attributes": someAttrs(t)},
		"spouse_2": map[string]any{"subject": w.bob.id(), "credential_id": "m-b", "attributes": someAttrs(t)}})
	div := issueBody(t, "d-a", w.alice, identity.TypeDivorceCredential, "2026-05-20")
	div["supersedes"] = "m-a"
	w.by(civilB, identity.TypeIssueCivil, t0, div)
	c, _, _ := identity.ReadCredential(ctx, w.st, "m-a")
	if c.Status() != identity.StatusSuperseded || c.SupersededBy.CredentialID != "d-a" {
		t.Errorf("m-a after the divorce: %+v", c)
	}
	if c, _, _ := identity.ReadCredential(ctx, w.st, "m-b"); c.Status() != identity.StatusValid {
		t.Errorf("m-b: %s", c.Status())
	}
	// A superseded credential is superseded once.
	again := issueBody(t, "d-a2", w.alice, identity.TypeDivorceCredential, "2026-05-21")
	again["supersedes"] = "m-a"
	w.refuse(w.agencyEntry(civil, identity.TypeIssueCivil, t0, again), rule.ErrRuleViolation, "superseded")
	// A divorce never supersedes a divorce's marriage the other way round.
	back := issueBody(t, "m-a2", w.alice, identity.TypeMarriageCredential, "2026-05-21")
	back["supersedes"] = "d-a"
	w.refuse(w.agencyEntry(civil, identity.TypeIssueCivil, t0, back), rule.ErrInvalidBody, "cannot supersede")
}

// TestRoleRefused: the registry refuses an agency without the role, and
// Admit says so with ErrNotAuthorized; the rules never run.
func TestRoleRefused(t *testing.T) {
	w := newWorld(t)
	errNoRole := errors.New("agency school-a does not hold the role civil-affairs")
	var asked string
	refuse := func(role string) (rule.Signers, error) { asked = role; return rule.Signers{}, errNoRole }
	e := w.agencyEntry(school, identity.TypeIssueCivil, t0, issueBody(t, "c-x", w.bob, identity.TypeBirthCredential, "2020-01-01"))
	before := w.st.Clone()
	_, err := ruletest.Admit(context.Background(), w.r, w.st, e, refuse)
	if !errors.Is(err, rule.ErrNotAuthorized) || !errors.Is(err, errNoRole) {
		t.Fatalf("Admit = %v, want ErrNotAuthorized wrapping the registry's error", err)
	}
	if asked != identity.RoleCivil {
		t.Errorf("the registry was asked for role %q", asked)
	}
	if !ruletest.Equal(before, w.st) {
		t.Error("a refused statement changed the state")
	}
	for typ, role := range map[string]string{
		identity.TypeRegister: identity.RoleRegistrar, identity.TypeIssueEducation: identity.RoleEducation,
		identity.TypeIssueHealth: identity.RoleHealth, identity.TypeIssueLabour: identity.RoleLabour,
		identity.TypeRevoke: identity.RoleIssuer, identity.TypeAccess: identity.RoleChecker,
		identity.TypeIncident: identity.RoleRegulator, identity.TypeBirth: identity.RoleCivil,
		identity.TypeMarriage: identity.RoleCivil, identity.TypeEmployment: identity.RoleLabour,
		identity.TypeGrant: rule.SelfSigned, identity.TypeWithdraw: rule.SelfSigned,
	} {
		if got, err := w.r.RequiredRole(typ); got != role || err != nil {
			t.Errorf("RequiredRole(%s) = %q, %v; want %q", typ, got, err, role)
		}
	}
}

func TestAccess(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name    string
		setup   func(w *world)
		agency  string
		at      time.Time
		body    map[string]string
		wantErr error
		msg     string
	}{
		{"ok", nil, checker, t0.Add(day), accessBody("a-1", "g-dip", "dip-1", "hiring"), nil, ""},
		{"last moment of the last day", nil, checker, time.Date(2026, 6, 30, 23, 59, 59, 0, time.UTC), accessBody("a-1", "g-dip", "dip-1", "hiring"), nil, ""},
		{"no grant", nil, checker, t0.Add(day), accessBody("a-1", "g-none", "dip-1", "hiring"), rule.ErrRuleViolation, "no grant"},
		{"expired grant", nil, checker, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), accessBody("a-1", "g-dip", "dip-1", "hiring"), rule.ErrRuleViolation, "ended"},
		{"before the grant", nil, checker, t0.Add(-time.Minute), accessBody("a-1", "g-dip", "dip-1", "hiring"), rule.ErrRuleViolation, "after the access"},
		{"withdrawn grant", func(w *world) {
			w.must(signedEntry(t, identity.TypeWithdraw, t0.Add(time.Hour), map[string]string{"grant_id": "g-dip", "subject": w.alice.vkey}, w.alice))
		}, checker, t0.Add(day), accessBody("a-1", "g-dip", "dip-1", "hiring"), rule.ErrRuleViolation, "withdrawn"},
		{"another purpose", nil, checker, t0.Add(day), accessBody("a-1", "g-dip", "dip-1", "marketing"), rule.ErrRuleViolation, "purpose"},
		{"another agency", nil, checkerB, t0.Add(day), accessBody("a-1", "g-dip", "dip-1", "hiring"), rule.ErrRuleViolation, "is for agency checker-a"},
		{"another type", nil, checker, t0.Add(day), accessBody("a-1", "g-dip", "q-1", "hiring"), rule.ErrRuleViolation, "qualification"},
		{"another subject's credential", func(w *world) {
			w.by(school, identity.TypeIssueEducation, t0, issueBody(t, "dip-bob", w.bob, identity.TypeDiploma, "2020-01-01"))
		}, checker, t0.Add(day), accessBody("a-1", "g-dip", "dip-bob", "hiring"), rule.ErrRuleViolation, "another's"},
		{"no credential", nil, checker, t0.Add(day), accessBody("a-1", "g-dip", "dip-9", "hiring"), rule.ErrRuleViolation, "no credential"},
		{"revoked credential", func(w *world) {
			w.by(school, identity.TypeRevoke, t0, map[string]string{"credential_id": "dip-1", "reason": "forged"})
		}, checker, t0.Add(day), accessBody("a-1", "g-dip", "dip-1", "hiring"), rule.ErrRuleViolation, "revoked"},
		{"superseded credential", func(w *world) {
			b := issueBody(t, "dip-2", w.alice, identity.TypeDiploma, "2021-01-01")
			b["supersedes"] = "dip-1"
			w.by(school, identity.TypeIssueEducation, t0, b)
		}, checker, t0.Add(day), accessBody("a-1", "g-dip", "dip-1", "hiring"), rule.ErrRuleViolation, "superseded"},
		{"public grant, any agency", nil, checkerB, t0.Add(day), accessBody("a-1", "g-pub", "hc-1", "service-work"), nil, ""},
		{"access ID used", func(w *world) {
			w.by(checker, identity.TypeAccess, t0.Add(time.Hour), accessBody("a-1", "g-pub", "hc-1", "service-work"))
		}, checker, t0.Add(day), accessBody("a-1", "g-dip", "dip-1", "hiring"), rule.ErrAlreadyExists, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.grant(w.alice, t0, "g-dip", checker, identity.TypeDiploma, "hiring", "2026-06-30")
			w.grant(w.alice, t0, "g-pub", identity.Public, identity.TypeHealthCertificate, "service-work", "2099-12-31")
			if tc.setup != nil {
				tc.setup(w)
			}
			e := w.agencyEntry(tc.agency, identity.TypeAccess, tc.at, tc.body)
			ruletest.CheckEntries(t, w.r, w.st, []rule.Entry{e}, tc.wantErr, tc.msg)
		})
	}
}

func TestGrantSignatures(t *testing.T) {
	w := newWorld(t)
	mallory := newKey(t)
	body := grantBody("g-1", w.alice, checker, identity.TypeDiploma, "hiring", "2026-12-31")
	// Signed by another key than the subject's.
	w.refuse(signedEntry(t, identity.TypeGrant, t0, body, mallory), rule.ErrBadSignature, "not by subject+")
	// Signed by the subject and another.
	w.refuse(signedEntry(t, identity.TypeGrant, t0, body, w.alice, mallory), rule.ErrBadSignature, "one only")
	// Not signed.
	e := signedEntry(t, identity.TypeGrant, t0, body, w.alice)
	unsigned := e
	unsigned.Signatures = nil
	w.refuse(unsigned, rule.ErrBadSignature, "not signed")
	// A signature of other bytes: the subject's name and hash, a bad sig.
	forged := e
	forged.Signatures = []rule.Signature{e.Signatures[0]}
	forged.Signatures[0].Sig = append([]byte(nil), e.Signatures[0].Sig...)
	forged.Signatures[0].Sig[0] ^= 1
	w.refuse(forged, rule.ErrBadSignature, "does not verify")
	// The body changed after signing.
	tampered := e
	tampered.Text = []byte(strings.Replace(string(e.Text), "hiring", "firing", 1))
	w.refuse(tampered, rule.ErrBadSignature, "")
	// An unregistered subject's own grant.
	w.refuse(signedEntry(t, identity.TypeGrant, t0, grantBody("g-1", mallory, checker, identity.TypeDiploma, "hiring", "2026-12-31"), mallory), rule.ErrRuleViolation, "not registered")
	// A grant over before it is made.
	w.refuse(signedEntry(t, identity.TypeGrant, t0, grantBody("g-1", w.alice, checker, identity.TypeDiploma, "hiring", "2026-05-31"), w.alice), rule.ErrRuleViolation, "before it is made")
	// The one that is right, once.
	w.must(e)
	w.refuse(signedEntry(t, identity.TypeGrant, t0.Add(time.Second), body, w.alice), rule.ErrAlreadyExists, "")
	// An entry whose Signer the Authenticator did not set.
	direct := e
	direct.Signer = ""
	if err := w.r.Apply(context.Background(), w.st.Clone(), direct); !errors.Is(err, rule.ErrNotAuthorized) {
		t.Errorf("Apply of an unauthenticated grant = %v", err)
	}
}

func TestWithdraw(t *testing.T) {
	w := newWorld(t)
	w.grant(w.alice, t0, "g-1", checker, identity.TypeDiploma, "hiring", "2026-12-31")
	bobBody := map[string]string{"grant_id": "g-1", "subject": w.bob.vkey}
	// Bob signs a withdrawal of alice's grant with his own key.
	w.refuse(signedEntry(t, identity.TypeWithdraw, t0, bobBody, w.bob), rule.ErrNotAuthorized, "only they withdraw it")
	// Bob names alice's key, but cannot sign with it.
	aliceBody := map[string]string{"grant_id": "g-1", "subject": w.alice.vkey}
	w.refuse(signedEntry(t, identity.TypeWithdraw, t0, aliceBody, w.bob), rule.ErrNotAuthorized, "")
	w.refuse(signedEntry(t, identity.TypeWithdraw, t0, map[string]string{"grant_id": "g-9", "subject": w.alice.vkey}, w.alice), rule.ErrRuleViolation, "no grant")
	w.must(signedEntry(t, identity.TypeWithdraw, t0, aliceBody, w.alice))
	w.refuse(signedEntry(t, identity.TypeWithdraw, t0.Add(time.Second), aliceBody, w.alice), rule.ErrRuleViolation, "withdrawn")
}

func TestRevoke(t *testing.T) {
	w := newWorld(t)
	revoke := map[string]string{"credential_id": "dip-1", "reason": "the exam record was forged"}
	w.refuse(w.agencyEntry(clinic, identity.TypeRevoke, t0, revoke), rule.ErrNotAuthorized, "issued by school-a")
	w.refuse(w.agencyEntry(school, identity.TypeRevoke, t0, map[string]string{"credential_id": "dip-9", "reason": "x"}), rule.ErrRuleViolation, "no credential")
	w.by(school, identity.TypeRevoke, t0, revoke)
	w.refuse(w.agencyEntry(school, identity.TypeRevoke, t0, revoke), rule.ErrRuleViolation, "was revoked")
	c, _, _ := identity.ReadCredential(context.Background(), w.st, "dip-1")
	if c.Status() != identity.StatusRevoked || c.Revoked.Reason != revoke["reason"] {
		t.Errorf("dip-1 after revocation: %+v", c)
	}
}

func party(t testing.TB, k key, id string) map[string]any {
	return map[string]any{"subject": k.id(), "credential_id": id, "attributes": someAttrs(t)}
}

func birthBody(t testing.TB, child key, parents ...map[string]any) map[string]any {
	b := map[string]any{"event_id": "ev-b", "issued": "2026-05-30", "child": child.id(),
		"birth": map[string]any{"credential_id": "bc-child", "attributes": someAttrs(t)}}
	for i, p := range parents {
		b[[]string{"parent_1", "parent_2"}[i]] = p
	}
	return b
}

func TestBirthAllOrNothing(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	stranger := newKey(t)
	for _, tc := range []struct {
		name string
		body map[string]any
		want error
		msg  string
	}{
		{"unregistered parent", birthBody(t, w.carol, party(t, w.alice, "pl-a"), party(t, stranger, "pl-x")), rule.ErrRuleViolation, "not registered"},
		{"parent is the child", birthBody(t, w.carol, party(t, w.alice, "pl-a"), party(t, w.carol, "pl-c")), rule.ErrInvalidBody, "named twice"},
		{"one parent twice", birthBody(t, w.carol, party(t, w.alice, "pl-a"), party(t, w.alice, "pl-a2")), rule.ErrInvalidBody, "named twice"},
		{"a credential ID twice", birthBody(t, w.carol, party(t, w.alice, "pl-a"), party(t, w.bob, "pl-a")), rule.ErrInvalidBody, "used twice"},
		{"a credential ID already used", birthBody(t, w.carol, party(t, w.alice, "pl-a"), party(t, w.bob, "dip-1")), rule.ErrAlreadyExists, "dip-1"},
		{"dated after the statement", func() map[string]any {
			b := birthBody(t, w.carol, party(t, w.alice, "pl-a"))
			b["issued"] = "2026-06-02"
			return b
		}(), rule.ErrRuleViolation, "after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := w.st.Clone()
			w.refuse(w.agencyEntry(civil, identity.TypeBirth, t0, tc.body), tc.want, tc.msg)
			if !ruletest.Equal(before, w.st) {
				t.Fatalf("a refused birth changed the state:\n%s", ruletest.Diff(before, w.st))
			}
		})
	}
	w.by(civil, identity.TypeBirth, t0, birthBody(t, w.carol, party(t, w.alice, "pl-a"), party(t, w.bob, "pl-b")))
	for id, want := range map[string]struct{ typ, subject string }{
		"bc-child": {identity.TypeBirthCredential, w.carol.id()},
		"pl-a":     {identity.TypeParentLinkCredential, w.alice.id()},
		"pl-b":     {identity.TypeParentLinkCredential, w.bob.id()},
	} {
		c, ok, err := identity.ReadCredential(ctx, w.st, id)
		if err != nil || !ok || c.Type != want.typ || c.Subject != want.subject || c.Event != "ev-b" || c.Issuer != civil {
			t.Errorf("credential %s: %+v, %v, %v", id, c, ok, err)
		}
	}
	w.refuse(w.agencyEntry(civil, identity.TypeBirth, t0, birthBody(t, w.bob, party(t, w.alice, "pl-a9"))), rule.ErrAlreadyExists, "event ev-b")
	// One parent is enough.
	one := birthBody(t, w.bob, party(t, w.alice, "pl-a9"))
	one["event_id"], one["birth"] = "ev-b2", map[string]any{"credential_id": "bc-bob", "attributes": someAttrs(t)}
	w.by(civil, identity.TypeBirth, t0, one)
}

func TestEvents(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.by(civil, identity.TypeMarriage, t0, map[string]any{"event_id": "ev-m", "issued": "2026-05-01",
		"spouse_1": party(t, w.alice, "m-a"), "spouse_2": party(t, w.bob, "m-b")})
	w.refuse(w.agencyEntry(civil, identity.TypeMarriage, t0, map[string]any{"event_id": "ev-m2", "issued": "2026-05-01",
		"spouse_1": party(t, w.alice, "m-a2"), "spouse_2": party(t, w.alice, "m-a3")}), rule.ErrInvalidBody, "named twice")
	w.by(labour, identity.TypeEmployment, t0, map[string]any{"event_id": "ev-e", "issued": "2026-05-01", "employee": w.bob.id(),
		"credential": map[string]any{"credential_id": "emp-b", "attributes": someAttrs(t)}})
	for id, typ := range map[string]string{"m-a": identity.TypeMarriageCredential, "m-b": identity.TypeMarriageCredential, "emp-b": identity.TypeEmploymentCredential} {
		if c, ok, _ := identity.ReadCredential(ctx, w.st, id); !ok || c.Type != typ {
			t.Errorf("%s: %+v", id, c)
		}
	}
	s, _, _ := identity.ReadSubject(ctx, w.st, w.bob.id())
	if s.Credentials != 2 {
		t.Errorf("bob holds %d credentials, want 2", s.Credentials)
	}
}

func TestIncident(t *testing.T) {
	w := newWorld(t)
	w.by(regulator, identity.TypeIncident, t0, map[string]string{"incident_id": "i-1", "credential_id": "hc-1", "summary": "Hygiene failure at inspection."})
	w.by(regulator, identity.TypeIncident, t0, map[string]string{"incident_id": "i-2", "credential_id": "q-1", "summary": "Unsafe wiring found."})
	w.refuse(w.agencyEntry(regulator, identity.TypeIncident, t0, map[string]string{"incident_id": "i-3", "credential_id": "dip-1", "summary": "x"}), rule.ErrRuleViolation, "incident cites")
	w.refuse(w.agencyEntry(regulator, identity.TypeIncident, t0, map[string]string{"incident_id": "i-1", "credential_id": "hc-1", "summary": "x"}), rule.ErrAlreadyExists, "")
	if c, _, _ := identity.ReadCredential(context.Background(), w.st, "hc-1"); c.Incidents != 1 {
		t.Errorf("hc-1 counts %d incidents", c.Incidents)
	}
	if _, ok := w.st[identity.WorkerIncidentKey("hc-1", 1)]; !ok {
		t.Error("no worker-incident key")
	}
}

// scenario is a log that uses every statement type.
func scenario(t testing.TB) *world {
	w := newWorld(t)
	w.by(civil, identity.TypeMarriage, t0, map[string]any{"event_id": "ev-m", "issued": "2026-05-01",
		"spouse_1": party(t, w.alice, "m-a"), "spouse_2": party(t, w.bob, "m-b")})
	w.by(civil, identity.TypeBirth, t0, birthBody(t, w.carol, party(t, w.alice, "pl-a"), party(t, w.bob, "pl-b")))
	w.by(labour, identity.TypeEmployment, t0, map[string]any{"event_id": "ev-e", "issued": "2026-05-01", "employee": w.alice.id(),
		"credential": map[string]any{"credential_id": "emp-a", "attributes": someAttrs(t)}})
	w.grant(w.alice, t0, "g-dip", checker, identity.TypeDiploma, "hiring", "2026-12-31")
	w.grant(w.alice, t0, "g-pub", identity.Public, identity.TypeHealthCertificate, "service-work", "2099-12-31")
	w.grant(w.alice, t0, "g-q", identity.Public, identity.TypeQualification, "service-work", "2099-12-31")
	w.by(checker, identity.TypeAccess, t0.Add(time.Hour), accessBody("a-1", "g-dip", "dip-1", "hiring"))
	w.by(checkerB, identity.TypeAccess, t0.Add(2*time.Hour), accessBody("a-2", "g-pub", "hc-1", "service-work"))
	w.by(checker, identity.TypeAccess, t0.Add(3*time.Hour), accessBody("a-3", "g-dip", "dip-1", "hiring"))
	w.must(signedEntry(t, identity.TypeWithdraw, t0.Add(4*time.Hour), map[string]string{"grant_id": "g-dip", "subject": w.alice.vkey}, w.alice))
	div := issueBody(t, "d-a", w.alice, identity.TypeDivorceCredential, "2026-05-20")
	div["supersedes"] = "m-a"
	w.by(civil, identity.TypeIssueCivil, t0.Add(5*time.Hour), div)
	w.by(labour, identity.TypeRevoke, t0.Add(5*time.Hour), map[string]string{"credential_id": "q-1", "reason": "exam record forged"})
	w.by(regulator, identity.TypeIncident, t0.Add(6*time.Hour), map[string]string{"incident_id": "i-1", "credential_id": "hc-1", "summary": "Hygiene failure at inspection."})
	return w
}

func TestReplayEqualsState(t *testing.T) {
	w := scenario(t)
	ruletest.ReplayEqualsState(t, w.r, w.admitted, w.st)
}

func TestStorageFailures(t *testing.T) {
	w := newWorld(t)
	w.grant(w.alice, t0, "g-dip", checker, identity.TypeDiploma, "hiring", "2026-12-31")
	for _, e := range []rule.Entry{
		w.agencyEntry(checker, identity.TypeAccess, t0.Add(time.Hour), accessBody("a-1", "g-dip", "dip-1", "hiring")),
		w.agencyEntry(civil, identity.TypeBirth, t0, birthBody(t, w.carol, party(t, w.alice, "pl-a"), party(t, w.bob, "pl-b"))),
		w.agencyEntry(school, identity.TypeRevoke, t0, map[string]string{"credential_id": "dip-1", "reason": "x"}),
		signedEntry(t, identity.TypeWithdraw, t0, map[string]string{"grant_id": "g-dip", "subject": w.alice.vkey}, w.alice),
		w.agencyEntry(regulator, identity.TypeIncident, t0, map[string]string{"incident_id": "i-1", "credential_id": "hc-1", "summary": "x"}),
	} {
		if e.Agency == "" {
			var err error
			if e, err = ruletest.Admit(context.Background(), w.r, w.st.Clone(), e, nil); err != nil {
				t.Fatal(err)
			}
		}
		ruletest.CheckStorageFailures(t, w.r, w.st, e)
	}
}

func TestReadKeys(t *testing.T) {
	w := scenario(t)
	for _, e := range w.admitted {
		if keys := w.r.ReadKeys(e); len(keys) == 0 {
			t.Errorf("ReadKeys names no key for %s", e.Type)
		}
	}
}
