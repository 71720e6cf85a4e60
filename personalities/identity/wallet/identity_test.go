package wallet_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govlog/govlog/personalities/identity"
	"github.com/govlog/govlog/personalities/identity/wallet"
)

// TestCheckWithTheDomain runs attributes, disclose and check with the
// identity domain's own CheckAnswer (the layout rules bind the package,
// not its tests): an issuing entry as the log holds it, the answer as the
// domain writes it, a revocation.
func TestCheckWithTheDomain(t *testing.T) {
	dir := t.TempDir()
	l := newTestLog(t, testOrigin)
	srv, addr := startServer(t)
	policy := writePolicy(t, dir, l)
	qc := identity.New()

	walletPath := filepath.Join(dir, "wallet.json")
	out := mustRun(t, qc, "attributes", "--credential-id", "birth-0001", "--type", identity.TypeBirthCredential, "--out", walletPath,
		"name=Ada Lovelace", "birth_date=2026-02-27", "birth_place=London")
	var commitments map[string]string
	if err := json.Unmarshal([]byte(out), &commitments); err != nil {
		t.Fatal(err)
	}
	subject := identity.SubjectID("subject+12345678+AQID")
	issueBody := map[string]any{
		"credential_id": "birth-0001", "subject": subject, "type": identity.TypeBirthCredential,
		"issued": "2026-03-01", "attributes": commitments,
	}
	if _, err := identity.ParseIssueBody(mustJSON(t, issueBody)); err != nil {
		t.Fatalf("the attributes command's commitments make a body the domain refuses: %v", err)
	}
	l.add(t, identity.TypeRegister, map[string]string{"note": "filler"})
	issued, issuedLeaf := l.add(t, identity.TypeIssueCivil, issueBody)
	a := identity.CredentialAnswer{
		ID: "birth-0001", Type: identity.TypeBirthCredential, Issuer: "civil-registry", Subject: subject,
		Issued: "2026-03-01", Attributes: commitments, Status: identity.StatusValid,
		Issue: identity.IssueRef{Statement: identity.TypeIssueCivil, Time: "2026-03-01T10:00:00Z", LeafHash: issuedLeaf},
	}
	srv.answer(mustJSON(t, a), l.bundle(t, issued))

	disclosure := filepath.Join(dir, "disclosure.json")
	mustRun(t, nil, "disclose", "--wallet", walletPath, "--attribute", "birth_place", "--out", disclosure)
	check := func() (string, string, error) {
		return run(t, qc, "check", "--server", addr, "--policy", policy, disclosure)
	}
	stdout, stderr, err := check()
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if want := "OK: credential birth-0001 (birth, issued by civil-registry on 2026-03-01) says birth_place = London; proved in gov.example/identity at size 2\n"; stdout != want {
		t.Errorf("check printed %q, want %q", stdout, want)
	}
	if !strings.Contains(stderr, "credential birth-0001, a birth of subject") || strings.Contains(stderr, "checked: checked:") {
		t.Errorf("check's stderr %q", stderr)
	}

	// An answer whose commitments are not the issuing entry's: the
	// domain's check catches it before the disclosure is looked at.
	forged := a
	forged.Attributes = map[string]string{"birth_place": commitments["name"]}
	srv.answer(mustJSON(t, forged), l.bundle(t, issued))
	_, _, err = check()
	wantErr(t, err, identity.ErrAnswerMismatch, "does NOT agree with the entries it proves")

	// A changed value.
	srv.answer(mustJSON(t, a), l.bundle(t, issued))
	var d wallet.Disclosure
	readJSON(t, disclosure, &d)
	d.Value = "Paris"
	changed := filepath.Join(dir, "changed.json")
	writeJSON(t, changed, d)
	_, _, err = run(t, qc, "check", "--server", addr, "--policy", policy, changed)
	wantErr(t, err, wallet.ErrMismatch, "the disclosed value does NOT match the credential's commitment")

	// Revoked by its issuer.
	revoked, revokedLeaf := l.add(t, identity.TypeRevoke, map[string]string{"credential_id": "birth-0001", "reason": "issued in error"})
	r := a
	r.Status = identity.StatusRevoked
	r.Revoked = &identity.Revocation{Reason: "issued in error", Time: "2026-03-01T10:00:00Z", LeafHash: revokedLeaf}
	srv.answer(mustJSON(t, r), l.bundle(t, issued), l.bundle(t, revoked))
	_, _, err = check()
	wantErr(t, err, wallet.ErrNotValid, "credential birth-0001 is REVOKED")
	if errors.Is(err, identity.ErrAnswerMismatch) {
		t.Errorf("the domain refused the revoked answer: %v", err)
	}
	if _, err := os.Stat(walletPath); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
