package identity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/govlog/govlog/personalities/identity"
	"github.com/govlog/govlog/personalities/rule"
)

// query asks l's query and returns the answer as a client gets it: JSON,
// and the proved entries it cites.
func (l *tlog) query(name string, args map[string]string) ([]byte, []rule.ProvedEntry, error) {
	l.t.Helper()
	res, cited, err := l.r.Query(context.Background(), l.view(), name, args)
	if err != nil {
		return nil, nil, err
	}
	b, err := json.Marshal(res)
	if err != nil {
		l.t.Fatal(err)
	}
	var entries []rule.ProvedEntry
	for _, h := range cited {
		e, ok := l.entries[h]
		if !ok {
			l.t.Fatalf("the answer cites %x, which is no entry", h)
		}
		entries = append(entries, proved(e))
	}
	return b, entries, nil
}

// checked asks a query and checks the answer as the client does.
func (l *tlog) checked(name string, args map[string]string) ([]byte, []rule.ProvedEntry) {
	l.t.Helper()
	b, entries, err := l.query(name, args)
	if err != nil {
		l.t.Fatalf("%s %v: %v", name, args, err)
	}
	line, err := l.r.CheckAnswer(name, args, b, entries)
	if err != nil {
		l.t.Fatalf("CheckAnswer(%s %v): %v\n%s", name, args, err, b)
	}
	// The CLI prints it after "checked: ": the line must not say it again.
	if line == "" || strings.HasPrefix(line, "checked:") {
		l.t.Errorf("CheckAnswer says %q", line)
	}
	var out bytes.Buffer
	if err := l.r.FormatAnswer(&out, name, b); err != nil || out.Len() == 0 {
		l.t.Errorf("FormatAnswer: %v, %q", err, out.String())
	}
	return b, entries
}

func credentialAnswer(t testing.TB, b []byte) identity.CredentialAnswer {
	var a identity.CredentialAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestQueryCredential(t *testing.T) {
	w := scenario(t)
	values := map[string]string{"degree": "MSc Civil Engineering", "id_number": "110105199003074512"}
	a, salts := attrs(t, values)
	w.by(school, identity.TypeIssueEducation, t0, map[string]any{"credential_id": "dip-w", "subject": w.bob.id(),
		"type": identity.TypeDiploma, "issued": "2024-07-01", "expires": "2034-07-01", "attributes": a})
	for _, tc := range []struct {
		id, status, statement string
	}{
		{"dip-1", identity.StatusValid, identity.TypeIssueEducation},
		{"m-a", identity.StatusSuperseded, identity.TypeMarriage},
		{"q-1", identity.StatusRevoked, identity.TypeIssueLabour},
		{"pl-b", identity.StatusValid, identity.TypeBirth},
		{"emp-a", identity.StatusValid, identity.TypeEmployment},
		{"d-a", identity.StatusValid, identity.TypeIssueCivil},
		{"dip-w", identity.StatusValid, identity.TypeIssueEducation},
	} {
		b, entries := w.checked(identity.QueryCredential, map[string]string{"id": tc.id})
		got := credentialAnswer(t, b)
		if got.Status != tc.status || got.Issue.Statement != tc.statement || got.ID != tc.id {
			t.Errorf("%s: %+v", tc.id, got)
		}
		if want := map[string]int{identity.StatusValid: 1, identity.StatusSuperseded: 2, identity.StatusRevoked: 2}[tc.status]; len(entries) != want {
			t.Errorf("%s cites %d entries, want %d", tc.id, len(entries), want)
		}
	}
	// The wallet's check: a disclosed value and salt against the answer.
	b, _ := w.checked(identity.QueryCredential, map[string]string{"id": "dip-w"})
	got := credentialAnswer(t, b)
	for name, v := range values {
		if !identity.CheckCommitment(got.Attributes[name], v, salts[name]) {
			t.Errorf("disclosed %s does not check against the answer", name)
		}
	}
	if identity.CheckCommitment(got.Attributes["degree"], "PhD", salts["degree"]) {
		t.Error("a false degree checks")
	}
}

func TestQueryAccesses(t *testing.T) {
	w := scenario(t)
	alice := w.alice.id()
	b, entries := w.checked(identity.QueryAccesses, map[string]string{"subject": alice})
	var a identity.AccessesAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if a.Count != 3 || len(a.Accesses) != 3 || a.Next != 0 || len(entries) != 9 {
		t.Fatalf("answer %s, %d entries", b, len(entries))
	}
	if x := a.Accesses[1]; x.ID != "a-2" || x.Agency != checkerB || x.Grant.Agency != identity.Public || x.Credential.ID != "hc-1" {
		t.Errorf("access 2: %+v", x)
	}
	b, _ = w.checked(identity.QueryAccesses, map[string]string{"subject": alice, "limit": "2"})
	a = identity.AccessesAnswer{}
	if err := json.Unmarshal(b, &a); err != nil || len(a.Accesses) != 2 || a.Next != 3 {
		t.Errorf("first page of 2: %s", b)
	}
	b, _ = w.checked(identity.QueryAccesses, map[string]string{"subject": alice, "from": "3", "limit": "2"})
	a = identity.AccessesAnswer{}
	if err := json.Unmarshal(b, &a); err != nil || len(a.Accesses) != 1 || a.Accesses[0].ID != "a-3" || a.Next != 0 {
		t.Errorf("second page: %s", b)
	}
	b, _ = w.checked(identity.QueryAccesses, map[string]string{"subject": alice, "from": "9"})
	a = identity.AccessesAnswer{}
	if err := json.Unmarshal(b, &a); err != nil || len(a.Accesses) != 0 || a.Count != 3 {
		t.Errorf("past the end: %s", b)
	}
	b, _ = w.checked(identity.QueryAccesses, map[string]string{"subject": w.carol.id()})
	a = identity.AccessesAnswer{}
	if err := json.Unmarshal(b, &a); err != nil || a.Count != 0 || len(a.Accesses) != 0 {
		t.Errorf("carol: %s", b)
	}
}

func TestQueryErrors(t *testing.T) {
	w := scenario(t)
	for _, tc := range []struct {
		name string
		args map[string]string
		want error
	}{
		{"nope", map[string]string{"id": "dip-1"}, rule.ErrUnknownQuery},
		{identity.QueryCredential, map[string]string{}, rule.ErrInvalidQuery},
		{identity.QueryCredential, map[string]string{"id": "a/b"}, rule.ErrInvalidQuery},
		{identity.QueryCredential, map[string]string{"id": "dip-1", "x": "1"}, rule.ErrInvalidQuery},
		{identity.QueryCredential, map[string]string{"id": "dip-9"}, rule.ErrNotFound},
		{identity.QueryAccesses, map[string]string{"subject": "alice"}, rule.ErrInvalidQuery},
		{identity.QueryAccesses, map[string]string{"subject": newKey(t).id()}, rule.ErrNotFound},
		{identity.QueryAccesses, map[string]string{"subject": w.alice.id(), "limit": "501"}, rule.ErrQueryTooLarge},
		{identity.QueryAccesses, map[string]string{"subject": w.alice.id(), "limit": "0"}, rule.ErrInvalidQuery},
		{identity.QueryAccesses, map[string]string{"subject": w.alice.id(), "from": "0"}, rule.ErrInvalidQuery},
		{identity.QueryAccesses, map[string]string{"subject": w.alice.id(), "from": ""}, rule.ErrInvalidQuery},
	} {
		if _, _, err := w.query(tc.name, tc.args); !errors.Is(err, tc.want) {
			t.Errorf("%s %v: %v, want %v", tc.name, tc.args, err, tc.want)
		}
	}
	if _, err := w.r.CheckAnswer("nope", nil, []byte(`{}`), nil); !errors.Is(err, rule.ErrUnknownQuery) {
		t.Errorf("CheckAnswer of an unknown query: %v", err)
	}
}

// tamper changes one member of an answer, at a path of object members
// and array indexes.
func tamper(t testing.TB, b []byte, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustMap(t testing.TB, b []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func obj(v any, path ...any) map[string]any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			v = v.(map[string]any)[p]
		case int:
			v = v.([]any)[p]
		}
	}
	return v.(map[string]any)
}

func TestTamperedAnswers(t *testing.T) {
	w := scenario(t)
	cred := func(id string) (map[string]string, []byte, []rule.ProvedEntry) {
		args := map[string]string{"id": id}
		b, e := w.checked(identity.QueryCredential, args)
		return args, b, e
	}
	accArgs := map[string]string{"subject": w.alice.id()}
	accB, accE := w.checked(identity.QueryAccesses, accArgs)
	dipArgs, dipB, dipE := cred("dip-1")
	maArgs, maB, maE := cred("m-a")
	qArgs, qB, qE := cred("q-1")
	for _, tc := range []struct {
		name    string
		query   string
		args    map[string]string
		result  []byte
		entries []rule.ProvedEntry
	}{
		{"another credential", identity.QueryCredential, map[string]string{"id": "hc-1"}, dipB, dipE},
		// (Leaving a revocation or supersession out altogether is not
		// caught: that nothing revoked a credential is the log's word.)
		{"status belied", identity.QueryCredential, qArgs, tamper(t, qB, func(m map[string]any) { m["status"] = "valid" }), qE},
		{"status claimed", identity.QueryCredential, dipArgs, tamper(t, dipB, func(m map[string]any) { m["status"] = "revoked" }), dipE},
		{"supersession belied", identity.QueryCredential, maArgs, tamper(t, maB, func(m map[string]any) { m["status"] = "valid" }), maE},
		{"supersession forged", identity.QueryCredential, dipArgs, tamper(t, dipB, func(m map[string]any) {
			m["status"] = "superseded"
			m["superseded_by"] = obj(mustMap(t, maB), "superseded_by")
		}), append(dipE, maE...)},
		{"attribute swapped", identity.QueryCredential, dipArgs, tamper(t, dipB, func(m map[string]any) {
			obj(m, "attributes")["grade"] = strings.Repeat("ab", 32)
		}), dipE},
		{"attribute added", identity.QueryCredential, dipArgs, tamper(t, dipB, func(m map[string]any) {
			obj(m, "attributes")["name"] = strings.Repeat("ab", 32)
		}), dipE},
		{"another issuer", identity.QueryCredential, dipArgs, tamper(t, dipB, func(m map[string]any) { m["issuer"] = "fake-school" }), dipE},
		{"another subject", identity.QueryCredential, dipArgs, tamper(t, dipB, func(m map[string]any) { m["subject"] = w.bob.id() }), dipE},
		{"another type", identity.QueryCredential, dipArgs, tamper(t, dipB, func(m map[string]any) { m["type"] = "qualification" }), dipE},
		{"another date", identity.QueryCredential, dipArgs, tamper(t, dipB, func(m map[string]any) { m["issued"] = "2019-07-01" }), dipE},
		{"unproved entry", identity.QueryCredential, dipArgs, dipB, nil},
		{"unknown member", identity.QueryCredential, dipArgs, tamper(t, dipB, func(m map[string]any) { m["verified"] = true }), dipE},
		{"revocation reason", identity.QueryCredential, qArgs, tamper(t, qB, func(m map[string]any) { obj(m, "revoked")["reason"] = "routine" }), qE},
		{"access purpose", identity.QueryAccesses, accArgs, tamper(t, accB, func(m map[string]any) { obj(m, "accesses", 0)["purpose"] = "audit" }), accE},
		{"access agency", identity.QueryAccesses, accArgs, tamper(t, accB, func(m map[string]any) { obj(m, "accesses", 0)["agency"] = checkerB }), accE},
		{"grant agency", identity.QueryAccesses, accArgs, tamper(t, accB, func(m map[string]any) { obj(m, "accesses", 0, "grant")["agency"] = "*" }), accE},
		{"grant until", identity.QueryAccesses, accArgs, tamper(t, accB, func(m map[string]any) { obj(m, "accesses", 0, "grant")["until"] = "2099-12-31" }), accE},
		{"credential swapped", identity.QueryAccesses, accArgs, tamper(t, accB, func(m map[string]any) {
			obj(m, "accesses", 0)["credential"] = obj(m, "accesses", 1, "credential")
		}), accE},
		{"access dropped", identity.QueryAccesses, accArgs, tamper(t, accB, func(m map[string]any) {
			m["accesses"] = m["accesses"].([]any)[:2]
		}), accE},
		{"accesses reordered", identity.QueryAccesses, accArgs, tamper(t, accB, func(m map[string]any) {
			a := m["accesses"].([]any)
			a[0], a[2] = a[2], a[0]
			obj(a[0])["n"], obj(a[2])["n"] = 1, 3
		}), accE},
		{"another subject", identity.QueryAccesses, map[string]string{"subject": w.bob.id()}, accB, accE},
		{"page cut short", identity.QueryAccesses, accArgs, tamper(t, accB, func(m map[string]any) {
			m["accesses"] = m["accesses"].([]any)[:2]
			m["next"] = 3
		}), accE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := w.r.CheckAnswer(tc.query, tc.args, tc.result, tc.entries); !errors.Is(err, identity.ErrAnswerMismatch) {
				t.Errorf("CheckAnswer = %v, want ErrAnswerMismatch", err)
			}
		})
	}
}
