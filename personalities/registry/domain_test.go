package registry_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

const (
	regOrigin   = "gov.example/registry"
	otherOrigin = "gov.example/disclosures"
)

// t0 is the signed time of the registry entries of these tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testKey is a signed-note key pair and its key ID ("name+hash").
type testKey struct {
	signer note.Signer
	vkey   string
	id     string
}

func genKey(t testing.TB, name string) testKey {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{s, vkey, fmt.Sprintf("%s+%08x", s.Name(), s.KeyHash())}
}

// genKeyWithLetter is genKey for a key whose hash has a hex letter in it,
// so that upper-casing its key ID or its encoded hash changes them: one
// key in 43 has a hash of digits only.
func genKeyWithLetter(t testing.TB, name string) testKey {
	t.Helper()
	for {
		k := genKey(t, name)
		if hash := k.id[strings.LastIndex(k.id, "+")+1:]; strings.ContainsAny(hash, "abcdef") {
			return k
		}
	}
}

// regLog is a registry log in memory: its rules (3 root keys, quorum 2)
// and its state, into which entries signed by the root keys are admitted
// as the admission server admits them.
type regLog struct {
	t     testing.TB
	roots []testKey
	d     *registry.Domain
	st    ruletest.State
	// leaves are the signed entries admitted, in order.
	leaves [][]byte
}

func newRegLog(t testing.TB) *regLog {
	t.Helper()
	l := &regLog{t: t, st: ruletest.State{}}
	var vkeys []string
	for _, name := range []string{"root-1", "root-2", "root-3"} {
		k := genKey(t, name)
		l.roots = append(l.roots, k)
		vkeys = append(vkeys, k.vkey)
	}
	roots, err := registry.NewRoots(vkeys, 2)
	if err != nil {
		t.Fatal(err)
	}
	l.d = registry.NewDomain(roots)
	return l
}

// quorum returns the signers of a registry entry: the first two roots.
func (l *regLog) quorum() []note.Signer {
	return []note.Signer{l.roots[0].signer, l.roots[1].signer}
}

// sign returns the registry statement of typ and body dated at, signed by
// signers (the quorum if none).
func (l *regLog) sign(typ, body string, at time.Time, signers ...note.Signer) []byte {
	l.t.Helper()
	if len(signers) == 0 {
		signers = l.quorum()
	}
	st, err := govlog.NewStatement(regOrigin, typ, at, []byte(body))
	if err != nil {
		l.t.Fatal(err)
	}
	signed, err := st.Sign(signers...)
	if err != nil {
		l.t.Fatal(err)
	}
	return signed
}

// registry returns the registry the state describes.
func (l *regLog) registry() *registry.Registry {
	l.t.Helper()
	r, err := registry.FromState(context.Background(), l.st)
	if err != nil {
		l.t.Fatal(err)
	}
	return r
}

// open opens signed as the admission server does.
func (l *regLog) open(signed []byte) rule.Entry {
	l.t.Helper()
	o, err := l.registry().Open(signed, regOrigin, l.d)
	if err != nil {
		l.t.Fatalf("Open: %v", err)
	}
	if len(o.Sigs) != 0 || len(o.Entry.Signatures) == 0 {
		l.t.Fatalf("Open gave %d verified signatures and %d lines for the domain to check", len(o.Sigs), len(o.Entry.Signatures))
	}
	return o.Entry
}

// admit admits signed, as the admission server does: through rule.Admit
// over an overlay of the state.
func (l *regLog) admit(signed []byte) error {
	l.t.Helper()
	_, err := ruletest.Admit(context.Background(), l.d, l.st, l.open(signed), nil)
	if err == nil {
		l.leaves = append(l.leaves, signed)
	}
	return err
}

// must admits the registry entry of typ and body, signed by the quorum.
func (l *regLog) must(typ, body string) {
	l.t.Helper()
	if err := l.admit(l.sign(typ, body, t0)); err != nil {
		l.t.Fatalf("%s %s: %v", typ, body, err)
	}
}

func (l *regLog) register(agency string) {
	l.t.Helper()
	l.must(registry.TypeAgencyRegister, fmt.Sprintf(`{"agency":%q,"name":"The %s"}`, agency, agency))
}

func (l *regLog) addKey(agency string, k testKey) {
	l.t.Helper()
	l.must(registry.TypeKeyAdd, fmt.Sprintf(`{"agency":%q,"key":%q}`, agency, k.vkey))
}

func (l *regLog) grant(agency, role string) {
	l.t.Helper()
	l.must(registry.TypeRoleGrant, fmt.Sprintf(`{"agency":%q,"role":%q}`, agency, role))
}

func (l *regLog) official(agency, staff string, k testKey) {
	l.t.Helper()
	l.must(registry.TypeOfficialRegister, fmt.Sprintf(`{"agency":%q,"key":%q,"staff":%q}`, agency, k.vkey, staff))
}

// sigsBy returns the verified signatures of a statement of another log
// signed by keys, as the admission server hands them to the registry.
func sigsBy(t testing.TB, r *registry.Registry, keys ...testKey) []note.Signature {
	t.Helper()
	st, err := govlog.NewStatement(otherOrigin, "disclosure.publish", t0, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var signers []note.Signer
	for _, k := range keys {
		signers = append(signers, k.signer)
	}
	signed, err := st.Sign(signers...)
	if err != nil {
		t.Fatal(err)
	}
	_, sigs, err := govlog.ParseStatement(signed, otherOrigin, r.Verifiers())
	if err != nil {
		t.Fatal(err)
	}
	return sigs
}

func TestNewRoots(t *testing.T) {
	a, b, c := genKey(t, "root-a"), genKey(t, "root-b"), genKey(t, "root-c")
	for _, tc := range []struct {
		name   string
		vkeys  []string
		quorum int
		want   string // a substring of the error; "" if accepted
	}{
		{"2 of 3", []string{a.vkey, b.vkey, c.vkey}, 2, ""},
		{"3 of 3", []string{a.vkey, b.vkey, c.vkey}, 3, ""},
		{"2 of 2", []string{a.vkey, b.vkey}, 2, ""},
		{"quorum 1", []string{a.vkey, b.vkey, c.vkey}, 1, "root quorum 1"},
		{"quorum 0", []string{a.vkey, b.vkey, c.vkey}, 0, "root quorum 0"},
		{"quorum above n", []string{a.vkey, b.vkey, c.vkey}, 4, "root quorum 4"},
		{"one key", []string{a.vkey}, 1, "1 root keys"},
		{"no key", nil, 2, "0 root keys"},
		{"duplicate key", []string{a.vkey, b.vkey, a.vkey}, 2, "listed twice"},
		{"same public key under another name", []string{a.vkey, b.vkey, renamed(t, a.vkey, "root-z")}, 2, "listed twice"},
		{"bad key", []string{a.vkey, "nonsense"}, 2, "bad root key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := registry.NewRoots(tc.vkeys, tc.quorum)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("NewRoots = %v", err)
			case tc.want == "":
				if r.Quorum() != tc.quorum || len(r.Keys()) != len(tc.vkeys) {
					t.Errorf("Quorum() = %d, Keys() = %q", r.Quorum(), r.Keys())
				}
			case err == nil || !strings.Contains(err.Error(), tc.want):
				t.Errorf("NewRoots = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestAuthenticate: a registry entry needs valid signatures by k distinct
// root keys and no signature line by another key; a refused entry writes
// nothing.
func TestAuthenticate(t *testing.T) {
	l := newRegLog(t)
	l.register("city-a")
	stranger := genKey(t, "stranger")
	r0, r1, r2 := l.roots[0], l.roots[1], l.roots[2]
	body := `{"agency":"city-b","name":"City B"}`
	for _, tc := range []struct {
		name    string
		signers []testKey
		// edit changes the opened entry's signature lines.
		edit    func(e *rule.Entry)
		wantErr error
		wantMsg string
	}{
		{name: "quorum", signers: []testKey{r0, r1}},
		{name: "all roots", signers: []testKey{r0, r1, r2}},
		{name: "one root", signers: []testKey{r1}, wantErr: rule.ErrNotAuthorized, wantMsg: "signed by 1 root key(s)"},
		{name: "no root", signers: []testKey{stranger}, wantErr: rule.ErrNotAuthorized, wantMsg: "not a root key"},
		{name: "one root and a stranger", signers: []testKey{r0, stranger}, wantErr: rule.ErrNotAuthorized, wantMsg: "stranger"},
		{name: "quorum and a stranger", signers: []testKey{r0, r1, stranger}, wantErr: rule.ErrNotAuthorized, wantMsg: "which is not a root key"},
		{name: "quorum and an agency key", signers: []testKey{r0, r1, genKey(t, "city-a")}, wantErr: rule.ErrNotAuthorized, wantMsg: "which is not a root key"},
		{name: "a forged root line", signers: []testKey{r0, r1},
			edit:    func(e *rule.Entry) { e.Signatures[1].Sig = slices.Clone(e.Signatures[0].Sig) },
			wantErr: rule.ErrBadSignature, wantMsg: "does not verify"},
		{name: "a line with another root's hash", signers: []testKey{r0, r1},
			edit:    func(e *rule.Entry) { e.Signatures[1].KeyHash = r2.signer.KeyHash() },
			wantErr: rule.ErrNotAuthorized, wantMsg: "not a root key"},
		{name: "no lines", signers: []testKey{r0, r1},
			edit:    func(e *rule.Entry) { e.Signatures = nil },
			wantErr: rule.ErrNotAuthorized, wantMsg: "signed by 0 root key(s)"},
		{name: "another text", signers: []testKey{r0, r1},
			edit:    func(e *rule.Entry) { e.Text = []byte(strings.Replace(string(e.Text), "City B", "City C", 1)) },
			wantErr: rule.ErrBadSignature, wantMsg: "does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var signers []note.Signer
			for _, k := range tc.signers {
				signers = append(signers, k.signer)
			}
			e := l.open(l.sign(registry.TypeAgencyRegister, body, t0, signers...))
			if tc.edit != nil {
				tc.edit(&e)
			}
			st := l.st.Clone()
			probe := &ruletest.Probe{State: st}
			admitted, err := rule.Admit(t.Context(), l.d, probe, e, func(string) (rule.Signers, error) {
				t.Error("a registry entry was authorized by the registry, not by the roots")
				return rule.Signers{}, errors.New("unexpected")
			})
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("Admit = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tc.wantMsg) {
					t.Errorf("Admit = %q, want it to contain %q", err, tc.wantMsg)
				}
				if probe.Puts != 0 || !ruletest.Equal(l.st, st) {
					t.Errorf("refused after %d Puts:\n%s", probe.Puts, ruletest.Diff(l.st, st))
				}
				return
			}
			if !strings.HasPrefix(admitted.Signer, "roots ") || admitted.Agency != "" {
				t.Errorf("admitted with Signer %q, Agency %q", admitted.Signer, admitted.Agency)
			}
			for _, k := range tc.signers {
				if !strings.Contains(admitted.Signer, k.id) {
					t.Errorf("Signer %q does not name %s", admitted.Signer, k.id)
				}
			}
		})
	}
	t.Run("no roots", func(t *testing.T) {
		e := l.open(l.sign(registry.TypeAgencyRegister, body, t0))
		if _, err := rule.Admit(t.Context(), registry.NewDomain(nil), l.st.Clone(), e, nil); !errors.Is(err, rule.ErrNotAuthorized) {
			t.Errorf("Admit with no roots = %v", err)
		}
	})
}

// entry is one registry entry of a table test: its type and body, whose
// {placeholders} name the keys of the test.
type entry struct {
	typ, body string
}

// TestApply: the registry's rules, entry by entry.
func TestApply(t *testing.T) {
	ka, ka2, kb := genKeyWithLetter(t, "city-a"), genKey(t, "city-a"), genKey(t, "city-b")
	ks, ks2, kt := genKey(t, "staff-1"), genKey(t, "staff-1"), genKey(t, "staff-2")
	kc := genKey(t, "city-c")
	// vars fill the bodies' placeholders.
	vars := strings.NewReplacer(
		"{ka}", ka.vkey, "{ka.id}", ka.id, "{ka2}", ka2.vkey, "{kb}", kb.vkey, "{kb.id}", kb.id,
		"{ks}", ks.vkey, "{ks.id}", ks.id, "{ks2}", ks2.vkey, "{kt}", kt.vkey, "{kc}", kc.vkey, "{kc.id}", kc.id,
		"{ka-as-b}", renamed(t, ka.vkey, "city-b"), "{ka-as-staff}", renamed(t, ka.vkey, "staff-1"),
	)
	regA := entry{registry.TypeAgencyRegister, `{"agency":"city-a","name":"City A"}`}
	regB := entry{registry.TypeAgencyRegister, `{"agency":"city-b","name":"City B"}`}
	addA := entry{registry.TypeKeyAdd, `{"agency":"city-a","key":"{ka}"}`}
	addB := entry{registry.TypeKeyAdd, `{"agency":"city-b","key":"{kb}"}`}
	offS := entry{registry.TypeOfficialRegister, `{"agency":"city-a","key":"{ks}","staff":"staff-1"}`}
	grant := entry{registry.TypeRoleGrant, `{"agency":"city-a","role":"discloser"}`}
	withdraw := entry{registry.TypeRoleWithdraw, `{"agency":"city-a","role":"discloser"}`}
	retireA := entry{registry.TypeKeyRetire, `{"at":"2026-06-01T00:00:00Z","key":"{ka.id}"}`}
	revokeA := entry{registry.TypeKeyRevoke, `{"key":"{ka.id}"}`}
	lastUse := func(t time.Time) func(context.Context, string) (time.Time, bool, error) {
		return func(_ context.Context, key string) (time.Time, bool, error) {
			if key != ka.id {
				return time.Time{}, false, fmt.Errorf("LastUse(%q), want %s", key, ka.id)
			}
			return t, true, nil
		}
	}
	june := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		entries []entry // all but the last must be admitted
		lastUse func(context.Context, string) (time.Time, bool, error)
		wantErr error
		wantMsg string
	}{
		{name: "agency", entries: []entry{regA}},
		{name: "agency twice", entries: []entry{regA, regA}, wantErr: rule.ErrAlreadyExists, wantMsg: `the name "city-a" is taken`},
		{name: "agency named after an official", entries: []entry{regA, offS, {registry.TypeAgencyRegister, `{"agency":"staff-1","name":"S"}`}},
			wantErr: rule.ErrAlreadyExists, wantMsg: `the name "staff-1" is taken (by city-a)`},
		{name: "agency with a bad ID", entries: []entry{{registry.TypeAgencyRegister, `{"agency":"City A","name":"City A"}`}},
			wantErr: rule.ErrInvalidBody, wantMsg: "is not an agency ID"},
		{name: "agency without a name", entries: []entry{{registry.TypeAgencyRegister, `{"agency":"city-a"}`}}, wantErr: rule.ErrInvalidBody},
		{name: "agency with an unknown field", entries: []entry{{registry.TypeAgencyRegister, `{"agency":"city-a","name":"A","roles":[]}`}}, wantErr: rule.ErrInvalidBody},

		{name: "key", entries: []entry{regA, addA}},
		{name: "second key", entries: []entry{regA, addA, {registry.TypeKeyAdd, `{"agency":"city-a","key":"{ka2}"}`}}},
		{name: "key of an unregistered agency", entries: []entry{regA, addB}, wantErr: rule.ErrRuleViolation, wantMsg: `agency "city-b" is not registered`},
		{name: "key twice", entries: []entry{regA, addA, addA}, wantErr: rule.ErrRuleViolation, wantMsg: "already listed"},
		{name: "key of another agency, renamed", entries: []entry{regA, addA, regB, {registry.TypeKeyAdd, `{"agency":"city-b","key":"{ka-as-b}"}`}},
			wantErr: rule.ErrRuleViolation, wantMsg: "already listed, as " + ka.id},
		{name: "key of another agency, renamed as an official's", entries: []entry{regA, addA, offS, {registry.TypeKeyAdd, `{"agency":"city-a","key":"{ka-as-staff}"}`}},
			wantErr: rule.ErrRuleViolation, wantMsg: "already listed, as " + ka.id},
		{name: "key of another agency, as it is", entries: []entry{regA, addA, regB, {registry.TypeKeyAdd, `{"agency":"city-b","key":"{ka}"}`}},
			wantErr: rule.ErrInvalidBody, wantMsg: `is named "city-a"; a key of agency city-b`},
		{name: "key named after nobody", entries: []entry{regA, {registry.TypeKeyAdd, `{"agency":"city-a","key":"{kc}"}`}},
			wantErr: rule.ErrInvalidBody, wantMsg: `is named "city-c"`},
		{name: "key named after another agency", entries: []entry{regA, regB, {registry.TypeKeyAdd, `{"agency":"city-a","key":"{kb}"}`}},
			wantErr: rule.ErrInvalidBody, wantMsg: `is named "city-b"`},
		{name: "key named after another agency's official", entries: []entry{regA, regB,
			{registry.TypeOfficialRegister, `{"agency":"city-b","key":"{kt}","staff":"staff-2"}`},
			{registry.TypeKeyAdd, `{"agency":"city-a","key":"{kt}"}`}},
			wantErr: rule.ErrInvalidBody, wantMsg: `is named "staff-2"`},
		{name: "bad key", entries: []entry{regA, {registry.TypeKeyAdd, `{"agency":"city-a","key":"city-a+nonsense"}`}}, wantErr: rule.ErrInvalidBody},
		{name: "key spelled in upper case", entries: []entry{regA, {registry.TypeKeyAdd, `{"agency":"city-a","key":"` + upperHash(ka.vkey) + `"}`}},
			wantErr: rule.ErrInvalidBody, wantMsg: "not spelled as note spells it"},

		{name: "official", entries: []entry{regA, offS}},
		{name: "official's second key", entries: []entry{regA, offS, {registry.TypeKeyAdd, `{"agency":"city-a","key":"{ks2}"}`}}},
		{name: "official twice", entries: []entry{regA, offS, {registry.TypeOfficialRegister, `{"agency":"city-a","key":"{ks2}","staff":"staff-1"}`}},
			wantErr: rule.ErrAlreadyExists, wantMsg: `the name "staff-1" is taken`},
		{name: "official of an unregistered agency", entries: []entry{{registry.TypeOfficialRegister, `{"agency":"city-a","key":"{ks}","staff":"staff-1"}`}},
			wantErr: rule.ErrRuleViolation, wantMsg: "not registered"},
		{name: "official named after the agency", entries: []entry{regA, {registry.TypeOfficialRegister, `{"agency":"city-a","key":"{ka}","staff":"city-a"}`}},
			wantErr: rule.ErrAlreadyExists, wantMsg: `the name "city-a" is taken`},

		{name: "retire", entries: []entry{regA, addA, retireA}},
		{name: "retire an official's key", entries: []entry{regA, offS, {registry.TypeKeyRetire, `{"at":"2026-06-01T00:00:00Z","key":"{ks.id}"}`}}},
		{name: "retire an unknown key", entries: []entry{regA, addA, {registry.TypeKeyRetire, `{"at":"2026-06-01T00:00:00Z","key":"{kc.id}"}`}},
			wantErr: rule.ErrRuleViolation, wantMsg: "is not in the registry"},
		{name: "retire an unknown key of a known name", entries: []entry{regA, addA, {registry.TypeKeyRetire, `{"at":"2026-06-01T00:00:00Z","key":"city-a+00000000"}`}},
			wantErr: rule.ErrRuleViolation, wantMsg: "is not in the registry"},
		{name: "retire twice", entries: []entry{regA, addA, retireA, retireA}, wantErr: rule.ErrRuleViolation, wantMsg: "was retired by registry entry 2"},
		{name: "retire a revoked key", entries: []entry{regA, addA, revokeA, retireA}, wantErr: rule.ErrRuleViolation, wantMsg: "was revoked by registry entry 2"},
		{name: "retire without a time", entries: []entry{regA, addA, {registry.TypeKeyRetire, `{"key":"{ka.id}"}`}}, wantErr: rule.ErrInvalidBody},
		{name: "retire at a time without a zone", entries: []entry{regA, addA, {registry.TypeKeyRetire, `{"at":"2026-06-01T00:00:00","key":"{ka.id}"}`}},
			wantErr: rule.ErrInvalidBody, wantMsg: "want an RFC 3339 time"},
		{name: "retire a malformed key ID", entries: []entry{regA, addA, {registry.TypeKeyRetire, `{"at":"2026-06-01T00:00:00Z","key":"` + strings.ToUpper(ka.id) + `"}`}},
			wantErr: rule.ErrInvalidBody, wantMsg: "want a key ID"},
		{name: "retire after the last use", entries: []entry{regA, addA, retireA}, lastUse: lastUse(june.Add(-time.Second))},
		{name: "retire at the last use", entries: []entry{regA, addA, retireA}, lastUse: lastUse(june),
			wantErr: rule.ErrInvalidBody, wantMsg: "is not after the latest statement key " + ka.id + " signed"},
		{name: "retire before the last use", entries: []entry{regA, addA, retireA}, lastUse: lastUse(june.Add(time.Hour)),
			wantErr: rule.ErrInvalidBody, wantMsg: "it would disown it"},
		{name: "retire a key never used", entries: []entry{regA, addA, retireA},
			lastUse: func(context.Context, string) (time.Time, bool, error) { return time.Time{}, false, nil }},

		{name: "revoke", entries: []entry{regA, addA, revokeA}},
		{name: "revoke from a time", entries: []entry{regA, addA, {registry.TypeKeyRevoke, `{"from":"2026-06-01T00:00:00Z","key":"{ka.id}"}`}}},
		{name: "revoke a retired key", entries: []entry{regA, addA, retireA, revokeA}},
		{name: "revoke twice", entries: []entry{regA, addA, revokeA, revokeA}, wantErr: rule.ErrRuleViolation, wantMsg: "was revoked by registry entry 2"},
		{name: "revoke an unknown key", entries: []entry{regA, addA, {registry.TypeKeyRevoke, `{"key":"{kc.id}"}`}},
			wantErr: rule.ErrRuleViolation, wantMsg: "is not in the registry"},
		{name: "revoke a key of no agency", entries: []entry{{registry.TypeKeyRevoke, `{"key":"{kb.id}"}`}},
			wantErr: rule.ErrRuleViolation, wantMsg: "is not in the registry"},
		{name: "revoke with an at", entries: []entry{regA, addA, {registry.TypeKeyRevoke, `{"at":"2026-06-01T00:00:00Z","key":"{ka.id}"}`}},
			wantErr: rule.ErrInvalidBody},

		{name: "grant", entries: []entry{regA, grant}},
		{name: "grant a held role", entries: []entry{regA, grant, grant}, wantErr: rule.ErrAlreadyExists, wantMsg: `holds the role "discloser" since registry entry 1`},
		{name: "grant to an unregistered agency", entries: []entry{grant}, wantErr: rule.ErrRuleViolation, wantMsg: "not registered"},
		{name: "grant a bad role", entries: []entry{regA, {registry.TypeRoleGrant, `{"agency":"city-a","role":"a role"}`}}, wantErr: rule.ErrInvalidBody},
		{name: "withdraw", entries: []entry{regA, grant, withdraw}},
		{name: "withdraw at a time", entries: []entry{regA, grant, {registry.TypeRoleWithdraw, `{"agency":"city-a","at":"2026-06-01T00:00:00Z","role":"discloser"}`}}},
		{name: "withdraw a role not held", entries: []entry{regA, withdraw}, wantErr: rule.ErrRuleViolation, wantMsg: `does not hold the role "discloser"`},
		{name: "withdraw twice", entries: []entry{regA, grant, withdraw, withdraw}, wantErr: rule.ErrRuleViolation, wantMsg: "does not hold"},
		{name: "grant again after a withdrawal", entries: []entry{regA, grant, withdraw, grant}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newRegLog(t)
			l.d.LastUse = tc.lastUse
			var es []rule.Entry
			for _, e := range tc.entries {
				es = append(es, l.open(l.sign(e.typ, vars.Replace(e.body), t0)))
			}
			err := ruletest.CheckEntries(t, l.d, l.st, es, tc.wantErr, tc.wantMsg)
			// The size and the leaf hashes count the entries admitted.
			want := len(es)
			if err != nil {
				want--
			}
			r := l.registry()
			if r.Size() != uint64(want) {
				t.Errorf("Size() = %d, want %d", r.Size(), want)
			}
			for i := range want {
				if h, ok := r.LeafHash(uint64(i)); !ok || h != es[i].LeafHash {
					t.Errorf("LeafHash(%d) = %x, %v; want %x", i, h, ok, es[i].LeafHash)
				}
			}
		})
	}
}

// upperHash returns vkey with its key hash in upper-case hex, which note
// reads as the same key.
func upperHash(vkey string) string {
	parts := strings.SplitN(vkey, "+", 3)
	return parts[0] + "+" + strings.ToUpper(parts[1]) + "+" + parts[2]
}

// TestLastUseFailure: a failure of LastUse is a failure, not a refusal.
func TestLastUseFailure(t *testing.T) {
	l := newRegLog(t)
	k := genKey(t, "city-a")
	l.register("city-a")
	l.addKey("city-a", k)
	broken := errors.New("broken store")
	l.d.LastUse = func(context.Context, string) (time.Time, bool, error) { return time.Time{}, false, broken }
	err := l.admit(l.sign(registry.TypeKeyRetire, fmt.Sprintf(`{"at":"2026-06-01T00:00:00Z","key":%q}`, k.id), t0))
	if !errors.Is(err, broken) || rule.IsRefusal(err) {
		t.Errorf("Admit = %v, want the LastUse error and no refusal", err)
	}
}

// TestPositions: a registry built from the state answers as it stood after
// any number of its entries.
func TestPositions(t *testing.T) {
	l := newRegLog(t)
	k := genKey(t, "city-a")
	l.register("city-a")      // entry 0
	l.addKey("city-a", k)     // entry 1
	l.grant("city-a", "disc") // entry 2
	r := l.registry()
	if r.Size() != 3 {
		t.Fatalf("Size() = %d", r.Size())
	}
	sigs := sigsBy(t, r, k)
	at := t0.Add(time.Hour)
	if _, err := r.AuthorizeAt(1, sigs, "disc", at); err == nil || errors.Is(err, registry.ErrRoleMissing) {
		t.Errorf("AuthorizeAt(1) = %v, want the key unknown", err)
	}
	if _, err := r.AuthorizeAt(2, sigs, "disc", at); !errors.Is(err, registry.ErrRoleMissing) {
		t.Errorf("AuthorizeAt(2) = %v, want ErrRoleMissing", err)
	}
	if s, err := r.AuthorizeAt(3, sigs, "disc", at); err != nil || s.Agency != "city-a" || len(s.Officials) != 0 {
		t.Errorf("AuthorizeAt(3) = %v, %v", s, err)
	}
	if a, err := r.Authorize(sigs, "disc", at); err != nil || a != "city-a" {
		t.Errorf("Authorize = %q, %v", a, err)
	}

	from := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	l.must(registry.TypeKeyRevoke, fmt.Sprintf(`{"from":%q,"key":%q}`, from.Format(time.RFC3339), k.id)) // entry 3
	r = l.registry()
	after, before := from.Add(time.Second), from.Add(-time.Second)
	if s, err := r.AuthorizeAt(3, sigs, "disc", after); err != nil || s.Agency != "city-a" {
		t.Errorf("AuthorizeAt(3) after the from time = %v, %v; the revocation is entry 3", s, err)
	}
	if _, err := r.AuthorizeAt(4, sigs, "disc", after); !errors.Is(err, registry.ErrKeyRevoked) {
		t.Errorf("AuthorizeAt(4) after the from time = %v, want ErrKeyRevoked", err)
	}
	if _, err := r.AuthorizeAt(4, sigs, "disc", from); !errors.Is(err, registry.ErrKeyRevoked) {
		t.Errorf("AuthorizeAt(4) at the from time = %v, want ErrKeyRevoked", err)
	}
	if s, err := r.AuthorizeAt(4, sigs, "disc", before); err != nil || s.Agency != "city-a" {
		t.Errorf("AuthorizeAt(4) before the from time = %v, %v", s, err)
	}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{{before, false}, {from, true}, {after, true}} {
		got := r.Compromised(sigs, tc.at)
		if named := len(got) == 1 && strings.HasPrefix(got[0], k.id+" ") && strings.Contains(got[0], "registry entry 3"); named != tc.want || (!tc.want && len(got) != 0) {
			t.Errorf("Compromised at %v = %q, want the key named: %v", tc.at, got, tc.want)
		}
	}
	if got := r.Revoked(3); len(got) != 0 {
		t.Errorf("Revoked(3) = %v", got)
	}
	if got := r.Revoked(4); len(got) != 1 || got[k.id] != 3 {
		t.Errorf("Revoked(4) = %v, want %s at 3", got, k.id)
	}

	// A withdrawn role, a retired key: from their position on, and for
	// what is dated from their time only.
	k2 := genKey(t, "city-a")
	l.addKey("city-a", k2)                                                                                                 // entry 4
	l.must(registry.TypeRoleWithdraw, fmt.Sprintf(`{"agency":"city-a","at":%q,"role":"disc"}`, from.Format(time.RFC3339))) // entry 5
	l.must(registry.TypeKeyRetire, fmt.Sprintf(`{"at":%q,"key":%q}`, from.Add(time.Hour).Format(time.RFC3339), k2.id))     // entry 6
	r = l.registry()
	sigs2 := sigsBy(t, r, k2)
	for _, tc := range []struct {
		n       uint64
		at      time.Time
		wantErr error
	}{
		{5, after, nil},
		{6, after, registry.ErrRoleMissing},
		{6, before, nil},
		{7, before, nil},
		{7, from.Add(time.Hour), registry.ErrKeyRevoked},
	} {
		_, err := r.AuthorizeAt(tc.n, sigs2, "disc", tc.at)
		if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Errorf("AuthorizeAt(%d, %v) = %v, want %v", tc.n, tc.at, err, tc.wantErr)
		}
	}
	if got := r.Roles("city-a"); len(got) != 0 {
		t.Errorf("Roles = %q after the withdrawal", got)
	}
	if got := r.Compromised(sigs2, from.Add(2*time.Hour)); len(got) != 0 {
		t.Errorf("Compromised names a retired key: %q", got)
	}
}

// TestOfficials: an official's key counts beside its agency's key only.
func TestOfficials(t *testing.T) {
	l := newRegLog(t)
	ka, kb := genKey(t, "city-a"), genKey(t, "city-b")
	ks, kt := genKey(t, "staff-1"), genKey(t, "staff-2")
	l.register("city-a")
	l.addKey("city-a", ka)
	l.grant("city-a", "disc")
	l.official("city-a", "staff-1", ks)
	l.register("city-b")
	l.addKey("city-b", kb)
	l.grant("city-b", "disc")
	l.official("city-b", "staff-2", kt)
	r := l.registry()
	at := t0.Add(time.Hour)
	for _, tc := range []struct {
		name    string
		keys    []testKey
		want    rule.Signers
		wantErr bool
	}{
		{"agency and official", []testKey{ka, ks}, rule.Signers{Agency: "city-a", Officials: []string{"staff-1"}}, false},
		{"agency alone", []testKey{ka}, rule.Signers{Agency: "city-a"}, false},
		{"official alone", []testKey{ks}, rule.Signers{}, true},
		{"two officials alone", []testKey{ks, kt}, rule.Signers{}, true},
		{"agency and another agency's official", []testKey{ka, kt}, rule.Signers{Agency: "city-a"}, false},
		{"other agency and official", []testKey{kb, ks}, rule.Signers{Agency: "city-b"}, false},
		{"both agencies, both officials", []testKey{ka, kb, ks, kt}, rule.Signers{Agency: "city-a", Officials: []string{"staff-1"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := r.AuthorizeAt(r.Size(), sigsBy(t, r, tc.keys...), "disc", at)
			if (err != nil) != tc.wantErr {
				t.Fatalf("AuthorizeAt = %v, %v", s, err)
			}
			if s.Agency != tc.want.Agency || !slices.Equal(s.Officials, tc.want.Officials) {
				t.Errorf("AuthorizeAt = %#v, want %#v", s, tc.want)
			}
		})
	}
	// The official is not credited as it stood before their registration.
	if s, err := r.AuthorizeAt(3, sigsBy(t, r, ka, ks), "disc", at); err != nil || s.Agency != "city-a" || len(s.Officials) != 0 {
		t.Errorf("AuthorizeAt(3) = %#v, %v; want city-a without officials", s, err)
	}
	// Once their key is revoked, a statement carrying its signature is
	// refused: a leaf carries no signature by a revoked key.
	l.must(registry.TypeKeyRevoke, fmt.Sprintf(`{"key":%q}`, ks.id))
	r = l.registry()
	if s, err := r.AuthorizeAt(r.Size(), sigsBy(t, r, ka, ks), "disc", at); !errors.Is(err, registry.ErrKeyRevoked) {
		t.Errorf("after the revocation: %#v, %v; want ErrKeyRevoked", s, err)
	}

	// Through Open and Admit, as a log of the agencies admits a statement.
	ku := genKey(t, "staff-3")
	l.official("city-a", "staff-3", ku)
	r = l.registry()
	d := discloser{}
	for _, tc := range []struct {
		name    string
		keys    []testKey
		want    []string
		wantErr error
	}{
		{"agency and official", []testKey{ka, ku}, []string{"staff-3"}, nil},
		{"official alone", []testKey{ku}, nil, rule.ErrNotAuthorized},
	} {
		o, err := r.Open(signOther(t, "x.publish", tc.keys...), otherOrigin, d)
		if err != nil {
			t.Fatalf("%s: Open = %v", tc.name, err) // Open checks signatures, not who may sign
		}
		for how, authorize := range map[string]rule.Authorize{"replay": r.Authorizer(o, r.Size()), "admission": r.AdmissionAuthorizer(o, at)} {
			e, err := rule.Admit(t.Context(), d, ruletest.State{}, o.Entry, authorize)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Errorf("%s, %s: Admit = %v, want %v", tc.name, how, err, tc.wantErr)
			} else if err == nil && (e.Agency != "city-a" || !slices.Equal(e.Officials, tc.want)) {
				t.Errorf("%s, %s: admitted as %q %q", tc.name, how, e.Agency, e.Officials)
			}
		}
	}
}

// discloser is a log whose one type, x.publish, an agency with role disc
// signs.
type discloser struct{}

func (discloser) Log() string { return "x" }
func (discloser) Types() []rule.TypeInfo {
	return []rule.TypeInfo{{Type: "x.publish", Role: "disc", Summary: "publish"}}
}
func (d discloser) RequiredRole(t string) (string, error) { return rule.RoleOf(d.Log(), d.Types(), t) }
func (discloser) Apply(context.Context, rule.State, rule.Entry) error {
	return nil
}

// signOther signs a statement of type typ of the other log with keys.
func signOther(t testing.TB, typ string, keys ...testKey) []byte {
	t.Helper()
	st, err := govlog.NewStatement(otherOrigin, typ, t0, []byte(`{"doc":"1"}`))
	if err != nil {
		t.Fatal(err)
	}
	var signers []note.Signer
	for _, k := range keys {
		signers = append(signers, k.signer)
	}
	signed, err := st.Sign(signers...)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// TestAnchor: the registry view entry a log writes names the registry it
// authorizes against, and checks against it.
func TestAnchor(t *testing.T) {
	l := newRegLog(t)
	l.register("city-a")
	l.addKey("city-a", genKey(t, "city-a"))
	r := l.registry()
	logKey, otherKey := genKey(t, otherOrigin), genKey(t, otherOrigin)
	logV, err := note.NewVerifier(logKey.vkey)
	if err != nil {
		t.Fatal(err)
	}
	otherV, err := note.NewVerifier(otherKey.vkey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := registry.AnchorStatement(otherOrigin, r, t0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Type != registry.ViewType {
		t.Errorf("type %q", st.Type)
	}
	signed, err := st.Sign(logKey.signer)
	if err != nil {
		t.Fatal(err)
	}
	a, err := registry.OpenAnchor(signed, otherOrigin, logV)
	if err != nil {
		t.Fatal(err)
	}
	last := govlog.LeafHash(l.leaves[1])
	if a.Size != 2 || a.Last != last {
		t.Errorf("anchor %v, want size 2, last %x", a, last[:6])
	}
	if err := a.Check(r); err != nil {
		t.Errorf("Check = %v", err)
	}

	// Later, the registry grew: the anchor still names its first 2 entries.
	l.grant("city-a", "disc")
	if err := a.Check(l.registry()); err != nil {
		t.Errorf("Check against a larger registry = %v", err)
	}

	if _, err := registry.OpenAnchor(signed, otherOrigin, otherV); err == nil {
		t.Errorf("OpenAnchor with another key succeeded")
	}
	if _, err := registry.OpenAnchor(signed, "gov.example/funds", logV); err == nil || !errors.Is(err, govlog.ErrWrongOrigin) {
		t.Errorf("OpenAnchor for another log = %v", err)
	}
	both, err := st.Sign(logKey.signer, otherKey.signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.OpenAnchor(both, otherOrigin, logV); err == nil {
		t.Errorf("OpenAnchor of an anchor with a second, unknown signature succeeded")
	}
	if _, err := registry.OpenAnchor(signOther(t, "x.publish", logKey), otherOrigin, logV); !errors.Is(err, registry.ErrNotAnchor) {
		t.Errorf("OpenAnchor of another type = %v, want ErrNotAnchor", err)
	}
	for _, body := range []string{
		`{"last":"00","size":2}`,
		`{"size":2}`,
		`{"last":"` + strings.Repeat("ab", 32) + `","size":-1}`,
		`{"last":"` + strings.Repeat("ab", 32) + `","size":2,"x":1}`,
	} {
		bad, err := govlog.NewStatement(otherOrigin, registry.ViewType, t0, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		signed, err := bad.Sign(logKey.signer)
		if err != nil {
			t.Fatal(err)
		}
		if a, err := registry.OpenAnchor(signed, otherOrigin, logV); err == nil {
			t.Errorf("OpenAnchor of %s = %v", body, a)
		}
	}

	// Another registry of as many entries, whose entry 1 differs.
	l2 := newRegLog(t)
	l2.register("city-a")
	l2.addKey("city-a", genKey(t, "city-a"))
	if err := a.Check(l2.registry()); err == nil {
		t.Errorf("Check against another registry succeeded")
	}
	// A smaller registry, and an empty one.
	l3 := newRegLog(t)
	l3.register("city-a")
	if err := a.Check(l3.registry()); err == nil {
		t.Errorf("Check against a registry of 1 entry succeeded")
	}
	if err := (registry.Anchor{Size: 0}).Check(r); err == nil {
		t.Errorf("Check of an anchor of size 0 succeeded")
	}
	if err := (registry.Anchor{Size: 2}).Check(r); err == nil {
		t.Errorf("Check of an anchor with a zero last hash succeeded")
	}
}

// TestGenesisMatchesNew: the genesis entries, signed by the roots and
// admitted one by one into the registry log, build the registry New builds
// from the same file; Replay of them too.
func TestGenesisMatchesNew(t *testing.T) {
	l := newRegLog(t)
	ka, kr, ks := genKey(t, "city-a"), genKey(t, "city-a"), genKey(t, "staff-1")
	f := registry.File{Agencies: []registry.Agency{{
		ID: "city-a", Name: "City A", Roles: []string{"disc"},
		RetiredRoles: []registry.RetiredRole{{Role: "payroll", Until: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}},
		Keys:         []registry.Key{{VKey: ka.vkey}, {VKey: kr.vkey, Revoked: true}},
		Officials:    []registry.Official{{Staff: "staff-1", Keys: []registry.Key{{VKey: ks.vkey}}}},
	}}}
	leaves, err := registry.Genesis(f, regOrigin, t0, l.quorum()...)
	if err != nil {
		t.Fatal(err)
	}
	for i, leaf := range leaves {
		if err := l.admit(leaf); err != nil {
			t.Fatalf("genesis entry %d: %v", i, err)
		}
	}
	fromLog := l.registry()
	replayed, err := registry.Replay(regOrigin, leaves)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := registry.New(f)
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	for name, r := range map[string]*registry.Registry{"log": fromLog, "replay": replayed, "New": fromFile} {
		if r.Size() != uint64(len(leaves)) {
			t.Errorf("%s: Size() = %d, want %d", name, r.Size(), len(leaves))
		}
		if s, err := r.AuthorizeAt(r.Size(), sigsBy(t, r, ka, ks), "disc", at); err != nil || s.Agency != "city-a" || !slices.Equal(s.Officials, []string{"staff-1"}) {
			t.Errorf("%s: AuthorizeAt = %v, %v", name, s, err)
		}
		if _, err := r.Authorize(sigsBy(t, r, kr), "disc", at); !errors.Is(err, registry.ErrKeyRevoked) {
			t.Errorf("%s: the revoked key: %v", name, err)
		}
		if _, err := r.Authorize(sigsBy(t, r, ka), "payroll", time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Errorf("%s: the retired role before its until: %v", name, err)
		}
		if name, ok := r.Name("city-a"); !ok || name != "City A" {
			t.Errorf("Name = %q, %v", name, ok)
		}
	}
	for i := range leaves {
		if h, _ := replayed.LeafHash(uint64(i)); h != govlog.LeafHash(leaves[i]) {
			t.Errorf("replay: LeafHash(%d) differs", i)
		}
		if h, _ := fromLog.LeafHash(uint64(i)); h != govlog.LeafHash(leaves[i]) {
			t.Errorf("log: LeafHash(%d) differs", i)
		}
	}
}

// fuzzTypes are the types FuzzApply feeds bodies to: the registry's, and
// one it does not have.
var fuzzTypes = []string{
	registry.TypeAgencyRegister, registry.TypeOfficialRegister, registry.TypeKeyAdd,
	registry.TypeKeyRetire, registry.TypeKeyRevoke, registry.TypeRoleGrant, registry.TypeRoleWithdraw,
	"registry.unknown",
}

// FuzzApply feeds arbitrary bodies of every type to the registry's rules,
// over a registry with an agency, a key, an official and a role: they must
// never panic, and every error must be a refusal (the state, in memory,
// cannot fail).
func FuzzApply(f *testing.F) {
	l := newRegLog(f)
	ka, ks := genKey(f, "city-a"), genKey(f, "staff-1")
	l.register("city-a")
	l.addKey("city-a", ka)
	l.official("city-a", "staff-1", ks)
	l.grant("city-a", "disc")
	base := l.st.Clone()
	kn := genKey(f, "city-a")
	for i, body := range [][]string{
		{`{"agency":"city-b","name":"City B"}`, `{"agency":"city-a","name":"again"}`, `{"agency":"-x","name":"X"}`, `{"agency":"x","name":"\u0007"}`},
		{`{"agency":"city-a","key":"` + genKey(f, "staff-2").vkey + `","staff":"staff-2"}`, `{"agency":"city-a","key":"` + kn.vkey + `","staff":"staff-2"}`},
		{`{"agency":"city-a","key":"` + kn.vkey + `"}`, `{"agency":"city-a","key":"` + ka.vkey + `"}`, `{"agency":"city-a","key":"city-a+00000000+AAAA"}`},
		{`{"at":"2026-06-01T00:00:00Z","key":"` + ka.id + `"}`, `{"at":"0000-01-01T00:00:00Z","key":"` + ks.id + `"}`, `{"at":"x","key":"a+0"}`},
		{`{"key":"` + ka.id + `"}`, `{"from":"2026-06-01T00:00:00+08:00","key":"` + ks.id + `"}`, `{"key":"city-a+ffffffff"}`},
		{`{"agency":"city-a","role":"payroll"}`, `{"agency":"city-a","role":"disc"}`},
		{`{"agency":"city-a","role":"disc"}`, `{"agency":"city-a","at":"2026-06-01T00:00:00Z","role":"disc"}`, `{"agency":"city-a","role":"x"}`},
		{`{}`, `null`, `[]`, ``, `{"a":{"b":[1,2,{"c":null}]}}`},
	} {
		for _, b := range body {
			f.Add(uint8(i), []byte(b))
		}
	}
	lastUse := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, typ uint8, body []byte) {
		d := registry.NewDomain(nil)
		d.LastUse = func(context.Context, string) (time.Time, bool, error) { return lastUse, true, nil }
		e := rule.Entry{Type: fuzzTypes[int(typ)%len(fuzzTypes)], Time: t0, Body: body, LeafHash: sha256.Sum256(body)}
		st := base.Clone()
		ov := ruletest.NewOverlay(st)
		err := d.Apply(t.Context(), ov, e)
		if err != nil {
			if !rule.IsRefusal(err) {
				t.Fatalf("%s %q: %v, which is no refusal", e.Type, body, err)
			}
			return
		}
		// Admitted: the registry it builds must be readable.
		if err := ov.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
		r, err := registry.FromState(t.Context(), st)
		if err != nil {
			t.Fatalf("%s %q admitted, and the state is unreadable: %v", e.Type, body, err)
		}
		if r.Size() != 5 {
			t.Fatalf("%s %q admitted: size %d, want 5", e.Type, body, r.Size())
		}
	})
}

// TestRegressions checks four bugs found in review, fixed since.
func TestRegressions(t *testing.T) {
	knownBug := func(t *testing.T, format string, args ...any) {
		t.Helper()
		t.Errorf(format, args...)
	}
	t.Run("refused official.register writes nothing", func(t *testing.T) {
		ka := genKey(t, "city-a")
		for _, key := range []string{genKey(t, "city-z").vkey, renamed(t, ka.vkey, "staff-9"), "staff-9+nonsense"} {
			l := newRegLog(t)
			l.register("city-a")
			l.addKey("city-a", ka)
			e := l.open(l.sign(registry.TypeOfficialRegister, fmt.Sprintf(`{"agency":"city-a","key":%q,"staff":"staff-9"}`, key), t0))
			ov := ruletest.NewOverlay(l.st)
			_, err := rule.Admit(t.Context(), l.d, ov, e, nil)
			if !rule.IsRefusal(err) {
				t.Fatalf("official.register with key %.40s: %v, want a refusal", key, err)
			}
			if ov.Puts() != 0 {
				knownBug(t, "domain.go applyOfficial claims the staff ID (Put name/staff-9) before addKey refuses the key (%v): writes %q", err, ov.Writes())
			}
		}
	})
	t.Run("official.register with a key not named after the staff ID", func(t *testing.T) {
		l := newRegLog(t)
		l.register("city-a")
		err := l.admit(l.sign(registry.TypeOfficialRegister, fmt.Sprintf(`{"agency":"city-a","key":%q,"staff":"staff-9"}`, genKey(t, "city-a").vkey), t0))
		if err == nil {
			knownBug(t, "official.register of staff-9 with a key named city-a is admitted: the official has no key of their own, and the key is the agency's")
		}
		if !errors.Is(err, rule.ErrInvalidBody) {
			t.Errorf("Admit = %v, want ErrInvalidBody", err)
		}
	})
	t.Run("one root key's line twice is not a quorum", func(t *testing.T) {
		l := newRegLog(t)
		e := l.open(l.sign(registry.TypeAgencyRegister, `{"agency":"city-a","name":"A"}`, t0, l.roots[0].signer))
		e.Signatures = append(e.Signatures, e.Signatures[0])
		_, err := rule.Admit(t.Context(), l.d, ruletest.State{}, e, nil)
		if err == nil {
			knownBug(t, "Domain.Authenticate counts a root key once per line, not once: two copies of one root's line make a quorum of 2 (Registry.Open refuses such a statement before, through govlog.ReadStatement)")
		}
		if !errors.Is(err, rule.ErrNotAuthorized) {
			t.Errorf("Admit = %v, want ErrNotAuthorized", err)
		}
	})
	t.Run("genesis revokes an official's first key", func(t *testing.T) {
		ka, ks := genKey(t, "city-a"), genKey(t, "staff-1")
		r, err := registry.New(registry.File{Agencies: []registry.Agency{{ID: "city-a", Roles: []string{"disc"}, Keys: []registry.Key{{VKey: ka.vkey}},
			Officials: []registry.Official{{Staff: "staff-1", Keys: []registry.Key{{VKey: ks.vkey, Revoked: true}}}}}}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := r.AuthorizeAt(r.Size(), sigsBy(t, r, ka, ks), "disc", t0)
		if !errors.Is(err, registry.ErrKeyRevoked) {
			knownBug(t, "genesis.go File.Entries puts an official's first key in official.register and drops its revoked/retired flags: %v, %v", s, err)
		}
	})
}
