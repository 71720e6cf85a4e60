package funds

import (
	"encoding/json"

	"github.com/govlog/govlog/personalities/rule"
)

// Example commitments: the worker's and the aid beneficiary's, and a
// one-time commitment of each for one period.
const (
	exampleWorker          = "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a"
	exampleBeneficiary     = "ef2d127de37b942baad06145e54b0c619a1f22327b2ebbcfbec78f5564afe39d"
	exampleOnceWorker      = "3efb508464ca0cea1efa7b737fa367e0a9b15bb7e5e20d8611c231d187a1e39d"
	exampleOnceBeneficiary = "3968a41b1ace9cbbaa859cd2bbcc0b365a115a5439d7f70c3834adb5179c78e9"
)

func examples(bodies ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(bodies))
	for i, b := range bodies {
		out[i] = json.RawMessage(b)
	}
	return out
}

// types are the statement types of the log, for the centre and
// `govlog domains`; their examples are applied by a test.
var types = []rule.TypeInfo{{
	Type: TypeAccountOpen, Role: RoleFundManager,
	Summary: "open an account: a budget, a company's, an escrow, a worker's or a beneficiary's",
	Examples: examples(
		`{"account_id":"city-roads","owner_kind":"agency","owner":"demo-agency","kind":"budget"}`,
		`{"account_id":"city-aid","owner_kind":"agency","owner":"demo-agency","kind":"budget"}`,
		`{"account_id":"acme","owner_kind":"company","owner":"acme-construction","kind":"company"}`,
		`{"account_id":"acme-escrow","owner_kind":"company","owner":"acme-construction","kind":"escrow"}`,
		`{"account_id":"w-li","owner_kind":"person","owner":"`+exampleWorker+`","kind":"worker"}`,
		`{"account_id":"b-wang","owner_kind":"person","owner":"`+exampleBeneficiary+`","kind":"beneficiary"}`),
}, {
	Type: TypeAllocate, Role: RoleTreasury,
	Summary: "money enters the log from the treasury into a budget account",
	Examples: examples(
		`{"allocation_id":"2027-roads","to":"city-roads","amount":1000000,"budget_line":"roads"}`,
		`{"allocation_id":"2027-aid","to":"city-aid","amount":100000,"budget_line":"minimum living allowance"}`),
}, {
	Type: TypeContractRegister, Role: RoleFundManager,
	Summary: "register a works, supply or labour contract, with its ceiling",
	Examples: examples(
		`{"contract_id":"road-7","kind":"works","payer":"city-roads","payee":"acme","ceiling":500000}`,
		`{"contract_id":"crew-7","kind":"labour","payer":"acme","ceiling":140000,"workers":["`+exampleWorker+`"],"wage_per_period":70000,`+
			`"schedule":[{"period":"2030-01","pay_deadline":"2030-02-10"},{"period":"2030-02","pay_deadline":"2030-03-10"}]}`),
}, {
	Type: TypeTransfer, Role: RoleFundManager,
	Summary:  "pay under a works or supply contract, never past its ceiling",
	Examples: examples(`{"transfer_id":"road-7-1","from":"city-roads","to":"acme","amount":200000,"contract_id":"road-7"}`),
}, {
	Type: TypeWageVouch, Role: RoleFundManager,
	Summary:  "vouch for a period's fresh one-time commitments of a labour contract's unpaid workers, one each, so their wages do not link",
	Examples: examples(`{"contract_id":"crew-7","period":"2030-02","commitments":["` + exampleOnceWorker + `"]}`),
}, {
	Type: TypeWagePay, Role: RolePayroll,
	Summary: "pay a worker's wage for a period of a labour contract (to a one-time commitment, once the period is vouched for)",
	Examples: examples(`{"payment_id":"wage-1","contract_id":"crew-7","worker":"`+exampleWorker+
		`","period":"2030-01","amount":70000,"from":"acme","to":"w-li"}`,
		`{"payment_id":"wage-2","contract_id":"crew-7","worker":"`+exampleOnceWorker+`","period":"2030-02","amount":70000,"from":"acme"}`),
}, {
	Type: TypeGuaranteeLodge, Role: RoleFundManager,
	Summary:  "lodge a wage guarantee deposit for a labour contract in escrow",
	Examples: examples(`{"guarantee_id":"crew-7-deposit","contract_id":"crew-7","from":"acme","escrow":"acme-escrow","amount":50000}`),
}, {
	Type: TypeGuaranteeRelease, Role: RoleRuleEngine, ByLog: true,
	Summary: "written by the log itself once a pay deadline passes: the deposit pays the unpaid workers",
}, {
	Type: TypeAidGrade, Role: RoleAidOfficer,
	Summary:  "set the amount per period of a need grade of the agency's aid table",
	Examples: examples(`{"grade":"low-income","amount_per_period":50000}`),
}, {
	Type: TypeBeneficiaryRegister, Role: RoleAidOfficer,
	Summary:  "register an aid beneficiary by credential commitment, grade and account",
	Examples: examples(`{"beneficiary_id":"b-1","credential":"` + exampleBeneficiary + `","grade":"low-income","account":"b-wang"}`),
}, {
	Type: TypeAidVouch, Role: RoleAidOfficer,
	Summary:  "vouch for a period's fresh one-time commitments at a grade, at most one per registered beneficiary, so their aid does not link",
	Examples: examples(`{"grade":"low-income","period":"2026-02","commitments":["` + exampleOnceBeneficiary + `"]}`),
}, {
	Type: TypeAidPay, Role: RoleAidOfficer,
	Summary: "pay a beneficiary, or a one-time commitment vouched for, their grade's amount for a period, once",
	Examples: examples(`{"payment_id":"aid-1","beneficiary_id":"b-1","grade":"low-income","period":"2026-01","from":"city-aid","to":"b-wang","amount":50000}`,
		`{"payment_id":"aid-2","recipient":"`+exampleOnceBeneficiary+`","grade":"low-income","period":"2026-02","from":"city-aid","amount":50000}`),
}}

// Types describes the statement types of the log (see "Roles" and
// "Statement types" in the package doc).
func (*Rules) Types() []rule.TypeInfo { return types }

// RequiredRole returns the role of the statement type (see the package
// doc), or an error wrapping [rule.ErrUnknownType].
func (*Rules) RequiredRole(statementType string) (string, error) {
	return rule.RoleOf(LogName, types, statementType)
}
