package monitor

import (
	"encoding/json"
	"testing"
)

func TestWatchMatches(t *testing.T) {
	transfer := `{"amount":5,"contract_id":"c-1","from":"acct-a","payments":[{"to":"acct-b"}],"title":"acct-z"}`
	publish := `{"doc_id":"d-1","title":"c-1"}`
	for _, tc := range []struct {
		name   string
		watch  Watch
		agency string
		body   string
		want   bool
	}{
		{"agency", Watch{Agency: "a"}, "a", publish, true},
		{"other agency", Watch{Agency: "a"}, "b", publish, false},
		{"document", Watch{Document: "d-1"}, "a", publish, true},
		{"document in another field", Watch{Contract: "c-1"}, "a", publish, false},
		{"contract", Watch{Contract: "c-1"}, "a", transfer, true},
		{"account from", Watch{Account: "acct-a"}, "a", transfer, true},
		{"account nested", Watch{Account: "acct-b"}, "a", transfer, true},
		{"account in title", Watch{Account: "acct-z"}, "a", transfer, false},
		{"all set, all hold", Watch{Agency: "a", Contract: "c-1", Account: "acct-a"}, "a", transfer, true},
		{"all set, one fails", Watch{Agency: "b", Contract: "c-1"}, "a", transfer, false},
		{"other log", Watch{Log: "other", Agency: "a"}, "a", publish, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := func() any {
				var v any
				if err := json.Unmarshal([]byte(tc.body), &v); err != nil {
					t.Fatal(err)
				}
				return v
			}
			if got := tc.watch.matches("log", tc.agency, body); got != tc.want {
				t.Errorf("matches = %v, want %v", got, tc.want)
			}
		})
	}
}
