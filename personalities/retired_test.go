package personalities_test

import (
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/registry"
)

// TestRetiredKey: a key retired at T signs statements admitted before T
// and dated before T, and nothing else: not a statement dated at or after
// T even while the server's clock is before it, not one backdated once
// the clock has passed T, and not one it co-signs with another agency once
// the clock has passed T (a replay would credit the other agency). So a
// replay at the statements' own times (what a
// monitor has) admits exactly what was admitted.
func TestRetiredKey(t *testing.T) {
	t.Parallel()
	retired := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	b := logtest.SQLite(t, logtest.Options{})
	l := b.OpenLog(t, logtest.NewLogKey(t, origin), testMMD)
	current, rotated, other := newSigner(t, cityA), newSigner(t, cityA), newSigner(t, cityB)
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{
		{ID: cityA, Roles: []string{disclosures.RoleDiscloser},
			Keys: []registry.Key{{VKey: current.vkey}, {VKey: rotated.vkey, Retired: retired}}},
		{ID: cityB, Roles: []string{disclosures.RoleDiscloser}, Keys: []registry.Key{{VKey: other.vkey}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := personalities.NewServer(personalities.Options{
		Store: b.Store, Registry: reg, Now: now,
		Personalities: map[string]personalities.Personality{logName: {Domain: disclosures.New(), Log: l}},
	})
	if err != nil {
		t.Fatal(err)
	}
	client, stop := startServer(t, srv)
	defer stop()
	for _, tc := range []struct {
		name     string
		now, at  time.Time
		signers  []note.Signer
		wantCode codes.Code
	}{
		{"before retirement", retired.Add(-2 * time.Minute), retired.Add(-3 * time.Minute), []note.Signer{rotated}, codes.OK},
		{"dated after retirement, clock before", retired.Add(-2 * time.Minute), retired.Add(time.Minute), []note.Signer{rotated}, codes.PermissionDenied},
		{"backdated after retirement", retired.Add(time.Hour), retired.Add(-time.Hour), []note.Signer{rotated}, codes.PermissionDenied},
		{"current key after retirement", retired.Add(time.Hour), retired.Add(time.Hour), []note.Signer{current}, codes.OK},
		// A replay would credit city-a (its signature counts at the
		// statement's time), admission now only city-b: refused.
		{"co-signer retired since", retired.Add(time.Minute), retired.Add(-time.Minute), []note.Signer{rotated, other}, codes.PermissionDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock.Store(tc.now.UnixNano())
			stmt := statementFor(t, origin, disclosures.TypePublish, tc.at, publish("doc-"+tc.at.Format("150405")), tc.signers...)
			_, err := client.Submit(t.Context(), &api.SubmitRequest{Log: logName, Statement: stmt})
			if got := status.Code(err); got != tc.wantCode {
				t.Fatalf("Submit: %v, want %s", err, tc.wantCode)
			}
		})
	}
}
