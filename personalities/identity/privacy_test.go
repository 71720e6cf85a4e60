package identity_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/identity"
)

// TestNoPersonalDataInClear issues credentials whose attributes are a
// citizen's names and 18-digit ID number, and checks that nothing on the
// log (no statement, no state value) holds them, nor an unsalted hash of
// any ID number near the real one.
func TestNoPersonalDataInClear(t *testing.T) {
	const idNumber = "110105199003074512"
	personal := map[string]string{
		"family_name": "Zhang",
		"given_name":  "Weiming",
		"id_number":   idNumber,
		"birth_date":  "1990-03-07",
		"birth_place": "Chaoyang District, Beijing",
	}
	w := newWorld(t)
	birthAttrs, birthSalts := attrs(t, personal)
	w.by(civil, identity.TypeIssueCivil, t0, map[string]any{"credential_id": "zw-birth", "subject": w.bob.id(),
		"type": identity.TypeBirthCredential, "issued": "1990-03-08", "attributes": birthAttrs})
	healthAttrs, _ := attrs(t, map[string]string{"id_number": idNumber, "family_name": "Zhang", "fit_for": "food handling"})
	w.by(clinic, identity.TypeIssueHealth, t0, map[string]any{"credential_id": "zw-health", "subject": w.bob.id(),
		"type": identity.TypeHealthCertificate, "issued": "2026-05-01", "expires": "2027-05-01", "attributes": healthAttrs})
	spouse1, _ := attrs(t, map[string]string{"spouse_name": "Li Na", "id_number": idNumber})
	spouse2, _ := attrs(t, map[string]string{"spouse_name": "Zhang Weiming", "id_number": "110105199201012345"})
	w.by(civil, identity.TypeMarriage, t0, map[string]any{"event_id": "ev-zw", "issued": "2026-05-01",
		"spouse_1": map[string]any{"subject": w.bob.id(), "credential_id": "zw-m", "attributes": spouse1},
		"spouse_2": map[string]any{"subject": w.carol.id(), "credential_id": "li-m", "attributes": spouse2}})
	w.grant(w.bob, t0, "g-zw", identity.Public, identity.TypeHealthCertificate, "service-work", "2099-12-31")
	w.by(checker, identity.TypeAccess, t0.Add(time.Hour), accessBody("a-zw", "g-zw", "zw-health", "service-work"))

	// Everything on the log: every statement (body and signed text) and
	// every state value.
	var haystack []string
	for _, e := range w.admitted {
		haystack = append(haystack, string(e.Body), string(e.Text))
	}
	for _, v := range w.st {
		haystack = append(haystack, string(v))
	}
	all := strings.ToLower(strings.Join(haystack, "\n"))
	values := []string{"Li Na", "Zhang Weiming", "110105199201012345", "food handling"}
	for _, v := range personal {
		values = append(values, v)
	}
	for _, v := range values {
		if strings.Contains(all, strings.ToLower(v)) {
			t.Errorf("%q is on the log in clear", v)
		}
	}
	if strings.Contains(all, "zhang") || strings.Contains(all, "weiming") {
		t.Error("a name is on the log in clear")
	}

	// Every 64-hex-digit string on the log: commitments, leaf hashes...
	onLog := map[string]bool{}
	for _, h := range regexp.MustCompile(`[0-9a-f]{64}`).FindAllString(all, -1) {
		onLog[h] = true
	}
	if len(onLog) < 10 {
		t.Fatalf("only %d hashes on the log", len(onLog))
	}
	// A dictionary attack: 100,000 ID numbers around the real one,
	// hashed without a salt (plain SHA-256, and HMAC with an empty key).
	real, err := strconv.ParseUint(idNumber, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for n := real - 50_000; n < real+50_000; n++ {
		candidate := strconv.FormatUint(n, 10)
		sum := sha256.Sum256([]byte(candidate))
		m := hmac.New(sha256.New, nil)
		m.Write([]byte(candidate))
		for _, h := range []string{hex.EncodeToString(sum[:]), hex.EncodeToString(m.Sum(nil))} {
			if onLog[h] {
				t.Fatalf("the unsalted hash of %s is on the log", candidate)
			}
		}
		tried++
	}
	if tried != 100_000 {
		t.Fatalf("tried %d candidates", tried)
	}
	// The real one would have been found had it been committed without
	// a salt: the attack is not vacuous.
	if h := identity.Commit(nil, idNumber); onLog[h] {
		t.Fatal("an unsalted commitment is on the log")
	}

	// One person, one value, two credentials: two commitments.
	if birthAttrs["id_number"] == healthAttrs["id_number"] || birthAttrs["id_number"] == spouse1["id_number"] ||
		birthAttrs["family_name"] == healthAttrs["family_name"] {
		t.Error("one value has one commitment in two credentials: the salts are not fresh")
	}
	// And the subject can still show it: the value and its salt check.
	if !identity.CheckCommitment(birthAttrs["id_number"], idNumber, birthSalts["id_number"]) {
		t.Error("the ID number does not check against its commitment")
	}
	if identity.CheckCommitment(birthAttrs["id_number"], "110105199003074513", birthSalts["id_number"]) {
		t.Error("another ID number checks against the commitment")
	}
}
