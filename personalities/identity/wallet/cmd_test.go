package wallet_test

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/govlog/govlog/personalities/identity/wallet"
)

// issue runs attributes and returns the wallet's path and the printed
// commitments.
func issue(t *testing.T, dir string) (string, map[string]string) {
	t.Helper()
	path := filepath.Join(dir, "wallet.json")
	out := mustRun(t, nil, "attributes", "--credential-id", "cred-0001", "--type", "national-id", "--out", path,
		"nationality=FR", "birth_date=1990-04-01", "name=Ada Lovelace", "note=a=b")
	var commitments map[string]string
	if err := json.Unmarshal([]byte(out), &commitments); err != nil {
		t.Fatalf("attributes printed %q: %v", out, err)
	}
	return path, commitments
}

func TestAttributesCmd(t *testing.T) {
	dir := t.TempDir()
	path, commitments := issue(t, dir)
	checkMode(t, path)

	// The output is one line of compact JSON, keys sorted, the
	// commitments of the wallet's values and salts.
	out := mustRun(t, nil, "attributes", "--credential-id", "c2", "--type", "t", "--out", filepath.Join(dir, "w2.json"), "b=2", "a=1", "c=3")
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") || strings.ContainsAny(strings.TrimSuffix(out, "\n"), " \t") {
		t.Errorf("attributes printed %q, want one line of compact JSON", out)
	}
	if ia, ib, ic := strings.Index(out, `"a"`), strings.Index(out, `"b"`), strings.Index(out, `"c"`); !(ia < ib && ib < ic) {
		t.Errorf("attributes printed %q: keys not sorted", out)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wallet.ReadWallet(b)
	if err != nil {
		t.Fatal(err)
	}
	if w.CredentialID != "cred-0001" || w.Type != "national-id" {
		t.Errorf("wallet of %s (%s), want cred-0001 (national-id)", w.CredentialID, w.Type)
	}
	if got := slices.Sorted(maps.Keys(w.Attributes)); !slices.Equal(got, []string{"birth_date", "name", "nationality", "note"}) {
		t.Errorf("wallet attributes %v", got)
	}
	if w.Attributes["name"].Value != "Ada Lovelace" || w.Attributes["note"].Value != "a=b" {
		t.Errorf("wallet values %+v", w.Attributes)
	}
	want, err := w.Commitments()
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(commitments, want) {
		t.Errorf("printed commitments %v, the wallet's are %v", commitments, want)
	}

	// Never overwritten: not by another run, not over another file.
	_, _, err = run(t, nil, "attributes", "--credential-id", "cred-0009", "--type", "national-id", "--out", path, "nationality=DE")
	wantErr(t, err, nil, "already exists; not overwriting")
	if after, _ := os.ReadFile(path); string(after) != string(b) {
		t.Errorf("the wallet changed:\n%s\nwas\n%s", after, b)
	}
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, []byte("mine\n"), 0o644)
	_, _, err = run(t, nil, "attributes", "--credential-id", "c", "--type", "t", "--out", other, "a=1")
	wantErr(t, err, nil, "already exists")
	if after, _ := os.ReadFile(other); string(after) != "mine\n" {
		t.Errorf("attributes overwrote another file: %q", after)
	}

	for _, tt := range []struct {
		name string
		args []string
		says string
	}{
		{"no attributes", []string{"--credential-id", "c", "--type", "t", "--out", "x"}, "requires at least 1 arg"},
		{"no NAME=", []string{"--credential-id", "c", "--type", "t", "--out", "x", "FR"}, "want NAME=VALUE"},
		{"empty name", []string{"--credential-id", "c", "--type", "t", "--out", "x", "=FR"}, "want NAME=VALUE"},
		{"empty value", []string{"--credential-id", "c", "--type", "t", "--out", "x", "nationality="}, "empty value"},
		{"twice", []string{"--credential-id", "c", "--type", "t", "--out", "x", "a=1", "a=2"}, "given twice"},
		{"no --out", []string{"--credential-id", "c", "--type", "t", "a=1"}, `"out" not set`},
		{"no --credential-id", []string{"--type", "t", "--out", "x", "a=1"}, `"credential-id" not set`},
		{"no --type", []string{"--credential-id", "c", "--out", "x", "a=1"}, `"type" not set`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sub := t.TempDir()
			args := slices.Clone(tt.args)
			for i, a := range args {
				if a == "x" {
					args[i] = filepath.Join(sub, "w.json")
				}
			}
			_, _, err := run(t, nil, "attributes", args...)
			wantErr(t, err, nil, tt.says)
			if _, err := os.Stat(filepath.Join(sub, "w.json")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed attributes left a wallet behind")
			}
		})
	}
}

func TestDiscloseCmd(t *testing.T) {
	dir := t.TempDir()
	walletPath, _ := issue(t, dir)
	var w wallet.Wallet
	readJSON(t, walletPath, &w)

	out := filepath.Join(dir, "disclosure.json")
	mustRun(t, nil, "disclose", "--wallet", walletPath, "--attribute", "birth_date", "--out", out)
	checkMode(t, out)
	var raw map[string]string
	readJSON(t, out, &raw)
	want := map[string]string{"credential_id": "cred-0001", "attribute": "birth_date", "value": "1990-04-01", "salt": w.Attributes["birth_date"].Salt}
	if !maps.Equal(raw, want) {
		t.Errorf("disclosure file %v, want %v", raw, want)
	}

	// Without --out, to stdout; the same disclosure.
	stdout := mustRun(t, nil, "disclose", "--wallet", walletPath, "--attribute", "birth_date")
	if d, err := wallet.ReadDisclosure([]byte(stdout)); err != nil || d.Value != "1990-04-01" {
		t.Errorf("disclose to stdout: %q (%v)", stdout, err)
	}

	// Never overwritten.
	before, _ := os.ReadFile(out)
	_, _, err := run(t, nil, "disclose", "--wallet", walletPath, "--attribute", "nationality", "--out", out)
	wantErr(t, err, nil, "already exists; not overwriting")
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Errorf("the disclosure changed")
	}

	// An attribute not in the wallet.
	missing := filepath.Join(dir, "address.json")
	_, _, err = run(t, nil, "disclose", "--wallet", walletPath, "--attribute", "address", "--out", missing)
	wantErr(t, err, wallet.ErrNoAttribute, `holds no attribute "address" (it holds: birth_date, name, nationality, note)`)
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed disclose left a file behind")
	}

	// Not a wallet; no wallet.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"credential_id":"c"}`), 0o600)
	_, _, err = run(t, nil, "disclose", "--wallet", bad, "--attribute", "a")
	wantErr(t, err, nil, "no attributes")
	_, _, err = run(t, nil, "disclose", "--wallet", filepath.Join(dir, "none.json"), "--attribute", "a")
	wantErr(t, err, os.ErrNotExist, "couldn't read the wallet")

	// A wallet others can read: a warning.
	os.Chmod(walletPath, 0o644)
	_, stderr, err := run(t, nil, "disclose", "--wallet", walletPath, "--attribute", "name")
	if err != nil || !strings.Contains(stderr, "readable by others") {
		t.Errorf("disclose from a 0644 wallet: err %v, stderr %q; want a warning", err, stderr)
	}
}

// checkEnv is a credential on a fake identity log, its wallet, and what
// check needs to verify a disclosure of it.
type checkEnv struct {
	dir, addr, policy string
	srv               *server
	log               *testLog
	qc                *fakeQC
	wallet            string
	commitments       map[string]string
	leaf              string
	index             int
}

func newCheckEnv(t *testing.T) *checkEnv {
	t.Helper()
	e := &checkEnv{dir: t.TempDir(), log: newTestLog(t, testOrigin), qc: &fakeQC{}}
	e.srv, e.addr = startServer(t)
	e.policy = writePolicy(t, e.dir, e.log)
	e.wallet, e.commitments = issue(t, e.dir)
	e.log.add(t, "identity.agency-note", map[string]string{"note": "an entry before"})
	e.index, e.leaf = e.log.add(t, "credential.issue", map[string]any{
		"credential_id": "cred-0001", "subject": "subj-77", "type": "national-id", "attributes": e.commitments,
	})
	e.log.add(t, "identity.agency-note", map[string]string{"note": "an entry after"})
	e.answer(t, nil)
	return e
}

// answer has the server answer the credential as the log holds it,
// changed by f, with the issuing entry's bundle.
func (e *checkEnv) answer(t *testing.T, f func(map[string]any)) {
	t.Helper()
	m := map[string]any{
		"credential_id": "cred-0001", "subject": "subj-77", "type": "national-id", "issuer": "civil-registry",
		"issued": "2026-03-01T10:00:00Z", "attributes": e.commitments, "status": "valid", "leaf_hash": e.leaf,
	}
	if f != nil {
		f(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.answer(b, e.log.bundle(t, e.index))
}

// disclose writes the disclosure of attribute, changed by f.
func (e *checkEnv) disclose(t *testing.T, attribute string, f func(*wallet.Disclosure)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disclosure.json")
	mustRun(t, nil, "disclose", "--wallet", e.wallet, "--attribute", attribute, "--out", path)
	if f != nil {
		var d wallet.Disclosure
		readJSON(t, path, &d)
		f(&d)
		os.Remove(path)
		writeJSON(t, path, d)
	}
	return path
}

func (e *checkEnv) check(t *testing.T, disclosure string, extra ...string) (string, string, error) {
	t.Helper()
	return run(t, e.qc, "check", append([]string{"--server", e.addr, "--policy", e.policy, disclosure}, extra...)...)
}

func TestCheckCmd(t *testing.T) {
	e := newCheckEnv(t)
	d := e.disclose(t, "birth_date", nil)
	stdout, stderr, err := e.check(t, d)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	want := "OK: credential cred-0001 (national-id, issued by civil-registry on 2026-03-01) says birth_date = 1990-04-01; proved in gov.example/identity at size 3\n"
	if stdout != want {
		t.Errorf("check printed\n%q\nwant\n%q", stdout, want)
	}
	if !strings.Contains(stderr, "verified: 1 entries proved in gov.example/identity at tree size 3") || !strings.Contains(stderr, "checked: the credential is the proved entry's") {
		t.Errorf("check's stderr %q", stderr)
	}
	// The log was asked the credential query for the disclosure's
	// credential, and the domain checked the answer against the proved
	// issuing entry.
	if len(e.srv.asked) != 1 || e.srv.asked[0].Query != "credential" || e.srv.asked[0].Log != "identity" || !maps.Equal(e.srv.asked[0].Args, map[string]string{"id": "cred-0001"}) {
		t.Errorf("the server was asked %v", e.srv.asked)
	}
	if len(e.qc.queries) != 1 || e.qc.queries[0] != "credential" || !maps.Equal(e.qc.args[0], map[string]string{"id": "cred-0001"}) ||
		len(e.qc.entries[0]) != 1 || e.qc.entries[0][0].Type != "credential.issue" || e.qc.entries[0][0].Index != uint64(e.index) {
		t.Errorf("CheckAnswer got %v %v %+v", e.qc.queries, e.qc.args, e.qc.entries)
	}

	// A value with spaces and one with '=' check as well.
	if out, _, err := e.check(t, e.disclose(t, "note", nil)); err != nil || !strings.Contains(out, "says note = a=b;") {
		t.Errorf("check of note: %q, %v", out, err)
	}
	if out, _, err := e.check(t, e.disclose(t, "name", nil)); err != nil || !strings.Contains(out, "says name = Ada Lovelace;") {
		t.Errorf("check of name: %q, %v", out, err)
	}
}

func TestCheckCmdFails(t *testing.T) {
	otherSalt := mustSalt(t)
	tests := []struct {
		name string
		// disclosure changes the disclosure; answer the log's answer;
		// setup anything else.
		disclosure func(*wallet.Disclosure)
		answer     func(map[string]any)
		setup      func(t *testing.T, e *checkEnv) []string
		sentinel   error
		says       string
	}{
		{name: "changed value", disclosure: func(d *wallet.Disclosure) { d.Value = "1990-04-02" },
			sentinel: wallet.ErrMismatch, says: "the disclosed value does NOT match the credential's commitment"},
		{name: "changed salt", disclosure: func(d *wallet.Disclosure) { d.Salt = otherSalt },
			sentinel: wallet.ErrMismatch, says: "the disclosed value does NOT match the credential's commitment"},
		{name: "attribute not in the credential", disclosure: func(d *wallet.Disclosure) { d.Attribute = "address" },
			sentinel: wallet.ErrNoAttribute, says: `credential cred-0001 has no attribute "address"`},
		{name: "attribute dropped from the credential", answer: func(m map[string]any) {
			c := maps.Clone(m["attributes"].(map[string]string))
			delete(c, "birth_date")
			m["attributes"] = c
		}, sentinel: wallet.ErrNoAttribute, says: `has no attribute "birth_date"`},
		{name: "revoked", answer: func(m map[string]any) { m["status"] = "revoked" },
			sentinel: wallet.ErrNotValid, says: "credential cred-0001 is REVOKED"},
		{name: "superseded", answer: func(m map[string]any) { m["status"] = "superseded" },
			sentinel: wallet.ErrNotValid, says: "credential cred-0001 is SUPERSEDED"},
		{name: "expired", answer: func(m map[string]any) { m["expires"] = "2026-03-02" },
			sentinel: wallet.ErrNotValid, says: "EXPIRED on 2026-03-02"},
		{name: "an answer about another credential", answer: func(m map[string]any) { m["credential_id"] = "cred-0002" },
			sentinel: wallet.ErrWrongCredential, says: "cred-0002"},
		{name: "the domain's check fails", setup: func(t *testing.T, e *checkEnv) []string {
			e.qc.fail = errors.New("the credential's attributes are not the issuing entry's")
			return nil
		}, says: "does NOT agree with the entries it proves: the credential's attributes are not the issuing entry's"},
		{name: "a proof by a key outside the policy", setup: func(t *testing.T, e *checkEnv) []string {
			forged := newTestLog(t, testOrigin)
			i, leaf := forged.add(t, "credential.issue", map[string]any{"credential_id": "cred-0001"})
			e.srv.answer([]byte(`{"credential_id":"cred-0001","status":"valid","leaf_hash":"`+leaf+`"}`), forged.bundle(t, i))
			return nil
		}, says: "proof of entry 0 of the answer does NOT verify"},
		{name: "a tampered proof", setup: func(t *testing.T, e *checkEnv) []string {
			b := e.log.bundle(t, e.index)
			b = []byte(strings.Replace(string(b), "index 1\n", "index 2\n", 1))
			e.srv.answer([]byte(`{"credential_id":"cred-0001","status":"valid","leaf_hash":"`+e.leaf+`"}`), b)
			return nil
		}, says: "does NOT verify"},
		{name: "a cited entry without its proof", setup: func(t *testing.T, e *checkEnv) []string {
			e.srv.answer([]byte(`{"credential_id":"cred-0001","status":"valid","leaf_hash":"`+e.leaf+`"}`), e.log.bundle(t, 0))
			return nil
		}, says: "without a proof"},
		{name: "an answer that cites no entry", setup: func(t *testing.T, e *checkEnv) []string {
			b, _ := json.Marshal(map[string]any{"credential_id": "cred-0001", "status": "valid", "attributes": e.commitments})
			e.srv.answer(b)
			return nil
		}, says: "cites no entry: nothing proves it"},
		{name: "an answer proved in another log of the policy", setup: func(t *testing.T, e *checkEnv) []string {
			funds := newTestLog(t, otherLog)
			i, leaf := funds.add(t, "credential.issue", map[string]any{"credential_id": "cred-0001"})
			os.Remove(e.policy)
			e.policy = writePolicy(t, e.dir, e.log, funds)
			b, _ := json.Marshal(map[string]any{"credential_id": "cred-0001", "status": "valid", "attributes": e.commitments, "leaf_hash": leaf})
			e.srv.answer(b, funds.bundle(t, i))
			return nil
		}, says: "proved in log gov.example/funds, not gov.example/identity"},
		{name: "a policy without an identity log", setup: func(t *testing.T, e *checkEnv) []string {
			os.Remove(e.policy)
			e.policy = writePolicy(t, e.dir, newTestLog(t, otherLog))
			return nil
		}, says: "lists no log whose origin ends in /identity: name it with --origin"},
		{name: "no server", setup: func(t *testing.T, e *checkEnv) []string {
			return []string{"--server", "127.0.0.1:1", "--timeout", "2s"}
		}, says: "asking the identity log at 127.0.0.1:1 for credential cred-0001"},
		{name: "not a disclosure", setup: func(t *testing.T, e *checkEnv) []string {
			return []string{e.wallet}
		}, says: "not a disclosure file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCheckEnv(t)
			d := e.disclose(t, "birth_date", tt.disclosure)
			if tt.answer != nil {
				e.answer(t, tt.answer)
			}
			var extra []string
			if tt.setup != nil {
				extra = tt.setup(t, e)
			}
			args := []string{"--server", e.addr, "--policy", e.policy, d}
			if len(extra) == 1 {
				args[len(args)-1] = extra[0]
			} else {
				args = append(args, extra...)
			}
			stdout, _, err := run(t, e.qc, "check", args...)
			if strings.Contains(stdout, "OK") {
				t.Errorf("check printed %q", stdout)
			}
			wantErr(t, err, tt.sentinel, tt.says)
		})
	}
}

func TestCheckCmdArgs(t *testing.T) {
	e := newCheckEnv(t)
	d := e.disclose(t, "birth_date", nil)
	for _, tt := range []struct {
		name string
		args []string
		says string
	}{
		{"no disclosure", []string{"--server", e.addr, "--policy", e.policy}, "accepts 1 arg(s), received 0"},
		{"two disclosures", []string{"--server", e.addr, "--policy", e.policy, d, d}, "accepts 1 arg(s), received 2"},
		{"no --server", []string{"--policy", e.policy, d}, `"server" not set`},
		{"no --policy", []string{"--server", e.addr, d}, `"policy" not set`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, e.qc, "check", tt.args...)
			wantErr(t, err, nil, tt.says)
		})
	}
	_, _, err := run(t, nil, "check", "--server", e.addr, "--policy", e.policy, d)
	wantErr(t, err, nil, "no identity domain")
}
