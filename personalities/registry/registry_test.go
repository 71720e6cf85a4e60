package registry_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog/personalities/registry"
)

func key(t *testing.T, name string) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

// sigsOf signs a note with signers and returns the signatures that verify
// with the registry, as the admission server gets them.
func sigsOf(t testing.TB, r *registry.Registry, signers ...note.Signer) []note.Signature {
	t.Helper()
	msg, err := note.Sign(&note.Note{Text: "hello\n"}, signers...)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(msg, r.Verifiers())
	if err != nil {
		t.Fatal(err)
	}
	return n.Sigs
}

func TestAuthorize(t *testing.T) {
	finance, financeV := key(t, "ministry-of-finance")
	old, oldV := key(t, "ministry-of-finance")
	press, pressV := key(t, "press-office")
	doc := fmt.Sprintf(`
agencies:
  - id: ministry-of-finance
    name: Ministry of Finance
    roles: [discloser, treasury]
    keys:
      - vkey: %s
      - vkey: %s
        revoked: true
  - id: press-office
    name: Press Office
    roles: [spokesperson]
    keys:
      - vkey: %s
`, financeV, oldV, pressV)
	r, err := registry.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		signers    []note.Signer
		role       string
		wantAgency string
		wantErr    error
	}{
		{"holds role", []note.Signer{finance}, "discloser", "ministry-of-finance", nil},
		{"revoked key", []note.Signer{old}, "discloser", "", registry.ErrKeyRevoked},
		{"lacks role", []note.Signer{press}, "discloser", "", registry.ErrRoleMissing},
		{"second signer holds role", []note.Signer{press, finance}, "treasury", "ministry-of-finance", nil},
		// A leaf carries no signature by a revoked key, even beside a
		// valid one.
		{"revoked and valid", []note.Signer{old, finance}, "discloser", "", registry.ErrKeyRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agency, err := r.Authorize(sigsOf(t, r, tc.signers...), tc.role, time.Now())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Authorize() error = %v, want %v", err, tc.wantErr)
			}
			if agency != tc.wantAgency {
				t.Errorf("Authorize() = %q, want %q", agency, tc.wantAgency)
			}
		})
	}
	if name, ok := r.Name("press-office"); !ok || name != "Press Office" {
		t.Errorf("Name(press-office) = %q, %v", name, ok)
	}
	if roles := r.Roles("press-office"); len(roles) != 1 || roles[0] != "spokesperson" {
		t.Errorf("Roles(press-office) = %q", roles)
	}
}

// renamed returns vkey with its name changed to name (and the key ID that
// goes with it), as an attacker would list someone else's public key.
func renamed(t *testing.T, vkey, name string) string {
	t.Helper()
	parts := strings.SplitN(vkey, "+", 3)
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(append([]byte(name+"\n"), raw...))
	return fmt.Sprintf("%s+%08x+%s", name, binary.BigEndian.Uint32(h[:4]), parts[2])
}

func TestParseErrors(t *testing.T) {
	_, v := key(t, "a")
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown field", "agencies:\n  - id: a\n    rol: [x]\n", "field rol not found"},
		{"bad id", "agencies:\n  - id: A B\n", `"A B" is not an agency ID`},
		{"duplicate agency", "agencies:\n  - id: a\n  - id: a\n", `the name "a" is taken`},
		{"bad vkey", "agencies:\n  - id: a\n    keys: [{vkey: nonsense}]\n", "bad vkey"},
		{"duplicate key", fmt.Sprintf("agencies:\n  - id: a\n    keys: [{vkey: %s}, {vkey: %s}]\n", v, v), "already listed"},
		{"key named after another agency", fmt.Sprintf("agencies:\n  - id: a\n  - id: b\n    keys: [{vkey: %s}]\n", v), `is named "a"; a key of agency b is named by its ID`},
		{"same public key under another name", fmt.Sprintf("agencies:\n  - id: a\n    keys: [{vkey: %s}]\n  - id: b\n    keys: [{vkey: %s}]\n", v, renamed(t, v, "b")), "is already listed, as a+"},
		{"not yaml", "agencies: [", "bad YAML"},
		{"revoked and retired", fmt.Sprintf("agencies:\n  - id: a\n    keys: [{vkey: %s, revoked: true, retired: 2026-01-01T00:00:00Z}]\n", v), "both revoked and retired"},
		{"bad retired time", fmt.Sprintf("agencies:\n  - id: a\n    keys: [{vkey: %s, retired: soon}]\n", v), "bad YAML"},
		{"retired time without zone", fmt.Sprintf("agencies:\n  - id: a\n    keys: [{vkey: %s, retired: 2026-09-01 10:00:00}]\n", v), `line 3: retired "2026-09-01 10:00:00": want an RFC 3339 time with its zone`},
		{"until as a date", "agencies:\n  - id: a\n    retired_roles:\n      - {role: x, until: 2026-09-01}\n", `line 4: until "2026-09-01"`},
		{"retired role without until", "agencies:\n  - id: a\n    retired_roles: [{role: x}]\n", "needs a role and an until"},
		{"role held and retired", "agencies:\n  - id: a\n    roles: [x]\n    retired_roles: [{role: x, until: 2026-01-01T00:00:00Z}]\n", `holds the role "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := registry.Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse() error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestAuthorizeAt: a retired key and a retired role cover what is dated
// before their retirement and nothing after; a revoked key covers nothing.
func TestAuthorizeAt(t *testing.T) {
	current, currentV := key(t, "city-a")
	rotated, rotatedV := key(t, "city-a")
	stolen, stolenV := key(t, "city-a")
	doc := fmt.Sprintf(`
agencies:
  - id: city-a
    roles: [discloser]
    retired_roles:
      - role: payroll
        until: 2026-06-01T00:00:00Z
    keys:
      - vkey: %s
      - vkey: %s
        retired: 2026-09-01T00:00:00Z
      - vkey: %s
        revoked: true
`, currentV, rotatedV, stolenV)
	r, err := registry.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		name    string
		signer  note.Signer
		role    string
		at      time.Time
		wantErr error
	}{
		{"rotated key before retirement", rotated, "discloser", day("2026-08-31"), nil},
		{"rotated key at retirement", rotated, "discloser", day("2026-09-01"), registry.ErrKeyRevoked},
		{"rotated key after retirement", rotated, "discloser", day("2027-01-01"), registry.ErrKeyRevoked},
		{"revoked key long before", stolen, "discloser", day("2020-01-01"), registry.ErrKeyRevoked},
		{"retired role before until", current, "payroll", day("2026-05-31"), nil},
		{"retired role at until", current, "payroll", day("2026-06-01"), registry.ErrRoleMissing},
		{"current key, current role", current, "discloser", day("2030-01-01"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agency, err := r.Authorize(sigsOf(t, r, tc.signer), tc.role, tc.at)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Authorize() error = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && agency != "city-a" {
				t.Errorf("Authorize() = %q, want city-a", agency)
			}
		})
	}
}

// TestAuthorizeAdmission: with two signers, one whose key was retired
// between the statement's time and its admission, Authorize would credit
// one agency at admission and the other on replay; AuthorizeAdmission
// refuses the statement instead.
func TestAuthorizeAdmission(t *testing.T) {
	a, aV := key(t, "city-a")
	b, bV := key(t, "city-b")
	retired := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	r, err := registry.New(registry.File{Agencies: []registry.Agency{
		{ID: "city-a", Roles: []string{"discloser"}, Keys: []registry.Key{{VKey: aV, Retired: retired}}},
		{ID: "city-b", Roles: []string{"discloser"}, Keys: []registry.Key{{VKey: bV}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	sigs := sigsOf(t, r, a, b)
	signed := retired.Add(-time.Minute)
	if got, err := r.Authorize(sigs, "discloser", signed); err != nil || got != "city-a" {
		t.Fatalf("replay credits %q, %v; want city-a", got, err)
	}
	if got, err := r.AuthorizeAdmission(sigs, "discloser", signed, retired.Add(-2*time.Minute)); err != nil || got.Agency != "city-a" {
		t.Errorf("admitted before the retirement: %q, %v; want city-a", got, err)
	}
	if got, err := r.AuthorizeAdmission(sigs, "discloser", signed, retired.Add(time.Minute)); !errors.Is(err, registry.ErrKeyRevoked) {
		t.Errorf("admitted after the retirement: %q, %v; want ErrKeyRevoked", got, err)
	}
	if got, err := r.AuthorizeAdmission(sigsOf(t, r, b), "discloser", signed, retired.Add(time.Minute)); err != nil || got.Agency != "city-b" {
		t.Errorf("city-b alone: %q, %v", got, err)
	}
}
