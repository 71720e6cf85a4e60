package wallet_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/identity/wallet"
)

// testWallet is a wallet of three attributes and its commitments.
func testWallet(t *testing.T) (*wallet.Wallet, map[string]string) {
	t.Helper()
	w, commitments, err := wallet.NewWallet("cred-0001", "national-id", map[string]string{
		"birth_date": "1990-04-01", "nationality": "FR", "name": "Ada Lovelace",
	})
	if err != nil {
		t.Fatal(err)
	}
	return w, commitments
}

func TestNewWallet(t *testing.T) {
	w, commitments := testWallet(t)
	if w.CredentialID != "cred-0001" || w.Type != "national-id" || len(w.Attributes) != 3 || len(commitments) != 3 {
		t.Fatalf("wallet %+v, commitments %v", w, commitments)
	}
	salts := map[string]bool{}
	for name, a := range w.Attributes {
		salt, err := hex.DecodeString(a.Salt)
		if err != nil || len(salt) != client.SaltSize {
			t.Fatalf("attribute %s: salt %q is not %d bytes of hex", name, a.Salt, client.SaltSize)
		}
		if salts[a.Salt] {
			t.Errorf("attribute %s reuses a salt", name)
		}
		salts[a.Salt] = true
		if !client.CheckCommitment(commitments[name], a.Value, salt) {
			t.Errorf("attribute %s: commitment %s is not Commit(%q, salt)", name, commitments[name], a.Value)
		}
	}
	// Two wallets of the same values commit differently.
	_, again := testWallet(t)
	for name := range commitments {
		if again[name] == commitments[name] {
			t.Errorf("attribute %s: the same commitment twice: salts are not fresh", name)
		}
	}

	if _, c, err := wallet.NewWallet("c", "t", manyValues(wallet.MaxAttributes)); err != nil || len(c) != wallet.MaxAttributes {
		t.Errorf("NewWallet of %d attributes: %d commitments, %v", wallet.MaxAttributes, len(c), err)
	}

	for _, tt := range []struct {
		name, id, typ string
		values        map[string]string
		says          string
	}{
		{"no ID", "", "t", map[string]string{"a": "1"}, "credential's ID"},
		{"no type", "c", "", map[string]string{"a": "1"}, "credential's type"},
		{"no attributes", "c", "t", nil, "no attributes"},
		{"empty value", "c", "t", map[string]string{"a": ""}, "empty value"},
		{"empty name", "c", "t", map[string]string{"": "1"}, "needs a name"},
		{"name with a space", "c", "t", map[string]string{"birth date": "1"}, "a name is 1 to 32 of a-z, 0-9 and _"},
		{"name in capitals", "c", "t", map[string]string{"Name": "1"}, "a name is 1 to 32 of a-z"},
		{"name too long", "c", "t", map[string]string{strings.Repeat("a", 33): "1"}, "a name is 1 to 32"},
		{"too many attributes", "c", "t", manyValues(33), "at most 32"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := wallet.NewWallet(tt.id, tt.typ, tt.values)
			wantErr(t, err, nil, tt.says)
		})
	}
}

func manyValues(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("a%d", i)] = "v"
	}
	return m
}

func TestWalletFileRoundTrip(t *testing.T) {
	w, commitments := testWallet(t)
	b, err := w.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"credential_id", "type", "attributes"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("wallet file has no %q: %s", k, b)
		}
	}
	got, err := wallet.ReadWallet(b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := got.Commitments()
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range commitments {
		if again[name] != c {
			t.Errorf("attribute %s: commitment %s after reading the file back, %s before", name, again[name], c)
		}
	}

	salt := w.Attributes["name"].Salt
	for _, tt := range []struct{ name, file, says string }{
		{"not JSON", `{`, "not a wallet file"},
		{"unknown member", `{"credential_id":"c","type":"t","attributes":{"a":{"value":"1","salt":"` + salt + `"}},"extra":1}`, "unknown field"},
		{"trailing data", `{"credential_id":"c","type":"t","attributes":{"a":{"value":"1","salt":"` + salt + `"}}} {}`, "trailing"},
		{"no credential", `{"type":"t","attributes":{"a":{"value":"1","salt":"` + salt + `"}}}`, "no credential_id"},
		{"no attributes", `{"credential_id":"c","type":"t","attributes":{}}`, "no attributes"},
		{"no value", `{"credential_id":"c","type":"t","attributes":{"a":{"salt":"` + salt + `"}}}`, "no value"},
		{"short salt", `{"credential_id":"c","type":"t","attributes":{"a":{"value":"1","salt":"abcd"}}}`, "salt is not 32 bytes"},
		{"uppercase salt", `{"credential_id":"c","type":"t","attributes":{"a":{"value":"1","salt":"` + strings.ToUpper(salt) + `"}}}`, "lowercase hex"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wallet.ReadWallet([]byte(tt.file))
			wantErr(t, err, nil, tt.says)
		})
	}
}

func TestDisclose(t *testing.T) {
	w, _ := testWallet(t)
	d, err := w.Disclose("birth_date")
	if err != nil {
		t.Fatal(err)
	}
	want := wallet.Disclosure{CredentialID: "cred-0001", Attribute: "birth_date", Value: "1990-04-01", Salt: w.Attributes["birth_date"].Salt}
	if d != want {
		t.Errorf("Disclose = %+v, want %+v", d, want)
	}
	b, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// One attribute only: nothing of the others.
	for _, other := range []string{"nationality", "FR", "Ada", w.Attributes["name"].Salt} {
		if strings.Contains(string(b), other) {
			t.Errorf("the disclosure of birth_date shows %q: %s", other, b)
		}
	}
	back, err := wallet.ReadDisclosure(b)
	if err != nil || back != d {
		t.Errorf("ReadDisclosure = %+v, %v; want %+v", back, err, d)
	}

	_, err = w.Disclose("address")
	wantErr(t, err, wallet.ErrNoAttribute, `no attribute "address" (it holds: birth_date, name, nationality)`)

	for _, tt := range []struct{ name, file, says string }{
		{"not JSON", `nope`, "not a disclosure file"},
		{"unknown member", `{"credential_id":"c","attribute":"a","value":"1","salt":"` + d.Salt + `","others":{}}`, "unknown field"},
		{"no credential", `{"attribute":"a","value":"1","salt":"` + d.Salt + `"}`, "no credential_id"},
		{"no attribute", `{"credential_id":"c","value":"1","salt":"` + d.Salt + `"}`, "no attribute"},
		{"no value", `{"credential_id":"c","attribute":"a","salt":"` + d.Salt + `"}`, "no value"},
		{"bad salt", `{"credential_id":"c","attribute":"a","value":"1","salt":"zz"}`, "salt is not 32 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wallet.ReadDisclosure([]byte(tt.file))
			wantErr(t, err, nil, tt.says)
		})
	}
}

func TestCheckDisclosure(t *testing.T) {
	w, commitments := testWallet(t)
	d, err := w.Disclose("nationality")
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(*wallet.Disclosure)) wallet.Disclosure {
		c := d
		f(&c)
		return c
	}
	otherSalt := mustSalt(t)
	tests := []struct {
		name     string
		d        wallet.Disclosure
		status   string
		sentinel error
		says     string
	}{
		{"matching", d, "valid", nil, ""},
		{"changed value", with(func(d *wallet.Disclosure) { d.Value = "DE" }), "valid", wallet.ErrMismatch, "the disclosed value does NOT match the credential's commitment"},
		{"value with a trailing space", with(func(d *wallet.Disclosure) { d.Value += " " }), "valid", wallet.ErrMismatch, "does NOT match"},
		{"changed salt", with(func(d *wallet.Disclosure) { d.Salt = otherSalt }), "valid", wallet.ErrMismatch, "does NOT match"},
		{"another attribute's salt", with(func(d *wallet.Disclosure) { d.Salt = w.Attributes["name"].Salt }), "valid", wallet.ErrMismatch, "does NOT match"},
		{"malformed salt", with(func(d *wallet.Disclosure) { d.Salt = "00" }), "valid", wallet.ErrMismatch, "salt is not 32 bytes"},
		{"another attribute's name", with(func(d *wallet.Disclosure) { d.Attribute = "name" }), "valid", wallet.ErrMismatch, "does NOT match"},
		{"attribute not in the credential", with(func(d *wallet.Disclosure) { d.Attribute = "address" }), "valid", wallet.ErrNoAttribute, `credential cred-0001 has no attribute "address" (it has: birth_date, name, nationality)`},
		{"revoked", d, "revoked", wallet.ErrNotValid, "REVOKED"},
		{"superseded", d, "superseded", wallet.ErrNotValid, "SUPERSEDED"},
		{"no status", d, "", wallet.ErrNotValid, "no status"},
		{"another status", d, "suspended", wallet.ErrNotValid, `status "suspended", not "valid"`},
		{"status in capitals", d, "VALID", wallet.ErrNotValid, "not \"valid\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wallet.CheckDisclosure(tt.d, commitments, tt.status)
			if tt.sentinel == nil {
				if err != nil {
					t.Fatalf("CheckDisclosure: %v", err)
				}
				return
			}
			wantErr(t, err, tt.sentinel, tt.says)
		})
	}
}

func TestCheckCredential(t *testing.T) {
	w, commitments := testWallet(t)
	d, err := w.Disclose("birth_date")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	answer := func(f func(map[string]any)) []byte {
		m := map[string]any{
			"credential_id": "cred-0001", "subject": "subj-77", "type": "national-id", "issuer": "civil-registry",
			"issued": "2026-03-01T10:00:00Z", "attributes": commitments, "status": "valid", "leaf_hash": strings.Repeat("ab", 32),
		}
		if f != nil {
			f(m)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c, err := wallet.CheckCredential(d, answer(nil), now)
	if err != nil {
		t.Fatal(err)
	}
	want := "OK: credential cred-0001 (national-id, issued by civil-registry on 2026-03-01) says birth_date = 1990-04-01; proved in gov.example/identity at size 7"
	if got := c.Describe(d, testOrigin, 7); got != want {
		t.Errorf("Describe =\n%s\nwant\n%s", got, want)
	}

	// A value that would pass for another line is quoted.
	w2, c2, err := wallet.NewWallet("cred-0001", "national-id", map[string]string{"motto": "yes\nOK: credential cred-0001 says over_18 = yes", "pad": " x "})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"motto": `says motto = "yes\nOK: credential cred-0001 says over_18 = yes";`, "pad": `says pad = " x ";`} {
		d2, _ := w2.Disclose(name)
		b, _ := json.Marshal(map[string]any{"credential_id": "cred-0001", "type": "national-id", "issuer": "civil-registry", "issued": "2026-03-01", "attributes": c2, "status": "valid"})
		c, err := wallet.CheckCredential(d2, b, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Describe(d2, testOrigin, 7); strings.Contains(got, "\n") || !strings.Contains(got, want) {
			t.Errorf("Describe = %q, want it to say %s on one line", got, want)
		}
	}

	for _, tt := range []struct {
		name     string
		set      func(map[string]any)
		sentinel error
		says     string
	}{
		{"expires later", func(m map[string]any) { m["expires"] = "2030-01-01" }, nil, ""},
		{"expires later, RFC 3339", func(m map[string]any) { m["expires"] = "2026-06-01T00:00:01Z" }, nil, ""},
		{"null expiry", func(m map[string]any) { m["expires"] = nil }, nil, ""},
		{"expired", func(m map[string]any) { m["expires"] = "2026-05-31" }, wallet.ErrNotValid, "EXPIRED on 2026-05-31"},
		{"expires now", func(m map[string]any) { m["expires"] = "2026-06-01T00:00:00Z" }, wallet.ErrNotValid, "EXPIRED"},
		{"expired, Unix seconds", func(m map[string]any) { m["expires"] = 1700000000 }, wallet.ErrNotValid, "EXPIRED on 2023-11-14"},
		{"unreadable expiry", func(m map[string]any) { m["expires"] = "next year" }, nil, "can't tell whether it is still valid"},
		{"another credential", func(m map[string]any) { m["credential_id"] = "cred-0002" }, wallet.ErrWrongCredential, "cred-0002"},
		{"no credential", func(m map[string]any) { delete(m, "credential_id") }, nil, "names no credential_id"},
		{"revoked", func(m map[string]any) { m["status"] = "revoked" }, wallet.ErrNotValid, "REVOKED"},
		{"attribute missing", func(m map[string]any) {
			m["attributes"] = map[string]string{"name": commitments["name"]}
		}, wallet.ErrNoAttribute, "no attribute"},
		{"commitment swapped", func(m map[string]any) {
			m["attributes"] = map[string]string{"birth_date": commitments["name"]}
		}, wallet.ErrMismatch, "does NOT match"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wallet.CheckCredential(d, answer(tt.set), now)
			if tt.says == "" {
				if err != nil {
					t.Fatalf("CheckCredential: %v", err)
				}
				return
			}
			wantErr(t, err, tt.sentinel, tt.says)
		})
	}
}
