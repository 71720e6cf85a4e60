package votes

import (
	"encoding/json"

	"github.com/govlog/govlog/personalities/rule"
)

// types are the statement types of the log, for the centre and
// `govlog domains`; their examples are applied by a test.
var types = []rule.TypeInfo{{
	Type: TypeOpen, Role: RoleAuthority,
	Summary:  "open an election: its question, options, voting times and the token issuer's key",
	Examples: []json.RawMessage{json.RawMessage(`{"election_id":"` + exampleElection + `","question":"Which project should the 2026 participatory budget fund?","options":["New library","Park renovation","Bike lanes"],"opens":"2026-01-01T00:00:00Z","closes":"2099-12-31T00:00:00Z","issuer_key":"` + exampleIssuerKey + `"}`)},
}, {
	Type: TypeTokens, Role: RoleIssuer,
	Summary:  "the token issuer logs a batch of voting tokens it hands out for an election",
	Examples: []json.RawMessage{json.RawMessage(`{"election_id":"` + exampleElection + `","batch":1,"count":1000}`)},
}, {
	Type: TypeBallot, Role: rule.SelfSigned,
	Summary:  "an anonymous ballot, signed by the one-time key the issuer's token vouches for, once per token",
	Examples: []json.RawMessage{json.RawMessage(`{"election_id":"` + exampleElection + `","choice":"Park renovation","token":` + exampleToken + `}`)},
}, {
	Type: TypeClose, Role: RoleEngine, ByLog: true,
	Summary: "the log closes an election at its closing time with the tally of the ballots it admitted",
}}

// Types describes the statement types of the log.
func (*Rules) Types() []rule.TypeInfo { return types }

// RequiredRole returns the role of statementType ([rule.SelfSigned] for
// votes.ballot), or an error wrapping [rule.ErrUnknownType].
func (*Rules) RequiredRole(statementType string) (string, error) {
	return rule.RoleOf(LogName, types, statementType)
}

// The example election's issuer key and a token of it; the private keys
// that made them are in the tests, which sign the example ballot.
const (
	exampleElection  = "city-budget-2026"
	exampleIssuerKey = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu6fpEWrvJbOUKynQJ0Jz4C5NFUfEwkX3hskhcG1zHGukWoqWYSh5hQ/B1KvI04jTdep/E3ZNxMUyEF0ZM4PW1+BKGFAztTQBUdg7YNO1b1cquzhDXOR3zOGPd9KoozJEjqYpeJFnMKE1kUKTfn58tar4uOwGVJQG7zM5o2pp6QvIp/HrKPNwVRxNQ/kSqM1+3SVF4VTjr133JqSyX+sAN/wBniKhKP9Oz5csuraUR/X+VeAH9gaRmCZ07XpSsKA3/qgYAw5aKe9cQJCh/VZy+rbR1KxdJYdo7b3/VJ4oRIYUjq9lZmUzhSchiWRWtrMexunjUI0KunAyby4svq0bSwIDAQAB"
	exampleToken     = `{"key":"voter+95ac06db+AfJfPAGbwCbFx8Q89j4fiSvhkAjlTleiuL9EwMwiJPqh","prefix":"c50313e8ab54731d1a64cad7c09d32bd04faddbf3132625d3f5e0d75ad9f8184","signature":"XJY8pBkUA0CowJ64mPhBGZPV/LNMkzyq0NFq2ur5Y3sMcDbB/3Aa6elvq99tQbAfvjSzzP0Icl0YULY8M6N++PCkcQtT9EYaRNIcTFisI1cyaQx7KFjZF5E5nrxkjqOOSxQB0l0lz/CoCgh1iaSQmIBNGiksQYog5cFEXePlENSctUmAYwfZkx+iOQYt9ob02+uiPHdd7QTHu6FMYCfAbwhU0sgB24kbVg4Krmg2ppt9wdBlg8BXPY1fjRPjSwo9SxMtc5TQaB2gvX0UVgZ/2bVnltMf+J/7RAy3fuo4s4+pVashYLG2WdrTmk7f4pfF61Sv/NznNp9S1tKArAEqgw=="}`
)
