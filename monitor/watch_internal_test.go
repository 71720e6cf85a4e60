package monitor

import (
	"encoding/json"
	"testing"
)

func TestWatchMatches(t *testing.T) {
	transfer := `{"amount":5,"contract_id":"c-1","from":"acct-a","payments":[{"to":"acct-b"}],"title":"acct-z"}`
	publish := `{"doc_id":"d-1","title":"c-1"}`
	// The kinds of the disclosures and funds domains.
	kinds := map[string][]string{
		"document": {"doc_id", "corrects", "retracts"},
		"contract": {"contract_id"},
		"account":  {"account_id", "account", "from", "to", "payer", "payee", "escrow"},
	}
	about := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		watch  Watch
		agency string
		body   string
		want   bool
	}{
		{"agency", Watch{Agency: "a"}, "a", publish, true},
		{"other agency", Watch{Agency: "a"}, "b", publish, false},
		{"document", Watch{About: about("document", "d-1")}, "a", publish, true},
		{"document in another field", Watch{About: about("contract", "c-1")}, "a", publish, false},
		{"contract", Watch{About: about("contract", "c-1")}, "a", transfer, true},
		{"account from", Watch{About: about("account", "acct-a")}, "a", transfer, true},
		{"account nested", Watch{About: about("account", "acct-b")}, "a", transfer, true},
		{"account in title", Watch{About: about("account", "acct-z")}, "a", transfer, false},
		{"all set, all hold", Watch{Agency: "a", About: about("contract", "c-1", "account", "acct-a")}, "a", transfer, true},
		{"all set, one fails", Watch{Agency: "b", About: about("contract", "c-1")}, "a", transfer, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := func() any {
				var v any
				if err := json.Unmarshal([]byte(tc.body), &v); err != nil {
					t.Fatal(err)
				}
				return v
			}
			if got := tc.watch.matches(tc.agency, kinds, body); got != tc.want {
				t.Errorf("matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWatchAppliesTo(t *testing.T) {
	l := &Log{Origin: "gov.example/funds"}
	kinds := map[string][]string{"account": {"from"}}
	for _, tc := range []struct {
		name  string
		watch Watch
		want  bool
	}{
		{"any log", Watch{Agency: "a"}, true},
		{"this log", Watch{Log: "gov.example/funds", Agency: "a"}, true},
		{"other log", Watch{Log: "other", Agency: "a"}, false},
		{"a kind of this log", Watch{About: map[string]string{"account": "x"}}, true},
		{"a kind of another log", Watch{About: map[string]string{"document": "x"}}, false},
	} {
		if got := tc.watch.appliesTo(l, kinds); got != tc.want {
			t.Errorf("%s: appliesTo = %v, want %v", tc.name, got, tc.want)
		}
	}
}
