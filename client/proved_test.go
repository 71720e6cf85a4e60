package client_test

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
)

func TestProvedEntries(t *testing.T) {
	skey, _, err := note.GenerateKey(nil, "city-b")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	st, err := govlog.NewStatement(testOrigin, "funds.transfer", at, []byte(`{"amount":5}`))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := st.Sign(signer)
	if err != nil {
		t.Fatal(err)
	}
	vb := &govlog.VerifiedBundle{Checkpoint: govlog.Checkpoint{Origin: testOrigin}, Index: 7, Entry: leaf}
	got, err := client.ProvedEntries([]*govlog.VerifiedBundle{vb})
	if err != nil {
		t.Fatal(err)
	}
	e := got[0]
	if e.LeafHash != govlog.LeafHash(leaf) || e.Index != 7 || e.Type != "funds.transfer" || !e.Time.Equal(at) ||
		string(e.Body) != `{"amount":5}` || len(e.Signers) != 1 || e.Signers[0] != "city-b" {
		t.Errorf("ProvedEntries = %+v", e)
	}

	for _, tc := range []struct {
		name string
		vb   *govlog.VerifiedBundle
		want string
	}{
		{"not a statement", &govlog.VerifiedBundle{Checkpoint: govlog.Checkpoint{Origin: testOrigin}, Entry: []byte("hello\n")}, "is not a statement of " + testOrigin},
		{"another log's", &govlog.VerifiedBundle{Checkpoint: govlog.Checkpoint{Origin: "gov.example/other"}, Entry: leaf}, "is not a statement of gov.example/other"},
	} {
		if _, err := client.ProvedEntries([]*govlog.VerifiedBundle{vb, tc.vb}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}
