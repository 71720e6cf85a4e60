package disclosures

import (
	"encoding/json"

	"github.com/govlog/govlog/personalities/rule"
)

// types are the statement types of the log, for the centre and
// `govlog domains`; their examples are applied by a test.
var types = []rule.TypeInfo{{
	Type: TypePublish, Role: RoleDiscloser,
	Summary: "publish a document: its SHA-256 and metadata (the text stays on the agency's site)",
	Examples: []json.RawMessage{json.RawMessage(`{"doc_id":"2026-001","title":"Budget 2027","sha256":"` +
		"6f1ed002ab5595859014ebf0951522d9" + "a4a2d07d0d6b2d1b4a5e7c7c6f4a8e0d" +
		`","category":"budget","decision_date":"2026-11-01"}`)},
}, {
	Type: TypeCorrect, Role: RoleDiscloser,
	Summary: "publish a new version of a document, superseding the current one",
	Examples: []json.RawMessage{json.RawMessage(`{"doc_id":"2026-001-v2","corrects":"2026-001","title":"Budget 2027 (corrected)","sha256":"` +
		"0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a" + "6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e" +
		`","category":"budget","decision_date":"2026-11-02","reason":"table 3 misprinted"}`)},
}, {
	Type: TypeRetract, Role: RoleDiscloser,
	Summary:  "withdraw the current version of a document without replacing it",
	Examples: []json.RawMessage{json.RawMessage(`{"retracts":"2026-001-v2","reason":"published in error"}`)},
}}

// Types describes the statement types of the log.
func (*Rules) Types() []rule.TypeInfo { return types }

// RequiredRole returns [RoleDiscloser] for the three statement types of this
// log and an error wrapping [rule.ErrUnknownType] for any other.
func (*Rules) RequiredRole(statementType string) (string, error) {
	return rule.RoleOf(LogName, types, statementType)
}
