package portal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog/portal"
)

// querySource is a Source that records the last search it was asked and
// answers from a fixed entry; its checks of a query are the index's (a
// limit over 100, a hash not of 64 hex digits).
type querySource struct {
	last  portal.Query
	entry portal.Entry
}

func (s *querySource) Logs(context.Context) ([]portal.LogInfo, error) {
	return []portal.LogInfo{{Name: "disclosures", Origin: "gov.example/disclosures", Size: 3, TypeNames: []string{"disclosure.publish"}}}, nil
}

func (s *querySource) Search(_ context.Context, q portal.Query) (portal.Page, error) {
	s.last = q
	switch {
	case q.Log != "disclosures":
		return portal.Page{}, fmt.Errorf("%w %q", portal.ErrUnknownLog, q.Log)
	case q.Limit > 100:
		return portal.Page{}, fmt.Errorf("%w: limit %d, it must be 1 to 100", portal.ErrInvalidQuery, q.Limit)
	case q.SHA256 != "" && len(q.SHA256) != 64:
		return portal.Page{}, fmt.Errorf("%w: sha256 %q is not 64 hex digits", portal.ErrInvalidQuery, q.SHA256)
	case q.Agency == "broken":
		return portal.Page{}, fmt.Errorf("database on fire at 10.0.0.7")
	case q.Agency == "none":
		return portal.Page{}, nil
	}
	return portal.Page{Results: []portal.Result{s.entry.Result}, Next: "2"}, nil
}

func (s *querySource) Entry(_ context.Context, log string, index uint64) (portal.Entry, error) {
	if log != "disclosures" {
		return portal.Entry{}, fmt.Errorf("%w %q", portal.ErrUnknownLog, log)
	}
	if index != s.entry.Index {
		return portal.Entry{}, fmt.Errorf("%w: no entry %d", portal.ErrNotFound, index)
	}
	return s.entry, nil
}

func (s *querySource) Query(context.Context, string, string, map[string]string) (portal.Answer, error) {
	return portal.Answer{}, portal.ErrRetryLater
}

func get(t *testing.T, h http.Handler, path string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: %d %q is not JSON: %v", path, rec.Code, rec.Body, err)
	}
	return rec.Code, body
}

func TestAPISearchParameters(t *testing.T) {
	src := &querySource{entry: portal.Entry{Result: portal.Result{Log: "disclosures", Index: 2, Type: "disclosure.publish",
		Leaf: []byte("leaf"), Bundle: []byte("bundle"), Time: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)}}}
	api := portal.NewAPI(src, nil)
	code, body := get(t, api, "/api/v1/search?log=disclosures&agency=finance&type=disclosure.publish&id=D-1&sha256="+strings.Repeat("a", 64)+
		"&from=2026-12-01&to=2026-12-06&q=budget+%E9%A2%84%E7%AE%97&limit=5&cursor=9")
	if code != 200 {
		t.Fatalf("search: %d %v", code, body)
	}
	want := portal.Query{Log: "disclosures", Agency: "finance", Type: "disclosure.publish", ID: "D-1", SHA256: strings.Repeat("a", 64),
		From: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 6, 23, 59, 59, 999999999, time.UTC),
		Words: []string{"budget", "预算"}, Limit: 5, Cursor: "9"}
	if fmt.Sprint(src.last) != fmt.Sprint(want) {
		t.Errorf("source asked\n%+v\nwant\n%+v", src.last, want)
	}
	results := body["results"].([]any)
	r := results[0].(map[string]any)
	if r["leaf"] != "bGVhZg==" || r["bundle"] != "YnVuZGxl" || r["index"] != 2.0 || body["next"] != "2" {
		t.Errorf("answer %v", body)
	}
	if _, body := get(t, api, "/api/v1/search?log=disclosures&agency=none"); fmt.Sprint(body["results"]) != "[]" {
		t.Errorf("no results: %v, want an empty list", body)
	}
	code, _ = get(t, api, "/api/v1/search?log=disclosures&from=2026-12-01T10:00:00%2B08:00")
	if code != 200 || !src.last.From.Equal(time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("RFC 3339 from: %d, %v", code, src.last.From)
	}
}

func TestAPIErrors(t *testing.T) {
	api := portal.NewAPI(&querySource{entry: portal.Entry{Result: portal.Result{Index: 2}}}, nil)
	tests := []struct {
		path     string
		wantCode int
		wantText string
	}{
		{"/api/v1/search", 400, "log parameter is required"},
		{"/api/v1/search?log=disclosures&from=yesterday", 400, `from "yesterday" is neither RFC 3339`},
		{"/api/v1/search?log=disclosures&to=2026-02-30", 400, "to "},
		{"/api/v1/search?log=disclosures&sha256=abc", 400, "64 hex digits"},
		{"/api/v1/search?log=disclosures&limit=1000", 400, "limit 1000"},
		{"/api/v1/search?log=disclosures&limit=-3", 400, "not a positive number"},
		{"/api/v1/search?log=disclosures&agnecy=x", 400, `unknown parameter "agnecy"`},
		{"/api/v1/search?log=disclosures&type=a&type=b", 400, "given 2 times"},
		{"/api/v1/search?log=nope", 404, "unknown log"},
		{"/api/v1/search?log=disclosures&agency=broken", 500, "internal error"},
		{"/api/v1/entries/disclosures/7", 404, "no entry 7"},
		{"/api/v1/entries/nope/2", 404, "unknown log"},
		{"/api/v1/entries/disclosures/-1", 400, "not a number"},
		{"/api/v1/entries/disclosures/2?x=1", 400, "takes none"},
		{"/api/v1/nothing", 404, "no such API call"},
	}
	for _, tt := range tests {
		code, body := get(t, api, tt.path)
		msg, _ := body["error"].(string)
		if code != tt.wantCode || !strings.Contains(msg, tt.wantText) {
			t.Errorf("%s: %d %q, want %d with %q", tt.path, code, msg, tt.wantCode, tt.wantText)
		}
		if strings.Contains(msg, "10.0.0.7") {
			t.Errorf("%s: an internal error's text reached the client: %q", tt.path, msg)
		}
	}
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/search?log=disclosures", nil))
	if rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusNotFound {
		t.Errorf("POST: %d", rec.Code)
	}
}

func TestAPIEntryAndLogs(t *testing.T) {
	e := portal.Entry{Result: portal.Result{Log: "disclosures", Index: 2, LeafHash: portal.Hash{0xab}},
		Relations: []portal.Relation{{Kind: portal.CorrectedBy, ID: "D-1", Index: 5, Found: true}}}
	api := portal.NewAPI(&querySource{entry: e}, nil)
	code, body := get(t, api, "/api/v1/entries/disclosures/2")
	if code != 200 || !strings.HasPrefix(body["leaf_hash"].(string), "ab00") || len(body["leaf_hash"].(string)) != 64 {
		t.Fatalf("entry: %d %v", code, body)
	}
	rel := body["relations"].([]any)[0].(map[string]any)
	if rel["kind"] != "corrected_by" || rel["index"] != 5.0 || rel["found"] != true {
		t.Errorf("relation %v", rel)
	}
	code, body = get(t, api, "/api/v1/logs")
	logs := body["logs"].([]any)
	if code != 200 || len(logs) != 1 || logs[0].(map[string]any)["origin"] != "gov.example/disclosures" {
		t.Errorf("logs: %d %v", code, body)
	}
}
