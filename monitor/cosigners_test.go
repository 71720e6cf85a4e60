package monitor_test

import (
	"crypto/rand"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities/disclosures"
)

// TestDashboardWitnesses checks that the dashboard names the witnesses
// that cosigned the verified checkpoint, with their cosignature times.
func TestDashboardWitnesses(t *testing.T) {
	w := newWorld(t)
	_, logVKey := newSigner(t, testOrigin, 1)
	skey, vkey, err := govlog.GenerateCosignerKey(rand.Reader, "witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	cosignedAt := time.Date(2026, 3, 7, 9, 30, 0, 0, time.UTC)
	cosigner, err := govlog.NewCosigner(skey, func() time.Time { return cosignedAt })
	if err != nil {
		t.Fatal(err)
	}
	_, idleVKey, err := govlog.GenerateCosignerKey(rand.Reader, "witness.example/w2")
	if err != nil {
		t.Fatal(err)
	}
	text, err := govlog.FormatPolicy([]string{logVKey}, []govlog.PolicyWitness{{Name: "w1", VKey: vkey}, {Name: "w2", VKey: idleVKey}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := govlog.ParsePolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	log := newFakeLog(w.logSigner)
	signed := log.append(t, w.statements(t, 3)...)
	n, err := note.Open(signed, note.VerifierList(policy.Logs()...))
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := note.Sign(n, cosigner)
	if err != nil {
		t.Fatal(err)
	}
	log.setCheckpoint(cosigned)

	mon, err := monitor.New(monitor.Options{
		Logs: []monitor.Log{{Name: "disclosures", Origin: testOrigin, Policy: policy, Reader: log,
			Domain: disclosures.New(), Registry: w.registry}},
		Store: openStore(t, monitor.Memory),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := mon.Follow(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mon.Handler())
	defer srv.Close()
	_, page := get(t, srv.URL+"/")
	for _, want := range []string{
		"<tr><td>w1</td><td>yes</td><td>2026-03-07 09:30:00 UTC</td></tr>",
		"<tr><td>w2</td><td>no</td><td></td></tr>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "alert-row") {
		t.Error("alerts on a cosigned honest log")
	}
}
