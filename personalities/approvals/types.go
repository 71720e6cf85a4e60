package approvals

import (
	"encoding/json"

	"github.com/govlog/govlog/personalities/rule"
)

// DemoKind is the rule set of the demo kind, a street stall permit, which
// `govlog dev` publishes: an application can fail either rule, or leave a
// field out, and a passed one needs an official's sign-off.
const DemoKind = `{"kind":"street-stall","version":1,"title":"Street stall permit",` +
	`"fields":[{"name":"applicant","type":"commitment"},{"name":"area_m2","type":"int"},{"name":"site_plan","type":"sha256"},` +
	`{"name":"food","type":"bool"},{"name":"health_certified","type":"bool"}],` +
	`"rules":[{"name":"area","expr":"area_m2 > 0 && area_m2 <= 6","message":"a stall covers at most 6 square metres"},` +
	`{"name":"food-hygiene","expr":"!food || health_certified","message":"a food stall needs its keeper's health certificate"}],` +
	`"official":true,"decide_within_days":5}`

// DemoPaymentKind is the second demo kind: approval of a contract payment,
// decided by the rules alone, which a funds contract can require
// (approval_kind) for payments above a threshold.
const DemoPaymentKind = `{"kind":"contract-payment","version":1,"title":"Contract payment approval",` +
	`"fields":[{"name":"contract_id","type":"string"},{"name":"amount","type":"int"},{"name":"invoice","type":"sha256"},{"name":"works_accepted","type":"bool"}],` +
	`"rules":[{"name":"accepted","expr":"works_accepted","message":"the works must be accepted before they are paid"},` +
	`{"name":"limit","expr":"amount > 0 && amount <= 10000000","message":"payments above 100,000.00 CNY go to the council"}],` +
	`"official":false,"decide_within_days":1}`

const exampleApplicant = "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a"
const examplePlan = "ef2d127de37b942baad06145e54b0c619a1f22327b2ebbcfbec78f5564afe39d"

func examples(bodies ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(bodies))
	for i, b := range bodies {
		out[i] = json.RawMessage(b)
	}
	return out
}

// types are the statement types of the log, for the centre and
// `govlog domains`; their examples are applied by a test, in order.
var types = []rule.TypeInfo{{
	Type: TypeRules, Role: RoleAuthority,
	Summary:  "publish a version of an application kind's rule set (CEL), owned by the first publisher",
	Examples: examples(DemoKind),
}, {
	Type: TypeApply, Role: RoleDesk,
	Summary: "file an application of a kind: its fields (personal data as commitments, documents as SHA-256) and citations",
	Examples: examples(`{"application_id":"stall-0001","kind":"street-stall","fields":{"applicant":"` + exampleApplicant +
		`","area_m2":4,"site_plan":"` + examplePlan + `","food":true}}`),
}, {
	Type: TypeSupplement, Role: RoleDesk,
	Summary:  "add or replace fields of a returned application; it is decided again",
	Examples: examples(`{"application_id":"stall-0001","fields":{"health_certified":true}}`),
}, {
	Type: TypeDecide, Role: RoleEngine, ByLog: true,
	Summary: "written by the log itself right after each filing: the rules' outcome, naming every rule that failed",
}, {
	Type: TypeSign, Role: RoleAuthority, Official: true,
	Summary:  "an official of the owning agency approves or refuses an application whose rules hold",
	Examples: examples(`{"application_id":"stall-0001","decision":"approve","reason":"site inspected"}`),
}}

// Types describes the statement types of the log.
func (*Rules) Types() []rule.TypeInfo { return types }

var _ rule.Seeder = (*Rules)(nil)

// Seed is what `govlog dev` starts the log with: the demo kind, owned by
// the demo agency.
func (*Rules) Seed() []rule.Response {
	return []rule.Response{{Type: TypeRules, Body: json.RawMessage(DemoKind)}, {Type: TypeRules, Body: json.RawMessage(DemoPaymentKind)}}
}
