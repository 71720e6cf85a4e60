package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestAlertPages: GET /alerts answers a page at a time, newest first, with
// the total and the next page's link; GET /alerts/{id} finds any alert.
func TestAlertPages(t *testing.T) {
	ctx := context.Background()
	st, err := OpenStore(ctx, Memory)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const n = 250
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	var ids []string
	for i := range n {
		a := Alert{Kind: KindEntry, Log: "gov.example/disclosures", Message: fmt.Sprintf("alert %d", i),
			Evidence: Evidence{Error: fmt.Sprint(i)}.marshal(), Time: t0.Add(time.Duration(i) * time.Second)}
		if _, err := st.addAlert(ctx, a); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID())
	}
	m := &Monitor{opts: Options{Store: st}, logger: slog.New(slog.DiscardHandler)}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()

	var seen []string
	next := "/alerts?limit=100"
	for next != "" {
		resp, err := http.Get(srv.URL + next)
		if err != nil {
			t.Fatal(err)
		}
		var page []AlertJSON
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(page) > 100 || resp.Header.Get("X-Total-Count") != fmt.Sprint(n) {
			t.Fatalf("GET %s: %d alerts, total %q", next, len(page), resp.Header.Get("X-Total-Count"))
		}
		for _, a := range page {
			seen = append(seen, a.ID)
		}
		next = ""
		if link := resp.Header.Get("Link"); link != "" {
			var offset, limit int
			if _, err := fmt.Sscanf(link, `<alerts?offset=%d&limit=%d>; rel="next"`, &offset, &limit); err != nil {
				t.Fatalf("Link %q: %v", link, err)
			}
			next = fmt.Sprintf("/alerts?offset=%d&limit=%d", offset, limit)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d alerts over the pages, want %d", len(seen), n)
	}
	for i, id := range seen {
		if id != ids[n-1-i] {
			t.Fatalf("alert %d of the pages is %s, want the %dth newest", i, id, i+1)
		}
	}
	resp, err := http.Get(srv.URL + "/alerts/" + ids[3])
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /alerts/{id}: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	for _, bad := range []string{"/alerts?limit=0", "/alerts?limit=5000", "/alerts?offset=-1", "/alerts?limit=x"} {
		resp, err := http.Get(srv.URL + bad)
		if err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %v, want 400", bad, resp.Status)
		}
		resp.Body.Close()
	}
}

// TestNotificationPages: GET /notifications answers a page at a time,
// and a notification's bundle is found by ID past the first page.
func TestNotificationPages(t *testing.T) {
	ctx := context.Background()
	st, err := OpenStore(ctx, Memory)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const n = 1100
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	var oldest Notification
	for i := range n {
		nt := Notification{Watch: "w", Log: "gov.example/disclosures", Index: uint64(i), Type: "disclosure.publish",
			Entry: []byte("entry"), Bundle: fmt.Appendf(nil, "bundle %d", i), Time: t0.Add(time.Duration(i) * time.Second)}
		if _, err := st.db.ExecContext(ctx, insertNotificationSQL, nt.Watch, nt.Log, int64(nt.Index), nt.Type, nt.Agency, nt.Entry, nt.Bundle, nt.Time.UnixNano()); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			oldest = nt
		}
	}
	m := &Monitor{opts: Options{Store: st}, logger: slog.New(slog.DiscardHandler)}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/notifications")
	if err != nil {
		t.Fatal(err)
	}
	var page []NotificationJSON
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(page) != defaultAlertPage || page[0].Index != n-1 || resp.Header.Get("X-Total-Count") != fmt.Sprint(n) ||
		resp.Header.Get("Link") != fmt.Sprintf(`<notifications?offset=%d&limit=%d>; rel="next"`, defaultAlertPage, defaultAlertPage) {
		t.Fatalf("first page: %d notifications from %d, total %q, link %q", len(page), page[0].Index, resp.Header.Get("X-Total-Count"), resp.Header.Get("Link"))
	}
	resp, err = http.Get(srv.URL + "/notifications/" + oldest.ID() + "/bundle")
	if err != nil {
		t.Fatal(err)
	}
	var body [64]byte
	k, _ := resp.Body.Read(body[:])
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body[:k]) != "bundle 0" {
		t.Fatalf("the oldest notification's bundle (past the first %d): %s %q", maxAlertPage, resp.Status, body[:k])
	}
}
