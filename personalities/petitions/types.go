package petitions

import (
	"encoding/json"

	"github.com/govlog/govlog/personalities/rule"
)

// exampleCitizen is the key that signs the example of petition.sign; its
// signer key is in the tests, which sign the example with it.
const exampleCitizen = "citizen+9c7cd4df+Afu+IsLLHIZKv9rjwUjkX1oUNhLKHMmtTTZeUDcK9wRu"

// types are the statement types of the log, for the centre and
// `govlog domains`; their examples are applied by a test.
var types = []rule.TypeInfo{{
	Type: TypeOpen, Role: RoleOffice,
	Summary:  "open a petition for citizens to sign, until its closing date",
	Examples: []json.RawMessage{json.RawMessage(`{"petition_id":"bike-lanes-2027","title":"Protected bike lanes on Main Street","closes":"2099-12-31"}`)},
}, {
	Type: TypeSign, Role: rule.SelfSigned,
	Summary:  "a citizen signs an open petition, once, with a key of their own",
	Examples: []json.RawMessage{json.RawMessage(`{"petition_id":"bike-lanes-2027","signer":"` + exampleCitizen + `"}`)},
}}

// Types describes the statement types of the log.
func (*Rules) Types() []rule.TypeInfo { return types }

// RequiredRole returns [RoleOffice] for petition.open, [rule.SelfSigned] for
// petition.sign, and an error wrapping [rule.ErrUnknownType] for any other
// type.
func (*Rules) RequiredRole(statementType string) (string, error) {
	return rule.RoleOf(LogName, types, statementType)
}
