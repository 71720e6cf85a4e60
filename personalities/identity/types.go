package identity

import (
	"encoding/json"
	"strings"

	"github.com/govlog/govlog/personalities/rule"
)

// The example subjects: exampleSubjectKey signs the example grants and
// withdrawal (its signer key is in the tests); the others sign nothing.
// A test checks the IDs are SubjectID of the keys.
const (
	exampleSubjectKey = "subject+82dd309d+AY4/hxLLViutBMRv15zQElv8YZZyNvB5UFbqYgjOT0Io"
	exampleSubject    = "s-3fb5efed15a9a04043d0c0ae4e9c885f"
	exampleSpouseKey  = "subject+256f9ce5+AVj0W04etgM4Urs5fXZHP+VL6WCmE7C+c8euxd0VEHck"
	exampleSpouse     = "s-003ea51bcef031652b94944b4cc150c3"
	exampleChildKey   = "subject+46911b5d+AT3koKNzN/NsBXQcaIMGlcaqyqbbizxi4AotV3N4nj7m"
	exampleChild      = "s-e9c5903ddc327b656ec5e4a20b19760d"
)

// exampleCommitments stand for the commitments of the examples'
// attributes; only their holders know the salts and values.
var exampleCommitments = []string{
	"0b5945ca491a7fa294bf715ce16ba36f6d46e380a3da11fad05f18954d5bef9f",
	"2a30378f38bbf3eaf3759cb8ae2306db888343f4b9bdea39f6752b85720fc3a2",
	"d9e8011ac0e37d64cea96d9328539ae6240aa3ccf6197ca7dc72ffd66f596169",
	"e7d5e692c45af53290bfa28538b7fedcee3c91b6f89d98954e963a5ea80da936",
	"b49e1860a7ba15a25ab6d486e050b742857135682dfc7d73de77e197bf1d29bf",
	"a51907e12828017fb38f3df25e011c353b95a94f9d49efae7791f79d5d9a8f63",
	"c3c8d30dc5cf39e6bad2d4ca717c1b358a44cfb1ba943d286006be1326a157ff",
	"9b106f4afeca0b06ffe02c7d52f5e24f4ec91b63621e65c2523d0d26423555de",
	"59602689d3e6b44dc63c4dd4d28354a57dd8935aa0d1798ff07776b97955b3ca",
	"b6e32b3a52d6bbd067fcbdcc5ac049b5d7319e37cbbe0922efe8c6f4863ebee8",
}

// examples turns bodies into examples, replacing {A}, {B} and {C} with
// the example subjects' IDs, {KA} with the first one's key and {0}..{9}
// with example commitments.
func examples(bodies ...string) []json.RawMessage {
	pairs := []string{"{A}", exampleSubject, "{B}", exampleSpouse, "{C}", exampleChild,
		"{KA}", exampleSubjectKey, "{KB}", exampleSpouseKey, "{KC}", exampleChildKey}
	for i, c := range exampleCommitments {
		pairs = append(pairs, "{"+string(rune('0'+i))+"}", c)
	}
	r := strings.NewReplacer(pairs...)
	out := make([]json.RawMessage, len(bodies))
	for i, b := range bodies {
		out[i] = json.RawMessage(r.Replace(b))
	}
	return out
}

// types are the statement types of the log, for the centre and `govlog
// domains`; their examples are applied by a test, in order.
var types = []rule.TypeInfo{{
	Type: TypeRegister, Role: RoleRegistrar,
	Summary:  "register a subject, a citizen named by a key of their own",
	Examples: examples(`{"subject":"{KA}"}`, `{"subject":"{KB}"}`, `{"subject":"{KC}"}`),
}, {
	Type: TypeIssueCivil, Role: RoleCivil,
	Summary:  "issue a civil credential (birth, marriage, divorce, parent-link) whose attributes are salted commitments",
	Examples: examples(`{"credential_id":"cr-birth-a","subject":"{A}","type":"birth","issued":"1990-05-01","attributes":{"family_name":"{0}","given_name":"{1}","id_number":"{2}","birth_date":"{3}"}}`),
}, {
	Type: TypeIssueEducation, Role: RoleEducation,
	Summary:  "issue a diploma",
	Examples: examples(`{"credential_id":"cr-diploma-a","subject":"{A}","type":"diploma","issued":"2012-07-01","attributes":{"degree":"{4}","institution":"{5}"}}`),
}, {
	Type: TypeIssueHealth, Role: RoleHealth,
	Summary:  "issue a health certificate",
	Examples: examples(`{"credential_id":"cr-health-a","subject":"{A}","type":"health-certificate","issued":"2026-03-01","expires":"2099-03-01","attributes":{"fit_for":"{6}"}}`),
}, {
	Type: TypeIssueLabour, Role: RoleLabour,
	Summary:  "issue an employment or qualification credential",
	Examples: examples(`{"credential_id":"cr-qual-a","subject":"{A}","type":"qualification","issued":"2025-09-01","attributes":{"trade":"{7}"}}`),
}, {
	Type: TypeMarriage, Role: RoleCivil,
	Summary:  "record a marriage: a marriage credential for each spouse, together",
	Examples: examples(`{"event_id":"ev-marriage-1","issued":"2024-06-01","spouse_1":{"subject":"{A}","credential_id":"cr-marriage-a","attributes":{"spouse":"{8}"}},"spouse_2":{"subject":"{B}","credential_id":"cr-marriage-b","attributes":{"spouse":"{9}"}}}`),
}, {
	Type: TypeBirth, Role: RoleCivil,
	Summary:  "record a birth: the child's birth credential and a parent-link credential for each parent, together",
	Examples: examples(`{"event_id":"ev-birth-1","issued":"2026-11-20","child":"{C}","birth":{"credential_id":"cr-birth-c","attributes":{"given_name":"{0}","birth_date":"{1}"}},"parent_1":{"subject":"{A}","credential_id":"cr-parent-a","attributes":{"child":"{2}"}},"parent_2":{"subject":"{B}","credential_id":"cr-parent-b","attributes":{"child":"{3}"}}}`),
}, {
	Type: TypeEmployment, Role: RoleLabour,
	Summary:  "record an employment: an employment credential for the employee",
	Examples: examples(`{"event_id":"ev-employment-1","employee":"{A}","issued":"2026-02-01","credential":{"credential_id":"cr-employment-a","attributes":{"employer":"{4}","position":"{5}"}}}`),
}, {
	Type: TypeGrant, Role: rule.SelfSigned,
	Summary: "a subject lets an agency (or anyone, \"*\") check their credentials of a type, for a purpose, until a date",
	Examples: examples(
		`{"grant_id":"gr-public-health","subject":"{KA}","agency":"*","credential_type":"health-certificate","purpose":"service-work","until":"2099-12-31"}`,
		`{"grant_id":"gr-diploma","subject":"{KA}","agency":"demo-agency","credential_type":"diploma","purpose":"hiring","until":"2099-12-31"}`),
}, {
	Type: TypeAccess, Role: RoleChecker,
	Summary: "an agency checks a credential under a live grant of its subject",
	Examples: examples(
		`{"access_id":"ac-1","grant_id":"gr-diploma","credential_id":"cr-diploma-a","purpose":"hiring"}`,
		`{"access_id":"ac-2","grant_id":"gr-public-health","credential_id":"cr-health-a","purpose":"service-work"}`),
}, {
	Type: TypeWithdraw, Role: rule.SelfSigned,
	Summary:  "a subject withdraws a grant of theirs",
	Examples: examples(`{"grant_id":"gr-diploma","subject":"{KA}"}`),
}, {
	Type: TypeRevoke, Role: RoleIssuer,
	Summary:  "the agency that issued a credential revokes it",
	Examples: examples(`{"credential_id":"cr-qual-a","reason":"issued on an exam record found to be forged"}`),
}, {
	Type: TypeIncident, Role: RoleRegulator,
	Summary:  "a regulator records an incident citing a service worker's qualification or health certificate",
	Examples: examples(`{"incident_id":"in-1","credential_id":"cr-health-a","summary":"Food-safety inspection of the worker's stall found hygiene failures; follow-up inspection due."}`),
}}

// Types describes the statement types of the log.
func (*Rules) Types() []rule.TypeInfo { return types }
