package personalities_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/approvals"
	"github.com/govlog/govlog/personalities/registry"
)

// TestTwoOfficialsAtOnce: two officials of the owning agency decide the same
// application at the same moment, one approving, one refusing: exactly one
// decision is admitted, the other is FAILED_PRECONDITION.
func TestTwoOfficialsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const origin = "gov.example/approvals"
	be := logtest.SQLite(t, logtest.Options{})
	l := be.OpenLog(t, logtest.NewLogKey(t, origin), time.Hour)
	agency, engine := newSigner(t, "market-office"), newSigner(t, "approvals-rules")
	officials := []key{newSigner(t, "staff-1"), newSigner(t, "staff-2")}
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{{
		ID: "market-office", Roles: []string{approvals.RoleAuthority, approvals.RoleDesk}, Keys: []registry.Key{{VKey: agency.vkey}},
		Officials: []registry.Official{{Staff: "staff-1", Keys: []registry.Key{{VKey: officials[0].vkey}}},
			{Staff: "staff-2", Keys: []registry.Key{{VKey: officials[1].vkey}}}},
	}, {
		ID: "approvals-rules", Roles: []string{approvals.RoleEngine}, Keys: []registry.Key{{VKey: engine.vkey}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := personalities.NewServer(personalities.Options{Store: be.Store, Registry: reg,
		Personalities: map[string]personalities.Personality{approvals.LogName: {Domain: approvals.New(), Log: l, RuleKey: engine}}})
	if err != nil {
		t.Fatal(err)
	}
	client, stop := startServer(t, srv)
	defer stop()
	submit := func(typ string, body any, signers ...key) error {
		var s []note.Signer
		for _, k := range signers {
			s = append(s, k.Signer)
		}
		_, err := client.Submit(ctx, &api.SubmitRequest{Log: approvals.LogName, Statement: statementFor(t, origin, typ, time.Now(), body, s...)})
		return err
	}
	if err := submit(approvals.TypeRules, json.RawMessage(approvals.DemoKind), agency); err != nil {
		t.Fatal(err)
	}
	if err := submit(approvals.TypeApply, map[string]any{"application_id": "s-1", "kind": "street-stall", "fields": map[string]any{
		"applicant": "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a", "area_m2": 4,
		"site_plan": "ef2d127de37b942baad06145e54b0c619a1f22327b2ebbcfbec78f5564afe39d", "food": false, "health_certified": false}}, agency); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		id := "s-1"
		if round > 0 { // more rounds, more chances to land in one batch
			id = "s-" + string(rune('1'+round))
			if err := submit(approvals.TypeApply, map[string]any{"application_id": id, "kind": "street-stall", "fields": map[string]any{
				"applicant": "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a", "area_m2": 4,
				"site_plan": "ef2d127de37b942baad06145e54b0c619a1f22327b2ebbcfbec78f5564afe39d", "food": false, "health_certified": false}}, agency); err != nil {
				t.Fatal(err)
			}
		}
		var got [2]codes.Code
		var wg sync.WaitGroup
		for i, decision := range []string{approvals.Approve, approvals.Refuse} {
			wg.Go(func() {
				err := submit(approvals.TypeSign, map[string]any{"application_id": id, "decision": decision, "reason": "checked by " + officials[i].Name()},
					agency, officials[i])
				got[i] = status.Code(err)
				if got[i] != codes.OK {
					t.Logf("%s %s: %v", id, decision, err)
				}
			})
		}
		wg.Wait()
		ok, lost := 0, 0
		for _, c := range got {
			switch c {
			case codes.OK:
				ok++
			case codes.FailedPrecondition:
				lost++
			}
		}
		if ok != 1 || lost != 1 {
			t.Errorf("%s: the two decisions got %v, want one OK and one FailedPrecondition", id, got)
		}
	}
	// Anyone else's decision: PERMISSION_DENIED.
	other := newSigner(t, "someone")
	if err := submit(approvals.TypeSign, map[string]any{"application_id": "s-1", "decision": approvals.Approve}, other); status.Code(err) != codes.Unauthenticated && status.Code(err) != codes.PermissionDenied {
		t.Errorf("an unregistered key's decision: %v", err)
	}
	if err := submit(approvals.TypeSign, map[string]any{"application_id": "s-1", "decision": approvals.Approve}, agency); status.Code(err) != codes.PermissionDenied {
		t.Errorf("the agency alone: %v, want PermissionDenied", err)
	}
}
