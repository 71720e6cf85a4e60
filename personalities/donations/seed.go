package donations

import (
	"encoding/json"

	"github.com/govlog/govlog/personalities/rule"
)

var _ rule.Seeder = (*Rules)(nil)

// DemoCampaign is the campaign `govlog dev` opens for the demo agency.
const DemoCampaign = `{"campaign_id":"flood-relief","title":"Flood relief","admin_share_max_percent":5,"hand_on_by":"2099-12-31","feedback_within_days":14}`

// Seed is what `govlog dev` starts the log with: a campaign of the demo
// agency, open for donations.
func (*Rules) Seed() []rule.Response {
	return []rule.Response{{Type: TypeCampaignOpen, Body: json.RawMessage(DemoCampaign)}}
}
