package body_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
)

func TestParse(t *testing.T) {
	required, optional := []string{"id", "amount"}, []string{"note", "items"}
	for _, tc := range []struct {
		name, data string
		wantErr    string // "" for none
	}{
		{"ok", `{"id":"a-1","amount":5}`, ""},
		{"optional", `{"id":"a-1","amount":5,"note":"x","items":[{"k":"v"}]}`, ""},
		{"not UTF-8", "{\"id\":\"\xff\",\"amount\":5}", "not valid UTF-8"},
		{"not JSON", `{"id":`, "unexpected end of body"},
		{"array", `[1]`, "not a JSON object"},
		{"string", `"x"`, "not a JSON object"},
		{"data after", `{"id":"a","amount":1} {}`, "after the body"},
		{"unknown", `{"id":"a","amount":1,"Amount":2}`, `unknown field "Amount"`},
		{"duplicate", `{"id":"a","amount":1,"amount":2}`, `duplicate field "amount"`},
		{"missing", `{"id":"a"}`, `missing field "amount"`},
		{"too deep", `{"id":"a","amount":1,"items":[[[[[{}]]]]]}`, "nested"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := body.Parse([]byte(tc.data), required, optional)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Parse = %v, want an error saying %q", err, tc.wantErr)
			case err != nil && !errors.Is(err, rule.ErrInvalidBody):
				t.Fatalf("Parse = %v, not ErrInvalidBody", err)
			}
		})
	}
}

func TestObjectReaders(t *testing.T) {
	o, err := body.Parse([]byte(`{"id":"a-1","doc":"2026/x.pdf","agency":"mof","text":"Budget","sha":"`+strings.Repeat("ab", 32)+
		`","date":"2026-02-28","period":"2026-02","amount":9007199254740992,"rows":[{"k":"v"},"s"]}`),
		[]string{"id", "doc", "agency", "text", "sha", "date", "period", "amount", "rows"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	_, err = o.ID("id", body.ID)
	check("ID", err)
	_, err = o.ID("doc", body.IDSyntax{Noun: "a document ID", MaxLen: 128, Slash: true})
	check("ID with slash", err)
	_, err = o.AgencyID("agency")
	check("AgencyID", err)
	_, err = o.Text("text", 10)
	check("Text", err)
	_, err = o.SHA256("sha")
	check("SHA256", err)
	_, err = o.Date("date")
	check("Date", err)
	_, err = o.Period("period")
	check("Period", err)
	n, err := o.Amount("amount", 1)
	check("Amount", err)
	if n != body.MaxAmount {
		t.Errorf("Amount = %d, want 2^53", n)
	}
	rows, err := o.Array("rows", 1, 2)
	check("Array", err)
	if _, err := rows.Object(0, []string{"k"}, nil); err != nil {
		t.Errorf("Array.Object: %v", err)
	}
	if _, err := rows.Object(1, []string{"k"}, nil); err == nil || !strings.Contains(err.Error(), "rows[1]") {
		t.Errorf("Array.Object of a string = %v, want an error naming rows[1]", err)
	}
	// Wrong kinds and values, each naming its field.
	for _, tc := range []struct {
		what string
		err  error
		want string
	}{
		{"ID with slash", second(o.ID("doc", body.ID)), `"doc"`},
		{"text too long", second(o.Text("text", 3)), "more than 3"},
		{"amount below minimum", second(o.Amount("amount", body.MaxAmount+1)), "at least"},
		{"string as amount", second(o.Amount("id", 1)), "must be a number"},
		{"number as string", second(o.Str("amount")), "must be a string"},
		{"sha as date", second(o.Date("sha")), "YYYY-MM-DD"},
		{"date as period", second(o.Period("date")), `"date"`},
		{"missing member", second(o.Str("nope")), "nope"},
		{"array too long", second(o.Array("rows", 0, 1)), "0 to 1"},
	} {
		if tc.err == nil || !errors.Is(tc.err, rule.ErrInvalidBody) || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalidBody saying %s", tc.what, tc.err, tc.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestAmounts(t *testing.T) {
	for _, tc := range []struct {
		amount string
		ok     bool
	}{
		{"1", true}, {"9007199254740992", true}, {"9007199254740993", false}, {"0", false},
		{"-1", false}, {"1.0", false}, {"1e3", false}, {"99999999999999999999", false},
	} {
		o, err := body.Parse([]byte(`{"a":`+tc.amount+`}`), []string{"a"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Amount("a", 1); (err == nil) != tc.ok {
			t.Errorf("Amount(%s) = %v, want ok=%v", tc.amount, err, tc.ok)
		}
	}
}

func TestFields(t *testing.T) {
	for _, tc := range []struct {
		name  string
		valid func(string) bool
		ok    []string
		bad   []string
	}{
		{"ID", body.ID.Valid, []string{"a", "A.b_c:d-9", strings.Repeat("x", 64)}, []string{"", "a/b", "a b", strings.Repeat("x", 65), "é"}},
		{"agency", body.ValidAgencyID, []string{"mof", "city-b", "0", strings.Repeat("a", 64)}, []string{"", "-a", "Mof", "a_b", "a/b", strings.Repeat("a", 65)}},
		{"SHA-256", body.ValidSHA256, []string{strings.Repeat("0f", 32)}, []string{strings.Repeat("0F", 32), strings.Repeat("0", 63), strings.Repeat("g", 64)}},
		{"date", body.ValidDate, []string{"2024-02-29", "2026-12-31"}, []string{"2026-02-29", "2026-1-01", "2026-01-01T00:00:00Z", ""}},
		{"period", body.ValidPeriod, []string{"2026-01"}, []string{"2026-13", "2026-1", "2026-01-01"}},
	} {
		for _, s := range tc.ok {
			if !tc.valid(s) {
				t.Errorf("%s: %q refused", tc.name, s)
			}
		}
		for _, s := range tc.bad {
			if tc.valid(s) {
				t.Errorf("%s: %q accepted", tc.name, s)
			}
		}
	}
	for _, s := range []string{"", " \t", "a\nb", strings.Repeat("字", 11),
		"Budget \u202egpj.exe", "a\u202ab", "a\u2066b\u2069", "\u2067x"} {
		if err := body.CheckText("f", s, 10); !errors.Is(err, rule.ErrInvalidBody) {
			t.Errorf("CheckText(%q) = %v", s, err)
		}
	}
	if err := body.CheckText("f", "مرحبا budget", 20); err != nil {
		t.Errorf("CheckText refuses right-to-left text itself: %v", err)
	}
	if err := body.CheckText("f", strings.Repeat("字", 10), 10); err != nil {
		t.Errorf("CheckText counts bytes, not code points: %v", err)
	}
}

// FuzzAgencyID: the agency check agrees with its published pattern, which
// the registry compiles.
func FuzzAgencyID(f *testing.F) {
	for _, s := range []string{"mof", "-a", "a-", strings.Repeat("a", 64), strings.Repeat("a", 65), "A"} {
		f.Add(s)
	}
	re := regexp.MustCompile("^" + body.AgencyIDPattern + "$")
	f.Fuzz(func(t *testing.T, s string) {
		if body.ValidAgencyID(s) != re.MatchString(s) {
			t.Errorf("%q: ValidAgencyID %v, pattern %v", s, body.ValidAgencyID(s), re.MatchString(s))
		}
	})
}

// FuzzParse: whatever the bytes, Parse does not panic; what it accepts is
// valid UTF-8 JSON that encoding/json reads as an object with the same
// member names, and every refusal is ErrInvalidBody.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a":"x"}`, `{"a":1,"b":[{"c":null}]}`, `{"a":1,"a":2}`, `[]`, `{"a":"\u00e9"}`, "{\"a\":\"\xff\"}", `{"A":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := body.Parse(data, []string{"a"}, []string{"b", "c"})
		if err != nil {
			if !errors.Is(err, rule.ErrInvalidBody) {
				t.Fatalf("Parse = %v, not ErrInvalidBody", err)
			}
			return
		}
		if !utf8.Valid(data) {
			t.Fatalf("Parse accepted invalid UTF-8 %q", data)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("Parse accepted %q, which encoding/json refuses: %v", data, err)
		}
		if _, ok := m["a"]; !ok || !o.Has("a") {
			t.Fatalf("Parse accepted %q without its required member", data)
		}
	})
}
