package registry_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSummary: the dashboard lists each agency with what it holds now (a
// key retiring in an hour still counts), and every key retired or revoked.
func TestSummary(t *testing.T) {
	l := newRegLog(t)
	k1, k2, k3 := genKey(t, "city-a"), genKey(t, "city-a"), genKey(t, "city-b")
	l.register("city-a")
	l.addKey("city-a", k1)
	l.addKey("city-a", k2)
	l.grant("city-a", "discloser")
	l.grant("city-a", "payroll")
	l.register("city-b")
	l.addKey("city-b", k3)
	at := time.Now().UTC().Add(time.Hour).Truncate(time.Second).Format(time.RFC3339)
	l.must("key.retire", fmt.Sprintf(`{"at":%q,"key":%q}`, at, k1.id))
	l.must("key.revoke", fmt.Sprintf(`{"key":%q}`, k3.id))
	l.must("role.withdraw", `{"agency":"city-a","role":"payroll"}`)

	tables, err := l.d.Summary(t.Context(), l.st, func(id string) string { return id })
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 2 {
		t.Fatalf("%d tables, want 2", len(tables))
	}
	rows := func(i int) string {
		var b strings.Builder
		for _, r := range tables[i].Rows {
			b.WriteString(strings.Join(r, "|") + "\n")
		}
		return b.String()
	}
	if got, want := rows(0), "city-a|The city-a|discloser|2|0\ncity-b|The city-b||0|0\n"; got != want {
		t.Errorf("agencies:\n%s\nwant:\n%s", got, want)
	}
	if got := rows(1); !strings.Contains(got, k1.id+"|city-a|retired|"+at+"|") || !strings.Contains(got, k3.id+"|city-b|revoked|always|") {
		t.Errorf("keys retired or revoked:\n%s", got)
	}
}
