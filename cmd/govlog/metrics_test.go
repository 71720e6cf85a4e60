package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestNodeMetrics: the admin listener's /metrics shows, per log, the
// checkpoint's size, the entries admitted and those the search index
// holds, which catches up with the checkpoint; and the gRPC calls, counted
// by method and code and timed.
func TestNodeMetrics(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := &bench{out: io.Discard, seq: 0}
	admin := newAdminServer()
	cfg := nodeConfig{Listen: "127.0.0.1:0", SQLitePath: filepath.Join(dir, "govlog.db"), admin: admin}
	node, err := b.startNode(ctx, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer node.stop()
	statements, err := node.statements(0, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range statements {
		if _, err := node.client(0).Submit(ctx, "disclosures", st, i == len(statements)-1); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(admin.handler())
	defer srv.Close()
	metric := func(body []byte, name string) int {
		t.Helper()
		m := regexp.MustCompile(`(?m)^` + name + `\{log="disclosures"\} (\d+)$`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("/metrics has no %s for disclosures:\n%s", name, body)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		size, admitted, indexed := metric(body, "govlog_checkpoint_size"), metric(body, "govlog_admitted_entries_total"), metric(body, "govlog_search_indexed_entries")
		// The five statements and the log's registry view entry.
		if admitted != 6 || size < 6 {
			t.Fatalf("checkpoint size %d, admitted %d; want 6 admitted and in the checkpoint", size, admitted)
		}
		if indexed == size {
			for _, re := range []string{
				`(?m)^grpc_server_handled_total\{grpc_code="OK",grpc_method="Submit",grpc_service="[^"]+",grpc_type="unary"\} 5$`,
				`(?m)^grpc_server_handling_seconds_count\{grpc_method="Submit",grpc_service="[^"]+",grpc_type="unary"\} 5$`,
				`(?m)^grpc_server_handled_total\{grpc_code="InvalidArgument",grpc_method="Submit",grpc_service="[^"]+",grpc_type="unary"\} 0$`,
			} {
				if !regexp.MustCompile(re).Match(body) {
					t.Errorf("/metrics has no line matching %s", re)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the search index holds %d entries of %d after 30 s", indexed, size)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
