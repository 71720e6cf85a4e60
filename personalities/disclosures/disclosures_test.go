package disclosures_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

var sentinels = []error{rule.ErrUnknownType, rule.ErrInvalidBody, rule.ErrRuleViolation, rule.ErrAlreadyExists}

func wrapsSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

const (
	cityA = "city-a"
	cityB = "city-b"
)

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func publishFields(docID string) map[string]any {
	return map[string]any{
		"doc_id":        docID,
		"title":         "Budget " + docID,
		"sha256":        hashOf(docID),
		"category":      "budget",
		"decision_date": "2026-01-15",
	}
}

func correctFields(corrects, docID string) map[string]any {
	m := publishFields(docID)
	m["corrects"] = corrects
	m["reason"] = "wrong total in table 3"
	return m
}

func retractFields(docID string) map[string]any {
	return map[string]any{"retracts": docID, "reason": "published by mistake"}
}

// deleteField, as a value in with, removes the field.
var deleteField = &struct{}{}

func with(m map[string]any, key string, v any) map[string]any {
	m = maps.Clone(m)
	if v == deleteField {
		delete(m, key)
	} else {
		m[key] = v
	}
	return m
}

func rawEntry(agency, typ, body string) rule.Entry {
	return rule.Entry{
		Type:     typ,
		Time:     time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC),
		Body:     json.RawMessage(body),
		Agency:   agency,
		LeafHash: sha256.Sum256([]byte(agency + "\n" + typ + "\n" + body)),
	}
}

func entry(agency, typ string, fields map[string]any) rule.Entry {
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err)
	}
	return rawEntry(agency, typ, string(b))
}

func pub(agency, docID string) rule.Entry {
	return entry(agency, disclosures.TypePublish, publishFields(docID))
}

func cor(agency, corrects, docID string) rule.Entry {
	return entry(agency, disclosures.TypeCorrect, correctFields(corrects, docID))
}

func ret(agency, docID string) rule.Entry {
	return entry(agency, disclosures.TypeRetract, retractFields(docID))
}

func TestApply(t *testing.T) {
	p := func(f map[string]any) rule.Entry { return entry(cityA, disclosures.TypePublish, f) }
	base := publishFields("2026-001")
	tests := []struct {
		name    string
		entries []rule.Entry // all but the last must be admitted
		wantErr error
		wantMsg string // a substring of the error, if set
	}{
		{name: "publish", entries: []rule.Entry{pub(cityA, "2026-001")}},
		{name: "publish doc_id with every allowed character", entries: []rule.Entry{pub(cityA, "urn:x/2026/A-1_b.pdf")}},
		{name: "duplicate doc_id", entries: []rule.Entry{pub(cityA, "2026-001"), pub(cityA, "2026-001")},
			wantErr: rule.ErrAlreadyExists, wantMsg: "document 2026-001 of agency city-a"},
		{name: "same doc_id in two agencies", entries: []rule.Entry{pub(cityA, "2026-001"), pub(cityB, "2026-001")}},
		{name: "republish a retracted doc_id", entries: []rule.Entry{pub(cityA, "d1"), ret(cityA, "d1"), pub(cityA, "d1")},
			wantErr: rule.ErrAlreadyExists},

		{name: "correct", entries: []rule.Entry{pub(cityA, "d1"), cor(cityA, "d1", "d2")}},
		{name: "correct the latest correction", entries: []rule.Entry{pub(cityA, "d1"), cor(cityA, "d1", "d2"), cor(cityA, "d2", "d3")}},
		{name: "correct nonexistent", entries: []rule.Entry{cor(cityA, "2026-001", "2026-002")},
			wantErr: rule.ErrRuleViolation, wantMsg: "document 2026-001 of agency city-a does not exist"},
		{name: "correct another agency's doc", entries: []rule.Entry{pub(cityB, "d1"), cor(cityA, "d1", "d2")},
			wantErr: rule.ErrRuleViolation, wantMsg: "document d1 of agency city-a does not exist"},
		{name: "correct retracted", entries: []rule.Entry{pub(cityA, "d1"), ret(cityA, "d1"), cor(cityA, "d1", "d2")},
			wantErr: rule.ErrRuleViolation, wantMsg: "retracted"},
		{name: "correct superseded version", entries: []rule.Entry{pub(cityA, "d1"), cor(cityA, "d1", "d2"), cor(cityA, "d2", "d3"), cor(cityA, "d1", "d4")},
			wantErr: rule.ErrRuleViolation, wantMsg: "superseded by d2; only its latest version, d3, can be corrected"},
		{name: "correct superseded version whose latest is retracted", entries: []rule.Entry{pub(cityA, "d1"), cor(cityA, "d1", "d2"), ret(cityA, "d2"), cor(cityA, "d1", "d3")},
			wantErr: rule.ErrRuleViolation, wantMsg: "its latest version, d2, was retracted"},
		{name: "correct into a used doc_id", entries: []rule.Entry{pub(cityA, "d1"), pub(cityA, "d2"), cor(cityA, "d1", "d2")},
			wantErr: rule.ErrAlreadyExists},
		{name: "correct into itself", entries: []rule.Entry{pub(cityA, "d1"), cor(cityA, "d1", "d1")},
			wantErr: rule.ErrAlreadyExists},
		{name: "resubmitted correction", entries: []rule.Entry{pub(cityA, "d1"), cor(cityA, "d1", "d2"), cor(cityA, "d1", "d2")},
			wantErr: rule.ErrAlreadyExists},

		{name: "retract", entries: []rule.Entry{pub(cityA, "d1"), ret(cityA, "d1")}},
		{name: "retract a correction", entries: []rule.Entry{pub(cityA, "d1"), cor(cityA, "d1", "d2"), ret(cityA, "d2")}},
		{name: "retract twice", entries: []rule.Entry{pub(cityA, "d1"), ret(cityA, "d1"), ret(cityA, "d1")},
			wantErr: rule.ErrRuleViolation, wantMsg: "document d1 of agency city-a was retracted"},
		{name: "retract nonexistent", entries: []rule.Entry{ret(cityA, "d1")}, wantErr: rule.ErrRuleViolation},
		{name: "retract another agency's doc", entries: []rule.Entry{pub(cityB, "d1"), ret(cityA, "d1")}, wantErr: rule.ErrRuleViolation},
		{name: "retract superseded version", entries: []rule.Entry{pub(cityA, "d1"), cor(cityA, "d1", "d2"), ret(cityA, "d1")},
			wantErr: rule.ErrRuleViolation, wantMsg: "only its latest version, d2, can be retracted"},

		{name: "bad sha256 uppercase", entries: []rule.Entry{p(with(base, "sha256", strings.ToUpper(hashOf("x"))))}, wantErr: rule.ErrInvalidBody, wantMsg: `"sha256"`},
		{name: "bad sha256 short", entries: []rule.Entry{p(with(base, "sha256", hashOf("x")[:63]))}, wantErr: rule.ErrInvalidBody},
		{name: "bad sha256 not hex", entries: []rule.Entry{p(with(base, "sha256", strings.Repeat("g", 64)))}, wantErr: rule.ErrInvalidBody},
		{name: "bad date 2026-02-30", entries: []rule.Entry{p(with(base, "decision_date", "2026-02-30"))}, wantErr: rule.ErrInvalidBody, wantMsg: `"decision_date"`},
		{name: "bad date no padding", entries: []rule.Entry{p(with(base, "decision_date", "2026-2-3"))}, wantErr: rule.ErrInvalidBody},
		{name: "bad date with time", entries: []rule.Entry{p(with(base, "decision_date", "2026-02-03T00:00:00Z"))}, wantErr: rule.ErrInvalidBody},
		{name: "leap day", entries: []rule.Entry{p(with(base, "decision_date", "2024-02-29"))}},
		{name: "bad leap day", entries: []rule.Entry{p(with(base, "decision_date", "2026-02-29"))}, wantErr: rule.ErrInvalidBody},
		{name: "unknown field", entries: []rule.Entry{p(with(base, "note", "x"))}, wantErr: rule.ErrInvalidBody, wantMsg: `unknown field "note"`},
		{name: "field name in another case", entries: []rule.Entry{p(with(with(base, "title", deleteField), "Title", "x"))},
			wantErr: rule.ErrInvalidBody, wantMsg: `unknown field "Title"`},
		{name: "missing field", entries: []rule.Entry{p(with(base, "category", deleteField))}, wantErr: rule.ErrInvalidBody, wantMsg: `missing field "category"`},
		{name: "official who co-signed", entries: []rule.Entry{signedBy(p(with(base, "official", "staff-0042")), "staff-0042")}},
		{name: "official who did not sign", entries: []rule.Entry{p(with(base, "official", "staff-0042"))}, wantErr: rule.ErrNotAuthorized, wantMsg: `official "staff-0042"`},
		{name: "another official signed", entries: []rule.Entry{signedBy(p(with(base, "official", "staff-0042")), "staff-0043")}, wantErr: rule.ErrNotAuthorized},
		{name: "official named in clear", entries: []rule.Entry{signedBy(p(with(base, "official", "J. Doe")), "J. Doe")}, wantErr: rule.ErrInvalidBody, wantMsg: `"official"`},
		{name: "official empty", entries: []rule.Entry{p(with(base, "official", ""))}, wantErr: rule.ErrInvalidBody, wantMsg: `leave the field out`},
		{name: "retract by its official", entries: []rule.Entry{pub(cityA, "d1"), signedBy(entry(cityA, disclosures.TypeRetract, with(retractFields("d1"), "official", "staff-7")), "staff-7")}},
		{name: "correct naming an official who did not sign", entries: []rule.Entry{pub(cityA, "d1"), entry(cityA, disclosures.TypeCorrect, with(correctFields("d1", "d2"), "official", "staff-7"))},
			wantErr: rule.ErrNotAuthorized},
		{name: "correct missing reason", entries: []rule.Entry{pub(cityA, "d1"), entry(cityA, disclosures.TypeCorrect, with(correctFields("d1", "d2"), "reason", deleteField))},
			wantErr: rule.ErrInvalidBody, wantMsg: `missing field "reason"`},
		{name: "correct missing corrects", entries: []rule.Entry{entry(cityA, disclosures.TypeCorrect, with(correctFields("d1", "d2"), "corrects", deleteField))},
			wantErr: rule.ErrInvalidBody, wantMsg: `missing field "corrects"`},
		{name: "retract missing reason", entries: []rule.Entry{pub(cityA, "d1"), entry(cityA, disclosures.TypeRetract, with(retractFields("d1"), "reason", deleteField))},
			wantErr: rule.ErrInvalidBody, wantMsg: `missing field "reason"`},
		{name: "retract with a publish field", entries: []rule.Entry{pub(cityA, "d1"), entry(cityA, disclosures.TypeRetract, with(retractFields("d1"), "title", "x"))},
			wantErr: rule.ErrInvalidBody, wantMsg: `unknown field "title"`},
		{name: "wrong type number", entries: []rule.Entry{p(with(base, "doc_id", 2026))}, wantErr: rule.ErrInvalidBody, wantMsg: `"doc_id" must be a string, not a number`},
		{name: "wrong type object", entries: []rule.Entry{p(with(base, "title", map[string]any{"en": "x"}))}, wantErr: rule.ErrInvalidBody, wantMsg: `"title"`},
		{name: "null field", entries: []rule.Entry{p(with(base, "category", nil))}, wantErr: rule.ErrInvalidBody, wantMsg: `"category" must be a string, not null`},
		{name: "duplicate field", entries: []rule.Entry{rawEntry(cityA, disclosures.TypeRetract, `{"official":"a","reason":"b","retracts":"d1","retracts":"d2"}`)},
			wantErr: rule.ErrInvalidBody, wantMsg: `duplicate field "retracts"`},
		{name: "body is an array", entries: []rule.Entry{rawEntry(cityA, disclosures.TypePublish, `[]`)}, wantErr: rule.ErrInvalidBody},
		{name: "body is null", entries: []rule.Entry{rawEntry(cityA, disclosures.TypePublish, `null`)}, wantErr: rule.ErrInvalidBody},
		{name: "body is empty", entries: []rule.Entry{rawEntry(cityA, disclosures.TypePublish, ``)}, wantErr: rule.ErrInvalidBody},
		{name: "body truncated", entries: []rule.Entry{rawEntry(cityA, disclosures.TypeRetract, `{"retracts":"d1"`)}, wantErr: rule.ErrInvalidBody},
		{name: "data after body", entries: []rule.Entry{rawEntry(cityA, disclosures.TypeRetract, `{"official":"a","reason":"b","retracts":"d1"}{}`)}, wantErr: rule.ErrInvalidBody},
		{name: "body not UTF-8", entries: []rule.Entry{rawEntry(cityA, disclosures.TypeRetract, "{\"official\":\"a\xff\",\"reason\":\"b\",\"retracts\":\"d1\"}")}, wantErr: rule.ErrInvalidBody},
		{name: "empty title", entries: []rule.Entry{p(with(base, "title", ""))}, wantErr: rule.ErrInvalidBody, wantMsg: `"title" must not be empty`},
		{name: "blank title", entries: []rule.Entry{p(with(base, "title", " \u3000 "))}, wantErr: rule.ErrInvalidBody},
		{name: "title of 512 runes", entries: []rule.Entry{p(with(base, "title", strings.Repeat("公", 512)))}},
		{name: "title of 513 runes", entries: []rule.Entry{p(with(base, "title", strings.Repeat("公", 513)))}, wantErr: rule.ErrInvalidBody},
		{name: "title with newline", entries: []rule.Entry{p(with(base, "title", "a\nb"))}, wantErr: rule.ErrInvalidBody, wantMsg: "U+000A"},
		{name: "category of 65", entries: []rule.Entry{p(with(base, "category", strings.Repeat("c", 65)))}, wantErr: rule.ErrInvalidBody},
		{name: "official of 65", entries: []rule.Entry{signedBy(p(with(base, "official", strings.Repeat("o", 65))), strings.Repeat("o", 65))}, wantErr: rule.ErrInvalidBody},
		{name: "empty doc_id", entries: []rule.Entry{p(with(base, "doc_id", ""))}, wantErr: rule.ErrInvalidBody},
		{name: "doc_id of 128", entries: []rule.Entry{p(with(base, "doc_id", strings.Repeat("d", 128)))}},
		{name: "doc_id of 129", entries: []rule.Entry{p(with(base, "doc_id", strings.Repeat("d", 129)))}, wantErr: rule.ErrInvalidBody},
		{name: "doc_id with space", entries: []rule.Entry{p(with(base, "doc_id", "2026 001"))}, wantErr: rule.ErrInvalidBody},
		{name: "corrects not a doc_id", entries: []rule.Entry{entry(cityA, disclosures.TypeCorrect, correctFields("d 1", "d2"))}, wantErr: rule.ErrInvalidBody},
		{name: "unknown type", entries: []rule.Entry{entry(cityA, "disclosure.delete", retractFields("d1"))}, wantErr: rule.ErrUnknownType},
		{name: "agency not a registry ID", entries: []rule.Entry{pub("city-a/x", "d1")}, wantErr: rule.ErrRuleViolation},
		{name: "empty agency", entries: []rule.Entry{pub("", "d1")}, wantErr: rule.ErrRuleViolation},
	}
	r := disclosures.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The last entry runs through a per-statement overlay, as
			// admission does, and once more on the plain state: a refusal
			// must leave both alone.
			ruletest.CheckEntries(t, r, ruletest.State{}, tt.entries, tt.wantErr, tt.wantMsg)
		})
	}
}

func TestHistory(t *testing.T) {
	ctx := context.Background()
	r := disclosures.New()
	st := ruletest.State{}
	entries := []rule.Entry{pub(cityA, "2026/001"), cor(cityA, "2026/001", "2026/001-r1"), cor(cityA, "2026/001-r1", "2026/001-r2"), ret(cityA, "2026/001-r2")}
	ruletest.Apply(t, r, st, entries...)
	leaf := func(i int) string { return hex.EncodeToString(entries[i].LeafHash[:]) }
	want := map[string]disclosures.Record{
		"2026/001":    {LeafHash: leaf(0), SHA256: hashOf("2026/001"), Status: disclosures.StatusSuperseded, SupersededBy: "2026/001-r1"},
		"2026/001-r1": {LeafHash: leaf(1), SHA256: hashOf("2026/001-r1"), Status: disclosures.StatusSuperseded, Corrects: "2026/001", SupersededBy: "2026/001-r2"},
		"2026/001-r2": {LeafHash: leaf(2), SHA256: hashOf("2026/001-r2"), Status: disclosures.StatusRetracted, Corrects: "2026/001-r1", RetractedBy: leaf(3)},
	}
	if len(st) != len(want) {
		t.Errorf("state has %d keys, want %d: %v", len(st), len(want), st)
	}
	for id, w := range want {
		got, ok, err := disclosures.Document(ctx, st, cityA, id)
		if err != nil || !ok || got != w {
			t.Errorf("Document(%s) = %+v, %v, %v; want %+v", id, got, ok, err, w)
		}
		if _, ok := st["doc/city-a/"+id]; !ok {
			t.Errorf("no key doc/city-a/%s", id)
		}
		latest, rec, ok, err := disclosures.Latest(ctx, st, cityA, id)
		if err != nil || !ok || latest != "2026/001-r2" || rec != want["2026/001-r2"] {
			t.Errorf("Latest(%s) = %s, %+v, %v, %v", id, latest, rec, ok, err)
		}
	}
	if _, ok, err := disclosures.Document(ctx, st, cityB, "2026/001"); ok || err != nil {
		t.Errorf("Document of another agency = %v, %v; want not found", ok, err)
	}
	if _, _, ok, err := disclosures.Latest(ctx, st, cityA, "nope"); ok || err != nil {
		t.Errorf("Latest(nope) = %v, %v; want not found", ok, err)
	}
}

// TestReplay checks what monitors rely on: replaying the log of the entries
// admitted gives the state admission built, byte for byte, every time.
func TestReplay(t *testing.T) {
	ctx := context.Background()
	r := disclosures.New()
	st := ruletest.State{}
	var log []rule.Entry
	for _, e := range []rule.Entry{pub(cityA, "d1"), pub(cityB, "d1"), cor(cityA, "d1", "d2"), ret(cityB, "d1"), pub(cityA, "d1"), cor(cityA, "d1", "d3")} {
		if e, err := ruletest.Admit(ctx, r, st, e, nil); err == nil {
			log = append(log, e)
		}
	}
	if len(log) != 4 {
		t.Fatalf("admitted %d entries, want 4", len(log))
	}
	for range 2 {
		ruletest.ReplayEqualsState(t, r, log, st)
	}
}

func TestRequiredRole(t *testing.T) {
	r := disclosures.New()
	if got := r.Log(); got != "disclosures" {
		t.Errorf("Log() = %q", got)
	}
	for _, typ := range []string{"disclosure.publish", "disclosure.correct", "disclosure.retract"} {
		if role, err := r.RequiredRole(typ); err != nil || role != disclosures.RoleDiscloser {
			t.Errorf("RequiredRole(%s) = %q, %v", typ, role, err)
		}
	}
	for _, typ := range []string{"", "disclosure", "disclosure.Publish", "funds.transfer"} {
		if _, err := r.RequiredRole(typ); !errors.Is(err, rule.ErrUnknownType) {
			t.Errorf("RequiredRole(%q) = %v, want ErrUnknownType", typ, err)
		}
	}
}

func TestExamples(t *testing.T) {
	ruletest.CheckExamples(t, disclosures.New())
}

func TestDocumentKey(t *testing.T) {
	tests := []struct {
		agency, docID string
	}{
		{"city-a", "2026-001"},
		{"city-a", "a/b/c"},
		{"x", "/"},
		{"x", "//"},
		{"0", "urn:doc:1"},
	}
	for _, tt := range tests {
		key := disclosures.DocumentKey(tt.agency, tt.docID)
		a, d, ok := disclosures.ParseDocumentKey(key)
		if !ok || a != tt.agency || d != tt.docID {
			t.Errorf("ParseDocumentKey(%q) = %q, %q, %v", key, a, d, ok)
		}
	}
	for _, key := range []string{"", "doc/", "doc/city-a", "doc/city-a/", "doc/City/x", "vote/city-a/x", "doc//x", "doc/city-a/x y"} {
		if a, d, ok := disclosures.ParseDocumentKey(key); ok {
			t.Errorf("ParseDocumentKey(%q) = %q, %q, true; want false", key, a, d)
		}
	}
}

// TestDocumentMalformedIDs checks that a read helper fed user input cannot
// be steered to another agency's key.
func TestDocumentMalformedIDs(t *testing.T) {
	ctx := context.Background()
	st := ruletest.State{}
	ruletest.Apply(t, disclosures.New(), st, pub(cityA, "x/y"))
	if _, ok, err := disclosures.Document(ctx, st, "city-a/x", "y"); ok || err != nil {
		t.Errorf("Document(city-a/x, y) = %v, %v; want not found", ok, err)
	}
}

func TestStorageFailure(t *testing.T) {
	ctx := context.Background()
	r := disclosures.New()
	tests := []struct {
		name      string
		failGet   bool
		failPutAt int
		e         rule.Entry
	}{
		{name: "get", failGet: true, e: pub(cityA, "d9")},
		{name: "put publish", failPutAt: 1, e: pub(cityA, "d9")},
		{name: "first put of correct", failPutAt: 1, e: cor(cityA, "d1", "d9")},
		{name: "second put of correct", failPutAt: 2, e: cor(cityA, "d1", "d9")},
		{name: "put retract", failPutAt: 1, e: ret(cityA, "d1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ruletest.State{}
			ruletest.Apply(t, r, st, pub(cityA, "d1"))
			probe := &ruletest.Probe{State: st, FailPut: tt.failPutAt}
			if tt.failGet {
				probe.FailGet = 1
			}
			err := r.Apply(ctx, probe, tt.e)
			if !errors.Is(err, ruletest.ErrInjected) || wrapsSentinel(err) {
				t.Errorf("Apply = %v, want the storage error and no rule sentinel", err)
			}
		})
	}
}

func TestCorruptState(t *testing.T) {
	ctx := context.Background()
	r := disclosures.New()
	tests := []struct {
		name  string
		state ruletest.State
		e     rule.Entry
	}{
		{name: "not JSON", state: ruletest.State{"doc/city-a/d1": []byte("{")}, e: ret(cityA, "d1")},
		{name: "unknown status", state: ruletest.State{"doc/city-a/d1": []byte(`{"status":"lost"}`)}, e: ret(cityA, "d1")},
		{name: "cycle", state: ruletest.State{
			"doc/city-a/d1": []byte(`{"status":"superseded","superseded_by":"d2"}`),
			"doc/city-a/d2": []byte(`{"status":"superseded","superseded_by":"d1"}`),
		}, e: ret(cityA, "d1")},
		{name: "dangling", state: ruletest.State{"doc/city-a/d1": []byte(`{"status":"superseded","superseded_by":"d2"}`)}, e: cor(cityA, "d1", "d3")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Apply(ctx, tt.state, tt.e)
			if err == nil || wrapsSentinel(err) {
				t.Errorf("Apply = %v, want a state error wrapping no rule sentinel", err)
			}
		})
	}
}

// TestBodyTypesMatchParser checks that the exported body structs marshal to
// exactly the fields the parsers accept, so clients can build bodies with them.
func TestBodyTypesMatchParser(t *testing.T) {
	p := disclosures.PublishBody{DocID: "a/1", Title: "T", SHA256: hashOf("a"), Category: "c", DecisionDate: "2026-03-01", Official: "o-1"}
	c := disclosures.CorrectBody{Corrects: "a/0", PublishBody: p, Reason: "R"}
	r := disclosures.RetractBody{Retracts: "a/1", Reason: "R", Official: "o-1"}
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if got, err := disclosures.ParsePublishBody(mustJSON(p)); err != nil || got != p {
		t.Errorf("ParsePublishBody = %+v, %v", got, err)
	}
	if got, err := disclosures.ParseCorrectBody(mustJSON(c)); err != nil || got != c {
		t.Errorf("ParseCorrectBody = %+v, %v", got, err)
	}
	if got, err := disclosures.ParseRetractBody(mustJSON(r)); err != nil || got != r {
		t.Errorf("ParseRetractBody = %+v, %v", got, err)
	}
}

// signedBy returns e as co-signed by the officials staff.
func signedBy(e rule.Entry, staff ...string) rule.Entry {
	e.Officials = staff
	return e
}
