package donations

import (
	"encoding/json"

	"github.com/govlog/govlog/personalities/rule"
)

// Example commitments and the example code: the donor's, a final
// recipient's, and the code the recipient chose (its hash is in the
// hand-over; the feedback example reveals it).
const (
	exampleDonor     = "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a"
	exampleRecipient = "ef2d127de37b942baad06145e54b0c619a1f22327b2ebbcfbec78f5564afe39d"
	exampleCode      = "plum-river-4821-otter"
	// exampleCodeHash is CodeHash(exampleCode); a test checks it.
	exampleCodeHash = "c93bea1cf19f4602673c14d107533b67d1ba009ffd207809593d635b65beef26"
	// exampleRecipientKey signs the feedback example; its signer key is
	// in the tests.
	exampleRecipientKey = "recipient+a4a2b774+AQDb5kfT59AKP9EHVJORHndl3pmb3DRwqzb3soduncCe"
)

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
	Type: TypeCampaignOpen, Role: RoleCharity,
	Summary:  "open a campaign: the most of its money that may go to administration, and the date by which it must be handed on",
	Examples: examples(`{"campaign_id":"flood-2027","title":"Flood relief, Qiannan 2027","admin_share_max_percent":5,"hand_on_by":"2099-12-31","feedback_within_days":14}`),
}, {
	Type: TypeReceive, Role: RoleCharity,
	Summary: "record a donation of money or goods to a campaign; the donor is a salted commitment, or absent",
	Examples: examples(
		`{"donation_id":"d-1","campaign_id":"flood-2027","kind":"money","currency":"CNY","amount":100000,"donor":"`+exampleDonor+`"}`,
		`{"donation_id":"d-2","campaign_id":"flood-2027","kind":"goods","item":"rice","unit":"kg","amount":500}`),
}, {
	Type: TypeHandover, Role: RoleCharity,
	Summary: "hand money or goods on, citing the donations drawn on: to another agency, a final recipient, or administration",
	Examples: examples(
		`{"handover_id":"h-1","campaign_id":"flood-2027","kind":"money","currency":"CNY","draws":[{"donation_id":"d-1","amount":30000}],"to_recipient":"`+exampleRecipient+`","code_hash":"`+exampleCodeHash+`"}`,
		`{"handover_id":"h-2","campaign_id":"flood-2027","kind":"goods","item":"rice","unit":"kg","draws":[{"donation_id":"d-2","amount":200}],"to_agency":"partner-charity"}`,
		`{"handover_id":"h-3","campaign_id":"flood-2027","kind":"money","currency":"CNY","draws":[{"donation_id":"d-1","amount":5000}],"administration":true}`),
}, {
	Type: TypeAccept, Role: RoleCharity, ExampleAgency: "partner-charity",
	Summary:  "an agency accepts what another handed it, which then counts as its own",
	Examples: examples(`{"handover_id":"h-2"}`),
}, {
	Type: TypeFeedback, Role: rule.SelfSigned,
	Summary:  "a final recipient confirms what they received (or reports a shortfall) with the code only they know",
	Examples: examples(`{"handover_id":"h-1","code":"` + exampleCode + `","received":"in-full","signer":"` + exampleRecipientKey + `"}`),
}}

// Types describes the statement types of the log.
func (*Rules) Types() []rule.TypeInfo { return types }
