package petitions_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/petitions"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

func with(m map[string]string, k, v string) map[string]string {
	m = maps.Clone(m)
	m[k] = v
	return m
}

func without(m map[string]string, k string) map[string]string {
	m = maps.Clone(m)
	delete(m, k)
	return m
}

func TestApply(t *testing.T) {
	alice, bob := newKey(t, "citizen"), newKey(t, "citizen")
	official := newKey(t, "official")
	o := func(body map[string]string) rule.Entry { return openAt(t, t0, cityA, body) }
	base := openBody("p1")
	closed := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC) // "2027-01-31" has ended
	upperHash := func(k key) key {
		name, rest, _ := strings.Cut(k.vkey, "+")
		hash, key64, _ := strings.Cut(rest, "+")
		k.vkey = name + "+" + strings.ToUpper(hash) + "+" + key64
		return k
	}
	for strings.ToUpper(strings.Split(alice.vkey, "+")[1]) == strings.Split(alice.vkey, "+")[1] {
		alice = newKey(t, "citizen") // a key hash with a letter, for upperHash
	}
	tests := []struct {
		name    string
		entries []rule.Entry // all but the last must be admitted
		wantErr error
		wantMsg string // a substring of the error, if set
	}{
		{name: "open", entries: []rule.Entry{open(t, "p1")}},
		{name: "open closing at an instant", entries: []rule.Entry{o(with(base, "closes", "2026-12-01T09:00:01+00:00"))}},
		{name: "open closing today", entries: []rule.Entry{o(with(base, "closes", "2026-12-01"))}},
		{name: "open closing when it opens", entries: []rule.Entry{o(with(base, "closes", "2026-12-01T17:00:00+08:00"))},
			wantErr: rule.ErrRuleViolation, wantMsg: "petition p1 closes at 2026-12-01T09:00:00Z, not after it opens (2026-12-01T09:00:00Z)"},
		{name: "open closed yesterday", entries: []rule.Entry{o(with(base, "closes", "2026-11-30"))}, wantErr: rule.ErrRuleViolation},
		{name: "open twice", entries: []rule.Entry{open(t, "p1"), openAt(t, t0, cityB, base)},
			wantErr: rule.ErrAlreadyExists, wantMsg: "petition p1"},
		{name: "open with every ID character", entries: []rule.Entry{o(with(base, "petition_id", "Az09._:-"))}},
		{name: "ID of 64", entries: []rule.Entry{o(with(base, "petition_id", strings.Repeat("p", 64)))}},
		{name: "ID of 65", entries: []rule.Entry{o(with(base, "petition_id", strings.Repeat("p", 65)))}, wantErr: rule.ErrInvalidBody},
		{name: "ID with a slash", entries: []rule.Entry{o(with(base, "petition_id", "a/b"))}, wantErr: rule.ErrInvalidBody, wantMsg: `"petition_id"`},
		{name: "empty ID", entries: []rule.Entry{o(with(base, "petition_id", ""))}, wantErr: rule.ErrInvalidBody},
		{name: "title of 256", entries: []rule.Entry{o(with(base, "title", strings.Repeat("請", 256)))}},
		{name: "title of 257", entries: []rule.Entry{o(with(base, "title", strings.Repeat("請", 257)))}, wantErr: rule.ErrInvalidBody},
		{name: "blank title", entries: []rule.Entry{o(with(base, "title", " \u3000"))}, wantErr: rule.ErrInvalidBody, wantMsg: `"title" must not be empty`},
		{name: "title with newline", entries: []rule.Entry{o(with(base, "title", "a\nb"))}, wantErr: rule.ErrInvalidBody, wantMsg: "control character"},
		{name: "closes not a date", entries: []rule.Entry{o(with(base, "closes", "2027-02-30"))}, wantErr: rule.ErrInvalidBody, wantMsg: `"closes"`},
		{name: "closes without zone", entries: []rule.Entry{o(with(base, "closes", "2027-01-31T12:00:00"))}, wantErr: rule.ErrInvalidBody},
		{name: "closes in words", entries: []rule.Entry{o(with(base, "closes", "next month"))}, wantErr: rule.ErrInvalidBody},
		{name: "unknown field", entries: []rule.Entry{o(with(base, "note", "x"))}, wantErr: rule.ErrInvalidBody, wantMsg: `unknown field "note"`},
		{name: "missing field", entries: []rule.Entry{o(without(base, "closes"))}, wantErr: rule.ErrInvalidBody, wantMsg: `missing field "closes"`},
		{name: "duplicate field", entries: []rule.Entry{rawEntry(cityA, "petition.open", `{"closes":"2027-01-31","petition_id":"a","petition_id":"b","title":"t"}`)},
			wantErr: rule.ErrInvalidBody, wantMsg: `duplicate field "petition_id"`},
		{name: "null field", entries: []rule.Entry{rawEntry(cityA, "petition.open", `{"closes":null,"petition_id":"a","title":"t"}`)},
			wantErr: rule.ErrInvalidBody, wantMsg: `"closes" must be a string`},
		{name: "number field", entries: []rule.Entry{rawEntry(cityA, "petition.open", `{"closes":"2027-01-31","petition_id":7,"title":"t"}`)},
			wantErr: rule.ErrInvalidBody},
		{name: "object field", entries: []rule.Entry{rawEntry(cityA, "petition.open", `{"closes":"2027-01-31","petition_id":"a","title":{"en":"t"}}`)},
			wantErr: rule.ErrInvalidBody},
		{name: "body is an array", entries: []rule.Entry{rawEntry(cityA, "petition.open", `[]`)}, wantErr: rule.ErrInvalidBody},
		{name: "body is empty", entries: []rule.Entry{rawEntry(cityA, "petition.open", ``)}, wantErr: rule.ErrInvalidBody},
		{name: "body truncated", entries: []rule.Entry{rawEntry(cityA, "petition.open", `{"closes":"2027-01-31"`)}, wantErr: rule.ErrInvalidBody},
		{name: "missing comma", entries: []rule.Entry{rawEntry(cityA, "petition.open", `{"closes":"2027-01-31" "petition_id":"a","title":"t"}`)},
			wantErr: rule.ErrInvalidBody},
		{name: "data after body", entries: []rule.Entry{rawEntry(cityA, "petition.open", `{"closes":"2027-01-31","petition_id":"a","title":"t"}{}`)},
			wantErr: rule.ErrInvalidBody, wantMsg: "data after the body"},
		{name: "body not UTF-8", entries: []rule.Entry{rawEntry(cityA, "petition.open", "{\"closes\":\"2027-01-31\",\"petition_id\":\"a\",\"title\":\"t\xff\"}")},
			wantErr: rule.ErrInvalidBody},
		{name: "agency not a registry ID", entries: []rule.Entry{openAt(t, t0, "City A", base)}, wantErr: rule.ErrRuleViolation},
		{name: "unknown type", entries: []rule.Entry{rawEntry(cityA, "petition.close", `{}`)}, wantErr: rule.ErrUnknownType},

		{name: "sign", entries: []rule.Entry{open(t, "p1"), sign(t, "p1", alice)}},
		{name: "two citizens sign", entries: []rule.Entry{open(t, "p1"), sign(t, "p1", alice), sign(t, "p1", bob)}},
		{name: "sign two petitions", entries: []rule.Entry{open(t, "p1"), open(t, "p2"), sign(t, "p1", alice), sign(t, "p2", alice)}},
		{name: "sign when it opens", entries: []rule.Entry{open(t, "p1"), signAt(t, t0, "p1", alice)}},
		{name: "sign in its last second", entries: []rule.Entry{open(t, "p1"), signAt(t, closed.Add(-time.Second), "p1", alice)}},
		{name: "sign a missing petition", entries: []rule.Entry{open(t, "p1"), sign(t, "p2", alice)},
			wantErr: rule.ErrRuleViolation, wantMsg: "there is no petition p2"},
		{name: "sign a closed petition", entries: []rule.Entry{open(t, "p1"), signAt(t, closed, "p1", alice)},
			wantErr: rule.ErrRuleViolation, wantMsg: "petition p1 closed at 2027-02-01T00:00:00Z"},
		{name: "sign before it opens", entries: []rule.Entry{open(t, "p1"), signAt(t, t0.Add(-time.Second), "p1", alice)},
			wantErr: rule.ErrRuleViolation, wantMsg: "petition p1 opens at 2026-12-01T09:00:00Z"},
		{name: "sign twice", entries: []rule.Entry{open(t, "p1"), sign(t, "p1", alice), signAt(t, t0.Add(2*time.Hour), "p1", alice)},
			wantErr: rule.ErrAlreadyExists, wantMsg: "has signed petition p1"},
		{name: "sign twice, the second time after it closed", entries: []rule.Entry{open(t, "p1"), sign(t, "p1", alice), signAt(t, closed, "p1", alice)},
			wantErr: rule.ErrAlreadyExists},
		{name: "signed by another key than the body's", entries: []rule.Entry{open(t, "p1"), signAt(t, t0.Add(time.Hour), "p1", alice, bob)},
			wantErr: rule.ErrNotAuthorized, wantMsg: "is signed by citizen+"},
		{name: "an extra signature line", entries: []rule.Entry{open(t, "p1"), signAt(t, t0.Add(time.Hour), "p1", alice, alice, official)},
			wantErr: rule.ErrNotAuthorized, wantMsg: "carries 2 signature lines"},
		{name: "signer key of another name", entries: []rule.Entry{open(t, "p1"), signAt(t, t0.Add(time.Hour), "p1", official)},
			wantErr: rule.ErrInvalidBody, wantMsg: `"signer" must be a key named "citizen"`},
		{name: "signer key spelled another way", entries: []rule.Entry{open(t, "p1"), signAt(t, t0.Add(time.Hour), "p1", upperHash(alice), alice)},
			wantErr: rule.ErrInvalidBody, wantMsg: `(in "signer")`},
		{name: "signer not a key", entries: []rule.Entry{open(t, "p1"), statement(t, "", "petition.sign", t0, map[string]string{"petition_id": "p1", "signer": "alice"}, alice)},
			wantErr: rule.ErrInvalidBody},
		{name: "sign body with an extra field", entries: []rule.Entry{open(t, "p1"),
			statement(t, "", "petition.sign", t0, with(signBody("p1", alice), "name", "Alice"), alice)},
			wantErr: rule.ErrInvalidBody, wantMsg: `unknown field "name"`},
	}
	r := petitions.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ruletest.CheckEntries(t, r, ruletest.State{}, tt.entries, tt.wantErr, tt.wantMsg)
		})
	}
}

// TestApplyNeedsAuthentication: Apply itself refuses a petition.sign that
// did not go through Authenticate (rule.Admit), or was authenticated as
// another signer.
func TestApplyNeedsAuthentication(t *testing.T) {
	ctx := context.Background()
	alice := newKey(t, "citizen")
	r := petitions.New()
	st := ruletest.State{}
	ruletest.Apply(t, r, st, open(t, "p1"))
	e := sign(t, "p1", alice)
	for _, signer := range []string{"", "citizen+00000000"} {
		e.Signer = signer
		if err := r.Apply(ctx, ruletest.NewOverlay(st), e); !errors.Is(err, rule.ErrNotAuthorized) {
			t.Errorf("Apply with signer %q = %v, want ErrNotAuthorized", signer, err)
		}
	}
	if _, err := r.Authenticate(ctx, st, open(t, "p2")); !errors.Is(err, rule.ErrUnknownType) {
		t.Errorf("Authenticate(petition.open) = %v, want ErrUnknownType", err)
	}
}

// TestRecords follows the count and the signature records.
func TestRecords(t *testing.T) {
	ctx := context.Background()
	keys := []key{newKey(t, "citizen"), newKey(t, "citizen"), newKey(t, "citizen")}
	r := petitions.New()
	st := ruletest.State{}
	entries := []rule.Entry{open(t, "p1"), open(t, "p2")}
	for i, k := range keys {
		entries = append(entries, signAt(t, t0.Add(time.Duration(i)*time.Minute), "p1", k))
	}
	admitted := ruletest.Apply(t, r, st, entries...)
	rec, ok, err := petitions.Petition(ctx, st, "p1")
	want := petitions.Record{Agency: cityA, Title: "Petition p1", Closes: "2027-01-31", Opened: "2026-12-01T09:00:00Z",
		LeafHash: fmt.Sprintf("%x", entries[0].LeafHash), Signatures: 3}
	if err != nil || !ok || rec != want {
		t.Errorf("Petition(p1) = %+v, %v, %v; want %+v", rec, ok, err, want)
	}
	for i, e := range admitted[2:] {
		n := int64(i + 1)
		s, ok, err := petitions.Signature(ctx, st, "p1", n)
		want := petitions.SignatureRecord{N: n, Signer: e.Signer, Time: e.Time.Format(time.RFC3339), LeafHash: fmt.Sprintf("%x", e.LeafHash)}
		if err != nil || !ok || s != want || !strings.HasPrefix(e.Signer, "citizen+") {
			t.Errorf("Signature(p1, %d) = %+v, %v, %v; want %+v", n, s, ok, err, want)
		}
	}
	if rec, _, _ := petitions.Petition(ctx, st, "p2"); rec.Signatures != 0 {
		t.Errorf("p2 has %d signatures", rec.Signatures)
	}
	for _, id := range []string{"p3", "p1/x", ""} {
		if _, ok, err := petitions.Petition(ctx, st, id); ok || err != nil {
			t.Errorf("Petition(%q) = %v, %v", id, ok, err)
		}
	}
	if _, ok, err := petitions.Signature(ctx, st, "p1", 4); ok || err != nil {
		t.Errorf("Signature(p1, 4) = %v, %v", ok, err)
	}
}

// TestReplay checks what monitors rely on: replaying the log of the entries
// admitted, signatures verified again, gives the state admission built.
func TestReplay(t *testing.T) {
	ctx := context.Background()
	r := petitions.New()
	keys := []key{newKey(t, "citizen"), newKey(t, "citizen"), newKey(t, "citizen")}
	var submitted []rule.Entry
	for i := range 30 {
		id := fmt.Sprintf("p%d", i%4)
		at := t0.Add(time.Duration(i) * 24 * time.Hour) // some after the petitions close
		if i%5 == 0 {
			submitted = append(submitted, openAt(t, at, cityA, openBody(id)))
		}
		submitted = append(submitted, signAt(t, at, id, keys[i%len(keys)]))
	}
	st := ruletest.State{}
	var log []rule.Entry
	for _, e := range submitted {
		if e, err := ruletest.Admit(ctx, r, st, e, nil); err == nil {
			log = append(log, e)
		} else if !rule.IsRefusal(err) {
			t.Fatal(err)
		}
	}
	if len(log) < 10 || len(log) == len(submitted) {
		t.Fatalf("%d of %d entries admitted: the test exercises too little", len(log), len(submitted))
	}
	ruletest.ReplayEqualsState(t, r, log, st)
}

func TestStorageFailure(t *testing.T) {
	r := petitions.New()
	setup := ruletest.State{}
	ruletest.Apply(t, r, setup, open(t, "p1"))
	for _, e := range []rule.Entry{open(t, "p2"), sign(t, "p1", newKey(t, "citizen"))} {
		ruletest.CheckStorageFailures(t, r, setup, e)
	}
}

func TestCorruptState(t *testing.T) {
	alice := newKey(t, "citizen")
	tests := []struct {
		name    string
		corrupt func(ruletest.State)
		e       rule.Entry
	}{
		{"record not JSON", func(m ruletest.State) { m["petition/p1"] = []byte("{") }, sign(t, "p1", alice)},
		{"record not JSON, reopened", func(m ruletest.State) { m["petition/p1"] = []byte("[]") }, open(t, "p1")},
		{"bad opening time", func(m ruletest.State) { m["petition/p1"] = []byte(`{"opened":"soon","closes":"2027-01-31"}`) }, sign(t, "p1", alice)},
		{"bad closing time", func(m ruletest.State) {
			m["petition/p1"] = []byte(`{"opened":"2026-12-01T09:00:00Z","closes":"never"}`)
		}, sign(t, "p1", alice)},
	}
	r := petitions.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ruletest.State{}
			ruletest.Apply(t, r, st, open(t, "p1"))
			tt.corrupt(st)
			if _, err := ruletest.Admit(context.Background(), r, st, tt.e, nil); err == nil || rule.IsRefusal(err) {
				t.Errorf("Admit = %v, want a state error wrapping no rule sentinel", err)
			}
		})
	}
}

func TestRequiredRole(t *testing.T) {
	r := petitions.New()
	if got := r.Log(); got != "petitions" {
		t.Errorf("Log() = %q", got)
	}
	for typ, want := range map[string]string{"petition.open": "petition-office", "petition.sign": rule.SelfSigned} {
		if role, err := r.RequiredRole(typ); err != nil || role != want {
			t.Errorf("RequiredRole(%s) = %q, %v; want %q", typ, role, err, want)
		}
	}
	for _, typ := range []string{"", "petition", "petition.Open", "disclosure.publish"} {
		if _, err := r.RequiredRole(typ); !errors.Is(err, rule.ErrUnknownType) {
			t.Errorf("RequiredRole(%q) = %v, want ErrUnknownType", typ, err)
		}
	}
}

// TestExamples applies the examples of types.go, the citizen's signed with
// the example key.
func TestExamples(t *testing.T) {
	citizen := signerOf(t, exampleCitizenKey)
	ruletest.CheckSignedExamples(t, petitions.New(), func(e rule.Entry) (rule.Entry, error) {
		signed := statement(t, "", e.Type, e.Time, e.Body, citizen)
		return signed, nil
	})
}

func TestWatchKinds(t *testing.T) {
	kinds := petitions.New().WatchKinds()
	if len(kinds) != 1 || kinds[0].Name != "petition" || len(kinds[0].Fields) != 1 || kinds[0].Fields[0] != "petition_id" || kinds[0].Doc == "" {
		t.Errorf("WatchKinds() = %+v", kinds)
	}
}
